/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The HTTP/1.1 server: libmicrohttpd with an internal thread pool (epoll
 * where available), optional TLS, limits on headers, bodies, connections
 * and idle time; HTTP/1.1 framing checks of our own; a table of handlers
 * by path prefix (handler.h), each saying what it requires: authentication
 * (Basic and bearer API keys, a token bucket per key or user), a store
 * handle from the pool, a body limit; one access-log line per request
 * (denials with their reason), and a graceful stop. What is served is
 * registered by others (src/serve/mounts.c): this file names no
 * application.
 *
 * Request lifecycle: the first access-handler call picks the handler,
 * allocates the request and checks the headers; the body arrives in the
 * following calls; the response is queued on a later call (never the
 * first), so keep-alive connections stay usable after an error. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "store/db.h"
#include "core/clock.h"
#include "http/handler.h"
#include "liaison/limits.h"
#include "accounts/internal.h"
#include "http/parse.h"
#include "http/rate.h"
#include "http/throttle.h"
#include "http/watchdog.h"

#define RATE_SLOTS  4096
#define RATE_BUSY_MS 50 /* SQLite: how long a shared bucket waits for the store's lock */
#define AUTH_CACHE  256
#define AUTH_TTL_US (60 * 1000000LL)

typedef struct bucket {
    int64_t who; /* key id, or -user id for password logins; 0 = empty */
    double tokens;
    int64_t at_us;
} bucket;

typedef struct auth_cached {
    unsigned char tag[32]; /* keyed hash of user \0 password */
    int64_t until_us;
    lia_principal p;
} auth_cached;

struct lia_http {
    struct MHD_Daemon *d;
    lia_http_opts o;
    char *db, *public_url, *cert, *key;
    uint16_t port;
    int tls;
    struct sockaddr_storage listen;
    int v6;
    /* handlers by prefix */
    lia__http_handler handlers[LIA__HTTP_MAX_HANDLERS];
    size_t nhandlers;
    /* store pool */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    lia_store **stores;
    int *busy;
    unsigned nstores;
    /* rate limiting */
    pthread_mutex_t rate_mu;
    pthread_mutex_t rate_db_mu; /* SQLite: one shared-bucket write at a time */
    bucket buckets[RATE_SLOTS];
    uint64_t rate_fallbacks; /* shared buckets not answered: in-process instead */
    /* failed logins (throttle.h), under auth_mu; password verification cache */
    lia__throttle *logins;
    pthread_mutex_t auth_mu;
    unsigned char auth_key[32];
    auth_cached cache[AUTH_CACHE];
    /* sessions (handler.h), set before listening */
    lia__http_session_fn session;
    void *session_ud;
    /* absolute deadlines of slow clients (watchdog.h) */
    lia__watchdog *wd;
    /* access log */
    pthread_mutex_t log_mu;
};

/* why authentication failed: an error's field, ": " and reason, whole */
#define AUTH_WHY_MAX (LIA_ERR_FIELD_MAX + 2 + LIA_ERR_REASON_MAX)

typedef struct req {
    lia_http *h;
    lia__wconn *wc;              /* the connection's deadline (NULL: none) */
    const lia__http_handler *hd; /* NULL: no handler for the path */
    int64_t t0;
    int early_status; /* set on the first call when headers are bad */
    int too_large;    /* body went over the handler's limit */
    uint64_t discarded;
    size_t max_body;
    const char *early_why;
    uint64_t content_length;
    lia_buf body;
    int queued;
    int status;
    size_t bytes;
    char who[2 * LIA_NAME_MAX + 32];
    char deny[AUTH_WHY_MAX + 16]; /* "401 " and why, or the status and r.deny */
    char method[16];
    char path[512];
    char peer[64];
} req;
/* ---- store pool ---- */

static lia_store *pool_get(lia_http *h, unsigned *slot)
{
    pthread_mutex_lock(&h->pool_mu);
    for (;;) {
        for (unsigned i = 0; i < h->nstores; i++)
            if (!h->busy[i]) {
                h->busy[i] = 1;
                *slot = i;
                pthread_mutex_unlock(&h->pool_mu);
                return h->stores[i];
            }
        pthread_cond_wait(&h->pool_cv, &h->pool_mu);
    }
}

static void pool_put(lia_http *h, unsigned slot)
{
    pthread_mutex_lock(&h->pool_mu);
    h->busy[slot] = 0;
    pthread_cond_signal(&h->pool_cv);
    pthread_mutex_unlock(&h->pool_mu);
}

/* ---- rate limiting: token bucket per key (or per user for passwords) ---- */

/* In the store (http/rate.h), shared with the other replicas; in this
 * process with rate_local, or when the store cannot answer in time (locked
 * by a writer): each replica then limits on its own for that while. */
