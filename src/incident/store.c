/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Incidents, comments and links in the store. Each change runs in one
 * transaction with the audit record that describes it (who, when, from
 * where, the row before and after as JSON): either both are kept or
 * neither. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "incident/internal.h"
#include "audit/log.h"
#include "liaison/limits.h"
#include "liaison/route.h"
#include "store/forget.h"

static const lia_migration migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS incident("
            "  id INTEGER PRIMARY KEY,"
            "  title TEXT NOT NULL,"
            "  description TEXT NOT NULL DEFAULT '',"
            "  classification TEXT,"
            "  severity INTEGER NOT NULL," /* lia_severity */
            "  tlp TEXT NOT NULL,"
            "  countries TEXT," /* comma-separated */
            "  sectors TEXT,"
            "  status INTEGER NOT NULL," /* lia_incident_status */
            "  owner TEXT,"
            "  merged_into INTEGER,"
            "  waiting INTEGER NOT NULL DEFAULT 0,"
            "  created INTEGER NOT NULL,"
            "  updated INTEGER NOT NULL);"
            "CREATE INDEX IF NOT EXISTS incident_status ON incident(status);"
            "CREATE TABLE IF NOT EXISTS incident_pause(" /* waits on us: SLA pauses */
            "  incident_id INTEGER NOT NULL REFERENCES incident(id),"
            "  since INTEGER NOT NULL,"
            "  until INTEGER,"
            "  PRIMARY KEY(incident_id, since));"
            "CREATE TABLE IF NOT EXISTS handoff("
            "  incident_id INTEGER NOT NULL REFERENCES incident(id),"
            "  recipient TEXT NOT NULL,"
            "  state INTEGER NOT NULL," /* lia_handoff_state */
            "  created INTEGER NOT NULL,"
            "  notified INTEGER,"
            "  acknowledged INTEGER,"
            "  resolved INTEGER,"
            "  rejected INTEGER,"
            "  reason TEXT,"
            "  by TEXT NOT NULL,"
            "  channel TEXT NOT NULL,"
            "  updated INTEGER NOT NULL,"
            "  PRIMARY KEY(incident_id, recipient));"
            "CREATE INDEX IF NOT EXISTS handoff_state ON handoff(state);"
            "CREATE TABLE IF NOT EXISTS incident_comment("
            "  id INTEGER PRIMARY KEY,"
            "  incident_id INTEGER NOT NULL REFERENCES incident(id),"
            "  at INTEGER NOT NULL,"
            "  author TEXT NOT NULL,"
            "  visibility TEXT NOT NULL,"
            "  body TEXT NOT NULL);"
            "CREATE INDEX IF NOT EXISTS incident_comment_incident ON incident_comment(incident_id);"
            "CREATE TABLE IF NOT EXISTS incident_link("
            "  incident_id INTEGER NOT NULL REFERENCES incident(id),"
            "  kind TEXT NOT NULL,"
            "  ref TEXT NOT NULL,"
            "  at INTEGER NOT NULL,"
            "  PRIMARY KEY(incident_id, kind, ref));"},
    /* 2: incidents opened by the rules of the routing file: one per rule,
     * window (start, seconds since the epoch) and grouping key (a JSON
     * array of the key's values) */
    {.sql = "CREATE TABLE IF NOT EXISTS incident_group("
            "  rule TEXT NOT NULL,"
            "  \"window\" INTEGER NOT NULL,"
            "  key TEXT NOT NULL,"
            "  incident_id INTEGER NOT NULL REFERENCES incident(id),"
            "  PRIMARY KEY(rule, \"window\", key));"
            "CREATE INDEX IF NOT EXISTS incident_link_ref ON incident_link(kind, ref);"},
    /* 3: the messages we delivered for each hand-off (a digest's
     * Message-ID), so that a reply naming one finds its incident and
     * recipient */
    {.sql = "CREATE TABLE IF NOT EXISTS handoff_message("
            "  message_id TEXT NOT NULL,"
            "  incident_id INTEGER NOT NULL REFERENCES incident(id),"
            "  recipient TEXT NOT NULL,"
            "  channel TEXT NOT NULL,"
            "  at INTEGER NOT NULL,"
            "  PRIMARY KEY(message_id, incident_id, recipient));"
            "CREATE INDEX IF NOT EXISTS handoff_message_handoff ON handoff_message(incident_id, recipient);"},
    /* 4: attachments (src/incident/attach.c), their SHA-256 checked on every read */
    {.sql = "CREATE TABLE IF NOT EXISTS incident_attachment("
            "  id INTEGER PRIMARY KEY,"
            "  incident_id INTEGER NOT NULL REFERENCES incident(id),"
            "  at INTEGER NOT NULL,"
            "  author TEXT NOT NULL,"
            "  visibility TEXT NOT NULL,"
            "  name TEXT NOT NULL,"
            "  media_type TEXT NOT NULL,"
            "  size INTEGER NOT NULL,"
            "  sha256 TEXT NOT NULL,"
            "  body BLOB NOT NULL,"
            "  UNIQUE(incident_id, sha256));"
            /* and the incident list's severity filter (status has its index) */
            "CREATE INDEX IF NOT EXISTS incident_severity ON incident(severity);"},
    /* 5: the events an incident links, copied here when a prune removes
     * them from the store (store/forget.h): the body as stored, and the
     * recipients it was routed to (",partner:x,owner:y,": what a
     * recipient's view checks, the decisions being gone too) */
    {.sql = "CREATE TABLE IF NOT EXISTS incident_event_copy("
            "  event_id INTEGER PRIMARY KEY,"
            "  report_id INTEGER NOT NULL,"
            "  line INTEGER NOT NULL,"
            "  body TEXT NOT NULL,"
            "  delivered TEXT NOT NULL,"
            "  pruned INTEGER NOT NULL);"},
    /* 6: an incident of a drill (src/drill) names it; NULL for a real one.
     * Drill incidents are left out of statistics, SLA breaches, reminders
     * and sharing (docs/drills.md). And an incident id is never given
     * twice: deleting a drill deletes its incidents, and a real incident
     * must not take the id their audit records, e-mails ([LIAISON#ID])
     * and answer links name. PostgreSQL's identity never gives one
     * again; SQLite's INTEGER PRIMARY KEY gives max + 1, so there the
     * table is rebuilt with AUTOINCREMENT (foreign keys are not enforced
     * in the store; nothing but indexes hangs on the table itself). */
    {.sql = "CREATE TABLE incident_v6("
            "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
            "  title TEXT NOT NULL,"
            "  description TEXT NOT NULL DEFAULT '',"
            "  classification TEXT,"
            "  severity INTEGER NOT NULL,"
            "  tlp TEXT NOT NULL,"
            "  countries TEXT,"
            "  sectors TEXT,"
            "  status INTEGER NOT NULL,"
            "  owner TEXT,"
            "  merged_into INTEGER,"
            "  waiting INTEGER NOT NULL DEFAULT 0,"
            "  created INTEGER NOT NULL,"
            "  updated INTEGER NOT NULL,"
            "  drill INTEGER);"
            "INSERT INTO incident_v6(id, title, description, classification, severity, tlp, countries,"
            "  sectors, status, owner, merged_into, waiting, created, updated)"
            " SELECT id, title, description, classification, severity, tlp, countries, sectors, status,"
            "  owner, merged_into, waiting, created, updated FROM incident;"
            "DROP TABLE incident;"
            "ALTER TABLE incident_v6 RENAME TO incident;"
            "CREATE INDEX IF NOT EXISTS incident_status ON incident(status);"
            "CREATE INDEX IF NOT EXISTS incident_severity ON incident(severity);"
            "CREATE INDEX IF NOT EXISTS incident_drill ON incident(drill) WHERE drill IS NOT NULL;",
     .pg = "ALTER TABLE incident ADD COLUMN drill BIGINT;"
           "CREATE INDEX IF NOT EXISTS incident_drill ON incident(drill) WHERE drill IS NOT NULL;"},
};

