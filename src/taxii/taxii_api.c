/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* TAXII 2.1 endpoints: discovery, API roots, collections, objects (GET,
 * POST, DELETE), object by id, versions, manifest, status. Every object
 * served goes through the TLP policy (in lia__taxii_query); every collection
 * access through lia__taxii_access. */
#include <stdio.h>
#include <string.h>

#include "http/parse.h"
#include "taxii/taxii_http.h"
#include "taxii/taxii_internal.h"
#include "liaison/limits.h"

#define RET(call)                                                                                            \
    do {                                                                                                     \
        call;                                                                                                \
        return;                                                                                              \
    } while (0)

/* The query parameters of a request, read as a TAXII filter. */
typedef struct tfilter {
    lia_taxii_filter f;
    int rc; /* LIA_OK or the error from a parameter */
    const char *why;
} tfilter;

/* A TAXII error resource (also what the server answers for us: 401, 413, 429, ...). */
static void taxii_error(lia__req *r, int status, const char *title, const char *description)
{
    lia_buf_reset(&r->out);
    r->status = status;
    r->ctype = LIA_MEDIA_TAXII21_STR;
    r->nresp = r->resp_used = 0;
    lia_buf_puts(&r->out, "{\"title\":");
    lia_buf_json_str(&r->out, title, strlen(title));
    lia_buf_printf(&r->out, ",\"http_status\":\"%d\",\"description\":", status);
    lia_buf_json_str(&r->out, description, strlen(description));
    lia_buf_putc(&r->out, '}');
}

static void store_error(lia__req *r, const lia_error *e)
{
    lia__req_store_error(r, e); /* 503 + Retry-After for a locked store, else 500 */
}

/* Split path into segments (no empty ones); max 8. */
static int split(const char *path, lia_slice seg[8])
{
    int n = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        if (n == 8)
            return -1;
        seg[n++] = (lia_slice){s, (size_t)(p - s)};
    }
    return n;
}

static int seg_copy(char *dst, size_t n, lia_slice s)
{
    if (s.len >= n)
        return -1;
    memcpy(dst, s.ptr, s.len);
    dst[s.len] = '\0';
    return 0;
}

static int want_taxii(lia__req *r, int allow_stix)
{
    int m = lia__http_accept(lia__req_header(r, "Accept"), allow_stix);
    if (m == LIA_MEDIA_NONE) {
        taxii_error(r, 406, "Not Acceptable",
                    allow_stix ? "Accept must be " LIA_MEDIA_TAXII21_STR " or " LIA_MEDIA_STIX21_STR
                               : "Accept must be " LIA_MEDIA_TAXII21_STR);
        return -1;
    }
    r->ctype = m == LIA_MEDIA_STIX21 ? LIA_MEDIA_STIX21_STR : LIA_MEDIA_TAXII21_STR;
    return 0;
}

static void discovery(lia__req *r)
{
    lia__taxii_discovery d;
    lia_error e;
    lia_buf names;
    lia_error_clear(&e);
    if (lia__taxii_discovery_get(r->store, &d, &e)) {
        store_error(r, &e);
        return;
    }
    lia_buf_init(&names, 1u << 20);
    if (lia__taxii_api_root_names(r->store, &r->who, &names, &e)) {
        lia_buf_free(&names);
        store_error(r, &e);
        return;
    }
    lia_buf_puts(&r->out, "{\"title\":");
    lia_buf_json_str(&r->out, d.title, strlen(d.title));
    if (d.description[0]) {
        lia_buf_puts(&r->out, ",\"description\":");
        lia_buf_json_str(&r->out, d.description, strlen(d.description));
    }
    if (d.contact[0]) {
        lia_buf_puts(&r->out, ",\"contact\":");
        lia_buf_json_str(&r->out, d.contact, strlen(d.contact));
    }
    int dflt = 0;
    if (d.default_root[0] && lia__taxii_root_visible(r->store, d.default_root, NULL, &r->who, &dflt, &e)) {
        lia_buf_free(&names);
        store_error(r, &e);
        return;
    }
    if (dflt)
        lia_buf_printf(&r->out, ",\"default\":\"%s/%s/\"", r->base_url, d.default_root);
    lia_buf_puts(&r->out, ",\"api_roots\":[");
    /* names is a JSON array of strings; rewrite as absolute URLs */
    {
        const char *p = lia_buf_cstr(&names);
        int first = 1;
        while (*p) {
            if (*p == '"') {
                const char *e2 = p + 1;
                while (*e2 && *e2 != '"')
                    e2 += (*e2 == '\\' && e2[1]) ? 2 : 1;
                lia_buf_printf(&r->out, "%s\"%s/%.*s/\"", first ? "" : ",", r->base_url, (int)(e2 - p - 1),
                               p + 1);
                first = 0;
                p = *e2 ? e2 + 1 : e2;
            } else {
                p++;
            }
        }
    }
    lia_buf_puts(&r->out, "]}");
    lia_buf_free(&names);
    r->status = 200;
}

