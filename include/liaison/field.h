/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/field.h - the harmonised field set and its typed values.
 *
 * The fields follow the CERT community's harmonisation (IntelMQ's
 * harmonization.conf) plus `tlp` (TLP 2.0). `extra.*` keys are free-form and
 * live beside the typed fields (see event.h). Every validator here is a pure
 * function of (ptr, len): no I/O, no globals, and no allocation except inside
 * libidn2 for non-ASCII host names. Every failure returns LIA_EINVAL (too long
 * included) with a short static reason. */
#ifndef LIAISON_FIELD_H
#define LIAISON_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"
#include "liaison/slice.h"

typedef enum lia_ftype {
    LIA_T_STRING,    /* valid UTF-8, no NUL, <= LIA_MAX_STRING */
    LIA_T_LOWER,     /* String, ASCII-lowercased */
    LIA_T_UPPER,     /* String, ASCII-uppercased */
    LIA_T_CC,        /* ISO 3166-1 alpha-2 (plus reserved/user-assigned), upper */
    LIA_T_IP,        /* IPv4 or IPv6 address, canonical text */
    LIA_T_CIDR,      /* IP network, host bits cleared */
    LIA_T_ASN,       /* 1 .. 4294967294; "AS64496" accepted */
    LIA_T_PORT,      /* 0 .. 65535 */
    LIA_T_INT,       /* signed 64-bit decimal */
    LIA_T_FLOAT,     /* finite double */
    LIA_T_BOOL,      /* true/false */
    LIA_T_FQDN,      /* IDNA A-label, lower case, no trailing dot */
    LIA_T_URL,       /* absolute URL, scheme and host lower case */
    LIA_T_TIME,      /* RFC 3339 UTC, microseconds */
    LIA_T_TLP,       /* TLP 2.0 label */
    LIA_T_TAXONOMY,  /* RSIT classification.taxonomy */
    LIA_T_CLASSTYPE, /* RSIT classification.type */
    LIA_T_REGISTRY,  /* AFRINIC, APNIC, ARIN, LACNIC, RIPE */
    LIA_T_ACCURACY,  /* float 0 .. 100 */
    LIA_T_BASE64,    /* base64 text (validated, kept as given) */
    LIA_T_JSON,      /* a JSON text (validated, kept compact) */
} lia_ftype;

/* The field table. Keep it sorted by name: lia_field_lookup() is a binary
 * search (a unit test checks the order). */
