#!/usr/bin/env python3
"""Compare the bytes tshark follows in a TCP stream with what a trace holds.

    follow.py show  [-d SPEC] PCAP N...
    follow.py check [-d SPEC] [--client ADDR:PORT] [--expert FILE]
                    PCAP N EXPECT0 EXPECT1 [N EXPECT0 EXPECT1]...
    follow.py expect {client|server} PREFIX TRACE...

`show` and `check` run `tshark -r PCAP -q -z follow,tcp,raw,N` (one tshark
for all the streams; tshark from $TSHARK, default "tshark"). Node 0 is the
client, the side that sent the SYN; node 1 the server. `check` compares
each direction with the expected file and exits 1 with a summary of the
first difference; --client also checks the address tshark gives node 0,
--expert FILE saves the output of `-z expert`, run in the same pass.

`expect` computes the expected files PREFIX.I.0 (client to server) and
PREFIX.I.1 (server to client) from the I-th trace, without tap2pcap: it
walks the protobuf wire format itself (.pb, chunked .pb or
.pb_length_delimited, trace-format.md) and concatenates the bytes of the
writes (the traced process's side) and of the reads (its peer's).
{client|server} says which end the traced process is. Python 3 standard
library only.
"""

import argparse
import os
import subprocess
import sys

# Field numbers from trace-format.md.
WRAPPER_BUFFERED, WRAPPER_SEGMENT = 3, 4
BUFFERED_EVENTS = 3
SEGMENT_EVENT, SEGMENT_EVENTS = 3, 4
EVENTS_EVENT = 1
EVENT_READ, EVENT_WRITE, EVENT_CLOSED = 2, 3, 4
OP_DATA = 1
BODY_BYTES, BODY_STRING = 1, 2


class WireError(Exception):
    pass


