/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* RFC 4180 record splitter (see liaison/csv.h for the contract).
 *
 * Two paths that must agree byte for byte:
 *  - fast: a record that lies wholly inside the chunk, whose quoted fields
 *    (if any) hold no quote, CR, LF or NUL, and that is within every limit.
 *    Fields and raw point straight into the caller's buffer; no copy, no
 *    allocation (the field array only grows, amortised).
 *  - slow: a state machine that copies the record into internal buffers
 *    bounded by max_row (raw bytes, and unescaped field text) and detects
 *    every error. The fast path never decides an error: on anything unusual
 *    it leaves the record, from its first byte, to the slow path.
 * The chunk-invariance tests feed every input split at every offset, which
 * runs the same records through both paths.
 *
 * Grammar details that the header leaves open:
 *  - A line end is LF, CRLF or a lone CR, everywhere (also inside quotes,
 *    where it is field text but still counts as a physical line).
 *  - A blank line that is not skipped is a record of one empty field.
 *  - Errors resynchronise at the next CR or LF, quotes no longer counting.
 *    Syntax errors carry LIA_EPARSE, limit errors LIA_ELIMIT.
 *  - A byte that makes the record exceed max_row is reported as "record too
 *    long" even if it would also have been another error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/csv.h"
#include "liaison/error.h"
#include "liaison/limits.h"

#if defined(__SSE2__) && defined(__GNUC__) && !defined(LIA_CSV_NO_SIMD)
#include <emmintrin.h>
#define CSV_SSE2 1
#endif

enum {
    S_REC,     /* at the start of a physical line, between records */
    S_COMMENT, /* inside a comment line */
    S_FSTART,  /* at the start of a field */
    S_UNQ,     /* inside an unquoted field */
    S_QUO,     /* inside a quoted field */
    S_QUO2,    /* just after a quote inside a quoted field */
    S_SKIP,    /* after an error: skipping to the next line end */
};

#define BOM_DONE 3
static const unsigned char bom_bytes[3] = {0xEF, 0xBB, 0xBF};

static const char WHY_UNCLOSED[] = "unclosed quote at end of input";
static const char WHY_QUOTE[] = "quote in unquoted field";
static const char WHY_JUNK[] = "junk after closing quote";
static const char WHY_FIELD[] = "field too long";
static const char WHY_ROW[] = "record too long";
static const char WHY_NFIELDS[] = "too many fields";
static const char WHY_NUL[] = "NUL byte in record";

struct lia_csv {
    lia_csv_opts o;
    int delim, quote, comment;  /* as unsigned char; -1 = none */
    unsigned char spec[256];    /* unquoted stops: delim quote CR LF NUL */
    unsigned char qspec[256];   /* quoted stops: quote CR LF NUL */

    lia_slice *fields;          /* what the callback sees */
    size_t *fend;               /* slow path: end offset of field i in rec */
    size_t fcap;                /* capacity of both, <= max_fields */
    size_t nf;                  /* slow path: complete fields */

    char *rec;                  /* slow path: unescaped field text */
    size_t rec_len, rec_cap, fstart;
    char *raw;                  /* slow path: raw record bytes */
    size_t raw_len, raw_cap;

    uint64_t line;              /* physical line of the next byte */
    uint64_t rec_line;          /* first line of the current record */
    int state;
    int pending_cr;             /* last byte was a CR ending a line */
    int qcr;                    /* last byte was a CR inside quotes */
    int bom;                    /* BOM bytes matched so far, BOM_DONE */
    int err;
    const char *why;
};

void lia_csv_opts_default(lia_csv_opts *o)
{
    o->delim = ',';
    o->quote = '"';
    o->comment = '\0';
    o->skip_blank = 1;
    o->max_field = LIA_MAX_FIELD;
    o->max_row = LIA_MAX_ROW;
    o->max_fields = LIA_MAX_COLUMNS;
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* Grow *p (capacity *cap) to at least need bytes, never beyond max. */
static int grow_bytes(char **p, size_t *cap, size_t need, size_t max)
{
    size_t ncap = *cap ? *cap : 256;
    char *np;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > max)
        ncap = max;
    if (ncap < need)
        return LIA_ELIMIT; /* callers check limits first: not reached */
    np = realloc(*p, ncap ? ncap : 1);
    if (!np)
        return LIA_ENOMEM;
    *p = np;
    *cap = ncap;
    return LIA_OK;
}

