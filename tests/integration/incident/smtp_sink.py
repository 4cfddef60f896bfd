#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
# A minimal SMTP listener for the tests (RFC 5321 subset: EHLO/HELO, MAIL,
# RCPT, DATA, RSET, NOOP, QUIT) on 127.0.0.1: each message received is
# written to DIR/N.eml (dot-unstuffed, CRLF kept). Prints its port on the
# first line of stdout, then serves until killed or for at most 300 s.
# Usage: smtp_sink.py DIR
import os
import socket
import sys
import threading

out = sys.argv[1]
count = 0
lock = threading.Lock()


def session(c):
    global count
    f = c.makefile("rb")

    def say(s):
        c.sendall(s.encode() + b"\r\n")

    say("220 sink ESMTP")
    while True:
        line = f.readline()
        if not line:
            break
        cmd = line.strip().upper()
        if cmd.startswith(b"EHLO"):
            c.sendall(b"250-sink\r\n250 8BITMIME\r\n")
        elif cmd.startswith(b"HELO") or cmd.startswith(b"MAIL") or cmd.startswith(b"RCPT") \
                or cmd.startswith(b"RSET") or cmd.startswith(b"NOOP"):
            say("250 ok")
        elif cmd == b"DATA":
            say("354 go on")
            data = []
            while True:
                ln = f.readline()
                if not ln or ln in (b".\r\n", b".\n"):
                    break
                if ln.startswith(b".."):
                    ln = ln[1:]
                data.append(ln)
            with lock:
                count += 1
                n = count
            with open(os.path.join(out, "%d.eml" % n), "wb") as m:
                m.write(b"".join(data))
            say("250 queued")
        elif cmd == b"QUIT":
            say("221 bye")
            break
        else:
            say("502 not implemented")
    c.close()


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
s.settimeout(300)
try:
    while True:
        conn, _ = s.accept()
        threading.Thread(target=session, args=(conn,), daemon=True).start()
except (socket.timeout, KeyboardInterrupt):
    pass
