#!/usr/bin/env bash
# Lint: every manual page renders clean with mandoc -T lint (warnings and
# up) and groff -ww, and has no mdoc macro glued to the end of a text line
# (".It" after "text.", which renders as text, not as an entry) and
# no internal note (an issue number).
#
# Environment: top_srcdir (set by make check); MANDOC, GROFF to use other
# programs. With neither installed the test is skipped (exit 77) unless
# TAPSHIM_REQUIRE_TOOLS=1, when it fails.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
dir=

# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"

: "${MANDOC:=mandoc}"
: "${GROFF:=groff}"

# Judge: mandoc -T lint says nothing about the page.
judge_mandoc()
{
	local out

	out=$("$MANDOC" -T lint -W warning "$1" 2>&1)
	[ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
}

# Judge: groff with every warning on says nothing about the page.
judge_groff()
{
	local out

	out=$("$GROFF" -ww -z -mandoc "$1" 2>&1)
	[ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
}

# Judge: no macro call hides inside a text line ("..It Ev X").
judge_glued()
{
	! grep -nE '[^.\\]\.\.?(It|Pp|Sh|Ss|Bl|El|Bd|Ed|Ev|Fl|Xr|Nm|Ar|Cm|Li) ' \
	    "$1" | grep -v '^[0-9]*:\.'
}

# Judge: no internal note (an issue number) in what users read.
judge_no_notes()
{
	! grep -nE '[Ii]ssue [0-9]' "$1"
}

have_mandoc=0
have_groff=0
command -v "$MANDOC" >/dev/null 2>&1 && have_mandoc=1
command -v "$GROFF" >/dev/null 2>&1 && have_groff=1
if [ $have_mandoc = 0 ] && [ $have_groff = 0 ]; then
	echo "neither $MANDOC nor $GROFF found"
	[ "${TAPSHIM_REQUIRE_TOOLS:-0}" = 1 ] && exit 1
	exit 77
fi
for page in "$top_srcdir"/man/*.[1-9]; do
	name=$(basename "$page")
	[ $have_mandoc = 1 ] &&
	    check "$name: mandoc -T lint is clean" judge_mandoc "$page"
	[ $have_groff = 1 ] &&
	    check "$name: groff -ww is clean" judge_groff "$page"
	check "$name: no macro glued to a text line" judge_glued "$page"
	check "$name: no internal notes" judge_no_notes "$page"
done
report
