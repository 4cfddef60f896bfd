/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* MIME pieces of a message (RFC 2045, 2047, 5322): base64 parts, encoded
 * header words, boundaries, the Date header. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "notify/internal.h"

/* ---- MIME ---- */

static void b64_lines(lia_buf *b, const char *s, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t col = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
        char q[4];
        if (i + 1 < n)
            v |= (uint32_t)(unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        q[0] = tbl[v >> 18 & 63];
        q[1] = tbl[v >> 12 & 63];
        q[2] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? tbl[v & 63] : '=';
        lia_buf_append(b, q, 4);
        col += 4;
        if (col >= 76) {
            lia_buf_puts(b, "\r\n");
            col = 0;
        }
    }
    if (col)
        lia_buf_puts(b, "\r\n");
}

/* Header text: plain if ASCII, else an RFC 2047 encoded word (split). */
void lia__mime_header_text(lia_buf *b, const char *s)
{
    size_t n = strlen(s), i;
    for (i = 0; i < n && (unsigned char)s[i] < 0x80 && s[i] >= 0x20; i++)
        ;
    if (i == n) {
        lia_buf_append(b, s, n);
        return;
    }
    /* chunks of up to 45 bytes, cut at UTF-8 boundaries */
    for (i = 0; i < n;) {
        size_t k = n - i > 45 ? 45 : n - i;
        lia_buf tmp;
        while (i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
            k--;
        lia_buf_init(&tmp, 256);
        b64_lines(&tmp, s + i, k);
        if (tmp.len >= 2)
            tmp.len -= 2; /* drop CRLF */
        lia_buf_printf(b, "%s=?UTF-8?B?%.*s?=", i ? "\r\n " : "", (int)tmp.len, lia_buf_cstr(&tmp));
        lia_buf_free(&tmp);
        i += k;
    }
}

void lia__mime_boundary(char out[40])
{
    unsigned char r[12];
    randombytes_buf(r, sizeof r);
    memcpy(out, "=-lia-", 6);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 6 + i * 2, 3, "%02x", r[i]);
}

void lia__mime_part(lia_buf *b, const char *bnd, const char *ctype, const char *fname, const char *data,
                    size_t n)
{
    lia_buf_printf(b, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\n", bnd, ctype);
    if (fname)
        lia_buf_printf(b, "Content-Disposition: attachment; filename=\"%s\"\r\n", fname);
    lia_buf_puts(b, "\r\n");
    b64_lines(b, data, n);
}

void lia__mime_date(int64_t us, char *out, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    gmtime_r(&t, &tm);
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
