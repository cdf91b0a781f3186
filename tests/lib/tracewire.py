"""Writing tapshim traces by hand: the protobuf wire format of
proto/tapshim.proto's messages, standard library only, for the scripts
that make large or odd traces (bench/mkreqtrace.py, tests/data/mkmany.py).
"""


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, payload):
    """A length-delimited field."""
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def vfield(num, value):
    """A varint field."""
    return varint(num << 3) + varint(value)


def sockaddr(ip, port):
    """An Address holding a SocketAddress."""
    return field(1, field(2, ip.encode()) + vfield(3, port))


def record(segment):
    """One record of a streamed (.pb_length_delimited) trace: a
    TraceWrapper holding the SocketStreamedTraceSegment segment, its
    length first."""
    wrapper = field(4, segment)
    return varint(len(wrapper)) + wrapper
