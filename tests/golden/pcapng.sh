#!/usr/bin/env bash
# Tests of tap2pcap's pcapng output (issue 17), from fixed traces: the
# golden capture of tests/data/dump-tcp.textproto byte for byte; the
# packet comments (process, thread, call, backtrace, bytes not recorded),
# the interface per process, the Name Resolution Block (getaddrinfo's
# answers, DNS answers), the Interface Statistics Block, rotation, the
# choice of format, and the errors; tshark and capinfos judge each. pcap
# stays the default and byte-identical to tests/data/http1.pcap (written
# by tap2pcap before pcapng existed).
#
# Environment: top_srcdir, TAP2PCAP (set by make check); TSHARK, PROTOC,
# PYTHON, CAPINFOS. TAPSHIM_UPDATE_GOLDEN=1 rewrites the golden captures.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$top_srcdir/tests/data
dir=

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"

: "${CAPINFOS:=capinfos}"
NR=(-Nn -o nameres.use_external_name_resolver:FALSE)

# tap2pcap, quiet, its stderr in $dir/err.
t2p()
{
	"$TAP2PCAP" -q "$@" 2>"$dir/err" || { echo "tap2pcap $* failed:";
	    cat "$dir/err"; return 1; }
}

# tshark -T fields on FILE, extra arguments after: fields FILE ARGS...
fields()
{
	local f=$1

	shift
	"$TSHARK" -r "$f" -T fields "$@" 2>"$dir/tshark.err"
}

# Judge: FILE is the committed golden WANT, byte for byte.
judge_golden()
{
	[ "${TAPSHIM_UPDATE_GOLDEN:-0}" = 1 ] && cp "$1" "$2"
	cmp "$1" "$2"
}

# Judge: tap2pcap's stderr ($dir/err) is empty: with -q it says nothing,
# and libwiretap's log (every debug message, unless told otherwise) stays
# out of it.
judge_quiet()
{
	[ ! -s "$dir/err" ] || { head -5 "$dir/err"; return 1; }
}

# Judge: capinfos counts N packets in FILE, of file type TYPE.
judge_capinfos()
{
	local out

	out=$("$CAPINFOS" -c -t "$1" 2>&1) || { echo "$out"; return 1; }
	grep -Eq "^Number of packets: +$2\$" <<<"$out" &&
	    grep -Eq "^File type: +.*$3" <<<"$out" || { echo "$out"; return 1; }
}

# Judge: the pcapng's Errors and Warns are exactly the pcap's.
judge_expert_same()
{
	local a b

	a=$("$TSHARK" -r "$1" -q -z expert 2>/dev/null |
	    sed -n '/^\(Errors\|Warns\) (/,/^$/p')
	b=$("$TSHARK" -r "$2" -q -z expert 2>/dev/null |
	    sed -n '/^\(Errors\|Warns\) (/,/^$/p')
	[ "$a" = "$b" ] || { printf 'pcap:\n%s\npcapng:\n%s\n' "$b" "$a";
	    return 1; }
}

# Judge: the output of COMMAND... equals WANT: judge_eq WANT COMMAND...
judge_eq()
{
	local want=$1 got

	shift
	got=$("$@") || { echo "failed: $*"; return 1; }
	[ "$got" = "$want" ] || { printf 'want: %s\ngot:  %s\n' "$want" "$got";
	    return 1; }
}

# Judge: COMMAND... exits STATUS and says MESSAGE (a grep -E pattern).
judge_fails()
{
	local status=$1 msg=$2 rc

	shift 2
	"$@" >"$dir/out" 2>"$dir/err"
	rc=$?
	[ "$rc" -eq "$status" ] && grep -Eq -- "$msg" "$dir/err" && return 0
	echo "exit $rc, stderr:"
	cat "$dir/err"
	return 1
}

