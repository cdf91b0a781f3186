#!/usr/bin/env bash
# Host-safety tests: a program behaves exactly as without the shim, under
# limits and hostile conditions. Each case runs the same
# program untraced (run .0) and traced (run .1), each in a directory of
# its own, and compares exit status, stdout (descriptor numbers
# included), the files it writes and the bytes its peer receives.
#
# Cases:
#   fsize     ulimit -f 0, and -f 100 with stderr a full 100 KiB file,
#             with a message-producing setting (TAPSHIM_DEBUG=1, a bad
#             TAPSHIM_FORMAT): no SIGXFSZ, stderr untouched; stderr a
#             pipe with no reader: no SIGPIPE.
#   daemon    a program that closed stderr and got a socket on fd 2, with
#             TAPSHIM_DEBUG=1: its peer receives no "tapshim:" byte;
#             under the launcher, the summary counts the lost message.
#   log       TAPSHIM_LOG and --log: messages there, not on stderr, the
#             file 0600; a symlink at TAPSHIM_LOG is not followed.
#   keylog    TAPSHIM_KEYLOG (curl against openssl s_server): a planted
#             symlink is not followed, a FIFO does not hang the program,
#             a world-readable file is made 0600, another user's file is
#             not written; each refusal said once.
#   outputs   tapshim -w and tap2pcap -w captures 0600 under umask 022,
#             --mode 0644 widens them; --decode-as and --stats replace a
#             planted symlink, never write through it.
#   warn      the launcher: no file-capabilities warning for root; a
#             script with a setuid interpreter is warned about; a 32-bit
#             program is warned about and ld.so says nothing on its
#             stderr (built with $CC -m32; skipped when that fails).
#   sendfile  sendfile(2) between two regular files: the copy identical,
#             the range read once, not read back.
#   limits    UINT64_MAX as a byte limit, in TAPSHIM_MAX_BUFFERED_*_BYTES
#             and in the launcher's options.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, TAPSHIM_PROG,
# LIBTAPSHIM and CC (set by make check); PYTHON, CURL, OPENSSL to use
# other programs; TAPSHIM_CASES to run only some cases. A missing
# compiler or python3 skips the suite (exit 77), a missing curl or
# openssl the keylog case, a missing root the checks that need another
# user, unless TAPSHIM_REQUIRE_TOOLS=1, when they fail.
# TAPSHIM_KEEP_TMP=1 keeps the scratch directory.
#
# Output: "ok - NAME" or "not ok - NAME" per check, then "N passed, N
# failed"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${CC:=cc}"
: "${CURL:=curl}"
: "${OPENSSL:=openssl}"

# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"

export TAPSHIM_LIBRARY=$LIBTAPSHIM
MAX64=18446744073709551615
tmp=
dir=
bin=
wrap=()
prep=
servers=()

# Judge that always fails, showing a log.
judge_log()
{
	cat "$1"
	return 1
}

# Stop the servers, remove the scratch directory.
cleanup()
{
	local p

	for p in "${servers[@]}"; do
		kill "$p" 2>/dev/null
	done
	if [ "${TAPSHIM_KEEP_TMP:-0}" = 1 ]; then
		echo "# scratch directory: $tmp"
	else
		rm -rf "$tmp"
	fi
}

# Run NAME twice, untraced in $dir/NAME.0 and traced in $dir/NAME.1:
# pair NAME [VAR=VALUE...] PROGRAM ARGS... (from that directory). Each
# run: stdout (through a pipe, so a file-size limit does not reach it)
# in out, stderr appended to err, the status in rc. $prep, if set, is
# run first in the directory; ${wrap[@]} goes before env (a limit, a
# broken stderr).
pair()
{
	local name=$1 m d pre

	shift
	for m in 0 1; do
		d=$dir/$name.$m
		pre=()
		[ "$m" = 0 ] || pre=(LD_PRELOAD="$LIBTAPSHIM"
		    TAPSHIM_PATH_PREFIX="$d/t")
		mkdir -p "$d"
		(
			cd "$d" || exit 1
			[ -z "$prep" ] || "$prep"
			timeout 10 "${wrap[@]}" env "${pre[@]}" "$@" \
			    2>>err | cat >out
			echo "${PIPESTATUS[0]}" >rc
		)
	done
}

