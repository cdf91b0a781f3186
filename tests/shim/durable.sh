#!/usr/bin/env bash
# Durable traces: what a traced program
# moved is in its trace however it ends, and the trace says how it ended.
#
# tests/shim/durable-prog is traced (through tapshim, for its summary and
# --stats) against its own untraced peer, which keeps every byte it
# received. For both formats (pb, ld), each way a program can end:
#   kill     SIGKILL during 100000-byte writes, 10 times (some kills land
#            inside a record): the trace holds a prefix of what the peer
#            got, short of it by at most the write under way
#   wait     SIGKILL, and SIGTERM, while blocked reading after a request
#   segv, abort, _exit, exec: died (no close); a return from main with
#   the socket open: ended by exit; fork (a child writes and _exits)
#   idle     the trace is on disk while the program still runs
#   full     a disk full (a 1 MiB tmpfs): the program runs on, the trace
#            ends cut (disk_full), the summary says so
#   fsize    ulimit -f: the program survives with its exit status, the
#            trace ends cut (file_size_limit)
# Each compares the bytes the peer got with what tshark follows in the
# capture tap2pcap makes of the trace. Also: under ulimit -n 16 the
# program opens as many sockets as untraced, and a trace file never
# takes a low fd the program expects (11.3, 11.4).
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, TAPSHIM_PROG,
# TAPDUMP, LIBTAPSHIM, DURABLE_PROG (set by make check); TSHARK, PYTHON.
# A missing tshark or python3 skips (77) unless TAPSHIM_REQUIRE_TOOLS=1.
# Output: "ok - NAME" / "not ok - NAME", then "N passed, N failed".

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source-path=SCRIPTDIR source=shimlib.sh
. "$top_srcdir/tests/shim/shimlib.sh"
: "${DURABLE_PROG:=$top_builddir/tests/shim/durable-prog}"

# Start the untraced peer in $dir, answering REPLY bytes; port in $port.
peer_start()
{
	rm -f "$dir/port"
	timeout 60 "$DURABLE_PROG" peer "$dir/port" "$dir/recv" "$1" &
	peer_pid=$!
	for _ in $(seq 100); do
		[ -s "$dir/port" ] && break
		sleep 0.05
	done
	port=$(cat "$dir/port")
}

# Wait for the peer to have seen the connection end.
peer_wait()
{
	wait "$peer_pid"
}

# Run durable-prog MODE ARGS... traced by tapshim in the background, the
# format $fmt, prefix $dir/t, --stats $dir/stats.json; pid in $prog_pid.
traced_bg()
{
	"$TAPSHIM_PROG" -F "$fmt" -o "$dir/t" --stats "$dir/stats.json" \
	    "$DURABLE_PROG" "$@" >"$dir/prog.out" 2>"$dir/prog.err" &
	prog_pid=$!
}

# The pid of durable-prog, tapshim's child (once it runs).
prog_child()
{
	local c

	for _ in $(seq 100); do
		c=$(pgrep -P "$prog_pid" | head -1)
		[ -n "$c" ] && { echo "$c"; return; }
		sleep 0.02
	done
	echo "$prog_pid"
}

ext()
{
	[ "$fmt" = pb ] && echo .pb || echo .pb_length_delimited
}

