/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The REST API, mounted at /api/v1 (src/serve/mounts.c):
 *
 *   GET /api/v1/openapi.json    the OpenAPI 3.1 document (public)
 *   GET /api/v1/incidents       the incidents the caller may see, in id
 *                               order, filtered, one page at a time
 *   GET /api/v1/incidents/{id}  one incident, its hand-offs (with their SLA
 *                               clock) and its comments; for our team its
 *                               links and linked events (a pruned one from
 *                               the incident's copy, marked)
 *   POST /api/v1/incidents      create one (our team)
 *   PATCH /api/v1/incidents/{id}  change one, status through the one
 *                               transition table (our team)
 *   POST /api/v1/incidents/{id}/comments  comment (a partner's is shared
 *                               between it and us)
 *   POST /api/v1/incidents/{id}/handoffs/{recipient}  a hand-off's state (a
 *                               partner: acknowledged, resolved, rejected,
 *                               its own only)
 *   GET /api/v1/metrics         time to acknowledge and resolve, open
 *                               incidents, breaches (our team)
 *   POST /api/v1/partners, /owners; PATCH /api/v1/partners/{party},
 *                               /owners/{party}  the directory edited as the
 *                               CLI edits it (our team)
 *   GET /api/v1/feeds           the feeds with their health (our team)
 *   GET /api/v1/events/{id}/explain, GET /api/v1/route/preview  routing
 *                               evaluated now, as route explain/preview
 *                               (our team)
 *   GET /api/v1/events/{id}/raw the event's archived raw row (our team)
 *   POST /api/v1/incidents/{id}/split  a new incident takes some of its
 *                               events (our team)
 *   GET /api/v1/incidents/{id}/export?format=stix|iodef  the incident as a
 *                               STIX 2.1 bundle or an IODEF v2 document, a
 *                               download (a partner: its events only)
 *
 * Authentication is the server's (API keys, Basic, console sessions with
 * their CSRF token for state changes): r->who. What a caller sees: our own
 * team every incident; a partner or constituent organisation only the
 * incidents handed off (a hand-off not withdrawn) to the party its
 * organisation is linked to, only that hand-off, and only the comments
 * shared with every recipient or with it. An incident it may not see is
 * answered as one that does not exist. Every error is one JSON shape,
 * {"error":{"code","status","message"}}, also for what the server answers
 * on our behalf (401, 413, 429, ...). docs/api.md. */
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/settings.h"
#include "http/handler.h"
#include "liaison/accounts.h"
#include "liaison/audit.h"
#include "liaison/feeds.h"
#include "liaison/field.h"
#include "liaison/incident.h"
#include "liaison/route.h"
#include "liaison/limits.h"
#include "liaison/store.h"
#include "route/internal.h"
#include "route/tlp.h"
#include "store/events.h"

#define PREFIX         "/api/v1"
#define MAX_RECIPIENTS 64            /* of an incident created over the API */
#define JSON_BODY_MAX  (512u * 1024) /* a comment of LIA_INCIDENT_TEXT_MAX, escaped */
#define SPLIT_MAX      10000         /* events moved by one split */

/* ---- errors ------------------------------------------------------------------ */

/* The stable codes, one per status the API or the server answers with;
 * 400s the handlers raise themselves name a finer code (invalid_parameter,
 * invalid_cursor). docs/api.md lists them. */
static const struct {
    int status;
    const char *code;
} codes[] = {
    {400, "bad_request"},        {401, "unauthenticated"},
    {403, "forbidden"},          {404, "not_found"},
    {405, "method_not_allowed"}, {409, "conflict"},
    {413, "payload_too_large"},  {415, "unsupported_media_type"},
    {431, "headers_too_large"},  {429, "rate_limited"},
    {500, "internal"},           {503, "unavailable"},
};

static const char *code_of(int status)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].status == status)
            return codes[i].code;
    return status >= 500 ? "internal" : "bad_request";
}

/* Answer {"error":{"code","status","message"}}. */
static void api_error(lia__req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void api_error(lia__req *r, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lia_buf_reset(&r->out);
    r->status = status;
    r->ctype = "application/json";
    lia_buf_printf(&r->out, "{\"error\":{\"code\":\"%s\",\"status\":%d,\"message\":", code, status);
    lia_buf_json_str(&r->out, msg, strlen(msg));
    lia_buf_puts(&r->out, "}}");
}

/* The server's errors on our behalf (401, 413, 429, ...), in our shape. */
static void server_error(lia__req *r, int status, const char *title, const char *detail)
{
    (void)title;
    r->nresp = r->resp_used = 0;
    api_error(r, status, code_of(status), "%s", detail);
}

/* A bad query parameter: 400 invalid_parameter, and return. */
#define RET_ERR(r, ...)                                                                                      \
    do {                                                                                                     \
        api_error(r, 400, "invalid_parameter", __VA_ARGS__);                                                 \
        return;                                                                                              \
    } while (0)

static void not_found(lia__req *r, int64_t id)
{
    /* the same words whether the incident is missing or hidden from the caller */
    api_error(r, 404, "not_found", "no incident %lld", (long long)id);
}

static void answer(lia__req *r, json_t *j)
{
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!t) {
        api_error(r, 500, "internal", "out of memory");
        return;
    }
    lia_buf_puts(&r->out, t);
    free(t);
    r->status = 200;
    r->ctype = "application/json";
}

/* ---- the caller ---------------------------------------------------------------- */

typedef struct caller {
    int own;        /* our own team: sees everything */
    char party[65]; /* a partner's or constituent's linked party id; "" sees nothing */
} caller;

static int caller_of(lia__req *r, caller *c, lia_error *e)
{
    lia_org org;
    int rc;
    memset(c, 0, sizeof *c);
    if (r->who.org_kind == LIA_ORG_OWN) {
        c->own = 1;
        return LIA_OK;
    }
    if ((rc = lia_accounts_org_get(r->store, r->who.org, &org, e)))
        return rc;
    snprintf(c->party, sizeof c->party, "%s", org.party);
    return LIA_OK;
}

static int live_cb(void *ud, const lia_handoff *h)
{
    if (h->state != LIA_HO_WITHDRAWN)
        *(int *)ud = 1;
    return 0;
}

/* *yes = 1 if the caller may see incident id (which need not exist). */
static int may_see(lia__req *r, const caller *c, int64_t id, int *yes, lia_error *e)
{
    *yes = c->own;
    if (c->own || !c->party[0])
        return LIA_OK;
    return lia_handoff_list(r->store, id, -1, c->party, live_cb, yes, e);
}

/* ---- JSON of the store's rows ------------------------------------------------------- */

static json_t *time_json(int64_t us)
{
    char t[LIA_TIME_TEXT];
    if (!us)
        return json_null();
    lia_time_format(us, t, sizeof t);
    return json_string(t);
}

static json_t *str_json(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* "KH, TH" -> ["KH","TH"] */
static json_t *list_json(const char *s)
{
    json_t *a = json_array();
    while (a && s && *s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        const char *p = s;
        while (n && *p == ' ')
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if (n)
            json_array_append_new(a, json_stringn(p, n));
        s = e ? e + 1 : NULL;
    }
    return a;
}

static json_t *incident_json(const lia_incident *inc, const caller *c)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_integer(inc->id));
    json_object_set_new(o, "title", json_string(inc->title ? inc->title : ""));
    json_object_set_new(o, "description", json_string(inc->description ? inc->description : ""));
    json_object_set_new(o, "classification", str_json(inc->classification));
    json_object_set_new(o, "severity", json_string(lia_severity_name(inc->severity)));
    json_object_set_new(o, "tlp", json_string(inc->tlp ? inc->tlp : "AMBER"));
    json_object_set_new(o, "countries", list_json(inc->countries));
    json_object_set_new(o, "sectors", list_json(inc->sectors));
    json_object_set_new(o, "status", json_string(lia_incident_status_name(inc->status)));
    if (inc->merged_into)
        json_object_set_new(o, "merged_into", json_integer(inc->merged_into));
    json_object_set_new(o, "waiting", json_boolean(inc->waiting));
    if (inc->drill) /* an exercise (docs/drills.md): the title says [DRILL] too */
        json_object_set_new(o, "drill", json_integer(inc->drill));
    if (c->own)
        json_object_set_new(o, "owner", str_json(inc->owner));
    json_object_set_new(o, "created", time_json(inc->created_us));
    json_object_set_new(o, "updated", time_json(inc->updated_us));
    return o;
}

/* A partner sees merged_into only when it may see that incident too. */
static int hide_merged(lia__req *r, const caller *c, json_t *o, lia_error *e)
{
    json_t *m = json_object_get(o, "merged_into");
    int yes, rc;
    if (c->own || !m)
        return LIA_OK;
    if ((rc = may_see(r, c, json_integer_value(m), &yes, e)))
        return rc;
    if (!yes)
        json_object_del(o, "merged_into");
    return LIA_OK;
}

/* ---- arguments --------------------------------------------------------------------- */

static int is_name(lia_slice s, const char *name)
{
    return s.len == strlen(name) && memcmp(s.ptr, name, s.len) == 0;
}

/* A positive decimal int64 without sign or leading zero: 1, else 0. */
static int parse_id(const char *p, size_t n, int64_t *out)
{
    int64_t v = 0;
    if (n == 0 || n > 18 || p[0] == '0')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 1;
}

/* ---- the cursor -------------------------------------------------------------------- */

/* A cursor is base64url(version 1, the last id of the page (8 bytes, big
 * endian), a 16-byte keyed BLAKE2b MAC of both and of the query it belongs
 * to: the caller's organisation and the filters). The key is random, made
 * once per store and kept in it (api_secret), so every `liaison serve` on
 * the store (replicas behind a load balancer) takes the others' cursors,
 * and they survive a restart; a client cannot make or change one. */
#define CURSOR_BIN 25
#define CURSOR_MAC 16

typedef struct cursor_key {
    unsigned char k[crypto_generichash_KEYBYTES];
} cursor_key;

static const lia_migration secret_migrations[] = {
    {"CREATE TABLE IF NOT EXISTS api_secret (name TEXT PRIMARY KEY, value BLOB NOT NULL);", NULL, NULL},
};
static const lia_schema secret_schema = {"api_secret", 1, secret_migrations, NULL, .pg = 1};

int lia__api_secret_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &secret_schema, err);
}

/* The store's cursor key into *key, made by the first server that needs
 * it (of two at once, the first insert wins and both read it). 0, or 1
 * with the error answered. */
static int cursor_ready(lia__req *r, cursor_key *key)
{
    lia_db *db = lia__store_db(r->store);
    lia_stmt *st;
    lia_error e;
    int rc, got = 0;
    unsigned char fresh[sizeof key->k];
    lia_error_clear(&e);
    if ((rc = lia__db_schema(db, &secret_schema, &e)))
        goto fail;
    for (int round = 0; round < 2 && !got; round++) {
        if ((rc = lia__db_prepare(db, "API: the cursor key",
                                  "SELECT value FROM api_secret WHERE name = 'cursor'", &st, &e)))
            goto fail;
        rc = lia__db_step(st, &e);
        if (rc == LIA_DB_ROW && lia__db_col_bytes(st, 0) == sizeof key->k) {
            memcpy(key->k, lia__db_col_blob(st, 0, &(size_t){0}), sizeof key->k);
            got = 1;
        }
        lia__db_done(st);
        if (rc < 0)
            goto fail;
        if (got || round)
            break;
        randombytes_buf(fresh, sizeof fresh);
        if ((rc = lia__db_prepare(db, "API: making the cursor key",
                                  "INSERT INTO api_secret(name, value) VALUES('cursor', ?)"
                                  " ON CONFLICT(name) DO NOTHING",
                                  &st, &e)))
            goto fail;
        lia__db_bind_blob(st, 1, fresh, sizeof fresh);
        rc = lia__db_run(st, &e);
        lia__db_done(st);
        sodium_memzero(fresh, sizeof fresh);
        if (rc)
            goto fail;
    }
    if (got)
        return 0;
    lia_error_set(&e, LIA_ESTORE, "api_secret", NULL, 0, "the cursor key is not 32 bytes");
fail:
    lia__req_store_error(r, &e);
    return 1;
}

static void cursor_mac(const cursor_key *key, const unsigned char *head, size_t n, const char *bind,
                       unsigned char mac[CURSOR_MAC])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key->k, sizeof key->k, CURSOR_MAC);
    crypto_generichash_update(&st, head, n);
    crypto_generichash_update(&st, (const unsigned char *)bind, strlen(bind) + 1);
    crypto_generichash_final(&st, mac, CURSOR_MAC);
}