static int rate_take(lia_http *h, lia_store *s, const lia_principal *p, double *retry_s)
{
    int64_t who = p->key_id ? p->key_id : -p->user_id;
    double rate = p->rate > 0 ? p->rate : h->o.rate, burst = p->burst > 0 ? p->burst : h->o.burst;
    if (!h->o.rate_local && s) {
        lia_db *db = lia__store_db(s);
        lia_error e;
        int ok = 0, sq = !lia__db_is_pg(db), rc;
        /* SQLite: the process's threads take turns here rather than in
         * SQLite's busy handler (which sleeps milliseconds); a writer of
         * another process (an ingest) is not waited on for long */
        if (sq) {
            pthread_mutex_lock(&h->rate_db_mu);
            lia__db_busy_timeout(db, RATE_BUSY_MS);
        }
        rc = lia__http_rate_take(db, who, rate, burst, lia__now_us(), &ok, retry_s, &e);
        if (sq) {
            lia__db_busy_timeout(db, LIA_HTTP_STORE_BUSY_MS);
            pthread_mutex_unlock(&h->rate_db_mu);
        }
        if (rc == LIA_OK)
            return ok;
        __atomic_add_fetch(&h->rate_fallbacks, 1, __ATOMIC_RELAXED);
    }
    uint64_t x = (uint64_t)who * 0x9E3779B97F4A7C15ull;
    unsigned slot = (unsigned)(x >> 52) % RATE_SLOTS, victim = slot;
    int64_t t = lia__mono_us(), oldest = INT64_MAX;
    int ok;
    pthread_mutex_lock(&h->rate_mu);
    bucket *b = NULL;
    for (unsigned i = 0; i < 16; i++) {
        bucket *c = &h->buckets[(slot + i) % RATE_SLOTS];
        if (c->who == who) {
            b = c;
            break;
        }
        if (c->who == 0 || c->at_us < oldest) {
            oldest = c->who == 0 ? INT64_MIN : c->at_us;
            victim = (slot + i) % RATE_SLOTS;
        }
    }
    if (!b) { /* new, or evicted long-idle: starts full */
        b = &h->buckets[victim];
        b->who = who;
        b->tokens = burst;
        b->at_us = t;
    }
    b->tokens += (double)(t - b->at_us) / 1e6 * rate;
    if (b->tokens > burst)
        b->tokens = burst;
    b->at_us = t;
    ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    else
        *retry_s = (1.0 - b->tokens) / rate;
    pthread_mutex_unlock(&h->rate_mu);
    return ok;
}

/* ---- authentication ---- */

/* The throttle keys of a Basic login: user from this address, the address,
 * the user (keyed hashes: the table's layout cannot be steered). */
enum { LOGIN_PAIR, LOGIN_ADDR, LOGIN_USER, LOGIN_KEYS };
static const unsigned login_free[LOGIN_KEYS] = {LIA_HTTP_LOGIN_FREE, LIA_HTTP_LOGIN_FREE_ADDR,
                                                LIA_HTTP_LOGIN_FREE_USER};

static void login_keys(const lia_http *h, const char *user, const char *peer, lia__throttle_key k[LOGIN_KEYS])
{
    for (int i = 0; i < LOGIN_KEYS; i++) {
        crypto_generichash_state st;
        unsigned char kind = (unsigned char)i;
        crypto_generichash_init(&st, h->auth_key, sizeof h->auth_key, sizeof k[i].b);
        crypto_generichash_update(&st, &kind, 1);
        if (i != LOGIN_ADDR)
            crypto_generichash_update(&st, (const unsigned char *)user, strlen(user) + 1);
        if (i != LOGIN_USER)
            crypto_generichash_update(&st, (const unsigned char *)peer, strlen(peer) + 1);
        crypto_generichash_final(&st, k[i].b, sizeof k[i].b);
    }
}

/* A user and password (Basic, or the console's log-in), throttled: as auth. */
static int password_auth(lia_http *h, lia_store *s, const char *user, const char *secret, const char *peer,
                         lia_principal *p, char *why, size_t whyn, double *retry_s)
{
    lia_error e;
    int rc;
    lia_error_clear(&e);
    unsigned char tag[32];
    crypto_generichash_state st;
    unsigned slot;
    int64_t t = lia__mono_us(), wait = 0;
    lia__throttle_key lk[LOGIN_KEYS];
    login_keys(h, user, peer, lk);
    pthread_mutex_lock(&h->auth_mu);
    for (int i = 0; i < LOGIN_KEYS; i++) {
        int64_t w = lia__throttle_wait(h->logins, &lk[i], t);
        if (w > wait)
            wait = w;
    }
    pthread_mutex_unlock(&h->auth_mu);
    if (wait) {
        *retry_s = (double)wait / 1e6;
        char u[64];
        lia_escape(user, strlen(user), u, sizeof u);
        snprintf(why, whyn, "user %s from %s: too many wrong passwords, back-off %.1f s", u, peer, *retry_s);
        return LIA_ELIMIT;
    }
    crypto_generichash_init(&st, h->auth_key, sizeof h->auth_key, sizeof tag);
    crypto_generichash_update(&st, (const unsigned char *)user, strlen(user) + 1);
    crypto_generichash_update(&st, (const unsigned char *)secret, strlen(secret));
    crypto_generichash_final(&st, tag, sizeof tag);
    slot = tag[0] % AUTH_CACHE;
    pthread_mutex_lock(&h->auth_mu);
    if (h->cache[slot].until_us > t && sodium_memcmp(h->cache[slot].tag, tag, 32) == 0) {
        *p = h->cache[slot].p;
        pthread_mutex_unlock(&h->auth_mu);
        return LIA_OK;
    }
    pthread_mutex_unlock(&h->auth_mu);
    rc = lia__accounts_auth_basic(s, user, secret, p, &e);
    if (rc == LIA_EAUTH) {
        pthread_mutex_lock(&h->auth_mu);
        for (int i = 0; i < LOGIN_KEYS; i++)
            lia__throttle_fail(h->logins, &lk[i], login_free[i], lia__mono_us());
        pthread_mutex_unlock(&h->auth_mu);
    } else if (rc == LIA_OK) {
        pthread_mutex_lock(&h->auth_mu);
        lia__throttle_clear(h->logins, &lk[LOGIN_PAIR]);
        memcpy(h->cache[slot].tag, tag, 32);
        h->cache[slot].p = *p;
        h->cache[slot].until_us = t + AUTH_TTL_US;
        pthread_mutex_unlock(&h->auth_mu);
    }
    sodium_memzero(tag, sizeof tag);
    if (rc)
        snprintf(why, whyn, "%s%s%s", e.field, e.field[0] ? ": " : "", e.reason);
    return rc;
}