# A trace of a process that lost events: dump-tcp with Connection.stats.
stats_trace()
{
	sed 's/^    started {/    stats { read_lost: 700 events_lost: 3 lost_reasons: "max_total_bytes" lost_reasons: "duration" }\n&/' \
	    "$data/dump-tcp.textproto" >"$dir/stats.textproto" &&
	    encode "$dir/stats.textproto" "$dir/stats.pb"
}

# A trace with three 600,000-byte writes, for rotation at -C 1.
big_trace()
{
	"$PYTHON" - "$dir/big.textproto" <<'PY'
import sys
w = open(sys.argv[1], "w")
w.write('socket_buffered_trace { trace_id: 1 connection {\n'
        ' local_address { socket_address { address: "10.0.0.2" port_value: 40000 } }\n'
        ' remote_address { socket_address { address: "10.0.0.1" port_value: 80 } }\n'
        ' role: ROLE_CLIENT pid: 7\n'
        ' process { pid: 7 ppid: 1 exe: "/bin/big" argv: "big" }\n'
        ' started { seconds: 1795497921 } }\n')
for i in range(3):
    w.write(' events { timestamp { seconds: 1795497922 nanos: %d } '
            'write { data { as_bytes: "%s" } } tid: 7 }\n' % (i, "x" * 600000))
w.write('}\n')
PY
	encode "$dir/big.textproto" "$dir/big.pb"
}

# Judge: the -C files r.pcapng and r.pcapng1 each open on their
# own with big[7]'s interface, their packets those of one capture, and
# the first packet of each has its comment.
judge_rotated()
{
	local f t=0 c all

	for f in r.pcapng r.pcapng1; do
		[ -e "$dir/$f" ] || { echo "$f: missing"; return 1; }
		"$CAPINFOS" "$dir/$f" | grep -q 'Name = big\[7\]' ||
		    { echo "$f: no IDB"; return 1; }
		fields "$dir/$f" -Y 'frame.number == 1' -e frame.comment |
		    grep -q '^PID: 7' || { echo "$f: no comment"; return 1; }
		[ "$(stat -c %s "$dir/$f")" -le 1000000 ] ||
		    { echo "$f: past 1 MB"; return 1; }
		c=$(fields "$dir/$f" -e frame.number | wc -l)
		t=$((t + c))
	done
	[ ! -e "$dir/r.pcapng2" ] || { echo "r.pcapng2: one too many"; return 1; }
	all=$("$TAP2PCAP" -q -w - "$dir/big.pb" | "$TSHARK" -r - 2>/dev/null |
	    wc -l)
	[ "$t" = "$all" ] || { echo "packets: $t of $all"; return 1; }
}

# Judge: the Decryption Secrets Block of FILE holds exactly the key log
# KEYS, as TLSK.
judge_dsb()
{
	"$PYTHON" - "$1" "$2" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
want = open(sys.argv[2], 'rb').read()
o = 0
while o < len(d):
    t, n = struct.unpack_from('<II', d, o)
    if t == 10:
        k, l = struct.unpack_from('<II', d, o + 8)
        ok = k == 0x544c534b and d[o + 16:o + 16 + l] == want
        print("DSB" if ok else "a DSB, other content")
        sys.exit(0 if ok else 1)
    o += n
print("no DSB")
sys.exit(1)
PY
}

