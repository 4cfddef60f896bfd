/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison store prune: retention (liaison/store.h, "retention";
 * docs/store.md). liaison store copy: a whole store into another
 * (liaison/store.h, "copying a whole store"; docs/store.md). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
            "  --dry-run              say what would be removed; remove nothing\n"
            "\n"
            "usage: liaison store copy [--batch N] [-q] SRC DST\n"
            "\n"
            "Copy the whole store SRC into DST (each a SQLite file or a postgresql:// URI, as\n"
            "--db takes): every module's tables, the events into DST's own partitions, the\n"
            "archived raw reports, and beside the store its audit key and configuration file\n"
            "when DST has none. DST must be empty (a new file or database) or a copy of SRC\n"
            "begun before: an interrupted copy run again continues where it stopped and\n"
            "stores nothing twice. At the end every table's rows are counted on both sides;\n"
            "a difference fails naming the table. Do not write to SRC while it is copied.\n"
            "\n"
            "  --batch N              rows per transaction (default 5000)\n"
            "  -q, --quiet            no progress on stderr\n");
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

typedef struct copy_ui {
    int quiet; /* no progress line (asked, or stderr not a terminal) */
    int shown; /* a progress line is on stderr */
    int counted;
    time_t last;
} copy_ui;

static void clear_line(copy_ui *u)
{
    if (u->shown)
        fprintf(stderr, "\r\033[K");
    u->shown = 0;
}

static void on_progress(void *ud, const char *table, uint64_t rows, int done)
{
    copy_ui *u = ud;
    time_t now = time(NULL);
    if (done) {
        clear_line(u);
        printf("  %-28s %12llu rows copied\n", table, (unsigned long long)rows);
        fflush(stdout);
    } else if (!u->quiet && now != u->last) {
        fprintf(stderr, "\r\033[K  %s: %llu rows...", table, (unsigned long long)rows);
        u->last = now;
        u->shown = 1;
    }
}

static void on_count(void *ud, const char *table, uint64_t a, uint64_t b)
{
    copy_ui *u = ud;
    if (!u->counted++)
        printf("rows counted:                      source  destination\n");
    printf("  %-28s %12llu %12llu  %s\n", table, (unsigned long long)a, (unsigned long long)b,
           a == b ? "ok" : "DIFFERENT");
}

static void on_note(void *ud, const char *text)
{
    (void)ud;
    fprintf(stderr, "liaison: store copy: %s\n", text);
}

/* A file beside the store (its audit key, its configuration) into DST's
 * place when DST has none; the same file or the same bytes: nothing. */
static int copy_beside(const char *what, const char *from, const char *to)
{
    lia_buf a, b;
    struct stat sf, st;
    int fd, rc = 0;
    if (stat(from, &sf) != 0)
        return 0; /* SRC has none */
    if (stat(to, &st) == 0) {
        if (sf.st_dev == st.st_dev && sf.st_ino == st.st_ino)
            return 0;
        lia_buf_init(&a, (size_t)16 << 20);
        lia_buf_init(&b, (size_t)16 << 20);
        if (!cli_read_file(from, (size_t)16 << 20, &a) && !cli_read_file(to, (size_t)16 << 20, &b) &&
            (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0))
            fprintf(stderr, "liaison: store copy: %s %s differs from the source's %s: kept as it is\n", what,
                    to, from);
        lia_buf_free(&a);
        lia_buf_free(&b);
        return 0;
    }
    lia_buf_init(&a, (size_t)16 << 20);
    if (cli_read_file(from, (size_t)16 << 20, &a)) {
        lia_buf_free(&a);
        return -1;
    }
    if ((fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, sf.st_mode & 0777)) < 0 ||
        write(fd, a.ptr, a.len) != (ssize_t)a.len || fsync(fd) != 0) {
        cli_errorf("store copy: writing %s %s: %s", what, to, strerror(errno));
        rc = -1;
    }
    if (fd >= 0 && close(fd) != 0 && rc == 0) {
        cli_errorf("store copy: writing %s %s: %s", what, to, strerror(errno));
        rc = -1;
    }
    if (rc == 0)
        printf("  %s %s copied to %s\n", what, from, to);
    lia_buf_free(&a);
    return rc;
}

static int do_copy(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"batch", required_argument, NULL, 'b'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    copy_ui u = {0};
    lia_copy_opts o = {.progress = on_progress, .count = on_count, .note = on_note, .ud = &u};
    lia_copy_result res;
    lia_error err;
    uint64_t batch = 0;
    struct timespec t0, t1;
    char kf[1024], kt[1024], cf[LIA_PATH_MAX], ct[LIA_PATH_MAX];
    cli cs = *c, cd = *c;
    double secs;
    int ch, rc;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            if (cli_parse_u64(optarg, &batch) || batch == 0 || batch > 1000000) {
                cli_errorf("store copy: --batch %s: a number of rows from 1 to 1000000", optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'q': u.quiet = 1; break;
        case 'h': store_usage(stdout); return LIA_EXIT_OK;
        default: store_usage(stderr); return LIA_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        cli_errorf("store copy: give SRC and DST (see liaison store copy --help)");
        return LIA_EXIT_USAGE;
    }
    o.batch = (size_t)batch;
    u.quiet |= !isatty(2);
    cs.db = argv[optind];
    cd.db = argv[optind + 1];
    lia_error_clear(&err);
    printf("copying %s into %s\n", cs.db, cd.db);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = lia_store_copy(cs.db, cd.db, &o, &res, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clear_line(&u);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc) {
        cli_error(&err);
        if (res.rows)
            fprintf(stderr,
                    "liaison: store copy: %llu rows stored by this run are kept: run the same copy again"
                    " to go on\n",
                    (unsigned long long)res.rows);
        return rc == LIA_EINVAL ? LIA_EXIT_USAGE : LIA_EXIT_ERROR;
    }
    cli_audit_key_path(&cs, NULL, kf, sizeof kf);
    cli_audit_key_path(&cd, NULL, kt, sizeof kt);
    if (copy_beside("audit key", kf, kt))
        return LIA_EXIT_ERROR;
    if (lia_enrich_conf_path(cs.db, cf, sizeof cf, &err) == LIA_OK &&
        lia_enrich_conf_path(cd.db, ct, sizeof ct, &err) == LIA_OK && copy_beside("configuration", cf, ct))
        return LIA_EXIT_ERROR;
    printf("%s: %zu tables, %llu rows (%llu stored by this run, %.0f rows/s), %llu archives copied, %.1f s;"
           " counts checked\n",
           res.resumed ? "copy resumed and complete" : "copy complete", res.tables,
           (unsigned long long)res.total, (unsigned long long)res.rows,
           secs > 0 ? (double)res.rows / secs : 0.0, (unsigned long long)res.archives, secs);
    return LIA_EXIT_OK;
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
    if (strcmp(sub, "copy") == 0)
        return do_copy(c, argc - 1, argv + 1);
    cli_errorf("store: unknown command '%s' (store prune, store copy; see liaison store --help)", sub);
    return LIA_EXIT_USAGE;
}
