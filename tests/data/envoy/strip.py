#!/usr/bin/env python3
"""Regenerate tests/data/envoy/ from a clone of envoyproxy/data-plane-api:
strip.py CLONE OUTDIR. Each .proto listed below is copied from the given
commit with what protoc needs and the tests do not (annotation imports,
options, validation rules, messages of other files) taken out; messages,
fields, numbers and types are Envoy's, unchanged. Needs git.
"""

import os
import re
import subprocess
import sys

HEAD = "84e84367f2560cdb47b9bb78fd3e615feb80c3e4"   # v3, 2026-01-29
OLD = "40afd47af0e1d21391adb815347de9482ebd0126"    # v2alpha Trace, 2019
FILES = [
    (HEAD, "envoy/data/tap/v3/wrapper.proto", []),
    (HEAD, "envoy/data/tap/v3/transport.proto", []),
    (HEAD, "envoy/data/tap/v3/common.proto", []),
    (HEAD, "envoy/data/tap/v3/http.proto", []),
    (HEAD, "envoy/config/core/v3/address.proto",
     ["BindConfig", "ExtraSourceAddress", "TcpKeepalive", "CidrRange",
      "LocalAddressSelector"]),
    (HEAD, "envoy/config/core/v3/base.proto", None),  # HeaderValue only
    (OLD, "envoy/data/tap/v2alpha/transport.proto", []),
    (OLD, "envoy/api/v2/core/address.proto",
     ["BindConfig", "TcpKeepalive", "CidrRange"]),
]
DROP_IMPORT = re.compile(r'^import "(udpa|validate|envoy/annotations|xds|'
                         r'gogoproto|envoy/config/core/v3/(extension|'
                         r'socket_option)|envoy/api/v2/core/base)[^"]*";\n',
                         re.M)


def block(text, name):
    """The span of `message NAME { ... }` at top level, or None."""
    m = re.search(r'(?m)^(//[^\n]*\n)*message %s \{' % name, text)
    if not m:
        return None
    depth, i = 0, text.index("{", m.start())
    while True:
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return m.start(), i + 2
        i += 1


def strip_brackets(text):
    """Field options [(...)...]: removed, nested brackets and all."""
    out, i = [], 0
    while i < len(text):
        if text.startswith(" [", i) and re.match(r' \[\s*\(', text[i:]) or \
                text.startswith(" [deprecated", i):
            depth, j = 0, i + 1
            while True:
                if text[j] == "[":
                    depth += 1
                elif text[j] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            i = j + 1
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def strip_options(text):
    """option lines, at file or message level, even across lines."""
    out, skipping, depth = [], False, 0
    for line in text.split("\n"):
        if not skipping and re.match(r'\s*option ', line):
            skipping, depth = True, 0
        if skipping:
            depth += line.count("{") - line.count("}")
            if depth <= 0 and line.rstrip().endswith(";"):
                skipping = False
            continue
        out.append(line)
    return "\n".join(out)


def base_subset(text):
    head = 'syntax = "proto3";\n\npackage envoy.config.core.v3;\n\n'
    for name in ("HeaderValue", "HeaderMap"):
        a, b = block(text, name)
        head += text[a:b] + "\n"
    return head


def main():
    clone, outdir = sys.argv[1], sys.argv[2]
    for commit, path, drop in FILES:
        text = subprocess.run(["git", "-C", clone, "show",
                               "%s:%s" % (commit, path)], check=True,
                              capture_output=True, text=True).stdout
        if drop is None:
            text = base_subset(text)
        else:
            text = DROP_IMPORT.sub("", text)
            for name in drop:
                span = block(text, name)
                if span:
                    text = text[:span[0]] + text[span[1]:]
        text = strip_brackets(strip_options(text))
        text = re.sub(r'\n{3,}', "\n\n", text)
        header = ("// From envoyproxy/data-plane-api, %s at commit %s.\n"
                  "// Copyright Envoy Project Authors; Apache License 2.0 "
                  "(tests/data/envoy/LICENSE).\n"
                  "// Modified by tests/data/envoy/strip.py: options, "
                  "validation rules, annotation\n// imports%s removed; "
                  "messages and fields unchanged.\n\n" %
                  (path, commit, " and messages " + ", ".join(drop)
                   if drop else (" (all but HeaderValue, HeaderMap)" if drop is None
                                 else "")))
        dest = os.path.join(outdir, path)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w") as f:
            f.write(header + text)
    # The well-known types the files import: wire-identical stand-ins.
    wk = os.path.join(outdir, "google/protobuf")
    os.makedirs(wk, exist_ok=True)
    with open(os.path.join(wk, "timestamp.proto"), "w") as f:
        f.write('// Stand-in for protobuf\'s well-known type: the same '
                'wire format.\nsyntax = "proto3";\n\npackage '
                'google.protobuf;\n\nmessage Timestamp {\n  int64 seconds '
                '= 1;\n  int32 nanos = 2;\n}\n')
    with open(os.path.join(wk, "wrappers.proto"), "w") as f:
        f.write('// Stand-in for protobuf\'s well-known types: the same '
                'wire format.\nsyntax = "proto3";\n\npackage '
                'google.protobuf;\n\nmessage UInt32Value {\n  uint32 value '
                '= 1;\n}\n\nmessage BoolValue {\n  bool value = 1;\n}\n')


main()
