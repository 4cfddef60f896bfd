/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Routing: the configuration (rules file), the decision for one event, the
 * one TLP policy, per-recipient redaction, the route_decision table and the
 * pipeline stage. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/ingest.h"
#include "liaison/limits.h"
#include "liaison/route.h"
#include "route/internal.h"
#include "route/yaml.h"

/* ---- the TLP policy ---- */

int lia_tlp_check(const lia_recipient *r, int tlp, int same_org, const char **reason)
{
    const char *why;
    int ok = 0, marked = tlp >= 0;
    if (!marked)
        tlp = LIA_TLP_AMBER;
    if (tlp > LIA_TLP_RED)
        why = "unknown TLP marking: never delivered";
    else if (tlp == LIA_TLP_RED)
        why = "TLP:RED is never delivered";
    else if (tlp == LIA_TLP_AMBER_STRICT && r->kind != LIA_PARTY_OWNER)
        why = "TLP:AMBER+STRICT stays inside the owning organisation: never to a partner CERT";
    else if (tlp == LIA_TLP_AMBER_STRICT && !same_org)
        why = "TLP:AMBER+STRICT goes only to the organisation that owns the network";
    else if (tlp > r->tlp_max)
        why = "the event's TLP is above the recipient's ceiling (tlp_max)";
    else if (r->kind == LIA_PARTY_PARTNER && !r->agreement && tlp != LIA_TLP_CLEAR)
        why = "no sharing agreement with this partner: only TLP:CLEAR may go";
    else {
        ok = 1;
        why = marked ? "TLP within the recipient's ceiling"
                     : "no TLP marking (treated as TLP:AMBER), within the ceiling";
    }
    if (reason)
        *reason = why;
    return ok;
}

int lia_tlp_allows(const lia_recipient *r, const lia_event *ev, const char *owner_id, const char **reason)
{
    int tlp = lia_event_has(ev, LIA_F_TLP) ? (int)ev->v[LIA_F_TLP].i : -1;
    int same = owner_id && (owner_id == r->id || strcmp(owner_id, r->id) == 0);
    return lia_tlp_check(r, tlp, same, reason);
}

/* ---- configuration ---- */

enum { T_OWNER, T_PARTNER, T_DEFAULT, T_OWNER_ID, T_PARTNER_ID, T_DROP };

typedef struct target {
    int type;
    int32_t party; /* T_*_ID: resolved index; -1 before */
    char *id;
} target;

typedef struct rule {
    char *name;
    int has_cc, cc_home, cc_foreign;
    uint64_t cc[(26 * 26 + 63) / 64];
    uint32_t *asn;
    size_t nasn;
    lia_ip *cidr;
    size_t ncidr;
    uint64_t tax, type[4]; /* bitmaps over RSIT ids */
    int has_tax, has_type;
    char **sector;
    size_t nsector;
    char **feed;
    size_t nfeed;
    unsigned tlp; /* bitmap over enum lia_tlp, 0 = any */
    target *to;
    size_t nto;
} rule;

typedef struct setting {
    char *name, *value;
} setting;

typedef struct config {
    char home[3];
    int mode_all;
    char **redact[3]; /* all, owner, partner */
    size_t nredact[3];
    int redact_set;
    rule *rules;
    size_t nrules;
    setting *set;
    size_t nset;
} config;

struct lia_route {
    lia_party *p;
    lia_recipient *rcpt; /* per party, precomputed */
    size_t np;
    lia__owner_index oi;
    lia__partner_index pi;
    config cf;
};

static const char *const known_settings[] = {
    "home_country",      "mode",         "redact",    "redact_owner",
    "redact_partner",    "rules",        "note",      "digest_interval",
    "smtp_url",          "mail_from",    "sign_key",  "gnupg_home",
    "smtp_tries",        "smtp_backoff", "templates", "smtp_user",
    "smtp_password_env", "producer",     NULL,
};

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void config_free(config *c)
{
    for (int k = 0; k < 3; k++)
        strv_free(c->redact[k], c->nredact[k]);
    for (size_t i = 0; i < c->nrules; i++) {
        rule *r = &c->rules[i];
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

static int parse_rule(const lia_ynode *m, rule *r, const config *c, lia_error *err)
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
        target *t = &r->to[i];
        t->party = -1;
        if (v->type != LIA_Y_SCALAR)
            return cerr(err, v, "to", "%s", "expected a scalar");
        if (strcmp(v->str, "owner") == 0)
            t->type = T_OWNER;
        else if (strcmp(v->str, "partner") == 0)
            t->type = T_PARTNER;
        else if (strcmp(v->str, "default") == 0)
            t->type = T_DEFAULT;
        else if (strcmp(v->str, "drop") == 0)
            t->type = T_DROP;
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
            t->type = own ? T_OWNER_ID : T_PARTNER_ID;
            if (!(t->id = strdup(id)))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        } else {
            return cerr(err, v, "to", "%s",
                        "a recipient is owner, partner, default, drop, owner:ID or partner:ID");
        }
        if (t->type == T_DROP && r->nto != 1)
            return cerr(err, v, "to", "%s", "'drop' cannot be combined with recipients");
    }
    return LIA_OK;
}

