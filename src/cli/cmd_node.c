/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison node add|list|status|sync|checkpoint: incidents exchanged with
 * partners that run Liaison too (docs/nodes.md). */
#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void node_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] node COMMAND ...\n"
               "\n"
               "  add PARTNER --url URL --token-file FILE [--vkey KEY]\n"
               "                    PARTNER (a partner of the directory) runs Liaison at URL; FILE\n"
               "                    holds the API key it issued to us; KEY its node's verifier key\n"
               "                    (what its `liaison audit checkpoint` prints)\n"
               "  list [--format table|json]   the peers, what is queued and taken, the last error\n"
               "  status [PARTNER]             the messages waiting in the outbox, oldest first\n"
               "  sync [PARTNER] [--now] [--timeout S]\n"
               "                    queue what changed (hand-offs to peers, comments shared with\n"
               "                    them, the status of incidents they handed us) and send what is\n"
               "                    due; --now ignores the backoff of failed tries. Then our signed\n"
               "                    checkpoint and our cosignature of the peer's go to each peer.\n"
               "                    A peer another sync works on (another node's, on the same\n"
               "                    store) is left to it: each message is sent once.\n"
               "  checkpoint PARTNER          the peer's latest log head we hold (cosigned by us):\n"
               "                    the peer checks its log against it (audit verify --checkpoint)\n"
               "\n"
               "  --key PATH, --origin O  our node key and checkpoint origin, as for liaison audit\n"
               "Exit 1 from sync when a message could not be delivered (it stays queued).\n");
}

typedef struct ctx {
    int json, n;
} ctx;

static int print_peer(void *ud, const lia_node_peer *p)
{
    ctx *c = ud;
    char t[LIA_TIME_TEXT] = "-";
    if (p->last_ok_us)
        lia_time_format(p->last_ok_us, t, sizeof t);
    if (c->json) {
        lia_buf b;
        lia_buf_init(&b, 1u << 16);
        lia_buf_printf(&b, "%s{\"peer\":", c->n ? "," : "");
        lia_buf_json_str(&b, p->name, strlen(p->name));
        lia_buf_puts(&b, ",\"url\":");
        lia_buf_json_str(&b, p->url, strlen(p->url));
        lia_buf_printf(&b, ",\"pending\":%llu,\"sent\":%llu,\"their_log_size\":%llu,\"cosigned_size\":%llu,",
                       (unsigned long long)p->pending, (unsigned long long)p->sent,
                       (unsigned long long)p->their_size, (unsigned long long)p->cosigned_size);
        lia_buf_printf(&b, p->last_ok_us ? "\"last_ok\":\"%s\"" : "\"last_ok\":null", t);
        lia_buf_puts(&b, ",\"last_error\":");
        if (p->last_error[0])
            lia_buf_json_str(&b, p->last_error, strlen(p->last_error));
        else
            lia_buf_puts(&b, "null");
        lia_buf_putc(&b, '}');
        fputs(lia_buf_cstr(&b), stdout);
        lia_buf_free(&b);
    } else {
        if (!c->n)
            printf("%-20s %-40s %7s %7s %9s %9s  %-32s %s\n", "PEER", "URL", "PENDING", "SENT", "THEIR-LOG",
                   "COSIGNED", "LAST-OK", "LAST-ERROR");
        printf("%-20s %-40s %7llu %7llu %9llu %9llu  %-32s %s\n", p->name, p->url,
               (unsigned long long)p->pending, (unsigned long long)p->sent, (unsigned long long)p->their_size,
               (unsigned long long)p->cosigned_size, t, p->last_error[0] ? p->last_error : "-");
    }
    c->n++;
    return 0;
}

static int print_pending(void *ud, const lia_node_pending *p)
{
    ctx *c = ud;
    char t[LIA_TIME_TEXT], n[LIA_TIME_TEXT];
    lia_time_format(p->created_us, t, sizeof t);
    lia_time_format(p->next_us, n, sizeof n);
    if (!c->n)
        printf("%-20s %9s %5s %-9s %-32s %8s  %-32s %s\n", "PEER", "INCIDENT", "SEQ", "TYPE", "QUEUED",
               "TRIES", "NEXT-TRY", "LAST-ERROR");
    printf("%-20s %9lld %5lld %-9s %-32s %8lld  %-32s %s\n", p->peer, (long long)p->incident,
           (long long)p->seq, p->type, t, (long long)p->attempts, n, p->error[0] ? p->error : "-");
    c->n++;
    return 0;
}

static int read_token(const char *path, char *out, size_t n)
{
    lia_buf b;
    size_t len;
    lia_buf_init(&b, 4096);
    if (cli_read_file(path, 4096, &b)) {
        lia_buf_free(&b);
        return -1;
    }
    len = b.len;
    while (len && (b.ptr[len - 1] == '\n' || b.ptr[len - 1] == '\r' || b.ptr[len - 1] == ' '))
        len--;
    if (!len || len >= n) {
        lia_buf_free(&b);
        cli_errorf("node add: %s holds no API key on its first line", path);
        return -1;
    }
    memcpy(out, b.ptr, len);
    out[len] = '\0';
    lia_buf_free(&b);
    return strchr(out, '\n') ? (cli_errorf("node add: %s: one key, on one line", path), -1) : 0;
}

