/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Sending: what changed in the store becomes numbered messages in the
 * outbox (one transaction with the thread's counters, so a message is
 * queued once), then the outbox goes out in order per incident, with
 * retries and backoff; last, the checkpoint exchange. */
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "incident/internal.h"
#include "liaison/route.h"
#include "node/internal.h"
#include "route/internal.h"
#include "route/tlp.h"
#include "store/lease.h"

#define RESP_MAX (1u << 20)

typedef struct peer {
    char name[65], url[LIA_NODE_URL_MAX], token[256], vkey[256];
    uint64_t shown_size;
} peer;

/* ---- queueing --------------------------------------------------------------------------- */

static int next_seq(lia_db *db, const char *p, int64_t incident, int64_t *seq, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(
             db, "node: numbering a message",
             "UPDATE node_thread SET out_next = out_next + 1 WHERE peer = ? AND incident_id = ?"
             " RETURNING out_next - 1",
             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, p, -1);
    lia__db_bind_int64(st, 2, incident);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        *seq = lia__db_col_int64(st, 0);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ESTORE, "node", NULL, 0, "no thread for incident %lld",
                           (long long)incident);
    }
    lia__db_done(st);
    return rc;
}

/* The head of a message: theirs != 0 makes it an answer about their incident. */
static void head(lia_buf *b, const char *type, int64_t seq, int64_t mine, int64_t theirs, const char *by)
{
    char t[LIA_TIME_TEXT];
    lia_time_format(lia__now_us(), t, sizeof t);
    lia_buf_printf(b, "{\"liaison_node\":1,\"type\":\"%s\",\"seq\":%lld,", type, (long long)seq);
    if (theirs)
        lia_buf_printf(b, "\"yours\":%lld,\"mine\":%lld", (long long)theirs, (long long)mine);
    else
        lia_buf_printf(b, "\"incident\":%lld", (long long)mine);
    lia_buf_printf(b, ",\"at\":\"%s\"", t);
    if (by) {
        lia_buf_puts(b, ",\"by\":");
        lia_buf_json_str(b, by, strlen(by));
    }
}

static void member(lia_buf *b, const char *name, const char *v)
{
    if (!v)
        return;
    lia_buf_printf(b, ",\"%s\":", name);
    lia_buf_json_str(b, v, strlen(v));
}