static int config_parse(const char *text, size_t len, config *c, lia_error *err)
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
        int ok = 0;
        for (size_t i = 0; known_settings[i]; i++)
            ok |= strcmp(known_settings[i], n->key) == 0;
        if (!ok) {
            rc = cerr(err, NULL, n->key, "%s", "unknown setting (see docs/routing.md)");
            if (err)
                err->line = n->line;
            goto out;
        }
        if (strcmp(n->key, "rules") == 0 || strncmp(n->key, "redact", 6) == 0)
            continue;
        if (n->type != LIA_Y_SCALAR) {
            rc = cerr(err, n, n->key, "%s", "expected one value");
            goto out;
        }
        {
            setting *ns = realloc(c->set, (c->nset + 1) * sizeof *ns);
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
        if (strcmp(n->key, "home_country") == 0) {
            const char *why;
            if (lia_parse_cc(n->str, n->len, c->home, &why)) {
                rc = cerr(err, n, n->key, "%s", why);
                goto out;
            }
            c->home[2] = '\0';
        } else if (strcmp(n->key, "mode") == 0) {
            if (strcmp(n->str, "first") == 0)
                c->mode_all = 0;
            else if (strcmp(n->str, "all") == 0)
                c->mode_all = 1;
            else {
                rc = cerr(err, n, n->key, "%s", "mode is 'first' (first matching rule) or 'all'");
                goto out;
            }
        } else if (strcmp(n->key, "digest_interval") == 0 || strcmp(n->key, "smtp_backoff") == 0) {
            int64_t s;
            const char *why;
            if (lia_parse_duration(n->str, n->len, &s, &why)) {
                rc = cerr(err, n, n->key, "%s", why);
                goto out;
            }
        } else if (strcmp(n->key, "smtp_tries") == 0) {
            if (n->len != 1 || n->str[0] < '1' || n->str[0] > '9') {
                rc = cerr(err, n, n->key, "%s", "1 to 9 attempts");
                goto out;
            }
        } else if (strcmp(n->key, "mail_from") == 0) {
            lia_buf b;
            const char *why;
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
            rule *r = &c->rules[c->nrules++];
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
out:
    lia__yaml_free(root);
    if (rc)
        config_free(c);
    return rc;
}

int lia_route_config_check(const char *text, size_t clen, lia_error *err)
{
    struct config c;
    int rc = config_parse(text, clen, &c, err);
    if (rc == LIA_OK)
        config_free(&c);
    return rc;
}

const char *lia_route_setting(const lia_route *rt, const char *name)
{
    for (size_t i = 0; i < rt->cf.nset; i++)
        if (strcmp(rt->cf.set[i].name, name) == 0)
            return rt->cf.set[i].value;
    return NULL;
}

/* ---- build ---- */

static int party_copy(lia_party *d, const lia_party *s)
{
    lia_party_init(d, s->kind);
    memcpy(d->id, s->id, sizeof d->id);
    for (int f = 0; f < LIA_PF__COUNT; f++)
        for (size_t i = 0; i < s->f[f].n; i++)
            if (lia_party_add(d, f, s->f[f].v[i], strlen(s->f[f].v[i]), 0, NULL) != LIA_OK) {
                /* values are already normalised; a failure is memory */
                lia_party_free(d);
                return LIA_ENOMEM;
            }
    return LIA_OK;
}

int lia_route_party_find(const lia_route *rt, int kind, const char *id)
{
    for (size_t i = 0; i < rt->np; i++)
        if (rt->p[i].kind == kind && strcmp(rt->p[i].id, id) == 0)
            return (int)i;
    return -1;
}

static int route_build(lia_route *rt, lia_error *err)
{
    int rc;
    if (!(rt->rcpt = calloc(rt->np ? rt->np : 1, sizeof *rt->rcpt)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    for (size_t i = 0; i < rt->np; i++) {
        const lia_party *p = &rt->p[i];
        const char *t = lia_party_get(p, LIA_PF_TLP_MAX), *a = lia_party_get(p, LIA_PF_AGREEMENT);
        int tlp;
        lia_recipient *r = &rt->rcpt[i];
        r->kind = p->kind;
        r->id = p->id;
        if (!t || lia_parse_tlp(t, strlen(t), &tlp, NULL))
            tlp = p->kind == LIA_PARTY_OWNER ? LIA_TLP_AMBER_STRICT : LIA_TLP_AMBER;
        r->tlp_max = tlp;
        r->agreement = p->kind == LIA_PARTY_OWNER ? 1 : (a && strcmp(a, "true") == 0);
    }
    if ((rc = lia__owner_index_build(&rt->oi, rt->p, rt->np, err)))
        return rc;
    if ((rc = lia__partner_index_build(&rt->pi, rt->p, rt->np, err)))
        return rc;
    for (size_t i = 0; i < rt->cf.nrules; i++) {
        rule *r = &rt->cf.rules[i];
        for (size_t k = 0; k < r->nto; k++) {
            target *t = &r->to[k];
            if (t->type != T_OWNER_ID && t->type != T_PARTNER_ID)
                continue;
            t->party =
                lia_route_party_find(rt, t->type == T_OWNER_ID ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER, t->id);
            if (t->party < 0)
                return lia_error_set(err, LIA_ENOTFOUND, "to", t->id, strlen(t->id), "rule '%s': no such %s",
                                     r->name, t->type == T_OWNER_ID ? "owner" : "partner");
        }
    }
    return LIA_OK;
}

int lia_route_create(const lia_party *parties, size_t n, const char *text, size_t clen, lia_route **out,
                     lia_error *err)
{
    lia_route *rt;
    int rc;
    if (n > LIA_MAX_PARTIES)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "more than %d owners and partners",
                             LIA_MAX_PARTIES);
    if (!(rt = calloc(1, sizeof *rt)) || !(rt->p = calloc(n ? n : 1, sizeof *rt->p))) {
        free(rt);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    for (; rt->np < n; rt->np++)
        if (party_copy(&rt->p[rt->np], &parties[rt->np])) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto fail;
        }
    if ((rc = config_parse(text, clen, &rt->cf, err)))
        goto fail;
    if ((rc = route_build(rt, err)))
        goto fail;
    *out = rt;
    return LIA_OK;
fail:
    lia_route_destroy(rt);
    return rc;
}

void lia_route_destroy(lia_route *rt)
{
    if (!rt)
        return;
    for (size_t i = 0; i < rt->np; i++)
        lia_party_free(&rt->p[i]);
    free(rt->p);
    free(rt->rcpt);
    lia__owner_index_free(&rt->oi);
    lia__partner_index_free(&rt->pi);
    config_free(&rt->cf);
    free(rt);
}

typedef struct loadctx {
    lia_party *p;
    size_t n, cap;
} loadctx;

static int load_one(void *ud, const lia_party *p)
{
    loadctx *c = ud;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        lia_party *np;
        if (nc > LIA_MAX_PARTIES)
            return LIA_ELIMIT;
        np = realloc(c->p, nc * sizeof *np);
        if (!np)
            return LIA_ENOMEM;
        c->p = np;
        c->cap = nc;
    }
    return party_copy(&c->p[c->n++], p) ? (c->n--, LIA_ENOMEM) : LIA_OK;
}

int lia_route_load(lia_store *s, lia_route **out, lia_error *err)
{
    loadctx c = {NULL, 0, 0};
    lia_buf cfg;
    int rc;
    lia_buf_init(&cfg, LIA_MAX_CONFIG_FILE + 1);
    rc = lia_party_list(s, 0, load_one, &c, err);
    if (rc == LIA_ELIMIT || rc == LIA_ENOMEM)
        lia_error_set(err, rc, NULL, NULL, 0,
                      rc == LIA_ELIMIT ? "too many owners and partners" : "out of memory");
    if (rc == LIA_OK) {
        rc = lia_route_config_get(s, &cfg, err);
        if (rc == LIA_ENOTFOUND) {
            lia_error_clear(err);
            rc = lia_route_create(c.p, c.n, NULL, 0, out, err);
        } else if (rc == LIA_OK) {
            rc = lia_route_create(c.p, c.n, lia_buf_cstr(&cfg), cfg.len, out, err);
            if (rc && err)
                lia_error_where(err, "routing configuration", err->line);
        }
    }
    for (size_t i = 0; i < c.n; i++)
        lia_party_free(&c.p[i]);
    free(c.p);
    lia_buf_free(&cfg);
    return rc;
}

/* ---- accessors ---- */

size_t lia_route_nparties(const lia_route *rt)
{
    return rt->np;
}
const lia_party *lia_route_party(const lia_route *rt, int idx)
{
    return idx >= 0 && (size_t)idx < rt->np ? &rt->p[idx] : NULL;
}

void lia_route_recipient(const lia_route *rt, int idx, lia_recipient *out)
{
    *out = rt->rcpt[idx];
}

const char *lia_verdict_name(int v)
{
    switch (v) {
    case LIA_DELIVER: return "deliver";
    case LIA_DENY: return "deny";
    case LIA_UNROUTED: return "unrouted";
    case LIA_DROPPED: return "dropped";
    default: return "?";
    }
}

const char *lia_route_rule_name(const lia_route *rt, int ri)
{
    return ri >= 0 && (size_t)ri < rt->cf.nrules ? rt->cf.rules[ri].name : "default";
}

size_t lia_route_recipient_name(const lia_route *rt, const lia_decision *d, char *out, size_t n)
{
    int k;
    if (d->party < 0)
        k = snprintf(out, n, "%s", d->verdict == LIA_DROPPED ? "dropped" : "unrouted");
    else
        k = snprintf(out, n, "%s:%s", lia_party_kind_name(rt->p[d->party].kind), rt->p[d->party].id);
    return k < 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
}

/* ---- owner lookup ---- */

int lia_route_owner_ip(const lia_route *rt, const lia_ip *ip)
{
    return lia__owner_index_ip(&rt->oi, ip);
}
int lia_route_owner_asn(const lia_route *rt, uint32_t asn)
{
    return lia__owner_index_asn(&rt->oi, asn);
}
int lia_route_owner_domain(const lia_route *rt, const char *fqdn, size_t n)
{
    return lia__owner_index_domain(&rt->oi, fqdn, n);
}

/* Host of a normalised URL ("scheme://host[:port]/..."), NULL if an IP. */
static lia_slice url_host(lia_slice u)
{
    const char *p = u.ptr, *e = u.ptr + u.len, *h;
    const char *s = u.len > 3 ? memchr(p, ':', u.len) : NULL;
    if (!s || e - s < 3 || s[1] != '/' || s[2] != '/')
        return LIA_SLICE_NULL;
    h = s + 3;
    for (const char *q = h; q < e; q++)
        if (*q == '@')
            h = q + 1;
        else if (*q == '/' || *q == '?' || *q == '#')
            break;
    if (h < e && *h == '[')
        return LIA_SLICE_NULL;
    for (const char *q = h; q < e; q++)
        if (*q == ':' || *q == '/' || *q == '?' || *q == '#') {
            e = q;
            break;
        }
    return (lia_slice){h, (size_t)(e - h)};
}

int lia_route_owner(const lia_route *rt, const lia_event *ev, const char **via)
{
    int o;
    const char *v = NULL;
    if (lia_event_has(ev, LIA_F_SOURCE_IP) &&
        (o = lia__owner_index_ip(&rt->oi, &ev->v[LIA_F_SOURCE_IP].ip)) >= 0)
        v = "owner of the longest prefix containing source.ip";
    else if (lia_event_has(ev, LIA_F_SOURCE_ASN) &&
             (o = lia__owner_index_asn(&rt->oi, (uint32_t)ev->v[LIA_F_SOURCE_ASN].i)) >= 0)
        v = "owner of source.asn";
    else {
        lia_slice d = lia_event_str(ev, LIA_F_SOURCE_FQDN);
        o = -1;
        if (d.len && (o = lia__owner_index_domain(&rt->oi, d.ptr, d.len)) >= 0)
            v = "owner of the domain of source.fqdn";
        if (o < 0 && lia_event_has(ev, LIA_F_SOURCE_URL)) {
            lia_slice h = url_host(lia_event_str(ev, LIA_F_SOURCE_URL));
            if (h.len && (o = lia__owner_index_domain(&rt->oi, h.ptr, h.len)) >= 0)
                v = "owner of the domain of source.url";
        }
    }
    if (via)
        *via = v;
    return o;
}

/* ---- matching ---- */

static int sector_match(const lia_event *ev, char *const *sec, size_t n)
{
    for (uint32_t i = 0; i < ev->nextra; i++) {
        const lia_extra *x = &ev->extra[i];
        const char *v;
        if (x->klen != 6 || memcmp(ev->text.ptr + x->koff, "sector", 6) != 0)
            continue;
        v = ev->text.ptr + x->voff;
        for (size_t k = 0; k < n; k++) {
            size_t l = strlen(sec[k]);
            /* a JSON string "ics" or an array containing "ics" */
            for (uint32_t j = 0; j + l + 2 <= x->vlen; j++)
                if (v[j] == '"' && v[j + l + 1] == '"' && memcmp(v + j + 1, sec[k], l) == 0 &&
                    (j == 0 || v[j - 1] == '[' || v[j - 1] == ','))
                    return 1;
        }
        return 0;
    }
    return 0;
}

static int rule_match(const config *c, const rule *r, const lia_event *ev)
{
    if (r->has_cc) {
        lia_slice cc = lia_event_str(ev, LIA_F_SOURCE_GEOLOCATION_CC);
        int ix, ok = 0;
        if (cc.len != 2 || (ix = lia__cc_index(cc.ptr)) < 0)
            return 0;
        if (r->cc[ix / 64] >> (ix % 64) & 1)
            ok = 1;
        else if (r->cc_home && memcmp(cc.ptr, c->home, 2) == 0)
            ok = 1;
        else if (r->cc_foreign && memcmp(cc.ptr, c->home, 2) != 0)
            ok = 1;
        if (!ok)
            return 0;
    }
    if (r->nasn) {
        size_t i;
        uint32_t a;
        if (!lia_event_has(ev, LIA_F_SOURCE_ASN))
            return 0;
        a = (uint32_t)ev->v[LIA_F_SOURCE_ASN].i;
        for (i = 0; i < r->nasn && r->asn[i] != a; i++)
            ;
        if (i == r->nasn)
            return 0;
    }
    if (r->ncidr) {
        size_t i;
        if (!lia_event_has(ev, LIA_F_SOURCE_IP))
            return 0;
        for (i = 0; i < r->ncidr && !lia_ip_in(&r->cidr[i], &ev->v[LIA_F_SOURCE_IP].ip); i++)
            ;
        if (i == r->ncidr)
            return 0;
    }
    if (r->has_tax) {
        int64_t t;
        if (!lia_event_has(ev, LIA_F_CLASSIFICATION_TAXONOMY) ||
            (t = ev->v[LIA_F_CLASSIFICATION_TAXONOMY].i) < 0 || t >= 64 || !(r->tax >> t & 1))
            return 0;
    }
    if (r->has_type) {
        int64_t t;
        if (!lia_event_has(ev, LIA_F_CLASSIFICATION_TYPE) || (t = ev->v[LIA_F_CLASSIFICATION_TYPE].i) < 0 ||
            t >= 256 || !(r->type[t / 64] >> (t % 64) & 1))
            return 0;
    }
    if (r->tlp) {
        int t = lia_event_has(ev, LIA_F_TLP) ? (int)ev->v[LIA_F_TLP].i : LIA_TLP_AMBER;
        if (!(r->tlp >> t & 1))
            return 0;
    }
    if (r->nfeed) {
        lia_slice f = lia_event_str(ev, LIA_F_FEED_NAME);
        size_t i;
        for (i = 0; i < r->nfeed && !(f.len && lia_slice_eq(f, r->feed[i])); i++)
            ;
        if (i == r->nfeed)
            return 0;
    }
    if (r->nsector && !sector_match(ev, r->sector, r->nsector))
        return 0;
    return 1;
}

/* ---- decision ---- */

typedef struct dctx {
    const lia_route *rt;
    const lia_event *ev;
    lia_decision *out;
    size_t n;
    int owner;
    const char *owner_via;
    int dropped_rule;
} dctx;

static void add(dctx *d, int party, int ri, const char *why)
{
    const lia_recipient *r;
    lia_decision *x;
    for (size_t i = 0; i < d->n; i++)
        if (d->out[i].party == party)
            return;
    if (d->n >= LIA_ROUTE_MAX_DECISIONS)
        return;
    x = &d->out[d->n++];
    r = &d->rt->rcpt[party];
    x->party = party;
    x->rule = ri;
    x->why = why;
    x->verdict = lia_tlp_allows(r, d->ev, d->owner >= 0 ? d->rt->p[d->owner].id : NULL, &x->reason)
                     ? LIA_DELIVER
                     : LIA_DENY;
}

static int add_partners(dctx *d, int ri, const char *why)
{
    lia_slice cc = lia_event_str(d->ev, LIA_F_SOURCE_GEOLOCATION_CC);
    int ix, k = 0;
    if (cc.len != 2 || (ix = lia__cc_index(cc.ptr)) < 0)
        return 0;
    if (d->rt->cf.home[0] && memcmp(cc.ptr, d->rt->cf.home, 2) == 0)
        return 0;
    for (int32_t j = d->rt->pi.first[ix]; j >= 0; j = d->rt->pi.next[j], k++)
        add(d, d->rt->pi.next_party[j], ri, why);
    return k;
}

static void default_policy(dctx *d, int ri)
{
    if (d->owner >= 0) {
        add(d, d->owner, ri, d->owner_via);
        return;
    }
    add_partners(d, ri, "partner CERT covering source.geolocation.cc");
}

static const char *unrouted_reason(const dctx *d)
{
    lia_slice cc = lia_event_str(d->ev, LIA_F_SOURCE_GEOLOCATION_CC);
    if (!cc.len)
        return "no constituent owns the network and the event has no source.geolocation.cc";
    if (d->rt->cf.home[0] && memcmp(cc.ptr, d->rt->cf.home, 2) == 0)
        return "home country, but no constituent owns the network (source.ip, source.asn, domain)";
    return "no constituent owns the network and no partner CERT covers the country";
}

size_t lia_route_event(const lia_route *rt, const lia_event *ev, lia_decision *out)
{
    dctx d = {rt, ev, out, 0, -1, NULL, -1};
    int matched = 0;
    d.owner = lia_route_owner(rt, ev, &d.owner_via);
    for (size_t i = 0; i < rt->cf.nrules; i++) {
        const rule *r = &rt->cf.rules[i];
        if (!rule_match(&rt->cf, r, ev))
            continue;
        matched = 1;
        for (size_t k = 0; k < r->nto; k++) {
            const target *t = &r->to[k];
            switch (t->type) {
            case T_OWNER:
                if (d.owner >= 0)
                    add(&d, d.owner, (int)i, d.owner_via);
                break;
            case T_PARTNER: add_partners(&d, (int)i, "partner CERT covering source.geolocation.cc"); break;
            case T_DEFAULT: default_policy(&d, (int)i); break;
            case T_OWNER_ID: add(&d, t->party, (int)i, "named by the rule"); break;
            case T_PARTNER_ID: add(&d, t->party, (int)i, "named by the rule"); break;
            case T_DROP:
                if (d.dropped_rule < 0)
                    d.dropped_rule = (int)i;
                break;
            default: break;
            }
        }
        if (!rt->cf.mode_all)
            break;
    }
    if (!matched)
        default_policy(&d, -1);
    if (d.n == 0) {
        lia_decision *x = &out[d.n++];
        x->party = -1;
        x->rule = d.dropped_rule >= 0 ? d.dropped_rule : -1;
        x->verdict = d.dropped_rule >= 0 ? LIA_DROPPED : LIA_UNROUTED;
        x->why = d.dropped_rule >= 0 ? "the rule sends it to nobody" : "nobody found to act";
        x->reason = d.dropped_rule >= 0 ? "dropped by rule" : unrouted_reason(&d);
    }
    return d.n;
}

/* ---- redaction ---- */

static int redacted(const char *key, char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        if (l && v[i][l - 1] == '*' ? strncmp(key, v[i], l - 1) == 0 : strcmp(key, v[i]) == 0)
            return 1;
    }
    return 0;
}

