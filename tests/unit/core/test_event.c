/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The harmonised event: setting every field type by name, normalised text,
 * cross-field rules, extra keys, JSON round trip, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/liaison.h"

typedef struct set_case {
    const char *field;
    const char *in;
    int rc;            /* LIA_OK or expected error */
    const char *out;   /* normalised text, or the expected reason substring */
} set_case;

static const set_case set_cases[] = {
    {"source.ip", "192.0.2.1", LIA_OK, "192.0.2.1"},
    {"source.ip", "2001:DB8:0:0:0:0:0:1", LIA_OK, "2001:db8::1"},
    {"source.ip", "::ffff:192.0.2.7", LIA_OK, "192.0.2.7"},
    {"source.ip", "192.0.2.256", LIA_EINVAL, "source.ip"},
    {"source.network", "192.0.2.77/24", LIA_OK, "192.0.2.0/24"},
    {"source.asn", "AS64496", LIA_OK, "64496"},
    {"source.asn", "0", LIA_EINVAL, "source.asn"},
    {"source.port", "65535", LIA_OK, "65535"},
    {"source.port", "65536", LIA_EINVAL, "source.port"},
    {"source.geolocation.cc", "nl", LIA_OK, "NL"},
    {"source.geolocation.cc", "JJ", LIA_EINVAL, "source.geolocation.cc"},
    {"source.fqdn", "WWW.Example.COM.", LIA_OK, "www.example.com"},
    {"source.fqdn", "bücher.example", LIA_OK, "xn--bcher-kva.example"},
    {"source.url", "HTTP://Example.COM/Path?q=1", LIA_OK, "http://example.com/Path?q=1"},
    {"source.url", "example.com/x", LIA_EINVAL, "source.url"},
    {"time.source", "2022-03-02 00:34:22", LIA_OK, "2022-03-02T00:34:22+00:00"},
    {"time.source", "2022-03-02T02:34:22+02:00", LIA_OK, "2022-03-02T00:34:22+00:00"},
    {"time.source", "2022-02-30 00:00:00", LIA_EINVAL, "time.source"},
    {"tlp", "amber+strict", LIA_OK, "AMBER+STRICT"},
    {"tlp", "TLP:WHITE", LIA_OK, "CLEAR"},
    {"tlp", "PURPLE", LIA_EINVAL, "tlp"},
    {"classification.type", "Vulnerable-System", LIA_OK, "vulnerable-system"},
    {"classification.type", "pwned", LIA_EINVAL, "classification.type"},
    {"classification.taxonomy", "fraud", LIA_OK, "fraud"},
    {"malware.name", "QakBot", LIA_OK, "qakbot"},
    {"source.tor_node", "true", LIA_OK, "true"},
    {"source.geolocation.latitude", "52.1", LIA_OK, "52.1"},
    {"feed.accuracy", "101", LIA_EINVAL, "feed.accuracy"},
    {"source.registry", "ripe", LIA_OK, "RIPE"},
    {"raw", "dGVzdA==", LIA_OK, "dGVzdA=="},
    {"raw", "dGVzdA=", LIA_EINVAL, "raw"},
    {"comment", "line\nbreak is fine", LIA_OK, "line\nbreak is fine"},
    {"comment", "bad \xc3\x28 utf8", LIA_EINVAL, "invalid UTF-8"},
    {"comment", "", LIA_EINVAL, "empty value"},
    {"output", "{\"a\": [1, 2]}", LIA_OK, "{\"a\":[1,2]}"},
    {"output", "{\"a\": ", LIA_EINVAL, "invalid JSON"},
    {"no.such.field", "x", LIA_EINVAL, "unknown field"},
};

static void test_set_by_name(void **state)
{
    lia_event ev;
    char out[512], msg[1024];
    lia_event_init(&ev);
    for (size_t i = 0; i < sizeof set_cases / sizeof set_cases[0]; i++) {
        const set_case *c = &set_cases[i];
        lia_error err;
        int rc;
        lia_event_reset(&ev);
        lia_error_clear(&err);
        rc = lia_event_set_name(&ev, c->field, strlen(c->field), c->in, strlen(c->in), &err);
        if (rc != c->rc)
            print_error("case %zu: %s=\"%s\"\n", i, c->field, c->in);
        assert_int_equal(rc, c->rc);
        if (rc == LIA_OK) {
            int f = lia_field_lookup(c->field, strlen(c->field));
            assert_true(f >= 0);
            lia_event_text(&ev, (lia_field)f, out, sizeof out);
            assert_string_equal(out, c->out);
        } else {
            lia_error_format(&err, msg, sizeof msg);
            if (!strstr(msg, c->out))
                print_error("case %zu: message \"%s\" lacks \"%s\"\n", i, msg, c->out);
            assert_non_null(strstr(msg, c->out));
        }
    }
    lia_event_free(&ev);
}

