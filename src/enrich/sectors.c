/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Sector tagging (IoT, ICS and the ICS protocol) from declarative rules.
 *
 * A rules file is JSON: {"rules": [RULE, ...]} where a RULE is
 *   {"name": "modbus", "sector": "ics", "ics_protocol": "modbus",
 *    "match": {"port": [502], "transport": ["tcp"]}}
 * match keys (all given must hold; a list holds when any element does;
 * text comparisons are case-insensitive globs with * and ?):
 *   report          report type or report file name
 *   feed            feed.name
 *   tag             the tokens of extra.tag (split on , ; | and space)
 *   application     protocol.application
 *   transport       protocol.transport
 *   port            the service port: destination.port if the event has
 *                   one, else source.port; numbers or "LOW-HIGH"
 *   classification  classification.type
 *   identifier      classification.identifier
 * Each output (sector, ics_protocol) comes from the first matching rule, in
 * file order, that sets it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "enrich/internal.h"
#include "liaison/limits.h"
#include "core/field_internal.h"

enum { C_REPORT, C_FEED, C_TAG, C_APP, C_TRANSPORT, C_CLASS, C_IDENT, C_PORT, C__N };
static const char *const cond_names[C__N] = {"report",    "feed",           "tag",        "application",
                                             "transport", "classification", "identifier", "port"};

typedef struct cond {
    char **pat;     /* text conditions: lower-case globs */
    uint32_t *plen; /* pattern length, with bit 31 set if it has no wildcard */
    size_t n;
    uint32_t (*ports)[2];
} cond;
#define EXACT (1u << 31)

typedef struct rule {
    char *name, *sector, *ics_protocol;
    cond c[C__N];
    unsigned has; /* bit per condition present */
} rule;

/* A compact pre-filter per rule, scanned before the rule itself: the
 * conditions it has, and the span of its ports. */
typedef struct pre {
    uint32_t has;
    uint32_t plo, phi;
} pre;

struct lia_sectors {
    rule *r;
    pre *pre;
    size_t n;
};

void lia__sectors_destroy(lia_sectors *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        rule *r = &s->r[i];
        free(r->name);
        free(r->sector);
        free(r->ics_protocol);
        for (int k = 0; k < C__N; k++) {
            for (size_t j = 0; j < r->c[k].n && r->c[k].pat; j++)
                free(r->c[k].pat[j]);
            free(r->c[k].pat);
            free(r->c[k].plen);
            free(r->c[k].ports);
        }
    }
    free(s->r);
    free(s->pre);
    free(s);
}

size_t lia__sectors_count(const lia_sectors *s)
{
    return s->n;
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

/* An error in rule i at key (one of the known keys, or NULL for the rule
 * itself); an unknown key from the file is named by rerr_unknown. */
static int rerr(lia_error *err, size_t i, const char *key, const char *why)
{
    char f[LIA_ERR_FIELD_MAX];
    snprintf(f, sizeof f, "rules[%zu]%s%s", i, key ? "." : "", key ? key : "");
    return lia_error_set(err, LIA_EPARSE, f, NULL, 0, "%s", why);
}

/* An unknown key (any length, from the file) in rule i, under "rules[i]" or
 * "rules[i].<in>": the field names it ("rules[0].match.colour") when that
 * fits; a longer key is the error's value instead, never cut short. */
static int rerr_unknown(lia_error *err, size_t i, const char *in, const char *ukey, const char *why)
{
    char f[LIA_ERR_FIELD_MAX];
    int n = snprintf(f, sizeof f, "rules[%zu]%s%s.%s", i, in ? "." : "", in ? in : "", ukey);
    if (n >= 0 && (size_t)n < sizeof f)
        return lia_error_set(err, LIA_EPARSE, f, NULL, 0, "%s", why);
    snprintf(f, sizeof f, "rules[%zu]%s%s", i, in ? "." : "", in ? in : "");
    return lia_error_set(err, LIA_EPARSE, f, ukey, strlen(ukey), "%s", why);
}

static int parse_port(json_t *v, uint32_t out[2])
{
    if (json_is_integer(v)) {
        json_int_t p = json_integer_value(v);
        if (p < 0 || p > 65535)
            return -1;
        out[0] = out[1] = (uint32_t)p;
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v), *dash = strchr(s, '-');
        uint16_t lo, hi;
        if (!dash || lia__parse_port(s, (size_t)(dash - s), &lo, NULL) ||
            lia__parse_port(dash + 1, strlen(dash + 1), &hi, NULL) || hi < lo)
            return -1;
        out[0] = lo;
        out[1] = hi;
        return 0;
    }
    return -1;
}

