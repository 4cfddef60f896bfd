#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Generate the demo reports in share/demo/ (fictitious sample data).

The rows follow the column layout of Shadowserver's scan_ics and scan_mqtt
reports; addresses are drawn from networks of the named countries and ASNs,
but every row is invented. A few rows are deliberately broken so that the
demo shows quarantine at work. Deterministic: the same output every run.
"""
import json
import random
import sys
from ipaddress import ip_network

R = random.Random(20261127)
NETS = [  # cc, asn, network, region
    ("CN", 4134, "58.208.0.0/12", "JIANGSU"), ("CN", 4837, "123.112.0.0/12", "BEIJING"),
    ("HK", 4760, "112.118.0.0/16", "HONG KONG"), ("AE", 5384, "94.200.0.0/14", "DUBAI"),
    ("PK", 17557, "39.32.0.0/11", "PUNJAB"), ("KH", 38623, "103.197.104.0/22", "PHNOM PENH"),
    ("MY", 4788, "175.136.0.0/13", "SELANGOR"), ("SG", 9506, "116.86.0.0/15", "SINGAPORE"),
    ("US", 7922, "73.0.0.0/8", "CALIFORNIA"), ("DE", 3320, "79.192.0.0/10", "HESSEN"),
    ("NL", 1136, "77.160.0.0/13", "NOORD-HOLLAND"), ("BR", 28573, "177.0.0.0/11", "SAO PAULO"),
    ("IN", 9829, "117.192.0.0/10", "KERALA"), ("VN", 7552, "113.160.0.0/11", "HA NOI"),
    ("ID", 7713, "36.64.0.0/11", "JAKARTA"), ("TH", 23969, "171.96.0.0/13", "BANGKOK"),
]
WEIGHTS = [14, 10, 4, 5, 4, 2, 5, 3, 9, 6, 4, 6, 8, 6, 5, 4]
ICS = [("modbus", 502), ("s7", 102), ("bacnet", 47808), ("dnp3", 20000),
       ("ethernetip", 44818), ("iec-104", 2404), ("fox", 1911), ("opc-ua", 4840)]
VENDORS = ["Schneider Electric", "Siemens", "Rockwell Automation", "Honeywell", "Moxa", "ABB"]


def pick():
    cc, asn, net, region = R.choices(NETS, WEIGHTS)[0]
    n = ip_network(net)
    ip = n.network_address + R.randrange(1, n.num_addresses - 1)
    return cc, asn, str(ip), region


def ts(day="2026-11-27"):
    return f"{day} {R.randrange(24):02d}:{R.randrange(60):02d}:{R.randrange(60):02d}"


def scan_ics(path, rows=1500):
    cols = ["timestamp", "ip", "protocol", "port", "hostname", "tag", "asn", "geo", "region",
            "city", "naics", "sic", "sector", "device_vendor", "device_type", "device_model",
            "device_version", "device_id", "response_size", "raw_response"]
    out = [",".join(f'"{c}"' for c in cols)]
    for i in range(rows):
        cc, asn, ip, region = pick()
        tag, port = R.choice(ICS)
        host = f"host-{ip.replace('.', '-')}.example.net" if R.random() < 0.3 else ""
        vendor = R.choice(VENDORS)
        out.append(",".join([ts(), ip, "tcp", str(port), host, tag, str(asn), cc, region, "",
                             "0", "0", "", f'"{vendor}"', "plc", f"M{R.randrange(100, 999)}",
                             f"{R.randrange(1, 5)}.{R.randrange(10)}", "0",
                             str(R.randrange(20, 400)), "dGVzdA=="]))
    # deliberately broken rows, so that the demo shows quarantine
    out.insert(200, "2026-11-27 01:02:03,999.10.20.30,tcp,502,,modbus,4134,CN,JIANGSU,,0,0,,Siemens,plc,M1,1.0,0,5,dGVzdA==")
    out.insert(400, "2026-13-27 01:02:03,58.208.1.2,tcp,502,,modbus,4134,CN,JIANGSU,,0,0,,Siemens,plc,M1,1.0,0,5,dGVzdA==")
    out.insert(600, "2026-11-27 01:02:03,58.208.1.3,tcp,70000,,modbus,4134,CN,JIANGSU,,0,0,,Siemens,plc,M1,1.0,0,5,dGVzdA==")
    out.insert(800, "2026-11-27 01:02:03,58.208.1.4,tcp,502,,modbus")
    out.insert(1000, '2026-11-27 01:02:03,58.208.1.5,tcp,102,,s7,4134,XQ,"JIANGSU,,0,0,,Siemens,plc,M1,1.0,0,5,dGVzdA==')
    with open(path, "w", newline="") as f:
        f.write("\n".join(out) + "\n")


def scan_mqtt(path, rows=800):
    cols = ["timestamp", "ip", "protocol", "port", "hostname", "tag", "asn", "geo", "region",
            "city", "naics", "sic", "anonymous_access", "raw_response", "hex_code", "code"]
    out = [",".join(f'"{c}"' for c in cols)]
    for i in range(rows):
        cc, asn, ip, region = pick()
        port = R.choice([1883, 8883])
        anon = R.choice(["Y", "N"])
        code = "Connection Accepted" if anon == "Y" else "Connection Refused, not authorized"
        out.append(",".join([f'"{ts()}"', f'"{ip}"', '"tcp"', str(port), '""', '"mqtt"', str(asn),
                             f'"{cc}"', f'"{region}"', '""', "0", "", f'"{anon}"', "20020000",
                             "00" if anon == "Y" else "05", f'"{code}"']))
    out.insert(300, '"2026-11-27 03:04:05","2001:db8::1:zz","tcp",1883,"","mqtt",3320,"DE","HESSEN","",0,,"Y",20020000,00,"Connection Accepted"')
    with open(path, "w", newline="") as f:
        f.write("\n".join(out) + "\n")


def partner_jsonl(path, rows=200):
    lines = []
    for i in range(rows):
        cc, asn, ip, _ = pick()
        kind = R.random()
        ev = {"time.source": f"2026-11-2{R.randrange(5, 8)}T{R.randrange(24):02d}:00:00Z",
              "source.ip": ip, "source.asn": asn, "source.geolocation.cc": cc,
              "feed.provider": "Sample Partner CERT (fictitious)"}
        if kind < 0.5:
            ev.update({"classification.type": "c2-server", "malware.name": R.choice(["qakbot", "emotet", "mirai"]),
                       "destination.port": R.choice([443, 8080, 2323])})
        elif kind < 0.8:
            ev.update({"classification.type": "phishing",
                       "source.url": f"http://login-{R.randrange(1000)}.example.com/secure/verify"})
        else:
            ev.update({"classification.type": "infected-system", "malware.name": "mirai",
                       "extra.device": "camera", "tlp": "GREEN"})
        lines.append(json.dumps(ev, sort_keys=True))
    lines.insert(50, '{"time.source": "yesterday", "source.ip": "39.32.1.1", "classification.type": "scanner"}')
    lines.insert(120, '{"source.ip": "39.32.1.2", "classification.type": "c2-server", "classification.taxonomy": "fraud"}')
    lines.insert(150, '{"source.ip": "39.32.1.3", "classification.type": "scanner", ')
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    d = sys.argv[1] if len(sys.argv) > 1 else "share/demo"
    scan_ics(f"{d}/2026-11-27-scan_ics-demo.csv")
    scan_mqtt(f"{d}/2026-11-27-scan_mqtt-demo.csv")
    partner_jsonl(f"{d}/partner-events-demo.jsonl")
