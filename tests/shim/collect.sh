#!/usr/bin/env bash
# The launcher as the run's collector: traced processes hand their trace
# bytes to tapshim through a ring of their own, tapshim writes the files.
#
# Cases (collect-prog's modes), each judged by --stats ("mode":
# "collector", the collector's figures) and by the traces (tapdump
# --json) against what the untraced peer received:
#   fork     100 children each make a connection: 100 traces, numbers
#            0..99 with no clash, each holding its child's bytes.
#   exec     a connection, exec of a traced program, another: 2 traces.
#   kill     SIGKILL right after 3 MB of writes: what the peer got is in
#            the trace, byte for byte (the collector drains the ring of
#            the dead process).
#   closeall close_range() of every fd between two connections: both
#            traced, no fd of ours in the program.
#   setuid   (root) a connection, setuid(65534), another: both traced
#            by the collector, files root's, in the prefix's directory,
#            with no fallback directory.
#   stopped  the launcher (the collector) is stopped mid-transfer, then
#            killed: the program finishes unchanged, all bytes sent, and
#            says the traces were cut (collector_gone).
#   direct   --direct: the same run, files written by the processes.
#
# Environment: as durable.sh (make check sets it); COLLECT_PROG.
# Output: "ok - NAME" / "not ok - NAME", then "N passed, N failed".

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source-path=SCRIPTDIR source=shimlib.sh
. "$top_srcdir/tests/shim/shimlib.sh"
: "${COLLECT_PROG:=$top_builddir/tests/shim/collect-prog}"
export TAPSHIM_LIBRARY=$LIBTAPSHIM

# An untraced peer in $dir: reads each connection to its end, answers
# "ok", appends the byte count received to $dir/recv; port in $port.
peer_start()
{
	rm -f "$dir/port" "$dir/recv"
	timeout 120 "$PYTHON" - "$dir/port" "$dir/recv" <<'PY' &
import socket, sys, threading
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(256)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
lock = threading.Lock()
def serve(c):
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
    try:
        c.sendall(b"ok\n")
    except OSError:
        pass
    c.close()
    with lock:
        with open(sys.argv[2], "a") as f:
            f.write("%d\n" % n)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	peer_pid=$!
	for _ in $(seq 200); do
		[ -s "$dir/port" ] && break
		sleep 0.05
	done
	port=$(cat "$dir/port")
}

peer_stop()
{
	kill "$peer_pid" 2>/dev/null
	wait "$peer_pid" 2>/dev/null
}

# Wait until the peer logged N connections (at most 30 s).
peer_count()
{
	for _ in $(seq 600); do
		[ "$(wc -l <"$dir/recv" 2>/dev/null || echo 0)" -ge "$1" ] &&
			return 0
		sleep 0.05
	done
	return 1
}

# Run collect-prog MODE under tapshim in $dir, prefix $dir/t.
run()
{
	"$TAPSHIM_PROG" "${opts[@]}" -o "$dir/t" --stats "$dir/stats.json" \
	    "$COLLECT_PROG" "$1" "$port" "${@:2}" >"$dir/out" 2>"$dir/err"
	rc=$?
}

# Judge: --stats says MODE (collector/direct) and, in collector mode, at
# least PROCS processes joined and FILES trace files were written; the
# traces' bytes sent, sorted, are the peer's counts, sorted.
judge()
{
	"$TAPDUMP" --json "$dir"/t_*.pb >"$dir/dump.json" 2>"$dir/dump.err" ||
		{ cat "$dir/dump.err"; return 1; }
	"$PYTHON" - "$dir/stats.json" "$dir/dump.json" "$dir/recv" "$1" \
	    "$2" "$3" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))["traces"]
recv = sorted(int(x) for x in open(sys.argv[3]).read().split())
mode, procs, files = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
bad = []
if s.get("mode") != mode:
    bad.append("mode %r, not %r" % (s.get("mode"), mode))
if mode == "collector":
    c = s.get("collector", {})
    if c.get("processes", 0) < procs:
        bad.append("%r processes joined, not %d" % (c.get("processes"), procs))
    if c.get("trace_files") != files:
        bad.append("collector wrote %r files, not %d" % (c.get("trace_files"), files))
    for k in ("records_dropped", "bytes_torn", "bytes_not_written"):
        if c.get(k):
            bad.append("%s %r" % (k, c.get(k)))
