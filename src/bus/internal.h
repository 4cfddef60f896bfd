/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bus/internal.h - internal to src/bus/ (the only files that include nats.h). */
#ifndef LIA_BUS_INTERNAL_H
#define LIA_BUS_INTERNAL_H

#include <nats/nats.h>

#include "bus/schema.h"
#include "liaison/bus.h"
#include "store/db.h"

#define LIA_BUS_STREAM        "LIAISON_INGEST"
#define LIA_BUS_SUBJECT       "liaison.ingest.chunks"
#define LIA_BUS_CONSUMER      "liaison-workers"
#define LIA_BUS_CHUNK_RECORDS 2000
#define LIA_BUS_CHUNK_BYTES   ((size_t)512 << 10)
#define LIA_BUS_PREAMBLE_MAX  ((size_t)64 << 10)

typedef struct lia_bus {
    natsConnection *nc;
    jsCtx *js;
    const char *stream, *subject, *consumer;
    const char *url;
} lia_bus;

/* Connect to b->url and make sure the stream exists (created with b's
 * limits: work-queue retention, discard new, a duplicate window of one
 * hour). */
int lia__bus_open(lia_bus *bus, const lia_bus_opts *b, lia_error *err);
void lia__bus_close(lia_bus *bus);
/* err = "bus URL: WHAT: the client's message"; LIA_ENET. */
int lia__bus_error(lia_bus *bus, lia_error *err, const char *what, natsStatus s, jsErrCode jerr);

/* In the open transaction: chunk `chunk` of the report is done (the
 * caller claimed it); if the report's chunk count is known and every chunk
 * is done, the report is marked complete with the chunks' sums (*completed
 * = 1). chunks > 0: the publisher's call, recording the count. */
int lia__bus_report_progress(lia_store *s, int64_t report_id, uint64_t chunks, int *completed,
                             lia_error *err);

#endif
