/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The record front-ends of the declarative mapping (feeds/maprec.h): a
 * report of lines matched by a pattern, or of JSON objects read by paths,
 * becomes records of fields by column index, which the CSV mapping engine
 * (csvmap.c) then maps as it maps CSV columns. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lines.h"
#include "feeds/maprec.h"
#include "feeds/objrec.h"
#include "liaison/limits.h"
#include "core/records.h"

#define MAX_GROUPS     32
#define MAX_PATH_DEPTH 4

struct lia_maprec {
    int kind;        /* LIA_REC_LINES or LIA_REC_JSON */
    regex_t pattern; /* lines: groups 1.. are columns 0.. */
    int has_pattern;
    regex_t ignore; /* lines: matching lines are no record */
    int has_ignore;
    char comment; /* lines: comment character, or '\0' */
    size_t ncols;
    char **paths; /* JSON: the path of each column */
    lia_lines lines;
    lia_objrec obj;
    lia_records tmp; /* the splitter's records of one chunk */
    lia_jobj sub[MAX_PATH_DEPTH];
    char *each; /* JSON: one record per element of this array */
    size_t eachlen;
    unsigned char *scope; /* JSON, per column: 0 the object, 1 the element, 2 in the element */
    lia_jobj elem;        /* the current element, when an object */
    lia_buf elbuf, elstr; /* an element string unescaped; its copy */
    char why[256];        /* a refused path */
    lia_buf row;          /* the values of one record */
    size_t *off, *len;    /* per column, into row */
    lia_slice *fields;
};

static int compile(regex_t *re, const char *what, const char *pat, const char *name, lia_error *err)
{
    char msg[128];
    int rc = regcomp(re, pat, REG_EXTENDED);
    if (rc == 0)
        return LIA_OK;
    regerror(rc, re, msg, sizeof msg);
    return lia_error_set(err, LIA_EINVAL, what, pat, strlen(pat), "mapping %s: bad %s: %s", name, what, msg);
}

int lia__maprec_new(int kind, const char *pattern, const char *ignore, char comment, char **paths,
                    size_t ncols, const char *each, const char *name, lia_maprec **out, lia_error *err)
{
    lia_maprec *r = calloc(1, sizeof *r);
    int rc = LIA_OK;
    if (!r)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    r->kind = kind;
    r->comment = comment;
    r->ncols = ncols;
    r->paths = paths;
    lia_lines_init(&r->lines);
    lia_objrec_init(&r->obj, NULL, 0, '\0');
    lia__records_init(&r->tmp);
    for (int i = 0; i < MAX_PATH_DEPTH; i++)
        lia_jobj_init(&r->sub[i]);
    lia_buf_init(&r->row, LIA_MAX_ROW);
    lia_jobj_init(&r->elem);
    lia_buf_init(&r->elbuf, LIA_MAX_ROW);
    lia_buf_init(&r->elstr, LIA_MAX_ROW);
    r->off = calloc(ncols + 1, sizeof *r->off);
    r->len = calloc(ncols + 1, sizeof *r->len);
    r->fields = calloc(ncols + 1, sizeof *r->fields);
    r->scope = calloc(ncols + 1, 1);
    if (!r->off || !r->len || !r->fields || !r->scope) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto fail;
    }
    if (kind == LIA_REC_JSON && each) {
        if (!(r->each = strdup(each))) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto fail;
        }
        r->eachlen = strlen(each);
        for (size_t c = 0; c < ncols; c++)
            if (strcmp(paths[c], each) == 0)
                r->scope[c] = 1;
            else if (strncmp(paths[c], each, r->eachlen) == 0 && paths[c][r->eachlen] == '.')
                r->scope[c] = 2;
    }
    if (kind == LIA_REC_LINES && pattern) {
        if ((rc = compile(&r->pattern, "pattern", pattern, name, err)))
            goto fail;
        r->has_pattern = 1;
        if (r->pattern.re_nsub > MAX_GROUPS || r->pattern.re_nsub < ncols) {
            rc = lia_error_set(err, LIA_EINVAL, "pattern", pattern, strlen(pattern),
                               "mapping %s: the pattern has %zu groups for %zu columns (at most %d)", name,
                               (size_t)r->pattern.re_nsub, ncols, MAX_GROUPS);
            goto fail;
        }
    } else if (kind == LIA_REC_LINES && ncols > 1) {
        rc = lia_error_set(err, LIA_EINVAL, "pattern", NULL, 0,
                           "mapping %s: several columns of a line need a \"pattern\" with groups", name);
        goto fail;
    }
    if (kind == LIA_REC_LINES && ignore) {
        if ((rc = compile(&r->ignore, "ignore", ignore, name, err)))
            goto fail;
        r->has_ignore = 1;
    }
    *out = r;
    return LIA_OK;
