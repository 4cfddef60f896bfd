/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* E-mail digests: pick what is due per recipient, render the template,
 * attach CSV and JSON, sign / encrypt (PGP/MIME through gpgme), send over
 * SMTP with libcurl, record. See liaison/notify.h. */
#include <curl/curl.h>
#include <errno.h>
#include <gpgme.h>
#include <jansson.h>
#include <locale.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liaison/accounts.h"
#include "liaison/limits.h"
#include "liaison/notify.h"
#include "liaison/route.h"
#include "liaison/stix.h"
#include "liaison/taxii.h"
#include "route/internal.h"

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

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS notification("
    "  id INTEGER PRIMARY KEY, recipient TEXT NOT NULL, rcpt_to TEXT NOT NULL, at INTEGER NOT NULL,"
    "  message_id TEXT NOT NULL, events INTEGER NOT NULL, outcome TEXT NOT NULL, attempts INTEGER NOT NULL,"
    "  error TEXT NOT NULL, signed INTEGER NOT NULL, encrypted INTEGER NOT NULL, language TEXT NOT NULL,"
    "  bytes INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS notification_rcpt ON notification(recipient, at);"
    "CREATE TABLE IF NOT EXISTS notification_event("
    "  notification_id INTEGER NOT NULL, event_id INTEGER NOT NULL,"
    "  PRIMARY KEY(notification_id, event_id));"
    /* per channel: which events each channel of a recipient has delivered;
     * route_decision is marked notified when every channel has */
    "CREATE TABLE IF NOT EXISTS notification_delivery("
    "  event_id INTEGER NOT NULL, recipient TEXT NOT NULL, channel TEXT NOT NULL,"
    "  notification_id INTEGER NOT NULL, PRIMARY KEY(recipient, channel, event_id)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO route_schema VALUES('notify', 1);";

/* Tables, and schema 2 (notification.channel) on a store of schema 1. */
static int notify_schema(sqlite3 *db, lia_error *err)
{
    sqlite3_stmt *st = NULL;
    char *msg = NULL;
    int rc = LIA_OK;
    if (sqlite3_exec(db, schema_sql, NULL, NULL, &msg)) {
        rc = lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "creating notification tables: %s",
                           msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    if (sqlite3_prepare_v2(db, "SELECT channel FROM notification LIMIT 0", -1, &st, NULL) != SQLITE_OK &&
        sqlite3_exec(db,
                     "ALTER TABLE notification ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';"
                     "UPDATE route_schema SET version = 2 WHERE module = 'notify'",
                     NULL, NULL, &msg)) {
        rc =
            lia_error_set(err, LIA_ESTORE, NULL, NULL, 0, "adding notification.channel: %s", msg ? msg : "?");
        sqlite3_free(msg);
    }
    sqlite3_finalize(st);
    return rc;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- one digest ---- */

typedef struct digest {
    const lia_route *rt;
    const lia_party *p;
    int idx;
    lia_event *ev; /* redacted copies */
    size_t n, cap;
    int64_t *ids;      /* event ids attached */
    int64_t *withheld; /* event ids refused at send time */
    size_t nwithheld;
    char count[24], listed[24], more[24], start[LIA_TIME_TEXT], end[LIA_TIME_TEXT], gen[LIA_TIME_TEXT];
    const char *sender, *lang;
    char tmp[LIA_MAX_URL + 64];
} digest;

static void digest_free(digest *d)
{
    for (size_t i = 0; i < d->cap; i++)
        lia_event_free(&d->ev[i]);
    free(d->ev);
    free(d->ids);
    free(d->withheld);
    memset(d, 0, sizeof *d);
}

static const char *tvar(void *ud, const char *name, size_t n, size_t item)
{
    digest *d = ud;
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
    digest *d = ud;
    if (n == 6 && memcmp(name, "events", 6) == 0)
        return d->n < LIA_NOTIFY_LISTED ? d->n : LIA_NOTIFY_LISTED;
    return SIZE_MAX;
}

/* ---- MIME ---- */

static void b64_lines(lia_buf *b, const char *s, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t col = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
        char q[4];
        if (i + 1 < n)
            v |= (uint32_t)(unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        q[0] = tbl[v >> 18 & 63];
        q[1] = tbl[v >> 12 & 63];
        q[2] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? tbl[v & 63] : '=';
        lia_buf_append(b, q, 4);
        col += 4;
        if (col >= 76) {
            lia_buf_puts(b, "\r\n");
            col = 0;
        }
    }
    if (col)
        lia_buf_puts(b, "\r\n");
}

/* Header text: plain if ASCII, else an RFC 2047 encoded word (split). */
static void header_text(lia_buf *b, const char *s)
{
    size_t n = strlen(s), i;
    for (i = 0; i < n && (unsigned char)s[i] < 0x80 && s[i] >= 0x20; i++)
        ;
    if (i == n) {
        lia_buf_append(b, s, n);
        return;
    }
    /* chunks of up to 45 bytes, cut at UTF-8 boundaries */
    for (i = 0; i < n;) {
        size_t k = n - i > 45 ? 45 : n - i;
        lia_buf tmp;
        while (i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
            k--;
        lia_buf_init(&tmp, 256);
        b64_lines(&tmp, s + i, k);
        if (tmp.len >= 2)
            tmp.len -= 2; /* drop CRLF */
        lia_buf_printf(b, "%s=?UTF-8?B?%.*s?=", i ? "\r\n " : "", (int)tmp.len, lia_buf_cstr(&tmp));
        lia_buf_free(&tmp);
        i += k;
    }
}

static void boundary(char out[40])
{
    unsigned char r[12];
    randombytes_buf(r, sizeof r);
    memcpy(out, "=-lia-", 6);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 6 + i * 2, 3, "%02x", r[i]);
}

static void part(lia_buf *b, const char *bnd, const char *ctype, const char *fname, const char *data,
                 size_t n)
{
    lia_buf_printf(b, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\n", bnd, ctype);
    if (fname)
        lia_buf_printf(b, "Content-Disposition: attachment; filename=\"%s\"\r\n", fname);
    lia_buf_puts(b, "\r\n");
    b64_lines(b, data, n);
}


static void attachments(const digest *d, lia_buf *csv, lia_buf *js)
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

/* ---- OpenPGP (gpgme) ---- */

static int gpg_err(lia_error *err, const char *what, gpgme_error_t e)
{
    return lia_error_set(err, LIA_ECRYPTO, NULL, NULL, 0, "%s: %s", what, gpgme_strerror(e));
}

static int gpg_ctx(const char *home, gpgme_ctx_t *ctx, lia_error *err)
{
    gpgme_error_t e;
    static int inited;
    if (!inited) {
        gpgme_check_version(NULL);
        gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));
        inited = 1;
    }
    if ((e = gpgme_new(ctx)))
        return gpg_err(err, "gpgme", e);
    if ((e = gpgme_set_protocol(*ctx, GPGME_PROTOCOL_OpenPGP)) ||
        (home && *home && (e = gpgme_ctx_set_engine_info(*ctx, GPGME_PROTOCOL_OpenPGP, NULL, home)))) {
        gpgme_release(*ctx);
        return gpg_err(err, "gpgme engine", e);
    }
    gpgme_set_armor(*ctx, 1);
    gpgme_set_pinentry_mode(*ctx, GPGME_PINENTRY_MODE_LOOPBACK);
    return LIA_OK;
}

static int data_out(gpgme_data_t out, lia_buf *b, lia_error *err)
{
    size_t n;
    char *p = gpgme_data_release_and_get_mem(out, &n);
    int rc = LIA_OK;
    if (!p)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        /* armored output: normalise line ends to CRLF */
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            lia_buf_putc(b, '\r');
        lia_buf_putc(b, p[i]);
    }
    if (b->err)
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "message too large");
    gpgme_free(p);
    return rc;
}

