/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The web console's server side, mounted at /console (src/serve/mounts.c):
 *
 *   POST /console/login         {"user","password"} (application/json): the
 *                               server's password check and throttle; a
 *                               session cookie and the session's CSRF token
 *   POST /console/logout        ends the session (CSRF token required)
 *   GET  /console/session       who the session is, and its CSRF token
 *   GET  /console/data/summary  the dashboard's numbers, aggregated here
 *   GET  /console/...           the built assets (web/dist): index.html for
 *                               any path that names no file
 *
 * The session is also an authentication method of the whole server
 * (lia__http_set_session): a request with no Authorization header and a
 * session cookie is that session's user on every mount that requires
 * authentication (the REST API from the browser), and a state-changing one
 * (not GET, HEAD or OPTIONS) must carry the session's token in X-CSRF-Token
 * or is 403. Every answer here carries a strict Content-Security-Policy
 * (scripts and styles from this origin only, no framing). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console/console.h"
#include "console/session.h"
#include "core/clock.h"
#include "http/handler.h"
#include "liaison/feeds.h"
#include "liaison/field.h"
#include "liaison/incident.h"
#include "liaison/limits.h"
#include "route/decisions.h"

#define COOKIE_PLAIN "liaison_session"
#define COOKIE_TLS   "__Host-liaison_session" /* Secure, Path=/, no Domain: the browser enforces it */

#ifndef LIA_CONSOLE_SHARE_DIR
#define LIA_CONSOLE_SHARE_DIR "/usr/local/share/liaison/console"
#endif

/* ECharts sets style attributes on the elements it creates (tooltips):
 * styles may be inline, scripts never. */
static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                          "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
                          "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

static unsigned idle_s(const lia__req *r)
{
    unsigned v = r->server ? lia__http_options(r->server)->session_idle_s : 0;
    return v ? v : LIA_CONSOLE_IDLE_S;
}

static unsigned max_s(const lia__req *r)
{
    unsigned v = r->server ? lia__http_options(r->server)->session_max_s : 0;
    return v ? v : LIA_CONSOLE_MAX_S;
}

/* --console-dir, else $LIAISON_CONSOLE_DIR, else the installed copy, else
 * the one this source tree built (make: web/dist). */
static const char *console_dir(const lia__req *r)
{
    const char *d = r->server ? lia__http_options(r->server)->console_dir : NULL;
    if (!d || !*d)
        d = getenv("LIAISON_CONSOLE_DIR");
    if (d && *d)
        return d;
#ifdef LIA_CONSOLE_TREE_DIR
    if (access(LIA_CONSOLE_SHARE_DIR "/index.html", R_OK) != 0 &&
        access(LIA_CONSOLE_TREE_DIR "/index.html", R_OK) == 0)
        return LIA_CONSOLE_TREE_DIR;
#endif
    return LIA_CONSOLE_SHARE_DIR;
}

int lia__console_installed(const lia__req *r)
{
    char p[4096];
    int n = snprintf(p, sizeof p, "%s/index.html", console_dir(r));
    return n > 0 && (size_t)n < sizeof p && access(p, R_OK) == 0;
}

/* The session id of the request's Cookie header into id, 0 if none. */
static int cookie_id(const lia__req *r, char id[LIA__SESSION_ID_LEN + 1])
{
    lia_slice c = lia__req_header(r, "Cookie");
    const char *names[] = {COOKIE_TLS "=", COOKIE_PLAIN "="};
    size_t i = 0;
    while (c.ptr && i < c.len) {
        while (i < c.len && (c.ptr[i] == ' ' || c.ptr[i] == ';'))
            i++;
        size_t j = i;
        while (j < c.len && c.ptr[j] != ';')
            j++;
        for (int k = 0; k < 2; k++) {
            size_t nl = strlen(names[k]);
            if (j - i == nl + LIA__SESSION_ID_LEN && memcmp(c.ptr + i, names[k], nl) == 0) {
                memcpy(id, c.ptr + i + nl, LIA__SESSION_ID_LEN);
                id[LIA__SESSION_ID_LEN] = '\0';
                return 1;
            }
        }
        i = j;
    }
    return 0;
}

