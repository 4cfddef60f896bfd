/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the routing configuration (rules file) loader. A text
 * that checks must build a routing snapshot (with a small fixed directory)
 * or fail only because a rule names a party that does not exist; routing a
 * few events through it must give 1..LIA_ROUTE_MAX_DECISIONS decisions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/liaison.h"
#include "route/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                     \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

static const char *const events[] = {
    "{\"source.ip\":\"192.0.2.1\",\"source.geolocation.cc\":\"MY\",\"tlp\":\"GREEN\"}",
    ("{\"source.ip\":\"2001:db8::1\",\"source.asn\":64500,\"classification.type\":\"spam\","
     "\"feed.name\":\"f\"}"),
    "{\"source.fqdn\":\"www.a.example\",\"extra.sector\":\"ics\",\"tlp\":\"AMBER+STRICT\"}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_error err;
    lia_party p[2];
    lia_route *rt = NULL;
    int rc;
    lia_error_clear(&err);
    if (lia_route_config_check((const char *)data, size, &err) != LIA_OK) {
        CHECK(err.code != LIA_OK && err.reason[0]);
        return 0;
    }
    lia_party_init(&p[0], LIA_PARTY_OWNER);
    lia_party_set_id(&p[0], "a", 1, NULL);
    lia_party_add(&p[0], LIA_PF_CIDRS, "192.0.2.0/24", 12, 0, NULL);
    lia_party_add(&p[0], LIA_PF_DOMAINS, "a.example", 9, 0, NULL);
    lia_party_add(&p[0], LIA_PF_CONTACTS, "x@a.example", 11, 0, NULL);
    lia_party_init(&p[1], LIA_PARTY_PARTNER);
    lia_party_set_id(&p[1], "b", 1, NULL);
    lia_party_add(&p[1], LIA_PF_COUNTRIES, "MY", 2, 0, NULL);
    lia_party_add(&p[1], LIA_PF_CONTACTS, "x@b.example", 11, 0, NULL);
    rc = lia__route_create(p, 2, (const char *)data, size, &rt, &err);
    CHECK(rc == LIA_OK || rc == LIA_ENOTFOUND);
    if (rc == LIA_OK) {
        lia_event ev;
        lia_event_init(&ev);
        for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
            lia_decision d[LIA_ROUTE_MAX_DECISIONS];
            size_t n;
            CHECK(lia_event_from_json(&ev, events[i], strlen(events[i]), &err) == LIA_OK);
            n = lia_route_event(rt, &ev, d);
            CHECK(n >= 1 && n <= LIA_ROUTE_MAX_DECISIONS);
            for (size_t k = 0; k < n; k++)
                CHECK(d[k].reason && d[k].why);
        }
        lia_event_free(&ev);
        lia_route_destroy(rt);
    }
    lia_party_free(&p[0]);
    lia_party_free(&p[1]);
    return 0;
}
