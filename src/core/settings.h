/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: every setting of the routing configuration (rules file) and of
 * the enrichment configuration (STORE.conf), declared once in a table (name,
 * type, min, max, default, description), as Redis declares its config. The
 * loaders validate a value with lia__setting_check; the modules that use a
 * setting read it with lia__setting_int / lia__setting_text, which take the
 * table's default when it is not set. Pure, thread-safe. */
#ifndef LIA_CORE_SETTINGS_H
#define LIA_CORE_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

typedef enum lia__set_type {
    LIA_SET_TEXT,     /* text of min..max bytes; its owner may check more (an e-mail address) */
    LIA_SET_INT,      /* a decimal integer from min to max */
    LIA_SET_BOOL,     /* a lia_parse_bool word; read as 1 or 0 */
    LIA_SET_DURATION, /* a lia_parse_duration (90s, 15m, 1h, 7d) from min to max seconds; read in seconds */
    LIA_SET_CHOICE,   /* one of the words of choices ("first|all"); read as its index */
    LIA_SET_COUNTRY,  /* an ISO 3166-1 alpha-2 code */
    LIA_SET_OWNED,    /* a list or structured value that its module parses (rules, redact, ipdata.source) */
} lia__set_type;

typedef enum lia__set_scope {
    LIA_SCOPE_ROUTE,  /* the routing configuration: key at the top level */
    LIA_SCOPE_ENRICH, /* STORE.conf: "section.key" */
} lia__set_scope;

typedef struct lia__setting {
    const char *name;
    lia__set_scope scope;
    lia__set_type type;
    int64_t min, max;
    const char *dflt;    /* the default, as it would be written; NULL: none */
    const char *choices; /* LIA_SET_CHOICE: words separated by '|' */
    const char *desc;    /* one line: what it is and what values it takes */
} lia__setting;

/* The table, ended by a NULL name. */
extern const lia__setting lia__settings[];

/* The setting name[0..n) of scope, or NULL if there is none. */
const lia__setting *lia__setting_find(lia__set_scope scope, const char *name, size_t n);

/* LIA_OK if v[0..n) is a valid value of s, else LIA_EINVAL with *why (static
 * text, may be NULL) saying what is expected. */
int lia__setting_check(const lia__setting *s, const char *v, size_t n, const char **why);

/* The value of v[0..n) for a setting of type INT, BOOL (1/0), DURATION
 * (seconds) or CHOICE (the index of the word): LIA_OK, or LIA_EINVAL with
 * *why (static text) saying what is expected. */
int lia__setting_parse(const lia__setting *s, const char *v, size_t n, int64_t *out, const char **why);

/* The value of the setting name (scope, type INT, BOOL, DURATION or CHOICE)
 * given its configured text v (NULL: not set): v's value if it is valid,
 * else the table's default (0 if none). A loader has checked v already. */
int64_t lia__setting_int(lia__set_scope scope, const char *name, const char *v);

/* v if set, else the table's default (may be NULL). */
const char *lia__setting_text(lia__set_scope scope, const char *name, const char *v);

/* The keys of scope whose names start with prefix (e.g. "dedup."), without
 * it, separated by ", ", into out (cut to n; for error messages). */
void lia__setting_keys(lia__set_scope scope, const char *prefix, char *out, size_t n);

#endif
