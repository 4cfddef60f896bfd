/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Feed conformance: every sample report of tests/data/intelmq/feeds (and the
 * MISP feed fixtures) goes through lia_ingest into a fresh store; the stored
 * events (and quarantined rows, in line order) are compared field by field
 * with the events IntelMQ's reference parsers produce from the same report
 * (for MISP, with tests/conformance/feeds-expected/misp.json).
 *
 * Deliberate differences are listed, each with its reason, in
 * tests/conformance/feeds-differences.json; a difference not listed fails
 * the case, and a listed difference that never occurs fails the run (the
 * file must stay true). One line per case, then "N passed, N failed". */
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liaison/liaison.h"

typedef struct fcase {
    const char *name;     /* case id, used in the differences file */
    const char *expected; /* under LIAISON_TESTDATA (or the source root for misp) */
    const char *format;
    const char *subtype;
    const char *report; /* constant holding the Report; NULL: default_input_message */
    const char *events; /* constant(s) holding the events, comma-separated */
    int template_lines; /* events = TEMPLATE + source.ip for each line of the report */
    const char *file;   /* report from this file instead (under LIAISON_TESTDATA) */
} fcase;

static const fcase cases[] = {
    {"abusech/feodotracker", "intelmq/feeds/abusech/expected/feodotracker.expected.json", "feodotracker",
     NULL, NULL, "OUTPUT", 0, NULL},
    {"blocklistde/imap", "intelmq/feeds/blocklistde/expected/parser.expected.json", "blocklistde", NULL,
     "REPORT", "TEMPLATE", 1, NULL},
    {"dshield/block", "intelmq/feeds/dshield/expected/block.expected.json", "dshield-block", NULL,
     "EXAMPLE_REPORT", "EVENTS", 0, NULL},
    {"openphish/feed", "intelmq/feeds/openphish/expected/parser.expected.json", "openphish", NULL, NULL,
     "OUTPUT1,OUTPUT2", 0, NULL},
    {"phishtank/online-valid", "intelmq/feeds/phishtank/expected/parser.expected.json", "phishtank", NULL,
     NULL, "OUTPUT", 0, NULL},
    {"spamhaus/drop", "intelmq/feeds/spamhaus/expected/drop.expected.json", "spamhaus-drop", NULL,
     "NETWORK_REPORT", "NETWORK_EVENTS", 0, NULL},
    {"spamhaus/asndrop", "intelmq/feeds/spamhaus/expected/drop.expected.json", "spamhaus-drop", NULL,
     "ASN_REPORT", "ASN_EVENTS", 0, NULL},
    {"misp/feed-csv", "@misp.json", "misp-csv", NULL, NULL, "feed-csv", 0, "misp/feed-csv/feed.csv"},
    {"misp/feed-freetext", "@misp.json", "misp-freetext", NULL, NULL, "feed-freetext", 0,
     "misp/feed-freetext/feed.txt"},
};

/* ---- the differences file ---- */

typedef struct diff {
    const char *cas, *field, *kind, *reason;
    int used;
} diff;

static diff *diffs;
static size_t ndiffs;

/* A path built for the run; one longer than LIA_PATH_MAX stops the run with
 * its beginning and the limit (a cut path would test another file). */
static void pathf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    int len;
    va_start(ap, fmt);
    len = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= n) {
        fprintf(stderr, "path longer than %zu bytes: %.80s...\n", n - 1, out);
        exit(1);
    }
}

static const diff *find_diff(const char *cas, const char *field, const char *kind)
{
    for (size_t i = 0; i < ndiffs; i++) {
        diff *d = &diffs[i];
        if ((strcmp(d->cas, "*") == 0 || strcmp(d->cas, cas) == 0) &&
            (strcmp(d->field, "*") == 0 || strcmp(d->field, field) == 0) && strcmp(d->kind, kind) == 0) {
            d->used++;
            return d;
        }
    }
    return NULL;
}

