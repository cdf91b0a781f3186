#!/usr/bin/env bash
# Integration tests of libtapshim.so: real programs traced, judged by tshark.
#
# Cases, each in its own scratch directory:
#   curl       curl traced, fetching a 300 KB file from python3's
#              http.server: the download is intact, tshark follows back
#              exactly what curl says (--trace) it sent and received,
#              no expert warnings, protoc decodes the .pb (ROLE_CLIENT).
#   server     http.server traced (TAPSHIM_FORMAT=ld), 3 sequential then
#              4 parallel curl clients: 7 traces, ROLE_SERVER, each stream
#              exactly what its curl sent and received.
#   prog-pb,   tests/shim-prog (every hooked call over IPv4, IPv6 and
#   prog-ld    AF_UNIX) traced in each format: same exit status and output
#              as untraced, one trace per connection end, each ending with
#              a closed event, and both the clients' and the servers'
#              traces give back exactly the bytes the program says it sent,
#              FIN from both sides.
#   nginx      curl traced against nginx, then nginx traced (sendfile)
#              serving an untraced curl; skipped when nginx is not there.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, SHIM_PROG and
# LIBTAPSHIM (set by make check); TSHARK, PROTOC, PYTHON, CURL, NGINX to
# use other programs. A missing tshark, protoc, python3 or curl skips the
# test (exit 77) unless TAPSHIM_REQUIRE_TOOLS=1, when it fails it; a
# missing nginx only skips its case. TAPSHIM_KEEP_TMP=1 keeps the scratch
# directory.
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

# Skip (77) or, with TAPSHIM_REQUIRE_TOOLS=1, fail when a tool is missing.
need_tools()
{
	local t missing=

	for t in "$TSHARK" "$PROTOC" "$PYTHON" "$CURL"; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] && return 0
	if [ "${TAPSHIM_REQUIRE_TOOLS:-0}" = 1 ]; then
		echo "not ok - required tools present (missing:$missing)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "SKIP: shim tests need$missing" \
	    "(TAPSHIM_REQUIRE_TOOLS=1 makes this a failure)"
	exit 77
}

# The interpreter itself, not a version manager's shim (pyenv): the
# traced server is python, and a shell script in front of it would be
# traced too.
resolve_python()
{
	local exe

	exe=$("$PYTHON" -c 'import sys; print(sys.executable)' 2>/dev/null)
	[ -n "$exe" ] && [ -x "$exe" ] && PYTHON=$exe
}

# Fail at once when what make check builds is not there.
need_built()
{
	local f

	for f in "$TAP2PCAP" "$SHIM_PROG" "$LIBTAPSHIM"; do
		[ -e "$f" ] && continue
		echo "not ok - built: $f"
		echo "0 passed, 1 failed"
		exit 1
	done
}

