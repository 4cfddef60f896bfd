/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison report build: a month's statistics report (liaison/report.h,
 * docs/reports.md) as HTML, PDF or CSV. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
               "  --top N           rows of each ranking (default 10)\n"
               "\n"
               "usage: liaison [--db PATH] report send --period YYYY-MM --format html|pdf|csv --to ENTRY...\n"
               "                [--lang en|zh] [--tlp LABEL] [--top N] [--smtp URL] [--from ADDR]\n"
               "                [--sign-key FPR] [--unsigned] [--dry-run --out DIR]\n"
               "\n"
               "The report sent by e-mail to a distribution list: each --to partner:ID gets the\n"
               "report made for it (to its contacts), the --to addresses of our own team one\n"
               "message with the team's report. The TLP policy decides whether the label may go\n"
               "to each (a partner: its ceiling and agreement, never AMBER+STRICT; our team:\n"
               "anything but RED); a refused entry gets nothing. SMTP, sender and signing key\n"
               "from the routing configuration (smtp_url, mail_from, sign_key) unless given;\n"
               "--dry-run --out DIR writes the messages there instead. Exit 1 if any failed.\n"
               "\n"
               "usage: liaison [--db PATH] report schedule add NAME --format FMT --to ENTRY...\n"
               "                [--lang en|zh] [--tlp LABEL] [--top N] [--day D] [--first YYYY-MM]\n"
               "       liaison [--db PATH] report schedule list\n"
               "       liaison [--db PATH] report schedule remove NAME\n"
               "       liaison [--db PATH] report run [--now TIME] [--smtp URL] [--from ADDR]\n"
               "                [--sign-key FPR] [--unsigned] [--dry-run --out DIR]\n"
               "\n"
               "A schedule sends the previous month's report to its list once a month, on day D\n"
               "(1-28, default 1, 00:00 UTC) or at the first run after it: report run sends what\n"
               "is due, once per entry and month (failed entries again at the next run), as\n"
               "report send does; liaison serve --reports S runs it every S seconds. add replaces\n"
               "a schedule of the same name; its first month is the first whose day comes after\n"
               "it is made, or --first YYYY-MM. Adding and removing are audit-logged.\n");
}

/* --tlp LABEL (TLP: prefix allowed) into *tlp; 1 after printing why. */
static int tlp_arg(const char *cmd, const char *v, int *tlp)
{
    const char *l = strncmp(v, "TLP:", 4) == 0 ? v + 4 : v;
    for (int i = LIA_TLP_CLEAR; i <= LIA_TLP_RED; i++)
        if (strcmp(l, lia_tlp_name(i)) == 0) {
            *tlp = i;
            return 0;
        }
    cli_errorf("%s: --tlp %s: the label is CLEAR, GREEN, AMBER, AMBER+STRICT or RED", cmd, v);
    return 1;
}

/* --top N, 1 to 1000; 1 after printing why. */
static int top_arg(const char *cmd, const char *v, uint64_t *top)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || n == 0 || n > 1000) {
        cli_errorf("%s: --top %s: a number from 1 to 1000", cmd, v);
        return 1;
    }
    *top = n;
    return 0;
}

/* --to ENTRY appended to *to (*n entries); 1 after printing why. */
static int to_arg(const char *cmd, const char ***to, size_t *n, const char *v)
{
    const char **w = realloc(*to, (*n + 1) * sizeof *w);
    if (!w) {
        cli_errorf("%s: out of memory", cmd);
        return 1;
    }
    *to = w;
    w[(*n)++] = v;
    return 0;
}

/* The options report send and report run share: SMTP, sender, signing,
 * --dry-run and --out. 1 if ch was one of them. */