#define LIA_FIELDS(X) \
    X(LIA_F_CLASSIFICATION_IDENTIFIER, "classification.identifier", LIA_T_STRING) \
    X(LIA_F_CLASSIFICATION_TAXONOMY, "classification.taxonomy", LIA_T_TAXONOMY) \
    X(LIA_F_CLASSIFICATION_TYPE, "classification.type", LIA_T_CLASSTYPE) \
    X(LIA_F_COMMENT, "comment", LIA_T_STRING) \
    X(LIA_F_DESTINATION_ABUSE_CONTACT, "destination.abuse_contact", LIA_T_LOWER) \
    X(LIA_F_DESTINATION_ACCOUNT, "destination.account", LIA_T_STRING) \
    X(LIA_F_DESTINATION_ALLOCATED, "destination.allocated", LIA_T_TIME) \
    X(LIA_F_DESTINATION_AS_NAME, "destination.as_name", LIA_T_STRING) \
    X(LIA_F_DESTINATION_ASN, "destination.asn", LIA_T_ASN) \
    X(LIA_F_DESTINATION_DOMAIN_SUFFIX, "destination.domain_suffix", LIA_T_FQDN) \
    X(LIA_F_DESTINATION_FQDN, "destination.fqdn", LIA_T_FQDN) \
    X(LIA_F_DESTINATION_GEOLOCATION_CC, "destination.geolocation.cc", LIA_T_CC) \
    X(LIA_F_DESTINATION_GEOLOCATION_CITY, "destination.geolocation.city", LIA_T_STRING) \
    X(LIA_F_DESTINATION_GEOLOCATION_COUNTRY, "destination.geolocation.country", LIA_T_STRING) \
    X(LIA_F_DESTINATION_GEOLOCATION_LATITUDE, "destination.geolocation.latitude", LIA_T_FLOAT) \
    X(LIA_F_DESTINATION_GEOLOCATION_LONGITUDE, "destination.geolocation.longitude", LIA_T_FLOAT) \
    X(LIA_F_DESTINATION_GEOLOCATION_REGION, "destination.geolocation.region", LIA_T_STRING) \
    X(LIA_F_DESTINATION_GEOLOCATION_STATE, "destination.geolocation.state", LIA_T_STRING) \
    X(LIA_F_DESTINATION_IP, "destination.ip", LIA_T_IP) \
    X(LIA_F_DESTINATION_LOCAL_HOSTNAME, "destination.local_hostname", LIA_T_STRING) \
    X(LIA_F_DESTINATION_LOCAL_IP, "destination.local_ip", LIA_T_IP) \
    X(LIA_F_DESTINATION_NETWORK, "destination.network", LIA_T_CIDR) \
    X(LIA_F_DESTINATION_PORT, "destination.port", LIA_T_PORT) \
    X(LIA_F_DESTINATION_REGISTRY, "destination.registry", LIA_T_REGISTRY) \
    X(LIA_F_DESTINATION_REVERSE_DNS, "destination.reverse_dns", LIA_T_FQDN) \
    X(LIA_F_DESTINATION_TOR_NODE, "destination.tor_node", LIA_T_BOOL) \
    X(LIA_F_DESTINATION_URL, "destination.url", LIA_T_URL) \
    X(LIA_F_DESTINATION_URLPATH, "destination.urlpath", LIA_T_STRING) \
    X(LIA_F_EVENT_DESCRIPTION_TARGET, "event_description.target", LIA_T_STRING) \
    X(LIA_F_EVENT_DESCRIPTION_TEXT, "event_description.text", LIA_T_STRING) \
    X(LIA_F_EVENT_DESCRIPTION_URL, "event_description.url", LIA_T_URL) \
    X(LIA_F_EVENT_HASH, "event_hash", LIA_T_UPPER) \
    X(LIA_F_FEED_ACCURACY, "feed.accuracy", LIA_T_ACCURACY) \
    X(LIA_F_FEED_CODE, "feed.code", LIA_T_STRING) \
    X(LIA_F_FEED_DOCUMENTATION, "feed.documentation", LIA_T_STRING) \
    X(LIA_F_FEED_NAME, "feed.name", LIA_T_STRING) \
    X(LIA_F_FEED_PROVIDER, "feed.provider", LIA_T_STRING) \
    X(LIA_F_FEED_URL, "feed.url", LIA_T_URL) \
    X(LIA_F_MALWARE_HASH_MD5, "malware.hash.md5", LIA_T_STRING) \
    X(LIA_F_MALWARE_HASH_SHA1, "malware.hash.sha1", LIA_T_STRING) \
    X(LIA_F_MALWARE_HASH_SHA256, "malware.hash.sha256", LIA_T_STRING) \
    X(LIA_F_MALWARE_NAME, "malware.name", LIA_T_LOWER) \
    X(LIA_F_MALWARE_VERSION, "malware.version", LIA_T_STRING) \
    X(LIA_F_MISP_ATTRIBUTE_UUID, "misp.attribute_uuid", LIA_T_LOWER) \
    X(LIA_F_MISP_EVENT_UUID, "misp.event_uuid", LIA_T_LOWER) \
    X(LIA_F_OUTPUT, "output", LIA_T_JSON) \
    X(LIA_F_PROTOCOL_APPLICATION, "protocol.application", LIA_T_LOWER) \
    X(LIA_F_PROTOCOL_TRANSPORT, "protocol.transport", LIA_T_LOWER) \
    X(LIA_F_RAW, "raw", LIA_T_BASE64) \
    X(LIA_F_RTIR_ID, "rtir_id", LIA_T_INT) \
    X(LIA_F_SCREENSHOT_URL, "screenshot_url", LIA_T_URL) \
    X(LIA_F_SOURCE_ABUSE_CONTACT, "source.abuse_contact", LIA_T_LOWER) \
    X(LIA_F_SOURCE_ACCOUNT, "source.account", LIA_T_STRING) \
    X(LIA_F_SOURCE_ALLOCATED, "source.allocated", LIA_T_TIME) \
    X(LIA_F_SOURCE_AS_NAME, "source.as_name", LIA_T_STRING) \
    X(LIA_F_SOURCE_ASN, "source.asn", LIA_T_ASN) \
    X(LIA_F_SOURCE_DOMAIN_SUFFIX, "source.domain_suffix", LIA_T_FQDN) \
    X(LIA_F_SOURCE_FQDN, "source.fqdn", LIA_T_FQDN) \
    X(LIA_F_SOURCE_GEOLOCATION_CC, "source.geolocation.cc", LIA_T_CC) \
    X(LIA_F_SOURCE_GEOLOCATION_CITY, "source.geolocation.city", LIA_T_STRING) \
    X(LIA_F_SOURCE_GEOLOCATION_COUNTRY, "source.geolocation.country", LIA_T_STRING) \
    X(LIA_F_SOURCE_GEOLOCATION_CYMRU_CC, "source.geolocation.cymru_cc", LIA_T_CC) \
    X(LIA_F_SOURCE_GEOLOCATION_GEOIP_CC, "source.geolocation.geoip_cc", LIA_T_CC) \
    X(LIA_F_SOURCE_GEOLOCATION_LATITUDE, "source.geolocation.latitude", LIA_T_FLOAT) \
    X(LIA_F_SOURCE_GEOLOCATION_LONGITUDE, "source.geolocation.longitude", LIA_T_FLOAT) \
    X(LIA_F_SOURCE_GEOLOCATION_REGION, "source.geolocation.region", LIA_T_STRING) \
    X(LIA_F_SOURCE_GEOLOCATION_STATE, "source.geolocation.state", LIA_T_STRING) \
    X(LIA_F_SOURCE_IP, "source.ip", LIA_T_IP) \
    X(LIA_F_SOURCE_LOCAL_HOSTNAME, "source.local_hostname", LIA_T_STRING) \
    X(LIA_F_SOURCE_LOCAL_IP, "source.local_ip", LIA_T_IP) \
    X(LIA_F_SOURCE_NETWORK, "source.network", LIA_T_CIDR) \
    X(LIA_F_SOURCE_PORT, "source.port", LIA_T_PORT) \
    X(LIA_F_SOURCE_REGISTRY, "source.registry", LIA_T_REGISTRY) \
    X(LIA_F_SOURCE_REVERSE_DNS, "source.reverse_dns", LIA_T_FQDN) \
    X(LIA_F_SOURCE_TOR_NODE, "source.tor_node", LIA_T_BOOL) \
    X(LIA_F_SOURCE_URL, "source.url", LIA_T_URL) \
    X(LIA_F_SOURCE_URLPATH, "source.urlpath", LIA_T_STRING) \
    X(LIA_F_STATUS, "status", LIA_T_STRING) \
    X(LIA_F_TIME_OBSERVATION, "time.observation", LIA_T_TIME) \
    X(LIA_F_TIME_SOURCE, "time.source", LIA_T_TIME) \
    X(LIA_F_TLP, "tlp", LIA_T_TLP) \
    /* end */

