/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "iodef": IODEF v2 documents from partners (see liaison/iodef.h).
 * libxml2 with XML_PARSE_NONET, without XML_PARSE_NOENT/DTDLOAD; any entity
 * declaration is refused before parsing. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "liaison/iodef.h"
#include "liaison/limits.h"
#include "liaison/pipeline.h"
#include "share/share.h"
#include "core/field_internal.h"
#include "core/records.h"

#define NS "urn:ietf:params:xml:ns:iodef-2.0"

enum { R_INCIDENT, R_SYSTEM, R_INDICATOR, R_BULK };

typedef struct rec {
    int kind;
    xmlNodePtr node;   /* Incident, System, Indicator or BulkObservable */
    xmlNodePtr flow;   /* R_SYSTEM: its Flow */
    size_t ioff, ilen; /* R_BULK: the item, in items */
    int tot[4];        /* addresses of each kind (ip, fqdn, url, asn) on its side */
} rec;

typedef struct oref {
    xmlChar *ref;       /* uid-ref of an ObservableReference */
    xmlNodePtr ind;     /* the Indicator that holds it */
} oref;

/* The children context() reads of an Incident or EventData, found in one
 * pass over its children and kept (an Incident has one child per EventData:
 * looking them up again for each record made the import quadratic). */
typedef struct kids {
    xmlNodePtr node;
    xmlNodePtr detect, start, report, gen, desc, id;
} kids;

typedef struct iodef {
    kids *memo; /* open addressing by node pointer */
    size_t nmemo, capmemo;
    oref *refs;         /* Indicators that point at an observable-id */
    size_t nrefs, caprefs;
    lia_buf doc;
    xmlDocPtr xdoc;
    rec *r;
    size_t n, cap;
    lia_buf items;
    int done;
    int pick;      /* the alternative being read; -1: counting addresses */
    int tot[4];    /* counted, or the record's totals while reading */
    char why[300]; /* reason of a document-level error record */
} iodef;

static int is(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, NS) == 0 && strcmp((const char *)n->name, name) == 0;
}

static int iodef_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    iodef *d = calloc(1, sizeof *d);
    if (!d)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_buf_init(&d->doc, LIA_MAX_SHARE_DOC);
    lia_buf_init(&d->items, LIA_MAX_SHARE_DOC);
    *st = d;
    return LIA_OK;
}

static void iodef_close(void *st)
{
    iodef *d = st;
    if (!d)
        return;
    for (size_t i = 0; i < d->nrefs; i++)
        xmlFree(d->refs[i].ref);
    free(d->refs);
    free(d->memo);
    if (d->xdoc)
        xmlFreeDoc(d->xdoc);
    free(d->r);
    lia_buf_free(&d->doc);
    lia_buf_free(&d->items);
    free(d);
}

static int add(iodef *d, int kind, xmlNodePtr node, xmlNodePtr flow, size_t ioff, size_t ilen)
{
    if (d->n == LIA_MAX_SHARE_OBJECTS)
        return LIA_ELIMIT;
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 64;
        rec *nr = realloc(d->r, nc * sizeof *nr);
        if (!nr)
            return LIA_ENOMEM;
        d->r = nr;
        d->cap = nc;
    }
    d->r[d->n++] = (rec){kind, node, flow, ioff, ilen, {0, 0, 0, 0}};
    return LIA_OK;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Remember the ObservableReference uid-refs under node n of Indicator ind. */
static int note_refs(iodef *d, xmlNodePtr ind, xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        int rc;
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is(c, "ObservableReference")) {
            xmlChar *ref = xmlGetProp(c, (const xmlChar *)"uid-ref");
            if (!ref)
                continue;
            if (d->nrefs == d->caprefs) {
                size_t nc = d->caprefs ? d->caprefs * 2 : 64;
                oref *nr = realloc(d->refs, nc * sizeof *nr);
                if (!nr) {
                    xmlFree(ref);
                    return LIA_ENOMEM;
                }
                d->refs = nr;
                d->caprefs = nc;
            }
            d->refs[d->nrefs++] = (oref){ref, ind};
        } else if ((rc = note_refs(d, ind, c))) {
            return rc;
        }
    }
    return LIA_OK;
}

static int cmp_oref(const void *a, const void *b)
{
    return strcmp((const char *)((const oref *)a)->ref, (const char *)((const oref *)b)->ref);
}

