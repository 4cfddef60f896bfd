/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target for the IP range table loaders: built twice, as
 * fuzz_rir (RIR delegated statistics, -DLIA_FUZZ_RIR) and fuzz_ipcsv
 * (ip-location-db CSV ranges).
 *
 * The input is a whole file. On success, addresses derived from the input
 * are looked up: the IPv4 fast path must agree with the full lookup, and a
 * found range must contain the address. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/enrich.h"
#include "enrich/internal.h"

#ifdef LIA_FUZZ_RIR
#define LIA_FUZZ_NAME "fuzz_rir"
#define LIA_FUZZ_PARSE lia__iptable_parse_rir
#else
#define LIA_FUZZ_NAME "fuzz_ipcsv"
#define LIA_FUZZ_PARSE lia__iptable_parse_csv
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "%s: %s\n", LIA_FUZZ_NAME, what);
        abort();
    }
}

void lia_fuzz_probe(const lia_iptable *t, const uint8_t *data, size_t size);

void lia_fuzz_probe(const lia_iptable *t, const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + 4 <= size && i < 256; i += 4) {
        uint32_t x =
            (uint32_t)data[i] << 24 | (uint32_t)data[i + 1] << 16 | (uint32_t)data[i + 2] << 8 | data[i + 3];
        lia_ip ip = {4, 32, {data[i], data[i + 1], data[i + 2], data[i + 3]}};
        lia_ipanswer a;
        char cc[3];
        uint32_t asn;
        int found = lia__iptable_lookup(t, &ip, &a);
        lia__iptable_value(t, lia__iptable_lookup4(t, x), cc, &asn);
        check(found == (cc[0] || asn), "fast path disagrees on found");
        if (found) {
            check(strcmp(cc, a.cc) == 0 && asn == a.asn, "fast path disagrees on value");
            check(memcmp(a.first.addr, ip.addr, 4) <= 0 && memcmp(ip.addr, a.last.addr, 4) <= 0,
                  "range does not contain the address");
        }
        lia_ip ip6 = {6, 128, {0}};
        memcpy(ip6.addr, data + (i % (size > 16 ? size - 16 : 1)), size >= 16 ? 16 : 0);
        if (lia__iptable_lookup(t, &ip6, &a) && !(ip6.addr[10] == 0xff && ip6.addr[11] == 0xff))
            check(memcmp(a.first.addr, ip6.addr, 16) <= 0 && memcmp(ip6.addr, a.last.addr, 16) <= 0,
                  "IPv6 range does not contain the address");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_iptable *t = NULL;
    lia_error err;
    lia_error_clear(&err);
    if (LIA_FUZZ_PARSE((const char *)data, size, &t, &err) == LIA_OK) {
        check(t != NULL, "no table on success");
        lia_fuzz_probe(t, data, size);
        lia__iptable_destroy(t);
    } else {
        check(t == NULL, "table on failure");
        check(err.reason[0] != '\0', "error without a reason");
    }
    return 0;
}
