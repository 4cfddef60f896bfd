/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The TAXII channel: STIX 2.1 objects into a collection on our own server
 * (taxii:ROOT/COLLECTION) or POSTed to a partner's server (taxii:https://). */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/accounts.h"
#include "liaison/limits.h"
#include "liaison/notify.h"
#include "liaison/route.h"
#include "liaison/stix.h"
#include "liaison/taxii.h"
#include "core/fault.h"
#include "core/settings.h"
#include "notify/internal.h"
#include "store/db.h"
#include "taxii/taxii_internal.h"
#include "accounts/internal.h"
#include "route/internal.h"

/* ---- TAXII delivery (our own server) ---- */

static int to_buf(void *ud, const char *p, size_t n)
{
    return lia_buf_append(ud, p, n);
}

typedef struct grant_ctx {
    lia_store *s;
    const lia_channel *ch;
    size_t n;
    lia_error *err;
} grant_ctx;

static int grant_cb(void *ud, int64_t org_id, const char *name)
{
    grant_ctx *g = ud;
    (void)name;
    g->n++;
    return lia_taxii_grant(g->s, g->ch->api_root, g->ch->collection, org_id, 1, 0, g->err);
}

/* Which partner a delivery collection of our server belongs to: a partner's
 * taxii:ROOT/COLL channel may only name a collection that notify made for
 * that partner, never another partner's inbox or a collection of ours. */
/* (table notify_taxii_owner, notify's schema version 3: delivery.c) */

static void describe(const lia_party *p, lia_taxii_collection *c)
{
    snprintf(c->description, sizeof c->description,
             "Events routed to partner %s, TLP policy applied, added by liaison notify run", p->id);
}

static int owner_put(lia_db *db, const lia_channel *ch, const char *party, lia_error *err)
{
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__db_prepare(db, "delivery collection owner: recording",
                              "INSERT INTO notify_taxii_owner VALUES(?,?,?) ON CONFLICT DO NOTHING", &st,
                              err)))
        return rc;
    lia__db_bind_text(st, 1, ch->api_root, -1);
    lia__db_bind_text(st, 2, ch->collection, -1);
    lia__db_bind_text(st, 3, party, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

/* LIA_OK if existing collection c (of channel ch) is partner p's delivery
 * collection; one made by an older version (no owner recorded, notify's own
 * description for p, not writable over TAXII) is taken as p's. LIA_EINVAL,
 * saying why, otherwise. */
static int owned_by(lia_store *s, const lia_party *p, const lia_channel *ch, const lia_taxii_collection *c,
                    lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    char owner[65] = ""; /* a party id (lia_party.id) */
    lia_taxii_collection mine;
    int found = 0, rc;
    if ((rc = lia__notify_schema(db, err)) ||
        (rc = lia__db_prepare(db, "delivery collection owner",
                              "SELECT party FROM notify_taxii_owner WHERE api_root = ? AND coll = ?", &st,
                              err)))
        return rc;
    lia__db_bind_text(st, 1, ch->api_root, -1);
    lia__db_bind_text(st, 2, ch->collection, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        found = 1;
        snprintf(owner, sizeof owner, "%s", lia__db_col_text(st, 0));
    }
    lia__db_done(st);
    if (rc < 0)
        return rc;
    if (found && strcmp(owner, p->id) == 0)
        return LIA_OK;
    describe(p, &mine);
    if (!found && !c->allow_write && strcmp(c->description, mine.description) == 0)
        return owner_put(db, ch, p->id, err);
    return lia_error_set(
        err, LIA_EINVAL, "channels", ch->collection, strlen(ch->collection),
        "taxii:%s/%s is an existing collection that is not partner %s's delivery collection (%s%s);"
        " give the partner a collection id of its own",
        ch->api_root, ch->collection, p->id, found ? "it is partner " : "made by an operator",
        found ? owner : "");
}

/* The collection of ch, created if missing (and its API root); an existing
 * one only if it is p's (owned_by). */
static int ensure_collection(lia_store *s, const lia_party *p, const lia_channel *ch, lia_taxii_collection *c,
                             lia_error *err)
{
    const char *name = lia_party_get(p, LIA_PF_NAME);
    lia_db *db = lia__store_db(s);
    int rc = lia_taxii_init(s, err);
    if (rc == LIA_OK)
        rc = lia__taxii_collection_get(s, ch->api_root, ch->collection, c, err);
    if (rc == LIA_OK)
        return owned_by(s, p, ch, c, err);
    if (rc != LIA_ENOTFOUND)
        return rc;
    lia_error_clear(err);
    if ((rc = lia__taxii_api_root_ensure(s, ch->api_root, "Partner deliveries", err)))
        return rc;
    lia_taxii_collection_defaults(c);
    snprintf(c->api_root, sizeof c->api_root, "%s", ch->api_root);
    snprintf(c->id, sizeof c->id, "%s", ch->collection);
    snprintf(c->title, sizeof c->title, "Liaison deliveries for %s (partner %s)", name ? name : p->id, p->id);
    describe(p, c);
    c->own_write = 0; /* the delivery writes; nobody POSTs into it */
    c->allow_write = 0;
    if ((rc = lia_taxii_collection_add(s, c, err)))
        return rc;
    if ((rc = lia__notify_schema(db, err)) || (rc = owner_put(db, ch, p->id, err)))
        return rc;
    return lia__taxii_collection_get(s, ch->api_root, ch->collection, c, err);
}

/* Export d's events at ev[from..to) as one bundle into b. */
static int export_batch(const lia__digest *d, const char *producer, int64_t now, size_t from, size_t to,
                        lia_buf *b, size_t *unexportable, lia_error *err)
{
    lia_stix_export *x = NULL;
    lia_stix_opts so;
    int rc;
    memset(&so, 0, sizeof so);
    so.producer = producer;
    so.now_us = now;
    lia_buf_reset(b);
    if ((rc = lia_stix_export_create(&so, to_buf, b, &x, err)))
        return rc;
    for (size_t i = from; i < to && rc == LIA_OK; i++) {
        rc = lia_stix_export_add(x, &d->ev[i], err);
        if (rc == LIA_ENOTFOUND) {
            (*unexportable)++;
            lia_error_clear(err);
            rc = LIA_OK;
        }
    }
    if (rc == LIA_OK)
        rc = lia_stix_export_finish(x, err);
    lia_stix_export_destroy(x);
    if (rc == LIA_OK && b->err)
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "STIX bundle too large");
    return rc;
}