static void cursor_make(const cursor_key *key, int64_t last, const char *bind, char *out, size_t n)
{
    unsigned char b[CURSOR_BIN];
    b[0] = 1;
    for (int i = 0; i < 8; i++)
        b[1 + i] = (unsigned char)((uint64_t)last >> (56 - 8 * i));
    cursor_mac(key, b, 9, bind, b + 9);
    sodium_bin2base64(out, n, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* 1 with *last set if text is a cursor we made for this query, else 0. */
static int cursor_read(const cursor_key *key, const char *text, const char *bind, int64_t *last)
{
    unsigned char b[CURSOR_BIN], mac[CURSOR_MAC];
    size_t n = 0;
    uint64_t v = 0;
    if (strlen(text) > 64 ||
        sodium_base642bin(b, sizeof b, text, strlen(text), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != CURSOR_BIN || b[0] != 1)
        return 0;
    cursor_mac(key, b, 9, bind, mac);
    if (sodium_memcmp(mac, b + 9, CURSOR_MAC) != 0)
        return 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[1 + i];
    if (v == 0 || v > INT64_MAX)
        return 0;
    *last = (int64_t)v;
    return 1;
}

/* ---- GET /incidents ------------------------------------------------------------------ */

typedef struct page {
    const caller *c;
    json_t *items;
    int64_t last; /* the id of the last incident on the page */
    uint64_t n, limit;
    int more, oom;
} page;

static int page_cb(void *ud, const lia_incident *inc)
{
    page *p = ud;
    json_t *o;
    if (p->n == p->limit) { /* the one beyond the page: there is a next page */
        p->more = 1;
        return 1;
    }
    if (!(o = incident_json(inc, p->c)) || json_array_append_new(p->items, o)) {
        p->oom = 1;
        return 1;
    }
    p->last = inc->id;
    p->n++;
    return 0;
}

static void list_incidents(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    /* drills too: a participant answers a drill's incidents over the API (docs/drills.md) */
    lia_incident_filter f = {.status = -1, .severity = -1, .drills = 1};
    const char *next = NULL, *country = NULL, *recipient = NULL;
    char cc[3] = "", bind[256], cur[64];
    cursor_key ckey;
    uint64_t limit = LIA_API_PAGE_DEFAULT;
    lia_error e;
    page p;
    json_t *res;
    int rc;
    (void)id;
    (void)rcpt;
    lia_error_clear(&e);
    for (size_t i = 0; i < r->nargs; i++) {
        lia_slice k = r->args[i].name;
        const char *v = r->args[i].value.ptr;
        for (size_t j = 0; j < i; j++)
            if (r->args[j].name.len == k.len && !memcmp(r->args[j].name.ptr, k.ptr, k.len))
                RET_ERR(r, "parameter %.*s: given more than once", (int)k.len, k.ptr);
        if (is_name(k, "status")) {
            lia_incident_status s;
            if (lia_incident_status_parse(v, &s, &e))
                RET_ERR(r, "parameter status: \"%.60s\": %s", v, e.reason);
            f.status = (int)s;
        } else if (is_name(k, "severity")) {
            lia_severity s;
            if (lia_severity_parse(v, &s, &e))
                RET_ERR(r, "parameter severity: \"%.60s\": %s", v, e.reason);
            f.severity = (int)s;
        } else if (is_name(k, "country")) {
            if (strlen(v) != 2 || !((v[0] | 32) >= 'a' && (v[0] | 32) <= 'z') ||
                !((v[1] | 32) >= 'a' && (v[1] | 32) <= 'z'))
                RET_ERR(r, "parameter country: \"%.60s\": a country is two letters (ISO 3166-1 alpha-2)", v);
            cc[0] = (char)(v[0] & ~32);
            cc[1] = (char)(v[1] & ~32);
            country = cc;
        } else if (is_name(k, "recipient")) {
            if (!lia_party_id_ok(v, strlen(v)))
                RET_ERR(r,
                        "parameter recipient: \"%.60s\": a partner or owner id ([a-z0-9][a-z0-9._-]{0,63})",
                        v);
            recipient = v;
        } else if (is_name(k, "limit")) {
            int64_t n;
            if (!parse_id(v, strlen(v), &n) || n > LIA_API_PAGE_MAX)
                RET_ERR(r, "parameter limit: \"%.60s\": a whole number from 1 to %d", v, LIA_API_PAGE_MAX);
            limit = (uint64_t)n;
        } else if (is_name(k, "next")) {
            next = v;
        } else {
            RET_ERR(r,
                    "parameter %.*s: unknown; the incidents take status, severity, country, recipient, "
                    "limit, next",
                    (int)(k.len > 60 ? 60 : k.len), k.ptr);
        }
    }
    /* the query a cursor belongs to: who asks, and every filter (not the limit) */
    snprintf(bind, sizeof bind, "%lld\n%d\n%d\n%s\n%s", (long long)r->who.org_id, f.status, f.severity, cc,
             recipient ? recipient : "");
    if (cursor_ready(r, &ckey))
        return;
    if (next && !cursor_read(&ckey, next, bind, &f.after_id)) {
        api_error(r, 400, "invalid_cursor",
                  "parameter next: not a cursor of this query (it was changed, belongs to other filters or "
                  "or another caller): start again without next");
        return;
    }
    memset(&p, 0, sizeof p);
    p.c = c;
    p.limit = limit;
    if (!(p.items = json_array())) {
        api_error(r, 500, "internal", "out of memory");
        return;
    }
    f.country = country;
    f.limit = limit + 1;
    f.recipient = c->own ? recipient : c->party;
    /* a partner or constituent asking for another recipient, or linked to none, sees nothing */
    if (c->own || (c->party[0] && (!recipient || !strcmp(recipient, c->party)))) {
        if ((rc = lia_incident_list(r->store, &f, page_cb, &p, &e))) {
            json_decref(p.items);
            lia__req_store_error(r, &e);
            return;
        }
    }
    for (size_t i = 0; !p.oom && i < json_array_size(p.items); i++)
        if ((rc = hide_merged(r, c, json_array_get(p.items, i), &e))) {
            json_decref(p.items);
            lia__req_store_error(r, &e);
            return;
        }
    if (p.oom) {
        json_decref(p.items);
        api_error(r, 500, "internal", "out of memory");
        return;
    }
    if (p.more)
        cursor_make(&ckey, p.last, bind, cur, sizeof cur);
    res = json_pack("{s:o, s:o}", "incidents", p.items, "next", p.more ? json_string(cur) : json_null());
    answer(r, res);
}

/* ---- GET /incidents/{id} ---------------------------------------------------------------- */

typedef struct ho_row {
    lia_handoff h; /* recipient points into name; reason, by, channel unused after the walk */
    char name[72];
    json_t *obj;
} ho_row;

typedef struct ho_walk {
    const caller *c;
    ho_row *v;
    size_t n, cap;
    int oom;
} ho_walk;

static int ho_cb(void *ud, const lia_handoff *h)
{
    ho_walk *w = ud;
    json_t *o;
    if (!w->c->own && h->state == LIA_HO_WITHDRAWN)
        return 0;
    if (w->n == w->cap) {
        size_t nc = w->cap ? 2 * w->cap : 8;
        ho_row *nv = realloc(w->v, nc * sizeof *nv);
        if (!nv) {
            w->oom = 1;
            return 1;
        }
        w->v = nv;
        w->cap = nc;
    }
    if (!(o = json_object())) {
        w->oom = 1;
        return 1;
    }
    json_object_set_new(o, "recipient", json_string(h->recipient));
    json_object_set_new(o, "state", json_string(lia_handoff_state_name(h->state)));
    json_object_set_new(o, "created", time_json(h->created_us));
    json_object_set_new(o, "notified", time_json(h->notified_us));
    json_object_set_new(o, "acknowledged", time_json(h->acknowledged_us));
    json_object_set_new(o, "resolved", time_json(h->resolved_us));
    json_object_set_new(o, "rejected", time_json(h->rejected_us));
    json_object_set_new(o, "reason", str_json(h->reason));
    json_object_set_new(o, "updated", time_json(h->updated_us));
    if (w->c->own) {
        json_object_set_new(o, "by", str_json(h->by));
        json_object_set_new(o, "channel", str_json(h->channel));
    }
    ho_row *row = &w->v[w->n++];
    row->h = *h;
    snprintf(row->name, sizeof row->name, "%s", h->recipient);
    row->h.recipient = row->name;
    row->h.reason = row->h.by = row->h.channel = NULL;
    row->obj = o;
    return 0;
}

static json_t *clock_json(const lia_handoff_clock *k)
{
    if (!k->clock)
        return json_null();
    return json_pack("{s:s, s:I, s:I, s:o, s:o, s:b, s:b, s:s}", "clock", k->clock, "target_seconds",
                     (json_int_t)k->target, "used_seconds", (json_int_t)k->used, "started",
                     time_json(k->start_us), "due",
                     k->due_us == INT64_MAX ? json_null() : time_json(k->due_us), "paused", k->paused,
                     "breached", k->breached, "timezone", k->tz);
}

typedef struct cm_walk {
    const caller *c;
    json_t *items;
    int oom;
} cm_walk;

/* The caller may see what has this visibility: our team everything, a
 * partner what is shared with every recipient or with it. */
static int visible(const caller *c, const char *vis)
{
    return c->own || strcmp(vis, "shared") == 0 ||
           (strncmp(vis, "shared:", 7) == 0 && strcmp(vis + 7, c->party) == 0);
}

static int cm_cb(void *ud, const lia_comment *cm)
{
    cm_walk *w = ud;
    json_t *o;
    if (!visible(w->c, cm->visibility))
        return 0; /* internal, or shared with another recipient */
    o = json_pack("{s:I, s:o, s:s, s:s, s:s}", "id", (json_int_t)cm->id, "at", time_json(cm->at_us), "author",
                  cm->author ? cm->author : "", "visibility", cm->visibility, "body",
                  cm->body ? cm->body : "");
    if (!o || json_array_append_new(w->items, o)) {
        w->oom = 1;
        return 1;
    }
    return 0;
}

/* An attachment's record kept past its statement. */
typedef struct att_keep {
    lia_attachment a;
    char author[128], visibility[80], name[256], type[128];
} att_keep;

static int keep_attachment(void *ud, const lia_attachment *a)
{
    att_keep *k = ud;
    k->a = *a;
    snprintf(k->author, sizeof k->author, "%s", a->author ? a->author : "");
    snprintf(k->visibility, sizeof k->visibility, "%s", a->visibility);
    snprintf(k->name, sizeof k->name, "%s", a->name);
    snprintf(k->type, sizeof k->type, "%s", a->media_type);
    k->a.author = k->author;
    k->a.visibility = k->visibility;
    k->a.name = k->name;
    k->a.media_type = k->type;
    return 0;
}

static json_t *attachment_json(const lia_attachment *a)
{
    return json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:I, s:s}", "id", (json_int_t)a->id, "at",
                     time_json(a->at_us), "author", a->author ? a->author : "", "visibility", a->visibility,
                     "name", a->name, "media_type", a->media_type, "size", (json_int_t)a->size, "sha256",
                     a->sha256);
}

static int att_cb(void *ud, const lia_attachment *a)
{
    cm_walk *w = ud;
    json_t *o;
    if (!visible(w->c, a->visibility))
        return 0;
    if (!(o = attachment_json(a)) || json_array_append_new(w->items, o)) {
        w->oom = 1;
        return 1;
    }
    return 0;
}

static int tl_cb(void *ud, const lia_audit_record *a)
{
    cm_walk *w = ud;
    json_t *o = json_pack("{s:I, s:o, s:s, s:s, s:s, s:s}", "seq", (json_int_t)a->seq, "at",
                          time_json(a->at_us), "actor", a->actor ? a->actor : "", "channel",
                          a->channel ? a->channel : "", "object", a->object, "action", a->action);
    if (!o || json_array_append_new(w->items, o)) {
        w->oom = 1;
        return 1;
    }
    return 0;
}

static int link_cb(void *ud, const lia_link *l)
{
    cm_walk *w = ud;
    json_t *o = json_pack("{s:s, s:s, s:o}", "kind", l->kind, "ref", l->ref, "at", time_json(l->at_us));
    if (!o || json_array_append_new(w->items, o)) {
        w->oom = 1;
        return 1;
    }
    return 0;
}

/* A linked event as GET /events lists it (our team's view), from the store
 * or, pruned from it, from the incident's copy (extra.store_pruned: when). */
static int linked_event_cb(void *ud, const lia_event *ev)
{
    cm_walk *w = ud;
    lia_buf b;
    json_t *o;
    lia_buf_init(&b, LIA_MAX_EVENT_TEXT * 2 + 128);
    lia_buf_printf(&b, "{\"event.id\":%lld,\"report.id\":%lld,\"report.line\":%llu", (long long)ev->id,
                   (long long)ev->report_id, (unsigned long long)ev->line);
    {
        lia_buf one;
        lia_buf_init(&one, LIA_MAX_EVENT_TEXT * 2);
        if (lia_event_to_json(ev, &one) == LIA_OK && one.len > 2) {
            lia_buf_putc(&b, ',');
            lia_buf_append(&b, one.ptr + 1, one.len - 1);
        } else {
            lia_buf_putc(&b, '}');
        }
        lia_buf_free(&one);
    }
    o = b.err ? NULL : json_loadb(b.ptr, b.len, 0, NULL);
    lia_buf_free(&b);
    if (!o || json_array_append_new(w->items, o)) {
        w->oom = 1;
        return 1;
    }
    return 0;
}

static void get_incident(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    lia_incident inc;
    lia_buf hold;
    lia_error e;
    ho_walk hw;
    cm_walk cw, lw, aw, tw, ew;
    json_t *o = NULL, *hos = NULL;
    int yes, rc;
    (void)rcpt;
    memset(&ew, 0, sizeof ew);
    lia_error_clear(&e);
    lia_buf_init(&hold, 0);
    memset(&hw, 0, sizeof hw);
    memset(&cw, 0, sizeof cw);
    memset(&lw, 0, sizeof lw);
    memset(&aw, 0, sizeof aw);
    memset(&tw, 0, sizeof tw);
    hw.c = cw.c = lw.c = aw.c = tw.c = c;
    if (r->nargs) {
        api_error(r, 400, "invalid_parameter", "parameter %.*s: unknown; an incident takes no parameters",
                  (int)(r->args[0].name.len > 60 ? 60 : r->args[0].name.len), r->args[0].name.ptr);
        goto done;
    }
    if ((rc = may_see(r, c, id, &yes, &e)))
        goto store;
    if (!yes) {
        not_found(r, id);
        goto done;
    }
    if ((rc = lia_incident_get(r->store, id, &inc, &hold, &e))) {
        if (rc == LIA_ENOTFOUND)
            not_found(r, id);
        else
            lia__req_store_error(r, &e);
        goto done;
    }
    if (inc.drill) { /* a drill's incident says so in a header too (docs/drills.md) */
        char dv[24];
        snprintf(dv, sizeof dv, "%lld", (long long)inc.drill);
        lia__req_add_header(r, "X-Liaison-Drill", dv);
    }
    if (!(o = incident_json(&inc, c)) || !(hos = json_array()) || !(cw.items = json_array()) ||
        !(aw.items = json_array()) || (c->own && !(lw.items = json_array())))
        goto oom;
    if ((rc = hide_merged(r, c, o, &e)))
        goto store;
    if ((rc = lia_handoff_list(r->store, id, -1, c->own ? NULL : c->party, ho_cb, &hw, &e)))
        goto store;
    if (hw.oom)
        goto oom;
    /* the clocks after the walk: they read the directory and the pauses */
    for (size_t i = 0; i < hw.n; i++) {
        lia_handoff_clock k;
        json_t *obj = hw.v[i].obj;
        hw.v[i].obj = NULL;
        if (json_array_append_new(hos, obj))
            goto oom;
        if ((rc = lia_handoff_clock_get(r->store, &inc, &hw.v[i].h, lia__now_us(), NULL, &k, &e)))
            goto store;
        json_object_set_new(obj, "sla", clock_json(&k));
    }
    if ((rc = lia_incident_comments(r->store, id, cm_cb, &cw, &e)))
        goto store;
    if ((rc = lia_incident_attachments(r->store, id, att_cb, &aw, &e)))
        goto store;
    if (c->own && (rc = lia_incident_links(r->store, id, link_cb, &lw, &e)))
        goto store;
    if (c->own && (!(ew.items = json_array()) ||
                   (rc = lia_incident_events(r->store, id, linked_event_cb, &ew, NULL, &e)))) {
        if (!ew.items || ew.oom)
            goto oom;
        goto store;
    }
    if (c->own) { /* the timeline: its audit records and its hand-offs' (our team: who did what) */
        char o1[40], o2[40];
        const char *objs[2] = {o1, o2};
        snprintf(o1, sizeof o1, "incident:%lld", (long long)id);
        snprintf(o2, sizeof o2, "handoff:%lld", (long long)id);
        if (!(tw.items = json_array()))
            goto oom;
        if ((rc = lia_audit_list_objects(r->store, objs, 2, tl_cb, &tw, &e)))
            goto store;
    }
    if (cw.oom || lw.oom || aw.oom || tw.oom || ew.oom)
        goto oom;
    json_object_set_new(o, "handoffs", hos);
    json_object_set_new(o, "comments", cw.items);
    json_object_set_new(o, "attachments", aw.items);
    aw.items = NULL;
    if (c->own) { /* what the console offers: the statuses the one table allows from here */
        json_t *al = json_array();
        for (int st = 0; al && st < LIA_INC__COUNT; st++)
            if (lia_incident_status_allowed(inc.status, (lia_incident_status)st))
                json_array_append_new(al, json_string(lia_incident_status_name((lia_incident_status)st)));
        if (!al)
            goto oom;
        json_object_set_new(o, "allowed_status", al);
    }
    if (tw.items)
        json_object_set_new(o, "timeline", tw.items);
    tw.items = NULL;
    if (lw.items)
        json_object_set_new(o, "links", lw.items);
    if (ew.items)
        json_object_set_new(o, "events", ew.items);
    hos = cw.items = lw.items = ew.items = NULL;
    answer(r, o);
    o = NULL;
    goto done;
store:
    lia__req_store_error(r, &e);
    goto done;
oom:
    api_error(r, 500, "internal", "out of memory");
done:
    for (size_t i = 0; i < hw.n; i++)
        json_decref(hw.v[i].obj);
    free(hw.v);
    json_decref(o);
    json_decref(hos);
    json_decref(cw.items);
    json_decref(lw.items);
    json_decref(aw.items);
    json_decref(tw.items);
    json_decref(ew.items);
    lia_buf_free(&hold);
}

/* ---- writes ----------------------------------------------------------------------------------- */

/* Who changes something, for the audit log and the hand-off's "by": our
 * analyst by name, a partner's user as ORG/USER. */
typedef struct actor {
    char name[2 * LIA_NAME_MAX + 2];
    lia_actor a;
} actor;

static void actor_of(lia__req *r, const caller *c, actor *out)
{
    if (c->own)
        snprintf(out->name, sizeof out->name, "%s", r->who.user);
    else
        snprintf(out->name, sizeof out->name, "%s/%s", r->who.org, r->who.user);
    out->a.who = out->name;
    out->a.channel = "api";
    out->a.address = r->peer;
}

/* Our team's analysts and admins change incidents; 403 for the others. */
static int own_writer(lia__req *r, const caller *c, const char *what)
{
    if (c->own && (r->who.role == LIA_ROLE_ADMIN || r->who.role == LIA_ROLE_ANALYST))
        return 1;
    api_error(r, 403, "forbidden", "%s is for our own team's analysts; %s", what,
              c->own ? "this account's role may not"
                     : "a partner acknowledges, resolves or rejects its hand-off "
                       "and comments");
    return 0;
}

/* The request's body as a JSON object whose members are all among
 * allowed (NULL-terminated); NULL when it answered an error. */
static json_t *body_object(lia__req *r, const char *const *allowed)
{
    lia_slice ct = lia__req_header(r, "Content-Type");
    json_error_t je;
    json_t *j;
    const char *k;
    json_t *v;
    if (r->nargs) {
        api_error(r, 400, "invalid_parameter",
                  "parameter %.*s: unknown; a change takes its values in the body",
                  (int)(r->args[0].name.len > 60 ? 60 : r->args[0].name.len), r->args[0].name.ptr);
        return NULL;
    }
    if (!ct.ptr || ct.len < 16 || strncasecmp(ct.ptr, "application/json", 16) != 0 ||
        (ct.len > 16 && ct.ptr[16] != ';' && ct.ptr[16] != ' ')) {
        api_error(r, 415, "unsupported_media_type", "the body must be application/json");
        return NULL;
    }
    if (r->body_len > JSON_BODY_MAX) {
        api_error(r, 413, "payload_too_large", "a JSON body is at most %u bytes", JSON_BODY_MAX);
        return NULL;
    }
    if (!(j = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &je))) {
        api_error(r, 400, "invalid_body", "the body is not JSON: line %d, column %d: %s", je.line, je.column,
                  je.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        api_error(r, 400, "invalid_body", "the body must be a JSON object");
        return NULL;
    }
    json_object_foreach(j, k, v)
    {
        size_t i;
        char list[256] = "";
        for (i = 0; allowed[i] && strcmp(allowed[i], k) != 0; i++)
            ;
        if (allowed[i])
            continue;
        for (i = 0; allowed[i]; i++) {
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", allowed[i]);
        }
        api_error(r, 400, "invalid_body", "member \"%.60s\": unknown; allowed: %s", k, list);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Member name of o as a string into *out (absent or null: left as is);
 * 0 after answering 400 for another type. */
static int member_str(lia__req *r, json_t *o, const char *name, const char **out)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v))
        return 1;
    if (!json_is_string(v)) {
        api_error(r, 400, "invalid_body", "member \"%s\": a string", name);
        return 0;
    }
    *out = json_string_value(v);
    return 1;
}