static int safe_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

/* The request's session: LIA_OK, or LIA_EAUTH with *status 401 or 403. */
static int session_of(lia_store *s, const lia__req *r, lia_principal *p, int *status, char *why, size_t whyn)
{
    char id[LIA__SESSION_ID_LEN + 1], csrf[LIA__SESSION_ID_LEN + 1];
    lia_error e;
    int rc;
    lia_error_clear(&e);
    *status = 401;
    if (!cookie_id(r, id)) {
        snprintf(why, whyn, "no credentials");
        return LIA_EAUTH;
    }
    if (!s) {
        snprintf(why, whyn, "no store");
        return LIA_EAUTH;
    }
    rc = lia__session_check(s, id, lia__now_us(), idle_s(r), max_s(r), p, csrf, &e);
    sodium_memzero(id, sizeof id);
    if (rc) {
        snprintf(why, whyn, "session: %s", e.reason);
        return LIA_EAUTH;
    }
    if (!safe_method(r->method)) {
        lia_slice t = lia__req_header(r, "X-CSRF-Token");
        if (!t.ptr || t.len != strlen(csrf) || sodium_memcmp(t.ptr, csrf, t.len) != 0) {
            *status = 403;
            snprintf(why, whyn, "session %s/%s: %s CSRF token", p->org, p->user, t.ptr ? "wrong" : "no");
            return LIA_EAUTH;
        }
    }
    return LIA_OK;
}

static int server_session(void *ud, lia_store *s, const lia__req *r, lia_principal *p, int *status, char *why,
                          size_t whyn)
{
    (void)ud;
    return session_of(s, r, p, status, why, whyn);
}

static void security_headers(lia__req *r)
{
    lia__req_add_header(r, "Content-Security-Policy", csp);
    lia__req_add_header(r, "X-Frame-Options", "DENY");
    lia__req_add_header(r, "Referrer-Policy", "no-referrer");
}

static void answer_json(lia__req *r, int status, json_t *j)
{
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!t) {
        lia__req_error(r, 500, "Server error", "out of memory");
        return;
    }
    lia_buf_puts(&r->out, t);
    free(t);
    r->status = status;
    r->ctype = "application/json";
}

static json_t *who_json(const lia_principal *p, const char *csrf)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "user", p->user, "org", p->org, "role",
                     lia_role_name(p->role), "org_kind", lia_org_kind_name(p->org_kind), "csrf", csrf);
}

static void set_cookie(lia__req *r, const char *id, unsigned age)
{
    char c[256];
    int tls = r->server && lia__http_tls(r->server);
    snprintf(c, sizeof c, "%s=%s; Path=/; Max-Age=%u; HttpOnly;%s SameSite=Strict",
             tls ? COOKIE_TLS : COOKIE_PLAIN, id, age, tls ? " Secure;" : "");
    lia__req_add_header(r, "Set-Cookie", c);
}

static void login(lia__req *r)
{
    lia_slice ct = lia__req_header(r, "Content-Type");
    json_t *j = NULL;
    const char *user = NULL, *pw = NULL;
    char why[300], id[LIA__SESSION_ID_LEN + 1], csrf[LIA__SESSION_ID_LEN + 1];
    lia_principal p;
    double retry = 0;
    lia_error e;
    int rc;
    lia_error_clear(&e);
    /* JSON only: a cross-site form cannot send it without a preflight */
    if (!ct.ptr || ct.len < 16 || strncasecmp(ct.ptr, "application/json", 16) != 0) {
        lia__req_error(r, 415, "Unsupported Media Type", "send the log-in as application/json");
        return;
    }
    if (!(j = json_loadb(r->body, r->body_len, 0, NULL)) ||
        json_unpack(j, "{s:s, s:s}", "user", &user, "password", &pw)) {
        json_decref(j);
        lia__req_error(r, 400, "Bad Request", "expected {\"user\": ..., \"password\": ...}");
        return;
    }
    rc = lia__http_password_login(r, user, pw, &p, &retry, why, sizeof why);
    json_decref(j); /* the password with it */
    if (rc == LIA_ELIMIT) {
        snprintf(r->deny, sizeof r->deny, "%.150s", why);
        lia__req_error(r, 429, "Too Many Requests", "too many failed logins; see Retry-After");
        r->retry_after = (unsigned)(retry + 0.999);
        return;
    }
    if (rc) {
        snprintf(r->deny, sizeof r->deny, "%.150s", why);
        lia__req_error(r, 401, "Unauthorized", "wrong user name or password");
        return;
    }
    if ((rc = lia__session_new(r->store, p.user_id, lia__now_us(), idle_s(r), max_s(r), id, csrf, &e))) {
        lia__req_store_error(r, &e);
        return;
    }
    set_cookie(r, id, max_s(r));
    sodium_memzero(id, sizeof id);
    answer_json(r, 200, who_json(&p, csrf));
}

