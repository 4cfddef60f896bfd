/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The directory: parties (owners and partners), the field table, validation
 * and normalisation of every value, the `party` table in the store, and CSV /
 * YAML parsing and export. Kind-specific indexes live in owners.c and
 * partners.c. The directory knows nothing of routing: the edits that must
 * leave the routing configuration loadable (lia_party_save, _remove,
 * _import) are in load.c, above it. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "liaison/csv.h"
#include "liaison/limits.h"
#include "liaison/incident.h"
#include "liaison/route.h"
#include "audit/log.h"
#include "route/internal.h"
#include "route/yaml.h"
#include "store/db.h"
#include "core/field_internal.h"

#define OW (1u << LIA_PARTY_OWNER)
#define PA (1u << LIA_PARTY_PARTNER)

static const struct pfield {
    const char *name;
    int list;
    unsigned kinds;
} pfields[LIA_PF__COUNT] = {
    [LIA_PF_NAME] = {"name", 0, OW | PA},
    [LIA_PF_COUNTRY] = {"country", 0, OW},
    [LIA_PF_ASNS] = {"asns", 1, OW},
    [LIA_PF_CIDRS] = {"cidrs", 1, OW},
    [LIA_PF_DOMAINS] = {"domains", 1, OW},
    [LIA_PF_COUNTRIES] = {"countries", 1, PA},
    [LIA_PF_CONTACTS] = {"contacts", 1, OW | PA},
    [LIA_PF_LANGUAGES] = {"languages", 1, OW | PA},
    [LIA_PF_FORMAT] = {"format", 0, OW | PA},
    [LIA_PF_PGP] = {"pgp_fingerprint", 0, OW | PA},
    [LIA_PF_TIMEZONE] = {"timezone", 0, OW | PA},
    [LIA_PF_TLP_MAX] = {"tlp_max", 0, OW | PA},
    [LIA_PF_CHANNELS] = {"channels", 1, PA},
    [LIA_PF_AGREEMENT] = {"agreement", 0, PA},
    [LIA_PF_INTERVAL] = {"interval", 0, OW | PA},
    [LIA_PF_HOURS] = {"business_hours", 0, OW | PA},
    [LIA_PF_HOLIDAYS] = {"holidays", 1, OW | PA},
    [LIA_PF_SLA] = {"sla", 1, OW | PA},
    [LIA_PF_STATS_SHARED] = {"stats_shared", 0, PA},
};

const char *lia_party_kind_name(int kind)
{
    return kind == LIA_PARTY_OWNER ? "owner" : kind == LIA_PARTY_PARTNER ? "partner" : "?";
}

const char *lia_pfield_name(int f)
{
    return f >= 0 && f < LIA_PF__COUNT ? pfields[f].name : NULL;
}

int lia_pfield_is_list(int f)
{
    return f >= 0 && f < LIA_PF__COUNT && pfields[f].list;
}

int lia_party_field_allowed(int kind, int f)
{
    return f >= 0 && f < LIA_PF__COUNT && kind >= 1 && kind <= 2 && (pfields[f].kinds & (1u << kind));
}

int lia_pfield_lookup(const char *name, size_t n)
{
    for (int i = 0; i < LIA_PF__COUNT; i++)
        if (strlen(pfields[i].name) == n && memcmp(pfields[i].name, name, n) == 0)
            return i;
    if (n == 8 && memcmp(name, "language", 8) == 0)
        return LIA_PF_LANGUAGES;
    if (n == 3 && memcmp(name, "pgp", 3) == 0)
        return LIA_PF_PGP;
    return -1;
}

void lia_party_init(lia_party *p, int kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
}

static void list_clear(lia_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    l->n = 0;
}

void lia_party_clear(lia_party *p, int f)
{
    if (f >= 0 && f < LIA_PF__COUNT)
        list_clear(&p->f[f]);
}

void lia_party_free(lia_party *p)
{
    for (int f = 0; f < LIA_PF__COUNT; f++) {
        list_clear(&p->f[f]);
        free(p->f[f].v);
    }
    memset(p->f, 0, sizeof p->f);
}

int lia__party_copy(lia_party *d, const lia_party *s)
{
    lia_party_init(d, s->kind);
    memcpy(d->id, s->id, sizeof d->id);
    for (int f = 0; f < LIA_PF__COUNT; f++)
        for (size_t i = 0; i < s->f[f].n; i++)
            if (lia_party_add(d, f, s->f[f].v[i], strlen(s->f[f].v[i]), 0, NULL) != LIA_OK) {
                /* values are already normalised; a failure is memory */
                lia_party_free(d);
                return LIA_ENOMEM;
            }
    return LIA_OK;
}

const char *lia_party_get(const lia_party *p, int f)
{
    return f >= 0 && f < LIA_PF__COUNT && p->f[f].n ? p->f[f].v[0] : NULL;
}

int lia_party_id_ok(const char *id, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              (i > 0 && (c == '.' || c == '_' || c == '-'))))
            return 0;
    }
    return 1;
}

