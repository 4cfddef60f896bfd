/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison mail receive|unmatched: the e-mail answer channel. `receive`
 * reads one message on standard input, as an MTA pipe delivers it (exit 0
 * once it is stored, matched or queued; 75, EX_TEMPFAIL, when it could not
 * be stored, so the MTA tries again). */
#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define EXIT_TEMPFAIL 75

static void mail_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] mail COMMAND ...\n"
               "\n"
               "  receive [--gnupg-home DIR] [--format table|json]\n"
               "      read one message on standard input (an MTA pipe): attach it to its incident\n"
               "      ([LIAISON#id] in the subject, X-Liaison-Incident, or a reply in a thread we know)\n"
               "      and recipient (the sender is one of its contacts); the first line may say\n"
               "      ack, resolved or 'reject: REASON' (a reply acknowledges by default); a PGP\n"
               "      signature is verified; what matches nothing goes to the unmatched queue.\n"
               "      Exit 0 once stored, 75 (try again) when the store failed.\n"
               "  fetch --imap imaps://HOST/MAILBOX --user NAME --password-file FILE [--gnupg-home DIR]\n"
               "      poll an IMAP mailbox: each unseen message is received as above and marked\n"
               "      seen only once stored\n"
               "  unmatched [--format table|json]   the messages that matched nothing, with the reason\n");
}

static void print_outcome(const lia_mail_outcome *o, int json)
{
    char more[48] = "";
    if (json) {
        lia_buf b;
        lia_buf_init(&b, 1u << 16);
        lia_buf_puts(&b, "{\"message_id\":");
        lia_buf_json_str(&b, o->message_id, strlen(o->message_id));
        lia_buf_puts(&b, ",\"from\":");
        lia_buf_json_str(&b, o->from ? o->from : "", o->from ? strlen(o->from) : 0);
        lia_buf_printf(&b, ",\"incident\":%lld,\"recipient\":", (long long)o->incident);
        if (o->recipient)
            lia_buf_json_str(&b, o->recipient, strlen(o->recipient));
        else
            lia_buf_puts(&b, "null");
        lia_buf_printf(&b, ",\"incidents\":%zu,\"comment\":%lld,\"action\":", o->incidents,
                       (long long)o->comment);
        if (o->action)
            lia_buf_json_str(&b, o->action, strlen(o->action));
        else
            lia_buf_puts(&b, "null");
        lia_buf_printf(
            &b, ",\"signature\":\"%s\",\"fingerprint\":\"%s\",\"duplicate\":%s,\"unmatched\":%s,\"note\":",
            o->signature ? o->signature : "none", o->fingerprint ? o->fingerprint : "",
            o->duplicate ? "true" : "false", o->unmatched ? "true" : "false");
        if (o->note)
            lia_buf_json_str(&b, o->note, strlen(o->note));
        else
            lia_buf_puts(&b, "null");
        lia_buf_puts(&b, "}\n");
        fputs(lia_buf_cstr(&b), stdout);
        lia_buf_free(&b);
        return;
    }
    if (o->incidents > 1)
        snprintf(more, sizeof more, " (and %zu more)", o->incidents - 1);
    if (o->duplicate)
        printf("%s: already received; nothing changed\n", o->message_id);
    else if (o->unmatched)
        printf("%s: unmatched (kept in the queue): %s\n", o->message_id, o->note ? o->note : "");
    else
        printf("%s: incident %lld%s, %s: comment %lld%s%s, signature %s%s%s%s%s\n", o->message_id,
               (long long)o->incident, more, o->recipient, (long long)o->comment, o->action ? ", " : "",
               o->action ? o->action : "", o->signature, o->fingerprint[0] ? " " : "", o->fingerprint,
               o->note ? "; " : "", o->note ? o->note : "");
}

typedef struct uctx {
    int json, n;
} uctx;

static int print_unmatched(void *ud, const lia_mail_unmatched *u)
{
    uctx *c = ud;
    char at[LIA_TIME_TEXT];
    lia_time_format(u->at_us, at, sizeof at);
    if (c->json) {
        lia_buf b;
        lia_buf_init(&b, 1u << 16);
        lia_buf_printf(&b, "%s{\"id\":%lld,\"at\":\"%s\",\"message_id\":", c->n ? "," : "", (long long)u->id,
                       at);
        lia_buf_json_str(&b, u->message_id, strlen(u->message_id));
        lia_buf_puts(&b, ",\"from\":");
        lia_buf_json_str(&b, u->from, strlen(u->from));
        lia_buf_puts(&b, ",\"subject\":");
        lia_buf_json_str(&b, u->subject, strlen(u->subject));
        lia_buf_puts(&b, ",\"reason\":");
        lia_buf_json_str(&b, u->reason ? u->reason : "", u->reason ? strlen(u->reason) : 0);
        lia_buf_printf(&b, ",\"bytes\":%zu}", u->bytes);
        fputs(lia_buf_cstr(&b), stdout);
        lia_buf_free(&b);
    } else {
        printf("%lld  %s  %s  %s  %s\n", (long long)u->id, at, u->from[0] ? u->from : "-", u->subject,
               u->reason ? u->reason : "");
    }
    c->n++;
    return 0;
}

