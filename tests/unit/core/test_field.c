/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for src/core/field.c: the field table and every typed-value
 * parser, table-driven (input, expected code, expected normalised text). */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/field.h"
#include "liaison/limits.h"
#include "core/field_internal.h"

/* One row: input bytes (may hold NUL), expected code, expected output text
 * (for LIA_OK). R() takes a string literal so that its length is exact. */
struct row {
    const char *in;
    size_t n;
    int rc;
    const char *out;
};
#define R(lit, rc, out) {(lit), sizeof(lit) - 1, (rc), (out)}
#define OK LIA_OK
#define BAD LIA_EINVAL

/* Normalises s[0..n) to text in out (size >= 16 KiB). */
typedef int (*norm_fn)(const char *s, size_t n, char *out, size_t outn, const char **why);

#define OUTN (LIA_MAX_URL + LIA_MAX_FQDN + 64)

static void run_rows(const char *what, norm_fn fn, const struct row *rows, size_t count)
{
    static char out[OUTN];
    for (size_t i = 0; i < count; i++) {
        const char *why = NULL;
        char esc[256];
        int rc;
        memset(out, 0, sizeof(out));
        rc = fn(rows[i].in, rows[i].n, out, sizeof(out), &why);
        lia_escape(rows[i].in, rows[i].n, esc, sizeof(esc));
        if (rc != rows[i].rc || (rc == LIA_OK && strcmp(out, rows[i].out) != 0))
            print_message("%s row %zu: input \"%s\": rc %d why \"%s\" out \"%s\"\n", what, i, esc,
                          rc, why ? why : "(none)", out);
        assert_int_equal(rc, rows[i].rc);
        if (rc == LIA_OK)
            assert_string_equal(out, rows[i].out);
        else
            assert_non_null(why);
        /* why may be NULL */
        assert_int_equal(fn(rows[i].in, rows[i].n, out, sizeof(out), NULL), rows[i].rc);
    }
}
#define RUN(fn, rows) run_rows(#fn, fn, rows, sizeof(rows) / sizeof(rows[0]))

/* ---- wrappers: parser -> normalised text ---- */

static int n_ip(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    lia_ip ip;
    int rc = lia_parse_ip(s, n, &ip, why);
    if (rc == LIA_OK) {
        assert_int_equal(ip.prefix, ip.family == 4 ? 32 : 128);
        lia_ip_format(&ip, 0, out, outn);
    }
    return rc;
}

static int n_cidr(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    lia_ip ip;
    int rc = lia_parse_cidr(s, n, &ip, why);
    if (rc == LIA_OK)
        lia_ip_format(&ip, 1, out, outn);
    return rc;
}

static int n_asn(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    uint32_t v;
    int rc = lia_parse_asn(s, n, &v, why);
    if (rc == LIA_OK)
        snprintf(out, outn, "%" PRIu32, v);
    return rc;
}

static int n_port(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    uint16_t v;
    int rc = lia__parse_port(s, n, &v, why);
    if (rc == LIA_OK)
        snprintf(out, outn, "%u", (unsigned)v);
    return rc;
}

static int n_int(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    int64_t v;
    int rc = lia__parse_int(s, n, &v, why);
    if (rc == LIA_OK)
        snprintf(out, outn, "%" PRId64, v);
    return rc;
}

static int n_float(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    double v;
    int rc = lia__parse_float(s, n, &v, why);
    if (rc == LIA_OK)
        snprintf(out, outn, "%.17g", v);
    return rc;
}

static int n_bool(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    int v;
    int rc = lia_parse_bool(s, n, &v, why);
    if (rc == LIA_OK)
        snprintf(out, outn, "%d", v);
    return rc;
}

static int n_time(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    int64_t v;
    int rc = lia_parse_time(s, n, &v, why);
    if (rc == LIA_OK)
        lia_time_format(v, out, outn);
    return rc;
}

static int n_tlp(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    int v;
    int rc = lia_parse_tlp(s, n, &v, why);
    if (rc == LIA_OK)
        snprintf(out, outn, "%s", lia_tlp_name(v));
    return rc;
}

static int n_registry(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    int v;
    int rc = lia__parse_registry(s, n, &v, why);
    if (rc == LIA_OK)
        snprintf(out, outn, "%s", lia__registry_name(v));
    return rc;
}

static int n_cc(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    char cc[3];
    int rc = lia_parse_cc(s, n, cc, why);
    if (rc == LIA_OK)
        snprintf(out, outn, "%s", cc);
    return rc;
}

static int n_fqdn(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    size_t len = 0;
    int rc = lia_parse_fqdn(s, n, out, outn, &len, why);
    if (rc == LIA_OK)
        assert_int_equal(len, strlen(out));
    return rc;
}

static int n_url(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    size_t len = 0;
    int rc = lia__parse_url(s, n, out, outn, &len, why);
    if (rc == LIA_OK)
        assert_int_equal(len, strlen(out));
    return rc;
}

static int n_utf8(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    (void)why;
    snprintf(out, outn, "%d", lia__utf8_valid(s, n));
    return LIA_OK;
}

static int n_base64(const char *s, size_t n, char *out, size_t outn, const char **why)
{
    (void)why;
    snprintf(out, outn, "%d", lia__base64_valid(s, n));
    return LIA_OK;
}

/* ---- tables ---- */