int lia_party_set_id(lia_party *p, const char *id, size_t n, lia_error *err)
{
    if (n == 0 || n > 64)
        return lia_error_set(err, LIA_EINVAL, "id", id, n, "an id has 1 to 64 characters");
    if (!lia_party_id_ok(id, n))
        return lia_error_set(
            err, LIA_EINVAL, "id", id, n,
            "an id is lower-case letters, digits and . _ - (starting with a letter or digit)");
    memcpy(p->id, id, n);
    p->id[n] = '\0';
    return LIA_OK;
}

/* ---- value validators: normalised text into out ---- */

/* "://" in s[0..n): a URL, not ROOT/COLLECTION. */
static int has_scheme(const char *s, size_t n)
{
    for (size_t i = 0; i + 3 <= n; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
            return 1;
    return 0;
}

/* One path segment of a local TAXII channel: API root or collection id. */
static int taxii_segment(const char *s, size_t n)
{
    if (n == 0 || n >= LIA_TAXII_MAX_ID)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-' || c == '~'))
            return 0;
    }
    return !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

/* "ROOT/COLLECTION" (after "taxii:") into ch. */
static int taxii_local(const char *s, size_t n, lia_channel *ch, const char **why)
{
    const char *sl = memchr(s, '/', n);
    size_t a = sl ? (size_t)(sl - s) : 0, b = sl ? n - a - 1 : 0;
    if (!sl || memchr(sl + 1, '/', b)) {
        *why = "a taxii channel is taxii:API_ROOT/COLLECTION_ID (a collection on our server) or "
               "taxii:https://... (a partner's server)";
        return LIA_EINVAL;
    }
    if (!taxii_segment(s, a) || !taxii_segment(sl + 1, b)) {
        *why = "the API root and the collection id are one path segment each, of letters, digits and . _ - ~";
        return LIA_EINVAL;
    }
    memset(ch, 0, sizeof *ch);
    ch->kind = LIA_CHANNEL_TAXII;
    memcpy(ch->api_root, s, a);
    memcpy(ch->collection, sl + 1, b);
    ch->value = s;
    ch->value_len = n;
    return LIA_OK;
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int lia__email_norm(const char *s, size_t n, lia_buf *out, const char **why)
{
    const char *at = NULL;
    char dom[LIA_MAX_FQDN + 1];
    size_t dl;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '@')
            at = s + i;
    if (!at || at == s || (size_t)(at - s) > 64) {
        *why = "an e-mail address is LOCAL@DOMAIN";
        return LIA_EINVAL;
    }
    for (const char *c = s; c < at; c++)
        if (!is_alnum(*c) && !strchr(".!#$%&'*+/=?^_`{|}~-", *c)) {
            *why = "unsupported character in the local part of an e-mail address";
            return LIA_EINVAL;
        }
    *why = NULL;
    if (lia_parse_fqdn(at + 1, n - (size_t)(at + 1 - s), dom, sizeof dom, &dl, why))
        return LIA_EINVAL;
    if (!memchr(dom, '.', dl)) {
        *why = "the domain of an e-mail address must be a dotted host name";
        return LIA_EINVAL;
    }
    lia_buf_append(out, s, (size_t)(at - s) + 1);
    lia_buf_append(out, dom, dl);
    return LIA_OK;
}

static int norm_value(int f, const char *s, size_t n, lia_buf *out, const char **why)
{
    char tmp[LIA_MAX_URL + LIA_MAX_FQDN + 32];
    size_t tl;
    *why = NULL;
    switch (f) {
    case LIA_PF_NAME:
        if (n > 256 || !lia__utf8_valid(s, n)) {
            *why = "a name is valid UTF-8 of at most 256 bytes";
            return LIA_EINVAL;
        }
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
                *why = "control character in a name";
                return LIA_EINVAL;
            }
        return lia_buf_append(out, s, n);
    case LIA_PF_COUNTRY:
    case LIA_PF_COUNTRIES: {
        char cc[3];
        if (lia_parse_cc(s, n, cc, why))
            return LIA_EINVAL;
        return lia_buf_append(out, cc, 2);
    }
    case LIA_PF_ASNS: {
        uint32_t a;
        if (lia_parse_asn(s, n, &a, why))
            return LIA_EINVAL;
        return lia_buf_printf(out, "%u", (unsigned)a);
    }
    case LIA_PF_CIDRS: {
        lia_ip ip;
        if (lia_parse_cidr(s, n, &ip, why))
            return LIA_EINVAL;
        lia_ip_format(&ip, 1, tmp, sizeof tmp);
        return lia_buf_puts(out, tmp);
    }
    case LIA_PF_DOMAINS:
        if (lia_parse_fqdn(s, n, tmp, sizeof tmp, &tl, why))
            return LIA_EINVAL;
        return lia_buf_append(out, tmp, tl);
    case LIA_PF_CONTACTS: return lia__email_norm(s, n, out, why);
    case LIA_PF_LANGUAGES: {
        size_t i = 0;
        while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
            i++;
        if (i < 2 || i > 3) {
            *why = "a language tag starts with a 2- or 3-letter code (en, zh, ms, km, ar)";
            return LIA_EINVAL;
        }
        for (size_t k = i; k < n; k++)
            if (!is_alnum(s[k]) && s[k] != '-') {
                *why = "a language tag is letters, digits and '-' (zh-Hans)";
                return LIA_EINVAL;
            }
        if (n > 35) {
            *why = "language tag too long";
            return LIA_EINVAL;
        }
        for (size_t k = 0; k < i; k++)
            lia_buf_putc(out, (char)(s[k] | 0x20));
        return lia_buf_append(out, s + i, n - i);
    }
    case LIA_PF_FORMAT:
        if (lia_slice_ieq((lia_slice){s, n}, "csv"))
            return lia_buf_puts(out, "csv");
        if (lia_slice_ieq((lia_slice){s, n}, "json"))
            return lia_buf_puts(out, "json");
        *why = "format is csv or json";
        return LIA_EINVAL;
    case LIA_PF_PGP: {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            if (c == ' ')
                continue;
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) || k >= 64) {
                *why = "a key fingerprint is 40 (or 64) hexadecimal digits";
                return LIA_EINVAL;
            }
            tmp[k++] = (char)(c >= 'a' ? c - 32 : c);
        }
        if (k != 40 && k != 64) {
            *why = "a key fingerprint is 40 (or 64) hexadecimal digits";
            return LIA_EINVAL;
        }
        return lia_buf_append(out, tmp, k);
    }
    case LIA_PF_TIMEZONE:
        if (n == 0 || n > 64) {
            *why = "a time zone has 1 to 64 characters";
            return LIA_EINVAL;
        }
        for (size_t i = 0; i < n; i++)
            if (!is_alnum(s[i]) && !strchr("_+-/:", s[i])) {
                *why = "a time zone is an IANA name (Asia/Phnom_Penh) or UTC+7";
                return LIA_EINVAL;
            }
        return lia_buf_append(out, s, n);
    case LIA_PF_TLP_MAX: {
        int t;
        if (lia_parse_tlp(s, n, &t, why))
            return LIA_EINVAL;
        return lia_buf_puts(out, lia_tlp_name(t));
    }
    case LIA_PF_CHANNELS: {
        const char *c = memchr(s, ':', n);
        size_t kl = c ? (size_t)(c - s) : 0;
        if (c && kl == 5 && memcmp(s, "email", 5) == 0) {
            lia_buf_puts(out, "email:");
            return lia__email_norm(c + 1, n - 6, out, why);
        }
        if (c && kl == 5 && memcmp(s, "taxii", 5) == 0 && !has_scheme(c + 1, n - 6)) {
            /* a collection on our own server */
            lia_channel ch;
            if (taxii_local(c + 1, n - 6, &ch, why))
                return LIA_EINVAL;
            return lia_buf_append(out, s, n);
        }
        if (c && ((kl == 5 && memcmp(s, "taxii", 5) == 0) || (kl == 3 && memcmp(s, "api", 3) == 0))) {
            if (lia__parse_url(c + 1, n - kl - 1, tmp, sizeof tmp, &tl, why))
                return LIA_EINVAL;
            if (!(tl > 8 && (memcmp(tmp, "https://", 8) == 0 || memcmp(tmp, "http://", 7) == 0))) {
                *why = "a taxii/api channel needs an http(s) URL";
                return LIA_EINVAL;
            }
            lia_buf_append(out, s, kl + 1);
            return lia_buf_append(out, tmp, tl);
        }
        *why = "a channel is email:ADDRESS, taxii:API_ROOT/COLLECTION, taxii:URL or api:URL";
        return LIA_EINVAL;
    }
    case LIA_PF_AGREEMENT:
    case LIA_PF_STATS_SHARED: {
        int b;
        if (lia_parse_bool(s, n, &b, why))
            return LIA_EINVAL;
        return lia_buf_puts(out, b ? "true" : "false");
    }
    case LIA_PF_INTERVAL: {
        int64_t secs;
        if (lia_parse_duration(s, n, &secs, why))
            return LIA_EINVAL;
        return lia_buf_printf(out, "%lld", (long long)secs);
    }
    case LIA_PF_HOURS: {
        static const char *const dn[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
        uint8_t days;
        uint16_t o, c;
        int first = 1;
        if (lia_calendar_hours_parse(s, n, &days, &o, &c, why))
            return LIA_EINVAL;
        for (int d = 0; d < 7; d++)
            if (days & (1u << d)) {
                lia_buf_printf(out, "%s%s", first ? "" : ",", dn[d]);
                first = 0;
            }
        return lia_buf_printf(out, " %02u:%02u-%02u:%02u", o / 60u, o % 60u, c / 60u, c % 60u);
    }
    case LIA_PF_HOLIDAYS: {
        int64_t d;
        if (lia_date_parse(s, n, &d, why))
            return LIA_EINVAL;
        return lia_buf_append(out, s, n);
    }
    case LIA_PF_SLA: {
        lia_severity sev;
        int64_t a, r;
        if (lia_sla_target_parse(s, n, &sev, &a, &r, why))
            return LIA_EINVAL;
        return lia_buf_printf(out, "%s=%llds/%llds", lia_severity_name(sev), (long long)a, (long long)r);
    }
    default: *why = "unknown field"; return LIA_EINVAL;
    }
}

