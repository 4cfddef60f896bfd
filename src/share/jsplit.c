/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The JSON splitter of the document formats (see jsplit.h). */
#include <stdlib.h>

#include "liaison/limits.h"
#include "share/jsplit.h"

const char *lia__json_skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

const char *lia__json_skip_value(const char *p, const char *e)
{
    char stack[LIA_MAX_SPLIT_DEPTH];
    size_t depth = 0;
    if (p >= e)
        return NULL;
    if (*p != '{' && *p != '[' && *p != '"') { /* number, true, false, null */
        while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' &&
               *p != '\r')
            p++;
        return p;
    }
    for (; p < e; p++) {
        char c = *p;
        if (c == '"') {
            for (p++; p < e && *p != '"'; p++)
                if (*p == '\\')
                    p++;
            if (p >= e)
                return NULL;
            if (!depth)
                return p + 1;
        } else if (c == '{' || c == '[') {
            if (depth == sizeof stack)
                return NULL;
            stack[depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (!depth || stack[depth - 1] != c)
                return NULL;
            if (--depth == 0)
                return p + 1;
        }
    }
    return NULL;
}

static int push(lia__spans *sp, size_t off, size_t len)
{
    if (sp->n == sp->cap) {
        size_t nc = sp->cap ? sp->cap * 2 : 1024;
        lia__span *nv = realloc(sp->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        sp->v = nv;
        sp->cap = nc;
    }
    sp->v[sp->n++] = (lia__span){off, len};
    return 0;
}

const char *lia__json_split_array(const char *base, const char *p, const char *e, lia__spans *sp, size_t max,
                                  int *oom)
{
    size_t n = 0;
    if (p >= e || *p != '[')
        return NULL;
    p = lia__json_skip_ws(p + 1, e);
    if (p < e && *p == ']')
        return p + 1;
    for (;;) {
        const char *v = lia__json_skip_value(p, e);
        if (!v || v == p || n++ == max)
            return NULL;
        if (push(sp, (size_t)(p - base), (size_t)(v - p))) {
            *oom = 1;
            return NULL;
        }
        p = lia__json_skip_ws(v, e);
        if (p < e && *p == ']')
            return p + 1;
        if (p >= e || *p != ',')
            return NULL;
        p = lia__json_skip_ws(p + 1, e);
    }
}
