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

#include "liaison/field.h"
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

/* ---- the directory's business hours, holidays and targets ---------------------------------- */

static const char *const wdays[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int wday_at(const char *s, size_t n, size_t *i)
{
    if (*i + 3 > n)
        return -1;
    for (int d = 0; d < 7; d++)
        if ((s[*i] | 32) == wdays[d][0] && (s[*i + 1] | 32) == wdays[d][1] &&
            (s[*i + 2] | 32) == wdays[d][2]) {
            *i += 3;
            return d;
        }
    return -1;
}

static int hhmm_at(const char *s, size_t n, size_t *i, int *min)
{
    if (*i + 5 > n || s[*i + 2] != ':')
        return -1;
    for (int k = 0; k < 5; k++)
        if (k != 2 && (s[*i + k] < '0' || s[*i + k] > '9'))
            return -1;
    int h = (s[*i] - '0') * 10 + (s[*i + 1] - '0'), m = (s[*i + 3] - '0') * 10 + (s[*i + 4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m))
        return -1;
    *min = h * 60 + m;
    *i += 5;
    return 0;
}

int lia_calendar_hours_parse(const char *s, size_t n, uint8_t *days, uint16_t *open, uint16_t *close,
                             const char **why)
{
    size_t i = 0;
    int o, c;
    uint8_t mask = 0;
    static const char *const form = "business hours are DAYS HH:MM-HH:MM, e.g. \"Mon-Fri 09:00-17:00\" or "
                                    "\"Sun-Thu 08:00-16:00\" or \"Mon,Wed 09:00-13:00\"";
    for (;;) {
        int a = wday_at(s, n, &i), b;
        if (a < 0)
            goto bad;
        b = a;
        if (i < n && s[i] == '-') {
            i++;
            if ((b = wday_at(s, n, &i)) < 0)
                goto bad;
        }
        for (int d = a;; d = (d + 1) % 7) { /* Fri-Mon wraps over the weekend */
            mask |= (uint8_t)(1u << d);
            if (d == b)
                break;
        }
        if (i < n && s[i] == ',') {
            i++;
            continue;
        }
        break;
    }
    if (i >= n || s[i] != ' ')
        goto bad;
    while (i < n && s[i] == ' ')
        i++;
    if (hhmm_at(s, n, &i, &o) || i >= n || s[i++] != '-' || hhmm_at(s, n, &i, &c) || i != n)
        goto bad;
    if (o >= c) {
        *why = "business hours close after they open (a night shift is not supported)";
        return LIA_EINVAL;
    }
    *days = mask;
    *open = (uint16_t)o;
    *close = (uint16_t)c;
    return LIA_OK;
bad:
    *why = form;
    return LIA_EINVAL;
}

int lia_date_parse(const char *s, size_t n, int64_t *days, const char **why)
{
    int y, m, d;
    if (n != 10 || s[4] != '-' || s[7] != '-')
        goto bad;
    for (size_t k = 0; k < 10; k++)
        if (k != 4 && k != 7 && (s[k] < '0' || s[k] > '9'))
            goto bad;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    {
        static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
            goto bad;
    }
    /* days from civil (H. Hinnant's algorithm) */
    {
        int yy = y - (m <= 2);
        int era = yy / 400;
        int yoe = yy - era * 400;
        int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        *days = (int64_t)era * 146097 + doe - 719468;
    }
    return LIA_OK;
bad:
    *why = "a date is YYYY-MM-DD (from 1970)";
    return LIA_EINVAL;
}

int lia_sla_target_parse(const char *s, size_t n, lia_severity *sev, int64_t *ack_s, int64_t *resolve_s,
                         const char **why)
{
    static const char *const form = "an SLA target is SEVERITY=ACK/RESOLVE in business time, e.g. "
                                    "\"critical=2h/12h\" or \"low=3d/30d\"";
    const char *sp = memchr(s, '=', n), *sl;
    char name[16];
    if (!sp || (size_t)(sp - s) >= sizeof name)
        goto bad;
    memcpy(name, s, (size_t)(sp - s));
    name[sp - s] = '\0';
    if (lia_severity_parse(name, sev, NULL))
        goto bad;
    sp++;
    if (!(sl = memchr(sp, '/', (size_t)(s + n - sp))))
        goto bad;
    if (lia_parse_duration(sp, (size_t)(sl - sp), ack_s, why) ||
        lia_parse_duration(sl + 1, (size_t)(s + n - sl - 1), resolve_s, why))
        goto bad;
    if (*ack_s <= 0 || *resolve_s <= 0) {
        *why = "an SLA target is more than 0";
        return LIA_EINVAL;
    }
    return LIA_OK;
bad:
    *why = form;
    return LIA_EINVAL;
}