static void logout(lia__req *r)
{
    char id[LIA__SESSION_ID_LEN + 1], why[300];
    lia_principal p;
    int status;
    if (session_of(r->store, r, &p, &status, why, sizeof why)) {
        snprintf(r->deny, sizeof r->deny, "%.150s", why);
        lia__req_error(r, status, status == 403 ? "Forbidden" : "Unauthorized",
                       status == 403 ? "the session's CSRF token is missing or wrong" : "no session");
        return;
    }
    cookie_id(r, id);
    lia__session_end(r->store, id, NULL);
    sodium_memzero(id, sizeof id);
    set_cookie(r, "", 0);
    answer_json(r, 200, json_pack("{s:b}", "ended", 1));
}

/* The session of a read, or an answer: 0 if r was answered. */
static int need_session(lia__req *r, lia_principal *p, char csrf[LIA__SESSION_ID_LEN + 1])
{
    char id[LIA__SESSION_ID_LEN + 1], why[300];
    int status;
    lia_error e;
    lia_error_clear(&e);
    if (session_of(r->store, r, p, &status, why, sizeof why)) {
        snprintf(r->deny, sizeof r->deny, "%.150s", why);
        lia__req_error(r, status, status == 403 ? "Forbidden" : "Unauthorized", "log in first");
        return 0;
    }
    if (csrf) {
        cookie_id(r, id);
        lia__session_check(r->store, id, lia__now_us(), idle_s(r), max_s(r), p, csrf, &e);
        sodium_memzero(id, sizeof id);
    }
    return 1;
}

/* ---- the dashboard's numbers ---- */

static int group_cb(void *ud, const char *key, uint64_t count)
{
    json_t *a = ud;
    return json_array_append_new(a,
                                 json_pack("{s:s, s:I}", "key", key ? key : "", "count", (json_int_t)count))
               ? -1
               : 0;
}

static int arg_u64(const lia__req *r, const char *name, uint64_t dflt, uint64_t lo, uint64_t hi,
                   uint64_t *out)
{
    for (size_t i = 0; i < r->nargs; i++)
        if (r->args[i].name.len == strlen(name) && !memcmp(r->args[i].name.ptr, name, r->args[i].name.len)) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(r->args[i].value.ptr, &end, 10);
            if (errno || end == r->args[i].value.ptr || *end || v < lo || v > hi)
                return LIA_EINVAL;
            *out = v;
            return LIA_OK;
        }
    *out = dflt;
    return LIA_OK;
}

/* per_day: one list per day of the window, the days without events too */
typedef struct days_ctx {
    json_t *series;
    int64_t first_us;
    size_t ndays;
} days_ctx;

static int day_cb(void *ud, int64_t day_us, const char *cls, uint64_t count)
{
    days_ctx *d = ud;
    int64_t i = (day_us - d->first_us) / (86400LL * 1000000);
    json_t *day = i >= 0 && (size_t)i < d->ndays ? json_array_get(d->series, (size_t)i) : NULL;
    json_t *list = day ? json_object_get(day, "by_class") : NULL;
    if (!list || json_array_size(list) >= 50) /* at most 50 classes a day, as before */
        return 0;
    return group_cb(list, cls, count);
}

