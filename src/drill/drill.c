/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Drills in the store (liaison/drill.h, docs/drills.md): the drill tables
 * (schema "drill"), sending due injects through the participants' real
 * channels, scoring by the hand-offs' own times, stopping, deleting. The
 * drill module writes only its own tables: incidents and hand-offs are
 * made through the incident API (which writes the audit log), e-mails
 * through the notify module, and a deletion asks each module to forget
 * its rows (incident/drill.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "incident/delivery.h"
#include "incident/drill.h"
#include "drill/internal.h"
#include "liaison/drill.h"
#include "liaison/incident.h"
#include "liaison/node.h"
#include "liaison/notify.h"
#include "liaison/route.h"
#include "route/internal.h"
#include "store/db.h"

/* A claim of an inject's send older than this is a tick that stopped. */
#define CLAIM_US (600LL * 1000000)

static const lia_migration migrations[] = {
    /* AUTOINCREMENT: a deleted drill's id is never given again (the audit
     * log keeps its records, the participants its e-mails) */
    {.sql = "CREATE TABLE IF NOT EXISTS drill("
            "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
            "  name TEXT NOT NULL,"
            "  source TEXT NOT NULL,"   /* the scenario file's name */
            "  scenario TEXT NOT NULL," /* the scenario as given: the one source of injects and scores */
            "  rank INTEGER NOT NULL,"
            "  started INTEGER NOT NULL,"
            "  stopped INTEGER,"
            "  created_by TEXT NOT NULL);"
            /* one per inject and participant, written before it is sent */
            "CREATE TABLE IF NOT EXISTS drill_send("
            "  drill_id INTEGER NOT NULL REFERENCES drill(id),"
            "  inject TEXT NOT NULL,"
            "  participant TEXT NOT NULL,"
            "  incident_id INTEGER NOT NULL,"
            "  channel TEXT NOT NULL,"    /* email, node, api */
            "  message_id TEXT NOT NULL," /* email: the same on a resend */
            "  state INTEGER NOT NULL,"   /* 0 made, 1 sent */
            "  claimed INTEGER,"          /* a tick sending it since */
            "  sent INTEGER,"
            "  error TEXT,"
            "  PRIMARY KEY(drill_id, inject, participant));"},
};
static const lia_schema drill_schema = {"drill", 1, migrations, NULL, .pg = 1};

int lia__drill_schema(lia_store *s, lia_error *err)
{
    int rc = lia__incident_ready(s, err);
    return rc ? rc : lia__db_schema(lia__store_db(s), &drill_schema, err);
}

static int64_t now_of(const lia_drill_opts *o)
{
    return o && o->now_us ? o->now_us : lia__now_us();
}

/* ---- one drill, as stored ---- */

typedef struct drill_row {
    int64_t id, started, stopped;
    int rank;
    char name[LIA_DRILL_MAX_TEXT + 1];
    lia_drill_scenario *sc;
} drill_row;

static int load(lia_store *s, int64_t id, drill_row *d, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    lia_error perr;
    int rc;
    memset(d, 0, sizeof *d);
    if ((rc = lia__db_prepare(db, "drill: reading a drill",
                              "SELECT id, name, scenario, rank, started, stopped FROM drill WHERE id = ?",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, id);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_DONE) {
        lia__db_done(st);
        return lia_error_set(err, LIA_ENOTFOUND, "drill", NULL, 0, "no drill %lld", (long long)id);
    }
    if (rc < 0) {
        lia__db_done(st);
        return rc;
    }
    d->id = lia__db_col_int64(st, 0);
    snprintf(d->name, sizeof d->name, "%s", lia__db_col_text(st, 1));
    d->rank = (int)lia__db_col_int64(st, 3);
    d->started = lia__db_col_int64(st, 4);
    d->stopped = lia__db_col_null(st, 5) ? 0 : lia__db_col_int64(st, 5);
    {
        const char *t = lia__db_col_text(st, 2);
        lia_error_clear(&perr);
        rc = lia_drill_scenario_parse(t, strlen(t), &d->sc, &perr);
    }
    lia__db_done(st);
    if (rc)
        return lia_error_set(err, LIA_ESTORE, "drill", NULL, 0,
                             "drill %lld: its stored scenario no longer reads: %s", (long long)id,
                             perr.reason);
    return LIA_OK;
}

static void unload(drill_row *d)
{
    lia_drill_scenario_free(d->sc);
    d->sc = NULL;
}

/* ---- create ---- */

int lia_drill_create(lia_store *s, const char *buf, size_t len, const char *source, const lia_drill_opts *o,
                     int64_t *id, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_drill_scenario *sc = NULL;
    lia_route *rt = NULL;
    lia_stmt *st;
    const char *who = NULL, *ch = NULL, *addr = NULL;
    int rc;
    if ((rc = lia_drill_scenario_parse(buf, len, &sc, err))) {
        if (err && source)
            snprintf(err->source, sizeof err->source, "%s", source);
        return rc;
    }
    if (memchr(buf, '\0', len)) {
        rc = lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "the scenario has a NUL byte");
        goto out;
    }
    if ((rc = lia__drill_schema(s, err)) || (rc = lia_route_load(s, &rt, err)))
        goto out;
    for (size_t i = 0; i < sc->nparticipants; i++)
        if (lia__route_party_find(rt, LIA_PARTY_PARTNER, sc->participants[i]) < 0 &&
            lia__route_party_find(rt, LIA_PARTY_OWNER, sc->participants[i]) < 0) {
            rc = lia_error_set(err, LIA_ENOTFOUND, "participants", sc->participants[i],
                               strlen(sc->participants[i]),
                               "no partner or owner of the directory has this id");
            goto out;
        }
    lia__store_actor(s, &who, &ch, &addr);
    if ((rc = lia__db_prepare(db, "drill: creating a drill",
                              "INSERT INTO drill(name, source, scenario, rank, started, created_by)"
                              " VALUES(?,?,?,?,?,?)",
                              &st, err)))
        goto out;
    lia__db_bind_text(st, 1, sc->name, -1);
    lia__db_bind_text(st, 2, source ? source : "-", -1);
    lia__db_bind_text(st, 3, buf, (ptrdiff_t)len);
    lia__db_bind_int64(st, 4, sc->rank);
    lia__db_bind_int64(st, 5, now_of(o));
    lia__db_bind_text(st, 6, who ? who : "liaison", -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc == LIA_OK && id)
        *id = lia__db_last_id(db);
out:
    lia_route_destroy(rt);
    lia_drill_scenario_free(sc);
    return rc;
}

/* ---- sending ---- */

typedef struct send_row {
    int found;
    int64_t incident, claimed, sent;
    int state;
    char channel[16], message_id[192];
} send_row;

static int send_get(lia_db *db, int64_t drill, const char *inj, const char *p, send_row *r, lia_error *err)
{
    lia_stmt *st;
    int rc;
    memset(r, 0, sizeof *r);
    if ((rc = lia__db_prepare(db, "drill: reading a send",
                              "SELECT incident_id, channel, message_id, state, claimed, sent FROM drill_send"
                              " WHERE drill_id = ? AND inject = ? AND participant = ?",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, drill);
    lia__db_bind_text(st, 2, inj, -1);
    lia__db_bind_text(st, 3, p, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        r->found = 1;
        r->incident = lia__db_col_int64(st, 0);
        snprintf(r->channel, sizeof r->channel, "%s", lia__db_col_text(st, 1));
        snprintf(r->message_id, sizeof r->message_id, "%s", lia__db_col_text(st, 2));
        r->state = (int)lia__db_col_int64(st, 3);
        r->claimed = lia__db_col_null(st, 4) ? 0 : lia__db_col_int64(st, 4);
        r->sent = lia__db_col_null(st, 5) ? 0 : lia__db_col_int64(st, 5);
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

/* The channel a participant answers on: its node, else e-mail to its
 * first contact (or email: channel), else the API. */
static const char *channel_of(lia_store *s, const lia_route *rt, const char *p)
{
    lia_node_peer peer;
    lia_error e;
    int idx;
    const lia_party *party;
    if (lia_node_get(s, p, &peer, &e) == LIA_OK)
        return "node";
    if ((idx = lia__route_party_find(rt, LIA_PARTY_PARTNER, p)) < 0)
        idx = lia__route_party_find(rt, LIA_PARTY_OWNER, p);
    party = idx >= 0 ? lia_route_party(rt, idx) : NULL;
    return lia__party_email(party) ? "email" : "api";
}

static void describe(lia_buf *b, const drill_row *d, const lia_drill_inject *in)
{
    lia_buf_printf(b, "[DRILL] This is an exercise, not a real incident: drill %lld \"%s\", inject \"%s\".\n",
                   (long long)d->id, d->name, in->name);
    if (in->description)
        lia_buf_printf(b, "\n%s\n", in->description);
    if (in->event) {
        /* the synthetic event, one field a line (its JSON object as written by the parser) */
        lia_buf_puts(b, "\nSynthetic event (drill data, not a real observation):\n");
        lia_buf_printf(b, "  %s\n", in->event);
    }
    for (size_t i = 0; i < in->nexpect; i++) {
        const lia_drill_expect *e = &in->expect[i];
        char within[48];
        if (e->expiry_s % 3600 == 0)
            snprintf(within, sizeof within, "%lld h", (long long)(e->expiry_s / 3600));
        else
            snprintf(within, sizeof within, "%lld min", (long long)((e->expiry_s + 59) / 60));
        if (e->answer == LIA_DRILL_VALUE)
            lia_buf_printf(
                b, "\nExpected: report back what you find (a reply or a comment naming it) within %s.",
                within);
        else
            lia_buf_printf(b, "\nExpected: %s within %s.",
                           e->answer == LIA_DRILL_ACK ? "acknowledge" : "resolved", within);
    }
    lia_buf_putc(b, '\n');
}

/* The incident of one inject for one participant and its drill_send row,
 * in one transaction. */
static int make(lia_store *s, const drill_row *d, const lia_drill_inject *in, const char *p, const char *chan,
                int64_t now, send_row *r, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_incident inc;
    lia_buf title, desc;
    lia_actor who = {"liaison", "drill", NULL};
    const char *rcpt[1] = {p};
    lia_stmt *st;
    unsigned char rnd[12];
    char hex[25];
    int rc;
    memset(&inc, 0, sizeof inc);
    lia_buf_init(&title, LIA_INCIDENT_TEXT_MAX);
    lia_buf_init(&desc, LIA_INCIDENT_TEXT_MAX);
    lia_buf_printf(&title, "[DRILL] %s", in->title);
    describe(&desc, d, in);
    if (title.err || desc.err) {
        rc = lia_error_set(err, LIA_ELIMIT, "inject", in->name, strlen(in->name), "its text is too long");
        goto done;
    }
    inc.title = lia_buf_cstr(&title);
    inc.description = lia_buf_cstr(&desc);
    inc.severity = in->severity;
    inc.tlp = in->tlp;
    inc.classification = "test"; /* RSIT: test, "meant for testing" */
    inc.status = LIA_INC_TRIAGED;
    inc.drill = d->id;
    randombytes_buf(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    memset(r, 0, sizeof *r);
    snprintf(r->message_id, sizeof r->message_id, "<liaison.drill.%lld.%s@liaison.drill>", (long long)d->id,
             hex);
    snprintf(r->channel, sizeof r->channel, "%s", chan);
    if ((rc = lia__db_begin(db, err)))
        goto done;
    if ((rc = lia_incident_create(s, &inc, rcpt, 1, NULL, 0, &who, &r->incident, err)))
        goto out;
    if ((rc = lia__db_prepare(db, "drill: recording an inject",
                              "INSERT INTO drill_send(drill_id, inject, participant, incident_id, channel,"
                              " message_id, state, claimed) VALUES(?,?,?,?,?,?,0,?)",
                              &st, err)))
        goto out;
    lia__db_bind_int64(st, 1, d->id);
    lia__db_bind_text(st, 2, in->name, -1);
    lia__db_bind_text(st, 3, p, -1);
    lia__db_bind_int64(st, 4, r->incident);
    lia__db_bind_text(st, 5, chan, -1);
    lia__db_bind_text(st, 6, r->message_id, -1);
    lia__db_bind_int64(st, 7, now); /* claimed by this tick */
    rc = lia__db_run(st, err);
    lia__db_done(st);
out:
    if (rc)
        lia__db_rollback(db);
    else
        rc = lia__db_commit(db, err);
    r->found = rc == LIA_OK;
    r->claimed = now;
done:
    lia_buf_free(&title);
    lia_buf_free(&desc);
    return rc;
}

/* Take the send for this tick: 1 if taken (no other tick holds a fresh claim). */
static int claim(lia_db *db, int64_t drill, const char *inj, const char *p, int64_t now, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "drill: claiming a send",
                              "UPDATE drill_send SET claimed = ?4 WHERE drill_id = ?1 AND inject = ?2 AND"
                              " participant = ?3 AND state = 0 AND (claimed IS NULL OR claimed < ?5)",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, drill);
    lia__db_bind_text(st, 2, inj, -1);
    lia__db_bind_text(st, 3, p, -1);
    lia__db_bind_int64(st, 4, now);
    lia__db_bind_int64(st, 5, now - CLAIM_US);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc ? rc : lia__db_changes(db) == 1;
}

static int mark(lia_db *db, int64_t drill, const char *inj, const char *p, int sent, int64_t at,
                const char *error, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "drill: recording a send",
                              "UPDATE drill_send SET state = ?4, sent = ?5, error = ?6, claimed = NULL"
                              " WHERE drill_id = ?1 AND inject = ?2 AND participant = ?3",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, drill);
    lia__db_bind_text(st, 2, inj, -1);
    lia__db_bind_text(st, 3, p, -1);
    lia__db_bind_int64(st, 4, sent);
    if (sent)
        lia__db_bind_int64(st, 5, at);
    else
        lia__db_bind_null(st, 5);
    lia__db_bind_text(st, 6, error, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

typedef struct ho_find {
    const char *recipient;
    int found;
    lia_handoff_state state;
    int64_t notified, acked, resolved, rejected;
} ho_find;

static int ho_cb(void *ud, const lia_handoff *h)
{
    ho_find *f = ud;
    if (strcmp(h->recipient, f->recipient) != 0)
        return 0;
    f->found = 1;
    f->state = h->state;
    f->notified = h->notified_us;
    f->acked = h->acknowledged_us;
    f->resolved = h->resolved_us;
    f->rejected = h->rejected_us;
    return 1;
}

static int handoff_of(lia_store *s, int64_t incident, const char *p, ho_find *f, lia_error *err)
{
    memset(f, 0, sizeof *f);
    f->recipient = p;
    return lia_handoff_list(s, incident, -1, p, ho_cb, f, err);
}

/* One inject to one participant: made if it is not, then delivered. */
static int one(lia_store *s, const lia_route *rt, const drill_row *d, const lia_drill_inject *in,
               const char *p, const lia_drill_opts *o, int64_t now, lia_drill_sent_cb cb, void *ud,
               int *failed, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    send_row r;
    ho_find h;
    lia_drill_sent x = {d->id, in->name, p, 0, NULL, "sent", NULL};
    char why[LIA_ERR_REASON_MAX + LIA_ERR_VALUE_MAX + 64];
    int rc;
    if ((rc = send_get(db, d->id, in->name, p, &r, err)))
        return rc;
    if (r.found && r.state == 1)
        return LIA_OK; /* sent before */
    if (!r.found) {
        if (o->dry_run)
            return LIA_OK; /* a dry run makes nothing */
        if ((rc = make(s, d, in, p, channel_of(s, rt, p), now, &r, err)))
            return rc;
    } else if ((rc = claim(db, d->id, in->name, p, now, err)) <= 0) {
        return rc; /* another tick is on it */
    }
    x.incident = r.incident;
    x.channel = r.channel;
    if ((rc = handoff_of(s, r.incident, p, &h, err)))
        return rc;
    if (!h.found) { /* withdrawn by hand and gone: nothing to send */
        x.outcome = "failed";
        x.error = "the hand-off is gone";
        return (rc = mark(db, d->id, in->name, p, 0, now, x.error, err)) ? rc : cb ? cb(ud, &x) : LIA_OK;
    }
    if (h.state != LIA_HO_PENDING) {
        /* delivered by an earlier tick that stopped before recording it, or
         * by node sync: the hand-off's notification time is the send */
        rc = mark(db, d->id, in->name, p, 1, h.notified ? h.notified : now, NULL, err);
        x.outcome = "sent";
        return rc ? rc : cb ? cb(ud, &x) : LIA_OK;
    }
    if (strcmp(r.channel, "node") == 0) {
        x.outcome = "queued"; /* node sync offers the pending hand-off */
        rc = mark(db, d->id, in->name, p, 0, now, NULL, err);
        return rc ? rc : cb ? cb(ud, &x) : LIA_OK;
    }
    if (strcmp(r.channel, "api") == 0) {
        lia_actor who = {"liaison", "api", NULL};
        if (o->dry_run) {
            x.outcome = "dry-run";
            return cb ? cb(ud, &x) : LIA_OK;
        }
        if ((rc = lia__db_begin(db, err)))
            return rc;
        if ((rc = lia__handoff_set_at(s, r.incident, p, LIA_HO_NOTIFIED, NULL, NULL, &who, now, err)) ||
            (rc = mark(db, d->id, in->name, p, 1, now, NULL, err))) {
            lia__db_rollback(db);
            return rc;
        }
        if ((rc = lia__db_commit(db, err)))
            return rc;
        return cb ? cb(ud, &x) : LIA_OK;
    }
    {
        lia_notify_handoff_opts no = {0};
        lia_notify_handoff_result res;
        lia_buf body;
        char hdr[32];
        snprintf(hdr, sizeof hdr, "%lld", (long long)d->id);
        no.now_us = now;
        no.dry_run = o->dry_run;
        no.unsigned_ok = o->unsigned_ok;
        no.smtp_url = o->smtp_url;
        no.mail_from = o->mail_from;
        no.sign_key = o->sign_key;
        no.gnupg_home = o->gnupg_home;
        no.message_id = r.message_id;
        no.prefix = "[DRILL]";
        no.header_name = "X-Liaison-Drill";
        no.header_value = hdr;
        no.subject = in->title;
        lia_buf_init(&body, LIA_INCIDENT_TEXT_MAX);
        describe(&body, d, in);
        lia_buf_puts(&body,
                     "Please answer as you would answer a real incident: the time you take is scored.\n");
        no.body = lia_buf_cstr(&body);
        rc = lia_notify_handoff(s, r.incident, p, &no, &res, err);
        lia_buf_free(&body);
        if (rc == LIA_OK) {
            x.outcome = res.outcome;
            if (strcmp(res.outcome, "failed") == 0) {
                snprintf(why, sizeof why, "%s", res.error ? res.error : "failed");
                x.error = why;
                *failed = 1;
                rc = mark(db, d->id, in->name, p, 0, now, why, err); /* the claim released: retried */
            } else if (strcmp(res.outcome, "sent") == 0) {
                rc = mark(db, d->id, in->name, p, 1, now, NULL, err);
            } else {
                rc = mark(db, d->id, in->name, p, 0, now, NULL, err);
            }
        }
        lia_notify_handoff_result_free(&res);
        if (rc)
            return rc;
    }
    return cb ? cb(ud, &x) : LIA_OK;
}

static int tick_one(lia_store *s, const lia_route *rt, int64_t id, const lia_drill_opts *o,
                    lia_drill_sent_cb cb, void *ud, int *failed, lia_error *err)
{
    drill_row d;
    int64_t now = now_of(o);
    int rc;
    if ((rc = load(s, id, &d, err)))
        return rc;
    if (!d.stopped)
        for (size_t i = 0; rc == LIA_OK && i < d.sc->ninjects; i++) {
            const lia_drill_inject *in = &d.sc->injects[i];
            if (d.started + in->at_s * 1000000 > now)
                continue;
            for (size_t j = 0; rc == LIA_OK && j < d.sc->nparticipants; j++)
                rc = one(s, rt, &d, in, d.sc->participants[j], o, now, cb, ud, failed, err);
        }
    unload(&d);
    return rc;
}

typedef struct idvec {
    int64_t *v;
    size_t n, cap;
} idvec;

static int ids_of(lia_store *s, int running, idvec *out, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(lia__store_db(s), running ? "drill: running drills" : "drill: every drill",
                              running ? "SELECT id FROM drill WHERE stopped IS NULL ORDER BY id"
                                      : "SELECT id FROM drill ORDER BY id",
                              &st, err)))
        return rc;
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        if (out->n == out->cap) {
            size_t nc = out->cap ? 2 * out->cap : 16;
            int64_t *nv = realloc(out->v, nc * sizeof *nv);
            if (!nv) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                break;
            }
            out->v = nv;
            out->cap = nc;
        }
        out->v[out->n++] = lia__db_col_int64(st, 0);
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia_drill_tick(lia_store *s, int64_t drill, const lia_drill_opts *o, lia_drill_sent_cb cb, void *ud,
                   lia_error *err)
{
    lia_route *rt = NULL;
    idvec ids = {0};
    int rc, failed = 0;
    if (sodium_init() < 0)
        return lia_error_set(err, LIA_ECRYPTO, NULL, NULL, 0, "libsodium failed to initialise");
    if ((rc = lia__drill_schema(s, err)) || (rc = lia_route_load(s, &rt, err)))
        return rc;
    if (drill) {
        drill_row d;
        if ((rc = load(s, drill, &d, err)))
            goto out;
        unload(&d);
        rc = tick_one(s, rt, drill, o, cb, ud, &failed, err);
    } else if ((rc = ids_of(s, 1, &ids, err)) == LIA_OK) {
        for (size_t i = 0; rc == LIA_OK && i < ids.n; i++)
            rc = tick_one(s, rt, ids.v[i], o, cb, ud, &failed, err);
    }
    if (rc == LIA_OK && failed)
        rc = lia_error_set(err, LIA_ENET, NULL, NULL, 0,
                           "some injects could not be sent (retried on the next tick)");
out:
    free(ids.v);
    lia_route_destroy(rt);
    return rc;
}

/* ---- stop, delete ---- */

int lia_drill_stop(lia_store *s, int64_t drill, const lia_drill_opts *o, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    drill_row d;
    lia_stmt *st;
    int rc;
    if ((rc = lia__drill_schema(s, err)) || (rc = load(s, drill, &d, err)))
        return rc;
    unload(&d);
    if (d.stopped)
        return lia_error_set(err, LIA_ESTATE, "drill", NULL, 0, "drill %lld was stopped already",
                             (long long)drill);
    if ((rc = lia__db_prepare(db, "drill: stopping a drill", "UPDATE drill SET stopped = ? WHERE id = ?", &st,
                              err)))
        return rc;
    lia__db_bind_int64(st, 1, now_of(o));
    lia__db_bind_int64(st, 2, drill);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia_drill_delete(lia_store *s, int64_t drill, uint64_t *incidents, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    drill_row d;
    uint64_t n = 0;
    int rc;
    if ((rc = lia__drill_schema(s, err)) || (rc = load(s, drill, &d, err)))
        return rc;
    unload(&d);
    if ((rc = lia__db_begin(db, err)))
        return rc;
    if ((rc = lia__mail_forget_drill(db, drill, err)) || (rc = lia__node_forget_drill(db, drill, err)) ||
        (rc = lia__incident_forget_drill(db, drill, &n, err)))
        goto out;
    {
        static const char *const sql[] = {"DELETE FROM drill_send WHERE drill_id = ?",
                                          "DELETE FROM drill WHERE id = ?"};
        for (size_t i = 0; rc == LIA_OK && i < 2; i++) {
            lia_stmt *st;
            if ((rc = lia__db_prepare(db, i ? "drill: deleting a drill" : "drill: deleting a drill's sends",
                                      sql[i], &st, err)))
                break;
            lia__db_bind_int64(st, 1, drill);
            rc = lia__db_run(st, err);
            lia__db_done(st);
        }
    }
out:
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    if ((rc = lia__db_commit(db, err)))
        return rc;
    if (incidents)
        *incidents = n;
    return LIA_OK;
}

/* ---- scoring ---- */

typedef struct value_find {
    const char *participant, *value;
    int64_t until; /* comments up to this time */
    int64_t at;    /* the first that names the value; 0: none */
} value_find;

static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

/* A comment of the participant: from its e-mail reply or its node (the
 * author is its id), or from one of its users over the API (the author
 * "ORG/USER", the visibility forced to "shared:ITS-ID": our team's authors
 * have no '/'). */
static int by_participant(const lia_comment *c, const char *p)
{
    if (!c->author)
        return 0;
    if (strcmp(c->author, p) == 0)
        return 1;
    return strchr(c->author, '/') && c->visibility && strncmp(c->visibility, "shared:", 7) == 0 &&
           strcmp(c->visibility + 7, p) == 0;
}

static int comment_cb(void *ud, const lia_comment *c)
{
    value_find *f = ud;
    if (by_participant(c, f->participant) && c->at_us <= f->until && find_ci(c->body, f->value) &&
        (!f->at || c->at_us < f->at))
        f->at = c->at_us;
    return 0;
}

int lia_drill_report(lia_store *s, int64_t drill, const lia_drill_opts *o, lia_drill_row_cb cb, void *ud,
                     int *rank, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    drill_row d;
    int64_t cutoff;
    int rc;
    if ((rc = lia__drill_schema(s, err)) || (rc = load(s, drill, &d, err)))
        return rc;
    cutoff = now_of(o);
    if (d.stopped && d.stopped < cutoff)
        cutoff = d.stopped;
    for (size_t j = 0; rc == LIA_OK && j < d.sc->nparticipants; j++) {
        const char *p = d.sc->participants[j];
        for (size_t i = 0; rc == LIA_OK && i < d.sc->ninjects; i++) {
            const lia_drill_inject *in = &d.sc->injects[i];
            send_row r;
            ho_find h;
            memset(&h, 0, sizeof h);
            if ((rc = send_get(db, d.id, in->name, p, &r, err)))
                break;
            if (r.found && (rc = handoff_of(s, r.incident, p, &h, err)))
                break;
            for (size_t k = 0; rc == LIA_OK && k < in->nexpect; k++) {
                const lia_drill_expect *e = &in->expect[k];
                lia_drill_row row = {p,          in->name,  lia_drill_answer_name(e->answer),
                                     r.incident, r.channel, 0,
                                     -1,         -1,        -1,
                                     "not sent", 0,         e->score};
                int64_t sent = h.found ? h.notified : 0, answer = 0;
                if (!r.found)
                    row.channel = NULL;
                if (sent) {
                    int64_t ack = h.acked ? h.acked : h.resolved; /* resolved at once is acknowledged too */
                    row.sent_us = sent;
                    if (ack && ack <= cutoff)
                        row.acked_after_s = (ack - sent) / 1000000;
                    if (h.resolved && h.resolved <= cutoff)
                        row.resolved_after_s = (h.resolved - sent) / 1000000;
                    if (e->answer == LIA_DRILL_ACK)
                        answer = ack;
                    else if (e->answer == LIA_DRILL_RESOLVE)
                        answer = h.resolved;
                    else {
                        value_find f = {p, e->value, cutoff, 0};
                        if ((rc = lia_incident_comments(s, r.incident, comment_cb, &f, err)))
                            break;
                        answer = f.at;
                    }
                    if (answer && answer <= cutoff) {
                        row.answered_after_s = (answer - sent) / 1000000;
                        if (answer - sent <= e->expiry_s * 1000000) {
                            row.verdict = "met";
                            row.score = e->score;
                        } else {
                            row.verdict = "late";
                        }
                    } else {
                        row.verdict =
                            cutoff - sent > e->expiry_s * 1000000 || d.stopped ? "missed" : "waiting";
                    }
                }
                if (cb && cb(ud, &row))
                    goto out;
            }
        }
    }
out:
    if (rc == LIA_OK && rank)
        *rank = d.rank;
    unload(&d);
    return rc;
}

/* ---- list ---- */

typedef struct count_ctx {
    size_t sent, open;
    const char *p, *inj; /* the last pair counted (the scenario's strings) */
} count_ctx;

static int count_cb(void *ud, const lia_drill_row *r)
{
    count_ctx *c = ud;
    if (r->sent_us && (r->participant != c->p || r->inject != c->inj))
        c->sent++;
    c->p = r->participant;
    c->inj = r->inject;
    if (strcmp(r->verdict, "waiting") == 0 || strcmp(r->verdict, "not sent") == 0)
        c->open++;
    return 0;
}

int lia_drill_list(lia_store *s, int64_t drill, const lia_drill_opts *o, lia_drill_info_cb cb, void *ud,
                   lia_error *err)
{
    idvec ids = {0};
    int rc;
    if ((rc = lia__drill_schema(s, err)))
        return rc;
    if (drill) {
        if (!(ids.v = malloc(sizeof *ids.v)))
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        ids.v[0] = drill;
        ids.n = 1;
    } else if ((rc = ids_of(s, 0, &ids, err))) {
        goto out;
    }
    for (size_t i = 0; rc == LIA_OK && i < ids.n; i++) {
        drill_row d;
        count_ctx c = {0, 0, NULL, NULL};
        lia_drill_info info;
        if ((rc = load(s, ids.v[i], &d, err)))
            break;
        if ((rc = lia_drill_report(s, d.id, o, count_cb, &c, NULL, err))) {
            unload(&d);
            break;
        }
        info.id = d.id;
        info.name = d.name;
        info.state = d.stopped ? "stopped" : c.open == 0 ? "finished" : "running";
        info.started_us = d.started;
        info.stopped_us = d.stopped;
        info.participants = d.sc->nparticipants;
        info.injects = d.sc->ninjects;
        info.sent = c.sent;
        info.rank = d.rank;
        unload(&d);
        if (cb && cb(ud, &info))
            break;
    }
out:
    free(ids.v);
    return rc;
}
