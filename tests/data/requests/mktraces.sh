#!/usr/bin/env bash
# Make the request layer's golden traces: real programs (curl, python3,
# nginx) run once under tapshim against a local nginx, and the traces
# committed next to this script.  Not run by make check: the traces hold
# real times, so the golden outputs are made from these files.
#
#     tests/data/requests/mktraces.sh BUILDDIR
#
# Needs nginx, curl, openssl, python3 and python3-requests.

set -eu

build=$(cd "${1:?usage: mktraces.sh BUILDDIR}" && pwd)
out=$(cd "$(dirname "$0")" && pwd)
tapshim=$build/tools/tapshim/tapshim
export TAPSHIM_LIBRARY=$build/shim/.libs/libtapshim.so
work=$(mktemp -d /tmp/mktraces.XXXXXX)
trap 'rm -rf "$work"' EXIT

port_h1=18081 port_h2=18082 port_tls=18443 port_ws=18083 port_srv=18084
mkdir -p "$work/www/dav"
printf 'one\n' >"$work/www/a.txt"
printf 'two two\n' >"$work/www/b.txt"
seq 1 400 >"$work/www/c.txt"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

# nginx: HTTP/1.1 (gzip: chunked replies; WebDAV PUT: 100-continue),
# cleartext HTTP/2 with prior knowledge, and TLS with ALPN h2.
nginx_conf()
{
	cat <<NG
daemon off; master_process off; pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 256; }
http {
	access_log $work/access.log;
	client_body_temp_path $work/body; proxy_temp_path $work/proxy;
	fastcgi_temp_path $work/fastcgi; uwsgi_temp_path $work/uwsgi;
	scgi_temp_path $work/scgi;
	gzip on; gzip_types text/plain; gzip_min_length 0;
	server { listen 127.0.0.1:$port_h1; root $work/www;
		location /dav/ { dav_methods PUT; } }
	server { listen 127.0.0.1:$port_h2 http2; root $work/www; }
	server { listen 127.0.0.1:$port_tls ssl http2; root $work/www;
		ssl_certificate $work/cert.pem;
		ssl_certificate_key $work/key.pem; }
	server { listen 127.0.0.1:$port_srv; root $work/www; }
}
NG
}

nginx_start()
{
	rm -f "$work/nginx.pid"
	env "$@" nginx -p "$work" -e "$work/error.log" -c "$work/nginx.conf" &
	nginx=$!
	for _ in $(seq 50); do
		[ -s "$work/nginx.pid" ] && return 0
		sleep 0.1
	done
	echo "nginx did not start" >&2
	exit 1
}

nginx_stop()
{
	kill "$(cat "$work/nginx.pid")"
	wait "$nginx"
}

# trace NAME PROGRAM ARGS...: run under tapshim, keep NAME.pb.
trace()
{
	local name=$1

	shift
	rm -f "$work/t"_*.pb
	"$tapshim" -q -o "$work/t" -- "$@" >/dev/null 2>&1 || true
	[ "$(ls "$work/t"_*.pb | wc -l)" = 1 ] || {
		echo "$name: not one trace" >&2; exit 1; }
	cp "$work/t"_*.pb "$out/$name.pb"
}

nginx_conf >"$work/nginx.conf"
nginx_start
h1=http://127.0.0.1:$port_h1
trace keepalive curl -s "$h1/a.txt" "$h1/b.txt" "$h1/missing"
trace chunked curl -s --compressed "$h1/c.txt"
trace head curl -s -I "$h1/a.txt"
trace continue curl -s -H 'Expect: 100-continue' -T "$work/www/c.txt" \
    "$h1/dav/up.txt"
trace pipelined python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"".join(b"GET /%s HTTP/1.1\r\nHost: pipe\r\n\r\n" % p
    for p in (b"a.txt", b"b.txt", b"nothing")) +
    b"GET /a.txt HTTP/1.1\r\nHost: pipe\r\nConnection: close\r\n\r\n")
while s.recv(65536):
    pass
' "$port_h1"
trace h2c-upgrade curl -s --http2 "$h1/a.txt"
# (curl 7.88's second request on a prior-knowledge connection fails: one.)
trace h2-prior curl -s --http2-prior-knowledge "http://127.0.0.1:$port_h2/c.txt"
trace h2-tls curl -s -Z --http2 --cacert "$work/cert.pem" \
    "https://localhost:$port_tls/a.txt" "https://localhost:$port_tls/c.txt" \
    "https://localhost:$port_tls/b.txt" "https://localhost:$port_tls/none"
trace requests-tls /usr/bin/python3 -c '
import requests, sys
s = requests.Session()
for p in ("a.txt", "b.txt"):
    s.get("https://localhost:%s/%s" % (sys.argv[1], p),
          verify=sys.argv[2], headers={"Authorization": "Bearer sekrit"})
' "$port_tls" "$work/cert.pem"
nginx_stop

# A WebSocket upgrade: a small server answers 101, then binary frames.
python3 -c '
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(1)
c, _ = l.accept(); c.recv(4096)
c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    b"\x82\x05hello")
c.recv(4096); c.close()
' "$port_ws" &
ws=$!
sleep 0.5
trace websocket python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /chat HTTP/1.1\r\nHost: ws\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n")
s.recv(4096); s.sendall(b"\x82\x85abcd\x09\x07\x0f\x08\x0e"); s.close()
' "$port_ws"
wait $ws

# nginx traced as the server, under 4 parallel clients of 5 requests each.
rm -f "$work/t"_*.pb "$work/access.log"
nginx_start LD_PRELOAD="$build/shim/.libs/libtapshim.so" \
    TAPSHIM_PATH_PREFIX="$work/t"
srv=http://127.0.0.1:$port_srv
pids=
for i in 1 2 3 4; do
	curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
	    -o /dev/null "$srv/a.txt" "$srv/b.txt" "$srv/nope$i" \
	    "$srv/c.txt" "$srv/a.txt?i=$i" &
	pids="$pids $!"
done
# shellcheck disable=SC2086  # a list of pids
wait $pids
sleep 0.5
nginx_stop
rm -rf "$out/nginx-server"
mkdir "$out/nginx-server"
n=0
for f in "$work/t"_*.pb; do
	n=$((n + 1))
	cp "$f" "$out/nginx-server/$n.pb"
done
cut -d' ' -f6-9 "$work/access.log" | sort >"$out/nginx-server.access"
ls -l "$out"
