/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Sending one message over SMTP (libcurl). */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "notify/internal.h"

/* ---- SMTP (libcurl) ---- */

typedef struct upload {
    const char *p;
    size_t left;
} upload;

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
    upload *u = ud;
    size_t n = size * nmemb < u->left ? size * nmemb : u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

int lia__smtp_send(const char *url, const char *from, const lia_strlist *to, const lia_buf *msg,
                   const char *user, const char *pass, char *errbuf)
{
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    upload u = {msg->ptr, msg->len};
    char addr[512];
    CURLcode r;
    if (!c) {
        snprintf(errbuf, CURL_ERROR_SIZE, "curl_easy_init failed");
        return LIA_ENOMEM;
    }
    errbuf[0] = '\0';
    snprintf(addr, sizeof addr, "<%s>", from);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, addr);
    for (size_t i = 0; i < to->n; i++) {
        struct curl_slist *n;
        snprintf(addr, sizeof addr, "<%s>", to->v[i]);
        if (!(n = curl_slist_append(rcpt, addr))) {
            curl_slist_free_all(rcpt);
            curl_easy_cleanup(c);
            return LIA_ENOMEM;
        }
        rcpt = n;
    }
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len);
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (user && *user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, user);
        if (pass)
            curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
    }
    r = curl_easy_perform(c);
    if (r != CURLE_OK && !errbuf[0])
        snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(r));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return r == CURLE_OK ? LIA_OK : LIA_ENET;
}
