#!/usr/bin/env bash
# Envoy interoperability: traces encoded with Envoy's own .proto files
# (tests/data/envoy/, from envoyproxy/data-plane-api; mkgolden.sh makes
# the encoded files from their text, and this suite checks they still
# match), converted by tap2pcap and read by tapdump:
#   tap2pcap_h2_ipv4   Envoy's own golden trace and tshark output (its
#                      api/tools/tap2pcap_test.py): the same HTTP/2 frames
#   v2alpha-bare       Envoy 1.7-1.9's bare Trace: read, not skipped
#   truncated          Body.truncated without a length: marked and said
#   seq-gap            seq_num skips two events: said where
#   upstream           Envoy connected to a cluster on 50051: drawn so
#   internal, remote-only, times, and files joined with cat: notices
#
# Environment: top_srcdir, TAP2PCAP, TAPDUMP (set by make check); TSHARK,
# PROTOC. A missing tshark skips the suite (exit 77) unless
# TAPSHIM_REQUIRE_TOOLS=1; without protoc the re-encoding check is skipped.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$top_srcdir/tests/data/envoy

# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"

need_tools "Envoy tests" "$TSHARK"
dir=$(mktemp -d "${TMPDIR:-/tmp}/tapshim-envoy.XXXXXX") || exit 1
[ "${TAPSHIM_KEEP_TMP:-0}" = 1 ] || trap 'rm -rf "$dir"' EXIT

# Convert tests/data/envoy/NAME: NAME.pcap and NAME.err in $dir.
convert()
{
	"$TAP2PCAP" -w "$dir/$2.pcap" "$data/$1" 2>"$dir/$2.err" || {
		echo "tap2pcap $1 failed:"; cat "$dir/$2.err"; return 1; }
}

