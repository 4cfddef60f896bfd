/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for src/enrich/sectors.c: the shipped rules (share/sectors.json)
 * on typical events, rule semantics (first match per output, all conditions
 * must hold), extra.* output, and rule-file errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/enrich.h"
#include "enrich/internal.h"

static lia_sectors *shipped(void)
{
    char path[4096];
    const char *root = getenv("LIAISON_SOURCE_ROOT");
    lia_sectors *s = NULL;
    lia_error err;
    snprintf(path, sizeof path, "%s/share/sectors.json", root ? root : ".");
    lia_error_clear(&err);
    if (lia__sectors_load(path, &s, &err))
        fail_msg("cannot load %s: %s", path, err.reason);
    return s;
}

/* Build an event from "name=value;name=value". */
static void make(lia_event *ev, const char *spec)
{
    char buf[1024];
    lia_error err;
    snprintf(buf, sizeof buf, "%s", spec);
    lia_event_reset(ev);
    for (char *p = buf; p && *p;) {
        char *semi = strchr(p, ';'), *eq;
        if (semi)
            *semi = '\0';
        eq = strchr(p, '=');
        assert_non_null(eq);
        if (lia_event_set_name(ev, p, (size_t)(eq - p), eq + 1, strlen(eq + 1), &err))
            fail_msg("bad test field %s: %s", p, err.reason);
        p = semi ? semi + 1 : NULL;
    }
}

struct row {
    const char *report; /* report type */
    const char *name;   /* report file name */
    const char *fields;
    const char *sector;   /* NULL = none */
    const char *protocol; /* NULL = none */
};

static void test_shipped_rules(void **state)
{
    static const struct row rows[] = {
        {NULL, NULL, "source.port=502;protocol.transport=tcp", "ics", "modbus"},
        {NULL, NULL, "source.port=102;protocol.transport=tcp", "ics", "s7"},
        {NULL, NULL, "source.port=47808;protocol.transport=udp", "ics", "bacnet"},
        {NULL, NULL, "source.port=47808;protocol.transport=tcp", NULL, NULL}, /* BACnet is UDP */
        {NULL, NULL, "source.port=20000;protocol.transport=tcp", "ics", "dnp3"},
        {NULL, NULL, "source.port=44818;protocol.transport=tcp", "ics", "ethernetip"},
        {NULL, NULL, "source.port=2404;protocol.transport=tcp", "ics", "iec-104"},
        {NULL, NULL, "source.port=1911;protocol.transport=tcp", "ics", "fox"},
        {NULL, NULL, "source.port=4840;protocol.transport=tcp", "ics", "opc-ua"},
        {NULL, NULL, "source.port=1883;protocol.transport=tcp", "iot", NULL},
        {NULL, NULL, "source.port=8883;protocol.transport=tcp", "iot", NULL},
        {NULL, NULL, "source.port=5683;protocol.transport=udp", "iot", NULL},
        {NULL, NULL, "source.port=23;protocol.transport=tcp", "iot", NULL},
        {NULL, NULL, "source.port=2323", "iot", NULL},
        {NULL, NULL, "source.port=443;protocol.transport=tcp", NULL, NULL},
        /* the application beats the port */
        {NULL, NULL, "source.port=8080;protocol.application=bacnet", "ics", "bacnet"},
        {NULL, NULL, "source.port=502;protocol.application=S7comm", "ics", "s7"},
        {NULL, NULL, "protocol.application=mqtt", "iot", NULL},
        /* destination.port is the service port when present */
        {NULL, NULL, "source.port=502;destination.port=23;protocol.transport=tcp", "iot", NULL},
        /* report type or file name */
        {"scan_ics", NULL, "source.port=9999", "ics", NULL},
        {NULL, "2026-11-27-scan_ics-demo.csv", "source.port=502;protocol.transport=tcp", "ics", "modbus"},
        {NULL, "2026-11-27-scan_mqtt-demo.csv", "source.port=1", "iot", NULL},
        /* tags and identifiers */
        {NULL, NULL, "extra.tag=scada;source.port=1", "ics", NULL},
        {NULL, NULL, "extra.tag=mirai,telnet;source.port=1", "iot", NULL},
        {NULL, NULL, "classification.identifier=mirai-botnet", "iot", NULL},
        {NULL, NULL, "classification.type=phishing", NULL, NULL},
    };
    lia_sectors *s = shipped();
    lia_event ev;
    (void)state;
    assert_true(lia__sectors_count(s) > 40);
    lia_event_init(&ev);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lia_sector_ctx ctx = {rows[i].report, rows[i].name, NULL};
        lia_sector_result r;
        make(&ev, rows[i].fields);
        for (int memo = 0; memo < 2; memo++) { /* with and without the report memo */
            if (memo)
                assert_int_equal(lia__sectors_prepare(s, &ctx), LIA_OK);
            int m = lia__sectors_match(s, &ctx, &ev, &r);
            const char *gs = r.sector ? r.sector : "(none)", *ws = rows[i].sector ? rows[i].sector : "(none)";
            const char *gp = r.ics_protocol ? r.ics_protocol : "(none)";
            const char *wp = rows[i].protocol ? rows[i].protocol : "(none)";
            if (strcmp(gs, ws) || strcmp(gp, wp))
                print_message("row %zu (%s) memo %d: sector %s protocol %s; want %s %s\n", i, rows[i].fields,
                              memo, gs, gp, ws, wp);
            assert_string_equal(gs, ws);
            assert_string_equal(gp, wp);
            assert_int_equal(m, rows[i].sector || rows[i].protocol);
        }
        lia__sectors_ctx_free(&ctx);
    }
    lia_event_free(&ev);
    lia__sectors_destroy(s);
}

