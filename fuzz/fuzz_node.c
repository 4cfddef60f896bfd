/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the node-exchange message reader (lia_node_msg_parse),
 * which `liaison serve` runs on every POST /node/v1/inbox of a peer.
 *
 * Invariants: the outcome is LIA_OK, or an input error (LIA_EPARSE,
 * LIA_EINVAL, LIA_ELIMIT, LIA_EUNSUPPORTED; LIA_ENOMEM) with a reason; on
 * LIA_OK the message is whole: a known type, seq and incident >= 1, the
 * answers about the receiver's incident and the rest about the sender's
 * (a comment either), a reject and a comment with their text, an offer
 * with a title and exactly nevents JSON lines of events. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz node: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_node_msg m;
    lia_error e;
    int rc;
    lia_error_clear(&e);
    rc = lia_node_msg_parse((const char *)data, size, &m, &e);
    if (rc) {
        check(rc == LIA_EPARSE || rc == LIA_EINVAL || rc == LIA_ELIMIT || rc == LIA_EUNSUPPORTED ||
                  rc == LIA_ENOMEM,
              "an error other than an input error");
        check(e.reason[0] != '\0', "an error without a reason");
        lia_node_msg_free(&m);
        return 0;
    }
    check(lia_node_type_name(m.type) != NULL, "an unknown type");
    check(m.seq >= 1 && m.incident >= 1, "seq or incident below 1");
    if (m.type == LIA_NODE_ACK || m.type == LIA_NODE_RESOLVE || m.type == LIA_NODE_REJECT)
        check(m.yours, "an answer about the sender's incident");
    if (m.type == LIA_NODE_OFFER || m.type == LIA_NODE_WITHDRAW)
        check(!m.yours, "an offer or withdrawal about the receiver's incident");
    if (m.type == LIA_NODE_REJECT || m.type == LIA_NODE_COMMENT)
        check(m.text && *m.text, "a reject or comment without text");
    if (m.type == LIA_NODE_OFFER) {
        size_t lines = 0;
        check(m.title && *m.title && m.severity && m.tlp, "an offer without title, severity or TLP");
        for (size_t i = 0; i < m.events_len; i++)
            lines += m.events[i] == '\n';
        check(lines == m.nevents, "event lines and nevents differ");
        check(!m.events || strlen(m.events) == m.events_len, "events_len is not the text's length");
    } else {
        check(!m.events && !m.title, "offer members outside an offer");
    }
    lia_node_msg_free(&m);
    return 0;
}
