/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Test helper: run a feed format over a buffer (in chunks of a given size)
 * and collect each record's outcome as one line of text:
 *   "LINE ok {json}"  |  "LINE err REASON"  |  "LINE skip"  */
#ifndef TEST_FMT_RUN_H
#define TEST_FMT_RUN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/liaison.h"
#include "core/records.h"

typedef struct fmt_result {
    int rc;              /* error that stopped the report, or LIA_OK */
    lia_error err;
    lia_buf out;         /* one line per record */
    size_t ok, bad, skipped;
} fmt_result;

static inline void fmt_result_free(fmt_result *r) { lia_buf_free(&r->out); }

static inline int fmt_run(const char *format, const lia_feed_opts *o, const char *buf, size_t len,
                          size_t chunk, fmt_result *res)
{
    const lia_format *f = lia_format_find(format);
    void *st = NULL;
    lia_records rs;
    lia_event ev;
    lia_buf js;
    size_t off = 0;
    memset(res, 0, sizeof *res);
    lia_buf_init(&res->out, (size_t)256 << 20);
    lia_error_clear(&res->err);
    if (!f)
        return res->rc = LIA_ENOTFOUND;
    if ((res->rc = f->open(&st, o, &res->err)))
        return res->rc;
    lia__records_init(&rs);
    lia_event_init(&ev);
    lia_buf_init(&js, (size_t)16 << 20);
    if (chunk == 0)
        chunk = len ? len : 1;
    for (;;) {
        size_t n = len - off < chunk ? len - off : chunk;
        int eof = off + n == len;
        lia__records_clear(&rs);
        if ((res->rc = f->parse(st, buf + off, n, eof, &rs, &res->err)))
            break;
        for (size_t i = 0; i < rs.n; i++) {
            const lia_record *r = &rs.rec[i];
            lia_error e;
            lia_error_clear(&e);
            if (r->err) {
                lia_buf_printf(&res->out, "%llu err %s\n", (unsigned long long)r->line, r->why);
                res->bad++;
                continue;
            }
            lia_event_reset(&ev);
            int rc = f->normalise(st, &rs, r, &ev, &e);
            if (rc == LIA_OK)
                rc = lia_event_finish(&ev, &e);
            if (rc == LIA_ENOTFOUND) {
                lia_buf_printf(&res->out, "%llu skip\n", (unsigned long long)r->line);
                res->skipped++;
            } else if (rc) {
                char msg[1024];
                lia_error_format(&e, msg, sizeof msg);
                lia_buf_printf(&res->out, "%llu err %s\n", (unsigned long long)r->line, msg);
                res->bad++;
            } else {
                lia_buf_reset(&js);
                lia_event_to_json(&ev, &js);
                lia_buf_printf(&res->out, "%llu ok %s\n", (unsigned long long)r->line, js.ptr);
                res->ok++;
            }
        }
        off += n;
        if (eof)
            break;
    }
    lia_buf_free(&js);
    lia_event_free(&ev);
    lia__records_free(&rs);
    f->close(st);
    return res->rc;
}

/* Write text to a fresh temporary file; returns its malloc'd path. */
static inline char *write_temp(const char *text)
{
    char *path = strdup("/tmp/liaison-test-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        free(path);
        return NULL;
    }
    fputs(text, f);
    fclose(f);
    return path;
}

#endif
