/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Reports on a schedule (liaison/report.h, docs/reports.md): the tables
 * report_schedule (one row per distribution list) and report_delivery (one
 * row per list, month and entry: its outcome), and the run that sends what
 * is due through lia_report_send. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/log.h"
#include "core/clock.h"
#include "liaison/report.h"
#include "liaison/route.h"
#include "report/internal.h"
#include "store/db.h"

static const lia_migration migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS report_schedule("
            "  name TEXT PRIMARY KEY,"
            "  format TEXT NOT NULL,"
            "  lang TEXT NOT NULL,"
            "  tlp INTEGER NOT NULL,"
            "  top INTEGER NOT NULL,"
            "  day INTEGER NOT NULL,"
            "  recipients TEXT NOT NULL," /* the entries, one per line */
            "  created INTEGER NOT NULL);"
            "CREATE TABLE IF NOT EXISTS report_delivery("
            "  schedule TEXT NOT NULL,"
            "  period TEXT NOT NULL,"
            "  entry TEXT NOT NULL,"   /* partner:ID, or "own team" */
            "  outcome TEXT NOT NULL," /* sending, sent, refused, failed */
            "  error TEXT,"
            "  at INTEGER NOT NULL,"
            "  PRIMARY KEY(schedule, period, entry));"},
};
static const lia_schema schema = {"report", 1, migrations, NULL, .pg = 1};

/* A claim older than this is a sender that died: taken over. */
#define CLAIM_STALE_US (3600LL * 1000000)
#define OWN_TEAM       "own team"

static int init(lia_store *s, lia_error *err)
{
    return lia__db_schema(lia__store_db(s), &schema, err);
}

int lia__report_schema(lia_store *s, lia_error *err)
{
    return init(s, err);
}

static int bad(lia_error *err, const char *field, const char *v, const char *why)
{
    return lia_error_set(err, LIA_EINVAL, field, v, v ? strlen(v) : 0, "%s", why);
}