static int send_opt(int ch, lia_report_send_opts *so, int *dry, const char **out)
{
    switch (ch) {
    case 'S': so->smtp_url = optarg; return 1;
    case 'F': so->mail_from = optarg; return 1;
    case 'K': so->sign_key = optarg; return 1;
    case 'U': so->unsigned_ok = 1; return 1;
    case 'D': *dry = 1; return 1;
    case 'o': *out = optarg; return 1;
    default: return 0;
    }
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
        case 't':
            if (tlp_arg("report build", optarg, &o.tlp))
                return LIA_EXIT_USAGE;
            break;
        case 'n':
            if (top_arg("report build", optarg, &o.top))
                return LIA_EXIT_USAGE;
            break;
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

static int sent_cb(void *ud, const lia_report_sent *r)
{
    int *failed = ud;
    printf("%s -> %s: %s%s%s\n", r->entry, r->address[0] ? r->address : "-", r->outcome, r->error ? ": " : "",
           r->error ? r->error : "");
    if (strcmp(r->outcome, "failed") == 0)
        *failed = 1;
    return 0;
}

static int report_send(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"period", required_argument, NULL, 'p'},   {"lang", required_argument, NULL, 'l'},
        {"tlp", required_argument, NULL, 't'},      {"format", required_argument, NULL, 'f'},
        {"top", required_argument, NULL, 'n'},      {"to", required_argument, NULL, 'T'},
        {"smtp", required_argument, NULL, 'S'},     {"from", required_argument, NULL, 'F'},
        {"sign-key", required_argument, NULL, 'K'}, {"unsigned", no_argument, NULL, 'U'},
        {"dry-run", no_argument, NULL, 'D'},        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    lia_report_opts o = {.tlp = LIA_TLP_AMBER};
    lia_report_send_opts so = {0};
    const char **to = NULL;
    const char *out = NULL;
    int dry = 0, failed = 0, ch, rc = LIA_EXIT_USAGE;
    lia_store *s;
    lia_error err;
    lia_error_clear(&err);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (send_opt(ch, &so, &dry, &out))
            continue;
        switch (ch) {
        case 'p': o.period = optarg; break;
        case 'l': o.lang = optarg; break;
        case 'f': o.format = optarg; break;
        case 'T':
            if (to_arg("report send", &to, &so.nto, optarg))
                goto out;
            break;
        case 't':
            if (tlp_arg("report send", optarg, &o.tlp))
                goto out;
            break;
        case 'n':
            if (top_arg("report send", optarg, &o.top))
                goto out;
            break;
        case 'h':
            report_usage(stdout);
            rc = LIA_EXIT_OK;
            goto out;
        default: cli_errorf("report send: bad option (see liaison report --help)"); goto out;
        }
    }
    if (optind < argc) {
        cli_errorf("report send: unexpected argument \"%s\" (see liaison report --help)", argv[optind]);
        goto out;
    }
    if (!o.period || !o.format || !so.nto || dry != !!out) {
        cli_errorf("report send: --period, --format and --to are required; --dry-run goes with --out DIR");
        goto out;
    }
    so.to = to;
    so.dry_run_dir = dry ? out : NULL;
    rc = LIA_EXIT_ERROR;
    if (cli_open_store(c, &s))
        goto out;
    if (lia_report_send(s, &o, &so, sent_cb, &failed, &err))
        cli_error(&err);
    else
        rc = failed ? LIA_EXIT_ERROR : LIA_EXIT_OK;
    lia_store_close(s);
out:
    free(to);
    return rc;
}

/* --first YYYY-MM into the time a schedule counts as made: the first of
 * the month after it, so that month's day (1-28) comes after; 1 after
 * printing why. */
static int first_arg(const char *v, int64_t *us)
{
    int y = 0, m = 0, ok = strlen(v) == 7 && v[4] == '-';
    for (int i = 0; ok && i < 7; i++)
        if (i != 4) {
            ok = v[i] >= '0' && v[i] <= '9';
            if (i < 4)
                y = y * 10 + (v[i] - '0');
            else
                m = m * 10 + (v[i] - '0');
        }
    if (!ok || y < 1970 || m < 1 || m > 12) {
        cli_errorf("report schedule add: --first %s: a month YYYY-MM", v);
        return 1;
    }
    struct tm tm = {.tm_year = y - 1900 + (m == 12), .tm_mon = m % 12, .tm_mday = 1};
    *us = (int64_t)timegm(&tm) * 1000000;
    return 0;
}