int lia_route_redact(const lia_route *rt, int idx, const lia_event *ev, lia_event *out, lia_error *err)
{
    static char *const dflt[] = {(char *)"raw"};
    lia_buf js;
    json_t *o = NULL;
    json_error_t je;
    char *txt = NULL;
    const char *key;
    void *tmp;
    json_t *v;
    int rc, kind = rt->p[idx].kind;
    char *const *all = rt->cf.redact_set ? rt->cf.redact[0] : dflt;
    size_t nall = rt->cf.redact_set ? rt->cf.nredact[0] : 1;
    int k2 = kind == LIA_PARTY_OWNER ? 1 : 2;
    lia_buf_init(&js, LIA_MAX_EVENT_TEXT * 2);
    if ((rc = lia_event_to_json(ev, &js))) {
        rc = lia_error_set(err, rc, NULL, NULL, 0, "event too large");
        goto out;
    }
    if (!(o = json_loads(lia_buf_cstr(&js), 0, &je))) {
        rc = lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "event JSON: %s", je.text);
        goto out;
    }
    json_object_foreach_safe(o, tmp, key, v)
    {
        if (redacted(key, (char **)all, nall) || redacted(key, rt->cf.redact[k2], rt->cf.nredact[k2]))
            json_object_del(o, key);
    }
    if (json_object_size(o) == 0) {
        /* nothing left: keep an explicit, harmless marker */
        json_object_set_new(o, "comment", json_string("all fields redacted for this recipient"));
    }
    if (!(txt = json_dumps(o, JSON_COMPACT))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    rc = lia_event_from_json(out, txt, strlen(txt), err);
    if (rc == LIA_OK) {
        out->id = ev->id;
        out->report_id = ev->report_id;
        out->line = ev->line;
    }
out:
    free(txt);
    json_decref(o);
    lia_buf_free(&js);
    return rc;
}

