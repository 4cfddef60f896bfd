/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Fetching a registered feed: a URL with libcurl (conditional GET, retries
 * with exponential backoff, size cap, timeouts, TLS verification on), or a
 * drop directory; then lia_ingest, which archives the raw report and skips
 * content it has already stored. The outcome is written to the registry. */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/path.h"
#include "acquire/registry.h"
#include "liaison/bus.h"
#include "liaison/limits.h"

typedef struct xfer {
    int fd;
    uint64_t bytes, max;
    int oversize;
    int io_error;
    char etag[256];
    char last_modified[128];
} xfer;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n, off = 0;
    if (x->bytes + len > x->max) {
        x->oversize = 1;
        return 0; /* aborts the transfer */
    }
    while (off < len) {
        ssize_t w = write(x->fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            x->io_error = errno;
            return 0;
        }
        off += (size_t)w;
    }
    x->bytes += len;
    return len;
}

/* Keep the value of header NAME (case-insensitive) without spaces/CRLF. */
static void header_value(const char *h, size_t n, const char *name, char *out, size_t outn)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(h, name, k) != 0 || h[k] != ':')
        return;
    h += k + 1;
    n -= k + 1;
    while (n && (*h == ' ' || *h == '\t')) {
        h++;
        n--;
    }
    while (n && (h[n - 1] == '\r' || h[n - 1] == '\n' || h[n - 1] == ' '))
        n--;
    if (n < outn)
        snprintf(out, outn, "%.*s", (int)n, h);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (redirect): forget */
        x->etag[0] = '\0';
        x->last_modified[0] = '\0';
    }
    header_value(p, len, "ETag", x->etag, sizeof x->etag);
    header_value(p, len, "Last-Modified", x->last_modified, sizeof x->last_modified);
    return len;
}

