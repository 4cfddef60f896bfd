/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for the settings table (src/core/settings.c): every entry is
 * well formed and its default passes its own check; values in and out of
 * range for each type; typed reads fall back to the default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/settings.h"
#include "liaison/error.h"

static void test_table_well_formed(void **state)
{
    (void)state;
    for (const lia__setting *s = lia__settings; s->name; s++) {
        if (!s->desc || !*s->desc)
            fail_msg("%s: no description", s->name);
        if (lia__setting_find(s->scope, s->name, strlen(s->name)) != s)
            fail_msg("%s: declared twice", s->name);
        if ((s->scope == LIA_SCOPE_ENRICH) != (strchr(s->name, '.') != NULL))
            fail_msg("%s: enrichment keys are section.key, routing keys are not", s->name);
        if (s->type == LIA_SET_CHOICE && !s->choices)
            fail_msg("%s: a choice without choices", s->name);
        if (s->min > s->max)
            fail_msg("%s: min %lld > max %lld", s->name, (long long)s->min, (long long)s->max);
        if (s->dflt && s->type != LIA_SET_OWNED) {
            const char *why = NULL;
            if (lia__setting_check(s, s->dflt, strlen(s->dflt), &why) != LIA_OK)
                fail_msg("%s: default [%s] fails its own check: %s", s->name, s->dflt, why);
        }
    }
}

