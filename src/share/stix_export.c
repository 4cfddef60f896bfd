/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* STIX 2.1 export: events -> one bundle, streamed (see liaison/stix.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/limits.h"
#include "liaison/stix.h"
#include "share/share.h"
#include "core/field_internal.h"

/* STIX 2.1 section 2.9: namespace of deterministic SCO identifiers. */
static const uint8_t stix_ns[16] = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
                                    0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};
#define IDENTITY_CREATED "2020-01-01T00:00:00.000Z"
#define TLP_CREATED "2022-10-01T00:00:00.000Z"
#define TLP_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
/* The Liaison event extension's definition (published with every bundle
 * that uses it; its content only changes with a new version and id). */
#define EXT_CREATED      "2026-12-03T00:00:00.000Z"
#define LIAISON_IDENTITY "identity--ff8fa24b-b1fd-5de8-a62a-fbb82548d233" /* UUIDv5 "identity:Liaison" */

typedef struct idset { /* open-addressing set of 16-byte ids */
    uint8_t (*k)[16];
    size_t n, cap;
} idset;

struct lia_stix_export {
    lia_stix_opts o;
    char *producer, *incident, *incident_desc;
    lia_sink_fn sink;
    void *ud;
    uint8_t ns[16];      /* Liaison namespace for indicator/sighting/identity ids */
    char identity[64];   /* "identity--..." */
    lia_buf out;         /* objects of one event */
    idset scos;
    uint8_t (*ind)[16];  /* indicator ids, for the incident */
    size_t nind, capind;
    unsigned tlp_used;   /* bit per TLP */
    int max_tlp;         /* strictest TLP of the incident's indicators, -1: none */
    int ext_used;        /* an object carries the Liaison event extension */
    uint64_t objects, skipped;
    int started, finished;
    char first[37];      /* first indicator's uuid (for the bundle id) */
    lia_buf pat;
    lia_buf scratch;     /* canonical SCO text, id keys */
};

static uint64_t h64(const uint8_t k[16])
{
    uint64_t h;
    memcpy(&h, k, 8);
    return h ^ (h >> 29);
}

/* 1 if inserted, 0 if present, <0 on error */
static int idset_add(idset *s, const uint8_t k[16])
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        uint8_t(*nk)[16] = calloc(ncap, 16);
        if (!nk)
            return LIA_ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            static const uint8_t zero[16];
            if (memcmp(s->k[i], zero, 16) == 0)
                continue;
            size_t j = h64(s->k[i]) & (ncap - 1);
            while (memcmp(nk[j], zero, 16) != 0)
                j = (j + 1) & (ncap - 1);
            memcpy(nk[j], s->k[i], 16);
        }
        free(s->k);
        s->k = nk;
        s->cap = ncap;
    }
    static const uint8_t zero[16];
    size_t j = h64(k) & (s->cap - 1);
    while (memcmp(s->k[j], zero, 16) != 0) {
        if (memcmp(s->k[j], k, 16) == 0)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    memcpy(s->k[j], k, 16);
    s->n++;
    return 1;
}

