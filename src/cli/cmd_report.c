/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison report build: a month's statistics report (liaison/report.h,
 * docs/reports.md) as HTML, PDF or CSV. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void report_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] report build --period YYYY-MM --format html|pdf|csv --out FILE\n"
               "                [--lang en|zh] [--tlp CLEAR|GREEN|AMBER|AMBER+STRICT|RED] [--for PARTNER]\n"
               "                [--top N]\n"
               "\n"
               "A month's statistics report (docs/reports.md): events against the previous month by\n"
               "classification and feed, a country ranking and map, IoT and ICS exposure by sector,\n"
               "protocol and product, top ASNs and owners, cross-border hand-offs with each partner's\n"
               "times to acknowledge and resolve (median, 90th percentile) and SLA breaches,\n"
               "incidents opened and closed. Only data the TLP policy lets go at the label is\n"
               "counted (default AMBER).\n"
               "  --period YYYY-MM  the UTC month\n"
               "  --format FMT      html (one self-contained file), pdf (printed by headless chromium,\n"
               "                    $LIAISON_CHROMIUM or /usr/bin/chromium), csv (the same tables)\n"
               "  --out FILE        where to write it (replaced only when complete)\n"
               "  --lang en|zh      the language (default en)\n"
               "  --tlp LABEL       the report's TLP label, at the top and on every page\n"
               "  --for PARTNER     the report for a partner CERT: its own row of the league table\n"
               "                    only (unless its entry says stats_shared: true), no owners, and\n"
               "                    only what its TLP ceiling and agreement allow\n"
               "  --top N           rows of each ranking (default 10)\n");
}

static int report_build(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"period", required_argument, NULL, 'p'},
        {"lang", required_argument, NULL, 'l'},
        {"tlp", required_argument, NULL, 't'},
        {"for", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        {"top", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lia_report_opts o = {.tlp = LIA_TLP_AMBER};
    const char *out = NULL;
    lia_store *s;
    lia_error err;
    int ch, rc;
    lia_error_clear(&err);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'p': o.period = optarg; break;
        case 'l': o.lang = optarg; break;
        case 'r': o.partner = optarg; break;
        case 'f': o.format = optarg; break;
        case 'o': out = optarg; break;
        case 't': {
            int t = -1;
            const char *v = optarg;
            if (strncmp(v, "TLP:", 4) == 0)
                v += 4;
            for (int i = LIA_TLP_CLEAR; i <= LIA_TLP_RED; i++)
                if (strcmp(v, lia_tlp_name(i)) == 0)
                    t = i;
            if (t < 0) {
                cli_errorf("report build: --tlp %s: the label is CLEAR, GREEN, AMBER, AMBER+STRICT or RED",
                           optarg);
                return LIA_EXIT_USAGE;
            }
            o.tlp = t;
            break;
        }
        case 'n': {
            char *end;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (!*optarg || *end || n == 0 || n > 1000) {
                cli_errorf("report build: --top %s: a number from 1 to 1000", optarg);
                return LIA_EXIT_USAGE;
            }
            o.top = n;
            break;
        }
        case 'h': report_usage(stdout); return LIA_EXIT_OK;
        default:
            cli_errorf("report build: bad option (see liaison report build --help)");
            return LIA_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("report build: unexpected argument \"%s\" (see liaison report build --help)",
                   argv[optind]);
        return LIA_EXIT_USAGE;
    }
    if (!o.period || !o.format || !out) {
        cli_errorf(
            "report build: --period, --format and --out are required (see liaison report build --help)");
        return LIA_EXIT_USAGE;
    }
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    rc = lia_report_write(s, &o, out, &err);
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}

int cmd_report(cli *c, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        report_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? LIA_EXIT_USAGE : LIA_EXIT_OK;
    }
    if (strcmp(argv[1], "build") == 0)
        return report_build(c, argc - 1, argv + 1);
    cli_errorf("report: unknown command \"%s\" (build)", argv[1]);
    return LIA_EXIT_USAGE;
}
