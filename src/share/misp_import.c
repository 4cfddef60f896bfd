/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "misp": one MISP event per report, one record per attribute
 * (see liaison/misp.h). Also the feed-directory walker. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/jsonget.h"
#include "liaison/limits.h"
#include "liaison/misp.h"
#include "liaison/pipeline.h"
#include "share/jsplit.h"
#include "share/share.h"
#include "core/field_internal.h"
#include "core/records.h"

typedef struct misp {
    lia_buf doc;
    json_t *root;
    json_t *event; /* borrowed */
    json_t *attrs; /* flattened attributes (own array, borrowed items) */
    json_t *owner; /* per attribute: its Object, or null */
    lia__spans sp; /* the event's own attributes as text in doc (split path; sp.n of them) */
    int split;     /* 1: lines 1..sp.n are sp, the rest attrs; 0: every line is attrs */
    int ev_tlp;
    int ev_class;                    /* classification.type id from event tags, -1 */
    int ev_rank;                     /* which taxonomy gave it (see read_tags) */
    char ev_malware[LIA_MAX_STRING]; /* malware name of the event (galaxies, tags, malware-type), or "" */
    char ev_malware_text[LIA_MAX_STRING]; /* the first the event's own attributes name (split path) */
    int done;
    char why[300]; /* reason of a document-level error record */
} misp;

static int misp_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    misp *m = calloc(1, sizeof *m);
    if (!m)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_buf_init(&m->doc, LIA_MAX_SHARE_DOC);
    m->ev_tlp = -1;
    m->ev_class = -1;
    *st = m;
    return LIA_OK;
}

static void misp_close(void *st)
{
    misp *m = st;
    if (!m)
        return;
    lia_buf_free(&m->doc);
    free(m->sp.v);
    json_decref(m->attrs);
    json_decref(m->owner);
    json_decref(m->root);
    free(m);
}

/* Values of the eCSIRT II and CIRCL incident-classification taxonomies that
 * are not RSIT type names, and the RSIT type each stands for. */
static const struct {
    const char *from, *to;
} class_alias[] = {
    {"c2server", "c2-server"},
    {"malware", "infected-system"},
    {"botnet-drone", "infected-system"},
    {"ransomware", "infected-system"},
    {"vulnerable-service", "vulnerable-system"},
    {"compromised", "system-compromise"},
    {"backdoor", "system-compromise"},
    {"scan", "scanner"},
    {"denial-of-service", "ddos"},
    {"sql-injection", "exploit"},
    {"xss", "exploit"},
    {"vulnerability", "vulnerable-system"},
    {"information-leak", "data-leak"},
    {"copyright-issue", "copyright"},
    {"unauthorised-information-access", "unauthorised-information-access"},
    {"unauthorised-information-modification", "unauthorised-information-modification"},
};

/* The RSIT type a taxonomy value names, or -1. */
static int class_of(const char *v, size_t n)
{
    int ty = lia_class_type_lookup(v, n);
    for (size_t i = 0; ty < 0 && i < sizeof class_alias / sizeof class_alias[0]; i++)
        if (strlen(class_alias[i].from) == n && strncasecmp(class_alias[i].from, v, n) == 0)
            ty = lia_class_type_lookup(class_alias[i].to, strlen(class_alias[i].to));
    return ty;
}

/* Galaxies whose clusters name malware (families, ransomware, RATs ...). */
static int malware_galaxy(const char *t, size_t n)
{
    static const char *const g[] = {"malpedia", "mitre-malware", "ransomware", "banker",
                                    "botnet",   "rat",           "stealer",    "android",
                                    "backdoor", "exploit-kit",   "tool",       "mitre-tool"};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        if (strlen(g[i]) == n && strncmp(g[i], t, n) == 0)
            return 1;
    return 0;
}

/* The first malware name in a Galaxy array (clusters of a malware galaxy). */
static void galaxy_malware(json_t *gal, char *out, size_t cap)
{
    size_t i, j;
    json_t *g, *c;
    json_array_foreach(gal, i, g)
    {
        size_t tn;
        const char *t = lia__json_str(g, "type", &tn);
        if (out[0] || !t || !malware_galaxy(t, tn))
            continue;
        json_array_foreach(json_object_get(g, "GalaxyCluster"), j, c)
        {
            size_t vn;
            const char *v = lia__json_str(c, "value", &vn);
            if (v && vn && vn < cap) {
                memcpy(out, v, vn);
                out[vn] = '\0';
                break;
            }
        }
    }
}

