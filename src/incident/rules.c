/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The incident rules of the routing file (`incidents:`), parsed and checked.
 * Pure: no store. The syntax is in docs/incidents.md. */
#include <stdlib.h>
#include <string.h>

#include "incident/rules.h"
#include "liaison/field.h"

static int rerr(lia_error *err, const lia_ynode *n, const char *key, const char *fmt, const char *arg)
{
    lia_error_set(err, LIA_EINVAL, key, n && n->type == LIA_Y_SCALAR ? n->str : NULL,
                  n && n->type == LIA_Y_SCALAR ? n->len : 0, fmt, arg);
    if (err && n)
        err->line = n->line;
    return LIA_EINVAL;
}

static int nomem(lia_error *err)
{
    return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
}

/* The scalars of a scalar or a list of scalars. */
static size_t count_values(const lia_ynode *n)
{
    size_t k = 0;
    if (n->type == LIA_Y_SCALAR)
        return 1;
    if (n->type != LIA_Y_LIST)
        return 0;
    for (const lia_ynode *c = n->first; c; c = c->next)
        k++;
    return k;
}

static const lia_ynode *nth_value(const lia_ynode *n, size_t i)
{
    const lia_ynode *c;
    if (n->type == LIA_Y_SCALAR)
        return n;
    for (c = n->first; c && i; c = c->next)
        i--;
    return c;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int strv(const lia_ynode *f, char ***out, size_t *nout, lia_error *err)
{
    size_t k = count_values(f);
    char **v;
    if (k == 0)
        return rerr(err, f, f->key, "%s", "expected a value or a list of values");
    if (k > 4096)
        return rerr(err, f, f->key, "%s", "more than 4096 values");
    if (!(v = calloc(k, sizeof *v)))
        return nomem(err);
    for (size_t i = 0; i < k; i++) {
        const lia_ynode *c = nth_value(f, i);
        if (c->type != LIA_Y_SCALAR) {
            strv_free(v, i);
            return rerr(err, c, f->key, "%s", "expected a scalar");
        }
        if (!(v[i] = strdup(c->str))) {
            strv_free(v, i);
            return nomem(err);
        }
    }
    *out = v;
    *nout = k;
    return LIA_OK;
}

static const char *const known_keys = "name, group, window, severity, tlp, title, route_rule, feed, type";

static int parse_one(const lia_ynode *m, const char *const *rule_names, size_t nrule_names,
                     lia__incident_rule *r, lia_error *err)
{
    const lia_ynode *group = NULL, *window = NULL;
    int rc;
    if (m->type != LIA_Y_MAP)
        return rerr(err, m, "incidents", "%s", "each incident rule is a mapping (- name: ...)");
    r->severity = LIA_SEV_MEDIUM;
    for (const lia_ynode *f = m->first; f; f = f->next) {
        const char *key = f->key;
        if (strcmp(key, "name") == 0 || strcmp(key, "title") == 0) {
            size_t max = key[0] == 'n' ? 128 : 256;
            if (f->type != LIA_Y_SCALAR || f->len == 0 || f->len > max)
                return rerr(err, f, key, "%s",
                            key[0] == 'n' ? "a rule name is one non-empty scalar of at most 128 bytes"
                                          : "a title is one non-empty scalar of at most 256 bytes");
            if (key[0] == 'n') {
                for (size_t i = 0; i < f->len; i++) {
                    char c = f->str[i];
                    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '-' || c == '_' || c == '.'))
                        return rerr(err, f, key, "%s", "a rule name is letters, digits, '-', '_' and '.'");
                }
            }
            if (!(*(key[0] == 'n' ? &r->name : &r->title) = strdup(f->str)))
                return nomem(err);
        } else if (strcmp(key, "group") == 0) {
            group = f;
        } else if (strcmp(key, "window") == 0) {
            window = f;
        } else if (strcmp(key, "severity") == 0) {
            lia_error e2;
            if (f->type != LIA_Y_SCALAR || lia_severity_parse(f->str, &r->severity, &e2))
                return rerr(err, f, key, "%s", "one of low, medium, high, critical");
        } else if (strcmp(key, "tlp") == 0) {
            int t;
            const char *why;
            if (f->type != LIA_Y_SCALAR || lia_parse_tlp(f->str, f->len, &t, &why))
                return rerr(err, f, key, "%s", "one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED");
            memcpy(r->tlp, lia_tlp_name(t), strlen(lia_tlp_name(t)) + 1);
        } else if (strcmp(key, "route_rule") == 0) {
            if ((rc = strv(f, &r->route_rule, &r->nroute_rule, err)))
                return rc;
            for (size_t i = 0; i < r->nroute_rule; i++) {
                size_t k = 0;
                if (strcmp(r->route_rule[i], "default") == 0)
                    continue;
                while (k < nrule_names && strcmp(rule_names[k], r->route_rule[i]) != 0)
                    k++;
                if (k == nrule_names)
                    return rerr(err, nth_value(f, i), key, "%s",
                                "no routing rule has this name (or 'default' for the default policy)");
            }
        } else if (strcmp(key, "feed") == 0) {
            if ((rc = strv(f, &r->feed, &r->nfeed, err)))
                return rc;
        } else if (strcmp(key, "type") == 0) {
            size_t k = count_values(f);
            if (k == 0 || k > sizeof r->type / sizeof r->type[0])
                return rerr(err, f, key, "%s", "1 to 8 RSIT classification.type values");
            for (size_t i = 0; i < k; i++) {
                const lia_ynode *v = nth_value(f, i);
                int id = v->type == LIA_Y_SCALAR ? lia_class_type_lookup(v->str, v->len) : -1;
                if (id < 0)
                    return rerr(err, v, key, "%s", "not an RSIT classification.type");
                r->type[r->ntype++] = id;
            }
        } else {
            lia_error_set(err, LIA_EINVAL, key, NULL, 0, "unknown incident rule key (%s)", known_keys);
            if (err)
                err->line = f->line;
            return LIA_EINVAL;
        }
    }
    if (!r->name)
        return rerr(err, m, "incidents", "%s", "an incident rule needs a name");
    if (!group)
        return rerr(err, m, "group", "%s",
                    "an incident rule needs 'group:' (recipient and/or event fields, e.g. [recipient, "
                    "feed.name])");
    if (!window)
        return rerr(err, m, "window", "%s", "an incident rule needs 'window:' (e.g. 1d)");
    {
        size_t k = count_values(group);
        if (k == 0 || k > LIA_INCIDENT_MAX_KEYS)
            return rerr(err, group, "group", "%s", "'group:' lists 1 to 8 keys");
        for (size_t i = 0; i < k; i++) {
            const lia_ynode *v = nth_value(group, i);
            int f;
            if (v->type != LIA_Y_SCALAR)
                return rerr(err, v, "group", "%s", "expected a scalar");
            if (strcmp(v->str, "recipient") == 0) {
                f = LIA_INCIDENT_KEY_RECIPIENT;
                r->by_recipient = 1;
            } else if ((f = lia_field_lookup(v->str, v->len)) < 0 || f == LIA_F_RAW) {
                return rerr(err, v, "group", "%s", "not 'recipient' or an event field name (e.g. feed.name)");
            }
            for (size_t j = 0; j < r->nkey; j++)
                if (r->key[j] == f)
                    return rerr(err, v, "group", "%s", "named twice");
            r->key[r->nkey++] = f;
        }
    }
    {
        int64_t secs;
        const char *why;
        if (window->type != LIA_Y_SCALAR || lia_parse_duration(window->str, window->len, &secs, &why))
            return rerr(err, window, "window", "%s", "a duration such as 1h, 1d or 7d");
        if (secs < 60 || secs > 366 * 86400)
            return rerr(err, window, "window", "%s", "from 1m to 366d");
        r->window = secs;
    }
    return LIA_OK;
}

