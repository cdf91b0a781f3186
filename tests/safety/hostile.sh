#!/usr/bin/env bash
# Converters against hostile input: traces made to be large, many, or
# strange, each of which once made tap2pcap or tapdump hang, balloon or
# print what it should not. Each case says what must hold: counts of
# frames and connections, sizes, messages; never how long it took.
#
# Environment: top_srcdir, TAP2PCAP, TAPDUMP (set by make check); PYTHON,
# PROTOC. A missing python3 or protoc skips the suite (exit 77) unless
# TAPSHIM_REQUIRE_TOOLS=1. TAPSHIM_KEEP_TMP=1 keeps the scratch directory.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$top_srcdir/tests/data
here=$top_srcdir/tests/safety

# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"

need_tools "hostile-input tests" "$PYTHON" "$PROTOC"
resolve_python
dir=$(mktemp -d "${TMPDIR:-/tmp}/tapshim-hostile.XXXXXX") || exit 1
[ "${TAPSHIM_KEEP_TMP:-0}" = 1 ] || trap 'rm -rf "$dir"' EXIT

# A guard, not a limit: a converter that hangs fails the case instead of
# the whole run (the cases below take a second or two).
guard()
{
	timeout 900 "$@"
}

# Judge: N traces of KIND (mkmany.py), all open at once, convert into
# 9 frames each and N distinct connections: many_convert KIND N
many_convert()
{
	local kind=$1 n=$2 got

	"$PYTHON" "$data/mkmany.py" "$kind" "$n" \
	    "$dir/$kind.pb_length_delimited" || return 1
	guard "$TAP2PCAP" -w "$dir/$kind.pcap" \
	    "$dir/$kind.pb_length_delimited" 2>"$dir/$kind.err" || {
		echo "tap2pcap failed:"; tail -5 "$dir/$kind.err"; return 1; }
	got=$("$PYTHON" "$here/pcapcount.py" "$dir/$kind.pcap")
	[ "$got" = "$((n * 9)) $n" ] || {
		echo "frames, connections: $got (expected $((n * 9)) $n)"
		tail -3 "$dir/$kind.err"; return 1; }
	grep -q "$((n * 9)) packets" "$dir/$kind.err" || {
		tail -3 "$dir/$kind.err"; return 1; }
}

check "many: 40,000 open traces of one address pair convert" \
    many_convert pair 40000
check "many: 40,000 AF_UNIX clients of one socket convert" \
    many_convert unix 40000
check "many: 40,000 trace ids without addresses convert" \
    many_convert noaddr 40000