/* A list member (countries, sectors): an array of strings or one string
 * "KH,TH", as text "KH,TH" in buf. */
static int member_list(lia__req *r, json_t *o, const char *name, lia_buf *buf, const char **out)
{
    json_t *v = json_object_get(o, name), *x;
    size_t i;
    if (!v || json_is_null(v))
        return 1;
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return 1;
    }
    if (!json_is_array(v)) {
        api_error(r, 400, "invalid_body", "member \"%s\": an array of strings", name);
        return 0;
    }
    lia_buf_reset(buf);
    json_array_foreach(v, i, x)
    {
        const char *t = json_string_value(x);
        if (!t || !*t || strchr(t, ',')) {
            api_error(r, 400, "invalid_body", "member \"%s\": item %zu is not a name", name, i);
            return 0;
        }
        lia_buf_printf(buf, "%s%s", i ? "," : "", t);
    }
    if (buf->err) {
        api_error(r, 400, "invalid_body", "member \"%s\": longer than %u bytes", name, LIA_INCIDENT_TEXT_MAX);
        return 0;
    }
    *out = lia_buf_cstr(buf);
    return 1;
}

/* A store error of a change: 404 for what does not exist, 409 for a
 * refused transition, 400 for a bad value (naming it), else the server's. */
static void change_error(lia__req *r, int rc, const lia_error *e)
{
    char m[600];
    if (rc == LIA_ENOTFOUND) {
        api_error(r, 404, "not_found", "%s%s%s", e->field, e->field[0] ? ": " : "", e->reason);
        return;
    }
    if (rc == LIA_ESTATE || rc == LIA_EINVAL || rc == LIA_ELIMIT || rc == LIA_EEXIST) {
        lia_error_format(e, m, sizeof m);
        api_error(r, rc == LIA_ESTATE || rc == LIA_EEXIST ? 409 : 400,
                  rc == LIA_ESTATE   ? "invalid_transition"
                  : rc == LIA_EEXIST ? "conflict"
                                     : "invalid_body",
                  "%s", m);
        return;
    }
    lia__req_store_error(r, e);
}

/* After a change, the incident as GET answers it, with status. */
static void answer_detail(lia__req *r, const caller *c, int64_t id, int status)
{
    r->nargs = 0;
    get_incident(r, c, id, NULL, 0);
    if (r->status == 200)
        r->status = status;
}

/* POST /incidents: {"title", "description", "classification", "severity",
 * "tlp", "countries", "sectors", "owner", "recipients"}; 201 with it. */
static void create_incident(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    static const char *const allowed[] = {"title",     "description", "classification", "severity",   "tlp",
                                          "countries", "sectors",     "owner",          "recipients", NULL};
    const char *sev = NULL, *rv[MAX_RECIPIENTS];
    lia_buf cc, sec;
    lia_incident in;
    lia_error e;
    actor who;
    json_t *o, *rs, *x;
    size_t nr = 0, i;
    int rc;
    (void)id;
    (void)rcpt;
    if (!own_writer(r, c, "creating an incident") || !(o = body_object(r, allowed)))
        return;
    lia_buf_init(&cc, LIA_INCIDENT_TEXT_MAX);
    lia_buf_init(&sec, LIA_INCIDENT_TEXT_MAX);
    lia_error_clear(&e);
    memset(&in, 0, sizeof in);
    in.severity = LIA_SEV_MEDIUM;
    if (!member_str(r, o, "title", &in.title) || !member_str(r, o, "description", &in.description) ||
        !member_str(r, o, "classification", &in.classification) || !member_str(r, o, "severity", &sev) ||
        !member_str(r, o, "tlp", &in.tlp) || !member_str(r, o, "owner", &in.owner) ||
        !member_list(r, o, "countries", &cc, &in.countries) ||
        !member_list(r, o, "sectors", &sec, &in.sectors))
        goto done;
    if (!in.title) {
        api_error(r, 400, "invalid_body", "member \"title\": required");
        goto done;
    }
    if (sev && lia_severity_parse(sev, &in.severity, &e)) {
        change_error(r, LIA_EINVAL, &e);
        goto done;
    }
    if (!in.owner)
        in.owner = r->who.user;
    if ((rs = json_object_get(o, "recipients")) && !json_is_null(rs)) {
        if (!json_is_array(rs) || json_array_size(rs) > MAX_RECIPIENTS) {
            api_error(r, 400, "invalid_body",
                      "member \"recipients\": an array of at most %d partner or owner ids", MAX_RECIPIENTS);
            goto done;
        }
        json_array_foreach(rs, i, x)
        {
            if (!json_is_string(x)) {
                api_error(r, 400, "invalid_body", "member \"recipients\": item %zu is not a string", i);
                goto done;
            }
            rv[nr++] = json_string_value(x);
        }
    }
    actor_of(r, c, &who);
    if ((rc = lia_incident_create(r->store, &in, rv, nr, NULL, 0, &who.a, &id, &e))) {
        change_error(r, rc, &e);
        goto done;
    }
    answer_detail(r, c, id, 201);
    {
        char loc[64];
        snprintf(loc, sizeof loc, PREFIX "/incidents/%lld", (long long)id);
        lia__req_add_header(r, "Location", loc);
    }
done:
    json_decref(o);
    lia_buf_free(&cc);
    lia_buf_free(&sec);
}

/* PATCH /incidents/{id}: the members to change, as the CLI's incident
 * update; a status change through the transition table (409 naming what
 * is allowed). 200 with the incident. */
static void update_incident(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    static const char *const allowed[] = {"title",  "description", "classification", "severity",
                                          "tlp",    "countries",   "sectors",        "owner",
                                          "status", "merged_into", "waiting",        NULL};
    lia_incident_change ch = LIA_INCIDENT_CHANGE_KEEP;
    const char *sev = NULL, *st = NULL;
    lia_buf cc, sec;
    lia_error e;
    actor who;
    json_t *o, *v;
    int rc, yes;
    (void)rcpt;
    lia_error_clear(&e);
    if (!c->own) {
        /* a partner: 404 for what it may not see, 403 for what it may */
        if ((rc = may_see(r, c, id, &yes, &e)))
            lia__req_store_error(r, &e);
        else if (!yes)
            not_found(r, id);
        else
            own_writer(r, c, "changing an incident");
        return;
    }
    if (!own_writer(r, c, "changing an incident") || !(o = body_object(r, allowed)))
        return;
    lia_buf_init(&cc, LIA_INCIDENT_TEXT_MAX);
    lia_buf_init(&sec, LIA_INCIDENT_TEXT_MAX);
    if (!member_str(r, o, "title", &ch.title) || !member_str(r, o, "description", &ch.description) ||
        !member_str(r, o, "classification", &ch.classification) || !member_str(r, o, "severity", &sev) ||
        !member_str(r, o, "tlp", &ch.tlp) || !member_str(r, o, "owner", &ch.owner) ||
        !member_str(r, o, "status", &st) || !member_list(r, o, "countries", &cc, &ch.countries) ||
        !member_list(r, o, "sectors", &sec, &ch.sectors))
        goto done;
    if (sev) {
        lia_severity s;
        if (lia_severity_parse(sev, &s, &e)) {
            change_error(r, LIA_EINVAL, &e);
            goto done;
        }
        ch.severity = (int)s;
    }
    if (st) {
        lia_incident_status s;
        if (lia_incident_status_parse(st, &s, &e)) {
            change_error(r, LIA_EINVAL, &e);
            goto done;
        }
        ch.status = (int)s;
    }
    if ((v = json_object_get(o, "merged_into")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            api_error(r, 400, "invalid_body", "member \"merged_into\": an incident id");
            goto done;
        }
        ch.merged_into = json_integer_value(v);
    }
    if ((v = json_object_get(o, "waiting")) && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            api_error(r, 400, "invalid_body", "member \"waiting\": true or false");
            goto done;
        }
        ch.waiting = json_is_true(v);
    }
    actor_of(r, c, &who);
    if ((rc = lia_incident_update(r->store, id, &ch, &who.a, &e))) {
        change_error(r, rc, &e);
        goto done;
    }
    answer_detail(r, c, id, 200);
done:
    json_decref(o);
    lia_buf_free(&cc);
    lia_buf_free(&sec);
}

/* POST /incidents/{id}/comments: {"body", "visibility"}. Our team chooses
 * the visibility (internal by default); a partner's comment is shared
 * between it and us ("shared:PARTY"), whatever else it asks. 201 with the
 * incident. */