/* ---- tables ---- */

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS party("
    "  kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, updated INTEGER NOT NULL,"
    "  PRIMARY KEY(kind, id));"
    "CREATE TABLE IF NOT EXISTS route_config("
    "  name TEXT PRIMARY KEY, text TEXT NOT NULL, loaded INTEGER NOT NULL);"
    /* one B-tree per decision (WITHOUT ROWID); reasons and "how found" are
     * a handful of sentences, stored once in route_reason; verdict is enum
     * lia_verdict; rule NULL = the default policy. The partial index holds
     * only what notify still has to send. */
    "CREATE TABLE IF NOT EXISTS route_reason(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS route_decision("
    "  event_id INTEGER NOT NULL, recipient TEXT NOT NULL, verdict INTEGER NOT NULL,"
    "  rule TEXT, why INTEGER NOT NULL, reason INTEGER NOT NULL, decided INTEGER NOT NULL,"
    "  notified INTEGER, notification_id INTEGER,"
    "  PRIMARY KEY(event_id, recipient)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS route_decision_pending ON route_decision(recipient, event_id)"
    "  WHERE verdict = 1 AND notification_id IS NULL;"
    "CREATE TABLE IF NOT EXISTS route_schema(module TEXT PRIMARY KEY, version INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO route_schema VALUES('route', 1);";

int lia_route_schema(lia_store *s, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "routing", err);
    char *msg = NULL;
    if (!db)
        return LIA_EUNSUPPORTED;
    if (sqlite3_exec(db, schema_sql, NULL, NULL, &msg)) {
        int rc =
            lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "creating routing tables: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    return LIA_OK;
}

int lia_route_config_get(lia_store *s, lia_buf *out, lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (sqlite3_prepare_v2(db, "SELECT text FROM route_config WHERE name='rules'", -1, &st, NULL))
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW) {
        lia_buf_append(out, "", 0);
        if (lia_buf_append(out, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0)))
            rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "configuration too large");
    } else {
        rc = lia_error_set(err, LIA_ENOTFOUND, NULL, NULL, 0,
                           "no routing configuration loaded (liaison route load FILE)");
    }
    sqlite3_finalize(st);
    return rc;
}

