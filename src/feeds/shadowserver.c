/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "shadowserver": one engine interpreting Shadowserver's report
 * schema (include/liaison/shadowserver.h). No per-report code.
 *
 * Per row, as IntelMQ's Shadowserver parser does with the same schema:
 *  1. required columns (must be in the header), then optional ones, each
 *     through its conversion (the lia_convs table, plus the two that read
 *     other columns of the row) into its field or extra.KEY
 *     ("extra." alone = extra.<column>);
 *  2. a value that fails its conversion or its field's validation
 *     quarantines the row when the column is required; when it is optional
 *     the raw text is kept as extra.<column> (nothing is dropped);
 *  3. constant fields; feed.name (unless the ingest gives one) and
 *     feed.documentation from the schema;
 *  4. every non-empty column no mapping consumed goes to extra.<column>.
 *
 * Rows are taken as Python's csv reader gives them to IntelMQ: a short row
 * is padded with empty fields, a long row's surplus values are kept as
 * extra.column_N. The JSON delivery (an object per row) goes through the
 * same steps, with the object's keys as the header; its numbers and
 * booleans keep their JSON type. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/floattext.h"
#include "core/jsonget.h"
#include "core/path.h"
#include "feeds/csvmap.h"
#include "feeds/objrec.h"
#include "feeds/shadowserver_internal.h"
#include "liaison/limits.h"
#include "liaison/shadowserver.h"
#include "core/field_internal.h"
#include "core/records.h"

extern const unsigned char lia__ss_builtin[];
extern const size_t lia__ss_builtin_len;
extern const unsigned char lia__ss_retired[];
extern const size_t lia__ss_retired_len;

enum { SS_EXTRA = -1, SS_IGNORE = -3 };
enum { RC_NONE = 0, RC_HOST_URL = 1, RC_CATEGORY = 2 };

typedef struct ss_map {
    char *column;
    int field;          /* lia_field, SS_EXTRA or SS_IGNORE */
    char *key;          /* extra key (without "extra.") */
    size_t klen;
    lia_conv_fn conv;
    int rowconv;        /* RC_*: a conversion that reads other columns */
    int required;
    int time_fast;      /* a time field through add_UTC / convert_date_utc */
} ss_map;

typedef struct ss_const {
    int field;          /* lia_field, SS_EXTRA or SS_IGNORE */
    char *target;
    char *value;        /* as in the schema */
    char *norm;         /* normalised text of a string-typed field, or NULL */
    size_t nlen;
    lia_value v;        /* the value of other types, validated at load */
} ss_const;

typedef struct ss_report {
    char *name, *feed_name, *file_name, *url;
    ss_map *maps;       /* required first, then optional, in schema order */
    size_t nmaps, nreq;
    ss_const *consts;
    size_t nconsts;
    char *problem;      /* why the report cannot be used, or NULL */
    int retired;        /* from share/shadowserver/retired.json */
} ss_report;

struct lia_ss_schema {
    ss_report *r;
    size_t n;
    char *date;
};

/* ---- schema ---- */

static const struct {
    const char *name;
    int rc;
} row_convs[] = {
    {"convert_http_host_and_url", RC_HOST_URL},
    {"category_or_detail", RC_CATEGORY},
};

static void report_free(ss_report *r)
{
    for (size_t i = 0; i < r->nmaps; i++) {
        free(r->maps[i].column);
        free(r->maps[i].key);
    }
    for (size_t i = 0; i < r->nconsts; i++) {
        free(r->consts[i].target);
        free(r->consts[i].value);
        free(r->consts[i].norm);
    }
    free(r->maps);
    free(r->consts);
    free(r->name);
    free(r->feed_name);
    free(r->file_name);
    free(r->url);
    free(r->problem);
}

void lia_shadowserver_free(lia_ss_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        report_free(&s->r[i]);
    free(s->r);
    free(s->date);
    free(s);
}

static int key_ok(const char *k, size_t n)
{
    if (n == 0 || n > LIA_MAX_KEY)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              (i > 0 && i + 1 < n && (c == '.' || c == '-'))))
            return 0;
    }
    return 1;
}

/* A column name as an extra key: lower case, other characters as "_". */
static char *column_key(const char *col)
{
    char *k = strdup(col);
    if (!k)
        return NULL;
    for (char *p = k; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
        else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                   (p > k && p[1] && (*p == '.' || *p == '-'))))
            *p = '_';
    }
    if (strlen(k) > LIA_MAX_KEY)
        k[LIA_MAX_KEY] = '\0';
    return k;
}

#define BAD(...) lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, __VA_ARGS__)

static int set_problem(ss_report *r, const char *fmt, const char *a, const char *b)
{
    char buf[512];
    if (r->problem)
        return LIA_OK; /* the first one is enough */
    snprintf(buf, sizeof buf, fmt, a, b);
    return (r->problem = strdup(buf)) ? LIA_OK : LIA_ENOMEM;
}

/* An unknown field: IntelMQ keeps an optional one's value as extra.<field>
 * (so a newer schema's fields still arrive); a required one makes the
 * report unusable (every row would fail), with the reason kept. */