typedef enum lia_field {
#define LIA_X_ENUM(id, name, type) id,
    LIA_FIELDS(LIA_X_ENUM)
#undef LIA_X_ENUM
    LIA_F__COUNT
} lia_field;

/* Field name ("source.ip"), type; lookup by name (returns -1 if unknown). */
const char *lia_field_name(lia_field f);
int lia_field_lookup(const char *name, size_t len);

/* ---- typed values ---- */

/* An IP address or network. IPv4 is kept as family 4 in addr[0..3].
 * prefix is 32/128 for a plain address. */
typedef struct lia_ip {
    uint8_t family; /* 4 or 6 */
    uint8_t prefix;
    uint8_t addr[16];
} lia_ip;

enum lia_tlp { LIA_TLP_CLEAR = 0, LIA_TLP_GREEN = 1, LIA_TLP_AMBER = 2, LIA_TLP_AMBER_STRICT = 3, LIA_TLP_RED = 4 };

enum lia_registry { LIA_REG_AFRINIC = 0, LIA_REG_APNIC, LIA_REG_ARIN, LIA_REG_LACNIC, LIA_REG_RIPE };

/* Text forms of the longest normalised values (with NUL). */
#define LIA_IP_TEXT 64     /* "ffff:...:ffff/128" */
#define LIA_TIME_TEXT 40   /* "2024-05-01T00:00:00.123456+00:00" */

