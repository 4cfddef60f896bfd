/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for src/share/stix_*.c: STIX 2.1 export (deterministic ids,
 * patterns, markings, sightings, incident) and the "stix" import format
 * (patterns, markings, examples, round trip). */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fmt_run.h"
#include "jcount.h"
#include "liaison/stix.h"
#include "core/records.h"

/* Export events (each a NULL-terminated kv list) and parse the bundle. */
static json_t *export(const lia_stix_opts *o, const char *const *const *evs, size_t n, uint64_t *skipped)
{
    lia_buf out;
    lia_stix_export *x;
    lia_error err;
    lia_event ev;
    json_t *j;
    json_error_t je;
    uint64_t nskip = 0;
    lia_buf_init(&out, 1 << 26);
    lia_event_init(&ev);
    assert_int_equal(lia_stix_export_create(o, buf_sink, &out, &x, &err), LIA_OK);
    for (size_t i = 0; i < n; i++) {
        int rc;
        assert_int_equal(mkevent(&ev, (int64_t)i + 1, evs[i]), LIA_OK);
        rc = lia_stix_export_add(x, &ev, &err);
        /* exported (LIA_OK) or skipped (LIA_ENOTFOUND, no observable): a
         * caller that passes no skipped counter expects every event out */
        if (rc != LIA_OK && !(skipped && rc == LIA_ENOTFOUND))
            print_error("event %zu: %d %s\n", i, rc, err.reason);
        assert_true(rc == LIA_OK || (skipped && rc == LIA_ENOTFOUND));
        nskip += rc == LIA_ENOTFOUND;
    }
    assert_int_equal(lia_stix_export_finish(x, &err), LIA_OK);
    assert_int_equal(lia_stix_export_skipped(x), nskip); /* the counter agrees with the returns */
    if (skipped)
        *skipped = nskip;
    lia_stix_export_destroy(x);
    lia_event_free(&ev);
    j = json_loadb(out.ptr, out.len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        print_message("bundle is not JSON: %s\n%s\n", je.text, out.ptr);
    assert_non_null(j);
    lia_buf_free(&out);
    return j;
}

static json_t *find(json_t *bundle, const char *type, size_t nth)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(bundle, "objects"), i, o)
    {
        if (strcmp(json_string_value(json_object_get(o, "type")), type) == 0 && nth-- == 0)
            return o;
    }
    return NULL;
}

static size_t count(json_t *bundle, const char *type)
{
    size_t n = 0;
    while (find(bundle, type, n))
        n++;
    return n;
}

