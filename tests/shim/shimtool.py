#!/usr/bin/env python3
"""Facts the shim's suites judge: a trace's role, addresses and last event
(follow.py's protobuf walker), and the bytes of a curl --trace file.

usage: shimtool.py info TRACE...
       shimtool.py sums TRACE...
       shimtool.py curl TRACEFILE SENT RECEIVED
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import follow  # noqa: E402  tests/lib/follow.py
from follow import fields  # noqa: E402


def address(buf):
    """"addr:port" of an Address; "unix:PATH" for a pipe."""
    out = "-"
    for n, w, v in fields(buf):
        if n == 1 and w == 2:
            f = {n2: v2 for n2, w2, v2 in fields(v)}
            out = "%s:%d" % (f.get(2, b"").decode(), f.get(3, 0))
        elif n == 2 and w == 2:
            f = {n2: v2 for n2, w2, v2 in fields(v)}
            out = "unix:" + f.get(1, b"").decode()
    return out


def info(path):
    """Path, role, local, remote, the last event's kind, socket inode."""
    f = {1000: 0, 1: "-", 2: "-", 1002: 0}
    kinds = ["none"]
    buf = open(path, "rb").read()
    for wrapper in follow.wrappers(buf, path.endswith("_delimited")):
        for n, w, v in fields(wrapper):
            conns = [v2 for n2, w2, v2 in fields(v) if n2 == 2 and w2 == 2]
            # Singular fields merge: the last one read wins.
            for c in conns if n in (3, 4) and w == 2 else []:
                f.update({n3: v3 if w3 == 0 else address(v3)
                          for n3, w3, v3 in fields(c) if n3 in f})
        kinds += [follow.event_data(e)[0] for e in
                  follow.trace_events(wrapper)]
    role = ["ROLE_UNKNOWN", "ROLE_CLIENT", "ROLE_SERVER"][f[1000]]
    return "\t".join((path, role, f[1], f[2], kinds[-1], str(f[1002])))


def sums(path):
    """Path, role, Connection.error ("-" if none), bytes written and read,
    the event kinds in order (w, r, c), and the payload written, quoted."""
    f = {1000: 0, 1003: b"-"}
    kinds, sent = "", {"write": bytearray(), "read": bytearray()}
    buf = open(path, "rb").read()
    for wrapper in follow.wrappers(buf, path.endswith("_delimited")):
        for n, w, v in fields(wrapper):
            conns = [v2 for n2, w2, v2 in fields(v) if n2 == 2 and w2 == 2]
            for c in conns if n in (3, 4) and w == 2 else []:
                f.update({n3: v3 for n3, w3, v3 in fields(c) if n3 in f})
        for e in follow.trace_events(wrapper):
            kind, data = follow.event_data(e)
            if kind is not None:
                kinds += kind[0]
                if kind != "closed":
                    sent[kind] += data
    role = ["ROLE_UNKNOWN", "ROLE_CLIENT", "ROLE_SERVER"][f[1000]]
    return "\t".join((path, role, f[1003].decode(), str(len(sent["write"])),
                      str(len(sent["read"])), kinds or "-",
                      repr(bytes(sent["write"]))))


def curl(trace, out0, out1):
    """What curl --trace says was sent (=>) and received (<=)."""
    data = {"=>": bytearray(), "<=": bytearray(), None: bytearray()}
    way = None
    for line in open(trace, encoding="latin-1"):
        if line[:3] in ("=> ", "<= ", "== "):
            # "=> Send SSL data" is TLS records, not the plaintext.
            way = (line[:2] if (" data" in line or " header" in line) and
                   " SSL data" not in line else None)
        elif ": " in line[:10]:
            # "0000: 47 45 54 ... GET": 16 bytes in 48 columns.
            at = line.index(": ") + 2
            data[way] += bytes.fromhex(line[at:at + 48])
    open(out0, "wb").write(data["=>"])
    open(out1, "wb").write(data["<="])


try:
    if sys.argv[1] == "info":
        print("\n".join(info(p) for p in sys.argv[2:]))
    elif sys.argv[1] == "sums":
        for p in sys.argv[2:]:
            print(sums(p))
    else:
        curl(*sys.argv[2:5])
except (OSError, follow.WireError, ValueError, IndexError) as e:
    sys.exit("shimtool.py: %s" % e)
