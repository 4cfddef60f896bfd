/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The seam between the HTTP server (server.c) and what it serves, as h2o's
 * h2o_handler_t: an application registers handlers, each a path prefix
 * with a callback, its user data and what the server must do for it
 * before the callback runs (authenticate, borrow a store handle, bound
 * the body). The server knows nothing of what is behind a prefix: TAXII
 * registers itself from src/taxii/ (taxii_http.h), the REST API and the
 * console will do the same, and src/serve/mounts.c is the one table of
 * what `liaison serve` mounts. Internal to libliaison.
 *
 * Routing: the longest registered prefix that the path starts with, at a
 * segment boundary ("/api/v1" matches "/api/v1" and "/api/v1/x", never
 * "/api/v1x"); "/" matches every path. No match: 404 in the server's JSON.
 *
 * Errors the server answers itself on a handler's behalf (bad framing 400,
 * 401, 413, 429, 431, 503) are written by the handler's error callback,
 * so a client sees one dialect per prefix; without one they are RFC 9457
 * problem details (application/problem+json). */
#ifndef LIA_HTTP_HANDLER_H
#define LIA_HTTP_HANDLER_H

#include <stddef.h>

#include "liaison/accounts.h"
#include "liaison/http.h"
#include "liaison/store.h"

#define LIA__HTTP_MAX_HANDLERS     16 /* registered handlers */
#define LIA__HTTP_MAX_RESP_HEADERS 8  /* extra response headers a handler may add */

/* What a handler requires of the caller before it is called. */
enum lia__http_auth {
    LIA__HTTP_AUTH_NONE = 0,     /* anyone; no credentials are read (r->who stays zero) */
    LIA__HTTP_AUTH_REQUIRED = 1, /* Basic, Bearer or Token, checked, throttled and rate limited
                                    by the server: 401 / 429 before the handler runs; without an
                                    Authorization header, a session (lia__http_set_session) */
};

/* One request as a handler sees it, and the response it fills. The server
 * builds it for one call of the handler; every pointer is borrowed for the
 * call. A test may build one by hand (tests/unit/oom does). */
typedef struct lia__req {
    /* ---- request ---- */
    const char *method;             /* "GET", "POST", ... */
    const char *path;               /* decoded path, without the query */
    const lia_http_header *headers; /* as received (names in any case) */
    size_t nheaders;
    const lia_http_header *args; /* decoded query parameters, in order (at most LIA_HTTP_MAX_PARAMS) */
    size_t nargs;
    const char *base_url; /* "https://host:port" (no trailing slash) */
    const char *body;     /* the whole body, NUL-terminated; at most the handler's max_body */
    size_t body_len;
    const char *peer;  /* the client's address, as text */
    lia_principal who; /* the authenticated caller (LIA__HTTP_AUTH_REQUIRED), else zero */
    lia_store *store;  /* a handle of the server's pool for this call (NULL unless .store) */
    const struct lia__http_handler *handler;
    lia_http *server; /* the server answering (lia__http_password_login, lia__http_options) */
    /* ---- response ---- */
    int status;           /* 0 = the handler answered nothing: the server answers 500 */
    lia_buf out;          /* the body; initialised by the server (LIA_HTTP_MAX_RESPONSE) */
    const char *ctype;    /* media type, a static string (NULL = application/json) */
    unsigned retry_after; /* seconds; sent as Retry-After with 429 and 503 */
    int close;            /* ask the client to close: the request's end is not known */
    lia_http_header resp[LIA__HTTP_MAX_RESP_HEADERS];
    size_t nresp;
    char resp_text[1024]; /* storage of resp[] */
    size_t resp_used;
    char deny[160]; /* why access was denied, for the access log ("" = not denied) */
} lia__req;

/* Handle one request: fill r->status, r->out, r->ctype. Called on a worker
 * thread, concurrently with other requests: ud is shared, r and r->store
 * are this call's alone. */
typedef void (*lia__http_handle_fn)(void *ud, lia__req *r);
/* Write an error in the handler's dialect into r (reset r->out first). */
typedef void (*lia__http_error_fn)(lia__req *r, int status, const char *title, const char *detail);
/* Prepare one store handle of the pool (e.g. register SQL functions,
 * create tables); called once per handle when the server starts. */