/* Records under an Incident (iterative walk, bounded by the tree). */
static int collect(iodef *d, xmlNodePtr inc)
{
    int rc;
    xmlNodePtr n = inc->children;
    if ((rc = add(d, R_INCIDENT, inc, NULL, 0, 0)))
        return rc;
    while (n && n != inc) {
        int descend = 1;
        if (is(n, "Flow")) {
            xmlNodePtr s;
            int nontarget = 0;
            for (s = n->children; s; s = s->next) {
                xmlChar *cat;
                if (!is(s, "System"))
                    continue;
                cat = xmlGetProp(s, (const xmlChar *)"category");
                if (!cat || strcmp((const char *)cat, "target") != 0)
                    nontarget = 1;
                xmlFree(cat);
            }
            for (s = n->children; s; s = s->next) {
                xmlChar *cat;
                int target;
                if (!is(s, "System"))
                    continue;
                cat = xmlGetProp(s, (const xmlChar *)"category");
                target = cat && strcmp((const char *)cat, "target") == 0;
                xmlFree(cat);
                if ((!target || !nontarget) && (rc = add(d, R_SYSTEM, s, n, 0, 0)))
                    return rc;
            }
            descend = 0;
        } else if (is(n, "Indicator")) {
            /* a BulkObservable gives one record per item, else one record */
            xmlNodePtr b = NULL, w = n->children;
            while (w && w != n) { /* find a BulkObservable under it */
                if (is(w, "BulkObservable")) {
                    b = w;
                    break;
                }
                if (w->children && w->type == XML_ELEMENT_NODE) {
                    w = w->children;
                    continue;
                }
                while (w && w != n && !w->next)
                    w = w->parent;
                if (w && w != n)
                    w = w->next;
            }
            if (b) {
                xmlNodePtr l;
                for (l = b->children; l; l = l->next) {
                    xmlChar *txt;
                    const char *p, *e;
                    if (!is(l, "BulkObservableList"))
                        continue;
                    txt = xmlNodeGetContent(l);
                    if (!txt)
                        return LIA_ENOMEM;
                    p = (const char *)txt;
                    e = p + strlen(p);
                    while (p < e) { /* one observable per line (RFC 7970 3.29.7) */
                        const char *q, *t;
                        while (p < e && is_space(*p))
                            p++;
                        q = p;
                        while (q < e && *q != '\n' && *q != '\r')
                            q++;
                        t = q;
                        while (t > p && is_space(t[-1]))
                            t--;
                        if (t > p) {
                            q = t;
                            size_t off = d->items.len;
                            if (lia_buf_append(&d->items, p, (size_t)(q - p)) ||
                                (rc = add(d, R_BULK, b, NULL, off, (size_t)(q - p)))) {
                                xmlFree(txt);
                                return LIA_ENOMEM;
                            }
                        }
                        while (p < e && *p != '\n' && *p != '\r')
                            p++;
                    }
                    xmlFree(txt);
                }
            } else if ((rc = add(d, R_INDICATOR, n, NULL, 0, 0))) {
                return rc;
            } else if ((rc = note_refs(d, n, n))) {
                return rc;
            }
            descend = 0;
        }
        if (descend && n->children && n->type == XML_ELEMENT_NODE) {
            n = n->children;
            continue;
        }
        while (n && n != inc && !n->next)
            n = n->parent;
        if (n && n != inc)
            n = n->next;
    }
    return LIA_OK;
}

static void raw_of(iodef *d, xmlNodePtr n, lia_buf *out)
{
    xmlBufferPtr b = xmlBufferCreate();
    if (!b)
        return;
    if (xmlNodeDump(b, d->xdoc, n, 0, 0) >= 0) {
        size_t len = (size_t)xmlBufferLength(b);
        lia_buf_append(out, xmlBufferContent(b), len > 65536 ? 65536 : len);
    }
    xmlBufferFree(b);
}

static int from_system(iodef *d, const rec *r, lia_event *ev, lia_error *err);
static int from_indicator(iodef *d, const rec *r, lia_event *ev, lia_error *err);

