# The harness of the pitfall suites (pitfalls.sh, pitfalls-env.sh): the
# test programs built from tests/pitfall/*.c, an echo server, traced and
# untraced runs compared, and the judges both suites use.
#
# Sourced after tests/lib.sh.  Expects top_srcdir, TAP2PCAP, SHIM, CC,
# TSHARK, PROTOC and PYTHON; pit_main sets up and runs the t_NAME groups.

# shellcheck shell=bash disable=SC2154
src=$top_srcdir/tests/pitfall
tmp=
bin=
dir=
serv_pid=
mounted=
pitfall_cflags="-O1 -Wall -pthread"

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
	for _ in $(seq 200); do
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

# Set up (tools, the programs, the echo server), then run the groups
# GROUP... (t_GROUP functions), or those of TAPSHIM_PITFALLS this suite
# has; report and exit.
pit_main()
{
	local t

	need_tools "$1" "$CC" "$TSHARK" "$PROTOC" "$PYTHON"
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
	shift
	for t in ${TAPSHIM_PITFALLS:-"$@"}; do
		declare -F "t_$t" >/dev/null || continue
		"t_$t"
	done
	echo "$passed passed, $failed failed, ${skipped:-0} skipped"
	[ "$failed" -eq 0 ]
}