static const char *sget(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* SCO identifiers are UUIDv5 of the canonical id-contributing properties in
 * the STIX namespace (spec 2.9); expected values computed with Python's
 * uuid.uuid5 independently of this code. */
static void test_sco_ids(void **state)
{
    static const struct {
        const char *kv[3];
        const char *type, *id;
    } rows[] = {
        {{"source.ip=198.51.100.3", NULL}, "ipv4-addr", "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
        {{"source.ip=2001:db8::1", NULL}, "ipv6-addr", "ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26"},
        {{"source.fqdn=example.com", NULL},
         "domain-name",
         "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7"},
        {{"source.url=http://example.com/a", NULL}, "url", "url--90a682b4-db61-5016-9aaa-eb700579af05"},
        /* SHA-1 padding: 60 bytes hashed (length block spills over), 247 bytes */
        {{"source.url=http://example.com/abcdefghijklm", NULL},
         "url",
         "url--3422be66-23bf-5662-a9c1-90f5e5b9bd8e"},
        {{"source.url=http://example.com/"
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
          "xx"
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
          "xx",
          NULL},
         "url",
         "url--561573a0-500f-5e50-910a-c8a0e97aff68"},
        {{"source.network=198.51.100.0/24", NULL},
         "ipv4-addr",
         "ipv4-addr--1ea47840-aa39-5aa8-b4a2-cd203eb6662a"},
        {{"source.ip=198.51.100.3", "source.asn=64496", NULL},
         "autonomous-system",
         "autonomous-system--9ad79ee3-2fde-5015-b0cc-7a96404effca"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *const *evs[] = {rows[i].kv};
        json_t *b = export(NULL, evs, 1, NULL);
        json_t *o = find(b, rows[i].type, 0);
        assert_non_null(o);
        if (strcmp(sget(o, "id"), rows[i].id) != 0)
            print_message("row %zu: id %s, expected %s\n", i, sget(o, "id"), rows[i].id);
        assert_string_equal(sget(o, "id"), rows[i].id);
        json_decref(b);
    }
}

static void test_patterns(void **state)
{
    static const struct {
        const char *kv[5];
        const char *pattern;
    } rows[] = {
        {{"source.ip=192.0.2.1", NULL}, "[ipv4-addr:value = '192.0.2.1']"},
        {{"source.ip=2001:db8::2", NULL}, "[ipv6-addr:value = '2001:db8::2']"},
        {{"source.ip=192.0.2.1", "source.port=23", NULL},
         "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '192.0.2.1' AND "
         "network-traffic:dst_port = 23]"},
        {{"source.fqdn=evil.example", "source.url=http://evil.example/x'y", NULL},
         "[domain-name:value = 'evil.example'] OR [url:value = 'http://evil.example/x\\'y']"},
        {{"destination.ip=203.0.113.9", NULL}, "[ipv4-addr:value = '203.0.113.9']"},
        {{"malware.hash.sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL},
         "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *const *evs[] = {rows[i].kv};
        json_t *b = export(NULL, evs, 1, NULL);
        json_t *ind = find(b, "indicator", 0);
        assert_non_null(ind);
        if (strcmp(sget(ind, "pattern"), rows[i].pattern) != 0)
            print_message("row %zu: pattern %s, expected %s\n", i, sget(ind, "pattern"), rows[i].pattern);
        assert_string_equal(sget(ind, "pattern"), rows[i].pattern);
        assert_string_equal(sget(ind, "pattern_type"), "stix");
        json_decref(b);
    }
}

static void test_stable_ids_and_skip(void **state)
{
    static const char *const a[] = {"source.ip=192.0.2.1", "classification.type=c2-server", NULL};
    static const char *const none[] = {"classification.type=spam", "comment=no observable", NULL};
    const char *const *evs[] = {a, none};
    lia_stix_opts o1 = {.producer = "CERT-A"}, o2 = {.producer = "CERT-B"};
    uint64_t skipped = 0;
    json_t *b1 = export(&o1, evs, 2, &skipped), *b2 = export(&o1, evs, 1, NULL),
           *b3 = export(&o2, evs, 1, NULL);
    assert_int_equal(skipped, 1);
    assert_int_equal(count(b1, "indicator"), 1);
    /* same producer + event id: same indicator id; another producer: another */
    assert_string_equal(sget(find(b1, "indicator", 0), "id"), sget(find(b2, "indicator", 0), "id"));
    assert_string_not_equal(sget(find(b1, "indicator", 0), "id"), sget(find(b3, "indicator", 0), "id"));
    assert_string_equal(sget(find(b1, "identity", 0), "name"), "CERT-A");
    assert_string_equal(sget(find(b1, "indicator", 0), "created_by_ref"),
                        sget(find(b1, "identity", 0), "id"));
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(find(b1, "indicator", 0), "indicator_types"), 0)),
        "malicious-activity");
    json_decref(b1);
    json_decref(b2);
    json_decref(b3);
}

/* The marking-definition objects written are the official TLP 2.0 ones
 * (compared with the OASIS files in tests/data/taxonomy/tlp2). */
static void test_markings(void **state)
{
    static const struct {
        const char *tlp, *file;
    } rows[] = {
        {"tlp=GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
        {"tlp=AMBER+STRICT", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
        {"tlp=RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *kv[] = {"source.ip=192.0.2.1", rows[i].tlp, NULL};
        const char *const *evs[] = {kv};
        json_t *b = export(NULL, evs, 1, NULL), *md, *off, *ind, *file;
        char rel[256];
        size_t len = 0;
        char *text;
        json_error_t je;
        snprintf(rel, sizeof rel, "taxonomy/tlp2/stix-marking-definitions/%s.json", rows[i].file);
        text = testdata(rel, &len);
        assert_non_null(text);
        file = json_loads(text, 0, &je);
        off = json_array_get(json_object_get(file, "objects"), 0);
        assert_non_null(off);
        assert_int_equal(count(b, "marking-definition"), 1);
        md = find(b, "marking-definition", 0);
        if (!json_equal(md, off))
            print_message("row %zu: marking %s differs from %s\n", i, json_dumps(md, 0), rel);
        assert_true(json_equal(md, off));
        ind = find(b, "indicator", 0);
        assert_string_equal(json_string_value(json_array_get(json_object_get(ind, "object_marking_refs"), 0)),
                            rows[i].file);
        free(text);
        json_decref(file);
        json_decref(b);
    }
}

/* The Liaison event of an indicator: the property extension's "event". */
static json_t *event_of(json_t *ind)
{
    json_t *e = json_object_get(json_object_get(ind, "extensions"), LIA_STIX_EVENT_EXT);
    assert_non_null(e);
    assert_string_equal(sget(e, "extension_type"), "property-extension");
    return json_object_get(e, "event");
}

/* The event carries the fields but never the raw report row. */
static void test_no_raw(void **state)
{
    static const char *const a[] = {"source.ip=192.0.2.1", "raw=c2VjcmV0LHJvdw==", "comment=x", NULL};
    static const char *const b[] = {"raw=c2VjcmV0LHJvdw==", "source.ip=192.0.2.2", NULL};
    const char *const *evs[] = {a, b};
    json_t *bu = export(NULL, evs, 2, NULL);
    for (size_t i = 0; i < 2; i++) {
        json_t *xe = event_of(find(bu, "indicator", i));
        assert_non_null(xe);
        assert_null(json_object_get(xe, "raw"));
        assert_non_null(json_object_get(xe, "source.ip"));
    }
    assert_string_equal(sget(event_of(find(bu, "indicator", 0)), "comment"), "x");
    json_decref(bu);
}

/* Issue 16: no top-level custom property (python-stix2's default parser
 * refuses them); the event rides in a property extension whose
 * extension-definition is in the bundle, created by an identity that is
 * there too; the same id and content whatever the producer. */
static void test_event_extension(void **state)
{
    static const char *const a[] = {"source.ip=192.0.2.1", "tlp=GREEN", NULL};
    const char *const *evs[] = {a};
    lia_stix_opts o1 = {.producer = "CERT-X", .incident = "Case 1", .now_us = 1714557600000000};
    json_t *b1 = export(&o1, evs, 1, NULL), *b2 = export(NULL, evs, 1, NULL);
    json_t *objs = json_object_get(b1, "objects"), *o, *def;
    size_t i;
    const char *k;
    json_t *v;
    json_array_foreach(objs, i, o)
    {
        json_object_foreach(o, k, v)
        {
            if (strncmp(k, "x_", 2) == 0)
                fail_msg("%s has the custom property %s", sget(o, "type"), k);
        }
    }
    assert_int_equal(count(b1, "extension-definition"), 1);
    def = find(b1, "extension-definition", 0);
    assert_string_equal(sget(def, "id"), LIA_STIX_EVENT_EXT);
    assert_string_equal(sget(def, "spec_version"), "2.1");
    assert_string_equal(json_string_value(json_array_get(json_object_get(def, "extension_types"), 0)),
                        "property-extension");
    assert_int_equal(json_array_size(json_object_get(def, "extension_types")), 1);
    assert_null(json_object_get(def, "extension_properties")); /* only for toplevel-property-extension */
    for (const char *const *req = (const char *const[]){"created", "modified", "name", "schema", "version",
                                                        "created_by_ref", NULL};
         *req; req++)
        assert_true(*sget(def, *req));
    /* its creator is in the bundle (the project's identity, beside CERT-X's) */
    {
        int found = 0;
        json_array_foreach(objs, i, o)
        {
            if (strcmp(sget(o, "id"), sget(def, "created_by_ref")) == 0)
                found = 1;
        }
        assert_true(found);
    }
    assert_int_equal(count(b1, "identity"), 2);
    assert_int_equal(count(b2, "identity"), 1); /* the producer is Liaison: one identity */
    assert_true(json_equal(def, find(b2, "extension-definition", 0)));
    assert_string_equal(sget(event_of(find(b1, "indicator", 0)), "source.ip"), "192.0.2.1");
    json_decref(b1);
    json_decref(b2);
}

/* Issue 16: the incident and its relationships carry the strictest TLP of
 * the events they describe. */
static void test_incident_marking(void **state)
{
    static const char *const g[] = {"source.ip=192.0.2.1", "tlp=GREEN", NULL};
    static const char *const a[] = {"source.ip=192.0.2.2", "tlp=AMBER", NULL};
    static const char *const c[] = {"source.ip=192.0.2.3", "tlp=CLEAR", NULL};
    const char *const *evs[] = {g, a, c};
    lia_stix_opts o = {.producer = "CERT-X", .incident = "Case 1", .now_us = 1714557600000000};
    json_t *bu = export(&o, evs, 3, NULL), *inc = find(bu, "incident", 0);
    const char *amber = json_string_value(
        json_array_get(json_object_get(find(bu, "indicator", 1), "object_marking_refs"), 0));
    assert_non_null(amber);
    assert_non_null(inc);
    assert_int_equal(json_array_size(json_object_get(inc, "object_marking_refs")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(inc, "object_marking_refs"), 0)),
                        amber);
    assert_int_equal(count(bu, "relationship"), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *r = find(bu, "relationship", i);
        assert_int_equal(json_array_size(json_object_get(r, "object_marking_refs")), 1);
        assert_string_equal(json_string_value(json_array_get(json_object_get(r, "object_marking_refs"), 0)),
                            amber);
    }
    json_decref(bu);
}

static void test_sighting_and_incident(void **state)
{
    static const char *const a[] = {"source.ip=192.0.2.1", "time.source=2024-05-01T10:00:00Z",
                                    "extra.count=7", "extra.first_seen=2024-04-30T00:00:00Z", NULL};
    static const char *const b[] = {"source.fqdn=c2.example",
                                    "extra.dedup_count=41",
                                    "extra.dedup_first_seen=2024-05-02T00:00:00+00:00",
                                    "extra.dedup_last_seen=2024-05-03T00:00:00+00:00",
                                    "extra.count=2",
                                    NULL};
    const char *const *evs[] = {a, b};
    lia_stix_opts o = {.producer = "CERT-X", .incident = "Botnet takedown", .now_us = 1714557600000000};
    json_t *bu = export(&o, evs, 2, NULL), *s = find(bu, "sighting", 0), *inc;
    assert_non_null(s);
    assert_string_equal(sget(s, "sighting_of_ref"), sget(find(bu, "indicator", 0), "id"));
    assert_int_equal(json_integer_value(json_object_get(s, "count")), 7);
    assert_string_equal(sget(s, "first_seen"), "2024-04-30T00:00:00.000Z");
    assert_string_equal(sget(s, "last_seen"), "2024-05-01T10:00:00.000Z");
    /* the dedup stage's aggregate wins over other counts */
    s = find(bu, "sighting", 1);
    assert_int_equal(json_integer_value(json_object_get(s, "count")), 41);
    assert_string_equal(sget(s, "first_seen"), "2024-05-02T00:00:00.000Z");
    assert_string_equal(sget(s, "last_seen"), "2024-05-03T00:00:00.000Z");
    inc = find(bu, "incident", 0);
    assert_non_null(inc);
    assert_string_equal(sget(inc, "name"), "Botnet takedown");
    assert_int_equal(count(bu, "relationship"), 2);
    assert_string_equal(sget(find(bu, "relationship", 1), "target_ref"), sget(inc, "id"));
    assert_string_equal(sget(find(bu, "relationship", 1), "source_ref"),
                        sget(find(bu, "indicator", 1), "id"));
    assert_true(strncmp(sget(bu, "id"), "bundle--", 8) == 0);
    json_decref(bu);
}

/* ---- import ---- */

static void run_bundle(const char *objects_json, fmt_res *r)
{
    char doc[16384];
    snprintf(doc, sizeof doc,
             "{\"type\":\"bundle\",\"id\":\"bundle--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061\",\"objects\":[%s]}",
             objects_json);
    fmt_run("stix", doc, strlen(doc), 7, r); /* small chunks: the bundle spans many reads */
}

#define IND(pat)                                                                                             \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--a1cb37d2-3bd3-5b23-8526-"          \
    "47a22694b7e0\",\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\",\"pattern_"   \
    "type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"pattern\":\"" pat "\"}"

static void test_import_patterns(void **state)
{
    static const struct {
        const char *obj;
        int kind;
        const char *has; /* substring of the event JSON, or of the reason */
    } rows[] = {
        {IND("[ipv4-addr:value = '198.51.100.1']"), OUT_EVENT, "\"source.ip\":\"198.51.100.1\""},
        {IND("[ ipv4-addr:value = '10.0.0.0/8' ]"), OUT_EVENT, "\"source.network\":\"10.0.0.0/8\""},
        {IND("[ipv6-addr:value = '2001:db8::1']"), OUT_EVENT, "\"source.ip\":\"2001:db8::1\""},
        {IND("[domain-name:value = 'Evil.Example']"), OUT_EVENT, "\"source.fqdn\":\"evil.example\""},
        {IND("[url:value = 'http://a.example/x\\\\'y']"), OUT_EVENT,
         "\"source.url\":\"http://a.example/x'y\""},
        {IND("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '192.0.2.7' "
             "AND network-traffic:dst_port = 443]"),
         OUT_EVENT, "\"source.ip\":\"192.0.2.7\",\"source.port\":443"},
        {IND("[network-traffic:src_ref.value = '192.0.2.8' AND network-traffic:dst_ref.value = '192.0.2.9' "
             "AND network-traffic:dst_port = 80]"),
         OUT_EVENT, "\"destination.ip\":\"192.0.2.8\""},
        {IND("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"), OUT_EVENT,
         "\"malware.hash.md5\":\"d41d8cd98f00b204e9800998ecf8427e\""},
        {IND("[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'x.example']"), OUT_EVENT,
         "\"source.fqdn\":\"x.example\""},
        {IND("[autonomous-system:number = 64496]"), OUT_EVENT, "\"source.asn\":64496"},
        {IND("[ipv4-addr:value = '192.0.2.1' AND ipv4-addr:value = '192.0.2.2']"), OUT_QUARANTINE,
         "several values"},
        {IND("[email-message:subject MATCHES '^x']"), OUT_QUARANTINE, "only '=' comparisons"},
        {IND("[ipv4-addr:value = '192.0.2.1'] WITHIN 300 SECONDS"), OUT_QUARANTINE, "qualifiers"},
        {IND("[x509-certificate:issuer = 'CN=x']"), OUT_QUARANTINE, "not mapped"},
        {IND("[ipv4-addr:value = 'not-an-ip']"), OUT_QUARANTINE, "source.ip"},
        {IND("[ipv4-addr:value = '192.0.2.1'"), OUT_QUARANTINE, "']' expected"},
        {IND("[ipv4-addr:value = 'unterminated]"), OUT_QUARANTINE, "unterminated"},
        {"{\"type\":\"indicator\",\"id\":\"indicator--1\",\"spec_version\":\"2.1\",\"created\":\"2024-01-"
         "01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\",\"valid_from\":\"2024-01-01T00:00:00Z\","
         "\"pattern_type\":\"sigma\",\"pattern\":\"x\"}",
         OUT_QUARANTINE, "only STIX patterns"},
        {"{\"type\":\"indicator\",\"id\":\"indicator--2\",\"spec_version\":\"2.1\",\"created\":\"2024-01-"
         "01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\",\"valid_from\":\"2024-01-01T00:00:00Z\","
         "\"pattern_type\":\"stix\"}",
         OUT_QUARANTINE, "required property \"pattern\" of indicator"},
        {"{\"type\":\"identity\",\"id\":\"identity--1\",\"spec_version\":\"2.1\",\"created\":\"2024-01-01T00:"
         "00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\",\"name\":\"x\"}",
         OUT_NOTEVENT, ""},
        /* STIX 2.1's required properties: an object without one is quarantined, never read half */
        {"{\"type\":\"identity\",\"id\":\"identity--1\",\"name\":\"x\"}", OUT_QUARANTINE,
         "\"spec_version\" is missing"},
        {"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"created\":\"2024-01-01T00:00:00Z\",\"modified\":"
         "\"2024-01-01T00:00:00Z\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\","
         "\"pattern\":\"[ipv4-addr:value = '192.0.2.1']\"}",
         OUT_QUARANTINE, "\"id\" is missing"},
        {"{\"type\":\"indicator\",\"id\":\"malware--1\",\"spec_version\":\"2.1\",\"created\":\"2024-01-01T00:"
         "00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-"
         "01T00:00:00Z\",\"pattern\":\"[ipv4-addr:value = '192.0.2.1']\"}",
         OUT_QUARANTINE, "is not indicator--UUID"},
        {"{\"type\":\"indicator\",\"id\":\"indicator--3\",\"spec_version\":\"2.1\",\"modified\":\"2024-01-"
         "01T00:00:00Z\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"pattern\":\"["
         "ipv4-addr:value = '192.0.2.1']\"}",
         OUT_QUARANTINE, "\"created\" is missing"},
        {"{\"type\":\"indicator\",\"id\":\"indicator--4\",\"spec_version\":\"2.1\",\"created\":\"2024-01-"
         "01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\",\"pattern\":\"[ipv4-addr:value = "
         "'192.0.2.1']\"}",
         OUT_QUARANTINE, "\"pattern_type\" of indicator"},
        {"{\"type\":\"relationship\",\"id\":\"relationship--1\",\"spec_version\":\"2.1\",\"created\":\"2024-"
         "01-01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\",\"relationship_type\":\"indicates\","
         "\"source_ref\":\"indicator--1\"}",
         OUT_QUARANTINE, "\"target_ref\""},
        {"{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"203.0.113.5\"}", OUT_EVENT,
         "\"source.ip\":\"203.0.113.5\""},
        {"{\"type\":\"url\",\"id\":\"url--1\"}", OUT_QUARANTINE, "\"value\" of url"},
        {"{\"no\":\"type\"}", OUT_QUARANTINE, "\"type\" is missing"},
        {"42", OUT_QUARANTINE, "must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fmt_res r;
        const char *text;
        run_bundle(rows[i].obj, &r);
        assert_int_equal(r.rc, LIA_OK);
        assert_int_equal(r.n, 1);
        text = r.o[0].kind == OUT_EVENT ? r.o[0].json : r.o[0].reason;
        if (r.o[0].kind != rows[i].kind || !strstr(text, rows[i].has))
            print_message("row %zu: kind %d (expected %d), text %s (expected to contain %s)\n", i,
                          r.o[0].kind, rows[i].kind, text, rows[i].has);
        assert_int_equal(r.o[0].kind, rows[i].kind);
        assert_non_null(strstr(text, rows[i].has));
        fmt_res_free(&r);
    }
}

/* A pattern of alternatives (OR only, single observables) is one event per
 * alternative; with AND, or from a Liaison producer, it is one event. */
static void test_import_alternatives(void **state)
{
    fmt_res r;
    run_bundle(
        IND("[ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2'] OR [domain-name:value = "
            "'c.example'] OR "
            "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"),
        &r);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.events, 4);
    assert_non_null(strstr(r.o[0].json, "\"source.ip\":\"192.0.2.1\""));
    assert_null(strstr(r.o[0].json, "c.example"));
    assert_non_null(strstr(r.o[1].json, "\"source.ip\":\"192.0.2.2\""));
    assert_non_null(strstr(r.o[2].json, "\"source.fqdn\":\"c.example\""));
    assert_non_null(strstr(r.o[3].json, "\"malware.hash.sha256\":"));
    assert_non_null(strstr(r.o[3].json, "\"extra.stix_alternative\":4"));
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.o[i].line, 1);
    fmt_res_free(&r);
    /* network traffic (several properties of one observation) is not split */
    run_bundle(IND("[network-traffic:dst_ref.value = '192.0.2.1' OR network-traffic:dst_port = 80]"), &r);
    assert_int_equal(r.n, 1);
    fmt_res_free(&r);
}

static void test_import_markings_and_sightings(void **state)
{
    fmt_res r;
    run_bundle(
        /* TLP 1.0 WHITE id -> CLEAR */
        "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"192.0.2.1\",\"object_marking_refs\":["
        "\"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9\"]},"
        /* a bundle-defined TLP marking (definition_type tlp) */
        "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"created\":\"2024-01-01T00:00:00Z\","
        "\"id\":\"marking-definition--aaaaaaaa-0000-4000-8000-000000000001\",\"definition_type\":\"tlp\","
        "\"definition\":{\"tlp\":\"red\"}},"
        "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--2\",\"value\":\"192.0.2.2\",\"object_marking_refs\":["
        "\"marking-definition--aaaaaaaa-0000-4000-8000-000000000001\"]},"
        /* TLP 2.0 AMBER+STRICT on an indicator, with a sighting */
        IND("[domain-name:value = 's.example']") ","
                                                 "{\"type\":\"sighting\",\"id\":\"sighting--1\",\"spec_"
                                                 "version\":\"2.1\",\"created\":\"2024-01-01T00:00:00Z\","
                                                 "\"modified\":\"2024-01-01T00:00:00Z\",\"sighting_of_ref\":"
                                                 "\"indicator--a1cb37d2-3bd3-5b23-8526-47a22694b7e0\","
                                                 "\"count\":12,\"first_seen\":\"2024-01-02T00:00:00Z\","
                                                 "\"last_seen\":\"2024-01-03T00:00:00Z\"},"
                                                 /* an SCO also named by an indicator is not a second event */
                                                 "{\"type\":\"domain-name\",\"id\":\"domain-name--1\","
                                                 "\"value\":\"s.example\"}",
        &r);
    assert_int_equal(r.n, 6);
    assert_int_equal(r.events, 3);
    assert_int_equal(r.notevents, 3);
    assert_non_null(strstr(r.o[0].json, "\"tlp\":\"CLEAR\""));
    assert_non_null(strstr(r.o[2].json, "\"tlp\":\"RED\""));
    assert_non_null(strstr(r.o[3].json, "\"extra.count\":12"));
    assert_non_null(strstr(r.o[3].json, "\"extra.first_seen\":\"2024-01-02T00:00:00Z\""));
    assert_int_equal(r.o[5].kind, OUT_NOTEVENT);
    fmt_res_free(&r);
}

/* An unrecognised or unreadable marking never lowers the TLP: it counts
 * as TLP:RED (issue 16); every ref and every granular marking is read. */
static void test_import_markings_never_lower(void **state)
{
#define GREEN_M "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define RED_M   "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    static const struct {
        const char *what, *markings, *tlp;
    } rows[] = {
        {"granular TLP:RED",
         "\"granular_markings\":[{\"marking_ref\":\"" RED_M "\",\"selectors\":[\"value\"]}]", "RED"},
        {"65th ref", NULL, "RED"},
        {"upper-case id",
         "\"object_marking_refs\":[\"MARKING-DEFINITION--E828B379-4E03-4974-9AC4-E53A884C97C1\"]", "RED"},
        {"custom TLP 2.0 definition",
         "\"object_marking_refs\":[\"marking-definition--c0000000-0000-4000-8000-000000000002\"]", "RED"},
        {"refs as a string", "\"object_marking_refs\":\"" RED_M "\"", "RED"},
        {"unknown id",
         "\"object_marking_refs\":[\"" GREEN_M
         "\",\"marking-definition--deadbeef-0000-4000-8000-000000000000\"]",
         "RED"},
        {"ref not a string", "\"object_marking_refs\":[7]", "RED"},
        {"granular not an array", "\"granular_markings\":\"" RED_M "\"", "RED"},
        {"GREEN with a granular TLP:RED",
         "\"object_marking_refs\":[\"" GREEN_M "\"],\"granular_markings\":[{\"marking_ref\":\"" RED_M
         "\",\"selectors\":[\"value\"]}]",
         "RED"},
        {"GREEN", "\"object_marking_refs\":[\"" GREEN_M "\"]", "GREEN"},
        {"GREEN and a statement",
         "\"object_marking_refs\":[\"" GREEN_M
         "\",\"marking-definition--c0000000-0000-4000-8000-000000000003\"]",
         "GREEN"},
        {"granular GREEN over object AMBER+STRICT",
         "\"object_marking_refs\":[\"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003\"],"
         "\"granular_markings\":[{\"marking_ref\":\"" GREEN_M "\",\"selectors\":[\"value\"]}]",
         "AMBER+STRICT"},
    };
    static const char defs[] =
        "{\"type\":\"marking-definition\",\"id\":\"marking-definition--c0000000-0000-4000-8000-"
        "000000000002\","
        "\"name\":\"TLP:RED\",\"extensions\":{\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":"
        "{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"red\"}}},"
        "{\"type\":\"marking-definition\",\"id\":\"marking-definition--c0000000-0000-4000-8000-"
        "000000000003\","
        "\"definition_type\":\"statement\",\"definition\":{\"statement\":\"Copyright 2024\"}},";
    char refs65[5000], objs[12000], want[64];
    size_t o = 0;
    int bad = 0;
    (void)state;
    o = (size_t)snprintf(refs65, sizeof refs65, "\"object_marking_refs\":[");
    for (int i = 0; i < 64; i++)
        o += (size_t)snprintf(refs65 + o, sizeof refs65 - o, "\"" GREEN_M "\",");
    snprintf(refs65 + o, sizeof refs65 - o, "\"" RED_M "\"]");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fmt_res r;
        snprintf(objs, sizeof objs,
                 "%s{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--%zu\",\"value\":\"192.0.2.%zu\",%s}", defs,
                 i + 1, i + 1, rows[i].markings ? rows[i].markings : refs65);
        run_bundle(objs, &r);
        snprintf(want, sizeof want, "\"tlp\":\"%s\"", rows[i].tlp);
        if (r.n != 3 || r.o[2].kind != OUT_EVENT || !strstr(r.o[2].json, want)) {
            print_error("%s: %s, want %s\n", rows[i].what, r.n == 3 ? r.o[2].json : "wrong record count",
                        want);
            bad++;
        }
        fmt_res_free(&r);
    }
    if (bad)
        fail_msg("%d rows wrong", bad);
#undef GREEN_M
#undef RED_M
}

/* A bare JSON array is a bundle's objects, read with a note for the report. */
static void test_import_bare_array(void **state)
{
    const lia_format *fmt = lia_format_find("stix");
    static const char doc[] =
        "[" IND("[ipv4-addr:value = '198.51.100.9']") ",{\"type\":\"ipv4-addr\",\"value\":\"192.0.2.9\"}]";
    lia_feed_opts fo;
    lia_records recs;
    lia_event ev;
    lia_error err;
    void *st = NULL;
    memset(&fo, 0, sizeof fo);
    fo.tlp = -1;
    lia__records_init(&recs);
    lia_event_init(&ev);
    assert_int_equal(fmt->open(&st, &fo, &err), LIA_OK);
    assert_int_equal(fmt->parse(st, doc, strlen(doc), 1, &recs, &err), LIA_OK);
    assert_int_equal(recs.n, 2);
    assert_int_equal(recs.rec[0].err, 0);
    assert_int_equal(fmt->normalise(st, &recs, &recs.rec[0], &ev, &err), LIA_OK);
    assert_int_not_equal(recs.rec[1].err, 0); /* an SCO without its id */
    assert_non_null(strstr(recs.rec[1].why, "\"id\" is missing"));
    assert_non_null(fmt->warning);
    assert_non_null(fmt->warning(st));
    assert_non_null(strstr(fmt->warning(st), "bare JSON array of 2 objects"));
    fmt->close(st);
    lia_event_free(&ev);
    lia__records_free(&recs);
}

/* The splitter keeps each object's text whole, brackets and quotes inside
 * strings included, and reads a bundle's other members as the whole
 * document did (spec_version 2.0). */
static void test_import_split(void **state)
{
    static const char doc[] =
        "{\"type\":\"bundle\",\"spec_version\":\"2.0\",\"x\":{\"n\":[1,{\"a\":\"]}\"}]},\"objects\":[\n"
        "  "
        "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--a1cb37d2-3bd3-5b23-8526-47a22694b7e0\",\"value\":\"192."
        "0.2.9\","
        "\"x_note\":\"a \\\"quoted\\\" ]} text\"} ,\n"
        "  "
        "{\"type\":\"domain-name\",\"id\":\"domain-name--b1cb37d2-3bd3-5b23-8526-47a22694b7e0\",\"value\":"
        "\"a.example\"}\n"
        "] }\n";
    fmt_res r;
    fmt_run("stix", doc, strlen(doc), 5, &r);
    assert_int_equal(r.rc, LIA_OK);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.events, 2);
    assert_non_null(strstr(r.o[0].json, "\"source.ip\":\"192.0.2.9\""));
    assert_non_null(strstr(r.o[1].json, "\"source.fqdn\":\"a.example\""));
    assert_int_equal(strncmp(r.o[0].raw, "{\"type\":\"ipv4-addr\",", 20), 0);
    fmt_res_free(&r);
}

