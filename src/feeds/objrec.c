/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Object records: a streaming JSON element splitter and a CSV fallback,
 * both yielding one JSON object per record (see objrec.h). */
#include <stdio.h>
#include <stdlib.h>

#include "feeds/objrec.h"
#include "liaison/limits.h"
#include "core/field_internal.h"
#include "core/records.h"

#define RAW_EXCERPT 256

void lia_objrec_init(lia_objrec *r, const char *const *names, size_t nnames, char comment)
{
    memset(r, 0, sizeof *r);
    r->line = 1;
    r->names = names;
    r->nnames = nnames;
    r->comment = comment;
    lia_buf_init(&r->elem, LIA_MAX_ROW);
    lia_error_clear(&r->fatal_err);
    lia_jobj_init(&r->obj);
    lia_jobj_init(&r->sub);
}

static void free_hdr(lia_objrec *r)
{
    for (size_t i = 0; i < r->nhdr; i++)
        free(r->hdr[i]);
    free(r->hdr);
    r->hdr = NULL;
    r->nhdr = 0;
}

void lia_objrec_free(lia_objrec *r)
{
    lia_buf_free(&r->elem);
    lia_buf_free(&r->pre);
    lia_jobj_free(&r->obj);
    lia_jobj_free(&r->sub);
    lia_csv_destroy(r->csv);
    free_hdr(r);
    r->csv = NULL;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- JSON ---- */

static int emit_err(lia_objrec *r, lia_records *out, uint64_t line, const char *p, size_t n, int code,
                    const char *why)
{
    if (n > RAW_EXCERPT)
        n = RAW_EXCERPT;
    return lia__records_add(out, line, (lia_slice){p ? p : "", p ? n : 0}, NULL, 0, code, why, 1);
}

/* The element ends at buf[end] (exclusive); start is its first byte in this
 * chunk (0 if it began in an earlier chunk). */
static int end_elem(lia_objrec *r, const char *buf, size_t start, size_t end, lia_records *out)
{
    int rc = LIA_OK;
    r->in_elem = 0;
    if (r->oversize) {
        r->oversize = 0;
        lia_buf_reset(&r->elem);
        return LIA_OK;
    }
    if (r->elem.len == 0) {
        lia_slice s = {buf + start, end - start};
        return lia__records_add(out, r->elem_line, s, &s, 1, 0, NULL, 0);
    }
    if (r->elem.len + (end - start) > LIA_MAX_ROW) {
        rc = emit_err(r, out, r->elem_line, r->elem.ptr, r->elem.len, LIA_ELIMIT,
                      "JSON element longer than 1 MiB");
    } else {
        lia_slice s;
        if (lia_buf_append(&r->elem, buf + start, end - start))
            return LIA_ENOMEM;
        s = (lia_slice){r->elem.ptr, r->elem.len};
        rc = lia__records_add(out, r->elem_line, s, &s, 1, 0, NULL, 1);
    }
    lia_buf_reset(&r->elem);
    return rc;
}

static int json_split(lia_objrec *r, const char *buf, size_t len, int eof, lia_records *out)
{
    size_t start = 0;
    int rc;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (r->in_elem) {
            int end_before = 0, end_after = 0;
            if (r->in_str) {
                if (r->esc)
                    r->esc = 0;
                else if (c == '\\')
                    r->esc = 1;
                else if (c == '"')
                    r->in_str = 0;
            } else if (c == '"') {
                r->in_str = 1;
            } else if (c == '{' || c == '[') {
                r->depth++;
            } else if (c == '}' || c == ']') {
                if (r->depth == 0)
                    end_before = 1; /* a scalar element closed by the array's ']' */
                else if (--r->depth == 0)
                    end_after = 1;
            } else if (r->depth == 0 && (c == ',' || c == '\n')) {
                end_before = 1;
            }
            if (end_after || end_before) {
                if ((rc = end_elem(r, buf, start, end_after ? i + 1 : i, out)))
                    return rc;
                if (end_after) {
                    if (c == '\n')
                        r->line++;
                    continue;
                }
                /* fall through: c is handled between elements */
            } else {
                if (c == '\n')
                    r->line++;
                continue;
            }
        }
        if (r->done && r->trailing_err == 1) { /* keep an excerpt of what follows */
            if (r->elem.len < RAW_EXCERPT && lia_buf_putc(&r->elem, c))
                return LIA_ENOMEM;
            r->line += c == '\n';
            continue;
        }
        if (c == '\n') {
            r->line++;
            continue;
        }
        if (is_ws(c))
            continue;
        if (r->done) {
            r->trailing_err = 1; /* reported at the end of the report */
            r->trailing_line = r->line;
            lia_buf_reset(&r->elem);
            if (lia_buf_putc(&r->elem, c))
                return LIA_ENOMEM;
            continue;
        }
        if (!r->started) {
            r->started = 1;
            if (c == '[') {
                r->array = 1;
                continue;
            }
        } else if (r->array && c == ',') {
            continue;
        } else if (r->array && c == ']') {
            r->done = 1;
            continue;
        }
        /* an element starts */
        r->in_elem = 1;
        r->elem_line = r->line;
        r->depth = (c == '{' || c == '[') ? 1 : 0;
        r->in_str = c == '"';
        r->esc = 0;
        start = i;
    }
    if (r->in_elem && !r->oversize) {
        size_t n = len - start;
        if (r->elem.len + n > LIA_MAX_ROW) {
            if ((rc = emit_err(r, out, r->elem_line, r->elem.len ? r->elem.ptr : buf + start,
                               r->elem.len ? r->elem.len : n, LIA_ELIMIT, "JSON element longer than 1 MiB")))
                return rc;
            r->oversize = 1;
            lia_buf_reset(&r->elem);
        } else if (n && lia_buf_append(&r->elem, buf + start, n)) {
            return LIA_ENOMEM;
        }
    }
    if (eof) {
        if (r->in_elem && !r->oversize && r->depth == 0 && !r->in_str) {
            /* a last scalar element or object-stream element without newline */
            if ((rc = end_elem(r, buf, len, len, out)))
                return rc;
        } else if (r->in_elem) {
            r->in_elem = 0;
            if (!r->oversize && (rc = emit_err(r, out, r->elem_line, r->elem.ptr, r->elem.len, LIA_EPARSE,
                                               "JSON element not terminated at the end of the report")))
                return rc;
            r->oversize = 0;
            lia_buf_reset(&r->elem);
        }
        if (r->done && r->trailing_err == 1) {
            r->trailing_err = 2;
            rc = emit_err(r, out, r->trailing_line, r->elem.ptr, r->elem.len, LIA_EPARSE,
                          "data after the end of the JSON array");
            lia_buf_reset(&r->elem);
            if (rc)
                return rc;
        }
        if (r->array && !r->done && !r->trailing_err) {
            r->trailing_err = 1;
            if ((rc = emit_err(r, out, r->line, NULL, 0, LIA_EPARSE,
                               "JSON array not closed at the end of the report (truncated?)")))
                return rc;
        }
    }
    return LIA_OK;
}

