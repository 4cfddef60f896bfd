/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The api: channel (a partner's own API): not delivered; said on each run. */
#include <string.h>

#include "notify/internal.h"

static int not_delivered(lia__notify_run *r, const lia__notify_rcpt *rc, const lia_channel *ch,
                         const char *key, lia_error *err)
{
    lia_notify_result res;
    (void)ch;
    (void)err;
    memset(&res, 0, sizeof res);
    res.recipient = rc->name;
    res.channel = key;
    res.to = key;
    res.language = "";
    res.message_id = "";
    res.outcome = "skipped";
    res.error = "delivery to a partner's API is not implemented: this channel is not delivered";
    return r->cb ? r->cb(r->ud, &res) : LIA_OK;
}

const lia__notify_channel lia__channel_api = {LIA_CHANNEL_API, "api", 1, 0, NULL, 0, not_delivered};
