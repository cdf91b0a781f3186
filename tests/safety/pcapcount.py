#!/usr/bin/env python3
"""Count a pcap file's frames and its distinct TCP connections (4-tuples
of the SYNs): pcapcount.py FILE prints "FRAMES CONNECTIONS"; with
--short also how many frames have caplen < len."""

import struct
import sys


def main():
    path = [a for a in sys.argv[1:] if not a.startswith("--")][0]
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    link = struct.unpack(endian + "I", data[20:24])[0]
    pos, frames, short, syns = 24, 0, 0, set()
    while pos + 16 <= len(data):
        _, _, caplen, length = struct.unpack(endian + "IIII",
                                             data[pos:pos + 16])
        pkt = data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen
        frames += 1
        short += caplen < length
        off = 14 if link == 1 else 16 if link == 113 else 0
        if len(pkt) < off + 20:
            continue
        ver = pkt[off] >> 4
        if ver == 4:
            ihl = (pkt[off] & 15) * 4
            proto, src, dst = pkt[off + 9], pkt[off + 12:off + 16], \
                pkt[off + 16:off + 20]
            tcp = off + ihl
        elif ver == 6:
            proto, src, dst = pkt[off + 6], pkt[off + 8:off + 24], \
                pkt[off + 24:off + 40]
            tcp = off + 40
        else:
            continue
        if proto != 6 or len(pkt) < tcp + 14:
            continue
        flags = pkt[tcp + 13]
        if flags & 0x12 == 0x02:
            syns.add((src, dst, pkt[tcp:tcp + 4]))
    if "--short" in sys.argv:
        print(frames, len(syns), short)
    else:
        print(frames, len(syns))


main()
