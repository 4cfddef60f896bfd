/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison init | ingest */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cmd_init(cli *c, int argc, char **argv)
{
    lia_store *s;
    int rc;
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            printf("usage: liaison [--db PATH] init\n\n"
                   "Create the store (or upgrade its schema) and its archive directory.\n");
            return LIA_EXIT_OK;
        }
        cli_errorf("init: unexpected argument %s", argv[1]);
        return LIA_EXIT_USAGE;
    }
    if ((rc = cli_open_store(c, &s)))
        return rc;
    printf("store %s ready (schema version %d, archive %s)\n", c->db, lia_store_schema_version(s),
           lia_store_archive_dir(s));
    lia_store_close(s);
    return LIA_EXIT_OK;
}

static volatile int stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void ingest_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] ingest --feed NAME [options] FILE|-\n"
               "\n"
               "Read one report (a file, or - for standard input) through parse, normalise\n"
               "and store. Rows that fail are quarantined with their reason (liaison\n"
               "quarantine). The report is identified by its content: ingesting it again\n"
               "stores nothing twice; an interrupted ingest resumes where it stopped.\n"
               "With --format misp, FILE may be a MISP feed directory: each event file of\n"
               "its manifest.json is one report.\n"
               "\n"
               "Options:\n"
               "  --feed NAME         feed name (feed.name of the events)   [required,\n"
               "                      except for --format shadowserver: the report's\n"
               "                      feed name from Shadowserver's schema]\n"
               "  --format FORMAT     report format; default: the registered feed's\n"
               "                      (liaison feeds), else jsonl for *.json/*.jsonl,\n"
               "                      csv when --map is given\n"
               "  --map FILE          CSV column mapping (docs/csv-mapping.md); for\n"
               "                      shadowserver: a schema file to use instead\n"
               "  --report TYPE       Shadowserver report type (e.g. scan_ics; implies\n"
               "                      --format shadowserver); default:\n"
               "                      detected from the file name (liaison shadowserver\n"
               "                      reports lists them)\n"
               "  --provider NAME     feed.provider\n"
               "  --tlp LABEL         TLP of events that carry none (CLEAR GREEN AMBER\n"
               "                      AMBER+STRICT RED); default AMBER\n"
               "  --name NAME         report name (default: the file name)\n"
               "  --no-archive        do not keep a compressed copy of the raw report\n"
               "  --strict            exit 3 if any row was quarantined\n"
               "  -q, --quiet         no progress line\n"
               "  --bus URL           do not process here: register and archive the report,\n"
               "                      then publish it in chunks to the work bus\n"
               "                      (nats://HOST:PORT) for `liaison worker` processes;\n"
               "                      waits while the stream is full (liaison worker --help)\n"
               "  --chunk N           records per chunk with --bus (default 2000)\n"
               "  --bus-limit N       chunks the stream holds, when this creates it\n"
               "                      (default 10000; also 256 MiB)\n"
               "\nFormats:\n");
    for (size_t i = 0; lia_formats[i]; i++)
        fprintf(f, "  %-19s %s\n", lia_formats[i]->name, lia_formats[i]->summary);
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* ingest --bus: publish the report in chunks (closes s). */
static int ingest_bus(lia_store *s, const char *url, int64_t limit, const lia_ingest_opts *o, size_t chunk)
{
    lia_bus_opts b;
    lia_bus_publish_result res;
    lia_error err;
    int rc;
    memset(&b, 0, sizeof b);
    b.url = url;
    b.max_msgs = limit;
    lia_error_clear(&err);
    rc = lia_bus_publish(s, &b, o, chunk, &res, &err);
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return rc == LIA_EINTR ? LIA_EXIT_INTERRUPTED : LIA_EXIT_ERROR;
    }
    if (res.skipped) {
        printf("%s: already ingested as report #%lld (%llu events, %llu quarantined): nothing published\n",
               res.report.name, (long long)res.report.id, (unsigned long long)res.report.events,
               (unsigned long long)res.report.quarantined);
        return LIA_EXIT_OK;
    }
    printf("%s: report #%lld, feed %s: %llu chunks, %llu published (%llu the bus already had), "
           "%.1f MB in %.2f s%s\n",
           res.report.name, (long long)res.report.id, res.report.feed, (unsigned long long)res.chunks,
           (unsigned long long)res.published, (unsigned long long)res.duplicates,
           (double)res.report.size / 1e6, res.seconds,
           res.complete ? "; every chunk stored: report complete" : "; workers store it");
    if (res.waits)
        printf("  the stream was full %llu times: waited for the workers\n", (unsigned long long)res.waits);
    return LIA_EXIT_OK;
}

