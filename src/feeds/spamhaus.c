/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "spamhaus-drop": Spamhaus DROP / EDROP / DROPv6 ("NETWORK ; SBLID")
 * and ASN-DROP ("ASnnn ; CC | AS NAME"), told apart line by line, in the
 * text form (';' comments; the "Last-Modified:" comment dates every entry)
 * and the JSON-lines form (drop_v4.json {"cidr","sblid","rir"},
 * asndrop.json {"asn","cc","asname","domain","rir"}; the trailing
 * {"type":"metadata"} line carries no entry). */
#include <stdlib.h>

#include "feeds/feedutil.h"
#include "feeds/objrec.h"

typedef struct drop {
    lia_ctxlines cl;
    lia_jobj obj;
    char lastmod[48]; /* RFC 3339 text of the Last-Modified comment, "" if none */
} drop;

static int drop_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    drop *d = calloc(1, sizeof *d);
    if (!d)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_ctxlines_init(&d->cl);
    lia_jobj_init(&d->obj);
    *st = d;
    return LIA_OK;
}

static int drop_line(void *ud, lia_slice line, lia_slice *ctx)
{
    drop *d = ud;
    lia_slice t = lia_feed_trim(line);
    if (t.len && t.ptr[0] == ';') {
        static const char key[] = "Last-Modified:";
        const char *p = t.len > sizeof key ? memmem(t.ptr, t.len, key, sizeof key - 1) : NULL;
        if (p) {
            lia_slice v = {p + sizeof key - 1, t.len - (size_t)(p - t.ptr) - (sizeof key - 1)};
            if (lia_feed_date(v, d->lastmod, sizeof d->lastmod))
                d->lastmod[0] = '\0';
        }
        return LIA_LINE_SKIP;
    }
    *ctx = lia_slice_from(d->lastmod);
    return LIA_LINE_EMIT;
}

static int drop_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    drop *d = st;
    return lia_ctxlines_split(&d->cl, buf, len, eof, out, drop_line, d, err);
}

static int drop_json(drop *d, lia_event *ev, lia_slice line, lia_error *err)
{
    const lia_jobj *o = &d->obj;
    const char *why = NULL;
    lia_slice s;
    int rc = lia_jobj_read(&d->obj, line.ptr, line.len, &why);
    if (rc)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "invalid JSON at column %d: %s",
                             d->obj.error_col, why);
    if (lia_jobj_get(o, "type")) /* metadata line */
        return LIA_ENOTFOUND;
    if ((rc = lia_event_set(ev, LIA_F_CLASSIFICATION_TYPE, "spam", 4, err)))
        return rc;
    if (lia_jobj_get(o, "cidr")) {
        if ((rc = lia_objrec_set(ev, LIA_F_SOURCE_NETWORK, o, "cidr", err)))
            return rc;
        s = lia_objrec_text(o, "sblid");
        if (s.ptr && (rc = lia_event_extra_str(ev, "blocklist", 9, s.ptr, s.len, err)))
            return rc;
    } else if (lia_jobj_get(o, "asn")) {
        if ((rc = lia_objrec_set(ev, LIA_F_SOURCE_ASN, o, "asn", err)) ||
            (rc = lia_objrec_set(ev, LIA_F_SOURCE_AS_NAME, o, "asname", err)) ||
            (rc = lia_objrec_set(ev, LIA_F_SOURCE_GEOLOCATION_CC, o, "cc", err)))
            return rc;
        s = lia_objrec_text(o, "domain");
        if (s.ptr && (rc = lia_event_extra_str(ev, "domain", 6, s.ptr, s.len, err)))
            return rc;
    } else {
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "entry has neither \"cidr\" nor \"asn\"");
    }
    s = lia_objrec_text(o, "rir");
    if (s.ptr)
        return lia_event_extra_str(ev, "rir", 3, s.ptr, s.len, err);
    return LIA_OK;
}

static int drop_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev, lia_error *err)
{
    lia_slice line = lia_feed_trim(rs->fields[r->first]);
    lia_slice lastmod = rs->fields[r->first + 1];
    lia_slice head, rest, cc, name;
    int rc;
    if (line.ptr[0] == '{')
        return drop_json(st, ev, line, err);
    lia_feed_cut(line, ';', &head, &rest);
    if (head.len == 0)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "no network or ASN before ';'");
    if ((rc = lia_event_set(ev, LIA_F_CLASSIFICATION_TYPE, "spam", 4, err)))
        return rc;
    if (head.len > 2 && (head.ptr[0] | 32) == 'a' && (head.ptr[1] | 32) == 's' && head.ptr[2] >= '0' &&
        head.ptr[2] <= '9') { /* ASN-DROP */
        if ((rc = lia_event_set(ev, LIA_F_SOURCE_ASN, head.ptr, head.len, err)))
            return rc;
        lia_feed_cut(rest, '|', &cc, &name);
        if (cc.len && (rc = lia_event_set(ev, LIA_F_SOURCE_GEOLOCATION_CC, cc.ptr, cc.len, err)))
            return rc;
        if (name.len && (rc = lia_event_set(ev, LIA_F_SOURCE_AS_NAME, name.ptr, name.len, err)))
            return rc;
    } else {
        if ((rc = lia_event_set(ev, LIA_F_SOURCE_NETWORK, head.ptr, head.len, err)))
            return rc;
        if (rest.len && (rc = lia_event_extra_str(ev, "blocklist", 9, rest.ptr, rest.len, err)))
            return rc;
    }
    if (lastmod.len)
        return lia_event_set(ev, LIA_F_TIME_SOURCE, lastmod.ptr, lastmod.len, err);
    return LIA_OK;
}

static void drop_close(void *st)
{
    drop *d = st;
    if (!d)
        return;
    lia_ctxlines_free(&d->cl);
    lia_jobj_free(&d->obj);
    free(d);
}

const lia_format lia_format_spamhaus_drop = {
    .name = "spamhaus-drop",
    .summary = "Spamhaus DROP/EDROP/DROPv6 and ASN-DROP (text or JSON lines)",
    .open = drop_open,
    .parse = drop_parse,
    .normalise = drop_normalise,
    .close = drop_close,
};
