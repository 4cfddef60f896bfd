/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Reminders and escalation (`liaison sla run`, include/liaison/notify.h):
 * for every hand-off whose SLA clock runs, a reminder to the recipient's
 * first contact once remind_at of the target is used, and an escalation
 * once it is breached: to the recipient's second contact when the
 * directory has one, else to our own team (escalate_to, else mail_from).
 * Each is sent once per hand-off, clock and kind: the table sla_notice
 * remembers it, and the hand-off's audit log says so ("reminded",
 * "escalated"). A message is recorded after the SMTP server took it, so a
 * run killed between the two sends that one notice again on the next run
 * (the one duplicate window; digests close theirs with the outbox). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/settings.h"
#include "incident/internal.h"
#include "liaison/incident.h"
#include "liaison/notify.h"
#include "notify/internal.h"
#include "route/internal.h"
#include "store/db.h"

static const lia_migration migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS sla_notice(incident_id INTEGER NOT NULL, recipient TEXT NOT NULL,"
            "  clock TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL, sent_to TEXT NOT NULL,"
            "  message_id TEXT NOT NULL, PRIMARY KEY(incident_id, recipient, clock, kind));"},
};
static const lia_schema sla_schema = {"sla", 1, migrations, NULL, .pg = 1};

int lia__sla_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &sla_schema, err);
}

typedef struct ho_row {
    int64_t incident;
    char recipient[72];
    lia_handoff h;
} ho_row;

typedef struct ho_list {
    ho_row *v;
    size_t n, cap;
    int oom;
} ho_list;

static int collect(void *ud, const lia_handoff *h)
{
    ho_list *l = ud;
    if (h->state != LIA_HO_NOTIFIED && h->state != LIA_HO_ACKNOWLEDGED)
        return 0;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        ho_row *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) {
            l->oom = 1;
            return 1;
        }
        l->v = nv;
        l->cap = nc;
    }
    ho_row *r = &l->v[l->n++];
    r->incident = h->incident;
    snprintf(r->recipient, sizeof r->recipient, "%s", h->recipient);
    r->h = *h;
    r->h.recipient = NULL;
    r->h.reason = r->h.by = r->h.channel = NULL;
    return 0;
}

static int already(lia_db *db, int64_t inc, const char *rcpt, const char *clock, const char *kind, int *yes,
                   lia_error *err)
{
    lia_stmt *st;
    int rc = lia__db_prepare(db, "sla: looking for a notice",
                             "SELECT 1 FROM sla_notice WHERE incident_id = ? AND recipient = ? AND clock = ?"
                             " AND kind = ?",
                             &st, err);
    if (rc)
        return rc;
    lia__db_bind_int64(st, 1, inc);
    lia__db_bind_text(st, 2, rcpt, -1);
    lia__db_bind_text(st, 3, clock, -1);
    lia__db_bind_text(st, 4, kind, -1);
    rc = lia__db_step(st, err);
    lia__db_done(st);
    if (rc < 0)
        return rc;
    *yes = rc == LIA_DB_ROW;
    return LIA_OK;
}

