#!/usr/bin/env bash
# 32-bit programs: the 32-bit libtapshim.so under the 64-bit suites' own
# test programs, built with $CC -m32, and the launcher's $LIB preload
# across exec between the two ABIs.
#
# Cases:
#   prog    shim-prog.sh and udp.sh run again with shim-prog and udp-prog
#           built 32-bit and the 32-bit library preloaded: every hooked
#           call over IPv4, IPv6 and AF_UNIX, and every UDP call, judged
#           by tshark exactly as the 64-bit runs are.
#   exec    the 64-bit launcher runs a 32-bit program that connects and
#           then execs a 64-bit one that connects too (and the other way
#           round): one setting, TAPSHIM_LIBRARY=.../$LIB/..., traces
#           both, each connection's bytes followed by tshark.
#   tls     a 32-bit client linked to libssl3:i386 (libssl-dev:i386):
#           its plaintext, traced by the 32-bit library's OpenSSL hooks.
#   nolib   with TAPSHIM_LIBRARY naming one 64-bit library, a 32-bit
#           program is warned about, runs untraced, and ld.so says
#           nothing on its stderr.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, TAPSHIM_PROG, CC (set
# by make check). Skipped (exit 77) when the build has no 32-bit library
# (configure found no i386 toolchain) unless TAPSHIM_REQUIRE_TOOLS=1 and
# $CC -m32 works, when it fails.
#
# Output: "ok - NAME" or "not ok - NAME" per check, then "N passed, N
# failed"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"

lib32=$top_builddir/shim32/libtapshim.so
if [ ! -f "$lib32" ]; then
	echo "SKIP: no 32-bit libtapshim.so in this build (configure found" \
	    "no i386 toolchain: gcc-multilib, libprotobuf-c-dev:i386," \
	    "libunwind-dev:i386)"
	if [ "${TAPSHIM_REQUIRE_TOOLS:-0}" = 1 ] &&
	    echo 'int main(void){return 0;}' | "${CC:-cc}" -m32 -x c - \
	    -o /dev/null 2>/dev/null; then
		echo "not ok - a 32-bit toolchain works, but no 32-bit library"
		exit 1
	fi
	exit 77
fi
need_tools "the multilib tests" "$TSHARK" "$PYTHON"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/multilib.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dir=$tmp

# Build a 32-bit test program: build32 OUT SOURCE...
build32()
{
	local out=$1

	shift
	"${CC:-cc}" -m32 -O2 -I"$top_builddir" -o "$out" "$@" 2>"$out.log" || {
	    echo "$CC -m32 failed:"; cat "$out.log"; return 1; }
}

# Run one of the 64-bit suites with 32-bit programs and library: the
# suite's own checks, counted as one here; its output is kept.
judge_suite()
{
	local suite=$1 log=$tmp/${1##*/}.log

	shift
	# $LIB: the 64-bit helpers the suites run (timeout) load theirs.
	env "$@" LIBTAPSHIM="$top_builddir/shim/\$LIB/tapshim/libtapshim.so" \
	    bash "$suite" >"$log" 2>&1
	case $? in
	0) return 0 ;;
	77) echo "the suite skipped:"; tail -5 "$log"; return 1 ;;
	*) grep -A8 '^not ok' "$log" | head -60; return 1 ;;
	esac
}

# The programs keep their names (backtraces name the object).
mkdir -p "$tmp/m32"
check_ok "prog: shim-prog builds 32-bit" build32 "$tmp/m32/shim-prog" \
    "$top_srcdir/tests/shim/shim-prog.c" \
    "$top_srcdir/tests/shim/shim-prog-io.c" &&
	check_ok "prog: udp-prog builds 32-bit" build32 "$tmp/m32/udp-prog" \
	    -rdynamic "$top_srcdir/tests/shim/udp-prog.c" && {
	check "prog: shim-prog.sh, 32-bit: every hooked call traced" \
	    judge_suite "$top_srcdir/tests/shim/shim-prog.sh" \
	    SHIM_PROG="$tmp/m32/shim-prog"
	# Not dns: dig is a 64-bit program.
	check "prog: udp.sh, 32-bit: every UDP call traced" \
	    judge_suite "$top_srcdir/tests/shim/udp.sh" \
	    UDP_PROG="$tmp/m32/udp-prog" \
	    TAPSHIM_CASES="udp refused blackhole reset backtrace"
}

