/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* C2SP signed notes with Ed25519 keys: key strings (signer and verifier),
 * signature lines (note signatures, type 0x01, and timestamped cosignatures,
 * type 0x04, of C2SP tlog-cosignature v1), and opening a signed note. */
#include <sodium.h>
#include <string.h>

#include "liaison/audit.h"
#include "audit/log.h"

#define EM_DASH      "\xe2\x80\x94" /* U+2014, the start of a signature line */
#define COSIG_HEADER "cosignature/v1\ntime "

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= LIA_NOTE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == '+' || c == 0x7f)
            return 0;
    }
    return 1;
}

static uint32_t key_id(const char *name, uint8_t type, const uint8_t pub[32])
{
    crypto_hash_sha256_state st;
    uint8_t h[32];
    const uint8_t nl = '\n';
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name));
    crypto_hash_sha256_update(&st, &nl, 1);
    crypto_hash_sha256_update(&st, &type, 1);
    crypto_hash_sha256_update(&st, pub, 32);
    crypto_hash_sha256_final(&st, h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static int type_ok(uint8_t type)
{
    return type == LIA_NOTE_ED25519 || type == LIA_NOTE_COSIG;
}

static int init_sodium(lia_error *err)
{
    if (sodium_init() < 0)
        return lia_error_set(err, LIA_ECRYPTO, NULL, NULL, 0, "libsodium could not be initialised");
    return LIA_OK;
}

int lia__note_key_generate(const char *name, uint8_t type, lia_note_key *out, lia_error *err)
{
    lia_note_key k;
    if (init_sodium(err))
        return LIA_ECRYPTO;
    if (!name || !name_ok(name, strlen(name)))
        return lia_error_set(err, LIA_EINVAL, "key name", name, name ? strlen(name) : 0,
                             "a key name is 1 to %d bytes without spaces, '+' or control characters",
                             LIA_NOTE_NAME_MAX - 1);
    if (!type_ok(type))
        return lia_error_set(err, LIA_EINVAL, "key type", NULL, 0, "unknown signature type 0x%02x", type);
    memset(&k, 0, sizeof k);
    memcpy(k.name, name, strlen(name) + 1);
    crypto_sign_keypair(k.pub, k.sk);
    k.secret = 1;
    k.type = type;
    k.id = key_id(k.name, type, k.pub);
    *out = k;
    sodium_memzero(&k, sizeof k);
    return LIA_OK;
}

void lia_note_key_as(const lia_note_key *k, uint8_t type, lia_note_key *out)
{
    if (out != k)
        *out = *k;
    out->type = type;
    out->id = key_id(out->name, type, out->pub);
}

/* Split "name+hexid+base64" (the part after PRIVATE+KEY+ for a signer) and
 * decode it into name, id, type and 32 key bytes. */
static int parse_key(const char *s, size_t len, const char *what, lia_note_key *k, uint8_t key[32],
                     lia_error *err)
{
    const char *p1 = memchr(s, '+', len), *p2;
    uint8_t raw[33];
    size_t rawlen = 0;
    const char *end = NULL;
    uint32_t id = 0;
    if (!p1)
        goto bad;
    p2 = memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - s));
    if (!p2 || !name_ok(s, (size_t)(p1 - s)) || p2 - p1 - 1 != 8)
        goto bad;
    for (const char *h = p1 + 1; h < p2; h++) {
        int v = lia_hexval(*h);
        if (v < 0 || (*h >= 'A' && *h <= 'F')) /* lower-case hex only, as written */
            goto bad;
        id = id << 4 | (uint32_t)v;
    }
    if (sodium_base642bin(raw, sizeof raw, p2 + 1, len - (size_t)(p2 + 1 - s), NULL, &rawlen, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != s + len || rawlen != 33 || !type_ok(raw[0]))
        goto bad;
    memset(k, 0, sizeof *k);
    memcpy(k->name, s, (size_t)(p1 - s));
    k->type = raw[0];
    k->id = id;
    memcpy(key, raw + 1, 32);
    sodium_memzero(raw, sizeof raw);
    return LIA_OK;
bad:
    return lia_error_set(err, LIA_EPARSE, what, NULL, 0,
                         "expected NAME+8 hex digits+base64(type byte and 32-byte key)");
}

