/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* One incident to one recipient by e-mail, without a digest
 * (lia_notify_handoff, include/liaison/notify.h): what a drill inject uses
 * (src/drill). The message is signed like a digest, carries the signed
 * answer links when public_url is set, and once the SMTP server took it
 * the hand-off becomes notified through the incident module
 * (incident/delivery.h) with its Message-ID kept, so that a reply naming
 * it acknowledges the hand-off as a reply to a digest does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/settings.h"
#include "incident/delivery.h"
#include "liaison/incident.h"
#include "liaison/notify.h"
#include "notify/internal.h"
#include "route/internal.h"
#include "store/db.h"

static const char *setting(const lia_route *rt, const char *given, const char *name)
{
    if (given)
        return given;
    return lia__setting_text(LIA_SCOPE_ROUTE, name, lia_route_setting(rt, name));
}

/* Header text without line breaks or control characters. */
static void header_text(lia_buf *b, const char *s)
{
    for (; s && *s; s++)
        lia_buf_putc(b, (unsigned char)*s < 0x20 ? ' ' : *s);
}

static void fail(lia_notify_handoff_result *res, char *errbuf, size_t n, const char *why)
{
    res->outcome = "failed";
    snprintf(errbuf, n, "%s", why);
    res->error = errbuf;
}

