/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The SLA clock: business seconds of a recipient's calendar (weekdays, opening
 * hours and holidays in its own time zone), deadlines, and pauses while the
 * incident waits on us.
 *
 * The walk goes from boundary to boundary: the next opening, closing or local
 * midnight, or the next change of the zone's UTC offset, whichever comes
 * first; between two boundaries the clock either counts every second or none.
 * A DST change inside opening hours is thus counted in real seconds. */
#include <string.h>

#include "liaison/incident.h"
#include "incident/internal.h"

#define DAY            86400
#define WALK_MAX_STEPS 200000 /* ~100 years of boundaries: no deadline beyond */

lia_calendar lia__calendar_office(const lia_tz *tz)
{
    return (lia_calendar){.tz = tz, .days = LIA_SLA_WEEKDAYS, .open = 9 * 60, .close = 17 * 60};
}

lia_calendar lia__calendar_always(void)
{
    return (lia_calendar){.tz = NULL, .days = 0x7f, .open = 0, .close = 1440};
}

int lia__calendar_check(const lia_calendar *c, lia_error *err)
{
    if ((c->days & 0x7f) == 0)
        return lia_error_set(err, LIA_EINVAL, "business days", NULL, 0, "no working day in the week");
    if (c->open >= c->close || c->close > 1440)
        return lia_error_set(err, LIA_EINVAL, "business hours", NULL, 0,
                             "opening (%u min) must come before closing (%u min), at most 24:00", c->open,
                             c->close);
    if (c->nholidays > LIA_SLA_MAX_HOLIDAYS)
        return lia_error_set(err, LIA_EINVAL, "holidays", NULL, 0, "at most %d holidays",
                             LIA_SLA_MAX_HOLIDAYS);
    for (size_t i = 1; i < c->nholidays; i++)
        if (c->holidays[i] <= c->holidays[i - 1])
            return lia_error_set(err, LIA_EINVAL, "holidays", NULL, 0,
                                 "holidays must be sorted and distinct");
    return LIA_OK;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int is_holiday(const lia_calendar *c, int64_t day)
{
    size_t lo = 0, hi = c->nholidays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->holidays[mid] == day)
            return 1;
        if (c->holidays[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* At instant t: whether the clock counts, and the next instant (> t) where
 * that may change. */
static int64_t step(const lia_calendar *c, int64_t t, int *counting)
{
    int32_t off = lia__tz_offset(c->tz, t);
    int64_t local = t + off, day = floor_div(local, DAY), sec = local - day * DAY;
    int wd = (int)(((day % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday; Monday = 0 */
    int64_t open = (int64_t)c->open * 60, close = (int64_t)c->close * 60, boundary;
    int workday = (c->days >> wd & 1) && !is_holiday(c, day);
    if (!workday || sec >= close) {
        *counting = 0;
        boundary = DAY;
    } else if (sec < open) {
        *counting = 0;
        boundary = open;
    } else {
        *counting = 1;
        boundary = close;
    }
    int64_t next = day * DAY + boundary - off, change = lia__tz_next_change(c->tz, t);
    if (change < next)
        next = change;
    if (next <= t) /* an offset change moved the local boundary behind us */
        next = t + 1;
    return next;
}

/* Walk [from, to) counting at most `need` business seconds. Returns the
 * business seconds counted; *at is where the walk stopped (the instant the
 * need was met, or to). -1 when the walk took too many steps. */
static int64_t walk(const lia_calendar *c, int64_t from, int64_t to, int64_t need, int64_t *at)
{
    int64_t t = from, used = 0;
    for (long steps = 0; t < to; steps++) {
        int counting;
        int64_t next;
        if (steps > WALK_MAX_STEPS)
            return -1;
        next = step(c, t, &counting);
        if (next > to)
            next = to;
        if (counting) {
            if (next - t >= need - used) {
                t += need - used;
                used = need;
                break;
            }
            used += next - t;
        }
        t = next;
    }
    *at = t;
    return used;
}

int64_t lia__sla_business_seconds(const lia_calendar *c, int64_t from, int64_t to)
{
    int64_t at, n;
    if (to <= from)
        return 0;
    n = walk(c, from, to, INT64_MAX, &at);
    return n < 0 ? 0 : n;
}

int lia__sla_eval(const lia_calendar *c, int64_t start, int64_t target, const lia_interval *pauses,
                  size_t npauses, int64_t at, lia_sla_clock *out, lia_error *err)
{
    lia_sla_clock r = {0, INT64_MAX, 0, 0};
    int64_t t = start, need = target, stop;
    int rc = lia__calendar_check(c, err);
    if (rc)
        return rc;
    if (target < 0)
        return lia_error_set(err, LIA_EINVAL, "sla target", NULL, 0, "a target is not negative");
    for (size_t i = 0; i < npauses; i++)
        if (pauses[i].to <= pauses[i].from || (i && pauses[i].from < pauses[i - 1].to))
            return lia_error_set(err, LIA_EINVAL, "pauses", NULL, 0, "pauses must be sorted and not overlap");
    /* Used up to `at`: the unpaused parts of [start, at). */
    for (size_t i = 0; i <= npauses && t < at; i++) {
        int64_t end = i < npauses ? pauses[i].from : at, n;
        if (end > at)
            end = at;
        if (end > t) {
            n = walk(c, t, end, INT64_MAX, &stop);
            if (n < 0)
                return lia_error_set(err, LIA_ELIMIT, "sla", NULL, 0, "a span longer than 100 years");
            r.used += n;
        }
        if (i < npauses) {
            if (at >= pauses[i].from && at < pauses[i].to)
                r.paused = 1;
            if (pauses[i].to > t)
                t = pauses[i].to;
        }
    }
    /* The deadline: where `target` business seconds are met outside pauses. */
    t = start;
    for (size_t i = 0; i <= npauses; i++) {
        int64_t end = i < npauses ? pauses[i].from : INT64_MAX, n;
        if (end > t) {
            if (need == 0) {
                r.due = t;
                break;
            }
            n = walk(c, t, end, need, &stop);
            if (n < 0)
                return lia_error_set(err, LIA_ELIMIT, "sla", NULL, 0, "no deadline within 100 years");
            need -= n;
            if (need == 0) {
                r.due = stop;
                break;
            }
        }
        if (i < npauses) {
            if (pauses[i].to == INT64_MAX)
                break; /* still paused: no deadline yet */
            if (pauses[i].to > t)
                t = pauses[i].to;
        }
    }
    r.breached = r.used > target;
    *out = r;
    return LIA_OK;
}

lia_sla_policy lia__sla_policy_default(void)
{
    lia_sla_policy p;
    const int64_t h = 3600;
    p.ack[LIA_SEV_CRITICAL] = 1 * h;
    p.resolve[LIA_SEV_CRITICAL] = 8 * h;
    p.ack[LIA_SEV_HIGH] = 4 * h;
    p.resolve[LIA_SEV_HIGH] = 24 * h;
    p.ack[LIA_SEV_MEDIUM] = 8 * h;
    p.resolve[LIA_SEV_MEDIUM] = 80 * h;
    p.ack[LIA_SEV_LOW] = 24 * h;
    p.resolve[LIA_SEV_LOW] = 240 * h;
    return p;
}
