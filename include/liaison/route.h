/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/route.h - who must act: constituency (domestic network owners),
 * partner directory (foreign CERTs), routing rules and the one TLP policy.
 *
 * Parties. An owner (constituent) and a partner (foreign CERT) are both a
 * "party": an id plus named fields, each field a list of normalised text
 * values (a scalar field has at most one value). The fields each kind knows
 * are listed by lia_party_fields(); every value is validated and normalised
 * when it is set (an ASN "AS64500" becomes "64500", a CIDR loses its host
 * bits, a TLP becomes "AMBER+STRICT" ...). Parties live in the store
 * (table `party`), are imported from / exported to CSV and YAML (layout in
 * docs/routing.md) and indexed in memory by a lia_route for lookups.
 *
 * Routing. A lia_route is an immutable, in-memory snapshot of the parties
 * and the routing configuration (home country, rules, redaction lists).
 * lia_route_event() decides, for one event, every candidate recipient with a
 * verdict and a static reason: it is a pure function, safe to call from many
 * threads at once on one lia_route.
 *
 * TLP. One TLP policy (src/route/tlp.h) is what every outgoing path checks for
 * every recipient (routing, e-mail digests, and any later export).
 */
#ifndef LIAISON_ROUTE_H
#define LIAISON_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"
#include "liaison/event.h"
#include "liaison/limits.h"
#include "liaison/pipeline.h"
#include "liaison/slice.h"
#include "liaison/store.h"

/* ---- parties ---- */

enum lia_party_kind { LIA_PARTY_OWNER = 1, LIA_PARTY_PARTNER = 2 };

/* Field ids; each kind uses a subset (lia_party_field_allowed). */
enum lia_pfield {
    LIA_PF_NAME,         /* display name (UTF-8) */
    LIA_PF_COUNTRY,      /* owner: country of the organisation (CC) */
    LIA_PF_ASNS,         /* owner: list of ASNs */
    LIA_PF_CIDRS,        /* owner: list of IPv4/IPv6 networks */
    LIA_PF_DOMAINS,      /* owner: list of domain suffixes */
    LIA_PF_COUNTRIES,    /* partner: countries covered (CC list) */
    LIA_PF_CONTACTS,     /* e-mail addresses (abuse / incident contacts) */
    LIA_PF_LANGUAGES,    /* language tags, preferred first ("ms", "zh", "en") */
    LIA_PF_FORMAT,       /* preferred attachment format: csv or json */
    LIA_PF_PGP,          /* OpenPGP key fingerprint (40 hex digits) */
    LIA_PF_TIMEZONE,     /* partner: time zone ("Asia/Phnom_Penh", "UTC+7") */
    LIA_PF_TLP_MAX,      /* highest TLP the party may receive */
    LIA_PF_CHANNELS,     /* partner: email:ADDR, taxii:ROOT/COLLECTION, taxii:URL, api:URL */
    LIA_PF_AGREEMENT,    /* partner: sharing agreement in place (true/false) */
    LIA_PF_INTERVAL,     /* digest interval in seconds (input: 90s, 30m, 1h, 1d) */
    LIA_PF_HOURS,        /* business hours for the SLA clock ("Mon-Fri 09:00-17:00") */
    LIA_PF_HOLIDAYS,     /* days off for the SLA clock (YYYY-MM-DD list) */
    LIA_PF_SLA,          /* SLA targets per severity ("critical=2h/12h" list) */
    LIA_PF_STATS_SHARED, /* partner: agreed to see the other partners in the statistics
                            reports' response-time league table (true/false; default false) */
    LIA_PF__COUNT
};

typedef struct lia_strlist {
    char **v;
    size_t n, cap;
} lia_strlist;

typedef struct lia_party {
    int kind;
    char id[65]; /* [a-z0-9][a-z0-9._-]{0,63} */
    lia_strlist f[LIA_PF__COUNT];
} lia_party;

