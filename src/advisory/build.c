/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* A CSAF 2.0 document from simple fields ("key: value"), the simple input
 * file, and a JSON object of the same keys. Pure: no store, no I/O. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "advisory/internal.h"
#include "liaison/field.h"

static const char *const keys[] = {"id",      "title",   "category",   "tlp",       "lang",
                                   "summary", "details", "sectors",    "countries", "reference",
                                   "product", "cve",     "vuln-title", "vuln-note", "cvss",
                                   "affects", "fixed",   "remediation"};

static const char *const rem_categories[] = {"mitigation", "no_fix_planned", "none_available", "vendor_fix",
                                             "workaround"};

int lia__advisory_known_key(const char *k)
{
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strcmp(keys[i], k) == 0)
            return 1;
    return 0;
}

size_t lia__csaf_time(int64_t us, char *out, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    return strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

int lia_advisory_fields_parse(char *text, lia_advisory_field *out, size_t max, size_t *n, lia_error *err)
{
    size_t k = 0;
    uint64_t line = 0;
    char *p = text;
    while (p && *p) {
        char *nl = strchr(p, '\n'), *colon, *key;
        line++;
        if (nl)
            *nl = '\0';
        key = trim(p);
        p = nl ? nl + 1 : NULL;
        if (!*key || *key == '#')
            continue;
        if (!(colon = strchr(key, ':'))) {
            lia_error_set(err, LIA_EPARSE, NULL, key, strlen(key), "not a line \"key: value\"");
            lia_error_where(err, "input", line);
            return LIA_EPARSE;
        }
        *colon = '\0';
        key = trim(key);
        if (!lia__advisory_known_key(key)) {
            lia_error_set(err, LIA_EPARSE, key, NULL, 0,
                          "unknown key (id title category tlp lang summary details sectors countries "
                          "reference product cve vuln-title vuln-note cvss affects fixed remediation)");
            lia_error_where(err, "input", line);
            return LIA_EPARSE;
        }
        if (k == max) {
            lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "more than %zu fields", max);
            lia_error_where(err, "input", line);
            return LIA_ELIMIT;
        }
        out[k].key = key;
        out[k].value = trim(colon + 1);
        k++;
    }
    *n = k;
    return LIA_OK;
}

static void put_line(lia_buf *out, const char *key, const char *v)
{
    lia_buf_printf(out, "%s: ", key);
    for (; *v; v++)
        lia_buf_putc(out, *v == '\n' || *v == '\r' ? ' ' : *v);
    lia_buf_putc(out, '\n');
}

int lia_advisory_fields_from_json(const char *json, size_t len, lia_buf *out, lia_error *err)
{
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je), *v;
    const char *k;
    int rc = LIA_OK;
    if (!json_is_object(o)) {
        rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "%s", o ? "not a JSON object" : je.text);
        lia_error_where(err, "input", o ? 0 : (uint64_t)je.line);
        goto out;
    }
    json_object_foreach(o, k, v)
    {
        if (!lia__advisory_known_key(k)) {
            rc = lia_error_set(err, LIA_EPARSE, k, NULL, 0, "unknown key");
            goto out;
        }
        if (json_is_string(v))
            put_line(out, k, json_string_value(v));
        else if (json_is_array(v)) {
            size_t i;
            json_t *x;
            json_array_foreach(v, i, x)
            {
                if (!json_is_string(x)) {
                    rc = lia_error_set(err, LIA_EPARSE, k, NULL, 0, "item %zu is not a string", i);
                    goto out;
                }
                put_line(out, k, json_string_value(x));
            }
        } else {
            rc = lia_error_set(err, LIA_EPARSE, k, NULL, 0, "a string or an array of strings");
            goto out;
        }
    }
    if (out->err)
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "the fields are too large");
out:
    json_decref(o);
    return rc;
}

/* ---- the builder ---- */

typedef struct bld {
    json_t *doc, *notes, *refs, *products, *vulns, *cur;
    const char *id, *title, *category, *tlp_label, *lang, *summary, *details, *sectors, *countries;
} bld;

static int fail(lia_error *err, const lia_advisory_field *f, size_t i, const char *why)
{
    lia_error_set(err, LIA_EINVAL, f->key, f->value, strlen(f->value), "%s", why);
    lia_error_where(err, "fields", i + 1);
    return LIA_EINVAL;
}

