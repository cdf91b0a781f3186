#!/usr/bin/env bash
# Pitfall tests, the process and its fds: libtapshim.so under what breaks
# LD_PRELOAD shims (rows of interposition-pitfalls.md a program can show):
# closing every fd, dup2 over the shim's fds, fork, threads, a signal
# handler inside a hook (and inside fork), another library's constructor
# and destructor, vfork.  The programs are tests/pitfall/*.c, built with
# $CC into the scratch directory; an echo server of our own (pitserv)
# listens on 127.0.0.1 on a port the kernel picks.  Each traced run is
# compared with an untraced run of the same program, and its traces with
# what the program saved of every byte it moved (tests/pitfall/judge.py),
# and through tap2pcap and tshark.  pitfalls-env.sh has the rest.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP and LIBTAPSHIM (set by
# make check); CC, TSHARK, PROTOC, PYTHON, CURL to use other programs.  A
# missing compiler, tshark, protoc or python3 skips the test (exit 77)
# unless TAPSHIM_REQUIRE_TOOLS=1, when it fails it.  TAPSHIM_KEEP_TMP=1
# keeps the scratch directory; TAPSHIM_PITFALLS="fork vfork" runs only those
# groups (the t_NAME functions).
#
# Output: "ok - NAME" or "not ok - NAME" per check, "# ..." notes on what
# the shim did where either answer is allowed, then "N passed, N failed, N
# skipped"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${CC:=cc}"
: "${CURL:=curl}"

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source-path=SCRIPTDIR source=pitlib.sh
. "$top_srcdir/tests/pitfall/pitlib.sh"

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
	local sp

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
	for _ in $(seq 200); do
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

pit_main "pitfall tests" closeall dup2high fork threads signal early vfork