static int parse_map(json_t *v, const char *sname, const char *rname, const char *sect, size_t idx,
                     int required, ss_map *m, ss_report *r, lia_error *err)
{
    json_t *t, *c, *cv = NULL, *fl = NULL;
    const char *target;
    size_t n = json_is_array(v) ? json_array_size(v) : 0;
    memset(m, 0, sizeof *m);
    if (n < 2 || n > 4)
        return BAD("schema %s: report %s: %s[%zu]: [field, column, conversion?, with_row?] expected",
                   sname, rname, sect, idx);
    t = json_array_get(v, 0);
    c = json_array_get(v, 1);
    if (n > 2)
        cv = json_array_get(v, 2);
    if (n > 3)
        fl = json_array_get(v, 3);
    if (!json_is_string(c) || json_string_length(c) == 0)
        return BAD("schema %s: report %s: %s[%zu]: the column must be a non-empty string", sname, rname,
                   sect, idx);
    if (cv && !json_is_null(cv) && !json_is_string(cv))
        return BAD("schema %s: report %s: %s[%zu]: the conversion must be a name", sname, rname, sect, idx);
    if (fl && !json_is_boolean(fl))
        return BAD("schema %s: report %s: %s[%zu]: the 4th element must be true or false", sname, rname,
                   sect, idx);
    if (!(m->column = strdup(json_string_value(c))))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    m->required = required;
    if (json_is_false(t)) {
        m->field = SS_IGNORE;
    } else if (!json_is_string(t)) {
        return BAD("schema %s: report %s: %s[%zu] (column %s): the field must be a name or false", sname,
                   rname, sect, idx, m->column);
    } else if (strncmp((target = json_string_value(t)), "extra.", 6) == 0) {
        const char *k = target[6] ? target + 6 : m->column;
        m->field = SS_EXTRA;
        m->key = target[6] ? strdup(k) : column_key(k);
        if (!m->key)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        m->klen = strlen(m->key);
        if (!key_ok(m->key, m->klen))
            return BAD("schema %s: report %s: %s[%zu] (column %s): \"%s\" is not a valid extra key", sname,
                       rname, sect, idx, m->column, target);
    } else {
        m->field = lia_field_lookup(target, strlen(target));
        if (m->field < 0 && !key_ok(target, strlen(target)))
            return BAD("schema %s: report %s: %s[%zu] (column %s): \"%s\" is not a field name", sname, rname,
                       sect, idx, m->column, target);
        if (m->field < 0 && required) {
            if (set_problem(r, "required column %s maps to field \"%s\", which Liaison does not have",
                            m->column, target))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            m->field = SS_IGNORE;
        } else if (m->field < 0) {
            m->field = SS_EXTRA;
            if (!(m->key = strdup(target)))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            m->klen = strlen(m->key);
        }
    }
    if (cv && json_is_string(cv)) {
        const char *name = json_string_value(cv);
        for (size_t i = 0; i < sizeof row_convs / sizeof row_convs[0]; i++)
            if (strcmp(name, row_convs[i].name) == 0)
                m->rowconv = row_convs[i].rc;
        if (!m->rowconv && !(m->conv = lia_conv_find(name)))
            return BAD("schema %s: report %s: %s[%zu] (column %s): unknown conversion \"%s\"", sname, rname,
                       sect, idx, m->column, name);
        m->time_fast = m->field >= 0 && lia__field_type((lia_field)m->field) == LIA_T_TIME &&
                       (m->conv == lia__conv_add_utc || m->conv == lia__conv_date_utc);
    }
    return LIA_OK;
}

static int const_text(json_t *v, char *buf, size_t n, const char **out)
{
    if (json_is_string(v))
        *out = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v)), *out = buf;
    else if (json_is_real(v))
        lia__float_text(json_real_value(v), buf, n), *out = buf;
    else if (json_is_boolean(v))
        *out = json_is_true(v) ? "true" : "false";
    else
        return -1;
    return 0;
}

static int parse_report(const char *sname, const char *rname, json_t *o, ss_report *r, lia_event *tmp,
                        lia_error *err)
{
    static const char *const strs[] = {"feed_name", "file_name", "url"};
    json_t *v;
    const char *key;
    int rc;
    memset(r, 0, sizeof *r);
    if (!(r->name = strdup(rname)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (!json_is_object(o))
        return BAD("schema %s: report %s: an object is expected", sname, rname);
    for (size_t i = 0; i < 3; i++) {
        v = json_object_get(o, strs[i]);
        if (i < 2 && (!json_is_string(v) || json_string_length(v) == 0))
            return BAD("schema %s: report %s: \"%s\" (a non-empty string) is required", sname, rname, strs[i]);
        if (v && !json_is_string(v))
            return BAD("schema %s: report %s: \"%s\" must be a string", sname, rname, strs[i]);
    }
    r->feed_name = strdup(json_string_value(json_object_get(o, "feed_name")));
    r->file_name = strdup(json_string_value(json_object_get(o, "file_name")));
    v = json_object_get(o, "url");
    r->url = strdup(v ? json_string_value(v) : "");
    if (!r->feed_name || !r->file_name || !r->url)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (strpbrk(r->file_name, "-./ "))
        return BAD("schema %s: report %s: file_name \"%s\" may not contain '-', '.', '/' or spaces", sname,
                   rname, r->file_name);
    {
        json_t *req = json_object_get(o, "required_fields"), *opt = json_object_get(o, "optional_fields");
        size_t nreq, nopt, i;
        if ((req && !json_is_array(req)) || (opt && !json_is_array(opt)))
            return BAD("schema %s: report %s: required_fields and optional_fields must be arrays", sname, rname);
        nreq = req ? json_array_size(req) : 0;
        nopt = opt ? json_array_size(opt) : 0;
        r->maps = calloc(nreq + nopt + 1, sizeof *r->maps);
        if (!r->maps)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        json_array_foreach(req, i, v)
        {
            rc = parse_map(v, sname, rname, "required_fields", i, 1, &r->maps[r->nmaps++], r, err);
            if (rc)
                return rc;
        }
        r->nreq = r->nmaps;
        json_array_foreach(opt, i, v)
        {
            ss_map *m = &r->maps[r->nmaps++];
            rc = parse_map(v, sname, rname, "optional_fields", i, 0, m, r, err);
            if (rc)
                return rc;
            for (size_t k = 0; k + 1 < r->nmaps; k++) { /* the same mapping twice: once is enough */
                const ss_map *p = &r->maps[k];
                if (p->field == m->field && p->conv == m->conv && p->rowconv == m->rowconv &&
                    strcmp(p->column, m->column) == 0 && (!p->key) == (!m->key) &&
                    (!p->key || strcmp(p->key, m->key) == 0)) {
                    free(m->column);
                    free(m->key);
                    r->nmaps--;
                    break;
                }
            }
        }
    }
    v = json_object_get(o, "constant_fields");
    if (v && !json_is_object(v))
        return BAD("schema %s: report %s: constant_fields must be an object", sname, rname);
    r->consts = calloc(json_object_size(v) + 1, sizeof *r->consts);
    if (!r->consts)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_event_reset(tmp);
    json_object_foreach(v, key, o)
    {
        char buf[64];
        const char *text;
        lia_error e;
        ss_const *c = &r->consts[r->nconsts];
        if (const_text(o, buf, sizeof buf, &text))
            return BAD("schema %s: report %s: constant_fields.%s: a string, number or boolean is expected",
                       sname, rname, key);
        c->target = strdup(key);
        c->value = strdup(text);
        if (!c->target || !c->value) {
            free(c->target);
            free(c->value);
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        }
        r->nconsts++;
        if (strncmp(key, "extra.", 6) == 0) {
            c->field = SS_EXTRA;
            if (!key_ok(key + 6, strlen(key + 6)))
                return BAD("schema %s: report %s: constant_fields.%s: not a valid extra key", sname, rname, key);
            continue;
        }
        c->field = lia_field_lookup(key, strlen(key));
        if (c->field < 0) {
            if (!key_ok(key, strlen(key)))
                return BAD("schema %s: report %s: constant_fields.%s: not a field name", sname, rname, key);
            if (set_problem(r, "constant field \"%s\"%s is not a field Liaison has", key, ""))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            c->field = SS_IGNORE;
            continue;
        }
        int set_rc = lia_event_set(tmp, (lia_field)c->field, text, strlen(text), &e);
        if (set_rc == LIA_ENOMEM)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        if (set_rc)
            return BAD("schema %s: report %s: constant_fields.%s: \"%s\": %s", sname, rname, key, text, e.reason);
        c->v = tmp->v[c->field];
        if (lia__ftype_is_text(lia__field_type((lia_field)c->field))) {
            lia_slice t = lia_event_str(tmp, (lia_field)c->field);
            if (!(c->norm = strndup(t.ptr, t.len)))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            c->nlen = t.len;
        }
    }
    if (r->nconsts && !r->problem) {
        lia_error e;
        if (lia_event_finish(tmp, &e))
            return BAD("schema %s: report %s: constant_fields: %s", sname, rname, e.reason);
    }
    return LIA_OK;
}

static int cmp_report(const void *a, const void *b)
{
    return strcmp(((const ss_report *)a)->name, ((const ss_report *)b)->name);
}

int lia__shadowserver_parse(const char *json, size_t len, const char *name, lia_ss_schema **out,
                            lia_error *err)
{
    json_error_t je;
    json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je), *v;
    lia_ss_schema *s = NULL;
    lia_event tmp;
    const char *key;
    int rc = LIA_OK;
    lia_event_init(&tmp);
    if (!j) {
        rc = lia_error_set(err, lia__json_oom(&je) ? LIA_ENOMEM : LIA_EPARSE, NULL, NULL, 0,
                           "schema %s: line %d: %s", name, je.line, je.text);
        goto out;
    }
    if (!json_is_object(j)) {
        rc = BAD("schema %s: a JSON object of reports is expected", name);
        goto out;
    }
    if (!(s = calloc(1, sizeof *s)) || !(s->r = calloc(json_object_size(j) + 1, sizeof *s->r))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    json_object_foreach(j, key, v)
    {
        if (strcmp(key, "_meta") == 0) {
            json_t *d = json_object_get(v, "date_created");
            if (!json_is_object(v)) {
                rc = BAD("schema %s: _meta must be an object", name);
                goto out;
            }
            if (json_is_string(d) && !(s->date = strdup(json_string_value(d)))) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                goto out;
            }
            continue;
        }
        rc = parse_report(name, key, v, &s->r[s->n], &tmp, err);
        s->n++;
        if (rc)
            goto out;
    }
    if (s->n == 0) {
        rc = BAD("schema %s: no report in it", name);
        goto out;
    }
    qsort(s->r, s->n, sizeof *s->r, cmp_report);
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = i + 1; k < s->n; k++)
            if (strcmp(s->r[i].file_name, s->r[k].file_name) == 0) {
                rc = BAD("schema %s: reports %s and %s have the same file_name \"%s\"", name, s->r[i].name,
                         s->r[k].name, s->r[i].file_name);
                goto out;
            }
    *out = s;
    s = NULL;
out:
    lia_event_free(&tmp);
    lia_shadowserver_free(s);
    json_decref(j);
    return rc;
}

