/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "misp-freetext": a MISP free-text feed. Every line is split into
 * words (at spaces, tabs, commas, semicolons, pipes, quotes and angle
 * brackets); each word that is an indicator (see ioc.h) becomes one event.
 * Other words are counted, not stored; a word that looks like an address
 * but is not a valid one is quarantined. '#' lines are comments. */
#include <stdlib.h>

#include "feeds/ioc.h"
#include "core/lines.h"
#include "liaison/limits.h"
#include "core/records.h"

typedef struct ftext {
    lia_lines lines;
    lia_records tmp;
    lia_buf scratch;
} ftext;

static void ft_close(void *st)
{
    ftext *f = st;
    if (!f)
        return;
    lia_lines_free(&f->lines);
    lia__records_free(&f->tmp);
    lia_buf_free(&f->scratch);
    free(f);
}

static int ft_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    ftext *f = calloc(1, sizeof *f);
    if (!f)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_lines_init(&f->lines);
    lia__records_init(&f->tmp);
    lia_buf_init(&f->scratch, LIA_MAX_ROW + 16);
    *st = f;
    return LIA_OK;
}

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == ',' || c == ';' || c == '|' || c == '"' || c == '\'' ||
           c == '<' || c == '>';
}

static int is_trail(char c)
{
    return c == '.' || c == ')' || c == ':' || c == '!' || c == '?';
}

static int ft_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    ftext *f = st;
    int rc;
    lia__records_clear(&f->tmp);
    if ((rc = lia_lines_split(&f->lines, buf, len, eof, &f->tmp)))
        return lia_error_set(err, rc, NULL, NULL, 0, "splitting lines: %s", lia_strerror(rc));
    for (size_t i = 0; i < f->tmp.n; i++) {
        const lia_record *r = &f->tmp.rec[i];
        lia_slice line;
        if (r->err) {
            if ((rc = lia__records_add(out, r->line, r->raw, NULL, 0, r->err, r->why, 1)))
                goto oom;
            continue;
        }
        line = lia_slice_trim(f->tmp.fields[r->first]);
        if (line.len == 0 || line.ptr[0] == '#')
            continue;
        for (size_t p = 0; p < line.len;) {
            size_t q = p;
            lia_slice w;
            while (q < line.len && !is_sep(line.ptr[q]))
                q++;
            w = (lia_slice){line.ptr + p, q - p};
            while (w.len && (w.ptr[0] == '(' || w.ptr[0] == '['))
                if (w.len >= 3 && w.ptr[0] == '[' && (w.ptr[1] == '.' || w.ptr[1] == ':'))
                    break;
                else {
                    w.ptr++;
                    w.len--;
                }
            while (w.len && is_trail(w.ptr[w.len - 1]))
                w.len--;
            if (w.len && (rc = lia__records_add(out, r->line, r->raw, &w, 1, 0, NULL, 1)))
                goto oom;
            p = q + 1;
        }
    }
    return LIA_OK;
oom:
    return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
}

static int ft_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev, lia_error *err)
{
    ftext *f = st;
    int rc = lia_ioc_set(ev, rs->fields[r->first], 0, &f->scratch, err);
    if (rc)
        return rc;
    return lia_event_set(ev, LIA_F_CLASSIFICATION_TYPE, "blacklist", 9, err);
}

const lia_format lia_format_misp_freetext = {
    .name = "misp-freetext",
    .summary = "MISP free-text feed (indicators found in any text)",
    .open = ft_open,
    .parse = ft_parse,
    .normalise = ft_normalise,
    .close = ft_close,
};