static int parse_cond(rule *r, int k, json_t *v, size_t ri, lia_error *err)
{
    cond *c = &r->c[k];
    size_t n;
    json_t *one = NULL;
    if (!json_is_array(v)) {
        one = json_array();
        if (!one || json_array_append(one, v))
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        v = one;
    }
    n = json_array_size(v);
    if (n == 0 || n > 1024) {
        json_decref(one);
        return rerr(err, ri, cond_names[k], "needs 1 to 1024 values");
    }
    if (k == C_PORT) {
        c->ports = calloc(n, sizeof *c->ports);
        if (!c->ports)
            goto nomem;
        for (size_t j = 0; j < n; j++) {
            if (parse_port(json_array_get(v, j), c->ports[j])) {
                json_decref(one);
                return rerr(err, ri, "port", "ports are numbers 0-65535 or \"LOW-HIGH\" strings");
            }
            c->n = j + 1;
        }
    } else {
        c->pat = calloc(n, sizeof *c->pat);
        c->plen = calloc(n, sizeof *c->plen);
        if (!c->pat || !c->plen)
            goto nomem;
        for (size_t j = 0; j < n; j++) {
            json_t *e = json_array_get(v, j);
            if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 256) {
                json_decref(one);
                return rerr(err, ri, cond_names[k], "values are non-empty strings of at most 256 bytes");
            }
            if (!(c->pat[j] = lower_dup(json_string_value(e))))
                goto nomem;
            c->plen[j] = (uint32_t)strlen(c->pat[j]);
            if (!strpbrk(c->pat[j], "*?"))
                c->plen[j] |= EXACT;
            c->n = j + 1;
        }
    }
    r->has |= 1u << k;
    json_decref(one);
    return LIA_OK;
nomem:
    json_decref(one);
    return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
}

static int out_str(json_t *v, char **out, size_t ri, const char *key, lia_error *err)
{
    const char *s;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 64)
        return rerr(err, ri, key, "must be a non-empty string of at most 64 bytes");
    s = json_string_value(v);
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
            return rerr(err, ri, key, "must be lower-case letters, digits, _ - or .");
    if (!(*out = strdup(s)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    return LIA_OK;
}

static int parse_rule(rule *r, json_t *o, size_t ri, lia_error *err)
{
    const char *key;
    json_t *v;
    int rc;
    if (!json_is_object(o))
        return rerr(err, ri, NULL, "a rule is a JSON object");
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, "name") == 0) {
            if (!json_is_string(v) || json_string_length(v) > 128)
                return rerr(err, ri, key, "must be a string of at most 128 bytes");
            if (!(r->name = strdup(json_string_value(v))))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        } else if (strcmp(key, "sector") == 0) {
            if ((rc = out_str(v, &r->sector, ri, key, err)))
                return rc;
        } else if (strcmp(key, "ics_protocol") == 0) {
            if ((rc = out_str(v, &r->ics_protocol, ri, key, err)))
                return rc;
        } else if (strcmp(key, "comment") == 0) {
            continue;
        } else if (strcmp(key, "match") == 0) {
            const char *mk;
            json_t *mv;
            if (!json_is_object(v))
                return rerr(err, ri, key, "must be an object of conditions");
            json_object_foreach(v, mk, mv)
            {
                int k = -1;
                for (int j = 0; j < C__N; j++)
                    if (strcmp(mk, cond_names[j]) == 0)
                        k = j;
                if (k < 0)
                    return rerr_unknown(err, ri, "match", mk,
                                        "unknown condition (report, feed, tag, application, transport, "
                                        "port, classification, identifier)");
                if ((rc = parse_cond(r, k, mv, ri, err)))
                    return rc;
            }
        } else {
            return rerr_unknown(err, ri, NULL, key,
                                "unknown key (name, sector, ics_protocol, match, comment)");
        }
    }
    if (!r->has)
        return rerr(err, ri, "match", "a rule needs at least one condition");
    if (!r->sector && !r->ics_protocol)
        return rerr(err, ri, NULL, "a rule sets sector, ics_protocol or both");
    return LIA_OK;
}

