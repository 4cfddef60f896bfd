/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for the Shadowserver schema loader, report detection, the
 * schema's conversions and the engine (src/feeds/shadowserver.c,
 * src/feeds/convs_intelmq.c). Table-driven; failures print both values. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "feeds/csvmap.h"
#include "liaison/liaison.h"
#include "core/records.h"
#include "feeds/shadowserver_internal.h"

/* ---- conversions ---- */

static void test_conversions(void **state)
{
    static const struct {
        const char *conv, *in;
        int kind;         /* LIA_CONV_* or < 0 */
        const char *out;  /* expected output (kind > 0) */
    } t[] = {
        {"add_UTC_to_timestamp", "2024-05-01 10:11:12", LIA_CONV_TEXT, "2024-05-01T10:11:12+00:00"},
        {"add_UTC_to_timestamp", "2024-05-01T10:11:12+02:00", LIA_CONV_TEXT, "2024-05-01T08:11:12+00:00"},
        {"add_UTC_to_timestamp", "", LIA_EINVAL, NULL},
        {"add_UTC_to_timestamp", "2018-08-01T00:00:00+00", LIA_EINVAL, NULL},
        {"convert_date_utc", "", LIA_CONV_ABSENT, NULL},
        {"convert_date_utc", "2024-05-01 10:11:12", LIA_CONV_TEXT, "2024-05-01T10:11:12+00:00"},
        {"convert_date", "Wed, 02 Mar 2022 00:34:22 GMT", LIA_CONV_TEXT, "2022-03-02T00:34:22+00:00"},
        {"convert_date", "Wednesday, 02-Mar-22 00:34:22 GMT", LIA_CONV_TEXT, "2022-03-02T00:34:22+00:00"},
        {"convert_date", "Wed Mar  2 00:34:22 2022", LIA_CONV_TEXT, "2022-03-02T00:34:22+00:00"},
        {"convert_date", "2022-03-02", LIA_CONV_TEXT, "2022-03-02T00:00:00+00:00"},
        {"convert_date", "yesterday", LIA_EINVAL, NULL},
        {"convert_bool", "Y", LIA_CONV_JSON, "true"},
        {"convert_bool", "n", LIA_CONV_JSON, "false"},
        {"convert_bool", "Enabled", LIA_CONV_JSON, "true"},
        {"convert_bool", "disabled", LIA_CONV_JSON, "false"},
        {"convert_bool", "", LIA_CONV_ABSENT, NULL},
        {"convert_bool", "maybe", LIA_EINVAL, NULL},
        {"convert_int", "42", LIA_CONV_JSON, "42"},
        {"convert_int", "-7", LIA_CONV_JSON, "-7"},
        {"convert_int", "007", LIA_CONV_JSON, "7"},
        {"convert_int", "", LIA_CONV_ABSENT, NULL},
        {"convert_int", "4x", LIA_EINVAL, NULL},
        {"convert_float", "1.5", LIA_CONV_JSON, "1.5"},
        {"convert_float", "3", LIA_CONV_JSON, "3.0"},
        {"convert_float", "nan", LIA_EINVAL, NULL},
        {"invalidate_zero", "0", LIA_CONV_ABSENT, NULL},
        {"invalidate_zero", "517311", LIA_CONV_JSON, "517311"},
        {"invalidate_zero", "x", LIA_EINVAL, NULL},
        {"validate_to_none", "0", LIA_CONV_ABSENT, NULL},
        {"validate_to_none", "unknown", LIA_CONV_ABSENT, NULL},
        {"validate_to_none", "Unknown", LIA_CONV_TEXT, "Unknown"},
        {"validate_ip", "0.0.0.0", LIA_CONV_ABSENT, NULL},
        {"validate_ip", "192.0.2.1", LIA_CONV_TEXT, "192.0.2.1"},
        {"validate_ip", "192.0.2.0/24", LIA_CONV_ABSENT, NULL},
        {"validate_ip", "300.1.1.1", LIA_EINVAL, NULL},
        {"validate_network", "192.0.2.0/24", LIA_CONV_TEXT, "192.0.2.0/24"},
        {"validate_network", "192.0.2.1", LIA_EINVAL, NULL},
        {"validate_fqdn", "example.com", LIA_CONV_TEXT, "example.com"},
        {"validate_fqdn", "exa mple", LIA_EINVAL, NULL},
        {"force_base64", "dGVzdA==", LIA_CONV_TEXT, "dGVzdA=="},
        {"force_base64", "GET / HTTP/1.1", LIA_CONV_TEXT, "R0VUIC8gSFRUUC8xLjE="},
        {"force_base64", "ab", LIA_CONV_TEXT, "YWI="},
        {"extract_cve_from_tag", "exchange;cve-2021-26855;cve-2021-26855;cve-2020-0688", LIA_CONV_TEXT,
         "cve-2020-0688;cve-2021-26855"},
        {"extract_cve_from_tag", "exchange;cve-2021", LIA_CONV_ABSENT, NULL},
        {"scan_exchange_type", "exchange;webshell", LIA_CONV_TEXT, "system-compromise"},
        {"scan_exchange_type", "exchange", LIA_CONV_TEXT, "vulnerable-system"},
        {"scan_exchange_taxonomy", "exchange;webshell", LIA_CONV_TEXT, "intrusions"},
        {"scan_exchange_identifier", "exchange", LIA_CONV_TEXT, "vulnerable-exchange-server"},
    };
    lia_buf scratch;
    lia_buf_init(&scratch, 1 << 16);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        lia_conv_fn fn = lia_conv_find(t[i].conv);
        lia_slice out = LIA_SLICE_NULL;
        const char *why = NULL;
        int kind;
        if (!fn)
            fail_msg("conversion %s is not registered", t[i].conv);
        kind = fn(lia_slice_from(t[i].in), &scratch, &out, &why);
        if (kind != t[i].kind)
            fail_msg("%s(\"%s\"): kind %d expected, got %d (%s)", t[i].conv, t[i].in, t[i].kind, kind,
                     why ? why : "");
        if (kind < 0 && !why)
            fail_msg("%s(\"%s\"): an error without a reason", t[i].conv, t[i].in);
        if (kind > 0 && !lia_slice_eq(out, t[i].out))
            fail_msg("%s(\"%s\"): \"%s\" expected, got \"%.*s\"", t[i].conv, t[i].in, t[i].out, (int)out.len,
                     out.ptr);
    }
    lia_buf_free(&scratch);
}

