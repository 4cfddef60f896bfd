/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/store.h - where events, quarantined rows and reports live.
 *
 * One interface over the library's database layer (src/store/db.h), with
 * two drivers: SQLite in WAL mode for a path, PostgreSQL for a
 * postgresql:// URI (not complete yet: docs/architecture.md, "PostgreSQL
 * driver", says what works). Writes are
 * batched in transactions; a report's progress (last committed line) is
 * written in the same transaction as its events, so a crash loses at most
 * the uncommitted batch and a re-ingest resumes where the store stopped.
 * A handle is used by one thread at a time. */
#ifndef LIAISON_STORE_H
#define LIAISON_STORE_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/event.h"
#include "liaison/pipeline.h"

typedef struct lia_store lia_store;

#define LIA_STORE_SCHEMA_VERSION 1

/* Open (creating and migrating if needed) the store at path. SQLite is the
 * backend for a plain path or "sqlite:PATH"; PostgreSQL for a
 * "postgresql://" or "postgres://" URI (libpq's form: user, password, host,
 * port, database, parameters), whose raw reports are archived in
 * $LIAISON_ARCHIVE_DIR (else ./liaison.archive). The PostgreSQL backend is
 * not complete yet (issue 12): a module not ported is refused with
 * LIA_EUNSUPPORTED "PostgreSQL backend: MODULE not supported yet". */
int lia_store_open(const char *path, lia_store **out, lia_error *err);
void lia_store_close(lia_store *s);
/* Schema version of the open store. */
int lia_store_schema_version(lia_store *s);
/* Directory where raw reports are archived (PATH.archive; PostgreSQL:
 * above). */
const char *lia_store_archive_dir(lia_store *s);

/* ---- reports ---- */

enum lia_report_state { LIA_REPORT_NEW = 0, LIA_REPORT_PARTIAL = 1, LIA_REPORT_COMPLETE = 2 };

typedef struct lia_report {
    int64_t id;
    char hash[65]; /* hex BLAKE2b-256 of the report bytes */
    char feed[128];
    char name[256];    /* file name or "-" */
    char archive[512]; /* archived copy (gzip), relative to archive dir */
    uint64_t size;
    int state;
    uint64_t lines_done; /* records with line <= this are stored */
    uint64_t rows, events, quarantined, duplicates;
    int64_t started_us, finished_us;
} lia_report;

/* Report id into out: LIA_OK or LIA_ENOTFOUND. */
int lia_store_report_get(lia_store *s, int64_t id, lia_report *out, lia_error *err);
/* Append physical line `line` (1-based, as an event's line; without its
 * line end) of report r's archived copy to out. LIA_ENOTFOUND when the
 * report was not archived, its copy is gone (pruned) or it has no such
 * line; LIA_ELIMIT past LIA_MAX_ROW; LIA_EIO when the copy is unreadable. */
int lia_store_report_line(lia_store *s, const lia_report *r, uint64_t line, lia_buf *out, lia_error *err);

/* ---- queries ---- */

typedef struct lia_query {
    int64_t since_us, until_us; /* 0 = open */
    char cc[3];                 /* "" = any */
    uint32_t asn;               /* 0 = any */
    int has_ip;
    lia_ip ip;                  /* network to match source.ip in */
    const char *classification; /* taxonomy or type; NULL = any */
    const char *feed;           /* NULL = any */
    int64_t report_id;          /* 0 = any */
    const char *recipient;      /* "partner:ID" / "owner:ID": only events routed to it
                                   (a decision "deliver"); NULL = any */
    int64_t after_id;           /* events with id > after_id (paging) */
    uint64_t limit;             /* 0 = no limit */
} lia_query;

typedef int (*lia_event_cb)(void *ud, const lia_event *ev);
/* Calls cb for each matching event in id order; a non-zero return stops
 * and is returned. */
int lia_store_query(lia_store *s, const lia_query *q, lia_event_cb cb, void *ud, lia_error *err);
/* Event `id` into out (an initialised event; reset first, id, report_id and
 * line set): LIA_OK, or LIA_ENOTFOUND "no event ID in the store". */
int lia_store_event_get(lia_store *s, int64_t id, lia_event *out, lia_error *err);
int lia_store_count(lia_store *s, const lia_query *q, uint64_t *out, lia_error *err);

typedef struct lia_qrow {
    int64_t id, report_id;
    uint64_t line;
    const char *feed, *report_name, *field, *reason, *value;
    lia_slice raw;
    int64_t at_us;
} lia_qrow;
typedef int (*lia_qrow_cb)(void *ud, const lia_qrow *row);
/* Call cb for each quarantined row of feed (NULL: every feed) and report
 * (0: every report), oldest first, at most limit rows (0: all). */
int lia_store_quarantine_list(lia_store *s, const char *feed, int64_t report_id, uint64_t limit,
                              lia_qrow_cb cb, void *ud, lia_error *err);

