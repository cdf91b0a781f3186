#!/usr/bin/env bash
# Golden tests of tapdump: traces encoded from tests/data/dump-NAME
# .textproto (then dump-NAME.2.textproto... appended, as later chunks of
# one .pb), and tapdump's output compared with what is expected:
#   dump-NAME.txt          tapdump TRACE (the summary)
#   dump-NAME.events.txt   tapdump --events TRACE
#   dump-NAME.json         tapdump --json --events TRACE
# Every JSON output is also read back by python3's json module, and must
# use only the field names tapdump(1) documents. Then the errors: a file
# that is missing or damaged, and bad usage, with the exit status and
# message tapdump(1) documents.
#
# Environment: top_srcdir, TAPDUMP (set by make check); PROTOC, PYTHON.
# TAPSHIM_UPDATE_GOLDEN=1 rewrites the expected files from the output.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$top_srcdir/tests/data
dir=

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"

# Judge: tapdump ARGS... prints exactly the file WANT, and nothing on
# stderr: judge_golden WANT ARGS...
judge_golden()
{
	local want=$1

	shift
	(cd "$dir" && "$TAPDUMP" "$@") >"$dir/out" 2>"$dir/err" || {
	    echo "tapdump $* failed:"; cat "$dir/err"; return 1; }
	[ -s "$dir/err" ] && { echo "tapdump said:"; cat "$dir/err";
	    return 1; }
	[ "${TAPSHIM_UPDATE_GOLDEN:-0}" = 1 ] && cp "$dir/out" "$want"
	diff -u "$want" "$dir/out"
}

# Judge: the JSON parses, and every key is one tapdump(1) documents.
judge_json_keys()
{
	"$PYTHON" - "$1" "$top_srcdir/man/tapdump.1" <<'PY'
import json, re, sys
doc = open(sys.argv[2]).read()
known = set(k for line in re.findall(r'^\.It Li .*$', doc, re.M)
            for k in re.findall(r'Li (\w+)', line))
bad = set()
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k not in known:
                bad.add(k)
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(json.load(open(sys.argv[1])))
if not known:
    sys.exit("no field documented in tapdump(1)")
if bad:
    sys.exit("fields tapdump(1) does not document: %s" % sorted(bad))
PY
}

# Judge: tapdump ARGS... exits with STATUS, its stderr matching RE.
judge_fails()
{
	local status=$1 re=$2 rc

	shift 2
	(cd "$dir" && "$TAPDUMP" "$@") >"$dir/out" 2>"$dir/err"
	rc=$?
	[ "$rc" -eq "$status" ] && grep -Eq -- "$re" "$dir/err" && return 0
	echo "exit status $rc (expected $status), stderr:"
	cat "$dir/err"
	return 1
}

need_tools "tapdump tests" "$PROTOC" "$PYTHON"
resolve_python
[ -x "$TAPDUMP" ] || { echo "not ok - built: $TAPDUMP";
    echo "0 passed, 1 failed"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tapdump.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
dir=$tmp

for src in "$data"/dump-*.textproto; do
	case $src in *.[0-9].textproto) continue ;; esac
	name=$(basename "$src" .textproto)
	name=${name#dump-}
	: >"$dir/$name.pb"
	for part in "$src" "$data/dump-$name".[0-9].textproto; do
		[ -e "$part" ] || continue
		encode "$part" "$dir/part.pb" && cat "$dir/part.pb" \
		    >>"$dir/$name.pb"
	done
	check "$name: summary as expected" judge_golden \
	    "$data/dump-$name.txt" "$name.pb"
	check "$name: --events as expected" judge_golden \
	    "$data/dump-$name.events.txt" --events "$name.pb"
	check "$name: --json --events as expected" judge_golden \
	    "$data/dump-$name.json" --json --events "$name.pb"
	check "$name: the JSON parses, every field documented" \
	    judge_json_keys "$data/dump-$name.json"
done

# Judge: a TLS handshake whose times are crafted to overflow prints no
# duration (not a garbage one), and tapdump neither fails nor complains.
judge_tls_crafted()
{
	cat >"$dir/crafted.textproto" <<'TXT'
socket_buffered_trace {
  trace_id: 9
  connection {
    tls {
      version: "TLSv1.3"
      handshake_begin { seconds: 0 }
      handshake_end { seconds: 18446744074 }
    }
  }
  events { timestamp { seconds: 1795500000 } closed { } }
}
TXT
	encode "$dir/crafted.textproto" "$dir/crafted.pb" || return 1
	(cd "$dir" && "$TAPDUMP" crafted.pb) >"$dir/out" 2>"$dir/err" || {
	    echo "tapdump failed:"; cat "$dir/err"; return 1; }
	[ -s "$dir/err" ] && { cat "$dir/err"; return 1; }
	grep -q 'tls: TLSv1.3' "$dir/out" || { cat "$dir/out"; return 1; }
	! grep 'tls handshake:' "$dir/out"
}
check "tls: crafted handshake times give no duration" judge_tls_crafted

printf '\x1a\x05\x12\x03' >"$dir/cut.pb"
check "errors: a missing file: exit 1, named" judge_fails 1 \
    '^tapdump: nothere\.pb: ' nothere.pb
check "errors: a damaged file: exit 1, named, with the offset" judge_fails 1 \
    '^tapdump: cut\.pb: offset [0-9]+: ' cut.pb
check "errors: no trace given: exit 2" judge_fails 2 'no trace given'
check "errors: a bad option: exit 2" judge_fails 2 'usage:' --bogus x.pb
check "errors: a bad --dns-port: exit 2" judge_fails 2 'dns-port' \
    --dns-port 70000 x.pb
report
