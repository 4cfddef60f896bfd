/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for the feed formats of src/feeds/ (feodotracker, phishtank,
 * spamhaus-drop, dshield-block, openphish, blocklistde, misp-csv,
 * misp-freetext), driven through the public lia_format table.
 *
 * Each case is an input report and the expected outcome of every record in
 * a compact text form, one line each:
 *   "LINE {event json}"   an event (lia_event_to_json after lia_event_finish)
 *   "LINE ! reason"       quarantined, with the reason
 *   "LINE -"              a record without an event (LIA_ENOTFOUND)
 * Every case is run in one chunk, then split into chunks of 1, 2, 3, 7 and
 * 64 bytes: the outcome must not depend on where chunks end. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/liaison.h"
#include "core/records.h"

static void run(const char *format, const char *subtype, const char *report_name, const char *in, size_t len,
                size_t chunk, lia_buf *out)
{
    const lia_format *f = lia_format_find(format);
    lia_feed_opts o;
    lia_records rs;
    lia_event ev;
    lia_error err;
    void *st = NULL;
    size_t off = 0;
    int eof = 0;
    assert_non_null(f);
    memset(&o, 0, sizeof o);
    o.subtype = subtype;
    o.report_name = report_name;
    o.tlp = -1;
    lia_error_clear(&err);
    assert_int_equal(f->open(&st, &o, &err), LIA_OK);
    lia__records_init(&rs);
    lia_event_init(&ev);
    while (!eof) {
        /* chunk == 0: everything in one call with eof set; else chunks of
         * that size, then an empty call with eof set (as lia_ingest does) */
        size_t n = chunk == 0 ? len : (len - off < chunk ? len - off : chunk);
        char *copy = malloc(n ? n : 1); /* a chunk is only valid during parse+normalise */
        memcpy(copy, in + off, n);
        off += n;
        eof = chunk == 0 || n == 0;
        lia__records_clear(&rs);
        assert_int_equal(f->parse(st, copy, n, eof, &rs, &err), LIA_OK);
        for (size_t i = 0; i < rs.n; i++) {
            const lia_record *r = &rs.rec[i];
            int rc;
            lia_buf_printf(out, "%llu ", (unsigned long long)r->line);
            if (r->err) {
                lia_buf_printf(out, "! %s\n", r->why);
                continue;
            }
            lia_event_reset(&ev);
            lia_error_clear(&err);
            rc = f->normalise(st, &rs, r, &ev, &err);
            if (rc == LIA_OK)
                rc = lia_event_finish(&ev, &err);
            if (rc == LIA_ENOTFOUND) {
                lia_buf_puts(out, "-\n");
            } else if (rc) {
                char m[600];
                lia_error_format(&err, m, sizeof m);
                lia_buf_printf(out, "! %s\n", m);
            } else {
                lia_event_to_json(&ev, out);
                lia_buf_putc(out, '\n');
            }
        }
        free(copy);
    }
    f->close(st);
    lia__records_free(&rs);
    lia_event_free(&ev);
}

typedef struct fcase {
    const char *format, *subtype, *report_name;
    const char *in;
    const char *want;
} fcase;

