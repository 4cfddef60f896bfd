/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for src/share/misp_*.c: feed export (files, tags, grouping,
 * hashes.csv, distribution) and the "misp" import format. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fmt_run.h"
#include "jcount.h"
#include "liaison/misp.h"

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/liaison-test-misp-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Export evs into DIR/sub; exactly want_skipped of them have nothing to
 * share (LIA_ENOTFOUND, counted as skipped), the others are exported. */
static void export_dir(const char *sub, const lia_misp_opts *o, const char *const *const *evs, size_t n,
                       const int64_t *report_ids, size_t want_skipped, char *path, size_t pn)
{
    size_t nskip = 0;
    lia_misp_export *x;
    lia_error err;
    lia_event ev;
    snprintf(path, pn, "%s/%s", dir, sub);
    lia_event_init(&ev);
    assert_int_equal(lia_misp_export_create(path, o, &x, &err), LIA_OK);
    for (size_t i = 0; i < n; i++) {
        int rc;
        assert_int_equal(mkevent(&ev, (int64_t)i + 1, evs[i]), LIA_OK);
        ev.report_id = report_ids ? report_ids[i] : 1;
        rc = lia_misp_export_add(x, &ev, &err);
        if (rc != LIA_OK && rc != LIA_ENOTFOUND)
            print_error("event %zu: %d %s\n", i, rc, err.reason);
        assert_true(rc == LIA_OK || rc == LIA_ENOTFOUND);
        nskip += rc == LIA_ENOTFOUND;
    }
    assert_int_equal(nskip, want_skipped);
    assert_int_equal(lia_misp_export_skipped(x), nskip); /* the counter agrees with the returns */
    assert_int_equal(lia_misp_export_finish(x, &err), LIA_OK);
    lia_misp_export_destroy(x);
    lia_event_free(&ev);
}

static json_t *load(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        print_message("%s: %s\n", path, je.text);
    assert_non_null(j);
    return j;
}

static void test_export_feed(void **state)
{
    static const char *const a[] = {"source.ip=198.51.100.7", "source.port=80", "tlp=AMBER",
                                    "classification.type=c2-server", NULL};
    static const char *const b[] = {"source.fqdn=bad.example", "tlp=GREEN", NULL};
    static const char *const c[] = {"source.url=http://bad.example/p", "tlp=AMBER", NULL};
    static const char *const d[] = {"comment=nothing to share", NULL};
    const char *const *evs[] = {a, b, c, d};
    char path[512], f[700];
    json_t *man, *ev;
    const char *uuid;
    json_t *v;
    FILE *h;
    char line[256];
    size_t nlines = 0, namber = 0, ngreen = 0;
    export_dir("feed", NULL, evs, 4, NULL, 1, path, sizeof path); /* d: nothing to share */
    snprintf(f, sizeof f, "%s/manifest.json", path);
    man = load(f);
    /* one report, two TLPs: two MISP events */
    assert_int_equal(json_object_size(man), 2);
    json_object_foreach(man, uuid, v)
    {
        const char *tag =
            json_string_value(json_object_get(json_array_get(json_object_get(v, "Tag"), 0), "name"));
        json_t *attrs;
        snprintf(f, sizeof f, "%s/%s.json", path, uuid);
        ev = load(f);
        attrs = json_object_get(json_object_get(ev, "Event"), "Attribute");
        assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "Event"), "uuid")), uuid);
        if (strcmp(tag, "tlp:amber") == 0) {
            namber++;
            assert_int_equal(json_array_size(attrs), 2);
            assert_string_equal(json_string_value(json_object_get(json_array_get(attrs, 0), "type")),
                                "ip-dst|port");
            assert_string_equal(json_string_value(json_object_get(json_array_get(attrs, 0), "value")),
                                "198.51.100.7|80");
            assert_string_equal(
                json_string_value(json_object_get(
                    json_array_get(json_object_get(json_array_get(attrs, 0), "Tag"), 0), "name")),
                "rsit:malicious-code=\"c2-server\"");
            assert_string_equal(json_string_value(json_object_get(json_array_get(attrs, 1), "type")), "url");
            /* AMBER: this community only */
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(ev, "Event"), "distribution")), "1");
        } else {
            ngreen++;
            assert_string_equal(tag, "tlp:green");
            assert_int_equal(json_array_size(attrs), 1);
            assert_string_equal(json_string_value(json_object_get(json_array_get(attrs, 0), "type")),
                                "domain");
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(ev, "Event"), "distribution")), "2");
        }
        json_decref(ev);
    }
    assert_int_equal(namber, 1);
    assert_int_equal(ngreen, 1);
    /* hashes.csv: MD5 of each value, and of each part of a composite one
     * (ip-dst|port: the address and the port, as PyMISP's hash_values() and
     * MISP's feed correlation do; computed with Python's hashlib) */
    snprintf(f, sizeof f, "%s/hashes.csv", path);
    h = fopen(f, "r");
    assert_non_null(h);
    {
        static const struct {
            const char *md5, *value;
            int want;
        } rows[] = {{"526291673f8700ef4e4902e29550a03b", "198.51.100.7", 1},
                    {"f033ab37c30201f73f142449d037028d", "80", 1},
                    {"667b2a3fd632e578257d973a94598d3f", "198.51.100.7|80", 0},
                    {"2432164866e11dff2fa209b101ae91f1", "bad.example", 1},
                    {"cbf7c8f4bc0d1cbc9e13f1a63304264c", "http://bad.example/p", 1}};
        int seen[sizeof rows / sizeof rows[0]] = {0};
        while (fgets(line, sizeof line, h)) {
            nlines++;
            for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
                if (strncmp(line, rows[i].md5, 32) == 0 && line[32] == ',')
                    seen[i]++;
        }
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            if (seen[i] != rows[i].want)
                print_message("hashes.csv: %s (%s) %d times, %d expected\n", rows[i].value, rows[i].md5,
                              seen[i], rows[i].want);
            assert_int_equal(seen[i], rows[i].want);
        }
    }
    fclose(h);
    assert_int_equal(nlines, 4);
    json_decref(man);
    /* an existing feed is not overwritten */
    {
        lia_misp_export *x;
        lia_error err;
        assert_int_equal(lia_misp_export_create(path, NULL, &x, &err), LIA_EEXIST);
    }
}