# Judge: tap2pcap converts TRACE (exit 0) and tshark follows in its
# stream 0 exactly EXPECT_C2S and EXPECT_S2C; with "prefix", a prefix of
# EXPECT_C2S short by at most 100000 bytes (the write under way); with
# "prefix-any", any prefix (a trace cut by a limit).
judge_bytes()
{
	local trace=$1 c2s=$2 s2c=$3 how=${4:-exact}

	"$TAP2PCAP" -w "$dir/out.pcap" "$trace" 2>"$dir/t2p.err" || {
		echo "tap2pcap failed:"; cat "$dir/t2p.err"; return 1; }
	"$PYTHON" - "$dir/out.pcap" "$c2s" "$s2c" "$how" <<'PY'
import sys
sys.path.insert(0, sys.argv[0] and __import__("os").environ["FOLLOW_DIR"])
import follow
pcap, c2s, s2c, how = sys.argv[1:]
want = [open(c2s, "rb").read(), open(s2c, "rb").read() if s2c != "-" else b""]
found = follow.follow(pcap, [0], [])
if 0 not in found:
    sys.exit("no TCP stream 0 in %s" % pcap)
got = found[0][2:]
bad = []
if how.startswith("prefix"):
    if not want[0].startswith(got[0]) or (how == "prefix" and
                                          len(want[0]) - len(got[0]) > 100000):
        bad.append("client to server: %d bytes followed, not a prefix of "
                   "the %d the peer got (or short by more than a write)"
                   % (len(got[0]), len(want[0])))
elif got[0] != want[0]:
    bad.append(follow.compare("client to server", want[0], got[0]))
if got[1] != want[1]:
    bad.append(follow.compare("server to client", want[1], got[1]))
if bad:
    sys.exit("\n".join(bad))
PY
}

# Judge: FILE matches the extended regular expression RE.
judge_grep()
{
	grep -Eq -- "$2" "$1" && return 0
	echo "$1 does not match /$2/:"
	cat "$1"
	return 1
}

# Judge: FILE does not match RE.
judge_nogrep()
{
	grep -Eq -- "$2" "$1" || return 0
	echo "$1 matches /$2/:"
	cat "$1"
	return 1
}

# Judge: tapdump --json says trace TRACE ended ENDING (and CUT_REASON).
judge_ending()
{
	"$TAPDUMP" --json "$1" >"$dir/dump.json" 2>"$dir/dump.err" || {
		cat "$dir/dump.err"; return 1; }
	"$PYTHON" - "$dir/dump.json" "$2" "${3:-}" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["traces"][0]
if t.get("ending") != sys.argv[2] or t.get("cut_reason", "") != sys.argv[3]:
    sys.exit("ending %r (cut_reason %r), expected %r (%r)" % (
        t.get("ending"), t.get("cut_reason"), sys.argv[2], sys.argv[3]))
PY
}

# A request-and-answer case: MODE, how it ends (tapdump's ending), the
# exit status tapshim passes on, a signal to send once ready (or -).
case_ending()
{
	local mode=$1 ending=$2 status=$3 sig=$4 rc

	dir=$tmp/$mode-$sig-$fmt
	mkdir -p "$dir"
	peer_start "$([ "$mode" = wait ] && echo 0 || echo 1000)"
	traced_bg "$mode" "$port"
	if [ "$sig" != - ]; then
		# Blocked in read after the request: the peer has it.
		for _ in $(seq 200); do
			[ -s "$dir/recv" ] && break
			sleep 0.05
		done
		sleep 0.2
		kill -"$sig" "$(prog_child)"
	fi
	wait "$prog_pid"
	rc=$?
	peer_wait
	[ -e "$dir/recv.sent" ] || : >"$dir/recv.sent"
	check "$mode $sig $fmt: exit status $status" test "$rc" -eq "$status"
	check "$mode $sig $fmt: the trace holds what the peer got, and its answer" \
	    judge_bytes "$dir/t_0$(ext)" "$dir/recv" "$dir/recv.sent"
	check "$mode $sig $fmt: the trace says it ended: $ending" \
	    judge_ending "$dir/t_0$(ext)" "$ending"
	if [ "$ending" = died ]; then
		check "$mode $sig $fmt: tap2pcap says not finished, no FIN" \
		    judge_grep "$dir/t2p.err" "not finished \(the writer did not close it\); [0-9]+ zero bytes ignored.*|no close: its process died"
		check "$mode $sig $fmt: the summary never says lost no bytes" \
		    judge_nogrep "$dir/prog.err" "lost no bytes"
		check "$mode $sig $fmt: the summary says the process died" \
		    judge_grep "$dir/prog.err" "1 connection\(s\) have no end in their trace"
	else
		check "$mode $sig $fmt: the summary says lost no bytes" \
		    judge_grep "$dir/prog.err" "^tapshim: lost no bytes$"
	fi
}

