/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Receiving: a peer's message applied once, in order, in one transaction
 * with its effect, the thread's new last number and the audit record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "incident/internal.h"
#include "liaison/ingest.h"
#include "liaison/route.h"
#include "node/internal.h"

typedef struct thread {
    int found;
    int64_t incident, in_last;
} thread;

/* The thread of msg m from peer: by our incident (an answer about ours) or
 * by the peer's incident id (one it offered). */
static int thread_of(lia_db *db, const char *peer, const lia_node_msg *m, thread *t, lia_error *err)
{
    lia_stmt *st;
    int rc;
    memset(t, 0, sizeof *t);
    rc = m->yours ? lia__db_prepare(db, "node: the thread of an answer",
                                    "SELECT incident_id, in_last FROM node_thread"
                                    " WHERE peer = ?1 AND incident_id = ?2 AND origin = 0",
                                    &st, err)
                  : lia__db_prepare(db, "node: the thread of an offered incident",
                                    "SELECT incident_id, in_last FROM node_thread"
                                    " WHERE peer = ?1 AND remote = ?2 AND origin = 1",
                                    &st, err);
    if (rc)
        return rc;
    lia__db_bind_text(st, 1, peer, -1);
    lia__db_bind_int64(st, 2, m->incident);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        t->found = 1;
        t->incident = lia__db_col_int64(st, 0);
        t->in_last = lia__db_col_int64(st, 1);
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static int ho_cb(void *ud, const lia_handoff *h)
{
    (void)h;
    *(int *)ud = 1;
    return 0;
}

static int handed_to(lia_store *s, int64_t incident, const char *peer, int *yes, lia_error *err)
{
    *yes = 0;
    return lia_handoff_list(s, incident, -1, peer, ho_cb, yes, err);
}

typedef struct ids {
    int64_t *v;
    size_t n;
} ids;

/* The offer's events through our own pipeline (enrich, dedup, route, store:
 * our constituents get them as from any feed) as a report of feed
 * "node:PEER"; the same events again are the same report, stored once. The
 * stored ids go to *out. */
static int ingest_events(lia_store *s, const char *peer, const lia_node_msg *m, ids *out, lia_error *err)
{
    lia_ingest_opts o;
    char feed[80], name[128];
    memset(out, 0, sizeof *out);
    if (!m->events || !m->events_len)
        return LIA_OK;
    memset(&o, 0, sizeof o);
    snprintf(feed, sizeof feed, "node:%s", peer);
    snprintf(name, sizeof name, "node-%s-incident-%lld.jsonl", peer, (long long)m->incident);
    o.format = "jsonl";
    o.archive = 1;
    o.feed.feed = feed;
    o.feed.provider = peer;
    o.feed.report_name = name;
    o.feed.tlp = -1;
    o.feed.observed_us = m->at_us;
    return lia__incident_ingest(s, &o, m->events, m->events_len, &out->v, &out->n, err);
}

static int new_thread(lia_db *db, const char *peer, int64_t incident, int origin, int64_t remote,
                      lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "node: opening a thread",
                              "INSERT INTO node_thread(peer, incident_id, origin, remote, out_next, in_last,"
                              " reported, comment_hw) VALUES (?, ?, ?, ?, 1, 0, 0,"
                              " (SELECT coalesce(max(id), 0) FROM incident_comment WHERE incident_id = ?2))",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, peer, -1);
    lia__db_bind_int64(st, 2, incident);
    lia__db_bind_int64(st, 3, origin);
    if (remote)
        lia__db_bind_int64(st, 4, remote);
    else
        lia__db_bind_null(st, 4);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

static int apply_offer(lia_store *s, const char *peer, const lia_actor *who, const lia_node_msg *m,
                       const ids *ev, lia_node_result *res, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_incident inc;
    lia_severity sev = LIA_SEV_MEDIUM;
    char note[512];
    int rc;
    memset(&inc, 0, sizeof inc);
    lia_severity_parse(m->severity, &sev, NULL);
    inc.title = m->title;
    inc.description = m->description ? m->description : "";
    inc.classification = m->classification;
    inc.tlp = m->tlp;
    inc.countries = m->countries;
    inc.sectors = m->sectors;
    inc.severity = sev;
    if ((rc = lia_incident_create(s, &inc, NULL, 0, NULL, 0, who, &res->incident, err)) ||
        (rc = new_thread(db, peer, res->incident, LIA__NODE_THEY_OFFERED, m->incident, err)))
        return rc;
    if (ev->n && (rc = lia__incident_link_events(db, res->incident, ev->v, ev->n, who, NULL, err)))
        return rc;
    snprintf(note, sizeof note,
             "Handed off to us by partner node %s (its incident #%lld%s%s): %zu events received, %zu stored"
             " (the others were duplicates of events we hold), %lld withheld by its TLP policy.",
             peer, (long long)m->incident, m->by ? ", by " : "", m->by ? m->by : "", m->nevents, ev->n,
             (long long)m->withheld);
    snprintf(res->note, sizeof res->note, "incident #%lld opened with %zu events", (long long)res->incident,
             ev->n);
    return lia_incident_comment(s, res->incident, "internal", note, who, NULL, err);
}

static int apply_answer(lia_store *s, const char *peer, const lia_actor *who, const lia_node_msg *m,
                        lia_node_result *res, lia_error *err)
{
    static const lia_handoff_state to[] = {[LIA_NODE_ACK] = LIA_HO_ACKNOWLEDGED,
                                           [LIA_NODE_RESOLVE] = LIA_HO_RESOLVED,
                                           [LIA_NODE_REJECT] = LIA_HO_REJECTED};
    lia_error e2;
    int rc;
    lia_error_clear(&e2);
    rc = lia_handoff_set(s, res->incident, peer, to[m->type], m->text, who, &e2);
    if (rc == LIA_ESTATE &&
        lia_handoff_set(s, res->incident, peer, LIA_HO_NOTIFIED, NULL, who, &e2) == LIA_OK) {
        /* still pending here: our sync stopped between the peer taking the
         * offer and marking the hand-off notified */
        lia_error_clear(&e2);
        rc = lia_handoff_set(s, res->incident, peer, to[m->type], m->text, who, &e2);
    }
    if (rc == LIA_ESTATE) {
        /* answered already (by e-mail, a link) or withdrawn: taken, nothing to change */
        snprintf(res->note, sizeof res->note, "nothing changed: %.140s", e2.reason);
        return LIA_OK;
    }
    if (rc) {
        *err = e2;
        return rc;
    }
    snprintf(res->note, sizeof res->note, "hand-off %s", lia_handoff_state_name(to[m->type]));
    return LIA_OK;
}

static int set_in_last(lia_db *db, const char *peer, int64_t incident, int64_t seq, int64_t remote,
                       lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "node: recording a message applied",
                              "UPDATE node_thread SET in_last = ?1, remote = coalesce(remote, ?4)"
                              " WHERE peer = ?2 AND incident_id = ?3",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, seq);
    lia__db_bind_text(st, 2, peer, -1);
    lia__db_bind_int64(st, 3, incident);
    if (remote)
        lia__db_bind_int64(st, 4, remote);
    else
        lia__db_bind_null(st, 4);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

static int apply(lia_store *s, const char *peer, const lia_actor *who, const lia_node_msg *m, const ids *ev,
                 thread *t, lia_node_result *res, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    char vis[80], note[LIA_INCIDENT_TEXT_MAX / 2], after[256];
    int rc;
    switch (m->type) {
    case LIA_NODE_OFFER:
        if ((rc = apply_offer(s, peer, who, m, ev, res, err)))
            return rc;
        t->incident = res->incident;
        break;
    case LIA_NODE_COMMENT:
        snprintf(vis, sizeof vis, "shared:%s", peer);
        if ((rc = lia_incident_comment(s, t->incident, vis, m->text, who, NULL, err)))
            return rc;
        snprintf(res->note, sizeof res->note, "comment added");
        break;
    case LIA_NODE_WITHDRAW:
        snprintf(note, sizeof note, "Partner node %s withdrew its hand-off%s%s", peer, m->text ? ": " : ".",
                 m->text ? m->text : "");
        if ((rc = lia_incident_comment(s, t->incident, "internal", note, who, NULL, err)))
            return rc;
        snprintf(res->note, sizeof res->note, "withdrawal recorded");
        break;
    default:
        if ((rc = apply_answer(s, peer, who, m, res, err)))
            return rc;
    }
    snprintf(after, sizeof after, "{\"type\":\"%s\",\"seq\":%lld,\"incident\":%lld,\"theirs\":%lld}",
             lia_node_type_name(m->type), (long long)m->seq, (long long)t->incident,
             (long long)(m->yours ? m->sender_incident : m->incident));
    if ((rc = set_in_last(db, peer, t->incident, m->seq, m->yours ? m->sender_incident : 0, err)))
        return rc;
    return lia__node_audit(db, peer, peer, who->address, "receive", after, err);
}

int lia_node_receive(lia_store *s, const char *peer, const char *address, const char *json, size_t len,
                     lia_node_result *res, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_actor who = {peer, "node", address ? address : "local"};
    lia_node_msg m;
    thread t;
    ids ev = {0};
    int rc, yes;
    memset(res, 0, sizeof *res);
    if ((rc = lia_node_msg_parse(json, len, &m, err)))
        goto out;
    if ((rc = lia__node_schema(db, err)) || (rc = lia__node_is_peer(db, peer, err)) < 0)
        goto out;
    if (!rc) {
        rc = lia_error_set(err, LIA_EAUTH, "peer", peer, strlen(peer),
                           "not a node peer of ours (liaison node add on this node)");
        goto out;
    }
    if ((rc = thread_of(db, peer, &m, &t, err)))
        goto out;
    if (m.yours && !t.found) {
        /* an answer about an incident of ours: handed off to this peer? The
         * same words whether it is missing or not handed to it. */
        if ((rc = handed_to(s, m.incident, peer, &yes, err)))
            goto out;
        if (!yes) {
            rc = lia_error_set(err, LIA_ENOTFOUND, "yours", NULL, 0, "no incident %lld handed off to %s",
                               (long long)m.incident, peer);
            goto out;
        }
        t.incident = m.incident; /* the thread is opened when this first answer applies */
    }
    res->incident = t.incident;
    if (m.seq <= t.in_last) {
        snprintf(res->note, sizeof res->note, "message %lld had been applied: nothing changed",
                 (long long)m.seq);
        rc = LIA_OK;
        goto out;
    }
    if (m.seq != t.in_last + 1) {
        res->expected = t.in_last + 1;
        rc = lia_error_set(err, LIA_ESTATE, "seq", NULL, 0, "message %lld of the thread before message %lld",
                           (long long)m.seq, (long long)res->expected);
        goto out;
    }
    if (!m.yours && !t.found && m.type != LIA_NODE_OFFER) {
        rc = lia_error_set(err, LIA_EINVAL, "type", NULL, 0,
                           "the first message about an incident of yours must be its offer");
        goto out;
    }
    if (m.type == LIA_NODE_OFFER && t.found) {
        rc = lia_error_set(err, LIA_EINVAL, "type", NULL, 0, "incident %lld was offered already",
                           (long long)m.incident);
        goto out;
    }
    if (m.type == LIA_NODE_OFFER && (rc = ingest_events(s, peer, &m, &ev, err)))
        goto out;
    if ((rc = lia__db_begin(db, err)))
        goto out;
    if (m.yours && !t.found &&
        (rc = new_thread(db, peer, t.incident, LIA__NODE_WE_OFFERED, m.sender_incident, err)))
        goto fail;
    if ((rc = apply(s, peer, &who, &m, &ev, &t, res, err)))
        goto fail;
    if ((rc = lia__db_commit(db, err)))
        goto out;
    res->applied = 1;
    res->incident = t.incident;
    goto out;
fail:
    lia__db_rollback(db);
out:
    free(ev.v);
    lia_node_msg_free(&m);
    return rc;
}