/* The report types Shadowserver has retired (share/shadowserver/retired.json,
 * built in) join a loaded schema unless it has a report of the same name or
 * file name: archived reports of those types stay readable. */
static int add_retired(lia_ss_schema *s, lia_error *err)
{
    lia_ss_schema *t = NULL;
    ss_report *grown;
    size_t add = 0;
    int rc =
        lia__shadowserver_parse((const char *)lia__ss_retired, lia__ss_retired_len, "(retired)", &t, err);
    if (rc)
        return rc;
    if (!(grown = realloc(s->r, (s->n + t->n + 1) * sizeof *s->r))) {
        lia_shadowserver_free(t);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    s->r = grown;
    for (size_t i = 0; i < t->n; i++) {
        int clash = 0;
        for (size_t k = 0; k < s->n && !clash; k++)
            clash =
                strcmp(s->r[k].name, t->r[i].name) == 0 || strcmp(s->r[k].file_name, t->r[i].file_name) == 0;
        if (clash) {
            report_free(&t->r[i]);
            continue;
        }
        s->r[s->n + add] = t->r[i];
        s->r[s->n + add].retired = 1;
        add++;
    }
    s->n += add;
    t->n = 0;
    lia_shadowserver_free(t);
    qsort(s->r, s->n, sizeof *s->r, cmp_report);
    return LIA_OK;
}

static int load_file(const char *path, lia_ss_schema **out, lia_error *err);

int lia_shadowserver_load(const char *path, lia_ss_schema **out, lia_error *err)
{
    lia_ss_schema *s = NULL;
    int rc = path ? load_file(path, &s, err)
                  : lia__shadowserver_parse((const char *)lia__ss_builtin, lia__ss_builtin_len, "(built-in)",
                                            &s, err);
    if (rc)
        return rc;
    if ((rc = add_retired(s, err))) {
        lia_shadowserver_free(s);
        return rc;
    }
    *out = s;
    return LIA_OK;
}

static int load_file(const char *path, lia_ss_schema **out, lia_error *err)
{
    lia_buf b;
    int rc;
    if ((rc = lia__file_read(path, LIA_MAX_SCHEMA, &b, err))) {
        if (rc == LIA_ENOTFOUND && err) /* a named schema that is missing: LIA_EIO, as before */
            err->code = LIA_EIO;
        return rc == LIA_ENOTFOUND ? LIA_EIO : rc;
    }
    rc = lia__shadowserver_parse(b.ptr, b.len, path, out, err);
    lia_buf_free(&b);
    return rc;
}

size_t lia_shadowserver_count(const lia_ss_schema *s) { return s->n; }

const char *lia_shadowserver_date(const lia_ss_schema *s) { return s->date ? s->date : ""; }

static const char *const_of(const ss_report *r, const char *target)
{
    for (size_t i = 0; i < r->nconsts; i++)
        if (strcmp(r->consts[i].target, target) == 0)
            return r->consts[i].value;
    return "";
}

void lia_shadowserver_report(const lia_ss_schema *s, size_t i, lia_ss_report_info *out)
{
    const ss_report *r = &s->r[i];
    out->name = r->name;
    out->feed_name = r->feed_name;
    out->file_name = r->file_name;
    out->url = r->url;
    out->taxonomy = const_of(r, "classification.taxonomy");
    out->type = const_of(r, "classification.type");
    out->identifier = const_of(r, "classification.identifier");
    out->problem = r->problem ? r->problem : "";
    out->retired = r->retired;
    out->nrequired = r->nreq;
    out->noptional = r->nmaps - r->nreq;
}

const char *lia_shadowserver_column(const lia_ss_schema *s, size_t i, size_t j, int *required)
{
    *required = s->r[i].maps[j].required;
    return s->r[i].maps[j].column;
}

int lia_shadowserver_find(const lia_ss_schema *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->r[i].name, name) == 0)
            return (int)i;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->r[i].file_name, name) == 0)
            return (int)i;
    /* a feed name may be shared by a current and a retired type: current first */
    for (int retired = 0; retired < 2; retired++)
        for (size_t i = 0; i < s->n; i++)
            if (s->r[i].retired == retired && strcmp(s->r[i].feed_name, name) == 0)
                return (int)i;
    return -1;
}

