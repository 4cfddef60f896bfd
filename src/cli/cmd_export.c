/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison export stix|misp-feed|iodef: stored events in a sharing format. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "liaison/iodef.h"
#include "liaison/misp.h"
#include "liaison/stix.h"

static void export_usage(FILE *f)
{
    fprintf(f,
            "usage: liaison [--db PATH] export stix [filters] [--producer NAME]\n"
            "                [--incident NAME [--description TEXT]] [-o FILE]\n"
            "       liaison [--db PATH] export misp-feed DIR [filters] [--producer NAME]\n"
            "                [--group report|feed-day]\n"
            "       liaison [--db PATH] export iodef [filters] [--producer NAME]\n"
            "                [--contact EMAIL] [--incident NAME] [-o FILE]\n"
            "\n"
            "Write the stored events that match the filters in a sharing format:\n"
            "  stix       one STIX 2.1 bundle (indicators, observables, sightings, the\n"
            "             producer's identity, TLP 2.0 markings; --incident wraps them)\n"
            "  misp-feed  a MISP feed directory: manifest.json, one EVENT-UUID.json per\n"
            "             MISP event (one per report, or per feed and day), hashes.csv\n"
            "  iodef      one IODEF v2 (RFC 7970) Incident document\n"
            "  --of-incident ID  instead of filters: the events linked to incident ID, in a\n"
            "             bundle / document named after it (liaison incident export ID FORMAT)\n"
            "Events without an IP, network, domain, URL or hash cannot be expressed\n"
            "and are counted on stderr.\n"
            "\n"
            "%s"
            "  --limit N        at most N events\n"
            "Output:\n"
            "  --max-tlp LABEL  export only events marked at most LABEL (CLEAR GREEN AMBER\n"
            "                   AMBER+STRICT RED); events above it or without a TLP are\n"
            "                   counted, not exported\n"
            "  --producer NAME  our organisation's name (default Liaison)\n"
            "  -o, --output F   file to write (default standard output)\n",
            cli_filter_help);
}

typedef struct exp_ctx {
    FILE *f;
    lia_stix_export *stix;
    lia_misp_export *misp;
    lia_iodef_export *iodef;
    uint64_t events, over_tlp, missing;
    int max_tlp; /* -1: no ceiling */
    lia_error *err;
} exp_ctx;

static int file_sink(void *ud, const char *p, size_t n)
{
    FILE *f = ud;
    return fwrite(p, 1, n, f) == n ? LIA_OK : LIA_EIO;
}

static int each(void *ud, const lia_event *ev)
{
    exp_ctx *x = ud;
    int rc;
    /* TLP ceiling: an event above it, or without a TLP, is not shared */
    if (x->max_tlp >= 0 && (!lia_event_has(ev, LIA_F_TLP) || ev->v[LIA_F_TLP].i > x->max_tlp)) {
        x->over_tlp++;
        return LIA_OK;
    }
    if (x->stix)
        rc = lia_stix_export_add(x->stix, ev, x->err);
    else if (x->misp)
        rc = lia_misp_export_add(x->misp, ev, x->err);
    else
        rc = lia_iodef_export_add(x->iodef, ev, x->err);
    if (rc == LIA_ENOTFOUND)
        return LIA_OK;
    if (rc == LIA_OK)
        x->events++;
    return rc;
}

