/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Time zones (src/incident/tz.c) and the SLA clock (src/incident/sla.c):
 * offsets and DST changes from the system tz database, bytes of hand-made
 * TZif files, and deadlines across time zones, business hours, a weekend, a
 * DST change, a holiday and a pause. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/incident.h"
#include "incident/internal.h"

#define H 3600

static int64_t utc(int y, unsigned mo, unsigned d, int h, int mi)
{
    return lia__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static lia_tz *zone(const char *name)
{
    lia_tz *tz = NULL;
    lia_error err;
    if (lia__tz_load(name, &tz, &err) != LIA_OK)
        fail_msg("zone %s: %s", name, err.reason);
    return tz;
}

static void assert_time(int64_t got, int64_t want, const char *what)
{
    if (got != want) {
        int64_t y, wy;
        unsigned m, d, wm, wd;
        lia__civil_from_days(got / 86400, &y, &m, &d);
        lia__civil_from_days(want / 86400, &wy, &wm, &wd);
        fail_msg("%s: got %04d-%02u-%02u %02d:%02d UTC, want %04d-%02u-%02u %02d:%02d UTC", what, (int)y, m,
                 d, (int)(got % 86400 / 3600), (int)(got % 3600 / 60), (int)wy, wm, wd,
                 (int)(want % 86400 / 3600), (int)(want % 3600 / 60));
    }
}

static void test_civil(void **state)
{
    int64_t y;
    unsigned m, d;
    (void)state;
    assert_int_equal(lia__days_from_civil(1970, 1, 1), 0);
    assert_int_equal(lia__days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(lia__days_from_civil(1969, 12, 31), -1);
    for (int64_t z = -800000; z < 800000; z += 37) {
        lia__civil_from_days(z, &y, &m, &d);
        assert_int_equal(lia__days_from_civil(y, m, d), z);
    }
}

static void test_system_zones(void **state)
{
    lia_tz *berlin = zone("Europe/Berlin"), *ny = zone("America/New_York"), *sh = zone("Asia/Shanghai");
    lia_tz *fixed = zone("+05:30"), *u = zone("UTC"), *tz = NULL;
    lia_error err;
    (void)state;
    assert_int_equal(lia__tz_offset(berlin, utc(2026, 1, 15, 12, 0)), 1 * H);
    assert_int_equal(lia__tz_offset(berlin, utc(2026, 7, 15, 12, 0)), 2 * H);
    /* EU summer time began 2026-03-29 01:00 UTC */
    assert_int_equal(lia__tz_offset(berlin, utc(2026, 3, 29, 0, 59)), 1 * H);
    assert_int_equal(lia__tz_offset(berlin, utc(2026, 3, 29, 1, 0)), 2 * H);
    assert_int_equal(lia__tz_next_change(berlin, utc(2026, 3, 1, 0, 0)), utc(2026, 3, 29, 1, 0));
    /* US: 2026-03-08 07:00 UTC */
    assert_int_equal(lia__tz_offset(ny, utc(2026, 3, 8, 6, 59)), -5 * H);
    assert_int_equal(lia__tz_offset(ny, utc(2026, 3, 8, 7, 0)), -4 * H);
    assert_int_equal(lia__tz_offset(sh, utc(2026, 7, 1, 0, 0)), 8 * H);
    assert_int_equal(lia__tz_offset(fixed, 0), 5 * H + 30 * 60);
    static const struct {
        const char *name;
        int32_t off;
    } fixed_names[] = {
        {"UTC+7", 7 * H}, {"UTC-3", -3 * H}, {"UTC+05:45", 5 * H + 45 * 60}, {"-09:30", -9 * H - 1800}};
    for (size_t i = 0; i < sizeof fixed_names / sizeof fixed_names[0]; i++) {
        lia_tz *z = zone(fixed_names[i].name);
        assert_int_equal(lia__tz_offset(z, 0), fixed_names[i].off);
        lia__tz_free(z);
    }
    static const char *const bad_names[] = {"UTC+", "UTC+123", "UTC+7:5", "UTC+15", "+8:00", "UTC7"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        if (lia__tz_load(bad_names[i], &tz, &err) == LIA_OK)
            fail_msg("zone %s accepted", bad_names[i]);
    assert_int_equal(lia__tz_offset(u, utc(2026, 7, 1, 0, 0)), 0);
    assert_int_equal(lia__tz_offset(NULL, 0), 0);
    assert_string_equal(lia__tz_name(berlin), "Europe/Berlin");
    assert_int_equal(lia__tz_load("Europe/Nowhere", &tz, &err), LIA_ENOTFOUND);
    assert_int_equal(lia__tz_load("../../etc/passwd", &tz, &err), LIA_EINVAL);
    assert_int_equal(lia__tz_load("/etc/passwd", &tz, &err), LIA_EINVAL);
    assert_int_equal(lia__tz_load("Europe/Ber lin", &tz, &err), LIA_EINVAL);
    assert_int_equal(lia__tz_load("", &tz, &err), LIA_EINVAL);
    assert_int_equal(lia__tz_load("+15:00", &tz, &err), LIA_EINVAL);
    lia__tz_free(berlin);
    lia__tz_free(ny);
    lia__tz_free(sh);
    lia__tz_free(fixed);
    lia__tz_free(u);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A version 1 TZif file: two types (+1h, +2h), transitions at 1000 and 2000. */
static size_t tzif_v1(uint8_t *b)
{
    size_t k = 44;
    memset(b, 0, 44);
    memcpy(b, "TZif", 4);
    put32(b + 20 + 12, 2); /* timecnt */
    put32(b + 20 + 16, 2); /* typecnt */
    put32(b + 20 + 20, 4); /* charcnt */
    put32(b + k, 1000);
    put32(b + k + 4, 2000);
    k += 8;
    b[k++] = 1;
    b[k++] = 0;
    put32(b + k, 3600); /* type 0: +1h */
    b[k + 4] = 0;
    b[k + 5] = 0;
    k += 6;
    put32(b + k, 7200); /* type 1: +2h */
    b[k + 4] = 1;
    b[k + 5] = 0;
    k += 6;
    memcpy(b + k, "AB\0\0", 4);
    return k + 4;
}

static void test_tzif_bytes(void **state)
{
    uint8_t b[256];
    lia_tz *tz = NULL;
    lia_error err;
    size_t n = tzif_v1(b);
    (void)state;
    assert_int_equal(lia__tz_parse(b, n, "test", &tz, &err), LIA_OK);
    assert_int_equal(lia__tz_offset(tz, 999), 3600);  /* before: type 0 */
    assert_int_equal(lia__tz_offset(tz, 1000), 7200); /* transition 0 -> type 1 */
    assert_int_equal(lia__tz_offset(tz, 1999), 7200);
    assert_int_equal(lia__tz_offset(tz, 2000), 3600);
    assert_int_equal(lia__tz_offset(tz, 1 << 30), 3600);
    assert_int_equal(lia__tz_next_change(tz, 1500), 2000);
    assert_int_equal(lia__tz_next_change(tz, 2000), INT64_MAX);
    lia__tz_free(tz);
    /* every truncation is refused, never read past the end */
    for (size_t i = 0; i < n - 4; i++)
        if (lia__tz_parse(b, i, "test", &tz, &err) == LIA_OK)
            fail_msg("TZif cut to %zu bytes accepted", i);
    /* a transition naming type 5 of 2; times not ascending */
    b[52] = 5;
    assert_int_equal(lia__tz_parse(b, n, "test", &tz, &err), LIA_EPARSE);
    b[52] = 1;
    put32(b + 48, 500);
    assert_int_equal(lia__tz_parse(b, n, "test", &tz, &err), LIA_EPARSE);
    memcpy(b, "TZiX", 4);
    assert_int_equal(lia__tz_parse(b, n, "test", &tz, &err), LIA_EPARSE);
}

/* A partner in Berlin, an owner in Shanghai and one in New York receive the
 * same incident on Friday 2026-01-16 at 15:00 UTC, with 2 business hours to
 * acknowledge. */
static void test_deadline_across_zones_and_weekend(void **state)
{
    lia_tz *berlin = zone("Europe/Berlin"), *ny = zone("America/New_York"), *sh = zone("Asia/Shanghai");
    lia_calendar cb = lia__calendar_office(berlin), cn = lia__calendar_office(ny),
                 cs = lia__calendar_office(sh);
    int64_t start = utc(2026, 1, 16, 15, 0);
    lia_sla_clock c;
    lia_error err;
    (void)state;
    /* Berlin: 16:00 local, 1h left on Friday, 1h on Monday from 09:00 local */
    assert_int_equal(lia__sla_eval(&cb, start, 2 * H, NULL, 0, start, &c, &err), LIA_OK);
    assert_time(c.due, utc(2026, 1, 19, 9, 0), "Berlin deadline");
    /* Shanghai: 23:00 local on Friday, closed; Monday 09:00-11:00 CST */
    assert_int_equal(lia__sla_eval(&cs, start, 2 * H, NULL, 0, start, &c, &err), LIA_OK);
    assert_time(c.due, utc(2026, 1, 19, 3, 0), "Shanghai deadline");
    /* New York: 10:00 EST, the same day at noon */
    assert_int_equal(lia__sla_eval(&cn, start, 2 * H, NULL, 0, start, &c, &err), LIA_OK);
    assert_time(c.due, utc(2026, 1, 16, 17, 0), "New York deadline");
    /* the Berlin clock looked at on Sunday: 1h used, not breached; Monday
     * 09:30 local: 1.5h; Monday 10:01 local: breached */
    assert_int_equal(lia__sla_eval(&cb, start, 2 * H, NULL, 0, utc(2026, 1, 18, 12, 0), &c, &err), LIA_OK);
    assert_int_equal(c.used, 1 * H);
    assert_false(c.breached);
    assert_int_equal(lia__sla_eval(&cb, start, 2 * H, NULL, 0, utc(2026, 1, 19, 8, 30), &c, &err), LIA_OK);
    assert_int_equal(c.used, 3 * H / 2);
    assert_int_equal(lia__sla_eval(&cb, start, 2 * H, NULL, 0, utc(2026, 1, 19, 9, 0), &c, &err), LIA_OK);
    assert_false(c.breached);
    assert_int_equal(lia__sla_eval(&cb, start, 2 * H, NULL, 0, utc(2026, 1, 19, 9, 1), &c, &err), LIA_OK);
    assert_true(c.breached);
    /* a whole week of office hours is 40 hours, in every zone */
    assert_int_equal(lia__sla_business_seconds(&cb, utc(2026, 1, 12, 0, 0), utc(2026, 1, 19, 0, 0)), 40 * H);
    assert_int_equal(lia__sla_business_seconds(&cs, utc(2026, 1, 11, 16, 0), utc(2026, 1, 18, 16, 0)),
                     40 * H);
    lia__tz_free(berlin);
    lia__tz_free(ny);
    lia__tz_free(sh);
}

static void test_dst_and_holiday(void **state)
{
    lia_tz *berlin = zone("Europe/Berlin");
    lia_calendar cb = lia__calendar_office(berlin);
    lia_sla_clock c;
    lia_error err;
    (void)state;
    /* Friday 2026-03-27 16:00 CET; Monday 10:00 CEST is 08:00 UTC */
    assert_int_equal(lia__sla_eval(&cb, utc(2026, 3, 27, 15, 0), 2 * H, NULL, 0, 0, &c, &err), LIA_OK);
    assert_time(c.due, utc(2026, 3, 30, 8, 0), "deadline over the DST change");
    /* around the clock over the short night: 4 real hours are 4 hours */
    lia_calendar all = lia__calendar_always();
    all.tz = berlin;
    assert_int_equal(lia__sla_business_seconds(&all, utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 2, 0)), 4 * H);
    assert_int_equal(lia__sla_eval(&all, utc(2026, 3, 28, 22, 0), 4 * H, NULL, 0, 0, &c, &err), LIA_OK);
    assert_time(c.due, utc(2026, 3, 29, 2, 0), "always-open deadline");
    /* Monday 2026-01-19 a holiday: Friday 16:00 + 2h is Tuesday 10:00 */
    int64_t hol[] = {lia__days_from_civil(2026, 1, 19)};
    cb.holidays = hol;
    cb.nholidays = 1;
    assert_int_equal(lia__sla_eval(&cb, utc(2026, 1, 16, 15, 0), 2 * H, NULL, 0, 0, &c, &err), LIA_OK);
    assert_time(c.due, utc(2026, 1, 20, 9, 0), "deadline over a holiday");
    lia__tz_free(berlin);
}

/* Monday 2026-01-19 09:00 Berlin, 4 business hours; the incident waits on us
 * from 10:00 to 12:00 local: the deadline moves from 13:00 to 15:00. */
static void test_pause(void **state)
{
    lia_tz *berlin = zone("Europe/Berlin");
    lia_calendar cb = lia__calendar_office(berlin);
    int64_t start = utc(2026, 1, 19, 8, 0);
    lia_interval p = {utc(2026, 1, 19, 9, 0), utc(2026, 1, 19, 11, 0)};
    lia_sla_clock c;
    lia_error err;
    (void)state;
    assert_int_equal(lia__sla_eval(&cb, start, 4 * H, NULL, 0, start, &c, &err), LIA_OK);
    assert_time(c.due, utc(2026, 1, 19, 12, 0), "no pause");
    assert_int_equal(lia__sla_eval(&cb, start, 4 * H, &p, 1, utc(2026, 1, 19, 10, 0), &c, &err), LIA_OK);
    assert_time(c.due, utc(2026, 1, 19, 14, 0), "with the pause");
    assert_true(c.paused);
    assert_int_equal(c.used, 1 * H);
    assert_int_equal(lia__sla_eval(&cb, start, 4 * H, &p, 1, utc(2026, 1, 19, 13, 0), &c, &err), LIA_OK);
    assert_false(c.paused);
    assert_int_equal(c.used, 3 * H);
    assert_false(c.breached);
    assert_int_equal(lia__sla_eval(&cb, start, 4 * H, &p, 1, utc(2026, 1, 19, 14, 30), &c, &err), LIA_OK);
    assert_true(c.breached);
    /* still waiting on us: no deadline while paused */
    lia_interval open = {utc(2026, 1, 19, 9, 0), INT64_MAX};
    assert_int_equal(lia__sla_eval(&cb, start, 4 * H, &open, 1, utc(2026, 1, 22, 9, 0), &c, &err), LIA_OK);
    assert_int_equal(c.due, INT64_MAX);
    assert_true(c.paused);
    assert_int_equal(c.used, 1 * H);
    assert_false(c.breached);
    /* a pause over the weekend changes nothing: no business time in it */
    lia_interval wk = {utc(2026, 1, 17, 0, 0), utc(2026, 1, 18, 23, 0)};
    assert_int_equal(lia__sla_eval(&cb, utc(2026, 1, 16, 15, 0), 2 * H, &wk, 1, 0, &c, &err), LIA_OK);
    assert_time(c.due, utc(2026, 1, 19, 9, 0), "weekend pause");
    /* unsorted or overlapping pauses, an empty calendar: refused */
    lia_interval bad[2] = {{100, 200}, {150, 300}};
    assert_int_equal(lia__sla_eval(&cb, 0, H, bad, 2, 0, &c, &err), LIA_EINVAL);
    lia_calendar none = cb;
    none.days = 0;
    assert_int_equal(lia__sla_eval(&none, 0, H, NULL, 0, 0, &c, &err), LIA_EINVAL);
    none = cb;
    none.open = 18 * 60;
    assert_int_equal(lia__sla_eval(&none, 0, H, NULL, 0, 0, &c, &err), LIA_EINVAL);
    lia__tz_free(berlin);
}

static void test_policy(void **state)
{
    lia_sla_policy p = lia__sla_policy_default();
    (void)state;
    for (int s = 0; s + 1 < LIA_SEV__COUNT; s++) {
        assert_true(p.ack[s] > p.ack[s + 1]);
        assert_true(p.resolve[s] > p.resolve[s + 1]);
    }
    assert_int_equal(p.ack[LIA_SEV_CRITICAL], H);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil),           cmocka_unit_test(test_system_zones),
        cmocka_unit_test(test_tzif_bytes),      cmocka_unit_test(test_deadline_across_zones_and_weekend),
        cmocka_unit_test(test_dst_and_holiday), cmocka_unit_test(test_pause),
        cmocka_unit_test(test_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