int lia_shadowserver_detect(const lia_ss_schema *s, const char *file_name, lia_error *err)
{
    const char *b = strrchr(file_name, '/');
    size_t n, best = 0;
    int found = -1;
    b = b ? b + 1 : file_name;
    n = strlen(b);
    /* optional leading date: YYYY-MM-DD- */
    if (n > 11 && b[4] == '-' && b[7] == '-' && b[10] == '-') {
        int ok = 1;
        for (int i = 0; i < 10; i++)
            if (i != 4 && i != 7 && (b[i] < '0' || b[i] > '9'))
                ok = 0;
        if (ok) {
            b += 11;
            n -= 11;
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        size_t fl = strlen(s->r[i].file_name);
        if (fl <= n && fl > best && memcmp(b, s->r[i].file_name, fl) == 0 &&
            (b[fl] == '\0' || b[fl] == '-' || b[fl] == '.')) {
            best = fl;
            found = (int)i;
        }
    }
    if (found < 0)
        return lia_error_set(err, LIA_ENOTFOUND, NULL, file_name, strlen(file_name),
                             "no Shadowserver report type matches this file name (expected "
                             "DATE-TYPE-....csv, e.g. 2024-05-01-scan_ics-asn.csv; see liaison "
                             "shadowserver reports, or give the type with --report)");
    return found;
}

static int store_base(const char *store_path, char *out, size_t n)
{
    int w;
    if (strncmp(store_path, "sqlite:", 7) == 0)
        store_path += 7;
    w = snprintf(out, n, "%s.schema", store_path);
    return (w < 0 || (size_t)w >= n) ? LIA_ELIMIT : LIA_OK;
}

int lia_shadowserver_installed(const char *store_path, char *out, size_t n)
{
    size_t l;
    struct stat st;
    if (store_base(store_path, out, n))
        return LIA_ELIMIT;
    l = strlen(out);
    if (l + sizeof "/shadowserver.json" > n)
        return LIA_ELIMIT;
    memcpy(out + l, "/shadowserver.json", sizeof "/shadowserver.json");
    return stat(out, &st) == 0 ? 1 : 0;
}

int lia_shadowserver_install(const char *store_path, const char *src, size_t *count, size_t *unusable,
                             lia_error *err)
{
    char dir[LIA_PATH_MAX], dst[LIA_PATH_MAX], tmp[LIA_PATH_MAX];
    lia_ss_schema *s = NULL;
    FILE *in = NULL, *o = NULL;
    char buf[65536];
    size_t got;
    int rc, fd = -1;
    if ((rc = load_file(src, &s, err)))
        return rc;
    if (count)
        *count = s->n;
    if (unusable) {
        *unusable = 0;
        for (size_t i = 0; i < s->n; i++)
            *unusable += s->r[i].problem != NULL;
    }
    lia_shadowserver_free(s);
    if (store_base(store_path, dir, sizeof dir) || lia_shadowserver_installed(store_path, dst, sizeof dst) < 0)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "store path too long");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot create %s: %s", dir, strerror(errno));
    if ((rc = lia__path_fmt(tmp, sizeof tmp, err, "schema temporary file", "%s/.shadowserver-XXXXXX", dir)))
        return rc;
    if ((fd = mkstemp(tmp)) < 0)
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot create a file in %s: %s", dir, strerror(errno));
    o = fdopen(fd, "wb");
    in = fopen(src, "rb");
    if (!o || !in) {
        rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot copy %s: %s", src, strerror(errno));
        goto out;
    }
    fd = -1;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, got, o) != got) {
            rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot write %s: %s", tmp, strerror(errno));
            goto out;
        }
    if (ferror(in) || fflush(o) != 0 || fsync(fileno(o)) != 0) {
        rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot copy %s to %s", src, tmp);
        goto out;
    }
    fclose(o);
    o = NULL;
    if (rename(tmp, dst) != 0) {
        rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot install %s: %s", dst, strerror(errno));
        goto out;
    }
    tmp[0] = '\0';
out:
    if (in)
        fclose(in);
    if (o)
        fclose(o);
    if (fd >= 0)
        close(fd);
    if (tmp[0])
        unlink(tmp);
    return rc;
}

/* ---- the format ---- */

enum { COL_CC_DNS, COL_HTTP_HOST, COL_URL, COL_HTTP_URL, COL_APPLICATION, COL_DETAIL, COL__N };
static const char *const row_cols[COL__N] = {"cc_dns", "http_host", "url", "http_url", "application", "detail"};

typedef struct ss_act {
    const ss_map *m;
    uint32_t col;
} ss_act;

typedef struct ssfmt {
    lia_ss_schema *schema;
    int own_schema;
    const ss_report *rep;
    const char *feed;        /* feed.name given by the ingest, or NULL */
    lia_csv *csv;
    lia_records *out;
    const char *chunk;
    size_t chunklen;
    int have_header;
    char **hdr;              /* header names */
    char **xkey;             /* extra key of each column */
    size_t *xklen;
    size_t nhdr;
    ss_act *act;
    size_t nact;
    uint8_t *used;           /* per row: column consumed by a mapping */
    int rowcol[COL__N];      /* header index or -1 */
    int trusted;             /* all extra keys valid and distinct: skip the per-value checks */
    lia_buf scratch;
    lia_buf lenient;         /* fields of a row re-read leniently */
    lia_slice *lfields;      /* LIA_MAX_SS_COLUMNS slices into lenient */
    lia_slice *pad;          /* nhdr slices: a short row padded, or a JSON row */
    uint8_t *kinds;          /* nhdr LIA_J_* of a JSON row's values */
    int mode;                /* 0 undecided, SS_CSV, SS_JSON */
    lia_objrec jr;           /* the JSON delivery: splitter and object reader */
    int fatal;
    lia_error fatal_err;
    char warning[512]; /* about the whole report, or "" */
} ssfmt;

