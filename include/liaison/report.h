/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/report.h - statistics reports of a month (issue 14 point 1):
 * what a national CERT publishes to its partners and its head.
 *
 * One model, three renderings: HTML (one self-contained file, inline CSS,
 * charts and the world map drawn as SVG), CSV (the same tables, one section
 * each) and PDF (the HTML printed by headless chromium). Every number comes
 * from the store's aggregates (lia_store_rollup_period,
 * lia_store_recipients_period) or from the hand-offs and incidents, never
 * from a walk over the events. docs/reports.md says what is in a report. */
#ifndef LIAISON_REPORT_H
#define LIAISON_REPORT_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/slice.h"
#include "liaison/store.h"

typedef struct lia_report_opts {
    const char *period;   /* "YYYY-MM", a UTC month (required) */
    const char *lang;     /* "en" or "zh"; NULL: "en" */
    int tlp;              /* the report's label, enum lia_tlp; only data the TLP policy lets go at
                             it (src/route/tlp.h) is counted */
    const char *partner;  /* a partner's id: the report for it (its own row only in the league
                             table, unless its directory entry says stats_shared: true); NULL:
                             for our own team */
    const char *format;   /* "html", "csv" or "pdf" */
    const char *chromium; /* pdf: the browser; NULL: $LIAISON_CHROMIUM, else /usr/bin/chromium */
    const char *atlas;    /* the world map: world-atlas TopoJSON (countries-50m.json); NULL:
                             $LIAISON_WORLD_ATLAS, else the console's (web/node_modules); none
                             found: the map is left out and the report says so */
    const char *codes;    /* i18n-iso-countries codes.json (numeric to alpha-2); NULL: as atlas */
    uint64_t top;         /* rows of each ranking; 0: 10 */
    int64_t now_us;       /* when the report is made (SLA breaches are counted at the period's end
                             or now, the earlier); 0: now */
} lia_report_opts;

/* Build the report o asks for into out (appended; html and csv; pdf: use
 * lia_report_write). LIA_EINVAL naming the option (period, lang, format,
 * partner) and why; LIA_ENOTFOUND for a partner not in the directory. */
int lia_report_render(lia_store *s, const lia_report_opts *o, lia_buf *out, lia_error *err);

/* Build it and write it to path (through a temporary file renamed into
 * place: a failure leaves no half-written file). pdf: the HTML printed by
 * chromium; LIA_EUNSUPPORTED "PDF needs chromium ..." when it is absent,
 * LIA_EIO when it fails or writes no PDF. */
int lia_report_write(lia_store *s, const lia_report_opts *o, const char *path, lia_error *err);

/* ---- sent to a distribution list (e-mail) ----
 *
 * Each entry of `to` is "partner:ID" (a partner of the directory: the
 * report made for it, lia_report_opts.partner, to its contacts) or an
 * e-mail address of our own team (all of them together: one message with
 * the team's report). The one TLP policy decides whether the report's
 * label may go: to a partner its ceiling and agreement (never
 * AMBER+STRICT), to our team anything but RED; a refused entry is reported
 * as "refused" with the policy's reason and gets nothing. Messages go
 * through the notification module's SMTP (smtp_url, mail_from, sign_key of
 * the routing configuration unless given), signed with OpenPGP unless
 * unsigned_ok; the subject and a header carry the label. */
typedef struct lia_report_send_opts {
    const char *const *to;
    size_t nto;
    const char *smtp_url, *mail_from, *sign_key, *gnupg_home; /* NULL: the routing settings */
    int unsigned_ok;                                          /* send unsigned when no key is set */
    const char *dry_run_dir; /* write each message to DIR/N.eml instead of sending it */
} lia_report_send_opts;
typedef struct lia_report_sent {
    const char *entry;   /* the list's entry ("own team" for the team's addresses) */
    const char *address; /* the first address it went to; "" if none */
    const char *outcome; /* "sent", "dry-run", "refused", "failed" */
    const char *error;   /* why (refused, failed); NULL */
} lia_report_sent;
typedef int (*lia_report_sent_cb)(void *ud, const lia_report_sent *r);
/* LIA_OK once every entry was tried (each outcome through cb); LIA_EINVAL
 * or LIA_ENOTFOUND for a bad entry or option before anything is sent. */
int lia_report_send(lia_store *s, const lia_report_opts *o, const lia_report_send_opts *so,
                    lia_report_sent_cb cb, void *ud, lia_error *err);

/* ---- scheduled: a report every month (docs/reports.md, "Scheduled") ----
 *
 * A schedule is a named distribution list with the report's options and
 * a day of the month: on that day (00:00 UTC) or later the previous month
 * is due, and `liaison report run` (or `liaison serve --reports S`) sends
 * it once to each entry (each partner:ID, and the team's addresses
 * together as "own team"), through lia_report_send. The first month a new
 * schedule sends is the one whose day comes after it was made. Each
 * entry's outcome for a month is kept (report_delivery): "sent" and
 * "refused" are done; "failed" is tried again at the next run; an entry is
 * claimed ("sending") before it goes, so two runs at once (two nodes) send
 * it once, and a claim older than an hour (a process killed mid-send) is
 * taken over: after such a crash a message may go twice, never not at all.
 * Adding and removing a schedule are audit-logged. */
typedef struct lia_report_schedule {
    const char *name;   /* letters, digits, '.', '_', '-'; 1 to 64 */
    const char *format; /* html, pdf, csv */
    const char *lang;   /* en, zh; NULL: en */
    int tlp;            /* the report's label */
    uint64_t top;       /* 0: 10 */
    int day;            /* 1 to 28; 0: 1 */
    const char *const *to;
    size_t nto;         /* at least one entry: partner:ID or an address */
    int64_t created_us; /* when it counts as made: its first month is the one whose day comes
                           after; 0 for put: now (or, replacing, as it was) */
} lia_report_schedule;
/* Add a schedule, or replace the one of that name (its months already sent
 * stay sent; its time made stays unless created_us is given). LIA_EINVAL
 * naming the field and why. */
int lia_report_schedule_put(lia_store *s, const lia_report_schedule *sc, lia_error *err);
/* Remove it and what it sent (LIA_ENOTFOUND if there is none). */
int lia_report_schedule_remove(lia_store *s, const char *name, lia_error *err);
/* Each schedule, by name, with the last month it sent something for (""
 * if none). */
typedef int (*lia_report_schedule_cb)(void *ud, const lia_report_schedule *sc, const char *last_period);
int lia_report_schedule_list(lia_store *s, lia_report_schedule_cb cb, void *ud, lia_error *err);

/* Send what is due at now_us (0: now). so gives SMTP and signing (its `to`
 * is ignored); with so->dry_run_dir nothing is recorded as sent. Each
 * outcome goes to cb with its schedule and month; a schedule whose list no
 * longer checks (a partner removed) is reported as one "failed" outcome of
 * entry "*" and the others still run. */
typedef int (*lia_report_due_cb)(void *ud, const char *schedule, const char *period,
                                 const lia_report_sent *r);
int lia_report_run_due(lia_store *s, int64_t now_us, const lia_report_send_opts *so, lia_report_due_cb cb,
                       void *ud, lia_error *err);

#endif