# SIGKILL during large writes, 10 times: a prefix each time, and cut or
# unfinished files read up to their last whole record.
case_kill()
{
	local i n bad=0 cut=0

	for i in $(seq 10); do
		dir=$tmp/kill-$i-$fmt
		mkdir -p "$dir"
		peer_start 0
		traced_bg big "$port"
		n=$((300000 + i * 137000))
		for _ in $(seq 400); do
			[ "$(stat -c %s "$dir/recv" 2>/dev/null || echo 0)" -ge \
			    "$n" ] && break
			sleep 0.01
		done
		kill -KILL "$(prog_child)"
		wait "$prog_pid"
		peer_wait
		if ! out=$(judge_bytes "$dir/t_0$(ext)" "$dir/recv" - prefix \
		    2>&1); then
			bad=$((bad + 1))
			printf 'kill %d:\n%s\n' "$i" "$out"
		fi
		grep -q "cut short" "$dir/t2p.err" && cut=$((cut + 1))
		# Direct mode: the file's mapped tail; collector mode: the
		# file ends at a whole record, the trace without its close.
		grep -Eq "cut short|not finished|has no close" "$dir/t2p.err" ||
			{ bad=$((bad + 1)); echo "kill $i: no notice:";
			cat "$dir/t2p.err"; }
	done >"$tmp/kill-$fmt.log"
	echo "# $fmt: $cut of 10 kills cut a record short"
	check "kill $fmt: 10 SIGKILLs mid-write: each trace holds a prefix of what the peer got, within one write, said cut or unfinished" \
	    test "$bad" -eq 0 -o -n "$(cat "$tmp/kill-$fmt.log" >&2)"
}

# The idle connection's events are on disk while the program runs.
case_idle()
{
	dir=$tmp/idle-$fmt
	mkdir -p "$dir"
	peer_start 1000
	traced_bg idle "$port"
	for _ in $(seq 200); do
		grep -q ready "$dir/prog.out" 2>/dev/null && break
		sleep 0.05
	done
	cp "$dir/t_0$(ext)" "$dir/copy$(ext)"
	check "idle $fmt: while it runs, its trace holds the request and the answer" \
	    judge_bytes "$dir/copy$(ext)" "$dir/recv" "$dir/recv.sent"
	kill -TERM "$(prog_child)"
	wait "$prog_pid"
	peer_wait
}

# A forked child writes the request and _exits: its trace holds it.
case_fork()
{
	dir=$tmp/fork-$fmt
	mkdir -p "$dir"
	peer_start 1000
	traced_bg fork "$port"
	wait "$prog_pid"
	peer_wait
	check "fork $fmt: the child's trace holds the request it sent" \
	    judge_bytes "$dir/t_1$(ext)" "$dir/recv" -
	check "fork $fmt: the parent's trace holds the answer" \
	    judge_grep "$dir/prog.err" "captured 25 bytes sent, 1000 bytes received"
}

