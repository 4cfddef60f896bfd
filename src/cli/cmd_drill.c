/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison drill: cross-border drills from a scenario file (docs/drills.md):
 * run, tick, status, list, stop, report, delete, check. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/drill.h"

#include "cli.h"

static void drill_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] drill check FILE\n"
               "       liaison [--db PATH] drill run FILE [--at TIME] [SEND OPTIONS]\n"
               "       liaison [--db PATH] drill tick [ID] [--at TIME] [SEND OPTIONS]\n"
               "       liaison [--db PATH] drill status ID | list [--at TIME] [--format table|json]\n"
               "       liaison [--db PATH] drill report ID [--at TIME] [--format table|json]\n"
               "       liaison [--db PATH] drill stop ID | delete ID\n"
               "\n"
               "A drill sends the injects of a scenario (YAML: name, participants, injects\n"
               "with an offset, each with expected answers, scores and expiries) to each\n"
               "participant through its real channel: its Liaison node (sent by node sync),\n"
               "else e-mail to its first contact (or email: channel), else the API.\n"
               "Everything is marked [DRILL] and kept out of statistics, reports, SLA\n"
               "breaches and sharing.\n"
               "  check   read the scenario and say what is wrong (line, column), store nothing\n"
               "  run     create the drill (starting now, or --at) and send what is due\n"
               "  tick    send what is due of every running drill (or of ID); run it from cron:\n"
               "          an inject is sent once, however often tick runs\n"
               "  status  the drill and, per participant and inject, sent / answered\n"
               "  report  per participant, inject and expectation: sent, acknowledged after,\n"
               "          resolved after, verdict, score; totals, ranked only if the scenario\n"
               "          says rank: true\n"
               "  stop    send no more injects; answers after now do not score\n"
               "  delete  remove the drill and everything it made (incidents, hand-offs, ...)\n"
               "Send options: --smtp URL  --from ADDR  --sign-key FPR  --unsigned\n"
               "  --at TIME  act as at TIME (RFC 3339) instead of now\n");
}

typedef struct args {
    lia_drill_opts o;
    int json;
    const char *pos[2];
    int npos;
} args;

