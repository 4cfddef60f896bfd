/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The one registration table of feed formats. */
#include <string.h>

#include "liaison/pipeline.h"

extern const lia_format lia_format_jsonl;
extern const lia_format lia_format_csv;
extern const lia_format lia_format_feodotracker;
extern const lia_format lia_format_spamhaus_drop;
extern const lia_format lia_format_phishtank;
extern const lia_format lia_format_openphish;
extern const lia_format lia_format_dshield_block;
extern const lia_format lia_format_blocklistde;
extern const lia_format lia_format_misp_csv;
extern const lia_format lia_format_misp_freetext;
extern const lia_format lia_format_stix;
extern const lia_format lia_format_misp;
extern const lia_format lia_format_iodef;
extern const lia_format lia_format_shadowserver;

const lia_format *const lia_formats[] = {
    &lia_format_jsonl,
    &lia_format_csv,
    &lia_format_feodotracker,
    &lia_format_spamhaus_drop,
    &lia_format_phishtank,
    &lia_format_openphish,
    &lia_format_dshield_block,
    &lia_format_blocklistde,
    &lia_format_misp_csv,
    &lia_format_misp_freetext,
    &lia_format_stix,
    &lia_format_misp,
    &lia_format_iodef,
    &lia_format_shadowserver,
    NULL,
};

const lia_format *lia_format_find(const char *name)
{
    for (size_t i = 0; lia_formats[i]; i++)
        if (strcmp(lia_formats[i]->name, name) == 0)
            return lia_formats[i];
    return NULL;
}
