/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* New advisories to partners (`liaison advisory notify`, liaison/notify.h):
 * the published CSAF document and its signature by e-mail to every partner
 * the one TLP policy lets receive it, once per advisory version and partner
 * (notification_advisory, this file's own table). The advisory comes from
 * the advisory module's API (liaison/advisory.h); notify writes only its own
 * table. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/settings.h"
#include "liaison/advisory.h"
#include "liaison/notify.h"
#include "notify/internal.h"
#include "route/tlp.h"
#include "store/db.h"

static const lia_migration migrations[] = {
    {"CREATE TABLE IF NOT EXISTS notification_advisory ("
     " advisory TEXT NOT NULL, version INTEGER NOT NULL, recipient TEXT NOT NULL,"
     " sent_us INTEGER NOT NULL, message_id TEXT NOT NULL,"
     " PRIMARY KEY (advisory, version, recipient));",
     NULL, NULL},
};
static const lia_schema adv_schema = {"notify_advisory", 1, migrations, NULL, .pg = 1};

int lia__notify_advisory_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &adv_schema, err);
}

static const char *setting(const lia_route *rt, const char *given, const char *name)
{
    if (given)
        return given;
    return lia__setting_text(LIA_SCOPE_ROUTE, name, lia_route_setting(rt, name));
}

typedef struct adv {
    char id[LIA_ADVISORY_ID_MAX], title[1024], file[LIA_ADVISORY_ID_MAX + 40], path[LIA_ADVISORY_ID_MAX + 40];
    int tlp, version;
    lia_buf sig;
} adv;

static int info_cb(void *ud, const lia_advisory_info *a)
{
    adv *v = ud;
    snprintf(v->id, sizeof v->id, "%s", a->id);
    snprintf(v->title, sizeof v->title, "%s", a->title);
    snprintf(v->path, sizeof v->path, "%s", a->path);
    v->tlp = a->tlp;
    v->version = a->version;
    if (a->signature)
        lia_buf_puts(&v->sig, a->signature);
    return 0;
}

static int sent_before(lia_db *db, const adv *v, const char *rcpt, int *yes, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(
             db, "notify: was the advisory sent",
             "SELECT 1 FROM notification_advisory WHERE advisory=? AND version=? AND recipient=?", &st, err)))
        return rc;
    lia__db_bind_text(st, 1, v->id, -1);
    lia__db_bind_int64(st, 2, v->version);
    lia__db_bind_text(st, 3, rcpt, -1);
    rc = lia__db_step(st, err);
    *yes = rc == LIA_DB_ROW;
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

