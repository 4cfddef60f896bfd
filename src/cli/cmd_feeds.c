/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison feeds list|add|set|show|enable|disable|remove|presets|health, and
 * liaison fetch [NAME]. */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static int64_t now_us(void)
{
    return (int64_t)time(NULL) * 1000000;
}

static void fmt_duration(int64_t s, char *out, size_t n)
{
    if (s <= 0)
        snprintf(out, n, "manual");
    else if (s % 86400 == 0)
        snprintf(out, n, "%lldd", (long long)(s / 86400));
    else if (s % 3600 == 0)
        snprintf(out, n, "%lldh", (long long)(s / 3600));
    else if (s % 60 == 0)
        snprintf(out, n, "%lldm", (long long)(s / 60));
    else
        snprintf(out, n, "%llds", (long long)s);
}

static void fmt_time(int64_t us, char *out, size_t n)
{
    if (!us)
        snprintf(out, n, "never");
    else
        lia_time_format(us, out, n);
}

static void feeds_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] feeds COMMAND [ARGS]\n"
               "\n"
               "The feed registry: where reports come from, in which format, how often.\n"
               "\n"
               "  list                      registered feeds\n"
               "  add NAME --format F (--url URL | --dir DIR) [options]\n"
               "  add --preset P [--name NAME] [options]   a well-known feed (see presets)\n"
               "  presets                   well-known public feeds\n"
               "  show NAME                 one feed, with its fetch state\n"
               "  enable NAME | disable NAME\n"
               "  set NAME --retention AGE|none   prune its reports AGE (36h, 180d, 12w) after\n"
               "                            they were received (liaison store prune)\n"
               "  remove NAME               (its stored reports and events stay)\n"
               "  health                    per feed: last fetch/success/error, reports, rows,\n"
               "                            events, quarantined, events/s; LATE = no success\n"
               "                            within 2 x its interval, FAILING = last attempt\n"
               "                            failed; exit 3 if any feed is flagged\n"
               "\n"
               "Options of add:\n"
               "  --format F        report format (liaison ingest --help lists them)\n"
               "  --url URL         fetch over http(s) (liaison fetch)\n"
               "  --dir DIR         drop directory: new files are ingested, then moved\n"
               "                    into DIR/done or DIR/failed\n"
               "  --interval DUR    schedule: 3600, 90s, 15m, 6h, 1d (default 1h; 0 = manual)\n"
               "  --provider NAME   feed.provider\n"
               "  --tlp LABEL       TLP of its events (default AMBER)\n"
               "  --doc URL         documentation link\n"
               "  --map FILE        CSV mapping file (format csv)\n"
               "  --subtype S       format option (report type, list name, value columns)\n"
               "  --retention AGE   prune its reports AGE after they were received (36h, 180d,\n"
               "                    12w; liaison store prune); default none\n"
               "  --disabled        add it disabled\n");
}

static int print_feed_row(void *ud, const lia_feed *f)
{
    char iv[32];
    int *n = ud;
    if ((*n)++ == 0)
        printf("%-28s %-15s %-8s %-7s %s\n", "NAME", "FORMAT", "ENABLED", "EVERY", "SOURCE");
    fmt_duration(f->interval_s, iv, sizeof iv);
    printf("%-28s %-15s %-8s %-7s %s\n", f->name, f->format, f->enabled ? "yes" : "no", iv,
           f->url[0] ? f->url : f->dir);
    return 0;
}