# Judge: a small trace whose bodies claim the most one call can move
# (2 GiB, a length only, 10 times) gives a bounded capture: 256 MiB of
# the lengths as cut packets (about 13 MB), then gaps in the sequence
# numbers that Wireshark sees; and tap2pcap warns.
judge_length_only()
{
	local i size got

	{
		echo 'socket_buffered_trace { trace_id: 1 connection {'
		echo '  local_address { socket_address { address: "10.0.0.1" port_value: 40000 } }'
		echo '  remote_address { socket_address { address: "10.0.0.2" port_value: 80 } }'
		echo '  role: ROLE_CLIENT }'
		for i in 1 2 3 4 5 6 7 8 9 10; do
			echo "  events { timestamp { seconds: 1700000000 nanos: $i }"
			echo '    write { data { as_bytes: "x" length: 2147479552 } } }'
		done
		echo '  events { timestamp { seconds: 1700000001 } read { data { as_bytes: "ok" } } }'
		echo '}'
	} >"$dir/huge.textproto"
	encode "$dir/huge.textproto" "$dir/huge.pb" || return 1
	guard "$TAP2PCAP" -w "$dir/huge.pcap" "$dir/huge.pb" \
	    2>"$dir/huge.err" || { cat "$dir/huge.err"; return 1; }
	size=$(wc -c <"$dir/huge.pcap")
	[ "$size" -lt 20000000 ] || { echo "capture of $size bytes"; return 1; }
	grep -q 'warning: 21206360054 byte(s) in 10 event(s) were moved but not recorded' \
	    "$dir/huge.err" || { cat "$dir/huge.err"; return 1; }
	got=$("$PYTHON" "$here/pcapcount.py" --short "$dir/huge.pcap")
	# 256 MiB in 1460-byte segments, all cut short.
	[ "${got##* }" -ge 183000 ] || { echo "frames, conns, cut: $got"; return 1; }
	command -v "$TSHARK" >/dev/null 2>&1 || return 0
	ts -r "$dir/huge.pcap" -q -z expert >"$dir/huge.z" 2>&1
	grep -qi 'previous segment.* not captured' "$dir/huge.z" || {
		cat "$dir/huge.z"; return 1; }
}
# Judge: a trace without a Closed event is named, once, as having no
# close, and a closed one is not.
judge_unclosed()
{
	cat >"$dir/open1.textproto" <<'TXT'
socket_buffered_trace { trace_id: 7 connection {
  local_address { socket_address { address: "10.0.0.1" port_value: 40000 } }
  remote_address { socket_address { address: "10.0.0.2" port_value: 80 } } }
  events { timestamp { seconds: 1700000000 } write { data { as_bytes: "a" } } } }
TXT
	cat >"$dir/open2.textproto" <<'TXT'
socket_buffered_trace { trace_id: 8 connection {
  local_address { socket_address { address: "10.0.0.1" port_value: 40001 } }
  remote_address { socket_address { address: "10.0.0.2" port_value: 80 } } }
  events { timestamp { seconds: 1700000000 } write { data { as_bytes: "a" } } }
  events { timestamp { seconds: 1700000001 } closed { } } }
TXT
	encode "$dir/open1.textproto" "$dir/open1.pb" &&
	    encode "$dir/open2.textproto" "$dir/open2.pb" || return 1
	frame_delimited "$dir/open.pb_length_delimited" "$dir/open1.pb" \
	    "$dir/open2.pb"
	"$TAP2PCAP" -w "$dir/open.pcap" "$dir/open.pb_length_delimited" \
	    2>"$dir/open.err" || { cat "$dir/open.err"; return 1; }
	grep -q 'trace 7 has no close' "$dir/open.err" &&
	    ! grep -q 'trace 8 has no close' "$dir/open.err" &&
	    [ "$(grep -c 'trace 7 .*close' "$dir/open.err")" = 1 ] || {
		cat "$dir/open.err"; return 1; }
}
# Judge: file FILE holds no control byte but newline (and tab), and
# holds each escaped form given: judge_clean FILE ESCAPED...
judge_clean()
{
	local f=$1 e

	shift
	if LC_ALL=C grep -n "$(printf '[\001-\010\013-\037\177]')" "$f"; then
		echo "raw control bytes in $f"; return 1
	fi
	for e in "$@"; do
		grep -qF -- "$e" "$f" || { echo "no $e in:"; cat "$f"; return 1; }
	done
}

# Judge: strings a remote peer or the traced program chose (SNI, argv,
# exe, an AF_UNIX path, errors, a resolution) reach neither tapdump's
# output nor tap2pcap's messages raw: ESC as \e, BEL as \a, newline \n.
judge_escaped()
{
	cat >"$dir/esc.textproto" <<'TXT'
socket_buffered_trace { trace_id: 5 connection {
  local_address { pipe { path: "/run/\033[2J\007.sock" } }
  error: "E\033]0;x\007"
  process { pid: 1 exe: "/bin/\033[31mred" argv: "a\nb" argv: "\033c" }
  resolution { function: "getaddrinfo" name: "\033[2J" answers: "\007" }
  backtrace: "f\033[A (x)"
  tls { version: "TLSv1.3" sni: "\033[2J\033[H" alpn: "h2\007" library: "\r" }
  }
  events { timestamp { seconds: 1700000000 } write { data { as_bytes: "a" } } }
  events { timestamp { seconds: 1700000001 } closed { error: "\033[K" } } }
TXT
	encode "$dir/esc.textproto" "$dir/esc.pb" || return 1
	"$TAPDUMP" --events "$dir/esc.pb" >"$dir/esc.txt" 2>&1 || {
		cat "$dir/esc.txt"; return 1; }
	judge_clean "$dir/esc.txt" 'sni \e[2J\e[H' 'alpn h2\a' '"a\nb"' \
	    '"\ec"' '/bin/\e[31mred' 'unix:/run/\e[2J\a.sock' 'E\e]0;x\a' \
	    '("\e[2J") -> \a' 'f\e[A (x)' ', \e[K' || return 1
	"$TAP2PCAP" -w "$dir/esc.pcap" "$dir/esc.pb" 2>"$dir/esc.err" || {
		cat "$dir/esc.err"; return 1; }
	judge_clean "$dir/esc.err" '/run/\e[2J\a.sock' 'failed: E\e]0;x\a'
}
check "escaping: a trace's strings never reach a terminal raw" judge_escaped

