/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* C2SP signed notes, checkpoints and cosignatures (src/audit/note.c): the
 * reference key and note of the Go implementation (golang.org/x/mod/sumdb/note,
 * "PeterNeumann"), reproduced byte for byte; mangled keys and notes refused;
 * a checkpoint signed by our node key and cosigned by a partner key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/audit.h"
#include "audit/log.h"

static const char vkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char skey[] = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char text[] = "If you think cryptography is the answer to your problem,\n"
                           "then you don't know what your problem is.\n";
static const char sigline[] =
    "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2"
    "pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

static void test_reference_keys(void **state)
{
    lia_note_key v, s;
    lia_buf b;
    lia_error err;
    (void)state;
    assert_int_equal(lia_note_key_parse_verifier(vkey, strlen(vkey), &v, &err), LIA_OK);
    assert_string_equal(v.name, "PeterNeumann");
    assert_int_equal(v.id, 0xc74f20a3u);
    assert_int_equal(v.type, LIA_NOTE_ED25519);
    assert_false(v.secret);
    assert_int_equal(lia__note_key_parse_signer(skey, strlen(skey), &s, &err), LIA_OK);
    assert_true(s.secret);
    assert_int_equal(s.id, v.id);
    assert_memory_equal(s.pub, v.pub, 32);
    lia_buf_init(&b, 4096);
    assert_int_equal(lia_note_key_format_verifier(&s, &b), LIA_OK);
    assert_string_equal(lia_buf_cstr(&b), vkey);
    lia_buf_reset(&b);
    assert_int_equal(lia__note_key_format_signer(&s, &b), LIA_OK);
    assert_string_equal(lia_buf_cstr(&b), skey);
    lia_buf_reset(&b);
    assert_int_not_equal(lia__note_key_format_signer(&v, &b), LIA_OK);
    lia_buf_free(&b);
}

static void test_mangled_keys_refused(void **state)
{
    char k[sizeof vkey];
    lia_note_key v;
    size_t n = strlen(vkey);
    (void)state;
    /* every proper substring */
    for (size_t i = 0; i <= n; i++)
        for (size_t j = i + 1; j <= n; j++)
            if (i != 0 || j != n)
                assert_int_not_equal(lia_note_key_parse_verifier(vkey + i, j - i, &v, NULL), LIA_OK);
    /* every byte changed */
    for (size_t i = 0; i < n; i++) {
        memcpy(k, vkey, sizeof k);
        k[i]++;
        if (lia_note_key_parse_verifier(k, n, &v, NULL) == LIA_OK)
            fail_msg("mangled key accepted: %s", k);
    }
    /* wrong key length with an adjusted id; an unknown algorithm byte */
    static const char longkey[] =
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==";
    static const char algkey[] = "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    assert_int_not_equal(lia_note_key_parse_verifier(longkey, strlen(longkey), &v, NULL), LIA_OK);
    assert_int_not_equal(lia_note_key_parse_verifier(algkey, strlen(algkey), &v, NULL), LIA_OK);
    assert_int_not_equal(lia__note_key_parse_signer(vkey, strlen(vkey), &v, NULL), LIA_OK);
}

