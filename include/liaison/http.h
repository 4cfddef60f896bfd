/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/http.h - the HTTP server (`liaison serve`) and the pure request
 * parsers it uses (headers, media types, Authorization, query strings).
 *
 * The server runs libmicrohttpd with an internal thread pool; each worker
 * borrows a store handle from a pool for the duration of one request, so
 * handlers never share a lia_store. Parsers below are pure functions of
 * their input (no I/O, no globals) and are fuzzed (fuzz/fuzz_http_*.c). */
#ifndef LIAISON_HTTP_H
#define LIAISON_HTTP_H

#include <stdint.h>
#include <stdio.h>

#include "liaison/error.h"
#include "liaison/slice.h"

/* ---- server ---- */

typedef struct lia_http lia_http;

typedef struct lia_http_opts {
    const char *db;         /* store path (each worker opens its own handle) */
    const char *listen;     /* "ADDR:PORT" ("[::1]:PORT" for IPv6); default 127.0.0.1:8443;
                               port 0 picks a free port (see lia_http_port) */
    const char *cert_pem;   /* TLS certificate chain (PEM text); NULL = plain HTTP */
    const char *key_pem;    /* TLS private key (PEM text) */
    unsigned threads;       /* worker threads (0 = one per CPU) */
    size_t max_body;        /* request body cap in bytes (0 = LIA_HTTP_MAX_BODY) */
    size_t max_header;      /* per-connection header memory (0 = LIA_HTTP_MAX_HEADER) */
    unsigned timeout_s;     /* idle connection timeout (0 = LIA_HTTP_TIMEOUT_S) */
    unsigned header_timeout_s; /* absolute: request headers complete within this of the
                                  connection (0 = LIA_HTTP_HEADER_TIMEOUT_S); a body
                                  within this plus its size at min_body_rate */
    double min_body_rate;      /* bytes/s a body must average (0 = LIA_HTTP_MIN_BODY_RATE) */
    unsigned max_conns;     /* simultaneous connections (0 = LIA_HTTP_MAX_CONNS) */
    unsigned per_ip_conns;  /* simultaneous connections from one address (0 = LIA_HTTP_PER_IP_CONNS) */
    double rate;            /* default requests/s per API key or user (0 = LIA_HTTP_RATE) */
    double burst;           /* default bucket size (0 = LIA_HTTP_BURST) */
    int rate_local;         /* 1: the buckets in this process only (one replica, no store write per
                               request); 0: in the store, shared by every server on it
                               (http/rate.h; in-process while the store is locked) */
    FILE *access_log;       /* one line per request; NULL = none */
    const char *public_url; /* base URL used in discovery (default from Host header) */
    const char *console_dir; /* the console's built assets (web/dist); NULL = $LIAISON_CONSOLE_DIR,
                                else the installed share/liaison/console */
    unsigned session_idle_s; /* console session idle expiry (0 = LIA_CONSOLE_IDLE_S) */
    unsigned session_max_s;  /* console session absolute expiry (0 = LIA_CONSOLE_MAX_S) */
} lia_http_opts;

/* Start serving in background threads. Returns LIA_EINVAL (bad listen
 * address or TLS material), LIA_ENET (cannot bind), LIA_ESTORE. */
int lia_http_start(const lia_http_opts *o, lia_http **out, lia_error *err);
/* The port actually bound (useful with port 0). */
uint16_t lia_http_port(const lia_http *h);
/* Stop accepting, finish requests in progress, free everything. NULL ok. */
void lia_http_stop(lia_http *h);

/* ---- pure request parsers ---- */

typedef struct lia_http_header {
    lia_slice name, value;
} lia_http_header;

enum lia_media {
    LIA_MEDIA_NONE = -1,
    LIA_MEDIA_TAXII21 = 0, /* application/taxii+json;version=2.1 */
    LIA_MEDIA_STIX21 = 1,  /* application/stix+json;version=2.1 */
};
#define LIA_MEDIA_TAXII21_STR "application/taxii+json;version=2.1"
#define LIA_MEDIA_STIX21_STR  "application/stix+json;version=2.1"

enum lia_auth_kind { LIA_AUTH_NONE = 0, LIA_AUTH_BASIC = 1, LIA_AUTH_BEARER = 2 };
#define LIA_AUTH_MAX 256
typedef struct lia_http_auth {
    int kind;
    char user[LIA_AUTH_MAX];   /* Basic: user name */
    char secret[LIA_AUTH_MAX]; /* Basic: password; Bearer/Token: the key */
} lia_http_auth;

/* Split a raw query string "a=b&c=d" and call cb with each decoded pair
 * (at most LIA_HTTP_MAX_PARAMS). A non-zero cb return stops and is returned. */
typedef int (*lia_http_param_cb)(void *ud, const char *key, const char *value);

#endif
