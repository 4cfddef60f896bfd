#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
# Issue 12 point 1, the design question before time partitions: does the
# cost of an insert into the events table grow with the store, and does a
# table per partition (a day, or a bounded segment) keep it flat? SQLite
# only (Python's sqlite3, the same library), the events table and its six
# indexes exactly as src/store/events.c declares them, Shadowserver-shaped
# rows (random source IPs, times within the partition's day, 36 countries,
# 20,000 ASNs, a 300-byte body), one transaction per 65,536 rows (ingest
# commits per LIA_COMMIT_EVENTS), no fsync. Prints the rate of each successive million rows.
#
#   bench/partitions.py single|parted DB MILLIONS [CACHE_MB=64] [PART_MILLIONS=1]
import os, random, sqlite3, sys, time

mode, path, millions = sys.argv[1], sys.argv[2], int(sys.argv[3])
cache_mb = int(sys.argv[4]) if len(sys.argv) > 4 else 64
part_m = int(sys.argv[5]) if len(sys.argv) > 5 else 1
for f in (path, path + "-wal", path + "-shm"):
    if os.path.exists(f):
        os.remove(f)
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=OFF")  # the cost of the indexes, not of fsync
db.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")

def create(name):
    db.executescript(f"""
CREATE TABLE {name}(id INTEGER PRIMARY KEY, report_id INTEGER NOT NULL, line INTEGER NOT NULL,
  time INTEGER, src_ip BLOB, src_asn INTEGER, src_cc TEXT, class INTEGER, tlp INTEGER, body TEXT NOT NULL);
CREATE INDEX {name}_time ON {name}(time);
CREATE INDEX {name}_src_ip ON {name}(src_ip);
CREATE INDEX {name}_src_cc ON {name}(src_cc);
CREATE INDEX {name}_src_asn ON {name}(src_asn);
CREATE INDEX {name}_class ON {name}(class);
CREATE INDEX {name}_report ON {name}(report_id, line);""")

ccs = ["US", "IN", "BR", "DE", "RU", "VN", "ID", "TH", "MY", "PK", "AE", "HK", "KH", "SG", "NL", "FR", "GB", "JP",
       "KR", "TR", "IR", "EG", "NG", "ZA", "MX", "AR", "CO", "PL", "IT", "ES", "UA", "PH", "BD", "SA", "KZ", "CN"]
rnd = random.Random(1)
body = "x" * 300
day_us = 86400 * 1000000
t0_us = 1_790_000_000 * 1000000
table = "events"
if mode == "single":
    create(table)
next_id = 1
batch = 65536
per_m = 1_000_000
for m in range(millions):
    if mode == "parted" and m % part_m == 0:
        table = f"events_p{m // part_m}"
        create(table)
    day = t0_us + (m // part_m) * day_us
    t = time.perf_counter()
    done = 0
    while done < per_m:
        rows = []
        for _ in range(batch):
            ip = b"\0" * 10 + b"\xff\xff" + rnd.getrandbits(32).to_bytes(4, "big")
            rows.append((next_id, m + 1, done, day + rnd.randrange(day_us), ip, rnd.randrange(20000),
                         ccs[rnd.randrange(36)], rnd.randrange(30), 2, body))
            next_id += 1
            done += 1
        db.execute("BEGIN")
        db.executemany(f"INSERT INTO {table} VALUES(?,?,?,?,?,?,?,?,?,?)", rows)
        db.execute("COMMIT")
    dt = time.perf_counter() - t
    print(f"{mode}: million {m + 1}: {per_m / dt:,.0f} rows/s", flush=True)
