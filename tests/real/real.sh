#!/usr/bin/env bash
# The real-program suite: unmodified Debian programs traced through the
# tapshim launcher, as clients and as servers, each judged.
#
# Every case runs its program untraced and then through `tapshim -o
# PREFIX -w CASE.pcap`, and judges:
#   output    the program's output (stdout, stderr) and exit status are
#             what they were untraced;
#   traces    one trace per connection, each of the right role;
#   bytes     tshark follows each stream back to exactly the bytes the
#             peer really got: a recording proxy (recproxy.py) sits
#             between client and server and keeps each connection's
#             bytes per direction, or, for TLS, the peer's own record;
#   expert    `tshark -q -z expert` has no warning or error.
# Servers listen on 127.0.0.1 ports the suite picks, and stop by
# themselves once their clients are done.
#
# Cases: curl (HTTP/1.1, HTTP/2 prior knowledge, TLS) against nginx,
# wget, python3 (urllib, requests, asyncio plain and TLS, 32 threads, a
# traced ForkingTCPServer), ruby, perl, redis, postgres (psql against a traced
# server run as an unprivileged user), socat (TCP, UDP, fork, EXEC),
# openssl, gnutls, nginx traced as root (master root, worker nobody), ab
# against a traced nginx, git daemon, memcached, dig, and bash /dev/tcp
# and C stdio on a socket (bytes the hooks cannot see: counted as lost).
#
# A check that waits for a defect still open is a known failure:
# "not ok - NAME # TODO the defect", counted apart,
# and does not fail the suite; one that passes anyway says "ok - NAME #
# TODO", so the table below can lose its line. A program that is not
# installed skips its case ("# SKIP"), or, with TAPSHIM_REQUIRE_TOOLS=1,
# fails it.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, TAPSHIM_PROG,
# LIBTAPSHIM (set by make check); TSHARK, PYTHON; TAPSHIM_CASES to run
# only some cases; TAPSHIM_JOBS cases at a time; TAPSHIM_KEEP_TMP=1 keeps
# the scratch directory.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export TAPSHIM_LIBRARY=$LIBTAPSHIM
: "${NGINX:=nginx}"
# The programs traced run Debian's python3, not a version manager's.
: "${SYSPY:=/usr/bin/python3}"

# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../shim/shimlib.sh
. "$top_srcdir/tests/shim/shimlib.sh"

# Known failures: check name -> the defect it waits for.
unseen="bytes moved by calls no hook sees are a gap, not payload"
declare -A known=(
	["sserver: bytes (the peers' own)"]="s_server's raw read after SSL_shutdown puts the peer's close_notify in the plaintext"
	["gitd: bytes"]=$unseen ["gitd: expert"]=$unseen
	["bashtcp: bytes"]=$unseen ["bashtcp: expert"]=$unseen
	["stdio: bytes"]=$unseen ["stdio: expert"]=$unseen
)

# A TCP port free on 127.0.0.1 now, outside Linux's ephemeral range
# (32768-60999) as a real server's is: roles are judged by it.
free_port()
{
	"$PYTHON" -c 'import random, socket
for i in range(200):
	s = socket.socket()
	try:
		s.bind(("127.0.0.1", random.randrange(20000, 32768)))
	except OSError:
		continue
	print(s.getsockname()[1])
	break'
}

# check, or a known failure's TODO line when the name is in the table.
rcheck()
{
	local name=$1 defect=${known[$1]:-} out

	[ -n "$defect" ] || { check "$@"; return; }
	shift
	if out=$("$@" 2>&1); then
		echo "ok - $name # TODO $defect"
	else
		echo "not ok - $name # TODO $defect"
		[ -z "$out" ] || printf '%s\n' "$out" | head -20 | sed 's/^/#   /'
	fi
}

# Skip the case unless every program given is installed.
need()
{
	local t

	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 && continue
		if [ "${TAPSHIM_REQUIRE_TOOLS:-0}" = 1 ]; then
			echo "not ok - ${FUNCNAME[1]#case_}: $t is installed"
		else
			echo "# SKIP ${FUNCNAME[1]#case_}: $t is not installed"
		fi
		return 1
	done
}

# Skip the case unless the suite runs as root (it starts servers as
# other users).
need_root()
{
	[ "$(id -u)" = 0 ] && return 0
	echo "# SKIP ${FUNCNAME[1]#case_}: needs root"
	return 1
}

# Start the recording proxy NAME: 127.0.0.1:PORT to UPSTREAM, its record
# in $dir/NAME.px.
proxy_start()
{
	local px=$dir/$1.px

	rm -rf "$px"
	mkdir -p "$px"
	"$PYTHON" -u "$top_srcdir/tests/real/recproxy.py" "$2" "$3" "$px" \
	    >"$px/log" 2>&1 &
	echo $! >"$px/pid"
	servers+=($!)
	wait_for "$px/log" ready >/dev/null
}

# The number of connections proxy NAME saw end.
proxy_conns()
{
	cat "$dir/$1.px/conns" 2>/dev/null | wc -l
}