/* LIA_OK, LIA_EAUTH (why says why), or LIA_ELIMIT when Basic logins of this
 * user or from this address are in back-off (*retry_s: seconds to wait; no
 * password is checked then). */
static int auth(lia_http *h, lia_store *s, const char *v, const char *peer, lia_principal *p, char *why,
                size_t whyn, double *retry_s)
{
    lia_http_auth a;
    const char *pwhy = NULL;
    lia_error e;
    int rc;
    lia_error_clear(&e);
    if (!v) {
        snprintf(why, whyn, "no credentials");
        return LIA_EAUTH;
    }
    if (lia__http_auth_parse(lia_slice_from(v), &a, &pwhy)) {
        snprintf(why, whyn, "%s", pwhy);
        return LIA_EAUTH;
    }
    if (a.kind == LIA_AUTH_BEARER) {
        rc = lia__accounts_auth_token(s, a.secret, p, &e);
    } else {
        rc = password_auth(h, s, a.user, a.secret, peer, p, why, whyn, retry_s);
        sodium_memzero(&a, sizeof a);
        return rc;
    }
    sodium_memzero(&a, sizeof a);
    if (rc)
        snprintf(why, whyn, "%s%s%s", e.field, e.field[0] ? ": " : "", e.reason);
    return rc;
}

/* ---- access log ---- */

static void log_line(lia_http *h, const req *r)
{
    char ts[32];
    if (!h->o.access_log)
        return;
    lia__stix_time_format(lia__now_us(), ts);
    pthread_mutex_lock(&h->log_mu);
    fprintf(h->o.access_log, "%s %s \"%s %s\" %d %zu %.6f %s%s%s%s\n", ts, r->peer, r->method, r->path,
            r->status, r->bytes, (double)(lia__mono_us() - r->t0) / 1e6, r->who[0] ? r->who : "-",
            r->deny[0] ? " denied=\"" : "", r->deny, r->deny[0] ? "\"" : "");
    fflush(h->o.access_log);
    pthread_mutex_unlock(&h->log_mu);
}

/* ---- handlers ---- */

static int prefix_ok(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n == 0 || p[0] != '/' || n >= 256)
        return 0;
    if (n > 1 && p[n - 1] == '/')
        return 0;
    return 1;
}

/* The handler of path: the longest prefix it starts with at a segment
 * boundary; NULL if none. */
static const lia__http_handler *route(const lia_http *h, const char *path)
{
    const lia__http_handler *best = NULL;
    size_t best_n = 0;
    for (size_t i = 0; i < h->nhandlers; i++) {
        const char *p = h->handlers[i].prefix;
        size_t n = strlen(p);
        if (n == 1) { /* "/" */
            if (!best)
                best = &h->handlers[i], best_n = 1;
            continue;
        }
        if (strncmp(path, p, n) == 0 && (path[n] == '\0' || path[n] == '/') && n > best_n) {
            best = &h->handlers[i];
            best_n = n;
        }
    }
    return best;
}

int lia__http_register(lia_http *h, const lia__http_handler *hd, lia_error *err)
{
    if (h->d)
        return lia_error_set(err, LIA_EINVAL, "handler", hd->name, strlen(hd->name),
                             "handlers are registered before the server listens");
    if (!prefix_ok(hd->prefix) || !hd->handle || !hd->name)
        return lia_error_set(err, LIA_EINVAL, "handler", hd->prefix, hd->prefix ? strlen(hd->prefix) : 0,
                             "a handler needs a name, a callback and a prefix \"/\" or \"/x\" (no trailing "
                             "slash)");
    for (size_t i = 0; i < h->nhandlers; i++)
        if (strcmp(h->handlers[i].prefix, hd->prefix) == 0)
            return lia_error_set(err, LIA_EEXIST, "handler", hd->prefix, strlen(hd->prefix),
                                 "prefix registered already (by %s)", h->handlers[i].name);
    if (h->nhandlers == LIA__HTTP_MAX_HANDLERS)
        return lia_error_set(err, LIA_ELIMIT, "handler", hd->prefix, strlen(hd->prefix),
                             "more than %d handlers", LIA__HTTP_MAX_HANDLERS);
    h->handlers[h->nhandlers++] = *hd;
    return LIA_OK;
}

