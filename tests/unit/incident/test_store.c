/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Incidents, hand-offs, comments and links in the store (src/incident/
 * store.c, handoff.c): every change appends exactly one audit record with
 * before and after; a refused status or hand-off change changes nothing and
 * says what is allowed; a failed create leaves nothing behind; SLA breaches
 * in the partner's time zone, paused while the incident waits on us. */
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
#include <jansson.h>

#include "liaison/liaison.h"
#include "liaison/route.h"
#include "incident/delivery.h"
#include "incident/internal.h"
#include "route/internal.h"
#include "../../pg/pg_test.h"

typedef struct fixture {
    char dir[64], path[256];
    lia_store *s;
} fixture;

static const lia_actor alice = {"alice", "cli", "local"};
static const lia_actor partner = {"cert-xx", "email", "soc@cert-xx.example"};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    lia_error err;
    snprintf(f->dir, sizeof f->dir, "/tmp/lia-inc-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(lia_test_db_path(f->dir, "i", f->path, sizeof f->path), 0);
    assert_int_equal(lia_store_open(f->path, &f->s, &err), LIA_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[200];
    lia_store_close(f->s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

typedef struct rec {
    int n;
    char last_action[32], last_object[64], last_before[512], last_after[512], last_actor[32],
        last_channel[16];
} rec;

static int collect(void *ud, const lia_audit_record *r)
{
    rec *c = ud;
    c->n++;
    snprintf(c->last_action, sizeof c->last_action, "%s", r->action);
    snprintf(c->last_object, sizeof c->last_object, "%s", r->object);
    snprintf(c->last_before, sizeof c->last_before, "%s", r->before ? r->before : "");
    snprintf(c->last_after, sizeof c->last_after, "%s", r->after ? r->after : "");
    snprintf(c->last_actor, sizeof c->last_actor, "%s", r->actor);
    snprintf(c->last_channel, sizeof c->last_channel, "%s", r->channel);
    return 0;
}

static rec audit(fixture *f)
{
    rec c;
    lia_error err;
    memset(&c, 0, sizeof c);
    assert_int_equal(lia_audit_list(f->s, NULL, collect, &c, &err), LIA_OK);
    return c;
}

static rec audit_of(fixture *f, const char *object)
{
    rec c;
    lia_error err;
    lia_audit_filter flt = {.object = object};
    memset(&c, 0, sizeof c);
    assert_int_equal(lia_audit_list(f->s, &flt, collect, &c, &err), LIA_OK);
    return c;
}

static int64_t create(fixture *f, const char *title, lia_severity sev, const char *const *rcpt, size_t n)
{
    lia_incident in = {.title = title, .severity = sev, .countries = "KH,MY", .sectors = "iot"};
    lia_error err;
    int64_t id = 0;
    if (lia_incident_create(f->s, &in, rcpt, n, NULL, 0, &alice, &id, &err) != LIA_OK)
        fail_msg("create: %s", err.reason);
    return id;
}

static void test_create_update_audit(void **state)
{
    fixture *f = *state;
    lia_incident got;
    lia_buf hold;
    lia_error err;
    const char *r[] = {"cert-xx"};
    int64_t id = create(f, "Mirai bots in KH", LIA_SEV_HIGH, r, 1);
    rec a = audit(f);
    assert_int_equal(a.n, 2); /* the incident, its hand-off */
    assert_string_equal(a.last_object, "handoff:1/cert-xx");
    lia_buf_init(&hold, 0);
    assert_int_equal(lia_incident_get(f->s, id, &got, &hold, &err), LIA_OK);
    assert_string_equal(got.title, "Mirai bots in KH");
    assert_string_equal(got.tlp, "AMBER");
    assert_int_equal(got.status, LIA_INC_NEW);
    assert_int_equal(got.severity, LIA_SEV_HIGH);

    /* a refused transition: nothing changes, nothing is recorded, the
     * message names what is allowed */
    lia_incident_change ch = LIA_INCIDENT_CHANGE_KEEP;
    ch.status = LIA_INC_RESOLVED;
    assert_int_equal(lia_incident_update(f->s, id, &ch, &alice, &err), LIA_ESTATE);
    assert_non_null(strstr(err.reason, "allowed from new: triaged, rejected, duplicate, merged"));
    assert_int_equal(audit(f).n, 2);
    assert_int_equal(lia_incident_get(f->s, id, &got, &hold, &err), LIA_OK);
    assert_int_equal(got.status, LIA_INC_NEW);

    ch.status = LIA_INC_TRIAGED;
    ch.owner = "bob";
    assert_int_equal(lia_incident_update(f->s, id, &ch, &alice, &err), LIA_OK);
    a = audit(f);
    assert_int_equal(a.n, 3);
    assert_string_equal(a.last_action, "status");
    assert_string_equal(a.last_object, "incident:1");
    assert_non_null(strstr(a.last_before, "\"status\":\"new\""));
    assert_non_null(strstr(a.last_after, "\"status\":\"triaged\""));
    assert_non_null(strstr(a.last_after, "\"owner\":\"bob\""));
    assert_string_equal(a.last_actor, "alice");

    /* merged needs another incident, which then links back */
    int64_t other = create(f, "Mirai bots in MY", LIA_SEV_HIGH, NULL, 0);
    ch = (lia_incident_change)LIA_INCIDENT_CHANGE_KEEP;
    ch.status = LIA_INC_MERGED;
    assert_int_equal(lia_incident_update(f->s, other, &ch, &alice, &err), LIA_EINVAL);
    ch.merged_into = 999;
    assert_int_equal(lia_incident_update(f->s, other, &ch, &alice, &err), LIA_ENOTFOUND);
    ch.merged_into = id;
    assert_int_equal(lia_incident_update(f->s, other, &ch, &alice, &err), LIA_OK);
    assert_int_equal(lia_incident_get(f->s, other, &got, &hold, &err), LIA_OK);
    assert_int_equal(got.merged_into, id);
    ch = (lia_incident_change)LIA_INCIDENT_CHANGE_KEEP;
    ch.status = LIA_INC_TRIAGED;
    assert_int_equal(lia_incident_update(f->s, other, &ch, &alice, &err), LIA_ESTATE);
    assert_non_null(strstr(err.reason, "none (it is final)"));

    /* bad input is refused with the field named */
    lia_incident bad = {.title = ""};
    assert_int_equal(lia_incident_create(f->s, &bad, NULL, 0, NULL, 0, &alice, NULL, &err), LIA_EINVAL);
    assert_string_equal(err.field, "title");
    bad.title = "x";
    bad.tlp = "PINK";
    assert_int_equal(lia_incident_create(f->s, &bad, NULL, 0, NULL, 0, &alice, NULL, &err), LIA_EINVAL);
    assert_int_equal(lia_incident_get(f->s, 999, &got, &hold, &err), LIA_ENOTFOUND);
    lia_buf_free(&hold);
}

static int count_inc(void *ud, const lia_incident *i)
{
    (*(int *)ud)++;
    (void)i;
    return 0;
}

/* A create with a bad recipient leaves no incident and no audit record. */
static void test_create_all_or_nothing(void **state)
{
    fixture *f = *state;
    lia_incident in = {.title = "t", .severity = LIA_SEV_LOW};
    const char *r[] = {"cert-xx", "Bad Id"};
    lia_error err;
    int64_t id;
    int n = 0;
    assert_int_equal(lia_incident_create(f->s, &in, r, 2, NULL, 0, &alice, &id, &err), LIA_EINVAL);
    assert_string_equal(err.field, "recipient");
    assert_int_equal(audit(f).n, 0);
    lia_incident_filter fl = {.status = -1, .severity = -1};
    assert_int_equal(lia_incident_list(f->s, &fl, count_inc, &n, &err), LIA_OK);
    assert_int_equal(n, 0);
}

static void test_list_comment_link(void **state)
{
    fixture *f = *state;
    lia_error err;
    int n = 0;
    create(f, "a", LIA_SEV_LOW, NULL, 0);
    int64_t b = create(f, "b", LIA_SEV_CRITICAL, NULL, 0);
    lia_incident_filter fl = {.status = -1, .severity = LIA_SEV_CRITICAL};
    assert_int_equal(lia_incident_list(f->s, &fl, count_inc, &n, &err), LIA_OK);
    assert_int_equal(n, 1);
    n = 0;
    fl = (lia_incident_filter){.status = -1, .severity = -1, .country = "my"};
    assert_int_equal(lia_incident_list(f->s, &fl, count_inc, &n, &err), LIA_OK);
    assert_int_equal(n, 2);
    n = 0;
    fl.country = "DE";
    assert_int_equal(lia_incident_list(f->s, &fl, count_inc, &n, &err), LIA_OK);
    assert_int_equal(n, 0);

    int64_t cid;
    assert_int_equal(lia_incident_comment(f->s, b, "shared:cert-xx", "please check", &alice, &cid, &err),
                     LIA_OK);
    assert_int_equal(lia_incident_comment(f->s, b, "public", "x", &alice, &cid, &err), LIA_EINVAL);
    assert_int_equal(lia_incident_comment(f->s, 99, "internal", "x", &alice, &cid, &err), LIA_ENOTFOUND);
    assert_int_equal(lia_incident_link(f->s, b, "event", "42", &alice, &err), LIA_OK);
    assert_int_equal(lia_incident_link(f->s, b, "event", "42", &alice, &err), LIA_EEXIST);
    assert_int_equal(lia_incident_link(f->s, b, "photo", "x", &alice, &err), LIA_EINVAL);
    rec a = audit(f);
    assert_int_equal(a.n, 4);
    assert_string_equal(a.last_action, "link");
}

typedef struct links {
    int n;
    char all[512];
} links;

static int collect_link(void *ud, const lia_link *l)
{
    links *x = ud;
    size_t k = strlen(x->all);
    snprintf(x->all + k, sizeof x->all - k, "%s:%s ", l->kind, l->ref);
    x->n++;
    return 0;
}

/* Merging keeps every link: the merged incident's events, indicators and
 * incidents are linked to the one that goes on (once), and its audit log
 * records how many were copied. */
static void test_merge_keeps_links(void **state)
{
    fixture *f = *state;
    lia_error err;
    int64_t a = create(f, "a", LIA_SEV_LOW, NULL, 0), b = create(f, "b", LIA_SEV_LOW, NULL, 0);
    int64_t c = create(f, "c", LIA_SEV_LOW, NULL, 0);
    char cref[24];
    snprintf(cref, sizeof cref, "%lld", (long long)c);
    assert_int_equal(lia_incident_link(f->s, a, "event", "7", &alice, &err), LIA_OK);
    assert_int_equal(lia_incident_link(f->s, a, "event", "8", &alice, &err), LIA_OK);
    assert_int_equal(lia_incident_link(f->s, a, "indicator", "evil.example", &alice, &err), LIA_OK);
    assert_int_equal(lia_incident_link(f->s, a, "incident", cref, &alice, &err), LIA_OK);
    assert_int_equal(lia_incident_link(f->s, b, "event", "8", &alice, &err), LIA_OK); /* b had it */
    lia_incident_change ch = LIA_INCIDENT_CHANGE_KEEP;
    ch.status = LIA_INC_MERGED;
    ch.merged_into = b;
    assert_int_equal(lia_incident_update(f->s, a, &ch, &alice, &err), LIA_OK);
    links l = {0, ""};
    assert_int_equal(lia_incident_links(f->s, b, collect_link, &l, &err), LIA_OK);
    char want[64];
    snprintf(want, sizeof want, "incident:%lld ", (long long)a);
    assert_non_null(strstr(l.all, want));
    assert_non_null(strstr(l.all, "event:7 "));
    assert_non_null(strstr(l.all, "event:8 "));
    assert_non_null(strstr(l.all, "indicator:evil.example "));
    snprintf(want, sizeof want, "incident:%s ", cref);
    assert_non_null(strstr(l.all, want));
    assert_int_equal(l.n, 5); /* event 8 once */
    char obj[32];
    snprintf(obj, sizeof obj, "incident:%lld", (long long)b);
    rec r = audit_of(f, obj);
    assert_string_equal(r.last_action, "merge-in");
    assert_non_null(strstr(r.last_after, "\"links_copied\":3")); /* 7, the indicator, c */
    /* the merged incident keeps its own links too */
    l = (links){0, ""};
    assert_int_equal(lia_incident_links(f->s, a, collect_link, &l, &err), LIA_OK);
    assert_int_equal(l.n, 4);
}

static void test_handoffs(void **state)
{
    fixture *f = *state;
    lia_error err;
    const char *r[] = {"cert-xx", "owner-a"};
    int64_t id = create(f, "x", LIA_SEV_MEDIUM, r, 2);
    assert_int_equal(lia_handoff_add(f->s, id, "cert-xx", &alice, &err), LIA_EEXIST);
    /* pending cannot be acknowledged: the refusal names what is allowed */
    assert_int_equal(lia_handoff_set(f->s, id, "cert-xx", LIA_HO_ACKNOWLEDGED, NULL, &partner, &err),
                     LIA_ESTATE);
    assert_non_null(strstr(err.reason, "allowed from pending: notified, withdrawn"));
    assert_int_equal(lia_handoff_set(f->s, id, "cert-xx", LIA_HO_NOTIFIED, NULL, &alice, &err), LIA_OK);
    assert_int_equal(lia_handoff_set(f->s, id, "cert-xx", LIA_HO_ACKNOWLEDGED, NULL, &partner, &err), LIA_OK);
    rec a = audit(f);
    assert_string_equal(a.last_object, "handoff:1/cert-xx");
    assert_string_equal(a.last_action, "acknowledged");
    assert_string_equal(a.last_actor, "cert-xx");
    assert_string_equal(a.last_channel, "email");
    assert_string_equal(a.last_before, "{\"state\":\"notified\"}");
    assert_int_equal(lia_handoff_set(f->s, id, "owner-a", LIA_HO_NOTIFIED, NULL, &alice, &err), LIA_OK);
    assert_int_equal(lia_handoff_set(f->s, id, "owner-a", LIA_HO_REJECTED, NULL, &alice, &err), LIA_EINVAL);
    assert_int_equal(lia_handoff_set(f->s, id, "owner-a", LIA_HO_REJECTED, "not our network", &alice, &err),
                     LIA_OK);
    assert_int_equal(lia_handoff_set(f->s, id, "nobody", LIA_HO_NOTIFIED, NULL, &alice, &err), LIA_ENOTFOUND);
    a = audit_of(f, "handoff:1/owner-a");
    assert_non_null(strstr(a.last_after, "not our network"));
}

static lia_incident_status status_of(fixture *f, int64_t id)
{
    lia_incident inc;
    lia_buf hold;
    lia_error err;
    lia_buf_init(&hold, 0);
    assert_int_equal(lia_incident_get(f->s, id, &inc, &hold, &err), LIA_OK);
    lia_buf_free(&hold);
    return inc.status;
}

static void set(fixture *f, int64_t id, const char *r, lia_handoff_state to, const char *reason)
{
    lia_error err;
    if (lia_handoff_set(f->s, id, r, to, reason, &partner, &err) != LIA_OK)
        fail_msg("%s -> %s: %s", r, lia_handoff_state_name(to), err.reason);
}

/* The one rule of src/incident/follow.c, pure. */
static void test_derived(void **state)
{
    (void)state;
    /* counts: pending, notified, acknowledged, resolved, rejected, withdrawn */
    assert_int_equal(lia__incident_derived((uint64_t[]){0, 0, 0, 0, 0, 0}), LIA_INC_NEW);
    assert_int_equal(lia__incident_derived((uint64_t[]){2, 0, 0, 0, 0, 0}), LIA_INC_NEW);
    assert_int_equal(lia__incident_derived((uint64_t[]){1, 1, 0, 0, 0, 0}), LIA_INC_NOTIFIED);
    /* one not even told yet */
    assert_int_equal(lia__incident_derived((uint64_t[]){1, 0, 1, 0, 0, 0}), LIA_INC_NOTIFIED);
    assert_int_equal(lia__incident_derived((uint64_t[]){0, 0, 1, 1, 1, 1}), LIA_INC_ACKNOWLEDGED);
    assert_int_equal(lia__incident_derived((uint64_t[]){0, 0, 0, 2, 1, 0}), LIA_INC_RESOLVED);
    assert_int_equal(lia__incident_derived((uint64_t[]){0, 1, 0, 5000, 0, 0}), LIA_INC_NOTIFIED);
    /* nobody left: nothing to follow */
    assert_int_equal(lia__incident_derived((uint64_t[]){0, 0, 0, 0, 1, 1}), LIA_INC_NEW);
}

/* The incident's status follows its hand-offs: forward only, through the
 * transition table, one automatic audit record per step; an analyst's
 * status stands until an answer takes it further; a final one never moves. */
static void test_follow(void **state)
{
    fixture *f = *state;
    lia_error err;
    const char *r[] = {"cert-aa", "cert-bb", "cert-cc"};
    int64_t id = create(f, "x", LIA_SEV_HIGH, r, 3);
    char obj[32];
    snprintf(obj, sizeof obj, "incident:%lld", (long long)id);
    assert_int_equal(status_of(f, id), LIA_INC_NEW);
    set(f, id, "cert-aa", LIA_HO_NOTIFIED, NULL);
    /* new -> triaged -> notified: two automatic records */
    assert_int_equal(status_of(f, id), LIA_INC_NOTIFIED);
    rec a = audit_of(f, obj);
    assert_int_equal(a.n, 3); /* create, triaged, notified */
    assert_string_equal(a.last_action, "status");
    assert_string_equal(a.last_actor, "liaison");
    assert_string_equal(a.last_channel, "auto");
    assert_non_null(strstr(a.last_before, "\"status\":\"triaged\""));
    assert_non_null(strstr(a.last_after, "\"status\":\"notified\""));
    assert_non_null(strstr(a.last_after, "\"cause\":\"handoff:1/cert-aa notified\""));
    set(f, id, "cert-aa", LIA_HO_ACKNOWLEDGED, NULL);
    assert_int_equal(status_of(f, id), LIA_INC_NOTIFIED); /* bb, cc still pending */
    assert_int_equal(audit_of(f, obj).n, 3);
    set(f, id, "cert-bb", LIA_HO_NOTIFIED, NULL);
    set(f, id, "cert-cc", LIA_HO_NOTIFIED, NULL);
    set(f, id, "cert-bb", LIA_HO_ACKNOWLEDGED, NULL);
    assert_int_equal(status_of(f, id), LIA_INC_NOTIFIED);
    set(f, id, "cert-cc", LIA_HO_REJECTED, "not ours");
    assert_int_equal(status_of(f, id), LIA_INC_ACKNOWLEDGED); /* cc is out: every live one acked */
    a = audit_of(f, obj);
    assert_int_equal(a.n, 4);
    assert_non_null(strstr(a.last_after, "handoff:1/cert-cc rejected"));
    set(f, id, "cert-aa", LIA_HO_RESOLVED, NULL);
    assert_int_equal(status_of(f, id), LIA_INC_ACKNOWLEDGED);
    set(f, id, "cert-bb", LIA_HO_RESOLVED, NULL);
    assert_int_equal(status_of(f, id), LIA_INC_RESOLVED);
    assert_int_equal(audit_of(f, obj).n, 5);
    /* the analyst reopens (resolved -> mitigating) and sends bb's again: the
     * notified hand-off calls for less than mitigating, which stands */
    lia_incident_change ch = LIA_INCIDENT_CHANGE_KEEP;
    ch.status = LIA_INC_MITIGATING;
    assert_int_equal(lia_incident_update(f->s, id, &ch, &alice, &err), LIA_OK);
    set(f, id, "cert-bb", LIA_HO_NOTIFIED, NULL);
    assert_int_equal(status_of(f, id), LIA_INC_MITIGATING);
    set(f, id, "cert-bb", LIA_HO_RESOLVED, NULL);
    assert_int_equal(status_of(f, id), LIA_INC_RESOLVED); /* the answer takes it further */
    /* closed is final for the rule */
    ch.status = LIA_INC_CLOSED;
    assert_int_equal(lia_incident_update(f->s, id, &ch, &alice, &err), LIA_OK);
    set(f, id, "cert-cc", LIA_HO_NOTIFIED, NULL);
    set(f, id, "cert-cc", LIA_HO_RESOLVED, NULL);
    assert_int_equal(status_of(f, id), LIA_INC_CLOSED);
    /* every hand-off withdrawn: nothing to follow */
    int64_t id2 = create(f, "y", LIA_SEV_LOW, r, 1);
    assert_int_equal(lia_handoff_set(f->s, id2, "cert-aa", LIA_HO_WITHDRAWN, NULL, &alice, &err), LIA_OK);
    assert_int_equal(status_of(f, id2), LIA_INC_NEW);
}

typedef struct bctx {
    int n;
    char clock[16], tz[64];
    int64_t due;
} bctx;

static int breach(void *ud, const lia_sla_breach *b)
{
    bctx *c = ud;
    c->n++;
    snprintf(c->clock, sizeof c->clock, "%s", b->clock);
    snprintf(c->tz, sizeof c->tz, "%s", b->tz);
    c->due = b->due_us;
    return 0;
}

static void test_sla_breaches(void **state)
{
    fixture *f = *state;
    lia_error err;
    lia_party p;
    lia_party_init(&p, LIA_PARTY_PARTNER);
    assert_int_equal(lia_party_set_id(&p, "cert-xx", 7, &err), LIA_OK);
    assert_int_equal(lia_party_add(&p, LIA_PF_COUNTRIES, "KH", 2, 0, &err), LIA_OK);
    assert_int_equal(lia_party_add(&p, LIA_PF_CONTACTS, "soc@cert-xx.example", 19, 0, &err), LIA_OK);
    assert_int_equal(lia_party_add(&p, LIA_PF_TIMEZONE, "Asia/Phnom_Penh", 15, 0, &err), LIA_OK);
    assert_int_equal(lia__party_put(f->s, &p, &err), LIA_OK);
    lia_party_free(&p);
    const char *r[] = {"cert-xx"};
    int64_t id = create(f, "x", LIA_SEV_CRITICAL, r, 1);
    int64_t now = (int64_t)time(NULL) * 1000000;
    bctx c = {0};
    assert_int_equal(lia_sla_breaches(f->s, now + 30ll * 86400 * 1000000, NULL, breach, &c, &err), LIA_OK);
    assert_int_equal(c.n, 0); /* pending: no clock runs yet */
    assert_int_equal(lia_handoff_set(f->s, id, "cert-xx", LIA_HO_NOTIFIED, NULL, &alice, &err), LIA_OK);
    assert_int_equal(lia_sla_breaches(f->s, now, NULL, breach, &c, &err), LIA_OK);
    assert_int_equal(c.n, 0); /* just notified */
    assert_int_equal(lia_sla_breaches(f->s, now + 30ll * 86400 * 1000000, NULL, breach, &c, &err), LIA_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.clock, "acknowledge");
    assert_string_equal(c.tz, "Asia/Phnom_Penh");
    assert_true(c.due > now && c.due < now + 4ll * 86400 * 1000000); /* 1 business hour: within 4 days */
    /* waiting on us: the clock stops, no breach however late */
    lia_incident_change ch = LIA_INCIDENT_CHANGE_KEEP;
    ch.waiting = 1;
    assert_int_equal(lia_incident_update(f->s, id, &ch, &alice, &err), LIA_OK);
    c.n = 0;
    assert_int_equal(lia_sla_breaches(f->s, now + 30ll * 86400 * 1000000, NULL, breach, &c, &err), LIA_OK);
    assert_int_equal(c.n, 0);
    assert_string_equal(audit(f).last_action, "wait");
    /* acknowledged: the resolve clock */
    ch.waiting = 0;
    assert_int_equal(lia_incident_update(f->s, id, &ch, &alice, &err), LIA_OK);
    assert_int_equal(lia_handoff_set(f->s, id, "cert-xx", LIA_HO_ACKNOWLEDGED, NULL, &partner, &err), LIA_OK);
    c.n = 0;
    assert_int_equal(lia_sla_breaches(f->s, now + 30ll * 86400 * 1000000, NULL, breach, &c, &err), LIA_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.clock, "resolve");
}

/* A recipient's own calendar and targets from the directory: an owner in
 * Riyadh working Sunday to Thursday 08:00-16:00, a holiday, and 2 business
 * hours to acknowledge a critical incident. */
static void test_recipient_calendar(void **state)
{
    fixture *f = *state;
    lia_error err;
    lia_party p;
    int64_t at, want;
    const char *why = NULL;
    lia_party_init(&p, LIA_PARTY_OWNER);
    assert_int_equal(lia_party_set_id(&p, "isp-gulf", 8, &err), LIA_OK);
    assert_int_equal(lia_party_add(&p, LIA_PF_CONTACTS, "noc@gulf.example", 16, 0, &err), LIA_OK);
    assert_int_equal(lia_party_add(&p, LIA_PF_ASNS, "64511", 5, 0, &err), LIA_OK);
    assert_int_equal(lia_party_add(&p, LIA_PF_TIMEZONE, "Asia/Riyadh", 11, 0, &err), LIA_OK);
    assert_int_equal(lia_party_add(&p, LIA_PF_HOURS, "sun-thu 08:00-16:00", 19, 0, &err), LIA_OK);
    assert_string_equal(lia_party_get(&p, LIA_PF_HOURS), "Mon,Tue,Wed,Thu,Sun 08:00-16:00");
    assert_int_equal(lia_party_add(&p, LIA_PF_HOLIDAYS, "2027-01-10", 10, 0, &err), LIA_OK);
    assert_int_equal(lia_party_add(&p, LIA_PF_SLA, "critical=2h/12h", 15, 0, &err), LIA_OK);
    assert_string_equal(lia_party_get(&p, LIA_PF_SLA), "critical=7200s/43200s");
    assert_int_equal(lia__party_put(f->s, &p, &err), LIA_OK);
    /* what the directory refuses, and says why (after the store has it:
     * replace clears the field) */
    assert_int_equal(lia_party_add(&p, LIA_PF_HOURS, "Mon-Fri 17:00-09:00", 19, 1, &err), LIA_EINVAL);
    assert_non_null(strstr(err.reason, "close after they open"));
    assert_int_equal(lia_party_add(&p, LIA_PF_HOURS, "weekdays", 8, 1, &err), LIA_EINVAL);
    assert_int_equal(lia_party_add(&p, LIA_PF_HOLIDAYS, "2027-02-29", 10, 0, &err), LIA_EINVAL);
    assert_int_equal(lia_party_add(&p, LIA_PF_SLA, "urgent=1h/2h", 12, 0, &err), LIA_EINVAL);
    assert_int_equal(lia_party_add(&p, LIA_PF_SLA, "high=0h/2h", 10, 0, &err), LIA_EINVAL);
    lia_party_free(&p);
    const char *r[] = {"isp-gulf"};
    int64_t id = create(f, "x", LIA_SEV_CRITICAL, r, 1);
    /* notified Thursday 2027-01-07 15:00 in Riyadh (12:00 UTC): one hour
     * that day, Friday and Saturday off, Sunday a holiday, the second hour
     * Monday 08:00-09:00 local, due 06:00 UTC */
    assert_int_equal(lia_parse_time("2027-01-07T12:00:00Z", 20, &at, &why), LIA_OK);
    assert_int_equal(lia_parse_time("2027-01-11T06:00:00Z", 20, &want, &why), LIA_OK);
    assert_int_equal(lia__handoff_set_at(f->s, id, "isp-gulf", LIA_HO_NOTIFIED, NULL, NULL, &alice, at, &err),
                     LIA_OK);
    bctx c = {0};
    assert_int_equal(lia_sla_breaches(f->s, want + 1000000, NULL, breach, &c, &err), LIA_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.tz, "Asia/Riyadh");
    assert_int_equal(c.due, want);
    c.n = 0;
    assert_int_equal(lia_sla_breaches(f->s, want - 1000000, NULL, breach, &c, &err), LIA_OK);
    assert_int_equal(c.n, 0); /* a second before: not yet */
}

typedef struct ids {
    int64_t v[16];
    int n;
} ids;

static int collect_id(void *ud, const lia_incident *inc)
{
    ids *c = ud;
    if (c->n < 16)
        c->v[c->n++] = inc->id;
    return 0;
}

/* after_id pages in id order; recipient selects the incidents handed off
 * to it, not those whose hand-off to it was withdrawn */
static void test_list_after_recipient(void **state)
{
    fixture *f = *state;
    lia_error err;
    const char *x[] = {"cert-xx"}, *y[] = {"cert-yy"};
    int64_t a = create(f, "a", LIA_SEV_LOW, x, 1), b = create(f, "b", LIA_SEV_LOW, y, 1);
    int64_t c = create(f, "c", LIA_SEV_LOW, x, 1), d = create(f, "d", LIA_SEV_LOW, NULL, 0);
    ids got = {{0}, 0};
    lia_incident_filter fl = {.status = -1, .severity = -1, .after_id = a, .limit = 2};
    assert_int_equal(lia_incident_list(f->s, &fl, collect_id, &got, &err), LIA_OK);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.v[0], b);
    assert_int_equal(got.v[1], c);
    got.n = 0;
    fl = (lia_incident_filter){.status = -1, .severity = -1, .after_id = d};
    assert_int_equal(lia_incident_list(f->s, &fl, collect_id, &got, &err), LIA_OK);
    assert_int_equal(got.n, 0);
    fl = (lia_incident_filter){.status = -1, .severity = -1, .recipient = "cert-xx"};
    assert_int_equal(lia_incident_list(f->s, &fl, collect_id, &got, &err), LIA_OK);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.v[0], a);
    assert_int_equal(got.v[1], c);
    assert_int_equal(lia_handoff_set(f->s, c, "cert-xx", LIA_HO_WITHDRAWN, NULL, &alice, &err), LIA_OK);
    got.n = 0;
    assert_int_equal(lia_incident_list(f->s, &fl, collect_id, &got, &err), LIA_OK);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.v[0], a);
}

