/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison serve | accounts | taxii */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "liaison/accounts.h"
#include "liaison/http.h"
#include "liaison/report.h"
#include "liaison/taxii.h"

/* A whole file (at most max bytes) as a NUL-terminated malloc'd string: the
 * CLI's one file reader (cli_read_file), which owns the buffer until here. */
static char *slurp(const char *path, size_t max, size_t *len)
{
    lia_buf b;
    if (cli_read_file(path, max, &b))
        return NULL;
    *len = b.len;
    return b.ptr;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

static volatile sig_atomic_t serve_stop;
static void on_stop(int sig)
{
    (void)sig;
    serve_stop = 1;
}

static void serve_usage(FILE *f)
{
    fprintf(f,
            "usage: liaison [--db PATH] serve [options]\n"
            "\n"
            "Serve the TAXII 2.1 API, the REST API, the console, partner nodes and the CSAF\n"
            "provider (/.well-known/csaf/, liaison advisory), and /health, until SIGINT/SIGTERM.\n"
            "Listens on 127.0.0.1 only unless --listen says otherwise.\n"
            "\n"
            "Options:\n"
            "  --listen ADDR:PORT    address to bind (default 127.0.0.1:8443; [::1]:PORT for IPv6)\n"
            "  --cert FILE           TLS certificate chain (PEM); with --key: HTTPS\n"
            "  --key FILE            TLS private key (PEM)\n"
            "                        (or $LIAISON_TLS_CERT / $LIAISON_TLS_KEY)\n"
            "  --threads N           worker threads (default: one per CPU)\n"
            "  --max-body BYTES      request body limit (default %u)\n"
            "  --max-header BYTES    header memory per connection (default %u)\n"
            "  --timeout SECONDS     idle connection timeout (default %u)\n"
            "  --header-timeout S    request headers complete within S of the connection, a\n"
            "                        body within S plus its size at %g bytes/s (default %u)\n"
            "  --max-conns N         simultaneous connections (default %u)\n"
            "  --per-ip-conns N      simultaneous connections from one address (default %u;\n"
            "                        behind a reverse proxy all clients share its one)\n"
            "  --rate R --burst B    token bucket per API key or user (default %g/s, %g), kept\n"
            "                        in the store: every serve on it (replicas) shares them\n"
            "  --rate-local          the buckets in this process only (one replica; no store\n"
            "                        write per request)\n"
            "  --access-log FILE     one line per request ('-' = stdout, default)\n"
            "  --public-url URL      base URL written in discovery (default from Host)\n"
            "  --console-dir DIR     the web console's built assets (default: $LIAISON_CONSOLE_DIR,\n"
            "                        else the installed share/liaison/console, else this\n"
            "                        source tree's web/dist, built by make)\n"
            "  --session-idle S      console session idle expiry (default %u)\n"
            "  --session-max S       console session absolute expiry (default %u)\n"
            "  --node-sync S         every S seconds, liaison node sync: queue what changed for\n"
            "                        partner nodes and send what is due, with its backoff\n"
            "                        (default 60; 0: only by hand)\n"
            "  --reports S           every S seconds, liaison report run: the scheduled reports\n"
            "                        now due (default 3600; 0: only by hand)\n",
            LIA_HTTP_MAX_BODY, LIA_HTTP_MAX_HEADER, LIA_HTTP_TIMEOUT_S, LIA_HTTP_MIN_BODY_RATE,
            LIA_HTTP_HEADER_TIMEOUT_S, LIA_HTTP_MAX_CONNS, LIA_HTTP_PER_IP_CONNS, LIA_HTTP_RATE,
            LIA_HTTP_BURST, LIA_CONSOLE_IDLE_S, LIA_CONSOLE_MAX_S);
}

/* ---- node sync on a timer ---- */

typedef struct syncer {
    cli *c;
    unsigned every_s; /* node sync */
    pthread_t thread;
    int running;
    unsigned reports_s; /* scheduled reports (liaison report run) */
} syncer;

/* One liaison node sync (every peer, with its backoff), its own store
 * handle; says what it did when it did something or a peer failed anew. */
static void sync_once(syncer *y, char *last, size_t nlast)
{
    const char *origin = getenv("LIAISON_AUDIT_ORIGIN");
    lia_node_sync_opts so;
    lia_node_sync_report rep;
    lia_note_key k;
    lia_store *s;
    lia_error err, e2;
    char kp[4096];
    int have_key = 0;
    if (lia_store_open(y->c->db, &s, &err)) {
        fprintf(stderr, "liaison: node sync: %s\n", err.reason);
        return;
    }
    lia_audit_set_actor(s, &(lia_actor){"liaison", "node", NULL});
    memset(&so, 0, sizeof so);
    lia_error_clear(&e2);
    if (!origin || !*origin)
        origin = "liaison.local/audit";
    if (cli_audit_key_path(y->c, NULL, kp, sizeof kp) == 0 &&
        lia_audit_key_load(kp, origin, 1, &k, &e2) == LIA_OK) {
        so.key = &k;
        so.origin = origin;
        have_key = 1;
    }
    lia_error_clear(&err);
    if (lia_node_sync(s, &so, &rep, &err)) {
        if (strcmp(last, err.reason) != 0)
            fprintf(stderr, "liaison: node sync: %s\n", err.reason);
        snprintf(last, nlast, "%s", err.reason);
    } else {
        if (rep.sent || rep.queued)
            fprintf(stderr, "liaison: node sync: %llu queued, %llu delivered, %llu failed, %llu waiting\n",
                    (unsigned long long)rep.queued, (unsigned long long)rep.sent,
                    (unsigned long long)rep.failed, (unsigned long long)rep.waiting);
        if (rep.failed && strcmp(last, rep.last_error) != 0)
            fprintf(stderr, "liaison: node sync: %s (retried with backoff)\n", rep.last_error);
        snprintf(last, nlast, "%s", rep.failed ? rep.last_error : "");
    }
    if (have_key)
        sodium_memzero(&k, sizeof k);
    lia_store_close(s);
}

static int report_due_cb(void *ud, const char *schedule, const char *period, const lia_report_sent *r)
{
    (void)ud;
    fprintf(stderr, "liaison: report %s %s: %s -> %s: %s%s%s\n", schedule, period, r->entry,
            r->address[0] ? r->address : "-", r->outcome, r->error ? ": " : "", r->error ? r->error : "");
    return 0;
}

/* One liaison report run: the schedules' months now due, with the routing
 * configuration's SMTP and signing key. */
static void reports_once(syncer *y, char *last, size_t nlast)
{
    lia_report_send_opts so = {0};
    lia_store *s;
    lia_error err;
    lia_error_clear(&err);
    if (lia_store_open(y->c->db, &s, &err) == LIA_OK) {
        lia_audit_set_actor(s, &(lia_actor){"liaison", "report", NULL});
        lia_report_run_due(s, 0, &so, report_due_cb, NULL, &err);
        lia_store_close(s);
    }
    if (err.reason[0] && strcmp(last, err.reason) != 0)
        fprintf(stderr, "liaison: report run: %s\n", err.reason);
    snprintf(last, nlast, "%s", err.reason);
}

/* The timers: node sync every every_s, reports every reports_s (0: off). */
static void *sync_loop(void *arg)
{
    syncer *y = arg;
    char last[256] = "", rlast[256] = "";
    for (uint64_t tick = 1;; tick++) {
        if (serve_stop)
            return NULL;
        usleep(100000);
        if (y->every_s && tick % ((uint64_t)y->every_s * 10) == 0)
            sync_once(y, last, sizeof last);
        if (y->reports_s && tick % ((uint64_t)y->reports_s * 10) == 0)
            reports_once(y, rlast, sizeof rlast);
    }
}

int cmd_serve(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},
        {"threads", required_argument, NULL, 't'},
        {"max-body", required_argument, NULL, 'b'},
        {"max-header", required_argument, NULL, 'H'},
        {"timeout", required_argument, NULL, 'T'},
        {"header-timeout", required_argument, NULL, 'S'},
        {"max-conns", required_argument, NULL, 'C'},
        {"per-ip-conns", required_argument, NULL, 'P'},
        {"rate", required_argument, NULL, 'r'},
        {"burst", required_argument, NULL, 'B'},
        {"rate-local", no_argument, NULL, 'L'},
        {"access-log", required_argument, NULL, 'a'},
        {"public-url", required_argument, NULL, 'u'},
        {"console-dir", required_argument, NULL, 'D'},
        {"session-idle", required_argument, NULL, 'I'},
        {"session-max", required_argument, NULL, 'M'},
        {"node-sync", required_argument, NULL, 'N'},
        {"reports", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lia_http_opts o;
    lia_http *h = NULL;
    lia_error err;
    const char *cert = getenv("LIAISON_TLS_CERT"), *key = getenv("LIAISON_TLS_KEY");
    const char *log = "-";
    char *cert_pem = NULL, *key_pem = NULL;
    FILE *logf = stdout;
    uint64_t v;
    int ch, rc = LIA_EXIT_OK;
    struct sigaction sa;
    syncer y = {c, 60, 0, 0, 3600};

    memset(&o, 0, sizeof o);
    o.listen = "127.0.0.1:8443";
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (ch) {
        case 'l': o.listen = optarg; break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'a': log = optarg; break;
        case 'u': o.public_url = optarg; break;
        case 'D': o.console_dir = optarg; break;
        case 'L': o.rate_local = 1; break;
        case 'I':
        case 'M':
        case 't':
        case 'b':
        case 'H':
        case 'T':
        case 'S':
        case 'C':
        case 'P':
            if (cli_parse_u64(optarg, &v) || v == 0 || v > (1u << 30)) {
                cli_errorf("serve: %s: expected a positive number", argv[optind - 1]);
                return LIA_EXIT_USAGE;
            }
            if (ch == 'I')
                o.session_idle_s = (unsigned)v;
            else if (ch == 'M')
                o.session_max_s = (unsigned)v;
            else if (ch == 't')
                o.threads = (unsigned)v;
            else if (ch == 'b')
                o.max_body = v;
            else if (ch == 'H')
                o.max_header = v;
            else if (ch == 'S')
                o.header_timeout_s = (unsigned)v;
            else if (ch == 'C')
                o.max_conns = (unsigned)v;
            else if (ch == 'P')
                o.per_ip_conns = (unsigned)v;
            else
                o.timeout_s = (unsigned)v;
            break;
        case 'r':
        case 'B':
            if (parse_double(optarg, ch == 'r' ? &o.rate : &o.burst)) {
                cli_errorf("serve: %s %s: expected a number >= 0", argv[optind - 2], optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'N':
            if (cli_parse_u64(optarg, &v) || v > 86400) {
                cli_errorf("serve: --node-sync %s: seconds from 0 (off) to 86400", optarg);
                return LIA_EXIT_USAGE;
            }
            y.every_s = (unsigned)v;
            break;
        case 'R':
            if (cli_parse_u64(optarg, &v) || v > 86400) {
                cli_errorf("serve: --reports %s: seconds from 0 (off) to 86400", optarg);
                return LIA_EXIT_USAGE;
            }
            y.reports_s = (unsigned)v;
            break;
        case 'h': serve_usage(stdout); return LIA_EXIT_OK;
        default:
            cli_errorf("serve: bad option %s (see liaison serve --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_errorf("serve: unexpected argument %s", argv[optind]);
        return LIA_EXIT_USAGE;
    }
    if ((cert && *cert) != (key && *key)) {
        cli_errorf("serve: TLS needs both --cert and --key");
        return LIA_EXIT_USAGE;
    }
    if (cert && *cert) {
        size_t n;
        if (!(cert_pem = slurp(cert, 1u << 20, &n)) || !(key_pem = slurp(key, 1u << 20, &n))) {
            rc = LIA_EXIT_ERROR;
            goto out;
        }
    }
    if (strcmp(log, "-") != 0 && !(logf = fopen(log, "a"))) {
        cli_errorf("serve: --access-log %s: %s", log, strerror(errno));
        rc = LIA_EXIT_ERROR;
        goto out;
    }
    o.db = c->db;
    o.cert_pem = cert_pem;
    o.key_pem = key_pem;
    o.access_log = logf;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    lia_error_clear(&err);
    if (lia_http_start(&o, &h, &err)) {
        cli_error(&err);
        rc = LIA_EXIT_ERROR;
        goto out;
    }
    fprintf(stderr, "liaison: serving TAXII 2.1 on %s://%s (port %u); discovery at /taxii2/\n",
            cert_pem ? "https" : "http", o.listen, lia_http_port(h));
    if (y.every_s || y.reports_s) { /* the signals stay the main thread's: its pause() must see them */
        sigset_t all, old;
        sigemptyset(&all);
        sigaddset(&all, SIGINT);
        sigaddset(&all, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        y.running = pthread_create(&y.thread, NULL, sync_loop, &y) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (!y.running)
            fprintf(stderr, "liaison: timers: cannot start their thread; run liaison node sync and liaison"
                            " report run by hand\n");
    }
    while (!serve_stop)
        pause();
    fprintf(stderr, "liaison: stopping (finishing requests in progress)\n");
    if (y.running)
        pthread_join(y.thread, NULL);
    lia_http_stop(h);
out:
    if (key_pem) {
        memset(key_pem, 0, strlen(key_pem));
        free(key_pem);
    }
    free(cert_pem);
    if (logf && logf != stdout)
        fclose(logf);
    return rc;
}

/* ---- accounts ---- */

static void accounts_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] accounts COMMAND ...\n"
               "\n"
               "  org-add NAME --kind own|partner|constituent [--tlp-ceiling LABEL] [--party ID]\n"
               "  org-link NAME PARTY-ID     link to a partner (or, for a constituent, an owner)\n"
               "                             of the route directory: deliveries to that party's\n"
               "                             TAXII collection are readable by this organisation\n"
               "  org-unlink NAME\n"
               "  user-add ORG NAME --role admin|analyst|partner|constituent [--password-stdin]\n"
               "  key-add USER [--rate R] [--burst B]     prints the new API key once\n"
               "  key-revoke KEY-ID\n"
               "  list\n"
               "\n"
               "The TLP ceiling (default AMBER for partners, GREEN for constituents,\n"
               "AMBER+STRICT for own) is the highest TLP the organisation may receive.\n"
               "Passwords (at least 12 characters) are read from standard input.\n");
}

static int print_line(void *ud, const char *line)
{
    (void)ud;
    puts(line);
    return 0;
}

/* The party an organisation is linked to must be in the route directory:
 * a partner for a partner organisation, an owner for a constituent. */
static int check_party(lia_store *s, int org_kind, const char *id)
{
    lia_party p;
    lia_error err;
    int kind = org_kind == LIA_ORG_CONSTITUENT ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER, rc;
    if (org_kind == LIA_ORG_OWN) {
        cli_errorf("accounts: --party: our own team is not a party of the route directory");
        return LIA_EXIT_USAGE;
    }
    lia_error_clear(&err);
    lia_party_init(&p, kind);
    rc = lia_party_get_one(s, kind, id, &p, &err);
    lia_party_free(&p);
    if (rc == LIA_ENOTFOUND) {
        cli_errorf("accounts: no %s '%s' in the route directory (see liaison %ss list)",
                   lia_party_kind_name(kind), id, lia_party_kind_name(kind));
        return LIA_EXIT_ERROR;
    }
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}

/* Link, and grant read access to the partner's existing delivery
 * collections (later deliveries grant it too). */
static int link_org(lia_store *s, const char *org, int kind, int64_t id, const char *party, lia_error *err)
{
    int rc = lia_accounts_org_link(s, org, party, err);
    if (rc == LIA_OK && kind == LIA_ORG_PARTNER)
        rc = lia_notify_taxii_access(s, party, id, 1, NULL, err);
    return rc;
}

int cmd_accounts(cli *c, int argc, char **argv)
{
    lia_store *s = NULL;
    lia_error err;
    int rc = LIA_EXIT_OK, lrc = LIA_OK;
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        accounts_usage(sub ? stdout : stderr);
        return sub ? LIA_EXIT_OK : LIA_EXIT_USAGE;
    }
    lia_error_clear(&err);
    /* options after positional arguments: --name VALUE pairs */
    const char *kind = NULL, *tlp = NULL, *role = NULL, *rate = NULL, *burst = NULL, *party = NULL;
    int pw_stdin = 0;
    const char *pos[4];
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        const char **slot = NULL;
        if (strcmp(argv[i], "--kind") == 0)
            slot = &kind;
        else if (strcmp(argv[i], "--tlp-ceiling") == 0)
            slot = &tlp;
        else if (strcmp(argv[i], "--role") == 0)
            slot = &role;
        else if (strcmp(argv[i], "--rate") == 0)
            slot = &rate;
        else if (strcmp(argv[i], "--burst") == 0)
            slot = &burst;
        else if (strcmp(argv[i], "--party") == 0)
            slot = &party;
        else if (strcmp(argv[i], "--password-stdin") == 0) {
            pw_stdin = 1;
            continue;
        } else if (argv[i][0] == '-') {
            cli_errorf("accounts: unknown option %s (see liaison accounts --help)", argv[i]);
            return LIA_EXIT_USAGE;
        } else {
            if (npos == 4) {
                cli_errorf("accounts: too many arguments");
                return LIA_EXIT_USAGE;
            }
            pos[npos++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            cli_errorf("accounts: %s needs a value", argv[i]);
            return LIA_EXIT_USAGE;
        }
        *slot = argv[++i];
    }
    if ((rc = cli_open_store(c, &s)))
        return rc;
    if (strcmp(sub, "org-add") == 0 && npos == 1) {
        int k = lia_org_kind_parse(kind), t;
        int64_t id;
        if (k < 0) {
            cli_errorf("accounts org-add: --kind own|partner|constituent is required");
            rc = LIA_EXIT_USAGE;
            goto out;
        }
        t = k == LIA_ORG_OWN ? LIA_TLP_AMBER_STRICT : k == LIA_ORG_PARTNER ? LIA_TLP_AMBER : LIA_TLP_GREEN;
        if (tlp && lia_parse_tlp(tlp, strlen(tlp), &t, NULL)) {
            cli_errorf("accounts org-add: --tlp-ceiling %s: not a TLP 2.0 label", tlp);
            rc = LIA_EXIT_USAGE;
            goto out;
        }
        if (party && (rc = check_party(s, k, party)))
            goto out;
        if (!(lrc = lia_accounts_org_add(s, pos[0], k, t, &id, &err)) &&
            (!party || !(lrc = link_org(s, pos[0], k, id, party, &err))))
            printf("org %lld %s kind=%s tlp-ceiling=%s%s%s\n", (long long)id, pos[0], lia_org_kind_name(k),
                   lia_tlp_name(t), party ? " party=" : "", party ? party : "");
    } else if (strcmp(sub, "org-link") == 0 && npos == 2) {
        lia_org org;
        if (!(lrc = lia_accounts_org_get(s, pos[0], &org, &err))) {
            if ((rc = check_party(s, org.kind, pos[1])))
                goto out;
            /* moved from another partner: its collections are no longer ours to read */
            if (org.party[0] && strcmp(org.party, pos[1]) != 0 && org.kind == LIA_ORG_PARTNER)
                lrc = lia_notify_taxii_access(s, org.party, org.id, 0, NULL, &err);
            if (!lrc && !(lrc = link_org(s, pos[0], org.kind, org.id, pos[1], &err)))
                printf("org %s linked to %s:%s\n", pos[0],
                       org.kind == LIA_ORG_CONSTITUENT ? "owner" : "partner", pos[1]);
        }
    } else if (strcmp(sub, "org-unlink") == 0 && npos == 1) {
        lia_org org;
        size_t n = 0;
        if (!(lrc = lia_accounts_org_get(s, pos[0], &org, &err)) &&
            (!org.party[0] || org.kind != LIA_ORG_PARTNER ||
             !(lrc = lia_notify_taxii_access(s, org.party, org.id, 0, &n, &err))) &&
            !(lrc = lia_accounts_org_link(s, pos[0], NULL, &err)))
            printf("org %s unlinked%s%s (read access withdrawn from %zu delivery collection%s)\n", pos[0],
                   org.party[0] ? " from " : "", org.party, n, n == 1 ? "" : "s");
    } else if (strcmp(sub, "user-add") == 0 && npos == 2) {
        int r = lia_role_parse(role);
        int64_t id;
        char pw[512];
        if (r < 0) {
            cli_errorf("accounts user-add: --role admin|analyst|partner|constituent is required");
            rc = LIA_EXIT_USAGE;
            goto out;
        }
        if (pw_stdin) {
            if (!fgets(pw, sizeof pw, stdin)) {
                cli_errorf("accounts user-add: no password on standard input");
                rc = LIA_EXIT_USAGE;
                goto out;
            }
            pw[strcspn(pw, "\r\n")] = '\0';
        }
        lrc = lia_accounts_user_add(s, pos[0], pos[1], r, pw_stdin ? pw : NULL, &id, &err);
        memset(pw, 0, sizeof pw);
        if (!lrc)
            printf("user %lld %s org=%s role=%s\n", (long long)id, pos[1], pos[0], lia_role_name(r));
    } else if (strcmp(sub, "key-add") == 0 && npos == 1) {
        double rr = 0, bb = 0;
        char tok[LIA_KEY_TOKEN_MAX];
        int64_t id;
        if ((rate && parse_double(rate, &rr)) || (burst && parse_double(burst, &bb))) {
            cli_errorf("accounts key-add: --rate/--burst take a number >= 0");
            rc = LIA_EXIT_USAGE;
            goto out;
        }
        if (!(lrc = lia_accounts_key_add(s, pos[0], rr, bb, tok, &id, &err))) {
            printf("%s\n", tok);
            fprintf(stderr, "liaison: key %lld for %s; this is the only time it is shown\n", (long long)id,
                    pos[0]);
            memset(tok, 0, sizeof tok);
        }
    } else if (strcmp(sub, "key-revoke") == 0 && npos == 1) {
        uint64_t id;
        if (cli_parse_u64(pos[0], &id)) {
            cli_errorf("accounts key-revoke: KEY-ID is a number (see accounts list)");
            rc = LIA_EXIT_USAGE;
            goto out;
        }
        if (!(lrc = lia_accounts_key_revoke(s, (int64_t)id, &err)))
            printf("key %llu revoked\n", (unsigned long long)id);
    } else if (strcmp(sub, "list") == 0 && npos == 0) {
        lrc = lia_accounts_list(s, print_line, NULL, &err);
    } else {
        cli_errorf("accounts: bad command or arguments (see liaison accounts --help)");
        rc = LIA_EXIT_USAGE;
        goto out;
    }
    if (lrc) {
        cli_error(&err);
        rc = LIA_EXIT_ERROR;
    }
out:
    lia_store_close(s);
    return rc;
}

/* ---- taxii ---- */

static void taxii_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] taxii COMMAND ...\n"
               "\n"
               "  seed FILE                       load a medallion-style data file (api roots,\n"
               "                                  collections, objects, manifest, status)\n"
               "  root-add NAME [--title T] [--description D] [--max-content-length BYTES]\n"
               "  collection-add ROOT ID --title T [--description D] [--community]\n"
               "                 [--default-tlp LABEL]\n"
               "  grant ROOT COLLECTION ORG [--read] [--write]\n"
               "  add ROOT COLLECTION FILE [--tlp LABEL] [--org ORG]   add one STIX object\n"
               "  pull URL COLLECTION [--user U --password-stdin | --token-stdin]\n"
               "       [--feed NAME] [--tlp LABEL] [--cacert FILE] [--insecure]\n"
               "       [--page N] [--max-pages N]\n"
               "                                  fetch objects incrementally (resumable) into\n"
               "                                  the store as events of feed NAME\n");
}