fail:
    r->paths = NULL; /* the caller keeps them on failure */
    lia__maprec_free(r);
    return rc;
}

void lia__maprec_free(lia_maprec *r)
{
    if (!r)
        return;
    if (r->has_pattern)
        regfree(&r->pattern);
    if (r->has_ignore)
        regfree(&r->ignore);
    for (size_t i = 0; r->paths && i < r->ncols; i++)
        free(r->paths[i]);
    free(r->paths);
    lia_lines_free(&r->lines);
    lia_objrec_free(&r->obj);
    lia__records_free(&r->tmp);
    for (int i = 0; i < MAX_PATH_DEPTH; i++)
        lia_jobj_free(&r->sub[i]);
    lia_buf_free(&r->row);
    lia_jobj_free(&r->elem);
    lia_buf_free(&r->elbuf);
    lia_buf_free(&r->elstr);
    free(r->each);
    free(r->scope);
    free(r->off);
    free(r->len);
    free(r->fields);
    free(r);
}

static int put_value(lia_maprec *r, size_t c, const char *p, size_t n)
{
    r->off[c] = r->row.len;
    r->len[c] = n;
    lia_buf_append(&r->row, p, n);
    return r->row.err ? LIA_ELIMIT : LIA_OK;
}

static int emit(lia_maprec *r, const lia_record *src, lia_records *out)
{
    for (size_t c = 0; c < r->ncols; c++)
        r->fields[c] = (lia_slice){r->row.ptr ? r->row.ptr + r->off[c] : "", r->len[c]};
    return lia__records_add(out, src->line, src->raw, r->fields, r->ncols, 0, NULL, 1);
}

/* A line: skipped (comment, "ignore"), matched by the pattern into the
 * columns, or an error record when it does not match. */
static int one_line(lia_maprec *r, const lia_record *rec, lia_records *out)
{
    regmatch_t m[MAX_GROUPS + 1];
    char *line;
    lia_slice s = lia_slice_trim(rec->raw);
    int rc;
    if (s.len == 0 || (r->comment && s.ptr[0] == r->comment))
        return LIA_OK;
    lia_buf_reset(&r->row);
    lia_buf_append(&r->row, s.ptr, s.len);
    lia_buf_putc(&r->row, '\0');
    if (r->row.err)
        return lia__records_add(out, rec->line, rec->raw, NULL, 0, LIA_ELIMIT, "line too long", 1);
    line = r->row.ptr;
    if (memchr(line, '\0', s.len))
        return lia__records_add(out, rec->line, rec->raw, NULL, 0, LIA_EPARSE, "NUL byte in the line", 1);
    if (r->has_ignore && regexec(&r->ignore, line, 0, NULL, 0) == 0)
        return lia__records_add(out, rec->line, rec->raw, NULL, 0, 0, NULL, 1); /* no event: counted */
    if (!r->has_pattern) {
        r->off[0] = 0;
        r->len[0] = s.len;
        return r->ncols ? emit(r, rec, out) : LIA_OK;
    }
    if (regexec(&r->pattern, line, MAX_GROUPS + 1, m, 0) != 0)
        return lia__records_add(out, rec->line, rec->raw, NULL, 0, LIA_EPARSE,
                                "line does not match the mapping's pattern", 1);
    for (size_t c = 0; c < r->ncols; c++) {
        regmatch_t g = m[c + 1];
        r->off[c] = g.rm_so >= 0 ? (size_t)g.rm_so : 0;
        r->len[c] = g.rm_so >= 0 ? (size_t)(g.rm_eo - g.rm_so) : 0;
    }
    rc = emit(r, rec, out);
    return rc;
}

