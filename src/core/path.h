/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: building a file path into a bounded buffer, where a path that
 * does not fit is an error and never a shorter path. */
#ifndef LIA_CORE_PATH_H
#define LIA_CORE_PATH_H

#include <stddef.h>

#include "liaison/error.h"
#include "liaison/limits.h"

/* Format a path (printf-style) into out, which has n bytes (a
 * char[LIA_PATH_MAX] as a rule). Returns LIA_OK, or LIA_ELIMIT when the path
 * and its NUL need more than n bytes: out is then "" and err (may be NULL)
 * names what (e.g. "archive file"), the path's length, the limit and, as its
 * value, the path's beginning. Thread-safe. */
int lia__path_fmt(char *out, size_t n, lia_error *err, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
