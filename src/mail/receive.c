/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The e-mail answer channel: one received message is matched to its
 * incident and recipient, attached as a comment, and may change the
 * hand-off; a PGP signature is checked with gpgme; what matches nothing is
 * kept in the unmatched queue. Every message is a row of mail_message
 * (idempotence by Message-ID). Changes to incidents go through the incident
 * API, which writes the audit log. */
#include <gpgme.h>
#include <locale.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "liaison/incident.h"
#include "incident/delivery.h"
#include "liaison/route.h"
#include "mail/internal.h"
#include "incident/drill.h"

static const lia_migration migrations[] = {
    {"CREATE TABLE IF NOT EXISTS mail_message("
     "  id INTEGER PRIMARY KEY,"
     "  key TEXT NOT NULL UNIQUE," /* Message-ID, or sha256:HEX of the bytes */
     "  at INTEGER NOT NULL,"
     "  sender TEXT NOT NULL,"
     "  subject TEXT NOT NULL,"
     "  incident INTEGER,"
     "  recipient TEXT,"
     "  comment INTEGER,"
     "  action TEXT,"
     "  signature TEXT NOT NULL,"
     "  fingerprint TEXT NOT NULL,"
     "  note TEXT,"
     "  unmatched INTEGER NOT NULL," /* 1: in the unmatched queue */
     "  bytes INTEGER NOT NULL,"
     "  raw BLOB);" /* kept for unmatched messages */
     "CREATE INDEX IF NOT EXISTS mail_message_unmatched ON mail_message(unmatched, id);",
     NULL, NULL},
};

static const lia_schema mail_schema = {"mail", 1, migrations, NULL, .pg = 1};

int lia__mail_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &mail_schema, err);
}

/* ---- PGP ---------------------------------------------------------------- */

typedef struct sigres {
    char status[24]; /* the longest: "expired-or-revoked" */
    char fpr[64];
    lia_buf plain; /* inline: the signed text */
    int inline_;
} sigres;

static int gpg_ctx(const char *home, gpgme_ctx_t *ctx)
{
    static int inited;
    if (!inited) {
        gpgme_check_version(NULL);
        gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));
        inited = 1;
    }
    if (gpgme_new(ctx))
        return -1;
    if (gpgme_set_protocol(*ctx, GPGME_PROTOCOL_OpenPGP) ||
        (home && *home && gpgme_ctx_set_engine_info(*ctx, GPGME_PROTOCOL_OpenPGP, NULL, home))) {
        gpgme_release(*ctx);
        return -1;
    }
    return 0;
}

static void sig_status(gpgme_ctx_t ctx, gpgme_error_t e, sigres *r)
{
    gpgme_verify_result_t vr = e ? NULL : gpgme_op_verify_result(ctx);
    gpgme_signature_t sg = vr ? vr->signatures : NULL;
    const char *st = "error";
    if (sg) {
        switch (gpgme_err_code(sg->status)) {
        case GPG_ERR_NO_ERROR: st = "good"; break;
        case GPG_ERR_BAD_SIGNATURE: st = "bad"; break;
        case GPG_ERR_NO_PUBKEY: st = "unknown-key"; break;
        case GPG_ERR_KEY_EXPIRED:
        case GPG_ERR_SIG_EXPIRED:
        case GPG_ERR_CERT_REVOKED: st = "expired-or-revoked"; break;
        default: break;
        }
        snprintf(r->fpr, sizeof r->fpr, "%s", sg->fpr ? sg->fpr : "");
    }
    snprintf(r->status, sizeof r->status, "%s", st);
}