typedef struct put_ctx {
    lia_store *s;
    const lia_taxii_collection *c;
    size_t *objects;
    lia_error *err;
} put_ctx;

static int put_one(void *ud, const char *obj, size_t n)
{
    put_ctx *p = ud;
    int stored = 0, rc = lia__taxii_put_exported(p->s, p->c, obj, n, &stored, p->err);
    if (rc == LIA_OK && stored)
        (*p->objects)++;
    return rc;
}

/* Add the objects of bundle b to collection c, each as the exporter wrote
 * it (serialised once). */
static int put_bundle(lia_store *s, const lia_taxii_collection *c, const lia_buf *b, size_t *objects,
                      char *bundle_id, size_t idn, lia_error *err)
{
    put_ctx p = {s, c, objects, err};
    char id[128];
    int rc = lia__stix_bundle_walk(b->ptr, b->len, put_one, &p, NULL, NULL, id, sizeof id, err);
    if (rc == LIA_OK && !bundle_id[0])
        snprintf(bundle_id, idn, "%s", id);
    return rc;
}

/* ---- TAXII push (a partner's own server) ---- */

/* Environment variable holding the bearer token for partner id:
 * LIAISON_TAXII_TOKEN_ + the id upper-cased, '-' and '.' as '_'. */
static void token_env(const char *id, char *out, size_t n)
{
    size_t k = (size_t)snprintf(out, n, "LIAISON_TAXII_TOKEN_");
    for (; *id && k + 1 < n; id++)
        out[k++] = *id >= 'a' && *id <= 'z' ? (char)(*id - 32) : (*id == '-' || *id == '.') ? '_' : *id;
    out[k] = '\0';
}

static size_t body_cb(char *p, size_t sz, size_t n, void *ud)
{
    lia_buf *b = ud;
    return lia_buf_append(b, p, sz * n) == LIA_OK ? sz * n : 0;
}

