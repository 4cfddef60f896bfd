/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "stix": a STIX 2.1 bundle (or TAXII envelope, or one object) is one
 * report; each object is one record whose line is its 1-based position in
 * "objects". See liaison/stix.h for what becomes an event. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonget.h"
#include "liaison/limits.h"
#include "liaison/pipeline.h"
#include "liaison/stix.h"
#include "share/share.h"
#include "share/stix_marking.h"
#include "share/jsplit.h"
#include "share/stix_pattern.h"
#include "core/field_internal.h"
#include "core/records.h"

typedef struct stix {
    lia_buf doc;
    json_t *root;    /* parsed document (whole-document path only) */
    json_t *objects; /* borrowed: array of objects (whole-document path only) */
    lia__spans sp;   /* the objects' text in doc (streamed path; sp.v NULL otherwise) */
    json_t *cur;     /* the streamed path's object being read, of line cur_line */
    uint64_t cur_line;
    json_t *tlp_of;      /* marking id -> meaning (lia__stix_marking_def_add) */
    json_t *sighting_of; /* indicator id -> sighting object (borrowed) */
    json_t *covered;     /* "ipv4-addr:VALUE" -> true, named by some indicator */
    lia_stix_pattern pat;
    int done;
    int stix20;     /* the bundle says spec_version 2.0: objects carry none */
    char why[300];  /* reason of a document-level error record */
    char note[200]; /* about the whole document (lia_format.warning), or "" */
} stix;

static int stix_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    stix *s = calloc(1, sizeof *s);
    if (!s)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_buf_init(&s->doc, LIA_MAX_SHARE_DOC);
    s->tlp_of = json_object();
    s->sighting_of = json_object();
    s->covered = json_object();
    if (!s->tlp_of || !s->sighting_of || !s->covered) {
        json_decref(s->tlp_of);
        json_decref(s->sighting_of);
        json_decref(s->covered);
        free(s);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    *st = s;
    return LIA_OK;
}

static void stix_close(void *st)
{
    stix *s = st;
    if (!s)
        return;
    lia_buf_free(&s->doc);
    json_decref(s->root);
    json_decref(s->cur);
    free(s->sp.v);
    json_decref(s->tlp_of);
    json_decref(s->sighting_of);
    json_decref(s->covered);
    free(s);
}

static void cover(stix *s, const char *kind, const char *v, size_t n)
{
    char key[LIA_MAX_URL + 64];
    int k = snprintf(key, sizeof key, "%s:%.*s", kind, (int)n, v);
    if (k > 0 && (size_t)k < sizeof key)
        json_object_set_new(s->covered, key, json_true());
}

static int is_covered(stix *s, const char *kind, const char *v, size_t n)
{
    char key[LIA_MAX_URL + 64];
    int k = snprintf(key, sizeof key, "%s:%.*s", kind, (int)n, v);
    return k > 0 && (size_t)k < sizeof key && json_object_get(s->covered, key) != NULL;
}

/* What later objects need to know of o: TLP marking definitions, the
 * sighting of each indicator (its counts and times only), the observables
 * indicators name. Returns LIA_ENOMEM or LIA_OK. */
static int index_object(stix *s, json_t *o)
{
    const char *type = lia__json_str(o, "type", NULL), *id = lia__json_str(o, "id", NULL);
    if (!type || !id)
        return LIA_OK;
    if (strcmp(type, "marking-definition") == 0) {
        lia__stix_marking_def_add(s->tlp_of, o); /* out of memory: its refs count as RED */
    } else if (strcmp(type, "sighting") == 0) {
        const char *of = lia__json_str(o, "sighting_of_ref", NULL);
        if (of && strncmp(of, "indicator--", 11) == 0) {
            /* only what indicator() reads: the sighting itself is not kept */
            static const char *const keep[] = {"first_seen", "last_seen", "count"};
            json_t *sig = json_object();
            if (!sig)
                return LIA_ENOMEM;
            for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
                json_t *v = json_object_get(o, keep[k]);
                if (v && json_object_set(sig, keep[k], v)) {
                    json_decref(sig);
                    return LIA_ENOMEM;
                }
            }
            if (json_object_set_new(s->sighting_of, of, sig))
                return LIA_ENOMEM;
        }
    } else if (strcmp(type, "indicator") == 0) {
        size_t pn;
        const char *p = lia__json_str(o, "pattern", &pn);
        const char *pt = lia__json_str(o, "pattern_type", NULL);
        if (!p || (pt && strcmp(pt, "stix") != 0) || lia__stix_pattern_parse(p, pn, &s->pat) != LIA_OK)
            return LIA_OK;
        for (size_t k = 0; k < s->pat.n; k++) {
            const lia_stix_term *t = &s->pat.t[k];
            const char *v = s->pat.vbuf + t->voff;
            if (!t->is_str)
                continue;
            if (lia_slice_eq(t->path, "ipv4-addr:value") ||
                lia_slice_eq(t->path, "network-traffic:dst_ref.value") ||
                lia_slice_eq(t->path, "network-traffic:src_ref.value")) {
                cover(s, "ipv4-addr", v, t->vlen);
                cover(s, "ipv6-addr", v, t->vlen);
            } else if (lia_slice_eq(t->path, "ipv6-addr:value"))
                cover(s, "ipv6-addr", v, t->vlen);
            else if (lia_slice_eq(t->path, "domain-name:value"))
                cover(s, "domain-name", v, t->vlen);
            else if (lia_slice_eq(t->path, "url:value"))
                cover(s, "url", v, t->vlen);
        }
    }
    return LIA_OK;
}

