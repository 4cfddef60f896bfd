/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The HTML-table front-end of the declarative mapping (feeds/htmltable.h):
 * a page read by libxml2's HTML parser, one table of it selected, its rows
 * as records for the CSV mapping engine (csvmap.c). */
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/records.h"
#include "feeds/htmltable.h"
#include "liaison/limits.h"

struct lia_htmltable {
    char *id, *cls, *after;
    int index;
    int header;
    size_t ncols;
    char **names; /* NULL: by position */
    char **attrs;
    int *required;
    regex_t ignore;
    int has_ignore;
    char *name;
    lia_buf page; /* the page, until eof */
    lia_buf text; /* one cell's text */
    lia_buf raw;  /* the same before white space is collapsed */
    lia_buf row;  /* one record: the values, then the raw text */
    size_t *off, *len;
    lia_slice *fields;
    long *pos; /* per column, its cell (-1: absent) */
    int done;
};

static char *dup_or_null(const char *s, int *oom)
{
    char *d;
    if (!s)
        return NULL;
    if (!(d = strdup(s)))
        *oom = 1;
    return d;
}

void lia__htmltable_free(lia_htmltable *t)
{
    if (!t)
        return;
    free(t->id);
    free(t->cls);
    free(t->after);
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->names)
            free(t->names[i]);
        free(t->attrs[i]);
    }
    free(t->names);
    free(t->attrs);
    free(t->required);
    if (t->has_ignore)
        regfree(&t->ignore);
    free(t->name);
    lia_buf_free(&t->page);
    lia_buf_free(&t->text);
    lia_buf_free(&t->raw);
    lia_buf_free(&t->row);
    free(t->off);
    free(t->len);
    free(t->fields);
    free(t->pos);
    free(t);
}

int lia__htmltable_new(const lia_htmlsel *sel, int header, char *const *names, char *const *attrs,
                       const int *required, size_t ncols, const char *ignore, const char *name,
                       lia_htmltable **out, lia_error *err)
{
    lia_htmltable *t = calloc(1, sizeof *t);
    int oom = 0;
    if (!t)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_buf_init(&t->page, LIA_MAX_HTML_PAGE);
    lia_buf_init(&t->text, LIA_MAX_FIELD);
    lia_buf_init(&t->raw, LIA_MAX_ROW);
    lia_buf_init(&t->row, LIA_MAX_ROW);
    t->ncols = ncols;
    t->header = header || names;
    t->index = sel->index;
    t->id = dup_or_null(sel->id, &oom);
    t->cls = dup_or_null(sel->cls, &oom);
    t->after = dup_or_null(sel->after, &oom);
    t->name = dup_or_null(name ? name : "html", &oom);
    t->attrs = calloc(ncols + 1, sizeof *t->attrs);
    t->required = calloc(ncols + 1, sizeof *t->required);
    t->off = calloc(ncols + 1, sizeof *t->off);
    t->len = calloc(ncols + 1, sizeof *t->len);
    t->fields = calloc(ncols + 1, sizeof *t->fields);
    t->pos = calloc(ncols + 1, sizeof *t->pos);
    if (names && !(t->names = calloc(ncols + 1, sizeof *t->names)))
        oom = 1;
    if (oom || !t->attrs || !t->required || !t->off || !t->len || !t->fields || !t->pos) {
        lia__htmltable_free(t);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    for (size_t i = 0; i < ncols; i++) {
        if (names)
            t->names[i] = dup_or_null(names[i] ? names[i] : "", &oom);
        t->attrs[i] = dup_or_null(attrs ? attrs[i] : NULL, &oom);
        t->required[i] = required ? required[i] : 0;
        t->pos[i] = (long)i;
    }
    if (oom) {
        lia__htmltable_free(t);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    if (ignore) {
        char msg[128];
        int rc = regcomp(&t->ignore, ignore, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            regerror(rc, &t->ignore, msg, sizeof msg);
            lia__htmltable_free(t);
            return lia_error_set(err, LIA_EINVAL, "ignore", ignore, strlen(ignore),
                                 "mapping %s: bad ignore: %s", name, msg);
        }
        t->has_ignore = 1;
    }
    *out = t;
    return LIA_OK;
}

static int is_el(const xmlNode *n, const char *tag)
{
    return n && n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, tag) == 0;
}

/* The next node in document order (children first), or NULL. */
static xmlNode *next_node(xmlNode *n)
{
    if (n->type == XML_ELEMENT_NODE && n->children)
        return n->children;
    while (n && !n->next)
        n = n->parent;
    return n ? n->next : NULL;
}

/* Append text s with runs of white space (and no-break spaces) as one
 * space, no space at the start. */
static void collapse(lia_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int sp = 0;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' ||
               (p[0] == 0xC2 && p[1] == 0xA0)) {
            p += *p == 0xC2 ? 2 : 1;
            sp = 1;
        }
        if (!*p)
            break;
        if (sp && b->len)
            lia_buf_putc(b, ' ');
        lia_buf_putc(b, (char)*p++);
    }
}