need_tools "pcapng tests" "$TSHARK" "$PROTOC" "$PYTHON" "$CAPINFOS"
[ -x "$TAP2PCAP" ] || { echo "not ok - built: $TAP2PCAP"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcapng.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
dir=$tmp
for f in dump-tcp dump-dns http1; do
	encode "$data/$f.textproto" "$dir/$f.pb" ||
	    { echo "not ok - $f encoded"; exit 1; }
done

# The golden captures, pcapng and pcap.
check_ok "tcp: tap2pcap writes a .pcapng name" \
    t2p -w "$dir/tcp.pcapng" "$dir/dump-tcp.pb" &&
    check "tcp: the pcapng is the golden one, byte for byte" \
    judge_golden "$dir/tcp.pcapng" "$data/dump-tcp.pcapng" &&
    check "tcp: -q: nothing on stderr, libwiretap's log included" \
    judge_quiet
t2p -w "$dir/tcp.pcap" "$dir/dump-tcp.pb"
check_ok "http1: tap2pcap writes a .pcap name" \
    t2p -w "$dir/http1.pcap" "$dir/http1.pb" &&
    check "http1: the pcap is the golden one (as before pcapng), byte for byte" \
    judge_golden "$dir/http1.pcap" "$data/http1.pcap"
t2p -w "$dir/again.pcapng" "$dir/dump-tcp.pb"
check "tcp: converting twice gives identical pcapng" \
    cmp "$dir/tcp.pcapng" "$dir/again.pcapng"
n=$(fields "$dir/tcp.pcap" -e frame.number | wc -l)
check "tcp: capinfos counts the pcap's $n packets in the pcapng" \
    judge_capinfos "$dir/tcp.pcapng" "$n" pcapng
check "tcp: expert info: the same errors and warnings as the pcap" \
    judge_expert_same "$dir/tcp.pcapng" "$dir/tcp.pcap"
check "tcp: tshark follows the same bytes as in the pcap" \
    judge_eq "$(fields "$dir/tcp.pcap" -e tcp.payload)" \
    fields "$dir/tcp.pcapng" -e tcp.payload

# Comments and interfaces.
check "comment: the SYN names the process, thread, call and call site" \
    judge_eq "PID: 100\nCmd: /usr/bin/curl\nArgs: curl https://www.example.test/\nThreadId: 100\nParentPID: 99\nEvent: write, 18 bytes, 20000 ns\nBacktrace: connect_to+0x2a (curl) | main+0x11 (curl)" \
    fields "$dir/tcp.pcapng" -Y 'frame.number == 1' -e frame.comment
check "comment: the read's first segment has its thread (101) and call" \
    judge_eq "6" eval "fields '$dir/tcp.pcapng' -Y 'frame.comment contains \"ThreadId: 101\" && frame.comment contains \"Event: read, 4096 bytes\" && tcp.len > 0' -e frame.number | head -1"
check "comment: filterable: frame.comment contains \"PID: 100\"" \
    judge_eq "1 2 4 6 7 8 10" eval "fields '$dir/tcp.pcapng' -Y 'frame.comment contains \"PID: 100\"' -e frame.number | tr '\n' ' ' | sed 's/ \$//'"
check "comment: the pure ACKs of the peer carry none" \
    judge_eq "" fields "$dir/tcp.pcapng" -Y 'frame.number == 3' -e frame.comment
check "comment: a truncated packet says how many bytes were not recorded" \
    judge_eq "7" eval "fields '$dir/tcp.pcapng' -Y 'frame.comment contains \"Truncated: 1460 of 1460 bytes not recorded\"' -e frame.number | head -1"
check "interface: named curl[100], the command line its description" \
    eval "'$CAPINFOS' '$dir/tcp.pcapng' | grep -q 'Name = curl\\[100\\]' &&
    '$CAPINFOS' '$dir/tcp.pcapng' | grep -q 'Description = curl https://www.example.test/'"
check "interface: frame.interface_name is curl[100] on every packet" \
    judge_eq "curl[100]" eval "fields '$dir/tcp.pcapng' -e frame.interface_name | sort -u"

# Names.
check "names: getaddrinfo's answer names the server (-Nn, no DNS asked)" \
    judge_eq "www.example.test" fields "$dir/tcp.pcapng" "${NR[@]}" \
    -Y 'frame.number == 1' -e ip.dst_host
check "names: without -Nn the address stays numeric" \
    judge_eq "192.0.2.80" fields "$dir/tcp.pcapng" -n \
    -Y 'frame.number == 1' -e ip.dst_host
check "names: the pcap has no names" \
    judge_eq "192.0.2.80" fields "$dir/tcp.pcap" "${NR[@]}" \
    -Y 'frame.number == 1' -e ip.dst_host
check_ok "dns: tap2pcap converts a DNS trace" \
    t2p -w "$dir/dns.pcapng" "$dir/dump-dns.pb" &&
    check "dns: the DNS answer is in the Name Resolution Block" \
    eval "'$TSHARK' -r '$dir/dns.pcapng' -q -z hosts 2>/dev/null |
    grep -Eq '^192\\.0\\.2\\.1[[:space:]]+www\\.example\\.test\$'"

# Statistics.
stats_trace
check_ok "stats: tap2pcap converts a trace with losses" \
    t2p -w "$dir/stats.pcapng" "$dir/stats.pb" &&
    check "stats: capinfos shows the ISB's ifdrop (3 events lost)" \
    eval "'$CAPINFOS' '$dir/stats.pcapng' | grep -q 'Number of stat entries = 1'" &&
    check "stats: the ISB's comment gives the reasons" \
    eval "grep -aq 'events lost: 3; bytes not recorded: 700 read, 0 written; reasons: max_total_bytes, duration' '$dir/stats.pcapng'"
check "stats: tshark reads it with the expert info of the plain trace" \
    judge_expert_same "$dir/stats.pcapng" "$dir/tcp.pcap"

# The format: the name, --format, stdout.
t2p --format pcapng -w "$dir/forced.pcap" "$dir/dump-tcp.pb"
check "format: --format pcapng on a .pcap name writes pcapng" \
    judge_capinfos "$dir/forced.pcap" "$n" pcapng
t2p --format pcap -w "$dir/forced.pcapng" "$dir/http1.pb"
check "format: --format pcap on a .pcapng name writes pcap, the golden one" \
    cmp "$dir/forced.pcapng" "$data/http1.pcap"
check "format: --format pcapng to stdout is the golden pcapng" \
    eval "'$TAP2PCAP' -q --format pcapng -w - '$dir/dump-tcp.pb' | cmp - '$data/dump-tcp.pcapng'"
t2p -w "$dir/other" "$dir/http1.pb"
check "format: any other name stays pcap" cmp "$dir/other" "$data/http1.pcap"

# Key log: embedded as a Decryption Secrets Block.
printf 'CLIENT_RANDOM %064d %096d\n' 1 2 >"$dir/keys.txt"
t2p --keylog "$dir/keys.txt" -w "$dir/keys.pcapng" "$dir/dump-tcp.pb"
check "keylog: the DSB holds the key log (TLSK)" \
    judge_dsb "$dir/keys.pcapng" "$dir/keys.txt"
check "keylog: the capture reads with the same expert info" \
    judge_expert_same "$dir/keys.pcapng" "$dir/tcp.pcap"

# Rotation: every file stands alone.
big_trace
if check_ok "rotate: tap2pcap -C 1 splits a 1.8 MB trace" \
    t2p -C 1 -w "$dir/r.pcapng" "$dir/big.pb"; then
	check "rotate: two files, each alone with its SHB, IDB and comments" \
    judge_rotated
fi

# Errors.
check "error: --format bogus: exit 2, names the formats" \
    judge_fails 2 "unknown format 'bogus' \\(pcap or pcapng\\)" \
    "$TAP2PCAP" --format bogus -w "$dir/e.pcapng" "$dir/dump-tcp.pb"
check "error: --keylog with a pcap output: exit 2" \
    judge_fails 2 "--keylog needs pcapng" \
    "$TAP2PCAP" --keylog "$dir/keys.txt" -w "$dir/e.pcap" "$dir/dump-tcp.pb"
check "error: --keylog of a missing file: exit 1, nothing written" \
    eval "judge_fails 1 'nokeys.txt: No such file or directory' \
    '$TAP2PCAP' --keylog '$dir/nokeys.txt' -w '$dir/e.pcapng' '$dir/dump-tcp.pb' &&
    [ ! -e '$dir/e.pcapng' ]"
report
