/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Benchmark of the feed formats of src/feeds/ (docs/performance.md, "Feeds"):
 * parse + normalise + lia_event_finish of a synthetic report per format,
 * read in LIA_READ_CHUNK chunks as lia_ingest does; no store.
 *
 *   bench_feeds [ROWS [FORMAT]]   (default 200000, all formats) prints rows/s
 *                                 and MB/s per format */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liaison/liaison.h"
#include "core/records.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ip(lia_buf *b, unsigned i)
{
    lia_buf_printf(b, "%u.%u.%u.%u", 11 + i % 200, (i >> 8) & 255, (i >> 3) & 255, 1 + i % 254);
}

static void gen(const char *format, unsigned rows, lia_buf *b)
{
    if (strcmp(format, "feodotracker") == 0 || strcmp(format, "phishtank") == 0)
        lia_buf_puts(b, "[\n");
    if (strcmp(format, "dshield-block") == 0)
        lia_buf_puts(b, "#    updated: Tue Dec 15 15:33:38 2015 "
                        "UTC\nStart\tEnd\tNetblock\tAttacks\tName\tCountry\temail\n");
    if (strcmp(format, "spamhaus-drop") == 0)
        lia_buf_puts(b, "; Last-Modified: Mon, 14 Sep 2015 04:39:22 GMT\n");
    for (unsigned i = 0; i < rows; i++) {
        if (strcmp(format, "feodotracker") == 0) {
            lia_buf_puts(b, i ? ",\n" : "");
            lia_buf_puts(b, "{\"ip_address\": \"");
            ip(b, i);
            lia_buf_printf(b,
                           "\", \"port\": %u, \"status\": \"online\", \"hostname\": \"h%u.example.net\", "
                           "\"as_number\": %u, \"as_name\": \"EXAMPLE-AS\", \"country\": \"FR\", "
                           "\"first_seen\": \"2021-01-17 07:44:46\", \"last_online\": \"2022-11-15\", "
                           "\"malware\": \"Dridex\"}",
                           443 + i % 1000, i, 64496 + i % 1000);
        } else if (strcmp(format, "phishtank") == 0) {
            lia_buf_puts(b, i ? ",\n" : "");
            lia_buf_printf(b,
                           "{\"phish_id\": \"%u\", \"url\": \"https://login%u.example.com/secure/\", "
                           "\"phish_detail_url\": \"http://www.phishtank.com/phish_detail.php?phish_id=%u\", "
                           "\"submission_time\": \"2022-11-16T14:08:44+00:00\", \"verified\": \"yes\", "
                           "\"verification_time\": \"2022-11-16T14:12:55+00:00\", \"online\": \"yes\", "
                           "\"details\": [{\"ip_address\": \"",
                           i, i, i);
            ip(b, i);
            lia_buf_puts(b, "\", \"cidr_block\": \"10.0.0.0/8\", \"announcing_network\": \"8100\", "
                            "\"rir\": \"arin\", \"country\": \"US\"}], \"target\": \"Other\"}");
        } else if (strcmp(format, "spamhaus-drop") == 0) {
            ip(b, i << 8);
            lia_buf_printf(b, "/24 ; SBL%u\n", i);
        } else if (strcmp(format, "dshield-block") == 0) {
            ip(b, i << 8);
            lia_buf_puts(b, "\t");
            ip(b, i << 8);
            lia_buf_printf(b, "\t24\t%u\tExample Net\tJP\tabuse@example.net\n", i % 1000);
        } else if (strcmp(format, "openphish") == 0) {
            lia_buf_printf(b, "https://login%u.example.com/secure/index.php?id=%u\n", i, i);
        } else if (strncmp(format, "map-", 4) == 0) { /* Dataplane.org's rows */
            lia_buf_printf(b, "%u|EXAMPLE-AS %u|", 64496 + i % 1000, i % 1000);
            ip(b, i);
            lia_buf_printf(b, "|2023-05-01 %02u:%02u:%02u|sshpwauth\n", i / 3600 % 24, i / 60 % 60, i % 60);
        } else if (strcmp(format, "misp-freetext") == 0) {
            ip(b, i);
            lia_buf_printf(b, " evil%u.example.org\n", i);
        } else {
            ip(b, i);
            lia_buf_putc(b, '\n');
        }
    }
    if (strcmp(format, "feodotracker") == 0 || strcmp(format, "phishtank") == 0)
        lia_buf_puts(b, "\n]\n");
}

