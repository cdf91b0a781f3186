#!/usr/bin/env bash
# Pitfall tests, the environment: libtapshim.so on a full disk, with an
# unwritable prefix, a planted symlink at the next trace name, errno kept,
# bad settings, fortified reads (rows of interposition-pitfalls.md).  The
# programs, echo server and judges are pitfalls.sh's (tests/pitlib.sh).
#
# Environment: top_srcdir, top_builddir, TAP2PCAP and LIBTAPSHIM (set by
# make check); CC, TSHARK, PROTOC, PYTHON, CURL to use other programs.  A
# missing compiler, tshark, protoc or python3 skips the test (exit 77)
# unless TAPSHIM_REQUIRE_TOOLS=1, when it fails it.  So do a missing curl
# or a tmpfs that cannot be mounted (not root) for the disk-full checks,
# and a missing setpriv (as root) for the read-only-directory check, but
# these skip only their own checks.  TAPSHIM_KEEP_TMP=1 keeps the scratch
# directory; TAPSHIM_PITFALLS="diskfull symlink" runs only those groups
# (the t_NAME functions).
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



pit_main "pitfall tests (environment)" diskfull unwritable symlink errno \
    badconf fortify
