/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison incident create|list|show|update|comment|link|attach|merge|split|export: cross-border
 * incidents by hand. Every change is an audit record (liaison audit). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void incident_usage(FILE *f)
{
    fprintf(f,
            "usage: liaison [--db PATH] incident COMMAND ...\n"
            "\n"
            "  create --title T [--description D] [--severity low|medium|high|critical]\n"
            "         [--tlp CLEAR|GREEN|AMBER|AMBER+STRICT|RED] [--class RSIT-TYPE]\n"
            "         [--countries CC,..] [--sectors iot,ics,..] [--owner ANALYST] [--triaged]\n"
            "         [--recipient ID]... [--event ID]...   a new incident, handed off to each\n"
            "                                               recipient, linked to each event\n"
            "         [--events-from FILE|-]   and to every event id in FILE, one a line: a\n"
            "                                  selection by the filters of liaison events:\n"
            "         liaison events --cc KH --since 1d --format ids | liaison incident create --title T "
            "--events-from -\n"
            "  list [--status S] [--open] [--severity S] [--country CC] [--owner O] [--limit N] [--drills]\n"
            "  show ID                  the incident, its hand-offs, links, comments, attachments\n"
            "                           and timeline (its audit records and its hand-offs')\n"
            "  update ID [--title T] [--description D] [--severity S] [--tlp T] [--class C]\n"
            "         [--countries ..] [--sectors ..] [--owner O] [--status S [--into ID]]\n"
            "         [--waiting on|off]  a refused status change names the allowed ones;\n"
            "                             merged and duplicate need --into; --waiting on pauses\n"
            "                             the SLA clocks while the incident waits on us\n"
            "  comment ID [--shared[=RECIPIENT]] TEXT   internal unless shared\n"
            "  link ID (--event ID | --indicator VALUE | --incident ID)\n"
            "  merge ID --into OTHER [--duplicate]   ID folds into OTHER, which goes on with a\n"
            "                           copy of every link of ID (--duplicate: ID is marked a\n"
            "                           duplicate of OTHER instead; its links stay)\n"
            "  split ID (--event EV... | --events-from FILE|-) [--title T]   a new incident takes\n"
            "                           these events of ID, with its attributes and recipients\n"
            "  attach ID FILE [--name N] [--type MEDIA/TYPE] [--shared[=RECIPIENT]]   a file kept\n"
            "                           with the incident (at most 10 MiB, SHA-256 recorded;\n"
            "                           internal unless shared)\n"
            "  attachment ID N [-o FILE]   attachment N's bytes, checked against their SHA-256\n"
            "  import FILE [--from PARTNER]  one IODEF v2 document as an incoming incident\n"
            "                           (its events through the pipeline; the same IncidentID\n"
            "                           again updates that incident)\n"
            "  export ID stix|iodef [-o FILE] [--producer NAME] [--max-tlp LABEL]\n"
            "                           its linked events as one STIX bundle wrapped in an\n"
            "                           incident, or one IODEF document (IncidentID LIAISON#ID)\n"
            "\n"
            "  --format table|json   output of create, list, show (default table)\n"
            "  The actor recorded in the audit log is $LIAISON_USER, else $USER.\n");
}

/* The actor of a CLI change. */
lia_actor cli_actor(void)
{
    const char *u = getenv("LIAISON_USER");
    if (!u || !*u)
        u = getenv("USER");
    return (lia_actor){u && *u ? u : "unknown", "cli", "local"};
}

int cli_format_arg(const char *cmd, const char *arg, int *json)
{
    if (strcmp(arg, "table") == 0)
        *json = 0;
    else if (strcmp(arg, "json") == 0)
        *json = 1;
    else {
        cli_errorf("%s: --format is table or json, not '%s'", cmd, arg);
        return LIA_EXIT_USAGE;
    }
    return 0;
}

static void json_str(const char *name, const char *v, int comma)
{
    lia_buf b;
    lia_buf_init(&b, 1u << 20);
    if (v)
        lia_buf_json_str(&b, v, strlen(v));
    printf("%s\"%s\":%s", comma ? "," : "", name, v ? lia_buf_cstr(&b) : "null");
    lia_buf_free(&b);
}

static void time_text(int64_t us, char *out, size_t n)
{
    if (us)
        lia_time_format(us, out, n);
    else
        snprintf(out, n, "-");
}

