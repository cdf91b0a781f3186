# The harness of libtapshim.so's integration suites (shim.sh,
# shim-prog.sh): running programs and servers, facts of traces, streams of
# captures, and cases run side by side.
#
# Sourced after tests/lib.sh.  Expects top_srcdir, TAP2PCAP, LIBTAPSHIM
# and PYTHON; tmp is the suite's scratch directory and dir the running
# case's (cases run in parallel, each in a subshell).  Every judge prints
# what it saw on failure and returns non-zero.

# shellcheck shell=bash disable=SC2154
: "${CURL:=curl}"
tmp=
dir=
servers=()

# Facts of traces, or a curl --trace's bytes: tests/shimtool.py ARGS...
tool()
{
	"$PYTHON" -B "$top_srcdir/tests/shim/shimtool.py" "$@"
}

# A TCP port free on 127.0.0.1 now.
free_port()
{
	"$PYTHON" -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Start a server in the background, env VAR=VALUE... then the command;
# its output in $dir/server.log. The pid is kept, to stop it at exit.
server_start()
{
	env "$@" >"$dir/server.log" 2>&1 &
	servers+=($!)
}

# Stop the last server started (by its pid), and reap it.
server_stop()
{
	kill "${servers[-1]}" 2>/dev/null
	wait "${servers[-1]}" 2>/dev/null
	return 0
}

# Judge: FILE holds TEXT within 10 s (a server says it is ready).
wait_for()
{
	local i

	for i in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "$1: no '$2' after 10 s:"
	cat "$1" "$dir/server.log"
	return 1
}

# The traces with prefix P, in the order they were made.
traces_of()
{
	# shellcheck disable=SC2012
	ls "$1"_* 2>/dev/null | sed "s|^$1_||" | sort -n | sed "s|^|$1_|"
}

# Judge: exactly N traces with prefix P, each ROLE (ROLE_CLIENT..., or -
# for any), each ending with a closed event; their facts in info.txt.
judge_traces()
{
	local p=$1 n=$2 role=$3 got

	got=$(traces_of "$p" | wc -l)
	[ "$got" -eq "$n" ] || { echo "$got traces, expected $n:";
	    traces_of "$p"; return 1; }
	# shellcheck disable=SC2046
	tool info $(traces_of "$p") >"$dir/info.txt" || return 1
	awk -F'\t' -v role="$role" '
	    role != "-" && $2 != role { print $1 ": " $2 ", expected " role;
		bad = 1 }
	    $5 != "closed" { print $1 ": ends with " $5 ", not closed"; bad = 1 }
	    END { exit bad }' "$dir/info.txt"
}

# Judge: the same, within 10 s (a server closes after the client is done).
wait_closed()
{
	local i

	for i in $(seq 100); do
		judge_traces "$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	judge_traces "$@"
}

# Judge: protoc decodes each TRACE; with ROLE, as a socket_buffered_trace
# of that role: judge_protoc ROLE|- TRACE...
judge_protoc()
{
	local role=$1 f out=$dir/decoded.txt

	shift
	[ $# -gt 0 ] || { echo "no trace to decode"; return 1; }
	for f in "$@"; do
		"$PROTOC" --proto_path="$top_srcdir/proto" \
		    --decode=tapshim.trace.TraceWrapper tapshim.proto <"$f" \
		    >"$out" || { echo "protoc cannot decode $f"; return 1; }
		[ "$role" = - ] && continue
		grep -q '^socket_buffered_trace {' "$out" &&
		    grep -q "role: $role\$" "$out" && continue
		echo "$f: not a socket_buffered_trace of $role:"
		grep -v as_bytes "$out" | head -30
		return 1
	done
}

# The SYN, FIN, RST and data segments of capture PCAP, into PKTS: frame,
# stream, SYN, ACK, FIN, RST, length, source, destination.
pkts_of()
{
	# Flags from tcp.flags.str ("·······A··S·"): tshark prints booleans
	# as 1 or True depending on its version.
	ts -r "$1" -Y 'tcp.flags.syn==1 || tcp.flags.fin==1 ||
	    tcp.flags.reset==1 || tcp.len>0' -T fields -e frame.number \
	    -e tcp.stream -e tcp.flags.str -e tcp.len -e ip.src -e ipv6.src \
	    -e tcp.srcport -e ip.dst -e ipv6.dst 2>/dev/null | awk -F'\t' '{
		print $1, $2, $3 ~ /S/, $3 ~ /A/, $3 ~ /F/, $3 ~ /R/, $4,
		    $5 $6 ":" $7, $8 $9 }' >"$2"
}

# Convert the traces of ROLE listed in info.txt into $dir/NAME.pcap;
# tap2pcap's exit status and stderr in NAME.rc and NAME.err, the
# capture's segments in NAME.pkts (pkts_of).
convert()
{
	local name=$1 role=$2 pcap=$dir/$1.pcap

	rm -f "$pcap" "$pcap.z"
	# shellcheck disable=SC2046
	run "$name" "$TAP2PCAP" -w "$pcap" $(awk -F'\t' -v r="$role" \
	    '$2 == r { print $1 }' "$dir/info.txt")
	pkts_of "$pcap" "$dir/$name.pkts"
}

# The stream whose SYN came from ADDR:PORT, in PKTS.
stream_from()
{
	awk -v a="$2" '$3 == 1 && $4 == 0 && $8 == a { print $2; exit }' "$1"
}

# The K-th stream whose SYN went to ADDR (any port).
stream_to()
{
	awk -v a="$2" -v k="$3" '$3 == 1 && $4 == 0 && $9 == a && ++n == k {
	    print $2; exit }' "$1"
}

# Judge: there are streams to judge, each a number.
has_streams()
{
	[ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qv '^[0-9][0-9]*$' &&
	    return 0
	echo "streams to judge: '$*'"
	return 1
}

# Judge: in each STREAM, a FIN from both sides and no reset.
judge_fins()
{
	local pkts=$1

	shift
	has_streams "$@" || return 1
	awk -v want="$*" '
	    $5 == 1 && !seen[$2, $8]++ { n[$2]++ }
	    $6 == 1 { print "stream " $2 ": reset from " $8; bad = 1 }
	    END {
		k = split(want, s, " ")
		for (i = 1; i <= k; i++)
			if (n[s[i]] != 2) {
				print "stream " s[i] ": FIN from " n[s[i]] + 0 \
				    " side(s), expected 2"
				bad = 1
			}
		exit bad
	    }' "$pkts"
}

# Judge: in each STREAM, the FIRST side's FIN (client or server) comes
# before the other's; for the client, the server's last data comes
# between (the client shut down writing, the server went on).
judge_fin_order()
{
	local pkts=$1 first=$2

	shift 2
	has_streams "$@" || return 1
	awk -v want="$*" -v first="$first" '
	    BEGIN { k = split(want, s, " "); for (i = 1; i <= k; i++)
		w[s[i]] = 1 }
	    !($2 in w) { next }
	    $3 == 1 && $4 == 0 { client[$2] = $8 }
	    $5 == 1 && $8 == client[$2] && !cfin[$2] { cfin[$2] = $1 }
	    $5 == 1 && $8 != client[$2] && !sfin[$2] { sfin[$2] = $1 }
	    $7 > 0 && $8 != client[$2] { sdata[$2] = $1 }
	    END {
		for (i = 1; i <= k; i++) {
			x = s[i]
			if (first == "client" && cfin[x] && cfin[x] < sdata[x] &&
			    sdata[x] < sfin[x])
				continue
			if (first == "server" && sfin[x] && sfin[x] < cfin[x])
				continue
			print "stream " x ": client FIN in frame " cfin[x] + 0 \
			    ", server FIN in " sfin[x] + 0 ", server data " \
			    "last in " sdata[x] + 0 "; expected the " first \
			    "'"'"'s FIN first"
			bad = 1
		}
		exit bad
	    }' "$pkts"
}

# Judge: tshark follows each stream back to the bytes expected. Lines
# "STREAM CLIENT EXPECT0 EXPECT1" on stdin, CLIENT node 0's address or -.
judge_follow_streams()
{
	local pcap=$1 s c e0 e1 args=() clients=() list=() i max=-1

	while read -r s c e0 e1; do
		case $s in
		''|*[!0-9]*) echo "no stream for $e0"; return 1 ;;
		esac
		args+=("$s" "$e0" "$e1")
		[ "$c" = - ] || clients[s]=$c
		[ "$s" -le "$max" ] || max=$s
	done
	# follow.py's --client list goes by stream number; empty: unchecked.
	for ((i = 0; i <= max; i++)); do
		list+=("${clients[i]:-}")
	done
	judge_follow "$pcap" "$(IFS=,; echo "${list[*]}")" "${args[@]}"
}

# Stop whatever server this shell started and still runs (by pid).
stop_servers()
{
	local pid

	for pid in "${servers[@]}"; do
		kill "$pid" 2>/dev/null
	done
}

# Run curl NAME URL [VAR=VALUE...]: its --trace in NAME.trace, the file
# in NAME.got, its local port in NAME.out.
run_curl()
{
	local name=$1 url=$2

	shift 2
	run "$name" env "$@" timeout 30 "$CURL" -sS --trace \
	    "$dir/$name.trace" -w '%{local_port}' -o "$dir/$name.got" "$url"
}

# Judge: curl NAME exited 0 and fetched FILE intact; by its --trace
# (written to NAME.c2s, NAME.s2c), it got an HTTP/VERSION 200 ending
# with FILE.
judge_curl()
{
	local name=$dir/$1 file=$2 version=$3

	judge_rc "$1" && cmp "$file" "$name.got" &&
	    tool curl "$name.trace" "$name.c2s" "$name.s2c" || return 1
	head -c 12 "$name.s2c" | grep -qx "HTTP/$version 200" &&
	    tail -c "$(wc -c <"$file")" "$name.s2c" | cmp -s - "$file" &&
	    return 0
	echo "curl $1 --trace: not an HTTP/$version 200 ending with $file:"
	head -c 200 "$name.s2c" | od -c | head
	return 1
}

# Start python's http.server on PORT, env VAR=VALUE... given; wait
# until it listens.
http_server()
{
	local port=$1

	shift
	server_start "$@" "$PYTHON" -u -m http.server --bind 127.0.0.1 \
	    --directory "$tmp/www" "$port"
	wait_for "$dir/server.log" "Serving HTTP" >/dev/null
}

# Run CMD... traced into $dir/t_<N>.pb, its stdout in $dir/NAME.out,
# stderr in NAME.err, exit status in NAME.rc: traced NAME [VAR=V...] CMD...
traced()
{
	local name=$1

	shift
	env LD_PRELOAD="$LIBTAPSHIM" TAPSHIM_PATH_PREFIX="$dir/t" "$@" \
	    >"$dir/$name.out" 2>"$dir/$name.err"
	echo $? >"$dir/$name.rc"
}

# Judge: what traced NAME ran exited 0, and said nothing on stderr.
judge_ran()
{
	[ "$(cat "$dir/$1.rc")" = 0 ] && [ ! -s "$dir/$1.err" ] && return 0
	echo "exit status $(cat "$dir/$1.rc"):"
	cat "$dir/$1.err"
	return 1
}

# Judge: tapdump --json --events ARGS... parses, and the python
# expression EXPR (over t, the list of traces) is true.
judge_json()
{
	local expr=$1

	shift
	"$TAPDUMP" --json --events "$@" >"$dir/dump.json" \
	    2>"$dir/dump.err" || { echo "tapdump failed:";
	    cat "$dir/dump.err"; return 1; }
	"$PYTHON" - "$dir/dump.json" "$expr" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["traces"]
if not eval("(%s)" % " ".join(sys.argv[2].split())):
    print("false: %s\n%s" % (sys.argv[2], json.dumps(t, indent=1)[:3000]))
    sys.exit(1)
PY
}

# Run one case in the background, its output in $tmp/CASE.out: CASE is
# case_CASE, or case_FAMILY ARG for FAMILY-ARG.
run_case()
{
	local fn=case_${1%%-*} arg=

	[ "$1" = "${1#*-}" ] || arg=${1#*-}
	dir=$tmp/$1
	mkdir -p "$dir/tr"
	(
		trap stop_servers EXIT
		"$fn" ${arg:+"$arg"}
		: >"$tmp/$1/done"
	) >"$tmp/$1.out" 2>&1 &
}

# Set a suite up: need_tools NAME TOOL... and resolve_python, check that
# tap2pcap and the shim are built, make $tmp (removed at exit unless
# TAPSHIM_KEEP_TMP=1) with Wireshark's default preferences.
shim_setup()
{
	local f

	need_tools "$@"
	resolve_python
	for f in "$TAP2PCAP" "$LIBTAPSHIM"; do
		built "$f" && continue
		echo "not ok - built: $f"
		echo "0 passed, 1 failed"
		exit 1
	done
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/shim.XXXXXX") || exit 99
	[ "${TAPSHIM_KEEP_TMP:-0}" = 1 ] && echo "# scratch directory: $tmp"
	trap '[ "${TAPSHIM_KEEP_TMP:-0}" = 1 ] || rm -rf "$tmp"' EXIT
	trap 'exit 1' INT TERM HUP
	# Judge with Wireshark's defaults, not the user's preferences.
	export WIRESHARK_CONFIG_DIR=$tmp/wireshark
	mkdir -p "$WIRESHARK_CONFIG_DIR"
	: >"$tmp/all.out"
}

# Run CASE... side by side (TAPSHIM_JOBS at a time, default: the number
# of CPUs), show their output in order after $tmp/all.out's, and report.
run_cases()
{
	local c

	for c in "$@"; do
		while [ "$(jobs -pr | wc -l)" -ge "${TAPSHIM_JOBS:-$(nproc)}" ]
		do
			wait -n
		done
		run_case "$c"
	done
	wait
	for c in "$@"; do
		cat "$tmp/$c.out"
		[ -e "$tmp/$c/done" ] ||
			echo "not ok - $c: the case ran to its end"
	done >>"$tmp/all.out"
	cat "$tmp/all.out"
	# shellcheck disable=SC2034  # report (lib.sh) reads them
	passed=$(grep '^ok - ' "$tmp/all.out" | grep -vc ' # TODO')
	failed=$(grep '^not ok - ' "$tmp/all.out" | grep -vc ' # TODO')
	# Known failures (TAP's "# TODO") do not fail the suite.
	todo=$(grep -c '^not ok - .* # TODO' "$tmp/all.out")
	[ "$todo" -eq 0 ] || echo "$todo known failures (# TODO)"
	report
}
