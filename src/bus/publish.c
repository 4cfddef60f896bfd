/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison ingest --bus: a report in chunks of whole records onto the stream.
 *
 * One pass over the file: each read buffer goes to the format's own parser
 * (which knows where its records start) and to a line index of the bytes
 * not yet published; a chunk is cut before the line of the record that
 * would make it too long (records, bytes), so a chunk is whole records and
 * whole lines. The report's preamble (the lines before its first record
 * that is an event or an error: a CSV header, comments) goes with every
 * chunk after the first, for the worker's parser to read first. Memory:
 * one chunk and one read buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus/internal.h"
#include "core/clock.h"
#include "core/fault.h"
#include "core/records.h"
#include "liaison/limits.h"
#include "pipeline/chunk.h"
#include "store/backend.h"

/* Formats whose records are lines (or runs of lines): split at record
 * starts. Any other (a JSON or XML document) is sent as one chunk. */
static const char *const line_formats[] = {
    "jsonl",    "csv",           "shadowserver", "blocklistde", "dshield-block", "feodotracker",
    "misp-csv", "misp-freetext", "openphish",    "phishtank",   "spamhaus-drop", NULL,
};

typedef struct pub {
    lia_bus bus;
    lia_store *s;
    const lia_ingest_opts *o;
    lia_bus_publish_result *res;
    const lia_report *rep;
    size_t chunk_records;
    int splittable;
    size_t max_payload;
    /* the bytes not yet published: lines first.. with the offset of each */
    lia_buf pend;
    size_t *off;
    size_t noff, capoff;
    uint64_t first;    /* line number of pend's first byte */
    uint64_t nrec;     /* records in the current chunk */
    uint64_t last_rec; /* line of the last record seen */
    int pre_known;     /* the preamble's length is known */
    uint64_t pre_lines;
    lia_buf pre;    /* the preamble's text */
    lia_buf msg;    /* the message being sent */
    uint64_t chunk; /* chunks cut so far */
    int64_t *done;  /* chunks already stored (sorted), skipped */
    size_t ndone;
    lia_event ev;
    int waiting;
} pub;

static int is_line_format(const char *name)
{
    for (size_t i = 0; line_formats[i]; i++)
        if (strcmp(line_formats[i], name) == 0)
            return 1;
    return 0;
}

