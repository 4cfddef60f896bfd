/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Decoders of a mail reader: quoted-printable and base64 (RFC 2045),
 * encoded words (RFC 2047), charsets to UTF-8 (iconv). Pure. */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "mail/internal.h"

void lia__mail_qp(const char *p, size_t n, lia_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '=') {
            lia_buf_putc(out, p[i]);
            continue;
        }
        /* soft line break: '=' then optional white space, then the line end */
        size_t j = i + 1;
        while (j < n && (p[j] == ' ' || p[j] == '\t'))
            j++;
        if (j < n && (p[j] == '\r' || p[j] == '\n')) {
            if (p[j] == '\r' && j + 1 < n && p[j + 1] == '\n')
                j++;
            i = j;
            continue;
        }
        if (j == n) {
            i = j;
            continue;
        }
        if (i + 2 < n && lia_hexval((unsigned char)p[i + 1]) >= 0 &&
            lia_hexval((unsigned char)p[i + 2]) >= 0) {
            lia_buf_putc(
                out, (char)(lia_hexval((unsigned char)p[i + 1]) << 4 | lia_hexval((unsigned char)p[i + 2])));
            i += 2;
            continue;
        }
        lia_buf_putc(out, '=');
    }
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

void lia__mail_b64(const char *p, size_t n, lia_buf *out)
{
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && p[i] != '='; i++) {
        int v = b64val((unsigned char)p[i]);
        if (v < 0)
            continue;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            lia_buf_putc(out, (char)(acc >> bits & 0xff));
        }
    }
}

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t k;
    uint32_t cp;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        k = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        k = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        k = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return k;
}

static void utf8_clean(const char *p, size_t n, lia_buf *out)
{
    const unsigned char *u = (const unsigned char *)p;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(u + i, n - i);
        if (k == 0) {
            lia_buf_puts(out, "\xef\xbf\xbd");
            i++;
        } else {
            lia_buf_append(out, p + i, k);
            i += k;
        }
    }
}

static int is_utf8_name(const char *cs)
{
    return !cs || !*cs || lia_slice_ieq(lia_slice_from(cs), "utf-8") ||
           lia_slice_ieq(lia_slice_from(cs), "utf8") || lia_slice_ieq(lia_slice_from(cs), "us-ascii") ||
           lia_slice_ieq(lia_slice_from(cs), "ascii");
}

void lia__mail_to_utf8(const char *charset, const char *p, size_t n, lia_buf *out, int *unknown)
{
    iconv_t cd;
    char tmp[4096];
    char *in = (char *)p;
    size_t left = n;
    if (is_utf8_name(charset)) {
        utf8_clean(p, n, out);
        return;
    }
    cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1) {
        if (unknown)
            *unknown = 1;
        utf8_clean(p, n, out);
        return;
    }
    while (left > 0 && !out->err) {
        char *o = tmp;
        size_t room = sizeof tmp;
        size_t r = iconv(cd, &in, &left, &o, &room);
        int e = errno;
        /* iconv's output is UTF-8 by contract; cleaned anyway */
        utf8_clean(tmp, (size_t)(o - tmp), out);
        if (r == (size_t)-1 && e != E2BIG) {
            /* EILSEQ or EINVAL (cut at the end): one replacement, skip one byte */
            lia_buf_puts(out, "\xef\xbf\xbd");
            in++;
            left--;
            iconv(cd, NULL, NULL, NULL, NULL);
        }
    }
    iconv_close(cd);
}

/* One encoded word "=?charset?B|Q?text?=" at p[0..n): its length, or 0. */
static size_t encoded_word(const char *p, size_t n, lia_buf *out)
{
    size_t i = 2, cs, enc, txt, end;
    char charset[64];
    lia_buf raw;
    if (n < 8 || p[0] != '=' || p[1] != '?')
        return 0;
    cs = i;
    while (i < n && p[i] != '?' && p[i] > ' ' && p[i] < 0x7f)
        i++;
    if (i >= n || p[i] != '?' || i == cs || i - cs >= sizeof charset)
        return 0;
    memcpy(charset, p + cs, i - cs);
    charset[i - cs] = '\0';
    {
        char *star = strchr(charset, '*'); /* RFC 2231 language suffix */
        if (star)
            *star = '\0';
    }
    enc = ++i;
    if (enc + 1 >= n || p[enc + 1] != '?')
        return 0;
    txt = enc + 2;
    for (end = txt; end + 1 < n && !(p[end] == '?' && p[end + 1] == '='); end++)
        if (p[end] == ' ' || p[end] == '\t' || p[end] == '\r' || p[end] == '\n')
            return 0;
    if (end + 1 >= n || !p[enc] || !strchr("BbQq", p[enc]))
        return 0;
    if (!out)
        return end + 2;
    lia_buf_init(&raw, LIA_MAIL_MAX_HEADER);
    if (p[enc] == 'B' || p[enc] == 'b') {
        lia__mail_b64(p + txt, end - txt, &raw);
    } else if (p[enc] == 'Q' || p[enc] == 'q') {
        for (size_t k = txt; k < end; k++) {
            if (p[k] == '_')
                lia_buf_putc(&raw, ' ');
            else if (p[k] == '=' && k + 2 < end && lia_hexval((unsigned char)p[k + 1]) >= 0 &&
                     lia_hexval((unsigned char)p[k + 2]) >= 0) {
                lia_buf_putc(&raw, (char)(lia_hexval((unsigned char)p[k + 1]) << 4 |
                                          lia_hexval((unsigned char)p[k + 2])));
                k += 2;
            } else
                lia_buf_putc(&raw, p[k]);
        }
    } else {
        lia_buf_free(&raw);
        return 0;
    }
    lia__mail_to_utf8(charset, raw.ptr ? raw.ptr : "", raw.len, out, NULL);
    lia_buf_free(&raw);
    return end + 2;
}

void lia__mail_words(const char *p, size_t n, lia_buf *out)
{
    size_t i = 0, pending_ws = 0, ws_at = 0;
    int last_was_word = 0;
    while (i < n) {
        if (p[i] == ' ' || p[i] == '\t') {
            if (!pending_ws)
                ws_at = i;
            pending_ws++;
            i++;
            continue;
        }
        size_t k = p[i] == '=' ? encoded_word(p + i, n - i, NULL) : 0;
        if (k) {
            /* white space between two encoded words is not shown */
            if (pending_ws && !last_was_word)
                lia_buf_append(out, p + ws_at, pending_ws);
            encoded_word(p + i, n - i, out);
            i += k;
            last_was_word = 1;
        } else {
            if (pending_ws)
                lia_buf_append(out, p + ws_at, pending_ws);
            lia_buf_putc(out, p[i]);
            i++;
            last_was_word = 0;
        }
        pending_ws = 0;
    }
    if (pending_ws)
        lia_buf_append(out, p + ws_at, pending_ws);
}
