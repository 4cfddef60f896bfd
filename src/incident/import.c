/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* An IODEF v2 document imported as an incoming incident (for partners that
 * run neither Liaison nor an API): the events through our own pipeline, one
 * incident per IncidentID. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/internal.h"
#include "liaison/ingest.h"
#include "liaison/iodef.h"
#include "liaison/route.h"

typedef struct ids {
    int64_t *v;
    size_t n, cap;
    int oom;
} ids;

static int id_cb(void *ud, const lia_event *ev)
{
    ids *d = ud;
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 256;
        int64_t *nw = realloc(d->v, nc * sizeof *nw);
        if (!nw) {
            d->oom = 1;
            return 1;
        }
        d->v = nw;
        d->cap = nc;
    }
    d->v[d->n++] = ev->id;
    return 0;
}

int lia__incident_ingest(lia_store *s, const lia_ingest_opts *o, const char *buf, size_t len,
                         int64_t **ids_out, size_t *n, lia_error *err)
{
    lia_ingest_result res;
    lia_query q;
    ids d = {0};
    int rc;
    *ids_out = NULL;
    *n = 0;
    if ((rc = lia_ingest_buffer(s, o, buf, len, &res, err)))
        return rc;
    memset(&q, 0, sizeof q);
    q.report_id = res.report.id;
    rc = lia_store_query(s, &q, id_cb, &d, err);
    if (rc == 1 || d.oom) {
        free(d.v);
        return lia_error_set(err, LIA_ENOMEM, "events", NULL, 0, "out of memory listing the report's events");
    }
    if (rc) {
        free(d.v);
        return rc;
    }
    *ids_out = d.v;
    *n = d.n;
    return LIA_OK;
}

/* The incident already linked to external reference ref, 0 if none. */
static int find_external(lia_db *db, const char *ref, int64_t *id, lia_error *err)
{
    lia_stmt *st;
    int rc;
    *id = 0;
    if ((rc = lia__db_prepare(db, "incident: an external reference",
                              "SELECT incident_id FROM incident_link WHERE kind = 'external' AND ref = ?"
                              " ORDER BY incident_id LIMIT 1",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, ref, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        *id = lia__db_col_int64(st, 0);
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static int events_of(lia_store *s, const char *buf, size_t len, const char *feed, int64_t **v, size_t *n,
                     lia_error *err)
{
    lia_ingest_opts o;
    memset(&o, 0, sizeof o);
    o.format = "iodef";
    o.archive = 1;
    o.feed.feed = feed;
    o.feed.report_name = feed;
    o.feed.tlp = -1;
    return lia__incident_ingest(s, &o, buf, len, v, n, err);
}

int lia_incident_import_iodef(lia_store *s, const char *buf, size_t len, const char *from,
                              const lia_actor *who, int64_t *id, int *created, uint64_t *linked,
                              lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_iodef_incident h;
    lia_incident inc;
    int64_t *ev = NULL;
    size_t nev = 0;
    char ref[600], feed[300], title[480], note[900];
    int64_t iid = 0;
    uint64_t added = 0;
    int rc, isnew = 0;
    if ((rc = lia_iodef_incident_read(buf, len, &h, err)) || (rc = lia__incident_schema(db, err)))
        return rc;
    if (from && !lia_party_id_ok(from, strlen(from)))
        return lia_error_set(err, LIA_EINVAL, "from", from, strlen(from), "not a partner id");
    snprintf(ref, sizeof ref, "iodef:%s:%s", h.name[0] ? h.name : "-", h.id);
    snprintf(feed, sizeof feed, "iodef:%s", from ? from : h.name[0] ? h.name : "unnamed");
    if ((rc = events_of(s, buf, len, feed, &ev, &nev, err)) || (rc = find_external(db, ref, &iid, err)))
        goto out;
    if ((rc = lia__db_begin(db, err)))
        goto out;
    if (!iid) {
        memset(&inc, 0, sizeof inc);
        snprintf(title, sizeof title, "%.200s%s", h.description[0] ? h.description : "IODEF incident ",
                 h.description[0] ? "" : h.id);
        for (char *p = title; *p; p++)
            if (*p == '\n' || *p == '\r' || *p == '\t')
                *p = ' ';
        inc.title = title;
        inc.description = h.description;
        inc.tlp = h.tlp;
        inc.severity = LIA_SEV_MEDIUM;
        if (h.severity[0])
            lia_severity_parse(h.severity, &inc.severity, NULL);
        if ((rc = lia_incident_create(s, &inc, NULL, 0, NULL, 0, who, &iid, err)) ||
            (rc = lia_incident_link(s, iid, "external", ref, who, err)))
            goto fail;
        snprintf(note, sizeof note, "Imported from an IODEF document%s%s: IncidentID %.255s (name %.255s).",
                 from ? " sent by " : "", from ? from : "", h.id, h.name[0] ? h.name : "none");
        if ((rc = lia_incident_comment(s, iid, "internal", note, who, NULL, err)))
            goto fail;
        isnew = 1;
    }
    if (nev && (rc = lia__incident_link_events(db, iid, ev, nev, who, &added, err)))
        goto fail;
    if ((rc = lia__db_commit(db, err)))
        goto out;
    if (id)
        *id = iid;
    if (created)
        *created = isnew;
    if (linked)
        *linked = added;
    goto out;
fail:
    lia__db_rollback(db);
out:
    free(ev);
    return rc;
}
