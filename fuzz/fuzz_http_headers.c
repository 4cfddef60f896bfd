/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the server's own request-header checks. Input is a
 * header block ("Name: value" lines); it goes through the HTTP/1.1 framing
 * check, Accept and Content-Type negotiation and Authorization parsing.
 *
 * Invariants: a Content-Length accepted equals its decimal text; a parsed
 * Authorization has its parts NUL-terminated inside their buffers, without
 * control bytes; media results are one of the enum values. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/http.h"
#include "http/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                     \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

static void check_text(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    CHECK(n < max);
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_http_header h[32];
    size_t n = 0, i = 0;
    const char *p = (const char *)data;
    while (i < size && n < 32) {
        size_t s = i, colon = SIZE_MAX;
        while (i < size && p[i] != '\n') {
            if (p[i] == ':' && colon == SIZE_MAX)
                colon = i;
            i++;
        }
        if (colon != SIZE_MAX) {
            h[n].name = (lia_slice){p + s, colon - s};
            h[n].value = (lia_slice){p + colon + 1, i - colon - 1};
            n++;
        }
        i++;
    }
    uint64_t cl = 0;
    const char *why = NULL;
    int rc = lia__http_check_headers(h, n, &cl, &why);
    CHECK(rc == LIA_OK || (rc == LIA_EPARSE && why != NULL));
    /* accepted: names are tokens, values free of control characters but HTAB */
    for (size_t k = 0; rc == LIA_OK && k < n; k++) {
        CHECK(h[k].name.len > 0);
        for (size_t j = 0; j < h[k].name.len; j++)
            CHECK((unsigned char)h[k].name.ptr[j] > 0x20 && (unsigned char)h[k].name.ptr[j] < 0x7f &&
                  !strchr("\"(),/:;<=>?@[\\]{}", h[k].name.ptr[j]));
        for (size_t j = 0; j < h[k].value.len; j++)
            CHECK(((unsigned char)h[k].value.ptr[j] >= 0x20 || h[k].value.ptr[j] == '\t') &&
                  h[k].value.ptr[j] != 0x7f);
    }
    for (size_t k = 0; k < n; k++) {
        int m = lia__http_accept(h[k].value, (int)(k & 1));
        CHECK(m == LIA_MEDIA_NONE || m == LIA_MEDIA_TAXII21 || m == LIA_MEDIA_STIX21);
        m = lia__http_content_type(h[k].value, (int)(k & 1));
        CHECK(m == LIA_MEDIA_NONE || m == LIA_MEDIA_TAXII21 || m == LIA_MEDIA_STIX21);
        lia_http_auth a;
        why = NULL;
        if (lia__http_auth_parse(h[k].value, &a, &why) == LIA_OK) {
            CHECK(a.kind == LIA_AUTH_BASIC || a.kind == LIA_AUTH_BEARER);
            check_text(a.user, sizeof a.user);
            check_text(a.secret, sizeof a.secret);
            /* Basic may carry an empty password; a bearer token is never empty */
            CHECK(a.kind == LIA_AUTH_BASIC ? a.user[0] != '\0' : a.secret[0] != '\0');
        } else {
            CHECK(why != NULL);
        }
        if (rc == LIA_OK && h[k].name.len == 14 && strncasecmp(h[k].name.ptr, "content-length", 14) == 0) {
            uint64_t v = 0;
            for (size_t j = 0; j < h[k].value.len; j++)
                if (h[k].value.ptr[j] >= '0' && h[k].value.ptr[j] <= '9')
                    v = v * 10 + (uint64_t)(h[k].value.ptr[j] - '0');
            CHECK(v == cl);
        }
    }
    return 0;
}