static int per_day(lia__req *r, uint64_t days, json_t **out, lia_error *e)
{
    int64_t day = 86400LL * 1000000, now = lia__now_us();
    int64_t end = (now / day + 1) * day;
    days_ctx d = {json_array(), end - (int64_t)days * day, (size_t)days};
    int rc;
    if (!d.series)
        return LIA_ENOMEM;
    for (uint64_t i = 0; i < days; i++) {
        char date[32];
        time_t t = (time_t)((d.first_us + (int64_t)i * day) / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
        if (json_array_append_new(d.series, json_pack("{s:s, s:[]}", "day", date, "by_class"))) {
            json_decref(d.series);
            return LIA_ENOMEM;
        }
    }
    if ((rc = lia_store_rollup_days(r->store, d.first_us, end, day_cb, &d, e))) {
        json_decref(d.series);
        return rc;
    }
    *out = d.series;
    return LIA_OK;
}

static int rollup(lia__req *r, const char *by, uint64_t limit, json_t **out, lia_error *e)
{
    json_t *a = json_array();
    int rc;
    if (!a)
        return LIA_ENOMEM;
    if ((rc = lia_store_rollup(r->store, by, limit, group_cb, a, e))) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return LIA_OK;
}

/* A {key, count} list from one of the store's aggregate calls. */
#define LIST(call)                                                                                           \
    do {                                                                                                     \
        json_t *a_ = json_array();                                                                           \
        if (!a_ || json_object_set_new(res, name_, a_))                                                      \
            goto nomem;                                                                                      \
        if ((rc = (call)))                                                                                   \
            goto fail;                                                                                       \
    } while (0)

/* sla_breaches: lia_sla_breaches, as `liaison sla breaches` and the
 * metrics count them (a hand-off whose running clock is past its target
 * now), by recipient */
typedef struct sla_row {
    char id[72];
    json_int_t n;
} sla_row;

typedef struct sla_ctx {
    json_int_t total, ack, resolve;
    sla_row *by;
    size_t n, cap;
    int oom;
} sla_ctx;

static int sla_cb(void *ud, const lia_sla_breach *b)
{
    sla_ctx *c = ud;
    size_t i;
    c->total++;
    if (strcmp(b->clock, "acknowledge") == 0)
        c->ack++;
    else
        c->resolve++;
    for (i = 0; i < c->n && strcmp(c->by[i].id, b->recipient) != 0; i++)
        ;
    if (i == c->n) {
        if (c->n == c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 16;
            void *nv = realloc(c->by, nc * sizeof *c->by);
            if (!nv) {
                c->oom = 1;
                return 1;
            }
            c->by = nv;
            c->cap = nc;
        }
        snprintf(c->by[i].id, sizeof c->by[i].id, "%s", b->recipient);
        c->by[i].n = 0;
        c->n++;
    }
    c->by[i].n++;
    return 0;
}

static int sla_cmp(const void *a, const void *b)
{
    const sla_row *x = a, *y = b;
    return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->id, y->id);
}

static int sla_json(lia__req *r, json_t **out, lia_error *e)
{
    sla_ctx c;
    json_t *by = NULL;
    int rc;
    memset(&c, 0, sizeof c);
    rc = lia_sla_breaches(r->store, lia__now_us(), NULL, sla_cb, &c, e);
    if (rc == LIA_OK && c.oom)
        rc = LIA_ENOMEM;
    if (rc == LIA_OK && c.n)
        qsort(c.by, c.n, sizeof *c.by, sla_cmp);
    if (rc == LIA_OK && !(by = json_array()))
        rc = LIA_ENOMEM;
    for (size_t i = 0; rc == LIA_OK && i < c.n; i++)
        if (group_cb(by, c.by[i].id, (uint64_t)c.by[i].n))
            rc = LIA_ENOMEM;
    free(c.by);
    if (rc == LIA_OK && !(*out = json_pack("{s:I, s:I, s:I, s:o}", "total", c.total, "ack", c.ack, "resolve",
                                           c.resolve, "by_partner", by)))
        rc = LIA_ENOMEM;
    if (rc)
        json_decref(by);
    return rc;
}

