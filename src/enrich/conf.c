/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The enrichment configuration file (STORE.conf): INI-style sections
 * [ipdata], [sectors], [dedup]; other sections belong to other modules and
 * are skipped. See include/liaison/enrich.h for the keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/path.h"
#include "core/settings.h"
#include "enrich/internal.h"
#include "liaison/limits.h"

void lia__enrich_conf_default(lia_enrich_conf *c)
{
    memset(c, 0, sizeof *c);
    c->check_s = (int)lia__setting_int(LIA_SCOPE_ENRICH, "ipdata.check", NULL);
    c->sectors_enabled = (int)lia__setting_int(LIA_SCOPE_ENRICH, "sectors.enabled", NULL);
    lia__dedup_conf_default(&c->dedup);
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

int lia__enrich_conf_parse(lia_enrich_conf *c, const char *text, size_t len, const char *dir, lia_error *err)
{
    const char *secname = NULL; /* a section of ours, or NULL: skipped */
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
            secname = lia_slice_eq(name, "ipdata")    ? "ipdata"
                      : lia_slice_eq(name, "sectors") ? "sectors"
                      : lia_slice_eq(name, "dedup")   ? "dedup"
                                                      : NULL;
            continue;
        }
        if (!secname)
            continue;
        const char *eq = memchr(l.ptr, '=', l.len);
        if (!eq)
            return cerr(err, line, NULL, l, "expected key = value");
        lia_slice k = lia_slice_trim((lia_slice){l.ptr, (size_t)(eq - l.ptr)});
        lia_slice v = lia_slice_trim((lia_slice){eq + 1, l.len - (size_t)(eq - l.ptr) - 1});
        char full[64];
        const lia__setting *st;
        const char *why;
        int64_t x = 0;
        snprintf(full, sizeof full, "%s.%.*s", secname, (int)(k.len < 40 ? k.len : 40), k.ptr);
        st = k.len < 40 ? lia__setting_find(LIA_SCOPE_ENRICH, full, strlen(full)) : NULL;
        if (!st) {
            char keys[128];
            char prefix[16];
            snprintf(prefix, sizeof prefix, "%s.", secname);
            lia__setting_keys(LIA_SCOPE_ENRICH, prefix, keys, sizeof keys);
            lia_error_set(err, LIA_EINVAL, full + strlen(prefix), k.ptr, k.len, "unknown key in [%s] (%s)",
                          secname, keys);
            if (err)
                err->line = line;
            return LIA_EINVAL;
        }
        if (lia__setting_check(st, v.ptr, v.len, &why))
            return cerr(err, line, st->name, v, why);
        if (st->type != LIA_SET_OWNED && st->type != LIA_SET_TEXT &&
            lia__setting_parse(st, v.ptr, v.len, &x, &why))
            return cerr(err, line, st->name, v, why);
        if (strcmp(st->name, "ipdata.source") == 0) {
            size_t sp = 0;
            int kind;
            while (sp < v.len && v.ptr[sp] != ' ' && v.ptr[sp] != '\t')
                sp++;
            kind = lia_ipsrc_kind_lookup(v.ptr, sp);
            lia_slice path = lia_slice_trim((lia_slice){v.ptr + sp, v.len - sp});
            if (kind < 0 || path.len == 0)
                return cerr(err, line, st->name, v, st->desc);
            if (c->nsources >= LIA_ENRICH_MAX_SOURCES)
                return cerr(err, line, st->name, v, "too many sources");
            if (path.len >= sizeof c->path[0] - 256)
                return cerr(err, line, st->name, v, "path too long");
            c->kind[c->nsources] = kind;
            resolve(c->path[c->nsources], sizeof c->path[0], path, dir);
            c->nsources++;
        } else if (strcmp(st->name, "ipdata.check") == 0) {
            c->check_s = (int)x;
        } else if (strcmp(st->name, "sectors.rules") == 0) {
            resolve(c->sectors_path, sizeof c->sectors_path, v, dir);
        } else if (strcmp(st->name, "sectors.enabled") == 0) {
            c->sectors_enabled = (int)x;
        } else if (strcmp(st->name, "dedup.enabled") == 0) {
            c->dedup.enabled = (int)x;
        } else if (strcmp(st->name, "dedup.key") == 0) {
            int rc = lia__dedup_conf_key(&c->dedup, v.ptr, v.len, err);
            if (rc) {
                if (err)
                    err->line = line;
                return rc;
            }
        } else if (strcmp(st->name, "dedup.window") == 0) {
            c->dedup.window_us = x * 1000000;
        } else if (strcmp(st->name, "dedup.memory_keys") == 0) {
            c->dedup.max_keys = (size_t)x;
        }
    }
    return LIA_OK;
}

int lia_enrich_conf_load(lia_enrich_conf *c, const char *path, lia_error *err)
{
    lia_buf buf;
    char dir[LIA_PATH_MAX]; /* relative paths in the file are relative to it */
    int rc;
    const char *slash;
    lia__enrich_conf_default(c);
    if ((rc = lia__file_read(path, LIA_MAX_ENRICH_CONF, &buf, err)))
        return rc == LIA_ENOTFOUND ? LIA_OK : rc; /* no file: the defaults */
    slash = strrchr(path, '/');
    if ((rc = lia__path_fmt(dir, sizeof dir, err, "configuration directory", "%.*s",
                            slash ? (int)(slash - path) : 1, slash ? path : "."))) {
        lia_buf_free(&buf);
        return rc;
    }
    rc = lia__enrich_conf_parse(c, buf.ptr, buf.len, dir, err);
    lia_buf_free(&buf);
    if (rc)
        lia_error_where(err, path, 0);
    else
        snprintf(c->file, sizeof c->file, "%s", path);
    return rc;
}

int lia_enrich_conf_path(const char *store_path, char *out, size_t n, lia_error *err)
{
    const char *env = getenv("LIAISON_CONF");
    if (env && *env)
        return lia__path_fmt(out, n, err, "configuration file ($LIAISON_CONF)", "%s", env);
    if (strncmp(store_path, "postgresql://", 13) == 0 || strncmp(store_path, "postgres://", 11) == 0)
        return lia__path_fmt(out, n, err, "configuration file", "%s", "liaison.conf"); /* a URI is no path */
    if (strncmp(store_path, "sqlite:", 7) == 0)
        store_path += 7;
    return lia__path_fmt(out, n, err, "configuration file", "%s.conf", store_path);
}
