/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "dshield-block": DShield's recommended block list (block.txt):
 * '#' comments (the "updated:" one dates every entry), a header row
 * "Start End Netblock ...", then tab-separated rows: start of netblock, end,
 * prefix length, attacks, network name, country, abuse e-mail. */
#include <stdio.h>
#include <stdlib.h>

#include "feeds/feedutil.h"
#include "core/field_internal.h"

typedef struct dsh {
    lia_ctxlines cl;
    char updated[48];
} dsh;

static int dsh_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    dsh *d = calloc(1, sizeof *d);
    if (!d)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_ctxlines_init(&d->cl);
    *st = d;
    return LIA_OK;
}

static int dsh_line(void *ud, lia_slice line, lia_slice *ctx)
{
    dsh *d = ud;
    lia_slice t = lia_feed_trim(line);
    if (t.len == 0)
        return LIA_LINE_SKIP;
    if (t.ptr[0] == '#') {
        static const char key[] = "updated:";
        const char *p = memmem(t.ptr, t.len, key, sizeof key - 1);
        if (p) {
            lia_slice v = {p + sizeof key - 1, t.len - (size_t)(p - t.ptr) - (sizeof key - 1)};
            if (lia_feed_date(v, d->updated, sizeof d->updated))
                d->updated[0] = '\0';
        }
        return LIA_LINE_SKIP;
    }
    if (t.len >= 6 && memcmp(t.ptr, "Start\t", 6) == 0)
        return LIA_LINE_SKIP; /* the header row */
    *ctx = lia_slice_from(d->updated);
    return LIA_LINE_EMIT;
}

static int dsh_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    dsh *d = st;
    return lia_ctxlines_split(&d->cl, buf, len, eof, out, dsh_line, d, err);
}

static int dsh_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev, lia_error *err)
{
    lia_slice rest = rs->fields[r->first], updated = rs->fields[r->first + 1];
    lia_slice col[7];
    size_t n = 0;
    char net[128];
    int rc, k;
    rest = lia_feed_trim(rest);
    while (n < 7) { /* columns may be empty: split at every tab */
        const char *tab = rest.len ? memchr(rest.ptr, '\t', rest.len) : NULL;
        size_t l = tab ? (size_t)(tab - rest.ptr) : rest.len;
        col[n++] = lia_slice_trim((lia_slice){rest.ptr, l});
        if (!tab)
            break;
        rest = (lia_slice){tab + 1, rest.len - l - 1};
    }
    if (n < 3 || col[0].len == 0 || col[2].len == 0)
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0,
                             "expected tab-separated start, end and prefix length (got %zu columns)", n);
    k = snprintf(net, sizeof net, "%.*s/%.*s", (int)col[0].len, col[0].ptr, (int)col[2].len, col[2].ptr);
    if (k <= 0 || (size_t)k >= sizeof net)
        return lia_error_set(err, LIA_EINVAL, "source.network", col[0].ptr, col[0].len, "too long");
    if ((rc = lia_event_set(ev, LIA_F_SOURCE_NETWORK, net, (size_t)k, err)) ||
        (rc = lia_event_set(ev, LIA_F_CLASSIFICATION_TYPE, "blacklist", 9, err)))
        return rc;
    if (n > 3 && col[3].len) {
        int64_t v;
        const char *why = NULL;
        if (lia__parse_int(col[3].ptr, col[3].len, &v, &why))
            return lia_error_set(err, LIA_EINVAL, "extra.attacks", col[3].ptr, col[3].len, "%s", why);
        if ((rc = lia_event_extra_int(ev, "attacks", 7, v, err)))
            return rc;
    }
    if (n > 4 && col[4].len &&
        (rc = lia_event_extra_str(ev, "network_name", 12, col[4].ptr, col[4].len, err)))
        return rc;
    if (n > 5 && col[5].len &&
        (rc = lia_event_set(ev, LIA_F_SOURCE_GEOLOCATION_CC, col[5].ptr, col[5].len, err)))
        return rc;
    if (n > 6 && col[6].len &&
        (rc = lia_event_set(ev, LIA_F_SOURCE_ABUSE_CONTACT, col[6].ptr, col[6].len, err)))
        return rc;
    if (updated.len)
        return lia_event_set(ev, LIA_F_TIME_SOURCE, updated.ptr, updated.len, err);
    return LIA_OK;
}

static void dsh_close(void *st)
{
    dsh *d = st;
    if (!d)
        return;
    lia_ctxlines_free(&d->cl);
    free(d);
}

const lia_format lia_format_dshield_block = {
    .name = "dshield-block",
    .summary = "DShield recommended block list (block.txt)",
    .open = dsh_open,
    .parse = dsh_parse,
    .normalise = dsh_normalise,
    .close = dsh_close,
};