int cmd_node(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},     {"token-file", required_argument, NULL, 't'},
        {"vkey", required_argument, NULL, 'v'},    {"now", no_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 'T'}, {"key", required_argument, NULL, 'K'},
        {"origin", required_argument, NULL, 'o'},  {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *sub = argc > 1 ? argv[1] : NULL, *url = NULL, *tokfile = NULL, *vkey = NULL, *keyarg = NULL;
    const char *origin = getenv("LIAISON_AUDIT_ORIGIN"), *name;
    char token[256], kp[1024];
    lia_node_sync_opts so = {0};
    uint64_t timeout = 0;
    ctx cx = {0, 0};
    lia_store *s;
    lia_error err;
    int ch, rc = LIA_OK, code = LIA_EXIT_OK;
    lia_error_clear(&err);
    if (!origin || !*origin)
        origin = "liaison.local/audit";
    if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        node_usage(sub ? stdout : stderr);
        return sub ? LIA_EXIT_OK : LIA_EXIT_USAGE;
    }
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'u': url = optarg; break;
        case 't': tokfile = optarg; break;
        case 'v': vkey = optarg; break;
        case 'n': so.now = 1; break;
        case 'K': keyarg = optarg; break;
        case 'o': origin = optarg; break;
        case 'T':
            if (cli_parse_u64(optarg, &timeout) || timeout == 0 || timeout > 3600) {
                cli_errorf("node sync: --timeout %s: seconds, 1 to 3600", optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'f':
            if (cli_format_arg("node", optarg, &cx.json))
                return LIA_EXIT_USAGE;
            break;
        case 'h': node_usage(stdout); return LIA_EXIT_OK;
        default:
            cli_errorf("node %s: bad option %s (see liaison node --help)", sub, argv[optind]);
            return LIA_EXIT_USAGE;
        }
    }
    name = optind + 1 < argc ? argv[optind + 1] : NULL;
    if (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "status") && strcmp(sub, "sync") &&
        strcmp(sub, "checkpoint")) {
        cli_errorf("node: unknown command '%s' (see liaison node --help)", sub);
        return LIA_EXIT_USAGE;
    }
    if ((!strcmp(sub, "add") || !strcmp(sub, "checkpoint")) && !name) {
        cli_errorf("node %s: the partner id is required", sub);
        return LIA_EXIT_USAGE;
    }
    if (!strcmp(sub, "add") && (!url || !tokfile)) {
        cli_errorf("node add: --url URL and --token-file FILE are required");
        return LIA_EXIT_USAGE;
    }
    if (!strcmp(sub, "add") && read_token(tokfile, token, sizeof token))
        return LIA_EXIT_ERROR;
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    if (!strcmp(sub, "add")) {
        lia_actor who = cli_actor();
        if ((rc = lia_node_add(s, name, url, token, vkey, &who, &err)) == LIA_OK)
            printf("peer %s at %s%s\n", name, url,
                   vkey ? " (its checkpoints verified with the key given)" : "");
    } else if (!strcmp(sub, "list")) {
        if (cx.json)
            printf("[");
        rc = lia_node_list(s, print_peer, &cx, &err);
        if (cx.json)
            printf("]\n");
        else if (rc == LIA_OK && !cx.n)
            printf("no node peers (liaison node add)\n");
    } else if (!strcmp(sub, "status")) {
        rc = lia_node_pending_list(s, name, print_pending, &cx, &err);
        if (rc == LIA_OK && !cx.n)
            printf("nothing waiting in the outbox%s%s\n", name ? " for " : "", name ? name : "");
    } else if (!strcmp(sub, "checkpoint")) {
        lia_buf b;
        lia_buf_init(&b, LIA_NOTE_MAX * 2);
        if ((rc = lia_node_their_checkpoint(s, name, &b, &err)) == LIA_OK)
            fputs(lia_buf_cstr(&b), stdout);
        lia_buf_free(&b);
    } else {
        lia_note_key k;
        lia_node_sync_report rep;
        lia_error e2;
        lia_error_clear(&e2);
        cli_audit_key_path(c, keyarg, kp, sizeof kp);
        so.peer = name;
        so.timeout_s = (long)timeout;
        if (lia_audit_key_load(kp, origin, 1, &k, &e2) == LIA_OK) {
            so.key = &k;
            so.origin = origin;
        } else {
            fprintf(stderr, "liaison: node sync: no checkpoint exchange: %s\n", e2.reason);
        }
        if ((rc = lia_node_sync(s, &so, &rep, &err)) == LIA_OK) {
            printf("node sync: %llu queued, %llu delivered, %llu failed, %llu waiting; %llu checkpoints "
                   "exchanged%s\n",
                   (unsigned long long)rep.queued, (unsigned long long)rep.sent,
                   (unsigned long long)rep.failed, (unsigned long long)rep.waiting,
                   (unsigned long long)rep.checkpoints,
                   rep.busy ? "; a peer left to another sync that holds it" : "");
            if (rep.failed) {
                fprintf(stderr, "liaison: node sync: %s\n", rep.last_error);
                code = LIA_EXIT_ERROR;
            }
        }
        sodium_memzero(&k, sizeof k);
    }
    if (rc) {
        cli_error(&err);
        code = LIA_EXIT_ERROR;
    }
    lia_store_close(s);
    return code;
}
