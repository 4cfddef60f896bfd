/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The CSAF trusted provider under `liaison serve` (CSAF 2.0 section 7):
 *   /.well-known/csaf/provider-metadata.json   the provider's metadata
 *   /.well-known/csaf/service.json             the ROLIE service document
 *   /.well-known/csaf/openpgp/FPR.asc          the public key that signs
 *   /.well-known/csaf/TLP/                     one folder per TLP (white green amber red):
 *       index.txt, changes.csv, csaf-feed-tlp-TLP.json (ROLIE), YEAR/FILE.json{,.sha512,.asc}
 * white is public; green, amber and red are separate prefixes that require
 * authentication, and what a caller may see there is the one TLP policy
 * (route/tlp.h) on the caller's party, as the REST API decides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advisory/internal.h"
#include "core/clock.h"
#include "liaison/accounts.h"
#include "liaison/field.h"
#include "liaison/route.h"
#include "route/internal.h"
#include "route/tlp.h"

#define ROOT "/.well-known/csaf"

static const int tlps[] = {LIA_TLP_CLEAR, LIA_TLP_GREEN, LIA_TLP_AMBER, LIA_TLP_RED};

typedef struct req {
    lia__req *r;
    char base[1024]; /* the provider's URL: base_url, else the request's */
    lia_error e;
} req;

static void not_found(lia__req *r)
{
    lia__req_error(r, 404, "Not Found", "no such file in the CSAF provider");
}

static void fail(req *q)
{
    lia__req_store_error(q->r, &q->e);
}

/* May the caller read documents of TLP tlp? The own team reads all; a
 * partner or constituent organisation reads through its linked party of the
 * route directory, by the one TLP policy, never above its organisation's
 * ceiling. 1, 0, or a negative error. */
static int caller_may(req *q, int tlp)
{
    lia__req *r = q->r;
    lia_org org;
    lia_route *rt = NULL;
    lia_recipient rc_;
    const char *why = "";
    int rc, idx, ok = 0;
    if (tlp == LIA_TLP_CLEAR)
        return 1;
    if (!r->who.org_id && !r->who.user_id)
        return 0; /* not authenticated (cannot happen: these prefixes require it) */
    if (r->who.org_kind == LIA_ORG_OWN)
        return 1;
    if ((rc = lia_accounts_org_get(r->store, r->who.org, &org, &q->e)))
        return rc == LIA_ENOTFOUND ? 0 : rc;
    if (!org.party[0]) {
        snprintf(r->deny, sizeof r->deny, "csaf: organisation %.100s is linked to no party", r->who.org);
        return 0;
    }
    if ((rc = lia_route_load(r->store, &rt, &q->e)))
        return rc;
    idx = lia__route_party_find(
        rt, r->who.org_kind == LIA_ORG_CONSTITUENT ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER, org.party);
    if (idx >= 0) {
        lia_route_recipient(rt, idx, &rc_);
        if (rc_.tlp_max > r->who.tlp_ceiling)
            rc_.tlp_max = r->who.tlp_ceiling;
        ok = lia__tlp_check(&rc_, tlp, 0, &why);
    } else
        why = "its party is not in the directory";
    if (!ok)
        snprintf(r->deny, sizeof r->deny, "csaf %s: %.130s", lia_tlp_name(tlp), why);
    lia_route_destroy(rt);
    return ok;
}

static void url(req *q, lia_buf *b, const char *rest)
{
    lia_buf_printf(b, "%s" ROOT "%s", q->base, rest);
}

/* ---- provider metadata, ROLIE service, key ---- */

static void jstr(lia_buf *b, const char *s)
{
    lia_buf_json_str(b, s, strlen(s));
}

static void feed_url(req *q, lia_buf *b, int tlp)
{
    char rest[96];
    snprintf(rest, sizeof rest, "/%s/csaf-feed-tlp-%s.json", lia_csaf_tlp_folder(tlp),
             lia_csaf_tlp_folder(tlp));
    url(q, b, rest);
}

static void quoted_url(req *q, lia_buf *b, const char *rest)
{
    lia_buf u;
    lia_buf_init(&u, 4096);
    url(q, &u, rest);
    jstr(b, lia_buf_cstr(&u));
    lia_buf_free(&u);
}

static void quoted_feed(req *q, lia_buf *b, int tlp)
{
    lia_buf u;
    lia_buf_init(&u, 4096);
    feed_url(q, &u, tlp);
    jstr(b, lia_buf_cstr(&u));
    lia_buf_free(&u);
}

