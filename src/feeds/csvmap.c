/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "csv": a declarative mapping (JSON file) from CSV columns to
 * harmonised fields, read by our RFC 4180 splitter. See docs/csv-mapping.md. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "core/file.h"
#include "core/event_fast.h"
#include "core/floattext.h"
#include "core/reason.h"
#include "feeds/csvmap.h"
#include "feeds/htmltable.h"
#include "feeds/maprec.h"
#include "liaison/limits.h"
#include "core/field_internal.h"
#include "core/records.h"

/* ---- conversions ---- */

static int conv_zero_is_null(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    if (in.len == 0 || (in.len == 1 && in.ptr[0] == '0'))
        return LIA_CONV_ABSENT;
    *out = in;
    return LIA_CONV_TEXT;
}

static int conv_lower(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    lia_buf_reset(scratch);
    if (lia_buf_append(scratch, in.ptr, in.len)) {
        *why = "value too long";
        return LIA_ELIMIT;
    }
    for (size_t i = 0; i < scratch->len; i++)
        if (scratch->ptr[i] >= 'A' && scratch->ptr[i] <= 'Z')
            scratch->ptr[i] = (char)(scratch->ptr[i] + 32);
    *out = (lia_slice){scratch->ptr, scratch->len};
    return LIA_CONV_TEXT;
}

static int conv_int(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    int64_t v;
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u;
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (in.len <= 18 && (in.len == 1 || in.ptr[0] != '0')) { /* already canonical? */
        size_t i = 0;
        while (i < in.len && (unsigned char)(in.ptr[i] - '0') < 10)
            i++;
        if (i == in.len) {
            *out = in;
            return LIA_CONV_JSON;
        }
    }
    if (lia__parse_int(in.ptr, in.len, &v, why))
        return LIA_EINVAL;
    u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v; /* canonical: no leading zeros or sign */
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    lia_buf_reset(scratch);
    lia_buf_append(scratch, p, (size_t)(tmp + sizeof tmp - p));
    *out = (lia_slice){scratch->ptr, scratch->len};
    return LIA_CONV_JSON;
}

static int conv_bool(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    int b;
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (lia_parse_bool(in.ptr, in.len, &b, why))
        return LIA_EINVAL;
    *out = b ? LIA_SLICE("true") : LIA_SLICE("false");
    return LIA_CONV_JSON;
}

static int conv_float(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    double d;
    char t[LIA_FLOAT_TEXT_MAX];
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (lia__parse_float(in.ptr, in.len, &d, why))
        return LIA_EINVAL;
    lia_buf_reset(scratch);
    lia_buf_append(scratch, t, lia__float_json(d, t, sizeof t)); /* stays a JSON real */
    *out = (lia_slice){scratch->ptr, scratch->len};
    return LIA_CONV_JSON;
}

/* A JSON value (a JSON record's number, boolean, array or object) kept as
 * JSON, compacted; text that is not JSON stays text. */
static int conv_json(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    json_t *j;
    char *t;
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    if (!(j = json_loadb(in.ptr, in.len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL)) ||
        json_is_string(j)) {
        json_decref(j);
        *out = in;
        return LIA_CONV_TEXT;
    }
    t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    if (!t) {
        *why = "out of memory";
        return LIA_ENOMEM;
    }
    lia_buf_reset(scratch);
    lia_buf_puts(scratch, t);
    free(t);
    if (scratch->err) {
        *why = "value too large";
        return LIA_ELIMIT;
    }
    *out = (lia_slice){scratch->ptr, scratch->len};
    return LIA_CONV_JSON;
}

static int conv_trim(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    in = lia_slice_trim(in);
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    *out = in;
    return LIA_CONV_TEXT;
}

/* A URL without a scheme ("example.com/x") gets "http://" (how IntelMQ's
 * default_url_protocol reads such tables). */
static int conv_url_http(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    size_t i = 0;
    in = lia_slice_trim(in);
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    while (i < in.len && ((in.ptr[i] | 32) >= 'a' && (in.ptr[i] | 32) <= 'z'))
        i++;
    if (i && i + 2 < in.len && memcmp(in.ptr + i, "://", 3) == 0) {
        *out = in;
        return LIA_CONV_TEXT;
    }
    lia_buf_reset(scratch);
    lia_buf_puts(scratch, "http://");
    lia_buf_append(scratch, in.ptr, in.len);
    if (scratch->err) {
        *why = "value too long";
        return LIA_ELIMIT;
    }
    *out = (lia_slice){scratch->ptr, scratch->len};
    return LIA_CONV_TEXT;
}

/* A dotted IPv4 address whose octets are padded with zeros to three digits
 * ("010.001.002.030", DShield) without the padding; other text as is. */
static int conv_ip_unpad(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why)
{
    char t[16];
    size_t n = 0, i = 0;
    int groups = 0;
    in = lia_slice_trim(in);
    if (in.len == 0)
        return LIA_CONV_ABSENT;
    while (i < in.len && groups < 4) {
        size_t d = i;
        while (d < in.len && in.ptr[d] >= '0' && in.ptr[d] <= '9' && d - i < 3)
            d++;
        if (d == i || (d < in.len && in.ptr[d] != '.') || (d == in.len && groups != 3) ||
            (d < in.len && groups == 3))
            break;
        while (i + 1 < d && in.ptr[i] == '0')
            i++;
        memcpy(t + n, in.ptr + i, d - i);
        n += d - i;
        groups++;
        if (d < in.len)
            t[n++] = '.';
        i = d + 1;
    }
    if (groups != 4 || i < in.len) {
        *out = in; /* not padded IPv4: the field's validator decides */
        return LIA_CONV_TEXT;
    }
    lia_buf_reset(scratch);
    lia_buf_append(scratch, t, n);
    *out = (lia_slice){scratch->ptr, scratch->len};
    return LIA_CONV_TEXT;
}

