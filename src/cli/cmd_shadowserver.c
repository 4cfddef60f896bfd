/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison shadowserver reports | detect FILE... | schema-update FILE */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] shadowserver reports\n"
               "       liaison [--db PATH] shadowserver detect FILE...\n"
               "       liaison [--db PATH] shadowserver schema-update FILE\n"
               "\n"
               "Shadowserver reports are read by one engine driven by Shadowserver's report\n"
               "schema (the copy built in, or the one installed for the store).\n"
               "\n"
               "  reports             list the known report types: name, feed name, classification\n"
               "  detect FILE...      which report type each file is (from its name) and\n"
               "                      whether its header has the columns that type needs\n"
               "  schema-update FILE  validate a newer schema (e.g. downloaded from\n"
               "                      https://interchange.shadowserver.org/intelmq/v1/schema)\n"
               "                      and install it next to the store (STORE.schema/shadowserver.json);\n"
               "                      it is then used instead of the built-in one\n");
}

/* The schema in use for this store: installed one, else built-in. */
static int load_schema(cli *c, lia_ss_schema **s, char *path, size_t n)
{
    lia_error err;
    int have = lia_shadowserver_installed(c->db, path, n);
    lia_error_clear(&err);
    if (lia_shadowserver_load(have == 1 ? path : NULL, s, &err)) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (have != 1)
        snprintf(path, n, "(built-in)");
    return LIA_EXIT_OK;
}

int cli_shadowserver_opts(cli *c, lia_feed_opts *fo, const char *path, char *buf, size_t n)
{
    lia_ss_schema *s;
    lia_error err;
    lia_ss_report_info ri;
    int idx;
    if (!fo->map_path && lia_shadowserver_installed(c->db, buf, n) == 1)
        fo->map_path = buf;
    if (!fo->report_name && strcmp(path, "-") != 0) {
        const char *b = strrchr(path, '/');
        fo->report_name = b ? b + 1 : path;
    }
    if (fo->feed && *fo->feed)
        return LIA_EXIT_OK;
    /* No --feed: the report's feed name. The strings must outlive s. */
    lia_error_clear(&err);
    if (lia_shadowserver_load(fo->map_path, &s, &err)) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (fo->subtype && *fo->subtype)
        idx = lia_shadowserver_find(s, fo->subtype);
    else if (fo->report_name)
        idx = lia_shadowserver_detect(s, fo->report_name, &err);
    else
        idx = -1;
    if (idx < 0) {
        lia_shadowserver_free(s);
        if (err.code)
            cli_error(&err);
        else if (fo->subtype && *fo->subtype)
            cli_errorf("ingest: unknown Shadowserver report type '%s' (see liaison shadowserver reports)",
                       fo->subtype);
        else
            cli_errorf("ingest: standard input: give the Shadowserver report type (--report TYPE) or its file name (--name FILE)");
        return LIA_EXIT_USAGE;
    }
    lia_shadowserver_report(s, (size_t)idx, &ri);
    {
        static char feed[256];
        snprintf(feed, sizeof feed, "%s", ri.feed_name);
        fo->feed = feed;
    }
    lia_shadowserver_free(s);
    return LIA_EXIT_OK;
}

static int cmd_reports(cli *c)
{
    lia_ss_schema *s;
    char path[4096];
    int rc;
    if ((rc = load_schema(c, &s, path, sizeof path)))
        return rc;
    size_t nretired = 0;
    for (size_t i = 0; i < lia_shadowserver_count(s); i++) {
        lia_ss_report_info ri;
        lia_shadowserver_report(s, i, &ri);
        nretired += ri.retired != 0;
    }
    printf("schema %s, %s%s%zu report types, and %zu retired ones (RETIRED) still read from archived "
           "reports\n\n",
           path, lia_shadowserver_date(s), *lia_shadowserver_date(s) ? ", " : "",
           lia_shadowserver_count(s) - nretired, nretired);
    printf("%-34s %-40s %s\n", "REPORT", "FEED NAME", "CLASSIFICATION (taxonomy/type)");
    for (size_t i = 0; i < lia_shadowserver_count(s); i++) {
        lia_ss_report_info ri;
        lia_shadowserver_report(s, i, &ri);
        printf("%-34s %-40s %s/%s%s%s%s\n", ri.name, ri.feed_name, *ri.taxonomy ? ri.taxonomy : "-",
               *ri.type ? ri.type : "(from the row)", ri.retired ? "  RETIRED" : "",
               *ri.problem ? "  UNUSABLE: " : "", ri.problem);
    }
    lia_shadowserver_free(s);
    return LIA_EXIT_OK;
}

/* The first line of a file, split as CSV. */
typedef struct first_line {
    char **names;
    size_t n;
    int done;
} first_line;

static int on_first(void *ud, const lia_csv_row *row)
{
    first_line *fl = ud;
    fl->done = 1;
    if (row->err)
        return 1;
    fl->names = calloc(row->nfields + 1, sizeof *fl->names);
    if (!fl->names)
        return 1;
    for (size_t i = 0; i < row->nfields; i++) {
        lia_slice t = lia_slice_trim(row->fields[i]);
        fl->names[i] = strndup(t.ptr ? t.ptr : "", t.len);
        if (!fl->names[i])
            return 1;
        fl->n = i + 1;
    }
    return 1;
}