static void show_feed(const lia_feed *f)
{
    char iv[32], t1[48], t2[48];
    fmt_duration(f->interval_s, iv, sizeof iv);
    printf("name:           %s\n", f->name);
    printf("provider:       %s\n", f->provider);
    printf("format:         %s\n", f->format);
    if (f->subtype[0])
        printf("subtype:        %s\n", f->subtype);
    if (f->map_path[0])
        printf("map:            %s\n", f->map_path);
    printf("%s %s\n", f->url[0] ? "url:           " : "drop directory:", f->url[0] ? f->url : f->dir);
    printf("interval:       %s\n", iv);
    printf("tlp:            %s\n", f->tlp >= 0 ? lia_tlp_name(f->tlp) : "(none)");
    printf("documentation:  %s\n", f->doc);
    printf("enabled:        %s\n", f->enabled ? "yes" : "no");
    if (f->retention_s) {
        fmt_duration(f->retention_s, iv, sizeof iv);
        printf("retention:      %s (liaison store prune)\n", iv);
    } else {
        printf("retention:      none\n");
    }
    fmt_time(f->last_fetch_us, t1, sizeof t1);
    fmt_time(f->last_success_us, t2, sizeof t2);
    printf("last fetch:     %s%s\n", t1, f->last_fetch_us ? (f->last_ok ? " (ok)" : " (FAILED)") : "");
    printf("last success:   %s\n", t2);
    if (f->last_error[0])
        printf("last error:     %s\n", f->last_error);
    if (f->etag[0])
        printf("etag:           %s\n", f->etag);
    if (f->last_modified[0])
        printf("last modified:  %s\n", f->last_modified);
}

/* Copy option --opt's value v into dst (n bytes): a value that does not fit
 * is refused naming the option and the limit, never stored cut short. */
static int put(char *dst, size_t n, const char *opt, const char *v)
{
    if (strlen(v) >= n) {
        cli_errorf("feeds add: --%s %.40s...: %zu bytes, longer than the limit of %zu", opt, v, strlen(v),
                   n - 1);
        return -1;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* --retention AGE (36h, 180d, 12w) or none (0): 0 on success, else says why. */
static int retention_arg(const char *cmd, const char *v, int64_t *secs)
{
    lia_error err;
    lia_error_clear(&err);
    if (strcmp(v, "none") == 0) {
        *secs = 0;
        return 0;
    }
    if (lia_retention_parse("--retention", v, secs, &err)) {
        char msg[600];
        lia_error_format(&err, msg, sizeof msg);
        cli_errorf("%s: %s (or none: kept until pruned by hand)", cmd, msg);
        return -1;
    }
    return 0;
}

/* feeds set NAME --retention AGE|none */
static int feeds_set(lia_store *s, int argc, char **argv)
{
    lia_error err;
    int64_t secs = -1;
    const char *name = NULL;
    char t[32];
    lia_error_clear(&err);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--retention") == 0 && i + 1 < argc) {
            if (retention_arg("feeds set", argv[++i], &secs))
                return LIA_EXIT_USAGE;
        } else if (strncmp(argv[i], "--retention=", 12) == 0) {
            if (retention_arg("feeds set", argv[i] + 12, &secs))
                return LIA_EXIT_USAGE;
        } else if (argv[i][0] != '-' && !name) {
            name = argv[i];
        } else {
            cli_errorf("feeds set: bad argument %s (feeds set NAME --retention AGE|none)", argv[i]);
            return LIA_EXIT_USAGE;
        }
    }
    if (!name || secs < 0) {
        cli_errorf("feeds set: NAME and --retention AGE|none are expected (36h, 180d, 12w)");
        return LIA_EXIT_USAGE;
    }
    if (lia_feeds_set_retention(s, name, secs, &err)) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    fmt_duration(secs, t, sizeof t);
    if (secs)
        printf("feed %s: its reports are pruned %s after they were received (liaison store prune)\n", name,
               t);
    else
        printf("feed %s: no retention (its reports stay until pruned by hand)\n", name);
    return LIA_EXIT_OK;
}