/* ---- for handlers ---- */

static int ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++) {
        int x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return 0;
    }
    return 1;
}

lia_slice lia__req_header(const lia__req *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (ieq(r->headers[i].name.ptr, r->headers[i].name.len, name))
            return r->headers[i].value;
    return (lia_slice){NULL, 0};
}

int lia__req_add_header(lia__req *r, const char *name, const char *value)
{
    size_t nn = strlen(name), vn = strlen(value);
    if (r->nresp == LIA__HTTP_MAX_RESP_HEADERS || r->resp_used + nn + vn + 2 > sizeof r->resp_text)
        return LIA_ELIMIT;
    char *p = r->resp_text + r->resp_used;
    memcpy(p, name, nn + 1);
    memcpy(p + nn + 1, value, vn + 1);
    r->resp[r->nresp].name = (lia_slice){p, nn};
    r->resp[r->nresp++].value = (lia_slice){p + nn + 1, vn};
    r->resp_used += nn + vn + 2;
    return LIA_OK;
}

void lia__http_problem(lia__req *r, int status, const char *title, const char *detail)
{
    lia_buf_reset(&r->out);
    r->status = status;
    r->ctype = "application/problem+json";
    r->nresp = r->resp_used = 0;
    lia_buf_puts(&r->out, "{\"type\":\"about:blank\",\"title\":");
    lia_buf_json_str(&r->out, title, strlen(title));
    lia_buf_printf(&r->out, ",\"status\":%d,\"detail\":", status);
    lia_buf_json_str(&r->out, detail, strlen(detail));
    lia_buf_putc(&r->out, '}');
}

void lia__req_error(lia__req *r, int status, const char *title, const char *detail)
{
    if (r->handler && r->handler->error)
        r->handler->error(r, status, title, detail);
    else
        lia__http_problem(r, status, title, detail);
}

void lia__req_store_error(lia__req *r, const lia_error *e)
{
    char msg[1024];
    if (e->code == LIA_EBUSY) {
        lia__req_error(r, 503, "Service Unavailable",
                       "the store is busy (another process is writing to it); retry after " LIA_STR(
                           LIA_HTTP_BUSY_RETRY_S) " s");
        r->retry_after = LIA_HTTP_BUSY_RETRY_S;
        return;
    }
    if (e->code == LIA_EREADONLY) {
        lia__req_error(r, 503, "Service Unavailable",
                       "the store is read-only on this server: it answers reads, no writes");
        return;
    }
    if (e->code == LIA_EFULL) {
        lia__req_error(r, 507, "Insufficient Storage", "the server has no space left to store this");
        return;
    }
    lia_error_format(e, msg, sizeof msg);
    lia__req_error(r, 500, "Server error", msg);
}

/* ---- MHD callbacks ---- */

typedef struct hdrs {
    lia_http_header h[64];
    size_t n;
    int overflow;
} hdrs;

/* With the lengths libmicrohttpd read, so a NUL inside a name or value is
 * seen by the framing checks instead of ending the string early. */
static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_len,
                                      const char *value, size_t value_len)
{
    hdrs *hs = cls;
    (void)kind;
    if (hs->n == 64) {
        hs->overflow = 1;
        return MHD_NO;
    }
    hs->h[hs->n].name = (lia_slice){key, key_len};
    hs->h[hs->n++].value = value ? (lia_slice){value, value_len} : lia_slice_from("");
    return MHD_YES;
}

typedef struct args {
    lia_http_header a[LIA_HTTP_MAX_PARAMS];
    size_t n;
    int overflow;
} args;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    args *as = cls;
    (void)kind;
    if (as->n == LIA_HTTP_MAX_PARAMS) {
        as->overflow = 1;
        return MHD_NO;
    }
    as->a[as->n].name = lia_slice_from(key);
    as->a[as->n++].value = lia_slice_from(value ? value : "");
    return MHD_YES;
}