enum { SS_CSV = 1, SS_JSON = 2 };

static void free_header(ssfmt *f)
{
    for (size_t i = 0; i < f->nhdr; i++) {
        free(f->hdr[i]);
        free(f->xkey[i]);
    }
    free(f->hdr);
    free(f->xkey);
    free(f->xklen);
    free(f->act);
    free(f->used);
    free(f->pad);
    free(f->kinds);
    f->hdr = f->xkey = NULL;
    f->xklen = NULL;
    f->act = NULL;
    f->used = NULL;
    f->pad = NULL;
    f->kinds = NULL;
    f->nhdr = f->nact = 0;
}

static int resolve(ssfmt *f, const lia_slice *names, size_t n, lia_error *err)
{
    const ss_report *r = f->rep;
    char missing[LIA_ERR_REASON_MAX / 2];
    size_t mlen = 0, nmiss = 0;
    free_header(f);
    f->hdr = calloc(n + 1, sizeof *f->hdr);
    f->xkey = calloc(n + 1, sizeof *f->xkey);
    f->xklen = calloc(n + 1, sizeof *f->xklen);
    f->used = calloc(n + 1, 1);
    f->act = calloc(r->nmaps + 1, sizeof *f->act);
    f->pad = calloc(n + 1, sizeof *f->pad);
    f->kinds = calloc(n + 1, 1);
    if (!f->hdr || !f->xkey || !f->xklen || !f->used || !f->act || !f->pad || !f->kinds)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    f->nhdr = n;
    for (size_t i = 0; i < n; i++) {
        lia_slice nm = lia_slice_trim(names[i]);
        if (!(f->hdr[i] = strndup(nm.ptr ? nm.ptr : "", nm.len)) || !(f->xkey[i] = column_key(f->hdr[i])))
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        f->xklen[i] = strlen(f->xkey[i]);
    }
    missing[0] = '\0';
    f->warning[0] = '\0';
    for (size_t k = 0; k < r->nmaps; k++) {
        const ss_map *m = &r->maps[k];
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(f->hdr[i], m->column) == 0)
                break;
        if (i == n) {
            if (m->required)
                nmiss++;
            if (m->required && mlen + strlen(m->column) + 3 < sizeof missing) {
                int w = snprintf(missing + mlen, sizeof missing - mlen, "%s%s", mlen ? ", " : "", m->column);
                mlen += w > 0 ? (size_t)w : 0;
            }
            continue;
        }
        f->act[f->nact++] = (ss_act){m, (uint32_t)i};
    }
    /* An older variant of the report may lack a column the current schema
     * requires: read it with those fields empty, and say so once. A header
     * with none of the required columns is not this report at all. */
    if (nmiss && nmiss == r->nreq)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0,
                             "Shadowserver report %s: required column(s) missing from the header: %s "
                             "(none of them is there: is this report of that type?)",
                             r->name, missing);
    if (mlen)
        snprintf(f->warning, sizeof f->warning,
                 "Shadowserver report %s: required column(s) missing from the header (an older variant?): "
                 "%s; read with those fields empty",
                 r->name, missing);
    /* Can two values ever land on the same extra key in one row? A map's
     * key and its own column's key cannot both be set (the column is either
     * consumed or not). */
    f->trusted = 1;
    for (size_t a = 0; a < f->nact + n && f->trusted; a++) {
        const char *ka = a < f->nact ? f->act[a].m->key : f->xkey[a - f->nact];
        size_t ca = a < f->nact ? f->act[a].col : a - f->nact;
        if (a < f->nact && f->act[a].m->field != SS_EXTRA)
            continue;
        if (!key_ok(ka, strlen(ka))) {
            f->trusted = ka[0] == '\0' && a >= f->nact; /* empty header name: never used */
            continue;
        }
        for (size_t b = a + 1; b < f->nact + n; b++) {
            const char *kb = b < f->nact ? f->act[b].m->key : f->xkey[b - f->nact];
            size_t cb = b < f->nact ? f->act[b].col : b - f->nact;
            if (b < f->nact && f->act[b].m->field != SS_EXTRA)
                continue;
            if (strcmp(ka, kb) == 0 && !(ca == cb && (a < f->nact) != (b < f->nact))) {
                f->trusted = 0;
                break;
            }
        }
    }
    for (int c = 0; c < COL__N; c++) {
        f->rowcol[c] = -1;
        for (size_t i = 0; i < n; i++)
            if (strcmp(f->hdr[i], row_cols[c]) == 0) {
                f->rowcol[c] = (int)i;
                break;
            }
    }
    f->have_header = 1;
    return LIA_OK;
}

/* Shadowserver's CSV is read by IntelMQ with Python's csv module, which
 * is lenient where RFC 4180 is strict: a quote inside an unquoted field is
 * kept as a character, and so is whatever follows a closing quote before
 * the next comma (e.g. "Basic realm=\"\"x\"\"" in an HTTP header
 * column). A row our strict splitter rejects for a quote is read again that
 * way; if that fails too (unclosed quote, a line end outside quotes, a NUL,
 * a limit) the row stays malformed and is quarantined. Returns the number
 * of fields, or -1. */
static long lenient_split(ssfmt *f, lia_slice raw)
{
    enum { START, FIELD, QUOTED, QUOTE_IN_QUOTED } st = START;
    size_t n = 0, start = 0;
    if (raw.len == 0 || raw.len >= LIA_MAX_ROW)
        return -1;
    lia_buf_reset(&f->lenient);
    if (lia_buf_reserve(&f->lenient, raw.len + 1))
        return -1;
    for (size_t i = 0; i <= raw.len; i++) {
        char c = i < raw.len ? raw.ptr[i] : '\n';
        int end = i == raw.len;
        if (c == '\0')
            return -1;
        if (st == QUOTED) {
            if (end)
                return -1; /* unclosed quote */
            if (c == '"')
                st = QUOTE_IN_QUOTED;
            else
                lia_buf_putc(&f->lenient, c);
            continue;
        }
        if (st == QUOTE_IN_QUOTED && c == '"' && !end) {
            lia_buf_putc(&f->lenient, '"');
            st = QUOTED;
            continue;
        }
        if (st == START && c == '"' && !end) {
            st = QUOTED;
            continue;
        }
        if (c == ',' || end) {
            if (n == LIA_MAX_SS_COLUMNS || f->lenient.len - start > LIA_MAX_FIELD)
                return -1;
            f->lfields[n++] = (lia_slice){NULL, f->lenient.len - start};
            start = f->lenient.len;
            st = START;
            continue;
        }
        if (c == '\n' || c == '\r')
            return -1; /* a line end outside quotes: not one record */
        lia_buf_putc(&f->lenient, c);
        st = FIELD;
    }
    if (f->lenient.err)
        return -1;
    for (size_t k = 0, off = 0; k < n; k++) { /* the buffer no longer moves */
        f->lfields[k].ptr = f->lenient.ptr + off;
        off += f->lfields[k].len;
    }
    return (long)n;
}

