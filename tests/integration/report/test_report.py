#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""liaison report build (docs/reports.md), end to end through the CLI.

Real Shadowserver samples (tests/data/intelmq) are ingested into a new store,
their timestamps moved into November and October 2026 (the rows otherwise as
they are), some copies marked TLP:CLEAR and one TLP:RED. Incidents and
hand-offs to two partner CERTs get known times, set in the store directly as
tests/unit/incident/test_metrics.c does. The report is built as CSV and HTML
and its numbers are recomputed: the events of the month and of the month
before from `liaison events --format jsonl` (lia_store_query over the raw
events) by classification, feed, country, ASN and IoT/ICS sector, protocol
and product; the hand-offs' medians and 90th percentiles (nearest rank) from
the times set; breaches from `liaison sla breaches`; incidents opened and
closed. At TLP:CLEAR only the CLEAR events count; a report for a partner
names no other partner (unless its entry says stats_shared) and no owner.
With chromium installed the PDF is checked too (`pdftotext` when present).
"""
import csv
import io
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

LIA = os.environ["LIAISON_BIN"]
DATA = os.path.join(os.environ["LIAISON_TESTDATA"], "intelmq", "shadowserver", "intelmq-3.2.1", "testdata")
SAMPLES = ["scan_ics", "scan_mqtt", "scan_coap", "scan_http", "scan_telnet", "event4_sinkhole"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


PG = os.environ.get("LIAISON_TEST_PG", "")  # the report_pg test: the store on PostgreSQL (tests/pg/with_pg.sh)


def sql_exec(db, statements):
    """Run [(sql with ? placeholders, params)] on the store: sqlite3, or psql
    on PostgreSQL (the params, integers or None, written as literals)."""
    if not PG:
        con = sqlite3.connect(db)
        for q, params in statements:
            con.execute(q, params)
        con.commit()
        con.close()
        return
    text = []
    for q, params in statements:
        parts = q.split("?")
        assert len(parts) == len(params) + 1, q
        lit = ["NULL" if v is None else str(int(v)) for v in params]
        text.append("".join(a + b for a, b in zip(parts, lit + [""])) + ";")
    subprocess.run(["/usr/lib/postgresql/15/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", db, "-c",
                    "BEGIN;" + "".join(text) + "COMMIT;"], check=True)


def run(db, *args, ok=True):
    p = subprocess.run([LIA, "--db", db] + list(args), capture_output=True, text=True)
    if ok and p.returncode != 0:
        sys.exit("liaison %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def moved(src, dst, month, shift):
    """The sample with every timestamp moved into month (YYYY-MM), the day
    shifted by shift (so copies differ), the time of day kept."""
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    col = head.index("timestamp")
    for r in rows[1:]:
        m = re.match(r"^(\d{4})-(\d{2})-(\d{2})(.*)$", r[col])
        day = (int(m.group(3)) + shift - 1) % 28 + 1
        r[col] = "%s-%02d%s" % (month, day, m.group(4))
    with open(dst, "w", newline="") as f:
        csv.writer(f, quoting=csv.QUOTE_MINIMAL).writerows(rows)


def sections(text):
    """The CSV report as {section id: [rows as dicts]}."""
    out, name, lines = {}, None, []
    for line in text.replace("\r\n", "\n").split("\n") + [""]:
        if line.startswith("## "):
            name, lines = line[3:].split(":")[0], []
        elif line == "" and name is not None:
            out[name] = list(csv.DictReader(io.StringIO("\n".join(lines))))
            name = None
        elif name is not None:
            lines.append(line)
    return out


def events(db, since, until):
    p = run(db, "events", "--since", since, "--until", until, "--format", "jsonl")
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()]


def allowed_own(tlp, label):
    """The TLP policy for our own team (src/route/tlp.h): RED never, else up to the label."""
    order = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
    t = tlp or "AMBER"
    return t != "RED" and order.index(t) <= order.index(label)


def counts(evs, key):
    c = {}
    for e in evs:
        k = key(e)
        if k is None:
            continue
        for one in k if isinstance(k, list) else [k]:
            c[one] = c.get(one, 0) + 1
    return c


def sectors(e):
    s = e.get("extra.sector")
    vals = s if isinstance(s, list) else [s]
    return [v.lower() for v in vals if isinstance(v, str) and v.lower() in ("iot", "ics")]


def protocol(e):
    return e.get("extra.ics_protocol") or e.get("protocol.application") or "(none)"


def product(e):
    if e.get("extra.product") is not None:
        return str(e["extra.product"])
    vm = (str(e.get("extra.device_vendor") or "") + " " + str(e.get("extra.device_model") or "")).strip()
    return vm or "(none)"


def nearest(v, p):
    if not v:
        return -1
    v = sorted(v)
    return v[max(0, math.ceil(p * len(v) / 100) - 1)]


def pdf_checks(db, work, chromium):
    """The PDF printed by chromium: a PDF, its text (pdftotext if present)
    with the label on every page; without chromium a clear error."""
    out = os.path.join(work, "own.pdf")
    p = run(db, "report", "build", "--period", "2026-11", "--format", "pdf", "--out", out, ok=False)
    check(p.returncode == 0, "pdf: %s" % p.stderr)
    if p.returncode == 0:
        data = open(out, "rb").read()
        check(data.startswith(b"%PDF") and len(data) > 20000, "pdf header and size (%d bytes)" % len(data))
        if shutil.which("pdftotext"):
            t = subprocess.run(["pdftotext", out, "-"], capture_output=True, text=True).stdout
            pages = t.count("\f") or 1
            check(t.count("TLP:AMBER") >= pages, "pdf: the label on each of %d pages" % pages)
            check("Monthly statistics report" in t, "pdf text")
        else:
            print("pdftotext absent: the PDF's header and size checked only")
    env = dict(os.environ, LIAISON_CHROMIUM=os.path.join(work, "no-chromium"))
    p = subprocess.run([LIA, "--db", db, "report", "build", "--period", "2026-11", "--format", "pdf", "--out",
                        os.path.join(work, "x.pdf")], capture_output=True, text=True, env=env)
    check(p.returncode == 1 and "chromium" in p.stderr and not os.path.exists(os.path.join(work, "x.pdf")),
          "pdf without chromium: %s" % p.stderr.strip())
    if failures:
        print("%d failures" % len(failures))
        return 1
    print("ok")
    return 0


def main():
    pdf_only = "pdf" in sys.argv[1:]
    chromium = os.environ.get("LIAISON_CHROMIUM", "/usr/bin/chromium")
    if pdf_only and not os.access(chromium, os.X_OK):
        print("skip: no chromium at %s" % chromium)
        return 77
    work = tempfile.mkdtemp(prefix="liaison-report-test-")
    db = PG or os.path.join(work, "store.db")
    print("the store:", "PostgreSQL" if PG else "SQLite", db)
    if PG:
        os.environ["LIAISON_ARCHIVE_DIR"] = os.path.join(work, "archive")
    try:
        with open(os.path.join(work, "partners.yaml"), "w") as f:
            f.write("partners:\n"
                    "  - id: cert-aa\n    name: \"CERT Alpha\"\n    countries: [ZZ]\n"
                    "    contacts: [soc@aa.example]\n    agreement: true\n    tlp_max: AMBER\n"
                    "  - id: cert-bb\n    name: \"CERT Bravo\"\n    countries: [US]\n"
                    "    contacts: [soc@bb.example]\n    agreement: true\n    stats_shared: true\n"
                    "  - id: cert-cc\n    name: \"CERT Charlie\"\n    countries: [FR]\n"
                    "    contacts: [soc@cc.example]\n    agreement: false\n")
        with open(os.path.join(work, "route.yaml"), "w") as f:
            f.write("home_country: CN\nmode: first\n")
        run(db, "partners", "import", os.path.join(work, "partners.yaml"))
        run(db, "route", "load", os.path.join(work, "route.yaml"))
        run(db, "owners", "add", "isp-one", "name=ISP One", "cidrs=192.168.0.0/16", "contacts=abuse@isp.example",
            "country=CN")
        # November: every sample (AMBER); ICS and sinkhole again as CLEAR;
        # HTTP again as RED. October: every sample, one day on.
        copies = [("2026-11", 0, "AMBER", SAMPLES), ("2026-11", 3, "CLEAR", ["scan_ics", "event4_sinkhole"]),
                  ("2026-11", 5, "RED", ["scan_http"]), ("2026-10", 1, "AMBER", SAMPLES)]
        for month, shift, tlp, names in copies:
            for n in names:
                dst = os.path.join(work, "%s-%s-%s.csv" % (n, month, tlp))
                moved(os.path.join(DATA, n + ".csv"), dst, month, shift)
                run(db, "ingest", "-q", "--report", n, "--tlp", tlp, "--name", os.path.basename(dst), dst)

        # incidents and hand-offs with known times (seconds after t0)
        t0 = 1793491200 * 1000000  # 2026-11-01T00:00:00Z
        day = 86400 * 1000000
        plan = [  # recipient, tlp, notified, acknowledged, resolved (s after t0; None: not)
            ("cert-aa", "AMBER", 3600, 3600 + 600, 3600 + 7200),
            ("cert-aa", "AMBER", 7200, 7200 + 1800, None),
            ("cert-aa", "GREEN", 10800, 10800 + 60, 10800 + 86400),
            ("cert-aa", "RED", 20000, 20000 + 5, 20000 + 10),  # never counted
            ("cert-bb", "AMBER", 4000, 4000 + 300, 4000 + 900),
            ("cert-bb", "CLEAR", 5000, 5000 + 3000, None),
            ("cert-bb", "AMBER", -5 * 86400, -5 * 86400 + 100, None),  # October: not this period
            ("cert-cc", "CLEAR", 9000, None, None),
        ]
        ids = []
        for rcpt, tlp, *_ in plan:
            p = run(db, "incident", "create", "--title", "report test " + rcpt, "--tlp", tlp, "--recipient", rcpt,
                    "--severity", "high")
            ids.append(int(re.search(r"(\d+)", p.stdout).group(1)))
        stmts = []
        for (rcpt, tlp, n, a, r), i in zip(plan, ids):
            us = lambda s: None if s is None else t0 + s * 1000000
            state = 3 if r is not None else 2 if a is not None else 1
            stmts.append(("UPDATE handoff SET state = ?, notified = ?, acknowledged = ?, resolved = ? "
                          "WHERE incident_id = ? AND recipient = '%s'" % rcpt, (state, us(n), us(a), us(r), i)))
            stmts.append(("UPDATE incident SET created = ?, updated = ? WHERE id = ?", (us(n) - 60000000,
                                                                                       us(n) - 60000000, i)))
        # two incidents closed in November, one of them opened in October
        stmts.append(("UPDATE incident SET status = 6, updated = ? WHERE id IN (?, ?)", (t0 + 10 * day, ids[0], ids[6])))
        sql_exec(db, stmts)

        if pdf_only:
            return pdf_checks(db, work, chromium)
        # ---- the report for our own team, CSV ----
        out = os.path.join(work, "own.csv")
        run(db, "report", "build", "--period", "2026-11", "--format", "csv", "--out", out, "--top", "50")
        rep = sections(open(out, encoding="utf-8").read())
        nov = [e for e in events(db, "2026-11-01", "2026-12-01") if allowed_own(e.get("tlp"), "AMBER")]
        octo = [e for e in events(db, "2026-10-01", "2026-11-01") if allowed_own(e.get("tlp"), "AMBER")]
        check(len(nov) > 15 and len(octo) > 10, "samples stored: %d in November, %d in October" % (len(nov), len(octo)))
        head = {r["key"]: r["value"] for r in rep["report"]}
        check(int(head["events"]) == len(nov), "events %s, recomputed %d" % (head["events"], len(nov)))
        check(int(head["events_last_period"]) == len(octo),
              "last period %s, recomputed %d" % (head["events_last_period"], len(octo)))
        check(head["tlp"] == "TLP:AMBER", "label " + head["tlp"])
        for sec, key in [("by_class", lambda e: e.get("classification.type", "(none)")),
                         ("by_feed", lambda e: e["feed.name"]), ("exposure_sector", sectors)]:
            want_now, want_prev = counts(nov, key), counts(octo, key)
            got = {r[list(r)[0]]: (int(r["this_period"]), int(r["last_period"])) for r in rep[sec]}
            want = {k: (want_now.get(k, 0), want_prev.get(k, 0)) for k in set(want_now) | set(want_prev)}
            check(got == want, "%s: %s, recomputed %s" % (sec, got, want))
        for sec, key in [("countries", lambda e: e.get("source.geolocation.cc", "--")),
                         ("asns", lambda e: str(e.get("source.asn", 0))),
                         ("ics_protocol", lambda e: protocol(e) if "ics" in sectors(e) else None),
                         ("iot_protocol", lambda e: protocol(e) if "iot" in sectors(e) else None),
                         ("ics_product", lambda e: product(e) if "ics" in sectors(e) else None)]:
            want = counts(nov, key)
            got = {r[list(r)[1]]: int(r["events"]) for r in rep[sec]}
            check(got == want, "%s: %s, recomputed %s" % (sec, got, want))
        check(any(r["owner"] == "isp-one" for r in rep["owners"]), "owners: %s" % rep["owners"])

        # hand-offs: notified in November, the RED incident left out
        def want_handoffs(rcpt, label="AMBER"):
            rows = [(n, a, r) for (p, t, n, a, r) in plan if p == rcpt and 0 <= n < 30 * 86400
                    and allowed_own(t, label)]
            acks = [a - n for n, a, r in rows if a is not None]
            ress = [r - n for n, a, r in rows if r is not None]
            return [len(rows), len(acks), len(ress), nearest(acks, 50), nearest(acks, 90), nearest(ress, 50),
                    nearest(ress, 90)]
        names = {"cert-aa": "CERT Alpha", "cert-bb": "CERT Bravo", "cert-cc": "CERT Charlie"}
        breaches = json.loads(run(db, "sla", "breaches", "--at", "2026-12-01T00:00:00Z", "--format", "json").stdout)
        blist = breaches if isinstance(breaches, list) else breaches.get("breaches", [])
        red = set(ids[3:4])
        for rcpt, name in names.items():
            row = [r for r in rep["handoffs"] if r["partner"] == name]
            check(len(row) == 1, "handoffs: one row for %s: %s" % (name, rep["handoffs"]))
            if not row:
                continue
            r = row[0]
            got = [int(r[k]) for k in ["handoffs", "acknowledged", "resolved", "ack_p50", "ack_p90", "resolve_p50",
                                       "resolve_p90"]]
            check(got == want_handoffs(rcpt), "handoffs %s: %s, recomputed %s" % (rcpt, got, want_handoffs(rcpt)))
            wb = [b for b in blist if b["recipient"] == rcpt and b["incident"] not in red]
            gb = int(r["breach_ack"]) + int(r["breach_resolve"])
            check(gb == len(wb), "breaches %s: %d, from sla breaches %d" % (rcpt, gb, len(wb)))
        # incidents: created a minute before their notification
        opened = sum(1 for (p, t, n, a, r) in plan if 0 <= n * 1000000 - 60000000 < 30 * day and t != "RED")
        check(int(head["incidents_opened"]) == opened, "opened %s, recomputed %d" % (head["incidents_opened"], opened))
        check(int(head["incidents_closed"]) == 2, "closed %s, want 2" % head["incidents_closed"])

        # ---- TLP:CLEAR: only the CLEAR events, the CLEAR incidents ----
        out = os.path.join(work, "clear.csv")
        run(db, "report", "build", "--period", "2026-11", "--format", "csv", "--out", out, "--tlp", "CLEAR")
        rep = sections(open(out, encoding="utf-8").read())
        head = {r["key"]: r["value"] for r in rep["report"]}
        nclear = sum(1 for e in nov if e.get("tlp") == "CLEAR")
        check(nclear > 0 and int(head["events"]) == nclear, "CLEAR events %s, recomputed %d" % (head["events"], nclear))
        row = [r for r in rep["handoffs"] if r["partner"] == "CERT Bravo"]
        check(bool(row) and int(row[0]["handoffs"]) == want_handoffs("cert-bb", "CLEAR")[0] == 1,
              "CLEAR hand-offs of cert-bb: %s" % row)

        # ---- HTML: the same totals, the label, the map, zh ----
        out = os.path.join(work, "own.html")
        run(db, "report", "build", "--period", "2026-11", "--format", "html", "--out", out)
        html = open(out, encoding="utf-8").read()
        check(html.count("TLP:AMBER") >= 2 and "position: fixed" in html, "HTML: the label at the top and on every page")
        check(('<b id="total">%d</b>' % len(nov)) in html, "HTML total")
        check("<script" not in html and "<link" not in html and "src=\"http" not in html, "HTML self-contained")
        check("<svg class=\"map\"" in html, "HTML: the world map")
        check("CERT Alpha" in html and "CERT Bravo" in html, "HTML league table names the partners")
        out = os.path.join(work, "zh.html")
        run(db, "report", "build", "--period", "2026-11", "--format", "html", "--lang", "zh", "--out", out)
        zh = open(out, encoding="utf-8").read()
        check("月度统计报告" in zh, "zh HTML")
        # countries named in the report's language, the code beside the name (CSV keeps codes)
        check("<td class=\"t\">United States of America (US)</td>" in html and "<td class=\"t\">ZZ</td>" in html,
              "HTML names the countries in English")
        check("<td class=\"t\">美国 (US)</td>" in zh, "zh HTML names the countries in Chinese")

        # ---- for a partner: itself only; stats_shared: the others too ----
        for fmt in ["csv", "html"]:
            out = os.path.join(work, "aa." + fmt)
            run(db, "report", "build", "--period", "2026-11", "--format", fmt, "--for", "cert-aa", "--out", out)
            text = open(out, encoding="utf-8").read()
            for other in ["cert-bb", "CERT Bravo", "cert-cc", "CERT Charlie", "isp-one", "ISP One"]:
                check(other not in text, "report for cert-aa (%s) names %s" % (fmt, other))
            check("CERT Alpha" in text, "report for cert-aa (%s) has its own row" % fmt)
        out = os.path.join(work, "bb.csv")
        run(db, "report", "build", "--period", "2026-11", "--format", "csv", "--for", "cert-bb", "--out", out)
        text = open(out, encoding="utf-8").read()
        check("CERT Alpha" in text and "CERT Bravo" in text, "cert-bb (stats_shared) sees the league table")
        check("isp-one" not in text, "cert-bb sees no owner")

        # ---- an older store: the rollups built by the upgrade equal those kept at ingest ----
        # (SQLite: the store file copied and taken back to the old schema)
        if not PG:
            own = open(os.path.join(work, "own.csv"), encoding="utf-8").read()
            old = os.path.join(work, "old.db")
            shutil.copy(db, old)
            con = sqlite3.connect(old)
            con.executescript("DROP TABLE events_by_month; DROP TABLE route_delivered_month;"
                              "UPDATE lia_schema SET version = 1 WHERE module = 'store.rollup';"
                              "UPDATE lia_schema SET version = 2 WHERE module = 'route';")
            con.commit()
            con.close()
            out = os.path.join(work, "old.csv")
            run(old, "report", "build", "--period", "2026-11", "--format", "csv", "--out", out, "--top", "50")
            check(open(out, encoding="utf-8").read() == own, "the upgraded store's report differs from the original")

            # ---- a prune takes its events off the rollups: the report equals a recount ----
            con = sqlite3.connect(old)  # received ten days ago
            con.execute("UPDATE reports SET started = started - 864000000000, finished = finished - 864000000000")
            con.commit()
            con.close()
            run(old, "store", "prune", "--older-than", "5d", "--class", "infected-system")
            out = os.path.join(work, "pruned.csv")
            run(old, "report", "build", "--period", "2026-11", "--format", "csv", "--out", out, "--top", "50")
            rep = sections(open(out, encoding="utf-8").read())
            left = [e for e in events(old, "2026-11-01", "2026-12-01") if allowed_own(e.get("tlp"), "AMBER")]
            head = {r["key"]: r["value"] for r in rep["report"]}
            check(len(left) < len(nov) and int(head["events"]) == len(left),
                  "after the prune: %s events, recomputed %d (of %d)" % (head["events"], len(left), len(nov)))
            got = {r["country"]: int(r["events"]) for r in rep["countries"]}
            want = counts(left, lambda e: e.get("source.geolocation.cc", "--"))
            check(got == want, "after the prune, countries %s, recomputed %s" % (got, want))
            got = {r["owner"]: int(r["events"]) for r in rep["owners"]}
            check(got.get("isp-one") == 9, "after the prune, owners %s" % got)

        # ---- sent to a distribution list: each partner its own report, TLP checked ----
        outdir = os.path.join(work, "mail")
        os.mkdir(outdir)
        p = run(db, "report", "send", "--period", "2026-11", "--format", "csv", "--to", "partner:cert-aa",
                "--to", "partner:cert-cc", "--to", "team@own.example", "--to", "head@own.example",
                "--from", "liaison@cert.example", "--dry-run", "--out", outdir)
        check("partner:cert-aa -> soc@aa.example: dry-run" in p.stdout, "send: cert-aa: " + p.stdout)
        check("partner:cert-cc -> -: refused: no sharing agreement" in p.stdout, "send: cert-cc refused: " + p.stdout)
        check("own team -> team@own.example: dry-run" in p.stdout, "send: own team: " + p.stdout)
        mails = sorted(os.listdir(outdir))
        check(mails == ["1.eml", "2.eml"], "send: messages %s" % mails)
        import email
        import email.policy
        for name, to, must, never in [("1.eml", "soc@aa.example", "CERT Alpha", ["CERT Bravo", "isp-one"]),
                                      ("2.eml", "team@own.example, head@own.example", "isp-one", [])]:
            if name not in mails:
                continue
            m = email.message_from_bytes(open(os.path.join(outdir, name), "rb").read(), policy=email.policy.default)
            check(m["To"] == to and m["Subject"].startswith("[TLP:AMBER]") and m["X-Liaison-TLP"] == "AMBER",
                  "send %s: headers %s / %s" % (name, m["To"], m["Subject"]))
            att = [part for part in m.iter_attachments()]
            body = att[0].get_content() if att else ""
            body = body.decode() if isinstance(body, bytes) else body
            check(must in body and all(x not in body for x in never), "send %s: the attachment" % name)
        # through SMTP on 127.0.0.1 (tests/integration/incident/smtp_sink.py), unsigned
        sinkdir = os.path.join(work, "sink")
        os.mkdir(sinkdir)
        sink = subprocess.Popen([sys.executable, os.path.join(os.environ["LIAISON_SOURCE_ROOT"], "tests",
                                 "integration", "incident", "smtp_sink.py"), sinkdir], stdout=subprocess.PIPE,
                                text=True)
        try:
            port = int(sink.stdout.readline())
            p = run(db, "report", "send", "--period", "2026-11", "--format", "html", "--to", "partner:cert-bb",
                    "--from", "liaison@cert.example", "--smtp", "smtp://127.0.0.1:%d" % port, "--unsigned", ok=False)
            check(p.returncode == 0 and "partner:cert-bb -> soc@bb.example: sent" in p.stdout,
                  "send over SMTP: %s %s" % (p.stdout, p.stderr))
            got = os.listdir(sinkdir)
            check(len(got) == 1, "the sink received %s" % got)
            p = run(db, "report", "send", "--period", "2026-11", "--format", "html", "--to", "partner:cert-bb",
                    "--from", "liaison@cert.example", "--smtp", "smtp://127.0.0.1:%d" % port, ok=False)
            check(p.returncode == 1 and "no signing key" in p.stdout, "send unsigned without --unsigned: " + p.stdout)

            # ---- on a schedule: the previous month once, on its day, each entry once ----
            smtp = ["--from", "liaison@cert.example", "--smtp", "smtp://127.0.0.1:%d" % port, "--unsigned"]
            run(db, "report", "schedule", "add", "monthly", "--format", "csv", "--to", "partner:cert-bb",
                "--to", "partner:cert-cc", "--to", "team@own.example", "--first", "2026-11", "--day", "2")
            p = run(db, "report", "schedule", "list")
            check(p.stdout.startswith("monthly\tcsv\ten\tTLP:AMBER\tday 2\tlast -\t")
                  and "partner:cert-bb partner:cert-cc team@own.example" in p.stdout, "schedule list: " + p.stdout)
            before = len(os.listdir(sinkdir))
            p = run(db, "report", "run", "--now", "2026-12-01T23:00:00Z", *smtp)
            check(p.stdout == "" and len(os.listdir(sinkdir)) == before, "run before the day: " + p.stdout)
            p = run(db, "report", "run", "--now", "2026-12-02T06:00:00Z", *smtp, ok=False)
            check(p.returncode == 0 and "monthly 2026-11: partner:cert-bb -> soc@bb.example: sent" in p.stdout
                  and "monthly 2026-11: partner:cert-cc -> -: refused: no sharing agreement" in p.stdout
                  and "monthly 2026-11: own team -> team@own.example: sent" in p.stdout,
                  "run on the day: %s %s" % (p.stdout, p.stderr))
            check(len(os.listdir(sinkdir)) == before + 2, "run on the day: %d messages" % (len(os.listdir(sinkdir)) - before))
            p = run(db, "report", "run", "--now", "2026-12-20T06:00:00Z", *smtp)
            check(p.stdout == "" and len(os.listdir(sinkdir)) == before + 2, "run again the same month: " + p.stdout)
            check("\tlast 2026-11\t" in run(db, "report", "schedule", "list").stdout, "schedule list after the run")
            # a failure is tried again at the next run, and only it
            run(db, "report", "schedule", "add", "retry", "--format", "csv", "--to", "partner:cert-bb",
                "--to", "team@own.example", "--first", "2026-11")
            closed = ["--from", "liaison@cert.example", "--smtp", "smtp://127.0.0.1:1", "--unsigned"]
            p = run(db, "report", "run", "--now", "2026-12-03", *closed, ok=False)
            check(p.returncode == 1 and "retry 2026-11: partner:cert-bb -> soc@bb.example: failed" in p.stdout
                  and "monthly" not in p.stdout, "run with SMTP down: " + p.stdout)
            p = run(db, "report", "run", "--now", "2026-12-04", *smtp)
            check("retry 2026-11: partner:cert-bb -> soc@bb.example: sent" in p.stdout
                  and "retry 2026-11: own team -> team@own.example: sent" in p.stdout and "monthly" not in p.stdout,
                  "run after SMTP is back: " + p.stdout)
            check(len(os.listdir(sinkdir)) == before + 4, "after the retry: %d messages" % (len(os.listdir(sinkdir)) - before))
            # a schedule made now sends nothing for a month whose day has passed
            run(db, "report", "schedule", "add", "late", "--format", "csv", "--to", "team@own.example")
            p = run(db, "report", "run", *smtp)
            check("late" not in p.stdout, "a new schedule sends no past month: " + p.stdout)
        finally:
            sink.kill()
            sink.wait()
        p = run(db, "audit", "list", "--object", "report-schedule/monthly")
        check(p.stdout.count("report-schedule/monthly") == 1, "the schedule is audit-logged: " + p.stdout)
        run(db, "report", "schedule", "remove", "monthly")
        p = run(db, "report", "schedule", "remove", "monthly", ok=False)
        check(p.returncode == 1 and "no such schedule" in p.stderr, "remove twice: " + p.stderr)
        check("monthly" not in run(db, "report", "schedule", "list").stdout, "schedule list after remove")
        for args, what in [(["--day", "31"], "--day"), (["--to", "nobody"], "nobody"), (["--first", "2026-13"], "--first"),
                           (["--format", "doc"], "format")]:
            base = {"--day": ["--format", "csv", "--to", "a@b.example"], "--to": ["--format", "csv"],
                    "--first": ["--format", "csv", "--to", "a@b.example"], "--format": ["--to", "a@b.example"]}[args[0]]
            p = run(db, "report", "schedule", "add", "bad", *base, *args, ok=False)
            check(p.returncode != 0 and what in p.stderr, "schedule add %s: %s" % (args, p.stderr.strip()))
        check("bad" not in run(db, "report", "schedule", "list").stdout, "no bad schedule stored")
        p = run(db, "report", "send", "--period", "2026-11", "--format", "csv", "--to", "partner:cert-zz",
                "--to", "partner:cert-aa", "--dry-run", "--out", outdir, ok=False)
        check(p.returncode == 1 and "cert-zz" in p.stderr and "cert-aa" not in p.stdout,
              "send: an unknown partner stops it before anything goes: " + p.stdout + p.stderr)

        # ---- bad input: clear errors, nothing written ----
        bad = os.path.join(work, "bad.csv")
        for args, what in [(["--period", "2026-13"], "--period"), (["--period", "2026-11", "--lang", "fr"], "--lang"),
                           (["--period", "2026-11", "--for", "cert-zz"], "cert-zz")]:
            p = run(db, "report", "build", "--format", "csv", "--out", bad, *args, ok=False)
            check(p.returncode != 0 and what in p.stderr and not os.path.exists(bad),
                  "bad %s: exit %d, %s" % (args, p.returncode, p.stderr.strip()))

    finally:
        if os.environ.get("KEEP") is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work)
    if failures:
        print("%d failures" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