static void add_unique(json_t *arr, const char *s, size_t n)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) if (strlen(json_string_value(x)) == n &&
                                      memcmp(json_string_value(x), s, n) == 0) return;
    json_array_append_new(arr, json_stringn(s, n));
}

/* "A,B, C" appended to arr (each once); 0 if an item is empty. */
static int add_list(json_t *arr, const char *v)
{
    while (*v) {
        const char *e = strchr(v, ',');
        size_t n;
        if (!e)
            e = v + strlen(v);
        while (*v == ' ')
            v++;
        n = (size_t)(e - v);
        while (n && v[n - 1] == ' ')
            n--;
        if (!n)
            return 0;
        add_unique(arr, v, n);
        v = *e ? e + 1 : e;
    }
    return 1;
}

static json_t *vuln_get(bld *b, const char *cve)
{
    size_t i;
    json_t *v;
    json_array_foreach(b->vulns, i,
                       v) if (strcmp(json_string_value(json_object_get(v, "cve")), cve) == 0) return v;
    v = json_pack("{s:s, s:[], s:[], s:[], s:[]}", "cve", cve, "scores", "rems", "affected", "fixed");
    json_array_append_new(b->vulns, v);
    return v;
}

static int valid_cve(const char *s)
{
    size_t n = strlen(s), d = 0;
    if (n < 13 || strncmp(s, "CVE-", 4) != 0)
        return 0;
    for (int i = 4; i < 8; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    if (s[8] != '-')
        return 0;
    for (const char *p = s + 9; *p; p++, d++)
        if (*p < '0' || *p > '9')
            return 0;
    return d >= 4;
}

static int field(bld *b, const lia_advisory_field *f, size_t i, lia_error *err)
{
    const char *k = f->key, *v = f->value;
    const char *why;
    if (!lia__advisory_known_key(k))
        return fail(err, f, i, "unknown key");
    if (!*v && strcmp(k, "sectors") != 0 && strcmp(k, "countries") != 0)
        return fail(err, f, i, "empty value");
    if (strcmp(k, "id") == 0) {
        if (strlen(v) >= LIA_ADVISORY_ID_MAX)
            return fail(err, f, i, "tracking id longer than 127 bytes");
        for (const char *p = v; *p; p++)
            if ((unsigned char)*p <= ' ' || *p == '/')
                return fail(err, f, i, "a tracking id has no spaces, control characters or '/'");
        b->id = v;
    } else if (strcmp(k, "title") == 0)
        b->title = v;
    else if (strcmp(k, "category") == 0) {
        if (strcmp(v, "advisory") == 0 || strcmp(v, "csaf_security_advisory") == 0)
            b->category = "csaf_security_advisory";
        else if (strcmp(v, "incident") == 0 || strcmp(v, "csaf_security_incident_response") == 0)
            b->category = "csaf_security_incident_response";
        else
            return fail(err, f, i,
                        "a category we publish: advisory (csaf_security_advisory) or incident "
                        "(csaf_security_incident_response)");
    } else if (strcmp(k, "tlp") == 0) {
        int t;
        if (lia_parse_tlp(v, strlen(v), &t, &why))
            return fail(err, f, i, "not a TLP label (CLEAR, GREEN, AMBER, RED)");
        if (!(b->tlp_label = lia_csaf_tlp_label(t, &why)))
            return fail(err, f, i, why);
    } else if (strcmp(k, "lang") == 0)
        b->lang = v;
    else if (strcmp(k, "summary") == 0)
        b->summary = v;
    else if (strcmp(k, "details") == 0)
        b->details = v;
    else if (strcmp(k, "sectors") == 0)
        b->sectors = *v ? v : NULL;
    else if (strcmp(k, "countries") == 0)
        b->countries = *v ? v : NULL;
    else if (strcmp(k, "reference") == 0) {
        const char *sp = strchr(v, ' ');
        size_t ul = sp ? (size_t)(sp - v) : strlen(v);
        if (ul < 8 || (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0))
            return fail(err, f, i, "a reference is \"URL SUMMARY\" with an http(s) URL");
        json_array_append_new(b->refs, json_pack("{s:s, s:s%, s:s}", "category", "external", "url", v, ul,
                                                 "summary", sp && sp[1] ? sp + 1 : "Reference"));
    } else if (strcmp(k, "product") == 0) {
        const char *eq = strchr(v, '='), *s1, *s2;
        if (!eq || eq == v || !(s1 = strchr(eq + 1, '/')) || s1 == eq + 1 || !(s2 = strchr(s1 + 1, '/')) ||
            s2 == s1 + 1 || !s2[1])
            return fail(err, f, i, "a product is ID=VENDOR/PRODUCT/VERSION");
        char id[256];
        if ((size_t)(eq - v) >= sizeof id)
            return fail(err, f, i, "product id longer than 255 bytes");
        memcpy(id, v, (size_t)(eq - v));
        id[eq - v] = '\0';
        json_object_set_new(b->products, id,
                            json_pack("{s:s%, s:s%, s:s}", "vendor", eq + 1, (size_t)(s1 - eq - 1), "name",
                                      s1 + 1, (size_t)(s2 - s1 - 1), "version", s2 + 1));
    } else if (strcmp(k, "cve") == 0) {
        if (!valid_cve(v))
            return fail(err, f, i, "not a CVE id (CVE-YYYY-NNNN...)");
        b->cur = vuln_get(b, v);
    } else {
        json_t *c = b->cur;
        if (!c)
            return fail(err, f, i, "a vulnerability field before any cve field");
        if (strcmp(k, "vuln-title") == 0)
            json_object_set_new(c, "title", json_string(v));
        else if (strcmp(k, "vuln-note") == 0)
            json_object_set_new(c, "note", json_string(v));
        else if (strcmp(k, "affects") == 0 || strcmp(k, "fixed") == 0) {
            if (!add_list(json_object_get(c, strcmp(k, "fixed") == 0 ? "fixed" : "affected"), v))
                return fail(err, f, i, "a comma-separated list of product ids");
        } else if (strcmp(k, "cvss") == 0) {
            char vec[256];
            const char *sp = strchr(v, ' '), *sev;
            size_t vl = sp ? (size_t)(sp - v) : strlen(v);
            double score, given;
            if (vl >= sizeof vec)
                return fail(err, f, i, "CVSS vector longer than 255 bytes");
            memcpy(vec, v, vl);
            vec[vl] = '\0';
            if (lia_cvss31_base(vec, &score, &sev, &why))
                return fail(err, f, i, why);
            if (sp) {
                char *end;
                given = strtod(sp + 1, &end);
                if (end == sp + 1 || *trim(end) || given < 0 || given > 10)
                    return fail(err, f, i, "the score after the vector is a number 0.0 to 10.0");
                if ((long)(given * 10 + 0.5) != (long)(score * 10 + 0.5)) {
                    char msg[160];
                    snprintf(msg, sizeof msg, "the vector's base score is %.1f, not %.1f", score, given);
                    return fail(err, f, i, msg);
                }
            }
            json_array_clear(json_object_get(c, "scores")); /* one CVSS 3.1 score per vulnerability */
            json_array_append_new(json_object_get(c, "scores"),
                                  json_pack("{s:s, s:s, s:f, s:s}", "version", "3.1", "vectorString", vec,
                                            "baseScore", score, "baseSeverity", sev));
        } else if (strcmp(k, "remediation") == 0) {
            const char *colon = strchr(v, ':'), *br = strchr(v, '[');
            size_t cl;
            int ok = 0;
            json_t *pids = json_array();
            if (!colon || !colon[1]) {
                json_decref(pids);
                return fail(err, f, i, "a remediation is \"CATEGORY: text\" or \"CATEGORY[P1,P2]: text\"");
            }
            if (br && br < colon) {
                const char *close = strchr(br, ']');
                char list[1024];
                if (!close || close > colon || (size_t)(close - br - 1) >= sizeof list) {
                    json_decref(pids);
                    return fail(err, f, i, "the products of a remediation go in [P1,P2] before the ':'");
                }
                memcpy(list, br + 1, (size_t)(close - br - 1));
                list[close - br - 1] = '\0';
                if (!add_list(pids, list)) {
                    json_decref(pids);
                    return fail(err, f, i, "a comma-separated list of product ids in [ ]");
                }
                cl = (size_t)(br - v);
            } else
                cl = (size_t)(colon - v);
            for (size_t r = 0; r < sizeof rem_categories / sizeof *rem_categories; r++)
                ok |= strlen(rem_categories[r]) == cl && memcmp(rem_categories[r], v, cl) == 0;
            if (!ok) {
                json_decref(pids);
                return fail(err, f, i,
                            "a remediation category of CSAF 2.0: mitigation, no_fix_planned, none_available, "
                            "vendor_fix, workaround");
            }
            const char *text = colon + 1;
            while (*text == ' ')
                text++;
            json_array_append_new(json_object_get(c, "rems"), json_pack("{s:s%, s:s, s:o}", "category", v, cl,
                                                                        "details", text, "products", pids));
        }
    }
    return LIA_OK;
}

static void note(json_t *notes, const char *category, const char *title, const char *text)
{
    json_array_append_new(notes,
                          json_pack("{s:s, s:s, s:s}", "category", category, "text", text, "title", title));
}

static void lower_cpe(char *out, size_t n, const char *s)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        else if (c == ' ')
            c = '_';
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            continue;
        out[k++] = c;
    }
    out[k] = '\0';
    if (!k && n > 1)
        out[0] = '-', out[1] = '\0';
}

