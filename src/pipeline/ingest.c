/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* One report (a file, standard input or a buffer) through the pipeline:
 *   hash (and spool stdin) -> register report (resume or skip) ->
 *   archive (gzip, in a second thread) while: read chunk -> parse ->
 *   normalise -> stages -> store batch -> checkpoint every N events. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "bus/guard.h"
#include "core/clock.h"
#include "core/path.h"
#include "core/fault.h"
#include "store/events.h"
#include "liaison/ingest.h"
#include "liaison/limits.h"
#include "core/records.h"
#include "store/backend.h"
#include "pipeline/chunk.h"

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Hash the file at fd (or copy stdin into spool_fd while hashing). */
static int hash_input(int in, int spool, char hex[65], uint64_t *size, lia_error *err)
{
    crypto_generichash_state st;
    unsigned char h[32];
    static const char digits[] = "0123456789abcdef";
    char *buf = malloc(LIA_READ_CHUNK);
    uint64_t total = 0;
    if (!buf)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    for (;;) {
        ssize_t n = read(in, buf, LIA_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "reading report: %s", strerror(errno));
        }
        if (n == 0)
            break;
        crypto_generichash_update(&st, (unsigned char *)buf, (size_t)n);
        total += (uint64_t)n;
        if (spool >= 0) {
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(spool, buf + off, (size_t)(n - off));
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    free(buf);
                    return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "spooling standard input: %s",
                                         strerror(errno));
                }
                off += w;
            }
        }
    }
    free(buf);
    crypto_generichash_final(&st, h, sizeof h);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[h[i] >> 4];
        hex[2 * i + 1] = digits[h[i] & 15];
    }
    hex[64] = '\0';
    *size = total;
    return LIA_OK;
}

/* ---- the report's bytes: a file or a buffer ---- */

typedef struct source {
    int fd;          /* the report file, when mem is NULL */
    const char *mem; /* the report in memory (read in place) */
    size_t len, off;
} source;

/* The next chunk (at most LIA_READ_CHUNK bytes) in *chunk: read into buf,
 * or a slice of the buffer. 0 at the end, < 0 on a read error (errno). */
static ssize_t source_read(source *src, char *buf, const char **chunk)
{
    size_t n;
    if (!src->mem) {
        *chunk = buf;
        return read(src->fd, buf, LIA_READ_CHUNK);
    }
    n = src->len - src->off < LIA_READ_CHUNK ? src->len - src->off : LIA_READ_CHUNK;
    *chunk = src->mem + src->off;
    src->off += n;
    return (ssize_t)n;
}

/* ---- archive thread: gzip the report into DIR/HASH.gz (atomically) ---- */

typedef struct archive_job {
    pthread_t thread;
    int started;
    char src[LIA_PATH_MAX]; /* the report file, or "" when mem is set */
    const char *mem;
    size_t len;
    char dst[LIA_PATH_MAX];
    char tmp[LIA_PATH_MAX]; /* dst.tmp.PID, renamed to dst when complete */
    int rc;
    char msg[LIA_PATH_MAX + 128]; /* a whole path and strerror() */
} archive_job;

/* A write of the archive failed: why (the system's reason, or zlib's), and
 * LIA_EFULL for a full disk. */
static void write_failed(archive_job *j, gzFile gz, int err_no)
{
    int zerr = Z_OK;
    const char *zmsg = gz ? gzerror(gz, &zerr) : NULL;
    if (!err_no && zerr == Z_ERRNO)
        err_no = errno;
    snprintf(j->msg, sizeof j->msg, "archive: writing %s: %s", j->tmp,
             err_no          ? strerror(err_no)
             : zmsg && *zmsg ? zmsg
                             : "write failed");
    j->rc = err_no == ENOSPC || err_no == EDQUOT ? LIA_EFULL : LIA_EIO;
}

