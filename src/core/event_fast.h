/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* core/event_fast.h - internal: inline fast paths for storing values on an
 * event, shared by event.c and the hot format loops (src/feeds/csvmap.c).
 *
 * Each lia__event_*_fast() either stores the value exactly as the public
 * setter would (lia_event_set, lia_event_extra_*_known) and returns 1, or
 * does nothing and returns 0: the caller then calls the public setter,
 * which decides every error. They take the common case only: values that
 * are printable ASCII without '"' or '\\' and fit the event's current
 * allocations. Not public API. */
#ifndef LIAISON_CORE_EVENT_FAST_H
#define LIAISON_CORE_EVENT_FAST_H

#include <stdint.h>
#include <string.h>

#include "liaison/event.h"
#include "liaison/limits.h"
#include "core/field_internal.h"

/* Small enough to inline at every use, which is the point of this header. */
#define LIA_FAST static inline __attribute__((always_inline))

/* lia__field_type() as a table (defined in event.c). */
extern const uint8_t lia__ftype[LIA_F__COUNT];

/* Copy n bytes (no overlap). Short copies, the common case for field values,
 * without a call: two overlapping loads and stores. */
LIA_FAST void lia__copy_bytes(char *d, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 16) {
        memcpy(d, s, n);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}

/* Room for n more bytes plus the NUL within the current allocation and the
 * buffer's max: the inline test of lia_buf_append. */
LIA_FAST int lia__text_room(const lia_buf *b, size_t n)
{
    return !b->err && n < b->cap - b->len && n <= b->max - b->len;
}

LIA_FAST uint64_t lia__not_plain8(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    uint64_t q = w ^ (ones * 0x22), b = w ^ (ones * 0x5c);
    return (w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high;
}

/* 1 if s[0..n) is printable ASCII without '"' and '\\': then it is valid
 * UTF-8, has no NUL, and needs no JSON escaping. DEL (0x7f) counts as plain:
 * it is valid UTF-8 and JSON leaves it as it is, so both paths store the
 * same bytes. Eight bytes at a time; short values are read with overlapping
 * loads (bytes read twice are checked twice), spare bytes padded with 'a'. */
LIA_FAST int lia__plain_fast(const char *s, size_t n)
{
    const uint64_t pad = UINT64_C(0x6161616161616161);
    uint64_t w;
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, s + i, 8);
            if (lia__not_plain8(w))
                return 0;
        }
        if (i == n)
            return 1;
        memcpy(&w, s + n - 8, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        w = a | (uint64_t)b << 32;
    } else if (n >= 2) {
        uint16_t a, b;
        memcpy(&a, s, 2);
        memcpy(&b, s + n - 2, 2);
        w = a | (uint64_t)b << 16 | (pad << 32);
    } else if (n == 1) {
        w = (unsigned char)s[0] | (pad << 8);
    } else {
        return 1;
    }
    return !lia__not_plain8(w);
}

/* Copy s[0..n) to d if it is plain (lia__plain_fast) and return 1; else
 * return 0, d then holding any part of s (bytes the caller has not counted).
 * Each word is loaded once for both the test and the copy. */
LIA_FAST int lia__copy_plain(char *d, const char *s, size_t n)
{
    const uint64_t pad = UINT64_C(0x6161616161616161);
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        if (lia__not_plain8(a) | lia__not_plain8(b))
            return 0;
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        if (lia__not_plain8(a | (uint64_t)b << 32))
            return 0;
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n >= 2 && n < 4) {
        uint16_t a, b;
        memcpy(&a, s, 2);
        memcpy(&b, s + n - 2, 2);
        if (lia__not_plain8(a | (uint64_t)b << 16 | (pad << 32)))
            return 0;
        memcpy(d, &a, 2);
        memcpy(d + n - 2, &b, 2);
    } else if (n == 1) {
        if (lia__not_plain8((unsigned char)s[0] | (pad << 8)))
            return 0;
        d[0] = s[0];
    } else if (n > 16) {
        if (!lia__plain_fast(s, n))
            return 0;
        memcpy(d, s, n);
    }
    return 1;
}

/* Trusted text s[0..n) as field f's string value, ASCII-cased if cased is
 * 'l' or 'u'; 0 if it does not fit the current allocation. */
