# Helpers for tests/tls.sh: servers, runs, traces and their judges.
#
# Sourced by tests/tls.sh (bash), after tests/lib.sh. Expects tmp (the
# run's scratch directory), dir (the case's), servers (an array),
# tls_port and plain_port, and the tool variables to be set.

# dir, tmp and the ports are tls.sh's.
# shellcheck shell=bash disable=SC2154

# Free TCP ports on 127.0.0.1 now: free_port [N] prints N (1) of them,
# all different.
free_port()
{
	"$PYTHON" -c 'import socket, sys; s = [socket.socket() for i in \
range(int(sys.argv[1]))]; [x.bind(("127.0.0.1", 0)) for x in s]; \
print(" ".join(str(x.getsockname()[1]) for x in s))' "${1:-1}"
}

# Start a server in the background: env VAR=VALUE... COMMAND; its output
# in $dir/server.log, its input $server_in (or nothing).
server_start()
{
	env "$@" <"${server_in:-/dev/null}" >"$dir/server.log" 2>&1 &
	servers+=($!)
}

# Stop the last server started, and reap it.
server_stop()
{
	kill "${servers[-1]}" 2>/dev/null
	wait "${servers[-1]}" 2>/dev/null
	unset 'servers[-1]'
	return 0
}

# Judge: FILE holds TEXT within 20 s.
wait_for()
{
	local i

	for i in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "$1: no '$2' after 20 s:"
	cat "$1" "$dir/server.log" 2>/dev/null
	return 1
}

# The trace files of prefix P, in number order.
traces_of()
{
	# shellcheck disable=SC2012
	ls "$1"_* 2>/dev/null | sed "s|^$1_||" | sort -n | sed "s|^|$1_|"
}

# Judge: prefix P has N traces within 20 s, each ending with a closed event.
wait_traces()
{
	local p=$1 n=$2 i f got ok

	for i in $(seq 200); do
		got=$(traces_of "$p" | wc -l)
		ok=1
		if [ "$got" -eq "$n" ]; then
			for f in $(traces_of "$p"); do
				meta "$f" | grep -q 'closed {' || ok=0
			done
			[ "$ok" = 1 ] && return 0
		fi
		sleep 0.1
	done
	echo "$got traces of $p, expected $n, each closed:"
	traces_of "$p"
	return 1
}

# A trace as protoc decodes it (chunks merge), payloads left out.
meta()
{
	local t=--decode=tapshim.trace.TraceWrapper

	case $1 in
	*_delimited) echo "(delimited)"; return 1 ;;
	esac
	"$PROTOC" --proto_path="$top_srcdir/proto" "$t" tapshim.proto <"$1" |
	    grep -v 'as_bytes:'
}

# Judge: trace T's TLS metadata has each of the lines given (grep -F).
judge_meta()
{
	local t=$1 want out=$dir/meta.txt

	shift
	meta "$t" >"$out" || { echo "protoc cannot decode $t"; return 1; }
	for want in "$@"; do
		grep -qF -- "$want" "$out" && continue
		echo "$t: no '$want' in its metadata:"
		sed -n '/tls {/,/^    }/p' "$out"
		return 1
	done
}

# Judge: tap2pcap converts TRACE... into $dir/NAME.pcap, quietly.
convert()
{
	local name=$1

	shift
	rm -f "$dir/$name.pcap" "$dir/$name.pcap.z"
	run "$name" "$TAP2PCAP" -q -w "$dir/$name.pcap" "$@"
	judge_rc "$name"
}