static int index_bundle(stix *s)
{
    size_t i;
    json_t *o;
    json_array_foreach(s->objects, i, o)
    {
        int rc = index_object(s, o);
        if (rc)
            return rc;
    }
    return LIA_OK;
}

static int hash_field(lia_slice path);

/* The Liaison event an indicator carries: the property extension
 * LIA_STIX_EVENT_EXT, else the custom property of older Liaison bundles;
 * NULL when there is none. */
static json_t *liaison_event(json_t *o)
{
    json_t *e =
        json_object_get(json_object_get(json_object_get(o, "extensions"), LIA_STIX_EVENT_EXT), "event");
    if (json_is_object(e))
        return e;
    e = json_object_get(o, "x_liaison_event");
    return json_is_object(e) ? e : NULL;
}

/* A pattern that is only alternatives of single observables ("[ipv4-addr:value
 * = 'a' OR ipv4-addr:value = 'b'] OR [domain-name:value = 'c']") stands for one
 * event per alternative (each record is one; a crash between two alternatives of
 * one indicator may, on resume, skip the rest of that indicator since both
 * share its line): the number of alternatives, else 0. */
static size_t alternatives(stix *s, json_t *o)
{
    size_t pn;
    const char *p = lia__json_str(o, "pattern", &pn), *pt = lia__json_str(o, "pattern_type", NULL);
    if (liaison_event(o))
        return 0; /* a Liaison producer: the pattern describes one event */
    if (!p || (pt && strcmp(pt, "stix") != 0) || lia__stix_pattern_parse(p, pn, &s->pat) != LIA_OK ||
        s->pat.n < 2)
        return 0;
    for (size_t k = 0; k < s->pat.n; k++) {
        const lia_stix_term *t = &s->pat.t[k];
        if (t->and_next || !t->is_str)
            return 0;
        if (!lia_slice_eq(t->path, "ipv4-addr:value") && !lia_slice_eq(t->path, "ipv6-addr:value") &&
            !lia_slice_eq(t->path, "domain-name:value") && !lia_slice_eq(t->path, "url:value") &&
            hash_field(t->path) < 0)
            return 0;
    }
    return s->pat.n;
}

/* STIX 2.1's required properties (part 3 common properties, and the few
 * each type adds that Liaison reads): NULL when o has them, else why not. */
static const char *const sdo_types[] = {"attack-pattern",
                                        "campaign",
                                        "course-of-action",
                                        "grouping",
                                        "identity",
                                        "incident",
                                        "indicator",
                                        "infrastructure",
                                        "intrusion-set",
                                        "location",
                                        "malware",
                                        "malware-analysis",
                                        "note",
                                        "observed-data",
                                        "opinion",
                                        "report",
                                        "threat-actor",
                                        "tool",
                                        "vulnerability",
                                        "relationship",
                                        "sighting",
                                        "language-content",
                                        "extension-definition",
                                        NULL};

static int in_list(const char *t, const char *const *l)
{
    for (; *l; l++)
        if (strcmp(t, *l) == 0)
            return 1;
    return 0;
}

