/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* IODEF v2 export: events -> one IODEF-Document (see liaison/iodef.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/iodef.h"
#include "liaison/limits.h"
#include "share/share.h"
#include "core/field_internal.h"

struct lia_iodef_export {
    lia_iodef_opts o;
    char *producer, *contact, *incident, *incident_id;
    lia_sink_fn sink;
    void *ud;
    uint8_t ns[16];
    FILE *spool;    /* Indicators, written after the EventData */
    FILE *spool_ev; /* EventData: the header needs the TLP of all events */
    lia_buf out, ind;
    int max_tlp;
    crypto_generichash_state content; /* of every EventData and Indicator written */
    int started, finished;
    uint64_t events, skipped;
};

/* XML text: & < > " escaped; C0 controls other than TAB/LF/CR (not
 * allowed in XML 1.0) become U+FFFD. */
static void xml_text(lia_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        if (c == '&')
            rep = "&amp;";
        else if (c == '<')
            rep = "&lt;";
        else if (c == '>')
            rep = "&gt;";
        else if (c == '"')
            rep = "&quot;";
        else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            rep = "\xEF\xBF\xBD";
        if (!rep)
            continue;
        lia_buf_append(b, s + run, i - run);
        lia_buf_puts(b, rep);
        run = i + 1;
    }
    lia_buf_append(b, s + run, n - run);
}

static void xml_z(lia_buf *b, const char *s)
{
    xml_text(b, s, strlen(s));
}

void lia_iodef_export_destroy(lia_iodef_export *x)
{
    if (!x)
        return;
    if (x->spool)
        fclose(x->spool);
    if (x->spool_ev)
        fclose(x->spool_ev);
    free(x->producer);
    free(x->contact);
    free(x->incident);
    free(x->incident_id);
    lia_buf_free(&x->out);
    lia_buf_free(&x->ind);
    free(x);
}

uint64_t lia_iodef_export_skipped(const lia_iodef_export *x)
{
    return x->skipped;
}