static void sleep_ms(long ms, volatile int *stop)
{
    while (ms > 0 && !(stop && *stop)) {
        long step = ms > 100 ? 100 : ms;
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static const char *url_base(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://");
    const char *slash, *end;
    p = p ? p + 3 : url;
    end = p + strcspn(p, "?#");
    slash = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '/')
            slash = q;
    if (!slash || slash + 1 >= end)
        snprintf(out, n, "report");
    else
        snprintf(out, n, "%.*s", (int)(end - slash - 1), slash + 1);
    return out;
}

static int ingest_file(lia_store *s, const lia_feed *f, const char *path, const char *report_name,
                       const lia_fetch_opts *o, lia_fetch_result *res, int *skipped, lia_error *err)
{
    lia_ingest_opts io;
    lia_ingest_result ir;
    int rc;
    lia__feed_ingest_opts(f, &io);
    io.path = path;
    io.feed.report_name = report_name;
    io.progress = o->progress;
    io.stop = o->stop;
    if (o->bus_url) { /* registered and archived here, stored by the workers */
        lia_bus_opts b;
        lia_bus_publish_result pr;
        memset(&b, 0, sizeof b);
        b.url = o->bus_url;
        b.max_msgs = o->bus_limit;
        if ((rc = lia_bus_publish(s, &b, &io, o->bus_chunk, &pr, err)))
            return rc;
        *skipped = pr.skipped;
        if (!pr.skipped) {
            res->reports++;
            res->chunks += pr.chunks;
            res->published += pr.published;
        }
        return LIA_OK;
    }
    rc = lia_ingest(s, &io, &ir, err);
    if (rc)
        return rc;
    *skipped = ir.skipped;
    if (!ir.skipped) {
        res->reports++;
        res->rows += ir.report.rows;
        res->events += ir.report.events;
        res->quarantined += ir.report.quarantined;
    }
    return LIA_OK;
}

static int fetch_url(lia_store *s, lia_feed *f, const lia_fetch_opts *o, lia_fetch_result *res,
                     lia_error *err)
{
    char tmp[LIA_PATH_MAX], base[256], cerr[CURL_ERROR_SIZE];
    struct curl_slist *hdrs = NULL;
    CURL *c = NULL;
    xfer x;
    int rc = LIA_OK, retries = o->retries >= 0 ? o->retries : LIA_FETCH_RETRIES;
    long backoff = o->backoff_ms > 0 ? o->backoff_ms : LIA_FETCH_BACKOFF_MS;
    memset(&x, 0, sizeof x);
    x.fd = -1;
    x.max = o->max_bytes ? o->max_bytes : LIA_FETCH_MAX_BYTES;
    if ((rc = lia__path_fmt(tmp, sizeof tmp, err, "download", "%s/fetch-XXXXXX", lia_store_archive_dir(s))))
        return rc;
    x.fd = mkstemp(tmp);
    if (x.fd < 0)
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot create %s: %s", tmp, strerror(errno));
    c = curl_easy_init();
    if (!c) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "cannot start libcurl");
        goto out;
    }
    if (f->etag[0]) {
        char h[300];
        snprintf(h, sizeof h, "If-None-Match: %s", f->etag);
        hdrs = curl_slist_append(hdrs, h);
    }
    if (f->last_modified[0]) {
        char h[200];
        snprintf(h, sizeof h, "If-Modified-Since: %s", f->last_modified);
        hdrs = curl_slist_append(hdrs, h);
    }
    curl_easy_setopt(c, CURLOPT_URL, f->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    /* an https feed is never redirected down to plain http */
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
                     strncmp(f->url, "https:", 6) == 0 ? "https" : "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     o->connect_timeout_ms > 0 ? o->connect_timeout_ms : (long)LIA_FETCH_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : (long)LIA_FETCH_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x.max);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT,
                     "liaison/"
                     "0.1");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    for (int attempt = 0;; attempt++) {
        CURLcode cc;
        int retry = 0;
        if (attempt > 0) {
            long d = backoff;
            for (int i = 1; i < attempt && d < LIA_FETCH_BACKOFF_MAX_MS; i++)
                d *= 2;
            sleep_ms(d > LIA_FETCH_BACKOFF_MAX_MS ? LIA_FETCH_BACKOFF_MAX_MS : d, o->stop);
            if (o->stop && *o->stop) {
                rc = lia_error_set(err, LIA_EINTR, NULL, NULL, 0, "interrupted while waiting to retry");
                goto out;
            }
        }
        if (ftruncate(x.fd, 0) != 0 || lseek(x.fd, 0, SEEK_SET) != 0) {
            rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot reset %s: %s", tmp, strerror(errno));
            goto out;
        }
        x.bytes = 0;
        x.oversize = 0;
        x.io_error = 0;
        cerr[0] = '\0';
        res->attempts = attempt + 1;
        cc = curl_easy_perform(c);
        res->http_code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->http_code);
        if (x.oversize || cc == CURLE_FILESIZE_EXCEEDED) {
            rc =
                lia_error_set(err, LIA_ELIMIT, "url", f->url, strlen(f->url),
                              "the response is larger than the cap of %llu bytes", (unsigned long long)x.max);
            goto out;
        }
        if (x.io_error) {
            rc = lia_error_set(err, LIA_EIO, NULL, NULL, 0, "writing %s: %s", tmp, strerror(x.io_error));
            goto out;
        }
        if (cc != CURLE_OK) {
            retry = cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_COULDNT_CONNECT ||
                    cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR ||
                    cc == CURLE_GOT_NOTHING || cc == CURLE_PARTIAL_FILE;
            rc = lia_error_set(err, LIA_ENET, "url", f->url, strlen(f->url), "%s",
                               cerr[0] ? cerr : curl_easy_strerror(cc));
        } else if (res->http_code == 304) {
            rc = LIA_OK;
            res->status = LIA_FETCH_NOT_MODIFIED;
            goto out;
        } else if (res->http_code >= 200 && res->http_code < 300) {
            rc = LIA_OK;
            break;
        } else {
            retry = res->http_code >= 500 || res->http_code == 408 || res->http_code == 429;
            rc = lia_error_set(err, LIA_ENET, "url", f->url, strlen(f->url), "HTTP status %ld",
                               res->http_code);
        }
        if (!retry || attempt >= retries) {
            if (attempt > 0 && err) {
                /* the count is kept whole: a long reason gives way to it */
                char tail[32];
                size_t tl = (size_t)snprintf(tail, sizeof tail, " (after %d attempts)", attempt + 1);
                size_t keep = strlen(err->reason);
                if (keep > sizeof err->reason - 1 - tl)
                    keep = sizeof err->reason - 1 - tl;
                memcpy(err->reason + keep, tail, tl + 1);
            }
            goto out;
        }
    }
    res->bytes = x.bytes;
    {
        int skipped = 0;
        if ((rc = ingest_file(s, f, tmp, url_base(f->url, base, sizeof base), o, res, &skipped, err)))
            goto out;
        res->status = skipped ? LIA_FETCH_NOT_MODIFIED : LIA_FETCH_INGESTED;
    }
    /* only now that the content is stored do the validators become ours */
    snprintf(f->etag, sizeof f->etag, "%s", x.etag);
    snprintf(f->last_modified, sizeof f->last_modified, "%s", x.last_modified);
