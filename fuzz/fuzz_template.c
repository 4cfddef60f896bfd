/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the digest template renderer. Success or an error with
 * a reason and a line inside the input; output bounded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/liaison.h"
#include "notify/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                     \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

static const char *get(void *ud, const char *name, size_t n, size_t item)
{
    (void)ud;
    if (item != SIZE_MAX)
        return n == 9 && memcmp(name, "source.ip", 9) == 0 ? "192.0.2.1" : NULL;
    if (n == 5 && memcmp(name, "count", 5) == 0)
        return "3";
    if (n == 14 && memcmp(name, "recipient_name", 14) == 0)
        return "Partner";
    return NULL;
}

static size_t count(void *ud, const char *name, size_t n)
{
    (void)ud;
    return n == 6 && memcmp(name, "events", 6) == 0 ? 3 : SIZE_MAX;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_tmpl_vars v = {get, count, NULL};
    lia_buf out;
    lia_error err;
    lia_buf_init(&out, 1u << 20);
    lia_error_clear(&err);
    if (lia__tmpl_render((const char *)data, size, &v, &out, &err) != LIA_OK) {
        CHECK(err.reason[0]);
        CHECK(err.code == LIA_ELIMIT || (err.line >= 1 && err.line <= size + 1));
    } else {
        CHECK(out.len <= 1u << 20);
    }
    lia_buf_free(&out);
    return 0;
}
