/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bus/schema.h - the work bus's tables, without the NATS client: for the
 * modules that make every module's tables (a whole-store copy,
 * src/store/copy.c), which must not include nats.h. */
#ifndef LIA_BUS_SCHEMA_H
#define LIA_BUS_SCHEMA_H

#include "store/db.h"

/* The bus tables (bus_reports, bus_chunks) on the store's handle. */
int lia__bus_schema(lia_db *db, lia_error *err);

#endif