/* exposure: one object per sector, from the store's rollup of extra.sector
 * (src/store/summary.c, docs/console.md "Dashboard numbers") */
static int exposure_json(lia__req *r, uint64_t top, json_t **out, lia_error *e)
{
    static const char *const sectors[] = {"iot", "ics"};
    json_t *list = json_array();
    int rc = list ? LIA_OK : LIA_ENOMEM;
    for (size_t i = 0; rc == LIA_OK && i < sizeof sectors / sizeof *sectors; i++) {
        json_t *tot = json_array(), *proto = json_array(), *prod = json_array(), *o;
        json_int_t total = 0;
        if (!tot || !proto || !prod)
            rc = LIA_ENOMEM;
        if (rc == LIA_OK)
            rc = lia_store_exposure(r->store, sectors[i], NULL, 1, group_cb, tot, e);
        if (rc == LIA_OK)
            rc = lia_store_exposure(r->store, sectors[i], "protocol", top, group_cb, proto, e);
        if (rc == LIA_OK)
            rc = lia_store_exposure(r->store, sectors[i], "product", top, group_cb, prod, e);
        if (rc == LIA_OK && json_array_size(tot))
            total = json_integer_value(json_object_get(json_array_get(tot, 0), "count"));
        json_decref(tot);
        if (rc) {
            json_decref(proto);
            json_decref(prod);
            break;
        }
        o = json_pack("{s:s, s:I, s:o, s:o}", "sector", sectors[i], "total", total, "by_protocol", proto,
                      "by_product", prod);
        if (!o || json_array_append_new(list, o))
            rc = LIA_ENOMEM;
    }
    if (rc) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return LIA_OK;
}

/* feeds: every registered feed, its health word as `liaison feeds health`
 * prints it, and the events its reports stored in the last 24 hours and
 * 7 days (by when they were ingested, not by the events' own times) */
typedef struct feeds_ctx {
    lia__req *r;
    json_t *list;
    int64_t now;
    lia_error *e;
} feeds_ctx;

static int feed_cb(void *ud, const lia_feed_health *h)
{
    feeds_ctx *c = ud;
    const lia_feed *f = h->feed;
    uint64_t d1 = 0, d7 = 0;
    char last[LIA_TIME_TEXT];
    json_t *o;
    int rc;
    if ((rc = lia_store_feed_events_since(c->r->store, f->name, c->now - 86400LL * 1000000, &d1, c->e)) ||
        (rc = lia_store_feed_events_since(c->r->store, f->name, c->now - 7 * 86400LL * 1000000, &d7, c->e)))
        return rc;
    if (f->last_success_us)
        lia_time_format(f->last_success_us, last, sizeof last);
    o = json_pack("{s:s, s:s, s:o, s:I, s:I}", "name", f->name, "health",
                  h->failing   ? "FAILING"
                  : h->late    ? "LATE"
                  : f->enabled ? "ok"
                               : "disabled",
                  "last_ok", f->last_success_us ? json_string(last) : json_null(), "events_24h",
                  (json_int_t)d1, "events_7d", (json_int_t)d7);
    if (!o || json_array_append_new(c->list, o))
        return LIA_ENOMEM;
    return 0;
}

/* GET /console/data/summary?days=N&top=K: every number of the dashboard,
 * each from an aggregate of the store (nothing here walks events): totals
 * by country (all), top ASNs, feeds, classifications, per day of the last
 * N days the counts by classification; hand-offs by state (all, and those
 * to partner CERTs), SLA breaches, the partners most events were routed
 * to, IoT and ICS exposure, feed health, incidents by status
 * (docs/console.md, "Dashboard numbers"). Our own team only: a partner's
 * or a constituent's dashboard is the portal's, over what was handed to
 * it. */
