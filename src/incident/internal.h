/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal to src/incident: the one schema of the incident tables and the
 * audit record every change appends. */
#ifndef LIA_INCIDENT_INTERNAL_H
#define LIA_INCIDENT_INTERNAL_H

#include "audit/log.h"
#include "liaison/incident.h"
#include "store/db.h"

/* The incident tables (and the audit tables they write to). */
int lia__incident_schema(lia_db *db, lia_error *err);

/* Append the audit record of one change inside the open transaction:
 * object, action, and before/after as JSON texts (NULL for none). */
int lia__incident_audit(lia_db *db, const lia_actor *who, const char *object, const char *action,
                        const char *before, const char *after, lia_error *err);

/* 1 if the incident exists (0: not; < 0: error). */
int lia__incident_exists(lia_db *db, int64_t id, lia_error *err);

#endif
