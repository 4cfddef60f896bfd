/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/drill.h - cross-border drills (issue 14 point 2, docs/drills.md).
 *
 * A scenario (YAML) names participants (partners or owners of the
 * directory), injects sent at an offset from the drill's start (an
 * incident, with a synthetic event described in it) and, per inject, the
 * expected answers (acknowledge, resolve, a value to report back), each
 * with a score and an expiry. A due inject becomes one incident per
 * participant, marked as the drill's (incident.drill) and "[DRILL]" in its
 * title, handed off to it, and goes out through the participant's real
 * channel: its node (Liaison to Liaison, sent by `node sync`), else an
 * e-mail to its first contact (lia_notify_handoff: "[DRILL]" in the
 * subject, header X-Liaison-Drill, the signed answer links), else the API
 * (the hand-off notified, the incident visible to the partner). Answers
 * are the hand-offs' own acknowledge and resolve times; an answer within
 * the expiry scores, one after it or none scores 0.
 *
 * Drill incidents are left out of statistics, SLA breaches and reminders,
 * metrics, reports and sharing; deleting a drill deletes them and what
 * hangs on them. Same thread rules as the store. */
#ifndef LIAISON_DRILL_H
#define LIAISON_DRILL_H

#include <stddef.h>
#include <stdint.h>

#include "liaison/error.h"
#include "liaison/incident.h"
#include "liaison/store.h"

#define LIA_DRILL_MAX_FILE         (1u << 20) /* a scenario file */
#define LIA_DRILL_MAX_PARTICIPANTS 64
#define LIA_DRILL_MAX_INJECTS      256
#define LIA_DRILL_MAX_EXPECT       8 /* expectations per inject */
#define LIA_DRILL_MAX_OFFSET       (366LL * 86400)
#define LIA_DRILL_MAX_TEXT         4096 /* a name, title, value */

typedef enum lia_drill_answer {
    LIA_DRILL_ACK,     /* the hand-off acknowledged */
    LIA_DRILL_RESOLVE, /* the hand-off resolved */
    LIA_DRILL_VALUE,   /* a comment of the participant containing the value */
} lia_drill_answer;

/* "acknowledge", "resolve", "value". */
const char *lia_drill_answer_name(lia_drill_answer a);

typedef struct lia_drill_expect {
    lia_drill_answer answer;
    char *value;      /* LIA_DRILL_VALUE: the text expected (case-insensitive); else NULL */
    int64_t score;    /* points when answered in time, 0 to 1000000 */
    int64_t expiry_s; /* seconds after the inject was sent */
} lia_drill_expect;

typedef struct lia_drill_inject {
    char *name;        /* unique in the scenario */
    int64_t at_s;      /* offset from the drill's start, seconds */
    char *title;       /* without "[DRILL]" (added) */
    char *description; /* may be NULL */
    lia_severity severity;
    char *tlp;   /* "AMBER" by default */
    char *event; /* the synthetic event as JSON (an object of field: value), or NULL */
    lia_drill_expect expect[LIA_DRILL_MAX_EXPECT];
    size_t nexpect;
} lia_drill_inject;

typedef struct lia_drill_scenario {
    char *name;
    int rank; /* 1: the report ranks the participants */
    char *participants[LIA_DRILL_MAX_PARTICIPANTS];
    size_t nparticipants;
    lia_drill_inject *injects;
    size_t ninjects;
} lia_drill_scenario;

/* Parse a scenario from buf[0..len) (YAML, libyaml): LIA_OK with *out
 * (lia_drill_scenario_free), or LIA_EPARSE / LIA_EINVAL / LIA_ELIMIT with
 * err->line and the column in the reason ("column 7: ..."), the key in
 * err->field. Pure: the participants are not looked up. */
int lia_drill_scenario_parse(const char *buf, size_t len, lia_drill_scenario **out, lia_error *err);
void lia_drill_scenario_free(lia_drill_scenario *sc); /* NULL is fine */

/* ---- in the store ---- */

