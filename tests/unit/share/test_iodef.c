/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for src/share/iodef_*.c: IODEF v2 export (one Incident,
 * EventData/Flow/System, Indicators, restriction) and the "iodef" import
 * format (examples, BulkObservable, entity refusal). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fmt_run.h"
#include "liaison/iodef.h"

static size_t occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void export(const lia_iodef_opts *o, const char *const *const *evs, size_t n, lia_buf *out,
                   uint64_t *skipped)
{
    lia_iodef_export *x;
    lia_error err;
    lia_event ev;
    uint64_t nskip = 0;
    lia_event_init(&ev);
    assert_int_equal(lia_iodef_export_create(o, buf_sink, out, &x, &err), LIA_OK);
    for (size_t i = 0; i < n; i++) {
        int rc;
        assert_int_equal(mkevent(&ev, (int64_t)i + 1, evs[i]), LIA_OK);
        rc = lia_iodef_export_add(x, &ev, &err);
        /* exported (LIA_OK) or skipped (LIA_ENOTFOUND, no observable): a
         * caller that passes no skipped counter expects every event out */
        if (rc != LIA_OK && !(skipped && rc == LIA_ENOTFOUND))
            print_error("event %zu: %d %s\n", i, rc, err.reason);
        assert_true(rc == LIA_OK || (skipped && rc == LIA_ENOTFOUND));
        nskip += rc == LIA_ENOTFOUND;
    }
    assert_int_equal(lia_iodef_export_finish(x, &err), LIA_OK);
    assert_int_equal(lia_iodef_export_skipped(x), nskip); /* the counter agrees with the returns */
    if (skipped)
        *skipped = nskip;
    lia_iodef_export_destroy(x);
    lia_event_free(&ev);
}

static void test_export(void **state)
{
    static const char *const a[] = {"source.ip=192.0.2.210", "source.port=23", "protocol.transport=tcp",
                                    "destination.ip=198.51.100.1", "tlp=GREEN",
                                    "classification.type=infected-system", "time.source=2017-03-01T01:15:00Z", NULL};
    static const char *const b[] = {"source.fqdn=c2.example", "source.url=http://c2.example/<x>&y", "tlp=AMBER+STRICT", NULL};
    static const char *const c[] = {"comment=no observable", NULL};
    const char *const *evs[] = {a, b, c};
    lia_iodef_opts o = {.producer = "CERT-X & Co", .contact_email = "cert@example.org", .incident = "Botnet"};
    lia_buf out;
    uint64_t skipped = 0;
    fmt_res r;
    lia_buf_init(&out, 1 << 22);
    export(&o, evs, 3, &out, &skipped);
    assert_int_equal(skipped, 1);
    assert_int_equal(occurrences(out.ptr, "<Incident "), 1);
    assert_int_equal(occurrences(out.ptr, "<EventData"), 2);
    assert_int_equal(occurrences(out.ptr, "<Indicator "), 2);
    /* the most restrictive TLP of the set is the Incident's */
    assert_non_null(strstr(out.ptr, "<Incident purpose=\"reporting\" restriction=\"ext-value\" ext-restriction=\"amber+strict\">"));
    assert_non_null(strstr(out.ptr, "<IncidentID name=\"CERT-X &amp; Co\">"));
    assert_non_null(strstr(out.ptr, "<EmailTo>cert@example.org</EmailTo>"));
    assert_non_null(strstr(out.ptr, "<Address category=\"ipv4-addr\">192.0.2.210</Address></Node><Service ip-protocol=\"6\"><Port>23</Port>"));
    assert_non_null(strstr(out.ptr, "<System category=\"target\"><Node><Address category=\"ipv4-addr\">198.51.100.1</Address>"));
    assert_non_null(strstr(out.ptr, "<Address category=\"site-uri\">http://c2.example/%3Cx%3E&amp;y</Address>") ||
                    strstr(out.ptr, "<Address category=\"site-uri\">http://c2.example/&lt;x&gt;&amp;y</Address>"));
    /* import it back: one event per exported event, the Indicators refer to them */
    fmt_run("iodef", out.ptr, out.len, 100, &r);
    assert_int_equal(r.rc, LIA_OK);
    assert_int_equal(r.events, 2);
    assert_int_equal(r.quarantined, 0);
    assert_non_null(strstr(r.o[1].json, "\"destination.ip\":\"198.51.100.1\""));
    assert_non_null(strstr(r.o[1].json, "\"source.ip\":\"192.0.2.210\",\"source.port\":23"));
    assert_non_null(strstr(r.o[1].json, "\"tlp\":\"GREEN\""));
    /* the Indicator that refers to the System is named on its event */
    assert_non_null(strstr(r.o[1].json, "\"extra.iodef_indicator_id\":\"ind-"));
    assert_non_null(strstr(r.o[1].json, "\"event_description.text\":\"infected-system\""));
    assert_non_null(strstr(r.o[2].json, "\"tlp\":\"AMBER+STRICT\""));
    assert_non_null(strstr(r.o[2].json, "\"source.fqdn\":\"c2.example\""));
    fmt_res_free(&r);
    lia_buf_free(&out);
}