/* TLP, classification and malware name from a Tag array. A tlp: tag that is
 * not a TLP label, and tags that cannot be read, count as TLP:RED: an
 * unrecognised marking never lowers the TLP (docs/security.md). The
 * classification comes from a machine tag PREFIX:PREDICATE="VALUE" of the
 * RSIT taxonomy (rank 3), else eCSIRT (2), else CIRCL's
 * incident-classification (1): a higher rank wins, the first of a rank. A
 * misp-galaxy:GALAXY="NAME" tag of a malware galaxy names the malware. */
static void read_tags_full(json_t *tags, int *tlp, int *cls, int *rank, char *malware, size_t mcap)
{
    size_t i;
    json_t *t;
    if (tags && !json_is_array(tags)) {
        *tlp = LIA_TLP_RED;
        return;
    }
    json_array_foreach(tags, i, t)
    {
        size_t n;
        const char *name = lia__json_str(t, "name", &n), *q;
        int v, r = 0;
        if (!name) {
            *tlp = LIA_TLP_RED;
            continue;
        }
        if (n >= 4 && strncasecmp(name, "tlp:", 4) == 0) {
            if (lia_parse_tlp(name, n, &v, NULL) != 0)
                v = LIA_TLP_RED;
            if (v > *tlp)
                *tlp = v;
            continue;
        }
        q = memchr(name, '"', n);
        if (!q || name[n - 1] != '"' || name + n - 1 <= q + 1)
            continue;
        if (n > 5 && strncasecmp(name, "rsit:", 5) == 0)
            r = 3;
        else if (n > 7 && strncasecmp(name, "ecsirt:", 7) == 0)
            r = 2;
        else if (n > 5 && strncasecmp(name, "circl:incident-classification=", 30) == 0)
            r = 1;
        else if (malware && !malware[0] && n > 12 && strncmp(name, "misp-galaxy:", 12) == 0 &&
                 malware_galaxy(
                     name + 12,
                     (size_t)(memchr(name, '=', n) ? (const char *)memchr(name, '=', n) - name - 12 : 0))) {
            size_t vn = (size_t)(name + n - 1 - (q + 1));
            if (vn < mcap) {
                memcpy(malware, q + 1, vn);
                malware[vn] = '\0';
            }
            continue;
        }
        if (r > *rank) {
            int ty = class_of(q + 1, (size_t)(name + n - 1 - (q + 1)));
            if (ty >= 0) {
                *cls = ty;
                *rank = r;
            }
        }
    }
}

static int flatten(misp *m, lia_error *err)
{
    json_t *a, *o, *oa;
    size_t i, j;
    m->attrs = json_array();
    m->owner = json_array();
    if (!m->attrs || !m->owner)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    json_array_foreach(
        json_object_get(m->event, "Attribute"), i,
        a) if (json_array_append(m->attrs, a) ||
               json_array_append_new(m->owner, json_null())) return lia_error_set(err, LIA_ENOMEM, NULL, NULL,
                                                                                  0, "out of memory");
    json_array_foreach(json_object_get(m->event, "Object"), i, o) json_array_foreach(
        json_object_get(o, "Attribute"), j,
        oa) if (json_array_append(m->attrs, oa) ||
                json_array_append(m->owner, o)) return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0,
                                                                     "out of memory");
    if (json_array_size(m->attrs) > LIA_MAX_SHARE_OBJECTS)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "more than %d attributes in one MISP event",
                             LIA_MAX_SHARE_OBJECTS);
    return LIA_OK;
}

/* The value of attribute a when it names malware (type malware-type, or a
 * text whose object relation is the family), into out if out is empty. */
static void attr_malware(json_t *a, char *out, size_t cap)
{
    size_t n = 0, rn = 0;
    const char *t = lia__json_str(a, "type", NULL), *v = lia__json_str(a, "value", &n),
               *rel = lia__json_str(a, "object_relation", &rn);
    int names = t && (strcmp(t, "malware-type") == 0 ||
                      (rel && (strcmp(rel, "malware-family") == 0 || strcmp(rel, "malware_family") == 0 ||
                               strcmp(rel, "family") == 0)));
    if (out[0] || !names || !v || !n || n >= cap)
        return;
    memcpy(out, v, n);
    out[n] = '\0';
}