/* Issue 16: a bundle was held as one jansson tree, about 8 times its size
 * (1.4 GB for 120 MB); the objects are now parsed one at a time. What
 * jansson holds at its peak while a 2,000-indicator bundle is imported stays
 * below the document's own size. */

static void test_import_memory(void **state)
{
    size_t cap = 4000 * 700, off = 0;
    char *doc = malloc(cap);
    fmt_res r;
    assert_non_null(doc);
    off += (size_t)snprintf(
        doc, cap,
        "{\"type\":\"bundle\",\"id\":\"bundle--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061\",\"objects\":[");
    for (int i = 0; i < 2000; i++)
        off += (size_t)snprintf(
            doc + off, cap - off,
            "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--a1cb37d2-3bd3-5b23-"
            "8526-%012d\",\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\","
            "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"pattern\":"
            "\"[ipv4-addr:value = "
            "'10.0.%d.%d']\",\"labels\":[\"a\",\"b\",\"c\"],\"extensions\":{\"" LIA_STIX_EVENT_EXT
            "\":{\"extension_type\":\"property-extension\",\"event\":{\"extra.a\":1,"
            "\"extra.b\":\"x\",\"extra.c\":[1,2,3],\"classification.type\":\"scanner\"}}}}",
            i ? "," : "", i, i / 250, i % 250 + 1);
    off += (size_t)snprintf(doc + off, cap - off, "]}");
    assert_true(off < cap);
    jc_live = jc_peak = 0;
    json_set_alloc_funcs(jc_malloc, jc_free);
    fmt_run("stix", doc, off, 1 << 16, &r);
    json_set_alloc_funcs(malloc, free);
    assert_int_equal(r.events, 2000);
    if (jc_peak >= off)
        print_message("jansson peak %zu bytes for a %zu-byte bundle\n", jc_peak, off);
    assert_true(jc_peak < off);
    fmt_res_free(&r);
    free(doc);
}