# A full disk: the program is unaffected, the trace ends cut, loss said.
case_full()
{
	local mnt=$tmp/small-$fmt

	dir=$tmp/full-$fmt
	mkdir -p "$dir" "$mnt"
	if ! mount -t tmpfs -o size=1m tmpfs "$mnt" 2>/dev/null; then
		echo "# full $fmt: skipped: cannot mount a tmpfs (not root?)"
		return
	fi
	peer_start 0
	# Direct mode: the shim keeps room for the trace's end.
	"$TAPSHIM_PROG" --direct -F "$fmt" -o "$mnt/t" --stats "$dir/stats.json" \
	    "$DURABLE_PROG" send "$port" 4000000 >"$dir/prog.out" \
	    2>"$dir/prog.err"
	rc=$?
	peer_wait
	cp "$mnt/t_0$(ext)" "$dir/"
	umount "$mnt"
	check "full $fmt: the program runs on (exit 0), all 4000000 bytes sent" \
	    test "$rc" -eq 0 -a "$(stat -c %s "$dir/recv")" -eq 4000000
	check "full $fmt: the trace holds a prefix of what was sent" \
	    judge_bytes "$dir/t_0$(ext)" "$dir/recv" - prefix-any
	check "full $fmt: the trace says it was cut: disk_full" \
	    judge_ending "$dir/t_0$(ext)" cut disk_full
	check "full $fmt: the summary names disk_full, not a per-socket limit" \
	    judge_grep "$dir/prog.err" "lost [0-9]+ bytes sent, 0 bytes received: .*disk_full"
	check "full $fmt: --stats: kept + lost = 4000000, reason disk_full, as the trace" \
	    judge_stats "$dir/stats.json" "$dir/t_0$(ext)" 4000000 disk_full
}

# Judge: --stats kept + lost written is TOTAL, REASON among the reasons,
# and the bytes and events kept are what tapdump counts in the trace
# (a recorder that counted before writing once said 1048576 bytes and 16
# events where the trace held 983040 and 15).
judge_stats()
{
	"$TAPDUMP" --json "$2" >"$dir/dump.json" || return 1
	"$PYTHON" - "$1" "$dir/dump.json" "$3" "$4" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))["traces"][0]
total, reason = int(sys.argv[3]), sys.argv[4]
kept, lost = s["bytes_captured"]["written"], s["bytes_lost"]["written"]
bad = []
if kept + lost != total:
    bad.append("kept %d + lost %d != %d" % (kept, lost, total))
if reason not in s.get("lost_reasons", []):
    bad.append("%r not in lost_reasons %r" % (reason, s.get("lost_reasons")))
sent = d.get("bytes_sent")
if sent != kept:
    bad.append("the trace holds %r bytes sent, --stats says %d" % (sent, kept))
if d.get("writes") != s["events_captured"]:
    bad.append("the trace holds %r writes, --stats says %d events" % (
        d.get("writes"), s["events_captured"]))
if bad:
    sys.exit("; ".join(bad) + "\n" + json.dumps(s))
PY
}

# Collector mode, the disk full (size 1m) or RLIMIT_FSIZE (ulimit -f):
# the program and the launcher survive, the trace ends at a whole record
# and the summary names the file and why.
case_full_collector()
{
	local mnt=$tmp/csmall-$fmt how=$1

	dir=$tmp/cfull-$how-$fmt
	mkdir -p "$dir" "$mnt"
	if [ "$how" = full ] && ! mount -t tmpfs -o size=1m tmpfs "$mnt" \
	    2>/dev/null; then
		echo "# collector full $fmt: skipped: cannot mount a tmpfs"
		return
	fi
	peer_start 0
	(if [ "$how" = fsize ]; then ulimit -f 200; fi
	exec "$TAPSHIM_PROG" -F "$fmt" -o "$mnt/t" --stats "$dir/stats.json" \
	    "$DURABLE_PROG" send "$port" 4000000) >"$dir/prog.out" \
	    2>"$dir/prog.err"
	rc=$?
	peer_wait
	cp "$mnt/t_0$(ext)" "$dir/"
	[ "$how" = full ] && umount "$mnt"
	check "collector $how $fmt: program and launcher run on (exit 0), all 4000000 bytes sent" \
	    test "$rc" -eq 0 -a "$(stat -c %s "$dir/recv")" -eq 4000000
	check "collector $how $fmt: the trace holds a prefix of what was sent, whole records" \
	    judge_bytes "$dir/t_0$(ext)" "$dir/recv" - prefix-any
	check "collector $how $fmt: the summary names the file and why" \
	    judge_grep "$dir/prog.err" "t_0$(ext): (No space left on device|File too large); the trace ends at its last whole record"
	check "collector $how $fmt: --stats counts the bytes not written" \
	    "$PYTHON" -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(s["mode"] != "collector" or s["collector"]["bytes_not_written"] == 0)' "$dir/stats.json"
}

