#!/usr/bin/env python3
"""Judges for tests/golden/requests.sh: HAR against the schema, and the
request records' times against the trace's own events.

    reqjudge.py har SCHEMA HAR             valid HAR 1.2; time adds up
    reqjudge.py times RECORDS EVENTS HAR   every time is an event's, and
                                           HAR's timings are those spans
    reqjudge.py keys MANPAGE JSON...        every JSON key is documented
    reqjudge.py access RECORDS ACCESSLOG   the same requests as nginx's
"""

import json
import re
import sys
from datetime import datetime, timezone


def ns(t):
    """RFC 3339 with nanoseconds -> ns since the epoch."""
    day, frac = t.rstrip("Z").split(".")
    d = datetime.strptime(day, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc)
    return int(d.timestamp()) * 10**9 + int(frac.ljust(9, "0"))


def har(schema, path):
    import jsonschema
    doc = json.load(open(path))
    jsonschema.validate(doc, json.load(open(schema)))
    for i, e in enumerate(doc["log"]["entries"]):
        t = e["timings"]
        total = sum(v for k, v in t.items() if k != "ssl" and v >= 0)
        if abs(total - e["time"]) > 0.002:
            sys.exit("entry %d: time %s, timings add up to %s" %
                     (i, e["time"], total))
        if t["ssl"] >= 0 and t["connect"] < t["ssl"]:
            sys.exit("entry %d: ssl is not inside connect" % i)


def times(records, events, harpath):
    recs = json.load(open(records))["requests"]
    entries = json.load(open(harpath))["log"]["entries"]
    evs = {}
    for tr in json.load(open(events))["traces"]:
        for e in tr.get("events", []):
            evs.setdefault((tr["file"], tr["trace_id"]), []).append(e)
    if len(recs) != len(entries):
        sys.exit("%d records, %d HAR entries" % (len(recs), len(entries)))
    for i, (r, e) in enumerate(zip(recs, entries)):
        out = "write" if r["role"] != "server" else "read"
        back = "read" if out == "write" else "write"
        mine = evs.get((r["file"], r["trace_id"]), [])
        at = {k: set(ns(x["time"]) for x in mine if x["kind"] == k)
              for k in ("read", "write")}
        closes = set(ns(x["time"]) for x in mine)
        tm = r["times"]
        for key, kind in (("request_start", out), ("request_end", out),
                          ("response_start", back),
                          ("response_end", back)):
            v = tm[key]
            if v is None:
                continue
            if ns(v) not in at[kind] and not (key == "response_end" and
                                               ns(v) in closes):
                sys.exit("record %d: %s %s is no %s event's time" %
                         (i, key, v, kind))
        t = e["timings"]
        span = {k: ns(tm[k]) for k in ("request_start", "request_end",
                                       "response_start", "response_end")
                if tm[k] is not None}
        # A response that overlaps its request (100 Continue): HAR's wait
        # is 0 and its receive starts when the request is sent.
        if "response_start" in span and "request_end" in span:
            span["response_start"] = max(span["response_start"],
                                         span["request_end"])
        for name, a, b in (("send", "request_start", "request_end"),
                           ("wait", "request_end", "response_start"),
                           ("receive", "response_start", "response_end")):
            if a not in span or b not in span:
                continue
            want = (span[b] - span[a]) / 1e6
            if abs(t[name] - want) > 0.0011:
                sys.exit("record %d: HAR %s %s, the events say %.6f" %
                         (i, name, t[name], want))
        if not r["reused"]:
            for name, key in (("dns", "dns_ns"), ("connect", "connect_ns"),
                              ("ssl", "tls_ns")):
                if tm[key] is None:
                    continue
                want = tm[key] / 1e6
                if name == "connect" and tm["tls_ns"] is not None:
                    want += tm["tls_ns"] / 1e6
                if abs(t[name] - want) > 0.0011:
                    sys.exit("record %d: HAR %s %s, the trace says %.6f" %
                             (i, name, t[name], want))


def keys(man, *files):
    doc = open(man).read()
    known = set(k for line in re.findall(r'^\.It Li .*$', doc, re.M)
                for k in re.findall(r'Li (\w+)', line))
    bad = set()

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if k not in known:
                    bad.add(k)
                if k != "headers":
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    for f in files:
        walk(json.load(open(f)))
    if bad:
        sys.exit("fields tapdump(1) does not document: %s" % sorted(bad))


def access(records, log):
    recs = json.load(open(records))["requests"]
    got = sorted('"%s %s %s" %s' % (r["method"], r["path"], r["version"],
                                     r["status"]) for r in recs)
    want = sorted(line.strip() for line in open(log) if line.strip())
    if got != want:
        sys.exit("tapdump: %s\nnginx:   %s" % (got, want))


if __name__ == "__main__":
    {"har": har, "times": times, "keys": keys, "access": access}[
        sys.argv[1]](*sys.argv[2:])
