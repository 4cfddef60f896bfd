# SPDX-License-Identifier: AGPL-3.0-or-later
# Shared by the integration scripts (sourced): the checks, a free port on
# 127.0.0.1, and waiting for a server. Each check prints "ok" or "FAIL" and
# counts failures in $fails; a script ends with `finish`.
fails=0
check() { # name, expected substring, output
    case "$3" in
    *"$2"*) echo "ok   $1" ;;
    *) echo "FAIL $1: expected '$2' in:"; echo "$3" | head -20; fails=$((fails + 1)) ;;
    esac
}
check_not() { # name, substring that must be absent, output
    case "$3" in
    *"$2"*) echo "FAIL $1: '$2' found in:"; echo "$3" | head -20; fails=$((fails + 1)) ;;
    *) echo "ok   $1" ;;
    esac
}
same() { # name, expected, got
    if [ "$2" = "$3" ]; then echo "ok   $1 ($3)"; else echo "FAIL $1: expected $2, got $3"; fails=$((fails + 1)); fi
}
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_http() { # URL: up to 5 s for a server to answer
    for _ in $(seq 50); do curl -sf "$1" > /dev/null 2>&1 && return 0; sleep 0.1; done
    echo "FAIL no answer from $1"; fails=$((fails + 1)); return 1
}
finish() {
    [ "$fails" -eq 0 ] && echo "all passed" || echo "$fails failed"
    [ "$fails" -eq 0 ]
}