/* ---- CSV ---- */

/* A comment row: maybe the column names ("# first_seen_utc,dst_ip,..."). */
static int comment_row(lia_objrec *r, const lia_csv_row *row)
{
    char **h;
    if (row->err || row->nfields < 2)
        return 0;
    h = calloc(row->nfields, sizeof *h);
    if (!h)
        return -1;
    for (size_t i = 0; i < row->nfields; i++) {
        lia_slice s = row->fields[i];
        if (i == 0)
            while (s.len && (s.ptr[0] == r->comment || s.ptr[0] == ' ')) {
                s.ptr++;
                s.len--;
            }
        s = lia_slice_trim(s);
        if (!(h[i] = strndup(s.ptr ? s.ptr : "", s.len))) {
            for (size_t k = 0; k < i; k++)
                free(h[k]);
            free(h);
            return -1;
        }
        for (char *p = h[i]; *p; p++) /* "DstIP" and "dst_ip" alike */
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
    }
    free_hdr(r);
    r->hdr = h;
    r->nhdr = row->nfields;
    return 0;
}

static int on_row(void *ud, const lia_csv_row *row)
{
    lia_objrec *r = ud;
    int copy;
    if (row->err == 0 && lia_slice_trim(row->raw).len == 0)
        return 0; /* a line of blanks */
    if (r->comment_header) {
        lia_slice raw = lia_slice_trim(row->raw);
        if (raw.len && raw.ptr[0] == r->comment) {
            if (!r->data_seen && comment_row(r, row))
                goto oom;
            return 0;
        }
        r->data_seen = 1;
    }
    if (row->err == 0 && !r->names && !r->hdr) {
        r->hdr = calloc(row->nfields ? row->nfields : 1, sizeof *r->hdr);
        if (!r->hdr)
            goto oom;
        r->nhdr = row->nfields;
        for (size_t i = 0; i < row->nfields; i++) {
            lia_slice s = lia_slice_trim(row->fields[i]);
            if (!(r->hdr[i] = strndup(s.ptr ? s.ptr : "", s.len)))
                goto oom;
        }
        return 0;
    }
    copy = !(row->raw.ptr >= r->chunk && row->raw.ptr < r->chunk + r->chunklen);
    if (lia__records_add(r->out, row->line, row->raw, row->fields, row->nfields, row->err, row->why, copy))
        goto oom;
    return 0;
oom:
    lia_error_set(&r->fatal_err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    r->fatal = 1;
    return 1;
}

static int csv_split(lia_objrec *r, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    int rc = LIA_OK;
    if (!r->csv) {
        lia_csv_opts o;
        lia_csv_opts_default(&o);
        o.comment = r->comment_header ? '\0' : r->comment;
        if ((rc = lia_csv_create(&o, &r->csv)))
            return lia_error_set(err, rc, NULL, NULL, 0, "creating CSV splitter: %s", lia_strerror(rc));
    }
    r->out = out;
    r->chunk = buf;
    r->chunklen = len;
    rc = lia_csv_chunk(r->csv, buf, len, eof, on_row, r);
    r->out = NULL;
    if (r->fatal) {
        *err = r->fatal_err;
        return r->fatal_err.code;
    }
    if (rc < 0)
        return lia_error_set(err, rc, NULL, NULL, 0, "CSV splitter: %s", lia_strerror(rc));
    return LIA_OK;
}

static int split(lia_objrec *r, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    int rc;
    if (r->mode == LIA_OBJREC_JSON) {
        rc = json_split(r, buf, len, eof, out);
        if (rc)
            return lia_error_set(err, rc, NULL, NULL, 0, "splitting JSON: %s", lia_strerror(rc));
        return LIA_OK;
    }
    return csv_split(r, buf, len, eof, out, err);
}

int lia_objrec_parse(lia_objrec *r, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    int rc;
    lia_buf_free(&r->pre);
    if (r->mode == LIA_OBJREC_UNKNOWN) {
        /* The stream so far is the blank prefix kept in r->elem, then buf;
         * a UTF-8 byte order mark may start it, split across chunks. */
        static const char bom[] = "\xEF\xBB\xBF";
        size_t have = r->elem.len, total = have + len, k = 0, i, skip = 0;
#define AT(x) ((x) < have ? r->elem.ptr[x] : buf[(x)-have])
        while (k < 3 && k < total && AT(k) == bom[k])
            k++;
        i = k == 3 ? 3 : 0;
        while (i < total && is_ws(AT(i)))
            i++;
        if (!eof && total <= LIA_MAX_ROW && ((k == total && k < 3) || i == total)) {
            /* only blank (or part of a byte order mark) so far: keep it
             * (the splitter must see it, for its line numbers and raw
             * bytes) and wait for data */
            if (lia_buf_append(&r->elem, buf, len))
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            return LIA_OK;
        }
        r->mode = i < total && (AT(i) == '[' || AT(i) == '{') ? LIA_OBJREC_JSON : LIA_OBJREC_CSV;
#undef AT
        if (r->mode == LIA_OBJREC_JSON && k == 3)
            skip = 3; /* the JSON splitter does not take the mark */
        if (have) {   /* the blank prefix first; records may point into it,
                       * so it lives until the next call */
            size_t n = skip < have ? skip : have;
            r->pre = r->elem;
            lia_buf_init(&r->elem, LIA_MAX_ROW);
            skip -= n;
            if ((rc = split(r, r->pre.ptr + n, r->pre.len - n, 0, out, err)))
                return rc;
        }
        buf += skip;
        len -= skip;
    }
    return split(r, buf, len, eof, out, err);
}

int lia_objrec_object(lia_objrec *r, const lia_records *rs, const lia_record *rec, const lia_jobj **out,
                      lia_error *err)
{
    const lia_slice *f = rs->fields + rec->first;
    lia_jobj *o = &r->obj;
    if (r->mode == LIA_OBJREC_JSON) {
        const char *why = NULL;
        int rc;
        if (rec->nfields != 1)
            return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "empty record");
        rc = lia_jobj_read(o, f[0].ptr, f[0].len, &why);
        if (rc == LIA_EINVAL)
            return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "%s", why);
        if (rc)
            return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "invalid JSON at column %d: %s",
                                 o->error_col, why);
        *out = o;
        return LIA_OK;
    }
    {
        const char *const *names = r->hdr ? (const char *const *)r->hdr : r->names;
        size_t n = r->hdr ? r->nhdr : r->nnames;
        if (rec->nfields == 1 && n != 1 && r->single_name) {
            names = &r->single_name;
            n = 1;
        }
        if (rec->nfields != n)
            return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "record has %u fields, %zu are expected",
                                 rec->nfields, n);
        o->n = 0;
        for (size_t i = 0; i < n; i++) {
            if (!lia__utf8_valid(f[i].ptr, f[i].len))
                return lia_error_set(err, LIA_EINVAL, names[i], f[i].ptr, f[i].len, "not valid UTF-8");
            if (lia_jobj_add(o, lia_slice_from(names[i]), f[i]))
                return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "more than %d columns",
                                     LIA_JOBJ_MAX_MEMBERS);
        }
        *out = o;
        return LIA_OK;
    }
}

