/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The e-mail channel: the digest rendered from the recipient's template,
 * CSV and JSON attached, signed / encrypted, sent over SMTP, recorded. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/file.h"
#include "core/path.h"
#include "core/settings.h"
#include "liaison/incident.h"
#include "liaison/limits.h"
#include "liaison/notify.h"
#include "liaison/route.h"
#include "notify/internal.h"

static const lia_field csv_fields[] = {
    LIA_F_TIME_SOURCE,
    LIA_F_FEED_NAME,
    LIA_F_CLASSIFICATION_TAXONOMY,
    LIA_F_CLASSIFICATION_TYPE,
    LIA_F_SOURCE_IP,
    LIA_F_SOURCE_PORT,
    LIA_F_SOURCE_ASN,
    LIA_F_SOURCE_GEOLOCATION_CC,
    LIA_F_SOURCE_FQDN,
    LIA_F_SOURCE_URL,
    LIA_F_PROTOCOL_TRANSPORT,
    LIA_F_PROTOCOL_APPLICATION,
    LIA_F_MALWARE_NAME,
    LIA_F_TLP,
};

static const char *tvar(void *ud, const char *name, size_t n, size_t item)
{
    lia__digest *d = ud;
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(name, lit, n) == 0)
    if (item != SIZE_MAX) {
        const lia_event *ev;
        int f;
        if (item >= d->n && item >= LIA_NOTIFY_LISTED)
            return "";
        ev = item < d->n ? &d->ev[item] : NULL;
        if (IS("event.id")) {
            if (!ev)
                return "";
            snprintf(d->tmp, sizeof d->tmp, "%lld", (long long)ev->id);
            return d->tmp;
        }
        if ((f = lia_field_lookup(name, n)) < 0)
            return NULL;
        if (!ev || !lia_event_text(ev, (lia_field)f, d->tmp, sizeof d->tmp))
            return "-";
        return d->tmp;
    }
    if (IS("recipient_id"))
        return d->p->id;
    if (IS("recipient_name"))
        return lia_party_get(d->p, LIA_PF_NAME) ? lia_party_get(d->p, LIA_PF_NAME) : d->p->id;
    if (IS("sender"))
        return d->sender ? d->sender : "";
    if (IS("count"))
        return d->count;
    if (IS("listed"))
        return d->listed;
    if (IS("more"))
        return d->more;
    if (IS("period_start"))
        return d->start;
    if (IS("period_end"))
        return d->end;
    if (IS("generated_at"))
        return d->gen;
    if (IS("language"))
        return d->lang;
    return NULL;
#undef IS
}

static size_t tcount(void *ud, const char *name, size_t n)
{
    lia__digest *d = ud;
    if (n == 6 && memcmp(name, "events", 6) == 0)
        return d->n < LIA_NOTIFY_LISTED ? d->n : LIA_NOTIFY_LISTED;
    return SIZE_MAX;
}

static void attachments(const lia__digest *d, lia_buf *csv, lia_buf *js)
{
    char tmp[LIA_MAX_URL + 64];
    lia_buf one;
    lia_buf_puts(csv, "event.id");
    for (size_t k = 0; k < sizeof csv_fields / sizeof csv_fields[0]; k++)
        lia_buf_printf(csv, ",%s", lia_field_name(csv_fields[k]));
    lia_buf_puts(csv, "\r\n");
    lia_buf_putc(js, '[');
    lia_buf_init(&one, LIA_MAX_EVENT_TEXT * 2);
    for (size_t i = 0; i < d->n; i++) {
        const lia_event *ev = &d->ev[i];
        lia_buf_printf(csv, "%lld", (long long)ev->id);
        for (size_t k = 0; k < sizeof csv_fields / sizeof csv_fields[0]; k++) {
            size_t n = lia_event_text(ev, csv_fields[k], tmp, sizeof tmp);
            lia_buf_putc(csv, ',');
            lia_buf_csv(csv, tmp, n);
        }
        lia_buf_puts(csv, "\r\n");
        lia_buf_reset(&one);
        lia_event_to_json(ev, &one);
        lia_buf_printf(js, "%s\n{\"event.id\":%lld%s", i ? "," : "", (long long)ev->id,
                       one.len > 2 ? "," : "");
        if (one.len > 2)
            lia_buf_append(js, one.ptr + 1, one.len - 1);
        else
            lia_buf_putc(js, '}');
    }
    lia_buf_puts(js, "\n]\n");
    lia_buf_free(&one);
}