static void add_comment(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    static const char *const allowed[] = {"body", "visibility", NULL};
    const char *body = NULL, *vis = NULL;
    char mine[80];
    lia_error e;
    actor who;
    json_t *o;
    int rc, yes;
    (void)rcpt;
    lia_error_clear(&e);
    if ((rc = may_see(r, c, id, &yes, &e))) {
        lia__req_store_error(r, &e);
        return;
    }
    if (!yes) {
        not_found(r, id);
        return;
    }
    if (c->own && !own_writer(r, c, "commenting"))
        return;
    if (!(o = body_object(r, allowed)))
        return;
    if (!member_str(r, o, "body", &body) || !member_str(r, o, "visibility", &vis))
        goto done;
    if (!body || !*body) {
        api_error(r, 400, "invalid_body", "member \"body\": required, not empty");
        goto done;
    }
    if (!c->own) {
        snprintf(mine, sizeof mine, "shared:%s", c->party);
        if (vis && strcmp(vis, mine) != 0) {
            api_error(r, 400, "invalid_body",
                      "member \"visibility\": a partner's comment is shared with the incident's team only "
                      "(%s); leave it out",
                      mine);
            goto done;
        }
        vis = mine;
    }
    actor_of(r, c, &who);
    if ((rc = lia_incident_comment(r->store, id, vis ? vis : "internal", body, &who.a, NULL, &e))) {
        change_error(r, rc, &e);
        goto done;
    }
    answer_detail(r, c, id, 201);
done:
    json_decref(o);
}

/* POST /incidents/{id}/split: {"events": [event ids], "title"} (our team):
 * a new incident takes those events of this one, as `liaison incident
 * split`; 201 with the new incident, Location naming it. */
static void split_incident(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    static const char *const allowed[] = {"events", "title", NULL};
    const char *title = NULL;
    int64_t *ids = NULL, nid = 0;
    lia_incident inc;
    lia_buf hold;
    lia_error e;
    actor who;
    json_t *o, *ev, *x;
    size_t i, n;
    int rc, yes;
    char loc[64];
    (void)rcpt;
    lia_error_clear(&e);
    if (!c->own) { /* a partner: 404 for what it may not see, 403 for what it may */
        if ((rc = may_see(r, c, id, &yes, &e)))
            lia__req_store_error(r, &e);
        else if (!yes)
            not_found(r, id);
        else
            own_writer(r, c, "splitting an incident");
        return;
    }
    if (!own_writer(r, c, "splitting an incident") || !(o = body_object(r, allowed)))
        return;
    lia_buf_init(&hold, 0);
    if (!member_str(r, o, "title", &title))
        goto done;
    ev = json_object_get(o, "events");
    if (!json_is_array(ev) || !(n = json_array_size(ev)) || n > SPLIT_MAX) {
        api_error(r, 400, "invalid_body", "member \"events\": required, an array of 1 to %d event ids",
                  SPLIT_MAX);
        goto done;
    }
    if (!(ids = malloc(n * sizeof *ids))) {
        api_error(r, 500, "internal", "out of memory");
        goto done;
    }
    json_array_foreach(ev, i, x)
    {
        if (!json_is_integer(x) || json_integer_value(x) <= 0) {
            api_error(r, 400, "invalid_body", "member \"events\": item %zu is not an event id", i);
            goto done;
        }
        ids[i] = json_integer_value(x);
    }
    if ((rc = lia_incident_get(r->store, id, &inc, &hold, &e))) {
        if (rc == LIA_ENOTFOUND)
            not_found(r, id);
        else
            lia__req_store_error(r, &e);
        goto done;
    }
    actor_of(r, c, &who);
    if ((rc = lia_incident_split(r->store, id, ids, n, title, &who.a, &nid, &e))) {
        if (rc == LIA_ENOTFOUND) { /* an event not linked to the incident: the body's fault */
            char m[600];
            lia_error_format(&e, m, sizeof m);
            api_error(r, 400, "invalid_body", "member \"events\": %s", m);
        } else {
            change_error(r, rc, &e);
        }
        goto done;
    }
    answer_detail(r, c, nid, 201);
    snprintf(loc, sizeof loc, PREFIX "/incidents/%lld", (long long)nid);
    lia__req_add_header(r, "Location", loc);
done:
    free(ids);
    lia_buf_free(&hold);
    json_decref(o);
}

/* POST /incidents/{id}/attachments?name=N[&visibility=V]: the body is the
 * file, its Content-Type the media type (application/octet-stream when
 * none). Our team chooses the visibility (internal by default); a
 * partner's attachment is shared between it and us. 201 with the
 * attachment (200 when the same bytes were attached before). */
static void add_attachment(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    lia_slice ct = lia__req_header(r, "Content-Type");
    const char *name = NULL, *vis = NULL;
    char mine[80], type[128];
    att_keep a;
    lia_error e;
    actor who;
    int64_t aid = 0;
    int rc, yes, existed = 0;
    lia_error_clear(&e);
    for (size_t i = 0; i < r->nargs; i++) {
        lia_slice k = r->args[i].name;
        const char **dst = is_name(k, "name") ? &name : is_name(k, "visibility") ? &vis : NULL;
        if (!dst || *dst)
            RET_ERR(r, "parameter %.*s: %s; an attachment takes name and visibility",
                    (int)(k.len > 60 ? 60 : k.len), k.ptr, dst ? "given more than once" : "unknown");
        *dst = r->args[i].value.ptr;
    }
    if ((rc = may_see(r, c, id, &yes, &e))) {
        lia__req_store_error(r, &e);
        return;
    }
    if (!yes) {
        not_found(r, id);
        return;
    }
    if (c->own && !own_writer(r, c, "attaching"))
        return;
    if (!name)
        RET_ERR(r, "parameter name: required (the file's name)");
    if (!c->own) {
        snprintf(mine, sizeof mine, "shared:%s", c->party);
        if (vis && strcmp(vis, mine) != 0)
            RET_ERR(
                r,
                "parameter visibility: a partner's attachment is shared with the incident's team only (%s); "
                "leave it out",
                mine);
        vis = mine;
    }
    /* the media type without its parameters (; charset=...) */
    snprintf(type, sizeof type, "%.*s", ct.ptr ? (int)(ct.len < sizeof type ? ct.len : sizeof type - 1) : 0,
             ct.ptr ? ct.ptr : "");
    type[strcspn(type, "; ")] = '\0';
    actor_of(r, c, &who);
    if ((rc = lia_incident_attach(r->store, id, name, type[0] ? type : NULL, r->body, r->body_len,
                                  vis ? vis : "internal", &who.a, &aid, &existed, &e))) {
        if (rc == LIA_EINVAL)
            api_error(r, 400, "invalid_parameter", "%s: %s", e.field[0] ? e.field : "attachment", e.reason);
        else if (rc == LIA_ELIMIT)
            api_error(r, 413, "payload_too_large", "%s", e.reason);
        else
            change_error(r, rc, &e);
        return;
    }
    memset(&a, 0, sizeof a);
    if ((rc = lia_incident_attachment_get(r->store, id, aid, keep_attachment, &a, NULL, &e))) {
        lia__req_store_error(r, &e);
        return;
    }
    answer(r, attachment_json(&a.a));
    if (r->status == 200 && !existed)
        r->status = 201;
}

/* GET /incidents/{id}/attachments/{n}: the bytes, checked against their
 * SHA-256, as a download. */
static void get_attachment(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    char disp[900];
    att_keep a;
    lia_error e;
    int rc, yes;
    size_t k;
    lia_error_clear(&e);
    if (r->nargs)
        RET_ERR(r, "parameter %.*s: unknown; an attachment takes none",
                (int)(r->args[0].name.len > 60 ? 60 : r->args[0].name.len), r->args[0].name.ptr);
    if ((rc = may_see(r, c, id, &yes, &e))) {
        lia__req_store_error(r, &e);
        return;
    }
    if (!yes) {
        not_found(r, id);
        return;
    }
    memset(&a, 0, sizeof a);
    lia_buf_reset(&r->out);
    rc = lia_incident_attachment_get(r->store, id, sub, keep_attachment, &a, &r->out, &e);
    if (rc == LIA_OK && !visible(c, a.a.visibility))
        rc = LIA_ENOTFOUND; /* internal, or shared with another recipient: as if missing */
    if (rc == LIA_ENOTFOUND) {
        api_error(r, 404, "not_found", "incident %lld has no attachment %lld", (long long)id, (long long)sub);
        return;
    }
    if (rc) {
        lia_buf_reset(&r->out);
        lia__req_store_error(r, &e);
        return;
    }
    /* RFC 6266 filename*, percent-encoded UTF-8 */
    k = (size_t)snprintf(disp, sizeof disp, "attachment; filename*=UTF-8''");
    for (const unsigned char *p = (const unsigned char *)a.name; *p && k + 4 < sizeof disp; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("!#$&+-.^_`|~", *p))
            disp[k++] = (char)*p;
        else
            k += (size_t)snprintf(disp + k, sizeof disp - k, "%%%02X", *p);
    }
    disp[k] = '\0';
    /* always a download, never rendered by the browser in our origin (the
     * console's): the recorded media type travels in its own header */
    r->status = 200;
    r->ctype = "application/octet-stream";
    lia__req_add_header(r, "X-Attachment-SHA256", a.a.sha256);
    lia__req_add_header(r, "X-Attachment-Media-Type", a.type);
    /* a long non-ASCII name can outgrow the header storage: a download still */
    if (lia__req_add_header(r, "Content-Disposition", disp) != LIA_OK)
        lia__req_add_header(r, "Content-Disposition", "attachment");
}

/* ---- GET /incidents/{id}/export ------------------------------------------------------------ */

typedef struct xsink {
    lia_buf *b;
    int over; /* the document outgrew LIA_API_EXPORT_MAX */
} xsink;

static int export_sink(void *ud, const char *p, size_t n)
{
    xsink *x = ud;
    if (n > LIA_API_EXPORT_MAX - x->b->len) {
        x->over = 1;
        return LIA_ELIMIT;
    }
    return lia_buf_append(x->b, p, n);
}

/* GET /incidents/{id}/export?format=stix|iodef (default stix): what
 * `liaison incident export ID FORMAT` writes, through lia_incident_export,
 * as a download. The producer is the routing configuration's (as for TAXII
 * deliveries), the IODEF contact e-mail its mail_from. Our team: every
 * linked event, every hand-off; a partner or constituent the incident only
 * when it sees it (else 404 as a missing one), only the linked events GET
 * /events/{id} shows it, redacted as there, only its own hand-off. */
static void export_incident(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    lia_incident_export_opts o;
    lia_incident_export_result res;
    lia_route *rt = NULL;
    lia_error e;
    xsink x = {&r->out, 0};
    const char *fmt = "stix";
    char disp[96], num[32];
    int stix, rc, yes;
    (void)rcpt;
    (void)sub;
    lia_error_clear(&e);
    for (size_t i = 0; i < r->nargs; i++) {
        lia_slice k = r->args[i].name;
        const char *v = r->args[i].value.ptr;
        if (!is_name(k, "format"))
            RET_ERR(r, "parameter %.*s: unknown; an export takes format (stix or iodef)",
                    (int)(k.len > 60 ? 60 : k.len), k.ptr);
        if (i) /* the one parameter, again */
            RET_ERR(r, "parameter format: given more than once");
        if (strcmp(v, "stix") != 0 && strcmp(v, "iodef") != 0)
            RET_ERR(r,
                    "parameter format: \"%.60s\": stix (a STIX 2.1 bundle) or iodef (an IODEF v2 document)",
                    v);
        fmt = v;
    }
    stix = strcmp(fmt, "stix") == 0;
    if ((rc = may_see(r, c, id, &yes, &e)))
        goto store;
    if (!yes) {
        not_found(r, id);
        return;
    }
    if ((rc = lia_route_load(r->store, &rt, &e)))
        goto store;
    memset(&o, 0, sizeof o);
    o.format = fmt;
    o.producer = lia__setting_text(LIA_SCOPE_ROUTE, "producer", lia_route_setting(rt, "producer"));
    o.contact_email = lia_route_setting(rt, "mail_from");
    o.max_tlp = -1;
    o.route = rt;
    if (!c->own) {
        o.recipient = c->party;
        o.recipient_kind = r->who.org_kind == LIA_ORG_CONSTITUENT ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER;
    }
    lia_buf_reset(&r->out);
    rc = lia_incident_export(r->store, id, &o, export_sink, &x, &res, &e);
    lia_route_destroy(rt);
    if (rc == LIA_ENOTFOUND) {
        not_found(r, id);
        return;
    }
    if (rc && x.over) {
        api_error(r, 500, "internal",
                  "the export of incident %lld is larger than %u MiB, the API's limit: export it with "
                  "liaison incident export %lld %s",
                  (long long)id, LIA_API_EXPORT_MAX >> 20, (long long)id, fmt);
        return;
    }
    if (rc && r->out.err) {
        api_error(r, 500, "internal", "out of memory writing the export of incident %lld", (long long)id);
        return;
    }
    if (rc) {
        lia_buf_reset(&r->out);
        lia__req_store_error(r, &e);
        return;
    }
    r->status = 200;
    r->ctype = stix ? LIA_MEDIA_STIX21_STR : "application/xml";
    snprintf(disp, sizeof disp, "attachment; filename=\"liaison-incident-%lld.%s\"", (long long)id,
             stix ? "json" : "xml");
    lia__req_add_header(r, "Content-Disposition", disp);
    snprintf(num, sizeof num, "%llu", (unsigned long long)res.events);
    lia__req_add_header(r, "X-Export-Events", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)res.skipped);
    lia__req_add_header(r, "X-Export-Skipped", num);
    if (c->own) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)res.missing);
        lia__req_add_header(r, "X-Export-Missing", num);
        snprintf(num, sizeof num, "%llu", (unsigned long long)res.pruned);
        lia__req_add_header(r, "X-Export-Pruned", num);
    }
    return;
store:
    lia__req_store_error(r, &e);
}

/* POST /incidents/{id}/handoffs/{recipient}: {"state", "reason"}. A
 * partner moves its own hand-off to acknowledged, resolved or rejected
 * (with a reason); our team moves any hand-off anywhere the table allows
 * (a phone call recorded, a hand-off withdrawn). 409 naming what is
 * allowed; 200 with the incident. */
static void set_handoff(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    static const char *const allowed[] = {"state", "reason", NULL};
    const char *st = NULL, *reason = NULL;
    lia_handoff_state to;
    lia_error e;
    actor who;
    json_t *o;
    int rc, yes;
    lia_error_clear(&e);
    if ((rc = may_see(r, c, id, &yes, &e))) {
        lia__req_store_error(r, &e);
        return;
    }
    if (!yes || (!c->own && strcmp(rcpt, c->party) != 0)) {
        /* another recipient's hand-off: as absent as an unseen incident */
        api_error(r, 404, "not_found", "no hand-off of incident %lld to %s", (long long)id, rcpt);
        return;
    }
    if (c->own && !own_writer(r, c, "changing a hand-off"))
        return;
    if (!(o = body_object(r, allowed)))
        return;
    if (!member_str(r, o, "state", &st) || !member_str(r, o, "reason", &reason))
        goto done;
    if (!st) {
        api_error(r, 400, "invalid_body", "member \"state\": required (acknowledged, resolved or rejected)");
        goto done;
    }
    if (lia_handoff_state_parse(st, &to, &e)) {
        change_error(r, LIA_EINVAL, &e);
        goto done;
    }
    if (!c->own && to != LIA_HO_ACKNOWLEDGED && to != LIA_HO_RESOLVED && to != LIA_HO_REJECTED) {
        api_error(r, 403, "forbidden",
                  "a recipient moves its hand-off to acknowledged, resolved or rejected");
        goto done;
    }
    actor_of(r, c, &who);
    if ((rc = lia_handoff_set(r->store, id, rcpt, to, reason, &who.a, &e))) {
        change_error(r, rc, &e);
        goto done;
    }
    answer_detail(r, c, id, 200);
done:
    json_decref(o);
}

