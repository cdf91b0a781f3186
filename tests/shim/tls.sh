#!/usr/bin/env bash
# TLS plaintext tracing: real TLS clients and servers, traced,
# judged by tshark through tap2pcap.
#
# Cases, each in its own scratch directory, against nginx (TLS, HTTP/2,
# plus a plain port) and openssl s_server, with a certificate the test
# makes:
#   curl       curl (HTTP/1.1) traced, nginx traced: the client's output
#              as untraced; both traces hold the request and the response
#              in plaintext (tshark follows them byte for byte, decodes
#              HTTP with -d tcp.port==PORT,http), and TLS metadata (SNI,
#              ALPN, cipher, certificate subject) in the connection.
#   http2      curl --http2 traced: HTTP/2 frames decoded, ALPN h2.
#   python     python3 urllib over ssl traced (libssl loaded RTLD_LOCAL).
#   sclient    openssl s_client traced against nginx.
#   sserver    openssl s_server traced, curl as its client.
#   wget       wget (GnuTLS) traced against nginx.
#   wgetonce   wget traced against a python3 TLS server answering after
#              500 ms: its request once in the trace (GnuTLS calls its
#              own gnutls_record_send2), exactly what the server got, the
#              response exactly (no session ticket records).
#   gnutlscli  gnutls-cli traced: its input once, exactly (skipped
#              without gnutls-cli).
#   pywait     python3 (OpenSSL, waiting in SSL_read_ex) against it: the
#              read's call time is at least 400 ms.
#   sdrain     a python3 server traced reads its socket raw after
#              SSL_shutdown (unwrap), as openssl s_server's drain does: a
#              TLS record read there is not plaintext; text after it is.
#   asyncio    python3 asyncio's TLS client (ssl.SSLObject, memory BIOs)
#              traced: the socket's trace holds the plaintext exactly and
#              the TLS metadata.
#   mixed      one python3 process with a TLS and a plain connection.
#   modes      TAPSHIM_TLS=ciphertext (TLS records), both (two traces),
#              and a bad value (one message, no traces, output as usual).
#   hsfail     curl traced, not trusting the certificate: it fails as
#              untraced, and the trace holds the handshake's error.
#   keylog     tcpdump on lo, curl traced with TAPSHIM_KEYLOG: tshark
#              decrypts the real capture with the key log.
#   decodeas   tap2pcap's decode hint and --decode-as file.
#
# Environment: as tests/shim.sh; TAPSHIM_CASES runs only some cases.
# Output: "ok - NAME" or "not ok - NAME" per check, then "N passed, N
# failed"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${CURL:=curl}"
: "${NGINX:=nginx}"
: "${OPENSSL:=openssl}"
: "${WGET:=wget}"
tmp=
dir=
servers=()

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"

need_tools "tls.sh" "$TSHARK" "$PROTOC" "$PYTHON" "$CURL" "$NGINX" \
    "$OPENSSL" "$WGET"
resolve_python

cleanup()
{
	local p

	for p in "${servers[@]}"; do
		kill "$p" 2>/dev/null
	done
	[ -z "$tmp" ] || [ "${TAPSHIM_KEEP_TMP:-0}" = 1 ] || rm -rf "$tmp"
}
trap cleanup EXIT

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tapshim-tls.XXXXXX") || exit 1

# shellcheck source-path=SCRIPTDIR source=tls-lib.sh
. "$top_srcdir/tests/shim/tls-lib.sh"

