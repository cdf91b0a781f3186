#!/bin/bash
# How fast tap2pcap reads a 1 GiB trace, against cat and cp of the same file.
#
# usage: bench/tap2pcap.sh [BUILDDIR]    (default: the current directory)
# Environment: BYTES (payload, default 1 GiB), FORMAT (pb or ld),
# OUTDIR (scratch; default BUILDDIR/bench/out, else $TMPDIR), RUNS
# (default 3, the median is shown), CHECK=0 (skip the tshark payload
# check), KEEP=1 (keep the trace and captures).
# Target: >= 500 MB/s of trace input (MB = 10^6 bytes) on 2 cores.

set -eu

prog=tap2pcap.sh
bytes=${BYTES:-1073741824}
format=${FORMAT:-pb}
runs=${RUNS:-3}

die() { echo "$prog: $*" >&2; exit 1; }

case $bytes in ''|*[!0-9]*) die "BYTES must be a number of bytes" ;; esac
case $format in pb|ld) ;; *) die "FORMAT must be pb or ld" ;; esac

# Seconds since the epoch, to the nanosecond.
now() { date +%s.%N; }

# MB/s for $1 bytes in $2 seconds.
rate() {
	awk -v b="$1" -v s="$2" \
	    'BEGIN { printf "%.0f", (s > 0 ? b / s / 1e6 : 0) }'
}

# The median of the arguments.
median() {
	printf '%s\n' "$@" | sort -g |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# Run "$@" with stdout to $1; its wall time (s) goes to $scratch/elapsed,
# its CPU time (user + system, s) to $scratch/cpu, its peak RSS (KiB) to
# $scratch/rss.
timed() {
	local out=$1 t0 t1 pid hwm=0 v
	shift
	# Start each step with no dirty pages left by the one before it.
	sync
	t0=$(now)
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -v -o "$scratch/time.txt" "$@" > "$out" || return
		t1=$(now)
		awk -F': ' '/Maximum resident set size/ { print $2 }' \
		    "$scratch/time.txt" > "$scratch/rss"
		awk -F': ' '/(User|System) time/ { s += $2 }
		    END { printf "%.2f\n", s }' "$scratch/time.txt" \
		    > "$scratch/cpu"
	else
		# No GNU time: poll VmHWM, the kernel's own high-water mark.
		"$@" > "$out" & pid=$!
		while v=$(awk '/^VmHWM/ { print $2 }' /proc/$pid/status \
		    2>/dev/null) && [ -n "$v" ]; do
			hwm=$v
			sleep 0.05
		done
		wait $pid || return
		t1=$(now)
		echo "$hwm" > "$scratch/rss"
		echo "?" > "$scratch/cpu"
	fi
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' \
	    > "$scratch/elapsed"
}

builddir=${1:-.}
cd "$builddir" || die "$builddir: no such directory"
if ! grep -qs '^bench_mktrace_SOURCES' Makefile; then
	die "$(pwd): not a tapshim build directory (run configure first)"
fi
builddir=$(pwd)
# The generated header first: BUILT_SOURCES covers only `make all`.
make -s proto/tapshim.pb-c.h bench/mktrace tools/tap2pcap/tap2pcap >/dev/null ||
	die "make bench/mktrace tools/tap2pcap/tap2pcap failed"

if [ -n "${OUTDIR:-}" ]; then
	scratch=$OUTDIR
elif mkdir -p bench/out 2>/dev/null && [ -w bench/out ]; then
	scratch=$builddir/bench/out
else
	scratch=${TMPDIR:-/tmp}/tap2pcap-bench.$$
fi
created=0
[ -d "$scratch" ] || created=1
mkdir -p "$scratch" || die "$scratch: cannot create"
# Room for the trace, its copy and the capture, about 1.05 times each.
need=$((bytes * 33 / 10240 + 65536))
avail=$(df -Pk "$scratch" | awk 'NR == 2 { print $4 }')
[ "$avail" -ge "$need" ] ||
	die "$scratch: $avail KiB free, need about $need KiB (set OUTDIR)"

trace=$scratch/bench.pb
[ "$format" = ld ] && trace=$scratch/bench.pb_length_delimited
pcap=$scratch/out.pcap

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	[ "${KEEP:-0}" = 1 ] && return
	rm -f "$trace" "$scratch/copy" "$pcap" "$scratch/time.txt" \
	    "$scratch/rss" "$scratch/elapsed" "$scratch/cpu"
	[ "$created" = 1 ] && rmdir "$scratch" 2>/dev/null
	return 0
}
trap cleanup EXIT

