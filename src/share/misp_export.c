/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* MISP feed export (see liaison/misp.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "liaison/limits.h"
#include "liaison/misp.h"
#include "share/share.h"
#include "core/field_internal.h"

typedef struct group {
    char key[512];
    char uuid[37];
    json_t *ev;     /* the MISP event object (inner, without "Event") */
    json_t *attrs;  /* borrowed: its Attribute array */
    uint64_t used;  /* last use (LRU) */
    int64_t min_us; /* earliest event time, for "date" */
    int tlp;
} group;

struct lia_misp_export {
    char *dir;
    char *org;
    char org_uuid[37];
    int by;
    int64_t now_us;
    uint8_t ns[16];
    group g[LIA_MISP_OPEN_EVENTS];
    size_t ng;
    uint64_t tick;
    json_t *manifest;
    json_t *parts; /* key -> number of parts written so far */
    FILE *hashes;
    uint64_t events, attributes, skipped;
    int finished;
};

static int path_in(const lia_misp_export *x, const char *name, char *out, size_t n)
{
    int k = snprintf(out, n, "%s/%s", x->dir, name);
    return k > 0 && (size_t)k < n ? 0 : -1;
}

void lia_misp_export_destroy(lia_misp_export *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->ng; i++)
        json_decref(x->g[i].ev);
    json_decref(x->manifest);
    json_decref(x->parts);
    if (x->hashes)
        fclose(x->hashes);
    free(x->dir);
    free(x->org);
    free(x);
}

int lia_misp_export_create(const char *dir, const lia_misp_opts *o, lia_misp_export **out,
                           lia_error *err)
{
    lia_misp_export *x;
    char p[LIA_PATH_MAX];
    struct stat st;
    int rc = LIA_OK;
    char key[600];
    if (!dir || !*dir)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "no feed directory given");
    x = calloc(1, sizeof *x);
    if (!x)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    x->dir = lia__share_strdup(dir);
    x->org = lia__share_strdup(o && o->org ? o->org : "Liaison");
    x->by = o ? o->group : LIA_MISP_BY_REPORT;
    x->now_us = o && o->now_us ? o->now_us : (int64_t)time(NULL) * 1000000;
    x->manifest = json_object();
    x->parts = json_object();
    if (!x->dir || !x->org || !x->manifest || !x->parts) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    if (!*x->org || strlen(x->org) > 256 || !lia__utf8_valid(x->org, strlen(x->org))) {
        rc = lia_error_set(err, LIA_EINVAL, "org", x->org, strlen(x->org),
                           "not valid UTF-8 of 1 to 256 bytes");
        goto out;
    }
    lia__liaison_ns(x->ns);
    snprintf(key, sizeof key, "misp-org:%s", x->org);
    lia__uuid5(x->ns, key, strlen(key), x->org_uuid);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        rc = lia_error_set(err, LIA_EIO, NULL, dir, strlen(dir), "cannot create the directory: %s",
                           strerror(errno));
        goto out;
    }
    if (path_in(x, "manifest.json", p, sizeof p) || stat(p, &st) == 0) {
        rc = lia_error_set(err, LIA_EEXIST, NULL, p, strlen(p),
                           "a feed is already there (remove it or choose another directory)");
        goto out;
    }
    if (path_in(x, "hashes.csv", p, sizeof p) || !(x->hashes = fopen(p, "w"))) {
        rc = lia_error_set(err, LIA_EIO, NULL, p, strlen(p), "cannot write: %s", strerror(errno));
        goto out;
    }
out:
    if (rc) {
        lia_misp_export_destroy(x);
        return rc;
    }
    *out = x;
    return LIA_OK;
}

uint64_t lia_misp_export_events(const lia_misp_export *x)
{
    return x->events;
}
uint64_t lia_misp_export_skipped(const lia_misp_export *x) { return x->skipped; }

static json_t *tag(const char *name)
{
    return json_pack("{s:s}", "name", name);
}