/* Fields of a CSV line (delimiters outside quotes, plus one). */
static size_t count_fields(lia_slice raw)
{
    size_t n = 1;
    int quoted = 0;
    for (size_t i = 0; i < raw.len; i++) {
        if (raw.ptr[i] == '"')
            quoted = !quoted;
        else if (raw.ptr[i] == ',' && !quoted)
            n++;
    }
    return n;
}

static int on_row(void *ud, const lia_csv_row *row)
{
    ssfmt *f = ud;
    int copy;
    if (row->err == LIA_ELIMIT && !f->have_header && f->mode == SS_CSV &&
        row->nfields >= LIA_MAX_SS_COLUMNS) { /* the header itself: nothing can be read without it */
        size_t n = count_fields(row->raw);
        lia_error_set(&f->fatal_err, LIA_ELIMIT, NULL, NULL, 0,
                      "Shadowserver report %s: header has %s%zu columns, limit is %d", f->rep->name,
                      row->raw.len >= LIA_MAX_ROW ? "more than " : "", n, LIA_MAX_SS_COLUMNS);
        f->fatal = 1;
        return 1;
    }
    if (row->err && f->have_header && (row->why && strstr(row->why, "quote"))) {
        long n = lenient_split(f, row->raw);
        if (n > 0) {
            if (lia__records_add(f->out, row->line, row->raw, f->lfields, (size_t)n, 0, NULL, 1)) {
                lia_error_set(&f->fatal_err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                f->fatal = 1;
                return 1;
            }
            return 0;
        }
    }
    if (row->err == 0 && !f->have_header) {
        if (resolve(f, row->fields, row->nfields, &f->fatal_err)) {
            f->fatal = 1;
            return 1;
        }
        return 0;
    }
    copy = !(row->raw.ptr >= f->chunk && row->raw.ptr < f->chunk + f->chunklen);
    if (lia__records_add(f->out, row->line, row->raw, row->fields, row->nfields, row->err, row->why, copy)) {
        lia_error_set(&f->fatal_err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        f->fatal = 1;
        return 1;
    }
    return 0;
}

static int open_with(void **st, lia_ss_schema *schema, int own, const lia_feed_opts *o, lia_error *err)
{
    ssfmt *f = calloc(1, sizeof *f);
    lia_csv_opts copts;
    int rc, idx;
    if (!f) {
        if (own)
            lia_shadowserver_free(schema);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    f->schema = schema;
    f->own_schema = own;
    lia_buf_init(&f->scratch, LIA_MAX_FIELD * 2);
    lia_buf_init(&f->lenient, LIA_MAX_ROW + 1);
    if (!(f->lfields = calloc(LIA_MAX_SS_COLUMNS, sizeof *f->lfields))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto fail;
    }
    if (o->subtype && *o->subtype) {
        idx = lia_shadowserver_find(f->schema, o->subtype);
        if (idx < 0) {
            rc = lia_error_set(err, LIA_ENOTFOUND, NULL, o->subtype, strlen(o->subtype),
                               "unknown Shadowserver report type (see liaison shadowserver reports)");
            goto fail;
        }
    } else if (o->report_name && *o->report_name) {
        idx = lia_shadowserver_detect(f->schema, o->report_name, err);
        if (idx < 0) {
            rc = idx;
            goto fail;
        }
    } else {
        rc = lia_error_set(err, LIA_EINVAL, NULL, NULL, 0,
                           "Shadowserver report type unknown: give it (--report TYPE) or a file name "
                           "such as 2024-05-01-scan_ics-asn.csv");
        goto fail;
    }
    f->rep = &f->schema->r[idx];
    if (f->rep->problem) {
        rc = lia_error_set(err, LIA_EUNSUPPORTED, NULL, NULL, 0, "Shadowserver report %s cannot be read: %s",
                           f->rep->name, f->rep->problem);
        goto fail;
    }
    f->feed = o->feed && *o->feed ? o->feed : NULL;
    lia_csv_opts_default(&copts);
    copts.max_fields = LIA_MAX_SS_COLUMNS;
    if ((rc = lia_csv_create(&copts, &f->csv))) {
        rc = lia_error_set(err, rc, NULL, NULL, 0, "creating CSV splitter: %s", lia_strerror(rc));
        goto fail;
    }
    *st = f;
    return LIA_OK;
fail:
    if (own)
        lia_shadowserver_free(f->schema);
    lia_buf_free(&f->scratch);
    lia_buf_free(&f->lenient);
    free(f->lfields);
    free(f);
    return rc;
}

static int ss_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    lia_ss_schema *s;
    int rc = lia_shadowserver_load(o->map_path, &s, err);
    if (rc)
        return rc;
    return open_with(st, s, 1, o, err);
}

int lia__ss_open(void **st, const lia_ss_schema *schema, const lia_feed_opts *o, lia_error *err)
{
    return open_with(st, (lia_ss_schema *)schema, 0, o, err);
}

/* CSV or JSON? The first byte that is not blank (or a UTF-8 BOM) decides:
 * '[' or '{' is Shadowserver's JSON delivery (the reports API: an array of
 * objects, or one object per line), read by the same schema. */
static int sniff(ssfmt *f, const char *buf, size_t len)
{
    size_t i = 0;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF)
        i = 3;
    for (; i < len; i++) {
        char c = buf[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        f->mode = (c == '[' || c == '{') ? SS_JSON : SS_CSV;
        if (f->mode == SS_JSON)
            lia_objrec_init(&f->jr, NULL, 0, '\0');
        return 1;
    }
    return 0;
}

static int ss_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    ssfmt *f = st;
    int rc;
    if (!f->mode && !sniff(f, buf, len) && eof)
        f->mode = SS_CSV; /* blank: "no header line" below */
    if (f->mode == SS_JSON)
        return lia_objrec_parse(&f->jr, buf, len, eof, out, err);
    f->out = out;
    f->chunk = buf;
    f->chunklen = len;
    rc = lia_csv_chunk(f->csv, buf, len, eof, on_row, f);
    f->out = NULL;
    if (f->fatal) {
        *err = f->fatal_err;
        return f->fatal_err.code ? f->fatal_err.code : LIA_EPARSE;
    }
    if (rc < 0)
        return lia_error_set(err, rc, NULL, NULL, 0, "CSV splitter: %s", lia_strerror(rc));
    if (eof && !f->have_header && f->mode == SS_CSV)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "Shadowserver report %s: no header line",
                             f->rep->name);
    return LIA_OK;
}