out:
    curl_slist_free_all(hdrs);
    if (c)
        curl_easy_cleanup(c);
    if (x.fd >= 0)
        close(x.fd);
    unlink(tmp);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Move dir/name into dir/sub/ (created if needed), never overwriting. */
static int move_into(const char *dir, const char *name, const char *sub, lia_error *err)
{
    char from[LIA_PATH_MAX], to[LIA_PATH_MAX], d[LIA_PATH_MAX];
    int rc;
    if ((rc = lia__path_fmt(d, sizeof d, err, "drop subdirectory", "%s/%s", dir, sub)))
        return rc;
    if (mkdir(d, 0750) != 0 && errno != EEXIST)
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot create %s: %s", d, strerror(errno));
    if ((rc = lia__path_fmt(from, sizeof from, err, "dropped file", "%s/%s", dir, name)) ||
        (rc = lia__path_fmt(to, sizeof to, err, "moved file", "%s/%s", d, name)))
        return rc;
    for (int i = 1; access(to, F_OK) == 0 && i < 1000; i++)
        if ((rc = lia__path_fmt(to, sizeof to, err, "moved file", "%s/%s.%d", d, name, i)))
            return rc;
    if (rename(from, to) != 0)
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot move %s to %s: %s", from, to,
                             strerror(errno));
    return LIA_OK;
}

static int fetch_dir(lia_store *s, lia_feed *f, const lia_fetch_opts *o, lia_fetch_result *res,
                     lia_error *err)
{
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = LIA_OK;
    lia_error first;
    lia_error_clear(&first);
    if (!d)
        return lia_error_set(err, LIA_EIO, "dir", f->dir, strlen(f->dir),
                             "cannot open the drop directory: %s", strerror(errno));
    while ((e = readdir(d)) && n < LIA_FETCH_MAX_FILES) {
        char p[LIA_PATH_MAX];
        struct stat st;
        if (e->d_name[0] == '.')
            continue; /* hidden and partial uploads (.name.tmp) wait */
        if ((rc = lia__path_fmt(p, sizeof p, err, "dropped file", "%s/%s", f->dir, e->d_name)))
            goto out;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
            if (!nn) {
                rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                goto out;
            }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            goto out;
        }
        n++;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    res->status = n ? LIA_FETCH_INGESTED : LIA_FETCH_EMPTY;
    for (size_t i = 0; i < n; i++) {
        char p[LIA_PATH_MAX];
        lia_error fe;
        int skipped = 0, irc;
        lia_error_clear(&fe);
        if ((rc = lia__path_fmt(p, sizeof p, err, "dropped file", "%s/%s", f->dir, names[i])))
            goto out;
        irc = ingest_file(s, f, p, names[i], o, res, &skipped, &fe);
        if (irc == LIA_EINTR) {
            *err = fe;
            rc = irc;
            goto out;
        }
        res->files++;
        if (irc) {
            res->files_failed++;
            if (!first.code) {
                first = fe;
                lia_error_where(&first, names[i], 0);
            }
        }
        if ((rc = move_into(f->dir, names[i], irc ? "failed" : "done", err)))
            goto out;
    }
    if (res->files_failed) {
        *err = first;
        rc = first.code ? first.code : LIA_EPARSE;
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int lia_fetch_feed(lia_store *s, const char *name, const lia_fetch_opts *o, lia_fetch_result *res,
                   lia_error *err)
{
    lia_feed *f = malloc(sizeof *f);
    lia_fetch_opts dflt;
    int rc, src;
    memset(res, 0, sizeof *res);
    if (!o) {
        memset(&dflt, 0, sizeof dflt);
        dflt.retries = -1;
        o = &dflt;
    }
    if (!f)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if ((rc = lia_feeds_get(s, name, f, err)))
        goto out;
    f->last_fetch_us = lia__now_us();
    rc = f->url[0] ? fetch_url(s, f, o, res, err) : fetch_dir(s, f, o, res, err);
    if (rc == LIA_EINTR)
        goto out; /* an interruption says nothing about the feed */
    f->last_ok = rc == LIA_OK;
    if (rc == LIA_OK) {
        f->last_success_us = f->last_fetch_us;
        f->last_error[0] = '\0';
    } else {
        lia_error_format(err, f->last_error, sizeof f->last_error);
    }
    if ((src = lia__feeds_save_state(s, f, rc ? NULL : err)) && rc == LIA_OK)
        rc = src;
out:
    free(f);
    return rc;
}
