/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Building a file path into a bounded buffer (see path.h). */
#include "core/path.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lia__path_fmt(char *out, size_t n, lia_error *err, const char *what, const char *fmt, ...)
{
    va_list ap;
    int len;
    char *full = NULL;

    va_start(ap, fmt);
    len = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    if (len >= 0 && (size_t)len < n)
        return LIA_OK;
    if (n)
        out[0] = '\0';
    if (len < 0)
        return lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "%s path cannot be formatted", what);
    /* name the whole path when memory allows, else its beginning */
    va_start(ap, fmt);
    if ((full = malloc((size_t)len + 1)))
        vsnprintf(full, (size_t)len + 1, fmt, ap);
    va_end(ap);
    lia_error_set(err, LIA_ELIMIT, NULL, full, full ? (size_t)len : 0,
                  "%s path is %d bytes, longer than the limit of %zu bytes%s", what, len, n - 1,
                  n == LIA_PATH_MAX ? " (LIA_PATH_MAX)" : "");
    free(full);
    return LIA_ELIMIT;
}
