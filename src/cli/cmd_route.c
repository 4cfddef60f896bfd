/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison route ...: load the routing configuration, explain one event's
 * recipients, preview who would receive what, and summarise decisions. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void route_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] route COMMAND ...\n"
               "\n"
               "  load FILE            check and store the routing configuration (rules file,\n"
               "                       YAML; docs/routing.md); used by the next ingest\n"
               "  config               print the stored configuration\n"
               "  check FILE           check a configuration without storing it\n"
               "  explain EVENT_ID     every candidate recipient of a stored event, the rule\n"
               "                       or default policy that found it, and the TLP verdict;\n"
               "                       then what was recorded and notified\n"
               "  preview [filters]    who would receive what, with the current owners,\n"
               "                       partners and rules, before anything is sent; filters as\n"
               "                       liaison events: --since --until --cc --asn --ip --class\n"
               "                       --feed --report --limit; --events lists each event\n"
               "  status               recorded decisions per recipient and verdict, and how\n"
               "                       many were notified (unrouted events are listed here)\n");
}

/* ---- explain ---- */

static int print_row(void *ud, const lia_route_row *r)
{
    char t1[LIA_TIME_TEXT] = "-";
    int *n = ud;
    if (r->notified_us)
        lia_time_format(r->notified_us, t1, sizeof t1);
    printf("  %-30s %-9s rule %-20s notified %s%s%lld\n", r->recipient, r->verdict, r->rule, t1,
           r->notification_id ? " notification #" : "",
           r->notification_id ? (long long)r->notification_id : 0LL);
    (*n)++;
    return 0;
}

static void field_line(const lia_event *ev, lia_field f)
{
    char tmp[LIA_MAX_URL + 64], esc[200];
    size_t n = lia_event_text(ev, f, tmp, sizeof tmp);
    if (!n)
        return;
    lia_escape(tmp, n, esc, sizeof esc);
    printf("  %-28s %s\n", lia_field_name(f), esc);
}