static int first_handoff(void *ud, const lia_handoff *h)
{
    lia_handoff *out = ud;
    *out = *h;
    out->recipient = out->reason = out->by = out->channel = NULL;
    return 1;
}

/* One hand-off's clock, as lia_sla_breaches counts it */
static void test_handoff_clock(void **state)
{
    fixture *f = *state;
    lia_error err;
    lia_incident inc;
    lia_handoff h;
    lia_handoff_clock k;
    lia_buf hold;
    const char *r[] = {"cert-xx"};
    int64_t id = create(f, "x", LIA_SEV_HIGH, r, 1);
    int64_t now = (int64_t)time(NULL) * 1000000;
    lia_buf_init(&hold, 0);
    assert_int_equal(lia_incident_get(f->s, id, &inc, &hold, &err), LIA_OK);
    assert_int_equal(lia_handoff_list(f->s, id, -1, "cert-xx", first_handoff, &h, &err), LIA_OK);
    h.recipient = "cert-xx";
    assert_int_equal(lia_handoff_clock_get(f->s, &inc, &h, now, NULL, &k, &err), LIA_OK);
    assert_null(k.clock); /* pending */
    assert_int_equal(lia_handoff_set(f->s, id, "cert-xx", LIA_HO_NOTIFIED, NULL, &alice, &err), LIA_OK);
    assert_int_equal(lia_incident_get(f->s, id, &inc, &hold, &err), LIA_OK);
    assert_int_equal(lia_handoff_list(f->s, id, -1, "cert-xx", first_handoff, &h, &err), LIA_OK);
    h.recipient = "cert-xx";
    assert_int_equal(lia_handoff_clock_get(f->s, &inc, &h, now + 30ll * 86400 * 1000000, NULL, &k, &err),
                     LIA_OK);
    assert_string_equal(k.clock, "acknowledge");
    assert_int_equal(k.target, 4 * 3600); /* high: 4 business hours */
    assert_true(k.breached);
    assert_true(k.used > k.target);
    assert_int_equal(k.start_us, h.notified_us);
    assert_string_equal(k.tz, "UTC"); /* no directory entry */
    /* the same deadline as the breach list says */
    bctx c = {0};
    assert_int_equal(lia_sla_breaches(f->s, now + 30ll * 86400 * 1000000, NULL, breach, &c, &err), LIA_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.due, k.due_us);
    /* a resolved incident runs no clock */
    inc.status = LIA_INC_RESOLVED;
    assert_int_equal(lia_handoff_clock_get(f->s, &inc, &h, now, NULL, &k, &err), LIA_OK);
    assert_null(k.clock);
    lia_buf_free(&hold);
}

