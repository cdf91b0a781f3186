#!/usr/bin/env bash
# Integration tests of libtapshim.so with tests/shim-prog, a program that
# makes every hooked call, over IPv4, IPv6 and AF_UNIX, judged by tshark.
#
# Cases, each in its own scratch directory:
#   prog-pb  shim-prog traced in each format: exit status and output as
#   prog-ld  untraced, one trace per connection end (dup'ed fds share
#            it), and the clients' traces and the servers' each give back
#            exactly the bytes the program says it sent, with FINs where
#            the program's shutdown, end of file and close put them.
# Every capture has no expert warning or error, and a FIN from both sides
# in every stream; every trace ends with a closed event.
#
# Environment: top_srcdir, top_builddir, TAP2PCAP, SHIM_PROG, LIBTAPSHIM
# (set by make check); TSHARK, PROTOC, PYTHON to use other programs;
# TAPSHIM_CASES to run only some cases. A missing tshark, protoc or
# python3 skips the test (exit 77) unless TAPSHIM_REQUIRE_TOOLS=1, when it
# fails it. TAPSHIM_KEEP_TMP=1 keeps the scratch directory.
#
# Output: "ok - NAME" or "not ok - NAME" per check, then "N passed, N
# failed"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source-path=SCRIPTDIR source=shimlib.sh
. "$top_srcdir/tests/shim/shimlib.sh"

# Run shim-prog as NAME, env VAR=VALUE... given; its files in $dir/NAME.
run_prog()
{
	local name=$1

	shift
	mkdir -p "$dir/$name"
	run "$name" env "$@" timeout 60 "$SHIM_PROG" "$dir/$name" \
	    "$dir/$name/s.sock"
}

# Judge: the traced run printed what the untraced one did, and sent the
# same bytes.
judge_same_run()
{
	local f rc=0

	diff -u "$tmp/plain.out" "$dir/run.out" || rc=1
	diff -u "$tmp/plain.err" "$dir/run.err" || rc=1
	for f in "$tmp/plain"/*.c2s "$tmp/plain"/*.s2c; do
		cmp "$f" "$dir/run/${f##*/}" || rc=1
	done
	return "$rc"
}

# Judge: one trace per connection end: each IP client's address is the
# local one of exactly one ROLE_CLIENT trace and the remote one of exactly
# one ROLE_SERVER trace; 2 of each role name the AF_UNIX path; 12 in all.
judge_one_per_end()
{
	local fam c want="2|ROLE_CLIENT|R|unix:$dir/run/s.sock"

	want="$want 2|ROLE_SERVER|L|unix:$dir/run/s.sock"
	for fam in ipv4 ipv4-accept ipv6 ipv6-accept; do
		c=$(tr -d '[]' <"$dir/run/$fam.client")
		want="$want 1|ROLE_CLIENT|L|$c 1|ROLE_SERVER|R|$c"
	done
	awk -F'\t' -v want="$want" '
	    { n[$2 "|L|" $3]++; n[$2 "|R|" $4]++ }
	    END {
		k = split(want, w, " ")
		for (i = 1; i <= k; i++) {
			key = substr(w[i], 3)
			if (n[key] == substr(w[i], 1, 1))
				continue
			print n[key] + 0 " traces " key ", expected " \
			    substr(w[i], 1, 1)
			bad = 1
		}
		if (NR != 12) { print NR " traces, expected 12"; bad = 1 }
		exit bad
	    }' "$dir/info.txt" && return 0
	cat "$dir/info.txt"
	return 1
}

# Judge: tap2pcap (NAME.rc, NAME.err) converted, and told how it shows
# each of the 2 AF_UNIX connections.
judge_unix_notice()
{
	local n

	judge_rc "$1" || return 1
	n=$(grep -c 'AF_UNIX socket .* shown as 127\.0\.0\.' "$dir/$1.err")
	[ "$n" -eq 2 ] && return 0
	echo "$n AF_UNIX notices, expected 2:"
	cat "$dir/$1.err"
	return 1
}

