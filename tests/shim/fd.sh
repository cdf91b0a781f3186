#!/usr/bin/env bash
# Integration tests of fd numbers reused and of connects the shim must
# not split: one connection, one trace, with only its own bytes.
#
# Cases (one at a time, each in its own scratch directory), against
# tests/shim/fd-prog's echo server, run untraced:
#   fdopen   a socket written through fdopen()/fprintf() and fclose()d,
#            then a file open()ed on the same number and written: the
#            file's bytes are in no trace.
#   mixed    4 threads connect/write/close while 4 threads open, write
#            and close /dev/null: every trace is one client connection
#            holding only its own bytes.
#   many     64 threads x 200 connections: exactly 12,800 traces, each
#            one whole connection (16 bytes each way, then closed), role
#            client, no error.
#   again    a non-blocking connect(), connect() again while pending and
#            after poll() (0, then EISCONN): one trace, role client, no
#            error, the echo in it.
#   pending  the same to a listener whose accept queue is full: connect()
#            again while pending says EALREADY, after the SYN's
#            retransmission got through 0: one trace each, no error.
#   tfo      sendto(MSG_FASTOPEN) (net.ipv4.tcp_fastopen = 3 when sysctl
#            can set it; else the kernel falls back to a plain connect),
#            twice: each one trace, role client, its data and connect
#            time; tshark sees the client's SYN. Then one to a port that
#            is not listening: one trace, ECONNREFUSED, its SYN.
#   perl     perl IO::Socket::INET with a Timeout (a non-blocking connect
#            and connect() again), as "again"; skipped without perl.
#   ruby     ruby Net::HTTP against python3's http.server, as "again";
#            skipped without ruby.
#   redis    redis-cli against redis-server on 127.0.0.1 (hiredis: the
#            same); skipped without them.
#   udpshut  shutdown() on a connected UDP socket after one datagram:
#            one datagram in the trace, no empty one in the capture.
#   shut     write, shutdown(SHUT_WR), read to the end: tapdump counts
#            one write and one read (the ends are neither).
#   first    the first sendto on an unseen socket while finding a free
#            trace name takes long (20000 taken): the event's call time
#            is under half what the program itself measured.
#   sendfile 300 kB by sendfile(): one write event per call, the file's
#            bytes in the trace.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, TAPDUMP, FD_PROG,
# LIBTAPSHIM (set by make check); TSHARK, PYTHON, PERL, RUBY,
# REDIS_SERVER, REDIS_CLI to use other programs. A missing tshark or
# python3 skips the test (exit 77) unless TAPSHIM_REQUIRE_TOOLS=1.
# TAPSHIM_KEEP_TMP=1 keeps the scratch directory; TAPSHIM_CASES runs
# only some cases.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${FD_PROG:=${top_builddir:-.}/tests/shim/fd-prog}"
: "${PERL:=perl}"
: "${RUBY:=ruby}"
: "${REDIS_SERVER:=redis-server}"
: "${REDIS_CLI:=redis-cli}"
tmp=
dir=
server=
port=

# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source-path=SCRIPTDIR source=shimlib.sh
. "$top_srcdir/tests/shim/shimlib.sh"

# Judge: exactly N traces in $dir, each a whole client connection that
# wrote W and read R bytes (- for any), no error, ending closed (unless
# "open" follows: a program that exits without closing); and no trace
# holds NEEDLE. judge_sums N W R NEEDLE [open]
judge_sums()
{
	local n=$1 w=$2 r=$3 needle=$4 end='c$'

	[ "${5:-}" = open ] && end=.

	find "$dir" -maxdepth 1 -name 't_*.pb' -print0 |
	    xargs -0 -r "$PYTHON" -B "$top_srcdir/tests/shim/shimtool.py" \
	    sums >"$dir/sums.txt" || return 1
	awk -F'\t' -v n="$n" -v w="$w" -v r="$r" -v needle="$needle" \
	    -v end="$end" '
	    $2 != "ROLE_CLIENT" || $3 != "-" || (w != "-" && $4 != w) ||
	    (r != "-" && $5 != r) || $6 !~ end || index($7, needle) {
		if (bad++ < 10)
			print $1 ": " $2 ", error " $3 ", wrote " $4 \
			    ", read " $5 ", events " $6 ", " $7
	    }
	    END {
		if (NR != n)
			print NR " traces, expected " n
		if (bad)
			print bad " bad traces (the first 10 shown)"
		exit NR != n || bad
	    }' "$dir/sums.txt"
}

