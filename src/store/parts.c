/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The events table's partitions on SQLite (store/parts.h says what and
 * why). Owner of the tables event_part and events_N and of the view
 * events; called only by the events store. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "store/parts.h"

struct lia__parts {
    lia_db *db;
    int64_t rows;  /* ids of a partition created from now on */
    lia__part act; /* the active partition, as the open transaction sees it */
    int loaded;
    int64_t next; /* the id of the next event */
    lia_stmt *ins;
    int64_t ins_n; /* the partition ins inserts into */
    /* what the open transaction added to act, for the catalog */
    int64_t add_rows, tmin, tmax;
    int has_t;
};

/* The five secondary indexes a sealed partition has, by column. */
static const char *const sec_cols[] = {"time", "src_ip", "src_cc", "src_asn", "class"};
#define NSEC (sizeof sec_cols / sizeof *sec_cols)
/* The names the indexes had in a store of one events table. */
static const char *const old_names[] = {"events_time", "events_src_ip", "events_src_cc", "events_src_asn",
                                        "events_class"};

void lia__part_table(int64_t n, char *buf, size_t len)
{
    snprintf(buf, len, "events_%lld", (long long)n);
}

int lia__parts_on(lia_db *db)
{
    return !lia__db_is_pg(db) && lia__db_has_table(db, "event_part");
}

static int exec_fmt(lia_db *db, lia_error *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int exec_fmt(lia_db *db, lia_error *err, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof sql)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "partitions: statement too long");
    return lia__db_exec(db, sql, err);
}

/* One integer from sql (built by the caller), or dflt for NULL / no row. */
static int scalar(lia_db *db, const char *what, const char *sql, int64_t arg, int64_t dflt, int64_t *out,
                  lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare_once(db, what, sql, &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, arg);
    rc = lia__db_step(st, err);
    *out = rc == LIA_DB_ROW && !lia__db_col_null(st, 0) ? lia__db_col_int64(st, 0) : dflt;
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static void load_part(lia_stmt *st, lia__part *p)
{
    p->n = lia__db_col_int64(st, 0);
    p->lo = lia__db_col_int64(st, 1);
    p->hi = lia__db_col_int64(st, 2);
    p->has_t = !lia__db_col_null(st, 3) && !lia__db_col_null(st, 4);
    p->tmin = lia__db_col_int64(st, 3);
    p->tmax = lia__db_col_int64(st, 4);
    p->rows = lia__db_col_int64(st, 5);
    p->sealed = (int)lia__db_col_int64(st, 6);
}

#define PART_COLS "n, lo, hi, tmin, tmax, rows, sealed"

int lia__parts_list(lia_db *db, int64_t since, int64_t until, int64_t after_id, lia__part **out, size_t *n,
                    lia_error *err)
{
    lia_stmt *st;
    lia__part *v = NULL;
    size_t len = 0, cap = 0;
    int rc, step;
    *out = NULL;
    *n = 0;
    if ((rc = lia__db_prepare(db, "partitions: listing",
                              "SELECT " PART_COLS " FROM event_part WHERE hi > ?1 ORDER BY n", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, after_id);
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia__part p;
        load_part(st, &p);
        /* a row without a time matches no time range */
        if ((since || until) && (!p.has_t || (since && p.tmax < since) || (until && p.tmin >= until)))
            continue;
        if (len == cap) {
            lia__part *nv = realloc(v, (cap ? cap * 2 : 16) * sizeof *v);
            if (!nv) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                break;
            }
            v = nv;
            cap = cap ? cap * 2 : 16;
        }
        v[len++] = p;
    }
    lia__db_done(st);
    if (rc == LIA_OK && step < 0)
        rc = step;
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *n = len;
    return LIA_OK;
}

int lia__parts_find(lia_db *db, int64_t id, int64_t *n, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "partitions: the partition of an event",
                              "SELECT n FROM event_part WHERE lo <= ?1 AND hi >= ?1", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, id);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        *n = lia__db_col_int64(st, 0);
        rc = LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "event.id", NULL, 0, "no event %lld in the store",
                           (long long)id);
    }
    lia__db_done(st);
    return rc;
}

/* The view events: every partition, in id order. SQLite allows 500 terms
 * in a compound SELECT (SQLITE_MAX_COMPOUND_SELECT): past LIA_PART_VIEW_ARMS
 * partitions, the view is the UNION ALL of views events_vK of up to that
 * many partitions each. */