/* ---- GET /metrics --------------------------------------------------------------------------- */

/* What `liaison metrics --format json` prints: our team only (it names
 * every partner). ?since= (an RFC 3339 time) and ?at= as the CLI's. */
static void metrics(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    int64_t since = 0, at = lia__now_us();
    lia_incident_metrics m;
    lia_error e;
    int rc;
    (void)id;
    (void)rcpt;
    if (!c->own) {
        api_error(r, 403, "forbidden", "metrics are for our own team: they name every partner");
        return;
    }
    for (size_t i = 0; i < r->nargs; i++) {
        const lia_http_header *a = &r->args[i];
        const char *why = NULL;
        int64_t *dst = is_name(a->name, "since") ? &since : is_name(a->name, "at") ? &at : NULL;
        if (!dst)
            RET_ERR(r, "parameter %.*s: unknown; allowed: since, at",
                    (int)(a->name.len > 60 ? 60 : a->name.len), a->name.ptr);
        if (lia_parse_time(a->value.ptr, a->value.len, dst, &why))
            RET_ERR(r, "parameter %.*s: %s (an RFC 3339 time)", (int)a->name.len, a->name.ptr,
                    why ? why : "not a time");
    }
    lia_error_clear(&e);
    if ((rc = lia_incident_metrics_get(r->store, since, at, &m, &e))) {
        lia__req_store_error(r, &e);
        return;
    }
    lia_incident_metrics_json(&m, &r->out);
    lia_incident_metrics_free(&m);
    if (r->out.err) {
        api_error(r, 500, "internal", "the metrics are larger than the server's response limit");
        return;
    }
    r->status = 200;
    r->ctype = "application/json";
}

/* ---- events, the directory, statistics ------------------------------------------------------ */

/* What a partner or constituent reads of the events: those routed to the
 * party its organisation is linked to (a decision "deliver"), the one TLP
 * policy checked again (a ceiling lowered since is obeyed), each copy
 * redacted for it as its digest is (route/redact.c). Our own team reads
 * every event whole, with its report and line. */
typedef struct view {
    const caller *c;
    char rcpt[80]; /* "partner:ID" / "owner:ID" */
    lia_route *rt;
    int idx; /* the party in rt; -1: linked to none, or gone from the directory */
    lia_recipient r;
    lia_event copy;
} view;

static int view_open(lia__req *r, const caller *c, view *v, lia_error *e)
{
    int kind = r->who.org_kind == LIA_ORG_CONSTITUENT ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER, rc;
    memset(v, 0, sizeof *v);
    v->c = c;
    v->idx = -1;
    lia_event_init(&v->copy);
    if (c->own || !c->party[0])
        return LIA_OK;
    snprintf(v->rcpt, sizeof v->rcpt, "%s:%s", lia_party_kind_name(kind), c->party);
    if ((rc = lia_route_load(r->store, &v->rt, e)))
        return rc;
    if ((v->idx = lia__route_party_find(v->rt, kind, c->party)) >= 0)
        lia_route_recipient(v->rt, v->idx, &v->r);
    return LIA_OK;
}

static void view_close(view *v)
{
    if (v->rt)
        lia_route_destroy(v->rt);
    lia_event_free(&v->copy);
}

/* The caller sees no event at all. */
static int view_blind(const view *v)
{
    return !v->c->own && v->idx < 0;
}

/* Append ev to out as the caller may see it: 1, or 0 if withheld, or an
 * error code. */
static int view_event(view *v, const lia_event *ev, lia_buf *out, lia_error *e)
{
    const lia_event *show = ev;
    lia_buf one;
    int rc;
    if (!v->c->own) {
        int owner = lia_route_owner(v->rt, ev, NULL);
        if (!lia__tlp_allows(&v->r, ev, owner >= 0 ? lia_route_party(v->rt, owner)->id : NULL, NULL))
            return 0;
        if ((rc = lia__route_redact(v->rt, v->idx, ev, &v->copy, e)))
            return rc;
        show = &v->copy;
    }
    lia_buf_printf(out, "{\"event.id\":%lld", (long long)ev->id);
    if (v->c->own)
        lia_buf_printf(out, ",\"report.id\":%lld,\"report.line\":%llu", (long long)ev->report_id,
                       (unsigned long long)ev->line);
    lia_buf_init(&one, LIA_MAX_EVENT_TEXT * 2);
    if ((rc = lia_event_to_json(show, &one)) == LIA_OK && one.len > 2)
        lia_buf_putc(out, ',');
    if (rc == LIA_OK)
        lia_buf_append(out, one.ptr + 1, one.len - 1); /* the fields and the closing brace */
    lia_buf_free(&one);
    if (rc)
        return lia_error_set(e, rc, "event.id", NULL, 0, "event %lld cannot be written as JSON",
                             (long long)ev->id);
    return 1;
}

/* The event filters of the CLI (docs/cli.md, "events"): their names, fixed
 * order (the cursor binds their values in it). */
static const char *const event_filters[] = {"since", "until", "cc", "asn", "ip", "class", "feed", "report"};
#define NFILTERS (sizeof event_filters / sizeof event_filters[0])

/* A time: RFC 3339 or a day (2026-12-01, its midnight UTC). */
static int parse_when(const char *v, int64_t *us, const char **why)
{
    char tmp[32];
    if (strlen(v) == 10) {
        snprintf(tmp, sizeof tmp, "%sT00:00:00Z", v);
        v = tmp;
    }
    return lia_parse_time(v, strlen(v), us, why);
}

/* One filter parameter into q: 1 if name is a filter, 0 if not, -1 after
 * answering 400. */
static int filter_arg(lia__req *r, lia_slice k, const char *v, lia_query *q)
{
    const char *why = NULL;
    uint64_t id;
    if (is_name(k, "since") || is_name(k, "until")) {
        if (parse_when(v, is_name(k, "since") ? &q->since_us : &q->until_us, &why)) {
            api_error(r, 400, "invalid_parameter",
                      "parameter %.*s: \"%.60s\": %s (RFC 3339, or a day 2026-12-01)", (int)k.len, k.ptr, v,
                      why ? why : "not a time");
            return -1;
        }
    } else if (is_name(k, "cc")) {
        if (lia_parse_cc(v, strlen(v), q->cc, &why)) {
            api_error(r, 400, "invalid_parameter", "parameter cc: \"%.60s\": %s", v,
                      why ? why : "not a country");
            return -1;
        }
        q->cc[2] = '\0';
    } else if (is_name(k, "asn")) {
        if (lia_parse_asn(v, strlen(v), &q->asn, &why)) {
            api_error(r, 400, "invalid_parameter", "parameter asn: \"%.60s\": %s", v,
                      why ? why : "not an ASN");
            return -1;
        }
    } else if (is_name(k, "ip")) {
        if (lia_parse_cidr(v, strlen(v), &q->ip, &why)) {
            api_error(r, 400, "invalid_parameter",
                      "parameter ip: \"%.60s\": %s (an address or a CIDR network)", v,
                      why ? why : "not an address");
            return -1;
        }
        q->has_ip = 1;
    } else if (is_name(k, "class")) {
        if (lia_class_type_lookup(v, strlen(v)) < 0 && lia_class_taxonomy_lookup(v, strlen(v)) < 0) {
            api_error(r, 400, "invalid_parameter",
                      "parameter class: \"%.60s\": neither an RSIT taxonomy nor a type", v);
            return -1;
        }
        q->classification = v;
    } else if (is_name(k, "feed")) {
        q->feed = v;
    } else if (is_name(k, "report")) {
        if (!parse_id(v, strlen(v), (int64_t *)&id)) {
            api_error(r, 400, "invalid_parameter", "parameter report: \"%.60s\": a report number", v);
            return -1;
        }
        q->report_id = (int64_t)id;
    } else {
        return 0;
    }
    return 1;
}

/* The query's filters from the request, and bind (the caller and every
 * filter's value, for the cursor); other parameters than the filters and
 * those of more[] are 400. 0, or -1 after answering. */
static int query_of(lia__req *r, lia_query *q, const char *const *more, char *bind, size_t nbind)
{
    const char *val[NFILTERS] = {0};
    size_t used;
    memset(q, 0, sizeof *q);
    for (size_t i = 0; i < r->nargs; i++) {
        lia_slice k = r->args[i].name;
        const char *v = r->args[i].value.ptr;
        int f, known = 0;
        for (size_t j = 0; j < i; j++)
            if (r->args[j].name.len == k.len && !memcmp(r->args[j].name.ptr, k.ptr, k.len)) {
                api_error(r, 400, "invalid_parameter", "parameter %.*s: given more than once", (int)k.len,
                          k.ptr);
                return -1;
            }
        if ((f = filter_arg(r, k, v, q)) < 0)
            return -1;
        for (size_t j = 0; f && j < NFILTERS; j++)
            if (is_name(k, event_filters[j]))
                val[j] = v;
        for (size_t j = 0; !f && more[j]; j++)
            known |= is_name(k, more[j]);
        if (!f && !known) {
            char names[256] = "";
            for (size_t j = 0; j < NFILTERS; j++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? ", " : "",
                         event_filters[j]);
            for (size_t j = 0; more[j]; j++)
                snprintf(names + strlen(names), sizeof names - strlen(names), ", %s", more[j]);
            api_error(r, 400, "invalid_parameter", "parameter %.*s: unknown; allowed: %s",
                      (int)(k.len > 60 ? 60 : k.len), k.ptr, names);
            return -1;
        }
    }
    used = (size_t)snprintf(bind, nbind, "%lld", (long long)r->who.org_id);
    for (size_t j = 0; j < NFILTERS && used < nbind; j++)
        used += (size_t)snprintf(bind + used, nbind - used, "\n%s", val[j] ? val[j] : "");
    return 0;
}

/* The value of parameter name, or NULL. */
static const char *arg_of(lia__req *r, const char *name)
{
    for (size_t i = 0; i < r->nargs; i++)
        if (is_name(r->args[i].name, name))
            return r->args[i].value.ptr;
    return NULL;
}

/* limit=N (1 .. max, default dflt): 0, or -1 after answering. */
static int limit_of(lia__req *r, uint64_t dflt, uint64_t max, uint64_t *out)
{
    const char *v = arg_of(r, "limit");
    int64_t n;
    *out = dflt;
    if (!v)
        return 0;
    if (!parse_id(v, strlen(v), &n) || (uint64_t)n > max) {
        api_error(r, 400, "invalid_parameter", "parameter limit: \"%.60s\": a whole number from 1 to %llu", v,
                  (unsigned long long)max);
        return -1;
    }
    *out = (uint64_t)n;
    return 0;
}

typedef struct epage {
    view *v;
    lia__req *r;
    lia_error *e;
    uint64_t n, limit;
    int64_t last; /* the id of the last event looked at (shown or withheld) */
    int more, rc;
} epage;

static int epage_cb(void *ud, const lia_event *ev)
{
    epage *p = ud;
    int rc;
    if (p->n == p->limit) { /* one beyond the page: there is a next page */
        p->more = 1;
        return 1;
    }
    if (p->n)
        lia_buf_putc(&p->r->out, ',');
    if ((rc = view_event(p->v, ev, &p->r->out, p->e)) < 0 || rc > 1) {
        p->rc = rc;
        return 1;
    }
    if (rc == 0 && p->n) /* withheld: take the comma back */
        p->r->out.len--;
    p->n += (uint64_t)rc;
    p->last = ev->id;
    return 0;
}

static void list_events(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    static const char *const more[] = {"limit", "next", NULL};
    const char *next;
    char bind[1024], cur[64];
    cursor_key ckey;
    lia_query q;
    lia_error e;
    view v;
    epage p;
    int rc;
    (void)id;
    (void)rcpt;
    memset(&p, 0, sizeof p);
    if (query_of(r, &q, more, bind, sizeof bind) ||
        limit_of(r, LIA_API_PAGE_DEFAULT, LIA_API_PAGE_MAX, &p.limit))
        return;
    if (cursor_ready(r, &ckey))
        return;
    if ((next = arg_of(r, "next")) && !cursor_read(&ckey, next, bind, &q.after_id)) {
        api_error(r, 400, "invalid_cursor",
                  "parameter next: not a cursor of this query (it was changed, belongs to other filters or "
                  "or another caller): start again without next");
        return;
    }
    lia_error_clear(&e);
    if ((rc = view_open(r, c, &v, &e))) {
        lia__req_store_error(r, &e);
        return;
    }
    p.v = &v;
    p.r = r;
    p.e = &e;
    q.recipient = c->own ? NULL : v.rcpt;
    lia_buf_reset(&r->out);
    lia_buf_puts(&r->out, "{\"events\":[");
    if (!view_blind(&v) && (rc = lia_store_query(r->store, &q, epage_cb, &p, &e)) != LIA_OK && rc != 1)
        p.rc = rc;
    view_close(&v);
    if (p.rc) {
        lia__req_store_error(r, &e);
        return;
    }
    lia_buf_puts(&r->out, "],\"next\":");
    if (p.more) {
        cursor_make(&ckey, p.last, bind, cur, sizeof cur);
        lia_buf_json_str(&r->out, cur, strlen(cur));
    } else {
        lia_buf_puts(&r->out, "null");
    }
    lia_buf_putc(&r->out, '}');
    if (r->out.err) {
        api_error(r, 500, "internal",
                  "the page is larger than the server's response limit: ask for a smaller limit");
        return;
    }
    r->status = 200;
    r->ctype = "application/json";
}

typedef struct erows {
    lia__req *r;
    const caller *c;
    const char *only; /* the caller's recipient name, NULL: every decision */
    int delivered;    /* a decision "deliver" to only */
    int n;
} erows;