# A fresh scratch directory for a case.
case_dir()
{
	dir=$tmp/$1
	mkdir -p "$dir"
}

# The echo server, untraced; its port in $port.
start_echo()
{
	[ -n "$server" ] && return 0
	# Not a job of this shell: run_cases waits for those.
	( "$FD_PROG" serve "$tmp/echo.port" >"$tmp/echo.log" 2>&1 &
	    echo $! >"$tmp/echo.pid" )
	server=$(cat "$tmp/echo.pid")
	for _ in $(seq 100); do
		[ -s "$tmp/echo.port" ] && break
		sleep 0.1
	done
	port=$(cat "$tmp/echo.port")
}

case_fdopen()
{
	case_dir fdopen
	traced fdopen "$FD_PROG" fdopen "$port" "$dir/file.txt"
	check "fdopen: fd-prog runs traced" judge_ran fdopen
	check "fdopen: the file got the socket's fd number" \
	    grep -qx "same fd" "$dir/fdopen.out"
	check "fdopen: one trace, the file's bytes not in it" \
	    judge_sums 1 - 16 FILE-BYTES
}

case_mixed()
{
	case_dir mixed
	traced mixed "$FD_PROG" mixed "$port" 4 200
	check "mixed: fd-prog runs traced" judge_ran mixed
	check "mixed: 800 traces, each 16 bytes each way, no file bytes" \
	    judge_sums 800 16 16 FILE-BYTES
}

case_many()
{
	case_dir many
	traced many "$FD_PROG" clients "$port" 64 200
	check "many: fd-prog runs traced" judge_ran many
	check "many: 12800 traces, each a whole client connection" \
	    judge_sums 12800 16 16 FILE-BYTES
}

case_again()
{
	case_dir again
	traced again "$FD_PROG" again "$port"
	check "again: fd-prog runs traced" judge_ran again
	check "again: connect() again said 0 or EISCONN" \
	    grep -Eq '^connect [23]: (0|EISCONN)$' "$dir/again.out"
	check "again: one trace, role client, no error, the echo in it" \
	    judge_sums 1 16 16 FILE-BYTES
	check "again: tapdump: a connect time and no error" \
	    judge_json 'len(t) == 1 and "error" not in t[0] and
	    t[0].get("connect_ns", 0) > 0' "$dir"/t_*.pb
}

case_pending()
{
	case_dir pending
	traced pending "$FD_PROG" pending
	check "pending: fd-prog runs traced" judge_ran pending
	check "pending: connect() again said EALREADY, then 0" \
	    eval "grep -qx 'connect 1: EALREADY' $dir/pending.out &&
	    grep -qx 'connect 2: 0' $dir/pending.out"
	check "pending: 4 traces (2 clients, 2 accepted), no error" \
	    judge_json 'len(t) == 4 and not any("error" in x for x in t) and
	    sorted(x["role"] for x in t) == ["client", "client", "server",
	    "server"] and [x["role"] for x in t if x["bytes_sent"] == 16] ==
	    ["client"]' "$dir"/t_*.pb
}

case_tfo()
{
	local was

	case_dir tfo
	was=$(sysctl -n net.ipv4.tcp_fastopen 2>/dev/null)
	sysctl -qw net.ipv4.tcp_fastopen=3 2>/dev/null ||
	    echo "# tfo: net.ipv4.tcp_fastopen is ${was:-unknown}; the" \
		"client may fall back to a plain connect"
	# Twice: the first run gets the server's cookie, the second uses it.
	traced tfo1 "$FD_PROG" tfo "$port"
	traced tfo "$FD_PROG" tfo "$port"
	[ -z "$was" ] || sysctl -qw net.ipv4.tcp_fastopen="$was" 2>/dev/null
	check "tfo: fd-prog runs traced" judge_ran tfo
	check "tfo: two traces, each one client connection with its data" \
	    judge_sums 2 16 16 FILE-BYTES
	check "tfo: tap2pcap converts the traces" \
	    run_tap2pcap -w "$dir/all.pcap" "$dir"/t_*.pb
	check "tfo: tshark sees each client's SYN" judge_syns 2 "$port"
	check "tfo: tapdump: the connects' times, no error" \
	    judge_json 'len(t) == 2 and all("error" not in x and
	    x.get("connect_ns", 0) > 0 and "started" in x for x in t)' \
	    "$dir"/t_*.pb
	case_dir tfo-refused
	traced refused "$FD_PROG" tfo-refused
	check "tfo: a refused one runs traced" judge_ran refused
	check "tfo: a refused one: one trace, ECONNREFUSED" \
	    judge_json 'len(t) == 1 and t[0]["role"] == "client" and
	    t[0].get("error") == "ECONNREFUSED"' "$dir"/t_*.pb
	check "tfo: a refused one: tap2pcap converts it" \
	    run_tap2pcap -w "$dir/all.pcap" "$dir"/t_*.pb
	check "tfo: a refused one: tshark sees its SYN" \
	    judge_syns 1 "$(cat "$dir/refused.out")"
}