/* ---- the SLA state recomputed from the audit log alone (issue 15 point 6) ---- */

typedef struct replay {
    lia_severity sev;
    int waiting;
    lia_interval pauses[16];
    size_t np;
    lia_handoff_state state;
    int64_t notified_s, acked_s;
} replay;

/* Fold one record of incident:ID or handoff:ID/R into what it says. */
static int replay_cb(void *ud, const lia_audit_record *r)
{
    replay *p = ud;
    int64_t at = r->at_us / 1000000;
    if (strncmp(r->object, "incident:", 9) == 0) {
        json_t *a = r->after ? json_loads(r->after, 0, NULL) : NULL;
        const char *sev = json_string_value(json_object_get(a, "severity"));
        json_t *w = json_object_get(a, "waiting");
        if (sev)
            assert_int_equal(lia_severity_parse(sev, &p->sev, NULL), LIA_OK);
        if (json_is_boolean(w) && json_is_true(w) != p->waiting) {
            p->waiting = json_is_true(w);
            if (p->waiting)
                p->pauses[p->np++] = (lia_interval){at, INT64_MAX};
            else
                p->pauses[p->np - 1].to = at;
        }
        json_decref(a);
    } else if (strcmp(r->action, "create") != 0) {
        assert_int_equal(lia_handoff_state_parse(r->action, &p->state, NULL), LIA_OK);
        if (p->state == LIA_HO_NOTIFIED)
            p->notified_s = at;
        if (p->state == LIA_HO_ACKNOWLEDGED)
            p->acked_s = at;
    }
    return 0;
}

