#!/usr/bin/env bash
# tap2pcap's output routes: a file, stdout into a file, stdout into a pipe.
#
# A 40 MiB trace (bench/mktrace) is converted each way under strace. The
# three captures must be byte-identical; a regular file's pages must be
# handed to writeback and dropped behind the writer (sync_file_range,
# POSIX_FADV_DONTNEED over the file but its last windows) and written in
# pieces ending on 256 KiB boundaries; a pipe must get no page release,
# and be widened to hold a whole record buffer (256 KiB).
#
# Environment: top_srcdir, top_builddir and TAP2PCAP (set by make check);
# MKTRACE, PYTHON to use other programs. A missing strace or python3
# skips the test (exit 77) unless TAPSHIM_REQUIRE_TOOLS=1, when it fails it.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"

: "${MKTRACE:=$top_builddir/bench/mktrace}"
release=$((8 * 1024 * 1024))	# pcap-out.c's PCAP_OUT_RELEASE
iobuf=$((256 * 1024))		# and PCAP_OUT_IOBUF

# Run tap2pcap ARGS... under strace into $dir/NAME.st; stdout as given.
traced()
{
	local name=$1

	shift
	# LeakSanitizer cannot run under ptrace: off, for a sanitizer build.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -o "$dir/$name.st" -e trace=write,sync_file_range,fadvise64 \
	    "$TAP2PCAP" -q "$@"
}

# Judge: the captures are the same bytes.
judge_same()
{
	cmp "$dir/file.pcap" "$dir/redir.pcap" && cmp "$dir/file.pcap" \
	    "$dir/pipe.pcap"
}

# Judge: strace log NAME shows FILE's pages handed to writeback from the
# first record on, without a gap, to within a window of its end; and
# dropped from offset 0 to within two windows of it.
judge_released()
{
	local st=$dir/$1.st size

	size=$(stat -c %s "$dir/$2")
	awk -v size="$size" -v w="$release" -v buf="$iobuf" '
	/sync_file_range\(/ && /SYNC_FILE_RANGE_WRITE/ {
		split($0, a, /[(,)]/)
		off = a[3] + 0; len = a[4] + 0
		if (nsync == 0 && off != 24) bad = bad " first from " off
		if (nsync > 0 && off != send) bad = bad " gap at " send
		send = off + len; nsync++
	}
	/fadvise64\(/ && /POSIX_FADV_DONTNEED/ {
		split($0, a, /[(,)]/)
		off = a[3] + 0; len = a[4] + 0
		if (ndrop == 0 && off != 0) bad = bad " drop from " off
		if (off + len > dend) dend = off + len
		ndrop++
	}
	END {
		if (send < size - w - buf) bad = bad " written back to " send
		if (dend < size - 2 * w - buf) bad = bad " dropped to " dend
		if (bad == "") exit 0
		printf "size %d, %d sync_file_range, %d fadvise:%s\n", size,
		    nsync, ndrop, bad
		exit 1
	}' "$st" && return 0
	echo "strace log:"
	cat "$st"
	return 1
}

# Judge: strace log NAME shows the records written in pieces that end on
# 256 KiB boundaries of the file, after libpcap's 24-byte header (whole
# page-cache folios); the last piece ends where the capture does.
judge_aligned()
{
	awk -v buf="$iobuf" '
	/write\(/ {
		n = $NF + 0
		if (nw == 0 && n != 24) bad = bad " header of " n
		if (nw > 1 && off % buf != 0 && nbad++ == 0)
			bad = bad " a write ends at " off
		off += n; nw++
	}
	END {
		if (nw < 3) bad = bad " only " nw " writes"
		if (bad == "") exit 0
		printf "%d writes, %d misaligned:%s\n", nw, nbad, bad
		exit 1
	}' "$dir/$1.st"
}

# Judge: strace log NAME shows no page release at all.
judge_untouched()
{
	! grep -E 'sync_file_range\(|fadvise64\(' "$dir/$1.st"
}

# Judge: the pipe the reader saw held at least a record buffer.
judge_pipe_size()
{
	local got

	got=$(cat "$dir/pipe.size")
	[ "$got" -ge "$iobuf" ] && return 0
	echo "pipe size $got, expected at least $iobuf"
	return 1
}

need_tools "output tests" strace "$PYTHON"
resolve_python
for prog in "$TAP2PCAP" "$MKTRACE"; do
	[ -x "$prog" ] || { echo "not ok - built: $prog";
	    echo "0 passed, 1 failed"; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/output.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
dir=$tmp

"$MKTRACE" -f pb -n 40M "$dir/t.pb" >/dev/null 2>&1 ||
	{ echo "not ok - mktrace"; echo "0 passed, 1 failed"; exit 1; }
run file traced file -w "$dir/file.pcap" "$dir/t.pb"
run redir traced redir -w - "$dir/t.pb"
mv "$dir/redir.out" "$dir/redir.pcap"
# The reader drains the pipe, then asks its size: tap2pcap set it.
traced pipe -w - "$dir/t.pb" | "$PYTHON" -c '
import fcntl, os, sys
with open(sys.argv[1], "wb") as out:
    while True:
        b = os.read(0, 1 << 20)
        if not b:
            break
        out.write(b)
print(fcntl.fcntl(0, fcntl.F_GETPIPE_SZ))
' "$dir/pipe.pcap" >"$dir/pipe.size" 2>"$dir/pipe.err"
echo $? >"$dir/pipe.rc"

check "-w FILE: exit 0" judge_rc file
check "-w - > FILE: exit 0" judge_rc redir
check "-w - | reader: exit 0" judge_rc pipe
check "file, stdout into a file, a pipe: the same bytes" judge_same
check "-w FILE: pages written back and dropped behind the writer" \
    judge_released file file.pcap
check "-w - > FILE: the same for stdout that is a file" \
    judge_released redir redir.pcap
check "-w FILE: writes end on 256 KiB boundaries" judge_aligned file
check "-w - > FILE: the same for stdout that is a file" judge_aligned redir
check "-w - | reader: a pipe's pages are not the writer's to drop" \
    judge_untouched pipe
check "-w - | reader: the pipe widened to a record buffer" judge_pipe_size
report