/* Attributes that name malware: the first such value into out. */
static void text_malware(json_t *attrs, char *out, size_t cap)
{
    size_t i;
    json_t *a;
    json_array_foreach(attrs, i, a) attr_malware(a, out, cap);
}

/* A member looked up in an object's text: key as its JSON text with the
 * quotes; v and vend the span of its first value, NULL when absent. */
typedef struct jmember {
    const char *key;
    const char *v, *vend;
} jmember;

/* Walk the object at p once, setting each of the nk members. The end of the
 * object, or NULL when the splitter cannot walk it. */
static const char *members(const char *p, const char *e, jmember *k, size_t nk)
{
    p = lia__json_skip_ws(p, e);
    if (p >= e || *p != '{')
        return NULL;
    p = lia__json_skip_ws(p + 1, e);
    if (p < e && *p == '}')
        return p + 1;
    for (;;) {
        const char *kend = p < e && *p == '"' ? lia__json_skip_value(p, e) : NULL, *x, *xend;
        if (!kend)
            return NULL;
        x = lia__json_skip_ws(kend, e);
        if (x >= e || *x != ':')
            return NULL;
        x = lia__json_skip_ws(x + 1, e);
        if (!(xend = lia__json_skip_value(x, e)) || xend == x)
            return NULL;
        for (size_t i = 0; i < nk; i++)
            if (!k[i].v && (size_t)(kend - p) == strlen(k[i].key) &&
                memcmp(p, k[i].key, (size_t)(kend - p)) == 0) {
                k[i].v = x;
                k[i].vend = xend;
            }
        p = lia__json_skip_ws(xend, e);
        if (p < e && *p == '}')
            return p + 1;
        if (p >= e || *p != ',')
            return NULL;
        p = lia__json_skip_ws(p + 1, e);
    }
}

/* The event parsed with its own "Attribute" array cut out of the text
 * (m->root, small), the attributes kept as spans of the text and each
 * parsed on its own: once here (the malware they name; a part that is not
 * JSON sends the document to the whole path, which says where) and again
 * when its record is read. A tree of the whole event costs up to 25 times
 * its text (docs/security.md). 1 done, 0 not a document the splitter takes
 * (nothing kept), LIA_ENOMEM. */