static int latest_cb(void *ud, const lia__csaf_pub *p)
{
    int64_t *t = ud;
    if (p->published_us > *t)
        *t = p->published_us;
    return 0;
}

static void metadata(req *q)
{
    lia__req *r = q->r;
    lia_buf v;
    char when[32], rest[160];
    int64_t last = 0;
    int rc;
    lia_buf_init(&v, 256 * 1024);
    if ((rc = lia__advisory_published(r->store, -1, latest_cb, &last, &q->e)))
        goto fail;
    lia__csaf_time(last ? last : lia__now_us(), when, sizeof when);
    lia_buf *o = &r->out;
    lia_buf_puts(o, "{\n  \"canonical_url\": ");
    quoted_url(q, o, "/provider-metadata.json");
    lia_buf_puts(o, ",\n  \"distributions\": [");
    for (size_t i = 0; i < sizeof tlps / sizeof *tlps; i++) {
        const char *label = lia_csaf_tlp_label(tlps[i], NULL);
        snprintf(rest, sizeof rest, "/%s/", lia_csaf_tlp_folder(tlps[i]));
        lia_buf_printf(o, "%s\n    {\"directory_url\": ", i ? "," : "");
        quoted_url(q, o, rest);
        lia_buf_printf(
            o,
            ", \"rolie\": {\"feeds\": [{\"summary\": \"TLP:%s advisories\", \"tlp_label\": \"%s\", \"url\": ",
            label, label);
        quoted_feed(q, o, tlps[i]);
        lia_buf_puts(o, "}]}}");
    }
    lia_buf_printf(o,
                   "\n  ],\n  \"last_updated\": \"%s\",\n  \"list_on_CSAF_aggregators\": true,\n"
                   "  \"metadata_version\": \"2.0\",\n  \"mirror_on_CSAF_aggregators\": true,\n",
                   when);
    lia_buf_reset(&v);
    rc = lia_advisory_setting_get(r->store, "key_fpr", &v, &q->e);
    if (rc && rc != LIA_ENOTFOUND)
        goto fail;
    lia_buf_puts(o, "  \"public_openpgp_keys\": [");
    if (rc == LIA_OK) {
        snprintf(rest, sizeof rest, "/openpgp/%s.asc", lia_buf_cstr(&v));
        lia_buf_puts(o, "{\"fingerprint\": ");
        jstr(o, lia_buf_cstr(&v));
        lia_buf_puts(o, ", \"url\": ");
        quoted_url(q, o, rest);
        lia_buf_puts(o, "}");
    }
    lia_buf_puts(o, "],\n  \"publisher\": {");
    static const char *const pk[][2] = {{"publisher_category", "category"},
                                        {"contact", "contact_details"},
                                        {"publisher_name", "name"},
                                        {"publisher_namespace", "namespace"}};
    int first = 1;
    for (size_t i = 0; i < 4; i++) {
        lia_buf_reset(&v);
        rc = lia_advisory_setting_get(r->store, pk[i][0], &v, &q->e);
        if (rc && rc != LIA_ENOTFOUND)
            goto fail;
        if (rc == LIA_ENOTFOUND && i == 0)
            lia_buf_puts(&v, "coordinator"), rc = LIA_OK;
        if (rc)
            continue;
        lia_buf_printf(o, "%s\"%s\": ", first ? "" : ", ", pk[i][1]);
        jstr(o, lia_buf_cstr(&v));
        first = 0;
    }
    lia_buf_puts(o, "},\n  \"role\": \"csaf_trusted_provider\"\n}\n");
    r->status = 200;
    r->ctype = "application/json";
    lia_buf_free(&v);
    return;
fail:
    lia_buf_free(&v);
    fail(q);
}

static void service(req *q)
{
    lia_buf *o = &q->r->out;
    lia_buf_puts(o, "{\"service\": {\"workspace\": [{\"title\": \"CSAF advisories\", \"collection\": [");
    for (size_t i = 0; i < sizeof tlps / sizeof *tlps; i++) {
        lia_buf_printf(o, "%s{\"title\": \"TLP:%s advisories\", \"href\": ", i ? ", " : "",
                       lia_csaf_tlp_label(tlps[i], NULL));
        quoted_feed(q, o, tlps[i]);
        lia_buf_puts(o, ", \"categories\": {\"category\": [{\"scheme\": "
                        "\"urn:ietf:params:rolie:category:information-type\", \"term\": \"csaf\"}]}}");
    }
    lia_buf_puts(o, "]}]}}\n");
    q->r->status = 200;
    q->r->ctype = "application/json";
}