int lia__note_key_parse_signer(const char *skey, size_t len, lia_note_key *out, lia_error *err)
{
    static const char prefix[] = "PRIVATE+KEY+";
    lia_note_key k;
    uint8_t seed[32];
    int rc;
    if (init_sodium(err))
        return LIA_ECRYPTO;
    if (len < sizeof prefix - 1 || memcmp(skey, prefix, sizeof prefix - 1) != 0)
        return lia_error_set(err, LIA_EPARSE, "signer key", NULL, 0, "a signer key begins with PRIVATE+KEY+");
    rc = parse_key(skey + sizeof prefix - 1, len - (sizeof prefix - 1), "signer key", &k, seed, err);
    if (rc)
        return rc;
    crypto_sign_seed_keypair(k.pub, k.sk, seed);
    sodium_memzero(seed, sizeof seed);
    k.secret = 1;
    if (key_id(k.name, k.type, k.pub) != k.id) {
        sodium_memzero(&k, sizeof k);
        return lia_error_set(err, LIA_EPARSE, "signer key", NULL, 0,
                             "the key id does not match name and key");
    }
    *out = k;
    sodium_memzero(&k, sizeof k);
    return LIA_OK;
}

int lia_note_key_parse_verifier(const char *vkey, size_t len, lia_note_key *out, lia_error *err)
{
    lia_note_key k;
    int rc = parse_key(vkey, len, "verifier key", &k, k.pub, err);
    if (rc)
        return rc;
    if (key_id(k.name, k.type, k.pub) != k.id)
        return lia_error_set(err, LIA_EPARSE, "verifier key", vkey, len,
                             "the key id does not match name and key");
    *out = k;
    return LIA_OK;
}

static int append_b64(lia_buf *out, const uint8_t *bin, size_t n)
{
    char b64[256];
    if (sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL) > sizeof b64)
        return LIA_ELIMIT;
    sodium_bin2base64(b64, sizeof b64, bin, n, sodium_base64_VARIANT_ORIGINAL);
    return lia_buf_puts(out, b64);
}

static int format_key(const lia_note_key *k, const uint8_t key[32], lia_buf *out)
{
    uint8_t raw[33];
    raw[0] = k->type;
    memcpy(raw + 1, key, 32);
    lia_buf_printf(out, "%s+%08x+", k->name, k->id);
    append_b64(out, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    return out->err;
}

int lia__note_key_format_signer(const lia_note_key *k, lia_buf *out)
{
    if (!k->secret)
        return LIA_EINVAL;
    lia_buf_puts(out, "PRIVATE+KEY+");
    return format_key(k, k->sk, out); /* the first 32 bytes of sk are the seed */
}

int lia_note_key_format_verifier(const lia_note_key *k, lia_buf *out)
{
    return format_key(k, k->pub, out);
}

/* The bytes a key signs: the text itself, or the cosignature/v1 message. */
static int signed_message(const char *text, size_t len, uint8_t type, uint64_t ts, lia_buf *msg)
{
    if (type == LIA_NOTE_COSIG)
        lia_buf_printf(msg, COSIG_HEADER "%llu\n", (unsigned long long)ts);
    lia_buf_append(msg, text, len);
    return msg->err;
}

static int text_ok(const char *text, size_t len)
{
    if (len == 0 || text[len - 1] != '\n')
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20 && text[i] != '\n')
            return 0;
    return 1;
}

int lia_note_sign_line(const char *text, size_t len, const lia_note_key *k, uint64_t timestamp, lia_buf *out,
                       lia_error *err)
{
    lia_buf msg;
    uint8_t sig[4 + 8 + crypto_sign_BYTES];
    size_t off = 4;
    int rc = LIA_OK;
    if (init_sodium(err))
        return LIA_ECRYPTO;
    if (!k->secret)
        return lia_error_set(err, LIA_EINVAL, "key", k->name, strlen(k->name), "a verifier key cannot sign");
    if (!text_ok(text, len))
        return lia_error_set(err, LIA_EINVAL, "note", NULL, 0,
                             "a note text ends in a newline and holds no other control characters");
    if (k->type == LIA_NOTE_COSIG && timestamp > INT64_MAX)
        return lia_error_set(err, LIA_EINVAL, "timestamp", NULL, 0, "a cosignature time is below 2^63");
    lia_buf_init(&msg, LIA_NOTE_MAX + 64);
    if (signed_message(text, len, k->type, timestamp, &msg)) {
        rc = lia_error_set(err, LIA_ELIMIT, "note", NULL, 0, "a note is at most %u bytes", LIA_NOTE_MAX);
        goto out;
    }
    for (int i = 0; i < 4; i++)
        sig[i] = (uint8_t)(k->id >> (24 - 8 * i));
    if (k->type == LIA_NOTE_COSIG) {
        for (int i = 0; i < 8; i++)
            sig[4 + i] = (uint8_t)(timestamp >> (56 - 8 * i));
        off += 8;
    }
    crypto_sign_detached(sig + off, NULL, (const unsigned char *)msg.ptr, msg.len, k->sk);
    lia_buf_printf(out, EM_DASH " %s ", k->name);
    append_b64(out, sig, off + crypto_sign_BYTES);
    lia_buf_putc(out, '\n');
    if (out->err)
        rc = lia_error_set(err, out->err, "note", NULL, 0, "the signed note does not fit its buffer");
out:
    lia_buf_free(&msg);
    return rc;
}

