#!/usr/bin/env bash
# Integration tests of libtapshim.so: real programs traced, judged by tshark.
#
# Cases, each in its own scratch directory:
#   curl     curl traced, fetching a 300 KB file from python3's
#            http.server: the file intact, one .pb that protoc decodes,
#            and tshark follows back exactly what curl says (--trace) it
#            sent and received; then a refused connect: a SYN and a RST.
#   server   http.server traced (TAPSHIM_FORMAT=ld), 3 sequential then 4
#            parallel curl clients: 7 traces, each stream what its curl
#            sent and received.
#   prog-pb  tests/shim-prog (every hooked call, over IPv4, IPv6 and
#   prog-ld  AF_UNIX) traced in each format: exit status and output as
#            untraced, one trace per connection end, and the clients'
#            traces and the servers' each give back exactly the bytes the
#            program says it sent, with FINs where the program's
#            shutdown, end of file and close put them.
#   nginx    curl traced against nginx, then nginx traced (sendfile);
#            skipped when nginx is not installed.
# Every capture has no expert warning or error, and a FIN from both sides
# in every stream; every trace ends with a closed event.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, SHIM_PROG, LIBTAPSHIM
# (set by make check); TSHARK, PROTOC, PYTHON, CURL, NGINX to use other
# programs; TAPSHIM_CASES to run only some cases. A missing tshark,
# protoc, python3 or curl skips the test (exit 77) unless
# TAPSHIM_REQUIRE_TOOLS=1, when it fails it. TAPSHIM_KEEP_TMP=1 keeps the
# scratch directory.
#
# Output: "ok - NAME" or "not ok - NAME" per check, then "N passed, N
# failed"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
TAP2PCAP=${TAP2PCAP:-$top_builddir/tools/tap2pcap}
SHIM_PROG=${SHIM_PROG:-$top_builddir/tests/shim-prog}
LIBTAPSHIM=${LIBTAPSHIM:-$top_builddir/shim/.libs/libtapshim.so}
: "${CURL:=curl}"
: "${NGINX:=nginx}"
tmp=
dir=
servers=()

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib.sh"

# The helper: facts about traces (with follow.py's protobuf walker), and
# the bytes of a curl --trace file.
write_helper()
{
	cat >"$tmp/shimtool.py" <<'EOF'
import os
import sys

sys.path.insert(0, os.environ["TESTS_DIR"])
import follow  # noqa: E402
from follow import fields  # noqa: E402


def address(buf):
    """"addr:port" of an Address; "unix:PATH" for a pipe."""
    out = "-"
    for n, w, v in fields(buf):
        if n == 1 and w == 2:
            f = {n2: v2 for n2, w2, v2 in fields(v)}
            out = "%s:%d" % (f.get(2, b"").decode(), f.get(3, 0))
        elif n == 2 and w == 2:
            f = {n2: v2 for n2, w2, v2 in fields(v)}
            out = "unix:" + f.get(1, b"").decode()
    return out


def info(path):
    """Path, role, local, remote, the last event's kind."""
    f = {1000: 0, 1: "-", 2: "-"}
    kinds = ["none"]
    buf = open(path, "rb").read()
    for wrapper in follow.wrappers(buf, path.endswith("_delimited")):
        for n, w, v in fields(wrapper):
            conns = [v2 for n2, w2, v2 in fields(v) if n2 == 2 and w2 == 2]
            # Singular fields merge: the last one read wins.
            for c in conns if n in (3, 4) and w == 2 else []:
                f.update({n3: v3 if w3 == 0 else address(v3)
                          for n3, w3, v3 in fields(c) if n3 in f})
        kinds += [follow.event_data(e)[0] for e in
                  follow.trace_events(wrapper)]
    role = ["ROLE_UNKNOWN", "ROLE_CLIENT", "ROLE_SERVER"][f[1000]]
    return "\t".join((path, role, f[1], f[2], kinds[-1]))


def curl(trace, out0, out1):
    """What curl --trace says was sent (=>) and received (<=)."""
    data = {"=>": bytearray(), "<=": bytearray(), None: bytearray()}
    way = None
    for line in open(trace, encoding="latin-1"):
        if line[:3] in ("=> ", "<= ", "== "):
            way = line[:2] if " data" in line or " header" in line else None
        elif ": " in line[:10]:
            # "0000: 47 45 54 ... GET": 16 bytes in 48 columns.
            at = line.index(": ") + 2
            data[way] += bytes.fromhex(line[at:at + 48])
    open(out0, "wb").write(data["=>"])
    open(out1, "wb").write(data["<="])


try:
    if sys.argv[1] == "info":
        print("\n".join(info(p) for p in sys.argv[2:]))
    else:
        curl(*sys.argv[2:5])
except (OSError, follow.WireError, ValueError, IndexError) as e:
    sys.exit("shimtool.py: %s" % e)
EOF
}

