# Helpers for every test suite: checks, runs, encoding, converting, and
# the judges.
#
# Sourced by the tests/*/*.sh suites (bash), right after each sets
# top_srcdir: this is their one prologue.  Expects dir (the case's own scratch directory: cases run in parallel) to be
# set; every judge prints what it saw on failure and returns non-zero,
# and check() turns that into an "ok - NAME" / "not ok - NAME" line.

# dir is golden.sh's, set for each case.
# shellcheck shell=bash disable=SC2154
# The programs under test: make check sets them; run by hand from a build
# directory, these are where the build puts them.
: "${top_builddir:=.}"
: "${TAP2PCAP:=$top_builddir/tools/tap2pcap/tap2pcap}"
: "${TAPSHIM_PROG:=$top_builddir/tools/tapshim/tapshim}"
: "${TAPDUMP:=$top_builddir/tools/tapdump/tapdump}"
: "${LIBTAPSHIM:=$top_builddir/shim/.libs/libtapshim.so}"
: "${SHIM_PROG:=$top_builddir/tests/shim/shim-prog}"
: "${UDP_PROG:=$top_builddir/tests/shim/udp-prog}"
SHIM=$LIBTAPSHIM
: "${TSHARK:=tshark}"
: "${PROTOC:=protoc}"
: "${PYTHON:=python3}"
export TSHARK

passed=0
failed=0
skipped=0
decode_as=-

# Is there a built file at PATH? A library path may hold ld.so's $LIB
# token (one setting for 64- and 32-bit programs): one match will do.
built()
{
	local f

	case $1 in
	*'$LIB'*)
		for f in ${1//\$LIB/lib/*}; do
			[ -e "$f" ] && return 0
		done
		return 1 ;;
	esac
	[ -e "$1" ]
}

# A check that cannot run here: skip NAME WHY; skipped, or failed when
# the tools are required (TAPSHIM_REQUIRE_TOOLS=1).
skip()
{
	if [ "${TAPSHIM_REQUIRE_TOOLS:-0}" = 1 ]; then
		failed=$((failed + 1))
		echo "not ok - $1 (cannot run: $2)"
	else
		skipped=$((skipped + 1))
		echo "ok - $1 # SKIP $2"
	fi
}