typedef struct fctx {
    int json, n, unmatched, dup;
} fctx;

static int fetched(void *ud, uint64_t uid, const lia_mail_outcome *o)
{
    fctx *f = ud;
    (void)uid;
    f->n++;
    f->unmatched += o->unmatched;
    f->dup += o->duplicate;
    print_outcome(o, f->json);
    return 0;
}

static int mail_fetch(cli *c, const char *imap, const char *user, const char *pwfile, const char *home,
                      int json)
{
    lia_buf pw;
    lia_store *s;
    lia_error err;
    fctx f = {json, 0, 0, 0};
    int rc;
    if (cli_read_file(pwfile, 4096, &pw))
        return LIA_EXIT_ERROR;
    while (pw.len && (pw.ptr[pw.len - 1] == '\n' || pw.ptr[pw.len - 1] == '\r'))
        pw.ptr[--pw.len] = '\0';
    if (cli_open_store(c, &s)) {
        lia_buf_free(&pw);
        return LIA_EXIT_ERROR;
    }
    {
        lia_mail_fetch_opts o = {imap, user, lia_buf_cstr(&pw), {home}};
        rc = lia_mail_fetch(s, &o, fetched, &f, &err);
    }
    sodium_memzero(pw.ptr, pw.len);
    lia_buf_free(&pw);
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (!json)
        printf("%d message(s) fetched: %d unmatched, %d already received\n", f.n, f.unmatched, f.dup);
    return LIA_EXIT_OK;
}

int cmd_mail(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"gnupg-home", required_argument, NULL, 'g'},
        {"format", required_argument, NULL, 'f'},
        {"imap", required_argument, NULL, 'i'},
        {"user", required_argument, NULL, 'u'},
        {"password-file", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sub = argc > 1 ? argv[1] : NULL, *home = NULL, *imap = NULL, *user = NULL, *pwfile = NULL;
    int json = 0, ch, rc;
    lia_store *s;
    lia_error err;
    if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        mail_usage(sub ? stdout : stderr);
        return sub ? LIA_EXIT_OK : LIA_EXIT_USAGE;
    }
    argc--;
    argv++;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'g': home = optarg; break;
        case 'i': imap = optarg; break;
        case 'u': user = optarg; break;
        case 'p': pwfile = optarg; break;
        case 'f':
            if (cli_format_arg("mail", optarg, &json))
                return LIA_EXIT_USAGE;
            break;
        case 'h': mail_usage(stdout); return LIA_EXIT_OK;
        default: mail_usage(stderr); return LIA_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_errorf("mail %s: unexpected argument '%s'", sub, argv[optind]);
        return LIA_EXIT_USAGE;
    }
    if (strcmp(sub, "receive") && strcmp(sub, "unmatched") && strcmp(sub, "fetch")) {
        cli_errorf("mail: unknown command '%s' (receive, fetch, unmatched)", sub);
        return LIA_EXIT_USAGE;
    }
    if (!strcmp(sub, "fetch") && (!imap || !user || !pwfile)) {
        cli_errorf("mail fetch: --imap URL, --user NAME and --password-file FILE are required");
        return LIA_EXIT_USAGE;
    }
    if (!strcmp(sub, "fetch"))
        return mail_fetch(c, imap, user, pwfile, home, json);
    if (cli_open_store(c, &s))
        return strcmp(sub, "receive") ? LIA_EXIT_ERROR : EXIT_TEMPFAIL;
    if (!strcmp(sub, "receive")) {
        lia_buf in;
        lia_mail_opts o = {home};
        lia_mail_outcome out;
        if (cli_read_file("-", LIA_MAIL_MAX_MESSAGE, &in)) {
            lia_store_close(s);
            return EXIT_TEMPFAIL;
        }
        rc = lia_mail_receive(s, lia_buf_cstr(&in), in.len, &o, &out, &err);
        if (rc == LIA_OK)
            print_outcome(&out, json);
        else
            cli_error(&err);
        lia_buf_free(&in);
        lia_store_close(s);
        /* a message over the size limit cannot become storable by trying again */
        return rc == LIA_OK ? LIA_EXIT_OK : rc == LIA_ELIMIT ? LIA_EXIT_DATA : EXIT_TEMPFAIL;
    }
    {
        uctx cx = {json, 0};
        if (json)
            fputs("[", stdout);
        rc = lia_mail_unmatched_list(s, print_unmatched, &cx, &err);
        if (json)
            fputs("]\n", stdout);
        else if (rc == LIA_OK && cx.n == 0)
            printf("no unmatched messages\n");
        if (rc)
            cli_error(&err);
        lia_store_close(s);
        return rc ? LIA_EXIT_ERROR : LIA_EXIT_OK;
    }
}