static void test_import_bad_documents(void **state)
{
    static const struct {
        const char *doc, *why;
    } rows[] = {
        {"", "not JSON"},
        {"{\"type\":\"bundle\",\"objects\":[", "not JSON"},
        {"{}", "not a STIX bundle"},
        {"{\"type\":\"bundle\",\"id\":\"bundle--x\"}", "not a STIX bundle"},
        {"{\"a\":1,\"a\":2}", "duplicate"},
        /* the objects are split from the text one at a time (issue 16):
         * whatever the splitter cannot vouch for is read whole, as before */
        {"{\"type\":\"bundle\",\"objects\":[],\"objects\":[]}", "duplicate"},
        {"{\"type\":\"bundle\",\"objects\":[{\"type\":\"x\",\"type\":\"y\",\"id\":\"x--1\"}]}", "duplicate"},
        {"{\"type\":\"bundle\",\"objects\":[{\"type\":\"x\"]}", "not JSON"},
        {"{\"type\":\"bundle\",\"objects\":[{\"type\":\"x\"}] } x", "not JSON"},
        {"{\"type\":\"bundle\",\"objects\":[{\"type\":\"x\"},]}", "not JSON"},
        {"{\"type\":\"bundle\",\"x\":tru,\"objects\":[]}", "not JSON"},
        {"[{\"type\":\"x\"} {\"type\":\"y\"}]", "not JSON"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fmt_res r;
        fmt_run("stix", rows[i].doc, strlen(rows[i].doc), 0, &r);
        assert_int_equal(r.rc, LIA_OK);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.o[0].kind, OUT_QUARANTINE);
        if (!strstr(r.o[0].reason, rows[i].why))
            print_message("row %zu: reason %s\n", i, r.o[0].reason);
        assert_non_null(strstr(r.o[0].reason, rows[i].why));
        fmt_res_free(&r);
    }
}