static int write_group(lia_misp_export *x, group *g, lia_error *err)
{
    char p[LIA_PATH_MAX], date[48], ts[32];
    json_t *wrap, *m;
    size_t i;
    json_t *a;
    int rc = LIA_OK;
    lia__time_z(g->min_us, date, sizeof date);
    date[10] = '\0';
    snprintf(ts, sizeof ts, "%lld", (long long)(x->now_us / 1000000));
    json_object_set_new(g->ev, "date", json_string(date));
    json_object_set_new(g->ev, "timestamp", json_string(ts));
    json_object_set_new(g->ev, "publish_timestamp", json_string(ts));
    json_object_set_new(g->ev, "attribute_count", json_sprintf("%zu", json_array_size(g->attrs)));
    wrap = json_pack("{s:O}", "Event", g->ev);
    if (!wrap || path_in(x, g->uuid, p, sizeof p - 8))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    {
        size_t l = strlen(p);
        memcpy(p + l, ".json", 6);
    }
    if (json_dump_file(wrap, p, JSON_INDENT(1) | JSON_SORT_KEYS) != 0) {
        json_decref(wrap);
        return lia_error_set(err, LIA_EIO, NULL, p, strlen(p), "cannot write the MISP event");
    }
    json_decref(wrap);
    json_array_foreach(g->attrs, i, a)
    {
        const char *v = json_string_value(json_object_get(a, "value"));
        const char *type = json_string_value(json_object_get(a, "type"));
        int split = type && (strchr(type, '|') || strcmp(type, "malware-sample") == 0);
        if (!v)
            continue;
        /* MISP's feed correlation looks up each part of a composite value
         * ("ip-dst|port": the address and the port), as PyMISP's
         * hash_values() writes them: one line per part */
        for (const char *p0 = v;;) {
            const char *bar = split ? strchr(p0, '|') : NULL;
            size_t n = bar ? (size_t)(bar - p0) : strlen(p0);
            char h[33];
            lia__md5_hex(p0, n, h);
            if (fprintf(x->hashes, "%s,%s\n", h, g->uuid) < 0)
                return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot write hashes.csv");
            if (!bar)
                break;
            p0 = bar + 1;
        }
    }
    m = json_pack("{s:O,s:O,s:O,s:O,s:i,s:i,s:I}", "Orgc", json_object_get(g->ev, "Orgc"), "Tag",
                  json_object_get(g->ev, "Tag"), "info", json_object_get(g->ev, "info"), "date",
                  json_object_get(g->ev, "date"), "analysis", 2, "threat_level_id", 3, "timestamp",
                  (json_int_t)(x->now_us / 1000000));
    if (!m || json_object_set_new(x->manifest, g->uuid, m))
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    x->events++;
    return rc;
}

static int flush_group(lia_misp_export *x, size_t i, lia_error *err)
{
    int rc = write_group(x, &x->g[i], err);
    json_decref(x->g[i].ev);
    x->g[i] = x->g[--x->ng];
    return rc;
}

static group *find_group(lia_misp_export *x, const char *key, int tlp, const lia_event *ev,
                         int64_t t, lia_error *err, int *rc)
{
    size_t i, oldest = 0;
    group *g;
    json_t *parts;
    json_int_t part;
    char name[700], info[700];
    *rc = LIA_OK;
    for (i = 0; i < x->ng; i++)
        if (strcmp(x->g[i].key, key) == 0) {
            g = &x->g[i];
            if (json_array_size(g->attrs) + 8 <= LIA_MISP_EVENT_ATTRIBUTES) {
                g->used = ++x->tick;
                if (t < g->min_us)
                    g->min_us = t;
                return g;
            }
            if ((*rc = flush_group(x, i, err)))
                return NULL;
            break;
        }
    if (x->ng == LIA_MISP_OPEN_EVENTS) {
        for (i = 1; i < x->ng; i++)
            if (x->g[i].used < x->g[oldest].used)
                oldest = i;
        if ((*rc = flush_group(x, oldest, err)))
            return NULL;
    }
    parts = json_object_get(x->parts, key);
    part = (json_is_integer(parts) ? json_integer_value(parts) : 0) + 1;
    json_object_set_new(x->parts, key, json_integer(part));
    g = &x->g[x->ng++];
    memset(g, 0, sizeof *g);
    snprintf(g->key, sizeof g->key, "%s", key);
    snprintf(name, sizeof name, "misp-event:%s:%s:%lld", x->org, key, (long long)part);
    lia__uuid5(x->ns, name, strlen(name), g->uuid);
    g->used = ++x->tick;
    g->min_us = t;
    g->tlp = tlp;
    {
        lia_slice feed = lia_event_str(ev, LIA_F_FEED_NAME);
        char day[48];
        lia__time_z(t, day, sizeof day);
        day[10] = '\0';
        if (x->by == LIA_MISP_BY_REPORT)
            snprintf(info, sizeof info, "%s: report %lld of feed %.*s%s", x->org,
                     (long long)ev->report_id, (int)(feed.len > 200 ? 200 : feed.len),
                     feed.ptr ? feed.ptr : "", "");
        else
            snprintf(info, sizeof info, "%s: feed %.*s on %s", x->org,
                     (int)(feed.len > 200 ? 200 : feed.len), feed.ptr ? feed.ptr : "", day);
        if (part > 1) {
            size_t l = strlen(info);
            snprintf(info + l, sizeof info - l, " (part %lld)", (long long)part);
        }
    }
    {
        char tl[32];
        snprintf(tl, sizeof tl, "tlp:%s", tlp >= 0 ? lia__tlp_lower(tlp) : "unclear");
        /* distribution follows TLP: CLEAR all communities, GREEN connected
         * communities, AMBER this community, AMBER+STRICT/RED (or none)
         * our organisation only: never wider than the marking allows */
        static const char *const dist[] = {"3", "2", "1", "0", "0"};
        g->ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:{s:s,s:s},s:[o],s:[]}", "uuid", g->uuid, "info",
                          info, "analysis", "2", "threat_level_id", "3", "distribution",
                          tlp >= 0 ? dist[tlp] : "0",
                          "published", 1, "Orgc", "name", x->org, "uuid", x->org_uuid, "Tag",
                          tag(tl), "Attribute");
    }
    if (!g->ev) {
        x->ng--;
        *rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory (or invalid UTF-8)");
        return NULL;
    }
    g->attrs = json_object_get(g->ev, "Attribute");
    return g;
}

