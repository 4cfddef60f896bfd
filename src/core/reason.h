/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: rewording an error's reason (e.g. to say where it happened). */
#ifndef LIA_CORE_REASON_H
#define LIA_CORE_REASON_H

#include "liaison/error.h"

/* Set e->reason (printf-style; the arguments may include e->reason itself)
 * and keep e's code, field, value, source and line. The reason is bounded
 * (LIA_ERR_REASON_MAX): a longer one ends in "..." so that the cut shows.
 * e may be NULL: then nothing happens. Thread-safe for distinct e. */
void lia__error_reword(lia_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