/* The OASIS examples: what each object becomes (events / not events /
 * quarantined with a reason), nothing dropped. */
static void test_import_examples(void **state)
{
    static const struct {
        const char *file;
        size_t n, events, notevents, quarantined;
    } rows[] = {
        {"stix21/examples/indicator-for-c2-ip-address.json", 1, 1, 0, 0},
        {"stix21/examples/indicator-to-campaign-relationship.json", 3, 1, 2, 0},
        {"stix21/examples/infrastructure.json", 10, 2, 8, 0},
        {"stix21/examples/malicious-email-indicator-with-attachment.json", 6, 0, 4, 2},
        {"stix21/examples/threat-report-apt1.json", 76, 10, 64, 2},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t len = 0;
        char *doc = testdata(rows[i].file, &len);
        fmt_res r;
        assert_non_null(doc);
        fmt_run("stix", doc, len, 4096, &r);
        if (r.n != rows[i].n || r.events != rows[i].events || r.notevents != rows[i].notevents ||
            r.quarantined != rows[i].quarantined)
            print_message("%s: %zu records %zu events %zu not events %zu quarantined\n", rows[i].file, r.n,
                          r.events, r.notevents, r.quarantined);
        assert_int_equal(r.n, rows[i].n);
        assert_int_equal(r.events, rows[i].events);
        assert_int_equal(r.notevents, rows[i].notevents);
        assert_int_equal(r.quarantined, rows[i].quarantined);
        /* every record keeps its own object as raw text, as the document
         * has it (regression: raw slices of earlier records dangled when the
         * records arena grew) */
        for (size_t k = 0; k < r.n; k++) {
            const char *q = r.o[k].raw + 1;
            while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r')
                q++;
            if (r.o[k].raw[0] != '{' || *q != '"')
                print_message("%s record %zu: raw %s\n", rows[i].file, k, r.o[k].raw);
            assert_true(r.o[k].raw[0] == '{' && *q == '"');
        }
        fmt_res_free(&r);
        free(doc);
    }
}