static int record(lia_db *db, int64_t inc, const char *rcpt, const char *clock, const char *kind, int64_t now,
                  const char *to, const char *msgid, lia_error *err)
{
    lia_stmt *st;
    lia_actor who = {"liaison", "email", NULL};
    char object[160];
    lia_buf what;
    int rc;
    lia_buf_init(&what, 2048);
    if ((rc = lia__db_begin(db, err)))
        goto done;
    if ((rc = lia__db_prepare(db, "sla: recording a notice",
                              "INSERT INTO sla_notice VALUES(?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", &st,
                              err)))
        goto out;
    lia__db_bind_int64(st, 1, inc);
    lia__db_bind_text(st, 2, rcpt, -1);
    lia__db_bind_text(st, 3, clock, -1);
    lia__db_bind_text(st, 4, kind, -1);
    lia__db_bind_int64(st, 5, now);
    lia__db_bind_text(st, 6, to, -1);
    lia__db_bind_text(st, 7, msgid, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc)
        goto out;
    snprintf(object, sizeof object, "handoff:%lld/%s", (long long)inc, rcpt);
    lia_buf_puts(&what, "{\"clock\":");
    lia_buf_json_str(&what, clock, strlen(clock));
    lia_buf_puts(&what, ",\"to\":");
    lia_buf_json_str(&what, to, strlen(to));
    lia_buf_puts(&what, ",\"message_id\":");
    lia_buf_json_str(&what, msgid, strlen(msgid));
    lia_buf_putc(&what, '}');
    rc = what.err
             ? lia_error_set(err, LIA_ELIMIT, "sla notice", NULL, 0, "audit record too large")
             : lia__incident_audit(db, &who, object, strcmp(kind, "reminder") == 0 ? "reminded" : "escalated",
                                   NULL, lia_buf_cstr(&what), err);
out:
    if (rc)
        lia__db_rollback(db);
    else
        rc = lia__db_commit(db, err);
done:
    lia_buf_free(&what);
    return rc;
}

static const char *setting(const lia_route *rt, const char *given, const char *name)
{
    if (given)
        return given;
    return lia__setting_text(LIA_SCOPE_ROUTE, name, lia_route_setting(rt, name));
}

static void hours(int64_t s, char *out, size_t n)
{
    snprintf(out, n, "%lldh%02lld", (long long)(s / 3600), (long long)(s % 3600 / 60));
}

/* One notice: the message built, protected, sent or written; *outcome and
 * errbuf say how it went. LIA_OK unless the store failed. */