# Judge: N SYNs without ACK to PORT in $dir/all.pcap: judge_syns N PORT
judge_syns()
{
	local got

	got=$(ts -r "$dir/all.pcap" -Y \
	    "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == $2" \
	    | wc -l)
	[ "$got" -eq "$1" ] && return 0
	echo "$got SYNs to port $2, expected $1:"
	ts -r "$dir/all.pcap"
	return 1
}

case_perl()
{
	case_dir perl
	if ! command -v "$PERL" >/dev/null; then
		echo "ok - perl: skipped (no $PERL)"
		return
	fi
	traced perl "$PERL" -MIO::Socket::INET -e '
	    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		PeerPort => $ARGV[0], Timeout => 3) or die "connect: $@";
	    print $s "0123456789abcdef"; my $got = "";
	    while (length($got) < 16) { sysread($s, $got, 16 - length($got),
		length($got)) or die "read"; }
	    close $s; print "$got\n";' "$port"
	check "perl: IO::Socket::INET with Timeout runs traced" judge_ran perl
	check "perl: one trace, role client, no error, the echo in it" \
	    judge_sums 1 16 16 FILE-BYTES
}

case_ruby()
{
	local hport

	case_dir ruby
	if ! command -v "$RUBY" >/dev/null; then
		echo "ok - ruby: skipped (no $RUBY)"
		return
	fi
	echo hello >"$dir/index.txt"
	hport=$("$PYTHON" -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$PYTHON" -m http.server -b 127.0.0.1 -d "$dir" "$hport" \
	    >"$dir/http.log" 2>&1 &
	local hs=$!
	for _ in $(seq 50); do
		"$PYTHON" -c "import socket; socket.create_connection(
('127.0.0.1', $hport))" 2>/dev/null && break
		sleep 0.1
	done
	traced ruby "$RUBY" -rnet/http -e \
	    'print Net::HTTP.get(URI(ARGV[0]))' \
	    "http://127.0.0.1:$hport/index.txt"
	kill "$hs" 2>/dev/null
	wait "$hs" 2>/dev/null
	check "ruby: Net::HTTP runs traced" judge_ran ruby
	check "ruby: one trace, role client, no error" \
	    judge_sums 1 - - FILE-BYTES
}

case_redis()
{
	local rport rs

	case_dir redis
	if ! command -v "$REDIS_SERVER" >/dev/null ||
	    ! command -v "$REDIS_CLI" >/dev/null; then
		echo "ok - redis: skipped (no $REDIS_SERVER or $REDIS_CLI)"
		return
	fi
	rport=$("$PYTHON" -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$REDIS_SERVER" --bind 127.0.0.1 --port "$rport" --save '' \
	    --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
	rs=$!
	for _ in $(seq 50); do
		"$REDIS_CLI" -h 127.0.0.1 -p "$rport" ping >/dev/null 2>&1 &&
		    break
		sleep 0.1
	done
	traced redis "$REDIS_CLI" -h 127.0.0.1 -p "$rport" set k v
	kill "$rs" 2>/dev/null
	wait "$rs" 2>/dev/null
	check "redis: redis-cli runs traced" judge_ran redis
	# redis-cli exits without closing: no closed event asked for.
	check "redis: one trace, role client, no error, its request" \
	    judge_sums 1 27 5 FILE-BYTES open
}

case_udpshut()
{
	case_dir udpshut
	traced us "$FD_PROG" udp-shutdown
	check "udpshut: fd-prog runs traced" judge_ran us
	check "udpshut: the sender's trace: one datagram, no empty one" \
	    judge_json '[(x["writes"], x["bytes_sent"]) for x in t
	    if x["writes"]] == [(1, 4)]' "$dir"/t_*.pb
	check "udpshut: tap2pcap converts the traces" \
	    run_tap2pcap -w "$dir/all.pcap" "$dir"/t_*.pb
	check "udpshut: tshark sees the datagram, and no empty one" \
	    judge_datagrams
}