/* entity (CRLF MIME entity) -> multipart/signed or multipart/encrypted body
 * (headers from Content-Type on) appended to out. */
static int protect(const char *home, const char *sign_fpr, const char *enc_fpr, const lia_buf *entity,
                   lia_buf *out, int *did_sign, int *did_enc, lia_error *err)
{
    gpgme_ctx_t ctx;
    gpgme_key_t skey = NULL, rkey = NULL;
    gpgme_data_t in = NULL, res = NULL;
    gpgme_error_t e;
    char bnd[40];
    int rc;
    *did_sign = *did_enc = 0;
    if ((rc = gpg_ctx(home, &ctx, err)))
        return rc;
    if (sign_fpr && *sign_fpr) {
        if ((e = gpgme_get_key(ctx, sign_fpr, &skey, 1))) {
            rc = lia_error_set(err, LIA_ECRYPTO, "sign_key", sign_fpr, strlen(sign_fpr),
                               "our signing key is not in the keyring: %s", gpgme_strerror(e));
            goto out;
        }
        if ((e = gpgme_signers_add(ctx, skey))) {
            rc = gpg_err(err, "signing key", e);
            goto out;
        }
    }
    if (enc_fpr && *enc_fpr) {
        if ((e = gpgme_get_key(ctx, enc_fpr, &rkey, 0))) {
            rc = lia_error_set(err, LIA_ECRYPTO, "pgp_fingerprint", enc_fpr, strlen(enc_fpr),
                               "the recipient's key is not in the keyring (import it with gpg --import): %s",
                               gpgme_strerror(e));
            goto out;
        }
    }
    if ((e = gpgme_data_new_from_mem(&in, entity->ptr, entity->len, 0)) || (e = gpgme_data_new(&res))) {
        rc = gpg_err(err, "gpgme data", e);
        goto out;
    }
    boundary(bnd);
    if (rkey) {
        gpgme_key_t keys[2] = {rkey, NULL};
        gpgme_encrypt_result_t er;
        e = skey ? gpgme_op_encrypt_sign(ctx, keys, GPGME_ENCRYPT_ALWAYS_TRUST, in, res)
                 : gpgme_op_encrypt(ctx, keys, GPGME_ENCRYPT_ALWAYS_TRUST, in, res);
        er = gpgme_op_encrypt_result(ctx);
        if (!e && er && er->invalid_recipients)
            e = er->invalid_recipients->reason ? er->invalid_recipients->reason : GPG_ERR_UNUSABLE_PUBKEY;
        if (!e && skey) {
            gpgme_sign_result_t sr = gpgme_op_sign_result(ctx);
            if (!sr || sr->invalid_signers || !sr->signatures)
                e = GPG_ERR_UNUSABLE_SECKEY;
        }
        if (e) {
            rc = gpg_err(err, skey ? "sign and encrypt" : "encrypt", e);
            goto out;
        }
        lia_buf_printf(out,
                       "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n"
                       " boundary=\"%s\"\r\n\r\n"
                       "This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n"
                       "--%s\r\nContent-Type: application/pgp-encrypted\r\n"
                       "Content-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n"
                       "--%s\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
                       "Content-Description: OpenPGP encrypted message\r\n"
                       "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n",
                       bnd, bnd, bnd);
        rc = data_out(res, out, err);
        res = NULL;
        lia_buf_printf(out, "\r\n--%s--\r\n", bnd);
        *did_enc = 1;
        *did_sign = skey != NULL;
    } else if (skey) {
        gpgme_sign_result_t sr;
        const char *alg;
        char micalg[32];
        if ((e = gpgme_op_sign(ctx, in, res, GPGME_SIG_MODE_DETACH))) {
            rc = gpg_err(err, "sign", e);
            goto out;
        }
        sr = gpgme_op_sign_result(ctx);
        if (!sr || sr->invalid_signers || !sr->signatures) {
            rc = gpg_err(err, "sign", GPG_ERR_UNUSABLE_SECKEY);
            goto out;
        }
        alg = gpgme_hash_algo_name(sr->signatures->hash_algo);
        snprintf(micalg, sizeof micalg, "pgp-%s", alg ? alg : "sha256");
        for (char *c = micalg; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c + 32);
        lia_buf_printf(out,
                       "Content-Type: multipart/signed; micalg=%s;\r\n"
                       " protocol=\"application/pgp-signature\"; boundary=\"%s\"\r\n\r\n"
                       "This is an OpenPGP/MIME signed message (RFC 3156).\r\n--%s\r\n",
                       micalg, bnd, bnd);
        lia_buf_append(out, entity->ptr, entity->len);
        lia_buf_printf(out,
                       "\r\n--%s\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
                       "Content-Description: OpenPGP digital signature\r\n"
                       "Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n",
                       bnd);
        rc = data_out(res, out, err);
        res = NULL;
        lia_buf_printf(out, "\r\n--%s--\r\n", bnd);
        *did_sign = 1;
    } else {
        lia_buf_append(out, entity->ptr, entity->len);
    }
out:
    gpgme_data_release(in);
    gpgme_data_release(res);
    if (skey)
        gpgme_key_unref(skey);
    if (rkey)
        gpgme_key_unref(rkey);
    gpgme_release(ctx);
    return rc;
}

/* ---- SMTP (libcurl) ---- */

typedef struct upload {
    const char *p;
    size_t left;
} upload;

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
    upload *u = ud;
    size_t n = size * nmemb < u->left ? size * nmemb : u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static int smtp_send(const char *url, const char *from, const lia_strlist *to, const lia_buf *msg,
                     const char *user, const char *pass, char *errbuf)
{
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    upload u = {msg->ptr, msg->len};
    char addr[512];
    CURLcode r;
    if (!c) {
        snprintf(errbuf, CURL_ERROR_SIZE, "curl_easy_init failed");
        return LIA_ENOMEM;
    }
    errbuf[0] = '\0';
    snprintf(addr, sizeof addr, "<%s>", from);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, addr);
    for (size_t i = 0; i < to->n; i++) {
        struct curl_slist *n;
        snprintf(addr, sizeof addr, "<%s>", to->v[i]);
        if (!(n = curl_slist_append(rcpt, addr))) {
            curl_slist_free_all(rcpt);
            curl_easy_cleanup(c);
            return LIA_ENOMEM;
        }
        rcpt = n;
    }
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len);
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (user && *user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, user);
        if (pass)
            curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
    }
    r = curl_easy_perform(c);
    if (r != CURLE_OK && !errbuf[0])
        snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(r));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return r == CURLE_OK ? LIA_OK : LIA_ENET;
}

