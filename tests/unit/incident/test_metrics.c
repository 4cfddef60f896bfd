/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* lia_incident_metrics_get (src/incident/metrics.c): median and 90th
 * percentile (nearest rank) of the time to acknowledge and to resolve, per
 * recipient and per recipient's country from the directory; open
 * incidents by country and sector; hand-offs by channel and state; SLA
 * breaches; the --since window. Times are set in the store directly so
 * every figure is known exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../pg/pg_test.h"

#include "liaison/liaison.h"
#include "liaison/route.h"
#include "incident/internal.h"
#include "route/internal.h"

static const lia_actor alice = {"alice", "cli", "local"};
static char dir[64], path[256];
static lia_store *st;

static void partner(const char *id, const char *cc)
{
    lia_error err;
    lia_party p;
    lia_party_init(&p, LIA_PARTY_PARTNER);
    assert_int_equal(lia_party_set_id(&p, id, strlen(id), &err), LIA_OK);
    assert_int_equal(lia_party_add(&p, LIA_PF_COUNTRIES, cc, strlen(cc), 0, &err), LIA_OK);
    assert_int_equal(lia_party_add(&p, LIA_PF_CONTACTS, "soc@example.org", 15, 0, &err), LIA_OK);
    if (lia__party_put(st, &p, &err) != LIA_OK)
        fail_msg("partner %s: %s", id, err.reason);
    lia_party_free(&p);
}

/* An incident handed to one recipient, whose hand-off is then set to
 * state / channel / times (0: NULL; times in seconds after t0). */
static int64_t handoff(const char *rcpt, const char *countries, const char *sectors, int64_t t0,
                       int64_t notified, int64_t acked, int64_t resolved, lia_handoff_state state,
                       const char *channel)
{
    lia_incident in = {.title = "t", .severity = LIA_SEV_MEDIUM, .countries = countries, .sectors = sectors};
    const char *r[] = {rcpt};
    lia_error err;
    int64_t id = 0;
    char sql[512], a[32] = "NULL", b[32] = "NULL";
    if (lia_incident_create(st, &in, r, 1, NULL, 0, &alice, &id, &err) != LIA_OK)
        fail_msg("create: %s", err.reason);
    if (acked)
        snprintf(a, sizeof a, "%lld", (long long)(t0 + acked * 1000000));
    if (resolved)
        snprintf(b, sizeof b, "%lld", (long long)(t0 + resolved * 1000000));
    snprintf(
        sql, sizeof sql,
        "UPDATE handoff SET state = %d, channel = '%s', notified = %lld, acknowledged = %s, resolved = %s"
        " WHERE incident_id = %lld",
        (int)state, channel, (long long)(t0 + notified * 1000000), a, b, (long long)id);
    assert_int_equal(lia__db_exec(lia__store_db(st), sql, &err), LIA_OK);
    return id;
}

static const lia_metric_speed *speed(const lia_metric_speed *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, key) == 0)
            return &v[i];
    static const lia_metric_speed none = {"(none)", -2, -2, -2, -2, -2, -2, -2};
    fail_msg("no row %s", key);
    return &none;
}

static int64_t count(const lia_metric_count *v, size_t n, const char *a, const char *b)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].a, a) == 0 && strcmp(v[i].b, b) == 0)
            return v[i].n;
    return 0;
}

