/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Test helper: HTTP requests to the in-process server on 127.0.0.1, with
 * libcurl (hc_request) or as raw bytes on a socket (hc_raw). */
#ifndef LIA_TEST_HTTP_CLIENT_H
#define LIA_TEST_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "liaison/liaison.h"

#define HC_TAXII "application/taxii+json;version=2.1"

typedef struct hc_resp {
    long status;
    lia_buf body;
    lia_buf head; /* the response's header lines, as received */
    json_t *json;
} hc_resp;

static inline void hc_free(hc_resp *r)
{
    lia_buf_free(&r->body);
    lia_buf_free(&r->head);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static inline size_t hc_on_body(char *p, size_t sz, size_t n, void *ud)
{
    hc_resp *r = ud;
    return lia_buf_append(&r->body, p, sz * n) == LIA_OK ? sz * n : 0;
}

static inline size_t hc_on_head(char *p, size_t sz, size_t n, void *ud)
{
    hc_resp *r = ud;
    return lia_buf_append(&r->head, p, sz * n) == LIA_OK ? sz * n : 0;
}

/* The value of response header name (case-insensitive) copied into out,
 * "" if absent. */
static inline const char *hc_header(hc_resp *r, const char *name, char *out, size_t n)
{
    const char *h = lia_buf_cstr(&r->head);
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *l = h; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            size_t k = 0;
            while (*v == ' ')
                v++;
            while (v[k] && v[k] != '\r' && v[k] != '\n' && k + 1 < n)
                k++;
            memcpy(out, v, k);
            out[k] = '\0';
            break;
        }
    return out;
}

/* The general request to http://127.0.0.1:port/path, from local address
 * from (e.g. "127.0.0.2": every 127/8 address is the loopback; NULL: the
 * default). auth: the whole Authorization value or NULL; hdrs: more header
 * lines (NULL-terminated) or NULL; media: sent as Accept, and as
 * Content-Type with a body, or NULL; body NULL for none. Returns the
 * status, -1 on a transport error. */
static inline long hc_send(const char *from, uint16_t port, const char *method, const char *path,
                           const char *auth, const char *const *hdrs, const char *media, const char *body,
                           hc_resp *r)
{
    char url[2048], h[512];
    struct curl_slist *hs = NULL;
    CURL *c = curl_easy_init();
    memset(r, 0, sizeof *r);
    lia_buf_init(&r->body, 64u << 20);
    lia_buf_init(&r->head, 64u << 10);
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hc_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hc_on_head);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (from)
        curl_easy_setopt(c, CURLOPT_INTERFACE, from);
    if (media) {
        snprintf(h, sizeof h, "Accept: %s", media);
        hs = curl_slist_append(hs, h);
    }
    if (auth) {
        snprintf(h, sizeof h, "Authorization: %s", auth);
        hs = curl_slist_append(hs, h);
    }
    for (size_t i = 0; hdrs && hdrs[i]; i++)
        hs = curl_slist_append(hs, hdrs[i]);
    if (body) {
        if (media) {
            snprintf(h, sizeof h, "Content-Type: %s", media);
            hs = curl_slist_append(hs, h);
        }
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hs);
    if (cc != CURLE_OK) {
        r->status = -1;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        if (r->body.len)
            r->json = json_loadb(r->body.ptr, r->body.len, 0, NULL);
    }
    curl_easy_cleanup(c);
    return r->status;
}

/* A TAXII request (the TAXII media type as Accept, and as Content-Type
 * with a body) from the local address from, NULL for the default. */
static inline long hc_request_from(const char *from, uint16_t port, const char *method, const char *path,
                                   const char *auth, const char *body, hc_resp *r)
{
    return hc_send(from, port, method, path, auth, NULL, HC_TAXII, body, r);
}

static inline long hc_request(uint16_t port, const char *method, const char *path, const char *auth,
                              const char *body, hc_resp *r)
{
    return hc_send(NULL, port, method, path, auth, NULL, HC_TAXII, body, r);
}

/* Send n raw bytes, read the answer until the server closes or is quiet
 * for wait_ms. */
static inline int hc_raw(uint16_t port, const char *req, size_t n, char *out, size_t outn, int wait_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    size_t o = 0, got = 0;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct timeval tv = {wait_ms / 1000, (wait_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (o < n) {
        ssize_t w = write(fd, req + o, n - o);
        if (w <= 0)
            break;
        o += (size_t)w;
    }
    for (;;) {
        ssize_t k = read(fd, out + got, outn - 1 - got);
        if (k <= 0)
            break;
        got += (size_t)k;
        if (got >= outn - 1)
            break;
    }
    out[got] = '\0';
    close(fd);
    return (int)got;
}

/* Number of "HTTP/1.1 " status lines in a raw answer. */
static inline int hc_count_responses(const char *out)
{
    int n = 0;
    for (const char *p = out; (p = strstr(p, "HTTP/1.1 ")); p += 9)
        n++;
    return n;
}

#endif