static void incident_print_json(const lia_incident *inc, int close)
{
    char c[LIA_TIME_TEXT], u[LIA_TIME_TEXT];
    time_text(inc->created_us, c, sizeof c);
    time_text(inc->updated_us, u, sizeof u);
    printf("{\"id\":%lld", (long long)inc->id);
    json_str("title", inc->title, 1);
    json_str("description", inc->description, 1);
    json_str("classification", inc->classification, 1);
    json_str("severity", lia_severity_name(inc->severity), 1);
    json_str("tlp", inc->tlp, 1);
    json_str("countries", inc->countries, 1);
    json_str("sectors", inc->sectors, 1);
    json_str("status", lia_incident_status_name(inc->status), 1);
    json_str("owner", inc->owner, 1);
    printf(",\"merged_into\":%lld,\"waiting\":%s", (long long)inc->merged_into,
           inc->waiting ? "true" : "false");
    json_str("created", c, 1);
    json_str("updated", u, 1);
    if (close)
        putchar('}');
}

typedef struct list_ctx {
    int json, n;
} list_ctx;

static int print_incident(void *ud, const lia_incident *inc)
{
    list_ctx *c = ud;
    if (c->json) {
        printf("%s", c->n ? ",\n" : "");
        incident_print_json(inc, 1);
    } else {
        char u[LIA_TIME_TEXT];
        time_text(inc->updated_us, u, sizeof u);
        printf("%6lld  %-12s %-8s %-12s %-10s %-25.25s %s\n", (long long)inc->id,
               lia_incident_status_name(inc->status), lia_severity_name(inc->severity), inc->tlp,
               inc->countries ? inc->countries : "-", u, inc->title);
    }
    c->n++;
    return 0;
}

static int parse_id(const char *cmd, const char *s, int64_t *id)
{
    uint64_t v;
    if (!s || cli_parse_u64(s, &v) || v == 0 || v > INT64_MAX) {
        cli_errorf("%s: '%s' is not an incident id", cmd, s ? s : "");
        return LIA_EXIT_USAGE;
    }
    *id = (int64_t)v;
    return 0;
}

static int fail(lia_store *s, const lia_error *err)
{
    cli_error(err);
    lia_store_close(s);
    return LIA_EXIT_ERROR;
}

enum {
    O_TITLE = 1000,
    O_DESC,
    O_SEV,
    O_TLP,
    O_CLASS,
    O_CC,
    O_SECT,
    O_OWNER,
    O_TRIAGED,
    O_RCPT,
    O_EVENT,
    O_STATUS,
    O_OPEN,
    O_DRILLS,
    O_COUNTRY,
    O_LIMIT,
    O_FORMAT,
    O_INTO,
    O_WAIT,
    O_SHARED,
    O_IND,
    O_INC,
    O_EVFROM,
    O_DUP,
    O_HELP
};

