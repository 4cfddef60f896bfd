#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
# What the shared rate limit costs (docs/performance.md, "Replicas"): one
# `liaison serve` on 127.0.0.1 with its token buckets in the store (the
# default, a store write per authenticated request) and with --rate-local
# (in the process), alternately ROUNDS times, each for SECS seconds of
# CONNS keep-alive clients asking GET /taxii2/ (the cheapest authenticated
# answer) with one API key whose limit is never reached.
#   bench/rate_shared.py BUILD [DB]     SECS=5 CONNS=4 ROUNDS=3
# DB: a SQLite file (default /tmp/liaison-bench-rate.db, made fresh) or a
# postgresql:// URI; without DB and with $LIAISON_TEST_PG set (run under
# tests/pg/with_pg.sh), that server.
import http.client
import os
import socket
import subprocess
import sys
import threading
import time

build = sys.argv[1] if len(sys.argv) > 1 else "build"
db = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("LIAISON_TEST_PG", "/tmp/liaison-bench-rate.db")
secs = float(os.environ.get("SECS", "5"))
conns = int(os.environ.get("CONNS", "4"))
rounds = int(os.environ.get("ROUNDS", "3"))
liaison = os.path.join(build, "src/cli/liaison")
if not db.startswith("postgres") and os.path.exists(db):
    os.unlink(db)


def L(*a, stdin=None):
    return subprocess.run([liaison, "--db", db] + list(a), input=stdin, capture_output=True, text=True, check=True)


L("accounts", "org-add", "bench", "--kind", "partner")
L("accounts", "user-add", "bench", "bench-user", "--role", "partner")
key = L("accounts", "key-add", "bench-user", "--rate", "1000000", "--burst", "1000000").stdout.strip()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def one(local):
    port = free_port()
    args = [liaison, "--db", db, "serve", "--listen", "127.0.0.1:%d" % port, "--access-log", "/dev/null",
            "--node-sync", "0", "--reports", "0"] + (["--rate-local"] if local else [])
    srv = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        counts = [0] * conns
        bad = [0] * conns
        lat = [0.0] * conns
        stop = time.monotonic() + secs

        def client(i):
            c = http.client.HTTPConnection("127.0.0.1", port)
            h = {"Authorization": "Bearer " + key, "Accept": "application/taxii+json;version=2.1"}
            while time.monotonic() < stop:
                t = time.monotonic()
                c.request("GET", "/taxii2/", headers=h)
                r = c.getresponse()
                r.read()
                lat[i] += time.monotonic() - t
                if r.status == 200:
                    counts[i] += 1
                else:
                    bad[i] += 1
            c.close()

        th = [threading.Thread(target=client, args=(i,)) for i in range(conns)]
        t0 = time.monotonic()
        for t in th:
            t.start()
        for t in th:
            t.join()
        el = time.monotonic() - t0
        n = sum(counts)
        return n / el, 1000.0 * sum(lat) / max(1, n + sum(bad)), sum(bad)
    finally:
        srv.terminate()
        srv.wait()


print("store: %s; %d clients, %g s a run, %d rounds" % ("PostgreSQL" if db.startswith("postgres") else "SQLite",
                                                       conns, secs, rounds))
res = {True: [], False: []}
for r in range(rounds):
    for local in (False, True):
        rps, ms, bad = one(local)
        res[local].append(rps)
        print("round %d %-7s %8.0f req/s  %6.3f ms/req  %d not 200" % (r + 1, "local" if local else "shared", rps, ms,
                                                                     bad), flush=True)
sh = sorted(res[False])[len(res[False]) // 2]
lo = sorted(res[True])[len(res[True]) // 2]
print("median: shared %.0f req/s, local %.0f req/s: shared = %.2f x local; %.1f us more a request" %
      (sh, lo, sh / lo, 1e6 * (1 / sh - 1 / lo) * conns))