static void test_grouping_feed_day(void **state)
{
    static const char *const a[] = {"source.ip=192.0.2.1", "feed.name=f1", "time.source=2024-05-01T10:00:00Z",
                                    NULL};
    static const char *const b[] = {"source.ip=192.0.2.2", "feed.name=f1", "time.source=2024-05-01T23:00:00Z",
                                    NULL};
    static const char *const c[] = {"source.ip=192.0.2.3", "feed.name=f1", "time.source=2024-05-02T01:00:00Z",
                                    NULL};
    static const char *const d[] = {"source.ip=192.0.2.4", "feed.name=f2", "time.source=2024-05-01T01:00:00Z",
                                    NULL};
    const char *const *evs[] = {a, b, c, d};
    lia_misp_opts o = {.org = "CERT-Z", .group = LIA_MISP_BY_FEED_DAY};
    char path[512], f[700];
    json_t *man, *v;
    const char *k;
    size_t n0501 = 0;
    export_dir("byday", &o, evs, 4, NULL, 0, path, sizeof path);
    snprintf(f, sizeof f, "%s/manifest.json", path);
    man = load(f);
    assert_int_equal(json_object_size(man), 3);
    json_object_foreach(man, k, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "date")), "2024-05-01") == 0)
            n0501++;
        assert_string_equal(json_string_value(json_object_get(json_object_get(v, "Orgc"), "name")), "CERT-Z");
    }
    assert_int_equal(n0501, 2);
    json_decref(man);
}