static int enqueue(lia_db *db, const char *p, int64_t incident, int64_t seq, const char *type,
                   const lia_buf *b, lia_error *err)
{
    lia_stmt *st;
    int64_t now = lia__now_us();
    int rc;
    if (b->err)
        return lia_error_set(err, b->err, "node", NULL, 0, "a %s message for incident %lld does not fit",
                             type, (long long)incident);
    if ((rc = lia__db_prepare(db, "node: queueing a message",
                              "INSERT INTO node_outbox(peer, incident_id, seq, type, body, created, next_try)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?)",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, p, -1);
    lia__db_bind_int64(st, 2, incident);
    lia__db_bind_int64(st, 3, seq);
    lia__db_bind_text(st, 4, type, -1);
    lia__db_bind_text(st, 5, b->ptr, (ptrdiff_t)b->len);
    lia__db_bind_int64(st, 6, now);
    lia__db_bind_int64(st, 7, now);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

typedef struct offer_ctx {
    lia_store *s;
    const lia_recipient *r;
    lia_buf *b;
    lia_event ev;
    size_t n;
    int64_t withheld;
    int rc;
    lia_error *err;
} offer_ctx;

static int offer_link_cb(void *ud, const lia_link *l)
{
    offer_ctx *c = ud;
    lia_buf one;
    uint64_t id;
    size_t i;
    if (strcmp(l->kind, "event") != 0)
        return 0;
    for (i = 0, id = 0; l->ref[i] >= '0' && l->ref[i] <= '9'; i++)
        id = id * 10 + (uint64_t)(l->ref[i] - '0');
    if (c->n >= LIA_NODE_OFFER_MAX) {
        c->withheld++;
        return 0;
    }
    if ((c->rc = lia_store_event_get(c->s, (int64_t)id, &c->ev, c->err)) == LIA_ENOTFOUND) {
        /* pruned since it was linked: the incident's copy (marked extra.store_pruned) */
        lia_error_clear(c->err);
        c->rc = lia__incident_event_copy(c->s, (int64_t)id, &c->ev, NULL, NULL, c->err);
        if (c->rc == LIA_ENOTFOUND) { /* pruned before copies were kept */
            c->rc = LIA_OK;
            return 0;
        }
    }
    if (c->rc)
        return 1;
    if (!lia__tlp_allows(c->r, &c->ev, NULL, NULL)) {
        c->withheld++;
        return 0;
    }
    lia_buf_init(&one, 1u << 20);
    if (lia_event_to_json(&c->ev, &one) == LIA_OK && !one.err &&
        c->b->len + one.len < LIA_NODE_MSG_MAX - 64 * 1024) {
        lia_buf_puts(c->b, c->n ? "," : "");
        lia_buf_append(c->b, one.ptr, one.len);
        c->n++;
    } else {
        c->withheld++;
    }
    lia_buf_free(&one);
    return 0;
}

static int open_thread(lia_db *db, const char *p, int64_t incident, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "node: opening a thread for an offer",
                              "INSERT INTO node_thread(peer, incident_id, origin, remote, out_next, in_last,"
                              " reported, comment_hw) VALUES (?, ?, 0, NULL, 1, 0, 0, 0)",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, p, -1);
    lia__db_bind_int64(st, 2, incident);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

/* The offer of incident id to peer p: the incident and the linked events
 * the one TLP policy lets go to the peer (the others counted as withheld). */
static int queue_offer(lia_store *s, const char *p, const lia_recipient *r, int64_t id, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_incident inc;
    lia_buf hold, b;
    offer_ctx c;
    int64_t seq;
    int rc;
    lia_buf_init(&hold, 0);
    lia_buf_init(&b, LIA_NODE_MSG_MAX);
    memset(&c, 0, sizeof c);
    lia_event_init(&c.ev);
    if ((rc = lia_incident_get(s, id, &inc, &hold, err)) || (rc = open_thread(db, p, id, err)) ||
        (rc = next_seq(db, p, id, &seq, err)))
        goto out;
    head(&b, "offer", seq, id, 0, inc.owner);
    lia_buf_puts(&b, ",\"offer\":{\"title\":");
    lia_buf_json_str(&b, inc.title, strlen(inc.title));
    member(&b, "description", inc.description);
    member(&b, "classification", inc.classification);
    member(&b, "severity", lia_severity_name(inc.severity));
    member(&b, "tlp", inc.tlp);
    member(&b, "countries", inc.countries);
    member(&b, "sectors", inc.sectors);
    lia_buf_puts(&b, ",\"events\":[");
    c.s = s;
    c.r = r;
    c.b = &b;
    c.err = err;
    if ((rc = lia_incident_links(s, id, offer_link_cb, &c, err)) || (rc = c.rc))
        goto out;
    lia_buf_printf(&b, "],\"withheld\":%lld}}", (long long)c.withheld);
    rc = enqueue(db, p, id, seq, "offer", &b, err);
out:
    lia_event_free(&c.ev);
    lia_buf_free(&b);
    lia_buf_free(&hold);
    return rc;
}

typedef struct idlist {
    int64_t *v;
    size_t n, cap;
} idlist;

static int idlist_add(idlist *l, int64_t v, lia_error *err)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        int64_t *nw = realloc(l->v, nc * sizeof *nw);
        if (!nw)
            return lia_error_set(err, LIA_ENOMEM, "node", NULL, 0, "out of memory");
        l->v = nw;
        l->cap = nc;
    }
    l->v[l->n++] = v;
    return LIA_OK;
}

static int collect(lia_db *db, const char *what, const char *sql, const char *p, idlist *l, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, what, sql, &st, err)))
        return rc;
    lia__db_bind_text(st, 1, p, -1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW &&
           (rc = idlist_add(l, lia__db_col_int64(st, 0), err)) == 0)
        ;
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static int queue_offers(lia_store *s, const char *p, uint64_t *queued, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_route *rt = NULL;
    lia_recipient r;
    idlist l = {0};
    int rc, idx;
    /* hand-offs still to act on, of incidents not final, not offered yet */
    if ((rc = collect(db, "node: hand-offs to offer",
                      "SELECT h.incident_id FROM handoff h JOIN incident i ON i.id = h.incident_id"
                      " WHERE h.recipient = ?1 AND h.state IN (0, 1, 2) AND i.status NOT IN (6, 7, 8, 9)"
                      " AND NOT EXISTS (SELECT 1 FROM node_thread t WHERE t.peer = ?1"
                      " AND t.incident_id = h.incident_id) ORDER BY h.incident_id",
                      p, &l, err)) ||
        !l.n)
        goto out;
    if ((rc = lia_route_load(s, &rt, err)))
        goto out;
    if ((idx = lia__route_party_find(rt, LIA_PARTY_PARTNER, p)) < 0) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "peer", p, strlen(p), "no longer a partner in the directory");
        goto out;
    }
    lia_route_recipient(rt, idx, &r);
    for (size_t i = 0; i < l.n && rc == LIA_OK; i++)
        if ((rc = queue_offer(s, p, &r, l.v[i], err)) == LIA_OK)
            (*queued)++;