/* The member at path ("a.b.c") of object o: 1 with *out set, 0 when it is
 * absent (or null), -1 when the path crosses an array of several elements
 * (r->why says which; an array of one element is entered). A key that
 * contains dots is tried as is first. Strings are unescaped and trimmed;
 * out may point into r->sub, valid until the next lookup. */
static int lookup(lia_maprec *r, const lia_jobj *o, const char *path, lia_jmember *out)
{
    const lia_jmember *m = lia_jobj_get(o, path);
    const char *seg = path;
    int depth = 0;
    while (!m) {
        const char *dot = strchr(seg, '.');
        char key[LIA_MAX_KEY + 1];
        size_t kl = dot ? (size_t)(dot - seg) : strlen(seg);
        lia_slice v;
        const char *why;
        if (kl > LIA_MAX_KEY)
            return 0;
        memcpy(key, seg, kl);
        key[kl] = '\0';
        m = lia_jobj_get(o, key);
        if (!m || !dot)
            break;
        if (depth == MAX_PATH_DEPTH)
            return 0;
        v = m->val;
        if (m->kind == LIA_J_ARRAY) {
            size_t pos = 0, n = 0;
            lia_jmember e;
            while (lia_jarray_next(m->val, &pos, &r->elbuf, &e) == 1)
                if (++n > 1)
                    break;
            if (n > 1) {
                snprintf(r->why, sizeof r->why,
                         "path %s: %.*s is an array of several elements; \"each\": \"%.*s\" "
                         "reads one event per element",
                         path, (int)(dot - path), path, (int)(dot - path), path);
                return -1;
            }
            v = lia_jarray_first(v);
        } else if (m->kind != LIA_J_OBJECT) {
            return 0;
        }
        if (!v.ptr || lia_jobj_read(&r->sub[depth], v.ptr, v.len, &why) != LIA_OK)
            return 0;
        o = &r->sub[depth++];
        seg = dot + 1;
        m = lia_jobj_get(o, seg);
    }
    if (!m || m->kind == LIA_J_NULL)
        return 0;
    *out = *m;
    if (m->kind == LIA_J_STRING)
        out->val = lia_slice_trim(m->val);
    return 1;
}

/* A value for the record: absent is "". */
static int put_member(lia_maprec *r, size_t c, int found, const lia_jmember *m)
{
    if (found <= 0 || m->kind == LIA_J_NULL)
        return put_value(r, c, "", 0);
    return put_value(r, c, m->val.ptr, m->val.len);
}

/* The columns of one record of object o; with "each", el is the element
 * (NULL: the array is absent or empty) and elobj says whether it was read
 * as an object into r->elem. 1 when a path is refused (r->why). */
static int fill(lia_maprec *r, const lia_jobj *o, const lia_jmember *el, int elobj)
{
    lia_buf_reset(&r->row);
    for (size_t c = 0; c < r->ncols; c++) {
        lia_jmember m;
        int found = 0;
        if (r->scope[c] == 1) { /* the element itself */
            found = el != NULL;
            if (el) {
                m = *el;
                if (m.kind == LIA_J_STRING)
                    m.val = lia_slice_trim(m.val);
            }
        } else if (r->scope[c] == 2) { /* a path inside the element */
            found = elobj ? lookup(r, &r->elem, r->paths[c] + r->eachlen + 1, &m) : 0;
        } else {
            found = lookup(r, o, r->paths[c], &m);
        }
        if (found < 0)
            return 1;
        if (put_member(r, c, found, &m))
            return -1;
    }
    return 0;
}

static int refuse(lia_maprec *r, const lia_record *rec, lia_slice raw, lia_records *out)
{
    size_t n = strlen(r->why) + 1;
    char *why = lia__arena_alloc(&out->arena, n);
    if (!why)
        return LIA_ENOMEM;
    memcpy(why, r->why, n);
    return lia__records_add(out, rec->line, raw, NULL, 0, LIA_EPARSE, why, 1);
}