static int check(const lia_report_schedule *sc, lia_error *err)
{
    const char *lang = sc->lang ? sc->lang : "en";
    size_t n = sc->name ? strlen(sc->name) : 0;
    if (n == 0 || n > 64 ||
        strspn(sc->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
        return bad(err, "name", sc->name, "a schedule's name is 1 to 64 letters, digits, '.', '_' or '-'");
    if (!sc->format || (strcmp(sc->format, "html") && strcmp(sc->format, "pdf") && strcmp(sc->format, "csv")))
        return bad(err, "format", sc->format, "html, pdf or csv");
    if (strcmp(lang, "en") && strcmp(lang, "zh"))
        return bad(err, "lang", lang, "en or zh");
    if (sc->tlp < LIA_TLP_CLEAR || sc->tlp > LIA_TLP_RED)
        return bad(err, "tlp", NULL, "not a TLP label");
    if (sc->day < 0 || sc->day > 28)
        return bad(err, "day", NULL, "a day of the month from 1 to 28 (every month has it)");
    if (sc->top > 1000)
        return bad(err, "top", NULL, "from 1 to 1000");
    if (!sc->nto)
        return bad(err, "to", NULL, "a schedule needs at least one entry (partner:ID or an address)");
    for (size_t i = 0; i < sc->nto; i++) {
        const char *e = sc->to[i];
        if (strncmp(e, "partner:", 8) == 0 ? !e[8] : !strchr(e, '@'))
            return bad(err, "to", e, "a distribution list names partner:ID or an address of our own team");
        if (strchr(e, '\n') || strchr(e, '\r'))
            return bad(err, "to", e, "an entry is one line");
    }
    return LIA_OK;
}

/* The change and its audit record, or neither. */
static int logged(lia_store *s, int rc, const char *name, const char *action, const char *after,
                  lia_error *err)
{
    lia_db *db = lia__store_db(s);
    char object[96];
    snprintf(object, sizeof object, "report-schedule/%s", name);
    if (rc == LIA_OK)
        rc = lia__audit_change(s, object, action, NULL, after, err);
    if (rc) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

int lia_report_schedule_put(lia_store *s, const lia_report_schedule *sc, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_buf to, after;
    lia_stmt *st;
    int rc;
    if ((rc = check(sc, err)) || (rc = init(s, err)))
        return rc;
    lia_buf_init(&to, 1 << 20);
    lia_buf_init(&after, 1 << 20);
    for (size_t i = 0; i < sc->nto; i++)
        lia_buf_printf(&to, "%s%s", i ? "\n" : "", sc->to[i]);
    lia_buf_printf(&after, "{\"format\":\"%s\",\"lang\":\"%s\",\"tlp\":\"%s\",\"day\":%d,\"to\":[",
                   sc->format, sc->lang ? sc->lang : "en", lia_tlp_name(sc->tlp), sc->day ? sc->day : 1);
    for (size_t i = 0; i < sc->nto; i++) {
        if (i)
            lia_buf_puts(&after, ",");
        lia_buf_json_str(&after, sc->to[i], strlen(sc->to[i]));
    }
    lia_buf_puts(&after, "]}");
    if (to.err || after.err) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    if ((rc = lia__db_begin(db, err)))
        goto out;
    rc = lia__db_prepare(db, "report: a schedule",
                         "INSERT INTO report_schedule(name, format, lang, tlp, top, day, recipients, created)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(name) DO UPDATE SET"
                         " format = excluded.format, lang = excluded.lang, tlp = excluded.tlp,"
                         " top = excluded.top, day = excluded.day, recipients = excluded.recipients,"
                         " created = CASE WHEN ?9 = 1 THEN excluded.created ELSE report_schedule.created END",
                         &st, err);
    if (rc == LIA_OK) {
        lia__db_bind_text(st, 1, sc->name, -1);
        lia__db_bind_text(st, 2, sc->format, -1);
        lia__db_bind_text(st, 3, sc->lang ? sc->lang : "en", -1);
        lia__db_bind_int64(st, 4, sc->tlp);
        lia__db_bind_int64(st, 5, (int64_t)(sc->top ? sc->top : 10));
        lia__db_bind_int64(st, 6, sc->day ? sc->day : 1);
        lia__db_bind_text(st, 7, lia_buf_cstr(&to), (ptrdiff_t)to.len);
        lia__db_bind_int64(st, 8, sc->created_us ? sc->created_us : lia__now_us());
        lia__db_bind_int64(st, 9, sc->created_us != 0); /* a first month given: it replaces the old */
        rc = lia__db_run(st, err);
        lia__db_done(st);
    }
    rc = logged(s, rc, sc->name, "put", lia_buf_cstr(&after), err);
out:
    lia_buf_free(&to);
    lia_buf_free(&after);
    return rc;
}

int lia_report_schedule_remove(lia_store *s, const char *name, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    if ((rc = init(s, err)) || (rc = lia__db_begin(db, err)))
        return rc;
    rc = lia__db_prepare(db, "report: removing a schedule", "DELETE FROM report_schedule WHERE name = ?1",
                         &st, err);
    if (rc == LIA_OK) {
        lia__db_bind_text(st, 1, name, -1);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc == LIA_OK && lia__db_changes(db) == 0)
            rc = lia_error_set(err, LIA_ENOTFOUND, "schedule", name, strlen(name), "no such schedule");
    }
    if (rc == LIA_OK &&
        (rc = lia__db_prepare(db, "report: removing a schedule's deliveries",
                              "DELETE FROM report_delivery WHERE schedule = ?1", &st, err)) == LIA_OK) {
        lia__db_bind_text(st, 1, name, -1);
        rc = lia__db_run(st, err);
        lia__db_done(st);
    }
    return logged(s, rc, name, "remove", NULL, err);
}

/* A row of report_schedule as a schedule; its entries point into *lines
 * (split in place), to be freed with it. */
static int row_schedule(lia_stmt *st, lia_report_schedule *sc, char **lines, const char ***to, lia_error *err)
{
    const char *r = lia__db_col_text(st, 6);
    size_t n = 1;
    memset(sc, 0, sizeof *sc);
    *to = NULL;
    if (!(*lines = strdup(r ? r : "")))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    for (const char *p = *lines; *p; p++)
        n += *p == '\n';
    if (!(*to = calloc(n, sizeof **to))) {
        free(*lines);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    for (char *p = *lines, *nl; *p; p = nl + 1) {
        (*to)[sc->nto++] = p;
        if (!(nl = strchr(p, '\n')))
            break;
        *nl = '\0';
    }
    sc->name = lia__db_col_text(st, 0);
    sc->format = lia__db_col_text(st, 1);
    sc->lang = lia__db_col_text(st, 2);
    sc->tlp = (int)lia__db_col_int64(st, 3);
    sc->top = (uint64_t)lia__db_col_int64(st, 4);
    sc->day = (int)lia__db_col_int64(st, 5);
    sc->created_us = lia__db_col_int64(st, 7);
    sc->to = *to;
    return LIA_OK;
}

int lia_report_schedule_list(lia_store *s, lia_report_schedule_cb cb, void *ud, lia_error *err)
{
    lia_stmt *st;
    int rc, step;
    if ((rc = init(s, err)))
        return rc;
    if ((rc = lia__db_prepare(lia__store_db(s), "report: the schedules",
                              "SELECT name, format, lang, tlp, top, day, recipients, created,"
                              " (SELECT max(period) FROM report_delivery d WHERE d.schedule = s.name"
                              "  AND d.outcome = 'sent')"
                              " FROM report_schedule s ORDER BY name",
                              &st, err)))
        return rc;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        lia_report_schedule sc;
        const char **to;
        char *lines;
        const char *last = lia__db_col_text(st, 8);
        if ((rc = row_schedule(st, &sc, &lines, &to, err)))
            break;
        rc = cb(ud, &sc, last ? last : "");
        free(to);
        free(lines);
        if (rc)
            break;
    }
    if (rc == LIA_OK && step < 0)
        rc = step;
    lia__db_done(st);
    return rc;
}

/* ---- the run ---- */

/* The month due at now for a schedule made at created, sending on day:
 * "YYYY-MM" into period, or "" when none is (the last month's day has not
 * come, or came before the schedule was made). */
static void due_period(int64_t now_us, int64_t created_us, int day, char *period, size_t n)
{
    time_t t = (time_t)(now_us / 1000000);
    struct tm tm;
    int y, m;
    gmtime_r(&t, &tm);
    y = tm.tm_year + 1900;
    m = tm.tm_mon + 1; /* this month: its day sends the month before */
    if (tm.tm_mday < day && --m == 0) {
        m = 12;
        y--;
    }
    /* the send time: day `day` of month (y, m), 00:00 UTC */
    struct tm at = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = day};
    period[0] = '\0';
    if ((int64_t)timegm(&at) * 1000000 < created_us)
        return;
    if (--m == 0) {
        m = 12;
        y--;
    }
    snprintf(period, n, "%04d-%02d", y % 10000, m % 100);
}

typedef struct run_ctx {
    lia_store *s;
    const char *schedule, *period;
    int dry, rc;
    int64_t now_us;
    lia_report_due_cb cb;
    void *ud;
    lia_error *err;
} run_ctx;

/* Claim (schedule, period, entry) for sending: 1 if this run sends it, 0 if
 * it is done or another run has it, or a negative error. */
static int claim(run_ctx *x, const char *entry)
{
    lia_db *db = lia__store_db(x->s);
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(db, "report: claiming a delivery",
                              "INSERT INTO report_delivery(schedule, period, entry, outcome, error, at)"
                              " VALUES (?1, ?2, ?3, 'sending', NULL, ?4)"
                              " ON CONFLICT(schedule, period, entry) DO UPDATE SET outcome = 'sending',"
                              " error = NULL, at = excluded.at WHERE report_delivery.outcome = 'failed'"
                              " OR (report_delivery.outcome = 'sending' AND report_delivery.at < ?5)",
                              &st, x->err)))
        return rc;
    lia__db_bind_text(st, 1, x->schedule, -1);
    lia__db_bind_text(st, 2, x->period, -1);
    lia__db_bind_text(st, 3, entry, -1);
    lia__db_bind_int64(st, 4, x->now_us);
    lia__db_bind_int64(st, 5, x->now_us - CLAIM_STALE_US);
    rc = lia__db_run(st, x->err);
    lia__db_done(st);
    return rc ? rc : lia__db_changes(db) > 0;
}

