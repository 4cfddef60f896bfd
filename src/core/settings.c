/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The settings table (see settings.h). docs/routing.md and the enrichment
 * keys in include/liaison/enrich.h describe the same settings for users. */
#include <stdio.h>
#include <string.h>

#include "core/settings.h"
#include "liaison/field.h"
#include "liaison/limits.h"
#include "core/field_internal.h"

#define DAYS(d) ((int64_t)(d)*86400)
#define R       LIA_SCOPE_ROUTE
#define E       LIA_SCOPE_ENRICH

/* clang-format off */
const lia__setting lia__settings[] = {
    /* routing configuration (src/route, src/notify) */
    {"home_country", R, LIA_SET_COUNTRY, 0, 0, NULL, NULL, "our own country, an ISO 3166 code"},
    {"mode", R, LIA_SET_CHOICE, 0, 0, "first", "first|all",
     "mode is 'first' (first matching rule) or 'all'"},
    {"redact", R, LIA_SET_OWNED, 0, 0, "[raw]", NULL, "fields removed for every recipient"},
    {"redact_owner", R, LIA_SET_OWNED, 0, 0, NULL, NULL, "fields removed for owners"},
    {"redact_partner", R, LIA_SET_OWNED, 0, 0, NULL, NULL, "fields removed for partner CERTs"},
    {"rules", R, LIA_SET_OWNED, 0, 0, NULL, NULL, "the routing rules"},
    {"incidents", R, LIA_SET_OWNED, 0, 0, NULL, NULL, "the rules that open incidents (docs/incidents.md)"},
    {"note", R, LIA_SET_TEXT, 0, LIA_MAX_STRING, NULL, NULL, "a free-text note"},
    {"digest_interval", R, LIA_SET_DURATION, 1, DAYS(LIA_MAX_DURATION_DAYS), "1h", NULL,
     "time between two digests to one recipient"},
    {"smtp_url", R, LIA_SET_TEXT, 1, LIA_MAX_URL, "smtp://127.0.0.1:25", NULL, "the SMTP server"},
    {"mail_from", R, LIA_SET_TEXT, 1, 254, NULL, NULL, "the From address of digests"},
    {"sign_key", R, LIA_SET_TEXT, 1, 256, NULL, NULL, "our OpenPGP secret key"},
    {"gnupg_home", R, LIA_SET_TEXT, 1, LIA_PATH_MAX - 1, NULL, NULL, "the GnuPG home (default $GNUPGHOME)"},
    {"smtp_tries", R, LIA_SET_INT, 1, LIA_MAX_SMTP_TRIES, "3", NULL,
     "delivery attempts per message, 1 to " LIA_STR(LIA_MAX_SMTP_TRIES)},
    {"smtp_backoff", R, LIA_SET_DURATION, 1, DAYS(LIA_MAX_DURATION_DAYS), "2s", NULL,
     "first retry delay, doubling"},
    {"templates", R, LIA_SET_TEXT, 1, LIA_PATH_MAX - 1, NULL, NULL, "the digest template directory"},
    {"smtp_user", R, LIA_SET_TEXT, 1, 256, NULL, NULL, "the SMTP user"},
    {"smtp_password_env", R, LIA_SET_TEXT, 1, 256, NULL, NULL,
     "the environment variable holding the SMTP password"},
    {"producer", R, LIA_SET_TEXT, 1, 256, "Liaison", NULL, "our identity in STIX deliveries"},
    {"public_url", R, LIA_SET_TEXT, 1, LIA_MAX_URL, NULL, NULL,
     "where partners reach liaison serve (https://...), for the answer links of digests"},
    {"escalate_to", R, LIA_SET_TEXT, 1, 254, NULL, NULL,
     "our own team's address for escalations of recipients with one contact (default mail_from)"},
    {"link_ttl", R, LIA_SET_DURATION, 3600, DAYS(LIA_MAX_DURATION_DAYS), "30d", NULL,
     "how long the answer links of a digest work"},
    /* enrichment configuration (src/enrich), STORE.conf */
    {"ipdata.source", E, LIA_SET_OWNED, 0, 0, NULL, NULL, "expected KIND PATH with KIND mmdb, rir or csv"},
    {"ipdata.check", E, LIA_SET_INT, 0, 86400, "5", NULL, "seconds 0-86400 (0: never re-check the files)"},
    {"sectors.rules", E, LIA_SET_TEXT, 1, LIA_MAX_CONF_PATH - 257, NULL, NULL, "a file path is expected"},
    {"sectors.enabled", E, LIA_SET_BOOL, 0, 0, "yes", NULL, "yes or no"},
    {"dedup.enabled", E, LIA_SET_BOOL, 0, 0, "yes", NULL, "yes or no"},
    {"dedup.key", E, LIA_SET_OWNED, 0, 0, "classification.type,source.ip,source.port,feed.name", NULL,
     "the fields that make two events the same"},
    {"dedup.window", E, LIA_SET_DURATION, 1, DAYS(LIA_MAX_DURATION_DAYS), "24h", NULL,
     "how long a repeat is folded into the first event"},
    {"dedup.memory_keys", E, LIA_SET_INT, 1000, LIA_DEDUP_MAX_KEYS, LIA_STR(LIA_DEDUP_KEYS), NULL,
     "a number from 1000 to 268435456"},
    {NULL, R, LIA_SET_TEXT, 0, 0, NULL, NULL, NULL},
};
/* clang-format on */

