#!/usr/bin/env bash
# The layers of docs/architecture.md, checked from the sources: no
# "../" include, no target compiling sources from outside its own folder,
# the shim including only proto/ and shim/ headers and each shim file
# only its own layer or lower (shim.c, the top, excepted), tools/lib/
# never printing and never including a program's header, and each
# program including only its own headers, tools/, tools/lib/ and lower;
# and no "issue N" note where the code is (the issues are not the repo).
#
# Environment: top_srcdir (set by make check). Output: "ok - NAME" or
# "not ok - NAME" with each violation; exit 1 if any.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
dir=
# shellcheck source-path=SCRIPTDIR source=../lib/lib.sh
. "$top_srcdir/tests/lib/lib.sh"

layers_py()
{
	"$PYTHON" - "$top_srcdir" "$1" <<'PY'
import os
import re
import sys

top, rule = sys.argv[1], sys.argv[2]

# The shim's layers, lowest first; a file may include its own or lower.
SHIM = ["proto", "shim/common", "shim/runtime", "shim/writer",
        "shim/record", "shim/state", "shim/hooks", "shim"]
# The tools' layers, lowest first; tools/<program>/ may include any of
# these and its own folder, never another program's.
TOOLS = ["proto", "shim/common", "tools/lib", "tools"]
PROGRAMS = ["tools/tap2pcap", "tools/tapdump", "tools/tapshim"]
# Headers that are no file of the tree: generated or configure's.
BUILT = {"config.h": "proto", "tapshim.pb-c.h": "proto"}

def sources():
    for d in ("proto", "shim", "tools"):
        for root, _, files in os.walk(os.path.join(top, d)):
            for f in files:
                if f.endswith((".c", ".h")):
                    p = os.path.join(root, f)
                    yield os.path.relpath(p, top)

def folder(path):
    return os.path.dirname(path)

headers = {}
for p in sources():
    if p.endswith(".h"):
        headers.setdefault(os.path.basename(p), []).append(folder(p))

def includes(path):
    with open(os.path.join(top, path), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if m:
                yield n, m.group(1)

def where(name):
    base = os.path.basename(name)
    if base in BUILT:
        return BUILT[base]
    found = headers.get(base, [])
    return found[0] if len(found) == 1 else None

def rank(order, f):
    """The layer of folder f: the longest folder of order holding it."""
    best, length = -1, -1
    for i, d in enumerate(order):
        if (f == d or f.startswith(d + "/")) and len(d) > length:
            best, length = i, len(d)
    return best

bad = []
if rule == "parent":
    for root, _, files in os.walk(top):
        if "/." in root or "/build" in root:
            continue
        for f in files:
            if f.endswith((".c", ".h")):
                p = os.path.relpath(os.path.join(root, f), top)
                for n, inc in includes(p):
                    if inc.startswith("../") or "/../" in inc:
                        bad.append("%s:%d: #include \"%s\"" % (p, n, inc))
elif rule == "targets":
    text = open(os.path.join(top, "Makefile.am")).read().replace("\\\n", " ")
    var = dict(re.findall(r"^(\w+)\s*\+?=\s*(.*)$", text, re.M))
    def expand(v):
        return re.sub(r"\$\((\w+)\)",
                      lambda m: expand(var.get(m.group(1), "")), v)
    for name, val in re.findall(r"^(\w+)_SOURCES\s*\+?=\s*(.*)$", text,
                                re.M):
        if name.startswith(("nodist_", "EXTRA")):
            continue
        target = None
        for t in re.findall(r"[\w/.-]+", expand(" ".join(
                re.findall(r"(?:PROGRAMS|LTLIBRARIES|SUITES)\s*\+?=\s*(.*)",
                           text)))):
            if re.sub(r"[/.-]", "_", t) == name:
                target = t
        if target is None:
            continue
        home = folder(target)
        for src in expand(val).split():
            if src.endswith(".c") and folder(src) != home and \
                    not folder(src).startswith(home + "/"):
                bad.append("%s compiles %s, from outside %s/" %
                           (target, src, home))
elif rule == "shim":
    for p in sources():
        f = folder(p)
        if not p.startswith("shim/") or f == "shim":
            continue
        mine = rank(SHIM, f)
        for n, inc in includes(p):
            w = where(inc)
            if w is None:
                bad.append("%s:%d: \"%s\" is no single header" % (p, n, inc))
            elif rank(SHIM, w) < 0:
                bad.append("%s:%d: includes %s/%s, outside the shim" %
                           (p, n, w, inc))
            elif rank(SHIM, w) > mine:
                bad.append("%s:%d: includes %s/%s, a higher layer" %
                           (p, n, w, inc))
elif rule == "tools":
    for p in sources():
        f = folder(p)
        if not p.startswith("tools/"):
            continue
        prog = f if f in PROGRAMS else None
        mine = rank(TOOLS, f) if prog is None else len(TOOLS)
        for n, inc in includes(p):
            w = where(inc)
            if w is None:
                bad.append("%s:%d: \"%s\" is no single header" % (p, n, inc))
            elif w == prog:
                continue
            elif w in PROGRAMS:
                bad.append("%s:%d: includes %s/%s, another program's" %
                           (p, n, w, inc))
            elif rank(TOOLS, w) < 0 or rank(TOOLS, w) > mine:
                bad.append("%s:%d: includes %s/%s, above its layer" %
                           (p, n, w, inc))
elif rule == "print":
    out = re.compile(r"\bstderr\b|\b(printf|puts|perror|putchar|vprintf|"
                     r"warnx?|errx?|msg_\w+|progress_\w+)\s*\(")
    for p in sources():
        if not p.startswith("tools/lib/"):
            continue
        with open(os.path.join(top, p), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                code = re.sub(r"/\*.*?\*/|\"(\\.|[^\"\\])*\"", "", line)
                if code.lstrip().startswith("*"):
                    continue
                m = out.search(code)
                if m:
                    bad.append("%s:%d: %s" % (p, n, line.strip()))
elif rule == "notes":
    note = re.compile(r"\bissues? #?[0-9]", re.I)
    for d in ("proto", "shim", "tools", "man", "bench", "tests"):
        for root, _, files in os.walk(os.path.join(top, d)):
            if os.path.relpath(root, top).startswith("tests/data/envoy"):
                continue
            for f in files:
                p = os.path.relpath(os.path.join(root, f), top)
                try:
                    text = open(os.path.join(top, p), encoding="utf-8")
                    for n, line in enumerate(text, 1):
                        if note.search(line):
                            bad.append("%s:%d: %s" % (p, n, line.strip()))
                except UnicodeDecodeError:
                    continue
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
}

check "no #include \"../...\" anywhere" layers_py parent
check "every target compiles only sources of its own folder" layers_py targets
check "the shim includes only proto/ and shim/, each layer its own or lower" \
    layers_py shim
check "each tool includes its own layer or lower, no other program's" \
    layers_py tools
check "tools/lib/ never prints" layers_py print
check "no \"issue N\" in code, proto, man pages, bench or tests" \
    layers_py notes

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