static int list_push(lia_strlist *l, const char *s, size_t n)
{
    char *d;
    if (l->n >= LIA_MAX_PARTY_VALUES)
        return LIA_ELIMIT;
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == n && memcmp(l->v[i], s, n) == 0)
            return LIA_OK; /* same value twice: kept once */
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4;
        char **nv = realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return LIA_ENOMEM;
        l->v = nv;
        l->cap = nc;
    }
    if (!(d = malloc(n + 1)))
        return LIA_ENOMEM;
    memcpy(d, s, n);
    d[n] = '\0';
    l->v[l->n++] = d;
    return LIA_OK;
}

static int add_one(lia_party *p, int f, const char *s, size_t n, lia_error *err)
{
    lia_buf b;
    const char *why = NULL;
    int rc;
    lia_buf_init(&b, LIA_MAX_URL + 1024);
    if (norm_value(f, s, n, &b, &why) || b.err) {
        if (f == LIA_PF_CHANNELS && p->id[0]) /* say whose, the directory has many */
            rc = lia_error_set(err, LIA_EINVAL, pfields[f].name, s, n, "%s (%s %s)",
                               why ? why : "value too long", lia_party_kind_name(p->kind), p->id);
        else
            rc = lia_error_set(err, LIA_EINVAL, pfields[f].name, s, n, "%s", why ? why : "value too long");
        goto out;
    }
    if (!pfields[f].list && p->f[f].n) {
        rc = lia_error_set(err, LIA_EINVAL, pfields[f].name, s, n, "%s takes one value", pfields[f].name);
        goto out;
    }
    rc = list_push(&p->f[f], lia_buf_cstr(&b), b.len);
    if (rc)
        lia_error_set(err, rc, pfields[f].name, s, n, rc == LIA_ELIMIT ? "too many values" : "out of memory");
out:
    lia_buf_free(&b);
    return rc;
}