int lia_stix_export_create(const lia_stix_opts *o, lia_sink_fn sink, void *ud,
                           lia_stix_export **out, lia_error *err)
{
    lia_stix_export *x;
    const char *prod = o && o->producer ? o->producer : "Liaison";
    char u[37];
    lia_buf nb;
    if (!*prod)
        return lia_error_set(err, LIA_EINVAL, "producer", NULL, 0, "the producer name is empty");
    if (!lia__utf8_valid(prod, strlen(prod)) || strlen(prod) > 256)
        return lia_error_set(err, LIA_EINVAL, "producer", prod, strlen(prod),
                             "not valid UTF-8 of at most 256 bytes");
    x = calloc(1, sizeof *x);
    if (!x)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (o)
        x->o = *o;
    x->producer = lia__share_strdup(prod);
    x->incident = o ? lia__share_strdup(o->incident) : NULL;
    x->incident_desc = o ? lia__share_strdup(o->incident_description) : NULL;
    if (!x->producer || (o && o->incident && !x->incident) ||
        (o && o->incident_description && !x->incident_desc)) {
        lia_stix_export_destroy(x);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    if (!x->o.now_us)
        x->o.now_us = (int64_t)time(NULL) * 1000000;
    x->sink = sink;
    x->ud = ud;
    x->max_tlp = -1;
    /* Liaison's namespace: UUIDv5("liaison") in the STIX namespace */
    lia__uuid5(stix_ns, "liaison", 7, u);
    lia__uuid_parse(u, 36, x->ns);
    lia_buf_init(&nb, 512);
    lia_buf_printf(&nb, "identity:%s", x->producer);
    lia__uuid5(x->ns, nb.ptr, nb.len, u);
    lia_buf_free(&nb);
    snprintf(x->identity, sizeof x->identity, "identity--%s", u);
    lia_buf_init(&x->out, (size_t)LIA_MAX_EVENT_TEXT * 8);
    lia_buf_init(&x->pat, (size_t)LIA_MAX_EVENT_TEXT * 2);
    lia_buf_init(&x->scratch, (size_t)LIA_MAX_EVENT_TEXT * 2);
    *out = x;
    return LIA_OK;
}

void lia_stix_export_destroy(lia_stix_export *x)
{
    if (!x)
        return;
    free(x->producer);
    free(x->incident);
    free(x->incident_desc);
    free(x->scos.k);
    free(x->ind);
    lia_buf_free(&x->out);
    lia_buf_free(&x->pat);
    lia_buf_free(&x->scratch);
    free(x);
}

uint64_t lia_stix_export_objects(const lia_stix_export *x) { return x->objects; }
uint64_t lia_stix_export_skipped(const lia_stix_export *x) { return x->skipped; }

static int emit(lia_stix_export *x, lia_error *err);

static void put_time(lia_buf *b, const char *key, int64_t us)
{
    char t[48];
    size_t n = lia__time_z(us, t, sizeof t);
    lia_buf_puts(b, ",\"");
    lia_buf_puts(b, key);
    lia_buf_puts(b, "\":\"");
    lia_buf_append(b, t, n);
    lia_buf_putc(b, '"');
}

/* A pattern string literal: ' and \ escaped (STIX patterning 9.3). */
static void pat_str(lia_buf *b, const char *s, size_t n)
{
    lia_buf_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            lia_buf_putc(b, '\\');
        lia_buf_putc(b, s[i]);
    }
    lia_buf_putc(b, '\'');
}

static void obj_begin(lia_stix_export *x, const char *type, const char *id_prefix, const char *uuid)
{
    if (x->objects)
        lia_buf_putc(&x->out, ',');
    lia_buf_puts(&x->out, "\n{\"type\":\"");
    lia_buf_puts(&x->out, type);
    lia_buf_puts(&x->out, "\",\"spec_version\":\"2.1\",\"id\":\"");
    lia_buf_puts(&x->out, id_prefix);
    lia_buf_puts(&x->out, "--");
    lia_buf_append(&x->out, uuid, 36);
    lia_buf_putc(&x->out, '"');
    x->objects++;
}

static void marking_ref(lia_stix_export *x, int tlp)
{
    if (tlp < 0)
        return;
    lia_buf_puts(&x->out, ",\"object_marking_refs\":[\"");
    lia_buf_puts(&x->out, lia__tlp2_marking_id(tlp));
    lia_buf_puts(&x->out, "\"]");
    x->tlp_used |= 1u << tlp;
}

/* Emit an SCO (once per bundle). kind: "ipv4-addr" ...; canon is the JCS
 * text of its id-contributing properties, body the same properties. */
static int sco(lia_stix_export *x, const char *kind, const char *canon, size_t clen, int tlp,
               char id_out[80])
{
    char u[37];
    uint8_t k[16];
    int rc;
    lia__uuid5(stix_ns, canon, clen, u);
    snprintf(id_out, 80, "%s--%s", kind, u);
    lia__uuid_parse(u, 36, k);
    /* distinguish kinds sharing a canonical text (none do today; cheap) */
    k[0] ^= (uint8_t)kind[0];
    k[1] ^= (uint8_t)strlen(kind);
    rc = idset_add(&x->scos, k);
    if (rc <= 0)
        return rc;
    obj_begin(x, kind, kind, u);
    lia_buf_putc(&x->out, ',');
    lia_buf_append(&x->out, canon + 1, clen - 2); /* properties without the braces */
    marking_ref(x, tlp);
    lia_buf_putc(&x->out, '}');
    return LIA_OK;
}