/* The signature of m, PGP/MIME or inline (clear-signed text). */
static void verify(const lia_mail *m, const char *home, sigres *r)
{
    lia_slice ent, sig;
    size_t tn;
    const char *text = lia_mail_text(m, &tn);
    const char *begin = strstr(text, "-----BEGIN PGP SIGNED MESSAGE-----");
    gpgme_ctx_t ctx;
    gpgme_data_t d1 = NULL, d2 = NULL;
    gpgme_error_t e;
    lia_buf canon;
    snprintf(r->status, sizeof r->status, "none");
    r->fpr[0] = '\0';
    if (lia_mail_pgp_signed(m, &ent, &sig)) {
        if (gpg_ctx(home, &ctx)) {
            snprintf(r->status, sizeof r->status, "error");
            return;
        }
        /* RFC 3156 5: the signed entity in canonical form, CRLF line ends */
        lia_buf_init(&canon, LIA_MAIL_MAX_MESSAGE);
        for (size_t i = 0; i < ent.len; i++) {
            if (ent.ptr[i] == '\n' && (i == 0 || ent.ptr[i - 1] != '\r'))
                lia_buf_putc(&canon, '\r');
            lia_buf_putc(&canon, ent.ptr[i]);
        }
        e = gpgme_data_new_from_mem(&d1, sig.ptr, sig.len, 0);
        if (!e)
            e = gpgme_data_new_from_mem(&d2, lia_buf_cstr(&canon), canon.len, 0);
        if (!e)
            e = gpgme_op_verify(ctx, d1, d2, NULL);
        sig_status(ctx, e, r);
        gpgme_data_release(d1);
        gpgme_data_release(d2);
        gpgme_release(ctx);
        lia_buf_free(&canon);
        return;
    }
    if (!begin)
        return;
    if (gpg_ctx(home, &ctx)) {
        snprintf(r->status, sizeof r->status, "error");
        return;
    }
    e = gpgme_data_new_from_mem(&d1, begin, tn - (size_t)(begin - text), 0);
    if (!e)
        e = gpgme_data_new(&d2);
    if (!e)
        e = gpgme_op_verify(ctx, d1, NULL, d2);
    sig_status(ctx, e, r);
    if (!e && strcmp(r->status, "good") == 0) {
        size_t n;
        char *p = gpgme_data_release_and_get_mem(d2, &n);
        d2 = NULL;
        if (p) {
            lia_buf_append(&r->plain, p, n);
            r->inline_ = 1;
            gpgme_free(p);
        }
    }
    gpgme_data_release(d1);
    gpgme_data_release(d2);
    gpgme_release(ctx);
}

/* ---- matching --------------------------------------------------------------- */

typedef struct match {
    lia_store *s;
    const char *from;
    char recipient[72];
    char pgp[64]; /* the recipient's key fingerprint */
    lia_handoff_state state;
    int found;
} match;

static int addr_eq(const char *contact, const char *from)
{
    char a[LIA_MAIL_MAX_ADDR + 1];
    return lia_mail_addr(contact, a, NULL) == LIA_OK && strcmp(a, from) == 0;
}

static int party_has(const lia_party *p, const char *from)
{
    for (size_t i = 0; i < p->f[LIA_PF_CONTACTS].n; i++)
        if (addr_eq(p->f[LIA_PF_CONTACTS].v[i], from))
            return 1;
    for (size_t i = 0; i < p->f[LIA_PF_CHANNELS].n; i++)
        if (strncmp(p->f[LIA_PF_CHANNELS].v[i], "email:", 6) == 0 &&
            addr_eq(p->f[LIA_PF_CHANNELS].v[i] + 6, from))
            return 1;
    return 0;
}

static int match_handoff(void *ud, const lia_handoff *h)
{
    match *mt = ud;
    lia_error e2;
    for (int kind = LIA_PARTY_PARTNER; kind >= LIA_PARTY_OWNER; kind--) {
        lia_party p;
        lia_party_init(&p, kind);
        if (lia_party_get_one(mt->s, kind, h->recipient, &p, &e2) == LIA_OK && party_has(&p, mt->from)) {
            const char *fp = lia_party_get(&p, LIA_PF_PGP);
            snprintf(mt->recipient, sizeof mt->recipient, "%s", h->recipient);
            snprintf(mt->pgp, sizeof mt->pgp, "%s", fp ? fp : "");
            mt->state = h->state;
            mt->found = 1;
            lia_party_free(&p);
            return 1;
        }
        lia_party_free(&p);
    }
    return 0;
}