static void test_error_names_value_escaped(void **state)
{
    lia_event ev;
    lia_error err;
    char msg[1024];
    static const char bad[] = "1.2.3.4\x01\"x";
    lia_event_init(&ev);
    lia_error_clear(&err);
    assert_int_equal(lia_event_set_name(&ev, "source.ip", 9, bad, sizeof bad - 1, &err), LIA_EINVAL);
    lia_error_where(&err, "report.csv", 42);
    lia_error_format(&err, msg, sizeof msg);
    /* report and line, field, escaped value, reason */
    assert_non_null(strstr(msg, "report.csv:42: source.ip: \"1.2.3.4\\x01\\\"x\": "));
    lia_event_free(&ev);
}

static void test_taxonomy_from_type(void **state)
{
    lia_event ev;
    lia_error err;
    char out[64];
    lia_event_init(&ev);
    assert_int_equal(lia_event_set_name(&ev, "classification.type", 19, "c2-server", 9, &err), LIA_OK);
    assert_int_equal(lia_event_finish(&ev, &err), LIA_OK);
    lia_event_text(&ev, LIA_F_CLASSIFICATION_TAXONOMY, out, sizeof out);
    assert_string_equal(out, "malicious-code");
    /* a taxonomy that does not fit the type is an error */
    lia_event_reset(&ev);
    lia_event_set_name(&ev, "classification.type", 19, "phishing", 8, &err);
    lia_event_set_name(&ev, "classification.taxonomy", 23, "vulnerable", 10, &err);
    assert_int_equal(lia_event_finish(&ev, &err), LIA_EINVAL);
    assert_string_equal(err.field, "classification.taxonomy");
    assert_non_null(strstr(err.reason, "fraud"));
    /* an empty event is an error */
    lia_event_reset(&ev);
    assert_int_equal(lia_event_finish(&ev, &err), LIA_EINVAL);
    lia_event_free(&ev);
}

static void test_extra_keys(void **state)
{
    lia_event ev;
    lia_error err;
    lia_buf js;
    lia_event_init(&ev);
    lia_buf_init(&js, 1 << 20);
    assert_int_equal(lia_event_extra_str(&ev, "device_vendor", 13, "Siemens \"AG\"", 12, &err), LIA_OK);
    assert_int_equal(lia_event_extra_int(&ev, "response_size", 13, 42, &err), LIA_OK);
    assert_int_equal(lia_event_extra_int(&ev, "response_size", 13, 43, &err), LIA_EINVAL); /* duplicate */
    assert_string_equal(err.reason, "duplicate key");
    assert_int_equal(lia_event_extra_str(&ev, "Bad Key", 7, "x", 1, &err), LIA_EINVAL);
    assert_int_equal(lia_event_extra_str(&ev, "", 0, "x", 1, &err), LIA_EINVAL);
    assert_int_equal(lia_event_to_json(&ev, &js), LIA_OK);
    assert_string_equal(js.ptr, "{\"extra.device_vendor\":\"Siemens \\\"AG\\\"\",\"extra.response_size\":42}");
    lia_buf_free(&js);
    lia_event_free(&ev);
}

static void test_extra_key_limit(void **state)
{
    lia_event ev;
    lia_error err;
    char key[16];
    int rc = LIA_OK, i;
    lia_event_init(&ev);
    for (i = 0; i < LIA_MAX_EXTRA_KEYS + 10 && rc == LIA_OK; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        rc = lia_event_extra_int(&ev, key, (size_t)n, i, &err);
    }
    assert_int_equal(rc, LIA_ELIMIT);
    assert_int_equal(i - 1, LIA_MAX_EXTRA_KEYS);
    lia_event_free(&ev);
}

static void test_json_round_trip(void **state)
{
    static const char in[] =
        "{\"classification.type\":\"vulnerable-system\",\"source.ip\":\"2001:db8::1\","
        "\"source.port\":502,\"source.asn\":\"AS64512\",\"time.source\":\"2022-03-02T00:34:22Z\","
        "\"tlp\":\"green\",\"source.tor_node\":false,\"extra\":{\"tag\":\"modbus\",\"n\":[1,2]},"
        "\"extra.z\":null,\"__type\":\"Event\"}";
    static const char want[] =
        "{\"classification.type\":\"vulnerable-system\",\"source.asn\":64512,\"source.ip\":\"2001:db8::1\","
        "\"source.port\":502,\"source.tor_node\":false,\"time.source\":\"2022-03-02T00:34:22+00:00\","
        "\"tlp\":\"GREEN\",\"extra.n\":[1,2],\"extra.tag\":\"modbus\",\"extra.z\":null}";
    lia_event ev, ev2;
    lia_error err;
    lia_buf a, b;
    lia_event_init(&ev);
    lia_event_init(&ev2);
    lia_buf_init(&a, 1 << 20);
    lia_buf_init(&b, 1 << 20);
    lia_error_clear(&err);
    assert_int_equal(lia_event_from_json(&ev, in, sizeof in - 1, &err), LIA_OK);
    lia_event_to_json(&ev, &a);
    assert_string_equal(a.ptr, want);
    assert_int_equal(lia_event_from_json(&ev2, a.ptr, a.len, &err), LIA_OK);
    lia_event_to_json(&ev2, &b);
    assert_string_equal(a.ptr, b.ptr);
    lia_buf_free(&a);
    lia_buf_free(&b);
    lia_event_free(&ev);
    lia_event_free(&ev2);
}