int lia_route_config_put(lia_store *s, const char *text, size_t clen, lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    loadctx c = {NULL, 0, 0};
    lia_route *rt = NULL;
    int rc;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (memchr(text, 0, clen))
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "NUL byte in the configuration");
    /* validate against the stored parties (rule targets must exist) */
    rc = lia_party_list(s, 0, load_one, &c, err);
    if (rc == LIA_OK)
        rc = lia_route_create(c.p, c.n, text, clen, &rt, err);
    for (size_t i = 0; i < c.n; i++)
        lia_party_free(&c.p[i]);
    free(c.p);
    lia_route_destroy(rt);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO route_config(name,text,loaded) VALUES('rules',?,?)",
                           -1, &st, NULL))
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, text, (int)clen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int lia__route_reason_id(sqlite3 *db, lia__rcache *c, const char *text, int64_t *id, lia_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = LIA_OK;
    for (int i = 0; i < c->n; i++)
        if (c->p[i] == text) {
            *id = c->id[i];
            return LIA_OK;
        }
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO route_reason(text) VALUES(?1)", -1, &st, NULL))
        goto fail;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT id FROM route_reason WHERE text=?1", -1, &st, NULL))
        goto fail;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (c->n < (int)(sizeof c->p / sizeof c->p[0])) {
        c->p[c->n] = text;
        c->id[c->n++] = *id;
    }
    return rc;
fail:
    rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "route reasons: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

static int insert_rows(sqlite3 *db, sqlite3_stmt *ins, lia__rcache *rc_, const lia_route *rt,
                       int64_t event_id, const lia_decision *d, size_t n, int64_t at, lia_error *err)
{
    for (size_t i = 0; i < n; i++) {
        char name[128];
        int64_t why, reason;
        int rc;
        if ((rc = lia__route_reason_id(db, rc_, d[i].why ? d[i].why : "", &why, err)) ||
            (rc = lia__route_reason_id(db, rc_, d[i].reason ? d[i].reason : "", &reason, err)))
            return rc;
        lia_route_recipient_name(rt, &d[i], name, sizeof name);
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, event_id);
        sqlite3_bind_text(ins, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(ins, 3, d[i].verdict);
        if (d[i].rule >= 0)
            sqlite3_bind_text(ins, 4, lia_route_rule_name(rt, d[i].rule), -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(ins, 4);
        sqlite3_bind_int64(ins, 5, why);
        sqlite3_bind_int64(ins, 6, reason);
        sqlite3_bind_int64(ins, 7, at);
        if (sqlite3_step(ins) != SQLITE_DONE)
            return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "recording route decisions: %s",
                                 sqlite3_errmsg(db));
    }
    return LIA_OK;
}

#define INSERT_SQL                                                                                           \
    "INSERT OR REPLACE INTO route_decision(event_id,recipient,verdict,rule,why,reason,decided)"              \
    " VALUES(?,?,?,?,?,?,?)"

int lia_route_record(lia_store *s, const lia_route *rt, int64_t event_id, const lia_decision *d, size_t n,
                     lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *del = NULL, *ins = NULL;
    int rc;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (sqlite3_prepare_v2(db, "DELETE FROM route_decision WHERE event_id=? AND notification_id IS NULL", -1,
                           &del, NULL) ||
        sqlite3_prepare_v2(db, INSERT_SQL, -1, &ins, NULL)) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_int64(del, 1, event_id);
    if (sqlite3_step(del) != SQLITE_DONE) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
        goto out;
    }
    {
        lia__rcache c;
        c.n = 0;
        rc = insert_rows(db, ins, &c, rt, event_id, d, n, now_us(), err);
    }
out:
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    return rc;
}

