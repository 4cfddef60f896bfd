/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The lexical walk over a bundle's objects (taxii_bundle.c), and our own
 * exports stored as the exporter wrote them (lia__taxii_put_exported). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../pg/pg_test.h"
#include <jansson.h>

#include "liaison/liaison.h"
#include "liaison/stix.h"
#include "taxii/taxii_internal.h"

typedef struct seen {
    char text[4][128];
    size_t n;
} seen;

static int keep(void *ud, const char *obj, size_t n)
{
    seen *s = ud;
    if (s->n < 4)
        snprintf(s->text[s->n], sizeof s->text[0], "%.*s", (int)n, obj);
    s->n++;
    return LIA_OK;
}

static void test_walk(void **state)
{
    static const struct {
        const char *in;
        int rc;
        size_t n;
        const char *first, *id, *objects;
    } cases[] = {
        {"{\"type\":\"bundle\",\"objects\":[\n{\"a\":1},\n{\"b\":\"x]}\\\"\"}\n],\"id\":\"bundle--1\"}\n",
         LIA_OK, 2, "{\"a\":1}", "bundle--1", "[\n{\"a\":1},\n{\"b\":\"x]}\\\"\"}\n]"},
        {" { \"id\" : \"bundle--2\" , \"objects\" : [ { \"n\" : [ 1 , { } ] } ] } ", LIA_OK, 1,
         "{ \"n\" : [ 1 , { } ] }", "bundle--2", "[ { \"n\" : [ 1 , { } ] } ]"},
        {"{\"objects\":[]}", LIA_OK, 0, "", "", "[]"},
        {"{\"objects\":[1]}", LIA_EPARSE, 0, "", "", ""},
        {"{\"objects\":{}}", LIA_EPARSE, 0, "", "", ""},
        {"{\"type\":\"bundle\"}", LIA_EPARSE, 0, "", "", ""},
        {"{\"objects\":[{\"a\":\"unterminated}]}", LIA_EPARSE, 0, "", "", ""},
        {"[]", LIA_EPARSE, 0, "", "", ""},
        {"{\"objects\":[{\"a\":1} {\"b\":2}]}", LIA_EPARSE, 0, "", "", ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seen s;
        lia_slice arr = {NULL, 0};
        size_t count = 99;
        char id[64] = "?";
        lia_error err;
        int rc;
        memset(&s, 0, sizeof s);
        lia_error_clear(&err);
        rc = lia__stix_bundle_walk(cases[i].in, strlen(cases[i].in), keep, &s, &arr, &count, id, sizeof id,
                                   &err);
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, err.reason);
        if (rc)
            continue;
        assert_int_equal(count, cases[i].n);
        assert_int_equal(s.n, cases[i].n);
        if (cases[i].n)
            assert_string_equal(s.text[0], cases[i].first);
        assert_string_equal(id, cases[i].id);
        assert_int_equal(arr.len, strlen(cases[i].objects));
        assert_memory_equal(arr.ptr, cases[i].objects, arr.len);
    }
}

static int to_buf(void *ud, const char *p, size_t n)
{
    return lia_buf_append(ud, p, n);
}

typedef struct putctx {
    lia_store *s;
    const lia_taxii_collection *c;
    size_t stored, skipped;
} putctx;

static int put(void *ud, const char *obj, size_t n)
{
    putctx *p = ud;
    lia_error err;
    int stored = -1;
    lia_error_clear(&err);
    assert_int_equal(lia__taxii_put_exported(p->s, p->c, obj, n, &stored, &err), LIA_OK);
    if (stored)
        p->stored++;
    else
        p->skipped++;
    return LIA_OK;
}

/* Every object of an exported bundle is stored byte for byte as the
 * exporter wrote it; the second time the SCOs are not added again. */