# Stop proxy NAME once it saw N connections end (within 10 s).
proxy_stop()
{
	local i pid

	for i in $(seq 100); do
		[ "$(proxy_conns "$1")" -ge "$2" ] && break
		sleep 0.1
	done
	pid=$(cat "$dir/$1.px/pid")
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# Run tapshim on CMD... as run NAME: traces $dir/tr/NAME_N.pb, the
# capture $dir/NAME.pcap.
traced()
{
	local name=$1

	shift
	run "$name" timeout 60 "$TAPSHIM_PROG" -q -o "$dir/tr/$name" \
	    -w "$dir/$name.pcap" -- "$@"
}

# Run a client CMD... as NAME-plain untraced, then as NAME traced, each
# through a fresh proxy on PORT to UPSTREAM that sees N connections:
# client_runs NAME PORT UPSTREAM N CMD...
client_runs()
{
	local name=$1 port=$2 up=$3 n=$4

	shift 4
	proxy_start "$name-plain" "$port" "$up"
	run "$name-plain" timeout 60 "$@"
	proxy_stop "$name-plain" "$n"
	proxy_start "$name" "$port" "$up"
	traced "$name" "$@"
	proxy_stop "$name" "$n"
}

# Judge: run NAME's output and exit status are run NAME-plain's.
judge_unchanged()
{
	local a=$dir/$1 b=$dir/$1-plain x

	# An HTTP answer's Date: is the time of day.
	for x in rc out err; do
		cmp -s <(sed '/^Date: /d' "$a.$x") <(sed '/^Date: /d' "$b.$x") &&
		    continue
		echo "$x differs, traced then untraced:"
		head -c 600 "$a.$x" | cat -v
		echo "--"
		head -c 600 "$b.$x" | cat -v
		return 1
	done
}

# Judge: capture PCAP has one stream per connection proxy NAME relayed,
# each followed back to the bytes the proxy relayed; SIDE says whose
# port names the stream's client: client (traced client) or proxy
# (traced server, the proxy its client). With PORT, the server has other
# connections (its own, other clients'): each one the proxy made must be
# exactly one stream.
judge_relayed()
{
	local pcap=$1 px=$dir/$2.px side=$3 port=${4:-} n i cport pport c k

	[ -s "$pcap" ] || { echo "no capture $pcap"; return 1; }
	n=$(proxy_conns "$2")
	[ "$n" -gt 0 ] || { echo "the proxy saw no connection"; return 1; }
	pkts_of "$pcap" "$dir/$2.pkts"
	if [ -z "$port" ]; then
		judge_streams "$pcap" "$n" || return 1
	else
		while read -r i cport pport; do
			k=$(awk -v a="127.0.0.1:$pport" '$3 == 1 && $4 == 0 &&
			    $8 == a' "$dir/$2.pkts" | wc -l)
			[ "$k" = 1 ] || { echo "$k streams from the proxy's" \
			    "port $pport, expected 1"; return 1; }
		done <"$px/conns"
	fi
	while read -r i cport pport; do
		[ "$side" = client ] && c=127.0.0.1:$cport
		[ "$side" = proxy ] && c=127.0.0.1:$pport
		echo "$(stream_from "$dir/$2.pkts" "$c") $c $px/$i.c2s $px/$i.s2c"
	done <"$px/conns" >"$dir/$2.streams"
	judge_follow_streams "$pcap" <"$dir/$2.streams"
}

# Judge: the traces with prefix P on 127.0.0.1 number N, each of ROLE
# and ending with a closed event; with PORT, those whose local port it
# is. With "sockets", N counts sockets (inodes), not traces: a forking
# server's parent and child each write their piece of a connection.
judge_roles()
{
	local p=$1 n=$2 role=$3 port=${4:-} per=${5:-traces} f

	rm -f "$dir/info.txt"
	for f in $(traces_of "$p"); do
		tool info "$f" >>"$dir/info.txt" || return 1
	done
	[ -e "$dir/info.txt" ] || { echo "no traces ${p}_*"; return 1; }
	awk -F'\t' -v n="$n" -v role="$role" -v port="$port" -v per="$per" '
	    $3 ~ /^127\.0\.0\.1:/ && (port == "" ||
		$3 == "127.0.0.1:" port) &&
		(per == "traces" || ($5 != "none" && !seen[$6]++)) { k++
		if ($2 != role) { print $1 ": " $2 ", expected " role; bad = 1 }
		if ($5 != "closed") { print $1 ": ends with " $5; bad = 1 } }
	    END { if (k != n) { print k + 0 " " per ", expected " n; bad = 1 }
		exit bad }' "$dir/info.txt"
}

# Judge: of the traces with prefix P that hold events, those of PROCESS
# (its exe's name) number N, each of ROLE: judge_inherited P PROCESS N
# ROLE.
judge_inherited()
{
	local p=$1 exe=$2 n=$3 role=$4 f k=0

	for f in $(traces_of "$p"); do
		"$PROTOC" --proto_path="$top_srcdir/proto" \
		    --decode=tapshim.trace.TraceWrapper tapshim.proto <"$f" \
		    2>/dev/null | grep -q "exe: \".*/$exe\"" || continue
		tool info "$f" | awk -F'\t' -v role="$role" '
		    $2 != role { print $1 ": " $2 ", expected " role; exit 1 }
		    ' || return 1
		k=$((k + 1))
	done
	[ "$k" = "$n" ] && return 0
	echo "$k traces of $exe, expected $n"
	return 1
}

# The four judgements of a traced client case NAME that made N
# connections through its proxy.
judge_client()
{
	local name=$1 n=$2 per=${3:-traces}

	rcheck "$name: output" judge_unchanged "$name"
	rcheck "$name: traces" judge_roles "$dir/tr/$name" "$n" ROLE_CLIENT \
	    "" "$per"
	rcheck "$name: bytes" judge_relayed "$dir/$name.pcap" "$name" client
	rcheck "$name: expert" judge_expert "$dir/$name.pcap"
}

# The judgements of a traced server case NAME, its N connections through
# proxy NAME; with PORT, the connections to that port (the server's).
judge_server()
{
	local name=$1 n=$2 port=${3:-} per=${4:-traces}

	rcheck "$name: traces" judge_roles "$dir/tr/$name" "$n" ROLE_SERVER \
	    "$port" "$per"
	rcheck "$name: bytes" judge_relayed "$dir/$name.pcap" "$name" proxy \
	    "$port"
	rcheck "$name: expert" judge_expert "$dir/$name.pcap"
}

# Write an nginx configuration into DIR/nginx.conf: LISTEN lines given
# as server blocks' listen parameters; TLS keys from $tmp.
nginx_conf()
{
	local ng=$1 master=$2 l

	shift 2
	mkdir -p "$ng"
	{
		echo "daemon off; master_process $master; worker_processes 1;"
		echo "pid $ng/nginx.pid; error_log $ng/error.log;"
		echo "events { worker_connections 256; }"
		echo "http { access_log off; sendfile on;"
		for l in body proxy fastcgi uwsgi scgi; do
			echo "${l}_temp_path $ng/$l;" |
			    sed 's/^body_/client_body_/'
		done
		for l in "$@"; do
			echo "server { listen $l; root $tmp/www;"
			echo "ssl_certificate $tmp/cert.pem;"
			echo "ssl_certificate_key $tmp/key.pem; }"
		done
		echo "}"
	} >"$ng/nginx.conf"
}

# Wait until nginx in DIR has written its pid file.
nginx_ready()
{
	wait_for "$1/nginx.pid" '[0-9]' >/dev/null
}

# The suite's untraced web server: nginx on $web (HTTP/1.1), $web2
# (HTTP/2, prior knowledge) and $webs (TLS).
web_start()
{
	web=$(free_port) web2=$(free_port) webs=$(free_port)
	nginx_conf "$tmp/web" off "127.0.0.1:$web" "127.0.0.1:$web2 http2" \
	    "127.0.0.1:$webs ssl"
	# Not a job of this shell: run_cases waits for those.
	( "$NGINX" -p "$tmp/web" -e "$tmp/web/error.log" \
	    -c "$tmp/web/nginx.conf" >"$tmp/web/log" 2>&1 & )
	dir=$tmp nginx_ready "$tmp/web"
}

case_curl()
{
	local p=$(free_port)

	client_runs curl "$p" "$web" 1 curl -sS \
	    "http://127.0.0.1:$p/blob.bin" "http://127.0.0.1:$p/index.html"
	judge_client curl 1
}

case_curlh2()
{
	local p=$(free_port)

	client_runs curlh2 "$p" "$web2" 1 curl -sS --http2-prior-knowledge \
	    "http://127.0.0.1:$p/blob.bin"
	judge_client curlh2 1
}


# Start CMD... in the background as NAME (NAME.out, NAME.err; the pid
# in NAME.pid), stopped at the case's end if still running.
bg()
{
	local name=$1

	shift
	"$@" >"$dir/$name.out" 2>"$dir/$name.err" &
	echo $! >"$dir/$name.pid"
	servers+=($!)
}

# Start server CMD... traced through the launcher as NAME, in the
# background: traces $dir/tr/NAME_N.pb, the capture $dir/NAME.pcap.
bg_traced()
{
	local name=$1

	shift
	# Not under timeout(1): its TERM would reach the whole group, the
	# launcher twice. bg_wait bounds the wait.
	bg "$name" "$TAPSHIM_PROG" -q -o "$dir/tr/$name" \
	    -w "$dir/$name.pcap" -- "$@"
}

# Wait (10 s) for a TCP (or, with -u, UDP) socket listening on PORT.
wait_port()
{
	local i t=-t

	[ "$1" = -u ] && { t=-u; shift; }
	for i in $(seq 100); do
		[ -n "$(ss -Hln $t "sport = :$1" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	echo "nothing listens on port $1"
	return 1
}

# Wait (60 s) for background NAME to end, then TERM it; its status in
# NAME.rc.
bg_wait()
{
	local pid i

	pid=$(cat "$dir/$1.pid")
	for i in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid"
	echo $? >"$dir/$1.rc"
}

# TERM background NAME (the launcher passes it on), and wait for it.
bg_stop()
{
	kill -TERM "$(cat "$dir/$1.pid")" 2>/dev/null
	bg_wait "$1"
}

# Judge: FILE holds exactly TEXT (printf's escapes).
judge_text()
{
	# shellcheck disable=SC2059
	printf "$2" | cmp -s - "$1" && return 0
	echo "$1 holds:"
	head -c 400 "$1" | cat -v
	return 1
}

# Judge: in capture PCAP, tshark decodes exactly one HTTP request (a
# request recorded twice decodes as two).
judge_once()
{
	local pcap=$1 n

	ts_out "$pcap.req" -r "$pcap" -Y http.request -T fields \
	    -e frame.number || return 1
	n=$(wc -l <"$pcap.req")
	[ "$n" = 1 ] && return 0
	echo "$n HTTP requests in the capture, expected 1"
	return 1
}

# A python3 client script that sends DATA and prints what comes back:
# py_echo PORT DATA.
py_echo()
{
	"$SYSPY" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode())
s.shutdown(socket.SHUT_WR)
out = b""
while True:
	b = s.recv(65536)
	if not b:
		break
	out += b
sys.stdout.buffer.write(out)' "$@"
}

case_curltls()
{
	local p=$(free_port)

	client_runs curltls "$p" "$webs" 1 curl -sSk --trace \
	    "$dir/curltls.trace" "https://127.0.0.1:$p/blob.bin"
	rcheck "curltls: output" judge_unchanged curltls
	rcheck "curltls: traces" judge_roles "$dir/tr/curltls" 1 ROLE_CLIENT
	tool curl "$dir/curltls.trace" "$dir/curltls.c2s" "$dir/curltls.s2c"
	rcheck "curltls: bytes (curl's --trace)" judge_follow \
	    "$dir/curltls.pcap" "" 0 "$dir/curltls.c2s" "$dir/curltls.s2c"
	rcheck "curltls: expert" judge_expert "$dir/curltls.pcap"
}

case_wget()
{
	local p=$(free_port)

	need wget || return 0
	client_runs wget "$p" "$web" 1 wget -q -O - \
	    "http://127.0.0.1:$p/blob.bin"
	judge_client wget 1
	p=$(free_port)
	client_runs wgettls "$p" "$webs" 1 wget -q --no-check-certificate \
	    -O - "https://127.0.0.1:$p/blob.bin"
	rcheck "wgettls: output" judge_unchanged wgettls
	rcheck "wgettls: traces" judge_roles "$dir/tr/wgettls" 1 ROLE_CLIENT
	rcheck "wgettls: one GET" judge_once "$dir/wgettls.pcap"
	rcheck "wgettls: expert" judge_expert "$dir/wgettls.pcap"
}

case_pyurllib()
{
	local p=$(free_port)

	client_runs pyurllib "$p" "$web" 1 "$SYSPY" -c 'import sys, urllib.request
sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())' \
	    "http://127.0.0.1:$p/blob.bin"
	judge_client pyurllib 1
}

case_pyrequests()
{
	local p=$(free_port)

	"$SYSPY" -c 'import requests' 2>/dev/null || { need python3-requests;
	    return 0; }
	client_runs pyrequests "$p" "$web" 1 "$SYSPY" -c 'import sys, requests
s = requests.Session()
for path in ("blob.bin", "index.html", "blob.bin"):
	sys.stdout.buffer.write(s.get(sys.argv[1] + path).content)' \
	    "http://127.0.0.1:$p/"
	judge_client pyrequests 1
}

case_pyasyncio()
{
	local p=$(free_port)

	client_runs pyasyncio "$p" "$web" 4 "$SYSPY" -c 'import asyncio, sys
async def get(path):
	r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]))
	w.write(b"GET /" + path + b" HTTP/1.0\r\nHost: x\r\n\r\n")
	data = await r.read()
	w.close()
	await w.wait_closed()
	return data.split(b"\r\n\r\n", 1)[1]
