#!/usr/bin/env bash
# Integration tests of the tapshim launcher: real programs run through it.
#
# Cases, each in its own scratch directory:
#   status   the program's exit status (0, 3, 128 + a signal), 126 and 127
#            for a program that cannot run or is not there, 125 for a bad
#            option or setting (the program not run); --help, --version.
#   env      LD_PRELOAD appended to the program's own, the prefix made
#            absolute, options into TAPSHIM_ variables.
#   signals  ^C (SIGINT) reaches the program, not the launcher, which
#            sums up; SIGTERM to the launcher is passed on.
#   run      a shell traced through tapshim -w runs two curls against
#            python3's http.server: two traces, a summary whose byte
#            counts are what the curls moved, and a capture in which
#            tshark follows each stream back to its curl's bytes, with
#            no expert warning; -q says nothing; --max-rx-bytes counts
#            the bytes past the limit as lost.
#   daemon   a traced shell leaves a job running that connects after it
#            exited: the launcher waits for it (and says so), and its
#            connection is in the summary and -w's capture; interrupted
#            while waiting, it says the job still runs.
#   scope    -f: a pcap-filter that matches traces, one that misses
#            traces nothing, a bad one stops; --max-connections,
#            --max-total-bytes and --duration: what a limit keeps out is
#            counted as lost (by the summary and --stats's JSON, read by
#            python3) and the bytes kept and lost add up to what the
#            programs moved; the trace files stay within the byte limit.
#   warn     warnings before running a static, a setuid, a
#            file-capability (none when root runs it) and a Go program,
#            none for a dynamic one;
#            each runs all the same.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, TAPSHIM_PROG,
# LIBTAPSHIM (set by make check); TSHARK, PROTOC, PYTHON, CURL, CC to use
# other programs; TAPSHIM_CASES to run only some cases. A missing tshark,
# protoc, python3 or curl skips the test (exit 77) unless
# TAPSHIM_REQUIRE_TOOLS=1, when it fails it; the warnings that need root,
# setcap or a static libc skip only their own check. TAPSHIM_KEEP_TMP=1
# keeps the scratch directory.
#
# Output: "ok - NAME" or "not ok - NAME" per check, then "N passed, N
# failed"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${CC:=cc}"
export TAPSHIM_LIBRARY=$LIBTAPSHIM

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source-path=SCRIPTDIR source=shimlib.sh
. "$top_srcdir/tests/shim/shimlib.sh"

# Run tapshim as NAME with the arguments given: NAME.rc, .out, .err.
launch()
{
	local name=$1

	shift
	run "$name" timeout 60 "$TAPSHIM_PROG" "$@"
}

# Judge: run NAME exited with STATUS, its stderr matching the extended
# regular expression ERR ("" for an empty stderr).
judge_exit()
{
	local rc err=$dir/$1.err

	rc=$(cat "$dir/$1.rc")
	if [ "$rc" != "$2" ]; then
		echo "exit status $rc, expected $2; stderr:"
		cat "$err"
		return 1
	fi
	if [ -z "$3" ]; then
		[ -s "$err" ] || return 0
	elif grep -Eq -- "$3" "$err"; then
		return 0
	fi
	echo "stderr does not match '$3':"
	cat "$err"
	return 1
}

# Judge: FILE holds exactly TEXT.
judge_text()
{
	local got

	got=$(cat "$1")
	[ "$got" = "$2" ] && return 0
	echo "$1: '$got', expected '$2'"
	return 1
}

