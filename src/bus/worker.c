/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison worker: chunks from the stream through the pipeline into the store.
 *
 * One transaction per chunk: first the chunk's claim in bus_chunks (a
 * chunk delivered again after its commit finds it and stores nothing; on
 * PostgreSQL a second worker on the same chunk waits for the first's
 * commit, then finds it), then the chunk through parse .. store, the
 * chunk's counts, the report's progress (the last chunk completes it);
 * committed, then acknowledged. Killed before the commit: nothing of it
 * is stored and the server delivers it again after the ack wait.
 *
 * Dedup aggregates across workers: the dedup and route stages and the
 * store's writes run under one lock per store (PostgreSQL: a transaction
 * advisory lock taken before the dedup stage; SQLite has one writer
 * anyway), and dedup looks up in the store every key it has not seen in
 * this chunk, so a key seen by two workers at once gets one aggregate
 * with the exact count. Parse, normalise and enrich run in parallel.
 *
 * A long chunk (a big one, a store that is slow or locked for a while):
 * while it is in hand a keep-alive thread sends the server an in-progress
 * ack (+WPI) every third of the consumer's ack wait, which restarts the
 * wait, so a slow but alive worker keeps its chunk and it is not delivered
 * to a second worker meanwhile; for at most LIA_BUS_KEEP_MAX_S, after
 * which a wedged worker's chunk goes to another (whose claim then waits
 * for or finds the first's). A dead worker sends nothing: its chunk is
 * delivered again after one ack wait, as before. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/internal.h"
#include "core/clock.h"
#include "core/fault.h"
#include "liaison/limits.h"
#include "pipeline/chunk.h"
#include "store/backend.h"
#include "store/events.h"

/* ---- the lock stage ---- */

static int lock_open(void **out, struct lia_ingest *ing, lia_error *err)
{
    (void)err;
    *out = ing->store;
    return LIA_OK;
}

