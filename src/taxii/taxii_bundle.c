/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The objects of a STIX bundle's text, found without parsing the bundle:
 * a lexical walk that knows strings, nesting and the top-level members.
 * Each object's text is then used as it is (stored, or sent in an
 * envelope), so an exported object is serialised once. Pure. */
#include <stdio.h>
#include <string.h>

#include "taxii/taxii_internal.h"

static size_t skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* End of the string starting at p[i] == '"' (index after the closing
 * quote), 0 if unterminated. */
static size_t string_end(const char *p, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return 0;
}

/* End of the JSON value starting at p[i], 0 if it does not end in p[0..n). */
static size_t value_end(const char *p, size_t n, size_t i)
{
    size_t depth = 0;
    if (i >= n)
        return 0;
    if (p[i] == '"')
        return string_end(p, n, i);
    if (p[i] != '{' && p[i] != '[') { /* number or literal */
        while (i < n && !strchr(",]} \t\r\n", p[i]))
            i++;
        return i;
    }
    for (; i < n; i++) {
        if (p[i] == '"') {
            size_t e = string_end(p, n, i);
            if (!e)
                return 0;
            i = e - 1;
        } else if (p[i] == '{' || p[i] == '[') {
            depth++;
        } else if ((p[i] == '}' || p[i] == ']') && --depth == 0) {
            return i + 1;
        }
    }
    return 0;
}

static int bad(lia_error *err, const char *why)
{
    return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "STIX bundle: %s", why);
}

/* The elements of the array at p[i] == '['. */
static int walk_array(const char *p, size_t n, size_t i, lia__stix_object_cb cb, void *ud, size_t *count,
                      lia_error *err)
{
    int rc;
    i = skip_ws(p, n, i + 1);
    if (i < n && p[i] == ']')
        return LIA_OK;
    for (;;) {
        size_t e = value_end(p, n, i);
        if (!e || p[i] != '{')
            return bad(err, "an element of objects is not a JSON object");
        if (cb && (rc = cb(ud, p + i, e - i)))
            return rc;
        (*count)++;
        i = skip_ws(p, n, e);
        if (i < n && p[i] == ']')
            return LIA_OK;
        if (i >= n || p[i] != ',')
            return bad(err, "objects is not a well-formed array");
        i = skip_ws(p, n, i + 1);
    }
}

int lia__stix_bundle_walk(const char *b, size_t n, lia__stix_object_cb cb, void *ud, lia_slice *objects,
                          size_t *count, char *id, size_t idn, lia_error *err)
{
    size_t i = skip_ws(b, n, 0), k = 0;
    int rc, seen = 0;
    if (id && idn)
        id[0] = '\0';
    if (i >= n || b[i] != '{')
        return bad(err, "not a JSON object");
    i = skip_ws(b, n, i + 1);
    while (i < n && b[i] != '}') {
        size_t ke = b[i] == '"' ? string_end(b, n, i) : 0, vs, ve;
        if (!ke)
            return bad(err, "a member without a name");
        vs = skip_ws(b, n, ke);
        if (vs >= n || b[vs] != ':')
            return bad(err, "a member without a value");
        vs = skip_ws(b, n, vs + 1);
        if (!(ve = value_end(b, n, vs)))
            return bad(err, "a value does not end");
        if (ke - i == 9 && memcmp(b + i, "\"objects\"", 9) == 0) {
            if (b[vs] != '[')
                return bad(err, "objects is not an array");
            if ((rc = walk_array(b, n, vs, cb, ud, &k, err)))
                return rc;
            if (objects)
                *objects = (lia_slice){b + vs, ve - vs};
            seen = 1;
        } else if (ke - i == 4 && memcmp(b + i, "\"id\"", 4) == 0 && b[vs] == '"' && id && idn) {
            snprintf(id, idn, "%.*s", (int)(ve - vs - 2), b + vs + 1);
        }
        i = skip_ws(b, n, ve);
        if (i < n && b[i] == ',')
            i = skip_ws(b, n, i + 1);
    }
    if (!seen)
        return bad(err, "no objects array");
    if (count)
        *count = k;
    return LIA_OK;
}
