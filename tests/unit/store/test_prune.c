/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Retention (src/store/prune.c): what a prune removes equals the counts
 * before minus after, table by table, and the rollups equal a recount; a
 * dry run removes nothing; a report still being ingested stays; a feed's
 * retention and a classification's; the audit record; an incident keeps a
 * copy of the events it links and its export still carries them; a bad
 * duration's error; a prune killed after a commit is finished by the next
 * run. Reports go through the whole pipeline (lia_ingest_buffer): route
 * decisions, dedup state and the archive are the real ones. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include "liaison/liaison.h"
#include "notify/internal.h"
#include "core/clock.h"
#include "store/db.h"
#include "../../pg/pg_test.h"

#define DAY_US 86400000000LL

typedef struct fx {
    char dir[64];
    char path[128];
    lia_store *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    lia_error err;
    unsetenv("LIAISON_CONF");
    snprintf(f->dir, sizeof f->dir, "/tmp/liaison-prune-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    if (lia_test_db_path(f->dir, "s", f->path, sizeof f->path) < 0)
        return -1;
    if (lia_store_open(f->path, &f->s, &err))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char cmd[256];
    lia_store_close(f->s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* Ingest text as a report of feed; its id. */
static int64_t ingest(fx *f, const char *feed, const char *text)
{
    lia_ingest_opts o;
    lia_ingest_result res;
    lia_error err;
    memset(&o, 0, sizeof o);
    o.format = "jsonl";
    o.archive = 1;
    o.feed.feed = feed;
    o.feed.tlp = -1;
    lia_error_clear(&err);
    if (lia_ingest_buffer(f->s, &o, text, strlen(text), &res, &err))
        fail_msg("ingest: %s", err.reason);
    return res.report.id;
}

static int64_t q1(fx *f, const char *sql)
{
    lia_stmt *st;
    lia_error err;
    int64_t v = -1;
    if (lia__db_prepare_once(lia__store_db(f->s), "test", sql, &st, &err))
        fail_msg("%s: %s", sql, err.reason);
    if (lia__db_step(st, &err) == LIA_DB_ROW)
        v = lia__db_col_int64(st, 0);
    lia__db_done(st);
    return v;
}

static void exec_sql(fx *f, const char *sql)
{
    lia_error err;
    if (lia__db_exec(lia__store_db(f->s), sql, &err))
        fail_msg("%s: %s", sql, err.reason);
}

/* Received days ago. */
static void age(fx *f, int64_t report, int days)
{
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE reports SET started = started - %lld WHERE id = %lld",
             (long long)days * DAY_US, (long long)report);
    exec_sql(f, sql);
}

static void archive_path(fx *f, int64_t report, char *out, size_t n)
{
    lia_report r;
    lia_error err;
    assert_int_equal(lia_store_report_get(f->s, report, &r, &err), LIA_OK);
    assert_true(r.archive[0]);
    snprintf(out, n, "%s/%s", lia_store_archive_dir(f->s), r.archive);
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* The rollups of src/store/summary.c against a recount of the events:
 * the rows in one and not the other, both ways (0 = equal). */
#define DAY_SQL                                                                                              \
    "CASE WHEN time IS NULL THEN -9000000 WHEN time < 0 THEN (time - 86399999999) / 86400000000"             \
    " ELSE time / 86400000000 END"
#define EXPOSURE_RECOUNT                                                                                     \
    "SELECT lower(s.value), coalesce(json_extract(e.body, '$.\"extra.ics_protocol\"'),"                      \
    " json_extract(e.body, '$.\"protocol.application\"'), '(none)'),"                                        \
    " coalesce(json_extract(e.body, '$.\"extra.product\"'), '(none)'), count(*)"                             \
    " FROM events e, json_each(e.body, '$.\"extra.sector\"') s WHERE lower(s.value) IN ('iot', 'ics')"       \
    " GROUP BY 1, 2, 3"
/* The same on PostgreSQL (summary.c's EXPOSURE_PG, as a recount). */
#define EXPOSURE_RECOUNT_PG                                                                                  \
    "SELECT lower(s.value), coalesce(e.b ->> 'extra.ics_protocol', e.b ->> 'protocol.application', "         \
    "'(none)'),"                                                                                             \
    " coalesce(e.b ->> 'extra.product', '(none)'), count(*)"                                                 \
    " FROM (SELECT body::jsonb AS b FROM events) e,"                                                         \
    " jsonb_array_elements_text(CASE jsonb_typeof(e.b -> 'extra.sector') WHEN 'array' THEN e.b -> "          \
    "'extra.sector' WHEN 'string' THEN jsonb_build_array(e.b -> 'extra.sector') ELSE '[]'::jsonb END) "      \
    "s(value)"                                                                                               \
    " WHERE lower(s.value) IN ('iot', 'ics') GROUP BY 1, 2, 3"
static const struct {
    const char *rollup, *recount;
} rollups[] = {
    {"SELECT day, class, n FROM events_by_day",
     "SELECT " DAY_SQL ", coalesce(class, -1), count(*) FROM events GROUP BY 1, 2"},
    {"SELECT cc, n FROM events_by_cc", "SELECT coalesce(src_cc, '--'), count(*) FROM events GROUP BY 1"},
    {"SELECT asn, n FROM events_by_asn", "SELECT coalesce(src_asn, 0), count(*) FROM events GROUP BY 1"},
    {"SELECT report_id, n FROM events_by_report", "SELECT report_id, count(*) FROM events GROUP BY 1"},
    {"SELECT sector, protocol, product, n FROM events_exposure", EXPOSURE_RECOUNT},
};

static void assert_rollups_recount(fx *f)
{
    for (size_t i = 0; i < sizeof rollups / sizeof *rollups; i++) {
        char sql[2048];
        const char *recount = rollups[i].recount;
        if (lia_test_pg() && strcmp(recount, EXPOSURE_RECOUNT) == 0)
            recount = EXPOSURE_RECOUNT_PG;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM (%s EXCEPT %s) AS d", rollups[i].rollup, recount);
        if (q1(f, sql) != 0)
            fail_msg("rollup %s has rows a recount does not", rollups[i].rollup);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM (%s EXCEPT %s) AS d", recount, rollups[i].rollup);
        if (q1(f, sql) != 0)
            fail_msg("a recount has rows rollup %s does not", rollups[i].rollup);
    }
}

static const char old_report[] =
    "{\"source.ip\":\"192.0.2.1\",\"source.geolocation.cc\":\"DE\",\"source.asn\":\"64500\","
    "\"classification.type\":\"scanner\",\"time.source\":\"2026-05-01T10:00:00Z\","
    "\"protocol.application\":\"telnet\",\"extra.sector\":\"iot\"}\n"
    "{\"source.ip\":\"192.0.2.2\",\"source.geolocation.cc\":\"DE\",\"classification.type\":\"infected-"
    "system\","
    "\"time.source\":\"2026-05-01T11:00:00Z\"}\n"
    "{\"source.ip\":\"192.0.2.3\",\"source.geolocation.cc\":\"FR\",\"classification.type\":\"scanner\","
    "\"time.source\":\"2026-05-02T11:00:00Z\"}\n"
    "this line is not JSON\n";
static const char new_report[] =
    "{\"source.ip\":\"198.51.100.1\",\"source.geolocation.cc\":\"DE\",\"source.asn\":\"64500\","
    "\"classification.type\":\"scanner\",\"time.source\":\"2026-05-01T10:00:00Z\","
    "\"protocol.application\":\"telnet\",\"extra.sector\":\"iot\"}\n"
    "{\"source.ip\":\"198.51.100.2\",\"classification.type\":\"infected-system\"}\n";

typedef struct counts {
    int64_t reports, events, quarantine, decisions, dedup, notif;
} counts;

static counts count_all(fx *f)
{
    counts c;
    c.reports = q1(f, "SELECT count(*) FROM reports");
    c.events = q1(f, "SELECT count(*) FROM events");
    c.quarantine = q1(f, "SELECT count(*) FROM quarantine");
    c.decisions = q1(f, "SELECT count(*) FROM route_decision");
    c.dedup = q1(f, "SELECT count(*) FROM dedup");
    c.notif = lia_test_pg()
                  ? 0 /* notify is not on PostgreSQL yet (issue 12, another port) */
                  : q1(f, "SELECT (SELECT count(*) FROM notification_event) + (SELECT count(*) FROM "
                          "notification_delivery)");
    return c;
}

/* The routing module's count of events delivered to each recipient
 * against a recount of its decisions (0 = equal). */
static int64_t delivered_differs(fx *f)
{
    return q1(f,
              "SELECT count(*) FROM (SELECT recipient, n FROM route_delivered WHERE n > 0 EXCEPT"
              " SELECT recipient, count(*) FROM route_decision WHERE verdict = 1 GROUP BY recipient) AS d") +
           q1(f, "SELECT count(*) FROM (SELECT recipient, count(*) FROM route_decision WHERE verdict = 1"
                 " GROUP BY recipient EXCEPT SELECT recipient, n FROM route_delivered WHERE n > 0) AS d");
}

static void test_prune_counts_dry_run_audit(void **state)
{
    fx *f = *state;
    lia_error err;
    lia_prune_result dry, res, again;
    char arch[LIA_PATH_MAX + 600];
    static const char owners[] =
        "owners:\n  - id: net-de\n    name: DE network\n    country: DE\n"
        "    cidrs: [192.0.2.0/24, 198.51.100.0/24]\n    contacts: [noc@net-de.example]\n";
    static const char routing[] = "home_country: DE\n";
    size_t np;
    int64_t a, b, size, ev_a, ev_b;
    lia_error_clear(&err);
    if (lia_party_import(f->s, LIA_PARTY_OWNER, "yaml", owners, strlen(owners), &np, &err) ||
        lia_route_config_put(f->s, routing, strlen(routing), &err))
        fail_msg("routing: %s", err.reason);
    a = ingest(f, "fa", old_report);
    b = ingest(f, "fb", new_report);
    lia_prune_rule rule = {NULL, NULL, lia__now_us() - 180 * DAY_US};
    counts before, mid, after;
    char sql[256];
    age(f, a, 200);
    archive_path(f, a, arch, sizeof arch);
    size = file_size(arch);
    assert_true(size > 0);
    /* one notification carried an event of each report */
    assert_int_equal(b, 2);
    if (!lia_test_pg()) { /* notify is not on PostgreSQL yet (issue 12, another port) */
        assert_int_equal(lia__notify_schema(lia__store_db(f->s), &err), LIA_OK);
        ev_a = q1(f, "SELECT min(id) FROM events WHERE report_id = 1");
        ev_b = q1(f, "SELECT min(id) FROM events WHERE report_id = 2");
        snprintf(sql, sizeof sql,
                 "INSERT INTO notification_event VALUES(1, %lld), (1, %lld);"
                 "INSERT INTO notification_delivery VALUES(%lld, 'owner:x', 'email', 1), (%lld, 'owner:x', "
                 "'email', 1)",
                 (long long)ev_a, (long long)ev_b, (long long)ev_a, (long long)ev_b);
        exec_sql(f, sql);
    }
    before = count_all(f);
    assert_int_equal(before.events, 5);
    assert_int_equal(before.quarantine, 1);
    assert_true(before.decisions >= 5);
    assert_true(before.dedup >= 5);
    assert_rollups_recount(f);
    assert_int_equal(q1(f, "SELECT sum(n) FROM route_delivered"), 5); /* every event, to net-de */
    assert_int_equal(delivered_differs(f), 0);

    /* dry run: the same counts, nothing removed, no audit record */
    assert_int_equal(lia_store_prune(f->s, &rule, 1, 1, &dry, &err), LIA_OK);
    mid = count_all(f);
    assert_memory_equal(&before, &mid, sizeof before);
    assert_int_equal(file_size(arch), size);
    assert_int_equal(q1(f, "SELECT count(*) FROM audit_log WHERE action = 'prune'"), 0);
    assert_int_equal(dry.reports, 1);
    assert_int_equal(dry.events, 3);
    assert_int_equal(dry.archives, 1);
    assert_int_equal(dry.archive_bytes, (uint64_t)size);

    assert_int_equal(lia_store_prune(f->s, &rule, 1, 0, &res, &err), LIA_OK);
    after = count_all(f);
    assert_int_equal(res.reports, before.reports - after.reports);
    assert_int_equal(res.events, before.events - after.events);
    assert_int_equal(res.quarantined, before.quarantine - after.quarantine);
    assert_int_equal(res.decisions, before.decisions - after.decisions);
    assert_int_equal(res.dedup, before.dedup - after.dedup);
    assert_int_equal(res.notifications, before.notif - after.notif);
    assert_int_equal(res.notifications, lia_test_pg() ? 0 : 2);
    assert_int_equal(after.events, 2);
    assert_int_equal(q1(f, "SELECT count(*) FROM events WHERE report_id = 1"), 0);
    assert_int_equal(q1(f, "SELECT count(*) FROM route_decision WHERE event_id IN (SELECT id FROM events)"),
                     after.decisions);
    /* the dry run said what the run did */
    assert_int_equal(dry.reports, res.reports);
    assert_int_equal(dry.events, res.events);
    assert_int_equal(dry.quarantined, res.quarantined);
    assert_int_equal(dry.decisions, res.decisions);
    assert_int_equal(dry.dedup, res.dedup);
    assert_int_equal(dry.notifications, res.notifications);
    assert_int_equal(dry.archive_bytes, res.archive_bytes);
    /* the archive went after the commit; the other report's stays */
    assert_int_equal(res.archives, 1);
    assert_int_equal(file_size(arch), -1);
    archive_path(f, b, arch, sizeof arch);
    assert_true(file_size(arch) > 0);
    assert_int_equal(q1(f, "SELECT count(*) FROM prune_archive"), 0);
    assert_rollups_recount(f);
    assert_int_equal(q1(f, "SELECT sum(n) FROM route_delivered"), 2);
    assert_int_equal(delivered_differs(f), 0);
    /* the summary's total is the store's */
    {
        uint64_t total;
        assert_int_equal(lia_store_rollup_total(f->s, &total, &err), LIA_OK);
        assert_int_equal(total, 2);
    }
    /* one audit record: who, the cutoff, the counts */
    assert_int_equal(
        q1(f, lia_test_pg()
                  ? "SELECT count(*) FROM audit_log WHERE action = 'prune' AND object = 'store'"
                    " AND (after::jsonb->>'events')::int = 3 AND (after::jsonb->>'reports')::int = 1"
                    " AND (after::jsonb->>'quarantined')::int = 1 AND (after::jsonb->>'archives')::int = 1"
                    " AND (after::jsonb->'report_ids'->>0)::int = 1"
                    " AND after::jsonb->'rules'->0->'before' IS NOT NULL AND actor <> ''"
                  : "SELECT count(*) FROM audit_log WHERE action = 'prune' AND object = 'store'"
                    " AND json_extract(after, '$.events') = 3 AND json_extract(after, '$.reports') = 1"
                    " AND json_extract(after, '$.quarantined') = 1 AND json_extract(after, '$.archives') = 1"
                    " AND json_extract(after, '$.report_ids[0]') = 1"
                    " AND json_extract(after, '$.rules[0].before') IS NOT NULL AND actor <> ''"),
        1);
    /* again: nothing left to remove */
    assert_int_equal(lia_store_prune(f->s, &rule, 1, 0, &again, &err), LIA_OK);
    assert_int_equal(again.reports + again.events + again.archives, 0);
    assert_int_equal(q1(f, "SELECT count(*) FROM audit_log WHERE action = 'prune'"), 1);
}

static void test_prune_keeps_report_in_progress(void **state)
{
    fx *f = *state;
    lia_error err;
    lia_prune_result res;
    int64_t a = ingest(f, "fa", old_report);
    lia_prune_rule rule = {NULL, NULL, lia__now_us() - 10 * DAY_US};
    age(f, a, 20);
    exec_sql(f, "UPDATE reports SET state = 1"); /* partial: still being ingested */
    assert_int_equal(lia_store_prune(f->s, &rule, 1, 0, &res, &err), LIA_OK);
    assert_int_equal(res.reports, 0);
    assert_int_equal(res.events, 0);
    assert_int_equal(q1(f, "SELECT count(*) FROM events"), 3);
    exec_sql(f, "UPDATE reports SET state = 2");
    assert_int_equal(lia_store_prune(f->s, &rule, 1, 0, &res, &err), LIA_OK);
    assert_int_equal(res.reports, 1);
    assert_int_equal(q1(f, "SELECT count(*) FROM events"), 0);
    /* a report received after the cutoff stays */
    ingest(f, "fa", new_report);
    assert_int_equal(lia_store_prune(f->s, &rule, 1, 0, &res, &err), LIA_OK);
    assert_int_equal(res.reports, 0);
    assert_int_equal(q1(f, "SELECT count(*) FROM events"), 2);
}

typedef struct seen {
    int n, marked;
    char ips[8][64];
} seen;

static int seen_cb(void *ud, const lia_event *ev)
{
    seen *s = ud;
    lia_buf j;
    lia_buf_init(&j, (size_t)1 << 20);
    assert_int_equal(lia_event_to_json(ev, &j), LIA_OK);
    if (strstr(lia_buf_cstr(&j), "\"extra.store_pruned\":\"20"))
        s->marked++;
    if (s->n < 8 && lia_event_has(ev, LIA_F_SOURCE_IP))
        lia_ip_format(&ev->v[LIA_F_SOURCE_IP].ip, 0, s->ips[s->n], sizeof s->ips[0]);
    s->n++;
    lia_buf_free(&j);
    return 0;
}

static int sink(void *ud, const char *p, size_t n)
{
    return lia_buf_append(ud, p, n);
}

static void test_prune_incident_keeps_copies(void **state)
{
    if (lia_test_pg())
        skip(); /* incidents are not on PostgreSQL yet (issue 12, another port) */
    fx *f = *state;
    lia_error err;
    lia_prune_result res;
    lia_incident in = {.title = "scan wave", .tlp = "AMBER", .severity = LIA_SEV_MEDIUM};
    lia_actor who = {"analyst", "cli", NULL};
    lia_incident_export_opts eo = {.format = "stix", .max_tlp = -1};
    lia_incident_export_result er;
    int64_t a = ingest(f, "fa", old_report), id, ids[3];
    uint64_t added, missing = 9;
    lia_prune_rule rule = {NULL, NULL, lia__now_us() - 180 * DAY_US};
    lia_event ev;
    lia_buf out;
    seen sn = {0};
    age(f, a, 200);
    for (int i = 0; i < 3; i++)
        ids[i] = q1(f, "SELECT min(id) FROM events") + i;
    assert_int_equal(lia_incident_create(f->s, &in, NULL, 0, NULL, 0, &who, &id, &err), LIA_OK);
    assert_int_equal(lia_incident_link_events(f->s, id, ids, 2, &who, &added, &err), LIA_OK);
    assert_int_equal(added, 2);

    assert_int_equal(lia_store_prune(f->s, &rule, 1, 0, &res, &err), LIA_OK);
    assert_int_equal(res.events, 3);
    assert_int_equal(res.incident_copies, 2);
    lia_event_init(&ev);
    assert_int_equal(lia_store_event_get(f->s, ids[0], &ev, &err), LIA_ENOTFOUND);
    lia_event_free(&ev);
    /* the incident still gives both, from its copies, marked */
    assert_int_equal(lia_incident_events(f->s, id, seen_cb, &sn, &missing, &err), LIA_OK);
    assert_int_equal(sn.n, 2);
    assert_int_equal(sn.marked, 2);
    assert_int_equal(missing, 0);
    assert_string_equal(sn.ips[0], "192.0.2.1");
    assert_string_equal(sn.ips[1], "192.0.2.2");
    /* and its export */
    lia_buf_init(&out, (size_t)1 << 24);
    assert_int_equal(lia_incident_export(f->s, id, &eo, sink, &out, &er, &err), LIA_OK);
    assert_int_equal(er.events, 2);
    assert_int_equal(er.pruned, 2);
    assert_int_equal(er.missing, 0);
    assert_non_null(strstr(lia_buf_cstr(&out), "192.0.2.1"));
    assert_non_null(strstr(lia_buf_cstr(&out), "192.0.2.2"));
    assert_null(strstr(lia_buf_cstr(&out), "192.0.2.3")); /* not linked */
    lia_buf_free(&out);
    /* the copy is the event as stored */
    assert_int_equal(q1(f, "SELECT count(*) FROM incident_event_copy WHERE"
                           " json_extract(body, '$.\"classification.type\"') = 'scanner'"
                           " AND json_extract(body, '$.\"source.geolocation.cc\"') = 'DE' AND report_id = 1"),
                     1);
}

/* A store whose incidents are from before the copies (schema incident 4):
 * its incident_event_copy is made before the prune's transactions, so a
 * dry run (rolled back) and then a prune on the same handle both work. */
static void test_prune_incidents_of_an_older_store(void **state)
{
    if (lia_test_pg())
        skip(); /* incidents are not on PostgreSQL yet (issue 12, another port) */
    fx *f = *state;
    lia_error err;
    lia_prune_result dry, res;
    lia_incident in = {.title = "old case", .tlp = "AMBER", .severity = LIA_SEV_LOW};
    lia_actor who = {"analyst", "cli", NULL};
    int64_t a = ingest(f, "fa", old_report), id, ev;
    lia_prune_rule rule = {NULL, NULL, lia__now_us() - 180 * DAY_US};
    seen sn = {0};
    age(f, a, 200);
    ev = q1(f, "SELECT min(id) FROM events");
    assert_int_equal(lia_incident_create(f->s, &in, NULL, 0, NULL, 0, &who, &id, &err), LIA_OK);
    assert_int_equal(lia_incident_link_events(f->s, id, &ev, 1, &who, NULL, &err), LIA_OK);
    exec_sql(f,
             "DROP TABLE incident_event_copy; UPDATE lia_schema SET version = 4 WHERE module = 'incident'");
    lia_store_close(f->s);
    assert_int_equal(lia_store_open(f->path, &f->s, &err), LIA_OK);
    assert_int_equal(lia_store_prune(f->s, &rule, 1, 1, &dry, &err), LIA_OK);
    assert_int_equal(dry.incident_copies, 1);
    assert_int_equal(lia_store_prune(f->s, &rule, 1, 0, &res, &err), LIA_OK);
    assert_int_equal(res.incident_copies, 1);
    assert_int_equal(q1(f, "SELECT version FROM lia_schema WHERE module = 'incident'"), 6);
    assert_int_equal(lia_incident_events(f->s, id, seen_cb, &sn, NULL, &err), LIA_OK);
    assert_int_equal(sn.n, 1);
    assert_int_equal(sn.marked, 1);
}

static void test_feed_retention(void **state)
{
    fx *f = *state;
    lia_error err;
    lia_prune_result res;
    lia_prune_rule *rules;
    size_t n;
    lia_feed fd;
    int64_t a = ingest(f, "fa", old_report), b = ingest(f, "fb", new_report);
    memset(&fd, 0, sizeof fd);
    snprintf(fd.name, sizeof fd.name, "fa");
    snprintf(fd.format, sizeof fd.format, "jsonl");
    snprintf(fd.dir, sizeof fd.dir, "/tmp");
    fd.tlp = -1;
    assert_int_equal(
        lia_feeds_add(f->s, &(lia_feed){.name = "fb", .format = "jsonl", .dir = "/tmp", .tlp = -1}, &err),
        LIA_OK);
    fd.retention_s = 30 * 86400;
    assert_int_equal(lia_feeds_add(f->s, &fd, &err), LIA_OK);
    memset(&fd, 0, sizeof fd);
    assert_int_equal(lia_feeds_get(f->s, "fa", &fd, &err), LIA_OK);
    assert_int_equal(fd.retention_s, 30 * 86400);
    age(f, a, 40);
    age(f, b, 40); /* feed fb has no retention: kept */
    assert_int_equal(lia_retention_rules(f->s, lia__now_us(), &rules, &n, &err), LIA_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rules[0].feed, "fa");
    assert_null(rules[0].classification);
    assert_int_equal(lia_store_prune(f->s, rules, n, 0, &res, &err), LIA_OK);
    lia_retention_free(rules, n);
    assert_int_equal(res.reports, 1);
    assert_int_equal(res.events, 3);
    assert_int_equal(q1(f, "SELECT count(*) FROM reports WHERE feed = 'fb'"), 1);
    assert_int_equal(q1(f, "SELECT count(*) FROM reports WHERE feed = 'fa'"), 0);
    /* set later, and taken off */
    assert_int_equal(lia_feeds_set_retention(f->s, "fb", 7 * 86400, &err), LIA_OK);
    assert_int_equal(lia_feeds_set_retention(f->s, "nope", 7 * 86400, &err), LIA_ENOTFOUND);
    assert_int_equal(lia_retention_rules(f->s, lia__now_us(), &rules, &n, &err), LIA_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rules[0].feed, "fb"); /* the shortest first */
    assert_int_equal(rules[0].before_us > rules[1].before_us, 1);
    lia_retention_free(rules, n);
    assert_int_equal(lia_feeds_set_retention(f->s, "fb", 0, &err), LIA_OK);
    assert_int_equal(lia_feeds_set_retention(f->s, "fa", 0, &err), LIA_OK);
    assert_int_equal(lia_retention_rules(f->s, lia__now_us(), &rules, &n, &err), LIA_OK);
    assert_int_equal(n, 0);
    lia_retention_free(rules, n);
}

static void write_conf(fx *f, const char *text)
{
    char p[256];
    FILE *fp;
    snprintf(p, sizeof p, "%s/s.db.conf", f->dir);
    if (lia_test_pg()) /* a URI has no STORE.conf beside it */
        setenv("LIAISON_CONF", p, 1);
    assert_non_null(fp = fopen(p, "w"));
    assert_int_equal(fputs(text, fp) >= 0, 1);
    fclose(fp);
}

static void test_class_retention_per_event(void **state)
{
    fx *f = *state;
    lia_error err;
    lia_prune_result res;
    lia_prune_rule *rules;
    size_t n;
    char arch[LIA_PATH_MAX + 600];
    int64_t a = ingest(f, "fa", old_report), b = ingest(f, "fb", new_report);
    age(f, a, 40);
    age(f, b, 2);
    write_conf(f, "[dedup]\nwindow = 1h\n[retention]\nscanner = 30d  # scans: a month\nvulnerable = 26w\n");
    assert_int_equal(lia_retention_rules(f->s, lia__now_us(), &rules, &n, &err), LIA_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rules[0].classification, "scanner"); /* the shortest first */
    assert_int_equal(lia_store_prune(f->s, rules, n, 0, &res, &err), LIA_OK);
    lia_retention_free(rules, n);
    /* the old report's scans go; its infected system, the report and its archive stay */
    assert_int_equal(res.events, 2);
    assert_int_equal(res.reports, 0);
    assert_int_equal(res.archives, 0);
    assert_int_equal(res.quarantined, 0);
    assert_int_equal(q1(f, "SELECT count(*) FROM events WHERE report_id = 1"), 1);
    assert_int_equal(q1(f, "SELECT events FROM reports WHERE id = 1"), 1);
    assert_int_equal(q1(f, "SELECT count(*) FROM events WHERE report_id = 2"), 2);
    assert_int_equal(q1(f, "SELECT count(*) FROM quarantine"), 1);
    archive_path(f, a, arch, sizeof arch);
    assert_true(file_size(arch) > 0);
    assert_rollups_recount(f);
    /* a bad setting names the file, the line and why */
    write_conf(f, "[retention]\nscanner = 30d\nscannr = 30d\n");
    assert_int_equal(lia_retention_rules(f->s, lia__now_us(), &rules, &n, &err), LIA_EINVAL);
    if (err.line != 3)
        fail_msg("line %llu: %s", (unsigned long long)err.line, err.reason);
    assert_non_null(strstr(err.reason, "RSIT"));
    write_conf(f, "[retention]\nscanner = 30 days\n");
    assert_int_equal(lia_retention_rules(f->s, lia__now_us(), &rules, &n, &err), LIA_EINVAL);
    assert_string_equal(err.field, "retention.scanner");
    assert_non_null(strstr(err.reason, "hours, days or weeks"));
}

static void test_bad_duration(void **state)
{
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"180x", "a retention is a number of hours, days or weeks: 36h, 180d, 12w; or a date"},
        {"", "a retention is a number of hours, days or weeks"},
        {"d", "a retention is a number of hours, days or weeks"},
        {"-5d", "a retention is a number of hours, days or weeks"},
        {"0d", "a retention of zero would remove everything"},
        {"180m", "a retention is a number of hours, days or weeks"},
        {"99999999d", "a retention is a number of hours, days or weeks"},
        {"40000d", "a retention is at most 36600 days"},
        {"2026-13-01", "not a date (YYYY-MM-DD)"},
        {"2999-01-01", "the cutoff is in the future"},
    };
    int64_t now = 1796000000000000LL, t;
    lia_error err;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lia_error_clear(&err);
        t = 42;
        if (lia_prune_cutoff("--older-than", bad[i].text, now, &t, &err) != LIA_EINVAL)
            fail_msg("%s: accepted", bad[i].text);
        assert_int_equal(t, 42);
        assert_string_equal(err.field, "--older-than");
        if (!strstr(err.reason, bad[i].why))
            fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].text, err.reason, bad[i].why);
    }
    assert_int_equal(lia_prune_cutoff("--older-than", "180d", now, &t, &err), LIA_OK);
    assert_int_equal(t, now - 180 * DAY_US);
    assert_int_equal(lia_prune_cutoff("--older-than", "12w", now, &t, &err), LIA_OK);
    assert_int_equal(t, now - 84 * DAY_US);
    assert_int_equal(lia_prune_cutoff("--older-than", "36h", now, &t, &err), LIA_OK);
    assert_int_equal(t, now - 36 * 3600000000LL);
    assert_int_equal(lia_prune_cutoff("--older-than", "2026-06-01", now, &t, &err), LIA_OK);
    assert_int_equal(t, 1780272000000000LL);
    assert_int_equal(lia_prune_cutoff("--older-than", "2026-06-01T12:00:00+02:00", now, &t, &err), LIA_OK);
    assert_int_equal(t, 1780272000000000LL + 10 * 3600000000LL);
    /* a rule of an unknown class is refused before anything is touched */
    {
        lia_prune_rule r = {NULL, "scannr", now};
        fx *f = *state;
        assert_int_equal(lia_store_prune(f->s, &r, 1, 0, NULL, &err), LIA_EINVAL);
        assert_string_equal(err.field, "classification");
    }
}

