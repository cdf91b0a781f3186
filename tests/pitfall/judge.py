#!/usr/bin/env python3
"""Judge the traces of a pitfall test program against what it moved.

    judge.py files [--mirror] [--open-ok] EXPDIR TRACE...
    judge.py capture [--mirror] EXPDIR WORKDIR TRACE...
    judge.py interleaved EXPDIR BYTE TRACE

The test programs (tests/pitfall/pit.c) save, per process and
connection, the bytes they wrote and read as EXPDIR/PID.LPORT.RPORT.w
and .r. A trace is matched to them by its Connection (pid 1001, local
and remote port).

`files` walks each trace itself (the wire walk of tests/follow.py): one
trace per saved connection and none more, each ending in a closed event
(unless --open-ok) with nothing after it, its writes and reads exactly
the saved bytes. --mirror: a trace with nothing saved under its own pid
(a traced echo server) must mirror the connection saved under the same
ports swapped.

`capture` converts the traces with tap2pcap ($TAP2PCAP, -q) in groups
that share no client port, and checks that tshark follows exactly the
saved bytes in each direction of every stream.

`interleaved` is for the signal test: the program wrote BYTE from a
signal handler too. The trace's reads must be exactly what was read;
its writes, in wire order (the echo), the program's bytes with some or
all of the handler's. It prints how many of the handler's bytes the
trace holds.
"""

import argparse
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import follow  # noqa: E402  tests/lib/follow.py

# Field numbers from proto/tapshim.proto.
CONN_IN_BUFFERED, CONN_IN_SEGMENT = 2, 2
CONN_LOCAL, CONN_REMOTE, CONN_ROLE, CONN_PID = 1, 2, 1000, 1001
ADDR_SOCKET, SOCK_PORT = 1, 3
ROLE_SERVER = 2


class Trace:
    """What one trace file holds."""

    def __init__(self, path):
        self.path = path
        self.pid = self.lport = self.rport = None
        self.role = 0
        self.data = {"write": bytearray(), "read": bytearray()}
        self.closed = False
        self.after_closed = 0
        with open(path, "rb") as f:
            buf = f.read()
        delimited = path.endswith("_length_delimited")
        for wrapper in follow.wrappers(buf, delimited):
            self._connection(wrapper)
            for event in follow.trace_events(wrapper):
                kind, data = follow.event_data(event)
                if self.closed:
                    self.after_closed += 1
                elif kind == "closed":
                    self.closed = True
                elif kind is not None:
                    self.data[kind] += data

    def _connection(self, wrapper):
        for n, w, v in follow.fields(wrapper):
            if w != 2 or n not in (follow.WRAPPER_BUFFERED,
                                   follow.WRAPPER_SEGMENT):
                continue
            for n2, w2, conn in follow.fields(v):
                if n2 == CONN_IN_BUFFERED and w2 == 2:
                    self._fill(conn)

    def _fill(self, conn):
        for n, w, v in follow.fields(conn):
            if n == CONN_PID and w == 0:
                self.pid = v
            elif n == CONN_ROLE and w == 0:
                self.role = v
            elif n in (CONN_LOCAL, CONN_REMOTE) and w == 2:
                port = address_port(v)
                if n == CONN_LOCAL:
                    self.lport = port
                else:
                    self.rport = port

    def key(self):
        return "%s.%s.%s" % (self.pid, self.lport, self.rport)

    def client_port(self):
        return self.rport if self.role == ROLE_SERVER else self.lport

    def name(self):
        return "%s (pid %s, ports %s -> %s)" % (
            os.path.basename(self.path), self.pid, self.lport, self.rport)


def address_port(addr):
    for n, w, v in follow.fields(addr):
        if n == ADDR_SOCKET and w == 2:
            for n2, w2, v2 in follow.fields(v):
                if n2 == SOCK_PORT and w2 == 0:
                    return v2
    return None


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def saved_keys(expdir):
    return sorted(os.path.basename(p)[:-2]
                  for p in glob.glob(os.path.join(expdir, "*.w")))


def expectation(expdir, trace, mirror):
    """(written, read) that trace must hold, or None."""
    base = os.path.join(expdir, trace.key())
    if os.path.exists(base + ".w"):
        return read_file(base + ".w"), read_file(base + ".r"), trace.key()
    if mirror:
        peers = glob.glob(os.path.join(expdir, "*.%s.%s.w" % (
            trace.rport, trace.lport)))
        if len(peers) == 1:
            p = peers[0][:-2]
            return read_file(p + ".r"), read_file(p + ".w"), None
    return None


def in_trace(diff):
    """follow.compare() speaks of tshark; here the trace was walked."""
    if diff is None:
        return None
    return diff.replace("tshark followed", "the trace holds").replace(
        "followed[", "in trace[")