int lia_party_add(lia_party *p, int f, const char *s, size_t n, int replace, lia_error *err)
{
    int rc = LIA_OK;
    if (f < 0 || f >= LIA_PF__COUNT || !lia_party_field_allowed(p->kind, f))
        return lia_error_set(err, LIA_EINVAL, f >= 0 && f < LIA_PF__COUNT ? pfields[f].name : NULL, NULL, 0,
                             "not a field of a%s %s", p->kind == LIA_PARTY_OWNER ? "n" : "",
                             lia_party_kind_name(p->kind));
    if (replace)
        list_clear(&p->f[f]);
    if (!pfields[f].list) {
        lia_slice t = lia_slice_trim((lia_slice){s, n});
        if (t.len == 0)
            return lia_error_set(err, LIA_EINVAL, pfields[f].name, NULL, 0, "empty value");
        return add_one(p, f, t.ptr, t.len, err);
    }
    for (size_t i = 0; i < n && rc == LIA_OK;) {
        size_t st;
        while (i < n && strchr(",; \t\r\n", s[i]))
            i++;
        st = i;
        while (i < n && !strchr(",; \t\r\n", s[i]))
            i++;
        if (i > st)
            rc = add_one(p, f, s + st, i - st, err);
    }
    return rc;
}

int lia__party_check(const lia_party *p, lia_error *err)
{
    if (!p->id[0])
        return lia_error_set(err, LIA_EINVAL, "id", NULL, 0, "missing id");
    if (p->kind == LIA_PARTY_OWNER) {
        if (!p->f[LIA_PF_ASNS].n && !p->f[LIA_PF_CIDRS].n && !p->f[LIA_PF_DOMAINS].n)
            return lia_error_set(err, LIA_EINVAL, "id", p->id, strlen(p->id),
                                 "an owner needs at least one of asns, cidrs, domains");
    } else if (p->kind == LIA_PARTY_PARTNER) {
        if (!p->f[LIA_PF_COUNTRIES].n)
            return lia_error_set(err, LIA_EINVAL, "id", p->id, strlen(p->id),
                                 "a partner needs the countries it covers");
    } else {
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "unknown party kind");
    }
    if (!p->f[LIA_PF_CONTACTS].n && !p->f[LIA_PF_CHANNELS].n)
        return lia_error_set(err, LIA_EINVAL, "id", p->id, strlen(p->id),
                             "needs contacts (or, for a partner, channels)");
    return LIA_OK;
}

const char *lia__party_email(const lia_party *p)
{
    if (!p)
        return NULL;
    if (p->f[LIA_PF_CONTACTS].n)
        return p->f[LIA_PF_CONTACTS].v[0];
    for (size_t i = 0; i < p->f[LIA_PF_CHANNELS].n; i++)
        if (strncmp(p->f[LIA_PF_CHANNELS].v[i], "email:", 6) == 0 && p->f[LIA_PF_CHANNELS].v[i][6])
            return p->f[LIA_PF_CHANNELS].v[i] + 6;
    return NULL;
}