static int lock_process(void *p, lia_batch *b, lia_error *err)
{
    lia_db *db = lia__store_db(p);
    lia_stmt *st;
    int rc;
    (void)b;
    if ((rc = lia__db_prepare_pg(db, "bus: the dedup lock", "SELECT 1",
                                 "SELECT pg_advisory_xact_lock(7489013)", &st, err)))
        return rc;
    rc = lia__db_step(st, err);
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static void lock_close(void *p)
{
    (void)p;
}

static const lia_stage lock_stage = {
    .name = "bus-lock",
    .id = LIA_ST_DEDUP,
    .open = lock_open,
    .process = lock_process,
    .close = lock_close,
};

/* ---- one chunk ---- */

typedef struct chunk_hdr {
    int64_t report_id;
    uint64_t chunk, first, pre;
    int tlp;
    int64_t observed;
    const char *format, *feed, *provider, *name, *map, *subtype, *hash;
} chunk_hdr;

static const char *hdr(natsMsg *m, const char *k)
{
    const char *v = NULL;
    if (natsMsgHeader_Get(m, k, &v) != NATS_OK || !v || !*v)
        return NULL;
    return v;
}

/* A decimal integer (optionally negative) that is the whole text. */
static int num(const char *s, int64_t *out)
{
    int neg = 0;
    int64_t v = 0;
    if (!s || !*s)
        return -1;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

static int read_hdr(natsMsg *m, chunk_hdr *h, lia_error *err)
{
    int64_t v[6];
    const char *keys[6] = {"Liaison-Report", "Liaison-Chunk", "Liaison-First",
                           "Liaison-Pre",    "Liaison-Tlp",   "Liaison-Observed"};
    for (int i = 0; i < 6; i++)
        if (num(hdr(m, keys[i]), &v[i]) || (i < 4 && v[i] < 0))
            return lia_error_set(err, LIA_EPARSE, keys[i], NULL, 0,
                                 "bus message %s: header %s missing or bad", natsMsg_GetSubject(m), keys[i]);
    h->report_id = v[0];
    h->chunk = (uint64_t)v[1];
    h->first = (uint64_t)v[2];
    h->pre = (uint64_t)v[3];
    h->tlp = (int)v[4];
    h->observed = v[5];
    h->format = hdr(m, "Liaison-Format");
    h->feed = hdr(m, "Liaison-Feed");
    h->provider = hdr(m, "Liaison-Provider");
    h->name = hdr(m, "Liaison-Name");
    h->map = hdr(m, "Liaison-Map");
    h->subtype = hdr(m, "Liaison-Subtype");
    h->hash = hdr(m, "Liaison-Hash");
    if (!h->format || !h->feed || !h->hash)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0,
                             "bus message: format, feed or hash header missing");
    return LIA_OK;
}

enum { CHUNK_STORED = 0, CHUNK_DUPLICATE = 1 };

/* ---- the keep-alive thread ---- */

#define LIA_BUS_KEEP_MAX_S 3600 /* in-progress acks for one chunk at most this long */

typedef struct keepalive {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    natsMsg *m;         /* the chunk in hand (NULL: none); used only under mu */
    uint64_t since_ns;  /* when it was taken, or last kept alive */
    uint64_t taken_ns;  /* when it was taken */
    uint64_t period_ns; /* a third of the ack wait */
    uint64_t sent;      /* in-progress acks for the chunk in hand */
    uint64_t failed;    /* of those, not sent (the connection away) */
    int quit;
} keepalive;

static void deadline_at(struct timespec *ts, uint64_t mono_ns)
{
    ts->tv_sec = (time_t)(mono_ns / 1000000000u);
    ts->tv_nsec = (long)(mono_ns % 1000000000u);
}

static void *keepalive_run(void *arg)
{
    keepalive *k = arg;
    struct timespec ts;
    pthread_mutex_lock(&k->mu);
    while (!k->quit) {
        uint64_t now = lia__mono_ns();
        if (!k->m || now - k->taken_ns > (uint64_t)LIA_BUS_KEEP_MAX_S * 1000000000u) {
            pthread_cond_wait(&k->cv, &k->mu);
            continue;
        }
        if (now - k->since_ns >= k->period_ns) {
            if (natsMsg_InProgress(k->m, NULL) == NATS_OK)
                k->sent++;
            else
                k->failed++;
            k->since_ns = now;
            continue;
        }
        deadline_at(&ts, k->since_ns + k->period_ns);
        pthread_cond_timedwait(&k->cv, &k->mu, &ts);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

static int keepalive_start(keepalive *k, pthread_t *t, int64_t ack_wait_ns, lia_error *err)
{
    pthread_condattr_t ca;
    memset(k, 0, sizeof *k);
    k->period_ns = ack_wait_ns > 3 ? (uint64_t)ack_wait_ns / 3 : 1;
    if (pthread_mutex_init(&k->mu, NULL) != 0)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "cannot make the keep-alive lock");
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* lia__mono_ns's clock */
    if (pthread_cond_init(&k->cv, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        pthread_mutex_destroy(&k->mu);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "cannot make the keep-alive condition");
    }
    pthread_condattr_destroy(&ca);
    if (pthread_create(t, NULL, keepalive_run, k) != 0) {
        pthread_cond_destroy(&k->cv);
        pthread_mutex_destroy(&k->mu);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "cannot start the keep-alive thread");
    }
    return LIA_OK;
}

static void keepalive_stop(keepalive *k, pthread_t t)
{
    pthread_mutex_lock(&k->mu);
    k->quit = 1;
    k->m = NULL;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(t, NULL);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
}

/* The chunk m is in hand (m NULL: no longer; *sent: its in-progress acks). */
static void keepalive_hold(keepalive *k, natsMsg *m, uint64_t *sent)
{
    pthread_mutex_lock(&k->mu);
    if (sent)
        *sent = k->sent;
    k->m = m;
    k->taken_ns = k->since_ns = lia__mono_ns();
    k->sent = 0;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

typedef struct worker {
    lia_store *s;
    lia_db *db;
    const lia_stage *stages[LIA_MAX_STAGES + 2];
    lia_bus_worker_result *res;
} worker;

static int claim(worker *w, const chunk_hdr *h, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(w->db, "bus: claiming a chunk",
                              "INSERT INTO bus_chunks(report_id, chunk, first_line, done) VALUES(?,?,?,?)"
                              " ON CONFLICT(report_id, chunk) DO NOTHING",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, h->report_id);
    lia__db_bind_int64(st, 2, (int64_t)h->chunk);
    lia__db_bind_int64(st, 3, (int64_t)h->first);
    lia__db_bind_int64(st, 4, lia__now_us());
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        return rc;
    return lia__db_changes(w->db) == 1 ? CHUNK_STORED : CHUNK_DUPLICATE;
}

static int chunk_done(worker *w, const chunk_hdr *h, const lia_report *d, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(
             w->db, "bus: a chunk's counts",
             "UPDATE bus_chunks SET last_line=?, rows=?, events=?, quarantined=?, duplicates=?,"
             " done=? WHERE report_id=? AND chunk=?",
             &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, (int64_t)d->lines_done);
    lia__db_bind_int64(st, 2, (int64_t)d->rows);
    lia__db_bind_int64(st, 3, (int64_t)d->events);
    lia__db_bind_int64(st, 4, (int64_t)d->quarantined);
    lia__db_bind_int64(st, 5, (int64_t)d->duplicates);
    lia__db_bind_int64(st, 6, lia__now_us());
    lia__db_bind_int64(st, 7, h->report_id);
    lia__db_bind_int64(st, 8, (int64_t)h->chunk);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

/* The chunk in m into the store, committed: CHUNK_STORED, CHUNK_DUPLICATE
 * (stored before: nothing done), or an error (nothing stored). */
static int do_chunk(worker *w, natsMsg *m, chunk_hdr *h, lia_ingest_result *res, int *completed,
                    lia_error *err)
{
    lia_ingest_opts o;
    lia_report base;
    int rc;
    *completed = 0;
    if ((rc = read_hdr(m, h, err)))
        return rc;
    if ((rc = lia__store_report_get(w->s, h->report_id, &base, err)))
        return rc;
    if (strcmp(base.hash, h->hash) != 0)
        return lia_error_set(err, LIA_ESTATE, NULL, NULL, 0,
                             "chunk %llu of report #%lld: the store's report #%lld is another report "
                             "(was the store replaced?)",
                             (unsigned long long)h->chunk, (long long)h->report_id, (long long)h->report_id);
    if (base.state == LIA_REPORT_COMPLETE)
        return CHUNK_DUPLICATE;
    memset(&o, 0, sizeof o);
    o.format = h->format;
    o.feed.feed = h->feed;
    o.feed.provider = h->provider;
    o.feed.report_name = h->name;
    o.feed.map_path = h->map;
    o.feed.subtype = h->subtype;
    o.feed.tlp = h->tlp;
    o.feed.observed_us = h->observed;
    o.stages = w->stages;
    o.shared = 1;
    if ((rc = lia__db_begin(w->db, err)))
        return rc;
    if ((rc = claim(w, h, err)) != CHUNK_STORED)
        goto fail;
    if ((rc = lia__ingest_chunk(w->s, &o, &base, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), h->pre,
                                h->first, res, err)))
        goto fail;
    /* the store's batch (its report row as it was: the chunks' sums go in
     * at completion), the chunk's counts, the report's progress */
    if ((rc = lia__store_checkpoint(w->s, &base, err)) || (rc = chunk_done(w, h, &res->report, err)) ||
        (rc = lia__store_stats_add(w->s, base.feed, res->c, err)) ||
        (rc = lia__bus_report_progress(w->s, h->report_id, 0, completed, err)))
        goto fail;
    if ((rc = lia__db_commit(w->db, err)))
        return rc;
    return CHUNK_STORED;
fail:
    lia__store_abort(w->s);
    lia__db_rollback(w->db);
    return rc;
}

int lia_bus_work(lia_store *s, const lia_bus_opts *b, const lia_bus_worker_opts *wo,
                 lia_bus_worker_result *res, lia_error *err)
{
    lia_bus bus;
    natsSubscription *sub = NULL;
    jsSubOptions so;
    jsErrCode jerr = 0;
    natsStatus ns;
    keepalive ka;
    pthread_t ka_thread;
    int ka_on = 0;
    int64_t ack_wait_ns = 0;
    worker w;
    size_t k = 0;
    int rc;
    uint64_t t0 = lia__mono_ns(), idle_since = lia__mono_ns();
    lia_ingest_result *ir = malloc(sizeof *ir);

    memset(res, 0, sizeof *res);
    memset(&w, 0, sizeof w);
    if (!ir)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    w.s = s;
    w.db = lia__store_db(s);
    w.res = res;
    for (size_t i = 0; lia_stages[i] && k < LIA_MAX_STAGES; i++) {
        if (lia_stages[i]->id == LIA_ST_DEDUP)
            w.stages[k++] = &lock_stage;
        w.stages[k++] = lia_stages[i];
    }
    w.stages[k] = NULL;
    if ((rc = lia__bus_schema(w.db, err))) {
        free(ir);
        return rc;
    }
    if ((rc = lia__bus_open(&bus, b, err))) {
        free(ir);
        return rc;
    }
    /* the durable consumer, created here if it is not there yet (bound,
     * the client never deletes it: the other workers share it) */
    {
        jsConsumerConfig cc;
        jsConsumerInfo *ci = NULL;
        jsConsumerConfig_Init(&cc);
        cc.Durable = bus.consumer;
        cc.AckPolicy = js_AckExplicit;
        cc.AckWait = (wo->ack_wait_ms > 0 ? wo->ack_wait_ms : 30000) * (int64_t)1000000;
        cc.MaxAckPending = wo->max_ack_pending > 0 ? wo->max_ack_pending : 8;
        cc.MaxDeliver = -1;
        cc.FilterSubject = bus.subject;
        ns = js_GetConsumerInfo(&ci, bus.js, bus.stream, bus.consumer, NULL, &jerr);
        if (ns == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr) {
            jerr = 0;
            ns = js_AddConsumer(&ci, bus.js, bus.stream, &cc, NULL, &jerr);
            if (ns != NATS_OK && jerr == JSConsumerNameExistErr) /* another worker, meanwhile */
                ns = NATS_OK;
        }
        /* the consumer's own ack wait (it may have been made by another
         * worker, with another --ack-wait) */
        ack_wait_ns = ci && ci->Config && ci->Config->AckWait > 0 ? ci->Config->AckWait : cc.AckWait;
        if (ci)
            jsConsumerInfo_Destroy(ci);
        if (ns != NATS_OK) {
            rc = lia__bus_error(&bus, err, "the durable consumer", ns, jerr);
            goto out;
        }
    }
    if ((rc = keepalive_start(&ka, &ka_thread, ack_wait_ns, err)))
        goto out;
    ka_on = 1;
    jsSubOptions_Init(&so);
    so.Stream = bus.stream;
    so.Consumer = bus.consumer;
    jerr = 0;
    if ((ns = js_PullSubscribe(&sub, bus.js, bus.subject, bus.consumer, NULL, &so, &jerr)) != NATS_OK) {
        rc = lia__bus_error(&bus, err, "subscribing (the durable consumer)", ns, jerr);
        goto out;
    }
    while (!(wo->stop && *wo->stop)) {
        natsMsgList list = {0};
        ns = natsSubscription_Fetch(&list, sub, 1, 1000, &jerr);
        if (ns == NATS_TIMEOUT || (ns == NATS_OK && list.Count == 0)) {
            natsMsgList_Destroy(&list);
            if (wo->idle_exit_ms > 0 && lia__mono_ns() - idle_since > (uint64_t)wo->idle_exit_ms * 1000000)
                break;
            continue;
        }
        if (ns != NATS_OK) {
            natsMsgList_Destroy(&list);
            if (ns == NATS_CONNECTION_DISCONNECTED || ns == NATS_CONNECTION_CLOSED ||
                ns == NATS_NO_RESPONDERS) {
                nats_Sleep(500); /* the client reconnects meanwhile */
                continue;
            }
            rc = lia__bus_error(&bus, err, "fetching a chunk", ns, jerr);
            goto out;
        }
        for (int i = 0; i < list.Count; i++) {
            natsMsg *m = list.Msgs[i];
            chunk_hdr h;
            lia_error e;
            int completed = 0, r;
            uint64_t c0 = lia__mono_ns(), kept = 0;
            char note[64] = "";
            memset(&h, 0, sizeof h);
            lia_error_clear(&e);
            keepalive_hold(&ka, m, NULL);
            r = do_chunk(&w, m, &h, ir, &completed, &e);
            keepalive_hold(&ka, NULL, &kept);
            res->kept_alive += kept;
            if (kept)
                snprintf(note, sizeof note, ", kept with %llu in-progress acks", (unsigned long long)kept);
            if (r == CHUNK_STORED || r == CHUNK_DUPLICATE) {
                /* committed: acknowledged now (lost, it comes again and
                 * is a duplicate) */
                lia__fault_point("bus-committed"); /* crash tests: killed between commit and ack */
                natsMsg_AckSync(m, NULL, NULL);
                if (r == CHUNK_STORED) {
                    res->chunks++;
                    res->events += ir->report.events;
                    res->quarantined += ir->report.quarantined;
                    res->completed += (uint64_t)completed;
                } else {
                    res->duplicates++;
                }
                if (wo->log)
                    fprintf(wo->log, "report #%lld chunk %llu: %s%s (%.3f s%s)\n", (long long)h.report_id,
                            (unsigned long long)h.chunk,
                            r == CHUNK_DUPLICATE ? "already stored, nothing done" : "stored",
                            completed ? "; report complete" : "", (double)(lia__mono_ns() - c0) / 1e9, note);
            } else {
                res->failed++;
                /* not acknowledged: delivered again after the ack wait */
                if (wo->log)
                    fprintf(wo->log, "report #%lld chunk %llu: failed, delivered again later: %s\n",
                            (long long)h.report_id, (unsigned long long)h.chunk, e.reason);
                if (!hdr(m, "Liaison-Hash")) /* not a chunk at all (logged): never processable */
                    natsMsg_AckSync(m, NULL, NULL);
            }
            if (wo->log)
                fflush(wo->log);
        }
        natsMsgList_Destroy(&list);
        idle_since = lia__mono_ns();
    }
    rc = LIA_OK;
out:
    if (ka_on)
        keepalive_stop(&ka, ka_thread);
    if (sub) {
        natsSubscription_Destroy(sub); /* bound: the durable consumer stays */
    }
    lia__bus_close(&bus);
    free(ir);
    res->seconds = (double)(lia__mono_ns() - t0) / 1e9;
    return rc;
}
