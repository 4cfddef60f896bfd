/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The one float formatter (see floattext.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/floattext.h"

size_t lia__float_text(double d, char *out, size_t n)
{
    int w = 0;
    if (n < LIA_FLOAT_TEXT_MAX) {
        if (n)
            out[0] = '\0';
        return 0;
    }
    for (int prec = 15; prec <= 17; prec++) {
        w = snprintf(out, n, "%.*g", prec, d);
        if (w < 0 || (size_t)w >= n) {
            out[0] = '\0';
            return 0;
        }
        if (strtod(out, NULL) == d)
            break;
    }
    return (size_t)w;
}

size_t lia__float_json(double d, char *out, size_t n)
{
    size_t w = lia__float_text(d, out, n);
    if (w && !strpbrk(out, ".en") && w + 2 < n) { /* no '.', exponent, "inf" or "nan" */
        memcpy(out + w, ".0", 3);
        w += 2;
    }
    return w;
}
