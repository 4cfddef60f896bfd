/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Result codes, the error detail struct, escaping. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/reason.h"
#include "liaison/error.h"

const char *lia_strerror(int code)
{
    switch (code) {
    case LIA_OK: return "success";
    case LIA_ENOMEM: return "out of memory";
    case LIA_EINVAL: return "invalid value";
    case LIA_EIO: return "input/output error";
    case LIA_ELIMIT: return "limit exceeded";
    case LIA_ESTORE: return "store error";
    case LIA_ENOTFOUND: return "not found";
    case LIA_EPARSE: return "malformed input";
    case LIA_EEXIST: return "already exists";
    case LIA_ESCHEMA: return "store schema is newer than this program";
    case LIA_EUNSUPPORTED: return "not supported";
    case LIA_EINTR: return "interrupted";
    case LIA_EAUTH: return "not authorised";
    case LIA_ENET: return "network error";
    case LIA_ECRYPTO: return "cryptographic operation failed";
    case LIA_EBUSY: return "store is locked by another process";
    case LIA_EREADONLY: return "store is read-only";
    case LIA_EFULL: return "no space left for the store";
    case LIA_ESTATE: return "not allowed in the current state";
    default: return "unknown error";
    }
}

void lia_error_clear(lia_error *e)
{
    if (!e)
        return;
    e->code = LIA_OK;
    e->field[0] = e->value[0] = e->reason[0] = e->source[0] = '\0';
    e->line = 0;
}

size_t lia_escape(const char *s, size_t len, char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[4];
        size_t k = 0;
        if (c == '\\' || c == '"') {
            tmp[k++] = '\\';
            tmp[k++] = (char)c;
        } else if (c == '\n') {
            tmp[k++] = '\\';
            tmp[k++] = 'n';
        } else if (c == '\r') {
            tmp[k++] = '\\';
            tmp[k++] = 'r';
        } else if (c == '\t') {
            tmp[k++] = '\\';
            tmp[k++] = 't';
        } else if (c < 0x20 || c >= 0x7f) {
            tmp[k++] = '\\';
            tmp[k++] = 'x';
            tmp[k++] = hex[c >> 4];
            tmp[k++] = hex[c & 15];
        } else {
            tmp[k++] = (char)c;
        }
        if (o + k + 4 > n) { /* keep room for "..." and NUL */
            if (o + 4 <= n) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(out + o, tmp, k);
        o += k;
    }
    out[o] = '\0';
    return o;
}

int lia_error_set(lia_error *e, int code, const char *field, const char *value, size_t vlen,
                  const char *fmt, ...)
{
    va_list ap;
    if (!e)
        return code;
    e->code = code;
    e->field[0] = '\0';
    if (field)
        snprintf(e->field, sizeof e->field, "%s", field);
    e->value[0] = '\0';
    if (value)
        lia_escape(value, vlen, e->value, sizeof e->value);
    e->reason[0] = '\0';
    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(e->reason, sizeof e->reason, fmt, ap);
        va_end(ap);
    }
    return code;
}

void lia_error_where(lia_error *e, const char *source, uint64_t line)
{
    if (!e)
        return;
    if (source && !e->source[0])
        snprintf(e->source, sizeof e->source, "%s", source);
    if (line && !e->line)
        e->line = line;
}

size_t lia_error_format(const lia_error *e, char *out, size_t n)
{
    size_t o = 0;
    int w;
    if (n == 0)
        return 0;
    out[0] = '\0';
#define PUT(...)                                                   \
    do {                                                           \
        w = snprintf(out + o, n - o, __VA_ARGS__);                 \
        if (w < 0)                                                 \
            return o;                                              \
        o += (size_t)w < n - o ? (size_t)w : n - o - 1;            \
    } while (0)
    if (e->source[0] && e->line)
        PUT("%s:%llu: ", e->source, (unsigned long long)e->line);
    else if (e->source[0])
        PUT("%s: ", e->source);
    else if (e->line)
        PUT("line %llu: ", (unsigned long long)e->line);
    if (e->field[0])
        PUT("%s: ", e->field);
    if (e->value[0])
        PUT("\"%s\": ", e->value);
    PUT("%s", e->reason[0] ? e->reason : lia_strerror(e->code));
#undef PUT
    return o;
}

void lia__error_reword(lia_error *e, const char *fmt, ...)
{
    char buf[LIA_ERR_REASON_MAX];
    va_list ap;
    int n;
    if (!e)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap); /* into a copy: e->reason may be an argument */
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        memcpy(buf + sizeof buf - 4, "...", 4);
    memcpy(e->reason, buf, sizeof buf);
}