static int feeds_add(lia_store *s, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'F'},    {"url", required_argument, NULL, 'u'},
        {"dir", required_argument, NULL, 'd'},       {"interval", required_argument, NULL, 'i'},
        {"provider", required_argument, NULL, 'p'},  {"tlp", required_argument, NULL, 't'},
        {"doc", required_argument, NULL, 'D'},       {"map", required_argument, NULL, 'm'},
        {"subtype", required_argument, NULL, 'S'},   {"disabled", no_argument, NULL, 'x'},
        {"preset", required_argument, NULL, 'P'},    {"name", required_argument, NULL, 'n'},
        {"retention", required_argument, NULL, 'R'}, {NULL, 0, NULL, 0},
    };
    lia_feed f;
    lia_error err;
    const char *preset = NULL, *name = NULL;
    char *vals[128] = {0};
    int ch, disabled = 0;
    memset(&f, 0, sizeof f);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == '?' || ch == ':') {
            cli_errorf("feeds add: bad option %s (see liaison feeds --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
        if (ch == 'P')
            preset = optarg;
        else if (ch == 'n')
            name = optarg;
        else if (ch == 'x')
            disabled = 1;
        else
            vals[ch] = optarg;
    }
    if (preset) {
        const lia_feed_preset *p = lia_feed_preset_find(preset);
        if (!p) {
            cli_errorf("feeds add: no preset '%s' (see liaison feeds presets)", preset);
            return LIA_EXIT_USAGE;
        }
        lia_feed_from_preset(p, &f);
        if (optind < argc)
            name = name ? name : argv[optind++];
    } else {
        if (optind >= argc) {
            cli_errorf("feeds add: a NAME is expected (see liaison feeds --help)");
            return LIA_EXIT_USAGE;
        }
        name = argv[optind++];
        f.tlp = LIA_TLP_AMBER;
        f.interval_s = 3600;
        f.enabled = 1;
    }
    if (optind != argc) {
        cli_errorf("feeds add: unexpected argument %s", argv[optind]);
        return LIA_EXIT_USAGE;
    }
    if (name)
        snprintf(f.name, sizeof f.name, "%s", name);
#define SET(ch, field, opt)                                                                                  \
    if (vals[ch] && put(f.field, sizeof f.field, opt, vals[ch]))                                             \
    return LIA_EXIT_USAGE
    SET('F', format, "format");
    SET('p', provider, "provider");
    SET('D', doc, "doc");
    if (vals['m'] && strncmp(vals['m'], "builtin:", 8) == 0) {
        SET('m', map_path, "map");
    } else if (vals['m']) { /* kept absolute: fetch may run from another directory */
        char *abs = realpath(vals['m'], NULL);
        if (!abs) {
            cli_errorf("feeds add: --map %s: no such file", vals['m']);
            return LIA_EXIT_USAGE;
        }
        int bad = put(f.map_path, sizeof f.map_path, "map", abs);
        free(abs);
        if (bad)
            return LIA_EXIT_USAGE;
    }
    SET('S', subtype, "subtype");
    if (vals['u']) {
        SET('u', url, "url");
        f.dir[0] = '\0';
    }
    if (strstr(f.url, "{{")) { /* a preset whose URL has a part to fill in */
        cli_errorf("feeds add: the URL %s has a part to fill in: give --url with it filled in", f.url);
        return LIA_EXIT_USAGE;
    }
    if (vals['d']) {
        if (vals['d'][0] != '/') {
            char *abs = realpath(vals['d'], NULL);
            if (!abs) {
                cli_errorf("feeds add: --dir %s: no such directory", vals['d']);
                return LIA_EXIT_USAGE;
            }
            int bad = put(f.dir, sizeof f.dir, "dir", abs);
            free(abs);
            if (bad)
                return LIA_EXIT_USAGE;
        } else {
            SET('d', dir, "dir");
        }
#undef SET
        if (!vals['u'])
            f.url[0] = '\0';
    }
    if (vals['i']) { /* 0: fetched only when asked */
        const char *why;
        int64_t secs = 0;
        if (strcmp(vals['i'], "0") != 0 && lia_parse_duration(vals['i'], strlen(vals['i']), &secs, &why)) {
            cli_errorf("feeds add: --interval %s: %s", vals['i'], why);
            return LIA_EXIT_USAGE;
        }
        f.interval_s = secs;
    }
    if (vals['t'] && lia_parse_tlp(vals['t'], strlen(vals['t']), &f.tlp, NULL)) {
        cli_errorf("feeds add: --tlp %s: not a TLP 2.0 label (CLEAR GREEN AMBER AMBER+STRICT RED)",
                   vals['t']);
        return LIA_EXIT_USAGE;
    }
    if (vals['R'] && retention_arg("feeds add", vals['R'], &f.retention_s))
        return LIA_EXIT_USAGE;
    if (disabled)
        f.enabled = 0;
    f.last_ok = 1;
    lia_error_clear(&err);
    if (lia_feeds_add(s, &f, &err)) {
        cli_error(&err);
        return err.code == LIA_EINVAL ? LIA_EXIT_USAGE : LIA_EXIT_ERROR;
    }
    printf("feed %s added (%s, %s)\n", f.name, f.format, f.url[0] ? f.url : f.dir);
    return LIA_EXIT_OK;
}