int lia__sectors_parse(const char *text, size_t len, lia_sectors **out, lia_error *err)
{
    json_error_t je;
    json_t *root = NULL, *rules;
    lia_sectors *s = NULL;
    int rc = LIA_OK;
    if (len > LIA_MAX_SECTOR_FILE)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "sector rules larger than %u bytes",
                             LIA_MAX_SECTOR_FILE);
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "sector rules: %s", je.text);
        if (err)
            err->line = (uint64_t)(je.line > 0 ? je.line : 0);
        return rc;
    }
    rules = json_object_get(root, "rules");
    if (!json_is_object(root) || !json_is_array(rules)) {
        rc = lia_error_set(err, LIA_EPARSE, "rules", NULL, 0, "expected {\"rules\": [ ... ]}");
        goto out;
    }
    {
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v)
        {
            if (strcmp(key, "rules") && strcmp(key, "description") && strcmp(key, "version") &&
                strcmp(key, "comment")) {
                rc = lia_error_set(err, LIA_EPARSE, key, NULL, 0,
                                   "unknown top-level key (rules, description, version, comment)");
                goto out;
            }
        }
    }
    if (json_array_size(rules) > LIA_MAX_SECTOR_RULES) {
        rc = lia_error_set(err, LIA_ELIMIT, "rules", NULL, 0, "more than %d rules", LIA_MAX_SECTOR_RULES);
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->r = calloc(json_array_size(rules) + 1, sizeof *s->r))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(rules); i++) {
        s->n = i + 1;
        if ((rc = parse_rule(&s->r[i], json_array_get(rules, i), i, err)))
            goto out;
    }
    if (!(s->pre = calloc(s->n + 1, sizeof *s->pre))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s->n; i++) {
        const rule *r = &s->r[i];
        s->pre[i].has = r->has;
        s->pre[i].plo = 0;
        s->pre[i].phi = 65535;
        if (r->has & (1u << C_PORT)) {
            s->pre[i].plo = 65535;
            s->pre[i].phi = 0;
            for (size_t j = 0; j < r->c[C_PORT].n; j++) {
                if (r->c[C_PORT].ports[j][0] < s->pre[i].plo)
                    s->pre[i].plo = r->c[C_PORT].ports[j][0];
                if (r->c[C_PORT].ports[j][1] > s->pre[i].phi)
                    s->pre[i].phi = r->c[C_PORT].ports[j][1];
            }
        }
    }
    *out = s;
    s = NULL;
out:
    lia__sectors_destroy(s);
    json_decref(root);
    return rc;
}

int lia__sectors_load(const char *path, lia_sectors **out, lia_error *err)
{
    lia_buf buf;
    int rc;
    if ((rc = lia__file_read(path, LIA_MAX_SECTOR_FILE, &buf, err))) {
        if (rc == LIA_ENOTFOUND && err) /* missing sector rules: LIA_EIO, as before */
            err->code = LIA_EIO;
        return rc == LIA_ENOTFOUND ? LIA_EIO : rc;
    }
    rc = lia__sectors_parse(buf.ptr, buf.len, out, err);
    if (rc)
        lia_error_where(err, path, 0);
    lia_buf_free(&buf);
    return rc;
}

/* ---- matching ---- */