# Judge: a temporary capture a killed run left (its PID gone, a minute
# old) is removed and said; a live run's, or a recent one, is not.
judge_stale_tmp()
{
	local dead

	mkdir -p "$dir/stale"
	sh -c 'exit 0' & dead=$!
	wait "$dead"
	: >"$dir/stale/out.pcap.tmp-$dead-AbCdEf"
	: >"$dir/stale/out.pcap.tmp-$$-LiVeOn"
	: >"$dir/stale/out.pcap.tmp-$dead-NeWbIe"
	touch -d '-2 minutes' "$dir/stale/out.pcap.tmp-$dead-AbCdEf" \
	    "$dir/stale/out.pcap.tmp-$$-LiVeOn"
	"$TAP2PCAP" -w "$dir/stale/out.pcap" "$data/sample.pb" \
	    2>"$dir/stale.err" || { cat "$dir/stale.err"; return 1; }
	[ ! -e "$dir/stale/out.pcap.tmp-$dead-AbCdEf" ] &&
	    [ -e "$dir/stale/out.pcap.tmp-$$-LiVeOn" ] &&
	    [ -e "$dir/stale/out.pcap.tmp-$dead-NeWbIe" ] || {
		ls -la "$dir/stale"; return 1; }
	grep -q "out.pcap.tmp-$dead-AbCdEf: removed, the temporary capture of a run (pid $dead) that was killed" \
	    "$dir/stale.err" || { cat "$dir/stale.err"; return 1; }
}
check "stale: a killed run's temporary capture is removed" judge_stale_tmp

# Judge: SIGKILL leaves a temporary capture the next run removes.
judge_sigkill()
{
	local pid

	mkdir -p "$dir/kill"
	"$PYTHON" "$data/mkmany.py" noaddr 200000 "$dir/kill/in.pb_length_delimited"
	"$TAP2PCAP" -q -w "$dir/kill/out.pcap" "$dir/kill/in.pb_length_delimited" &
	pid=$!
	while ! ls "$dir"/kill/out.pcap.tmp-* >/dev/null 2>&1 &&
	    kill -0 "$pid" 2>/dev/null; do
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	ls "$dir"/kill/out.pcap.tmp-* >/dev/null 2>&1 || {
		echo "no temporary file left: the run ended before it was killed"
		return 1; }
	touch -d '-2 minutes' "$dir"/kill/out.pcap.tmp-*
	"$TAP2PCAP" -q -w "$dir/kill/out.pcap" "$data/sample.pb" || return 1
	! ls "$dir"/kill/out.pcap.tmp-* 2>/dev/null
}
check "stale: after SIGKILL, the next run cleans up" judge_sigkill

# Judge: an input cut short while tap2pcap converts it is an error that
# says so (not SIGBUS), and leaves no temporary capture.
judge_shrinks()
{
	local pid rc

	mkdir -p "$dir/shrink"
	"$PYTHON" "$data/mkmany.py" noaddr 200000 "$dir/shrink/in.pb_length_delimited"
	"$TAP2PCAP" -q -w "$dir/shrink/out.pcap" \
	    "$dir/shrink/in.pb_length_delimited" 2>"$dir/shrink.err" &
	pid=$!
	while ! ls "$dir"/shrink/out.pcap.tmp-* >/dev/null 2>&1 &&
	    kill -0 "$pid" 2>/dev/null; do
		sleep 0.05
	done
	truncate -s 4096 "$dir/shrink/in.pb_length_delimited"
	wait "$pid"
	rc=$?
	[ "$rc" = 1 ] || { echo "exit status $rc"; cat "$dir/shrink.err";
	    return 1; }
	grep -q 'shrank while it was read' "$dir/shrink.err" || {
		cat "$dir/shrink.err"; return 1; }
	! ls "$dir"/shrink/out.pcap* 2>/dev/null
}
check "shrink: an input cut short meanwhile is an error, not SIGBUS" \
    judge_shrinks