/* ---- the run ---- */

typedef struct pending {
    char *recipient;
    uint64_t n;
} pending;

static const char *cfg(const lia_route *rt, const char *given, const char *name, const char *dflt)
{
    const char *v;
    if (given)
        return given;
    v = lia_route_setting(rt, name);
    return v ? v : dflt;
}

static int load_template(const char *dir, const char *lang, lia_buf *out)
{
    char path[4096];
    FILE *f;
    char tmp[8192];
    size_t n;
    snprintf(path, sizeof path, "%s/%s/digest.txt", dir, lang);
    if (!(f = fopen(path, "rb")))
        return LIA_ENOTFOUND;
    lia_buf_init(out, LIA_MAX_TEMPLATE);
    lia_buf_append(out, "", 0);
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        lia_buf_append(out, tmp, n);
    fclose(f);
    if (out->err) {
        lia_buf_free(out);
        return LIA_ELIMIT;
    }
    return LIA_OK;
}

static void fmt_rfc5322(int64_t us, char *out, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    gmtime_r(&t, &tm);
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The channels a recipient's events must go through before route_decision
 * counts them as notified: "email" and each taxii:ROOT/COLLECTION, as a
 * JSON array (for json_each). */
typedef struct chset {
    lia_buf json;
    size_t n;
} chset;

/* Record one delivery attempt on channel. Sent: the events are marked
 * delivered on that channel, and notified in route_decision once every
 * channel of req has delivered them. in_tx: the caller holds a transaction. */
static int record(sqlite3 *db, const char *rcpt, const char *to, const char *channel, const chset *req,
                  int in_tx, int64_t at, const char *msgid, const digest *d, const char *outcome,
                  int attempts, const char *error, int sig, int enc, const char *lang, size_t bytes,
                  int64_t *nid, lia_error *err)
{
    sqlite3_stmt *st = NULL, *ev = NULL, *upd = NULL, *deny = NULL, *dl = NULL;
    int64_t reason_id = 0;
    int rc = LIA_OK, sent = strcmp(outcome, "sent") == 0;
    if (!in_tx && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
        return lia_sqlite_error(db, err, "recording a notification");
    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO notification(recipient,rcpt_to,at,message_id,events,outcome,attempts,error,"
            "signed,encrypted,language,bytes,channel) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
            -1, &st, NULL) ||
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO notification_event VALUES(?,?)", -1, &ev, NULL) ||
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO notification_delivery VALUES(?1,?2,?3,?4)", -1, &dl,
                           NULL) ||
        sqlite3_prepare_v2(
            db,
            "UPDATE route_decision SET notified=?1, notification_id=?2 WHERE event_id=?3 AND recipient=?4"
            " AND (SELECT count(*) FROM notification_delivery x WHERE x.recipient=?4 AND x.event_id=?3"
            " AND x.channel IN (SELECT value FROM json_each(?5))) >= ?6",
            -1, &upd, NULL) ||
        sqlite3_prepare_v2(db,
                           "UPDATE route_decision SET verdict=2, reason=? WHERE event_id=? AND recipient=?"
                           " AND notification_id IS NULL",
                           -1, &deny, NULL)) {
        rc = lia_sqlite_error(db, err, "recording a notification");
        goto out;
    }
    sqlite3_bind_text(st, 1, rcpt, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_text(st, 4, msgid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)d->n);
    sqlite3_bind_text(st, 6, outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, attempts);
    sqlite3_bind_text(st, 8, error, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, sig);
    sqlite3_bind_int(st, 10, enc);
    sqlite3_bind_text(st, 11, lang, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)bytes);
    sqlite3_bind_text(st, 13, channel, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = lia_sqlite_error(db, err, "recording a notification");
        goto out;
    }
    *nid = sqlite3_last_insert_rowid(db);
    for (size_t i = 0; i < d->n; i++) {
        sqlite3_reset(ev);
        sqlite3_bind_int64(ev, 1, *nid);
        sqlite3_bind_int64(ev, 2, d->ids[i]);
        if (sqlite3_step(ev) != SQLITE_DONE) {
            rc = lia_sqlite_error(db, err, "recording a notification");
            goto out;
        }
        if (!sent)
            continue;
        sqlite3_reset(dl);
        sqlite3_bind_int64(dl, 1, d->ids[i]);
        sqlite3_bind_text(dl, 2, rcpt, -1, SQLITE_STATIC);
        sqlite3_bind_text(dl, 3, channel, -1, SQLITE_STATIC);
        sqlite3_bind_int64(dl, 4, *nid);
        if (sqlite3_step(dl) != SQLITE_DONE) {
            rc = lia_sqlite_error(db, err, "recording a notification");
            goto out;
        }
        sqlite3_reset(upd);
        sqlite3_bind_int64(upd, 1, at);
        sqlite3_bind_int64(upd, 2, *nid);
        sqlite3_bind_int64(upd, 3, d->ids[i]);
        sqlite3_bind_text(upd, 4, rcpt, -1, SQLITE_STATIC);
        sqlite3_bind_text(upd, 5, lia_buf_cstr(&req->json), -1, SQLITE_STATIC);
        sqlite3_bind_int64(upd, 6, (sqlite3_int64)(req->n ? req->n : 1));
        if (sqlite3_step(upd) != SQLITE_DONE) {
            rc = lia_sqlite_error(db, err, "recording a notification");
            goto out;
        }
    }
    if (d->nwithheld) {
        lia__rcache c;
        c.n = 0;
        if ((rc = lia__route_reason_id(db, &c, "refused by the TLP policy when the digest was built",
                                       &reason_id, err)))
            goto out;
    }
    for (size_t i = 0; i < d->nwithheld; i++) {
        sqlite3_reset(deny);
        sqlite3_bind_int64(deny, 1, reason_id);
        sqlite3_bind_int64(deny, 2, d->withheld[i]);
        sqlite3_bind_text(deny, 3, rcpt, -1, SQLITE_STATIC);
        if (sqlite3_step(deny) != SQLITE_DONE) {
            rc = lia_sqlite_error(db, err, "recording a notification");
            goto out;
        }
    }
out:
    sqlite3_finalize(st);
    sqlite3_finalize(ev);
    sqlite3_finalize(upd);
    sqlite3_finalize(deny);
    sqlite3_finalize(dl);
    if (!in_tx)
        sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    return rc;
}

static int last_sent(sqlite3 *db, const char *rcpt, int64_t *at, lia_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT coalesce(max(at),0) FROM notification WHERE recipient=? AND outcome='sent'"
                           " AND channel='email'",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "reading notifications");
    sqlite3_bind_text(st, 1, rcpt, -1, SQLITE_STATIC);
    *at = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return LIA_OK;
}

