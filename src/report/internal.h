/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the statistics report's model (report.c) and its renderings
 * (report.c: CSV; html.c: HTML; write.c: files and PDF). */
#ifndef LIA_REPORT_INTERNAL_H
#define LIA_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/report.h"

#define LIA__REPORT_TABS 16
#define LIA__REPORT_COLS 10

/* One table: ncol columns, cells row by row. kind per column: 't' text,
 * 'n' number, 'c' change, 'p' share, 'd' seconds (-1: none). */
typedef struct lia__rtab {
    const char *id, *title; /* CSV section and HTML anchor; title's text key */
    int ncol;
    const char *col[LIA__REPORT_COLS]; /* column names (CSV) and text keys (HTML) */
    char kind[LIA__REPORT_COLS + 1];
    char **cells;
    size_t n, cap;
    int chart_label, chart_value; /* a bar chart of these columns; -1: none */
} lia__rtab;

typedef struct lia__rcc {
    char cc[8];
    uint64_t n;
} lia__rcc;

typedef struct lia__rmodel {
    const char *lang;
    char period[16], prev_period[32];
    int64_t since_us, until_us, prev_since_us, now_us;
    int tlp;
    unsigned mask; /* lia_period_query.tlp_mask */
    const char *partner;
    char partner_id[65];
    int partner_tlp_max, partner_agreement, partner_only_self;
    uint64_t top, total, prev_total;
    int64_t opened, closed;
    lia__rtab tab[LIA__REPORT_TABS];
    size_t ntab;
    lia__rcc *cc; /* every country of the period, for the map */
    size_t ncc, capcc;
} lia__rmodel;

int lia__rmodel_build(lia_store *s, const lia_report_opts *o, lia__rmodel *m, lia_error *err);
void lia__rmodel_free(lia__rmodel *m);
/* 1 if the report's reader may see data marked tlp (-1: unmarked). */
int lia__rmodel_allows(const lia__rmodel *m, int tlp);
/* Nearest-rank percentile p of v[0..n) (sorted in place); -1 if n is 0. */
int64_t lia__report_percentile(int64_t *v, size_t n, int p);
/* The text of key in lang ("en", "zh"); the key itself if there is none. */
const char *lia__rtext(const char *lang, const char *key);
int lia__report_html(const lia__rmodel *m, const lia_report_opts *o, lia_buf *out, lia_error *err);

/* The schedules' tables (schedule.c), for a whole-store copy (src/store/copy.c). */
int lia__report_schema(lia_store *s, lia_error *err);

#endif