static int grow_fields(lia_csv *c)
{
    size_t n = c->fcap ? c->fcap * 2 : 64;
    lia_slice *f;
    size_t *e;
    if (n > c->o.max_fields)
        n = c->o.max_fields;
    if (n <= c->fcap)
        return LIA_ELIMIT; /* callers check max_fields first: not reached */
    f = realloc(c->fields, n * sizeof *f);
    if (!f)
        return LIA_ENOMEM;
    c->fields = f;
    e = realloc(c->fend, n * sizeof *e);
    if (!e)
        return LIA_ENOMEM;
    c->fend = e;
    c->fcap = n;
    return LIA_OK;
}

int lia_csv_create(const lia_csv_opts *opts, lia_csv **out)
{
    lia_csv_opts o;
    lia_csv *c;
    int rc = LIA_ENOMEM;

    if (opts)
        o = *opts;
    else
        lia_csv_opts_default(&o);
    if (!o.max_field)
        o.max_field = LIA_MAX_FIELD;
    if (!o.max_row)
        o.max_row = LIA_MAX_ROW;
    if (!o.max_fields)
        o.max_fields = LIA_MAX_COLUMNS;
    if (o.delim == '\0' || o.delim == '\n' || o.delim == '\r' || o.quote == '\n' ||
        o.quote == '\r' || o.comment == '\n' || o.comment == '\r' || o.quote == o.delim ||
        (o.comment && (o.comment == o.delim || o.comment == o.quote)) ||
        o.max_fields > SIZE_MAX / sizeof(lia_slice))
        return LIA_EINVAL;

    c = calloc(1, sizeof *c);
    if (!c)
        return LIA_ENOMEM;
    c->o = o;
    c->delim = (unsigned char)o.delim;
    c->quote = o.quote ? (unsigned char)o.quote : -1;
    c->comment = o.comment ? (unsigned char)o.comment : -1;
    c->spec[(unsigned char)o.delim] = 1;
    c->spec['\n'] = c->spec['\r'] = c->spec[0] = 1;
    c->qspec['\n'] = c->qspec['\r'] = c->qspec[0] = 1;
    if (o.quote)
        c->spec[(unsigned char)o.quote] = c->qspec[(unsigned char)o.quote] = 1;

    /* Never NULL, so that empty slices still point somewhere. */
    if (grow_fields(c) || grow_bytes(&c->rec, &c->rec_cap, 1, o.max_row) ||
        grow_bytes(&c->raw, &c->raw_cap, 1, o.max_row))
        goto out;
    lia_csv_reset(c);
    *out = c;
    c = NULL;
    rc = LIA_OK;
out:
    lia_csv_destroy(c);
    return rc;
}

void lia_csv_destroy(lia_csv *c)
{
    if (!c)
        return;
    free(c->fields);
    free(c->fend);
    free(c->rec);
    free(c->raw);
    free(c);
}

void lia_csv_reset(lia_csv *c)
{
    c->nf = 0;
    c->rec_len = c->fstart = c->raw_len = 0;
    c->line = 1;
    c->rec_line = 1;
    c->state = S_REC;
    c->pending_cr = c->qcr = 0;
    c->bom = 0;
    c->err = 0;
    c->why = NULL;
}

/* ---- slow path ---------------------------------------------------------- */

static void fail(lia_csv *c, int code, const char *why)
{
    c->err = code;
    c->why = why;
    c->state = S_SKIP;
}

/* Make room for n more raw bytes (caller checked raw_len + n <= max_row). */
static int raw_room(lia_csv *c, size_t n)
{
    if (c->raw_cap - c->raw_len >= n)
        return LIA_OK;
    return grow_bytes(&c->raw, &c->raw_cap, c->raw_len + n, c->o.max_row);
}