static int parse(const char *cmd, int argc, char **argv, args *a)
{
    static const struct option opts[] = {
        {"at", required_argument, NULL, 'a'},       {"format", required_argument, NULL, 'f'},
        {"smtp", required_argument, NULL, 's'},     {"from", required_argument, NULL, 'F'},
        {"sign-key", required_argument, NULL, 'k'}, {"unsigned", no_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *why = NULL;
    int ch;
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'a':
            if (lia_parse_time(optarg, strlen(optarg), &a->o.now_us, &why)) {
                cli_errorf("drill %s: --at %s: %s", cmd, optarg, why ? why : "not a time");
                return LIA_EXIT_USAGE;
            }
            break;
        case 'f':
            if (cli_format_arg("drill", optarg, &a->json))
                return LIA_EXIT_USAGE;
            break;
        case 's': a->o.smtp_url = optarg; break;
        case 'F': a->o.mail_from = optarg; break;
        case 'k': a->o.sign_key = optarg; break;
        case 'u': a->o.unsigned_ok = 1; break;
        case 'h': drill_usage(stdout); return -1;
        default:
            cli_errorf("drill %s: bad option %s (see liaison drill --help)", cmd, argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    for (; optind < argc; optind++) {
        if (a->npos == 2) {
            cli_errorf("drill %s: unexpected argument \"%s\"", cmd, argv[optind]);
            return LIA_EXIT_USAGE;
        }
        a->pos[a->npos++] = argv[optind];
    }
    return 0;
}

static int drill_id(const char *cmd, const args *a, int required, int64_t *id)
{
    uint64_t v;
    *id = 0;
    if (a->npos == 0 && !required)
        return 0;
    if (a->npos != 1 || cli_parse_u64(a->pos[0], &v) || v == 0 || v > INT64_MAX) {
        cli_errorf("drill %s: %s", cmd,
                   a->npos ? "a drill id is a number (see liaison drill list)"
                           : "which drill? (liaison drill list)");
        return LIA_EXIT_USAGE;
    }
    *id = (int64_t)v;
    return 0;
}

static int print_sent(void *ud, const lia_drill_sent *x)
{
    int *failed = ud;
    printf("drill %lld  %-16s %-24s incident %-6lld %-6s %s%s%s\n", (long long)x->drill, x->inject,
           x->participant, (long long)x->incident, x->channel, x->outcome, x->error ? ": " : "",
           x->error ? x->error : "");
    if (strcmp(x->outcome, "failed") == 0)
        ++*failed;
    return 0;
}

static int tick(lia_store *s, int64_t id, const args *a)
{
    lia_error err;
    int failed = 0, rc;
    lia_error_clear(&err);
    rc = lia_drill_tick(s, id, &a->o, print_sent, &failed, &err);
    if (rc && rc != LIA_ENET) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (rc == LIA_ENET)
        cli_error(&err);
    return failed || rc ? LIA_EXIT_ERROR : LIA_EXIT_OK;
}

static void when(int64_t us, char *out, size_t n)
{
    if (us > 0)
        lia_time_format(us, out, n);
    else
        snprintf(out, n, "-");
}

typedef struct list_ctx {
    int json, n;
} list_ctx;

static int print_info(void *ud, const lia_drill_info *d)
{
    list_ctx *c = ud;
    char st[LIA_TIME_TEXT], sp[LIA_TIME_TEXT];
    when(d->started_us, st, sizeof st);
    when(d->stopped_us, sp, sizeof sp);
    if (c->json) {
        lia_buf b;
        lia_buf_init(&b, 8192);
        lia_buf_json_str(&b, d->name, strlen(d->name));
        printf("%s{\"id\":%lld,\"name\":%s,\"state\":\"%s\",\"started\":\"%s\",\"stopped\":%s%s%s,"
               "\"participants\":%zu,\"injects\":%zu,\"sent\":%zu,\"rank\":%s}",
               c->n ? "," : "", (long long)d->id, lia_buf_cstr(&b), d->state, st, d->stopped_us ? "\"" : "",
               d->stopped_us ? sp : "null", d->stopped_us ? "\"" : "", d->participants, d->injects, d->sent,
               d->rank ? "true" : "false");
        lia_buf_free(&b);
    } else {
        printf("%4lld  %-9s %-32s started %.19s  %zu participants, %zu injects, %zu of %zu sent%s\n",
               (long long)d->id, d->state, d->name, st, d->participants, d->injects, d->sent,
               d->participants * d->injects, d->rank ? ", ranked" : "");
    }
    c->n++;
    return 0;
}

/* ---- report ---- */

typedef struct total {
    char participant[72];
    int64_t score, max;
} total;

typedef struct rep_ctx {
    int json, n, status;
    total t[LIA_DRILL_MAX_PARTICIPANTS];
    size_t nt;
} rep_ctx;

static void after(int64_t s, char *out, size_t n)
{
    if (s < 0)
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%lldh%02lldm%02llds", (long long)(s / 3600), (long long)(s % 3600 / 60),
                 (long long)(s % 60));
}

static int print_row(void *ud, const lia_drill_row *r)
{
    rep_ctx *c = ud;
    char sent[LIA_TIME_TEXT], ack[32], res[32], ans[32];
    size_t i;
    for (i = 0; i < c->nt && strcmp(c->t[i].participant, r->participant) != 0; i++)
        ;
    if (i == c->nt && c->nt < LIA_DRILL_MAX_PARTICIPANTS) {
        memset(&c->t[c->nt], 0, sizeof c->t[c->nt]);
        snprintf(c->t[c->nt++].participant, sizeof c->t[0].participant, "%s", r->participant);
    }
    if (i < c->nt) {
        c->t[i].score += r->score;
        c->t[i].max += r->max_score;
    }
    when(r->sent_us, sent, sizeof sent);
    after(r->acked_after_s, ack, sizeof ack);
    after(r->resolved_after_s, res, sizeof res);
    after(r->answered_after_s, ans, sizeof ans);
    if (c->json) {
        printf("%s{\"participant\":\"%s\",\"inject\":\"%s\",\"answer\":\"%s\",\"incident\":%lld,\"channel\":%"
               "s%s%s,"
               "\"sent\":%s%s%s,\"acked_after_s\":%lld,\"resolved_after_s\":%lld,\"answered_after_s\":%lld,"
               "\"verdict\":\"%s\",\"score\":%lld,\"max_score\":%lld}",
               c->n ? "," : "", r->participant, r->inject, r->answer, (long long)r->incident,
               r->channel ? "\"" : "", r->channel ? r->channel : "null", r->channel ? "\"" : "",
               r->sent_us ? "\"" : "", r->sent_us ? sent : "null", r->sent_us ? "\"" : "",
               (long long)r->acked_after_s, (long long)r->resolved_after_s, (long long)r->answered_after_s,
               r->verdict, (long long)r->score, (long long)r->max_score);
    } else if (c->status) {
        printf("%-24s %-16s %-11s %-6s sent %-19.19s acked after %-10s resolved after %-10s %s\n",
               r->participant, r->inject, r->answer, r->channel ? r->channel : "-", sent, ack, res,
               r->verdict);
    } else {
        printf("%-24s %-16s %-11s sent %-19.19s acked %-10s resolved %-10s answer %-10s %-8s %lld/%lld\n",
               r->participant, r->inject, r->answer, sent, ack, res, ans, r->verdict, (long long)r->score,
               (long long)r->max_score);
    }
    c->n++;
    return 0;
}

static int by_score(const void *x, const void *y)
{
    const total *a = x, *b = y;
    return a->score < b->score ? 1 : a->score > b->score ? -1 : strcmp(a->participant, b->participant);
}

static int report(lia_store *s, int64_t id, const args *a, int status)
{
    rep_ctx c;
    lia_error err;
    int rank = 0, rc;
    memset(&c, 0, sizeof c);
    c.json = a->json;
    c.status = status;
    lia_error_clear(&err);
    if (status) {
        list_ctx lc = {a->json, 0};
        if (a->json)
            printf("{\"drill\":");
        rc = lia_drill_list(s, id, &a->o, print_info, &lc, &err);
        if (rc) {
            if (a->json)
                printf("null}\n");
            cli_error(&err);
            return LIA_EXIT_ERROR;
        }
        printf(a->json ? ",\"rows\":[" : "\n");
    } else if (a->json) {
        printf("{\"rows\":[");
    }
    rc = lia_drill_report(s, id, &a->o, print_row, &c, &rank, &err);
    if (rc) {
        if (a->json)
            printf("]}\n");
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (status) {
        if (a->json)
            printf("]}\n");
        return LIA_EXIT_OK;
    }
    if (rank)
        qsort(c.t, c.nt, sizeof *c.t, by_score);
    if (a->json) {
        printf("],\"ranked\":%s,\"totals\":[", rank ? "true" : "false");
        for (size_t i = 0; i < c.nt; i++) {
            printf("%s{\"participant\":\"%s\",\"score\":%lld,\"max_score\":%lld", i ? "," : "",
                   c.t[i].participant, (long long)c.t[i].score, (long long)c.t[i].max);
            if (rank)
                printf(",\"rank\":%zu", i + 1);
            printf("}");
        }
        printf("]}\n");
        return LIA_EXIT_OK;
    }
    printf("\n%s\n", rank ? "Ranking (the scenario asks for one):"
                          : "Totals (not ranked: the scenario does not ask to):");
    for (size_t i = 0; i < c.nt; i++) {
        if (rank)
            printf("  %zu. ", i + 1);
        else
            printf("  ");
        printf("%-24s %lld of %lld\n", c.t[i].participant, (long long)c.t[i].score, (long long)c.t[i].max);
    }
    return LIA_EXIT_OK;
}

int cmd_drill(cli *c, int argc, char **argv)
{
    const char *sub;
    lia_store *s;
    lia_error err;
    args a;
    int64_t id = 0;
    int rc;
    lia_error_clear(&err);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        int help = argc >= 2;
        drill_usage(help ? stdout : stderr);
        return help ? LIA_EXIT_OK : LIA_EXIT_USAGE;
    }
    sub = argv[1];
    if ((rc = parse(sub, argc - 1, argv + 1, &a)))
        return rc < 0 ? LIA_EXIT_OK : rc;
    if (strcmp(sub, "check") == 0 || strcmp(sub, "run") == 0) {
        lia_buf buf;
        lia_drill_scenario *sc = NULL;
        if (a.npos != 1) {
            cli_errorf("drill %s: which scenario file? (liaison drill %s FILE)", sub, sub);
            return LIA_EXIT_USAGE;
        }
        if (cli_read_file(a.pos[0], LIA_DRILL_MAX_FILE, &buf))
            return LIA_EXIT_ERROR;
        if (strcmp(sub, "check") == 0) {
            rc = lia_drill_scenario_parse(buf.ptr ? buf.ptr : "", buf.len, &sc, &err);
            if (rc) {
                snprintf(err.source, sizeof err.source, "%s", a.pos[0]);
                cli_error(&err);
            } else {
                size_t nexp = 0;
                for (size_t i = 0; i < sc->ninjects; i++)
                    nexp += sc->injects[i].nexpect;
                printf("%s: \"%s\": %zu participants, %zu injects, %zu expectations%s\n", a.pos[0], sc->name,
                       sc->nparticipants, sc->ninjects, nexp, sc->rank ? ", ranked" : "");
            }
            lia_drill_scenario_free(sc);
            lia_buf_free(&buf);
            return rc ? LIA_EXIT_ERROR : LIA_EXIT_OK;
        }
        if (cli_open_store(c, &s)) {
            lia_buf_free(&buf);
            return LIA_EXIT_ERROR;
        }
        rc = lia_drill_create(s, buf.ptr ? buf.ptr : "", buf.len, a.pos[0], &a.o, &id, &err);
        lia_buf_free(&buf);
        if (rc) {
            cli_error(&err);
            lia_store_close(s);
            return LIA_EXIT_ERROR;
        }
        printf("drill %lld created\n", (long long)id);
        rc = tick(s, id, &a);
        lia_store_close(s);
        return rc;
    }
    if (strcmp(sub, "tick") == 0 || strcmp(sub, "list") == 0) {
        if ((rc = drill_id(sub, &a, 0, &id)))
            return rc;
    } else if (strcmp(sub, "status") == 0 || strcmp(sub, "report") == 0 || strcmp(sub, "stop") == 0 ||
               strcmp(sub, "delete") == 0) {
        if ((rc = drill_id(sub, &a, 1, &id)))
            return rc;
    } else {
        cli_errorf("drill: unknown subcommand \"%s\" (check, run, tick, status, list, report, stop, delete)",
                   sub);
        return LIA_EXIT_USAGE;
    }
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    if (strcmp(sub, "tick") == 0) {
        rc = tick(s, id, &a);
    } else if (strcmp(sub, "list") == 0) {
        list_ctx lc = {a.json, 0};
        if (a.json)
            printf("[");
        rc = lia_drill_list(s, id, &a.o, print_info, &lc, &err);
        if (a.json)
            printf("]\n");
        else if (rc == LIA_OK && lc.n == 0)
            printf("no drills\n");
        if (rc)
            cli_error(&err);
        rc = rc ? LIA_EXIT_ERROR : LIA_EXIT_OK;
    } else if (strcmp(sub, "status") == 0 || strcmp(sub, "report") == 0) {
        rc = report(s, id, &a, strcmp(sub, "status") == 0);
    } else if (strcmp(sub, "stop") == 0) {
        if ((rc = lia_drill_stop(s, id, &a.o, &err)))
            cli_error(&err);
        else
            printf("drill %lld stopped\n", (long long)id);
        rc = rc ? LIA_EXIT_ERROR : LIA_EXIT_OK;
    } else {
        uint64_t n = 0;
        if ((rc = lia_drill_delete(s, id, &n, &err)))
            cli_error(&err);
        else
            printf("drill %lld deleted with its %llu incidents\n", (long long)id, (unsigned long long)n);
        rc = rc ? LIA_EXIT_ERROR : LIA_EXIT_OK;
    }
    lia_store_close(s);
    return rc;
}