# Exit statuses, and the launcher's own failures.
case_status()
{
	launch help --help
	check "status: --help: exit 0, usage on stdout" \
	    eval 'judge_exit help 0 "" && grep -q "^usage: tapshim" '"$dir/help.out"
	launch version -V
	check "status: -V: exit 0" judge_exit version 0 ""
	launch zero -q -o "$dir/t" -- true
	check "status: true: exit 0" judge_exit zero 0 ""
	launch three -q -o "$dir/t" -- sh -c 'exit 3'
	check "status: exit 3 passed on" judge_exit three 3 ""
	launch killed -q -o "$dir/t" -- sh -c 'kill -TERM $$'
	check "status: killed by SIGTERM: 128 + 15" judge_exit killed 143 ""
	launch absent -q -o "$dir/t" -- /nonexistent/prog
	check "status: not found: 127, said" judge_exit absent 127 \
	    '^tapshim: /nonexistent/prog: No such file or directory$'
	printf 'true\n' >"$dir/noexec"
	launch noexec -q -o "$dir/t" -- "$dir/noexec"
	check "status: not executable: 126, said" judge_exit noexec 126 \
	    'Permission denied'
	launch badfmt -o "$dir/t" -F xml -- touch "$dir/ran"
	check "status: a bad format: 125, the variable named, not run" \
	    eval 'judge_exit badfmt 125 "^tapshim: TAPSHIM_FORMAT: " &&
	    [ ! -e '"$dir/ran"' ]'
	launch badmax -o "$dir/t" --max-rx-bytes=lots -- touch "$dir/ran"
	check "status: a bad byte count: 125, the variable named" \
	    judge_exit badmax 125 '^tapshim: TAPSHIM_MAX_BUFFERED_RX_BYTES: '
	launch badopt --bogus -- true
	check "status: an unknown option: 125" judge_exit badopt 125 'usage'
	TAPSHIM_LIBRARY=$dir/none.so launch nolib -- touch "$dir/ran"
	check "status: no library: 125, said, not run" \
	    eval 'judge_exit nolib 125 "none.so: No such file" &&
	    [ ! -e '"$dir/ran"' ]'
}

# What the program's environment holds.
case_env()
{
	local lib

	# The launcher's own libm (ldd): with i386 libraries installed too,
	# a search could find theirs first.
	lib=$(ldd "$TAPSHIM_PROG" 2>/dev/null | awk '$1 == "libm.so.6" { print $3 }')
	[ -n "$lib" ] ||
	    lib=$(find /lib /usr/lib -name 'libm.so.6' 2>/dev/null | head -n 1)
	launch badtls -o "$dir/t" --tls none -- touch "$dir/ran"
	check "env: --tls none: 125, TAPSHIM_TLS named, not run" \
	    eval 'judge_exit badtls 125 "^tapshim: TAPSHIM_TLS: " &&
	    [ ! -e '"$dir/ran"' ]'
	launch badbt -o "$dir/t" --backtrace=always -- touch "$dir/ran"
	check "env: --backtrace=always: 125, TAPSHIM_BACKTRACE named" \
	    judge_exit badbt 125 "^tapshim: TAPSHIM_BACKTRACE: "
	launch nodir -o "$dir/none/t" -- touch "$dir/ran"
	check "env: a prefix in no directory: 125, said, not run" \
	    eval 'judge_exit nodir 125 "none: No such file or directory" &&
	    [ ! -e '"$dir/ran"' ]'
	mkdir -p "$dir/rel"
	# An ASan build of tapshim must not mind libm coming first.
	(cd "$dir" && ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    LD_PRELOAD=$lib launch env -q -o rel/t -F ld \
	    --max-tx-bytes 2K --max-rx-bytes=3M --tls both --keylog keys \
	    --backtrace -D -- sh -c 'printf "%s\n" "$LD_PRELOAD" \
	    "$TAPSHIM_PATH_PREFIX" "$TAPSHIM_FORMAT" \
	    "$TAPSHIM_MAX_BUFFERED_TX_BYTES" "$TAPSHIM_MAX_BUFFERED_RX_BYTES" \
	    "$TAPSHIM_TLS" "$TAPSHIM_KEYLOG" "$TAPSHIM_BACKTRACE" \
	    "$TAPSHIM_DEBUG"')
	# As root, workers that drop privileges trace into a per-run
	# directory (TAPSHIM_FALLBACK_PREFIX); the prefix stays the user's.
	check "env: exit 0; -D: the shim says where it traces" \
	    judge_exit env 0 "^tapshim: pid [0-9]+: tracing into $dir/rel/t_<N>"
	printf '%s\n' "$lib:$LIBTAPSHIM" "$dir/rel/t" ld 2K 3M both keys \
	    connect 1 >"$dir/env.want"
	check "env: LD_PRELOAD appended, prefix absolute, options set" \
	    diff -u "$dir/env.want" "$dir/env.out"
}