/* The next node after n in document order inside top, or NULL. */
static xmlNode *next_in(xmlNode *n, const xmlNode *top)
{
    if (n->type == XML_ELEMENT_NODE && n->children)
        return n->children;
    while (n != top && !n->next)
        n = n->parent;
    return n == top ? NULL : n->next;
}

/* The next node after n inside top, not entering nested tables, scripts
 * and styles. */
static xmlNode *next_text(xmlNode *n, const xmlNode *top)
{
    if (n->type == XML_ELEMENT_NODE && n->children &&
        (n == top || (!is_el(n, "table") && !is_el(n, "script") && !is_el(n, "style"))))
        return n->children;
    while (n != top && !n->next)
        n = n->parent;
    return n == top ? NULL : n->next;
}

/* The text of cell n (its text nodes, not those of a table inside it; a
 * line break or a block element between words is a space), collapsed,
 * into t->text. */
static void node_text(lia_htmltable *t, xmlNode *n)
{
    lia_buf_reset(&t->raw);
    for (xmlNode *c = n; c; c = next_text(c, n)) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            lia_buf_puts(&t->raw, (const char *)c->content);
        else if (c != n && (is_el(c, "br") || is_el(c, "p") || is_el(c, "div") || is_el(c, "li")))
            lia_buf_putc(&t->raw, ' ');
    }
    lia_buf_reset(&t->text);
    collapse(&t->text, lia_buf_cstr(&t->raw));
    if (t->raw.err)
        t->text.err = t->raw.err;
}

/* The value of attribute name of the first element in cell (itself
 * included) that has it, collapsed, into t->text (empty if none). */
static void cell_attr(lia_htmltable *t, xmlNode *cell, const char *name)
{
    lia_buf_reset(&t->text);
    for (xmlNode *n = cell; n; n = next_in(n, cell)) {
        xmlChar *v;
        if (n->type != XML_ELEMENT_NODE || !(v = xmlGetProp(n, (const xmlChar *)name)))
            continue;
        collapse(&t->text, (const char *)v);
        xmlFree(v);
        return;
    }
}

static int has_class(xmlNode *n, const char *cls)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)"class");
    size_t cl = strlen(cls);
    int found = 0;
    for (const char *p = (const char *)v; p && *p && !found;) {
        size_t k;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')
            p++;
        k = strcspn(p, " \t\n\r\f");
        found = k == cl && k && memcmp(p, cls, k) == 0;
        p += k;
    }
    xmlFree(v);
    return found;
}

static int id_is(xmlNode *n, const char *id)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)"id");
    int eq = v && strcmp((const char *)v, id) == 0;
    xmlFree(v);
    return eq;
}

static xmlNode *next_row(xmlNode *tb, xmlNode **sec, xmlNode *r);
static size_t row_cells(xmlNode *r, xmlNode **cells, int *all_th);

/* With columns by header name: whether the first row of table tb has
 * every required name (a page's layout tables do not). */
static int has_header(lia_htmltable *t, xmlNode *tb)
{
    xmlNode *sec = NULL, *r = NULL, *cells[LIA_MAX_COLUMNS];
    size_t n = 0;
    int all_th;
    while ((r = next_row(tb, &sec, r)) && !(n = row_cells(r, cells, &all_th)))
        ;
    for (size_t k = 0; k < t->ncols; k++) {
        size_t i;
        if (!t->required[k])
            continue;
        for (i = 0; i < n; i++) {
            node_text(t, cells[i]);
            if (strlen(t->names[k]) == t->text.len &&
                strncasecmp(t->names[k], lia_buf_cstr(&t->text), t->text.len) == 0)
                break;
        }
        if (i == n)
            return 0;
    }
    return 1;
}

