/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The work bus: the connection, the stream, the bookkeeping tables, status. */
#include <stdlib.h>
#include <string.h>

#include "bus/guard.h"
#include "bus/internal.h"
#include "core/clock.h"
#include "store/backend.h"
#include "store/events.h"

/* bus_reports: one row per report published in chunks (its chunk size,
 * its chunk count once the publisher knows it, chunks done);
 * bus_chunks: one row per chunk stored, claimed first in the chunk's
 * transaction (the idempotency key of a redelivery), with what it added. */
static const lia_migration bus_migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS bus_reports("
            "  report_id INTEGER NOT NULL,"
            "  chunk_records INTEGER NOT NULL,"
            "  chunks INTEGER,"
            "  done INTEGER NOT NULL DEFAULT 0,"
            "  published INTEGER NOT NULL,"
            "  PRIMARY KEY(report_id));"
            "CREATE TABLE IF NOT EXISTS bus_chunks("
            "  report_id INTEGER NOT NULL,"
            "  chunk INTEGER NOT NULL,"
            "  first_line INTEGER NOT NULL,"
            "  last_line INTEGER NOT NULL DEFAULT 0,"
            "  rows INTEGER NOT NULL DEFAULT 0,"
            "  events INTEGER NOT NULL DEFAULT 0,"
            "  quarantined INTEGER NOT NULL DEFAULT 0,"
            "  duplicates INTEGER NOT NULL DEFAULT 0,"
            "  done INTEGER NOT NULL,"
            "  PRIMARY KEY(report_id, chunk));"},
};

static const lia_schema bus_schema = {
    .name = "bus",
    .version = 1,
    .migrations = bus_migrations,
    .pg = 1,
};

int lia__bus_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &bus_schema, err);
}

int lia__bus_error(lia_bus *bus, lia_error *err, const char *what, natsStatus s, jsErrCode jerr)
{
    const char *last = nats_GetLastError(NULL);
    if (jerr)
        return lia_error_set(err, LIA_ENET, NULL, NULL, 0, "bus %s: %s: JetStream error %d (%s)", bus->url,
                             what, (int)jerr, last && *last ? last : natsStatus_GetText(s));
    return lia_error_set(err, LIA_ENET, NULL, NULL, 0, "bus %s: %s: %s", bus->url, what,
                         last && *last ? last : natsStatus_GetText(s));
}

int lia__bus_open(lia_bus *bus, const lia_bus_opts *b, lia_error *err)
{
    natsOptions *no = NULL;
    jsStreamInfo *si = NULL;
    jsStreamConfig sc;
    jsErrCode jerr = 0;
    natsStatus s;
    const char *subjects[1];
    int rc = LIA_OK;
    memset(bus, 0, sizeof *bus);
    bus->url = b->url ? b->url : "";
    bus->stream = b->stream ? b->stream : LIA_BUS_STREAM;
    bus->subject = b->subject ? b->subject : LIA_BUS_SUBJECT;
    bus->consumer = b->consumer ? b->consumer : LIA_BUS_CONSUMER;
    if (strncmp(bus->url, "nats://", 7) != 0)
        return lia_error_set(err, LIA_EINVAL, "--bus", bus->url, strlen(bus->url),
                             "not a NATS URL (nats://HOST:PORT)");
    if ((s = natsOptions_Create(&no)) != NATS_OK || (s = natsOptions_SetURL(no, bus->url)) != NATS_OK ||
        (s = natsOptions_SetTimeout(no, 5000)) != NATS_OK ||
        (s = natsOptions_SetMaxReconnect(no, 60)) != NATS_OK ||
        (s = natsOptions_SetReconnectWait(no, 500)) != NATS_OK ||
        (s = natsConnection_Connect(&bus->nc, no)) != NATS_OK) {
        rc = lia__bus_error(bus, err, "connecting", s, 0);
        goto out;
    }
    if ((s = natsConnection_JetStream(&bus->js, bus->nc, NULL)) != NATS_OK) {
        rc = lia__bus_error(bus, err, "JetStream", s, 0);
        goto out;
    }
    s = js_GetStreamInfo(&si, bus->js, bus->stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        jsStreamConfig_Init(&sc);
        subjects[0] = bus->subject;
        sc.Name = bus->stream;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Retention = js_WorkQueuePolicy;
        sc.Discard = js_DiscardNew; /* full: the publisher is told, and waits */
        sc.MaxBytes = b->max_bytes > 0 ? b->max_bytes : (int64_t)256 << 20;
        sc.MaxMsgs = b->max_msgs > 0 ? b->max_msgs : 10000;
        sc.Storage = js_FileStorage;
        sc.Duplicates = (int64_t)3600 * 1000000000; /* a republish within an hour: dropped */
        jerr = 0;
        s = js_AddStream(&si, bus->js, &sc, NULL, &jerr);
        if (s != NATS_OK && jerr == JSStreamNameExistErr) /* another process made it meanwhile */
            s = NATS_OK;
    }
    if (s != NATS_OK) {
        rc = lia__bus_error(bus, err, "the stream", s, jerr);
        goto out;
    }
out:
    if (si)
        jsStreamInfo_Destroy(si);
    natsOptions_Destroy(no);
    if (rc)
        lia__bus_close(bus);
    return rc;
}