# Lines "STREAM CLIENT EXPECT0 EXPECT1" for the program's connections in
# NAME.pkts: IPv4 and IPv6 by the client's address, AF_UNIX (shown as
# 127.0.0.1 -> 127.0.0.2) in order.
prog_streams()
{
	local pkts=$dir/$1.pkts fam c s k=0

	for fam in ipv4 ipv4-accept ipv6 ipv6-accept unix unix-accept; do
		case $fam in
		unix*)	c=- k=$((k + 1))
			s=$(stream_to "$pkts" 127.0.0.2 "$k") ;;
		*)	c=$(tr -d '[]' <"$dir/run/$fam.client")
			s=$(stream_from "$pkts" "$c") ;;
		esac
		echo "$s $c $dir/run/$fam.c2s $dir/run/$fam.s2c"
	done
}

# Judge the traces of one end of the program's connections (ROLE), in a
# capture of their own (NAME).
prog_view()
{
	local case=$1 role=$2 v=$3

	convert "$v" "$role"
	check_ok "$case: $v traces: tap2pcap converts, AF_UNIX as 127.0.0.x" \
	    judge_unix_notice "$v" || return
	prog_streams "$v" >"$dir/$v.streams"
	check "$case: $v traces: every byte, each way, in 6 streams" \
	    judge_follow_streams "$dir/$v.pcap" <"$dir/$v.streams"
	check "$case: $v traces: expert info has no warnings or errors" \
	    judge_expert "$dir/$v.pcap"
	# shellcheck disable=SC2046
	check "$case: $v traces: FIN from both sides in every stream" \
	    judge_fins "$dir/$v.pkts" $(cut -d' ' -f1 "$dir/$v.streams")
	# shellcheck disable=SC2046
	check "$case: $v traces: shutdown(SHUT_WR) shows as an early FIN" \
	    judge_fin_order "$dir/$v.pkts" client $(awk 'NR % 2 { print $1 }' \
	    "$dir/$v.streams")
	# shellcheck disable=SC2046
	check "$case: $v traces: the server closes first: its FIN first" \
	    judge_fin_order "$dir/$v.pkts" server $(awk '!(NR % 2) {
	    print $1 }' "$dir/$v.streams")
}

# shim-prog traced in format FMT (pb or ld).
case_prog()
{
	local fmt=$1 name=prog-$1 ext=.pb

	[ "$fmt" = ld ] && ext=.pb_length_delimited
	run_prog run LD_PRELOAD="$LIBTAPSHIM" \
	    TAPSHIM_PATH_PREFIX="$dir/tr/tap" TAPSHIM_FORMAT="$fmt"
	check "$name: exit status 0, traced" judge_rc run
	check "$name: stdout, stderr and bytes sent as untraced" \
	    judge_same_run
	check "$name: 12 $ext traces, each ending with closed" \
	    judge_traces "$dir/tr/tap" 12 -
	check "$name: one trace per connection end (dup'ed fds share it)" \
	    judge_one_per_end
	# shellcheck disable=SC2046
	[ "$fmt" = ld ] || check "$name: protoc decodes every .pb" \
	    judge_protoc - $(traces_of "$dir/tr/tap")
	prog_view "$name" ROLE_CLIENT client
	prog_view "$name" ROLE_SERVER server
}

shim_setup "shim-prog tests" "$TSHARK" "$PROTOC" "$PYTHON"
[ -e "$SHIM_PROG" ] || { echo "not ok - built: $SHIM_PROG";
    echo "0 passed, 1 failed"; exit 1; }
dir=$tmp
run_prog plain
check "shim-prog runs untraced, exit status 0" judge_rc plain >>"$tmp/all.out"
# shellcheck disable=SC2086  # a list of cases
run_cases ${TAPSHIM_CASES:-prog-pb prog-ld}
