/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target for the "stix" import format (src/share/stix_*.c).
 * An input starting with '[' is a STIX pattern: it is wrapped in an
 * indicator inside a bundle, so the pattern reader is reached directly;
 * anything else is a whole document. See fuzz_format.h for the checks. */
#include "fuzz_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_buf doc;
    if (size == 0 || data[0] != '[')
        return fz_format("stix", data, size);
    lia_buf_init(&doc, size * 6 + 512);
    lia_buf_puts(&doc, "{\"type\":\"bundle\",\"id\":\"bundle--4c1a8b4e-7d11-4f58-9f53-2c2f9b1e0a11\",\"objects\":["
                       "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
                       "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"pattern\":");
    lia_buf_json_str(&doc, (const char *)data, size);
    lia_buf_puts(&doc, "},{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"192.0.2.1\"}]}");
    if (!doc.err)
        fz_format("stix", (const uint8_t *)doc.ptr, doc.len);
    lia_buf_free(&doc);
    return 0;
}
