/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison worker | bus status: the work bus (include/liaison/bus.h). */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static volatile int stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void worker_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db STORE] worker --bus nats://HOST:PORT [options]\n"
               "       liaison worker status --bus URL   (the same as liaison bus status)\n"
               "\n"
               "Pull report chunks published by `liaison ingest --bus` and run each through\n"
               "parse, normalise, enrich, dedup, route and store, in one transaction per chunk,\n"
               "acknowledged after its commit: a chunk delivered again (a worker killed, an\n"
               "ack lost) stores nothing twice. Any number of workers on one PostgreSQL store\n"
               "(postgresql://...); on a SQLite store, one. SIGTERM or SIGINT: the chunk in\n"
               "hand is finished and acknowledged, then the worker exits.\n"
               "\n"
               "Options:\n"
               "  --bus URL            the NATS server (JetStream enabled)        [required]\n"
               "  --ack-wait SECONDS   a chunk not acknowledged after this long goes to\n"
               "                       another worker (default 30; set when the consumer\n"
               "                       is created); a worker still on a chunk sends an\n"
               "                       in-progress ack every third of it, and keeps it\n"
               "  --max-pending N      chunks delivered and not yet acknowledged, for all\n"
               "                       workers together (default 8; at creation)\n"
               "  --idle-exit SECONDS  exit after this long without a chunk (default: never)\n"
               "  -q, --quiet          no line per chunk\n");
}

int cmd_bus_status(cli *c, int argc, char **argv);

int cmd_worker(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"bus", required_argument, NULL, 'b'},
        {"ack-wait", required_argument, NULL, 'w'},
        {"max-pending", required_argument, NULL, 'p'},
        {"idle-exit", required_argument, NULL, 'i'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lia_bus_opts b;
    lia_bus_worker_opts w;
    lia_bus_worker_result res;
    lia_error err;
    lia_store *s = NULL;
    struct sigaction sa;
    uint64_t v;
    int ch, rc, quiet = 0;

    if (argc > 1 && strcmp(argv[1], "status") == 0)
        return cmd_bus_status(c, argc - 1, argv + 1);
    memset(&b, 0, sizeof b);
    memset(&w, 0, sizeof w);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': b.url = optarg; break;
        case 'w':
        case 'p':
        case 'i':
            if (cli_parse_u64(optarg, &v) || v == 0 || v > 86400) {
                cli_errorf("worker: %s %s: a whole number from 1 to 86400 is expected", argv[optind - 2],
                           optarg);
                return LIA_EXIT_USAGE;
            }
            if (ch == 'w')
                w.ack_wait_ms = (int64_t)v * 1000;
            else if (ch == 'p')
                w.max_ack_pending = (int)v;
            else
                w.idle_exit_ms = (int)v * 1000;
            break;
        case 'q': quiet = 1; break;
        case 'h': worker_usage(stdout); return LIA_EXIT_OK;
        default:
            cli_errorf("worker: bad option %s (see liaison worker --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_errorf("worker: unexpected argument %s (see liaison worker --help)", argv[optind]);
        return LIA_EXIT_USAGE;
    }
    if (!b.url) {
        cli_errorf("worker: --bus nats://HOST:PORT is required");
        return LIA_EXIT_USAGE;
    }
    w.stop = &stop_flag;
    w.log = quiet ? NULL : stdout;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if ((rc = cli_open_store(c, &s)))
        return rc;
    lia_error_clear(&err);
    rc = lia_bus_work(s, &b, &w, &res, &err);
    lia_store_close(s);
    printf("worker: %llu chunks stored (%llu events, %llu quarantined), %llu delivered again and skipped, "
           "%llu failed, %llu reports completed, %llu in-progress acks, in %.1f s\n",
           (unsigned long long)res.chunks, (unsigned long long)res.events,
           (unsigned long long)res.quarantined, (unsigned long long)res.duplicates,
           (unsigned long long)res.failed, (unsigned long long)res.completed,
           (unsigned long long)res.kept_alive, res.seconds);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}

int cmd_bus_status(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"bus", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lia_bus_opts b;
    lia_bus_status st;
    lia_error err;
    int ch, rc;
    (void)c;
    memset(&b, 0, sizeof b);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': b.url = optarg; break;
        case 'h':
            printf("usage: liaison bus status --bus nats://HOST:PORT\n\n"
                   "The work bus: chunks in the stream (depth, bytes, limits) and, for the\n"
                   "workers' durable consumer, chunks not yet delivered, delivered and not yet\n"
                   "acknowledged, delivered more than once, and idle pull requests.\n");
            return LIA_EXIT_OK;
        default:
            cli_errorf("bus status: bad option %s (see liaison bus status --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    if (!b.url || optind != argc) {
        cli_errorf("bus status: --bus nats://HOST:PORT is expected, and nothing else");
        return LIA_EXIT_USAGE;
    }
    lia_error_clear(&err);
    if ((rc = lia_bus_status_get(&b, &st, &err))) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    printf("stream: %llu chunks, %llu bytes (limits %lld chunks, %lld bytes)\n", (unsigned long long)st.msgs,
           (unsigned long long)st.bytes, (long long)st.max_msgs, (long long)st.max_bytes);
    if (!st.has_consumer)
        printf("consumer: none yet (no worker has started)\n");
    else
        printf(
            "consumer: %llu pending, %llu delivered unacknowledged, %llu redelivered, %llu workers waiting, "
            "acknowledged up to %llu, %llu deliveries in all (ack wait %lld s)\n",
            (unsigned long long)st.pending, (unsigned long long)st.ack_pending,
            (unsigned long long)st.redelivered, (unsigned long long)st.waiting, (unsigned long long)st.acked,
            (unsigned long long)st.deliveries, (long long)(st.ack_wait_ms / 1000));
    return LIA_EXIT_OK;
}

int cmd_bus(cli *c, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "status") == 0)
        return cmd_bus_status(c, argc - 1, argv + 1);
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: liaison bus status --bus nats://HOST:PORT\n");
        return LIA_EXIT_OK;
    }
    cli_errorf("bus: expected: status (see liaison bus --help)");
    return LIA_EXIT_USAGE;
}
