/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Indicator recognition shared by misp-csv and misp-freetext (see ioc.h). */
#include <stdio.h>

#include "feeds/ioc.h"
#include "liaison/limits.h"

enum { K_NONE, K_URL, K_IP, K_IPPORT, K_NET, K_MD5, K_SHA1, K_SHA256, K_EMAIL, K_FQDN, K_BROKEN };

static const struct {
    const char *from, *to;
} fangs[] = {{"[.]", "."},           {"(.)", "."},
             {"{.}", "."},           {"[dot]", "."},
             {"[:]", ":"},           {"[@]", "@"},
             {"[at]", "@"},          {"hxxps://", "https://"},
             {"hxxp://", "http://"}, {"hXXps://", "https://"},
             {"hXXp://", "http://"}, {"[://]", "://"}};

static lia_slice refang(lia_slice t, lia_buf *b)
{
    size_t j;
    for (j = 0; j < t.len; j++) { /* most values are not defanged: no copy */
        char c = t.ptr[j];
        if (c == '[' || c == '(' || c == '{' || c == 'x' || c == 'X')
            break;
    }
    if (j == t.len)
        return t;
    lia_buf_reset(b);
    for (size_t i = 0; i < t.len;) {
        size_t k;
        for (k = 0; k < sizeof fangs / sizeof fangs[0]; k++) {
            size_t fl = strlen(fangs[k].from);
            if (t.len - i >= fl && memcmp(t.ptr + i, fangs[k].from, fl) == 0) {
                lia_buf_puts(b, fangs[k].to);
                i += fl;
                break;
            }
        }
        if (k == sizeof fangs / sizeof fangs[0])
            lia_buf_putc(b, t.ptr[i++]);
    }
    if (b->err)
        return t;
    return (lia_slice){lia_buf_cstr(b), b->len};
}