# curl (HTTP/1.1) traced against nginx traced.
case_curl()
{
	local u=https://localhost:$tls_port/blob.bin

	nginx_start "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/nginx" || return
	run_curl plain -- --http1.1 -o - "$u"
	run_curl c1 "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/curl" -- \
	    --http1.1 -o - "$u"
	check "curl: untraced output is the file" judge_got plain \
	    "$tmp/www/blob.bin"
	check "curl: traced output is the same" judge_got c1 \
	    "$tmp/www/blob.bin"
	check "curl: nginx traced: two traces (the untraced curl's too)" \
	    wait_traces "$dir/tr/nginx" 2
	server_stop
	check_ok "curl: one trace of curl" wait_traces "$dir/tr/curl" 1 ||
	    return
	check "curl: TLS metadata: SNI, ALPN, cipher, certificate, plaintext" \
	    judge_meta "$dir/tr/curl_0.pb" 'library: "OpenSSL' 'version: "TLS' \
	    'sni: "localhost"' 'alpn: "http/1.1"' 'cipher: "TLS_' \
	    'subject: "/CN=localhost"' 'handshake_end {' \
	    'data: TLS_DATA_PLAINTEXT' 'role: ROLE_CLIENT'
	check "nginx: TLS metadata: SNI, ALPN, cipher" judge_meta \
	    "$dir/tr/nginx_1.pb" 'sni: "localhost"' 'alpn: "http/1.1"' \
	    'cipher: "TLS_' 'role: ROLE_SERVER'
	convert curl "$dir/tr/curl_0.pb" &&
	    check "curl: tshark follows the plaintext, HTTP decoded" \
	    judge_plain curl "$tls_port" http client "GET /blob.bin HTTP/1.1" \
	    "$tmp/www/blob.bin" "$dir/tr/curl_0.pb"
	decode_as="tcp.port==$tls_port,http"
	check "curl: HTTP request and response decoded" judge_http \
	    "$dir/curl.pcap" "GET:/blob.bin:200"
	convert nginx "$dir/tr/nginx_1.pb" &&
	    check "nginx: tshark follows the plaintext, HTTP decoded" \
	    judge_plain nginx "$tls_port" http server \
	    "GET /blob.bin HTTP/1.1" "$tmp/www/blob.bin" "$dir/tr/nginx_1.pb"
	check "nginx: HTTP request and response decoded" judge_http \
	    "$dir/nginx.pcap" "GET:/blob.bin:200"
	decode_as=-
}

# Judge: HTTP/2 in PCAP: a GET of PATH answered 200, and DATA frames.
judge_h2()
{
	local out=$dir/h2.txt

	ts_out "$out" -r "$1" -Y http2 -T fields -e http2.type \
	    -e http2.headers.method -e http2.headers.path \
	    -e http2.headers.status || return 1
	grep -q "GET" "$out" && grep -qF "$2" "$out" &&
	    grep -q "200" "$out" && awk -F'\t' '$1 ~ /(^|,)0(,|$)/ { d = 1 }
	    END { exit !d }' "$out" && return 0
	echo "no HTTP/2 GET $2, 200 and DATA frames:"
	cat "$out"
	return 1
}

# curl --http2 traced against nginx traced.
case_http2()
{
	local u=https://localhost:$tls_port/blob.bin

	nginx_start "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/nginx" || return
	run_curl h2 "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/curl" -- \
	    --http2 -o - "$u"
	check "http2: traced curl's output is the file" judge_got h2 \
	    "$tmp/www/blob.bin"
	check "http2: nginx traced: one trace, closed" wait_traces \
	    "$dir/tr/nginx" 1
	server_stop
	check_ok "http2: one trace of curl" wait_traces "$dir/tr/curl" 1 ||
	    return
	check "http2: ALPN h2 in both traces" judge_meta "$dir/tr/curl_0.pb" \
	    'alpn: "h2"' && check "http2: nginx's too" judge_meta \
	    "$dir/tr/nginx_0.pb" 'alpn: "h2"'
	decode_as="tcp.port==$tls_port,http2"
	convert curl "$dir/tr/curl_0.pb" &&
	    check "http2: curl's trace: HTTP/2 frames decoded" judge_h2 \
	    "$dir/curl.pcap" /blob.bin
	check "http2: curl's trace: no expert warning" judge_expert \
	    "$dir/curl.pcap"
	convert nginx "$dir/tr/nginx_0.pb" &&
	    check "http2: nginx's trace: HTTP/2 frames decoded" judge_h2 \
	    "$dir/nginx.pcap" /blob.bin
	decode_as=-
}

# $dir/get.py: python3 urllib writing each URL's body to stdout, trusting
# the test's certificate.
py_client()
{
	cat >"$dir/get.py" <<EOF2
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile="$tmp/cert.pem")
for url in sys.argv[1:]:
    sys.stdout.buffer.write(urllib.request.urlopen(url, context=ctx).read())
EOF2
}

# python3 urllib over ssl: libssl comes with _ssl, loaded RTLD_LOCAL.
case_python()
{
	local u=https://localhost:$tls_port/blob.bin

	nginx_start || return
	py_client
	run py env "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/py" timeout 30 \
	    "$PYTHON" "$dir/get.py" "$u"
	server_stop
	check "python: traced output is the file" judge_got py \
	    "$tmp/www/blob.bin"
	check_ok "python: one trace" wait_traces "$dir/tr/py" 1 || return
	check "python: TLS metadata" judge_meta "$dir/tr/py_0.pb" \
	    'sni: "localhost"' 'subject: "/CN=localhost"'
	convert py "$dir/tr/py_0.pb" &&
	    check "python: tshark follows the plaintext" judge_plain py \
	    "$tls_port" http client "GET /blob.bin HTTP/1.1" \
	    "$tmp/www/blob.bin" "$dir/tr/py_0.pb"
}