/* The incident of an earlier message of ours or of the thread. */
static int64_t thread_incident(lia_db *db, const char *value, lia_error *err)
{
    const char *p = value;
    int64_t inc = 0;
    while (p && (p = strchr(p, '<')) && !inc) {
        const char *q = strchr(p, '>');
        lia_stmt *st;
        if (!q)
            break;
        if (lia__db_prepare(db, "mail: the incident of a thread",
                            "SELECT incident FROM mail_message WHERE key = ? AND incident IS NOT NULL", &st,
                            err) == LIA_OK) {
            lia__db_bind_text(st, 1, p, (int)(q - p + 1));
            if (lia__db_step(st, err) == LIA_DB_ROW)
                inc = lia__db_col_int64(st, 0);
            lia__db_done(st);
        }
        p = q + 1;
    }
    return inc;
}

/* The command of a reply: its first line that is not empty or quoted. */
static const char *command(const char *text, char *reason, size_t rn)
{
    const char *p = text;
    reason[0] = '\0';
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p), a = 0;
        char w[64];
        size_t k = 0;
        while (a < n && (p[a] == ' ' || p[a] == '\t' || p[a] == '\r'))
            a++;
        if (a == n || p[a] == '>') {
            if (!e)
                break;
            p = e + 1;
            continue;
        }
        /* the first word, lower-cased, up to ':' or the end of the line */
        while (a + k < n && k < sizeof w - 1 && p[a + k] != ':' && p[a + k] != '\r') {
            char c = p[a + k];
            w[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        while (k && (w[k - 1] == ' ' || w[k - 1] == '.' || w[k - 1] == '!'))
            k--;
        w[k] = '\0';
        if (a + k < n && p[a + k] == ':' && (strcmp(w, "reject") == 0 || strcmp(w, "rejected") == 0)) {
            size_t r = a + k + 1, re = n;
            while (r < n && (p[r] == ' ' || p[r] == '\t'))
                r++;
            while (re > r && (p[re - 1] == ' ' || p[re - 1] == '\r'))
                re--;
            snprintf(reason, rn, "%.*s", (int)(re - r), p + r);
            return "reject";
        }
        if (!strcmp(w, "resolved") || !strcmp(w, "resolve") || !strcmp(w, "fixed"))
            return "resolve";
        if (!strcmp(w, "ack") || !strcmp(w, "acknowledged") || !strcmp(w, "acknowledge") ||
            !strcmp(w, "received"))
            return "ack";
        return NULL;
    }
    return NULL;
}

/* ---- the row ------------------------------------------------------------------ */

typedef struct row {
    const char *key, *from, *subject, *recipient, *action, *signature, *fpr, *note;
    int64_t incident, comment;
    int unmatched;
    const char *raw;
    size_t len;
} row;

static int put_row(lia_db *db, const row *r, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(
             db, "mail: recording a message",
             "INSERT INTO mail_message(key, at, sender, subject, incident, recipient, comment,"
             " action, signature, fingerprint, note, unmatched, bytes, raw)"
             " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
             &st, err)))
        return rc;
    lia__db_bind_text(st, 1, r->key, -1);
    lia__db_bind_int64(st, 2, lia__now_us());
    lia__db_bind_text(st, 3, r->from ? r->from : "", -1);
    lia__db_bind_text(st, 4, r->subject ? r->subject : "", -1);
    if (r->incident)
        lia__db_bind_int64(st, 5, r->incident);
    else
        lia__db_bind_null(st, 5);
    lia__db_bind_text(st, 6, r->recipient, -1);
    if (r->comment)
        lia__db_bind_int64(st, 7, r->comment);
    else
        lia__db_bind_null(st, 7);
    lia__db_bind_text(st, 8, r->action, -1);
    lia__db_bind_text(st, 9, r->signature ? r->signature : "none", -1);
    lia__db_bind_text(st, 10, r->fpr ? r->fpr : "", -1);
    lia__db_bind_text(st, 11, r->note, -1);
    lia__db_bind_int64(st, 12, r->unmatched);
    lia__db_bind_int64(st, 13, (int64_t)r->len);
    if (r->unmatched)
        lia__db_bind_blob(st, 14, r->raw, r->len);
    else
        lia__db_bind_null(st, 14);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

