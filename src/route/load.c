/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The routing snapshot from the store: the directory and the stored rules
 * file (table route_config) make one lia_route; a new rules file is
 * stored only if it loads against the directory. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "liaison/limits.h"
#include "liaison/route.h"
#include "audit/log.h"
#include "route/internal.h"
#include "store/db.h"

typedef struct loadctx {
    lia_party *p;
    size_t n, cap;
} loadctx;

static int load_one(void *ud, const lia_party *p)
{
    loadctx *c = ud;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        lia_party *np;
        if (nc > LIA_MAX_PARTIES)
            return LIA_ELIMIT;
        np = realloc(c->p, nc * sizeof *np);
        if (!np)
            return LIA_ENOMEM;
        c->p = np;
        c->cap = nc;
    }
    return lia__party_copy(&c->p[c->n++], p) ? (c->n--, LIA_ENOMEM) : LIA_OK;
}

int lia_route_load(lia_store *s, lia_route **out, lia_error *err)
{
    loadctx c = {NULL, 0, 0};
    lia_buf cfg;
    int rc;
    lia_buf_init(&cfg, LIA_MAX_CONFIG_FILE + 1);
    rc = lia_party_list(s, 0, load_one, &c, err);
    if (rc == LIA_ELIMIT || rc == LIA_ENOMEM)
        lia_error_set(err, rc, NULL, NULL, 0,
                      rc == LIA_ELIMIT ? "too many owners and partners" : "out of memory");
    if (rc == LIA_OK) {
        rc = lia_route_config_get(s, &cfg, err);
        if (rc == LIA_ENOTFOUND) {
            lia_error_clear(err);
            rc = lia__route_create(c.p, c.n, NULL, 0, out, err);
        } else if (rc == LIA_OK) {
            rc = lia__route_create(c.p, c.n, lia_buf_cstr(&cfg), cfg.len, out, err);
            if (rc && err)
                lia_error_where(err, "routing configuration", err->line);
        }
    }
    for (size_t i = 0; i < c.n; i++)
        lia_party_free(&c.p[i]);
    free(c.p);
    lia_buf_free(&cfg);
    return rc;
}

int lia_route_config_get(lia_store *s, lia_buf *out, lia_error *err)
{
    lia_db *db;
    lia_stmt *st;
    int rc;
    if ((rc = lia__route_db(s, &db, err)) ||
        (rc = lia__db_prepare(db, "reading the routing configuration",
                              "SELECT text FROM route_config WHERE name='rules'", &st, err)))
        return rc;
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        rc = LIA_OK;
        lia_buf_append(out, "", 0);
        if (lia_buf_append(out, lia__db_col_text(st, 0), lia__db_col_bytes(st, 0)))
            rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "configuration too large");
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, NULL, NULL, 0,
                           "no routing configuration loaded (liaison route load FILE)");
    }
    lia__db_done(st);
    return rc;
}

static int routing_store(lia_store *s, lia_db *db, const char *text, size_t clen, lia_error *err);

int lia_route_config_put(lia_store *s, const char *text, size_t clen, lia_error *err)
{
    lia_db *db;
    loadctx c = {NULL, 0, 0};
    lia_route *rt = NULL;
    int rc;
    if ((rc = lia__route_db(s, &db, err)))
        return rc;
    if (memchr(text, 0, clen))
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "NUL byte in the configuration");
    /* validate against the stored parties (rule targets must exist) */
    rc = lia_party_list(s, 0, load_one, &c, err);
    if (rc == LIA_OK)
        rc = lia__route_create(c.p, c.n, text, clen, &rt, err);
    for (size_t i = 0; i < c.n; i++)
        lia_party_free(&c.p[i]);
    free(c.p);
    lia_route_destroy(rt);
    if (rc)
        return rc;
    return routing_store(s, db, text, clen, err);
}

/* Store the routing file in one transaction with its audit record
 * (object routing:rules, before and after as {"text": ...}); the same
 * text again changes and logs nothing. */
