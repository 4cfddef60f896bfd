/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The enrichment configuration file (STORE.conf): INI-style sections
 * [ipdata], [sectors], [dedup]; other sections belong to other modules and
 * are skipped. See include/liaison/enrich.h for the keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "enrich/internal.h"
#include "liaison/limits.h"

void lia_enrich_conf_default(lia_enrich_conf *c)
{
    memset(c, 0, sizeof *c);
    c->check_s = 5;
    c->sectors_enabled = 1;
    lia_dedup_conf_default(&c->dedup);
}

static int cerr(lia_error *err, uint64_t line, const char *key, lia_slice v, const char *why)
{
    lia_error_set(err, LIA_EINVAL, key, v.ptr, v.len, "%s", why);
    if (err)
        err->line = line;
    return LIA_EINVAL;
}

/* "30", "30s", "15m", "24h", "7d" -> microseconds */
static void resolve(char *out, size_t n, lia_slice p, const char *dir)
{
    if (p.len && p.ptr[0] != '/' && dir && *dir)
        snprintf(out, n, "%s/%.*s", dir, (int)p.len, p.ptr);
    else
        snprintf(out, n, "%.*s", (int)p.len, p.ptr);
}

int lia_enrich_conf_parse(lia_enrich_conf *c, const char *text, size_t len, const char *dir, lia_error *err)
{
    enum { S_OTHER, S_IPDATA, S_SECTORS, S_DEDUP } sec = S_OTHER;
    uint64_t line = 0;
    size_t start = 0;
    if (len > LIA_MAX_ENRICH_CONF)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "configuration larger than %u bytes",
                             LIA_MAX_ENRICH_CONF);
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        lia_slice l = {text + start, i - start};
        start = i + 1;
        line++;
        for (size_t k = 0; k < l.len; k++) /* comments: # to end of line */
            if (l.ptr[k] == '#') {
                l.len = k;
                break;
            }
        if (l.len && l.ptr[l.len - 1] == '\r')
            l.len--;
        l = lia_slice_trim(l);
        if (l.len == 0)
            continue;
        if (l.ptr[0] == '[') {
            if (l.ptr[l.len - 1] != ']')
                return cerr(err, line, NULL, l, "a section header is [name]");
            lia_slice name = lia_slice_trim((lia_slice){l.ptr + 1, l.len - 2});
            sec = lia_slice_eq(name, "ipdata")    ? S_IPDATA
                  : lia_slice_eq(name, "sectors") ? S_SECTORS
                  : lia_slice_eq(name, "dedup")   ? S_DEDUP
                                                  : S_OTHER;
            continue;
        }
        if (sec == S_OTHER)
            continue;
        const char *eq = memchr(l.ptr, '=', l.len);
        if (!eq)
            return cerr(err, line, NULL, l, "expected key = value");
        lia_slice k = lia_slice_trim((lia_slice){l.ptr, (size_t)(eq - l.ptr)});
        lia_slice v = lia_slice_trim((lia_slice){eq + 1, l.len - (size_t)(eq - l.ptr) - 1});
        if (sec == S_IPDATA && lia_slice_eq(k, "source")) {
            size_t sp = 0;
            int kind;
            while (sp < v.len && v.ptr[sp] != ' ' && v.ptr[sp] != '\t')
                sp++;
            kind = lia_ipsrc_kind_lookup(v.ptr, sp);
            lia_slice path = lia_slice_trim((lia_slice){v.ptr + sp, v.len - sp});
            if (kind < 0 || path.len == 0)
                return cerr(err, line, "ipdata.source", v, "expected KIND PATH with KIND mmdb, rir or csv");
            if (c->nsources >= LIA_ENRICH_MAX_SOURCES)
                return cerr(err, line, "ipdata.source", v, "too many sources");
            if (path.len >= sizeof c->path[0] - 256)
                return cerr(err, line, "ipdata.source", v, "path too long");
            c->kind[c->nsources] = kind;
            resolve(c->path[c->nsources], sizeof c->path[0], path, dir);
            c->nsources++;
        } else if (sec == S_IPDATA && lia_slice_eq(k, "check")) {
            int64_t n;
            if (lia_parse_int(v.ptr, v.len, &n, NULL) || n < 0 || n > 86400)
                return cerr(err, line, "ipdata.check", v, "seconds 0-86400 (0: never re-check the files)");
            c->check_s = (int)n;
        } else if (sec == S_SECTORS && lia_slice_eq(k, "rules")) {
            if (v.len == 0 || v.len >= sizeof c->sectors_path - 256)
                return cerr(err, line, "sectors.rules", v, "a file path is expected");
            resolve(c->sectors_path, sizeof c->sectors_path, v, dir);
        } else if (sec == S_SECTORS && lia_slice_eq(k, "enabled")) {
            if (lia_parse_bool(v.ptr, v.len, &c->sectors_enabled, NULL))
                return cerr(err, line, "sectors.enabled", v, "yes or no");
        } else if (sec == S_DEDUP && lia_slice_eq(k, "enabled")) {
            if (lia_parse_bool(v.ptr, v.len, &c->dedup.enabled, NULL))
                return cerr(err, line, "dedup.enabled", v, "yes or no");
        } else if (sec == S_DEDUP && lia_slice_eq(k, "key")) {
            int rc = lia_dedup_conf_key(&c->dedup, v.ptr, v.len, err);
            if (rc) {
                if (err)
                    err->line = line;
                return rc;
            }
        } else if (sec == S_DEDUP && lia_slice_eq(k, "window")) {
            int64_t secs;
            const char *why;
            if (lia_parse_duration(v.ptr, v.len, &secs, &why))
                return cerr(err, line, "dedup.window", v, why);
            c->dedup.window_us = secs * 1000000;
        } else if (sec == S_DEDUP && lia_slice_eq(k, "memory_keys")) {
            int64_t n;
            if (lia_parse_int(v.ptr, v.len, &n, NULL) || n < 1000 || n > (int64_t)LIA_DEDUP_MAX_KEYS)
                return cerr(err, line, "dedup.memory_keys", v, "a number from 1000 to 268435456");
            c->dedup.max_keys = (size_t)n;
        } else {
            char kname[64];
            snprintf(kname, sizeof kname, "%.*s", (int)(k.len < 60 ? k.len : 60), k.ptr);
            return cerr(err, line, kname, k,
                        sec == S_IPDATA    ? "unknown key in [ipdata] (source, check)"
                        : sec == S_SECTORS ? "unknown key in [sectors] (rules, enabled)"
                                           : "unknown key in [dedup] (enabled, key, window, memory_keys)");
        }
    }
    return LIA_OK;
}

int lia_enrich_conf_load(lia_enrich_conf *c, const char *path, lia_error *err)
{
    lia_buf buf;
    char dir[1024];
    int rc;
    const char *slash;
    lia_enrich_conf_default(c);
    if ((rc = lia__file_read(path, LIA_MAX_ENRICH_CONF, &buf, err)))
        return rc == LIA_ENOTFOUND ? LIA_OK : rc; /* no file: the defaults */
    slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    rc = lia_enrich_conf_parse(c, buf.ptr, buf.len, dir, err);
    lia_buf_free(&buf);
    if (rc)
        lia_error_where(err, path, 0);
    else
        snprintf(c->file, sizeof c->file, "%s", path);
    return rc;
}

void lia_enrich_conf_path(const char *store_path, char *out, size_t n)
{
    const char *env = getenv("LIAISON_CONF");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return;
    }
    if (strncmp(store_path, "sqlite:", 7) == 0)
        store_path += 7;
    snprintf(out, n, "%s.conf", store_path);
}