static int split_event(misp *m)
{
    const char *base = m->doc.ptr, *e, *end, *a, *aend;
    jmember top[2] = {{"\"Event\"", NULL, NULL}, {"\"Attribute\"", NULL, NULL}},
            in = {"\"Attribute\"", NULL, NULL};
    char *cut;
    size_t before, after;
    json_error_t je;
    int oom = 0;
    if (!base)
        return 0;
    e = base + m->doc.len;
    end = members(base, e, top, 2);
    if (!end || lia__json_skip_ws(end, e) != e) /* trailing text: the whole path says so */
        return 0;
    if (top[0].v && *top[0].v == '{') { /* {"Event": {...}}; else the event itself */
        if (!members(top[0].v, top[0].vend, &in, 1))
            return 0;
        a = in.v;
        aend = in.vend;
    } else {
        a = top[1].v;
        aend = top[1].vend;
    }
    if (!a || *a != '[')
        return 0;
    if (!lia__json_split_array(base, a, aend, &m->sp, LIA_MAX_SHARE_OBJECTS, &oom))
        goto no;
    before = (size_t)(a - base);
    after = (size_t)(e - aend);
    if (!(cut = malloc(before + 2 + after)))
        goto oom;
    memcpy(cut, base, before);
    memcpy(cut + before, "[]", 2);
    memcpy(cut + before + 2, aend, after);
    m->root = json_loadb(cut, before + 2 + after, JSON_REJECT_DUPLICATES, &je);
    free(cut);
    if (!m->root) {
        if (lia__json_oom(&je))
            goto oom;
        goto no;
    }
    for (size_t i = 0; i < m->sp.n; i++) {
        json_t *o =
            json_loadb(base + m->sp.v[i].off, m->sp.v[i].len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
        if (!o) {
            if (lia__json_oom(&je))
                goto oom;
            goto no;
        }
        if (json_is_object(o))
            attr_malware(o, m->ev_malware_text, sizeof m->ev_malware_text);
        json_decref(o);
    }
    m->split = 1;
    return 1;
oom:
    oom = 1;
no:
    json_decref(m->root);
    m->root = NULL;
    free(m->sp.v);
    m->sp = (lia__spans){0};
    return oom ? LIA_ENOMEM : 0;
}

static int misp_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    misp *m = st;
    json_error_t je;
    size_t i;
    json_t *a;
    int rc;
    if (m->done)
        return LIA_OK;
    if ((rc = lia__doc_append(&m->doc, buf, len, "MISP", err)))
        return rc;
    if (!eof)
        return LIA_OK;
    m->done = 1;
    if ((rc = split_event(m)) < 0)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory reading the MISP event");
    if (!m->split)
        m->root = json_loadb(m->doc.ptr ? m->doc.ptr : "", m->doc.len, JSON_REJECT_DUPLICATES, &je);
    if (!m->root && lia__json_oom(&je))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory reading the MISP event");
    if (!m->root) {
        snprintf(m->why, sizeof m->why, "not JSON: %s at line %d column %d", je.text, je.line, je.column);
        goto bad;
    }
    m->event = json_object_get(m->root, "Event");
    if (!json_is_object(m->event))
        m->event = m->root;
    if (!json_is_object(m->event) ||
        (!json_object_get(m->event, "Attribute") && !json_object_get(m->event, "Object") &&
         !json_object_get(m->event, "info") && !json_object_get(m->event, "uuid"))) {
        snprintf(
            m->why, sizeof m->why,
            "not a MISP event ({\"Event\": {...}} with Attribute/Object; for a feed give the directory)");
        goto bad;
    }
    read_tags_full(json_object_get(m->event, "Tag"), &m->ev_tlp, &m->ev_class, &m->ev_rank, m->ev_malware,
                   sizeof m->ev_malware);
    galaxy_malware(json_object_get(m->event, "Galaxy"), m->ev_malware, sizeof m->ev_malware);
    if ((rc = flatten(m, err)))
        return rc;
    if (m->sp.n + json_array_size(m->attrs) > LIA_MAX_SHARE_OBJECTS)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "more than %d attributes in one MISP event",
                             LIA_MAX_SHARE_OBJECTS);
    if (!m->ev_malware[0]) /* a top-level attribute that names the malware */
        text_malware(json_object_get(m->event, "Attribute"), m->ev_malware, sizeof m->ev_malware);
    if (!m->ev_malware[0])
        memcpy(m->ev_malware, m->ev_malware_text, sizeof m->ev_malware);
    for (size_t k = 0; k < m->sp.n; k++) { /* raw: the attribute's text in doc, which stays */
        lia_slice raw = {m->doc.ptr + m->sp.v[k].off, m->sp.v[k].len};
        int obj = raw.ptr[0] == '{';
        if ((rc = lia__records_add(out, k + 1, raw, NULL, 0, obj ? 0 : LIA_EPARSE,
                                   obj ? NULL : "a MISP attribute must be a JSON object", 0)))
            return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
    }
    json_array_foreach(m->attrs, i, a)
    {
        char *raw = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!raw)
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        rc = lia__records_add(out, m->sp.n + i + 1, (lia_slice){raw, strlen(raw)}, NULL, 0,
                              json_is_object(a) ? 0 : LIA_EPARSE,
                              json_is_object(a) ? NULL : "a MISP attribute must be a JSON object", 1);
        free(raw);
        if (rc)
            return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
    }
    if (!m->split)
        lia_buf_free(&m->doc);
    return LIA_OK;
bad : {
    size_t n = m->doc.len < 4096 ? m->doc.len : 4096;
    rc = lia__records_add(out, 1, (lia_slice){m->doc.ptr ? m->doc.ptr : "", n}, NULL, 0, LIA_EPARSE, m->why,
                          1);
    return rc ? lia_error_set(err, rc, NULL, NULL, 0, "out of memory") : LIA_OK;
}
}

static int set_ip(lia_event *ev, lia_field ip, lia_field net, const char *v, size_t n, lia_error *err)
{
    return lia_event_set(ev, memchr(v, '/', n) ? net : ip, v, n, err);
}

/* "A|B" split at the first '|' */
static int split(const char *v, size_t n, lia_slice *a, lia_slice *b)
{
    const char *bar = memchr(v, '|', n);
    if (!bar)
        return -1;
    *a = (lia_slice){v, (size_t)(bar - v)};
    *b = (lia_slice){bar + 1, n - (size_t)(bar - v) - 1};
    return 0;
}

