/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Conformance runner: IntelMQ's Shadowserver parser test samples through
 * Liaison's "shadowserver" format, compared field by field.
 *
 *   conformance [DATA_DIR [DIFFERENCES_JSON]]
 *   (defaults: $LIAISON_TESTDATA/intelmq/shadowserver and
 *    $LIAISON_SOURCE_ROOT/tests/conformance/differences.json)
 *
 * For every DATA_DIR/<version>/expected/<test>.expected.json (see
 * tests/data/intelmq/SOURCE.md): each Report message of the test (the
 * default input message of its test classes, else every Report constant) is
 * decoded (raw is base64), written to a file and ingested through the public
 * API (lia_ingest into a fresh store; its extra.file_name selects the report
 * type, its feed.name and time.observation are passed on; a
 * <version>/schema.json.test beside the samples is used as the schema, as
 * IntelMQ's tests do). The stored events (lia_store_query) are compared with
 * the test's Event messages, in order, field by field: typed fields after
 * normalising the expected value with Liaison's own validator (so
 * "2022-03-02T00:34:22+00:00" equals "2022-03-02T00:34:22Z"), extra.* as JSON.
 * Every difference must be listed, with its reason, in the one reviewed
 * differences file; anything else fails the case.
 *
 * A test with no Event messages (broken.expected.json) holds reports the
 * parser must reject: each must either fail as a whole with a clear error or
 * have every row quarantined with a reason, and store no event.
 * A report whose type the schema does not know is skipped with the reason
 * (the 3.0.2 samples are reports Shadowserver has since dropped).
 *
 * Prints one line per case and a closing "N passed, N failed, N skipped";
 * exits 1 if any case failed. */
#include <dirent.h>
#include <fnmatch.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "liaison/liaison.h"

typedef struct rule {
    const char *cases, *field, *reason;
    json_t *expected, *got; /* "*" any, "<absent>", "<present>", or a value */
    unsigned used;
} rule;

static rule *rules;
static size_t nrules;
static json_t *rules_doc; /* rules borrow their strings from it */
static unsigned passed, failed, skipped;

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

static int load_rules(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je), *r, *v;
    size_t i;
    if (!j) {
        printf("FAIL differences file %s: line %d: %s\n", path, je.line, je.text);
        return -1;
    }
    r = json_object_get(j, "differences");
    if (!json_is_array(r)) {
        printf("FAIL differences file %s: \"differences\" (an array) is required\n", path);
        return -1;
    }
    rules = calloc(json_array_size(r) + 1, sizeof *rules);
    json_array_foreach(r, i, v)
    {
        rule *x = &rules[nrules++];
        x->cases = json_string_value(json_object_get(v, "cases"));
        x->field = json_string_value(json_object_get(v, "field"));
        x->reason = json_string_value(json_object_get(v, "reason"));
        x->expected = json_object_get(v, "expected");
        x->got = json_object_get(v, "got");
        if (!x->cases || !x->field || !x->reason || !*x->reason || !x->expected || !x->got) {
            printf("FAIL differences file %s: entry %zu: cases, field, expected, got and a reason are "
                   "required\n",
                   path, i + 1);
            return -1;
        }
    }
    rules_doc = j;
    return 0;
}

static int value_matches(json_t *pat, json_t *v)
{
    const char *s = json_string_value(pat);
    if (s && strcmp(s, "*") == 0)
        return 1;
    if (s && strcmp(s, "<absent>") == 0)
        return v == NULL;
    if (s && strcmp(s, "<present>") == 0)
        return v != NULL;
    return v && json_equal(pat, v);
}

static rule *find_rule(const char *cas, const char *field, json_t *exp, json_t *got)
{
    for (size_t i = 0; i < nrules; i++)
        if (fnmatch(rules[i].cases, cas, 0) == 0 && fnmatch(rules[i].field, field, 0) == 0 &&
            value_matches(rules[i].expected, exp) && value_matches(rules[i].got, got))
            return &rules[i];
    return NULL;
}

/* Canonical text of value v for field name k (typed fields through our
 * validator); NULL if v is not valid for it. */