/* Build the digest's events: pending ids, TLP re-check, redaction. */
static int gather(lia_store *s, sqlite3 *db, digest *d, const char *rcpt, const char *channel, lia_error *err)
{
    sqlite3_stmt *st;
    lia_recipient r;
    int rc = LIA_OK, step;
    lia_event raw;
    lia_route_recipient(d->rt, d->idx, &r);
    if (sqlite3_prepare_v2(db,
                           "SELECT event_id FROM route_decision r WHERE recipient=?1 AND verdict=1"
                           " AND notification_id IS NULL AND NOT EXISTS(SELECT 1 FROM notification_delivery x"
                           " WHERE x.recipient=?1 AND x.channel=?3 AND x.event_id=r.event_id)"
                           " ORDER BY event_id LIMIT ?2",
                           -1, &st, NULL))
        return lia_sqlite_error(db, err, "reading route decisions");
    sqlite3_bind_text(st, 1, rcpt, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, LIA_MAX_DIGEST_EVENTS);
    sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
    lia_event_init(&raw);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *why;
        int owner;
        rc = lia_store_event_get(s, id, &raw, err);
        if (rc == LIA_ENOTFOUND) {
            rc = LIA_OK;
            continue; /* the event is gone from the store */
        }
        if (rc)
            break;
        owner = lia_route_owner(d->rt, &raw, NULL);
        if (!lia_tlp_allows(&r, &raw, owner >= 0 ? lia_route_party(d->rt, owner)->id : NULL, &why)) {
            int64_t *nw = realloc(d->withheld, (d->nwithheld + 1) * sizeof *nw);
            if (!nw) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                break;
            }
            d->withheld = nw;
            d->withheld[d->nwithheld++] = id;
            continue;
        }
        if (d->n == d->cap) {
            size_t nc = d->cap ? d->cap * 2 : 64;
            lia_event *ne = realloc(d->ev, nc * sizeof *ne);
            int64_t *ni;
            if (!ne) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                break;
            }
            d->ev = ne;
            for (size_t k = d->cap; k < nc; k++)
                lia_event_init(&d->ev[k]);
            d->cap = nc;
            if (!(ni = realloc(d->ids, nc * sizeof *ni))) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                break;
            }
            d->ids = ni;
        }
        if ((rc = lia_route_redact(d->rt, d->idx, &raw, &d->ev[d->n], err)))
            break;
        d->ids[d->n++] = id;
    }
    if (rc == LIA_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = lia_sqlite_error(db, err, "reading route decisions");
    sqlite3_finalize(st);
    lia_event_free(&raw);
    return rc;
}