static int lc(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive glob (* and ?) of pattern p against s[0..n). */
static int glob(const char *p, const char *s, size_t n)
{
    size_t i = 0;
    const char *star = NULL;
    size_t star_i = 0;
    while (i < n) {
        if (*p == '*') {
            star = ++p;
            star_i = i;
        } else if (*p && (*p == '?' || *p == lc((unsigned char)s[i]))) {
            p++;
            i++;
        } else if (star) {
            p = star;
            i = ++star_i;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static int any_glob(const cond *c, const char *s, size_t n)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->plen[i] & EXACT) {
            size_t k, pl = c->plen[i] & ~EXACT;
            if (pl != n)
                continue;
            for (k = 0; k < n && c->pat[i][k] == lc((unsigned char)s[k]); k++)
                ;
            if (k == n)
                return 1;
        } else if (glob(c->pat[i], s, n)) {
            return 1;
        }
    }
    return 0;
}

static lia_slice extra_tag(const lia_event *ev)
{
    for (uint32_t i = 0; i < ev->nextra; i++) {
        const lia_extra *x = &ev->extra[i];
        if (x->klen == 3 && memcmp(ev->text.ptr + x->koff, "tag", 3) == 0 && x->vlen >= 2 &&
            ev->text.ptr[x->voff] == '"')
            return (lia_slice){ev->text.ptr + x->voff + 1, x->vlen - 2};
    }
    return LIA_SLICE_NULL;
}

/* What the rules look at, read once per event. */
typedef struct view {
    lia_slice f[C__N]; /* text of each text condition (ptr NULL if absent) */
    lia_slice report_name;
    int has_port;
    int64_t port;
} view;

static void make_view(view *v, const lia_sector_ctx *ctx, const lia_event *ev)
{
    lia_field pf = lia_event_has(ev, LIA_F_DESTINATION_PORT) ? LIA_F_DESTINATION_PORT : LIA_F_SOURCE_PORT;
    memset(v, 0, sizeof *v);
    if (ctx && ctx->report_type)
        v->f[C_REPORT] = lia_slice_from(ctx->report_type);
    if (ctx && ctx->report_name)
        v->report_name = lia_slice_from(ctx->report_name);
    v->f[C_FEED] = lia_event_str(ev, LIA_F_FEED_NAME);
    v->f[C_APP] = lia_event_str(ev, LIA_F_PROTOCOL_APPLICATION);
    v->f[C_TRANSPORT] = lia_event_str(ev, LIA_F_PROTOCOL_TRANSPORT);
    v->f[C_IDENT] = lia_event_str(ev, LIA_F_CLASSIFICATION_IDENTIFIER);
    if (lia_event_has(ev, LIA_F_CLASSIFICATION_TYPE))
        v->f[C_CLASS] = lia_slice_from(lia__class_type_name((int)ev->v[LIA_F_CLASSIFICATION_TYPE].i));
    v->f[C_TAG] = extra_tag(ev);
    v->has_port = lia_event_has(ev, pf);
    v->port = v->has_port ? ev->v[pf].i : -1;
}

static int tag_match(const cond *c, lia_slice t)
{
    size_t start = 0;
    if (!t.ptr)
        return 0;
    for (size_t i = 0; i <= t.len; i++) {
        if (i == t.len || t.ptr[i] == ',' || t.ptr[i] == ';' || t.ptr[i] == '|' || t.ptr[i] == ' ') {
            if (i > start && any_glob(c, t.ptr + start, i - start))
                return 1;
            start = i + 1;
        }
    }
    return 0;
}

static int report_match(const rule *r, const view *v)
{
    const cond *c = r->c;
    return (v->f[C_REPORT].ptr && any_glob(&c[C_REPORT], v->f[C_REPORT].ptr, v->f[C_REPORT].len)) ||
           (v->report_name.ptr && any_glob(&c[C_REPORT], v->report_name.ptr, v->report_name.len));
}

static int rule_match(const rule *r, const view *v, const unsigned char *memo)
{
    const cond *c = r->c;
    /* cheapest first: the port, then the text conditions */
    if (r->has & (1u << C_PORT)) {
        int ok = 0;
        if (!v->has_port)
            return 0;
        for (size_t i = 0; i < c[C_PORT].n && !ok; i++)
            ok = v->port >= c[C_PORT].ports[i][0] && v->port <= c[C_PORT].ports[i][1];
        if (!ok)
            return 0;
    }
    for (int k = C_FEED; k <= C_IDENT; k++) {
        if (!(r->has & (1u << k)) || k == C_TAG)
            continue;
        if (!v->f[k].ptr || !any_glob(&c[k], v->f[k].ptr, v->f[k].len))
            return 0;
    }
    if ((r->has & (1u << C_TAG)) && !tag_match(&c[C_TAG], v->f[C_TAG]))
        return 0;
    if ((r->has & (1u << C_REPORT)) && !(memo ? *memo : report_match(r, v)))
        return 0;
    return 1;
}

int lia__sectors_prepare(const lia_sectors *s, lia_sector_ctx *ctx)
{
    view v;
    lia_event empty;
    free(ctx->memo);
    ctx->memo = NULL;
    if (!s || !s->n)
        return LIA_OK;
    if (!(ctx->memo = malloc(s->n)))
        return LIA_ENOMEM;
    lia_event_init(&empty);
    make_view(&v, ctx, &empty);
    for (size_t i = 0; i < s->n; i++)
        ctx->memo[i] = (unsigned char)((s->r[i].has & (1u << C_REPORT)) ? report_match(&s->r[i], &v) : 1);
    lia_event_free(&empty);
    return LIA_OK;
}

void lia__sectors_ctx_free(lia_sector_ctx *ctx)
{
    free(ctx->memo);
    ctx->memo = NULL;
}

int lia__sectors_match(const lia_sectors *s, const lia_sector_ctx *ctx, const lia_event *ev,
                       lia_sector_result *out)
{
    view v;
    uint32_t avail = 1u << C_REPORT; /* conditions the event can meet at all */
    memset(out, 0, sizeof *out);
    out->sector_rule = out->protocol_rule = -1;
    make_view(&v, ctx, ev);
    for (int k = C_FEED; k <= C_IDENT; k++)
        if (v.f[k].ptr)
            avail |= 1u << k;
    if (v.has_port)
        avail |= 1u << C_PORT;
    for (size_t i = 0; s && i < s->n; i++) {
        const pre *p = &s->pre[i];
        if ((p->has & ~avail) ||
            ((p->has & (1u << C_PORT)) && (v.port < (int64_t)p->plo || v.port > (int64_t)p->phi)))
            continue;
        const rule *r = &s->r[i];
        if ((out->sector || !r->sector) && (out->ics_protocol || !r->ics_protocol))
            continue; /* nothing this rule could add */
        if (!rule_match(r, &v, ctx && ctx->memo ? &ctx->memo[i] : NULL))
            continue;
        if (!out->sector && r->sector) {
            out->sector = r->sector;
            out->sector_rule = (int)i;
        }
        if (!out->ics_protocol && r->ics_protocol) {
            out->ics_protocol = r->ics_protocol;
            out->protocol_rule = (int)i;
        }
        if (out->sector && out->ics_protocol)
            break;
    }
    return out->sector || out->ics_protocol;
}

static int has_extra(const lia_event *ev, const char *key)
{
    size_t n = strlen(key);
    for (uint32_t i = 0; i < ev->nextra; i++)
        if (ev->extra[i].klen == n && memcmp(ev->text.ptr + ev->extra[i].koff, key, n) == 0)
            return 1;
    return 0;
}

int lia__sectors_apply(const lia_sectors *s, const lia_sector_ctx *ctx, lia_event *ev, lia_error *err)
{
    lia_sector_result r;
    int n = 0, rc;
    if (!lia__sectors_match(s, ctx, ev, &r))
        return 0;
    if (r.sector && !has_extra(ev, "sector")) {
        if ((rc = lia_event_extra_str(ev, "sector", 6, r.sector, strlen(r.sector), err)))
            return rc;
        n++;
    }
    if (r.ics_protocol && !has_extra(ev, "ics_protocol")) {
        if ((rc = lia_event_extra_str(ev, "ics_protocol", 12, r.ics_protocol, strlen(r.ics_protocol), err)))
            return rc;
        n++;
    }
    return n;
}

const char *lia__sectors_default_path(void)
{
    static char path[4096];
    const char *d = getenv("LIAISON_DATADIR");
#ifndef LIA_SHAREDIR
#define LIA_SHAREDIR "share"
#endif
    snprintf(path, sizeof path, "%s/sectors.json", d && *d ? d : LIA_SHAREDIR);
    return path;
}