static void check_header(const char *file, const lia_ss_schema *s, int idx)
{
    FILE *f = fopen(file, "rb");
    char buf[65536];
    size_t got;
    lia_csv *csv = NULL;
    first_line fl = {0};
    if (!f) {
        printf("  (file not readable: header not checked)\n");
        return;
    }
    got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (lia_csv_create(NULL, &csv) == LIA_OK) {
        lia_csv_feed(csv, buf, got, on_first, &fl);
        if (!fl.done)
            lia_csv_finish(csv, on_first, &fl);
        lia_csv_destroy(csv);
    }
    if (!fl.names) {
        printf("  header: none readable\n");
    } else {
        lia_ss_report_info ri;
        size_t nopt_missing = 0, nunknown = 0;
        int req, first = 1;
        lia_shadowserver_report(s, (size_t)idx, &ri);
        printf("  header: %zu columns", fl.n);
        for (size_t j = 0; j < ri.nrequired + ri.noptional; j++) {
            const char *cn = lia_shadowserver_column(s, (size_t)idx, j, &req);
            size_t k;
            for (k = 0; k < fl.n && strcmp(fl.names[k], cn) != 0; k++)
                ;
            if (k < fl.n)
                continue;
            if (req) {
                printf("%s%s", first ? "; REQUIRED COLUMNS MISSING: " : ", ", cn);
                first = 0;
            } else {
                nopt_missing++;
            }
        }
        for (size_t k = 0; k < fl.n; k++) {
            size_t j;
            for (j = 0; j < ri.nrequired + ri.noptional; j++)
                if (strcmp(fl.names[k], lia_shadowserver_column(s, (size_t)idx, j, &req)) == 0)
                    break;
            nunknown += j == ri.nrequired + ri.noptional;
        }
        printf("%s; %zu optional columns absent; %zu columns not in the schema (kept as extra.*)\n",
               first ? "; all required columns present" : "", nopt_missing, nunknown);
    }
    for (size_t i = 0; i < fl.n; i++)
        free(fl.names[i]);
    free(fl.names);
}

static int cmd_detect(cli *c, int argc, char **argv)
{
    lia_ss_schema *s;
    char path[4096];
    int rc, bad = 0;
    if (argc < 1) {
        cli_errorf("shadowserver detect: FILE expected");
        return LIA_EXIT_USAGE;
    }
    if ((rc = load_schema(c, &s, path, sizeof path)))
        return rc;
    for (int i = 0; i < argc; i++) {
        lia_error err;
        lia_ss_report_info ri;
        int idx;
        lia_error_clear(&err);
        idx = lia_shadowserver_detect(s, argv[i], &err);
        if (idx < 0) {
            cli_error(&err);
            bad = 1;
            continue;
        }
        lia_shadowserver_report(s, (size_t)idx, &ri);
        printf("%s: %s (feed %s, %s/%s, %zu required and %zu optional columns)\n", argv[i], ri.name,
               ri.feed_name, *ri.taxonomy ? ri.taxonomy : "-", *ri.type ? ri.type : "-", ri.nrequired,
               ri.noptional);
        check_header(argv[i], s, idx);
    }
    lia_shadowserver_free(s);
    return bad ? LIA_EXIT_ERROR : LIA_EXIT_OK;
}

static int cmd_update(cli *c, int argc, char **argv)
{
    lia_error err;
    size_t n = 0, unusable = 0;
    char dst[4096];
    if (argc != 1) {
        cli_errorf("shadowserver schema-update: exactly one FILE expected");
        return LIA_EXIT_USAGE;
    }
    lia_error_clear(&err);
    if (lia_shadowserver_install(c->db, argv[0], &n, &unusable, &err)) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    lia_shadowserver_installed(c->db, dst, sizeof dst);
    printf("schema %s installed as %s: %zu report types\n", argv[0], dst, n);
    if (unusable) {
        lia_ss_schema *s;
        printf("warning: %zu report type(s) cannot be read with this Liaison:\n", unusable);
        if (lia_shadowserver_load(dst, &s, &err) == LIA_OK) {
            for (size_t i = 0; i < lia_shadowserver_count(s); i++) {
                lia_ss_report_info ri;
                lia_shadowserver_report(s, i, &ri);
                if (*ri.problem)
                    printf("  %s: %s\n", ri.name, ri.problem);
            }
            lia_shadowserver_free(s);
        }
    }
    return LIA_EXIT_OK;
}

int cmd_shadowserver(cli *c, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? LIA_EXIT_USAGE : LIA_EXIT_OK;
    }
    if (strcmp(argv[1], "reports") == 0 && argc == 2)
        return cmd_reports(c);
    if (strcmp(argv[1], "detect") == 0)
        return cmd_detect(c, argc - 2, argv + 2);
    if (strcmp(argv[1], "schema-update") == 0)
        return cmd_update(c, argc - 2, argv + 2);
    cli_errorf("shadowserver: unknown subcommand '%s' (see liaison shadowserver --help)", argv[1]);
    return LIA_EXIT_USAGE;
}
