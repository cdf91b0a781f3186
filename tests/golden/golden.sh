#!/usr/bin/env bash
# Golden tests: traces from tests/data, converted by tap2pcap, judged by tshark.
#
# The cases are the rows of tests/data/golden.tsv.  For each, the inputs
# are encoded with protoc, converted, and the capture must satisfy
# Wireshark itself (pcap-synthesis.md): tshark follows back exactly the
# trace's bytes in each direction (expected bytes computed from the trace
# by tests/follow.py, not by tap2pcap), the expert info has no warning or
# error, every checksum verifies, a second conversion is byte-identical,
# and the case's own checks pass.
#
# Environment: top_srcdir, top_builddir and TAP2PCAP (set by make check);
# TSHARK, PROTOC, PYTHON to use other programs.  A missing tshark, protoc
# or python3 skips the test (exit 77) unless TAPSHIM_REQUIRE_TOOLS=1, when
# it fails it.  TAPSHIM_KEEP_TMP=1 keeps the scratch directory;
# TAPSHIM_JOBS=N runs N cases at a time (default: the number of CPUs).
#
# Output: "ok - NAME" or "not ok - NAME" per check, then "N passed, N
# failed"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$top_srcdir/tests/data
tmp=
dir=
traces=()

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"

# Write the IPv6 case: a 300,000-byte write of numbered lines, a reply.
gen_ipv6()
{
	"$PYTHON" - "$1" <<'EOF'
import sys

d = sys.argv[1]
line = b"%06d tapshim golden ipv6 payload abcdefghijklmnopqrstuvwxyz\n"
blob = b"".join(line % i for i in range(300000 // len(line % 0) + 1))
blob = blob[:300000]
reply = b"received 300000 bytes\n"


def esc(b):
    return "".join(chr(c) if 0x20 <= c < 0x7f and c not in (0x22, 0x5c)
                   else "\\%03o" % c for c in b)


with open(d + "/ipv6.textproto", "w") as f:
    f.write("""socket_buffered_trace {
  trace_id: 6
  connection {
    local_address { socket_address { address: "2001:db8::1" port_value: 40100 } }
    remote_address { socket_address { address: "2001:db8::2" port_value: 9000 } }
    role: ROLE_CLIENT
  }
  events {
    timestamp { seconds: 1700000400 nanos: 0 }
    write { data { as_bytes: "%s" } }
  }
  events {
    timestamp { seconds: 1700000400 nanos: 50000000 }
    read { data { as_bytes: "%s" } }
  }
  events {
    timestamp { seconds: 1700000400 nanos: 60000000 }
    closed {}
  }
}
""" % (esc(blob), esc(reply)))
# The expected bytes straight from the source, not decoded from the trace.
open(d + "/expect.0.0", "wb").write(blob)
open(d + "/expect.0.1", "wb").write(reply)
EOF
}

# Build a case's trace files into $dir; their paths go in traces[].
build()
{
	local build=$1 in f i=0 segs=()

	shift
	traces=()
	case $build in
	pb)
		for in in "$@"; do
			f=$dir/${in%.textproto}.pb
			encode "$data/$in" "$f" || return 1
			traces+=("$f")
		done ;;
	pb-v2)
		for in in "$@"; do
			f=$dir/${in%.textproto}.pb
			encode "$data/$in" "$f" "$data/envoy" old-numbering.proto \
			    tapshim.envoy_v2 || return 1
			traces+=("$f")
		done ;;
	delimited|chunks)
		for in in "$@"; do
			f=$dir/part.$((i++)).pb
			encode "$data/$in" "$f" || return 1
			segs+=("$f")
		done
		if [ "$build" = delimited ]; then
			f=$dir/trace_7.pb_length_delimited
			frame_delimited "$f" "${segs[@]}"
		else
			f=$dir/trace_9.pb
			cat "${segs[@]}" >"$f"
			# The single-chunk form: protoc merges the chunks.
			"$PROTOC" --proto_path="$top_srcdir/proto" \
			    --decode=tapshim.trace.TraceWrapper tapshim.proto \
			    <"$f" >"$dir/single.textproto" &&
			    encode "$dir/single.textproto" "$dir/single.pb" ||
			    return 1
		fi
		traces+=("$f") ;;
	gen-ipv6)
		gen_ipv6 "$dir" && encode "$dir/ipv6.textproto" \
		    "$dir/ipv6.pb" || return 1
		traces+=("$dir/ipv6.pb") ;;
	*)
		echo "golden.tsv: unknown build '$build'"
		return 1 ;;
	esac
}

# Expected bytes of stream i in expect.i.0 and expect.i.1, from trace i,
# unless the builder wrote them from its own source data.
expect_all()
{
	[ -e "$dir/expect.0.0" ] ||
	    "$PYTHON" "$top_srcdir/tests/lib/follow.py" expect "$1" "$dir/expect" \
	    "${traces[@]}"
}

# Judge: stream i gives back exactly the bytes of trace i, for every i.
judge_follow_all()
{
	local i args=()

	for i in "${!traces[@]}"; do
		args+=("$i" "$dir/expect.$i.0" "$dir/expect.$i.1")
	done
	judge_follow "$dir/out.pcap" "$1" "${args[@]}"
}

# A step's exit status, with its log when it failed.
judge_status()
{
	[ "$1" -eq 0 ] && return 0
	cat "$2"
	return 1
}