int lia_iodef_export_create(const lia_iodef_opts *o, lia_sink_fn sink, void *ud, lia_iodef_export **out,
                            lia_error *err)
{
    lia_iodef_export *x = calloc(1, sizeof *x);
    const char *prod = o && o->producer ? o->producer : "Liaison";
    if (!x)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (o)
        x->o = *o;
    if (!x->o.now_us)
        x->o.now_us = (int64_t)time(NULL) * 1000000;
    x->producer = lia__share_strdup(prod);
    x->contact = lia__share_strdup(o ? o->contact_email : NULL);
    x->incident = lia__share_strdup(o ? o->incident : NULL);
    x->incident_id = lia__share_strdup(o ? o->incident_id : NULL);
    x->sink = sink;
    x->ud = ud;
    x->max_tlp = -1;
    lia_buf_init(&x->out, (size_t)LIA_MAX_EVENT_TEXT * 8);
    lia_buf_init(&x->ind, (size_t)LIA_MAX_EVENT_TEXT * 8);
    lia__liaison_ns(x->ns);
    crypto_generichash_init(&x->content, NULL, 0, 32);
    if (!x->producer || (o && o->contact_email && !x->contact) || (o && o->incident && !x->incident) ||
        (o && o->incident_id && !x->incident_id)) {
        lia_iodef_export_destroy(x);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    if (!*prod || !lia__utf8_valid(prod, strlen(prod)) || strlen(prod) > 256) {
        lia_iodef_export_destroy(x);
        return lia_error_set(err, LIA_EINVAL, "producer", prod, strlen(prod),
                             "not valid UTF-8 of 1 to 256 bytes");
    }
    x->spool = tmpfile();
    x->spool_ev = tmpfile();
    if (!x->spool || !x->spool_ev) {
        lia_iodef_export_destroy(x);
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot create a temporary file");
    }
    *out = x;
    return LIA_OK;
}

static void put_time(lia_buf *b, const char *el, int64_t us)
{
    char t[48];
    lia__time_z(us, t, sizeof t);
    lia_buf_printf(b, "<%s>%s</%s>", el, t, el);
}

static void restriction(lia_buf *b, int tlp)
{
    static const char *const r[] = {"white", "green", "amber", NULL, "red"};
    if (tlp < 0)
        return;
    if (tlp == LIA_TLP_AMBER_STRICT)
        lia_buf_puts(b, " restriction=\"ext-value\" ext-restriction=\"amber+strict\"");
    else
        lia_buf_printf(b, " restriction=\"%s\"", r[tlp]);
}

static int header(lia_iodef_export *x, lia_error *err)
{
    char id[64];
    lia_buf *b = &x->out;
    if (x->started)
        return LIA_OK;
    x->started = 1;
    if (!x->incident_id) {
        /* one IncidentID per distinct document: producer, incident name and
         * the digest of everything the document reports (its EventData and
         * Indicators), never the time alone; the same content exported again
         * keeps its IncidentID */
        static const char hex[] = "0123456789abcdef";
        unsigned char h[32];
        char dig[65];
        lia_buf key;
        crypto_generichash_final(&x->content, h, sizeof h);
        for (int i = 0; i < 32; i++) {
            dig[2 * i] = hex[h[i] >> 4];
            dig[2 * i + 1] = hex[h[i] & 15];
        }
        dig[64] = '\0';
        lia_buf_init(&key, 2048);
        lia_buf_printf(&key, "iodef-incident:%s:%s:%s", x->producer, x->incident ? x->incident : "", dig);
        if (key.err) {
            lia_buf_free(&key);
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        }
        lia__uuid5(x->ns, key.ptr, key.len, id);
        lia_buf_free(&key);
    }
    lia_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<IODEF-Document version=\"2.00\" xml:lang=\"en\" "
                    "xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\">\n"
                    "<Incident purpose=\"reporting\"");
    if (x->o.status) {
        lia_buf_puts(b, " status=\"");
        xml_z(b, x->o.status);
        lia_buf_putc(b, '"');
        if (x->o.ext_status) {
            lia_buf_puts(b, " ext-status=\"");
            xml_z(b, x->o.ext_status);
            lia_buf_putc(b, '"');
        }
    }
    restriction(b, x->max_tlp);
    lia_buf_puts(b, ">\n<IncidentID name=\"");
    xml_z(b, x->producer);
    lia_buf_puts(b, "\">");
    xml_z(b, x->incident_id ? x->incident_id : id);
    lia_buf_puts(b, "</IncidentID>\n");
    put_time(b, "GenerationTime", x->o.now_us);
    lia_buf_putc(b, '\n');
    if (x->incident) {
        lia_buf_puts(b, "<Description>");
        xml_z(b, x->incident);
        lia_buf_puts(b, "</Description>\n");
    }
    if (x->o.description) {
        lia_buf_puts(b, "<Description>");
        xml_z(b, x->o.description);
        lia_buf_puts(b, "</Description>\n");
    }
    if (x->o.severity) {
        lia_buf_puts(b, "<Assessment><SystemImpact severity=\"");
        xml_z(b, x->o.severity);
        lia_buf_puts(b, "\"/></Assessment>\n");
    }
    lia_buf_puts(b, "<Contact role=\"creator\" type=\"organization\"><ContactName>");
    xml_z(b, x->producer);
    lia_buf_puts(b, "</ContactName>");
    if (x->contact) {
        lia_buf_puts(b, "<Email><EmailTo>");
        xml_z(b, x->contact);
        lia_buf_puts(b, "</EmailTo></Email>");
    }
    lia_buf_puts(b, "</Contact>\n");
    for (size_t i = 0; i < x->o.nrecipients; i++) {
        const lia_iodef_contact *c = &x->o.recipients[i];
        lia_buf_puts(b, "<Contact role=\"irt\" type=\"organization\"><ContactName>");
        xml_z(b, c->name);
        lia_buf_puts(b, "</ContactName>");
        if (c->description) {
            lia_buf_puts(b, "<Description>");
            xml_z(b, c->description);
            lia_buf_puts(b, "</Description>");
        }
        lia_buf_puts(b, "</Contact>\n");
    }
    if (b->err)
        return lia_error_set(err, b->err, NULL, NULL, 0, "out of memory");
    return LIA_OK;
}