static lia_slice col(const ssfmt *f, const lia_slice *fields, int c)
{
    return f->rowcol[c] >= 0 ? fields[f->rowcol[c]] : LIA_SLICE_NULL;
}

/* IntelMQ's convert_http_host_and_url: host (cc_dns or http_host) and path
 * (url or http_url, which may hold a whole request line) -> a URL. */
static int conv_host_url(ssfmt *f, lia_slice v, const lia_slice *fields, lia_slice *out)
{
    lia_slice host = f->rowcol[COL_CC_DNS] >= 0 ? col(f, fields, COL_CC_DNS) : col(f, fields, COL_HTTP_HOST);
    lia_slice path = f->rowcol[COL_URL] >= 0 ? col(f, fields, COL_URL) : col(f, fields, COL_HTTP_URL);
    lia_slice app = col(f, fields, COL_APPLICATION);
    if (host.len && path.len) {
        size_t i = 0, e;
        while (i < path.len && path.ptr[i] != '/')
            i++;
        for (e = i; e < path.len && !(path.ptr[e] == ' ' || path.ptr[e] == '\t' || path.ptr[e] == '\r' ||
                                       path.ptr[e] == '\n');
             e++)
            ;
        lia_buf_reset(&f->scratch);
        lia_buf_puts(&f->scratch, lia_slice_eq(app, "https") ? "https" : "http");
        lia_buf_puts(&f->scratch, "://");
        lia_buf_append(&f->scratch, host.ptr, host.len);
        lia_buf_append(&f->scratch, path.ptr + i, e - i);
        if (f->scratch.err)
            return LIA_ELIMIT;
        *out = (lia_slice){f->scratch.ptr, f->scratch.len};
        return LIA_CONV_TEXT;
    }
    *out = v;
    return v.len ? LIA_CONV_TEXT : LIA_CONV_ABSENT;
}

/* A JSON object's keys not seen before join the header (the mapping is
 * resolved again); its values go to f->pad in header order, their JSON
 * kinds to f->kinds. */
static int json_row(ssfmt *f, const lia_jobj *o, lia_error *err)
{
    size_t nnew = 0;
    for (size_t i = 0; i < o->n; i++) {
        const lia_jmember *m = &o->m[i];
        size_t c = i < f->nhdr && lia_slice_eq(m->key, f->hdr[i]) ? i : f->nhdr;
        for (size_t k = 0; c == f->nhdr && k < f->nhdr; k++)
            if (lia_slice_eq(m->key, f->hdr[k]))
                c = k;
        nnew += c == f->nhdr;
    }
    if (nnew || !f->have_header) {
        size_t n = f->nhdr + nnew, k = 0;
        char **names = calloc(n + 1, sizeof *names);
        lia_slice *sl = calloc(n + 1, sizeof *sl);
        int rc = names && sl ? LIA_OK : LIA_ENOMEM;
        for (size_t i = 0; rc == LIA_OK && i < f->nhdr; i++, k++)
            if (!(names[k] = strdup(f->hdr[i])))
                rc = LIA_ENOMEM;
        for (size_t i = 0; rc == LIA_OK && i < o->n; i++) {
            int seen = 0;
            for (size_t j = 0; j < k && !seen; j++)
                seen = lia_slice_eq(o->m[i].key, names[j]);
            if (!seen && !(names[k++] = strndup(o->m[i].key.ptr, o->m[i].key.len)))
                rc = LIA_ENOMEM;
        }
        for (size_t i = 0; rc == LIA_OK && i < k; i++)
            sl[i] = lia_slice_from(names[i]);
        if (rc == LIA_OK)
            rc = resolve(f, sl, k, err);
        else
            lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
        for (size_t i = 0; names && i < n; i++)
            free(names[i]);
        free(names);
        free(sl);
        if (rc)
            return rc;
        f->have_header = 1;
    }
    for (size_t c = 0; c < f->nhdr; c++) {
        f->pad[c] = (lia_slice){"", 0};
        f->kinds[c] = LIA_J_NULL;
    }
    for (size_t i = 0; i < o->n; i++) {
        const lia_jmember *m = &o->m[i];
        size_t c = i < f->nhdr && lia_slice_eq(m->key, f->hdr[i]) ? i : f->nhdr;
        for (size_t k = 0; c == f->nhdr && k < f->nhdr; k++)
            if (lia_slice_eq(m->key, f->hdr[k]))
                c = k;
        if (c == f->nhdr || m->kind == LIA_J_NULL)
            continue;
        f->pad[c] = m->kind == LIA_J_STRING ? lia_slice_trim(m->val) : m->val;
        f->kinds[c] = (uint8_t)m->kind;
    }
    return LIA_OK;
}

/* A value of a JSON row that is a number, boolean, object or array. */
static int typed(const ssfmt *f, size_t c)
{
    return f->mode == SS_JSON && f->kinds[c] != LIA_J_STRING && f->kinds[c] != LIA_J_NULL;
}

