/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/pipeline.h - the streaming ingest pipeline.
 *
 *   read (chunks of LIA_READ_CHUNK) -> parse (format: split into records)
 *     -> normalise (format: record -> harmonised event) -> stages... -> store
 *
 * Formats and stages are tables of function pointers, registered in one
 * table each (src/feeds/formats.c, src/pipeline/stages.c). Memory is bounded
 * by the chunk size, one batch of LIA_BATCH events, and each format's own
 * limits, whatever the size of the report. */
#ifndef LIAISON_PIPELINE_H
#define LIAISON_PIPELINE_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/event.h"
#include "liaison/slice.h"

/* ---- records: output of a format's parse step ---- */

typedef struct lia_record {
    uint64_t line;      /* 1-based first line in the report */
    lia_slice raw;      /* raw bytes of the record (for quarantine) */
    uint32_t first;     /* index of its first field in lia_records.fields */
    uint32_t nfields;
    int err;            /* < 0: malformed; why says what */
    const char *why;
} lia_record;

/* Memory that never moves once handed out: blocks, freed together. */
typedef struct lia_arena_block lia_arena_block;
typedef struct lia_arena {
    lia_arena_block *head;
    size_t total;       /* bytes in all blocks */
    size_t max;         /* cap on total */
} lia_arena;

/* Records of one chunk; slices point into the chunk or into arena. */
typedef struct lia_records {
    lia_record *rec;
    size_t n, cap;
    lia_slice *fields;
    size_t nf, capf;
    lia_arena arena;    /* copies of data that does not live in the chunk */
    const lia_slice *header; /* column names, if the format has a header */
    size_t nheader;
} lia_records;

/* ---- feed formats ---- */

typedef struct lia_feed_opts {
    const char *feed;        /* feed name (feed.name of every event) */
    const char *provider;    /* feed.provider, may be NULL */
    const char *report_name; /* file name of the report (for detection) */
    const char *map_path;    /* CSV mapping file, for format "csv" */
    const char *subtype;     /* format-specific: e.g. Shadowserver report type */
    int tlp;                 /* default TLP for events without one; -1: none */
    int64_t observed_us;     /* time.observation for events without one */
} lia_feed_opts;

typedef struct lia_format {
    const char *name;
    const char *summary;
    int (*open)(void **st, const lia_feed_opts *o, lia_error *err);
    /* Split buf (len bytes; eof set on the last call, possibly with len 0)
     * into out. The format keeps any incomplete tail itself. */
    int (*parse)(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err);
    /* Fill ev (already reset) from record r. LIA_OK, or an error in err:
     * the record is quarantined with that reason. LIA_ENOTFOUND means "no
     * event in this record" (e.g. a comment) and is counted, not quarantined. */
    int (*normalise)(void *st, const lia_records *rs, const lia_record *r, lia_event *ev,
                     lia_error *err);
    void (*close)(void *st);
    /* Optional: a warning about the whole report so far (e.g. an older
     * variant read with columns missing), or NULL. Called before close;
     * the text lives until close. */
    const char *(*warning)(void *st);
} lia_format;

/* Registered formats (NULL-terminated table) and lookup by name. */
extern const lia_format *const lia_formats[];
const lia_format *lia_format_find(const char *name);

/* ---- counters ---- */

enum lia_stage_id { LIA_ST_READ, LIA_ST_PARSE, LIA_ST_NORMALISE, LIA_ST_ENRICH, LIA_ST_DEDUP,
                    LIA_ST_ROUTE, LIA_ST_STORE, LIA_ST__COUNT };

typedef struct lia_counter {
    uint64_t in, out, errors;
    uint64_t ns; /* time spent in the stage */
} lia_counter;

/* "read", "parse", ... for a lia_stage_id; "?" for another number. */
const char *lia_stage_name(int stage);

/* ---- post-normalise stages ---- */

typedef struct lia_batch {
    lia_event *ev;
    size_t n, cap;
} lia_batch;

struct lia_ingest;

/* A stage. For each batch: process (every stage, in table order), then the
 * store writes the batch, then stored (every stage that has one, same
 * order); every few batches a checkpoint calls flush, then the store commits.
 * One thread; a stage's state is its own. */
typedef struct lia_stage {
    const char *name;
    int id; /* enum lia_stage_id */
    int (*open)(void **st, struct lia_ingest *ing, lia_error *err);
    /* Process events in place; may drop events by compacting b (n shrinks). */
    int (*process)(void *st, lia_batch *b, lia_error *err);
    /* Optional (NULL: none). Called after the store wrote b,
     * inside the same store transaction, with b as the store left it: each
     * b->ev[i].id is the stored event's id, and the events are those that
     * came out of the last stage's process, in the same order (line order).
     * What it writes to the store commits or rolls back with the batch. An
     * error stops the report (the transaction is not committed). b must not
     * be changed. */
    int (*stored)(void *st, const lia_batch *b, lia_error *err);
    /* A checkpoint: everything processed so far must be made durable. */
    int (*flush)(void *st, lia_error *err);
    void (*close)(void *st);
} lia_stage;

#endif
