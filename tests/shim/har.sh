#!/usr/bin/env bash
# tapshim --har: the run's HTTP requests as HAR 1.2, written when the
# program exits.
#   har      curl fetches two URLs (200, 404) from python's http.server:
#            the HAR is valid against tests/data/har-1.2.schema.json and
#            holds the two requests the server's own log shows, with
#            timings that add up; the file is 0600 under umask 022, as
#            the traces and captures are
#   harbad  an unwritable --har FILE: exit 125, tapdump names the file
#
# Environment: top_srcdir, TAPSHIM_PROG, LIBTAPSHIM, TAP2PCAP (set by make
# check); PYTHON, CURL.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"
# shellcheck source=shimlib.sh
. "$top_srcdir/tests/shim/shimlib.sh"
export TAPSHIM_LIBRARY=$LIBTAPSHIM
judge=$top_srcdir/tests/golden/reqjudge.py

# Judge: the HAR's entries are, in order, "METHOD PATH STATUS" as the
# server's log says: judge_entries HAR LOG.
judge_entries()
{
	"$PYTHON" - "$1" "$2" <<'PY'
import json, re, sys
har = json.load(open(sys.argv[1]))["log"]["entries"]
got = ["%s %s %d" % (e["request"]["method"],
                     re.sub(r"^https?://[^/]*", "", e["request"]["url"]),
                     e["response"]["status"]) for e in har]
want = ["%s %s %s" % m.groups() for m in re.finditer(
    r'"(\w+) (\S+) HTTP/1\.1" (\d+)', open(sys.argv[2]).read())]
if got != want or not got:
    sys.exit("HAR: %s\nserver log: %s" % (got, want))
PY
}

case_har()
{
	local port um

	port=$(free_port)
	http_server "$port" || return
	um=$(umask)
	umask 022
	run har timeout 60 "$TAPSHIM_PROG" -q -o "$dir/tr/c" --har "$dir/out.har" \
	    -- "$CURL" -s -o /dev/null -o /dev/null \
	    "http://127.0.0.1:$port/" "http://127.0.0.1:$port/nothere"
	server_stop
	umask "$um"
	check "har: tapshim --har exits 0" judge_rc har
	check "har: the HAR is 0600 (the umask not applied)" \
	    eval '[ "$(stat -c %a "$dir/out.har")" = 600 ]'
	check "har: valid HAR 1.2, time adds up" \
	    "$PYTHON" "$judge" har "$top_srcdir/tests/data/har-1.2.schema.json" \
	    "$dir/out.har"
	check "har: the requests and statuses of the server's log" \
	    judge_entries "$dir/out.har" "$dir/server.log"
}

case_harbad()
{
	run bad timeout 60 "$TAPSHIM_PROG" -q -o "$dir/tr/c" \
	    --har /nonexistent/out.har -- true
	check "harbad: an unwritable --har: exit 125, named" \
	    eval '[ "$(cat "$dir/bad.rc")" = 125 ] &&
	    grep -q "^tapdump: /nonexistent/out.har: " "$dir/bad.err"'
}

shim_setup "har tests" "$PYTHON" "$CURL"
mkdir -p "$tmp/www"
printf 'index\n' >"$tmp/www/index.html"
# shellcheck disable=SC2086  # a list of cases
run_cases ${TAPSHIM_CASES:-har harbad}
