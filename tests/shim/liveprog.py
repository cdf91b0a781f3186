#!/usr/bin/env python3
"""A client and server for tests/shim/live.sh: exchanges, paced by files.

    liveprog.py DIR ROUNDS SIZE [STEPS]

Serves on 127.0.0.1 (its own thread, untraced-equal: both ends are in this
process), then for each round r in 0..ROUNDS-1: connects, sends SIZE
bytes of the letter 'a' + r, reads the server's "ok", closes. With STEPS,
after each round r listed in it (comma-separated) it writes DIR/round-r
and waits for DIR/go-r to exist before the next round, so the test can
look at the capture while the program still runs. Prints "liveprog
stdout" on stdout (it must never land in a capture). Standard library
only. LIVEPROG_PAUSE: seconds between rounds (default 0.02).
"""

import os
import socket
import sys
import threading
import time


def serve(srv, size):
    while True:
        c, _ = srv.accept()
        got = 0
        while got < size:
            d = c.recv(65536)
            if not d:
                break
            got += len(d)
        c.sendall(b"ok")
        c.close()


def main():
    d, rounds, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    steps = set()
    if len(sys.argv) > 4 and sys.argv[4]:
        steps = {int(x) for x in sys.argv[4].split(",")}
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    threading.Thread(target=serve, args=(srv, size), daemon=True).start()
    print("liveprog stdout", flush=True)
    for r in range(rounds):
        s = socket.create_connection(srv.getsockname())
        s.sendall(bytes([ord("a") + r % 26]) * size)
        got = b""
        while len(got) < 2:
            b = s.recv(2 - len(got))
            if not b:
                break
            got += b
        s.close()
        if r in steps:
            open(os.path.join(d, "round-%d" % r), "w").close()
            while not os.path.exists(os.path.join(d, "go-%d" % r)):
                time.sleep(0.05)
        time.sleep(float(os.environ.get("LIVEPROG_PAUSE", "0.02")))


main()