static int record(lia_db *db, const adv *v, const char *rcpt, int64_t now, const char *msgid, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(
             db, "notify: recording an advisory sent",
             "INSERT INTO notification_advisory(advisory, version, recipient, sent_us, message_id)"
             " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, v->id, -1);
    lia__db_bind_int64(st, 2, v->version);
    lia__db_bind_text(st, 3, rcpt, -1);
    lia__db_bind_int64(st, 4, now);
    lia__db_bind_text(st, 5, msgid, -1);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia_notify_advisory(lia_store *s, const char *id, const lia_notify_advisory_opts *opts,
                        lia_notify_advisory_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_notify_advisory_opts o = *opts;
    lia_route *rt = NULL;
    lia_buf doc, base, msg, entity, to;
    adv v;
    int rc;
    memset(&v, 0, sizeof v);
    lia_buf_init(&v.sig, 1u << 20);
    lia_buf_init(&doc, LIA_ADVISORY_MAX_DOC);
    lia_buf_init(&base, 4096);
    lia_buf_init(&msg, LIA_MAX_MESSAGE);
    lia_buf_init(&entity, LIA_MAX_MESSAGE);
    lia_buf_init(&to, 64 * 1024);
    if (!o.now_us)
        o.now_us = lia__now_us();
    if ((rc = lia__db_schema(db, &adv_schema, err)) ||
        (rc = lia_advisory_get(s, id, 1, info_cb, &v, &doc, err)))
        goto out;
    rc = lia_advisory_setting_get(s, "base_url", &base, err);
    if (rc && rc != LIA_ENOTFOUND)
        goto out;
    if ((rc = lia_route_load(s, &rt, err)))
        goto out;
    {
        const char *sl = strrchr(v.path, '/');
        snprintf(v.file, sizeof v.file, "%s", sl ? sl + 1 : v.path);
    }
    const char *from = setting(rt, o.mail_from, "mail_from"), *skey = setting(rt, o.sign_key, "sign_key"),
               *home = setting(rt, o.gnupg_home, "gnupg_home"), *url = setting(rt, o.smtp_url, "smtp_url");
    for (int i = 0;; i++) {
        const lia_party *p = lia_route_party(rt, i);
        lia_recipient r;
        lia_notify_advisory_result res = {"", "", "sent", "", NULL};
        char rcpt[80], msgid[128], date[64], hex[33], errbuf[600] = "";
        const char *why = "";
        int sent = 0, did_sign = 0, did_enc = 0;
        unsigned char rnd[16];
        if (!p)
            break;
        if (p->kind != LIA_PARTY_PARTNER)
            continue;
        snprintf(rcpt, sizeof rcpt, "partner:%s", p->id);
        res.recipient = rcpt;
        lia_buf_reset(&to);
        for (size_t k = 0; k < p->f[LIA_PF_CONTACTS].n; k++)
            lia_buf_printf(&to, "%s%s", k ? ", " : "", p->f[LIA_PF_CONTACTS].v[k]);
        res.to = lia_buf_cstr(&to);
        lia_route_recipient(rt, i, &r);
        if (!lia__tlp_check(&r, v.tlp, 0, &why)) {
            res.outcome = "withheld";
            res.why = why;
        } else if (!p->f[LIA_PF_CONTACTS].n) {
            res.outcome = "failed";
            res.why = "no e-mail contact in the directory";
        } else if (!from) {
            res.outcome = "failed";
            res.why = "no sender address: set mail_from in the routing configuration or --from";
        } else if ((rc = sent_before(db, &v, rcpt, &sent, err))) {
            goto out;
        } else if (sent) {
            res.outcome = "already sent";
        } else {
            randombytes_buf(rnd, sizeof rnd);
            for (size_t k = 0; k < sizeof rnd; k++)
                snprintf(hex + 2 * k, 3, "%02x", rnd[k]);
            const char *at = strchr(from, '@');
            snprintf(msgid, sizeof msgid, "<liaison.csaf.%s@%s>", hex, at ? at + 1 : "liaison.invalid");
            lia__mime_date(o.now_us, date, sizeof date);
            lia_buf_reset(&msg);
            lia_buf_reset(&entity);
            lia_buf_printf(&msg, "From: %s\r\nTo: %s\r\nSubject: ", from, lia_buf_cstr(&to));
            {
                char subj[1400];
                snprintf(subj, sizeof subj, "[TLP:%s] CSAF advisory %s version %d: %s",
                         lia_csaf_tlp_label(v.tlp, NULL), v.id, v.version, v.title);
                lia__mime_header_text(&msg, subj);
            }
            lia_buf_printf(
                &msg, "\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\nX-Liaison-Advisory: %s/%d\r\n",
                date, msgid, v.id, v.version);
            char bnd[40];
            lia__mime_boundary(bnd);
            lia_buf_printf(&entity, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", bnd);
            lia_buf body;
            lia_buf_init(&body, 1u << 20);
            lia_buf_printf(
                &body,
                "A CSAF 2.0 advisory, TLP:%s: handle it as that label says.\r\n\r\n  %s version %d\r\n  ",
                lia_csaf_tlp_label(v.tlp, NULL), v.id, v.version);
            for (const char *c = v.title; *c; c++)
                lia_buf_putc(&body, (unsigned char)*c < 0x20 ? ' ' : *c);
            if (base.len)
                lia_buf_printf(&body, "\r\n  %s/.well-known/csaf/%s\r\n", lia_buf_cstr(&base), v.path);
            lia_buf_puts(&body,
                         "\r\nThe document and its signature by our CSAF provider key are attached.\r\n");
            lia__mime_part(&entity, bnd, "text/plain; charset=utf-8", NULL, body.ptr, body.len);
            lia_buf_free(&body);
            lia__mime_part(&entity, bnd, "application/json", v.file, doc.ptr, doc.len);
            {
                char an[LIA_ADVISORY_ID_MAX + 48];
                snprintf(an, sizeof an, "%s.asc", v.file);
                lia__mime_part(&entity, bnd, "application/pgp-signature", an, lia_buf_cstr(&v.sig),
                               v.sig.len);
            }
            lia_buf_printf(&entity, "--%s--\r\n", bnd);
            if (msg.err || entity.err) {
                res.outcome = "failed";
                res.why = "the message is too large";
            } else if (o.dry_run) {
                res.outcome = "dry-run";
                lia_buf_append(&msg, entity.ptr, entity.len);
                res.message = &msg;
            } else {
                const char *pgp = p->f[LIA_PF_PGP].n ? p->f[LIA_PF_PGP].v[0] : NULL;
                int ok = 1;
                if (skey && *skey) {
                    lia_error pe;
                    lia_error_clear(&pe);
                    if (lia__pgp_protect(home, skey, pgp, &entity, &msg, &did_sign, &did_enc, &pe)) {
                        lia_error_format(&pe, errbuf, sizeof errbuf);
                        ok = 0;
                    }
                } else if (!o.unsigned_ok) {
                    snprintf(errbuf, sizeof errbuf,
                             "no signing key: set sign_key in the routing configuration or --sign-key (or "
                             "--unsigned to send unsigned mail)");
                    ok = 0;
                } else
                    lia_buf_append(&msg, entity.ptr, entity.len);
                if (ok) {
                    char cerr[512] = "";
                    const char *user = lia_route_setting(rt, "smtp_user"),
                               *penv = lia_route_setting(rt, "smtp_password_env");
                    if (lia__smtp_send(url, from, &p->f[LIA_PF_CONTACTS], &msg, user,
                                       penv ? getenv(penv) : NULL, cerr)) {
                        snprintf(errbuf, sizeof errbuf, "%s", cerr);
                        ok = 0;
                    }
                }
                if (!ok) {
                    res.outcome = "failed";
                    res.why = errbuf;
                } else if ((rc = record(db, &v, rcpt, o.now_us, msgid, err)))
                    goto out;
            }
        }
        if (cb && (rc = cb(ud, &res)))
            goto out;
    }
    rc = LIA_OK;
out:
    if (rt)
        lia_route_destroy(rt);
    lia_buf_free(&v.sig);
    lia_buf_free(&doc);
    lia_buf_free(&base);
    lia_buf_free(&msg);
    lia_buf_free(&entity);
    lia_buf_free(&to);
    return rc;
}