static int ss_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev, lia_error *err)
{
    ssfmt *f = st;
    const ss_report *rep = f->rep;
    const lia_slice *fields = rs->fields + r->first;
    size_t nrow = r->nfields;
    int rc;
    if (f->mode == SS_JSON) {
        const lia_jobj *o;
        if ((rc = lia_objrec_object(&f->jr, rs, r, &o, err)) || (rc = json_row(f, o, err)))
            return rc;
        fields = f->pad;
        nrow = f->nhdr;
    } else if (nrow < f->nhdr) {
        /* Python's csv reader (IntelMQ's) gives the missing fields as empty */
        for (size_t i = 0; i < f->nhdr; i++)
            f->pad[i] = i < nrow ? fields[i] : (lia_slice){"", 0};
        fields = f->pad;
    }
    memset(f->used, 0, f->nhdr);
    for (size_t k = 0; k < f->nact; k++) {
        const ss_map *m = f->act[k].m;
        uint32_t c = f->act[k].col;
        lia_slice v = fields[c];
        const char *why = NULL;
        int kind;
        lia_error fe;
        if (m->time_fast) { /* time field from a timestamp: parse once */
            int64_t us;
            if (v.len == 0 && m->conv != lia__conv_add_utc) {
                if (!m->required)
                    f->used[c] = 1;
                continue;
            }
            if (lia_parse_time(v.ptr, v.len, &us, &why) == LIA_OK) {
                lia_event_set_i(ev, (lia_field)m->field, us);
                f->used[c] = 1;
                continue;
            }
            if (!why || v.len == 0)
                why = "empty timestamp";
            if (m->required)
                return lia_error_set(err, LIA_EINVAL, lia_field_name((lia_field)m->field), v.ptr, v.len,
                                     "%s (column %s)", why, m->column);
            continue;
        }
        if (m->rowconv == RC_HOST_URL)
            kind = conv_host_url(f, v, fields, &v);
        else if (m->rowconv == RC_CATEGORY)
            kind = v.len ? LIA_CONV_TEXT : (v = col(f, fields, COL_DETAIL)).len ? LIA_CONV_TEXT : LIA_CONV_ABSENT;
        else if (m->conv)
            kind = m->conv(v, &f->scratch, &v, &why);
        else
            kind = v.len ? LIA_CONV_TEXT : LIA_CONV_ABSENT;
        if (kind == LIA_CONV_TEXT && typed(f, c) && v.ptr == fields[c].ptr && v.len == fields[c].len)
            kind = LIA_CONV_JSON; /* a JSON number or boolean kept as it came */
        if (kind < 0) {
            if (m->required || kind == LIA_ENOMEM) { /* out of memory is never "optional, skip it" */
                const char *fname = m->field >= 0 ? lia_field_name((lia_field)m->field) : m->column;
                return lia_error_set(err, kind, fname, fields[c].ptr, fields[c].len, "%s (column %s)",
                                     why ? why : "conversion failed", m->column);
            }
            continue; /* optional: the raw text goes to extra.<column> */
        }
        if (kind == LIA_CONV_ABSENT) {
            if (!m->required)
                f->used[c] = 1;
            continue;
        }
        if (m->field >= 0) {
            rc = lia_event_set(ev, (lia_field)m->field, v.ptr, v.len, &fe);
            if (rc) {
                if (m->required || rc == LIA_ENOMEM) {
                    size_t l = strlen(fe.reason);
                    snprintf(fe.reason + l, sizeof fe.reason - l, " (column %s)", m->column);
                    *err = fe;
                    return rc;
                }
                continue;
            }
        } else if (m->field == SS_EXTRA) {
            if (f->trusted)
                rc = kind == LIA_CONV_JSON ? lia_event_extra_json_known(ev, m->key, m->klen, v.ptr, v.len, err)
                                           : lia_event_extra_str_known(ev, m->key, m->klen, v.ptr, v.len, err);
            else if (kind == LIA_CONV_JSON)
                rc = lia_event_extra_json(ev, m->key, m->klen, v.ptr, v.len, err);
            else
                rc = lia_event_extra_str(ev, m->key, m->klen, v.ptr, v.len, err);
            if (rc)
                return rc;
        }
        f->used[c] = 1;
    }
    for (size_t i = 0; i < rep->nconsts; i++) {
        const ss_const *c = &rep->consts[i];
        if (c->field == SS_IGNORE)
            continue;
        if (c->norm) { /* validated and normalised at load */
            rc = lia_event_set_str(ev, (lia_field)c->field, c->norm, c->nlen);
            if (rc)
                return lia_error_set(err, rc, c->target, NULL, 0, "event too large");
            continue;
        }
        if (c->field >= 0) {
            lia_ftype t = lia__field_type((lia_field)c->field);
            if (t == LIA_T_IP || t == LIA_T_CIDR)
                lia_event_set_ip(ev, (lia_field)c->field, &c->v.ip);
            else if (t == LIA_T_FLOAT || t == LIA_T_ACCURACY)
                lia_event_set_f(ev, (lia_field)c->field, c->v.f);
            else
                lia_event_set_i(ev, (lia_field)c->field, c->v.i);
            continue;
        }
        else
            rc = lia_event_set_name(ev, c->target, strlen(c->target), c->value, strlen(c->value), err);
        if (rc)
            return rc;
    }
    if ((!f->feed && lia_event_set_str(ev, LIA_F_FEED_NAME, rep->feed_name, strlen(rep->feed_name))) ||
        (rep->url[0] && !lia_event_has(ev, LIA_F_FEED_DOCUMENTATION) &&
         lia_event_set_str(ev, LIA_F_FEED_DOCUMENTATION, rep->url, strlen(rep->url))))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    for (size_t i = 0; i < f->nhdr; i++) {
        if (f->used[i] || fields[i].len == 0 || f->xklen[i] == 0)
            continue;
        if (typed(f, i))
            rc = lia_event_extra_json(ev, f->xkey[i], f->xklen[i], fields[i].ptr, fields[i].len, err);
        else if (f->trusted)
            rc = lia_event_extra_str_known(ev, f->xkey[i], f->xklen[i], fields[i].ptr, fields[i].len, err);
        else
            rc = lia_event_extra_str(ev, f->xkey[i], f->xklen[i], fields[i].ptr, fields[i].len, err);
        if (rc)
            return rc;
    }
    /* a row longer than the header: the values without a column name are
     * kept as extra.column_N (N = position in the row, from 1) */
    for (size_t i = f->nhdr; i < nrow; i++) {
        char key[32];
        int kl;
        if (fields[i].len == 0)
            continue;
        kl = snprintf(key, sizeof key, "column_%zu", i + 1);
        if ((rc = lia_event_extra_str(ev, key, (size_t)kl, fields[i].ptr, fields[i].len, err)))
            return rc;
    }
    return LIA_OK;
}

static const char *ss_warning(void *st)
{
    const ssfmt *f = st;
    return f->warning[0] ? f->warning : NULL;
}

static void ss_close(void *st)
{
    ssfmt *f = st;
    if (!f)
        return;
    if (f->mode == SS_JSON)
        lia_objrec_free(&f->jr);
    free_header(f);
    lia_csv_destroy(f->csv);
    if (f->own_schema)
        lia_shadowserver_free(f->schema);
    lia_buf_free(&f->scratch);
    lia_buf_free(&f->lenient);
    free(f->lfields);
    free(f);
}

const lia_format lia_format_shadowserver = {
    .name = "shadowserver",
    .summary = "Shadowserver reports (CSV, or the reports API's JSON), driven by Shadowserver's report "
               "schema (--report TYPE)",
    .open = ss_open,
    .parse = ss_parse,
    .normalise = ss_normalise,
    .close = ss_close,
    .warning = ss_warning,
};
