#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Sum up `make check`: every cmocka case, every other test program, every
fuzz target's smoke run, and every step that failed outright. Prints one
closing line "N passed, N failed" and exits non-zero on any failure."""
import json
import os
import re
import sys

CMOCKA_OK = re.compile(r"^\[  PASSED  \] (\d+) test", re.M)
CMOCKA_FAIL = re.compile(r"^\[  FAILED  \] (\d+) test", re.M)
PLAIN = re.compile(r"^(?:\w+: )?(\d+) passed, (\d+) failed", re.M)


def meson_log(build):
    path = os.path.join(build, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        return None
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def main(argv):
    builds = argv[1:3]
    fuzz = argv[3] if len(argv) > 3 else None
    passed = failed = 0
    for b in builds:
        log = meson_log(b)
        if log is None:
            print(f"summary: {b}: no test log (build failed?)")
            failed += 1
            continue
        bp = bf = 0
        for t in log:
            text = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
            ok = t.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
            p = sum(int(x) for x in CMOCKA_OK.findall(text))
            q = sum(int(x) for x in CMOCKA_FAIL.findall(text))
            m = PLAIN.findall(text)
            if p or q:
                bp += p
                bf += q
            elif m:
                bp += int(m[-1][0])
                bf += int(m[-1][1])
            else:
                bp += ok
                bf += not ok
            if not ok and not (q or (m and int(m[-1][1]))):
                bf += 1  # the program failed though its own counts did not say so
        print(f"summary: {b}: {bp} passed, {bf} failed ({len(log)} test programs)")
        passed += bp
        failed += bf
    if fuzz:
        res = os.path.join(fuzz, "fuzz-results.txt")
        if os.path.exists(res):
            fp = ff = 0
            with open(res) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2:
                        if parts[1] == "ok":
                            fp += 1
                        else:
                            ff += 1
            print(f"summary: fuzz smoke: {fp} passed, {ff} failed")
            passed += fp
            failed += ff
        else:
            print("summary: fuzz smoke: no results")
            failed += 1
    if os.path.exists(".check-results"):
        with open(".check-results") as f:
            steps = [s.strip() for s in f if s.strip()]
        for s in steps:
            print(f"summary: step {s}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