static int all_hex(lia_slice t)
{
    for (size_t i = 0; i < t.len; i++) {
        char c = (char)(t.ptr[i] | 32);
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

/* Four dot-separated groups of 1 to 3 digits before any ':' or '/': what
 * an IPv4 address looks like, valid or not. Times of day (10:30:00) and
 * version numbers (10.0.19041.1, 1.2.3.4.5) are not. */
static int dotted_quad(lia_slice t)
{
    size_t parts = 0, digits = 0, i;
    for (i = 0; i < t.len && t.ptr[i] != ':' && t.ptr[i] != '/'; i++) {
        if (t.ptr[i] == '.') {
            if (digits == 0)
                return 0;
            parts++;
            digits = 0;
        } else if (++digits > 3) {
            return 0;
        }
    }
    return digits > 0 && parts == 3;
}

static int classify(lia_slice t, size_t *colon)
{
    lia_ip ip;
    const char *p;
    int addrish = 1, alpha_tld = 0;
    size_t dot = 0;
    if (t.len == 0)
        return K_NONE;
    if (t.len > 3 && memmem(t.ptr, t.len, "://", 3))
        return K_URL;
    if (lia_parse_ip(t.ptr, t.len, &ip, NULL) == LIA_OK)
        return K_IP;
    if (memchr(t.ptr, '/', t.len) && lia_parse_cidr(t.ptr, t.len, &ip, NULL) == LIA_OK)
        return K_NET;
    p = memchr(t.ptr, ':', t.len);
    if (p && !memchr(p + 1, ':', t.len - (size_t)(p - t.ptr) - 1) &&
        lia_parse_ip(t.ptr, (size_t)(p - t.ptr), &ip, NULL) == LIA_OK && ip.family == 4) {
        *colon = (size_t)(p - t.ptr);
        return K_IPPORT;
    }
    if (all_hex(t)) {
        if (t.len == 32)
            return K_MD5;
        if (t.len == 40)
            return K_SHA1;
        if (t.len == 64)
            return K_SHA256;
    }
    for (size_t i = 0; i < t.len; i++) {
        char c = t.ptr[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == ':' || c == '/'))
            addrish = 0;
        if (c == '.')
            dot = i + 1;
    }
    if (addrish && dotted_quad(t)) /* 1.2.3.999, 10.0.0.1:99999, 10.0.0.1/33 */
        return K_BROKEN;
    if (addrish)
        return K_NONE; /* a time of day (10:30:00), a version (10.0.19041.1), a number */
    if (dot && dot < t.len) {
        alpha_tld = t.len - dot >= 2;
        for (size_t i = dot; i < t.len; i++)
            if (!((t.ptr[i] | 32) >= 'a' && (t.ptr[i] | 32) <= 'z') && t.ptr[i] != '-')
                alpha_tld = (t.len - dot > 4 && memcmp(t.ptr + dot, "xn--", 4) == 0);
    }
    if (!alpha_tld)
        return K_NONE;
    p = memchr(t.ptr, '@', t.len);
    if (p)
        return K_EMAIL;
    return K_FQDN;
}

static const char *const kind_names[] = {NULL,   "url",    "ip",     "ip:port", "network", "md5",
                                         "sha1", "sha256", "e-mail", "domain",  NULL};

const char *lia_ioc_kind(lia_slice tok, lia_buf *scratch)
{
    size_t colon = 0;
    return kind_names[classify(refang(tok, scratch), &colon)];
}

static int set_lower(lia_event *ev, lia_field f, lia_slice t, lia_error *err)
{
    char h[65];
    for (size_t i = 0; i < t.len; i++)
        h[i] = (char)(t.ptr[i] >= 'A' && t.ptr[i] <= 'F' ? t.ptr[i] + 32 : t.ptr[i]);
    return lia_event_set(ev, f, h, t.len, err);
}

int lia_ioc_set(lia_event *ev, lia_slice tok, int strict, lia_buf *scratch, lia_error *err)
{
    lia_slice t = refang(tok, scratch);
    size_t colon = 0;
    int rc;
    switch (classify(t, &colon)) {
    case K_URL: return lia_event_set(ev, LIA_F_SOURCE_URL, t.ptr, t.len, err);
    case K_IP: return lia_event_set(ev, LIA_F_SOURCE_IP, t.ptr, t.len, err);
    case K_NET: return lia_event_set(ev, LIA_F_SOURCE_NETWORK, t.ptr, t.len, err);
    case K_IPPORT:
        if ((rc = lia_event_set(ev, LIA_F_SOURCE_IP, t.ptr, colon, err)))
            return rc;
        return lia_event_set(ev, LIA_F_SOURCE_PORT, t.ptr + colon + 1, t.len - colon - 1, err);
    case K_MD5: return set_lower(ev, LIA_F_MALWARE_HASH_MD5, t, err);
    case K_SHA1: return set_lower(ev, LIA_F_MALWARE_HASH_SHA1, t, err);
    case K_SHA256: return set_lower(ev, LIA_F_MALWARE_HASH_SHA256, t, err);
    case K_EMAIL: {
        const char *at = memchr(t.ptr, '@', t.len);
        char d[LIA_MAX_FQDN + 1];
        size_t dl;
        const char *why = NULL;
        if (at == t.ptr || lia_parse_fqdn(at + 1, t.len - (size_t)(at - t.ptr) - 1, d, sizeof d, &dl, &why))
            return lia_error_set(err, LIA_EINVAL, "source.account", t.ptr, t.len, "not an e-mail address: %s",
                                 why ? why : "empty local part");
        return lia_event_set(ev, LIA_F_SOURCE_ACCOUNT, t.ptr, t.len, err);
    }
    case K_FQDN: return lia_event_set(ev, LIA_F_SOURCE_FQDN, t.ptr, t.len, err);
    case K_BROKEN:
        return lia_error_set(err, LIA_EINVAL, NULL, t.ptr, t.len,
                             "looks like an address but is not a valid IP, IP:port or network");
    default:
        if (!strict)
            return LIA_ENOTFOUND;
        return lia_error_set(err, LIA_EINVAL, NULL, t.ptr, t.len,
                             "not a recognised indicator (IP, network, URL, domain, hash, e-mail)");
    }
}
