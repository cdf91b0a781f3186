#!/bin/bash
# How fast tapdump's request layer reads HTTP traces, and how much memory
# it holds: tapdump --requests and --har over N HTTP/1.1 keep-alive
# requests and N HTTP/2 streams (10 open at once), each on one connection,
# made by bench/mkreqtrace.py; then the same at N/10, so that the peak RSS
# can be seen not to grow with the trace.
#
# usage: bench/requests.sh [BUILDDIR]    (default: the current directory)
# Environment: N (default 100000), OUTDIR (scratch; default $TMPDIR),
# KEEP=1 (keep the traces).

set -eu

prog=requests.sh
n=${N:-100000}
build=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
tapdump=$build/tools/tapdump/tapdump

die() { echo "$prog: $*" >&2; exit 1; }

[ -x "$tapdump" ] || die "$tapdump: not built"
out=$(mktemp -d "${OUTDIR:-${TMPDIR:-/tmp}}/reqbench.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$out"' EXIT

# run LABEL COUNT ARGS...: tapdump ARGS..., its wall time, its peak RSS
# (VmHWM: the mapped trace file's pages included) and its peak anonymous
# memory (RssAnon, sampled every 2 ms: what the layer itself holds).
run() {
	local label=$1 count=$2

	shift 2
	python3 - "$out" "$tapdump" "$@" <<'PY' || die "tapdump $* failed"
import subprocess, sys, time
out = sys.argv[1]
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdout=open(out + "/stdout", "wb"),
                     stderr=open(out + "/stderr", "wb"))
anon = hwm = 0
while p.poll() is None:
    try:
        for line in open("/proc/%d/status" % p.pid):
            k, v = line.split(":", 1)
            if k == "RssAnon":
                anon = max(anon, int(v.split()[0]))
            elif k == "VmHWM":
                hwm = max(hwm, int(v.split()[0]))
    except (OSError, ValueError):
        pass
    time.sleep(0.002)
open(out + "/time", "w").write("%.3f %d %d\n" % (time.monotonic() - t0,
                                                  hwm, anon))
sys.exit(p.returncode)
PY
	[ -s "$out/stderr" ] && die "tapdump $* said: $(cat "$out/stderr")"
	read -r secs kib anon <"$out/time"
	awk -v l="$label" -v c="$count" -v s="$secs" -v k="$kib" -v a="$anon" \
	    'BEGIN { printf "%-16s %7d req %6.2f s %7.0f req/s  " \
	    "RSS %6d KiB, anon %5d KiB\n", l, c, s, (s > 0 ? c / s : 0), k, a }'
}

for count in "$n" $((n / 10)); do
	for kind in h1 h2; do
		f=$out/$kind-$count.pb_length_delimited
		python3 "$src/bench/mkreqtrace.py" "$kind" "$count" "$f"
		size=$(wc -c <"$f")
		echo "# $kind: $count requests, $size bytes of trace"
		run "$kind --requests" "$count" --requests "$f"
		got=$(wc -l <"$out/stdout")
		[ "$got" = "$count" ] || die "$kind: $got requests, not $count"
		run "$kind --har" "$count" --har "$out/out.har" "$f"
		run "$kind --summary" "$count" --summary "$f"
	done
done