static const char *missing_required(const stix *s, json_t *o, char *buf, size_t n)
{
    static const struct {
        const char *type, *props[4];
    } extra[] = {
        {"indicator", {"pattern", "pattern_type", "valid_from", NULL}},
        {"relationship", {"relationship_type", "source_ref", "target_ref", NULL}},
        {"sighting", {"sighting_of_ref", NULL}},
        {"ipv4-addr", {"value", NULL}},
        {"ipv6-addr", {"value", NULL}},
        {"domain-name", {"value", NULL}},
        {"url", {"value", NULL}},
        {"email-addr", {"value", NULL}},
        {"marking-definition", {"created", NULL}},
    };
    const char *type = lia__json_str(o, "type", NULL), *id = lia__json_str(o, "id", NULL);
    int sdo;
    if (!type || !*type)
        return "required property \"type\" is missing";
    if (!id)
        return "required property \"id\" is missing";
    if (strncmp(id, type, strlen(type)) != 0 || strncmp(id + strlen(type), "--", 2) != 0 ||
        !id[strlen(type) + 2]) {
        snprintf(buf, n, "\"id\" %.80s is not %.60s--UUID", id, type);
        return buf;
    }
    sdo = in_list(type, sdo_types) || strcmp(type, "marking-definition") == 0;
    if (sdo && !s->stix20 && !lia__json_str(o, "spec_version", NULL))
        return "required property \"spec_version\" is missing";
    if (in_list(type, sdo_types) &&
        (!json_is_string(json_object_get(o, "created")) || !json_is_string(json_object_get(o, "modified")))) {
        snprintf(buf, n, "required property \"%s\" is missing",
                 json_is_string(json_object_get(o, "created")) ? "modified" : "created");
        return buf;
    }
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        if (strcmp(type, extra[i].type) != 0)
            continue;
        for (size_t k = 0; extra[i].props[k]; k++)
            if (!json_object_get(o, extra[i].props[k]) ||
                json_is_null(json_object_get(o, extra[i].props[k]))) {
                snprintf(buf, n, "required property \"%s\" of %s is missing", extra[i].props[k], type);
                return buf;
            }
    }
    return NULL;
}

/* The record(s) of object o (line i + 1). raw: its text in the document
 * (borrowed: it lives until close), or NULL to write it (whole-document
 * path, copied). */
static int object_records(stix *s, size_t i, json_t *o, const lia_slice *doc_raw, lia_records *out)
{
    char wbuf[200];
    const char *missing = json_is_object(o) ? missing_required(s, o, wbuf, sizeof wbuf) : NULL;
    char *dumped = doc_raw ? NULL : json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
    lia_slice raw = doc_raw ? *doc_raw : (lia_slice){dumped, dumped ? strlen(dumped) : 0};
    int copy = doc_raw ? 0 : 1;
    const char *type = lia__json_str(o, "type", NULL);
    size_t alts = type && strcmp(type, "indicator") == 0 ? alternatives(s, o) : 0;
    int rc = LIA_OK;
    if (!raw.ptr)
        return LIA_ENOMEM;
    if (missing) { /* quarantined with the reason, never read half */
        char *why = lia__arena_alloc(&out->arena, strlen(missing) + 1);
        if (!why) {
            free(dumped);
            return LIA_ENOMEM;
        }
        memcpy(why, missing, strlen(missing) + 1);
        rc = lia__records_add(out, i + 1, raw, NULL, 0, LIA_EINVAL, why, copy);
    } else if (alts) { /* one record per alternative; field 0 is its index */
        for (size_t k = 0; k < alts && !rc; k++) {
            char *idx = lia__arena_alloc(&out->arena, 24);
            lia_slice f;
            if (!idx) {
                rc = LIA_ENOMEM;
                break;
            }
            f.ptr = idx;
            f.len = (size_t)snprintf(idx, 24, "%zu", k);
            rc = lia__records_add(out, i + 1, raw, &f, 1, 0, NULL, copy);
        }
    } else {
        rc = lia__records_add(out, i + 1, raw, NULL, 0, json_is_object(o) ? 0 : LIA_EPARSE,
                              json_is_object(o) ? NULL : "a STIX object must be a JSON object", copy);
    }
    free(dumped);
    return rc;
}

static int add_records(stix *s, lia_records *out)
{
    size_t i;
    json_t *o;
    json_array_foreach(s->objects, i, o)
    {
        int rc = object_records(s, i, o, NULL, out);
        if (rc)
            return rc;
    }
    return LIA_OK;
}

/* ---- the streamed path: a bundle (or a bare array) whose objects are
 * parsed one at a time from their text, never as one tree (a tree costs
 * about 8 times the document) ---- */

/* The elements of the array at p into s->sp; the end of the array, or
 * NULL (not one the splitter takes: the whole-document path decides). */
