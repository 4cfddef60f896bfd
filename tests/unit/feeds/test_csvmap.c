/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "csv" with a declarative mapping: columns by name and by position,
 * conversions, constants, unmapped columns, required columns, bad rows and
 * bad mappings, and the same result for every chunk size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "fmt_run.h"

static const char map_named[] =
    "{\"header\": true, \"unmapped\": \"extra\","
    " \"columns\": {"
    "  \"timestamp\": {\"field\": \"time.source\", \"required\": true},"
    "  \"ip\": {\"field\": \"source.ip\", \"required\": true},"
    "  \"port\": \"source.port\","
    "  \"asn\": {\"field\": \"source.asn\", \"convert\": \"zero_is_null\"},"
    "  \"tag\": {\"field\": \"protocol.application\", \"convert\": \"lower\"},"
    "  \"size\": {\"field\": \"extra.response_size\", \"convert\": \"int\"},"
    "  \"missing_optional\": \"source.fqdn\""
    " },"
    " \"constants\": {\"classification.type\": \"vulnerable-system\"}}";

static void run_map(const char *map, const char *in, size_t chunk, fmt_result *r)
{
    char *path = write_temp(map);
    lia_feed_opts o = {.feed = "t", .tlp = -1, .map_path = path};
    assert_non_null(path);
    fmt_run("csv", &o, in, strlen(in), chunk, r);
    unlink(path);
    free(path);
}

static void test_named_columns(void **state)
{
    static const char in[] =
        "timestamp,ip,port,asn,tag,size,Device Type\r\n"
        "2022-03-02 00:34:22,192.0.2.1,502,0,MODBUS,5,plc\r\n"
        "2022-03-02 00:34:23,192.0.2.2,,64512,s7,,\r\n"
        "2022-03-02 00:34:24,,102,64512,s7,1,\r\n"
        "2022-03-02 00:34:25,192.0.2.4,102\r\n"
        "2022-03-02 00:34:26,192.0.2.5,102,64512,s7,big,\r\n"
        "\"2022-03-02 00:34:27\",\"192.0.2.6\",\"1\",\"1\",\"x\",\"1\",\"a \"\"quoted\"\"\nvalue\"\r\n";
    static const char want[] =
        "2 ok {\"classification.taxonomy\":\"vulnerable\",\"classification.type\":\"vulnerable-system\","
        "\"protocol.application\":\"modbus\",\"source.ip\":\"192.0.2.1\",\"source.port\":502,"
        "\"time.source\":\"2022-03-02T00:34:22+00:00\",\"extra.device_type\":\"plc\",\"extra.response_size\":5}\n"
        "3 ok {\"classification.taxonomy\":\"vulnerable\",\"classification.type\":\"vulnerable-system\","
        "\"protocol.application\":\"s7\",\"source.asn\":64512,\"source.ip\":\"192.0.2.2\","
        "\"time.source\":\"2022-03-02T00:34:23+00:00\"}\n"
        "4 err source.ip: required column ip is empty\n"
        "5 err record has 3 fields, the header has 7\n"
        "6 err extra.response_size: \"big\": not a decimal number (column size)\n"
        "7 ok {\"classification.taxonomy\":\"vulnerable\",\"classification.type\":\"vulnerable-system\","
        "\"protocol.application\":\"x\",\"source.asn\":1,\"source.ip\":\"192.0.2.6\",\"source.port\":1,"
        "\"time.source\":\"2022-03-02T00:34:27+00:00\",\"extra.device_type\":\"a \\\"quoted\\\"\\nvalue\","
        "\"extra.response_size\":1}\n";
    size_t len = strlen(in);
    for (size_t chunk = 0; chunk <= len; chunk += (chunk < 40 ? 1 : 17)) {
        fmt_result r;
        run_map(map_named, in, chunk, &r);
        assert_int_equal(r.rc, LIA_OK);
        if (strcmp(lia_buf_cstr(&r.out), want) != 0)
            print_error("chunk %zu\n", chunk);
        assert_string_equal(lia_buf_cstr(&r.out), want);
        fmt_result_free(&r);
    }
}

static void test_required_column_missing(void **state)
{
    fmt_result r;
    run_map(map_named, "timestamp,port\n2022-03-02 00:34:22,1\n", 0, &r);
    assert_int_equal(r.rc, LIA_EPARSE);
    assert_non_null(strstr(r.err.reason, "column ip is missing"));
    fmt_result_free(&r);
    run_map(map_named, "", 0, &r);
    assert_int_equal(r.rc, LIA_EPARSE);
    assert_non_null(strstr(r.err.reason, "no header"));
    fmt_result_free(&r);
}

