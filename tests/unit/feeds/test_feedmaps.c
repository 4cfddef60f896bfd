/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Every declarative feed mapping shipped in share/feeds/ (one preset each)
 * against its sample in tests/data/feeds/NAME.sample: the records must give,
 * in order, the events (or quarantines) of NAME.expected.json. An expected
 * event is an object of fields whose values must be equal (null = absent);
 * {"quarantined": "text"} is a record quarantined with that text in its
 * field or reason. Records that give no event (comments, ignored lines) are
 * not listed. A preset without a sample fails. Also: the mapping language's
 * own table tests (lines, JSON paths, values, time formats). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "liaison/feeds.h"
#include "liaison/liaison.h"
#include "core/records.h"

/* Run the csv format with mapping map over text; one JSON value per record
 * appended to out: the event, or {"quarantined": "field: reason"}. */
static int run_map(const char *map, const char *text, size_t len, json_t *out, lia_error *err)
{
    const lia_format *fmt = lia_format_find("csv");
    lia_feed_opts fo;
    lia_records recs;
    lia_event ev;
    lia_buf b;
    void *st = NULL;
    int rc;
    memset(&fo, 0, sizeof fo);
    fo.map_path = map;
    fo.tlp = -1;
    lia__records_init(&recs);
    lia_event_init(&ev);
    lia_buf_init(&b, 1 << 20);
    rc = fmt->open(&st, &fo, err);
    /* feed in two chunks, to cross a chunk boundary */
    if (rc == LIA_OK)
        rc = fmt->parse(st, text, len / 2, 0, &recs, err);
    for (int pass = 0; rc == LIA_OK && pass < 2; pass++) {
        for (size_t i = 0; i < recs.n; i++) {
            lia_error e;
            char q[600];
            int r;
            lia_event_reset(&ev);
            lia_error_clear(&e);
            if (recs.rec[i].err) {
                snprintf(q, sizeof q, ": %s", recs.rec[i].why);
                json_array_append_new(out, json_pack("{ss}", "quarantined", q));
                continue;
            }
            r = fmt->normalise(st, &recs, &recs.rec[i], &ev, &e);
            if (r == LIA_ENOTFOUND)
                continue;
            if (r || lia_event_finish(&ev, &e)) {
                snprintf(q, sizeof q, "%s: %s", e.field, e.reason);
                json_array_append_new(out, json_pack("{ss}", "quarantined", q));
                continue;
            }
            lia_buf_reset(&b);
            lia_event_to_json(&ev, &b);
            json_array_append_new(out, json_loadb(b.ptr, b.len, 0, NULL));
        }
        lia__records_clear(&recs);
        if (pass == 0)
            rc = fmt->parse(st, text + len / 2, len - len / 2, 1, &recs, err);
    }
    if (st)
        fmt->close(st);
    lia_buf_free(&b);
    lia_event_free(&ev);
    lia__records_free(&recs);
    return rc;
}

