#!/usr/bin/env bash
# Integration tests of UDP, failed connects, call sites and tapdump on
# real programs, judged by tshark (via tap2pcap) and by tapdump.
#
# Cases (sequential, each in its own scratch directory):
#   udp        tests/udp-prog udp traced: every UDP call (sendto, recvfrom,
#              sendmsg, recvmsg, sendmmsg, recvmmsg, an empty datagram,
#              write/read/send/recv once connected) over IPv4 and IPv6;
#              one trace per socket that moved data (none for a socket
#              that never did); tshark sees each datagram the program
#              says it sent exactly twice (the sender's trace and the
#              receiver's), with its ports and bytes; checksums good.
#   dns        dig (bind9-dnsutils, its own UDP sockets through libuv's
#              syscall(SYS_sendmmsg)) traced, asking tests/dnsserver.py on
#              127.0.0.1 for A and AAAA: tshark decodes both queries and
#              answers; tapdump shows them, as text and as JSON.
#   refused    a connect to a closed port: tshark sees a SYN and a RST;
#              tapdump says ECONNREFUSED.
#   blackhole  a non-blocking connect to a listener whose accept queue is
#              full (Linux drops those SYNs: a blackhole on loopback with
#              no firewall rule), given up after 300 ms by the program:
#              tshark sees a SYN and no answer; tapdump says EINPROGRESS
#              and how long the program waited.
#   reset      a peer that aborts (SO_LINGER 0), then one that closed:
#              the client traces' closed events name ECONNRESET, then the
#              errno the program's send got (EPIPE); tshark sees the RST.
#   backtrace  TAPSHIM_BACKTRACE=connect: the client's trace names
#              udpprog_dial, the function that called connect; unset, no
#              backtrace at all. The same program's getaddrinfo("localhost")
#              is recorded and tied to the connect that used its answer.
# JSON from tapdump is read back with python3's json module.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, TAPDUMP, UDP_PROG,
# LIBTAPSHIM (set by make check); TSHARK, PYTHON, DIG to use other
# programs. A missing tshark, python3 or dig skips the test (exit 77)
# unless TAPSHIM_REQUIRE_TOOLS=1. TAPSHIM_KEEP_TMP=1 keeps the scratch
# directory.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${DIG:=dig}"
tmp=
dir=
server=

# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source-path=SCRIPTDIR source=shimlib.sh
. "$top_srcdir/tests/shim/shimlib.sh"

# Judge: exactly N traces in $dir.
judge_count()
{
	local got

	got=$(find "$dir" -maxdepth 1 -name 't_*.pb' | wc -l)
	[ "$got" -eq "$1" ] && return 0
	echo "$got traces, expected $1:"
	ls "$dir"
	return 1
}

# Judge: tap2pcap converts every trace into $dir/all.pcap (ARGS first).
judge_pcap()
{
	run_tap2pcap "$@" -w "$dir/all.pcap" "$dir"/t_*.pb
}

# Judge: the capture has no Errors or Warns in tshark's expert info.
judge_no_warnings()
{
	ts_out "$dir/expert.txt" -r "$dir/all.pcap" -q -z expert || return 1
	if grep -Eq '^(Errors|Warns) \(' "$dir/expert.txt"; then
		cat "$dir/expert.txt"
		return 1
	fi
}

# Judge: tshark sees each datagram of udp.out ("SRC DST HEX", "-" for
# empty) exactly twice, and no other.
judge_datagrams()
{
	ts_out "$dir/dgrams.txt" -r "$dir/all.pcap" -T fields \
	    -e udp.srcport -e udp.dstport -e data.data || return 1
	awk -F'\t' '{ print $1 " " $2 " " ($3 == "" ? "-" : $3) }' \
	    "$dir/dgrams.txt" | tr -d ':' | sort >"$dir/got.txt"
	sort "$dir/udp.out" "$dir/udp.out" >"$dir/want.txt"
	cmp -s "$dir/got.txt" "$dir/want.txt" && return 0
	echo "datagrams in the capture (<) and sent, each twice (>):"
	diff "$dir/got.txt" "$dir/want.txt" | head -20
	return 1
}

# Judge: tapdump's text output (ARGS...) has a line matching RE.
judge_tapdump()
{
	local re=$1

	shift
	"$TAPDUMP" "$@" >"$dir/dump.txt" 2>"$dir/dump.err" || {
	    echo "tapdump failed:"; cat "$dir/dump.err"; return 1; }
	grep -Eq -- "$re" "$dir/dump.txt" && return 0
	echo "no line matching '$re' in tapdump $*:"
	cat "$dir/dump.txt"
	return 1
}

