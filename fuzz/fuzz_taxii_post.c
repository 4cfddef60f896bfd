/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the envelope of a TAXII POST .../objects/ (what a
 * client sends), through lia__taxii_post into a collection of a store in
 * a private temporary directory (src/taxii/taxii_store.c), as an analyst
 * of the own team writes it.
 *
 * Invariants: an envelope that is not one is LIA_EPARSE or LIA_ELIMIT with
 * a reason and writes nothing to out; an accepted one appends a status
 * resource whose counts add up to the number of objects posted. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "taxii/taxii_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], db[96];
static lia_store *store;
static lia_taxii_collection coll;
static unsigned runs;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz taxii_post: %s\n", what);
        abort();
    }
}

static void cleanup(void)
{
    static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
    char p[128];
    lia_store_close(store);
    store = NULL;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(p, sizeof p, "%s%s", db, ext[i]);
        unlink(p);
    }
}

/* At exit: the store's files, its (empty) archive directory and the
 * directory made for them. */
static void cleanup_all(void)
{
    char p[128];
    cleanup();
    snprintf(p, sizeof p, "%s.archive", db);
    rmdir(p);
    rmdir(dir);
}

/* A fresh store every few thousand runs, so it stays small. */
static void open_store(void)
{
    lia_error e;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/liaison-fuzz-taxii-XXXXXX");
        check(mkdtemp(dir) != NULL, "mkdtemp");
        snprintf(db, sizeof db, "%s/taxii.db", dir);
        atexit(cleanup_all);
    }
    cleanup();
    check(lia_store_open(db, &store, &e) == LIA_OK, "open the store");
    check(lia_taxii_init(store, &e) == LIA_OK, "TAXII tables");
    check(lia_taxii_api_root_add(store, "api", "Fuzz", NULL, 1u << 20, &e) == LIA_OK, "API root");
    lia_taxii_collection_defaults(&coll);
    snprintf(coll.api_root, sizeof coll.api_root, "api");
    snprintf(coll.id, sizeof coll.id, "fuzz");
    check(lia_taxii_collection_add(store, &coll, &e) == LIA_OK, "collection");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_principal p;
    lia_error e;
    lia_buf out;
    json_error_t je;
    if (!store || ++runs % 4096 == 0)
        open_store();
    memset(&p, 0, sizeof p);
    p.org_kind = LIA_ORG_OWN;
    p.role = LIA_ROLE_ANALYST;
    p.tlp_ceiling = LIA_TLP_RED;
    snprintf(p.org, sizeof p.org, "own");
    snprintf(p.user, sizeof p.user, "fuzz");
    lia_error_clear(&e);
    lia_buf_init(&out, 64u << 20);
    int rc = lia__taxii_post(store, &coll, &p, (const char *)data, size, &out, &e);
    if (rc == LIA_EPARSE || rc == LIA_ELIMIT) {
        check(e.reason[0] != '\0', "an error has a reason");
        check(out.len == 0, "a refused envelope writes no status");
    } else {
        check(rc == LIA_OK, "only EPARSE or ELIMIT for a bad envelope");
        json_t *env = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
        json_t *st = json_loadb(out.ptr, out.len, 0, &je);
        check(json_is_object(st), "the status is a JSON object");
        json_int_t n = json_integer_value(json_object_get(st, "success_count")) +
                       json_integer_value(json_object_get(st, "failure_count")) +
                       json_integer_value(json_object_get(st, "pending_count"));
        check(n == (json_int_t)json_array_size(json_object_get(env, "objects")),
              "status counts every object");
        json_decref(st);
        json_decref(env);
    }
    lia_buf_free(&out);
    return 0;
}