static enum MHD_Result send_resp(req *q, struct MHD_Connection *c, lia__req *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    const char *body = lia_buf_cstr(&r->out);
    resp = MHD_create_response_from_buffer(r->out.len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype ? r->ctype : "application/json");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    int cached = 0; /* a handler may allow caching (the console's hashed assets) */
    for (size_t i = 0; i < r->nresp; i++)
        cached |= ieq(r->resp[i].name.ptr, r->resp[i].name.len, "Cache-Control");
    if (!cached)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (size_t i = 0; i < r->nresp; i++)
        MHD_add_response_header(resp, r->resp[i].name.ptr, r->resp[i].value.ptr);
    /* A Basic challenge makes a browser prompt for a password, and a fetch
     * from the console waits on that prompt: the console's own paths and
     * requests that say they come from a script (X-Requested-With, which
     * the console sends) are challenged with its log-in scheme instead. */
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                !strncmp(r->path, "/console/", 9) ||
                                        lia__req_header(r, "X-Requested-With").ptr
                                    ? "Session realm=\"liaison\""
                                    : "Basic realm=\"liaison\", Bearer realm=\"liaison\"");
    if (r->close) /* the request's end is unknown: nothing after it is read */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if ((r->status == 429 || r->status == 503) && r->retry_after) {
        char ra[32];
        snprintf(ra, sizeof ra, "%u", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    q->queued = 1;
    q->status = r->status;
    q->bytes = r->out.len;
    return ret;
}

static enum MHD_Result simple_error(req *q, struct MHD_Connection *c, int status, const char *title,
                                    const char *why, int close)
{
    lia__req r;
    enum MHD_Result ret;
    memset(&r, 0, sizeof r);
    r.close = close;
    r.handler = q->hd;
    r.method = q->method;
    r.path = q->path;
    lia_buf_init(&r.out, 4096);
    lia__req_error(&r, status, title, why);
    ret = send_resp(q, c, &r);
    lia_buf_free(&r.out);
    return ret;
}

static void base_url(lia_http *h, struct MHD_Connection *c, char *out, size_t n)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (h->public_url) {
        size_t l = strlen(h->public_url);
        while (l && h->public_url[l - 1] == '/')
            l--;
        snprintf(out, n, "%.*s", (int)l, h->public_url);
        return;
    }
    /* Host is echoed into JSON: keep only characters valid in a host:port */
    char clean[256];
    size_t k = 0;
    for (const char *p = host ? host : ""; *p && k + 1 < sizeof clean; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
            *p == '-' || *p == ':' || *p == '[' || *p == ']')
            clean[k++] = *p;
    clean[k] = '\0';
    if (!k)
        snprintf(clean, sizeof clean, "127.0.0.1:%u", h->port);
    snprintf(out, n, "%s://%s", h->tls ? "https" : "http", clean);
}

static enum MHD_Result handle(req *q, struct MHD_Connection *c, const char *url, const char *method)
{
    lia_http *h = q->h;
    const lia__http_handler *hd = q->hd;
    lia__req r;
    unsigned slot = 0;
    lia_store *s = NULL;
    char why[AUTH_WHY_MAX], base[300];
    double retry = 0;
    enum MHD_Result ret;
    int rc;
    hdrs hs;
    args as;
    memset(&r, 0, sizeof r);
    r.handler = hd;
    r.method = method;
    r.path = url;
    r.peer = q->peer;
    r.server = h;
    lia_buf_init(&r.out, LIA_HTTP_MAX_RESPONSE);
    if (!hd) {
        lia__http_problem(&r, 404, "Not Found", "no such resource");
        goto send;
    }
    memset(&hs, 0, sizeof hs);
    memset(&as, 0, sizeof as);
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, &hs);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &as);
    r.headers = hs.h;
    r.nheaders = hs.n;
    r.args = as.a;
    r.nargs = as.n;
    if (as.overflow) {
        lia__req_error(&r, 400, "Bad Request", "more query parameters than the server accepts");
        goto send;
    }
    if (hd->auth == LIA__HTTP_AUTH_REQUIRED || hd->store)
        s = pool_get(h, &slot);
    if (hd->auth == LIA__HTTP_AUTH_REQUIRED) {
        const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        int sstatus = 401;
        if (!v && h->session) /* a session instead (handler.h): 403 for a missing CSRF token */
            rc = h->session(h->session_ud, s, &r, &r.who, &sstatus, why, sizeof why);
        else
            rc = auth(h, s, v, q->peer, &r.who, why, sizeof why, &retry);
        if (rc && sstatus == 403) {
            snprintf(q->deny, sizeof q->deny, "403 %s", why);
            lia__req_error(&r, 403, "Forbidden", "the session's CSRF token is missing or wrong");
            goto send;
        }
        if (rc == LIA_ELIMIT) {
            snprintf(q->deny, sizeof q->deny, "429 %s", why);
            lia__req_error(&r, 429, "Too Many Requests", "too many failed logins; see Retry-After");
            r.retry_after = (unsigned)(retry + 0.999);
            goto send;
        }
        if (rc) {
            snprintf(q->deny, sizeof q->deny, "401 %s", why);
            lia__req_error(&r, 401, "Unauthorized", "authentication required (Basic, Bearer or Token)");
            goto send;
        }
        snprintf(q->who, sizeof q->who, "%s/%s%s", r.who.org, r.who.user, r.who.key_id ? "(key)" : "");
        if (!rate_take(h, s, &r.who, &retry)) {
            snprintf(q->deny, sizeof q->deny, "429 rate limit");
            lia__req_error(&r, 429, "Too Many Requests", "rate limit exceeded; see Retry-After");
            r.retry_after = (unsigned)(retry + 1);
            goto send;
        }
    }
    if (hd->store)
        r.store = s;
    base_url(h, c, base, sizeof base);
    r.base_url = base;
    r.body = lia_buf_cstr(&q->body);
    r.body_len = q->body.len;
    hd->handle(hd->ud, &r);
    if (r.status == 0)
        lia__req_error(&r, 500, "Server error", "no response");
    if (r.deny[0])
        snprintf(q->deny, sizeof q->deny, "%d %s", r.status, r.deny);
    if (r.out.err) {
        lia_buf_free(&r.out);
        lia_buf_init(&r.out, 4096);
        lia__req_error(&r, 500, "Server error", "response too large");
    }
