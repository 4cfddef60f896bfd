/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Event filters shared by `liaison events` and `liaison export`. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

const char cli_filter_help[] =
    "Filters:\n"
    "  --since WHEN     time.source (else time.observation) >= WHEN\n"
    "  --until WHEN     ... < WHEN; WHEN is 2024-05-01, RFC 3339, or 36h / 7d ago\n"
    "  --cc CC          source.geolocation.cc\n"
    "  --asn ASN        source.asn\n"
    "  --ip CIDR        source.ip inside CIDR (an address = one host)\n"
    "  --class C        classification.taxonomy or classification.type (RSIT)\n"
    "  --feed NAME      feed.name\n"
    "  --report ID      events of one report\n";

/* "2024-05-01", RFC 3339, or relative "36h" / "7d" (before now). */
int cli_parse_when(const char *s, int64_t *us)
{
    size_t n = strlen(s);
    uint64_t k;
    char tmp[64];
    if (n >= 2 && (s[n - 1] == 'h' || s[n - 1] == 'd') && n < sizeof tmp) {
        memcpy(tmp, s, n - 1);
        tmp[n - 1] = '\0';
        if (cli_parse_u64(tmp, &k) == 0 && k < 100000) {
            *us = ((int64_t)time(NULL) - (int64_t)k * (s[n - 1] == 'h' ? 3600 : 86400)) * 1000000;
            return 0;
        }
    }
    if (n == 10) {
        snprintf(tmp, sizeof tmp, "%s 00:00:00", s);
        return lia_parse_time(tmp, strlen(tmp), us, NULL) ? -1 : 0;
    }
    return lia_parse_time(s, n, us, NULL) ? -1 : 0;
}

int cli_filter_arg(const char *cmd, int ch, const char *arg, lia_query *q)
{
    const char *why = NULL;
    uint64_t u;
    switch (ch) {
    case 's':
    case 'u':
        if (cli_parse_when(arg, ch == 's' ? &q->since_us : &q->until_us)) {
            cli_errorf("%s: --%s %s: not a date, RFC 3339 time, or Nh/Nd", cmd,
                       ch == 's' ? "since" : "until", arg);
            return LIA_EXIT_USAGE;
        }
        return 0;
    case 'c':
        if (lia_parse_cc(arg, strlen(arg), q->cc, &why)) {
            cli_errorf("%s: --cc %s: %s", cmd, arg, why);
            return LIA_EXIT_USAGE;
        }
        q->cc[2] = '\0';
        return 0;
    case 'a':
        if (lia_parse_asn(arg, strlen(arg), &q->asn, &why)) {
            cli_errorf("%s: --asn %s: %s", cmd, arg, why);
            return LIA_EXIT_USAGE;
        }
        return 0;
    case 'i':
        if (lia_parse_cidr(arg, strlen(arg), &q->ip, &why)) {
            cli_errorf("%s: --ip %s: %s", cmd, arg, why);
            return LIA_EXIT_USAGE;
        }
        q->has_ip = 1;
        return 0;
    case 'k':
        if (lia_class_type_lookup(arg, strlen(arg)) < 0 &&
            lia_class_taxonomy_lookup(arg, strlen(arg)) < 0) {
            cli_errorf("%s: --class %s: neither an RSIT taxonomy nor a type", cmd, arg);
            return LIA_EXIT_USAGE;
        }
        q->classification = arg;
        return 0;
    case 'f': q->feed = arg; return 0;
    case 'r':
        if (cli_parse_u64(arg, &u) || u == 0 || u > INT64_MAX) {
            cli_errorf("%s: --report %s: a report number is expected", cmd, arg);
            return LIA_EXIT_USAGE;
        }
        q->report_id = (int64_t)u;
        return 0;
    case 'l':
        if (cli_parse_u64(arg, &q->limit) || q->limit > LIA_MAX_QUERY_LIMIT) {
            cli_errorf("%s: --limit %s: a number up to %d is expected", cmd, arg, LIA_MAX_QUERY_LIMIT);
            return LIA_EXIT_USAGE;
        }
        return 0;
    default: return 1;
    }
}
