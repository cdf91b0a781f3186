#!/bin/sh
# quickstart.sh: install what tapshim needs, build it, and show it working.
#
#   ./quickstart.sh        build, then trace curl fetching a page from a
#                          local web server, turn the trace into a capture
#                          and show what tshark makes of it
#   ./quickstart.sh test   build, then run the whole test suite: make check
#                          (-Werror), again under ASan+UBSan, make distcheck
#
# Debian 12 packages are installed with apt-get when missing (as root, or
# through sudo). Builds go to build/ (and build-asan/) beside this script.
set -eu

top=$(cd "$(dirname "$0")" && pwd)
mode=${1:-demo}
jobs=$(nproc 2>/dev/null || echo 2)

# Build tools, libraries, and the programs the tests judge with.
packages="gcc make autoconf automake libtool pkg-config
	libprotobuf-c-dev protobuf-c-compiler libpcap-dev check libunwind-dev
	protobuf-compiler tshark python3 curl nginx openssl wget tcpdump
	libcap2-bin binutils libjson-c-dev bind9-dnsutils gcc-multilib strace
	ruby redis-server redis-tools gnutls-bin mandoc libhttp-parser-dev
	libnghttp2-dev python3-jsonschema python3-requests perl postgresql
	postgresql-client socat apache2-utils git memcached iproute2
	wireshark-common libwiretap-dev libwireshark-dev libglib2.0-dev"
# On amd64, the 32-bit libtapshim.so is built too: i386's libraries
# beside amd64's (the i386 architecture is added to dpkg for them), and
# debhelper for the package test.
if [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then
	packages="$packages libc6-dev-i386 libprotobuf-c-dev:i386
	libunwind-dev:i386 libssl-dev:i386 debhelper fakeroot"
fi

say() {
	printf '\n== %s\n' "$*"
}

die() {
	printf 'quickstart.sh: %s\n' "$*" >&2
	exit 1
}

# Install the Debian packages that are not installed yet.
install_deps() {
	missing=
	for p in $packages; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case $status in
		*" installed") ;;
		*) missing="$missing $p" ;;
		esac
	done
	[ -z "$missing" ] && return 0
	say "installing:$missing"
	if [ "$(id -u)" -eq 0 ]; then
		sudo=
	elif command -v sudo >/dev/null 2>&1; then
		sudo=sudo
	else
		die "missing packages:$missing (run as root or install them)"
	fi
	case $missing in
	*:i386*)
		dpkg --print-foreign-architectures | grep -qx i386 ||
			$sudo dpkg --add-architecture i386 ||
			die "dpkg --add-architecture i386 failed" ;;
	esac
	export DEBIAN_FRONTEND=noninteractive
	# Packages must not start services (nginx would listen on port 80 of
	# every interface); the tests start their own servers on 127.0.0.1.
	policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null
		$sudo chmod 755 $policy
	fi
	# An index that fails to download (a mirror part way through a sync)
	# makes apt-get update fail although the rest is fresh: try again a
	# few times, then install from what it has; the install itself says
	# what is missing.
	n=0
	until $sudo apt-get update -qq; do
		n=$((n + 1))
		[ $n -lt 4 ] || { echo "quickstart.sh: apt-get update failed; installing from the package lists it has" >&2; break; }
		sleep $((n * 10))
	done
	rc=0
	# shellcheck disable=SC2086
	if ! $sudo apt-get install -y -qq --no-install-recommends $missing \
	    >/dev/null; then
		# The i386 libraries must have the very version of their amd64
		# twins; when one architecture's index is missing from a suite
		# (the security one, mid-sync) they cannot: take both from the
		# release itself.
		rel=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
		echo "quickstart.sh: retrying with the packages of '$rel' only" >&2
		# shellcheck disable=SC2086
		$sudo apt-get install -y -qq --no-install-recommends \
		    ${rel:+-t "$rel"} $missing >/dev/null || rc=1
	fi
	[ -z "$policy" ] || $sudo rm -f "$policy"
	[ $rc -eq 0 ] || die "apt-get could not install:$missing"
}

