/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* pipeline/chunk.h - internal: a report ingested in chunks by several
 * processes (src/bus/: liaison ingest --bus, liaison worker). */
#ifndef LIA_PIPELINE_CHUNK_H
#define LIA_PIPELINE_CHUNK_H

#include "liaison/ingest.h"

/* The publisher's part: identify the report at o->path by its content,
 * register it (partial; never in bulk mode, whose indexes only the
 * finishing process would rebuild), open and close the stages once (their
 * one-time setup, e.g. dedup's hash key, before workers race for it),
 * archive it once (o->archive) and record the archive's name, committed.
 * *rep: the report as stored; rep->state LIA_REPORT_COMPLETE means it was
 * already ingested and nothing was done. */
int lia__ingest_register(lia_store *s, const lia_ingest_opts *o, lia_report *rep, lia_error *err);

/* A worker's part: one chunk of the stored report rep through parse,
 * normalise, the stages (o->stages or lia_stages) and the store, written
 * in the open transaction and NOT committed (the caller commits it with
 * its own bookkeeping, or calls lia__store_abort and rolls back). text is
 * the report's first pre_lines lines (its preamble: a header, comments;
 * parsed for the format's state, not stored), then the report's lines
 * from line `first` on, whole records. res->report: what the chunk adds
 * (rows, events, quarantined, duplicates; lines_done = its last line
 * handled), res->c its counters. The report's row in the store is not
 * changed. */
int lia__ingest_chunk(lia_store *s, const lia_ingest_opts *o, const lia_report *rep, const char *text,
                      size_t len, uint64_t pre_lines, uint64_t first, lia_ingest_result *res, lia_error *err);

#endif