static int sco_value(lia_stix_export *x, const char *kind, const char *v, size_t n, int tlp)
{
    lia_buf *c = &x->scratch;
    char id[80];
    lia_buf_reset(c);
    lia_buf_puts(c, "{\"value\":");
    lia_buf_json_str(c, v, n);
    lia_buf_putc(c, '}');
    return c->err ? c->err : sco(x, kind, c->ptr, c->len, tlp, id);
}

typedef struct obs {
    char ip[64];
    int ipv6, has_ip, port;
    char net[64];
    int has_net, netv6;
    lia_slice fqdn, url;
} obs;

static int side(const lia_event *ev, int dst, obs *o)
{
    lia_field fip = dst ? LIA_F_DESTINATION_IP : LIA_F_SOURCE_IP;
    lia_field fnet = dst ? LIA_F_DESTINATION_NETWORK : LIA_F_SOURCE_NETWORK;
    lia_field fport = dst ? LIA_F_DESTINATION_PORT : LIA_F_SOURCE_PORT;
    memset(o, 0, sizeof *o);
    o->port = -1;
    if (lia_event_has(ev, fip)) {
        lia_ip_format(&ev->v[fip].ip, 0, o->ip, sizeof o->ip);
        o->ipv6 = ev->v[fip].ip.family == 6;
        o->has_ip = 1;
        if (lia_event_has(ev, fport))
            o->port = (int)ev->v[fport].i;
    } else if (lia_event_has(ev, fnet)) {
        lia_ip_format(&ev->v[fnet].ip, 1, o->net, sizeof o->net);
        o->netv6 = ev->v[fnet].ip.family == 6;
        o->has_net = 1;
    }
    o->fqdn = lia_event_str(ev, dst ? LIA_F_DESTINATION_FQDN : LIA_F_SOURCE_FQDN);
    o->url = lia_event_str(ev, dst ? LIA_F_DESTINATION_URL : LIA_F_SOURCE_URL);
    return o->has_ip || o->has_net || o->fqdn.ptr || o->url.ptr;
}

static void pat_or(lia_buf *p)
{
    if (p->len)
        lia_buf_puts(p, " OR ");
}

static const char *indicator_type(const lia_event *ev)
{
    if (!lia_event_has(ev, LIA_F_CLASSIFICATION_TAXONOMY))
        return "unknown";
    const char *t = lia__class_taxonomy_name((int)ev->v[LIA_F_CLASSIFICATION_TAXONOMY].i);
    if (strcmp(t, "vulnerable") == 0 || strcmp(t, "information-gathering") == 0)
        return "anomalous-activity";
    if (strcmp(t, "test") == 0 || strcmp(t, "other") == 0)
        return "unknown";
    return "malicious-activity";
}

/* Integer or time from extra.KEY (JSON number or RFC 3339 string). */
static int extra_num(const lia_event *ev, const char *key, int is_time, int64_t *out)
{
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < ev->nextra; i++) {
        const lia_extra *e = &ev->extra[i];
        const char *k = ev->text.ptr + e->koff, *v = ev->text.ptr + e->voff;
        if (e->klen != kl || memcmp(k, key, kl) != 0)
            continue;
        if (is_time)
            return e->vlen >= 2 && v[0] == '"' && lia_parse_time(v + 1, e->vlen - 2, out, NULL) == 0;
        if (e->vlen >= 2 && v[0] == '"') /* "5" as well as 5 */
            return lia__parse_int(v + 1, e->vlen - 2, out, NULL) == 0;
        return lia__parse_int(v, e->vlen, out, NULL) == 0;
    }
    return 0;
}

