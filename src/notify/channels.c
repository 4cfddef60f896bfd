/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The one table of delivery channels. A new channel: one channel_*.c with
 * its lia__notify_channel, one line here. */
#include <stddef.h>

#include "notify/internal.h"

extern const lia__notify_channel lia__channel_taxii;
extern const lia__notify_channel lia__channel_taxii_url;
extern const lia__notify_channel lia__channel_api;
extern const lia__notify_channel lia__channel_email;

const lia__notify_channel *const lia__notify_channels[] = {
    &lia__channel_taxii, &lia__channel_taxii_url, &lia__channel_api, &lia__channel_email, NULL,
};

const lia__notify_channel *lia__notify_channel_of(int kind)
{
    for (size_t i = 0; lia__notify_channels[i]; i++)
        if (lia__notify_channels[i]->kind == kind)
            return lia__notify_channels[i];
    return NULL;
}