int lia__channel_parse(const char *party_id, const char *s, size_t n, lia_channel *out, lia_error *err)
{
    lia_buf b;
    const char *why = NULL, *c = memchr(s, ':', n);
    size_t kl = c ? (size_t)(c - s) : 0;
    int rc;
    lia_buf_init(&b, LIA_MAX_URL + 1024);
    rc = norm_value(LIA_PF_CHANNELS, s, n, &b, &why);
    lia_buf_free(&b);
    if (rc == LIA_OK && kl == 5 && memcmp(s, "taxii", 5) == 0 && !has_scheme(c + 1, n - 6))
        rc = taxii_local(c + 1, n - 6, out, &why);
    else if (rc == LIA_OK) {
        memset(out, 0, sizeof *out);
        out->kind = kl == 5 && memcmp(s, "email", 5) == 0   ? LIA_CHANNEL_EMAIL
                    : kl == 5 && memcmp(s, "taxii", 5) == 0 ? LIA_CHANNEL_TAXII_URL
                                                            : LIA_CHANNEL_API;
        out->value = c + 1;
        out->value_len = n - kl - 1;
    }
    if (rc)
        return lia_error_set(err, LIA_EINVAL, "channels", s, n, "%s%s%s%s", why ? why : "bad channel",
                             party_id ? " (partner " : "", party_id ? party_id : "", party_id ? ")" : "");
    return LIA_OK;
}

/* ---- store ---- */

static const lia_migration party_migrations[] = {
    {"CREATE TABLE IF NOT EXISTS party("
     "  kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,"
     "  updated INTEGER NOT NULL, PRIMARY KEY(kind, id));",
     NULL, NULL},
};

/* Stores made before the registry: the party table was route's version 1. */
static int party_adopt(lia_db *db, int *version, lia_error *err)
{
    (void)err;
    *version = lia__db_has_table(db, "party") ? 1 : 0;
    return LIA_OK;
}

static const lia_schema party_schema = {"party", 1, party_migrations, party_adopt, .pg = 1};

int lia__directory_db(lia_store *s, lia_db **db, lia_error *err)
{
    *db = lia__store_db(s);
    return lia__db_schema(*db, &party_schema, err);
}

static char *party_json(const lia_party *p)
{
    json_t *o = json_object();
    char *out;
    for (int f = 0; f < LIA_PF__COUNT; f++) {
        json_t *a;
        if (!p->f[f].n)
            continue;
        a = json_array();
        for (size_t i = 0; i < p->f[f].n; i++)
            json_array_append_new(a, json_string(p->f[f].v[i]));
        json_object_set_new(o, pfields[f].name, a);
    }
    out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return out;
}

int lia__party_from_json(lia_party *p, int kind, const char *id, const char *body, lia_error *err)
{
    json_error_t je;
    json_t *o = json_loads(body, 0, &je), *v;
    const char *k;
    int rc = LIA_OK;
    lia_party_init(p, kind);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return lia_error_set(err, LIA_ESTORE, "id", id, strlen(id), "stored party is not a JSON object");
    }
    if ((rc = lia_party_set_id(p, id, strlen(id), err)))
        goto out;
    json_object_foreach(o, k, v)
    {
        int f = lia_pfield_lookup(k, strlen(k));
        size_t i;
        json_t *e;
        if (f < 0 || !json_is_array(v)) {
            rc = lia_error_set(err, LIA_ESTORE, k, id, strlen(id), "stored party has a bad field");
            goto out;
        }
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e) ||
                (rc = list_push(&p->f[f], json_string_value(e), json_string_length(e)))) {
                rc = lia_error_set(err, rc ? rc : LIA_ESTORE, k, id, strlen(id),
                                   "stored party has a bad value");
                goto out;
            }
        }
    }
out:
    json_decref(o);
    if (rc)
        lia_party_free(p);
    return rc;
}

