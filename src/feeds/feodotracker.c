/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "feodotracker": abuse.ch Feodo Tracker botnet C2 IP block list,
 * as JSON (ipblocklist.json: an array of objects), CSV (ipblocklist.csv:
 * '#' comments, the last of which names the columns, e.g. first_seen_utc,
 * dst_ip, dst_port, c2_status, last_online, malware, or the older Firstseen,
 * DstIP, DstPort, LastOnline, Malware; without such a comment the current
 * column order is assumed) or a plain IP list (ipblocklist.txt). Every entry
 * is a C2 server (classification.type c2-server); time.source is first_seen,
 * else the last_online date. */
#include <stdlib.h>

#include "feeds/feedutil.h"
#include "feeds/objrec.h"

/* CSV columns, named as in the JSON form. */
static const char *const csv_names[] = {"first_seen", "ip_address",  "port",
                                        "status",     "last_online", "malware"};

static int feodo_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    lia_objrec *r = calloc(1, sizeof *r);
    if (!r)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_objrec_init(r, csv_names, sizeof csv_names / sizeof csv_names[0], '#');
    r->comment_header = 1;
    r->single_name = "ip_address";
    *st = r;
    return LIA_OK;
}

static int feodo_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    return lia_objrec_parse(st, buf, len, eof, out, err);
}

/* The same column under the names of the JSON and of old and new CSVs. */
static const char *const k_ip[] = {"ip_address", "dst_ip", "dstip", "ip", NULL};
static const char *const k_port[] = {"port", "dst_port", "dstport", NULL};
static const char *const k_status[] = {"status", "c2_status", NULL};
static const char *const k_first[] = {"first_seen", "first_seen_utc", "firstseen", NULL};
static const char *const k_last[] = {"last_online", "lastonline", NULL};
static const char *const k_host[] = {"hostname", NULL};
static const char *const k_asn[] = {"as_number", NULL};
static const char *const k_asname[] = {"as_name", NULL};
static const char *const k_cc[] = {"country", NULL};
static const char *const k_malware[] = {"malware", NULL};

static lia_slice text_of(const lia_jobj *o, const char *const *keys)
{
    for (; *keys; keys++) {
        lia_slice s = lia_objrec_text(o, *keys);
        if (s.ptr)
            return s;
    }
    return LIA_SLICE_NULL;
}

static int set_of(lia_event *ev, lia_field f, const lia_jobj *o, const char *const *keys, lia_error *err)
{
    lia_slice s = text_of(o, keys);
    return s.ptr ? lia_event_set(ev, f, s.ptr, s.len, err) : LIA_OK;
}

static int feodo_normalise(void *st, const lia_records *rs, const lia_record *rec, lia_event *ev,
                           lia_error *err)
{
    const lia_jobj *o = NULL;
    char t[48];
    lia_slice s;
    int rc = lia_objrec_object(st, rs, rec, &o, err);
    if (rc)
        return rc;
    s = text_of(o, k_ip);
    if (!s.ptr) {
        rc = lia_error_set(err, LIA_EINVAL, "source.ip", NULL, 0, "entry has no ip_address");
        goto out;
    }
    if ((rc = lia_event_set(ev, LIA_F_SOURCE_IP, s.ptr, s.len, err)) ||
        (rc = lia_event_set(ev, LIA_F_CLASSIFICATION_TYPE, "c2-server", 9, err)) ||
        (rc = set_of(ev, LIA_F_SOURCE_PORT, o, k_port, err)) ||
        (rc = set_of(ev, LIA_F_STATUS, o, k_status, err)) ||
        (rc = set_of(ev, LIA_F_SOURCE_REVERSE_DNS, o, k_host, err)) ||
        (rc = set_of(ev, LIA_F_SOURCE_ASN, o, k_asn, err)) ||
        (rc = set_of(ev, LIA_F_SOURCE_AS_NAME, o, k_asname, err)) ||
        (rc = set_of(ev, LIA_F_SOURCE_GEOLOCATION_CC, o, k_cc, err)) ||
        (rc = set_of(ev, LIA_F_MALWARE_NAME, o, k_malware, err)))
        goto out;
    s = text_of(o, k_last);
    if (s.ptr && (rc = lia_event_extra_str(ev, "last_online", 11, s.ptr, s.len, err)))
        goto out;
    s = text_of(o, k_first);
    if (!s.ptr)
        s = text_of(o, k_last);
    if (s.ptr) {
        if (lia_feed_date(s, t, sizeof t)) {
            rc = lia_error_set(err, LIA_EINVAL, "time.source", s.ptr, s.len, "not a date");
            goto out;
        }
        rc = lia_event_set(ev, LIA_F_TIME_SOURCE, t, strlen(t), err);
    }
out:
    return rc;
}

static void feodo_close(void *st)
{
    if (!st)
        return;
    lia_objrec_free(st);
    free(st);
}

const lia_format lia_format_feodotracker = {
    .name = "feodotracker",
    .summary = "abuse.ch Feodo Tracker C2 IP list (JSON or CSV)",
    .open = feodo_open,
    .parse = feodo_parse,
    .normalise = feodo_normalise,
    .close = feodo_close,
};