static const char *split_array(stix *s, const char *p, const char *e, int *oom)
{
    return lia__json_split_array(s->doc.ptr, p, e, &s->sp, LIA_MAX_SHARE_OBJECTS, oom);
}

/* The text [p, e) parsed (a member of the bundle other than its objects, so
 * that the splitter accepts what the whole-document path accepts), or NULL. */
static json_t *value_of(const char *p, const char *e, int *oom)
{
    json_error_t je;
    json_t *v = json_loadb(p, (size_t)(e - p), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!v && lia__json_oom(&je))
        *oom = 1;
    return v;
}

/* Split the document into its objects: 1 done (spans set, s->stix20 and
 * the note as the whole-document path sets them), 0 not a document the
 * splitter takes (nothing changed), LIA_ENOMEM. */
static int split_document(stix *s)
{
    const char *p = s->doc.ptr, *e = s->doc.ptr + s->doc.len;
    int oom = 0, have_objects = 0;
    json_t *keys = NULL;
    if (!p)
        return 0;
    p = lia__json_skip_ws(p, e);
    if (p < e && *p == '[') {
        p = split_array(s, p, e, &oom);
        if (!p || lia__json_skip_ws(p, e) != e)
            goto no;
        snprintf(s->note, sizeof s->note,
                 "a bare JSON array of %zu objects, read as a STIX bundle's objects (no bundle around them)",
                 s->sp.n);
        return 1;
    }
    if (p >= e || *p != '{' || !(keys = json_object()))
        goto no;
    p = lia__json_skip_ws(p + 1, e);
    if (p < e && *p == '}')
        goto no;
    for (;;) {
        const char *kend = lia__json_skip_value(p, e), *v, *vend;
        json_t *k;
        if (!kend || *p != '"')
            goto no;
        k = value_of(p, kend, &oom);
        if (!json_is_string(k) || json_object_get(keys, json_string_value(k))) {
            json_decref(k);
            goto no; /* duplicate member: the whole-document path refuses it */
        }
        if (json_object_set_new(keys, json_string_value(k), json_true())) {
            json_decref(k);
            oom = 1;
            goto no;
        }
        v = lia__json_skip_ws(kend, e);
        if (v >= e || *v != ':') {
            json_decref(k);
            goto no;
        }
        v = lia__json_skip_ws(v + 1, e);
        if (strcmp(json_string_value(k), "objects") == 0) {
            vend = split_array(s, v, e, &oom);
            have_objects = vend != NULL;
        } else {
            json_t *val;
            vend = lia__json_skip_value(v, e);
            val = vend ? value_of(v, vend, &oom) : NULL;
            if (!val)
                vend = NULL;
            else if (strcmp(json_string_value(k), "spec_version") == 0)
                s->stix20 = json_is_string(val) && strcmp(json_string_value(val), "2.0") == 0;
            json_decref(val);
        }
        json_decref(k);
        if (!vend)
            goto no;
        p = lia__json_skip_ws(vend, e);
        if (p < e && *p == '}')
            break;
        if (p >= e || *p != ',')
            goto no;
        p = lia__json_skip_ws(p + 1, e);
    }
    if (!have_objects || lia__json_skip_ws(p + 1, e) != e)
        goto no;
    json_decref(keys);
    return 1;
no:
    json_decref(keys);
    free(s->sp.v);
    s->sp = (lia__spans){0};
    s->stix20 = 0;
    s->note[0] = '\0';
    return oom ? LIA_ENOMEM : 0;
}

static json_t *load_span(const stix *s, size_t i, json_error_t *je)
{
    return json_loadb(s->doc.ptr + s->sp.v[i].off, s->sp.v[i].len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                      je);
}

/* The streamed path's records: every object parsed, indexed and dropped,
 * then parsed again for its records (an index entry may come after the
 * object that needs it). 1 when an object is not JSON (the whole-document
 * path then says where), LIA_ENOMEM, LIA_OK. */
static int streamed_records(stix *s, lia_records *out)
{
    json_error_t je;
    int rc;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < s->sp.n; i++) {
            json_t *o = load_span(s, i, &je);
            if (!o)
                return lia__json_oom(&je) ? LIA_ENOMEM : 1;
            if (pass == 0)
                rc = json_is_object(o) ? index_object(s, o) : LIA_OK;
            else {
                lia_slice raw = {s->doc.ptr + s->sp.v[i].off, s->sp.v[i].len};
                rc = object_records(s, i, o, &raw, out);
            }
            json_decref(o);
            if (rc)
                return rc;
        }
    return LIA_OK;
}

