/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison sla breaches: hand-offs past their acknowledge or resolve target,
 * counted in each recipient's business hours and time zone. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void sla_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] sla breaches [--at TIME] [--format table|json]\n"
               "\n"
               "Hand-offs whose clock is past its target: acknowledge (from notified) and\n"
               "resolve (from acknowledged), in business hours (Monday to Friday 09:00-17:00)\n"
               "of the partner's time zone from the directory (UTC for owners), paused while\n"
               "the incident waits on us (incident update --waiting on).\n"
               "Targets (business hours, acknowledge / resolve): critical 1 / 8, high 4 / 24,\n"
               "medium 8 / 80, low 24 / 240.\n"
               "  --at TIME   look at the clocks at TIME (RFC 3339) instead of now\n");
}

typedef struct ctx {
    int json, n;
} ctx;

static int print_breach(void *ud, const lia_sla_breach *b)
{
    ctx *c = ud;
    char due[LIA_TIME_TEXT] = "paused";
    if (b->due_us != INT64_MAX)
        lia_time_format(b->due_us, due, sizeof due);
    if (c->json)
        printf("%s{\"incident\":%lld,\"recipient\":\"%s\",\"clock\":\"%s\",\"severity\":\"%s\","
               "\"target_s\":%lld,\"used_s\":%lld,\"due\":\"%s\",\"tz\":\"%s\"}",
               c->n ? "," : "", (long long)b->incident, b->recipient, b->clock,
               lia_severity_name(b->severity), (long long)b->target, (long long)b->used, due, b->tz);
    else
        printf("%6lld  %-24s %-12s %-8s due %-25s used %lldh%02lldm of %lldh (%s)\n", (long long)b->incident,
               b->recipient, b->clock, lia_severity_name(b->severity), due, (long long)(b->used / 3600),
               (long long)(b->used % 3600 / 60), (long long)(b->target / 3600), b->tz);
    c->n++;
    return 0;
}

int cmd_sla(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"at", required_argument, NULL, 'a'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int64_t at = (int64_t)time(NULL) * 1000000;
    ctx cx = {0, 0};
    lia_store *s;
    lia_error err;
    int ch, rc;
    const char *why = NULL;
    lia_error_clear(&err);
    if (argc < 2 || strcmp(argv[1], "breaches") != 0) {
        int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        sla_usage(help ? stdout : stderr);
        return help ? LIA_EXIT_OK : LIA_EXIT_USAGE;
    }
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'a':
            if (lia_parse_time(optarg, strlen(optarg), &at, &why)) {
                cli_errorf("sla breaches: --at %s: %s", optarg, why ? why : "not a time");
                return LIA_EXIT_USAGE;
            }
            break;
        case 'f':
            if (cli_format_arg("sla", optarg, &cx.json))
                return LIA_EXIT_USAGE;
            break;
        case 'h': sla_usage(stdout); return LIA_EXIT_OK;
        default: cli_errorf("sla breaches: bad option (see liaison sla --help)"); return LIA_EXIT_USAGE;
        }
    }
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    if (cx.json)
        printf("[");
    rc = lia_sla_breaches(s, at, NULL, print_breach, &cx, &err);
    if (cx.json)
        printf("]\n");
    else if (rc == LIA_OK && cx.n == 0)
        printf("no SLA breaches\n");
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}
