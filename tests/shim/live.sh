#!/usr/bin/env bash
# Live captures: tapshim -w and tap2pcap --follow write frames while the
# traced program runs, and rotate their files as tcpdump does.
#
# Cases, each in its own scratch directory, over tests/shim/liveprog.py
# (a client and its server in one process, paced by files so that no
# check waits on the clock):
#   live     tapshim -w: the first exchange's frames are in the capture
#            (tshark reads the growing file) while the program waits;
#            after it exits, every byte, the FINs, no expert warning.
#   stdout   tapshim -w - piped into tshark -r -: the capture reads, the
#            program's stdout is on tapshim's stderr, not in the pcap.
#   size     -C 1: several files, each readable alone, the bytes of all
#            of them what was sent.
#   time     -G 1 with strftime names: files named by the second, each
#            readable alone, all the bytes among them.
#   usr1     SIGUSR1 to tapshim: the capture goes on in OUT1, each file
#            holding its own exchange.
#   ng       tap2pcap --follow -C 1 to pcapng: every file its own
#            section header and interface, readable alone.
#   follow-pb, follow-ld  tap2pcap --follow PREFIX on a run's files while
#            they are written (TAPSHIM_FORMAT pb, ld): frames while the
#            program runs, stopped by SIGINT (exit 0), tshark reassembles
#            exactly the bytes sent.
#
# Environment: as tests/shim/launcher.sh. A missing tshark, capinfos or
# python3 skips the test (exit 77) unless TAPSHIM_REQUIRE_TOOLS=1.
#
# Output: "ok - NAME" or "not ok - NAME" per check, then "N passed, N
# failed"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export TAPSHIM_LIBRARY=$LIBTAPSHIM

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source-path=SCRIPTDIR source=shimlib.sh
. "$top_srcdir/tests/shim/shimlib.sh"

prog=$top_srcdir/tests/shim/liveprog.py

# Wait (at most 60 s) for FILE to exist.
wait_file()
{
	local i

	for i in $(seq 600); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "$1: not there after 60 s"
	return 1
}

# The TCP payload bytes of the captures given, all together.
payload()
{
	local f n=0 b

	for f in "$@"; do
		b=$("$TSHARK" -n -r "$f" -T fields -e tcp.len 2>/dev/null |
		    awk '{ s += $1 } END { print s + 0 }')
		n=$((n + b))
	done
	echo "$n"
}

# Judge: the captures given hold WANT payload bytes: payload WANT FILE...
judge_payload()
{
	local want=$1 got

	shift
	got=$(payload "$@")
	[ "$got" = "$want" ] && return 0
	echo "$got payload bytes in $*, expected $want"
	return 1
}

