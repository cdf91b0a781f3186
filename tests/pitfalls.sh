#!/usr/bin/env bash
# Pitfall tests: libtapshim.so under what breaks LD_PRELOAD shims.
#
# One group of checks per row of interposition-pitfalls.md that a
# program can show: closing every fd, dup2 over the shim's fds, fork,
# threads, a signal handler inside a hook (and inside fork), another
# library's constructor and destructor, a full disk, an unwritable
# prefix, a planted symlink, errno, bad settings, vfork, fortified
# reads.  The programs are tests/pitfall/*.c,
# built here with $CC into the scratch directory; an echo server of our
# own (pitserv, untraced unless said) listens on 127.0.0.1 on a port the
# kernel picks.  Each traced run is compared with an untraced run of the
# same program, and its traces with what the program saved of every byte
# it moved (tests/pitfall/judge.py), and through tap2pcap and tshark.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP and LIBTAPSHIM (set
# by make check); CC, TSHARK, PROTOC, PYTHON, CURL to use other programs.  A missing
# compiler, tshark, protoc or python3 skips the test (exit 77) unless
# TAPSHIM_REQUIRE_TOOLS=1, when it fails it; so do a missing curl or a
# tmpfs that cannot be mounted (not root) for the disk-full checks, and
# a missing setpriv (as root) for the read-only-directory check, but
# these skip only their own checks.  TAPSHIM_KEEP_TMP=1 keeps the
# scratch directory; TAPSHIM_PITFALLS="fork vfork" runs only those
# groups (the t_NAME functions).  It takes about 30 s when all pass.
#
# Output: "ok - NAME" or "not ok - NAME" per check, "# ..." notes on
# what the shim did where either answer is allowed, then "N passed,
# N failed, N skipped"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
TAP2PCAP=${TAP2PCAP:-$top_builddir/tools/tap2pcap}
SHIM=${LIBTAPSHIM:-$top_builddir/shim/.libs/libtapshim.so}
: "${CC:=cc}"
: "${CURL:=curl}"
src=$top_srcdir/tests/pitfall
tmp=
bin=
dir=
serv_pid=
mounted=
skipped=
pitfall_cflags="-O1 -Wall -pthread"

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib.sh"

# A check that cannot run here: skipped, or failed when tools are required.
skip()
{
	if [ "${TAPSHIM_REQUIRE_TOOLS:-0}" = 1 ]; then
		failed=$((failed + 1))
		echo "not ok - $1 (cannot run: $2)"
	else
		skipped=$((skipped + 1))
		echo "ok - $1 # SKIP $2"
	fi
}

# Remove what the script made: servers, the tmpfs, the scratch directory.
cleanup()
{
	# shellcheck disable=SC2086
	[ -z "$serv_pid" ] || kill $serv_pid 2>/dev/null
	[ -z "$mounted" ] || umount "$mounted" 2>/dev/null
	if [ "${TAPSHIM_KEEP_TMP:-0}" = 1 ]; then
		echo "# scratch directory: $tmp"
	else
		rm -rf "$tmp"
	fi
}

# Build the test programs and libearly.so into $bin, two at a time.
build()
{
	local p pids=() rc=0

	# shellcheck disable=SC2086
	"$CC" $pitfall_cflags -c -o "$bin/pit.o" "$src/pit.c" || return 1
	for p in closeall dup2high fork threads signal sigfork errno vfork \
	    client early_main pitserv; do
		# shellcheck disable=SC2086
		"$CC" $pitfall_cflags -o "$bin/$p" "$src/$p.c" "$bin/pit.o" &
		pids+=($!)
		if [ "${#pids[@]}" -ge 2 ]; then
			wait "${pids[0]}" || rc=1
			pids=("${pids[@]:1}")
		fi
	done
	# shellcheck disable=SC2086
	"$CC" $pitfall_cflags -O2 -D_FORTIFY_SOURCE=2 -o "$bin/fortify" \
	    "$src/fortify.c" "$src/pit.c" &
	pids+=($!)
	# shellcheck disable=SC2086
	"$CC" $pitfall_cflags -shared -fPIC -fvisibility=hidden \
	    -o "$bin/libearly.so" "$src/early.c" "$src/pit.c" &&
	    "$CC" $pitfall_cflags -o "$bin/early_linked" "$src/early_main.c" \
	    "$bin/pit.o" -L"$bin" -Wl,--no-as-needed -learly \
	    -Wl,-rpath,"$bin" || rc=1
	for p in "${pids[@]}"; do
		wait "$p" || rc=1
	done
	return "$rc"
}