int cmd_ingest(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"feed", required_argument, NULL, 'f'},
        {"format", required_argument, NULL, 'F'},
        {"map", required_argument, NULL, 'm'},
        {"provider", required_argument, NULL, 'p'},
        {"tlp", required_argument, NULL, 't'},
        {"name", required_argument, NULL, 'n'},
        {"no-archive", no_argument, NULL, 'A'},
        {"strict", no_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"report", required_argument, NULL, 'r'},
        {"bus", required_argument, NULL, 'B'},
        {"chunk", required_argument, NULL, 'C'},
        {"bus-limit", required_argument, NULL, 'L'},
        {NULL, 0, NULL, 0},
    };
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    lia_store *s = NULL;
    const char *tlp = "AMBER";
    char schema_path[4096];
    int strict = 0, quiet = 0, ch, rc, tlp_given = 0;
    const char *bus = NULL;
    uint64_t chunk = 0, bus_limit = 0;
    lia_feed reg;
    struct sigaction sa;

    memset(&o, 0, sizeof o);
    o.archive = 1;
    o.feed.tlp = -1;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': o.feed.feed = optarg; break;
        case 'F': o.format = optarg; break;
        case 'm': o.feed.map_path = optarg; break;
        case 'p': o.feed.provider = optarg; break;
        case 't': tlp = optarg; tlp_given = 1; break;
        case 'n': o.feed.report_name = optarg; break;
        case 'r': o.feed.subtype = optarg; break;
        case 'A': o.archive = 0; break;
        case 's': strict = 1; break;
        case 'q': quiet = 1; break;
        case 'B': bus = optarg; break;
        case 'C':
            if (cli_parse_u64(optarg, &chunk) || chunk == 0 || chunk > 1000000) {
                cli_errorf("ingest: --chunk %s: a number of records from 1 to 1000000 is expected", optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'L':
            if (cli_parse_u64(optarg, &bus_limit) || bus_limit == 0 || bus_limit > 100000000) {
                cli_errorf("ingest: --bus-limit %s: a number of chunks from 1 to 100000000 is expected",
                           optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'h': ingest_usage(stdout); return LIA_EXIT_OK;
        default:
            cli_errorf("ingest: bad option %s (see liaison ingest --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_errorf("ingest: exactly one FILE (or -) is expected (see liaison ingest --help)");
        return LIA_EXIT_USAGE;
    }
    o.path = argv[optind];
    if (!o.format && o.feed.subtype)
        o.format = "shadowserver"; /* --report names a Shadowserver report type */
    if (o.format && strcmp(o.format, "shadowserver") == 0) {
        if ((rc = cli_shadowserver_opts(c, &o.feed, o.path, schema_path, sizeof schema_path)))
            return rc;
    }
    if (!o.feed.feed || !*o.feed.feed) {
        cli_errorf("ingest: --feed NAME is required");
        return LIA_EXIT_USAGE;
    }
    if (lia_parse_tlp(tlp, strlen(tlp), &o.feed.tlp, NULL)) {
        cli_errorf("ingest: --tlp %s: not a TLP 2.0 label (CLEAR GREEN AMBER AMBER+STRICT RED)", tlp);
        return LIA_EXIT_USAGE;
    }
    if (!o.format && !cli_feed_defaults(c, &o, &reg, tlp_given)) {
        if (o.feed.map_path)
            o.format = "csv";
        else if (ends_with(o.path, ".jsonl") || ends_with(o.path, ".json"))
            o.format = "jsonl";
        else {
            cli_errorf("ingest: cannot tell the format of %s; give --format (see liaison ingest --help)", o.path);
            return LIA_EXIT_USAGE;
        }
    }
    if (!lia_format_find(o.format)) {
        cli_errorf("ingest: unknown format '%s' (see liaison ingest --help)", o.format);
        return LIA_EXIT_USAGE;
    }
    if (strcmp(o.format, "shadowserver") == 0 && /* e.g. from a registered feed */
        (rc = cli_shadowserver_opts(c, &o.feed, o.path, schema_path, sizeof schema_path)))
        return rc;
    if (!o.feed.report_name && strcmp(o.path, "-") != 0) /* formats may read it (blocklistde) */
        o.feed.report_name = strrchr(o.path, '/') ? strrchr(o.path, '/') + 1 : o.path;
    o.feed.observed_us = (int64_t)time(NULL) * 1000000;
    if (strcmp(o.format, "misp") == 0 && cli_is_dir(o.path))
        return cli_ingest_misp_feed(c, &o, strict); /* a feed: one report per event file */
    if (bus && strcmp(o.path, "-") == 0) {
        cli_errorf("ingest: --bus reads a file, not standard input");
        return LIA_EXIT_USAGE;
    }
    if (!quiet && isatty(STDERR_FILENO))
        o.progress = stderr;
    o.stop = &stop_flag;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if ((rc = cli_open_store(c, &s)))
        return rc;
    lia_error_clear(&err);
    if (bus)
        return ingest_bus(s, bus, (int64_t)bus_limit, &o, (size_t)chunk);
    rc = lia_ingest(s, &o, &res, &err);
    lia_store_close(s);
    if (rc == LIA_EINTR) {
        cli_error(&err);
        return LIA_EXIT_INTERRUPTED;
    }
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (res.skipped) {
        printf("%s: already ingested as report #%lld (%llu events, %llu quarantined): nothing stored\n",
               res.report.name, (long long)res.report.id, (unsigned long long)res.report.events,
               (unsigned long long)res.report.quarantined);
        return LIA_EXIT_OK;
    }
    printf("%s: report #%lld, feed %s%s: %llu rows read, %llu events stored, %llu quarantined "
           "(%.1f MB in %.2f s, %.0f events/s)\n",
           res.report.name, (long long)res.report.id, res.report.feed,
           res.resumed ? " (resumed)" : "", (unsigned long long)res.report.rows,
           (unsigned long long)res.report.events, (unsigned long long)res.report.quarantined,
           (double)res.bytes / 1e6, res.seconds,
           res.seconds > 0 ? (double)res.c[LIA_ST_STORE].out / res.seconds : 0.0);
    if (res.report.rows > res.report.events + res.report.quarantined + res.report.duplicates)
        printf("  %llu records were not events (e.g. STIX identities, MISP links)\n",
               (unsigned long long)(res.report.rows - res.report.events - res.report.quarantined -
                                    res.report.duplicates));
    if (res.warning[0])
        printf("  warning: %s\n", res.warning);
    if (res.report.quarantined)
        printf("  see: liaison quarantine --report %lld\n", (long long)res.report.id);
    return strict && res.report.quarantined ? LIA_EXIT_DATA : LIA_EXIT_OK;
}