static void openpgp(req *q, const char *rest)
{
    lia__req *r = q->r;
    lia_buf fpr;
    int rc;
    lia_buf_init(&fpr, 256);
    rc = lia_advisory_setting_get(r->store, "key_fpr", &fpr, &q->e);
    if (rc == LIA_OK) {
        char want[128];
        snprintf(want, sizeof want, "%s.asc", lia_buf_cstr(&fpr));
        if (strcmp(rest, "") == 0 || strcmp(rest, "/") == 0) {
            lia_buf_printf(
                &r->out,
                "<!DOCTYPE html>\n<html><body><ul><li><a href=\"%s\">%s</a></li></ul></body></html>\n", want,
                want);
            r->status = 200;
            r->ctype = "text/html; charset=utf-8";
        } else if (rest[0] == '/' && strcmp(rest + 1, want) == 0 &&
                   (rc = lia_advisory_setting_get(r->store, "public_key", &r->out, &q->e)) == LIA_OK) {
            r->status = 200;
            r->ctype = "application/pgp-keys";
        } else if (rc && rc != LIA_ENOTFOUND)
            fail(q);
        else
            not_found(r);
    } else if (rc == LIA_ENOTFOUND)
        not_found(r);
    else
        fail(q);
    lia_buf_free(&fpr);
}

/* ---- a TLP folder ---- */

typedef struct walk {
    req *q;
    const char *folder;
    int what; /* 0 index.txt, 1 changes.csv, 2 feed, 3 listing of the folder, 4 listing of a year, 5 a file */
    int year, n;
    const char *file; /* what 5: "YEAR/NAME.json[.sha512|.asc]" */
    lia_buf seen;     /* what 3: the years listed */
} walk;

/* p->file is "FOLDER/YEAR/NAME.json"; the part after the folder. */
static const char *in_folder(const lia__csaf_pub *p)
{
    const char *s = strchr(p->file, '/');
    return s ? s + 1 : p->file;
}

static int walk_cb(void *ud, const lia__csaf_pub *p)
{
    walk *w = ud;
    lia_buf *o = &w->q->r->out;
    const char *rel = in_folder(p);
    char when[32], pub[32];
    w->n++;
    switch (w->what) {
    case 0: lia_buf_printf(o, "%s\n", rel); break;
    case 1:
        lia__csaf_time(p->published_us, when, sizeof when);
        /* both fields quoted, as the specification's examples (file names hold no quote) */
        lia_buf_printf(o, "\"%s\",\"%s\"\n", rel, when);
        break;
    case 2: {
        char rest[600];
        lia__csaf_time(p->published_us, when, sizeof when);
        lia__csaf_time(p->initial_us, pub, sizeof pub);
        snprintf(rest, sizeof rest, "/%s/%s", w->folder, rel);
        lia_buf_printf(o, "%s\n      {\"id\": ", w->n > 1 ? "," : "");
        jstr(o, p->id);
        lia_buf_puts(o, ", \"title\": ");
        jstr(o, p->title);
        lia_buf_puts(o, ",\n       \"link\": [{\"rel\": \"self\", \"href\": ");
        quoted_url(w->q, o, rest);
        lia_buf_puts(o, "}, {\"rel\": \"hash\", \"href\": ");
        snprintf(rest, sizeof rest, "/%s/%s.sha512", w->folder, rel);
        quoted_url(w->q, o, rest);
        lia_buf_puts(o, "}, {\"rel\": \"signature\", \"href\": ");
        snprintf(rest, sizeof rest, "/%s/%s.asc", w->folder, rel);
        quoted_url(w->q, o, rest);
        lia_buf_printf(o,
                       "}],\n       \"published\": \"%s\", \"updated\": \"%s\",\n       \"content\": "
                       "{\"type\": \"application/json\", \"src\": ",
                       pub, when);
        snprintf(rest, sizeof rest, "/%s/%s", w->folder, rel);
        quoted_url(w->q, o, rest);
        lia_buf_puts(
            o,
            "},\n       \"format\": {\"schema\": "
            "\"https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json\", \"version\": \"2.0\"}}");
        break;
    }
    case 3: {
        char y[16];
        snprintf(y, sizeof y, "|%d|", p->year);
        if (!strstr(lia_buf_cstr(&w->seen), y)) {
            lia_buf_puts(&w->seen, y);
            lia_buf_printf(o, "<li><a href=\"%d/\">%d/</a></li>\n", p->year, p->year);
        }
        break;
    }
    case 4:
        if (p->year == w->year) {
            const char *name = strrchr(p->file, '/') + 1;
            lia_buf_printf(o,
                           "<li><a href=\"%s\">%s</a></li>\n<li><a href=\"%s.sha512\">%s.sha512</a></li>\n"
                           "<li><a href=\"%s.asc\">%s.asc</a></li>\n",
                           name, name, name, name, name, name);
        } else
            w->n--;
        break;
    case 5: {
        size_t n = strlen(rel);
        const char *f = w->file;
        lia__req *r = w->q->r;
        if (strcmp(f, rel) == 0) {
            lia_buf_puts(o, p->doc);
            r->ctype = "application/json";
        } else if (strncmp(f, rel, n) == 0 && strcmp(f + n, ".sha512") == 0) {
            lia_buf_printf(o, "%s  %s\n", p->sha512, strrchr(p->file, '/') + 1);
            r->ctype = "text/plain; charset=utf-8";
        } else if (strncmp(f, rel, n) == 0 && strcmp(f + n, ".asc") == 0) {
            lia_buf_puts(o, p->asc);
            r->ctype = "application/pgp-signature";
        } else {
            w->n--;
            return 0;
        }
        return 1; /* found */
    }
    }
    return 0;
}

