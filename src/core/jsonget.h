/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: reading members of jansson objects (the STIX, MISP and TAXII
 * readers), and telling a document jansson could not read from one it had
 * no memory for. */
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

/* After a failed json_load*: did jansson run out of memory (rather than
 * find the text malformed)? Out of memory is LIA_ENOMEM, never "not JSON".
 * jansson 2.14 returns NULL with an empty error text when its lexer cannot
 * allocate its first buffer; every parse error has a text. */
static inline int lia__json_oom(const json_error_t *je)
{
    return json_error_code(je) == json_error_out_of_memory || je->text[0] == '\0';
}

#endif
