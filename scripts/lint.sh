#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Fail if a banned C function appears in our sources (house style, STYLE.md).
set -eu
cd "$(dirname "$0")/.."
banned='strcpy|strcat|sprintf|strncpy|strtok|atoi|gets|sscanf'
# Word-boundary match on a call: "name(" not preceded by an identifier char
# (so snprintf / vsnprintf / fgets-like names of ours do not match).
hits=$(grep -rnE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\(" \
    --include='*.c' --include='*.h' src include tests fuzz bench 2>/dev/null || true)
if [ -n "$hits" ]; then
    echo "lint: banned functions (use snprintf, lia_buf, cursor parsers):" >&2
    echo "$hits" >&2
    exit 1
fi
echo "lint: no banned functions"
