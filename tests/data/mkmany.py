#!/usr/bin/env python3
"""Write a streamed trace (.pb_length_delimited) of many connections, all
open at once: mkmany.py KIND N OUT, KIND one of
  pair    N TCP connections of one address pair (10.0.0.1:40000 to
          10.0.0.2:80): each connects, writes "x", and closes after all
          the others have written
  unix    N AF_UNIX clients of one socket (/run/many.sock), the same way
  noaddr  N trace ids without any address, the same way
  serial  N TCP connections one after another (each connects, writes,
          reads and closes before the next), client ports 1024 and up
The protobuf wire format is written by hand (tests/lib/tracewire.py): no
generated classes needed.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from tracewire import field, record, sockaddr, vfield  # noqa: E402


def pipe(path):
    return field(2, field(1, path.encode()))


def event(sec, nsec, kind):
    ts = field(1, vfield(1, sec) + vfield(2, nsec))
    if kind == "write":
        return ts + field(3, field(1, field(1, b"x")))
    return ts + field(4, b"")


def serial(n, out):
    with open(out, "wb") as f:
        for i in range(1, n + 1):
            seg = vfield(1, i)
            conn = field(1, sockaddr("10.0.0.1", 1024 + i % 64000)) + \
                field(2, sockaddr("10.0.0.2", 80))
            f.write(record(seg + field(2, conn)))
            t = 1700000000 * 10**6 + i * 10
            for k, kind in enumerate(("write", "closed")):
                f.write(record(seg + field(3, event(
                    (t + k) // 10**6, (t + k) % 10**6 * 1000, kind))))


def main():
    kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if kind == "pair":
        conn = field(1, sockaddr("10.0.0.1", 40000)) + \
            field(2, sockaddr("10.0.0.2", 80))
    elif kind == "unix":
        conn = field(2, pipe("/run/many.sock"))
    elif kind == "noaddr":
        conn = None
    elif kind == "serial":
        return serial(n, out)
    else:
        sys.exit("usage: mkmany.py pair|unix|noaddr N OUT")
    with open(out, "wb") as f:
        for i in range(1, n + 1):
            seg = vfield(1, i)
            if conn is not None:
                f.write(record(seg + field(2, conn)))
            t = 1700000000 * 10**6 + i
            f.write(record(seg + field(3, event(t // 10**6,
                                                t % 10**6 * 1000, "write"))))
        for i in range(1, n + 1):
            t = 1700000001 * 10**6 + i
            f.write(record(vfield(1, i) + field(3, event(t // 10**6,
                                                t % 10**6 * 1000, "closed"))))


main()