static int hash_type(const char *t, lia_field *f)
{
    if (strcmp(t, "md5") == 0)
        *f = LIA_F_MALWARE_HASH_MD5;
    else if (strcmp(t, "sha1") == 0)
        *f = LIA_F_MALWARE_HASH_SHA1;
    else if (strcmp(t, "sha256") == 0)
        *f = LIA_F_MALWARE_HASH_SHA256;
    else
        return 0;
    return 1;
}

/* MISP attribute types that are one value of one event field. */
static const struct {
    const char *type;
    lia_field f;
} simple_types[] = {
    {"AS", LIA_F_SOURCE_ASN},
    {"email", LIA_F_SOURCE_ACCOUNT},
    {"email-src", LIA_F_SOURCE_ACCOUNT},
    {"email-dst", LIA_F_DESTINATION_ACCOUNT},
    {"target-email", LIA_F_DESTINATION_ACCOUNT},
    {"port", LIA_F_SOURCE_PORT},
    {"target-machine", LIA_F_DESTINATION_LOCAL_HOSTNAME},
    {"target-user", LIA_F_DESTINATION_ACCOUNT},
    {"whois-registrant-email", LIA_F_SOURCE_ABUSE_CONTACT},
    {"url-path", LIA_F_SOURCE_URLPATH},
};

/* Context: not an observable, no event (counted), e.g. a reference link. */
static const char *const context_types[] = {"link",
                                            "comment",
                                            "text",
                                            "other",
                                            "malware-type",
                                            "attachment",
                                            "campaign-name",
                                            "threat-actor",
                                            "datetime",
                                            "counter",
                                            "float",
                                            "boolean",
                                            "cpe",
                                            "vulnerability",
                                            "weakness",
                                            "stix2-pattern",
                                            "yara",
                                            "sigma",
                                            "snort",
                                            "pattern-in-file",
                                            "pattern-in-traffic",
                                            "pattern-in-memory",
                                            "full-name",
                                            "first-name",
                                            "last-name",
                                            "phone-number",
                                            "size-in-bytes",
                                            "hex"};

