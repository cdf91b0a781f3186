#!/usr/bin/env bash
# Converters against hostile input: traces made to be large, many, or
# strange, each of which once made tap2pcap or tapdump hang, balloon or
# print what it should not. Each case says what must hold: counts of
# frames and connections, sizes, messages; never how long it took.
#
# Environment: top_srcdir, TAP2PCAP, TAPDUMP (set by make check); PYTHON,
# PROTOC. A missing python3 or protoc skips the suite (exit 77) unless
# TAPSHIM_REQUIRE_TOOLS=1. TAPSHIM_KEEP_TMP=1 keeps the scratch directory.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$top_srcdir/tests/data
here=$top_srcdir/tests/safety

# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"

need_tools "hostile-input tests" "$PYTHON" "$PROTOC"
resolve_python
dir=$(mktemp -d "${TMPDIR:-/tmp}/tapshim-hostile.XXXXXX") || exit 1
[ "${TAPSHIM_KEEP_TMP:-0}" = 1 ] || trap 'rm -rf "$dir"' EXIT

# A guard, not a limit: a converter that hangs fails the case instead of
# the whole run (the cases below take a second or two).
guard()
{
	timeout 900 "$@"
}

# Judge: N traces of KIND (mkmany.py), all open at once, convert into
# 9 frames each and N distinct connections: many_convert KIND N
many_convert()
{
	local kind=$1 n=$2 got

	"$PYTHON" "$data/mkmany.py" "$kind" "$n" \
	    "$dir/$kind.pb_length_delimited" || return 1
	guard "$TAP2PCAP" -w "$dir/$kind.pcap" \
	    "$dir/$kind.pb_length_delimited" 2>"$dir/$kind.err" || {
		echo "tap2pcap failed:"; tail -5 "$dir/$kind.err"; return 1; }
	got=$("$PYTHON" "$here/pcapcount.py" "$dir/$kind.pcap")
	[ "$got" = "$((n * 9)) $n" ] || {
		echo "frames, connections: $got (expected $((n * 9)) $n)"
		tail -3 "$dir/$kind.err"; return 1; }
	grep -q "$((n * 9)) packets" "$dir/$kind.err" || {
		tail -3 "$dir/$kind.err"; return 1; }
}

check "many: 40,000 open traces of one address pair convert" \
    many_convert pair 40000
check "many: 40,000 AF_UNIX clients of one socket convert" \
    many_convert unix 40000
check "many: 40,000 trace ids without addresses convert" \
    many_convert noaddr 40000
report