static int rec_room(lia_csv *c, size_t n)
{
    if (c->rec_cap - c->rec_len >= n)
        return LIA_OK;
    return grow_bytes(&c->rec, &c->rec_cap, c->rec_len + n, c->o.max_row);
}

/* A byte that is both raw and field text. Returns 1 if it was taken, 0 if
 * it broke a limit (the record is then failed and the byte left for S_SKIP),
 * or LIA_ENOMEM. */
static int take_text(lia_csv *c, char b)
{
    if (c->raw_len == c->o.max_row) {
        fail(c, LIA_ELIMIT, WHY_ROW);
        return 0;
    }
    if (c->rec_len - c->fstart == c->o.max_field) {
        fail(c, LIA_ELIMIT, WHY_FIELD);
        return 0;
    }
    if (raw_room(c, 1) || rec_room(c, 1))
        return LIA_ENOMEM;
    c->raw[c->raw_len++] = b;
    c->rec[c->rec_len++] = b;
    return 1;
}

/* A byte that is raw only (quote, delimiter). Same returns as take_text. */
static int take_raw(lia_csv *c, char b)
{
    if (c->raw_len == c->o.max_row) {
        fail(c, LIA_ELIMIT, WHY_ROW);
        return 0;
    }
    if (raw_room(c, 1))
        return LIA_ENOMEM;
    c->raw[c->raw_len++] = b;
    return 1;
}

/* A run of n ordinary bytes (caller checked both limits). */
static int take_run(lia_csv *c, const char *s, size_t n)
{
    if (raw_room(c, n) || rec_room(c, n))
        return LIA_ENOMEM;
    memcpy(c->raw + c->raw_len, s, n);
    memcpy(c->rec + c->rec_len, s, n);
    c->raw_len += n;
    c->rec_len += n;
    return LIA_OK;
}

static int end_field(lia_csv *c)
{
    int rc;
    if (c->nf == c->fcap && (rc = grow_fields(c)))
        return rc;
    c->fend[c->nf++] = c->rec_len;
    c->fstart = c->rec_len;
    return LIA_OK;
}

static void begin_record(lia_csv *c)
{
    c->nf = 0;
    c->rec_len = c->fstart = c->raw_len = 0;
    c->err = 0;
    c->why = NULL;
    c->rec_line = c->line;
}

static int emit(lia_csv *c, lia_csv_cb cb, void *ud)
{
    lia_csv_row row;
    size_t start = 0;
    for (size_t i = 0; i < c->nf; i++) {
        c->fields[i].ptr = c->rec + start;
        c->fields[i].len = c->fend[i] - start;
        start = c->fend[i];
    }
    row.fields = c->fields;
    row.nfields = c->nf;
    row.raw.ptr = c->raw;
    row.raw.len = c->raw_len;
    row.line = c->rec_line;
    row.nlines = c->line - c->rec_line + 1;
    row.err = c->err;
    row.why = c->why;
    return cb(ud, &row);
}

/* The record ends at line-end byte b: report it, count the line. */
static int end_record(lia_csv *c, char b, lia_csv_cb cb, void *ud)
{
    int rc = emit(c, cb, ud);
    c->line++;
    c->pending_cr = b == '\r';
    c->state = S_REC;
    return rc;
}