static void test_import_attributes(void **state)
{
    static const struct {
        const char *attr;
        int kind;
        const char *has;
    } rows[] = {
        {"{\"type\":\"ip-dst\",\"value\":\"198.51.100.1\"}", OUT_EVENT, "\"source.ip\":\"198.51.100.1\""},
        {"{\"type\":\"ip-src\",\"value\":\"198.51.100.0/24\"}", OUT_EVENT,
         "\"source.network\":\"198.51.100.0/24\""},
        {"{\"type\":\"ip-dst|port\",\"value\":\"198.51.100.1|8080\"}", OUT_EVENT, "\"source.port\":8080"},
        {"{\"type\":\"domain|ip\",\"value\":\"a.example|192.0.2.3\"}", OUT_EVENT,
         "\"source.ip\":\"192.0.2.3\""},
        {"{\"type\":\"hostname\",\"value\":\"WWW.Example.ORG\"}", OUT_EVENT,
         "\"source.fqdn\":\"www.example.org\""},
        {"{\"type\":\"url\",\"value\":\"http://x.example/a\"}", OUT_EVENT,
         "\"source.url\":\"http://x.example/a\""},
        {"{\"type\":\"filename|sha256\",\"value\":\"a.exe|"
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}",
         OUT_EVENT, "\"extra.misp_filename\":\"a.exe\""},
        {"{\"type\":\"ip-dst\",\"value\":\"192.0.2.9\",\"Tag\":[{\"name\":\"tlp:red\"},{\"name\":\"rsit:"
         "malicious-code=\\\"c2-server\\\"\"}]}",
         OUT_EVENT, "\"classification.type\":\"c2-server\""},
        {"{\"type\":\"ip-dst\",\"value\":\"192.0.2.9\",\"to_ids\":false,\"timestamp\":\"1714557600\"}",
         OUT_EVENT, "\"time.source\":\"2024-05-01T10:00:00+00:00\""},
        {"{\"type\":\"link\",\"value\":\"https://blog.example/x\"}", OUT_NOTEVENT, ""},
        {"{\"type\":\"ip-dst\",\"value\":\"192.0.2.9\",\"deleted\":true}", OUT_NOTEVENT, ""},
        {"{\"type\":\"regkey\",\"value\":\"HKLM\\\\x\"}", OUT_QUARANTINE, "not mapped"},
        {"{\"type\":\"ip-dst\",\"value\":\"999.1.1.1\"}", OUT_QUARANTINE, "source.ip"},
        {"{\"type\":\"ip-dst|port\",\"value\":\"192.0.2.1\"}", OUT_QUARANTINE, "without '|'"},
        {"{\"value\":\"x\"}", OUT_QUARANTINE, "without type"},
        {"7", OUT_QUARANTINE, "must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char doc[2048];
        fmt_res r;
        const char *text;
        snprintf(doc, sizeof doc,
                 "{\"Event\":{\"uuid\":\"5a2e8b9c-0000-4000-8000-000000000001\",\"info\":\"t\",\"Tag\":[{"
                 "\"name\":\"tlp:green\"}],\"Attribute\":[%s]}}",
                 rows[i].attr);
        fmt_run("misp", doc, strlen(doc), 5, &r);
        assert_int_equal(r.rc, LIA_OK);
        assert_int_equal(r.n, 1);
        text = r.o[0].kind == OUT_EVENT ? r.o[0].json : r.o[0].reason;
        if (r.o[0].kind != rows[i].kind || !strstr(text, rows[i].has))
            print_message("row %zu: kind %d (expected %d): %s\n", i, r.o[0].kind, rows[i].kind, text);
        assert_int_equal(r.o[0].kind, rows[i].kind);
        assert_non_null(strstr(text, rows[i].has));
        if (r.o[0].kind == OUT_EVENT) {
            /* attribute tag over event tag */
            assert_non_null(strstr(text, i == 7 ? "\"tlp\":\"RED\"" : "\"tlp\":\"GREEN\""));
            assert_non_null(strstr(text, "\"misp.event_uuid\":\"5a2e8b9c-0000-4000-8000-000000000001\""));
        }
        fmt_res_free(&r);
    }
}

/* Classification from taxonomy tags (rsit: over ecsirt: over circl:),
 * malware names from galaxies, tags and the attributes that name them, and
 * the attribute types beyond addresses: each a MISP event and what its
 * first record must give (event substrings or a quarantine reason). */