static int iodef_parse(void *st, const char *buf, size_t len, int eof, lia_records *out,
                       lia_error *err)
{
    iodef *d = st;
    xmlNodePtr root, inc;
    int rc;
    lia_buf raw;
    lia_event scratch;
    if (d->done)
        return LIA_OK;
    if ((rc = lia__doc_append(&d->doc, buf, len, "IODEF", err)))
        return rc;
    if (!eof)
        return LIA_OK;
    d->done = 1;
    if (d->doc.len > INT32_MAX) {
        snprintf(d->why, sizeof d->why, "document too large for the XML parser");
        goto bad;
    }
    if (d->doc.len && memmem(d->doc.ptr, d->doc.len, "<!ENTITY", 8)) {
        snprintf(d->why, sizeof d->why, "entity declarations are refused (DOCTYPE with <!ENTITY)");
        goto bad;
    }
    /* A parser context of our own: libxml2 (2.9) may run out of memory and
     * still return a partial tree; only ctxt->errNo says so. No tree and no
     * error at all is an allocation that failed before parsing began. */
    xmlParserCtxtPtr px = xmlNewParserCtxt();
    if (!px)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    d->xdoc = xmlCtxtReadMemory(px, d->doc.ptr ? d->doc.ptr : "", (int)d->doc.len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    int xml_oom = px->errNo == XML_ERR_NO_MEMORY || (!d->xdoc && px->errNo == XML_ERR_OK);
    xmlFreeParserCtxt(px);
    if (xml_oom)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory reading the IODEF document");
    if (!d->xdoc) {
        const xmlError *xe = xmlGetLastError();
        snprintf(d->why, sizeof d->why, "not XML: %s (line %d)",
                 xe && xe->message ? xe->message : "parse error", xe ? xe->line : 0);
        for (char *p = d->why; *p; p++)
            if (*p == '\n')
                *p = ' ';
        goto bad;
    }
    if (d->xdoc->intSubset && d->xdoc->intSubset->entities) {
        snprintf(d->why, sizeof d->why, "entity declarations are refused");
        goto bad;
    }
    root = xmlDocGetRootElement(d->xdoc);
    if (!is(root, "IODEF-Document")) {
        snprintf(d->why, sizeof d->why, "not an IODEF v2 document (root must be IODEF-Document in %s)", NS);
        goto bad;
    }
    for (inc = root->children; inc; inc = inc->next)
        if (is(inc, "Incident") && (rc = collect(d, inc)))
            return lia_error_set(err, rc, NULL, NULL, 0, "%s", rc == LIA_ELIMIT ? "too many records in one IODEF document" : "out of memory");
    if (d->nrefs)
        qsort(d->refs, d->nrefs, sizeof *d->refs, cmp_oref);
    lia_buf_init(&raw, 1 << 20);
    lia_event_init(&scratch);
    for (size_t i = 0; i < d->n; i++) {
        int alts = 1;
        lia_error e;
        lia_buf_reset(&raw);
        if (d->r[i].kind == R_BULK)
            lia_buf_append(&raw, d->items.ptr + d->r[i].ioff, d->r[i].ilen);
        else
            raw_of(d, d->r[i].node, &raw);
        if (d->r[i].kind == R_SYSTEM || d->r[i].kind == R_INDICATOR) {
            /* several addresses of a kind: one event each (field 0 = which) */
            memset(d->tot, 0, sizeof d->tot);
            d->pick = -1;
            lia_event_reset(&scratch);
            (void)(d->r[i].kind == R_SYSTEM ? from_system(d, &d->r[i], &scratch, &e)
                                            : from_indicator(d, &d->r[i], &scratch, &e));
            memcpy(d->r[i].tot, d->tot, sizeof d->tot);
            for (int k = 0; k < 4; k++)
                alts = d->tot[k] > alts ? d->tot[k] : alts;
        }
        rc = LIA_OK;
        for (int k = 0; k < alts && !rc; k++) {
            char idx[16];
            lia_slice f = {idx, (size_t)snprintf(idx, sizeof idx, "%d", k)};
            rc = lia__records_add(out, i + 1, (lia_slice){lia_buf_cstr(&raw), raw.len}, alts > 1 ? &f : NULL,
                                  alts > 1 ? 1 : 0, 0, NULL, 1);
        }
        if (rc) {
            lia_event_free(&scratch);
            lia_buf_free(&raw);
            return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
        }
    }
    lia_event_free(&scratch);
    lia_buf_free(&raw);
    lia_buf_free(&d->doc);
    return LIA_OK;
bad : {
    size_t n = d->doc.len < 4096 ? d->doc.len : 4096;
    rc = lia__records_add(out, 1, (lia_slice){d->doc.ptr ? d->doc.ptr : "", n}, NULL, 0, LIA_EPARSE, d->why,
                          1);
    return rc ? lia_error_set(err, rc, NULL, NULL, 0, "out of memory") : LIA_OK;
}
}

/* Trimmed text content of n into out (NUL-terminated); length, or 0. */
static size_t text(xmlNodePtr n, char *out, size_t cap)
{
    xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
    const char *p, *e;
    size_t len;
    if (!t)
        return 0;
    p = (const char *)t;
    e = p + strlen(p);
    while (p < e && is_space(*p))
        p++;
    while (e > p && is_space(e[-1]))
        e--;
    len = (size_t)(e - p);
    if (len >= cap)
        len = 0; /* too long to be one of ours: treated as absent */
    memcpy(out, p, len);
    out[len] = '\0';
    xmlFree(t);
    return len;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (is(c, name))
            return c;
    return NULL;
}

/* TLP of an IODEF restriction keyword (RFC 7970 section 3.3.1): public
 * CLEAR, partner GREEN, need-to-know AMBER, private RED, the TLP colours
 * themselves, ext-value through ext-restriction; anything else counts as
 * TLP:RED (an unrecognised marking never lowers the TLP). */
static int restriction_tlp(xmlNodePtr n, const char *r)
{
    static const struct {
        const char *name;
        int tlp;
    } kw[] = {{"public", LIA_TLP_CLEAR},
              {"partner", LIA_TLP_GREEN},
              {"need-to-know", LIA_TLP_AMBER},
              {"private", LIA_TLP_RED}};
    int tlp = LIA_TLP_RED;
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (strcasecmp(r, kw[i].name) == 0)
            return kw[i].tlp;
    if (strcasecmp(r, "ext-value") == 0) {
        xmlChar *x = xmlGetProp(n, (const xmlChar *)"ext-restriction");
        if (!x || lia_parse_tlp((const char *)x, strlen((const char *)x), &tlp, NULL) != 0)
            tlp = LIA_TLP_RED;
        xmlFree(x);
        return tlp;
    }
    if (lia_parse_tlp(r, strlen(r), &tlp, NULL) != 0)
        return LIA_TLP_RED;
    return tlp;
}

/* TLP from the nearest restriction on n or its ancestors ("default"
 * inherits); the keyword is kept as extra.iodef_restriction when it is not
 * a TLP colour. */
static int tlp_of(xmlNodePtr n, lia_event *ev, lia_error *err)
{
    for (; n && n->type == XML_ELEMENT_NODE; n = n->parent) {
        xmlChar *r = xmlGetProp(n, (const xmlChar *)"restriction");
        int tlp, rc = LIA_OK, colour, ignored;
        if (!r)
            continue;
        if (strcmp((const char *)r, "default") == 0) {
            xmlFree(r);
            continue;
        }
        tlp = restriction_tlp(n, (const char *)r);
        colour = lia_parse_tlp((const char *)r, strlen((const char *)r), &ignored, NULL) == 0;
        lia_event_set_i(ev, LIA_F_TLP, tlp);
        if (!colour)
            rc = lia_event_extra_str(ev, "iodef_restriction", 17, (const char *)r, strlen((const char *)r), err);
        xmlFree(r);
        return rc;
    }
    return LIA_OK;
}

/* One side (source or destination) of an event. On the record's own side
 * (split) several addresses of a kind are alternatives: the record gives one
 * event per address (pick = which; a kind with one value goes to every
 * event); pick -1 only counts them. On the other side one of a kind is all
 * an event holds. */
typedef struct side {
    lia_field ip, net, fqdn, url, asn, port;
    int nip, nfqdn, nurl, nasn;
    int split, pick;
    const int *tot;
} side;

static const side SRC = {LIA_F_SOURCE_IP,
                         LIA_F_SOURCE_NETWORK,
                         LIA_F_SOURCE_FQDN,
                         LIA_F_SOURCE_URL,
                         LIA_F_SOURCE_ASN,
                         LIA_F_SOURCE_PORT,
                         0,
                         0,
                         0,
                         0,
                         0,
                         0,
                         NULL};
static const side DST = {LIA_F_DESTINATION_IP,
                         LIA_F_DESTINATION_NETWORK,
                         LIA_F_DESTINATION_FQDN,
                         LIA_F_DESTINATION_URL,
                         LIA_F_DESTINATION_ASN,
                         LIA_F_DESTINATION_PORT,
                         0,
                         0,
                         0,
                         0,
                         0,
                         0,
                         NULL};

/* Whether the idx-th value of kind k (0 ip, 1 fqdn, 2 url, 3 asn) belongs
 * to this event: 1 take it, 0 skip it (another alternative's, or counting),
 * -1 a second one on a side that holds one. */
static int take(const side *s, int k, int idx)
{
    if (!s->split)
        return idx == 0 ? 1 : -1;
    if (s->pick < 0)
        return 0;
    return s->tot[k] <= 1 ? idx == 0 : idx == s->pick;
}

static void own_side(const iodef *d, side *s)
{
    s->split = 1;
    s->pick = d->pick;
    s->tot = d->tot;
}

/* Counting: the side's totals into d->tot. */
static void counted(iodef *d, const side *s)
{
    d->tot[0] = s->nip;
    d->tot[1] = s->nfqdn;
    d->tot[2] = s->nurl;
    d->tot[3] = s->nasn;
}

static int several(lia_error *err, const char *what)
{
    return lia_error_set(err, LIA_EUNSUPPORTED, NULL, NULL, 0,
                         "several %s in one record (one event holds one)", what);
}

/* One value of an address category into ev. *mapped counts what was used. */
static int address(lia_event *ev, side *s, const char *cat, const char *v, size_t n, int *mapped,
                   lia_error *err)
{
    int rc, t;
    if (!n)
        return LIA_OK;
    if (!strcmp(cat, "ipv4-addr") || !strcmp(cat, "ipv6-addr") || !strcmp(cat, "ipv4-net") ||
        !strcmp(cat, "ipv6-net")) {
        if ((t = take(s, 0, s->nip++)) < 0)
            return several(err, "IP addresses");
        rc = t ? lia_event_set(ev, memchr(v, '/', n) ? s->net : s->ip, v, n, err) : LIA_OK;
    } else if (!strcmp(cat, "site-uri") || !strcmp(cat, "url") || !strcmp(cat, "uri")) {
        if ((t = take(s, 2, s->nurl++)) < 0)
            return several(err, "URLs");
        rc = t ? lia_event_set(ev, s->url, v, n, err) : LIA_OK;
    } else if (!strcmp(cat, "asn")) {
        if ((t = take(s, 3, s->nasn++)) < 0)
            return several(err, "ASNs");
        rc = t ? lia_event_set(ev, s->asn, v, n, err) : LIA_OK;
    } else if (!strcmp(cat, "domain-name") || !strcmp(cat, "fqdn") || !strcmp(cat, "domain") ||
               !strcmp(cat, "hostname")) {
        if ((t = take(s, 1, s->nfqdn++)) < 0)
            return several(err, "domain names");
        rc = t ? lia_event_set(ev, s->fqdn, v, n, err) : LIA_OK;
    } else {
        if (s->split && s->pick < 0)
            return LIA_OK; /* counting: the reading pass says why */
        return lia_error_set(err, LIA_EUNSUPPORTED, "category", cat, strlen(cat),
                             "IODEF address category not mapped to an event field");
    }
    if (rc == LIA_OK && t)
        (*mapped)++;
    return rc;
}

static int category(xmlNodePtr a, char *out, size_t cap)
{
    xmlChar *c = xmlGetProp(a, (const xmlChar *)"category");
    if (c && strcmp((const char *)c, "ext-value") == 0) {
        xmlFree(c);
        c = xmlGetProp(a, (const xmlChar *)"ext-category");
    }
    snprintf(out, cap, "%s", c ? (const char *)c : "ipv4-addr");
    xmlFree(c);
    return 0;
}

/* A Node / System / Address / DomainData / Service under n, into one side. */
static int walk(xmlNodePtr n, lia_event *ev, side *s, int *mapped, int depth, lia_error *err)
{
    char v[LIA_MAX_URL + 1];
    char cat[64];
    int rc;
    for (xmlNodePtr c = n->children; c; c = c->next) {
        size_t len;
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is(c, "Address")) {
            category(c, cat, sizeof cat);
            len = text(c, v, sizeof v);
            if ((rc = address(ev, s, cat, v, len, mapped, err)))
                return rc;
        } else if (is(c, "DomainData")) {
            len = text(child(c, "Name"), v, sizeof v);
            if ((rc = address(ev, s, "domain-name", v, len, mapped, err)))
                return rc;
        } else if (is(c, "Service")) {
            xmlNodePtr p = child(c, "Port");
            xmlChar *proto = xmlGetProp(c, (const xmlChar *)"ip-protocol");
            if (p && (len = text(p, v, sizeof v)) &&
                (rc = lia_event_set(ev, s->port, v, len, err))) {
                xmlFree(proto);
                return rc;
            }
            if (proto && !lia_event_has(ev, LIA_F_PROTOCOL_TRANSPORT)) {
                const char *t = !strcmp((const char *)proto, "6")    ? "tcp"
                                : !strcmp((const char *)proto, "17") ? "udp"
                                : !strcmp((const char *)proto, "1")  ? "icmp"
                                                                     : NULL;
                if (t)
                    lia_event_set(ev, LIA_F_PROTOCOL_TRANSPORT, t, strlen(t), err);
            }
            xmlFree(proto);
        } else if ((is(c, "Node") || is(c, "System")) && depth < 4) {
            if ((rc = walk(c, ev, s, mapped, depth + 1, err)))
                return rc;
        }
    }
    return LIA_OK;
}

