/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The routing configuration: the rules file (YAML subset) parsed and
 * checked into a lia__route_config; settings read by name. Pure: no store. */
#include <stdlib.h>
#include <string.h>

#include "core/settings.h"
#include "liaison/limits.h"
#include "liaison/route.h"
#include "route/internal.h"
#include "route/yaml.h"

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void lia__route_config_free(lia__route_config *c)
{
    for (int k = 0; k < 3; k++)
        strv_free(c->redact[k], c->nredact[k]);
    for (size_t i = 0; i < c->nrules; i++) {
        lia__route_rule *r = &c->rules[i];
        free(r->name);
        free(r->asn);
        free(r->cidr);
        strv_free(r->sector, r->nsector);
        strv_free(r->feed, r->nfeed);
        for (size_t k = 0; k < r->nto; k++)
            free(r->to[k].id);
        free(r->to);
    }
    free(c->rules);
    for (size_t i = 0; i < c->nset; i++) {
        free(c->set[i].name);
        free(c->set[i].value);
    }
    free(c->set);
    lia__incident_rules_free(&c->incidents);
    memset(c, 0, sizeof *c);
}

static int cerr(lia_error *err, const lia_ynode *n, const char *field, const char *fmt, const char *arg)
{
    lia_error_set(err, LIA_EINVAL, field, n && n->str ? n->str : NULL, n && n->str ? n->len : 0, fmt, arg);
    if (err && n)
        err->line = n->line;
    return LIA_EINVAL;
}

/* Values of a node (scalar or list of scalars). */
static size_t nvalues(const lia_ynode *n)
{
    size_t k = 0;
    if (n->type == LIA_Y_SCALAR)
        return 1;
    for (const lia_ynode *c = n->first; c; c = c->next)
        k++;
    return k;
}

static const lia_ynode *value_at(const lia_ynode *n, size_t i)
{
    const lia_ynode *c;
    if (n->type == LIA_Y_SCALAR)
        return n;
    for (c = n->first; c && i; c = c->next)
        i--;
    return c ? c : n; /* i < nvalues(n): never n */
}

static int strv_from(const lia_ynode *n, char ***out, size_t *nout, lia_error *err)
{
    size_t k = nvalues(n);
    char **v;
    if (k > LIA_MAX_RULE_VALUES)
        return cerr(err, n, n->key, "more than %s values", "4096");
    v = calloc(k ? k : 1, sizeof *v);
    if (!v)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    for (size_t i = 0; i < k; i++) {
        const lia_ynode *c = value_at(n, i);
        if (c->type != LIA_Y_SCALAR || !(v[i] = strdup(c->str))) {
            strv_free(v, i);
            return c->type != LIA_Y_SCALAR ? cerr(err, c, n->key, "%s", "expected a scalar")
                                           : lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        }
    }
    *out = v;
    *nout = k;
    return LIA_OK;
}