static const struct option opts[] = {
    {"title", required_argument, NULL, O_TITLE},
    {"description", required_argument, NULL, O_DESC},
    {"severity", required_argument, NULL, O_SEV},
    {"tlp", required_argument, NULL, O_TLP},
    {"class", required_argument, NULL, O_CLASS},
    {"countries", required_argument, NULL, O_CC},
    {"sectors", required_argument, NULL, O_SECT},
    {"owner", required_argument, NULL, O_OWNER},
    {"triaged", no_argument, NULL, O_TRIAGED},
    {"recipient", required_argument, NULL, O_RCPT},
    {"event", required_argument, NULL, O_EVENT},
    {"status", required_argument, NULL, O_STATUS},
    {"open", no_argument, NULL, O_OPEN},
    {"drills", no_argument, NULL, O_DRILLS},
    {"country", required_argument, NULL, O_COUNTRY},
    {"limit", required_argument, NULL, O_LIMIT},
    {"format", required_argument, NULL, O_FORMAT},
    {"into", required_argument, NULL, O_INTO},
    {"waiting", required_argument, NULL, O_WAIT},
    {"shared", optional_argument, NULL, O_SHARED},
    {"indicator", required_argument, NULL, O_IND},
    {"incident", required_argument, NULL, O_INC},
    {"events-from", required_argument, NULL, O_EVFROM},
    {"duplicate", no_argument, NULL, O_DUP},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

#define MAX_MULTI 64

typedef struct args {
    lia_incident inc;
    lia_incident_change ch;
    lia_incident_filter filter;
    const char *rcpt[MAX_MULTI], *events[MAX_MULTI];
    size_t nrcpt, nevents;
    int json, help, duplicate;
    const char *shared;
    int shared_set;
    const char *link_kind, *link_ref;
    const char *events_from; /* create: a file of event ids, "-" = standard input */
    char tlp[16];
} args;

/* Parse the options of one subcommand (sub names it in messages). */
static int parse(const char *sub, int argc, char **argv, args *a)
{
    int ch;
    const char *why = NULL;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        lia_error err;
        lia_severity sev;
        lia_incident_status st;
        int v, tlp;
        uint64_t n;
        lia_error_clear(&err);
        switch (ch) {
        case O_TITLE: a->inc.title = a->ch.title = optarg; break;
        case O_DESC: a->inc.description = a->ch.description = optarg; break;
        case O_CLASS: a->inc.classification = a->ch.classification = optarg; break;
        case O_CC: a->inc.countries = a->ch.countries = optarg; break;
        case O_SECT: a->inc.sectors = a->ch.sectors = optarg; break;
        case O_OWNER: a->inc.owner = a->ch.owner = a->filter.owner = optarg; break;
        case O_TRIAGED: a->inc.status = LIA_INC_TRIAGED; break;
        case O_OPEN: a->filter.open_only = 1; break;
        case O_DRILLS: a->filter.drills = 1; break;
        case O_COUNTRY: a->filter.country = optarg; break;
        case O_SEV:
            if (lia_severity_parse(optarg, &sev, &err))
                goto bad;
            a->inc.severity = sev;
            a->ch.severity = a->filter.severity = (int)sev;
            break;
        case O_TLP:
            if (lia_parse_tlp(optarg, strlen(optarg), &tlp, &why)) {
                cli_errorf("incident %s: --tlp %s: %s", sub, optarg, why ? why : "not a TLP");
                return LIA_EXIT_USAGE;
            }
            snprintf(a->tlp, sizeof a->tlp, "%s", lia_tlp_name(tlp));
            a->inc.tlp = a->ch.tlp = a->tlp;
            break;
        case O_STATUS:
            if (lia_incident_status_parse(optarg, &st, &err))
                goto bad;
            a->ch.status = a->filter.status = (int)st;
            break;
        case O_LIMIT:
            if (cli_parse_u64(optarg, &n)) {
                cli_errorf("incident %s: --limit is a number", sub);
                return LIA_EXIT_USAGE;
            }
            a->filter.limit = n;
            break;
        case O_FORMAT:
            if (cli_format_arg("incident", optarg, &a->json))
                return LIA_EXIT_USAGE;
            break;
        case O_INTO:
            if (parse_id("incident update --into", optarg, &a->ch.merged_into))
                return LIA_EXIT_USAGE;
            break;
        case O_WAIT:
            if (lia_parse_bool(optarg, strlen(optarg), &v, &why)) {
                cli_errorf("incident %s: --waiting is on or off", sub);
                return LIA_EXIT_USAGE;
            }
            a->ch.waiting = v;
            break;
        case O_RCPT:
        case O_EVENT:
            if ((ch == O_RCPT ? a->nrcpt : a->nevents) >= MAX_MULTI) {
                cli_errorf("incident %s: at most %d of each", sub, MAX_MULTI);
                return LIA_EXIT_USAGE;
            }
            if (ch == O_RCPT)
                a->rcpt[a->nrcpt++] = optarg;
            else
                a->events[a->nevents++] = optarg;
            a->link_kind = "event";
            a->link_ref = optarg;
            break;
        case O_SHARED:
            a->shared_set = 1;
            a->shared = optarg;
            break;
        case O_IND: a->link_kind = "indicator", a->link_ref = optarg; break;
        case O_INC: a->link_kind = "incident", a->link_ref = optarg; break;
        case O_EVFROM: a->events_from = optarg; break;
        case O_DUP: a->duplicate = 1; break;
        case O_HELP: a->help = 1; break;
        default:
            cli_errorf("incident %s: bad option %s (see liaison incident --help)", sub, argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
        continue;
    bad:
        cli_error(&err);
        return LIA_EXIT_USAGE;
    }
    return 0;
}

static int do_show(lia_store *s, int64_t id, int json);

/* Event ids, one a line (what `liaison events --format ids` prints; blank
 * lines skipped), every one in the store: 0, or an error printed. */
static int read_event_ids(lia_store *s, const char *sub, const char *path, int64_t **out, size_t *n)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char line[256];
    size_t cap = 0, lineno = 0;
    int64_t *v = NULL;
    int rc = 0;
    lia_event ev;
    lia_error err;
    *n = 0;
    if (!f) {
        cli_errorf("incident %s: --events-from %s: %s", sub, path, strerror(errno));
        return LIA_EXIT_ERROR;
    }
    lia_event_init(&ev);
    while (rc == 0 && fgets(line, sizeof line, f)) {
        uint64_t id;
        size_t len = strcspn(line, "\r\n");
        lineno++;
        if (line[len] == '\0' && !feof(f)) {
            cli_errorf("incident %s: %s:%zu: line too long for an event id", sub, path, lineno);
            rc = LIA_EXIT_ERROR;
            break;
        }
        line[len] = '\0';
        if (len == 0)
            continue;
        if (cli_parse_u64(line, &id) || id == 0 || id > INT64_MAX) {
            cli_errorf("incident %s: %s:%zu: '%s' is not an event id", sub, path, lineno, line);
            rc = LIA_EXIT_ERROR;
        } else if (lia_store_event_get(s, (int64_t)id, &ev, &err)) {
            cli_errorf("incident %s: %s:%zu: %s", sub, path, lineno, err.reason);
            rc = LIA_EXIT_ERROR;
        } else if (*n == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            int64_t *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                cli_errorf("incident %s: out of memory reading %s", sub, path);
                rc = LIA_EXIT_ERROR;
            } else {
                v = nv, cap = nc;
            }
        }
        if (rc == 0)
            v[(*n)++] = (int64_t)id;
    }
    if (rc == 0 && ferror(f)) {
        cli_errorf("incident %s: --events-from %s: read error", sub, path);
        rc = LIA_EXIT_ERROR;
    }
    lia_event_free(&ev);
    if (f != stdin)
        fclose(f);
    if (rc)
        free(v), v = NULL, *n = 0;
    *out = v;
    return rc;
}