static int grow_off(pub *p, size_t need, lia_error *err)
{
    size_t *n;
    size_t cap;
    if (need <= p->capoff)
        return LIA_OK;
    cap = p->capoff ? p->capoff * 2 : 4096;
    while (cap < need)
        cap *= 2;
    if (!(n = realloc(p->off, cap * sizeof *n)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    p->off = n;
    p->capoff = cap;
    return LIA_OK;
}

/* Append a read buffer to pend and index the lines that start in it. */
static int take_bytes(pub *p, const char *buf, size_t n, lia_error *err)
{
    size_t base = p->pend.len;
    if (p->noff == 0) { /* the first line of pend starts at 0 */
        if (grow_off(p, 1, err))
            return LIA_ENOMEM;
        p->off[p->noff++] = 0;
    }
    if (lia_buf_append(&p->pend, buf, n))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory (a chunk of %zu bytes)",
                             p->pend.len);
    for (const char *q = buf, *end = buf + n; (q = memchr(q, '\n', (size_t)(end - q))); q++) {
        if (grow_off(p, p->noff + 1, err))
            return LIA_ENOMEM;
        p->off[p->noff++] = base + (size_t)(q - buf) + 1;
    }
    return LIA_OK;
}

static int is_done(const pub *p, uint64_t chunk)
{
    size_t lo = 0, hi = p->ndone;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->done[mid] == (int64_t)chunk)
            return 1;
        if (p->done[mid] < (int64_t)chunk)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int set_header(natsMsg *m, const char *k, const char *v)
{
    if (!v || !*v) /* absent (an empty value would spoil the whole header block) */
        return 0;
    return natsMsgHeader_Set(m, k, v) == NATS_OK ? 0 : -1;
}

/* Publish text (the chunk's bytes) as chunk p->chunk, waiting while the
 * stream is full. */
static int send_chunk(pub *p, const char *text, size_t len, uint64_t first, lia_error *err)
{
    const lia_ingest_opts *o = p->o;
    natsMsg *m = NULL;
    jsPubAck *ack = NULL;
    jsPubOptions po;
    jsErrCode jerr = 0;
    natsStatus s;
    char id[96], num[4][24];
    int rc = LIA_OK;
    uint64_t pre = p->chunk > 1 ? p->pre_lines : 0;

    if (is_done(p, p->chunk))
        return LIA_OK; /* stored by a worker before the crash of an earlier run */
    lia_buf_reset(&p->msg);
    if (pre)
        lia_buf_append(&p->msg, p->pre.ptr, p->pre.len);
    lia_buf_append(&p->msg, text, len);
    if (p->msg.err)
        return lia_error_set(err, p->msg.err, NULL, NULL, 0, "chunk %llu of %s: too large",
                             (unsigned long long)p->chunk, p->rep->name);
    if (p->msg.len + 4096 > p->max_payload)
        return lia_error_set(
            err, LIA_ELIMIT, NULL, NULL, 0,
            "chunk %llu of %s (lines %llu on): %zu bytes, more than the bus's maximum payload "
            "(%zu bytes; a record that long, or a format that is not split: ingest it without --bus)",
            (unsigned long long)p->chunk, p->rep->name, (unsigned long long)first, p->msg.len,
            p->max_payload);
    /* the report's id too: the same bytes ingested again after a prune are
     * a new report, not a duplicate */
    snprintf(id, sizeof id, "%s.%lld.%llu", p->rep->hash, (long long)p->rep->id,
             (unsigned long long)p->chunk);
    snprintf(num[0], sizeof num[0], "%lld", (long long)p->rep->id);
    snprintf(num[1], sizeof num[1], "%llu", (unsigned long long)p->chunk);
    snprintf(num[2], sizeof num[2], "%llu", (unsigned long long)first);
    snprintf(num[3], sizeof num[3], "%llu", (unsigned long long)pre);
    if (natsMsg_Create(&m, p->bus.subject, NULL, p->msg.ptr, (int)p->msg.len) != NATS_OK)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    {
        char tlp[16], obs[24];
        snprintf(tlp, sizeof tlp, "%d", o->feed.tlp);
        snprintf(obs, sizeof obs, "%lld", (long long)o->feed.observed_us);
        if (set_header(m, "Nats-Msg-Id", id) || set_header(m, "Liaison-Report", num[0]) ||
            set_header(m, "Liaison-Hash", p->rep->hash) || set_header(m, "Liaison-Chunk", num[1]) ||
            set_header(m, "Liaison-First", num[2]) || set_header(m, "Liaison-Pre", num[3]) ||
            set_header(m, "Liaison-Format", o->format) || set_header(m, "Liaison-Feed", o->feed.feed) ||
            set_header(m, "Liaison-Provider", o->feed.provider) ||
            set_header(m, "Liaison-Name", o->feed.report_name) ||
            set_header(m, "Liaison-Map", o->feed.map_path) ||
            set_header(m, "Liaison-Subtype", o->feed.subtype) || set_header(m, "Liaison-Tlp", tlp) ||
            set_header(m, "Liaison-Observed", obs)) {
            natsMsg_Destroy(m);
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory (message headers)");
        }
    }
    jsPubOptions_Init(&po);
    po.MaxWait = 10000;
    for (;;) {
        jerr = 0;
        s = js_PublishMsg(&ack, p->bus.js, m, &po, &jerr);
        if (s == NATS_OK)
            break;
        /* the stream full (discard new), or the server busy or away for a
         * moment: wait and send it again (the same id: never twice) */
        if (jerr == JSStreamStoreFailedErr || jerr == JSStorageResourcesExceededErr || s == NATS_TIMEOUT ||
            s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_DISCONNECTED) {
            if (o->stop && *o->stop) {
                rc = lia_error_set(err, LIA_EINTR, NULL, NULL, 0, "interrupted while the stream was full");
                goto out;
            }
            if (!p->waiting)
                p->res->waits++;
            p->waiting = 1;
            nats_Sleep(100);
            continue;
        }
        rc = lia__bus_error(&p->bus, err, "publishing a chunk", s, jerr);
        goto out;
    }
    p->waiting = 0;
    p->res->published++;
    lia__fault_point("bus-mid-publish"); /* crash tests: the publisher killed between two chunks */
    if (ack && ack->Duplicate)
        p->res->duplicates++;
out:
    if (ack)
        jsPubAck_Destroy(ack);
    natsMsg_Destroy(m);
    return rc;
}

/* Cut the chunk before line `line` (or, line 0, everything) and send it. */
static int cut(pub *p, uint64_t line, lia_error *err)
{
    size_t end, k = line ? (size_t)(line - p->first) : p->noff;
    int rc;
    end = line ? p->off[k] : p->pend.len;
    if (end == 0 && !line && p->chunk > 0)
        return LIA_OK; /* nothing left */
    p->chunk++;
    if ((rc = send_chunk(p, p->pend.ptr, end, p->first, err)))
        return rc;
    /* keep what follows */
    memmove(p->pend.ptr, p->pend.ptr + end, p->pend.len - end);
    p->pend.len -= end;
    if (line) {
        for (size_t i = k; i < p->noff; i++)
            p->off[i - k] = p->off[i] - end;
        p->noff -= k;
        p->first = line;
    } else {
        p->noff = 0;
    }
    p->nrec = 0;
    return LIA_OK;
}

/* The records of one parse call: find the preamble, cut chunks. */
static int take_records(pub *p, const lia_format *fmt, void *fst, lia_records *recs, lia_error *err)
{
    int rc;
    for (size_t i = 0; i < recs->n; i++) {
        const lia_record *rec = &recs->rec[i];
        if (!p->pre_known) {
            lia_error why;
            lia_error_clear(&why);
            lia_event_reset(&p->ev);
            rc = rec->err ? LIA_EPARSE : fmt->normalise(fst, recs, rec, &p->ev, &why);
            if (rc == LIA_ENOTFOUND)
                continue; /* a comment or header record: part of the preamble */
            p->pre_known = 1;
            p->pre_lines = rec->line ? rec->line - 1 : 0;
            if (p->pre_lines > 0 && p->pre_lines < p->noff) {
                size_t n = p->off[p->pre_lines]; /* pend still starts at line 1 */
                if (n > LIA_BUS_PREAMBLE_MAX)
                    return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0,
                                         "%s: %llu lines (%zu bytes) before the first record: more than the "
                                         "bus sends with every chunk (%zu bytes)",
                                         p->rep->name, (unsigned long long)p->pre_lines, n,
                                         LIA_BUS_PREAMBLE_MAX);
                lia_buf_append(&p->pre, p->pend.ptr, n);
                if (p->pre.err)
                    return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            }
        }
        if (p->splittable && rec->line > p->last_rec && rec->line > p->first &&
            rec->line - p->first < p->noff &&
            (p->nrec >= p->chunk_records || p->off[rec->line - p->first] >= LIA_BUS_CHUNK_BYTES)) {
            if ((rc = cut(p, rec->line, err)))
                return rc;
            if (p->o->stop && *p->o->stop)
                return lia_error_set(err, LIA_EINTR, NULL, NULL, 0,
                                     "interrupted after chunk %llu; run the same ingest again to go on",
                                     (unsigned long long)p->chunk);
        }
        if (rec->line > p->last_rec)
            p->last_rec = rec->line;
        p->nrec++;
    }
    return LIA_OK;
}