static void test_reference_note(void **state)
{
    lia_note_key s, v, other;
    lia_note_opened r;
    lia_buf b, want;
    lia_error err;
    (void)state;
    assert_int_equal(lia__note_key_parse_signer(skey, strlen(skey), &s, NULL), LIA_OK);
    assert_int_equal(lia_note_key_parse_verifier(vkey, strlen(vkey), &v, NULL), LIA_OK);
    lia_buf_init(&b, 1 << 16);
    lia_buf_init(&want, 1 << 16);
    lia_buf_printf(&want, "%s\n%s", text, sigline);
    /* Ed25519 is deterministic: our note is the reference note, byte for byte. */
    assert_int_equal(lia__note_sign(text, strlen(text), &s, &b, &err), LIA_OK);
    assert_string_equal(lia_buf_cstr(&b), lia_buf_cstr(&want));

    assert_int_equal(lia_note_open(want.ptr, want.len, &v, 1, &r, &err), LIA_OK);
    assert_int_equal(r.text_len, strlen(text));
    assert_int_equal(r.verified, 1);
    assert_int_equal(r.sigs, 1);

    /* an unknown key: not signed by anyone we know */
    assert_int_equal(lia__note_key_generate("PeterNeumann", LIA_NOTE_ED25519, &other, &err), LIA_OK);
    assert_int_equal(lia_note_open(want.ptr, want.len, &other, 1, &r, &err), LIA_EAUTH);

    /* the text changed: the known key's signature fails */
    lia_buf_reset(&b);
    lia_buf_puts(&b, want.ptr);
    memcpy(strstr(b.ptr, "cryptography"), "cryptographY", 12);
    assert_int_equal(lia_note_open(b.ptr, b.len, &v, 1, &r, &err), LIA_EAUTH);

    /* an extra signature by an unknown key is ignored */
    lia_buf_reset(&b);
    lia_buf_puts(&b, want.ptr);
    assert_int_equal(lia_note_sign_line(text, strlen(text), &other, 0, &b, &err), LIA_OK);
    assert_int_equal(lia_note_open(b.ptr, b.len, &v, 1, &r, &err), LIA_OK);
    assert_int_equal(r.sigs, 2);
    assert_int_equal(r.verified, 1);
    lia_note_key keys[2] = {other, v};
    lia_note_key_as(&keys[0], LIA_NOTE_ED25519, &keys[0]);
    memset(keys[0].sk, 0, sizeof keys[0].sk);
    keys[0].secret = 0;
    assert_int_equal(lia_note_open(b.ptr, b.len, keys, 2, &r, &err), LIA_OK);
    assert_int_equal(r.verified, 3);

    /* malformed notes */
    static const char *const bad[] = {
        "no blank line\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG\n",
        "text\n\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2=\n",
        "text\n\n\xe2\x80\x94 PeterNeumann\n",
        "text\n\n\xe2\x80\x94 PeterNeumann !!notbase64!!\n",
        "text\n\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2=",
        "te\txt\n\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2=\n",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lia_note_open(bad[i], strlen(bad[i]), &v, 1, &r, &err), LIA_EPARSE);
    /* a text that does not end in a newline cannot be signed */
    lia_buf_reset(&b);
    assert_int_equal(lia__note_sign("no newline", 10, &s, &b, &err), LIA_EINVAL);
    lia_buf_free(&b);
    lia_buf_free(&want);
}