static void test_json_hostile(void **state)
{
    static const struct {
        const char *in;
        size_t len;
        const char *why;
    } cases[] = {
        {"{\"source.ip\":\"1.2.3.4\",\"source.ip\":\"1.2.3.5\"}", 0, "duplicate"},
        {"[1,2]", 0, "object"},
        {"{\"source.ip\":[\"1.2.3.4\"]}", 0, "array"},
        {"{\"bogus\":1}", 0, "unknown field"},
        {"{\"comment\":\"a\\u0000b\"}", 0, "NUL"},
        {"{\"comment\":\"\xff\"}", 0, "invalid JSON"},
        {"{\"source.port\":1e3}", 0, "source.port"},
        {"{\"source.port\":true}", 0, "boolean"},
        {"{\"comment\":\"x\"}trailing", 0, "invalid JSON"},
        {"{\"comment\":\"x\0y\"}", 17, "invalid JSON"},
    };
    lia_event ev;
    lia_event_init(&ev);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_error err;
        char msg[1024];
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in);
        lia_error_clear(&err);
        if (lia_event_from_json(&ev, cases[i].in, n, &err) == LIA_OK)
            fail_msg("case %zu: \"%s\" was accepted", i, cases[i].in);
        lia_error_format(&err, msg, sizeof msg);
        if (!strstr(msg, cases[i].why))
            print_error("case %zu: \"%s\" lacks \"%s\"\n", i, msg, cases[i].why);
        assert_non_null(strstr(msg, cases[i].why));
    }
    lia_event_free(&ev);
}

static void test_overlong_values(void **state)
{
    size_t n = (size_t)100 << 20; /* 100 MB */
    char *big = malloc(n);
    lia_event ev;
    lia_error err;
    assert_non_null(big);
    memset(big, 'a', n);
    lia_event_init(&ev);
    assert_int_equal(lia_event_set(&ev, LIA_F_COMMENT, big, n, &err), LIA_ELIMIT);
    assert_string_equal(err.field, "comment");
    assert_int_not_equal(lia_event_set(&ev, LIA_F_SOURCE_URL, big, n, &err), LIA_OK);
    assert_int_not_equal(lia_event_set(&ev, LIA_F_SOURCE_FQDN, big, n, &err), LIA_OK);
    assert_int_not_equal(lia_event_extra_str(&ev, "x", 1, big, n, &err), LIA_OK);
    /* many values that each fit, but not all together: the event cap holds */
    int rc = LIA_OK;
    for (int i = 0; i < 64 && rc == LIA_OK; i++)
        rc = lia_event_set(&ev, LIA_F_COMMENT, big, LIA_MAX_STRING, &err);
    assert_int_equal(rc, LIA_ELIMIT);
    assert_true(ev.text.len <= LIA_MAX_EVENT_TEXT);
    /* the event is still usable after the error */
    assert_int_equal(lia_event_set(&ev, LIA_F_SOURCE_IP, "192.0.2.1", 9, &err), LIA_OK);
    lia_event_free(&ev);
    free(big);
}

static void test_field_table(void **state)
{
    /* every field name looks itself up; the harmonisation's typical names exist */
    for (int f = 0; f < LIA_F__COUNT; f++) {
        const char *n = lia_field_name((lia_field)f);
        assert_int_equal(lia_field_lookup(n, strlen(n)), f);
    }
    assert_int_equal(lia_field_lookup("source.ip", 9), LIA_F_SOURCE_IP);
    assert_int_equal(lia_field_lookup("source.i", 8), -1);
    assert_int_equal(lia_field_lookup("extra", 5), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_by_name),
        cmocka_unit_test(test_error_names_value_escaped),
        cmocka_unit_test(test_taxonomy_from_type),
        cmocka_unit_test(test_extra_keys),
        cmocka_unit_test(test_extra_key_limit),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_hostile),
        cmocka_unit_test(test_overlong_values),
        cmocka_unit_test(test_field_table),
    };
    return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
