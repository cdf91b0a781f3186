#!/usr/bin/env python3
"""Write a large request trace for bench/requests.sh, streamed format.

    mkreqtrace.py h1 N OUT.pb_length_delimited   N keep-alive HTTP/1.1
                                                 requests, one connection
    mkreqtrace.py h2 N OUT.pb_length_delimited   N HTTP/2 streams, one
                                                 connection, 10 open at once

Each event is its own SocketStreamedTraceSegment (tapshim.proto), as
tapshim writes with TAPSHIM_FORMAT=ld.  Standard library only.
"""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "lib"))
from tracewire import field, record, sockaddr, vfield  # noqa: E402


def connection():
    return (field(1, sockaddr("10.0.0.1", 40000)) +
            field(2, sockaddr("10.0.0.2", 80)) +
            vfield(1000, 1) + vfield(1001, 4242))


def event(t, kind, data):
    """kind: 2 read, 3 write."""
    ts = vfield(1, t // 10**9) + vfield(2, t % 10**9)
    return field(1, ts) + field(kind, field(1, field(1, data)))


def segment(piece_num, piece):
    return record(vfield(1, 1) + field(piece_num, piece))


def frame(ftype, flags, sid, payload):
    return (struct.pack(">I", len(payload))[1:] +
            struct.pack(">BBI", ftype, flags, sid) + payload)


def lit(name, value):
    """HPACK literal without indexing, new name (RFC 7541 6.2.2)."""
    return (b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) +
            value)


def h1(n, emit):
    t = 1800000000 * 10**9
    body = b"x" * 512
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 512\r\n\r\n" + body)
    for i in range(n):
        t += 20000
        emit(event(t, 3, b"GET /item/%d HTTP/1.1\r\nHost: bench.test\r\n"
                   b"User-Agent: mkreqtrace\r\nAccept: */*\r\n\r\n" %
                   (i % 100)))
        t += 50000
        emit(event(t, 2, resp))


def h2(n, emit):
    t = 1800000000 * 10**9
    emit(event(t, 3, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" +
               frame(4, 0, 0, b"")))
    emit(event(t + 1000, 2, frame(4, 0, 0, b"") + frame(4, 1, 0, b"")))
    body = b"y" * 512
    sid = 1
    for base in range(0, n, 10):
        batch = range(base, min(n, base + 10))
        out, back = b"", b""
        for i in batch:
            s = sid + 2 * (i - base)
            out += frame(1, 0x5, s, b"\x82\x86" +
                         lit(b":path", b"/item/%d" % (i % 100)) +
                         lit(b":authority", b"bench.test"))
            back += (frame(1, 0x4, s, b"\x88" +
                           lit(b"content-type", b"text/plain")) +
                     frame(0, 0x1, s, body))
        sid += 2 * len(batch)
        t += 200000
        emit(event(t, 3, out))
        t += 500000
        emit(event(t, 2, back))


def main():
    kind, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path, "wb") as f:
        f.write(segment(2, connection()))
        {"h1": h1, "h2": h2}[kind](n, lambda e: f.write(segment(3, e)))


if __name__ == "__main__":
    main()