# Run a judge: "ok - NAME", or "not ok - NAME" and its output indented.
check()
{
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "not ok - $name"
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# check, and say whether it passed: what follows it would judge nothing.
check_ok()
{
	local before=$failed

	check "$@"
	[ "$failed" -eq "$before" ]
}

# Run a command for later judging: NAME.rc, NAME.out and NAME.err in $dir.
run()
{
	local name=$dir/$1

	shift
	"$@" >"$name.out" 2>"$name.err"
	echo $? >"$name.rc"
}

# Judge: what run NAME ran exited 0; else its stderr.
judge_rc()
{
	local rc

	rc=$(cat "$dir/$1.rc")
	[ "$rc" = 0 ] && return 0
	echo "exit status $rc:"
	cat "$dir/$1.err"
	return 1
}

# The closing line, and the exit status automake expects.
report()
{
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# Encode a text-format TraceWrapper: encode IN OUT [PROTO_DIR PROTO PKG].
encode()
{
	local path=${3:-$top_srcdir/proto} proto=${4:-tapshim.proto}
	local pkg=${5:-tapshim.trace}

	"$PROTOC" --proto_path="$path" --encode="$pkg.TraceWrapper" "$proto" \
	    <"$1" >"$2"
}

# Write the varint encoding of $1 (protobuf base 128) to stdout.
varint()
{
	local n=$1 b

	while :; do
		b=$((n & 127))
		n=$((n >> 7))
		[ "$n" -eq 0 ] || b=$((b | 128))
		# shellcheck disable=SC2059
		printf "\\$(printf %03o "$b")"
		[ "$n" -ne 0 ] || break
	done
}

# Frame binary TraceWrappers as PROTO_BINARY_LENGTH_DELIMITED: OUT IN...
frame_delimited()
{
	local out=$1 f

	shift
	: >"$out"
	for f in "$@"; do
		varint "$(($(wc -c <"$f")))" >>"$out"
		cat "$f" >>"$out"
	done
}

# Convert traces: tap2pcap -q ARGS...; it must succeed and say nothing.
run_tap2pcap()
{
	"$TAP2PCAP" -q "$@" 2>"$dir/tap2pcap.err"
	local rc=$?
	cat "$dir/tap2pcap.err" >&2
	[ "$rc" -eq 0 ] && [ ! -s "$dir/tap2pcap.err" ]
}

# The protocols Wireshark assigns to ports in Linux's ephemeral range
# (32768-60999, pcp on 44321 for one): a client port the kernel picked at
# random must not decide how a stream is dissected. Once per suite.
ts_quiet_ports()
{
	TS_DISABLE=$("$TSHARK" -G decodes 2>/dev/null | awk -F'\t' '
	    ($1 == "tcp.port" || $1 == "udp.port") && $2 >= 32768 {
		print $3 }' | sort -u | tr '\n' ' ')
	export TS_DISABLE
}

# tshark without name resolution, with the case's decode-as, if any.
ts()
{
	local p off=()

	[ -n "${TS_DISABLE+x}" ] || ts_quiet_ports
	for p in $TS_DISABLE; do
		off+=(--disable-protocol "$p")
	done
	if [ "$decode_as" = - ]; then
		"$TSHARK" -n "${off[@]}" "$@"
	else
		"$TSHARK" -n "${off[@]}" -d "$decode_as" "$@"
	fi
}

# Run tshark, its stderr to a file; show that file when tshark fails.
ts_out()
{
	local out=$1 rc
	shift
	ts "$@" >"$out" 2>"$dir/tshark.err"
	rc=$?
	[ "$rc" -eq 0 ] || { echo "tshark $* failed ($rc):";
	    cat "$dir/tshark.err"; }
	return "$rc"
}

# Judge: tshark follows exactly the expected bytes; the same tshark pass
# leaves its expert info in PCAP.z for judge_expert:
# judge_follow PCAP CLIENT N EXPECT0 EXPECT1 [N EXPECT0 EXPECT1]...
judge_follow()
{
	local pcap=$1 client=$2 d=()

	shift 2
	[ "$decode_as" = - ] || d=(-d "$decode_as")
	"$PYTHON" "$top_srcdir/tests/lib/follow.py" check "${d[@]}" \
	    --client "$client" --expert "$pcap.z" "$pcap" "$@"
}

# Judge: the expert info (tshark -r PCAP -q -z expert, or what
# judge_follow saved of it) has no Errors or Warns section at all.
judge_expert()
{
	local pcap=$1 out=$1.z

	[ -s "$out" ] || ts_out "$out" -r "$pcap" -q -z expert || return 1
	if grep -Eq '^(Errors|Warns) \(' "$out"; then
		sed -n '/^\(Errors\|Warns\) (/,/^$/p' "$out"
		return 1
	fi
	# A handshake alone gives Chats: no section at all means no expert run.
	grep -Eq '^(Notes|Chats) \(' "$out" || { echo "no expert output:";
	    cat "$out"; return 1; }
}

# Judge: with validation on, every IPv4, TCP and UDP checksum is good.
judge_checksums()
{
	local pcap=$1 out=$dir/checksum.txt

	ts_out "$out" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
	    -o udp.check_checksum:TRUE -r "$pcap" \
	    -Y 'tcp.checksum.status==0 || ip.checksum.status==0 ||
		udp.checksum.status==0 ||
		(tcp && !(tcp.checksum.status==1)) ||
		(ip && !(ip.checksum.status==1)) ||
		(udp && !(udp.checksum.status==1))' \
	    -T fields -e frame.number -e ip.checksum.status \
	    -e tcp.checksum.status -e udp.checksum.status || return 1
	[ ! -s "$out" ] && return 0
	echo "frames with a bad (0) or unverified checksum (frame ip tcp udp):"
	head -20 "$out"
	return 1
}

# Judge: HTTP/1 as "METHOD:URI:STATUS,..." per request, in order.
judge_http()
{
	local pcap=$1 want=$2 got out=$dir/http.txt

	ts_out "$out" -r "$pcap" -Y http -T fields -e tcp.stream \
	    -e http.request.method -e http.request.uri \
	    -e http.response.code || return 1
	got=$(awk -F'\t' '
	    $2 != "" { req[$1] = $2 ":" $3 }
	    $4 != "" { s = s sep req[$1] ":" $4; sep = "," }
	    END { print s }' "$out")
	[ "$got" = "$want" ] && return 0
	echo "http decodes as '$got', expected '$want'"
	return 1
}

# Judge: HTTP/2 as "TYPES:METHOD:PATH:STATUS", TYPES every frame's type.
judge_http2()
{
	local pcap=$1 want=$2 got out=$dir/http2.txt

	ts_out "$out" -r "$pcap" -Y http2 -T fields -e http2.type \
	    -e http2.headers.method -e http2.headers.path \
	    -e http2.headers.status || return 1
	got=$(awk -F'\t' '
	    function add(v, i) { if (v != "") x[i] = x[i] (x[i] == "" ? \
	        "" : ",") v }
	    { for (i = 1; i <= 4; i++) add($i, i) }
	    END { print x[1] ":" x[2] ":" x[3] ":" x[4] }' "$out")
	[ "$got" = "$want" ] && return 0
	echo "http2 decodes as '$got', expected '$want'"
	cat "$out"
	return 1
}

# Judge: only IPv6, payload length = TCP header + data, hop limit set,
# and at least MIN data segments from the client ADDR:PORT.
judge_ipv6()
{
	local pcap=$1 min=$2 client=$3 out=$dir/ipv6.txt

	# ip.version is set for IPv6 too (Wireshark 4.0): ip.src is not.
	ts_out "$out" -r "$pcap" -T fields -e ip.src -e ipv6.version \
	    -e ipv6.plen -e tcp.hdr_len -e tcp.len -e ipv6.hlim -e ipv6.src \
	    -e tcp.srcport -e frame.number || return 1
	awk -F'\t' -v min="$min" -v client="$client" '
	    function bad(why) { if (nbad++ < 10) print "frame " $9 ": " why }
	    {
		if ($1 != "") bad("IPv4 packet from " $1);
		if ($2 != 6) bad("not IPv6");
		if ($3 != $4 + $5) bad("ipv6.plen " $3 " != TCP " $4 "+" $5);
		if ($6 == "" || $6 == 0) bad("hop limit " $6);
		if ($5 > 0 && $7 ":" $8 == client) nseg++;
	    }
	    END {
		if (NR == 0) { print "no packets"; exit 1 }
		if (nbad > 10) print "(" nbad " problems in all)";
		if (nseg < min) { print nseg + 0 " data segments from " \
		    client ", expected at least " min; nbad++ }
		exit (nbad > 0)
	    }' "$out"
}

# Judge: the capture's link type (pcap file header) is N.
judge_linktype()
{
	local pcap=$1 want=$2 got

	got=$("$PYTHON" - "$pcap" <<'EOF'
import struct, sys
h = open(sys.argv[1], "rb").read(24)
magic = h[:4]
order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
print(struct.unpack(order + "I", h[20:24])[0] & 0x0fffffff)
EOF
	) || return 1
	[ "$got" = "$want" ] && return 0
	echo "link type $got, expected $want"
	return 1
}

# Judge: the capture holds exactly TCP streams 0 .. N-1.
judge_streams()
{
	local pcap=$1 n=$2 got want out=$dir/streams.txt

	ts_out "$out" -r "$pcap" -T fields -e tcp.stream || return 1
	got=$(sort -n -u "$out" | tr '\n' ' ')
	want=$(seq 0 $((n - 1)) | tr '\n' ' ')
	[ "$got" = "$want" ] && return 0
	echo "tcp.stream values: '$got', expected '$want'"
	return 1
}

# Judge: two files are byte-identical.
judge_same()
{
	cmp "$1" "$2"
}

# Skip the tests (77) or, with TAPSHIM_REQUIRE_TOOLS=1, fail them when a
# tool is missing: need_tools WHAT TOOL...
need_tools()
{
	local what=$1 t missing=

	shift
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] && return 0
	if [ "${TAPSHIM_REQUIRE_TOOLS:-0}" = 1 ]; then
		echo "not ok - required tools present (missing:$missing)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "SKIP: $what need$missing" \
	    "(TAPSHIM_REQUIRE_TOOLS=1 makes this a failure)"
	exit 77
}

# Run python as the interpreter itself, not a version manager's script in
# front of it (pyenv): that costs more than what it starts, and would be
# traced too.
resolve_python()
{
	local exe

	exe=$("$PYTHON" -c 'import sys; print(sys.executable)' 2>/dev/null)
	[ -n "$exe" ] && [ -x "$exe" ] && PYTHON=$exe
}