# openssl s_client traced against nginx.
case_sclient()
{
	nginx_start || return
	# -ign_eof: s_client reads the whole answer, not just stdin.
	printf 'GET /hello.txt HTTP/1.0\r\nHost: localhost\r\n\r\n' \
	    >"$dir/req"
	run sc0 timeout 30 "$OPENSSL" s_client -quiet -ign_eof \
	    -connect "127.0.0.1:$tls_port" -servername localhost \
	    -CAfile "$tmp/cert.pem" <"$dir/req"
	run sc env "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/sc" timeout 30 \
	    "$OPENSSL" s_client -quiet -ign_eof \
	    -connect "127.0.0.1:$tls_port" -servername localhost \
	    -CAfile "$tmp/cert.pem" <"$dir/req"
	server_stop
	# The same, but for the Date header, when a second went by between.
	check "s_client: traced output as untraced, ending with the file" \
	    eval "judge_rc sc && cmp <(grep -v '^Date: ' $dir/sc0.out) \
	    <(grep -v '^Date: ' $dir/sc.out) &&
	    tail -c \$(wc -c <$tmp/www/hello.txt) $dir/sc.out |
	    cmp - $tmp/www/hello.txt"
	check_ok "s_client: one trace" wait_traces "$dir/tr/sc" 1 || return
	check "s_client: TLS metadata" judge_meta "$dir/tr/sc_0.pb" \
	    'sni: "localhost"' 'subject: "/CN=localhost"'
	convert sc "$dir/tr/sc_0.pb" &&
	    check "s_client: tshark follows the plaintext" judge_plain sc \
	    "$tls_port" http client "GET /hello.txt HTTP/1.0" \
	    "$tmp/www/hello.txt" "$dir/tr/sc_0.pb"
}

# openssl s_server traced (its own loop: SSL_read and SSL_write), a
# python3 client: each sends a line; the client closes once it has the
# server's. (-WWW and -rev go through BIO_f_ssl, which calls OpenSSL's
# internals directly: no hook sees that; see libtapshim(7).)
case_sserver()
{
	local port

	port=$(free_port)
	printf 'from-server\n' >"$dir/server.in"
	cat >"$dir/client.py" <<'EOF2'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1",
    int(sys.argv[1]))), server_hostname="localhost")
s.sendall(b"from-client\n")
got = b""
while not got.endswith(b"from-server\n"):
    d = s.recv(100)
    if not d:
        break
    got += d
sys.stdout.buffer.write(got)
s.close()
EOF2
	printf 'from-client\n' >"$dir/client.in"
	# Its input: a FIFO the test holds open, so it never sees the end
	# of its input (which would end the connection) while the client
	# talks.
	mkfifo "$dir/server.fifo" || return
	server_in=$dir/server.fifo server_start "$(lib)" \
	    TAPSHIM_PATH_PREFIX="$dir/tr/ss" timeout 30 "$OPENSSL" s_server \
	    -accept "$port" -cert "$tmp/cert.pem" -key "$tmp/key.pem" \
	    -naccept 1
	exec 7>"$dir/server.fifo"
	cat "$dir/server.in" >&7
	check_ok "s_server: starts" wait_for "$dir/server.log" ACCEPT || {
		exec 7>&-; return; }
	run ss timeout 30 "$PYTHON" "$dir/client.py" "$port" "$tmp/cert.pem"
	check "s_server: the client gets the server's line" judge_got ss \
	    "$dir/server.in"
	check "s_server: the server prints the client's" wait_for \
	    "$dir/server.log" from-client
	exec 7>&-
	check_ok "s_server: one trace" wait_traces "$dir/tr/ss" 1 || return
	check "s_server: TLS metadata" judge_meta "$dir/tr/ss_0.pb" \
	    'role: ROLE_SERVER' 'sni: "localhost"' 'version: "TLS'
	convert ss "$dir/tr/ss_0.pb" &&
	    check "s_server: tshark follows the plaintext" judge_plain ss \
	    "$port" data server "from-client" "$dir/server.in" \
	    "$dir/tr/ss_0.pb"
	check "s_server: exactly the two lines" cmp "$dir/client.in" \
	    "$dir/ss.x.0.0"
	server_stop
}