/* A bearer token goes over plain HTTP only to this machine (tests, a local
 * relay); to anyone else it would travel in clear text. */
static int plain_http_remote(const char *url)
{
    static const char *const local[] = {"127.0.0.1", "localhost", "[::1]"};
    const char *h = url + 7, *e;
    if (strncmp(url, "http://", 7) != 0)
        return 0;
    e = *h == '[' ? strchr(h, ']') : h + strcspn(h, ":/");
    if (!e)
        return 1;
    if (*h == '[')
        e++;
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        if ((size_t)(e - h) == strlen(local[i]) && strncmp(h, local[i], (size_t)(e - h)) == 0)
            return 0;
    return 1;
}

/* POST the objects of bundle b to the collection URL of ch, as a TAXII 2.1
 * envelope. LIA_OK when the server accepted every object (status 202,
 * failure_count 0); else LIA_ENET / LIA_EPARSE with the server's answer. */
static int push_envelope(const lia_channel *ch, const char *party_id, const lia_buf *b, size_t *objects,
                         char *bundle_id, size_t idn, lia_error *err)
{
    lia_slice arr;
    lia_buf env;
    char id[128], url[LIA_MAX_URL + 16], var[128], auth[1024], cerr[CURL_ERROR_SIZE] = "";
    const char *tok;
    struct curl_slist *hs = NULL;
    lia_buf resp;
    CURL *c = NULL;
    long status = 0;
    size_t nobj;
    int rc = LIA_OK;
    lia_buf_init(&resp, 16u << 20); /* the status lists every object */
    lia_buf_init(&env, LIA_MAX_MESSAGE + 64);
    /* the envelope holds the bundle's objects as the exporter wrote them */
    if ((rc = lia__stix_bundle_walk(b->ptr, b->len, NULL, NULL, &arr, &nobj, id, sizeof id, err)))
        goto out;
    if (!bundle_id[0])
        snprintf(bundle_id, idn, "%s", id);
    lia_buf_puts(&env, "{\"objects\":");
    lia_buf_append(&env, arr.ptr, arr.len);
    lia_buf_puts(&env, "}");
    if (env.err) {
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "TAXII envelope too large");
        goto out;
    }
    snprintf(url, sizeof url, "%.*s%sobjects/", (int)ch->value_len, ch->value,
             ch->value_len && ch->value[ch->value_len - 1] == '/' ? "" : "/");
    token_env(party_id, var, sizeof var);
    tok = getenv(var);
    if (tok && *tok && plain_http_remote(url)) {
        rc = lia_error_set(
            err, LIA_EINVAL, "channels", url, strlen(url),
            "refusing to send the API key in $%s over plain HTTP to another machine; use https", var);
        goto out;
    }
    if (!(c = curl_easy_init())) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "curl_easy_init failed");
        goto out;
    }
    hs = curl_slist_append(hs, "Accept: application/taxii+json;version=2.1");
    hs = curl_slist_append(hs, "Content-Type: application/taxii+json;version=2.1");
    if (tok && *tok) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
        hs = curl_slist_append(hs, auth);
        sodium_memzero(auth, sizeof auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, env.ptr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)env.len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    if (curl_easy_perform(c) != CURLE_OK) {
        rc = lia_error_set(err, LIA_ENET, "channels", url, strlen(url), "%s",
                           cerr[0] ? cerr : "transfer failed");
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    lia_buf_append(&resp, "", 0);
    if (status != 202) {
        rc = lia_error_set(err, LIA_ENET, "channels", url, strlen(url), "HTTP %ld%s%s: %.200s", status,
                           status == 401 || status == 403 ? ", set the partner's API key in $" : "",
                           status == 401 || status == 403 ? var : "", lia_buf_cstr(&resp));
        goto out;
    }
    if ((rc = lia__taxii_push_status(resp.ptr, resp.len, nobj, url, err)))
        goto out;
    *objects += nobj;
out:
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(hs);
    lia_buf_free(&env);
    lia_buf_free(&resp);
    return rc;
}