# Interrupts: the launcher survives ^C; its SIGTERM goes on.
case_signals()
{
	local pid i

	launch int -o "$dir/t" -- sh -c 'kill -INT $PPID; sleep 0.5; exit 4'
	check "signals: SIGINT to the launcher: the program's status, summed up" \
	    judge_exit int 4 '^tapshim: no connection traced'
	timeout 60 "$TAPSHIM_PROG" -q -o "$dir/t" -- sleep 30 \
	    >"$dir/term.out" 2>"$dir/term.err" &
	pid=$!
	# Wait until sleep runs under the launcher, then stop the launcher.
	for i in $(seq 100); do
		pgrep -P "$pid" -x sleep >/dev/null && break
		sleep 0.1
	done
	kill -TERM "$pid"
	wait "$pid"
	echo $? >"$dir/term.rc"
	check "signals: SIGTERM passed on: the program dies of it (143)" \
	    judge_exit term 143 ""
}

# Judge: the summary names 2 trace files and the bytes the curls moved.
judge_summary()
{
	local sent received

	sent=$(cat "$dir/c1.c2s" "$dir/c2.c2s" | wc -c)
	received=$(cat "$dir/c1.s2c" "$dir/c2.s2c" | wc -c)
	judge_exit run 0 "^tapshim: 2 trace files, $dir/tr/t_0.pb \.\.\. t_1.pb: 2 connections$" &&
	    judge_exit run 0 "^tapshim: captured $sent bytes sent, $received bytes received, in [0-9]+ events$" &&
	    judge_exit run 0 '^tapshim: lost no bytes$' &&
	    judge_exit run 0 "^tapshim: $dir/out.pcap: [0-9]+ packets from 2 file"
}

# Lines "STREAM CLIENT C2S S2C" for the two curls in out.pkts.
run_streams()
{
	local n c

	for n in c1 c2; do
		c=127.0.0.1:$(cat "$dir/$n.out")
		echo "$(stream_from "$dir/out.pkts" "$c") $c $dir/$n.c2s" \
		    "$dir/$n.s2c"
	done
}

# A shell running two curls, traced through tapshim -w.
case_run()
{
	local port url script n

	port=$(free_port)
	http_server "$port"
	url=http://127.0.0.1:$port/blob.bin
	for n in c1 c2; do
		script="${script:-}$CURL -sS --trace $dir/$n.trace -w %{local_port}"
		script="$script -o $dir/$n.got $url >$dir/$n.out 2>$dir/$n.err;"
		script="$script echo \$? >$dir/$n.rc;"
	done
	launch run -o "$dir/tr/t" -w "$dir/out.pcap" -- sh -c "$script"
	for n in c1 c2; do
		check "run: curl $n, a child of the traced shell: a 200 with the file" \
		    judge_curl "$n" "$tmp/www/blob.bin" 1.0
	done
	check "run: the summary: 2 traces, every byte each way, none lost" \
	    judge_summary
	pkts_of "$dir/out.pcap" "$dir/out.pkts"
	run_streams >"$dir/out.streams"
	check "run: -w's capture: each stream what its curl sent and got" \
	    judge_follow_streams "$dir/out.pcap" <"$dir/out.streams"
	check "run: -w's capture: no expert warnings or errors" \
	    judge_expert "$dir/out.pcap"
	launch quiet -q -o "$dir/tr/q" -- "$CURL" -s -o /dev/null "$url"
	check "run: -q: exit 0, nothing said, a trace written" \
	    eval 'judge_exit quiet 0 "" && [ -s '"$dir/tr/q_0.pb"' ]'
	launch lim -o "$dir/tr/l" --max-rx-bytes 1000 -- "$CURL" -s \
	    -o /dev/null "$url"
	n=$(($(wc -c <"$dir/c1.s2c") - 1000))
	check "run: --max-rx-bytes 1000: the other $n bytes received lost" \
	    judge_exit lim 0 "^tapshim: lost 0 bytes sent, $n bytes received: max_buffered_rx_bytes$"
	server_stop
}