# Judge: run pair NAME's exit status and stdout are the same both ways,
# and its stderr too (or, with -m, the same but for "tapshim:" lines).
judge_same()
{
	local msgs=0 name a b

	[ "$1" != -m ] || { msgs=1; shift; }
	name=$1 a=$dir/$1.0 b=$dir/$1.1
	if [ "$(cat "$a/rc")" != "$(cat "$b/rc")" ]; then
		echo "exit status untraced $(cat "$a/rc"), traced $(cat "$b/rc")"
		[ "$(cat "$b/rc")" != 153 ] || echo "(153: SIGXFSZ)"
		[ "$(cat "$b/rc")" != 141 ] || echo "(141: SIGPIPE)"
		[ "$(cat "$b/rc")" != 124 ] || echo "(124: it hung)"
		return 1
	fi
	diff -u "$a/out" "$b/out" || return 1
	if [ "$msgs" = 1 ]; then
		diff -u "$a/err" <(grep -av '^tapshim: ' "$b/err") && return 0
	else
		cmp "$a/err" "$b/err" && return 0
	fi
	echo "stderr differs in $name:"
	diff <(od -c "$a/err" | tail -5) <(od -c "$b/err" | tail -5)
	return 1
}

# Judge: the file F of pair NAME is the same both ways.
judge_file_same()
{
	cmp "$dir/$1.0/$2" "$dir/$1.1/$2"
}

# Judge: FILE holds no "tapshim:" byte.
judge_no_message()
{
	! grep -a 'tapshim:' "$1" || { echo "in $1"; return 1; }
}

# Judge: FILE has permissions MODE (octal, as stat %a prints it).
judge_mode()
{
	local got

	got=$(stat -c %a "$1") || return 1
	[ "$got" = "$2" ] && return 0
	echo "$1: mode $got, expected $2"
	return 1
}

# Judge: FILE has a line matching the extended regular expression RE.
judge_grep()
{
	grep -Eq "$2" "$1" 2>/dev/null && return 0
	echo "$1: no line matching '$2':"
	cat "$1" 2>/dev/null
	return 1
}

# Judge: FILE has exactly one line matching the extended regular
# expression RE (a refusal said once, not once per key).
judge_once()
{
	local n

	n=$(grep -Ec "$2" "$1" 2>/dev/null)
	[ "$n" = 1 ] && return 0
	echo "$1: ${n:-no} lines matching '$2', expected 1:"
	cat "$1" 2>/dev/null
	return 1
}

# Judge: FILE is unchanged: it still holds exactly TEXT.
judge_holds()
{
	[ "$(cat "$1")" = "$2" ] && return 0
	echo "$1 changed: now"
	od -c "$1" | head -5
	return 1
}

# Judge: PATH is a regular file, not a symlink.
judge_regular()
{
	[ -f "$1" ] && [ ! -L "$1" ] && return 0
	ls -l "$1"
	return 1
}

# Prepare a run directory: stderr a file already at 100 KiB.
prep_full()
{
	head -c 102400 /dev/zero >err
}

