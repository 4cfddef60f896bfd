/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/report.h - statistics reports of a month (issue 14 point 1):
 * what a national CERT publishes to its partners and its head.
 *
 * One model, three renderings: HTML (one self-contained file, inline CSS,
 * charts and the world map drawn as SVG), CSV (the same tables, one section
 * each) and PDF (the HTML printed by headless chromium). Every number comes
 * from the store's aggregates (lia_store_rollup_period,
 * lia_store_recipients_period) or from the hand-offs and incidents, never
 * from a walk over the events. docs/reports.md says what is in a report. */
#ifndef LIAISON_REPORT_H
#define LIAISON_REPORT_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/slice.h"
#include "liaison/store.h"

typedef struct lia_report_opts {
    const char *period;   /* "YYYY-MM", a UTC month (required) */
    const char *lang;     /* "en" or "zh"; NULL: "en" */
    int tlp;              /* the report's label, enum lia_tlp; only data the TLP policy lets go at
                             it (src/route/tlp.h) is counted */
    const char *partner;  /* a partner's id: the report for it (its own row only in the league
                             table, unless its directory entry says stats_shared: true); NULL:
                             for our own team */
    const char *format;   /* "html", "csv" or "pdf" */
    const char *chromium; /* pdf: the browser; NULL: $LIAISON_CHROMIUM, else /usr/bin/chromium */
    const char *atlas;    /* the world map: world-atlas TopoJSON (countries-50m.json); NULL:
                             $LIAISON_WORLD_ATLAS, else the console's (web/node_modules); none
                             found: the map is left out and the report says so */
    const char *codes;    /* i18n-iso-countries codes.json (numeric to alpha-2); NULL: as atlas */
    uint64_t top;         /* rows of each ranking; 0: 10 */
    int64_t now_us;       /* when the report is made (SLA breaches are counted at the period's end
                             or now, the earlier); 0: now */
} lia_report_opts;

/* Build the report o asks for into out (appended; html and csv; pdf: use
 * lia_report_write). LIA_EINVAL naming the option (period, lang, format,
 * partner) and why; LIA_ENOTFOUND for a partner not in the directory. */
int lia_report_render(lia_store *s, const lia_report_opts *o, lia_buf *out, lia_error *err);

/* Build it and write it to path (through a temporary file renamed into
 * place: a failure leaves no half-written file). pdf: the HTML printed by
 * chromium; LIA_EUNSUPPORTED "PDF needs chromium ..." when it is absent,
 * LIA_EIO when it fails or writes no PDF. */
int lia_report_write(lia_store *s, const lia_report_opts *o, const char *path, lia_error *err);

#endif