int lia_route_rows(lia_store *s, int64_t event_id, lia_route_row_cb cb, void *ud, lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc, step;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (sqlite3_prepare_v2(
            db,
            "SELECT d.event_id,d.recipient,d.verdict,coalesce(d.rule,'default'),r.text,d.decided,"
            "d.notified,d.notification_id FROM route_decision d JOIN route_reason r ON r.id=d.reason"
            " WHERE d.event_id=? ORDER BY d.recipient",
            -1, &st, NULL))
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, event_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        lia_route_row r = {
            sqlite3_column_int64(st, 0),
            (const char *)sqlite3_column_text(st, 1),
            lia_verdict_name(sqlite3_column_int(st, 2)),
            (const char *)sqlite3_column_text(st, 3),
            (const char *)sqlite3_column_text(st, 4),
            sqlite3_column_int64(st, 5),
            sqlite3_column_int64(st, 6),
            sqlite3_column_int64(st, 7),
        };
        if ((rc = cb(ud, &r)))
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

int lia_route_summary(lia_store *s, lia_route_sum_cb cb, void *ud, lia_error *err)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc, step;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT recipient,verdict,count(*),count(notification_id) FROM route_decision"
                           " GROUP BY recipient,verdict ORDER BY recipient,verdict",
                           -1, &st, NULL))
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc =
                 cb(ud, (const char *)sqlite3_column_text(st, 0), lia_verdict_name(sqlite3_column_int(st, 1)),
                    (uint64_t)sqlite3_column_int64(st, 2), (uint64_t)sqlite3_column_int64(st, 3))))
            break;
    if (!rc && step != SQLITE_DONE)
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