static int explain(lia_store *s, const char *arg)
{
    uint64_t id;
    lia_event ev;
    lia_route *rt = NULL;
    lia_error err;
    lia_decision d[LIA_ROUTE_MAX_DECISIONS];
    const char *via = NULL, *home;
    int owner, nrow = 0, rc = LIA_EXIT_OK;
    size_t n;
    static const lia_field show[] = {
        LIA_F_FEED_NAME,
        LIA_F_CLASSIFICATION_TAXONOMY,
        LIA_F_CLASSIFICATION_TYPE,
        LIA_F_TLP,
        LIA_F_SOURCE_IP,
        LIA_F_SOURCE_ASN,
        LIA_F_SOURCE_GEOLOCATION_CC,
        LIA_F_SOURCE_FQDN,
        LIA_F_SOURCE_URL,
    };
    if (cli_parse_u64(arg, &id) || id == 0 || id > INT64_MAX) {
        cli_errorf("route explain: %s: an event id (see liaison events) is expected", arg);
        return LIA_EXIT_USAGE;
    }
    lia_error_clear(&err);
    lia_event_init(&ev);
    if (lia_store_event_get(s, (int64_t)id, &ev, &err) || lia_route_load(s, &rt, &err)) {
        cli_error(&err);
        lia_event_free(&ev);
        return LIA_EXIT_ERROR;
    }
    printf("event %lld (report %lld, line %llu)\n", (long long)ev.id, (long long)ev.report_id,
           (unsigned long long)ev.line);
    for (size_t i = 0; i < sizeof show / sizeof show[0]; i++)
        field_line(&ev, show[i]);
    for (uint32_t i = 0; i < ev.nextra; i++)
        if (ev.extra[i].klen == 6 && memcmp(ev.text.ptr + ev.extra[i].koff, "sector", 6) == 0)
            printf("  %-28s %.*s\n", "extra.sector", (int)ev.extra[i].vlen, ev.text.ptr + ev.extra[i].voff);
    if (!lia_event_has(&ev, LIA_F_TLP))
        printf("  %-28s (none: treated as TLP:AMBER)\n", "tlp");
    home = lia_route_setting(rt, "home_country");
    printf("\nrouting: home country %s, %s\n", home ? home : "(not set)",
           lia_route_setting(rt, "mode") && strcmp(lia_route_setting(rt, "mode"), "all") == 0
               ? "every matching rule adds recipients"
               : "first matching rule decides");
    owner = lia_route_owner(rt, &ev, &via);
    if (owner >= 0)
        printf("owner of the network: owner:%s (%s)\n", lia_route_party(rt, owner)->id, via);
    else
        printf("owner of the network: none (no prefix, ASN or domain of a constituent matches)\n");
    n = lia_route_event(rt, &ev, d);
    printf("\ncandidates:\n");
    for (size_t i = 0; i < n; i++) {
        char name[128];
        lia_route_recipient_name(rt, &d[i], name, sizeof name);
        printf("  %-30s %-9s %s\n", name, lia_verdict_name(d[i].verdict),
               d[i].rule >= 0 ? "" : "(default policy)");
        if (d[i].rule >= 0)
            printf("      rule:   %s\n", lia_route_rule_name(rt, d[i].rule));
        printf("      found:  %s\n", d[i].why);
        if (d[i].party >= 0) {
            lia_recipient r;
            lia_route_recipient(rt, d[i].party, &r);
            printf("      policy: %s (ceiling TLP:%s%s)\n", d[i].reason, lia_tlp_name(r.tlp_max),
                   r.kind == LIA_PARTY_PARTNER
                       ? (r.agreement ? ", sharing agreement" : ", no sharing agreement")
                       : "");
        } else {
            printf("      reason: %s\n", d[i].reason);
        }
    }
    printf("\nrecorded when ingested:\n");
    lia_error_clear(&err);
    if (lia_route_rows(s, ev.id, print_row, &nrow, &err)) {
        cli_error(&err);
        rc = LIA_EXIT_ERROR;
    } else if (nrow == 0) {
        printf("  nothing (ingested before routing was set up; the candidates above are today's answer)\n");
    }
    lia_route_destroy(rt);
    lia_event_free(&ev);
    return rc;
}

/* ---- preview ---- */

typedef struct agg {
    char name[128];
    uint64_t deliver, deny, other;
} agg;

typedef struct pv {
    lia_route *rt;
    agg *a;
    size_t n, cap;
    int list;
    uint64_t events;
} pv;

static agg *agg_get(pv *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->a[i].name, name) == 0)
            return &p->a[i];
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        agg *na = realloc(p->a, nc * sizeof *na);
        if (!na)
            return NULL;
        p->a = na;
        p->cap = nc;
    }
    memset(&p->a[p->n], 0, sizeof *p->a);
    snprintf(p->a[p->n].name, sizeof p->a[p->n].name, "%s", name);
    return &p->a[p->n++];
}

static int preview_event(void *ud, const lia_event *ev)
{
    pv *p = ud;
    lia_decision d[LIA_ROUTE_MAX_DECISIONS];
    size_t n = lia_route_event(p->rt, ev, d);
    p->events++;
    for (size_t i = 0; i < n; i++) {
        char name[128];
        agg *a;
        lia_route_recipient_name(p->rt, &d[i], name, sizeof name);
        if (!(a = agg_get(p, name)))
            return LIA_ENOMEM;
        if (d[i].verdict == LIA_DELIVER)
            a->deliver++;
        else if (d[i].verdict == LIA_DENY)
            a->deny++;
        else
            a->other++;
        if (p->list)
            printf("%-8lld %-30s %-9s %-20s %s\n", (long long)ev->id, name, lia_verdict_name(d[i].verdict),
                   lia_route_rule_name(p->rt, d[i].rule), d[i].reason);
    }
    return ferror(stdout) ? LIA_EIO : 0;
}

static int agg_cmp(const void *a, const void *b)
{
    return strcmp(((const agg *)a)->name, ((const agg *)b)->name);
}