/* The selected table, and how many tables matched (for the message). */
static xmlNode *select_table(lia_htmltable *t, xmlNode *root, int *matched)
{
    int seen = !t->after;
    *matched = 0;
    for (xmlNode *n = root; n; n = next_node(n)) {
        if (!seen && n->type == XML_TEXT_NODE && n->content && strstr((const char *)n->content, t->after)) {
            seen = 1;
            continue;
        }
        if (!seen || !is_el(n, "table"))
            continue;
        if (t->id && !id_is(n, t->id))
            continue;
        if (t->cls && !has_class(n, t->cls))
            continue;
        if (t->names && !has_header(t, n))
            continue;
        if ((*matched)++ == t->index)
            return n;
    }
    return NULL;
}

/* The rows of table tb: its tr children and those of its thead, tbody and
 * tfoot (not those of tables inside it). it walks: *sec the section, *r the
 * row; returns the next row or NULL. */
static xmlNode *next_row(xmlNode *tb, xmlNode **sec, xmlNode *r)
{
    for (;;) {
        r = r ? r->next : (*sec ? (*sec)->children : tb->children);
        if (!r) {
            if (!*sec)
                return NULL;
            r = *sec; /* back out of the section */
            *sec = NULL;
            continue;
        }
        if (is_el(r, "tr"))
            return r;
        if (!*sec && (is_el(r, "thead") || is_el(r, "tbody") || is_el(r, "tfoot"))) {
            *sec = r;
            r = NULL;
        }
    }
}

/* The cells (td, th) of row r into cells; *all_th when every one is a th. */
static size_t row_cells(xmlNode *r, xmlNode **cells, int *all_th)
{
    size_t n = 0;
    *all_th = 1;
    for (xmlNode *c = r->children; c && n < LIA_MAX_COLUMNS; c = c->next) {
        if (is_el(c, "td"))
            *all_th = 0;
        else if (!is_el(c, "th"))
            continue;
        cells[n++] = c;
    }
    return n;
}

static int header_row(lia_htmltable *t, xmlNode **cells, size_t n, lia_error *err)
{
    for (size_t k = 0; k < t->ncols; k++) {
        t->pos[k] = -1;
        if (!t->names)
            continue;
        for (size_t i = 0; i < n; i++) {
            node_text(t, cells[i]);
            if (t->text.err)
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            if (strlen(t->names[k]) == t->text.len &&
                strncasecmp(t->names[k], lia_buf_cstr(&t->text), t->text.len) == 0) {
                t->pos[k] = (long)i;
                break;
            }
        }
        if (t->pos[k] < 0 && t->required[k])
            return lia_error_set(err, LIA_EPARSE, t->names[k], NULL, 0,
                                 "mapping %s: column %s is missing from the table's header", t->name,
                                 t->names[k]);
    }
    if (!t->names)
        for (size_t k = 0; k < t->ncols; k++)
            t->pos[k] = (long)k;
    return LIA_OK;
}

/* One data row: its values by mapping column, then the raw text (the
 * cells' texts separated by tabs). */