/* product_tree.branches: vendor -> product_name -> product_version. */
static json_t *product_tree(json_t *products)
{
    json_t *vendors = json_array(), *p;
    const char *id;
    json_object_foreach(products, id, p)
    {
        const char *vn = json_string_value(json_object_get(p, "vendor")),
                   *pn = json_string_value(json_object_get(p, "name")),
                   *ver = json_string_value(json_object_get(p, "version"));
        json_t *vb = NULL, *pb = NULL, *x;
        size_t i;
        json_array_foreach(vendors, i, x) if (strcmp(json_string_value(json_object_get(x, "name")), vn) == 0)
            vb = x;
        if (!vb) {
            vb = json_pack("{s:s, s:s, s:[]}", "category", "vendor", "name", vn, "branches");
            json_array_append_new(vendors, vb);
        }
        json_array_foreach(json_object_get(vb, "branches"), i,
                           x) if (strcmp(json_string_value(json_object_get(x, "name")), pn) == 0) pb = x;
        if (!pb) {
            pb = json_pack("{s:s, s:s, s:[]}", "category", "product_name", "name", pn, "branches");
            json_array_append_new(json_object_get(vb, "branches"), pb);
        }
        char full[1024], cv[128], cp[128], cr[128], cpe[512];
        snprintf(full, sizeof full, "%s %s %s", vn, pn, ver);
        lower_cpe(cv, sizeof cv, vn);
        lower_cpe(cp, sizeof cp, pn);
        lower_cpe(cr, sizeof cr, ver);
        snprintf(cpe, sizeof cpe, "cpe:2.3:a:%s:%s:%s:*:*:*:*:*:*:*", cv, cp, cr);
        json_array_append_new(json_object_get(pb, "branches"),
                              json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}}", "category", "product_version",
                                        "name", ver, "product", "name", full, "product_id", id,
                                        "product_identification_helper", "cpe", cpe));
    }
    return json_pack("{s:o}", "branches", vendors);
}

