/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The one registration table of feed formats. */
#include <string.h>

#include "liaison/pipeline.h"

extern const lia_format lia_format_jsonl;
extern const lia_format lia_format_csv;

const lia_format *const lia_formats[] = {
    &lia_format_jsonl,
    &lia_format_csv,
    NULL,
};

const lia_format *lia_format_find(const char *name)
{
    for (size_t i = 0; lia_formats[i]; i++)
        if (strcmp(lia_formats[i]->name, name) == 0)
            return lia_formats[i];
    return NULL;
}