static int make_view(lia_db *db, lia_error *err)
{
    lia_buf sql;
    lia_stmt *st;
    int64_t *ns = NULL;
    size_t len = 0, nsub;
    int rc, step;
    lia_buf_init(&sql, (size_t)16 << 20);
    if ((rc = lia__db_int64s(db, "partitions: for the view", "SELECT n FROM event_part ORDER BY n", &ns, &len,
                             err)))
        goto out;
    if (!len) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "partitions: the catalog lists none");
        goto out;
    }
    nsub = len > LIA_PART_VIEW_ARMS ? (len + LIA_PART_VIEW_ARMS - 1) / LIA_PART_VIEW_ARMS : 0;
    lia_buf_puts(&sql, "DROP VIEW IF EXISTS events;");
    /* the sub-views of the layout before */
    if ((rc = lia__db_prepare(
             db, "partitions: the sub-views",
             "SELECT name FROM sqlite_master WHERE type = 'view' AND name GLOB 'events_v[0-9]*'", &st, err)))
        goto out;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW)
        lia_buf_printf(&sql, "DROP VIEW IF EXISTS \"%s\";", lia__db_col_text(st, 0));
    lia__db_done(st);
    if ((rc = step < 0 ? step : LIA_OK))
        goto out;
    for (size_t k = 0; k < nsub; k++) {
        lia_buf_printf(&sql, "CREATE VIEW events_v%zu AS ", k + 1);
        for (size_t i = k * LIA_PART_VIEW_ARMS; i < len && i < (k + 1) * LIA_PART_VIEW_ARMS; i++)
            lia_buf_printf(&sql,
                           "%sSELECT id, report_id, line, time, src_ip, src_asn, src_cc, class, tlp, body"
                           " FROM events_%lld",
                           i == k * LIA_PART_VIEW_ARMS ? "" : " UNION ALL ", (long long)ns[i]);
        lia_buf_putc(&sql, ';');
    }
    lia_buf_puts(
        &sql, "CREATE VIEW events(id, report_id, line, time, src_ip, src_asn, src_cc, class, tlp, body) AS ");
    for (size_t i = 0; i < (nsub ? nsub : len); i++)
        if (nsub)
            lia_buf_printf(&sql, "%sSELECT * FROM events_v%zu", i ? " UNION ALL " : "", i + 1);
        else
            lia_buf_printf(&sql,
                           "%sSELECT id, report_id, line, time, src_ip, src_asn, src_cc, class, tlp, body"
                           " FROM events_%lld",
                           i ? " UNION ALL " : "", (long long)ns[i]);
    rc = sql.err ? lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "partitions: too many for the view")
                 : lia__db_exec(db, lia_buf_cstr(&sql), err);
out:
    free(ns);
    lia_buf_free(&sql);
    return rc;
}

/* The secondary indexes the active partition keeps row by row: time
 * (a page by time range must not read the partition row by row; on append
 * the times come nearly in order, so its inserts touch the B-tree's end).
 * LIAISON_PART_ACTIVE=COL,COL... (of sec_cols; "" for none) for the
 * measurement of docs/performance.md. */