static void test_import_taxonomies_galaxies(void **state)
{
    static const struct {
        const char *event; /* members of Event besides uuid/info */
        int kind;
        const char *has[3];
    } rows[] = {
        {"\"Tag\":[{\"name\":\"ecsirt:malicious-code=\\\"c2server\\\"\"}],\"Attribute\":[{\"type\":\"ip-"
         "dst\",\"value\":\"192.0.2.1\"}]",
         OUT_EVENT,
         {"\"classification.type\":\"c2-server\"", "\"classification.taxonomy\":\"malicious-code\"", NULL}},
        {"\"Tag\":[{\"name\":\"circl:incident-classification=\\\"phishing\\\"\"}],\"Attribute\":[{\"type\":"
         "\"url\",\"value\":\"http://p.example/\"}]",
         OUT_EVENT,
         {"\"classification.type\":\"phishing\"", NULL}},
        {"\"Tag\":[{\"name\":\"circl:incident-classification=\\\"scan\\\"\"},{\"name\":\"rsit:malicious-code="
         "\\\"infected-system\\\"\"},"
         "{\"name\":\"ecsirt:abusive-content=\\\"spam\\\"\"}],\"Attribute\":[{\"type\":\"ip-src\",\"value\":"
         "\"192.0.2.2\"}]",
         OUT_EVENT,
         {"\"classification.type\":\"infected-system\"", NULL}}, /* rsit wins, whatever the order */
        {"\"Tag\":[{\"name\":\"ecsirt:malicious-code=\\\"malware\\\"\"}],\"Attribute\":[{\"type\":\"ip-src\","
         "\"value\":\"192.0.2.3\","
         "\"Tag\":[{\"name\":\"rsit:information-gathering=\\\"scanner\\\"\"}]}]",
         OUT_EVENT,
         {"\"classification.type\":\"scanner\"", NULL}}, /* the attribute's rsit over the event's ecsirt */
        {"\"Galaxy\":[{\"type\":\"threat-actor\",\"GalaxyCluster\":[{\"value\":\"APT-X\"}]},{\"type\":"
         "\"malpedia\",\"GalaxyCluster\":"
         "[{\"value\":\"Emotet\"}]}],\"Attribute\":[{\"type\":\"domain\",\"value\":\"e.example\"}]",
         OUT_EVENT,
         {"\"malware.name\":\"emotet\"", NULL}},
        {"\"Tag\":[{\"name\":\"misp-galaxy:ransomware=\\\"LockBit\\\"\"}],\"Attribute\":[{\"type\":"
         "\"sha256\","
         "\"value\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]",
         OUT_EVENT,
         {"\"malware.name\":\"lockbit\"", NULL}},
        {"\"Attribute\":[{\"type\":\"ip-dst\",\"value\":\"192.0.2.4\"},{\"type\":\"malware-type\",\"value\":"
         "\"QakBot\"}]",
         OUT_EVENT,
         {"\"malware.name\":\"qakbot\"", NULL}},
        {"\"Object\":[{\"name\":\"file\",\"Attribute\":[{\"type\":\"md5\",\"value\":"
         "\"d41d8cd98f00b204e9800998ecf8427e\"},"
         "{\"type\":\"text\",\"object_relation\":\"malware-family\",\"value\":\"AgentTesla\"}]}]",
         OUT_EVENT,
         {"\"malware.name\":\"agenttesla\"", "\"malware.hash.md5\"", NULL}},
        {"\"Galaxy\":[{\"type\":\"malpedia\",\"GalaxyCluster\":[{\"value\":\"Emotet\"}]}],\"Attribute\":[{"
         "\"type\":\"ip-dst\","
         "\"value\":\"192.0.2.5\",\"Tag\":[{\"name\":\"misp-galaxy:malpedia=\\\"TrickBot\\\"\"}]}]",
         OUT_EVENT,
         {"\"malware.name\":\"trickbot\"", NULL}}, /* the attribute's own galaxy tag first */
        {"\"Attribute\":[{\"type\":\"AS\",\"value\":\"64496\"}]", OUT_EVENT, {"\"source.asn\":64496", NULL}},
        {"\"Attribute\":[{\"type\":\"email-src\",\"value\":\"a@example.org\"}]",
         OUT_EVENT,
         {"\"source.account\":\"a@example.org\"", NULL}},
        {"\"Attribute\":[{\"type\":\"email-dst\",\"value\":\"b@example.org\"}]",
         OUT_EVENT,
         {"\"destination.account\":\"b@example.org\"", NULL}},
        {"\"Attribute\":[{\"type\":\"vulnerability\",\"value\":\"CVE-2024-0001\"}]",
         OUT_NOTEVENT,
         {"", NULL}},
        {"\"Attribute\":[{\"type\":\"mutex\",\"value\":\"Global\\\\x\"}]",
         OUT_QUARANTINE,
         {"type not mapped", "mutex", NULL}},
        {"\"Attribute\":[{\"type\":\"AS\",\"value\":\"AS-foo\"}]", OUT_QUARANTINE, {"source.asn", NULL}},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char doc[4096];
        fmt_res r;
        const char *text;
        snprintf(doc, sizeof doc,
                 "{\"Event\":{\"uuid\":\"5a2e8b9c-0000-4000-8000-000000000002\",\"info\":\"t\",%s}}",
                 rows[i].event);
        fmt_run("misp", doc, strlen(doc), 0, &r);
        assert_int_equal(r.rc, LIA_OK);
        assert_true(r.n >= 1);
        text = r.o[0].kind == OUT_EVENT ? r.o[0].json : r.o[0].reason;
        if (r.o[0].kind != rows[i].kind)
            fail_msg("row %zu: kind %d (expected %d): %s", i, r.o[0].kind, rows[i].kind, text);
        for (size_t k = 0; rows[i].has[k]; k++)
            if (!strstr(text, rows[i].has[k]))
                fail_msg("row %zu: %s expected in %s", i, rows[i].has[k], text);
        fmt_res_free(&r);
    }
}

