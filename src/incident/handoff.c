/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Hand-offs (one per recipient of an incident) and their SLA clocks. Each
 * change of state runs in one transaction with its audit record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "incident/delivery.h"
#include "incident/internal.h"
#include "liaison/route.h"

#define HO_COLS                                                                                              \
    "incident_id, recipient, state, created, notified, acknowledged, resolved, rejected, updated, reason, "  \
    "by,"                                                                                                    \
    " channel"

static void read_handoff(lia_stmt *st, lia_handoff *h)
{
    h->incident = lia__db_col_int64(st, 0);
    h->recipient = lia__db_col_text(st, 1);
    h->state = (lia_handoff_state)lia__db_col_int64(st, 2);
    h->created_us = lia__db_col_int64(st, 3);
    h->notified_us = lia__db_col_int64(st, 4);
    h->acknowledged_us = lia__db_col_int64(st, 5);
    h->resolved_us = lia__db_col_int64(st, 6);
    h->rejected_us = lia__db_col_int64(st, 7);
    h->updated_us = lia__db_col_int64(st, 8);
    h->reason = lia__db_col_text(st, 9);
    h->by = lia__db_col_text(st, 10);
    h->channel = lia__db_col_text(st, 11);
}

static void handoff_json(lia_handoff_state state, const char *reason, const char *message_id, lia_buf *b)
{
    lia_buf_printf(b, "{\"state\":\"%s\"", lia_handoff_state_name(state));
    if (reason) {
        lia_buf_puts(b, ",\"reason\":");
        lia_buf_json_str(b, reason, strlen(reason));
    }
    if (message_id && *message_id) {
        lia_buf_puts(b, ",\"message_id\":");
        lia_buf_json_str(b, message_id, strlen(message_id));
    }
    lia_buf_putc(b, '}');
}

static int recipient_ok(const char *r, lia_error *err)
{
    size_t n = r ? strlen(r) : 0;
    if (n == 0 || n > 64)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        char c = r[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i && (c == '.' || c == '_' || c == '-'))))
            goto bad;
    }
    return LIA_OK;
bad:
    return lia_error_set(err, LIA_EINVAL, "recipient", r, n,
                         "a recipient is a partner or owner id ([a-z0-9][a-z0-9._-]{0,63})");
}