typedef int (*lia__http_store_fn)(void *ud, lia_store *s, lia_error *err);

typedef struct lia__http_handler {
    const char *name;   /* short, for the log ("taxii", "health") */
    const char *prefix; /* "/" or "/x[/y...]" without a trailing slash */
    int auth;           /* enum lia__http_auth */
    int store;          /* non-zero: borrow a store handle for the call */
    size_t max_body;    /* request body cap in bytes; 0 = the server's (--max-body), never above it */
    lia__http_handle_fn handle;
    lia__http_error_fn error;      /* NULL = problem details */
    lia__http_store_fn store_init; /* NULL = none */
    void *ud;
} lia__http_handler;

/* A server that is not listening yet: options as lia_http_start's. The
 * server registers its own /health (no authentication, no store). */
int lia__http_create(const lia_http_opts *o, lia_http **out, lia_error *err);
/* Register a handler (copied; its strings and ud must outlive the server).
 * Only before lia__http_listen. LIA_EINVAL for a bad prefix or no handle,
 * LIA_EEXIST for a prefix registered already, LIA_ELIMIT beyond
 * LIA__HTTP_MAX_HANDLERS. */
int lia__http_register(lia_http *h, const lia__http_handler *hd, lia_error *err);
/* Open the store pool (each handle prepared by every handler's store_init)
 * and start listening. On failure the server is left to lia_http_stop. */
int lia__http_listen(lia_http *h, lia_error *err);

/* ---- sessions: a second way in for LIA__HTTP_AUTH_REQUIRED ---- */

/* Check the session a request without an Authorization header carries (a
 * cookie, for the console: src/console/): LIA_OK with *p filled, or
 * LIA_EAUTH with *status 401 (no session, unknown or expired) or 403 (a
 * state-changing request without the session's CSRF token) and why set.
 * Called on a worker thread with the request's store handle. */
typedef int (*lia__http_session_fn)(void *ud, lia_store *s, const lia__req *r, lia_principal *p, int *status,
                                    char *why, size_t whyn);
/* Accept sessions checked by fn on every LIA__HTTP_AUTH_REQUIRED handler
 * (one session method per server; a later call replaces it). Only before
 * lia__http_listen; ud must outlive the server. */
void lia__http_set_session(lia_http *h, lia__http_session_fn fn, void *ud);

/* ---- for handlers ---- */

/* The server's options, defaults filled in (threads, limits). */
const lia_http_opts *lia__http_options(const lia_http *h);
/* 1 if the server speaks TLS. */
int lia__http_tls(const lia_http *h);
/* Check user and password as a Basic login is checked: the same throttle
 * (per user+address, address, user), the same argon2id cost for unknown
 * users. LIA_OK with *p filled; LIA_EAUTH (why says why); LIA_ELIMIT while
 * in back-off (*retry_s seconds; no password checked). r->store must be
 * set (a handler with .store). */
int lia__http_password_login(lia__req *r, const char *user, const char *password, lia_principal *p,
                             double *retry_s, char *why, size_t whyn);

/* The value of request header name (case-insensitive), {NULL, 0} if absent. */
lia_slice lia__req_header(const lia__req *r, const char *name);
/* Add a response header (name and value copied). LIA_ELIMIT when the
 * headers or their storage are full. */
int lia__req_add_header(lia__req *r, const char *name, const char *value);
/* Answer an error in the handler's dialect (r->handler->error, or problem
 * details). */
void lia__req_error(lia__req *r, int status, const char *title, const char *detail);
/* Answer a store failure in the handler's dialect: LIA_EBUSY (another
 * process held the store locked for LIA_HTTP_STORE_BUSY_MS) is 503 with
 * Retry-After (LIA_HTTP_BUSY_RETRY_S) and a detail saying the store is
 * busy, LIA_EREADONLY (a write to a read-only store) 503 without
 * Retry-After, LIA_EFULL 507; these never name the server's file.
 * Anything else is 500 with e's text. */
void lia__req_store_error(lia__req *r, const lia_error *e);
/* RFC 9457 problem details: {"type":"about:blank","title","status","detail"}. */
void lia__http_problem(lia__req *r, int status, const char *title, const char *detail);

#endif