static const char *cfg(const lia_route *rt, const char *given, const char *name, const char *dflt)
{
    const char *v;
    if (given)
        return given;
    v = lia__setting_text(LIA_SCOPE_ROUTE, name, lia_route_setting(rt, name)); /* or the table's default */
    return v ? v : dflt;
}

/* The answer links of every incident the digest carries, after the
 * template's text: acknowledge, resolved, reject, signed for the
 * recipient's party id (the hand-offs' recipient) (include/liaison/incident.h), when public_url is set. */
static int answer_links(lia_store *s, const lia_route *rt, const lia__digest *d, int64_t now, lia_buf *body,
                        lia_error *err)
{
    const char *base = cfg(rt, NULL, "public_url", NULL);
    int64_t ttl = lia__setting_int(LIA_SCOPE_ROUTE, "link_ttl", lia_route_setting(rt, "link_ttl"));
    int64_t until = now + ttl * 1000000;
    char t[LIA_TIME_TEXT], path[LIA_ANSWER_PATH_MAX];
    size_t bl;
    int rc;
    if (!base || !d->nincidents)
        return LIA_OK;
    bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    lia_time_format(until, t, sizeof t);
    lia_buf_printf(body, "\r\nAnswer with one click (the links work until %.10s):\r\n", t);
    for (size_t i = 0; i < d->nincidents && i < LIA_NOTIFY_SUBJECT_REFS; i++) {
        static const char *const label[LIA_ANSWER__COUNT] = {"acknowledge", "resolved", "reject"};
        lia_buf_printf(body, "\r\n  LIAISON#%lld\r\n", (long long)d->incidents[i]);
        for (int a = 0; a < LIA_ANSWER__COUNT; a++) {
            if ((rc = lia_answer_link(s, d->incidents[i], d->p->id, (lia_answer)a, until, path, err)))
                return rc;
            lia_buf_printf(body, "    %-12s %.*s%s\r\n", label[a], (int)bl, base, path);
        }
    }
    if (d->nincidents > LIA_NOTIFY_SUBJECT_REFS)
        lia_buf_printf(body, "\r\n  (+%zu incidents: reply to this message to answer them)\r\n",
                       d->nincidents - LIA_NOTIFY_SUBJECT_REFS);
    lia_buf_append(body, "", 0);
    return LIA_OK;
}

/* LIA_ENOTFOUND: this language has no template (the caller tries the next). */
static int load_template(const char *dir, const char *lang, lia_buf *out, lia_error *err)
{
    char path[LIA_PATH_MAX];
    int rc = lia__path_fmt(path, sizeof path, err, "template", "%s/%s/digest.txt", dir, lang);
    if (rc)
        return rc;
    return lia__file_read(path, LIA_MAX_TEMPLATE, out, err);
}

/* Send msg over SMTP with the configured retries; *attempts made. */
static int send_tries(lia__notify_run *run, const char *from, const lia_strlist *to, const lia_buf *msg,
                      int *attempts, char *errbuf)
{
    const lia_route *rt = run->rt;
    const char *url = cfg(rt, run->o->smtp_url, "smtp_url", NULL); /* default in core/settings.c */
    const char *user = lia_route_setting(rt, "smtp_user"), *penv = lia_route_setting(rt, "smtp_password_env");
    int tries = run->o->tries, rc;
    int64_t backoff = run->o->backoff_ms;
    if (!tries)
        tries = (int)lia__setting_int(LIA_SCOPE_ROUTE, "smtp_tries", lia_route_setting(rt, "smtp_tries"));
    if (tries > LIA_MAX_SMTP_TRIES)
        tries = LIA_MAX_SMTP_TRIES;
    if (!backoff)
        backoff =
            lia__setting_int(LIA_SCOPE_ROUTE, "smtp_backoff", lia_route_setting(rt, "smtp_backoff")) * 1000;
    for (*attempts = 1;; (*attempts)++) {
        rc = lia__smtp_send(url, from, to, msg, user, penv ? getenv(penv) : NULL, errbuf);
        if (rc == LIA_OK || *attempts >= tries)
            return rc;
        usleep((useconds_t)(backoff * 1000));
        backoff *= 2;
    }
}