/* ---- the built-in schema and detection ---- */

static void test_builtin_and_detect(void **state)
{
    static const struct {
        const char *file, *report; /* NULL: not found */
    } t[] = {
        {"2024-05-01-scan_ics-asn-64496.csv", "scan_ics"},
        {"/var/spool/ss/2024-05-01-scan_ics.csv", "scan_ics"},
        {"scan6_http-country-nl.csv", "scan6_http"},
        {"2024-05-01-scan_http_vulnerable-geo.csv", "scan_http_vulnerable"},
        {"2024-05-01-scan_http-geo.csv", "scan_http"},
        {"2024-05-01-event4_sinkhole_http_referer-asn.csv", "event_sinkhole_http_referer"},
        {"2024-05-01-event4_honeypot_ics_scan-x.csv", "event_honeypot_ics_scan"},
        {"2024-05-01-botnet_drone-geo.csv", "botnet_drone"}, /* retired, still read */
        {"2024-05-01-outdated_dnssec_key_v6-geo.csv", "outdated_dnssec_key_v6"},
        {"2024-05-01-no_such_report-geo.csv", NULL},
        {"2020.wrong-filename.csv", NULL},
        {"", NULL},
    };
    lia_ss_schema *s = NULL;
    lia_error err;
    assert_int_equal(lia_shadowserver_load(NULL, &s, &err), LIA_OK);
    assert_true(lia_shadowserver_count(s) >= 160);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int idx;
        lia_ss_report_info ri;
        lia_error_clear(&err);
        idx = lia_shadowserver_detect(s, t[i].file, &err);
        if (!t[i].report) {
            if (idx >= 0) {
                lia_shadowserver_report(s, (size_t)idx, &ri);
                fail_msg("%s: no match expected, got %s", t[i].file, ri.name);
            }
            assert_int_equal(idx, LIA_ENOTFOUND);
            assert_true(err.reason[0] != '\0');
            continue;
        }
        if (idx < 0)
            fail_msg("%s: %s expected, got error %s", t[i].file, t[i].report, err.reason);
        lia_shadowserver_report(s, (size_t)idx, &ri);
        if (strcmp(ri.name, t[i].report) != 0)
            fail_msg("%s: %s expected, got %s", t[i].file, t[i].report, ri.name);
    }
    {
        lia_ss_report_info ri;
        int idx = lia_shadowserver_find(s, "scan_ics");
        assert_true(idx >= 0);
        lia_shadowserver_report(s, (size_t)idx, &ri);
        assert_string_equal(ri.feed_name, "Accessible-ICS");
        assert_string_equal(ri.taxonomy, "vulnerable");
        assert_string_equal(ri.type, "vulnerable-system");
        assert_string_equal(ri.problem, "");
        assert_true(ri.nrequired >= 2);
        assert_int_equal(lia_shadowserver_find(s, "Accessible-ICS"), idx); /* by feed name */
        assert_int_equal(lia_shadowserver_find(s, "no-such-report"), -1);
    }
    for (size_t i = 0; i < lia_shadowserver_count(s); i++) { /* every report usable */
        lia_ss_report_info ri;
        lia_shadowserver_report(s, i, &ri);
        if (*ri.problem)
            fail_msg("built-in report %s unusable: %s", ri.name, ri.problem);
    }
    lia_shadowserver_free(s);
}

