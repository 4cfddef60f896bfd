/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* A report sent to a distribution list by e-mail, through the notification
 * module's SMTP, MIME and OpenPGP code (src/notify/), as `sla run` sends
 * its notices: each partner of the list gets the report made for it
 * (lia_report_opts.partner), the addresses of our own team the team's; the
 * one TLP policy decides whether the report's label may go to each. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/settings.h"
#include "liaison/route.h"
#include "notify/internal.h"
#include "report/internal.h"
#include "route/tlp.h"

static const char *setting(const lia_route *rt, const char *given, const char *name)
{
    if (given)
        return given;
    return lia__setting_text(LIA_SCOPE_ROUTE, name, lia_route_setting(rt, name));
}

/* The report o asks for (o->partner: the partner's) as an attachment's
 * bytes into out. */
static int attachment(lia_store *s, const lia_report_opts *o, lia_buf *out, lia_error *err)
{
    char tmp[] = "/tmp/liaison-report-send-XXXXXX", path[64];
    int rc;
    if (strcmp(o->format ? o->format : "", "pdf") != 0)
        return lia_report_render(s, o, out, err);
    if (!mkdtemp(tmp))
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot make a temporary directory for the PDF");
    snprintf(path, sizeof path, "%s/report.pdf", tmp);
    if ((rc = lia_report_write(s, o, path, err)) == LIA_OK)
        rc = lia__file_read(path, LIA_MAX_MESSAGE / 2, out, err);
    unlink(path);
    rmdir(tmp);
    return rc;
}

/* One message to the addresses of `to`, built, protected and sent (or, with
 * so->dry_run_dir, written there as N.eml). */