# wget, a GnuTLS client, traced against nginx.
case_wget()
{
	nginx_start || return
	run wg env "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/wg" timeout 30 \
	    "$WGET" -q -O - --ca-certificate="$tmp/cert.pem" \
	    "https://localhost:$tls_port/blob.bin"
	server_stop
	check "wget: traced output is the file" judge_got wg \
	    "$tmp/www/blob.bin"
	# wget exits without closing its socket: no closed event.
	check_ok "wget: one trace" test "$(traces_of "$dir/tr/wg" | wc -l)" \
	    -eq 1 || return
	check "wget: TLS metadata from GnuTLS" judge_meta "$dir/tr/wg_0.pb" \
	    'library: "GnuTLS' 'sni: "localhost"' 'subject: "CN=localhost"' \
	    'cipher: "' 'version: "TLS'
	convert wg "$dir/tr/wg_0.pb" &&
	    check "wget: tshark follows the plaintext" judge_plain wg \
	    "$tls_port" http client "GET /blob.bin HTTP/1.1" \
	    "$tmp/www/blob.bin" "$dir/tr/wg_0.pb"
}

# An untraced TLS server (python3) for one connection: what the client
# sent (until a blank line, or its end) goes to $dir/got, then after
# DELAY seconds it sends the bytes of FILE: tls_once DELAY FILE. Its port
# is $tls_port.
tls_once()
{
	cat >"$dir/once.py" <<'EOF2'
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[3])))
l.listen()
print("ready", flush=True)
c = ctx.wrap_socket(l.accept()[0], server_side=True)
got = b""
while b"\r\n\r\n" not in got:
    try:
        d = c.recv(4096)
    except (ssl.SSLError, OSError):
        break
    if not d:
        break
    got += d
open(sys.argv[4], "wb").write(got)
time.sleep(float(sys.argv[5]))
c.sendall(open(sys.argv[6], "rb").read())
try:
    c.unwrap()
except (ssl.SSLError, OSError):
    pass
c.close()
EOF2
	server_start "$PYTHON" "$dir/once.py" "$tmp/cert.pem" "$tmp/key.pem" \
	    "$tls_port" "$dir/got" "$1" "$2"
	wait_for "$dir/server.log" ready
}

# Judge: the one trace with prefix P wrote exactly FILE and read exactly
# FILE2 (in plaintext): judge_exact P FILE FILE2.
judge_exact()
{
	"$PYTHON" - "$1"_0.pb "$2" "$3" <<'EOF2' || return 1
import os, sys
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "lib"))
import follow
sent = {"write": b"", "read": b""}
for w in follow.wrappers(open(sys.argv[1], "rb").read(), False):
    for e in follow.trace_events(w):
        kind, data = follow.event_data(e)
        if kind in sent:
            sent[kind] += data
for kind, f in (("write", sys.argv[2]), ("read", sys.argv[3])):
    want = open(f, "rb").read()
    if sent[kind] != want:
        sys.exit("%s: the trace's %ss (%d bytes) are not %s (%d bytes):\n"
                 "%r\n%r" % (sys.argv[1], kind, len(sent[kind]), f,
                             len(want), sent[kind][:300], want[:300]))
EOF2
}

# Judge: the first read event of trace T took at least MS milliseconds
# (its call's own time, as the program waited for it).
judge_read_wait()
{
	"$TAPDUMP" --json --events "$1" >"$dir/wait.json" || return 1
	"$PYTHON" - "$dir/wait.json" "$2" <<'EOF2'
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["traces"][0]["events"]
      if e["kind"] == "read" and e["bytes"] > 0]
if not ev or ev[0].get("call_ns", 0) < int(sys.argv[2]) * 1000000:
    sys.exit("first read: %s; expected a call of at least %s ms" %
             (ev[:1], sys.argv[2]))
EOF2
}