static void test_positional_and_ignore(void **state)
{
    static const char map[] = "{\"delimiter\": \";\", \"comment\": \"#\", \"unmapped\": \"ignore\","
                              " \"columns\": [\"source.ip\", null, \"source.port\"]}";
    fmt_result r;
    run_map(map, "# a comment\n192.0.2.1;zzz;80;extra\n\n192.0.2.2;;81\n", 0, &r);
    assert_int_equal(r.rc, LIA_OK);
    assert_string_equal(lia_buf_cstr(&r.out),
                        "2 ok {\"source.ip\":\"192.0.2.1\",\"source.port\":80}\n"
                        "4 ok {\"source.ip\":\"192.0.2.2\",\"source.port\":81}\n");
    fmt_result_free(&r);
}

static void test_bad_mappings(void **state)
{
    static const struct {
        const char *map;
        const char *why;
    } cases[] = {
        {"{\"columns\": {\"a\": \"source.nope\"}}", "unknown field"},
        {"{\"columns\": {\"a\": {\"field\": \"source.ip\", \"convert\": \"magic\"}}}", "unknown conversion"},
        {"{\"columns\": {\"a\": \"source.ip\"}, \"bogus\": 1}", "unknown key"},
        {"{\"delimiter\": \";;\", \"columns\": {}}", "one-character"},
        {"{\"header\": true}", "\"columns\""},
        {"{\"columns\": {\"a\": \"source.ip\"}, \"constants\": {\"tlp\": 5}}", "constant must be a string"},
        {"{\"columns\": {\"a\": 1}}", "needs a \"field\""},
        {"{\"columns\": ", "end of file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fmt_result r;
        char msg[1024];
        run_map(cases[i].map, "a\n1\n", 0, &r);
        assert_int_not_equal(r.rc, LIA_OK);
        lia_error_format(&r.err, msg, sizeof msg);
        if (!strstr(msg, cases[i].why))
            print_error("case %zu: \"%s\" lacks \"%s\"\n", i, msg, cases[i].why);
        assert_non_null(strstr(msg, cases[i].why));
        fmt_result_free(&r);
    }
}

static void test_bad_constant_rejects_mapping(void **state)
{
    static const char map[] = "{\"columns\": {\"ip\": \"source.ip\"},"
                              " \"constants\": {\"classification.type\": \"nonsense\"}}";
    fmt_result r;
    char msg[1024];
    run_map(map, "ip\n192.0.2.1\n", 0, &r);
    assert_int_equal(r.rc, LIA_EINVAL);
    lia_error_format(&r.err, msg, sizeof msg);
    assert_non_null(strstr(msg, "classification.type: \"nonsense\": mapping"));
    assert_non_null(strstr(msg, "constant: not an RSIT classification.type"));
    fmt_result_free(&r);
}

/* The conversions zero_is_null, bool, float and trim (docs/csv-mapping.md),
 * one column each, on a field and on extra.* (where bool and float store
 * JSON booleans and numbers); a value a conversion refuses quarantines the
 * row with the column named. */
static const char map_convs[] = "{\"header\": true, \"columns\": {"
                                "  \"ip\": \"source.ip\","
                                "  \"asn\": {\"field\": \"source.asn\", \"convert\": \"zero_is_null\"},"
                                "  \"z\": {\"field\": \"extra.z\", \"convert\": \"zero_is_null\"},"
                                "  \"b\": {\"field\": \"extra.b\", \"convert\": \"bool\"},"
                                "  \"f\": {\"field\": \"extra.f\", \"convert\": \"float\"},"
                                "  \"name\": {\"field\": \"source.fqdn\", \"convert\": \"trim\"},"
                                "  \"t\": {\"field\": \"extra.t\", \"convert\": \"trim\"}"
                                " },"
                                " \"constants\": {\"classification.type\": \"scanner\"}}";

static void test_conversions(void **state)
{
    static const struct {
        const char *row;  /* ip,asn,z,b,f,name,t */
        const char *want; /* the record's line of fmt_run's output after "2 " */
    } cases[] = {
        /* zero_is_null: 0 and empty are absent, anything else is kept (also 00 and 0.0) */
        {"192.0.2.1,0,0,,,,", "ok "
                              "{\"classification.taxonomy\":\"information-gathering\",\"classification."
                              "type\":\"scanner\",\"source.ip\":\"192.0.2.1\"}"},
        {"192.0.2.1,,00,,,,", "ok "
                              "{\"classification.taxonomy\":\"information-gathering\",\"classification."
                              "type\":\"scanner\",\"source.ip\":\"192.0.2.1\",\"extra.z\":\"00\"}"},
        {"192.0.2.1,64496,0.0,,,,",
         "ok "
         "{\"classification.taxonomy\":\"information-gathering\",\"classification.type\":\"scanner\","
         "\"source.asn\":64496,\"source.ip\":\"192.0.2.1\",\"extra.z\":\"0.0\"}"},
        /* bool: every word of the one list, any case, as a JSON boolean */
        {"192.0.2.1,,,TRUE,,,", "ok "
                                "{\"classification.taxonomy\":\"information-gathering\",\"classification."
                                "type\":\"scanner\",\"source.ip\":\"192.0.2.1\",\"extra.b\":true}"},
        {"192.0.2.1,,,no,,,", "ok "
                              "{\"classification.taxonomy\":\"information-gathering\",\"classification."
                              "type\":\"scanner\",\"source.ip\":\"192.0.2.1\",\"extra.b\":false}"},
        {"192.0.2.1,,,Y,,,", "ok "
                             "{\"classification.taxonomy\":\"information-gathering\",\"classification.type\":"
                             "\"scanner\",\"source.ip\":\"192.0.2.1\",\"extra.b\":true}"},
        {"192.0.2.1,,,0,,,", "ok "
                             "{\"classification.taxonomy\":\"information-gathering\",\"classification.type\":"
                             "\"scanner\",\"source.ip\":\"192.0.2.1\",\"extra.b\":false}"},
        {"192.0.2.1,,,Disabled,,,", "ok "
                                    "{\"classification.taxonomy\":\"information-gathering\",\"classification."
                                    "type\":\"scanner\",\"source.ip\":\"192.0.2.1\",\"extra.b\":false}"},
        {"192.0.2.1,,,maybe,,,", "err "},
        /* float: a JSON number; what is not a number quarantines the row */
        {"192.0.2.1,,,,1.5,,", "ok "
                               "{\"classification.taxonomy\":\"information-gathering\",\"classification."
                               "type\":\"scanner\",\"source.ip\":\"192.0.2.1\",\"extra.f\":1.5}"},
        {"192.0.2.1,,,,-2e3,,", "ok "
                                "{\"classification.taxonomy\":\"information-gathering\",\"classification."
                                "type\":\"scanner\",\"source.ip\":\"192.0.2.1\",\"extra.f\":-2000.0}"},
        {"192.0.2.1,,,,1.5x,,", "err "},
        /* trim: spaces and tabs at both ends go, inner ones stay */
        {"192.0.2.1,,,,,  Example.COM\t,",
         "ok "
         "{\"classification.taxonomy\":\"information-gathering\",\"classification.type\":\"scanner\","
         "\"source.fqdn\":\"example.com\",\"source.ip\":\"192.0.2.1\"}"},
        {"192.0.2.1,,,,,,\t a  b ", "ok "
                                    "{\"classification.taxonomy\":\"information-gathering\",\"classification."
                                    "type\":\"scanner\",\"source.ip\":\"192.0.2.1\",\"extra.t\":\"a  b\"}"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char in[256], want[512], want_nl[sizeof want + 1];
        fmt_result r;
        snprintf(in, sizeof in, "ip,asn,z,b,f,name,t\n%s\n", cases[i].row);
        snprintf(want, sizeof want, "2 %s", cases[i].want);
        run_map(map_convs, in, 0, &r);
        assert_int_equal(r.rc, LIA_OK);
        const char *got = lia_buf_cstr(&r.out);
        if (strncmp(got, want, strlen(want)) != 0 ||
            (want[2] == 'o' && strcmp(got + strlen(want), "\n") != 0))
            print_error("case %zu: %s\n", i, cases[i].row);
        if (want[2] == 'e') /* refused: quarantined, and the reason names the column's field */
            assert_true(strncmp(got, want, strlen(want)) == 0 && strstr(got, i < 9 ? "extra.b" : "extra.f"));
        else
            assert_string_equal(got, (snprintf(want_nl, sizeof want_nl, "%s\n", want), want_nl));
        fmt_result_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_columns),
        cmocka_unit_test(test_required_column_missing),
        cmocka_unit_test(test_positional_and_ignore),
        cmocka_unit_test(test_bad_mappings),
        cmocka_unit_test(test_bad_constant_rejects_mapping),
        cmocka_unit_test(test_conversions),
    };
    return cmocka_run_group_tests_name("csvmap", tests, NULL, NULL);
}
