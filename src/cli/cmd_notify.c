/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison notify run|log: e-mail digests to the recipients routing chose. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static void notify_usage(FILE *f)
{
    fprintf(f,
            "usage: liaison [--db PATH] notify run [options]\n"
            "       liaison [--db PATH] notify log [--limit N]\n"
            "\n"
            "run: for every recipient whose digest interval has passed, one e-mail with\n"
            "its new events (TLP policy checked again, fields redacted), attached as CSV\n"
            "and JSON, signed with our OpenPGP key and encrypted to the recipient's key\n"
            "when its fingerprint is known; sent over SMTP, retried with backoff, recorded.\n"
            "Settings come from the routing configuration (liaison route load); options\n"
            "override them:\n"
            "  --dry-run          render only: nothing is signed, sent or recorded\n"
            "  --print            print the messages (with --dry-run: the clear text)\n"
            "  --out DIR          write each message to DIR/RECIPIENT.eml\n"
            "  --force            ignore the digest interval\n"
            "  --only RECIPIENT   one recipient (owner:ID or partner:ID)\n"
            "  --templates DIR    LANG/digest.txt templates (default: installed share/templates)\n"
            "  --smtp URL         smtp://host:port (STARTTLS when offered) or smtps://\n"
            "  --from ADDR        sender address (mail_from)\n"
            "  --sign-key FPR     our signing key (sign_key)\n"
            "  --gnupg-home DIR   GnuPG home (gnupg_home; default $GNUPGHOME)\n"
            "  --tries N          delivery attempts (smtp_tries, default 3)\n"
            "  --backoff-ms N     first retry delay (default 2000, doubling)\n"
            "  --unsigned         allow sending without a signing key\n"
            "  --lease S          hold each recipient worked on for S seconds (default %d,\n"
            "                     renewed before each channel): several notifiers at once\n"
            "                     on one store send each digest once; one that died is\n"
            "                     taken over when its lease ends\n"
            "A partner with a channel taxii:API_ROOT/COLLECTION gets its new events, as\n"
            "STIX 2.1, added to that collection of our TAXII server on every run (created\n"
            "if missing; organisations linked with `accounts org-link` may read it);\n"
            "taxii:https://HOST/ROOT/collections/ID/ POSTs them to the partner's own server\n"
            "(bearer token from $LIAISON_TAXII_TOKEN_<PARTNER_ID>).\n"
            "log: recorded notifications, newest first.\n"
            "Exit status 1 if any digest could not be delivered (it is retried next run).\n",
            LIA_NOTIFY_LEASE_MS / 1000);
}

typedef struct nctx {
    int print;
    const char *outdir;
    int werr;
} nctx;

static int on_result(void *ud, const lia_notify_result *r)
{
    nctx *c = ud;
    int taxii = r->channel && strncmp(r->channel, "taxii:", 6) == 0;
    if (r->channel && strcmp(r->channel, "email") != 0) {
        printf("%-30s %-8s %4zu events%s -> %s", r->recipient, r->outcome, r->events,
               r->withheld ? " (+withheld)" : "", r->channel);
        if (taxii && strcmp(r->outcome, "sent") == 0)
            printf(", %zu STIX objects", r->objects);
        printf(" %s\n", r->error);
    } else
        printf("%-30s %-8s %4zu events%s%s lang %-3s %s%s%s%s\n", r->recipient, r->outcome, r->events,
               r->withheld ? " (+withheld)" : "", r->signed_ ? " signed" : "",
               r->language[0] ? r->language : "-", r->encrypted ? "encrypted " : "", r->message_id,
               r->error[0] ? ": " : "", r->error);
    if (r->message && c->print) {
        fwrite(r->message, 1, r->message_len, stdout);
        fputs("\n", stdout);
    }
    if (r->message && c->outdir) {
        char path[4096];
        FILE *f;
        snprintf(path, sizeof path, "%s/%s%s", c->outdir, r->recipient, taxii ? ".stix.json" : ".eml");
        for (char *p = path + strlen(c->outdir) + 1; *p; p++)
            if (*p == ':' || *p == '/')
                *p = '_';
        if (!(f = fopen(path, "wb")) || fwrite(r->message, 1, r->message_len, f) != r->message_len ||
            fclose(f)) {
            cli_errorf("notify: writing %s: %s", path, strerror(errno));
            c->werr = 1;
        }
    }
    return 0;
}

static int print_log(void *ud, const lia_notification *n)
{
    char t[LIA_TIME_TEXT];
    (void)ud;
    lia_time_format(n->at_us, t, sizeof t);
    printf("%-6lld %-25s %-30s %-8s %5llu %-3s %s%s %s %s %s\n", (long long)n->id, t, n->recipient,
           n->outcome, (unsigned long long)n->events, n->language, n->signed_ ? "S" : "-",
           n->encrypted ? "E" : "-", n->message_id, n->to, n->error);
    return 0;
}