static int notice(lia_store *s, const lia_route *rt, const lia_sla_run_opts *o, const lia_incident *inc,
                  const char *rcpt, const char *kind, const lia_handoff_clock *k, const char *to, int64_t now,
                  lia_buf *msg, char *msgid, size_t msgid_n, const char **outcome, char *errbuf, size_t errn,
                  lia_error *err)
{
    const char *from = setting(rt, o->mail_from, "mail_from");
    const char *skey = setting(rt, o->sign_key, "sign_key");
    const char *home = setting(rt, o->gnupg_home, "gnupg_home");
    const char *base = lia__setting_text(LIA_SCOPE_ROUTE, "public_url", lia_route_setting(rt, "public_url"));
    int reminder = strcmp(kind, "reminder") == 0, rc = LIA_OK, sig = 0, enc = 0;
    char due[LIA_TIME_TEXT], date[64], used[32], target[32], hex[33];
    unsigned char rnd[16];
    lia_buf entity, body;
    lia_strlist tl = {0};
    char *tv[1] = {(char *)to};
    *outcome = "sent";
    errbuf[0] = '\0';
    if (!from) {
        *outcome = "failed";
        snprintf(errbuf, errn, "no sender address: set mail_from in the routing configuration or --from");
        return LIA_OK;
    }
    lia_buf_init(&entity, LIA_MAX_MESSAGE);
    lia_buf_init(&body, LIA_MAX_MESSAGE);
    lia_time_format(k->due_us, due, sizeof due);
    hours(k->used, used, sizeof used);
    hours(k->target, target, sizeof target);
    randombytes_buf(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    {
        const char *at = strchr(from, '@');
        snprintf(msgid, msgid_n, "<liaison.sla.%s@%s>", hex, at ? at + 1 : "liaison.invalid");
    }
    lia__mime_date(now, date, sizeof date);
    lia_buf_printf(msg, "From: %s\r\nTo: %s\r\nSubject: [LIAISON#%lld] ", from, to, (long long)inc->id);
    if (reminder)
        lia_buf_printf(msg, "Reminder: please %s by %.16s UTC", k->clock, due);
    else
        lia_buf_printf(msg, "Escalation: %s overdue (%s, due %.16s UTC)", k->clock, rcpt, due);
    lia_buf_printf(msg, "\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\nX-Liaison-Incident: %lld\r\n",
                   date, msgid, (long long)inc->id);
    /* the body */
    if (reminder)
        lia_buf_printf(&body, "Incident LIAISON#%lld was handed off to you (%s) and is waiting to be %s.\r\n",
                       (long long)inc->id, rcpt,
                       strcmp(k->clock, "acknowledge") == 0 ? "acknowledged" : "resolved");
    else
        lia_buf_printf(&body,
                       "The hand-off of incident LIAISON#%lld to %s has not been %s within its target: it is "
                       "escalated to you.\r\n",
                       (long long)inc->id, rcpt,
                       strcmp(k->clock, "acknowledge") == 0 ? "acknowledged" : "resolved");
    lia_buf_puts(&body, "\r\n  Title:    ");
    for (const char *c = inc->title; c && *c; c++)
        lia_buf_putc(&body, (unsigned char)*c < 0x20 ? ' ' : *c);
    lia_buf_printf(&body,
                   "\r\n  Severity: %s\r\n  Due:      %.16s UTC (%s of %s business hours used, %s)\r\n",
                   lia_severity_name(inc->severity), due, used, target, k->tz);
    if (base && reminder) {
        char path[LIA_ANSWER_PATH_MAX];
        size_t bl = strlen(base);
        int64_t ttl = lia__setting_int(LIA_SCOPE_ROUTE, "link_ttl", lia_route_setting(rt, "link_ttl"));
        lia_answer a = strcmp(k->clock, "acknowledge") == 0 ? LIA_ANSWER_ACK : LIA_ANSWER_RESOLVE;
        while (bl && base[bl - 1] == '/')
            bl--;
        if ((rc = lia_answer_link(s, inc->id, rcpt, a, now + ttl * 1000000, path, err)))
            goto out;
        lia_buf_printf(&body, "\r\n  %s: %.*s%s\r\n", a == LIA_ANSWER_ACK ? "Acknowledge" : "Resolved",
                       (int)bl, base, path);
    }
    lia_buf_printf(&body, "\r\nReply to this message to answer; keep [LIAISON#%lld] in the subject.\r\n",
                   (long long)inc->id);
    lia_buf_puts(&entity,
                 "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
    lia_buf_append(&entity, body.ptr, body.len);
    if (msg->err || entity.err) {
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "a notice larger than %u bytes",
                           (unsigned)LIA_MAX_MESSAGE);
        goto out;
    }
    if (o->dry_run) {
        *outcome = "dry-run";
        lia_buf_append(msg, entity.ptr, entity.len);
        goto out;
    }
    if (skey && *skey) {
        if (lia__pgp_protect(home, skey, NULL, &entity, msg, &sig, &enc, err)) {
            *outcome = "failed";
            lia_error_format(err, errbuf, errn);
            lia_error_clear(err);
            goto out;
        }
    } else if (!o->unsigned_ok) {
        *outcome = "failed";
        snprintf(errbuf, errn,
                 "no signing key: set sign_key in the routing configuration or --sign-key (or "
                 "--unsigned to send unsigned mail)");
        goto out;
    } else {
        lia_buf_append(msg, entity.ptr, entity.len);
    }
    {
        char cerr[512] = ""; /* CURL_ERROR_SIZE is 256 */
        const char *url = setting(rt, o->smtp_url, "smtp_url");
        const char *user = lia_route_setting(rt, "smtp_user"),
                   *penv = lia_route_setting(rt, "smtp_password_env");
        tl.v = tv;
        tl.n = tl.cap = 1;
        if (lia__smtp_send(url, from, &tl, msg, user, penv ? getenv(penv) : NULL, cerr)) {
            *outcome = "failed";
            snprintf(errbuf, errn, "%s", cerr);
        }
    }
out:
    lia_buf_free(&entity);
    lia_buf_free(&body);
    return rc;
}

int lia_sla_run(lia_store *s, const lia_sla_run_opts *opts, lia_sla_notice_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_sla_run_opts o = *opts;
    lia_route *rt = NULL;
    ho_list l = {0};
    lia_buf hold, msg;
    int rc;
    if (!o.now_us)
        o.now_us = lia__now_us();
    if (o.remind_at <= 0)
        o.remind_at = 0.75;
    if (o.remind_at >= 1)
        return lia_error_set(err, LIA_EINVAL, "remind-at", NULL, 0,
                             "a fraction of the target below 1 (0.75)");
    if ((rc = lia__db_schema(db, &sla_schema, err)) || (rc = lia_route_load(s, &rt, err)))
        return rc;
    lia_buf_init(&hold, 0);
    lia_buf_init(&msg, LIA_MAX_MESSAGE);
    if ((rc = lia_handoff_list(s, 0, -1, NULL, collect, &l, err)))
        goto out;
    if (l.oom) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < l.n; i++) {
        ho_row *r = &l.v[i];
        lia_incident inc;
        lia_handoff_clock k;
        const char *kind, *to = NULL;
        char msgid[128], errbuf[512], ours[256];
        const lia_party *p = NULL;
        int idx, yes;
        r->h.recipient = r->recipient;
        lia_buf_reset(&hold);
        if ((rc = lia_incident_get(s, r->incident, &inc, &hold, err)) ||
            (rc = lia_handoff_clock_get(s, &inc, &r->h, o.now_us, NULL, &k, err)))
            goto out;
        if (inc.drill || !k.clock || k.paused || k.target <= 0)
            continue; /* a drill is scored by its own expiry (docs/drills.md), never reminded */
        if (k.breached)
            kind = "escalation";
        else if ((double)k.used >= o.remind_at * (double)k.target)
            kind = "reminder";
        else
            continue;
        if ((rc = already(db, r->incident, r->recipient, k.clock, kind, &yes, err)))
            goto out;
        if (yes)
            continue;
        if ((idx = lia__route_party_find(rt, LIA_PARTY_PARTNER, r->recipient)) < 0)
            idx = lia__route_party_find(rt, LIA_PARTY_OWNER, r->recipient);
        if (idx >= 0)
            p = lia_route_party(rt, idx);
        if (strcmp(kind, "reminder") == 0) {
            to = p && p->f[LIA_PF_CONTACTS].n ? p->f[LIA_PF_CONTACTS].v[0] : NULL;
        } else if (p && p->f[LIA_PF_CONTACTS].n > 1) {
            to = p->f[LIA_PF_CONTACTS].v[1];
        } else {
            to = setting(rt, o.escalate_to, "escalate_to");
            if (!to)
                to = setting(rt, o.mail_from, "mail_from");
            if (to) {
                snprintf(ours, sizeof ours, "%s", to);
                to = ours;
            }
        }
        lia_sla_notice n = {r->incident, r->recipient, k.clock,  kind, to ? to : "",
                            NULL,        errbuf,       k.due_us, NULL, 0};
        lia_buf_reset(&msg);
        if (!to) {
            n.outcome = "failed";
            snprintf(errbuf, sizeof errbuf, "%s has no contact address in the directory", r->recipient);
        } else {
            if ((rc = notice(s, rt, &o, &inc, r->recipient, kind, &k, to, o.now_us, &msg, msgid, sizeof msgid,
                             &n.outcome, errbuf, sizeof errbuf, err)))
                goto out;
            if (o.dry_run) {
                n.message = msg.ptr;
                n.message_len = msg.len;
            }
            if (strcmp(n.outcome, "sent") == 0 &&
                (rc = record(db, r->incident, r->recipient, k.clock, kind, o.now_us, to, msgid, err)))
                goto out;
        }
        if (!errbuf[0])
            n.error = NULL;
        if (cb && cb(ud, &n))
            break;
    }
out:
    free(l.v);
    lia_buf_free(&hold);
    lia_buf_free(&msg);
    lia_route_destroy(rt);
    return rc;
}
