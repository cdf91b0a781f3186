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
#   nginx    curl traced against nginx, then nginx traced (sendfile);
#            skipped when nginx is not installed.
# Every capture has no expert warning or error, and a FIN from both sides
# in every stream; every trace ends with a closed event.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, LIBTAPSHIM
# (set by make check); TSHARK, PROTOC, PYTHON, CURL, NGINX to use other
# programs; TAPSHIM_CASES to run only some cases. A missing tshark,
# protoc, python3 or curl skips the test (exit 77) unless
# TAPSHIM_REQUIRE_TOOLS=1, when it fails it. TAPSHIM_KEEP_TMP=1 keeps the
# scratch directory.
#
# Output: "ok - NAME" or "not ok - NAME" per check, then "N passed, N
# failed"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${CURL:=curl}"
: "${NGINX:=nginx}"

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source-path=SCRIPTDIR source=shimlib.sh
. "$top_srcdir/tests/shim/shimlib.sh"

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

shim_setup "shim tests" "$TSHARK" "$PROTOC" "$PYTHON" "$CURL"
mkdir -p "$tmp/www"
head -c 307200 /dev/urandom >"$tmp/www/blob.bin"
# shellcheck disable=SC2086  # a list of cases
run_cases ${TAPSHIM_CASES:-curl limits server nginx}