static int one(lia_store *s, const lia_route *rt, const lia_report_opts *o, const lia_report_send_opts *so,
               const lia_strlist *to, unsigned seq, const char **outcome, char *why, size_t whyn,
               lia_error *err)
{
    const char *from = setting(rt, so->mail_from, "mail_from");
    const char *skey = setting(rt, so->sign_key, "sign_key");
    const char *home = setting(rt, so->gnupg_home, "gnupg_home");
    const char *fmt = o->format ? o->format : "";
    const char *ctype = strcmp(fmt, "pdf") == 0   ? "application/pdf"
                        : strcmp(fmt, "csv") == 0 ? "text/csv; charset=utf-8"
                                                  : "text/html; charset=utf-8";
    char date[64], bnd[40], hex[33], fname[64], subject[160];
    unsigned char rnd[16];
    lia_buf att, entity, msg;
    int rc = LIA_OK, sig = 0, enc = 0;
    *outcome = "sent";
    why[0] = '\0';
    if (!from) {
        *outcome = "failed";
        snprintf(why, whyn, "no sender address: set mail_from in the routing configuration or --from");
        return LIA_OK;
    }
    lia_buf_init(&att, LIA_MAX_MESSAGE / 2);
    lia_buf_init(&entity, LIA_MAX_MESSAGE);
    lia_buf_init(&msg, LIA_MAX_MESSAGE);
    if ((rc = attachment(s, o, &att, err)))
        goto out;
    randombytes_buf(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    lia__mime_date(lia__now_us(), date, sizeof date);
    lia__mime_boundary(bnd);
    snprintf(fname, sizeof fname, "liaison-report-%s.%s", o->period, fmt);
    snprintf(subject, sizeof subject, "[TLP:%s] %s %s", lia_tlp_name(o->tlp), lia__rtext(o->lang, "title"),
             o->period);
    lia_buf_printf(&msg, "From: %s\r\nTo: ", from);
    for (size_t i = 0; i < to->n; i++)
        lia_buf_printf(&msg, "%s%s", i ? ", " : "", to->v[i]);
    lia_buf_puts(&msg, "\r\nSubject: ");
    lia__mime_header_text(&msg, subject);
    {
        const char *at = strchr(from, '@');
        lia_buf_printf(&msg, "\r\nDate: %s\r\nMessage-ID: <liaison.report.%s@%s>\r\nMIME-Version: 1.0\r\n",
                       date, hex, at ? at + 1 : "liaison.invalid");
    }
    lia_buf_printf(&msg, "X-Liaison-TLP: %s\r\n", lia_tlp_name(o->tlp));
    lia_buf_printf(&entity, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", bnd);
    {
        char text[512];
        int n = snprintf(text, sizeof text,
                         "TLP:%s\r\n\r\nThe statistics report of %s is attached (%s).\r\n\r\nTLP:%s\r\n",
                         lia_tlp_name(o->tlp), o->period, fname, lia_tlp_name(o->tlp));
        lia__mime_part(&entity, bnd, "text/plain; charset=utf-8", NULL, text, (size_t)n);
    }
    lia__mime_part(&entity, bnd, ctype, fname, att.ptr, att.len);
    lia_buf_printf(&entity, "--%s--\r\n", bnd);
    if (msg.err || entity.err) {
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "a report message larger than %u bytes",
                           (unsigned)LIA_MAX_MESSAGE);
        goto out;
    }
    if (skey && *skey && !so->dry_run_dir) {
        if (lia__pgp_protect(home, skey, NULL, &entity, &msg, &sig, &enc, err)) {
            *outcome = "failed";
            lia_error_format(err, why, whyn);
            lia_error_clear(err);
            goto out;
        }
    } else if (!so->unsigned_ok && !so->dry_run_dir) {
        *outcome = "failed";
        snprintf(why, whyn,
                 "no signing key: set sign_key in the routing configuration or --sign-key (or --unsigned to "
                 "send unsigned mail)");
        goto out;
    } else {
        lia_buf_append(&msg, entity.ptr, entity.len);
    }
    if (so->dry_run_dir) {
        char path[4200];
        FILE *f;
        *outcome = "dry-run";
        snprintf(path, sizeof path, "%s/%u.eml", so->dry_run_dir, seq);
        if (!(f = fopen(path, "wb")) || fwrite(msg.ptr, 1, msg.len, f) != msg.len) {
            if (f)
                fclose(f);
            rc = lia_error_set(err, LIA_EIO, "--out", path, strlen(path), "cannot write the message");
            goto out;
        }
        if (fclose(f) != 0)
            rc = lia_error_set(err, LIA_EIO, "--out", path, strlen(path), "cannot write the message");
        goto out;
    }
    {
        char cerr[512] = "";
        const char *url = setting(rt, so->smtp_url, "smtp_url");
        const char *user = lia_route_setting(rt, "smtp_user"),
                   *penv = lia_route_setting(rt, "smtp_password_env");
        if (!url) {
            *outcome = "failed";
            snprintf(why, whyn, "no SMTP server: set smtp_url in the routing configuration or --smtp");
        } else if (lia__smtp_send(url, from, to, &msg, user, penv ? getenv(penv) : NULL, cerr)) {
            *outcome = "failed";
            snprintf(why, whyn, "%s", cerr);
        }
    }
out:
    lia_buf_free(&att);
    lia_buf_free(&entity);
    lia_buf_free(&msg);
    return rc;
}

int lia_report_send(lia_store *s, const lia_report_opts *o, const lia_report_send_opts *so,
                    lia_report_sent_cb cb, void *ud, lia_error *err)
{
    lia_route *rt = NULL;
    lia_strlist own = {0};
    int rc;
    unsigned seq = 0;
    lia__rmodel probe;
    /* the options checked once, before anything goes */
    if ((rc = lia__rmodel_build(s, o, &probe, err)))
        return rc;
    lia__rmodel_free(&probe);
    for (size_t i = 0; i < so->nto; i++) {
        const char *e = so->to[i];
        if (strncmp(e, "partner:", 8) == 0) {
            lia_party p;
            lia_party_init(&p, LIA_PARTY_PARTNER);
            rc = lia_party_get_one(s, LIA_PARTY_PARTNER, e + 8, &p, err);
            lia_party_free(&p);
            if (rc == LIA_ENOTFOUND)
                return lia_error_set(err, LIA_ENOTFOUND, "--to", e, strlen(e),
                                     "no such partner in the directory");
            if (rc)
                return rc;
        } else if (!strchr(e, '@')) {
            return lia_error_set(err, LIA_EINVAL, "--to", e, strlen(e),
                                 "a distribution list names partner:ID or an address of our own team");
        }
    }
    if ((rc = lia_route_load(s, &rt, err)))
        return rc;
    for (size_t i = 0; i < so->nto && rc == LIA_OK; i++) {
        const char *e = so->to[i];
        lia_report_sent r = {e, "", "sent", NULL};
        char why[512] = "";
        if (strncmp(e, "partner:", 8) == 0) {
            lia_party p;
            lia_report_opts po = *o;
            const char *t, *a, *reason = NULL;
            lia_recipient rc_ = {LIA_PARTY_PARTNER, e + 8, LIA_TLP_AMBER, 0};
            lia_party_init(&p, LIA_PARTY_PARTNER);
            if ((rc = lia_party_get_one(s, LIA_PARTY_PARTNER, e + 8, &p, err))) {
                lia_party_free(&p);
                if (rc == LIA_ENOTFOUND)
                    rc = lia_error_set(err, LIA_ENOTFOUND, "--to", e, strlen(e),
                                       "no such partner in the directory");
                break;
            }
            t = lia_party_get(&p, LIA_PF_TLP_MAX);
            a = lia_party_get(&p, LIA_PF_AGREEMENT);
            for (int k = 0; t && k <= LIA_TLP_RED; k++)
                if (strcmp(t, lia_tlp_name(k)) == 0)
                    rc_.tlp_max = k;
            rc_.agreement = a && strcmp(a, "true") == 0;
            if (!lia__tlp_check(&rc_, o->tlp, 0, &reason)) {
                r.outcome = "refused";
                r.error = reason;
            } else if (!p.f[LIA_PF_CONTACTS].n) {
                r.outcome = "failed";
                r.error = "the partner has no contact address";
            } else {
                r.address = p.f[LIA_PF_CONTACTS].v[0];
                po.partner = e + 8;
                rc = one(s, rt, &po, so, &p.f[LIA_PF_CONTACTS], ++seq, &r.outcome, why, sizeof why, err);
                r.error = why[0] ? why : NULL;
            }
            if (rc == LIA_OK && cb)
                rc = cb(ud, &r);
            lia_party_free(&p);
        } else if (strchr(e, '@')) {
            char **v = realloc(own.v, (own.n + 1) * sizeof *v);
            if (!v) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                break;
            }
            own.v = v;
            own.v[own.n++] = (char *)e;
            own.cap = own.n;
        } else {
            rc = lia_error_set(err, LIA_EINVAL, "--to", e, strlen(e),
                               "a distribution list names partner:ID or an address of our own team");
        }
    }
    if (rc == LIA_OK && own.n) {
        /* our own team: the owning organisation, the label as its ceiling */
        lia_recipient team = {LIA_PARTY_OWNER, "", o->tlp, 1};
        const char *reason = NULL;
        char why[512] = "";
        lia_report_opts to = *o;
        lia_report_sent r = {"own team", own.v[0], "sent", NULL};
        to.partner = NULL;
        if (!lia__tlp_check(&team, o->tlp, 1, &reason)) {
            r.outcome = "refused";
            r.error = reason;
        } else {
            rc = one(s, rt, &to, so, &own, ++seq, &r.outcome, why, sizeof why, err);
            r.error = why[0] ? why : NULL;
        }
        if (rc == LIA_OK && cb)
            rc = cb(ud, &r);
    }
    free(own.v);
    lia_route_destroy(rt);
    return rc;
}