static int taxii_deliver(lia__notify_run *run, const lia__notify_rcpt *rc_, const lia_channel *ch,
                         const char *key, lia_error *err)
{
    /* the run's fields by their short names */
    lia_store *s = run->s;
    lia_db *db = run->db;
    const lia_route *rt = run->rt;
    const lia_notify_opts *o = run->o;
    const char *rcpt = rc_->name;
    int idx = rc_->idx;
    const lia__chset *req = &rc_->req;
    int64_t now = run->now;
    lia_notify_cb cb = run->cb;
    void *ud = run->ud;
    int *failed = &run->failed;
    lia__digest d;
    lia_notify_result res;
    lia_taxii_collection c;
    lia_buf bundle, note;
    lia_error e;
    char bundle_id[128] = "", errbuf[LIA_ERR_REASON_MAX + LIA_ERR_VALUE_MAX + 256] = "";
    const char *producer = lia__setting_text(LIA_SCOPE_ROUTE, "producer", lia_route_setting(rt, "producer"));
    size_t objects = 0, unexportable = 0;
    int64_t nid = 0;
    int rc = LIA_OK;
    memset(&d, 0, sizeof d);
    memset(&res, 0, sizeof res);
    lia_buf_init(&bundle, LIA_MAX_MESSAGE);
    lia_buf_init(&note, 4096);
    lia_buf_append(&note, "", 0);
    d.rt = rt;
    d.idx = idx;
    d.p = lia_route_party(rt, idx);
    res.recipient = rcpt;
    res.channel = key;
    res.to = key;
    res.language = "";
    res.message_id = "";
    res.error = "";
    if ((rc = lia__digest_gather(s, db, &d, rcpt, key, err)))
        goto out;
    res.events = d.n;
    res.withheld = d.nwithheld;
    if (d.n == 0) {
        if (!d.nwithheld)
            goto out; /* nothing pending on this channel */
        res.outcome = "skipped";
        res.error = "every pending event is now refused by the TLP policy";
        if (!o->dry_run)
            rc = lia__notify_record(s, db, rcpt, key, key, req, now, "", &d, "withheld", 0, res.error, 0, 0,
                                    "", 0, &nid, err);
        goto report;
    }
    if (o->dry_run) {
        if ((rc = export_batch(&d, producer, now, 0,
                               d.n < LIA_NOTIFY_TAXII_BATCH ? d.n : LIA_NOTIFY_TAXII_BATCH, &bundle,
                               &unexportable, err)))
            goto out;
        res.outcome = "dry-run";
        res.message = bundle.ptr;
        res.message_len = bundle.len;
        goto report;
    }
    lia_error_clear(&e);
    if (ch->kind == LIA_CHANNEL_TAXII_URL) {
        /* a partner's own server: POST each bundle's objects as an envelope */
        for (size_t at = 0; rc == LIA_OK && at < d.n; at += LIA_NOTIFY_TAXII_BATCH) {
            size_t to = d.n - at > LIA_NOTIFY_TAXII_BATCH ? at + LIA_NOTIFY_TAXII_BATCH : d.n;
            if ((rc = export_batch(&d, producer, now, at, to, &bundle, &unexportable, &e)) == LIA_OK)
                rc = push_envelope(ch, d.p->id, &bundle, &objects, bundle_id, sizeof bundle_id, &e);
            if (rc == LIA_OK)
                lia__fault_point("notify-mid-delivery"); /* a batch posted, none recorded */
        }
    } else {
        /* our own server, one transaction: the objects, the grants and the
         * record, or nothing */
        if ((rc = lia__db_begin(db, err)))
            goto out;
        rc = ensure_collection(s, d.p, ch, &c, &e);
        if (rc == LIA_OK) {
            grant_ctx g = {s, ch, 0, &e};
            rc = lia__accounts_orgs_of_party(s, LIA_ORG_PARTNER, d.p->id, grant_cb, &g, &e);
            if (rc == LIA_OK && g.n == 0)
                lia_buf_printf(
                    &note,
                    "no account organisation is linked to partner %s (liaison accounts org-link ORG %s):"
                    " only our own team can read the collection; ",
                    d.p->id, d.p->id);
        }
        for (size_t at = 0; rc == LIA_OK && at < d.n; at += LIA_NOTIFY_TAXII_BATCH) {
            size_t to = d.n - at > LIA_NOTIFY_TAXII_BATCH ? at + LIA_NOTIFY_TAXII_BATCH : d.n;
            if ((rc = export_batch(&d, producer, now, at, to, &bundle, &unexportable, &e)) == LIA_OK)
                rc = put_bundle(s, &c, &bundle, &objects, bundle_id, sizeof bundle_id, &e);
        }
        if (rc)
            lia__db_rollback(db); /* nothing of it stays */
    }
    res.attempts = 1;
    if (rc == LIA_OK) {
        int local = ch->kind == LIA_CHANNEL_TAXII;
        if (unexportable)
            lia_buf_printf(&note,
                           "%zu event(s) without an observable a STIX indicator can name: not exported; ",
                           unexportable);
        if (note.len >= 2 && note.ptr[note.len - 2] == ';')
            note.len -= 2;
        lia_buf_append(&note, "", 0);
        res.outcome = "sent";
        res.error = lia_buf_cstr(&note);
        res.objects = objects;
        res.message_id = bundle_id;
        rc = lia__notify_record(s, db, rcpt, key, key, req, now, bundle_id, &d, "sent", 1, res.error, 0, 0,
                                "", bundle.len, &nid, err);
        if (local && rc == LIA_OK)
            rc = lia__db_commit(db, err); /* rolled back if it fails */
        else if (local)
            lia__db_rollback(db);
        if (local && rc)
            goto out;
    } else {
        /* recorded as failed, retried next run */
        lia_error_format(&e, errbuf, sizeof errbuf);
        res.outcome = "failed";
        res.error = errbuf;
        *failed = 1;
        rc = lia__notify_record(s, db, rcpt, key, key, req, now, "", &d, "failed", 1, errbuf, 0, 0, "", 0,
                                &nid, err);
    }
report:
    res.notification_id = nid;
    if (rc == LIA_OK && cb && res.outcome)
        rc = cb(ud, &res);
out:
    lia__digest_free(&d);
    lia_buf_free(&bundle);
    lia_buf_free(&note);
    return rc;
}

