/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: C2SP signed notes, checkpoints and verifier keys
 * (src/audit/note.c) on any bytes. A note never opens without a valid
 * signature by the known key; a checkpoint that parses formats back to a
 * text that parses to the same checkpoint. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/audit.h"
#include "audit/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lia_note_key key;
    static int have;
    const char *s = (const char *)data;
    lia_note_opened o;
    lia_checkpoint c, back;
    lia_note_key k;
    if (!have) {
        static const char vkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        if (lia_note_key_parse_verifier(vkey, strlen(vkey), &key, NULL) != LIA_OK)
            abort();
        have = 1;
    }
    if (lia_note_open(s, size, &key, 1, &o, NULL) == LIA_OK && (o.verified != 1 || o.text_len > size))
        abort();
    (void)lia_note_key_parse_verifier(s, size, &k, NULL);
    (void)lia__note_key_parse_signer(s, size, &k, NULL);
    if (lia_checkpoint_parse(s, size, &c, NULL) == LIA_OK) {
        lia_buf b;
        lia_buf_init(&b, 4096);
        if (lia__checkpoint_format(&c, &b, NULL) == LIA_OK &&
            (lia_checkpoint_parse(b.ptr, b.len, &back, NULL) != LIA_OK || back.size != c.size ||
             memcmp(back.root.b, c.root.b, 32) != 0 || strcmp(back.origin, c.origin) != 0))
            abort();
        lia_buf_free(&b);
    }
    return 0;
}