/* Write all of a buffer into gz. */
static int archive_mem(archive_job *j, gzFile gz)
{
    for (size_t off = 0; off < j->len;) {
        unsigned n = j->len - off < LIA_READ_CHUNK ? (unsigned)(j->len - off) : LIA_READ_CHUNK;
        errno = 0;
        if (gzwrite(gz, j->mem + off, n) != (int)n) {
            write_failed(j, gz, errno);
            return LIA_EIO;
        }
        off += n;
    }
    return LIA_OK;
}

static void *archive_run(void *arg)
{
    archive_job *j = arg;
    const char *tmp = j->tmp; /* built with dst, both checked to fit */
    char *buf = NULL;
    gzFile gz = NULL;
    int in = -1, out = -1, zrc;
    j->rc = LIA_EIO;
    in = j->mem ? -1 : open(j->src, O_RDONLY | O_CLOEXEC);
    if (!j->mem && in < 0) {
        snprintf(j->msg, sizeof j->msg, "archive: cannot open %s: %s", j->src, strerror(errno));
        goto out;
    }
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (out < 0) {
        snprintf(j->msg, sizeof j->msg, "archive: cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    gz = gzdopen(dup(out), "wb1");
    buf = malloc(LIA_READ_CHUNK);
    if (!gz || !buf) {
        snprintf(j->msg, sizeof j->msg, "archive: out of memory");
        goto out;
    }
    if (j->mem && archive_mem(j, gz))
        goto out;
    while (!j->mem) {
        ssize_t n = read(in, buf, LIA_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(j->msg, sizeof j->msg, "archive: reading %s: %s", j->src, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        errno = 0;
        if (gzwrite(gz, buf, (unsigned)n) != (int)n) {
            write_failed(j, gz, errno);
            goto out;
        }
    }
    errno = 0;
    if ((zrc = gzclose(gz)) != Z_OK) {
        gz = NULL;
        write_failed(j, NULL, zrc == Z_ERRNO ? errno : 0);
        goto out;
    }
    gz = NULL;
    if (fsync(out) != 0 || rename(tmp, j->dst) != 0) {
        int e = errno;
        snprintf(j->msg, sizeof j->msg, "archive: finishing %s: %s", j->dst, strerror(e));
        j->rc = e == ENOSPC || e == EDQUOT ? LIA_EFULL : LIA_EIO;
        goto out;
    }
    j->rc = LIA_OK;
out:
    if (gz)
        gzclose(gz);
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (j->rc)
        unlink(tmp);
    free(buf);
    return NULL;
}

/* ---- the run ---- */

typedef struct run {
    lia_store *store;
    const lia_ingest_opts *o;
    lia_ingest_result *res;
    lia_report *rep;
    const lia_format *fmt;
    void *fst;
    const lia_stage *st[LIA_MAX_STAGES]; /* the stages that run (lia_stages less o->skip_stages) */
    void *sst[LIA_MAX_STAGES];
    size_t nstages;
    lia_batch batch;
    lia_records recs;
    uint64_t since_checkpoint;
    uint64_t last_line;     /* last record fully handled */
    uint64_t resume_after;
    uint64_t committed_line; /* lines_done as last committed */
    uint64_t progress_ns;
    uint64_t start_ns;
    uint64_t bytes_read;
    /* a chunk of a report (lia__ingest_chunk): the text's first pre_lines
     * lines are the report's preamble (skipped), the rest its lines from
     * chunk_first on */
    int chunked;
    uint64_t pre_lines, chunk_first;
} run;

static int flush_batch(run *r, lia_error *err)
{
    lia_counter *c = r->res->c;
    uint64_t t0;
    int rc;
    if (r->batch.n == 0)
        return LIA_OK;
    for (size_t i = 0; i < r->nstages; i++) {
        const lia_stage *st = r->st[i];
        lia_counter *sc = &c[st->id];
        t0 = lia__mono_ns();
        sc->in += r->batch.n;
        rc = st->process(r->sst[i], &r->batch, err);
        sc->ns += lia__mono_ns() - t0;
        if (rc)
            return rc;
        sc->out += r->batch.n;
    }
    t0 = lia__mono_ns();
    c[LIA_ST_STORE].in += r->batch.n;
    rc = lia__store_put_events(r->store, r->rep, r->batch.ev, r->batch.n, err);
    c[LIA_ST_STORE].ns += lia__mono_ns() - t0;
    if (rc) {
        c[LIA_ST_STORE].errors += r->batch.n;
        return rc;
    }
    c[LIA_ST_STORE].out += r->batch.n;
    lia__fault_point("ingest-mid-batch"); /* written, not committed */
    /* the stages that write about stored events do it now, in the batch's
     * transaction, with the ids the store gave it */
    for (size_t i = 0; i < r->nstages; i++) {
        const lia_stage *st = r->st[i];
        if (!st->stored)
            continue;
        t0 = lia__mono_ns();
        rc = st->stored(r->sst[i], &r->batch, err);
        c[st->id].ns += lia__mono_ns() - t0;
        if (rc)
            return rc;
    }
    r->rep->events += r->batch.n;
    r->since_checkpoint += r->batch.n;
    r->batch.n = 0;
    return LIA_OK;
}

/* Everything up to the last record handled, written in the open
 * transaction (the batch, the stages' own rows, the report's progress in
 * r->rep), not committed. */
static int write_tail(run *r, lia_error *err)
{
    int rc = flush_batch(r, err);
    uint64_t t0;
    if (rc)
        return rc;
    for (size_t i = 0; i < r->nstages; i++) {
        if (!r->st[i]->flush)
            continue;
        t0 = lia__mono_ns(); /* a stage's own writes count as its time */
        rc = r->st[i]->flush(r->sst[i], err);
        r->res->c[r->st[i]->id].ns += lia__mono_ns() - t0;
        if (rc)
            return rc;
    }
    if (r->last_line > r->rep->lines_done)
        r->rep->lines_done = r->last_line;
    return LIA_OK;
}

static int checkpoint(run *r, lia_error *err)
{
    int rc = write_tail(r, err);
    uint64_t t0;
    if (rc)
        return rc;
    t0 = lia__mono_ns();
    rc = lia__store_checkpoint(r->store, r->rep, err);
    r->res->c[LIA_ST_STORE].ns += lia__mono_ns() - t0;
    if (rc == LIA_OK)
        r->committed_line = r->rep->lines_done;
    r->since_checkpoint = 0;
    return rc;
}

static int quarantine(run *r, const lia_record *rec, const lia_error *why, lia_error *err)
{
    lia_error e = *why;
    lia_error_where(&e, r->rep->name, rec->line);
    r->rep->quarantined++;
    return lia__store_put_quarantine(r->store, r->rep, rec->line, rec->raw, &e, err);
}

static void apply_defaults(run *r, lia_event *ev)
{
    const lia_feed_opts *fo = &r->o->feed;
    if (!lia_event_has(ev, LIA_F_FEED_NAME) && fo->feed)
        lia_event_set_str(ev, LIA_F_FEED_NAME, fo->feed, strlen(fo->feed));
    if (!lia_event_has(ev, LIA_F_FEED_PROVIDER) && fo->provider)
        lia_event_set_str(ev, LIA_F_FEED_PROVIDER, fo->provider, strlen(fo->provider));
    if (!lia_event_has(ev, LIA_F_TIME_OBSERVATION))
        lia_event_set_i(ev, LIA_F_TIME_OBSERVATION, fo->observed_us);
    if (!lia_event_has(ev, LIA_F_TLP) && fo->tlp >= 0)
        lia_event_set_i(ev, LIA_F_TLP, fo->tlp);
}

static void progress(run *r, int final)
{
    FILE *p = r->o->progress;
    uint64_t t = lia__mono_ns();
    double secs;
    if (!p || (!final && t - r->progress_ns < 500000000u))
        return;
    r->progress_ns = t;
    secs = (double)(t - r->start_ns) / 1e9;
    fprintf(p, "\r%s: %.1f/%.1f MB, %llu rows, %llu events, %llu quarantined, %.0f events/s%s",
            r->rep->name, (double)r->bytes_read / 1e6, (double)r->rep->size / 1e6,
            (unsigned long long)r->rep->rows, (unsigned long long)r->rep->events,
            (unsigned long long)r->rep->quarantined,
            secs > 0 ? (double)r->res->c[LIA_ST_STORE].out / secs : 0.0, final ? "\n" : "   ");
    fflush(p);
}

static int handle_records(run *r, lia_error *err)
{
    lia_counter *c = r->res->c;
    size_t cap = r->o->batch ? r->o->batch : LIA_BATCH;
    size_t commit = r->o->commit_every ? r->o->commit_every : LIA_COMMIT_EVENTS;
    uint64_t t0 = lia__mono_ns(), tflush = 0;
    int rc = LIA_OK;
    for (size_t i = 0; i < r->recs.n; i++) {
        const lia_record *rec = &r->recs.rec[i];
        lia_error why;
        /* a stop request between two lines (never between two records of
         * one line: a resume skips whole lines): the caller commits what
         * came before. A document format hands over all its records in one
         * chunk, so waiting for the chunk's end could take minutes. */
        if (r->o->stop && *r->o->stop && i > 0 && rec->line != r->recs.rec[i - 1].line) {
            rc = LIA_EINTR;
            goto out;
        }
        if (rec->line <= r->resume_after)
            continue; /* stored by an earlier, interrupted run */
        r->rep->rows++;
        c[LIA_ST_PARSE].in++;
        if (rec->err) {
            c[LIA_ST_PARSE].errors++;
            lia_error_set(&why, rec->err, NULL, NULL, 0, "%s", rec->why ? rec->why : "malformed record");
            if ((rc = quarantine(r, rec, &why, err)))
                goto out;
            r->last_line = rec->line;
            continue;
        }
        c[LIA_ST_PARSE].out++;
        c[LIA_ST_NORMALISE].in++;
        lia_event *ev = &r->batch.ev[r->batch.n];
        lia_event_reset(ev);
        lia_error_clear(&why);
        rc = r->fmt->normalise(r->fst, &r->recs, rec, ev, &why);
        if (rc == LIA_OK) {
            apply_defaults(r, ev);
            rc = lia_event_finish(ev, &why);
        }
        if (rc == LIA_ENOTFOUND) { /* a record without an event (e.g. a comment) */
            r->last_line = rec->line;
            rc = LIA_OK; /* not an error, even for the last record of a chunk */
            continue;
        }
        if (rc == LIA_ENOMEM) {
            *err = why;
            goto out;
        }
        if (rc) {
            c[LIA_ST_NORMALISE].errors++;
            if ((rc = quarantine(r, rec, &why, err)))
                goto out;
            r->last_line = rec->line;
            continue;
        }
        c[LIA_ST_NORMALISE].out++;
        ev->report_id = r->rep->id;
        ev->line = rec->line;
        r->batch.n++;
        r->last_line = rec->line;
        if (r->batch.n == cap) {
            uint64_t tf = lia__mono_ns();
            rc = r->since_checkpoint + r->batch.n >= commit ? checkpoint(r, err) : flush_batch(r, err);
            tflush += lia__mono_ns() - tf;
            if (rc)
                goto out;
        }
    }
out:
    c[LIA_ST_NORMALISE].ns += lia__mono_ns() - t0 - tflush;
    return rc;
}

static void close_run(run *r)
{
    if (r->fmt && r->fst && r->fmt->warning && r->res) {
        const char *w = r->fmt->warning(r->fst);
        if (w && *w)
            snprintf(r->res->warning, sizeof r->res->warning, "%s", w);
    }
    if (r->fmt && r->fst)
        r->fmt->close(r->fst);
    for (size_t i = 0; i < r->nstages; i++)
        if (r->st[i]->close)
            r->st[i]->close(r->sst[i]);
    if (r->batch.ev) {
        for (size_t i = 0; i < r->batch.cap; i++)
            lia_event_free(&r->batch.ev[i]);
        free(r->batch.ev);
    }
    lia__records_free(&r->recs);
}

static int pipeline(run *r, source *src, lia_error *err)
{
    const lia_ingest_opts *o = r->o;
    lia_counter *c = r->res->c;
    struct lia_ingest ing = {r->store, o, r->rep};
    char *buf = NULL;
    int rc, eof = 0;

    r->batch.cap = o->batch ? o->batch : LIA_BATCH;
    r->batch.ev = calloc(r->batch.cap, sizeof *r->batch.ev);
    buf = malloc(LIA_READ_CHUNK);
    if (!r->batch.ev || !buf) {
        free(buf);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    for (size_t i = 0; i < r->batch.cap; i++)
        lia_event_init(&r->batch.ev[i]);
    lia__records_init(&r->recs);
    if ((rc = r->fmt->open(&r->fst, &o->feed, err))) {
        r->fst = NULL;
        goto out;
    }
    const lia_stage *const *stages = o->stages ? o->stages : lia_stages;
    for (size_t i = 0; stages[i]; i++) {
        if (o->skip_stages & (1u << stages[i]->id))
            continue;
        if (r->nstages == LIA_MAX_STAGES) {
            rc = lia_error_set(err, LIA_ELIMIT, "stages", NULL, 0, "more than %d stages in the table",
                               LIA_MAX_STAGES);
            goto out;
        }
        r->st[r->nstages] = stages[i];
        if ((rc = stages[i]->open(&r->sst[r->nstages], &ing, err)))
            goto out;
        r->nstages++;
    }
    while (!eof) {
        uint64_t t0 = lia__mono_ns();
        const char *chunk;
        ssize_t n = source_read(src, buf, &chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "reading %s: %s", r->rep->name, strerror(errno));
            goto out;
        }
        eof = n == 0;
        r->bytes_read += (uint64_t)n;
        c[LIA_ST_READ].in += (uint64_t)n;
        c[LIA_ST_READ].out += (uint64_t)n;
        c[LIA_ST_READ].ns += lia__mono_ns() - t0;
        t0 = lia__mono_ns();
        lia__records_clear(&r->recs);
        rc = r->fmt->parse(r->fst, chunk, (size_t)n, eof, &r->recs, err);
        c[LIA_ST_PARSE].ns += lia__mono_ns() - t0;
        if (rc) {
            lia_error_where(err, r->rep->name, 0);
            goto out;
        }
        if (r->chunked)
            for (size_t i = 0; i < r->recs.n; i++) { /* the text's lines as the report's */
                lia_record *rec = &r->recs.rec[i];
                rec->line = rec->line <= r->pre_lines ? 0 : rec->line - r->pre_lines - 1 + r->chunk_first;
            }
        if ((rc = handle_records(r, err)) && rc != LIA_EINTR)
            goto out;
        progress(r, 0);
        if (rc == LIA_EINTR || (o->stop && *o->stop)) {
            rc = checkpoint(r, err);
            if (rc == LIA_OK)
                rc = lia_error_set(err, LIA_EINTR, NULL, NULL, 0,
                                   "interrupted after line %llu; run the same ingest again to resume",
                                   (unsigned long long)r->rep->lines_done);
            goto out;
        }
    }
    rc = write_tail(r, err); /* committed by the caller, with the report complete */
out:
    free(buf);
    return rc;
}

static void hash_mem(const char *data, size_t len, char hex[65])
{
    unsigned char h[32];
    static const char digits[] = "0123456789abcdef";
    crypto_generichash(h, sizeof h, (const unsigned char *)data, len, NULL, 0);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[h[i] >> 4];
        hex[2 * i + 1] = digits[h[i] & 15];
    }
    hex[64] = '\0';
}

/* The archive's paths for the report: ARCHIVE_DIR/HASH.gz, written as
 * ARCHIVE_DIR/HASH.gz.tmp.PID, and the file to copy (archive_src, or "" to
 * copy the report in memory). A path longer than LIA_PATH_MAX is LIA_ELIMIT
 * naming it, never a shorter path. */
static int archive_paths(run *r, archive_job *job, const char *archive_src, lia_error *err)
{
    int rc;
    snprintf(r->rep->archive, sizeof r->rep->archive, "%s.gz", r->rep->hash);
    if ((rc = lia__path_fmt(job->dst, sizeof job->dst, err, "archive file", "%s/%s",
                            lia_store_archive_dir(r->store), r->rep->archive)) ||
        (rc = lia__path_fmt(job->tmp, sizeof job->tmp, err, "archive temporary file", "%s.tmp.%ld", job->dst,
                            (long)getpid())) ||
        (rc = lia__path_fmt(job->src, sizeof job->src, err, "report file", "%s",
                            archive_src ? archive_src : "")))
        return rc;
    return LIA_OK;
}

/* Steps 2 to 4 for a report whose hash and size are known: register it,
 * archive it (from archive_src, or from src->mem), run the pipeline,
 * finish. */
static int ingest_report(run *r, source *src, const char *archive_src, lia_error *err)
{
    lia_store *s = r->store;
    const lia_ingest_opts *o = r->o;
    lia_ingest_result *res = r->res;
    archive_job job;
    int rc;

    memset(&job, 0, sizeof job);
    if (o->archive && (rc = archive_paths(r, &job, archive_src, err)))
        return rc; /* before the report is registered: nothing to resume */
    /* 2. new, resumed, or already complete */
    if ((rc = lia__store_report_begin(s, r->rep, err)))
        return rc;
    lia__fault_point("ingest-early");
    if (r->rep->state == LIA_REPORT_COMPLETE) {
        res->skipped = 1;
        return LIA_OK;
    }
    if (r->rep->state == LIA_REPORT_PARTIAL) {
        /* published on the bus: the workers' chunks are not in lines_done */
        if ((rc = lia__bus_report_guard(s, r->rep, err)))
            return rc;
        res->resumed = 1;
        r->resume_after = r->committed_line = r->rep->lines_done;
    }

    /* 3. archive in the background */
    if (o->archive) {
        struct stat stt;
        job.mem = src->mem;
        job.len = src->len;
        if (stat(job.dst, &stt) != 0) {
            if (pthread_create(&job.thread, NULL, archive_run, &job) != 0)
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "cannot start the archive thread");
            job.started = 1;
        }
    }

    /* 4. the pipeline, its last events left uncommitted */
    rc = pipeline(r, src, err);
    close_run(r);
    /* 5. the archive is written before anything more is committed: if it
     * failed, the last batch is rolled back and the report stays partial
     * (a small report: nothing of it is stored) */
    if (job.started) {
        pthread_join(job.thread, NULL);
        if (job.rc && rc == LIA_OK)
            rc = lia_error_set(err, job.rc, NULL, NULL, 0,
                               "%s; events after line %llu not stored: run the same ingest again", job.msg,
                               (unsigned long long)r->committed_line);
    }
    /* 6. one transaction: the last events, the report complete, its stats,
     * the indexes after a bulk load */
    if (rc == LIA_OK) {
        uint64_t t0 = lia__mono_ns();
        r->rep->finished_us = lia__now_us();
        rc = lia__store_report_complete(s, r->rep, res->c, err);
        res->c[LIA_ST_STORE].ns += lia__mono_ns() - t0;
        if (rc)
            r->rep->finished_us = 0;
    }
    if (rc) {
        lia__store_abort(s); /* the uncommitted tail: nothing of it is kept */
        lia_error_where(err, r->rep->name, 0);
        if (rc == LIA_EINTR) /* stopped at a checkpoint: what it did is stored */
            lia__store_stats_add(s, r->rep->feed, res->c, NULL);
    }
    progress(r, 1);
    return rc;
}

/* Step 1 is the caller's: o checked, the run set up. */
static int run_init(run *r, lia_store *s, const lia_ingest_opts *o, lia_ingest_result *res, lia_error *err)
{
    memset(res, 0, sizeof *res);
    memset(r, 0, sizeof *r);
    r->store = s;
    r->o = o;
    r->res = res;
    r->rep = &res->report;
    r->start_ns = lia__mono_ns();
    r->fmt = lia_format_find(o->format ? o->format : "");
    if (!r->fmt)
        return lia_error_set(err, LIA_EINVAL, "format", o->format, o->format ? strlen(o->format) : 0,
                             "unknown format");
    if (sodium_init() < 0)
        return lia_error_set(err, LIA_ECRYPTO, NULL, NULL, 0, "libsodium failed to initialise");
    return LIA_OK;
}

static void set_names(run *r, const char *fallback)
{
    const lia_ingest_opts *o = r->o;
    snprintf(r->rep->feed, sizeof r->rep->feed, "%s", o->feed.feed ? o->feed.feed : "");
    snprintf(r->rep->name, sizeof r->rep->name, "%s", o->feed.report_name ? o->feed.report_name : fallback);
}

int lia_ingest(lia_store *s, const lia_ingest_opts *o, lia_ingest_result *res, lia_error *err)
{
    run r;
    source src = {.fd = -1};
    char spool[LIA_PATH_MAX] = "";
    int rc;
    const int is_stdin = strcmp(o->path, "-") == 0;

    if ((rc = run_init(&r, s, o, res, err)))
        return rc;

    /* 1. identify the report by its content */
    if (is_stdin) {
        int sp;
        if ((rc = lia__path_fmt(spool, sizeof spool, err, "spool file", "%s/spool-XXXXXX",
                                lia_store_archive_dir(s))))
            return rc;
        sp = mkstemp(spool);
        if (sp < 0)
            return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot create spool file %s: %s", spool,
                                 strerror(errno));
        rc = hash_input(STDIN_FILENO, sp, r.rep->hash, &r.rep->size, err);
        close(sp);
        if (rc)
            goto out;
        src.fd = open(spool, O_RDONLY | O_CLOEXEC);
    } else {
        src.fd = open(o->path, O_RDONLY | O_CLOEXEC);
        if (src.fd < 0)
            return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot open %s: %s", o->path, strerror(errno));
        rc = hash_input(src.fd, -1, r.rep->hash, &r.rep->size, err);
        if (rc)
            goto out;
        lseek(src.fd, 0, SEEK_SET);
    }
    if (src.fd < 0) {
        rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot reopen %s: %s", spool, strerror(errno));
        goto out;
    }
    set_names(&r, is_stdin ? "-" : base_name(o->path));
    rc = ingest_report(&r, &src, is_stdin ? spool : o->path, err);
out:
    if (src.fd >= 0)
        close(src.fd);
    if (spool[0])
        unlink(spool);
    res->bytes = r.bytes_read;
    res->seconds = (double)(lia__mono_ns() - r.start_ns) / 1e9;
    return rc;
}

int lia_ingest_buffer(lia_store *s, const lia_ingest_opts *o, const void *data, size_t len,
                      lia_ingest_result *res, lia_error *err)
{
    run r;
    source src = {.fd = -1, .mem = data ? data : "", .len = data ? len : 0};
    int rc;

    if ((rc = run_init(&r, s, o, res, err)))
        return rc;
    /* 1. identify the report by its content */
    hash_mem(src.mem, src.len, r.rep->hash);
    r.rep->size = src.len;
    set_names(&r, "-");
    rc = ingest_report(&r, &src, NULL, err);
    res->bytes = r.bytes_read;
    res->seconds = (double)(lia__mono_ns() - r.start_ns) / 1e9;
    return rc;
}

/* ---- a report in chunks (src/bus/: liaison ingest --bus, liaison worker) ---- */

int lia__ingest_register(lia_store *s, const lia_ingest_opts *o, lia_report *rep, lia_error *err)
{
    run r;
    lia_ingest_result *res = malloc(sizeof *res);
    struct lia_ingest ing;
    archive_job *job = calloc(1, sizeof *job);
    struct stat stt;
    int fd = -1, rc;
    if (!res || !job) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    if ((rc = run_init(&r, s, o, res, err)))
        goto out;
    if ((fd = open(o->path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot open %s: %s", o->path, strerror(errno));
        goto out;
    }
    if ((rc = hash_input(fd, -1, r.rep->hash, &r.rep->size, err)))
        goto out;
    set_names(&r, base_name(o->path));
    if (o->archive && (rc = archive_paths(&r, job, o->path, err)))
        goto out;
    lia__store_set_bulk_min(s, UINT64_MAX); /* workers write it: never without its indexes */
    if ((rc = lia__store_report_begin(s, r.rep, err)))
        goto out;
    if (r.rep->state == LIA_REPORT_COMPLETE)
        goto done;
    /* the stages' own setup once (e.g. dedup's hash key), before workers
     * open them concurrently */
    ing = (struct lia_ingest){s, o, r.rep};
    {
        const lia_stage *const *stages = o->stages ? o->stages : lia_stages;
        for (size_t i = 0; stages[i] && rc == LIA_OK; i++) {
            void *st = NULL;
            if ((rc = stages[i]->open(&st, &ing, err)) == LIA_OK && stages[i]->close)
                stages[i]->close(st);
        }
        if (rc)
            goto out;
    }
    if (o->archive && stat(job->dst, &stt) != 0) { /* once, before any chunk is stored */
        archive_run(job);
        if (job->rc) {
            rc = lia_error_set(err, job->rc, NULL, NULL, 0, "%s", job->msg);
            r.rep->archive[0] = '\0';
            goto out;
        }
    }
    if (!o->archive)
        r.rep->archive[0] = '\0';
    if ((rc = lia__store_checkpoint(s, r.rep, err))) /* the archive's name, the report partial */
        goto out;
done:
    *rep = *r.rep;
out:
    if (fd >= 0)
        close(fd);
    free(job);
    free(res);
    return rc;
}

int lia__ingest_chunk(lia_store *s, const lia_ingest_opts *o, const lia_report *rep, const char *text,
                      size_t len, uint64_t pre_lines, uint64_t first, lia_ingest_result *res, lia_error *err)
{
    run r;
    lia_ingest_opts co = *o;
    source src = {.fd = -1, .mem = text ? text : "", .len = text ? len : 0};
    int rc;
    co.commit_every = SIZE_MAX / 2; /* one transaction: the caller's */
    co.archive = 0;
    co.progress = NULL;
    co.stop = NULL; /* a chunk is finished once started */
    if ((rc = run_init(&r, s, &co, res, err)))
        return rc;
    *r.rep = *rep;
    r.rep->rows = r.rep->events = r.rep->quarantined = r.rep->duplicates = 0;
    r.rep->lines_done = 0;
    r.chunked = 1;
    r.pre_lines = pre_lines;
    r.chunk_first = first ? first : 1;
    rc = pipeline(&r, &src, err);
    close_run(&r);
    if (rc) {
        lia__store_abort(s);
        lia_error_where(err, r.rep->name, 0);
    }
    r.rep->lines_done = r.last_line;
    res->bytes = r.bytes_read;
    res->seconds = (double)(lia__mono_ns() - r.start_ns) / 1e9;
    return rc;
}