# wget (GnuTLS: gnutls_record_send calls gnutls_record_send2 through the
# PLT) against a server that answers after 500 ms: its request once in
# the trace, exactly what the server got; the response exactly (wget
# waits in select(), not in its TLS read).
case_wgetonce()
{
	printf 'HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n' \
	    >"$dir/resp"
	tls_once 0.5 "$dir/resp" || return
	run wg env "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/wg" timeout 30 \
	    "$WGET" -q -O - --ca-certificate="$tmp/cert.pem" \
	    "https://localhost:$tls_port/once"
	server_stop
	check "wgetonce: wget gets the body" eval "judge_rc wg &&
	    [ \"\$(cat $dir/wg.out)\" = hello ]"
	check_ok "wgetonce: one trace" test \
	    "$(traces_of "$dir/tr/wg" | wc -l)" -eq 1 || return
	check "wgetonce: the request once, exactly what the server got" \
	    judge_exact "$dir/tr/wg" "$dir/got" "$dir/resp"
}

# gnutls-cli traced, its input sent to the server: once in the trace.
case_gnutlscli()
{
	if ! command -v gnutls-cli >/dev/null; then
		echo "ok - gnutlscli: skipped (no gnutls-cli)"
		return
	fi
	printf 'GET /cli HTTP/1.0\r\n\r\n' >"$dir/req"
	printf 'HTTP/1.0 204 No Content\r\n\r\n' >"$dir/resp"
	tls_once 0 "$dir/resp" || return
	run cli env "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/cli" timeout 30 \
	    gnutls-cli --x509cafile="$tmp/cert.pem" -p "$tls_port" localhost \
	    <"$dir/req"
	server_stop
	check_ok "gnutlscli: one trace" test \
	    "$(traces_of "$dir/tr/cli" | wc -l)" -eq 1 || return
	check "gnutlscli: its input once, exactly what the server got" \
	    judge_exact "$dir/tr/cli" "$dir/got" "$dir/resp"
}

# python3 (OpenSSL, SSL_read_ex) against a server that answers after
# 500 ms: the read's call time is its wait.
case_pywait()
{
	printf 'HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n' \
	    >"$dir/resp"
	tls_once 0.5 "$dir/resp" || return
	py_client
	run pw env "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/pw" timeout 30 \
	    "$PYTHON" "$dir/get.py" "https://localhost:$tls_port/wait"
	server_stop
	check "pywait: python gets the body" eval "judge_rc pw &&
	    [ \"\$(cat $dir/pw.out)\" = ok ]"
	check_ok "pywait: one trace" test \
	    "$(traces_of "$dir/tr/pw" | wc -l)" -eq 1 || return
	check "pywait: the read's call time is its 500 ms wait" \
	    judge_read_wait "$dir/tr/pw_0.pb" 400
}

# A traced python3 server (OpenSSL) sends its line and unwrap()s: after
# SSL_shutdown it reads the socket raw, as openssl s_server's drain does.
# A TLS record read there (the client sends one) is the session's
# leftover, not plaintext; plain bytes after it still are.
case_sdrain()
{
	local port

	port=$(free_port)
	printf 'from-server\n' >"$dir/server.in"
	printf 'plain\n' >"$dir/after"
	cat >"$dir/server.py" <<'EOF2'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[3])))
l.listen()
print("ready", flush=True)
c = ctx.wrap_socket(l.accept()[0], server_side=True)
c.sendall(b"from-server\n")
raw = c.unwrap()
got = b""
while not got.endswith(b"plain\n"):
    d = raw.recv(100)
    if not d:
        break
    got += d
print(repr(got), flush=True)
raw.close()
EOF2
	cat >"$dir/client.py" <<'EOF2'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1",
    int(sys.argv[1]))), server_hostname="localhost")
got = b""
while not got.endswith(b"\n"):
    got += s.recv(100)
sys.stdout.buffer.write(got)
raw = s.unwrap()
# A late TLS record (application data, 5 bytes), then plain text.
raw.sendall(b"\x17\x03\x03\x00\x05late\n")
raw.sendall(b"plain\n")
raw.recv(1)
raw.close()
EOF2
	server_start "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/ss" timeout 30 \
	    "$PYTHON" "$dir/server.py" "$tmp/cert.pem" "$tmp/key.pem" "$port"
	check_ok "sdrain: the server starts" wait_for "$dir/server.log" \
	    ready || return
	run sd timeout 30 "$PYTHON" "$dir/client.py" "$port" "$tmp/cert.pem"
	check "sdrain: the client gets the server's line" judge_got sd \
	    "$dir/server.in"
	check "sdrain: the server reads the record and the text raw" \
	    wait_for "$dir/server.log" 'late.*plain'
	check_ok "sdrain: one trace" wait_traces "$dir/tr/ss" 1 || return
	check "sdrain: plaintext exact: no record read raw, the text after" \
	    judge_exact "$dir/tr/ss" "$dir/server.in" "$dir/after"
}

# asyncio's TLS client (ssl.SSLObject over memory BIOs: the program
# moves the records between the BIOs and the socket itself) traced,
# against an untraced python3 TLS server: the socket's trace holds the
# plaintext both ways, exactly, no record, and the TLS metadata.
case_asyncio()
{
	printf 'from-client\r\n\r\n' >"$dir/client.in"
	printf 'from-server\n' >"$dir/server.in"
	cat >"$dir/client.py" <<'EOF2'
import asyncio, ssl, sys
async def main():
    ctx = ssl.create_default_context(cafile=sys.argv[2])
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]),
        ssl=ctx, server_hostname="localhost")
    w.write(open(sys.argv[3], "rb").read())
    await w.drain()
    sys.stdout.buffer.write(await r.readline())
    w.close()
    try:
        await w.wait_closed()
    except OSError:
        pass