int lia__incident_rules_parse(const lia_ynode *n, const char *const *rule_names, size_t nrule_names,
                              lia__incident_rules *out, lia_error *err)
{
    size_t k = 0;
    int rc;
    memset(out, 0, sizeof *out);
    if (n->type != LIA_Y_LIST)
        return rerr(err, n, "incidents", "%s", "incidents is a list of mappings (- name: ...)");
    for (const lia_ynode *m = n->first; m; m = m->next)
        k++;
    if (k > LIA_INCIDENT_MAX_RULES) {
        rc = lia_error_set(err, LIA_ELIMIT, "incidents", NULL, 0, "more than %d incident rules",
                           LIA_INCIDENT_MAX_RULES);
        if (err)
            err->line = n->line;
        return rc;
    }
    if (!(out->r = calloc(k ? k : 1, sizeof *out->r)))
        return nomem(err);
    for (const lia_ynode *m = n->first; m; m = m->next) {
        lia__incident_rule *r = &out->r[out->n++];
        if ((rc = parse_one(m, rule_names, nrule_names, r, err)))
            goto bad;
        for (size_t j = 0; j + 1 < out->n; j++)
            if (strcmp(out->r[j].name, r->name) == 0) {
                rc = rerr(err, m, "name", "%s", "two incident rules have the same name");
                if (err)
                    lia_escape(r->name, strlen(r->name), err->value, sizeof err->value);
                goto bad;
            }
    }
    return LIA_OK;
bad:
    lia__incident_rules_free(out);
    return rc;
}

void lia__incident_rules_free(lia__incident_rules *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        lia__incident_rule *r = &rs->r[i];
        free(r->name);
        free(r->title);
        strv_free(r->route_rule, r->nroute_rule);
        strv_free(r->feed, r->nfeed);
    }
    free(rs->r);
    memset(rs, 0, sizeof *rs);
}
