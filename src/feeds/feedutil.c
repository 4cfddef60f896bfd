/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Helpers of the line-oriented feed formats (see feedutil.h). */
#include <stdio.h>
#include <stdlib.h>

#include "feeds/feedutil.h"
#include "core/records.h"

void lia_ctxlines_init(lia_ctxlines *c)
{
    lia_lines_init(&c->lines);
    lia__records_init(&c->tmp);
}

void lia_ctxlines_free(lia_ctxlines *c)
{
    lia_lines_free(&c->lines);
    lia__records_free(&c->tmp);
}

int lia_ctxlines_split(lia_ctxlines *c, const char *buf, size_t len, int eof, lia_records *out,
                       lia_line_fn fn, void *ud, lia_error *err)
{
    int rc;
    lia__records_clear(&c->tmp);
    rc = lia_lines_split(&c->lines, buf, len, eof, &c->tmp);
    if (rc)
        return lia_error_set(err, rc, NULL, NULL, 0, "splitting lines: %s", lia_strerror(rc));
    for (size_t i = 0; i < c->tmp.n; i++) {
        const lia_record *r = &c->tmp.rec[i];
        lia_slice f[2];
        lia_slice ctx = LIA_SLICE_NULL;
        if (r->err) {
            rc = lia__records_add(out, r->line, r->raw, NULL, 0, r->err, r->why, 1);
        } else {
            f[0] = c->tmp.fields[r->first];
            if (fn(ud, f[0], &ctx) == LIA_LINE_SKIP)
                continue;
            f[1] = ctx.ptr ? ctx : LIA_SLICE("");
            rc = lia__records_add(out, r->line, r->raw, f, 2, 0, NULL, 1);
        }
        if (rc)
            return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
    }
    return LIA_OK;
}

lia_slice lia_feed_trim(lia_slice s)
{
    while (s.len && (s.ptr[s.len - 1] == '\r' || s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    return s;
}

int lia_feed_cut(lia_slice s, char c, lia_slice *head, lia_slice *rest)
{
    const char *p = s.len ? memchr(s.ptr, c, s.len) : NULL;
    if (!p) {
        *head = lia_feed_trim(s);
        *rest = (lia_slice){s.ptr + s.len, 0};
        return 0;
    }
    *head = lia_feed_trim((lia_slice){s.ptr, (size_t)(p - s.ptr)});
    *rest = lia_feed_trim((lia_slice){p + 1, s.len - (size_t)(p - s.ptr) - 1});
    return 1;
}

static int month_of(lia_slice t)
{
    static const char *const m[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                    "jul", "aug", "sep", "oct", "nov", "dec"};
    if (t.len < 3)
        return 0;
    for (int i = 0; i < 12; i++) {
        lia_slice x = {t.ptr, 3};
        if (lia_slice_ieq(x, m[i]))
            return i + 1;
    }
    return 0;
}

static int num_of(lia_slice t, int *out)
{
    int v = 0;
    if (t.len == 0 || t.len > 4)
        return -1;
    for (size_t i = 0; i < t.len; i++) {
        if (t.ptr[i] < '0' || t.ptr[i] > '9')
            return -1;
        v = v * 10 + (t.ptr[i] - '0');
    }
    *out = v;
    return 0;
}

int lia_feed_date(lia_slice s, char *out, size_t n)
{
    lia_slice tok[8];
    size_t nt = 0, i = 0;
    int day = 0, mon = 0, year = 0, hh = 0, mm = 0, ss = 0, k;
    const char *hms = NULL;
    int64_t us;
    s = lia_feed_trim(s);
    if (s.len == 10 && s.ptr[4] == '-' && s.ptr[7] == '-') { /* YYYY-MM-DD */
        char tmp[32];
        k = snprintf(tmp, sizeof tmp, "%.*sT00:00:00+00:00", 10, s.ptr);
        if (lia_parse_time(tmp, (size_t)k, &us, NULL))
            return LIA_EINVAL;
        lia_time_format(us, out, n);
        return LIA_OK;
    }
    if (lia_parse_time(s.ptr, s.len, &us, NULL) == LIA_OK) {
        lia_time_format(us, out, n);
        return LIA_OK;
    }
    while (i < s.len && nt < 8) { /* tokens split at spaces and commas */
        size_t j = i;
        while (j < s.len && s.ptr[j] != ' ' && s.ptr[j] != ',')
            j++;
        if (j > i)
            tok[nt++] = (lia_slice){s.ptr + i, j - i};
        i = j + 1;
    }
    for (size_t t = 0; t < nt; t++) {
        int v;
        if (tok[t].len == 8 && tok[t].ptr[2] == ':' && tok[t].ptr[5] == ':')
            hms = tok[t].ptr;
        else if (!mon && month_of(tok[t]) && tok[t].len <= 9 && (tok[t].ptr[0] | 32) >= 'a')
            mon = month_of(tok[t]);
        else if (num_of(tok[t], &v) == 0) {
            if (tok[t].len == 4)
                year = v;
            else
                day = v;
        }
    }
    if (!hms || !mon || !year || !day)
        return LIA_EINVAL;
    if (num_of((lia_slice){hms, 2}, &hh) || num_of((lia_slice){hms + 3, 2}, &mm) ||
        num_of((lia_slice){hms + 6, 2}, &ss))
        return LIA_EINVAL;
    {
        char tmp[40];
        k = snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", year, mon, day, hh, mm, ss);
        if (lia_parse_time(tmp, (size_t)k, &us, NULL))
            return LIA_EINVAL;
    }
    lia_time_format(us, out, n);
    return LIA_OK;
}
