#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Hostile input for every importer (issue 16 point 3).

    hostile.py [small|full] [CASE ...]

Writes the inputs that users and attackers send (XML external entities and
billion laughs, deeply nested JSON, huge arrays, NUL bytes and invalid
UTF-8, a huge line, a header of 100,000 columns, a file of one quote) and
ingests each with `liaison ingest` ($LIAISON_BIN) into a fresh store. Each
must end with a clear outcome: an error naming what and why (exit 1), or
the rows quarantined with their reason (exit 0 or 3); never a crash (a
signal, a sanitizer report), a hang (the time limit) or silence. Prints one
line per case with the exit code, the wall time, the peak RSS of the
process (wait4) and the first line of its error, then "N passed, N failed".

`small` (the default, run by `make check`, also under ASan) uses sizes that
take seconds; `full` the sizes of the issue (a 100 MB line, a 1 GB file of
one quote, 10^6-element arrays, 100,000-deep nesting), whose figures are in
docs/security.md. Memory is reported, not asserted: targets live in the
figures, not in tests.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SCALE = {
    "small": dict(line=4 << 20, quote=16 << 20, deep=100000, elems=100000, cols=100000),
    "full": dict(line=100 << 20, quote=1 << 30, deep=100000, elems=1000000, cols=100000),
}

MB = 1 << 20


