/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "phishtank": PhishTank's verified online phish list, as JSON
 * (online-valid.json: an array of objects with a "details" array) or CSV
 * (online-valid.csv with its header row). One phishing URL per entry; the
 * first "details" entry gives the hosting IP, network, ASN and country. */
#include <stdlib.h>

#include "feeds/feedutil.h"
#include "feeds/objrec.h"

static int pt_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    lia_objrec *r = calloc(1, sizeof *r);
    if (!r)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_objrec_init(r, NULL, 0, '\0');
    *st = r;
    return LIA_OK;
}

static int pt_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    return lia_objrec_parse(st, buf, len, eof, out, err);
}

static int extra(lia_event *ev, const char *key, const lia_jobj *o, const char *member, lia_error *err)
{
    lia_slice s = lia_objrec_text(o, member);
    if (!s.ptr)
        return LIA_OK;
    return lia_event_extra_str(ev, key, strlen(key), s.ptr, s.len, err);
}

static int pt_normalise(void *st, const lia_records *rs, const lia_record *rec, lia_event *ev, lia_error *err)
{
    const lia_jobj *o = NULL, *d;
    lia_slice s;
    int rc = lia_objrec_object(st, rs, rec, &o, err);
    if (rc)
        return rc;
    s = lia_objrec_text(o, "url");
    if (!s.ptr) {
        rc = lia_error_set(err, LIA_EINVAL, "source.url", NULL, 0, "entry has no url");
        goto out;
    }
    if ((rc = lia_event_set(ev, LIA_F_SOURCE_URL, s.ptr, s.len, err)) ||
        (rc = lia_event_set(ev, LIA_F_CLASSIFICATION_TYPE, "phishing", 8, err)) ||
        (rc = lia_objrec_set(ev, LIA_F_EVENT_DESCRIPTION_URL, o, "phish_detail_url", err)) ||
        (rc = lia_objrec_set(ev, LIA_F_TIME_SOURCE, o, "submission_time", err)) ||
        (rc = lia_objrec_set(ev, LIA_F_EVENT_DESCRIPTION_TARGET, o, "target", err)) ||
        (rc = extra(ev, "phishtank.phish_id", o, "phish_id", err)) ||
        (rc = extra(ev, "phishtank.verified", o, "verified", err)) ||
        (rc = extra(ev, "phishtank.verification_time", o, "verification_time", err)))
        goto out;
    s = lia_objrec_text(o, "online");
    if (s.ptr) {
        int on;
        if (lia_parse_bool(s.ptr, s.len, &on, NULL))
            rc = lia_error_set(err, LIA_EINVAL, "status", s.ptr, s.len, "\"online\" is not yes or no");
        else
            rc = on ? lia_event_set(ev, LIA_F_STATUS, "online", 6, err)
                    : lia_event_set(ev, LIA_F_STATUS, "offline", 7, err);
        if (rc)
            goto out;
    }
    d = lia_objrec_first(st, o, "details");
    if (d) {
        if ((rc = lia_objrec_set(ev, LIA_F_SOURCE_IP, d, "ip_address", err)) ||
            (rc = lia_objrec_set(ev, LIA_F_SOURCE_NETWORK, d, "cidr_block", err)) ||
            (rc = lia_objrec_set(ev, LIA_F_SOURCE_ASN, d, "announcing_network", err)) ||
            (rc = lia_objrec_set(ev, LIA_F_SOURCE_GEOLOCATION_CC, d, "country", err)))
            goto out;
    }
out:
    return rc;
}

static void pt_close(void *st)
{
    if (!st)
        return;
    lia_objrec_free(st);
    free(st);
}

const lia_format lia_format_phishtank = {
    .name = "phishtank",
    .summary = "PhishTank online-valid phish list (JSON or CSV)",
    .open = pt_open,
    .parse = pt_parse,
    .normalise = pt_normalise,
    .close = pt_close,
};
