"""A tiny DNS server for the tests: fixed A and AAAA answers, UDP only.

usage: dnsserver.py PORTFILE [QUERIES] [IDLE] [fixed]
Binds 127.0.0.1 on a port the kernel picks (with "fixed", one outside
Linux's ephemeral range 32768-60999, as a real server's port 53 is, so
roles can be judged by it), writes the port to PORTFILE
(atomically: written, then renamed), answers QUERIES queries (default 1)
and exits; it also exits after IDLE seconds (default 30) with no query.
Every name has A 192.0.2.1 and AAAA 2001:db8::1 (RFC 5737, RFC 3849
documentation addresses), TTL 60; other types get an empty answer.
"""
import os
import random
import socket
import struct
import sys

A = socket.inet_pton(socket.AF_INET, "192.0.2.1")
AAAA = socket.inet_pton(socket.AF_INET6, "2001:db8::1")


def answer(query):
    """The response to one query (RFC 1035, 4.1), or None if malformed."""
    if len(query) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", query[:6])
    if qd != 1 or flags & 0x8000:
        return None
    at = 12
    while at < len(query) and query[at] != 0:
        at += 1 + query[at]
    if at + 5 > len(query):
        return None
    question = query[12:at + 5]
    qtype = struct.unpack("!H", query[at + 1:at + 3])[0]
    rdata = A if qtype == 1 else AAAA if qtype == 28 else None
    header = struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100), 1,
                         1 if rdata else 0, 0, 0)
    out = header + question
    if rdata:
        # A pointer to the question's name (offset 12), then the record.
        out += struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(rdata))
        out += rdata
    return out


def main():
    portfile = sys.argv[1]
    queries = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    idle = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    fixed = len(sys.argv) > 4 and sys.argv[4] == "fixed"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(200):
        try:
            s.bind(("127.0.0.1", random.randrange(20000, 32768)
                    if fixed else 0))
            break
        except OSError:
            continue
    else:
        sys.exit("dnsserver.py: no free port outside the ephemeral range")
    s.settimeout(idle)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    done = 0
    while done < queries:
        try:
            query, peer = s.recvfrom(4096)
        except socket.timeout:
            sys.exit("dnsserver.py: no query for %g s" % idle)
        response = answer(query)
        if response is not None:
            s.sendto(response, peer)
            done += 1


main()