static int preview(lia_store *s, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_FILTER_OPTIONS,
        {"events", no_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };
    lia_query q;
    pv p;
    lia_error err;
    int ch, rc;
    memset(&q, 0, sizeof q);
    memset(&p, 0, sizeof p);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (ch == 'e') {
            p.list = 1;
            continue;
        }
        rc = cli_filter_arg("route preview", ch, optarg, &q);
        if (rc == 0)
            continue;
        if (rc == 1)
            cli_errorf("route preview: bad option %s (see liaison route --help)", argv[optind - 1]);
        return LIA_EXIT_USAGE;
    }
    if (optind != argc) {
        cli_errorf("route preview: unexpected argument %s", argv[optind]);
        return LIA_EXIT_USAGE;
    }
    lia_error_clear(&err);
    if (lia_route_load(s, &p.rt, &err)) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (p.list)
        printf("%-8s %-30s %-9s %-20s %s\n", "event", "recipient", "verdict", "rule", "reason");
    rc = lia_store_query(s, &q, preview_event, &p, &err);
    if (rc == LIA_ENOMEM || rc == LIA_EIO)
        lia_error_set(&err, rc, NULL, NULL, 0, rc == LIA_EIO ? "writing output failed" : "out of memory");
    if (rc == LIA_OK) {
        qsort(p.a, p.n, sizeof *p.a, agg_cmp);
        printf("%s%llu events; nothing is sent by a preview\n\n", p.list ? "\n" : "",
               (unsigned long long)p.events);
        printf("%-34s %10s %10s %10s\n", "recipient", "deliver", "deny(TLP)", "none");
        for (size_t i = 0; i < p.n; i++)
            printf("%-34s %10llu %10llu %10llu\n", p.a[i].name, (unsigned long long)p.a[i].deliver,
                   (unsigned long long)p.a[i].deny, (unsigned long long)p.a[i].other);
    }
    free(p.a);
    lia_route_destroy(p.rt);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}

static int print_sum(void *ud, const char *rcpt, const char *verdict, uint64_t n, uint64_t notified)
{
    int *k = ud;
    printf("%-34s %-9s %10llu %10llu\n", rcpt, verdict, (unsigned long long)n, (unsigned long long)notified);
    (*k)++;
    return 0;
}

int cmd_route(cli *c, int argc, char **argv)
{
    lia_store *s = NULL;
    lia_error err;
    int rc = LIA_EXIT_OK;
    const char *sub;
    lia_error_clear(&err);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        route_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? LIA_EXIT_USAGE : LIA_EXIT_OK;
    }
    sub = argv[1];
    /* `route SUB --help` is help, whatever SUB takes (it is not an event id
     * or a file name) */
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            route_usage(stdout);
            return LIA_EXIT_OK;
        }
    if (strcmp(sub, "check") == 0 || strcmp(sub, "load") == 0) {
        lia_buf in;
        int lrc;
        if (argc != 3) {
            cli_errorf("route %s FILE: one file expected", sub);
            return LIA_EXIT_USAGE;
        }
        if (cli_read_file(argv[2], LIA_MAX_CONFIG_FILE, &in))
            return LIA_EXIT_ERROR;
        if (sub[0] == 'c') {
            lrc = lia_route_config_check(lia_buf_cstr(&in), in.len, &err);
        } else {
            if ((rc = cli_open_store(c, &s))) {
                lia_buf_free(&in);
                return rc;
            }
            lrc = lia_route_config_put(s, lia_buf_cstr(&in), in.len, &err);
        }
        lia_buf_free(&in);
        if (lrc) {
            lia_error_where(&err, argv[2], err.line);
            cli_error(&err);
            rc = LIA_EXIT_ERROR;
        } else {
            printf("%s: routing configuration %s\n", argv[2], sub[0] == 'c' ? "is valid" : "loaded");
        }
        goto out;
    }
    if ((rc = cli_open_store(c, &s)))
        return rc;
    if (strcmp(sub, "config") == 0) {
        lia_buf b;
        lia_buf_init(&b, LIA_MAX_CONFIG_FILE + 1);
        if (lia_route_config_get(s, &b, &err)) {
            cli_error(&err);
            rc = LIA_EXIT_ERROR;
        } else {
            fputs(lia_buf_cstr(&b), stdout);
        }
        lia_buf_free(&b);
    } else if (strcmp(sub, "explain") == 0) {
        if (argc != 3) {
            cli_errorf("route explain EVENT_ID: one event id expected");
            rc = LIA_EXIT_USAGE;
        } else {
            rc = explain(s, argv[2]);
        }
    } else if (strcmp(sub, "preview") == 0) {
        rc = preview(s, argc - 1, argv + 1);
    } else if (strcmp(sub, "status") == 0) {
        int k = 0;
        printf("%-34s %-9s %10s %10s\n", "recipient", "verdict", "events", "notified");
        if (lia_route_summary(s, print_sum, &k, &err)) {
            cli_error(&err);
            rc = LIA_EXIT_ERROR;
        } else if (k == 0) {
            printf("(no decisions recorded yet: routing happens at ingest)\n");
        }
    } else {
        cli_errorf("route: unknown command '%s' (see liaison route --help)", sub);
        rc = LIA_EXIT_USAGE;
    }