static int stix_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    stix *s = st;
    json_error_t je;
    int rc;
    if (s->done)
        return LIA_OK;
    if ((rc = lia__doc_append(&s->doc, buf, len, "STIX", err)))
        return rc;
    if (!eof)
        return LIA_OK;
    s->done = 1;
    if ((rc = split_document(s)) < 0)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory reading the STIX document");
    if (rc == 1 && s->sp.n <= LIA_MAX_SHARE_OBJECTS) {
        rc = streamed_records(s, out);
        if (rc == LIA_OK)
            return LIA_OK; /* doc stays: the records' raw text is in it */
        if (rc < 0)
            return lia_error_set(err, rc, NULL, NULL, 0, "%s", lia_strerror(rc));
        /* an object is not JSON: read it all again to say where */
        lia__records_clear(out);
        json_object_clear(s->tlp_of);
        json_object_clear(s->sighting_of);
        json_object_clear(s->covered);
    }
    free(s->sp.v);
    s->sp = (lia__spans){0};
    s->stix20 = 0;
    s->note[0] = '\0';
    s->root = json_loadb(s->doc.ptr ? s->doc.ptr : "", s->doc.len, JSON_REJECT_DUPLICATES, &je);
    if (!s->root && lia__json_oom(&je))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory reading the STIX document");
    if (!s->root) {
        snprintf(s->why, sizeof s->why, "not JSON: %s at line %d column %d", je.text, je.line, je.column);
        goto bad;
    }
    if (json_is_object(s->root) && json_is_array(json_object_get(s->root, "objects"))) {
        const char *sv = lia__json_str(s->root, "spec_version", NULL);
        s->objects = json_object_get(s->root, "objects");
        s->stix20 = sv && strcmp(sv, "2.0") == 0;
    } else if (json_is_array(s->root)) {
        /* not a bundle, but its "objects" alone: read them so, and say so */
        s->objects = s->root;
        snprintf(s->note, sizeof s->note,
                 "a bare JSON array of %zu objects, read as a STIX bundle's objects (no bundle around them)",
                 json_array_size(s->root));
    } else if (json_is_object(s->root) && lia__json_str(s->root, "type", NULL) &&
               strcmp(lia__json_str(s->root, "type", NULL), "bundle") != 0) {
        json_t *arr = json_array();
        if (!arr || json_array_append(arr, s->root))
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        json_decref(s->root);
        s->root = arr;
        s->objects = arr;
    } else {
        snprintf(s->why, sizeof s->why, "not a STIX bundle (an object with \"objects\": [...] is expected)");
        goto bad;
    }
    if (json_array_size(s->objects) > LIA_MAX_SHARE_OBJECTS)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "more than %d objects in one bundle",
                             LIA_MAX_SHARE_OBJECTS);
    rc = index_bundle(s);
    if (rc == LIA_OK)
        rc = add_records(s, out);
    if (rc)
        return lia_error_set(err, rc, NULL, NULL, 0, "%s", lia_strerror(rc));
    lia_buf_free(&s->doc);
    return LIA_OK;
bad : {
    size_t n = s->doc.len < 4096 ? s->doc.len : 4096;
    rc = lia__records_add(out, 1, (lia_slice){s->doc.ptr ? s->doc.ptr : "", n}, NULL, 0, LIA_EPARSE, s->why,
                          1);
    return rc ? lia_error_set(err, rc, NULL, NULL, 0, "out of memory") : LIA_OK;
}
}

static int has_extra(const lia_event *ev, const char *key)
{
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < ev->nextra; i++)
        if (ev->extra[i].klen == kl && memcmp(ev->text.ptr + ev->extra[i].koff, key, kl) == 0)
            return 1;
    return 0;
}

/* extra.KEY = the string property prop of o, unless absent or already set. */
static int extra_s(lia_event *ev, const char *key, json_t *o, const char *prop, lia_error *err)
{
    size_t n;
    const char *v = lia__json_str(o, prop, &n);
    if (!v || has_extra(ev, key))
        return LIA_OK;
    return lia_event_extra_str(ev, key, strlen(key), v, n, err);
}

static int extra_j(lia_event *ev, const char *key, json_t *v, lia_error *err)
{
    char *t;
    int rc;
    if (!v || has_extra(ev, key))
        return LIA_OK;
    t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!t)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    rc = lia_event_extra_json(ev, key, strlen(key), t, strlen(t), err);
    free(t);
    return rc;
}