static void test_check(void **state)
{
    static const struct {
        lia__set_scope scope;
        const char *name, *v;
        int rc;
        int64_t value; /* for the number types */
    } cases[] = {
        {LIA_SCOPE_ROUTE, "smtp_tries", "1", LIA_OK, 1},
        {LIA_SCOPE_ROUTE, "smtp_tries", "10", LIA_OK, 10},
        {LIA_SCOPE_ROUTE, "smtp_tries", "0", LIA_EINVAL, 0},
        {LIA_SCOPE_ROUTE, "smtp_tries", "11", LIA_EINVAL, 0},
        {LIA_SCOPE_ROUTE, "smtp_tries", "3x", LIA_EINVAL, 0},
        {LIA_SCOPE_ROUTE, "smtp_tries", "", LIA_EINVAL, 0},
        {LIA_SCOPE_ROUTE, "smtp_backoff", "2s", LIA_OK, 2},
        {LIA_SCOPE_ROUTE, "smtp_backoff", "15m", LIA_OK, 900},
        {LIA_SCOPE_ROUTE, "smtp_backoff", "0", LIA_EINVAL, 0},
        {LIA_SCOPE_ROUTE, "digest_interval", "1d", LIA_OK, 86400},
        {LIA_SCOPE_ROUTE, "digest_interval", "1y", LIA_EINVAL, 0},
        {LIA_SCOPE_ROUTE, "mode", "first", LIA_OK, 0},
        {LIA_SCOPE_ROUTE, "mode", "all", LIA_OK, 1},
        {LIA_SCOPE_ROUTE, "mode", "al", LIA_EINVAL, 0},
        {LIA_SCOPE_ROUTE, "mode", "firstall", LIA_EINVAL, 0},
        {LIA_SCOPE_ROUTE, "home_country", "CN", LIA_OK, 0},
        {LIA_SCOPE_ROUTE, "home_country", "XX1", LIA_EINVAL, 0},
        {LIA_SCOPE_ROUTE, "smtp_url", "", LIA_EINVAL, 0},
        {LIA_SCOPE_ROUTE, "note", "", LIA_OK, 0},
        {LIA_SCOPE_ENRICH, "ipdata.check", "0", LIA_OK, 0},
        {LIA_SCOPE_ENRICH, "ipdata.check", "86400", LIA_OK, 86400},
        {LIA_SCOPE_ENRICH, "ipdata.check", "86401", LIA_EINVAL, 0},
        {LIA_SCOPE_ENRICH, "ipdata.check", "-1", LIA_EINVAL, 0},
        {LIA_SCOPE_ENRICH, "dedup.enabled", "off", LIA_OK, 0},
        {LIA_SCOPE_ENRICH, "dedup.enabled", "Yes", LIA_OK, 1},
        {LIA_SCOPE_ENRICH, "dedup.enabled", "maybe", LIA_EINVAL, 0},
        {LIA_SCOPE_ENRICH, "dedup.memory_keys", "999", LIA_EINVAL, 0},
        {LIA_SCOPE_ENRICH, "dedup.memory_keys", "1000", LIA_OK, 1000},
        {LIA_SCOPE_ENRICH, "dedup.memory_keys", "268435456", LIA_OK, 268435456},
        {LIA_SCOPE_ENRICH, "dedup.memory_keys", "268435457", LIA_EINVAL, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const lia__setting *s = lia__setting_find(cases[i].scope, cases[i].name, strlen(cases[i].name));
        const char *why = NULL;
        int64_t x = -7;
        int rc;
        assert_non_null(s);
        rc = lia__setting_check(s, cases[i].v, strlen(cases[i].v), &why);
        if (rc != cases[i].rc)
            fail_msg("%s = [%s]: rc %d, want %d (%s)", cases[i].name, cases[i].v, rc, cases[i].rc, why);
        if (rc)
            assert_non_null(why);
        if (rc == LIA_OK && s->type != LIA_SET_TEXT && s->type != LIA_SET_COUNTRY) {
            assert_int_equal(lia__setting_parse(s, cases[i].v, strlen(cases[i].v), &x, &why), LIA_OK);
            if (x != cases[i].value)
                fail_msg("%s = [%s]: value %lld, want %lld", cases[i].name, cases[i].v, (long long)x,
                         (long long)cases[i].value);
        }
    }
}

static void test_find_and_defaults(void **state)
{
    char keys[128];
    (void)state;
    assert_null(lia__setting_find(LIA_SCOPE_ROUTE, "colour", 6));
    assert_null(lia__setting_find(LIA_SCOPE_ROUTE, "dedup.window", 12));    /* other scope */
    assert_non_null(lia__setting_find(LIA_SCOPE_ROUTE, "smtp_triesx", 10)); /* a length, not a C string */
    assert_int_equal(lia__setting_int(LIA_SCOPE_ROUTE, "smtp_tries", NULL), 3);
    assert_int_equal(lia__setting_int(LIA_SCOPE_ROUTE, "smtp_tries", "7"), 7);
    assert_int_equal(lia__setting_int(LIA_SCOPE_ROUTE, "smtp_tries", "77"), 3); /* invalid: the default */
    assert_int_equal(lia__setting_int(LIA_SCOPE_ROUTE, "smtp_backoff", NULL), 2);
    assert_int_equal(lia__setting_int(LIA_SCOPE_ROUTE, "digest_interval", NULL), 3600);
    assert_int_equal(lia__setting_int(LIA_SCOPE_ROUTE, "mode", NULL), 0);
    assert_int_equal(lia__setting_int(LIA_SCOPE_ENRICH, "dedup.window", NULL), 86400);
    assert_int_equal(lia__setting_int(LIA_SCOPE_ENRICH, "dedup.memory_keys", NULL), 1000000);
    assert_int_equal(lia__setting_int(LIA_SCOPE_ENRICH, "ipdata.check", NULL), 5);
    assert_int_equal(lia__setting_int(LIA_SCOPE_ENRICH, "sectors.enabled", NULL), 1);
    assert_int_equal(lia__setting_int(LIA_SCOPE_ENRICH, "no.such", NULL), 0);
    assert_string_equal(lia__setting_text(LIA_SCOPE_ROUTE, "producer", NULL), "Liaison");
    assert_string_equal(lia__setting_text(LIA_SCOPE_ROUTE, "producer", "CERT"), "CERT");
    assert_null(lia__setting_text(LIA_SCOPE_ROUTE, "mail_from", NULL));
    lia__setting_keys(LIA_SCOPE_ENRICH, "dedup.", keys, sizeof keys);
    assert_string_equal(keys, "enabled, key, window, memory_keys");
    lia__setting_keys(LIA_SCOPE_ENRICH, "dedup.", keys, 12); /* cut at a whole key */
    assert_string_equal(keys, "enabled");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_well_formed),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_find_and_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