/* Is (schedule, period, entry) done (sent or refused)? 1, 0, or an error. */
static int done(run_ctx *x, const char *entry)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(lia__store_db(x->s), "report: a delivery",
                              "SELECT 1 FROM report_delivery WHERE schedule = ?1 AND period = ?2"
                              " AND entry = ?3 AND outcome IN ('sent', 'refused')",
                              &st, x->err)))
        return rc;
    lia__db_bind_text(st, 1, x->schedule, -1);
    lia__db_bind_text(st, 2, x->period, -1);
    lia__db_bind_text(st, 3, entry, -1);
    rc = lia__db_step(st, x->err);
    lia__db_done(st);
    return rc < 0 ? rc : rc == LIA_DB_ROW;
}

/* The outcome of a claimed delivery; with only_claimed, only if it is
 * still claimed (one lia_report_send did not report). */
static int record(run_ctx *x, const char *entry, const char *outcome, const char *error, int only_claimed)
{
    lia_stmt *st;
    int rc;
    if ((rc = lia__db_prepare(lia__store_db(x->s), "report: a delivery's outcome",
                              only_claimed ? "UPDATE report_delivery SET outcome = ?4, error = ?5, at = ?6"
                                             " WHERE schedule = ?1 AND period = ?2 AND entry = ?3"
                                             " AND outcome = 'sending'"
                                           : "UPDATE report_delivery SET outcome = ?4, error = ?5, at = ?6"
                                             " WHERE schedule = ?1 AND period = ?2 AND entry = ?3",
                              &st, x->err)))
        return rc;
    lia__db_bind_text(st, 1, x->schedule, -1);
    lia__db_bind_text(st, 2, x->period, -1);
    lia__db_bind_text(st, 3, entry, -1);
    lia__db_bind_text(st, 4, outcome, -1);
    if (error)
        lia__db_bind_text(st, 5, error, -1);
    else
        lia__db_bind_null(st, 5);
    lia__db_bind_int64(st, 6, lia__now_us());
    rc = lia__db_run(st, x->err);
    lia__db_done(st);
    return rc;
}