static int get_collection(lia__req *r, const char *root, lia_slice cid, lia_taxii_collection *c)
{
    char id[LIA_TAXII_MAX_ID];
    lia_error e;
    lia_error_clear(&e);
    if (seg_copy(id, sizeof id, cid)) {
        taxii_error(r, 404, "Not Found", "no such collection");
        return -1;
    }
    int rc = lia__taxii_collection_get(r->store, root, id, c, &e);
    if (rc == LIA_ENOTFOUND) {
        taxii_error(r, 404, "Not Found", "no such collection in this API root");
        return -1;
    }
    if (rc) {
        store_error(r, &e);
        return -1;
    }
    return 0;
}

static void set_dates(lia__req *r, const lia_taxii_page *pg)
{
    char first[32], last[32];
    if (pg->count) {
        lia__stix_time_format(pg->first_added, first);
        lia__stix_time_format(pg->last_added, last);
        lia__req_add_header(r, "X-TAXII-Date-Added-First", first);
        lia__req_add_header(r, "X-TAXII-Date-Added-Last", last);
    }
}

/* The reader of a request: objects of our own team are owned by org 0
 * (what POST and the delivery channels store), or by its real id. */
static lia_taxii_reader reader_of(const lia_principal *who)
{
    lia_taxii_reader rd = {who->org_id, who->tlp_ceiling, 0};
    if (who->org_kind == LIA_ORG_OWN) {
        rd.org_id = 0;
        rd.also_org_id = who->org_id;
    }
    return rd;
}

static void page(lia__req *r, const tfilter *tf, const lia_taxii_collection *c, int kind, const char *oid)
{
    lia_taxii_reader rd = reader_of(&r->who);
    lia_taxii_page pg;
    lia_error e;
    lia_error_clear(&e);
    if (tf->rc) {
        taxii_error(r, 400, "ProcessingError", tf->why);
        return;
    }
    int rc = lia__taxii_query(r->store, c, kind, oid, &tf->f, &rd, &r->out, &pg, &e);
    if (rc == LIA_EINVAL) {
        taxii_error(r, 400, "ProcessingError", e.reason);
        return;
    }
    if (rc) {
        store_error(r, &e);
        return;
    }
    if (pg.count == 0 && oid) {
        int yes = 0;
        if (lia__taxii_object_visible(r->store, c, oid, &rd, &yes, &e)) {
            store_error(r, &e);
            return;
        }
        if (!yes) {
            taxii_error(r, 404, "Not Found", "no such object in this collection");
            return;
        }
    }
    set_dates(r, &pg);
    r->status = 200;
}

static void objects_post(lia__req *r, const lia_taxii_collection *c, uint64_t max_len)
{
    lia_error e;
    lia_error_clear(&e);
    if (lia__http_content_type(lia__req_header(r, "Content-Type"), 0) == LIA_MEDIA_NONE) {
        taxii_error(r, 415, "Unsupported Media Type", "Content-Type must be " LIA_MEDIA_TAXII21_STR);
        return;
    }
    if (r->body_len > max_len) {
        taxii_error(r, 413, "Payload Too Large", "body exceeds max_content_length");
        return;
    }
    int rc = lia__taxii_post(r->store, c, &r->who, r->body, r->body_len, &r->out, &e);
    if (rc == LIA_EPARSE || rc == LIA_ELIMIT) {
        char msg[600];
        snprintf(msg, sizeof msg, "While processing supplied content, an error occurred: %s", e.reason);
        taxii_error(r, 422, "ProcessingError", msg);
        return;
    }
    if (rc) {
        store_error(r, &e);
        return;
    }
    r->status = 202;
}

