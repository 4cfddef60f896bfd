/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/slice.h - borrowed text (pointer + length) and a growable buffer
 * with a maximum size and a sticky error. */
#ifndef LIAISON_SLICE_H
#define LIAISON_SLICE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct lia_slice {
    const char *ptr;
    size_t len;
} lia_slice;

#define LIA_SLICE(lit) ((lia_slice){(lit), sizeof(lit) - 1})
#define LIA_SLICE_NULL ((lia_slice){NULL, 0})

/* A slice over NUL-terminated s (NULL: the empty slice). */
static inline lia_slice lia_slice_from(const char *s)
{
    return (lia_slice){s, s ? strlen(s) : 0};
}

/* 1 if a has exactly the bytes of lit. */
static inline int lia_slice_eq(lia_slice a, const char *lit)
{
    size_t n = strlen(lit);
    return a.len == n && (n == 0 || memcmp(a.ptr, lit, n) == 0);
}

/* ASCII case-insensitive comparison with a NUL-terminated literal. */
int lia_slice_ieq(lia_slice a, const char *lit);

/* Strip ASCII spaces and tabs at both ends. */
lia_slice lia_slice_trim(lia_slice s);

/* A growable byte buffer. ptr is always NUL-terminated once anything was
 * appended. Appending past max fails with LIA_ELIMIT; a failure is sticky
 * (err) so a sequence of appends can be checked once at the end. */
typedef struct lia_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
    int err;
} lia_buf;

/* init: an empty buffer that refuses to grow past max bytes (LIA_ELIMIT);
 * free: release it; reset: length 0, keeping the allocation and clearing
 * a sticky error. */
void lia_buf_init(lia_buf *b, size_t max);
void lia_buf_free(lia_buf *b);
static inline void lia_buf_reset(lia_buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}
/* Room for extra more bytes (and the NUL): LIA_OK, LIA_ELIMIT past max,
 * LIA_ENOMEM; an error sticks in b->err until reset, so a chain of appends
 * is checked once at its end. append_slow is append's growing path. */
int lia_buf_reserve(lia_buf *b, size_t extra);
int lia_buf_append_slow(lia_buf *b, const void *p, size_t n);
/* Append n bytes (inline fast path when they fit the current allocation). */
static inline int lia_buf_append(lia_buf *b, const void *p, size_t n)
{
    if (!b->err && n < b->cap - b->len && n <= b->max - b->len) {
        if (n)
            memcpy(b->ptr + b->len, p, n);
        b->len += n;
        b->ptr[b->len] = '\0';
        return 0;
    }
    return lia_buf_append_slow(b, p, n);
}
int lia_buf_puts(lia_buf *b, const char *s);
int lia_buf_putc(lia_buf *b, char c);
/* Append code point cp (<= U+10FFFF, not a surrogate) as UTF-8. */
int lia_buf_utf8(lia_buf *b, uint32_t cp);
int lia_buf_printf(lia_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lia_buf_vprintf(lia_buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal (with quotes), escaping as RFC 8259. */
int lia_buf_json_str(lia_buf *b, const char *s, size_t n);
/* Append s as one CSV cell (RFC 4180): quoted, with quotes doubled, when it
 * holds a comma, quote, CR or LF, begins or ends with a space, or begins
 * with '#' (so readers that trim or skip comment lines keep it whole). */
int lia_buf_csv(lia_buf *b, const char *s, size_t n);
/* The value of hexadecimal digit c (either case), or -1. */
static inline int lia_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
/* Always a valid C string ("" when empty). */
static inline const char *lia_buf_cstr(const lia_buf *b) { return b->ptr ? b->ptr : ""; }

#endif