# Judge: $dir/all.pcap holds 2 UDP datagrams (the sender's and the
# receiver's view of one), none empty.
judge_datagrams()
{
	ts_out "$dir/udp.txt" -r "$dir/all.pcap" -Y udp -T fields \
	    -e udp.length || return 1
	[ "$(sort "$dir/udp.txt" | tr '\n' ' ')" = "12 12 " ] && return 0
	echo "UDP lengths in the capture (expected two of 12):"
	cat "$dir/udp.txt"
	return 1
}

case_shut()
{
	case_dir shut
	traced shut "$FD_PROG" shut "$port"
	check "shut: fd-prog runs traced" judge_ran shut
	check "shut: tapdump counts one write and one read, not the ends" \
	    judge_json 'len(t) == 1 and t[0]["writes"] == 1 and
	    t[0]["reads"] == 1' "$dir"/t_*.pb
	"$TAPDUMP" "$dir"/t_*.pb >"$dir/dump.txt" 2>&1
	check "shut: tapdump's text says 1 writes, 1 reads" \
	    grep -q 'sent: 16 bytes in 1 writes; received: 16 bytes in 1 reads' \
	    "$dir/dump.txt"
}

# The first call on a socket the shim has not seen makes its trace: with
# 20000 names taken, finding a free one takes long; that is not the
# call's time (dig's first sendmmsg said 11 ms).
case_first()
{
	case_dir first
	"$PYTHON" -c 'import sys
for i in range(20000): open("%s/t_%d.pb" % (sys.argv[1], i), "w")' "$dir"
	traced first "$FD_PROG" udp-first
	check "first: fd-prog runs traced" judge_ran first
	check "first: the first event's call time is the call's, not the shim's" \
	    judge_json "[x['events'][0]['call_ns'] * 2 < $(cat "$dir/first.out")
	    for x in t if x['writes']] == [True]" "$dir"/t_2000[0-9].pb
}

case_sendfile()
{
	case_dir sendfile
	"$PYTHON" -c 'import os, sys; sys.stdout.buffer.write(os.urandom(300000))' \
	    >"$dir/file.bin"
	traced sf "$FD_PROG" sendfile "$port" "$dir/file.bin"
	check "sendfile: fd-prog runs traced" judge_ran sf
	check "sendfile: one write event per sendfile call, every byte" \
	    judge_json "len(t) == 1 and t[0]['writes'] == $(cat "$dir/sf.out")
	    and t[0]['bytes_sent'] == 300000 and t[0]['bytes_received'] ==
	    300000" "$dir"/t_*.pb
	check "sendfile: the trace holds the file" eval \
	    "\"$PYTHON\" -B '$top_srcdir/tests/lib/follow.py' expect client \
	    '$dir/x' '$dir'/t_0.pb && cmp '$dir/x.0.0' '$dir/file.bin'"
}

stop_server()
{
	[ -z "$server" ] || kill "$server" 2>/dev/null
}

shim_setup "fd tests" "$TSHARK" "$PYTHON"
for f in "$TAPDUMP" "$FD_PROG"; do
	built "$f" && continue
	echo "not ok - built: $f"
	echo "0 passed, 1 failed"
	exit 1
done
trap 'stop_server; [ "${TAPSHIM_KEEP_TMP:-0}" = 1 ] || rm -rf "$tmp"' EXIT

start_echo
# One case at a time: "many" and "first" measure, the others' load aside.
TAPSHIM_JOBS=${TAPSHIM_JOBS:-1} run_cases ${TAPSHIM_CASES:-fdopen mixed \
    many again pending tfo perl ruby redis udpshut shut first sendfile}
