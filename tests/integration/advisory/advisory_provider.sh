#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# The CSAF trusted provider of `liaison serve` over HTTPS on 127.0.0.1: two
# advisories published (TLP:WHITE from flags, TLP:AMBER from a simple input
# file) and one incident response from an incident (TLP:GREEN); the provider
# metadata, index.txt, changes.csv, the ROLIE service and feeds and every
# document fetched, each .sha512 checked with sha512sum and each .asc with gpg
# against the key the provider serves (in a fresh keyring); a partner without
# a sharing agreement and a caller without credentials get nothing under the
# AMBER path, a partner with one gets it all. The documents fetched are left in
# $LIAISON_CSAF_OUT (if set) for the reference validator (csaf_validator.sh).
set -u
bin=${LIAISON_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
tls="$here/../../data/tls"
tmp=$(mktemp -d /tmp/lia-csaf-XXXXXX)
export GNUPGHOME="$tmp/gnupg"
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -n "${LIAISON_KEEP_SERVE_LOG:-}" ] && cp "$tmp/serve.log" "$LIAISON_KEEP_SERVE_LOG"
    gpgconf --kill all >/dev/null 2>&1
    GNUPGHOME="$tmp/verify" gpgconf --kill all >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -m 700 "$GNUPGHOME" "$tmp/verify"
. "$here/../store_lib.sh" # SQLite, or PostgreSQL in advisory_provider_pg
db=$(store_new l) || exit 1
L() { "$bin" --db "$db" "$@"; }
gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key 'CERT Example CSAF <csaf@cert.example>' default default never 2>/dev/null
fpr=$(gpg --with-colons --list-secret-keys csaf@cert.example | sed -n 's/^fpr:::::::::\([0-9A-F]*\):$/\1/p' | head -n 1)
port=$(free_port)
base="https://127.0.0.1:$port"
C() { curl -s --cacert "$tls/cert.pem" "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$tls/cert.pem" "$@"; }

L init > /dev/null 2>&1
# the provider's settings; publishing before them is refused with a reason
check "new without a publisher" "no publisher: set publisher_name" "$(L advisory new --title x --tlp CLEAR 2>&1)"
L advisory provider publisher_name='CERT Example' publisher_namespace=https://cert.example \
    contact=csaf@cert.example base_url="$base" sign_key="$fpr" > /dev/null
check "provider settings" "base_url=$base" "$(L advisory provider)"
check "a bad setting" "an http(s) URL" "$(L advisory provider base_url=ftp://x 2>&1)"