static int routing_store(lia_store *s, lia_db *db, const char *text, size_t clen, lia_error *err)
{
    lia_buf old, before, after;
    lia_stmt *st;
    lia_error e2;
    int rc, had;
    lia_buf_init(&old, 64u << 20);
    lia_error_clear(&e2);
    had = lia_route_config_get(s, &old, &e2) == LIA_OK && !old.err;
    if (had && old.len == clen && memcmp(old.ptr, text, clen) == 0) {
        lia_buf_free(&old);
        return LIA_OK;
    }
    lia_buf_init(&before, 64u << 20);
    lia_buf_init(&after, 64u << 20);
    if (had) {
        lia_buf_puts(&before, "{\"text\":");
        lia_buf_json_str(&before, old.ptr, old.len);
        lia_buf_putc(&before, '}');
    }
    lia_buf_puts(&after, "{\"text\":");
    lia_buf_json_str(&after, text, clen);
    lia_buf_putc(&after, '}');
    if ((rc = lia__db_begin(db, err)))
        goto out;
    if ((rc = lia__db_prepare(db, "storing the routing configuration",
                              "INSERT INTO route_config(name,text,loaded) VALUES('rules',?,?)"
                              " ON CONFLICT(name) DO UPDATE SET text=excluded.text, loaded=excluded.loaded",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, text, (ptrdiff_t)clen);
    lia__db_bind_int64(st, 2, lia__now_us() / 1000000);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc == LIA_OK)
        rc = lia__audit_change(s, "routing:rules", had ? "update" : "create", had ? before.ptr : NULL,
                               after.ptr, err);
    if (rc)
        lia__db_rollback(db);
    else
        rc = lia__db_commit(db, err);
out:
    lia_buf_free(&old);
    lia_buf_free(&before);
    lia_buf_free(&after);
    return rc;
}

/* ---- directory edits, checked against the routing configuration ---- */

/* Run edit(s, ud, err) in a savepoint; keep it only if the routing
 * configuration still loads with the changed directory (a rule may name a
 * party). */
static int checked_edit(lia_store *s, int (*edit)(lia_store *, void *, lia_error *), void *ud, lia_error *err)
{
    lia_db *db;
    lia_route *rt = NULL;
    int rc;
    if ((rc = lia__route_db(s, &db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    rc = edit(s, ud, err);
    if (rc == LIA_OK)
        rc = lia_route_load(s, &rt, err);
    lia_route_destroy(rt);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

static int save_edit(lia_store *s, void *ud, lia_error *err)
{
    return lia__party_put(s, ud, err);
}

int lia_party_save(lia_store *s, const lia_party *p, int replace, lia_error *err)
{
    int rc;
    if ((rc = lia__party_check(p, err)))
        return rc;
    if (!replace) {
        lia_party old;
        lia_error e2;
        lia_error_clear(&e2);
        if (lia_party_get_one(s, p->kind, p->id, &old, &e2) == LIA_OK) {
            lia_party_free(&old);
            return lia_error_set(err, LIA_EEXIST, "id", p->id, strlen(p->id),
                                 "this %s exists already (remove it first, or replace it)",
                                 lia_party_kind_name(p->kind));
        }
    }
    return checked_edit(s, save_edit, (void *)p, err);
}

typedef struct remove_ctx {
    int kind;
    const char *id;
} remove_ctx;

static int remove_edit(lia_store *s, void *ud, lia_error *err)
{
    remove_ctx *c = ud;
    return lia__party_delete(s, c->kind, c->id, err);
}

int lia_party_remove(lia_store *s, int kind, const char *id, lia_error *err)
{
    remove_ctx c = {kind, id};
    return checked_edit(s, remove_edit, &c, err);
}

typedef struct import_ctx {
    int kind;
    const char *format, *buf;
    size_t len, n;
    lia_store *s;
    lia_error *err;
} import_ctx;

static int import_one(void *ud, const lia_party *p)
{
    import_ctx *c = ud;
    int rc = lia__party_put(c->s, p, c->err);
    if (rc == LIA_OK)
        c->n++;
    return rc;
}

static int import_edit(lia_store *s, void *ud, lia_error *err)
{
    import_ctx *c = ud;
    return lia__party_parse(c->kind, c->format, c->buf, c->len, import_one, c, err);
}

int lia_party_import(lia_store *s, int kind, const char *format, const char *buf, size_t len, size_t *n,
                     lia_error *err)
{
    import_ctx c = {kind, format, buf, len, 0, s, err};
    int rc = checked_edit(s, import_edit, &c, err);
    if (rc == LIA_OK && n)
        *n = c.n;
    return rc;
}