# The helper: facts about traces and curl's --trace files, in Python,
# with tests/follow.py's protobuf walker.
write_helper()
{
	cat >"$tmp/shimtool.py" <<'EOF'
"""shimtool.py info TRACE... | curl CURLTRACE OUT0 OUT1"""
import os
import sys

sys.path.insert(0, os.environ["TESTS_DIR"])
import follow  # noqa: E402

ROLES = {0: "ROLE_UNKNOWN", 1: "ROLE_CLIENT", 2: "ROLE_SERVER"}


def address(buf):
    """"addr:port" of an Address, "unix:PATH" for a pipe."""
    out = "-"
    for n, w, v in follow.fields(buf):
        if n == 1 and w == 2:
            a, port = "", 0
            for n2, w2, v2 in follow.fields(v):
                if n2 == 2 and w2 == 2:
                    a = v2.decode()
                elif n2 == 3 and w2 == 0:
                    port = v2
            out = "%s:%d" % (a, port)
        elif n == 2 and w == 2:
            out = "unix:" + "".join(v2.decode() for n2, w2, v2 in
                                    follow.fields(v) if n2 == 1 and w2 == 2)
    return out


def connections(wrapper):
    """The Connection messages in one TraceWrapper."""
    for n, w, v in follow.fields(wrapper):
        if w == 2 and n in (follow.WRAPPER_BUFFERED,
                            follow.WRAPPER_SEGMENT):
            for n2, w2, v2 in follow.fields(v):
                if n2 == 2 and w2 == 2:
                    yield v2


def info(path):
    """path, role, local, remote, the last event's kind, events."""
    buf = open(path, "rb").read()
    f = {"role": 0, "local": "-", "remote": "-"}
    kinds = []
    for wrapper in follow.wrappers(buf, path.endswith("_delimited")):
        # Singular fields merge: the last one read wins.
        for conn in connections(wrapper):
            for n, w, v in follow.fields(conn):
                if n == 1000 and w == 0:
                    f["role"] = v
                elif n in (1, 2) and w == 2:
                    f["local" if n == 1 else "remote"] = address(v)
        kinds += [follow.event_data(e)[0] for e in
                  follow.trace_events(wrapper)]
    return "\t".join((path, ROLES.get(f["role"], str(f["role"])),
                      f["local"], f["remote"],
                      kinds[-1] if kinds else "none", str(len(kinds))))


def curl(trace, out0, out1):
    """The bytes curl --trace says it sent and received."""
    data = {">": bytearray(), "<": bytearray()}
    way = None
    for line in open(trace, encoding="latin-1"):
        if line.startswith("=> Send "):
            way = ">" if "SSL" not in line else None
        elif line.startswith("<= Recv "):
            way = "<" if "SSL" not in line else None
        elif line.startswith("== "):
            way = None
        elif way and ": " in line[:10]:
            # "0000: 47 45 54 ... GET": 16 hex bytes in 48 columns, the
            # offset 4 hex digits or more.
            at = line.index(": ") + 2
            data[way] += bytes.fromhex(line[at:at + 48])
    open(out0, "wb").write(data[">"])
    open(out1, "wb").write(data["<"])


try:
    if sys.argv[1] == "info":
        for p in sys.argv[2:]:
            print(info(p))
    else:
        curl(*sys.argv[2:5])
except (OSError, follow.WireError, ValueError) as e:
    sys.exit("shimtool.py: %s" % e)
EOF
}

tool()
{
	TESTS_DIR=$top_srcdir/tests "$PYTHON" "$tmp/shimtool.py" "$@"
}