static int attribute(misp *m, json_t *a, json_t *owner, lia_event *ev, lia_error *err)
{
    size_t n = 0, tn = 0;
    const char *type = lia__json_str(a, "type", &tn), *v = lia__json_str(a, "value", &n), *s;
    lia_slice x, y;
    lia_field hf;
    char malware[LIA_MAX_STRING];
    int rc, tlp = m->ev_tlp, cls = m->ev_class, rank = m->ev_rank;
    if (!type || !v)
        return lia_error_set(err, LIA_EINVAL, "type", NULL, 0, "MISP attribute without type or value");
    for (size_t i = 0; i < sizeof context_types / sizeof context_types[0]; i++)
        if (strcmp(type, context_types[i]) == 0)
            return LIA_ENOTFOUND; /* context, not an observable */
    rc = LIA_EUNSUPPORTED;
    for (size_t i = 0; i < sizeof simple_types / sizeof simple_types[0]; i++)
        if (strcmp(type, simple_types[i].type) == 0)
            rc = lia_event_set(ev, simple_types[i].f, v, n, err);
    if (rc != LIA_EUNSUPPORTED)
        ;
    else if (strcmp(type, "ip-src") == 0 || strcmp(type, "ip-dst") == 0)
        rc = set_ip(ev, LIA_F_SOURCE_IP, LIA_F_SOURCE_NETWORK, v, n, err);
    else if (strcmp(type, "ip-src|port") == 0 || strcmp(type, "ip-dst|port") == 0) {
        if (split(v, n, &x, &y))
            return lia_error_set(err, LIA_EINVAL, "value", v, n, "%s value without '|'", type);
        if (!(rc = set_ip(ev, LIA_F_SOURCE_IP, LIA_F_SOURCE_NETWORK, x.ptr, x.len, err)))
            rc = lia_event_set(ev, LIA_F_SOURCE_PORT, y.ptr, y.len, err);
    } else if (strcmp(type, "domain") == 0 || strcmp(type, "hostname") == 0)
        rc = lia_event_set(ev, LIA_F_SOURCE_FQDN, v, n, err);
    else if (strcmp(type, "domain|ip") == 0 || strcmp(type, "hostname|port") == 0) {
        if (split(v, n, &x, &y))
            return lia_error_set(err, LIA_EINVAL, "value", v, n, "%s value without '|'", type);
        if (!(rc = lia_event_set(ev, LIA_F_SOURCE_FQDN, x.ptr, x.len, err)))
            rc = type[0] == 'd' ? set_ip(ev, LIA_F_SOURCE_IP, LIA_F_SOURCE_NETWORK, y.ptr, y.len, err)
                                : lia_event_set(ev, LIA_F_SOURCE_PORT, y.ptr, y.len, err);
    } else if (strcmp(type, "url") == 0 || strcmp(type, "uri") == 0)
        rc = lia_event_set(ev, LIA_F_SOURCE_URL, v, n, err);
    else if (hash_type(type, &hf))
        rc = lia_event_set(ev, hf, v, n, err);
    else if (strncmp(type, "filename|", 9) == 0 && hash_type(type + 9, &hf)) {
        if (split(v, n, &x, &y))
            return lia_error_set(err, LIA_EINVAL, "value", v, n, "%s value without '|'", type);
        rc = lia_event_set(ev, hf, y.ptr, y.len, err);
        if (!rc && x.len)
            rc = lia_event_extra_str(ev, "misp_filename", 13, x.ptr, x.len, err);
    } else if (strcmp(type, "malware-sample") == 0) {
        if (split(v, n, &x, &y))
            return lia_error_set(err, LIA_EINVAL, "value", v, n, "%s value without '|'", type);
        rc = lia_event_set(ev, LIA_F_MALWARE_HASH_MD5, y.ptr, y.len, err);
        if (!rc && x.len)
            rc = lia_event_extra_str(ev, "misp_filename", 13, x.ptr, x.len, err);
    } else
        return lia_error_set(err, LIA_EUNSUPPORTED, "type", type, tn,
                             "MISP attribute type not mapped (no event field holds a %.*s)", (int)tn, type);
    if (rc)
        return rc;
    /* the malware: the attribute's galaxies or tags, its object's, the event's */
    malware[0] = '\0';
    read_tags_full(json_object_get(a, "Tag"), &tlp, &cls, &rank, malware, sizeof malware);
    galaxy_malware(json_object_get(a, "Galaxy"), malware, sizeof malware);
    if (!malware[0] && json_is_object(owner))
        text_malware(json_object_get(owner, "Attribute"), malware, sizeof malware);
    if (!malware[0])
        snprintf(malware, sizeof malware, "%s", m->ev_malware);
    if (malware[0] && (rc = lia_event_set(ev, LIA_F_MALWARE_NAME, malware, strlen(malware), err)))
        return rc;
    if (tlp >= 0)
        lia_event_set_i(ev, LIA_F_TLP, tlp);
    if (cls >= 0) {
        lia_event_set_i(ev, LIA_F_CLASSIFICATION_TYPE, cls);
        lia_event_set_i(ev, LIA_F_CLASSIFICATION_TAXONOMY, lia__class_type_taxonomy(cls));
    }
    if ((s = lia__json_str(a, "uuid", &n)) && (rc = lia_event_set(ev, LIA_F_MISP_ATTRIBUTE_UUID, s, n, err)))
        return rc;
    if ((s = lia__json_str(m->event, "uuid", &n)) &&
        (rc = lia_event_set(ev, LIA_F_MISP_EVENT_UUID, s, n, err)))
        return rc;
    if ((s = lia__json_str(a, "timestamp", &n)) && n) {
        int64_t secs;
        if (lia__parse_int(s, n, &secs, NULL) == 0 && secs > 0 && secs < 253402300800LL)
            lia_event_set_i(ev, LIA_F_TIME_SOURCE, secs * 1000000);
    } else if (json_is_integer(json_object_get(a, "timestamp"))) {
        json_int_t secs = json_integer_value(json_object_get(a, "timestamp"));
        if (secs > 0 && secs < 253402300800LL)
            lia_event_set_i(ev, LIA_F_TIME_SOURCE, (int64_t)secs * 1000000);
    }
    if ((s = lia__json_str(a, "comment", &n)) && n && (rc = lia_event_set(ev, LIA_F_COMMENT, s, n, err)))
        return rc;
    if ((s = lia__json_str(m->event, "info", &n)) && n &&
        (rc = lia_event_set(ev, LIA_F_EVENT_DESCRIPTION_TEXT, s, n, err)))
        return rc;
    if ((s = lia__json_str(a, "category", &n)) && n &&
        (rc = lia_event_extra_str(ev, "misp_category", 13, s, n, err)))
        return rc;
    if ((rc = lia_event_extra_str(ev, "misp_type", 9, type, tn, err)))
        return rc;
    if (json_is_false(json_object_get(a, "to_ids")) &&
        (rc = lia_event_extra_json(ev, "misp_to_ids", 11, "false", 5, err)))
        return rc;
    if ((s = lia__json_str(json_object_get(m->event, "Orgc"), "name", &n)) && n &&
        (rc = lia_event_extra_str(ev, "misp_org", 8, s, n, err)))
        return rc;
    return LIA_OK;
}