static void test_put_exported(void **state)
{
    char path[] = "/tmp/lia_test_bundle_XXXXXX", store[256];
    int fd = mkstemp(path);
    lia_store *s;
    lia_error err;
    lia_event ev;
    lia_stix_export *x = NULL;
    lia_stix_opts so;
    lia_buf b, page;
    lia_taxii_collection c;
    lia_taxii_filter f;
    lia_taxii_reader r = {0, LIA_TLP_RED, 0};
    lia_taxii_page pg;
    putctx p;
    size_t nobj = 0;
    (void)state;
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    lia_error_clear(&err);
    /* on PostgreSQL a database of its own, its archive where SQLite's is */
    assert_int_equal(lia_test_db_path("/tmp", "bundle", store, sizeof store), 0);
    if (lia_test_pg()) {
        char archive[64];
        snprintf(archive, sizeof archive, "%s.archive", path);
        setenv("LIAISON_ARCHIVE_DIR", archive, 1);
    } else {
        snprintf(store, sizeof store, "%s", path);
    }
    assert_int_equal(lia_store_open(store, &s, &err), LIA_OK);
    assert_int_equal(lia_taxii_init(s, &err), LIA_OK);
    assert_int_equal(lia__taxii_api_root_ensure(s, "r", "R", &err), LIA_OK);
    lia_taxii_collection_defaults(&c);
    snprintf(c.api_root, sizeof c.api_root, "r");
    snprintf(c.id, sizeof c.id, "c");
    assert_int_equal(lia_taxii_collection_add(s, &c, &err), LIA_OK);
    lia_event_init(&ev);
    assert_int_equal(lia_event_set_name(&ev, "source.ip", 9, "192.0.2.7", 9, &err), LIA_OK);
    assert_int_equal(lia_event_set_name(&ev, "classification.type", 19, "phishing", 8, &err), LIA_OK);
    assert_int_equal(lia_event_set_name(&ev, "source.geolocation.latitude", 27, "52.52", 5, &err), LIA_OK);
    assert_int_equal(lia_event_set_name(&ev, "tlp", 3, "GREEN", 5, &err), LIA_OK);
    assert_int_equal(lia_event_set_name(&ev, "time.source", 11, "2024-01-02T03:04:05Z", 20, &err), LIA_OK);
    ev.id = 7;
    memset(&so, 0, sizeof so);
    so.now_us = 1700000000000000;
    lia_buf_init(&b, 1 << 20);
    assert_int_equal(lia_stix_export_create(&so, to_buf, &b, &x, &err), LIA_OK);
    assert_int_equal(lia_stix_export_add(x, &ev, &err), LIA_OK);
    assert_int_equal(lia_stix_export_finish(x, &err), LIA_OK);
    lia_stix_export_destroy(x);
    for (int round = 0; round < 2; round++) {
        memset(&p, 0, sizeof p);
        p.s = s;
        p.c = &c;
        assert_int_equal(lia__stix_bundle_walk(b.ptr, b.len, put, &p, NULL, &nobj, NULL, 0, &err), LIA_OK);
        assert_true(nobj >= 4); /* indicator, sighting, SCO, identity, marking */
        if (round == 0) {
            assert_int_equal(p.stored, nobj);
        } else {
            assert_true(p.skipped >= 1); /* the ipv4-addr */
            assert_int_equal(p.stored + p.skipped, nobj);
        }
    }
    /* what the collection serves is the exporter's text of each object */
    lia__taxii_filter_init(&f);
    lia_buf_init(&page, 1 << 20);
    assert_int_equal(lia__taxii_query(s, &c, LIA_TAXII_OBJECTS, NULL, &f, &r, &page, &pg, &err), LIA_OK);
    assert_int_equal(pg.count, nobj);
    lia_buf_append(&page, "", 0);
    {
        lia_buf_append(&b, "", 0);
        const char *q = strstr(lia_buf_cstr(&b), "{\"type\":\"indicator\"");
        const char *e;
        char *obj;
        assert_non_null(q);
        e = strstr(q, ",\n{"); /* the exporter starts each object on a line */
        assert_non_null(e);
        obj = strndup(q, (size_t)(e - q));
        assert_non_null(strstr(lia_buf_cstr(&page), obj));
        free(obj);
    }
    lia_buf_free(&page);
    lia_buf_free(&b);
    lia_event_free(&ev);
    lia_store_close(s);
    unlink(path);
    {
        char dir[64];
        snprintf(dir, sizeof dir, "%s.archive", path);
        rmdir(dir); /* made empty by lia_store_open */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_put_exported),
    };
    if (lia_test_pg())
        return cmocka_run_group_tests_name("taxii bundle on PostgreSQL", tests, NULL, NULL);
    return cmocka_run_group_tests_name("taxii bundle", tests, NULL, NULL);
}