static int email_digest(lia_store *s, sqlite3 *db, const lia_route *rt, const lia_notify_opts *o,
                        const char *rcpt, const chset *req, int64_t now, lia_notify_cb cb, void *ud,
                        int *failed, lia_error *err)
{
    digest d;
    lia_notify_result res;
    lia_strlist to = {0};
    lia_buf tmpl, subject, body, csv, js, entity, msg, toline;
    const char *colon = strchr(rcpt, ':');
    int kind, rc = LIA_OK, idx, sig = 0, enc = 0, attempts = 0;
    int64_t last = 0, interval = 3600, nid = 0;
    const char *iv, *from, *url, *home, *skey, *lang = "en", *nl;
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
    if (!colon)
        goto out;
    kind = strncmp(rcpt, "owner:", 6) == 0 ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER;
    idx = lia_route_party_find(rt, kind, colon + 1);
    if (idx < 0) {
        res.outcome = "skipped";
        res.error = "recipient is no longer in the directory";
        goto report;
    }
    d.rt = rt;
    d.idx = idx;
    d.p = lia_route_party(rt, idx);
    iv = lia_party_get(d.p, LIA_PF_INTERVAL);
    if (iv)
        interval = strtoll(iv, NULL, 10);
    else if ((iv = lia_route_setting(rt, "digest_interval")) &&
             lia_parse_duration(iv, strlen(iv), &interval, NULL))
        interval = 3600;
    if ((rc = last_sent(db, rcpt, &last, err)))
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
        if (load_template(o->templates, l, &tmpl) == LIA_OK) {
            lang = l;
            break;
        }
        if (k < sizeof primary && l[k]) {
            memcpy(primary, l, k);
            primary[k] = '\0';
            if (load_template(o->templates, primary, &tmpl) == LIA_OK) {
                lang = d.p->f[LIA_PF_LANGUAGES].v[i];
                break;
            }
        }
    }
    if (!tmpl.ptr && (rc = load_template(o->templates, "en", &tmpl))) {
        rc = lia_error_set(err, rc == LIA_ELIMIT ? LIA_ELIMIT : LIA_ENOTFOUND, NULL, o->templates,
                           strlen(o->templates), "no usable template en/digest.txt in this directory");
        goto out;
    }
    res.language = lang;
    d.lang = lang;
    if ((rc = gather(s, db, &d, rcpt, "email", err)))
        goto out;
    res.events = d.n;
    res.withheld = d.nwithheld;
    if (d.n == 0) {
        if (req->n > 1 && !d.nwithheld)
            goto out; /* the other channels still have some to deliver */
        res.outcome = "skipped";
        res.error = d.nwithheld ? "every pending event is now refused by the TLP policy" : "no pending event";
        if (d.nwithheld && !o->dry_run)
            rc = record(db, rcpt, res.to, "email", req, 0, now, "", &d, "withheld", 0, res.error, 0, 0, lang,
                        0, &nid, err);
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
        if ((rc = lia_tmpl_render(t, tmpl.len, &v, &all, err))) {
            char src[300];
            snprintf(src, sizeof src, "%s/%s/digest.txt", o->templates, lang);
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
    attachments(&d, &csv, &js);
    boundary(bnd);
    lia_buf_printf(&entity, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", bnd);
    part(&entity, bnd, "text/plain; charset=utf-8", NULL, body.ptr, body.len);
    part(&entity, bnd, "text/csv; charset=utf-8; name=\"events.csv\"", "events.csv", csv.ptr, csv.len);
    part(&entity, bnd, "application/json; name=\"events.json\"", "events.json", js.ptr, js.len);
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
        fmt_rfc5322(now, date, sizeof date);
    }
    res.message_id = msgid;
    lia_buf_printf(&msg, "From: %s\r\nTo: %s\r\nSubject: ", from ? from : "liaison@localhost", res.to);
    header_text(&msg, lia_buf_cstr(&subject));
    lia_buf_printf(&msg, "\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\nX-Liaison-Events: %zu\r\n",
                   date, msgid, d.n);
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
    rc = protect(home, skey, lia_party_get(d.p, LIA_PF_PGP), &entity, &msg, &sig, &enc, err);
    if (rc) {
        /* never send in clear what should have been protected: record, go on */
        res.outcome = "failed";
        lia_error_format(err, errbuf, sizeof errbuf);
        res.error = errbuf;
        rc = LIA_OK;
        *failed = 1;
        lia_error_clear(err);
        rc = record(db, rcpt, res.to, "email", req, 0, now, msgid, &d, "failed", 0, res.error, 0, 0, lang, 0,
                    &nid, err);
        goto report;
    }
    url = cfg(rt, o->smtp_url, "smtp_url", "smtp://127.0.0.1:25");
    {
        int tries = o->tries;
        int64_t backoff = o->backoff_ms;
        const char *user = lia_route_setting(rt, "smtp_user"),
                   *penv = lia_route_setting(rt, "smtp_password_env");
        if (!tries) {
            const char *t = lia_route_setting(rt, "smtp_tries");
            tries = t ? t[0] - '0' : 3;
        }
        if (tries > LIA_MAX_SMTP_TRIES)
            tries = LIA_MAX_SMTP_TRIES;
        if (!backoff) {
            const char *b = lia_route_setting(rt, "smtp_backoff");
            int64_t secs;
            backoff = b && lia_parse_duration(b, strlen(b), &secs, NULL) == LIA_OK ? secs * 1000 : 2000;
        }
        for (attempts = 1;; attempts++) {
            rc = smtp_send(url, from, &to, &msg, user, penv ? getenv(penv) : NULL, errbuf);
            if (rc == LIA_OK || attempts >= tries)
                break;
            usleep((useconds_t)(backoff * 1000));
            backoff *= 2;
        }
    }
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
    rc = record(db, rcpt, res.to, "email", req, 0, now, msgid, &d, res.outcome, attempts, errbuf, sig, enc,
                lang, msg.len, &nid, err);
report:
    res.notification_id = nid;
    if (rc == LIA_OK && cb && res.outcome)
        rc = cb(ud, &res);
out:
    for (size_t i = 0; i < to.n; i++)
        free(to.v[i]);
    free(to.v);
    digest_free(&d);
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

/* ---- TAXII delivery (our own server) ---- */

static int to_buf(void *ud, const char *p, size_t n)
{
    return lia_buf_append(ud, p, n);
}

typedef struct grant_ctx {
    lia_store *s;
    const lia_channel *ch;
    size_t n;
    lia_error *err;
} grant_ctx;

static int grant_cb(void *ud, int64_t org_id, const char *name)
{
    grant_ctx *g = ud;
    (void)name;
    g->n++;
    return lia_taxii_grant(g->s, g->ch->api_root, g->ch->collection, org_id, 1, 0, g->err);
}

/* The collection of ch, created if missing (and its API root). */
static int ensure_collection(lia_store *s, const lia_party *p, const lia_channel *ch, lia_taxii_collection *c,
                             lia_error *err)
{
    const char *name = lia_party_get(p, LIA_PF_NAME);
    int rc = lia_taxii_init(s, err);
    if (rc == LIA_OK)
        rc = lia_taxii_collection_get(s, ch->api_root, ch->collection, c, err);
    if (rc != LIA_ENOTFOUND)
        return rc;
    lia_error_clear(err);
    if ((rc = lia_taxii_api_root_ensure(s, ch->api_root, "Partner deliveries", err)))
        return rc;
    lia_taxii_collection_defaults(c);
    snprintf(c->api_root, sizeof c->api_root, "%s", ch->api_root);
    snprintf(c->id, sizeof c->id, "%s", ch->collection);
    snprintf(c->title, sizeof c->title, "Liaison deliveries for %s (partner %s)", name ? name : p->id, p->id);
    snprintf(c->description, sizeof c->description,
             "Events routed to partner %s, TLP policy applied, added by liaison notify run", p->id);
    c->own_write = 0; /* the delivery writes; nobody POSTs into it */
    c->allow_write = 0;
    if ((rc = lia_taxii_collection_add(s, c, err)))
        return rc;
    return lia_taxii_collection_get(s, ch->api_root, ch->collection, c, err);
}

/* SCOs carry no created/modified: their version would be the date added, so
 * the same address delivered twice would make a new version each time. */
static int is_sco(json_t *o)
{
    return !json_object_get(o, "created") && !json_object_get(o, "modified");
}

/* Export d's events at ev[from..to) as one bundle into b. */
static int export_batch(const digest *d, const char *producer, int64_t now, size_t from, size_t to,
                        lia_buf *b, size_t *unexportable, lia_error *err)
{
    lia_stix_export *x = NULL;
    lia_stix_opts so;
    int rc;
    memset(&so, 0, sizeof so);
    so.producer = producer;
    so.now_us = now;
    lia_buf_reset(b);
    if ((rc = lia_stix_export_create(&so, to_buf, b, &x, err)))
        return rc;
    for (size_t i = from; i < to && rc == LIA_OK; i++) {
        rc = lia_stix_export_add(x, &d->ev[i], err);
        if (rc == LIA_ENOTFOUND) {
            (*unexportable)++;
            lia_error_clear(err);
            rc = LIA_OK;
        }
    }
    if (rc == LIA_OK)
        rc = lia_stix_export_finish(x, err);
    lia_stix_export_destroy(x);
    if (rc == LIA_OK && b->err)
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "STIX bundle too large");
    return rc;
}

/* Add the objects of bundle b to collection c. */
static int put_bundle(lia_store *s, const lia_taxii_collection *c, const lia_buf *b, size_t *objects,
                      char *bundle_id, size_t idn, lia_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(b->ptr, b->len, 0, &je), *arr, *o;
    size_t i;
    int rc = LIA_OK;
    if (!root)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "STIX bundle: %s", je.text);
    arr = json_object_get(root, "objects");
    if (!bundle_id[0] && json_is_string(json_object_get(root, "id")))
        snprintf(bundle_id, idn, "%s", json_string_value(json_object_get(root, "id")));
    json_array_foreach(arr, i, o)
    {
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *id = json_string_value(json_object_get(o, "id"));
        char *txt;
        int yes = 0;
        if (!type || !id) {
            rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "STIX object without type or id");
            break;
        }
        if (is_sco(o)) {
            if ((rc = lia_taxii_object_exists(s, c, id, &yes, err)))
                break;
            if (yes)
                continue;
        }
        if (!(txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            break;
        }
        /* our identity carries no marking: it is not secret */
        rc = lia_taxii_collection_add_object(s, c->api_root, c->id, txt, strlen(txt),
                                             strcmp(type, "identity") == 0 ? LIA_TLP_CLEAR : -1, 0, 0, err);
        free(txt);
        if (rc)
            break;
        (*objects)++;
    }
    json_decref(root);
    return rc;
}

/* ---- TAXII push (a partner's own server) ---- */

/* Environment variable holding the bearer token for partner id:
 * LIAISON_TAXII_TOKEN_ + the id upper-cased, '-' and '.' as '_'. */
static void token_env(const char *id, char *out, size_t n)
{
    size_t k = (size_t)snprintf(out, n, "LIAISON_TAXII_TOKEN_");
    for (; *id && k + 1 < n; id++)
        out[k++] = *id >= 'a' && *id <= 'z' ? (char)(*id - 32) : (*id == '-' || *id == '.') ? '_' : *id;
    out[k] = '\0';
}

static size_t body_cb(char *p, size_t sz, size_t n, void *ud)
{
    lia_buf *b = ud;
    return lia_buf_append(b, p, sz * n) == LIA_OK ? sz * n : 0;
}

/* A bearer token goes over plain HTTP only to this machine (tests, a local
 * relay); to anyone else it would travel in clear text. */