static int misp_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev, lia_error *err)
{
    misp *m = st;
    json_t *a;
    size_t k;
    int rc;
    (void)rs;
    if (r->line == 0)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "not a MISP attribute");
    k = (size_t)(r->line - 1);
    if (k >= m->sp.n) { /* an attribute of an object, or of an event read whole */
        a = json_array_get(m->attrs, k - m->sp.n);
        if (!json_is_object(a))
            return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "not a MISP attribute");
        if (json_is_true(json_object_get(a, "deleted")))
            return LIA_ENOTFOUND;
        return attribute(m, a, json_array_get(m->owner, k - m->sp.n), ev, err);
    }
    a = json_loadb(m->doc.ptr + m->sp.v[k].off, m->sp.v[k].len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                   NULL);
    if (!a) /* it was parsed at split time: only memory can fail here */
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory reading a MISP attribute");
    if (!json_is_object(a))
        rc = lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "not a MISP attribute");
    else if (json_is_true(json_object_get(a, "deleted")))
        rc = LIA_ENOTFOUND;
    else
        rc = attribute(m, a, NULL, ev, err);
    json_decref(a);
    return rc;
}

const lia_format lia_format_misp = {
    .name = "misp",
    .summary = "MISP event JSON (a feed directory: give the directory)",
    .open = misp_open,
    .parse = misp_parse,
    .normalise = misp_normalise,
    .close = misp_close,
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int lia__misp_manifest_each(const char *dir, json_t *man, const char *where, lia_path_cb cb, void *ud,
                            lia_error *err)
{
    char p[LIA_PATH_MAX];
    json_t *v;
    const char *k, **keys = NULL;
    size_t nk = 0, i;
    uint8_t u[16];
    int rc = LIA_OK;
    if (!json_is_object(man))
        return lia_error_set(err, LIA_EPARSE, NULL, where, strlen(where), "manifest is not a JSON object");
    keys = calloc(json_object_size(man) + 1, sizeof *keys);
    if (!keys)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    json_object_foreach(man, k, v)
    {
        /* keys name files: only a UUID is accepted (no path tricks) */
        if (lia__uuid_parse(k, strlen(k), u) != 0) {
            rc = lia_error_set(err, LIA_EPARSE, "manifest", k, strlen(k), "event key is not a UUID");
            goto out;
        }
        keys[nk++] = k;
    }
    qsort(keys, nk, sizeof *keys, cmp_str);
    for (i = 0; i < nk; i++) {
        if (snprintf(p, sizeof p, "%s/%s.json", dir, keys[i]) >= (int)sizeof p) {
            rc = lia_error_set(err, LIA_EINVAL, NULL, dir, strlen(dir), "path too long");
            goto out;
        }
        if ((rc = cb(ud, p)))
            goto out;
    }
out:
    free(keys);
    return rc;
}

int lia_misp_feed_files(const char *dir, lia_path_cb cb, void *ud, lia_error *err)
{
    char p[LIA_PATH_MAX];
    lia_buf text;
    json_error_t je;
    json_t *man;
    int rc;
    if (snprintf(p, sizeof p, "%s/manifest.json", dir) >= (int)sizeof p)
        return lia_error_set(err, LIA_EINVAL, NULL, dir, strlen(dir), "path too long");
    if ((rc = lia__file_read(p, LIA_MAX_SHARE_DOC, &text, err)))
        return rc;
    man = json_loadb(text.ptr, text.len, JSON_REJECT_DUPLICATES, &je);
    lia_buf_free(&text);
    if (!man)
        return lia_error_set(err, LIA_EPARSE, NULL, p, strlen(p), "manifest: %s (line %d)", je.text, je.line);
    rc = lia__misp_manifest_each(dir, man, p, cb, ud, err);
    json_decref(man);
    return rc;
}