const lia__setting *lia__setting_find(lia__set_scope scope, const char *name, size_t n)
{
    for (const lia__setting *s = lia__settings; s->name; s++)
        if (s->scope == scope && strlen(s->name) == n && memcmp(s->name, name, n) == 0)
            return s;
    return NULL;
}

static int choice(const char *choices, const char *v, size_t n)
{
    int i = 0;
    for (const char *p = choices;; i++) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == n && memcmp(p, v, n) == 0)
            return i;
        if (!bar)
            return -1;
        p = bar + 1;
    }
}

int lia__setting_parse(const lia__setting *s, const char *v, size_t n, int64_t *out, const char **why)
{
    const char *w = NULL;
    int b;
    *why = s->desc;
    switch (s->type) {
    case LIA_SET_INT:
        if (lia__parse_int(v, n, out, NULL) || *out < s->min || *out > s->max)
            return LIA_EINVAL;
        return LIA_OK;
    case LIA_SET_BOOL:
        if (lia_parse_bool(v, n, &b, NULL))
            return LIA_EINVAL;
        *out = b;
        return LIA_OK;
    case LIA_SET_DURATION:
        if (lia_parse_duration(v, n, out, &w)) {
            *why = w;
            return LIA_EINVAL;
        }
        return *out < s->min || *out > s->max ? LIA_EINVAL : LIA_OK;
    case LIA_SET_CHOICE: *out = choice(s->choices, v, n); return *out < 0 ? LIA_EINVAL : LIA_OK;
    default: *why = "not a number"; return LIA_EINVAL;
    }
}

int lia__setting_check(const lia__setting *s, const char *v, size_t n, const char **why)
{
    const char *w = NULL;
    char cc[3];
    int64_t x;
    int rc = LIA_OK;
    switch (s->type) {
    case LIA_SET_TEXT:
        if ((int64_t)n < s->min || (int64_t)n > s->max || memchr(v, '\0', n)) {
            w = s->desc;
            rc = LIA_EINVAL;
        }
        break;
    case LIA_SET_COUNTRY: rc = lia_parse_cc(v, n, cc, &w); break;
    case LIA_SET_OWNED: break; /* its module parses it */
    default: rc = lia__setting_parse(s, v, n, &x, &w); break;
    }
    if (rc && why)
        *why = w;
    return rc;
}

int64_t lia__setting_int(lia__set_scope scope, const char *name, const char *v)
{
    const lia__setting *s = lia__setting_find(scope, name, strlen(name));
    const char *why;
    int64_t x = 0;
    if (!s)
        return 0;
    if (v && lia__setting_parse(s, v, strlen(v), &x, &why) == LIA_OK)
        return x;
    if (s->dflt && lia__setting_parse(s, s->dflt, strlen(s->dflt), &x, &why) == LIA_OK)
        return x;
    return 0;
}

const char *lia__setting_text(lia__set_scope scope, const char *name, const char *v)
{
    const lia__setting *s;
    if (v)
        return v;
    s = lia__setting_find(scope, name, strlen(name));
    return s ? s->dflt : NULL;
}

void lia__setting_keys(lia__set_scope scope, const char *prefix, char *out, size_t n)
{
    size_t pl = strlen(prefix), len = 0;
    if (n == 0)
        return;
    out[0] = '\0';
    for (const lia__setting *s = lia__settings; s->name; s++) {
        int w;
        if (s->scope != scope || strncmp(s->name, prefix, pl) != 0)
            continue;
        w = snprintf(out + len, n - len, "%s%s", len ? ", " : "", s->name + pl);
        if (w < 0 || (size_t)w >= n - len) {
            out[len] = '\0'; /* cut at a whole key */
            return;
        }
        len += (size_t)w;
    }
}
