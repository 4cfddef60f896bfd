/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison quarantine | stats | demo */
#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "liaison/accounts.h"
#include "liaison/mail.h"
#include "liaison/incident.h"

#ifndef LIA_DATADIR
#define LIA_DATADIR "share"
#endif

/* ---- quarantine ---- */

typedef struct qout {
    int raw;
    uint64_t n;
} qout;

static int print_qrow(void *ud, const lia_qrow *r)
{
    qout *o = ud;
    char raw[512];
    lia_escape(r->raw.ptr ? r->raw.ptr : "", r->raw.len, raw, o->raw ? sizeof raw : 100);
    printf("#%lld %s:%llu [%s] ", (long long)r->id, r->report_name, (unsigned long long)r->line, r->feed);
    if (r->field)
        printf("%s: ", r->field);
    if (r->value)
        printf("\"%s\": ", r->value);
    printf("%s\n    raw: %s\n", r->reason, raw);
    o->n++;
    return 0;
}

int cmd_quarantine(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"feed", required_argument, NULL, 'f'},  {"report", required_argument, NULL, 'r'},
        {"limit", required_argument, NULL, 'l'}, {"raw", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *feed = NULL;
    uint64_t report = 0, limit = 100;
    qout o = {0, 0};
    lia_store *s;
    lia_error err;
    int ch, rc;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': feed = optarg; break;
        case 'r':
            if (cli_parse_u64(optarg, &report) || report > INT64_MAX) {
                cli_errorf("quarantine: --report %s: a report number is expected", optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'l':
            if (cli_parse_u64(optarg, &limit)) {
                cli_errorf("quarantine: --limit %s: a number is expected", optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'R': o.raw = 1; break;
        case 'h':
            printf("usage: liaison [--db PATH] quarantine [--feed NAME] [--report ID] [--limit N] [--raw]\n\n"
                   "List rows that could not become events: report and line, the field and\n"
                   "value at fault, the reason, and the raw row (--raw: longer excerpt).\n"
                   "Nothing is dropped silently: every rejected row is here. --limit 0: all.\n");
            return LIA_EXIT_OK;
        default:
            cli_errorf("quarantine: bad option %s (see liaison quarantine --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_errorf("quarantine: unexpected argument %s", argv[optind]);
        return LIA_EXIT_USAGE;
    }
    if ((rc = cli_open_store(c, &s)))
        return rc;
    lia_error_clear(&err);
    rc = lia_store_quarantine_list(s, feed, (int64_t)report, limit, print_qrow, &o, &err);
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (o.n == 0)
        printf("no quarantined rows\n");
    return LIA_EXIT_OK;
}

/* ---- stats ---- */

static int print_stat(void *ud, const char *feed, int stage, const lia_counter *c, uint64_t reports,
                      int64_t last_us)
{
    const char **prev = ud;
    double secs = (double)c->ns / 1e9;
    if (!*prev || strcmp(*prev, feed) != 0) {
        char when[LIA_TIME_TEXT];
        lia_time_format(last_us, when, sizeof when);
        printf("\nfeed %s: %llu report(s), last %s\n", feed, (unsigned long long)reports, when);
        printf("  %-10s %12s %12s %10s %12s %14s\n", "stage", "in", "out", "errors", "seconds", "per second");
        free((void *)*prev);
        *prev = strdup(feed);
    }
    if (c->in == 0 && c->out == 0 && c->errors == 0)
        return 0; /* a stage this feed does not run (yet) */
    printf("  %-10s %12llu %12llu %10llu %12.3f %14.0f%s\n", lia_stage_name(stage), (unsigned long long)c->in,
           (unsigned long long)c->out, (unsigned long long)c->errors, secs,
           secs > 0 ? (double)c->in / secs : 0.0, stage == LIA_ST_READ ? " bytes" : "");
    return 0;
}

int cmd_stats(cli *c, int argc, char **argv)
{
    lia_store *s;
    lia_error err;
    const char *prev = NULL;
    int rc;
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            printf("usage: liaison [--db PATH] stats\n\n"
                   "Per feed and per pipeline stage (read, parse, normalise, ..., store):\n"
                   "items in, out, errors, time spent and rate, summed over all reports.\n");
            return LIA_EXIT_OK;
        }
        cli_errorf("stats: unexpected argument %s", argv[1]);
        return LIA_EXIT_USAGE;
    }
    if ((rc = cli_open_store(c, &s)))
        return rc;
    lia_error_clear(&err);
    rc = lia_store_stats(s, print_stat, &prev, &err);
    lia_store_close(s);
    if (!prev && rc == LIA_OK)
        printf("no reports ingested yet\n");
    free((void *)prev);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}

/* ---- demo ---- */

static const struct demo_report {
    const char *file; /* under DATADIR/demo/ */
    const char *feed;
    const char *format;
    const char *map; /* under DATADIR/mappings/, or NULL */
} demo_reports[] = {
    /* feed NULL: the report's feed name from Shadowserver's schema; the
     * report type comes from the file name */
    {"2026-11-27-scan_ics-demo.csv", NULL, "shadowserver", NULL},
    {"2026-11-27-scan_mqtt-demo.csv", NULL, "shadowserver", NULL},
    {"partner-events-demo.jsonl", "partner-sharing", "jsonl", NULL},
};

static int print_group(void *ud, const char *key, uint64_t n)
{
    printf("    %-34s %8llu\n", key, (unsigned long long)n);
    return 0;
}

/* ---- demo: incidents and answers ---- */

typedef struct demo_inc {
    int n;
    int64_t kh, other; /* an incident handed off to sample-kh-cert, and one to another partner */
    char other_rcpt[72];
} demo_inc;

static int demo_inc_cb(void *ud, const lia_incident *inc)
{
    demo_inc *d = ud;
    if (d->n++ < 5)
        printf("    #%-4lld %-9s %-8s %s\n", (long long)inc->id, lia_severity_name(inc->severity),
               lia_incident_status_name(inc->status), inc->title);
    return 0;
}

static int demo_ho_cb(void *ud, const lia_handoff *h)
{
    demo_inc *d = ud;
    if (!d->kh && strcmp(h->recipient, "sample-kh-cert") == 0)
        d->kh = h->incident;
    else if (!d->other && strncmp(h->recipient, "sample-", 7) == 0 &&
             strcmp(h->recipient, "sample-kh-cert") != 0) {
        d->other = h->incident;
        snprintf(d->other_rcpt, sizeof d->other_rcpt, "%s", h->recipient);
    }
    return 0;
}

/* The incidents the routing rules opened, one acknowledged by an e-mail
 * reply (through the same reader as `liaison mail receive`), the answer
 * links of another. */
static int demo_incidents(lia_store *s, const char *db)
{
    lia_incident_filter f;
    lia_actor sys = {"liaison", "email", NULL};
    lia_mail_outcome mo;
    lia_error err;
    demo_inc d;
    char msg[1024], link[LIA_ANSWER_PATH_MAX];
    int rc;
    memset(&f, 0, sizeof f);
    memset(&d, 0, sizeof d);
    f.status = f.severity = -1;
    lia_error_clear(&err);
    printf(
        "\n  incidents opened by the routing rules (incident-rules.yaml: one per recipient, feed and day)\n");
    if (lia_incident_list(s, &f, demo_inc_cb, &d, &err) ||
        lia_handoff_list(s, 0, -1, NULL, demo_ho_cb, &d, &err))
        goto fail;
    if (d.n > 5)
        printf("    ... %d in all (liaison incident list)\n", d.n);
    if (!d.kh) {
        printf("    none for sample-kh-cert: nothing to answer\n");
        return LIA_EXIT_OK;
    }
    /* the digest would carry it; the demo sends no mail, so it marks the
     * hand-off notified as a sent digest does */
    if ((rc = lia_handoff_set(s, d.kh, "sample-kh-cert", LIA_HO_NOTIFIED, NULL, &sys, &err)) &&
        rc != LIA_ESTATE)
        goto fail;
    snprintf(msg, sizeof msg,
             "From: KH CERT <report@kh-cert.example>\r\nTo: cert@national-cert.example\r\n"
             "Subject: Re: [LIAISON#%lld] Liaison digest\r\nMessage-ID: <demo-reply-%lld@kh-cert.example>\r\n"
             "Date: Thu, 03 Dec 2026 09:12:00 +0700\r\n\r\nReceived, we are contacting the operators.\r\n",
             (long long)d.kh, (long long)d.kh);
    if (lia_mail_receive(s, msg, strlen(msg), NULL, &mo, &err))
        goto fail;
    printf("\n  an answer by e-mail (liaison mail receive reads the partner's reply)\n");
    printf("    from %s, incident #%lld: %s%s%s\n", mo.from ? mo.from : "?", (long long)mo.incident,
           mo.duplicate ? "received before"
           : mo.action  ? "hand-off "
                        : "",
           mo.action ? mo.action : "", mo.note ? mo.note : "");
    if (d.other) {
        int64_t until = (int64_t)time(NULL) * 1000000 + 30ll * 86400 * 1000000;
        if ((rc = lia_handoff_set(s, d.other, d.other_rcpt, LIA_HO_NOTIFIED, NULL, &sys, &err)) &&
            rc != LIA_ESTATE)
            goto fail;
        if (lia_answer_link(s, d.other, d.other_rcpt, LIA_ANSWER_ACK, until, link, &err))
            goto fail;
        printf("\n  an answer by link: the digest to %s carries signed links; with liaison --db %s serve\n"
               "  running, opening this one shows the incident and confirming it acknowledges #%lld:\n"
               "    http://127.0.0.1:8443%s\n",
               d.other_rcpt, db, (long long)d.other, link);
    }
    printf("\n  liaison handoff list --incident %lld | liaison metrics | liaison sla breaches\n",
           (long long)d.kh);
    return cli_demo_node(s, db);
fail:
    cli_error(&err);
    return LIA_EXIT_ERROR;
}

/* ---- demo: the web console's accounts ---- */

/* A fresh password of 16 letters and digits (no look-alikes). */
static void demo_password(char out[17])
{
    static const char set[] = "abcdefghjkmnpqrstuvwxyz23456789";
    for (int i = 0; i < 16; i++)
        out[i] = set[randombytes_uniform(sizeof set - 1)];
    out[16] = '\0';
}

/* Our team's analyst, and a user of the partner CERT the demo hands
 * incidents to (its portal); each with a new password, printed once. */
static int demo_console(lia_store *s, const char *db)
{
    static const struct {
        const char *org, *kind, *party, *user, *role, *what;
    } acc[] = {
        {"demo-cert", "own", NULL, "analyst", "analyst", "the national CERT's analyst"},
        {"hk-cert", "partner", "sample-hk-cert", "hk-analyst", "partner",
         "HK CERT's portal (what was handed to it)"},
        {"demo-university", "constituent", "demo-university", "uni-noc", "constituent",
         "the university's portal (its own networks)"},
    };
    char pw[sizeof acc / sizeof acc[0]][17];
    lia_error err;
    int64_t id;
    int rc;
    if (sodium_init() < 0) {
        cli_errorf("demo: libsodium did not initialise");
        return LIA_EXIT_ERROR;
    }
    printf("\nThe web console: start liaison --db %s serve, then open http://127.0.0.1:8443/console/\n", db);
    for (size_t i = 0; i < sizeof acc / sizeof acc[0]; i++) {
        lia_error_clear(&err);
        rc = lia_accounts_org_add(s, acc[i].org, lia_org_kind_parse(acc[i].kind),
                                  acc[i].party ? LIA_TLP_AMBER : LIA_TLP_AMBER_STRICT, &id, &err);
        if (rc == LIA_EEXIST) {
            printf("  %-10s (%s): made by an earlier demo on this store, password as printed then\n",
                   acc[i].user, acc[i].what);
            continue;
        }
        demo_password(pw[i]);
        if (rc || (acc[i].party && (rc = lia_accounts_org_link(s, acc[i].org, acc[i].party, &err))) ||
            (rc = lia_accounts_user_add(s, acc[i].org, acc[i].user, lia_role_parse(acc[i].role), pw[i], &id,
                                        &err))) {
            cli_error(&err);
            return LIA_EXIT_ERROR;
        }
        printf("  log in as %-10s password %s  %s\n", acc[i].user, pw[i], acc[i].what);
    }
    sodium_memzero(pw, sizeof pw);
    return LIA_EXIT_OK;
}

int cmd_demo(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *data = getenv("LIAISON_DATADIR");
    lia_store *s;
    lia_error err;
    lia_query q;
    int ch, rc;
    uint64_t total = 0, qn = 0;
    if (!data || !*data)
        data = LIA_DATADIR;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': data = optarg; break;
        case 'h':
            printf("usage: liaison [--db PATH] demo [--data DIR]\n\n"
                   "Ingest the bundled sample reports (DIR/demo, fictitious sample data) into\n"
                   "the store and print what happened: rows read, events stored, rows\n"
                   "quarantined with their reasons, events by country and classification.\n"
                   "Run it twice: the second run stores nothing twice.\n");
            return LIA_EXIT_OK;
        default:
            cli_errorf("demo: bad option %s (see liaison demo --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    if ((rc = cli_open_store(c, &s)))
        return rc;
    printf("Liaison demo: store %s, sample data %s/demo (fictitious, for demonstration)\n", c->db, data);
    printf("IP data: %s\n\n", cli_enrich_demo_setup(c, data) ? "real ip-location-db data (see STORE.conf)"
                                                             : "none (make demo fetches it with npm)");
    if ((rc = cli_route_demo_setup(s, data))) {
        lia_store_close(s);
        return rc;
    }
    for (size_t i = 0; i < sizeof demo_reports / sizeof demo_reports[0]; i++) {
        const struct demo_report *d = &demo_reports[i];
        char path[4096], map[4096], schema[4096];
        lia_ingest_opts o;
        lia_ingest_result res;
        memset(&o, 0, sizeof o);
        snprintf(path, sizeof path, "%s/demo/%s", data, d->file);
        if (d->map)
            snprintf(map, sizeof map, "%s/mappings/%s", data, d->map);
        o.format = d->format;
        o.path = path;
        o.archive = 1;
        o.feed.feed = d->feed;
        o.feed.map_path = d->map ? map : NULL;
        o.feed.tlp = LIA_TLP_AMBER;
        o.feed.observed_us = (int64_t)time(NULL) * 1000000;
        if (strcmp(d->format, "shadowserver") == 0 &&
            (rc = cli_shadowserver_opts(c, &o.feed, path, schema, sizeof schema))) {
            lia_store_close(s);
            return rc;
        }
        lia_error_clear(&err);
        rc = lia_ingest(s, &o, &res, &err);
        if (rc) {
            cli_error(&err);
            lia_store_close(s);
            return LIA_EXIT_ERROR;
        }
        printf("ingest %-34s feed %-24s", d->file, o.feed.feed);
        if (res.skipped)
            printf(" already ingested (report #%lld): nothing stored twice\n", (long long)res.report.id);
        else
            printf(" %5llu rows -> %5llu events, %llu quarantined\n", (unsigned long long)res.report.rows,
                   (unsigned long long)res.report.events, (unsigned long long)res.report.quarantined);
    }
    memset(&q, 0, sizeof q);
    lia_error_clear(&err);
    if ((rc = lia_store_count(s, &q, &total, &err)))
        goto fail;
    printf("\nstore now holds %llu events\n", (unsigned long long)total);
    printf("\n  events by country (source.geolocation.cc)\n");
    if ((rc = lia_store_group(s, &q, "cc", 12, print_group, NULL, &err)))
        goto fail;
    printf("\n  events by classification.type\n");
    if ((rc = lia_store_group(s, &q, "class", 12, print_group, NULL, &err)))
        goto fail;
    printf("\n  events by feed\n");
    if ((rc = lia_store_group(s, &q, "feed", 12, print_group, NULL, &err)))
        goto fail;
    printf("\n  quarantined rows (rejected with their reason, never dropped)\n");
    {
        qout o = {0, 0};
        if ((rc = lia_store_quarantine_list(s, NULL, 0, 10, print_qrow, &o, &err)))
            goto fail;
        qn = o.n;
    }
    if (qn == 0)
        printf("    none\n");
    if ((rc = cli_route_demo_summary(s)) || (rc = demo_incidents(s, c->db)) ||
        (rc = demo_console(s, c->db))) {
        lia_store_close(s);
        return rc;
    }
    printf("\nNext: liaison --db %s events --cc NL | liaison --db %s stats | liaison --db %s quarantine\n",
           c->db, c->db, c->db);
    lia_store_close(s);
    return LIA_EXIT_OK;
fail:
    cli_error(&err);
    lia_store_close(s);
    return LIA_EXIT_ERROR;
}