static int plain_http_remote(const char *url)
{
    static const char *const local[] = {"127.0.0.1", "localhost", "[::1]"};
    const char *h = url + 7, *e;
    if (strncmp(url, "http://", 7) != 0)
        return 0;
    e = *h == '[' ? strchr(h, ']') : h + strcspn(h, ":/");
    if (!e)
        return 1;
    if (*h == '[')
        e++;
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        if ((size_t)(e - h) == strlen(local[i]) && strncmp(h, local[i], (size_t)(e - h)) == 0)
            return 0;
    return 1;
}

/* POST the objects of bundle b to the collection URL of ch, as a TAXII 2.1
 * envelope. LIA_OK when the server accepted every object (status 202,
 * failure_count 0); else LIA_ENET / LIA_EPARSE with the server's answer. */
static int push_envelope(const lia_channel *ch, const char *party_id, const lia_buf *b, size_t *objects,
                         char *bundle_id, size_t idn, lia_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(b->ptr, b->len, 0, &je), *env = NULL, *st = NULL;
    char url[LIA_MAX_URL + 16], var[128], auth[1024], cerr[CURL_ERROR_SIZE] = "";
    const char *tok;
    char *body = NULL;
    struct curl_slist *hs = NULL;
    lia_buf resp;
    CURL *c = NULL;
    long status = 0;
    size_t nobj;
    int rc = LIA_OK;
    lia_buf_init(&resp, 16u << 20); /* the status lists every object */
    if (!root) {
        rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "STIX bundle: %s", je.text);
        goto out;
    }
    if (!bundle_id[0] && json_is_string(json_object_get(root, "id")))
        snprintf(bundle_id, idn, "%s", json_string_value(json_object_get(root, "id")));
    nobj = json_array_size(json_object_get(root, "objects"));
    if (!(env = json_object()) || json_object_set(env, "objects", json_object_get(root, "objects")) ||
        !(body = json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    snprintf(url, sizeof url, "%.*s%sobjects/", (int)ch->value_len, ch->value,
             ch->value_len && ch->value[ch->value_len - 1] == '/' ? "" : "/");
    token_env(party_id, var, sizeof var);
    tok = getenv(var);
    if (tok && *tok && plain_http_remote(url)) {
        rc = lia_error_set(err, LIA_EINVAL, "channels", url, strlen(url),
                           "refusing to send the API key in $%s over plain HTTP to another machine; use https",
                           var);
        goto out;
    }
    if (!(c = curl_easy_init())) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "curl_easy_init failed");
        goto out;
    }
    hs = curl_slist_append(hs, "Accept: application/taxii+json;version=2.1");
    hs = curl_slist_append(hs, "Content-Type: application/taxii+json;version=2.1");
    if (tok && *tok) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
        hs = curl_slist_append(hs, auth);
        sodium_memzero(auth, sizeof auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    if (curl_easy_perform(c) != CURLE_OK) {
        rc = lia_error_set(err, LIA_ENET, "channels", url, strlen(url), "%s",
                           cerr[0] ? cerr : "transfer failed");
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    lia_buf_append(&resp, "", 0);
    if (status != 202) {
        rc = lia_error_set(err, LIA_ENET, "channels", url, strlen(url), "HTTP %ld%s%s: %.200s", status,
                           status == 401 || status == 403 ? ", set the partner's API key in $" : "",
                           status == 401 || status == 403 ? var : "", lia_buf_cstr(&resp));
        goto out;
    }
    st = json_loadb(resp.ptr, resp.len, 0, &je);
    {
        json_int_t fails = json_integer_value(json_object_get(st, "failure_count"));
        json_t *f0 = json_array_get(json_object_get(st, "failures"), 0);
        if (!json_is_object(st)) {
            rc = lia_error_set(err, LIA_EPARSE, "channels", url, strlen(url),
                               "202 without a TAXII status resource: %.200s", lia_buf_cstr(&resp));
            goto out;
        }
        if (fails > 0) {
            rc = lia_error_set(
                err, LIA_ENET, "channels", url, strlen(url),
                "the server refused %lld of %zu objects (first: %s: %s)", (long long)fails, nobj,
                json_string_value(json_object_get(f0, "id")) ? json_string_value(json_object_get(f0, "id"))
                                                             : "?",
                json_string_value(json_object_get(f0, "message"))
                    ? json_string_value(json_object_get(f0, "message"))
                    : "?");
            goto out;
        }
    }
    *objects += nobj;
out:
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(hs);
    free(body);
    json_decref(env);
    json_decref(root);
    json_decref(st);
    lia_buf_free(&resp);
    return rc;
}

static int taxii_delivery(lia_store *s, sqlite3 *db, const lia_route *rt, const lia_notify_opts *o,
                          const char *rcpt, int idx, const lia_channel *ch, const char *key, const chset *req,
                          int64_t now, lia_notify_cb cb, void *ud, int *failed, lia_error *err)
{
    digest d;
    lia_notify_result res;
    lia_taxii_collection c;
    lia_buf bundle, note;
    lia_error e;
    char bundle_id[128] = "", errbuf[LIA_ERR_REASON_MAX + LIA_ERR_VALUE_MAX + 256] = "";
    const char *producer = lia_route_setting(rt, "producer");
    size_t objects = 0, unexportable = 0;
    int64_t nid = 0;
    int rc = LIA_OK;
    memset(&d, 0, sizeof d);
    memset(&res, 0, sizeof res);
    lia_buf_init(&bundle, LIA_MAX_MESSAGE);
    lia_buf_init(&note, 4096);
    lia_buf_append(&note, "", 0);
    d.rt = rt;
    d.idx = idx;
    d.p = lia_route_party(rt, idx);
    res.recipient = rcpt;
    res.channel = key;
    res.to = key;
    res.language = "";
    res.message_id = "";
    res.error = "";
    if (!producer || !*producer)
        producer = "Liaison";
    if ((rc = gather(s, db, &d, rcpt, key, err)))
        goto out;
    res.events = d.n;
    res.withheld = d.nwithheld;
    if (d.n == 0) {
        if (!d.nwithheld)
            goto out; /* nothing pending on this channel */
        res.outcome = "skipped";
        res.error = "every pending event is now refused by the TLP policy";
        if (!o->dry_run)
            rc = record(db, rcpt, key, key, req, 0, now, "", &d, "withheld", 0, res.error, 0, 0, "", 0, &nid,
                        err);
        goto report;
    }
    if (o->dry_run) {
        if ((rc = export_batch(&d, producer, now, 0,
                               d.n < LIA_NOTIFY_TAXII_BATCH ? d.n : LIA_NOTIFY_TAXII_BATCH, &bundle,
                               &unexportable, err)))
            goto out;
        res.outcome = "dry-run";
        res.message = bundle.ptr;
        res.message_len = bundle.len;
        goto report;
    }
    lia_error_clear(&e);
    if (ch->kind == LIA_CHANNEL_TAXII_URL) {
        /* a partner's own server: POST each bundle's objects as an envelope */
        for (size_t at = 0; rc == LIA_OK && at < d.n; at += LIA_NOTIFY_TAXII_BATCH) {
            size_t to = d.n - at > LIA_NOTIFY_TAXII_BATCH ? at + LIA_NOTIFY_TAXII_BATCH : d.n;
            if ((rc = export_batch(&d, producer, now, at, to, &bundle, &unexportable, &e)) == LIA_OK)
                rc = push_envelope(ch, d.p->id, &bundle, &objects, bundle_id, sizeof bundle_id, &e);
        }
    } else {
        /* our own server, one transaction: the objects, the grants and the
         * record, or nothing */
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) {
            rc = lia_sqlite_error(db, err, "TAXII delivery");
            goto out;
        }
        rc = ensure_collection(s, d.p, ch, &c, &e);
        if (rc == LIA_OK) {
            grant_ctx g = {s, ch, 0, &e};
            rc = lia_accounts_orgs_of_party(s, LIA_ORG_PARTNER, d.p->id, grant_cb, &g, &e);
            if (rc == LIA_OK && g.n == 0)
                lia_buf_printf(
                    &note,
                    "no account organisation is linked to partner %s (liaison accounts org-link ORG %s):"
                    " only our own team can read the collection; ",
                    d.p->id, d.p->id);
        }
        for (size_t at = 0; rc == LIA_OK && at < d.n; at += LIA_NOTIFY_TAXII_BATCH) {
            size_t to = d.n - at > LIA_NOTIFY_TAXII_BATCH ? at + LIA_NOTIFY_TAXII_BATCH : d.n;
            if ((rc = export_batch(&d, producer, now, at, to, &bundle, &unexportable, &e)) == LIA_OK)
                rc = put_bundle(s, &c, &bundle, &objects, bundle_id, sizeof bundle_id, &e);
        }
        if (rc)
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); /* nothing of it stays */
    }
    res.attempts = 1;
    if (rc == LIA_OK) {
        int local = ch->kind == LIA_CHANNEL_TAXII;
        if (unexportable)
            lia_buf_printf(&note,
                           "%zu event(s) without an observable a STIX indicator can name: not exported; ",
                           unexportable);
        if (note.len >= 2 && note.ptr[note.len - 2] == ';')
            note.len -= 2;
        lia_buf_append(&note, "", 0);
        res.outcome = "sent";
        res.error = lia_buf_cstr(&note);
        res.objects = objects;
        res.message_id = bundle_id;
        rc = record(db, rcpt, key, key, req, local, now, bundle_id, &d, "sent", 1, res.error, 0, 0, "",
                    bundle.len, &nid, err);
        if (local && rc == LIA_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL))
            rc = lia_sqlite_error(db, err, "TAXII delivery");
        if (local && rc) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
    } else {
        /* recorded as failed, retried next run */
        lia_error_format(&e, errbuf, sizeof errbuf);
        res.outcome = "failed";
        res.error = errbuf;
        *failed = 1;
        rc = record(db, rcpt, key, key, req, 0, now, "", &d, "failed", 1, errbuf, 0, 0, "", 0, &nid, err);
    }
