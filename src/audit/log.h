/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: appending to the audit log from another module's transaction
 * (incidents, hand-offs): the record becomes the next Merkle leaf in the
 * same transaction as the change it describes. */
#ifndef LIA_AUDIT_LOG_H
#define LIA_AUDIT_LOG_H

#include "liaison/audit.h"
#include "store/db.h"

/* Make sure the audit tables exist (the "audit" schema). */
int lia__audit_schema(lia_db *db, lia_error *err);
/* Append r (seq and at_us are assigned; *seq_out may be NULL). Opens a
 * savepoint inside the caller's transaction, or a transaction of its own. */
int lia__audit_append(lia_db *db, const lia_audit_record *r, int64_t *seq_out, lia_error *err);

#endif
