/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the one way a double becomes text (event float fields, CSV
 * mapping and Shadowserver conversions, schema constants). */
#ifndef LIA_CORE_FLOATTEXT_H
#define LIA_CORE_FLOATTEXT_H

#include <stddef.h>

#define LIA_FLOAT_TEXT_MAX 32 /* "-1.2345678901234567e-308" and its NUL fit */

/* The shortest of %.15g, %.16g and %.17g that reads back as exactly d
 * (%.17g always does), NUL-terminated in out. Returns its length, or 0 if
 * n is smaller than LIA_FLOAT_TEXT_MAX (nothing is cut: out is then ""). */
size_t lia__float_text(double d, char *out, size_t n);

/* The same as a JSON real: ".0" is added where the text would read as an
 * integer ("3" -> "3.0"), so the value stays a real through a JSON round
 * trip. inf and nan are written as "inf" / "nan" (callers reject them). */
size_t lia__float_json(double d, char *out, size_t n);

#endif