report:
    res.notification_id = nid;
    if (rc == LIA_OK && cb && res.outcome)
        rc = cb(ud, &res);
out:
    digest_free(&d);
    lia_buf_free(&bundle);
    lia_buf_free(&note);
    return rc;
}

/* Not delivered: a partner's own TAXII server or API. Said on each run. */
static int not_delivered(const char *rcpt, const char *key, const lia_channel *ch, lia_notify_cb cb, void *ud)
{
    lia_notify_result res;
    memset(&res, 0, sizeof res);
    res.recipient = rcpt;
    res.channel = key;
    res.to = key;
    res.language = "";
    res.message_id = "";
    res.outcome = "skipped";
    (void)ch;
    res.error = "delivery to a partner's API is not implemented: this channel is not delivered";
    return cb ? cb(ud, &res) : LIA_OK;
}

/* Events of rcpt that every channel of req has delivered, but that are not
 * marked notified yet (the recipient lost a channel since): mark them. */
static int settle(sqlite3 *db, const char *rcpt, const chset *req, int64_t now, lia_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = LIA_OK;
    if (sqlite3_prepare_v2(
            db,
            "UPDATE route_decision AS r SET notified=?3, notification_id=(SELECT max(notification_id)"
            " FROM notification_delivery x WHERE x.recipient=?1 AND x.event_id=r.event_id)"
            " WHERE recipient=?1 AND verdict=1 AND notification_id IS NULL AND"
            " (SELECT count(*) FROM notification_delivery x WHERE x.recipient=?1"
            " AND x.event_id=r.event_id AND x.channel IN (SELECT value FROM json_each(?2))) >= ?4",
            -1, &st, NULL))
        return lia_sqlite_error(db, err, "recording a notification");
    sqlite3_bind_text(st, 1, rcpt, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, lia_buf_cstr(&req->json), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(req->n ? req->n : 1));
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = lia_sqlite_error(db, err, "recording a notification");
    sqlite3_finalize(st);
    return rc;
}

/* Every channel of one recipient: TAXII collections first, then the e-mail
 * digest. */
static int one_recipient(lia_store *s, sqlite3 *db, const lia_route *rt, const lia_notify_opts *o,
                         const char *rcpt, int64_t now, lia_notify_cb cb, void *ud, int *failed,
                         lia_error *err)
{
    const char *colon = strchr(rcpt, ':');
    const lia_party *p;
    chset req;
    size_t ntaxii = 0;
    int idx, rc = LIA_OK, email = 0;
    lia_buf_init(&req.json, 1 << 20);
    req.n = 0;
    if (!colon)
        goto out;
    idx = lia_route_party_find(rt, strncmp(rcpt, "owner:", 6) == 0 ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER,
                               colon + 1);
    if (idx < 0) {
        lia_buf_puts(&req.json, "[\"email\"]");
        req.n = 1;
        rc = email_digest(s, db, rt, o, rcpt, &req, now, cb, ud, failed, err);
        goto out;
    }
    p = lia_route_party(rt, idx);
    email = p->f[LIA_PF_CONTACTS].n > 0;
    lia_buf_putc(&req.json, '[');
    for (size_t i = 0; i < p->f[LIA_PF_CHANNELS].n; i++) {
        const char *v = p->f[LIA_PF_CHANNELS].v[i];
        lia_channel ch;
        lia_error_clear(err);
        if (lia_channel_parse(p->id, v, strlen(v), &ch, err))
            continue; /* stored values were validated; reported below */
        if (ch.kind == LIA_CHANNEL_EMAIL)
            email = 1;
        if (ch.kind != LIA_CHANNEL_TAXII && ch.kind != LIA_CHANNEL_TAXII_URL)
            continue;
        lia_buf_printf(&req.json, "%s", req.n ? "," : "");
        lia_buf_json_str(&req.json, v, strlen(v));
        req.n++;
        ntaxii++;
    }
    if (email || !ntaxii) {
        lia_buf_printf(&req.json, "%s\"email\"", req.n ? "," : "");
        req.n++;
    }
    lia_buf_putc(&req.json, ']');
    lia_buf_append(&req.json, "", 0);
    lia_error_clear(err);
    for (size_t i = 0; i < p->f[LIA_PF_CHANNELS].n && rc == LIA_OK; i++) {
        const char *v = p->f[LIA_PF_CHANNELS].v[i];
        lia_channel ch;
        if (lia_channel_parse(p->id, v, strlen(v), &ch, err)) {
            /* a value stored before its syntax was checked: say so, go on */
            lia_notify_result res;
            char why[LIA_ERR_REASON_MAX + LIA_ERR_VALUE_MAX + 64];
            lia_error_format(err, why, sizeof why);
            lia_error_clear(err);
            memset(&res, 0, sizeof res);
            res.recipient = rcpt;
            res.channel = res.to = v;
            res.language = res.message_id = "";
            res.outcome = "failed";
            res.error = why;
            *failed = 1;
            rc = cb ? cb(ud, &res) : LIA_OK;
            continue;
        }
        if (ch.kind == LIA_CHANNEL_TAXII || ch.kind == LIA_CHANNEL_TAXII_URL)
            rc = taxii_delivery(s, db, rt, o, rcpt, idx, &ch, v, &req, now, cb, ud, failed, err);
        else if (ch.kind != LIA_CHANNEL_EMAIL)
            rc = not_delivered(rcpt, v, &ch, cb, ud);
    }
    if (rc == LIA_OK && (email || !ntaxii))
        rc = email_digest(s, db, rt, o, rcpt, &req, now, cb, ud, failed, err);
    if (rc == LIA_OK && !o->dry_run)
        rc = settle(db, rcpt, &req, now, err);
out:
    lia_buf_free(&req.json);
    return rc;
}