LIA_FAST int lia__event_str_fast(lia_event *ev, lia_field f, const char *s, size_t n, int cased)
{
    lia_buf *t = &ev->text;
    size_t off = t->len;
    char *p;
    if (!lia__text_room(t, n))
        return 0;
    p = t->ptr + off;
    if (cased) {
        const unsigned char lo = cased == 'u' ? 'a' : 'A';
        const char flip = cased == 'u' ? -32 : 32;
        for (size_t i = 0; i < n; i++)
            p[i] = (unsigned char)(s[i] - lo) < 26 ? (char)(s[i] + flip) : s[i];
    } else {
        lia__copy_bytes(p, s, n);
    }
    t->len += n;
    p[n] = '\0';
    ev->v[f].s.off = (uint32_t)off;
    ev->v[f].s.len = (uint32_t)n;
    ev->present[f >> 6] |= (uint64_t)1 << (f & 63);
    return 1;
}

LIA_FAST void lia__event_set_i_fast(lia_event *ev, lia_field f, int64_t v)
{
    ev->v[f].i = v;
    ev->present[f >> 6] |= (uint64_t)1 << (f & 63);
}

LIA_FAST void lia__event_set_ip_fast(lia_event *ev, lia_field f, const lia_ip *ip)
{
    ev->v[f].ip = *ip;
    ev->present[f >> 6] |= (uint64_t)1 << (f & 63);
}

/* lia_event_set() of a non-empty value for a STRING, LOWER or UPPER field
 * (type t), in the common case. */
LIA_FAST int lia__event_text_fast(lia_event *ev, lia_field f, int t, const char *s, size_t n)
{
    lia_buf *b = &ev->text;
    size_t off = b->len;
    if (n == 0 || n > LIA_MAX_STRING)
        return 0;
    if (t != LIA_T_STRING)
        return lia__plain_fast(s, n) && lia__event_str_fast(ev, f, s, n, t == LIA_T_LOWER ? 'l' : 'u');
    if (!lia__text_room(b, n) || !lia__copy_plain(b->ptr + off, s, n))
        return 0;
    b->len += n;
    b->ptr[off + n] = '\0';
    ev->v[f].s.off = (uint32_t)off;
    ev->v[f].s.len = (uint32_t)n;
    ev->present[f >> 6] |= (uint64_t)1 << (f & 63);
    return 1;
}

/* Key, then value (quoted if q) in one reservation; 0 if it does not fit the
 * current allocation or the extra array. */
LIA_FAST int lia__event_extra_put_fast(lia_event *ev, const char *key, size_t klen, const char *v, size_t vn,
                                       int q)
{
    lia_buf *t = &ev->text;
    size_t need = klen + vn + 2 * (size_t)q, koff = t->len;
    char *p;
    if (ev->nextra == ev->extra_cap || !lia__text_room(t, need))
        return 0;
    p = t->ptr + koff;
    lia__copy_bytes(p, key, klen);
    p += klen;
    if (q)
        *p++ = '"';
    lia__copy_bytes(p, v, vn);
    p += vn;
    if (q)
        *p++ = '"';
    *p = '\0';
    t->len += need;
    ev->extra[ev->nextra++] =
        (lia_extra){(uint32_t)koff, (uint32_t)klen, (uint32_t)(koff + klen), (uint32_t)(vn + 2 * (size_t)q)};
    return 1;
}

/* lia_event_extra_str_known() in the common case. */
LIA_FAST int lia__event_extra_str_fast(lia_event *ev, const char *key, size_t klen, const char *s, size_t n)
{
    lia_buf *t = &ev->text;
    size_t need = klen + n + 2, koff = t->len;
    char *p;
    if (n > LIA_MAX_STRING || ev->nextra == ev->extra_cap || !lia__text_room(t, need))
        return 0;
    p = t->ptr + koff;
    lia__copy_bytes(p, key, klen);
    p[klen] = '"';
    if (!lia__copy_plain(p + klen + 1, s, n))
        return 0;
    p[klen + 1 + n] = '"';
    p[klen + 2 + n] = '\0';
    t->len += need;
    ev->extra[ev->nextra++] =
        (lia_extra){(uint32_t)koff, (uint32_t)klen, (uint32_t)(koff + klen), (uint32_t)(n + 2)};
    return 1;
}

#endif