static int load_bus_row(pub *p, size_t *chunk_records, lia_error *err)
{
    lia_db *db = lia__store_db(p->s);
    lia_stmt *st;
    int rc;
    int64_t cr = 0;
    if ((rc = lia__bus_schema(db, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "bus: reading a report's chunk size",
                              "SELECT chunk_records FROM bus_reports WHERE report_id=?", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, p->rep->id);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        cr = lia__db_col_int64(st, 0);
    lia__db_done(st);
    if (rc < 0)
        return rc;
    if (cr > 0) {
        *chunk_records = (size_t)cr; /* as first published: the same chunks */
    } else {
        if (p->rep->lines_done > 0)
            return lia_error_set(err, LIA_ESTATE, NULL, NULL, 0,
                                 "%s (report #%lld) was partly ingested without the bus (up to line %llu): "
                                 "resume it with liaison ingest, without --bus",
                                 p->rep->name, (long long)p->rep->id, (unsigned long long)p->rep->lines_done);
        if ((rc = lia__db_prepare(db, "bus: registering a report",
                                  "INSERT INTO bus_reports(report_id, chunk_records, done, published)"
                                  " VALUES(?,?,0,?) ON CONFLICT(report_id) DO NOTHING",
                                  &st, err)))
            return rc;
        lia__db_bind_int64(st, 1, p->rep->id);
        lia__db_bind_int64(st, 2, (int64_t)*chunk_records);
        lia__db_bind_int64(st, 3, lia__now_us());
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            return rc;
    }
    /* the chunks stored already (a re-run after a crash) */
    if ((rc = lia__db_prepare(db, "bus: reading a report's chunks done",
                              "SELECT chunk FROM bus_chunks WHERE report_id=? ORDER BY chunk", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, p->rep->id);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        if (p->ndone % 1024 == 0) {
            int64_t *n = realloc(p->done, (p->ndone + 1024) * sizeof *n);
            if (!n) {
                lia__db_done(st);
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            }
            p->done = n;
        }
        p->done[p->ndone++] = lia__db_col_int64(st, 0);
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static int finish(pub *p, lia_error *err)
{
    lia_db *db = lia__store_db(p->s);
    int rc, completed = 0;
    if ((rc = lia__db_begin(db, err)))
        return rc;
    if ((rc = lia__bus_report_progress(p->s, p->rep->id, p->chunk, &completed, err))) {
        lia__db_rollback(db);
        return rc;
    }
    if ((rc = lia__db_commit(db, err)))
        return rc;
    p->res->complete = completed;
    return LIA_OK;
}

int lia_bus_publish(lia_store *s, const lia_bus_opts *b, const lia_ingest_opts *o, size_t chunk_records,
                    lia_bus_publish_result *res, lia_error *err)
{
    pub p;
    const lia_format *fmt = lia_format_find(o->format ? o->format : "");
    void *fst = NULL;
    lia_records recs;
    char *buf = NULL;
    int fd = -1, rc, eof = 0;
    uint64_t t0 = lia__mono_ns();

    memset(res, 0, sizeof *res);
    memset(&p, 0, sizeof p);
    lia__records_init(&recs);
    lia_buf_init(&p.pend, (size_t)64 << 20);
    lia_buf_init(&p.pre, LIA_BUS_PREAMBLE_MAX + 1);
    lia_buf_init(&p.msg, (size_t)80 << 20);
    lia_event_init(&p.ev);
    p.s = s;
    p.o = o;
    p.res = res;
    p.rep = &res->report;
    p.first = 1;
    p.chunk_records = chunk_records ? chunk_records : LIA_BUS_CHUNK_RECORDS;
    if (!fmt) {
        rc = lia_error_set(err, LIA_EINVAL, "format", o->format, o->format ? strlen(o->format) : 0,
                           "unknown format");
        goto out;
    }
    if (!o->path || strcmp(o->path, "-") == 0) {
        rc = lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "--bus reads a file, not standard input");
        goto out;
    }
    p.splittable = is_line_format(fmt->name);
    /* 1. register and archive (once), in the store */
    if ((rc = lia__ingest_register(s, o, &res->report, err)))
        goto out;
    if (res->report.state == LIA_REPORT_COMPLETE) {
        res->skipped = 1;
        goto out;
    }
    if ((rc = load_bus_row(&p, &p.chunk_records, err)))
        goto out;
    /* 2. the chunks */
    if ((rc = lia__bus_open(&p.bus, b, err)))
        goto out;
    p.max_payload = (size_t)natsConnection_GetMaxPayload(p.bus.nc);
    if ((fd = open(o->path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot open %s: %s", o->path, strerror(errno));
        goto out;
    }
    if (!(buf = malloc(LIA_READ_CHUNK))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    if ((rc = fmt->open(&fst, &o->feed, err))) {
        fst = NULL;
        goto out;
    }
    while (!eof) {
        ssize_t n = read(fd, buf, LIA_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "reading %s: %s", o->path, strerror(errno));
            goto out;
        }
        eof = n == 0;
        if ((rc = take_bytes(&p, buf, (size_t)n, err)))
            goto out;
        lia__records_clear(&recs);
        if ((rc = fmt->parse(fst, buf, (size_t)n, eof, &recs, err))) {
            lia_error_where(err, res->report.name, 0);
            goto out;
        }
        if ((rc = take_records(&p, fmt, fst, &recs, err)))
            goto out;
    }
    if ((rc = cut(&p, 0, err))) /* the rest */
        goto out;
    res->chunks = p.chunk;
    /* 3. the count: the report completes when every chunk is stored */
    rc = finish(&p, err);
out:
    if (fmt && fst)
        fmt->close(fst);
    if (fd >= 0)
        close(fd);
    lia__bus_close(&p.bus);
    free(buf);
    free(p.off);
    free(p.done);
    lia_buf_free(&p.pend);
    lia_buf_free(&p.pre);
    lia_buf_free(&p.msg);
    lia_event_free(&p.ev);
    lia__records_free(&recs);
    res->chunks = p.chunk;
    res->seconds = (double)(lia__mono_ns() - t0) / 1e9;
    return rc;
}