static json_t *load_diffs(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *arr, *v;
    size_t i;
    if (!j) {
        fprintf(stderr, "%s:%d: %s\n", path, je.line, je.text);
        return NULL;
    }
    arr = json_object_get(j, "differences");
    diffs = calloc(json_array_size(arr) + 1, sizeof *diffs);
    json_array_foreach(arr, i, v)
    {
        diff *d = &diffs[ndiffs];
        d->cas = json_string_value(json_object_get(v, "case"));
        d->field = json_string_value(json_object_get(v, "field"));
        d->kind = json_string_value(json_object_get(v, "kind"));
        d->reason = json_string_value(json_object_get(v, "reason"));
        if (!d->cas || !d->field || !d->kind || !d->reason || strlen(d->reason) < 10 ||
            (strcmp(d->kind, "missing") && strcmp(d->kind, "extra") && strcmp(d->kind, "value") &&
             strcmp(d->kind, "quarantined"))) {
            fprintf(stderr,
                    "%s: entry %zu needs case, field, kind (missing|extra|value|quarantined) "
                    "and a reason\n",
                    path, i);
            json_decref(j);
            return NULL;
        }
        ndiffs++;
    }
    return j;
}

/* ---- what Liaison produced ---- */

typedef struct item {
    uint64_t line;
    int64_t id;
    json_t *ev; /* NULL for a quarantined row */
    char reason[300];
} item;

typedef struct got {
    item *it;
    size_t n, cap;
} got;

static item *push(got *g)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->it = realloc(g->it, g->cap * sizeof *g->it);
        if (!g->it)
            abort();
    }
    memset(&g->it[g->n], 0, sizeof g->it[0]);
    return &g->it[g->n++];
}

static int on_event(void *ud, const lia_event *ev)
{
    got *g = ud;
    lia_buf b;
    item *it = push(g);
    lia_buf_init(&b, 1u << 24);
    lia_event_to_json(ev, &b);
    it->ev = json_loads(lia_buf_cstr(&b), 0, NULL);
    it->line = ev->line;
    it->id = ev->id;
    lia_buf_free(&b);
    return it->ev ? 0 : 1;
}

static int on_qrow(void *ud, const lia_qrow *r)
{
    got *g = ud;
    item *it = push(g);
    it->line = r->line;
    it->id = r->id;
    snprintf(it->reason, sizeof it->reason, "%s%s%s", r->field ? r->field : "", r->field ? ": " : "",
             r->reason);
    return 0;
}