static int erow_cb(void *ud, const lia_route_row *row)
{
    erows *w = ud;
    char t[LIA_TIME_TEXT];
    if (w->only) {
        w->delivered |= !strcmp(row->recipient, w->only) && !strcmp(row->verdict, "deliver");
        return 0;
    }
    lia_buf_puts(&w->r->out, w->n++ ? "," : "");
    lia_buf_puts(&w->r->out, "{\"recipient\":");
    lia_buf_json_str(&w->r->out, row->recipient, strlen(row->recipient));
    lia_buf_printf(&w->r->out, ",\"verdict\":\"%s\",\"rule\":", row->verdict);
    lia_buf_json_str(&w->r->out, row->rule, strlen(row->rule));
    lia_buf_puts(&w->r->out, ",\"reason\":");
    lia_buf_json_str(&w->r->out, row->reason, strlen(row->reason));
    lia_time_format(row->decided_us, t, sizeof t);
    lia_buf_printf(&w->r->out, ",\"decided\":\"%s\",\"notified\":", t);
    if (row->notified_us) {
        lia_time_format(row->notified_us, t, sizeof t);
        lia_buf_printf(&w->r->out, "\"%s\"}", t);
    } else {
        lia_buf_puts(&w->r->out, "null}");
    }
    return 0;
}

typedef struct eincs {
    lia__req *r;
    const caller *c;
    int n, rc;
    lia_error *e;
} eincs;

static int einc_cb(void *ud, const lia_link *l)
{
    eincs *w = ud;
    int yes = 0;
    if ((w->rc = may_see(w->r, w->c, l->incident, &yes, w->e)))
        return 1;
    if (yes)
        lia_buf_printf(&w->r->out, "%s%lld", w->n++ ? "," : "", (long long)l->incident);
    return 0;
}

typedef struct enots {
    lia__req *r;
    int n;
} enots;

/* A notification that carried the event, as GET /events/{id} lists it. */
static int enot_cb(void *ud, const lia_route_notification *n)
{
    enots *w = ud;
    lia_buf *o = &w->r->out;
    char t[LIA_TIME_TEXT];
    lia_time_format(n->at_us, t, sizeof t);
    lia_buf_puts(o, w->n++ ? ",{\"recipient\":" : "{\"recipient\":");
    lia_buf_json_str(o, n->recipient, strlen(n->recipient));
    lia_buf_printf(o, ",\"notification\":%lld,\"channel\":", (long long)n->id);
    lia_buf_json_str(o, n->channel, strlen(n->channel));
    lia_buf_printf(o, ",\"at\":\"%s\",\"outcome\":", t);
    lia_buf_json_str(o, n->outcome, strlen(n->outcome));
    lia_buf_puts(o, ",\"to\":");
    lia_buf_json_str(o, n->to, strlen(n->to));
    lia_buf_putc(o, '}');
    return 0;
}

static void get_event(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    char ref[24];
    lia_event ev;
    lia_error e;
    erows w = {r, c, NULL, 0, 0};
    eincs inc = {r, c, 0, LIA_OK, NULL};
    view v;
    int rc;
    (void)rcpt;
    if (r->nargs) {
        api_error(r, 400, "invalid_parameter", "parameter %.*s: unknown; an event takes none",
                  (int)(r->args[0].name.len > 60 ? 60 : r->args[0].name.len), r->args[0].name.ptr);
        return;
    }
    lia_error_clear(&e);
    lia_event_init(&ev);
    if ((rc = view_open(r, c, &v, &e)))
        goto fail;
    if (view_blind(&v))
        goto missing;
    if ((rc = lia_store_event_get(r->store, id, &ev, &e)) == LIA_ENOTFOUND)
        goto missing;
    if (rc)
        goto fail;
    if (!c->own) { /* routed to it? */
        w.only = v.rcpt;
        if ((rc = lia_route_rows(r->store, id, erow_cb, &w, &e)))
            goto fail;
        if (!w.delivered)
            goto missing;
        w.only = NULL;
    }
    lia_buf_reset(&r->out);
    lia_buf_puts(&r->out, "{\"event\":");
    if ((rc = view_event(&v, &ev, &r->out, &e)) == 0)
        goto missing;
    if (rc != 1)
        goto fail;
    if (c->own) { /* where it went, and why */
        lia_buf_puts(&r->out, ",\"routing\":[");
        if ((rc = lia_route_rows(r->store, id, erow_cb, &w, &e)))
            goto fail;
        lia_buf_puts(&r->out, "],\"notifications\":[");
        {
            enots nw = {r, 0};
            if ((rc = lia_route_notifications(r->store, id, enot_cb, &nw, &e)))
                goto fail;
        }
        lia_buf_putc(&r->out, ']');
    }
    lia_buf_puts(&r->out, ",\"incidents\":[");
    snprintf(ref, sizeof ref, "%lld", (long long)id);
    inc.e = &e;
    if ((rc = lia_incident_linking(r->store, "event", ref, einc_cb, &inc, &e)) || (rc = inc.rc))
        goto fail;
    lia_buf_puts(&r->out, "]}");
    view_close(&v);
    lia_event_free(&ev);
    if (r->out.err) {
        api_error(r, 500, "internal", "the event is larger than the server's response limit");
        return;
    }
    r->status = 200;
    r->ctype = "application/json";
    return;
missing:
    view_close(&v);
    lia_event_free(&ev);
    /* the same words whether the event is missing or not the caller's */
    api_error(r, 404, "not_found", "no event %lld", (long long)id);
    return;
fail:
    view_close(&v);
    lia_event_free(&ev);
    lia__req_store_error(r, &e);
}

/* A partner or constituent asking for what is our team's about event id:
 * 403 when it may see the event (routed to it, the TLP policy allowing),
 * else 404 as for a missing event. */
static void event_own_only(lia__req *r, const caller *c, int64_t id, const char *what)
{
    erows w = {r, c, NULL, 0, 0};
    lia_event ev;
    lia_error e;
    view v;
    int rc, seen = 0;
    lia_error_clear(&e);
    lia_event_init(&ev);
    if ((rc = view_open(r, c, &v, &e)))
        goto fail;
    if (!view_blind(&v) && (rc = lia_store_event_get(r->store, id, &ev, &e)) == LIA_OK) {
        w.only = v.rcpt;
        if ((rc = lia_route_rows(r->store, id, erow_cb, &w, &e)))
            goto fail;
        if (w.delivered) {
            int owner = lia_route_owner(v.rt, &ev, NULL);
            seen = lia__tlp_allows(&v.r, &ev, owner >= 0 ? lia_route_party(v.rt, owner)->id : NULL, NULL);
        }
    } else if (rc && rc != LIA_ENOTFOUND) {
        goto fail;
    }
    view_close(&v);
    lia_event_free(&ev);
    if (seen)
        api_error(r, 403, "forbidden", "%s is for our own team", what);
    else
        api_error(r, 404, "not_found", "no event %lld", (long long)id);
    return;
fail:
    view_close(&v);
    lia_event_free(&ev);
    lia__req_store_error(r, &e);
}

typedef struct plist {
    lia__req *r;
    const caller *c;
    json_t *items;
    int oom;
} plist;

/* A directory entry as GET /partners and /owners list it: list fields as
 * arrays, agreement a boolean, the rest strings. */