static int set_ip_or_net(lia_event *ev, int dst, const char *v, size_t n, lia_error *err)
{
    if (memchr(v, '/', n))
        return lia__set(ev, dst ? LIA_F_DESTINATION_NETWORK : LIA_F_SOURCE_NETWORK, v, n, err);
    return lia__set(ev, dst ? LIA_F_DESTINATION_IP : LIA_F_SOURCE_IP, v, n, err);
}

static int hash_field(lia_slice path)
{
    static const struct {
        const char *p;
        lia_field f;
    } h[] = {
        {"file:hashes.MD5", LIA_F_MALWARE_HASH_MD5},
        {"file:hashes.md5", LIA_F_MALWARE_HASH_MD5},
        {"file:hashes.'MD5'", LIA_F_MALWARE_HASH_MD5},
        {"file:hashes.'SHA-1'", LIA_F_MALWARE_HASH_SHA1},
        {"file:hashes.SHA1", LIA_F_MALWARE_HASH_SHA1},
        {"file:hashes.'SHA1'", LIA_F_MALWARE_HASH_SHA1},
        {"file:hashes.'SHA-256'", LIA_F_MALWARE_HASH_SHA256},
        {"file:hashes.SHA256", LIA_F_MALWARE_HASH_SHA256},
        {"file:hashes.'SHA256'", LIA_F_MALWARE_HASH_SHA256},
    };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
        if (lia_slice_eq(path, h[i].p))
            return (int)h[i].f;
    return -1;
}

/* Apply the pattern's comparisons to ev. */
static int from_pattern(stix *s, lia_event *ev, lia_error *err)
{
    const lia_stix_pattern *p = &s->pat;
    const lia_stix_term *nt_dst = NULL, *nt_src = NULL;
    int64_t dport = -1, sport = -1;
    int rc, nip = 0, nfqdn = 0, nurl = 0;
    for (size_t i = 0; i < p->n; i++) {
        const lia_stix_term *t = &p->t[i];
        const char *v = p->vbuf + t->voff;
        int hf;
        if (lia_slice_eq(t->path, "ipv4-addr:value") || lia_slice_eq(t->path, "ipv6-addr:value")) {
            if (!t->is_str)
                goto badval;
            if (nip++)
                goto several;
            if ((rc = set_ip_or_net(ev, 0, v, t->vlen, err)))
                return rc;
        } else if (lia_slice_eq(t->path, "domain-name:value")) {
            if (!t->is_str)
                goto badval;
            if (nfqdn++)
                goto several;
            if ((rc = lia__set(ev, LIA_F_SOURCE_FQDN, v, t->vlen, err)))
                return rc;
        } else if (lia_slice_eq(t->path, "url:value")) {
            if (!t->is_str)
                goto badval;
            if (nurl++)
                goto several;
            if ((rc = lia__set(ev, LIA_F_SOURCE_URL, v, t->vlen, err)))
                return rc;
        } else if (lia_slice_eq(t->path, "network-traffic:dst_ref.value")) {
            if (!t->is_str)
                goto badval;
            if (nt_dst)
                goto several;
            nt_dst = t;
        } else if (lia_slice_eq(t->path, "network-traffic:src_ref.value")) {
            if (!t->is_str)
                goto badval;
            if (nt_src)
                goto several;
            nt_src = t;
        } else if (lia_slice_eq(t->path, "network-traffic:dst_ref.type") ||
                   lia_slice_eq(t->path, "network-traffic:src_ref.type")) {
            continue;
        } else if (lia_slice_eq(t->path, "network-traffic:dst_port") ||
                   lia_slice_eq(t->path, "network-traffic:src_port")) {
            if (t->is_str || t->ival < 0 || t->ival > 65535)
                goto badval;
            *(t->path.ptr[16] == 'd' ? &dport : &sport) = t->ival;
        } else if (lia_slice_eq(t->path, "network-traffic:protocols[*]") ||
                   lia_slice_eq(t->path, "network-traffic:protocols[0]")) {
            if (!t->is_str)
                goto badval;
            if ((rc = lia__set(ev, LIA_F_PROTOCOL_TRANSPORT, v, t->vlen, err)))
                return rc;
        } else if (lia_slice_eq(t->path, "autonomous-system:number")) {
            char num[24];
            if (t->is_str)
                goto badval;
            snprintf(num, sizeof num, "%lld", (long long)t->ival);
            if ((rc = lia__set(ev, LIA_F_SOURCE_ASN, num, strlen(num), err)))
                return rc;
        } else if ((hf = hash_field(t->path)) >= 0) {
            if (!t->is_str)
                goto badval;
            if ((rc = lia__set(ev, (lia_field)hf, v, t->vlen, err)))
                return rc;
        } else {
            return lia_error_set(err, LIA_EUNSUPPORTED, "pattern", t->path.ptr, t->path.len,
                                 "STIX pattern property not mapped to an event field");
        }
    }
    /* network traffic: the responding end (dst) is the host the indicator is
     * about (source.* in Liaison); a src-only pattern names source.* too */
    {
        const lia_stix_term *a = nt_dst ? nt_dst : nt_src, *b = nt_dst ? nt_src : NULL;
        int64_t ap = nt_dst ? dport : (nt_src ? sport : dport), bp = nt_dst ? sport : -1;
        if (a) {
            if (nip++)
                goto several;
            if ((rc = set_ip_or_net(ev, 0, p->vbuf + a->voff, a->vlen, err)))
                return rc;
        }
        if (b && (rc = set_ip_or_net(ev, 1, p->vbuf + b->voff, b->vlen, err)))
            return rc;
        if (ap >= 0)
            lia_event_set_i(ev, LIA_F_SOURCE_PORT, ap);
        if (bp >= 0)
            lia_event_set_i(ev, LIA_F_DESTINATION_PORT, bp);
    }
    return LIA_OK;
badval:
    return lia_error_set(err, LIA_EINVAL, "pattern", NULL, 0, "a comparison has a value of the wrong type");
several:
    return lia_error_set(err, LIA_EUNSUPPORTED, "pattern", NULL, 0,
                         "the pattern names several values of one kind (one event holds one)");
}

