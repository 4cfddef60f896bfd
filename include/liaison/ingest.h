/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/ingest.h - run one report through the pipeline into a store. */
#ifndef LIAISON_INGEST_H
#define LIAISON_INGEST_H

#include <stdio.h>

#include "liaison/pipeline.h"
#include "liaison/store.h"

typedef struct lia_ingest_opts {
    const char *format;       /* format name (lia_format_find) */
    lia_feed_opts feed;
    const char *path;         /* report file, or "-" for standard input (lia_ingest) */
    int archive;              /* archive the raw report (default 1) */
    FILE *progress;           /* progress line target (a terminal) or NULL */
    size_t batch;             /* events per batch (0 = LIA_BATCH) */
    size_t commit_every;      /* events per transaction (0 = LIA_COMMIT_EVENTS) */
    volatile int *stop;       /* set non-zero (e.g. by a signal) to stop early */
    unsigned skip_stages;     /* bit (1u << LIA_ST_x): do not run that stage (e.g. a
                                 conformance run that checks the parser alone) */
    const lia_stage *const *stages; /* NULL-terminated stages to run instead of
                                       lia_stages (NULL: lia_stages) */
    int shared;                     /* other processes write the same events at the same time
                                       (liaison worker): stages look up in the store what
                                       they did not see themselves (dedup aggregates) */
} lia_ingest_opts;

typedef struct lia_ingest_result {
    lia_report report;
    int skipped;              /* report was already complete: nothing stored */
    int resumed;              /* report was partial: resumed after lines_done */
    lia_counter c[LIA_ST__COUNT];
    uint64_t bytes;
    double seconds;
    char warning[512]; /* the format's warning about the report, or "" */
} lia_ingest_result;

/* Ingest one report. The store receives the events, the quarantined rows
 * and the report's progress. LIA_OK even when rows were quarantined (see
 * res->report.quarantined); an error only for what stops the whole report. */
int lia_ingest(lia_store *s, const lia_ingest_opts *o, lia_ingest_result *res, lia_error *err);

/* The same for a report in memory: the len bytes at data, read in place (not
 * copied), which must stay unchanged until the call returns. o->path is not
 * used; the report is named o->feed.report_name, or "-". It is identified by
 * its content as a file is: the same bytes again are skipped, a partial
 * report resumes. With o->archive, the archive is written from data. */
int lia_ingest_buffer(lia_store *s, const lia_ingest_opts *o, const void *data, size_t len,
                      lia_ingest_result *res, lia_error *err);

/* Hook for later modules: extra stages run between normalise and store,
 * in order (enrich, dedup, route). NULL-terminated; may be empty. */
extern const lia_stage *const lia_stages[];

struct lia_ingest {
    lia_store *store;
    const lia_ingest_opts *opts;
    lia_report *report;
};

#endif