async def main():
	got = await asyncio.gather(*[get(p) for p in [b"blob.bin", b"index.html"] * 2])
	sys.stdout.buffer.write(b"".join(got))
asyncio.run(main())' "$p"
	judge_client pyasyncio 4
}

# asyncio over TLS: ssl.SSLObject, its records moved through memory BIOs.
case_pyasynciotls()
{
	local p=$(free_port)

	printf 'GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n' \
	    >"$dir/pyasynciotls.c2s"
	client_runs pyasynciotls "$p" "$webs" 1 "$SYSPY" -c 'import asyncio, ssl, sys
async def main():
	ctx = ssl.create_default_context()
	ctx.check_hostname = False
	ctx.verify_mode = ssl.CERT_NONE
	r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]), ssl=ctx)
	w.write(open(sys.argv[2], "rb").read())
	data = await r.read()
	w.close()
	await w.wait_closed()
	open(sys.argv[3], "wb").write(data)
	sys.stdout.buffer.write(data.split(b"\r\n\r\n", 1)[1])
asyncio.run(main())' "$p" "$dir/pyasynciotls.c2s" "$dir/pyasynciotls.s2c"
	rcheck "pyasynciotls: output" judge_unchanged pyasynciotls
	rcheck "pyasynciotls: traces" judge_roles "$dir/tr/pyasynciotls" 1 \
	    ROLE_CLIENT
	rcheck "pyasynciotls: bytes (the plaintext asyncio moved)" \
	    judge_follow "$dir/pyasynciotls.pcap" "" 0 \
	    "$dir/pyasynciotls.c2s" "$dir/pyasynciotls.s2c"
	rcheck "pyasynciotls: expert" judge_expert "$dir/pyasynciotls.pcap"
}