# Wait for an echo server to write its port into file $1.
wait_port()
{
	local i

	for i in $(seq 200); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	echo "no echo server port in $1"
	return 1
}

# A fresh case directory $tmp/NAME, with exp/ for what the program saves.
case_dir()
{
	dir=$tmp/$1
	mkdir -p "$dir/exp" "$dir/exp0"
}

# Run a program untraced in $dir: out0, err0, rc0; PIT_EXP=$dir/exp0.
# $PRELOAD0, if set, is preloaded into the program (not into timeout).
untraced()
{
	timeout 20 env ${PRELOAD0:+LD_PRELOAD="$PRELOAD0"} \
	    PIT_EXP="$dir/exp0" "$@" >"$dir/out0" 2>"$dir/err0"
	echo $? >"$dir/rc0"
}

# Run a program traced in $dir, prefix $dir/t: out, err, rc.  Only the
# program is preloaded (the shim, or $PRELOAD), not timeout(1).
traced()
{
	timeout 20 env LD_PRELOAD="${PRELOAD:-$SHIM}" \
	    TAPSHIM_PATH_PREFIX="$dir/t" PIT_EXP="$dir/exp" "$@" \
	    >"$dir/out" 2>"$dir/err"
	echo $? >"$dir/rc"
}

# The trace files in $dir (prefix t, or $1).
traces()
{
	local f

	for f in "$dir/${1:-t}"_*.pb; do
		[ -e "$f" ] && echo "$f"
	done
}

# Judge that always fails, showing a log.
judge_log()
{
	cat "$1"
	return 1
}

# Judge: exit 0 both ways, the same stdout, nothing on stderr traced.
judge_unchanged()
{
	local rc0 rc

	rc0=$(cat "$dir/rc0") rc=$(cat "$dir/rc")
	if [ "$rc" != 0 ] || [ "$rc0" != 0 ]; then
		echo "exit status untraced $rc0, traced $rc"
		[ "$rc" != 124 ] || echo "(124: timed out: a deadlock?)"
		cat "$dir/err0" "$dir/err"
		return 1
	fi
	diff -u "$dir/out0" "$dir/out" || return 1
	[ ! -s "$dir/err" ] && return 0
	echo "stderr, traced:"
	cat "$dir/err"
	return 1
}

# Judge: the same file written with and without the shim.
judge_file()
{
	cmp "$dir/$1.0" "$dir/$1" && return 0
	echo "traced file differs from the untraced one:"
	diff <(od -c "$dir/$1.0") <(od -c "$dir/$1") | head -20
	return 1
}

# Judge: tap2pcap reads every trace, quietly, into one capture.
judge_tap2pcap()
{
	local t

	mapfile -t t < <(traces "$@")
	[ "${#t[@]}" -gt 0 ] || { echo "no trace files in $dir"; return 1; }
	run_tap2pcap -w "$dir/all.pcap" "${t[@]}"
}

# Judge: traces byte-exact with what the program moved (judge.py files).
judge_files()
{
	local t opts=()

	while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do
		opts+=("$1")
		shift
	done
	mapfile -t t < <(traces "$@")
	"$PYTHON" "$src/judge.py" files "${opts[@]}" "$dir/exp" "${t[@]}"
}

# Judge: tshark follows the program's bytes (judge.py capture).
judge_capture()
{
	local t

	mapfile -t t < <(traces "$@")
	[ "${#t[@]}" -gt 0 ] || { echo "no trace files in $dir"; return 1; }
	"$PYTHON" "$src/judge.py" capture "$dir/exp" "$dir" "${t[@]}"
}