# Convert again and compare: the same input gives the same capture.
judge_deterministic()
{
	# shellcheck disable=SC2086
	run_tap2pcap $options -w "$dir/again.pcap" "${traces[@]}" &&
	    judge_same "$dir/out.pcap" "$dir/again.pcap"
}

# The chunked .pb and its merged single-chunk form give the same capture.
judge_same_as_single()
{
	# shellcheck disable=SC2086
	run_tap2pcap $options -w "$dir/single.pcap" "$dir/single.pb" &&
	    judge_same "$dir/out.pcap" "$dir/single.pcap"
}

# The committed textproto is what its generator prints now.
judge_generated()
{
	"$PYTHON" "$data/$1" >"$dir/generated.textproto" &&
	    diff -u "$data/$2" "$dir/generated.textproto"
}

# One extra check from the table's checks column.
case_check()
{
	local name=$1 client=$2 c=$3 arg=${3#*=}

	case $c in
	http=*)		check "$name: HTTP/1 decoded as $arg" \
			    judge_http "$dir/out.pcap" "$arg" ;;
	http2=*)	check "$name: HTTP/2 frames and headers $arg" \
			    judge_http2 "$dir/out.pcap" "$arg" ;;
	generated=*)	check "$name: $inputs is the output of $arg" \
			    judge_generated "$arg" "$inputs" ;;
	ipv6=*)		check "$name: IPv6 plen and hop limit, >= $arg segments" \
			    judge_ipv6 "$dir/out.pcap" "$arg" "$client" ;;
	same-as-single)	check "$name: same capture as the single-chunk .pb" \
			    judge_same_as_single ;;
	linktype=*)	check "$name: pcap link type $arg" \
			    judge_linktype "$dir/out.pcap" "$arg" ;;
	streams=*)	check "$name: tcp.stream 0 to $((arg - 1))" \
			    judge_streams "$dir/out.pcap" "$arg" ;;
	*)		check "$name: known check '$c'" false ;;
	esac
}

# Run every check of one golden.tsv row.
run_case()
{
	local name=$1 build=$2 traced=$4 client=$5 checks=$8 c rc
	local ins=()

	inputs=$3
	decode_as=$6
	options=$7
	[ "$options" != - ] || options=
	[ "$inputs" = - ] || read -r -a ins <<<"$inputs"
	build "$build" "${ins[@]}" >"$dir/build.log" 2>&1 &&
	    expect_all "$traced" >>"$dir/build.log" 2>&1
	rc=$?
	check "$name: inputs encoded, expected bytes computed" \
	    judge_status "$rc" "$dir/build.log"
	[ "$rc" -eq 0 ] || return
	# shellcheck disable=SC2086
	check "$name: tap2pcap converts" \
	    run_tap2pcap $options -w "$dir/out.pcap" "${traces[@]}"
	[ -s "$dir/out.pcap" ] || return
	check "$name: follow gives back the trace's bytes, client $client" \
	    judge_follow_all "$client"
	check "$name: expert info has no warnings or errors" \
	    judge_expert "$dir/out.pcap"
	check "$name: IPv4, TCP and UDP checksums verify" \
	    judge_checksums "$dir/out.pcap"
	check "$name: converting twice gives identical captures" \
	    judge_deterministic
	for c in $checks; do
		case_check "$name" "$client" "$c"
	done
}

need_tools "golden tests" "$TSHARK" "$PROTOC" "$PYTHON"
resolve_python
if [ ! -x "$TAP2PCAP" ]; then
	echo "not ok - tap2pcap built ($TAP2PCAP not found)"
	echo "0 passed, 1 failed"
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden.XXXXXX") || exit 99
if [ "${TAPSHIM_KEEP_TMP:-0}" = 1 ]; then
	echo "# scratch directory: $tmp"
else
	trap 'rm -rf "$tmp"' EXIT
fi
# Judge with Wireshark's defaults, not the user's preferences.
export WIRESHARK_CONFIG_DIR=$tmp/wireshark
mkdir -p "$WIRESHARK_CONFIG_DIR"

# Cases run in parallel, each in its own scratch directory; their output
# is shown in table order once all are done.
jobs_max=${TAPSHIM_JOBS:-$(nproc 2>/dev/null || echo 2)}
names=()
while IFS=$'\t' read -r -u 3 name build inputs traced client decode options \
    checks; do
	case $name in
	''|'#'*) continue ;;
	esac
	names+=("$name")
	while [ "$(jobs -pr | wc -l)" -ge "$jobs_max" ]; do
		wait -n
	done
	dir=$tmp/$name
	mkdir -p "$dir"
	(
		run_case "$name" "$build" "$inputs" "$traced" "$client" \
		    "$decode" "$options" "$checks"
		: >"$dir/done"
	) >"$tmp/$name.out" 2>&1 &
done 3<"$data/golden.tsv"
wait
[ "${#names[@]}" -gt 0 ] || echo "not ok - golden.tsv lists cases"
for name in "${names[@]}"; do
	cat "$tmp/$name.out"
	[ -e "$tmp/$name/done" ] ||
	    echo "not ok - $name: the case ran to its end"
done | tee "$tmp/all.out"
passed=$(grep -c '^ok - ' "$tmp/all.out")
failed=$(grep -c '^not ok - ' "$tmp/all.out")
report