/* Bytes from *pp until a line ends or the chunk does. */
static int slow(lia_csv *c, const char **pp, const char *end, lia_csv_cb cb, void *ud)
{
    const char *p = *pp, *q;
    const size_t maxf = c->o.max_field, maxr = c->o.max_row;
    unsigned char b;
    int rc = 0;

    while (p < end) {
        b = (unsigned char)*p;
        switch (c->state) {
        case S_REC:
            if (c->pending_cr) {
                c->pending_cr = 0;
                if (b == '\n') {
                    p++;
                    continue;
                }
            }
            if (b == '\n' || b == '\r') {
                p++;
                if (!c->o.skip_blank) {
                    begin_record(c);
                    if ((rc = end_field(c)))
                        goto out;
                    rc = end_record(c, (char)b, cb, ud);
                } else {
                    c->line++;
                    c->pending_cr = b == '\r';
                }
                goto out;
            }
            if (b == c->comment) {
                p++;
                c->state = S_COMMENT;
                continue;
            }
            begin_record(c);
            c->state = S_FSTART;
            continue;

        case S_COMMENT:
            while (p < end && *p != '\n' && *p != '\r')
                p++;
            if (p == end)
                goto out;
            c->line++;
            c->pending_cr = *p++ == '\r';
            c->state = S_REC;
            goto out;

        case S_FSTART:
            if (b != c->quote) {
                c->state = S_UNQ;
                continue;
            }
            if ((rc = take_raw(c, (char)b)) < 0)
                goto out;
            if (rc) {
                p++;
                c->state = S_QUO;
                c->qcr = 0;
            }
            rc = 0;
            continue;

        case S_UNQ: {
            size_t room = min_sz(maxf - (c->rec_len - c->fstart), maxr - c->raw_len);
            const char *lim = (size_t)(end - p) > room ? p + room : end;
            for (q = p; q < lim && !c->spec[(unsigned char)*q]; q++)
                ;
            if (q > p && (rc = take_run(c, p, (size_t)(q - p))))
                goto out;
            p = q;
            if (p == end)
                goto out;
            b = (unsigned char)*p;
            if (!c->spec[b]) { /* out of room */
                fail(c, LIA_ELIMIT, c->raw_len == maxr ? WHY_ROW : WHY_FIELD);
                continue;
            }
            if (b == '\n' || b == '\r') {
                if ((rc = end_field(c)))
                    goto out;
                p++;
                rc = end_record(c, (char)b, cb, ud);
                goto out;
            }
            if (b == c->delim) {
                if ((rc = take_raw(c, (char)b)) < 0)
                    goto out;
                if (!rc)
                    continue;
                rc = 0;
                p++;
                if ((rc = end_field(c)))
                    goto out;
                if (c->nf == c->o.max_fields)
                    fail(c, LIA_ELIMIT, WHY_NFIELDS);
                else
                    c->state = S_FSTART;
                continue;
            }
            if (c->raw_len == maxr)
                fail(c, LIA_ELIMIT, WHY_ROW);
            else
                fail(c, LIA_EPARSE, b ? WHY_QUOTE : WHY_NUL);
            continue;
        }

        case S_QUO: {
            size_t room = min_sz(maxf - (c->rec_len - c->fstart), maxr - c->raw_len);
            const char *lim = (size_t)(end - p) > room ? p + room : end;
            for (q = p; q < lim && !c->qspec[(unsigned char)*q]; q++)
                ;
            if (q > p) {
                if ((rc = take_run(c, p, (size_t)(q - p))))
                    goto out;
                c->qcr = 0;
            }
            p = q;
            if (p == end)
                goto out;
            b = (unsigned char)*p;
            if (!c->qspec[b]) {
                fail(c, LIA_ELIMIT, c->raw_len == maxr ? WHY_ROW : WHY_FIELD);
                continue;
            }
            if (b == '\n' || b == '\r') {
                if ((rc = take_text(c, (char)b)) < 0)
                    goto out;
                if (!rc)
                    continue;
                rc = 0;
                p++;
                if (b == '\r' || !c->qcr)
                    c->line++;
                c->qcr = b == '\r';
                continue;
            }
            if ((int)b == c->quote) {
                if ((rc = take_raw(c, (char)b)) < 0)
                    goto out;
                if (rc) {
                    p++;
                    c->state = S_QUO2;
                }
                rc = 0;
                continue;
            }
            if (c->raw_len == maxr)
                fail(c, LIA_ELIMIT, WHY_ROW);
            else
                fail(c, LIA_EPARSE, WHY_NUL);
            continue;
        }

        case S_QUO2:
            if ((int)b == c->quote) {
                if ((rc = take_text(c, (char)b)) < 0)
                    goto out;
                if (rc) {
                    p++;
                    c->state = S_QUO;
                    c->qcr = 0;
                }
                rc = 0;
                continue;
            }
            if (b == '\n' || b == '\r' || (int)b == c->delim) {
                c->state = S_UNQ; /* an empty run, then the same handling */
                continue;
            }
            if (c->raw_len == maxr)
                fail(c, LIA_ELIMIT, WHY_ROW);
            else
                fail(c, LIA_EPARSE, b ? WHY_JUNK : WHY_NUL);
            continue;

        case S_SKIP:
            for (q = p; q < end && *q != '\n' && *q != '\r'; q++)
                ;
            if (c->raw_len < maxr) {
                size_t n = min_sz((size_t)(q - p), maxr - c->raw_len);
                if ((rc = raw_room(c, n)))
                    goto out;
                memcpy(c->raw + c->raw_len, p, n);
                c->raw_len += n;
            }
            p = q;
            if (p == end)
                goto out;
            b = (unsigned char)*p++;
            rc = end_record(c, (char)b, cb, ud);
            goto out;

        default:
            break;
        }
    }
out:
    *pp = p;
    return rc;
}

