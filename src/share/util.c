/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Helpers shared by the sharing formats: SHA-1, UUIDv5, timestamps, TLP
 * marking tables, document accumulation. SHA-1 is here only because RFC 4122
 * UUIDv5 (required by STIX 2.1 for SCO identifiers) is defined with it; it is
 * never used for integrity (BLAKE2b is). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/field.h"
#include "liaison/limits.h"
#include "share/share.h"

static uint32_t rol(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static void sha1_block(uint32_t h[5], const uint8_t *b)
{
    uint32_t w[80], a, bb, c, d, e, t;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 | (uint32_t)b[4 * i + 2] << 8 |
               b[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20)
            f = (bb & c) | (~bb & d), k = 0x5A827999u;
        else if (i < 40)
            f = bb ^ c ^ d, k = 0x6ED9EBA1u;
        else if (i < 60)
            f = (bb & c) | (bb & d) | (c & d), k = 0x8F1BBCDCu;
        else
            f = bb ^ c ^ d, k = 0xCA62C1D6u;
        t = rol(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol(bb, 30), bb = a, a = t;
    }
    h[0] += a, h[1] += bb, h[2] += c, h[3] += d, h[4] += e;
}

typedef struct sha1 {
    uint32_t h[5];
    uint8_t buf[64];
    size_t nbuf;
    uint64_t total;
} sha1;

static void sha1_init(sha1 *c)
{
    static const uint32_t iv[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    memcpy(c->h, iv, sizeof iv);
    c->nbuf = 0;
    c->total = 0;
}

static void sha1_update(sha1 *c, const void *p, size_t n)
{
    const uint8_t *s = p;
    c->total += n;
    while (n) {
        size_t k = 64 - c->nbuf < n ? 64 - c->nbuf : n;
        memcpy(c->buf + c->nbuf, s, k);
        c->nbuf += k;
        s += k;
        n -= k;
        if (c->nbuf == 64) {
            sha1_block(c->h, c->buf);
            c->nbuf = 0;
        }
    }
}

static void sha1_final(sha1 *c, uint8_t out[20])
{
    uint64_t bits = c->total * 8;
    c->buf[c->nbuf++] = 0x80;
    if (c->nbuf > 56) {
        memset(c->buf + c->nbuf, 0, 64 - c->nbuf);
        sha1_block(c->h, c->buf);
        c->nbuf = 0;
    }
    memset(c->buf + c->nbuf, 0, 56 - c->nbuf);
    for (int i = 0; i < 8; i++)
        c->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha1_block(c->h, c->buf);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

void lia__sha1(const void *p, size_t n, uint8_t out[20])
{
    sha1 c;
    sha1_init(&c);
    sha1_update(&c, p, n);
    sha1_final(&c, out);
}

static void uuid_text(const uint8_t u[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[u[i] >> 4];
        *p++ = hex[u[i] & 15];
    }
    *p = '\0';
}

void lia__uuid5(const uint8_t ns[16], const void *name, size_t n, char out[37])
{
    uint8_t d[20], u[16];
    sha1 c;
    sha1_init(&c);
    sha1_update(&c, ns, 16);
    sha1_update(&c, name, n);
    sha1_final(&c, d);
    memcpy(u, d, 16);
    u[6] = (uint8_t)((u[6] & 0x0F) | 0x50);
    u[8] = (uint8_t)((u[8] & 0x3F) | 0x80);
    uuid_text(u, out);
}

void lia__liaison_ns(uint8_t ns[16])
{
    static const uint8_t stix_ns[16] = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
                                        0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};
    char u[37];
    lia__uuid5(stix_ns, "liaison", 7, u);
    lia__uuid_parse(u, 36, ns);
}

int lia__uuid_parse(const char *s, size_t n, uint8_t out[16])
{
    size_t j = 0;
    if (n != 36)
        return -1;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -1;
            i++;
            continue;
        }
        int a = lia_hexval((unsigned char)s[i]), b = lia_hexval((unsigned char)s[i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[j++] = (uint8_t)(a << 4 | b);
        i += 2;
    }
    return 0;
}

size_t lia__time_z(int64_t us, char *out, size_t n)
{
    char tmp[LIA_TIME_TEXT];
    int64_t rem = us % 1000000;
    size_t len;
    if (rem < 0)
        rem += 1000000;
    len = lia_time_format(us - rem, tmp, sizeof tmp);
    if (len < 6)
        return 0;
    len -= 6; /* "+00:00" */
    {
        int digits = rem % 1000 == 0 ? 3 : 6;
        int64_t f = digits == 3 ? rem / 1000 : rem;
        if (len + 2 + (size_t)digits >= n)
            return 0;
        memcpy(out, tmp, len);
        out[len++] = '.';
        for (int k = digits - 1; k >= 0; k--) {
            out[len + (size_t)k] = (char)('0' + f % 10);
            f /= 10;
        }
        len += (size_t)digits;
        out[len++] = 'Z';
        out[len] = '\0';
        return len;
    }
}

int lia__doc_append(lia_buf *doc, const char *p, size_t len, const char *what, lia_error *err)
{
    if (!len)
        return LIA_OK;
    if (doc->len + len > doc->max)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "%s document larger than %zu bytes", what,
                             doc->max);
    if (lia_buf_append(doc, p, len))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory reading the %s document", what);
    return LIA_OK;
}

static const struct {
    const char *id;
    int tlp;
} marks[] = {
    /* TLP 2.0 (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d) */
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", LIA_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", LIA_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", LIA_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", LIA_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", LIA_TLP_RED},
    /* TLP 1.0 (STIX 2.1 specification, section 7.2.1.4) */
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", LIA_TLP_CLEAR}, /* WHITE */
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", LIA_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", LIA_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", LIA_TLP_RED},
};

const char *lia__tlp2_marking_id(int tlp)
{
    return tlp >= 0 && tlp <= LIA_TLP_RED ? marks[tlp].id : NULL;
}

int lia__tlp_from_marking_id(const char *id, size_t n)
{
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (strlen(marks[i].id) == n && memcmp(marks[i].id, id, n) == 0)
            return marks[i].tlp;
    return -1;
}

const char *lia__tlp_lower(int tlp)
{
    static const char *const names[] = {"clear", "green", "amber", "amber+strict", "red"};
    return tlp >= 0 && tlp <= LIA_TLP_RED ? names[tlp] : NULL;
}

int lia__set(lia_event *ev, lia_field f, const char *s, size_t n, lia_error *err)
{
    return lia_event_set(ev, f, s, n, err);
}

int lia__is_ip(const char *s, size_t n, lia_ip *ip)
{
    const char *why;
    if (memchr(s, '/', n))
        return lia_parse_cidr(s, n, ip, &why) == 0;
    return lia_parse_ip(s, n, ip, &why) == 0;
}

/* ---- MD5 (RFC 1321): MISP's hashes.csv names attribute values by MD5;
 * used only for that lookup file, never for integrity ---- */

static const uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const int md5_r[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                              5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                              4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                              6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_block(uint32_t h[4], const uint8_t *b)
{
    uint32_t w[16], a = h[0], bb = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
               (uint32_t)b[4 * i + 3] << 24;
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16)
            f = (bb & c) | (~bb & d), g = i;
        else if (i < 32)
            f = (d & bb) | (~d & c), g = (5 * i + 1) % 16;
        else if (i < 48)
            f = bb ^ c ^ d, g = (3 * i + 5) % 16;
        else
            f = c ^ (bb | ~d), g = (7 * i) % 16;
        f = f + a + md5_k[i] + w[g];
        a = d;
        d = c;
        c = bb;
        bb = bb + rol(f, md5_r[i]);
    }
    h[0] += a, h[1] += bb, h[2] += c, h[3] += d;
}

void lia__md5_hex(const void *p, size_t n, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    uint32_t h[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    const uint8_t *s = p;
    uint8_t last[128];
    size_t full = n / 64 * 64, rest = n - full, tail;
    uint64_t bits = (uint64_t)n * 8;
    for (size_t i = 0; i < full; i += 64)
        md5_block(h, s + i);
    memset(last, 0, sizeof last);
    if (rest)
        memcpy(last, s + full, rest);
    last[rest] = 0x80;
    tail = rest + 1 + 8 <= 64 ? 64 : 128;
    for (int i = 0; i < 8; i++)
        last[tail - 8 + i] = (uint8_t)(bits >> (8 * i));
    md5_block(h, last);
    if (tail == 128)
        md5_block(h, last + 64);
    for (int i = 0; i < 16; i++) {
        uint8_t byte = (uint8_t)(h[i / 4] >> (8 * (i % 4)));
        out[2 * i] = hex[byte >> 4];
        out[2 * i + 1] = hex[byte & 15];
    }
    out[32] = '\0';
}

char *lia__share_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}