static json_t *vulnerability(json_t *v)
{
    json_t *out = json_pack("{s:O}", "cve", json_object_get(v, "cve")), *aff = json_object_get(v, "affected"),
           *fixed = json_object_get(v, "fixed"), *scores = json_object_get(v, "scores"),
           *rems = json_object_get(v, "rems"), *st = json_object(), *x;
    size_t i;
    if (json_object_get(v, "title"))
        json_object_set(out, "title", json_object_get(v, "title"));
    if (json_object_get(v, "note"))
        json_object_set_new(out, "notes",
                            json_pack("[{s:s, s:O, s:s}]", "category", "description", "text",
                                      json_object_get(v, "note"), "title", "Vulnerability description"));
    if (json_array_size(aff))
        json_object_set(st, "known_affected", aff);
    if (json_array_size(fixed))
        json_object_set(st, "fixed", fixed);
    json_object_set_new(out, "product_status", st);
    if (json_array_size(rems)) {
        json_t *ra = json_array();
        json_array_foreach(rems, i, x)
        {
            json_t *pids = json_object_get(x, "products");
            json_array_append_new(ra, json_pack("{s:O, s:O, s:O}", "category", json_object_get(x, "category"),
                                                "details", json_object_get(x, "details"), "product_ids",
                                                json_array_size(pids) ? pids : aff));
        }
        json_object_set_new(out, "remediations", ra);
    }
    if (json_array_size(scores)) {
        json_t *sa = json_array();
        json_array_foreach(scores, i, x)
            json_array_append_new(sa, json_pack("{s:O, s:O}", "cvss_v3", x, "products", aff));
        json_object_set_new(out, "scores", sa);
    }
    return out;
}

