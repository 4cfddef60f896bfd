/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: named fault points for the crash tests (tests/faults/,
 * tests/integration/test_crash.c). With LIAISON_FAULT=PHASE in the
 * environment, the process kills itself with SIGKILL (what `kill -9` does)
 * when it reaches the point named PHASE; LIAISON_FAULT=PHASE:N at its N-th
 * passage (1-based). Without the variable a point costs one branch. The
 * points (docs/security.md, "Faults"): ingest-early, ingest-mid-batch,
 * index-build, notify-mid-delivery, serve-mid-request, prune-committed,
 * copy-mid-batch, copy-mid-batch-TABLE (a batch of that table only).
 * Thread-safe. */
#ifndef LIA_CORE_FAULT_H
#define LIA_CORE_FAULT_H

void lia__fault_point(const char *phase);

#endif