# The same programs built with 64-bit times and offsets, as new i386
# code is: glibc sends their calls to __recvmsg64, __sendmmsg64,
# __getsockopt64, __fcntl_time64 and the other time64 twins.
mkdir -p "$tmp/t64"
check_ok "time64: shim-prog builds with _TIME_BITS=64" build32 \
    "$tmp/t64/shim-prog" -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64 \
    "$top_srcdir/tests/shim/shim-prog.c" \
    "$top_srcdir/tests/shim/shim-prog-io.c" &&
	check_ok "time64: udp-prog builds with _TIME_BITS=64" build32 \
	    "$tmp/t64/udp-prog" -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64 \
	    -rdynamic "$top_srcdir/tests/shim/udp-prog.c" && {
	check "time64: shim-prog.sh: every hooked call traced" \
	    judge_suite "$top_srcdir/tests/shim/shim-prog.sh" \
	    SHIM_PROG="$tmp/t64/shim-prog"
	check "time64: udp.sh: every UDP call traced" \
	    judge_suite "$top_srcdir/tests/shim/udp.sh" \
	    UDP_PROG="$tmp/t64/udp-prog" \
	    TAPSHIM_CASES="udp refused blackhole reset backtrace"
}

# A program that connects to 127.0.0.1:PORT, sends its name, reads the
# answer to EOF, then (with more arguments) execs them.
cat >"$tmp/hop.c" <<'EOF'
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_in	sin;
	char			buf[4096];
	int			s;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(0x7f000001);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&sin, sizeof sin) == -1) {
		perror("connect");
		return (1);
	}
	if (write(s, argv[2], strlen(argv[2])) == -1 ||
	    shutdown(s, SHUT_WR) == -1)
		return (1);
	while (read(s, buf, sizeof buf) > 0)
		;
	close(s);
	if (argc > 3)
		execv(argv[3], argv + 3);
	return (argc > 3);
}
EOF