static int schedule_add(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 'T'},
        {"lang", required_argument, NULL, 'l'},
        {"tlp", required_argument, NULL, 't'},
        {"top", required_argument, NULL, 'n'},
        {"day", required_argument, NULL, 'd'},
        {"first", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lia_report_schedule sc = {.tlp = LIA_TLP_AMBER};
    const char **to = NULL;
    uint64_t v;
    int ch, rc = LIA_EXIT_USAGE;
    lia_store *s;
    lia_error err;
    lia_error_clear(&err);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': sc.format = optarg; break;
        case 'l': sc.lang = optarg; break;
        case 'T':
            if (to_arg("report schedule add", &to, &sc.nto, optarg))
                goto out;
            break;
        case 't':
            if (tlp_arg("report schedule add", optarg, &sc.tlp))
                goto out;
            break;
        case 'n':
            if (top_arg("report schedule add", optarg, &sc.top))
                goto out;
            break;
        case 'd':
            if (cli_parse_u64(optarg, &v) || v < 1 || v > 28) {
                cli_errorf("report schedule add: --day %s: a day of the month from 1 to 28", optarg);
                goto out;
            }
            sc.day = (int)v;
            break;
        case 'F':
            if (first_arg(optarg, &sc.created_us))
                goto out;
            break;
        case 'h':
            report_usage(stdout);
            rc = LIA_EXIT_OK;
            goto out;
        default: cli_errorf("report schedule add: bad option (see liaison report --help)"); goto out;
        }
    }
    if (optind + 1 != argc || !sc.format || !sc.nto) {
        cli_errorf("report schedule add: NAME, --format and --to are required (see liaison report --help)");
        goto out;
    }
    sc.name = argv[optind];
    sc.to = to;
    rc = LIA_EXIT_ERROR;
    if (cli_open_store(c, &s))
        goto out;
    if (lia_report_schedule_put(s, &sc, &err))
        cli_error(&err);
    else
        rc = LIA_EXIT_OK;
    lia_store_close(s);
out:
    free(to);
    return rc;
}

static int schedule_row(void *ud, const lia_report_schedule *sc, const char *last)
{
    (void)ud;
    printf("%s\t%s\t%s\tTLP:%s\tday %d\tlast %s\t", sc->name, sc->format, sc->lang, lia_tlp_name(sc->tlp),
           sc->day, last[0] ? last : "-");
    for (size_t i = 0; i < sc->nto; i++)
        printf("%s%s", i ? " " : "", sc->to[i]);
    printf("\n");
    return 0;
}

static int report_schedule(cli *c, int argc, char **argv)
{
    lia_store *s;
    lia_error err;
    int rc;
    const char *sub = argc > 1 ? argv[1] : "";
    if (strcmp(sub, "add") == 0)
        return schedule_add(c, argc - 1, argv + 1);
    if (!(strcmp(sub, "list") == 0 && argc == 2) && !(strcmp(sub, "remove") == 0 && argc == 3)) {
        cli_errorf("report schedule: add NAME ..., list, or remove NAME (see liaison report --help)");
        return LIA_EXIT_USAGE;
    }
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    lia_error_clear(&err);
    rc = strcmp(sub, "list") == 0 ? lia_report_schedule_list(s, schedule_row, NULL, &err)
                                  : lia_report_schedule_remove(s, argv[2], &err);
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}

static int due_cb(void *ud, const char *schedule, const char *period, const lia_report_sent *r)
{
    printf("%s %s: ", schedule, period);
    return sent_cb(ud, r);
}

static int report_run(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"now", required_argument, NULL, 'N'},
        {"smtp", required_argument, NULL, 'S'},
        {"from", required_argument, NULL, 'F'},
        {"sign-key", required_argument, NULL, 'K'},
        {"unsigned", no_argument, NULL, 'U'},
        {"dry-run", no_argument, NULL, 'D'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lia_report_send_opts so = {0};
    const char *out = NULL;
    int64_t now = 0;
    int dry = 0, failed = 0, ch, rc = LIA_EXIT_ERROR;
    lia_store *s;
    lia_error err;
    lia_error_clear(&err);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (send_opt(ch, &so, &dry, &out))
            continue;
        switch (ch) {
        case 'N':
            if (cli_parse_when(optarg, &now)) {
                cli_errorf("report run: --now %s: a date (2026-12-01) or RFC 3339 time", optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'h': report_usage(stdout); return LIA_EXIT_OK;
        default: cli_errorf("report run: bad option (see liaison report --help)"); return LIA_EXIT_USAGE;
        }
    }
    if (optind < argc || dry != !!out) {
        cli_errorf("report run: no arguments; --dry-run goes with --out DIR (see liaison report --help)");
        return LIA_EXIT_USAGE;
    }
    so.dry_run_dir = dry ? out : NULL;
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    if (lia_report_run_due(s, now, &so, due_cb, &failed, &err))
        cli_error(&err);
    else
        rc = failed ? LIA_EXIT_ERROR : LIA_EXIT_OK;
    lia_store_close(s);
    return rc;
}

int cmd_report(cli *c, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        report_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? LIA_EXIT_USAGE : LIA_EXIT_OK;
    }
    if (strcmp(argv[1], "build") == 0)
        return report_build(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "send") == 0)
        return report_send(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "schedule") == 0)
        return report_schedule(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return report_run(c, argc - 1, argv + 1);
    cli_errorf("report: unknown command \"%s\" (build, send, schedule, run)", argv[1]);
    return LIA_EXIT_USAGE;
}