typedef struct hout {
    int n, flagged;
} hout;

static int print_health(void *ud, const lia_feed_health *h)
{
    hout *o = ud;
    char lf[48], ls[48];
    const lia_feed *f = h->feed;
    if (o->n++ == 0)
        printf("%-24s %-8s %-20s %-20s %7s %9s %9s %7s %10s  %s\n", "FEED", "STATE", "LAST FETCH",
               "LAST SUCCESS", "REPORTS", "ROWS", "EVENTS", "QUAR", "EVENTS/S", "LAST ERROR");
    fmt_time(f->last_fetch_us, lf, sizeof lf);
    fmt_time(f->last_success_us, ls, sizeof ls);
    if (strlen(lf) > 19)
        lf[19] = '\0';
    if (strlen(ls) > 19)
        ls[19] = '\0';
    printf("%-24s %-8s %-20s %-20s %7llu %9llu %9llu %7llu %10.0f  %s\n", f->name,
           h->failing   ? "FAILING"
           : h->late    ? "LATE"
           : f->enabled ? "ok"
                        : "disabled",
           lf, ls, (unsigned long long)h->reports, (unsigned long long)h->rows, (unsigned long long)h->events,
           (unsigned long long)h->quarantined, h->events_per_s, f->last_error);
    if (h->failing && h->late)
        printf("%-24s (also LATE: no success within 2 x its interval)\n", "");
    o->flagged += h->failing || h->late;
    return 0;
}