/* ---- malformed schemas ---- */

#define R(body) "{\"r1\": {\"feed_name\": \"F\", \"file_name\": \"r1\", " body "}}"

static void test_malformed(void **state)
{
    static const struct {
        const char *json, *want; /* substring of the reason */
    } t[] = {
        {"[", "schema t: line"},
        {"[]", "a JSON object of reports"},
        {"{}", "no report"},
        {"{\"r1\": 3}", "report r1: an object is expected"},
        {"{\"r1\": {\"file_name\": \"r1\"}}", "report r1: \"feed_name\""},
        {"{\"r1\": {\"feed_name\": \"F\"}}", "report r1: \"file_name\""},
        {R("\"required_fields\": 3"), "must be arrays"},
        {R("\"required_fields\": [[\"source.ip\"]]"), "required_fields[0]: [field, column"},
        {R("\"required_fields\": [[\"source.ip\", \"\"]]"), "required_fields[0]: the column"},
        {R("\"optional_fields\": [[\"source.ip\", \"ip\", \"no_such\"]]"),
         "optional_fields[0] (column ip): unknown conversion \"no_such\""},
        {R("\"optional_fields\": [[\"source.ip\", \"ip\", 3]]"), "the conversion must be a name"},
        {R("\"optional_fields\": [[\"source.ip\", \"ip\", \"validate_ip\", 1]]"), "4th element"},
        {R("\"optional_fields\": [[\"Bad Field\", \"ip\"]]"), "is not a field name"},
        {R("\"optional_fields\": [[\"extra.A\", \"ip\"]]"), "not a valid extra key"},
        {R("\"optional_fields\": [[7, \"ip\"]]"), "the field must be a name or false"},
        {R("\"constant_fields\": {\"classification.type\": \"no-such-type\"}"),
         "constant_fields.classification.type: \"no-such-type\""},
        {R("\"constant_fields\": {\"classification.type\": []}"), "a string, number or boolean"},
        {R("\"constant_fields\": {\"classification.taxonomy\": \"fraud\", \"classification.type\": "
           "\"c2-server\"}"),
         "constant_fields:"},
        {"{\"a\": {\"feed_name\": \"A\", \"file_name\": \"x\"}, \"b\": {\"feed_name\": \"B\", \"file_name\": "
         "\"x\"}}",
         "reports a and b have the same file_name"},
        {"{\"r1\": {\"feed_name\": \"F\", \"file_name\": \"r-1\"}}", "may not contain"},
        {"{\"_meta\": 1, \"r1\": {\"feed_name\": \"F\", \"file_name\": \"r1\"}}", "_meta must be an object"},
        {"{\"r1\": {\"feed_name\": \"F\", \"file_name\": \"r1\"}, \"r1\": {}}", "duplicate"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        lia_ss_schema *s = NULL;
        lia_error err;
        int rc;
        lia_error_clear(&err);
        rc = lia__shadowserver_parse(t[i].json, strlen(t[i].json), "t", &s, &err);
        if (rc == LIA_OK) {
            lia_shadowserver_free(s);
            fail_msg("case %zu: %s: accepted, error \"%s\" expected", i, t[i].json, t[i].want);
        }
        if (!strstr(err.reason, t[i].want))
            fail_msg("case %zu: reason \"%s\" expected in \"%s\"", i, t[i].want, err.reason);
    }
}

static void test_unknown_fields(void **state)
{
    const char *json =
        "{\"_meta\": {\"date_created\": \"2030-01-01T00:00:00Z\"},"
        " \"new1\": {\"feed_name\": \"N1\", \"file_name\": \"new1\","
        "  \"required_fields\": [[\"time.source\", \"timestamp\", \"add_UTC_to_timestamp\"]],"
        "  \"optional_fields\": [[\"product.vendor\", \"vendor\"]]},"
        " \"new2\": {\"feed_name\": \"N2\", \"file_name\": \"new2\","
        "  \"required_fields\": [[\"product.name\", \"name\"]]},"
        " \"new3\": {\"feed_name\": \"N3\", \"file_name\": \"new3\","
        "  \"constant_fields\": {\"product.kind\": \"x\"}}}";
    lia_ss_schema *s = NULL;
    lia_error err;
    lia_ss_report_info ri;
    assert_int_equal(lia__shadowserver_parse(json, strlen(json), "t", &s, &err), LIA_OK);
    assert_string_equal(lia_shadowserver_date(s), "2030-01-01T00:00:00Z");
    assert_int_equal(lia_shadowserver_count(s), 3);
    lia_shadowserver_report(s, 0, &ri);
    assert_string_equal(ri.name, "new1");
    assert_string_equal(ri.problem, "");
    lia_shadowserver_report(s, 1, &ri);
    assert_non_null(strstr(ri.problem, "product.name"));
    lia_shadowserver_report(s, 2, &ri);
    assert_non_null(strstr(ri.problem, "product.kind"));
    lia_shadowserver_free(s);
}

/* ---- the engine ---- */

typedef struct run_out {
    char text[8192];  /* events as JSON lines, then "Q line: field: reason" lines */
    int rc;
    lia_error err;
    char warning[512]; /* the format's warning about the report */
} run_out;

static void run_format(const char *schema_json, const char *report, const char *fname, const char *csv,
                       run_out *o)
{
    const lia_format *fmt = lia_format_find("shadowserver");
    char path[] = "/tmp/liaison-ss-test-XXXXXX";
    lia_feed_opts fo;
    lia_records recs;
    lia_event ev;
    void *st = NULL;
    lia_buf b;
    memset(o, 0, sizeof *o);
    memset(&fo, 0, sizeof fo);
    assert_non_null(fmt);
    if (schema_json) {
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, schema_json, strlen(schema_json)), (ssize_t)strlen(schema_json));
        close(fd);
        fo.map_path = path;
    }
    fo.subtype = report;
    fo.report_name = fname;
    fo.tlp = -1;
    lia_buf_init(&b, sizeof o->text - 1);
    lia__records_init(&recs);
    lia_event_init(&ev);
    o->rc = fmt->open(&st, &fo, &o->err);
    if (o->rc == LIA_OK)
        o->rc = fmt->parse(st, csv, strlen(csv), 1, &recs, &o->err);
    for (size_t i = 0; o->rc == LIA_OK && i < recs.n; i++) {
        lia_error e;
        lia_event_reset(&ev);
        if (recs.rec[i].err) {
            lia_buf_printf(&b, "Q %llu: : %s\n", (unsigned long long)recs.rec[i].line, recs.rec[i].why);
            continue;
        }
        lia_error_clear(&e);
        if ( fmt->normalise(st, &recs, &recs.rec[i], &ev, &e) || lia_event_finish(&ev, &e)) {
            lia_buf_printf(&b, "Q %llu: %s: %s\n", (unsigned long long)recs.rec[i].line, e.field, e.reason);
            continue;
        }
        lia_event_to_json(&ev, &b);
        lia_buf_putc(&b, '\n');
    }
    snprintf(o->text, sizeof o->text, "%s", lia_buf_cstr(&b));
    lia_buf_free(&b);
    lia_event_free(&ev);
    lia__records_free(&recs);
    if (st && fmt->warning && fmt->warning(st))
        snprintf(o->warning, sizeof o->warning, "%s", fmt->warning(st));
    if (st)
        fmt->close(st);
    if (schema_json)
        unlink(path);
}