/* Round trip: import an example, export its events, import the bundle
 * again: the same observables come out. */
/* Issue 16: the importer reads the Liaison event from the extension, and
 * from the custom property of bundles written before it. */
static void test_import_liaison_event(void **state)
{
#define LIND(ev)                                                                                             \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--a1cb37d2-3bd3-5b23-8526-"          \
    "47a22694b7e0\",\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\",\"pattern_"   \
    "type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"pattern\":\"[ipv4-addr:value = '192.0.2.5'] " \
    "OR [domain-name:value = 'a.example']\"," ev "}"
#define EVJ "{\"source.ip\":\"192.0.2.5\",\"source.fqdn\":\"a.example\",\"extra.case\":\"k7\"}"
    static const char *const rows[] = {
        LIND("\"extensions\":{\"" LIA_STIX_EVENT_EXT
             "\":{\"extension_type\":\"property-extension\",\"event\":" EVJ "}}"),
        LIND("\"x_liaison_event\":" EVJ),
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fmt_res r;
        run_bundle(rows[i], &r);
        /* one event (a Liaison pattern describes one event, not alternatives) */
        assert_int_equal(r.events, 1);
        assert_int_equal(r.quarantined, 0);
        for (size_t k = 0; k < r.n; k++)
            if (r.o[k].kind == OUT_EVENT) {
                if (!strstr(r.o[k].json, "\"extra.case\":\"k7\""))
                    print_message("row %zu: %s\n", i, r.o[k].json);
                assert_non_null(strstr(r.o[k].json, "\"extra.case\":\"k7\""));
            }
        fmt_res_free(&r);
    }
#undef LIND
#undef EVJ
}