def load(paths):
    traces, problems = [], []
    for p in paths:
        try:
            traces.append(Trace(p))
        except (OSError, follow.WireError) as e:
            problems.append("%s: unreadable: %s" % (p, e))
    return traces, problems


def cmd_files(args):
    traces, problems = load(args.traces)
    seen = {}
    for t in traces:
        exp = expectation(args.expdir, t, args.mirror)
        if exp is None:
            problems.append("%s: no such connection was made by that "
                            "process" % t.name())
            continue
        w, r, key = exp
        if key:
            seen.setdefault(key, []).append(t.path)
        for label, want, got in (("writes", w, t.data["write"]),
                                 ("reads", r, t.data["read"])):
            diff = in_trace(follow.compare("%s: %s" % (t.name(), label),
                                           want, bytes(got)))
            if diff:
                problems.append(diff)
        if not t.closed and not args.open_ok:
            problems.append("%s: no closed event" % t.name())
        if t.after_closed:
            problems.append("%s: %d events after the closed event" %
                            (t.name(), t.after_closed))
    for key in saved_keys(args.expdir):
        n = len(seen.get(key, []))
        if n != 1:
            problems.append("connection %s (pid.lport.rport): %d traces "
                            "%s" % (key, n, " ".join(
                                os.path.basename(p)
                                for p in seen.get(key, []))))
    if problems:
        print("\n".join(problems))
    return 1 if problems else 0


def groups(traces):
    """Split traces so that no two in a group share a client port."""
    out = []
    for t in traces:
        for g in out:
            if all(u.client_port() != t.client_port() for u in g):
                g.append(t)
                break
        else:
            out.append([t])
    return out


def cmd_capture(args):
    traces, problems = load(args.traces)
    tap2pcap = os.environ.get("TAP2PCAP", "tap2pcap")
    for i, g in enumerate(groups(traces)):
        pcap = os.path.join(args.workdir, "group%d.pcap" % i)
        r = subprocess.run([tap2pcap, "-q", "-w", pcap] +
                           [t.path for t in g], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0 or r.stdout:
            problems.append("tap2pcap exit %d: %s" % (
                r.returncode, r.stdout.decode(errors="replace").strip()))
            continue
        found = follow.follow(pcap, range(len(g)), [])
        by_port = {}
        for n0, n1, d0, d1 in found.values():
            by_port[int(n0.rsplit(":", 1)[1])] = (d0, d1)
        for t in g:
            exp = expectation(args.expdir, t, args.mirror)
            got = by_port.get(t.client_port())
            if exp is None:
                problems.append("%s: no such connection was made" %
                                t.name())
                continue
            if got is None:
                problems.append("%s: tshark shows no stream from client "
                                "port %s" % (t.name(), t.client_port()))
                continue
            w, r_, _ = exp
            c2s, s2c = (r_, w) if t.role == ROLE_SERVER else (w, r_)
            for label, want, have in (("client to server", c2s, got[0]),
                                      ("server to client", s2c, got[1])):
                diff = follow.compare("%s: %s" % (t.name(), label), want,
                                      have)
                if diff:
                    problems.append(diff)
    if problems:
        print("\n".join(problems))
    return 1 if problems else 0


def subsequence(small, big):
    it = iter(big)
    return all(b in it for b in small)


def cmd_interleaved(args):
    traces, problems = load([args.trace])
    if problems:
        print("\n".join(problems))
        return 1
    t = traces[0]
    byte = args.byte.encode()[0]
    exp = expectation(args.expdir, t, False)
    if exp is None:
        print("%s: no such connection was made" % t.name())
        return 1
    w, r, _ = exp
    wrote = bytes(t.data["write"])
    diff = in_trace(follow.compare("%s: reads" % t.name(), r,
                                   bytes(t.data["read"])))
    if diff:
        problems.append(diff)
    diff = in_trace(follow.compare("%s: writes without the handler's" %
                                   t.name(), w,
                                   bytes(b for b in wrote if b != byte)))
    if diff:
        problems.append(diff)
    if not subsequence(wrote, r):
        problems.append("%s: writes are not in wire order" % t.name())
    if problems:
        print("\n".join(problems))
        return 1
    print("%d of %d handler bytes are in the trace" % (
        wrote.count(byte), r.count(byte)))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("files")
    q.add_argument("--mirror", action="store_true")
    q.add_argument("--open-ok", action="store_true")
    q.add_argument("expdir")
    q.add_argument("traces", nargs="*")
    q = sub.add_parser("capture")
    q.add_argument("--mirror", action="store_true")
    q.add_argument("expdir")
    q.add_argument("workdir")
    q.add_argument("traces", nargs="+")
    q = sub.add_parser("interleaved")
    q.add_argument("expdir")
    q.add_argument("byte")
    q.add_argument("trace")
    args = p.parse_args()
    return {"files": cmd_files, "capture": cmd_capture,
            "interleaved": cmd_interleaved}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