# Wait (at most 60 s) until the growing capture FILE holds WANT bytes.
wait_payload()
{
	local i

	for i in $(seq 300); do
		[ -e "$1" ] && [ "$(payload "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	judge_payload "$2" "$1"
}

# Judge: each capture given reads alone, with capinfos and tshark.
judge_alone()
{
	local f

	for f in "$@"; do
		capinfos -c "$f" >"$dir/capinfos.out" 2>&1 &&
		    "$TSHARK" -n -r "$f" >/dev/null 2>"$dir/ts.err" && continue
		echo "$f does not read alone:"
		cat "$dir/capinfos.out" "$dir/ts.err"
		return 1
	done
}

# Judge: a process still runs.
judge_alive()
{
	kill -0 "$1" 2>/dev/null && return 0
	echo "process $1 is gone"
	return 1
}

# tapshim -w: frames while the program runs, all of them after.
case_live()
{
	local pid

	"$TAPSHIM_PROG" -q -o "$dir/tr/t" -w "$dir/live.pcap" -- \
	    "$PYTHON" "$prog" "$dir" 2 1000 0 >"$dir/run.out" \
	    2>"$dir/run.err" &
	pid=$!
	wait_file "$dir/round-0" >/dev/null
	check "live: the first exchange's bytes in the capture as it runs" \
	    wait_payload "$dir/live.pcap" 1002
	check "live: the program still runs" judge_alive "$pid"
	: >"$dir/go-0"
	wait "$pid"
	echo $? >"$dir/run.rc"
	check "live: tapshim exits 0" judge_rc run
	# Replaced at the exit by the conversion of the whole traces, whose
	# pairing of the two ends may show one twice (ends.c): count each
	# direction of each client port once.
	check "live: every byte after the exit" eval '[ "$("$TSHARK" -n -r \
	    "$dir/live.pcap" -Y "tcp.len > 0" -T fields -e tcp.srcport \
	    -e tcp.dstport -e tcp.len | sort -u | awk "{ s += \$3 } END \
	    { print s }")" = 2004 ]'
	check "live: both connections closed" eval '[ "$("$TSHARK" -n -r \
	    "$dir/live.pcap" -Y "tcp.flags.fin == 1" -T fields \
	    -e tcp.srcport -e tcp.dstport | sort -u | wc -l)" -ge 4 ]'
	check "live: no expert warning" judge_expert "$dir/live.pcap"
}

# tapshim -w -: a capture on stdout, the program's stdout elsewhere.
case_stdout()
{
	"$TAPSHIM_PROG" -q -o "$dir/tr/t" -w - -- "$PYTHON" "$prog" "$dir" \
	    2 500 2>"$dir/run.err" | "$TSHARK" -n -r - -T fields \
	    -e tcp.len >"$dir/ts.out" 2>"$dir/ts.err"
	echo "${PIPESTATUS[1]}" >"$dir/ts.rc"
	cp "$dir/ts.err" "$dir/ts.err.keep"
	check "stdout: tshark -r - reads the capture" eval '[ "$(cat \
	    "$dir/ts.rc")" = 0 ] || { cat "$dir/ts.err.keep"; false; }'
	check "stdout: every byte in it" eval '[ "$(awk "{ s += \$1 } END \
	    { print s + 0 }" "$dir/ts.out")" = 1004 ]'
	check "stdout: the program's stdout on tapshim's stderr" \
	    grep -q "liveprog stdout" "$dir/run.err"
}

# -C 1: files of a million bytes at most.
case_size()
{
	run cap "$TAPSHIM_PROG" -q -o "$dir/tr/t" -w "$dir/cap.pcap" -C 1 -- \
	    "$PYTHON" "$prog" "$dir" 10 300000
	check "size: tapshim exits 0" judge_rc cap
	check "size: at least three files" eval '[ -e "$dir/cap.pcap2" ]'
	check "size: none past a million bytes" eval '[ -z "$(find "$dir" \
	    -name "cap.pcap*" -size +1000000c)" ]'
	check "size: each readable alone" judge_alone "$dir"/cap.pcap*
	check "size: every byte among them" judge_payload 3000020 \
	    "$dir"/cap.pcap*
}

# -G 1: a file every second, named by strftime.
case_time()
{
	LIVEPROG_PAUSE=0.25 run cap "$TAPSHIM_PROG" -q -o "$dir/tr/t" \
	    -w "$dir/cap-%H%M%S.pcap" -G 1 -- "$PYTHON" "$prog" "$dir" 12 1000
	check "time: tapshim exits 0" judge_rc cap
	check "time: at least two files, named by the time" eval '[ "$(ls \
	    "$dir" | grep -Ec "^cap-[0-9]{6}\.pcap$")" -ge 2 ]'
	check "time: each readable alone" judge_alone "$dir"/cap-*.pcap
	check "time: every byte among them" judge_payload 12024 \
	    "$dir"/cap-*.pcap
}

# SIGUSR1: a new file.
case_usr1()
{
	local pid

	"$TAPSHIM_PROG" -q -o "$dir/tr/t" -w "$dir/u.pcap" -- \
	    "$PYTHON" "$prog" "$dir" 2 1000 0 >"$dir/run.out" \
	    2>"$dir/run.err" &
	pid=$!
	wait_file "$dir/round-0" >/dev/null
	wait_payload "$dir/u.pcap" 1002 >/dev/null
	kill -USR1 "$pid"
	check "usr1: a second file" wait_file "$dir/u.pcap1"
	: >"$dir/go-0"
	wait "$pid"
	echo $? >"$dir/run.rc"
	check "usr1: tapshim exits 0" judge_rc run
	check "usr1: each readable alone" judge_alone "$dir/u.pcap" \
	    "$dir/u.pcap1"
	check "usr1: the first exchange in the first file" judge_payload 1002 \
	    "$dir/u.pcap"
	check "usr1: the second in the second" judge_payload 1002 \
	    "$dir/u.pcap1"
}

# tap2pcap --follow -C 1 into pcapng: self-contained files.
case_ng()
{
	local fp f

	"$TAP2PCAP" --follow -C 1 -w "$dir/f.pcapng" "$dir/tr/t" \
	    >"$dir/f.out" 2>"$dir/f.err" &
	fp=$!
	run prog "$TAPSHIM_PROG" -q -o "$dir/tr/t" -- "$PYTHON" "$prog" \
	    "$dir" 10 300000
	kill -INT "$fp"
	wait "$fp"
	echo $? >"$dir/f.rc"
	check "ng: tap2pcap exits 0 on SIGINT" judge_rc f
	check "ng: at least three files" eval '[ -e "$dir/f.pcapng2" ]'
	check "ng: each readable alone" judge_alone "$dir"/f.pcapng*
	for f in "$dir"/f.pcapng*; do
		check "ng: ${f##*/} is pcapng with its interface" eval \
		    'capinfos -t -I "$f" | grep -q pcapng &&
		    [ "$("$TSHARK" -r "$f" -T fields -e frame.interface_name |
		    grep -c "^python")" -gt 0 ]'
	done
	check "ng: every byte among them" judge_payload 3000020 \
	    "$dir"/f.pcapng*
}

# tap2pcap --follow on a run's traces, in format FMT (pb or ld).
case_follow()
{
	local fp pid fmt=$1

	head -c 5000 /dev/zero | tr '\0' a >"$dir/want.0"
	printf ok >"$dir/want.1"
	"$TAP2PCAP" --follow -w "$dir/f.pcap" "$dir/tr/t" >"$dir/f.out" \
	    2>"$dir/f.err" &
	fp=$!
	"$TAPSHIM_PROG" -q -F "$fmt" -o "$dir/tr/t" -- "$PYTHON" "$prog" \
	    "$dir" 2 5000 0 >"$dir/run.out" 2>"$dir/run.err" &
	pid=$!
	wait_file "$dir/round-0" >/dev/null
	check "follow-$fmt: frames of files still written" wait_payload \
	    "$dir/f.pcap" 5002
	check "follow-$fmt: the trace files are $fmt's" eval 'ls "$dir/tr" |
	    grep -q "^t_[0-9]*\.pb$([ "$fmt" = ld ] && echo _length_delimited)$"'
	: >"$dir/go-0"
	wait "$pid"
	kill -INT "$fp"
	wait "$fp"
	echo $? >"$dir/f.rc"
	check "follow-$fmt: tap2pcap exits 0 on SIGINT" judge_rc f
	check "follow-$fmt: every byte" judge_payload 10004 "$dir/f.pcap"
	check "follow-$fmt: tshark reassembles what was sent" \
	    "$PYTHON" "$top_srcdir/tests/lib/follow.py" check "$dir/f.pcap" \
	    0 "$dir/want.0" "$dir/want.1"
	check "follow-$fmt: no expert warning" judge_expert "$dir/f.pcap"
}

shim_setup "live capture tests" "$TSHARK" capinfos "$PYTHON"
[ -x "$TAPSHIM_PROG" ] || { echo "not ok - built: $TAPSHIM_PROG";
    echo "0 passed, 1 failed"; exit 1; }
# shellcheck disable=SC2086  # a list of cases
run_cases ${TAPSHIM_CASES:-live stdout size time usr1 ng follow-pb follow-ld}
report
