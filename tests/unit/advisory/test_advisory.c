/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* CSAF 2.0 advisories, the pure parts: CVSS 3.1 base scores of known
 * vectors (FIRST's examples and NVD's scores), bad vectors, the TLP label
 * mapping, file names, the simple fields, and the checks' problems (JSON
 * path and reason); then the store: create, edit, publish's refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../pg/pg_test.h"
#include "liaison/liaison.h"

static void test_cvss_known(void **state)
{
    (void)state;
    static const struct {
        const char *vector;
        double score;
        const char *severity;
    } cases[] = {
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"}, /* CVE-2021-44228 is S:C: below */
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "CRITICAL"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "MEDIUM"}, /* reflected XSS */
        {"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "HIGH"},   /* local privilege escalation */
        {"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, "MEDIUM"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "HIGH"}, /* remote denial of service */
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3, "MEDIUM"},
        {"CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8, "HIGH"},
        {"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2, "HIGH"},
        {"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4, "MEDIUM"}, /* stored XSS */
        {"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, "CRITICAL"},
        {"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5, "MEDIUM"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8, "HIGH"},
        {"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, "LOW"},
        {"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0, "NONE"},
        {"CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8, "MEDIUM"},
        /* temporal and environmental metrics do not change the base score */
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/CR:H/MAV:L", 9.8, "CRITICAL"},
        /* metrics in another order */
        {"CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H", 9.8, "CRITICAL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double score = -1;
        const char *sev = NULL, *why = NULL;
        int rc = lia_cvss31_base(cases[i].vector, &score, &sev, &why);
        if (rc || (long)(score * 10 + 0.5) != (long)(cases[i].score * 10 + 0.5) ||
            strcmp(sev, cases[i].severity))
            fail_msg("%s: rc %d, got %.1f %s, want %.1f %s (%s)", cases[i].vector, rc, score, sev ? sev : "-",
                     cases[i].score, cases[i].severity, why ? why : "");
    }
}

static void test_cvss_bad(void **state)
{
    (void)state;
    static const struct {
        const char *vector, *why;
    } cases[] = {
        {"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "only CVSS 3.1"},
        {"AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "must begin with CVSS:3.1/"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "a base metric is missing"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:L", "given twice"},
        {"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "value CVSS 3.1 does not define"},
        {"CVSS:3.1/AV:NN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "value CVSS 3.1 does not define"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1", "a metric CVSS 3.1 does not define"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "without a value"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:", "value CVSS 3.1 does not define"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/E:P", "given twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double score = -1;
        const char *sev = NULL, *why = "";
        int rc = lia_cvss31_base(cases[i].vector, &score, &sev, &why);
        if (rc != LIA_EINVAL || !strstr(why, cases[i].why))
            fail_msg("%s: rc %d, why \"%s\", want \"%s\"", cases[i].vector, rc, why, cases[i].why);
    }
}

static void test_tlp(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_string_equal(lia_csaf_tlp_label(LIA_TLP_CLEAR, NULL), "WHITE");
    assert_string_equal(lia_csaf_tlp_label(LIA_TLP_GREEN, NULL), "GREEN");
    assert_string_equal(lia_csaf_tlp_label(LIA_TLP_AMBER, NULL), "AMBER");
    assert_string_equal(lia_csaf_tlp_label(LIA_TLP_RED, NULL), "RED");
    assert_null(lia_csaf_tlp_label(LIA_TLP_AMBER_STRICT, &why));
    assert_non_null(strstr(why, "AMBER+STRICT has no label in CSAF 2.0"));
    assert_null(lia_csaf_tlp_label(7, &why));
    assert_int_equal(lia_csaf_tlp_parse("WHITE"), LIA_TLP_CLEAR);
    assert_int_equal(lia_csaf_tlp_parse("amber"), LIA_TLP_AMBER);
    assert_int_equal(lia_csaf_tlp_parse("Red"), LIA_TLP_RED);
    assert_int_equal(lia_csaf_tlp_parse("CLEAR"), -1); /* a TLP 2.0 name is not a CSAF 2.0 label */
    assert_int_equal(lia_csaf_tlp_parse("AMBER+STRICT"), -1);
    assert_int_equal(lia_csaf_tlp_parse(NULL), -1);
    assert_string_equal(lia_csaf_tlp_folder(LIA_TLP_CLEAR), "white");
    assert_null(lia_csaf_tlp_folder(LIA_TLP_AMBER_STRICT));
}

static void test_filename(void **state)
{
    (void)state;
    char out[64];
    static const char *const cases[][2] = {
        {"LIA-2026-0001", "lia-2026-0001.json"},
        {"CERT/CC 2026:17", "cert_cc_2026_17.json"}, /* a run of others is one '_' */
        {"a+b_c", "a+b_c.json"},
        {"ICSA-26-001-01", "icsa-26-001-01.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lia_csaf_filename(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
}

static void test_fields_parse(void **state)
{
    (void)state;
    char text[] = "# comment\n\ntitle:  A title \ncvss: CVSS:3.1/AV:N\r\n";
    char bad1[] = "title: x\nno colon here\n", bad2[] = "title: x\nwhat: y\n";
    lia_advisory_field f[8];
    size_t n = 0;
    lia_error e;
    lia_error_clear(&e);
    assert_int_equal(lia_advisory_fields_parse(text, f, 8, &n, &e), LIA_OK);
    assert_int_equal(n, 2);
    assert_string_equal(f[0].key, "title");
    assert_string_equal(f[0].value, "A title");
    assert_string_equal(f[1].value, "CVSS:3.1/AV:N"); /* the first ':' splits */
    assert_int_equal(lia_advisory_fields_parse(bad1, f, 8, &n, &e), LIA_EPARSE);
    assert_int_equal(e.line, 2);
    assert_int_equal(lia_advisory_fields_parse(bad2, f, 8, &n, &e), LIA_EPARSE);
    assert_string_equal(e.field, "what");
    lia_buf b;
    lia_buf_init(&b, 4096);
    const char *fj = "{\"title\":\"t\",\"product\":[\"A=V/P/1\",\"B=V/P/2\"]}";
    assert_int_equal(lia_advisory_fields_from_json(fj, strlen(fj), &b, &e), LIA_OK);
    assert_string_equal(lia_buf_cstr(&b), "title: t\nproduct: A=V/P/1\nproduct: B=V/P/2\n");
    lia_buf_reset(&b);
    assert_int_equal(lia_advisory_fields_from_json("{\"title\":7}", 11, &b, &e), LIA_EPARSE);
    assert_string_equal(e.field, "title");
    lia_buf_free(&b);
}

typedef struct seen {
    char text[4096];
    size_t n;
} seen;

static int collect(void *ud, const char *path, const char *reason)
{
    seen *s = ud;
    size_t used = strlen(s->text);
    snprintf(s->text + used, sizeof s->text - used, "%s: %s\n", path, reason);
    s->n++;
    return 0;
}

static const lia_csaf_publisher pub = {"CERT Example", "https://cert.example", NULL, NULL};

static void build(const lia_advisory_field *f, size_t n, lia_buf *out)
{
    lia_error e;
    lia_error_clear(&e);
    lia_buf_init(out, LIA_ADVISORY_MAX_DOC);
    int rc = lia_advisory_build(f, n, &pub, 1796000000000000, out, &e);
    if (rc)
        fail_msg("build: %d %s %s", rc, e.field, e.reason);
}

static void test_build_and_check(void **state)
{
    (void)state;
    const lia_advisory_field good[] = {
        {"id", "T-1"},
        {"title", "t"},
        {"tlp", "CLEAR"},
        {"sectors", "Energy"},
        {"countries", "KH, MY"},
        {"product", "P1=Acme/PLC/1.0"},
        {"product", "P2=Acme/PLC/1.1"},
        {"cve", "CVE-2026-1234"},
        {"vuln-note", "n"},
        {"cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H 9.8"},
        {"affects", "P1"},
        {"fixed", "P2"},
        {"remediation", "vendor_fix: Update"},
    };
    lia_buf doc;
    seen s = {"", 0};
    size_t np = 99;
    lia_error e;
    lia_error_clear(&e);
    build(good, sizeof good / sizeof *good, &doc);
    assert_int_equal(lia_csaf_check(doc.ptr, doc.len, collect, &s, &np, &e), LIA_OK);
    if (np)
        fail_msg("%zu problems in a good document:\n%s", np, s.text);
    assert_non_null(strstr(doc.ptr, "\"label\": \"WHITE\""));
    assert_non_null(strstr(doc.ptr, "\"title\": \"Critical infrastructure sectors\""));
    assert_non_null(strstr(doc.ptr, "\"text\": \"KH, MY\""));
    assert_non_null(strstr(doc.ptr, "\"baseScore\": 9.8"));
    assert_non_null(strstr(doc.ptr, "\"baseSeverity\": \"CRITICAL\""));
    assert_non_null(strstr(doc.ptr, "\"cpe\": \"cpe:2.3:a:acme:plc:1.0:*:*:*:*:*:*:*\""));
    lia_buf_free(&doc);

    /* an incident response without a note or an external reference, no TLP */
    const lia_advisory_field inc[] = {{"id", "T-2"}, {"title", "t"}, {"category", "incident"}};
    memset(&s, 0, sizeof s);
    build(inc, 3, &doc);
    assert_int_equal(lia_csaf_check(doc.ptr, doc.len, collect, &s, &np, &e), LIA_OK);
    assert_int_equal(np, 3);
    assert_non_null(strstr(s.text, "/document/notes: an incident response needs a summary"));
    assert_non_null(strstr(s.text, "/document/references: an incident response needs an external reference"));
    assert_non_null(strstr(s.text, "/document/distribution/tlp/label: required here"));
    lia_buf_free(&doc);
}

static void test_build_errors(void **state)
{
    (void)state;
    static const struct {
        lia_advisory_field f;
        const char *why;
    } cases[] = {
        {{"tlp", "AMBER+STRICT"}, "TLP:AMBER+STRICT has no label in CSAF 2.0"},
        {{"tlp", "PURPLE"}, "not a TLP label"},
        {{"category", "csaf_vex"}, "a category we publish"},
        {{"product", "P1=Acme/PLC"}, "ID=VENDOR/PRODUCT/VERSION"},
        {{"cve", "CVE-26-1"}, "not a CVE id"},
        {{"reference", "ftp://x"}, "http(s) URL"},
        {{"id", "a b"}, "no spaces"},
        {{"what", "x"}, "unknown key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lia_buf out;
        lia_error e;
        lia_error_clear(&e);
        lia_buf_init(&out, 1 << 20);
        int rc = lia_advisory_build(&cases[i].f, 1, &pub, 0, &out, &e);
        if (rc != LIA_EINVAL || !strstr(e.reason, cases[i].why) || e.line != 1)
            fail_msg("%s: %s: rc %d line %llu \"%s\", want \"%s\"", cases[i].f.key, cases[i].f.value, rc,
                     (unsigned long long)e.line, e.reason, cases[i].why);
        lia_buf_free(&out);
    }
    /* a vulnerability field before its cve; a wrong score; a bad remediation */
    const lia_advisory_field a[] = {{"affects", "P1"}};
    const lia_advisory_field b[] = {{"cve", "CVE-2026-1234"},
                                    {"cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H 7.5"}};
    const lia_advisory_field c[] = {{"cve", "CVE-2026-1234"}, {"remediation", "patch: now"}};
    const struct {
        const lia_advisory_field *f;
        size_t n;
        uint64_t line;
        const char *why;
    } more[] = {
        {a, 1, 1, "before any cve"},
        {b, 2, 2, "the vector's base score is 9.8, not 7.5"},
        {c, 2, 2, "a remediation category of CSAF 2.0"},
    };
    for (size_t i = 0; i < sizeof more / sizeof *more; i++) {
        lia_buf out;
        lia_error e;
        lia_error_clear(&e);
        lia_buf_init(&out, 1 << 20);
        int rc = lia_advisory_build(more[i].f, more[i].n, &pub, 0, &out, &e);
        if (rc != LIA_EINVAL || !strstr(e.reason, more[i].why) || e.line != more[i].line)
            fail_msg("case %zu: rc %d line %llu \"%s\", want line %llu \"%s\"", i, rc,
                     (unsigned long long)e.line, e.reason, (unsigned long long)more[i].line, more[i].why);
        lia_buf_free(&out);
    }
}

static void test_check_problems(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *path, *why;
    } cases[] = {
        {"[]", NULL, NULL}, /* not an object: LIA_EPARSE */
        {"{}", "/document", "required"},
        {"{\"document\":{\"csaf_version\":\"2.1\"}}", "/document/csaf_version", "this is CSAF 2.0"},
        {"{\"document\":{\"category\":\"csaf_vex\"}}", "/document/category", "we publish"},
        {"{\"document\":{\"title\":\"\"}}", "/document/title", "non-empty string"},
        {"{\"document\":{\"tracking\":{\"version\":\"1.0.0\"}}}", "/document/tracking/version", "0, 1, 2"},
        {"{\"document\":{\"tracking\":{\"version\":\"2\",\"status\":\"final\",\"revision_history\":[{"
         "\"number\":"
         "\"1\",\"date\":\"2026-01-01T00:00:00Z\",\"summary\":\"x\"}]}}}",
         "/document/tracking/version", "the last revision is \"1\""},
        {"{\"document\":{\"tracking\":{\"initial_release_date\":\"yesterday\"}}}",
         "/document/tracking/initial_release_date", "not an RFC 3339 date-time"},
        {"{\"document\":{\"tracking\":{\"version\":\"0\",\"status\":\"final\"}}}",
         "/document/tracking/status", "version 0 is a draft"},
        {"{\"document\":{\"distribution\":{\"tlp\":{\"label\":\"CLEAR\"}}}}",
         "/document/distribution/tlp/label", "not a TLP label of CSAF 2.0"},
        {"{\"document\":{\"publisher\":{\"category\":\"cert\"}}}", "/document/publisher/category",
         "not a publisher category"},
        {"{\"product_tree\":{\"full_product_names\":[{\"name\":\"a\",\"product_id\":\"P\"},{\"name\":\"b\","
         "\"product_id\":\"P\"}]}}",
         "/product_tree/full_product_names/1/product_id", "defined twice"},
        {"{\"vulnerabilities\":[{\"cve\":\"CVE-2026-1234\"},{\"cve\":\"CVE-2026-1234\"}]}",
         "/vulnerabilities/1/cve", "used by two vulnerabilities"},
        {"{\"vulnerabilities\":[{\"scores\":[{\"products\":[\"X\"],\"cvss_v3\":{\"version\":\"3.1\","
         "\"vectorString\":"
         "\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/"
         "A:H\",\"baseScore\":9.8,\"baseSeverity\":\"CRITICAL\"}}]}]}",
         "/vulnerabilities/0/scores/0/products/0", "product id \"X\" is not defined"},
        {"{\"vulnerabilities\":[{\"scores\":[{\"cvss_v3\":{\"version\":\"3.1\",\"vectorString\":\"CVSS:3.1/"
         "AV:N\","
         "\"baseScore\":9.8,\"baseSeverity\":\"CRITICAL\"}}]}]}",
         "/vulnerabilities/0/scores/0/cvss_v3/vectorString", "a base metric is missing"},
        {"{\"vulnerabilities\":[{\"scores\":[{\"cvss_v3\":{\"version\":\"3.1\",\"vectorString\":"
         "\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/"
         "A:H\",\"baseScore\":9.0,\"baseSeverity\":\"CRITICAL\"}}]}]}",
         "/vulnerabilities/0/scores/0/cvss_v3/baseScore", "9.0 given, the vector gives 9.8"},
        {"{\"vulnerabilities\":[{\"remediations\":[{\"category\":\"patch\",\"details\":\"d\",\"product_ids\":"
         "[]}]}]}",
         "/vulnerabilities/0/remediations/0/category", "not a remediation category"},
        {"{\"vulnerabilities\":[{\"remediations\":[{\"category\":\"vendor_fix\",\"details\":\"d\"}]}]}",
         "/vulnerabilities/0/remediations/0/product_ids", "names its products"},
        {"{\"document\":{\"category\":\"csaf_security_advisory\"},\"vulnerabilities\":[{}]}",
         "/vulnerabilities/0/product_status", "needs the product status"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        seen s = {"", 0};
        size_t np = 0;
        lia_error e;
        lia_error_clear(&e);
        int rc = lia_csaf_check(cases[i].doc, strlen(cases[i].doc), collect, &s, &np, &e);
        if (!cases[i].path) {
            assert_int_equal(rc, LIA_EPARSE);
            continue;
        }
        char want[512];
        snprintf(want, sizeof want, "%s: ", cases[i].path);
        const char *at = strstr(s.text, want);
        if (rc || !np || !at || !strstr(at, cases[i].why))
            fail_msg("case %zu: rc %d, %zu problems, want \"%s%s\" in:\n%s", i, rc, np, want, cases[i].why,
                     s.text);
    }
}

static void test_store(void **state)
{
    (void)state;
    char path[] = "/tmp/lia-test-advisory-XXXXXX", db[256], id[LIA_ADVISORY_ID_MAX], id2[LIA_ADVISORY_ID_MAX];
    lia_store *s;
    lia_error e;
    seen sn = {"", 0};
    int version = 0;
    assert_non_null(mkdtemp(path));
    assert_int_equal(lia_test_db_path(path, "l", db, sizeof db), 0);
    lia_error_clear(&e);
    assert_int_equal(lia_store_open(db, &s, &e), LIA_OK);
    const lia_advisory_field f[] = {{"title", "t"},           {"tlp", "AMBER"},   {"product", "P1=V/P/1"},
                                    {"cve", "CVE-2026-1234"}, {"vuln-note", "n"}, {"affects", "P1"}};
    /* no publisher yet */
    assert_int_equal(lia_advisory_create(s, f, 6, NULL, 0, collect, &sn, id, &e), LIA_EINVAL);
    assert_non_null(strstr(e.reason, "no publisher"));
    assert_int_equal(lia_advisory_setting_set(s, "publisher_name", "CERT", &e), LIA_OK);
    assert_int_equal(lia_advisory_setting_set(s, "publisher_namespace", "cert.example", &e), LIA_EINVAL);
    assert_int_equal(lia_advisory_setting_set(s, "publisher_namespace", "https://cert.example", &e), LIA_OK);
    assert_int_equal(lia_advisory_setting_set(s, "id_prefix", "XC", &e), LIA_OK);
    assert_int_equal(lia_advisory_setting_set(s, "colour", "red", &e), LIA_EINVAL);
    assert_int_equal(lia_advisory_create(s, f, 6, NULL, 0, collect, &sn, id, &e), LIA_OK);
    assert_non_null(strstr(id, "XC-"));
    assert_int_equal(lia_advisory_create(s, f, 6, NULL, 0, collect, &sn, id2, &e), LIA_OK);
    assert_string_not_equal(id, id2);
    /* a given id that is taken */
    const lia_advisory_field g[] = {{"title", "t"}, {"tlp", "AMBER"}, {"product", "P1=V/P/1"}, {"id", id}};
    assert_int_equal(lia_advisory_create(s, g, 4, NULL, 0, collect, &sn, id2, &e), LIA_EEXIST);
    /* edit: a problem leaves the stored one as it was */
    const lia_advisory_field bad[] = {{"cve", "CVE-2026-9999"}, {"affects", "NOPE"}};
    assert_int_equal(lia_advisory_edit(s, id, bad, 2, NULL, 0, collect, &sn, &e), LIA_EINVAL);
    assert_non_null(strstr(sn.text, "product id \"NOPE\" is not defined"));
    const lia_advisory_field ok[] = {{"title", "new title"}};
    assert_int_equal(lia_advisory_edit(s, id, ok, 1, NULL, 0, collect, &sn, &e), LIA_OK);
    lia_buf doc;
    lia_buf_init(&doc, LIA_ADVISORY_MAX_DOC);
    assert_int_equal(lia_advisory_get(s, id, 0, NULL, NULL, &doc, &e), LIA_OK);
    assert_non_null(strstr(doc.ptr, "\"title\": \"new title\""));
    assert_null(strstr(doc.ptr, "CVE-2026-9999"));
    assert_int_equal(lia_advisory_get(s, id, 1, NULL, NULL, &doc, &e), LIA_ENOTFOUND); /* not published */
    assert_int_equal(lia_advisory_edit(s, "NO-SUCH", ok, 1, NULL, 0, collect, &sn, &e), LIA_ENOTFOUND);
    /* publish without a signing key: refused, nothing published */
    assert_int_equal(
        lia_advisory_publish(s, id, NULL, NULL, NULL, 1796000000000000, collect, &sn, &version, &e),
        LIA_ECRYPTO);
    assert_non_null(strstr(e.reason, "no signing key"));
    assert_int_equal(lia_advisory_get(s, id, 1, NULL, NULL, &doc, &e), LIA_ENOTFOUND);
    lia_buf_free(&doc);
    lia_store_close(s);
    char side[300];
    snprintf(side, sizeof side, "rm -rf '%s'", path); /* the SQLite store and its -wal, -shm; the archive */
    assert_int_equal(system(side), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cvss_known),   cmocka_unit_test(test_cvss_bad),
        cmocka_unit_test(test_tlp),          cmocka_unit_test(test_filename),
        cmocka_unit_test(test_fields_parse), cmocka_unit_test(test_build_and_check),
        cmocka_unit_test(test_build_errors), cmocka_unit_test(test_check_problems),
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests_name(LIA_TEST_GROUP("advisory"), tests, NULL, NULL);
}