def varint(buf, pos):
    """Decode a varint at pos: (value, next position)."""
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise WireError("varint runs past the end at offset %d" % pos)
        b = buf[pos]
        pos += 1
        value |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def fields(buf):
    """Yield (number, wire type, value) for each field of a message."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wtype = key >> 3, key & 7
        if wtype == 0:
            value, pos = varint(buf, pos)
        elif wtype == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wtype == 2:
            n, pos = varint(buf, pos)
            if pos + n > len(buf):
                raise WireError("field %d runs past the end" % number)
            value, pos = buf[pos:pos + n], pos + n
        elif wtype == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise WireError("wire type %d not expected" % wtype)
        yield number, wtype, value


def event_data(event):
    """('read'|'write'|'closed'|None, bytes) of one SocketEvent."""
    kind, data = None, b""
    for number, wtype, value in fields(event):
        if wtype != 2 or number not in (EVENT_READ, EVENT_WRITE,
                                        EVENT_CLOSED):
            continue
        # A oneof: the last member wins.
        kind = {EVENT_READ: "read", EVENT_WRITE: "write",
                EVENT_CLOSED: "closed"}[number]
        data = b""
        if kind == "closed":
            continue
        for n2, w2, op in fields(value):
            if n2 == OP_DATA and w2 == 2:
                for n3, w3, body in fields(op):
                    if n3 in (BODY_BYTES, BODY_STRING) and w3 == 2:
                        data = body
    return kind, data


def trace_events(wrapper):
    """Yield the SocketEvents of one TraceWrapper, in file order."""
    for number, wtype, value in fields(wrapper):
        if wtype != 2:
            continue
        if number == WRAPPER_BUFFERED:
            for n, w, v in fields(value):
                if n == BUFFERED_EVENTS and w == 2:
                    yield v
        elif number == WRAPPER_SEGMENT:
            for n, w, v in fields(value):
                if n == SEGMENT_EVENT and w == 2:
                    yield v
                elif n == SEGMENT_EVENTS and w == 2:
                    for n2, w2, v2 in fields(v):
                        if n2 == EVENTS_EVENT and w2 == 2:
                            yield v2


def wrappers(buf, delimited):
    """The TraceWrappers of a file: the whole of it, or each record."""
    if not delimited:
        yield buf
        return
    pos = 0
    while pos < len(buf):
        n, pos = varint(buf, pos)
        if pos + n > len(buf):
            raise WireError("record at offset %d runs past the end" % pos)
        yield buf[pos:pos + n]
        pos += n


def expected(path, traced):
    """(client bytes, server bytes) of the trace in path."""
    with open(path, "rb") as f:
        buf = f.read()
    delimited = path.endswith("_length_delimited")
    sent = {"write": bytearray(), "read": bytearray()}
    for wrapper in wrappers(buf, delimited):
        for event in trace_events(wrapper):
            kind, data = event_data(event)
            if kind == "closed":
                return split(sent, traced)
            if kind is not None:
                sent[kind] += data
    return split(sent, traced)


def split(sent, traced):
    """Writes come from the traced side, reads from its peer."""
    if traced == "client":
        return bytes(sent["write"]), bytes(sent["read"])
    return bytes(sent["read"]), bytes(sent["write"])


def follow(pcap, streams, decode_as, expert=None):
    """Run tshark once: {N: (node 0, node 1, bytes 0, bytes 1)}.

    With expert, a file name, tshark also runs `-z expert` in the same
    pass (a tshark start costs more than reading a small capture) and its
    whole output is saved there for the expert judge.
    """
    cmd = [os.environ.get("TSHARK", "tshark"), "-n", "-r", pcap, "-q"]
    for spec in decode_as:
        cmd += ["-d", spec]
    for n in streams:
        cmd += ["-z", "follow,tcp,raw,%d" % n]
    if expert:
        cmd += ["-z", "expert"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit("follow.py: %s failed (exit %d): %s" % (
            " ".join(cmd), r.returncode, r.stderr.decode(errors="replace")
            .strip()))
    if expert:
        with open(expert, "wb") as f:
            f.write(r.stdout)
    found = {}
    stream = nodes = data = None
    for line in r.stdout.decode(errors="replace").splitlines():
        if line.startswith("Filter: tcp.stream eq "):
            stream = int(line.split()[-1])
            nodes, data = [None, None], [bytearray(), bytearray()]
        elif stream is None:
            continue
        elif line.startswith("Node 0: "):
            nodes[0] = line[8:].strip()
        elif line.startswith("Node 1: "):
            nodes[1] = line[8:].strip()
        elif line.startswith("===="):
            # tshark 4.0 prints "Node 0: :0" for a stream that is not there.
            if nodes[0] not in (None, ":0"):
                found[stream] = (nodes[0], nodes[1], bytes(data[0]),
                                 bytes(data[1]))
            stream = None
        elif line.strip():
            # Node 1's data is indented by a tab, node 0's is not.
            try:
                data[line.startswith("\t")] += bytes.fromhex(line.strip())
            except ValueError:
                sys.exit("follow.py: not hex in tshark output: %r" % line)
    return found


def printable(b):
    """Bytes as hex, with the ASCII alongside."""
    text = "".join(chr(c) if 0x20 <= c < 0x7f else "." for c in b)
    return "%s |%s|" % (b.hex(" "), text)


def compare(label, want, got):
    """Say how got differs from want; None if it does not."""
    if want == got:
        return None
    n = min(len(want), len(got))
    at = next((i for i in range(n) if want[i] != got[i]), n)
    lo = max(0, at - 8)
    lines = ["%s: expected %d bytes, tshark followed %d; first difference "
             "at offset %d" % (label, len(want), len(got), at),
             "  expected[%d:]: %s" % (lo, printable(want[lo:at + 16])),
             "  followed[%d:]: %s" % (lo, printable(got[lo:at + 16]))]
    return "\n".join(lines)


def strip_brackets(addr):
    """"[2001:db8::1]:80" and "2001:db8::1:80" name the same node."""
    return addr.replace("[", "").replace("]", "") if addr else addr


def cmd_show(args):
    found = follow(args.pcap, args.streams, args.decode_as)
    for n in args.streams:
        if n not in found:
            print("stream %d: not in %s" % (n, args.pcap))
            continue
        n0, n1, d0, d1 = found[n]
        print("stream %d node 0 (client) %s: %d bytes" % (n, n0, len(d0)))
        print("stream %d node 1 (server) %s: %d bytes" % (n, n1, len(d1)))
        for label, d in (("0", d0), ("1", d1)):
            for i in range(0, min(len(d), 256), 16):
                print("%s %06x  %s" % (label, i, printable(d[i:i + 16])))
    return 0


def check_stream(args, found, n, expect0, expect1):
    """The problems with stream n, as lines; none if it is right."""
    if n not in found:
        return ["stream %d: tshark shows no such TCP stream" % n]
    n0, n1, d0, d1 = found[n]
    problems = []
    # --client A,B,...: stream i's client is the i-th (or the last) one.
    clients = args.client.split(",") if args.client else []
    client = clients[min(n, len(clients) - 1)] if clients else None
    if client and strip_brackets(n0) != strip_brackets(client):
        problems.append("node 0 (the client) is %s, expected %s" %
                        (n0, client))
    for label, path, got in (("node 0 -> node 1 (client to server)",
                              expect0, d0),
                             ("node 1 -> node 0 (server to client)",
                              expect1, d1)):
        with open(path, "rb") as f:
            diff = compare(label, f.read(), got)
        if diff:
            problems.append(diff)
    if problems:
        problems.insert(0, "stream %d (%s <-> %s):" % (n, n0, n1))
    return problems


def cmd_check(args):
    if len(args.triples) % 3 != 0:
        sys.exit("follow.py check: give N EXPECT0 EXPECT1 for each stream")
    triples = [(int(args.triples[i]), args.triples[i + 1],
                args.triples[i + 2]) for i in range(0, len(args.triples), 3)]
    found = follow(args.pcap, [t[0] for t in triples], args.decode_as,
                   args.expert)
    problems = []
    for n, e0, e1 in triples:
        problems += check_stream(args, found, n, e0, e1)
    if problems:
        print("%s:" % args.pcap)
        print("\n".join(problems))
        return 1
    return 0


def cmd_expect(args):
    for i, trace in enumerate(args.traces):
        try:
            c, s = expected(trace, args.traced)
        except (OSError, WireError) as e:
            sys.exit("follow.py: %s: %s" % (trace, e))
        for node, data in ((0, c), (1, s)):
            with open("%s.%d.%d" % (args.prefix, i, node), "wb") as f:
                f.write(data)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("show", "check"):
        q = sub.add_parser(name)
        q.add_argument("-d", dest="decode_as", action="append", default=[],
                       metavar="SPEC", help="tshark decode-as, e.g. "
                       "tcp.port==10000,http2")
        q.add_argument("pcap")
        if name == "show":
            q.add_argument("streams", type=int, nargs="+", metavar="N")
            continue
        q.add_argument("--client", metavar="ADDR:PORT",
                       help="the address node 0 must have; a comma-"
                       "separated list gives one per stream")
        q.add_argument("--expert", metavar="FILE",
                       help="also run -z expert, saving tshark's output "
                       "in FILE")
        q.add_argument("triples", nargs="+", metavar="N EXPECT0 EXPECT1",
                       help="a stream, the bytes node 0 (the client) "
                       "sends, the bytes node 1 (the server) sends")
    q = sub.add_parser("expect")
    q.add_argument("traced", choices=("client", "server"))
    q.add_argument("prefix", help="write PREFIX.I.0 and PREFIX.I.1 for "
                   "the I-th trace")
    q.add_argument("traces", nargs="+", metavar="TRACE")
    args = p.parse_args()
    return {"show": cmd_show, "check": cmd_check,
            "expect": cmd_expect}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
