/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The `liaison` command: shared helpers of the subcommands. */
#ifndef LIA_CLI_H
#define LIA_CLI_H

#include <stdio.h>

#include "liaison/liaison.h"

/* Exit codes (documented in docs/cli.md and `liaison --help`). */
enum {
    LIA_EXIT_OK = 0,
    LIA_EXIT_ERROR = 1,    /* the command failed; one line on stderr says why */
    LIA_EXIT_USAGE = 2,    /* bad command line */
    LIA_EXIT_DATA = 3,     /* input was read but some of it was rejected (e.g. --strict) */
    LIA_EXIT_INTERRUPTED = 130,
};

typedef struct cli {
    const char *db;        /* store path */
    const char *prog;
} cli;

typedef struct cli_cmd {
    const char *name;
    const char *summary;
    int (*run)(cli *c, int argc, char **argv);
} cli_cmd;

/* Print "liaison: MESSAGE" (error detail formatted) on stderr. */
void cli_error(const lia_error *e);
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_open_store(cli *c, lia_store **s);
/* Parse a whole decimal number; -1 on error. */
int cli_parse_u64(const char *s, uint64_t *out);

/* Event filters shared by `events` and `export`: getopt long options with
 * these letters; cli_filter_arg returns 0 when ch was a filter it applied,
 * 1 when ch is not a filter, LIA_EXIT_USAGE after printing why. */
#define CLI_FILTER_OPTIONS \
    {"since", required_argument, NULL, 's'}, {"until", required_argument, NULL, 'u'}, \
    {"cc", required_argument, NULL, 'c'}, {"asn", required_argument, NULL, 'a'}, \
    {"ip", required_argument, NULL, 'i'}, {"class", required_argument, NULL, 'k'}, \
    {"feed", required_argument, NULL, 'f'}, {"report", required_argument, NULL, 'r'}, \
    {"limit", required_argument, NULL, 'l'}
int cli_filter_arg(const char *cmd, int ch, const char *arg, lia_query *q);
extern const char cli_filter_help[];

/* MISP feed directory: ingest each event file of its manifest (misp_feed.c). */
int cli_is_dir(const char *path);
int cli_ingest_misp_feed(cli *c, lia_ingest_opts *o, int strict);

int cmd_init(cli *c, int argc, char **argv);
int cmd_ingest(cli *c, int argc, char **argv);
int cmd_events(cli *c, int argc, char **argv);
int cmd_quarantine(cli *c, int argc, char **argv);
int cmd_stats(cli *c, int argc, char **argv);
int cmd_store(cli *c, int argc, char **argv);
int cmd_worker(cli *c, int argc, char **argv);
int cmd_bus(cli *c, int argc, char **argv);
int cmd_demo(cli *c, int argc, char **argv);
int cmd_feeds(cli *c, int argc, char **argv);
int cmd_fetch(cli *c, int argc, char **argv);
/* ingest --feed NAME without --format: take format and options from the
 * registered feed f (filled); 1 if the feed is registered. */
int cli_feed_defaults(cli *c, lia_ingest_opts *o, lia_feed *f, int tlp_given);
int cmd_ip(cli *c, int argc, char **argv);
/* cmd_ip.c: configure the demo store to use the fetched IP data; 1 if used. */
int cli_enrich_demo_setup(cli *c, const char *datadir);
int cmd_owners(cli *c, int argc, char **argv);
int cmd_partners(cli *c, int argc, char **argv);
int cmd_route(cli *c, int argc, char **argv);
int cmd_notify(cli *c, int argc, char **argv);
/* Read a whole file ("-" = stdin) into out (initialised here); prints the
 * error and returns -1 on failure. */
int cli_read_file(const char *path, size_t max, lia_buf *out);
/* Fetch one stored event by id into ev (initialised by the caller). */
/* Demo: load DATADIR/demo owners, partners and rules; print decisions. */
int cli_route_demo_setup(lia_store *s, const char *data);
int cli_route_demo_summary(lia_store *s);
int cmd_serve(cli *c, int argc, char **argv);
int cmd_accounts(cli *c, int argc, char **argv);
int cmd_taxii(cli *c, int argc, char **argv);
int cmd_export(cli *c, int argc, char **argv);
int cmd_shadowserver(cli *c, int argc, char **argv);
int cmd_incident(cli *c, int argc, char **argv);
int cmd_handoff(cli *c, int argc, char **argv);
int cmd_sla(cli *c, int argc, char **argv);
int cmd_metrics(cli *c, int argc, char **argv);
int cmd_report(cli *c, int argc, char **argv);
int cmd_audit(cli *c, int argc, char **argv);
int cmd_mail(cli *c, int argc, char **argv);
int cmd_node(cli *c, int argc, char **argv);
int cmd_advisory(cli *c, int argc, char **argv);
int cmd_drill(cli *c, int argc, char **argv);
/* The demo's second node (demo_node.c): B at DB.node-b answers A over HTTP
 * (for a PostgreSQL store, a SQLite file beside its archive: ARCHIVE.node-b). */
int cli_demo_node(lia_store *a, const char *db);
/* The actor of a change made from the command line ($LIAISON_USER, else
 * $USER; channel cli; address local) (cmd_incident.c). */
lia_actor cli_actor(void);
/* The node's signer key file: given, else $LIAISON_AUDIT_KEY, else DB.audit-key
 * (./liaison.audit-key for a PostgreSQL URI). */
int cli_audit_key_path(cli *c, const char *given, char *out, size_t n);
/* A time as the filters take it: YYYY-MM-DD, RFC 3339, or Nh / Nd ago.
 * 0, or -1 if it is none of these. */
int cli_parse_when(const char *s, int64_t *us);
/* --format table|json: *json 0 or 1; LIA_EXIT_USAGE after printing why. */
int cli_format_arg(const char *cmd, const char *arg, int *json);
/* For --format shadowserver: use the schema installed for the store (unless
 * fo->map_path is given), the file name for detection, and the schema's feed
 * name when fo->feed is not set. buf holds strings fo points to. */
int cli_shadowserver_opts(cli *c, lia_feed_opts *fo, const char *path, char *buf, size_t n);

#endif