# Judge: the committed encodings are what mkgolden.sh makes today.
judge_regenerated()
{
	local f

	mkdir -p "$dir/regen"
	bash "$data/mkgolden.sh" "$dir/regen" || return 1
	for f in "$dir"/regen/*; do
		cmp "$f" "$data/$(basename "$f")" || return 1
	done
}

# Judge: Envoy's golden trace gives the HTTP/2 frames Envoy's own test
# expects (tshark's Info column of each HTTP2 packet, in order; frame
# numbers, lengths and times differ: tap2pcap draws handshakes, segments
# and ACKs, Envoy's tool one packet per event).
judge_envoy_golden()
{
	convert tap2pcap_h2_ipv4.pb h2 || return 1
	"$TSHARK" -r "$dir/h2.pcap" -d tcp.port==10000,http2 -P 2>/dev/null |
	    awk '$6 == "HTTP2" { $1 = $2 = $7 = ""; print }' >"$dir/h2.got"
	awk '$6 == "HTTP2" { $1 = $2 = $7 = ""; print }' \
	    "$data/tap2pcap_h2_ipv4.txt" >"$dir/h2.want"
	[ -s "$dir/h2.want" ] || { echo "nothing expected"; return 1; }
	diff -u "$dir/h2.want" "$dir/h2.got"
}

# Judge: a bare v2alpha Trace becomes its request and response, with a
# notice naming the format; tapdump shows its events.
judge_v2alpha()
{
	local n

	convert v2alpha-bare.pb bare || return 1
	grep -q "read as Envoy 1.7-1.9's bare envoy.data.tap.v2alpha.Trace" \
	    "$dir/bare.err" || { cat "$dir/bare.err"; return 1; }
	grep -q 'HTTP trace' "$dir/bare.err" && { cat "$dir/bare.err";
	    return 1; }
	n=$("$TSHARK" -r "$dir/bare.pcap" -Y http -T fields \
	    -e http.request.method -e http.response.code 2>/dev/null |
	    tr -s '\t\n' '  ')
	[ "$n" = "GET 200 " ] || { echo "http: '$n'"; return 1; }
	"$TAPDUMP" --events "$data/v2alpha-bare.pb" >"$dir/bare.txt" || return 1
	grep -q 'read 27 bytes' "$dir/bare.txt" &&
	    grep -q 'write 40 bytes, shut down' "$dir/bare.txt" || {
		cat "$dir/bare.txt"; return 1; }
}

# Judge: a body Envoy truncated is marked by a gap Wireshark flags, and
# tap2pcap says so without claiming cut packets it did not draw.
judge_truncated()
{
	convert truncated.pb trunc || return 1
	grep -q 'trace 13: 1 body(ies) truncated by the tracer without their length' \
	    "$dir/trunc.err" || { cat "$dir/trunc.err"; return 1; }
	grep -q 'packets are marked' "$dir/trunc.err" && {
		cat "$dir/trunc.err"; return 1; }
	"$TSHARK" -r "$dir/trunc.pcap" -q -z expert 2>/dev/null |
	    grep -qi 'previous segment.* not captured'
}

# Judge: the seq_num gap is named: how many events, after which number.
judge_seq_gap()
{
	convert seq-gap.pb_length_delimited seq || return 1
	grep -q "trace 11: 2 event(s) missing (Envoy's seq_num) in 1 place(s), the first after seq_num 2, at 1700000000.005000000" \
	    "$dir/seq.err" || { cat "$dir/seq.err"; return 1; }
}

# Judge: Envoy's upstream connection to 50051 starts with Envoy's SYN.
judge_upstream()
{
	local syn

	convert upstream.pb_length_delimited up || return 1
	syn=$("$TSHARK" -r "$dir/up.pcap" -Y 'tcp.flags == 0x002' -T fields \
	    -e tcp.srcport -e tcp.dstport 2>/dev/null)
	[ "$syn" = "$(printf '41234\t50051')" ] || { echo "SYN: $syn"; return 1; }
}

# Judge: tap2pcap on FILES... says each line of WANT (a file of fixed
# strings): judge_says WANT FILES...
judge_says()
{
	local want=$1 line

	shift
	"$TAP2PCAP" -w "$dir/says.pcap" "$@" 2>"$dir/says.err" || {
		cat "$dir/says.err"; return 1; }
	while IFS= read -r line; do
		grep -qF -- "$line" "$dir/says.err" || {
			echo "not said: $line"; cat "$dir/says.err"; return 1; }
	done <"$want"
}

# Judge: the smaller things a reader of the capture should be told.
judge_notices()
{
	printf '%s\n' 'trace 21: Envoy internal address internal_listener shown as' \
	    >"$dir/w1"
	judge_says "$dir/w1" "$data/internal.pb" || return 1
	grep -q 'AF_UNIX' "$dir/says.err" && { cat "$dir/says.err"; return 1; }
	"$TAPDUMP" "$data/internal.pb" | grep -q 'internal:internal_listener' ||
	    return 1
	printf '%s\n' 'trace 22 records no local address: shown as 127.0.0.1 port 32768' \
	    >"$dir/w2"
	judge_says "$dir/w2" "$data/remote-only.pb" || return 1
	printf '%s\n' 'trace 23: 1 event(s) without a timestamp' \
	    'trace 23: 1 event(s) earlier than the event before them' >"$dir/w3"
	judge_says "$dir/w3" "$data/times.pb" || return 1
	cat "$data/truncated.pb" "$data/internal.pb" >"$dir/joined.pb"
	printf '%s\n' 'later part(s) name another trace or a new connection (files joined with cat?)' \
	    >"$dir/w4"
	judge_says "$dir/w4" "$dir/joined.pb" || return 1
	cat "$data/upstream.pb_length_delimited" \
	    "$data/upstream.pb_length_delimited" >"$dir/joined.pb_length_delimited"
	judge_says "$dir/w4" "$dir/joined.pb_length_delimited"
}

if command -v "$PROTOC" >/dev/null 2>&1; then
	check "data: the encoded traces are what mkgolden.sh makes" \
	    judge_regenerated
fi
check "Envoy's golden h2 trace: the HTTP/2 frames Envoy's test expects" \
    judge_envoy_golden
check "v2alpha: Envoy 1.7-1.9's bare Trace is read" judge_v2alpha
check "truncated: Body.truncated is marked and said" judge_truncated
check "seq_num: missing events are said, and where" judge_seq_gap
check "upstream: Envoy connecting to 50051 is the client" judge_upstream
check "notices: internal address, no local address, times, files joined" \
    judge_notices
report