/* The stored body of party kind/id into *out (malloc'd; NULL if none). */
static int party_body(lia_db *db, int kind, const char *id, char **out, lia_error *err)
{
    lia_stmt *st;
    int rc;
    *out = NULL;
    if ((rc = lia__db_prepare(db, "reading a party's body", "SELECT body FROM party WHERE kind=? AND id=?",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, lia_party_kind_name(kind), -1);
    lia__db_bind_text(st, 2, id, -1);
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW && !(*out = strdup(lia__db_col_text(st, 0))))
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

/* The audit record of a directory change: object "partner:ID" / "owner:ID". */
static int party_audit(lia_store *s, int kind, const char *id, const char *action, const char *before,
                       const char *after, lia_error *err)
{
    char object[96];
    snprintf(object, sizeof object, "%s:%s", lia_party_kind_name(kind), id);
    return lia__audit_change(s, object, action, before, after, err);
}

int lia__party_put(lia_store *s, const lia_party *p, lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    char *body = NULL, *old = NULL;
    int rc;
    if ((rc = lia__party_check(p, err)) || (rc = lia__directory_db(s, &db, err)))
        return rc;
    if (!(body = party_json(p)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if ((rc = party_body(db, p->kind, p->id, &old, err)))
        goto out;
    if (old && strcmp(old, body) == 0)
        goto out; /* unchanged: nothing written, nothing logged */
    if ((rc = lia__db_prepare(
             db, "storing a party",
             "INSERT INTO party(kind,id,body,updated) VALUES(?,?,?,?)"
             " ON CONFLICT(kind,id) DO UPDATE SET body=excluded.body, updated=excluded.updated",
             &st, err)))
        goto out;
    lia__db_bind_text(st, 1, lia_party_kind_name(p->kind), -1);
    lia__db_bind_text(st, 2, p->id, -1);
    lia__db_bind_text(st, 3, body, -1);
    lia__db_bind_int64(st, 4, lia__now_us() / 1000000);
    if ((rc = lia__db_run(st, err)) == LIA_OK)
        rc = party_audit(s, p->kind, p->id, old ? "update" : "create", old, body, err);
out:
    lia__db_done(st);
    free(body);
    free(old);
    return rc;
}

int lia_party_get_one(lia_store *s, int kind, const char *id, lia_party *out, lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__directory_db(s, &db, err)) ||
        (rc = lia__db_prepare(db, "reading a party", "SELECT body FROM party WHERE kind=? AND id=?", &st,
                              err)))
        return rc;
    lia__db_bind_text(st, 1, lia_party_kind_name(kind), -1);
    lia__db_bind_text(st, 2, id, -1);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW)
        rc = lia__party_from_json(out, kind, id, lia__db_col_text(st, 0), err);
    else if (rc == LIA_DB_DONE)
        rc = lia_error_set(err, LIA_ENOTFOUND, "id", id, strlen(id), "no %s with this id",
                           lia_party_kind_name(kind));
    lia__db_done(st);
    return rc;
}

int lia__party_delete(lia_store *s, int kind, const char *id, lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    char *old = NULL;
    int rc;
    if ((rc = lia__directory_db(s, &db, err)) || (rc = party_body(db, kind, id, &old, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "removing a party", "DELETE FROM party WHERE kind=? AND id=?", &st, err))) {
        free(old);
        return rc;
    }
    lia__db_bind_text(st, 1, lia_party_kind_name(kind), -1);
    lia__db_bind_text(st, 2, id, -1);
    if ((rc = lia__db_run(st, err)) == LIA_OK && lia__db_changes(db) == 0)
        rc = lia_error_set(err, LIA_ENOTFOUND, "id", id, strlen(id), "no %s with this id",
                           lia_party_kind_name(kind));
    lia__db_done(st);
    if (rc == LIA_OK)
        rc = party_audit(s, kind, id, "remove", old, NULL, err);
    free(old);
    return rc;
}

int lia_party_list(lia_store *s, int kind, lia_party_cb cb, void *ud, lia_error *err)
{
    lia_db *db;
    lia_stmt *st = NULL;
    int rc;
    if ((rc = lia__directory_db(s, &db, err)))
        return rc;
    rc = kind ? lia__db_prepare(db, "listing parties of a kind",
                                "SELECT kind,id,body FROM party WHERE kind=? ORDER BY id", &st, err)
              : lia__db_prepare(db, "listing parties", "SELECT kind,id,body FROM party ORDER BY kind,id", &st,
                                err);
    if (rc)
        return rc;
    if (kind)
        lia__db_bind_text(st, 1, lia_party_kind_name(kind), -1);
    while ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_party p;
        const char *k = lia__db_col_text(st, 0);
        int pk = strcmp(k, "owner") == 0 ? LIA_PARTY_OWNER : LIA_PARTY_PARTNER;
        if ((rc = lia__party_from_json(&p, pk, lia__db_col_text(st, 1), lia__db_col_text(st, 2), err)))
            break;
        rc = cb(ud, &p);
        lia_party_free(&p);
        if (rc)
            break;
    }
    lia__db_done(st);
    return rc;
}

/* ---- CSV ---- */

typedef struct csvctx {
    int kind;
    int cols[LIA_PF__COUNT + 1]; /* column -> field, -2 = id */
    size_t ncols;
    int have_header;
    lia_party_cb cb;
    void *ud;
    lia_error *err;
} csvctx;