static void summary(lia__req *r)
{
    lia_principal p;
    lia_error e;
    uint64_t days, top, total = 0, open = 0;
    json_t *res = NULL, *v = NULL;
    const char *name_;
    int rc = LIA_OK;
    lia_error_clear(&e);
    if (!need_session(r, &p, NULL))
        return;
    if (p.org_kind != LIA_ORG_OWN) {
        snprintf(r->deny, sizeof r->deny, "%.60s/%.60s: summary is for the own team", p.org, p.user);
        lia__req_error(r, 403, "Forbidden", "the dashboard is for the CERT's own team");
        return;
    }
    if (arg_u64(r, "days", 30, 1, 366, &days) || arg_u64(r, "top", 10, 1, 100, &top)) {
        lia__req_error(r, 400, "Bad Request", "days is 1..366, top 1..100");
        return;
    }
    if (!(res = json_object()))
        goto nomem;
    /* the members the dashboard had, in their shapes */
    if ((rc = lia_store_rollup_total(r->store, &total, &e)))
        goto fail;
    if (json_object_set_new(res, "total", json_integer((json_int_t)total)))
        goto nomem;
    {
        static const struct {
            const char *member, *by;
            int top;
            uint64_t limit;
        } lists[] = {{"by_country", "cc", 0, 400},
                     {"top_asn", "asn", 1, 0},
                     {"top_feed", "feed", 1, 0},
                     {"by_class", "class", 0, 50}};
        for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
            if ((rc = rollup(r, lists[i].by, lists[i].top ? top : lists[i].limit, &v, &e)))
                goto fail;
            if (json_object_set_new(res, lists[i].member, v))
                goto nomem;
        }
    }
    if ((rc = per_day(r, days, &v, &e)))
        goto fail;
    if (json_object_set_new(res, "per_day", v))
        goto nomem;
    /* hand-offs, SLA, routing, exposure, feeds, incidents */
    name_ = "handoffs_by_state";
    LIST(lia_store_handoff_states(r->store, 0, group_cb, a_, &e));
    name_ = "cross_border_by_state";
    LIST(lia_store_handoff_states(r->store, 1, group_cb, a_, &e));
    if ((rc = sla_json(r, &v, &e)))
        goto fail;
    if (json_object_set_new(res, "sla_breaches", v))
        goto nomem;
    /* the routing module's count of routed events (schema "route" 2) on a
     * store that routed before it; read-only: counted from the decisions */
    if ((rc = lia__route_schema(r->store, &e)) && rc != LIA_EREADONLY)
        goto fail;
    lia_error_clear(&e);
    name_ = "top_partner";
    LIST(lia_store_top_recipients(r->store, "partner", top, group_cb, a_, &e));
    if ((rc = exposure_json(r, top, &v, &e)))
        goto fail;
    if (json_object_set_new(res, "exposure", v))
        goto nomem;
    {
        feeds_ctx fc = {r, json_array(), lia__now_us(), &e};
        if (!fc.list || json_object_set_new(res, "feeds", fc.list))
            goto nomem;
        if ((rc = lia_feeds_health(r->store, fc.now, feed_cb, &fc, &e)))
            goto fail;
    }
    {
        json_t *by = json_array();
        if (!by)
            goto nomem;
        if ((rc = lia_store_incident_statuses(r->store, group_cb, by, &open, &e))) {
            json_decref(by);
            goto fail;
        }
        if (json_object_set_new(res, "incidents",
                                json_pack("{s:I, s:o}", "open", (json_int_t)open, "by_status", by)))
            goto nomem;
    }
    answer_json(r, 200, res);
    return;
nomem:
    rc = LIA_ENOMEM;
fail:
    json_decref(res);
    if (rc == LIA_ENOMEM)
        lia__req_error(r, 500, "Server error", "out of memory");
    else
        lia__req_store_error(r, &e);
}

/* ---- static assets ---- */

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
};

/* rel is a safe relative path: segments of [A-Za-z0-9._-], none empty or
 * starting with a dot (no "..", no hidden files). */