int lia_notify_run(lia_store *s, const lia_notify_opts *o, lia_notify_cb cb, void *ud, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "notification", err);
    sqlite3_stmt *st = NULL;
    lia_route *rt = NULL;
    pending *pv = NULL;
    size_t npv = 0;
    int rc, step, failed = 0;
    int64_t now = o->now_us ? o->now_us : wall_us();
    if (!db)
        return LIA_EUNSUPPORTED;
    if (!o->templates)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "no template directory");
    if ((rc = lia_route_schema(s, err)) || (rc = notify_schema(db, err)))
        return rc;
    if (sodium_init() < 0)
        return lia_error_set(err, LIA_ECRYPTO, NULL, NULL, 0, "libsodium failed to initialise");
    if ((rc = lia_route_load(s, &rt, err)))
        return rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT recipient, count(*) FROM route_decision WHERE verdict=1"
                           " AND notification_id IS NULL AND (?1 IS NULL OR recipient=?1)"
                           " GROUP BY recipient ORDER BY recipient",
                           -1, &st, NULL)) {
        rc = lia_sqlite_error(db, err, "reading route decisions");
        goto out;
    }
    if (o->only)
        sqlite3_bind_text(st, 1, o->only, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        pending *np = realloc(pv, (npv + 1) * sizeof *np);
        if (!np) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto out;
        }
        pv = np;
        pv[npv].recipient = strdup((const char *)sqlite3_column_text(st, 0));
        pv[npv].n = (uint64_t)sqlite3_column_int64(st, 1);
        if (!pv[npv++].recipient) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        rc = lia_sqlite_error(db, err, "reading route decisions");
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (size_t i = 0; i < npv && rc == LIA_OK; i++)
        rc = one_recipient(s, db, rt, o, pv[i].recipient, now, cb, ud, &failed, err);
    curl_global_cleanup();
    if (rc == LIA_OK && failed)
        rc = lia_error_set(err, LIA_ENET, NULL, NULL, 0,
                           "some deliveries failed (recorded; they are retried on the next run)");
out:
    sqlite3_finalize(st);
    for (size_t i = 0; i < npv; i++)
        free(pv[i].recipient);
    free(pv);
    lia_route_destroy(rt);
    return rc;
}

int lia_notify_taxii_access(lia_store *s, const char *party_id, int64_t org_id, int can_read, size_t *n,
                            lia_error *err)
{
    lia_party p;
    size_t k = 0;
    int rc;
    lia_party_init(&p, LIA_PARTY_PARTNER);
    rc = lia_party_get_one(s, LIA_PARTY_PARTNER, party_id, &p, err);
    if (rc == LIA_ENOTFOUND) { /* gone from the directory: no channel to follow */
        lia_error_clear(err);
        if (n)
            *n = 0;
        rc = LIA_OK;
        goto out;
    }
    if (rc || (rc = lia_taxii_init(s, err)))
        goto out;
    for (size_t i = 0; i < p.f[LIA_PF_CHANNELS].n && rc == LIA_OK; i++) {
        const char *v = p.f[LIA_PF_CHANNELS].v[i];
        lia_channel ch;
        lia_taxii_collection c;
        if (lia_channel_parse(p.id, v, strlen(v), &ch, err)) {
            lia_error_clear(err);
            continue;
        }
        if (ch.kind != LIA_CHANNEL_TAXII)
            continue;
        rc = lia_taxii_collection_get(s, ch.api_root, ch.collection, &c, err);
        if (rc == LIA_ENOTFOUND) {
            lia_error_clear(err);
            rc = LIA_OK;
            continue;
        }
        if (rc == LIA_OK &&
            (rc = lia_taxii_grant(s, ch.api_root, ch.collection, org_id, can_read, 0, err)) == LIA_OK)
            k++;
    }
    if (rc == LIA_OK && n)
        *n = k;
out:
    lia_party_free(&p);
    return rc;
}

int lia_notify_log(lia_store *s, uint64_t limit, lia_notification_cb cb, void *ud, lia_error *err)
{
    sqlite3 *db = lia_store_sqlite_for(s, "notification", err);
    sqlite3_stmt *st;
    int rc = LIA_OK, step;
    if (!db)
        return LIA_EUNSUPPORTED;
    if ((rc = lia_route_schema(s, err)) || (rc = notify_schema(db, err)))
        return rc;
    if (sqlite3_prepare_v2(
            db,
            "SELECT id,recipient,rcpt_to,message_id,outcome,error,language,at,events,attempts,signed,"
            "encrypted,channel FROM notification ORDER BY id DESC LIMIT ?",
            -1, &st, NULL))
        return lia_sqlite_error(db, err, "reading notifications");
    sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : -1);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        lia_notification n = {
            sqlite3_column_int64(st, 0),
            (const char *)sqlite3_column_text(st, 1),
            (const char *)sqlite3_column_text(st, 2),
            (const char *)sqlite3_column_text(st, 3),
            (const char *)sqlite3_column_text(st, 4),
            (const char *)sqlite3_column_text(st, 5),
            (const char *)sqlite3_column_text(st, 6),
            sqlite3_column_int64(st, 7),
            (uint64_t)sqlite3_column_int64(st, 8),
            sqlite3_column_int(st, 9),
            sqlite3_column_int(st, 10),
            sqlite3_column_int(st, 11),
            (const char *)sqlite3_column_text(st, 12),
        };
        if ((rc = cb(ud, &n)))
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = lia_sqlite_error(db, err, "reading notifications");
    sqlite3_finalize(st);
    return rc;
}
