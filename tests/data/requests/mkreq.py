#!/usr/bin/env python3
"""Write the request layer's hand-built traces as NAME.textproto here.

Exchanges no real program made for us: gRPC over HTTP/2, an accepted h2c
upgrade, streams cut short, and damaged or non-HTTP streams.  Frames are
built from RFC 9113 and RFC 7541 (literals only, no Huffman), as
tests/data/mkhttp2.py does.  Python 3 standard library only.

    python3 tests/data/requests/mkreq.py
"""

import os
import struct

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x7
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
CANCEL = 0x8


def frame(ftype, flags, stream, payload):
    return (struct.pack(">I", len(payload))[1:] +
            struct.pack(">BBI", ftype, flags, stream) + payload)


def hint(value, bits, flags):
    """RFC 7541 5.1: an integer with an N-bit prefix."""
    limit = (1 << bits) - 1
    if value < limit:
        return bytes([flags | value])
    out = [flags | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    return bytes(out + [value])


def hstr(s):
    return hint(len(s), 7, 0) + s


def idx(i):
    """RFC 7541 6.1: indexed (static 1-61, dynamic 62-)."""
    return hint(i, 7, 0x80)


def lit(name, value):
    """RFC 7541 6.2.1: literal with incremental indexing, new name."""
    return b"\x40" + hstr(name) + hstr(value)


def lit_noidx(name, value):
    """RFC 7541 6.2.2: literal without indexing, new name."""
    return b"\x00" + hstr(name) + hstr(value)


def grpc_msg(payload):
    """gRPC's length-prefixed message: flag byte, 32-bit length."""
    return b"\x00" + struct.pack(">I", len(payload)) + payload


def grpc():
    req1 = (lit(b":method", b"POST") + idx(6) +          # :scheme http
            lit(b":path", b"/helloworld.Greeter/SayHello") +
            lit(b":authority", b"grpc.test:50051") +
            lit(b"content-type", b"application/grpc") +
            lit(b"te", b"trailers"))
    # The dynamic table now holds (newest first) te, content-type,
    # :authority, :path, :method: indexes 62..66.
    req3 = (idx(66) + idx(6) + lit_noidx(b":path",
            b"/helloworld.Greeter/Missing") + idx(64) + idx(63) + idx(62))
    req5 = (idx(66) + idx(6) + lit_noidx(b":path",
            b"/helloworld.Greeter/Slow") + idx(64) + idx(63) + idx(62))
    req7 = (idx(66) + idx(6) + lit_noidx(b":path",
            b"/helloworld.Greeter/Late") + idx(64) + idx(63) + idx(62))
    resp1 = idx(8) + lit(b"content-type", b"application/grpc")
    trail1 = lit_noidx(b"grpc-status", b"0") + lit_noidx(b"grpc-message", b"")
    resp3 = (idx(8) + idx(62) + lit_noidx(b"grpc-status", b"12") +
             lit_noidx(b"grpc-message", b"unknown method Missing"))
    return "gRPC over cleartext HTTP/2: a unary call, a trailers-only " \
        "error, a call the client cancels, one refused by GOAWAY", \
        ("10.0.0.1", 45000, "10.0.0.9", 50051, "ROLE_CLIENT", ""), [
        ("write", PREFACE + frame(SETTINGS, 0, 0, b"")),
        ("read", frame(SETTINGS, 0, 0, b"") + frame(SETTINGS, ACK, 0, b"")),
        ("write", frame(SETTINGS, ACK, 0, b"") +
         frame(HEADERS, END_HEADERS, 1, req1) +
         frame(DATA, END_STREAM, 1, grpc_msg(b"\n\x05world"))),
        ("write", frame(HEADERS, END_HEADERS, 3, req3) +
         frame(DATA, END_STREAM, 3, grpc_msg(b""))),
        ("read", frame(HEADERS, END_HEADERS, 1, resp1) +
         frame(DATA, 0, 1, grpc_msg(b"\n\x0bHello world")) +
         frame(HEADERS, END_HEADERS | END_STREAM, 1, trail1)),
        ("read", frame(HEADERS, END_HEADERS | END_STREAM, 3, resp3)),
        ("write", frame(HEADERS, END_HEADERS, 5, req5) +
         frame(DATA, END_STREAM, 5, grpc_msg(b""))),
        ("write", frame(RST_STREAM, 0, 5, struct.pack(">I", CANCEL))),
        ("write", frame(HEADERS, END_HEADERS, 7, req7) +
         frame(DATA, END_STREAM, 7, grpc_msg(b""))),
        ("read", frame(GOAWAY, 0, 0, struct.pack(">II", 5, 0))),
        ("closed", b""),
    ]


def h2c():
    up = (b"GET /up HTTP/1.1\r\nHost: h2c.test\r\n"
          b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
          b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n")
    ok = (b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
          b"Upgrade: h2c\r\n\r\n")
    resp = idx(8) + lit(b"content-type", b"text/plain")
    req3 = (idx(2) + idx(6) + lit_noidx(b":path", b"/second") +
            lit_noidx(b":authority", b"h2c.test"))
    return "An h2c upgrade the server accepts (RFC 7540 3.2): stream 1 " \
        "answers the HTTP/1.1 request, then stream 3", \
        ("10.0.0.1", 45001, "10.0.0.2", 80, "ROLE_CLIENT", ""), [
        ("write", up),
        ("read", ok + frame(SETTINGS, 0, 0, b"") +
         frame(HEADERS, END_HEADERS, 1, resp) +
         frame(DATA, END_STREAM, 1, b"upgraded\n")),
        ("write", PREFACE + frame(SETTINGS, 0, 0, b"") +
         frame(SETTINGS, ACK, 0, b"") +
         frame(HEADERS, END_HEADERS | END_STREAM, 3, req3)),
        ("read", frame(HEADERS, END_HEADERS, 3, idx(8) + idx(62)) +
         frame(DATA, END_STREAM, 3, b"second\n")),
        ("closed", b""),
    ]


def cutshort():
    return "The trace ends inside a response body (Content-Length 1000, " \
        "300 bytes came), after one whole exchange", \
        ("10.0.0.1", 45002, "10.0.0.2", 80, "ROLE_CLIENT", ""), [
        ("write", b"GET /one HTTP/1.1\r\nHost: cut.test\r\n\r\n"),
        ("read", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        ("write", b"GET /big HTTP/1.1\r\nHost: cut.test\r\n\r\n"),
        ("read", b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
         b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * 300),
    ]


def lost():
    return "A read the trace kept only 20 bytes of (--max-rx-bytes): the " \
        "stream has a hole, so parsing stops there", \
        ("10.0.0.1", 45003, "10.0.0.2", 80, "ROLE_CLIENT", ""), [
        ("write", b"GET /a HTTP/1.1\r\nHost: lost.test\r\n\r\n"),
        ("read-truncated", b"HTTP/1.1 200 OK\r\nCon", 5000),
        ("write", b"GET /b HTTP/1.1\r\nHost: lost.test\r\n\r\n"),
        ("read", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ("closed", b""),
    ]


def nothttp():
    return "Not HTTP: an SSH client", \
        ("10.0.0.1", 45004, "10.0.0.2", 22, "ROLE_CLIENT", ""), [
        ("write", b"SSH-2.0-OpenSSH_9.2\r\n"),
        ("read", b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n"),
        ("closed", b""),
    ]


def badresp():
    return "A damaged HTTP/1 response: the request is kept, without one", \
        ("10.0.0.1", 45005, "10.0.0.2", 80, "ROLE_CLIENT", ""), [
        ("write", b"GET /x HTTP/1.1\r\nHost: bad.test\r\n\r\n"),
        ("read", b"HTTP/1.1 2x0 OK\r\n\r\n"),
        ("closed", b""),
    ]


def badhpack():
    return "HTTP/2 with a header block that indexes past the tables", \
        ("10.0.0.1", 45006, "10.0.0.2", 80, "ROLE_CLIENT", ""), [
        ("write", PREFACE + frame(SETTINGS, 0, 0, b"") +
         frame(HEADERS, END_HEADERS | END_STREAM, 1, idx(2) + idx(6) +
               idx(4) + lit_noidx(b":authority", b"bad.test"))),
        ("read", frame(SETTINGS, 0, 0, b"") +
         frame(HEADERS, END_HEADERS, 1, idx(8) + idx(120))),
        ("closed", b""),
    ]


def server_h1():
    return "HTTP/1.1 traced in the server: requests are read, responses " \
        "written; a POST with a chunked request body", \
        ("10.0.0.2", 8080, "10.0.0.1", 45007, "ROLE_SERVER", ""), [
        ("read", b"POST /api HTTP/1.1\r\nHost: srv.test\r\n"
         b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n"
         b"Cookie: session=abc\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n"),
        ("write", b"HTTP/1.1 201 Created\r\nSet-Cookie: s=1\r\n"
         b"Content-Length: 0\r\n\r\n"),
        ("read-end", b""),
        ("closed", b""),
    ]


def grpc_server():
    """The gRPC exchange as the server traced it: reads and writes swap."""
    comment, conn, events = grpc()
    swap = {"read": "write", "write": "read", "closed": "closed"}
    return ("The gRPC exchange traced in the server (ALPN h2 over TLS "
            "plaintext)", ("10.0.0.9", 50051, "10.0.0.1", 45000,
                           "ROLE_SERVER", ""),
            [(swap[k], d) for k, d in events])


def escape(data):
    out = []
    for b in data:
        if b in (0x22, 0x5c):
            out.append("\\" + chr(b))
        elif 0x20 <= b < 0x7f:
            out.append(chr(b))
        else:
            out.append("\\%03o" % b)
    return "".join(out)


def write(name, trace_id, made):
    comment, (lip, lport, rip, rport, role, _), events = made
    lines = ["# Generated by tests/data/requests/mkreq.py; do not edit.",
             "# " + comment + ".",
             "socket_buffered_trace {",
             "  trace_id: %d" % trace_id,
             "  connection {",
             '    local_address { socket_address { address: "%s" '
             "port_value: %d } }" % (lip, lport),
             '    remote_address { socket_address { address: "%s" '
             "port_value: %d } }" % (rip, rport),
             "    role: %s" % role,
             *(['    tls { alpn: "h2" data: TLS_DATA_PLAINTEXT }'] if name.endswith("-server")
               else []),
             "    pid: %d" % (1000 + trace_id),
             "  }"]
    t = (1800000000 + trace_id * 10) * 10**9
    for ev in events:
        kind, data = ev[0], ev[1]
        t += 1500000
        lines.append("  events {")
        lines.append("    timestamp { seconds: %d nanos: %d }" %
                     divmod(t, 10**9))
        if kind == "closed":
            lines.append("    closed {}")
        elif kind == "read-end":
            lines.append("    read { end_stream: true }")
        elif kind == "read-truncated":
            lines.append('    read { data { as_bytes: "%s" truncated: true '
                         "length: %d } }" % (escape(data), ev[2]))
        else:
            lines.append('    %s { data { as_bytes: "%s" } }' %
                         (kind, escape(data)))
        lines.append("  }")
    lines.append("}")
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, name + ".textproto"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    for i, (name, fn) in enumerate([
            ("grpc", grpc), ("h2c-accepted", h2c), ("cutshort", cutshort),
            ("lost", lost), ("nothttp", nothttp), ("badresp", badresp),
            ("badhpack", badhpack), ("server-h1", server_h1),
            ("grpc-server", grpc_server)]):
        write(name, 20 + i, fn())


if __name__ == "__main__":
    main()
