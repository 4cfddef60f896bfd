/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Incident statuses and hand-off states (src/incident/status.c): every
 * allowed and every refused transition against an expectation written out
 * here, and the refusal naming what is allowed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/incident.h"
#include "incident/internal.h"

/* From each status, the statuses it may become (space-separated). */
static const char *const allowed_status[LIA_INC__COUNT] = {
    [LIA_INC_NEW] = "triaged rejected duplicate merged",
    [LIA_INC_TRIAGED] = "notified mitigating resolved rejected duplicate merged",
    [LIA_INC_NOTIFIED] = "acknowledged mitigating resolved rejected duplicate merged",
    [LIA_INC_ACKNOWLEDGED] = "mitigating resolved duplicate merged",
    [LIA_INC_MITIGATING] = "resolved merged",
    [LIA_INC_RESOLVED] = "mitigating closed",
    [LIA_INC_CLOSED] = "triaged",
    [LIA_INC_REJECTED] = "triaged",
    [LIA_INC_DUPLICATE] = "triaged",
    [LIA_INC_MERGED] = "",
};

static const char *const allowed_handoff[LIA_HO__COUNT] = {
    [LIA_HO_PENDING] = "notified withdrawn",
    [LIA_HO_NOTIFIED] = "acknowledged resolved rejected withdrawn",
    [LIA_HO_ACKNOWLEDGED] = "resolved rejected withdrawn",
    [LIA_HO_RESOLVED] = "notified",
    [LIA_HO_REJECTED] = "notified",
    [LIA_HO_WITHDRAWN] = "",
};

static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return 1;
    return 0;
}

static void test_every_incident_transition(void **state)
{
    int allowed = 0, refused = 0;
    (void)state;
    for (int f = 0; f < LIA_INC__COUNT; f++) {
        for (int t = 0; t < LIA_INC__COUNT; t++) {
            const char *fn = lia_incident_status_name((lia_incident_status)f);
            const char *tn = lia_incident_status_name((lia_incident_status)t);
            int want = listed(allowed_status[f], tn);
            lia_error err;
            lia_error_clear(&err);
            int rc = lia__incident_transition((lia_incident_status)f, (lia_incident_status)t, &err);
            assert_int_equal(lia__incident_can((lia_incident_status)f, (lia_incident_status)t), want);
            if (want) {
                if (rc != LIA_OK)
                    fail_msg("%s -> %s refused: %s", fn, tn, err.reason);
                allowed++;
                continue;
            }
            if (rc != LIA_ESTATE)
                fail_msg("%s -> %s allowed", fn, tn);
            refused++;
            /* the refusal says what is allowed from here, every one of them */
            char want_prefix[96];
            snprintf(want_prefix, sizeof want_prefix, "allowed from %s: ", fn);
            assert_non_null(strstr(err.reason, want_prefix));
            assert_string_equal(err.value, tn);
            for (int a = 0; a < LIA_INC__COUNT; a++) {
                const char *an = lia_incident_status_name((lia_incident_status)a);
                const char *list = strstr(err.reason, want_prefix) + strlen(want_prefix);
                if (listed(allowed_status[f], an) && !strstr(list, an))
                    fail_msg("%s -> %s: refusal \"%s\" does not name %s", fn, tn, err.reason, an);
            }
            if (!*allowed_status[f])
                assert_non_null(strstr(err.reason, "none (it is final)"));
        }
    }
    assert_int_equal(allowed + refused, LIA_INC__COUNT * LIA_INC__COUNT);
    assert_int_equal(allowed, 27);
    /* out-of-range values are refused, not read past the table */
    assert_int_equal(lia__incident_can(LIA_INC__COUNT, LIA_INC_NEW), 0);
    assert_int_equal(lia__incident_can(LIA_INC_NEW, LIA_INC__COUNT), 0);
    assert_int_equal(lia__incident_transition(LIA_INC__COUNT, LIA_INC_NEW, NULL), LIA_EINVAL);
}

static void test_every_handoff_transition(void **state)
{
    int allowed = 0;
    (void)state;
    for (int f = 0; f < LIA_HO__COUNT; f++)
        for (int t = 0; t < LIA_HO__COUNT; t++) {
            const char *fn = lia_handoff_state_name((lia_handoff_state)f);
            const char *tn = lia_handoff_state_name((lia_handoff_state)t);
            int want = listed(allowed_handoff[f], tn);
            lia_error err;
            lia_error_clear(&err);
            int rc = lia__handoff_transition((lia_handoff_state)f, (lia_handoff_state)t, &err);
            if (want != (rc == LIA_OK))
                fail_msg("hand-off %s -> %s: got %d, want %s", fn, tn, rc, want ? "allowed" : "refused");
            allowed += want;
            if (!want) {
                char prefix[96];
                snprintf(prefix, sizeof prefix, "allowed from %s: ", fn);
                assert_non_null(strstr(err.reason, prefix));
            }
        }
    assert_int_equal(allowed, 11);
}

static void test_names(void **state)
{
    lia_incident_status s;
    lia_handoff_state h;
    lia_severity v;
    lia_error err;
    (void)state;
    for (int i = 0; i < LIA_INC__COUNT; i++) {
        assert_int_equal(
            lia_incident_status_parse(lia_incident_status_name((lia_incident_status)i), &s, &err), LIA_OK);
        assert_int_equal(s, i);
    }
    assert_int_equal(lia_incident_status_parse("Acknowledged", &s, &err), LIA_OK);
    assert_int_equal(s, LIA_INC_ACKNOWLEDGED);
    assert_int_equal(lia_incident_status_parse("open", &s, &err), LIA_EINVAL);
    assert_non_null(strstr(err.reason, "new, triaged, notified"));
    assert_int_equal(lia_incident_status_parse(NULL, &s, &err), LIA_EINVAL);
    assert_null(lia_incident_status_name(LIA_INC__COUNT));
    for (int i = 0; i < LIA_HO__COUNT; i++) {
        assert_int_equal(lia_handoff_state_parse(lia_handoff_state_name((lia_handoff_state)i), &h, &err),
                         LIA_OK);
        assert_int_equal(h, i);
    }
    assert_int_equal(lia_handoff_state_parse("done", &h, &err), LIA_EINVAL);
    assert_int_equal(lia_severity_parse("CRITICAL", &v, &err), LIA_OK);
    assert_int_equal(v, LIA_SEV_CRITICAL);
    assert_int_equal(lia_severity_parse("urgent", &v, &err), LIA_EINVAL);
    assert_non_null(strstr(err.reason, "low, medium, high, critical"));
    assert_true(lia__incident_is_final(LIA_INC_MERGED));
    assert_false(lia__incident_is_final(LIA_INC_RESOLVED));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_incident_transition),
        cmocka_unit_test(test_every_handoff_transition),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