int lia__note_sign(const char *text, size_t len, const lia_note_key *k, lia_buf *out, lia_error *err)
{
    if (!text_ok(text, len))
        return lia_error_set(err, LIA_EINVAL, "note", NULL, 0,
                             "a note text ends in a newline and holds no other control characters");
    lia_buf_append(out, text, len);
    lia_buf_putc(out, '\n');
    return lia_note_sign_line(text, len, k, 0, out, err);
}

static int bad_note(lia_error *err, const char *why)
{
    return lia_error_set(err, LIA_EPARSE, "signed note", NULL, 0, "%s", why);
}

int lia_note_open(const char *note, size_t len, const lia_note_key *keys, size_t nkeys, lia_note_opened *res,
                  lia_error *err)
{
    lia_note_opened r;
    size_t sep, pos;
    lia_buf msg;
    int rc = LIA_OK;
    if (init_sodium(err))
        return LIA_ECRYPTO;
    if (len > LIA_NOTE_MAX)
        return lia_error_set(err, LIA_ELIMIT, "signed note", NULL, 0, "a note is at most %u bytes",
                             LIA_NOTE_MAX);
    if (nkeys > 32)
        return lia_error_set(err, LIA_EINVAL, "keys", NULL, 0, "at most 32 known keys");
    if (len < 2 || note[len - 1] != '\n')
        return bad_note(err, "a signed note ends in a newline");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)note[i] < 0x20 && note[i] != '\n')
            return bad_note(err, "a signed note holds no control characters but newlines");
    /* The text ends at the last blank line ("\n\n"). */
    sep = len;
    for (size_t i = len - 1; i-- > 0;)
        if (note[i] == '\n' && note[i + 1] == '\n') {
            sep = i + 1;
            break;
        }
    if (sep == len)
        return bad_note(err, "no blank line before the signatures");
    memset(&r, 0, sizeof r);
    r.text_len = sep;
    lia_buf_init(&msg, LIA_NOTE_MAX + 64);
    for (pos = sep + 1; pos < len;) {
        const char *line = note + pos, *nl = memchr(line, '\n', len - pos), *sp;
        size_t ll = (size_t)(nl - line), namelen;
        uint8_t sig[4 + 8 + crypto_sign_BYTES + 1];
        size_t siglen = 0;
        const char *end = NULL;
        uint32_t id;
        pos += ll + 1;
        if (++r.sigs > LIA_NOTE_MAX_SIGS) {
            rc = lia_error_set(err, LIA_ELIMIT, "signed note", NULL, 0, "more than %d signatures",
                               LIA_NOTE_MAX_SIGS);
            goto out;
        }
        if (ll < 4 || memcmp(line, EM_DASH " ", 4) != 0) {
            rc = bad_note(err, "a signature line begins with an em dash and a space");
            goto out;
        }
        sp = memchr(line + 4, ' ', ll - 4);
        if (!sp || !name_ok(line + 4, (size_t)(sp - line - 4))) {
            rc = bad_note(err, "a signature line is: em dash, space, key name, space, base64 signature");
            goto out;
        }
        namelen = (size_t)(sp - line - 4);
        if (sodium_base642bin(sig, sizeof sig, sp + 1, (size_t)(nl - sp - 1), NULL, &siglen, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            end != nl || siglen < 5) {
            rc = bad_note(err, "a signature is base64 of a 4-byte key id and the signature");
            goto out;
        }
        id = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8 | sig[3];
        for (size_t k = 0; k < nkeys; k++) {
            const lia_note_key *key = &keys[k];
            uint64_t ts = 0;
            size_t off = 4;
            if (key->id != id || strlen(key->name) != namelen || memcmp(key->name, line + 4, namelen) != 0)
                continue;
            if (key->type == LIA_NOTE_COSIG) {
                if (siglen != 4 + 8 + crypto_sign_BYTES)
                    goto failed;
                for (int i = 0; i < 8; i++)
                    ts = ts << 8 | sig[4 + i];
                if (ts > INT64_MAX)
                    goto failed;
                off += 8;
            } else if (siglen != 4 + crypto_sign_BYTES) {
                goto failed;
            }
            lia_buf_reset(&msg);
            if (signed_message(note, r.text_len, key->type, ts, &msg) ||
                crypto_sign_verify_detached(sig + off, (const unsigned char *)msg.ptr, msg.len, key->pub) !=
                    0)
                goto failed;
            r.verified |= 1u << k;
            r.timestamp[k] = ts;
            continue;
        failed:
            rc = lia_error_set(err, LIA_EAUTH, "signature", key->name, strlen(key->name),
                               "the signature of a known key does not verify");
            goto out;
        }
    }
    if (r.verified == 0) {
        rc = lia_error_set(err, LIA_EAUTH, "signed note", NULL, 0, "not signed by any known key");
        goto out;
    }
    *res = r;
out:
    lia_buf_free(&msg);
    return rc;
}