/* An empty party of kind LIA_PARTY_* / the memory of its lists released. */
void lia_party_init(lia_party *p, int kind);
void lia_party_free(lia_party *p);
const char *lia_party_kind_name(int kind);         /* "owner" / "partner" */
int lia_pfield_lookup(const char *name, size_t n); /* -1 if unknown */
const char *lia_pfield_name(int f);                /* "countries"; NULL if not a field */
int lia_pfield_is_list(int f);                     /* 1 for a list (countries, contacts ...) */
int lia_party_field_allowed(int kind, int f);
/* 1 if id[0..n) is a party id: 1 to 64 of [a-z0-9._-], not starting with . _ -. */
int lia_party_id_ok(const char *id, size_t n);
/* Validate an id. LIA_OK or LIA_EINVAL with err filled. */
int lia_party_set_id(lia_party *p, const char *id, size_t n, lia_error *err);
/* Validate, normalise and append one value to field f (replace = 1 clears
 * the field first). A list field also accepts several values separated by
 * ',' ';' or white space in one call. */
int lia_party_add(lia_party *p, int f, const char *s, size_t n, int replace, lia_error *err);
/* Remove every value of field f (nothing for a field id out of range). */
void lia_party_clear(lia_party *p, int f);
/* First value of f, or NULL. */
const char *lia_party_get(const lia_party *p, int f);

/* Store. put = insert or replace, unchecked against other parties.
 * save = put inside a savepoint, then check the whole directory still builds
 * (no network, ASN or domain claimed by two owners; rules still resolve);
 * replace = 0 fails with LIA_EEXIST if the id exists. */
int lia_party_save(lia_store *s, const lia_party *p, int replace, lia_error *err);
int lia_party_get_one(lia_store *s, int kind, const char *id, lia_party *out, lia_error *err);
int lia_party_remove(lia_store *s, int kind, const char *id, lia_error *err);
typedef int (*lia_party_cb)(void *ud, const lia_party *p);
int lia_party_list(lia_store *s, int kind, lia_party_cb cb, void *ud, lia_error *err);

/* Parse and store every party in one transaction (all or nothing), then
 * check the whole directory as lia_party_save does. *n gets the number
 * stored. */
int lia_party_import(lia_store *s, int kind, const char *format, const char *buf, size_t len, size_t *n,
                     lia_error *err);
/* Append the parties of kind to out in format. */
int lia_party_export(lia_store *s, int kind, const char *format, lia_buf *out, lia_error *err);
/* One party as YAML / CSV text (no header for CSV unless header != 0). */
int lia_party_to_yaml(const lia_party *p, lia_buf *out);

/* ---- delivery channels (field channels) ----
 * email:ADDRESS         the e-mail digest also goes to ADDRESS;
 * taxii:ROOT/COLLECTION the partner's events are added, as STIX 2.1, to
 *                       collection COLLECTION of API root ROOT on our own
 *                       TAXII server (created on the first delivery);
 * taxii:https://...     a partner's own TAXII server: the collection URL
 *                       (.../collections/ID/), objects POSTed to it;
 * api:https://...       a partner's API (not delivered yet). */
enum lia_channel_kind {
    LIA_CHANNEL_EMAIL = 1,
    LIA_CHANNEL_TAXII = 2,     /* our own server: api_root, collection */
    LIA_CHANNEL_TAXII_URL = 3, /* a remote TAXII server: url */
    LIA_CHANNEL_API = 4,       /* url */
};

typedef struct lia_channel {
    int kind; /* enum lia_channel_kind */
    char api_root[LIA_TAXII_MAX_ID];
    char collection[LIA_TAXII_MAX_ID];
    const char *value; /* after "kind:", borrowed from the input */
    size_t value_len;
} lia_channel;

/* ---- the TLP policy ---- */

typedef struct lia_recipient {
    int kind;       /* LIA_PARTY_OWNER or LIA_PARTY_PARTNER */
    const char *id; /* party id */
    int tlp_max;    /* highest TLP it may receive (enum lia_tlp) */
    int agreement;  /* partner: sharing agreement in place; owners: 1 */
} lia_recipient;

/* ---- routing ---- */

typedef struct lia_route lia_route;

/* Build from the parties and routing configuration in the store (the
 * configuration loaded with lia_route_config_put; none = default policy). */
int lia_route_load(lia_store *s, lia_route **out, lia_error *err);
void lia_route_destroy(lia_route *rt);

/* Validate a routing configuration text (rules file). */
int lia_route_config_check(const char *config, size_t clen, lia_error *err);
/* Validate against the stored parties and store it. */
int lia_route_config_put(lia_store *s, const char *config, size_t clen, lia_error *err);
/* The stored configuration text (appended to out); LIA_ENOTFOUND if none. */
int lia_route_config_get(lia_store *s, lia_buf *out, lia_error *err);