typedef struct lia_drill_opts {
    int64_t now_us;  /* 0: the clock */
    int dry_run;     /* e-mail: build the messages, send and record nothing */
    int unsigned_ok; /* e-mail: send unsigned when no sign_key is set */
    const char *smtp_url, *mail_from, *sign_key, *gnupg_home; /* NULL: the routing settings */
} lia_drill_opts;

/* One inject to one participant, as tick reports it. */
typedef struct lia_drill_sent {
    int64_t drill;
    const char *inject, *participant;
    int64_t incident;
    const char *channel; /* "email", "node", "api" */
    const char *outcome; /* "sent", "queued" (node: node sync offers it), "failed", "dry-run" */
    const char *error;   /* why it failed; NULL */
} lia_drill_sent;
typedef int (*lia_drill_sent_cb)(void *ud, const lia_drill_sent *x);

/* Create a drill from the scenario text buf[0..len) (kept with it):
 * checked as lia_drill_scenario_parse does, every participant a partner or
 * owner of the directory (else LIA_ENOTFOUND naming it). Starts at
 * o->now_us. *id: its id. */
int lia_drill_create(lia_store *s, const char *buf, size_t len, const char *source, const lia_drill_opts *o,
                     int64_t *id, lia_error *err);

/* Send what is due of every running drill (drill 0) or of one: each inject
 * whose offset has passed, once per participant. Idempotent: an inject is
 * recorded before it is sent (its incident, its Message-ID) and marked
 * sent after, so a second tick sends nothing again and a tick that
 * stopped in between resends the same message (same Message-ID) only if
 * the hand-off was not notified. cb per inject handled (may be NULL).
 * LIA_ENET if a delivery failed (retried on the next tick). */
int lia_drill_tick(lia_store *s, int64_t drill, const lia_drill_opts *o, lia_drill_sent_cb cb, void *ud,
                   lia_error *err);

/* Stop a drill: no inject is sent after; answers after it do not score.
 * LIA_ENOTFOUND; LIA_ESTATE if it is stopped already. */
int lia_drill_stop(lia_store *s, int64_t drill, const lia_drill_opts *o, lia_error *err);

/* Delete a drill and everything it made: its incidents, hand-offs, their
 * messages and comments, node threads and received mails, in one
 * transaction. The audit log keeps its records (append-only). */
int lia_drill_delete(lia_store *s, int64_t drill, uint64_t *incidents, lia_error *err);

typedef struct lia_drill_info {
    int64_t id;
    const char *name;
    const char *state;              /* "running", "stopped", "finished" (every inject sent and scored) */
    int64_t started_us, stopped_us; /* stopped_us 0 while running */
    size_t participants, injects, sent;
    int rank;
} lia_drill_info;
typedef int (*lia_drill_info_cb)(void *ud, const lia_drill_info *d);
/* Every drill (drill 0) or one (LIA_ENOTFOUND), as of o->now_us. */
int lia_drill_list(lia_store *s, int64_t drill, const lia_drill_opts *o, lia_drill_info_cb cb, void *ud,
                   lia_error *err);

/* One row of the report: one participant, one inject, one expectation. */
typedef struct lia_drill_row {
    const char *participant, *inject;
    const char *answer; /* "acknowledge", "resolve", "value" */
    int64_t incident;   /* 0: not sent yet */
    const char *channel;
    int64_t sent_us;          /* 0: not sent */
    int64_t acked_after_s;    /* seconds after sent; -1: none */
    int64_t resolved_after_s; /* -1: none */
    int64_t answered_after_s; /* this expectation's answer; -1: none */
    const char *verdict;      /* "met", "late", "missed", "waiting", "not sent" */
    int64_t score, max_score;
} lia_drill_row;
typedef int (*lia_drill_row_cb)(void *ud, const lia_drill_row *r);
/* The drill's rows (participants in scenario order, then injects, then
 * expectations), scored as of o->now_us (or the stop time). *rank (may
 * be NULL): the scenario's rank. */
int lia_drill_report(lia_store *s, int64_t drill, const lia_drill_opts *o, lia_drill_row_cb cb, void *ud,
                     int *rank, lia_error *err);

#endif