# Configure and build in $1 with configure options $2.
build() {
	dir=$1
	opts=$2
	say "building in $dir ($opts)"
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null 2>&1) ||
		die "autogen.sh failed"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q $opts && make -s -j"$jobs") ||
		die "build failed in $dir"
}

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Trace curl against a local web server, as a user would, and show it.
demo() {
	out=$top/quickstart-out
	lib=$top/build/shim/.libs/libtapshim.so
	rm -rf "$out"
	mkdir -p "$out/www"
	printf 'Hello from tapshim\n' >"$out/www/hello.txt"
	port=$(free_port)
	python3 -m http.server "$port" --bind 127.0.0.1 \
	    --directory "$out/www" >/dev/null 2>&1 &
	server=$!
	trap 'kill $server 2>/dev/null' EXIT
	i=0
	until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "the web server did not start"
		sleep 0.1
	done
	say "tapshim -o $out/curl -w $out/curl.pcap -- curl -s http://127.0.0.1:$port/hello.txt"
	TAPSHIM_LIBRARY=$lib "$top/build/tools/tapshim/tapshim" -o "$out/curl" \
	    -w "$out/curl.pcap" -- curl -s "http://127.0.0.1:$port/hello.txt"
	kill $server 2>/dev/null
	trap - EXIT
	say "ls $out"
	ls -l "$out"
	say "tshark -r $out/curl.pcap"
	tshark -r "$out/curl.pcap" 2>/dev/null
	say "tshark -r $out/curl.pcap -q -z follow,tcp,ascii,0"
	tshark -r "$out/curl.pcap" -q -z follow,tcp,ascii,0 2>/dev/null
	say "open it in Wireshark: wireshark $out/curl.pcap"
}

# What failed, from the test-suite.log in $1: each failing check with the
# lines that explain it, and any sanitizer report, short enough for a CI
# log's tail.
show_failures() {
	log=$1/test-suite.log
	[ -f "$log" ] || return 0
	say "failures in $log"
	grep -E '^(FAIL|ERROR): ' "$log" || true
	awk '/^not ok|^[^ ]*:[0-9]+:[EF]:|ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:/ {
		n = 15 }
	    n > 0 { print; n-- }' "$log" | head -150
}

# The whole suite: warnings as errors, sanitizers, and the distribution.
run_tests() {
	export TAPSHIM_REQUIRE_TOOLS=1
	say "make check (build/)"
	(cd "$top/build" && make -s -j"$jobs" check) ||
		{ show_failures "$top/build";
		die "make check failed: see build/test-suite.log"; }
	build "$top/build-asan" "--enable-werror --enable-sanitizers"
	say "make check under ASan and UBSan (build-asan/)"
	(cd "$top/build-asan" &&
	    ASAN_OPTIONS=detect_leaks=1 make -s -j"$jobs" check) ||
		{ show_failures "$top/build-asan";
		die "make check failed under sanitizers: see build-asan/test-suite.log"; }
	say "the Debian packages (tests/pkg/debian.sh)"
	TAPSHIM_REQUIRE_TOOLS=1 bash "$top/tests/pkg/debian.sh" ||
		die "the package test failed"
	say "make distcheck (build/)"
	(cd "$top/build" && make -s distcheck >distcheck.log 2>&1) ||
		{ tail -40 "$top/build/distcheck.log"; die "make distcheck failed"; }
	# One closing line for both test runs, in the form CI reads.
	pass=0
	fail=0
	for log in "$top/build/test-suite.log" "$top/build-asan/test-suite.log"; do
		p=$(sed -n 's/^# PASS: *//p' "$log")
		f=$(sed -n 's/^# FAIL: *//p' "$log")
		pass=$((pass + ${p:-0}))
		fail=$((fail + ${f:-0}))
	done
	say "all tests passed"
	echo "tests: $pass passed, $fail failed"
}

case $mode in
demo|test) ;;
-h|--help|help)
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 0 ;;
*)
	die "unknown mode '$mode' (use no argument, or 'test')" ;;
esac

install_deps
build "$top/build" "--enable-werror"
if [ "$mode" = test ]; then
	run_tests
else
	demo
fi
