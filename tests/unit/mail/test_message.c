/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The message reader: headers (folding, case, encoded words), bodies
 * (quoted-printable, base64, charsets), multiparts, PGP/MIME signed parts,
 * addresses, the incident reference, and its errors. Table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/mail.h"

static lia_mail *parse_ok(const char *s)
{
    lia_mail *m = NULL;
    lia_error err;
    int rc = lia_mail_parse(s, strlen(s), &m, &err);
    if (rc) {
        char line[512];
        lia_error_format(&err, line, sizeof line);
        fail_msg("parse failed: %s", line);
    }
    return m;
}

typedef struct hcase {
    const char *msg, *name, *want;
} hcase;

static void test_headers(void **state)
{
    static const hcase cases[] = {
        {"Subject: plain\r\n\r\nbody", "subject", "plain"},
        {"SUBJECT: upper name\n\nbody", "Subject", "upper name"},
        {"Subject: folded\r\n  over\r\n\tlines\r\n\r\n", "subject", "folded  over lines"},
        {"Subject: =?UTF-8?B?w6lsw6h2ZQ==?=\r\n\r\n", "subject", "\xc3\xa9l\xc3\xa8ve"},
        {"Subject: =?iso-8859-1?Q?caf=E9_cr=E8me?=\r\n\r\n", "subject", "caf\xc3\xa9 cr\xc3\xa8me"},
        /* white space between two encoded words is dropped, kept elsewhere */
        {"Subject: =?UTF-8?Q?a?= =?UTF-8?Q?b?= c\r\n\r\n", "subject", "ab c"},
        {"Subject: Re: =?UTF-8?B?W0xJQUlTT04jN10=?= ok\r\n\r\n", "subject", "Re: [LIAISON#7] ok"},
        /* a malformed encoded word stays as it is */
        {"Subject: =?UTF-8?X?abc?=\r\n\r\n", "subject", "=?UTF-8?X?abc?="},
        /* control characters never reach a value */
        {"Subject: =?UTF-8?Q?a=0Db=0Ac?=\r\n\r\n", "subject", "a b c"},
        {"From x@y Thu Dec  3 10:00:00 2026\nSubject: mbox line\n\n", "subject", "mbox line"},
        {"X-Liaison-Incident:  42 \r\n\r\n", "x-liaison-incident", "42"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_mail *m = parse_ok(cases[i].msg);
        const char *v = lia_mail_header(m, cases[i].name, 0);
        if (!v || strcmp(v, cases[i].want) != 0)
            fail_msg("case %zu: %s: want '%s', got '%s'", i, cases[i].name, cases[i].want, v ? v : "(null)");
        lia_mail_free(m);
    }
}

typedef struct tcase {
    const char *msg, *want, *note;
} tcase;

static void test_text(void **state)
{
    static const tcase cases[] = {
        {"Subject: a\r\n\r\nline 1\r\nline 2\r\n", "line 1\nline 2\n", NULL},
        {"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
         "caf=C3=A9 soft=\r\nbreak =3D end\r\n",
         "caf\xc3\xa9 softbreak = end\n", NULL},
        {"Content-Type: text/plain; charset=\"ISO-8859-1\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
         "Y2Fm6Qo=\r\n",
         "caf\xc3\xa9\n", NULL},
        {"Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xf0\xd2\xc9\n",
         "\xd0\x9f\xd1\x80\xd0\xb8\n", NULL},
        {"Content-Type: text/plain; charset=x-no-such\r\n\r\nok\xff\n", "ok\xef\xbf\xbd\n",
         "charset x-no-such unknown to iconv: read as UTF-8"},
        /* invalid UTF-8 becomes U+FFFD */
        {"Subject: x\r\n\r\nbad \xc3\x28 byte\r\n", "bad \xef\xbf\xbd( byte\n", NULL},
        {"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\n"
         "Content-Type: text/html\r\n\r\n<p>html</p>\r\n--b1\r\nContent-Type: text/plain\r\n\r\nthe text\r\n"
         "--b1--\r\nepilogue\r\n",
         "the text", NULL},
        /* an attached text file is not the text */
        {"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n"
         "Content-Disposition: attachment; filename=x.txt\n\nattached\n--b\nContent-Type: "
         "text/plain\n\nreply\n--b--\n",
         "reply", NULL},
        {"Content-Type: text/html\r\n\r\n<p>only html</p>", "", "no text/plain part"},
        /* nested multiparts */
        {"Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n"
         "Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\nContent-Type: "
         "text/plain\r\n\r\n"
         "deep\r\n--inner--\r\n--outer--\r\n",
         "deep", NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_mail *m = parse_ok(cases[i].msg);
        size_t n;
        const char *t = lia_mail_text(m, &n);
        const char *note = lia_mail_text_note(m);
        if (strcmp(t, cases[i].want) != 0 || n != strlen(cases[i].want))
            fail_msg("case %zu: text: want '%s', got '%s'", i, cases[i].want, t);
        if ((cases[i].note == NULL) != (note == NULL) || (note && strcmp(note, cases[i].note) != 0))
            fail_msg("case %zu: note: want '%s', got '%s'", i, cases[i].note ? cases[i].note : "(null)",
                     note ? note : "(null)");
        lia_mail_free(m);
    }
}

static void test_signed(void **state)
{
    static const char msg[] =
        "From: A <a@x.example>\r\nContent-Type: multipart/signed; micalg=pgp-sha256;\r\n"
        " protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n"
        "This is an OpenPGP/MIME signed message (RFC 3156).\r\n"
        "--sig\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nresolved\r\n"
        "\r\n--sig\r\nContent-Type: application/pgp-signature\r\n\r\n"
        "-----BEGIN PGP SIGNATURE-----\r\nAAAA\r\n-----END PGP SIGNATURE-----\r\n"
        "\r\n--sig--\r\n";
    static const char entity[] = "Content-Type: text/plain; charset=utf-8\r\n\r\nresolved\r\n";
    static const char sig[] = "-----BEGIN PGP SIGNATURE-----\r\nAAAA\r\n-----END PGP SIGNATURE-----\r\n";
    lia_mail *m = parse_ok(msg);
    lia_slice e, s;
    (void)state;
    assert_int_equal(lia_mail_pgp_signed(m, &e, &s), 1);
    assert_int_equal(e.len, strlen(entity));
    assert_memory_equal(e.ptr, entity, e.len);
    assert_int_equal(s.len, strlen(sig));
    assert_memory_equal(s.ptr, sig, s.len);
    assert_string_equal(lia_mail_text(m, NULL), "resolved\n");
    assert_string_equal(lia_mail_from(m), "a@x.example");
    assert_int_equal(lia_mail_nparts(m), 3);
    assert_string_equal(lia_mail_part_type(m, 0), "multipart/signed");
    assert_string_equal(lia_mail_part_type(m, 2), "application/pgp-signature");
    lia_mail_free(m);
}

typedef struct ecase {
    const char *msg;
    int code;
    const char *reason;
} ecase;

static void test_errors(void **state)
{
    static const ecase cases[] = {
        {"", LIA_EPARSE, "empty"},
        {"\r\nbody only", LIA_EPARSE, "no header fields"},
        {"Subject: ok\r\nthis is not a header\r\n\r\n", LIA_EPARSE,
         "line 2 of the header block is not a field"},
        {"Content-Type: multipart/mixed\r\n\r\n--x\r\n", LIA_EPARSE, "without its boundary"},
        {"Content-Type: multipart/mixed; boundary=x\r\n\r\nno parts\r\n", LIA_EPARSE, "no part begins"},
        {"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\ncut off", LIA_EPARSE,
         "no closing delimiter"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_mail *m = NULL;
        lia_error err;
        int rc = lia_mail_parse(cases[i].msg, strlen(cases[i].msg), &m, &err);
        if (rc != cases[i].code || !strstr(err.reason, cases[i].reason))
            fail_msg("case %zu: want %d '%s', got %d '%s'", i, cases[i].code, cases[i].reason, rc,
                     err.reason);
        assert_null(m);
    }
}

static void test_limits(void **state)
{
    lia_error err;
    lia_mail *m = NULL;
    size_t n = 200 * 1024;
    char *big = malloc(n + 64);
    int rc;
    (void)state;
    /* one header longer than the limit */
    memcpy(big, "Subject: ", 9);
    memset(big + 9, 'a', n);
    memcpy(big + 9 + n, "\r\n\r\n", 5);
    rc = lia_mail_parse(big, strlen(big), &m, &err);
    assert_int_equal(rc, LIA_ELIMIT);
    assert_non_null(strstr(err.reason, "longer than"));
    free(big);
    /* multiparts nested too deep */
    {
        char deep[4096] = "";
        size_t k = 0;
        for (int d = 0; d < 12; d++)
            k += (size_t)snprintf(deep + k, sizeof deep - k,
                                  "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", d, d);
        for (int d = 11; d >= 0; d--)
            k += (size_t)snprintf(deep + k, sizeof deep - k, "\r\n--b%d--\r\n", d);
        rc = lia_mail_parse(deep, k, &m, &err);
        assert_int_equal(rc, LIA_ELIMIT);
        assert_non_null(strstr(err.reason, "nested deeper"));
    }
}

typedef struct acase {
    const char *value, *want;
} acase;

static void test_addr(void **state)
{
    static const acase cases[] = {
        {"Abuse Desk <Abuse@CERT.example>", "abuse@cert.example"},
        {"\"Doe, <John>\" <john@x.example>", "john@x.example"},
        {"jane@x.example (Jane)", "jane@x.example"},
        {"(comment <not@this>) bare@x.example", "bare@x.example"},
        {"<@relay.example:user@x.example>", "user@x.example"},
        {"no address here", NULL},
        {"<unclosed@x.example", NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[LIA_MAIL_MAX_ADDR + 1];
        lia_error err;
        int rc = lia_mail_addr(cases[i].value, out, &err);
        if (cases[i].want ? rc != LIA_OK || strcmp(out, cases[i].want) != 0 : rc != LIA_EINVAL)
            fail_msg("case %zu: '%s': want %s, got rc %d '%s'", i, cases[i].value,
                     cases[i].want ? cases[i].want : "an error", rc, rc ? "" : out);
    }
}

static void test_incident_ref(void **state)
{
    static const struct {
        const char *subject;
        int64_t want;
    } cases[] = {
        {"Re: [LIAISON#12] Mirai in KH", 12},
        {"AW: [liaison#7]", 7},
        {"[LIAISON#] none", 0},
        {"[LIAISON#12 no bracket", 0},
        {"LIAISON#12", 0},
        {"Re: [LIAISON#x] [LIAISON#99]", 99},
        {"[LIAISON#0]", 0},
        {NULL, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (lia_mail_incident_ref(cases[i].subject) != cases[i].want)
            fail_msg("case %zu: want %lld, got %lld", i, (long long)cases[i].want,
                     (long long)lia_mail_incident_ref(cases[i].subject));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),      cmocka_unit_test(test_text),   cmocka_unit_test(test_signed),
        cmocka_unit_test(test_errors),       cmocka_unit_test(test_limits), cmocka_unit_test(test_addr),
        cmocka_unit_test(test_incident_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