send:
    ret = send_resp(q, c, &r);
    if (s)
        pool_put(h, slot);
    lia_buf_free(&r.out);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **con_cls)
{
    lia_http *h = cls;
    req *q = *con_cls;
    (void)version;
    if (!q) {
        hdrs hs;
        const union MHD_ConnectionInfo *ci;
        if (!(q = calloc(1, sizeof *q)))
            return MHD_NO;
        q->h = h;
        q->hd = route(h, url);
        q->t0 = lia__mono_us();
        q->max_body = h->o.max_body;
        if (q->hd && q->hd->max_body && q->hd->max_body < q->max_body)
            q->max_body = q->hd->max_body;
        lia_buf_init(&q->body, q->max_body);
        snprintf(q->method, sizeof q->method, "%s", method);
        /* log path only: query values may carry tokens of other systems */
        lia_escape(url, strlen(url), q->path, sizeof q->path);
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, q->peer,
                          sizeof q->peer);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, q->peer,
                          sizeof q->peer);
        }
        if (!q->peer[0])
            snprintf(q->peer, sizeof q->peer, "-");
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        q->wc = ci ? ci->socket_context : NULL;
        *con_cls = q;
        memset(&hs, 0, sizeof hs);
        MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, &hs);
        if (hs.overflow) {
            q->early_status = 431;
            q->early_why = "too many header fields";
        } else if (lia__http_check_headers(hs.h, hs.n, &q->content_length, &q->early_why)) {
            q->early_status = 400;
        } else if (q->content_length != UINT64_MAX && q->content_length > q->max_body) {
            q->early_status = 413;
            q->early_why = "request body larger than the server accepts";
        }
        if (!q->early_status) {
            const char *te =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
            lia__watchdog_body(h->wd, q->wc,
                               q->content_length != UINT64_MAX ? q->content_length
                               : te                            ? q->max_body
                                                               : 0);
        }
        if (q->early_status) {
            lia__watchdog_idle(h->wd, q->wc);
            /* Framing is ambiguous or the body too large: answer now, before
             * any body is read; MHD then closes the connection (it cannot
             * know where this request ends). Every other response is queued
             * on a later call, after the whole body, so keep-alive works. */
            snprintf(q->deny, sizeof q->deny, "%d %s", q->early_status, q->early_why);
            return simple_error(q, c, q->early_status,
                                q->early_status == 413   ? "Payload Too Large"
                                : q->early_status == 431 ? "Request Header Fields Too Large"
                                                         : "Bad Request",
                                q->early_why, 1);
        }
        return MHD_YES;
    }
    if (q->queued) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!q->too_large && lia_buf_append(&q->body, upload_data, *upload_size))
            q->too_large = 1;
        if (q->too_large) {
            /* chunked body over the limit: discard the rest (up to a bound,
             * then drop the connection) and answer 413 at the end */
            q->discarded += *upload_size;
            if (q->discarded > 4 * (uint64_t)q->max_body) {
                snprintf(q->deny, sizeof q->deny, "413 body over limit; connection dropped");
                return MHD_NO;
            }
        }
        *upload_size = 0;
        lia__watchdog_progress(h->wd, q->wc, q->body.len + q->discarded);
        return MHD_YES;
    }
    lia__watchdog_idle(h->wd, q->wc);
    if (q->too_large) {
        snprintf(q->deny, sizeof q->deny, "413 body over limit");
        return simple_error(q, c, 413, "Payload Too Large", "request body larger than the server accepts", 0);
    }
    return handle(q, c, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    lia_http *h = cls;
    req *q = *con_cls;
    (void)c;
    if (!q)
        return;
    if (!q->queued) {
        q->status = 0;
        snprintf(q->deny, sizeof q->deny, "connection ended (%d)", (int)toe);
    }
    log_line(h, q);
    lia__watchdog_next(h->wd, q->wc);
    lia_buf_free(&q->body);
    free(q);
    *con_cls = NULL;
}

/* Connections start and end: their deadlines (watchdog.h). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    lia_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        char peer[64] = "-";
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, peer,
                          sizeof peer);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, peer,
                          sizeof peer);
        }
        *socket_context = fd ? lia__watchdog_add(h->wd, fd->connect_fd, peer) : NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        lia__watchdog_remove(h->wd, *socket_context);
        *socket_context = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    lia_http *h = cls;
    char msg[512];
    char ts[32];
    if (!h->o.access_log)
        return;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t l = strlen(msg);
    while (l && (msg[l - 1] == '\n' || msg[l - 1] == '\r'))
        msg[--l] = '\0';
    lia__stix_time_format(lia__now_us(), ts);
    pthread_mutex_lock(&h->log_mu);
    fprintf(h->o.access_log, "%s - \"httpd\" %s\n", ts, msg);
    fflush(h->o.access_log);
    pthread_mutex_unlock(&h->log_mu);
}

/* The watchdog shut a slow connection down (its lock held: no call back). */
static void on_expired(void *ud, const char *peer, int phase, double age_s)
{
    lia_http *h = ud;
    char ts[32];
    if (!h->o.access_log)
        return;
    lia__stix_time_format(lia__now_us(), ts);
    pthread_mutex_lock(&h->log_mu);
    fprintf(h->o.access_log,
            "%s %s \"httpd\" connection closed: %s not complete after %.1f s (slow client)\n", ts, peer,
            phase == LIA__W_BODY ? "request body" : "request headers", age_s);
    fflush(h->o.access_log);
    pthread_mutex_unlock(&h->log_mu);
}