# Judge: tshark follows, in each stream of NAME.pcap (decoded as PROTO on
# PORT), exactly the bytes of the traces; the expert info is clean; the
# client sent REQ first and the last bytes the server sent are FILE.
# judge_plain NAME PORT PROTO ROLE REQ FILE TRACE...
judge_plain()
{
	local name=$1 port=$2 proto=$3 role=$4 req=$5 file=$6 i=0 t args=()

	shift 6
	for t in "$@"; do
		"$PYTHON" "$top_srcdir/tests/lib/follow.py" expect "$role" \
		    "$dir/$name.x" "$t" || return 1
		args+=("$i" "$dir/$name.x.0.0" "$dir/$name.x.0.1")
		head -c ${#req} "$dir/$name.x.0.0" | grep -qF -- "$req" || {
			echo "$t: the client's plaintext does not begin with" \
			    "'$req':"; head -c 200 "$dir/$name.x.0.0"; return 1; }
		tail -c "$(wc -c <"$file")" "$dir/$name.x.0.1" | cmp -s - \
		    "$file" || { echo "$t: the server's plaintext does not" \
		    "end with $file"; return 1; }
		i=$((i + 1))
	done
	"$PYTHON" "$top_srcdir/tests/lib/follow.py" check \
	    -d "tcp.port==$port,$proto" --expert "$dir/$name.pcap.z" \
	    "$dir/$name.pcap" "${args[@]}" || return 1
	judge_expert_reset "$dir/$name.pcap" "$@"
}

# Judge: as judge_expert, but a reset that a trace itself recorded (the
# program saw ECONNRESET: a TLS peer that closes right after its
# close_notify races the other side's last record) may show as tshark's
# "Connection reset (RST)" warning: judge_expert_reset PCAP TRACE...
judge_expert_reset()
{
	local pcap=$1 out=$1.z t reset=0

	shift
	for t in "$@"; do
		"$PROTOC" --proto_path="$top_srcdir/proto" \
		    --decode=tapshim.trace.TraceWrapper tapshim.proto <"$t" \
		    2>/dev/null | grep -q 'reset: RESET_' && reset=1
	done
	[ -s "$out" ] || ts_out "$out" -r "$pcap" -q -z expert || return 1
	if [ "$reset" = 1 ]; then
		# The Warns section without its RST entry; gone if empty.
		awk '
		    function flush() {
			if (n > 0)
				for (i = 1; i <= k; i++) print buf[i]
			warns = k = n = 0
		    }
		    /^(Errors|Warns|Notes|Chats) \(/ { if (warns) flush() }
		    /^Warns \(/ { warns = 1 }
		    warns && /Connection reset \(RST\)/ { next }
		    warns { buf[++k] = $0; if ($1 ~ /^[0-9]+$/) n++; next }
		    { print }
		    END { if (warns) flush() }' "$out" \
		    >"$out.tmp" && mv "$out.tmp" "$out"
	fi
	judge_expert "$pcap"
}

# Start nginx with TLS (and HTTP/2) on $tls_port and plain HTTP on
# $plain_port, env VAR=VALUE... given; judge that it starts.
nginx_start()
{
	local ng=$dir/nginx

	rm -rf "$ng"
	mkdir -p "$ng"
	cat >"$ng/nginx.conf" <<EOF2
daemon off; master_process off; pid $ng/nginx.pid; error_log $ng/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $ng/body; proxy_temp_path $ng/proxy;
	fastcgi_temp_path $ng/fastcgi; uwsgi_temp_path $ng/uwsgi;
	scgi_temp_path $ng/scgi;
	server {
		listen 127.0.0.1:$tls_port ssl http2;
		listen 127.0.0.1:$plain_port;
		server_name localhost;
		ssl_certificate $tmp/cert.pem;
		ssl_certificate_key $tmp/key.pem;
		root $tmp/www;
	}
}
EOF2
	server_start "$@" "$NGINX" -p "$ng" -e "$ng/error.log" \
	    -c "$ng/nginx.conf"
	check_ok "nginx starts on ports $tls_port (TLS) and $plain_port" \
	    wait_for "$ng/nginx.pid" '[0-9]'
}

# curl NAME [VAR=VALUE...] -- CURL-ARGS...: NAME.out is what it wrote.
run_curl()
{
	local name=$1 envs=()

	shift
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	run "$name" env "${envs[@]}" timeout 30 "$CURL" -sS --cacert \
	    "$tmp/cert.pem" "$@"
}

# Judge: NAME exited 0 and wrote exactly FILE.
judge_got()
{
	judge_rc "$1" && cmp "$2" "$dir/$1.out"
}

# The preload setting, for env.
lib()
{
	echo "LD_PRELOAD=$LIBTAPSHIM"
}
