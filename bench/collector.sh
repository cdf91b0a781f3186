#!/bin/bash
# The launcher's collector against direct mode and no tracing, in the
# same run (bench/shim.sh runs it last; it runs alone too):
#   1. nginx as root, its worker as nobody, serving a 6-byte file:
#      ab -n $REQS -c 1 (short connections) and ab -k (keep-alive),
#      untraced, under tapshim (collector) and tapshim --direct; peak
#      RSS (VmHWM) of nginx's worker and of tapshim, the collector.
#   2. $TRIPS 64-byte round trips (bench/rr.c, both ends in one traced
#      shell) and a $BYTES download by curl from nginx (untraced), in
#      the three modes.
# Ratios are traced / untraced of ab's mean time per request, or of the
# wall time, medians over RUNS (default 1), runs alternating.
# usage: bench/collector.sh [BUILDDIR]; needs nginx, ab, curl, cc.

set -eu
builddir=$(cd "${1:-.}" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-1}
reqs=${REQS:-5000}
trips=${TRIPS:-100000}
bytes=${BYTES:-1073741824}
tapshim=$builddir/tools/tapshim/tapshim
export TAPSHIM_LIBRARY=$builddir/shim/.libs/libtapshim.so
out=$(mktemp -d "${OUTDIR:-${TMPDIR:-/tmp}}/collbench.XXXXXX")
chmod 755 "$out"
# Under set -e a failing command in the trap would end it before the
# clean-up, with its status: no nginx left (the usual case) makes kill
# fail.
trap 'kill $(cat "$out"/ngx*/nginx.pid 2>/dev/null) 2>/dev/null || :; rm -rf "$out"' EXIT
die() { echo "collector.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (nginx's worker as nobody)"
command -v ab >/dev/null || die "needs ab (apache2-utils)"

cc -O2 -o "$out/rr" "$srcdir/bench/rr.c" || die "cannot build rr"
printf 'hello\n' >"$out/small"
head -c "$bytes" /dev/urandom >"$out/big"
chmod 644 "$out/small" "$out/big"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# nginx for tag $1 on a free port, run by "$@" after the tag.
ngx_start() {
	local tag=$1 d=$out/ngx-$1
	shift
	mkdir -p "$d"
	port=$(free_port)
	cat >"$d/nginx.conf" <<EOF
user nobody nogroup;
worker_processes 1;
daemon off;
error_log $d/error.log;
pid $d/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile off;
	keepalive_requests 100000;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	server { listen 127.0.0.1:$port; root $out; }
}
EOF
	"$@" nginx -p "$d" -c "$d/nginx.conf" 2>"$d/launch.err" &
	ngx_pid=$!
	for _ in $(seq 200); do
		curl -s -o /dev/null "http://127.0.0.1:$port/small" && return 0
		sleep 0.05
	done
	die "nginx ($tag) would not start: $(cat "$d/error.log" "$d/launch.err")"
}
ngx_stop() {
	kill -QUIT "$(cat "$out/ngx-$1/nginx.pid")"
	wait "$ngx_pid" 2>/dev/null || true
}
hwm() { awk '/VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# ab's mean time per request, ms.
abtime() { ab -q "$@" 2>/dev/null | awk '/Time per request.*\(mean\)$/ { print $4 }'; }

declare -A T
modes="untraced collector direct"
for r in $(seq "$runs"); do
	for m in $modes; do
		case $m in
		untraced) pre=() ;;
		collector) pre=("$tapshim" -q -o "$out/t-$m-$r") ;;
		direct) pre=("$tapshim" -q --direct -o "$out/t-$m-$r") ;;
		esac
		ngx_start "$m" "${pre[@]}"
		T[short,$m]+=" $(abtime -n "$reqs" -c 1 "http://127.0.0.1:$port/small")"
		T[keep,$m]+=" $(abtime -k -n "$reqs" -c 1 "http://127.0.0.1:$port/small")"
		w=$(pgrep -P "$(cat "$out/ngx-$m/nginx.pid")" | head -1)
		T[wrss,$m]=$(hwm "$w")
		[ "$m" = untraced ] || T[lrss,$m]=$(hwm "$ngx_pid")
		ngx_stop "$m"
		rm -rf "$out"/t-*
	done
	ngx_start big
	for m in $modes; do
		case $m in
		untraced) pre=() ;;
		collector) pre=("$tapshim" -q -o "$out/t-$m-$r" --) ;;
		direct) pre=("$tapshim" -q --direct -o "$out/t-$m-$r" --) ;;
		esac
		s=$(date +%s.%N)
		"${pre[@]}" curl -s -o /dev/null "http://127.0.0.1:$port/big"
		T[dl,$m]+=" $(echo "$(date +%s.%N) - $s" | bc)"
		rm -rf "$out"/t-*
		s=$(date +%s.%N)
		"${pre[@]}" sh -c '"$1" server >"$2" & until [ -s "$2" ]; do sleep 0.01; done; "$1" client "$(head -1 "$2")" "$3" >/dev/null; wait' \
		    sh "$out/rr" "$out/rr.port" "$trips"
		T[rr,$m]+=" $(echo "$(date +%s.%N) - $s" | bc)"
		rm -f "$out/rr.port"
		rm -rf "$out"/t-*
	done
	ngx_stop big
done

med() { printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '\ncollector benchmark: RUNS=%s, load %s\n' "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %10s %10s %10s %8s %8s\n' test untraced collector direct coll/un dir/un
for k in short keep dl rr; do
	case $k in
	short) name="nginx ab -c 1, ms/request" ;;
	keep) name="nginx ab -k -c 1, ms/request" ;;
	dl) name="curl $bytes bytes, s" ;;
	rr) name="$trips 64-byte round trips, s" ;;
	esac
	u=$(med "${T[$k,untraced]}"); c=$(med "${T[$k,collector]}"); d=$(med "${T[$k,direct]}")
	printf '%-34s %10s %10s %10s %8.2f %8.2f\n' "$name" "$u" "$c" "$d" \
	    "$(echo "$c / $u" | bc -l)" "$(echo "$d / $u" | bc -l)"
done
printf 'peak RSS, KiB: nginx worker %s untraced, %s collector, %s direct; tapshim (the collector) %s, (direct) %s\n' \
    "${T[wrss,untraced]}" "${T[wrss,collector]}" "${T[wrss,direct]}" \
    "${T[lrss,collector]}" "${T[lrss,direct]}"