case_pythreads()
{
	local p=$(free_port)

	client_runs pythreads "$p" "$web" 64 "$SYSPY" -c 'import sys, hashlib
import urllib.request
from concurrent.futures import ThreadPoolExecutor
def get(i):
	return hashlib.sha1(urllib.request.urlopen(sys.argv[1]).read()).hexdigest()
with ThreadPoolExecutor(32) as ex:
	print(sorted(ex.map(get, range(64))))' "http://127.0.0.1:$p/blob.bin"
	judge_client pythreads 64
}

case_pyfork()
{
	local p=$(free_port) q=$(free_port) i

	bg_traced pyfork "$SYSPY" -c 'import socketserver, sys
class H(socketserver.StreamRequestHandler):
	def handle(self):
		self.wfile.write(self.rfile.read().upper())
s = socketserver.ForkingTCPServer(("127.0.0.1", int(sys.argv[1])), H)
for i in range(3):
	s.handle_request()
s.server_close()' "$q"
	wait_port "$q" || return
	proxy_start pyfork "$p" "$q"
	for i in 1 2 3; do
		py_echo "$p" "hello $i" >"$dir/c$i.got"
	done
	proxy_stop pyfork 3
	bg_wait pyfork
	rcheck "pyfork: the clients' answers" judge_text "$dir/c3.got" 'HELLO 3'
	judge_server pyfork 3 "" sockets
	# shellcheck disable=SC2046
	rcheck "pyfork: the parent's close says the socket is shared" \
	    judge_closed "$dir/tr/pyfork" 'shared: true'
	rcheck "pyfork: a FIN each way, at the child's close, not the parent's" \
	    judge_fins "$dir/pyfork.pkts" $(cut -d' ' -f1 "$dir/pyfork.streams")
}

