#!/bin/bash
# How fast tap2pcap converts a 1 GiB trace, next to dd copying the same file.
#
# usage: bench/tap2pcap.sh [BUILDDIR]    (default: the current directory)
# Environment: BYTES (payload, default 1 GiB), FORMAT (pb or ld),
# OUTDIR (scratch; default BUILDDIR/bench/out, else $TMPDIR), RUNS
# (default 3, the median is shown), CHECK=0 (skip the tshark payload
# check), KEEP=1 (keep the trace and captures), OTHER=PATH (a second
# tap2pcap, say main's, run in turn with this one, to a file and into a
# pipe: before and after in the same run, under the same load; their
# captures must be identical).
#
# Each round runs, one after another: dd if=TRACE of=COPY bs=1M on the
# same file system (and bs=256K, tap2pcap's write size), tap2pcap TRACE out.pcap (and OTHER's), tap2pcap -w -
# into a pipe to wc -c, tap2pcap -w /dev/null, and tap2pcap -w out.pcapng
# (pcapng mode); the medians are shown.
# MB is 10^6 bytes of trace input. Targets: tap2pcap TRACE out.pcap at
# >= 0.7x dd's rate (stretch: 0.85x), >= 500 MB/s on 2 cores.

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

# Run "$@" with stdout to $1 ("|FILE": into a pipe to wc -c, its count to
# FILE); its wall time (s) goes to $scratch/elapsed, its CPU time (user +
# system, s) to $scratch/cpu, its peak RSS (KiB) to $scratch/rss.
timed() {
	local out=$1 t0 t1 pid hwm=0 v count='' wpid=''
	shift
	# Start each step with no dirty pages left by the one before it.
	sync
	if [ "${out#|}" != "$out" ]; then
		count=${out#|}
		out=$scratch/fifo
		rm -f "$out"
		mkfifo "$out" || return
		wc -c < "$out" > "$count" & wpid=$!
	fi
	t0=$(now)
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -v -o "$scratch/time.txt" "$@" > "$out" || return
		[ -z "$wpid" ] || wait "$wpid" || return
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
		[ -z "$wpid" ] || wait "$wpid" || return
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
	    "$scratch/rss" "$scratch/elapsed" "$scratch/cpu" "$scratch/fifo" \
	    "$scratch/piped"
	[ "$created" = 1 ] && rmdir "$scratch" 2>/dev/null
	return 0
}
trap cleanup EXIT

echo "$prog: generating $bytes payload bytes ($format) in $scratch" >&2
./bench/mktrace -f "$format" -n "$bytes" "$trace" || die "mktrace failed"
size=$(stat -c %s "$trace")

# One tap2pcap to a file, $1 the program: time, CPU, RSS and the
# capture's sha256 into the arrays named by $2 (ts_X, cs_X, rss_X).
run_file() {
	local prog=$1 tag=$2
	rm -f "$pcap"
	timed /dev/null "$prog" -q "$trace" "$pcap" || die "$prog failed"
	eval "ts_$tag+=(\"\$(cat \"\$scratch/elapsed\")\")"
	eval "cs_$tag+=(\"\$(cat \"\$scratch/cpu\")\")"
	eval "rss_$tag+=(\"\$(cat \"\$scratch/rss\")\")"
	if [ -z "${psize:-}" ]; then
		psize=$(stat -c %s "$pcap")
	elif [ "$(stat -c %s "$pcap")" != "$psize" ]; then
		die "$prog: capture of $(stat -c %s "$pcap") bytes, not $psize"
	fi
	if [ -n "${OTHER:-}" ] && [ "$i" = 0 ]; then
		eval "sum_$tag=\$(sha256sum < \"\$pcap\" | cut -d' ' -f1)"
	fi
	return 0
}

timed /dev/null cat "$trace" || die "cat failed"	# warm the cache
timed /dev/null cat "$trace" || die "cat failed"
t_cat=$(cat "$scratch/elapsed") c_cat=$(cat "$scratch/cpu")

echo "$prog: running dd and tap2pcap in turn, $runs rounds" >&2
ts_dd=() cs_dd=() ts_dd256=() cs_dd256=() ts_new=() cs_new=() rss_new=() ts_old=() cs_old=()
rss_old=() ts_opipe=() cs_opipe=() ts_pipe=() cs_pipe=() rss_pipe=() ts_null=() cs_null=() ts_ng=() cs_ng=()
psize='' sum_new='' sum_old=''
[ -z "${OTHER:-}" ] || [ -x "$OTHER" ] || die "$OTHER: not a program"
for ((i = 0; i < runs; i++)); do
	rm -f "$scratch/copy"
	timed /dev/null dd if="$trace" of="$scratch/copy" bs=1M status=none ||
		die "dd failed"
	ts_dd+=("$(cat "$scratch/elapsed")")
	cs_dd+=("$(cat "$scratch/cpu")")
	rm -f "$scratch/copy"
	# The same with tap2pcap's write size: 1 MiB overflows a 1 MiB L2.
	timed /dev/null dd if="$trace" of="$scratch/copy" bs=256K \
	    status=none || die "dd failed"
	ts_dd256+=("$(cat "$scratch/elapsed")")
	cs_dd256+=("$(cat "$scratch/cpu")")
	rm -f "$scratch/copy"
	# Which goes first alternates, so neither always gets the fresher cache.
	if [ -n "${OTHER:-}" ] && [ $((i % 2)) = 1 ]; then
		run_file "$OTHER" old
		run_file ./tools/tap2pcap/tap2pcap new
	else
		run_file ./tools/tap2pcap/tap2pcap new
		[ -z "${OTHER:-}" ] || run_file "$OTHER" old
	fi
	timed "|$scratch/piped" ./tools/tap2pcap/tap2pcap -q -w - "$trace" ||
		die "tap2pcap -w - | wc -c failed"
	ts_pipe+=("$(cat "$scratch/elapsed")")
	cs_pipe+=("$(cat "$scratch/cpu")")
	rss_pipe+=("$(cat "$scratch/rss")")
	[ "$(cat "$scratch/piped")" = "$psize" ] ||
		die "-w - gave $(cat "$scratch/piped") bytes, not $psize"
	if [ -n "${OTHER:-}" ]; then
		timed "|$scratch/piped" "$OTHER" -q -w - "$trace" ||
			die "$OTHER -w - | wc -c failed"
		ts_opipe+=("$(cat "$scratch/elapsed")")
		cs_opipe+=("$(cat "$scratch/cpu")")
	fi
	timed /dev/null ./tools/tap2pcap/tap2pcap -q -w /dev/null "$trace" ||
		die "tap2pcap -w /dev/null failed"
	ts_null+=("$(cat "$scratch/elapsed")")
	cs_null+=("$(cat "$scratch/cpu")")
	# pcapng: the same packets, with an interface and comments.
	rm -f "$scratch/out.pcapng"
	timed /dev/null ./tools/tap2pcap/tap2pcap -q -w "$scratch/out.pcapng" \
	    "$trace" || die "tap2pcap -w out.pcapng failed"
	ts_ng+=("$(cat "$scratch/elapsed")")
	cs_ng+=("$(cat "$scratch/cpu")")
	ngsize=$(stat -c %s "$scratch/out.pcapng")
	rm -f "$scratch/out.pcapng"
done
t_dd=$(median "${ts_dd[@]}") c_dd=$(median "${cs_dd[@]}")
t_dd256=$(median "${ts_dd256[@]}") c_dd256=$(median "${cs_dd256[@]}")
t_tp=$(median "${ts_new[@]}") c_tp=$(median "${cs_new[@]}")
rss=$(median "${rss_new[@]}")
t_pipe=$(median "${ts_pipe[@]}") c_pipe=$(median "${cs_pipe[@]}")
t_null=$(median "${ts_null[@]}") c_null=$(median "${cs_null[@]}")
t_ng=$(median "${ts_ng[@]}") c_ng=$(median "${cs_ng[@]}")
if [ -n "${OTHER:-}" ]; then
	t_old=$(median "${ts_old[@]}") c_old=$(median "${cs_old[@]}")
	rss_o=$(median "${rss_old[@]}")
	t_opipe=$(median "${ts_opipe[@]}") c_opipe=$(median "${cs_opipe[@]}")
fi

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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
printf '\ntap2pcap benchmark: %s trace, %s bytes (%s payload), %s CPUs\n' \
    "$format" "$size" "$bytes" "$(nproc)"
printf 'load: %s\n' "$(uptime | sed 's/.*load average: //')"
row() { printf '%-34s %8s %6s %7s %6s  %s\n' "$@"; }
row "step" "wall s" "MB/s" "cpu s" "x dd" ""
row "cat TRACE > /dev/null (warm)" "$t_cat" "$(rate "$size" "$t_cat")" \
    "$c_cat" "" ""
row "dd if=TRACE of=COPY bs=1M" "$t_dd" "$(rate "$size" "$t_dd")" "$c_dd" \
    "1.00" "median of ${ts_dd[*]}"
row "dd ... bs=256K" "$t_dd256" "$(rate "$size" "$t_dd256")" "$c_dd256" \
    "$(ratio "$t_dd" "$t_dd256")" "median of ${ts_dd256[*]}"
row "tap2pcap -q TRACE out.pcap" "$t_tp" "$mbs" "$c_tp" \
    "$(ratio "$t_dd" "$t_tp")" "median of ${ts_new[*]}"
[ -z "${OTHER:-}" ] ||
	row "OTHER -q TRACE out.pcap" "$t_old" "$(rate "$size" "$t_old")" \
	    "$c_old" "$(ratio "$t_dd" "$t_old")" "median of ${ts_old[*]}"
row "tap2pcap -q -w - TRACE | wc -c" "$t_pipe" "$(rate "$size" "$t_pipe")" \
    "$c_pipe" "$(ratio "$t_dd" "$t_pipe")" "median of ${ts_pipe[*]}"
[ -z "${OTHER:-}" ] ||
	row "OTHER -q -w - TRACE | wc -c" "$t_opipe" \
	    "$(rate "$size" "$t_opipe")" "$c_opipe" \
	    "$(ratio "$t_dd" "$t_opipe")" "median of ${ts_opipe[*]}"
row "tap2pcap -q -w /dev/null TRACE" "$t_null" "$(rate "$size" "$t_null")" \
    "$c_null" "$(ratio "$t_dd" "$t_null")" "median of ${ts_null[*]}"
row "tap2pcap -q -w out.pcapng TRACE" "$t_ng" "$(rate "$size" "$t_ng")" \
    "$c_ng" "$(ratio "$t_dd" "$t_ng")" "median of ${ts_ng[*]}"
printf '\n%-34s %s (dd bs=256K: %s)\n' "tap2pcap / dd throughput" \
    "$(ratio "$t_dd" "$t_tp")" "$(ratio "$t_dd256" "$t_tp")"
printf '%-34s %s MiB (includes the mapped trace); -w -: %s MiB\n' \
    "tap2pcap peak RSS" "$(mib "$rss")" "$(mib "$(median "${rss_pipe[@]}")")"
if [ -n "${OTHER:-}" ]; then
	printf '%-34s %s MiB\n' "OTHER peak RSS" "$(mib "$rss_o")"
	[ "$sum_new" = "$sum_old" ] && same="identical" || same="DIFFERENT"
	printf '%-34s %s (sha256 %s)\n' "captures, tap2pcap and OTHER" \
	    "$same" "$sum_new"
fi
printf '%-34s %s bytes%s; pcapng %s bytes\n' "capture size" "$psize" \
    "${pkts:+, $pkts packets}" "$ngsize"
printf '%-34s %s\n' "payload check" "$check"
target() {
	awk -v r="$(ratio "$t_dd" "$t_tp")" -v m="$2" \
	    'BEGIN { exit !(r >= m) }' &&
		printf '%-34s %s\n' "target >= $1 dd" "met" ||
		printf '%-34s %s\n' "target >= $1 dd" \
		    "NOT met ($(ratio "$t_dd" "$t_tp")x)"
}
target 0.7x 0.7
target "0.85x (stretch)" 0.85
awk -v m="$mbs" 'BEGIN { exit !(m >= 500) }' &&
	printf '%-34s %s\n' "target >= 500 MB/s" "met" ||
	printf '%-34s %s\n' "target >= 500 MB/s" "NOT met ($mbs MB/s)"
[ "${KEEP:-0}" = 1 ] && echo "kept: $trace $pcap"
case $check in FAIL*) exit 1 ;; esac
[ "${same:-identical}" = identical ] || exit 1
exit 0