# An echo server for the exec cases: each connection's bytes back, and
# what it got into $tmp/got.N.
start_echo()
{
	"$PYTHON" - "$tmp" <<'PY' &
import socket, sys, os
d = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(os.path.join(d, "port.tmp"), "w").write(str(s.getsockname()[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
s.settimeout(30)
for n in range(2):
    c, _ = s.accept()
    data = b""
    while True:
        b = c.recv(4096)
        if not b:
            break
        data += b
    open(os.path.join(d, "got.%d" % n), "wb").write(data)
    c.sendall(data[::-1])
    c.close()
PY
	echo $! >"$tmp/echo.pid"
	local i=0
	while [ ! -f "$tmp/port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# Judge: the run's two traces, converted, each a stream carrying its
# program's name one way and its reverse the other.
judge_exec()
{
	local name=$1 n out=$tmp/$1 rc=0

	"$TAP2PCAP" -q -w "$out.pcap" "$out"_*.pb || return 1
	n=$("$TSHARK" -r "$out.pcap" -T fields -e tcp.stream 2>/dev/null |
	    sort -u | wc -l)
	[ "$n" -eq 2 ] || { echo "$n streams, expected 2"; rc=1; }
	for w in hop32 hop64; do
		"$TSHARK" -r "$out.pcap" -q -z follow,tcp,ascii,0 \
		    -z follow,tcp,ascii,1 2>/dev/null | grep -q "$w" ||
		    { echo "no stream carries $w"; rc=1; }
	done
	return "$rc"
}

# Run the exec chain FIRST SECOND under the launcher with $LIB.
run_exec()
{
	local name=$1 first=$2 second=$3 port

	rm -f "$tmp/port"
	start_echo
	port=$(cat "$tmp/port")
	TAPSHIM_LIBRARY="$top_builddir/shim/\$LIB/tapshim/libtapshim.so" \
	    "$TAPSHIM_PROG" -q -o "$tmp/$name" -- "$first" "$port" \
	    "${first##*/}" "$second" "$port" "${second##*/}" \
	    >"$tmp/$name.out" 2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
	wait "$(cat "$tmp/echo.pid")" 2>/dev/null
}

judge_rc0()
{
	[ "$(cat "$tmp/$1.rc")" = 0 ] || { echo "exit $(cat "$tmp/$1.rc"):";
	    cat "$tmp/$1.err"; return 1; }
	[ ! -s "$tmp/$1.err" ] || { echo "stderr:"; cat "$tmp/$1.err";
	    return 1; }
}

if check_ok "exec: the hop program builds 32- and 64-bit" build32 \
    "$tmp/hop32" "$tmp/hop.c" && "${CC:-cc}" -O2 -o "$tmp/hop64" \
    "$tmp/hop.c"; then
	run_exec up "$tmp/hop32" "$tmp/hop64"
	check "exec: 32-bit execs 64-bit: both run, nothing on stderr" \
	    judge_rc0 up
	check "exec: 32-bit execs 64-bit: both connections traced" \
	    judge_exec up
	run_exec down "$tmp/hop64" "$tmp/hop32"
	check "exec: 64-bit execs 32-bit: both run, nothing on stderr" \
	    judge_rc0 down
	check "exec: 64-bit execs 32-bit: both connections traced" \
	    judge_exec down
fi

# A 32-bit TLS client linked to libssl3:i386: its plaintext, traced.
cat >"$tmp/tls.c" <<'EOF'
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sin;
	SSL_CTX			*ctx;
	SSL			*ssl;
	char			 buf[256];
	int			 s, n;

	(void)argc;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(0x7f000001);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    (ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, s) ||
	    SSL_connect(ssl) != 1 || SSL_write(ssl, "GET-32\n", 7) != 7)
		return (1);
	while ((n = SSL_read(ssl, buf, sizeof buf - 1)) > 0) {
		buf[n] = '\0';
		fputs(buf, stdout);
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(s);
	return (0);
}
EOF

# A TLS server: one connection, its plaintext saved, an answer sent.
start_tls()
{
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
	    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
	    >/dev/null 2>&1 || return 1
	rm -f "$tmp/port"
	"$PYTHON" - "$tmp" <<'PY' &
import os, socket, ssl, sys
d = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(d, "cert.pem"), os.path.join(d, "key.pem"))
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(os.path.join(d, "port.tmp"), "w").write(str(s.getsockname()[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
s.settimeout(30)
c, _ = s.accept()
t = ctx.wrap_socket(c, server_side=True)
data = t.recv(100)
open(os.path.join(d, "tls.got"), "wb").write(data)
t.sendall(b"HELLO-32\n")
t.close()
PY
	echo $! >"$tmp/tls.pid"
	local i=0
	while [ ! -f "$tmp/port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -f "$tmp/port" ]
}

# Judge: the client got the answer, and the trace's plaintext is what
# the server got and sent, in one stream.
judge_tls()
{
	local out rc=0

	grep -q '^HELLO-32$' "$tmp/tls.out" ||
	    { echo "the client got:"; cat "$tmp/tls.out" "$tmp/tls.err";
	    return 1; }
	"$TAP2PCAP" -q -w "$tmp/tls.pcap" "$tmp"/tls_*.pb || return 1
	out=$("$TSHARK" -r "$tmp/tls.pcap" -q -z follow,tcp,ascii,0 \
	    2>/dev/null)
	printf '%s\n' "$out" | grep -q '^GET-32$' ||
	    { echo "no request in the plaintext"; rc=1; }
	printf '%s\n' "$out" | grep -q '^HELLO-32$' ||
	    { echo "no answer in the plaintext"; rc=1; }
	[ "$(cat "$tmp/tls.got")" = GET-32 ] ||
	    { echo "the server got: $(cat "$tmp/tls.got")"; rc=1; }
	return "$rc"
}

if ! "${CC:-cc}" -m32 -O2 -o "$tmp/tls32" "$tmp/tls.c" -lssl -lcrypto \
    2>"$tmp/tls32.log"; then
	skip "tls: a 32-bit OpenSSL client" \
	    "no 32-bit libssl (libssl-dev:i386): $(head -1 "$tmp/tls32.log")"
elif ! start_tls; then
	check "tls: the test's TLS server starts" false
else
	TAPSHIM_LIBRARY="$top_builddir/shim/\$LIB/tapshim/libtapshim.so" \
	    "$TAPSHIM_PROG" -q -o "$tmp/tls" -- "$tmp/tls32" \
	    "$(cat "$tmp/port")" >"$tmp/tls.out" 2>"$tmp/tls.err"
	wait "$(cat "$tmp/tls.pid")" 2>/dev/null
	check "tls: a 32-bit OpenSSL client's plaintext, traced" judge_tls
fi

# Judge: warned, untraced, and the program's own output only.
judge_nolib()
{
	grep -q '^tapshim: warning: .*hop32 is a 32-bit program and no 32-bit libtapshim.so' \
	    "$tmp/nolib.err" || { echo "no warning:"; cat "$tmp/nolib.err";
	    return 1; }
	if grep -v '^tapshim: ' "$tmp/nolib.err" | grep -q .; then
		echo "the program's stderr got:"
		grep -v '^tapshim: ' "$tmp/nolib.err"
		return 1
	fi
	if ls "$tmp"/nolib_* >/dev/null 2>&1; then
		echo "a trace was written"
		return 1
	fi
}

if [ -x "$tmp/hop32" ]; then
	rm -f "$tmp/port"
	start_echo
	port=$(cat "$tmp/port")
	TAPSHIM_LIBRARY=$LIBTAPSHIM "$TAPSHIM_PROG" -o "$tmp/nolib" -- \
	    "$tmp/hop32" "$port" hop32 >"$tmp/nolib.out" 2>"$tmp/nolib.err"
	"$tmp/hop64" "$port" done >/dev/null 2>&1
	wait "$(cat "$tmp/echo.pid")" 2>/dev/null
	check "nolib: one 64-bit library: warned, untraced, ld.so silent" \
	    judge_nolib
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