/* ---- fast path ---------------------------------------------------------- */

/* Scan from q to the first byte marked in tab, or to lim. */
static inline const char *scan(const unsigned char *tab, const char *q, const char *lim)
{
    while (lim - q >= 4) {
        if (tab[(unsigned char)q[0]])
            return q;
        if (tab[(unsigned char)q[1]])
            return q + 1;
        if (tab[(unsigned char)q[2]])
            return q + 2;
        if (tab[(unsigned char)q[3]])
            return q + 3;
        q += 4;
    }
    while (q < lim && !tab[(unsigned char)*q])
        q++;
    return q;
}

#ifdef CSV_SSE2
/* The same with 16-byte compares against the five stop bytes v[0..3] and
 * NUL (unused slots repeat another stop). Reads only below end; results at
 * or beyond lim become lim. The field length no longer decides a branch. */
static inline const char *scan16(const __m128i *v, const unsigned char *tab, const char *q,
                                 const char *lim, const char *end)
{
    while (end - q >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, v[0]), _mm_cmpeq_epi8(x, v[1])),
                                 _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, v[2]),
                                                           _mm_cmpeq_epi8(x, v[3])),
                                              _mm_cmpeq_epi8(x, _mm_setzero_si128())));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits) {
            q += __builtin_ctz(bits);
            return q < lim ? q : lim;
        }
        q += 16;
        if (q >= lim)
            return lim;
    }
    return scan(tab, q, lim);
}
#define SCAN_UNQ(q, lim) scan16(vu, c->spec, (q), (lim), end)
#define SCAN_QUO(q, lim) scan16(vq, c->qspec, (q), (lim), end)
#else
#define SCAN_UNQ(q, lim) scan(c->spec, (q), (lim))
#define SCAN_QUO(q, lim) scan(c->qspec, (q), (lim))
#endif

/* Whole, simple records from *pp; stops at the first record it cannot take
 * (leaving *pp at that record's first byte) or at end. */
