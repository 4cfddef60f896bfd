/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Time zones from the system tz database, read as TZif files (RFC 8536).
 *
 * Why not TZ=... + localtime_r: changing TZ is process-wide and setenv races
 * with every other thread reading the environment or the time zone. A TZif
 * reader is a pure function of the file's bytes, so a zone is an immutable
 * value any thread may use, and tests can feed it exact bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/path.h"
#include "liaison/incident.h"
#include "liaison/slice.h"
#include "incident/internal.h"

#define TZ_MAX_FILE  (256u * 1024)
#define TZ_MAX_TIMES 20000
#define TZ_MAX_TYPES 256
#define TZ_NAME_MAX  96

struct lia_tz {
    char name[TZ_NAME_MAX];
    size_t n;       /* transitions */
    int64_t *at;    /* transition times, ascending */
    int32_t *off;   /* the offset from at[i] on */
    int32_t before; /* the offset before the first transition */
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int bad(lia_error *err, const char *name, const char *why)
{
    return lia_error_set(err, LIA_EPARSE, "time zone", name, name ? strlen(name) : 0, "not a TZif file: %s",
                         why);
}

static lia_tz *tz_new(const char *name, size_t n)
{
    lia_tz *tz = calloc(1, sizeof *tz);
    if (!tz)
        return NULL;
    snprintf(tz->name, sizeof tz->name, "%s", name ? name : "");
    tz->n = n;
    if (n) {
        tz->at = calloc(n, sizeof *tz->at);
        tz->off = calloc(n, sizeof *tz->off);
        if (!tz->at || !tz->off) {
            lia__tz_free(tz);
            return NULL;
        }
    }
    return tz;
}

int lia__tz_parse(const void *buf, size_t len, const char *name, lia_tz **out, lia_error *err)
{
    const uint8_t *p = buf, *end = p + len;
    uint32_t cnt[6]; /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
    size_t tsize = 4;
    lia_tz *tz;
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return bad(err, name, "no TZif header");
    for (int i = 0; i < 6; i++)
        cnt[i] = be32(p + 20 + 4 * i);
    if (p[4] >= '2') {
        /* Skip the 32-bit block; the second header and 64-bit data follow. */
        uint64_t skip = 44 + (uint64_t)cnt[3] * 5 + (uint64_t)cnt[4] * 6 + cnt[5] + (uint64_t)cnt[2] * 8 +
                        cnt[1] + cnt[0];
        if (skip + 44 > len || memcmp(p + skip, "TZif", 4) != 0)
            return bad(err, name, "truncated version 2 header");
        p += skip;
        for (int i = 0; i < 6; i++)
            cnt[i] = be32(p + 20 + 4 * i);
        tsize = 8;
    }
    p += 44;
    if (cnt[3] > TZ_MAX_TIMES || cnt[4] == 0 || cnt[4] > TZ_MAX_TYPES)
        return bad(err, name, "too many transitions or no local time types");
    if ((uint64_t)cnt[3] * (tsize + 1) + (uint64_t)cnt[4] * 6 > (uint64_t)(end - p))
        return bad(err, name, "truncated data");
    const uint8_t *times = p, *idx = p + (size_t)cnt[3] * tsize, *types = idx + cnt[3];
    for (uint32_t i = 0; i < cnt[3]; i++)
        if (idx[i] >= cnt[4])
            return bad(err, name, "a transition names an unknown local time type");
    tz = tz_new(name, cnt[3]);
    if (!tz)
        return lia_error_set(err, LIA_ENOMEM, "time zone", NULL, 0, "out of memory");
    for (uint32_t i = 0; i < cnt[3]; i++) {
        const uint8_t *t = times + (size_t)i * tsize;
        tz->at[i] = tsize == 8 ? be64(t) : (int64_t)(int32_t)be32(t);
        tz->off[i] = (int32_t)be32(types + 6 * (size_t)idx[i]);
        if (i && tz->at[i] <= tz->at[i - 1]) {
            lia__tz_free(tz);
            return bad(err, name, "transition times are not ascending");
        }
        if (tz->off[i] < -25 * 3600 || tz->off[i] > 26 * 3600) {
            lia__tz_free(tz);
            return bad(err, name, "an offset beyond 26 hours");
        }
    }
    /* Before the first transition: local time type 0 (RFC 8536 3.2). */
    tz->before = (int32_t)be32(types);
    if (tz->before < -25 * 3600 || tz->before > 26 * 3600) {
        lia__tz_free(tz);
        return bad(err, name, "an offset beyond 26 hours");
    }
    *out = tz;
    return LIA_OK;
}

/* "+HH:MM" / "-HH:MM", or "UTC+H", "UTC-HH", "UTC+HH:MM" as the directory
 * allows. */
static int fixed_offset(const char *s, int32_t *off)
{
    int h = 0, m = 0, digits = 0;
    if (strncmp(s, "UTC", 3) == 0)
        s += 3;
    else if (strlen(s) != 6 || s[3] != ':')
        return -1;
    if (*s != '+' && *s != '-')
        return -1;
    int sign = *s++ == '-' ? -1 : 1;
    while (*s >= '0' && *s <= '9' && digits < 2) {
        h = h * 10 + (*s++ - '0');
        digits++;
    }
    if (digits == 0)
        return -1;
    if (*s == ':') {
        if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' || s[3])
            return -1;
        m = (s[1] - '0') * 10 + (s[2] - '0');
    } else if (*s) {
        return -1;
    }
    if (h > 14 || m > 59)
        return -1;
    *off = sign * (h * 3600 + m * 60);
    return 0;
}

int lia__tz_load(const char *name, lia_tz **out, lia_error *err)
{
    const char *dir = getenv("TZDIR");
    char path[LIA_PATH_MAX];
    int32_t off = 0;
    int rc;
    lia_tz *tz;
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= TZ_NAME_MAX)
        return lia_error_set(err, LIA_EINVAL, "time zone", name, n, "a zone name is 1 to %d bytes",
                             TZ_NAME_MAX - 1);
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 || fixed_offset(name, &off) == 0) {
        tz = tz_new(name, 0);
        if (!tz)
            return lia_error_set(err, LIA_ENOMEM, "time zone", NULL, 0, "out of memory");
        tz->before = off;
        *out = tz;
        return LIA_OK;
    }
    if (name[0] == '/' || strstr(name, ".."))
        return lia_error_set(err, LIA_EINVAL, "time zone", name, n, "a zone name is relative, without '..'");
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
              c == '_' || c == '-' || c == '+'))
            return lia_error_set(err, LIA_EINVAL, "time zone", name, n,
                                 "a zone name is like Europe/Berlin, UTC or +08:00");
    }
    if ((rc = lia__path_fmt(path, sizeof path, err, "time zone file", "%s/%s",
                            dir && *dir ? dir : "/usr/share/zoneinfo", name)))
        return rc;
    FILE *f = fopen(path, "rb");
    if (!f)
        return lia_error_set(err, errno == ENOENT ? LIA_ENOTFOUND : LIA_EIO, "time zone", name, n,
                             "%s: %s (is the tzdata package installed?)", path, strerror(errno));
    uint8_t *buf = malloc(TZ_MAX_FILE);
    size_t len = buf ? fread(buf, 1, TZ_MAX_FILE, f) : 0;
    int rd = buf && !ferror(f) && (len < TZ_MAX_FILE || fgetc(f) == EOF);
    fclose(f);
    if (!buf)
        return lia_error_set(err, LIA_ENOMEM, "time zone", NULL, 0, "out of memory");
    rc = rd ? lia__tz_parse(buf, len, name, out, err)
            : lia_error_set(err, LIA_EIO, "time zone", name, n, "%s: unreadable or larger than %u bytes",
                            path, TZ_MAX_FILE);
    free(buf);
    return rc;
}

void lia__tz_free(lia_tz *tz)
{
    if (!tz)
        return;
    free(tz->at);
    free(tz->off);
    free(tz);
}

const char *lia__tz_name(const lia_tz *tz)
{
    return tz ? tz->name : "UTC";
}

/* Index of the last transition at or before t; -1 if none. */
static ptrdiff_t find(const lia_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

int32_t lia__tz_offset(const lia_tz *tz, int64_t t)
{
    ptrdiff_t i;
    if (!tz)
        return 0;
    i = find(tz, t);
    return i < 0 ? tz->before : tz->off[i];
}

int64_t lia__tz_next_change(const lia_tz *tz, int64_t t)
{
    ptrdiff_t i;
    if (!tz || tz->n == 0)
        return INT64_MAX;
    i = find(tz, t);
    return (size_t)(i + 1) < tz->n ? tz->at[i + 1] : INT64_MAX;
}

/* Civil dates: the days-from-civil algorithm (era of 400 years). */
int64_t lia__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void lia__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}
