/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Polling an IMAP mailbox with libcurl: UID SEARCH UNSEEN, then each
 * message fetched, received (receive.c) and only then marked \Seen. A
 * fetch sets \Seen on the server by itself (BODY[]), so a message that could
 * not be stored gets its \Seen taken back and is fetched again next time. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/internal.h"

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    lia_buf *b = ud;
    return lia_buf_append(b, p, sz * n) ? 0 : sz * n;
}

static int run(CURL *c, const char *url, const char *request, lia_buf *out, lia_error *err)
{
    char eb[CURL_ERROR_SIZE] = "";
    CURLcode cc;
    lia_buf_reset(out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, eb);
    cc = curl_easy_perform(c);
    if (cc == CURLE_WRITE_ERROR && out->err)
        return lia_error_set(err, LIA_ELIMIT, "imap", url, strlen(url), "a message larger than %u bytes",
                             LIA_MAIL_MAX_MESSAGE);
    if (cc != CURLE_OK)
        return lia_error_set(err, cc == CURLE_LOGIN_DENIED ? LIA_EAUTH : LIA_ENET, "imap", url, strlen(url),
                             "%s", eb[0] ? eb : curl_easy_strerror(cc));
    return LIA_OK;
}

int lia_mail_fetch(lia_store *s, const lia_mail_fetch_opts *o, lia_mail_fetch_cb cb, void *ud, lia_error *err)
{
    CURL *c = curl_easy_init();
    lia_buf resp, url;
    uint64_t *uids = NULL;
    size_t nuid = 0, cap = 0;
    int rc = LIA_OK;
    const char *p;
    if (!c)
        return lia_error_set(err, LIA_ENOMEM, "imap", NULL, 0, "out of memory");
    lia_buf_init(&resp, LIA_MAIL_MAX_MESSAGE + 65536);
    lia_buf_init(&url, 8192);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(c, CURLOPT_USERNAME, o->user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, o->password);
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     (long)(strncmp(o->url, "imaps:", 6) == 0 ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if ((rc = run(c, o->url, "UID SEARCH UNSEEN", &resp, err)))
        goto out;
    /* "* SEARCH 1 4 9" */
    for (p = strstr(lia_buf_cstr(&resp), "SEARCH"); p && *p && *p != '\n'; p++) {
        uint64_t v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && v < UINT64_MAX / 10 - 10) {
            v = v * 10 + (uint64_t)(*p++ - '0');
            digits = 1;
        }
        if (digits) {
            if (nuid == cap) {
                size_t nc = cap ? cap * 2 : 64;
                uint64_t *nu = nc < 1000000 ? realloc(uids, nc * sizeof *nu) : NULL;
                if (!nu) {
                    rc = lia_error_set(err, LIA_ELIMIT, "imap", NULL, 0, "too many unseen messages");
                    goto out;
                }
                uids = nu;
                cap = nc;
            }
            uids[nuid++] = v;
        }
        if (!*p)
            break;
    }
    for (size_t i = 0; i < nuid && rc == LIA_OK; i++) {
        lia_mail_outcome res;
        lia_error e2;
        char req[96];
        const char *base = o->url;
        size_t bl = strlen(base);
        int r;
        lia_buf_reset(&url);
        lia_buf_printf(&url, "%.*s/;UID=%llu", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base,
                       (unsigned long long)uids[i]);
        if ((rc = run(c, lia_buf_cstr(&url), NULL, &resp, err)))
            break;
        r = lia_mail_receive(s, lia_buf_cstr(&resp), resp.len, &o->receive, &res, &e2);
        if (r) {
            /* not stored: the message stays unseen for the next poll */
            snprintf(req, sizeof req, "UID STORE %llu -FLAGS (\\Seen)", (unsigned long long)uids[i]);
            run(c, o->url, req, &resp, NULL);
            *err = e2;
            rc = r;
            break;
        }
        snprintf(req, sizeof req, "UID STORE %llu +FLAGS (\\Seen)", (unsigned long long)uids[i]);
        if ((rc = run(c, o->url, req, &resp, err)))
            break;
        if (cb && (rc = cb(ud, uids[i], &res)))
            break;
    }
out:
    free(uids);
    lia_buf_free(&resp);
    lia_buf_free(&url);
    curl_easy_cleanup(c);
    return rc;
}