/* /health: the server's own; no credentials, no store. */
static void health(void *ud, lia__req *r)
{
    (void)ud;
    if (strcmp(r->path, "/health") != 0 && strcmp(r->path, "/health/") != 0) {
        lia__http_problem(r, 404, "Not Found", "no such resource");
        return;
    }
    lia_buf_puts(&r->out, "{\"status\":\"ok\"}");
    r->ctype = "application/json";
    r->status = 200;
}

/* ---- start / stop ---- */

static int parse_listen(const char *l, struct sockaddr_storage *ss, int *v6, lia_error *err)
{
    char host[128];
    const char *colon, *hs = l, *he;
    uint64_t port = 0;
    memset(ss, 0, sizeof *ss);
    if (l[0] == '[') {
        he = strchr(l, ']');
        if (!he || he[1] != ':')
            goto bad;
        hs = l + 1;
        colon = he + 1;
    } else {
        colon = strrchr(l, ':');
        if (!colon)
            goto bad;
        he = colon;
    }
    if ((size_t)(he - hs) >= sizeof host || colon[1] == '\0')
        goto bad;
    memcpy(host, hs, (size_t)(he - hs));
    host[he - hs] = '\0';
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9' || port > 65535)
            goto bad;
        port = port * 10 + (uint64_t)(*p - '0');
    }
    if (port > 65535)
        goto bad;
    struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *v6 = 0;
        return LIA_OK;
    }
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *v6 = 1;
        return LIA_OK;
    }
bad:
    return lia_error_set(err, LIA_EINVAL, "listen", l, strlen(l),
                         "expected ADDR:PORT with a numeric address (e.g. 127.0.0.1:8443)");
}

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int lia__http_create(const lia_http_opts *o, lia_http **out, lia_error *err)
{
    lia_http *h;
    struct sockaddr_storage ss;
    int v6 = 0, rc;
    if (sodium_init() < 0)
        return lia_error_set(err, LIA_ECRYPTO, NULL, NULL, 0, "libsodium init failed");
    if ((o->cert_pem == NULL) != (o->key_pem == NULL))
        return lia_error_set(err, LIA_EINVAL, "tls", NULL, 0,
                             "give both a certificate and a key, or neither");
    if ((rc = parse_listen(o->listen ? o->listen : "127.0.0.1:8443", &ss, &v6, err)))
        return rc;
    if (!(h = calloc(1, sizeof *h)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "server");
    h->o = *o;
    if (!h->o.threads) { /* one worker per CPU: more only adds switching (docs/performance.md) */
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        h->o.threads = ncpu > 0 ? (unsigned)(ncpu > 64 ? 64 : ncpu) : 2;
    }
    if (!h->o.max_body)
        h->o.max_body = LIA_HTTP_MAX_BODY;
    if (!h->o.max_header)
        h->o.max_header = LIA_HTTP_MAX_HEADER;
    if (!h->o.timeout_s)
        h->o.timeout_s = LIA_HTTP_TIMEOUT_S;
    if (!h->o.max_conns)
        h->o.max_conns = LIA_HTTP_MAX_CONNS;
    if (!h->o.per_ip_conns)
        h->o.per_ip_conns = LIA_HTTP_PER_IP_CONNS;
    if (!h->o.header_timeout_s)
        h->o.header_timeout_s = LIA_HTTP_HEADER_TIMEOUT_S;
    if (!(h->o.min_body_rate > 0))
        h->o.min_body_rate = LIA_HTTP_MIN_BODY_RATE;
    if (!(h->o.rate > 0))
        h->o.rate = LIA_HTTP_RATE;
    if (!(h->o.burst > 0))
        h->o.burst = LIA_HTTP_BURST;
    h->listen = ss;
    h->v6 = v6;
    h->db = dup_or_null(o->db);
    h->public_url = dup_or_null(o->public_url);
    h->cert = dup_or_null(o->cert_pem);
    h->key = dup_or_null(o->key_pem);
    h->tls = o->cert_pem != NULL;
    randombytes_buf(h->auth_key, sizeof h->auth_key);
    h->logins =
        lia__throttle_create(LIA_HTTP_LOGIN_SLOTS, LIA_HTTP_LOGIN_BACKOFF_S * 1000000LL,
                             LIA_HTTP_LOGIN_BACKOFF_MAX_S * 1000000LL, LIA_HTTP_LOGIN_FORGET_S * 1000000LL);
    pthread_mutex_init(&h->pool_mu, NULL);
    pthread_cond_init(&h->pool_cv, NULL);
    pthread_mutex_init(&h->rate_mu, NULL);
    pthread_mutex_init(&h->rate_db_mu, NULL);
    pthread_mutex_init(&h->auth_mu, NULL);
    pthread_mutex_init(&h->log_mu, NULL);
    h->nstores = h->o.threads + 1;
    h->stores = calloc(h->nstores, sizeof *h->stores);
    h->busy = calloc(h->nstores, sizeof *h->busy);
    if (!h->db || !h->stores || !h->busy || !h->logins || (o->public_url && !h->public_url) ||
        (o->cert_pem && !h->cert) || (o->key_pem && !h->key)) {
        lia_http_stop(h);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "server");
    }
    static const lia__http_handler health_handler = {
        .name = "health", .prefix = "/health", .auth = LIA__HTTP_AUTH_NONE, .handle = health};
    if ((rc = lia__http_register(h, &health_handler, err))) {
        lia_http_stop(h);
        return rc;
    }
    *out = h;
    return LIA_OK;
}

