/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal to src/node: the one schema of the node tables and what the
 * files share. */
#ifndef LIA_NODE_INTERNAL_H
#define LIA_NODE_INTERNAL_H

#include "audit/log.h"
#include "liaison/node.h"
#include "store/db.h"

/* node_thread.origin: who offered the incident of the thread */
enum { LIA__NODE_WE_OFFERED = 0, LIA__NODE_THEY_OFFERED = 1 };
/* node_thread.reported for a thread they offered: the last answer queued */
enum { LIA__NODE_REP_NONE = 0, LIA__NODE_REP_ACK = 1, LIA__NODE_REP_RESOLVE = 2, LIA__NODE_REP_REJECT = 3 };

/* The node tables (and the incident and audit tables they refer to). */
int lia__node_schema(lia_db *db, lia_error *err);

/* One audit record of the exchange inside the open transaction: object
 * "node:PEER", action, and after (JSON text, may be NULL). */
int lia__node_audit(lia_db *db, const char *peer, const char *channel_who, const char *address,
                    const char *action, const char *after, lia_error *err);

/* 1 if name is a peer (0 not, < 0 error). */
int lia__node_is_peer(lia_db *db, const char *name, lia_error *err);

#endif