sent = sorted(t.get("bytes_sent", 0) for t in d)
if sent != recv:
    bad.append("traces sent %r, the peer got %r" % (sent[:10], recv[:10]))
if bad:
    sys.exit("; ".join(bad))
PY
}

# The trace numbers are 0..N-1, no gap, no clash.
numbers()
{
	local n
	n=$(find "$dir" -maxdepth 1 -name 't_*.pb' | sed 's/.*t_\([0-9]*\)\.pb/\1/' |
	    sort -n | tr '\n' ' ')
	[ "$n" = "$(seq 0 $(($1 - 1)) | tr '\n' ' ')" ] ||
		{ echo "numbers: $n"; return 1; }
}

case_fork()
{
	dir=$tmp/fork-$1
	mkdir -p "$dir"
	peer_start
	run fork100
	peer_count 100
	check "fork $1: 100 children, exit 0" test "$rc" -eq 0
	check "fork $1: 100 traces, numbered 0..99" numbers 100
	check "fork $1: each trace holds its child's bytes" \
	    judge "$1" 100 100
	peer_stop
}

case_exec()
{
	dir=$tmp/exec
	mkdir -p "$dir"
	peer_start
	run exec
	peer_count 2
	check "exec: exit 0, two traces (before and after exec)" \
	    test "$rc" -eq 0 -a "$(ls "$dir"/t_*.pb | wc -l)" -eq 2
	check "exec: the exec'd image joins again, both traces whole" \
	    judge collector 2 2
	peer_stop
}

case_kill()
{
	dir=$tmp/kill
	mkdir -p "$dir"
	peer_start
	run kill 3000000
	peer_count 1
	check "kill: the program died of SIGKILL (137)" test "$rc" -eq 137
	check "kill: the peer got 3000000 bytes, the trace holds them all" \
	    judge collector 1 1
	peer_stop
}

case_closeall()
{
	dir=$tmp/closeall
	mkdir -p "$dir"
	peer_start
	run closeall
	peer_count 2
	check "closeall: close_range() of every fd: exit 0" test "$rc" -eq 0
	check "closeall: both connections traced" judge collector 1 2
	peer_stop
}

case_setuid()
{
	if [ "$(id -u)" -ne 0 ]; then
		echo "# setuid: skipped: not root"
		return
	fi
	dir=$tmp/setuid
	mkdir -p "$dir"
	chmod 755 "$dir"
	peer_start
	run setuid
	peer_count 2
	check "setuid: exit 0, no message of the shim" \
	    test "$rc" -eq 0 -a -z "$(grep -v '^tapshim' "$dir/err")"
	check "setuid: both connections traced by the collector" \
	    judge collector 1 2
	check "setuid: both files root's, mode 0600, at the prefix" \
	    test "$(stat -c '%U %a' "$dir"/t_*.pb | sort -u)" = "root 600"
	peer_stop
}

case_stopped()
{
	local lpid i
	dir=$tmp/stopped
	mkdir -p "$dir"
	peer_start
	"$TAPSHIM_PROG" -o "$dir/t" "$COLLECT_PROG" stream "$port" \
	    200000000 >"$dir/out" 2>"$dir/err" &
	lpid=$!
	for i in $(seq 200); do
		[ -n "$(ls "$dir"/t_*.pb 2>/dev/null)" ] && break
		sleep 0.05
	done
	kill -STOP "$lpid"
	sleep 3
	kill -KILL "$lpid"
	wait "$lpid" 2>/dev/null
	peer_count 1
	for i in $(seq 200); do
		grep -q done "$dir/out" && break
		sleep 0.05
	done
	check "stopped: the program finished, as untraced (done 200000000)" \
	    test "$(cat "$dir/out")" = "done 200000000"
	check "stopped: the peer got every byte" \
	    test "$(cat "$dir/recv")" = 200000000
	check "stopped: the shim said the trace was cut (collector_gone)" \
	    grep -q "collector_gone" "$dir/err"
	peer_stop
}

shim_setup "collector tests" "$PYTHON"
opts=()
case_fork collector
case_exec
case_kill
case_closeall
case_setuid
case_stopped
opts=(--direct)
case_fork direct
report