/* Record an attempt and, once it was sent (or it failed: the server did not
 * take it), take message oid out of the outbox, in one transaction. */
static int record_and_clear(lia__notify_run *run, const char *rcpt, const char *to, const lia__chset *req,
                            int64_t now, const char *msgid, const lia__digest *d, const char *outcome,
                            int attempts, const char *error, int sig, int enc, const char *lang, size_t bytes,
                            int64_t oid, int64_t *nid, lia_error *err)
{
    int rc;
    if ((rc = lia__db_begin(run->db, err)))
        return rc;
    if ((rc = lia__notify_record(run->s, run->db, rcpt, to, "email", req, now, msgid, d, outcome, attempts,
                                 error, sig, enc, lang, bytes, nid, err)) == LIA_OK &&
        oid)
        rc = lia__outbox_del(run->db, oid, err);
    if (rc) {
        lia__db_rollback(run->db);
        return rc;
    }
    return lia__db_commit(run->db, err);
}

/* A message left in the outbox by a run that was stopped between writing it
 * and recording it (outbox.c): sent again as it was, same Message-ID, and
 * recorded with the events and incidents it carried. *pending: 1 while one
 * is left (its resend failed too: retried next run, before any new digest). */
static int resend_outbox(lia__notify_run *run, const lia__notify_rcpt *rc_, const lia_party *p, int *pending,
                         lia_error *err)
{
    for (;;) {
        lia__outbox_msg m;
        lia__digest d;
        lia_notify_result res;
        lia_buf msg = {0};
        char errbuf[CURL_ERROR_SIZE] = "";
        int attempts = 0, rc;
        int64_t nid = 0;
        memset(&d, 0, sizeof d);
        rc = lia__outbox_oldest(run->db, rc_->name, "email", &m, &d, err);
        if (rc) {
            lia__digest_free(&d);
            return rc == LIA_ENOTFOUND ? LIA_OK : rc;
        }
        if (m.recorded) {
            /* killed after the record, before the delete: only tidy up */
            rc = lia__outbox_del(run->db, m.id, err);
            lia__outbox_msg_free(&m);
            lia__digest_free(&d);
            if (rc)
                return rc;
            continue;
        }
        d.rt = run->rt;
        d.idx = rc_->idx;
        d.p = p;
        msg.ptr = m.owned;
        msg.len = msg.cap = msg.max = m.message_len;
        rc = send_tries(run, m.mail_from, &m.envelope, &msg, &attempts, errbuf);
        memset(&res, 0, sizeof res);
        res.recipient = rc_->name;
        res.channel = "email";
        res.to = m.rcpt_to;
        res.language = m.language;
        res.message_id = m.message_id;
        res.events = d.n;
        res.incidents = d.nincidents;
        res.attempts = attempts;
        res.signed_ = m.sig;
        res.encrypted = m.enc;
        res.message = m.message;
        res.message_len = m.message_len;
        if (rc == LIA_OK) {
            res.outcome = "sent";
            res.error = "sent again: an earlier run was stopped before it recorded this message"
                        " (same Message-ID)";
            rc = record_and_clear(run, rc_->name, m.rcpt_to, &rc_->req, run->now, m.message_id, &d, "sent",
                                  attempts, res.error, m.sig, m.enc, m.language, m.message_len, m.id, &nid,
                                  err);
        } else {
            /* kept: it may have gone out before the stop; nothing new till it does */
            res.outcome = "failed";
            res.error = errbuf;
            run->failed = 1;
            *pending = 1;
            rc = lia__notify_record(run->s, run->db, rc_->name, m.rcpt_to, "email", &rc_->req, run->now,
                                    m.message_id, &d, "failed", attempts, errbuf, m.sig, m.enc, m.language, 0,
                                    &nid, err);
        }
        res.notification_id = nid;
        if (rc == LIA_OK && run->cb)
            rc = run->cb(run->ud, &res);
        lia__outbox_msg_free(&m);
        lia__digest_free(&d);
        if (rc || *pending)
            return rc;
    }
}