/* Killed right after the commit that removed a report (LIAISON_FAULT,
 * src/core/fault.h): its archive is still there, recorded; the next run
 * deletes it. */
static void test_prune_killed_after_commit(void **state)
{
    fx *f = *state;
    lia_error err;
    lia_prune_result res;
    char arch[LIA_PATH_MAX + 600];
    int64_t a = ingest(f, "fa", old_report), size;
    lia_prune_rule rule = {NULL, NULL, lia__now_us() - 180 * DAY_US};
    int status;
    pid_t pid;
    age(f, a, 200);
    archive_path(f, a, arch, sizeof arch);
    size = file_size(arch);
    lia_store_close(f->s);
    f->s = NULL;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lia_store *s;
        setenv("LIAISON_FAULT", "prune-committed", 1);
        if (lia_store_open(f->path, &s, &err))
            _exit(3);
        lia_store_prune(s, &rule, 1, 0, &res, &err);
        _exit(4); /* not reached: the fault point kills the process */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_int_equal(lia_store_open(f->path, &f->s, &err), LIA_OK);
    /* committed: the report and its events are gone, whole; the file is left, recorded */
    assert_int_equal(q1(f, "SELECT count(*) FROM reports"), 0);
    assert_int_equal(q1(f, "SELECT count(*) FROM events"), 0);
    assert_int_equal(q1(f, "SELECT count(*) FROM quarantine"), 0);
    assert_int_equal(q1(f, "SELECT count(*) FROM prune_archive"), 1);
    assert_int_equal(file_size(arch), size);
    assert_rollups_recount(f);
    /* the next run finishes it */
    assert_int_equal(lia_store_prune(f->s, &rule, 1, 0, &res, &err), LIA_OK);
    assert_int_equal(res.leftovers, 1);
    assert_int_equal(res.archives, 1);
    assert_int_equal(res.archive_bytes, (uint64_t)size);
    assert_int_equal(res.reports, 0);
    assert_int_equal(file_size(arch), -1);
    assert_int_equal(q1(f, "SELECT count(*) FROM prune_archive"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prune_counts_dry_run_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_keeps_report_in_progress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_incident_keeps_copies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_incidents_of_an_older_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feed_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_class_retention_per_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_duration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_killed_after_commit, setup, teardown),
    };
    return cmocka_run_group_tests_name(LIA_TEST_GROUP("prune"), tests, NULL, NULL);
}
