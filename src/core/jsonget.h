/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: reading members of jansson objects (the STIX, MISP and TAXII
 * readers). */
#ifndef LIA_CORE_JSONGET_H
#define LIA_CORE_JSONGET_H

#include <jansson.h>
#include <stddef.h>

/* Member key of o if it is a string (its length in *n when n), else NULL. */
static inline const char *lia__json_str(json_t *o, const char *key, size_t *n)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return NULL;
    if (n)
        *n = json_string_length(v);
    return json_string_value(v);
}

#endif