void lia__bus_close(lia_bus *bus)
{
    if (bus->js)
        jsCtx_Destroy(bus->js);
    if (bus->nc) {
        natsConnection_FlushTimeout(bus->nc, 2000);
        natsConnection_Destroy(bus->nc);
    }
    bus->js = NULL;
    bus->nc = NULL;
}

int lia__bus_report_guard(lia_store *s, const lia_report *rep, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int64_t chunks = 0, done = 0;
    int rc, has_count = 0, on_bus = 0;
    int v = lia__db_schema_version(db, bus_schema.name);
    if (v < 0)
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "bus: cannot read the store's schema registry");
    if (v == 0) /* no report of this store was ever published */
        return LIA_OK;
    if ((rc = lia__db_prepare(db, "bus: is a report on the bus",
                              "SELECT chunks, done FROM bus_reports WHERE report_id=?", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, rep->id);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        on_bus = 1;
        has_count = !lia__db_col_null(st, 0);
        chunks = lia__db_col_int64(st, 0);
        done = lia__db_col_int64(st, 1);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = LIA_OK;
    }
    lia__db_done(st);
    if (rc || !on_bus)
        return rc;
    if (has_count)
        return lia_error_set(err, LIA_ESTATE, NULL, NULL, 0,
                             "%s (report #%lld) is being ingested through the work bus: %lld of its %lld "
                             "chunks are stored; a plain ingest would store them again. Let `liaison "
                             "worker` store the rest, or publish the missing chunks again with `liaison "
                             "ingest --bus URL` (the same FILE)",
                             rep->name, (long long)rep->id, (long long)done, (long long)chunks);
    return lia_error_set(err, LIA_ESTATE, NULL, NULL, 0,
                         "%s (report #%lld) is being ingested through the work bus: %lld chunks are stored, "
                         "its publisher did not finish; a plain ingest would store them again. Publish it "
                         "again with `liaison ingest --bus URL` (the same FILE), then let `liaison worker` "
                         "store the rest",
                         rep->name, (long long)rep->id, (long long)done);
}

/* ---- the report's progress ---- */