int cmd_notify(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dry-run", no_argument, NULL, 'n'},
        {"print", no_argument, NULL, 'p'},
        {"out", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        {"only", required_argument, NULL, 'O'},
        {"templates", required_argument, NULL, 't'},
        {"smtp", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'F'},
        {"sign-key", required_argument, NULL, 'k'},
        {"gnupg-home", required_argument, NULL, 'g'},
        {"tries", required_argument, NULL, 'T'},
        {"backoff-ms", required_argument, NULL, 'b'},
        {"unsigned", no_argument, NULL, 'u'},
        {"limit", required_argument, NULL, 'l'},
        {"lease", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lia_notify_opts o;
    nctx nc = {0, NULL, 0};
    lia_store *s;
    lia_error err;
    char tdir[4096];
    const char *data = getenv("LIAISON_DATADIR");
    uint64_t u, limit = 50;
    int ch, rc, run;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        notify_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? LIA_EXIT_USAGE : LIA_EXIT_OK;
    }
    run = strcmp(argv[1], "run") == 0;
    if (!run && strcmp(argv[1], "log") != 0) {
        cli_errorf("notify: unknown command '%s' (see liaison notify --help)", argv[1]);
        return LIA_EXIT_USAGE;
    }
    memset(&o, 0, sizeof o);
    snprintf(tdir, sizeof tdir, "%s/templates", data && *data ? data : LIA_DATADIR);
    o.templates = tdir;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc - 1, argv + 1, "+h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': o.dry_run = 1; break;
        case 'p': nc.print = 1; break;
        case 'o': nc.outdir = optarg; break;
        case 'f': o.force = 1; break;
        case 'O': o.only = optarg; break;
        case 't': o.templates = optarg; break;
        case 's': o.smtp_url = optarg; break;
        case 'F': o.mail_from = optarg; break;
        case 'k': o.sign_key = optarg; break;
        case 'g': o.gnupg_home = optarg; break;
        case 'u': o.unsigned_ok = 1; break;
        case 'T':
            if (cli_parse_u64(optarg, &u) || u < 1 || u > LIA_MAX_SMTP_TRIES) {
                cli_errorf("notify: --tries %s: 1 to %d", optarg, LIA_MAX_SMTP_TRIES);
                return LIA_EXIT_USAGE;
            }
            o.tries = (int)u;
            break;
        case 'b':
            if (cli_parse_u64(optarg, &u) || u < 1 || u > 600000) {
                cli_errorf("notify: --backoff-ms %s: 1 to 600000", optarg);
                return LIA_EXIT_USAGE;
            }
            o.backoff_ms = (int)u;
            break;
        case 'L':
            if (cli_parse_u64(optarg, &u) || u < 1 || u > 86400) {
                cli_errorf("notify: --lease %s: 1 to 86400 seconds", optarg);
                return LIA_EXIT_USAGE;
            }
            o.lease_ms = (int64_t)u * 1000;
            break;
        case 'l':
            if (cli_parse_u64(optarg, &limit)) {
                cli_errorf("notify: --limit %s: a number", optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'h': notify_usage(stdout); return LIA_EXIT_OK;
        default:
            cli_errorf("notify: bad option %s (see liaison notify --help)", argv[optind]);
            return LIA_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli_errorf("notify: unexpected argument %s", argv[optind + 1]);
        return LIA_EXIT_USAGE;
    }
    /* --out DIR is checked before anything is rendered, sent or recorded:
     * a message that cannot be written is not reported as done */
    if (nc.outdir) {
        struct stat st;
        int e = 0;
        if (stat(nc.outdir, &st) != 0)
            e = errno;
        else if (!S_ISDIR(st.st_mode))
            e = ENOTDIR;
        else if (access(nc.outdir, W_OK | X_OK) != 0)
            e = errno;
        if (e) {
            cli_errorf("notify: --out %s: %s; nothing rendered, sent or recorded", nc.outdir, strerror(e));
            return LIA_EXIT_ERROR;
        }
    }
    if ((rc = cli_open_store(c, &s)))
        return rc;
    lia_error_clear(&err);
    if (run) {
        rc = lia_notify_run(s, &o, on_result, &nc, &err);
    } else {
        printf("%-6s %-25s %-30s %-8s %5s %-3s %-2s %s\n", "id", "at", "recipient", "outcome", "evts", "lng",
               "SE", "message-id to error");
        rc = lia_notify_log(s, limit, print_log, NULL, &err);
    }
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return nc.werr ? LIA_EXIT_ERROR : LIA_EXIT_OK;
}