static void test_apply_never_overwrites(void **state)
{
    lia_sectors *s = shipped();
    lia_event ev;
    lia_error err;
    lia_buf json;
    (void)state;
    lia_event_init(&ev);
    lia_buf_init(&json, 1 << 16);
    make(&ev, "source.port=502;protocol.transport=tcp");
    assert_int_equal(lia__sectors_apply(s, NULL, &ev, &err), 2);
    assert_int_equal(lia_event_to_json(&ev, &json), LIA_OK);
    assert_non_null(strstr(json.ptr, "\"extra.sector\":\"ics\""));
    assert_non_null(strstr(json.ptr, "\"extra.ics_protocol\":\"modbus\""));
    /* applying again changes nothing */
    assert_int_equal(lia__sectors_apply(s, NULL, &ev, &err), 0);
    /* a feed's own extra.sector stays */
    make(&ev, "source.port=502;protocol.transport=tcp;extra.sector=energy");
    assert_int_equal(lia__sectors_apply(s, NULL, &ev, &err), 1);
    lia_buf_reset(&json);
    lia_event_to_json(&ev, &json);
    assert_non_null(strstr(json.ptr, "\"extra.sector\":\"energy\""));
    assert_null(strstr(json.ptr, "\"extra.sector\":\"ics\""));
    lia_buf_free(&json);
    lia_event_free(&ev);
    lia__sectors_destroy(s);
}

static void test_semantics(void **state)
{
    /* first rule that sets an output wins; all conditions must hold; port ranges */
    const char *rules =
        "{\"rules\": ["
        "{\"name\": \"a\", \"sector\": \"one\", \"match\": {\"port\": [\"100-200\"], \"transport\": "
        "\"udp\"}},"
        "{\"name\": \"b\", \"sector\": \"two\", \"ics_protocol\": \"p2\", \"match\": {\"port\": [150]}},"
        "{\"name\": \"c\", \"ics_protocol\": \"p3\", \"match\": {\"feed\": [\"Feed-*\"]}}"
        "]}";
    lia_sectors *s = NULL;
    lia_error err;
    lia_event ev;
    lia_sector_result r;
    (void)state;
    assert_int_equal(lia__sectors_parse(rules, strlen(rules), &s, &err), LIA_OK);
    lia_event_init(&ev);
    make(&ev, "source.port=150;protocol.transport=udp");
    lia__sectors_match(s, NULL, &ev, &r);
    assert_string_equal(r.sector, "one");
    assert_string_equal(r.ics_protocol, "p2");
    assert_int_equal(r.sector_rule, 0);
    assert_int_equal(r.protocol_rule, 1);
    make(&ev, "source.port=150;protocol.transport=tcp;feed.name=feed-x");
    lia__sectors_match(s, NULL, &ev, &r);
    assert_string_equal(r.sector, "two");
    assert_string_equal(r.ics_protocol, "p2");
    make(&ev, "source.port=201;feed.name=FEED-y");
    lia__sectors_match(s, NULL, &ev, &r);
    assert_null(r.sector);
    assert_string_equal(r.ics_protocol, "p3");
    lia_event_free(&ev);
    lia__sectors_destroy(s);
}

