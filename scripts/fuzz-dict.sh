# SPDX-License-Identifier: AGPL-3.0-or-later
# Sourced by fuzz-smoke.sh and fuzz.sh ($top set): dict_file NAME prints the
# dictionary of fuzz target NAME, fuzz/NAME.dict if there is one, else the
# one of its grammar (targets that share a grammar share a dictionary), or
# nothing.
dict_grammar() {
    case "$1" in
    jsonl | stix | misp | schema | sectors | taxii_post | taxii_page | taxii_status | misp_manifest) echo json ;;
    csv | csvmap | shadowserver | ipcsv | rir | feeds) echo csv ;;
    rules | owners | partners) echo yaml ;;
    http_headers | taxii_query) echo http ;;
    enrich_conf) echo ini ;;
    *) echo "$1" ;;
    esac
}

dict_file() {
    d="$top/fuzz/$1.dict"
    [ -f "$d" ] || d="$top/fuzz/$(dict_grammar "$1").dict"
    [ -f "$d" ] && echo "$d"
    return 0
}
