/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The {{placeholder}} template renderer, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "liaison/liaison.h"
#include "notify/internal.h"

static const char *const items[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};

static const char *get(void *ud, const char *name, size_t n, size_t item)
{
    size_t *count = ud;
    if (item != SIZE_MAX) {
        if (n == 2 && memcmp(name, "ip", 2) == 0)
            return item < *count ? items[item] : "";
        return NULL;
    }
    if (n == 4 && memcmp(name, "name", 4) == 0)
        return "CERT-MY";
    if (n == 5 && memcmp(name, "count", 5) == 0)
        return *count == 3 ? "3" : "0";
    return NULL;
}

static size_t count(void *ud, const char *name, size_t n)
{
    size_t *c = ud;
    return n == 6 && memcmp(name, "events", 6) == 0 ? *c : SIZE_MAX;
}

static void test_render(void **state)
{
    static const struct {
        const char *t;
        size_t items;
        const char *want; /* NULL: error */
        uint64_t line;
    } cases[] = {
        {"Dear {{name}},", 3, "Dear CERT-MY,", 0},
        {"no tags at all { } }}", 3, "no tags at all { } }}", 0},
        {"{{count}} events:\n{{#events}}- {{ip}}\n{{/events}}end", 3,
         "3 events:\n- 10.0.0.1\n- 10.0.0.2\n- 10.0.0.3\nend", 0},
        {"[{{#events}}{{ip}},{{/events}}]", 0, "[]", 0},
        {"多语言 {{name}} ✓", 3, "多语言 CERT-MY ✓", 0},
        {"{{nosuch}}", 3, NULL, 1},
        {"line1\n{{ip}}", 3, NULL, 2},                  /* item name outside a section */
        {"{{#events}}{{name}}{{/events}}", 0, NULL, 1}, /* top-level name inside a section */
        {"{{#events}}x", 3, NULL, 1},                   /* not closed */
        {"x{{/events}}", 3, NULL, 1},                   /* closed, never opened */
        {"{{#events}}{{#events}}{{/events}}{{/events}}", 3, NULL, 1},
        {"{{#nosuch}}{{/nosuch}}", 3, NULL, 1},
        {"\n\n{{ name }}", 3, NULL, 3},
        {"{{name", 3, NULL, 1},
        {"{{}}", 3, NULL, 1},
        {"{{#events}}{{ip}}{{/other}}", 3, NULL, 1},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t c = cases[i].items;
        lia_tmpl_vars v = {get, count, &c};
        lia_buf out;
        lia_error err;
        int rc;
        lia_buf_init(&out, 1 << 16);
        lia_error_clear(&err);
        rc = lia__tmpl_render(cases[i].t, strlen(cases[i].t), &v, &out, &err);
        if (cases[i].want) {
            if (rc)
                fail_msg("case %zu: error %s", i, err.reason);
            assert_string_equal(lia_buf_cstr(&out), cases[i].want);
        } else {
            if (rc == LIA_OK)
                fail_msg("case %zu: rendered \"%s\"", i, lia_buf_cstr(&out));
            if (err.line != cases[i].line)
                fail_msg("case %zu: line %llu, want %llu (%s)", i, (unsigned long long)err.line,
                         (unsigned long long)cases[i].line, err.reason);
        }
        lia_buf_free(&out);
    }
}

/* Every shipped template renders with the digest's names. */
static void test_shipped_templates(void **state)
{
    static const char *const langs[] = {"en", "zh", "ms", "ar", "km"};
    const char *root = getenv("LIAISON_SOURCE_ROOT");
    (void)state;
    assert_non_null(root);
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
        char path[1024], buf[65536];
        FILE *f;
        size_t n;
        snprintf(path, sizeof path, "%s/share/templates/%s/digest.txt", root, langs[i]);
        f = fopen(path, "rb");
        if (!f)
            fail_msg("missing %s", path);
        n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        assert_true(n > 0 && n < sizeof buf);
        assert_int_equal(strncmp(buf, "Subject: ", 9), 0);
        assert_non_null(strstr(buf, "{{#events}}"));
        assert_non_null(strstr(buf, "{{count}}"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_shipped_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