static int by_line(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if ((x->ev != NULL) != (y->ev != NULL))
        return x->ev ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* ---- comparing ---- */

typedef struct tally {
    int equal, known, bad;
} tally;

static int same_value(const char *key, json_t *a, json_t *b)
{
    if (json_equal(a, b))
        return 1;
    if (strncmp(key, "time.", 5) == 0 && json_is_string(a) && json_is_string(b)) {
        int64_t x, y;
        if (lia_parse_time(json_string_value(a), json_string_length(a), &x, NULL) == 0 &&
            lia_parse_time(json_string_value(b), json_string_length(b), &y, NULL) == 0)
            return x == y;
    }
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return 0;
}

static void report_bad(const char *cas, size_t idx, const char *key, const char *kind, json_t *exp,
                       json_t *act)
{
    char *e = exp ? json_dumps(exp, JSON_ENCODE_ANY) : NULL;
    char *a = act ? json_dumps(act, JSON_ENCODE_ANY) : NULL;
    printf("    %s event %zu: %s: %s (expected %s, Liaison %s)\n", cas, idx + 1, key, kind, e ? e : "absent",
           a ? a : "absent");
    free(e);
    free(a);
}

static void compare(const char *cas, size_t idx, json_t *exp, json_t *act, tally *t)
{
    const char *key;
    json_t *v;
    json_object_foreach(exp, key, v)
    {
        json_t *a;
        if (key[0] == '_' && key[1] == '_') /* "__type": IntelMQ's message class */
            continue;
        a = json_object_get(act, key);
        if (!a) {
            if (find_diff(cas, key, "missing"))
                t->known++;
            else {
                t->bad++;
                report_bad(cas, idx, key, "missing", v, NULL);
            }
        } else if (same_value(key, v, a)) {
            t->equal++;
        } else if (find_diff(cas, key, "value")) {
            t->known++;
        } else {
            t->bad++;
            report_bad(cas, idx, key, "different", v, a);
        }
    }
    json_object_foreach(act, key, v)
    {
        if (json_object_get(exp, key))
            continue;
        if (find_diff(cas, key, "extra"))
            t->known++;
        else {
            t->bad++;
            report_bad(cas, idx, key, "extra", NULL, v);
        }
    }
}

/* ---- one case ---- */

static char tmpdir[256];

static json_t *expected_events(const fcase *c, json_t *doc, json_t *report, const char *raw, size_t rawlen)
{
    json_t *out = json_array();
    json_t *consts = json_object_get(doc, "constants");
    char names[256];
    char *save, *tok;
    if (c->template_lines) {
        json_t *tpl = json_object_get(consts, c->events);
        size_t p = 0;
        while (p < rawlen) {
            const char *nl = memchr(raw + p, '\n', rawlen - p);
            size_t n = nl ? (size_t)(nl - raw - p) : rawlen - p;
            if (n) {
                json_t *e = json_deep_copy(tpl);
                json_object_set_new(e, "source.ip", json_stringn(raw + p, n));
                json_array_append_new(out, e);
            }
            p += n + 1;
        }
        return out;
    }
    if (!consts) /* Liaison's own expectations: {"case": [events]} */
        consts = doc;
    snprintf(names, sizeof names, "%s", c->events);
    for (tok = names; tok && *tok; tok = save) {
        json_t *v;
        save = strchr(tok, ',');
        if (save)
            *save++ = '\0';
        v = json_object_get(consts, tok);
        if (json_is_array(v))
            json_array_extend(out, v);
        else if (json_is_object(v))
            json_array_append(out, v);
    }
    (void)report;
    return out;
}

static int run_case(const fcase *c, const char *testdata, const char *confdir)
{
    char path[LIA_PATH_MAX], db[LIA_PATH_MAX], rpt[LIA_PATH_MAX], rname[256] = "";
    json_error_t je;
    json_t *doc = NULL, *report = NULL, *exp = NULL;
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    lia_store *s = NULL;
    lia_error err;
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_query q;
    got g = {0};
    tally t = {0, 0, 0};
    int ok = 0, rc;
    const char *feedname = NULL, *url = NULL, *obs = NULL;

    if (c->expected[0] == '@')
        pathf(path, sizeof path, "%s/feeds-expected/%s", confdir, c->expected + 1);
    else
        pathf(path, sizeof path, "%s/%s", testdata, c->expected);
    doc = json_load_file(path, 0, &je);
    if (!doc) {
        printf("FAIL %s: %s:%d: %s\n", c->name, path, je.line, je.text);
        goto out;
    }
    if (c->file) {
        FILE *f;
        long n;
        snprintf(path, sizeof path, "%s/%s", testdata, c->file);
        f = fopen(path, "rb");
        if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
            printf("FAIL %s: cannot read %s\n", c->name, path);
            if (f)
                fclose(f);
            goto out;
        }
        raw = malloc((size_t)n + 1);
        rawlen = fread(raw, 1, (size_t)n, f);
        fclose(f);
        snprintf(rname, sizeof rname, "%s", strrchr(c->file, '/') + 1);
    } else {
        const char *b64;
        size_t blen;
        if (c->report)
            report = json_object_get(json_object_get(doc, "constants"), c->report);
        else
            report = json_object_get(json_array_get(json_object_get(doc, "test_classes"), 0),
                                     "default_input_message");
        b64 = json_string_value(json_object_get(report, "raw"));
        if (!b64) {
            printf("FAIL %s: no report in %s\n", c->name, c->expected);
            goto out;
        }
        blen = strlen(b64);
        raw = malloc(blen + 1);
        if (sodium_base642bin(raw, blen, b64, blen, "\n", &rawlen, NULL, sodium_base64_VARIANT_ORIGINAL)) {
            printf("FAIL %s: report is not base64\n", c->name);
            goto out;
        }
        feedname = json_string_value(json_object_get(report, "feed.name"));
        url = json_string_value(json_object_get(report, "feed.url"));
        obs = json_string_value(json_object_get(report, "time.observation"));
        if (url && strrchr(url, '/'))
            snprintf(rname, sizeof rname, "%s", strrchr(url, '/') + 1);
    }
    pathf(rpt, sizeof rpt, "%s/%s", tmpdir, rname[0] ? rname : "report");
    {
        FILE *f = fopen(rpt, "wb");
        if (!f || fwrite(raw, 1, rawlen, f) != rawlen) {
            printf("FAIL %s: cannot write %s\n", c->name, rpt);
            if (f)
                fclose(f);
            goto out;
        }
        fclose(f);
    }
    exp = expected_events(c, doc, report, (const char *)raw, rawlen);

    pathf(db, sizeof db, "%s/store-%d.db", tmpdir, (int)(c - cases));
    lia_error_clear(&err);
    if (lia_store_open(db, &s, &err)) {
        char m[600];
        lia_error_format(&err, m, sizeof m);
        printf("FAIL %s: store: %s\n", c->name, m);
        goto out;
    }
    memset(&o, 0, sizeof o);
    o.format = c->format;
    o.path = rpt;
    o.archive = 0;
    /* the parser's output is compared: no enrichment, deduplication or routing */
    o.skip_stages = 1u << LIA_ST_ENRICH | 1u << LIA_ST_DEDUP | 1u << LIA_ST_ROUTE;
    o.feed.feed = feedname;
    o.feed.subtype = c->subtype;
    o.feed.report_name = rname[0] ? rname : NULL;
    o.feed.tlp = -1;
    o.feed.observed_us = 1420070400000000; /* 2015-01-01: any fixed time */
    if (obs)
        lia_parse_time(obs, strlen(obs), &o.feed.observed_us, NULL);
    if ((rc = lia_ingest(s, &o, &res, &err))) {
        char m[600];
        lia_error_format(&err, m, sizeof m);
        printf("FAIL %s: ingest: %s\n", c->name, m);
        goto out;
    }
    memset(&q, 0, sizeof q);
    if (lia_store_query(s, &q, on_event, &g, &err) ||
        lia_store_quarantine_list(s, NULL, 0, 0, on_qrow, &g, &err)) {
        printf("FAIL %s: reading the store back failed\n", c->name);
        goto out;
    }
    if (g.n > 1)
        qsort(g.it, g.n, sizeof *g.it, by_line);
    for (size_t i = 0; i < json_array_size(exp) || i < g.n; i++) {
        json_t *e = json_array_get(exp, i);
        if (!e) {
            t.bad++;
            printf("    %s: Liaison has %s %zu more than expected (line %llu)\n", c->name,
                   g.it[i].ev ? "an event" : "a quarantined row", i + 1, (unsigned long long)g.it[i].line);
        } else if (i >= g.n) {
            t.bad++;
            printf("    %s event %zu: missing from Liaison's output\n", c->name, i + 1);
        } else if (!g.it[i].ev) {
            if (find_diff(c->name, "*", "quarantined"))
                t.known++;
            else {
                t.bad++;
                printf("    %s event %zu: Liaison quarantined line %llu: %s\n", c->name, i + 1,
                       (unsigned long long)g.it[i].line, g.it[i].reason);
            }
        } else {
            compare(c->name, i, e, g.it[i].ev, &t);
        }
    }
    ok = t.bad == 0;
    printf("%s %s: %zu expected events, %zu produced, %d fields equal, %d known differences, "
           "%d unexpected\n",
           ok ? "PASS" : "FAIL", c->name, json_array_size(exp), g.n, t.equal, t.known, t.bad);
out:
    for (size_t i = 0; i < g.n; i++)
        json_decref(g.it[i].ev);
    free(g.it);
    if (s)
        lia_store_close(s);
    json_decref(exp);
    json_decref(doc);
    free(raw);
    return ok;
}