static void test_round_trip(void **state)
{
    static const char *const files[] = {"stix21/examples/threat-report-apt1.json",
                                        "stix21/examples/infrastructure.json",
                                        "stix21/examples/indicator-for-c2-ip-address.json"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len = 0;
        char *doc = testdata(files[f], &len);
        fmt_res a, b;
        lia_buf out;
        lia_stix_export *x;
        lia_error err;
        lia_event ev;
        assert_non_null(doc);
        fmt_run("stix", doc, len, 0, &a);
        lia_buf_init(&out, 1 << 24);
        lia_event_init(&ev);
        assert_int_equal(lia_stix_export_create(NULL, buf_sink, &out, &x, &err), LIA_OK);
        for (size_t i = 0; i < a.n; i++) {
            if (a.o[i].kind != OUT_EVENT)
                continue;
            assert_int_equal(lia_event_from_json(&ev, a.o[i].json, strlen(a.o[i].json), &err), LIA_OK);
            assert_int_equal(lia_stix_export_add(x, &ev, &err), LIA_OK);
        }
        assert_int_equal(lia_stix_export_finish(x, &err), LIA_OK);
        fmt_run("stix", out.ptr, out.len, 0, &b);
        assert_int_equal(b.events, a.events);
        assert_int_equal(b.quarantined, 0);
        for (size_t i = 0, j = 0; i < a.n; i++) {
            static const char *const keys[] = {"\"source.ip\":",  "\"source.network\":",   "\"source.fqdn\":",
                                               "\"source.url\":", "\"malware.hash.md5\":", "\"tlp\":",
                                               "\"time.source\":"};
            if (a.o[i].kind != OUT_EVENT)
                continue;
            while (b.o[j].kind != OUT_EVENT)
                j++;
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                const char *p = strstr(a.o[i].json, keys[k]), *q;
                char val[256];
                if (!p)
                    continue;
                q = strpbrk(p + strlen(keys[k]), ",}");
                snprintf(val, sizeof val, "%.*s", (int)(q - p), p);
                if (!strstr(b.o[j].json, val))
                    print_message("%s: %s lost: %s\n", files[f], val, b.o[j].json);
                assert_non_null(strstr(b.o[j].json, val));
            }
            j++;
        }
        fmt_res_free(&a);
        fmt_res_free(&b);
        lia_buf_free(&out);
        lia_event_free(&ev);
        lia_stix_export_destroy(x);
        free(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sco_ids),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_stable_ids_and_skip),
        cmocka_unit_test(test_markings),
        cmocka_unit_test(test_no_raw),
        cmocka_unit_test(test_sighting_and_incident),
        cmocka_unit_test(test_event_extension),
        cmocka_unit_test(test_incident_marking),
        cmocka_unit_test(test_import_liaison_event),
        cmocka_unit_test(test_import_split),
        cmocka_unit_test(test_import_memory),
        cmocka_unit_test(test_import_patterns),
        cmocka_unit_test(test_import_alternatives),
        cmocka_unit_test(test_import_markings_and_sightings),
        cmocka_unit_test(test_import_markings_never_lower),
        cmocka_unit_test(test_import_bad_documents),
        cmocka_unit_test(test_import_bare_array),
        cmocka_unit_test(test_import_examples),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