static int complete_report(lia_store *s, int64_t report_id, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_report rep;
    lia_stmt *st;
    int rc;
    if ((rc = lia__store_report_get(s, report_id, &rep, err)))
        return rc;
    if ((rc = lia__db_prepare(
             db, "bus: summing a report's chunks",
             "SELECT coalesce(sum(rows),0), coalesce(sum(events),0), coalesce(sum(quarantined),0),"
             " coalesce(sum(duplicates),0), coalesce(max(last_line),0) FROM bus_chunks"
             " WHERE report_id=?",
             &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, report_id);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        rep.rows = (uint64_t)lia__db_col_int64(st, 0);
        rep.events = (uint64_t)lia__db_col_int64(st, 1);
        rep.quarantined = (uint64_t)lia__db_col_int64(st, 2);
        rep.duplicates = (uint64_t)lia__db_col_int64(st, 3);
        rep.lines_done = (uint64_t)lia__db_col_int64(st, 4);
        rc = LIA_OK;
    }
    lia__db_done(st);
    if (rc)
        return rc;
    rep.finished_us = lia__now_us();
    return lia__store_report_complete(s, &rep, NULL, err);
}

int lia__bus_report_progress(lia_store *s, int64_t report_id, uint64_t chunks, int *completed, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int64_t done = 0, total = 0;
    int rc, known = 0;
    *completed = 0;
    /* one row per report: concurrent chunks of it are serialised here, at
     * the end of their transactions, so the last one sees every other */
    if (chunks)
        rc = lia__db_prepare(db, "bus: recording a report's chunk count",
                             "UPDATE bus_reports SET chunks=? WHERE report_id=? RETURNING done, chunks", &st,
                             err);
    else
        rc = lia__db_prepare(db, "bus: counting a chunk done",
                             "UPDATE bus_reports SET done=done+1 WHERE report_id=? RETURNING done, chunks",
                             &st, err);
    if (rc)
        return rc;
    if (chunks) {
        lia__db_bind_int64(st, 1, (int64_t)chunks);
        lia__db_bind_int64(st, 2, report_id);
    } else {
        lia__db_bind_int64(st, 1, report_id);
    }
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        done = lia__db_col_int64(st, 0);
        known = !lia__db_col_null(st, 1);
        total = lia__db_col_int64(st, 1);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, NULL, NULL, 0,
                           "bus: report #%lld was not published on the bus", (long long)report_id);
    }
    lia__db_done(st);
    if (rc)
        return rc;
    if (known && done >= total) {
        if ((rc = complete_report(s, report_id, err)))
            return rc;
        *completed = 1;
    }
    return LIA_OK;
}

/* ---- status ---- */

int lia_bus_status_get(const lia_bus_opts *b, lia_bus_status *out, lia_error *err)
{
    lia_bus bus;
    jsStreamInfo *si = NULL;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    lia_bus_status r;
    int rc;
    if ((rc = lia__bus_open(&bus, b, err)))
        return rc;
    memset(&r, 0, sizeof r);
    if ((s = js_GetStreamInfo(&si, bus.js, bus.stream, NULL, &jerr)) != NATS_OK) {
        rc = lia__bus_error(&bus, err, "reading the stream", s, jerr);
        goto out;
    }
    r.msgs = si->State.Msgs;
    r.bytes = si->State.Bytes;
    r.max_msgs = si->Config ? si->Config->MaxMsgs : 0;
    r.max_bytes = si->Config ? si->Config->MaxBytes : 0;
    jerr = 0;
    s = js_GetConsumerInfo(&ci, bus.js, bus.stream, bus.consumer, NULL, &jerr);
    if (s == NATS_OK) {
        r.has_consumer = 1;
        r.pending = ci->NumPending;
        r.ack_pending = (uint64_t)ci->NumAckPending;
        r.redelivered = (uint64_t)ci->NumRedelivered;
        r.waiting = (uint64_t)ci->NumWaiting;
        r.acked = ci->AckFloor.Stream;
        r.deliveries = ci->Delivered.Consumer;
        r.ack_wait_ms = ci->Config ? ci->Config->AckWait / 1000000 : 0;
    } else if (!(s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr)) {
        rc = lia__bus_error(&bus, err, "reading the consumer", s, jerr);
        goto out;
    }
    *out = r;
out:
    if (si)
        jsStreamInfo_Destroy(si);
    if (ci)
        jsConsumerInfo_Destroy(ci);
    lia__bus_close(&bus);
    return rc;
}