static xmlNodePtr ancestor(xmlNodePtr n, const char *name)
{
    for (; n && n->type == XML_ELEMENT_NODE; n = n->parent)
        if (is(n, name))
            return n;
    return NULL;
}

static int set_time(lia_event *ev, xmlNodePtr n, lia_error *err)
{
    char v[80];
    size_t len;
    if (lia_event_has(ev, LIA_F_TIME_SOURCE) || !n)
        return LIA_OK;
    if (!(len = text(n, v, sizeof v)))
        return LIA_OK;
    return lia_event_set(ev, LIA_F_TIME_SOURCE, v, len, err);
}

static size_t hash_node(xmlNodePtr n)
{
    return (size_t)(((uintptr_t)n >> 4) * 0x9E3779B97F4A7C15ull);
}

static void find_kids(xmlNodePtr n, kids *k)
{
    static const struct {
        const char *name;
        size_t off;
    } want[] = {{"DetectTime", offsetof(kids, detect)}, {"StartTime", offsetof(kids, start)},
                {"ReportTime", offsetof(kids, report)}, {"GenerationTime", offsetof(kids, gen)},
                {"Description", offsetof(kids, desc)},  {"IncidentID", offsetof(kids, id)}};
    memset(k, 0, sizeof *k);
    k->node = n;
    for (xmlNodePtr c = n->children; c; c = c->next)
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            xmlNodePtr *slot = (xmlNodePtr *)(void *)((char *)k + want[i].off);
            if (!*slot && is(c, want[i].name))
                *slot = c;
        }
}