out:
    lia_route_destroy(rt);
    free(l.v);
    return rc;
}

/* Comments shared with the peer since the thread's mark: ours on an
 * incident we offered ("shared" or "shared:PEER"), ours on one it offered
 * ("shared:PEER"), never the peer's own (received from it). */
static int queue_comments(lia_db *db, const char *p, uint64_t *queued, lia_error *err)
{
    lia_stmt *st;
    lia_buf b;
    int rc;
    typedef struct cm {
        int64_t incident, remote;
        char *author, *body;
    } cm;
    cm *v = NULL;
    size_t n = 0, cap = 0;
    if ((rc = lia__db_prepare(db, "node: comments to send",
                              "SELECT t.incident_id, coalesce(t.remote, 0), t.origin, c.author, c.body"
                              " FROM node_thread t JOIN incident_comment c ON c.incident_id = t.incident_id"
                              " AND c.id > t.comment_hw"
                              " WHERE t.peer = ?1 AND c.author <> ?1 AND (c.visibility = 'shared:' || ?1"
                              " OR (t.origin = 0 AND c.visibility = 'shared')) ORDER BY c.id",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, p, -1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            cm *nw = realloc(v, nc * sizeof *nw);
            if (!nw) {
                rc = lia_error_set(err, LIA_ENOMEM, "node", NULL, 0, "out of memory");
                break;
            }
            v = nw;
            cap = nc;
        }
        v[n].incident = lia__db_col_int64(st, 0);
        v[n].remote = lia__db_col_int64(st, 2) == LIA__NODE_THEY_OFFERED ? lia__db_col_int64(st, 1) : 0;
        v[n].author = strdup(lia__db_col_text(st, 3));
        v[n].body = strdup(lia__db_col_text(st, 4));
        n++;
        if (!v[n - 1].author || !v[n - 1].body) {
            rc = lia_error_set(err, LIA_ENOMEM, "node", NULL, 0, "out of memory");
            break;
        }
    }
    lia__db_done(st);
    if (rc == LIA_DB_DONE)
        rc = LIA_OK;
    lia_buf_init(&b, 1u << 20);
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        int64_t seq;
        if ((rc = next_seq(db, p, v[i].incident, &seq, err)))
            break;
        lia_buf_reset(&b);
        head(&b, "comment", seq, v[i].incident, v[i].remote, v[i].author);
        member(&b, "text", v[i].body);
        lia_buf_putc(&b, '}');
        if ((rc = enqueue(db, p, v[i].incident, seq, "comment", &b, err)) == LIA_OK)
            (*queued)++;
    }
    lia_buf_free(&b);
    for (size_t i = 0; i < n; i++) {
        free(v[i].author);
        free(v[i].body);
    }
    free(v);
    if (rc)
        return rc;
    if ((rc = lia__db_prepare(db, "node: moving the comment marks",
                              "UPDATE node_thread SET comment_hw = (SELECT coalesce(max(id), 0)"
                              " FROM incident_comment c WHERE c.incident_id = node_thread.incident_id)"
                              " WHERE peer = ?",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, p, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

/* One message per change of state: our withdrawn hand-offs, and the
 * answers the status of an incident the peer offered calls for. */
static int queue_states(lia_db *db, const char *p, uint64_t *queued, lia_error *err)
{
    lia_stmt *st;
    idlist inc = {0}, rem = {0}, want = {0};
    lia_buf b;
    int rc;
    if ((rc = lia__db_prepare(
             db, "node: changes of state to send",
             "SELECT t.incident_id, coalesce(t.remote, 0),"
             " CASE WHEN t.origin = 0 THEN (CASE WHEN h.state = 5 AND t.reported = 0 THEN 10 ELSE 0 END)"
             " WHEN i.status IN (1, 2, 3, 4) THEN 1 WHEN i.status IN (5, 6) THEN 2 WHEN i.status IN (7, 8) "
             "THEN 3"
             " ELSE 0 END AS want, t.reported"
             " FROM node_thread t JOIN incident i ON i.id = t.incident_id"
             " LEFT JOIN handoff h ON h.incident_id = t.incident_id AND h.recipient = t.peer"
             " WHERE t.peer = ?1 ORDER BY t.incident_id",
             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, p, -1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        int64_t w = lia__db_col_int64(st, 2), reported = lia__db_col_int64(st, 3);
        if (w == 10 || (w && w < 10 && w > reported)) {
            if ((rc = idlist_add(&inc, lia__db_col_int64(st, 0), err)) ||
                (rc = idlist_add(&rem, lia__db_col_int64(st, 1), err)) || (rc = idlist_add(&want, w, err)))
                break;
        }
    }
    lia__db_done(st);
    if (rc == LIA_DB_DONE)
        rc = LIA_OK;
    lia_buf_init(&b, 64 * 1024);
    for (size_t i = 0; i < inc.n && rc == LIA_OK; i++) {
        static const char *const types[] = {NULL, "ack", "resolve", "reject"};
        static const char *const why[] = {NULL, NULL, NULL,
                                          "rejected or closed as a duplicate by the partner node"};
        const char *type = want.v[i] == 10 ? "withdraw" : types[want.v[i]];
        int64_t seq;
        if ((rc = next_seq(db, p, inc.v[i], &seq, err)))
            break;
        lia_buf_reset(&b);
        head(&b, type, seq, inc.v[i], want.v[i] == 10 ? 0 : rem.v[i], NULL);
        member(&b, "text", want.v[i] == 10 ? NULL : why[want.v[i]]);
        lia_buf_putc(&b, '}');
        if ((rc = enqueue(db, p, inc.v[i], seq, type, &b, err)))
            break;
        (*queued)++;
        if ((rc = lia__db_prepare(db, "node: marking a state sent",
                                  "UPDATE node_thread SET reported = ? WHERE peer = ? AND incident_id = ?",
                                  &st, err)))
            break;
        lia__db_bind_int64(st, 1, want.v[i] == 10 ? 1 : want.v[i]);
        lia__db_bind_text(st, 2, p, -1);
        lia__db_bind_int64(st, 3, inc.v[i]);
        rc = lia__db_run(st, err);
        lia__db_done(st);
    }
    lia_buf_free(&b);
    free(inc.v);
    free(rem.v);
    free(want.v);
    return rc;
}

static int queue_all(lia_store *s, const char *p, uint64_t *queued, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    uint64_t n = 0;
    int rc;
    if ((rc = lia__db_begin(db, err)))
        return rc;
    if ((rc = queue_offers(s, p, &n, err)) || (rc = queue_comments(db, p, &n, err)) ||
        (rc = queue_states(db, p, &n, err))) {
        lia__db_rollback(db);
        return rc;
    }
    if ((rc = lia__db_commit(db, err)) == LIA_OK)
        *queued += n;
    return rc;
}

/* ---- sending ---------------------------------------------------------------------------- */

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    lia_buf *b = ud;
    size_t len = size * n;
    if (b->len + len > RESP_MAX)
        return 0;
    lia_buf_append(b, p, len);
    return b->err ? 0 : len;
}

/* POST body to url + path with the peer's key. The HTTP status, or 0 with
 * why filled when no answer came. */
static long post(const peer *p, const char *path, const char *body, size_t len, long timeout, lia_buf *resp,
                 char *why, size_t whyn)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL, *h2;
    char url[LIA_NODE_URL_MAX + 64], auth[300], errbuf[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURLcode cc;
    lia_buf_reset(resp);
    if (!c) {
        snprintf(why, whyn, "out of memory");
        return 0;
    }
    snprintf(url, sizeof url, "%s%s%s", p->url, p->url[strlen(p->url) - 1] == '/' ? path + 1 : path, "");
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", p->token);
    if (!(h2 = curl_slist_append(h, "Content-Type: application/json")) || !(h = h2) ||
        !(h2 = curl_slist_append(h, auth)) || !(h = h2)) {
        snprintf(why, whyn, "out of memory");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "liaison-node/1");
    if ((cc = curl_easy_perform(c)) != CURLE_OK)
        snprintf(why, whyn, "%.200s: %.250s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
    else
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

/* The message of an error answer {"error":{"code","message",...}}; expected
 * for out_of_order. */
static void error_of(const lia_buf *resp, long status, char *why, size_t whyn, char code[40],
                     int64_t *expected)
{
    json_t *o = json_loadb(resp->ptr ? resp->ptr : "", resp->len, 0, NULL), *e = json_object_get(o, "error");
    const char *c = json_string_value(json_object_get(e, "code")),
               *m = json_string_value(json_object_get(e, "message"));
    snprintf(code, 40, "%s", c ? c : "");
    *expected = json_integer_value(json_object_get(e, "expected"));
    snprintf(why, whyn, "HTTP %ld %s: %s", status, c ? c : "", m ? m : "(no error message)");
    json_decref(o);
}

/* Run sql with ?1 = a, ?2 = b, ?3 = t1 and, when it has a ?4, ?4 = t2
 * (NULL texts bound as NULL). */
static int exec1(lia_db *db, const char *what, const char *sql, int64_t a, int64_t b, const char *t1,
                 const char *t2, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, what, sql, &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, a);
    lia__db_bind_int64(st, 2, b);
    if (t1)
        lia__db_bind_text(st, 3, t1, -1);
    else
        lia__db_bind_null(st, 3);
    if (strstr(sql, "?4") && t2)
        lia__db_bind_text(st, 4, t2, -1);
    else if (strstr(sql, "?4"))
        lia__db_bind_null(st, 4);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

static int taken(lia_store *s, const peer *p, int64_t id, int64_t incident, int64_t seq, const char *type,
                 lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_actor who = {"liaison", "node", p->url};
    char after[160];
    int rc;
    if ((rc = lia__db_begin(db, err)))
        return rc;
    snprintf(after, sizeof after, "{\"type\":\"%s\",\"seq\":%lld,\"incident\":%lld}", type, (long long)seq,
             (long long)incident);
    if ((rc = exec1(db, "node: a message taken", "UPDATE node_outbox SET sent = ?2, error = ?3 WHERE id = ?1",
                    id, lia__now_us(), NULL, NULL, err)) ||
        (rc = exec1(db, "node: the peer took one",
                    "UPDATE node_peer SET last_ok = ?1, last_error = NULL WHERE name = ?3", lia__now_us(), 0,
                    p->name, NULL, err)) ||
        (rc = lia__node_audit(db, p->name, "liaison", p->url, "send", after, err)))
        goto fail;
    if (strcmp(type, "offer") == 0) {
        lia_error e2;
        lia_error_clear(&e2);
        rc = lia_handoff_set(s, incident, p->name, LIA_HO_NOTIFIED, NULL, &who, &e2);
        if (rc && rc != LIA_ESTATE) {
            *err = e2;
            goto fail;
        }
    }
    return lia__db_commit(db, err);
fail:
    lia__db_rollback(db);
    return rc;
}

/* A try failed: its message waits (30 s doubling per try, at most
 * LIA_NODE_BACKOFF_MAX); when the peer did not answer at all (down), so do
 * all its other messages. */
static int failed(lia_store *s, const peer *p, int64_t id, int64_t attempts, int down, const char *why,
                  lia_error *err)
{
    lia_db *db = lia__store_db(s);
    int64_t wait = 30;
    int rc;
    for (int64_t i = 0; i < attempts && wait < LIA_NODE_BACKOFF_MAX; i++)
        wait *= 2;
    if (wait > LIA_NODE_BACKOFF_MAX)
        wait = LIA_NODE_BACKOFF_MAX;
    if ((rc = lia__db_begin(db, err)))
        return rc;
    if ((rc = exec1(db, "node: a try failed",
                    "UPDATE node_outbox SET attempts = attempts + 1, next_try = ?2, error = ?3 WHERE id = ?1",
                    id, lia__now_us() + wait * 1000000, why, NULL, err)) ||
        (down &&
         (rc = exec1(db, "node: the peer is down",
                     "UPDATE node_outbox SET next_try = max(next_try, ?2) WHERE peer = ?3 AND sent IS NULL"
                     " AND ?1 = ?1",
                     0, lia__now_us() + wait * 1000000, p->name, NULL, err))) ||
        (rc = exec1(db, "node: the peer failed", "UPDATE node_peer SET last_error = ?3 WHERE name = ?4", 0, 0,
                    why, p->name, err))) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

/* A queued message without its body (read when it is sent: an outbox of
 * many offers never sits in memory at once). */
typedef struct msg {
    int64_t id, incident, seq, attempts, next;
    char type[16];
} msg;

/* The body of queued message id into b (reset first). */
static int body_of(lia_db *db, int64_t id, lia_buf *b, lia_error *err)
{
    lia_stmt *st;
    int rc;
    lia_buf_reset(b);
    if ((rc = lia__db_prepare(db, "node: a queued message", "SELECT body FROM node_outbox WHERE id = ?", &st,
                              err)))
        return rc;
    lia__db_bind_int64(st, 1, id);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        rc = lia_buf_puts(b, lia__db_col_text(st, 0)) || b->err
                 ? lia_error_set(err, LIA_ELIMIT, "node", NULL, 0,
                                 "queued message %lld is larger than %u bytes", (long long)id,
                                 (unsigned)LIA_NODE_MSG_MAX)
                 : LIA_OK;
    else if (rc == LIA_DB_DONE)
        rc = lia_error_set(err, LIA_ESTORE, "node", NULL, 0, "queued message %lld vanished", (long long)id);
    lia__db_done(st);
    return rc;
}

static int blocked(const idlist *b, int64_t incident)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i] == incident)
            return 1;
    return 0;
}

static int load_outbox(lia_db *db, const char *p, msg **out, size_t *n, lia_error *err)
{
    lia_stmt *st;
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = lia__db_prepare(db, "node: the outbox",
                              "SELECT id, incident_id, seq, attempts, next_try, type FROM node_outbox"
                              " WHERE peer = ? AND sent IS NULL ORDER BY id",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, p, -1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        msg *m;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            msg *nw = realloc(*out, nc * sizeof *nw);
            if (!nw) {
                rc = lia_error_set(err, LIA_ENOMEM, "node", NULL, 0, "out of memory");
                break;
            }
            *out = nw;
            cap = nc;
        }
        m = &(*out)[*n];
        m->id = lia__db_col_int64(st, 0);
        m->incident = lia__db_col_int64(st, 1);
        m->seq = lia__db_col_int64(st, 2);
        m->attempts = lia__db_col_int64(st, 3);
        m->next = lia__db_col_int64(st, 4);
        snprintf(m->type, sizeof m->type, "%s", lia__db_col_text(st, 5));
        (*n)++;
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static int64_t lease_ms(const lia_node_sync_opts *o)
{
    return o->lease_ms > 0 ? o->lease_ms : LIA_NODE_LEASE_MS;
}

/* Send the peer's due messages in order (under our lease on the peer,
 * renewed before each); *reachable = 0 when it did not
 * answer or is in its backoff (the checkpoint exchange then waits too). */
static int send_all(lia_store *s, const peer *p, const lia_node_sync_opts *o, const char *lease,
                    lia_node_sync_report *rep, int *reachable, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    msg *v;
    size_t n;
    idlist blk = {0};
    lia_buf resp, body;
    int rc, down = 0;
    long timeout = o->timeout_s > 0 ? o->timeout_s : 30;
    if ((rc = load_outbox(db, p->name, &v, &n, err)))
        return rc;
    lia_buf_init(&resp, RESP_MAX);
    lia_buf_init(&body, LIA_NODE_MSG_MAX);
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        char why[512] = "", code[40] = "";
        int64_t expected = 0;
        long status;
        int held = 1;
        if ((rc = lia__lease_renew(db, lease, NULL, lease_ms(o), &held, err)))
            break;
        if (!held) { /* ours ran out and another sync took the peer: it goes on */
            snprintf(rep->last_error, sizeof rep->last_error, "%s: lease lost to another sync mid-way",
                     p->name);
            rep->failed++;
            *reachable = 0;
            break;
        }
        if (down || blocked(&blk, v[i].incident) || (!o->now && v[i].next > lia__now_us())) {
            if (!down && !blocked(&blk, v[i].incident))
                *reachable = 0; /* in its backoff */
            rep->waiting++;
            rc = idlist_add(&blk, v[i].incident, err);
            continue;
        }
        if ((rc = body_of(db, v[i].id, &body, err)))
            break;
        status = post(p, "/node/v1/inbox", body.ptr, body.len, timeout, &resp, why, sizeof why);
        if (status == 200) {
            if ((rc = taken(s, p, v[i].id, v[i].incident, v[i].seq, v[i].type, err)) == LIA_OK)
                rep->sent++;
            continue;
        }
        if (status)
            error_of(&resp, status, why, sizeof why, code, &expected);
        else
            down = 1, *reachable = 0; /* no answer: its other messages wait for the next sync */
        if (status == 409 && strcmp(code, "out_of_order") == 0 && expected > 0 && expected < v[i].seq) {
            /* the peer lost messages it had taken (restored from a backup):
             * send them again, in order, from the one it waits for */
            rc = exec1(db, "node: sending again",
                       "UPDATE node_outbox SET sent = NULL WHERE peer = ?3"
                       " AND incident_id = ?1 AND seq >= ?2",
                       v[i].incident, expected, p->name, NULL, err);
        }
        rep->failed++;
        snprintf(rep->last_error, sizeof rep->last_error, "%s: %.180s", p->name, why);
        if (rc == LIA_OK && (rc = failed(s, p, v[i].id, v[i].attempts, !status, why, err)) == LIA_OK)
            rc = idlist_add(&blk, v[i].incident, err);
    }
    free(v);
    free(blk.v);
    lia_buf_free(&resp);
    lia_buf_free(&body);
    return rc;
}

/* ---- the checkpoint exchange -------------------------------------------------------------- */

static void b64(const lia_hash *h, char out[64])
{
    sodium_bin2base64(out, 64, h->b, LIA_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
}

/* Their latest checkpoint we hold, cosigned by us now (kept as their_cosigned). */
static int cosign_theirs(lia_db *db, const peer *p, const lia_note_key *key, lia_buf *out, lia_error *err)
{
    lia_stmt *st;
    lia_note_key theirs, cos;
    lia_note_opened op;
    int rc;
    if (!p->vkey[0])
        return LIA_OK;
    if ((rc = lia__db_prepare(db, "node: their checkpoint", "SELECT their_note FROM node_peer WHERE name = ?",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, p->name, -1);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW && !lia__db_col_null(st, 0))
        lia_buf_puts(out, lia__db_col_text(st, 0));
    lia__db_done(st);
    if (rc < 0 || !out->len)
        return rc < 0 ? rc : LIA_OK;
    lia_note_key_as(key, LIA_NOTE_COSIG, &cos);
    if ((rc = lia_note_key_parse_verifier(p->vkey, strlen(p->vkey), &theirs, err)) ||
        (rc = lia_note_open(out->ptr, out->len, &theirs, 1, &op, err)) ||
        (rc = lia_note_sign_line(out->ptr, op.text_len, &cos, (uint64_t)(lia__now_us() / 1000000), out, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "node: keeping our cosignature",
                              "UPDATE node_peer SET their_cosigned = ? WHERE name = ?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, out->ptr, (ptrdiff_t)out->len);
    lia__db_bind_text(st, 2, p->name, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

static int exchange(lia_store *s, const peer *p, const lia_node_sync_opts *o, lia_node_sync_report *rep,
                    lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_buf note, cos, body, resp;
    lia_note_opened op;
    lia_checkpoint ck;
    uint64_t from = p->shown_size;
    long timeout = o->timeout_s > 0 ? o->timeout_s : 30;
    int rc;
    lia_buf_init(&note, LIA_NOTE_MAX);
    lia_buf_init(&cos, LIA_NOTE_MAX);
    lia_buf_init(&body, 4 * LIA_NOTE_MAX);
    lia_buf_init(&resp, RESP_MAX);
    if ((rc = lia_audit_checkpoint(s, o->origin, o->key, &note, err)) ||
        (rc = lia_note_open(note.ptr, note.len, o->key, 1, &op, err)) ||
        (rc = lia_checkpoint_parse(note.ptr, op.text_len, &ck, err)) ||
        (rc = cosign_theirs(db, p, o->key, &cos, err)))
        goto out;
    for (int tries = 0; tries < 2; tries++) {
        lia_hash r1, r2, proof[LIA_MERKLE_PROOF_MAX];
        size_t plen = 0;
        char why[512] = "", code[40] = "";
        int64_t need = 0;
        long status;
        if (from > ck.size)
            from = 0;
        if (from && from < ck.size &&
            (rc = lia_audit_prove_consistency(s, from, ck.size, &r1, &r2, proof, &plen, err)))
            goto out;
        lia_buf_reset(&body);
        lia_buf_puts(&body, "{\"checkpoint\":");
        lia_buf_json_str(&body, note.ptr, note.len);
        lia_buf_printf(&body, ",\"from\":%llu,\"proof\":[", (unsigned long long)from);
        for (size_t i = 0; i < plen; i++) {
            char t[64];
            b64(&proof[i], t);
            lia_buf_printf(&body, "%s\"%s\"", i ? "," : "", t);
        }
        lia_buf_putc(&body, ']');
        if (cos.len) {
            lia_buf_puts(&body, ",\"cosigned\":");
            lia_buf_json_str(&body, cos.ptr, cos.len);
        }
        lia_buf_putc(&body, '}');
        status = post(p, "/node/v1/checkpoint", body.ptr, body.len, timeout, &resp, why, sizeof why);
        if (status == 200) {
            rep->checkpoints++;
            rc = exec1(db, "node: the size the peer holds",
                       "UPDATE node_peer SET shown_size = ?1 WHERE name = ?3", (int64_t)ck.size, 0, p->name,
                       NULL, err);
            goto out;
        }
        if (status)
            error_of(&resp, status, why, sizeof why, code, &need);
        if (status == 409 && strcmp(code, "proof_from") == 0) {
            json_t *j = json_loadb(resp.ptr, resp.len, 0, NULL);
            from = (uint64_t)json_integer_value(json_object_get(json_object_get(j, "error"), "from"));
            json_decref(j);
            continue;
        }
        rep->failed++;
        snprintf(rep->last_error, sizeof rep->last_error, "%s: checkpoint: %.170s", p->name, why);
        break;
    }
out:
    lia_buf_free(&note);
    lia_buf_free(&cos);
    lia_buf_free(&body);
    lia_buf_free(&resp);
    return rc;
}

/* ---- the whole sync --------------------------------------------------------------------- */

static int load_peers(lia_db *db, const char *only, peer **out, size_t *n, lia_error *err)
{
    lia_stmt *st;
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = lia__db_prepare(
             db, "node: the peers to sync",
             "SELECT name, url, token, coalesce(vkey, ''), coalesce(shown_size, 0) FROM node_peer"
             " WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
             &st, err)))
        return rc;
    if (only)
        lia__db_bind_text(st, 1, only, -1);
    else
        lia__db_bind_null(st, 1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        peer *p;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            peer *nw = realloc(*out, nc * sizeof *nw);
            if (!nw) {
                rc = lia_error_set(err, LIA_ENOMEM, "node", NULL, 0, "out of memory");
                break;
            }
            *out = nw;
            cap = nc;
        }
        p = &(*out)[(*n)++];
        snprintf(p->name, sizeof p->name, "%s", lia__db_col_text(st, 0));
        snprintf(p->url, sizeof p->url, "%s", lia__db_col_text(st, 1));
        snprintf(p->token, sizeof p->token, "%s", lia__db_col_text(st, 2));
        snprintf(p->vkey, sizeof p->vkey, "%s", lia__db_col_text(st, 3));
        p->shown_size = (uint64_t)lia__db_col_int64(st, 4);
    }
    lia__db_done(st);
    if (rc < 0)
        return rc;
    if (only && !*n)
        return lia_error_set(err, LIA_ENOTFOUND, "peer", only, strlen(only),
                             "not a node peer (liaison node add)");
    return LIA_OK;
}

int lia_node_sync(lia_store *s, const lia_node_sync_opts *o, lia_node_sync_report *rep, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    peer *v = NULL;
    size_t n = 0;
    int rc;
    memset(rep, 0, sizeof *rep);
    if ((rc = lia__node_schema(db, err)) || (rc = load_peers(db, o->peer, &v, &n, err)))
        goto out;
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        int reachable = 1, got = 0;
        char lease[LIA_LEASE_NAME_MAX];
        /* one sync at a time per peer (store/lease.h): queued and sent once */
        snprintf(lease, sizeof lease, "node:%s", v[i].name);
        if ((rc = lia__lease_take(db, lease, NULL, lease_ms(o), &got, NULL, NULL, err)))
            break;
        if (!got) {
            rep->busy++;
            continue;
        }
        if ((rc = queue_all(s, v[i].name, &rep->queued, err)) ||
            (rc = send_all(s, &v[i], o, lease, rep, &reachable, err)) ||
            (o->key && o->origin && reachable && (rc = exchange(s, &v[i], o, rep, err)))) {
            lia__lease_release(db, lease, NULL, NULL);
            break;
        }
        rc = lia__lease_release(db, lease, NULL, err);
    }
out:
    if (v)
        sodium_memzero(v, n * sizeof *v);
    free(v);
    return rc;
}