/* Node (+ Service) of one side; returns 1 if anything was written. */
static int node(lia_buf *b, const lia_event *ev, int dst, const char *cat, const char *oid)
{
    lia_field fip = dst ? LIA_F_DESTINATION_IP : LIA_F_SOURCE_IP;
    lia_field fnet = dst ? LIA_F_DESTINATION_NETWORK : LIA_F_SOURCE_NETWORK;
    lia_field fasn = dst ? LIA_F_DESTINATION_ASN : LIA_F_SOURCE_ASN;
    lia_field fport = dst ? LIA_F_DESTINATION_PORT : LIA_F_SOURCE_PORT;
    lia_slice fqdn = lia_event_str(ev, dst ? LIA_F_DESTINATION_FQDN : LIA_F_SOURCE_FQDN);
    lia_slice url = lia_event_str(ev, dst ? LIA_F_DESTINATION_URL : LIA_F_SOURCE_URL);
    char ip[64];
    if (!lia_event_has(ev, fip) && !lia_event_has(ev, fnet) && !fqdn.ptr && !url.ptr)
        return 0;
    lia_buf_printf(b, "<System category=\"%s\"", cat);
    if (oid)
        lia_buf_printf(b, " observable-id=\"%s\"", oid);
    lia_buf_puts(b, "><Node>");
    if (fqdn.ptr) {
        lia_buf_puts(b, "<DomainData><Name>");
        xml_text(b, fqdn.ptr, fqdn.len);
        lia_buf_puts(b, "</Name></DomainData>");
    }
    if (lia_event_has(ev, fip)) {
        lia_ip_format(&ev->v[fip].ip, 0, ip, sizeof ip);
        lia_buf_printf(b, "<Address category=\"%s\">%s</Address>",
                       ev->v[fip].ip.family == 6 ? "ipv6-addr" : "ipv4-addr", ip);
    } else if (lia_event_has(ev, fnet)) {
        lia_ip_format(&ev->v[fnet].ip, 1, ip, sizeof ip);
        lia_buf_printf(b, "<Address category=\"%s\">%s</Address>",
                       ev->v[fnet].ip.family == 6 ? "ipv6-net" : "ipv4-net", ip);
    }
    if (url.ptr) {
        lia_buf_puts(b, "<Address category=\"site-uri\">");
        xml_text(b, url.ptr, url.len);
        lia_buf_puts(b, "</Address>");
    }
    if (lia_event_has(ev, fasn))
        lia_buf_printf(b, "<Address category=\"asn\">%lld</Address>", (long long)ev->v[fasn].i);
    lia_buf_puts(b, "</Node>");
    if (lia_event_has(ev, fport)) {
        lia_slice tr = lia_event_str(ev, LIA_F_PROTOCOL_TRANSPORT);
        int proto = tr.ptr && lia_slice_eq(tr, "udp") ? 17 : tr.ptr && lia_slice_eq(tr, "tcp") ? 6 : -1;
        if (proto >= 0)
            lia_buf_printf(b, "<Service ip-protocol=\"%d\">", proto);
        else
            lia_buf_puts(b, "<Service>");
        lia_buf_printf(b, "<Port>%lld</Port></Service>", (long long)ev->v[fport].i);
    }
    lia_buf_puts(b, "</System>");
    return 1;
}