tool()
{
	TESTS_DIR=$top_srcdir/tests "$PYTHON" "$tmp/shimtool.py" "$@"
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

# Convert the traces of ROLE listed in info.txt into $dir/NAME.pcap;
# tap2pcap's exit status and stderr in NAME.rc and NAME.err. Then the
# capture's SYN, FIN, RST and data segments go in NAME.pkts: frame,
# stream, SYN, ACK, FIN, RST, length, source, destination.
convert()
{
	local name=$1 role=$2 pcap=$dir/$1.pcap

	rm -f "$pcap" "$pcap.z"
	# shellcheck disable=SC2046
	run "$name" "$TAP2PCAP" -w "$pcap" $(awk -F'\t' -v r="$role" \
	    '$2 == r { print $1 }' "$dir/info.txt")
	# Flags from tcp.flags.str ("·······A··S·"): tshark prints booleans
	# as 1 or True depending on its version.
	ts -r "$pcap" -Y 'tcp.flags.syn==1 || tcp.flags.fin==1 ||
	    tcp.flags.reset==1 || tcp.len>0' -T fields -e frame.number \
	    -e tcp.stream -e tcp.flags.str -e tcp.len -e ip.src -e ipv6.src \
	    -e tcp.srcport -e ip.dst -e ipv6.dst 2>/dev/null | awk -F'\t' '{
		print $1, $2, $3 ~ /S/, $3 ~ /A/, $3 ~ /F/, $3 ~ /R/, $4,
		    $5 $6 ":" $7, $8 $9 }' >"$dir/$name.pkts"
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

# Judge a capture of curls' connections, converted from the traces of
# ROLE: judge_capture CASE ROLE CURL...
judge_capture()
{
	local name=$1 role=$2 n c

	shift 2
	convert out "$role"
	check_ok "$name: tap2pcap converts" judge_rc out || return
	for n in "$@"; do
		c=127.0.0.1:$(cat "$dir/$n.out")
		echo "$(stream_from "$dir/out.pkts" "$c") $c $dir/$n.c2s" \
		    "$dir/$n.s2c"
	done >"$dir/out.streams"
	check "$name: each stream what its curl sent and got ($# streams)" \
	    judge_follow_streams "$dir/out.pcap" <"$dir/out.streams"
	check "$name: expert info has no warnings or errors" \
	    judge_expert "$dir/out.pcap"
	# shellcheck disable=SC2046
	check "$name: FIN from both sides in every stream" \
	    judge_fins "$dir/out.pkts" $(cut -d' ' -f1 "$dir/out.streams")
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

# Judge: curl NAME could not connect, as untraced (exit 7); its one
# trace shows a SYN answered by a reset, not a connection.
judge_refused()
{
	local rc

	rc=$(cat "$dir/$1.rc")
	[ "$rc" = 7 ] || { echo "curl: exit status $rc, expected 7"; return 1; }
	judge_traces "$dir/tr/refused" 1 ROLE_CLIENT || return 1
	convert refused ROLE_CLIENT
	judge_rc refused || return 1
	awk '$3 == 1 { syn[$4]++ } $6 == 1 { rst++ } $5 == 1 || $7 > 0 { n++ }
	    END {
		if (syn[0] == 1 && !syn[1] && rst == 1 && !n)
			exit 0
		print "SYN " syn[0] + 0 ", SYN-ACK " syn[1] + 0 ", RST " \
		    rst + 0 ", FIN or data " n + 0 "; expected a SYN and a RST"
		exit 1
	    }' "$dir/refused.pkts"
}

# curl traced against an untraced http.server, then a closed port.
case_curl()
{
	local port

	port=$(free_port)
	http_server "$port"
	run_curl c1 "http://127.0.0.1:$port/blob.bin" \
	    LD_PRELOAD="$LIBTAPSHIM" TAPSHIM_PATH_PREFIX="$dir/tr/curl"
	server_stop
	check "curl: exit 0, file intact, its --trace a 200 with the file" \
	    judge_curl c1 "$tmp/www/blob.bin" 1.0
	check "curl: one trace, ROLE_CLIENT, ending with closed" \
	    judge_traces "$dir/tr/curl" 1 ROLE_CLIENT
	check "curl: protoc decodes the .pb: socket_buffered_trace, client" \
	    judge_protoc ROLE_CLIENT "$dir/tr/curl_0.pb"
	judge_capture curl ROLE_CLIENT c1
	run_curl refused "http://127.0.0.1:$(free_port)/" \
	    LD_PRELOAD="$LIBTAPSHIM" TAPSHIM_PATH_PREFIX="$dir/tr/refused"
	check "curl: a refused connect: exit 7, a SYN answered by a RST" \
	    judge_refused refused
}

# Judge: run NAME's stderr holds exactly one tapshim: line naming each of
# the variables given, and nothing else.
judge_messages()
{
	local err=$dir/$1.err v

	shift
	for v in "$@"; do
		[ "$(grep -c "^tapshim: .*$v" "$err")" = 1 ] && continue
		echo "expected one message naming $v in:"
		cat "$err"
		return 1
	done
	[ "$(grep -c . "$err")" = $# ] && return 0
	echo "unexpected lines on stderr:"
	cat "$err"
	return 1
}

# Judge: trace F is marked truncated both ways, and its capture keeps
# KEEP bytes of the response, marked cut, with an unbroken sequence.
judge_limited()
{
	local f=$1 keep=$2 out=$dir/limits.decoded pcap=$dir/limits.pcap n

	"$PROTOC" --proto_path="$top_srcdir/proto" \
	    --decode=tapshim.trace.TraceWrapper tapshim.proto <"$f" >"$out" ||
	    { echo "protoc cannot decode $f"; return 1; }
	grep -q 'read_truncated: true' "$out" &&
	    grep -q 'write_truncated: true' "$out" ||
	    { echo "$f: not marked truncated both ways"; return 1; }
	"$TAP2PCAP" -q -w "$pcap" "$f" || return 1
	ts -r "$pcap" -q -z expert >"$pcap.z" 2>/dev/null
	# Cut bodies may puzzle HTTP's dissector (a Protocol warning); the
	# capture must still have no sequence, checksum or malformed ones.
	if awk '/^(Errors|Warns) \(/ { bad = 1; next }
	    /^(Notes|Chats) \(/ { bad = 0 }
	    bad && $2 ~ /^(Sequence|Checksum|Malformed)$/ { found = 1 }
	    END { exit !found }' "$pcap.z"; then
		echo "expert info has sequence, checksum or malformed warnings:"
		cat "$pcap.z"
		return 1
	fi
	n=$(ts -r "$pcap" -Y 'tcp.srcport != '"$(cat "$dir/l1.out")"' &&
	    tcp.len > 0' -T fields -e frame.cap_len -e frame.len \
	    2>/dev/null | awk '{ cap += $1 - 54; if ($1 < $2) cut++ }
	    END { print cap + 0, cut + 0 }')
	[ "${n% *}" = "$keep" ] && [ "${n#* }" -gt 0 ] && return 0
	echo "response bytes kept, segments cut: $n; expected $keep kept"
	return 1
}

# curl traced with TAPSHIM_MAX_BUFFERED_RX_BYTES=1000 and _TX_BYTES=10:
# past them only lengths, one message each, the sequence unbroken.
case_limits()
{
	local port

	port=$(free_port)
	http_server "$port"
	run_curl l1 "http://127.0.0.1:$port/blob.bin" \
	    LD_PRELOAD="$LIBTAPSHIM" TAPSHIM_PATH_PREFIX="$dir/tr/lim" \
	    TAPSHIM_MAX_BUFFERED_RX_BYTES=1000 TAPSHIM_MAX_BUFFERED_TX_BYTES=10
	server_stop
	check "limits: curl exit 0, file intact" \
	    judge_curl l1 "$tmp/www/blob.bin" 1.0
	check "limits: one message for each limit reached" \
	    judge_messages l1 TAPSHIM_MAX_BUFFERED_RX_BYTES \
	    TAPSHIM_MAX_BUFFERED_TX_BYTES
	check "limits: truncated both ways; 1000 bytes kept, sequence whole" \
	    judge_limited "$dir/tr/lim_0.pb" 1000
}

# http.server traced, curl clients untraced: 3 in turn, then 4 at once.
case_server()
{
	local port i names=(s1 s2 s3 p4 p5 p6 p7) pids=()

	port=$(free_port)
	http_server "$port" LD_PRELOAD="$LIBTAPSHIM" \
	    TAPSHIM_PATH_PREFIX="$dir/tr/srv" TAPSHIM_FORMAT=ld
	for i in "${names[@]}"; do
		case $i in
		s*)	run_curl "$i" "http://127.0.0.1:$port/blob.bin" ;;
		*)	run_curl "$i" "http://127.0.0.1:$port/blob.bin" &
			pids+=($!) ;;
		esac
	done
	wait "${pids[@]}"
	wait_closed "$dir/tr/srv" 7 ROLE_SERVER >/dev/null
	server_stop
	for i in "${names[@]}"; do
		check "server: curl $i: exit 0, file intact, a 200 with the file" \
		    judge_curl "$i" "$tmp/www/blob.bin" 1.0
	done
	check "server: 7 ld traces, ROLE_SERVER, each ending with closed" \
	    judge_traces "$dir/tr/srv" 7 ROLE_SERVER
	judge_capture server ROLE_SERVER "${names[@]}"
}

# Start nginx on PORT, env VAR=VALUE... given, serving $tmp/www with
# sendfile.
nginx_start()
{
	local port=$1 ng=$dir/nginx

	shift
	rm -rf "$ng"
	mkdir -p "$ng"
	cat >"$ng/nginx.conf" <<EOF
daemon off; master_process off; pid $ng/nginx.pid; error_log $ng/error.log;
events { worker_connections 64; }
http {
	access_log off; sendfile on;
	client_body_temp_path $ng/body; proxy_temp_path $ng/proxy;
	fastcgi_temp_path $ng/fastcgi; uwsgi_temp_path $ng/uwsgi;
	scgi_temp_path $ng/scgi;
	server { listen 127.0.0.1:$port; root $tmp/www; }
}
EOF
	server_start "$@" "$NGINX" -p "$ng" -e "$ng/error.log" -c "$ng/nginx.conf"
}

# curl traced against nginx, then nginx traced serving curl.
case_nginx()
{
	local port

	if ! command -v "$NGINX" >/dev/null 2>&1; then
		echo "# SKIP nginx: $NGINX is not installed"
		return
	fi
	port=$(free_port)
	nginx_start "$port"
	# It listens once its pid file is written.
	check_ok "nginx: starts on port $port" \
	    wait_for "$dir/nginx/nginx.pid" '[0-9]' || return
	run_curl n1 "http://127.0.0.1:$port/blob.bin" \
	    LD_PRELOAD="$LIBTAPSHIM" TAPSHIM_PATH_PREFIX="$dir/tr/curl"
	server_stop
	check "nginx: curl traced: exit 0, file intact, a 200 with the file" \
	    judge_curl n1 "$tmp/www/blob.bin" 1.1
	check "nginx: curl traced: one trace, ROLE_CLIENT, ending closed" \
	    judge_traces "$dir/tr/curl" 1 ROLE_CLIENT
	judge_capture "nginx: curl traced" ROLE_CLIENT n1

	port=$(free_port)
	nginx_start "$port" LD_PRELOAD="$LIBTAPSHIM" \
	    TAPSHIM_PATH_PREFIX="$dir/tr/nginx"
	check_ok "nginx: starts traced on port $port" \
	    wait_for "$dir/nginx/nginx.pid" '[0-9]' || return
	run_curl n2 "http://127.0.0.1:$port/blob.bin"
	check "nginx: nginx traced: one trace, ROLE_SERVER, ending closed" \
	    wait_closed "$dir/tr/nginx" 1 ROLE_SERVER
	server_stop
	check "nginx: nginx traced: curl exit 0, file intact, a 200" \
	    judge_curl n2 "$tmp/www/blob.bin" 1.1
	judge_capture "nginx: nginx traced" ROLE_SERVER n2
}

# Run shim-prog as NAME, env VAR=VALUE... given; its files in $dir/NAME.
run_prog()
{
	local name=$1

	shift
	mkdir -p "$dir/$name"
	run "$name" env "$@" timeout 60 "$SHIM_PROG" "$dir/$name" \
	    "$dir/$name/s.sock"
}

# Judge: the traced run printed what the untraced one did, and sent the
# same bytes.
judge_same_run()
{
	local f rc=0

	diff -u "$tmp/plain.out" "$dir/run.out" || rc=1
	diff -u "$tmp/plain.err" "$dir/run.err" || rc=1
	for f in "$tmp/plain"/*.c2s "$tmp/plain"/*.s2c; do
		cmp "$f" "$dir/run/${f##*/}" || rc=1
	done
	return "$rc"
}

# Judge: one trace per connection end: each IP client's address is the
# local one of exactly one ROLE_CLIENT trace and the remote one of exactly
# one ROLE_SERVER trace; 2 of each role name the AF_UNIX path; 12 in all.
judge_one_per_end()
{
	local fam c want="2|ROLE_CLIENT|R|unix:$dir/run/s.sock"

	want="$want 2|ROLE_SERVER|L|unix:$dir/run/s.sock"
	for fam in ipv4 ipv4-accept ipv6 ipv6-accept; do
		c=$(tr -d '[]' <"$dir/run/$fam.client")
		want="$want 1|ROLE_CLIENT|L|$c 1|ROLE_SERVER|R|$c"
	done
	awk -F'\t' -v want="$want" '
	    { n[$2 "|L|" $3]++; n[$2 "|R|" $4]++ }
	    END {
		k = split(want, w, " ")
		for (i = 1; i <= k; i++) {
			key = substr(w[i], 3)
			if (n[key] == substr(w[i], 1, 1))
				continue
			print n[key] + 0 " traces " key ", expected " \
			    substr(w[i], 1, 1)
			bad = 1
		}
		if (NR != 12) { print NR " traces, expected 12"; bad = 1 }
		exit bad
	    }' "$dir/info.txt" && return 0
	cat "$dir/info.txt"
	return 1
}

# Judge: tap2pcap (NAME.rc, NAME.err) converted, and told how it shows
# each of the 2 AF_UNIX connections.
judge_unix_notice()
{
	local n

	judge_rc "$1" || return 1
	n=$(grep -c 'AF_UNIX socket .* shown as 127\.0\.0\.' "$dir/$1.err")
	[ "$n" -eq 2 ] && return 0
	echo "$n AF_UNIX notices, expected 2:"
	cat "$dir/$1.err"
	return 1
}

# Lines "STREAM CLIENT EXPECT0 EXPECT1" for the program's connections in
# NAME.pkts: IPv4 and IPv6 by the client's address, AF_UNIX (shown as
# 127.0.0.1 -> 127.0.0.2) in order.
prog_streams()
{
	local pkts=$dir/$1.pkts fam c s k=0

	for fam in ipv4 ipv4-accept ipv6 ipv6-accept unix unix-accept; do
		case $fam in
		unix*)	c=- k=$((k + 1))
			s=$(stream_to "$pkts" 127.0.0.2 "$k") ;;
		*)	c=$(tr -d '[]' <"$dir/run/$fam.client")
			s=$(stream_from "$pkts" "$c") ;;
		esac
		echo "$s $c $dir/run/$fam.c2s $dir/run/$fam.s2c"
	done
}

# Judge the traces of one end of the program's connections (ROLE), in a
# capture of their own (NAME).
prog_view()
{
	local case=$1 role=$2 v=$3

	convert "$v" "$role"
	check_ok "$case: $v traces: tap2pcap converts, AF_UNIX as 127.0.0.x" \
	    judge_unix_notice "$v" || return
	prog_streams "$v" >"$dir/$v.streams"
	check "$case: $v traces: every byte, each way, in 6 streams" \
	    judge_follow_streams "$dir/$v.pcap" <"$dir/$v.streams"
	check "$case: $v traces: expert info has no warnings or errors" \
	    judge_expert "$dir/$v.pcap"
	# shellcheck disable=SC2046
	check "$case: $v traces: FIN from both sides in every stream" \
	    judge_fins "$dir/$v.pkts" $(cut -d' ' -f1 "$dir/$v.streams")
	# shellcheck disable=SC2046
	check "$case: $v traces: shutdown(SHUT_WR) shows as an early FIN" \
	    judge_fin_order "$dir/$v.pkts" client $(awk 'NR % 2 { print $1 }' \
	    "$dir/$v.streams")
	# shellcheck disable=SC2046
	check "$case: $v traces: the server closes first: its FIN first" \
	    judge_fin_order "$dir/$v.pkts" server $(awk '!(NR % 2) {
	    print $1 }' "$dir/$v.streams")
}

# shim-prog traced in format FMT (pb or ld).
case_prog()
{
	local fmt=$1 name=prog-$1 ext=.pb

	[ "$fmt" = ld ] && ext=.pb_length_delimited
	run_prog run LD_PRELOAD="$LIBTAPSHIM" \
	    TAPSHIM_PATH_PREFIX="$dir/tr/tap" TAPSHIM_FORMAT="$fmt"
	check "$name: exit status 0, traced" judge_rc run
	check "$name: stdout, stderr and bytes sent as untraced" \
	    judge_same_run
	check "$name: 12 $ext traces, each ending with closed" \
	    judge_traces "$dir/tr/tap" 12 -
	check "$name: one trace per connection end (dup'ed fds share it)" \
	    judge_one_per_end
	# shellcheck disable=SC2046
	[ "$fmt" = ld ] || check "$name: protoc decodes every .pb" \
	    judge_protoc - $(traces_of "$dir/tr/tap")
	prog_view "$name" ROLE_CLIENT client
	prog_view "$name" ROLE_SERVER server
}

# Stop whatever server this shell started and still runs (by pid).
stop_servers()
{
	local pid

	for pid in "${servers[@]}"; do
		kill "$pid" 2>/dev/null
	done
}

# Run one case in the background, its output in $tmp/CASE.out.
run_case()
{
	dir=$tmp/$1
	mkdir -p "$dir/tr"
	(
		trap stop_servers EXIT
		case $1 in
		prog-*)	case_prog "${1#prog-}" ;;
		*)	"case_$1" ;;
		esac
		: >"$dir/done"
	) >"$tmp/$1.out" 2>&1 &
}