static int csv_row(void *ud, const lia_csv_row *row)
{
    csvctx *c = ud;
    lia_party p;
    int rc = LIA_OK, have_id = 0;
    if (row->err) {
        lia_error_set(c->err, LIA_EPARSE, NULL, NULL, 0, "%s", row->why);
        c->err->line = row->line;
        return LIA_EPARSE;
    }
    if (!c->have_header) {
        if (row->nfields > LIA_PF__COUNT + 1) {
            lia_error_set(c->err, LIA_EPARSE, NULL, NULL, 0, "too many columns");
            c->err->line = row->line;
            return LIA_EPARSE;
        }
        for (size_t i = 0; i < row->nfields; i++) {
            lia_slice h = lia_slice_trim(row->fields[i]);
            int f = lia_slice_eq(h, "id") ? -2 : lia_pfield_lookup(h.ptr, h.len);
            if (f == -2)
                have_id = 1;
            if (f == -1 || (f >= 0 && !lia_party_field_allowed(c->kind, f))) {
                lia_error_set(c->err, LIA_EPARSE, NULL, h.ptr, h.len, "unknown column for %ss",
                              lia_party_kind_name(c->kind));
                c->err->line = row->line;
                return LIA_EPARSE;
            }
            for (size_t k = 0; k < i; k++)
                if (c->cols[k] == f) {
                    lia_error_set(c->err, LIA_EPARSE, NULL, h.ptr, h.len, "column appears twice");
                    c->err->line = row->line;
                    return LIA_EPARSE;
                }
            c->cols[i] = f;
        }
        if (!have_id) {
            lia_error_set(c->err, LIA_EPARSE, NULL, NULL, 0, "the header has no 'id' column");
            c->err->line = row->line;
            return LIA_EPARSE;
        }
        c->ncols = row->nfields;
        c->have_header = 1;
        return LIA_OK;
    }
    if (row->nfields != c->ncols) {
        lia_error_set(c->err, LIA_EPARSE, NULL, row->raw.ptr, row->raw.len, "%zu fields, the header has %zu",
                      row->nfields, c->ncols);
        c->err->line = row->line;
        return LIA_EPARSE;
    }
    lia_party_init(&p, c->kind);
    for (size_t i = 0; i < row->nfields && rc == LIA_OK; i++) {
        lia_slice v = lia_slice_trim(row->fields[i]);
        if (c->cols[i] == -2)
            rc = lia_party_set_id(&p, v.ptr, v.len, c->err);
        else if (v.len)
            rc = lia_party_add(&p, c->cols[i], v.ptr, v.len, 0, c->err);
    }
    if (rc == LIA_OK)
        rc = lia__party_check(&p, c->err);
    if (rc == LIA_OK)
        rc = c->cb(c->ud, &p);
    if (rc && c->err && !c->err->line)
        c->err->line = row->line;
    lia_party_free(&p);
    return rc;
}

static int parse_csv(int kind, const char *buf, size_t len, lia_party_cb cb, void *ud, lia_error *err)
{
    lia_csv_opts o;
    lia_csv *csv;
    csvctx c;
    lia_error local;
    int rc;
    if (!err)
        err = &local;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.cb = cb;
    c.ud = ud;
    c.err = err;
    lia_csv_opts_default(&o);
    o.comment = '#';
    o.max_row = LIA_MAX_CONFIG_FILE;
    o.max_field = LIA_MAX_CONFIG_FILE;
    if ((rc = lia_csv_create(&o, &csv)))
        return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        buf += 3;
        len -= 3;
    }
    rc = lia_csv_feed(csv, buf, len, csv_row, &c);
    if (rc == LIA_OK)
        rc = lia_csv_finish(csv, csv_row, &c);
    if (rc == LIA_OK && !c.have_header)
        rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "empty file: a header row is expected");
    if (rc == LIA_ENOMEM && !err->code)
        lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
    lia_csv_destroy(csv);
    return rc;
}

/* ---- YAML ---- */

static int parse_yaml(int kind, const char *buf, size_t len, lia_party_cb cb, void *ud, lia_error *err)
{
    lia_ynode *root = NULL;
    const char *top = kind == LIA_PARTY_OWNER ? "owners" : "partners";
    const lia_ynode *list;
    int rc;
    if ((rc = lia__yaml_parse(buf, len, &root, err)))
        return rc;
    for (const lia_ynode *k = root->first; k; k = k->next)
        if (strcmp(k->key, top) != 0 && strcmp(k->key, "note") != 0) {
            rc = lia_error_set(err, LIA_EPARSE, NULL, k->key, strlen(k->key),
                               "unknown top-level key (expected '%s:' and optionally 'note:')", top);
            if (err)
                err->line = k->line;
            goto out;
        }
    list = lia__yaml_get(root, top);
    if (!list || list->type != LIA_Y_LIST) {
        rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "expected a list under '%s:'", top);
        goto out;
    }
    for (const lia_ynode *it = list->first; it; it = it->next) {
        lia_party p;
        const lia_ynode *idn = lia__yaml_get(it, "id");
        if (it->type != LIA_Y_MAP || !idn || idn->type != LIA_Y_SCALAR) {
            rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "each %s is a mapping with an 'id:'",
                               lia_party_kind_name(kind));
            if (err)
                err->line = it->line;
            goto out;
        }
        lia_party_init(&p, kind);
        rc = lia_party_set_id(&p, idn->str, idn->len, err);
        for (const lia_ynode *m = it->first; m && rc == LIA_OK; m = m->next) {
            int f;
            if (m == idn)
                continue;
            f = lia_pfield_lookup(m->key, strlen(m->key));
            if (f < 0 || !lia_party_field_allowed(kind, f)) {
                rc = lia_error_set(err, LIA_EPARSE, m->key, NULL, 0, "unknown field for %ss",
                                   lia_party_kind_name(kind));
                if (err)
                    err->line = m->line;
                break;
            }
            if (m->type == LIA_Y_SCALAR) {
                rc = lia_party_add(&p, f, m->str, m->len, 0, err);
            } else {
                for (const lia_ynode *v = m->first; v && rc == LIA_OK; v = v->next) {
                    if (!pfields[f].list && v != m->first)
                        rc = lia_error_set(err, LIA_EINVAL, m->key, v->str, v->len, "takes one value");
                    else
                        rc = lia_party_add(&p, f, v->str, v->len, 0, err);
                }
            }
            if (rc && err && !err->line)
                err->line = m->line;
        }
        if (rc == LIA_OK)
            rc = lia__party_check(&p, err);
        if (rc == LIA_OK)
            rc = cb(ud, &p);
        if (rc && err && !err->line)
            err->line = it->line;
        lia_party_free(&p);
        if (rc)
            goto out;
    }
