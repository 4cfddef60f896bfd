/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internals shared by the files of src/enrich/. */
#ifndef LIA_ENRICH_INTERNAL_H
#define LIA_ENRICH_INTERNAL_H

#include <stdint.h>

#include "liaison/enrich.h"

__extension__ typedef unsigned __int128 u128;

/* One interned value of a range table. */
typedef struct lia_ipval {
    char cc[2];          /* "\0\0" if none */
    uint32_t asn;        /* 0 if none */
    uint32_t noff, nlen; /* AS name in names[] */
} lia_ipval;

struct lia_iptable {
    uint32_t n4;
    struct lia_seg4 {
        uint32_t s;        /* segment start (IPv4, host order); seg4[0].s == 0 */
        uint32_t v;        /* value index + 1, 0 = no data */
    } * seg4;              /* start and value side by side: one cache line */
    uint32_t idx16[65537]; /* first segment starting at or after h << 16 */
    size_t n6;
    u128 *s6;
    uint32_t *v6;
    lia_ipval *vals;
    size_t nvals;
    char *names;
    size_t nameslen;
    size_t nranges; /* ranges read */
};

/* The address as an unsigned integer (32 or 128 bits). */
u128 lia__ip_u128(const lia_ip *ip);

#endif