const lia__notify_channel lia__channel_taxii = {LIA_CHANNEL_TAXII, "taxii", 1, 1, NULL, 0, taxii_deliver};
const lia__notify_channel lia__channel_taxii_url = {LIA_CHANNEL_TAXII_URL, "taxii", 1, 1, NULL, 0,
                                                    taxii_deliver};

int lia_notify_taxii_access(lia_store *s, const char *party_id, int64_t org_id, int can_read, size_t *n,
                            lia_error *err)
{
    lia_party p;
    size_t k = 0;
    int rc;
    lia_party_init(&p, LIA_PARTY_PARTNER);
    rc = lia_party_get_one(s, LIA_PARTY_PARTNER, party_id, &p, err);
    if (rc == LIA_ENOTFOUND) { /* gone from the directory: no channel to follow */
        lia_error_clear(err);
        if (n)
            *n = 0;
        rc = LIA_OK;
        goto out;
    }
    if (rc || (rc = lia_taxii_init(s, err)))
        goto out;
    for (size_t i = 0; i < p.f[LIA_PF_CHANNELS].n && rc == LIA_OK; i++) {
        const char *v = p.f[LIA_PF_CHANNELS].v[i];
        lia_channel ch;
        lia_taxii_collection c;
        if (lia__channel_parse(p.id, v, strlen(v), &ch, err)) {
            lia_error_clear(err);
            continue;
        }
        if (ch.kind != LIA_CHANNEL_TAXII)
            continue;
        rc = lia__taxii_collection_get(s, ch.api_root, ch.collection, &c, err);
        if (rc == LIA_ENOTFOUND) {
            lia_error_clear(err);
            rc = LIA_OK;
            continue;
        }
        /* only the partner's own delivery collections, never one its
         * channel merely names */
        if (rc == LIA_OK && owned_by(s, &p, &ch, &c, err) != LIA_OK) {
            lia_error_clear(err);
            continue;
        }
        if (rc == LIA_OK &&
            (rc = lia_taxii_grant(s, ch.api_root, ch.collection, org_id, can_read, 0, err)) == LIA_OK)
            k++;
    }
    if (rc == LIA_OK && n)
        *n = k;
out:
    lia_party_free(&p);
    return rc;
}
