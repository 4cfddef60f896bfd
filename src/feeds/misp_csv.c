/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "misp-csv": a MISP CSV feed. Values are taken from one or more
 * columns (--subtype "1" or "1,3": 1-based, default 1; "2/;" or "2/tab"
 * sets the delimiter, default ','), each value one event of its indicator
 * kind (see ioc.h); '#' lines are comments. The classification is
 * "blacklist" (a list of bad indicators). */
#include <stdlib.h>

#include "feeds/ioc.h"
#include "liaison/csv.h"
#include "liaison/limits.h"
#include "liaison/pipeline.h"
#include "core/records.h"

#define MAX_VALUE_COLS 16

typedef struct mcsv {
    lia_csv *csv;
    int cols[MAX_VALUE_COLS]; /* 0-based */
    size_t ncols;
    lia_records *out;
    int fatal;
    lia_buf scratch;
} mcsv;

static int parse_cols(mcsv *m, const char *s, char *delim, lia_error *err)
{
    const char *slash = strchr(s, '/');
    m->ncols = 0;
    if (slash) {
        if (strcmp(slash + 1, "tab") == 0)
            *delim = '\t';
        else if (slash[1] && !slash[2] && slash[1] != '"' && slash[1] != '\n' && slash[1] != '\r')
            *delim = slash[1];
        else
            return lia_error_set(err, LIA_EINVAL, "subtype", slash, strlen(slash),
                                 "misp-csv: the delimiter after '/' is one character or \"tab\"");
    }
    while (*s && *s != '/') {
        int v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && v < 100000) {
            v = v * 10 + (*s++ - '0');
            digits++;
        }
        if (!digits || v < 1 || v > LIA_MAX_COLUMNS || m->ncols == MAX_VALUE_COLS ||
            (*s && *s != ',' && *s != '/'))
            return lia_error_set(err, LIA_EINVAL, "subtype", s, strlen(s),
                                 "misp-csv: value columns are 1-based numbers separated by commas, e.g. 1,3");
        m->cols[m->ncols++] = v - 1;
        if (*s == ',')
            s++;
    }
    return m->ncols ? LIA_OK
                    : lia_error_set(err, LIA_EINVAL, "subtype", NULL, 0, "misp-csv: no value column");
}

static void mcsv_close(void *st)
{
    mcsv *m = st;
    if (!m)
        return;
    lia_csv_destroy(m->csv);
    lia_buf_free(&m->scratch);
    free(m);
}

static int mcsv_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    mcsv *m = calloc(1, sizeof *m);
    lia_csv_opts co;
    int rc;
    if (!m)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_buf_init(&m->scratch, LIA_MAX_FIELD + 16);
    lia_csv_opts_default(&co);
    co.comment = '#';
    if ((rc = parse_cols(m, o->subtype && *o->subtype ? o->subtype : "1", &co.delim, err))) {
        mcsv_close(m);
        return rc;
    }
    if ((rc = lia_csv_create(&co, &m->csv))) {
        mcsv_close(m);
        return lia_error_set(err, rc, NULL, NULL, 0, "creating CSV splitter: %s", lia_strerror(rc));
    }
    *st = m;
    return LIA_OK;
}

static int on_row(void *ud, const lia_csv_row *row)
{
    mcsv *m = ud;
    if (row->err) {
        if (lia__records_add(m->out, row->line, row->raw, NULL, 0, row->err, row->why, 1))
            goto oom;
        return 0;
    }
    for (size_t i = 0; i < m->ncols; i++) {
        size_t c = (size_t)m->cols[i];
        if (c >= row->nfields) {
            if (lia__records_add(m->out, row->line, row->raw, NULL, 0, LIA_EPARSE,
                                 "row is shorter than a value column", 1))
                goto oom;
            return 0;
        }
        if (lia_slice_trim(row->fields[c]).len == 0)
            continue; /* an empty cell carries no value */
        if (lia__records_add(m->out, row->line, row->raw, &row->fields[c], 1, 0, NULL, 1))
            goto oom;
    }
    return 0;
oom:
    m->fatal = 1;
    return 1;
}

static int mcsv_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    mcsv *m = st;
    int rc = LIA_OK;
    m->out = out;
    rc = lia_csv_chunk(m->csv, buf, len, eof, on_row, m);
    m->out = NULL;
    if (m->fatal)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (rc < 0)
        return lia_error_set(err, rc, NULL, NULL, 0, "CSV splitter: %s", lia_strerror(rc));
    return LIA_OK;
}

static int mcsv_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev, lia_error *err)
{
    mcsv *m = st;
    int rc = lia_ioc_set(ev, lia_slice_trim(rs->fields[r->first]), 1, &m->scratch, err);
    if (rc)
        return rc;
    return lia_event_set(ev, LIA_F_CLASSIFICATION_TYPE, "blacklist", 9, err);
}

const lia_format lia_format_misp_csv = {
    .name = "misp-csv",
    .summary = "MISP CSV feed (value columns from --subtype, default 1; 2/; sets the delimiter)",
    .open = mcsv_open,
    .parse = mcsv_parse,
    .normalise = mcsv_normalise,
    .close = mcsv_close,
};
