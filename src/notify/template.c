/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The digest template syntax: {{name}}, {{#section}} ... {{/section}} (one
 * level), everything else copied as is. Names are [a-z0-9_.]+ (1..64). */
#include <stdint.h>
#include <string.h>

#include "liaison/limits.h"
#include "liaison/notify.h"
#include "notify/internal.h"

static uint64_t line_at(const char *t, const char *p)
{
    uint64_t l = 1;
    for (; t < p; t++)
        l += *t == '\n';
    return l;
}

static int terr(lia_error *err, const char *t, const char *p, const char *name, size_t nl, const char *why)
{
    lia_error_set(err, LIA_EPARSE, NULL, name, nl, "%s", why);
    if (err)
        err->line = line_at(t, p);
    return LIA_EPARSE;
}

/* Tag at p ("{{" already seen): kind '#', '/' or 0, name; end after "}}". */
static int tag(const char *t, const char *p, const char *e, int *kind, const char **name, size_t *nl,
               const char **end, lia_error *err)
{
    const char *q = p + 2;
    *kind = 0;
    if (q < e && (*q == '#' || *q == '/'))
        *kind = *q++;
    *name = q;
    while (q < e && ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_' || *q == '.'))
        q++;
    *nl = (size_t)(q - *name);
    if (*nl == 0 || *nl > 64 || e - q < 2 || q[0] != '}' || q[1] != '}')
        return terr(err, t, p, p, (size_t)(e - p) < 24 ? (size_t)(e - p) : 24,
                    "malformed tag: expected {{name}}, {{#name}} or {{/name}} (names: a-z 0-9 _ .)");
    *end = q + 2;
    return LIA_OK;
}

static int emit(const char *t, const char *p, const char *e, const lia_tmpl_vars *v, size_t item,
                const char *sec, size_t secl, lia_buf *out, const char **stop, lia_error *err)
{
    while (p < e) {
        const char *o = p;
        const char *name, *end;
        size_t nl;
        int kind, rc;
        while (p + 1 < e && !(p[0] == '{' && p[1] == '{'))
            p++;
        if (p + 1 >= e) {
            lia_buf_append(out, o, (size_t)(e - o));
            break;
        }
        lia_buf_append(out, o, (size_t)(p - o));
        if ((rc = tag(t, p, e, &kind, &name, &nl, &end, err)))
            return rc;
        if (kind == '/') {
            if (!sec || nl != secl || memcmp(name, sec, nl) != 0)
                return terr(err, t, p, name, nl, "closing tag without a matching {{#section}}");
            *stop = end;
            return LIA_OK;
        }
        if (kind == '#') {
            size_t cnt;
            const char *after = NULL;
            lia_buf scratch;
            if (sec)
                return terr(err, t, p, name, nl, "sections do not nest");
            cnt = v->count(v->ud, name, nl);
            if (cnt == SIZE_MAX)
                return terr(err, t, p, name, nl, "unknown section");
            /* check the body once even if there are no items */
            lia_buf_init(&scratch, LIA_MAX_MESSAGE);
            rc = emit(t, end, e, v, cnt ? 0 : SIZE_MAX - 1, name, nl, &scratch, &after, err);
            lia_buf_free(&scratch);
            if (rc)
                return rc;
            if (!after)
                return terr(err, t, p, name, nl, "section not closed");
            for (size_t i = 0; i < cnt; i++) {
                const char *a2 = NULL;
                if ((rc = emit(t, end, e, v, i, name, nl, out, &a2, err)))
                    return rc;
                if (out->err)
                    return lia_error_set(err, out->err, NULL, NULL, 0, "rendered text too large");
            }
            p = after;
            continue;
        }
        {
            const char *val = v->get(v->ud, name, nl, sec ? item : SIZE_MAX);
            if (!val)
                return terr(err, t, p, name, nl, sec ? "unknown name in this section" : "unknown name");
            lia_buf_puts(out, val);
        }
        if (out->err)
            return lia_error_set(err, out->err, NULL, NULL, 0, "rendered text too large");
        p = end;
    }
    if (sec)
        return terr(err, t, e, sec, secl, "section not closed");
    return out->err ? lia_error_set(err, out->err, NULL, NULL, 0, "rendered text too large") : LIA_OK;
}

int lia__tmpl_render(const char *t, size_t n, const lia_tmpl_vars *v, lia_buf *out, lia_error *err)
{
    const char *stop = NULL;
    if (n > LIA_MAX_TEMPLATE)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "template larger than %u bytes",
                             (unsigned)LIA_MAX_TEMPLATE);
    lia_buf_append(out, "", 0);
    return emit(t, t, t + n, v, SIZE_MAX, NULL, 0, out, &stop, err);
}