# ulimit -f 0 / 100, with stderr a file; stderr a pipe with no reader.
t_fsize()
{
	wrap=(bash -c 'ulimit -f "$0" && exec "$@"' 0)
	pair f0-debug TAPSHIM_DEBUG=1 "$bin/hostprog" fds
	check "fsize: ulimit -f 0, TAPSHIM_DEBUG=1: runs as without the shim" \
	    judge_same f0-debug
	pair f0-bad TAPSHIM_FORMAT=bogus "$bin/hostprog" fds
	check "fsize: ulimit -f 0, a bad TAPSHIM_FORMAT: runs as without the shim" \
	    judge_same f0-bad
	wrap=(bash -c 'ulimit -f "$0" && exec "$@"' 100)
	prep=prep_full
	pair f100 TAPSHIM_DEBUG=1 "$bin/hostprog" daemon peer
	prep=
	check "fsize: ulimit -f 100, stderr a full file: runs as without the shim" \
	    judge_same f100
	check "fsize: ulimit -f 100: the peer gets the same bytes" \
	    judge_file_same f100 peer
	# shellcheck disable=SC2016  # python's code, not the shell's
	wrap=("$PYTHON" -c 'import os, signal, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
r, w = os.pipe(); os.close(r); os.dup2(w, 2)
os.execvp(sys.argv[1], sys.argv[1:])')
	pair pipe TAPSHIM_DEBUG=1 "$bin/hostprog" fds
	check "fsize: stderr a pipe with no reader: no SIGPIPE" judge_same pipe
	wrap=()
}

# A daemon with a socket on fd 2.
t_daemon()
{
	pair daemon TAPSHIM_DEBUG=1 "$bin/hostprog" daemon peer
	check "daemon: socket on fd 2: runs as without the shim" \
	    judge_same -m daemon
	check "daemon: its peer receives the same bytes" \
	    judge_file_same daemon peer
	check "daemon: its peer receives no 'tapshim:' byte" \
	    judge_no_message "$dir/daemon.1/peer"
	mkdir -p "$dir/dl"
	(cd "$dir/dl" && timeout 20 "$TAPSHIM_PROG" -D -o t -- \
	    "$bin/hostprog" daemon peer >out 2>err)
	check "daemon: under the launcher, its peer receives the same bytes" \
	    cmp "$dir/daemon.0/peer" "$dir/dl/peer"
	check "daemon: the launcher's summary counts the lost message" \
	    judge_grep "$dir/dl/err" '^tapshim: [0-9]+ message\(s\) of the shim not written'
}

# Plant a symlink "log" to a file "victim" holding "victim".
prep_symlink()
{
	echo victim >victim
	ln -s victim log
}

# TAPSHIM_LOG and --log.
t_log()
{
	pair log TAPSHIM_DEBUG=1 TAPSHIM_LOG=log "$bin/hostprog" fds
	check "log: TAPSHIM_LOG: runs as without the shim, nothing on stderr" \
	    judge_same log
	check "log: the messages are in TAPSHIM_LOG" \
	    judge_grep "$dir/log.1/log" '^tapshim: pid [0-9]+: tracing into'
	check "log: TAPSHIM_LOG is created 0600" judge_mode "$dir/log.1/log" 600
	prep=prep_symlink
	pair logsym TAPSHIM_DEBUG=1 TAPSHIM_LOG=log "$bin/hostprog" fds
	prep=
	check "log: a symlink at TAPSHIM_LOG: runs as without the shim" \
	    judge_same -m logsym
	check "log: a symlink at TAPSHIM_LOG is not followed" \
	    judge_holds "$dir/logsym.1/victim" victim
	check "log: a symlink at TAPSHIM_LOG: said, once" \
	    judge_once "$dir/logsym.1/err" '^tapshim: TAPSHIM_LOG: .*/log is a symbolic link'
	mkdir -p "$dir/ll"
	(cd "$dir/ll" && timeout 20 "$TAPSHIM_PROG" -q -D --log log -o t -- \
	    "$bin/hostprog" fds >out 2>err)
	check "log: --log: nothing on stderr" cmp "$dir/log.0/err" "$dir/ll/err"
	check "log: --log: the same stdout" cmp "$dir/log.0/out" "$dir/ll/out"
	check "log: --log: the messages are in FILE" \
	    judge_grep "$dir/ll/log" '^tapshim: pid [0-9]+: tracing into'
}

# Start openssl s_server on a free port with a certificate of our own;
# the port in $tls_port. 1 when it cannot.
tls_server()
{
	"$OPENSSL" req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" \
	    -out "$tmp/cert.pem" -days 2 -subj /CN=localhost \
	    >"$tmp/req.log" 2>&1 || return 1
	tls_port=$("$PYTHON" -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$OPENSSL" s_server -accept "127.0.0.1:$tls_port" -cert \
	    "$tmp/cert.pem" -key "$tmp/key.pem" -www </dev/null \
	    >"$tmp/s_server.log" 2>&1 &
	servers+=($!)
	for _ in $(seq 100); do
		grep -q ACCEPT "$tmp/s_server.log" && return 0
		sleep 0.1
	done
	return 1
}

# Key-log files planted before the run: a symlink to "victim", a FIFO,
# a world-readable file, another user's file.
prep_keysym()
{
	echo victim >victim
	ln -s victim keys
}
prep_keyfifo()
{
	mkfifo keys
}
prep_keywide()
{
	: >keys
	chmod 0644 keys
}
prep_keyother()
{
	: >keys
	chmod 0666 keys
	chown 65534 keys
}

# Run curl against the s_server with TAPSHIM_KEYLOG=keys: pair NAME.
curl_keylog()
{
	pair "$1" TAPSHIM_KEYLOG=keys "$CURL" -sk -o /dev/null \
	    "https://127.0.0.1:$tls_port/"
}

# TAPSHIM_KEYLOG through a planted symlink, a FIFO, a wide file,
# another user's file.
t_keylog()
{
	if ! command -v "$CURL" >/dev/null || ! command -v "$OPENSSL" \
	    >/dev/null || ! tls_server; then
		skip "keylog: the key log's cases" "no curl or openssl"
		return
	fi
	prep=prep_keysym curl_keylog keysym
	check "keylog: a symlink: curl runs as without the shim" \
	    judge_same -m keysym
	check "keylog: a symlink is not followed" \
	    judge_holds "$dir/keysym.1/victim" victim
	check "keylog: a symlink: said once" judge_once "$dir/keysym.1/err" \
	    '^tapshim: TAPSHIM_KEYLOG: .*/keys is a symbolic link'
	prep=prep_keyfifo curl_keylog keyfifo
	check "keylog: a FIFO does not hang the program" judge_same -m keyfifo
	check "keylog: a FIFO: said once" judge_once "$dir/keyfifo.1/err" \
	    '^tapshim: TAPSHIM_KEYLOG: .*/keys is not a regular file'
	prep=prep_keywide curl_keylog keywide
	check "keylog: a world-readable file: curl runs as without the shim" \
	    judge_same keywide
	check "keylog: a world-readable file is made 0600" \
	    judge_mode "$dir/keywide.1/keys" 600
	check "keylog: a world-readable file gets the keys" \
	    judge_grep "$dir/keywide.1/keys" '^CLIENT_(RANDOM|HANDSHAKE)'
	if [ "$(id -u)" != 0 ]; then
		skip "keylog: another user's file" "not root"
		return
	fi
	prep=prep_keyother curl_keylog keyother
	check "keylog: another user's file: curl runs as without the shim" \
	    judge_same -m keyother
	check "keylog: another user's file is not written" \
	    judge_holds "$dir/keyother.1/keys" ""
	check "keylog: another user's file: said once" \
	    judge_once "$dir/keyother.1/err" \
	    '^tapshim: TAPSHIM_KEYLOG: .*/keys belongs to another user'
}

# Captures' modes, --decode-as and --stats through planted symlinks.
t_outputs()
{
	local d=$dir/out sample=$top_srcdir/tests/data/sample.pb

	mkdir -p "$d"
	(umask 022; "$TAP2PCAP" -q -w "$d/t2p.pcap" "$sample")
	check "outputs: tap2pcap -w under umask 022: 0600" \
	    judge_mode "$d/t2p.pcap" 600
	(umask 022; "$TAP2PCAP" -q --mode 0644 -w "$d/wide.pcap" "$sample" \
	    2>"$d/wide.err")
	check "outputs: tap2pcap --mode 0644: 0644" \
	    judge_mode "$d/wide.pcap" 644
	(cd "$d" && umask 022 && timeout 20 "$TAPSHIM_PROG" -q -w ts.pcap \
	    -o t -- "$bin/hostprog" daemon peer >/dev/null 2>"$d/ts.err")
	check "outputs: tapshim -w under umask 022: 0600" \
	    judge_mode "$d/ts.pcap" 600
	echo victim >"$d/victim"
	ln -s victim "$d/da"
	"$TAP2PCAP" -q --decode-as "$d/da" -w "$d/da.pcap" "$sample"
	check "outputs: --decode-as does not write through a symlink" \
	    judge_holds "$d/victim" victim
	check "outputs: --decode-as replaces the symlink with its file" \
	    judge_regular "$d/da"
	echo victim >"$d/victim2"
	ln -s victim2 "$d/st"
	(cd "$d" && timeout 20 "$TAPSHIM_PROG" -q --stats st -o t2 -- \
	    "$bin/hostprog" fds >/dev/null 2>&1)
	check "outputs: --stats does not write through a symlink" \
	    judge_holds "$d/victim2" victim
	check "outputs: --stats replaces the symlink with its file" \
	    judge_grep "$d/st" '"messages_lost"'
	check "outputs: --stats is 0600" judge_mode "$d/st" 600
}

# Judge: launcher run NAME (in $dir/w) exited 0, its stderr exactly
# the lines of file WANT.
judge_launch()
{
	local rc

	rc=$(cat "$dir/w/$1.rc")
	[ "$rc" = 0 ] || { echo "exit status $rc"; cat "$dir/w/$1.err";
	    return 1; }
	diff -u "$2" "$dir/w/$1.err"
}

# Run the launcher: launch NAME ARGS... (in $dir/w).
launch()
{
	local name=$1

	shift
	(cd "$dir/w" && timeout 20 "$TAPSHIM_PROG" -q -o t "$@" \
	    >"$name.out" 2>"$name.err"; echo $? >"$name.rc")
}

# The launcher's warnings.
t_warn()
{
	local w=$dir/w true_bin

	mkdir -p "$w"
	true_bin=$(type -P true)
	[ -n "$true_bin" ] || true_bin=/bin/true
	if [ "$(id -u)" = 0 ] && cp "$true_bin" "$w/caps" &&
	    setcap cap_net_raw+ep "$w/caps" 2>/dev/null; then
		launch caps -- "$w/caps"
		check "warn: file capabilities run by root: no warning" \
		    judge_launch caps /dev/null
	else
		skip "warn: file capabilities run by root" "not root, or no setcap"
	fi
	if [ "$(id -u)" = 0 ] && cp "$(type -P sh)" "$w/suidsh" &&
	    chown 65534 "$w/suidsh" && chmod 4755 "$w/suidsh"; then
		printf '#!%s\nexit 0\n' "$w/suidsh" >"$w/script"
		chmod +x "$w/script"
		launch script -- "$w/script"
		echo "tapshim: warning: $w/suidsh is setuid: the dynamic loader" \
		    "ignores LD_PRELOAD for it" >"$w/script.want"
		check "warn: a script whose interpreter is setuid" \
		    judge_launch script "$w/script.want"
	else
		skip "warn: a script whose interpreter is setuid" "not root"
	fi
	printf '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' \
	    >"$w/hi.c"
	if "$CC" -m32 -o "$w/hi32" "$w/hi.c" 2>"$w/m32.log"; then
		launch m32 -- "$w/hi32"
		# TAPSHIM_LIBRARY names the 64-bit library alone here;
		# tests/shim/multilib.sh traces 32-bit programs through $LIB.
		echo "tapshim: warning: $w/hi32 is a 32-bit program and no" \
		    "32-bit libtapshim.so is installed (TAPSHIM_LIBRARY names" \
		    "one library, without \$LIB): it runs untraced, without" \
		    "LD_PRELOAD" >"$w/m32.want"
		check "warn: a 32-bit program: warned, ld.so says nothing" \
		    judge_launch m32 "$w/m32.want"
		check "warn: a 32-bit program runs" judge_grep "$w/m32.out" '^hi$'
	else
		skip "warn: a 32-bit program" "$CC -m32 fails (no gcc-multilib)"
	fi
}

# Prepare a run directory: a 4 MiB file to copy.
prep_src()
{
	head -c 4194304 /dev/urandom >src
}

# sendfile between two regular files.
t_sendfile()
{
	prep=prep_src
	pair sendfile "$bin/hostprog" sendfile src dst
	prep=
	check "sendfile: file to file: runs as without the shim, read once" \
	    judge_same sendfile
	check "sendfile: the copy is identical" \
	    cmp "$dir/sendfile.1/src" "$dir/sendfile.1/dst"
}

# UINT64_MAX as a byte limit.
t_limits()
{
	local w=$dir/w

	pair max TAPSHIM_MAX_BUFFERED_RX_BYTES=$MAX64 \
	    TAPSHIM_MAX_BUFFERED_TX_BYTES=$MAX64 "$bin/hostprog" fds
	check "limits: UINT64_MAX in TAPSHIM_MAX_BUFFERED_*: accepted, silent" \
	    judge_same max
	mkdir -p "$w"
	launch max --max-rx-bytes "$MAX64" --max-tx-bytes "$MAX64" \
	    --max-total-bytes "$MAX64" -- "$bin/hostprog" fds
	check "limits: UINT64_MAX in the launcher's options: accepted" \
	    judge_launch max /dev/null
}

need_tools "host-safety tests" "$CC" "$PYTHON"
resolve_python
for f in "$LIBTAPSHIM" "$TAPSHIM_PROG" "$TAP2PCAP"; do
	[ -e "$f" ] && continue
	echo "not ok - built: $f"
	echo "0 passed, 1 failed"
	exit 1
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/safety.XXXXXX") || exit 99
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
chmod 0755 "$tmp"
bin=$tmp/bin
mkdir -p "$bin"
dir=$tmp
if ! "$CC" -O1 -Wall -o "$bin/hostprog" "$top_srcdir/tests/safety/hostprog.c" \
    >"$tmp/build.log" 2>&1; then
	check "the test program builds" judge_log "$tmp/build.log"
	report
	exit 1
fi
for c in ${TAPSHIM_CASES:-fsize daemon log keylog outputs warn sendfile limits}
do
	"t_$c"
done
report