static const struct row ip_rows[] = {
    R("1.2.3.4", OK, "1.2.3.4"),
    R("0.0.0.0", OK, "0.0.0.0"),
    R("255.255.255.255", OK, "255.255.255.255"),
    R("192.0.2.1", OK, "192.0.2.1"),
    R("256.1.1.1", BAD, ""),
    R("1.2.3.256", BAD, ""),
    R("1.2.3.1000", BAD, ""),
    R("1.2.3", BAD, ""),
    R("1.2.3.", BAD, ""),
    R("1.2.3.4.5", BAD, ""),
    R("1.2.3.4.", BAD, ""),
    R("010.1.1.1", BAD, ""),
    R("1.2.3.04", BAD, ""),
    R("1.2.3.00", BAD, ""),
    R("1..3.4", BAD, ""),
    R(".1.2.3.4", BAD, ""),
    R("1.2.3.4 ", BAD, ""),
    R(" 1.2.3.4", BAD, ""),
    R("1.2.3.4\n", BAD, ""),
    R("1.2.3.4\0", BAD, ""),
    R("1.2\0.3.4", BAD, ""),
    R("1.2.3.-1", BAD, ""),
    R("1.2.3.+1", BAD, ""),
    R("1.2.3.0x1", BAD, ""),
    R("1234.1.1.1", BAD, ""),
    R("4294967297.1.1.1", BAD, ""),
    R("1", BAD, ""),
    R("16909060", BAD, ""),
    R("1.2.3.4/32", BAD, ""),
    R("", BAD, ""),
    R("a.b.c.d", BAD, ""),
    R("::", OK, "::"),
    R("::1", OK, "::1"),
    R("1::", OK, "1::"),
    R("2001:DB8::1", OK, "2001:db8::1"),
    R("2001:0db8:0000:0000:0000:0000:0000:0001", OK, "2001:db8::1"),
    R("2001:db8:0:0:1:0:0:1", OK, "2001:db8::1:0:0:1"),
    R("2001:db8:0:1:1:1:1:1", OK, "2001:db8:0:1:1:1:1:1"),
    R("2001:0:0:1:0:0:0:1", OK, "2001:0:0:1::1"),
    R("0:0:0:0:0:0:0:0", OK, "::"),
    R("1:0:0:0:0:0:0:0", OK, "1::"),
    R("1:2:3:4:5:6:7:8", OK, "1:2:3:4:5:6:7:8"),
    R("1:2:3:4:5:6:7::", OK, "1:2:3:4:5:6:7:0"),
    R("::2:3:4:5:6:7:8", OK, "0:2:3:4:5:6:7:8"),
    R("FFFF:ffff:FfFf:ffff:ffff:ffff:ffff:ffff", OK, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    R("::ffff:1.2.3.4", OK, "1.2.3.4"),
    R("::FFFF:102:304", OK, "1.2.3.4"),
    R("0:0:0:0:0:ffff:1.2.3.4", OK, "1.2.3.4"),
    R("::1.2.3.4", OK, "::102:304"),
    R("64:ff9b::192.0.2.33", OK, "64:ff9b::c000:221"),
    R("1:2:3:4:5:6:1.2.3.4", OK, "1:2:3:4:5:6:102:304"),
    R("1:2:3:4:5:6:7:1.2.3.4", BAD, ""),
    R("::ffff:1.2.3.04", BAD, ""),
    R("::ffff:1.2.3", BAD, ""),
    R("::1.2.3.4:5", BAD, ""),
    R("1.2.3.4::", BAD, ""),
    R("1:2:3:4:5:6:7:8:9", BAD, ""),
    R("1:2:3:4:5:6:7:8::", BAD, ""),
    R("::1:2:3:4:5:6:7:8", BAD, ""),
    R("1:2:3:4:5:6:7", BAD, ""),
    R("1::2::3", BAD, ""),
    R(":::", BAD, ""),
    R(":::1", BAD, ""),
    R(":1::", BAD, ""),
    R(":", BAD, ""),
    R("1:", BAD, ""),
    R("1::2:", BAD, ""),
    R("12345::", BAD, ""),
    R("00000::", BAD, ""),
    R("::g", BAD, ""),
    R("fe80::1%eth0", BAD, ""),
    R("fe80::1%", BAD, ""),
    R("[::1]", BAD, ""),
    R(" ::1", BAD, ""),
    R("::1 ", BAD, ""),
    R("::1\0", BAD, ""),
    R("::-1", BAD, ""),
};

static const struct row cidr_rows[] = {
    R("10.0.0.0/8", OK, "10.0.0.0/8"),
    R("10.1.2.3/8", OK, "10.0.0.0/8"),
    R("10.1.2.3", OK, "10.1.2.3/32"),
    R("10.1.2.3/0", OK, "0.0.0.0/0"),
    R("10.1.2.3/32", OK, "10.1.2.3/32"),
    R("10.1.2.255/31", OK, "10.1.2.254/31"),
    R("10.1.2.255/25", OK, "10.1.2.128/25"),
    R("10.1.2.3/33", BAD, ""),
    R("10.1.2.3/", BAD, ""),
    R("10.1.2.3/08", BAD, ""),
    R("10.1.2.3/a", BAD, ""),
    R("10.1.2.3/-1", BAD, ""),
    R("10.1.2.3/ 8", BAD, ""),
    R("10.1.2.3/8/8", BAD, ""),
    R("10.1.2.3/99999999999999999999", BAD, ""),
    R("/8", BAD, ""),
    R("/", BAD, ""),
    R("", BAD, ""),
    R("010.0.0.0/8", BAD, ""),
    R("2001:db8::1/32", OK, "2001:db8::/32"),
    R("2001:DB8::1", OK, "2001:db8::1/128"),
    R("2001:db8::/129", BAD, ""),
    R("2001:db8::/0128", BAD, ""),
    R("::/0", OK, "::/0"),
    R("ffff::/1", OK, "8000::/1"),
    R("::ffff:1.2.3.4/120", OK, "1.2.3.0/24"),
    R("::ffff:1.2.3.4", OK, "1.2.3.4/32"),
    R("::ffff:1.2.3.4/96", OK, "0.0.0.0/0"),
    R("::ffff:1.2.3.4/95", OK, "::fffe:0:0/95"),
    R("fe80::1%eth0/64", BAD, ""),
};

static const struct row asn_rows[] = {
    R("64496", OK, "64496"),
    R("AS64496", OK, "64496"),
    R("as64496", OK, "64496"),
    R("As1", OK, "1"),
    R("1", OK, "1"),
    R("064496", OK, "64496"),
    R("4294967294", OK, "4294967294"),
    R("0", BAD, ""),
    R("AS0", BAD, ""),
    R("4294967295", BAD, ""),
    R("4294967296", BAD, ""),
    R("99999999999999999999999", BAD, ""),
    R("AS", BAD, ""),
    R("", BAD, ""),
    R("+1", BAD, ""),
    R("-1", BAD, ""),
    R(" 1", BAD, ""),
    R("1 ", BAD, ""),
    R("AS 1", BAD, ""),
    R("ASN1", BAD, ""),
    R("1.5", BAD, ""),
    R("1\0", BAD, ""),
    R("0x10", BAD, ""),
};

static const struct row port_rows[] = {
    R("0", OK, "0"),
    R("80", OK, "80"),
    R("00080", OK, "80"),
    R("65535", OK, "65535"),
    R("65536", BAD, ""),
    R("99999999999999999999999", BAD, ""),
    R("", BAD, ""),
    R("-1", BAD, ""),
    R("+1", BAD, ""),
    R("80a", BAD, ""),
    R("80 ", BAD, ""),
    R("8\0", BAD, ""),
};

static const struct row int_rows[] = {
    R("0", OK, "0"),
    R("-0", OK, "0"),
    R("42", OK, "42"),
    R("-42", OK, "-42"),
    R("007", OK, "7"),
    R("9223372036854775807", OK, "9223372036854775807"),
    R("-9223372036854775808", OK, "-9223372036854775808"),
    R("9223372036854775808", BAD, ""),
    R("-9223372036854775809", BAD, ""),
    R("18446744073709551615", BAD, ""),
    R("18446744073709551616", BAD, ""),
    R("99999999999999999999999999999999999999", BAD, ""),
    R("+1", BAD, ""),
    R("--1", BAD, ""),
    R("1.0", BAD, ""),
    R("1e3", BAD, ""),
    R("", BAD, ""),
    R("-", BAD, ""),
    R("12\0", BAD, ""),
    R(" 1", BAD, ""),
};

static const struct row float_rows[] = {
    R("1.5", OK, "1.5"),
    R("-0.25", OK, "-0.25"),
    R("+2", OK, "2"),
    R("1e3", OK, "1000"),
    R("1E-2", OK, "0.01"),
    R("1e+2", OK, "100"),
    R(".5", OK, "0.5"),
    R("5.", OK, "5"),
    R("0", OK, "0"),
    R("100", OK, "100"),
    R("1e-400", OK, "0"),
    R("1.7976931348623157e308", OK, "1.7976931348623157e+308"),
    R("1e999", BAD, ""),
    R("-1e999", BAD, ""),
    R("nan", BAD, ""),
    R("NaN", BAD, ""),
    R("inf", BAD, ""),
    R("-Infinity", BAD, ""),
    R("0x1p3", BAD, ""),
    R("1e", BAD, ""),
    R("1e+", BAD, ""),
    R("e5", BAD, ""),
    R(".", BAD, ""),
    R("-", BAD, ""),
    R("", BAD, ""),
    R(" 1", BAD, ""),
    R("1 ", BAD, ""),
    R("1,5", BAD, ""),
    R("1.5.5", BAD, ""),
    R("1.5\0", BAD, ""),
    R("1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
      "11111111111111111111111111111111111111111111111111111",
      BAD, ""),
};

static const struct row bool_rows[] = {
    R("true", OK, "1"),    R("TRUE", OK, "1"),     R("True", OK, "1"),     R("1", OK, "1"),
    R("yes", OK, "1"),     R("YES", OK, "1"),      R("false", OK, "0"),    R("False", OK, "0"),
    R("0", OK, "0"),       R("no", OK, "0"),       R("No", OK, "0"),       R("y", OK, "1"),
    R("Y", OK, "1"),       R("n", OK, "0"),        R("N", OK, "0"),        R("on", OK, "1"),
    R("ON", OK, "1"),      R("off", OK, "0"),      R("Off", OK, "0"),      R("enabled", OK, "1"),
    R("Enabled", OK, "1"), R("disabled", OK, "0"), R("DISABLED", OK, "0"), R("", BAD, ""),
    R("true ", BAD, ""),   R("2", BAD, ""),        R("o", BAD, ""),        R("of", BAD, ""),
    R("t", BAD, ""),       R("f", BAD, ""),        R("enable", BAD, ""),   R("tru", BAD, ""),
    R("truee", BAD, ""),   R("t\0", BAD, ""),      R("01", BAD, ""),       R("y\0", BAD, ""),
    R("-1", BAD, ""),
};

static const struct row time_rows[] = {
    R("2022-03-02 00:34:22", OK, "2022-03-02T00:34:22+00:00"),
    R("2022-03-02T00:34:22Z", OK, "2022-03-02T00:34:22+00:00"),
    R("2022-03-02t00:34:22z", OK, "2022-03-02T00:34:22+00:00"),
    R("2022-03-02T00:34:22+00:00", OK, "2022-03-02T00:34:22+00:00"),
    R("2022-03-02T00:34:22-00:00", OK, "2022-03-02T00:34:22+00:00"),
    R("2022-03-02T00:34:22+01:00", OK, "2022-03-01T23:34:22+00:00"),
    R("2022-03-02T00:34:22-0130", OK, "2022-03-02T02:04:22+00:00"),
    R("2022-03-02T00:34:22+2359", OK, "2022-03-01T00:35:22+00:00"),
    R("2022-12-31T23:30:00-01:00", OK, "2023-01-01T00:30:00+00:00"),
    R("2022-03-02T00:34:22.5Z", OK, "2022-03-02T00:34:22.500000+00:00"),
    R("2022-03-02 00:34:22.000001", OK, "2022-03-02T00:34:22.000001+00:00"),
    R("2022-03-02T00:34:22.123456789Z", OK, "2022-03-02T00:34:22.123456+00:00"),
    R("2022-03-02T00:34:22.000000Z", OK, "2022-03-02T00:34:22+00:00"),
    R("2022-03-02T00:34:22.1234567890Z", BAD, ""),
    R("2022-03-02T00:34:22.Z", BAD, ""),
    R("2022-03-02T00:34:22.", BAD, ""),
    R("1970-01-01T00:00:00Z", OK, "1970-01-01T00:00:00+00:00"),
    R("1970-01-01T00:00:00+00:01", BAD, ""),
    R("1970-01-01T00:59:00-01:00", OK, "1970-01-01T01:59:00+00:00"),
    R("1969-12-31T23:59:59Z", BAD, ""),
    R("0000-01-01T00:00:00Z", BAD, ""),
    R("9999-12-31T23:59:59.999999Z", OK, "9999-12-31T23:59:59.999999+00:00"),
    R("9999-12-31T23:59:59-00:01", BAD, ""),
    R("2020-02-29 00:00:00", OK, "2020-02-29T00:00:00+00:00"),
    R("2000-02-29 00:00:00", OK, "2000-02-29T00:00:00+00:00"),
    R("2021-02-29 00:00:00", BAD, ""),
    R("2100-02-29 00:00:00", BAD, ""),
    R("2022-02-30 00:00:00", BAD, ""),
    R("2022-04-31 00:00:00", BAD, ""),
    R("2022-01-31 00:00:00", OK, "2022-01-31T00:00:00+00:00"),
    R("2022-13-01 00:00:00", BAD, ""),
    R("2022-00-01 00:00:00", BAD, ""),
    R("2022-01-00 00:00:00", BAD, ""),
    R("2022-03-02 24:00:00", BAD, ""),
    R("2022-03-02 23:60:00", BAD, ""),
    R("2022-03-02 23:59:60", BAD, ""),
    R("2022-03-02 23:59:59", OK, "2022-03-02T23:59:59+00:00"),
    R("2022-03-02", BAD, ""),
    R("1646181262", BAD, ""),
    R("2022-03-02 00:34", BAD, ""),
    R("2022-03-02 00:34:22 ", BAD, ""),
    R(" 2022-03-02 00:34:22", BAD, ""),
    R("2022-03-02 00:34:22 UTC", BAD, ""),
    R("2022-03-02 00:34:22+01", BAD, ""),
    R("2022-03-02 00:34:22+1:00", BAD, ""),
    R("2022-03-02 00:34:22+24:00", BAD, ""),
    R("2022-03-02 00:34:22+01:60", BAD, ""),
    R("2022-03-02 00:34:22Z+01:00", BAD, ""),
    R("2022-03-02T00:34:22Zjunk", BAD, ""),
    R("2022-3-2 00:34:22", BAD, ""),
    R("2022/03/02 00:34:22", BAD, ""),
    R("2022-03-02_00:34:22", BAD, ""),
    R("2022-03-02  00:34:22", BAD, ""),
    R("2022-03-02 00:34:22\0", BAD, ""),
    R("2022-03-02\0000:34:22", BAD, ""),
    R("+2022-03-02 00:34:22", BAD, ""),
    R("20220302T003422Z", BAD, ""),
    R("2022-03-02 0a:34:22", BAD, ""),
    R("", BAD, ""),
};

static const struct row tlp_rows[] = {
    R("CLEAR", OK, "CLEAR"),
    R("clear", OK, "CLEAR"),
    R("WHITE", OK, "CLEAR"),
    R("TLP:WHITE", OK, "CLEAR"),
    R("TLP:GREEN", OK, "GREEN"),
    R("tlp:amber", OK, "AMBER"),
    R("Amber+Strict", OK, "AMBER+STRICT"),
    R("TLP:AMBER+STRICT", OK, "AMBER+STRICT"),
    R("red", OK, "RED"),
    R("TLP:RED", OK, "RED"),
    R("tlp:", BAD, ""),
    R("TLP: RED", BAD, ""),
    R("TLP:TLP:RED", BAD, ""),
    R("TLP-RED", BAD, ""),
    R("amber+", BAD, ""),
    R("amber strict", BAD, ""),
    R("REDD", BAD, ""),
    R("RED\0", BAD, ""),
    R("", BAD, ""),
};

static const struct row registry_rows[] = {
    R("RIPE", OK, "RIPE"),       R("ripe", OK, "RIPE"),      R("RIPE NCC", OK, "RIPE"),
    R("ripencc", OK, "RIPE"),    R("arin", OK, "ARIN"),      R("Afrinic", OK, "AFRINIC"),
    R("apnic", OK, "APNIC"),     R("LACNIC", OK, "LACNIC"),  R("RIPE-NCC", BAD, ""),
    R("RIPE  NCC", BAD, ""),     R("IANA", BAD, ""),         R("", BAD, ""),
    R("ARIN ", BAD, ""),         R("AR\0N", BAD, ""),
};

static const struct row cc_rows[] = {
    R("de", OK, "DE"),  R("DE", OK, "DE"),  R("us", OK, "US"),  R("ad", OK, "AD"),
    R("zw", OK, "ZW"),  R("Ss", OK, "SS"),  R("uk", OK, "UK"),  R("EU", OK, "EU"),
    R("AC", OK, "AC"),  R("CP", OK, "CP"),  R("DG", OK, "DG"),  R("EA", OK, "EA"),
    R("IC", OK, "IC"),  R("TA", OK, "TA"),  R("AP", OK, "AP"),  R("XK", OK, "XK"),
    R("xx", OK, "XX"),  R("QM", OK, "QM"),  R("QZ", OK, "QZ"),  R("AA", OK, "AA"),
    R("ZZ", OK, "ZZ"),  R("GB", OK, "GB"),  R("QL", BAD, ""),   R("AB", BAD, ""),
    R("OO", BAD, ""),   R("FX", BAD, ""),   R("SU", BAD, ""),   R("ZY", BAD, ""),
    R("YU", BAD, ""),   R("D", BAD, ""),    R("DEU", BAD, ""),  R("D1", BAD, ""),
    R("\xc3\x84", BAD, ""), R("\0\0", BAD, ""), R("D\0", BAD, ""), R("", BAD, ""),
    R(" D", BAD, ""),   R("[A", BAD, ""),   R("@A", BAD, ""),
};

static const struct row fqdn_rows[] = {
    R("example.com", OK, "example.com"),
    R("Example.COM", OK, "example.com"),
    R("example.com.", OK, "example.com"),
    R("localhost", OK, "localhost"),
    R("_dmarc.example.com", OK, "_dmarc.example.com"),
    R("a-b.example", OK, "a-b.example"),
    R("123.example", OK, "123.example"),
    R("1a", OK, "1a"),
    R("xn--mnchen-3ya.de", OK, "xn--mnchen-3ya.de"),
    R("m\xc3\xbcnchen.de", OK, "xn--mnchen-3ya.de"),
    R("M\xc3\x9c" "NCHEN.DE", OK, "xn--mnchen-3ya.de"),
    R("fa\xc3\x9f.de", OK, "xn--fa-hia.de"),
    R("\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", OK,
      "xn--r8jz45g.xn--zckzah"),
    R("\xef\xbc\xa5\xef\xbc\xb8.com", OK, "ex.com"),
    R("a\xe3\x80\x82" "b.com", OK, "a.b.com"),
    R("example.com..", BAD, ""),
    R(".example.com", BAD, ""),
    R("a..b", BAD, ""),
    R(".", BAD, ""),
    R("", BAD, ""),
    R("-a.com", BAD, ""),
    R("a-.com", BAD, ""),
    R("1.2.3.4", BAD, ""),
    R("example.123", BAD, ""),
    R("123", BAD, ""),
    R("a b.com", BAD, ""),
    R("ex@mple.com", BAD, ""),
    R("example.com/", BAD, ""),
    R("example.com:80", BAD, ""),
    R(" example.com", BAD, ""),
    R("exa\0mple.com", BAD, ""),
    R("m\xc3\xbc\0nchen.de", BAD, ""),
    R("m\xc3\xbc_nchen.de", BAD, ""),
    R("ex\xc3.com", BAD, ""),
    R("\xc0\xaf.com", BAD, ""),
    R("\xed\xa0\x80.com", BAD, ""),
    R("\xf4\x90\x80\x80.com", BAD, ""),
    R("\xff.com", BAD, ""),
    /* U+2603 is disallowed by IDNA2008, allowed by the transitional fallback */
    R("\xe2\x98\x83.com", OK, "xn--n3h.com"),
    R("\xe2\x80\x8b.com", BAD, ""), /* U+200B alone maps to an empty label */
    R("a\xcc\x88.com", OK, "xn--4ca.com"), /* NFC: a + combining diaeresis */
    R("a\xe3\x80\x82\xe3\x80\x82" "b", BAD, ""),
};

static const struct row url_rows[] = {
    R("http://example.com", OK, "http://example.com"),
    R("HTTP://Example.COM/Path?Q=1#F", OK, "http://example.com/Path?Q=1#F"),
    R("https://user:pw@Example.com:8443/x", OK, "https://user:pw@example.com:8443/x"),
    R("http://example.com:080/", OK, "http://example.com:80/"),
    R("http://example.com:65535", OK, "http://example.com:65535"),
    R("http://example.com./a", OK, "http://example.com/a"),
    R("http://example.com?q", OK, "http://example.com?q"),
    R("http://example.com#f", OK, "http://example.com#f"),
    R("http://1.2.3.4/x", OK, "http://1.2.3.4/x"),
    R("http://1.2.3.4:8080", OK, "http://1.2.3.4:8080"),
    R("http://[2001:DB8::1]:8080/", OK, "http://[2001:db8::1]:8080/"),
    R("http://[0:0::1]/", OK, "http://[::1]/"),
    R("http://[::ffff:1.2.3.4]/", OK, "http://[::ffff:102:304]/"),
    R("http://m\xc3\xbcnchen.de/stra\xc3\x9f" "e", OK, "http://xn--mnchen-3ya.de/stra\xc3\x9f" "e"),
    R("hxxp://evil.example/mal.exe", OK, "hxxp://evil.example/mal.exe"),
    R("git+ssh://host.example/repo.git", OK, "git+ssh://host.example/repo.git"),
    R("http://user@host@example.com/", OK, "http://user@host@example.com/"),
    R("http://example.com/%7e%20a/?x=%00", OK, "http://example.com/%7e%20a/?x=%00"),
    R("http://example.com/\\a", OK, "http://example.com/\\a"),
    R("http://_srv.example.com", OK, "http://_srv.example.com"),
    R("example.com/path", BAD, ""),
    R("//example.com", BAD, ""),
    R("mailto:a@b.com", BAD, ""),
    R("http:example.com", BAD, ""),
    R("http:/example.com", BAD, ""),
    R("1http://x.com", BAD, ""),
    R("ht tp://x.com", BAD, ""),
    R("://x.com", BAD, ""),
    R("http://", BAD, ""),
    R("http:///path", BAD, ""),
    R("http://user@/", BAD, ""),
    R("http://:80/", BAD, ""),
    R("http://example.com:0/", BAD, ""),
    R("http://example.com:65536/", BAD, ""),
    R("http://example.com:/", BAD, ""),
    R("http://example.com:8a/", BAD, ""),
    R("http://example.com:-1/", BAD, ""),
    R("http://010.1.1.1/", BAD, ""),
    R("http://1.2.3/", BAD, ""),
    R("http://1.2.3.4.5/", BAD, ""),
    R("http://[::1/", BAD, ""),
    R("http://[fe80::1%25eth0]/", BAD, ""),
    R("http://[1.2.3.4]/", BAD, ""),
    R("http://[::1]x/", BAD, ""),
    R("http://[]/", BAD, ""),
    R("http://exa mple.com/", BAD, ""),
    R("http://example.com/a b", BAD, ""),
    R("http://example.com/a\tb", BAD, ""),
    R("http://example.com/a\x7f", BAD, ""),
    R("http://example.com/\xc2\x85", BAD, ""),
    R("http://example.com/\xc3\x28", BAD, ""),
    R("http://example.com/\xc0\xaf", BAD, ""),
    R("http://example.com/\xed\xa0\x80", BAD, ""),
    R("http://example.com/\0", BAD, ""),
    R("http://exa\0mple.com/", BAD, ""),
    R("http://us er@example.com/", BAD, ""),
    R("http://example.com\n", BAD, ""),
    R(" http://example.com", BAD, ""),
    R("", BAD, ""),
};

static const struct row utf8_rows[] = {
    R("", OK, "1"),
    R("abc", OK, "1"),
    R("a\0b", OK, "1"),
    R("\xc3\xa9", OK, "1"),
    R("\xe2\x82\xac", OK, "1"),
    R("\xe0\xa0\x80", OK, "1"),
    R("\xed\x9f\xbf", OK, "1"),
    R("\xee\x80\x80", OK, "1"),
    R("\xef\xbf\xbf", OK, "1"),
    R("\xf0\x90\x80\x80", OK, "1"),
    R("\xf0\x9f\x98\x80", OK, "1"),
    R("\xf4\x8f\xbf\xbf", OK, "1"),
    R("0123456789abcdef0123456789abcdef0123456789\xc3\xa9", OK, "1"),
    R("0123456789abcdef0123456789abcdef\xc3\xa9" "0123456789abcdef0123456789", OK, "1"),
    R("\xc0\x80", OK, "0"),
    R("\xc1\xbf", OK, "0"),
    R("\xe0\x80\xaf", OK, "0"),
    R("\xe0\x9f\xbf", OK, "0"),
    R("\xed\xa0\x80", OK, "0"),
    R("\xed\xbf\xbf", OK, "0"),
    R("\xf0\x8f\xbf\xbf", OK, "0"),
    R("\xf4\x90\x80\x80", OK, "0"),
    R("\xf5\x80\x80\x80", OK, "0"),
    R("\xf8\x88\x80\x80\x80", OK, "0"),
    R("\xfe", OK, "0"),
    R("\xff", OK, "0"),
    R("\x80", OK, "0"),
    R("\xbf", OK, "0"),
    R("\xc3", OK, "0"),
    R("\xe2\x82", OK, "0"),
    R("\xf0\x9f\x98", OK, "0"),
    R("\xc3\x28", OK, "0"),
    R("\xe2\x28\xa1", OK, "0"),
    R("\xe2\x82\x28", OK, "0"),
    R("\xf0\x28\x8c\xbc", OK, "0"),
    R("\xf0\x90\x28\xbc", OK, "0"),
    R("\xf0\x90\x8c\x28", OK, "0"),
    R("0123456789abcdef0123456789abcdef0123456789\xc3", OK, "0"),
    R("0123456789abcdef\x80" "0123456789abcdef", OK, "0"),
};

static const struct row base64_rows[] = {
    R("", OK, "1"),        R("Zg==", OK, "1"),     R("Zm8=", OK, "1"),
    R("Zm9v", OK, "1"),    R("Zm9vYmFy", OK, "1"), R("+/+/", OK, "1"),
    R("Zg=", OK, "0"),     R("Zg", OK, "0"),       R("Z===", OK, "0"),
    R("====", OK, "0"),    R("Zm9v\n", OK, "0"),   R("Zm9v\r\n", OK, "0"),
    R("Zm-v", OK, "0"),    R("Zm_v", OK, "0"),     R("Z=g=", OK, "0"),
    R("Zg==Zg==", OK, "0"), R("A\0==", OK, "0"),   R("Zm9 ", OK, "0"),
    R("=Zm9", OK, "0"),    R("\xc3\xa9==", OK, "0"),
};

static void test_ip(void **state) { (void)state; RUN(n_ip, ip_rows); }
static void test_cidr(void **state) { (void)state; RUN(n_cidr, cidr_rows); }
static void test_asn(void **state) { (void)state; RUN(n_asn, asn_rows); }
static void test_port(void **state) { (void)state; RUN(n_port, port_rows); }
static void test_int(void **state) { (void)state; RUN(n_int, int_rows); }
static void test_float(void **state) { (void)state; RUN(n_float, float_rows); }
static void test_bool(void **state) { (void)state; RUN(n_bool, bool_rows); }
static void test_time(void **state) { (void)state; RUN(n_time, time_rows); }
static void test_tlp(void **state) { (void)state; RUN(n_tlp, tlp_rows); }
static void test_registry(void **state) { (void)state; RUN(n_registry, registry_rows); }
static void test_cc(void **state) { (void)state; RUN(n_cc, cc_rows); }
static void test_fqdn(void **state) { (void)state; RUN(n_fqdn, fqdn_rows); }
static void test_url(void **state) { (void)state; RUN(n_url, url_rows); }
static void test_utf8(void **state) { (void)state; RUN(n_utf8, utf8_rows); }
static void test_base64(void **state) { (void)state; RUN(n_base64, base64_rows); }

/* ---- the field table ---- */

static void test_field_table(void **state)
{
    (void)state;
    for (int i = 0; i < LIA_F__COUNT; i++) {
        const char *name = lia_field_name((lia_field)i);
        assert_non_null(name);
        /* lookup is a binary search: LIA_FIELDS must stay sorted */
        if (i > 0)
            assert_true(strcmp(lia_field_name((lia_field)(i - 1)), name) < 0);
        assert_int_equal(lia_field_lookup(name, strlen(name)), i);
        assert_non_null(lia__ftype_name(lia__field_type((lia_field)i)));
        /* prefixes and extensions of a name are not names (unless listed) */
        if (strlen(name) > 1 && lia_field_lookup(name, strlen(name) - 1) >= 0)
            assert_string_equal(lia_field_name((lia_field)lia_field_lookup(name, strlen(name) - 1)),
                                "destination.url");
    }
    assert_int_equal(lia_field_lookup("source.ip", 9), LIA_F_SOURCE_IP);
    assert_int_equal(lia_field_lookup("tlp", 3), LIA_F_TLP);
    assert_int_equal(lia_field_lookup("classification.identifier", 25),
                     LIA_F_CLASSIFICATION_IDENTIFIER);
    assert_int_equal(lia_field_lookup("source.ipx", 10), -1);
    assert_int_equal(lia_field_lookup("source.ip", 8), -1);
    assert_int_equal(lia_field_lookup("Source.ip", 9), -1);
    assert_int_equal(lia_field_lookup("source.ip\0", 10), -1);
    assert_int_equal(lia_field_lookup("", 0), -1);
    assert_int_equal(lia_field_lookup("zzz", 3), -1);
    assert_int_equal(lia_field_lookup("a", 1), -1);
    assert_int_equal(lia_field_lookup(NULL, 0), -1);
    assert_int_equal(lia__field_type(LIA_F_SOURCE_IP), LIA_T_IP);
    assert_int_equal(lia__field_type(LIA_F_TIME_SOURCE), LIA_T_TIME);
    assert_int_equal(lia__field_type(LIA_F_RAW), LIA_T_BASE64);
    assert_string_equal(lia_field_name(LIA_F_SOURCE_NETWORK), "source.network");
    assert_null(lia_field_name(LIA_F__COUNT));
    assert_null(lia_field_name((lia_field)-1));
    for (int t = LIA_T_STRING; t <= LIA_T_JSON; t++)
        assert_non_null(lia__ftype_name((lia_ftype)t));
    assert_string_equal(lia__ftype_name(LIA_T_IP), "IPAddress");
    assert_null(lia__ftype_name((lia_ftype)(LIA_T_JSON + 1)));
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(lia_tlp_name(LIA_TLP_CLEAR), "CLEAR");
    assert_string_equal(lia_tlp_name(LIA_TLP_AMBER_STRICT), "AMBER+STRICT");
    assert_string_equal(lia_tlp_name(LIA_TLP_RED), "RED");
    assert_null(lia_tlp_name(-1));
    assert_null(lia_tlp_name(5));
    assert_string_equal(lia__registry_name(LIA_REG_AFRINIC), "AFRINIC");
    assert_string_equal(lia__registry_name(LIA_REG_RIPE), "RIPE");
    assert_null(lia__registry_name(-1));
    assert_null(lia__registry_name(5));
}

/* ---- IP helpers ---- */

static lia_ip net(const char *s)
{
    lia_ip ip;
    const char *why = NULL;
    int rc = lia_parse_cidr(s, strlen(s), &ip, &why);
    if (rc)
        print_message("net(%s): %s\n", s, why);
    assert_int_equal(rc, LIA_OK);
    return ip;
}

static void test_ip_in(void **state)
{
    static const struct {
        const char *net, *ip;
        int in;
    } rows[] = {
        {"10.0.0.0/8", "10.1.2.3", 1},       {"10.0.0.0/8", "11.0.0.0", 0},
        {"10.0.0.0/8", "9.255.255.255", 0},  {"0.0.0.0/0", "255.255.255.255", 1},
        {"0.0.0.0/0", "::1", 0},             {"1.2.3.4", "1.2.3.4", 1},
        {"1.2.3.4", "1.2.3.5", 0},           {"1.2.3.128/25", "1.2.3.255", 1},
        {"1.2.3.128/25", "1.2.3.127", 0},    {"2001:db8::/32", "2001:db8:ffff::1", 1},
        {"2001:db8::/32", "2001:db9::", 0},  {"::/0", "ffff::", 1},
        {"::/0", "1.2.3.4", 0},              {"2001:db8::/33", "2001:db8:7fff::", 1},
        {"2001:db8::/33", "2001:db8:8000::", 0}, {"::ffff:10.0.0.0/104", "10.9.9.9", 1},
        {"::1", "::1", 1},                   {"::1", "::2", 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        lia_ip n = net(rows[i].net), a = net(rows[i].ip);
        if (lia_ip_in(&n, &a) != rows[i].in)
            print_message("row %zu: %s in %s\n", i, rows[i].ip, rows[i].net);
        assert_int_equal(lia_ip_in(&n, &a), rows[i].in);
    }
    {
        lia_ip bad = net("10.0.0.0/8"), a = net("10.0.0.1");
        bad.prefix = 40;
        assert_int_equal(lia_ip_in(&bad, &a), 0);
        bad.family = 5;
        a.family = 5;
        bad.prefix = 0;
        assert_int_equal(lia_ip_in(&bad, &a), 0);
    }
}

static void test_ip_format(void **state)
{
    char out[LIA_IP_TEXT];
    lia_ip ip = net("2001:db8:1:2:3:4:5:6/128");
    (void)state;
    assert_int_equal(lia_ip_format(&ip, 1, out, sizeof(out)), strlen("2001:db8:1:2:3:4:5:6/128"));
    assert_string_equal(out, "2001:db8:1:2:3:4:5:6/128");
    ip = net("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assert_int_equal(lia_ip_format(&ip, 1, out, sizeof(out)), 43);
    ip = net("1.2.3.4");
    assert_int_equal(lia_ip_format(&ip, 0, out, 4), 3);
    assert_string_equal(out, "1.2");
    assert_int_equal(lia_ip_format(&ip, 0, out, 0), 0);
    assert_int_equal(lia_ip_format(&ip, 1, out, sizeof(out)), 10);
    assert_string_equal(out, "1.2.3.4/32");
    ip.family = 0;
    assert_int_equal(lia_ip_format(&ip, 1, out, sizeof(out)), 0);
    assert_string_equal(out, "");
}

/* Every address with one or two non-zero groups formats, reparses, and
 * gives the same bytes (covers all zero-run positions). */
static void test_ip6_roundtrip(void **state)
{
    (void)state;
    for (int a = 0; a < 8; a++) {
        for (int b = a; b < 8; b++) {
            lia_ip ip, back;
            char txt[LIA_IP_TEXT];
            size_t len;
            memset(&ip, 0, sizeof(ip));
            ip.family = 6;
            ip.prefix = 128;
            ip.addr[2 * a] = 0x12;
            ip.addr[2 * b + 1] = 0x03;
            len = lia_ip_format(&ip, 0, txt, sizeof(txt));
            assert_int_equal(lia_parse_ip(txt, len, &back, NULL), LIA_OK);
            assert_memory_equal(&ip, &back, sizeof(ip));
        }
    }
}

/* ---- time ---- */

static void test_time_roundtrip(void **state)
{
    char txt[LIA_TIME_TEXT];
    (void)state;
    /* every 997th day from 1970 to 9999, at various times of day */
    for (int64_t day = 0; day <= 2932896; day += 997) {
        int64_t us = day * 86400 * INT64_C(1000000) + (day % 86400) * INT64_C(1000000) +
                     (day % 3 ? 0 : day % 1000000);
        int64_t back = -1;
        const char *why = NULL;
        size_t len = lia_time_format(us, txt, sizeof(txt));
        int rc = lia_parse_time(txt, len, &back, &why);
        if (rc || back != us)
            print_message("%s: %s\n", txt, why ? why : "");
        assert_int_equal(rc, LIA_OK);
        assert_int_equal(back, us);
    }
    assert_int_equal(lia_time_format(0, txt, sizeof(txt)), 25);
    assert_string_equal(txt, "1970-01-01T00:00:00+00:00");
    assert_int_equal(lia_time_format(INT64_C(253402300799999999), txt, sizeof(txt)), 32);
    assert_string_equal(txt, "9999-12-31T23:59:59.999999+00:00");
    lia_time_format(-1, txt, sizeof(txt));
    assert_string_equal(txt, "1969-12-31T23:59:59.999999+00:00");
    lia_time_format(INT64_MIN, txt, sizeof(txt));
    assert_string_equal(txt, "-290308-12-21T19:59:05.224192+00:00");
    lia_time_format(INT64_MAX, txt, sizeof(txt));
    assert_string_equal(txt, "294247-01-10T04:00:54.775807+00:00");
    assert_int_equal(lia_time_format(0, txt, 5), 4);
    assert_string_equal(txt, "1970");
}

/* ---- out-parameters are untouched on failure ---- */

static void test_untouched(void **state)
{
    lia_ip ip, ip0;
    uint32_t u32 = 7;
    uint16_t u16 = 7;
    int64_t i64 = 7;
    double d = 7;
    int i = 7;
    char cc[3] = "zz", buf[300] = "keep";
    size_t len = 7;
    (void)state;
    memset(&ip, 0xab, sizeof(ip));
    ip0 = ip;
    assert_int_equal(lia_parse_ip("1.2.3.256", 9, &ip, NULL), LIA_EINVAL);
    assert_int_equal(lia_parse_cidr("1.2.3.4/33", 10, &ip, NULL), LIA_EINVAL);
    assert_int_equal(lia_parse_ip("1::2::3", 7, &ip, NULL), LIA_EINVAL);
    assert_memory_equal(&ip, &ip0, sizeof(ip));
    assert_int_equal(lia_parse_asn("0", 1, &u32, NULL), LIA_EINVAL);
    assert_int_equal(u32, 7);
    assert_int_equal(lia__parse_port("65536", 5, &u16, NULL), LIA_EINVAL);
    assert_int_equal(u16, 7);
    assert_int_equal(lia__parse_int("1x", 2, &i64, NULL), LIA_EINVAL);
    assert_int_equal(i64, 7);
    assert_int_equal(lia__parse_float("nan", 3, &d, NULL), LIA_EINVAL);
    assert_true(d == 7);
    assert_int_equal(lia_parse_bool("maybe", 5, &i, NULL), LIA_EINVAL);
    assert_int_equal(lia_parse_tlp("pink", 4, &i, NULL), LIA_EINVAL);
    assert_int_equal(lia__parse_registry("iana", 4, &i, NULL), LIA_EINVAL);
    assert_int_equal(i, 7);
    assert_int_equal(lia_parse_time("2022-02-30 00:00:00", 19, &i64, NULL), LIA_EINVAL);
    assert_int_equal(i64, 7);
    assert_int_equal(lia_parse_cc("QL", 2, cc, NULL), LIA_EINVAL);
    assert_string_equal(cc, "zz");
    assert_int_equal(lia_parse_fqdn("a..b", 4, buf, sizeof(buf), &len, NULL), LIA_EINVAL);
    assert_int_equal(lia__parse_url("http://a b/", 11, buf, sizeof(buf), &len, NULL), LIA_EINVAL);
    assert_string_equal(buf, "keep");
    assert_int_equal(len, 7);
    /* output buffer too small: an error, nothing written */
    assert_int_equal(lia_parse_fqdn("example.com", 11, buf, 5, &len, NULL), LIA_EINVAL);
    assert_int_equal(lia__parse_url("http://example.com/", 19, buf, 10, &len, NULL), LIA_EINVAL);
    assert_string_equal(buf, "keep");
    assert_int_equal(len, 7);
}

/* ---- length limits and hostile sizes ---- */

static void test_fqdn_limits(void **state)
{
    char in[600], out[LIA_MAX_FQDN + 1];
    size_t len, n;
    const char *why = NULL;
    (void)state;
    /* 63-character label ok, 64 not */
    memset(in, 'a', 63);
    memcpy(in + 63, ".com", 4);
    assert_int_equal(lia_parse_fqdn(in, 67, out, sizeof(out), &len, &why), LIA_OK);
    assert_int_equal(len, 67);
    memset(in, 'a', 64);
    memcpy(in + 64, ".com", 4);
    assert_int_equal(lia_parse_fqdn(in, 68, out, sizeof(out), &len, &why), LIA_EINVAL);
    /* 253 characters ok (with or without a trailing dot), 254 not */
    for (n = 0; n < 253; n++)
        in[n] = (n % 2) ? '.' : 'a';
    assert_int_equal(lia_parse_fqdn(in, 253, out, sizeof(out), &len, &why), LIA_OK);
    assert_int_equal(len, 253);
    in[253] = '.';
    assert_int_equal(lia_parse_fqdn(in, 254, out, sizeof(out), &len, &why), LIA_OK);
    assert_int_equal(len, 253);
    in[253] = 'b';
    in[252] = 'a';
    assert_int_equal(lia_parse_fqdn(in, 254, out, sizeof(out), &len, &why), LIA_EINVAL);
    /* a long Unicode name */
    for (n = 0; n + 2 <= 500; n += 2) {
        in[n] = (char)0xc3;
        in[n + 1] = (char)0xbc;
    }
    assert_int_equal(lia_parse_fqdn(in, 500, out, sizeof(out), &len, &why), LIA_EINVAL);
    assert_int_equal(lia_parse_fqdn(in, 120, out, sizeof(out), &len, &why), LIA_EINVAL);
    assert_int_equal(lia_parse_fqdn(in, 40, out, sizeof(out), &len, &why), LIA_OK);
    assert_memory_equal(out, "xn--", 4);
}

static void test_url_limits(void **state)
{
    static char in[LIA_MAX_URL + 2], out[LIA_MAX_URL + LIA_MAX_FQDN + 16];
    size_t len, n = LIA_MAX_URL;
    const char *why = NULL;
    (void)state;
    memcpy(in, "http://example.com/", 19);
    memset(in + 19, 'a', sizeof(in) - 19);
    assert_int_equal(lia__parse_url(in, n, out, sizeof(out), &len, &why), LIA_OK);
    assert_int_equal(len, n);
    assert_int_equal(lia__parse_url(in, n + 1, out, sizeof(out), &len, &why), LIA_EINVAL);
    assert_string_equal(why, "URL too long");
    /* an IDN host that grows past the limit */
    memcpy(in, "http://\xc3\xbc\xc3\xbc\xc3\xbc/", 14);
    memset(in + 14, 'a', sizeof(in) - 14);
    assert_int_equal(lia__parse_url(in, n, out, sizeof(out), &len, &why), LIA_EINVAL);
    assert_string_equal(why, "URL too long");
    assert_int_equal(lia__parse_url(in, n - 10, out, sizeof(out), &len, &why), LIA_OK);
    assert_memory_equal(out, "http://xn--", 11);
}

static void test_huge(void **state)
{
    const size_t n = 100u * 1024 * 1024;
    char *big = malloc(n), *out = malloc(OUTN);
    const char *why = NULL;
    size_t len;
    lia_ip ip;
    int64_t i64;
    double d;
    (void)state;
    assert_non_null(big);
    assert_non_null(out);
    memset(big, 'a', n);
    memcpy(big, "http://example.com/", 19);
    assert_int_equal(lia__utf8_valid(big, n), 1);
    big[n - 1] = (char)0xc3;
    assert_int_equal(lia__utf8_valid(big, n), 0);
    assert_int_equal(lia__parse_url(big, n, out, OUTN, &len, &why), LIA_EINVAL);
    assert_string_equal(why, "URL too long");
    assert_int_equal(lia_parse_fqdn(big + 7, n - 7, out, OUTN, &len, &why), LIA_EINVAL);
    assert_int_equal(lia__base64_valid(big + 20, n - 20), 0);
    memset(big, '1', n);
    assert_int_equal(lia_parse_ip(big, n, &ip, &why), LIA_EINVAL);
    assert_int_equal(lia_parse_cidr(big, n, &ip, &why), LIA_EINVAL);
    assert_int_equal(lia__parse_int(big, n, &i64, &why), LIA_EINVAL);
    assert_int_equal(lia__parse_float(big, n, &d, &why), LIA_EINVAL);
    assert_int_equal(lia_parse_time(big, n, &i64, &why), LIA_EINVAL);
    memset(big, ':', n);
    assert_int_equal(lia_parse_ip(big, n, &ip, &why), LIA_EINVAL);
    free(big);
    free(out);
}

/* Durations of settings (feed intervals, digest intervals, backoff, the
 * dedup window): one parser for all of them. */
static void test_duration(void **state)
{
    static const struct {
        const char *in;
        int64_t secs; /* 0: refused */
    } cases[] = {
        {"1", 1},         {"3600", 3600},   {"90s", 90},        {"15m", 900},      {"6h", 21600},
        {"1d", 86400},    {"366d", 31622400}, {"31622400", 31622400}, {"367d", 0},  {"31622401", 0},
        {"0", 0},         {"0s", 0},        {"", 0},            {"s", 0},          {"1w", 0},
        {"-1", 0},        {"1.5h", 0},      {" 1h", 0},         {"1h ", 0},        {"99999999999999999999", 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -7;
        const char *why = NULL;
        int rc = lia_parse_duration(cases[i].in, strlen(cases[i].in), &v, &why);
        if (cases[i].secs ? rc != LIA_OK || v != cases[i].secs : rc != LIA_EINVAL || !why || v != -7)
            fail_msg("duration [%s]: rc %d, %lld (%s); want %lld", cases[i].in, rc, (long long)v,
                     why ? why : "-", (long long)cases[i].secs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_table), cmocka_unit_test(test_names),
        cmocka_unit_test(test_ip),          cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_ip_in),       cmocka_unit_test(test_ip_format),
        cmocka_unit_test(test_ip6_roundtrip), cmocka_unit_test(test_asn),
        cmocka_unit_test(test_port),        cmocka_unit_test(test_int),
        cmocka_unit_test(test_float),       cmocka_unit_test(test_bool),
        cmocka_unit_test(test_time),        cmocka_unit_test(test_time_roundtrip),
        cmocka_unit_test(test_tlp),         cmocka_unit_test(test_registry),
        cmocka_unit_test(test_cc),          cmocka_unit_test(test_fqdn),
        cmocka_unit_test(test_fqdn_limits), cmocka_unit_test(test_url),
        cmocka_unit_test(test_url_limits),  cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_base64),      cmocka_unit_test(test_untouched),
        cmocka_unit_test(test_huge),        cmocka_unit_test(test_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