int lia_stix_export_add(lia_stix_export *x, const lia_event *ev, lia_error *err)
{
    obs o;
    int tlp = lia_event_has(ev, LIA_F_TLP) ? (int)ev->v[LIA_F_TLP].i : -1;
    int rc = LIA_OK;
    char u[37], ind_id[64];
    lia_buf *p = &x->pat;
    int64_t created, valid, first, last, count = -1;
    static const struct {
        lia_field f;
        const char *key;
    } hashes[] = {{LIA_F_MALWARE_HASH_MD5, "MD5"},
                  {LIA_F_MALWARE_HASH_SHA1, "'SHA-1'"},
                  {LIA_F_MALWARE_HASH_SHA256, "'SHA-256'"}};

    if (x->finished)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "bundle already finished");
    lia_buf_reset(&x->out);
    lia_buf_reset(p);
    if (!side(ev, 0, &o))
        side(ev, 1, &o);
    /* pattern */
    if (o.has_ip && o.port >= 0) {
        lia_buf_printf(p, "[network-traffic:dst_ref.type = '%s' AND network-traffic:dst_ref.value = ",
                       o.ipv6 ? "ipv6-addr" : "ipv4-addr");
        pat_str(p, o.ip, strlen(o.ip));
        lia_buf_printf(p, " AND network-traffic:dst_port = %d]", o.port);
    } else if (o.has_ip || o.has_net) {
        int v6 = o.has_ip ? o.ipv6 : o.netv6;
        const char *v = o.has_ip ? o.ip : o.net;
        lia_buf_printf(p, "[%s:value = ", v6 ? "ipv6-addr" : "ipv4-addr");
        pat_str(p, v, strlen(v));
        lia_buf_putc(p, ']');
    }
    if (o.fqdn.ptr) {
        pat_or(p);
        lia_buf_puts(p, "[domain-name:value = ");
        pat_str(p, o.fqdn.ptr, o.fqdn.len);
        lia_buf_putc(p, ']');
    }
    if (o.url.ptr) {
        pat_or(p);
        lia_buf_puts(p, "[url:value = ");
        pat_str(p, o.url.ptr, o.url.len);
        lia_buf_putc(p, ']');
    }
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
        lia_slice h = lia_event_str(ev, hashes[i].f);
        if (!h.ptr)
            continue;
        pat_or(p);
        lia_buf_printf(p, "[file:hashes.%s = ", hashes[i].key);
        pat_str(p, h.ptr, h.len);
        lia_buf_putc(p, ']');
    }
    if (p->err)
        return lia_error_set(err, p->err, NULL, NULL, 0, "pattern too long");
    if (!p->len) {
        x->skipped++;
        return LIA_ENOTFOUND;
    }

    /* SCOs */
    if (o.has_ip && (rc = sco_value(x, o.ipv6 ? "ipv6-addr" : "ipv4-addr", o.ip, strlen(o.ip), tlp)))
        goto out;
    if (o.has_net && (rc = sco_value(x, o.netv6 ? "ipv6-addr" : "ipv4-addr", o.net, strlen(o.net), tlp)))
        goto out;
    if (o.fqdn.ptr && (rc = sco_value(x, "domain-name", o.fqdn.ptr, o.fqdn.len, tlp)))
        goto out;
    if (o.url.ptr && (rc = sco_value(x, "url", o.url.ptr, o.url.len, tlp)))
        goto out;
    {
        lia_field fa = lia_event_has(ev, LIA_F_SOURCE_ASN) ? LIA_F_SOURCE_ASN : LIA_F_DESTINATION_ASN;
        if (lia_event_has(ev, fa)) {
            char canon[48], id[80];
            int n = snprintf(canon, sizeof canon, "{\"number\":%lld}", (long long)ev->v[fa].i);
            size_t before = x->out.len;
            uint64_t objs = x->objects;
            if ((rc = sco(x, "autonomous-system", canon, (size_t)n, tlp, id)) < 0)
                goto out;
            /* add the AS name to a newly written object */
            lia_slice asn = lia_event_str(ev, fa == LIA_F_SOURCE_ASN ? LIA_F_SOURCE_AS_NAME
                                                                      : LIA_F_DESTINATION_AS_NAME);
            if (objs != x->objects && asn.ptr && x->out.len > before) {
                x->out.len--; /* drop '}' */
                lia_buf_puts(&x->out, ",\"name\":");
                lia_buf_json_str(&x->out, asn.ptr, asn.len);
                lia_buf_putc(&x->out, '}');
            }
            rc = LIA_OK;
        }
    }

    /* indicator: id from producer + event id (or the event's content) */
    {
        lia_buf *key = &x->scratch;
        lia_buf_reset(key);
        if (ev->id)
            lia_buf_printf(key, "indicator:%s:%lld", x->producer, (long long)ev->id);
        else {
            lia_buf_printf(key, "indicator:%s:", x->producer);
            lia_event_to_json(ev, key);
        }
        lia__uuid5(x->ns, lia_buf_cstr(key), key->len, u);
    }
    snprintf(ind_id, sizeof ind_id, "indicator--%s", u);
    if (!x->first[0])
        memcpy(x->first, u, 37);
    if (x->o.incident) {
        if (x->nind == x->capind) {
            size_t nc = x->capind ? x->capind * 2 : 256;
            void *np = realloc(x->ind, nc * 16);
            if (!np) {
                rc = LIA_ENOMEM;
                goto out;
            }
            x->ind = np;
            x->capind = nc;
        }
        lia__uuid_parse(u, 36, x->ind[x->nind++]);
    }
    created = lia_event_has(ev, LIA_F_TIME_OBSERVATION) ? ev->v[LIA_F_TIME_OBSERVATION].i : x->o.now_us;
    valid = lia_event_has(ev, LIA_F_TIME_SOURCE) ? ev->v[LIA_F_TIME_SOURCE].i : created;
    obj_begin(x, "indicator", "indicator", u);
    lia_buf_puts(&x->out, ",\"created_by_ref\":\"");
    lia_buf_puts(&x->out, x->identity);
    lia_buf_putc(&x->out, '"');
    put_time(&x->out, "created", created);
    put_time(&x->out, "modified", created);
    {
        const char *cls = lia_event_has(ev, LIA_F_CLASSIFICATION_TYPE)
                              ? lia__class_type_name((int)ev->v[LIA_F_CLASSIFICATION_TYPE].i)
                              : "observable";
        lia_slice fn = lia_event_str(ev, LIA_F_FEED_NAME);
        lia_buf nm;
        lia_buf_init(&nm, LIA_MAX_STRING + 256);
        lia_buf_puts(&nm, cls);
        if (fn.ptr) {
            lia_buf_puts(&nm, " (");
            lia_buf_append(&nm, fn.ptr, fn.len);
            lia_buf_putc(&nm, ')');
        }
        lia_buf_puts(&x->out, ",\"name\":");
        lia_buf_json_str(&x->out, nm.ptr, nm.len);
        lia_buf_free(&nm);
    }
    {
        lia_slice d = lia_event_str(ev, LIA_F_EVENT_DESCRIPTION_TEXT);
        if (d.ptr) {
            lia_buf_puts(&x->out, ",\"description\":");
            lia_buf_json_str(&x->out, d.ptr, d.len);
        }
    }
    lia_buf_printf(&x->out, ",\"indicator_types\":[\"%s\"]", indicator_type(ev));
    lia_buf_puts(&x->out, ",\"pattern\":");
    lia_buf_json_str(&x->out, p->ptr, p->len);
    lia_buf_puts(&x->out, ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\"");
    put_time(&x->out, "valid_from", valid);
    marking_ref(x, tlp);
    if (tlp > x->max_tlp)
        x->max_tlp = tlp;
    /* the event as a STIX 2.1 property extension (section 7.3), not a
     * top-level custom property: strict parsers accept it */
    lia_buf_puts(&x->out, ",\"extensions\":{\"" LIA_STIX_EVENT_EXT "\":{"
                          "\"extension_type\":\"property-extension\",\"event\":");
    x->ext_used = 1;
    {
        /* the harmonised event without "raw" (the original report row stays
         * with us: a partner gets the fields, not our source's bytes) */
        size_t start = x->out.len;
        lia_event_to_json(ev, &x->out);
        if (lia_event_has(ev, LIA_F_RAW) && !x->out.err) {
            char *b = x->out.ptr + start, *e = x->out.ptr + x->out.len;
            char *k = memmem(b, (size_t)(e - b), "\"raw\":\"", 7);
            char *q = k ? memchr(k + 7, '"', (size_t)(e - (k + 7))) : NULL; /* base64: no quotes */
            if (k && q) {
                char *from = k, *to = q + 1;
                if (*to == ',')
                    to++;
                else if (from[-1] == ',')
                    from--;
                memmove(from, to, (size_t)(e - to));
                x->out.len -= (size_t)(to - from);
                x->out.ptr[x->out.len] = '\0';
            }
        }
    }
    lia_buf_puts(&x->out, "}}}");

    /* sighting */
    first = last = valid;
    /* the aggregate of the dedup stage first, else what a partner's sighting
     * brought in */
    if (!extra_num(ev, "dedup_first_seen", 1, &first))
        extra_num(ev, "first_seen", 1, &first);
    if (!extra_num(ev, "dedup_last_seen", 1, &last))
        extra_num(ev, "last_seen", 1, &last);
    if (last < first)
        last = first;
    if ((extra_num(ev, "dedup_count", 0, &count) || extra_num(ev, "count", 0, &count)) &&
        (count < 0 || count > 999999999))
        count = count < 0 ? 0 : 999999999;
    {
        char key[128];
        int kn = snprintf(key, sizeof key, "sighting:%s", ind_id);
        lia__uuid5(x->ns, key, (size_t)kn, u);
    }
    obj_begin(x, "sighting", "sighting", u);
    lia_buf_puts(&x->out, ",\"created_by_ref\":\"");
    lia_buf_puts(&x->out, x->identity);
    lia_buf_putc(&x->out, '"');
    put_time(&x->out, "created", created);
    put_time(&x->out, "modified", created);
    put_time(&x->out, "first_seen", first);
    put_time(&x->out, "last_seen", last);
    if (count >= 0)
        lia_buf_printf(&x->out, ",\"count\":%lld", (long long)count);
    lia_buf_puts(&x->out, ",\"sighting_of_ref\":\"");
    lia_buf_puts(&x->out, ind_id);
    lia_buf_puts(&x->out, "\",\"where_sighted_refs\":[\"");
    lia_buf_puts(&x->out, x->identity);
    lia_buf_puts(&x->out, "\"]");
    marking_ref(x, tlp);
    lia_buf_putc(&x->out, '}');