asyncio.run(main())
EOF2
	check_ok "asyncio: the server starts" tls_once 0 "$dir/server.in" ||
	    return
	run ac env "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/ac" timeout 30 \
	    "$PYTHON" "$dir/client.py" "$tls_port" "$tmp/cert.pem" \
	    "$dir/client.in"
	check "asyncio: the client gets the server's line" judge_got ac \
	    "$dir/server.in"
	check "asyncio: the server gets the client's line" \
	    cmp "$dir/got" "$dir/client.in"
	check_ok "asyncio: one trace" wait_traces "$dir/tr/ac" 1 || return
	check "asyncio: TLS metadata on the socket's trace" judge_meta \
	    "$dir/tr/ac_0.pb" 'sni: "localhost"' 'subject: "/CN=localhost"' \
	    'version: "TLSv1.3"' 'cipher: "TLS_' 'data: TLS_DATA_PLAINTEXT'
	check "asyncio: plaintext exact both ways, no record" \
	    judge_exact "$dir/tr/ac" "$dir/client.in" "$dir/server.in"
	convert ac "$dir/tr/ac_0.pb" &&
	    check "asyncio: tshark follows the plaintext" judge_follow_ac
}

# Judge: tshark follows in $dir/ac.pcap the client's line and the
# server's, exactly.
judge_follow_ac()
{
	"$PYTHON" "$top_srcdir/tests/lib/follow.py" expect client \
	    "$dir/ac.x" "$dir/tr/ac_0.pb" || return 1
	cmp "$dir/ac.x.0.0" "$dir/client.in" &&
	    cmp "$dir/ac.x.0.1" "$dir/server.in" &&
	    "$PYTHON" "$top_srcdir/tests/lib/follow.py" check --expert \
	    "$dir/ac.pcap.z" "$dir/ac.pcap" 0 "$dir/ac.x.0.0" "$dir/ac.x.0.1"
}

# One process, a TLS connection and a plain one.
case_mixed()
{
	nginx_start || return
	py_client
	run mx env "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/mx" timeout 30 \
	    "$PYTHON" "$dir/get.py" "https://localhost:$tls_port/hello.txt" \
	    "http://127.0.0.1:$plain_port/blob.bin"
	server_stop
	cat "$tmp/www/hello.txt" "$tmp/www/blob.bin" >"$dir/both"
	check "mixed: output is both files" judge_got mx "$dir/both"
	check_ok "mixed: two traces" wait_traces "$dir/tr/mx" 2 || return
	check "mixed: the TLS one has metadata" judge_meta "$dir/tr/mx_0.pb" \
	    'sni: "localhost"'
	check "mixed: the plain one has none" eval "! meta $dir/tr/mx_1.pb |
	    grep -q 'tls {'"
	convert mx "$dir/tr/mx_0.pb" "$dir/tr/mx_1.pb" &&
	    check "mixed: no expert warning" judge_expert "$dir/mx.pcap"
	decode_as="tcp.port==$tls_port,http"
	check "mixed: HTTP decoded on both" judge_http "$dir/mx.pcap" \
	    "GET:/hello.txt:200,GET:/blob.bin:200"
	decode_as=-
}