/* Each parser accepts the text s[0..n) (not NUL-terminated), validates and
 * normalises it, writes *out only on success and returns LIA_OK or
 * LIA_EINVAL with a short static reason in *why (why may be NULL). */
int lia_parse_ip(const char *s, size_t n, lia_ip *out, const char **why);
int lia_parse_cidr(const char *s, size_t n, lia_ip *out, const char **why);
int lia_parse_asn(const char *s, size_t n, uint32_t *out, const char **why);
/* A duration: digits, then s, m, h or d (none: seconds), e.g. 90s, 15m, 6h,
 * 1d; *secs from 1 second to LIA_MAX_DURATION_DAYS days. */
int lia_parse_duration(const char *s, size_t n, int64_t *secs, const char **why);
/* A boolean word, ASCII case-insensitive: true/false, yes/no, on/off, y/n,
 * 1/0, enabled/disabled; *out 1 or 0. The one list every reader uses. */
int lia_parse_bool(const char *s, size_t n, int *out, const char **why);
/* Microseconds since 1970-01-01T00:00:00Z. Accepts RFC 3339 ("T" or space,
 * "Z" or +hh:mm / +hhmm offset, fraction up to 9 digits, truncated to us) and
 * a date-time with no zone, which is taken as UTC (Shadowserver's form). */
int lia_parse_time(const char *s, size_t n, int64_t *out_us, const char **why);
int lia_parse_tlp(const char *s, size_t n, int *out, const char **why);
int lia_parse_cc(const char *s, size_t n, char out[3], const char **why);
/* Writes the normalised FQDN (A-labels, lower case, no trailing dot) into out
 * (size outn >= LIA_MAX_FQDN + 1); *outlen gets its length. */
int lia_parse_fqdn(const char *s, size_t n, char *out, size_t outn, size_t *outlen, const char **why);

/* Formatting. Each returns the length written (NUL-terminated). */
size_t lia_ip_format(const lia_ip *ip, int with_prefix, char *out, size_t n);
size_t lia_time_format(int64_t us, char *out, size_t n);
const char *lia_tlp_name(int tlp); /* "AMBER+STRICT" */

/* IP helpers: 1 if net (a network) contains ip. */
int lia_ip_in(const lia_ip *net, const lia_ip *ip);

/* ---- RSIT classification ---- */

/* Taxonomy ids are indexes into the RSIT taxonomy table; type ids into the
 * type table. Every type belongs to one taxonomy. */
int lia_class_taxonomy_lookup(const char *s, size_t n);   /* -1 if unknown */
int lia_class_type_lookup(const char *s, size_t n);       /* -1 if unknown */

#endif