/* Group counts: key is "cc", "asn", "class", "feed", "type", "taxonomy". */
typedef int (*lia_group_cb)(void *ud, const char *key, uint64_t count);
int lia_store_group(lia_store *s, const lia_query *q, const char *by, uint64_t limit, lia_group_cb cb,
                    void *ud, lia_error *err);

/* ---- the dashboard's aggregates ----
 *
 * Read from rollups the store keeps as it stores events (src/store/summary.c
 * says which), so that they answer in time independent of the number of
 * events. Keys, counts and order are those of lia_store_group for an empty
 * query: count descending, then key. */

/* All stored events by "cc", "asn", "class" or "feed" (limit 0: all). */
int lia_store_rollup(lia_store *s, const char *by, uint64_t limit, lia_group_cb cb, void *ud, lia_error *err);
/* How many events the store holds. */
int lia_store_rollup_total(lia_store *s, uint64_t *out, lia_error *err);
/* Per UTC day within [since_us, until_us) (whole days: a day starting
 * before since_us is left out), the events of that day by classification
 * type ("(none)" for none), days ascending; days without events are not
 * called. day_us is the day's start. */
typedef int (*lia_day_cb)(void *ud, int64_t day_us, const char *cls, uint64_t count);
int lia_store_rollup_days(lia_store *s, int64_t since_us, int64_t until_us, lia_day_cb cb, void *ud,
                          lia_error *err);
/* IoT and ICS exposure: events whose extra.sector is sector ("iot",
 * "ics"), by "protocol" or "product", or by = NULL: one call with the
 * sector's total (none if it has no events). */
int lia_store_exposure(lia_store *s, const char *sector, const char *by, uint64_t limit, lia_group_cb cb,
                       void *ud, lia_error *err);
/* Events stored for feed by its reports finished (or, still loading,
 * started) at or after since_us. */
int lia_store_feed_events_since(lia_store *s, const char *feed, int64_t since_us, uint64_t *out,
                                lia_error *err);
/* Recipients of kind ("partner", "owner") by events routed to them (route
 * decisions "deliver"); key is the party id, without "KIND:". */
int lia_store_top_recipients(lia_store *s, const char *kind, uint64_t limit, lia_group_cb cb, void *ud,
                             lia_error *err);
/* Hand-offs by state name (liaison/incident.h); partners_only: those to a
 * partner of the directory (cross-border), not to an owner. */
int lia_store_handoff_states(lia_store *s, int partners_only, lia_group_cb cb, void *ud, lia_error *err);
/* Incidents by status name; *open: those not closed, rejected, duplicate
 * or merged (`incident list --open`). */
int lia_store_incident_statuses(lia_store *s, lia_group_cb cb, void *ud, uint64_t *open, lia_error *err);

/* ---- the statistics reports' aggregates (src/report/) ----
 *
 * Per UTC month and TLP marking, from the rollup events_by_month the store
 * keeps as it stores events (src/store/summary.c): a month of 10,000,000
 * events answers from a few thousand rows. An event's month is that of its
 * time (time.source, else time.observation); events without a time are in
 * no period. */
typedef struct lia_period_query {
    int64_t since_us, until_us; /* the UTC months [since, until) touches */
    unsigned tlp_mask;          /* bit (tlp + 1) for each marking counted, enum lia_tlp, bit 0 for
                                   unmarked events; 0: every marking */
    const char *by;             /* "class" (classification type, "(none)"), "cc" ("--" for none),
                                   "asn" ("0" for none), "feed", "sector" ("iot", "ics"), "protocol",
                                   "product" (exposure, as lia_store_exposure) */
    const char *sector;         /* protocol and product: "iot" or "ics" */
    uint64_t limit;             /* 0: all */
} lia_period_query;
/* Keys and counts of the period, count descending then key, keys with a
 * count of 0 left out. LIA_EINVAL for another `by`, a missing sector or an
 * empty period. */
int lia_store_rollup_period(lia_store *s, const lia_period_query *q, lia_group_cb cb, void *ud,
                            lia_error *err);

/* Recipients of kind q->by ("partner", "owner") by the events of the
 * period routed to them (decisions "deliver", the routing module's
 * route_delivered_month); key is the party id, without "KIND:". */
int lia_store_recipients_period(lia_store *s, const lia_period_query *q, lia_group_cb cb, void *ud,
                                lia_error *err);

/* ---- retention: pruning old reports and events ----
 *
 * A rule removes what was received (the report's ingest began,
 * lia_report.started_us) before its cutoff: with classification NULL, whole
 * reports (the report, its events, quarantined rows and archived copy);
 * with a classification (an RSIT taxonomy or type), only the events of
 * that class, the report and its archive staying. An event matched by
 * several rules goes by the first to match it (the shortest retention
 * wins). A report still being ingested (not complete) is never touched.
 * What hangs from the events goes with them (route decisions, dedup
 * aggregates, notification links), except that an incident keeps a copy
 * of each event it links (lia_incident_events still gives it, marked
 * extra.store_pruned). docs/store.md, "Retention". */
typedef struct lia_prune_rule {
    const char *feed;           /* only this feed's reports; NULL: every feed */
    const char *classification; /* only these events; NULL: whole reports */
    int64_t before_us;          /* received before this (microseconds since 1970) */
} lia_prune_rule;

