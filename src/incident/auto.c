/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Incidents opened from the routing decisions of a stored batch by the
 * incident rules of the routing file (incident/rules.h). Runs in the
 * batch's transaction: the incidents, hand-offs and links commit or roll
 * back with the events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "incident/internal.h"
#include "incident/rules.h"
#include "liaison/field.h"
#include "liaison/limits.h"

/* One (rule, window, key, event, recipient) of the batch. */
typedef struct entry {
    uint32_t rule;
    int64_t window;
    size_t koff, klen; /* the key (JSON array) in keys */
    const char *k;     /* keys.ptr + koff, once keys stops growing */
    size_t ev;         /* index in the batch */
    int32_t party;     /* the recipient's party index */
} entry;

typedef struct ctx {
    const lia__incident_rules *rules;
    const lia_route *rt;
    const lia__routed_batch *b;
    entry *e;
    size_t n, cap;
    lia_buf keys;
} ctx;

static const lia_actor route_actor = {"liaison", "route", NULL};

static int event_time(const lia_event *ev, int64_t *us)
{
    lia_field f = lia_event_has(ev, LIA_F_TIME_SOURCE) ? LIA_F_TIME_SOURCE : LIA_F_TIME_OBSERVATION;
    if (!lia_event_has(ev, f))
        return 0;
    *us = ev->v[f].i;
    return 1;
}

static int rule_takes(const lia__incident_rule *r, const lia_event *ev)
{
    if (r->nfeed) {
        char feed[256];
        size_t n = lia_event_text(ev, LIA_F_FEED_NAME, feed, sizeof feed), i;
        for (i = 0; i < r->nfeed; i++)
            if (n && strcmp(r->feed[i], feed) == 0)
                break;
        if (i == r->nfeed)
            return 0;
    }
    if (r->ntype) {
        size_t i;
        if (!lia_event_has(ev, LIA_F_CLASSIFICATION_TYPE))
            return 0;
        for (i = 0; i < r->ntype; i++)
            if (ev->v[LIA_F_CLASSIFICATION_TYPE].i == r->type[i])
                break;
        if (i == r->ntype)
            return 0;
    }
    return 1;
}

static int decision_takes(const lia__incident_rule *r, const lia_route *rt, const lia_decision *d)
{
    const char *name;
    if (d->verdict != LIA_DELIVER || d->party < 0)
        return 0;
    if (!r->nroute_rule)
        return 1;
    name = d->rule >= 0 ? lia_route_rule_name(rt, d->rule) : "default";
    for (size_t i = 0; i < r->nroute_rule; i++)
        if (name && strcmp(r->route_rule[i], name) == 0)
            return 1;
    return 0;
}

static int push(ctx *c, uint32_t rule, int64_t window, size_t koff, size_t klen, size_t ev, int32_t party)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        entry *ne = realloc(c->e, nc * sizeof *ne);
        if (!ne)
            return LIA_ENOMEM;
        c->e = ne;
        c->cap = nc;
    }
    c->e[c->n++] = (entry){rule, window, koff, klen, NULL, ev, party};
    return LIA_OK;
}

/* The key of event ev for rule r, appended to c->keys: a JSON array of the
 * key's values in the rule's order (the recipient as "partner:ID"). */
static void key_of(ctx *c, const lia__incident_rule *r, const lia_event *ev, const char *rcpt)
{
    char tmp[LIA_MAX_URL + 64];
    lia_buf_putc(&c->keys, '[');
    for (size_t k = 0; k < r->nkey; k++) {
        if (k)
            lia_buf_putc(&c->keys, ',');
        if (r->key[k] == LIA_INCIDENT_KEY_RECIPIENT) {
            lia_buf_json_str(&c->keys, rcpt, strlen(rcpt));
        } else if (lia_event_has(ev, (lia_field)r->key[k])) {
            size_t n = lia_event_text(ev, (lia_field)r->key[k], tmp, sizeof tmp);
            lia_buf_json_str(&c->keys, tmp, n);
        } else {
            lia_buf_puts(&c->keys, "null");
        }
    }
    lia_buf_putc(&c->keys, ']');
}