static void test_metrics(void **state)
{
    lia_error err;
    lia_incident_metrics m;
    int64_t now = (int64_t)time(NULL) * 1000000, t0 = now - 60ll * 86400 * 1000000;
    (void)state;
    partner("cert-kh", "KH");
    partner("cert-kh2", "KH");
    partner("cert-vn", "VN");
    /* cert-kh: acknowledged after 1..10 minutes, resolved after 10..100 */
    for (int k = 1; k <= 10; k++)
        handoff("cert-kh", "KH,MY", "iot", t0, 0, k * 60, k * 600, LIA_HO_RESOLVED, k <= 5 ? "email" : "api");
    /* cert-kh2: acknowledged after 100 minutes, not resolved: its resolve
     * clock runs for 60 days (a breach) */
    handoff("cert-kh2", "KH,MY", "iot", t0, 0, 6000, 0, LIA_HO_ACKNOWLEDGED, "api");
    /* isp-x: not in the directory, notified 60 days ago, no answer (a breach) */
    handoff("isp-x", "VN", NULL, t0, 0, 0, 0, LIA_HO_NOTIFIED, "cli");
    /* cert-vn: notified an hour after t0, acknowledged after an hour,
     * resolved after two; its incident is closed */
    int64_t vn = handoff("cert-vn", "VN", "ics", t0, 3600, 7200, 10800, LIA_HO_RESOLVED, "email");
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE incident SET status = %d WHERE id = %lld", LIA_INC_CLOSED,
             (long long)vn);
    assert_int_equal(lia__db_exec(lia__store_db(st), sql, &err), LIA_OK);

    assert_int_equal(lia_incident_metrics_get(st, 0, now, &m, &err), LIA_OK);
    assert_int_equal(m.n_recipient, 4);
    assert_string_equal(m.by_recipient[0].key, "cert-kh"); /* sorted */
    const lia_metric_speed *r = speed(m.by_recipient, m.n_recipient, "cert-kh");
    assert_int_equal(r->handoffs, 10);
    assert_int_equal(r->acked, 10);
    assert_int_equal(r->ack_p50, 300); /* 5th of 10 */
    assert_int_equal(r->ack_p90, 540); /* 9th of 10 */
    assert_int_equal(r->resolved, 10);
    assert_int_equal(r->resolve_p50, 3000);
    assert_int_equal(r->resolve_p90, 5400);
    r = speed(m.by_recipient, m.n_recipient, "cert-kh2");
    assert_int_equal(r->ack_p50, 6000);
    assert_int_equal(r->resolved, 0);
    assert_int_equal(r->resolve_p50, -1);
    r = speed(m.by_recipient, m.n_recipient, "cert-vn");
    assert_int_equal(r->ack_p50, 3600);
    assert_int_equal(r->resolve_p90, 7200);
    r = speed(m.by_recipient, m.n_recipient, "isp-x");
    assert_int_equal(r->handoffs, 1);
    assert_int_equal(r->acked, 0);
    assert_int_equal(r->ack_p50, -1);
    /* per country: KH is cert-kh and cert-kh2 together */
    assert_int_equal(m.n_country, 3);
    assert_string_equal(m.by_country[0].key, "-"); /* isp-x: not in the directory */
    r = speed(m.by_country, m.n_country, "KH");
    assert_int_equal(r->handoffs, 11);
    assert_int_equal(r->ack_p50, 360); /* 6th of 60..600 and 6000 */
    assert_int_equal(r->ack_p90, 600); /* 10th of 11 */
    assert_int_equal(r->resolved, 10);
    assert_int_equal(speed(m.by_country, m.n_country, "VN")->handoffs, 1);
    /* open incidents: cert-vn's is closed */
    assert_int_equal(count(m.open, m.n_open, "KH", "iot"), 11);
    assert_int_equal(count(m.open, m.n_open, "MY", "iot"), 11);
    assert_int_equal(count(m.open, m.n_open, "VN", "-"), 1);
    assert_int_equal(count(m.open, m.n_open, "VN", "ics"), 0);
    assert_int_equal(m.n_open, 3);
    /* hand-offs by channel and state */
    assert_int_equal(count(m.handoffs, m.n_handoffs, "email", "resolved"), 6);
    assert_int_equal(count(m.handoffs, m.n_handoffs, "api", "resolved"), 5);
    assert_int_equal(count(m.handoffs, m.n_handoffs, "api", "acknowledged"), 1);
    assert_int_equal(count(m.handoffs, m.n_handoffs, "cli", "notified"), 1);
    assert_int_equal(m.n_handoffs, 4);
    /* breaches: isp-x's acknowledge clock, cert-kh2's resolve clock */
    assert_int_equal(m.breaches_ack, 1);
    assert_int_equal(m.breaches_resolve, 1);
    lia_incident_metrics_free(&m);
    assert_null(m.by_recipient);

    /* since: only cert-vn was notified after t0 */
    assert_int_equal(lia_incident_metrics_get(st, t0 + 1000000, now, &m, &err), LIA_OK);
    assert_int_equal(m.n_recipient, 1);
    assert_string_equal(m.by_recipient[0].key, "cert-vn");
    assert_int_equal(m.n_country, 1);
    lia_incident_metrics_free(&m);
}

static void test_empty(void **state)
{
    lia_error err;
    lia_incident_metrics m;
    char p2[256];
    lia_store *s2;
    (void)state;
    assert_int_equal(lia_test_db_path(dir, "empty", p2, sizeof p2), 0);
    assert_int_equal(lia_store_open(p2, &s2, &err), LIA_OK);
    assert_int_equal(lia_incident_metrics_get(s2, 0, 0, &m, &err), LIA_OK);
    assert_int_equal(m.n_recipient + m.n_country + m.n_open + m.n_handoffs, 0);
    assert_int_equal(m.breaches_ack + m.breaches_resolve, 0);
    lia_incident_metrics_free(&m);
    lia_store_close(s2);
}

static int setup(void **state)
{
    lia_error err;
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/lia-metrics-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    if (lia_test_db_path(dir, "m", path, sizeof path))
        return -1;
    return lia_store_open(path, &st, &err) == LIA_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    lia_store_close(st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_empty),
    };
    if (lia_test_pg())
        return cmocka_run_group_tests_name("metrics on PostgreSQL", tests, setup, teardown);
    return cmocka_run_group_tests_name("metrics", tests, setup, teardown);
}