static int data_row(lia_htmltable *t, xmlNode *tr, xmlNode **cells, size_t n, lia_records *out)
{
    size_t raw0;
    uint64_t line = (uint64_t)xmlGetLineNo(tr);
    lia_buf_reset(&t->row);
    for (size_t k = 0; k < t->ncols; k++) {
        t->off[k] = t->row.len;
        t->len[k] = 0;
        if (t->pos[k] < 0 || (size_t)t->pos[k] >= n)
            continue;
        if (t->attrs[k])
            cell_attr(t, cells[t->pos[k]], t->attrs[k]);
        else
            node_text(t, cells[t->pos[k]]);
        if (t->text.err)
            return lia__records_add(out, line, LIA_SLICE_NULL, NULL, 0, LIA_ELIMIT, "cell too large", 1);
        lia_buf_append(&t->row, lia_buf_cstr(&t->text), t->text.len);
        t->len[k] = t->text.len;
    }
    raw0 = t->row.len;
    for (size_t i = 0; i < n; i++) {
        node_text(t, cells[i]);
        if (i)
            lia_buf_putc(&t->row, '\t');
        lia_buf_append(&t->row, lia_buf_cstr(&t->text), t->text.len);
    }
    lia_buf_putc(&t->row, '\0');
    if (t->row.err || t->text.err)
        return lia__records_add(out, line, LIA_SLICE_NULL, NULL, 0, LIA_ELIMIT, "row too large", 1);
    {
        lia_slice raw = {t->row.ptr + raw0, t->row.len - raw0 - 1};
        if (t->has_ignore && regexec(&t->ignore, t->row.ptr + raw0, 0, NULL, 0) == 0)
            return lia__records_add(out, line, raw, NULL, 0, 0, NULL, 1); /* no event: counted */
        for (size_t k = 0; k < t->ncols; k++)
            t->fields[k] = (lia_slice){t->row.ptr + t->off[k], t->len[k]};
        return lia__records_add(out, line, raw, t->fields, t->ncols, 0, NULL, 1);
    }
}

static int read_page(lia_htmltable *t, lia_records *out, lia_error *err)
{
    htmlParserCtxtPtr px;
    htmlDocPtr doc;
    xmlNode *tb, *sec = NULL, *r = NULL;
    int matched, xml_oom, rc = LIA_OK, have_header = !t->header;
    if (t->page.len == 0)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "the report is empty: no HTML table");
    /* a parser context of our own: after an allocation failure libxml2 may
     * return a partial tree, which only the context's errNo tells */
    if (!(px = htmlNewParserCtxt()))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    doc = htmlCtxtReadMemory(px, t->page.ptr, (int)t->page.len, NULL, NULL,
                             HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
    xml_oom = px->errNo == XML_ERR_NO_MEMORY || (!doc && px->errNo == XML_ERR_OK);
    htmlFreeParserCtxt(px);
    if (xml_oom) {
        xmlFreeDoc(doc);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory reading the HTML page");
    }
    if (!doc || !xmlDocGetRootElement(doc)) {
        xmlFreeDoc(doc);
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "not an HTML page");
    }
    tb = select_table(t, xmlDocGetRootElement(doc), &matched);
    if (!tb) {
        rc = lia_error_set(
            err, LIA_EPARSE, NULL, NULL, 0,
            "mapping %s: the page has no table the mapping selects (table number %d%s%s%s%s%s%s%s%s;"
            " %d table%s match)",
            t->name, t->index + 1, t->id ? " with id " : "", t->id ? t->id : "", t->cls ? " with class " : "",
            t->cls ? t->cls : "", t->after ? " after \"" : "", t->after ? t->after : "", t->after ? "\"" : "",
            t->names ? " whose first row has the required column names" : "", matched,
            matched == 1 ? "" : "s");
        goto out;
    }
    while (rc == LIA_OK && (r = next_row(tb, &sec, r))) {
        xmlNode *cells[LIA_MAX_COLUMNS];
        int all_th;
        size_t n = row_cells(r, cells, &all_th);
        if (n == 0)
            continue;
        if (!have_header) {
            have_header = 1;
            rc = header_row(t, cells, n, err);
            continue;
        }
        if (all_th)
            continue; /* a table head: no data */
        if (data_row(t, r, cells, n, out))
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    if (rc == LIA_OK && !have_header)
        rc =
            lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "mapping %s: the table has no header row", t->name);
out:
    xmlFreeDoc(doc);
    return rc;
}

int lia__htmltable_parse(lia_htmltable *t, const char *buf, size_t len, int eof, lia_records *out,
                         lia_error *err)
{
    if (t->done)
        return LIA_OK;
    if (len && lia_buf_append(&t->page, buf, len))
        return lia_error_set(err, t->page.err == LIA_ENOMEM ? LIA_ENOMEM : LIA_ELIMIT, NULL, NULL, 0,
                             "HTML page larger than %u bytes (a table mapping reads the page whole)",
                             (unsigned)LIA_MAX_HTML_PAGE);
    if (!eof)
        return LIA_OK;
    t->done = 1;
    {
        int rc = read_page(t, out, err);
        lia_buf_free(&t->page);
        return rc;
    }
}