static int add_attr(lia_misp_export *x, group *g, const lia_event *ev, int n, const char *type,
                    const char *category, const char *value, int to_ids, json_t *tags, int64_t t)
{
    char name[128], u[37], ts[32], cmt[256];
    json_t *a;
    snprintf(name, sizeof name, "misp-attribute:%s:%lld:%d", g->uuid, (long long)ev->id, n);
    if (!ev->id) { /* unstored event: its content names it */
        lia_buf b;
        lia_buf_init(&b, LIA_MAX_EVENT_TEXT * 2);
        lia_buf_printf(&b, "misp-attribute:%s:%d:", g->uuid, n);
        lia_event_to_json(ev, &b);
        lia__uuid5(x->ns, lia_buf_cstr(&b), b.len, u);
        lia_buf_free(&b);
    } else {
        lia__uuid5(x->ns, name, strlen(name), u);
    }
    snprintf(ts, sizeof ts, "%lld", (long long)(t / 1000000));
    snprintf(cmt, sizeof cmt, "liaison event %lld", (long long)ev->id);
    a = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s,s:b,s:b,s:o}", "uuid", u, "type", type, "category",
                  category, "value", value, "to_ids", to_ids, "timestamp", ts, "distribution", "5",
                  "comment", cmt, "deleted", 0, "disable_correlation", 0, "Tag", json_incref(tags));
    if (!a || json_array_append_new(g->attrs, a))
        return LIA_ENOMEM;
    x->attributes++;
    return LIA_OK;
}