echo "$prog: generating $bytes payload bytes ($format) in $scratch" >&2
./bench/mktrace -f "$format" -n "$bytes" "$trace" || die "mktrace failed"
size=$(stat -c %s "$trace")

timed /dev/null cat "$trace" || die "cat failed"	# warm the cache
timed /dev/null cat "$trace" || die "cat failed"
t_cat=$(cat "$scratch/elapsed") c_cat=$(cat "$scratch/cpu")
timed /dev/null cp "$trace" "$scratch/copy" || die "cp failed"
t_cp=$(cat "$scratch/elapsed") c_cp=$(cat "$scratch/cpu")
rm -f "$scratch/copy"

echo "$prog: running tap2pcap $runs + $runs times" >&2
ts=() cs=() rsss=() ts_null=() cs_null=()
for ((i = 0; i < runs; i++)); do
	rm -f "$pcap"
	timed /dev/null ./tools/tap2pcap/tap2pcap -q "$trace" "$pcap" ||
		die "tap2pcap failed"
	ts+=("$(cat "$scratch/elapsed")")
	cs+=("$(cat "$scratch/cpu")")
	rsss+=("$(cat "$scratch/rss")")
done
for ((i = 0; i < runs; i++)); do
	timed /dev/null ./tools/tap2pcap/tap2pcap -q -w /dev/null "$trace" ||
		die "tap2pcap -w /dev/null failed"
	ts_null+=("$(cat "$scratch/elapsed")")
	cs_null+=("$(cat "$scratch/cpu")")
done
t_tp=$(median "${ts[@]}") c_tp=$(median "${cs[@]}")
rss=$(median "${rsss[@]}")
t_null=$(median "${ts_null[@]}") c_null=$(median "${cs_null[@]}")
psize=$(stat -c %s "$pcap")

# Does the capture carry every payload byte? (tshark: ~10 s for 1 GiB.)
check="skipped"
if [ "${CHECK:-1}" != 0 ] && command -v tshark >/dev/null; then
	got=$(tshark -n -r "$pcap" -o tcp.desegment_tcp_streams:FALSE -q \
	    -z io,stat,0,'SUM(tcp.len)tcp.len' 2>/dev/null |
	    awk -F'|' '/<>/ { gsub(/ /, "", $3); print $3 }')
	[ "$got" = "$bytes" ] && check="ok: tshark counts $got payload bytes" ||
		check="FAIL: tshark counts ${got:-nothing}, expected $bytes"
fi
pkts=
if command -v capinfos >/dev/null; then
	pkts=$(capinfos -M -T -r -c "$pcap" 2>/dev/null | cut -f2)
fi

mbs=$(rate "$size" "$t_tp")
printf '\ntap2pcap benchmark: %s trace, %s bytes (%s payload), %s\n' \
    "$format" "$size" "$bytes" "$(nproc) CPUs"
row() { printf '%-32s %8s %6s %7s  %s\n' "$@"; }
row "step" "wall s" "MB/s" "cpu s" ""
row "cat TRACE > /dev/null (warm)" "$t_cat" "$(rate "$size" "$t_cat")" \
    "$c_cat" ""
row "cp TRACE copy" "$t_cp" "$(rate "$size" "$t_cp")" "$c_cp" ""
row "tap2pcap -q TRACE out.pcap" "$t_tp" "$mbs" "$c_tp" \
    "median of ${ts[*]}"
row "tap2pcap -q -w /dev/null TRACE" "$t_null" "$(rate "$size" "$t_null")" \
    "$c_null" "median of ${ts_null[*]}"
printf '\n%-34s %s\n' "tap2pcap / cp throughput" \
    "$(awk -v a="$t_cp" -v b="$t_tp" 'BEGIN { printf "%.2f", a / b }')"
printf '%-34s %s MiB (includes the mapped trace)\n' "tap2pcap peak RSS" \
    "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-34s %s bytes%s\n' "capture size" "$psize" \
    "${pkts:+, $pkts packets}"
printf '%-34s %s\n' "payload check" "$check"
awk -v m="$mbs" 'BEGIN { exit !(m >= 500) }' &&
	printf '%-34s %s\n' "target >= 500 MB/s" "met" ||
	printf '%-34s %s\n' "target >= 500 MB/s" "NOT met ($mbs MB/s)"
[ "${KEEP:-0}" = 1 ] && echo "kept: $trace $pcap"
case $check in FAIL*) exit 1 ;; esac
exit 0