static int sent_cb(void *ud, const lia_report_sent *r)
{
    run_ctx *x = ud;
    int rc = LIA_OK;
    if (!x->dry)
        rc = record(x, r->entry, r->outcome, r->error, 0);
    if (rc == LIA_OK && x->cb)
        rc = x->cb(x->ud, x->schedule, x->period, r);
    return rc;
}

/* Send schedule sc's month period to the entries not done yet. */
static int run_one(run_ctx *x, const lia_report_schedule *sc, const lia_report_send_opts *base)
{
    lia_report_opts o = {.period = x->period,
                         .lang = sc->lang,
                         .tlp = sc->tlp,
                         .format = sc->format,
                         .top = sc->top,
                         .now_us = x->now_us};
    lia_report_send_opts so = *base;
    const char **to = calloc(sc->nto ? sc->nto : 1, sizeof *to);
    int rc = LIA_OK, team = -1, c;
    if (!to)
        return lia_error_set(x->err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    so.nto = 0;
    for (size_t i = 0; i < sc->nto && rc == LIA_OK; i++) {
        const char *e = sc->to[i];
        int partner = strncmp(e, "partner:", 8) == 0;
        if (!partner && team == 0)
            continue; /* the team's addresses go as one, already decided */
        if (!partner && team == 1) {
            to[so.nto++] = e;
            continue;
        }
        if (x->dry) {
            if ((c = done(x, partner ? e : OWN_TEAM)) >= 0)
                c = !c;
        } else {
            c = claim(x, partner ? e : OWN_TEAM);
        }
        if (c < 0) {
            rc = c;
            break;
        }
        if (!partner)
            team = c;
        if (c)
            to[so.nto++] = e;
    }
    so.to = to;
    if (rc == LIA_OK && so.nto) {
        lia_error e2;
        lia_error_clear(&e2);
        if (lia_report_send(x->s, &o, &so, sent_cb, x, &e2)) {
            /* nothing more went (the list no longer checks, a partner was
             * removed; no chromium for a PDF; ...): the claims not reported
             * are failed, to be tried at the next run, and the others run */
            lia_report_sent r = {"*", "", "failed", e2.reason};
            for (size_t i = 0; i < so.nto && rc == LIA_OK && !x->dry; i++)
                if (strncmp(to[i], "partner:", 8) == 0)
                    rc = record(x, to[i], "failed", e2.reason, 1);
            if (rc == LIA_OK && team == 1 && !x->dry)
                rc = record(x, OWN_TEAM, "failed", e2.reason, 1);
            if (rc == LIA_OK && x->cb)
                rc = x->cb(x->ud, x->schedule, x->period, &r);
        }
    }
    free(to);
    return rc;
}

int lia_report_run_due(lia_store *s, int64_t now_us, const lia_report_send_opts *so, lia_report_due_cb cb,
                       void *ud, lia_error *err)
{
    lia_stmt *st;
    int rc, step;
    run_ctx x = {s, NULL, NULL, so->dry_run_dir != NULL, 0, now_us ? now_us : lia__now_us(), cb, ud, err};
    /* the schedules read first: sending writes to the store */
    typedef struct held {
        lia_report_schedule sc;
        char *lines, *name, *format, *lang;
        const char **to;
    } held;
    held *v = NULL;
    size_t n = 0;
    if ((rc = init(s, err)))
        return rc;
    if ((rc = lia__db_prepare(lia__store_db(s), "report: the schedules",
                              "SELECT name, format, lang, tlp, top, day, recipients, created"
                              " FROM report_schedule ORDER BY name",
                              &st, err)))
        return rc;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        held *w = realloc(v, (n + 1) * sizeof *v);
        if (!w) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            break;
        }
        v = w;
        memset(&v[n], 0, sizeof v[n]);
        if ((rc = row_schedule(st, &v[n].sc, &v[n].lines, &v[n].to, err)))
            break;
        v[n].sc.name = v[n].name = strdup(v[n].sc.name);
        v[n].sc.format = v[n].format = strdup(v[n].sc.format);
        v[n].sc.lang = v[n].lang = strdup(v[n].sc.lang);
        n++;
        if (!v[n - 1].name || !v[n - 1].format || !v[n - 1].lang) {
            rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            break;
        }
    }
    if (rc == LIA_OK && step < 0)
        rc = step;
    lia__db_done(st);
    for (size_t i = 0; i < n && rc == LIA_OK; i++) {
        char period[32];
        due_period(x.now_us, v[i].sc.created_us, v[i].sc.day ? v[i].sc.day : 1, period, sizeof period);
        if (!period[0])
            continue;
        x.schedule = v[i].sc.name;
        x.period = period;
        rc = run_one(&x, &v[i].sc, so);
    }
    for (size_t i = 0; i < n; i++) {
        free(v[i].lines);
        free(v[i].to);
        free(v[i].name);
        free(v[i].format);
        free(v[i].lang);
    }
    free(v);
    return rc;
}