int main(int argc, char **argv)
{
    static const char *const formats[] = {"feodotracker", "phishtank",   "spamhaus-drop", "dshield-block",
                                          "openphish",    "blocklistde", "misp-csv",      "misp-freetext",
                                          "map-lines",    "map-csv"};
    /* the same Dataplane rows through the csv format: the shipped line-pattern
     * mapping, and a CSV mapping of the same columns ('|'-separated) */
    static const char map_csv[] =
        "{\"header\": false, \"delimiter\": \"|\", \"columns\": [{\"field\": \"source.asn\", \"values\": "
        "{\"NA\": \"\"}}, {\"field\": \"source.as_name\", \"values\": {\"NA\": \"\"}}, {\"field\": "
        "\"source.ip\", \"required\": true}, {\"field\": \"time.source\", \"time\": \"%Y-%m-%d %H:%M:%S\"}, "
        "\"extra.category\"], \"constants\": {\"classification.type\": \"brute-force\", "
        "\"protocol.application\": \"ssh\"}}";
    char map_path[] = "/tmp/bench-feeds-map-XXXXXX";
    int mfd = mkstemp(map_path);
    if (mfd < 0 || write(mfd, map_csv, strlen(map_csv)) != (ssize_t)strlen(map_csv))
        return 1;
    close(mfd);
    unsigned rows = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 200000;
    printf("%-15s %10s %10s %12s %8s %7s\n", "format", "rows", "events", "rows/s", "MB/s", "parse%");
    for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
        const int bymap = strncmp(formats[k], "map-", 4) == 0;
        const lia_format *f = lia_format_find(bymap ? "csv" : formats[k]);
        lia_buf in;
        lia_feed_opts o;
        lia_records rs;
        lia_event ev;
        lia_error err;
        void *st = NULL;
        uint64_t nrec = 0, nev = 0;
        double t0, tparse = 0;
        if (argc > 2 && strcmp(argv[2], formats[k]) != 0)
            continue;
        lia_buf_init(&in, (size_t)4 << 30);
        gen(formats[k], rows, &in);
        memset(&o, 0, sizeof o);
        o.tlp = -1;
        o.report_name = "ssh.txt";
        if (bymap)
            o.map_path = strcmp(formats[k], "map-lines") == 0 ? "builtin:dataplane-sshpwauth" : map_path;
        lia_error_clear(&err);
        if (!f || f->open(&st, &o, &err) != LIA_OK) {
            fprintf(stderr, "%s: cannot open\n", formats[k]);
            return 1;
        }
        lia__records_init(&rs);
        lia_event_init(&ev);
        t0 = now();
        for (size_t off = 0;;) {
            size_t n = in.len - off < LIA_READ_CHUNK ? in.len - off : LIA_READ_CHUNK;
            double tp = now();
            lia__records_clear(&rs);
            if (f->parse(st, in.ptr + off, n, n == 0, &rs, &err) != LIA_OK) {
                fprintf(stderr, "%s: parse failed: %s\n", formats[k], err.reason);
                return 1;
            }
            tparse += now() - tp;
            for (size_t i = 0; i < rs.n; i++) {
                nrec++;
                lia_event_reset(&ev);
                if (!rs.rec[i].err && f->normalise(st, &rs, &rs.rec[i], &ev, &err) == LIA_OK &&
                    lia_event_finish(&ev, &err) == LIA_OK)
                    nev++;
            }
            off += n;
            if (n == 0)
                break;
        }
        {
            double s = now() - t0;
            printf("%-15s %10llu %10llu %12.0f %8.1f %6.0f%%\n", formats[k], (unsigned long long)nrec,
                   (unsigned long long)nev, (double)nrec / s, (double)in.len / 1e6 / s, 100 * tparse / s);
        }
        f->close(st);
        lia__records_free(&rs);
        lia_event_free(&ev);
        lia_buf_free(&in);
    }
    unlink(map_path);
    return 0;
}