static const lia_schema incident_schema = {"incident", 6, migrations, NULL, .pg = 1};

int lia__incident_schema(lia_db *db, lia_error *err)
{
    int rc = lia__audit_schema(db, err);
    return rc ? rc : lia__db_schema(db, &incident_schema, err);
}

int lia__incident_audit(lia_db *db, const lia_actor *who, const char *object, const char *action,
                        const char *before, const char *after, lia_error *err)
{
    lia_audit_record r = {.actor = who && who->who ? who->who : NULL,
                          .channel = who ? who->channel : NULL,
                          .address = who ? who->address : NULL,
                          .object = object,
                          .action = action,
                          .before = before,
                          .after = after};
    return lia__audit_append(db, &r, NULL, err);
}

int lia__incident_exists(lia_db *db, int64_t id, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "incident: looking an incident up", "SELECT 1 FROM incident WHERE id = ?",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, id);
    rc = lia__db_step(st, err);
    lia__db_done(st);
    return rc < 0 ? rc : rc == LIA_DB_ROW;
}

static int text_ok(const char *what, const char *s, int required, lia_error *err)
{
    if (!s || !*s)
        return required ? lia_error_set(err, LIA_EINVAL, what, NULL, 0, "is required") : LIA_OK;
    if (strlen(s) > LIA_INCIDENT_TEXT_MAX)
        return lia_error_set(err, LIA_ELIMIT, what, s, 40, "longer than %u bytes", LIA_INCIDENT_TEXT_MAX);
    return LIA_OK;
}