out:
    if (rc == LIA_ENOMEM)
        return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
    if (rc)
        return lia_error_set(err, rc, NULL, NULL, 0, "%s", lia_strerror(rc));
    if (x->out.err)
        return lia_error_set(err, x->out.err, NULL, NULL, 0, "event too large for one STIX object set");
    return emit(x, err);
}

static int emit(lia_stix_export *x, lia_error *err)
{
    static const char head[] = "{\"type\":\"bundle\",\"objects\":[";
    int rc;
    if (!x->started) {
        if ((rc = x->sink(x->ud, head, sizeof head - 1)))
            return lia_error_set(err, rc, NULL, NULL, 0, "writing the bundle failed");
        x->started = 1;
    }
    if (x->out.len && (rc = x->sink(x->ud, x->out.ptr, x->out.len)))
        return lia_error_set(err, rc, NULL, NULL, 0, "writing the bundle failed");
    lia_buf_reset(&x->out);
    return LIA_OK;
}

int lia_stix_export_finish(lia_stix_export *x, lia_error *err)
{
    char u[37], inc[64], t[48];
    int rc;
    lia_buf key;
    if (x->finished)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "bundle already finished");
    x->finished = 1;
    lia_buf_reset(&x->out);
    lia_buf_init(&key, 1024);
    /* identity of the producer */
    obj_begin(x, "identity", "identity", x->identity + 10);
    lia_buf_puts(&x->out, ",\"created\":\"" IDENTITY_CREATED "\",\"modified\":\"" IDENTITY_CREATED
                          "\",\"name\":");
    lia_buf_json_str(&x->out, x->producer, strlen(x->producer));
    lia_buf_puts(&x->out, ",\"identity_class\":\"organization\"}");
    if (x->ext_used) {
        /* the extension's definition, created by Liaison (the project's
         * identity, written here too unless it is the producer's) */
        if (strcmp(x->identity, LIAISON_IDENTITY) != 0) {
            obj_begin(x, "identity", "identity", &LIAISON_IDENTITY[10]);
            lia_buf_puts(&x->out, ",\"created\":\"" IDENTITY_CREATED "\",\"modified\":\"" IDENTITY_CREATED
                                  "\",\"name\":\"Liaison\",\"identity_class\":\"organization\"}");
        }
        obj_begin(x, "extension-definition", "extension-definition", &LIA_STIX_EVENT_EXT[22]);
        lia_buf_puts(&x->out,
                     ",\"created_by_ref\":\"" LIAISON_IDENTITY "\",\"created\":\"" EXT_CREATED
                     "\",\"modified\":\"" EXT_CREATED "\",\"name\":\"Liaison harmonised event\","
                     "\"description\":\"The event an indicator was made from, as Liaison harmonised it "
                     "(its fields without the source's raw report row).\","
                     "\"schema\":\"Property 'event': a JSON object whose keys are Liaison event field "
                     "names (IntelMQ harmonisation: source.ip, classification.type, time.source, tlp, "
                     "extra.* ...) and whose values are those fields' values as JSON strings, numbers or "
                     "arrays.\",\"version\":\"1.0\",\"extension_types\":[\"property-extension\"]}");
    }
    /* TLP 2.0 marking definitions used (official objects) */
    for (int tlp = 0; tlp <= LIA_TLP_RED; tlp++) {
        if (!(x->tlp_used & (1u << tlp)))
            continue;
        const char *id = lia__tlp2_marking_id(tlp);
        obj_begin(x, "marking-definition", "marking-definition", id + 20);
        lia_buf_printf(&x->out,
                       ",\"created\":\"" TLP_CREATED "\",\"name\":\"TLP:%s\",\"extensions\":{\"" TLP_EXT
                       "\":{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"%s\"}}}",
                       lia_tlp_name(tlp), lia__tlp_lower(tlp));
    }
    if ((rc = emit(x, err)))
        goto out;
    /* the incident that wraps the events */
    if (x->incident) {
        char iu[37];
        lia_buf_reset(&key);
        lia_buf_printf(&key, "incident:%s:%s", x->producer, x->incident);
        lia__uuid5(x->ns, key.ptr, key.len, iu);
        snprintf(inc, sizeof inc, "incident--%s", iu);
        obj_begin(x, "incident", "incident", iu);
        lia_buf_puts(&x->out, ",\"created_by_ref\":\"");
        lia_buf_puts(&x->out, x->identity);
        lia_buf_putc(&x->out, '"');
        put_time(&x->out, "created", x->o.now_us);
        put_time(&x->out, "modified", x->o.now_us);
        lia_buf_puts(&x->out, ",\"name\":");
        lia_buf_json_str(&x->out, x->incident, strlen(x->incident));
        if (x->incident_desc) {
            lia_buf_puts(&x->out, ",\"description\":");
            lia_buf_json_str(&x->out, x->incident_desc, strlen(x->incident_desc));
        }
        /* the incident describes its events: their strictest TLP, and so
         * each relationship (the stricter of its two ends) */
        marking_ref(x, x->max_tlp);
        lia_buf_putc(&x->out, '}');
        lia__time_z(x->o.now_us, t, sizeof t);
        for (size_t i = 0; i < x->nind; i++) {
            char ind[37];
            static const char hex[] = "0123456789abcdef";
            char *q = ind;
            for (int j = 0; j < 16; j++) {
                if (j == 4 || j == 6 || j == 8 || j == 10)
                    *q++ = '-';
                *q++ = hex[x->ind[i][j] >> 4];
                *q++ = hex[x->ind[i][j] & 15];
            }
            *q = '\0';
            lia_buf_reset(&key);
            lia_buf_printf(&key, "related-to:indicator--%s:%s", ind, inc);
            lia__uuid5(x->ns, key.ptr, key.len, u);
            obj_begin(x, "relationship", "relationship", u);
            lia_buf_printf(&x->out,
                           ",\"created_by_ref\":\"%s\",\"created\":\"%s\",\"modified\":\"%s\","
                           "\"relationship_type\":\"related-to\",\"source_ref\":\"indicator--%s\","
                           "\"target_ref\":\"%s\"",
                           x->identity, t, t, ind, inc);
            marking_ref(x, x->max_tlp);
            lia_buf_putc(&x->out, '}');
            if (x->out.len > 65536 && (rc = emit(x, err)))
                goto out;
        }
    }
    lia_buf_reset(&key);
    lia_buf_printf(&key, "bundle:%s:%s:%llu:%s", x->producer, x->first,
                   (unsigned long long)x->objects, x->incident ? x->incident : "");
    lia__uuid5(x->ns, key.ptr, key.len, u);
    lia_buf_printf(&x->out, "\n],\"id\":\"bundle--%s\"}\n", u);
    if (x->out.err) {
        rc = lia_error_set(err, x->out.err, NULL, NULL, 0, "out of memory");
        goto out;
    }
    rc = emit(x, err);
out:
    lia_buf_free(&key);
    return rc;
}