static int active_index(const char *col)
{
    const char *v = getenv("LIAISON_PART_ACTIVE");
    size_t n = strlen(col);
    if (!v)
        return strcmp(col, "time") == 0;
    for (const char *p = v; (p = strstr(p, col)); p += n)
        if ((p == v || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* The active partition n's row-by-row indexes, where missing (a partition
 * made before they were kept). */
static int active_indexes(lia_db *db, int64_t n, lia_error *err)
{
    int rc;
    for (size_t i = 0; i < NSEC; i++) {
        char name[64];
        snprintf(name, sizeof name, "events_%lld_%s", (long long)n, sec_cols[i]);
        if (!active_index(sec_cols[i]) || lia__db_has_index(db, name))
            continue;
        if ((rc = exec_fmt(db, err, "CREATE INDEX %s ON events_%lld(%s)", name, (long long)n, sec_cols[i])))
            return rc;
    }
    return LIA_OK;
}

/* Partition n owning [lo, hi], empty, with its report index and the
 * active partition's. */
static int create_part(lia_db *db, int64_t n, int64_t lo, int64_t hi, lia_error *err)
{
    const char *ix = getenv("LIAISON_PART_INDEXED"); /* the measurement of docs/performance.md */
    int rc;
    if ((rc = exec_fmt(
             db, err,
             "CREATE TABLE events_%lld(id INTEGER PRIMARY KEY,"
             " report_id INTEGER NOT NULL REFERENCES reports(id), line INTEGER NOT NULL, time INTEGER,"
             " src_ip BLOB, src_asn INTEGER, src_cc TEXT, class INTEGER, tlp INTEGER, body TEXT NOT NULL);"
             "CREATE INDEX events_%lld_report ON events_%lld(report_id, line);"
             "INSERT INTO event_part(n, lo, hi, rows, sealed) VALUES(%lld, %lld, %lld, 0, 0)",
             (long long)n, (long long)n, (long long)n, (long long)n, (long long)lo, (long long)hi)))
        return rc;
    for (size_t i = 0; ix && strcmp(ix, "1") == 0 && i < NSEC; i++) /* kept row by row, then */
        if ((rc = exec_fmt(db, err, "CREATE INDEX events_%lld_%s ON events_%lld(%s)", (long long)n,
                           sec_cols[i], (long long)n, sec_cols[i])))
            return rc;
    if ((!ix || strcmp(ix, "1") != 0) && (rc = active_indexes(db, n, err)))
        return rc;
    return make_view(db, err);
}

/* Migration 1 of "store.parts": the catalog, and the one events table of
 * an older store (migration 1 of "store" makes it in a new one too) as
 * partition 1, renamed, its rows where they are. Full (it owns the ids it
 * has) when it holds events, sealed if it has its indexes; partition 2
 * then receives the writes. */
static int adopt_events(lia_db *db, lia_error *err)
{
    int64_t max_id, rows, tmin, tmax, none = INT64_MIN;
    int have = 0, rc;
    if (lia__db_is_pg(db))
        return LIA_OK;
    if ((rc =
             lia__db_exec(db,
                          "CREATE TABLE IF NOT EXISTS event_part(n INTEGER PRIMARY KEY, lo INTEGER NOT NULL,"
                          " hi INTEGER NOT NULL, tmin INTEGER, tmax INTEGER, rows INTEGER NOT NULL DEFAULT 0,"
                          " sealed INTEGER NOT NULL DEFAULT 0)",
                          err)))
        return rc;
    if (!lia__db_has_table(db, "events"))
        return create_part(db, 1, 1, LIA_PART_ROWS, err);
    if ((rc = scalar(db, "partitions: adopting the events table", "SELECT max(id) FROM events WHERE ?1", 1,
                     none, &max_id, err)) ||
        (rc = lia__db_exec(db, "ALTER TABLE events RENAME TO events_1", err)))
        return rc;
    for (size_t i = 0; i < NSEC; i++)
        have += lia__db_has_index(db, old_names[i]);
    if (max_id == none || have < (int)NSEC) /* empty (a new store), or a bulk load's build cut short */
        if ((rc = lia__db_exec(db,
                               "DROP INDEX IF EXISTS events_time; DROP INDEX IF EXISTS events_src_ip;"
                               " DROP INDEX IF EXISTS events_src_cc; DROP INDEX IF EXISTS events_src_asn;"
                               " DROP INDEX IF EXISTS events_class",
                               err)))
            return rc;
    if (max_id == none) {
        if ((rc =
                 exec_fmt(db, err, "INSERT INTO event_part(n, lo, hi, rows, sealed) VALUES(1, 1, %lld, 0, 0)",
                          (long long)LIA_PART_ROWS)))
            return rc;
        return make_view(db, err);
    }
    if ((rc = scalar(db, "partitions: adopting the events table", "SELECT count(*) FROM events_1 WHERE ?1", 1,
                     0, &rows, err)) ||
        (rc = scalar(db, "partitions: adopting the events table", "SELECT min(time) FROM events_1 WHERE ?1",
                     1, none, &tmin, err)) ||
        (rc = scalar(db, "partitions: adopting the events table", "SELECT max(time) FROM events_1 WHERE ?1",
                     1, none, &tmax, err)))
        return rc;
    if (tmin == none)
        rc = exec_fmt(db, err, "INSERT INTO event_part(n, lo, hi, rows, sealed) VALUES(1, 1, %lld, %lld, %d)",
                      (long long)max_id, (long long)rows, have == (int)NSEC);
    else
        rc =
            exec_fmt(db, err,
                     "INSERT INTO event_part(n, lo, hi, tmin, tmax, rows, sealed)"
                     " VALUES(1, 1, %lld, %lld, %lld, %lld, %d)",
                     (long long)max_id, (long long)tmin, (long long)tmax, (long long)rows, have == (int)NSEC);
    return rc ? rc : create_part(db, 2, max_id + 1, max_id + LIA_PART_ROWS, err);
}

static const lia_migration parts_migrations[] = {
    {.run = adopt_events},
};
static const lia_schema parts_schema = {"store.parts", 1, parts_migrations, NULL, .pg = 0};

int lia__parts_open(lia_db *db, lia__parts **out, lia_error *err)
{
    lia__parts *p;
    int rc;
    *out = NULL;
    if (lia__db_readonly(db) && !lia__db_has_table(db, "event_part"))
        return LIA_OK; /* read as the one table it has */
    if ((rc = lia__db_schema(db, &parts_schema, err)))
        return rc;
    if (!(p = calloc(1, sizeof *p)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    p->db = db;
    p->rows = LIA_PART_ROWS;
    *out = p;
    return LIA_OK;
}

void lia__parts_close(lia__parts *p)
{
    if (!p)
        return;
    lia__db_done(p->ins);
    free(p);
}

void lia__parts_set_rows(lia__parts *p, int64_t rows)
{
    if (p && rows > 0)
        p->rows = rows;
}

int lia__parts_begin(lia__parts *p, lia_error *err)
{
    lia_stmt *st;
    char sql[128];
    int rc;
    p->add_rows = 0;
    p->has_t = 0;
    if ((rc = lia__db_prepare(p->db, "partitions: the active one",
                              "SELECT " PART_COLS " FROM event_part ORDER BY n DESC LIMIT 1", &st, err)))
        return rc;
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW)
        load_part(st, &p->act);
    lia__db_done(st);
    if (rc == LIA_DB_DONE)
        return lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "partitions: the catalog lists none");
    if (rc < 0)
        return rc;
    snprintf(sql, sizeof sql, "SELECT max(id) FROM events_%lld WHERE ?1", (long long)p->act.n);
    if ((rc = scalar(p->db, "partitions: the next id", sql, 1, p->act.lo - 1, &p->next, err)))
        return rc;
    p->next++;
    p->loaded = 1;
    return LIA_OK;
}

void lia__parts_reset(lia__parts *p)
{
    p->loaded = 0;
    p->add_rows = 0;
    p->has_t = 0;
}

int lia__parts_flush(lia__parts *p, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if (!p->loaded || !p->add_rows)
        return LIA_OK;
    if ((rc = lia__db_prepare(
             p->db, "partitions: recording the rows stored",
             "UPDATE event_part SET rows = rows + ?2,"
             " tmin = CASE WHEN ?3 THEN min(coalesce(tmin, ?4), ?4) ELSE tmin END,"
             " tmax = CASE WHEN ?3 THEN max(coalesce(tmax, ?5), ?5) ELSE tmax END WHERE n = ?1",
             &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, p->act.n);
    lia__db_bind_int64(st, 2, p->add_rows);
    lia__db_bind_int64(st, 3, p->has_t);
    lia__db_bind_int64(st, 4, p->tmin);
    lia__db_bind_int64(st, 5, p->tmax);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc == LIA_OK) {
        p->add_rows = 0;
        p->has_t = 0;
    }
    return rc;
}

/* The active partition is full: the next one, in the open transaction. */
static int roll_over(lia__parts *p, lia_error *err)
{
    int64_t lo = p->act.hi + 1;
    int64_t n = p->act.n + 1;
    int rc;
    if ((rc = lia__parts_flush(p, err)) || (rc = create_part(p->db, n, lo, lo + p->rows - 1, err)))
        return rc;
    memset(&p->act, 0, sizeof p->act);
    p->act.n = n;
    p->act.lo = lo;
    p->act.hi = lo + p->rows - 1;
    p->next = lo;
    return LIA_OK;
}

int lia__parts_next(lia__parts *p, lia_stmt **st, int64_t *id, lia_error *err)
{
    int rc;
    if (!p->loaded && (rc = lia__parts_begin(p, err)))
        return rc;
    if (p->next == p->act.lo && p->act.hi - p->act.lo + 1 != p->rows) {
        /* an empty active partition takes the size asked now */
        if ((rc = exec_fmt(p->db, err, "UPDATE event_part SET hi = %lld WHERE n = %lld",
                           (long long)(p->act.lo + p->rows - 1), (long long)p->act.n)))
            return rc;
        p->act.hi = p->act.lo + p->rows - 1;
    }
    if (p->next > p->act.hi && (rc = roll_over(p, err)))
        return rc;
    if (!p->ins || p->ins_n != p->act.n) {
        char sql[256];
        lia__db_done(p->ins);
        p->ins = NULL;
        snprintf(
            sql, sizeof sql,
            "INSERT INTO events_%lld(report_id, line, time, src_ip, src_asn, src_cc, class, tlp, body, id)"
            " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (long long)p->act.n);
        if ((rc = lia__db_prepare_once(p->db, "storing event", sql, &p->ins, err)))
            return rc;
        p->ins_n = p->act.n;
    }
    *st = p->ins;
    *id = p->next++;
    p->add_rows++;
    return LIA_OK;
}

int lia__parts_next_at(lia__parts *p, int64_t id, lia_stmt **st, lia_error *err)
{
    int64_t got;
    int rc;
    if (!p->loaded && (rc = lia__parts_begin(p, err)))
        return rc;
    if (id < p->next)
        return lia_error_set(err, LIA_EINVAL, "event.id", NULL, 0,
                             "partitions: event %lld stored out of order (the next id is %lld)",
                             (long long)id, (long long)p->next);
    if (p->next == p->act.lo && id > p->act.lo) { /* empty: its range starts at id */
        if ((rc = exec_fmt(p->db, err, "UPDATE event_part SET lo = %lld, hi = %lld WHERE n = %lld",
                           (long long)id, (long long)(id + p->rows - 1), (long long)p->act.n)))
            return rc;
        p->act.lo = id;
        p->act.hi = id + p->rows - 1;
    } else if (id > p->act.hi) { /* a new partition from id: the ids between are owned by none */
        int64_t n = p->act.n + 1;
        if ((rc = lia__parts_flush(p, err)) || (rc = create_part(p->db, n, id, id + p->rows - 1, err)))
            return rc;
        memset(&p->act, 0, sizeof p->act);
        p->act.n = n;
        p->act.lo = id;
        p->act.hi = id + p->rows - 1;
    }
    p->next = id;
    if ((rc = lia__parts_next(p, st, &got, err)))
        return rc;
    return got == id ? LIA_OK
                     : lia_error_set(err, LIA_ESTATE, NULL, NULL, 0, "partitions: event %lld got id %lld",
                                     (long long)id, (long long)got);
}

void lia__parts_note(lia__parts *p, int has_time, int64_t time)
{
    if (!has_time)
        return;
    if (!p->has_t || time < p->tmin)
        p->tmin = time;
    if (!p->has_t || time > p->tmax)
        p->tmax = time;
    p->has_t = 1;
}

/* Seal partition n: its secondary indexes and its exact catalog row, in
 * one transaction. */
static int seal_one(lia__parts *p, int64_t n, lia_error *err)
{
    int rc;
    if ((rc = lia__db_begin(p->db, err)))
        return rc;
    for (size_t i = 0; i < NSEC; i++) {
        if ((rc = exec_fmt(p->db, err, "CREATE INDEX IF NOT EXISTS events_%lld_%s ON events_%lld(%s)",
                           (long long)n, sec_cols[i], (long long)n, sec_cols[i]))) {
            char why[LIA_ERR_REASON_MAX];
            snprintf(why, sizeof why, "%s", err ? err->reason : "");
            lia_error_set(err, rc, NULL, NULL, 0, "sealing partition %lld (index on %s) in %s: %s",
                          (long long)n, sec_cols[i], lia__db_path(p->db), why);
            goto out;
        }
        lia__fault_point("partition-seal");
    }
    rc = exec_fmt(p->db, err,
                  "UPDATE event_part SET sealed = 1, rows = (SELECT count(*) FROM events_%lld),"
                  " tmin = (SELECT min(time) FROM events_%lld), tmax = (SELECT max(time) FROM events_%lld)"
                  " WHERE n = %lld",
                  (long long)n, (long long)n, (long long)n, (long long)n);
out:
    if (rc) {
        lia__db_rollback(p->db);
        return rc;
    }
    return lia__db_commit(p->db, err);
}

int lia__parts_seal(lia__parts *p, lia_error *err)
{
    int rc = LIA_OK;
    int64_t n;
    if (lia__db_in_tx(p->db))
        return lia_error_set(err, LIA_ESTATE, NULL, NULL, 0, "partitions: sealing inside a transaction");
    /* the active partition of a store from before its time index: built
     * once (sorted), in a transaction of its own */
    if ((rc = scalar(p->db, "partitions: the active one", "SELECT max(n) FROM event_part WHERE ?1", 1, 0, &n,
                     err)))
        return rc;
    if (n > 0) {
        char name[64];
        snprintf(name, sizeof name, "events_%lld_time", (long long)n);
        if (active_index("time") && !lia__db_has_index(p->db, name)) {
            lia__db_sort_on_disk(p->db, 1);
            if ((rc = lia__db_begin(p->db, err)) == LIA_OK) {
                if ((rc = active_indexes(p->db, n, err)))
                    lia__db_rollback(p->db);
                else
                    rc = lia__db_commit(p->db, err);
            }
            lia__db_sort_on_disk(p->db, 0);
            if (rc)
                return rc;
        }
    }
    for (;;) {
        if ((rc = scalar(p->db, "partitions: one to seal",
                         "SELECT n FROM event_part WHERE sealed = 0 AND n < (SELECT max(n) FROM event_part)"
                         " AND ?1 ORDER BY n LIMIT 1",
                         1, 0, &n, err)) ||
            n == 0)
            break;
        /* sorting for the build needs room in proportion to the partition:
         * on disk, not in memory; set outside the transaction */
        lia__db_sort_on_disk(p->db, 1);
        rc = seal_one(p, n, err);
        lia__db_sort_on_disk(p->db, 0);
        if (rc)
            break;
    }
    return rc;
}

int lia__parts_forget(lia_db *db, uint64_t *events, uint64_t *dropped, lia_error *err)
{
    lia__part *v = NULL;
    size_t nv = 0;
    int64_t lo, hi, last;
    int rc, gone = 0;
    if ((rc = scalar(db, "prune: the set's first id", "SELECT min(id) FROM temp.lia_forget_event WHERE ?1", 1,
                     0, &lo, err)) ||
        (rc = scalar(db, "prune: the set's last id", "SELECT max(id) FROM temp.lia_forget_event WHERE ?1", 1,
                     0, &hi, err)))
        return rc;
    if (lo == 0 && hi == 0)
        return LIA_OK;
    if ((rc = lia__parts_list(db, 0, 0, lo - 1, &v, &nv, err)))
        return rc;
    last = nv ? v[nv - 1].n : 0;
    if ((rc = scalar(db, "prune: the active partition", "SELECT max(n) FROM event_part WHERE ?1", 1, 0, &last,
                     err)))
        goto out;
    for (size_t i = 0; i < nv && v[i].lo <= hi; i++) {
        lia_stmt *st;
        int64_t k, total;
        char sql[256];
        if ((rc = lia__db_prepare(db, "prune: the set in a partition",
                                  "SELECT count(*) FROM temp.lia_forget_event WHERE id BETWEEN ?1 AND ?2",
                                  &st, err)))
            goto out;
        lia__db_bind_int64(st, 1, v[i].lo);
        lia__db_bind_int64(st, 2, v[i].hi);
        rc = lia__db_step(st, err);
        k = rc == LIA_DB_ROW ? lia__db_col_int64(st, 0) : 0;
        lia__db_done(st);
        if (rc < 0)
            goto out;
        rc = LIA_OK;
        if (k == 0)
            continue;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM events_%lld WHERE ?1", (long long)v[i].n);
        if ((rc = scalar(db, "prune: a partition's rows", sql, 1, 0, &total, err)))
            goto out;
        if (v[i].n != last && k == total) { /* the whole partition goes */
            if ((rc = exec_fmt(db, err, "DROP TABLE events_%lld; DELETE FROM event_part WHERE n = %lld",
                               (long long)v[i].n, (long long)v[i].n)))
                goto out;
            *events += (uint64_t)k;
            *dropped += 1;
            gone = 1;
            continue;
        }
        snprintf(
            sql, sizeof sql,
            "DELETE FROM events_%lld WHERE id IN (SELECT id FROM temp.lia_forget_event WHERE id BETWEEN ?1"
            " AND ?2)",
            (long long)v[i].n);
        if ((rc = lia__db_prepare_once(db, "prune: events", sql, &st, err)))
            goto out;
        lia__db_bind_int64(st, 1, v[i].lo);
        lia__db_bind_int64(st, 2, v[i].hi);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            goto out;
        k = lia__db_changes(db);
        *events += (uint64_t)k;
        if ((rc = exec_fmt(db, err, "UPDATE event_part SET rows = max(0, rows - %lld) WHERE n = %lld",
                           (long long)k, (long long)v[i].n)))
            goto out;
    }
    if (gone)
        rc = make_view(db, err);
out:
    free(v);
    return rc;
}
