/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison sla breaches: hand-offs past their acknowledge or resolve target,
 * counted in each recipient's business hours and time zone; liaison sla
 * run: the reminders and escalations that follow from them. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liaison/notify.h"

#include "cli.h"

static void sla_usage(FILE *f)
{
    fprintf(f,
            "usage: liaison [--db PATH] sla breaches [--at TIME] [--format table|json]\n"
            "       liaison [--db PATH] sla run [--at TIME] [--remind-at FRACTION] [--dry-run [--out DIR]]\n"
            "               [--smtp URL] [--from ADDR] [--escalate-to ADDR] [--sign-key FPR] [--unsigned]\n"
            "\n"
            "sla run: a reminder to the recipient's first contact once FRACTION (0.75) of\n"
            "a clock's target is used; once breached, an escalation to its second contact,\n"
            "or to our own team (--escalate-to, escalate_to, else mail_from). Each once per\n"
            "hand-off and clock; --dry-run --out DIR writes the messages there instead.\n"
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

typedef struct run_ctx {
    const char *outdir;
    int n, failed, wrote_bad;
} run_ctx;

static int print_notice(void *ud, const lia_sla_notice *n)
{
    run_ctx *c = ud;
    char due[LIA_TIME_TEXT];
    lia_time_format(n->due_us, due, sizeof due);
    printf("%-10s LIAISON#%lld %-24s %-11s due %.16s -> %s: %s%s%s\n", n->kind, (long long)n->incident,
           n->recipient, n->clock, due, n->to[0] ? n->to : "(no address)", n->outcome, n->error ? ": " : "",
           n->error ? n->error : "");
    if (strcmp(n->outcome, "failed") == 0)
        c->failed++;
    if (n->message && c->outdir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s-%lld-%s-%s.eml", c->outdir, n->kind, (long long)n->incident,
                 n->recipient, n->clock);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(n->message, 1, n->message_len, f) != n->message_len) {
            cli_errorf("sla run: %s: %s", path, strerror(errno));
            c->wrote_bad++;
        }
        if (f && fclose(f) != 0 && !c->wrote_bad++)
            cli_errorf("sla run: %s: %s", path, strerror(errno));
    }
    c->n++;
    return 0;
}

static int sla_run(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"at", required_argument, NULL, 'a'},
        {"remind-at", required_argument, NULL, 'r'},
        {"dry-run", no_argument, NULL, 'n'},
        {"out", required_argument, NULL, 'o'},
        {"smtp", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'F'},
        {"escalate-to", required_argument, NULL, 'e'},
        {"sign-key", required_argument, NULL, 'k'},
        {"unsigned", no_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lia_sla_run_opts o;
    run_ctx rc_ = {0};
    lia_store *s;
    lia_error err;
    const char *why = NULL;
    char *end;
    int ch, rc;
    memset(&o, 0, sizeof o);
    lia_error_clear(&err);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'a':
            if (lia_parse_time(optarg, strlen(optarg), &o.now_us, &why)) {
                cli_errorf("sla run: --at %s: %s", optarg, why ? why : "not a time");
                return LIA_EXIT_USAGE;
            }
            break;
        case 'r':
            o.remind_at = strtod(optarg, &end);
            if (*end || !(o.remind_at > 0 && o.remind_at < 1)) {
                cli_errorf("sla run: --remind-at %s: a fraction between 0 and 1 (0.75: a quarter left)",
                           optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'n': o.dry_run = 1; break;
        case 'o': rc_.outdir = optarg; break;
        case 's': o.smtp_url = optarg; break;
        case 'F': o.mail_from = optarg; break;
        case 'e': o.escalate_to = optarg; break;
        case 'k': o.sign_key = optarg; break;
        case 'u': o.unsigned_ok = 1; break;
        case 'h': sla_usage(stdout); return LIA_EXIT_OK;
        default:
            cli_errorf("sla run: bad option %s (see liaison sla --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("sla run: unexpected argument \"%s\"", argv[optind]);
        return LIA_EXIT_USAGE;
    }
    if (rc_.outdir && !o.dry_run) {
        cli_errorf("sla run: --out goes with --dry-run (the messages are written instead of sent)");
        return LIA_EXIT_USAGE;
    }
    if (rc_.outdir && access(rc_.outdir, W_OK | X_OK) != 0) {
        cli_errorf("sla run: --out %s: %s; nothing built or recorded", rc_.outdir, strerror(errno));
        return LIA_EXIT_ERROR;
    }
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    rc = lia_sla_run(s, &o, print_notice, &rc_, &err);
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (rc_.n == 0)
        printf("no reminders or escalations due\n");
    return rc_.failed || rc_.wrote_bad ? LIA_EXIT_ERROR : LIA_EXIT_OK;
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
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return sla_run(c, argc - 1, argv + 1);
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