int lia_mail_seen(lia_store *s, const char *message_id, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__mail_schema(db, err)) ||
        (rc = lia__db_prepare(db, "mail: was it received", "SELECT 1 FROM mail_message WHERE key = ?", &st,
                              err)))
        return rc;
    lia__db_bind_text(st, 1, message_id, -1);
    rc = lia__db_step(st, err);
    lia__db_done(st);
    return rc < 0 ? rc : rc == LIA_DB_ROW;
}

/* The outcome's strings live here until the next call (one thread). */
static struct {
    char key[1024], from[LIA_MAIL_MAX_ADDR + 1], recipient[72], note[512], signature[24], fpr[64];
} kept;

/* ---- the incidents a reply is for ------------------------------------------- */

/* One incident a reply is for, and the recipient it was delivered to ("":
 * any of its recipients whose contact the sender is). */
typedef struct target {
    int64_t incident;
    char recipient[72];
    char pgp[64];
    lia_handoff_state state;
    int matched;
} target;

typedef struct targets {
    target *v;
    size_t n, cap;
    int cut;   /* more than LIA_MAIL_MAX_INCIDENTS */
    int nomem; /* a push failed */
} targets;

static int targets_push(targets *t, int64_t incident, const char *recipient)
{
    if (t->n == LIA_MAIL_MAX_INCIDENTS) {
        t->cut = 1;
        return LIA_OK;
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 8;
        target *nv = realloc(t->v, nc * sizeof *nv);
        if (!nv) {
            t->nomem = 1;
            return LIA_ENOMEM;
        }
        t->v = nv;
        t->cap = nc;
    }
    memset(&t->v[t->n], 0, sizeof t->v[t->n]);
    t->v[t->n].incident = incident;
    snprintf(t->v[t->n].recipient, sizeof t->v[t->n].recipient, "%s", recipient);
    t->n++;
    return LIA_OK;
}

static int targets_has(const targets *t, int64_t incident)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].incident == incident)
            return 1;
    return 0;
}

static int on_delivered(void *ud, int64_t incident, const char *recipient)
{
    return targets_push(ud, incident, recipient) ? -1 : 0;
}

/* The hand-offs of the first Message-ID of value (<a> <b> ...) that names
 * one of our digests. */
static int digest_targets(lia_store *s, const char *value, targets *t, lia_error *err)
{
    const char *p = value;
    int rc = LIA_OK;
    while (p && (p = strchr(p, '<')) && t->n == 0 && rc == LIA_OK) {
        const char *q = strchr(p, '>');
        if (!q)
            break;
        rc = lia__incident_of_message(s, p, (size_t)(q - p + 1), on_delivered, t, err);
        p = q + 1;
    }
    if (rc == LIA_OK && t->nomem)
        rc = lia_error_set(err, LIA_ENOMEM, "mail", NULL, 0, "out of memory");
    return rc;
}

/* The reply on one incident it is for: a comment shared with the
 * recipient, and the hand-off change its first line asks for (a reply
 * acknowledges). In the caller's transaction. The first note (why a
 * hand-off did not change) is kept in `kept.note`. */