const lia_conv lia_convs[] = {
    {"zero_is_null", conv_zero_is_null, "empty or \"0\" means absent"},
    {"lower", conv_lower, "ASCII lower case"},
    {"int", conv_int, "integer; stored as a JSON number in extra.*"},
    {"float", conv_float, "number; stored as a JSON number in extra.*"},
    {"bool", conv_bool, "true/false/yes/no/y/n/1/0; a JSON boolean in extra.*"},
    {"trim", conv_trim, "strip spaces and tabs at both ends"},
    {"url_http", conv_url_http, "a URL without a scheme gets http://"},
    {"ip_unpad", conv_ip_unpad, "IPv4 octets zero-padded to three digits (010.001.002.003) unpadded"},
    {"json", conv_json,
     "a JSON number, boolean, array or object kept as JSON in extra.*; other text as text"},
    /* Shadowserver schema names (src/feeds/convs_intelmq.c) */
    {"add_UTC_to_timestamp", lia__conv_add_utc, "time with no zone is UTC; empty is an error"},
    {"convert_date", lia__conv_date, "ISO 8601 or HTTP date, normalised to RFC 3339 UTC"},
    {"convert_date_utc", lia__conv_date_utc, "time with no zone is UTC, normalised"},
    {"convert_bool", lia__conv_bool, "Y/N yes/no true/false enabled/disabled 1/0"},
    {"convert_int", lia__conv_int, "integer (JSON number in extra.*)"},
    {"convert_float", lia__conv_float, "number (JSON number in extra.*)"},
    {"invalidate_zero", lia__conv_invalidate_zero, "integer; 0 means absent"},
    {"validate_to_none", lia__conv_validate_to_none, "\"\", \"0\" and \"unknown\" mean absent"},
    {"validate_ip", lia__conv_validate_ip, "IP address; 0.0.0.0 means absent"},
    {"validate_network", lia__conv_validate_network, "IP network with /prefix"},
    {"validate_fqdn", lia__conv_validate_fqdn, "host name"},
    {"force_base64", lia__conv_force_base64, "base64 kept, other text encoded"},
    {"extract_cve_from_tag", lia__conv_extract_cve, "CVE ids in a ;-separated tag"},
    {"scan_exchange_taxonomy", lia__conv_exchange_taxonomy, "taxonomy from an Exchange scan tag"},
    {"scan_exchange_type", lia__conv_exchange_type, "type from an Exchange scan tag"},
    {"scan_exchange_identifier", lia__conv_exchange_identifier, "identifier from an Exchange scan tag"},
    {NULL, NULL, NULL},
};

lia_conv_fn lia_conv_find(const char *name)
{
    for (const lia_conv *c = lia_convs; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c->fn;
    return NULL;
}

/* ---- the mapping ---- */

lia_csvmap *lia_csvmap_new(const char *name)
{
    lia_csvmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    lia_csv_opts_default(&m->csv);
    m->header = 1;
    m->unmapped = LIA_UNMAPPED_EXTRA;
    m->name = strdup(name ? name : "csv");
    if (!m->name) {
        free(m);
        return NULL;
    }
    return m;
}

static void colmap_free(lia_colmap *c)
{
    free(c->column);
    free(c->extra_key);
    for (size_t k = 0; k < c->nvalues; k++) {
        free(c->vfrom[k]);
        free(c->vto[k]);
    }
    free(c->vfrom);
    free(c->vto);
    free(c->vdefault);
    free(c->timefmt);
    free(c->attr);
    if (c->fallback) {
        colmap_free(c->fallback);
        free(c->fallback);
    }
}

void lia_csvmap_free(lia_csvmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ncols; i++)
        colmap_free(&m->cols[i]);
    free(m->tbl_id);
    free(m->tbl_class);
    free(m->tbl_after);
    free(m->pattern);
    free(m->ignore);
    free(m->each);
    for (size_t i = 0; i < m->nconsts; i++) {
        free(m->consts[i].target);
        free(m->consts[i].value);
    }
    free(m->cols);
    free(m->consts);
    free(m->name);
    free(m);
}

static int check_target(const char *target, const char *mapname, lia_error *err)
{
    size_t n = strlen(target);
    if (n >= 6 && memcmp(target, "extra.", 6) == 0)
        return LIA_OK;
    if (lia_field_lookup(target, n) < 0)
        return lia_error_set(err, LIA_EINVAL, NULL, target, n, "mapping %s: unknown field", mapname);
    return LIA_OK;
}

