/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Benchmark of the IODEF import (src/share/iodef_import.c), end to end.
 *
 *   bench_iodef [N ...]      (default 5000 10000 20000 40000)
 *
 * For each N builds in memory one IODEF v2 document as `liaison export iodef`
 * writes it: one Incident holding N EventData (a Flow with one source System:
 * an IPv4 address and a port) and, in IndicatorData, N Indicators each
 * referring to its System; then ingests it with lia_ingest_buffer (format
 * "iodef", the default stages) into a new store in a temporary directory.
 * Prints seconds, events stored and microseconds per EventData: a linear
 * import keeps the last column flat as N grows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liaison/liaison.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *make_doc(size_t n, size_t *len)
{
    size_t cap = 1024 + n * 600, off = 0;
    char *p = malloc(cap);
    if (!p)
        return NULL;
    off += (size_t)snprintf(
        p + off, cap - off,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<IODEF-Document version=\"2.00\" "
        "xml:lang=\"en\" xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\">\n<Incident "
        "purpose=\"reporting\" restriction=\"green\">\n<IncidentID "
        "name=\"CERT-X\">bench-1</IncidentID>\n<GenerationTime>2024-05-01T10:00:00Z</"
        "GenerationTime>\n<Contact role=\"creator\" type=\"organization\"><ContactName>CERT-X</"
        "ContactName></Contact>\n");
    for (size_t i = 0; i < n; i++)
        off +=
            (size_t)snprintf(p + off, cap - off,
                             "<EventData restriction=\"green\"><Description>infected-system</Description>"
                             "<DetectTime>2024-05-01T10:00:00Z</DetectTime><Flow><System category=\"source\" "
                             "observable-id=\"obs-%zu\"><Node><Address category=\"ipv4-addr\">10.%zu.%zu.%zu"
                             "</Address></Node><Service ip-protocol=\"6\"><Port>23</Port></Service></System>"
                             "</Flow></EventData>\n",
                             i, i >> 16 & 255, i >> 8 & 255, i & 255);
    off += (size_t)snprintf(p + off, cap - off, "<IndicatorData>\n");
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(
            p + off, cap - off,
            "<Indicator restriction=\"green\"><IndicatorID name=\"CERT-X\" version=\"1\">ind-%zu"
            "</IndicatorID><Description>infected-system</Description><ObservableReference "
            "uid-ref=\"obs-%zu\"/></Indicator>\n",
            i, i);
    off += (size_t)snprintf(p + off, cap - off, "</IndicatorData>\n</Incident>\n</IODEF-Document>\n");
    *len = off;
    return p;
}

static int run(size_t n)
{
    char dir[] = "/tmp/liaison-bench-iodef-XXXXXX", db[128], cmd[160];
    size_t len;
    char *doc = make_doc(n, &len);
    lia_store *s = NULL;
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    double t0, t;
    int rc = 1;
    if (!doc || !mkdtemp(dir)) {
        free(doc);
        return 1;
    }
    snprintf(db, sizeof db, "%s/b.db", dir);
    if (lia_store_open(db, &s, &err)) {
        fprintf(stderr, "bench_iodef: %s\n", err.reason);
        goto out;
    }
    memset(&o, 0, sizeof o);
    o.format = "iodef";
    o.feed.feed = "bench-iodef";
    o.feed.report_name = "bench.xml";
    o.feed.tlp = -1;
    o.feed.observed_us = 1714557600000000;
    o.archive = 0;
    t0 = now();
    if (lia_ingest_buffer(s, &o, doc, len, &res, &err)) {
        fprintf(stderr, "bench_iodef: %s\n", err.reason);
        goto out;
    }
    t = now() - t0;
    printf("%8zu EventData  %6.1f MB  %8.2f s  %8llu events  %6.1f us/EventData\n", n, (double)len / 1e6, t,
           (unsigned long long)res.report.events, t * 1e6 / (double)n);
    rc = res.report.events == n ? 0 : 1;
out:
    lia_store_close(s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = 1;
    free(doc);
    return rc;
}

int main(int argc, char **argv)
{
    static const size_t def[] = {5000, 10000, 20000, 40000};
    int rc = 0;
    setvbuf(stdout, NULL, _IOLBF, 0); /* each size as it is done */
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            rc |= run(strtoul(argv[i], NULL, 10));
    } else {
        for (size_t i = 0; i < sizeof def / sizeof def[0]; i++)
            rc |= run(def[i]);
    }
    return rc;
}