case_ruby()
{
	local p=$(free_port)

	need ruby || return 0
	client_runs ruby "$p" "$web" 1 ruby -rnet/http -e \
	    'print Net::HTTP.get(URI(ARGV[0]))' "http://127.0.0.1:$p/blob.bin"
	judge_client ruby 1
}

case_perl()
{
	local p=$(free_port)

	client_runs perl "$p" "$web" 1 perl -MIO::Socket::INET -e '
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]",
    Timeout => 5) or die "connect: $@";
print $s "GET /blob.bin HTTP/1.0\r\n\r\n";
binmode STDOUT; my $b; print $b while read($s, $b, 65536);' "$p"
	judge_client perl 1
}

case_redis()
{
	local p=$(free_port) q=$(free_port) r=$(free_port)

	need redis-server redis-cli || return 0
	bg redis redis-server --port "$q" --bind 127.0.0.1 --save '' \
	    --appendonly no --dir "$dir"
	wait_port "$q" || return
	client_runs rediscli "$p" "$q" 1 redis-cli -p "$p" eval \
	    'redis.call("set", KEYS[1], ARGV[1]); return redis.call("get", KEYS[1])' \
	    1 k "$(head -c 3000 "$tmp/www/blob.bin" | od -An -tx1 | tr -d ' \n')"
	judge_client rediscli 1
	printf 'SET a 1\r\nINCR a\r\nQUIT\r\n' >"$dir/redis.in"
	py_echo "$q" "$(cat "$dir/redis.in")" >"$dir/redis-plain.got"
	kill "$(cat "$dir/redis.pid")"
	bg_traced redisd redis-server --port "$r" --bind 127.0.0.1 --save '' \
	    --appendonly no --dir "$dir"
	wait_port "$r" || return
	proxy_start redisd "$p" "$r"
	py_echo "$p" "$(cat "$dir/redis.in")" >"$dir/redisd.got"
	redis-cli -p "$p" shutdown nosave >/dev/null 2>&1
	proxy_stop redisd 2
	bg_wait redisd
	rcheck "redisd: the client's answers as untraced" judge_same \
	    "$dir/redis-plain.got" "$dir/redisd.got"
	judge_server redisd 2 "$r"
}

case_postgres()
{
	local p=$(free_port) q=$(free_port) pg=$dir/pg bin

	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
	[ -x "$bin/postgres" ] || { need postgres; return 0; }
	need psql runuser && need_root || return 0
	# The server runs as postgres: it writes its traces and capture.
	mkdir -p "$pg"
	chmod 1777 "$dir" "$dir/tr"
	chown postgres "$pg"
	runuser -u postgres -- "$bin/initdb" -D "$pg/data" -A trust \
	    -U postgres >"$dir/initdb.log" 2>&1 ||
	    { echo "not ok - postgres: initdb"; return; }
	bg pgd runuser -u postgres -- timeout 120 "$TAPSHIM_PROG" -q \
	    -o "$dir/tr/pgd" -w "$dir/tr/pgd.pcap" -- "$bin/postgres" \
	    -D "$pg/data" -k "$pg" -p "$q" -c listen_addresses=127.0.0.1
	wait_port "$q" || return
	client_runs psql "$p" "$q" 1 psql -X -h 127.0.0.1 -p "$p" -U postgres \
	    -Atc 'select repeat($$ab$$, 3000), 6 * 7'
	judge_client psql 1
	proxy_start pgd "$p" "$q"
	run pgq psql -X -h 127.0.0.1 -p "$p" -U postgres -Atc 'select 6 * 7'
	proxy_stop pgd 1
	runuser -u postgres -- "$bin/pg_ctl" -D "$pg/data" stop -m fast \
	    >/dev/null 2>&1
	bg_wait pgd
	cp "$dir/tr/pgd.pcap" "$dir/pgd.pcap" 2>/dev/null
	rcheck "pgd: psql's answer" judge_text "$dir/pgq.out" '42\n'
	judge_server pgd 3 "$q" sockets
}

case_socat()
{
	local p=$(free_port) q=$(free_port) u

	need socat || return 0
	client_runs socattcp "$p" "$web" 1 sh -c "printf 'GET /blob.bin \
HTTP/1.0\r\n\r\n' | socat - TCP:127.0.0.1:$p"
	judge_client socattcp 1

	# UDP: an untraced echo server, a traced client.
	u=$(free_port)
	bg udpecho socat UDP-RECVFROM:"$u",bind=127.0.0.1,fork EXEC:cat
	wait_port -u "$u" || return
	run socatudp-plain sh -c "printf 'ping\n' | socat -t 1 - UDP:127.0.0.1:$u"
	traced socatudp sh -c "printf 'ping\n' | socat -t 1 - UDP:127.0.0.1:$u"
	rcheck "socatudp: output" judge_unchanged socatudp
	rcheck "socatudp: traces" judge_roles "$dir/tr/socatudp" 1 ROLE_CLIENT
	rcheck "socatudp: the datagrams: ping and its echo" judge_udp \
	    "$dir/socatudp.pcap" '70696e670a 70696e670a'
	rcheck "socatudp: expert" judge_expert_udp "$dir/socatudp.pcap"

	# fork: each connection's child relays it to nginx.
	bg_traced socatfork socat TCP-LISTEN:"$q",bind=127.0.0.1,reuseaddr,fork \
	    TCP:127.0.0.1:"$web"
	wait_port "$q" || return
	proxy_start socatfork "$p" "$q"
	for u in 1 2 3; do
		curl -sS -o "$dir/f$u.got" "http://127.0.0.1:$p/blob.bin"
	done
	proxy_stop socatfork 3
	bg_stop socatfork
	rcheck "socatfork: the clients' files" judge_same "$tmp/www/blob.bin" \
	    "$dir/f3.got"
	judge_server socatfork 3 "$q" sockets

	# EXEC,nofork: cat reads and writes the socket socat accepted.
	q=$(free_port)
	bg_traced socatexec socat TCP-LISTEN:"$q",bind=127.0.0.1,reuseaddr \
	    EXEC:cat,nofork
	wait_port "$q" || return
	proxy_start socatexec "$p" "$q"
	py_echo "$p" "echo me" >"$dir/e.got"
	proxy_stop socatexec 1
	bg_wait socatexec
	rcheck "socatexec: the echo" judge_text "$dir/e.got" 'echo me'
	rcheck "socatexec: cat's fd 0 and 1: one trace, the server's" \
	    judge_inherited "$dir/tr/socatexec" cat 1 ROLE_SERVER
	judge_server socatexec 1 "$q" sockets
}

