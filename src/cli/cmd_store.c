/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison store prune: retention (liaison/store.h, "retention";
 * docs/store.md). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void store_usage(FILE *f)
{
    fprintf(f,
            "usage: liaison [--db PATH] store prune [--older-than AGE|DATE] [--feed NAME] [--class CLASS]\n"
            "                                   [--apply-retention] [--dry-run]\n"
            "\n"
            "Remove the reports received before a cutoff, with their events, quarantined rows,\n"
            "route decisions, dedup state, notification links and archived raw copies; an\n"
            "incident keeps a copy of each event it links. A report still being ingested is\n"
            "never removed. Each transaction is audit-logged (action prune). On SQLite, a time\n"
            "partition all of whose events go is dropped whole (\"partitions\" in the output).\n"
            "\n"
            "  --older-than AGE|DATE  received before now - AGE (36h, 180d, 12w) or before DATE\n"
            "                         (2026-06-01, UTC; or an RFC 3339 time)\n"
            "  --feed NAME            only that feed's reports (with --older-than)\n"
            "  --class CLASS          only the events of that RSIT taxonomy or type, the\n"
            "                         reports and their archives staying (with --older-than)\n"
            "  --apply-retention      also the retention settings: each feed's (liaison feeds\n"
            "                         set NAME --retention AGE) and each classification's\n"
            "                         ([retention] in STORE.conf); the default without\n"
            "                         --older-than\n"
            "  --dry-run              say what would be removed; remove nothing\n");
}

static void bytes_text(uint64_t b, char *out, size_t n)
{
    if (b >= (uint64_t)1 << 30)
        snprintf(out, n, "%.1f GiB", (double)b / (double)((uint64_t)1 << 30));
    else if (b >= (uint64_t)1 << 20)
        snprintf(out, n, "%.1f MiB", (double)b / (double)((uint64_t)1 << 20));
    else if (b >= 1024)
        snprintf(out, n, "%.1f KiB", (double)b / 1024.0);
    else
        snprintf(out, n, "%llu bytes", (unsigned long long)b);
}

static void print_rules(const lia_prune_rule *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char t[LIA_TIME_TEXT];
        lia_time_format(r[i].before_us, t, sizeof t);
        printf("  rule: %s of %s%s received before %s\n", r[i].classification ? "events" : "reports",
               r[i].feed ? "feed " : "every feed", r[i].feed ? r[i].feed : "", t);
        if (r[i].classification)
            printf("        (classification %s)\n", r[i].classification);
    }
}

static int do_prune(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"older-than", required_argument, NULL, 'o'},
        {"feed", required_argument, NULL, 'f'},
        {"class", required_argument, NULL, 'k'},
        {"apply-retention", no_argument, NULL, 'r'},
        {"dry-run", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *older = NULL, *feed = NULL, *cls = NULL;
    int dry = 0, retention = 0, ch, rc, exitc = LIA_EXIT_OK;
    lia_prune_rule *rules = NULL, *all = NULL;
    size_t nrules = 0, nall = 0;
    int64_t now = (int64_t)time(NULL) * 1000000, cutoff;
    lia_prune_result res;
    lia_store *s = NULL;
    lia_error err;
    char sz[32];
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': older = optarg; break;
        case 'f': feed = optarg; break;
        case 'k': cls = optarg; break;
        case 'r': retention = 1; break;
        case 'n': dry = 1; break;
        case 'h': store_usage(stdout); return LIA_EXIT_OK;
        default: store_usage(stderr); return LIA_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("store prune: unexpected argument %s (see liaison store prune --help)", argv[optind]);
        return LIA_EXIT_USAGE;
    }
    if (!older && (feed || cls)) {
        cli_errorf(
            "store prune: --feed and --class narrow --older-than; give --older-than AGE (180d) or DATE");
        return LIA_EXIT_USAGE;
    }
    if (!older)
        retention = 1;
    lia_error_clear(&err);
    if (older && (rc = lia_prune_cutoff("--older-than", older, now, &cutoff, &err))) {
        cli_error(&err);
        return LIA_EXIT_USAGE;
    }
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    if (retention && (rc = lia_retention_rules(s, now, &rules, &nrules, &err)))
        goto fail;
    if (!older && nrules == 0) {
        cli_errorf("store prune: no retention is set: give --older-than AGE (180d) or DATE, or set one "
                   "(liaison feeds set NAME --retention 90d; [retention] in STORE.conf)");
        lia_store_close(s);
        return LIA_EXIT_USAGE;
    }
    nall = nrules + (older ? 1 : 0);
    if (!(all = calloc(nall, sizeof *all))) {
        rc = lia_error_set(&err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto fail;
    }
    if (older)
        all[0] = (lia_prune_rule){feed, cls, cutoff};
    if (nrules)
        memcpy(all + (older ? 1 : 0), rules, nrules * sizeof *rules);
    if ((rc = lia_store_prune(s, all, nall, dry, &res, &err)))
        goto fail;
    bytes_text(res.archive_bytes, sz, sizeof sz);
    printf("%s:\n", dry ? "would remove (dry run, nothing removed)" : "removed");
    print_rules(all, nall);
    printf("  reports            %llu\n"
           "  events             %llu\n"
           "  quarantined rows   %llu\n"
           "  route decisions    %llu\n"
           "  dedup aggregates   %llu\n"
           "  notification links %llu\n"
           "  incident copies    %llu (events linked to an incident, kept there)\n"
           "  archives           %llu (%s freed)\n",
           (unsigned long long)res.reports, (unsigned long long)res.events,
           (unsigned long long)res.quarantined, (unsigned long long)res.decisions,
           (unsigned long long)res.dedup, (unsigned long long)res.notifications,
           (unsigned long long)res.incident_copies, (unsigned long long)res.archives, sz);
    if (res.leftovers)
        printf("  (of them %llu left by an interrupted prune)\n", (unsigned long long)res.leftovers);
    if (res.partitions)
        printf("  partitions         %llu (dropped whole; their events are counted above)\n",
               (unsigned long long)res.partitions);
    goto out;
fail:
    cli_error(&err);
    exitc = rc == LIA_EINVAL ? LIA_EXIT_USAGE : LIA_EXIT_ERROR;
out:
    free(all);
    lia_retention_free(rules, nrules);
    lia_store_close(s);
    return exitc;
}

int cmd_store(cli *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        store_usage(sub ? stdout : stderr);
        return sub ? LIA_EXIT_OK : LIA_EXIT_USAGE;
    }
    if (strcmp(sub, "prune") == 0)
        return do_prune(c, argc - 1, argv + 1);
    cli_errorf("store: unknown command '%s' (store prune; see liaison store --help)", sub);
    return LIA_EXIT_USAGE;
}