/* The context children of n: from the memo, else found and remembered (in
 * tmp when the memo cannot grow: slower, never wrong). */
static const kids *kids_of(iodef *d, xmlNodePtr n, kids *tmp)
{
    size_t j;
    if ((d->nmemo + 1) * 2 > d->capmemo) {
        size_t nc = d->capmemo ? d->capmemo * 2 : 64;
        kids *nm = calloc(nc, sizeof *nm);
        if (nm) {
            for (size_t i = 0; i < d->capmemo; i++) {
                if (!d->memo[i].node)
                    continue;
                for (j = hash_node(d->memo[i].node) & (nc - 1); nm[j].node; j = (j + 1) & (nc - 1))
                    ;
                nm[j] = d->memo[i];
            }
            free(d->memo);
            d->memo = nm;
            d->capmemo = nc;
        }
    }
    if (!d->capmemo) {
        find_kids(n, tmp);
        return tmp;
    }
    for (j = hash_node(n) & (d->capmemo - 1); d->memo[j].node; j = (j + 1) & (d->capmemo - 1))
        if (d->memo[j].node == n)
            return &d->memo[j];
    if ((d->nmemo + 1) * 2 > d->capmemo) { /* could not grow */
        find_kids(n, tmp);
        return tmp;
    }
    find_kids(n, &d->memo[j]);
    d->nmemo++;
    return &d->memo[j];
}