/* ---- the stage ----
 * The route stage runs before the store gives events their ids, so the
 * decisions of a batch wait (pending) until the batch is stored: at the next
 * batch or at the checkpoint, the ids of the events stored after `max_id`
 * by this report are read back in order and matched line by line. */

typedef struct pend {
    uint64_t line;
    uint32_t first, n; /* decisions */
} pend;

typedef struct rstage {
    lia_store *store;
    sqlite3 *db;
    lia_route *rt;
    int64_t report_id;
    int64_t max_id; /* highest event id before the pending batch */
    pend *ev;
    size_t nev, capev;
    lia_decision *d;
    size_t nd, capd;
    sqlite3_stmt *ins, *ids, *maxq;
    lia__rcache rc;
} rstage;

static int st_open(void **out, struct lia_ingest *ing, lia_error *err)
{
    rstage *r = calloc(1, sizeof *r);
    int rc;
    if (!r)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    r->store = ing->store;
    r->report_id = ing->report ? ing->report->id : 0;
    if ((rc = lia__route_db(r->store, &r->db, err)) || (rc = lia_route_load(r->store, &r->rt, err)))
        goto fail;
    if (sqlite3_prepare_v2(r->db, INSERT_SQL, -1, &r->ins, NULL) ||
        sqlite3_prepare_v2(r->db, "SELECT id,line FROM events WHERE id>? AND +report_id=? ORDER BY id", -1,
                           &r->ids, NULL) ||
        sqlite3_prepare_v2(r->db, "SELECT coalesce(max(id),0) FROM events", -1, &r->maxq, NULL)) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "route stage: %s", sqlite3_errmsg(r->db));
        goto fail;
    }
    *out = r;
    return LIA_OK;
