/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The work bus: reports ingested in chunks by worker processes over NATS
 * JetStream (issue 13; docs/architecture.md, "The work bus").
 *
 * `liaison ingest --bus URL` (lia_bus_publish) registers and archives the
 * report in the store, splits it into chunks of whole records and
 * publishes them to a work-queue stream, each with the message id
 * HASH.ID.CHUNK (a republish is dropped by the server). `liaison worker`
 * (lia_bus_work) pulls chunks from one durable consumer, runs each through
 * parse, normalise, enrich, dedup, route and store in one transaction that
 * also records the chunk as done (bus_chunks), and acknowledges it after
 * the commit: a chunk delivered again stores nothing twice. The last chunk
 * committed (or the publisher, if it finishes last) marks the report
 * complete. Threads: one bus handle per thread (each call connects). */
#ifndef LIAISON_BUS_H
#define LIAISON_BUS_H

#include <stdint.h>
#include <stdio.h>

#include "liaison/ingest.h"
#include "liaison/store.h"

typedef struct lia_bus_opts {
    const char *url;      /* nats://HOST:PORT (required) */
    const char *stream;   /* NULL: LIAISON_INGEST */
    const char *subject;  /* NULL: liaison.ingest.chunks */
    const char *consumer; /* durable pull consumer; NULL: liaison-workers */
    int64_t max_bytes;    /* stream limit when it is created (0: 256 MiB) */
    int64_t max_msgs;     /* stream limit when it is created (0: 10000 chunks) */
} lia_bus_opts;

typedef struct lia_bus_publish_result {
    lia_report report;   /* as registered */
    int skipped;         /* already complete: nothing published */
    int complete;        /* every chunk was already stored when publishing ended */
    uint64_t chunks;     /* chunks of the report */
    uint64_t published;  /* sent (not already stored) */
    uint64_t duplicates; /* the server already had them (a republish) */
    uint64_t waits;      /* times the stream was full and the publisher waited */
    double seconds;
} lia_bus_publish_result;

/* Register (o->path: a file, not "-"), archive and publish one report in
 * chunks of chunk_records records (0: 2000; a chunk is also cut at 512 KiB).
 * The chunk size of a report is fixed at its first publication (a re-run
 * after a crash cuts the same chunks). When the stream is full the call
 * waits and retries (its memory stays one chunk). o->stop set: returns
 * LIA_EINTR after the chunk in flight. LIA_OK, or an error in err. */
int lia_bus_publish(lia_store *s, const lia_bus_opts *b, const lia_ingest_opts *o, size_t chunk_records,
                    lia_bus_publish_result *res, lia_error *err);

typedef struct lia_bus_worker_opts {
    int64_t ack_wait_ms; /* redelivery after this long without an ack (0: 30000) */
    int max_ack_pending; /* per consumer, set when it is created (0: 8) */
    volatile int *stop;  /* set (SIGTERM): finish the chunk, ack, return */
    int idle_exit_ms;    /* > 0: return after this long without a chunk */
    FILE *log;           /* one line per chunk, or NULL */
} lia_bus_worker_opts;

typedef struct lia_bus_worker_result {
    uint64_t chunks;     /* chunks stored */
    uint64_t duplicates; /* chunks delivered again after they were stored: acked, nothing stored */
    uint64_t events, quarantined;
    uint64_t completed;  /* reports this worker marked complete */
    uint64_t failed;     /* chunks that failed (not acked: delivered again later) */
    uint64_t kept_alive; /* in-progress acks sent for long chunks (a third of the ack wait each) */
    double seconds;
} lia_bus_worker_result;

/* Work until stopped (w->stop, w->idle_exit_ms) or the bus fails. A chunk
 * that fails is left unacknowledged (and reported in w->log): the server
 * delivers it again after the ack wait. */
int lia_bus_work(lia_store *s, const lia_bus_opts *b, const lia_bus_worker_opts *w,
                 lia_bus_worker_result *res, lia_error *err);

typedef struct lia_bus_status {
    uint64_t msgs, bytes;        /* chunks in the stream (not yet acknowledged) */
    int64_t max_msgs, max_bytes; /* the stream's limits */
    int has_consumer;
    uint64_t pending;     /* chunks not yet delivered to any worker */
    uint64_t ack_pending; /* delivered, not yet acknowledged */
    uint64_t redelivered; /* of those, delivered more than once */
    uint64_t waiting;     /* pull requests of idle workers */
    uint64_t acked;       /* the consumer's acknowledged floor (stream sequence) */
    uint64_t deliveries;  /* deliveries so far, redeliveries included (the consumer sequence) */
    int64_t ack_wait_ms;  /* the consumer's ack wait */
} lia_bus_status;

/* The stream's depth and the consumer's counts. LIA_ENOTFOUND if the
 * stream does not exist yet. */
int lia_bus_status_get(const lia_bus_opts *b, lia_bus_status *out, lia_error *err);

#endif