/* The clock of handoff id/cert-zz at now_us from the audit records only:
 * the severity, the waits on us, when it was notified and acknowledged;
 * office hours in UTC (cert-zz is in no directory) and the default targets. */
static void clock_from_audit(fixture *f, int64_t id, int64_t now_us, lia_sla_clock *c, int *runs)
{
    char obj[64];
    replay p;
    lia_audit_filter flt = {0};
    lia_sla_policy pol = lia__sla_policy_default();
    lia_calendar cal = lia__calendar_office(NULL);
    lia_interval pauses[16];
    size_t np = 0;
    lia_error err;
    memset(&p, 0, sizeof p);
    snprintf(obj, sizeof obj, "incident:%lld", (long long)id);
    flt.object = obj;
    assert_int_equal(lia_audit_list(f->s, &flt, replay_cb, &p, &err), LIA_OK);
    snprintf(obj, sizeof obj, "handoff:%lld/cert-zz", (long long)id);
    assert_int_equal(lia_audit_list(f->s, &flt, replay_cb, &p, &err), LIA_OK);
    for (size_t i = 0; i < p.np; i++) /* as the store keeps them: whole seconds, none empty */
        if (p.pauses[i].to > p.pauses[i].from)
            pauses[np++] = p.pauses[i];
    *runs = p.state == LIA_HO_NOTIFIED || p.state == LIA_HO_ACKNOWLEDGED;
    if (!*runs)
        return;
    assert_int_equal(lia__sla_eval(&cal, p.state == LIA_HO_NOTIFIED ? p.notified_s : p.acked_s,
                                   p.state == LIA_HO_NOTIFIED ? pol.ack[p.sev] : pol.resolve[p.sev], pauses,
                                   np, now_us / 1000000, c, &err),
                     LIA_OK);
}

