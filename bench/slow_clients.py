#!/usr/bin/python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Slow clients against `liaison serve` on 127.0.0.1 (bench/load.sh, part 2).

N connections from 127.0.0.2-.6 each send a request's headers one byte every
second and reconnect when the server cuts them; meanwhile one normal client
on 127.0.0.1 asks for PATH once every 0.2 s. Prints how many slow
connections were open (sampled), how often the server cut them, and the
normal client's answered / failed counts and latencies.

    slow_clients.py PORT N SECONDS KEY PATH
"""
import selectors
import socket
import sys
import threading
import time
import urllib.request

port, n, secs, key, path = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
REQ = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/taxii+json;version=2.1\r\n"
       b"Authorization: Bearer " + key.encode() + b"\r\n\r\n")
stop = time.monotonic() + secs
stats = {"opened": 0, "cut": 0, "refused": 0, "open_samples": []}


def connect(i):
    s = socket.socket()
    s.setblocking(False)
    s.bind(("127.0.0.%d" % (2 + i % 5), 0))
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    stats["opened"] += 1
    return s


def slow():
    sel = selectors.DefaultSelector()
    conns = {}
    for i in range(n):
        conns[i] = [connect(i), 0]
        sel.register(conns[i][0], selectors.EVENT_READ, i)
    next_byte = time.monotonic()
    while time.monotonic() < stop:
        for k, _ in sel.select(timeout=0.1):
            i = k.data
            s = conns[i][0]
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:  # cut (or refused): reconnect
                stats["cut"] += 1
                sel.unregister(s)
                s.close()
                conns[i] = [connect(i), 0]
                sel.register(conns[i][0], selectors.EVENT_READ, i)
        if time.monotonic() >= next_byte:
            next_byte += 1.0
            live = 0
            for i, c in conns.items():
                try:
                    if c[1] < len(REQ) - 2:  # never finish the headers
                        c[0].send(REQ[c[1]:c[1] + 1])
                        c[1] += 1
                    live += 1
                except OSError:
                    pass
            stats["open_samples"].append(live)
    for c in conns.values():
        c[0].close()


def normal(out):
    while time.monotonic() < stop:
        t0 = time.monotonic()
        try:
            r = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers={
                "Accept": "application/taxii+json;version=2.1", "Authorization": "Bearer " + key})
            with urllib.request.urlopen(r, timeout=5) as resp:
                resp.read()
                out.append(("ok", time.monotonic() - t0))
        except Exception as e:  # noqa: BLE001 - every failure counts
            out.append((type(e).__name__, time.monotonic() - t0))
        time.sleep(0.2)


res = []
t = threading.Thread(target=normal, args=(res,))
t.start()
slow()
t.join()
ok = sorted(d for r, d in res if r == "ok")
bad = [r for r, _ in res if r != "ok"]
samples = stats["open_samples"] or [0]
print("slow connections: %d asked, %d connects, %d cut by the server, open %d-%d (median %d)" % (
    n, stats["opened"], stats["cut"], min(samples), max(samples), sorted(samples)[len(samples) // 2]))
if ok:
    print("normal client: %d answered, %d failed%s; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (
        len(ok), len(bad), (" (" + ", ".join(sorted(set(bad))) + ")") if bad else "",
        ok[len(ok) // 2] * 1e3, ok[min(len(ok) - 1, int(len(ok) * 0.99))] * 1e3, ok[-1] * 1e3))
else:
    print("normal client: 0 answered, %d failed (%s)" % (len(bad), ", ".join(sorted(set(bad)))))
sys.exit(0 if ok and not bad else 1)