static const char *mini =
    "{\"scan_x\": {\"feed_name\": \"Accessible-X\", \"file_name\": \"scan_x\","
    " \"url\": \"https://example.org/x\","
    " \"constant_fields\": {\"classification.identifier\": \"open-x\", \"classification.taxonomy\":"
    "  \"vulnerable\", \"classification.type\": \"vulnerable-system\", \"protocol.application\": \"x\"},"
    " \"required_fields\": [[\"time.source\", \"timestamp\", \"add_UTC_to_timestamp\"],"
    "  [\"source.ip\", \"ip\", \"validate_ip\"]],"
    " \"optional_fields\": [[\"source.port\", \"port\", \"convert_int\"], [\"source.reverse_dns\", \"hostname\"],"
    "  [\"extra.\", \"anon\", \"convert_bool\"], [\"extra.source.naics\", \"naics\", \"invalidate_zero\"],"
    "  [false, \"ignored\"], [\"source.url\", \"http_url\", \"convert_http_host_and_url\", true],"
    "  [\"extra.\", \"note\", \"validate_to_none\"], [\"extra.\", \"anon\", \"convert_bool\"],"
    "  [\"source.network\", \"ip\", \"validate_network\"]]}}";

static void test_engine(void **state)
{
    static const struct {
        const char *name, *csv, *want; /* want: substrings, '|'-separated; "!x" = x must not appear */
    } t[] = {
        {"basic",
         "timestamp,ip,port,hostname,anon,naics,ignored,note,sic\n"
         "2024-05-01 10:00:00,192.0.2.1,80,h.example.net,Y,0,zzz,unknown,0\n",
         "\"time.source\":\"2024-05-01T10:00:00+00:00\"|\"source.ip\":\"192.0.2.1\"|\"source.port\":80|"
         "\"extra.anon\":true|\"extra.sic\":\"0\"|\"feed.name\":\"Accessible-X\"|"
         "\"feed.documentation\":\"https://example.org/x\"|\"classification.identifier\":\"open-x\"|"
         "!naics|!zzz|!unknown|!ignored"},
        {"optional invalid kept raw",
         "timestamp,ip,port,hostname,anon\n2024-05-01 10:00:00,192.0.2.1,http,not a host!,maybe\n",
         "\"extra.port\":\"http\"|\"extra.hostname\":\"not a host!\"|\"extra.anon\":\"maybe\"|!source.port"},
        {"required invalid quarantined",
         "timestamp,ip\n2024-05-01 10:00:00,192.0.2.999\n2024-13-01 10:00:00,192.0.2.1\n,192.0.2.1\n",
         "Q 2: source.ip:|(column ip)|Q 3: time.source:|(column timestamp)|Q 4: time.source: empty "
         "timestamp"},
        {"required 0.0.0.0 absent, kept in extra", "timestamp,ip\n2024-05-01 10:00:00,0.0.0.0\n",
         "\"extra.ip\":\"0.0.0.0\"|!source.ip"},
        {"host and url",
         "timestamp,ip,http_host,http_url,application\n"
         "2024-05-01 10:00:00,192.0.2.1,www.example.com,GET /a/b?c HTTP/1.1,https\n",
         "\"source.url\":\"https://www.example.com/a/b?c\"|\"extra.http_host\":\"www.example.com\""},
        /* rows of another length than the header's, as Python's csv reader gives them */
        {"short row padded with empty fields",
         "timestamp,ip,port,hostname\n2024-05-01 10:00:00,192.0.2.1\n2024-05-01 10:00:00,192.0.2.2,81\n",
         "\"source.ip\":\"192.0.2.1\"|\"source.ip\":\"192.0.2.2\"|\"source.port\":81|!Q 2|!Q 3|!hostname"},
        {"short row: a required value it lacks is absent, as an empty one",
         "timestamp,ip,port\n2024-05-01 10:00:00\n,192.0.2.1\n",
         "\"time.source\":\"2024-05-01T10:00:00+00:00\"|!source.ip|Q 3: time.source: empty timestamp"},
        {"long row: extra values kept by position",
         "timestamp,ip\n2024-05-01 10:00:00,192.0.2.1,surplus,,more\n",
         "\"extra.column_3\":\"surplus\"|\"extra.column_5\":\"more\"|!column_4|!Q 2"},
        {"a network in the ip column (blocklist)", "timestamp,ip\n2024-05-01 10:00:00,192.0.2.0/24\n",
         "\"source.network\":\"192.0.2.0/24\"|!source.ip|!extra.ip"},
        {"stray quotes read as Python's csv does",
         "timestamp,ip,note,port\n2024-05-01 10:00:00,192.0.2.1,\"realm=\\\"\"x\\\"\"\",80\n"
         "2024-05-01 10:00:00,192.0.2.2,a\"b,81\n",
         "\"extra.note\":\"realm=\\\\\\\"x\\\\\\\"\"|\"source.port\":80|\"extra.note\":\"a\\\"b\"|\"source."
         "port\":81"},
        {"an unclosed quote stays malformed", "timestamp,ip,note\n2024-05-01 10:00:00,192.0.2.1,\"abc\n",
         "Q 2: : unclosed quote"},
        {"odd header names", "timestamp,ip,Device Type\n2024-05-01 10:00:00,192.0.2.1,plc\n",
         "\"extra.device_type\":\"plc\""},
        {"schema booleans become booleans",
         "timestamp,ip,anon\n2024-05-01 10:00:00,192.0.2.1,N\n"
         "2024-05-01 10:00:00,192.0.2.2,true\n",
         "\"extra.anon\":false|\"extra.anon\":true"},
        /* Shadowserver's JSON delivery: one object per row, read by the same schema */
        {"JSON array of objects",
         " [{\"timestamp\": \"2024-05-01 10:00:00\", \"ip\": \"192.0.2.1\", \"port\": 443, \"anon\": \"Y\","
         "   \"sic\": 0, \"count\": 12, \"open\": true, \"tags\": [\"a\", \"b\"], \"note\": null, \"naics\": "
         "0},\n"
         "  {\"ip\": \"192.0.2.2\", \"timestamp\": \"2024-05-01 11:00:00\", \"hostname\": \"h.example\","
         "   \"new_col\": 1.5, \"anon\": false}]",
         "\"source.ip\":\"192.0.2.1\"|\"source.port\":443|\"extra.anon\":true|\"extra.sic\":0|\"extra."
         "count\":12|"
         "\"extra.open\":true|\"extra.tags\":[\"a\", \"b\"]|\"source.ip\":\"192.0.2.2\"|"
         "\"source.reverse_dns\":\"h.example\"|\"extra.new_col\":1.5|\"extra.anon\":false|!note|!naics|!Q "},
        {"JSON lines",
         "{\"timestamp\": \"2024-05-01 10:00:00\", \"ip\": \"192.0.2.1\", \"port\": \"8080\"}\n"
         "{\"timestamp\": \"2024-05-01 10:00:00\", \"ip\": \"192.0.2.999\"}\n"
         "{\"timestamp\": \"2024-05-01 10:00:00\", \"ip\": \"192.0.2.3\", \"port\": \"x\"}\n{\"broken\"\n",
         "\"source.port\":8080|Q 2: source.ip:|\"extra.port\":\"x\"|Q 4"},
        {"JSON row without a required value",
         "[{\"ip\": \"192.0.2.1\", \"timestamp\": \"2024-05-01 10:00:00\"},"
         " {\"ip\": \"192.0.2.2\"}]",
         "\"source.ip\":\"192.0.2.1\"|Q 1: time.source: empty timestamp"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        run_out o;
        char want[512], *w, *bar;
        run_format(mini, "scan_x", NULL, t[i].csv, &o);
        if (o.rc)
            fail_msg("%s: error %s", t[i].name, o.err.reason);
        snprintf(want, sizeof want, "%s", t[i].want);
        for (w = want; w; w = bar ? bar + 1 : NULL) {
            if ((bar = strchr(w, '|')))
                *bar = '\0';
            int neg = w[0] == '!';
            if (neg ? strstr(o.text, w + 1) != NULL : strstr(o.text, w) == NULL)
                fail_msg("%s: %s\"%s\" in:\n%s", t[i].name, neg ? "no " : "", neg ? w + 1 : w, o.text);
        }
    }
}

/* A header of n columns (timestamp, ip, then c2..), one row with values
 * in the first two: the CSV in a new string. */
static char *wide_csv(size_t n)
{
    lia_buf b;
    char *s;
    lia_buf_init(&b, 1u << 20);
    lia_buf_puts(&b, "timestamp,ip");
    for (size_t i = 2; i < n; i++)
        lia_buf_printf(&b, ",c%zu", i);
    lia_buf_puts(&b, "\n2024-05-01 10:00:00,192.0.2.7");
    for (size_t i = 2; i < n; i++)
        lia_buf_putc(&b, ',');
    lia_buf_putc(&b, '\n');
    assert_false(b.err);
    s = strdup(lia_buf_cstr(&b));
    lia_buf_free(&b);
    return s;
}

/* Issue 16: a header of over 1,024 columns said "no header line". Up to
 * LIA_MAX_SS_COLUMNS it is read; beyond, the error names both numbers. */
static void test_wide_header(void **state)
{
    static const struct {
        size_t cols;
        const char *want; /* NULL: read */
    } t[] = {
        {1025, NULL},
        {LIA_MAX_SS_COLUMNS, NULL},
        {LIA_MAX_SS_COLUMNS + 1, "header has 4097 columns, limit is 4096"},
        {20000, "header has 20000 columns, limit is 4096"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        run_out o;
        char *csv = wide_csv(t[i].cols);
        run_format(mini, "scan_x", NULL, csv, &o);
        free(csv);
        if (!t[i].want && (o.rc || !strstr(o.text, "\"source.ip\":\"192.0.2.7\"")))
            fail_msg("%zu columns: rc %d \"%s\", events:\n%s", t[i].cols, o.rc, o.err.reason, o.text);
        if (t[i].want && (o.rc != LIA_ELIMIT || !strstr(o.err.reason, t[i].want)))
            fail_msg("%zu columns: \"%s\" expected, got rc %d \"%s\"", t[i].cols, t[i].want, o.rc,
                     o.err.reason);
    }
}

static void test_engine_errors(void **state)
{
    static const struct {
        const char *report, *fname, *csv, *want;
    } t[] = {
        {"scan_x", NULL, "port,hostname\n80,h\n", "none of them is there"},
        {"scan_x", NULL, "", "no header line"},
        {"nope", NULL, "timestamp,ip\n", "unknown Shadowserver report type"},
        {NULL, "2024-01-01-scan_y-asn.csv", "timestamp,ip\n", "no Shadowserver report type matches"},
        {NULL, NULL, "timestamp,ip\n", "give it (--report TYPE)"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        run_out o;
        run_format(mini, t[i].report, t[i].fname, t[i].csv, &o);
        if (o.rc == LIA_OK || !strstr(o.err.reason, t[i].want))
            fail_msg("case %zu: error \"%s\" expected, got rc %d \"%s\"", i, t[i].want, o.rc, o.err.reason);
    }
    {
        run_out o; /* detection from the file name, built-in schema */
        run_format(NULL, NULL, "2026-11-27-scan_mqtt-demo.csv",
                   "timestamp,ip,protocol,port\n2026-11-27 01:00:00,192.0.2.7,tcp,1883\n", &o);
        if (o.rc || !strstr(o.text, "\"feed.name\":\"Open-MQTT\"") || !strstr(o.text, "\"source.port\":1883"))
            fail_msg("scan_mqtt by file name: rc %d %s / %s", o.rc, o.err.reason, o.text);
    }
}

/* An older report variant without a column the schema requires: read, with
 * one warning for the report; the retired report types are still read. */
static void test_older_variants(void **state)
{
    static const struct {
        const char *schema, *report, *fname, *csv, *want, *warning; /* warning "" = none */
    } t[] = {
        {"mini", "scan_x", NULL, "ip,port\n192.0.2.1,80\n192.0.2.2,81\n",
         "\"source.ip\":\"192.0.2.1\"|\"source.port\":81",
         "Shadowserver report scan_x: required column(s) missing from the header (an older variant?): "
         "timestamp; read with those fields empty"},
        {"mini", "scan_x", NULL, "timestamp,ip\n2024-05-01 10:00:00,192.0.2.1\n", "\"source.ip\"", ""},
        {"mini", "scan_x", NULL, "[{\"ip\": \"192.0.2.1\"}, {\"ip\": \"192.0.2.2\"}]",
         "\"source.ip\":\"192.0.2.2\"",
         "required column(s) missing from the header (an older variant?): timestamp"},
        {NULL, NULL, "2019-06-01-botnet_drone-geo.csv",
         "timestamp,ip,port,infection,cc_ip,cc_port,count,proxy\n"
         "2019-06-01 00:00:05,192.0.2.30,3218,dorkbot,198.51.100.1,80,1,N\n",
         "\"feed.name\":\"Drone\"|\"classification.type\":\"infected-system\"|\"malware.name\":\"dorkbot\"|"
         "\"destination.ip\":\"198.51.100.1\"|\"destination.port\":80|\"extra.connection_count\":1|\"extra."
         "proxy\":false",
         ""},
        {NULL, NULL, "2018-03-01-sinkhole_http_drone-geo.csv",
         "timestamp,ip,src_port,type\n2018-03-01 00:00:00,192.0.2.5,4444,necurs\n",
         "\"feed.name\":\"Sinkhole-HTTP-Drone\"|\"malware.name\":\"necurs\"|\"protocol.application\":"
         "\"http\"",
         ""},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        run_out o;
        char want[512], *w, *bar;
        run_format(t[i].schema ? mini : NULL, t[i].report, t[i].fname, t[i].csv, &o);
        if (o.rc)
            fail_msg("case %zu: error %s", i, o.err.reason);
        if (t[i].warning[0] ? strstr(o.warning, t[i].warning) == NULL : o.warning[0] != '\0')
            fail_msg("case %zu: warning \"%s\" expected, got \"%s\"", i, t[i].warning, o.warning);
        snprintf(want, sizeof want, "%s", t[i].want);
        for (w = want; w; w = bar ? bar + 1 : NULL) {
            if ((bar = strchr(w, '|')))
                *bar = '\0';
            if (!strstr(o.text, w))
                fail_msg("case %zu: \"%s\" in:\n%s", i, w, o.text);
        }
    }
    {
        lia_ss_schema *s = NULL;
        lia_ss_report_info ri;
        lia_error err;
        int idx;
        assert_int_equal(lia_shadowserver_load(NULL, &s, &err), LIA_OK);
        idx = lia_shadowserver_find(s, "Sandbox-URL"); /* a feed name shared with a retired type */
        assert_true(idx >= 0);
        lia_shadowserver_report(s, (size_t)idx, &ri);
        assert_string_equal(ri.name, "sandbox_url");
        assert_int_equal(ri.retired, 0);
        idx = lia_shadowserver_find(s, "botnet_drone");
        assert_true(idx >= 0);
        lia_shadowserver_report(s, (size_t)idx, &ri);
        assert_int_equal(ri.retired, 1);
        lia_shadowserver_free(s);
    }
}

static void test_install(void **state)
{
    char dir[] = "/tmp/liaison-ss-inst-XXXXXX", store[256], src[300], path[512], bad[300];
    size_t n = 0, unusable = 9;
    lia_error err;
    lia_ss_schema *s = NULL;
    FILE *f;
    assert_non_null(mkdtemp(dir));
    snprintf(store, sizeof store, "%s/l.db", dir);
    snprintf(src, sizeof src, "%s/new.json", dir);
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    f = fopen(src, "w");
    fputs(mini, f);
    fclose(f);
    f = fopen(bad, "w");
    fputs("{\"r\": {\"feed_name\": \"F\"}}", f);
    fclose(f);
    assert_int_equal(lia_shadowserver_installed(store, path, sizeof path), 0);
    assert_int_not_equal(lia_shadowserver_install(store, bad, &n, &unusable, &err), LIA_OK);
    assert_non_null(strstr(err.reason, "report r"));
    assert_int_equal(lia_shadowserver_installed(store, path, sizeof path), 0);
    assert_int_equal(lia_shadowserver_install(store, src, &n, &unusable, &err), LIA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(unusable, 0);
    assert_int_equal(lia_shadowserver_installed(store, path, sizeof path), 1);
    assert_int_equal(lia_shadowserver_load(path, &s, &err), LIA_OK);
    assert_true(lia_shadowserver_find(s, "scan_x") >= 0);
    lia_shadowserver_free(s);
    unlink(path);
    snprintf(path, sizeof path, "%s/l.db.schema", dir);
    rmdir(path);
    unlink(src);
    unlink(bad);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversions),    cmocka_unit_test(test_builtin_and_detect),
        cmocka_unit_test(test_malformed),      cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_engine),         cmocka_unit_test(test_engine_errors),
        cmocka_unit_test(test_wide_header),    cmocka_unit_test(test_install),
        cmocka_unit_test(test_older_variants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