/* ---- checkpoints ---------------------------------------------------------- */

int lia__checkpoint_format(const lia_checkpoint *c, lia_buf *out, lia_error *err)
{
    size_t n = strnlen(c->origin, sizeof c->origin);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)c->origin[i] < 0x20)
            n = 0;
    if (n == 0 || n == sizeof c->origin)
        return lia_error_set(err, LIA_EINVAL, "origin", c->origin, strnlen(c->origin, sizeof c->origin),
                             "an origin is 1 to %d bytes without control characters",
                             LIA_CHECKPOINT_ORIGIN_MAX - 1);
    lia_buf_printf(out, "%s\n%llu\n", c->origin, (unsigned long long)c->size);
    append_b64(out, c->root.b, LIA_HASH_LEN);
    lia_buf_putc(out, '\n');
    return out->err ? lia_error_set(err, out->err, "checkpoint", NULL, 0, "does not fit its buffer") : LIA_OK;
}

int lia_checkpoint_parse(const char *text, size_t len, lia_checkpoint *out, lia_error *err)
{
    lia_checkpoint c;
    const char *l1 = text, *e1, *l2, *e2, *l3, *e3, *end = NULL;
    size_t rootlen = 0;
    memset(&c, 0, sizeof c);
    e1 = memchr(l1, '\n', len);
    if (!e1 || e1 == l1 || (size_t)(e1 - l1) >= sizeof c.origin)
        return lia_error_set(err, LIA_EPARSE, "checkpoint", NULL, 0, "line 1 is the origin (1 to %d bytes)",
                             LIA_CHECKPOINT_ORIGIN_MAX - 1);
    l2 = e1 + 1;
    e2 = memchr(l2, '\n', len - (size_t)(l2 - text));
    if (!e2 || e2 == l2 || (e2 - l2 > 1 && *l2 == '0') || e2 - l2 > 20)
        goto badsize;
    for (const char *p = l2; p < e2; p++) {
        if (*p < '0' || *p > '9' || c.size > (UINT64_MAX - 9) / 10)
            goto badsize;
        c.size = c.size * 10 + (uint64_t)(*p - '0');
    }
    l3 = e2 + 1;
    e3 = memchr(l3, '\n', len - (size_t)(l3 - text));
    if (!e3 ||
        sodium_base642bin(c.root.b, sizeof c.root.b, l3, (size_t)(e3 - l3), NULL, &rootlen, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != e3 || rootlen != LIA_HASH_LEN)
        return lia_error_set(err, LIA_EPARSE, "checkpoint", NULL, 0,
                             "line 3 is the base64 of a 32-byte root hash");
    memcpy(c.origin, l1, (size_t)(e1 - l1));
    *out = c;
    return LIA_OK;
badsize:
    return lia_error_set(err, LIA_EPARSE, "checkpoint", NULL, 0,
                         "line 2 is the tree size in decimal, without leading zeros");
}
