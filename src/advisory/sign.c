/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The provider's OpenPGP signatures (CSAF 2.0 requirement 19) and public
 * key (requirement 20), through gpgme as src/notify/pgp.c uses it. */
#include <gpgme.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "advisory/internal.h"

static int gpg_err(lia_error *err, const char *what, gpgme_error_t e)
{
    return lia_error_set(err, LIA_ECRYPTO, NULL, NULL, 0, "%s: %s", what, gpgme_strerror(e));
}

static int take(gpgme_data_t d, lia_buf *out, lia_error *err)
{
    size_t n;
    char *p = gpgme_data_release_and_get_mem(d, &n);
    if (!p)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_buf_append(out, p, n);
    gpgme_free(p);
    return out->err ? lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "signature or key too large") : LIA_OK;
}

int lia__advisory_sign(const char *home, const char *fpr, const char *data, size_t len, lia_buf *sig,
                       lia_buf *pubkey, char full_fpr[64], lia_error *err)
{
    gpgme_ctx_t ctx = NULL;
    gpgme_key_t key = NULL;
    gpgme_data_t in = NULL, out = NULL, kd = NULL;
    gpgme_error_t e;
    gpgme_sign_result_t sr;
    int rc = LIA_OK;
    static int inited;
    if (!inited) {
        gpgme_check_version(NULL);
        gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));
        inited = 1;
    }
    if ((e = gpgme_new(&ctx)))
        return gpg_err(err, "gpgme", e);
    if ((e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) ||
        (home && *home && (e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home)))) {
        rc = gpg_err(err, "gpgme engine", e);
        goto out;
    }
    gpgme_set_armor(ctx, 1);
    gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
    if ((e = gpgme_get_key(ctx, fpr, &key, 1))) {
        rc = lia_error_set(err, LIA_ECRYPTO, "sign_key", fpr, strlen(fpr),
                           "our signing key is not in the keyring: %s", gpgme_strerror(e));
        goto out;
    }
    snprintf(full_fpr, 64, "%s", key->fpr ? key->fpr : fpr);
    if ((e = gpgme_signers_add(ctx, key))) {
        rc = gpg_err(err, "signing key", e);
        goto out;
    }
    if ((e = gpgme_data_new_from_mem(&in, data, len, 0)) || (e = gpgme_data_new(&out)) ||
        (e = gpgme_data_new(&kd))) {
        rc = gpg_err(err, "gpgme data", e);
        goto out;
    }
    if ((e = gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_DETACH))) {
        rc = gpg_err(err, "sign", e);
        goto out;
    }
    sr = gpgme_op_sign_result(ctx);
    if (!sr || sr->invalid_signers || !sr->signatures) {
        rc = gpg_err(err, "sign", GPG_ERR_UNUSABLE_SECKEY);
        goto out;
    }
    rc = take(out, sig, err);
    out = NULL;
    if (rc)
        goto out;
    if ((e = gpgme_op_export(ctx, full_fpr, 0, kd))) {
        rc = gpg_err(err, "exporting our public key", e);
        goto out;
    }
    rc = take(kd, pubkey, err);
    kd = NULL;
out:
    gpgme_data_release(in);
    gpgme_data_release(out);
    gpgme_data_release(kd);
    if (key)
        gpgme_key_unref(key);
    gpgme_release(ctx);
    return rc;
}