/* A tlp: tag that is not a TLP 2.0/1.0 label, or tags that cannot be read,
 * never lower the TLP: they count as TLP:RED (issue 16). */
static void test_import_tlp_never_lower(void **state)
{
    static const struct {
        const char *tags, *tlp;
    } rows[] = {
        {"[{\"name\":\"tlp:ex:chr\"}]", "RED"},
        {"[{\"name\":\"TLP:Unclear\"}]", "RED"},
        {"[{\"name\":\"tlp:green\"},{\"name\":\"tlp:bogus\"}]", "RED"},
        {"{\"name\":\"tlp:green\"}", "RED"},
        {"[{\"name\":7}]", "RED"},
        {"[{\"name\":\"TLP:AMBER+STRICT\"}]", "AMBER+STRICT"},
        {"[{\"name\":\"tlp:white\"}]", "GREEN"}, /* the event's GREEN is stricter */
        {"[{\"name\":\"osint:source-type=\\\"blog-post\\\"\"}]", "GREEN"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char doc[2048], want[64];
        fmt_res r;
        snprintf(doc, sizeof doc,
                 "{\"Event\":{\"uuid\":\"5a2e8b9c-0000-4000-8000-000000000001\",\"info\":\"t\",\"Tag\":[{"
                 "\"name\":\"tlp:green\"}],"
                 "\"Attribute\":[{\"type\":\"ip-dst\",\"value\":\"192.0.2.9\",\"Tag\":%s}]}}",
                 rows[i].tags);
        fmt_run("misp", doc, strlen(doc), 0, &r);
        snprintf(want, sizeof want, "\"tlp\":\"%s\"", rows[i].tlp);
        if (r.n != 1 || r.o[0].kind != OUT_EVENT || !strstr(r.o[0].json, want))
            fail_msg("tags %s: %s, want %s", rows[i].tags, r.n == 1 ? r.o[0].json : "?", want);
        fmt_res_free(&r);
    }
    /* on the event, too */
    {
        const char *doc = "{\"Event\":{\"uuid\":\"5a2e8b9c-0000-4000-8000-000000000002\",\"info\":\"t\","
                          "\"Tag\":[{\"name\":\"tlp:amber\"},{\"name\":\"tlp:ex:chr\"}],"
                          "\"Attribute\":[{\"type\":\"ip-dst\",\"value\":\"192.0.2.9\"}]}}";
        fmt_res r;
        fmt_run("misp", doc, strlen(doc), 0, &r);
        assert_int_equal(r.events, 1);
        assert_non_null(strstr(r.o[0].json, "\"tlp\":\"RED\""));
        fmt_res_free(&r);
    }
}

static void test_import_samples(void **state)
{
    static const struct {
        const char *file;
        size_t n, events, notevents, quarantined;
    } rows[] = {
        {"misp/events/pymisp-57c4445b-c548-4654-af0b-4be3950d210f.json", 9, 3, 4, 2},
        {"misp/events/pymisp-mispevent_testfiles-event_obj_attr_tag.json", 2, 1, 0, 1},
        {"misp/events/pymisp-mispevent_testfiles-event_tags.json", 0, 0, 0, 0},
        {"misp/events/pymisp-mispevent_testfiles-malware.json", 1, 0, 0, 1},
        {"misp/feed-misp/56bf399d-c46c-4fdb-a9cf-d9bb02de0b81.json", 1, 0, 1, 0},
        {"misp/feed-misp/manifest.json", 1, 0, 0, 1}, /* a manifest is not an event */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t len = 0;
        char *doc = testdata(rows[i].file, &len);
        fmt_res r;
        assert_non_null(doc);
        fmt_run("misp", doc, len, 0, &r);
        if (r.n != rows[i].n || r.events != rows[i].events || r.notevents != rows[i].notevents ||
            r.quarantined != rows[i].quarantined)
            print_message("%s: %zu records %zu events %zu not events %zu quarantined\n", rows[i].file, r.n,
                          r.events, r.notevents, r.quarantined);
        assert_int_equal(r.n, rows[i].n);
        assert_int_equal(r.events, rows[i].events);
        assert_int_equal(r.notevents, rows[i].notevents);
        assert_int_equal(r.quarantined, rows[i].quarantined);
        fmt_res_free(&r);
        free(doc);
    }
}

static int collect(void *ud, const char *path)
{
    size_t *n = ud;
    (*n)++;
    return strstr(path, "56bf399d-c46c-4fdb-a9cf-d9bb02de0b81.json") ? LIA_OK : LIA_EINVAL;
}

static void test_feed_files(void **state)
{
    char path[4096], f[4200];
    size_t n = 0;
    lia_error err;
    FILE *m;
    snprintf(path, sizeof path, "%s/misp/feed-misp", getenv("LIAISON_TESTDATA"));
    assert_int_equal(lia_misp_feed_files(path, collect, &n, &err), LIA_OK);
    assert_int_equal(n, 1);
    /* a manifest key that is not a UUID (path tricks) is refused */
    snprintf(path, sizeof path, "%s/evil", dir);
    mkdir(path, 0700);
    snprintf(f, sizeof f, "%s/manifest.json", path);
    m = fopen(f, "w");
    assert_non_null(m);
    fputs("{\"../../etc/passwd\":{}}", m);
    fclose(m);
    assert_int_equal(lia_misp_feed_files(path, collect, &n, &err), LIA_EPARSE);
    assert_non_null(strstr(err.reason, "not a UUID"));
}

/* Export then import: observables, TLP and classification survive. */
static void test_round_trip(void **state)
{
    static const char *const a[] = {"source.ip=198.51.100.7", "source.port=80", "tlp=AMBER+STRICT",
                                    "classification.type=c2-server", NULL};
    static const char *const b[] = {"source.fqdn=bad.example", "tlp=CLEAR", "classification.type=phishing",
                                    NULL};
    const char *const *evs[] = {a, b};
    char path[512], f[700];
    json_t *man, *v;
    const char *k;
    size_t seen = 0;
    export_dir("rt", NULL, evs, 2, NULL, 0, path, sizeof path);
    snprintf(f, sizeof f, "%s/manifest.json", path);
    man = load(f);
    json_object_foreach(man, k, v)
    {
        size_t len = 0;
        char *doc;
        fmt_res r;
        snprintf(f, sizeof f, "%s/%s.json", path, k);
        doc = slurp(f, &len);
        assert_non_null(doc);
        fmt_run("misp", doc, len, 0, &r);
        assert_int_equal(r.events, 1);
        if (strstr(r.o[0].json, "198.51.100.7")) {
            assert_non_null(strstr(r.o[0].json, "\"source.port\":80"));
            assert_non_null(strstr(r.o[0].json, "\"tlp\":\"AMBER+STRICT\""));
            assert_non_null(strstr(r.o[0].json, "\"classification.type\":\"c2-server\""));
            seen |= 1;
        } else {
            assert_non_null(strstr(r.o[0].json, "\"source.fqdn\":\"bad.example\""));
            assert_non_null(strstr(r.o[0].json, "\"tlp\":\"CLEAR\""));
            assert_non_null(strstr(r.o[0].json, "\"classification.type\":\"phishing\""));
            seen |= 2;
        }
        fmt_res_free(&r);
        free(doc);
    }
    assert_int_equal(seen, 3);
    json_decref(man);
}

/* Issue 16: an event was held as one jansson tree, up to 25 times its text;
 * its own attributes are now split from the text and parsed one at a time.
 * What jansson holds at its peak while an event of 2,000 attributes is
 * imported stays below the document's own size. */

static void test_import_memory(void **state)
{
    size_t cap = 2000 * 400 + 4096, off = 0;
    char *doc = malloc(cap);
    fmt_res r;
    (void)state;
    assert_non_null(doc);
    off += (size_t)snprintf(doc, cap,
                            "{\"Event\":{\"uuid\":\"5e0c8a0e-0d3d-4b8b-9a1e-1f0e6f0c1a2b\",\"info\":\"x\","
                            "\"Tag\":[{\"name\":\"tlp:green\"}],\"Attribute\":[");
    for (int i = 0; i < 2000; i++)
        off += (size_t)snprintf(doc + off, cap - off,
                                "%s{\"type\":\"ip-dst\",\"category\":\"Network activity\",\"to_ids\":true,"
                                "\"uuid\":\"00000000-0000-4000-8000-%012d\",\"timestamp\":\"1700000000\","
                                "\"comment\":\"seen\",\"deleted\":false,\"value\":\"10.0.%d.%d\"}",
                                i ? "," : "", i, i / 250, i % 250 + 1);
    off += (size_t)snprintf(doc + off, cap - off, "]}}");
    assert_true(off < cap);
    jc_live = jc_peak = 0;
    json_set_alloc_funcs(jc_malloc, jc_free);
    fmt_run("misp", doc, off, 1 << 16, &r);
    json_set_alloc_funcs(malloc, free);
    assert_int_equal(r.events, 2000);
    if (jc_peak >= off)
        print_message("jansson peak %zu bytes for a %zu-byte event\n", jc_peak, off);
    assert_true(jc_peak < off);
    fmt_res_free(&r);
    free(doc);
}

/* The split path and the whole-document path read an event alike: the same
 * event, once with its "Attribute" key written as the splitter looks for it
 * and once with an escape in the key (jansson reads the same name; the
 * splitter does not recognise it, so the event is read whole), gives the
 * same records in the same order with the same outcomes. */
static void test_import_split_same(void **state)
{
    static const char *const body =
        "{\"Event\":{\"uuid\":\"5e0c8a0e-0d3d-4b8b-9a1e-1f0e6f0c1a2b\",\"info\":\"split\","
        "\"Orgc\":{\"name\":\"ORG\"},\"Tag\":[{\"name\":\"tlp:green\"},"
        "{\"name\":\"rsit:malicious-code=\\\"c2-server\\\"\"}],\n \"%s\": [\n"
        "  {\"type\":\"ip-dst\",\"value\":\"192.0.2.1\",\"uuid\":\"a1\",\"timestamp\":\"1700000000\"},\n"
        "  {\"type\":\"malware-type\",\"value\":\"emotet\"},\n"
        "  {\"type\":\"ip-dst|port\",\"value\":\"192.0.2.2|443\",\"to_ids\":false},\n"
        "  {\"type\":\"domain\",\"value\":\"x.example\",\"deleted\":true}, 7,\n"
        "  {\"type\":\"weird-type\",\"value\":\"v\"},\n"
        "  {\"type\":\"url\",\"value\":\"http://x.example/a\",\"Tag\":[{\"name\":\"tlp:red\"}]}],\n"
        " \"Object\":[{\"name\":\"file\",\"Attribute\":[{\"type\":\"md5\","
        "\"value\":\"d41d8cd98f00b204e9800998ecf8427e\",\"object_relation\":\"md5\"}]}]}}";
    char a[2048], b[2048];
    fmt_res ra, rb;
    (void)state;
    snprintf(a, sizeof a, body, "Attribute");
    snprintf(b, sizeof b, body, "Attr\\u0069bute");
    fmt_run("misp", a, strlen(a), 7, &ra);
    fmt_run("misp", b, strlen(b), 0, &rb);
    assert_int_equal(ra.rc, LIA_OK);
    assert_int_equal(rb.rc, LIA_OK);
    assert_int_equal(ra.n, 8);
    assert_int_equal(ra.n, rb.n);
    assert_int_equal(ra.events, 4); /* ip, ip|port, url, md5; malware-type is context */
    for (size_t i = 0; i < ra.n; i++) {
        assert_int_equal(ra.o[i].line, rb.o[i].line);
        assert_int_equal(ra.o[i].kind, rb.o[i].kind);
        assert_string_equal(ra.o[i].json, rb.o[i].json);
        assert_string_equal(ra.o[i].reason, rb.o[i].reason);
    }
    assert_non_null(strstr(ra.o[0].json, "emotet")); /* named by an attribute of the event */
    fmt_res_free(&ra);
    fmt_res_free(&rb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_feed),
        cmocka_unit_test(test_grouping_feed_day),
        cmocka_unit_test(test_import_attributes),
        cmocka_unit_test(test_import_taxonomies_galaxies),
        cmocka_unit_test(test_import_tlp_never_lower),
        cmocka_unit_test(test_import_samples),
        cmocka_unit_test(test_feed_files),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_import_memory),
        cmocka_unit_test(test_import_split_same),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