static int collect(ctx *c, lia_error *err)
{
    const lia__routed_batch *b = c->b;
    for (size_t i = 0; i < b->n; i++) {
        const lia_event *ev = &b->ev[i];
        int64_t t;
        if (!event_time(ev, &t))
            t = lia__now_us();
        for (uint32_t ri = 0; ri < c->rules->n; ri++) {
            const lia__incident_rule *r = &c->rules->r[ri];
            int64_t secs = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
            int64_t window =
                secs >= 0 ? secs - secs % r->window : secs - ((secs % r->window) + r->window) % r->window;
            size_t shared_off = SIZE_MAX, shared_len = 0;
            if (!rule_takes(r, ev))
                continue;
            for (uint32_t k = 0; k < b->count[i]; k++) {
                const lia_decision *d = &b->d[b->first[i] + k];
                size_t off = c->keys.len;
                char name[128];
                if (!decision_takes(r, c->rt, d))
                    continue;
                lia_route_recipient_name(c->rt, d, name, sizeof name);
                if (r->by_recipient || shared_off == SIZE_MAX) {
                    key_of(c, r, ev, name);
                    if (c->keys.err)
                        return lia_error_set(err, LIA_ENOMEM, "incidents", NULL, 0, "out of memory");
                    if (!r->by_recipient) {
                        shared_off = off;
                        shared_len = c->keys.len - off;
                    }
                }
                if (push(c, ri, window, r->by_recipient ? off : shared_off,
                         r->by_recipient ? c->keys.len - off : shared_len, i, d->party))
                    return lia_error_set(err, LIA_ENOMEM, "incidents", NULL, 0, "out of memory");
            }
        }
    }
    return LIA_OK;
}

/* Same rule, window and key. */
static int cmp_group(const entry *x, const entry *y)
{
    if (x->rule != y->rule)
        return x->rule < y->rule ? -1 : 1;
    if (x->window != y->window)
        return x->window < y->window ? -1 : 1;
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    return memcmp(x->k, y->k, x->klen);
}

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = cmp_group(x, y);
    if (c)
        return c;
    if (x->ev != y->ev)
        return x->ev < y->ev ? -1 : 1;
    return x->party < y->party ? -1 : x->party > y->party;
}

