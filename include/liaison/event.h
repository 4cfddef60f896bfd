/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/event.h - the harmonised event.
 *
 * An event holds typed values for the fields of field.h (a presence bitmap
 * and one slot per field), the free-form `extra.*` keys (each value a JSON
 * text), and where it came from (report and line). String values live in the
 * event's own text buffer, so an event is one allocation-stable object that
 * can be reset and reused without freeing. Not thread-safe: one event, one
 * thread. */
#ifndef LIAISON_EVENT_H
#define LIAISON_EVENT_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/field.h"
#include "liaison/slice.h"

typedef union lia_value {
    int64_t i; /* INT ASN PORT BOOL TLP TAXONOMY CLASSTYPE REGISTRY; TIME in us */
    double f;  /* FLOAT ACCURACY */
    lia_ip ip; /* IP CIDR */
    struct {
        uint32_t off;
        uint32_t len;
    } s; /* STRING LOWER UPPER CC FQDN URL BASE64 JSON: bytes in text */
} lia_value;

typedef struct lia_extra {
    uint32_t koff, klen; /* key without the "extra." prefix */
    uint32_t voff, vlen; /* compact JSON value */
} lia_extra;

typedef struct lia_event {
    uint64_t present[(LIA_F__COUNT + 63) / 64];
    lia_value v[LIA_F__COUNT];
    lia_buf text;          /* string storage; max LIA_MAX_EVENT_TEXT */
    lia_extra *extra;      /* nextra entries, in insertion order */
    uint32_t nextra, extra_cap;
    int64_t id;            /* store id (event.id), 0 if not stored */
    int64_t report_id;     /* report it came from, 0 if none */
    uint64_t line;         /* 1-based line in that report, 0 if none */
} lia_event;

/* init: an empty event (no allocation yet); free: release its memory;
 * reset: empty it again for reuse, keeping the allocations (the batch
 * loop's way: no malloc per event). */
void lia_event_init(lia_event *ev);
void lia_event_free(lia_event *ev);
void lia_event_reset(lia_event *ev);

/* 1 if field f is set in ev; unset clears it (its value is ignored after). */
static inline int lia_event_has(const lia_event *ev, lia_field f)
{
    return (ev->present[f >> 6] >> (f & 63)) & 1u;
}
void lia_event_unset(lia_event *ev, lia_field f);

/* Validate and normalise text s[0..n) for field f and store it. On error
 * fills err (field, escaped value, reason) and leaves ev unchanged. An empty
 * value is an error (callers decide whether empty means "absent"). */
int lia_event_set(lia_event *ev, lia_field f, const char *s, size_t n, lia_error *err);

/* Same, by field name; "extra.KEY" stores s as a JSON string under KEY. */
int lia_event_set_name(lia_event *ev, const char *name, size_t nlen, const char *s, size_t n,
                       lia_error *err);

/* Typed setters for values already validated (enrichment, readers). */
void lia_event_set_i(lia_event *ev, lia_field f, int64_t v);
void lia_event_set_f(lia_event *ev, lia_field f, double v);
void lia_event_set_ip(lia_event *ev, lia_field f, const lia_ip *ip);
int lia_event_set_str(lia_event *ev, lia_field f, const char *s, size_t n); /* trusted text */

/* extra.KEY = JSON value json[0..jn) (must already be valid compact JSON).
 * KEY must match [a-z0-9_][a-z0-9_.-]* and not repeat. */
int lia_event_extra_json(lia_event *ev, const char *key, size_t klen, const char *json, size_t jn,
                         lia_error *err);
/* extra.KEY = the string s (valid UTF-8), stored as a JSON string. */
int lia_event_extra_str(lia_event *ev, const char *key, size_t klen, const char *s, size_t n,
                        lia_error *err);
/* Fast paths for readers whose keys were checked once up front (valid and
 * distinct, e.g. a mapping's columns): skip the per-event key checks. */
int lia_event_extra_str_known(lia_event *ev, const char *key, size_t klen, const char *s, size_t n,
                              lia_error *err);
int lia_event_extra_json_known(lia_event *ev, const char *key, size_t klen, const char *json, size_t jn,
                               lia_error *err);

/* extra.KEY = integer. */
int lia_event_extra_int(lia_event *ev, const char *key, size_t klen, int64_t v, lia_error *err);

/* Copy every field and extra key of src into dst (fields overwrite, extras
 * are added; a duplicate extra key is an error). */
int lia_event_copy(lia_event *dst, const lia_event *src, lia_error *err);

/* Borrowed view of a string-typed field (LIA_SLICE_NULL if absent). */
lia_slice lia_event_str(const lia_event *ev, lia_field f);

/* Canonical text of any field into out (NUL-terminated); 0 if absent. */
size_t lia_event_text(const lia_event *ev, lia_field f, char *out, size_t n);

/* Cross-field rules, run after all fields are set: a classification.type
 * without taxonomy gets its RSIT taxonomy; a taxonomy that does not match the
 * type is an error; an event with no field at all is an error. */
int lia_event_finish(lia_event *ev, lia_error *err);

/* Flat harmonised JSON ({"classification.type": ..., "extra.x": ...}),
 * keys in field-table order then extras. Appends to out. */
int lia_event_to_json(const lia_event *ev, lia_buf *out);

/* Parse one flat JSON object (as written by lia_event_to_json, or IntelMQ's
 * JSON) into ev (reset first). Unknown non-extra keys are errors. */
int lia_event_from_json(lia_event *ev, const char *json, size_t n, lia_error *err);

#endif
