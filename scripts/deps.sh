#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Install the Debian packages Liaison builds, tests and runs with.
# Idempotent: installs only what is missing; safe to run any number of times.
set -eu

PACKAGES="
gcc make pkg-config meson ninja-build clang libclang-rt-14-dev
libjansson-dev libsqlite3-dev sqlite3 libsodium-dev zlib1g-dev libidn2-dev
libmicrohttpd-dev libmaxminddb-dev libcurl4-openssl-dev libgpgme-dev gnupg
libxml2-dev libxml2-utils libpq-dev libyaml-dev
postgresql-15 postgresql-15-ip4r
libcmocka-dev libcsv-dev python3 python3-jsonschema clang-format
dovecot-imapd
nats-server libnats-dev
"

# npm builds the web console (web/, at `make` time) and fetches the demo's
# real IP data (data/ipdb); skipped when an npm is already on the PATH.
if ! command -v npm >/dev/null 2>&1; then
    PACKAGES="$PACKAGES npm"
fi

# `scripts/deps.sh check`: also the headless browser of the console's tests.
if [ "${1:-}" = check ]; then
    PACKAGES="$PACKAGES chromium"
fi

if [ -n "${LIAISON_EXTRA_PACKAGES:-}" ]; then
    PACKAGES="$PACKAGES $LIAISON_EXTRA_PACKAGES"
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "deps: all Debian packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