int cmd_feeds(cli *c, int argc, char **argv)
{
    lia_store *s = NULL;
    lia_error err;
    const char *sub = argc > 1 ? argv[1] : "list";
    int rc = LIA_EXIT_OK;
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        feeds_usage(stdout);
        return LIA_EXIT_OK;
    }
    if (strcmp(sub, "presets") == 0) {
        const lia_feed_preset *const tables[] = {lia_feed_presets, lia_feed_map_presets};
        printf("%-28s %-15s %-7s %s\n", "PRESET", "FORMAT", "EVERY", "URL / documentation / licence");
        for (size_t t = 0; t < 2; t++)
            for (const lia_feed_preset *p = tables[t]; p->name; p++) {
                char iv[32];
                fmt_duration(p->interval_s, iv, sizeof iv);
                printf("%-28s %-15s %-7s %s\n%-52s %s\n%-52s %s\n", p->name, p->map ? p->map : p->format, iv,
                       p->url, "", p->doc, "", p->summary);
                if (p->licence)
                    printf("%-52s licence: %s\n", "", p->licence);
            }
        return LIA_EXIT_OK;
    }
    if (strcmp(sub, "list") && strcmp(sub, "add") && strcmp(sub, "show") && strcmp(sub, "enable") &&
        strcmp(sub, "disable") && strcmp(sub, "remove") && strcmp(sub, "health") && strcmp(sub, "set")) {
        cli_errorf("feeds: unknown command '%s' (see liaison feeds --help)", sub);
        return LIA_EXIT_USAGE;
    }
    if (strcmp(sub, "show") == 0 || strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0 ||
        strcmp(sub, "remove") == 0) {
        if (argc != 3) {
            cli_errorf("feeds %s: exactly one feed NAME is expected", sub);
            return LIA_EXIT_USAGE;
        }
    } else if (strcmp(sub, "add") != 0 && strcmp(sub, "set") != 0 && argc > 2) {
        cli_errorf("feeds %s: unexpected argument %s", sub, argv[2]);
        return LIA_EXIT_USAGE;
    }
    if ((rc = cli_open_store(c, &s)))
        return rc;
    lia_error_clear(&err);
    if (strcmp(sub, "add") == 0) {
        rc = feeds_add(s, argc - 1, argv + 1);
    } else if (strcmp(sub, "set") == 0) {
        rc = feeds_set(s, argc - 1, argv + 1);
    } else if (strcmp(sub, "list") == 0) {
        int n = 0;
        if (lia_feeds_list(s, print_feed_row, &n, &err))
            goto fail;
        if (!n)
            printf("no feeds registered (liaison feeds add, liaison feeds presets)\n");
    } else if (strcmp(sub, "show") == 0) {
        lia_feed f;
        if (lia_feeds_get(s, argv[2], &f, &err))
            goto fail;
        show_feed(&f);
    } else if (strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0) {
        if (lia_feeds_set_enabled(s, argv[2], sub[0] == 'e', &err))
            goto fail;
        printf("feed %s %sd\n", argv[2], sub);
    } else if (strcmp(sub, "remove") == 0) {
        if (lia_feeds_remove(s, argv[2], &err))
            goto fail;
        printf("feed %s removed (its reports and events stay in the store)\n", argv[2]);
    } else {
        hout o = {0, 0};
        if (lia_feeds_health(s, now_us(), print_health, &o, &err))
            goto fail;
        if (!o.n)
            printf("no feeds registered (liaison feeds add, liaison feeds presets)\n");
        rc = o.flagged ? LIA_EXIT_DATA : LIA_EXIT_OK;
    }
    lia_store_close(s);
    return rc;
fail:
    cli_error(&err);
    lia_store_close(s);
    return LIA_EXIT_ERROR;
}

/* ---- ingest --feed NAME without --format: the registered feed's options ---- */

int cli_feed_defaults(cli *c, lia_ingest_opts *o, lia_feed *f, int tlp_given)
{
    lia_store *s = NULL;
    lia_error err;
    int found;
    lia_error_clear(&err);
    if (lia_store_open(c->db, &s, &err))
        return 0;
    found = lia_feeds_get(s, o->feed.feed, f, &err) == LIA_OK;
    lia_store_close(s);
    if (!found)
        return 0;
    o->format = f->format;
    if (!o->feed.map_path && f->map_path[0])
        o->feed.map_path = f->map_path;
    if (!o->feed.provider && f->provider[0])
        o->feed.provider = f->provider;
    if (!o->feed.subtype && f->subtype[0])
        o->feed.subtype = f->subtype;
    if (!tlp_given)
        o->feed.tlp = f->tlp;
    return 1;
}

/* ---- fetch ---- */

static volatile int fetch_stop;
static void on_fetch_signal(int sig)
{
    (void)sig;
    fetch_stop = 1;
}

typedef struct due {
    char (*names)[LIA_FEED_NAME_MAX];
    size_t n, cap;
    int64_t now;
} due;

static int collect_due(void *ud, const lia_feed *f)
{
    due *d = ud;
    if (!lia_feed_due(f, d->now))
        return 0;
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        void *p = realloc(d->names, nc * sizeof *d->names);
        if (!p)
            return LIA_ENOMEM;
        d->names = p;
        d->cap = nc;
    }
    snprintf(d->names[d->n++], LIA_FEED_NAME_MAX, "%s", f->name);
    return 0;
}

