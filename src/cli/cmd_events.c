/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison events: query the store, print as a table, JSON lines or CSV. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const lia_field default_fields[] = {
    LIA_F_TIME_SOURCE, LIA_F_FEED_NAME, LIA_F_CLASSIFICATION_TYPE, LIA_F_SOURCE_IP,
    LIA_F_SOURCE_PORT, LIA_F_SOURCE_ASN, LIA_F_SOURCE_GEOLOCATION_CC, LIA_F_PROTOCOL_APPLICATION,
};

typedef struct out {
    enum { OUT_TABLE, OUT_JSONL, OUT_CSV, OUT_IDS } fmt;
    lia_field fields[64];
    size_t nfields;
    lia_buf line;
    uint64_t n;
} out;


static int print_event(void *ud, const lia_event *ev)
{
    out *o = ud;
    char tmp[LIA_MAX_URL + 64];
    lia_buf_reset(&o->line);
    if (o->fmt == OUT_IDS) {
        lia_buf_printf(&o->line, "%lld", (long long)ev->id);
    } else if (o->fmt == OUT_JSONL) {
        /* event.id and provenance first, then the harmonised fields */
        lia_buf_printf(&o->line, "{\"event.id\":%lld,\"report.id\":%lld,\"report.line\":%llu,",
                       (long long)ev->id, (long long)ev->report_id, (unsigned long long)ev->line);
        lia_buf l2;
        lia_buf_init(&l2, LIA_MAX_EVENT_TEXT * 2);
        lia_event_to_json(ev, &l2);
        lia_buf_append(&o->line, l2.ptr + 1, l2.len - 1);
        lia_buf_free(&l2);
    } else {
        if (o->fmt == OUT_TABLE)
            lia_buf_printf(&o->line, "%-8lld", (long long)ev->id);
        else
            lia_buf_printf(&o->line, "%lld", (long long)ev->id);
        for (size_t i = 0; i < o->nfields; i++) {
            size_t n = lia_event_text(ev, o->fields[i], tmp, sizeof tmp);
            if (o->fmt == OUT_CSV) {
                lia_buf_putc(&o->line, ',');
                lia_buf_csv(&o->line, tmp, n);
            } else {
                char esc[160];
                lia_escape(tmp, n, esc, 40);
                lia_buf_printf(&o->line, " %-*s", o->fields[i] == LIA_F_TIME_SOURCE ? 25 : 16,
                               n ? esc : "-");
            }
        }
    }
    lia_buf_putc(&o->line, '\n');
    fwrite(o->line.ptr, 1, o->line.len, stdout);
    o->n++;
    return ferror(stdout) ? LIA_EIO : LIA_OK;
}

static void events_usage(FILE *f)
{
    fprintf(f,
            "usage: liaison [--db PATH] events [filters] [--format table|jsonl|csv|ids]\n"
            "\n"
            "List stored events, oldest first.\n"
            "\n"
            "%s"
            "  --limit N        at most N events (default 100 for table, none otherwise)\n"
            "Output:\n"
            "  --format F       table (default), jsonl (all fields), csv, ids (one event id\n"
            "                   a line: liaison incident create --events-from - reads them)\n"
            "  --fields A,B     fields for table/csv (default: time, feed, type, ip,\n"
            "                   port, asn, cc, protocol)\n"
            "  --count          print only the number of matching events\n",
            cli_filter_help);
}

int cmd_events(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_FILTER_OPTIONS,                       {"format", required_argument, NULL, 'F'},
        {"fields", required_argument, NULL, 'd'}, {"count", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    lia_query q;
    out o;
    lia_store *s;
    lia_error err;
    int ch, rc, limit_set = 0, count_only = 0;

    memset(&q, 0, sizeof q);
    memset(&o, 0, sizeof o);
    memcpy(o.fields, default_fields, sizeof default_fields);
    o.nfields = sizeof default_fields / sizeof default_fields[0];
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (ch) {
        case 'F':
            if (strcmp(optarg, "table") == 0)
                o.fmt = OUT_TABLE;
            else if (strcmp(optarg, "jsonl") == 0)
                o.fmt = OUT_JSONL;
            else if (strcmp(optarg, "csv") == 0)
                o.fmt = OUT_CSV;
            else if (strcmp(optarg, "ids") == 0)
                o.fmt = OUT_IDS;
            else {
                cli_errorf("events: --format %s: one of table, jsonl, csv, ids", optarg);
                return LIA_EXIT_USAGE;
            }
            break;
        case 'd': {
            const char *p = optarg;
            o.nfields = 0;
            while (*p) {
                const char *e = strchr(p, ',');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                int f = lia_field_lookup(p, n);
                if (f < 0 || o.nfields == 64) {
                    cli_errorf("events: --fields: unknown field '%.*s'", (int)n, p);
                    return LIA_EXIT_USAGE;
                }
                o.fields[o.nfields++] = (lia_field)f;
                p += n + (e ? 1 : 0);
            }
            break;
        }
        case 'C': count_only = 1; break;
        case 'h': events_usage(stdout); return LIA_EXIT_OK;
        default:
            if ((rc = cli_filter_arg("events", ch, optarg, &q)) == 0) {
                limit_set |= ch == 'l';
                break;
            }
            if (rc != 1)
                return rc;
            cli_errorf("events: bad option %s (see liaison events --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_errorf("events: unexpected argument %s", argv[optind]);
        return LIA_EXIT_USAGE;
    }
    if (!limit_set && o.fmt == OUT_TABLE)
        q.limit = 100;
    if ((rc = cli_open_store(c, &s)))
        return rc;
    lia_error_clear(&err);
    if (count_only) {
        uint64_t n = 0;
        rc = lia_store_count(s, &q, &n, &err);
        if (rc == LIA_OK)
            printf("%llu\n", (unsigned long long)n);
    } else {
        lia_buf_init(&o.line, LIA_MAX_EVENT_TEXT * 4);
        if (o.fmt != OUT_JSONL && o.fmt != OUT_IDS) {
            lia_buf_reset(&o.line);
            lia_buf_puts(&o.line, o.fmt == OUT_TABLE ? "event.id" : "event.id");
            for (size_t i = 0; i < o.nfields; i++) {
                if (o.fmt == OUT_CSV)
                    lia_buf_printf(&o.line, ",%s", lia_field_name(o.fields[i]));
                else
                    lia_buf_printf(&o.line, " %-*s", o.fields[i] == LIA_F_TIME_SOURCE ? 25 : 16,
                                   lia_field_name(o.fields[i]));
            }
            lia_buf_putc(&o.line, '\n');
            fputs(lia_buf_cstr(&o.line), stdout);
        }
        rc = lia_store_query(s, &q, print_event, &o, &err);
        if (rc == LIA_EIO)
            lia_error_set(&err, rc, NULL, NULL, 0, "writing output failed");
        lia_buf_free(&o.line);
    }
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}