int lia_handoff_add(lia_store *s, int64_t incident, const char *recipient, const lia_actor *who,
                    lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_buf after;
    lia_stmt *st;
    char object[128];
    int64_t now = lia__now_us();
    int rc;
    if ((rc = recipient_ok(recipient, err)))
        return rc;
    if ((rc = lia__incident_schema(db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    lia_buf_init(&after, 1024);
    if ((rc = lia__incident_exists(db, incident, err)) <= 0) {
        if (rc == 0)
            rc = lia_error_set(err, LIA_ENOTFOUND, "incident", NULL, 0, "no incident %lld",
                               (long long)incident);
        goto out;
    }
    if ((rc = lia__db_prepare(
             db, "incident: adding a hand-off",
             "INSERT INTO handoff(incident_id, recipient, state, created, by, channel, updated)"
             " VALUES(?,?,?,?,?,?,?)",
             &st, err)))
        goto out;
    lia__db_bind_int64(st, 1, incident);
    lia__db_bind_text(st, 2, recipient, -1);
    lia__db_bind_int64(st, 3, LIA_HO_PENDING);
    lia__db_bind_int64(st, 4, now);
    lia__db_bind_text(st, 5, who && who->who ? who->who : "unknown", -1);
    lia__db_bind_text(st, 6, who && who->channel ? who->channel : "cli", -1);
    lia__db_bind_int64(st, 7, now);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc == LIA_EEXIST)
        rc = lia_error_set(err, LIA_EEXIST, "recipient", recipient, strlen(recipient),
                           "incident %lld is already handed off to it", (long long)incident);
    if (rc)
        goto out;
    handoff_json(LIA_HO_PENDING, NULL, NULL, &after);
    snprintf(object, sizeof object, "handoff:%lld/%s", (long long)incident, recipient);
    rc = lia__incident_audit(db, who, object, "create", NULL, after.ptr, err);
out:
    lia_buf_free(&after);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

int lia_handoff_set(lia_store *s, int64_t incident, const char *recipient, lia_handoff_state to,
                    const char *reason, const lia_actor *who, lia_error *err)
{
    return lia__handoff_set_at(s, incident, recipient, to, reason, NULL, who, lia__now_us(), err);
}

int lia__handoff_set_at(lia_store *s, int64_t incident, const char *recipient, lia_handoff_state to,
                        const char *reason, const char *message_id, const lia_actor *who, int64_t at_us,
                        lia_error *err)
{
    static const char *const column[LIA_HO__COUNT] = {[LIA_HO_NOTIFIED] = "notified",
                                                      [LIA_HO_ACKNOWLEDGED] = "acknowledged",
                                                      [LIA_HO_RESOLVED] = "resolved",
                                                      [LIA_HO_REJECTED] = "rejected"};
    lia_db *db = lia__store_db(s);
    lia_buf before, after;
    lia_stmt *st;
    lia_handoff_state from = LIA_HO_PENDING;
    char object[128], *old_reason = NULL;
    int64_t now = at_us;
    int rc;
    if ((rc = recipient_ok(recipient, err)))
        return rc;
    if ((unsigned)to >= LIA_HO__COUNT)
        return lia_error_set(err, LIA_EINVAL, "hand-off state", NULL, 0, "unknown hand-off state");
    if (to == LIA_HO_REJECTED && (!reason || !*reason))
        return lia_error_set(err, LIA_EINVAL, "reason", NULL, 0, "a rejection says why");
    if (reason && strlen(reason) > LIA_INCIDENT_TEXT_MAX)
        return lia_error_set(err, LIA_ELIMIT, "reason", NULL, 0, "longer than %u bytes",
                             LIA_INCIDENT_TEXT_MAX);
    if ((rc = lia__incident_schema(db, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    lia_buf_init(&before, 2 * LIA_INCIDENT_TEXT_MAX);
    lia_buf_init(&after, 2 * LIA_INCIDENT_TEXT_MAX);
    if ((rc = lia__db_prepare(db, "incident: reading a hand-off",
                              "SELECT state, reason FROM handoff WHERE incident_id = ? AND recipient = ?",
                              &st, err)))
        goto out;
    lia__db_bind_int64(st, 1, incident);
    lia__db_bind_text(st, 2, recipient, -1);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        const char *r = lia__db_col_text(st, 1);
        from = (lia_handoff_state)lia__db_col_int64(st, 0);
        old_reason = r ? strdup(r) : NULL;
        rc = r && !old_reason ? lia_error_set(err, LIA_ENOMEM, "hand-off", NULL, 0, "out of memory") : LIA_OK;
    } else if (rc == LIA_DB_DONE) {
        rc = lia_error_set(err, LIA_ENOTFOUND, "hand-off", recipient, strlen(recipient),
                           "incident %lld is not handed off to it", (long long)incident);
    }
    lia__db_done(st);
    if (rc || (rc = lia__handoff_transition(from, to, err)))
        goto out;
    /* One statement per target column: the time of this state is set, the
     * reason kept only for a rejection. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE handoff SET state=?, reason=?, by=?, channel=?, updated=?%s%s%s"
             " WHERE incident_id=? AND recipient=?",
             column[to] ? ", " : "", column[to] ? column[to] : "", column[to] ? "=?5" : "");
    if ((rc = lia__db_prepare_once(db, "incident: changing a hand-off", sql, &st, err)))
        goto out;
    lia__db_bind_int64(st, 1, to);
    lia__db_bind_text(st, 2, to == LIA_HO_REJECTED ? reason : NULL, -1);
    lia__db_bind_text(st, 3, who && who->who ? who->who : "unknown", -1);
    lia__db_bind_text(st, 4, who && who->channel ? who->channel : "cli", -1);
    lia__db_bind_int64(st, 5, now);
    lia__db_bind_int64(st, 6, incident);
    lia__db_bind_text(st, 7, recipient, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        goto out;
    handoff_json(from, old_reason, NULL, &before);
    handoff_json(to, reason, message_id, &after);
    snprintf(object, sizeof object, "handoff:%lld/%s", (long long)incident, recipient);
    rc = lia__incident_audit(db, who, object, lia_handoff_state_name(to), before.ptr, after.ptr, err);
    if (rc == LIA_OK) {
        char cause[160];
        snprintf(cause, sizeof cause, "%s %s", object, lia_handoff_state_name(to));
        rc = lia__incident_follow(s, incident, cause, now, err);
    }
out:
    free(old_reason);
    lia_buf_free(&before);
    lia_buf_free(&after);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

int lia_handoff_list(lia_store *s, int64_t incident, int state, const char *recipient, lia_handoff_cb cb,
                     void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__incident_schema(db, err)))
        return rc;
        /* one statement per combination of filters: "(?1 = 0 OR incident_id = ?1)"
         * would keep SQLite from the primary key and scan every hand-off, which
         * made opening N incidents cost N^2 (bench/incidents.sh) */
#define HO_LIST(name, where)                                                                                 \
    {                                                                                                        \
        "incident: listing hand-offs" name,                                                                  \
            "SELECT " HO_COLS " FROM handoff" where " ORDER BY incident_id, recipient"                       \
    }
    static const struct {
        const char *name, *sql;
    } q[8] = {
        HO_LIST("", ""),
        HO_LIST(" of an incident", " WHERE incident_id = ?1"),
        HO_LIST(" in a state", " WHERE state = ?2"),
        HO_LIST(" of an incident in a state", " WHERE incident_id = ?1 AND state = ?2"),
        HO_LIST(" of a recipient", " WHERE recipient = ?3"),
        HO_LIST(" of an incident and recipient", " WHERE incident_id = ?1 AND recipient = ?3"),
        HO_LIST(" of a recipient in a state", " WHERE state = ?2 AND recipient = ?3"),
        HO_LIST(" of an incident and recipient in a state",
                " WHERE incident_id = ?1 AND state = ?2 AND recipient = ?3"),
    };
#undef HO_LIST
    int k = (incident ? 1 : 0) | (state >= 0 ? 2 : 0) | (recipient ? 4 : 0);
    if ((rc = lia__db_prepare(db, q[k].name, q[k].sql, &st, err)))
        return rc;
    if (incident)
        lia__db_bind_int64(st, 1, incident);
    if (state >= 0)
        lia__db_bind_int64(st, 2, state);
    if (recipient)
        lia__db_bind_text(st, 3, recipient, -1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_handoff h;
        read_handoff(st, &h);
        if (cb(ud, &h))
            break;
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

/* ---- SLA breaches ------------------------------------------------------------ */

#define MAX_PAUSES 256

/* The incident's waits on us, in seconds, sorted. */
static int load_pauses(lia_db *db, int64_t incident, lia_interval *p, size_t *n, lia_error *err)
{
    lia_stmt *st;
    int rc;
    *n = 0;
    if ((rc = lia__db_prepare(db, "incident: reading waits on us",
                              "SELECT since, until FROM incident_pause WHERE incident_id = ? ORDER BY since",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, incident);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW && *n < MAX_PAUSES) {
        int64_t from = lia__db_col_int64(st, 0) / 1000000;
        int64_t to = lia__db_col_null(st, 1) ? INT64_MAX : lia__db_col_int64(st, 1) / 1000000;
        if (to <= from) /* a wait shorter than a second */
            continue;
        if (*n && from < p[*n - 1].to)
            from = p[*n - 1].to;
        if (to > from)
            p[(*n)++] = (lia_interval){from, to};
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

typedef struct pending {
    int64_t incident, since_us;
    char recipient[72];
    lia_handoff_state state;
    lia_severity severity;
} pending;

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The clock of hand-off e (notified: acknowledge, acknowledged: resolve)
 * at now_us, in the recipient's calendar (its time zone, business hours
 * and holidays from the directory; else office hours Monday to Friday in
 * UTC) and with its own target for the severity where it has one, the
 * incident's waits on us as pauses. */
static int eval_clock(lia_store *s, const pending *e, int64_t now_us, const lia_sla_policy *p,
                      lia_handoff_clock *out, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_interval pauses[MAX_PAUSES];
    size_t np;
    lia_party party;
    lia_tz *tz = NULL;
    lia_sla_clock c;
    lia_error e2;
    int rc;
    memset(out, 0, sizeof *out);
    snprintf(out->tz, sizeof out->tz, "UTC");
    int64_t *hol = NULL;
    size_t nhol = 0;
    int found;
    lia_party_init(&party, LIA_PARTY_PARTNER);
    lia_error_clear(&e2);
    found = lia_party_get_one(s, LIA_PARTY_PARTNER, e->recipient, &party, &e2) == LIA_OK;
    if (!found) {
        lia_party_free(&party);
        lia_party_init(&party, LIA_PARTY_OWNER);
        found = lia_party_get_one(s, LIA_PARTY_OWNER, e->recipient, &party, &e2) == LIA_OK;
    }
    if (found && lia_party_get(&party, LIA_PF_TIMEZONE) &&
        lia__tz_load(lia_party_get(&party, LIA_PF_TIMEZONE), &tz, &e2) == LIA_OK)
        snprintf(out->tz, sizeof out->tz, "%s", lia__tz_name(tz));
    lia_calendar cal = lia__calendar_office(tz);
    out->clock = e->state == LIA_HO_NOTIFIED ? "acknowledge" : "resolve";
    out->target = e->state == LIA_HO_NOTIFIED ? p->ack[e->severity] : p->resolve[e->severity];
    /* the recipient's own hours, days off and targets, where the directory
     * sets them (validated when it was imported; a value that no longer
     * reads is skipped) */
    if (found) {
        const char *hv = lia_party_get(&party, LIA_PF_HOURS), *why;
        const lia_strlist *hl = &party.f[LIA_PF_HOLIDAYS], *sl = &party.f[LIA_PF_SLA];
        uint8_t days;
        uint16_t open, close;
        if (hv && lia_calendar_hours_parse(hv, strlen(hv), &days, &open, &close, &why) == LIA_OK)
            cal.days = days, cal.open = open, cal.close = close;
        if (hl->n && (hol = malloc(hl->n * sizeof *hol))) {
            for (size_t i = 0; i < hl->n && nhol < LIA_SLA_MAX_HOLIDAYS; i++)
                if (lia_date_parse(hl->v[i], strlen(hl->v[i]), &hol[nhol], &why) == LIA_OK)
                    nhol++;
            qsort(hol, nhol, sizeof *hol, cmp_day);
            size_t k = 0; /* sorted, once each */
            for (size_t i = 0; i < nhol; i++)
                if (!k || hol[i] != hol[k - 1])
                    hol[k++] = hol[i];
            cal.holidays = hol;
            cal.nholidays = nhol = k;
        }
        for (size_t i = 0; i < sl->n; i++) {
            lia_severity sv;
            int64_t a, r;
            if (lia_sla_target_parse(sl->v[i], strlen(sl->v[i]), &sv, &a, &r, &why) == LIA_OK &&
                sv == e->severity) {
                out->target = e->state == LIA_HO_NOTIFIED ? a : r;
                break;
            }
        }
    }
    out->start_us = e->since_us;
    if ((rc = load_pauses(db, e->incident, pauses, &np, err)) == LIA_OK &&
        (rc = lia__sla_eval(&cal, e->since_us / 1000000, out->target, pauses, np, now_us / 1000000, &c,
                            err)) == LIA_OK) {
        out->used = c.used;
        out->due_us = c.due == INT64_MAX ? INT64_MAX : c.due * 1000000;
        out->paused = c.paused;
        out->breached = c.breached;
    }
    lia__tz_free(tz);
    lia_party_free(&party);
    free(hol);
    return rc;
}

int lia_handoff_clock_get(lia_store *s, const lia_incident *inc, const lia_handoff *h, int64_t now_us,
                          const lia_sla_policy *p, lia_handoff_clock *out, lia_error *err)
{
    lia_sla_policy def = lia__sla_policy_default();
    pending e;
    memset(out, 0, sizeof *out);
    if ((h->state != LIA_HO_NOTIFIED && h->state != LIA_HO_ACKNOWLEDGED) || inc->status == LIA_INC_RESOLVED ||
        lia__incident_is_final(inc->status))
        return LIA_OK;
    memset(&e, 0, sizeof e);
    e.incident = inc->id;
    e.since_us = h->state == LIA_HO_NOTIFIED ? h->notified_us : h->acknowledged_us;
    snprintf(e.recipient, sizeof e.recipient, "%s", h->recipient);
    e.state = h->state;
    e.severity = (unsigned)inc->severity < LIA_SEV__COUNT ? inc->severity : LIA_SEV_MEDIUM;
    return eval_clock(s, &e, now_us, p ? p : &def, out, err);
}

int lia_sla_breaches(lia_store *s, int64_t now_us, const lia_sla_policy *p, lia_sla_breach_cb cb, void *ud,
                     lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_sla_policy def = lia__sla_policy_default();
    pending *v = NULL;
    size_t n = 0, cap = 0;
    lia_stmt *st;
    int rc;
    if (!p)
        p = &def;
    if ((rc = lia__incident_schema(db, err)))
        return rc;
    /* Collect first: the directory lookups below use the store too. */
    if ((rc = lia__db_prepare(
             db, "incident: hand-offs with a running clock",
             "SELECT h.incident_id, h.recipient, h.state, h.notified, h.acknowledged, i.severity"
             " FROM handoff h JOIN incident i ON i.id = h.incident_id"
             " WHERE h.state IN (1, 2) AND i.status NOT IN (5, 6, 7, 8, 9) AND i.drill IS NULL"
             " ORDER BY h.incident_id, h.recipient",
             &st, err)))
        return rc;
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            pending *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = lia_error_set(err, LIA_ENOMEM, "sla", NULL, 0, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        pending *e = &v[n++];
        e->incident = lia__db_col_int64(st, 0);
        snprintf(e->recipient, sizeof e->recipient, "%s", lia__db_col_text(st, 1));
        e->state = (lia_handoff_state)lia__db_col_int64(st, 2);
        e->since_us = lia__db_col_int64(st, e->state == LIA_HO_NOTIFIED ? 3 : 4);
        e->severity = (lia_severity)lia__db_col_int64(st, 5);
        if ((unsigned)e->severity >= LIA_SEV__COUNT)
            e->severity = LIA_SEV_MEDIUM;
    }
    lia__db_done(st);
    if (rc < 0)
        goto out;
    rc = LIA_OK;
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        pending *e = &v[i];
        lia_handoff_clock c;
        if ((rc = eval_clock(s, e, now_us, p, &c, err)) == LIA_OK && c.breached) {
            lia_sla_breach b = {e->incident, e->recipient, c.clock,  e->severity,
                                c.target,    c.used,       c.due_us, c.tz};
            if (cb(ud, &b))
                i = n;
        }
    }
out:
    free(v);
    return rc;
}