# 1. TLP:WHITE from flags
white=$(L advisory new --title 'Acme PLC 5000: buffer overflow in the web interface' --tlp CLEAR \
    --summary 'A buffer overflow in the web interface of Acme PLC 5000 lets a remote attacker run code.' \
    --sectors 'Energy, Water and Wastewater' --countries 'Worldwide' \
    --product 'PLC-21=Acme/PLC 5000/2.1' --product 'PLC-22=Acme/PLC 5000/2.2' \
    --cve CVE-2026-31337 --vuln-title 'Buffer overflow' --vuln-note 'The login form copies the user name into a fixed buffer.' \
    --cvss 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H 9.8' --affects PLC-21 --fixed PLC-22 \
    --remediation 'vendor_fix: Update to firmware 2.2.' 2>&1)
same "WHITE advisory created" "LIA-$(date -u +%Y)-0001" "$white"
# 2. TLP:AMBER from a simple input file
cat > "$tmp/amber.txt" <<'IN'
# an advisory for partners with a sharing agreement
title: Contoso SCADA gateway: authentication bypass
tlp: AMBER
summary: An authentication bypass in the Contoso SCADA gateway, exploited in the region.
sectors: Energy
countries: KH, MY, TH
product: GW-3=Contoso/SCADA Gateway/3.0
product: GW-31=Contoso/SCADA Gateway/3.1
cve: CVE-2026-40001
vuln-note: A crafted header skips the password check.
cvss: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H
affects: GW-3
fixed: GW-31
remediation: vendor_fix: Update to 3.1.
remediation: workaround[GW-3]: Block the management port at the perimeter.
IN
amber=$(L advisory new --file "$tmp/amber.txt" 2>&1)
same "AMBER advisory created" "LIA-$(date -u +%Y)-0002" "$amber"
check "the vector's score computed" '"baseScore": 10.0' "$(L advisory show "$amber")"
# 3. an incident response from an incident (the incident module's API)
L incident create --title 'Ransomware at regional water utilities' --description 'Three utilities report encrypted HMI stations.' \
    --tlp GREEN --countries KH,MY --sectors ics,water > /dev/null 2>&1
green=$(L advisory new --from-incident 1 2>&1)
same "incident response created" "LIA-$(date -u +%Y)-0003" "$green"
out=$(L advisory show "$green")
check "from the incident: title" '"title": "Ransomware at regional water utilities"' "$out"
check "from the incident: profile" '"category": "csaf_security_incident_response"' "$out"
check "from the incident: countries" '"text": "KH,MY"' "$out"
check "from the incident: TLP" '"label": "GREEN"' "$out"
L incident create --title strict --tlp AMBER+STRICT > /dev/null 2>&1
check "AMBER+STRICT incident refused" "TLP:AMBER+STRICT has no label in CSAF 2.0" "$(L advisory new --from-incident 2 2>&1)"
check "unless a TLP is given" "LIA-" "$(L advisory new --from-incident 2 --tlp RED 2>&1)"

# validation errors: a JSON path and a reason
bad=$(L advisory new --title x --tlp AMBER --cve CVE-2026-1 --affects NOPE 2>&1)
check "bad CVE" "cve: \"CVE-2026-1\": not a CVE id" "$bad"
bad=$(L advisory new --title x --tlp AMBER --cve CVE-2026-12345 --affects NOPE 2>&1)
check "undefined product" '/vulnerabilities/0/product_status/known_affected/0: product id "NOPE" is not defined' "$bad"
check "missing product tree" "/product_tree: a security advisory needs a product tree" "$bad"
check "exit 3 for problems" "3" "$(L advisory new --title x --tlp AMBER > /dev/null 2>&1; echo $?)"
check "a wrong score" "the vector's base score is 9.8, not 7.5" \
    "$(L advisory new --title x --tlp CLEAR --cve CVE-2026-12345 --cvss 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H 7.5' 2>&1)"
printf '{"document":{"csaf_version":"2.0","category":"csaf_security_advisory","title":"t","publisher":{"category":"vendor","name":"n","namespace":"https://n.example"},"distribution":{"tlp":{"label":"WHITE"}},"tracking":{"id":"T-1","version":"1","status":"final","initial_release_date":"2026-01-01T00:00:00Z","current_release_date":"2026-01-01T00:00:00Z","revision_history":[{"number":"1","date":"2026-01-01T00:00:00Z","summary":"x"}]}},"product_tree":{"full_product_names":[{"name":"P","product_id":"P"}]},"vulnerabilities":[{"cve":"CVE-2026-0001","notes":[{"category":"description","text":"t"}],"product_status":{"known_affected":["P"]},"scores":[{"products":["P"],"cvss_v3":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","baseScore":7.5,"baseSeverity":"HIGH"}}]}]}' > "$tmp/whole.json"
bad=$(L advisory validate --file "$tmp/whole.json" 2>&1)
check "validate a whole document: score" "/vulnerabilities/0/scores/0/cvss_v3/baseScore: 7.5 given, the vector gives 9.8" "$bad"
check "validate a whole document: severity" "/vulnerabilities/0/scores/0/cvss_v3/baseSeverity: HIGH given, a base score of 9.8 is CRITICAL" "$bad"
check "validate a draft" "valid" "$(L advisory validate "$white" 2>&1)"
# a whole CSAF document as input; a JSON object of fields
sed 's/"baseScore":7.5,"baseSeverity":"HIGH"/"baseScore":9.8,"baseSeverity":"CRITICAL"/' "$tmp/whole.json" > "$tmp/whole-ok.json"
check "a whole document" "T-1" "$(L advisory new --file "$tmp/whole-ok.json" 2>&1)"
check "edited only as a whole" "edit it with --file DOC.json" "$(L advisory edit T-1 --title y 2>&1)"
sed 's/"title":"t"/"title":"t2"/' "$tmp/whole-ok.json" > "$tmp/whole-2.json"
check "edit with a whole document" "T-1: edited" "$(L advisory edit T-1 --file "$tmp/whole-2.json" 2>&1)"
check "its tracking id stays" "does not change" "$(sed 's/"T-1"/"T-2"/' "$tmp/whole-2.json" > "$tmp/whole-3.json"; L advisory edit T-1 --file "$tmp/whole-3.json" 2>&1)"
printf '{"id":"J-1","title":"From JSON fields","tlp":"GREEN","product":["A=V/P/1"],"cve":"CVE-2026-55555","vuln-note":"n","affects":"A"}' > "$tmp/fields.json"
check "JSON fields" "J-1" "$(L advisory new --file "$tmp/fields.json" 2>&1)"
check "JSON fields: an unknown key" "unknown key" "$(printf '{"colour":"red"}' > "$tmp/bad.json"; L advisory new --file "$tmp/bad.json" 2>&1)"
check "input file: a bad line, named" "amber-bad.txt:2" "$(printf 'title: x\nnot a field\n' > "$tmp/amber-bad.txt"; L advisory new --file "$tmp/amber-bad.txt" 2>&1)"

# publish; unchanged is refused; an edit publishes version 2
for a in "$white" "$amber" "$green"; do
    check "publish $a" "$a: version 1 published" "$(L advisory publish "$a" 2>&1)"
done
check "unchanged: nothing to publish" "nothing to publish" "$(L advisory publish "$white" 2>&1)"
L advisory edit "$white" --countries 'Worldwide (the vendor sells in 40 countries)' > /dev/null
check "version 2" "version 2 published" "$(L advisory publish "$white" --change 'Countries updated' 2>&1)"
check "list" "v2" "$(L advisory list 2>&1)"

# partners: cert-kh with a sharing agreement up to AMBER, cert-xx without one
L partners add cert-kh name='CERT KH' countries=KH contacts=abuse@cert-kh.example tlp_max=AMBER agreement=true > /dev/null 2>&1
L partners add cert-xx name='CERT XX' countries=XX contacts=cert@xx.example tlp_max=AMBER agreement=false > /dev/null 2>&1
L accounts org-add kh --kind partner --party cert-kh > /dev/null 2>&1
L accounts user-add kh kh-user --role partner > /dev/null 2>&1
kh=$(L accounts key-add kh-user 2> /dev/null)
L accounts org-add xx --kind partner --party cert-xx > /dev/null 2>&1
L accounts user-add xx xx-user --role partner > /dev/null 2>&1
xx=$(L accounts key-add xx-user 2> /dev/null)

# new advisories to the partners by e-mail (src/notify), by the one TLP policy
mkdir -p "$tmp/mail" "$tmp/dry"
python3 "$here/../incident/smtp_sink.py" "$tmp/mail" > "$tmp/smtp.port" &
sink=$!
for _ in $(seq 25); do [ -s "$tmp/smtp.port" ] && break; sleep 0.2; done
smtp="smtp://127.0.0.1:$(head -n 1 "$tmp/smtp.port")"
N() { L advisory notify "$@" --smtp "$smtp" --from csaf@cert.example --sign-key "$fpr"; }
out=$(N "$amber" 2>&1)
check "AMBER advisory to cert-kh" "partner:cert-kh          sent" "$out"
check "AMBER advisory withheld from cert-xx" "partner:cert-xx          withheld" "$out"
check "with the policy's reason" "no sharing agreement with this partner" "$out"
same "one message" "1" "$(ls "$tmp/mail" | wc -l)"
eml=$(ls "$tmp/mail"/*.eml | head -n 1)
check "to cert-kh's contact" "To: abuse@cert-kh.example" "$(cat "$eml")"
check "subject names TLP and id" "[TLP:AMBER] CSAF advisory $amber version 1" "$(cat "$eml")"
check "signed (OpenPGP/MIME)" "multipart/signed" "$(cat "$eml")"
check "the document attached" "filename=\"$(echo "$amber" | tr 'A-Z' 'a-z').json\"" "$(cat "$eml")"
check "its signature attached" ".json.asc" "$(cat "$eml")"
check "once per version" "partner:cert-kh          already sent" "$(N "$amber" 2>&1)"
same "still one message" "1" "$(ls "$tmp/mail" | wc -l)"
out=$(N "$white" 2>&1)
check "WHITE to cert-kh" "partner:cert-kh          sent" "$out"
check "WHITE to cert-xx too" "partner:cert-xx          sent" "$out"
red="LIA-$(date -u +%Y)-0004"
check "unpublished: refused" "not published yet" "$(N "$red" 2>&1)"
L advisory publish "$red" > /dev/null 2>&1
out=$(N "$red" 2>&1)
check "RED withheld from cert-kh" "partner:cert-kh          withheld" "$out"
check "RED is never delivered" "TLP:RED is never delivered" "$out"
check_not "RED sent to nobody" " sent" "$out"
out=$(L advisory notify "$green" --dry-run --out "$tmp/dry" --from csaf@cert.example 2>&1)
check "dry run" "partner:cert-kh          dry-run" "$out"
check "dry run wrote the message" "[TLP:GREEN] CSAF advisory $green" "$(cat "$tmp/dry"/*.eml 2>/dev/null)"
kill "$sink" 2>/dev/null; wait "$sink" 2>/dev/null

(exec "$bin" --db "$db" serve --listen "127.0.0.1:$port" --cert "$tls/cert.pem" --key "$tls/key.pem" \
    --access-log /dev/null > "$tmp/serve.log" 2>&1) &
pid=$!
up=0
for _ in $(seq 50); do C -f "$base/health" > /dev/null 2>&1 && up=1 && break; sleep 0.1; done
[ "$up" = 1 ] || { echo "FAIL serve did not answer on $base"; cat "$tmp/serve.log"; exit 1; }

W="$base/.well-known/csaf"
pm=$(C "$W/provider-metadata.json")
check "provider metadata: role" '"role": "csaf_trusted_provider"' "$pm"
check "provider metadata: canonical URL" "\"canonical_url\": \"$W/provider-metadata.json\"" "$pm"
check "provider metadata: key" "\"fingerprint\": \"$fpr\"" "$pm"
check "provider metadata: AMBER feed" "\"url\": \"$W/amber/csaf-feed-tlp-amber.json\"" "$pm"
python3 -c 'import json,sys; json.load(sys.stdin)' <<EOF2 && echo "ok   provider metadata is JSON" || { echo "FAIL provider metadata is not JSON"; fails=$((fails + 1)); }
$pm
EOF2
check "ROLIE service document" "$W/white/csaf-feed-tlp-white.json" "$(C "$W/service.json")"
C "$W/openpgp/$fpr.asc" > "$tmp/key.asc"
GNUPGHOME="$tmp/verify" gpg --batch --quiet --import "$tmp/key.asc" 2>/dev/null
same "the served key imports" "$fpr" "$(GNUPGHOME="$tmp/verify" gpg --with-colons --list-keys 2>/dev/null | sed -n 's/^fpr:::::::::\([0-9A-F]*\):$/\1/p' | head -n 1)"
year=$(date -u +%Y)
wf="$year/$(echo "$white" | tr 'A-Z' 'a-z').json"
af="$year/$(echo "$amber" | tr 'A-Z' 'a-z').json"
gf="$year/$(echo "$green" | tr 'A-Z' 'a-z').json"
same "white index.txt" "$wf" "$(C "$W/white/index.txt")"
check "white changes.csv" "\"$wf\",\"$year-" "$(C "$W/white/changes.csv")"
check "white feed entry" "\"href\": \"$W/white/$wf.sha512\"" "$(C "$W/white/csaf-feed-tlp-white.json")"
check "white directory listing" "$year/" "$(C "$W/white/")"
same "no redirect for a folder" "200" "$(code "$W/white")"
same "no such file" "404" "$(code "$W/white/$year/nope.json")"
same "TLP folder names only" "404" "$(code "$W/clear/index.txt")"
same "GET only" "405" "$(code -X POST "$W/provider-metadata.json")"

verify() { # label, URL of the document, curl options...
    name=$1; u=$2; shift 2
    d="$tmp/fetch/$(basename "$u")"
    mkdir -p "$tmp/fetch"
    C "$@" "$u" > "$d"; C "$@" "$u.sha512" > "$d.sha512"; C "$@" "$u.asc" > "$d.asc"
    (cd "$tmp/fetch" && sha512sum -c --quiet "$(basename "$d").sha512" > /dev/null 2>&1) \
        && echo "ok   $name: .sha512" || { echo "FAIL $name: .sha512 does not match"; fails=$((fails + 1)); }
    GNUPGHOME="$tmp/verify" gpg --batch --status-fd 1 --verify "$d.asc" "$d" 2>/dev/null | grep -q "VALIDSIG $fpr" \
        && echo "ok   $name: signature" || { echo "FAIL $name: the signature does not verify"; fails=$((fails + 1)); }
    [ -n "${LIAISON_CSAF_OUT:-}" ] && cp "$d" "$LIAISON_CSAF_OUT/"
    return 0
}
verify "WHITE document" "$W/white/$wf"
check "WHITE document is version 2" '"version": "2"' "$(cat "$tmp/fetch/$(basename "$wf")")"
check "WHITE document's canonical URL" "\"url\": \"$W/white/$wf\"" "$(cat "$tmp/fetch/$(basename "$wf")")"

# AMBER: nothing without credentials, nothing for a partner without an agreement
same "AMBER without credentials" "401" "$(code "$W/amber/index.txt")"
for p in index.txt changes.csv csaf-feed-tlp-amber.json "" "$year/" "$af" "$af.sha512" "$af.asc"; do
    same "AMBER for a partner without agreement: /$p" "404" "$(code -H "Authorization: Bearer $xx" "$W/amber/$p")"
done
check_not "AMBER body for that partner" "$amber" "$(C -H "Authorization: Bearer $xx" "$W/amber/index.txt")"
check "and it sees WHITE" "$wf" "$(C -H "Authorization: Bearer $xx" "$W/white/index.txt")"
same "GREEN for a partner without agreement" "404" "$(code -H "Authorization: Bearer $xx" "$W/green/index.txt")"
# the partner with an agreement gets AMBER and GREEN, never RED
same "AMBER index.txt for cert-kh" "$af" "$(C -H "Authorization: Bearer $kh" "$W/amber/index.txt")"
check "AMBER changes.csv for cert-kh" "\"$af\"," "$(C -H "Authorization: Bearer $kh" "$W/amber/changes.csv")"
check "AMBER feed for cert-kh" "\"id\": \"$amber\"" "$(C -H "Authorization: Bearer $kh" "$W/amber/csaf-feed-tlp-amber.json")"
verify "AMBER document (cert-kh)" "$W/amber/$af" -H "Authorization: Bearer $kh"
verify "GREEN incident response (cert-kh)" "$W/green/$gf" -H "Authorization: Bearer $kh"
same "RED for cert-kh" "404" "$(code -H "Authorization: Bearer $kh" "$W/red/index.txt")"
same "AMBER document is not under white" "404" "$(code "$W/white/$af")"
finish