def write_repeat(path, head, unit, total, tail=b""):
    """head, then unit repeated until about total bytes, then tail."""
    with open(path, "wb") as f:
        f.write(head)
        block = unit * max(1, (1 << 20) // max(1, len(unit)))
        left = total
        while left > 0:
            chunk = block[:left] if left < len(block) else block
            f.write(chunk)
            left -= len(chunk)
        f.write(tail)


def gen_xxe(p, s):
    with open(p, "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<!DOCTYPE IODEF-Document [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
                '<IODEF-Document version="2.00" xml:lang="en" xmlns="urn:ietf:params:xml:ns:iodef-2.0">\n'
                ' <Incident purpose="reporting" restriction="green">\n'
                '  <IncidentID name="csirt.example">&xxe;</IncidentID>\n'
                '  <GenerationTime>2026-11-01T00:00:00Z</GenerationTime>\n'
                '  <Contact role="creator" type="organization"><ContactName>&xxe;</ContactName></Contact>\n'
                '  <EventData><Flow><System category="source"><Node><Address category="ipv4-addr">'
                '192.0.2.1</Address></Node></System></Flow></EventData>\n'
                ' </Incident>\n</IODEF-Document>\n')


def gen_laughs(p, s):
    ents = ['<!ENTITY lol "lol">']
    for i in range(1, 10):
        prev = "lol" if i == 1 else "lol%d" % (i - 1)
        ents.append('<!ENTITY lol%d "%s">' % (i, ("&%s;" % prev) * 10))
    with open(p, "w") as f:
        f.write('<?xml version="1.0"?>\n<!DOCTYPE IODEF-Document [ %s ]>\n' % " ".join(ents))
        f.write('<IODEF-Document version="2.00" xmlns="urn:ietf:params:xml:ns:iodef-2.0">'
                '<Incident purpose="reporting"><IncidentID name="x">&lol9;</IncidentID>'
                '<GenerationTime>2026-11-01T00:00:00Z</GenerationTime></Incident></IODEF-Document>\n')


def gen_deep_xml(p, s):
    n = s["deep"]
    with open(p, "w") as f:
        f.write('<?xml version="1.0"?>\n<IODEF-Document version="2.00" '
                'xmlns="urn:ietf:params:xml:ns:iodef-2.0">')
        f.write("<Incident>" * n + "</Incident>" * n + "</IODEF-Document>\n")


def gen_deep_json(p, s):
    n = s["deep"]
    with open(p, "w") as f:
        f.write("[" * n + "]" * n + "\n")


def gen_deep_stix(p, s):
    n = s["deep"]
    with open(p, "w") as f:
        f.write('{"type":"bundle","id":"bundle--6b0c8a0e-0d3d-4b8b-9a1e-1f0e6f0c1a2b","objects":[')
        f.write('{"type":"indicator","x":' + "[" * n + "]" * n + "}]}\n")


def gen_stix_array(p, s):
    n = s["elems"]
    with open(p, "w") as f:
        f.write('{"type":"bundle","id":"bundle--6b0c8a0e-0d3d-4b8b-9a1e-1f0e6f0c1a2b","objects":[')
        f.write(",".join(["1"] * n))
        f.write("]}\n")


def gen_misp_array(p, s):
    n = s["elems"]
    with open(p, "w") as f:
        f.write('{"Event":{"uuid":"5e0c8a0e-0d3d-4b8b-9a1e-1f0e6f0c1a2b","info":"hostile",'
                '"date":"2026-11-01","Attribute":[')
        f.write(",".join(['{"type":"ip-dst","value":"x"}'] * n))
        f.write("]}}\n")


def gen_nul_utf8(p, s):
    with open(p, "wb") as f:
        for i in range(1000):
            f.write(b'{"source.ip": "192.0.2.%d", "classification.type": "scanner", "extra.x": "a\x00b"}\n' % (i % 250))
            f.write(b'{"source.ip": "192.0.2.1", "classification.type": "scanner", "extra.y": "\xff\xfe\xc3("}\n')
            f.write(b'\x00\x00\x00\n')


def gen_line_jsonl(p, s):
    write_repeat(p, b'{"source.ip": "192.0.2.1", "extra.big": "', b"A", s["line"], b'"}\n')


def gen_line_csv(p, s):
    write_repeat(p, b"timestamp,ip,protocol,port\n2026-11-01 00:00:00,192.0.2.1,tcp,", b"9", s["line"], b"\n")


def gen_line_text(p, s):
    write_repeat(p, b"", b"B", s["line"], b"\n")


def gen_header(p, s):
    n = s["cols"]
    with open(p, "w") as f:
        f.write("timestamp,ip," + ",".join("c%d" % i for i in range(n)) + "\n")
        f.write("2026-11-01 00:00:00,192.0.2.1\n")


def gen_quote(p, s):
    write_repeat(p, b"timestamp,ip,protocol,port\n", b'"', s["quote"])


def gen_quote_map(p, s):
    write_repeat(p, b"", b'"', s["quote"])


CSV_MAP = ('{"columns": ["time.source", "source.ip"], '
           '"constants": {"classification.type": "scanner"}}\n')

# name, generator, ingest arguments, expected outcome check
CASES = [
    ("iodef-xxe", gen_xxe, ["--format", "iodef"], "noleak"),
    ("iodef-billion-laughs", gen_laughs, ["--format", "iodef"], None),
    ("iodef-deep", gen_deep_xml, ["--format", "iodef"], None),
    ("jsonl-deep", gen_deep_json, ["--format", "jsonl"], None),
    ("stix-deep", gen_deep_stix, ["--format", "stix"], None),
    ("stix-array", gen_stix_array, ["--format", "stix"], None),
    ("misp-array", gen_misp_array, ["--format", "misp"], None),
    ("jsonl-nul-utf8", gen_nul_utf8, ["--format", "jsonl"], None),
    ("jsonl-line", gen_line_jsonl, ["--format", "jsonl"], None),
    ("shadowserver-line", gen_line_csv, ["--format", "shadowserver", "--report", "scan_ics"], None),
    ("openphish-line", gen_line_text, ["--format", "openphish"], None),
    ("freetext-line", gen_line_text, ["--format", "misp-freetext"], None),
    ("shadowserver-header", gen_header, ["--format", "shadowserver", "--report", "scan_ics"],
     r"limit is 4096"),
    ("shadowserver-quote", gen_quote, ["--format", "shadowserver", "--report", "scan_ics"], None),
    ("csvmap-quote", gen_quote_map, ["--format", "csv", "--map", "MAP"], None),
]

SANITIZER = re.compile(r"AddressSanitizer|runtime error:|LeakSanitizer|Segmentation|Aborted")


def quarantined(binary, db):
    """The first quarantine reason of the store, or None."""
    r = subprocess.run([binary, "--db", db, "quarantine", "--limit", "1"], capture_output=True, text=True,
                       errors="replace")
    text = r.stdout.strip()
    if r.returncode != 0 or not text or "no quarantined" in text.lower():
        return None
    first = text.splitlines()[0]
    return re.sub(r"^#\d+ \S+ \[[^]]*\] ", "", first)


def run_case(binary, tmp, name, gen, args, check, scale, limit):
    path = os.path.join(tmp, name + ".in")
    gen(path, scale)
    db = os.path.join(tmp, name + ".db")
    mp = os.path.join(tmp, "map.json")
    args = [mp if a == "MAP" else a for a in args]
    cmd = [binary, "--db", db, "ingest", "--feed", "hostile"] + args + [path]
    if "--format" in args and args[args.index("--format") + 1] == "shadowserver":
        cmd.remove("--feed")
        cmd.remove("hostile")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=limit)
        hung = False
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        hung = True
    wall = time.monotonic() - t0
    err = err.decode("utf-8", "replace")
    text = out.decode("utf-8", "replace") + err
    first = next((ln for ln in err.splitlines() if ln.startswith("liaison:")), "")
    summary = next((ln for ln in text.splitlines() if "rows read" in ln), "")
    m = re.search(r"(\d+) rows read, (\d+) events stored, (\d+) quarantined", summary)
    reason = quarantined(binary, db) if not hung else None
    if not first and m:
        first = "%s rows, %s events, %s quarantined" % m.groups()
        if reason:
            first += ": " + reason
    size = os.path.getsize(path)
    os.unlink(path)
    rc = p.returncode
    why = []
    if hung:
        why.append("no answer within %d s" % limit)
    elif rc < 0 or rc >= 128:
        why.append("killed by signal %d" % (-rc if rc < 0 else rc - 128))
    if SANITIZER.search(err):
        why.append("sanitizer report: " + SANITIZER.search(err).group(0))
    if not hung and rc == 1 and not first.startswith("liaison:"):
        why.append("exit 1 without a 'liaison: ...' error line")
    if not hung and rc == 0 and not reason and check != "noleak":
        # accepted whole: fine only if something was stored
        ev = subprocess.run([binary, "--db", db, "events", "--format", "json", "--limit", "1"], capture_output=True, text=True,
                            errors="replace")
        if not ev.stdout.strip():
            why.append("exit 0 with nothing stored and nothing quarantined (silence)")
    if rc not in (0, 1, 3) and not why:
        why.append("unexpected exit %d" % rc)
    if check == "noleak":
        ev = subprocess.run([binary, "--db", db, "events", "--format", "json"], capture_output=True, text=True,
                            errors="replace")
        q = subprocess.run([binary, "--db", db, "quarantine"], capture_output=True, text=True, errors="replace")
        if "root:" in ev.stdout + q.stdout + err:
            why.append("the external entity was expanded (/etc/passwd in the output)")
    elif check and not re.search(check, err):
        why.append("expected '%s' in the error" % check)
    return rc, wall, size, first, why