need_tools "shim tests" "$TSHARK" "$PROTOC" "$PYTHON" "$CURL"
resolve_python
for f in "$TAP2PCAP" "$SHIM_PROG" "$LIBTAPSHIM"; do
	[ -e "$f" ] && continue
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
mkdir -p "$WIRESHARK_CONFIG_DIR" "$tmp/www"
write_helper
head -c 307200 /dev/urandom >"$tmp/www/blob.bin"

dir=$tmp
run_prog plain
check "shim-prog runs untraced, exit status 0" judge_rc plain >"$tmp/all.out"
# The cases run side by side (TAPSHIM_JOBS at a time, default: the number
# of CPUs); their output is shown in order once all are done.
cases=${TAPSHIM_CASES:-curl limits server prog-pb prog-ld nginx}
for c in $cases; do
	while [ "$(jobs -pr | wc -l)" -ge "${TAPSHIM_JOBS:-$(nproc)}" ]; do
		wait -n
	done
	run_case "$c"
done
wait
for c in $cases; do
	cat "$tmp/$c.out"
	[ -e "$tmp/$c/done" ] || echo "not ok - $c: the case ran to its end"
done >>"$tmp/all.out"
cat "$tmp/all.out"
passed=$(grep -c '^ok - ' "$tmp/all.out")
failed=$(grep -c '^not ok - ' "$tmp/all.out")
report