int main(int argc, char **argv)
{
    const char *testdata = getenv("LIAISON_TESTDATA");
    const char *root = getenv("LIAISON_SOURCE_ROOT");
    char confdir[LIA_PATH_MAX], dpath[LIA_PATH_MAX];
    json_t *dj;
    int passed = 0, failed = 0;
    if (!testdata || !root) {
        fprintf(stderr, "set LIAISON_TESTDATA and LIAISON_SOURCE_ROOT (meson test does)\n");
        return 1;
    }
    if (sodium_init() < 0)
        return 1;
    pathf(confdir, sizeof confdir, "%s/tests/conformance", root);
    pathf(dpath, sizeof dpath, "%s", argc > 1 ? argv[1] : "");
    if (!dpath[0])
        pathf(dpath, sizeof dpath, "%s/feeds-differences.json", confdir);
    if (!(dj = load_diffs(dpath)))
        return 1;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/liaison-feeds-conf-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (run_case(&cases[i], testdata, confdir))
            passed++;
        else
            failed++;
    }
    for (size_t i = 0; i < ndiffs; i++) {
        if (!diffs[i].used) {
            printf("FAIL differences: entry %zu (%s, %s, %s) never occurred; remove it\n", i + 1,
                   diffs[i].cas, diffs[i].field, diffs[i].kind);
            failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    free(diffs);
    json_decref(dj);
    return failed ? 1 : 0;
}
