#!/usr/bin/env bash
# The launcher's pcapng captures, of real runs:
#   fork    shim-prog (a client and its forked server) traced with
#           -w X.pcapng: an interface per process, named PROG[PID], each
#           packet's comment giving its interface's PID, thread and
#           command; capinfos counts the pcap's packets.
#   names   udp-prog resolve traced: its getaddrinfo("localhost") names
#           127.0.0.1 in tshark -Nn (no external resolver), where the
#           pcap of the same traces stays numeric.
#   tls     curl traced with --tls=ciphertext --keylog against openssl
#           s_server: the capture embeds the key log, and tshark, given
#           no key log, decrypts the HTTP request; tap2pcap --keylog
#           gives the same, and without it nothing decrypts.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, TAPSHIM_PROG,
# LIBTAPSHIM, SHIM_PROG (set by make check); TSHARK, PYTHON, CURL,
# CAPINFOS, OPENSSL.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export TAPSHIM_LIBRARY=$LIBTAPSHIM
: "${CAPINFOS:=capinfos}"
: "${OPENSSL:=openssl}"
servers=()

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source-path=SCRIPTDIR source=shimlib.sh
. "$top_srcdir/tests/shim/shimlib.sh"

# tshark -T fields on FILE: fields FILE ARGS...
fields()
{
	local f=$1

	shift
	"$TSHARK" -r "$f" -T fields "$@" 2>/dev/null
}

# Judge: two interfaces or more (the client, the servers it forked: of a
# connection traced at both ends one end is shown), PROG[PID] each, and
# on each every commented
# packet says PID: PID, ThreadId: PID (one thread) and Cmd: the program;
# frame.comment contains "PID: PID" selects exactly that interface's.
judge_processes()
{
	local f=$1 names name pid n m

	names=$(fields "$f" -e frame.interface_name | sort -u)
	[ "$(wc -l <<<"$names")" -ge 2 ] || { echo "interfaces: $names";
	    return 1; }
	for name in $names; do
		pid=${name#shim-prog[}
		pid=${pid%]}
		[ "$name" = "shim-prog[$pid]" ] || { echo "name $name"; return 1; }
		n=$(fields "$f" -Y "frame.interface_name == \"$name\" &&
		    frame.comment" -e frame.number | wc -l)
		m=$(fields "$f" -Y "frame.comment contains \"PID: $pid\n\" &&
		    frame.comment contains \"ThreadId: $pid\n\" &&
		    frame.comment contains \"Cmd: $(readlink -f "$SHIM_PROG")\n\"" \
		    -e frame.interface_name | sort | uniq -c |
		    awk '{ print $1, $2 }')
		if [ "$n" -eq 0 ] || [ "$m" != "$n $name" ]; then
			echo "$name: $n commented, matching: $m"
			return 1
		fi
	done
}

# Judge: capinfos counts N packets in FILE.
judge_count()
{
	"$CAPINFOS" -c "$1" | grep -Eq "^Number of packets: +$2\$" ||
	    { "$CAPINFOS" -c "$1"; echo "want $2"; return 1; }
}

# Judge: tshark, given no key log, finds the GET in FILE.
judge_decrypts()
{
	local got

	got=$(fields "$1" -Y http.request -e http.request.method \
	    -e http.request.uri)
	[ "$got" = "GET	/" ] || { echo "requests: $got"; return 1; }
}

case_fork()
{
	dir=$tmp/fork
	mkdir -p "$dir/o"
	run fork timeout 60 "$TAPSHIM_PROG" -q -o "$dir/t" \
	    -w "$dir/run.pcapng" -- "$SHIM_PROG" "$dir/o" "$dir/sock"
	check_ok "fork: shim-prog runs traced, -w run.pcapng" judge_rc fork ||
	    return
	check "fork: one interface per process, comments name pid, tid, cmd" \
	    judge_processes "$dir/run.pcapng"
	"$TAP2PCAP" -q -w "$dir/run.pcap" "$dir"/t_*.pb
	check "fork: capinfos counts the pcap's packets" judge_count \
	    "$dir/run.pcapng" "$(fields "$dir/run.pcap" -e frame.number | wc -l)"
	check "fork: tshark's expert info has no errors or warnings" \
	    judge_expert "$dir/run.pcapng"
}

case_names()
{
	local nr=(-Nn -o nameres.use_external_name_resolver:FALSE)

	dir=$tmp/names
	mkdir -p "$dir"
	run names timeout 60 "$TAPSHIM_PROG" -q -o "$dir/t" \
	    -w "$dir/r.pcapng" -- "$UDP_PROG" resolve
	check_ok "names: udp-prog resolve runs traced, -w r.pcapng" \
	    judge_rc names || return
	check "names: the recorded lookup names 127.0.0.1 localhost" \
	    eval "[ \"\$(fields '$dir/r.pcapng' ${nr[*]} -e ip.dst_host | sort -u)\" = localhost ]"
	"$TAP2PCAP" -q -w "$dir/r.pcap" "$dir"/t_*.pb
	check "names: the pcap of the same traces stays numeric" \
	    eval "[ \"\$(fields '$dir/r.pcap' ${nr[*]} -e ip.dst_host | sort -u)\" = 127.0.0.1 ]"
}

case_tls()
{
	local port

	dir=$tmp/tls
	mkdir -p "$dir"
	"$OPENSSL" req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" \
	    -out "$dir/cert.pem" -days 2 -subj /CN=localhost 2>/dev/null
	port=$(free_port)
	server_start "$OPENSSL" s_server -accept "$port" -cert "$dir/cert.pem" \
	    -key "$dir/key.pem" -www -quiet
	sleep 0.5
	run tls timeout 60 "$TAPSHIM_PROG" -q -o "$dir/t" --tls=ciphertext \
	    --keylog "$dir/keys.txt" -w "$dir/tls.pcapng" -- \
	    "$CURL" -sk -o /dev/null "https://localhost:$port/"
	server_stop
	check_ok "tls: curl runs traced, ciphertext, -w tls.pcapng" \
	    judge_rc tls || return
	check "tls: the capture's own keys decrypt the request" \
	    judge_decrypts "$dir/tls.pcapng"
	"$TAP2PCAP" -q --keylog "$dir/keys.txt" -w "$dir/t2.pcapng" \
	    "$dir"/t_*.pb
	check "tls: tap2pcap --keylog gives a capture that decrypts" \
	    judge_decrypts "$dir/t2.pcapng"
	"$TAP2PCAP" -q -w "$dir/nokeys.pcapng" "$dir"/t_*.pb
	check "tls: without --keylog nothing decrypts" \
	    eval "! judge_decrypts '$dir/nokeys.pcapng' >/dev/null"
	check "tls: tshark's expert info has no errors or warnings" \
	    judge_expert "$dir/tls.pcapng"
}

shim_setup "pcapng tests" "$TSHARK" "$PYTHON" "$CURL" "$CAPINFOS" "$OPENSSL"
[ -x "$TAPSHIM_PROG" ] && [ -x "$SHIM_PROG" ] ||
    { echo "not ok - built: $TAPSHIM_PROG $SHIM_PROG";
    echo "0 passed, 1 failed"; exit 1; }
case_fork
case_names
case_tls
report