# RLIMIT_FSIZE: the program survives, its exit status unchanged.
case_fsize()
{
	dir=$tmp/fsize-$fmt
	mkdir -p "$dir"
	peer_start 0
	# In collector mode too: the ring's memfd exceeds the limit, the
	# process cannot join and writes its traces itself.
	(ulimit -f 200; exec "$TAPSHIM_PROG" -F "$fmt" -o "$dir/t" \
	    --stats "$dir/stats.json" "$DURABLE_PROG" send "$port" 1000000) \
	    >"$dir/prog.out" 2>"$dir/prog.err"
	rc=$?
	peer_wait
	check "fsize $fmt: ulimit -f 200: the program survives (exit 0, no SIGXFSZ)" \
	    test "$rc" -eq 0 -a "$(stat -c %s "$dir/recv")" -eq 1000000
	check "fsize $fmt: the trace stays within the limit" \
	    test "$(stat -c %s "$dir/t_0$(ext)")" -le 204800
	check "fsize $fmt: the trace holds a prefix of what was sent" \
	    judge_bytes "$dir/t_0$(ext)" "$dir/recv" - prefix-any
	check "fsize $fmt: the trace says it was cut: file_size_limit" \
	    judge_ending "$dir/t_0$(ext)" cut file_size_limit
	check "fsize $fmt: the summary names file_size_limit" \
	    judge_grep "$dir/prog.err" "lost [0-9]+ bytes sent, 0 bytes received: .*file_size_limit"
	check "fsize $fmt: --stats as the trace" \
	    judge_stats "$dir/stats.json" "$dir/t_0$(ext)" 1000000 file_size_limit
}

# ulimit -n 16: as many sockets as untraced; no trace on a low fd.
case_fds()
{
	local a b

	dir=$tmp/fds-$fmt
	mkdir -p "$dir"
	a=$(ulimit -n 16; "$DURABLE_PROG" nfile)
	b=$(ulimit -n 16; cd "$dir" && LD_PRELOAD=$SHIM TAPSHIM_FORMAT=$fmt \
	    TAPSHIM_PATH_PREFIX=$dir/n "$DURABLE_PROG" nfile)
	check "fds $fmt: ulimit -n 16: $b connections traced, as $a untraced" \
	    test -n "$a" -a "$a" = "$b"
	peer_start 0
	(ulimit -n 16; cd "$dir" && LD_PRELOAD=$SHIM TAPSHIM_FORMAT=$fmt \
	    TAPSHIM_PATH_PREFIX=$dir/t exec "$DURABLE_PROG" lowfd "$port")
	rc=$?
	peer_wait
	check "fds $fmt: fds 1 and 2 closed, 3 MB sent: the program's next open gets fd 2" \
	    judge_grep "$dir/lowfd.out" "^fd 2$"
	check "fds $fmt: ... and its trace is whole, holding what was sent" \
	    judge_bytes "$dir/t_0$(ext)" "$dir/recv" -
}

need_tools "durable tests" "$TSHARK" "$PYTHON"
shim_setup "durable tests" "$TSHARK" "$PYTHON"
export FOLLOW_DIR=$top_srcdir/tests/lib
export TAPSHIM_LIBRARY=$LIBTAPSHIM
[ -x "$DURABLE_PROG" ] || { echo "not ok - built: $DURABLE_PROG";
    echo "0 passed, 1 failed"; exit 1; }

for fmt in pb ld; do
	case_kill
	case_ending wait died 137 KILL
	case_ending wait died 143 TERM
	case_ending segv died 139 -
	case_ending abort died 134 -
	case_ending exit died 3 -
	case_ending return exit 0 -
	case_ending exec died 0 -
	case_idle
	case_fork
	case_full
	case_fsize
	case_full_collector full
	case_fds
done
report
