#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# The documents the provider test publishes and serves (advisory_provider.sh:
# a security advisory TLP:WHITE, one TLP:AMBER, an incident response TLP:GREEN)
# through the reference validator, BSI's @secvisogram/csaf-validator-lib
# (tests/csaf: schema, the 43 mandatory tests, the 20 optional tests).
# Skips (77) only when the npm packages are absent (make installs them from
# tests/csaf/package-lock.json).
set -u
here=$(cd "$(dirname "$0")" && pwd)
csaf="$here/../../csaf"
if [ ! -d "$csaf/node_modules/@secvisogram/csaf-validator-lib" ] || ! command -v node > /dev/null 2>&1; then
    echo "skip: tests/csaf/node_modules is absent (cd tests/csaf && npm ci)"
    exit 77
fi
out=$(mktemp -d /tmp/lia-csaf-docs-XXXXXX)
trap 'rm -rf "$out"' EXIT
LIAISON_CSAF_OUT="$out" "$here/advisory_provider.sh" > "$out/provider.log" 2>&1 || {
    echo "FAIL the provider test that makes the documents failed:"; tail -20 "$out/provider.log"; exit 1; }
n=$(ls "$out"/*.json 2>/dev/null | wc -l)
[ "$n" -eq 3 ] || { echo "FAIL expected 3 documents, got $n"; exit 1; }
node "$csaf/validate.mjs" "$out"/*.json