static const fcase cases[] = {
    /* ---- feodotracker: JSON array, CSV, broken elements ---- */
    {"feodotracker", NULL, NULL,
     "[\n {\"ip_address\": \"192.0.2.1\", \"port\": 443, \"status\": \"online\", \"hostname\": null,\n"
     "  \"as_number\": 64496, \"as_name\": \"EX\", \"country\": \"FR\", \"first_seen\": \"2021-01-17 "
     "07:44:46\",\n"
     "  \"last_online\": \"2022-11-15\", \"malware\": \"Dridex\"},\n"
     " {\"ip_address\": \"192.0.2.2\", \"last_online\": \"2022-11-15\", \"malware\": \"QakBot\"},\n"
     " {\"ip_address\": \"not-an-ip\"},\n"
     " {\"port\": 1}, 42\n]\n",
     "2 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
     "\"malware.name\":\"dridex\",\"source.as_name\":\"EX\",\"source.asn\":64496,\"source.geolocation.cc\":"
     "\"FR\","
     "\"source.ip\":\"192.0.2.1\",\"source.port\":443,\"status\":\"online\",\"time.source\":\"2021-01-17T07:"
     "44:46+00:00\","
     "\"extra.last_online\":\"2022-11-15\"}\n"
     "5 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
     "\"malware.name\":\"qakbot\",\"source.ip\":\"192.0.2.2\",\"time.source\":\"2022-11-15T00:00:00+00:00\","
     "\"extra.last_online\":\"2022-11-15\"}\n"
     "6 ! source.ip: \"not-an-ip\": invalid character\n"
     "7 ! source.ip: entry has no ip_address\n"
     "7 ! JSON element is not an object\n"},
    {"feodotracker", NULL, NULL,
     "# Feodo Tracker\n# first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware\n"
     "\"2021-01-17 07:44:46\",\"192.0.2.1\",\"443\",\"offline\",\"2022-11-15\",\"Emotet\"\n"
     "\"2021-01-17 07:44:46\",\"192.0.2.9\"\n# end\n",
     "3 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
     "\"malware.name\":\"emotet\",\"source.ip\":\"192.0.2.1\",\"source.port\":443,\"status\":\"offline\","
     "\"time.source\":\"2021-01-17T07:44:46+00:00\",\"extra.last_online\":\"2022-11-15\"}\n"
     "4 ! record has 2 fields, 6 are expected\n"},
    {"feodotracker", NULL, NULL, /* the older CSV columns, named in a comment */
     "# Feodo Tracker \"Botnet C2\" list\n# Firstseen,DstIP,DstPort,LastOnline,Malware\n"
     "2019-05-27 13:36:27,192.0.2.5,447,2019-06-01,TrickBot\n",
     "3 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
     "\"malware.name\":\"trickbot\",\"source.ip\":\"192.0.2.5\",\"source.port\":447,"
     "\"time.source\":\"2019-05-27T13:36:27+00:00\",\"extra.last_online\":\"2019-06-01\"}\n"},
    {"feodotracker", NULL, NULL, "# recommended IP block list\n192.0.2.6\n\n198.51.100.300\n# END\n",
     "2 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
     "\"source.ip\":\"192.0.2.6\"}\n"
     "4 ! source.ip: \"198.51.100.300\": octet > 255\n"},
    {"feodotracker", NULL, NULL, /* a UTF-8 byte order mark, then JSON (chunks of 1 and 2 split it) */
     "\xEF\xBB\xBF[{\"ip_address\": \"192.0.2.7\"}]\n",
     "1 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
     "\"source.ip\":\"192.0.2.7\"}\n"},
    {"feodotracker", NULL, NULL, /* the mark, blank lines, then JSON */
     "\xEF\xBB\xBF\n\n \n[{\"ip_address\": \"192.0.2.8\"}]\n",
     "4 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
     "\"source.ip\":\"192.0.2.8\"}\n"},
    {"feodotracker", NULL, NULL, "[{\"ip_address\": \"192.0.2.1\"",
     "1 ! JSON element not terminated at the end of the report\n"
     "1 ! JSON array not closed at the end of the report (truncated?)\n"},
    {"feodotracker", NULL, NULL, /* JSON strings: escapes, brackets inside, errors */
     "[{\"ip_address\":\"192.0.2.1\",\"as_name\":\"Caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" a]}b\"},\n"
     "{\"ip_address\":\"192.0.2.2\",},\n"
     "{\"ip_address\":\"192.0.2.3\",\"port\":01},\n"
     "{\"ip_address\":\"192.0.2.4\",\"as_name\":\"\\ud800\"},\n"
     "{\"ip_address\":\"192.0.2.5\",\"as_name\":\"tab\there\"},\n"
     "{\"ip_address\":\"192.0.2.6\",\"nested\":{\"a\":[1,2,{\"b\":null}]},\"port\":8080}]",
     "1 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
     "\"source.as_name\":\"Caf\xc3\xa9 \xf0\x9f\x98\x80 \\\"q\\\" a]}b\",\"source.ip\":\"192.0.2.1\"}\n"
     "2 ! invalid JSON at column 27: member name expected\n"
     "3 ! invalid JSON at column 35: ',' or '}' expected\n"
     "4 ! invalid JSON at column 44: lone surrogate in \\u escape\n"
     "5 ! invalid JSON at column 41: control character in a string\n"
     "6 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
     "\"source.ip\":\"192.0.2.6\",\"source.port\":8080}\n"},
    {"feodotracker", NULL, NULL, "\n   \n  \t\n# c\n192.0.2.9\n", /* blank prefix, then CSV */
     "5 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
     "\"source.ip\":\"192.0.2.9\"}\n"},
    {"feodotracker", NULL, NULL, "\n \n [ {\"ip_address\": \"192.0.2.10\"} ]", /* blank prefix, then JSON */
     "3 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
     "\"source.ip\":\"192.0.2.10\"}\n"},
    {"feodotracker", NULL, NULL, "[]\n junk", "2 ! data after the end of the JSON array\n"},
    {"feodotracker", NULL, NULL, "", ""},
    /* ---- phishtank ---- */
    {"phishtank", NULL, NULL,
     "[{\"phish_id\": 123, \"url\": \"https://Example.COM/login\", \"phish_detail_url\": "
     "\"http://www.phishtank.com/phish_detail.php?phish_id=123\", \"submission_time\": "
     "\"2022-11-16T14:08:44+00:00\","
     " \"verified\": \"yes\", \"online\": \"no\", \"details\": [{\"ip_address\": \"198.51.100.7\", "
     "\"cidr_block\": \"198.51.100.0/24\", \"announcing_network\": \"64500\", \"country\": \"US\"}], "
     "\"target\": \"Bank\"},"
     " {\"url\": \"https://example.org/\", \"online\": \"maybe\"}]",
     "1 "
     "{\"classification.taxonomy\":\"fraud\",\"classification.type\":\"phishing\",\"event_description."
     "target\":\"Bank\","
     "\"event_description.url\":\"http://www.phishtank.com/"
     "phish_detail.php?phish_id=123\",\"source.asn\":64500,"
     "\"source.geolocation.cc\":\"US\",\"source.ip\":\"198.51.100.7\",\"source.network\":\"198.51.100.0/24\","
     "\"source.url\":\"https://example.com/"
     "login\",\"status\":\"offline\",\"time.source\":\"2022-11-16T14:08:44+00:00\","
     "\"extra.phishtank.phish_id\":\"123\",\"extra.phishtank.verified\":\"yes\"}\n"
     "1 ! status: \"maybe\": \"online\" is not yes or no\n"},
    {"phishtank", NULL, NULL,
     "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\n"
     "7,http://example.net/a,,2022-11-16T14:08:44+00:00,yes,2022-11-16T14:12:55+00:00,yes,Other\n",
     "2 "
     "{\"classification.taxonomy\":\"fraud\",\"classification.type\":\"phishing\",\"event_description."
     "target\":\"Other\","
     "\"source.url\":\"http://example.net/"
     "a\",\"status\":\"online\",\"time.source\":\"2022-11-16T14:08:44+00:00\","
     "\"extra.phishtank.phish_id\":\"7\","
     "\"extra.phishtank.verification_time\":\"2022-11-16T14:12:55+00:00\",\"extra.phishtank.verified\":"
     "\"yes\"}\n"},
    /* ---- spamhaus-drop: text (network and ASN), JSON lines ---- */
    {"spamhaus-drop", NULL, NULL,
     "; Spamhaus DROP List\n; Last-Modified: Mon, 14 Sep 2015 04:39:22 GMT\n"
     "192.0.2.0/24 ; SBL1\r\nAS64496 ; AE | EXAMPLE-AS\nAS64497 ; | Other\n; comment\n300.0.0.0/8 ; SBL2\n ; "
     "\n",
     "3 "
     "{\"classification.taxonomy\":\"abusive-content\",\"classification.type\":\"spam\",\"source.network\":"
     "\"192.0.2.0/24\","
     "\"time.source\":\"2015-09-14T04:39:22+00:00\",\"extra.blocklist\":\"SBL1\"}\n"
     "4 "
     "{\"classification.taxonomy\":\"abusive-content\",\"classification.type\":\"spam\",\"source.as_name\":"
     "\"EXAMPLE-AS\","
     "\"source.asn\":64496,\"source.geolocation.cc\":\"AE\",\"time.source\":\"2015-09-14T04:39:22+00:00\"}\n"
     "5 "
     "{\"classification.taxonomy\":\"abusive-content\",\"classification.type\":\"spam\",\"source.as_name\":"
     "\"Other\","
     "\"source.asn\":64497,\"time.source\":\"2015-09-14T04:39:22+00:00\"}\n"
     "7 ! source.network: \"300.0.0.0/8\": octet > 255\n"},
    {"spamhaus-drop", NULL, NULL,
     "{\"cidr\":\"203.0.113.0/24\",\"sblid\":\"SBL9\",\"rir\":\"apnic\"}\n"
     "{\"asn\":64511,\"rir\":\"ripencc\",\"domain\":\"example.com\",\"cc\":\"NL\",\"asname\":\"EX-AS\"}\n"
     "{\"foo\":1}\n{\"type\":\"metadata\",\"timestamp\":1700000000}\n",
     "1 "
     "{\"classification.taxonomy\":\"abusive-content\",\"classification.type\":\"spam\",\"source.network\":"
     "\"203.0.113.0/24\","
     "\"extra.blocklist\":\"SBL9\",\"extra.rir\":\"apnic\"}\n"
     "2 "
     "{\"classification.taxonomy\":\"abusive-content\",\"classification.type\":\"spam\",\"source.as_name\":"
     "\"EX-AS\","
     "\"source.asn\":64511,\"source.geolocation.cc\":\"NL\",\"extra.domain\":\"example.com\",\"extra.rir\":"
     "\"ripencc\"}\n"
     "3 ! entry has neither \"cidr\" nor \"asn\"\n"
     "4 -\n"},
    /* ---- dshield-block ---- */
    {"dshield-block", NULL, NULL,
     "#\n#    updated: Tue Dec 15 15:33:38 2015 UTC\n#\nStart\tEnd\tNetblock\tAttacks\tName\tCountry\temail\n"
     "192.0.2.0\t192.0.2.255\t24\t788\tExample Net\tJP\tAbuse@Example.org\n"
     "198.51.100.0\t198.51.100.255\t24\t585\t\t\t\n"
     "203.0.113.0\t203.0.113.255\t24\tmany\n"
     "just-one-column\n",
     "5 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.abuse_contact\":"
     "\"abuse@example.org\","
     "\"source.geolocation.cc\":\"JP\",\"source.network\":\"192.0.2.0/"
     "24\",\"time.source\":\"2015-12-15T15:33:38+00:00\","
     "\"extra.attacks\":788,\"extra.network_name\":\"Example Net\"}\n"
     "6 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.network\":\"198."
     "51.100.0/24\","
     "\"time.source\":\"2015-12-15T15:33:38+00:00\",\"extra.attacks\":585}\n"
     "7 ! extra.attacks: \"many\": not a decimal number\n"
     "8 ! expected tab-separated start, end and prefix length (got 1 columns)\n"},
    /* ---- openphish ---- */
    {"openphish", NULL, NULL, "https://example.com/x\n\n# c\nhttp://www..example.com/p\n",
     "1 "
     "{\"classification.taxonomy\":\"fraud\",\"classification.type\":\"phishing\",\"source.url\":\"https://"
     "example.com/x\"}\n"
     "4 ! source.url: \"http://www..example.com/p\": empty label\n"},
    /* ---- blocklistde: list from the report name or the subtype ---- */
    {"blocklistde", NULL, "ssh.txt", "192.0.2.4\n2001:db8::1\nnope\n",
     "1 {\"classification.taxonomy\":\"intrusion-attempts\",\"classification.type\":\"ids-alert\","
     "\"event_description.text\":\"IP reported as having run attacks on the service "
     "SSH\",\"protocol.application\":\"ssh\","
     "\"source.ip\":\"192.0.2.4\"}\n"
     "2 {\"classification.taxonomy\":\"intrusion-attempts\",\"classification.type\":\"ids-alert\","
     "\"event_description.text\":\"IP reported as having run attacks on the service "
     "SSH\",\"protocol.application\":\"ssh\","
     "\"source.ip\":\"2001:db8::1\"}\n"
     "3 ! source.ip: \"nope\": invalid character\n"},
    {"blocklistde", "bruteforcelogin", "whatever.txt", "192.0.2.4\n",
     "1 {\"classification.taxonomy\":\"intrusion-attempts\",\"classification.type\":\"brute-force\","
     "\"event_description.text\":\"IP reported as having run attacks on Joomlas, Wordpress and other "
     "Web-Logins with Brute-Force Logins\","
     "\"source.ip\":\"192.0.2.4\"}\n"},
    {"blocklistde", NULL, "unknown.txt", "192.0.2.4\n",
     "1 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.ip\":\"192.0.2."
     "4\"}\n"},
    /* ---- misp-csv ---- */
    {"misp-csv", NULL, NULL, "192.0.2.1\n# comment\nexample.com\nnot an indicator\n\n",
     "1 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.ip\":\"192.0.2."
     "1\"}\n"
     "3 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.fqdn\":\"example."
     "com\"}\n"
     "4 ! \"not an indicator\": not a recognised indicator (IP, network, URL, domain, hash, e-mail)\n"},
    {"misp-csv", "2,3", NULL,
     "x,192.0.2.1,d41d8cd98f00b204e9800998ecf8427E\ny,\"hxxp://bad[.]example/a\",\nz\n",
     "1 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.ip\":\"192.0.2."
     "1\"}\n"
     "1 {\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\","
     "\"malware.hash.md5\":\"d41d8cd98f00b204e9800998ecf8427e\"}\n"
     "2 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.url\":\"http://"
     "bad.example/a\"}\n"
     "3 ! row is shorter than a value column\n"},
    {"misp-csv", "2/;", NULL, "a;192.0.2.8;x\n",
     "1 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.ip\":\"192.0.2."
     "8\"}\n"},
    {"misp-csv", "1/tab", NULL, "2001:db8::5\tcomment, with a comma\n",
     "1 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.ip\":\"2001:db8::"
     "5\"}\n"},
    /* ---- misp-freetext ---- */
    {"misp-freetext", NULL, NULL,
     "8.8.8.8 8.8.4.4\nSeen at evil[.]example.org, from 192.0.2.7:8080 and 10.1.2.999; mail "
     "bad@example.net.\n"
     "# 192.0.2.99 in a comment\n2001:db8::/32\n",
     "1 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.ip\":\"8.8.8.8\"}"
     "\n"
     "1 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.ip\":\"8.8.4.4\"}"
     "\n"
     "2 -\n2 -\n"
     "2 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.fqdn\":\"evil."
     "example.org\"}\n"
     "2 -\n"
     "2 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.ip\":\"192.0.2."
     "7\",\"source.port\":8080}\n"
     "2 -\n"
     "2 ! \"10.1.2.999\": looks like an address but is not a valid IP, IP:port or network\n"
     "2 -\n"
     "2 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.account\":\"bad@"
     "example.net\"}\n"
     "4 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.network\":\"2001:"
     "db8::/32\"}\n"},
    /* times of day and version numbers are words, not (broken) addresses */
    {"misp-freetext", NULL, NULL,
     "At 10:30:00 and 23:59 UTC, Windows 10.0.19041.1 / OpenSSL 1.1.1 / 2.4.41.0.1 hit 192.0.2.5 on "
     "2023.05.01\n"
     "then 10.0.0.1:99999 and 192.0.2.0/33\n",
     "1 -\n1 -\n1 -\n1 -\n1 -\n1 -\n1 -\n1 -\n1 -\n1 -\n1 -\n1 -\n1 -\n"
     "1 "
     "{\"classification.taxonomy\":\"other\",\"classification.type\":\"blacklist\",\"source.ip\":\"192.0.2."
     "5\"}\n"
     "1 -\n1 -\n"
     "2 -\n"
     "2 ! source.port: \"99999\": out of range\n"
     "2 -\n"
     "2 ! \"192.0.2.0/33\": looks like an address but is not a valid IP, IP:port or network\n"},
};

