/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison metrics: how fast recipients act (time to acknowledge and to
 * resolve per recipient and per country), what is open (incidents by
 * country and sector), hand-offs by channel and state, SLA breaches. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void metrics_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] metrics [--since WHEN] [--at TIME] [--format table|json]\n"
               "\n"
               "Time to acknowledge and to resolve (median and 90th percentile, wall-clock\n"
               "time from the notification) per recipient and per recipient's country; open\n"
               "incidents by affected country and sector; hand-offs by the channel of their\n"
               "last change and by state; SLA breaches (as `sla breaches`).\n"
               "  --since WHEN  only hand-offs notified since WHEN (YYYY-MM-DD, RFC 3339, Nh, Nd)\n"
               "  --at TIME     count SLA breaches at TIME (RFC 3339) instead of now\n");
}

/* "3h05m", "12m", "40s"; "-" for none */
static const char *dur(int64_t s, char *b, size_t n)
{
    if (s < 0)
        snprintf(b, n, "-");
    else if (s >= 86400)
        snprintf(b, n, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    else if (s >= 3600)
        snprintf(b, n, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(b, n, "%lldm", (long long)(s / 60));
    else
        snprintf(b, n, "%llds", (long long)s);
    return b;
}

static void speeds_table(const char *title, const lia_metric_speed *r, size_t n)
{
    char a[4][32];
    printf("%s\n  %-24s %8s %6s %9s %9s %8s %9s %9s\n", title, "", "handoffs", "acked", "ack p50", "ack p90",
           "resolved", "res p50", "res p90");
    if (n == 0)
        printf("  (no notified hand-offs)\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-24s %8lld %6lld %9s %9s %8lld %9s %9s\n", r[i].key, (long long)r[i].handoffs,
               (long long)r[i].acked, dur(r[i].ack_p50, a[0], sizeof a[0]),
               dur(r[i].ack_p90, a[1], sizeof a[1]), (long long)r[i].resolved,
               dur(r[i].resolve_p50, a[2], sizeof a[2]), dur(r[i].resolve_p90, a[3], sizeof a[3]));
}

int cmd_metrics(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"at", required_argument, NULL, 'a'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int64_t at = (int64_t)time(NULL) * 1000000, since = 0;
    int json = 0, ch, rc;
    const char *why = NULL;
    lia_store *s;
    lia_error err;
    lia_incident_metrics m;
    lia_error_clear(&err);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 's':
            if (cli_parse_when(optarg, &since)) {
                cli_errorf("metrics: --since %s: not a date, RFC 3339 time, or Nh/Nd", optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'a':
            if (lia_parse_time(optarg, strlen(optarg), &at, &why)) {
                cli_errorf("metrics: --at %s: %s", optarg, why ? why : "not a time");
                return LIA_EXIT_USAGE;
            }
            break;
        case 'f':
            if (cli_format_arg("metrics", optarg, &json))
                return LIA_EXIT_USAGE;
            break;
        case 'h': metrics_usage(stdout); return LIA_EXIT_OK;
        default: cli_errorf("metrics: bad option (see liaison metrics --help)"); return LIA_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("metrics: unexpected argument \"%s\" (see liaison metrics --help)", argv[optind]);
        return LIA_EXIT_USAGE;
    }
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    rc = lia_incident_metrics_get(s, since, at, &m, &err);
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (json) {
        lia_buf b;
        lia_buf_init(&b, (size_t)256 << 20);
        lia_incident_metrics_json(&m, &b);
        if (b.err) {
            lia_buf_free(&b);
            lia_incident_metrics_free(&m);
            cli_errorf("metrics: out of memory");
            return LIA_EXIT_ERROR;
        }
        printf("%s\n", lia_buf_cstr(&b));
        lia_buf_free(&b);
    } else {
        speeds_table("Time to acknowledge and to resolve, per recipient", m.by_recipient, m.n_recipient);
        printf("\n");
        speeds_table("Per country of the recipient", m.by_country, m.n_country);
        printf("\nOpen incidents by affected country and sector\n");
        if (m.n_open == 0)
            printf("  (none)\n");
        for (size_t i = 0; i < m.n_open; i++)
            printf("  %-8s %-16s %6lld\n", m.open[i].a, m.open[i].b, (long long)m.open[i].n);
        printf("\nHand-offs by channel of the last change and state\n");
        if (m.n_handoffs == 0)
            printf("  (none)\n");
        for (size_t i = 0; i < m.n_handoffs; i++)
            printf("  %-12s %-14s %6lld\n", m.handoffs[i].a, m.handoffs[i].b, (long long)m.handoffs[i].n);
        printf("\nSLA breaches: %lld acknowledge, %lld resolve\n", (long long)m.breaches_ack,
               (long long)m.breaches_resolve);
    }
    lia_incident_metrics_free(&m);
    return LIA_EXIT_OK;
}
