#!/bin/bash
# How much libtapshim.so slows a program: a download and round trips,
# traced and untraced, in the same run.
#
# usage: bench/shim.sh [BUILDDIR]    (default: the current directory)
# Environment: BYTES (download size, default 1 GiB; a K, M or G suffix
# means KiB, MiB, GiB), N (round trips, default 100000), RUNS (default 3,
# medians shown), OUTDIR (scratch, on the disk the traces go to; default
# BUILDDIR/bench/out, else $TMPDIR), KEEP=1 (keep the served file and the
# traces), CC (for bench/rr.c; default cc).
# Needs nginx, curl, python3, GNU time and a C compiler; as root it
# installs the missing ones with apt-get first (never timed).
#
# 1. curl downloads BYTES of random data from nginx on 127.0.0.1 (nginx
#    untraced, with sendfile off), curl traced or not.
# 2. bench/rr.c makes N round trips, a 64-byte request and a 64-byte
#    response each, over one connection; both ends traced, or neither.
#    A third, untraced download writes the payload to a file on the file
#    system the traces go to: what storing the bytes once costs anyway.
# Untraced and traced runs alternate. Every traced run's trace is read
# back (python3, walking the protobuf) and must hold every byte the
# programs moved: curl's request and the whole HTTP response, rr's N * 64
# bytes each way at each end.
# Targets: traced / untraced wall time <= 1.30 for both tests;
# peak RSS of a traced program <= its untraced peak + 16 MiB; no byte lost.
# Exit status: 1 when a byte is lost or a step fails; a missed time or
# memory target is only reported.

set -eu

# The shim's defaults: full payloads, .pb files, nothing preloaded around.
unset LD_PRELOAD TAPSHIM_PATH_PREFIX TAPSHIM_FORMAT TAPSHIM_DEBUG \
    TAPSHIM_MAX_BUFFERED_RX_BYTES TAPSHIM_MAX_BUFFERED_TX_BYTES

prog=shim.sh
runs=${RUNS:-3}
trips=${N:-100000}
srcdir=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "$prog: $*" >&2; exit 1; }

# Bytes in $1: a number, with an optional K, M or G (powers of 1024).
parse_bytes() {
	local n=${1%[KkMmGg]} mult=1
	case $1 in
	*[Kk]) mult=1024 ;;
	*[Mm]) mult=1048576 ;;
	*[Gg]) mult=1073741824 ;;
	esac
	case $n in ''|*[!0-9]*) return 1 ;; esac
	echo $((n * mult))
}

bytes=$(parse_bytes "${BYTES:-1G}") ||
	die "BYTES must be a number of bytes, with an optional K, M or G"
case $runs in ''|*[!0-9]*|0) die "RUNS must be a positive number" ;; esac
case $trips in ''|*[!0-9]*|0) die "N must be a positive number" ;; esac

# Seconds since the epoch, to the nanosecond.
now() { date +%s.%N; }