/* incident split ID: the events named by --event and --events-from go to a
 * new incident. */
static int do_split(lia_store *s, int64_t id, args *a)
{
    lia_actor who = cli_actor();
    lia_error err;
    int64_t nid = 0, *ids = NULL;
    size_t nids = 0;
    int rc;
    lia_error_clear(&err);
    if (a->events_from && (rc = read_event_ids(s, "split", a->events_from, &ids, &nids)))
        return rc;
    if (a->nevents) {
        int64_t *nv = realloc(ids, (nids + a->nevents) * sizeof *nv);
        if (!nv) {
            free(ids);
            cli_errorf("incident split: out of memory");
            return LIA_EXIT_ERROR;
        }
        ids = nv;
        for (size_t i = 0; i < a->nevents; i++) {
            uint64_t v;
            if (cli_parse_u64(a->events[i], &v) || v == 0 || v > INT64_MAX) {
                free(ids);
                cli_errorf("incident split: --event %s: not an event id", a->events[i]);
                return LIA_EXIT_USAGE;
            }
            ids[nids++] = (int64_t)v;
        }
    }
    if (nids == 0) {
        free(ids);
        cli_errorf("incident split: which events? (--event ID ... or --events-from FILE)");
        return LIA_EXIT_USAGE;
    }
    rc = lia_incident_split(s, id, ids, nids, a->inc.title, &who, &nid, &err);
    free(ids);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (a->json)
        return do_show(s, nid, 1);
    printf("incident %lld split: %zu events moved to the new incident %lld\n", (long long)id, nids,
           (long long)nid);
    return LIA_EXIT_OK;
}