static json_t *party_json(const lia_party *p)
{
    json_t *o = json_pack("{s:s}", "id", p->id);
    for (int f = 0; o && f < LIA_PF__COUNT; f++) {
        const lia_strlist *l = &p->f[f];
        json_t *val;
        if (!l->n)
            continue;
        if (f == LIA_PF_AGREEMENT || f == LIA_PF_STATS_SHARED) {
            val = json_boolean(!strcmp(l->v[0], "true"));
        } else if (lia_pfield_is_list(f)) {
            val = json_array();
            for (size_t i = 0; val && i < l->n; i++)
                json_array_append_new(val, json_string(l->v[i]));
        } else {
            val = json_string(l->v[0]);
        }
        if (!val || json_object_set_new(o, lia_pfield_name(f), val)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static int party_cb(void *ud, const lia_party *p)
{
    plist *w = ud;
    json_t *o;
    if (!w->c->own && strcmp(p->id, w->c->party) != 0)
        return 0; /* a partner or constituent sees its own entry only */
    if (!(o = party_json(p)) || json_array_append_new(w->items, o)) {
        w->oom = 1;
        return 1;
    }
    return 0;
}

static void list_parties(lia__req *r, const caller *c, int kind)
{
    const char *name = kind == LIA_PARTY_OWNER ? "owners" : "partners";
    plist w = {r, c, json_array(), 0};
    int mine = r->who.org_kind == (kind == LIA_PARTY_OWNER ? LIA_ORG_CONSTITUENT : LIA_ORG_PARTNER);
    lia_error e;
    int rc;
    if (r->nargs) {
        json_decref(w.items);
        api_error(r, 400, "invalid_parameter", "parameter %.*s: unknown; the %s take none",
                  (int)(r->args[0].name.len > 60 ? 60 : r->args[0].name.len), r->args[0].name.ptr, name);
        return;
    }
    lia_error_clear(&e);
    if (!w.items) {
        api_error(r, 500, "internal", "out of memory");
        return;
    }
    if ((c->own || (mine && c->party[0])) && (rc = lia_party_list(r->store, kind, party_cb, &w, &e))) {
        json_decref(w.items);
        lia__req_store_error(r, &e);
        return;
    }
    if (w.oom) {
        json_decref(w.items);
        api_error(r, 500, "internal", "out of memory");
        return;
    }
    answer(r, json_pack("{s:o}", name, w.items));
}

static void list_partners(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    (void)id;
    (void)rcpt;
    list_parties(r, c, LIA_PARTY_PARTNER);
}

static void list_owners(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    (void)id;
    (void)rcpt;
    list_parties(r, c, LIA_PARTY_OWNER);
}

/* ---- POST /partners, /owners; PATCH /partners/{party}, /owners/{party} ---------------------- */

/* Member name of body o into field f of p, as the CLI's FIELD=VALUE: a
 * string (a list field also takes "a,b"), an array of strings (a list
 * field), true/false (agreement), a whole number (interval, seconds); null
 * clears the field. 0 after answering 400 naming the member. */
static int party_member(lia__req *r, lia_party *p, int f, json_t *v)
{
    const char *name = lia_pfield_name(f);
    char num[32];
    lia_error e;
    size_t i;
    json_t *x;
    int rc = LIA_OK;
    lia_error_clear(&e);
    if (json_is_null(v)) {
        lia_party_clear(p, f);
        return 1;
    }
    if (json_is_string(v)) {
        rc = lia_party_add(p, f, json_string_value(v), json_string_length(v), 1, &e);
    } else if (json_is_boolean(v) && (f == LIA_PF_AGREEMENT || f == LIA_PF_STATS_SHARED)) {
        rc = lia_party_add(p, f, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5, 1, &e);
    } else if (json_is_integer(v) && f == LIA_PF_INTERVAL) {
        snprintf(num, sizeof num, "%llds", (long long)json_integer_value(v));
        rc = lia_party_add(p, f, num, strlen(num), 1, &e);
    } else if (json_is_array(v) && lia_pfield_is_list(f)) {
        lia_party_clear(p, f);
        json_array_foreach(v, i, x)
        {
            if (!json_is_string(x)) {
                api_error(r, 400, "invalid_body", "member \"%s\": item %zu is not a string", name, i);
                return 0;
            }
            if ((rc = lia_party_add(p, f, json_string_value(x), json_string_length(x), 0, &e)))
                break;
        }
    } else {
        api_error(r, 400, "invalid_body", "member \"%s\": %s", name,
                  f == LIA_PF_AGREEMENT || f == LIA_PF_STATS_SHARED ? "true or false"
                  : f == LIA_PF_INTERVAL  ? "a duration (\"1h\") or a number of seconds"
                  : lia_pfield_is_list(f) ? "an array of strings, or one string"
                                          : "a string");
        return 0;
    }
    if (rc) {
        char m[600];
        lia_error_format(&e, m, sizeof m);
        api_error(r, 400, "invalid_body", "member \"%s\": %s", name, m);
        return 0;
    }
    return 1;
}

/* Save p (replace: PATCH) as the caller, the audit record naming it;
 * answer the entry as stored, with status. */
static void party_store(lia__req *r, const caller *c, lia_party *p, int replace, int status)
{
    lia_party got;
    lia_error e;
    actor who;
    int rc;
    lia_error_clear(&e);
    actor_of(r, c, &who);
    /* the store handle is this request's alone: its actor names the caller
     * in the directory's audit records (before and after) */
    lia_audit_set_actor(r->store, &who.a);
    rc = lia_party_save(r->store, p, replace, &e);
    lia_audit_set_actor(r->store, NULL);
    if (rc) {
        change_error(r, rc, &e);
        return;
    }
    if ((rc = lia_party_get_one(r->store, p->kind, p->id, &got, &e))) {
        lia__req_store_error(r, &e);
        return;
    }
    answer(r, party_json(&got));
    lia_party_free(&got);
    if (r->status == 200)
        r->status = status;
}

/* The members a body may name: the fields of kind (and "id" when
 * creating), NULL-terminated. */
static void party_members(int kind, int with_id, const char **out)
{
    size_t n = 0;
    if (with_id)
        out[n++] = "id";
    for (int f = 0; f < LIA_PF__COUNT; f++)
        if (lia_party_field_allowed(kind, f))
            out[n++] = lia_pfield_name(f);
    out[n] = NULL;
}

/* Apply every field member of o to p; 0 after answering. */
static int party_members_apply(lia__req *r, lia_party *p, json_t *o)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        int f = lia_pfield_lookup(k, strlen(k));
        if (f >= 0 && !party_member(r, p, f, v))
            return 0;
    }
    return 1;
}

/* POST /partners, /owners: {"id", FIELD: value ...}; 201 with the entry,
 * 409 if the id exists. */
static void create_party(lia__req *r, const caller *c, int kind)
{
    const char *allowed[LIA_PF__COUNT + 2], *id = NULL;
    char loc[128];
    lia_party p;
    lia_error e;
    json_t *o;
    if (!own_writer(r, c, "changing the directory"))
        return;
    party_members(kind, 1, allowed);
    if (!(o = body_object(r, allowed)))
        return;
    lia_error_clear(&e);
    lia_party_init(&p, kind);
    if (!member_str(r, o, "id", &id))
        goto done;
    if (!id) {
        api_error(r, 400, "invalid_body", "member \"id\": required (a %s id, [a-z0-9][a-z0-9._-]{0,63})",
                  lia_party_kind_name(kind));
        goto done;
    }
    if (!lia_party_id_ok(id, strlen(id)) || lia_party_set_id(&p, id, strlen(id), &e)) {
        api_error(r, 400, "invalid_body",
                  "member \"id\": \"%.64s\": a %s id is 1 to 64 of a-z 0-9 . _ - (starting with a letter "
                  "or digit)",
                  id, lia_party_kind_name(kind));
        goto done;
    }
    json_object_del(o, "id");
    if (!party_members_apply(r, &p, o))
        goto done;
    party_store(r, c, &p, 0, 201);
    if (r->status == 201) {
        snprintf(loc, sizeof loc, PREFIX "/%ss/%s", lia_party_kind_name(kind), p.id);
        lia__req_add_header(r, "Location", loc);
    }
done:
    lia_party_free(&p);
    json_decref(o);
}

/* PATCH /partners/{party}, /owners/{party}: the members given replace
 * those fields (null clears one); 200 with the entry. A partner or
 * constituent: 403 for its own entry, 404 for any other. */
static void update_party(lia__req *r, const caller *c, int kind, const char *id)
{
    const char *allowed[LIA_PF__COUNT + 2];
    int mine = r->who.org_kind == (kind == LIA_PARTY_OWNER ? LIA_ORG_CONSTITUENT : LIA_ORG_PARTNER);
    lia_party p;
    lia_error e;
    json_t *o;
    int rc;
    lia_error_clear(&e);
    if (!c->own && !(mine && c->party[0] && !strcmp(c->party, id))) {
        api_error(r, 404, "not_found", "no %s %s", lia_party_kind_name(kind), id);
        return;
    }
    if (!own_writer(r, c, "changing the directory"))
        return;
    party_members(kind, 0, allowed);
    if (!(o = body_object(r, allowed)))
        return;
    if ((rc = lia_party_get_one(r->store, kind, id, &p, &e))) {
        if (rc == LIA_ENOTFOUND)
            api_error(r, 404, "not_found", "no %s %s", lia_party_kind_name(kind), id);
        else
            lia__req_store_error(r, &e);
        json_decref(o);
        return;
    }
    if (party_members_apply(r, &p, o))
        party_store(r, c, &p, 1, 200);
    lia_party_free(&p);
    json_decref(o);
}

static void create_partner(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    (void)id;
    (void)rcpt;
    (void)sub;
    create_party(r, c, LIA_PARTY_PARTNER);
}

static void create_owner(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    (void)id;
    (void)rcpt;
    (void)sub;
    create_party(r, c, LIA_PARTY_OWNER);
}

static void update_partner(lia__req *r, const caller *c, int64_t id, const char *party, int64_t sub)
{
    (void)id;
    (void)sub;
    update_party(r, c, LIA_PARTY_PARTNER, party);
}

static void update_owner(lia__req *r, const caller *c, int64_t id, const char *party, int64_t sub)
{
    (void)id;
    (void)sub;
    update_party(r, c, LIA_PARTY_OWNER, party);
}

typedef struct groups {
    json_t *items;
    int oom;
} groups;

static int group_cb(void *ud, const char *key, uint64_t count)
{
    groups *g = ud;
    if (json_array_append_new(g->items,
                              json_pack("{s:s, s:I}", "key", key ? key : "", "count", (json_int_t)count)))
        g->oom = 1;
    return g->oom;
}

static void stats(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    static const char *const more[] = {"by", "limit", NULL};
    static const char *const bys[] = {"cc", "asn", "class", "type", "taxonomy", "feed"};
    const char *by = arg_of(r, "by");
    char bind[1024];
    uint64_t limit, total = 0;
    groups g = {NULL, 0};
    lia_query q;
    lia_error e;
    view v;
    int rc = LIA_OK, ok = 0;
    (void)id;
    (void)rcpt;
    if (query_of(r, &q, more, bind, sizeof bind) || limit_of(r, 50, LIA_API_PAGE_MAX, &limit))
        return;
    for (size_t i = 0; by && i < sizeof bys / sizeof bys[0]; i++)
        ok |= !strcmp(by, bys[i]);
    if (!ok) {
        api_error(r, 400, "invalid_parameter",
                  "parameter by: \"%.60s\": one of cc, asn, class, type, taxonomy, feed", by ? by : "");
        return;
    }
    lia_error_clear(&e);
    if ((rc = view_open(r, c, &v, &e))) {
        lia__req_store_error(r, &e);
        return;
    }
    q.recipient = c->own ? NULL : v.rcpt;
    if (!(g.items = json_array())) {
        view_close(&v);
        api_error(r, 500, "internal", "out of memory");
        return;
    }
    if (!view_blind(&v) &&
        ((rc = lia_store_count(r->store, &q, &total, &e)) ||
         (rc = lia_store_group(r->store, &q, by, limit, group_cb, &g, &e))) &&
        !g.oom) {
        view_close(&v);
        json_decref(g.items);
        lia__req_store_error(r, &e);
        return;
    }
    view_close(&v);
    if (g.oom) {
        json_decref(g.items);
        api_error(r, 500, "internal", "out of memory");
        return;
    }
    answer(r, json_pack("{s:s, s:I, s:o}", "by", by, "total", (json_int_t)total, "groups", g.items));
}

/* ---- routing explained and previewed ---------------------------------------------------------- */

/* The kind name of party idx of rt, or NULL for unrouted/dropped. */
static const char *party_kind(const lia_route *rt, int idx)
{
    return idx >= 0 ? lia_party_kind_name(lia_route_party(rt, idx)->kind) : NULL;
}

/* Why party idx, in the directory but not a candidate for ev, was not. */
static void not_candidate(const lia_route *rt, int idx, int owner, const char *via, const lia_event *ev,
                          char *out, size_t n)
{
    const lia_party *p = lia_route_party(rt, idx);
    char cc[8] = "";
    lia_event_text(ev, LIA_F_SOURCE_GEOLOCATION_CC, cc, sizeof cc);
    if (p->kind == LIA_PARTY_OWNER) {
        if (idx == owner)
            snprintf(out, n, "owns the event's network (%s), but no rule made it a candidate", via);
        else
            snprintf(out, n, "not the owner of the event's network (no prefix, ASN or domain of it matches)");
        return;
    }
    {
        const lia_strlist *l = &p->f[LIA_PF_COUNTRIES];
        char list[128] = "";
        int covers = 0;
        for (size_t i = 0; i < l->n; i++) {
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", l->v[i]);
            covers |= cc[0] && !strcmp(l->v[i], cc);
        }
        if (covers)
            snprintf(out, n, "covers %s, but no rule made it a candidate", cc);
        else if (cc[0])
            snprintf(out, n, "covers %s; the event's source country is %s", list[0] ? list : "no country",
                     cc);
        else
            snprintf(out, n, "covers %s; the event has no source country", list[0] ? list : "no country");
    }
}

static int explain_row_cb(void *ud, const lia_route_row *row);

/* GET /events/{id}/explain: what `liaison route explain` says of one event,
 * with the current directory and rules (our team). */
static void explain_event(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    lia_decision d[LIA_ROUTE_MAX_DECISIONS];
    lia_route *rt = NULL;
    lia_event ev;
    lia_error e;
    const char *via = NULL, *home, *mode;
    json_t *o = NULL, *cands = NULL, *others = NULL, *rec = NULL, *x;
    char *cand = NULL;
    int owner, rc;
    size_t n, np;
    (void)rcpt;
    if (!c->own) {
        event_own_only(r, c, id, "the routing of an event");
        return;
    }
    if (r->nargs)
        RET_ERR(r, "parameter %.*s: unknown; an explanation takes none",
                (int)(r->args[0].name.len > 60 ? 60 : r->args[0].name.len), r->args[0].name.ptr);
    lia_error_clear(&e);
    lia_event_init(&ev);
    if ((rc = lia_store_event_get(r->store, id, &ev, &e)) == LIA_ENOTFOUND) {
        api_error(r, 404, "not_found", "no event %lld", (long long)id);
        goto done;
    }
    if (rc || (rc = lia_route_load(r->store, &rt, &e)))
        goto store;
    home = lia_route_setting(rt, "home_country");
    mode = lia_route_setting(rt, "mode");
    owner = lia_route_owner(rt, &ev, &via);
    n = lia_route_event(rt, &ev, d);
    if (!(o = json_object()) || !(cands = json_array()) || !(others = json_array()) || !(rec = json_array()))
        goto oom;
    json_object_set_new(o, "event",
                        json_pack("{s:I, s:I, s:I}", "id", (json_int_t)ev.id, "report",
                                  (json_int_t)ev.report_id, "line", (json_int_t)ev.line));
    json_object_set_new(o, "home_country", str_json(home));
    json_object_set_new(o, "mode", json_string(mode && !strcmp(mode, "all") ? "all" : "first"));
    json_object_set_new(
        o, "owner",
        owner >= 0 ? json_pack("{s:s, s:s}", "party", lia_route_party(rt, owner)->id, "via", via ? via : "")
                   : json_null());
    for (size_t i = 0; i < n; i++) {
        char name[128];
        lia_route_recipient_name(rt, &d[i], name, sizeof name);
        x = json_pack("{s:s, s:o, s:o, s:s, s:o, s:s, s:s}", "recipient", name, "party",
                      d[i].party >= 0 ? json_string(lia_route_party(rt, d[i].party)->id) : json_null(),
                      "kind", str_json(party_kind(rt, d[i].party)), "verdict", lia_verdict_name(d[i].verdict),
                      "rule", d[i].rule >= 0 ? json_string(lia_route_rule_name(rt, d[i].rule)) : json_null(),
                      "found", d[i].why ? d[i].why : "", "reason", d[i].reason ? d[i].reason : "");
        if (!x)
            goto oom;
        if (d[i].party >= 0) {
            lia_recipient rr;
            lia_route_recipient(rt, d[i].party, &rr);
            json_object_set_new(x, "tlp_max", json_string(lia_tlp_name(rr.tlp_max)));
            if (rr.kind == LIA_PARTY_PARTNER)
                json_object_set_new(x, "agreement", json_boolean(rr.agreement));
        }
        if (json_array_append_new(cands, x))
            goto oom;
    }
    /* every other party of the directory, and why it was not a candidate */
    np = rt->np;
    if (np && !(cand = calloc(np, 1)))
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (d[i].party >= 0)
            cand[d[i].party] = 1;
    for (size_t i = 0; i < np; i++) {
        char why[256];
        if (cand[i])
            continue;
        not_candidate(rt, (int)i, owner, via, &ev, why, sizeof why);
        if (!(x = json_pack("{s:s, s:s, s:s}", "party", lia_route_party(rt, (int)i)->id, "kind",
                            party_kind(rt, (int)i), "reason", why)) ||
            json_array_append_new(others, x))
            goto oom;
    }
    if ((rc = lia_route_rows(r->store, id, explain_row_cb, rec, &e)))
        goto store;
    json_object_set_new(o, "candidates", cands);
    json_object_set_new(o, "not_candidates", others);
    json_object_set_new(o, "recorded", rec);
    cands = others = rec = NULL;
    answer(r, o);
    o = NULL;
    goto done;
store:
    lia__req_store_error(r, &e);
    goto done;
oom:
    api_error(r, 500, "internal", "out of memory");
done:
    free(cand);
    json_decref(o);
    json_decref(cands);
    json_decref(others);
    json_decref(rec);
    lia_route_destroy(rt);
    lia_event_free(&ev);
}

/* A recorded decision as GET /events/{id} lists it. */
static int explain_row_cb(void *ud, const lia_route_row *row)
{
    json_t *x = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "recipient", row->recipient, "verdict",
                          row->verdict, "rule", row->rule, "reason", row->reason, "decided",
                          time_json(row->decided_us), "notified", time_json(row->notified_us));
    return !x || json_array_append_new(ud, x) ? LIA_ENOMEM : 0;
}

/* One line of a preview: a party (or "unrouted"/"dropped") and, for those
 * not routed, why. */
typedef struct pv_line {
    char party[72], reason[160];
    int kind; /* LIA_PARTY_*, 0 for unrouted/dropped */
    int deliver;
    uint64_t events;
} pv_line;

typedef struct pv_walk {
    lia_route *rt;
    pv_line *v;
    size_t n, cap;
    uint64_t events, limit;
    int more, oom;
} pv_walk;

static int pv_add(pv_walk *w, int deliver, int party, const char *name, const char *reason)
{
    int kind = party >= 0 ? lia_route_party(w->rt, party)->kind : 0;
    pv_line *l;
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].deliver == deliver && w->v[i].kind == kind && !strcmp(w->v[i].party, name) &&
            (deliver || !strcmp(w->v[i].reason, reason))) {
            w->v[i].events++;
            return 0;
        }
    if (w->n == w->cap) {
        size_t nc = w->cap ? 2 * w->cap : 16;
        pv_line *nv = realloc(w->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        w->v = nv;
        w->cap = nc;
    }
    l = &w->v[w->n++];
    memset(l, 0, sizeof *l);
    snprintf(l->party, sizeof l->party, "%s", name);
    snprintf(l->reason, sizeof l->reason, "%s", deliver ? "" : reason);
    l->kind = kind;
    l->deliver = deliver;
    l->events = 1;
    return 0;
}

static int pv_cb(void *ud, const lia_event *ev)
{
    pv_walk *w = ud;
    lia_decision d[LIA_ROUTE_MAX_DECISIONS];
    size_t n;
    if (w->events == w->limit) {
        w->more = 1;
        return 1;
    }
    w->events++;
    n = lia_route_event(w->rt, ev, d);
    for (size_t i = 0; i < n; i++) {
        const char *name = d[i].party >= 0 ? lia_route_party(w->rt, d[i].party)->id
                                           : lia_verdict_name(d[i].verdict); /* unrouted, dropped */
        if (pv_add(w, d[i].verdict == LIA_DELIVER, d[i].party, name, d[i].reason ? d[i].reason : "")) {
            w->oom = 1;
            return 1;
        }
    }
    return 0;
}

static int pv_cmp(const void *a, const void *b)
{
    const pv_line *x = a, *y = b;
    if (x->events != y->events)
        return x->events > y->events ? -1 : 1;
    return strcmp(x->party, y->party);
}

/* GET /route/preview?FILTERS&limit=N: over the first N matching events,
 * who would receive them and why not the others, the rules evaluated now
 * (as `liaison route preview`; our team). */
