/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Our own checks of a CSAF 2.0 document, each problem as a JSON pointer and
 * a reason (the reference validator runs in the tests: tests/csaf/). Pure. */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "advisory/internal.h"

typedef struct chk {
    lia_csaf_problem_cb cb;
    void *ud;
    size_t n;
    int stop;
    json_t *defined; /* product id -> its path */
} chk;

/* out = a + b (+ c), cut to n - 1 bytes. */
static void join3(char *out, size_t n, const char *a, const char *b, const char *c)
{
    size_t k = 0;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        for (const char *p = parts[i]; p && *p && k + 1 < n; p++)
            out[k++] = *p;
    out[k] = '\0';
}

static void join(char *out, size_t n, const char *a, const char *b)
{
    join3(out, n, a, b, NULL);
}

static void problem(chk *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(chk *c, const char *path, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    c->n++;
    if (!c->stop && c->cb && c->cb(c->ud, path, why))
        c->stop = 1;
}

/* The string at o.key, or NULL after a problem (required) or quietly. */
static const char *str(chk *c, json_t *o, const char *key, const char *path, int required)
{
    json_t *v = json_object_get(o, key);
    char p[256];
    join3(p, sizeof p, path, "/", key);
    if (!v) {
        if (required)
            problem(c, p, "required");
        return NULL;
    }
    if (!json_is_string(v) || !json_string_length(v)) {
        problem(c, p, "must be a non-empty string");
        return NULL;
    }
    return json_string_value(v);
}

static int is_datetime(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS then a fraction and Z or an offset */
    static const char form[] = "dddd-dd-ddTdd:dd:dd";
    size_t i;
    for (i = 0; form[i]; i++)
        if (!s[i] || (form[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != form[i]))
            return 0;
    s += i;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return strcmp(s, "Z") == 0 || ((s[0] == '+' || s[0] == '-') && strlen(s) == 6 && s[3] == ':');
}

static int is_int_version(const char *s)
{
    if (!*s || (s[0] == '0' && s[1]))
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static void collect_product(chk *c, json_t *fpn, const char *path)
{
    char p[512];
    const char *id;
    join(p, sizeof p, path, "/product_id");
    if (!json_is_object(fpn)) {
        problem(c, path, "a full product name must be an object");
        return;
    }
    if (!str(c, fpn, "name", path, 1) || !(id = str(c, fpn, "product_id", path, 1)))
        return;
    if (json_object_get(c->defined, id))
        problem(c, p, "product id \"%s\" is defined twice (first at %s)", id,
                json_string_value(json_object_get(c->defined, id)));
    else
        json_object_set_new(c->defined, id, json_string(p));
}

static void branches(chk *c, json_t *arr, const char *path, int depth)
{
    size_t i;
    json_t *b;
    if (depth > 30) {
        problem(c, path, "branches nested deeper than 30");
        return;
    }
    if (!json_is_array(arr) || !json_array_size(arr)) {
        problem(c, path, "must be a non-empty array");
        return;
    }
    json_array_foreach(arr, i, b)
    {
        char p[512], q[600];
        snprintf(p, sizeof p, "%s/%zu", path, i);
        str(c, b, "category", p, 1);
        str(c, b, "name", p, 1);
        if (json_object_get(b, "product")) {
            join(q, sizeof q, p, "/product");
            collect_product(c, json_object_get(b, "product"), q);
        }
        if (json_object_get(b, "branches")) {
            join(q, sizeof q, p, "/branches");
            branches(c, json_object_get(b, "branches"), q, depth + 1);
        } else if (!json_object_get(b, "product"))
            problem(c, p, "a branch has branches or a product");
    }
}

/* Each item of arr (at path) must name a defined product. */
static void refs(chk *c, json_t *arr, const char *path)
{
    size_t i;
    json_t *x;
    if (!json_is_array(arr) || !json_array_size(arr)) {
        problem(c, path, "must be a non-empty array of product ids");
        return;
    }
    json_array_foreach(arr, i, x)
    {
        char p[512];
        snprintf(p, sizeof p, "%s/%zu", path, i);
        if (!json_is_string(x))
            problem(c, p, "a product id is a string");
        else if (!json_object_get(c->defined, json_string_value(x)))
            problem(c, p, "product id \"%s\" is not defined in /product_tree", json_string_value(x));
    }
}

static void scores(chk *c, json_t *arr, const char *vpath)
{
    size_t i;
    json_t *s;
    char path[300];
    join(path, sizeof path, vpath, "/scores");
    if (!json_is_array(arr)) {
        problem(c, path, "must be an array");
        return;
    }
    json_array_foreach(arr, i, s)
    {
        char p[400], q[500];
        json_t *cv = json_object_get(s, "cvss_v3"), *bs;
        const char *vec, *ver, *sev, *why, *gsev;
        double score;
        snprintf(p, sizeof p, "%s/%zu", path, i);
        join(q, sizeof q, p, "/products");
        refs(c, json_object_get(s, "products"), q);
        if (!cv) {
            if (!json_object_get(s, "cvss_v2"))
                problem(c, p, "a score needs cvss_v3 (CVSS 3.1 is what we check)");
            continue;
        }
        join(q, sizeof q, p, "/cvss_v3");
        ver = str(c, cv, "version", q, 1);
        if (!(vec = str(c, cv, "vectorString", q, 1)))
            continue;
        join(p, sizeof p, q, "/vectorString");
        if (ver && strcmp(ver, "3.1") != 0) {
            problem(c, p, "CVSS version %s: only 3.1 is checked", ver);
            continue;
        }
        if (lia_cvss31_base(vec, &score, &sev, &why)) {
            problem(c, p, "%s", why);
            continue;
        }
        join(p, sizeof p, q, "/baseScore");
        bs = json_object_get(cv, "baseScore");
        if (!json_is_number(bs))
            problem(c, p, "required: a number (the vector gives %.1f)", score);
        else if (fabs(json_number_value(bs) - score) > 0.049)
            problem(c, p, "%.1f given, the vector gives %.1f", json_number_value(bs), score);
        join(p, sizeof p, q, "/baseSeverity");
        if ((gsev = str(c, cv, "baseSeverity", q, 1)) && strcmp(gsev, sev) != 0)
            problem(c, p, "%s given, a base score of %.1f is %s", gsev, score, sev);
    }
}

static const char *const rem_categories[] = {"mitigation", "no_fix_planned", "none_available", "vendor_fix",
                                             "workaround"};

static void vulnerabilities(chk *c, json_t *arr, int advisory)
{
    size_t i;
    json_t *v;
    json_t *cves = json_object();
    if (!json_is_array(arr)) {
        problem(c, "/vulnerabilities", "must be an array");
        json_decref(cves);
        return;
    }
    json_array_foreach(arr, i, v)
    {
        char p[64], q[128];
        const char *cve;
        json_t *st = json_object_get(v, "product_status"), *rem = json_object_get(v, "remediations");
        snprintf(p, sizeof p, "/vulnerabilities/%zu", i);
        if ((cve = str(c, v, "cve", p, 0))) {
            join(q, sizeof q, p, "/cve");
            size_t n = strlen(cve), d = 0;
            int ok = n >= 13 && strncmp(cve, "CVE-", 4) == 0 && cve[8] == '-';
            for (size_t k = 4; ok && k < 8; k++)
                ok = cve[k] >= '0' && cve[k] <= '9';
            for (const char *x = cve + 9; ok && *x; x++, d++)
                ok = *x >= '0' && *x <= '9';
            if (!ok || d < 4)
                problem(c, q, "\"%s\" is not a CVE id (CVE-YYYY-NNNN...)", cve);
            else if (json_object_get(cves, cve))
                problem(c, q, "%s is used by two vulnerabilities", cve);
            json_object_set_new(cves, cve, json_true());
        }
        if (advisory && !json_array_size(json_object_get(v, "notes"))) {
            join(q, sizeof q, p, "/notes");
            problem(c, q, "a security advisory needs a note for each vulnerability (vuln-note)");
        }
        join(q, sizeof q, p, "/product_status");
        if (!json_is_object(st) || !json_object_size(st)) {
            if (advisory)
                problem(
                    c, q,
                    "a security advisory needs the product status of each vulnerability (affects, fixed)");
        } else {
            const char *k;
            json_t *x;
            json_object_foreach(st, k, x)
            {
                char r[200];
                join3(r, sizeof r, q, "/", k);
                refs(c, x, r);
            }
        }
        if (json_object_get(v, "scores"))
            scores(c, json_object_get(v, "scores"), p);
        if (rem) {
            size_t j;
            json_t *r;
            json_array_foreach(rem, j, r)
            {
                char rp[160], fp[200];
                const char *cat;
                int ok = 0;
                snprintf(rp, sizeof rp, "%s/remediations/%zu", p, j);
                if ((cat = str(c, r, "category", rp, 1))) {
                    for (size_t k = 0; k < sizeof rem_categories / sizeof *rem_categories; k++)
                        ok |= strcmp(cat, rem_categories[k]) == 0;
                    if (!ok) {
                        join(fp, sizeof fp, rp, "/category");
                        problem(c, fp, "\"%s\" is not a remediation category of CSAF 2.0", cat);
                    }
                }
                str(c, r, "details", rp, 1);
                join(fp, sizeof fp, rp, "/product_ids");
                if (!json_object_get(r, "product_ids") && !json_object_get(r, "group_ids"))
                    problem(c, fp, "a remediation names its products (product_ids or group_ids)");
                else if (json_object_get(r, "product_ids"))
                    refs(c, json_object_get(r, "product_ids"), fp);
            }
        }
    }
    json_decref(cves);
}

static void tracking(chk *c, json_t *t)
{
    const char *version, *status, *s;
    json_t *rh = json_object_get(t, "revision_history"), *r;
    size_t i;
    if (!json_is_object(t)) {
        problem(c, "/document/tracking", "required: an object");
        return;
    }
    if ((s = str(c, t, "id", "/document/tracking", 1))) {
        for (const char *p = s; *p; p++)
            if ((unsigned char)*p < ' ') {
                problem(c, "/document/tracking/id", "has control characters");
                break;
            }
    }
    const char *dates[] = {"current_release_date", "initial_release_date"};
    for (i = 0; i < 2; i++)
        if ((s = str(c, t, dates[i], "/document/tracking", 1)) && !is_datetime(s)) {
            char p[80];
            snprintf(p, sizeof p, "/document/tracking/%s", dates[i]);
            problem(c, p, "\"%s\" is not an RFC 3339 date-time", s);
        }
    status = str(c, t, "status", "/document/tracking", 1);
    if (status && strcmp(status, "draft") && strcmp(status, "interim") && strcmp(status, "final"))
        problem(c, "/document/tracking/status", "draft, interim or final, not \"%s\"", status);
    version = str(c, t, "version", "/document/tracking", 1);
    if (version && !is_int_version(version))
        problem(c, "/document/tracking/version", "\"%s\": we number versions 0, 1, 2, ...", version);
    if (version && status && strcmp(version, "0") == 0 && strcmp(status, "draft") != 0)
        problem(c, "/document/tracking/status", "version 0 is a draft, not %s", status);
    if (!json_is_array(rh) || !json_array_size(rh)) {
        problem(c, "/document/tracking/revision_history", "required: at least one revision");
        return;
    }
    const char *last = NULL, *prev_date = NULL;
    json_array_foreach(rh, i, r)
    {
        char p[80];
        const char *num, *date;
        snprintf(p, sizeof p, "/document/tracking/revision_history/%zu", i);
        num = str(c, r, "number", p, 1);
        date = str(c, r, "date", p, 1);
        str(c, r, "summary", p, 1);
        if (date && !is_datetime(date)) {
            char q[100];
            join(q, sizeof q, p, "/date");
            problem(c, q, "\"%s\" is not an RFC 3339 date-time", date);
        }
        if (date && prev_date && strcmp(date, prev_date) < 0) {
            char q[100];
            join(q, sizeof q, p, "/date");
            problem(c, q, "revisions go oldest first");
        }
        if (status && strcmp(status, "draft") != 0 && num && strcmp(num, "0") == 0) {
            char q[100];
            join(q, sizeof q, p, "/number");
            problem(c, q, "a released document has no revision 0 (drafts are not in its history)");
        }
        prev_date = date;
        last = num;
    }
    if (last && version && strcmp(last, version) != 0)
        problem(c, "/document/tracking/version", "\"%s\", but the last revision is \"%s\"", version, last);
}

int lia_csaf_check(const char *json, size_t len, lia_csaf_problem_cb cb, void *ud, size_t *nproblems,
                   lia_error *err)
{
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je), *d, *x;
    chk c = {cb, ud, 0, 0, json_object()};
    const char *cat = NULL, *s;
    int advisory = 0, incident = 0;
    if (!json_is_object(o)) {
        json_decref(c.defined);
        lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "not a JSON object%s%s", o ? "" : ": ",
                      o ? "" : je.text);
        if (!o)
            lia_error_where(err, "document", (uint64_t)je.line);
        json_decref(o);
        return LIA_EPARSE;
    }
    d = json_object_get(o, "document");
    if (!json_is_object(d)) {
        problem(&c, "/document", "required: an object");
        goto products; /* the product tree and vulnerabilities are still checked */
    }
    if ((s = str(&c, d, "csaf_version", "/document", 1)) && strcmp(s, "2.0") != 0)
        problem(&c, "/document/csaf_version", "\"%s\": this is CSAF 2.0", s);
    if ((cat = str(&c, d, "category", "/document", 1))) {
        advisory = strcmp(cat, "csaf_security_advisory") == 0;
        incident = strcmp(cat, "csaf_security_incident_response") == 0;
        if (!advisory && !incident)
            problem(&c, "/document/category",
                    "\"%s\": we publish csaf_security_advisory and csaf_security_incident_response", cat);
    }
    str(&c, d, "title", "/document", 1);
    x = json_object_get(d, "publisher");
    if (!json_is_object(x))
        problem(&c, "/document/publisher", "required: an object (advisory provider publisher_name=...)");
    else {
        const char *pc = str(&c, x, "category", "/document/publisher", 1);
        static const char *const pcs[] = {"coordinator", "discoverer", "other",
                                          "translator",  "user",       "vendor"};
        int ok = 0;
        for (size_t i = 0; pc && i < sizeof pcs / sizeof *pcs; i++)
            ok |= strcmp(pc, pcs[i]) == 0;
        if (pc && !ok)
            problem(&c, "/document/publisher/category", "\"%s\" is not a publisher category of CSAF 2.0", pc);
        str(&c, x, "name", "/document/publisher", 1);
        if ((s = str(&c, x, "namespace", "/document/publisher", 1)) && strncmp(s, "https://", 8) != 0 &&
            strncmp(s, "http://", 7) != 0)
            problem(&c, "/document/publisher/namespace", "\"%s\" is not a URL", s);
    }
    tracking(&c, json_object_get(d, "tracking"));
    x = json_object_get(json_object_get(d, "distribution"), "tlp");
    if (!x)
        problem(&c, "/document/distribution/tlp/label",
                "required here: the TLP decides who may fetch the document (tlp: CLEAR, GREEN, AMBER, RED)");
    else if ((s = str(&c, x, "label", "/document/distribution/tlp", 1)) && lia_csaf_tlp_parse(s) < 0)
        problem(&c, "/document/distribution/tlp/label",
                "\"%s\" is not a TLP label of CSAF 2.0 (WHITE, GREEN, AMBER, RED)", s);
    if (incident) {
        int has_note = 0, has_ref = 0;
        size_t i;
        json_t *n;
        json_array_foreach(json_object_get(d, "notes"), i, n)
        {
            const char *nc = json_string_value(json_object_get(n, "category"));
            has_note |= nc && (!strcmp(nc, "description") || !strcmp(nc, "details") ||
                               !strcmp(nc, "general") || !strcmp(nc, "summary"));
        }
        json_array_foreach(json_object_get(d, "references"), i, n)
        {
            const char *rc = json_string_value(json_object_get(n, "category"));
            has_ref |= rc && !strcmp(rc, "external");
        }
        if (!has_note)
            problem(&c, "/document/notes",
                    "an incident response needs a summary, details, description or general note");
        if (!has_ref)
            problem(&c, "/document/references",
                    "an incident response needs an external reference (reference: URL SUMMARY)");
    }
products:
    x = json_object_get(o, "product_tree");
    if (x) {
        if (json_object_get(x, "branches"))
            branches(&c, json_object_get(x, "branches"), "/product_tree/branches", 0);
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(x, "full_product_names"), i, f)
        {
            char p[80];
            snprintf(p, sizeof p, "/product_tree/full_product_names/%zu", i);
            collect_product(&c, f, p);
        }
        json_array_foreach(json_object_get(x, "relationships"), i, f)
        {
            char p[80];
            snprintf(p, sizeof p, "/product_tree/relationships/%zu/full_product_name", i);
            collect_product(&c, json_object_get(f, "full_product_name"), p);
        }
    } else if (advisory)
        problem(&c, "/product_tree",
                "a security advisory needs a product tree (product: ID=VENDOR/PRODUCT/VERSION)");
    if ((x = json_object_get(o, "vulnerabilities")))
        vulnerabilities(&c, x, advisory);
    json_decref(c.defined);
    json_decref(o);
    *nproblems = c.n;
    return LIA_OK;
}
