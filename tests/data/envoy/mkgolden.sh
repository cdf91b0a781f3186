#!/usr/bin/env bash
# Regenerate the encoded Envoy traces of tests/data/envoy/ from their text
# form, with Envoy's own .proto files (this folder, from strip.py):
#   mkgolden.sh [OUTDIR]      (default: this folder)
# NAME.textproto -> NAME.pb; NAME.1.textproto, NAME.2... -> one
# NAME.pb_length_delimited (one TraceWrapper per record); Envoy's
# tap2pcap_h2_ipv4.pb_text -> tap2pcap_h2_ipv4.pb. v2alpha-* files are
# bare envoy.data.tap.v2alpha.Trace messages, the rest TraceWrappers.
# Environment: PROTOC.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
top_srcdir=$(cd "$here/../../.." && pwd)
dir=$out
# shellcheck source=../../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"

# Encode IN to OUT as TYPE (a full message name), from PROTO.
enc()
{
	"$PROTOC" --proto_path="$here" --encode="$3" "$4" <"$1" >"$2"
}

v3=envoy/data/tap/v3/wrapper.proto
for src in "$here"/*.textproto "$here"/tap2pcap_h2_ipv4.pb_text; do
	name=$(basename "$src")
	name=${name%.textproto}
	name=${name%.pb_text}
	case $name in
	*.[0-9]) continue ;;
	v2alpha-*) enc "$src" "$out/$name.pb" envoy.data.tap.v2alpha.Trace \
	    envoy/data/tap/v2alpha/transport.proto ;;
	*) enc "$src" "$out/$name.pb" envoy.data.tap.v3.TraceWrapper "$v3" ;;
	esac
done
for first in "$here"/*.1.textproto; do
	name=$(basename "$first" .1.textproto)
	parts=()
	for src in "$here/$name".[0-9].textproto; do
		enc "$src" "$out/$name.part.$(basename "$src" .textproto)" \
		    envoy.data.tap.v3.TraceWrapper "$v3"
		parts+=("$out/$name.part.$(basename "$src" .textproto)")
	done
	frame_delimited "$out/$name.pb_length_delimited" "${parts[@]}"
	rm -f "${parts[@]}"
done