static int fast(lia_csv *c, const char **pp, const char *end, lia_csv_cb cb, void *ud)
{
    const char *p = *pp;
    const size_t maxf = c->o.max_field, maxr = c->o.max_row, maxn = c->o.max_fields;
    const int delim = c->delim, quote = c->quote;
    int rc = 0;
#ifdef CSV_SSE2
    const char qch = quote >= 0 ? (char)quote : (char)delim;
    const __m128i vu[4] = {_mm_set1_epi8((char)delim), _mm_set1_epi8(qch), _mm_set1_epi8('\n'),
                           _mm_set1_epi8('\r')};
    const __m128i vq[4] = {_mm_set1_epi8(qch), _mm_set1_epi8(qch), _mm_set1_epi8('\n'),
                           _mm_set1_epi8('\r')};
#endif

    while (p < end) {
        const char *lim = (size_t)(end - p) > maxr ? p + maxr + 1 : end;
        const char *q = p, *s;
        size_t n = 0, flen, fcap = c->fcap;
        lia_slice *f = c->fields;
        lia_csv_row row;
        unsigned char ch;

        if ((unsigned char)*p == c->comment)
            break;
        for (;;) {
            if (q < lim && (unsigned char)*q == quote) {
                s = ++q;
                q = SCAN_QUO(q, lim);
                if (q == lim || (unsigned char)*q != quote)
                    goto bail;
                flen = (size_t)(q - s);
                if (++q == lim)
                    goto bail;
                ch = (unsigned char)*q;
                if (ch != delim && ch != '\n' && ch != '\r')
                    goto bail;
            } else {
                s = q;
                q = SCAN_UNQ(q, lim);
                if (q == lim)
                    goto bail;
                ch = (unsigned char)*q;
                if (ch != delim && ch != '\n' && ch != '\r')
                    goto bail;
                flen = (size_t)(q - s);
            }
            if (flen > maxf)
                goto bail;
            f[n].ptr = s;
            f[n].len = flen;
            n++;
            if (ch != delim)
                break;
            if (n == fcap) { /* fcap <= maxn: one test per field for both */
                if (n == maxn)
                    goto bail;
                if ((rc = grow_fields(c)))
                    goto out;
                f = c->fields;
                fcap = c->fcap;
            }
            q++;
        }
        /* q is at the CR or LF ending the record */
        if (q == p && c->o.skip_blank) {
            rc = 0;
        } else {
            row.fields = f;
            row.nfields = n;
            row.raw.ptr = p;
            row.raw.len = (size_t)(q - p);
            row.line = c->line;
            row.nlines = 1;
            row.err = 0;
            row.why = NULL;
            rc = cb(ud, &row);
        }
        c->line++;
        if (*q == '\r') {
            if (q + 1 == end)
                c->pending_cr = 1;
            else if (q[1] == '\n')
                q++;
        }
        p = q + 1;
        if (rc)
            goto out;
    }
bail:
    rc = 0;
out:
    *pp = p;
    return rc;
}

/* ---- driver ------------------------------------------------------------- */

static int run(lia_csv *c, const char *p, const char *end, lia_csv_cb cb, void *ud)
{
    int rc;
    while (p < end) {
        if (c->state == S_REC) {
            if (c->pending_cr) {
                c->pending_cr = 0;
                if (*p == '\n') {
                    p++;
                    continue;
                }
            }
            if ((rc = fast(c, &p, end, cb, ud)))
                return rc;
            if (p == end)
                break;
        }
        if ((rc = slow(c, &p, end, cb, ud)))
            return rc;
    }
    return LIA_OK;
}

/* Give back a BOM prefix that turned out not to be one. */
static int unbom(lia_csv *c, lia_csv_cb cb, void *ud)
{
    int n = c->bom;
    c->bom = BOM_DONE;
    return run(c, (const char *)bom_bytes, (const char *)bom_bytes + n, cb, ud);
}

int lia_csv_feed(lia_csv *c, const char *buf, size_t len, lia_csv_cb cb, void *ud)
{
    const char *p = buf, *end = buf + len;
    int rc;
    if (!len)
        return LIA_OK;
    while (c->bom != BOM_DONE && p < end) {
        if ((unsigned char)*p == bom_bytes[c->bom]) {
            p++;
            c->bom++;
        } else if ((rc = unbom(c, cb, ud))) {
            return rc;
        }
    }
    return run(c, p, end, cb, ud);
}

int lia_csv_finish(lia_csv *c, lia_csv_cb cb, void *ud)
{
    int rc = LIA_OK;
    if (c->bom != BOM_DONE && (rc = unbom(c, cb, ud)))
        return rc;
    switch (c->state) {
    case S_FSTART:
    case S_UNQ:
    case S_QUO2:
        if ((rc = end_field(c)))
            return rc;
        rc = emit(c, cb, ud);
        break;
    case S_QUO:
        fail(c, LIA_EPARSE, WHY_UNCLOSED);
        rc = emit(c, cb, ud);
        break;
    case S_SKIP:
        rc = emit(c, cb, ud);
        break;
    default:
        break;
    }
    c->state = S_REC;
    c->pending_cr = 0;
    return rc;
}

int lia_csv_chunk(lia_csv *c, const char *buf, size_t len, int eof, lia_csv_cb cb, void *ud)
{
    int rc = len ? lia_csv_feed(c, buf, len, cb, ud) : LIA_OK;
    if (rc == LIA_OK && eof)
        rc = lia_csv_finish(c, cb, ud);
    return rc;
}
