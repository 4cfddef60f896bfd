/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* OpenPGP/MIME (RFC 3156) through gpgme: sign, encrypt, or both. */
#include <gpgme.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "notify/internal.h"

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
int lia__pgp_protect(const char *home, const char *sign_fpr, const char *enc_fpr, const lia_buf *entity,
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
    lia__mime_boundary(bnd);
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
