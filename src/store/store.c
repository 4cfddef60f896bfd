/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The store interface: picks a backend and dispatches to it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/path.h"
#include "store/backend.h"
#include "store/db.h"
#include "store/events.h"

struct lia_store {
    const lia_store_backend *be;
    void *impl;
    char path[LIA_PATH_MAX];
    char archive_dir[LIA_PATH_MAX];
    char actor[3][LIA_STORE_ACTOR_MAX]; /* who, channel, address of changes made without one */
};

int lia_store_open(const char *path, lia_store **out, lia_error *err)
{
    lia_store *s;
    const char *archive = NULL;
    int rc;
    if (strncmp(path, "sqlite:", 7) == 0)
        path += 7;
    if (!*path)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "empty store path");
    s = calloc(1, sizeof *s);
    if (!s)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    s->be = &lia__store_events;
    /* a PostgreSQL store has no file to put PATH.archive beside: its raw
     * reports go to $LIAISON_ARCHIVE_DIR, else ./liaison.archive */
    if (lia__db_is_pg_uri(path) && getenv("LIAISON_ARCHIVE_DIR") && *getenv("LIAISON_ARCHIVE_DIR"))
        archive = getenv("LIAISON_ARCHIVE_DIR");
    else if (lia__db_is_pg_uri(path))
        archive = "liaison.archive";
    if ((rc = lia__path_fmt(s->path, sizeof s->path, err, "store", "%s", path)) ||
        (rc = archive ? lia__path_fmt(s->archive_dir, sizeof s->archive_dir, err, "archive directory", "%s",
                                      archive)
                      : lia__path_fmt(s->archive_dir, sizeof s->archive_dir, err, "archive directory",
                                      "%s.archive", path))) {
        free(s);
        return rc;
    }
    /* not writable (a read-only store): ingest says so when it writes */
    if (mkdir(s->archive_dir, 0750) != 0 && errno != EEXIST && errno != EROFS && errno != EACCES &&
        errno != EPERM) {
        rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot create %s: %s", s->archive_dir,
                           strerror(errno));
        free(s);
        return rc;
    }
    if ((rc = s->be->open(&s->impl, path, err))) {
        free(s);
        return rc;
    }
    *out = s;
    return LIA_OK;
}

void lia_store_close(lia_store *s)
{
    if (!s)
        return;
    s->be->close(s->impl);
    free(s);
}

int lia_store_schema_version(lia_store *s) { return s->be->schema_version(s->impl); }
const char *lia_store_archive_dir(lia_store *s) { return s->archive_dir; }
const char *lia__store_path(lia_store *s)
{
    return s->path;
}
void lia__store_set_actor(lia_store *s, const char *who, const char *channel, const char *address)
{
    const char *v[3] = {who, channel, address};
    for (int i = 0; i < 3; i++)
        snprintf(s->actor[i], sizeof s->actor[i], "%s", v[i] ? v[i] : "");
}

void lia__store_actor(lia_store *s, const char **who, const char **channel, const char **address)
{
    *who = s->actor[0][0] ? s->actor[0] : "liaison";
    *channel = s->actor[1][0] ? s->actor[1] : "local";
    *address = s->actor[2][0] ? s->actor[2] : "local";
}

lia_db *lia__store_db(lia_store *s)
{
    return s->be->db(s->impl);
}

int lia__store_report_begin(lia_store *s, lia_report *r, lia_error *err)
{
    return s->be->report_begin(s->impl, r, err);
}
int lia__store_put_events(lia_store *s, const lia_report *r, lia_event *ev, size_t n, lia_error *err)
{
    return s->be->put_events(s->impl, r, ev, n, err);
}
int lia__store_put_quarantine(lia_store *s, const lia_report *r, uint64_t line, lia_slice raw,
                              const lia_error *why, lia_error *err)
{
    return s->be->put_quarantine(s->impl, r, line, raw, why, err);
}
int lia__store_checkpoint(lia_store *s, const lia_report *r, lia_error *err)
{
    return s->be->checkpoint(s->impl, r, err);
}
int lia__store_report_finish(lia_store *s, lia_report *r, lia_error *err)
{
    return s->be->report_finish(s->impl, r, NULL, err);
}
int lia__store_report_complete(lia_store *s, lia_report *r, const lia_counter c[LIA_ST__COUNT],
                               lia_error *err)
{
    return s->be->report_finish(s->impl, r, c, err);
}
void lia__store_abort(lia_store *s)
{
    s->be->abort(s->impl);
}
void lia__store_set_bulk_min(lia_store *s, uint64_t bytes)
{
    if (s->be->set_bulk_min)
        s->be->set_bulk_min(s->impl, bytes);
}
void lia__store_set_part_rows(lia_store *s, int64_t rows)
{
    if (s->be->set_part_rows)
        s->be->set_part_rows(s->impl, rows);
}
int lia__store_report_get(lia_store *s, int64_t id, lia_report *r, lia_error *err)
{
    return s->be->report_get(s->impl, id, r, err);
}
int lia_store_query(lia_store *s, const lia_query *q, lia_event_cb cb, void *ud, lia_error *err)
{
    return s->be->query(s->impl, q, cb, ud, err);
}
typedef struct one_event {
    int64_t id;
    lia_event *out;
    lia_error *err;
    int rc, found;
} one_event;

static int keep_one(void *ud, const lia_event *ev)
{
    one_event *o = ud;
    if (ev->id != o->id)
        return 1;
    o->found = 1;
    o->rc = lia_event_copy(o->out, ev, o->err);
    o->out->id = ev->id;
    o->out->report_id = ev->report_id;
    o->out->line = ev->line;
    return 1;
}

int lia_store_event_get(lia_store *s, int64_t id, lia_event *out, lia_error *err)
{
    lia_query q;
    one_event o = {id, out, err, LIA_OK, 0};
    int rc;
    memset(&q, 0, sizeof q);
    q.after_id = id - 1;
    q.limit = 1;
    lia_event_reset(out);
    rc = lia_store_query(s, &q, keep_one, &o, err);
    if (rc != LIA_OK && rc != 1)
        return rc;
    if (!o.found)
        return lia_error_set(err, LIA_ENOTFOUND, "event.id", NULL, 0, "no event %lld in the store", (long long)id);
    return o.rc;
}

int lia_store_count(lia_store *s, const lia_query *q, uint64_t *out, lia_error *err)
{
    return s->be->count(s->impl, q, out, err);
}
int lia_store_quarantine_list(lia_store *s, const char *feed, int64_t report_id, uint64_t limit,
                              lia_qrow_cb cb, void *ud, lia_error *err)
{
    return s->be->quarantine_list(s->impl, feed, report_id, limit, cb, ud, err);
}
int lia_store_group(lia_store *s, const lia_query *q, const char *by, uint64_t limit,
                    lia_group_cb cb, void *ud, lia_error *err)
{
    return s->be->group(s->impl, q, by, limit, cb, ud, err);
}
int lia__store_stats_add(lia_store *s, const char *feed, const lia_counter c[LIA_ST__COUNT], lia_error *err)
{
    return s->be->stats_add(s->impl, feed, c, err);
}
int lia_store_stats(lia_store *s, lia_stats_cb cb, void *ud, lia_error *err)
{
    return s->be->stats(s->impl, cb, ud, err);
}
int lia_store_check(lia_store *s, lia_error *err) { return s->be->check(s->impl, err); }