/* The incident a group opened, following merges (0: none yet). */
static int group_incident(lia_db *db, const char *rule, int64_t window, const char *key, size_t klen,
                          int64_t *id, lia_error *err)
{
    lia_stmt *st;
    int rc;
    *id = 0;
    if ((rc = lia__db_prepare(
             db, "incident: finding a rule's incident",
             "SELECT incident_id FROM incident_group WHERE rule=? AND \"window\"=? AND key=?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, rule, -1);
    lia__db_bind_int64(st, 2, window);
    lia__db_bind_text(st, 3, key, (ptrdiff_t)klen);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW)
        *id = lia__db_col_int64(st, 0);
    lia__db_done(st);
    if (rc < 0)
        return rc;
    /* merged or duplicate: the events go to the incident that goes on */
    for (int hops = 0; *id && hops < 64; hops++) {
        int64_t next = 0;
        if ((rc = lia__db_prepare(db, "incident: following a merge",
                                  "SELECT merged_into FROM incident WHERE id=? AND status IN (8, 9)", &st,
                                  err)))
            return rc;
        lia__db_bind_int64(st, 1, *id);
        rc = lia__db_step(st, err);
        if (rc == LIA_DB_ROW)
            next = lia__db_col_int64(st, 0);
        lia__db_done(st);
        if (rc < 0)
            return rc;
        if (!next)
            break;
        *id = next;
    }
    return LIA_OK;
}

static int has_handoff(void *ud, const lia_handoff *h)
{
    (void)h;
    *(int *)ud = 1;
    return 1;
}

static int add_handoff_once(lia_store *s, int64_t id, const char *rcpt, lia_error *err)
{
    int found = 0, rc;
    if ((rc = lia_handoff_list(s, id, -1, rcpt, has_handoff, &found, err)))
        return rc;
    return found ? LIA_OK : lia_handoff_add(s, id, rcpt, &route_actor, err);
}

/* Append v to a comma-separated list in b if it is not there. */
static void list_add(lia_buf *b, const char *v)
{
    size_t n = strlen(v);
    const char *p = b->ptr;
    if (!n)
        return;
    for (size_t i = 0; p && i + n <= b->len; i++)
        if ((i == 0 || p[i - 1] == ',') && memcmp(p + i, v, n) == 0 && (i + n == b->len || p[i + n] == ','))
            return;
    if (b->len)
        lia_buf_putc(b, ',');
    lia_buf_append(b, v, n);
}

/* The sectors of extra.sector (a JSON string or an array of strings) added
 * to the list in b. */
static void sectors_add(const lia_event *ev, lia_buf *b)
{
    for (uint32_t i = 0; i < ev->nextra; i++) {
        const lia_extra *x = &ev->extra[i];
        const char *v = ev->text.ptr + x->voff;
        char one[64];
        if (x->klen != 6 || memcmp(ev->text.ptr + x->koff, "sector", 6) != 0)
            continue;
        for (uint32_t j = 0; j < x->vlen; j++) {
            uint32_t e = j + 1;
            if (v[j] != '"')
                continue;
            while (e < x->vlen && v[e] != '"' && v[e] != '\\')
                e++;
            if (e < x->vlen && v[e] == '"' && e - j - 1 < sizeof one) {
                memcpy(one, v + j + 1, e - j - 1);
                one[e - j - 1] = '\0';
                list_add(b, one);
            }
            j = e;
        }
        return;
    }
}

/* Open the incident of one group: title, classification, TLP, countries
 * and sectors from its events of this batch. */
static int open_group(lia_store *s, lia_db *db, ctx *c, const entry *g, size_t ng, const char *key,
                      const char *const *rcpt, size_t nrcpt, int64_t *id, lia_error *err)
{
    const lia__incident_rule *r = &c->rules->r[g[0].rule];
    const lia_event *first = &c->b->ev[g[0].ev];
    lia_incident inc;
    lia_buf title, cc, sectors;
    char tmp[256], day[LIA_TIME_TEXT];
    int tlp = -1, rc;
    lia_stmt *st;
    memset(&inc, 0, sizeof inc);
    lia_buf_init(&title, 1024);
    lia_buf_init(&cc, 4096);
    lia_buf_init(&sectors, 4096);
    for (size_t i = 0; i < ng; i++) {
        const lia_event *ev = &c->b->ev[g[i].ev];
        int t = lia_event_has(ev, LIA_F_TLP) ? (int)ev->v[LIA_F_TLP].i : LIA_TLP_AMBER;
        if (t > tlp)
            tlp = t;
        if (lia_event_text(ev, LIA_F_SOURCE_GEOLOCATION_CC, tmp, sizeof tmp))
            list_add(&cc, tmp);
        sectors_add(ev, &sectors);
    }
    /* title: the rule's title (or name), the key's values, the window */
    lia_buf_puts(&title, r->title ? r->title : r->name);
    lia_buf_puts(&title, ": ");
    for (size_t k = 0, vi = 0; k < r->nkey; k++) {
        if (r->key[k] == LIA_INCIDENT_KEY_RECIPIENT)
            snprintf(tmp, sizeof tmp, "%s", rcpt[0]);
        else if (!lia_event_text(first, (lia_field)r->key[k], tmp, sizeof tmp))
            snprintf(tmp, sizeof tmp, "no %s", lia_field_name((lia_field)r->key[k]));
        lia_buf_printf(&title, "%s%s", vi++ ? ", " : "", tmp);
    }
    lia_time_format(g[0].window * 1000000, day, sizeof day);
    if (r->window % 86400 == 0)
        day[10] = '\0';
    lia_buf_printf(&title, " (%s)", day);
    lia_buf_append(&title, "", 0);
    lia_buf_append(&cc, "", 0);
    lia_buf_append(&sectors, "", 0);
    if (title.err || cc.err || sectors.err) {
        rc = lia_error_set(err, LIA_ENOMEM, "incidents", NULL, 0, "out of memory");
        goto out;
    }
    inc.title = title.ptr;
    inc.description = "";
    if (lia_event_text(first, LIA_F_CLASSIFICATION_TYPE, tmp, sizeof tmp))
        inc.classification = tmp;
    inc.tlp = r->tlp[0] ? r->tlp : lia_tlp_name(tlp < LIA_TLP_GREEN ? LIA_TLP_GREEN : tlp);
    inc.countries = cc.len > 1 ? cc.ptr : NULL;
    inc.sectors = sectors.len > 1 ? sectors.ptr : NULL;
    inc.severity = r->severity;
    inc.status = LIA_INC_TRIAGED; /* the rule triaged it (docs/incidents.md) */
    if ((rc = lia_incident_create(s, &inc, rcpt, nrcpt, NULL, 0, &route_actor, id, err)))
        goto out;
    if ((rc = lia__db_prepare(
             db, "incident: recording a rule's incident",
             "INSERT INTO incident_group(rule, \"window\", key, incident_id) VALUES(?,?,?,?)", &st, err)))
        goto out;
    lia__db_bind_text(st, 1, r->name, -1);
    lia__db_bind_int64(st, 2, g[0].window);
    lia__db_bind_text(st, 3, key, -1);
    lia__db_bind_int64(st, 4, *id);
    rc = lia__db_run(st, err);
    lia__db_done(st);
out:
    lia_buf_free(&title);
    lia_buf_free(&cc);
    lia_buf_free(&sectors);
    return rc;
}

/* One group g[0..ng) (same rule, window and key): find or open its
 * incident, hand it to each recipient, link the events. */
static int one_group(lia_store *s, lia_db *db, ctx *c, const entry *g, size_t ng, uint64_t *opened,
                     lia_error *err)
{
    const lia__incident_rule *r = &c->rules->r[g[0].rule];
    char *key = NULL;
    const char **rcpt = NULL;
    int64_t *ids = NULL, id;
    size_t nr = 0, ni = 0;
    int rc;
    if (!(key = malloc(g[0].klen + 1)) || !(rcpt = calloc(ng, sizeof *rcpt)) ||
        !(ids = calloc(ng, sizeof *ids))) {
        rc = lia_error_set(err, LIA_ENOMEM, "incidents", NULL, 0, "out of memory");
        goto out;
    }
    memcpy(key, c->keys.ptr + g[0].koff, g[0].klen);
    key[g[0].klen] = '\0';
    for (size_t i = 0; i < ng; i++) {
        const lia_party *p = lia_route_party(c->rt, g[i].party);
        size_t k = 0;
        while (k < nr && strcmp(rcpt[k], p->id) != 0)
            k++;
        if (k == nr)
            rcpt[nr++] = p->id;
        if (ni == 0 || ids[ni - 1] != c->b->ev[g[i].ev].id) /* sorted by event */
            ids[ni++] = c->b->ev[g[i].ev].id;
    }
    if ((rc = group_incident(db, r->name, g[0].window, key, g[0].klen, &id, err)))
        goto out;
    if (!id) {
        if ((rc = open_group(s, db, c, g, ng, key, rcpt, nr, &id, err)))
            goto out;
        if (opened)
            (*opened)++;
    } else {
        for (size_t k = 0; k < nr && rc == LIA_OK; k++)
            rc = add_handoff_once(s, id, rcpt[k], err);
        if (rc)
            goto out;
    }
    rc = lia__incident_link_events(db, id, ids, ni, &route_actor, NULL, err);
out:
    free(key);
    free(rcpt);
    free(ids);
    return rc;
}

int lia__incident_open_routed(lia_store *s, const lia__incident_rules *rules, const lia_route *rt,
                              const lia__routed_batch *b, uint64_t *opened, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    ctx c;
    int rc;
    if (!rules || rules->n == 0 || b->n == 0)
        return LIA_OK;
    memset(&c, 0, sizeof c);
    c.rules = rules;
    c.rt = rt;
    c.b = b;
    lia_buf_init(&c.keys, (size_t)1 << 30);
    if ((rc = lia__incident_schema(db, err)) || (rc = collect(&c, err)))
        goto out;
    for (size_t i = 0; i < c.n; i++)
        c.e[i].k = c.keys.ptr + c.e[i].koff;
    if (c.n > 1) /* c.e is NULL when nothing was collected */
        qsort(c.e, c.n, sizeof *c.e, cmp_entry);
    for (size_t i = 0, j; i < c.n && rc == LIA_OK; i = j) {
        for (j = i + 1; j < c.n && cmp_group(&c.e[i], &c.e[j]) == 0; j++)
            ;
        rc = one_group(s, db, &c, c.e + i, j - i, opened, err);
    }
out:
    free(c.e);
    lia_buf_free(&c.keys);
    return rc;
}