# Judge: tshark FILTER matches N frames (FIELDS shown when not).
judge_frames()
{
	local filter=$1 n=$2 got

	ts_out "$dir/frames.txt" -r "$dir/all.pcap" -Y "$filter" || return 1
	got=$(wc -l <"$dir/frames.txt")
	[ "$got" -eq "$n" ] && return 0
	echo "$got frames match '$filter', expected $n:"
	ts -r "$dir/all.pcap"
	return 1
}

# A fresh scratch directory for a case.
case_dir()
{
	dir=$tmp/$1
	mkdir -p "$dir"
	decode_as=-
}

case_udp()
{
	case_dir udp
	"$UDP_PROG" udp >"$dir/plain.out" 2>&1
	traced udp "$UDP_PROG" udp
	check "udp: udp-prog runs traced as untraced" judge_ran udp
	check "udp: one trace per socket that moved data" judge_count 4
	check "udp: tap2pcap converts the traces" judge_pcap -B
	check "udp: tshark sees each datagram twice, ports and bytes exact" \
	    judge_datagrams
	check "udp: checksums good" judge_checksums "$dir/all.pcap"
	check "udp: no expert warnings" judge_no_warnings
	check "udp: tapdump shows each datagram's peer" judge_tapdump \
	    'write 10 bytes to \[::1\]:[0-9]+' --events "$dir"/t_*.pb
	check "udp: tapdump --json: 4 UDP traces, 9 datagrams each" \
	    judge_json 'len(t) == 4 and all(x["protocol"] == "udp" and
	    x["writes"] + x["reads"] == 9 for x in t)' "$dir"/t_*.pb
	check "udp: JSON: every event's thread is the process (one thread)" \
	    judge_json 'all(e["tid"] == x["process"]["pid"] and
	    e.get("call_ns", 0) >= 0 for x in t for e in x["events"])' \
	    "$dir"/t_*.pb
}

# Wait for dnsserver.py's port file (bounded: 10 s).
dns_port()
{
	local i

	for i in $(seq 100); do
		[ -s "$dir/port" ] && { cat "$dir/port"; return 0; }
		sleep 0.1
	done
	echo "dnsserver.py wrote no port" >&2
	return 1
}

case_dns()
{
	local port

	case_dir dns
	server_start "$PYTHON" "$top_srcdir/tests/shim/dnsserver.py" \
	    "$dir/port" 2 30
	server=${servers[-1]}
	port=$(dns_port) || { check "dns: the server starts" false; return; }
	traced dig1 "$DIG" +tries=1 +time=10 -p "$port" @127.0.0.1 \
	    www.example.test A +short
	traced dig2 "$DIG" +tries=1 +time=10 -p "$port" @127.0.0.1 \
	    www.example.test AAAA +short
	wait "$server"
	check "dig: runs traced, answers 192.0.2.1 and 2001:db8::1" eval \
	    'judge_ran dig1 && judge_ran dig2 &&
	    grep -qx 192.0.2.1 "$dir/dig1.out" &&
	    grep -qx 2001:db8::1 "$dir/dig2.out"'
	check "dns: tap2pcap converts the traces" judge_pcap
	decode_as=udp.port==$port,dns
	check "dns: tshark decodes both queries" judge_frames \
	    'dns.flags.response == 0 && dns.qry.name == "www.example.test"' 2
	check "dns: tshark decodes the answers" judge_frames \
	    'dns.a == 192.0.2.1 || dns.aaaa == 2001:db8::1' 2
	check "dns: checksums good" judge_checksums "$dir/all.pcap"
	check "dns: tapdump shows the query" judge_tapdump \
	    'dns query 0x[0-9a-f]{4} www\.example\.test AAAA' \
	    --dns-port "$port" "$dir"/t_*.pb
	check "dns: tapdump shows the answer" judge_tapdump \
	    'dns response 0x[0-9a-f]{4} www\.example\.test A: NOERROR A 192\.0\.2\.1' \
	    --dns-port "$port" "$dir"/t_*.pb
	check "dns: tapdump --json has the answers" judge_json \
	    'sorted(a["data"] for x in t for d in x["dns"] for a in d["answers"])
	    == ["192.0.2.1", "2001:db8::1"] and all(x["process"]["exe"]
	    .endswith("dig") for x in t)' --dns-port "$port" "$dir"/t_*.pb
}

case_refused()
{
	local port

	case_dir refused
	traced refused "$UDP_PROG" refused
	check "refused: udp-prog runs traced" judge_ran refused
	port=$(awk '{ print $2 }' "$dir/refused.out")
	check "refused: tap2pcap converts the trace" judge_pcap
	check "refused: tshark sees a SYN to the port, and a RST" eval \
	    "judge_frames 'tcp.dstport == $port && tcp.flags.syn == 1 &&
	    tcp.flags.ack == 0' 1 && judge_frames 'tcp.srcport == $port &&
	    tcp.flags.reset == 1' 1"
	check "refused: tapdump says ECONNREFUSED" judge_tapdump \
	    "-> 127\\.0\\.0\\.1:$port|failed: ECONNREFUSED" "$dir"/t_*.pb
	check "refused: tapdump --json: error ECONNREFUSED, reset by peer" \
	    judge_json 't[0]["error"] == "ECONNREFUSED" and
	    t[0]["reset"] == "peer" and t[0]["connect_ns"] > 0' \
	    "$dir"/t_*.pb
}

