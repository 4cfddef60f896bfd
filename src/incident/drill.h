/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: what the drill module (src/drill) asks of the incident tables
 * and of the modules that keep rows about incidents (node threads, mail
 * messages) when a drill is deleted. Each runs in the caller's open
 * transaction and deletes only its own module's rows; the audit log keeps
 * its records (append-only: docs/drills.md). */
#ifndef LIA_INCIDENT_DRILL_H
#define LIA_INCIDENT_DRILL_H

#include <stdint.h>

#include "liaison/error.h"
#include "store/db.h"

/* Every incident of drill (incident.drill = drill) and what hangs on it:
 * hand-offs, their messages, comments, links, attachments, pauses,
 * groups. *n (may be NULL): the incidents removed. */
int lia__incident_forget_drill(lia_db *db, int64_t drill, uint64_t *n, lia_error *err);
/* The node exchange's threads and queued messages of those incidents
 * (src/node/peer.c); nothing when the node tables do not exist. */
int lia__node_forget_drill(lia_db *db, int64_t drill, lia_error *err);
/* The received e-mail rows matched to those incidents (src/mail/receive.c). */
int lia__mail_forget_drill(lia_db *db, int64_t drill, lia_error *err);

#endif