# Judge: tapdump streams: 100,000 connections one after another are
# printed, text and JSON, in 350 MB of address space (before, it kept
# every event of the file and a JSON tree of it all: over 550 MB and
# 1.4 GB).
judge_tapdump_streams()
{
	local m n

	"$PYTHON" "$data/mkmany.py" serial 100000 \
	    "$dir/serial.pb_length_delimited" || return 1
	for m in "" "--json --events"; do
		# shellcheck disable=SC2086
		( ulimit -v 358400; "$TAPDUMP" $m \
		    "$dir/serial.pb_length_delimited" ) >"$dir/serial.out" \
		    2>"$dir/serial.err" || { echo "tapdump $m:";
			tail -3 "$dir/serial.err"; return 1; }
	done
	n=$("$PYTHON" -c 'import json, sys
print(len(json.load(open(sys.argv[1]))["traces"]))' "$dir/serial.out") ||
	    return 1
	[ "$n" = 100000 ] || { echo "$n traces in the JSON"; return 1; }
}
# AddressSanitizer reserves terabytes of shadow address space: no
# address-space limit can be judged in a sanitizer build.
if ldd "$TAPDUMP" 2>/dev/null | grep -q libasan; then
	skipped=$((skipped + 1))
	echo "ok - tapdump: 100,000 connections stream in bounded memory" \
	    "# SKIP a sanitizer build (its shadow memory defeats ulimit -v)"
else
	check "tapdump: 100,000 connections stream in bounded memory" \
	    judge_tapdump_streams
fi

# The largest resident set of tapdump ARGS... (KiB), from getrusage.
tapdump_rss()
{
	"$PYTHON" - "$TAPDUMP" "$@" <<'PY'
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
if r.returncode != 0:
    sys.exit("tapdump: exit %d: %s" % (r.returncode, r.stderr.decode()[-300:]))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

# Judge: tapdump's memory does not follow the number of connections in
# a file, only the ones open at once: 200,000 connections one after
# another take at most 16 MiB more than 10,000 do, text and JSON (the
# reader's index of every connection took about 1 KB each: 200 MB more).
judge_tapdump_flat()
{
	local m small big

	"$PYTHON" "$data/mkmany.py" serial 10000 \
	    "$dir/flat10k.pb_length_delimited" &&
	    "$PYTHON" "$data/mkmany.py" serial 200000 \
	    "$dir/flat200k.pb_length_delimited" || return 1
	for m in "" "--json --events"; do
		# shellcheck disable=SC2086
		small=$(tapdump_rss $m "$dir/flat10k.pb_length_delimited") &&
		    big=$(tapdump_rss $m "$dir/flat200k.pb_length_delimited") ||
		    return 1
		[ $((big - small)) -le 16384 ] || {
			echo "tapdump $m: max RSS $small KiB for 10,000" \
			    "connections, $big KiB for 200,000"; return 1; }
	done
}
if ldd "$TAPDUMP" 2>/dev/null | grep -q libasan; then
	skipped=$((skipped + 1))
	echo "ok - tapdump: memory flat in the number of connections" \
	    "# SKIP a sanitizer build (its shadow memory is resident too)"
else
	check "tapdump: memory flat in the number of connections" \
	    judge_tapdump_flat
fi

# Judge: PostgreSQL with sslmode=require, traced in plaintext: the hint
# says pgsql (not http), and with --starttls-omit the negotiation in the
# clear (SSLRequest, 'S') is left out, so the pgsql dissector decodes
# the startup message instead of expecting TLS.
judge_starttls()
{
	local got

	cat >"$dir/pg.textproto" <<'TXT'
socket_buffered_trace { trace_id: 31 connection {
  local_address { socket_address { address: "127.0.0.1" port_value: 40100 } }
  remote_address { socket_address { address: "127.0.0.1" port_value: 5432 } }
  role: ROLE_CLIENT tls { version: "TLSv1.3" data: TLS_DATA_PLAINTEXT } }
  events { timestamp { seconds: 1700000000 nanos: 1 } write { data { as_bytes: "\000\000\000\010\004\322\026/" } } }
  events { timestamp { seconds: 1700000000 nanos: 2 } read { data { as_bytes: "S" } } }
  events { timestamp { seconds: 1700000000 nanos: 3 } write { data { as_bytes: "\000\000\000\041\000\003\000\000user\000postgres\000database\000x\000\000" } } }
  events { timestamp { seconds: 1700000000 nanos: 4 } read { data { as_bytes: "R\000\000\000\010\000\000\000\000Z\000\000\000\005I" } } }
  events { timestamp { seconds: 1700000000 nanos: 5 } closed { } } }
TXT
	encode "$dir/pg.textproto" "$dir/pg.pb" || return 1
	"$TAP2PCAP" -w "$dir/pg.pcap" "$dir/pg.pb" 2>"$dir/pg.err" || {
		cat "$dir/pg.err"; return 1; }
	grep -q 'tcp.port==5432,pgsql after converting with --starttls-omit' \
	    "$dir/pg.err" || { cat "$dir/pg.err"; return 1; }
	"$TAP2PCAP" --starttls-omit -w "$dir/pg2.pcap" "$dir/pg.pb" \
	    2>"$dir/pg2.err" || { cat "$dir/pg2.err"; return 1; }
	grep -q '2 STARTTLS event(s) in the clear left out' "$dir/pg2.err" &&
	    grep -q 'tcp.port==5432,pgsql$' "$dir/pg2.err" || {
		cat "$dir/pg2.err"; return 1; }
	command -v "$TSHARK" >/dev/null 2>&1 || return 0
	got=$("$TSHARK" -r "$dir/pg2.pcap" -d tcp.port==5432,pgsql -Y pgsql \
	    -T fields -e pgsql.type 2>/dev/null | tr '\n' '|')
	case $got in
	*"Startup message"*"Authentication request"*) ;;
	*) echo "pgsql: $got"; return 1 ;;
	esac
}
check "starttls: PostgreSQL's plaintext gets a hint that works" \
    judge_starttls