static void route_preview(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    static const char *const more[] = {"limit", NULL};
    char bind[1024];
    pv_walk w;
    lia_query q;
    lia_error e;
    json_t *rs = NULL, *nr = NULL, *x;
    int rc;
    (void)id;
    (void)rcpt;
    if (!c->own) {
        api_error(r, 403, "forbidden", "a routing preview is for our own team: it names every recipient");
        return;
    }
    memset(&w, 0, sizeof w);
    if (query_of(r, &q, more, bind, sizeof bind) || limit_of(r, 1000, 10000, &w.limit))
        return;
    lia_error_clear(&e);
    if ((rc = lia_route_load(r->store, &w.rt, &e))) {
        lia__req_store_error(r, &e);
        return;
    }
    if ((rc = lia_store_query(r->store, &q, pv_cb, &w, &e)) && rc != 1) {
        lia__req_store_error(r, &e);
        goto done;
    }
    if (w.oom || !(rs = json_array()) || !(nr = json_array()))
        goto oom;
    if (w.n) /* w.v is NULL when no event matched */
        qsort(w.v, w.n, sizeof *w.v, pv_cmp);
    for (size_t i = 0; i < w.n; i++) {
        const pv_line *l = &w.v[i];
        json_t *kind = l->kind ? json_string(lia_party_kind_name(l->kind)) : json_null();
        x = l->deliver ? json_pack("{s:s, s:o, s:I}", "party", l->party, "kind", kind, "events",
                                   (json_int_t)l->events)
                       : json_pack("{s:s, s:o, s:s, s:I}", "party", l->party, "kind", kind, "reason",
                                   l->reason, "events", (json_int_t)l->events);
        if (!x || json_array_append_new(l->deliver ? rs : nr, x))
            goto oom;
    }
    answer(r, json_pack("{s:I, s:b, s:o, s:o}", "events", (json_int_t)w.events, "more", w.more, "recipients",
                        rs, "not_routed", nr));
    rs = nr = NULL;
    goto done;
oom:
    api_error(r, 500, "internal", "out of memory");
done:
    json_decref(rs);
    json_decref(nr);
    free(w.v);
    lia_route_destroy(w.rt);
}

/* GET /events/{id}/raw: the event's row as its report was archived (our
 * team): {"event", "report", "line", "feed", "name", "encoding", "raw"}. */
static void get_event_raw(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    lia_report rep;
    lia_event ev;
    lia_error e;
    lia_buf raw;
    json_t *o = NULL, *text;
    int rc;
    (void)rcpt;
    if (!c->own) {
        event_own_only(r, c, id, "the raw row of an event");
        return;
    }
    if (r->nargs)
        RET_ERR(r, "parameter %.*s: unknown; a raw row takes none",
                (int)(r->args[0].name.len > 60 ? 60 : r->args[0].name.len), r->args[0].name.ptr);
    lia_error_clear(&e);
    lia_event_init(&ev);
    lia_buf_init(&raw, LIA_MAX_ROW + 1);
    if ((rc = lia_store_event_get(r->store, id, &ev, &e)) == LIA_ENOTFOUND) {
        api_error(r, 404, "not_found", "no event %lld", (long long)id);
        goto done;
    }
    if (rc)
        goto store;
    if ((rc = lia_store_report_get(r->store, ev.report_id, &rep, &e)) == LIA_ENOTFOUND) {
        api_error(r, 404, "not_found", "event %lld: its report %lld is no longer in the store", (long long)id,
                  (long long)ev.report_id);
        goto done;
    }
    if (rc)
        goto store;
    if ((rc = lia_store_report_line(r->store, &rep, ev.line, &raw, &e)) == LIA_ENOTFOUND) {
        api_error(r, 404, "not_found", "event %lld (report %lld, line %llu): %s", (long long)id,
                  (long long)rep.id, (unsigned long long)ev.line, e.reason);
        goto done;
    }
    if (rc)
        goto store;
    o = json_pack("{s:I, s:I, s:I, s:s, s:s}", "event", (json_int_t)id, "report", (json_int_t)rep.id, "line",
                  (json_int_t)ev.line, "feed", rep.feed, "name", rep.name);
    if (!o)
        goto oom;
    if ((text = json_stringn(raw.ptr ? raw.ptr : "", raw.len))) {
        json_object_set_new(o, "encoding", json_string("utf-8"));
    } else { /* not UTF-8: the bytes as base64 */
        size_t n = sodium_base64_ENCODED_LEN(raw.len, sodium_base64_VARIANT_ORIGINAL);
        char *b = malloc(n);
        if (!b)
            goto oom;
        sodium_bin2base64(b, n, (const unsigned char *)raw.ptr, raw.len, sodium_base64_VARIANT_ORIGINAL);
        text = json_string(b);
        free(b);
        json_object_set_new(o, "encoding", json_string("base64"));
    }
    json_object_set_new(o, "raw", text);
    answer(r, o);
    o = NULL;
    goto done;
store:
    lia__req_store_error(r, &e);
    goto done;
oom:
    api_error(r, 500, "internal", "out of memory");
done:
    json_decref(o);
    lia_buf_free(&raw);
    lia_event_free(&ev);
}

/* ---- GET /feeds ------------------------------------------------------------------------------- */

typedef struct fwalk {
    lia__req *r;
    json_t *items;
    int64_t now;
    lia_error *e;
    int oom;
} fwalk;

/* One feed as `liaison feeds list` and `feeds health` give it. */
static int feed_cb(void *ud, const lia_feed_health *h)
{
    fwalk *w = ud;
    const lia_feed *f = h->feed;
    uint64_t day = 0, week = 0;
    json_t *o;
    int rc;
    if ((rc = lia_store_feed_events_since(w->r->store, f->name, w->now - 86400 * INT64_C(1000000), &day,
                                          w->e)) ||
        (rc = lia_store_feed_events_since(w->r->store, f->name, w->now - 7 * 86400 * INT64_C(1000000), &week,
                                          w->e)))
        return rc;
    o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:o, s:s, s:b, s:b}", "name", f->name, "provider",
                  f->provider, "format", f->format, "url", f->url[0] ? json_string(f->url) : json_null(),
                  "dir", f->dir[0] ? json_string(f->dir) : json_null(), "interval_seconds",
                  f->interval_s > 0 ? json_integer(f->interval_s) : json_null(), "enabled", f->enabled, "tlp",
                  f->tlp >= 0 ? json_string(lia_tlp_name(f->tlp)) : json_null(), "health",
                  h->failing   ? "failing"
                  : h->late    ? "late"
                  : f->enabled ? "ok"
                               : "disabled",
                  "late", h->late, "failing", h->failing);
    if (!o) {
        w->oom = 1;
        return 1;
    }
    json_object_set_new(o, "last_fetch", time_json(f->last_fetch_us));
    json_object_set_new(o, "last_ok", time_json(f->last_success_us));
    json_object_set_new(o, "last_error", f->last_error[0] ? json_string(f->last_error) : json_null());
    json_object_set_new(o, "last_report", time_json(h->last_report_us));
    json_object_set_new(o, "reports", json_integer((json_int_t)h->reports));
    json_object_set_new(o, "rows", json_integer((json_int_t)h->rows));
    json_object_set_new(o, "events", json_integer((json_int_t)h->events));
    json_object_set_new(o, "quarantined", json_integer((json_int_t)h->quarantined));
    json_object_set_new(o, "events_24h", json_integer((json_int_t)day));
    json_object_set_new(o, "events_7d", json_integer((json_int_t)week));
    json_object_set_new(o, "events_per_second", json_real(h->events_per_s));
    if (json_array_append_new(w->items, o)) {
        w->oom = 1;
        return 1;
    }
    return 0;
}

/* GET /feeds: every registered feed in name order with its health (our
 * team: the registry names every source and its errors). */
static void list_feeds(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    lia_error e;
    fwalk w = {r, NULL, lia__now_us(), &e, 0};
    int rc;
    (void)id;
    (void)rcpt;
    if (!c->own) {
        api_error(r, 403, "forbidden", "the feeds are for our own team");
        return;
    }
    if (r->nargs)
        RET_ERR(r, "parameter %.*s: unknown; the feeds take none",
                (int)(r->args[0].name.len > 60 ? 60 : r->args[0].name.len), r->args[0].name.ptr);
    lia_error_clear(&e);
    if (!(w.items = json_array())) {
        api_error(r, 500, "internal", "out of memory");
        return;
    }
    if ((rc = lia_feeds_health(r->store, w.now, feed_cb, &w, &e)) && !w.oom) {
        json_decref(w.items);
        lia__req_store_error(r, &e);
        return;
    }
    if (w.oom) {
        json_decref(w.items);
        api_error(r, 500, "internal", "out of memory");
        return;
    }
    answer(r, json_pack("{s:o}", "feeds", w.items));
}

/* ---- GET /openapi.json ---------------------------------------------------------------------- */

static void openapi(lia__req *r, const caller *c, int64_t id, const char *rcpt, int64_t sub)
{
    (void)c;
    (void)id;
    (void)rcpt;
    lia_buf_append(&r->out, lia__api_openapi, lia__api_openapi_len);
    r->status = 200;
    r->ctype = "application/json";
}

/* ---- routes ------------------------------------------------------------------------------- */

typedef void (*route_fn)(lia__req *r, const caller *c, int64_t id, const char *recipient, int64_t sub);

/* The one table of what the API answers; path segments "{id}" (an incident
 * id) and "{recipient}" (a partner or owner id) are parameters. */
static const struct route {
    lia__api_op op;
    int public; /* served without authentication, by the second handler */
    route_fn fn;
} routes[] = {
    {{"GET", "/openapi.json"}, 1, openapi},
    {{"GET", "/incidents"}, 0, list_incidents},
    {{"POST", "/incidents"}, 0, create_incident},
    {{"GET", "/incidents/{id}"}, 0, get_incident},
    {{"PATCH", "/incidents/{id}"}, 0, update_incident},
    {{"POST", "/incidents/{id}/comments"}, 0, add_comment},
    {{"POST", "/incidents/{id}/split"}, 0, split_incident},
    {{"GET", "/incidents/{id}/export"}, 0, export_incident},
    {{"POST", "/incidents/{id}/attachments"}, 0, add_attachment},
    {{"GET", "/incidents/{id}/attachments/{n}"}, 0, get_attachment},
    {{"POST", "/incidents/{id}/handoffs/{recipient}"}, 0, set_handoff},
    {{"GET", "/metrics"}, 0, metrics},
    {{"GET", "/events"}, 0, list_events},
    {{"GET", "/events/{id}"}, 0, get_event},
    {{"GET", "/partners"}, 0, list_partners},
    {{"GET", "/owners"}, 0, list_owners},
    {{"POST", "/partners"}, 0, create_partner},
    {{"PATCH", "/partners/{party}"}, 0, update_partner},
    {{"POST", "/owners"}, 0, create_owner},
    {{"PATCH", "/owners/{party}"}, 0, update_owner},
    {{"GET", "/stats"}, 0, stats},
    {{"GET", "/feeds"}, 0, list_feeds},
    {{"GET", "/events/{id}/explain"}, 0, explain_event},
    {{"GET", "/events/{id}/raw"}, 0, get_event_raw},
    {{"GET", "/route/preview"}, 0, route_preview},
};
#define NROUTES (sizeof routes / sizeof routes[0])

const lia__api_op *lia__api_ops(size_t *n)
{
    static lia__api_op ops[NROUTES];
    for (size_t i = 0; i < NROUTES; i++)
        ops[i] = routes[i].op;
    *n = NROUTES;
    return ops;
}

/* 1 if path (under /api/v1) has the shape of template t; parameters out. */
static int match(const char *t, const char *path, int64_t *id, char rcpt[72], int64_t *n)
{
    for (;;) {
        if (*t != '/' || *path != '/')
            return *t == *path; /* both ended */
        t++, path++;
        const char *te = strchr(t, '/'), *pe = strchr(path, '/');
        size_t tn = te ? (size_t)(te - t) : strlen(t), pn = pe ? (size_t)(pe - path) : strlen(path);
        if (tn == 4 && !memcmp(t, "{id}", 4)) {
            if (!parse_id(path, pn, id))
                return 0;
        } else if (tn == 3 && !memcmp(t, "{n}", 3)) {
            if (!parse_id(path, pn, n))
                return 0;
        } else if ((tn == 11 && !memcmp(t, "{recipient}", 11)) || (tn == 7 && !memcmp(t, "{party}", 7))) {
            if (!lia_party_id_ok(path, pn))
                return 0;
            memcpy(rcpt, path, pn);
            rcpt[pn] = '\0';
        } else if (tn != pn || memcmp(t, path, tn) != 0) {
            return 0;
        }
        t += tn;
        path += pn;
    }
}

static void dispatch(lia__req *r, int public)
{
    const char *rest = r->path + strlen(PREFIX);
    const char *method = strcmp(r->method, "HEAD") ? r->method : "GET";
    char allow[64] = "", rcpt[72] = "";
    int64_t id = 0, n = 0;
    caller c;
    lia_error e;
    lia_error_clear(&e);
    for (size_t i = 0; i < NROUTES; i++) {
        if (routes[i].public != public || !match(routes[i].op.path, rest, &id, rcpt, &n))
            continue;
        if (strcmp(routes[i].op.method, method) != 0) {
            size_t k = strlen(allow);
            snprintf(allow + k, sizeof allow - k, "%s%s", k ? ", " : "", routes[i].op.method);
            continue;
        }
        if (!public && caller_of(r, &c, &e)) {
            lia__req_store_error(r, &e);
            return;
        }
        routes[i].fn(r, public ? NULL : &c, id, rcpt, n);
        return;
    }
    if (allow[0]) {
        api_error(r, 405, "method_not_allowed", "%s %s: allowed: %s", r->method, r->path, allow);
        lia__req_add_header(r, "Allow", allow);
        return;
    }
    api_error(r, 404, "not_found", "no such resource: %s (the API is described at " PREFIX "/openapi.json)",
              r->path);
}

static void handle(void *ud, lia__req *r)
{
    (void)ud;
    dispatch(r, 0);
}

static void handle_public(void *ud, lia__req *r)
{
    (void)ud;
    dispatch(r, 1);
}

int lia__api_mount(lia_http *h, lia_error *err)
{
    static const lia__http_handler api = {.name = "api",
                                          .prefix = PREFIX,
                                          .auth = LIA__HTTP_AUTH_REQUIRED,
                                          .store = 1,
                                          .max_body = LIA_INCIDENT_ATTACHMENT_MAX, /* JSON: JSON_BODY_MAX */
                                          .handle = handle,
                                          .error = server_error};
    static const lia__http_handler doc = {.name = "api",
                                          .prefix = PREFIX "/openapi.json",
                                          .auth = LIA__HTTP_AUTH_NONE,
                                          .handle = handle_public,
                                          .error = server_error};
    int rc = lia__http_register(h, &api, err);
    return rc ? rc : lia__http_register(h, &doc, err);
}