# Judge: stderr is one line, "tapshim: ...", holding every given string.
judge_one_message()
{
	local err=$1 s

	shift
	if [ "$(wc -l <"$err")" -ne 1 ] || ! grep -q '^tapshim: ' "$err"; then
		echo "expected one 'tapshim:' line on stderr, got:"
		cat "$err"
		return 1
	fi
	for s in "$@"; do
		grep -qF -- "$s" "$err" && continue
		echo "the message does not say '$s':"
		cat "$err"
		return 1
	done
}

# Judge: no trace file at all in directory $1.
judge_no_traces()
{
	local f

	f=$(find "$1" -name '*.pb*' | head -5)
	[ -z "$f" ] && return 0
	echo "trace files made: $f"
	return 1
}

# 1. Close every fd (close_range, closefrom, a close() loop), then write
# a file of our own around more traced traffic.  Under ulimit -n 1024
# the shim's fds are 960-1023, which the loop reaches.
t_closeall()
{
	local how

	for how in range from loop; do
		case_dir "closeall-$how"
		(ulimit -n 1024; untraced "$bin/closeall" "$how" \
		    "$dir/file.0")
		(ulimit -n 1024; traced "$bin/closeall" "$how" "$dir/file")
		check "closeall $how: the program runs as without the shim" \
		    judge_unchanged
		check "closeall $how: its file holds only its own bytes" \
		    judge_file file
		check "closeall $how: tap2pcap reads the traces" judge_tap2pcap
		check "closeall $how: traces hold exactly the bytes moved" \
		    judge_files
		check "closeall $how: tshark follows exactly those bytes" \
		    judge_capture
	done
}

# Judge: the program's fds all stayed open in its forked child.
judge_child_fds()
{
	grep -q ' 0 closed in a forked child' "$dir/out" && return 0
	grep 'forked child' "$dir/out"
	return 1
}

# Judge: a file the program never wrote is still empty.
judge_empty()
{
	[ ! -s "$1" ] && return 0
	echo "$1: $(wc -c <"$1") bytes, expected none; it starts:"
	head -c 128 "$1" | od -c | head -5
	return 1
}

# 2. dup2 a file over the shim's high fds (1000-1023 and the 64 below the
# limit), fork, go on; and a thread racing dup2 against trace writes.
t_dup2high()
{
	local lim

	for lim in default 1024; do
		case_dir "dup2high-$lim"
		(
			[ "$lim" = default ] || ulimit -n "$lim"
			untraced "$bin/dup2high" dup "$dir/file.0"
			traced "$bin/dup2high" dup "$dir/file"
		)
		check "dup2high ulimit $lim: the program runs as without the shim" \
		    judge_unchanged
		check "dup2high ulimit $lim: a forked child keeps every fd" \
		    judge_child_fds
		check "dup2high ulimit $lim: its file holds only its own bytes" \
		    judge_file file
		check "dup2high ulimit $lim: traces hold exactly the bytes moved" \
		    judge_files
		check "dup2high ulimit $lim: tshark follows exactly those bytes" \
		    judge_capture
	done
	case_dir dup2race
	untraced "$bin/dup2high" race "$dir/file.0" 200
	traced "$bin/dup2high" race "$dir/file" 1500
	check "dup2 racing trace writes: the program runs as without the shim, no trace data lost" \
	    judge_unchanged
	check "dup2 racing trace writes: the shim never wrote the program's file" \
	    judge_empty "$dir/file"
}

