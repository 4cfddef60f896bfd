/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Growable buffer with a maximum size and a sticky error; slice helpers. */
#include <stdio.h>
#include <stdlib.h>

#include "liaison/error.h"
#include "liaison/slice.h"

int lia_slice_ieq(lia_slice a, const char *lit)
{
    size_t n = strlen(lit);
    if (a.len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a.ptr[i], y = (unsigned char)lit[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return 0;
    }
    return 1;
}

lia_slice lia_slice_trim(lia_slice s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    return s;
}

void lia_buf_init(lia_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->err = 0;
}

void lia_buf_free(lia_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}

int lia_buf_reserve(lia_buf *b, size_t extra)
{
    size_t need, ncap;
    char *p;
    if (b->err)
        return b->err;
    if (extra > b->max || b->len > b->max - extra)
        return b->err = LIA_ELIMIT;
    need = b->len + extra + 1; /* + NUL */
    if (need <= b->cap)
        return LIA_OK;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > b->max + 1)
        ncap = b->max + 1;
    p = realloc(b->ptr, ncap);
    if (!p)
        return b->err = LIA_ENOMEM;
    b->ptr = p;
    b->cap = ncap;
    return LIA_OK;
}

int lia_buf_append_slow(lia_buf *b, const void *p, size_t n)
{
    int rc = lia_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return LIA_OK;
}

int lia_buf_puts(lia_buf *b, const char *s) { return lia_buf_append(b, s, strlen(s)); }

int lia_buf_putc(lia_buf *b, char c) { return lia_buf_append(b, &c, 1); }

int lia_buf_utf8(lia_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return lia_buf_append(b, u, n);
}

int lia_buf_vprintf(lia_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    int rc;
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return b->err = LIA_EINVAL;
    rc = lia_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return LIA_OK;
}

int lia_buf_printf(lia_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = lia_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int lia_buf_json_str(lia_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    int rc = lia_buf_reserve(b, n + 2);
    if (rc)
        return rc;
    lia_buf_putc(b, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        lia_buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': lia_buf_append(b, "\\\"", 2); break;
        case '\\': lia_buf_append(b, "\\\\", 2); break;
        case '\n': lia_buf_append(b, "\\n", 2); break;
        case '\r': lia_buf_append(b, "\\r", 2); break;
        case '\t': lia_buf_append(b, "\\t", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            lia_buf_append(b, u, 6);
        }
        }
    }
    lia_buf_append(b, s + run, n - run);
    lia_buf_putc(b, '"');
    return b->err;
}

int lia_buf_csv(lia_buf *b, const char *s, size_t n)
{
    int rc = LIA_OK;
    if (!n || !(memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n) ||
                s[0] == ' ' || s[n - 1] == ' ' || s[0] == '#'))
        return lia_buf_append(b, s, n);
    rc |= lia_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            rc |= lia_buf_putc(b, '"');
        rc |= lia_buf_putc(b, s[i]);
    }
    rc |= lia_buf_putc(b, '"');
    return rc ? b->err : LIA_OK; /* the buffer keeps its first error */
}