# Judge: capture PCAP (UDP: its expert info may be empty) has no expert
# warning or error.
judge_expert_udp()
{
	ts_out "$1.z" -r "$1" -q -z expert || return 1
	grep -Eq '^(Errors|Warns) \(' "$1.z" || return 0
	cat "$1.z"
	return 1
}

# Judge: capture PCAP's UDP payloads are, in hex, the WANT given.
judge_udp()
{
	local got

	got=$(ts -r "$1" -Y udp -T fields -e udp.payload 2>/dev/null |
	    tr -d ':' | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$2" ] && return 0
	echo "UDP payloads '$got', expected '$2'"
	return 1
}

case_openssl()
{
	local p=$(free_port) q=$(free_port) k=(-cert "$tmp/cert.pem"
	    -key "$tmp/key.pem")

	# s_server -rev sends each line back reversed.
	bg_traced sserver openssl s_server -accept 127.0.0.1:"$q" "${k[@]}" \
	    -naccept 1 -rev
	wait_port "$q" || return
	(printf 'hello\n'; sleep 1) | openssl s_client -quiet -no_ign_eof \
	    -connect 127.0.0.1:"$q" >"$dir/sclient.got" 2>/dev/null
	bg_wait sserver
	printf 'hello\n' >"$dir/ssl.c2s"
	printf 'olleh\n' >"$dir/ssl.s2c"
	rcheck "sserver: the client got the line reversed" judge_same \
	    "$dir/ssl.s2c" "$dir/sclient.got"
	rcheck "sserver: traces" judge_roles "$dir/tr/sserver" 1 ROLE_SERVER
	rcheck "sserver: bytes (the peers' own)" judge_follow \
	    "$dir/sserver.pcap" "" 0 "$dir/ssl.c2s" "$dir/ssl.s2c"
	rcheck "sserver: expert" judge_expert "$dir/sserver.pcap"

	bg sserver2 openssl s_server -accept 127.0.0.1:"$q" "${k[@]}" \
	    -naccept 1 -rev
	wait_port "$q" || return
	traced sclient sh -c "(printf 'hello\n'; sleep 1) | openssl s_client \
-quiet -no_ign_eof -connect 127.0.0.1:$q 2>/dev/null"
	bg_wait sserver2
	rcheck "sclient: output" judge_same "$dir/ssl.s2c" "$dir/sclient.out"
	rcheck "sclient: traces" judge_roles "$dir/tr/sclient" 1 ROLE_CLIENT
	rcheck "sclient: bytes (the peers' own)" judge_follow \
	    "$dir/sclient.pcap" "" 0 "$dir/ssl.c2s" "$dir/ssl.s2c"
	rcheck "sclient: expert" judge_expert "$dir/sclient.pcap"
}

case_gnutls()
{
	local p=$(free_port)

	need gnutls-cli || return 0
	printf 'GET /index.html HTTP/1.0\r\n\r\n' >"$dir/get.txt"
	proxy_start gnutls "$p" "$webs"
	traced gnutls sh -c "gnutls-cli --insecure -p $p 127.0.0.1 \
<$dir/get.txt 2>/dev/null | grep -x hello"
	proxy_stop gnutls 1
	rcheck "gnutls: output: the page" judge_text "$dir/gnutls.out" 'hello\n'
	rcheck "gnutls: traces" judge_roles "$dir/tr/gnutls" 1 ROLE_CLIENT
	rcheck "gnutls: one GET" judge_once "$dir/gnutls.pcap"
	rcheck "gnutls: expert" judge_expert "$dir/gnutls.pcap"
}

# nginx traced, run as root by the launcher: the master as root, its
# worker as nobody; two curls through the proxy, then nginx -s quit.
case_nginxroot()
{
	local p=$(free_port) q=$(free_port) ng=$dir/ng

	need_root || return 0
	nginx_conf "$ng" on "127.0.0.1:$q"
	sed -i '1s/^/user nobody nogroup; /' "$ng/nginx.conf"
	bg_traced nginxroot "$NGINX" -p "$ng" -e "$ng/error.log" \
	    -c "$ng/nginx.conf"
	wait_port "$q" || return
	chmod 755 "$dir" "$tmp"
	proxy_start nginxroot "$p" "$q"
	curl -sS -o "$dir/n1.got" "http://127.0.0.1:$p/blob.bin"
	curl -sS -o "$dir/n2.got" "http://127.0.0.1:$p/index.html"
	proxy_stop nginxroot 2
	kill -QUIT "$(cat "$ng/nginx.pid")"
	bg_wait nginxroot
	rcheck "nginxroot: the files" judge_same "$tmp/www/blob.bin" \
	    "$dir/n1.got"
	judge_server nginxroot 2 "$q"
	rcheck "nginxroot: the worker's traces, PREFIX_N.pb, 0600" \
	    judge_moved "$dir/tr/nginxroot" 2
	# Without the launcher, a user that cannot write there is told how.
	run nobody setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    env LD_PRELOAD="$LIBTAPSHIM" TAPSHIM_PATH_PREFIX="$dir/tr/nobody" \
	    curl -sS -o /dev/null "http://127.0.0.1:$web/index.html"
	rcheck "nginxroot: a user who cannot write the prefix is told what to do" \
	    grep -q 'cannot write there: run it under tapshim(1) as root' \
	    "$dir/nobody.err"
}

# Judge: the run's traces with prefix P are P_0.pb .. P_(N-1).pb at
# least, each mode 0600.
judge_moved()
{
	local p=$1 n=$2 i m

	for ((i = 0; i < n; i++)); do
		m=$(stat -c %a "${p}_$i.pb" 2>/dev/null)
		[ "$m" = 600 ] && continue
		echo "${p}_$i.pb: mode '$m', expected 600"
		return 1
	done
}

# ab's report, less its timings.
ab_report()
{
	grep -E '^(Complete|Failed|Non-2xx|Document Length|Total transferred)' \
	    "$1"
}

case_ab()
{
	local p=$(free_port) q=$(free_port) ng=$dir/ng

	need ab || return 0
	client_runs ab "$p" "$web" 20 ab -q -n 20 -c 4 \
	    "http://127.0.0.1:$p/index.html"
	for n in ab ab-plain; do
		ab_report "$dir/$n.out" >"$dir/$n.sum"
		: >"$dir/$n.out"
	done
	rcheck "ab: its report as untraced" judge_same "$dir/ab-plain.sum" \
	    "$dir/ab.sum"
	# ab -c 4 may open a connection more than it has requests (21 for
	# 20, now and then): the traces are judged against what the proxy
	# saw.
	judge_client ab "$(proxy_conns ab)"

	nginx_conf "$ng" off "127.0.0.1:$q"
	bg_traced abnginx "$NGINX" -p "$ng" -e "$ng/error.log" \
	    -c "$ng/nginx.conf"
	wait_port "$q" || return
	proxy_start abnginx "$p" "$q"
	ab -q -n 20 -c 4 "http://127.0.0.1:$p/blob.bin" >"$dir/abn.out"
	proxy_stop abnginx 20
	kill -QUIT "$(cat "$ng/nginx.pid")"
	bg_wait abnginx
	rcheck "abnginx: 20 requests, none failed" grep -q \
	    '^Complete requests: *20$' "$dir/abn.out"
	judge_server abnginx "$(proxy_conns abnginx)"
}

case_git()
{
	local p=$(free_port) q=$(free_port) r=$dir/repos/r.git

	mkdir -p "$dir/src"
	git init -q "$dir/src" && cp "$tmp/www/blob.bin" "$dir/src/" &&
	    git -C "$dir/src" add blob.bin &&
	    git -C "$dir/src" -c user.name=t -c user.email=t@t commit -qm one &&
	    git clone -q --bare "$dir/src" "$r" ||
	    { echo "not ok - git: a repository to serve"; return; }
	bg_traced gitd git daemon --export-all --base-path="$dir/repos" \
	    --listen=127.0.0.1 --port="$q" --reuseaddr
	wait_port "$q" || return
	proxy_start gitd "$p" "$q"
	run gitclone git clone -q "git://127.0.0.1:$p/r.git" "$dir/clone"
	proxy_stop gitd 1
	bg_stop gitd
	rcheck "gitd: the clone" judge_same "$tmp/www/blob.bin" \
	    "$dir/clone/blob.bin"
	rcheck "gitd: upload-pack's fd 0 and 1: one trace, the server's" \
	    judge_inherited "$dir/tr/gitd" git 1 ROLE_SERVER
	judge_server gitd 1 "$q" sockets
}

case_memcached()
{
	local p=$(free_port) q=$(free_port)

	need memcached && need_root || return 0
	bg_traced memcached memcached -u nobody -l 127.0.0.1 -p "$q" -U 0
	wait_port "$q" || return
	proxy_start memcached "$p" "$q"
	py_echo "$p" "$(printf 'set k 0 0 5\r\nhello\r\nget k\r\nquit\r\n')" \
	    >"$dir/m.got"
	proxy_stop memcached 1
	bg_stop memcached
	rcheck "memcached: the answers" judge_text "$dir/m.got" \
	    'STORED\r\nVALUE k 0 5\r\nhello\r\nEND\r\n'
	judge_server memcached 1
}

case_dig()
{
	local port

	need dig || return 0
	"$PYTHON" "$top_srcdir/tests/shim/dnsserver.py" "$dir/dns.port" 2 30 \
	    fixed >/dev/null 2>&1 &
	servers+=($!)
	for port in $(seq 100); do
		[ -s "$dir/dns.port" ] && break
		sleep 0.1
	done
	port=$(cat "$dir/dns.port")
	run dig-plain dig @127.0.0.1 -p "$port" +short +tries=1 real.test
	traced dig dig @127.0.0.1 -p "$port" +short +tries=1 real.test
	rcheck "dig: output" judge_unchanged dig
	rcheck "dig: traces" judge_roles "$dir/tr/dig" 1 ROLE_CLIENT
	rcheck "dig: the answer decoded" judge_dns "$dir/dig.pcap"
	rcheck "dig: expert" judge_expert_udp "$dir/dig.pcap"
}

# Judge: capture PCAP holds one DNS query and its answer 192.0.2.1.
judge_dns()
{
	local got

	got=$(ts -r "$1" -Y dns -T fields -e dns.flags.response -e dns.a \
	    2>/dev/null | tr '\t' , | paste -sd ';')
	[ "$got" = "0,;1,192.0.2.1" ] && return 0
	echo "DNS decodes as '$got'"
	return 1
}

# Judge: the launcher's summary, run NAME's stderr, counts WANT bytes
# sent as lost, moved by calls the shim cannot see.
judge_unseen()
{
	grep -Eq "^tapshim: lost $2 bytes sent, 0 bytes received: unseen_calls$" \
	    "$dir/$1.err" && return 0
	echo "the summary does not count $2 bytes sent as lost:"
	cat "$dir/$1.err"
	return 1
}

# Judge: protoc decodes one of the traces with prefix P to a closed
# event holding each of the lines given ("shared: true").
judge_closed()
{
	local p=$1 f line

	shift
	for f in $(traces_of "$p"); do
		"$PROTOC" --proto_path="$top_srcdir/proto" \
		    --decode=tapshim.trace.TraceWrapper tapshim.proto <"$f" \
		    2>/dev/null | sed -n '/closed {/,/}/p' >"$dir/closed.txt"
		for line in "$@"; do
			grep -qx " *$line" "$dir/closed.txt" || continue 2
		done
		return 0
	done
	echo "no closed event of ${p}_* holds: $*"
	return 1
}

# Judge: capture PCAP shows the bytes no hook saw as a gap in the
# sequence numbers before the FIN (tshark: a previous segment not
# captured), the FIN where the kernel sent it.
judge_gap()
{
	ts_out "$1.gap" -r "$1" -q -z expert || return 1
	grep -q 'Previous segment(s) not captured' "$1.gap" && return 0
	echo "no sequence gap in $1:"
	cat "$1.gap"
	return 1
}

# bash's /dev/tcp: printf writes the request through stdio, cat reads the
# answer from the socket it inherits as fd 0, bash closes it.
case_bashtcp()
{
	local p=$(free_port) req='GET /index.html HTTP/1.0\r\n\r\n'

	client_runs bashtcp "$p" "$web" 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p
printf '$req' >&3; cat <&3; exec 3<&-"
	judge_client bashtcp 1 sockets
	rcheck "bashtcp: cat's fd 0: the client's" \
	    judge_inherited "$dir/tr/bashtcp" cat 1 ROLE_CLIENT
	proxy_start bashsum "$p" "$web"
	run bashsum "$TAPSHIM_PROG" -o "$dir/tr/bashsum" -- bash -c \
	    "exec 3<>/dev/tcp/127.0.0.1/$p; printf '$req' >&3; cat <&3 >/dev/null
exec 3<&-"
	proxy_stop bashsum 1
	rcheck "bashtcp: the summary counts printf's bytes as lost" \
	    judge_unseen bashsum 28
	rcheck "bashtcp: the capture shows them as a sequence gap" \
	    judge_gap "$dir/bashtcp.pcap"
}

# A C program that writes its request with fdopen and fprintf.
case_stdio()
{
	local p=$(free_port)

	cat >"$dir/stdio.c" <<'EOF2'
/* Send an HTTP/1.0 request through stdio, copy the answer to stdout. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char buf[4096];
	ssize_t n;
	FILE *f;
	int s;

	(void)argc;
	sin.sin_port = htons(atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    (f = fdopen(s, "w")) == NULL)
		return 1;
	/* stdio writes through libc's own write: no hook sees it. */
	fprintf(f, "GET /index.html HTTP/1.0\r\n\r\n");
	fflush(f);
	while ((n = read(s, buf, sizeof buf)) > 0)
		fwrite(buf, 1, n, stdout);
	close(s);	/* not fclose(): its close is libc's own too */
	return 0;
}
EOF2
	"${CC:-cc}" -o "$dir/stdio" "$dir/stdio.c" ||
	    { echo "not ok - stdio: compiles"; return; }
	client_runs stdio "$p" "$web" 1 "$dir/stdio" "$p"
	judge_client stdio 1
	proxy_start stdiosum "$p" "$web"
	run stdiosum "$TAPSHIM_PROG" -o "$dir/tr/stdiosum" -- "$dir/stdio" "$p"
	proxy_stop stdiosum 1
	rcheck "stdio: the summary counts fprintf's bytes as lost" \
	    judge_unseen stdiosum 28
	rcheck "stdio: the capture shows them as a sequence gap" \
	    judge_gap "$dir/stdio.pcap"
	rcheck "stdio: the closed event has the kernel's counts" \
	    judge_closed "$dir/tr/stdiosum" 'kernel_received: 235' \
	    'kernel_sent: 28'
}
shim_setup "the real-program suite" "$TSHARK" "$PYTHON" "$NGINX" curl ss
# Servers run as other users (postgres, nobody) reach the files.
chmod 755 "$tmp"
mkdir -p "$tmp/www"
head -c 307200 /dev/urandom >"$tmp/www/blob.bin"
echo hello >"$tmp/www/index.html"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 2 \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
web_start
trap 'kill "$(cat "$tmp/web/nginx.pid")" 2>/dev/null; [ "${TAPSHIM_KEEP_TMP:-0}" = 1 ] ||
    rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086  # a list of cases
run_cases ${TAPSHIM_CASES:-curl curlh2 curltls wget pyurllib pyrequests pyasyncio pyasynciotls pythreads \
    pyfork ruby perl redis postgres socat openssl gnutls nginxroot ab git \
    memcached dig bashtcp stdio}