static void test_checkpoint_roundtrip(void **state)
{
    lia_checkpoint c = {.origin = "liaison.example/cert-xx/audit", .size = 20852163}, back;
    lia_buf b;
    lia_error err;
    (void)state;
    for (int i = 0; i < 32; i++)
        c.root.b[i] = (uint8_t)(i * 9 + 1);
    lia_buf_init(&b, 4096);
    assert_int_equal(lia__checkpoint_format(&c, &b, &err), LIA_OK);
    assert_non_null(strstr(b.ptr, "liaison.example/cert-xx/audit\n20852163\n"));
    assert_int_equal(lia_checkpoint_parse(b.ptr, b.len, &back, &err), LIA_OK);
    assert_string_equal(back.origin, c.origin);
    assert_int_equal(back.size, c.size);
    assert_memory_equal(back.root.b, c.root.b, 32);
    /* the C2SP example checkpoint */
    static const char ex[] =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_int_equal(lia_checkpoint_parse(ex, strlen(ex), &back, &err), LIA_OK);
    assert_string_equal(back.origin, "example.com/behind-the-sofa");
    assert_int_equal(back.size, 20852163);
    static const char *const bad[] = {
        "origin\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n99999999999999999999\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2\n",
        "origin\n12\n",
        "\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (lia_checkpoint_parse(bad[i], strlen(bad[i]), &back, &err) != LIA_EPARSE)
            fail_msg("bad checkpoint %zu accepted", i);
    c.origin[0] = '\0';
    assert_int_equal(lia__checkpoint_format(&c, &b, &err), LIA_EINVAL);
    lia_buf_free(&b);
}

/* Our node signs its checkpoint; a partner's node cosigns it (C2SP
 * tlog-cosignature v1); both verify; a changed size or root, or a cosignature
 * replayed with another time, is refused. */
static void test_checkpoint_cosigned(void **state)
{
    lia_note_key node, partner, nodev, partnerv;
    lia_checkpoint c = {.origin = "cert.example/liaison-audit", .size = 42};
    lia_note_opened r;
    lia_buf body, note, vk;
    lia_error err;
    (void)state;
    memset(c.root.b, 0xab, 32);
    assert_int_equal(lia__note_key_generate("cert.example/node", LIA_NOTE_ED25519, &node, &err), LIA_OK);
    assert_int_equal(lia__note_key_generate("partner.example/witness", LIA_NOTE_COSIG, &partner, &err),
                     LIA_OK);
    /* each side holds only the other's verifier key string */
    lia_buf_init(&vk, 1024);
    assert_int_equal(lia_note_key_format_verifier(&node, &vk), LIA_OK);
    assert_int_equal(lia_note_key_parse_verifier(vk.ptr, vk.len, &nodev, &err), LIA_OK);
    lia_buf_reset(&vk);
    assert_int_equal(lia_note_key_format_verifier(&partner, &vk), LIA_OK);
    assert_int_equal(lia_note_key_parse_verifier(vk.ptr, vk.len, &partnerv, &err), LIA_OK);
    assert_int_equal(partnerv.type, LIA_NOTE_COSIG);

    lia_buf_init(&body, 4096);
    lia_buf_init(&note, 8192);
    assert_int_equal(lia__checkpoint_format(&c, &body, &err), LIA_OK);
    assert_int_equal(lia__note_sign(body.ptr, body.len, &node, &note, &err), LIA_OK);
    /* the partner checks our signature, then cosigns the same text */
    assert_int_equal(lia_note_open(note.ptr, note.len, &nodev, 1, &r, &err), LIA_OK);
    assert_int_equal(lia_note_sign_line(note.ptr, r.text_len, &partner, 1700000000, &note, &err), LIA_OK);

    lia_note_key both[2] = {nodev, partnerv};
    assert_int_equal(lia_note_open(note.ptr, note.len, both, 2, &r, &err), LIA_OK);
    assert_int_equal(r.verified, 3);
    assert_int_equal(r.timestamp[1], 1700000000);
    assert_int_equal(r.sigs, 2);
    /* the partner's cosignature alone is enough to open it */
    assert_int_equal(lia_note_open(note.ptr, note.len, &partnerv, 1, &r, &err), LIA_OK);
    assert_int_equal(r.verified, 1);
    /* the partner key as a plain note key has another id: its line is unknown */
    lia_note_key plain;
    lia_note_key_as(&partnerv, LIA_NOTE_ED25519, &plain);
    assert_int_not_equal(plain.id, partnerv.id);
    assert_int_equal(lia_note_open(note.ptr, note.len, &plain, 1, &r, &err), LIA_EAUTH);

    /* a rewritten size: both signatures fail */
    char *size = strstr(note.ptr, "\n42\n");
    assert_non_null(size);
    size[2] = '3';
    assert_int_equal(lia_note_open(note.ptr, note.len, &partnerv, 1, &r, &err), LIA_EAUTH);
    assert_int_equal(lia_note_open(note.ptr, note.len, &nodev, 1, &r, &err), LIA_EAUTH);
    size[2] = '2';
    assert_int_equal(lia_note_open(note.ptr, note.len, both, 2, &r, &err), LIA_OK);

    /* the cosignature's time changed (the bytes after the key id): refused */
    char *last = strrchr(note.ptr, ' ');
    assert_non_null(last);
    last[11] = last[11] == 'A' ? 'B' : 'A';
    assert_int_equal(lia_note_open(note.ptr, note.len, &partnerv, 1, &r, &err), LIA_EAUTH);

    /* a verifier key cannot sign */
    assert_int_equal(lia_note_sign_line(body.ptr, body.len, &partnerv, 1, &note, &err), LIA_EINVAL);
    lia_buf_free(&body);
    lia_buf_free(&note);
    lia_buf_free(&vk);
}

static void test_key_names(void **state)
{
    lia_note_key k;
    (void)state;
    assert_int_equal(lia__note_key_generate("", LIA_NOTE_ED25519, &k, NULL), LIA_EINVAL);
    assert_int_equal(lia__note_key_generate("has space", LIA_NOTE_ED25519, &k, NULL), LIA_EINVAL);
    assert_int_equal(lia__note_key_generate("has+plus", LIA_NOTE_ED25519, &k, NULL), LIA_EINVAL);
    assert_int_equal(lia__note_key_generate("ok.example/x", 0x02, &k, NULL), LIA_EINVAL);
    assert_int_equal(lia__note_key_generate("ok.example/x", LIA_NOTE_ED25519, &k, NULL), LIA_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_keys),      cmocka_unit_test(test_mangled_keys_refused),
        cmocka_unit_test(test_reference_note),      cmocka_unit_test(test_checkpoint_roundtrip),
        cmocka_unit_test(test_checkpoint_cosigned), cmocka_unit_test(test_key_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