typedef struct lia_prune_result {
    uint64_t reports, events, quarantined; /* removed from the store */
    uint64_t decisions;                    /* route decisions of the events */
    uint64_t dedup, notifications;         /* dedup aggregates, notification links */
    uint64_t incident_copies;              /* events linked to an incident, copied there */
    uint64_t archives, archive_bytes;      /* archived raw reports deleted, their size */
    uint64_t leftovers;                    /* archives of an earlier, interrupted prune, deleted */
    uint64_t partitions;                   /* SQLite: event partitions dropped whole (their events
                                              are counted in events too) */
} lia_prune_result;

/* Apply rules[0..n): in transactions of up to LIA_PRUNE_BATCH_REPORTS
 * reports, each with one audit record (action "prune": the rules, the
 * counts; who from lia_audit_set_actor's actor); an archived copy is
 * deleted only after the commit that removed its report, and one left by
 * a run killed after that commit is deleted by the next run (so killed
 * anywhere, a re-run finishes the work and nothing is half removed).
 * dry_run: every batch rolled back; *res says what would be removed (no
 * audit record, no file deleted). res is written on success and, on an
 * error, holds what the batches committed before it. */
int lia_store_prune(lia_store *s, const lia_prune_rule *rules, size_t n, int dry_run, lia_prune_result *res,
                    lia_error *err);

/* A cutoff from a retention or a date: "180d", "12w", "36h" (before now_us
 * by that long) or "2026-06-01" / an RFC 3339 time (before that instant,
 * UTC). LIA_EINVAL with err naming what (the option or setting `what`) and
 * why. */
int lia_prune_cutoff(const char *what, const char *text, int64_t now_us, int64_t *cutoff_us, lia_error *err);
/* A retention ("180d", "12w", "36h") in seconds; LIA_EINVAL as above. */
int lia_retention_parse(const char *what, const char *text, int64_t *secs, lia_error *err);

/* The retention settings as rules, cutoffs counted back from now_us: each
 * feed's retention (the feed registry, liaison feeds set NAME --retention)
 * as a whole-report rule of that feed, each classification's ([retention]
 * of the store's configuration file STORE.conf, a taxonomy or type = a
 * retention) as an events rule, shortest first. *rules (free with
 * lia_retention_free) may be empty. */
int lia_retention_rules(lia_store *s, int64_t now_us, lia_prune_rule **rules, size_t *n, lia_error *err);
void lia_retention_free(lia_prune_rule *rules, size_t n);

/* ---- per-feed stage counters ---- */

typedef int (*lia_stats_cb)(void *ud, const char *feed, int stage, const lia_counter *c, uint64_t reports,
                            int64_t last_us);
/* Call cb for each feed and stage with its counters summed over its
 * reports, and the time of the last one. */
int lia_store_stats(lia_store *s, lia_stats_cb cb, void *ud, lia_error *err);

/* Run SQLite's integrity check (or the backend's equivalent). */
int lia_store_check(lia_store *s, lia_error *err);

/* ---- copying a whole store (SQLite to PostgreSQL and back) ----
 * docs/store.md, "Copying a store". Every module's tables of src into
 * dst, a store of its own (its schema made by every module's migrations,
 * events in its own partitions on SQLite), table after table in key order,
 * one transaction per batch that also records how far the table is (table
 * store_copy in dst), so a copy killed at any moment resumes where it
 * stopped and stores nothing twice. dst must be empty or a copy of src
 * begun before (LIA_EEXIST otherwise, err naming what dst holds). The raw
 * reports' archives are copied to dst's archive directory. At the end every
 * table's rows are counted on both sides: LIA_ESTATE naming the first
 * table that differs. src is not written (its schema may be brought to
 * this program's version first, as any command does) and should not be
 * while it is copied. */
#define LIA_COPY_BATCH 5000 /* rows per transaction unless told */
typedef struct lia_copy_opts {
    size_t batch; /* rows per transaction; 0: LIA_COPY_BATCH */
    /* each may be NULL. progress: rows of table stored so far (all runs),
     * after each batch, done 1 once the table is complete (also for one a
     * run before completed); count: the final check of one table; note:
     * something the user must know (a table not copied, and why) */
    void (*progress)(void *ud, const char *table, uint64_t rows, int done);
    void (*count)(void *ud, const char *table, uint64_t src_rows, uint64_t dst_rows);
    void (*note)(void *ud, const char *text);
    void *ud;
} lia_copy_opts;
typedef struct lia_copy_result {
    int resumed;       /* 1: dst held a copy of src begun before */
    size_t tables;     /* tables copied (and counted) */
    uint64_t rows;     /* rows stored by this run */
    uint64_t total;    /* rows in dst's copied tables at the end */
    uint64_t archives; /* archive files copied by this run */
} lia_copy_result;
int lia_store_copy(const char *src, const char *dst, const lia_copy_opts *o, lia_copy_result *res,
                   lia_error *err);

#endif