static void test_cases(void **state)
{
    static const size_t chunks[] = {1, 2, 3, 7, 64};
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const fcase *c = &cases[i];
        size_t len = strlen(c->in);
        lia_buf whole;
        lia_buf_init(&whole, 1u << 20);
        run(c->format, c->subtype, c->report_name, c->in, len, 0, &whole);
        if (strcmp(lia_buf_cstr(&whole), c->want) != 0) {
            print_error("case %zu (%s): got\n%s\nwant\n%s\n", i, c->format, lia_buf_cstr(&whole), c->want);
            fail();
        }
        for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
            lia_buf part;
            lia_buf_init(&part, 1u << 20);
            run(c->format, c->subtype, c->report_name, c->in, len, chunks[k], &part);
            if (strcmp(lia_buf_cstr(&part), c->want) != 0) {
                print_error("case %zu (%s) in chunks of %zu: got\n%s\nwant\n%s\n", i, c->format, chunks[k],
                            lia_buf_cstr(&part), c->want);
                fail();
            }
            lia_buf_free(&part);
        }
        lia_buf_free(&whole);
    }
}

/* Options that cannot work are refused when the format opens. */
static void test_bad_options(void **state)
{
    static const struct {
        const char *format, *subtype;
    } bad[] = {{"blocklistde", "telnet"}, {"misp-csv", "0"},    {"misp-csv", "1,x"}, {"misp-csv", ","},
               {"misp-csv", "1/"},        {"misp-csv", "1/ab"}, {"misp-csv", "/;"}};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const lia_format *f = lia_format_find(bad[i].format);
        lia_feed_opts o;
        lia_error err;
        void *st = NULL;
        memset(&o, 0, sizeof o);
        o.subtype = bad[i].subtype;
        lia_error_clear(&err);
        assert_non_null(f);
        if (f->open(&st, &o, &err) != LIA_EINVAL) {
            print_error("%s --subtype %s was accepted\n", bad[i].format, bad[i].subtype);
            f->close(st);
            fail();
        }
        assert_string_not_equal(err.reason, "");
    }
}