/* Context from the enclosing EventData(s) and Incident. */
static int context(iodef *d, lia_event *ev, xmlNodePtr n, lia_error *err)
{
    char v[LIA_MAX_STRING];
    size_t len;
    int rc;
    kids tmp;
    const kids *k;
    xmlNodePtr ed, inc = ancestor(n, "Incident");
    for (ed = ancestor(n, "EventData"); ed; ed = ancestor(ed->parent, "EventData")) {
        k = kids_of(d, ed, &tmp);
        if ((rc = set_time(ev, k->detect, err)) || (rc = set_time(ev, k->start, err)))
            return rc;
        if (!lia_event_has(ev, LIA_F_EVENT_DESCRIPTION_TEXT) && (len = text(k->desc, v, sizeof v)) &&
            (rc = lia_event_set(ev, LIA_F_EVENT_DESCRIPTION_TEXT, v, len, err)))
            return rc;
    }
    if (inc) {
        xmlNodePtr id;
        k = kids_of(d, inc, &tmp);
        id = k->id;
        if ((rc = set_time(ev, k->detect, err)) || (rc = set_time(ev, k->start, err)) ||
            (rc = set_time(ev, k->report, err)) || (rc = set_time(ev, k->gen, err)))
            return rc;
        if (!lia_event_has(ev, LIA_F_EVENT_DESCRIPTION_TEXT) && (len = text(k->desc, v, sizeof v)) &&
            (rc = lia_event_set(ev, LIA_F_EVENT_DESCRIPTION_TEXT, v, len, err)))
            return rc;
        if (id && (len = text(id, v, 1024))) {
            xmlChar *nm = xmlGetProp(id, (const xmlChar *)"name");
            rc = lia_event_extra_str(ev, "iodef_incident_id", 17, v, len, err);
            if (!rc && nm)
                rc = lia_event_extra_str(ev, "iodef_incident_name", 19, (const char *)nm,
                                         strlen((const char *)nm), err);
            xmlFree(nm);
            if (rc)
                return rc;
        }
    }
    return LIA_OK;
}

/* An Indicator that refers to this System (observable-id): its id and
 * description go to the System's event. */
static int linked_indicator(iodef *d, xmlNodePtr sys, lia_event *ev, lia_error *err)
{
    xmlChar *oid = xmlGetProp(sys, (const xmlChar *)"observable-id");
    oref key, *hit;
    char v[1024];
    size_t len;
    int rc = LIA_OK;
    if (!oid)
        return LIA_OK;
    key.ref = oid;
    hit = d->nrefs ? bsearch(&key, d->refs, d->nrefs, sizeof *d->refs, cmp_oref) : NULL;
    xmlFree(oid);
    if (!hit)
        return LIA_OK;
    if ((len = text(child(hit->ind, "IndicatorID"), v, sizeof v)))
        rc = lia_event_extra_str(ev, "iodef_indicator_id", 18, v, len, err);
    if (!rc && !lia_event_has(ev, LIA_F_EVENT_DESCRIPTION_TEXT) &&
        (len = text(child(hit->ind, "Description"), v, sizeof v)))
        rc = lia_event_set(ev, LIA_F_EVENT_DESCRIPTION_TEXT, v, len, err);
    return rc;
}