out:
    if (s)
        lia_store_close(s);
    return rc;
}

/* The demo's directory and rules (DATADIR/demo, fictitious sample data). */
int cli_route_demo_setup(lia_store *s, const char *data)
{
    static const struct {
        const char *file;
        int kind;
    } files[] = {{"owners.yaml", LIA_PARTY_OWNER}, {"partners.yaml", LIA_PARTY_PARTNER}, {"routing.yaml", 0}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4096];
        lia_buf in;
        lia_error err;
        size_t n = 0;
        int rc;
        snprintf(path, sizeof path, "%s/demo/%s", data, files[i].file);
        if (cli_read_file(path, LIA_MAX_CONFIG_FILE, &in))
            return LIA_EXIT_ERROR;
        if (!files[i].kind) { /* and the demo's incident rules (incident-rules.yaml) after it */
            lia_buf more;
            char p2[4096];
            snprintf(p2, sizeof p2, "%s/demo/incident-rules.yaml", data);
            if (cli_read_file(p2, LIA_MAX_CONFIG_FILE, &more)) {
                lia_buf_free(&in);
                return LIA_EXIT_ERROR;
            }
            lia_buf_putc(&in, '\n');
            lia_buf_append(&in, more.ptr, more.len);
            lia_buf_free(&more);
        }
        lia_error_clear(&err);
        if (files[i].kind)
            rc = lia_party_import(s, files[i].kind, "yaml", lia_buf_cstr(&in), in.len, &n, &err);
        else
            rc = lia_route_config_put(s, lia_buf_cstr(&in), in.len, &err);
        lia_buf_free(&in);
        if (rc) {
            lia_error_where(&err, path, err.line);
            cli_error(&err);
            return LIA_EXIT_ERROR;
        }
        if (files[i].kind)
            printf("load   %-34s %zu %s (sample data)\n", files[i].file, n,
                   files[i].kind == LIA_PARTY_OWNER ? "owners" : "partner CERTs");
        else
            printf("load   %-34s routing rules (and incident-rules.yaml)\n", files[i].file);
    }
    return LIA_EXIT_OK;
}

static int print_sum_indented(void *ud, const char *rcpt, const char *verdict, uint64_t n, uint64_t notified)
{
    (void)ud;
    (void)notified;
    printf("    %-34s %-9s %8llu\n", rcpt, verdict, (unsigned long long)n);
    return 0;
}

int cli_route_demo_summary(lia_store *s)
{
    lia_error err;
    int k = 0;
    lia_error_clear(&err);
    printf("\n  routing decisions (recipient, verdict, events)\n");
    if (lia_route_summary(s, print_sum_indented, &k, &err)) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    printf("\n  who must act: liaison route preview --cc MY | liaison route explain EVENT_ID |\n"
           "  liaison notify run --dry-run --out DIR (digests in each recipient's language)\n");
    return LIA_EXIT_OK;
}