out:
    lia__yaml_free(root);
    return rc;
}

int lia__party_parse(int kind, const char *format, const char *buf, size_t len, lia_party_cb cb, void *ud,
                     lia_error *err)
{
    if (kind != LIA_PARTY_OWNER && kind != LIA_PARTY_PARTNER)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "unknown party kind");
    if (len > LIA_MAX_CONFIG_FILE)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "file larger than %u bytes",
                             (unsigned)LIA_MAX_CONFIG_FILE);
    if (strcmp(format, "csv") == 0)
        return parse_csv(kind, buf, len, cb, ud, err);
    if (strcmp(format, "yaml") == 0)
        return parse_yaml(kind, buf, len, cb, ud, err);
    return lia_error_set(err, LIA_EINVAL, "format", format, strlen(format), "format is csv or yaml");
}

int lia_party_to_yaml(const lia_party *p, lia_buf *out)
{
    lia_buf_puts(out, "  - id: ");
    lia__yaml_scalar(out, p->id, strlen(p->id));
    lia_buf_putc(out, '\n');
    for (int f = 0; f < LIA_PF__COUNT; f++) {
        if (!p->f[f].n)
            continue;
        lia_buf_printf(out, "    %s: ", pfields[f].name);
        if (pfields[f].list)
            lia_buf_putc(out, '[');
        for (size_t i = 0; i < p->f[f].n; i++) {
            if (i)
                lia_buf_puts(out, ", ");
            lia__yaml_scalar(out, p->f[f].v[i], strlen(p->f[f].v[i]));
        }
        if (pfields[f].list)
            lia_buf_putc(out, ']');
        lia_buf_putc(out, '\n');
    }
    return out->err;
}

int lia__party_csv_header(int kind, lia_buf *out)
{
    lia_buf_puts(out, "id");
    for (int f = 0; f < LIA_PF__COUNT; f++)
        if (lia_party_field_allowed(kind, f))
            lia_buf_printf(out, ",%s", pfields[f].name);
    lia_buf_puts(out, "\r\n");
    return out->err;
}

int lia__party_to_csv(const lia_party *p, lia_buf *out)
{
    lia_buf cell;
    lia_buf_init(&cell, LIA_MAX_CONFIG_FILE);
    lia_buf_csv(out, p->id, strlen(p->id));
    for (int f = 0; f < LIA_PF__COUNT; f++) {
        if (!lia_party_field_allowed(p->kind, f))
            continue;
        lia_buf_reset(&cell);
        lia_buf_append(&cell, "", 0);
        for (size_t i = 0; i < p->f[f].n; i++) {
            if (i)
                lia_buf_putc(&cell, ' ');
            lia_buf_puts(&cell, p->f[f].v[i]);
        }
        lia_buf_putc(out, ',');
        lia_buf_csv(out, lia_buf_cstr(&cell), cell.len);
    }
    lia_buf_puts(out, "\r\n");
    lia_buf_free(&cell);
    return out->err;
}

typedef struct expctx {
    lia_buf *out;
    int yaml;
} expctx;

static int export_one(void *ud, const lia_party *p)
{
    expctx *c = ud;
    return c->yaml ? lia_party_to_yaml(p, c->out) : lia__party_to_csv(p, c->out);
}

int lia_party_export(lia_store *s, int kind, const char *format, lia_buf *out, lia_error *err)
{
    expctx c = {out, 0};
    int rc;
    if (strcmp(format, "yaml") == 0) {
        c.yaml = 1;
        lia_buf_printf(out, "# Liaison %s directory (layout: docs/routing.md)\n%s:\n",
                       kind == LIA_PARTY_OWNER ? "constituency (owners)" : "partner CERT",
                       kind == LIA_PARTY_OWNER ? "owners" : "partners");
    } else if (strcmp(format, "csv") == 0) {
        lia__party_csv_header(kind, out);
    } else {
        return lia_error_set(err, LIA_EINVAL, "format", format, strlen(format), "format is csv or yaml");
    }
    {
        size_t before = out->len;
        rc = lia_party_list(s, kind, export_one, &c, err);
        if (rc == LIA_OK && c.yaml && out->len == before) {
            out->len--; /* the newline after "owners:" */
            lia_buf_puts(out, " []\n");
        }
    }
    if (rc == LIA_OK && out->err)
        rc = lia_error_set(err, out->err, NULL, NULL, 0, "export too large");
    return rc;
}