int lia_csvmap_add(lia_csvmap *m, const char *column, int index, const char *target,
                   const char *conv, int required, lia_error *err)
{
    lia_colmap *c;
    int rc = check_target(target, m->name, err);
    if (rc)
        return rc;
    if (m->ncols == m->capcols) {
        size_t ncap = m->capcols ? m->capcols * 2 : 16;
        lia_colmap *nc = realloc(m->cols, ncap * sizeof *nc);
        if (!nc)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        m->cols = nc;
        m->capcols = ncap;
    }
    c = &m->cols[m->ncols];
    memset(c, 0, sizeof *c);
    c->index = column ? -1 : index;
    c->required = required;
    if (conv && *conv) {
        c->conv = lia_conv_find(conv);
        if (!c->conv)
            return lia_error_set(err, LIA_EINVAL, NULL, conv, strlen(conv),
                                 "mapping %s: unknown conversion", m->name);
    }
    if (strncmp(target, "extra.", 6) == 0) {
        const char *key = target[6] ? target + 6 : column;
        c->field = -1;
        if (!key)
            return lia_error_set(err, LIA_EINVAL, NULL, target, strlen(target),
                                 "mapping %s: \"extra.\" needs a named column", m->name);
        c->extra_key = strdup(key);
        if (!c->extra_key)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        for (char *p = c->extra_key; *p; p++) /* "Device Type" -> "device_type" */
            *p = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : (*p == ' ' ? '_' : *p);
    } else {
        c->field = lia_field_lookup(target, strlen(target));
    }
    if (column && !(c->column = strdup(column))) {
        free(c->extra_key);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    m->ncols++;
    return LIA_OK;
}

int lia_csvmap_add_const(lia_csvmap *m, const char *target, const char *value, lia_error *err)
{
    int rc = check_target(target, m->name, err);
    if (rc)
        return rc;
    if (m->nconsts == m->capconsts) {
        size_t ncap = m->capconsts ? m->capconsts * 2 : 8;
        lia_constmap *nc = realloc(m->consts, ncap * sizeof *nc);
        if (!nc)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        m->consts = nc;
        m->capconsts = ncap;
    }
    m->consts[m->nconsts].target = strdup(target);
    m->consts[m->nconsts].value = strdup(value);
    if (!m->consts[m->nconsts].target || !m->consts[m->nconsts].value) {
        free(m->consts[m->nconsts].target);
        free(m->consts[m->nconsts].value);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    m->nconsts++;
    return LIA_OK;
}

static int one_char(json_t *v, const char *key, char *out, const char *name, lia_error *err)
{
    if (!v)
        return LIA_OK;
    if (!json_is_string(v) || json_string_length(v) > 1)
        return lia_error_set(err, LIA_EINVAL, key, NULL, 0,
                             "mapping %s: \"%s\" must be a one-character string", name, key);
    *out = json_string_length(v) ? json_string_value(v)[0] : '\0';
    return LIA_OK;
}

static int dupstr(char **dst, const char *s)
{
    return (*dst = strdup(s)) ? LIA_OK : LIA_ENOMEM;
}

/* "table": {"index": N, "id": ID, "class": CLASS, "after": TEXT}. */
static int table_sel(lia_csvmap *m, json_t *v, const char *name, lia_error *err)
{
    const char *k;
    json_t *x;
    if (!json_is_object(v))
        return lia_error_set(err, LIA_EINVAL, "table", NULL, 0,
                             "mapping %s: \"table\" is an object (index, id, class, after)", name);
    json_object_foreach(v, k, x)
    {
        char **dst = strcmp(k, "id") == 0      ? &m->tbl_id
                     : strcmp(k, "class") == 0 ? &m->tbl_class
                     : strcmp(k, "after") == 0 ? &m->tbl_after
                                               : NULL;
        if (strcmp(k, "index") == 0) {
            if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 100000)
                return lia_error_set(err, LIA_EINVAL, "table.index", NULL, 0,
                                     "mapping %s: table.index is a number (0 = the first table)", name);
            m->tbl_index = (int)json_integer_value(x);
        } else if (!dst) {
            return lia_error_set(err, LIA_EINVAL, k, NULL, 0, "mapping %s: table: unknown key", name);
        } else if (!json_is_string(x) || !json_string_length(x)) {
            return lia_error_set(err, LIA_EINVAL, k, NULL, 0, "mapping %s: table.%s is a non-empty string",
                                 name, k);
        } else if (!(*dst = strdup(json_string_value(x)))) {
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        }
    }
    return LIA_OK;
}

/* One column: a target string, or {field, convert, required, time, values,
 * default}. column NULL: by index. column and index >= 0: a JSON path. */
static int add_column(lia_csvmap *m, const char *column, int index, json_t *v, const char *name,
                      lia_error *err)
{
    const char *target = NULL, *conv = NULL, *tf = NULL, *attr = NULL;
    json_t *vals = NULL, *def = NULL;
    lia_colmap *c;
    int required = 0, rc;
    if (json_is_string(v)) {
        target = json_string_value(v);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(
            v, k, x) if (strcmp(k, "field") && strcmp(k, "convert") && strcmp(k, "required") &&
                         strcmp(k, "time") && strcmp(k, "values") && strcmp(k, "default") &&
                         strcmp(k, "attribute") &&
                         strcmp(k, "fallback")) return lia_error_set(err, LIA_EINVAL, k, NULL, 0,
                                                                     "mapping %s: column %s: unknown key",
                                                                     name, column ? column : "(by position)");
        target = json_string_value(json_object_get(v, "field"));
        conv = json_string_value(json_object_get(v, "convert"));
        required = json_is_true(json_object_get(v, "required"));
        tf = json_string_value(json_object_get(v, "time"));
        vals = json_object_get(v, "values");
        def = json_object_get(v, "default");
        attr = json_string_value(json_object_get(v, "attribute"));
        if (json_object_get(v, "attribute") && (!attr || !*attr || m->records != LIA_REC_HTML))
            return lia_error_set(err, LIA_EINVAL, "attribute", NULL, 0,
                                 "mapping %s: column %s: \"attribute\" (an attribute name) is for HTML "
                                 "records",
                                 name, column ? column : "(by position)");
        if ((vals && !json_is_object(vals)) || (def && !json_is_string(def)) ||
            (json_object_get(v, "time") && !tf))
            return lia_error_set(err, LIA_EINVAL, column, NULL, 0,
                                 "mapping %s: column %s: \"values\" is an object of strings, \"default\" and "
                                 "\"time\" are strings",
                                 name, column ? column : "(by position)");
    }
    if (!target)
        return lia_error_set(err, LIA_EINVAL, column, NULL, 0, "mapping %s: column \"%s\" needs a \"field\"",
                             name, column ? column : "(by position)");
    if (tf && strcmp(tf, "epoch") && strcmp(tf, "epoch_ms") && !strchr(tf, '%'))
        return lia_error_set(
            err, LIA_EINVAL, column, tf, strlen(tf),
            "mapping %s: \"time\" is a strptime format (e.g. %%Y-%%m-%%d %%H:%%M:%%S), epoch "
            "or epoch_ms",
            name);
    if ((rc = lia_csvmap_add(m, column, index, target, conv, required, err)))
        return rc;
    c = &m->cols[m->ncols - 1];
    if (column && index >= 0)
        c->index = index; /* a JSON path: found by index, named in messages */
    if (attr && dupstr(&c->attr, attr))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (json_is_object(v) && json_object_get(v, "fallback")) {
        /* another column spec for the same value, built in a mapping of its own */
        json_t *fb = json_object_get(v, "fallback");
        lia_csvmap *t = lia_csvmap_new(name);
        if (!t)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        t->records = m->records;
        if (json_is_object(fb) && json_object_get(fb, "required"))
            rc = lia_error_set(err, LIA_EINVAL, "fallback", NULL, 0,
                               "mapping %s: column %s: a fallback cannot be required", name,
                               column ? column : "(by position)");
        else
            rc = add_column(t, column, index, fb, name, err);
        if (rc == LIA_OK && !(c->fallback = malloc(sizeof *c->fallback)))
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        if (rc == LIA_OK) {
            *c->fallback = t->cols[0];
            t->ncols = 0;
        }
        lia_csvmap_free(t);
        if (rc)
            return rc;
    }
    if (tf && dupstr(&c->timefmt, tf))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (def && dupstr(&c->vdefault, json_string_value(def)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (vals && json_object_size(vals)) {
        const char *k;
        json_t *x;
        c->vfrom = calloc(json_object_size(vals), sizeof *c->vfrom);
        c->vto = calloc(json_object_size(vals), sizeof *c->vto);
        if (!c->vfrom || !c->vto)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        json_object_foreach(vals, k, x)
        {
            if (!json_is_string(x))
                return lia_error_set(err, LIA_EINVAL, k, NULL, 0,
                                     "mapping %s: column %s: values.%s: a string is expected", name,
                                     column ? column : "(by position)", k);
            if (dupstr(&c->vfrom[c->nvalues], k) || dupstr(&c->vto[c->nvalues], json_string_value(x)))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            c->nvalues++;
        }
    }
    return LIA_OK;
}

int lia_csvmap_from_json(json_t *j, const char *name, lia_csvmap **out, lia_error *err)
{
    lia_csvmap *m;
    json_t *cols, *v;
    const char *key;
    int rc = LIA_OK;
    if (!json_is_object(j))
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "mapping %s: a JSON object is expected", name);
    m = lia_csvmap_new(name);
    if (!m)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    json_object_foreach(j, key, v)
    {
        if (strcmp(key, "delimiter") == 0)
            rc = one_char(v, key, &m->csv.delim, name, err);
        else if (strcmp(key, "quote") == 0)
            rc = one_char(v, key, &m->csv.quote, name, err);
        else if (strcmp(key, "comment") == 0)
            rc = one_char(v, key, &m->csv.comment, name, err);
        else if (strcmp(key, "header") == 0) {
            if (!json_is_boolean(v))
                rc = lia_error_set(err, LIA_EINVAL, key, NULL, 0, "mapping %s: \"header\" must be true or false", name);
            m->header = json_is_true(v);
        } else if (strcmp(key, "unmapped") == 0) {
            const char *u = json_string_value(v);
            if (u && strcmp(u, "extra") == 0)
                m->unmapped = LIA_UNMAPPED_EXTRA;
            else if (u && strcmp(u, "ignore") == 0)
                m->unmapped = LIA_UNMAPPED_IGNORE;
            else if (u && strcmp(u, "error") == 0)
                m->unmapped = LIA_UNMAPPED_ERROR;
            else
                rc = lia_error_set(err, LIA_EINVAL, key, NULL, 0,
                                   "mapping %s: \"unmapped\" is one of extra, ignore, error", name);
        } else if (strcmp(key, "records") == 0) {
            const char *r = json_string_value(v);
            if (r && strcmp(r, "csv") == 0)
                m->records = LIA_REC_CSV;
            else if (r && strcmp(r, "lines") == 0)
                m->records = LIA_REC_LINES;
            else if (r && strcmp(r, "json") == 0)
                m->records = LIA_REC_JSON;
            else if (r && strcmp(r, "html") == 0)
                m->records = LIA_REC_HTML;
            else
                rc = lia_error_set(err, LIA_EINVAL, key, NULL, 0,
                                   "mapping %s: \"records\" is one of csv, lines, json, html", name);
        } else if (strcmp(key, "table") == 0) {
            rc = table_sel(m, v, name, err);
        } else if (strcmp(key, "pattern") == 0 || strcmp(key, "ignore") == 0 || strcmp(key, "each") == 0) {
            char **dst = key[0] == 'p' ? &m->pattern : key[0] == 'i' ? &m->ignore : &m->each;
            if (!json_is_string(v) || (key[0] == 'e' && !json_string_length(v)))
                rc = lia_error_set(err, LIA_EINVAL, key, NULL, 0,
                                   key[0] == 'e' ? "mapping %s: \"%s\" must be the path of an array"
                                                 : "mapping %s: \"%s\" must be a regular expression",
                                   name, key);
            else if (!(*dst = strdup(json_string_value(v))))
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        } else if (strcmp(key, "columns") == 0 || strcmp(key, "constants") == 0 ||
                   strcmp(key, "description") == 0 || strcmp(key, "name") == 0 ||
                   strcmp(key, "preset") == 0 || strcmp(key, "sample") == 0) {
            continue;
        } else {
            rc = lia_error_set(err, LIA_EINVAL, key, NULL, 0, "mapping %s: unknown key", name);
        }
        if (rc)
            goto fail;
    }
    cols = json_object_get(j, "columns");
    if (!json_is_object(cols) && !json_is_array(cols)) {
        rc = lia_error_set(err, LIA_EINVAL, "columns", NULL, 0,
                           "mapping %s: \"columns\" (object or array) is required", name);
        goto fail;
    }
    if (m->records == LIA_REC_JSON && !json_is_object(cols)) {
        rc = lia_error_set(err, LIA_EINVAL, "columns", NULL, 0,
                           "mapping %s: JSON records need \"columns\" as an object of paths", name);
        goto fail;
    }
    if (m->each && m->records != LIA_REC_JSON) {
        rc =
            lia_error_set(err, LIA_EINVAL, "each", NULL, 0, "mapping %s: \"each\" is for JSON records", name);
        goto fail;
    }
    if ((m->tbl_id || m->tbl_class || m->tbl_after || m->tbl_index || json_object_get(j, "table")) &&
        m->records != LIA_REC_HTML) {
        rc = lia_error_set(err, LIA_EINVAL, "table", NULL, 0, "mapping %s: \"table\" is for HTML records",
                           name);
        goto fail;
    }
    m->html_header = json_object_get(j, "header") ? m->header : json_is_object(cols);
    if (m->records == LIA_REC_HTML && json_is_object(cols) && !m->html_header) {
        rc = lia_error_set(err, LIA_EINVAL, "columns", NULL, 0,
                           "mapping %s: columns by header name need \"header\": true (by position: an array)",
                           name);
        goto fail;
    }
    if (m->records != LIA_REC_CSV)
        m->header = 0;         /* the front-end gives fields by column index */
    if (json_is_array(cols)) { /* by position: ["source.ip", null, {"field": ..., "convert": ...}] */
        size_t i;
        json_array_foreach(cols, i, v)
        {
            if (json_is_null(v))
                continue;
            if (!json_is_string(v) && !json_is_object(v)) {
                rc = lia_error_set(err, LIA_EINVAL, "columns", NULL, 0,
                                   "mapping %s: column %zu: a field name, an object or null is expected",
                                   name, i + 1);
                goto fail;
            }
            if ((rc = add_column(m, NULL, (int)i, v, name, err)))
                goto fail;
        }
        if (!json_object_get(j, "header"))
            m->header = 0;
    } else {
        size_t i = 0;
        json_object_foreach(cols, key, v)
        {
            /* JSON records: the key is a path, the column its index; HTML:
             * a header name, found by the front-end */
            if ((rc = add_column(m, key,
                                 m->records == LIA_REC_JSON || m->records == LIA_REC_HTML ? (int)i : -1, v,
                                 name, err)))
                goto fail;
            i++;
        }
    }
    json_object_foreach(json_object_get(j, "constants"), key, v)
    {
        if (!json_is_string(v)) {
            rc = lia_error_set(err, LIA_EINVAL, key, NULL, 0, "mapping %s: constant must be a string", name);
            goto fail;
        }
        if ((rc = lia_csvmap_add_const(m, key, json_string_value(v), err)))
            goto fail;
    }
    *out = m;
    return LIA_OK;
fail:
    lia_csvmap_free(m);
    return rc;
}

int lia_csvmap_load(const char *path, lia_csvmap **out, lia_error *err)
{
    json_error_t je;
    json_t *j = NULL;
    lia_buf text;
    int rc;
    if (strncmp(path, "builtin:", 8) == 0) {
        const lia_feedmap_text *t = lia__feedmaps;
        while (t->name && strcmp(t->name, path + 8) != 0)
            t++;
        if (!t->name)
            return lia_error_set(err, LIA_ENOTFOUND, NULL, path, strlen(path),
                                 "no built-in mapping of that name (see share/feeds/)");
        j = json_loadb(t->text, t->len, JSON_REJECT_DUPLICATES, &je);
    } else {
        if ((rc = lia__file_read(path, LIA_MAX_CONFIG_FILE, &text, err)))
            return rc;
        j = json_loadb(text.ptr, text.len, JSON_REJECT_DUPLICATES, &je);
        lia_buf_free(&text);
    }
    if (!j) {
        rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "%s", je.text);
        lia_error_where(err, path, (uint64_t)(je.line > 0 ? je.line : 0));
        return rc;
    }
    rc = lia_csvmap_from_json(j, path, out, err);
    json_decref(j);
    return rc;
}

/* ---- "values" and "time" ---- */

/* A time as RFC 3339 UTC text into b: "epoch" / "epoch_ms" (an integer,
 * optionally with a fraction), or a strptime format that must read the whole
 * value (trailing blanks allowed); without %z the time is UTC. */
static int read_time(const char *fmt, lia_slice v, lia_buf *b, lia_slice *out, const char **why)
{
    char in[128], txt[40];
    struct tm tm;
    time_t t;
    long gmtoff = 0;
    size_t n = v.len;
    if (n >= sizeof in) {
        *why = "time value too long";
        return LIA_EINVAL;
    }
    memcpy(in, v.ptr, n);
    in[n] = '\0';
    memset(&tm, 0, sizeof tm);
    if (strncmp(fmt, "epoch", 5) == 0) {
        int64_t x = 0;
        size_t i = in[0] == '-' ? 1 : 0;
        if (i == n) {
            *why = "not a number of seconds since 1970";
            return LIA_EINVAL;
        }
        for (; i < n && in[i] >= '0' && in[i] <= '9'; i++) {
            if (x > (INT64_MAX - 9) / 10) {
                *why = "time out of range";
                return LIA_EINVAL;
            }
            x = x * 10 + (in[i] - '0');
        }
        if (i < n && in[i] == '.')
            for (i++; i < n && in[i] >= '0' && in[i] <= '9'; i++)
                ;
        if (i != n) {
            *why = "not a number of seconds since 1970";
            return LIA_EINVAL;
        }
        if (in[0] == '-')
            x = -x;
        if (strcmp(fmt, "epoch_ms") == 0)
            x /= 1000;
        t = (time_t)x;
    } else {
        const char *end = strptime(in, fmt, &tm);
        while (end && (*end == ' ' || *end == '\t'))
            end++;
        if (!end || *end) {
            *why = "does not match the mapping's time format";
            return LIA_EINVAL;
        }
        gmtoff = tm.tm_gmtoff;
        tm.tm_isdst = 0;
        t = timegm(&tm) - gmtoff;
    }
    if (!gmtime_r(&t, &tm) || tm.tm_year < -1899 || tm.tm_year > 8099) {
        *why = "time out of range";
        return LIA_EINVAL;
    }
    strftime(txt, sizeof txt, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    lia_buf_reset(b);
    lia_buf_puts(b, txt);
    *out = (lia_slice){b->ptr, b->len};
    return b->err ? LIA_ELIMIT : LIA_OK;
}

int lia__map_xform(const lia_colmap *c, lia_slice v, lia_buf *b, lia_slice *out, const char **why)
{
    if (c->nvalues || c->vdefault) {
        size_t k;
        for (k = 0; k < c->nvalues; k++)
            if (strlen(c->vfrom[k]) == v.len && strncasecmp(c->vfrom[k], v.ptr, v.len) == 0)
                break;
        if (k < c->nvalues)
            v = lia_slice_from(c->vto[k]);
        else if (c->vdefault)
            v = lia_slice_from(c->vdefault);
    }
    if (c->timefmt && v.len)
        return read_time(c->timefmt, v, b, out, why);
    *out = v;
    return LIA_OK;
}

/* ---- the format ---- */

typedef struct action {
    int field;          /* lia_field; -1 extra; -2 ignore */
    const char *key;    /* extra key (borrowed from map or header copy) */
    size_t klen;
    lia_conv_fn conv;
    int required;
    const char *column; /* for messages */
    size_t col;         /* column index (in the list of active columns) */
    int zero_null;      /* conv is zero_is_null, done inline */
    int op;             /* how a value is stored (OP_*), decided per header */
    const lia_colmap *xf;    /* "values" / "time" to apply first, or NULL */
    const struct action *fb; /* "fallback": tried when the value fails */
} action;

/* How a column's value is stored: the common field types through the inline
 * fast paths of core/event_fast.h, anything they do not take (and every
 * error) through the public setters, which decide as they always did. */
enum { OP_SET, OP_TEXT, OP_IP, OP_PORT, OP_ASN, OP_TIME, OP_CC, OP_EXTRA };

static int op_for(int field)
{
    if (field < 0)
        return OP_EXTRA;
    switch (lia__field_type((lia_field)field)) {
    case LIA_T_STRING:
    case LIA_T_LOWER:
    case LIA_T_UPPER: return OP_TEXT;
    case LIA_T_IP: return OP_IP;
    case LIA_T_PORT: return OP_PORT;
    case LIA_T_ASN: return OP_ASN;
    case LIA_T_TIME: return OP_TIME;
    case LIA_T_CC: return OP_CC;
    default: return OP_SET;
    }
}

/* Store v for action a: 1 if a fast path took it, else 0 (nothing stored). */
static inline int put_fast(lia_event *ev, const action *a, int kind, lia_slice v)
{
    const lia_field f = (lia_field)a->field;
    switch (a->op) {
    case OP_TEXT: return lia__event_text_fast(ev, f, lia__ftype[f], v.ptr, v.len);
    case OP_IP: {
        lia_ip ip;
        if (lia_parse_ip(v.ptr, v.len, &ip, NULL) != LIA_OK)
            return 0;
        lia__event_set_ip_fast(ev, f, &ip);
        return 1;
    }
    case OP_PORT: {
        uint16_t port;
        if (lia__parse_port(v.ptr, v.len, &port, NULL) != LIA_OK)
            return 0;
        lia__event_set_i_fast(ev, f, port);
        return 1;
    }
    case OP_ASN: {
        uint32_t asn;
        if (lia_parse_asn(v.ptr, v.len, &asn, NULL) != LIA_OK)
            return 0;
        lia__event_set_i_fast(ev, f, asn);
        return 1;
    }
    case OP_TIME: {
        int64_t us;
        if (lia_parse_time(v.ptr, v.len, &us, NULL) != LIA_OK)
            return 0;
        lia__event_set_i_fast(ev, f, us);
        return 1;
    }
    case OP_CC: {
        char cc[3];
        return lia_parse_cc(v.ptr, v.len, cc, NULL) == LIA_OK && lia__event_str_fast(ev, f, cc, 2, 0);
    }
    case OP_EXTRA:
        if (kind == LIA_CONV_JSON)
            return lia__event_extra_put_fast(ev, a->key, a->klen, v.ptr, v.len, 0);
        return lia__event_extra_str_fast(ev, a->key, a->klen, v.ptr, v.len);
    default: return 0;
    }
}

struct lia_csvfmt {
    lia_csvmap *map;
    lia_csv *csv;
    lia_records *out;   /* during parse */
    const char *chunk;
    size_t chunklen;
    action *act;        /* per column index */
    size_t nact;
    action *run;        /* the columns not ignored, in column order */
    size_t nrun;
    int have_header;
    char **hdr;         /* copies of header names */
    size_t nhdr;
    lia_buf scratch;
    lia_event consts;   /* the mapping's constants, validated once */
    /* the same as a list, in lia_event_copy's order, when they are fields
     * only (no extra keys): what each row gets, and the text it adds */
    struct cfield {
        lia_field f;
        int text;
    } *cf;
    size_t ncf, cf_text;
    int fatal;
    lia_error fatal_err;
    lia_maprec *rec;     /* lines or JSON records, or NULL for CSV */
    lia_htmltable *html; /* HTML records */
    action *fbs;         /* the columns' fallbacks, by mapping column */
    lia_buf xbuf;        /* output of "values" / "time" */
};

static void free_header(lia_csvfmt *f)
{
    for (size_t i = 0; i < f->nhdr; i++)
        free(f->hdr[i]);
    free(f->hdr);
    f->hdr = NULL;
    f->nhdr = 0;
}

static action make_action(const lia_colmap *cm, const char *column)
{
    action a = {.field = cm->field,
                .key = cm->extra_key,
                .klen = cm->extra_key ? strlen(cm->extra_key) : 0,
                .conv = cm->conv,
                .required = cm->required,
                .column = column,
                .xf = cm->nvalues || cm->vdefault || cm->timefmt ? cm : NULL};
    a.zero_null = a.conv == conv_zero_is_null;
    a.op = op_for(a.field);
    if (a.zero_null)
        a.conv = NULL;
    return a;
}

static int resolve(lia_csvfmt *f, const lia_slice *names, size_t n, lia_error *err)
{
    lia_csvmap *m = f->map;
    free_header(f);
    free(f->act);
    free(f->run);
    f->run = NULL;
    f->nact = f->nrun = 0;
    f->hdr = calloc(n ? n : 1, sizeof *f->hdr);
    f->act = calloc(n ? n : 1, sizeof *f->act);
    free(f->fbs);
    f->fbs = calloc(m->ncols ? m->ncols : 1, sizeof *f->fbs);
    if (!f->hdr || !f->act || !f->fbs)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    f->nhdr = f->nact = n;
    for (size_t i = 0; i < n; i++) {
        lia_slice nm = names ? lia_slice_trim(names[i]) : LIA_SLICE_NULL;
        f->hdr[i] = strndup(nm.ptr ? nm.ptr : "", nm.len);
        if (!f->hdr[i])
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        f->act[i] = (action){.field = -2, .column = f->hdr[i]};
        if (m->unmapped == LIA_UNMAPPED_EXTRA && nm.len)
            f->act[i].field = -1; /* key derived below from the header copy */
    }
    for (size_t c = 0; c < m->ncols; c++) {
        lia_colmap *cm = &m->cols[c];
        size_t i;
        if (cm->column && cm->index < 0) {
            for (i = 0; i < n; i++)
                if (strcmp(f->hdr[i], cm->column) == 0)
                    break;
        } else {
            i = (size_t)cm->index;
        }
        if (i >= n) {
            if (cm->required || cm->index >= 0)
                return lia_error_set(err, LIA_EPARSE, cm->column, NULL, 0,
                                     "mapping %s: column %s%s is missing from the report",
                                     m->name, cm->column ? "" : "#", cm->column ? cm->column : "");
            continue; /* optional column absent */
        }
        f->act[i] = make_action(cm, cm->column ? cm->column : f->hdr[i]);
        if (cm->fallback) {
            f->fbs[c] = make_action(cm->fallback, f->act[i].column);
            f->act[i].fb = &f->fbs[c];
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (f->act[i].field == -1 && !f->act[i].key) { /* unmapped -> extra.<name> */
            char *k = f->hdr[i];
            /* normalise the header copy in place into a valid key */
            for (char *p = k; *p; p++) {
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p + 32);
                else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
                    *p = '_';
            }
            f->act[i].klen = strlen(k);
            if (k[0] == '.' || k[0] == '-')
                k[0] = '_';
            if (k[f->act[i].klen - 1] == '.' || k[f->act[i].klen - 1] == '-')
                k[f->act[i].klen - 1] = '_';
            f->act[i].key = k;
        }
        if (f->act[i].field == -2 && m->unmapped == LIA_UNMAPPED_ERROR && names)
            return lia_error_set(err, LIA_EPARSE, f->hdr[i], NULL, 0,
                                 "mapping %s: column is not mapped", m->name);
    }
    /* extra keys are checked once here, so rows can skip the per-event checks */
    for (size_t i = 0; i < n; i++) {
        const action *a = &f->act[i];
        if (a->field != -1)
            continue;
        if (!lia__extra_key_valid(a->key, a->klen))
            return lia_error_set(err, LIA_EPARSE, a->column, a->key, a->klen,
                                 "mapping %s: not a valid extra key", m->name);
        for (size_t j = 0; j < i; j++)
            if (f->act[j].field == -1 && f->act[j].klen == a->klen && memcmp(f->act[j].key, a->key, a->klen) == 0)
                return lia_error_set(err, LIA_EPARSE, a->column, a->key, a->klen,
                                     "mapping %s: two columns map to the same extra key", m->name);
        for (size_t c = 0; c < f->consts.nextra; c++) {
            const lia_extra *x = &f->consts.extra[c];
            if (x->klen == a->klen && memcmp(f->consts.text.ptr + x->koff, a->key, a->klen) == 0)
                return lia_error_set(err, LIA_EPARSE, a->column, a->key, a->klen,
                                     "mapping %s: a column and a constant set the same extra key", m->name);
        }
    }
    /* what each row does, decided once: the active columns in order */
    f->run = calloc(n ? n : 1, sizeof *f->run);
    if (!f->run)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        action a = f->act[i];
        if (a.field == -2)
            continue;
        a.col = i;
        a.zero_null = a.zero_null || a.conv == conv_zero_is_null;
        a.op = op_for(a.field);
        if (a.zero_null)
            a.conv = NULL;
        f->run[f->nrun++] = a;
    }
    f->have_header = 1;
    return LIA_OK;
}

static int on_row(void *ud, const lia_csv_row *row)
{
    lia_csvfmt *f = ud;
    int copy;
    if (row->err == 0 && f->map->header && !f->have_header) {
        if (resolve(f, row->fields, row->nfields, &f->fatal_err)) {
            f->fatal = 1;
            return 1;
        }
        f->out->header = NULL;
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

/* lia_event_copy(ev, &f->consts) for constants that are fields only, when
 * their text fits: the same values and text, in the same order. 0 (ev
 * untouched) if it does not fit. */
static int put_consts(const lia_csvfmt *f, lia_event *ev)
{
    const lia_event *c = &f->consts;
    if (!lia__text_room(&ev->text, f->cf_text))
        return 0;
    for (size_t k = 0; k < f->ncf; k++) {
        lia_field fd = f->cf[k].f;
        if (f->cf[k].text)
            lia__event_str_fast(ev, fd, c->text.ptr + c->v[fd].s.off, c->v[fd].s.len, 0);
        else {
            ev->v[fd] = c->v[fd];
            ev->present[fd >> 6] |= (uint64_t)1 << (fd & 63);
        }
    }
    return 1;
}

static int consts_list(lia_csvfmt *f)
{
    const lia_event *c = &f->consts;
    if (c->nextra)
        return LIA_OK; /* extra keys: lia_event_copy every row */
    f->cf = calloc(LIA_F__COUNT, sizeof *f->cf);
    if (!f->cf)
        return LIA_ENOMEM;
    for (int fd = 0; fd < LIA_F__COUNT; fd++) {
        if (!lia_event_has(c, (lia_field)fd))
            continue;
        f->cf[f->ncf].text = lia__ftype_is_text(lia__field_type((lia_field)fd)) != 0;
        if (f->cf[f->ncf].text)
            f->cf_text += c->v[fd].s.len;
        f->cf[f->ncf++].f = (lia_field)fd;
    }
    return LIA_OK;
}

int lia_csvfmt_open(lia_csvfmt **out, lia_csvmap *m, const lia_feed_opts *o, lia_error *err)
{
    lia_csvfmt *f = calloc(1, sizeof *f);
    int rc;
    if (!f) {
        lia_csvmap_free(m);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    f->map = m;
    lia_buf_init(&f->scratch, LIA_MAX_FIELD);
    lia_buf_init(&f->xbuf, LIA_MAX_FIELD);
    lia_event_init(&f->consts);
    lia_error_clear(&f->fatal_err);
    for (size_t i = 0; i < m->nconsts; i++) {
        const lia_constmap *c = &m->consts[i];
        rc = lia_event_set_name(&f->consts, c->target, strlen(c->target), c->value, strlen(c->value), err);
        if (rc) {
            if (err)
                lia__error_reword(err, "mapping %s: constant: %s", m->name, err->reason);
            lia_csvfmt_close(f);
            return rc;
        }
    }
    if ((rc = consts_list(f))) {
        lia_csvfmt_close(f);
        return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
    }
    if ((rc = lia_csv_create(&m->csv, &f->csv))) {
        lia_csvfmt_close(f);
        return lia_error_set(err, rc, NULL, NULL, 0, "creating CSV splitter: %s", lia_strerror(rc));
    }
    if (m->records == LIA_REC_HTML) {
        size_t ncols = 0;
        char **names = NULL, **attrs;
        int *req;
        lia_htmlsel sel = {m->tbl_id, m->tbl_class, m->tbl_after, m->tbl_index};
        for (size_t i = 0; i < m->ncols; i++)
            if ((size_t)m->cols[i].index + 1 > ncols)
                ncols = (size_t)m->cols[i].index + 1;
        attrs = calloc(ncols + 1, sizeof *attrs);
        req = calloc(ncols + 1, sizeof *req);
        if (m->html_header && m->ncols && m->cols[0].column)
            names = calloc(ncols + 1, sizeof *names);
        if (!attrs || !req || (m->html_header && m->ncols && m->cols[0].column && !names))
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        else {
            for (size_t i = 0; i < m->ncols; i++) {
                const lia_colmap *c = &m->cols[i];
                attrs[c->index] = c->attr;
                req[c->index] |= c->required;
                if (names)
                    names[c->index] = c->column;
            }
            rc = lia__htmltable_new(&sel, m->html_header, names, attrs, req, ncols, m->ignore, m->name,
                                    &f->html, err);
        }
        free(attrs);
        free(req);
        free(names);
        if (rc) {
            lia_csvfmt_close(f);
            return rc;
        }
    } else if (m->records != LIA_REC_CSV) {
        char **paths = NULL;
        size_t ncols = 0;
        rc = LIA_OK;
        for (size_t i = 0; i < m->ncols; i++)
            if ((size_t)m->cols[i].index + 1 > ncols)
                ncols = (size_t)m->cols[i].index + 1;
        if (m->records == LIA_REC_JSON) {
            if (!(paths = calloc(ncols + 1, sizeof *paths))) {
                lia_csvfmt_close(f);
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            }
            for (size_t i = 0; i < m->ncols; i++)
                if (!paths[m->cols[i].index] && !(paths[m->cols[i].index] = strdup(m->cols[i].column)))
                    rc = LIA_ENOMEM;
            for (size_t i = 0; i < ncols; i++)
                if (!paths[i] && !(paths[i] = strdup("")))
                    rc = LIA_ENOMEM;
        }
        if (rc == LIA_ENOMEM)
            lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
        else
            rc = lia__maprec_new(m->records, m->pattern, m->ignore, m->csv.comment, paths, ncols, m->each,
                                 m->name, &f->rec, err);
        if (rc) {
            for (size_t i = 0; paths && i < ncols; i++)
                free(paths[i]);
            free(paths);
            lia_csvfmt_close(f);
            return rc;
        }
    }
    if (!m->header) {
        size_t maxcol = 0;
        for (size_t i = 0; i < m->ncols; i++)
            if ((size_t)m->cols[i].index + 1 > maxcol)
                maxcol = (size_t)m->cols[i].index + 1;
        if ((rc = resolve(f, NULL, maxcol, err))) {
            lia_csvfmt_close(f);
            return rc;
        }
    }
    *out = f;
    return LIA_OK;
}

int lia_csvfmt_parse(lia_csvfmt *f, const char *buf, size_t len, int eof, lia_records *out,
                     lia_error *err)
{
    int rc;
    if (f->rec)
        return lia__maprec_parse(f->rec, buf, len, eof, out, err);
    if (f->html)
        return lia__htmltable_parse(f->html, buf, len, eof, out, err);
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
    if (eof && f->map->header && !f->have_header)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "report has no header line");
    return LIA_OK;
}

/* Store column value in for action a: LIA_OK (also when it is absent) or
 * the error, with err set. */
static inline __attribute__((always_inline)) int put_col(lia_csvfmt *f, const action *a, lia_slice in,
                                                         lia_event *ev, lia_error *err)
{
    lia_slice v = in;
    int rc;
    int kind = LIA_CONV_TEXT;
    if (a->xf && v.len) {
        const char *why = NULL;
        if ((rc = lia__map_xform(a->xf, v, &f->xbuf, &v, &why)))
            return lia_error_set(err, rc, a->field >= 0 ? lia_field_name((lia_field)a->field) : a->key,
                                 in.ptr, in.len, "%s (column %s)", why, a->column);
    }
    if (a->zero_null) {
        if (v.len == 0 || (v.len == 1 && v.ptr[0] == '0'))
            kind = LIA_CONV_ABSENT;
    } else if (a->conv) {
        const char *why = NULL; /* these two by address: kept off the hot path's registers */
        lia_slice cv = v;
        kind = a->conv(v, &f->scratch, &cv, &why);
        v = cv;
        if (kind < 0) {
            char fname[LIA_MAX_KEY + 8];
            if (a->field >= 0)
                snprintf(fname, sizeof fname, "%s", lia_field_name((lia_field)a->field));
            else
                snprintf(fname, sizeof fname, "extra.%s", a->key);
            return lia_error_set(err, kind, fname, in.ptr, in.len, "%s (column %s)",
                                 why ? why : "conversion failed", a->column);
        }
    } else if (v.len == 0) {
        kind = LIA_CONV_ABSENT;
    }
    if (kind == LIA_CONV_ABSENT) {
        if (a->required)
            return lia_error_set(err, LIA_EINVAL,
                                 a->field >= 0 ? lia_field_name((lia_field)a->field) : a->key, NULL, 0,
                                 "required column %s is empty", a->column);
        return LIA_OK;
    }
    if (put_fast(ev, a, kind, v))
        return LIA_OK;
    if (a->field >= 0)
        rc = lia_event_set(ev, (lia_field)a->field, v.ptr, v.len, err);
    else if (kind == LIA_CONV_JSON)
        rc = lia_event_extra_json_known(ev, a->key, a->klen, v.ptr, v.len, err);
    else
        rc = lia_event_extra_str_known(ev, a->key, a->klen, v.ptr, v.len, err);
    return rc;
}

int lia_csvfmt_normalise(lia_csvfmt *f, const lia_records *rs, const lia_record *r, lia_event *ev,
                         lia_error *err)
{
    const lia_slice *fields = rs->fields + r->first;
    lia_csvmap *m = f->map;
    int rc;
    if (f->map->header && r->nfields != f->nact)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0,
                             "record has %u fields, the header has %zu", r->nfields, f->nact);
    if ((f->rec || f->html) && r->nfields == 0)
        return LIA_ENOTFOUND; /* a line or row the mapping ignores */
    /* run is in column order: a short record (no header) stops early */
    const action *a = f->run, *aend = f->run + f->nrun;
    if (r->nfields < f->nact)
        while (aend > a && aend[-1].col >= r->nfields)
            aend--;
    for (; a < aend; a++)
        if ((rc = put_col(f, a, fields[a->col], ev, err)) &&
            (!a->fb || !fields[a->col].len || (rc = put_col(f, a->fb, fields[a->col], ev, err))))
            return rc;
    if (!m->nconsts)
        return LIA_OK;
    if (f->cf && put_consts(f, ev))
        return LIA_OK;
    return lia_event_copy(ev, &f->consts, err);
}

void lia_csvfmt_close(lia_csvfmt *f)
{
    if (!f)
        return;
    lia_csv_destroy(f->csv);
    lia__maprec_free(f->rec);
    lia__htmltable_free(f->html);
    lia_buf_free(&f->xbuf);
    lia_csvmap_free(f->map);
    free_header(f);
    free(f->act);
    free(f->run);
    free(f->fbs);
    lia_buf_free(&f->scratch);
    lia_event_free(&f->consts);
    free(f->cf);
    free(f);
}

/* The "csv" format: mapping from opts->map_path. */

static int csv_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    lia_csvmap *m;
    int rc;
    if (!o->map_path)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0,
                             "format csv needs a mapping file (--map FILE)");
    if ((rc = lia_csvmap_load(o->map_path, &m, err)))
        return rc;
    return lia_csvfmt_open((lia_csvfmt **)st, m, o, err);
}

static int csv_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    return lia_csvfmt_parse(st, buf, len, eof, out, err);
}

static int csv_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev,
                         lia_error *err)
{
    return lia_csvfmt_normalise(st, rs, r, ev, err);
}

static void csv_close(void *st) { lia_csvfmt_close(st); }

const lia_format lia_format_csv = {
    .name = "csv",
    .summary = "CSV with a declarative column mapping (--map FILE)",
    .open = csv_open,
    .parse = csv_parse,
    .normalise = csv_normalise,
    .close = csv_close,
};