const lia_jobj *lia_objrec_first(lia_objrec *r, const lia_jobj *o, const char *key)
{
    const lia_jmember *m = lia_jobj_get(o, key);
    const char *why;
    lia_slice first;
    if (!m || m->kind != LIA_J_ARRAY)
        return NULL;
    first = lia_jarray_first(m->val);
    if (!first.ptr || lia_jobj_read(&r->sub, first.ptr, first.len, &why) != LIA_OK)
        return NULL;
    return &r->sub;
}

lia_slice lia_objrec_text(const lia_jobj *o, const char *key)
{
    const lia_jmember *m = lia_jobj_get(o, key);
    lia_slice s;
    if (!m)
        return LIA_SLICE_NULL;
    switch (m->kind) {
    case LIA_J_STRING: s = lia_slice_trim(m->val); return s.len ? s : LIA_SLICE_NULL;
    case LIA_J_NUMBER:
    case LIA_J_BOOL: return m->val;
    default: return LIA_SLICE_NULL;
    }
}

int lia_objrec_set(lia_event *ev, lia_field f, const lia_jobj *o, const char *key, lia_error *err)
{
    lia_slice s = lia_objrec_text(o, key);
    if (!s.ptr)
        return LIA_OK;
    return lia_event_set(ev, f, s.ptr, s.len, err);
}