static int apply(lia_store *s, const lia_mail *m, const sigres *sr, const target *t, const char *subject,
                 row *r, lia_mail_outcome *out, lia_error *err)
{
    const char *text = sr->inline_ ? lia_buf_cstr(&sr->plain) : lia_mail_text(m, NULL);
    char reason[1024], vis[96], note[sizeof kept.note] = "";
    const char *cmd = command(text, reason, sizeof reason);
    const char *tnote = lia_mail_text_note(m);
    lia_actor who = {t->recipient, "email", kept.from};
    int own_key = sr->fpr[0] && t->pgp[0] && strcasecmp(sr->fpr, t->pgp) == 0;
    lia_handoff_state to;
    lia_buf body;
    int64_t cid = 0;
    int rc;
    lia_buf_init(&body, LIA_INCIDENT_TEXT_MAX);
    lia_buf_printf(&body, "E-mail from %s: %s\nMessage-ID: %s\nSignature: %s", kept.from, subject, kept.key,
                   sr->status);
    if (sr->fpr[0])
        lia_buf_printf(&body, ", key %s%s", sr->fpr,
                       own_key     ? " (the recipient's key)"
                       : t->pgp[0] ? " (not the recipient's key)"
                                   : "");
    if (tnote)
        lia_buf_printf(&body, "\nNote: %s", tnote);
    lia_buf_puts(&body, "\n\n");
    lia_buf_append(&body, text,
                   strlen(text) > LIA_INCIDENT_TEXT_MAX / 2 ? LIA_INCIDENT_TEXT_MAX / 2 : strlen(text));
    snprintf(vis, sizeof vis, "shared:%s", t->recipient);
    rc = lia_incident_comment(s, t->incident, vis, lia_buf_cstr(&body), &who, &cid, err);
    lia_buf_free(&body);
    if (rc)
        return rc;
    if (!r->comment)
        r->comment = cid;
    /* the hand-off: a reply acknowledges; its first line may say more */
    if (!cmd)
        cmd = "ack";
    to = !strcmp(cmd, "reject")    ? LIA_HO_REJECTED
         : !strcmp(cmd, "resolve") ? LIA_HO_RESOLVED
                                   : LIA_HO_ACKNOWLEDGED;
    if (!strcmp(sr->status, "bad")) {
        snprintf(note, sizeof note, "the PGP signature is bad: the hand-off is not changed");
    } else if (to == LIA_HO_REJECTED && !reason[0]) {
        snprintf(note, sizeof note, "reject without a reason (reject: REASON): not changed");
    } else if (t->state == to) {
        snprintf(note, sizeof note, "the hand-off is already %s", lia_handoff_state_name(to));
    } else if (to == LIA_HO_ACKNOWLEDGED && t->state != LIA_HO_NOTIFIED) {
        snprintf(note, sizeof note, "the hand-off is %s: a reply does not acknowledge it",
                 lia_handoff_state_name(t->state));
    } else {
        lia_error e2;
        int hrc = lia_handoff_set(s, t->incident, t->recipient, to, reason[0] ? reason : NULL, &who, &e2);
        if (hrc == LIA_EINVAL || hrc == LIA_ESTATE || hrc == LIA_ENOTFOUND) {
            snprintf(note, sizeof note, "%s: not changed", e2.reason);
        } else if (hrc) {
            *err = e2;
            return hrc;
        } else if (!r->action) {
            r->action = out->action = cmd;
        }
    }
    if (note[0] && !kept.note[0])
        snprintf(kept.note, sizeof kept.note, "%s", note);
    return LIA_OK;
}

