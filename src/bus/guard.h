/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bus/guard.h - for the single-process pipeline (src/pipeline/ingest.c):
 * is a report the work bus's? Without nats.h. */
#ifndef LIA_BUS_GUARD_H
#define LIA_BUS_GUARD_H

#include "liaison/ingest.h"
#include "liaison/store.h"

/* LIA_OK if report rep was never published on the bus (the store has no
 * bus tables, or no bus_reports row for it); else LIA_ESTATE with what to
 * do instead: its chunks are stored by workers, and a plain ingest, which
 * resumes from the report's committed line (0: the workers' chunks are
 * not counted there until the report completes), would store the chunks
 * already stored a second time. */
int lia__bus_report_guard(lia_store *s, const lia_report *rep, lia_error *err);

#endif
