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

int cmd_init(cli *c, int argc, char **argv);
int cmd_ingest(cli *c, int argc, char **argv);
int cmd_events(cli *c, int argc, char **argv);
int cmd_quarantine(cli *c, int argc, char **argv);
int cmd_stats(cli *c, int argc, char **argv);
int cmd_demo(cli *c, int argc, char **argv);
int cmd_feeds(cli *c, int argc, char **argv);
int cmd_fetch(cli *c, int argc, char **argv);
/* ingest --feed NAME without --format: take format and options from the
 * registered feed f (filled); 1 if the feed is registered. */
int cli_feed_defaults(cli *c, lia_ingest_opts *o, lia_feed *f, int tlp_given);
int cmd_shadowserver(cli *c, int argc, char **argv);
/* For --format shadowserver: use the schema installed for the store (unless
 * fo->map_path is given), the file name for detection, and the schema's feed
 * name when fo->feed is not set. buf holds strings fo points to. */
int cli_shadowserver_opts(cli *c, lia_feed_opts *fo, const char *path, char *buf, size_t n);

#endif
