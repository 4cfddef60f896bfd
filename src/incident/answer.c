/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Answer links (include/liaison/incident.h): made by the notifier for each
 * hand-off a digest carries, checked by `liaison serve` (src/api/answer.c).
 * The MAC is a 16-byte keyed BLAKE2b over "INCIDENT/RECIPIENT/ACTION/EXPIRY"
 * with a key derived from the server secret for this purpose only, so a key
 * of one use (API keys, cursors) never verifies another's tokens. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "accounts/internal.h"
#include "liaison/incident.h"
#include "liaison/route.h"

#define PREFIX  "/answer/"
#define MAC_LEN 16
#define MAC_B64 22 /* base64url of 16 bytes, no padding */
#define CONTEXT "liaison answer link v1"

static const char *const names[LIA_ANSWER__COUNT] = {"ack", "resolve", "reject"};
static const lia_handoff_state states[LIA_ANSWER__COUNT] = {LIA_HO_ACKNOWLEDGED, LIA_HO_RESOLVED,
                                                            LIA_HO_REJECTED};

const char *lia_answer_name(lia_answer a)
{
    return (unsigned)a < LIA_ANSWER__COUNT ? names[a] : NULL;
}

lia_handoff_state lia_answer_state(lia_answer a)
{
    return (unsigned)a < LIA_ANSWER__COUNT ? states[a] : LIA_HO__COUNT;
}

static int mac_of(lia_store *s, const char *signed_text, size_t n, unsigned char mac[MAC_LEN], lia_error *err)
{
    unsigned char key[32];
    int rc = lia__accounts_derive_key(s, CONTEXT, key, err);
    if (rc)
        return rc;
    crypto_generichash(mac, MAC_LEN, (const unsigned char *)signed_text, n, key, sizeof key);
    sodium_memzero(key, sizeof key);
    return LIA_OK;
}

int lia_answer_link(lia_store *s, int64_t incident, const char *recipient, lia_answer a, int64_t expires_us,
                    char out[LIA_ANSWER_PATH_MAX], lia_error *err)
{
    unsigned char mac[MAC_LEN];
    char text[128], b64[MAC_B64 + 1];
    int n, rc;
    if (incident <= 0 || !recipient || !lia_party_id_ok(recipient, strlen(recipient)) ||
        !lia_answer_name(a) || expires_us <= 0)
        return lia_error_set(err, LIA_EINVAL, "answer link", recipient, recipient ? strlen(recipient) : 0,
                             "an incident id, a recipient id and ack, resolve or reject");
    n = snprintf(text, sizeof text, "%lld/%s/%s/%lld", (long long)incident, recipient, names[a],
                 (long long)(expires_us / 1000000));
    if ((rc = mac_of(s, text, (size_t)n, mac, err)))
        return rc;
    sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, LIA_ANSWER_PATH_MAX, PREFIX "%s/%s", text, b64);
    return LIA_OK;
}

/* Decimal digits, 1 to 18, no leading zero: 1 with *v, else 0. */
static int number(const char *p, size_t n, int64_t *v)
{
    int64_t x = 0;
    if (n == 0 || n > 18 || p[0] == '0')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        x = x * 10 + (p[i] - '0');
    }
    *v = x;
    return 1;
}

int lia_answer_check(lia_store *s, const char *path, int64_t now_us, lia_answer_ref *out, lia_error *err)
{
    const char *seg[5], *p;
    size_t len[5], i, plen;
    unsigned char want[MAC_LEN], got[MAC_LEN];
    char wtext[MAC_B64 + 1];
    size_t bin = 0;
    int64_t exp_s = 0;
    int rc;
    memset(out, 0, sizeof *out);
    out->action = LIA_ANSWER__COUNT;
    plen = path ? strlen(path) : 0;
    if (plen < sizeof PREFIX || plen >= LIA_ANSWER_PATH_MAX || memcmp(path, PREFIX, sizeof PREFIX - 1) != 0)
        return lia_error_set(err, LIA_EAUTH, "answer link", NULL, 0, "not the shape of an answer link");
    p = path + sizeof PREFIX - 1;
    for (i = 0; i < 5; i++) {
        const char *e = strchr(p, '/');
        seg[i] = p;
        len[i] = e ? (size_t)(e - p) : strlen(p);
        if ((i < 4) != (e != NULL))
            return lia_error_set(err, LIA_EAUTH, "answer link", NULL, 0, "not the shape of an answer link");
        p = e ? e + 1 : p + len[i];
    }
    for (i = 0; i < LIA_ANSWER__COUNT; i++)
        if (strlen(names[i]) == len[2] && memcmp(names[i], seg[2], len[2]) == 0)
            out->action = (lia_answer)i;
    if (!number(seg[0], len[0], &out->incident) || !lia_party_id_ok(seg[1], len[1]) ||
        out->action == LIA_ANSWER__COUNT || !number(seg[3], len[3], &exp_s) || exp_s > INT64_MAX / 1000000 ||
        len[4] != MAC_B64 ||
        sodium_base642bin(got, sizeof got, seg[4], len[4], NULL, &bin, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        bin != MAC_LEN)
        return lia_error_set(err, LIA_EAUTH, "answer link", NULL, 0, "not the shape of an answer link");
    if ((rc = mac_of(s, path + sizeof PREFIX - 1, (size_t)(seg[4] - 1 - (path + sizeof PREFIX - 1)), want,
                     err)))
        return rc;
    /* compared as text: base64url has spare bits, so two texts can decode
     * to the same bytes; only the one text we make is a link */
    sodium_bin2base64(wtext, sizeof wtext, want, sizeof want, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (sodium_memcmp(wtext, seg[4], MAC_B64) != 0)
        return lia_error_set(err, LIA_EAUTH, "answer link", NULL, 0,
                             "its signature does not match: the link was changed, or is not ours");
    memcpy(out->recipient, seg[1], len[1]);
    out->recipient[len[1]] = '\0';
    out->expires_us = exp_s * 1000000;
    out->expired = now_us >= out->expires_us;
    return LIA_OK;
}
