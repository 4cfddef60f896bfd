/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The retention settings as prune rules (liaison/store.h, "retention"):
 * each feed's from the feed registry, each classification's from the
 * [retention] section of the store's configuration file (STORE.conf):
 *
 *   [retention]
 *   scanner = 30d            # an RSIT type: those events, 30 days after their report
 *   vulnerable = 26w         # a taxonomy: every type of it
 *
 * A classification's retention belongs to the store's data, not to routing
 * (who receives what) nor to a feed (one report holds several classes), so
 * it sits in the store's own file beside the enrichment's sections, which
 * skip it. docs/store.md, "Retention". */
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "liaison/enrich.h"
#include "liaison/feeds.h"
#include "liaison/limits.h"
#include "store/backend.h"

typedef struct rules {
    lia_prune_rule *v;
    size_t n, cap;
    int oom;
} rules;

static int add_rule(rules *r, const char *feed, size_t fl, const char *cls, size_t cl, int64_t before)
{
    lia_prune_rule *x;
    if (r->n == r->cap) {
        size_t nc = r->cap ? 2 * r->cap : 16;
        void *nv = realloc(r->v, nc * sizeof *r->v);
        if (!nv)
            return r->oom = 1;
        r->v = nv;
        r->cap = nc;
    }
    x = &r->v[r->n];
    memset(x, 0, sizeof *x);
    x->before_us = before;
    if (feed && !(x->feed = strndup(feed, fl)))
        return r->oom = 1;
    if (cls && !(x->classification = strndup(cls, cl))) {
        free((char *)x->feed);
        return r->oom = 1;
    }
    r->n++;
    return 0;
}

typedef struct feed_walk {
    rules *r;
    int64_t now_us;
} feed_walk;

static int feed_cb(void *ud, const lia_feed *f)
{
    feed_walk *w = ud;
    if (f->retention_s <= 0)
        return 0;
    return add_rule(w->r, f->name, strlen(f->name), NULL, 0, w->now_us - f->retention_s * 1000000);
}

/* [retention] of the configuration text: classification = retention. */
static int conf_rules(rules *r, const char *path, const char *text, size_t len, int64_t now_us,
                      lia_error *err)
{
    int ours = 0;
    uint64_t line = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        lia_slice l, k, v;
        const char *eq;
        char key[64], val[32];
        int64_t secs;
        int rc;
        if (i < len && text[i] != '\n')
            continue;
        l = (lia_slice){text + start, i - start};
        start = i + 1;
        line++;
        for (size_t j = 0; j < l.len; j++)
            if (l.ptr[j] == '#') {
                l.len = j;
                break;
            }
        l = lia_slice_trim(l);
        if (l.len == 0)
            continue;
        if (l.ptr[0] == '[') {
            ours = l.len >= 2 && l.ptr[l.len - 1] == ']' &&
                   lia_slice_eq(lia_slice_trim((lia_slice){l.ptr + 1, l.len - 2}), "retention");
            continue;
        }
        if (!ours)
            continue;
        if (!(eq = memchr(l.ptr, '=', l.len))) {
            lia_error_set(err, LIA_EINVAL, "retention", l.ptr, l.len, "expected CLASSIFICATION = RETENTION");
            goto where;
        }
        k = lia_slice_trim((lia_slice){l.ptr, (size_t)(eq - l.ptr)});
        v = lia_slice_trim((lia_slice){eq + 1, (size_t)(l.ptr + l.len - eq - 1)});
        if (k.len >= sizeof key ||
            (lia_class_type_lookup(k.ptr, k.len) < 0 && lia_class_taxonomy_lookup(k.ptr, k.len) < 0)) {
            lia_error_set(err, LIA_EINVAL, "retention", k.ptr, k.len,
                          "not an RSIT taxonomy or type (liaison events --help lists them)");
            goto where;
        }
        snprintf(key, sizeof key, "retention.%.*s", (int)k.len, k.ptr);
        snprintf(val, sizeof val, "%.*s", (int)(v.len < sizeof val ? v.len : sizeof val - 1), v.ptr);
        if ((rc = lia_retention_parse(key, val, &secs, err)))
            goto where;
        if (add_rule(r, NULL, 0, k.ptr, k.len, now_us - secs * 1000000))
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        continue;
    where:
        if (err) { /* this file's line, whatever err held before */
            err->source[0] = '\0';
            err->line = 0;
        }
        lia_error_where(err, path, line);
        return LIA_EINVAL;
    }
    return LIA_OK;
}

static int later_first(const void *a, const void *b)
{
    const lia_prune_rule *x = a, *y = b;
    return x->before_us < y->before_us ? 1 : x->before_us > y->before_us ? -1 : 0;
}

int lia_retention_rules(lia_store *s, int64_t now_us, lia_prune_rule **out, size_t *n, lia_error *err)
{
    rules r = {0};
    feed_walk w = {&r, now_us};
    char path[LIA_PATH_MAX];
    lia_buf text;
    int rc;
    if ((rc = lia_feeds_list(s, feed_cb, &w, err)))
        goto out;
    if (r.oom) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    if ((rc = lia_enrich_conf_path(lia__store_path(s), path, sizeof path, err)))
        goto out;
    rc = lia__file_read(path, LIA_MAX_ENRICH_CONF, &text, err);
    if (rc == LIA_ENOTFOUND) { /* no configuration: no classification's retention */
        lia_error_clear(err);
        rc = LIA_OK;
    } else if (rc == LIA_OK) {
        rc = conf_rules(&r, path, text.ptr, text.len, now_us, err);
        lia_buf_free(&text);
    }
out:
    if (rc) {
        lia_retention_free(r.v, r.n);
        return rc;
    }
    if (r.n)
        qsort(r.v, r.n, sizeof *r.v, later_first);
    *out = r.v;
    *n = r.n;
    return LIA_OK;
}

void lia_retention_free(lia_prune_rule *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free((char *)v[i].feed);
        free((char *)v[i].classification);
    }
    free(v);
}