static int email_deliver(lia__notify_run *run, const lia__notify_rcpt *rc_, const lia_channel *ch,
                         const char *key, lia_error *err)
{
    /* the run's fields by their short names */
    lia_store *s = run->s;
    lia_db *db = run->db;
    const lia_route *rt = run->rt;
    const lia_notify_opts *o = run->o;
    const char *rcpt = rc_->name;
    const lia__chset *req = &rc_->req;
    int64_t now = run->now;
    lia_notify_cb cb = run->cb;
    void *ud = run->ud;
    int *failed = &run->failed;
    lia__digest d;
    lia_notify_result res;
    lia_strlist to = {0};
    lia_buf tmpl, subject, body, csv, js, entity, msg, toline;
    int rc = LIA_OK, idx = rc_->idx, sig = 0, enc = 0, attempts = 0;
    int64_t last = 0, interval = 3600, nid = 0, oid = 0;
    const char *iv, *from, *home, *skey, *lang = "en", *nl;
    char msgid[128], date[64], errbuf[CURL_ERROR_SIZE] = "";
    char bnd[40];
    memset(&d, 0, sizeof d);
    memset(&res, 0, sizeof res);
    lia_buf_init(&tmpl, 1);
    lia_buf_init(&subject, 4096);
    lia_buf_init(&body, LIA_MAX_MESSAGE);
    lia_buf_init(&csv, LIA_MAX_MESSAGE);
    lia_buf_init(&js, LIA_MAX_MESSAGE);
    lia_buf_init(&entity, LIA_MAX_MESSAGE);
    lia_buf_init(&msg, LIA_MAX_MESSAGE);
    lia_buf_init(&toline, 64 * 1024);
    lia_buf_append(&toline, "", 0);
    res.recipient = rcpt;
    res.channel = "email";
    res.to = "";
    res.language = "";
    res.message_id = "";
    res.error = "";
    (void)ch;
    (void)key;
    if (idx < 0) {
        res.outcome = "skipped";
        res.error = "recipient is no longer in the directory";
        goto report;
    }
    d.rt = rt;
    d.idx = idx;
    d.p = lia_route_party(rt, idx);
    if (!o->dry_run) {
        /* a message of an interrupted run first, and nothing new till it is out */
        int pending = 0;
        if ((rc = resend_outbox(run, rc_, d.p, &pending, err)) || pending)
            goto out;
    }
    iv = lia_party_get(d.p, LIA_PF_INTERVAL);
    if (iv)
        interval = strtoll(iv, NULL, 10);
    else
        interval =
            lia__setting_int(LIA_SCOPE_ROUTE, "digest_interval", lia_route_setting(rt, "digest_interval"));
    if ((rc = lia__notify_last_sent(db, rcpt, &last, err)))
        goto out;
    if (!o->force && last && now - last < interval * 1000000) {
        res.outcome = "not-due";
        snprintf(errbuf, sizeof errbuf, "next digest in %llds",
                 (long long)((last + interval * 1000000 - now) / 1000000));
        res.error = errbuf;
        goto report;
    }
    /* addresses: contacts, and a partner's email: channels */
    {
        lia_party tmp;
        lia_party_init(&tmp, LIA_PARTY_OWNER);
        for (size_t i = 0; i < d.p->f[LIA_PF_CONTACTS].n; i++)
            lia_party_add(&tmp, LIA_PF_CONTACTS, d.p->f[LIA_PF_CONTACTS].v[i],
                          strlen(d.p->f[LIA_PF_CONTACTS].v[i]), 0, NULL);
        for (size_t i = 0; i < d.p->f[LIA_PF_CHANNELS].n; i++)
            if (strncmp(d.p->f[LIA_PF_CHANNELS].v[i], "email:", 6) == 0)
                lia_party_add(&tmp, LIA_PF_CONTACTS, d.p->f[LIA_PF_CHANNELS].v[i] + 6,
                              strlen(d.p->f[LIA_PF_CHANNELS].v[i] + 6), 0, NULL);
        to = tmp.f[LIA_PF_CONTACTS];
        memset(&tmp.f[LIA_PF_CONTACTS], 0, sizeof tmp.f[LIA_PF_CONTACTS]);
        lia_party_free(&tmp);
    }
    for (size_t i = 0; i < to.n; i++)
        lia_buf_printf(&toline, "%s%s", i ? ", " : "", to.v[i]);
    res.to = lia_buf_cstr(&toline);
    if (to.n == 0) {
        res.outcome = "skipped";
        res.error = "no e-mail address (contacts or email: channel)";
        goto report;
    }
    /* template: first language with one, else en */
    for (size_t i = 0; i < d.p->f[LIA_PF_LANGUAGES].n && !tmpl.ptr; i++) {
        char primary[8];
        const char *l = d.p->f[LIA_PF_LANGUAGES].v[i];
        size_t k = strcspn(l, "-");
        if ((rc = load_template(o->templates, l, &tmpl, err)) == LIA_OK) {
            lang = l;
            break;
        }
        if (rc != LIA_ENOTFOUND)
            goto out; /* too big or unreadable: said, not skipped */
        if (k < sizeof primary && l[k]) {
            memcpy(primary, l, k);
            primary[k] = '\0';
            if ((rc = load_template(o->templates, primary, &tmpl, err)) == LIA_OK) {
                lang = d.p->f[LIA_PF_LANGUAGES].v[i];
                break;
            }
            if (rc != LIA_ENOTFOUND)
                goto out;
        }
    }
    if (!tmpl.ptr && (rc = load_template(o->templates, "en", &tmpl, err))) {
        if (rc == LIA_ENOTFOUND)
            rc = lia_error_set(err, rc, NULL, o->templates, strlen(o->templates),
                               "no template en/digest.txt in this directory");
        goto out;
    }
    rc = LIA_OK;
    res.language = lang;
    d.lang = lang;
    if ((rc = lia__digest_gather(s, db, &d, rcpt, "email", err)))
        goto out;
    res.events = d.n;
    res.withheld = d.nwithheld;
    if (d.n == 0) {
        if (req->n > 1 && !d.nwithheld)
            goto out; /* the other channels still have some to deliver */
        res.outcome = "skipped";
        res.error = d.nwithheld ? "every pending event is now refused by the TLP policy" : "no pending event";
        if (d.nwithheld && !o->dry_run)
            rc = lia__notify_record(s, db, rcpt, res.to, "email", req, now, "", &d, "withheld", 0, res.error,
                                    0, 0, lang, 0, &nid, err);
        goto report;
    }
    from = cfg(rt, o->mail_from, "mail_from", NULL);
    d.sender = from ? from : "";
    snprintf(d.count, sizeof d.count, "%zu", d.n);
    snprintf(d.listed, sizeof d.listed, "%zu", d.n < LIA_NOTIFY_LISTED ? d.n : (size_t)LIA_NOTIFY_LISTED);
    snprintf(d.more, sizeof d.more, "%zu", d.n > LIA_NOTIFY_LISTED ? d.n - LIA_NOTIFY_LISTED : 0);
    {
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (size_t i = 0; i < d.n; i++) {
            lia_field f =
                lia_event_has(&d.ev[i], LIA_F_TIME_SOURCE) ? LIA_F_TIME_SOURCE : LIA_F_TIME_OBSERVATION;
            if (!lia_event_has(&d.ev[i], f))
                continue;
            if (d.ev[i].v[f].i < lo)
                lo = d.ev[i].v[f].i;
            if (d.ev[i].v[f].i > hi)
                hi = d.ev[i].v[f].i;
        }
        if (lo == INT64_MAX)
            lo = hi = now;
        lia_time_format(lo, d.start, sizeof d.start);
        lia_time_format(hi, d.end, sizeof d.end);
        lia_time_format(now, d.gen, sizeof d.gen);
    }
    /* render: "Subject: ..." line, blank line, body */
    {
        lia_tmpl_vars v = {tvar, tcount, &d};
        lia_buf all;
        const char *t = lia_buf_cstr(&tmpl);
        lia_buf_init(&all, LIA_MAX_MESSAGE);
        if ((rc = lia__tmpl_render(t, tmpl.len, &v, &all, err))) {
            char src[LIA_ERR_SOURCE_MAX]; /* fills err->source: a longer path is marked cut */
            int sl = snprintf(src, sizeof src, "%s/%s/digest.txt", o->templates, lang);
            if (sl < 0 || (size_t)sl >= sizeof src)
                memcpy(src + sizeof src - 4, "...", 4);
            lia_error_where(err, src, err->line);
            lia_buf_free(&all);
            goto out;
        }
        t = lia_buf_cstr(&all);
        nl = strchr(t, '\n');
        if (strncmp(t, "Subject:", 8) != 0 || !nl) {
            lia_buf_free(&all);
            rc = lia_error_set(err, LIA_EPARSE, NULL, lang, strlen(lang),
                               "template must start with a 'Subject: ...' line");
            goto out;
        }
        {
            lia_slice sj = lia_slice_trim((lia_slice){t + 8, (size_t)(nl - t - 8)});
            while (sj.len && sj.ptr[sj.len - 1] == '\r')
                sj.len--;
            /* no control character may reach the header (no header injection) */
            for (size_t k = 0; k < sj.len; k++)
                lia_buf_putc(&subject,
                             (unsigned char)sj.ptr[k] < 0x20 || sj.ptr[k] == 0x7f ? ' ' : sj.ptr[k]);
            lia_buf_append(&subject, "", 0);
        }
        nl++;
        if (*nl == '\r')
            nl++;
        if (*nl == '\n')
            nl++;
        /* body with CRLF line ends */
        for (const char *c = nl; *c; c++) {
            if (*c == '\n' && (c == nl || c[-1] != '\r'))
                lia_buf_putc(&body, '\r');
            lia_buf_putc(&body, *c);
        }
        lia_buf_append(&body, "", 0);
        lia_buf_free(&all);
    }
    if ((rc = answer_links(s, rt, &d, now, &body, err)))
        goto out;
    attachments(&d, &csv, &js);
    lia__mime_boundary(bnd);
    lia_buf_printf(&entity, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", bnd);
    lia__mime_part(&entity, bnd, "text/plain; charset=utf-8", NULL, body.ptr, body.len);
    lia__mime_part(&entity, bnd, "text/csv; charset=utf-8; name=\"events.csv\"", "events.csv", csv.ptr,
                   csv.len);
    lia__mime_part(&entity, bnd, "application/json; name=\"events.json\"", "events.json", js.ptr, js.len);
    lia_buf_printf(&entity, "--%s--\r\n", bnd);
    if (entity.err) {
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "digest larger than %u bytes",
                           (unsigned)LIA_MAX_MESSAGE);
        goto out;
    }
    {
        unsigned char r[16];
        const char *at = from ? strchr(from, '@') : NULL;
        char hex[33];
        randombytes_buf(r, sizeof r);
        for (size_t i = 0; i < sizeof r; i++)
            snprintf(hex + i * 2, 3, "%02x", r[i]);
        snprintf(msgid, sizeof msgid, "<liaison.%s@%s>", hex, at ? at + 1 : "liaison.invalid");
        lia__mime_date(now, date, sizeof date);
    }
    res.message_id = msgid;
    res.incidents = d.nincidents;
    lia_buf_printf(&msg, "From: %s\r\nTo: %s\r\nSubject: ", from ? from : "liaison@localhost", res.to);
    /* the incidents it carries: [LIAISON#id] before the template's subject,
     * in plain ASCII even when the rest is an encoded word (a reply keeps
     * it), at most LIA_NOTIFY_SUBJECT_REFS */
    for (size_t i = 0; i < d.nincidents && i < LIA_NOTIFY_SUBJECT_REFS; i++)
        lia_buf_printf(&msg, "[LIAISON#%lld] ", (long long)d.incidents[i]);
    if (d.nincidents > LIA_NOTIFY_SUBJECT_REFS)
        lia_buf_printf(&msg, "(+%zu incidents) ", d.nincidents - LIA_NOTIFY_SUBJECT_REFS);
    lia__mime_header_text(&msg, lia_buf_cstr(&subject));
    lia_buf_printf(&msg, "\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\nX-Liaison-Events: %zu\r\n",
                   date, msgid, d.n);
    for (size_t i = 0; i < d.nincidents && i < LIA_NOTIFY_REF_HEADERS; i++)
        lia_buf_printf(&msg, "X-Liaison-Incident: %lld\r\n", (long long)d.incidents[i]);
    if (o->dry_run) {
        lia_buf_append(&msg, entity.ptr, entity.len);
        res.outcome = "dry-run";
        res.message = msg.ptr;
        res.message_len = msg.len;
        goto report;
    }
    if (!from) {
        rc = lia_error_set(err, LIA_EINVAL, "mail_from", NULL, 0,
                           "no sender address: set mail_from in the routing configuration or --from");
        goto out;
    }
    home = cfg(rt, o->gnupg_home, "gnupg_home", getenv("GNUPGHOME"));
    skey = cfg(rt, o->sign_key, "sign_key", NULL);
    if ((!skey || !*skey) && !o->unsigned_ok) {
        rc = lia_error_set(err, LIA_ECRYPTO, "sign_key", NULL, 0,
                           "no signing key: set sign_key in the routing configuration or --sign-key "
                           "(or --unsigned to send unsigned mail)");
        goto out;
    }
    rc = lia__pgp_protect(home, skey, lia_party_get(d.p, LIA_PF_PGP), &entity, &msg, &sig, &enc, err);
    if (rc) {
        /* never send in clear what should have been protected: record, go on */
        res.outcome = "failed";
        lia_error_format(err, errbuf, sizeof errbuf);
        res.error = errbuf;
        rc = LIA_OK;
        *failed = 1;
        lia_error_clear(err);
        rc = lia__notify_record(s, db, rcpt, res.to, "email", req, now, msgid, &d, "failed", 0, res.error, 0,
                                0, lang, 0, &nid, err);
        goto report;
    }
    /* into the outbox, committed, before the SMTP server sees it */
    {
        lia__outbox_msg m = {.recipient = rcpt,
                             .channel = "email",
                             .message_id = msgid,
                             .rcpt_to = res.to,
                             .mail_from = from,
                             .language = lang,
                             .envelope = to,
                             .at = now,
                             .sig = sig,
                             .enc = enc,
                             .message = msg.ptr,
                             .message_len = msg.len};
        if ((rc = lia__outbox_put(db, &m, &d, &oid, err)))
            goto out;
    }
    rc = send_tries(run, from, &to, &msg, &attempts, errbuf);
    if (rc == LIA_OK)
        lia__fault_point("notify-mid-delivery"); /* sent, not recorded */
    res.attempts = attempts;
    res.signed_ = sig;
    res.encrypted = enc;
    res.message = msg.ptr;
    res.message_len = msg.len;
    if (rc == LIA_OK) {
        res.outcome = "sent";
        errbuf[0] = '\0';
    } else {
        res.outcome = "failed";
        *failed = 1;
    }
    res.error = errbuf;
    rc = record_and_clear(run, rcpt, res.to, req, now, msgid, &d, res.outcome, attempts, errbuf, sig, enc,
                          lang, msg.len, oid, &nid, err);
report:
    res.notification_id = nid;
    if (rc == LIA_OK && cb && res.outcome)
        rc = cb(ud, &res);
out:
    for (size_t i = 0; i < to.n; i++)
        free(to.v[i]);
    free(to.v);
    lia__digest_free(&d);
    lia_buf_free(&tmpl);
    lia_buf_free(&subject);
    lia_buf_free(&body);
    lia_buf_free(&csv);
    lia_buf_free(&js);
    lia_buf_free(&entity);
    lia_buf_free(&msg);
    lia_buf_free(&toline);
    return rc;
}

/* A party's own e-mail addresses (contacts) also call for a digest. */
static int has_contacts(const lia_party *p)
{
    return p->f[LIA_PF_CONTACTS].n > 0;
}

const lia__notify_channel lia__channel_email = {LIA_CHANNEL_EMAIL, "email", 0, 1, has_contacts, 1,
                                                email_deliver};
