/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Differential test: our flat JSON object reader (src/feeds/jobj.c, the
 * measured hot path of the JSON feed formats) against jansson on thousands
 * of generated objects, well-formed and mutated. Both must accept and reject
 * the same texts, and agree on every member's kind and value. One known,
 * intended difference: a number outside the range of a double (2E756) is
 * valid JSON grammar and our reader keeps it as text, while jansson refuses
 * it ("real number overflow"); such texts are counted, not compared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "feeds/jobj.h"
#include "liaison/liaison.h"

static uint64_t rng = 0x243F6A8885A308D3ULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

static void gen_string(lia_buf *b)
{
    static const char *const parts[] = {"a", "ip", "192.0.2.1", "\\\"", "\\\\", "\\n", "\\t", "\\/",
                                        "\\u00e9", "\\u4e2d", "\\ud83d\\ude00", "é", "中", " ", "x y"};
    int n = (int)rnd(5);
    lia_buf_putc(b, '"');
    for (int i = 0; i < n; i++)
        lia_buf_puts(b, parts[rnd(sizeof parts / sizeof parts[0])]);
    lia_buf_putc(b, '"');
}

static void gen_value(lia_buf *b, int depth)
{
    switch (rnd(depth > 2 ? 5 : 7)) {
    case 0: gen_string(b); break;
    case 1: lia_buf_printf(b, "%d", (int)rnd(100000) - 50000); break;
    case 2: lia_buf_printf(b, "%d.%de%d", (int)rnd(100), (int)rnd(1000), (int)rnd(10) - 5); break;
    case 3: lia_buf_puts(b, rnd(2) ? "true" : "false"); break;
    case 4: lia_buf_puts(b, "null"); break;
    case 5: {
        int n = (int)rnd(4);
        lia_buf_putc(b, '[');
        for (int i = 0; i < n; i++) {
            if (i)
                lia_buf_putc(b, ',');
            gen_value(b, depth + 1);
        }
        lia_buf_putc(b, ']');
        break;
    }
    default: {
        int n = (int)rnd(4);
        lia_buf_putc(b, '{');
        for (int i = 0; i < n; i++) {
            if (i)
                lia_buf_putc(b, ',');
            lia_buf_printf(b, "\"k%d\":", i);
            gen_value(b, depth + 1);
        }
        lia_buf_putc(b, '}');
    }
    }
}

static void gen_object(lia_buf *b)
{
    int n = 1 + (int)rnd(8);
    lia_buf_puts(b, rnd(3) ? "{" : " { ");
    for (int i = 0; i < n; i++) {
        if (i)
            lia_buf_puts(b, rnd(4) ? "," : " , ");
        lia_buf_printf(b, "\"m%d\"%s", i, rnd(4) ? ":" : " : ");
        gen_value(b, 0);
    }
    lia_buf_puts(b, rnd(3) ? "}" : "} ");
}

static void mutate(lia_buf *b)
{
    static const char junk[] = "{}[],:\"\\ 0x-+.eEtfn\x01\xff";
    size_t pos = b->len ? rnd((uint32_t)b->len) : 0;
    switch (rnd(3)) {
    case 0: b->ptr[pos] = junk[rnd(sizeof junk - 1)]; break;
    case 1: b->len = pos; b->ptr[pos] = '\0'; break;
    default:
        if (b->len > 1) {
            memmove(b->ptr + pos, b->ptr + pos + 1, b->len - pos - 1);
            b->len--;
            b->ptr[b->len] = '\0';
        }
    }
}

static int kind_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return LIA_J_STRING;
    case JSON_INTEGER:
    case JSON_REAL: return LIA_J_NUMBER;
    case JSON_TRUE:
    case JSON_FALSE: return LIA_J_BOOL;
    case JSON_NULL: return LIA_J_NULL;
    case JSON_OBJECT: return LIA_J_OBJECT;
    default: return LIA_J_ARRAY;
    }
}

static void compare_one(const char *text, size_t len, size_t *accepted, size_t *rejected)
{
    lia_jobj o;
    json_error_t je;
    const char *why = NULL;
    json_t *j = json_loadb(text, len, JSON_ALLOW_NUL, &je);
    int ours;
    lia_jobj_init(&o);
    ours = lia_jobj_read(&o, text, len, &why);
    if (!j && strstr(je.text, "overflow")) { /* the known difference */
        lia_jobj_free(&o);
        return;
    }
    if ((j && json_is_object(j)) != (ours == LIA_OK))
        fail_msg("disagree on %s: jansson %s, ours %s (%s)", text, j ? "accepts" : je.text,
                 ours == LIA_OK ? "accepts" : "rejects", why ? why : "");
    if (ours == LIA_OK) {
        const char *key;
        json_t *v;
        (*accepted)++;
        json_object_foreach(j, key, v)
        {
            const lia_jmember *m = lia_jobj_get(&o, key);
            if (!m)
                fail_msg("%s: member %s missing", text, key);
            assert_int_equal(m->kind, kind_of(v));
            if (m->kind == LIA_J_STRING) {
                assert_int_equal(m->val.len, json_string_length(v));
                assert_memory_equal(m->val.ptr, json_string_value(v), m->val.len);
            } else {
                json_t *w = json_loadb(m->val.ptr, m->val.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
                if (!w || !json_equal(w, v))
                    fail_msg("%s: member %s: %.*s differs", text, key, (int)m->val.len, m->val.ptr);
                json_decref(w);
            }
        }
    } else {
        (*rejected)++;
    }
    json_decref(j);
    lia_jobj_free(&o);
}

static void test_against_jansson(void **state)
{
    lia_buf b;
    size_t accepted = 0, rejected = 0;
    lia_buf_init(&b, 1 << 20);
    for (int i = 0; i < 20000; i++) {
        lia_buf_reset(&b);
        gen_object(&b);
        if (i % 2)
            mutate(&b);
        compare_one(b.ptr, b.len, &accepted, &rejected);
    }
    print_message("%zu accepted, %zu rejected by both\n", accepted, rejected);
    assert_true(accepted > 5000 && rejected > 1000); /* both paths exercised */
    lia_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_jansson)};
    return cmocka_run_group_tests_name("jobj_jansson", tests, NULL, NULL);
}