def peak_rss_kb():
    import resource
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main():
    argv = sys.argv[1:]
    scale_name = argv.pop(0) if argv and argv[0] in SCALE else "small"
    scale = SCALE[scale_name]
    only = set(argv)
    binary = os.environ.get("LIAISON_BIN") or "build/src/cli/liaison"
    limit = 120 if scale_name == "small" else 900
    tmp = tempfile.mkdtemp(prefix="lia-hostile-")
    passed = failed = 0
    try:
        with open(os.path.join(tmp, "map.json"), "w") as f:
            f.write(CSV_MAP)
        print("%-22s %5s %8s %10s %9s  %s" % ("case", "exit", "wall s", "input MB", "peak MB", "outcome (the error, or rows and the first reason)"))
        for name, gen, args, check in CASES:
            if only and name not in only:
                continue
            # each case in its own process tree: fork a runner so that
            # RUSAGE_CHILDREN of the runner is this case's peak alone
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                res = run_case(binary, tmp, name, gen, args, check, scale, limit)
                import json
                os.write(w, json.dumps(list(res) + [peak_rss_kb()]).encode())
                os._exit(0)
            os.close(w)
            data = b""
            while True:
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                data += chunk
            os.close(r)
            os.waitpid(pid, 0)
            import json
            rc, wall, size, first, why, rss = json.loads(data)
            print("%-22s %5d %8.2f %10.1f %9.1f  %s" % (name, rc, wall, size / MB, rss / 1024.0, first[:140]))
            for w_ in why:
                print("FAIL %s: %s" % (name, w_))
            if why:
                failed += 1
            else:
                passed += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