# A TCP port free on 127.0.0.1 now.
free_port()
{
	"$PYTHON" -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Stop a server started by this script (by its pid), and reap it.
server_stop()
{
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# Wait until FILE holds TEXT (at most 10 s): a server saying it is ready.
wait_for()
{
	local i

	for i in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "$1: no '$2' after 10 s:"
	cat "$1"
	return 1
}

# Start python's http.server on 127.0.0.1:PORT serving DIR, with the
# environment given (for LD_PRELOAD); its log in $dir/server.log, which
# says when it listens.
http_server()
{
	local port=$1 www=$2

	shift 2
	env "$@" "$PYTHON" -u -m http.server --bind 127.0.0.1 \
	    --directory "$www" "$port" >"$dir/server.log" 2>&1 &
	servers+=($!)
}

# curl URL, its --trace record in $dir/NAME.trace, what it fetched in
# $dir/NAME.got, its local port in $dir/NAME.port; env VAR=VALUE... first.
run_curl()
{
	local name=$1 url=$2

	shift 2
	env "$@" timeout 30 "$CURL" -sS --trace "$dir/$name.trace" \
	    -w '%{local_port}' -o "$dir/$name.got" "$url" \
	    >"$dir/$name.port" 2>"$dir/$name.err"
}

# Judge: a command's exit status (in FILE.rc) is 0; else show FILE.err.
judge_rc()
{
	local rc

	rc=$(cat "$1.rc" 2>/dev/null)
	[ "$rc" = 0 ] && return 0
	echo "exit status ${rc:-unknown}:"
	cat "$1.err" 2>/dev/null
	return 1
}

# Judge: curl NAME exited 0 and fetched exactly FILE; its --trace record
# is a 200 response (HTTP/VERSION) that ends with FILE.
judge_curl()
{
	local name=$1 file=$2 version=$3 got=$dir/$1 size

	judge_rc "$got" || return 1
	cmp "$file" "$got.got" || return 1
	tool curl "$got.trace" "$got.c2s" "$got.s2c" || return 1
	size=$(wc -c <"$file")
	head -c 12 "$got.s2c" | grep -qx "HTTP/$version 200" &&
	    tail -c "$size" "$got.s2c" | cmp -s - "$file" && return 0
	echo "curl $name --trace: not a $version 200 ending with $file:"
	head -c 200 "$got.s2c" | od -c | head
	return 1
}

# The traces with prefix P, in the order they were made.
traces_of()
{
	local p=$1

	# shellcheck disable=SC2012
	ls "$p"_* 2>/dev/null | sed "s|^${p}_||" | sort -n | sed "s|^|${p}_|"
}

# Judge: exactly N traces with prefix P, each ROLE (ROLE_CLIENT...,
# or - for any), each ending with a closed event; their facts go in
# $dir/info.txt.
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
	    $5 != "closed" { print $1 ": last event " $5 ", expected " \
		"closed"; bad = 1 }
	    END { exit bad }' "$dir/info.txt"
}

# Judge: protoc decodes TRACE, saying socket_buffered_trace and ROLE.
judge_protoc()
{
	local out=$dir/decoded.txt

	"$PROTOC" --proto_path="$top_srcdir/proto" \
	    --decode=tapshim.trace.TraceWrapper tapshim.proto <"$1" \
	    >"$out" || return 1
	grep -q '^socket_buffered_trace {' "$out" &&
	    grep -q "role: $2\$" "$out" && return 0
	echo "protoc's decoding of $1 lacks socket_buffered_trace or" \
	    "role: $2:"
	grep -v as_bytes "$out" | head -30
	return 1
}

# Every SYN, FIN and RST of a capture: stream, flags, source, destination.
packets()
{
	ts_out "$2" -r "$1" -Y 'tcp.flags.syn==1 || tcp.flags.fin==1 ||
	    tcp.flags.reset==1' -T fields -e tcp.stream -e tcp.flags.syn \
	    -e tcp.flags.ack -e tcp.flags.fin -e tcp.flags.reset \
	    -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst \
	    -e tcp.dstport
}

# The stream whose SYN came from ADDR:PORT (in packets' output), if any.
stream_from()
{
	awk -F'\t' -v from="$2" '
	    $2 == 1 && $3 == 0 && $6 $7 ":" $8 == from { print $1; exit }' "$1"
}

# The K-th stream (from 1) whose SYN went to ADDR.
stream_to()
{
	awk -F'\t' -v to="$2" -v k="$3" '
	    $2 == 1 && $3 == 0 && $9 $10 == to && ++n == k { print $1; exit }
	    ' "$1"
}

# Judge: each stream given ends with a FIN from both sides, and none
# has a reset.
judge_fins()
{
	local pkts=$1

	shift
	awk -F'\t' -v want="$*" '
	    $4 == 1 { fin[$1, $6 $7 ":" $8] = 1; n[$1] += !seen[$1, $6 $7 \
		":" $8]++ }
	    $5 == 1 { print "stream " $1 ": reset from " $6 $7 ":" $8; bad = 1 }
	    END {
		k = split(want, s, " ")
		for (i = 1; i <= k; i++)
			if (n[s[i]] != 2) {
				print "stream " s[i] ": FIN from " n[s[i]] + 0 \
				    " sides, expected 2"
				bad = 1
			}
		exit bad
	    }' "$pkts"
}

# Judge: tshark follows each stream back to what the program said each
# side sent. Lines "STREAM CLIENT EXPECT0 EXPECT1" on stdin; CLIENT is
# node 0's address, - not to check it (AF_UNIX, mapped).
judge_follow_streams()
{
	local pcap=$1 s c e0 e1 args=() clients=() i max=-1 list=()

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

# "STREAM CLIENT EXPECT0 EXPECT1" for each curl NAME given.
curl_streams()
{
	local n c

	for n in "$@"; do
		c=127.0.0.1:$(cat "$dir/$n.port")
		echo "$(stream_from "$dir/pkts.txt" "$c") $c $dir/$n.c2s" \
		    "$dir/$n.s2c"
	done
}

# Judge: what tap2pcap, the traces of curls NAME... (ROLE) and tshark
# make of them: the bytes curl says it sent and received, no expert
# warning, FIN from both sides. CASE names the checks.
judge_curl_capture()
{
	local name=$1 role=$2 s

	shift 2
	# shellcheck disable=SC2046
	check "$name: tap2pcap converts" run_tap2pcap -w "$dir/out.pcap" \
	    $(awk -F'\t' -v r="$role" '$2 == r { print $1 }' \
	    "$dir/info.txt") || return
	packets "$dir/out.pcap" "$dir/pkts.txt"
	check "$name: $# stream(s), each exactly what its curl sent and got" \
	    judge_follow_streams "$dir/out.pcap" < <(curl_streams "$@")
	check "$name: expert info has no warnings or errors" \
	    judge_expert "$dir/out.pcap"
	# shellcheck disable=SC2046
	check "$name: FIN from both sides in every stream" \
	    judge_fins "$dir/pkts.txt" $(seq 0 $(($# - 1)))
}

# Judge: N traces with prefix P ended with closed (at most 10 s): the
# server has closed every connection.
wait_closed()
{
	local i

	for i in $(seq 100); do
		judge_traces "$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	judge_traces "$@"
}

# The curl case: curl traced against an untraced http.server.
case_curl()
{
	local port

	port=$(free_port)
	http_server "$port" "$tmp/www"
	check "curl: http.server on port $port (untraced) starts" \
	    wait_for "$dir/server.log" "Serving HTTP" || return
	run_curl c1 "http://127.0.0.1:$port/blob.bin" \
	    LD_PRELOAD="$LIBTAPSHIM" TAPSHIM_PATH_PREFIX="$dir/tr/curl"
	echo $? >"$dir/c1.rc"
	server_stop "${servers[-1]}"
	check "curl: exit 0, file intact, its --trace a 200 with the file" \
	    judge_curl c1 "$tmp/www/blob.bin" 1.0
	check "curl: one trace, ROLE_CLIENT, ending with closed" \
	    judge_traces "$dir/tr/curl" 1 ROLE_CLIENT
	check "curl: protoc decodes the .pb, socket_buffered_trace, client" \
	    judge_protoc "$dir/tr/curl_0.pb" ROLE_CLIENT
	judge_curl_capture curl ROLE_CLIENT c1
}

# The server case: http.server traced, curl clients untraced.
case_server()
{
	local port i names=() pids=()

	port=$(free_port)
	http_server "$port" "$tmp/www" LD_PRELOAD="$LIBTAPSHIM" \
	    TAPSHIM_PATH_PREFIX="$dir/tr/srv" TAPSHIM_FORMAT=ld
	check "server: traced http.server on port $port starts" \
	    wait_for "$dir/server.log" "Serving HTTP" || return
	for i in 1 2 3; do
		run_curl "s$i" "http://127.0.0.1:$port/blob.bin"
		echo $? >"$dir/s$i.rc"
		names+=("s$i")
	done
	for i in 4 5 6 7; do
		(run_curl "p$i" "http://127.0.0.1:$port/blob.bin"
		    echo $? >"$dir/p$i.rc") &
		pids+=($!)
		names+=("p$i")
	done
	wait "${pids[@]}"
	check "server: 7 ld traces, ROLE_SERVER, each ending with closed" \
	    wait_closed "$dir/tr/srv" 7 ROLE_SERVER
	server_stop "${servers[-1]}"
	for i in "${names[@]}"; do
		check "server: curl $i: exit 0, file intact, a 200 with the file" \
		    judge_curl "$i" "$tmp/www/blob.bin" 1.0
	done
	judge_curl_capture server ROLE_SERVER "${names[@]}"
}

# Write nginx.conf for 127.0.0.1:PORT, serving $tmp/www with sendfile.
nginx_conf()
{
	mkdir -p "$dir/nginx"
	cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx.err;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	client_body_temp_path $dir/nginx/body;
	proxy_temp_path $dir/nginx/proxy;
	fastcgi_temp_path $dir/nginx/fastcgi;
	uwsgi_temp_path $dir/nginx/uwsgi;
	scgi_temp_path $dir/nginx/scgi;
	server {
		listen 127.0.0.1:$1;
		root $tmp/www;
	}
}
EOF
}

# Start nginx on 127.0.0.1:PORT, env VAR=VALUE... given; it listens
# once it wrote its pid file.
nginx_start()
{
	local port=$1

	shift
	rm -f "$dir/nginx.pid"
	nginx_conf "$port"
	env "$@" "$NGINX" -p "$dir/nginx" -e "$dir/nginx.err" \
	    -c "$dir/nginx.conf" >"$dir/nginx.log" 2>&1 &
	servers+=($!)
}

# The nginx case: curl traced against nginx, then nginx traced.
case_nginx()
{
	local port

	if ! command -v "$NGINX" >/dev/null 2>&1; then
		echo "# SKIP nginx: $NGINX is not installed"
		return
	fi
	port=$(free_port)
	nginx_start "$port"
	check "nginx: nginx on port $port (untraced) starts" \
	    wait_for "$dir/nginx.pid" '[0-9]' || return
	run_curl n1 "http://127.0.0.1:$port/blob.bin" \
	    LD_PRELOAD="$LIBTAPSHIM" TAPSHIM_PATH_PREFIX="$dir/tr/curl"
	echo $? >"$dir/n1.rc"
	server_stop "${servers[-1]}"
	check "nginx: curl traced: exit 0, file intact, a 200 with the file" \
	    judge_curl n1 "$tmp/www/blob.bin" 1.1
	check "nginx: curl traced: one trace, ROLE_CLIENT, ending with closed" \
	    judge_traces "$dir/tr/curl" 1 ROLE_CLIENT
	judge_curl_capture "nginx: curl traced" ROLE_CLIENT n1

	port=$(free_port)
	nginx_start "$port" LD_PRELOAD="$LIBTAPSHIM" \
	    TAPSHIM_PATH_PREFIX="$dir/tr/nginx"
	check "nginx: traced nginx (sendfile on) on port $port starts" \
	    wait_for "$dir/nginx.pid" '[0-9]' || return
	run_curl n2 "http://127.0.0.1:$port/blob.bin"
	echo $? >"$dir/n2.rc"
	check "nginx: nginx traced: one trace, ROLE_SERVER, ending closed" \
	    wait_closed "$dir/tr/nginx" 1 ROLE_SERVER
	server_stop "${servers[-1]}"
	check "nginx: nginx traced: curl exit 0, file intact, a 200" \
	    judge_curl n2 "$tmp/www/blob.bin" 1.1
	judge_curl_capture "nginx: nginx traced" ROLE_SERVER n2
}

# Run shim-prog into $dir/NAME (its outputs, NAME.out, NAME.err, NAME.rc)
# with the environment given.
run_prog()
{
	local name=$1

	shift
	mkdir -p "$dir/$name"
	env "$@" timeout 60 "$SHIM_PROG" "$dir/$name" "$dir/$name/s.sock" \
	    >"$dir/$name.out" 2>"$dir/$name.err"
	echo $? >"$dir/$name.rc"
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

# Judge: one trace per connection end: each client's address is the
# local one of exactly one ROLE_CLIENT trace and the remote one of exactly
# one ROLE_SERVER trace; AF_UNIX, 2 of each; 12 in all.
judge_one_per_end()
{
	local fam c want=

	for fam in ipv4 ipv4-accept ipv6 ipv6-accept; do
		c=$(tr -d '[]' <"$dir/run/$fam.client")
		want="$want ROLE_CLIENT:local:$c ROLE_SERVER:remote:$c"
	done
	awk -F'\t' -v want="$want" '
	    { ends[$2 ":local:" $3]++; ends[$2 ":remote:" $4]++ }
	    $3 ~ /^unix:/ || $4 ~ /^unix:/ { unix[$2]++ }
	    END {
		k = split(want, w, " ")
		for (i = 1; i <= k; i++)
			if (ends[w[i]] != 1) {
				print ends[w[i]] + 0 " traces with " w[i] \
				    ", expected 1"
				bad = 1
			}
		if (unix["ROLE_CLIENT"] != 2 || unix["ROLE_SERVER"] != 2) {
			print "AF_UNIX traces: " unix["ROLE_CLIENT"] + 0 \
			    " client, " unix["ROLE_SERVER"] + 0 " server, " \
			    "expected 2 and 2"
			bad = 1
		}
		if (NR != 12) { print NR " traces, expected 12"; bad = 1 }
		exit bad
	    }' "$dir/info.txt" && return 0
	cat "$dir/info.txt"
	return 1
}

# Judge: every .pb decodes with protoc.
judge_protoc_all()
{
	local f

	for f in "$@"; do
		"$PROTOC" --proto_path="$top_srcdir/proto" \
		    --decode=tapshim.trace.TraceWrapper tapshim.proto <"$f" \
		    >/dev/null || { echo "protoc cannot decode $f"; return 1; }
	done
}

# Judge: tap2pcap (NAME.rc, NAME.err) converted, and said how each of the
# 2 AF_UNIX connections is shown.
judge_unix_notice()
{
	local n

	judge_rc "$1" || return 1
	n=$(grep -c 'AF_UNIX socket .* shown as 127\.0\.0\.' "$1.err")
	[ "$n" -eq 2 ] && return 0
	echo "$n AF_UNIX notices, expected 2:"
	cat "$1.err"
	return 1
}

# "STREAM CLIENT EXPECT0 EXPECT1" for each of the program's connections,
# in capture PKTS: IPv4 and IPv6 by the client's address, AF_UNIX (as
# 127.0.0.1 -> 127.0.0.2) by order.
prog_streams()
{
	local pkts=$1 fam c s

	for fam in ipv4 ipv4-accept ipv6 ipv6-accept unix unix-accept; do
		case $fam in
		unix)		c=- s=$(stream_to "$pkts" 127.0.0.2 1) ;;
		unix-accept)	c=- s=$(stream_to "$pkts" 127.0.0.2 2) ;;
		*)		c=$(tr -d '[]' <"$dir/run/$fam.client")
				s=$(stream_from "$pkts" "$c") ;;
		esac
		echo "$s $c $dir/run/$fam.c2s $dir/run/$fam.s2c"
	done
}

# Judge the program's traces from one end (ROLE_CLIENT or ROLE_SERVER)
# in a capture of their own, named VIEW.
prog_view()
{
	local name=$1 role=$2 v=$3 pcap=$dir/$3.pcap

	# shellcheck disable=SC2046
	"$TAP2PCAP" -w "$pcap" $(awk -F'\t' -v r="$role" '$2 == r { print $1 }' \
	    "$dir/info.txt") >/dev/null 2>"$dir/$v.err"
	echo $? >"$dir/$v.rc"
	check "$name: $v traces: tap2pcap converts, AF_UNIX as 127.0.0.x" \
	    judge_unix_notice "$dir/$v" || return
	packets "$pcap" "$dir/pkts.txt"
	prog_streams "$dir/pkts.txt" >"$dir/$v.streams"
	check "$name: $v traces: follow gives back every byte, 6 streams" \
	    judge_follow_streams "$pcap" \
	    <"$dir/$v.streams"
	check "$name: $v traces: expert info has no warnings or errors" \
	    judge_expert "$pcap"
	# shellcheck disable=SC2046
	check "$name: $v traces: FIN from both sides in every stream" \
	    judge_fins "$dir/pkts.txt" $(cut -d' ' -f1 "$dir/$v.streams")
}

# A shim-prog case: the program traced in format FMT (pb or ld).
case_prog()
{
	local fmt=$1 name=prog-$1 ext=.pb

	[ "$fmt" = ld ] && ext=.pb_length_delimited
	run_prog run LD_PRELOAD="$LIBTAPSHIM" \
	    TAPSHIM_PATH_PREFIX="$dir/tr/tap" TAPSHIM_FORMAT="$fmt"
	check "$name: exit status 0, traced" judge_rc "$dir/run"
	check "$name: stdout, stderr and bytes sent as untraced" \
	    judge_same_run
	check "$name: 12 $ext traces, each ending with closed" \
	    judge_traces "$dir/tr/tap" 12 -
	check "$name: one trace per connection end (dup'ed fds share it)" \
	    judge_one_per_end
	# shellcheck disable=SC2046
	[ "$fmt" = ld ] || check "$name: protoc decodes every .pb" \
	    judge_protoc_all $(traces_of "$dir/tr/tap")
	prog_view "$name" ROLE_CLIENT client
	prog_view "$name" ROLE_SERVER server
}

# Stop whatever server is still running (by pid), then clean up.
cleanup()
{
	local pid

	for pid in "${servers[@]}"; do
		kill "$pid" 2>/dev/null
	done
	[ "${TAPSHIM_KEEP_TMP:-0}" = 1 ] || rm -rf "$tmp"
}

need_tools
resolve_python
need_built
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shim.XXXXXX") || exit 99
[ "${TAPSHIM_KEEP_TMP:-0}" = 1 ] && echo "# scratch directory: $tmp"
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# Judge with Wireshark's defaults, not the user's preferences.
export WIRESHARK_CONFIG_DIR=$tmp/wireshark
mkdir -p "$WIRESHARK_CONFIG_DIR" "$tmp/www"
write_helper
head -c 307200 /dev/urandom >"$tmp/www/blob.bin"

dir=$tmp
run_prog plain
check "shim-prog runs untraced, exit status 0" judge_rc "$tmp/plain"
for c in curl server prog-pb prog-ld nginx; do
	dir=$tmp/$c
	mkdir -p "$dir/tr"
	case $c in
	prog-*)	case_prog "${c#prog-}" ;;
	*)	"case_$c" ;;
	esac
done
report