static volatile int pull_stop;
static void on_pull_stop(int sig)
{
    (void)sig;
    pull_stop = 1;
}

int cmd_taxii(cli *c, int argc, char **argv)
{
    lia_store *s = NULL;
    lia_error err;
    int rc = LIA_EXIT_OK, lrc = LIA_OK;
    const char *sub = argc > 1 ? argv[1] : NULL;
    const char *title = NULL, *desc = NULL, *mcl = NULL, *tlp = NULL, *org = NULL, *user = NULL;
    const char *feed = NULL, *cacert = NULL, *page = NULL, *maxp = NULL;
    int community = 0, rd = 0, wr = 0, insecure = 0, pw_stdin = 0, tok_stdin = 0;
    const char *pos[4];
    int npos = 0;
    if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        taxii_usage(sub ? stdout : stderr);
        return sub ? LIA_EXIT_OK : LIA_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        const char **slot = NULL;
        const char *a = argv[i];
        if (strcmp(a, "--title") == 0)
            slot = &title;
        else if (strcmp(a, "--description") == 0)
            slot = &desc;
        else if (strcmp(a, "--max-content-length") == 0)
            slot = &mcl;
        else if (strcmp(a, "--default-tlp") == 0 || strcmp(a, "--tlp") == 0)
            slot = &tlp;
        else if (strcmp(a, "--org") == 0)
            slot = &org;
        else if (strcmp(a, "--user") == 0)
            slot = &user;
        else if (strcmp(a, "--feed") == 0)
            slot = &feed;
        else if (strcmp(a, "--cacert") == 0)
            slot = &cacert;
        else if (strcmp(a, "--page") == 0)
            slot = &page;
        else if (strcmp(a, "--max-pages") == 0)
            slot = &maxp;
        else if (strcmp(a, "--community") == 0) {
            community = 1;
            continue;
        } else if (strcmp(a, "--read") == 0) {
            rd = 1;
            continue;
        } else if (strcmp(a, "--write") == 0) {
            wr = 1;
            continue;
        } else if (strcmp(a, "--insecure") == 0) {
            insecure = 1;
            continue;
        } else if (strcmp(a, "--password-stdin") == 0) {
            pw_stdin = 1;
            continue;
        } else if (strcmp(a, "--token-stdin") == 0) {
            tok_stdin = 1;
            continue;
        } else if (a[0] == '-' && a[1]) {
            cli_errorf("taxii: unknown option %s (see liaison taxii --help)", a);
            return LIA_EXIT_USAGE;
        } else {
            if (npos == 4) {
                cli_errorf("taxii: too many arguments");
                return LIA_EXIT_USAGE;
            }
            pos[npos++] = a;
            continue;
        }
        if (i + 1 >= argc) {
            cli_errorf("taxii: %s needs a value", a);
            return LIA_EXIT_USAGE;
        }
        *slot = argv[++i];
    }
    int t = -1;
    if (tlp && lia_parse_tlp(tlp, strlen(tlp), &t, NULL)) {
        cli_errorf("taxii: %s: not a TLP 2.0 label (CLEAR GREEN AMBER AMBER+STRICT RED)", tlp);
        return LIA_EXIT_USAGE;
    }
    if ((rc = cli_open_store(c, &s)))
        return rc;
    lia_error_clear(&err);
    if ((lrc = lia_taxii_init(s, &err)))
        goto done;
    if (strcmp(sub, "seed") == 0 && npos == 1) {
        size_t n;
        char *buf = slurp(pos[0], 256u << 20, &n);
        lia_taxii_seed_stats st;
        if (!buf) {
            rc = LIA_EXIT_ERROR;
            goto out;
        }
        lrc = lia_taxii_seed(s, buf, n, &st, &err);
        free(buf);
        if (!lrc)
            printf("seeded %llu API roots, %llu collections, %llu object versions, %llu statuses\n",
                   (unsigned long long)st.api_roots, (unsigned long long)st.collections,
                   (unsigned long long)st.objects, (unsigned long long)st.statuses);
        else
            lia_error_where(&err, pos[0], 0);
    } else if (strcmp(sub, "root-add") == 0 && npos == 1) {
        uint64_t m = 0;
        if (mcl && cli_parse_u64(mcl, &m)) {
            cli_errorf("taxii root-add: --max-content-length takes a number of bytes");
            rc = LIA_EXIT_USAGE;
            goto out;
        }
        if (!(lrc = lia_taxii_api_root_add(s, pos[0], title, desc, m, &err)))
            printf("API root %s\n", pos[0]);
    } else if (strcmp(sub, "collection-add") == 0 && npos == 2) {
        lia_taxii_collection col;
        lia_taxii_collection_defaults(&col);
        snprintf(col.api_root, sizeof col.api_root, "%s", pos[0]);
        snprintf(col.id, sizeof col.id, "%s", pos[1]);
        snprintf(col.title, sizeof col.title, "%s", title ? title : pos[1]);
        snprintf(col.description, sizeof col.description, "%s", desc ? desc : "");
        col.community = community;
        if (t >= 0)
            col.default_tlp = t;
        if (!(lrc = lia_taxii_collection_add(s, &col, &err)))
            printf("collection %s/%s (%s, unmarked objects are TLP:%s)\n", pos[0], pos[1],
                   community ? "community" : "by grant", lia_tlp_name(col.default_tlp));
    } else if (strcmp(sub, "grant") == 0 && npos == 3) {
        int64_t oid;
        if (!(lrc = lia_accounts_org_find(s, pos[2], &oid, &err)) &&
            !(lrc = lia_taxii_grant(s, pos[0], pos[1], oid, rd, wr, &err)))
            printf("%s may %s%s%s %s/%s\n", pos[2], rd ? "read" : "", rd && wr ? " and " : "",
                   wr ? "write" : (rd ? "" : "no longer use"), pos[0], pos[1]);
    } else if (strcmp(sub, "add") == 0 && npos == 3) {
        size_t n;
        int64_t oid = 0;
        char *buf = slurp(pos[2], LIA_HTTP_MAX_BODY, &n);
        if (!buf) {
            rc = LIA_EXIT_ERROR;
            goto out;
        }
        if (org) {
            lia_org o;
            /* our own team owns its objects as org 0, as the server and the
             * delivery channels store them */
            if (!(lrc = lia_accounts_org_get(s, org, &o, &err)))
                oid = o.kind == LIA_ORG_OWN ? 0 : o.id;
        }
        if (!lrc)
            lrc = lia_taxii_collection_add_object(s, pos[0], pos[1], buf, n, t, oid, 0, &err);
        free(buf);
        if (!lrc)
            printf("added to %s/%s\n", pos[0], pos[1]);
    } else if (strcmp(sub, "pull") == 0 && npos == 2) {
        lia_taxii_pull_opts po;
        lia_taxii_pull_result res;
        char secret[512] = "";
        struct sigaction sa;
        uint64_t v;
        memset(&po, 0, sizeof po);
        po.url = pos[0];
        po.collection = pos[1];
        po.feed = feed;
        po.default_tlp = t;
        po.cacert = cacert;
        po.insecure = insecure;
        po.user = user;
        if ((page && (cli_parse_u64(page, &v) || v == 0 || v > LIA_TAXII_PAGE_MAX)) ||
            (maxp && cli_parse_u64(maxp, &po.max_pages))) {
            cli_errorf("taxii pull: --page 1..%u, --max-pages a number", LIA_TAXII_PAGE_MAX);
            rc = LIA_EXIT_USAGE;
            goto out;
        }
        if (page)
            po.page = (uint32_t)v;
        if ((pw_stdin || tok_stdin) && fgets(secret, sizeof secret, stdin))
            secret[strcspn(secret, "\r\n")] = '\0';
        if (pw_stdin)
            po.password = secret;
        if (tok_stdin)
            po.token = secret;
        if (user && !pw_stdin) {
            cli_errorf("taxii pull: --user needs --password-stdin");
            rc = LIA_EXIT_USAGE;
            goto out;
        }
        po.stop = &pull_stop;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_pull_stop;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        lrc = lia_taxii_pull(s, &po, &res, &err);
        memset(secret, 0, sizeof secret);
        if (!lrc || lrc == LIA_EINTR)
            printf("%s%s: %llu pages (%llu seen before), %llu objects, %llu events stored, "
                   "%llu quarantined; cursor %s\n",
                   lrc == LIA_EINTR ? "interrupted (resume by running again) " : "",
                   res.resumed ? "resumed" : "pulled", (unsigned long long)res.pages,
                   (unsigned long long)res.pages_seen, (unsigned long long)res.objects,
                   (unsigned long long)res.events, (unsigned long long)res.quarantined,
                   res.cursor[0] ? res.cursor : "-");
        if (res.quarantined)
            printf("  see: liaison quarantine --feed %s\n", po.feed ? po.feed : "taxii");
        if (lrc == LIA_EINTR) {
            rc = LIA_EXIT_INTERRUPTED;
            lrc = LIA_OK;
        }
    } else {
        cli_errorf("taxii: bad command or arguments (see liaison taxii --help)");
        rc = LIA_EXIT_USAGE;
        goto out;
    }
done:
    if (lrc) {
        cli_error(&err);
        rc = LIA_EXIT_ERROR;
    }
out:
    lia_store_close(s);
    return rc;
}