# A daemon: the traced shell starts a background job and exits; the job
# fetches the file afterwards. The launcher waits for it: its connection
# is in the summary and in -w's capture. Then one that never ends on its
# own: an interrupt stops the waiting, and the summary says it still runs.
case_daemon()
{
	local port url pid i job

	port=$(free_port)
	http_server "$port"
	url=http://127.0.0.1:$port/blob.bin
	launch dmn -o "$dir/tr/t" -w "$dir/out.pcap" -- sh -c "(sleep 1;
	    $CURL -sS -o $dir/d.got $url) >/dev/null 2>&1 & exit 5"
	check "daemon: the program's exit status; the launcher says it waits" \
	    judge_exit dmn 5 '^tapshim: the program exited, processes it started still run: waiting for them'
	check "daemon: the background job's connection is in the summary" \
	    judge_exit dmn 5 "^tapshim: 1 trace file, $dir/tr/t_0.pb: 1 connection"
	check "daemon: and in -w's capture" \
	    judge_exit dmn 5 "^tapshim: $dir/out.pcap: [0-9]+ packets from 1 file"
	check "daemon: the job got the file" cmp "$dir/d.got" "$tmp/www/blob.bin"
	timeout 60 "$TAPSHIM_PROG" -o "$dir/tr/s" -- sh -c 'sleep 60 & exit 0' \
	    >"$dir/stuck.out" 2>"$dir/stuck.err" &
	pid=$!
	for i in $(seq 100); do
		grep -q 'waiting for them' "$dir/stuck.err" && break
		sleep 0.1
	done
	# The job, now the launcher's child (its subreaper): ended below.
	job=$(pgrep -P "$pid" -x sleep)
	kill -INT "$pid"
	wait "$pid"
	echo $? >"$dir/stuck.rc"
	[ -z "$job" ] || kill "$job" 2>/dev/null
	check "daemon: interrupted, the launcher says the job still runs" \
	    judge_exit stuck 0 '^tapshim: processes the program started still run: the summary does not have'
	server_stop
}

# Judge: the stats JSON in FILE has every field, and makes each python3
# expression given (over the object j) true.
judge_stats()
{
	local file=$1

	shift
	"$PYTHON" - "$file" "$@" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
for key in ("trace_files", "connections_traced", "connections_lost",
            "events_captured", "events_lost", "trace_bytes_reserved",
            "duration_ns", "exit_status"):
    assert isinstance(j[key], int), key
for key in ("bytes_captured", "bytes_lost"):
    assert set(j[key]) == {"read", "written"}, key
bad = [e for e in sys.argv[2:] if not eval(e)]
if bad:
    print("not true of %s: %s" % (sys.argv[1], bad))
    print(json.dumps(j, indent=1))
    sys.exit(1)
EOF
}

# A shell running N curls of URL one after another, traced: NAME N URL
# ARGS... (tapshim's options).
curls()
{
	local name=$1 n=$2 url=$3

	shift 3
	launch "$name" -o "$dir/tr/$name" --stats "$dir/$name.json" "$@" -- \
	    sh -c "for i in \$(seq $n); do $CURL -s -o /dev/null $url; done"
}