static void folder(req *q, int tlp, const char *rest)
{
    lia__req *r = q->r;
    walk w = {q, lia_csaf_tlp_folder(tlp), 0, 0, 0, NULL, {0}};
    int rc, may = caller_may(q, tlp);
    char feed[64];
    if (may < 0) {
        fail(q);
        return;
    }
    if (!may) {
        not_found(r); /* nothing under a folder the caller may not read, not even that it exists */
        return;
    }
    snprintf(feed, sizeof feed, "/csaf-feed-tlp-%s.json", w.folder);
    lia_buf_init(&w.seen, 64 * 1024);
    if (!*rest || strcmp(rest, "/") == 0) {
        w.what = 3;
        lia_buf_printf(&r->out,
                       "<!DOCTYPE html>\n<html><head><title>TLP:%s</title></head><body><ul>\n"
                       "<li><a href=\"index.txt\">index.txt</a></li>\n<li><a href=\"changes.csv\">"
                       "changes.csv</a></li>\n<li><a href=\"%s\">%s</a></li>\n",
                       lia_csaf_tlp_label(tlp, NULL), feed + 1, feed + 1);
    } else if (strcmp(rest, "/index.txt") == 0)
        w.what = 0;
    else if (strcmp(rest, "/changes.csv") == 0)
        w.what = 1;
    else if (strcmp(rest, feed) == 0) {
        char now[32];
        w.what = 2;
        lia__csaf_time(lia__now_us(), now, sizeof now);
        lia_buf_printf(&r->out,
                       "{\"feed\": {\"id\": \"liaison-csaf-feed-tlp-%s\", \"title\": \"TLP:%s advisories\",\n"
                       "  \"link\": [{\"rel\": \"self\", \"href\": ",
                       w.folder, lia_csaf_tlp_label(tlp, NULL));
        quoted_feed(q, &r->out, tlp);
        lia_buf_printf(
            &r->out,
            "}],\n  \"category\": [{\"scheme\": \"urn:ietf:params:rolie:category:information-type\","
            " \"term\": \"csaf\"}],\n  \"updated\": \"%s\",\n  \"entry\": [",
            now);
    } else {
        const char *slash = strchr(rest + 1, '/');
        char *end;
        long y = strtol(rest + 1, &end, 10);
        if (y < 1000 || y > 9999 || end != rest + 5 || (*end && *end != '/')) {
            lia_buf_free(&w.seen);
            not_found(r);
            return;
        }
        w.year = (int)y;
        if (!slash || !slash[1]) {
            w.what = 4;
            lia_buf_printf(&r->out,
                           "<!DOCTYPE html>\n<html><head><title>TLP:%s %ld</title></head><body><ul>\n",
                           lia_csaf_tlp_label(tlp, NULL), y);
        } else {
            w.what = 5;
            w.file = rest + 1;
        }
    }
    rc = lia__advisory_published(r->store, tlp, walk_cb, &w, &q->e);
    lia_buf_free(&w.seen);
    if (rc < 0) {
        lia_buf_reset(&r->out);
        fail(q);
        return;
    }
    if ((w.what == 4 || w.what == 5) && !w.n) {
        lia_buf_reset(&r->out);
        not_found(r);
        return;
    }
    if (w.what == 2)
        lia_buf_puts(&r->out, "]\n}}\n");
    if (w.what == 3 || w.what == 4)
        lia_buf_puts(&r->out, "</ul></body></html>\n");
    r->status = 200;
    if (w.what == 0)
        r->ctype = "text/plain; charset=utf-8";
    else if (w.what == 1)
        r->ctype = "text/csv; charset=utf-8";
    else if (w.what == 2)
        r->ctype = "application/json";
    else if (w.what == 3 || w.what == 4)
        r->ctype = "text/html; charset=utf-8";
}