static int tlp_ok(const char *t, lia_error *err)
{
    static const char *const tlps[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"};
    for (size_t i = 0; i < 5; i++)
        if (strcmp(t, tlps[i]) == 0)
            return LIA_OK;
    return lia_error_set(err, LIA_EINVAL, "tlp", t, strlen(t),
                         "one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED");
}

#define INC_COLS                                                                                             \
    "id, title, description, classification, severity, tlp, countries, sectors, status, owner, merged_into," \
    " waiting, created, updated, drill"

static void read_incident(lia_stmt *st, lia_incident *inc)
{
    inc->id = lia__db_col_int64(st, 0);
    inc->title = lia__db_col_text(st, 1);
    inc->description = lia__db_col_text(st, 2);
    inc->classification = lia__db_col_text(st, 3);
    inc->severity = (lia_severity)lia__db_col_int64(st, 4);
    inc->tlp = lia__db_col_text(st, 5);
    inc->countries = lia__db_col_text(st, 6);
    inc->sectors = lia__db_col_text(st, 7);
    inc->status = (lia_incident_status)lia__db_col_int64(st, 8);
    inc->owner = lia__db_col_text(st, 9);
    inc->merged_into = lia__db_col_int64(st, 10);
    inc->waiting = (int)lia__db_col_int64(st, 11);
    inc->created_us = lia__db_col_int64(st, 12);
    inc->updated_us = lia__db_col_int64(st, 13);
    inc->drill = lia__db_col_null(st, 14) ? 0 : lia__db_col_int64(st, 14);
}

static void json_member(lia_buf *b, const char *name, const char *v)
{
    lia_buf_printf(b, "%s\"%s\":", b->len > 1 ? "," : "", name);
    if (v)
        lia_buf_json_str(b, v, strlen(v));
    else
        lia_buf_puts(b, "null");
}

/* The incident as JSON (the audit record's before/after, and --format json). */
void lia__incident_json(const lia_incident *inc, lia_buf *b)
{
    lia_buf_putc(b, '{');
    lia_buf_printf(b, "\"id\":%lld", (long long)inc->id);
    json_member(b, "title", inc->title);
    json_member(b, "description", inc->description);
    json_member(b, "classification", inc->classification);
    json_member(b, "severity", lia_severity_name(inc->severity));
    json_member(b, "tlp", inc->tlp);
    json_member(b, "countries", inc->countries);
    json_member(b, "sectors", inc->sectors);
    json_member(b, "status", lia_incident_status_name(inc->status));
    json_member(b, "owner", inc->owner);
    if (inc->merged_into)
        lia_buf_printf(b, ",\"merged_into\":%lld", (long long)inc->merged_into);
    if (inc->drill)
        lia_buf_printf(b, ",\"drill\":%lld", (long long)inc->drill);
    lia_buf_printf(b, ",\"waiting\":%s}", inc->waiting ? "true" : "false");
}

int lia_incident_create(lia_store *s, const lia_incident *in, const char *const *recipients, size_t nrcpt,
                        const char *const *events, size_t nevents, const lia_actor *who, int64_t *id,
                        lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_incident inc = *in;
    lia_buf after;
    lia_stmt *st;
    char object[64];
    int rc;
    if (!inc.tlp || !*inc.tlp)
        inc.tlp = "AMBER";
    if ((rc = text_ok("title", inc.title, 1, err)) ||
        (rc = text_ok("description", inc.description, 0, err)) || (rc = tlp_ok(inc.tlp, err)))
        return rc;
    if ((unsigned)inc.severity >= LIA_SEV__COUNT)
        return lia_error_set(err, LIA_EINVAL, "severity", NULL, 0, "one of low, medium, high, critical");
    if (inc.status != LIA_INC_NEW && inc.status != LIA_INC_TRIAGED)
        return lia_error_set(err, LIA_EINVAL, "status", NULL, 0, "a new incident is new or triaged");
    if ((rc = lia__incident_schema(db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    lia_buf_init(&after, 4 * LIA_INCIDENT_TEXT_MAX);
    inc.created_us = inc.updated_us = lia__now_us();
    inc.merged_into = 0;
    inc.waiting = 0;
    if ((rc = lia__db_prepare(
             db, "incident: creating an incident",
             "INSERT INTO incident(title, description, classification, severity, tlp, countries,"
             " sectors, status, owner, created, updated, drill) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
             &st, err)))
        goto out;
    lia__db_bind_text(st, 1, inc.title, -1);
    lia__db_bind_text(st, 2, inc.description ? inc.description : "", -1);
    lia__db_bind_text(st, 3, inc.classification, -1);
    lia__db_bind_int64(st, 4, inc.severity);
    lia__db_bind_text(st, 5, inc.tlp, -1);
    lia__db_bind_text(st, 6, inc.countries, -1);
    lia__db_bind_text(st, 7, inc.sectors, -1);
    lia__db_bind_int64(st, 8, inc.status);
    lia__db_bind_text(st, 9, inc.owner, -1);
    lia__db_bind_int64(st, 10, inc.created_us);
    lia__db_bind_int64(st, 11, inc.updated_us);
    if (inc.drill > 0)
        lia__db_bind_int64(st, 12, inc.drill);
    else
        lia__db_bind_null(st, 12);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        goto out;
    inc.id = lia__db_last_id(db);
    if (!inc.description)
        inc.description = "";
    lia__incident_json(&inc, &after);
    snprintf(object, sizeof object, "incident:%lld", (long long)inc.id);
    rc = after.err ? lia_error_set(err, LIA_ELIMIT, "incident", NULL, 0, "too large")
                   : lia__incident_audit(db, who, object, "create", NULL, after.ptr, err);
    for (size_t i = 0; rc == LIA_OK && i < nrcpt; i++)
        rc = lia_handoff_add(s, inc.id, recipients[i], who, err);
    for (size_t i = 0; rc == LIA_OK && i < nevents; i++)
        rc = lia_incident_link(s, inc.id, "event", events[i], who, err);
out:
    lia_buf_free(&after);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    if ((rc = lia__db_commit(db, err)))
        return rc;
    if (id)
        *id = inc.id;
    return LIA_OK;
}

/* Copy the string fields of inc into hold and point them there. */
static int hold_strings(lia_incident *inc, lia_buf *hold)
{
    const char **f[] = {&inc->title,     &inc->description, &inc->classification, &inc->tlp,
                        &inc->countries, &inc->sectors,     &inc->owner};
    size_t off[7];
    lia_buf_reset(hold);
    if (hold->max == 0)
        hold->max = 8 * LIA_INCIDENT_TEXT_MAX;
    for (size_t i = 0; i < 7; i++) {
        off[i] = *f[i] ? hold->len : SIZE_MAX;
        if (*f[i])
            lia_buf_append(hold, *f[i], strlen(*f[i]) + 1);
    }
    if (hold->err)
        return hold->err;
    for (size_t i = 0; i < 7; i++)
        *f[i] = off[i] == SIZE_MAX ? NULL : hold->ptr + off[i];
    return LIA_OK;
}

int lia_incident_get(lia_store *s, int64_t id, lia_incident *out, lia_buf *hold, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__incident_schema(db, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "incident: reading an incident",
                              "SELECT " INC_COLS " FROM incident WHERE id = ?", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, id);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        read_incident(st, out);
        rc = hold_strings(out, hold) ? lia_error_set(err, LIA_ENOMEM, "incident", NULL, 0, "out of memory")
                                     : LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "incident", NULL, 0, "no incident %lld", (long long)id);
    }
    lia__db_done(st);
    return rc;
}

static int pause_change(lia_db *db, int64_t id, int start, int64_t now, lia_error *err)
{
    lia_stmt *st;
    int rc =
        start
            ? lia__db_prepare(db, "incident: starting a wait on us",
                              "INSERT INTO incident_pause(incident_id, since) VALUES(?, ?)", &st, err)
            : lia__db_prepare(db, "incident: ending a wait on us",
                              "UPDATE incident_pause SET until = ?2 WHERE incident_id = ?1 AND until IS NULL",
                              &st, err);
    if (rc)
        return rc;
    lia__db_bind_int64(st, 1, id);
    lia__db_bind_int64(st, 2, now);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia_incident_update(lia_store *s, int64_t id, const lia_incident_change *ch, const lia_actor *who,
                        lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_incident cur, next;
    lia_buf hold, before, after;
    lia_stmt *st;
    char object[64];
    const char *action = "update";
    int rc;
    lia_buf_init(&hold, 0);
    lia_buf_init(&before, 4 * LIA_INCIDENT_TEXT_MAX);
    lia_buf_init(&after, 4 * LIA_INCIDENT_TEXT_MAX);
    if ((rc = lia__incident_schema(db, err)) || (rc = lia__db_begin(db, err)))
        goto done;
    if ((rc = lia_incident_get(s, id, &cur, &hold, err)))
        goto out;
    next = cur;
#define TAKE(f)                                                                                              \
    if (ch->f)                                                                                               \
        next.f = *ch->f ? ch->f : NULL;
    TAKE(title)
    TAKE(description)
    TAKE(classification)
    TAKE(tlp)
    TAKE(countries)
    TAKE(sectors)
    TAKE(owner)
#undef TAKE
    if (ch->description && !*ch->description)
        next.description = "";
    if ((rc = text_ok("title", next.title, 1, err)) ||
        (rc = text_ok("description", next.description, 0, err)) ||
        (rc = tlp_ok(next.tlp ? next.tlp : "", err)))
        goto out;
    if (ch->severity >= 0) {
        if (ch->severity >= LIA_SEV__COUNT) {
            rc = lia_error_set(err, LIA_EINVAL, "severity", NULL, 0, "one of low, medium, high, critical");
            goto out;
        }
        next.severity = (lia_severity)ch->severity;
    }
    if (ch->status >= 0 && ch->status != (int)cur.status) {
        if ((rc = lia__incident_transition(cur.status, (lia_incident_status)ch->status, err)))
            goto out;
        next.status = (lia_incident_status)ch->status;
        action = "status";
        if (next.status == LIA_INC_MERGED || next.status == LIA_INC_DUPLICATE) {
            if (ch->merged_into <= 0 || ch->merged_into == id) {
                rc = lia_error_set(err, LIA_EINVAL, "into", NULL, 0,
                                   "a %s incident names the other incident that goes on",
                                   lia_incident_status_name(next.status));
                goto out;
            }
            if ((rc = lia__incident_exists(db, ch->merged_into, err)) <= 0) {
                if (rc == 0)
                    rc = lia_error_set(err, LIA_ENOTFOUND, "into", NULL, 0, "no incident %lld",
                                       (long long)ch->merged_into);
                goto out;
            }
            next.merged_into = ch->merged_into;
        } else {
            next.merged_into = 0;
        }
    }
    next.updated_us = lia__now_us();
    if (ch->waiting >= 0 && (ch->waiting != 0) != (cur.waiting != 0)) {
        next.waiting = ch->waiting != 0;
        if ((rc = pause_change(db, id, next.waiting, next.updated_us, err)))
            goto out;
        if (strcmp(action, "update") == 0)
            action = next.waiting ? "wait" : "resume";
    }
    if ((rc = lia__db_prepare(
             db, "incident: updating an incident",
             "UPDATE incident SET title=?, description=?, classification=?, severity=?, tlp=?,"
             " countries=?, sectors=?, status=?, owner=?, merged_into=?, waiting=?, updated=?"
             " WHERE id=?",
             &st, err)))
        goto out;
    lia__db_bind_text(st, 1, next.title, -1);
    lia__db_bind_text(st, 2, next.description ? next.description : "", -1);
    lia__db_bind_text(st, 3, next.classification, -1);
    lia__db_bind_int64(st, 4, next.severity);
    lia__db_bind_text(st, 5, next.tlp, -1);
    lia__db_bind_text(st, 6, next.countries, -1);
    lia__db_bind_text(st, 7, next.sectors, -1);
    lia__db_bind_int64(st, 8, next.status);
    lia__db_bind_text(st, 9, next.owner, -1);
    if (next.merged_into)
        lia__db_bind_int64(st, 10, next.merged_into);
    else
        lia__db_bind_null(st, 10);
    lia__db_bind_int64(st, 11, next.waiting);
    lia__db_bind_int64(st, 12, next.updated_us);
    lia__db_bind_int64(st, 13, id);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        goto out;
    if (next.merged_into && next.status == LIA_INC_MERGED) {
        /* the incident that goes on keeps a link to the one merged into it */
        char ref[32];
        snprintf(ref, sizeof ref, "%lld", (long long)id);
        if ((rc = lia__db_prepare(
                 db, "incident: linking a merged incident",
                 "INSERT INTO incident_link(incident_id, kind, ref, at) VALUES(?, 'incident', ?, ?)"
                 " ON CONFLICT DO NOTHING",
                 &st, err)))
            goto out;
        lia__db_bind_int64(st, 1, next.merged_into);
        lia__db_bind_text(st, 2, ref, -1);
        lia__db_bind_int64(st, 3, next.updated_us);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            goto out;
        /* and every link of the merged one (events, indicators, incidents),
         * recorded in the audit log of the incident that goes on */
        if ((rc = lia__db_prepare(db, "incident: copying the links of a merged incident",
                                  "INSERT INTO incident_link(incident_id, kind, ref, at)"
                                  " SELECT ?1, kind, ref, ?3 FROM incident_link WHERE incident_id = ?2"
                                  " AND NOT (kind = 'incident' AND ref = CAST(CAST(?1 AS INTEGER) AS TEXT))"
                                  " ON CONFLICT DO NOTHING",
                                  &st, err)))
            goto out;
        lia__db_bind_int64(st, 1, next.merged_into);
        lia__db_bind_int64(st, 2, id);
        lia__db_bind_int64(st, 3, next.updated_us);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            goto out;
        int64_t copied = lia__db_changes(db);
        char into[64], what[96];
        snprintf(into, sizeof into, "incident:%lld", (long long)next.merged_into);
        snprintf(what, sizeof what, "{\"merged\":%lld,\"links_copied\":%lld}", (long long)id,
                 (long long)copied);
        if ((rc = lia__incident_audit(db, who, into, "merge-in", NULL, what, err)))
            goto out;
    }
    lia__incident_json(&cur, &before);
    lia__incident_json(&next, &after);
    snprintf(object, sizeof object, "incident:%lld", (long long)id);
    rc = before.err || after.err ? lia_error_set(err, LIA_ELIMIT, "incident", NULL, 0, "too large")
                                 : lia__incident_audit(db, who, object, action, before.ptr, after.ptr, err);
out:
    if (rc)
        lia__db_rollback(db);
    else
        rc = lia__db_commit(db, err);
done:
    lia_buf_free(&hold);
    lia_buf_free(&before);
    lia_buf_free(&after);
    return rc;
}

int lia_incident_list(lia_store *s, const lia_incident_filter *f, lia_incident_cb cb, void *ud,
                      lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    lia_buf sql;
    char cc[16] = "";
    int rc;
    if ((rc = lia__incident_schema(db, err)))
        return rc;
    if (f && f->country)
        snprintf(cc, sizeof cc, ",%s,", f->country);
    /* only the clauses of the filters given: "(?1 < 0 OR status = ?1)" would
     * keep SQLite off the indexes and scan every incident to find none */
    lia_buf_init(&sql, 4096);
    lia_buf_puts(&sql, "SELECT " INC_COLS " FROM incident WHERE id > ?7");
    if (f && f->status >= 0)
        lia_buf_puts(&sql, " AND status = ?1");
    if (f && f->open_only)
        lia_buf_puts(&sql, " AND status NOT IN (6, 7, 8, 9) AND ?2");
    if (f && f->severity >= 0)
        lia_buf_puts(&sql, " AND severity = ?3");
    if (cc[0])
        lia_buf_puts(
            &sql, " AND instr(',' || upper(replace(ifnull(countries, ''), ' ', '')) || ',', upper(?4)) > 0");
    if (f && f->owner)
        lia_buf_puts(&sql, " AND owner = ?5");
    if (f && f->drill > 0)
        lia_buf_puts(&sql, " AND drill = ?9");
    else if (!f || !f->drills)
        lia_buf_puts(&sql, " AND drill IS NULL"); /* drills are not real incidents */
    if (f && f->recipient)
        lia_buf_puts(&sql, " AND EXISTS(SELECT 1 FROM handoff h WHERE h.incident_id = incident.id"
                           " AND h.recipient = ?8 AND h.state <> 5)");
    lia_buf_puts(&sql, " ORDER BY id LIMIT ?6");
    rc = sql.err ? lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory")
                 : lia__db_prepare_once(db, "incident: listing incidents", lia_buf_cstr(&sql), &st, err);
    lia_buf_free(&sql);
    if (rc)
        return rc;
    if (f && f->status >= 0)
        lia__db_bind_int64(st, 1, f->status);
    if (f && f->open_only)
        lia__db_bind_int64(st, 2, 1);
    if (f && f->severity >= 0)
        lia__db_bind_int64(st, 3, f->severity);
    if (cc[0])
        lia__db_bind_text(st, 4, cc, -1);
    if (f && f->owner)
        lia__db_bind_text(st, 5, f->owner, -1);
    lia__db_bind_int64(st, 6, f && f->limit ? (int64_t)f->limit : -1);
    lia__db_bind_int64(st, 7, f ? f->after_id : 0);
    if (f && f->recipient)
        lia__db_bind_text(st, 8, f->recipient, -1);
    if (f && f->drill > 0)
        lia__db_bind_int64(st, 9, f->drill);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_incident inc;
        read_incident(st, &inc);
        if (cb(ud, &inc))
            break;
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia__incident_visibility_ok(const char *v, lia_error *err)
{
    if (v && (strcmp(v, "internal") == 0 || strcmp(v, "shared") == 0 ||
              (strncmp(v, "shared:", 7) == 0 && v[7] && strlen(v) < 72)))
        return LIA_OK;
    return lia_error_set(err, LIA_EINVAL, "visibility", v, v ? strlen(v) : 0,
                         "internal, shared (every recipient) or shared:RECIPIENT");
}

int lia_incident_comment(lia_store *s, int64_t incident, const char *visibility, const char *body,
                         const lia_actor *who, int64_t *id, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_buf after;
    lia_stmt *st;
    char object[64];
    int64_t now = lia__now_us(), cid = 0;
    int rc;
    if (!visibility)
        visibility = "internal";
    if ((rc = lia__incident_visibility_ok(visibility, err)) || (rc = text_ok("comment", body, 1, err)))
        return rc;
    if ((rc = lia__incident_schema(db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    lia_buf_init(&after, 2 * LIA_INCIDENT_TEXT_MAX);
    if ((rc = lia__incident_exists(db, incident, err)) <= 0) {
        if (rc == 0)
            rc = lia_error_set(err, LIA_ENOTFOUND, "incident", NULL, 0, "no incident %lld",
                               (long long)incident);
        goto out;
    }
    if ((rc = lia__db_prepare(db, "incident: adding a comment",
                              "INSERT INTO incident_comment(incident_id, at, author, visibility, body)"
                              " VALUES(?,?,?,?,?)",
                              &st, err)))
        goto out;
    lia__db_bind_int64(st, 1, incident);
    lia__db_bind_int64(st, 2, now);
    lia__db_bind_text(st, 3, who && who->who ? who->who : "unknown", -1);
    lia__db_bind_text(st, 4, visibility, -1);
    lia__db_bind_text(st, 5, body, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        goto out;
    cid = lia__db_last_id(db);
    lia_buf_putc(&after, '{');
    lia_buf_printf(&after, "\"comment\":%lld", (long long)cid);
    json_member(&after, "visibility", visibility);
    json_member(&after, "body", body);
    lia_buf_putc(&after, '}');
    snprintf(object, sizeof object, "incident:%lld", (long long)incident);
    rc = lia__incident_audit(db, who, object, "comment", NULL, after.ptr, err);
out:
    lia_buf_free(&after);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    if ((rc = lia__db_commit(db, err)))
        return rc;
    if (id)
        *id = cid;
    return LIA_OK;
}

int lia_incident_comments(lia_store *s, int64_t incident, lia_comment_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__incident_schema(db, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "incident: reading comments",
                              "SELECT id, incident_id, at, author, visibility, body FROM incident_comment"
                              " WHERE incident_id = ? ORDER BY id",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, incident);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_comment c = {lia__db_col_int64(st, 0), lia__db_col_int64(st, 1), lia__db_col_int64(st, 2),
                         lia__db_col_text(st, 3),  lia__db_col_text(st, 4),  lia__db_col_text(st, 5)};
        if (cb(ud, &c))
            break;
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia_incident_link(lia_store *s, int64_t incident, const char *kind, const char *ref, const lia_actor *who,
                      lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_buf after;
    lia_stmt *st;
    char object[64];
    int rc;
    if (!kind || (strcmp(kind, "event") && strcmp(kind, "indicator") && strcmp(kind, "incident") &&
                  strcmp(kind, "external")))
        return lia_error_set(err, LIA_EINVAL, "link kind", kind, kind ? strlen(kind) : 0,
                             "one of event, indicator, incident, external");
    if (!ref || !*ref || strlen(ref) > 2048)
        return lia_error_set(err, LIA_EINVAL, "link", NULL, 0, "a link names 1 to 2048 bytes");
    if ((rc = lia__incident_schema(db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    lia_buf_init(&after, 8192);
    if ((rc = lia__incident_exists(db, incident, err)) <= 0) {
        if (rc == 0)
            rc = lia_error_set(err, LIA_ENOTFOUND, "incident", NULL, 0, "no incident %lld",
                               (long long)incident);
        goto out;
    }
    if ((rc = lia__db_prepare(db, "incident: adding a link",
                              "INSERT INTO incident_link(incident_id, kind, ref, at) VALUES(?,?,?,?)", &st,
                              err)))
        goto out;
    lia__db_bind_int64(st, 1, incident);
    lia__db_bind_text(st, 2, kind, -1);
    lia__db_bind_text(st, 3, ref, -1);
    lia__db_bind_int64(st, 4, lia__now_us());
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc == LIA_EEXIST)
        rc = lia_error_set(err, LIA_EEXIST, "link", ref, strlen(ref), "incident %lld already links this %s",
                           (long long)incident, kind);
    if (rc)
        goto out;
    lia_buf_putc(&after, '{');
    json_member(&after, "kind", kind);
    json_member(&after, "ref", ref);
    lia_buf_putc(&after, '}');
    snprintf(object, sizeof object, "incident:%lld", (long long)incident);
    rc = lia__incident_audit(db, who, object, "link", NULL, after.ptr, err);
out:
    lia_buf_free(&after);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

int lia_incident_links(lia_store *s, int64_t incident, lia_link_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__incident_schema(db, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "incident: reading links",
                              "SELECT incident_id, at, kind, ref FROM incident_link WHERE incident_id = ?"
                              " ORDER BY at, kind, ref",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, incident);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_link l = {lia__db_col_int64(st, 0), lia__db_col_int64(st, 1), lia__db_col_text(st, 2),
                      lia__db_col_text(st, 3)};
        if (cb(ud, &l))
            break;
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia_incident_linking(lia_store *s, const char *kind, const char *ref, lia_link_cb cb, void *ud,
                         lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__incident_schema(db, err)))
        return rc;
    if ((rc =
             lia__db_prepare(db, "incident: reading the incidents of a link",
                             "SELECT incident_id, at, kind, ref FROM incident_link WHERE kind = ? AND ref = ?"
                             " ORDER BY incident_id",
                             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, kind, -1);
    lia__db_bind_text(st, 2, ref, -1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_link l = {lia__db_col_int64(st, 0), lia__db_col_int64(st, 1), lia__db_col_text(st, 2),
                      lia__db_col_text(st, 3)};
        if (cb(ud, &l))
            break;
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia_incident_link_events(lia_store *s, int64_t incident, const int64_t *ids, size_t n,
                             const lia_actor *who, uint64_t *added, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_event ev;
    int rc;
    if ((rc = lia__incident_schema(db, err)))
        return rc;
    if ((rc = lia__incident_exists(db, incident, err)) <= 0)
        return rc ? rc
                  : lia_error_set(err, LIA_ENOTFOUND, "incident", NULL, 0, "no incident %lld",
                                  (long long)incident);
    lia_event_init(&ev);
    for (size_t i = 0; i < n && rc >= 0; i++)
        if ((rc = lia_store_event_get(s, ids[i], &ev, err)) < 0 && rc == LIA_ENOTFOUND)
            lia_error_set(err, LIA_ENOTFOUND, "event", NULL, 0,
                          "no event %lld in the store (item %zu of %zu)", (long long)ids[i], i + 1, n);
    lia_event_free(&ev);
    if (rc < 0)
        return rc;
    return lia__incident_link_events(db, incident, ids, n, who, added, err);
}

int lia__incident_link_events(lia_db *db, int64_t incident, const int64_t *ids, size_t n,
                              const lia_actor *who, uint64_t *added, lia_error *err)
{
    lia_stmt *st = NULL;
    lia_buf after;
    char object[64];
    size_t fresh = 0, chunk_start;
    int64_t now = lia__now_us();
    int rc;
    if (added)
        *added = 0;
    if (n == 0)
        return LIA_OK;
    if ((rc = lia__db_begin(db, err)))
        return rc;
    lia_buf_init(&after, 64 * 1024);
    snprintf(object, sizeof object, "incident:%lld", (long long)incident);
    if ((rc = lia__db_prepare(db, "incident: linking events",
                              "INSERT INTO incident_link(incident_id, kind, ref, at) VALUES(?, 'event', ?, ?)"
                              " ON CONFLICT DO NOTHING",
                              &st, err)))
        goto out;
    /* one audit record per 1000 events newly linked: {"kind":"event","refs":[...]} */
    chunk_start = 0;
    for (size_t i = 0; i < n; i++) {
        char ref[24];
        snprintf(ref, sizeof ref, "%lld", (long long)ids[i]);
        lia__db_reset(st);
        lia__db_bind_int64(st, 1, incident);
        lia__db_bind_text(st, 2, ref, -1);
        lia__db_bind_int64(st, 3, now);
        if ((rc = lia__db_run(st, err)))
            goto out;
        if (lia__db_changes(db) > 0) {
            if (fresh++ == chunk_start)
                lia_buf_puts(&after, "{\"kind\":\"event\",\"refs\":[");
            else
                lia_buf_putc(&after, ',');
            lia_buf_printf(&after, "\"%s\"", ref);
        }
        if (fresh > chunk_start && (fresh - chunk_start == 1000 || i + 1 == n)) {
            lia_buf_puts(&after, "]}");
            if (after.err) {
                rc = lia_error_set(err, LIA_ENOMEM, "incident", NULL, 0, "out of memory");
                goto out;
            }
            if ((rc = lia__incident_audit(db, who, object, "link", NULL, lia_buf_cstr(&after), err)))
                goto out;
            lia_buf_reset(&after);
            chunk_start = fresh;
        }
    }
    if (added)
        *added = fresh;
out:
    lia__db_done(st);
    lia_buf_free(&after);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

/* ---- split ------------------------------------------------------------------------------- */

typedef struct rcpt_names {
    char (*v)[72];
    size_t n, cap;
    int oom;
} rcpt_names;

static int live_rcpt(void *ud, const lia_handoff *h)
{
    rcpt_names *r = ud;
    if (h->state == LIA_HO_WITHDRAWN)
        return 0;
    if (r->n == r->cap) {
        size_t nc = r->cap ? 2 * r->cap : 8;
        void *nv = realloc(r->v, nc * sizeof *r->v);
        if (!nv) {
            r->oom = 1;
            return 1;
        }
        r->v = nv;
        r->cap = nc;
    }
    snprintf(r->v[r->n++], sizeof r->v[0], "%s", h->recipient);
    return 0;
}

int lia_incident_split(lia_store *s, int64_t id, const int64_t *events, size_t n, const char *title,
                       const lia_actor *who, int64_t *new_id, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_incident cur, in;
    lia_buf hold;
    lia_stmt *st = NULL;
    rcpt_names rn = {0};
    char t[256], ref[32], object[64], what[128];
    const char **names = NULL;
    int64_t nid = 0;
    int rc;
    if (n == 0)
        return lia_error_set(err, LIA_EINVAL, "split", NULL, 0,
                             "name the events that go to the new incident");
    if ((rc = lia__incident_schema(db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    lia_buf_init(&hold, 0);
    if ((rc = lia_incident_get(s, id, &cur, &hold, err)))
        goto out;
    if (lia__incident_is_final(cur.status)) {
        rc = lia_error_set(err, LIA_ESTATE, "status", lia_incident_status_name(cur.status),
                           strlen(lia_incident_status_name(cur.status)),
                           "incident %lld is %s: a final incident is not split", (long long)id,
                           lia_incident_status_name(cur.status));
        goto out;
    }
    /* the new incident: the same attributes, the same live recipients */
    if ((rc = lia_handoff_list(s, id, -1, NULL, live_rcpt, &rn, err)))
        goto out;
    if (rn.oom || (rn.n && !(names = calloc(rn.n, sizeof *names)))) {
        rc = lia_error_set(err, LIA_ENOMEM, "split", NULL, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < rn.n; i++)
        names[i] = rn.v[i];
    in = cur;
    in.status = LIA_INC_TRIAGED;
    if (!title || !*title) {
        snprintf(t, sizeof t, "%.200s (split from %lld)", cur.title, (long long)id);
        title = t;
    }
    in.title = title;
    if ((rc = lia_incident_create(s, &in, names, rn.n, NULL, 0, who, &nid, err)))
        goto out;
    /* the events move: each must have been one of this incident's (the
     * transaction is rolled back, new incident and all, when one was not) */
    if ((rc = lia__db_prepare(
             db, "incident: moving the events of a split",
             "DELETE FROM incident_link WHERE incident_id = ? AND kind = 'event' AND ref = ?", &st, err)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        snprintf(ref, sizeof ref, "%lld", (long long)events[i]);
        lia__db_reset(st);
        lia__db_bind_int64(st, 1, id);
        lia__db_bind_text(st, 2, ref, -1);
        if ((rc = lia__db_run(st, err)))
            goto out;
        if (lia__db_changes(db) != 1) {
            rc = lia_error_set(err, LIA_ENOTFOUND, "event", ref, strlen(ref),
                               "event %s is not linked to incident %lld (item %zu of %zu)", ref,
                               (long long)id, i + 1, n);
            goto out;
        }
    }
    lia__db_done(st);
    st = NULL;
    if ((rc = lia__incident_link_events(db, nid, events, n, who, NULL, err)))
        goto out;
    /* each names the other, and the log says what moved */
    snprintf(ref, sizeof ref, "%lld", (long long)id);
    if ((rc = lia_incident_link(s, nid, "incident", ref, who, err)))
        goto out;
    snprintf(ref, sizeof ref, "%lld", (long long)nid);
    if ((rc = lia_incident_link(s, id, "incident", ref, who, err)) && rc != LIA_EEXIST)
        goto out;
    snprintf(object, sizeof object, "incident:%lld", (long long)id);
    snprintf(what, sizeof what, "{\"into\":%lld,\"events\":%zu}", (long long)nid, n);
    if ((rc = lia__incident_audit(db, who, object, "split-out", NULL, what, err)))
        goto out;
    snprintf(object, sizeof object, "incident:%lld", (long long)nid);
    snprintf(what, sizeof what, "{\"from\":%lld,\"events\":%zu}", (long long)id, n);
    rc = lia__incident_audit(db, who, object, "split-from", NULL, what, err);
out:
    lia__db_done(st);
    lia_buf_free(&hold);
    free(rn.v);
    free(names);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    if ((rc = lia__db_commit(db, err)))
        return rc;
    if (new_id)
        *new_id = nid;
    return LIA_OK;
}

/* ---- a prune (store/forget.h) ------------------------------------------------------------ */

typedef struct ids {
    int64_t *v;
    size_t n, cap;
} ids;

static int delivered_cb(void *ud, const lia_route_row *row)
{
    lia_buf *b = ud;
    if (strcmp(row->verdict, "deliver") == 0)
        lia_buf_printf(b, "%s,", row->recipient);
    return 0;
}

/* Each linked event going: its copy, from the store and routing (both
 * still hold it), before the store deletes it. */
static int incident_forget(lia_store *s, const lia_forget *f, uint64_t *rows, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    lia_event ev;
    lia_buf body, dl;
    ids l = {0};
    int rc, step;
    *rows = 0;
    if (!lia__db_has_table(db, "incident_link"))
        return LIA_OK;
    if ((rc = lia__db_prepare(db, "incident: linked events being pruned",
                              "SELECT DISTINCT CAST(ref AS INTEGER) FROM incident_link WHERE kind = 'event'"
                              " AND CAST(ref AS INTEGER) IN (SELECT id FROM temp.lia_forget_event)",
                              &st, err)))
        return rc;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        if (l.n == l.cap) {
            size_t nc = l.cap ? 2 * l.cap : 64;
            int64_t *nv = realloc(l.v, nc * sizeof *nv);
            if (!nv) {
                step = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                break;
            }
            l.v = nv;
            l.cap = nc;
        }
        l.v[l.n++] = lia__db_col_int64(st, 0);
    }
    lia__db_done(st);
    st = NULL;
    if (step < 0) {
        free(l.v);
        return step;
    }
    lia_event_init(&ev);
    lia_buf_init(&body, LIA_MAX_EVENT_TEXT * 2);
    lia_buf_init(&dl, (size_t)1 << 20);
    for (size_t i = 0; rc == LIA_OK && i < l.n; i++) {
        lia_buf_reset(&body);
        lia_buf_reset(&dl);
        lia_buf_putc(&dl, ',');
        if ((rc = lia_store_event_get(s, l.v[i], &ev, err)) ||
            (lia__db_has_table(db, "route_decision") &&
             (rc = lia_route_rows(s, l.v[i], delivered_cb, &dl, err))))
            break;
        if (lia_event_to_json(&ev, &body) || dl.err) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory copying event %lld",
                               (long long)l.v[i]);
            break;
        }
        if ((rc = lia__db_prepare(
                 db, "incident: copying a pruned event",
                 "INSERT INTO incident_event_copy(event_id, report_id, line, body, delivered, pruned)"
                 " VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(event_id) DO NOTHING",
                 &st, err)))
            break;
        lia__db_bind_int64(st, 1, l.v[i]);
        lia__db_bind_int64(st, 2, ev.report_id);
        lia__db_bind_int64(st, 3, (int64_t)ev.line);
        lia__db_bind_text(st, 4, body.ptr, (ptrdiff_t)body.len);
        lia__db_bind_text(st, 5, lia_buf_cstr(&dl), -1);
        lia__db_bind_int64(st, 6, f->at_us);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        st = NULL;
        if (rc == LIA_OK)
            *rows += (uint64_t)lia__db_changes(db);
    }
    lia_event_free(&ev);
    lia_buf_free(&body);
    lia_buf_free(&dl);
    free(l.v);
    return rc;
}

/* A store with incidents from before the copies: incident_event_copy made
 * before the prune's first transaction. */
static int incident_forget_ready(lia_store *s, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    return lia__db_has_table(db, "incident_link") ? lia__incident_schema(db, err) : LIA_OK;
}

const lia_forget_hook lia__incident_forget = {"incident", incident_forget, incident_forget_ready};

int lia__incident_event_copy(lia_store *s, int64_t id, lia_event *out, lia_buf *delivered, int64_t *pruned_us,
                             lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    char t[LIA_TIME_TEXT + 2];
    if (!lia__db_has_table(db, "incident_event_copy"))
        return LIA_ENOTFOUND;
    if ((rc = lia__db_prepare(db, "incident: a pruned event's copy",
                              "SELECT report_id, line, body, delivered, pruned FROM incident_event_copy"
                              " WHERE event_id = ?",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, id);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        const char *body = lia__db_col_text(st, 2);
        int64_t at = lia__db_col_int64(st, 4);
        lia_event_reset(out);
        rc = lia_event_from_json(out, body ? body : "{}", lia__db_col_bytes(st, 2), err);
        if (rc == LIA_OK) {
            out->id = id;
            out->report_id = lia__db_col_int64(st, 0);
            out->line = (uint64_t)lia__db_col_int64(st, 1);
            char tt[LIA_TIME_TEXT];
            lia_time_format(at, tt, sizeof tt);
            snprintf(t, sizeof t, "\"%s\"", tt);
            rc = lia_event_extra_json(out, "store_pruned", 12, t, strlen(t), err);
        }
        if (rc == LIA_OK && delivered)
            rc = lia_buf_puts(delivered, lia__db_col_text(st, 3) ? lia__db_col_text(st, 3) : ",");
        if (rc == LIA_OK && pruned_us)
            *pruned_us = at;
    } else if (rc == LIA_DB_DONE) {
        rc = LIA_ENOTFOUND;
    }
    lia__db_done(st);
    return rc;
}
