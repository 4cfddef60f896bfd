/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the mail reader (src/mail/message.c) on any bytes. A
 * message that parses has header values without control characters, a
 * text that is valid UTF-8, and signed parts inside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = p[i] < 0x80 ? 1 : p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : p[i] >= 0xc2 ? 2 : 0;
        if (k == 0 || i + k > n)
            abort();
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xc0) != 0x80)
                abort();
        i += k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_mail *m = NULL;
    lia_error err;
    lia_slice e, s;
    char addr[LIA_MAIL_MAX_ADDR + 1];
    if (lia_mail_parse((const char *)data, size, &m, &err) != LIA_OK) {
        if (m)
            abort();
        return 0;
    }
    for (const char *names[] = {"subject", "from", "message-id", "references", "x-liaison-incident"},
                    **n = names;
         n < names + 5; n++) {
        const char *v = lia_mail_header(m, *n, 0);
        if (!v)
            continue;
        for (const char *c = v; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                abort();
        (void)lia_mail_addr(v, addr, NULL);
        (void)lia_mail_incident_ref(v);
    }
    {
        size_t n;
        const char *t = lia_mail_text(m, &n);
        if (strlen(t) > n)
            abort();
        check_utf8((const unsigned char *)t, n);
    }
    if (lia_mail_pgp_signed(m, &e, &s) && (e.len > size || s.len > size))
        abort();
    for (size_t i = 0; i < lia_mail_nparts(m); i++)
        if (!lia_mail_part_type(m, i))
            abort();
    lia_mail_free(m);
    return 0;
}