static void handle(void *ud, lia__req *r)
{
    req q = {.r = r};
    const int *tlp = ud;
    const char *rest = r->path + strlen(ROOT);
    lia_buf b;
    int rc;
    lia_error_clear(&q.e);
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        lia__req_error(r, 405, "Method Not Allowed", "the CSAF provider serves GET only");
        return;
    }
    lia_buf_init(&b, sizeof q.base - 1);
    rc = lia_advisory_setting_get(r->store, "base_url", &b, &q.e);
    if (rc && rc != LIA_ENOTFOUND) {
        lia_buf_free(&b);
        fail(&q);
        return;
    }
    snprintf(q.base, sizeof q.base, "%s", rc == LIA_OK ? lia_buf_cstr(&b) : r->base_url);
    lia_buf_free(&b);
    if (tlp) {
        folder(&q, *tlp, rest + 1 + strlen(lia_csaf_tlp_folder(*tlp)));
        return;
    }
    if (!*rest || strcmp(rest, "/") == 0) {
        lia_buf_puts(&r->out, "<!DOCTYPE html>\n<html><head><title>CSAF</title></head><body><ul>\n"
                              "<li><a href=\"provider-metadata.json\">provider-metadata.json</a></li>\n"
                              "<li><a href=\"service.json\">service.json</a></li>\n"
                              "<li><a href=\"openpgp/\">openpgp/</a></li>\n");
        for (size_t i = 0; i < sizeof tlps / sizeof *tlps; i++)
            lia_buf_printf(&r->out, "<li><a href=\"%s/\">%s/</a></li>\n", lia_csaf_tlp_folder(tlps[i]),
                           lia_csaf_tlp_folder(tlps[i]));
        lia_buf_puts(&r->out, "</ul></body></html>\n");
        r->status = 200;
        r->ctype = "text/html; charset=utf-8";
    } else if (strcmp(rest, "/provider-metadata.json") == 0)
        metadata(&q);
    else if (strcmp(rest, "/service.json") == 0)
        service(&q);
    else if (strncmp(rest, "/openpgp", 8) == 0 && (!rest[8] || rest[8] == '/'))
        openpgp(&q, rest + 8);
    else if (strncmp(rest, "/white", 6) == 0 && (!rest[6] || rest[6] == '/'))
        folder(&q, LIA_TLP_CLEAR, rest + 6);
    else
        not_found(r);
}

static int store_init(void *ud, lia_store *s, lia_error *err)
{
    (void)ud;
    return lia__advisory_schema(s, err);
}

int lia__advisory_mount(lia_http *h, lia_error *err)
{
    static const int green = LIA_TLP_GREEN, amber = LIA_TLP_AMBER, red = LIA_TLP_RED;
    static const lia__http_handler hs[] = {
        {.name = "csaf",
         .prefix = ROOT,
         .auth = LIA__HTTP_AUTH_NONE,
         .store = 1,
         .max_body = 1024,
         .handle = handle,
         .store_init = store_init},
        {.name = "csaf",
         .prefix = ROOT "/green",
         .auth = LIA__HTTP_AUTH_REQUIRED,
         .store = 1,
         .max_body = 1024,
         .handle = handle,
         .ud = (void *)&green},
        {.name = "csaf",
         .prefix = ROOT "/amber",
         .auth = LIA__HTTP_AUTH_REQUIRED,
         .store = 1,
         .max_body = 1024,
         .handle = handle,
         .ud = (void *)&amber},
        {.name = "csaf",
         .prefix = ROOT "/red",
         .auth = LIA__HTTP_AUTH_REQUIRED,
         .store = 1,
         .max_body = 1024,
         .handle = handle,
         .ud = (void *)&red},
    };
    int rc;
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        if ((rc = lia__http_register(h, &hs[i], err)))
            return rc;
    return LIA_OK;
}
