/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Record batches (output of a format's parse step) and the line splitter
 * shared by line-oriented formats. */
#include <stdlib.h>

#include "core/lines.h"
#include "liaison/limits.h"
#include "liaison/pipeline.h"
#include "core/records.h"

struct lia_arena_block {
    lia_arena_block *next;
    size_t used, cap;
    char data[];
};

void lia__arena_init(lia_arena *a, size_t max)
{
    a->head = NULL;
    a->total = 0;
    a->max = max;
}

void *lia__arena_alloc(lia_arena *a, size_t n)
{
    lia_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        if (cap > a->max || a->total > a->max - cap)
            return NULL;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
        a->total += cap;
    }
    b->used += n;
    return b->data + b->used - n;
}

void lia__arena_clear(lia_arena *a)
{
    lia_arena_block *b = a->head, *keep = NULL;
    while (b) { /* keep the largest block, free the rest */
        lia_arena_block *next = b->next;
        if (!keep || b->cap > keep->cap) {
            if (keep)
                free(keep);
            keep = b;
        } else {
            free(b);
        }
        b = next;
    }
    a->head = keep;
    a->total = keep ? keep->cap : 0;
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
}

void lia__arena_free(lia_arena *a)
{
    while (a->head) {
        lia_arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
    a->total = 0;
}

void lia__records_init(lia_records *r)
{
    memset(r, 0, sizeof *r);
    lia__arena_init(&r->arena, (size_t)256 << 20);
}

void lia__records_free(lia_records *r)
{
    free(r->rec);
    free(r->fields);
    lia__arena_free(&r->arena);
    memset(r, 0, sizeof *r);
}

void lia__records_clear(lia_records *r)
{
    r->n = 0;
    r->nf = 0;
    lia__arena_clear(&r->arena);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t ncap;
    void *np;
    if (need <= *cap)
        return LIA_OK;
    ncap = *cap ? *cap * 2 : 256;
    while (ncap < need)
        ncap *= 2;
    np = realloc(*p, ncap * size);
    if (!np)
        return LIA_ENOMEM;
    *p = np;
    *cap = ncap;
    return LIA_OK;
}

int lia__records_add(lia_records *r, uint64_t line, lia_slice raw, const lia_slice *fields, size_t nfields,
                     int err, const char *why, int copy)
{
    lia_record *rec;
    if (grow((void **)&r->rec, &r->cap, r->n + 1, sizeof *r->rec) ||
        grow((void **)&r->fields, &r->capf, r->nf + nfields, sizeof *r->fields))
        return LIA_ENOMEM;
    char *mem = NULL;
    if (copy) {
        size_t need = raw.len;
        for (size_t i = 0; i < nfields; i++)
            need += fields[i].len;
        if (!(mem = lia__arena_alloc(&r->arena, need ? need : 1)))
            return LIA_ENOMEM;
    }
    rec = &r->rec[r->n++];
    rec->line = line;
    rec->err = err;
    rec->why = why;
    rec->first = (uint32_t)r->nf;
    rec->nfields = (uint32_t)nfields;
    if (copy) {
        if (raw.len)
            memcpy(mem, raw.ptr, raw.len);
        rec->raw = (lia_slice){mem, raw.len};
        mem += raw.len;
        for (size_t i = 0; i < nfields; i++) {
            if (fields[i].len)
                memcpy(mem, fields[i].ptr, fields[i].len);
            r->fields[r->nf++] = (lia_slice){mem, fields[i].len};
            mem += fields[i].len;
        }
    } else {
        rec->raw = raw;
        if (nfields)
            memcpy(r->fields + r->nf, fields, nfields * sizeof *fields);
        r->nf += nfields;
    }
    return LIA_OK;
}

void lia_lines_init(lia_lines *l)
{
    lia_buf_init(&l->tail, LIA_MAX_ROW);
    l->line = 0;
    l->skipping = 0;
}

void lia_lines_free(lia_lines *l) { lia_buf_free(&l->tail); }

static int emit_line(lia_lines *l, const char *p, size_t n, lia_records *out, int copy)
{
    lia_slice s;
    if (n && p[n - 1] == '\r')
        n--;
    l->line++;
    if (n == 0)
        return LIA_OK; /* blank line */
    s = (lia_slice){p, n};
    return lia__records_add(out, l->line, s, &s, 1, 0, NULL, copy);
}

int lia_lines_split(lia_lines *l, const char *buf, size_t len, int eof, lia_records *out)
{
    const char *p = buf, *end = buf + len;
    int rc;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (l->skipping) { /* inside an over-long line */
            if (!nl)
                return LIA_OK;
            l->skipping = 0;
            p = nl + 1;
            continue;
        }
        if (!nl) { /* incomplete: keep as tail */
            if (l->tail.len + n > LIA_MAX_ROW)
                goto toolong;
            lia_buf_append(&l->tail, p, n);
            if (l->tail.err)
                return l->tail.err;
            break;
        }
        if (l->tail.len) {
            if (l->tail.len + n > LIA_MAX_ROW)
                goto toolong;
            lia_buf_append(&l->tail, p, n);
            if (l->tail.err)
                return l->tail.err;
            rc = emit_line(l, l->tail.ptr, l->tail.len, out, 1);
            lia_buf_reset(&l->tail);
        } else if (n > LIA_MAX_ROW) {
            goto toolong;
        } else {
            rc = emit_line(l, p, n, out, 0);
        }
        if (rc)
            return rc;
        p = nl + 1;
        continue;
    toolong : {
        lia_slice raw = {l->tail.len ? l->tail.ptr : p, l->tail.len ? l->tail.len : 256};
        l->line++;
        if (raw.len > 256)
            raw.len = 256;
        rc = lia__records_add(out, l->line, raw, NULL, 0, LIA_ELIMIT, "line longer than 1 MiB", 1);
        lia_buf_reset(&l->tail);
        if (rc)
            return rc;
        if (!nl) {
            l->skipping = 1;
            return LIA_OK;
        }
        p = nl + 1;
    }
    }
    if (eof && l->tail.len) {
        rc = emit_line(l, l->tail.ptr, l->tail.len, out, 1);
        lia_buf_reset(&l->tail);
        return rc;
    }
    return LIA_OK;
}