int cmd_export(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_FILTER_OPTIONS,
        {"producer", required_argument, NULL, 'P'},
        {"incident", required_argument, NULL, 'I'},
        {"description", required_argument, NULL, 'D'},
        {"contact", required_argument, NULL, 'E'},
        {"group", required_argument, NULL, 'G'},
        {"output", required_argument, NULL, 'o'},
        {"max-tlp", required_argument, NULL, 'T'},
        {"of-incident", required_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *fmt, *dir = NULL, *output = NULL, *producer = NULL, *incident = NULL, *desc = NULL,
                     *contact = NULL, *group = "report";
    lia_query q;
    lia_store *s = NULL;
    lia_error err;
    exp_ctx x;
    int ch, rc, ret = LIA_EXIT_ERROR;
    uint64_t skipped = 0, objects = 0, of_incident = 0;
    lia_incident inc;
    lia_buf hold;
    lia_buf_init(&hold, 0);

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        export_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? LIA_EXIT_USAGE : LIA_EXIT_OK;
    }
    fmt = argv[1];
    if (strcmp(fmt, "stix") != 0 && strcmp(fmt, "misp-feed") != 0 && strcmp(fmt, "iodef") != 0) {
        cli_errorf("export: unknown format '%s' (stix, misp-feed, iodef)", fmt);
        return LIA_EXIT_USAGE;
    }
    argc--;
    argv++;
    memset(&q, 0, sizeof q);
    memset(&x, 0, sizeof x);
    x.max_tlp = -1;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (ch) {
        case 'P': producer = optarg; break;
        case 'I': incident = optarg; break;
        case 'D': desc = optarg; break;
        case 'E': contact = optarg; break;
        case 'G': group = optarg; break;
        case 'o': output = optarg; break;
        case 'T':
            if (lia_parse_tlp(optarg, strlen(optarg), &x.max_tlp, NULL)) {
                cli_errorf("export: --max-tlp %s: not a TLP 2.0 label (CLEAR GREEN AMBER AMBER+STRICT RED)",
                           optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'N':
            if (cli_parse_u64(optarg, &of_incident) || of_incident == 0 || of_incident > INT64_MAX) {
                cli_errorf("export: --of-incident %s: not an incident id", optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'h': export_usage(stdout); return LIA_EXIT_OK;
        default:
            if ((rc = cli_filter_arg("export", ch, optarg, &q)) == 0)
                break;
            if (rc != 1)
                return rc;
            cli_errorf("export: bad option %s (see liaison export --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    if (strcmp(fmt, "misp-feed") == 0) {
        if (optind >= argc) {
            cli_errorf("export misp-feed: the feed directory is missing");
            return LIA_EXIT_USAGE;
        }
        dir = argv[optind++];
        if (output) {
            cli_errorf("export misp-feed: -o does not apply (the feed is a directory)");
            return LIA_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_errorf("export: unexpected argument %s", argv[optind]);
        return LIA_EXIT_USAGE;
    }
    if (strcmp(group, "report") != 0 && strcmp(group, "feed-day") != 0) {
        cli_errorf("export: --group %s: report or feed-day", group);
        return LIA_EXIT_USAGE;
    }
    if (of_incident) {
        lia_query none;
        memset(&none, 0, sizeof none);
        if (memcmp(&q, &none, sizeof q) != 0) {
            cli_errorf("export: --of-incident takes the incident's events; it does not go with filters");
            return LIA_EXIT_USAGE;
        }
    }
    if ((rc = cli_open_store(c, &s)))
        return rc;
    lia_error_clear(&err);
    x.err = &err;
    if (of_incident && lia_incident_get(s, (int64_t)of_incident, &inc, &hold, &err)) {
        cli_error(&err); /* before the output is opened: no file for an incident that is not there */
        goto out;
    }
    x.f = stdout;
    if (output && !(x.f = fopen(output, "wb"))) {
        cli_errorf("export: cannot write %s: %s", output, strerror(errno));
        goto out;
    }
    if (of_incident && strcmp(fmt, "misp-feed") != 0) {
        /* the library's: named after the incident, its state and hand-offs */
        lia_incident_export_opts eo = {.format = fmt,
                                       .producer = producer,
                                       .contact_email = contact,
                                       .name = incident,
                                       .description = desc,
                                       .max_tlp = x.max_tlp};
        lia_incident_export_result er;
        if ((rc = lia_incident_export(s, (int64_t)of_incident, &eo, file_sink, x.f, &er, &err)) == LIA_OK) {
            x.events = er.events;
            x.missing = er.missing;
            x.over_tlp = er.over_tlp;
            skipped = er.skipped;
            objects = er.objects;
        }
    } else {
        if (strcmp(fmt, "stix") == 0) {
            lia_stix_opts so = {.producer = producer, .incident = incident, .incident_description = desc};
            rc = lia_stix_export_create(&so, file_sink, x.f, &x.stix, &err);
        } else if (strcmp(fmt, "misp-feed") == 0) {
            lia_misp_opts mo = {.org = producer,
                                .group =
                                    strcmp(group, "report") == 0 ? LIA_MISP_BY_REPORT : LIA_MISP_BY_FEED_DAY};
            rc = lia_misp_export_create(dir, &mo, &x.misp, &err);
        } else {
            lia_iodef_opts io = {.producer = producer, .contact_email = contact, .incident = incident};
            rc = lia_iodef_export_create(&io, file_sink, x.f, &x.iodef, &err);
        }
        if (rc == LIA_OK)
            rc = of_incident ? lia_incident_events(s, (int64_t)of_incident, each, &x, &x.missing, &err)
                             : lia_store_query(s, &q, each, &x, &err);
        if (rc == LIA_OK) {
            if (x.stix) {
                rc = lia_stix_export_finish(x.stix, &err);
                skipped = lia_stix_export_skipped(x.stix);
                objects = lia_stix_export_objects(x.stix);
            } else if (x.misp) {
                rc = lia_misp_export_finish(x.misp, &err);
                skipped = lia_misp_export_skipped(x.misp);
                objects = lia_misp_export_events(x.misp);
            } else {
                rc = lia_iodef_export_finish(x.iodef, &err);
                skipped = lia_iodef_export_skipped(x.iodef);
                objects = x.events;
            }
        }
    }
    if (rc == LIA_OK && fflush(x.f) != 0)
        rc = lia_error_set(&err, LIA_EIO, NULL, NULL, 0, "writing the output failed");
    if (rc) {
        cli_error(&err);
        goto out;
    }
    fprintf(stderr, "export %s: %llu events exported as %llu %s%s", fmt, (unsigned long long)x.events,
            (unsigned long long)objects,
            strcmp(fmt, "stix") == 0        ? "STIX objects"
            : strcmp(fmt, "misp-feed") == 0 ? "MISP events"
                                            : "IODEF indicators",
            skipped ? "" : "\n");
    if (skipped)
        fprintf(stderr,
                "; %llu events without an observable this format carries (IP, network, domain, URL%s) not "
                "exported\n",
                (unsigned long long)skipped, strcmp(fmt, "iodef") == 0 ? "" : ", hash");
    if (x.missing)
        fprintf(stderr, "export %s: %llu events linked to incident %llu are no longer in the store\n", fmt,
                (unsigned long long)x.missing, (unsigned long long)of_incident);
    if (x.over_tlp)
        fprintf(stderr, "export %s: %llu events above TLP:%s (or without a TLP) not exported\n", fmt,
                (unsigned long long)x.over_tlp, lia_tlp_name(x.max_tlp));
    ret = LIA_EXIT_OK;
out:
    lia_stix_export_destroy(x.stix);
    lia_misp_export_destroy(x.misp);
    lia_iodef_export_destroy(x.iodef);
    if (x.f && x.f != stdout && fclose(x.f) != 0 && ret == LIA_EXIT_OK) {
        cli_errorf("export: closing %s failed", output);
        ret = LIA_EXIT_ERROR;
    }
    lia_store_close(s);
    lia_buf_free(&hold);
    return ret;
}
