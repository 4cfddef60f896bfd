/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the incident rules of the routing file (key `incidents:`) and
 * incidents opened from the routing decisions of a stored batch.
 *
 * A rule groups the delivered routing decisions of events by a key (the
 * recipient and/or event fields) and a time window (the event's
 * time.source, else time.observation, in windows aligned on the epoch:
 * 1d = one UTC day); each group is one incident, found again by
 * (rule, window, key) in table incident_group, so the same events routed
 * twice open nothing twice. Syntax: docs/incidents.md. */
#ifndef LIA_INCIDENT_RULES_H
#define LIA_INCIDENT_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"
#include "liaison/event.h"
#include "liaison/incident.h"
#include "liaison/route.h"
#include "liaison/store.h"
#include "route/yaml.h"

#define LIA_INCIDENT_MAX_RULES 64 /* rules under incidents: */
#define LIA_INCIDENT_MAX_KEYS  8  /* fields in one grouping key */

/* The grouping key's parts: the recipient, or an event field. */
#define LIA_INCIDENT_KEY_RECIPIENT (-1)

typedef struct lia__incident_rule {
    char *name;
    char *title;                    /* NULL: the rule's name */
    int key[LIA_INCIDENT_MAX_KEYS]; /* lia_field, or LIA_INCIDENT_KEY_RECIPIENT */
    size_t nkey;
    int by_recipient; /* the recipient is part of the key */
    int64_t window;   /* seconds */
    lia_severity severity;
    char tlp[16];      /* "" : the highest TLP among the events, at least GREEN */
    char **route_rule; /* only decisions of these routing rules ("default") */
    size_t nroute_rule;
    char **feed; /* only events of these feeds */
    size_t nfeed;
    int type[8]; /* only these RSIT classification.type ids */
    size_t ntype;
} lia__incident_rule;

typedef struct lia__incident_rules {
    lia__incident_rule *r;
    size_t n;
} lia__incident_rules;

/* Parse the value of `incidents:` (a list of mappings). rule_names[0..n):
 * the routing rules a `route_rule:` may name (besides "default"). Errors
 * name the line and the key (LIA_EINVAL, LIA_ELIMIT, LIA_ENOMEM). */
int lia__incident_rules_parse(const lia_ynode *n, const char *const *rule_names, size_t nrule_names,
                              lia__incident_rules *out, lia_error *err);
void lia__incident_rules_free(lia__incident_rules *r);

/* One batch's routing decisions, as the route stage holds them: event i
 * of ev has decisions d[first[i] .. first[i] + count[i]). */
typedef struct lia__routed_batch {
    const lia_event *ev;
    size_t n;
    const lia_decision *d;
    const uint32_t *first, *count;
} lia__routed_batch;

/* Open (or find) the incidents of the batch's events by rules, link the
 * events, and add one hand-off per recipient; in the caller's transaction
 * (the batch's). Hand-off recipients are party ids (the route recipient
 * "partner:cert-kh" is hand-off recipient "cert-kh"). *opened (may be
 * NULL) counts the incidents created. */
int lia__incident_open_routed(lia_store *s, const lia__incident_rules *rules, const lia_route *rt,
                              const lia__routed_batch *b, uint64_t *opened, lia_error *err);

#endif
