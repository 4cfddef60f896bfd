/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison handoff list|add|notified|ack|resolve|reject|withdraw|link: the
 * state of each recipient of an incident. Every change is an audit record;
 * link makes a signed answer link, as a digest carries, to send by hand. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void handoff_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] handoff COMMAND ...\n"
               "\n"
               "  list [--incident ID] [--state S] [--recipient R] [--format table|json]\n"
               "  add ID RECIPIENT            hand incident ID to a partner or owner (pending)\n"
               "  notified ID RECIPIENT       it was sent: the acknowledge clock starts\n"
               "  ack ID RECIPIENT            the recipient acknowledged: the resolve clock starts\n"
               "  resolve ID RECIPIENT        the recipient reports it resolved\n"
               "  reject ID RECIPIENT REASON  the recipient refused it, saying why\n"
               "  withdraw ID RECIPIENT       we take the hand-off back\n"
               "  link ID RECIPIENT ACTION    a signed answer link (ACTION: ack, resolve, reject) for the\n"
               "                              recipient, as a digest carries it [--days N, default 30];\n"
               "                              its path: open it under the server's address\n"
               "\n"
               "  --channel C   the channel the answer came through (default cli): e.g. email, api\n"
               "  --by WHO      who answered (default $LIAISON_USER, else $USER)\n"
               "  A refused change names the states allowed from the current one.\n");
}

typedef struct ctx {
    int json, n;
} ctx;

static int print_one(void *ud, const lia_handoff *h)
{
    ctx *c = ud;
    char t[4][LIA_TIME_TEXT];
    int64_t v[4] = {h->notified_us, h->acknowledged_us, h->resolved_us, h->rejected_us};
    for (int i = 0; i < 4; i++) {
        if (v[i])
            lia_time_format(v[i], t[i], sizeof t[i]);
        else
            snprintf(t[i], sizeof t[i], "-");
    }
    if (c->json) {
        lia_buf b;
        lia_buf_init(&b, 1u << 20);
        lia_buf_printf(&b, "%s{\"incident\":%lld,\"recipient\":", c->n ? "," : "", (long long)h->incident);
        lia_buf_json_str(&b, h->recipient, strlen(h->recipient));
        lia_buf_printf(&b, ",\"state\":\"%s\"", lia_handoff_state_name(h->state));
        static const char *const names[4] = {"notified", "acknowledged", "resolved", "rejected"};
        for (int i = 0; i < 4; i++)
            lia_buf_printf(&b, v[i] ? ",\"%s\":\"%s\"" : ",\"%s\":null", names[i], t[i]);
        lia_buf_puts(&b, ",\"reason\":");
        if (h->reason)
            lia_buf_json_str(&b, h->reason, strlen(h->reason));
        else
            lia_buf_puts(&b, "null");
        lia_buf_puts(&b, ",\"by\":");
        lia_buf_json_str(&b, h->by, strlen(h->by));
        lia_buf_puts(&b, ",\"channel\":");
        lia_buf_json_str(&b, h->channel, strlen(h->channel));
        lia_buf_putc(&b, '}');
        fputs(lia_buf_cstr(&b), stdout);
        lia_buf_free(&b);
    } else {
        printf("%6lld  %-24s %-12s %-25s %-25s %-25s %s%s%s\n", (long long)h->incident, h->recipient,
               lia_handoff_state_name(h->state), t[0], t[1], h->state == LIA_HO_REJECTED ? t[3] : t[2], h->by,
               h->reason ? " reason: " : "", h->reason ? h->reason : "");
    }
    c->n++;
    return 0;
}

static int count_one(void *ud, const lia_handoff *h)
{
    (void)h;
    ((ctx *)ud)->n++;
    return 0;
}