static int from_system(iodef *d, const rec *r, lia_event *ev, lia_error *err)
{
    side s = SRC, t = DST;
    int mapped = 0, rc, is_target;
    xmlChar *cat = xmlGetProp(r->node, (const xmlChar *)"category");
    is_target = cat && strcmp((const char *)cat, "target") == 0;
    own_side(d, is_target ? &t : &s);
    if (d->pick < 0) {
        xmlFree(cat);
        rc = walk(r->node, ev, is_target ? &t : &s, &mapped, 0, err);
        counted(d, is_target ? &t : &s);
        return rc ? rc : LIA_ENOTFOUND;
    }
    if (cat) {
        rc = lia_event_extra_str(ev, "iodef_system_category", 21, (const char *)cat,
                                 strlen((const char *)cat), err);
        xmlFree(cat);
        if (rc)
            return rc;
    }
    if ((rc = walk(r->node, ev, is_target ? &t : &s, &mapped, 0, err)))
        return rc;
    if (!is_target) { /* the Flow's first target is the destination */
        for (xmlNodePtr c = r->flow->children; c; c = c->next) {
            xmlChar *k;
            int tg;
            if (!is(c, "System"))
                continue;
            k = xmlGetProp(c, (const xmlChar *)"category");
            tg = k && strcmp((const char *)k, "target") == 0;
            xmlFree(k);
            if (tg) {
                int m2 = 0;
                if ((rc = walk(c, ev, &t, &m2, 0, err)))
                    return rc;
                break;
            }
        }
    }
    if (!mapped) /* e.g. a sensor with an empty Node: nothing to act on */
        return LIA_ENOTFOUND;
    if ((rc = tlp_of(r->node, ev, err)))
        return rc;
    if ((rc = context(d, ev, r->node, err)))
        return rc;
    return linked_indicator(d, r->node, ev, err);
}

/* 1 if an ObservableReference is among the descendants of n. */
static int has_ref(xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (is(c, "ObservableReference") || (c->type == XML_ELEMENT_NODE && has_ref(c)))
            return 1;
    return 0;
}

static int from_indicator(iodef *d, const rec *r, lia_event *ev, lia_error *err)
{
    side s = SRC;
    int mapped = 0, rc;
    char v[LIA_MAX_STRING];
    size_t len;
    xmlNodePtr ind = r->kind == R_BULK ? ancestor(r->node, "Indicator") : r->node, w;
    own_side(d, &s);
    if (r->kind == R_BULK) {
        if (d->pick < 0) /* one item, one address */
            return LIA_ENOTFOUND;
        s.split = 0;
        xmlChar *ty = xmlGetProp(r->node, (const xmlChar *)"type");
        char cat[64];
        if (ty && strcmp((const char *)ty, "ext-value") == 0) {
            xmlFree(ty);
            ty = xmlGetProp(r->node, (const xmlChar *)"ext-type");
        }
        snprintf(cat, sizeof cat, "%s", ty ? (const char *)ty : "");
        xmlFree(ty);
        if ((rc = address(ev, &s, cat, d->items.ptr + r->ioff, r->ilen, &mapped, err)))
            return rc;
    } else {
        /* every Observable under the Indicator (IndicatorExpression included) */
        for (w = ind->children; w && w != ind;) {
            if (is(w, "Observable")) {
                for (xmlNodePtr c = w->children; c; c = c->next) {
                    char cat[64];
                    if (is(c, "Address")) {
                        category(c, cat, sizeof cat);
                        len = text(c, v, sizeof v);
                        rc = address(ev, &s, cat, v, len, &mapped, err);
                    } else if (is(c, "DomainData")) {
                        len = text(child(c, "Name"), v, sizeof v);
                        rc = address(ev, &s, "domain-name", v, len, &mapped, err);
                    } else if (is(c, "System") || is(c, "Service")) {
                        rc = is(c, "System") ? walk(c, ev, &s, &mapped, 0, err) : LIA_OK;
                        if (!rc && is(c, "Service")) {
                            /* a bare Service: port only */
                            xmlNodePtr p = child(c, "Port");
                            if (p && (len = text(p, v, sizeof v)))
                                rc = lia_event_set(ev, LIA_F_SOURCE_PORT, v, len, err);
                        }
                    } else {
                        rc = LIA_OK;
                    }
                    if (rc)
                        return rc;
                }
                /* do not descend into the Observable again */
                while (w && w != ind && !w->next)
                    w = w->parent;
                if (w && w != ind)
                    w = w->next;
                continue;
            }
            if (w->children && w->type == XML_ELEMENT_NODE) {
                w = w->children;
                continue;
            }
            while (w && w != ind && !w->next)
                w = w->parent;
            if (w && w != ind)
                w = w->next;
        }
    }
    if (d->pick < 0) {
        counted(d, &s);
        return LIA_ENOTFOUND;
    }
    if (!mapped && ind && has_ref(ind))
        return LIA_ENOTFOUND; /* it refers to a System that is its own record */
    if (!mapped)
        return lia_error_set(err, LIA_EUNSUPPORTED, NULL, NULL, 0,
                             "IODEF Indicator without an observable Liaison can hold "
                             "(address, domain, URL, ASN)");
    if (ind) {
        xmlNodePtr id = child(ind, "IndicatorID");
        if ((rc = set_time(ev, child(ind, "StartTime"), err)))
            return rc;
        if ((len = text(child(ind, "Description"), v, sizeof v)) &&
            (rc = lia_event_set(ev, LIA_F_EVENT_DESCRIPTION_TEXT, v, len, err)))
            return rc;
        if (id && (len = text(id, v, 1024)) &&
            (rc = lia_event_extra_str(ev, "iodef_indicator_id", 18, v, len, err)))
            return rc;
    }
    if ((rc = tlp_of(r->node, ev, err)))
        return rc;
    return context(d, ev, r->node, err);
}