# The filter, and each of the run's limits.
case_scope()
{
	local port url r

	port=$(free_port)
	http_server "$port"
	url=http://127.0.0.1:$port/blob.bin
	launch fmatch -o "$dir/tr/fm" -f "tcp port $port" -- "$CURL" -s \
	    -o /dev/null "$url"
	check "scope: -f 'tcp port $port': the connection traced" \
	    judge_exit fmatch 0 "^tapshim: 1 trace file, $dir/tr/fm_0.pb: 1 connection"
	launch fmiss -o "$dir/tr/fx" -f "port 9 or udp" -- "$CURL" -s \
	    -o /dev/null "$url"
	check "scope: -f 'port 9 or udp': curl runs, nothing traced" \
	    eval 'judge_exit fmiss 0 "^tapshim: no connection traced" &&
	    [ -z "$(traces_of '"$dir/tr/fx"')" ]'
	launch fbad -o "$dir/tr/fb" -f "port 8x" -- touch "$dir/ran"
	check "scope: a bad filter: 125, said, not run" \
	    eval 'judge_exit fbad 125 "^tapshim: filter .port 8x.: " &&
	    [ ! -e '"$dir/ran"' ]'
	curls conns 4 "$url" --max-connections 2
	check "scope: --max-connections 2 of 4: 2 traces, 2 counted as lost" \
	    eval 'judge_exit conns 0 "2 connection\(s\) not traced: the run.s max_connections" &&
	    [ "$(traces_of '"$dir/tr/conns"' | wc -l)" = 2 ]'
	check "scope: --max-connections: the stats add up, nothing dropped" \
	    judge_stats "$dir/conns.json" "j['connections_traced'] == 2" \
	    "j['connections_lost'] == 2" "j['stopped_by'] == 'max_connections'" \
	    "j['bytes_lost']['read'] == j['bytes_captured']['read'] > 200000" \
	    "j['bytes_lost']['written'] == j['bytes_captured']['written'] > 0"
	r=$("$PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1]))["bytes_captured"]["read"] // 2)' \
	    "$dir/conns.json")
	curls bytes 4 "$url" --max-total-bytes 100K
	# shellcheck disable=SC2046
	check "scope: --max-total-bytes 100K: the traces hold at most 102400 bytes" \
	    eval '[ "$(cat $(traces_of '"$dir/tr/bytes"') | wc -c)" -le 102400 ] &&
	    judge_exit bytes 0 "max_total_bytes"'
	check "scope: --max-total-bytes: kept and lost add up to 4 responses" \
	    judge_stats "$dir/bytes.json" "j['stopped_by'] == 'max_total_bytes'" \
	    "j['bytes_captured']['read'] + j['bytes_lost']['read'] == 4 * $r" \
	    "0 < j['bytes_captured']['read'] < 102400"
	# shellcheck disable=SC2046
	run bytes-pcap "$TAP2PCAP" -w "$dir/bytes.pcap" \
	    $(traces_of "$dir/tr/bytes")
	check "scope: --max-total-bytes: the cut trace converts, no expert warning" \
	    eval 'judge_rc bytes-pcap && judge_expert '"$dir/bytes.pcap"
	launch time -o "$dir/tr/time" --stats "$dir/time.json" --duration 1 -- \
	    sh -c "$CURL -s -o /dev/null $url; sleep 1.5; $CURL -s -o /dev/null $url"
	check "scope: --duration 1: the curl after it is counted, not traced" \
	    judge_stats "$dir/time.json" "j['stopped_by'] == 'duration'" \
	    "j['connections_traced'] == 1" "j['connections_lost'] == 1" \
	    "j['bytes_lost']['read'] == j['bytes_captured']['read'] == $r"
	launch badlim -o "$dir/t" --max-connections 0 -- true
	check "scope: --max-connections 0: 125" judge_exit badlim 125 \
	    "max-connections"
	launch baddur -o "$dir/t" --duration soon -- true
	check "scope: --duration soon: 125" judge_exit baddur 125 "duration"
	server_stop
}

# Judge: run NAME exited 0 having warned once that PROG is WHAT.
judge_warned()
{
	judge_exit "$1" 0 "^tapshim: warning: $2 $3" || return 1
	[ "$(grep -c . "$dir/$1.err")" = 1 ] && return 0
	echo "more than the warning on stderr:"
	cat "$dir/$1.err"
	return 1
}

# A warning check that needs what this machine may lack: name, reason.
skip_check()
{
	if [ "${TAPSHIM_REQUIRE_TOOLS:-0}" = 1 ]; then
		failed=$((failed + 1))
		echo "not ok - $1 (cannot run: $2)"
	else
		passed=$((passed + 1))
		echo "ok - $1 # SKIP $2"
	fi
}

# Programs LD_PRELOAD cannot see into: warned about, run all the same.
case_warn()
{
	local true_bin

	true_bin=$(command -v true)
	[ "${true_bin#/}" != "$true_bin" ] || true_bin=/bin/true
	launch dyn -q -o "$dir/t" -- "$true_bin"
	check "warn: a dynamic program: no warning" judge_exit dyn 0 ""
	printf 'int main(void) { return 0; }\n' >"$dir/s.c"
	if "$CC" -static -o "$dir/static" "$dir/s.c" 2>/dev/null; then
		launch static -q -o "$dir/t" -- "$dir/static"
		check "warn: a static program" judge_warned static \
		    "$dir/static" "is statically linked"
		printf '#!%s\n' "$dir/static" >"$dir/script"
		chmod +x "$dir/script"
		launch script -q -o "$dir/t" -- "$dir/script"
		check "warn: a script run by a static interpreter" \
		    judge_warned script "$dir/static" "is statically linked"
	else
		skip_check "warn: a static program" "$CC -static fails"
	fi
	printf 'go\n' >"$dir/note"
	if objcopy --add-section .note.go.buildid="$dir/note" "$true_bin" \
	    "$dir/goprog" 2>/dev/null; then
		launch go -q -o "$dir/t" -- "$dir/goprog"
		check "warn: a Go program" judge_warned go "$dir/goprog" \
		    "is a Go program"
	else
		skip_check "warn: a Go program" "no objcopy"
	fi
	if [ "$(id -u)" = 0 ] && cp "$true_bin" "$dir/suid" &&
	    chown 65534 "$dir/suid" && chmod 4755 "$dir/suid"; then
		launch suid -q -o "$dir/t" -- "$dir/suid"
		check "warn: a setuid program" judge_warned suid "$dir/suid" \
		    "is setuid"
	else
		skip_check "warn: a setuid program" "not root"
	fi
	# Root has every capability already: its run is not secure-mode.
	if cp "$true_bin" "$dir/caps" &&
	    setcap cap_net_raw+ep "$dir/caps" 2>/dev/null; then
		launch caps -q -o "$dir/t" -- "$dir/caps"
		if [ "$(id -u)" = 0 ]; then
			check "warn: file capabilities, run by root: no warning" \
			    judge_exit caps 0 ""
		else
			check "warn: a program with file capabilities" \
			    judge_warned caps "$dir/caps" "has file capabilities"
		fi
	else
		skip_check "warn: a program with file capabilities" \
		    "setcap fails (not root, or no libcap2-bin)"
	fi
}

shim_setup "launcher tests" "$TSHARK" "$PYTHON" "$CURL"
[ -x "$TAPSHIM_PROG" ] || { echo "not ok - built: $TAPSHIM_PROG";
    echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$tmp/www"
head -c 200000 /dev/urandom >"$tmp/www/blob.bin"
# shellcheck disable=SC2086  # a list of cases
run_cases ${TAPSHIM_CASES:-status env signals run daemon scope warn}