# Judge: the pid and ports protoc decodes from each trace are those of a
# connection the program saved, once each; $1 of them are the child's.
judge_pids()
{
	local f got want child=$1

	got=$(for f in $(traces); do
		"$PROTOC" --decode=tapshim.trace.TraceWrapper \
		    --proto_path="$top_srcdir/proto" tapshim.proto <"$f" |
		    awk '/local_address/ { w = "l" } /remote_address/ { w = "r" }
			/port_value:/ { p[w] = $2 } /pid:/ { pid = $2 }
			END { print pid "." p["l"] "." p["r"] }' || echo "$f"
	done | sort)
	want=$(for f in "$dir"/exp/*.w; do basename "$f" .w; done | sort)
	if [ "$got" != "$want" ]; then
		echo "traces (pid.lport.rport, protoc --decode):"
		echo "$got"
		echo "connections the processes made:"
		echo "$want"
		return 1
	fi
	[ "$(echo "$got" | grep -c "^$child\.")" -eq 2 ] && return 0
	echo "expected 2 traces with the child's pid $child"
	return 1
}

# 3. fork: connections of the parent's, of the child's, and the child's
# use of the parent's socket: distinct traces with the right pid.
t_fork()
{
	local child

	case_dir fork
	untraced "$bin/fork"
	traced "$bin/fork"
	check "fork: the program runs as without the shim" judge_unchanged
	check "fork: traces hold exactly each process's bytes" judge_files
	child=$(cat "$dir/exp/child.pid" 2>/dev/null)
	check "fork: protoc decodes one trace per connection and process, the child's with its pid" \
	    judge_pids "${child:-none}"
	check "fork: tshark follows exactly those bytes" judge_capture
}

# 4. threads: 8 threads x 10 connections, all open at once, to a traced
# echo server: 80 client and 80 server traces, each byte-exact.
t_threads()
{
	local sp i

	case_dir threads
	LD_PRELOAD=$SHIM TAPSHIM_PATH_PREFIX=$dir/s "$bin/pitserv" \
	    "$dir/port" 30 80 2>"$dir/serv.err" &
	sp=$!
	if ! wait_port "$dir/port" >>"$dir/serv.err"; then
		check "threads: traced echo server starts" \
		    judge_log "$dir/serv.err"
		kill "$sp"
		return
	fi
	PIT_PORT=$(cat "$dir/port") traced "$bin/threads" 8 10
	# It exits by itself once its 80 connections are served.
	for i in $(seq 200); do
		kill -0 "$sp" 2>/dev/null || break
		sleep 0.05
	done
	kill "$sp" 2>/dev/null &&
	    echo "traced echo server still running: killed" >>"$dir/serv.err"
	wait "$sp" || echo "traced echo server: exit status $?" \
	    >>"$dir/serv.err"
	cat "$dir/serv.err" >>"$dir/err"
	echo "threads: 80 connections done" >"$dir/out0"
	echo 0 >"$dir/rc0"
	check "threads: the program and the traced server run as without the shim" \
	    judge_unchanged
	check "threads: 80 client and 80 server traces" judge_count 80 80
	check "threads: every trace holds exactly the bytes moved" \
	    judge_threads
	check "threads: tshark follows exactly those bytes" \
	    judge_capture_both
}

# Judge: the numbers of client (t_*) and server (s_*) traces.
judge_count()
{
	local got

	got="$(traces t | wc -l) $(traces s | wc -l)"
	[ "$got" = "$1 $2" ] && return 0
	echo "client and server traces: $got, expected $1 $2"
	return 1
}

judge_threads()
{
	local t

	mapfile -t t < <(traces t; traces s)
	"$PYTHON" "$src/judge.py" files --mirror "$dir/exp" "${t[@]}"
}

judge_capture_both()
{
	local t

	mapfile -t t < <(traces t; traces s)
	"$PYTHON" "$src/judge.py" capture --mirror "$dir/exp" "$dir" "${t[@]}"
}

# Judge: the signal program finished, its echo whole.
judge_signal_run()
{
	local rc

	rc=$(cat "$dir/rc")
	if [ "$rc" != 0 ]; then
		echo "exit status $rc"
		[ "$rc" != 124 ] || echo "(124: still running after 20 s:" \
		    "deadlocked)"
		cat "$dir/out" "$dir/err"
		return 1
	fi
	grep -q 'echo matches' "$dir/out" && [ ! -s "$dir/err" ] && return 0
	cat "$dir/out" "$dir/err"
	return 1
}

# Judge: the trace has the program's bytes exactly, and any of the
# handler's in wire order; how many is noted in $dir/handler.
judge_signal_trace()
{
	local t

	mapfile -t t < <(traces)
	[ "${#t[@]}" -eq 1 ] || { echo "${#t[@]} traces, expected 1"; return 1; }
	"$PYTHON" "$src/judge.py" interleaved "$dir/exp" '!' "${t[0]}" \
	    >"$dir/handler" || { cat "$dir/handler"; return 1; }
}

# 5. A signal handler writing to the socket while the main thread is in
# read() or writing: SIGALRM every 2 ms, or SIGUSR1 from another thread.
t_signal()
{
	local mode

	for mode in alarm kill; do
		case_dir "signal-$mode"
		traced "$bin/signal" "$mode"
		check "signal $mode: no deadlock, every byte echoed" \
		    judge_signal_run
		check "signal $mode: tap2pcap reads the trace" judge_tap2pcap
		check "signal $mode: the trace holds the program's bytes, reads exactly" \
		    judge_signal_trace
		[ -s "$dir/handler" ] &&
		    echo "# signal $mode: $(cat "$dir/handler") (the rest came" \
		    "while the main thread was inside a hook)"
	done
	# Untraced it takes under a second.
	case_dir sigfork
	timeout 8 env LD_PRELOAD="$SHIM" TAPSHIM_PATH_PREFIX="$dir/t" \
	    "$bin/sigfork" >"$dir/out" 2>"$dir/err"
	echo $? >"$dir/rc"
	echo "sigfork: 200 forks, some handler writes" >"$dir/out0"
	echo 0 >"$dir/rc0"
	: >"$dir/err0"
	check "signal handler writing while the thread forks: no deadlock" \
	    judge_unchanged
}

# Judge: ld.so runs libearly's constructor before the shim's and its
# destructor after ($1: the LD_DEBUG=files log).
judge_order()
{
	local order

	order=$(grep -Eo 'calling (init|fini): [^ ]*(libearly|libtapshim)[^ ]*' \
	    "$1" | sed -E 's/calling (init|fini): .*(libearly|libtapshim).*/\1 \2/' |
	    tr '\n' ',')
	[ "$order" = "init libearly,init libtapshim,fini libtapshim,fini libearly," ] &&
	    return 0
	echo "ld.so order: $order"
	return 1
}