int lia__http_listen(lia_http *h, lia_error *err)
{
    unsigned flags;
    int rc;
    for (unsigned i = 0; i < h->nstores; i++) {
        if ((rc = lia_store_open(h->db, &h->stores[i], err)))
            return rc;
        /* the server authenticates: the accounts tables are its business */
        if ((rc = lia__accounts_init(h->stores[i], err)))
            return rc;
        for (size_t k = 0; k < h->nhandlers; k++)
            if (h->handlers[k].store_init &&
                (rc = h->handlers[k].store_init(h->handlers[k].ud, h->stores[i], err)))
                return rc;
        /* one handle per worker: bound the page cache of each (64 MiB) */
        lia__db_set_cache(lia__store_db(h->stores[i]), (size_t)64 << 20);
        /* a store another process is writing holds a worker at most this
         * long; then the handler answers 503 with Retry-After (LIA_EBUSY) */
        lia__db_busy_timeout(lia__store_db(h->stores[i]), LIA_HTTP_STORE_BUSY_MS);
    }
    /* headers of a kept-alive connection's next request: within the idle timeout */
    if ((rc = lia__watchdog_start((int64_t)h->o.header_timeout_s * 1000000, (int64_t)h->o.timeout_s * 1000000,
                                  h->o.min_body_rate, on_expired, h, &h->wd)))
        return lia_error_set(err, rc, "listen", NULL, 0, "cannot start the connection watchdog");
    flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (h->v6)
        flags |= MHD_USE_IPv6;
    if (h->tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, h->key},
        {MHD_OPTION_END, 0, NULL},
    };
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&h->listen, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)h->o.threads,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)h->o.max_header, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)h->o.timeout_s, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)h->o.max_conns,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)h->o.per_ip_conns, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_ARRAY, h->tls ? tls_opts : tls_opts + 2, MHD_OPTION_END);
    if (!h->d) {
        const char *l = h->o.listen;
        return lia_error_set(err, h->tls ? LIA_EINVAL : LIA_ENET, "listen", l, l ? strlen(l) : 0,
                             h->tls ? "cannot start (address in use, or bad TLS certificate/key)"
                                    : "cannot listen (address in use or not available)");
    }
    {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
        h->port = di ? di->port : 0;
    }
    return LIA_OK;
}

void lia__http_set_session(lia_http *h, lia__http_session_fn fn, void *ud)
{
    h->session = fn;
    h->session_ud = ud;
}

const lia_http_opts *lia__http_options(const lia_http *h)
{
    return &h->o;
}

int lia__http_tls(const lia_http *h)
{
    return h->tls;
}

int lia__http_password_login(lia__req *r, const char *user, const char *password, lia_principal *p,
                             double *retry_s, char *why, size_t whyn)
{
    if (!r->server || !r->store) {
        snprintf(why, whyn, "no store for the log-in");
        return LIA_EINVAL;
    }
    return password_auth(r->server, r->store, user, password, r->peer ? r->peer : "", p, why, whyn, retry_s);
}

uint16_t lia_http_port(const lia_http *h)
{
    return h->port;
}

void lia_http_stop(lia_http *h)
{
    if (!h)
        return;
    /* MHD_stop_daemon alone: MHD_quiesce_daemon just before it added
     * nothing (no wait between them), and with a thread pool on epoll it
     * races a worker that took the listen socket out of its epoll set at the
     * connection limit: "Failed to remove listen FD from epoll set", a fatal
     * error (libmicrohttpd 0.9.75; seen once in test_console under load) */
    if (h->d)
        MHD_stop_daemon(h->d);
    lia__watchdog_stop(h->wd); /* after the daemon: every connection was removed */
    for (unsigned i = 0; h->stores && i < h->nstores; i++)
        lia_store_close(h->stores[i]);
    free(h->stores);
    free(h->busy);
    pthread_mutex_destroy(&h->pool_mu);
    pthread_cond_destroy(&h->pool_cv);
    pthread_mutex_destroy(&h->rate_mu);
    pthread_mutex_destroy(&h->rate_db_mu);
    pthread_mutex_destroy(&h->auth_mu);
    lia__throttle_destroy(h->logins);
    pthread_mutex_destroy(&h->log_mu);
    free(h->db);
    free(h->public_url);
    if (h->key)
        sodium_memzero(h->key, strlen(h->key));
    free(h->cert);
    free(h->key);
    sodium_memzero(h->auth_key, sizeof h->auth_key);
    free(h);
}