fail:
    sqlite3_finalize(r->ins);
    sqlite3_finalize(r->ids);
    sqlite3_finalize(r->maxq);
    lia_route_destroy(r->rt);
    free(r);
    return rc;
}

static int resolve(rstage *r, lia_error *err)
{
    size_t i = 0;
    int step, rc = LIA_OK;
    int64_t at = now_us();
    if (r->nev == 0)
        return LIA_OK;
    sqlite3_reset(r->ids);
    sqlite3_bind_int64(r->ids, 1, r->max_id);
    sqlite3_bind_int64(r->ids, 2, r->report_id);
    while (i < r->nev && (step = sqlite3_step(r->ids)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(r->ids, 0);
        uint64_t line = (uint64_t)sqlite3_column_int64(r->ids, 1);
        if (line != r->ev[i].line) {
            rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0,
                               "route stage: stored event %lld has line %llu, expected %llu", (long long)id,
                               (unsigned long long)line, (unsigned long long)r->ev[i].line);
            goto out;
        }
        if ((rc = insert_rows(r->db, r->ins, &r->rc, r->rt, id, r->d + r->ev[i].first, r->ev[i].n, at, err)))
            goto out;
        i++;
    }
    if (i != r->nev)
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "route stage: %zu routed events were not stored",
                           r->nev - i);
out:
    sqlite3_reset(r->ids);
    r->nev = r->nd = 0;
    return rc;
}

static int st_process(void *st, lia_batch *b, lia_error *err)
{
    rstage *r = st;
    int rc;
    if ((rc = resolve(r, err)))
        return rc;
    sqlite3_reset(r->maxq);
    if (sqlite3_step(r->maxq) != SQLITE_ROW)
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "route stage: %s", sqlite3_errmsg(r->db));
    r->max_id = sqlite3_column_int64(r->maxq, 0);
    sqlite3_reset(r->maxq);
    if (b->n > r->capev) {
        pend *ne = realloc(r->ev, b->n * sizeof *ne);
        lia_decision *nd = realloc(r->d, b->n * LIA_ROUTE_MAX_DECISIONS * sizeof *nd);
        if (ne)
            r->ev = ne;
        if (nd)
            r->d = nd;
        if (!ne || !nd)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        r->capev = b->n;
        r->capd = b->n * LIA_ROUTE_MAX_DECISIONS;
    }
    for (size_t i = 0; i < b->n; i++) {
        size_t n = lia_route_event(r->rt, &b->ev[i], r->d + r->nd);
        r->ev[r->nev++] = (pend){b->ev[i].line, (uint32_t)r->nd, (uint32_t)n};
        r->nd += n;
    }
    return LIA_OK;
}

static int st_flush(void *st, lia_error *err)
{
    return resolve(st, err);
}

static void st_close(void *st)
{
    rstage *r = st;
    sqlite3_finalize(r->ins);
    sqlite3_finalize(r->ids);
    sqlite3_finalize(r->maxq);
    lia_route_destroy(r->rt);
    free(r->ev);
    free(r->d);
    free(r);
}

const lia_stage lia_stage_route = {"route", LIA_ST_ROUTE, st_open, st_process, st_flush, st_close};