/* The store's clock and the replayed one agree (to the second: a record
 * and the row it describes are stamped a few microseconds apart). */
static void same_clock(fixture *f, int64_t id, int64_t now_us)
{
    lia_incident inc;
    lia_handoff h;
    lia_handoff_clock k;
    lia_sla_clock c;
    lia_buf hold;
    lia_error err;
    int runs;
    lia_buf_init(&hold, 0);
    assert_int_equal(lia_incident_get(f->s, id, &inc, &hold, &err), LIA_OK);
    assert_int_equal(lia_handoff_list(f->s, id, -1, "cert-zz", first_handoff, &h, &err), LIA_OK);
    h.recipient = "cert-zz";
    assert_int_equal(lia_handoff_clock_get(f->s, &inc, &h, now_us, NULL, &k, &err), LIA_OK);
    clock_from_audit(f, id, now_us, &c, &runs);
    assert_int_equal(runs, k.clock != NULL);
    if (runs) {
        if (llabs(c.used - k.used) > 1)
            fail_msg("used: replayed %lld, store %lld", (long long)c.used, (long long)k.used);
        if ((c.due == INT64_MAX) != (k.due_us == INT64_MAX) ||
            (c.due != INT64_MAX && llabs(c.due - k.due_us / 1000000) > 1))
            fail_msg("due: replayed %lld, store %lld", (long long)c.due, (long long)k.due_us);
        assert_int_equal(c.paused, k.paused);
        assert_int_equal(c.breached, k.breached);
    }
    lia_buf_free(&hold);
}