int lia_advisory_build(const lia_advisory_field *f, size_t n, const lia_csaf_publisher *pub, int64_t now_us,
                       lia_buf *out, lia_error *err)
{
    bld b = {0};
    int rc = LIA_OK;
    char now[32];
    b.refs = json_array();
    b.products = json_object();
    b.vulns = json_array();
    for (size_t i = 0; i < n && !rc; i++)
        rc = field(&b, &f[i], i, err);
    if (rc)
        goto out;
    lia__csaf_time(now_us, now, sizeof now);
    json_t *doc = json_object(), *d = json_object(), *notes = json_array(), *p;
    json_object_set_new(d, "category", json_string(b.category ? b.category : "csaf_security_advisory"));
    json_object_set_new(d, "csaf_version", json_string("2.0"));
    if (b.tlp_label)
        json_object_set_new(
            d, "distribution",
            json_pack("{s:{s:s, s:s}}", "tlp", "label", b.tlp_label, "url", "https://www.first.org/tlp/"));
    json_object_set_new(d, "lang", json_string(b.lang ? b.lang : "en"));
    if (b.summary)
        note(notes, "summary", "Summary", b.summary);
    if (b.details)
        note(notes, "details", "Details", b.details);
    /* as CISA's ICS advisories name them */
    if (b.sectors)
        note(notes, "other", "Critical infrastructure sectors", b.sectors);
    if (b.countries)
        note(notes, "other", "Countries/areas deployed", b.countries);
    if (json_array_size(notes))
        json_object_set(d, "notes", notes);
    json_decref(notes);
    p = json_pack("{s:s, s:s, s:s}", "category", pub && pub->category ? pub->category : "coordinator", "name",
                  pub && pub->name ? pub->name : "", "namespace",
                  pub && pub->namespace_url ? pub->namespace_url : "");
    if (pub && pub->contact)
        json_object_set_new(p, "contact_details", json_string(pub->contact));
    json_object_set_new(d, "publisher", p);
    if (json_array_size(b.refs))
        json_object_set(d, "references", b.refs);
    if (b.title)
        json_object_set_new(d, "title", json_string(b.title));
    json_object_set_new(d, "tracking",
                        json_pack("{s:s, s:{s:s, s:{s:s}}, s:s, s:s, s:[{s:s, s:s, s:s}], s:s, s:s}",
                                  "current_release_date", now, "generator", "date", now, "engine", "name",
                                  "Liaison", "id", b.id ? b.id : "", "initial_release_date", now,
                                  "revision_history", "date", now, "number", "0", "summary", "Draft",
                                  "status", "draft", "version", "0"));
    json_object_set_new(doc, "document", d);
    if (json_object_size(b.products))
        json_object_set_new(doc, "product_tree", product_tree(b.products));
    if (json_array_size(b.vulns)) {
        json_t *va = json_array(), *v;
        size_t i;
        json_array_foreach(b.vulns, i, v) json_array_append_new(va, vulnerability(v));
        json_object_set_new(doc, "vulnerabilities", va);
    }
    rc = lia__csaf_dump(doc, out, err);
    json_decref(doc);
out:
    json_decref(b.refs);
    json_decref(b.products);
    json_decref(b.vulns);
    return rc;
}

int lia__csaf_dump(json_t *doc, lia_buf *out, lia_error *err)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(3));
    if (!s)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory writing the document");
    lia_buf_puts(out, s);
    lia_buf_putc(out, '\n');
    free(s);
    if (out->err)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "the document is larger than %u bytes",
                             LIA_ADVISORY_MAX_DOC);
    return LIA_OK;
}
