#!/usr/bin/env bash
# The Debian packages: built from the committed tree with
# dpkg-buildpackage -us -uc -b, installed with dpkg -i, and used as a
# user would: `tapshim -w` from /usr/bin traces curl through the library
# found at /usr/$LIB/tapshim/, and tshark follows the page in the
# capture. The packages are removed again at the end.
#
# Run by `quickstart.sh test` as root (it installs into /usr); needs git,
# dpkg-buildpackage (debhelper), curl, python3 and tshark. Skipped (exit
# 77) when not root or not in a git checkout.
#
# Output: "ok - NAME" or "not ok - NAME" per check, then "N passed, N
# failed"; exit 1 if anything failed.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! git -C "$top_srcdir" rev-parse HEAD \
    >/dev/null 2>&1; then
	echo "SKIP: the package test needs root and a git checkout"
	exit 77
fi
need_tools "the package test" dpkg-buildpackage curl "$PYTHON" "$TSHARK"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/debian.XXXXXX")
dir=$tmp
server=
cleanup()
{
	[ -z "$server" ] || kill "$server" 2>/dev/null
	dpkg -r tapshim libtapshim >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

# Judge: the packages build from the committed tree.
judge_build()
{
	mkdir -p "$tmp/src" &&
	    git -C "$top_srcdir" archive --format=tar --prefix=tapshim/ HEAD |
	    tar -x -C "$tmp/src" || return 1
	(cd "$tmp/src/tapshim" && dpkg-buildpackage -us -uc -b) \
	    >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log"; return 1; }
	ls "$tmp"/src/tapshim_*.deb "$tmp"/src/libtapshim_*.deb >/dev/null
}

# Judge: they install, with the library where $LIB points.
judge_install()
{
	local arch

	dpkg -i "$tmp"/src/tapshim_*.deb "$tmp"/src/libtapshim_*.deb \
	    >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; return 1; }
	arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	[ -f "/usr/lib/$arch/tapshim/libtapshim.so" ] ||
	    { echo "no /usr/lib/$arch/tapshim/libtapshim.so"; return 1; }
	[ -x /usr/bin/tapshim ] && [ -x /usr/bin/tap2pcap ] && [ -x /usr/bin/tapdump ] &&
	    [ -f /usr/share/man/man1/tapshim.1.gz ] &&
	    [ -f /usr/share/man/man7/libtapshim.7.gz ]
}

# Judge: tapshim -w from the packages traces curl; tshark follows it.
judge_trace()
{
	local port

	mkdir -p "$tmp/www"
	printf 'Hello from the package\n' >"$tmp/www/hello.txt"
	"$PYTHON" -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp/www" \
	    >"$tmp/http.log" 2>&1 &
	server=$!
	for _ in $(seq 100); do
		port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$tmp/http.log" |
		    head -1)
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { echo "no web server"; return 1; }
	env -u TAPSHIM_LIBRARY /usr/bin/tapshim -o "$tmp/t" -w "$tmp/t.pcap" \
	    -- curl -s "http://127.0.0.1:$port/hello.txt" >"$tmp/curl.out" \
	    2>"$tmp/tapshim.err" || { cat "$tmp/tapshim.err"; return 1; }
	grep -q '^Hello from the package$' "$tmp/curl.out" ||
	    { echo "curl got:"; cat "$tmp/curl.out"; return 1; }
	"$TSHARK" -r "$tmp/t.pcap" -q -z follow,tcp,ascii,0 2>/dev/null |
	    grep -q 'Hello from the package' ||
	    { echo "the capture does not hold the page:";
	    cat "$tmp/tapshim.err"; return 1; }
}

check_ok "the packages build (dpkg-buildpackage -us -uc -b)" judge_build &&
	check_ok "they install (dpkg -i), the library under /usr/lib/<multiarch>/tapshim" \
	    judge_install &&
	check "tapshim -w from the packages traces curl" judge_trace

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