# Judge: TAPSHIM_TLS=both: a connection's plaintext and its TLS records
# are two traces of the same addresses, two streams on one server port
# in the capture. The hint names the plaintext's stream (its ends as
# drawn, both traces) and decodes by its client port: with it, tshark
# reads HTTP in the plaintext stream and TLS still in the other (a hint
# by the server port, as before, made both HTTP). PostgreSQL the same,
# with --starttls-omit named, in the --decode-as file too.
judge_starttls_both()
{
	local got port

	cat >"$dir/bp.textproto" <<'TXT'
socket_buffered_trace { trace_id: 41 connection {
  local_address { socket_address { address: "127.0.0.1" port_value: 40100 } }
  remote_address { socket_address { address: "127.0.0.1" port_value: 8443 } }
  role: ROLE_CLIENT tls { version: "TLSv1.3" data: TLS_DATA_PLAINTEXT } }
  events { timestamp { seconds: 1700000000 nanos: 5000 } write { data { as_bytes: "GET / HTTP/1.1\r\nHost: x\r\n\r\n" } } }
  events { timestamp { seconds: 1700000000 nanos: 6000 } read { data { as_bytes: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" } } }
  events { timestamp { seconds: 1700000000 nanos: 9000 } closed { } } }
TXT
	cat >"$dir/bc.textproto" <<'TXT'
socket_buffered_trace { trace_id: 42 connection {
  local_address { socket_address { address: "127.0.0.1" port_value: 40100 } }
  remote_address { socket_address { address: "127.0.0.1" port_value: 8443 } }
  role: ROLE_CLIENT tls { version: "TLSv1.3" data: TLS_DATA_CIPHERTEXT } }
  events { timestamp { seconds: 1700000000 nanos: 3000 } write { data { as_bytes: "\026\003\001\000\004\001\000\000\000" } } }
  events { timestamp { seconds: 1700000000 nanos: 4000 } read { data { as_bytes: "\026\003\003\000\004\002\000\000\000" } } }
  events { timestamp { seconds: 1700000000 nanos: 5000 } write { data { as_bytes: "\027\003\003\000\005hello" } } }
  events { timestamp { seconds: 1700000000 nanos: 9000 } closed { } } }
TXT
	encode "$dir/bp.textproto" "$dir/bp.pb" &&
	    encode "$dir/bc.textproto" "$dir/bc.pb" || return 1
	"$TAP2PCAP" --decode-as "$dir/both.da" -w "$dir/both.pcap" \
	    "$dir/bp.pb" "$dir/bc.pb" 2>"$dir/both.err" || {
		cat "$dir/both.err"; return 1; }
	port=$(sed -n 's/.*TLS plaintext in the stream 127\.0\.0\.1:\([0-9]*\) -> 127\.0\.0\.1:8443 (.*bp\.pb trace 41; its TLS records are the stream 127\.0\.0\.1:\([0-9]*\) -> 127\.0\.0\.1:8443, .*bc\.pb trace 42): decode that stream alone with tshark -d tcp\.port==\1,http$/\1/p' \
	    "$dir/both.err")
	[ -n "$port" ] || { echo "no hint naming the stream:";
		cat "$dir/both.err"; return 1; }
	grep -q "decode_as_entry: tcp.port,$port,(none),HTTP" \
	    "$dir/both.da" || { cat "$dir/both.da"; return 1; }
	grep -q 'tcp.port==8443' "$dir/both.err" && {
		echo "a hint by the server port:"; cat "$dir/both.err";
		return 1; }
	# The PostgreSQL twin: the stream, and --starttls-omit.
	sed 's/trace_id: 31/trace_id: 33/; s/TLS_DATA_PLAINTEXT/TLS_DATA_CIPHERTEXT/' \
	    "$dir/pg.textproto" >"$dir/pgc.textproto"
	encode "$dir/pgc.textproto" "$dir/pgc.pb" || return 1
	"$TAP2PCAP" -w "$dir/pgb.pcap" "$dir/pg.pb" "$dir/pgc.pb" \
	    2>"$dir/pgb.err" || { cat "$dir/pgb.err"; return 1; }
	grep -q 'TLS plaintext in the stream 127.0.0.1:[0-9]* -> 127.0.0.1:5432 (.*pg.pb trace 31; its TLS records are the stream 127.0.0.1:[0-9]* -> 127.0.0.1:5432, .*pgc.pb trace 33): decode that stream alone with tshark -d tcp.port==[0-9]*,pgsql after converting with --starttls-omit' \
	    "$dir/pgb.err" || { cat "$dir/pgb.err"; return 1; }
	command -v "$TSHARK" >/dev/null 2>&1 || return 0
	got=$("$TSHARK" -n -r "$dir/both.pcap" -d "tcp.port==$port,http" \
	    -T fields -e tcp.srcport -e _ws.col.Protocol 2>/dev/null |
	    awk '$2 != "TCP" { print $1 "=" $2 }' | sort -u | tr '\n' ' ')
	case $got in
	*"$port=HTTP"*) ;;
	*) echo "the plaintext stream is not HTTP: $got"; return 1 ;;
	esac
	case $got in
	*"=TLS"*) ;;
	*) echo "the TLS records' stream is not TLS: $got"; return 1 ;;
	esac
}
check "starttls: TAPSHIM_TLS=both: the hint names the plaintext's stream" \
    judge_starttls_both

check "unclosed: a trace never closed is named" judge_unclosed

check "length only: a 2 GiB length is a gap, not a gigabyte of zeros" \
    judge_length_only

# Judge: a file whose format scan fails in its last record, before a zero
# tail (a writer killed while packing it), is read up to the cut by
# tapdump's streaming reader exactly as by tap2pcap's indexed one: exit
# 0, the same cut notice from both.
judge_cut_in_scan()
{
	local f=$dir/cutscan.pb

	cp "$top_srcdir/tests/fuzz/corpus/cut-zero-tail-detect.pb" "$f"
	"$TAPDUMP" "$f" >"$dir/cutscan.txt" 2>"$dir/cutscan.err" || {
		cat "$dir/cutscan.err"; return 1; }
	"$TAP2PCAP" -q "$f" "$dir/cutscan.pcap" 2>"$dir/cutscan2.err" || {
		cat "$dir/cutscan2.err"; return 1; }
	grep -q "offset 51: cut short; 278 bytes after it ignored" \
	    "$dir/cutscan.err" || { cat "$dir/cutscan.err"; return 1; }
}
check "cut in the format scan: tapdump reads up to the cut, as tap2pcap" \
    judge_cut_in_scan

report
