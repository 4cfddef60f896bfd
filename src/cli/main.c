/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison - the command line. Dispatches to one function per subcommand. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_cmd commands[] = {
    {"init", "create or upgrade the store", cmd_init},
    {"ingest", "read a report into the store", cmd_ingest},
    {"worker", "process report chunks from the work bus (NATS JetStream)", cmd_worker},
    {"bus", "the work bus: stream depth, pending and redelivered chunks", cmd_bus},
    {"events", "list stored events", cmd_events},
    {"quarantine", "list rows that were rejected, with the reason", cmd_quarantine},
    {"stats", "per-feed, per-stage counters and rates", cmd_stats},
    {"store", "the store itself: prune old reports and events (retention), copy it", cmd_store},
    {"feeds", "the feed registry: list, add, show, health ...", cmd_feeds},
    {"fetch", "fetch registered feeds that are due (or one by name)", cmd_fetch},
    {"owners", "constituency: domestic network owners (add, list, import ...)", cmd_owners},
    {"partners", "partner directory: foreign CERTs (add, list, import ...)", cmd_partners},
    {"route", "routing rules; explain and preview who receives what", cmd_route},
    {"notify", "e-mail digests to recipients (signed/encrypted OpenPGP, SMTP)", cmd_notify},
    {"export", "write events as STIX 2.1, a MISP feed or IODEF", cmd_export},
    {"shadowserver", "Shadowserver report types: list, detect, update the schema", cmd_shadowserver},
    {"demo", "ingest the bundled sample reports and summarise them", cmd_demo},
    {"ip", "look IP addresses up in the IP data sources (country, ASN)", cmd_ip},
    {"serve", "serve the TAXII 2.1 API to partners (HTTP/HTTPS)", cmd_serve},
    {"accounts", "organisations, users and API keys of the server", cmd_accounts},
    {"taxii", "TAXII 2.1 collections: seed, add, grant, pull from a server", cmd_taxii},
    {"incident", "cross-border incidents: create, list, show, update, comment, link", cmd_incident},
    {"handoff", "each recipient's hand-off of an incident: list, ack, resolve, reject", cmd_handoff},
    {"sla", "hand-offs past their acknowledge or resolve target (breaches)", cmd_sla},
    {"metrics", "time to acknowledge and resolve per partner and country, open incidents", cmd_metrics},
    {"report", "statistics report of a month (HTML, PDF, CSV) for our team or a partner", cmd_report},
    {"audit", "the tamper-evident audit log: verify, list, checkpoint, prove", cmd_audit},
    {"node", "incidents exchanged with partners that run Liaison: add, list, status, sync", cmd_node},
    {"mail", "e-mail answers: receive a reply (MTA pipe), the unmatched queue", cmd_mail},
    {"advisory", "CSAF 2.0 security advisories: new, edit, validate, publish, list", cmd_advisory},
    {"drill", "cross-border drills from a scenario: run, tick, status, report, stop, delete", cmd_drill},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: liaison [--db PATH] COMMAND [ARGS]\n"
            "\n"
            "Liaison %s: CERT event feeds in, who-must-act out.\n"
            "\n"
            "Commands:\n",
            LIAISON_VERSION);
    for (const cli_cmd *c = commands; c->name; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->summary);
    fprintf(f, "\n"
               "Options:\n"
               "  --db PATH    store: a SQLite file, or postgresql://USER@HOST/DB (partial: issue 12);\n"
               "               default $LIAISON_DB or ./liaison.db\n"
               "  --version    print the version\n"
               "  -h, --help   this help; COMMAND --help for a command's own\n"
               "\n"
               "Exit codes: 0 success, 1 failure (one line on stderr says why),\n"
               "2 bad usage, 3 input partly rejected (--strict), 130 interrupted.\n");
}

void cli_error(const lia_error *e)
{
    char msg[1024];
    lia_error_format(e, msg, sizeof msg);
    fprintf(stderr, "liaison: %s\n", msg);
}

void cli_errorf(const char *fmt, ...)
{
    va_list ap;
    fputs("liaison: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_open_store(cli *c, lia_store **s)
{
    lia_error err;
    lia_error_clear(&err);
    if (lia_store_open(c->db, s, &err)) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    lia_actor who = cli_actor(); /* the directory, routing and accounts changes name the user */
    lia_audit_set_actor(*s, &who);
    return LIA_EXIT_OK;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    cli c = {.db = getenv("LIAISON_DB"), .prog = "liaison"};
    int i = 1;
    if (!c.db || !*c.db)
        c.db = "liaison.db";
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            c.db = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--db=", 5) == 0) {
            c.db = argv[i] + 5;
            i++;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return LIA_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("liaison %s\n", LIAISON_VERSION);
            return LIA_EXIT_OK;
        } else {
            cli_errorf("unknown option %s (see liaison --help)", argv[i]);
            return LIA_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return LIA_EXIT_USAGE;
    }
    for (const cli_cmd *cmd = commands; cmd->name; cmd++)
        if (strcmp(cmd->name, argv[i]) == 0)
            return cmd->run(&c, argc - i, argv + i);
    cli_errorf("unknown command '%s' (see liaison --help)", argv[i]);
    return LIA_EXIT_USAGE;
}
