/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Test helper: run a feed format over bytes (open, parse in chunks, normalise
 * every record) and keep what each record became, through the public API. */
#ifndef LIA_TEST_FMT_RUN_H
#define LIA_TEST_FMT_RUN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/liaison.h"
#include "core/records.h"

enum { OUT_EVENT, OUT_NOTEVENT, OUT_QUARANTINE };

typedef struct fmt_out {
    int kind;
    uint64_t line;
    char json[8192];  /* event JSON (OUT_EVENT) */
    char reason[600]; /* formatted error (OUT_QUARANTINE) */
    char raw[64];     /* first bytes of the record's raw text */
} fmt_out;

typedef struct fmt_res {
    fmt_out *o;
    size_t n, cap, events, notevents, quarantined;
    int rc; /* format-level error (parse), LIA_OK otherwise */
    char why[600];
} fmt_res;

static inline void fmt_res_free(fmt_res *r)
{
    free(r->o);
    memset(r, 0, sizeof *r);
}

static inline void fmt_handle(const lia_format *f, void *st, lia_records *rs, fmt_res *r)
{
    for (size_t i = 0; i < rs->n; i++) {
        const lia_record *rec = &rs->rec[i];
        lia_event ev;
        lia_error err;
        fmt_out *o;
        int rc;
        if (r->n == r->cap) { /* doubling: a record is ~9 KB, and tests read thousands */
            size_t nc = r->cap ? r->cap * 2 : 64;
            fmt_out *no = realloc(r->o, nc * sizeof *r->o);
            if (!no)
                abort();
            r->o = no;
            r->cap = nc;
        }
        o = &r->o[r->n++];
        memset(o, 0, sizeof *o);
        o->line = rec->line;
        /* raw is what a quarantine row keeps: it must still be readable */
        snprintf(o->raw, sizeof o->raw, "%.*s", (int)(rec->raw.len < 63 ? rec->raw.len : 63), rec->raw.ptr);
        lia_error_clear(&err);
        if (rec->err) {
            o->kind = OUT_QUARANTINE;
            snprintf(o->reason, sizeof o->reason, "%s", rec->why ? rec->why : "malformed");
            r->quarantined++;
            continue;
        }
        lia_event_init(&ev);
        rc = f->normalise(st, rs, rec, &ev, &err);
        if (rc == LIA_OK)
            rc = lia_event_finish(&ev, &err);
        if (rc == LIA_ENOTFOUND) {
            o->kind = OUT_NOTEVENT;
            r->notevents++;
        } else if (rc) {
            o->kind = OUT_QUARANTINE;
            lia_error_format(&err, o->reason, sizeof o->reason);
            r->quarantined++;
        } else {
            lia_buf b;
            lia_buf_init(&b, 1 << 20);
            lia_event_to_json(&ev, &b);
            snprintf(o->json, sizeof o->json, "%s", lia_buf_cstr(&b));
            lia_buf_free(&b);
            o->kind = OUT_EVENT;
            r->events++;
        }
        lia_event_free(&ev);
    }
}

/* Run format name over data, fed in chunks of chunk bytes (0 = all at once). */
static inline void fmt_run(const char *name, const char *data, size_t len, size_t chunk, fmt_res *r)
{
    const lia_format *f = lia_format_find(name);
    lia_feed_opts fo;
    lia_records rs;
    lia_error err;
    void *st = NULL;
    size_t off = 0;
    memset(r, 0, sizeof *r);
    memset(&fo, 0, sizeof fo);
    fo.tlp = -1;
    lia_error_clear(&err);
    if (!f || f->open(&st, &fo, &err)) {
        r->rc = LIA_EINVAL;
        return;
    }
    lia__records_init(&rs);
    if (!chunk)
        chunk = len ? len : 1;
    for (;;) {
        size_t k = len - off < chunk ? len - off : chunk;
        int eof = off + k == len;
        lia__records_clear(&rs);
        r->rc = f->parse(st, data + off, k, eof, &rs, &err);
        if (r->rc) {
            lia_error_format(&err, r->why, sizeof r->why);
            break;
        }
        fmt_handle(f, st, &rs, r);
        off += k;
        if (eof)
            break;
    }
    lia__records_free(&rs);
    f->close(st);
}

/* Read a whole file (test data); NULL-terminated, *len set. */
static inline char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (p = malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) == (size_t)n) {
        p[n] = '\0';
        *len = (size_t)n;
    } else {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

static inline char *testdata(const char *rel, size_t *len)
{
    char path[4096];
    const char *d = getenv("LIAISON_TESTDATA");
    snprintf(path, sizeof path, "%s/%s", d ? d : "tests/data", rel);
    return slurp(path, len);
}

/* Buffer sink for the exporters. */
static inline int buf_sink(void *ud, const char *p, size_t n)
{
    return lia_buf_append((lia_buf *)ud, p, n);
}

/* Build an event from "field=value" pairs (NULL-terminated); extra.* ok. */
static inline int mkevent(lia_event *ev, int64_t id, const char *const *kv)
{
    lia_error err;
    lia_event_reset(ev);
    for (size_t i = 0; kv[i]; i++) {
        const char *eq = strchr(kv[i], '=');
        if (!eq || lia_event_set_name(ev, kv[i], (size_t)(eq - kv[i]), eq + 1, strlen(eq + 1), &err))
            return -1;
    }
    ev->id = id;
    return lia_event_finish(ev, &err);
}

#endif