static int parse_rule(const lia_ynode *m, lia__route_rule *r, const lia__route_config *c, lia_error *err)
{
    int rc;
    const lia_ynode *to = NULL;
    if (m->type != LIA_Y_MAP)
        return cerr(err, m, "rules", "%s", "each rule is a mapping (- name: ...)");
    for (const lia_ynode *f = m->first; f; f = f->next) {
        size_t k = nvalues(f);
        const char *key = f->key;
        if (strcmp(key, "name") == 0) {
            if (f->type != LIA_Y_SCALAR || f->len == 0 || f->len > 128)
                return cerr(err, f, "name", "%s", "a rule name is one non-empty scalar (at most 128 bytes)");
            if (!(r->name = strdup(f->str)))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            continue;
        }
        if (strcmp(key, "to") == 0) {
            to = f;
            continue;
        }
        if (k == 0)
            return cerr(err, f, key, "%s", "an empty match list matches nothing; remove the key instead");
        if (k > LIA_MAX_RULE_VALUES)
            return cerr(err, f, key, "%s", "too many values");
        if (strcmp(key, "country") == 0) {
            r->has_cc = 1;
            for (size_t i = 0; i < k; i++) {
                const lia_ynode *v = value_at(f, i);
                char cc[3];
                const char *why;
                if (strcmp(v->str, "home") == 0)
                    r->cc_home = 1;
                else if (strcmp(v->str, "foreign") == 0)
                    r->cc_foreign = 1;
                else if (lia_parse_cc(v->str, v->len, cc, &why))
                    return cerr(err, v, key, "%s (or 'home' / 'foreign')", why);
                else {
                    int ix = lia__cc_index(cc);
                    if (ix < 0)
                        return cerr(err, v, key, "%s", "not a country code");
                    r->cc[ix / 64] |= 1ull << (ix % 64);
                }
            }
            if ((r->cc_home || r->cc_foreign) && !c->home[0])
                return cerr(err, f, key, "%s", "'home' and 'foreign' need home_country");
        } else if (strcmp(key, "asn") == 0) {
            if (!(r->asn = calloc(k, sizeof *r->asn)))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            for (size_t i = 0; i < k; i++) {
                const lia_ynode *v = value_at(f, i);
                const char *why;
                if (lia_parse_asn(v->str, v->len, &r->asn[i], &why))
                    return cerr(err, v, key, "%s", why);
            }
            r->nasn = k;
        } else if (strcmp(key, "cidr") == 0) {
            if (!(r->cidr = calloc(k, sizeof *r->cidr)))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            for (size_t i = 0; i < k; i++) {
                const lia_ynode *v = value_at(f, i);
                const char *why;
                if (lia_parse_cidr(v->str, v->len, &r->cidr[i], &why))
                    return cerr(err, v, key, "%s", why);
            }
            r->ncidr = k;
        } else if (strcmp(key, "taxonomy") == 0 || strcmp(key, "type") == 0) {
            int tax = key[1] == 'a';
            for (size_t i = 0; i < k; i++) {
                const lia_ynode *v = value_at(f, i);
                int id =
                    tax ? lia_class_taxonomy_lookup(v->str, v->len) : lia_class_type_lookup(v->str, v->len);
                if (id < 0 || id >= (tax ? 64 : 256))
                    return cerr(err, v, key, "%s",
                                tax ? "not an RSIT classification.taxonomy"
                                    : "not an RSIT classification.type");
                if (tax)
                    r->tax |= 1ull << id;
                else
                    r->type[id / 64] |= 1ull << (id % 64);
            }
            if (tax)
                r->has_tax = 1;
            else
                r->has_type = 1;
        } else if (strcmp(key, "sector") == 0) {
            if ((rc = strv_from(f, &r->sector, &r->nsector, err)))
                return rc;
        } else if (strcmp(key, "feed") == 0) {
            if ((rc = strv_from(f, &r->feed, &r->nfeed, err)))
                return rc;
        } else if (strcmp(key, "tlp") == 0) {
            for (size_t i = 0; i < k; i++) {
                const lia_ynode *v = value_at(f, i);
                int t;
                const char *why;
                if (lia_parse_tlp(v->str, v->len, &t, &why))
                    return cerr(err, v, key, "%s", why);
                r->tlp |= 1u << t;
            }
        } else {
            lia_error_set(
                err, LIA_EINVAL, key, NULL, 0,
                "unknown rule key (name, country, asn, cidr, taxonomy, type, sector, feed, tlp, to)");
            if (err)
                err->line = f->line;
            return LIA_EINVAL;
        }
    }
    if (!r->name)
        return cerr(err, m, "rules", "%s", "a rule needs a name");
    if (!to)
        return cerr(err, m, "to", "%s",
                    "a rule needs 'to:' (owner, partner, default, owner:ID, partner:ID, drop)");
    {
        size_t k = nvalues(to);
        if (k == 0 || k > LIA_ROUTE_MAX_DECISIONS)
            return cerr(err, to, "to", "%s", "'to:' lists 1 to 32 recipients");
        if (!(r->to = calloc(k, sizeof *r->to)))
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        r->nto = k;
    }
    for (size_t i = 0; i < r->nto; i++) {
        const lia_ynode *v = value_at(to, i);
        lia__route_target *t = &r->to[i];
        t->party = -1;
        if (v->type != LIA_Y_SCALAR)
            return cerr(err, v, "to", "%s", "expected a scalar");
        if (strcmp(v->str, "owner") == 0)
            t->type = LIA__T_OWNER;
        else if (strcmp(v->str, "partner") == 0)
            t->type = LIA__T_PARTNER;
        else if (strcmp(v->str, "default") == 0)
            t->type = LIA__T_DEFAULT;
        else if (strcmp(v->str, "drop") == 0)
            t->type = LIA__T_DROP;
        else if (strncmp(v->str, "owner:", 6) == 0 || strncmp(v->str, "partner:", 8) == 0) {
            lia_party tmp;
            int own = v->str[0] == 'o';
            const char *id = v->str + (own ? 6 : 8);
            lia_party_init(&tmp, own ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER);
            if ((rc = lia_party_set_id(&tmp, id, strlen(id), err))) {
                if (err)
                    err->line = v->line;
                return rc;
            }
            t->type = own ? LIA__T_OWNER_ID : LIA__T_PARTNER_ID;
            if (!(t->id = strdup(id)))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        } else {
            return cerr(err, v, "to", "%s",
                        "a recipient is owner, partner, default, drop, owner:ID or partner:ID");
        }
        if (t->type == LIA__T_DROP && r->nto != 1)
            return cerr(err, v, "to", "%s", "'drop' cannot be combined with recipients");
    }
    return LIA_OK;
}