int lia_misp_export_add(lia_misp_export *x, const lia_event *ev, lia_error *err)
{
    char key[512], ip[64], v[LIA_MAX_URL + 80], day[48];
    int tlp = lia_event_has(ev, LIA_F_TLP) ? (int)ev->v[LIA_F_TLP].i : -1;
    int64_t t = lia_event_has(ev, LIA_F_TIME_SOURCE)        ? ev->v[LIA_F_TIME_SOURCE].i
                : lia_event_has(ev, LIA_F_TIME_OBSERVATION) ? ev->v[LIA_F_TIME_OBSERVATION].i
                                                            : x->now_us;
    int rc = LIA_OK, n = 0, dst = 0;
    group *g;
    json_t *tags = NULL;
    lia_slice feed = lia_event_str(ev, LIA_F_FEED_NAME), s;
    static const struct {
        lia_field f;
        const char *type;
    } hashes[] = {{LIA_F_MALWARE_HASH_MD5, "md5"},
                  {LIA_F_MALWARE_HASH_SHA1, "sha1"},
                  {LIA_F_MALWARE_HASH_SHA256, "sha256"}};
    if (x->finished)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "feed already finished");
    /* the side that carries observables: source.* else destination.* */
    if (!lia_event_has(ev, LIA_F_SOURCE_IP) && !lia_event_has(ev, LIA_F_SOURCE_NETWORK) &&
        !lia_event_has(ev, LIA_F_SOURCE_FQDN) && !lia_event_has(ev, LIA_F_SOURCE_URL))
        dst = 1;
    {
        lia_field fi = dst ? LIA_F_DESTINATION_IP : LIA_F_SOURCE_IP;
        lia_field fn = dst ? LIA_F_DESTINATION_NETWORK : LIA_F_SOURCE_NETWORK;
        int any = lia_event_has(ev, fi) || lia_event_has(ev, fn) ||
                  lia_event_has(ev, dst ? LIA_F_DESTINATION_FQDN : LIA_F_SOURCE_FQDN) ||
                  lia_event_has(ev, dst ? LIA_F_DESTINATION_URL : LIA_F_SOURCE_URL);
        for (size_t i = 0; i < 3; i++)
            any |= lia_event_has(ev, hashes[i].f);
        if (!any) {
            x->skipped++;
            return LIA_ENOTFOUND;
        }
    }
    lia__time_z(t, day, sizeof day);
    day[10] = '\0';
    if (x->by == LIA_MISP_BY_REPORT)
        snprintf(key, sizeof key, "report:%lld:tlp:%d", (long long)ev->report_id, tlp);
    else
        snprintf(key, sizeof key, "feed:%.*s:%s:tlp:%d", (int)(feed.len > 300 ? 300 : feed.len),
                 feed.ptr ? feed.ptr : "", day, tlp);
    if (!(g = find_group(x, key, tlp, ev, t, err, &rc)))
        return rc;
    tags = json_array();
    if (!tags)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (lia_event_has(ev, LIA_F_CLASSIFICATION_TYPE)) {
        int ty = (int)ev->v[LIA_F_CLASSIFICATION_TYPE].i;
        char tg[160];
        snprintf(tg, sizeof tg, "rsit:%s=\"%s\"", lia__class_taxonomy_name(lia__class_type_taxonomy(ty)),
                 lia__class_type_name(ty));
        json_array_append_new(tags, tag(tg));
    } else if (lia_event_has(ev, LIA_F_CLASSIFICATION_TAXONOMY)) {
        char tg[160];
        snprintf(tg, sizeof tg, "rsit:%s",
                 lia__class_taxonomy_name((int)ev->v[LIA_F_CLASSIFICATION_TAXONOMY].i));
        json_array_append_new(tags, tag(tg));
    }
    {
        lia_field fi = dst ? LIA_F_DESTINATION_IP : LIA_F_SOURCE_IP;
        lia_field fn = dst ? LIA_F_DESTINATION_NETWORK : LIA_F_SOURCE_NETWORK;
        lia_field fp = dst ? LIA_F_DESTINATION_PORT : LIA_F_SOURCE_PORT;
        if (lia_event_has(ev, fi)) {
            lia_ip_format(&ev->v[fi].ip, 0, ip, sizeof ip);
            if (lia_event_has(ev, fp)) {
                snprintf(v, sizeof v, "%s|%lld", ip, (long long)ev->v[fp].i);
                rc = add_attr(x, g, ev, n++, "ip-dst|port", "Network activity", v, 1, tags, t);
            } else {
                rc = add_attr(x, g, ev, n++, "ip-dst", "Network activity", ip, 1, tags, t);
            }
        } else if (lia_event_has(ev, fn)) {
            lia_ip_format(&ev->v[fn].ip, 1, ip, sizeof ip);
            rc = add_attr(x, g, ev, n++, "ip-dst", "Network activity", ip, 1, tags, t);
        }
        s = lia_event_str(ev, dst ? LIA_F_DESTINATION_FQDN : LIA_F_SOURCE_FQDN);
        if (!rc && s.ptr) {
            snprintf(v, sizeof v, "%.*s", (int)s.len, s.ptr);
            rc = add_attr(x, g, ev, n++, "domain", "Network activity", v, 1, tags, t);
        }
        s = lia_event_str(ev, dst ? LIA_F_DESTINATION_URL : LIA_F_SOURCE_URL);
        if (!rc && s.ptr) {
            snprintf(v, sizeof v, "%.*s", (int)s.len, s.ptr);
            rc = add_attr(x, g, ev, n++, "url", "Network activity", v, 1, tags, t);
        }
        for (size_t i = 0; !rc && i < 3; i++) {
            s = lia_event_str(ev, hashes[i].f);
            if (!s.ptr)
                continue;
            snprintf(v, sizeof v, "%.*s", (int)s.len, s.ptr);
            rc = add_attr(x, g, ev, n++, hashes[i].type, "Payload delivery", v, 1, tags, t);
        }
    }
    json_decref(tags);
    if (rc)
        return lia_error_set(err, rc, NULL, NULL, 0, "out of memory (or a value is not UTF-8)");
    return LIA_OK;
}

int lia_misp_export_finish(lia_misp_export *x, lia_error *err)
{
    char p[LIA_PATH_MAX];
    int rc;
    if (x->finished)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "feed already finished");
    x->finished = 1;
    while (x->ng)
        if ((rc = flush_group(x, 0, err)))
            return rc;
    if (fclose(x->hashes) != 0) {
        x->hashes = NULL;
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot write hashes.csv");
    }
    x->hashes = NULL;
    if (path_in(x, "manifest.json", p, sizeof p) ||
        json_dump_file(x->manifest, p, JSON_INDENT(1) | JSON_SORT_KEYS) != 0)
        return lia_error_set(err, LIA_EIO, NULL, p, strlen(p), "cannot write the manifest");
    return LIA_OK;
}