int lia_mail_receive(lia_store *s, const char *buf, size_t len, const lia_mail_opts *o, lia_mail_outcome *out,
                     lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_mail *m = NULL;
    lia_error perr;
    row r;
    sigres sr;
    match mt;
    targets tg = {0};
    int64_t named;
    const char *subject = "", *mid, *home = o && o->gnupg_home ? o->gnupg_home : NULL;
    int rc, prc;
    memset(&r, 0, sizeof r);
    memset(&mt, 0, sizeof mt);
    memset(out, 0, sizeof *out);
    memset(&kept, 0, sizeof kept);
    memset(&sr, 0, sizeof sr);
    lia_buf_init(&sr.plain, LIA_MAIL_MAX_TEXT);
    if (len > LIA_MAIL_MAX_MESSAGE) {
        rc = lia_error_set(err, LIA_ELIMIT, "message", NULL, 0, "larger than %u bytes", LIA_MAIL_MAX_MESSAGE);
        goto done;
    }
    if ((rc = lia__mail_schema(db, err)))
        goto done;
    lia_error_clear(&perr); /* the parser fills only what it knows: the rest read below */
    prc = lia_mail_parse(buf, len, &m, &perr);
    mid = m ? lia_mail_header(m, "message-id", 0) : NULL;
    if (mid && *mid && strlen(mid) < sizeof kept.key) {
        snprintf(kept.key, sizeof kept.key, "%s", mid);
    } else {
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)buf, len);
        memcpy(kept.key, "sha256:", 7);
        for (size_t i = 0; i < sizeof h; i++)
            snprintf(kept.key + 7 + 2 * i, 3, "%02x", h[i]);
    }
    r.key = out->message_id = kept.key;
    r.raw = buf;
    r.len = len;
    if ((rc = lia_mail_seen(s, kept.key, err)) < 0)
        goto done;
    if (rc == 1) {
        out->duplicate = 1;
        out->signature = "none";
        out->fingerprint = "";
        rc = LIA_OK;
        goto done;
    }
    if (prc) {
        static const char what[] = "not a readable message: ";
        char line[sizeof kept.note - sizeof what + 1];
        lia_error_format(&perr, line, sizeof line);
        snprintf(kept.note, sizeof kept.note, "%s%s", what, line);
        goto unmatched;
    }
    subject = lia_mail_header(m, "subject", 0);
    if (!subject)
        subject = "";
    r.subject = subject;
    if (lia_mail_from(m))
        snprintf(kept.from, sizeof kept.from, "%s", lia_mail_from(m));
    r.from = out->from = kept.from;
    if (!kept.from[0]) {
        snprintf(kept.note, sizeof kept.note, "no sender address in From");
        goto unmatched;
    }
    /* the incidents: a reply to one of our digests (In-Reply-To, References
     * naming its Message-ID) is for the hand-offs it carried; [LIAISON#id]
     * in the subject or X-Liaison-Incident names one (when it names one the
     * digest did not carry, that one); else the thread of an earlier reply */
    named = lia_mail_incident_ref(subject);
    if (!named) {
        const char *x = lia_mail_header(m, "x-liaison-incident", 0);
        uint64_t v = 0;
        for (const char *c = x; c && *c >= '0' && *c <= '9' && v < (uint64_t)INT64_MAX / 10 - 10; c++)
            v = v * 10 + (uint64_t)(*c - '0');
        named = (int64_t)v;
    }
    for (int k = 0; tg.n == 0 && k < 2; k++)
        if ((rc = digest_targets(s, lia_mail_header(m, k ? "references" : "in-reply-to", 0), &tg, err)))
            goto done;
    if (named && tg.n && !targets_has(&tg, named))
        tg.n = 0;
    if (!tg.n) {
        int64_t one = named;
        for (int k = 0; !one && k < 2; k++)
            one = thread_incident(db, lia_mail_header(m, k ? "references" : "in-reply-to", 0), err);
        if (!one) {
            snprintf(kept.note, sizeof kept.note,
                     "no incident reference ([LIAISON#id] in the subject, "
                     "X-Liaison-Incident, or a reply to one of our messages)");
            goto unmatched;
        }
        if (targets_push(&tg, one, "")) {
            rc = lia_error_set(err, LIA_ENOMEM, "mail", NULL, 0, "out of memory");
            goto done;
        }
    }
    /* each incident and its recipient: the sender is one of its contacts */
    mt.s = s;
    mt.from = kept.from;
    for (size_t i = 0; i < tg.n; i++) {
        lia_incident inc;
        lia_buf hold;
        lia_error e2;
        lia_buf_init(&hold, 0);
        rc = lia_incident_get(s, tg.v[i].incident, &inc, &hold, &e2);
        lia_buf_free(&hold);
        if (rc) {
            if (!kept.note[0])
                snprintf(kept.note, sizeof kept.note, "incident %lld: %s", (long long)tg.v[i].incident,
                         e2.reason);
            continue;
        }
        mt.found = 0;
        if ((rc = lia_handoff_list(s, tg.v[i].incident, -1, tg.v[i].recipient[0] ? tg.v[i].recipient : NULL,
                                   match_handoff, &mt, err)))
            goto done;
        if (!mt.found) {
            if (!kept.note[0])
                snprintf(kept.note, sizeof kept.note,
                         "the sender %s is not a contact of a recipient of incident %lld", kept.from,
                         (long long)tg.v[i].incident);
            continue;
        }
        tg.v[i].matched = 1;
        snprintf(tg.v[i].recipient, sizeof tg.v[i].recipient, "%s", mt.recipient);
        tg.v[i].state = mt.state;
        snprintf(tg.v[i].pgp, sizeof tg.v[i].pgp, "%s", mt.pgp);
        if (!r.incident) {
            r.incident = tg.v[i].incident;
            snprintf(kept.recipient, sizeof kept.recipient, "%s", mt.recipient);
        }
    }
    rc = LIA_OK;
    if (!r.incident)
        goto unmatched;
    kept.note[0] = '\0';
    if (tg.cut)
        snprintf(kept.note, sizeof kept.note,
                 "the message it answers carried more than %u incidents: only the first %u",
                 (unsigned)LIA_MAIL_MAX_INCIDENTS, (unsigned)LIA_MAIL_MAX_INCIDENTS);
    r.recipient = out->recipient = kept.recipient;
    verify(m, home, &sr);
    snprintf(kept.signature, sizeof kept.signature, "%s", sr.status);
    snprintf(kept.fpr, sizeof kept.fpr, "%s", sr.fpr);
    r.signature = out->signature = kept.signature;
    r.fpr = out->fingerprint = kept.fpr;
    if ((rc = lia__db_begin(db, err)))
        goto done;
    for (size_t i = 0; i < tg.n; i++) {
        if (!tg.v[i].matched)
            continue;
        if ((rc = apply(s, m, &sr, &tg.v[i], subject, &r, out, err))) {
            lia__db_rollback(db);
            goto done;
        }
        out->incidents++;
    }
    r.note = kept.note[0] ? kept.note : NULL;
    if ((rc = put_row(db, &r, err))) {
        lia__db_rollback(db);
        goto done;
    }
    rc = lia__db_commit(db, err);
    out->incident = r.incident;
    out->comment = r.comment;
    out->note = r.note;
    goto done;