# The median of the arguments.
median() {
	printf '%s\n' "$@" | sort -g |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# The largest of the arguments.
maximum() {
	printf '%s\n' "$@" | sort -g | tail -n 1
}

# awk arithmetic on the arguments: calc FORMAT EXPR [name=value...].
calc() {
	local fmt=$1 expr=$2
	shift 2
	awk "$@" "BEGIN { printf \"$fmt\", $expr }" </dev/null
}

# Install what is missing: as root with apt-get, else say how.
need_tools() {
	local missing=() pkgs=() t
	for t in nginx:nginx-light curl:curl python3:python3 \
	    /usr/bin/time:time "${CC:-cc}":gcc; do
		command -v "${t%%:*}" >/dev/null 2>&1 || [ -x "${t%%:*}" ] ||
			{ missing+=("${t%%:*}"); pkgs+=("${t##*:}"); }
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "$prog: installing ${pkgs[*]} (not timed)" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		    "${pkgs[@]}" >&2 ||
			die "apt-get install ${pkgs[*]} failed"
		return 0
	fi
	die "missing ${missing[*]}: as root, apt-get install ${pkgs[*]}"
}

# Run "$@" timed: its wall time (s), CPU time (user + system, s) and peak
# RSS (KiB) go to $1.{wall,cpu,rss}; its stdout to $1.out, stderr $1.err.
timed() {
	local tag=$1 t0 t1
	shift
	# Start each step with no dirty pages left by the one before it.
	sync
	t0=$(now)
	/usr/bin/time -f '%M %U %S' -o "$tag.time" "$@" >"$tag.out" \
	    2>"$tag.err" || return
	t1=$(now)
	calc '%.3f\n' 'b - a' -v a="$t0" -v b="$t1" >"$tag.wall"
	tail -n 1 "$tag.time" | awk -v r="$tag.rss" -v c="$tag.cpu" \
	    '{ print $1 > r; printf "%.2f\n", $2 + $3 > c }'
}

# Payload bytes in trace files: one line per file, "FILE READ WRITTEN
# EVENTS TRUNCATED" (bytes kept as data; truncation flags seen). The
# .pb is chunks of TraceWrapper that merge (proto/tapshim.proto):
# socket_buffered_trace = 3, its events = 3, an event's read = 2 or
# write = 3, their data (Body) = 1, Body.as_bytes = 1 or as_string = 2.
# Payloads are skipped, not copied: about 1 s per 20 MB of small events.
pbcount() {
	python3 - "$@" <<'EOF'
import mmap, sys

def varint(m, i):
    v = s = 0
    while True:
        b = m[i]
        i += 1
        v |= (b & 127) << s
        s += 7
        if b < 128:
            return v, i

def fields(m, i, end):
    """(field, wire type, value or (start, end)) of a message's fields."""
    while i < end:
        key, i = varint(m, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(m, i)
            yield f, wt, v
        elif wt == 2:
            n, i = varint(m, i)
            if i + n > end:
                raise ValueError("offset %d: field %d overruns" % (i, f))
            yield f, wt, (i, i + n)
            i += n
        elif wt in (1, 5):
            i += 8 if wt == 1 else 4
        else:
            raise ValueError("offset %d: wire type %d" % (i, wt))

def count(path):
    kept, events, trunc = [0, 0], 0, 0
    with open(path, "rb") as fp:
        if fp.seek(0, 2) == 0:
            return kept, events, trunc
        m = mmap.mmap(fp.fileno(), 0, access=mmap.ACCESS_READ)
        for f, wt, bt in fields(m, 0, len(m)):
            if (f, wt) != (3, 2):
                continue
            for g, wt, v in fields(m, *bt):
                if (g, wt) == (3, 2):
                    events += 1
                    for h, wt, rw in fields(m, *v):
                        if h not in (2, 3) or wt != 2:
                            continue
                        for k, wt, body in fields(m, *rw):
                            if (k, wt) != (1, 2):
                                continue
                            for b, wt, x in fields(m, *body):
                                if b in (1, 2) and wt == 2:
                                    kept[h - 2] += x[1] - x[0]
                                elif (b, wt) == (3, 0) and x:
                                    trunc += 1
                elif g in (4, 5) and wt == 0 and v:
                    trunc += 1
    return kept, events, trunc

status = 0
for p in sys.argv[1:]:
    try:
        k, e, t = count(p)
        print(p, k[0], k[1], e, t)
    except (OSError, ValueError, IndexError) as err:
        print("%s: %s" % (p, err or "truncated"), file=sys.stderr)
        status = 1
sys.exit(status)
EOF
}

# Count the traces under $1 (pbcount lines to $1.count), and their size.
traces_count() {
	local files=("$1"/*.pb)
	[ -e "${files[0]}" ] || { : >"$1.count"; echo 0 >"$1.size"; return; }
	pbcount "${files[@]}" >"$1.count" || die "$1: unreadable trace"
	stat -c %s "${files[@]}" | awk '{ s += $1 } END { print s }' \
	    >"$1.size"
}

# Did the shim complain (tapshim: on stderr)? Remember it for the report.
shim_said() {
	local f
	for f in "$@"; do
		grep -h '^tapshim:' "$f" 2>/dev/null || true
	done | sort -u >>"$scratch/said"
}

# A free TCP port on 127.0.0.1 (the kernel's choice, then let go).
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Write nginx's configuration for port $1 into $ngx.
nginx_conf() {
	local m temps="client_body_temp_path $ngx/tmp/body;" user=
	for m in proxy fastcgi uwsgi scgi; do
		nginx -V 2>&1 | grep -q -- "--without-http_${m}_module" ||
			temps="$temps ${m}_temp_path $ngx/tmp/$m;"
	done
	# As root, the worker stays root: it must read the scratch dir.
	[ "$(id -u)" = 0 ] && user="user $(id -un) $(id -gn);"
	cat >"$ngx/nginx.conf" <<EOF
# bench/shim.sh: one worker serving $www on 127.0.0.1:$1.
$user
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/error.log;
events { worker_connections 16; }
http {
	access_log off;
	sendfile off;
	default_type application/octet-stream;
	$temps
	server {
		listen 127.0.0.1:$1;
		root $www;
	}
}
EOF
}

# Start nginx on a free port; $url is the payload's.
nginx_start() {
	local port i
	mkdir -p "$ngx/tmp"
	for _ in 1 2 3; do
		port=$(free_port) || die "python3: no free port"
		nginx_conf "$port"
		rm -f "$ngx/nginx.pid"
		nginx -p "$ngx" -c "$ngx/nginx.conf" 2>>"$ngx/error.log" ||
			continue
		url=http://127.0.0.1:$port/payload
		for ((i = 0; i < 50; i++)); do
			curl -s -f -I -o /dev/null "$url" && return 0
			sleep 0.1
		done
		nginx_stop
	done
	die "nginx would not start: see $ngx/error.log"
}

# Stop the nginx started here, and wait until it is gone.
nginx_stop() {
	local pid i
	[ -s "$ngx/nginx.pid" ] || return 0
	pid=$(cat "$ngx/nginx.pid")
	kill -QUIT "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$ngx/nginx.pid"
}

# One download, traced when $2 is a trace prefix, untraced into the
# file $3 when $2 is empty; results in $1.*.
download() {
	local tag=$1 prefix=${2:-} out=${3:-/dev/null}
	local w='%{http_code} %{size_header} %{size_download} %{size_request}\n'
	if [ -n "$prefix" ]; then
		timed "$tag" env LD_PRELOAD="$shim" TAPSHIM_PATH_PREFIX="$prefix" \
		    curl -s -S -o /dev/null -w "$w" "$url" ||
			die "traced curl failed: $(cat "$tag.err")"
	else
		timed "$tag" curl -s -S -o "$out" -w "$w" "$url" ||
			die "curl failed: $(cat "$tag.err")"
	fi
	read -r code _ got _ <"$tag.out"
	if [ "$code" != 200 ] || [ "$got" != "$bytes" ]; then
		die "curl: HTTP $code, $got bytes, expected 200 and $bytes"
	fi
}

# One set of round trips, traced when $2 is a trace prefix; the client's
# results in $1.*, the server's (its own getrusage) in $1s.{rss,cpu}.
roundtrips() {
	local tag=$1 prefix=${2:-} pre=() i port=
	[ -n "$prefix" ] &&
		pre=(env LD_PRELOAD="$shim" TAPSHIM_PATH_PREFIX="$prefix")
	rm -f "${tag}s.out"
	"${pre[@]}" "$scratch/rr" server >"${tag}s.out" 2>"${tag}s.err" &
	server_pid=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "${tag}s.out" ] && read -r port <"${tag}s.out" &&
			[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || die "rr server did not start: $(cat "${tag}s.err")"
	timed "$tag" "${pre[@]}" "$scratch/rr" client "$port" "$trips" ||
		die "rr client failed: $(cat "$tag.err")"
	wait "$server_pid" || die "rr server failed: $(cat "${tag}s.err")"
	server_pid=
	awk -v r="${tag}s.rss" -v c="${tag}s.cpu" \
	    '$1 == "rusage" { print $2 > r; print $3 > c }' "${tag}s.out"
	[ -s "${tag}s.rss" ] || die "rr server: no rusage line"
}

# Bytes missing from (or extra in) the traces counted in $1.count, one
# line per file, against one expected "READ WRITTEN" per argument; a
# missing file loses all of its bytes.
lost_bytes() {
	local count=$1
	shift
	printf '%s\n' "$@" | awk -v files="$count" '
	    function abs(x) { return x < 0 ? -x : x }
	    { er[NR] = $1; ew[NR] = $2; n = NR }
	    END {
		while ((getline line < files) > 0) {
			split(line, f, " ")
			gr[++m] = f[2]; gw[m] = f[3]
		}
		for (i = 1; i <= n; i++)
			lost += abs(er[i] - gr[i]) + abs(ew[i] - gw[i])
		print lost + 0
	    }'
}

builddir=${1:-.}
cd "$builddir" || die "$builddir: no such directory"
grep -qs '^shim_libtapshim_la_SOURCES' Makefile ||
	die "$(pwd): not a tapshim build directory (run configure first)"
builddir=$(pwd)
shim=$builddir/shim/.libs/libtapshim.so
if ! make -s shim/libtapshim.la >/dev/null; then
	[ -f "$shim" ] || die "make shim/libtapshim.la failed"
	echo "$prog: make shim/libtapshim.la failed; timing the old $shim" >&2
fi
need_tools

created=0
if [ -n "${OUTDIR:-}" ]; then
	scratch=$OUTDIR
	[ -d "$scratch" ] || created=1
elif [ -d bench/out ] && [ -w bench/out ]; then
	scratch=$builddir/bench/out
elif mkdir -p bench/out 2>/dev/null && [ -w bench/out ]; then
	scratch=$builddir/bench/out created=1
else
	scratch=${TMPDIR:-/tmp}/shim-bench.$$ created=1
fi
mkdir -p "$scratch" || die "$scratch: cannot create"
scratch=$(cd "$scratch" && pwd)
# The served file and one traced download's trace, about 1.01 times it.
need=$((bytes * 21 / 10240 + 131072))
avail=$(df -Pk "$scratch" | awk 'NR == 2 { print $4 }')
[ "$avail" -ge "$need" ] ||
	die "$scratch: $avail KiB free, need about $need KiB (set OUTDIR)"
fstype=$(df --output=fstype "$scratch" 2>/dev/null | tail -n 1) ||
	fstype=$(stat -f -c %T "$scratch")

ngx=$scratch/nginx
www=$scratch/www
server_pid=
: >"$scratch/said"

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	nginx_stop
	[ "${KEEP:-0}" = 1 ] && { echo "kept: $scratch" >&2; return 0; }
	rm -rf "$ngx" "$www" "$scratch"/traces "$scratch"/rr \
	    "$scratch"/[dr][utf][0-9]* "$scratch"/said
	[ "$created" = 1 ] && rmdir "$scratch" 2>/dev/null
	return 0
}
trap cleanup EXIT

${CC:-cc} -O2 -o "$scratch/rr" "$srcdir/bench/rr.c" ||
	die "${CC:-cc} bench/rr.c failed"

mkdir -p "$www" "$scratch/traces"
chmod 755 "$scratch" "$www"
if [ "$(stat -c %s "$www/payload" 2>/dev/null)" != "$bytes" ]; then
	echo "$prog: writing $bytes random bytes to $www/payload" >&2
	head -c "$bytes" /dev/urandom >"$www/payload" ||
		die "$www/payload: cannot write"
fi
nginx_start
# Warm up: the payload in the page cache, nginx's worker running.
curl -s -o /dev/null "$url" || die "curl $url failed"

echo "$prog: $runs + $runs downloads of $bytes bytes, then $runs + $runs" \
    "x $trips round trips; traces in $scratch/traces ($fstype)" >&2
load0=$(cut -d ' ' -f 1-3 /proc/loadavg)
# Untraced and traced alternate, the first of a pair swapping each run,
# so a load that comes and goes falls on both alike.
for ((i = 0; i < runs; i++)); do
	rm -rf "$scratch/traces/d$i"
	mkdir -p "$scratch/traces/d$i"
	((i % 2)) || download "$scratch/du$i"
	download "$scratch/dt$i" "$scratch/traces/d$i/t"
	((i % 2)) && download "$scratch/du$i"
	# The floor: curl itself writing the payload to a file on the disk
	# the traces go to, as costly for the kernel as the trace's writes.
	download "$scratch/df$i" "" "$scratch/traces/d$i.file"
	rm -f "$scratch/traces/d$i.file"
	t0=$(now)
	sync
	calc '%.3f\n' 'b - a' -v a="$t0" -v b="$(now)" >"$scratch/dt$i.sync"
	traces_count "$scratch/traces/d$i"
	read -r _ hdr body req <"$scratch/dt$i.out"
	lost_bytes "$scratch/traces/d$i.count" "$((hdr + body)) $req" \
	    >"$scratch/dt$i.lost"
	cp "$scratch/traces/d$i.count" "$scratch/dt$i.count"
	cp "$scratch/traces/d$i.size" "$scratch/dt$i.size"
	shim_said "$scratch/dt$i.err"
	[ "${KEEP:-0}" = 1 ] || rm -rf "$scratch/traces/d$i"
done
nginx_stop
for ((i = 0; i < runs; i++)); do
	rm -rf "$scratch/traces/r$i"
	mkdir -p "$scratch/traces/r$i"
	((i % 2)) || roundtrips "$scratch/ru$i"
	roundtrips "$scratch/rt$i" "$scratch/traces/r$i/t"
	((i % 2)) && roundtrips "$scratch/ru$i"
	traces_count "$scratch/traces/r$i"
	lost_bytes "$scratch/traces/r$i.count" \
	    "$((trips * 64)) $((trips * 64))" \
	    "$((trips * 64)) $((trips * 64))" >"$scratch/rt$i.lost"
	cp "$scratch/traces/r$i.count" "$scratch/rt$i.count"
	cp "$scratch/traces/r$i.size" "$scratch/rt$i.size"
	shim_said "$scratch/rt$i.err" "$scratch/rt${i}s.err"
	[ "${KEEP:-0}" = 1 ] || rm -rf "$scratch/traces/r$i"
done
load1=$(cut -d ' ' -f 1-3 /proc/loadavg)

# The value in $scratch/$1<run>$2, one line per run.
all() {
	local i
	for ((i = 0; i < runs; i++)); do
		cat "$scratch/$1$i$2"
	done
}

# Median of one measure: med TAG SUFFIX.
med() {
	# shellcheck disable=SC2046  # one value per run
	median $(all "$1" "$2")
}

mib() { calc '%.1f' 'k / 1024' -v k="$1"; }
ratio() { calc '%.2f' 'b / a' -v a="$1" -v b="$2"; }
delta() { calc '%+.1f' '(b - a) / 1024' -v a="$1" -v b="$2"; }

du_wall=$(med du .wall) dt_wall=$(med dt .wall) df_wall=$(med df .wall)
du_rss=$(med du .rss) dt_rss=$(med dt .rss)
ru_wall=$(med ru .wall) rt_wall=$(med rt .wall)
ru_rss=$(med ru .rss) rt_rss=$(med rt .rss)
rus_rss=$(med ru s.rss) rts_rss=$(med rt s.rss)
# shellcheck disable=SC2046
{
	d_lost=$(maximum $(all dt .lost)) r_lost=$(maximum $(all rt .lost))
	ru_cpu=$(median $(for ((i = 0; i < runs; i++)); do
	    calc '%.2f\n' 'a + b' -v a="$(cat "$scratch/ru$i.cpu")" \
	    -v b="$(cat "$scratch/ru${i}s.cpu")"; done))
	rt_cpu=$(median $(for ((i = 0; i < runs; i++)); do
	    calc '%.2f\n' 'a + b' -v a="$(cat "$scratch/rt$i.cpu")" \
	    -v b="$(cat "$scratch/rt${i}s.cpu")"; done))
}
d_ratio=$(ratio "$du_wall" "$dt_wall") r_ratio=$(ratio "$ru_wall" "$rt_wall")
# Trace files: one per traced curl, two per traced rr pair, every run.
d_files=$(all dt .count | wc -l) r_files=$(all rt .count | wc -l)

printf '\nlibtapshim.so benchmark: %s-byte download (curl from nginx, ' \
    "$bytes"
printf 'sendfile off), %s x 64-byte round trips; %s CPUs, %s runs, ' \
    "$trips" "$(nproc)" "$runs"
printf 'medians\nshim %s\ntraces on %s (%s)\n\n' "$shim" "$fstype" \
    "$scratch/traces"
row() { printf '%-22s %7s %6s %6s %8s %8s %12s %6s\n' "$@"; }
row "" "wall s" "cpu s" "ratio" "RSS MiB" "+RSS" "trace bytes" "lost"
row "download, untraced" "$du_wall" "$(med du .cpu)" "" "$(mib "$du_rss")" \
    "" "" ""
row "download, traced" "$dt_wall" "$(med dt .cpu)" "$d_ratio" \
    "$(mib "$dt_rss")" "$(delta "$du_rss" "$dt_rss")" "$(med dt .size)" \
    "$d_lost"
row "  untraced, to a file" "$df_wall" "$(med df .cpu)" \
    "$(ratio "$du_wall" "$df_wall")" "$(mib "$(med df .rss)")" "" "" ""
row "round trips, untraced" "$ru_wall" "$ru_cpu" "" "$(mib "$ru_rss")" \
    "" "" ""
row "round trips, traced" "$rt_wall" "$rt_cpu" "$r_ratio" \
    "$(mib "$rt_rss")" "$(delta "$ru_rss" "$rt_rss")" "$(med rt .size)" \
    "$r_lost"
row "  rr server, untraced" "" "" "" "$(mib "$rus_rss")" "" "" ""
row "  rr server, traced" "" "" "" "$(mib "$rts_rss")" \
    "$(delta "$rus_rss" "$rts_rss")" "" ""
printf '\nwall s: curl, or the rr client; cpu s: the same, rr client and '
printf 'server together; trace bytes: all files of a run (both ends).\n'
printf 'download walls: untraced %s; traced %s; untraced to a file %s\n' \
    "$(all du .wall | xargs)" "$(all dt .wall | xargs)" \
    "$(all df .wall | xargs)"
printf 'untraced, to a file: curl -o FILE on the traces'"'"' file system, '
printf 'the kernel'"'"'s cost of
  storing the payload once; traced / '
printf 'to a file: %s\n' "$(ratio "$df_wall" "$dt_wall")"
printf 'round-trip walls: untraced %s; traced %s\n' \
    "$(all ru .wall | xargs)" "$(all rt .wall | xargs)"
# Ratios run by run too: a load that drifts moves both runs of a pair.
paired() {
	local i r=()
	for ((i = 0; i < runs; i++)); do
		r+=("$(ratio "$(cat "$scratch/$1$i.wall")" \
		    "$(cat "$scratch/$2$i.wall")")")
	done
	printf '%s (median %s)' "${r[*]}" "$(median "${r[@]}")"
}
printf 'traced / untraced, run by run: download %s; round trips %s\n' \
    "$(paired du dt)" "$(paired ru rt)"
printf 'trace files in %s traced runs: download %s, round trips %s\n' \
    "$runs" "$d_files" "$r_files"
printf 'sync after a traced download (its trace to disk; not in wall s): '
printf '%s s\n' "$(med dt .sync)"
printf 'load average: %s at the start, %s at the end (other work skews ' \
    "$load0" "$load1"
printf 'wall s; cpu s less)\n'
printf 'lost: bytes missing from the traces in the worst run, counted by '
printf 'walking each .pb (python3)\n'
if [ -s "$scratch/said" ]; then
	printf 'the shim said:\n'
	sed 's/^/  /' "$scratch/said"
fi

# A target line: target NAME OK DETAIL.
target() {
	printf '%-44s %s\n' "$1" "$([ "$2" = 1 ] && echo met ||
	    echo "NOT met") ($3)"
}
le() { calc '%d' 'a <= b' -v a="$1" -v b="$2"; }
echo
target "download: traced / untraced <= 1.30" "$(le "$d_ratio" 1.30)" \
    "$d_ratio"
target "round trips: traced / untraced <= 1.30" "$(le "$r_ratio" 1.30)" \
    "$r_ratio"
rss_ok=$(calc '%d' '(b - a <= 16384) && (d - c <= 16384) && (f - e <= 16384)' \
    -v a="$du_rss" -v b="$dt_rss" -v c="$ru_rss" -v d="$rt_rss" \
    -v e="$rus_rss" -v f="$rts_rss")
target "peak RSS: traced <= untraced + 16 MiB" "$rss_ok" \
    "curl $(delta "$du_rss" "$dt_rss"), rr client $(delta "$ru_rss" \
    "$rt_rss"), rr server $(delta "$rus_rss" "$rts_rss") MiB"
lost_ok=$((d_lost == 0 && r_lost == 0 && d_files == runs &&
    r_files == 2 * runs))
target "zero bytes lost" "$lost_ok" \
    "download $d_lost, round trips $r_lost, in $((runs * 2)) traced runs"
# The launcher's collector against direct mode (nginx, worker nobody,
# ab short and keep-alive; round trips and the download): as root, with
# ab; COLLECTOR=0 skips it.
if [ "${COLLECTOR:-1}" = 1 ] && [ "$(id -u)" -eq 0 ] &&
    command -v ab >/dev/null; then
	RUNS=$runs TRIPS=$trips BYTES=$bytes \
	    "$srcdir/bench/collector.sh" "$builddir" ||
		echo "$prog: bench/collector.sh failed" >&2
fi
[ "$lost_ok" = 1 ] || exit 1
exit 0