case_blackhole()
{
	local port

	case_dir blackhole
	traced blackhole "$UDP_PROG" blackhole
	check "blackhole: udp-prog runs traced" judge_ran blackhole
	port=$(awk '{ print $2 }' "$dir/blackhole.out")
	check "blackhole: tap2pcap converts the traces" judge_pcap
	check "blackhole: tshark sees one unanswered SYN" eval \
	    "judge_frames 'tcp.dstport == $port && tcp.flags.syn == 1 &&
	    tcp.flags.ack == 0' 2 && judge_frames 'tcp.srcport == $port &&
	    tcp.flags.syn == 1' 1"
	check "blackhole: tapdump says the connect was given up" \
	    judge_tapdump 'connect: [0-9]+\.[0-9]{3} ms, failed: EINPROGRESS' \
	    "$dir"/t_*.pb
	check "blackhole: tapdump --json: waited at least 300 ms" judge_json \
	    '[x["connect_ns"] >= 300000000 for x in t
	    if x.get("error") == "EINPROGRESS"] == [True]' "$dir"/t_*.pb
}

case_reset()
{
	local err

	case_dir reset
	traced reset "$UDP_PROG" reset
	check "reset: udp-prog runs traced" judge_ran reset
	err=$(awk '{ print $3 }' "$dir/reset.out")
	check "reset: tapdump: ECONNRESET from the aborted peer" judge_tapdump \
	    'closed after [0-9.]+ ms, reset by peer, ECONNRESET' "$dir"/t_*.pb
	check "reset: JSON: the clients' closes name ECONNRESET, then $err" \
	    judge_json "[x.get('close_error') for x in t
	    if x['role'] == 'client'] == ['ECONNRESET', '$err']" \
	    "$dir"/t_*.pb
	check "reset: tap2pcap converts the traces" judge_pcap
	# A send may draw the closed peer's RST first: ECONNRESET, not EPIPE.
	check "reset: tshark sees the peer's RST (and one more for $err)" \
	    judge_frames 'tcp.flags.reset == 1' \
	    "$([ "$err" = ECONNRESET ] && echo 2 || echo 1)"
}

case_backtrace()
{
	case_dir backtrace
	traced bt TAPSHIM_BACKTRACE=connect "$UDP_PROG" resolve
	check "backtrace: udp-prog runs traced" judge_ran bt
	check "backtrace: the connect's call site names udpprog_dial" \
	    judge_tapdump 'called from: udpprog_dial\+0x[0-9a-f]+ \(udp-prog\)' \
	    "$dir"/t_*.pb
	check "backtrace: JSON: the client's only, main below udpprog_dial" \
	    judge_json '[x["role"] for x in t if "backtrace" in x] ==
	    ["client"] and [f.split("+")[0] for x in t
	    for f in x.get("backtrace", [])][:2] == ["udpprog_dial", "main"]' \
	    "$dir"/t_*.pb
	rm -f "$dir"/t_*.pb
	traced nobt "$UDP_PROG" resolve
	check "backtrace: none without TAPSHIM_BACKTRACE" judge_json \
	    'len(t) == 2 and not any("backtrace" in x for x in t)' \
	    "$dir"/t_*.pb
	check "resolve: tapdump ties getaddrinfo(localhost) to the connect" \
	    judge_tapdump 'resolved: getaddrinfo\("localhost"\) -> (.* )?127\.0\.0\.1( |$)' \
	    "$dir"/t_*.pb
	check "resolve: JSON: the client's resolution only, with its answer" \
	    judge_json '[(x["role"], x["resolution"]["function"],
	    x["resolution"]["name"], "127.0.0.1" in x["resolution"]["answers"],
	    x["resolution"]["duration_ns"] > 0) for x in t
	    if "resolution" in x] == [("client", "getaddrinfo", "localhost",
	    True, True)]' "$dir"/t_*.pb
}

shim_setup "UDP tests" "$TSHARK" "$PYTHON" "$DIG"
for f in "$TAPDUMP" "$UDP_PROG"; do
	built "$f" && continue
	echo "not ok - built: $f"
	echo "0 passed, 1 failed"
	exit 1
done

TAPSHIM_JOBS=${TAPSHIM_JOBS:-1} run_cases ${TAPSHIM_CASES:-udp dns refused \
    blackhole reset backtrace}