/* NULL when got matches want, else a message (static). */
static const char *compare(json_t *want, json_t *got)
{
    static char msg[2048];
    size_t i;
    json_t *w;
    if (json_array_size(want) != json_array_size(got)) {
        char *g = json_dumps(got, JSON_COMPACT);
        snprintf(msg, sizeof msg, "%zu records expected, got %zu: %s", json_array_size(want),
                 json_array_size(got), g ? g : "");
        free(g);
        return msg;
    }
    json_array_foreach(want, i, w)
    {
        json_t *g = json_array_get(got, i), *v;
        const char *k;
        json_object_foreach(w, k, v)
        {
            json_t *gv = json_object_get(g, k);
            int ok = strcmp(k, "quarantined") == 0
                         ? json_is_string(gv) && strstr(json_string_value(gv), json_string_value(v)) != NULL
                     : json_is_null(v)                       ? gv == NULL
                     : json_is_real(v) && json_is_number(gv) ? json_number_value(gv) == json_real_value(v)
                                                             : gv && json_equal(gv, v);
            if (!ok) {
                char *a = json_dumps(v, JSON_ENCODE_ANY), *b = json_dumps(g, JSON_COMPACT);
                snprintf(msg, sizeof msg, "record %zu: %s: %s expected, record is %s", i + 1, k, a ? a : "?",
                         b ? b : "?");
                free(a);
                free(b);
                return msg;
            }
        }
    }
    return NULL;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (p = malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) == (size_t)n) {
        p[n] = '\0';
        *len = (size_t)n;
    } else {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

static void test_presets_samples(void **state)
{
    const char *data = getenv("LIAISON_TESTDATA");
    size_t n = 0;
    assert_non_null(data);
    for (const lia_feed_preset *p = lia_feed_map_presets; p->name; p++, n++) {
        char path[1024], map[256];
        size_t len = 0;
        char *text;
        json_error_t je;
        json_t *want, *got = json_array();
        lia_error err;
        const char *why;
        assert_non_null(p->licence);
        assert_non_null(p->map);
        assert_true(strncmp(p->url, "http", 4) == 0 && strncmp(p->doc, "http", 4) == 0);
        snprintf(path, sizeof path, "%s/feeds/%s.sample", data, p->name);
        if (!(text = slurp(path, &len)))
            fail_msg("preset %s: no sample %s", p->name, path);
        snprintf(path, sizeof path, "%s/feeds/%s.expected.json", data, p->name);
        if (!(want = json_load_file(path, 0, &je)))
            fail_msg("preset %s: %s: %s", p->name, path, je.text);
        snprintf(map, sizeof map, "%s", p->map);
        lia_error_clear(&err);
        if (run_map(map, text, len, got, &err))
            fail_msg("preset %s: %s", p->name, err.reason);
        if ((why = compare(want, got)))
            fail_msg("preset %s: %s", p->name, why);
        assert_ptr_equal(lia_feed_preset_find(p->name), p);
        json_decref(want);
        json_decref(got);
        free(text);
    }
    assert_true(n >= 20);
}

/* The mapping language itself: each case a mapping, an input and what the
 * records must give. */
static void test_language(void **state)
{
    static const struct {
        const char *name, *map, *in, *want; /* want: a JSON array as in *.expected.json */
    } t[] = {
        {"lines with a pattern, comments, ignored lines",
         "{\"records\": \"lines\", \"comment\": \";\", \"ignore\": \"^Start\","
         " \"pattern\": \"^([0-9.]+)[[:space:]]+([A-Za-z]+)$\","
         " \"columns\": [\"source.ip\", {\"field\": \"classification.type\","
         "  \"values\": {\"scan\": \"scanner\", \"bf\": \"brute-force\"}, \"default\": \"blacklist\"}]}",
         "; comment\nStart of list\n192.0.2.1 scan\n192.0.2.2 BF\n192.0.2.3 other\n\n192.0.2.4\n",
         "[{\"source.ip\": \"192.0.2.1\", \"classification.type\": \"scanner\"},"
         " {\"source.ip\": \"192.0.2.2\", \"classification.type\": \"brute-force\"},"
         " {\"classification.type\": \"blacklist\"}, {\"quarantined\": \"pattern\"}]"},
        {"a whole line as the one column", "{\"records\": \"lines\", \"columns\": [\"source.fqdn\"]}",
         "  example.com  \r\nexample.org\n",
         "[{\"source.fqdn\": \"example.com\"}, {\"source.fqdn\": \"example.org\"}]"},
        {"time formats",
         "{\"records\": \"lines\", \"pattern\": \"^([^|]*)[|]([^|]*)[|]([^|]*)$\", \"columns\": ["
         "{\"field\": \"time.source\", \"time\": \"%d/%m/%Y %H:%M\"}, {\"field\": \"extra.at\", \"time\": "
         "\"epoch\"},"
         " {\"field\": \"extra.ms\", \"time\": \"epoch_ms\"}]}",
         "01/05/2023 10:20|1682936400|1682936400123\n2023-05-01|x|1\n01/05/2023 10:20 +0200||\n",
         "[{\"time.source\": \"2023-05-01T10:20:00+00:00\", \"extra.at\": \"2023-05-01T10:20:00+00:00\","
         "  \"extra.ms\": \"2023-05-01T10:20:00+00:00\"},"
         " {\"quarantined\": \"time format\"}, {\"quarantined\": \"time format\"}]"},
        {"time with a zone",
         "{\"records\": \"lines\", \"columns\": [{\"field\": \"time.source\", \"time\": \"%Y-%m-%d %H:%M "
         "%z\"}]}",
         "2023-05-01 10:20 +0200\n", "[{\"time.source\": \"2023-05-01T08:20:00+00:00\"}]"},
        {"JSON paths",
         "{\"records\": \"json\", \"columns\": {\"host.ip\": {\"field\": \"source.ip\", \"required\": true},"
         " \"host.geo.cc\": \"source.geolocation.cc\", \"port\": {\"field\": \"source.port\"}, "
         "\"source.asn\": \"source.asn\","
         " \"tags\": {\"field\": \"extra.tags\", \"convert\": \"json\"}, \"name\": {\"field\": "
         "\"extra.name\", \"convert\": \"json\"}, \"seen\": {\"field\": \"time.source\", \"time\": "
         "\"epoch\"}, \"ok\": \"extra.ok\"}}",
         "[{\"host\": {\"ip\": \"192.0.2.1\", \"geo\": {\"cc\": \"NL\"}}, \"port\": 443, \"source.asn\": "
         "64496,"
         " \"tags\": [\"a\", {\"b\": 1}], \"name\": \"x\", \"seen\": 1682936400, \"ok\": true},\n {\"host\": "
         "{\"ip\": null}}, 7,\n"
         " {\"host\": [{\"ip\": \"192.0.2.2\"}]}]",
         "[{\"source.ip\": \"192.0.2.1\", \"source.geolocation.cc\": \"NL\", \"source.port\": 443, "
         "\"source.asn\": 64496,"
         "  \"extra.tags\": [\"a\", {\"b\": 1}], \"extra.name\": \"x\", \"time.source\": "
         "\"2023-05-01T10:20:00+00:00\", \"extra.ok\": \"true\"},"
         " {\"quarantined\": \"required column\"}, {\"quarantined\": \"object\"}, {\"source.ip\": "
         "\"192.0.2.2\"}]"},
        {"JSON: every element of an \"each\" array is an event (objects, strings, an empty array, a bad "
         "element)",
         "{\"records\": \"json\", \"each\": \"hosts\", \"columns\": {\"u\": \"source.url\","
         " \"hosts.ip\": {\"field\": \"source.ip\", \"required\": true}, \"hosts.port\": \"source.port\"}}",
         "[{\"u\": \"http://example.com/\", \"hosts\": [{\"ip\": \"192.0.2.1\", \"port\": 80},"
         " {\"ip\": \"192.0.2.2\"}, {\"ip\": \"192.0.2.999\"}, {\"ip\": \"192.0.2.3\", \"port\": 8080}]},\n"
         " {\"u\": \"http://example.org/\", \"hosts\": []},\n"
         " {\"u\": \"http://example.net/\", \"hosts\": {\"ip\": \"192.0.2.4\"}}]",
         "[{\"source.url\": \"http://example.com/\", \"source.ip\": \"192.0.2.1\", \"source.port\": 80},"
         " {\"source.url\": \"http://example.com/\", \"source.ip\": \"192.0.2.2\", \"source.port\": null},"
         " {\"quarantined\": \"source.ip\"},"
         " {\"source.url\": \"http://example.com/\", \"source.ip\": \"192.0.2.3\", \"source.port\": 8080},"
         " {\"quarantined\": \"required column\"},"
         " {\"source.url\": \"http://example.net/\", \"source.ip\": \"192.0.2.4\"}]"},
        {"JSON: \"each\" over an array of strings, nested in an object",
         "{\"records\": \"json\", \"each\": \"data.ips\", \"columns\": {\"data.ips\": \"source.ip\","
         " \"data.name\": \"malware.name\"}}",
         "{\"data\": {\"name\": \"emotet\", \"ips\": [\"192.0.2.5\", \" 192.0.2.6 \", null, "
         "\"192.0.2.\\u0037\"]}}\n",
         "[{\"source.ip\": \"192.0.2.5\", \"malware.name\": \"emotet\"}, {\"source.ip\": \"192.0.2.6\","
         " \"malware.name\": \"emotet\"}, {\"source.ip\": null, \"malware.name\": \"emotet\"},"
         " {\"source.ip\": \"192.0.2.7\", \"malware.name\": \"emotet\"}]"},
        {"JSON: a path across an array of several elements without \"each\" is refused, not cut to the first",
         "{\"records\": \"json\", \"columns\": {\"hosts.ip\": \"source.ip\"}}",
         "[{\"hosts\": [{\"ip\": \"192.0.2.1\"}, {\"ip\": \"192.0.2.2\"}]}, {\"hosts\": [{\"ip\": "
         "\"192.0.2.8\"}]}]",
         "[{\"quarantined\": \"\\\"each\\\": \\\"hosts\\\" reads one event per element\"},"
         " {\"source.ip\": \"192.0.2.8\"}]"},
        {"HTML: the n-th table with a class, nested tables' rows apart, head rows, ignore, short rows",
         "{\"records\": \"html\", \"table\": {\"class\": \"data\", \"index\": 1}, \"ignore\": \"^Total\","
         " \"columns\": [\"source.ip\", {\"field\": \"extra.n\", \"convert\": \"int\"}]}",
         "<table class='data'><tr><td>192.0.2.99</td><td>9</td></tr></table>\n"
         "<table class='x data'><tr><th>IP</th><th>N</th></tr>\n"
         "<tr><td> 192.0.2.1 </td><td>1<table class='data'><tr><td>198.51.100.1</td></tr></table></td></tr>\n"
         "<tbody><tr><td>192.0.2.2</td><td>2</td></tr><tr><th>more</th></tr>\n"
         "<tr><td>Total</td><td>3</td></tr><tr><td>192.0.2.3</td></tr></tbody></table>",
         "[{\"source.ip\": \"192.0.2.1\", \"extra.n\": 1}, {\"source.ip\": \"192.0.2.2\", \"extra.n\": 2},"
         " {\"source.ip\": \"192.0.2.3\", \"extra.n\": null}]"},
        {"HTML: by id, header names in any case, an attribute, entities, a fallback field",
         "{\"records\": \"html\", \"table\": {\"id\": \"t\"}, \"columns\": {\"Host\": {\"field\": "
         "\"source.ip\","
         " \"required\": true, \"fallback\": {\"field\": \"source.fqdn\"}}, \"LINK\": {\"field\": "
         "\"source.url\","
         " \"attribute\": \"href\"}, \"Note\": \"event_description.text\"}}",
         "<html><body><table id='t'><tr><td>link</td><td>note</td><td>host</td></tr>"
         "<tr><td><a href='http://example.com/a?b=1&amp;c=2'>x</a></td><td>caf&eacute; &lt;b&gt;</td>"
         "<td>192.0.2.7</td></tr><tr><td></td><td></td><td>example.net</td></tr>"
         "<tr><td></td><td></td><td>not a host!</td></tr></table></body></html>",
         "[{\"source.ip\": \"192.0.2.7\", \"source.url\": \"http://example.com/a?b=1&c=2\","
         " \"event_description.text\": \"caf\\u00e9 <b>\"}, {\"source.ip\": null, \"source.fqdn\": "
         "\"example.net\"},"
         " {\"quarantined\": \"source.fqdn\"}]"},
        {"JSON lines", "{\"records\": \"json\", \"columns\": {\"u\": \"source.url\"}}",
         "{\"u\": \"http://example.com/\"}\n{\"u\": \"http://example.org/\"}\n",
         "[{\"source.url\": \"http://example.com/\"}, {\"source.url\": \"http://example.org/\"}]"},
        {"CSV columns by position with conversions and values",
         "{\"header\": false, \"columns\": [{\"field\": \"source.ip\"}, {\"field\": \"extra.n\", "
         "\"convert\": \"int\"},"
         " {\"field\": \"classification.type\", \"values\": {\"1\": \"scanner\"}}]}",
         "192.0.2.1,5,1\n192.0.2.2,x,1\n",
         "[{\"source.ip\": \"192.0.2.1\", \"extra.n\": 5, \"classification.type\": \"scanner\"},"
         " {\"quarantined\": \"extra.n\"}]"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char path[] = "/tmp/liaison-map-test-XXXXXX";
        int fd = mkstemp(path);
        json_t *want = json_loads(t[i].want, 0, NULL), *got = json_array();
        lia_error err;
        const char *why;
        assert_true(fd >= 0);
        assert_non_null(want);
        assert_int_equal(write(fd, t[i].map, strlen(t[i].map)), (ssize_t)strlen(t[i].map));
        close(fd);
        lia_error_clear(&err);
        if (run_map(path, t[i].in, strlen(t[i].in), got, &err))
            fail_msg("%s: %s", t[i].name, err.reason);
        unlink(path);
        if ((why = compare(want, got)))
            fail_msg("%s: %s", t[i].name, why);
        json_decref(want);
        json_decref(got);
    }
}

static void test_bad_maps(void **state)
{
    static const struct {
        const char *map, *want;
    } t[] = {
        {"{\"records\": \"xml\", \"columns\": []}", "one of csv, lines, json"},
        {"{\"records\": \"lines\", \"pattern\": \"(\", \"columns\": [\"source.ip\"]}", "bad pattern"},
        {"{\"records\": \"lines\", \"pattern\": \"^(a)$\", \"columns\": [\"source.ip\", \"source.fqdn\"]}",
         "1 groups for 2"},
        {"{\"records\": \"lines\", \"columns\": [\"source.ip\", \"source.fqdn\"]}", "need a \"pattern\""},
        {"{\"records\": \"json\", \"columns\": [\"source.ip\"]}", "object of paths"},
        {"{\"records\": \"lines\", \"each\": \"a\", \"columns\": [\"source.ip\"]}", "for JSON records"},
        {"{\"records\": \"csv\", \"table\": {\"index\": 0}, \"columns\": [\"source.ip\"]}",
         "for HTML records"},
        {"{\"records\": \"html\", \"table\": {\"colour\": 1}, \"columns\": [\"source.ip\"]}",
         "table: unknown key"},
        {"{\"records\": \"html\", \"table\": {\"index\": -1}, \"columns\": [\"source.ip\"]}", "table.index"},
        {"{\"records\": \"html\", \"header\": false, \"columns\": {\"a\": \"source.ip\"}}",
         "need \"header\": true"},
        {"{\"columns\": {\"a\": {\"field\": \"source.ip\", \"attribute\": \"href\"}}}", "for HTML records"},
        {"{\"columns\": {\"a\": {\"field\": \"source.ip\", \"fallback\": {\"field\": \"nope\"}}}}",
         "unknown field"},
        {"{\"records\": \"html\", \"columns\": [\"source.ip\"]}", "no table the mapping selects"},
        {"{\"records\": \"html\", \"table\": {\"after\": \"zzz\"}, \"columns\": [\"source.ip\"]}",
         "after \"zzz\""},
        {"{\"records\": \"json\", \"each\": 1, \"columns\": {\"a\": \"source.ip\"}}", "path of an array"},
        {"{\"columns\": {\"a\": {\"field\": \"source.ip\", \"time\": \"yesterday\"}}}", "strptime format"},
        {"{\"columns\": {\"a\": {\"field\": \"source.ip\", \"values\": [1]}}}", "\"values\" is an object"},
        {"{\"columns\": {\"a\": {\"field\": \"source.ip\", \"colour\": 1}}}", "unknown key"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char path[] = "/tmp/liaison-map-test-XXXXXX";
        int fd = mkstemp(path);
        json_t *got = json_array();
        lia_error err;
        int rc;
        assert_true(fd >= 0);
        assert_int_equal(write(fd, t[i].map, strlen(t[i].map)), (ssize_t)strlen(t[i].map));
        close(fd);
        lia_error_clear(&err);
        rc = run_map(path, "x\n", 2, got, &err);
        unlink(path);
        if (rc == LIA_OK || !strstr(err.reason, t[i].want))
            fail_msg("case %zu: error \"%s\" expected, got %d \"%s\"", i, t[i].want, rc, err.reason);
        json_decref(got);
    }
    {
        lia_error err;
        json_t *got = json_array();
        assert_int_not_equal(run_map("builtin:no-such-map", "x\n", 2, got, &err), LIA_OK);
        assert_non_null(strstr(err.reason, "no built-in mapping"));
        json_decref(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets_samples),
        cmocka_unit_test(test_language),
        cmocka_unit_test(test_bad_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