static void test_rule_errors(void **state)
{
    static const struct {
        const char *json;
        const char *field; /* expected err.field */
    } rows[] = {
        {"[]", "rules"},
        {"{\"rules\": {}}", "rules"},
        {"{\"rules\": [], \"extra\": 1}", "extra"},
        {"{\"rules\": [1]}", "rules[0]"},
        {"{\"rules\": [{\"sector\": \"ics\"}]}", "rules[0].match"},
        {"{\"rules\": [{\"match\": {\"port\": [1]}}]}", "rules[0]"},
        {"{\"rules\": [{\"sector\": \"ics\", \"match\": {\"port\": [70000]}}]}", "rules[0].port"},
        {"{\"rules\": [{\"sector\": \"ics\", \"match\": {\"port\": [\"9-3\"]}}]}", "rules[0].port"},
        {"{\"rules\": [{\"sector\": \"ics\", \"match\": {\"colour\": [\"red\"]}}]}", "rules[0].match.colour"},
        {"{\"rules\": [{\"sector\": \"ICS!\", \"match\": {\"port\": [1]}}]}", "rules[0].sector"},
        {"{\"rules\": [{\"sector\": \"ics\", \"match\": {\"tag\": []}}]}", "rules[0].tag"},
        {"{\"rules\": [{\"sector\": \"ics\", \"match\": {\"tag\": [3]}}]}", "rules[0].tag"},
        {"{\"rules\": [{\"sector\": \"ics\", \"bogus\": 1, \"match\": {\"tag\": [\"x\"]}}]}",
         "rules[0].bogus"},
        {"{\"rules\": [", ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lia_sectors *s = NULL;
        lia_error err;
        lia_error_clear(&err);
        int rc = lia__sectors_parse(rows[i].json, strlen(rows[i].json), &s, &err);
        if (rc == LIA_OK || strcmp(err.field, rows[i].field))
            print_message("row %zu: rc %d field \"%s\" reason \"%s\"\n", i, rc, err.field, err.reason);
        assert_int_equal(rc, LIA_EPARSE);
        assert_string_equal(err.field, rows[i].field);
        assert_true(err.reason[0] != '\0');
        assert_null(s);
    }
}

/* An unknown key too long for err.field is named whole in err.value, under
 * the field of the object that holds it, never cut short in the field. */
static void test_long_unknown_key(void **state)
{
    char key[LIA_ERR_FIELD_MAX + 40], json[LIA_ERR_FIELD_MAX + 200];
    static const char *const fmts[] = {
        "{\"rules\": [{\"sector\": \"ics\", \"match\": {\"%s\": [\"red\"]}}]}",
        "{\"rules\": [{\"sector\": \"ics\", \"%s\": 1, \"match\": {\"tag\": [\"x\"]}}]}",
    };
    static const char *const fields[] = {"rules[0].match", "rules[0]"};
    (void)state;
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    for (size_t i = 0; i < 2; i++) {
        lia_sectors *s = NULL;
        lia_error err;
        lia_error_clear(&err);
        int n = snprintf(json, sizeof json, fmts[i], key);
        assert_true(n > 0 && (size_t)n < sizeof json);
        assert_int_equal(lia__sectors_parse(json, strlen(json), &s, &err), LIA_EPARSE);
        assert_string_equal(err.field, fields[i]);
        assert_string_equal(err.value, key);
        assert_null(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_rules),    cmocka_unit_test(test_apply_never_overwrites),
        cmocka_unit_test(test_semantics),        cmocka_unit_test(test_rule_errors),
        cmocka_unit_test(test_long_unknown_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
