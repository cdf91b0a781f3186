#!/usr/bin/env python3
"""A recording TCP proxy: relay 127.0.0.1:LISTEN to 127.0.0.1:UPSTREAM
and write what each connection really carried, per direction.

usage: recproxy.py [--idle SECONDS] LISTEN UPSTREAM DIR

The I-th connection accepted (0, 1, ...) leaves DIR/I.c2s (the bytes the
client sent, as the server got them) and DIR/I.s2c (the server's, as the
client got them), and once both directions are done a line in DIR/conns:
"I CLIENT_PORT PROXY_PORT", the client's port facing the proxy and the
proxy's own port facing the server, so a judge finds the stream in a
capture made on either side. A half-close is passed on as one
(shutdown(SHUT_WR)), so each side sees the other's FIN where it was.
"ready" goes to stdout once the proxy listens; it stops by itself after
SECONDS (default 60) without a connection open, or on SIGTERM. Python 3
standard library only.
"""

import argparse
import os
import socket
import sys
import threading
import time

lock = threading.Lock()
state = {"open": 0, "last": time.monotonic()}


def pump(src, dst, path):
    """Copy src to dst until EOF, keeping every byte in path."""
    with open(path, "wb") as out:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            out.write(data)
            try:
                dst.sendall(data)
            except OSError:
                break
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def relay(n, client, upstream, outdir):
    """Relay one connection both ways, then note it in conns."""
    try:
        server = socket.create_connection(("127.0.0.1", upstream))
    except OSError as e:
        print("recproxy.py: connect %d: %s" % (upstream, e), file=sys.stderr)
        client.close()
        return done()
    ports = (client.getpeername()[1], server.getsockname()[1])
    base = os.path.join(outdir, str(n))
    t = threading.Thread(target=pump, args=(server, client, base + ".s2c"))
    t.start()
    pump(client, server, base + ".c2s")
    t.join()
    line = "%d %d %d\n" % ((n,) + ports)
    client.close()
    server.close()
    with lock:
        with open(os.path.join(outdir, "conns"), "a") as f:
            f.write(line)
    done()


def done():
    with lock:
        state["open"] -= 1
        state["last"] = time.monotonic()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--idle", type=float, default=60)
    p.add_argument("listen", type=int)
    p.add_argument("upstream", type=int)
    p.add_argument("dir")
    a = p.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen))
    ls.listen(128)
    ls.settimeout(0.2)
    print("ready", flush=True)
    n = 0
    while True:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            with lock:
                idle = (state["open"] == 0 and
                        time.monotonic() - state["last"] > a.idle)
            if idle:
                return
            continue
        c.settimeout(None)
        with lock:
            state["open"] += 1
        threading.Thread(target=relay, args=(n, c, a.upstream, a.dir),
                         daemon=True).start()
        n += 1


if __name__ == "__main__":
    main()