unmatched:
    r.unmatched = 1;
    r.recipient = NULL;
    r.note = out->note = kept.note;
    r.signature = out->signature = "none";
    r.fpr = out->fingerprint = "";
    r.from = out->from = kept.from;
    out->unmatched = 1;
    out->incident = 0;
    rc = put_row(db, &r, err);
done:
    lia_mail_free(m);
    lia_buf_free(&sr.plain);
    free(tg.v);
    return rc;
}

int lia_mail_unmatched_list(lia_store *s, lia_mail_unmatched_cb cb, void *ud, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__mail_schema(db, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "mail: the unmatched queue",
                              "SELECT id, at, key, sender, subject, note, bytes FROM mail_message"
                              " WHERE unmatched = 1 ORDER BY id",
                              &st, err)))
        return rc;
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_mail_unmatched u = {lia__db_col_int64(st, 0),        lia__db_col_int64(st, 1),
                                lia__db_col_text(st, 2),         lia__db_col_text(st, 3),
                                lia__db_col_text(st, 4),         lia__db_col_text(st, 5),
                                (size_t)lia__db_col_int64(st, 6)};
        if (cb(ud, &u))
            break;
    }
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

int lia__mail_forget_drill(lia_db *db, int64_t drill, lia_error *err)
{
    lia_stmt *st;
    int rc;
    if (!lia__db_has_table(db, "mail_message"))
        return LIA_OK;
    if ((rc = lia__mail_schema(db, err)) ||
        (rc = lia__db_prepare(
             db, "mail: deleting a drill's messages",
             "DELETE FROM mail_message WHERE incident IN (SELECT id FROM incident WHERE drill = ?1)", &st,
             err)))
        return rc;
    lia__db_bind_int64(st, 1, drill);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}