static void deny(lia__req *r, int status, const char *why)
{
    snprintf(r->deny, sizeof r->deny, "%s", why);
    taxii_error(r, status, status == 403 ? "Forbidden" : "Not Found", why);
}

void lia__taxii_handle(lia__req *r)
{
    lia_slice seg[8];
    char root[LIA_TAXII_MAX_ID], oid[LIA_TAXII_MAX_ID];
    int n = split(r->path, seg), is_get = strcmp(r->method, "GET") == 0;
    int is_post = strcmp(r->method, "POST") == 0, is_del = strcmp(r->method, "DELETE") == 0;
    uint64_t max_len = 0;
    lia_error e;
    lia_taxii_collection c;
    int can_r = 0, can_w = 0;
    tfilter tf;
    lia_error_clear(&e);
    r->status = 0;
    r->ctype = LIA_MEDIA_TAXII21_STR;
    lia__taxii_filter_init(&tf.f);
    tf.rc = LIA_OK;
    tf.why = NULL;
    for (size_t i = 0; i < r->nargs && !tf.rc; i++)
        tf.rc = lia__taxii_filter_param(&tf.f, r->args[i].name.ptr, r->args[i].value.ptr, &tf.why);
    if (n <= 0 || n > 6) {
        taxii_error(r, 404, "Not Found", "no such resource");
        return;
    }
    if (!is_get && !is_post && !is_del) {
        taxii_error(r, 405, "Method Not Allowed", "GET, POST or DELETE");
        return;
    }
    if (want_taxii(r, n >= 4 && (lia_slice_eq(seg[3], "objects") || lia_slice_eq(seg[3], "manifest"))))
        return;
    if (n == 1 && lia_slice_eq(seg[0], "taxii2")) {
        if (!is_get)
            RET(taxii_error(r, 405, "Method Not Allowed", "GET only"));
        discovery(r);
        return;
    }
    /* an API root without a collection a partner may use does not exist
     * for it, as a collection without a grant does not */
    int root_ok = 0;
    char hint[LIA_TAXII_MAX_ID];
    int has_hint = n >= 3 && lia_slice_eq(seg[1], "collections") && !seg_copy(hint, sizeof hint, seg[2]);
    if (!seg_copy(root, sizeof root, seg[0]) &&
        lia__taxii_root_visible(r->store, root, has_hint ? hint : NULL, &r->who, &root_ok, &e))
        RET(store_error(r, &e));
    if (!root_ok)
        RET(taxii_error(r, 404, "Not Found", "no such API root"));
    if (lia__taxii_api_root_json(r->store, root, n == 1 ? &r->out : NULL, &max_len, &e)) {
        lia_buf_reset(&r->out);
        if (e.code && e.code != LIA_ENOTFOUND)
            RET(store_error(r, &e));
        RET(taxii_error(r, 404, "Not Found", "no such API root"));
    }
    if (n == 1) {
        r->status = is_get ? 200 : 405;
        if (!is_get)
            taxii_error(r, 405, "Method Not Allowed", "GET only");
        return;
    }
    if (n == 3 && lia_slice_eq(seg[1], "status")) {
        char sid[LIA_TAXII_MAX_ID];
        /* a status lists what its poster sent: the poster's organisation
         * reads it (our admins read all); to anyone else it does not exist */
        int64_t owner = r->who.org_kind != LIA_ORG_OWN  ? r->who.org_id
                        : r->who.role == LIA_ROLE_ADMIN ? -1
                                                        : 0;
        if (!is_get)
            RET(taxii_error(r, 405, "Method Not Allowed", "GET only"));
        if (seg_copy(sid, sizeof sid, seg[2]) ||
            lia__taxii_status_json(r->store, root, sid, owner, &r->out, &e)) {
            if (e.code && e.code != LIA_ENOTFOUND)
                RET(store_error(r, &e));
            RET(taxii_error(r, 404, "Not Found", "no such status"));
        }
        r->status = 200;
        return;
    }
    if (!lia_slice_eq(seg[1], "collections"))
        RET(taxii_error(r, 404, "Not Found", "no such resource"));
    if (n == 2) {
        if (!is_get)
            RET(taxii_error(r, 405, "Method Not Allowed", "GET only"));
        if (lia__taxii_collections_json(r->store, root, &r->who, &r->out, &e))
            RET(store_error(r, &e));
        r->status = 200;
        return;
    }
    if (get_collection(r, root, seg[2], &c))
        return;
    lia__taxii_access(r->store, &c, &r->who, &can_r, &can_w);
    /* A collection a partner may neither read nor write does not exist for
     * it: 403 under it would tell a guessed id from a wrong one. */
    if (!can_r && !can_w && r->who.org_kind != LIA_ORG_OWN)
        RET(deny(r, 404, "no such collection in this API root"));
    if (n == 3) {
        if (!is_get)
            RET(taxii_error(r, 405, "Method Not Allowed", "GET only"));
        lia__taxii_collection_json(r->store, &c, &r->who, &r->out);
        r->status = 200;
        return;
    }
    if (n == 4 && lia_slice_eq(seg[3], "manifest")) {
        if (!is_get)
            RET(taxii_error(r, 405, "Method Not Allowed", "GET only"));
        if (!can_r)
            RET(deny(r, 403, "no read access to this collection"));
        RET(page(r, &tf, &c, LIA_TAXII_MANIFEST, NULL));
    }
    if (!lia_slice_eq(seg[3], "objects"))
        RET(taxii_error(r, 404, "Not Found", "no such resource"));
    if (n == 4) {
        if (is_post) {
            if (!can_w)
                RET(deny(r, 403, "no write access to this collection"));
            RET(objects_post(r, &c, max_len));
        }
        if (!is_get)
            RET(taxii_error(r, 405, "Method Not Allowed", "GET or POST"));
        if (!can_r)
            RET(deny(r, 403, "no read access to this collection"));
        RET(page(r, &tf, &c, LIA_TAXII_OBJECTS, NULL));
    }
    if (seg_copy(oid, sizeof oid, seg[4]))
        RET(taxii_error(r, 404, "Not Found", "no such object"));
    if (n == 5) {
        if (is_del) {
            int64_t cnt = 0;
            if (!can_w || !can_r)
                RET(deny(r, 403, "no write access to this collection"));
            if (tf.rc)
                RET(taxii_error(r, 400, "ProcessingError", tf.why));
            lia_taxii_reader rd = reader_of(&r->who);
            int yes = 0;
            if (lia__taxii_object_visible(r->store, &c, oid, &rd, &yes, &e))
                RET(store_error(r, &e));
            if (!yes)
                RET(taxii_error(r, 404, "Not Found", "no such object in this collection"));
            /* our admins moderate; everyone else deletes only its own */
            int any_owner = r->who.org_kind == LIA_ORG_OWN && r->who.role == LIA_ROLE_ADMIN;
            if (lia__taxii_delete(r->store, &c, oid, &tf.f, &rd, any_owner, &cnt, &e))
                RET(store_error(r, &e));
            if (cnt == 0)
                RET(taxii_error(r, 404, "Not Found",
                                any_owner ? "no version matched"
                                          : "no version of your organisation matched"));
            r->status = 200;
            lia_buf_puts(&r->out, "{}");
            return;
        }
        if (!is_get)
            RET(taxii_error(r, 405, "Method Not Allowed", "GET or DELETE"));
        if (!can_r)
            RET(deny(r, 403, "no read access to this collection"));
        RET(page(r, &tf, &c, LIA_TAXII_OBJECTS, oid));
    }
    if (n == 6 && lia_slice_eq(seg[5], "versions")) {
        if (!is_get)
            RET(taxii_error(r, 405, "Method Not Allowed", "GET only"));
        if (!can_r)
            RET(deny(r, 403, "no read access to this collection"));
        RET(page(r, &tf, &c, LIA_TAXII_VERSIONS, oid));
    }
    taxii_error(r, 404, "Not Found", "no such resource");
}

static void taxii_handler(void *ud, lia__req *r)
{
    (void)ud;
    lia__taxii_handle(r);
}

static int taxii_store_init(void *ud, lia_store *s, lia_error *err)
{
    (void)ud;
    return lia_taxii_init(s, err);
}

int lia__taxii_mount(lia_http *h, lia_error *err)
{
    static const lia__http_handler hd = {
        .name = "taxii",
        .prefix = "/",
        .auth = LIA__HTTP_AUTH_REQUIRED,
        .store = 1,
        .max_body = 0, /* the server's; each API root's max_content_length is checked here */
        .handle = taxii_handler,
        .error = taxii_error,
        .store_init = taxii_store_init,
    };
    return lia__http_register(h, &hd, err);
}