/* A setting of the configuration ("home_country", "smtp_url", ...) or NULL. */
const char *lia_route_setting(const lia_route *rt, const char *name);

enum lia_verdict {
    LIA_DELIVER = 1,  /* the recipient gets the event */
    LIA_DENY = 2,     /* a candidate, but the TLP policy refuses */
    LIA_UNROUTED = 3, /* nobody found to act (party = -1) */
    LIA_DROPPED = 4,  /* a rule says: send to nobody (party = -1) */
};

typedef struct lia_decision {
    int party;          /* index (lia_route_party), -1 for unrouted/dropped */
    int verdict;        /* enum lia_verdict */
    int rule;           /* rule index, -1 for the default policy */
    const char *why;    /* how the candidate was found, static text */
    const char *reason; /* TLP policy / verdict reason, static text */
} lia_decision;

#define LIA_ROUTE_MAX_DECISIONS 32

/* Decide the recipients of ev; out has room for LIA_ROUTE_MAX_DECISIONS.
 * Always writes at least one decision (UNROUTED if nobody). Returns the
 * number written. Thread-safe on a shared rt. */
size_t lia_route_event(const lia_route *rt, const lia_event *ev, lia_decision *out);

/* Index of the owner of ev's network (longest prefix of source.ip, then
 * source.asn, then domain suffix of source.fqdn / URL host), -1 if none;
 * *via (may be NULL) says which. */
int lia_route_owner(const lia_route *rt, const lia_event *ev, const char **via);
/* Lookup by IP / ASN / domain alone (for `owners lookup`). */
int lia_route_owner_ip(const lia_route *rt, const lia_ip *ip);
int lia_route_owner_asn(const lia_route *rt, uint32_t asn);
int lia_route_owner_domain(const lia_route *rt, const char *fqdn, size_t n);

/* Party idx (0 .. count-1) of the loaded directory. */
const lia_party *lia_route_party(const lia_route *rt, int idx);
/* The recipient view of party idx. */
void lia_route_recipient(const lia_route *rt, int idx, lia_recipient *out);
/* "owner:ID" / "partner:ID" / "unrouted" / "dropped" into out. */
size_t lia_route_recipient_name(const lia_route *rt, const lia_decision *d, char *out, size_t n);
const char *lia_verdict_name(int verdict);
const char *lia_route_rule_name(const lia_route *rt, int rule);

/* ---- decisions table (route_decision) ---- */

typedef struct lia_route_row {
    int64_t event_id;
    const char *recipient; /* "owner:ID" ... */
    const char *verdict;   /* "deliver", "deny", "unrouted", "dropped" */
    const char *rule;      /* rule name or "default" */
    const char *reason;
    int64_t decided_us;
    int64_t notified_us;     /* 0 if not yet */
    int64_t notification_id; /* 0 if not yet */
} lia_route_row;
typedef int (*lia_route_row_cb)(void *ud, const lia_route_row *row);

/* Call cb for each routing decision of event event_id (one per recipient,
 * by recipient name), with its reason and notification. */
int lia_route_rows(lia_store *s, int64_t event_id, lia_route_row_cb cb, void *ud, lia_error *err);
/* The notification that carried event event_id to each recipient (the one
 * its decision was marked notified by), oldest first. Borrowed strings. */
typedef struct lia_route_notification {
    const char *recipient; /* "partner:ID" ... */
    int64_t id;            /* the notification (liaison notify log) */
    const char *channel;   /* "email", "taxii:ROOT/COLLECTION" ... */
    int64_t at_us;
    const char *outcome; /* "sent", ... */
    const char *to;      /* the address or collection it went to */
    const char *message_id;
} lia_route_notification;
typedef int (*lia_route_notification_cb)(void *ud, const lia_route_notification *n);
int lia_route_notifications(lia_store *s, int64_t event_id, lia_route_notification_cb cb, void *ud,
                            lia_error *err);
/* Totals per recipient and verdict: cb(ud, recipient, verdict, count, notified). */
typedef int (*lia_route_sum_cb)(void *ud, const char *recipient, const char *verdict, uint64_t count,
                                uint64_t notified);
int lia_route_summary(lia_store *s, lia_route_sum_cb cb, void *ud, lia_error *err);

/* The pipeline stage (id LIA_ST_ROUTE). */
extern const lia_stage lia_stage_route;

#endif