static void test_sla_from_audit(void **state)
{
    fixture *f = *state;
    const char *r[] = {"cert-zz"};
    const int64_t day = 86400ll * 1000000;
    lia_incident_change ch = LIA_INCIDENT_CHANGE_KEEP;
    lia_error err;
    int64_t id = create(f, "replayed", LIA_SEV_LOW, r, 1), now = (int64_t)time(NULL) * 1000000;
    same_clock(f, id, now); /* pending: no clock */
    assert_int_equal(lia_handoff_set(f->s, id, "cert-zz", LIA_HO_NOTIFIED, NULL, &alice, &err), LIA_OK);
    for (int d = 0; d <= 9; d += 3) /* across a weekend whatever today is */
        same_clock(f, id, now + d * day);
    ch.waiting = 1; /* waits on us: paused */
    assert_int_equal(lia_incident_update(f->s, id, &ch, &alice, &err), LIA_OK);
    same_clock(f, id, now + 2 * day);
    sleep(2); /* a wait of whole seconds */
    ch.waiting = 0;
    ch.severity = LIA_SEV_CRITICAL; /* another target */
    assert_int_equal(lia_incident_update(f->s, id, &ch, &alice, &err), LIA_OK);
    for (int d = 0; d <= 9; d += 3)
        same_clock(f, id, now + d * day);
    assert_int_equal(lia_handoff_set(f->s, id, "cert-zz", LIA_HO_ACKNOWLEDGED, NULL, &partner, &err), LIA_OK);
    for (int d = 1; d <= 30; d += 7) /* the resolve clock, breached at the end */
        same_clock(f, id, now + d * day);
    assert_int_equal(lia_handoff_set(f->s, id, "cert-zz", LIA_HO_RESOLVED, NULL, &partner, &err), LIA_OK);
    same_clock(f, id, now + day); /* no clock */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_update_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_comment_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handoffs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_keeps_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sla_breaches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recipient_calendar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_after_recipient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sla_from_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handoff_clock, setup, teardown),
        cmocka_unit_test(test_derived),
        cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
    };
    if (lia_test_pg())
        return cmocka_run_group_tests_name("incident store on PostgreSQL", tests, NULL, NULL);
    return cmocka_run_group_tests_name("incident store", tests, NULL, NULL);
}