static int iodef_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev,
                           lia_error *err)
{
    iodef *d = st;
    const rec *x;
    if (r->line == 0 || r->line > d->n)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "no such IODEF record");
    x = &d->r[r->line - 1];
    d->pick = 0;
    memcpy(d->tot, x->tot, sizeof d->tot);
    if (r->nfields == 1) { /* which of several addresses */
        const lia_slice *f = &rs->fields[r->first];
        int64_t v;
        if (lia__parse_int(f->ptr, f->len, &v, NULL) != 0 || v < 0 || v >= LIA_MAX_SHARE_OBJECTS)
            return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "bad alternative index");
        d->pick = (int)v;
    }
    switch (x->kind) {
    case R_INCIDENT: return LIA_ENOTFOUND; /* its content is in the other records */
    case R_SYSTEM: return from_system(d, x, ev, err);
    default: return from_indicator(d, x, ev, err);
    }
}

const lia_format lia_format_iodef = {
    .name = "iodef",
    .summary = "IODEF v2 (RFC 7970) XML document",
    .open = iodef_open,
    .parse = iodef_parse,
    .normalise = iodef_normalise,
    .close = iodef_close,
};

/* ---- the head of an Incident (liaison incident import) ---- */

static void impact_severity(xmlNodePtr n, int *best, int depth)
{
    static const char *const sev[] = {"low", "medium", "high"};
    for (xmlNodePtr c = n ? n->children : NULL; c && depth < 8; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *v = xmlGetProp(c, (const xmlChar *)"severity");
        for (int i = 0; v && i < 3; i++)
            if (strcmp((const char *)v, sev[i]) == 0 && i > *best)
                *best = i;
        xmlFree(v);
        impact_severity(c, best, depth + 1);
    }
}

int lia_iodef_incident_read(const char *buf, size_t len, lia_iodef_incident *out, lia_error *err)
{
    static const char *const sev[] = {"low", "medium", "high"};
    xmlParserCtxtPtr px;
    xmlDocPtr doc;
    xmlNodePtr root, inc = NULL, n;
    xmlChar *v;
    int best = -1, rc = LIA_OK;
    memset(out, 0, sizeof out[0]);
    if (len > INT32_MAX)
        return lia_error_set(err, LIA_ELIMIT, "IODEF", NULL, 0, "document too large for the XML parser");
    if (len && memmem(buf, len, "<!ENTITY", 8))
        return lia_error_set(err, LIA_EPARSE, "IODEF", NULL, 0, "entity declarations are refused");
    if (!(px = xmlNewParserCtxt()))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    doc = xmlCtxtReadMemory(px, len ? buf : "", (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlFreeParserCtxt(px);
    if (!doc)
        return lia_error_set(err, LIA_EPARSE, "IODEF", NULL, 0, "not XML");
    root = xmlDocGetRootElement(doc);
    if (!is(root, "IODEF-Document")) {
        rc = lia_error_set(err, LIA_EPARSE, "IODEF", NULL, 0,
                           "not an IODEF v2 document (root IODEF-Document in %s)", NS);
        goto out;
    }
    for (n = root->children; n && !inc; n = n->next)
        if (is(n, "Incident"))
            inc = n;
    if (!inc) {
        rc = lia_error_set(err, LIA_EPARSE, "IODEF", NULL, 0, "the document holds no Incident");
        goto out;
    }
    n = child(inc, "IncidentID");
    if (!n || !text(n, out->id, sizeof out->id)) {
        rc = lia_error_set(err, LIA_EPARSE, "IncidentID", NULL, 0,
                           "the Incident has no IncidentID (RFC 7970 3.2)");
        goto out;
    }
    if ((v = xmlGetProp(n, (const xmlChar *)"name"))) {
        snprintf(out->name, sizeof out->name, "%s", (const char *)v);
        xmlFree(v);
    }
    text(child(inc, "Description"), out->description, sizeof out->description);
    snprintf(out->tlp, sizeof out->tlp, "AMBER");
    if ((v = xmlGetProp(inc, (const xmlChar *)"restriction"))) {
        static const char *const names[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"};
        int t = restriction_tlp(inc, (const char *)v);
        if (t >= 0 && t <= LIA_TLP_RED)
            snprintf(out->tlp, sizeof out->tlp, "%s", names[t]);
        xmlFree(v);
    }
    for (n = inc->children; n; n = n->next)
        if (is(n, "Assessment"))
            impact_severity(n, &best, 0);
    if (best >= 0)
        snprintf(out->severity, sizeof out->severity, "%s", sev[best]);
out:
    xmlFreeDoc(doc);
    return rc;
}