static int markings(stix *s, json_t *o, lia_event *ev, lia_error *err)
{
    const char *raised = NULL;
    int tlp = lia__stix_object_tlp(o, s->tlp_of, &raised), rc;
    json_t *refs = json_object_get(o, "object_marking_refs");
    if (tlp >= 0)
        lia_event_set_i(ev, LIA_F_TLP, tlp);
    if (raised && (rc = lia_event_extra_str(ev, "tlp_raised", 10, raised, strlen(raised), err)))
        return rc;
    if (json_is_array(refs) && json_array_size(refs) && (rc = extra_j(ev, "stix_marking_refs", refs, err)))
        return rc;
    return LIA_OK;
}

static int times(lia_event *ev, json_t *o, lia_field f, const char *key, lia_error *err)
{
    size_t n;
    const char *v = lia__json_str(o, key, &n);
    if (!v || lia_event_has(ev, f))
        return LIA_OK;
    return lia__set(ev, f, v, n, err);
}

static int indicator(stix *s, json_t *o, int alt, lia_event *ev, lia_error *err)
{
    size_t n;
    const char *p = lia__json_str(o, "pattern", &n), *pt = lia__json_str(o, "pattern_type", NULL), *v;
    json_t *x = liaison_event(o), *sig;
    int rc;
    if (!p)
        return lia_error_set(err, LIA_EINVAL, "pattern", NULL, 0, "indicator without a pattern");
    if (pt && strcmp(pt, "stix") != 0)
        return lia_error_set(err, LIA_EUNSUPPORTED, "pattern_type", pt, strlen(pt),
                             "only STIX patterns are read");
    if (lia__stix_pattern_parse(p, n, &s->pat))
        return lia_error_set(err, LIA_EUNSUPPORTED, "pattern", s->pat.at ? s->pat.at : p,
                             s->pat.at ? n - (size_t)(s->pat.at - p) : n, "%s", s->pat.why);
    if (alt >= 0) { /* one alternative of an OR pattern */
        if ((size_t)alt >= s->pat.n)
            return lia_error_set(err, LIA_EINVAL, "pattern", NULL, 0, "no such alternative");
        s->pat.t[0] = s->pat.t[alt];
        s->pat.n = 1;
    }
    if (x) { /* a Liaison producer's harmonised event */
        char *t = json_dumps(x, JSON_COMPACT);
        if (!t)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        rc = lia_event_from_json(ev, t, strlen(t), err);
        free(t);
        if (rc)
            return rc;
        /* our own provenance; the importing side sets its own */
        lia_event_unset(ev, LIA_F_FEED_NAME);
    }
    if ((rc = from_pattern(s, ev, err)))
        return rc;
    if ((rc = times(ev, o, LIA_F_TIME_SOURCE, "valid_from", err)))
        return rc;
    if ((v = lia__json_str(o, "description", &n)) && !lia_event_has(ev, LIA_F_EVENT_DESCRIPTION_TEXT) &&
        (rc = lia__set(ev, LIA_F_EVENT_DESCRIPTION_TEXT, v, n, err)))
        return rc;
    if ((rc = extra_s(ev, "stix_id", o, "id", err)) || (rc = extra_s(ev, "stix_name", o, "name", err)) ||
        (rc = extra_s(ev, "stix_created_by", o, "created_by_ref", err)) ||
        (rc = extra_j(ev, "stix_indicator_types", json_object_get(o, "indicator_types"), err)) ||
        (rc = extra_j(ev, "stix_labels", json_object_get(o, "labels"), err)))
        return rc;
    if ((rc = markings(s, o, ev, err)))
        return rc;
    if (alt >= 0 && !has_extra(ev, "stix_alternative") &&
        (rc = lia_event_extra_int(ev, "stix_alternative", 16, alt + 1, err)))
        return rc;
    sig = json_object_get(s->sighting_of, lia__json_str(o, "id", NULL) ? lia__json_str(o, "id", NULL) : "");
    if (sig) {
        json_t *c = json_object_get(sig, "count");
        if ((rc = extra_s(ev, "first_seen", sig, "first_seen", err)) ||
            (rc = extra_s(ev, "last_seen", sig, "last_seen", err)))
            return rc;
        if (json_is_integer(c) && !has_extra(ev, "count") &&
            (rc = lia_event_extra_int(ev, "count", 5, json_integer_value(c), err)))
            return rc;
    }
    return LIA_OK;
}