static int rel_ok(const char *rel)
{
    const char *seg = rel;
    if (!*rel || strlen(rel) > 200)
        return 0;
    for (const char *c = rel;; c++) {
        if (*c == '/' || !*c) {
            if (c == seg || *seg == '.')
                return 0;
            if (!*c)
                return 1;
            seg = c + 1;
        } else if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                     *c == '.' || *c == '_' || *c == '-')) {
            return 0;
        }
    }
}

static const char *type_of(const char *rel)
{
    const char *dot = strrchr(rel, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return NULL;
}

/* Read dir/rel into r->out: 1, or 0 if there is no such regular file. */
static int read_asset(lia__req *r, const char *dir, const char *rel)
{
    char path[LIA_PATH_MAX];
    struct stat sb;
    int fd, ok = 0;
    if (snprintf(path, sizeof path, "%s/%s", dir, rel) >= (int)sizeof path)
        return 0;
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return 0;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size <= LIA_CONSOLE_MAX_ASSET) {
        char buf[65536];
        ssize_t n;
        ok = 1;
        lia_buf_reset(&r->out);
        while ((n = read(fd, buf, sizeof buf)) > 0)
            if (lia_buf_append(&r->out, buf, (size_t)n)) {
                ok = 0;
                break;
            }
        if (n < 0)
            ok = 0;
    }
    close(fd);
    return ok;
}

static void asset(lia__req *r, const char *rel)
{
    const char *dir = console_dir(r), *type;
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
        lia__req_error(r, 405, "Method Not Allowed", "the console's files are read with GET");
        return;
    }
    if (!*rel)
        rel = "index.html";
    if (!rel_ok(rel)) {
        snprintf(r->deny, sizeof r->deny, "console: unsafe path");
        lia__req_error(r, 404, "Not Found", "no such file");
        return;
    }
    type = type_of(rel);
    if (type && read_asset(r, dir, rel)) {
        r->ctype = type;
        r->status = 200;
        /* Vite names what it builds under assets/ by content hash */
        lia__req_add_header(r, "Cache-Control",
                            !strncmp(rel, "assets/", 7) ? "public, max-age=31536000, immutable" : "no-cache");
        return;
    }
    /* a path of the application (no file extension): the application's page */
    if (!type && read_asset(r, dir, "index.html")) {
        r->ctype = "text/html; charset=utf-8";
        r->status = 200;
        lia__req_add_header(r, "Cache-Control", "no-cache");
        return;
    }
    lia__req_error(r, 404, "Not Found",
                   type ? "no such file"
                        : "the console is not installed (build web/, or serve --console-dir DIR)");
}

static void handle(void *ud, lia__req *r)
{
    const char *rest = r->path + strlen("/console");
    char csrf[LIA__SESSION_ID_LEN + 1];
    lia_principal p;
    (void)ud;
    security_headers(r);
    if (!strcmp(rest, "/login")) {
        if (strcmp(r->method, "POST"))
            lia__req_error(r, 405, "Method Not Allowed", "log in with POST");
        else
            login(r);
    } else if (!strcmp(rest, "/logout")) {
        if (strcmp(r->method, "POST"))
            lia__req_error(r, 405, "Method Not Allowed", "log out with POST");
        else
            logout(r);
    } else if (!strcmp(rest, "/session")) {
        if (need_session(r, &p, csrf))
            answer_json(r, 200, who_json(&p, csrf));
    } else if (!strcmp(rest, "/data/summary")) {
        summary(r);
    } else if (!strncmp(rest, "/data/", 6)) {
        lia__req_error(r, 404, "Not Found", "no such data");
    } else {
        asset(r, rest[0] == '/' ? rest + 1 : rest);
    }
}

int lia__console_mount(lia_http *h, lia_error *err)
{
    static const lia__http_handler hd = {
        .name = "console", .prefix = "/console", .auth = LIA__HTTP_AUTH_NONE, .store = 1, .handle = handle};
    int rc = lia__http_register(h, &hd, err);
    if (rc == LIA_OK)
        lia__http_set_session(h, server_session, NULL);
    return rc;
}