# TAPSHIM_TLS=ciphertext, both, and a bad value.
case_modes()
{
	local u=https://localhost:$tls_port/hello.txt t

	nginx_start || return
	run_curl ct "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/ct" \
	    TAPSHIM_TLS=ciphertext -- --http1.1 -o - "$u"
	run_curl bo "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/bo" \
	    TAPSHIM_TLS=both -- --http1.1 -o - "$u"
	run_curl bad "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/bad" \
	    TAPSHIM_TLS=clear -- --http1.1 -o - "$u"
	server_stop
	check "modes: ciphertext: curl's output is the file" judge_got ct \
	    "$tmp/www/hello.txt"
	check_ok "modes: ciphertext: one trace" wait_traces "$dir/tr/ct" 1 &&
	    check "modes: ciphertext: marked so" judge_meta \
	    "$dir/tr/ct_0.pb" 'data: TLS_DATA_CIPHERTEXT' 'sni: "localhost"' &&
	    convert ct "$dir/tr/ct_0.pb" &&
	    check "modes: ciphertext: TLS records, a Client Hello" ts_out \
	    "$dir/ct.txt" -d "tcp.port==$tls_port,tls" -r "$dir/ct.pcap" \
	    -Y 'tls.handshake.type==1' &&
	    check "modes: ciphertext: exactly one Client Hello" \
	    test "$(wc -l <"$dir/ct.txt")" -eq 1
	check "modes: both: curl's output is the file" judge_got bo \
	    "$tmp/www/hello.txt"
	check_ok "modes: both: two traces" wait_traces "$dir/tr/bo" 2 &&
	    check "modes: both: one ciphertext, one plaintext" eval \
	    "cat $dir/tr/bo_0.pb $dir/tr/bo_1.pb >/dev/null &&
	    { meta $dir/tr/bo_0.pb; meta $dir/tr/bo_1.pb; } |
	    grep -c 'data: TLS_DATA_' | grep -qx 2 &&
	    { meta $dir/tr/bo_0.pb; meta $dir/tr/bo_1.pb; } |
	    grep -q TLS_DATA_CIPHERTEXT &&
	    { meta $dir/tr/bo_0.pb; meta $dir/tr/bo_1.pb; } |
	    grep -q TLS_DATA_PLAINTEXT"
	for t in $(traces_of "$dir/tr/bo"); do
		meta "$t" | grep -q TLS_DATA_PLAINTEXT || continue
		decode_as="tcp.port==$tls_port,http"
		convert bo "$t" && check "modes: both: plaintext decoded" \
		    judge_http "$dir/bo.pcap" "GET:/hello.txt:200"
		decode_as=-
	done
	check "modes: bad TAPSHIM_TLS: curl's output is the file" judge_got \
	    bad "$tmp/www/hello.txt"
	# One message from each process: timeout(1), then curl.
	check "modes: bad TAPSHIM_TLS: a message naming it, no trace" eval \
	    "grep -q 'tapshim: TAPSHIM_TLS: \"clear\" is not' $dir/bad.err &&
	    ! grep -v 'tapshim: TAPSHIM_TLS: \"clear\" is not' $dir/bad.err &&
	    [ -z \"\$(traces_of $dir/tr/bad)\" ]"
}

# A kernel capture of a traced curl, decrypted with TAPSHIM_KEYLOG.
case_keylog()
{
	local i cap=$dir/real.pcap

	if [ "$(id -u)" != 0 ] || ! command -v tcpdump >/dev/null 2>&1; then
		if [ "${TAPSHIM_REQUIRE_TOOLS:-0}" = 1 ] &&
		    ! command -v tcpdump >/dev/null 2>&1; then
			check "keylog: tcpdump is installed" false
		fi
		echo "# SKIP keylog: needs root and tcpdump"
		return
	fi
	nginx_start || return
	tcpdump -i lo -U -n -w "$cap" "tcp port $tls_port" \
	    >"$dir/tcpdump.log" 2>&1 &
	local tcpdump=$!
	check_ok "keylog: tcpdump starts" wait_for "$dir/tcpdump.log" \
	    "listening on" || { kill "$tcpdump"; return; }
	# OpenSSL (curl) and GnuTLS (wget), into one key log file.
	run_curl kl "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/kl" \
	    TAPSHIM_KEYLOG="$dir/keys" -- --http1.1 -o - \
	    "https://localhost:$tls_port/hello.txt"
	run wg env "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/wg" \
	    TAPSHIM_KEYLOG="$dir/keys" timeout 30 "$WGET" -q -O - \
	    --ca-certificate="$tmp/cert.pem" \
	    "https://localhost:$tls_port/blob.bin"
	server_stop
	# Until tcpdump has written the FINs of both connections.
	for i in $(seq 100); do
		[ "$("$TSHARK" -r "$cap" -Y 'tcp.flags.fin==1' 2>/dev/null |
		    wc -l)" -ge 4 ] && break
		sleep 0.1
	done
	kill -INT "$tcpdump"
	wait "$tcpdump"
	check "keylog: curl's output is the file" judge_got kl \
	    "$tmp/www/hello.txt"
	check "keylog: wget's output is the file" judge_got wg \
	    "$tmp/www/blob.bin"
	check "keylog: whole lines of known labels" eval "[ -s $dir/keys ] &&
	    ! grep -Ev '^(CLIENT_RANDOM|[A-Z_]+_SECRET) [0-9a-f]{64} [0-9a-f]+\$' \
	    $dir/keys"
	check "keylog: without the keys, no HTTP in the real capture" eval \
	    "ts_out $dir/nokeys.txt -r $cap -d tcp.port==$tls_port,tls \
	    -Y http && [ ! -s $dir/nokeys.txt ]"
	check "keylog: tshark decrypts the real capture with them" eval \
	    "ts_out $dir/keys.txt -r $cap -d tcp.port==$tls_port,tls \
	    -o tls.keylog_file:$dir/keys -Y http -T fields \
	    -e http.request.uri -e http.response.code &&
	    grep -q /hello.txt $dir/keys.txt && grep -q /blob.bin $dir/keys.txt &&
	    [ \$(grep -c 200 $dir/keys.txt) -eq 2 ]"
}

# A handshake that fails: curl does not trust the certificate.
case_hsfail()
{
	local u=https://localhost:$tls_port/hello.txt

	nginx_start || return
	run hf0 timeout 30 "$CURL" -sS -o - "$u"
	run hf env "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/hf" timeout 30 \
	    "$CURL" -sS -o - "$u"
	server_stop
	check "hsfail: curl fails as untraced, saying the same" eval \
	    "[ \$(cat $dir/hf0.rc) != 0 ] && cmp $dir/hf0.rc $dir/hf.rc &&
	    cmp $dir/hf0.out $dir/hf.out && cmp $dir/hf0.err $dir/hf.err"
	check_ok "hsfail: one trace" wait_traces "$dir/tr/hf" 1 &&
	    check "hsfail: the handshake's error, and no end" eval \
	    "judge_meta $dir/tr/hf_0.pb 'library: \"OpenSSL ' \
	    'handshake_error: \"' \
	    'certificate verify failed' 'handshake_begin {' &&
	    ! grep -q 'handshake_end' $dir/meta.txt"
}

# tap2pcap's decode hint and --decode-as.
case_decodeas()
{
	local u=https://localhost:$tls_port/hello.txt

	nginx_start || return
	run_curl da1 "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/da" -- --http1.1 \
	    -o - "$u"
	run_curl da2 "$(lib)" TAPSHIM_PATH_PREFIX="$dir/tr/da" -- --http2 \
	    -o - "$u"
	server_stop
	wait_traces "$dir/tr/da" 2 >/dev/null
	run hint "$TAP2PCAP" -w "$dir/da.pcap" --decode-as "$dir/da.entries" \
	    "$dir/tr/da_0.pb"
	check "decodeas: tap2pcap hints -d tcp.port==PORT,http" eval \
	    "judge_rc hint && grep -qF -- '-d tcp.port==$tls_port,http' \
	    $dir/hint.err"
	check "decodeas: the entries file names the port and http" grep -q \
	    "decode_as_entry: tcp.port,$tls_port,.*,HTTP" "$dir/da.entries"
	# A Wireshark profile with those entries decodes the plaintext.
	mkdir -p "$dir/home/.config/wireshark"
	cp "$dir/da.entries" "$dir/home/.config/wireshark/decode_as_entries"
	check "decodeas: tshark with the entries decodes HTTP" eval \
	    "HOME=$dir/home XDG_CONFIG_HOME=$dir/home/.config \
	    ts_out $dir/da.txt -r $dir/da.pcap -Y http &&
	    grep -q 'GET /hello.txt' $dir/da.txt"
	run hint2 "$TAP2PCAP" -w "$dir/da2.pcap" "$dir/tr/da_1.pb"
	check "decodeas: ALPN h2: the hint says http2" eval \
	    "judge_rc hint2 && grep -qF -- '-d tcp.port==$tls_port,http2' \
	    $dir/hint2.err"
}

# The certificate, and files to serve.
mkdir -p "$tmp/www"
"$OPENSSL" req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" \
    -out "$tmp/cert.pem" -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost >"$tmp/req.log" 2>&1 || {
	cat "$tmp/req.log"; echo "not ok - openssl req makes a certificate";
	exit 1; }
printf 'Hello over TLS\n' >"$tmp/www/hello.txt"
"$PYTHON" -c 'import os, sys; sys.stdout.buffer.write(os.urandom(150000))' \
    >"$tmp/www/blob.bin"

cases=${TAPSHIM_CASES:-curl http2 python sclient sserver wget mixed modes
    hsfail keylog decodeas wgetonce gnutlscli pywait sdrain asyncio}
for c in $cases; do
	dir=$tmp/$c
	mkdir -p "$dir/tr"
	read -r tls_port plain_port <<<"$(free_port 2)"
	"case_$c"
	while [ ${#servers[@]} -gt 0 ]; do
		server_stop
	done
done
report