# 6. Another library's constructor connects and sends before the shim's
# constructor ran (and its destructor after the shim's destructor):
# libearly.so linked into the program, or preloaded after the shim.
t_early()
{
	local how

	for how in linked preloaded; do
		case_dir "early-$how"
		if [ "$how" = linked ]; then
			set -- "$bin/early_linked"
			untraced "$@"
			LD_DEBUG=files LD_PRELOAD=$SHIM \
			    TAPSHIM_PATH_PREFIX=$dir/ld "$@" >/dev/null \
			    2>"$dir/ld.log"
			traced "$@"
		else
			set -- "$bin/early_main"
			PRELOAD0=$bin/libearly.so untraced "$@"
			LD_DEBUG=files LD_PRELOAD="$SHIM $bin/libearly.so" \
			    TAPSHIM_PATH_PREFIX=$dir/ld "$@" >/dev/null \
			    2>"$dir/ld.log"
			PRELOAD="$SHIM $bin/libearly.so" traced "$@"
		fi
		check "early $how: libearly's constructor runs before the shim's, its destructor after" \
		    judge_order "$dir/ld.log"
		check "early $how: the program runs as without the shim" \
		    judge_unchanged
		check "early $how: the constructor's and destructor's bytes are traced exactly" \
		    judge_files
	done
}