int lia_iodef_export_add(lia_iodef_export *x, const lia_event *ev, lia_error *err)
{
    lia_buf *b = &x->out, *ib = &x->ind;
    int tlp = lia_event_has(ev, LIA_F_TLP) ? (int)ev->v[LIA_F_TLP].i : -1;
    const char *cls = lia_event_has(ev, LIA_F_CLASSIFICATION_TYPE)
                          ? lia__class_type_name((int)ev->v[LIA_F_CLASSIFICATION_TYPE].i)
                          : NULL;
    lia_slice desc = lia_event_str(ev, LIA_F_EVENT_DESCRIPTION_TEXT);
    int64_t t = lia_event_has(ev, LIA_F_TIME_SOURCE)        ? ev->v[LIA_F_TIME_SOURCE].i
                : lia_event_has(ev, LIA_F_TIME_OBSERVATION) ? ev->v[LIA_F_TIME_OBSERVATION].i
                                                            : 0;
    char u[37], oid[48];
    if (x->finished)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "document already finished");
    lia_buf_reset(b);
    {
        char key[128];
        if (ev->id) {
            snprintf(key, sizeof key, "iodef-indicator:%s:%lld", x->producer, (long long)ev->id);
            lia__uuid5(x->ns, key, strlen(key), u);
        } else {
            lia_buf k;
            lia_buf_init(&k, LIA_MAX_EVENT_TEXT * 2);
            lia_buf_printf(&k, "iodef-indicator:%s:", x->producer);
            lia_event_to_json(ev, &k);
            lia__uuid5(x->ns, lia_buf_cstr(&k), k.len, u);
            lia_buf_free(&k);
        }
        snprintf(oid, sizeof oid, "obs-%s", u);
    }
    {
        lia_buf_puts(b, "<EventData");
        restriction(b, tlp);
        lia_buf_putc(b, '>');
        if (cls || desc.ptr) {
            lia_buf_puts(b, "<Description>");
            if (cls)
                xml_z(b, cls);
            if (cls && desc.ptr)
                lia_buf_puts(b, ": ");
            if (desc.ptr)
                xml_text(b, desc.ptr, desc.len);
            lia_buf_puts(b, "</Description>");
        }
        if (t)
            put_time(b, "DetectTime", t);
        lia_buf_puts(b, "<Flow>");
        {
            int s = node(b, ev, 0, "source", oid);
            int d = node(b, ev, 1, "target", s ? NULL : oid);
            if (!s && !d) {
                x->skipped++;
                return LIA_ENOTFOUND;
            }
        }
        lia_buf_puts(b, "</Flow></EventData>\n");
    }
    /* the Indicator, spooled */
    lia_buf_reset(ib);
    lia_buf_puts(ib, "<Indicator");
    restriction(ib, tlp);
    lia_buf_puts(ib, "><IndicatorID name=\"");
    xml_z(ib, x->producer);
    lia_buf_printf(ib, "\" version=\"1\">ind-%s</IndicatorID>", u);
    if (cls) {
        lia_buf_puts(ib, "<Description>");
        xml_z(ib, cls);
        lia_buf_puts(ib, "</Description>");
    }
    if (t)
        put_time(ib, "StartTime", t);
    /* the observable is the System in the EventData above */
    lia_buf_printf(ib, "<ObservableReference uid-ref=\"%s\"/></Indicator>\n", oid);
    if (b->err || ib->err)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "event too large for IODEF");
    if (fwrite(ib->ptr, 1, ib->len, x->spool) != ib->len)
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "writing the temporary file failed");
    if (tlp > x->max_tlp)
        x->max_tlp = tlp;
    if (fwrite(b->ptr, 1, b->len, x->spool_ev) != b->len)
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "writing the temporary file failed");
    crypto_generichash_update(&x->content, (const unsigned char *)b->ptr, b->len);
    crypto_generichash_update(&x->content, (const unsigned char *)ib->ptr, ib->len);
    x->events++;
    return LIA_OK;
}

int lia_iodef_export_finish(lia_iodef_export *x, lia_error *err)
{
    char chunk[65536];
    size_t n;
    int rc;
    if (x->finished)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "document already finished");
    x->finished = 1;
    lia_buf_reset(&x->out);
    if ((rc = header(x, err)))
        return rc;
    if ((rc = x->sink(x->ud, x->out.ptr, x->out.len)))
        return lia_error_set(err, rc, NULL, NULL, 0, "writing the document failed");
    lia_buf_reset(&x->out);
    for (int pass = 0; pass < 2 && x->events; pass++) {
        FILE *f = pass ? x->spool : x->spool_ev;
        if (pass && (rc = x->sink(x->ud, "<IndicatorData>\n", 16)))
            return lia_error_set(err, rc, NULL, NULL, 0, "writing the document failed");
        rewind(f);
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            if ((rc = x->sink(x->ud, chunk, n)))
                return lia_error_set(err, rc, NULL, NULL, 0, "writing the document failed");
        if (ferror(f))
            return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "reading the temporary file failed");
    }
    if (x->events)
        lia_buf_puts(&x->out, "</IndicatorData>\n");
    lia_buf_puts(&x->out, "</Incident>\n</IODEF-Document>\n");
    if ((rc = x->sink(x->ud, x->out.ptr, x->out.len)))
        return lia_error_set(err, rc, NULL, NULL, 0, "writing the document failed");
    return LIA_OK;
}