/* A JSON element longer than LIA_MAX_ROW is quarantined; the next one is read. */
static void test_oversize_element(void **state)
{
    size_t big = LIA_MAX_ROW + 100;
    const char *tail = "\"},{\"ip_address\":\"192.0.2.1\"}]";
    char *in = malloc(big + 64);
    lia_buf out;
    size_t n = 0;
    (void)state;
    n += (size_t)snprintf(in, 64, "[{\"x\":\"");
    memset(in + n, 'a', big);
    n += big;
    memcpy(in + n, tail, strlen(tail));
    n += strlen(tail);
    lia_buf_init(&out, 1u << 20);
    run("feodotracker", NULL, NULL, in, n, 65536, &out);
    assert_string_equal(
        lia_buf_cstr(&out),
        "1 ! JSON element longer than 1 MiB\n"
        "1 {\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"c2-server\","
        "\"source.ip\":\"192.0.2.1\"}\n");
    lia_buf_free(&out);
    free(in);
}

/* Records copied into the arena stay valid when the arena grows (a
 * regression: copied slices used to dangle after a realloc). */
static void test_records_arena_moves(void **state)
{
    lia_records rs;
    char val[64];
    (void)state;
    lia__records_init(&rs);
    for (int i = 0; i < 5000; i++) {
        lia_slice s;
        int n = snprintf(val, sizeof val, "value-%d-%s", i, "padding-padding-padding");
        s = (lia_slice){val, (size_t)n};
        assert_int_equal(lia__records_add(&rs, (uint64_t)i + 1, s, &s, 1, 0, NULL, 1), LIA_OK);
    }
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(val, sizeof val, "value-%d-%s", i, "padding-padding-padding");
        const lia_slice *f = &rs.fields[rs.rec[i].first];
        if (f->len != (size_t)n || memcmp(f->ptr, val, (size_t)n) != 0 || rs.rec[i].raw.len != (size_t)n ||
            memcmp(rs.rec[i].raw.ptr, val, (size_t)n) != 0) {
            print_error("record %d: got %.*s want %s\n", i, (int)f->len, f->ptr, val);
            fail();
        }
    }
    lia__records_free(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_oversize_element),
        cmocka_unit_test(test_records_arena_moves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