static int observable(stix *s, json_t *o, const char *type, lia_event *ev, lia_error *err)
{
    size_t n;
    const char *v = lia__json_str(o, "value", &n);
    int rc;
    if (!v)
        return lia_error_set(err, LIA_EINVAL, "value", NULL, 0, "%s without a value", type);
    if (is_covered(s, type, v, n))
        return LIA_ENOTFOUND; /* the indicator naming it is the event */
    if (strcmp(type, "domain-name") == 0)
        rc = lia__set(ev, LIA_F_SOURCE_FQDN, v, n, err);
    else if (strcmp(type, "url") == 0)
        rc = lia__set(ev, LIA_F_SOURCE_URL, v, n, err);
    else
        rc = set_ip_or_net(ev, 0, v, n, err);
    if (rc || (rc = extra_s(ev, "stix_id", o, "id", err)))
        return rc;
    return markings(s, o, ev, err);
}

static int stix_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev, lia_error *err)
{
    stix *s = st;
    json_t *o;
    const char *type;
    if (s->sp.v) { /* parsed again (the alternatives of one line share it) */
        json_error_t je;
        if (r->line == 0 || r->line > s->sp.n)
            return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "no such STIX object");
        if (s->cur_line != r->line) {
            json_decref(s->cur);
            s->cur = load_span(s, (size_t)(r->line - 1), &je);
            s->cur_line = s->cur ? r->line : 0;
            if (!s->cur)
                return lia_error_set(err, lia__json_oom(&je) ? LIA_ENOMEM : LIA_EPARSE, NULL, NULL, 0, "%s",
                                     je.text);
        }
        o = s->cur;
    } else {
        o = json_array_get(s->objects, (size_t)(r->line - 1));
    }
    type = lia__json_str(o, "type", NULL);
    if (!type)
        return lia_error_set(err, LIA_EINVAL, "type", NULL, 0, "STIX object without a type");
    if (strcmp(type, "indicator") == 0) {
        int alt = -1;
        if (r->nfields == 1) {
            const lia_slice *f = &rs->fields[r->first];
            int64_t v;
            if (lia__parse_int(f->ptr, f->len, &v, NULL) != 0 || v < 0 || v >= LIA_MAX_PATTERN_TERMS)
                return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "bad alternative index");
            alt = (int)v;
        }
        return indicator(s, o, alt, ev, err);
    }
    if (strcmp(type, "ipv4-addr") == 0 || strcmp(type, "ipv6-addr") == 0 ||
        strcmp(type, "domain-name") == 0 || strcmp(type, "url") == 0)
        return observable(s, o, type, ev, err);
    return LIA_ENOTFOUND; /* identity, marking, sighting, relationship ...: not an event */
}

static const char *stix_warning(void *st)
{
    const stix *s = st;
    return s->note[0] ? s->note : NULL;
}

const lia_format lia_format_stix = {
    .name = "stix",
    .summary = "STIX 2.1 bundle (indicators and observables)",
    .open = stix_open,
    .parse = stix_parse,
    .normalise = stix_normalise,
    .close = stix_close,
    .warning = stix_warning,
};