int lia__route_config_parse(const char *text, size_t len, lia__route_config *c, lia_error *err)
{
    lia_ynode *root = NULL;
    const lia_ynode *n;
    int rc = LIA_OK;
    memset(c, 0, sizeof *c);
    if (!text)
        return LIA_OK;
    if ((rc = lia__yaml_parse(text, len, &root, err)))
        return rc;
    for (n = root->first; n; n = n->next) {
        const lia__setting *st = lia__setting_find(LIA_SCOPE_ROUTE, n->key, strlen(n->key));
        const char *why;
        if (!st) {
            rc = cerr(err, NULL, n->key, "%s", "unknown setting (see docs/routing.md)");
            if (err)
                err->line = n->line;
            goto out;
        }
        if (st->type == LIA_SET_OWNED) /* rules, redact*: parsed below */
            continue;
        if (n->type != LIA_Y_SCALAR) {
            rc = cerr(err, n, n->key, "%s", "expected one value");
            goto out;
        }
        {
            lia__route_setting *ns = realloc(c->set, (c->nset + 1) * sizeof *ns);
            if (!ns) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                goto out;
            }
            c->set = ns;
            c->set[c->nset].name = strdup(n->key);
            c->set[c->nset].value = strdup(n->str);
            c->nset++;
            if (!c->set[c->nset - 1].name || !c->set[c->nset - 1].value) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                goto out;
            }
        }
        /* validated once, by the settings table; the users read it typed */
        if (lia__setting_check(st, n->str, n->len, &why)) {
            rc = cerr(err, n, n->key, "%s", why);
            goto out;
        }
        if (strcmp(n->key, "home_country") == 0) {
            lia_parse_cc(n->str, n->len, c->home, NULL);
            c->home[2] = '\0';
        } else if (strcmp(n->key, "mode") == 0) {
            c->mode_all = lia__setting_int(LIA_SCOPE_ROUTE, "mode", n->str) == 1;
        } else if (strcmp(n->key, "public_url") == 0) { /* the answer links start with it */
            int https = n->len > 8 && strncmp(n->str, "https://", 8) == 0;
            int http = n->len > 7 && strncmp(n->str, "http://", 7) == 0;
            for (size_t k = 0; k < n->len; k++)
                if ((unsigned char)n->str[k] <= ' ' || n->str[k] == '?' || n->str[k] == '#' ||
                    n->str[k] == '"' || n->str[k] == '<' || n->str[k] == '>' || n->str[k] == 0x7f)
                    https = http = 0;
            if (!https && !http) {
                rc = cerr(err, n, n->key, "%s",
                          "an http:// or https:// address without spaces, query or fragment");
                goto out;
            }
        } else if (strcmp(n->key, "mail_from") == 0) { /* and an e-mail address, by route's syntax */
            lia_buf b;
            lia_buf_init(&b, 1024);
            rc = lia__email_norm(n->str, n->len, &b, &why);
            lia_buf_free(&b);
            if (rc) {
                rc = cerr(err, n, n->key, "%s", why);
                goto out;
            }
        }
    }
    static const char *const rk[3] = {"redact", "redact_owner", "redact_partner"};
    for (int k = 0; k < 3; k++) {
        n = lia__yaml_get(root, rk[k]);
        if (!n)
            continue;
        if ((rc = strv_from(n, &c->redact[k], &c->nredact[k], err)))
            goto out;
        for (size_t i = 0; i < c->nredact[k]; i++) {
            const char *s = c->redact[k][i];
            size_t l = strlen(s);
            int star = l && s[l - 1] == '*';
            if (!star && strncmp(s, "extra.", 6) != 0 && lia_field_lookup(s, l) < 0) {
                rc = cerr(err, value_at(n, i), rk[k], "%s",
                          "not a field name, extra.KEY, or a prefix ending in '*'");
                goto out;
            }
        }
        if (k == 0)
            c->redact_set = 1;
    }
    n = lia__yaml_get(root, "rules");
    if (n) {
        size_t k = 0;
        if (n->type != LIA_Y_LIST) {
            rc = cerr(err, n, "rules", "%s", "rules is a list of mappings");
            goto out;
        }
        for (const lia_ynode *m = n->first; m; m = m->next)
            k++;
        if (k > LIA_MAX_RULES) {
            rc = lia_error_set(err, LIA_ELIMIT, "rules", NULL, 0, "more than %d rules", LIA_MAX_RULES);
            goto out;
        }
        if (!(c->rules = calloc(k ? k : 1, sizeof *c->rules))) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto out;
        }
        for (const lia_ynode *m = n->first; m; m = m->next) {
            lia__route_rule *r = &c->rules[c->nrules++];
            if ((rc = parse_rule(m, r, c, err)))
                goto out;
            for (size_t j = 0; j + 1 < c->nrules; j++)
                if (strcmp(c->rules[j].name, r->name) == 0) {
                    rc = cerr(err, m, "name", "%s", "two rules have the same name");
                    if (err)
                        lia_escape(r->name, strlen(r->name), err->value, sizeof err->value);
                    goto out;
                }
        }
    }
    n = lia__yaml_get(root, "incidents");
    if (n) {
        const char **names = calloc(c->nrules ? c->nrules : 1, sizeof *names);
        if (!names) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < c->nrules; i++)
            names[i] = c->rules[i].name;
        rc = lia__incident_rules_parse(n, names, c->nrules, &c->incidents, err);
        free(names);
        if (rc)
            goto out;
    }
out:
    lia__yaml_free(root);
    if (rc)
        lia__route_config_free(c);
    return rc;
}

int lia_route_config_check(const char *text, size_t clen, lia_error *err)
{
    lia__route_config c;
    int rc = lia__route_config_parse(text, clen, &c, err);
    if (rc == LIA_OK)
        lia__route_config_free(&c);
    return rc;
}

const char *lia_route_setting(const lia_route *rt, const char *name)
{
    for (size_t i = 0; i < rt->cf.nset; i++)
        if (strcmp(rt->cf.set[i].name, name) == 0)
            return rt->cf.set[i].value;
    return NULL;
}