# 7. Disk full: the trace prefix on a 256 KiB tmpfs, curl downloading
# 2 MB twice (two connections) from a local python3 HTTP server.
t_diskfull()
{
	local port sp url

	case_dir diskfull
	mkdir -p "$dir/full" "$dir/www"
	if ! command -v "$CURL" >/dev/null 2>&1; then
		skip "disk full: curl unaffected, one message, traces readable" \
		    "no $CURL"
		return
	fi
	if ! mount -t tmpfs -o size=256k tmpfs "$dir/full" 2>"$dir/mount.err"
	then
		skip "disk full: curl unaffected, one message, traces readable" \
		    "cannot mount a tmpfs: $(head -1 "$dir/mount.err")"
		return
	fi
	mounted=$dir/full
	"$PYTHON" - "$dir/www/big" <<'EOF'
import sys
line = b"%07d tapshim disk-full pitfall payload 0123456789abcdef\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"".join(line % i for i in range(2 * 1000 * 1000 // 56)))
EOF
	"$PYTHON" - "$dir/www" "$dir/port" <<'EOF' 2>"$dir/serv.err" &
import functools, http.server, os, sys, threading

class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

s = http.server.ThreadingHTTPServer(
    ("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("%d\n" % s.server_address[1])
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
threading.Timer(30, os._exit, (0,)).start()
s.serve_forever()
EOF
	sp=$!
	serv_pid="$serv_pid $sp"
	wait_port "$dir/port" >/dev/null
	port=$(cat "$dir/port" 2>/dev/null)
	url=http://127.0.0.1:$port/big
	(cd "$dir" && untraced "$CURL" -sS -o a.0 "$url" -o b.0 "$url")
	(
		cd "$dir" || exit 1
		timeout 20 env LD_PRELOAD="$SHIM" \
		    TAPSHIM_PATH_PREFIX="$dir/full/t" "$CURL" -sS -o a "$url" \
		    -o b "$url" >"$dir/out" 2>"$dir/err"
		echo $? >"$dir/rc"
	)
	kill "$sp" 2>/dev/null
	cp "$dir/err" "$dir/err.keep"
	: >"$dir/err"
	check "disk full: curl runs as without the shim" judge_unchanged
	check "disk full: both downloads are whole" judge_downloads
	check "disk full: one clear 'tapshim:' message on stderr" \
	    judge_one_message "$dir/err.keep" "No space left on device"
	check "disk full: tap2pcap reads every trace that exists" \
	    judge_tap2pcap full/t
	check "disk full: what the trace holds is the start of the download, cut at a whole chunk" \
	    judge_full_prefix
	umount "$dir/full" && mounted=
}

# Judge: both traced downloads are the served file.
judge_downloads()
{
	cmp "$dir/a" "$dir/www/big" && cmp "$dir/b" "$dir/www/big"
}

# Judge: the first trace's reads begin the HTTP response exactly.
judge_full_prefix()
{
	"$PYTHON" - "$src" "$dir/full/t_0.pb" "$dir/www/big" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import judge
t = judge.Trace(sys.argv[2])
body = open(sys.argv[3], "rb").read()
r = bytes(t.data["read"])
head, sep, got = r.partition(b"\r\n\r\n")
if not sep or not head.startswith(b"HTTP/1.0 200"):
    sys.exit("the trace's reads do not start with an HTTP response: %r"
             % r[:80])
if len(got) == 0 or body[:len(got)] != got:
    sys.exit("the trace holds %d body bytes, not a prefix of the file"
             % len(got))
print("%d body bytes traced" % len(got))
EOF
}

# 8. An unwritable prefix: a directory that does not exist, and (as an
# unprivileged user: root ignores the mode) one with mode 0555.
t_unwritable()
{
	local prefix

	case_dir unwritable-missing
	prefix=$dir/missing/dir/t
	untraced "$bin/client" 3
	timeout 20 env LD_PRELOAD="$SHIM" TAPSHIM_PATH_PREFIX="$prefix" \
	    PIT_EXP="$dir/exp" "$bin/client" 3 >"$dir/out" 2>"$dir/err.keep"
	echo $? >"$dir/rc"
	: >"$dir/err"
	check "missing prefix directory: the program runs as without the shim" \
	    judge_unchanged
	check "missing prefix directory: one message naming the file" \
	    judge_one_message "$dir/err.keep" "${prefix}_0.pb" \
	    "No such file or directory"

	case_dir unwritable-0555
	mkdir -p "$dir/ro"
	chmod 0555 "$dir/ro"
	if [ "$(id -u)" != 0 ]; then
		set --
	elif command -v setpriv >/dev/null 2>&1; then
		set -- setpriv --reuid=65534 --regid=65534 --clear-groups --
	else
		skip "mode 0555 prefix directory: program unaffected, one message" \
		    "root, and no setpriv to drop privileges"
		return
	fi
	if ! "$@" test -r "$SHIM" -a -x "$bin/client"; then
		skip "mode 0555 prefix directory: program unaffected, one message" \
		    "user 65534 cannot read $SHIM"
		return
	fi
	prefix=$dir/ro/t
	PIT_EXP='' timeout 20 "$@" "$bin/client" 3 >"$dir/out0" 2>"$dir/err0"
	echo $? >"$dir/rc0"
	PIT_EXP='' timeout 20 "$@" env LD_PRELOAD="$SHIM" \
	    TAPSHIM_PATH_PREFIX="$prefix" "$bin/client" 3 >"$dir/out" \
	    2>"$dir/err.keep"
	echo $? >"$dir/rc"
	: >"$dir/err"
	check "mode 0555 prefix directory: the program runs as without the shim" \
	    judge_unchanged
	check "mode 0555 prefix directory: one message naming the file" \
	    judge_one_message "$dir/err.keep" "${prefix}_0.pb" \
	    "Permission denied"
	check "mode 0555 prefix directory: no trace file" judge_no_traces \
	    "$dir/ro"
}

# Judge: a planted link and what it points to are as they were.
judge_planted()
{
	local link=$1 target=$2 want=$3

	if [ "$(readlink "$link")" != "$target" ]; then
		echo "$link is no longer a link to $target"
		ls -l "$link"
		return 1
	fi
	if [ "$want" = absent ]; then
		[ ! -e "$target" ] && return 0
		echo "$target was created through the link"
		return 1
	fi
	[ "$(stat -c '%s %Y %a' "$target"; cat "$target")" = "$want" ] &&
	    return 0
	echo "$target changed: $(stat -c '%s %Y %a' "$target")"
	return 1
}

# Judge: the trace went to t_1.pb, a regular file, mode 0600.
judge_next_name()
{
	local m

	m=$(stat -c '%F %a' "$dir/t_1.pb" 2>&1)
	[ "$m" = "regular file 600" ] && [ ! -e "$dir/t_2.pb" ] && return 0
	ls -l "$dir"
	return 1
}

# 9. A planted symlink at the next trace name: to a file, and dangling.
t_symlink()
{
	local kind want

	for kind in victim dangling; do
		case_dir "symlink-$kind"
		untraced "$bin/client" 1
		if [ "$kind" = victim ]; then
			echo "victim's own bytes" >"$dir/victim"
			touch -d '2020-01-01 00:00:00' "$dir/victim"
			want=$(stat -c '%s %Y %a' "$dir/victim"; cat "$dir/victim")
		else
			want=absent
		fi
		ln -s "$dir/victim" "$dir/t_0.pb"
		traced "$bin/client" 1
		# judge_files reads t_*.pb: the link is not a trace.
		mv "$dir/t_0.pb" "$dir/link_0.pb"
		check "symlink to a $kind file: the program runs as without the shim" \
		    judge_unchanged
		check "symlink to a $kind file: the link and its target are untouched" \
		    judge_planted "$dir/link_0.pb" "$dir/victim" \
		    "$want"
		check "symlink to a $kind file: the trace is t_1.pb, mode 0600" \
		    judge_next_name
		check "symlink to a $kind file: t_1.pb holds exactly the bytes moved" \
		    judge_files
	done
}

# 10. errno after failing (and succeeding) calls through every hook.
t_errno()
{
	case_dir errno
	untraced "$bin/errno"
	traced "$bin/errno"
	check "errno: the program sees the errno the kernel gives" \
	    grep -qx 'errno: 0 unexpected' "$dir/out0"
	check "errno: the same results and errno with the shim" \
	    judge_unchanged
	check "errno: tap2pcap reads the traces" judge_tap2pcap
}

# 11. A bad setting: one message naming the variable, no trace file,
# the program as without the shim.
t_badconf()
{
	local setting var i=0

	for setting in TAPSHIM_FORMAT=bogus TAPSHIM_FORMAT=PROTO_TEXT \
	    TAPSHIM_MAX_BUFFERED_RX_BYTES=12x \
	    TAPSHIM_MAX_BUFFERED_RX_BYTES=-1 \
	    TAPSHIM_MAX_BUFFERED_TX_BYTES=1T TAPSHIM_DEBUG=yes \
	    "TAPSHIM_PATH_PREFIX=$tmp/badconf-prefix/"; do
		var=${setting%%=*}
		case_dir "badconf-$((i++))"
		untraced "$bin/client" 2
		(
			cd "$dir" || exit 1
			timeout 20 env LD_PRELOAD="$SHIM" \
			    TAPSHIM_PATH_PREFIX="$dir/t" PIT_EXP="$dir/exp" \
			    "$setting" "$bin/client" 2 >"$dir/out" \
			    2>"$dir/err.keep"
			echo $? >"$dir/rc"
			: >"$dir/err"
		)
		check "bad $setting: the program runs as without the shim" \
		    judge_unchanged
		check "bad $setting: one message naming $var" \
		    judge_one_message "$dir/err.keep" "$var"
		check "bad $setting: no trace file" judge_no_traces "$dir"
	done
}

# 12. vfork: the child writes to the parent's socket (and connects one
# of its own) then _exit()s, or closes it, or dup2()s it onto stdout,
# then execs /bin/true.
t_vfork()
{
	local mode

	for mode in write close dup2; do
		case_dir "vfork-$mode"
		untraced "$bin/vfork" "$mode"
		traced "$bin/vfork" "$mode"
		check "vfork $mode: the program runs as without the shim" \
		    judge_unchanged
		check "vfork $mode: one trace, the parent's, holding exactly its bytes" \
		    judge_files
	done
}

# 13. Fortified reads (_FORTIFY_SOURCE): __read_chk, __recv_chk and
# __recvfrom_chk are traced like read, recv and recvfrom.
t_fortify()
{
	case_dir fortify
	untraced "$bin/fortify"
	traced "$bin/fortify"
	check "fortified reads: the program calls the _chk functions" \
	    judge_chk "$bin/fortify"
	check "fortified reads: the program runs as without the shim" \
	    judge_unchanged
	check "fortified reads: the trace holds exactly the bytes moved" \
	    judge_files
}

# Judge: a binary imports the three fortified read functions.
judge_chk()
{
	local f

	for f in __read_chk __recv_chk __recvfrom_chk; do
		grep -aq "$f" "$1" || { echo "$1 does not call $f"; return 1; }
	done
}

need_tools "pitfall tests" "$CC" "$TSHARK" "$PROTOC" "$PYTHON"
resolve_python
if [ ! -x "$TAP2PCAP" ] || [ ! -e "$SHIM" ]; then
	echo "not ok - tap2pcap and libtapshim.so built ($TAP2PCAP, $SHIM)"
	echo "0 passed, 1 failed"
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pitfalls.XXXXXX") || exit 99
trap cleanup EXIT
trap 'exit 1' INT TERM
# The unprivileged run must reach the programs.
chmod 0755 "$tmp"
bin=$tmp/bin
mkdir -p "$bin"
# judge.py imports follow.py: no bytecode left in the source tree.
export PYTHONDONTWRITEBYTECODE=1
export WIRESHARK_CONFIG_DIR=$tmp/wireshark
mkdir -p "$WIRESHARK_CONFIG_DIR"
dir=$tmp
if ! build >"$tmp/build.log" 2>&1; then
	check "the pitfall programs build" judge_log "$tmp/build.log"
	report
	exit 1
fi
"$bin/pitserv" "$tmp/port" 300 &
serv_pid=$!
if ! wait_port "$tmp/port"; then
	echo "not ok - the echo server starts"
	echo "0 passed, 1 failed"
	exit 1
fi
PIT_PORT=$(cat "$tmp/port")
export PIT_PORT

for t in ${TAPSHIM_PITFALLS:-closeall dup2high fork threads signal early \
    diskfull unwritable symlink errno badconf vfork fortify}; do
	"t_$t"
done

echo "$passed passed, $failed failed, ${skipped:-0} skipped"
[ "$failed" -eq 0 ]