int cmd_fetch(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"timeout", required_argument, NULL, 't'}, {"max-bytes", required_argument, NULL, 'b'},
        {"retries", required_argument, NULL, 'r'}, {"quiet", no_argument, NULL, 'q'},
        {"ca-file", required_argument, NULL, 'C'}, {"bus", required_argument, NULL, 'B'},
        {"chunk", required_argument, NULL, 'K'},   {"bus-limit", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    lia_fetch_opts o;
    lia_store *s = NULL;
    lia_error err;
    due d = {NULL, 0, 0, now_us()};
    uint64_t v;
    int ch, rc, failed = 0, quiet = 0;
    struct sigaction sa;
    memset(&o, 0, sizeof o);
    o.retries = -1;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
        switch (ch) {
        case 't':
            if (cli_parse_u64(optarg, &v) || v == 0 || v > 86400) {
                cli_errorf("fetch: --timeout %s: seconds (1-86400) expected", optarg);
                return LIA_EXIT_USAGE;
            }
            o.timeout_ms = (long)v * 1000;
            break;
        case 'b':
            if (cli_parse_u64(optarg, &v) || v == 0) {
                cli_errorf("fetch: --max-bytes %s: a positive number expected", optarg);
                return LIA_EXIT_USAGE;
            }
            o.max_bytes = v;
            break;
        case 'r':
            if (cli_parse_u64(optarg, &v) || v > 10) {
                cli_errorf("fetch: --retries %s: 0-10 expected", optarg);
                return LIA_EXIT_USAGE;
            }
            o.retries = (int)v;
            break;
        case 'q': quiet = 1; break;
        case 'C': o.ca_file = optarg; break;
        case 'B':
            if (strncmp(optarg, "nats://", 7) != 0) {
                cli_errorf("fetch: --bus %s: a NATS URL (nats://HOST:PORT) is expected", optarg);
                return LIA_EXIT_USAGE;
            }
            o.bus_url = optarg;
            break;
        case 'K':
            if (cli_parse_u64(optarg, &v) || v == 0 || v > 1000000) {
                cli_errorf("fetch: --chunk %s: a number of records from 1 to 1000000 is expected", optarg);
                return LIA_EXIT_USAGE;
            }
            o.bus_chunk = (size_t)v;
            break;
        case 'L':
            if (cli_parse_u64(optarg, &v) || v == 0 || v > 100000000) {
                cli_errorf("fetch: --bus-limit %s: a number of chunks from 1 to 100000000 is expected",
                           optarg);
                return LIA_EXIT_USAGE;
            }
            o.bus_limit = (int64_t)v;
            break;
        case 'h':
            printf("usage: liaison [--db PATH] fetch [options] [NAME]\n\n"
                   "Fetch feed NAME now, or every enabled feed that is due per its schedule.\n"
                   "URL feeds: conditional GET (ETag / Last-Modified), retries with exponential\n"
                   "backoff on network errors and 5xx/408/429, TLS certificates verified; the\n"
                   "body is ingested (archived, and skipped if its content was seen before).\n"
                   "Drop directories: each new file is ingested, then moved into done/ or failed/.\n\n"
                   "Options:\n"
                   "  --timeout SEC     whole-download timeout (default %d)\n"
                   "  --max-bytes N     size cap of a download (default %llu)\n"
                   "  --retries N       retries after the first attempt (default %d)\n"
                   "  --ca-file PEM     verify servers against the CA certificates in PEM\n"
                   "                    (e.g. a private feed server's CA)\n"
                   "  -q, --quiet       no progress line\n"
                   "  --bus URL         do not process here: register and archive each fetched\n"
                   "                    report, then publish it in chunks to the work bus\n"
                   "                    (nats://HOST:PORT) for `liaison worker` processes, as\n"
                   "                    liaison ingest --bus does\n"
                   "  --chunk N         records per chunk with --bus (default 2000)\n"
                   "  --bus-limit N     chunks the stream holds, when this creates it\n\n"
                   "Exit codes: 0 all fetched, 1 a feed failed (see liaison feeds health).\n",
                   LIA_FETCH_TIMEOUT_MS / 1000, (unsigned long long)LIA_FETCH_MAX_BYTES, LIA_FETCH_RETRIES);
            return LIA_EXIT_OK;
        default:
            cli_errorf("fetch: bad option %s (see liaison fetch --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        cli_errorf("fetch: at most one feed NAME is expected");
        return LIA_EXIT_USAGE;
    }
    if (!quiet && isatty(STDERR_FILENO))
        o.progress = stderr;
    o.stop = &fetch_stop;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fetch_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if ((rc = cli_open_store(c, &s)))
        return rc;
    lia_error_clear(&err);
    if (optind < argc) {
        if (collect_due(&d, &(lia_feed){.enabled = 1, .interval_s = 1}) != 0)
            goto oom;
        snprintf(d.names[0], LIA_FEED_NAME_MAX, "%s", argv[optind]);
    } else if ((rc = lia_feeds_list(s, collect_due, &d, &err))) {
        if (rc == LIA_ENOMEM)
            goto oom;
        cli_error(&err);
        lia_store_close(s);
        free(d.names);
        return LIA_EXIT_ERROR;
    }
    if (d.n == 0)
        printf("no feed is due\n");
    for (size_t i = 0; i < d.n && !fetch_stop; i++) {
        lia_fetch_result res;
        lia_error_clear(&err);
        rc = lia_fetch_feed(s, d.names[i], &o, &res, &err);
        if (rc) {
            char m[1024];
            lia_error_format(&err, m, sizeof m);
            printf("%s: FAILED: %s\n", d.names[i], m);
            failed++;
            if (rc == LIA_EINTR)
                break;
            continue;
        }
        switch (res.status) {
        case LIA_FETCH_NOT_MODIFIED:
            printf("%s: not modified%s\n", d.names[i],
                   res.http_code == 304 ? " (HTTP 304)" : " (same content as an earlier report)");
            break;
        case LIA_FETCH_EMPTY: printf("%s: no new file\n", d.names[i]); break;
        default:
            if (o.bus_url && res.files)
                printf("%s: %u file(s), %u failed: %llu reports, %llu chunks, %llu published to the bus; "
                       "workers store them\n",
                       d.names[i], res.files, res.files_failed, (unsigned long long)res.reports,
                       (unsigned long long)res.chunks, (unsigned long long)res.published);
            else if (o.bus_url)
                printf("%s: %llu bytes (HTTP %ld, %d attempt(s)): %llu chunks, %llu published to the bus; "
                       "workers store them\n",
                       d.names[i], (unsigned long long)res.bytes, res.http_code, res.attempts,
                       (unsigned long long)res.chunks, (unsigned long long)res.published);
            else if (res.files)
                printf("%s: %u file(s), %u failed: %llu rows, %llu events, %llu quarantined\n", d.names[i],
                       res.files, res.files_failed, (unsigned long long)res.rows,
                       (unsigned long long)res.events, (unsigned long long)res.quarantined);
            else
                printf("%s: %llu bytes (HTTP %ld, %d attempt(s)): %llu rows, %llu events, %llu quarantined\n",
                       d.names[i], (unsigned long long)res.bytes, res.http_code, res.attempts,
                       (unsigned long long)res.rows, (unsigned long long)res.events,
                       (unsigned long long)res.quarantined);
        }
    }
    lia_store_close(s);
    free(d.names);
    if (fetch_stop)
        return LIA_EXIT_INTERRUPTED;
    return failed ? LIA_EXIT_ERROR : LIA_EXIT_OK;
oom:
    cli_errorf("fetch: out of memory");
    lia_store_close(s);
    free(d.names);
    return LIA_EXIT_ERROR;
}
