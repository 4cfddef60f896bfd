/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* A strict YAML subset reader and scalar writer (see yaml.h). */
#include <stdlib.h>
#include <string.h>

#include "liaison/field.h"
#include "liaison/limits.h"
#include "route/yaml.h"
#include "core/field_internal.h"

typedef struct line {
    uint32_t no; /* 1-based */
    size_t indent;
    const char *p; /* content after indent, comment stripped */
    size_t n;
} line;

typedef struct yp {
    line *l;
    size_t nl, i;
    size_t nodes;
    lia_error *err;
} yp;

static int yerr(yp *y, uint32_t no, const char *what)
{
    lia_error_set(y->err, LIA_EPARSE, NULL, NULL, 0, "%s", what);
    if (y->err)
        y->err->line = no;
    return LIA_EPARSE;
}

void lia__yaml_free(lia_ynode *n)
{
    while (n) {
        lia_ynode *next = n->next;
        lia__yaml_free(n->first);
        free(n->key);
        free(n->str);
        free(n);
        n = next;
    }
}

static lia_ynode *node(yp *y, int type, uint32_t no)
{
    lia_ynode *n;
    if (++y->nodes > LIA_MAX_YAML_NODES) {
        lia_error_set(y->err, LIA_ELIMIT, NULL, NULL, 0, "more than %u YAML nodes",
                      (unsigned)LIA_MAX_YAML_NODES);
        if (y->err)
            y->err->line = no;
        return NULL;
    }
    n = calloc(1, sizeof *n);
    if (!n) {
        lia_error_set(y->err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        return NULL;
    }
    n->type = type;
    n->line = no;
    return n;
}

static void append(lia_ynode *parent, lia_ynode *c)
{
    if (parent->last)
        parent->last->next = c;
    else
        parent->first = c;
    parent->last = c;
}

const lia_ynode *lia__yaml_get(const lia_ynode *map, const char *key)
{
    if (!map || map->type != LIA_Y_MAP)
        return NULL;
    for (const lia_ynode *c = map->first; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

/* Parse one scalar at s[*pos..n). in_flow: stop plain scalars at , and ].
 * Creates a SCALAR node. */
static int scalar(yp *y, uint32_t no, const char *s, size_t n, size_t *pos, int in_flow, lia_ynode **out)
{
    lia_buf b;
    size_t i = *pos;
    lia_ynode *nd;
    int rc = LIA_OK;
    lia_buf_init(&b, LIA_MAX_STRING);
    lia_buf_append(&b, "", 0);
    if (i < n && s[i] == '"') {
        for (i++;; i++) {
            if (i >= n) {
                rc = yerr(y, no, "unterminated double-quoted string");
                goto out;
            }
            if (s[i] == '"')
                break;
            if (s[i] == '\\') {
                if (++i >= n) {
                    rc = yerr(y, no, "unterminated escape");
                    goto out;
                }
                switch (s[i]) {
                case '"': lia_buf_putc(&b, '"'); break;
                case '\\': lia_buf_putc(&b, '\\'); break;
                case '/': lia_buf_putc(&b, '/'); break;
                case 'n': lia_buf_putc(&b, '\n'); break;
                case 't': lia_buf_putc(&b, '\t'); break;
                case 'r': lia_buf_putc(&b, '\r'); break;
                case 'b': lia_buf_putc(&b, '\b'); break;
                case 'f': lia_buf_putc(&b, '\f'); break;
                case 'u': {
                    uint32_t cp = 0;
                    if (i + 4 >= n) {
                        rc = yerr(y, no, "short \\u escape");
                        goto out;
                    }
                    for (int k = 1; k <= 4; k++) {
                        int h = lia_hexval((unsigned char)s[i + (size_t)k]);
                        if (h < 0) {
                            rc = yerr(y, no, "bad \\u escape");
                            goto out;
                        }
                        cp = cp * 16 + (uint32_t)h;
                    }
                    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
                        rc = yerr(y, no, "\\u escape of NUL or a surrogate");
                        goto out;
                    }
                    lia_buf_utf8(&b, cp);
                    i += 4;
                    break;
                }
                default: rc = yerr(y, no, "unknown escape in double-quoted string"); goto out;
                }
                continue;
            }
            lia_buf_putc(&b, s[i]);
        }
        i++;
    } else if (i < n && s[i] == '\'') {
        for (i++;; i++) {
            if (i >= n) {
                rc = yerr(y, no, "unterminated single-quoted string");
                goto out;
            }
            if (s[i] == '\'') {
                if (i + 1 < n && s[i + 1] == '\'') {
                    lia_buf_putc(&b, '\'');
                    i++;
                    continue;
                }
                break;
            }
            lia_buf_putc(&b, s[i]);
        }
        i++;
    } else {
        size_t st = i, end;
        if (i < n && strchr("[]{}&*!|>%@`\"'", s[i])) {
            rc = yerr(y, no, "unsupported YAML construct (anchor, tag, block scalar or nested collection)");
            goto out;
        }
        if (i < n && s[i] == '-' && (i + 1 == n || s[i + 1] == ' ')) {
            rc = yerr(y, no, "a list item is not expected here");
            goto out;
        }
        while (i < n &&
               !(in_flow && (s[i] == ',' || s[i] == ']' || s[i] == '[' || s[i] == '{' || s[i] == '}')))
            i++;
        end = i;
        while (end > st && (s[end - 1] == ' ' || s[end - 1] == '\t'))
            end--;
        lia_buf_append(&b, s + st, end - st);
    }
    if (b.err) {
        rc = lia_error_set(y->err, b.err, NULL, NULL, 0, "scalar too long");
        if (y->err)
            y->err->line = no;
        goto out;
    }
    if (!lia__utf8_valid(b.ptr, b.len) || memchr(b.ptr, 0, b.len)) {
        rc = yerr(y, no, "scalar is not valid UTF-8 text");
        goto out;
    }
    if (!(nd = node(y, LIA_Y_SCALAR, no))) {
        rc = y->err ? y->err->code : LIA_ENOMEM;
        goto out;
    }
    nd->str = b.ptr;
    nd->len = b.len;
    b.ptr = NULL;
    *out = nd;
    *pos = i;
out:
    lia_buf_free(&b);
    return rc;
}

static size_t skip_sp(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

/* A value on one line: flow list or scalar; nothing may follow. */
static int inline_value(yp *y, uint32_t no, const char *s, size_t n, lia_ynode **out)
{
    size_t i = skip_sp(s, n, 0);
    int rc;
    if (i < n && s[i] == '[') {
        lia_ynode *list = node(y, LIA_Y_LIST, no);
        if (!list)
            return y->err ? y->err->code : LIA_ENOMEM;
        i = skip_sp(s, n, i + 1);
        if (i < n && s[i] == ']') {
            i++;
        } else {
            for (;;) {
                lia_ynode *it;
                i = skip_sp(s, n, i);
                if ((rc = scalar(y, no, s, n, &i, 1, &it))) {
                    lia__yaml_free(list);
                    return rc;
                }
                append(list, it);
                i = skip_sp(s, n, i);
                if (i < n && s[i] == ',') {
                    i++;
                    continue;
                }
                if (i < n && s[i] == ']') {
                    i++;
                    break;
                }
                lia__yaml_free(list);
                return yerr(y, no, "flow list: expected ',' or ']'");
            }
        }
        if (skip_sp(s, n, i) != n) {
            lia__yaml_free(list);
            return yerr(y, no, "unexpected text after ']'");
        }
        *out = list;
        return LIA_OK;
    }
    if ((rc = scalar(y, no, s, n, &i, 0, out)))
        return rc;
    if (skip_sp(s, n, i) != n) {
        lia__yaml_free(*out);
        *out = NULL;
        return yerr(y, no, "unexpected text after a quoted string");
    }
    return LIA_OK;
}

/* "key: rest" -> key length and rest offset; 0 if the line is not a pair. */
static int split_key(const char *s, size_t n, size_t *klen, size_t *rest)
{
    size_t i = 0;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                     (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i == 0 || i >= n || s[i] != ':')
        return 0;
    if (i + 1 < n && s[i + 1] != ' ' && s[i + 1] != '\t')
        return 0;
    *klen = i;
    *rest = i + 1;
    return 1;
}

static int is_item(const line *l)
{
    return l->n >= 1 && l->p[0] == '-' && (l->n == 1 || l->p[1] == ' ');
}

static int block_list(yp *y, size_t indent, lia_ynode **out);

/* Value of "key:" with text rest (possibly empty => block list below). */
static int pair_value(yp *y, const line *l, size_t key_indent, const char *rest, size_t rn, int allow_maps,
                      lia_ynode **out)
{
    if (skip_sp(rest, rn, 0) == rn) {
        /* block list below: indented more, or at the key's own indent */
        if (y->i < y->nl && is_item(&y->l[y->i]) && y->l[y->i].indent >= key_indent &&
            (y->l[y->i].indent > key_indent || 1))
            return block_list(y, y->l[y->i].indent, out);
        if (y->i < y->nl && y->l[y->i].indent > key_indent)
            return yerr(y, y->l[y->i].no, "nested mappings are not supported; expected a '- ' list");
        return yerr(y, l->no, "empty value (write \"\" for an empty string)");
    }
    (void)allow_maps;
    return inline_value(y, l->no, rest, rn, out);
}

static int add_member(yp *y, lia_ynode *map, char *key, lia_ynode *v, uint32_t no)
{
    for (lia_ynode *c = map->first; c; c = c->next)
        if (strcmp(c->key, key) == 0) {
            free(key);
            lia__yaml_free(v);
            return yerr(y, no, "duplicate key");
        }
    v->key = key;
    v->line = no; /* a member's line is its key's */
    append(map, v);
    return LIA_OK;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Mapping inside a list item: first pair on the item line at column
 * `indent`, further pairs on lines with exactly that indent. */
static int item_map(yp *y, const line *first, size_t indent, const char *s, size_t n, lia_ynode **out)
{
    lia_ynode *map = node(y, LIA_Y_MAP, first->no);
    const line *l = first;
    int rc;
    if (!map)
        return y->err ? y->err->code : LIA_ENOMEM;
    for (;;) {
        size_t klen, rest;
        lia_ynode *v = NULL;
        char *key;
        if (!split_key(s, n, &klen, &rest)) {
            rc = yerr(y, l->no, "expected 'key: value'");
            goto fail;
        }
        if (!(key = dupn(s, klen))) {
            rc = lia_error_set(y->err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto fail;
        }
        if ((rc = pair_value(y, l, indent, s + rest, n - rest, 0, &v))) {
            free(key);
            goto fail;
        }
        if (v->type == LIA_Y_LIST) {
            for (lia_ynode *c = v->first; c; c = c->next)
                if (c->type != LIA_Y_SCALAR) {
                    uint32_t bad_line = c->line; /* c is freed with v */
                    free(key);
                    lia__yaml_free(v);
                    rc = yerr(y, bad_line, "only lists of scalars are supported at this depth");
                    goto fail;
                }
        }
        if ((rc = add_member(y, map, key, v, l->no)))
            goto fail;
        if (y->i >= y->nl || y->l[y->i].indent != indent || is_item(&y->l[y->i]))
            break;
        l = &y->l[y->i++];
        s = l->p;
        n = l->n;
    }
    if (y->i < y->nl && y->l[y->i].indent > indent)
        return lia__yaml_free(map), yerr(y, y->l[y->i].no, "unexpected indentation");
    *out = map;
    return LIA_OK;
fail:
    lia__yaml_free(map);
    return rc;
}

static int block_list(yp *y, size_t indent, lia_ynode **out)
{
    lia_ynode *list = node(y, LIA_Y_LIST, y->l[y->i].no);
    int rc;
    if (!list)
        return y->err ? y->err->code : LIA_ENOMEM;
    while (y->i < y->nl && y->l[y->i].indent == indent && is_item(&y->l[y->i])) {
        const line *l = &y->l[y->i++];
        size_t off = skip_sp(l->p, l->n, 1), klen, rest;
        lia_ynode *it = NULL;
        if (off >= l->n) {
            rc = yerr(y, l->no, "empty list item (write the value on the '- ' line)");
            goto fail;
        }
        if (split_key(l->p + off, l->n - off, &klen, &rest))
            rc = item_map(y, l, indent + off, l->p + off, l->n - off, &it);
        else
            rc = inline_value(y, l->no, l->p + off, l->n - off, &it);
        if (rc)
            goto fail;
        append(list, it);
    }
    if (y->i < y->nl && y->l[y->i].indent > indent) {
        rc = yerr(y, y->l[y->i].no, "unexpected indentation");
        goto fail;
    }
    *out = list;
    return LIA_OK;
fail:
    lia__yaml_free(list);
    return rc;
}

/* Split into lines, measure indent, strip comments and trailing blanks. */
static int split_lines(yp *y, const char *buf, size_t len)
{
    size_t cap = 0, pos = 0;
    uint32_t no = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos, ind = 0, i;
        int q = 0;
        pos += n + (nl ? 1 : 0);
        no++;
        if (n && s[n - 1] == '\r')
            n--;
        if (memchr(s, 0, n))
            return yerr(y, no, "NUL byte");
        while (ind < n && s[ind] == ' ')
            ind++;
        if (ind < n && s[ind] == '\t')
            return yerr(y, no, "tab used for indentation");
        /* strip a comment outside quotes */
        for (i = ind; i < n; i++) {
            if (q == '"') {
                if (s[i] == '\\' && i + 1 < n)
                    i++;
                else if (s[i] == '"')
                    q = 0;
            } else if (q == '\'') {
                if (s[i] == '\'')
                    q = 0;
            } else if (s[i] == '"' || s[i] == '\'') {
                if (i == ind || strchr(" \t[,:-", s[i - 1]))
                    q = s[i];
            } else if (s[i] == '#' && (i == ind || s[i - 1] == ' ' || s[i - 1] == '\t')) {
                break;
            }
        }
        n = i;
        while (n > ind && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n == ind)
            continue;
        if (n - ind == 3 && memcmp(s + ind, "---", 3) == 0 && ind == 0) {
            if (y->nl)
                return yerr(y, no, "only one YAML document is supported");
            continue;
        }
        if (n - ind >= 3 && memcmp(s + ind, "...", 3) == 0 && ind == 0)
            return yerr(y, no, "document end markers are not supported");
        if (y->nl == cap) {
            size_t nc = cap ? cap * 2 : 64;
            line *nlp = realloc(y->l, nc * sizeof *nlp);
            if (!nlp)
                return lia_error_set(y->err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            y->l = nlp;
            cap = nc;
        }
        y->l[y->nl++] = (line){no, ind, s + ind, n - ind};
    }
    return LIA_OK;
}

int lia__yaml_parse(const char *buf, size_t len, lia_ynode **out, lia_error *err)
{
    yp y;
    lia_ynode *root = NULL;
    int rc;
    memset(&y, 0, sizeof y);
    y.err = err;
    if (len > LIA_MAX_CONFIG_FILE)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "file larger than %u bytes",
                             (unsigned)LIA_MAX_CONFIG_FILE);
    if ((rc = split_lines(&y, buf, len)))
        goto out;
    if (!(root = node(&y, LIA_Y_MAP, 1))) {
        rc = err ? err->code : LIA_ENOMEM;
        goto out;
    }
    while (y.i < y.nl) {
        const line *l = &y.l[y.i++];
        size_t klen, rest;
        lia_ynode *v = NULL;
        char *key;
        if (l->indent != 0) {
            rc = yerr(&y, l->no, "unexpected indentation at top level");
            goto out;
        }
        if (!split_key(l->p, l->n, &klen, &rest)) {
            rc = yerr(&y, l->no, "expected 'key: value' at top level");
            goto out;
        }
        if (!(key = dupn(l->p, klen))) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto out;
        }
        if ((rc = pair_value(&y, l, 0, l->p + rest, l->n - rest, 1, &v))) {
            free(key);
            goto out;
        }
        if ((rc = add_member(&y, root, key, v, l->no)))
            goto out;
    }
    *out = root;
    root = NULL;
out:
    lia__yaml_free(root);
    free(y.l);
    return rc;
}

int lia__yaml_scalar(lia_buf *b, const char *s, size_t n)
{
    int plain = n > 0, bv;
    for (size_t i = 0; i < n && plain; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '/' || c == '@' || c == '+' || c == '-'))
            plain = 0;
    }
    if (plain && (s[0] == '-' || s[0] == '.' || s[0] == '@')) /* '@' is reserved at the start */
        plain = 0;
    /* a word another YAML reader (or ours, as a setting) takes as a boolean
     * or null is quoted, in any case; plain digits stay numbers */
    if (plain && ((lia_parse_bool(s, n, &bv, NULL) == LIA_OK && !(n == 1 && (*s == '0' || *s == '1'))) ||
                  lia_slice_ieq((lia_slice){s, n}, "null")))
        plain = 0;
    if (plain)
        return lia_buf_append(b, s, n);
    /* JSON string escaping is valid YAML double-quoted text */
    return lia_buf_json_str(b, s, n);
}