static void test_import_examples(void **state)
{
    static const struct {
        const char *file;
        size_t n, events, notevents, quarantined;
        const char *has; /* in the first event */
    } rows[] = {
        {"iodef/examples/RFC7970_MinimalIODEF.xml", 1, 0, 1, 0, NULL},
        {"iodef/examples/GuidanceDraft_IoTMalware.xml", 5, 4, 1, 0, "\"source.ip\":\"192.0.2.210\",\"source.port\":23"},
        {"iodef/examples/RFC7970_CampaignIndicator.xml", 5, 4, 1, 0, "\"source.fqdn\":\"kj290023j09r34.example.com\""},
        {"iodef/examples/GuidanceDraft_DDoS.xml", 7, 4, 2, 1, "\"destination.ip\":\"203.0.113.1\""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t len = 0;
        char *doc = testdata(rows[i].file, &len);
        fmt_res r;
        assert_non_null(doc);
        fmt_run("iodef", doc, len, 333, &r);
        if (r.n != rows[i].n || r.events != rows[i].events || r.notevents != rows[i].notevents ||
            r.quarantined != rows[i].quarantined)
            print_message("%s: %zu records %zu events %zu not events %zu quarantined\n", rows[i].file,
                          r.n, r.events, r.notevents, r.quarantined);
        assert_int_equal(r.n, rows[i].n);
        assert_int_equal(r.events, rows[i].events);
        assert_int_equal(r.notevents, rows[i].notevents);
        assert_int_equal(r.quarantined, rows[i].quarantined);
        if (rows[i].has) {
            size_t k = 0;
            while (r.o[k].kind != OUT_EVENT)
                k++;
            if (!strstr(r.o[k].json, rows[i].has))
                print_message("%s: %s\n", rows[i].file, r.o[k].json);
            assert_non_null(strstr(r.o[k].json, rows[i].has));
        }
        fmt_res_free(&r);
        free(doc);
    }
}

static void test_refused(void **state)
{
    static const struct {
        const char *doc, *why;
    } rows[] = {
        {"<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>"
         "<IODEF-Document xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\" version=\"2.00\"><Incident>&b;</Incident></IODEF-Document>",
         "entity declarations are refused"},
        {"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
         "<IODEF-Document xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\">&xxe;</IODEF-Document>",
         "entity declarations are refused"},
        {"<IODEF-Document xmlns=\"urn:example:other\"/>", "not an IODEF v2 document"},
        {"<IODEF-Document", "not XML"},
        {"", "not XML"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fmt_res r;
        fmt_run("iodef", rows[i].doc, strlen(rows[i].doc), 0, &r);
        assert_int_equal(r.rc, LIA_OK);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.o[0].kind, OUT_QUARANTINE);
        if (!strstr(r.o[0].reason, rows[i].why))
            print_message("row %zu: %s\n", i, r.o[0].reason);
        assert_non_null(strstr(r.o[0].reason, rows[i].why));
        fmt_res_free(&r);
    }
    /* a plain DOCTYPE without entities is read, and nothing is fetched */
    {
        const char *doc = "<?xml version=\"1.0\"?><!DOCTYPE IODEF-Document SYSTEM \"http://127.0.0.1:9/x.dtd\">"
                          "<IODEF-Document xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\" version=\"2.00\"><Incident restriction=\"white\">"
                          "<IncidentID name=\"x\">1</IncidentID><GenerationTime>2024-01-01T00:00:00Z</GenerationTime>"
                          "<EventData><Flow><System category=\"source\"><Node><Address category=\"ipv6-addr\"> 2001:db8::7 </Address>"
                          "</Node></System></Flow></EventData></Incident></IODEF-Document>";
        fmt_res r;
        fmt_run("iodef", doc, strlen(doc), 0, &r);
        assert_int_equal(r.events, 1);
        assert_non_null(strstr(r.o[1].json, "\"source.ip\":\"2001:db8::7\""));
        assert_non_null(strstr(r.o[1].json, "\"tlp\":\"CLEAR\""));
        assert_non_null(strstr(r.o[1].json, "\"time.source\":\"2024-01-01T00:00:00+00:00\""));
        fmt_res_free(&r);
    }
}

/* Restriction keywords map to TLP (RFC 7970 section 3.3.1); one that is
 * not known never lowers the TLP: it counts as TLP:RED (issue 16). */
static void test_restriction_tlp(void **state)
{
    static const struct {
        const char *attrs, *tlp;
    } rows[] = {
        {"restriction=\"private\"", "RED"},
        {"restriction=\"need-to-know\"", "AMBER"},
        {"restriction=\"partner\"", "GREEN"},
        {"restriction=\"public\"", "CLEAR"},
        {"restriction=\"Red\"", "RED"},
        {"restriction=\"bogus\"", "RED"},
        {"restriction=\"ext-value\" ext-restriction=\"tlp:amber+strict\"", "AMBER+STRICT"},
        {"restriction=\"ext-value\" ext-restriction=\"chatham-house\"", "RED"},
        {"restriction=\"ext-value\"", "RED"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char doc[2048], want[64];
        fmt_res r;
        snprintf(doc, sizeof doc,
                 "<IODEF-Document xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\" version=\"2.00\"><Incident %s>"
                 "<IncidentID name=\"x\">1</IncidentID><GenerationTime>2024-01-01T00:00:00Z</GenerationTime>"
                 "<EventData><Flow><System category=\"source\"><Node><Address "
                 "category=\"ipv4-addr\">192.0.2.7</Address>"
                 "</Node></System></Flow></EventData></Incident></IODEF-Document>",
                 rows[i].attrs);
        fmt_run("iodef", doc, strlen(doc), 0, &r);
        snprintf(want, sizeof want, "\"tlp\":\"%s\"", rows[i].tlp);
        if (r.events != 1 || r.n < 2 || !strstr(r.o[1].json, want))
            fail_msg("%s: %s, want %s", rows[i].attrs, r.n >= 2 ? r.o[1].json : "?", want);
        fmt_res_free(&r);
    }
}

/* A System or Indicator with several addresses or names: one event per
 * address, each with the incident's context; a kind with one value (the
 * host name of two addresses) goes to every event. */
static void test_several_addresses(void **state)
{
    static const struct {
        const char *body;
        size_t events;
        const char *want[4]; /* substrings of events 1.. in order */
    } rows[] = {
        {"<EventData><Flow><System category=\"source\"><Node><DomainData><Name>h.example</Name></DomainData>"
         "<Address category=\"ipv4-addr\">192.0.2.1</Address><Address "
         "category=\"ipv4-addr\">192.0.2.2</Address>"
         "</Node></System></Flow></EventData>",
         2,
         {"\"source.fqdn\":\"h.example\",\"source.ip\":\"192.0.2.1\"",
          "\"source.fqdn\":\"h.example\",\"source.ip\":\"192.0.2.2\"", NULL}},
        {"<EventData><Flow><System category=\"source\"><Node><DomainData><Name>a.example</Name></DomainData>"
         "<DomainData><Name>b.example</Name></DomainData><DomainData><Name>c.example</Name></DomainData></"
         "Node>"
         "</System><System category=\"target\"><Node><Address category=\"ipv4-addr\">198.51.100.1</Address>"
         "</Node></System></Flow></EventData>",
         3,
         {"\"destination.ip\":\"198.51.100.1\"", "b.example", "c.example", NULL}},
        {"<IndicatorData><Indicator><IndicatorID name=\"x\" version=\"1\">i1</IndicatorID><Observable>"
         "<Address category=\"ipv4-addr\">203.0.113.1</Address><Address "
         "category=\"ipv6-addr\">2001:db8::1</Address>"
         "<Address category=\"ipv4-addr\">203.0.113.300</Address></Observable></Indicator></IndicatorData>",
         2,
         {"\"source.ip\":\"203.0.113.1\"", "\"source.ip\":\"2001:db8::1\"", NULL}},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char doc[4096];
        fmt_res r;
        size_t ev = 0;
        snprintf(
            doc, sizeof doc,
            "<IODEF-Document xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\" version=\"2.00\"><Incident "
            "purpose=\"reporting\">"
            "<IncidentID "
            "name=\"csirt.example\">INC-7</IncidentID><GenerationTime>2024-01-01T00:00:00Z</GenerationTime>"
            "%s</Incident></IODEF-Document>",
            rows[i].body);
        fmt_run("iodef", doc, strlen(doc), 0, &r);
        if (r.events != rows[i].events)
            fail_msg("case %zu: %zu events expected, got %zu (%zu quarantined)", i, rows[i].events, r.events,
                     r.quarantined);
        for (size_t k = 0; k < r.n; k++) {
            if (r.o[k].kind != OUT_EVENT)
                continue;
            if (rows[i].want[ev] && !strstr(r.o[k].json, rows[i].want[ev]))
                fail_msg("case %zu event %zu: %s expected in %s", i, ev + 1, rows[i].want[ev], r.o[k].json);
            if (!strstr(r.o[k].json, "INC-7"))
                fail_msg("case %zu event %zu: not linked to the incident: %s", i, ev + 1, r.o[k].json);
            ev++;
        }
        if (i == 2 && r.quarantined != 1) /* the bad third address is quarantined, alone */
            fail_msg("case 2: 1 quarantined expected, got %zu", r.quarantined);
        fmt_res_free(&r);
    }
}

/* Issue 16: each distinct document has its own IncidentID (the same
 * producer, incident name and second used to give one id to different
 * exports); the same content exported again keeps its id. */
static void incident_id(const char *producer, const char *incident, int64_t now_us,
                        const char *const *const *evs, size_t n, char out[128])
{
    lia_iodef_opts o = {.producer = producer, .incident = incident, .now_us = now_us};
    lia_buf b;
    const char *p, *q;
    lia_buf_init(&b, 1 << 22);
    export(&o, evs, n, &b, NULL);
    p = strstr(b.ptr, "<IncidentID name=\"");
    assert_non_null(p);
    p = strchr(p, '>') + 1;
    q = strstr(p, "</IncidentID>");
    assert_non_null(q);
    assert_true(q > p && (size_t)(q - p) < 128);
    snprintf(out, 128, "%.*s", (int)(q - p), p);
    lia_buf_free(&b);
}

static void test_incident_id(void **state)
{
    static const char *const a[] = {"source.ip=192.0.2.1", "tlp=GREEN", NULL};
    static const char *const b[] = {"source.ip=192.0.2.2", "tlp=GREEN", NULL};
    static const char *const a2[] = {"source.ip=192.0.2.1", "tlp=AMBER", NULL};
    const char *const *one[] = {a}, *const * other[] = {b}, *const * both[] = {a, b}, *const * amber[] = {a2};
    const int64_t t = 1714557600000000;
    char id[8][128];
    incident_id("CERT-X", "Botnet", t, one, 1, id[0]);
    incident_id("CERT-X", "Botnet", t, other, 1, id[1]);              /* other events, same second */
    incident_id("CERT-X", "Botnet", t, both, 2, id[2]);               /* more events */
    incident_id("CERT-X", "Botnet", t, amber, 1, id[3]);              /* same event, other content */
    incident_id("CERT-X", "Takedown", t, one, 1, id[4]);              /* other incident */
    incident_id("CERT-Y", "Botnet", t, one, 1, id[5]);                /* other producer */
    incident_id("CERT-X", "Botnet", t + 3600000000LL, one, 1, id[6]); /* the same document an hour later */
    incident_id("CERT-X", "Botnet", t, one, 1, id[7]);
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            if (strcmp(id[i], id[j]) == 0)
                fail_msg("documents %d and %d share the IncidentID %s", i, j, id[i]);
    assert_string_equal(id[6], id[0]);
    assert_string_equal(id[7], id[0]);
    /* an IncidentID the caller names is kept */
    {
        lia_iodef_opts o = {.producer = "CERT-X", .incident_id = "INC-2024-7", .now_us = t};
        lia_buf out;
        lia_buf_init(&out, 1 << 22);
        export(&o, one, 1, &out, NULL);
        assert_non_null(strstr(out.ptr, "<IncidentID name=\"CERT-X\">INC-2024-7</IncidentID>"));
        lia_buf_free(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export),          cmocka_unit_test(test_incident_id),
        cmocka_unit_test(test_import_examples), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_restriction_tlp), cmocka_unit_test(test_several_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