static int do_create(lia_store *s, args *a)
{
    lia_actor who = cli_actor();
    lia_error err;
    int64_t id, *ids = NULL;
    size_t nids = 0;
    uint64_t added = 0;
    int rc;
    lia_error_clear(&err);
    if (!a->inc.title) {
        cli_errorf("incident create: --title is required");
        return LIA_EXIT_USAGE;
    }
    /* every id read and found before anything is written */
    if (a->events_from && (rc = read_event_ids(s, "create", a->events_from, &ids, &nids)))
        return rc;
    if (lia_incident_create(s, &a->inc, a->rcpt, a->nrcpt, a->events, a->nevents, &who, &id, &err)) {
        free(ids);
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    if (nids && lia_incident_link_events(s, id, ids, nids, &who, &added, &err)) {
        free(ids);
        cli_errorf("incident %lld created, but linking its %zu events failed: %s", (long long)id, nids,
                   err.reason);
        return LIA_EXIT_ERROR;
    }
    free(ids);
    if (!a->json) {
        if (a->events_from)
            printf("incident %lld created, %llu events linked\n", (long long)id, (unsigned long long)added);
        else
            printf("incident %lld created\n", (long long)id);
        return LIA_EXIT_OK;
    }
    return do_show(s, id, 1);
}

typedef struct show_ctx {
    int json, n;
} show_ctx;

static int show_handoff(void *ud, const lia_handoff *h)
{
    show_ctx *c = ud;
    char n[LIA_TIME_TEXT], a[LIA_TIME_TEXT], r[LIA_TIME_TEXT];
    time_text(h->notified_us, n, sizeof n);
    time_text(h->acknowledged_us, a, sizeof a);
    time_text(h->state == LIA_HO_REJECTED ? h->rejected_us : h->resolved_us, r, sizeof r);
    if (c->json) {
        printf("%s{", c->n ? "," : "");
        json_str("recipient", h->recipient, 0);
        json_str("state", lia_handoff_state_name(h->state), 1);
        json_str("notified", h->notified_us ? n : NULL, 1);
        json_str("acknowledged", h->acknowledged_us ? a : NULL, 1);
        json_str(h->state == LIA_HO_REJECTED ? "rejected" : "resolved",
                 (h->state == LIA_HO_REJECTED ? h->rejected_us : h->resolved_us) ? r : NULL, 1);
        json_str("reason", h->reason, 1);
        json_str("by", h->by, 1);
        json_str("channel", h->channel, 1);
        putchar('}');
    } else {
        printf("  %-24s %-12s notified %-25s ack %-25s %s %s%s%s\n", h->recipient,
               lia_handoff_state_name(h->state), n, a, h->state == LIA_HO_REJECTED ? "rejected" : "resolved",
               r, h->reason ? " reason: " : "", h->reason ? h->reason : "");
    }
    c->n++;
    return 0;
}

static int show_link(void *ud, const lia_link *l)
{
    show_ctx *c = ud;
    if (c->json) {
        printf("%s{", c->n ? "," : "");
        json_str("kind", l->kind, 0);
        json_str("ref", l->ref, 1);
        putchar('}');
    } else {
        printf("  %-10s %s\n", l->kind, l->ref);
    }
    c->n++;
    return 0;
}

/* The value of extra.store_pruned (an event pruned from the store, from
 * the incident's copy: when), without its quotes, or NULL. */
static const char *pruned_at(const lia_event *ev, char *out, size_t n)
{
    for (uint32_t i = 0; i < ev->nextra; i++) {
        const lia_extra *x = &ev->extra[i];
        if (x->klen == 12 && memcmp(ev->text.ptr + x->koff, "store_pruned", 12) == 0 && x->vlen >= 2) {
            snprintf(out, n, "%.*s", (int)x->vlen - 2, ev->text.ptr + x->voff + 1);
            return out;
        }
    }
    return NULL;
}

/* A linked event: from the store, or from the incident's copy when it was
 * pruned (liaison store prune), marked so. */
static int show_linked_event(void *ud, const lia_event *ev)
{
    show_ctx *c = ud;
    char p[64], t[LIA_TIME_TEXT] = "-", ip[LIA_IP_TEXT] = "-";
    const char *pr = pruned_at(ev, p, sizeof p);
    if (c->json) {
        lia_buf b;
        lia_buf_init(&b, (size_t)LIA_MAX_EVENT_TEXT * 2);
        if (lia_event_to_json(ev, &b))
            lia_buf_puts(&b, "{}");
        printf("%s{\"id\":%lld", c->n ? "," : "", (long long)ev->id);
        json_str("pruned", pr, 1);
        printf(",\"event\":%s}", lia_buf_cstr(&b));
        lia_buf_free(&b);
    } else {
        if (lia_event_has(ev, LIA_F_TIME_SOURCE))
            lia_time_format(ev->v[LIA_F_TIME_SOURCE].i, t, sizeof t);
        if (lia_event_has(ev, LIA_F_SOURCE_IP))
            lia_ip_format(&ev->v[LIA_F_SOURCE_IP].ip, 0, ip, sizeof ip);
        printf("  %-10lld %s at %s", (long long)ev->id, ip, t);
        if (pr)
            printf(" (pruned from the store %s: the incident's copy)", pr);
        putchar('\n');
    }
    c->n++;
    return 0;
}

static int show_comment(void *ud, const lia_comment *cm)
{
    show_ctx *c = ud;
    char t[LIA_TIME_TEXT];
    time_text(cm->at_us, t, sizeof t);
    if (c->json) {
        printf("%s{\"id\":%lld", c->n ? "," : "", (long long)cm->id);
        json_str("at", t, 1);
        json_str("author", cm->author, 1);
        json_str("visibility", cm->visibility, 1);
        json_str("body", cm->body, 1);
        putchar('}');
    } else {
        printf("  #%lld %s %s (%s):\n    %s\n", (long long)cm->id, t, cm->author, cm->visibility, cm->body);
    }
    c->n++;
    return 0;
}

/* One audit record of the incident or its hand-offs: the timeline. */
static int show_event(void *ud, const lia_audit_record *r)
{
    show_ctx *c = ud;
    char t[LIA_TIME_TEXT];
    time_text(r->at_us, t, sizeof t);
    if (c->json) {
        printf("%s{\"seq\":%lld", c->n ? "," : "", (long long)r->seq);
        json_str("at", t, 1);
        json_str("actor", r->actor ? r->actor : "", 1);
        json_str("channel", r->channel ? r->channel : "", 1);
        json_str("object", r->object, 1);
        json_str("action", r->action, 1);
        putchar('}');
    } else {
        printf("  %s %-12s %-8s %-10s %s\n", t, r->actor ? r->actor : "-", r->channel ? r->channel : "-",
               r->action, r->object);
    }
    c->n++;
    return 0;
}

static int show_attachment(void *ud, const lia_attachment *a)
{
    show_ctx *c = ud;
    char t[LIA_TIME_TEXT];
    time_text(a->at_us, t, sizeof t);
    if (c->json) {
        printf("%s{\"id\":%lld", c->n ? "," : "", (long long)a->id);
        json_str("at", t, 1);
        json_str("author", a->author, 1);
        json_str("visibility", a->visibility, 1);
        json_str("name", a->name, 1);
        json_str("media_type", a->media_type, 1);
        printf(",\"size\":%llu", (unsigned long long)a->size);
        json_str("sha256", a->sha256, 1);
        putchar('}');
    } else {
        printf("  #%lld %s %s (%s): %s, %s, %llu bytes, SHA-256 %s\n", (long long)a->id, t, a->author,
               a->visibility, a->name, a->media_type, (unsigned long long)a->size, a->sha256);
    }
    c->n++;
    return 0;
}

/* incident attach ID FILE [--name N] [--type T] [--shared[=RECIPIENT]] and
 * incident attachment ID N [-o FILE]. */
static int do_attach(cli *c, int argc, char **argv)
{
    const char *file = NULL, *name = NULL, *type = NULL, *vis = "internal", *out = NULL;
    char visbuf[80];
    int64_t iid = 0, aid = 0;
    int get = strcmp(argv[1], "attachment") == 0, npos = 0, existed = 0, rc;
    uint64_t u;
    lia_store *s;
    lia_error err;
    lia_buf data;
    for (int i = 2; i < argc; i++) {
        const char *v = argv[i];
        if (!get && strcmp(v, "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (!get && strcmp(v, "--type") == 0 && i + 1 < argc)
            type = argv[++i];
        else if (!get && strcmp(v, "--shared") == 0)
            vis = "shared";
        else if (!get && strncmp(v, "--shared=", 9) == 0) {
            snprintf(visbuf, sizeof visbuf, "shared:%s", v + 9);
            vis = visbuf;
        } else if (get && strcmp(v, "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (v[0] != '-' && npos == 0 && cli_parse_u64(v, &u) == 0 && u > 0 && u <= INT64_MAX) {
            iid = (int64_t)u;
            npos++;
        } else if (v[0] != '-' && npos == 1 && !get) {
            file = v;
            npos++;
        } else if (v[0] != '-' && npos == 1 && get && cli_parse_u64(v, &u) == 0 && u > 0 && u <= INT64_MAX) {
            aid = (int64_t)u;
            npos++;
        } else {
            cli_errorf(get ? "incident attachment: ID N [-o FILE] (bad argument %s)"
                           : "incident attach: ID FILE [--name N] [--type T] [--shared[=RECIPIENT]] (bad "
                             "argument %s)",
                       v);
            return LIA_EXIT_USAGE;
        }
    }
    if (npos != 2) {
        cli_errorf(get ? "incident attachment: an incident id and an attachment number are required"
                       : "incident attach: an incident id and a file are required");
        return LIA_EXIT_USAGE;
    }
    lia_error_clear(&err);
    lia_buf_init(&data, LIA_INCIDENT_ATTACHMENT_MAX + 1);
    if (!get) {
        const char *slash = strrchr(file, '/');
        if (cli_read_file(file, LIA_INCIDENT_ATTACHMENT_MAX, &data)) {
            lia_buf_free(&data);
            return LIA_EXIT_ERROR;
        }
        if (!name)
            name = slash ? slash + 1 : file;
    }
    if (cli_open_store(c, &s)) {
        lia_buf_free(&data);
        return LIA_EXIT_ERROR;
    }
    if (!get) {
        lia_actor who = cli_actor();
        rc = lia_incident_attach(s, iid, name, type, data.ptr, data.len, vis, &who, &aid, &existed, &err);
        if (rc == LIA_OK)
            printf("incident %lld: attachment #%lld %s (%zu bytes)%s\n", (long long)iid, (long long)aid, name,
                   data.len, existed ? ": the same bytes were attached before, nothing stored" : "");
    } else {
        rc = lia_incident_attachment_get(s, iid, aid, NULL, NULL, &data, &err);
        if (rc == LIA_OK) {
            FILE *f = out && strcmp(out, "-") ? fopen(out, "wb") : stdout;
            if (!f || fwrite(data.ptr ? data.ptr : "", 1, data.len, f) != data.len ||
                (f != stdout && fclose(f) != 0) || (f == stdout && fflush(stdout) != 0)) {
                cli_errorf("incident attachment: %s: cannot write: %s", out ? out : "standard output",
                           strerror(errno));
                rc = LIA_EIO;
                lia_error_clear(&err);
                lia_buf_free(&data);
                lia_store_close(s);
                return LIA_EXIT_ERROR;
            }
        }
    }
    lia_buf_free(&data);
    if (rc)
        return fail(s, &err);
    lia_store_close(s);
    return LIA_EXIT_OK;
}

static int do_show(lia_store *s, int64_t id, int json)
{
    lia_incident inc;
    lia_buf hold;
    lia_error err;
    show_ctx c = {json, 0};
    int rc;
    lia_error_clear(&err);
    lia_buf_init(&hold, 0);
    if ((rc = lia_incident_get(s, id, &inc, &hold, &err)))
        goto out;
    if (json) {
        incident_print_json(&inc, 0);
    } else {
        char cr[LIA_TIME_TEXT], up[LIA_TIME_TEXT];
        time_text(inc.created_us, cr, sizeof cr);
        time_text(inc.updated_us, up, sizeof up);
        printf("incident %lld: %s\n  status %s%s, severity %s, TLP:%s\n  class %s, countries %s, sectors %s\n"
               "  owner %s; created %s, updated %s\n",
               (long long)inc.id, inc.title, lia_incident_status_name(inc.status),
               inc.waiting ? " (waiting on us)" : "", lia_severity_name(inc.severity), inc.tlp,
               inc.classification ? inc.classification : "-", inc.countries ? inc.countries : "-",
               inc.sectors ? inc.sectors : "-", inc.owner ? inc.owner : "-", cr, up);
        if (inc.merged_into)
            printf("  %s of incident %lld\n", lia_incident_status_name(inc.status),
                   (long long)inc.merged_into);
        if (inc.description && *inc.description)
            printf("\n  %s\n", inc.description);
    }
    if (json)
        printf(",\"handoffs\":[");
    else
        printf("\nhand-offs:\n");
    if ((rc = lia_handoff_list(s, id, -1, NULL, show_handoff, &c, &err)))
        goto out;
    c.n = 0;
    printf(json ? "],\"links\":[" : "links:\n");
    if ((rc = lia_incident_links(s, id, show_link, &c, &err)))
        goto out;
    c.n = 0;
    printf(json ? "],\"events\":[" : "events:\n");
    if ((rc = lia_incident_events(s, id, show_linked_event, &c, NULL, &err)))
        goto out;
    c.n = 0;
    printf(json ? "],\"comments\":[" : "comments:\n");
    if ((rc = lia_incident_comments(s, id, show_comment, &c, &err)))
        goto out;
    c.n = 0;
    printf(json ? "],\"attachments\":[" : "attachments:\n");
    if ((rc = lia_incident_attachments(s, id, show_attachment, &c, &err)))
        goto out;
    c.n = 0;
    printf(json ? "],\"timeline\":[" : "timeline:\n");
    {
        char o1[40], o2[40];
        const char *objs[2] = {o1, o2};
        snprintf(o1, sizeof o1, "incident:%lld", (long long)id);
        snprintf(o2, sizeof o2, "handoff:%lld", (long long)id);
        if ((rc = lia_audit_list_objects(s, objs, 2, show_event, &c, &err)))
            goto out;
    }
    if (json)
        printf("]}\n");
out:
    lia_buf_free(&hold);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}

int cmd_incident(cli *c, int argc, char **argv)
{
    args a;
    lia_store *s = NULL;
    lia_error err;
    const char *sub = argc > 1 ? argv[1] : NULL;
    int rc;
    memset(&a, 0, sizeof a);
    a.inc.severity = LIA_SEV_MEDIUM;
    a.ch = (lia_incident_change)LIA_INCIDENT_CHANGE_KEEP;
    a.filter.status = a.filter.severity = -1;
    lia_error_clear(&err);
    if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        incident_usage(sub ? stdout : stderr);
        return sub ? LIA_EXIT_OK : LIA_EXIT_USAGE;
    }
    if (strcmp(sub, "export") == 0) {
        /* incident export ID FORMAT [export options]: export --of-incident ID */
        char *xa[64];
        int n = 0;
        if (argc < 4 || argc > 60) {
            cli_errorf("incident export: ID and a format (stix or iodef), then export's options");
            return LIA_EXIT_USAGE;
        }
        if (strcmp(argv[3], "stix") != 0 && strcmp(argv[3], "iodef") != 0) {
            cli_errorf("incident export: format '%s': stix or iodef", argv[3]);
            return LIA_EXIT_USAGE;
        }
        xa[n++] = (char *)"export";
        xa[n++] = argv[3];
        xa[n++] = (char *)"--of-incident";
        xa[n++] = argv[2];
        for (int i = 4; i < argc; i++)
            xa[n++] = argv[i];
        xa[n] = NULL;
        return cmd_export(c, n, xa);
    }
    if (strcmp(sub, "attach") == 0 || strcmp(sub, "attachment") == 0)
        return do_attach(c, argc, argv);
    if (strcmp(sub, "import") == 0) {
        /* incident import FILE [--from PARTNER]: one IODEF v2 document */
        const char *from = NULL, *file = NULL;
        lia_buf doc;
        int64_t iid = 0;
        int created = 0;
        uint64_t linked = 0;
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
                from = argv[++i];
            else if (!file && argv[i][0] != '-')
                file = argv[i];
            else {
                cli_errorf("incident import: FILE [--from PARTNER] (bad argument %s)", argv[i]);
                return LIA_EXIT_USAGE;
            }
        }
        if (!file) {
            cli_errorf("incident import: the IODEF document to import is required");
            return LIA_EXIT_USAGE;
        }
        lia_buf_init(&doc, (256u << 20));
        if (cli_read_file(file, (256u << 20), &doc)) {
            lia_buf_free(&doc);
            return LIA_EXIT_ERROR;
        }
        if (cli_open_store(c, &s)) {
            lia_buf_free(&doc);
            return LIA_EXIT_ERROR;
        }
        lia_actor iw = cli_actor();
        rc = lia_incident_import_iodef(s, doc.ptr ? doc.ptr : "", doc.len, from, &iw, &iid, &created, &linked,
                                       &err);
        lia_buf_free(&doc);
        if (rc)
            return fail(s, &err);
        printf("incident %lld %s from %s: %llu events linked\n", (long long)iid,
               created ? "opened" : "updated", file, (unsigned long long)linked);
        lia_store_close(s);
        return LIA_EXIT_OK;
    }
    if ((rc = parse(sub, argc - 1, argv + 1, &a)))
        return rc;
    if (a.help) {
        incident_usage(stdout);
        return LIA_EXIT_OK;
    }
    char **pos = argv + 1 + optind;
    int npos = argc - 1 - optind;
    if (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "update") &&
        strcmp(sub, "comment") && strcmp(sub, "link") && strcmp(sub, "merge") && strcmp(sub, "split")) {
        cli_errorf("incident: unknown command '%s' (see liaison incident --help)", sub);
        return LIA_EXIT_USAGE;
    }
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    lia_actor who = cli_actor();
    int64_t id = 0;
    if (strcmp(sub, "create") == 0) {
        rc = do_create(s, &a);
    } else if (strcmp(sub, "list") == 0) {
        list_ctx lc = {a.json, 0};
        if (a.json)
            printf("[");
        if (lia_incident_list(s, &a.filter, print_incident, &lc, &err))
            return fail(s, &err);
        if (a.json)
            printf("]\n");
        else if (lc.n == 0)
            printf("no incidents\n");
        rc = LIA_EXIT_OK;
    } else if (npos < 1 || parse_id(sub, pos[0], &id)) {
        cli_errorf("incident %s: which incident? (an id)", sub);
        rc = LIA_EXIT_USAGE;
    } else if (strcmp(sub, "show") == 0) {
        rc = do_show(s, id, a.json);
    } else if (strcmp(sub, "update") == 0) {
        if (lia_incident_update(s, id, &a.ch, &who, &err))
            return fail(s, &err);
        printf("incident %lld updated\n", (long long)id);
        rc = LIA_EXIT_OK;
    } else if (strcmp(sub, "split") == 0) {
        rc = do_split(s, id, &a);
    } else if (strcmp(sub, "merge") == 0) {
        lia_incident_change ch = LIA_INCIDENT_CHANGE_KEEP;
        if (!a.ch.merged_into) {
            cli_errorf("incident merge: --into ID (the incident that goes on)");
            rc = LIA_EXIT_USAGE;
        } else {
            ch.status = a.duplicate ? LIA_INC_DUPLICATE : LIA_INC_MERGED;
            ch.merged_into = a.ch.merged_into;
            if (lia_incident_update(s, id, &ch, &who, &err))
                return fail(s, &err);
            printf("incident %lld %s incident %lld\n", (long long)id,
                   a.duplicate ? "marked a duplicate of" : "merged into", (long long)ch.merged_into);
            rc = LIA_EXIT_OK;
        }
    } else if (strcmp(sub, "comment") == 0) {
        int64_t cid;
        char vis[96];
        if (npos != 2) {
            cli_errorf("incident comment: ID and one TEXT argument (quote it)");
            rc = LIA_EXIT_USAGE;
        } else {
            if (!a.shared_set)
                snprintf(vis, sizeof vis, "internal");
            else if (a.shared)
                snprintf(vis, sizeof vis, "shared:%s", a.shared);
            else
                snprintf(vis, sizeof vis, "shared");
            if (lia_incident_comment(s, id, vis, pos[1], &who, &cid, &err))
                return fail(s, &err);
            printf("comment %lld added to incident %lld (%s)\n", (long long)cid, (long long)id, vis);
            rc = LIA_EXIT_OK;
        }
    } else {
        if (!a.link_kind) {
            cli_errorf("incident link: --event ID, --indicator VALUE or --incident ID");
            rc = LIA_EXIT_USAGE;
        } else if (lia_incident_link(s, id, a.link_kind, a.link_ref, &who, &err)) {
            return fail(s, &err);
        } else {
            printf("incident %lld linked to %s %s\n", (long long)id, a.link_kind, a.link_ref);
            rc = LIA_EXIT_OK;
        }
    }
    lia_store_close(s);
    return rc;
}