int cmd_handoff(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"incident", required_argument, NULL, 'i'},
        {"state", required_argument, NULL, 's'},
        {"recipient", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"channel", required_argument, NULL, 'c'},
        {"by", required_argument, NULL, 'b'},
        {"days", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sub = argc > 1 ? argv[1] : NULL, *recipient = NULL;
    lia_actor who = cli_actor();
    int64_t incident = 0, days = 30;
    int state = -1, json = 0, ch, rc;
    lia_store *s;
    lia_error err;
    lia_error_clear(&err);
    if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        handoff_usage(sub ? stdout : stderr);
        return sub ? LIA_EXIT_OK : LIA_EXIT_USAGE;
    }
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        uint64_t v;
        lia_handoff_state hs;
        switch (ch) {
        case 'i':
            if (cli_parse_u64(optarg, &v) || v == 0 || v > INT64_MAX) {
                cli_errorf("handoff: --incident is an incident id");
                return LIA_EXIT_USAGE;
            }
            incident = (int64_t)v;
            break;
        case 's':
            if (lia_handoff_state_parse(optarg, &hs, &err)) {
                cli_error(&err);
                return LIA_EXIT_USAGE;
            }
            state = (int)hs;
            break;
        case 'r': recipient = optarg; break;
        case 'f':
            if (cli_format_arg("handoff", optarg, &json))
                return LIA_EXIT_USAGE;
            break;
        case 'c': who.channel = optarg; break;
        case 'b': who.who = optarg; break;
        case 'd':
            if (cli_parse_u64(optarg, &v) || v == 0 || v > 366) {
                cli_errorf("handoff link: --days is a number of days from 1 to 366");
                return LIA_EXIT_USAGE;
            }
            days = (int64_t)v;
            break;
        case 'h': handoff_usage(stdout); return LIA_EXIT_OK;
        default:
            cli_errorf("handoff %s: bad option %s (see liaison handoff --help)", sub, argv[optind]);
            return LIA_EXIT_USAGE;
        }
    }
    char **pos = argv + 1 + optind;
    int npos = argc - 1 - optind;
    static const struct {
        const char *name;
        lia_handoff_state to;
    } verbs[] = {{"notified", LIA_HO_NOTIFIED},
                 {"ack", LIA_HO_ACKNOWLEDGED},
                 {"resolve", LIA_HO_RESOLVED},
                 {"reject", LIA_HO_REJECTED},
                 {"withdraw", LIA_HO_WITHDRAWN}};
    int verb = -1, add = strcmp(sub, "add") == 0, link = strcmp(sub, "link") == 0;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(sub, verbs[i].name) == 0)
            verb = (int)i;
    if (strcmp(sub, "list") && !add && !link && verb < 0) {
        cli_errorf("handoff: unknown command '%s' (see liaison handoff --help)", sub);
        return LIA_EXIT_USAGE;
    }
    if (strcmp(sub, "list")) {
        uint64_t v;
        int want = link || (verb >= 0 && verbs[verb].to == LIA_HO_REJECTED) ? 3 : 2;
        if (npos != want || cli_parse_u64(pos[0], &v) || v == 0 || v > INT64_MAX) {
            cli_errorf("handoff %s: INCIDENT RECIPIENT%s", sub,
                       link        ? " ACTION"
                       : want == 3 ? " REASON"
                                   : "");
            return LIA_EXIT_USAGE;
        }
        incident = (int64_t)v;
        recipient = pos[1];
    }
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    if (strcmp(sub, "list") == 0) {
        ctx cx = {json, 0};
        if (json)
            printf("[");
        rc = lia_handoff_list(s, incident, state, recipient, print_one, &cx, &err);
        if (json)
            printf("]\n");
        else if (rc == LIA_OK && cx.n == 0)
            printf("no hand-offs\n");
    } else if (link) {
        static const char *const acts[LIA_ANSWER__COUNT] = {"ack", "resolve", "reject"};
        char path[LIA_ANSWER_PATH_MAX];
        int a = -1;
        for (int i = 0; i < LIA_ANSWER__COUNT; i++)
            if (strcmp(pos[2], acts[i]) == 0)
                a = i;
        if (a < 0) {
            lia_store_close(s);
            cli_errorf("handoff link: ACTION '%s' is not one of ack, resolve, reject", pos[2]);
            return LIA_EXIT_USAGE;
        }
        ctx cx = {0, 0};
        /* the recipient must hold a hand-off of the incident: a link to
         * nothing would only say so when opened */
        rc = lia_handoff_list(s, incident, -1, recipient, count_one, &cx, &err);
        if (rc == LIA_OK && cx.n == 0) {
            lia_store_close(s);
            cli_errorf("handoff link: incident %lld is not handed off to %s", (long long)incident, recipient);
            return LIA_EXIT_ERROR;
        }
        if (rc == LIA_OK)
            rc = lia_answer_link(s, incident, recipient, (lia_answer)a,
                                 ((int64_t)time(NULL) + days * 86400) * 1000000, path, &err);
        if (rc == LIA_OK)
            printf("%s\n", path);
    } else if (add) {
        rc = lia_handoff_add(s, incident, recipient, &who, &err);
        if (rc == LIA_OK)
            printf("incident %lld handed off to %s (pending)\n", (long long)incident, recipient);
    } else {
        rc = lia_handoff_set(s, incident, recipient, verbs[verb].to, npos == 3 ? pos[2] : NULL, &who, &err);
        if (rc == LIA_OK)
            printf("hand-off of incident %lld to %s: %s\n", (long long)incident, recipient,
                   lia_handoff_state_name(verbs[verb].to));
    }
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}
