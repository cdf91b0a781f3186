#!/usr/bin/env bash
# Golden tests of the request layer (tapdump --requests, --json, --summary,
# --har).  The traces are in tests/data/requests/: NAME.pb made by real
# programs (mktraces.sh: curl, python3 requests, nginx traced as client
# and as server), NAME.textproto built by mkreq.py (gRPC, h2c, damaged
# and cut-short streams).  Each case's outputs, stderr and exit status
# are compared with NAME.golden; then the JSON keys must be documented in
# tapdump(1), the HAR must be valid against tests/data/har-1.2.schema.json,
# and every time must be the time of an event of the trace, HAR's timings
# the spans between them.  nginx's case is compared with its access log.
#
# Environment: top_srcdir, TAPDUMP (set by make check); PROTOC, PYTHON.
# TAPSHIM_UPDATE_GOLDEN=1 rewrites the .golden files from the output.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$top_srcdir/tests/data/requests
judge=$top_srcdir/tests/golden/reqjudge.py
dir=

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/lib/lib.sh"

# Print one run of tapdump ARGS... in $dir: the command, stdout, stderr
# and the exit status, as the .golden files hold them.
show()
{
	local rc

	(cd "$dir" && "$TAPDUMP" "$@") >"$dir/o" 2>"$dir/e"
	rc=$?
	echo "\$ tapdump $*"
	cat "$dir/o"
	sed 's/^/stderr: /' "$dir/e"
	echo "exit $rc"
}

# Every view of a case: FILES... (relative to $dir).
views()
{
	show --requests "$@"
	show --requests --json "$@"
	cp "$dir/o" "$dir/records.json"
	show --summary "$@"
	show --summary --json "$@"
	cp "$dir/o" "$dir/summary.json"
	show --har out.har "$@"
	cat "$dir/out.har"
	show --json --events "$@" >/dev/null
	cp "$dir/o" "$dir/events.json"
}

# Judge: the views of FILES... print NAME.golden exactly.
judge_views()
{
	local want=$data/$1.golden

	shift
	views "$@" >"$dir/got"
	[ "${TAPSHIM_UPDATE_GOLDEN:-0}" = 1 ] && cp "$dir/got" "$want"
	diff -u "$want" "$dir/got"
}

# Judge: ARGS... to tapdump exit STATUS, stderr matching RE.
judge_fails()
{
	local status=$1 re=$2 rc

	shift 2
	(cd "$dir" && "$TAPDUMP" "$@") >"$dir/o" 2>"$dir/e"
	rc=$?
	[ "$rc" -eq "$status" ] && grep -Eq -- "$re" "$dir/e" && return 0
	echo "exit status $rc (expected $status), stderr:"
	cat "$dir/e"
	return 1
}

# Judge: tapdump ARGS... prints (stdout) a line matching RE.
judge_prints()
{
	local re=$1

	shift
	(cd "$dir" && "$TAPDUMP" "$@") >"$dir/o" 2>&1
	grep -Eq -- "$re" "$dir/o" && return 0
	echo "no line matches $re:"
	cat "$dir/o"
	return 1
}

need_tools "request tests" "$PROTOC" "$PYTHON"
resolve_python
"$PYTHON" -c 'import jsonschema' 2>/dev/null || {
	echo "# SKIP request tests: python3-jsonschema is not installed"
	exit 77; }
[ -x "$TAPDUMP" ] || { echo "not ok - built: $TAPDUMP";
    echo "0 passed, 1 failed"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/requests.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
dir=$tmp

cp "$data"/*.pb "$dir/"
cp -r "$data/nginx-server" "$dir/"
for src in "$data"/*.textproto; do
	encode "$src" "$dir/$(basename "$src" .textproto).pb"
done
# Trace files cut short: a buffered .pb is not read at all; a streamed
# one gives the requests before the cut, then the reader's error.
size=$(wc -c <"$data/keepalive.pb")
head -c $((size - 300)) "$data/keepalive.pb" >"$dir/keepalive-cut.pb"
"$PYTHON" "$top_srcdir/bench/mkreqtrace.py" h1 5 "$dir/ld.pb_length_delimited"
size=$(wc -c <"$dir/ld.pb_length_delimited")
head -c $((size - 200)) "$dir/ld.pb_length_delimited" \
    >"$dir/ld-cut.pb_length_delimited"

for name in keepalive chunked head continue pipelined websocket \
    h2c-upgrade h2-prior h2-tls requests-tls grpc h2c-accepted cutshort \
    lost nothttp badresp badhpack server-h1 grpc-server keepalive-cut \
    ld-cut nginx-server; do
	if [ "$name" = nginx-server ]; then
		files=$(cd "$dir" && echo nginx-server/*.pb)
	elif [ "$name" = ld-cut ]; then
		files=ld-cut.pb_length_delimited
	else
		files=$name.pb
	fi
	# shellcheck disable=SC2086  # a list of files
	check "$name: --requests, --json, --summary, --har as expected" \
	    judge_views "$name" $files
	check "$name: JSON records and summary: every field documented" \
	    "$PYTHON" "$judge" keys "$top_srcdir/man/tapdump.1" \
	    "$dir/records.json" "$dir/summary.json"
	check "$name: HAR valid against the HAR 1.2 schema, time adds up" \
	    "$PYTHON" "$judge" har "$top_srcdir/tests/data/har-1.2.schema.json" \
	    "$dir/out.har"
	[ "$name" = keepalive-cut ] && continue
	[ "$name" = ld-cut ] && continue
	check "$name: times are the events', HAR timings their spans" \
	    "$PYTHON" "$judge" times "$dir/records.json" "$dir/events.json" \
	    "$dir/out.har"
done

# nginx traced as the server: the same requests as its access log says.
(cd "$dir" && "$TAPDUMP" --requests --json nginx-server/*.pb) \
    >"$dir/nginx.json" 2>/dev/null
check "nginx-server: the requests and statuses of nginx's access log" \
    "$PYTHON" "$judge" access "$dir/nginx.json" \
    "$data/nginx-server.access"

check "secrets: Authorization redacted by default" judge_prints \
    '"name": "Authorization", "value": "\[redacted\]"' \
    --requests --json requests-tls.pb
check "secrets: Cookie and Set-Cookie redacted by default" judge_prints \
    '"Cookie", "value": "\[redacted\]".*"Set-Cookie", "value": "\[redacted\]"' \
    --requests --json server-h1.pb
check "secrets: --show-secrets shows them" judge_prints \
    '"name": "Authorization", "value": "Bearer sekrit"' \
    --requests --json --show-secrets requests-tls.pb
check "secrets: --show-secrets in HAR" judge_prints \
    'session=abc' --har /dev/stdout --show-secrets server-h1.pb
check "--har /dev/stdout onto a file: /dev/stdout itself is left alone" eval \
    '[ -L /dev/stdout ] || [ -c /dev/stdout ]'
(cd "$dir" && "$TAPDUMP" --har empty.har)
check "--har without a trace: a valid archive without entries" eval \
    '"$PYTHON" "$judge" har "$top_srcdir/tests/data/har-1.2.schema.json" \
    "$dir/empty.har" && grep -q "\"entries\": \[\]" "$dir/empty.har"'
check "errors: --requests without a trace: exit 2" judge_fails 2 \
    'no trace given' --requests
check "errors: a missing file: exit 1, named" judge_fails 1 \
    '^tapdump: nothere\.pb: ' --requests nothere.pb
check "errors: an unwritable HAR: exit 1, named" judge_fails 1 \
    '^tapdump: /nonexistent/x\.har: ' --har /nonexistent/x.har head.pb
report
