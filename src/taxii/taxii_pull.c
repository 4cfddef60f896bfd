/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* TAXII 2.1 client: `liaison taxii pull URL COLLECTION`.
 *
 * Pages through {URL}collections/{COLLECTION}/objects/ with added_after and
 * next; every page becomes one report of the store (identified by the hash
 * of its bytes, so a page stored twice is skipped) whose events are the
 * observables of its objects, with each object's TLP kept. The cursor
 * (added_after of the run, next token, last date_added seen) is stored per
 * source after each page, so an interrupted pull resumes where it stopped.
 *
 * Objects become events through the STIX importer (format "stix",
 * src/share/stix_import.c), so pulled data runs through the same pipeline
 * (normalise, enrich, dedup, route) as any other feed. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/field.h"
#include "liaison/ingest.h"
#include "liaison/http.h"
#include "liaison/limits.h"
#include "liaison/taxii.h"
#include "store/db.h"
#include "taxii/taxii_internal.h"
#include "http/parse.h"

/* ---- cursor ---- */

typedef struct cursor {
    int64_t added_after; /* filter of the current run, -1 none */
    int64_t last_added;  /* largest date_added stored, -1 none */
    char next[512];
} cursor;

/* The cursor of src (1), or none yet (0, c reset), or a read error (< 0). */
static int cursor_get(lia_db *db, const char *src, cursor *c, lia_error *err)
{
    lia_stmt *st;
    int rc;
    c->added_after = c->last_added = -1;
    c->next[0] = '\0';
    if ((rc = lia__db_prepare(db, "TAXII pull: reading the cursor",
                              "SELECT added_after, last_added, next FROM taxii_cursors WHERE source = ?1",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, src, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        if (!lia__db_col_null(st, 0))
            c->added_after = lia__db_col_int64(st, 0);
        if (!lia__db_col_null(st, 1))
            c->last_added = lia__db_col_int64(st, 1);
        if (!lia__db_col_null(st, 2))
            snprintf(c->next, sizeof c->next, "%s", lia__db_col_text(st, 2));
    }
    lia__db_done(st);
    return rc;
}

static int cursor_put(lia_db *db, const char *src, const cursor *c, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "TAXII pull: storing the cursor",
                              "INSERT INTO taxii_cursors(source, added_after, last_added, next, updated)"
                              " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(source) DO UPDATE SET"
                              " added_after = excluded.added_after, last_added = excluded.last_added,"
                              " next = excluded.next, updated = excluded.updated",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, src, -1);
    if (c->added_after >= 0)
        lia__db_bind_int64(st, 2, c->added_after);
    else
        lia__db_bind_null(st, 2);
    if (c->last_added >= 0)
        lia__db_bind_int64(st, 3, c->last_added);
    else
        lia__db_bind_null(st, 3);
    lia__db_bind_text(st, 4, c->next[0] ? c->next : NULL, -1);
    lia__db_bind_int64(st, 5, (int64_t)time(NULL));
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

/* ---- HTTP ---- */

typedef struct page {
    lia_buf body;
    char ctype[128];
    char last[64]; /* X-TAXII-Date-Added-Last */
} page;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    page *pg = ud;
    return lia_buf_append(&pg->body, p, sz * n) == LIA_OK ? sz * n : 0;
}

static void header_value(const char *p, size_t len, const char *name, char *out, size_t outn)
{
    size_t nl = strlen(name), s = nl, e = len;
    if (len <= nl || strncasecmp(p, name, nl) != 0)
        return;
    while (s < e && p[s] == ' ')
        s++;
    while (e > s && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '))
        e--;
    snprintf(out, outn, "%.*s", (int)(e - s), p + s);
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    page *pg = ud;
    size_t len = sz * n;
    header_value(p, len, "Content-Type:", pg->ctype, sizeof pg->ctype);
    header_value(p, len, "X-TAXII-Date-Added-Last:", pg->last, sizeof pg->last);
    return len;
}

static int fetch(CURL *c, const char *url, const lia_taxii_pull_opts *o, page *pg, lia_error *err)
{
    struct curl_slist *hs = NULL;
    char auth[600];
    long status = 0;
    CURLcode cc;
    lia_buf_reset(&pg->body);
    pg->ctype[0] = '\0';
    pg->last[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, pg);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, pg);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT,
                     "liaison-taxii/"
                     "0.1");
    if (o->cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
    if (o->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    hs = curl_slist_append(hs, "Accept: " LIA_MEDIA_TAXII21_STR);
    if (o->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
        hs = curl_slist_append(hs, auth);
        sodium_memzero(auth, sizeof auth);
    } else if (o->user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, o->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, o->password ? o->password : "");
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    cc = curl_easy_perform(c);
    curl_slist_free_all(hs);
    if (cc != CURLE_OK)
        return lia_error_set(err, pg->body.err ? LIA_ELIMIT : LIA_ENET, "url", url, strlen(url), "%s",
                             pg->body.err ? "page larger than the client accepts" : curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status == 401 || status == 403)
        return lia_error_set(err, LIA_EAUTH, "url", url, strlen(url),
                             "server answered %ld (credentials or collection access)", status);
    if (status != 200)
        return lia_error_set(err, LIA_ENET, "url", url, strlen(url), "server answered %ld: %.120s", status,
                             lia_buf_cstr(&pg->body));
    if (!strstr(pg->ctype, "application/taxii+json"))
        return lia_error_set(err, LIA_EPARSE, "Content-Type", pg->ctype, strlen(pg->ctype),
                             "not a TAXII 2.1 response");
    return LIA_OK;
}

/* ---- one page into the store ---- */

/* The page goes through the pipeline as one report of format "stix" (the
 * STIX importer of src/share): parse, normalise, enrich, dedup, route,
 * store; a page already ingested (same bytes) is recognised and skipped. */
static int store_page(lia_store *s, const lia_taxii_pull_opts *o, const char *src, uint64_t pageno,
                      const page *pg, lia_taxii_pull_result *res, lia_error *err)
{
    char name[300];
    lia_ingest_opts io;
    lia_ingest_result ir;
    int rc;
    snprintf(name, sizeof name, "taxii:%.200s page %llu", src, (unsigned long long)pageno);
    memset(&io, 0, sizeof io);
    io.format = "stix";
    io.feed.feed = o->feed ? o->feed : "taxii";
    io.feed.report_name = name;
    io.feed.tlp = o->default_tlp >= 0 ? o->default_tlp : LIA_TLP_AMBER;
    io.feed.observed_us = (int64_t)time(NULL) * 1000000;
    io.archive = 1;
    io.stop = o->stop;
    rc = lia_ingest_buffer(s, &io, pg->body.ptr, pg->body.len, &ir, err);
    if (rc)
        return rc;
    if (ir.skipped) {
        res->pages_seen++;
        return LIA_OK;
    }
    res->events += ir.report.events;
    res->quarantined += ir.report.quarantined;
    return LIA_OK;
}

int lia_taxii_pull(lia_store *s, const lia_taxii_pull_opts *o, lia_taxii_pull_result *res, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    CURL *c = NULL;
    page pg;
    cursor cur;
    char src[1024], url[4096], ts[32];
    char *ecoll = NULL;
    int rc;
    memset(res, 0, sizeof *res);
    lia_buf_init(&pg.body, LIA_TAXII_PULL_MAX_BODY);
    if (!o->url || strncmp(o->url, "http", 4) != 0 || strlen(o->url) > 2048 || !o->collection ||
        !*o->collection)
        return lia_error_set(err, LIA_EINVAL, "url", o->url, o->url ? strlen(o->url) : 0,
                             "expected an API root URL (http[s]://host/root/) and a collection");
    if ((rc = lia_taxii_init(s, err)))
        return rc;
    size_t ul = strlen(o->url);
    snprintf(src, sizeof src, "%s%s %s", o->url, o->url[ul - 1] == '/' ? "" : "/", o->collection);
    if ((rc = cursor_get(db, src, &cur, err)) < 0)
        return rc;
    res->resumed = rc == LIA_DB_ROW && cur.next[0] != '\0';
    if (!(c = curl_easy_init()) || !(ecoll = curl_easy_escape(c, o->collection, 0))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "curl");
        goto out;
    }
    if (!cur.next[0]) /* a new run starts after what we have */
        cur.added_after = cur.last_added;
    for (;;) {
        lia__taxii_page env;
        if (o->stop && *o->stop) {
            rc = lia_error_set(err, LIA_EINTR, NULL, NULL, 0, "interrupted; run again to resume");
            goto out;
        }
        if (o->max_pages && res->pages >= o->max_pages)
            break;
        int k = snprintf(url, sizeof url, "%s%scollections/%s/objects/?limit=%u", o->url,
                         o->url[ul - 1] == '/' ? "" : "/", ecoll, o->page ? o->page : LIA_TAXII_PULL_PAGE);
        if (cur.added_after >= 0) {
            lia__stix_time_format(cur.added_after, ts);
            k += snprintf(url + k, sizeof url - (size_t)k, "&added_after=%s", ts);
        }
        if (cur.next[0]) {
            char *en = curl_easy_escape(c, cur.next, 0);
            snprintf(url + k, sizeof url - (size_t)k, "&next=%s", en ? en : "");
            curl_free(en);
        }
        if ((rc = fetch(c, url, o, &pg, err)))
            goto out;
        if ((rc = lia__taxii_page_read(pg.body.ptr, pg.body.len, url, &env, err)))
            goto out;
        res->pages++;
        res->objects += env.objects;
        if (env.objects && (rc = store_page(s, o, src, res->pages, &pg, res, err)))
            goto out;
        /* the next run starts after the last date_added seen (the page's
         * X-TAXII-Date-Added-Last header) */
        if (pg.last[0]) {
            int64_t la;
            if (lia__stix_time_parse(pg.last, strlen(pg.last), &la) == LIA_OK && la > cur.last_added)
                cur.last_added = la;
        }
        /* a server that answers a next token with the same token again would
         * keep us here for ever: what came before is stored, the run stops */
        if (env.more && cur.next[0] && strcmp(env.next, cur.next) == 0) {
            rc = lia_error_set(err, LIA_EPARSE, "next", env.next, strlen(env.next),
                               "the server answered the page of this next token with the same token"
                               " again (more: true); stopping, the pages before are stored");
            goto out;
        }
        snprintf(cur.next, sizeof cur.next, "%s", env.next);
        if (cur.next[0] == '\0') {
            cur.added_after = cur.last_added;
            if ((rc = cursor_put(db, src, &cur, err)))
                goto out;
            break;
        }
        if ((rc = cursor_put(db, src, &cur, err)))
            goto out;
    }
    rc = LIA_OK;
out:
    if (cur.last_added >= 0)
        lia__stix_time_format(cur.last_added, res->cursor);
    curl_free(ecoll);
    curl_easy_cleanup(c);
    lia_buf_free(&pg.body);
    return rc;
}