static int one_element(lia_maprec *r, const lia_jobj *o, const lia_record *rec, const lia_jmember *el,
                       lia_slice raw, lia_records *out)
{
    int elobj = 0, rc;
    if (el && el->kind == LIA_J_OBJECT) {
        const char *why;
        if (lia_jobj_read(&r->elem, el->val.ptr, el->val.len, &why) != LIA_OK)
            return lia__records_add(out, rec->line, raw, NULL, 0, LIA_EPARSE,
                                    "an element of the \"each\" array is not a valid object", 1);
        elobj = 1;
    }
    rc = fill(r, o, el, elobj);
    if (rc > 0)
        return refuse(r, rec, raw, out);
    if (rc < 0)
        return lia__records_add(out, rec->line, raw, NULL, 0, LIA_ELIMIT, "record too large", 1);
    return emit(r, &(lia_record){.line = rec->line, .raw = raw}, out);
}

/* One JSON object: one record, or with "each" one record per element of
 * that array (an absent, null or empty array gives one record whose
 * element columns are empty, so the object is never dropped; a value that
 * is not an array is one element). */
static int one_object(lia_maprec *r, const lia_records *rs, const lia_record *rec, lia_records *out)
{
    const lia_jobj *o;
    lia_jmember arr;
    lia_error e;
    size_t pos = 0;
    int found, rc, n = 0;
    if (rec->err)
        return lia__records_add(out, rec->line, rec->raw, NULL, 0, rec->err, rec->why, 1);
    if (lia_objrec_object(&r->obj, rs, rec, &o, &e) != LIA_OK)
        return lia__records_add(out, rec->line, rec->raw, NULL, 0, LIA_EPARSE,
                                "not a JSON object (see the raw text)", 1);
    if (!r->each)
        return one_element(r, o, rec, NULL, rec->raw, out);
    found = lookup(r, o, r->each, &arr);
    if (found < 0)
        return refuse(r, rec, rec->raw, out);
    if (!found)
        return one_element(r, o, rec, NULL, rec->raw, out);
    if (arr.kind != LIA_J_ARRAY)
        return one_element(r, o, rec, &arr, rec->raw, out);
    /* the array's text lives in the record, not in r->sub: safe to iterate
     * while the columns are looked up */
    for (;;) {
        lia_jmember el;
        rc = lia_jarray_next(arr.val, &pos, &r->elbuf, &el);
        if (rc <= 0)
            break;
        if (el.kind == LIA_J_STRING) { /* the next lookups reuse elbuf */
            lia_buf_reset(&r->elstr);
            lia_buf_append(&r->elstr, el.val.ptr, el.val.len);
            if (r->elstr.err)
                return lia__records_add(out, rec->line, el.val, NULL, 0, LIA_ELIMIT, "record too large", 1);
            el.val = (lia_slice){lia_buf_cstr(&r->elstr), el.val.len};
        }
        if ((rc = one_element(r, o, rec, &el, el.val, out)))
            return rc;
        n++;
    }
    if (rc < 0)
        return lia__records_add(out, rec->line, rec->raw, NULL, 0, LIA_EPARSE,
                                "the \"each\" array is not valid JSON", 1);
    return n ? LIA_OK : one_element(r, o, rec, NULL, rec->raw, out);
}

int lia__maprec_parse(lia_maprec *r, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    int rc;
    lia__records_clear(&r->tmp);
    if (r->kind == LIA_REC_LINES)
        rc = lia_lines_split(&r->lines, buf, len, eof, &r->tmp);
    else
        rc = lia_objrec_parse(&r->obj, buf, len, eof, &r->tmp, err);
    if (rc)
        return r->kind == LIA_REC_LINES ? lia_error_set(err, rc, NULL, NULL, 0, "%s", lia_strerror(rc)) : rc;
    if (r->kind == LIA_REC_JSON && r->obj.mode == LIA_OBJREC_CSV)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0,
                             "the mapping reads JSON records (an array of objects, or one per line); "
                             "this report is not JSON");
    for (size_t i = 0; i < r->tmp.n; i++) {
        const lia_record *rec = &r->tmp.rec[i];
        if (r->kind == LIA_REC_LINES && rec->err)
            rc = lia__records_add(out, rec->line, rec->raw, NULL, 0, rec->err, rec->why, 1);
        else
            rc = r->kind == LIA_REC_LINES ? one_line(r, rec, out) : one_object(r, &r->tmp, rec, out);
        if (rc)
            return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
    }
    return LIA_OK;
}
