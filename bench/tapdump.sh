#!/bin/bash
# How much memory tapdump takes for a trace file of many connections.
#
# usage: bench/tapdump.sh [BUILDDIR]    (default: the current directory)
# Environment: COUNTS (connections per file, default "100000 1000000"),
# OUTDIR (scratch; default BUILDDIR/bench/out, else $TMPDIR), OTHER=PATH
# (a second tapdump, say main's, run on the same files in turn: before
# and after in the same run; its output must be identical), KEEP=1.
#
# Each file is made by tests/data/mkmany.py serial N: N TCP connections
# one after another (each connects, writes, closes before the next), a
# .pb_length_delimited of about 97 bytes a connection. tapdump FILE and
# tapdump --json FILE run under GNU time: peak RSS (KiB) and CPU time
# (user + system). Target: the peak RSS does not grow with N (memory
# bounded by the largest connection, not by the file's connections).

set -eu

prog=tapdump.sh
counts=${COUNTS:-100000 1000000}
srcdir=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "$prog: $*" >&2; exit 1; }

builddir=${1:-.}
cd "$builddir" || die "$builddir: no such directory"
grep -qs '^tools_tapdump_tapdump_SOURCES' Makefile ||
	die "$(pwd): not a tapshim build directory (run configure first)"
make -s tools/tapdump/tapdump >/dev/null || die "make tapdump failed"
tapdump=$(pwd)/tools/tapdump/tapdump
[ -x /usr/bin/time ] || die "needs GNU time (apt-get install time)"
command -v python3 >/dev/null || die "needs python3"
if [ -n "${OTHER:-}" ]; then
	[ -x "$OTHER" ] || die "OTHER=$OTHER: not an executable"
fi

scratch=${OUTDIR:-$(pwd)/bench/out}
mkdir -p "$scratch" 2>/dev/null || scratch=${TMPDIR:-/tmp}/tapdump-bench.$$
mkdir -p "$scratch" || die "$scratch: cannot create"
[ "${KEEP:-0}" = 1 ] ||
	trap 'rm -f "$scratch"/many-*.pb_length_delimited "$scratch"/td.*' EXIT

# One run: peak RSS (KiB) and CPU s of "$@", output to $scratch/td.out.
measure() {
	/usr/bin/time -f '%M %U %S' -o "$scratch/td.time" "$@" \
	    >"$scratch/td.out" 2>"$scratch/td.err" ||
		die "$*: failed: $(tail -n 3 "$scratch/td.err")"
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$scratch/td.time"
}

printf 'tapdump memory: files of N connections one after another; %s CPUs\n' \
    "$(nproc)"
printf 'load: %s\n\n' "$(cut -d ' ' -f 1-3 /proc/loadavg)"
printf '%-10s %-8s %-8s %10s %7s\n' "N" "output" "tapdump" "RSS KiB" "cpu s"
for n in $counts; do
	f=$scratch/many-$n.pb_length_delimited
	python3 "$srcdir/tests/data/mkmany.py" serial "$n" "$f" ||
		die "mkmany.py failed"
	for mode in text json; do
		args=()
		[ "$mode" = json ] && args=(--json)
		read -r rss cpu < <(measure "$tapdump" "${args[@]}" "$f")
		printf '%-10s %-8s %-8s %10s %7s\n' "$n" "$mode" this "$rss" \
		    "$cpu"
		if [ -n "${OTHER:-}" ]; then
			mv "$scratch/td.out" "$scratch/td.this"
			read -r rss cpu < <(measure "$OTHER" "${args[@]}" "$f")
			printf '%-10s %-8s %-8s %10s %7s\n' "$n" "$mode" OTHER \
			    "$rss" "$cpu"
			cmp -s "$scratch/td.this" "$scratch/td.out" ||
				die "$n $mode: OTHER's output differs"
		fi
	done
	rm -f "$f"
done
printf '\nRSS: the peak resident set (GNU time %%M), mapped trace pages included\n'