static char *canonical(const char *k, json_t *v)
{
    char in[8192], out[8192];
    lia_event ev;
    lia_error err;
    int f = lia_field_lookup(k, strlen(k));
    char *r = NULL;
    if (f < 0 || !v)
        return NULL;
    if (json_is_string(v))
        snprintf(in, sizeof in, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(in, sizeof in, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(in, sizeof in, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(in, sizeof in, "%s", json_is_true(v) ? "true" : "false");
    else
        return NULL;
    lia_event_init(&ev);
    if (lia_event_set(&ev, (lia_field)f, in, strlen(in), &err) == LIA_OK) {
        lia_event_text(&ev, (lia_field)f, out, sizeof out);
        r = strdup(out);
    }
    lia_event_free(&ev);
    return r;
}

static int same(const char *k, json_t *exp, json_t *got)
{
    if (!exp || !got)
        return exp == got;
    if (json_equal(exp, got))
        return 1;
    if (json_is_number(exp) && json_is_number(got))
        return json_number_value(exp) == json_number_value(got);
    if (strncmp(k, "extra.", 6) != 0) {
        char *a = canonical(k, exp), *b = canonical(k, got);
        int eq = a && b && strcmp(a, b) == 0;
        free(a);
        free(b);
        return eq;
    }
    return 0;
}

typedef struct collected {
    json_t *events; /* array of our events as JSON objects */
} collected;

static int on_event(void *ud, const lia_event *ev)
{
    collected *c = ud;
    lia_buf b;
    json_t *j;
    lia_buf_init(&b, 1u << 24);
    lia_event_to_json(ev, &b);
    j = json_loadb(b.ptr, b.len, 0, NULL);
    lia_buf_free(&b);
    if (!j)
        return 1;
    json_array_append_new(c->events, j);
    return 0;
}

static int on_qrow(void *ud, const lia_qrow *q)
{
    json_t *a = ud;
    json_array_append_new(a, json_pack("{s:I,s:s,s:s}", "line", (json_int_t)q->line, "field",
                                       q->field ? q->field : "", "reason", q->reason ? q->reason : ""));
    return 0;
}

static void show(json_t *v, char *out, size_t n)
{
    char *s;
    if (!v) {
        snprintf(out, n, "<absent>");
        return;
    }
    s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(out, n, "%s", s ? s : "?");
    free(s);
}

typedef struct outcome {
    int rc;
    lia_error err;
    json_t *events, *quarantine;
    uint64_t rows;
} outcome;

/* Ingest one Report message into a fresh store under tmp. params: the
 * test class's bot parameters (IntelMQ's feedname = a fixed report type,
 * overwrite = feed.name from the schema rather than the report). */
static int run_report(const char *tmp, json_t *report, json_t *params, const char *schema, outcome *o)
{
    const char *raw = json_string_value(json_object_get(report, "raw"));
    const char *fname = json_string_value(json_object_get(report, "extra.file_name"));
    const char *feed = json_string_value(json_object_get(report, "feed.name"));
    const char *tobs = json_string_value(json_object_get(report, "time.observation"));
    char path[4096], db[4096];
    unsigned char *bin;
    size_t binlen = 0, rawlen = raw ? strlen(raw) : 0;
    FILE *f;
    lia_store *s = NULL;
    lia_ingest_opts io;
    lia_ingest_result res;
    lia_query q;
    collected c;
    memset(o, 0, sizeof *o);
    o->events = json_array();
    o->quarantine = json_array();
    bin = malloc(rawlen + 1);
    if (!bin || sodium_base642bin(bin, rawlen + 1, raw ? raw : "", rawlen, "\n", &binlen, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(bin);
        return lia_error_set(&o->err, LIA_EINVAL, "raw", NULL, 0, "raw is not base64");
    }
    {
        const char *b = fname ? strrchr(fname, '/') : NULL;
        snprintf(path, sizeof path, "%s/%s", tmp, b ? b + 1 : fname ? fname : "report.csv");
    }
    snprintf(db, sizeof db, "%s/store.db", tmp);
    f = fopen(path, "wb");
    if (!f || fwrite(bin, 1, binlen, f) != binlen) {
        free(bin);
        if (f)
            fclose(f);
        return lia_error_set(&o->err, LIA_EIO, NULL, NULL, 0, "cannot write %s", path);
    }
    fclose(f);
    free(bin);
    if ((o->rc = lia_store_open(db, &s, &o->err)))
        goto out;
    memset(&io, 0, sizeof io);
    io.format = "shadowserver";
    io.path = path;
    io.archive = 0;
    io.feed.feed = json_is_true(json_object_get(params, "overwrite")) ? NULL : feed;
    io.feed.report_name = fname;
    io.feed.subtype = json_string_value(json_object_get(params, "feedname"));
    io.feed.map_path = schema;
    io.feed.tlp = -1;
    /* the parser's output is compared: no enrichment, deduplication or routing */
    io.skip_stages = 1u << LIA_ST_ENRICH | 1u << LIA_ST_DEDUP | 1u << LIA_ST_ROUTE;
    if (!tobs || lia_parse_time(tobs, strlen(tobs), &io.feed.observed_us, NULL))
        io.feed.observed_us = 0;
    if ((o->rc = lia_ingest(s, &io, &res, &o->err)))
        goto out;
    o->rows = res.report.rows;
    memset(&q, 0, sizeof q);
    c.events = o->events;
    if ((o->rc = lia_store_query(s, &q, on_event, &c, &o->err)))
        goto out;
    o->rc = lia_store_quarantine_list(s, NULL, 0, 0, on_qrow, o->quarantine, &o->err);
out:
    lia_store_close(s);
    unlink(db);
    {
        char side[4200];
        snprintf(side, sizeof side, "%s-wal", db);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", db);
        unlink(side);
        snprintf(side, sizeof side, "%s.archive", db);
        rmdir(side);
    }
    unlink(path);
    return o->rc;
}

static const char *const ignored_keys[] = {"event.id", "report.id", "report.line", NULL};

/* Compare; prints FAIL lines; returns the number of untolerated differences. */
static unsigned compare(const char *cas, size_t idx, json_t *exp, json_t *got, unsigned *known)
{
    const char *k;
    json_t *v;
    unsigned bad = 0;
    char a[300], b[300];
    json_object_foreach(exp, k, v)
    {
        json_t *g = json_object_get(got, k);
        if (strcmp(k, "__type") == 0 || same(k, v, g))
            continue;
        if (find_rule(cas, k, v, g)) {
            find_rule(cas, k, v, g)->used++;
            (*known)++;
            continue;
        }
        show(v, a, sizeof a);
        show(g, b, sizeof b);
        printf("FAIL %s: event %zu: %s: expected %s got %s\n", cas, idx + 1, k, a, b);
        bad++;
    }
    json_object_foreach(got, k, v)
    {
        int skip = 0;
        for (size_t i = 0; ignored_keys[i]; i++)
            skip |= strcmp(k, ignored_keys[i]) == 0;
        if (skip || json_object_get(exp, k))
            continue;
        if (find_rule(cas, k, NULL, v)) {
            find_rule(cas, k, NULL, v)->used++;
            (*known)++;
            continue;
        }
        show(v, b, sizeof b);
        printf("FAIL %s: event %zu: %s: expected <absent> got %s\n", cas, idx + 1, k, b);
        bad++;
    }
    return bad;
}

static int is_type(json_t *m, const char *t)
{
    return json_is_object(m) && json_is_string(json_object_get(m, "__type")) &&
           strcmp(json_string_value(json_object_get(m, "__type")), t) == 0;
}

static int type_known(const lia_ss_schema *s, json_t *report, json_t *params)
{
    const char *fname = json_string_value(json_object_get(report, "extra.file_name"));
    const char *fixed = json_string_value(json_object_get(params, "feedname"));
    lia_error err;
    if (fixed)
        return lia_shadowserver_find(s, fixed) >= 0;
    return fname && lia_shadowserver_detect(s, fname, &err) >= 0;
}

static void run_test(const char *tmp, const char *verdir, const char *dir, const char *name, const char *file)
{
    json_error_t je;
    json_t *j = json_load_file(file, 0, &je), *consts, *v, *tc, *expected, *reports, *params;
    char cas[512], schema[LIA_PATH_MAX];
    const char *k, *sch = NULL;
    lia_ss_schema *ss = NULL;
    lia_error err;
    size_t i;
    struct stat st;
    if (!j) {
        printf("FAIL %s/%s: %s\n", dir, name, je.text);
        failed++;
        return;
    }
    pathf(schema, sizeof schema, "%s/schema.json.test", verdir);
    if (stat(schema, &st) == 0)
        sch = schema;
    if (lia_shadowserver_load(sch, &ss, &err)) {
        printf("FAIL %s/%s: schema: %s\n", dir, name, err.reason);
        failed++;
        json_decref(j);
        return;
    }
    consts = json_object_get(j, "constants");
    expected = json_array();
    reports = json_array();
    json_object_foreach(consts, k, v)
    {
        if (is_type(v, "Event"))
            json_array_append(expected, v);
        else if (json_is_array(v)) {
            json_t *e;
            json_array_foreach(v, i, e) if (is_type(e, "Event")) json_array_append(expected, e);
        }
    }
    params = json_array();
    json_array_foreach(json_object_get(j, "test_classes"), i, tc)
    {
        json_t *m = json_object_get(tc, "default_input_message");
        if (is_type(m, "Report")) {
            json_array_append(reports, m);
            json_array_append(params, json_object_get(tc, "parameters"));
        }
    }
    if (json_array_size(reports) == 0) { /* e.g. broken: every Report constant */
        json_t *p0 = json_object_get(json_array_get(json_object_get(j, "test_classes"), 0), "parameters");
        json_object_foreach(consts, k, v) if (is_type(v, "Report"))
        {
            json_array_append(reports, v);
            json_array_append(params, p0 ? p0 : json_null());
        }
    }

    json_array_foreach(reports, i, v)
    {
        outcome o;
        unsigned known = 0, bad = 0;
        const char *fname = json_string_value(json_object_get(v, "extra.file_name"));
        if (json_array_size(reports) > 1) {
            const char *key = "?";
            json_t *c;
            json_object_foreach(consts, key, c) if (c == v) break;
            snprintf(cas, sizeof cas, "%s/%s/%s", dir, name, key);
        } else {
            snprintf(cas, sizeof cas, "%s/%s", dir, name);
        }
        json_t *par = json_array_get(params, i);
        if (json_array_size(expected) && !type_known(ss, v, par)) {
            printf("skip %s: report type of %s is not in the %s schema (Shadowserver no longer "
                   "publishes it)\n",
                   cas, fname ? fname : "(no file name)", sch ? "test" : "Shadowserver");
            skipped++;
            continue;
        }
        run_report(tmp, v, par, sch, &o);
        if (json_array_size(expected) == 0) {
            /* must be rejected: a report error, or every row quarantined */
            if (o.rc != LIA_OK) {
                char line[600];
                lia_error_format(&o.err, line, sizeof line);
                printf("ok %s: rejected: %s\n", cas, line);
                passed++;
            } else if (json_array_size(o.events) == 0 && json_array_size(o.quarantine) > 0 &&
                       json_array_size(o.quarantine) == o.rows) {
                json_t *q;
                size_t qi;
                int reasons = 1;
                json_array_foreach(o.quarantine, qi, q) reasons &=
                    *json_string_value(json_object_get(q, "reason")) != '\0';
                q = json_array_get(o.quarantine, 0);
                if (reasons) {
                    printf("ok %s: %zu row(s) quarantined, e.g. line %lld: %s: %s\n", cas,
                           json_array_size(o.quarantine), (long long)json_integer_value(json_object_get(q, "line")),
                           json_string_value(json_object_get(q, "field")),
                           json_string_value(json_object_get(q, "reason")));
                    passed++;
                } else {
                    printf("FAIL %s: quarantined rows without a reason\n", cas);
                    failed++;
                }
            } else {
                printf("FAIL %s: broken report accepted: %zu events, %zu of %llu rows quarantined\n", cas,
                       json_array_size(o.events), json_array_size(o.quarantine), (unsigned long long)o.rows);
                failed++;
            }
        } else if (o.rc != LIA_OK) {
            char line[600];
            lia_error_format(&o.err, line, sizeof line);
            printf("FAIL %s: ingest failed: %s\n", cas, line);
            failed++;
        } else {
            size_t ne = json_array_size(expected), ng = json_array_size(o.events), x;
            json_t *q;
            json_array_foreach(o.quarantine, x, q)
            {
                printf("FAIL %s: line %lld quarantined: %s: %s\n", cas,
                       (long long)json_integer_value(json_object_get(q, "line")),
                       json_string_value(json_object_get(q, "field")),
                       json_string_value(json_object_get(q, "reason")));
                bad++;
            }
            if (ng < ne) {
                printf("FAIL %s: %zu events expected, %zu stored\n", cas, ne, ng);
                bad++;
            }
            for (x = 0; x < ne && x < ng; x++)
                bad += compare(cas, x, json_array_get(expected, x), json_array_get(o.events, x), &known);
            if (bad) {
                failed++;
            } else {
                printf("ok %s: %zu events match (%u listed differences)%s\n", cas, ne, known,
                       ng > ne ? "; more rows than the sample's expectations, not compared" : "");
                passed++;
            }
        }
        json_decref(o.events);
        json_decref(o.quarantine);
    }
    json_decref(expected);
    json_decref(reports);
    json_decref(params);
    lia_shadowserver_free(ss);
    json_decref(j);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted entries of a directory (not starting with "."). */
static char **list_dir(const char *path, size_t *n)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char **v = NULL;
    size_t cap = 0;
    *n = 0;
    if (!d)
        return NULL;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            v = realloc(v, cap * sizeof *v);
        }
        v[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (v)
        qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

int main(int argc, char **argv)
{
    char data[4096], diffs[4096], tmp[] = "/tmp/liaison-conformance-XXXXXX";
    const char *td = getenv("LIAISON_TESTDATA"), *root = getenv("LIAISON_SOURCE_ROOT");
    char **dirs;
    size_t ndirs;
    if (sodium_init() < 0)
        return 1;
    snprintf(data, sizeof data, "%s", argc > 1 ? argv[1] : "");
    if (argc <= 1)
        snprintf(data, sizeof data, "%s/intelmq/shadowserver", td ? td : "tests/data");
    if (argc > 2)
        snprintf(diffs, sizeof diffs, "%s", argv[2]);
    else
        snprintf(diffs, sizeof diffs, "%s/tests/conformance/differences.json", root ? root : ".");
    if (load_rules(diffs))
        return 1;
    if (!mkdtemp(tmp)) {
        printf("FAIL cannot create a temporary directory\n");
        return 1;
    }
    dirs = list_dir(data, &ndirs);
    if (!ndirs)
        printf("FAIL no samples in %s\n", data), failed++;
    for (size_t i = 0; i < ndirs; i++) {
        char exp[LIA_PATH_MAX];
        char **files;
        size_t nfiles;
        pathf(exp, sizeof exp, "%s/%s/expected", data, dirs[i]);
        files = list_dir(exp, &nfiles);
        for (size_t k = 0; k < nfiles; k++) {
            char file[LIA_PATH_MAX], name[256];
            size_t l = strlen(files[k]);
            if (l > 14 && strcmp(files[k] + l - 14, ".expected.json") == 0) {
                pathf(file, sizeof file, "%s/%s", exp, files[k]);
                snprintf(name, sizeof name, "%.*s", (int)(l - 14), files[k]);
                {
                    char verdir[LIA_PATH_MAX];
                    pathf(verdir, sizeof verdir, "%s/%s", data, dirs[i]);
                    run_test(tmp, verdir, dirs[i], name, file);
                }
            }
            free(files[k]);
        }
        free(files);
        free(dirs[i]);
    }
    free(dirs);
    rmdir(tmp);
    for (size_t i = 0; i < nrules; i++)
        printf("difference %zu (%s %s): used %u times: %s\n", i + 1, rules[i].cases, rules[i].field,
               rules[i].used, rules[i].reason);
    printf("conformance: %u passed, %u failed, %u skipped\n", passed, failed, skipped);
    free(rules);
    json_decref(rules_doc);
    return failed ? 1 : 0;
}