int lia_notify_handoff(lia_store *s, int64_t incident, const char *recipient,
                       const lia_notify_handoff_opts *o, lia_notify_handoff_result *res, lia_error *err)
{
    static const char *const words[] = {"acknowledge", "resolved", "reject"};
    lia_route *rt = NULL;
    lia_incident inc;
    lia_buf hold, entity, body;
    const lia_party *p = NULL;
    const char *from, *skey, *home, *base;
    int64_t now = o->now_us ? o->now_us : lia__now_us();
    int rc, idx, sig = 0, enc = 0;
    char date[64];
    lia_buf_init(&hold, 0);
    lia_buf_init(&entity, LIA_MAX_MESSAGE);
    lia_buf_init(&body, LIA_MAX_MESSAGE);
    memset(res, 0, sizeof *res);
    res->outcome = "sent";
    res->error = NULL;
    res->to = "";
    lia_buf_init(&res->message, LIA_MAX_MESSAGE);
    if (!o->message_id || o->message_id[0] != '<') {
        rc = lia_error_set(err, LIA_EINVAL, "message_id", NULL, 0, "a Message-ID \"<...>\" is required");
        goto out;
    }
    if ((rc = lia_route_load(s, &rt, err)) || (rc = lia_incident_get(s, incident, &inc, &hold, err)))
        goto out;
    if ((idx = lia__route_party_find(rt, LIA_PARTY_PARTNER, recipient)) < 0)
        idx = lia__route_party_find(rt, LIA_PARTY_OWNER, recipient);
    if (idx >= 0)
        p = lia_route_party(rt, idx);
    if (!lia__party_email(p)) { /* a contact, or an email: channel */
        snprintf(res->to_, sizeof res->to_, "%s", "");
        res->to = res->to_;
        fail(res, res->errbuf_, sizeof res->errbuf_, "the recipient has no contact address in the directory");
        goto out;
    }
    snprintf(res->to_, sizeof res->to_, "%s", lia__party_email(p));
    res->to = res->to_;
    from = setting(rt, o->mail_from, "mail_from");
    skey = setting(rt, o->sign_key, "sign_key");
    home = setting(rt, o->gnupg_home, "gnupg_home");
    base = lia__setting_text(LIA_SCOPE_ROUTE, "public_url", lia_route_setting(rt, "public_url"));
    if (!from) {
        fail(res, res->errbuf_, sizeof res->errbuf_,
             "no sender address: set mail_from in the routing configuration or --from");
        goto out;
    }
    lia__mime_date(now, date, sizeof date);
    lia_buf_printf(&res->message, "From: %s\r\nTo: %s\r\nSubject: ", from, res->to);
    header_text(&res->message, o->prefix);
    if (o->prefix && *o->prefix)
        lia_buf_putc(&res->message, ' ');
    lia_buf_printf(&res->message, "[LIAISON#%lld] ", (long long)inc.id);
    lia__mime_header_text(&res->message, o->subject ? o->subject : inc.title);
    lia_buf_printf(&res->message,
                   "\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\nX-Liaison-Incident: %lld\r\n",
                   date, o->message_id, (long long)inc.id);
    if (o->header_name && o->header_value) {
        header_text(&res->message, o->header_name);
        lia_buf_puts(&res->message, ": ");
        header_text(&res->message, o->header_value);
        lia_buf_puts(&res->message, "\r\n");
    }
    if (o->body)
        for (const char *c = o->body; *c; c++) {
            if (*c == '\n' && (c == o->body || c[-1] != '\r'))
                lia_buf_putc(&body, '\r');
            lia_buf_putc(&body, *c);
        }
    lia_buf_printf(&body, "\r\n  Incident: LIAISON#%lld\r\n  Title:    ", (long long)inc.id);
    header_text(&body, inc.title);
    lia_buf_printf(&body, "\r\n  Severity: %s\r\n  TLP:      %s\r\n", lia_severity_name(inc.severity),
                   inc.tlp);
    if (base) {
        size_t bl = strlen(base);
        int64_t ttl = lia__setting_int(LIA_SCOPE_ROUTE, "link_ttl", lia_route_setting(rt, "link_ttl"));
        while (bl && base[bl - 1] == '/')
            bl--;
        lia_buf_puts(&body, "\r\nAnswer with one click:\r\n");
        for (int a = LIA_ANSWER_ACK; a <= LIA_ANSWER_REJECT; a++) {
            char path[LIA_ANSWER_PATH_MAX];
            if ((rc = lia_answer_link(s, inc.id, recipient, (lia_answer)a, now + ttl * 1000000, path, err)))
                goto out;
            lia_buf_printf(&body, "  %-12s %.*s%s\r\n", words[a], (int)bl, base, path);
        }
    }
    lia_buf_printf(&body,
                   "\r\nReply to this message to answer (first line: ack, resolved, or reject: REASON);"
                   " keep [LIAISON#%lld] in the subject.\r\n",
                   (long long)inc.id);
    lia_buf_puts(&entity,
                 "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
    lia_buf_append(&entity, body.ptr, body.len);
    if (res->message.err || entity.err) {
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "a message larger than %u bytes",
                           (unsigned)LIA_MAX_MESSAGE);
        goto out;
    }
    if (o->dry_run) {
        res->outcome = "dry-run";
        lia_buf_append(&res->message, entity.ptr, entity.len);
        goto out;
    }
    if (skey && *skey) {
        if (lia__pgp_protect(home, skey, NULL, &entity, &res->message, &sig, &enc, err)) {
            char why[LIA_ERR_REASON_MAX + LIA_ERR_VALUE_MAX + 64];
            lia_error_format(err, why, sizeof why);
            lia_error_clear(err);
            fail(res, res->errbuf_, sizeof res->errbuf_, why);
            goto out;
        }
    } else if (!o->unsigned_ok) {
        fail(res, res->errbuf_, sizeof res->errbuf_,
             "no signing key: set sign_key in the routing configuration or --sign-key (or --unsigned to send "
             "unsigned mail)");
        goto out;
    } else {
        lia_buf_append(&res->message, entity.ptr, entity.len);
    }
    {
        char cerr[512] = "";
        const char *url = setting(rt, o->smtp_url, "smtp_url");
        const char *user = lia_route_setting(rt, "smtp_user"),
                   *penv = lia_route_setting(rt, "smtp_password_env");
        char *tv[1] = {res->to_};
        lia_strlist tl = {0};
        tl.v = tv;
        tl.n = tl.cap = 1;
        if (lia__smtp_send(url, from, &tl, &res->message, user, penv ? getenv(penv) : NULL, cerr)) {
            fail(res, res->errbuf_, sizeof res->errbuf_, cerr);
            goto out;
        }
    }
    {
        lia_actor who = {"liaison", "email", NULL};
        rc = lia__incident_delivered(s, recipient, &inc.id, 1, "email", o->message_id, now, &who, NULL, err);
    }
out:
    if (rc || strcmp(res->outcome, "failed") == 0)
        lia_buf_reset(&res->message);
    lia_buf_free(&hold);
    lia_buf_free(&entity);
    lia_buf_free(&body);
    lia_route_destroy(rt);
    return rc;
}

void lia_notify_handoff_result_free(lia_notify_handoff_result *res)
{
    lia_buf_free(&res->message);
}
