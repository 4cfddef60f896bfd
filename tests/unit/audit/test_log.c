/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The audit log in the store (src/audit/log.c): records appended as Merkle
 * leaves, signed checkpoints, proofs that verify, and lia_audit_verify naming
 * the first broken record when one is edited, deleted, two are swapped, or
 * the newest ten are cut off (found through a checkpoint, also one kept
 * outside the store and cosigned by a partner). Tampering goes through the
 * database layer directly, as someone with access to the file would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "liaison/audit.h"
#include "store/db.h"
#include "audit/log.h"
#include "../../pg/pg_test.h"

typedef struct fixture {
    char dir[64], path[128];
    lia_store *s;
    lia_note_key node, nodev, partner, partnerv;
} fixture;

/* A SQLite file in a temporary folder, or with LIAISON_TEST_PG (the meson
 * test audit_log_pg) that PostgreSQL database, emptied first. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    lia_error err;
    snprintf(f->dir, sizeof f->dir, "/tmp/lia-audit-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_true(lia_test_db_path(f->dir, "a", f->path, sizeof f->path) >= 0);
    assert_int_equal(lia_store_open(f->path, &f->s, &err), LIA_OK);
    assert_int_equal(lia__note_key_generate("cert.example/audit", LIA_NOTE_ED25519, &f->node, &err), LIA_OK);
    f->nodev = f->node;
    f->nodev.secret = 0;
    memset(f->nodev.sk, 0, sizeof f->nodev.sk);
    assert_int_equal(lia__note_key_generate("partner.example/witness", LIA_NOTE_COSIG, &f->partner, &err),
                     LIA_OK);
    f->partnerv = f->partner;
    f->partnerv.secret = 0;
    memset(f->partnerv.sk, 0, sizeof f->partnerv.sk);
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

static void append_n(fixture *f, int n)
{
    for (int i = 0; i < n; i++) {
        char obj[32], after[64];
        lia_error err;
        snprintf(obj, sizeof obj, "incident:%d", i % 7 + 1);
        snprintf(after, sizeof after, "{\"status\":\"s%d\"}", i);
        lia_audit_record r = {.actor = i % 2 ? "alice" : "bob",
                              .channel = "cli",
                              .address = "local",
                              .object = obj,
                              .action = "status",
                              .before = i ? "{}" : NULL,
                              .after = after};
        if (lia__audit_append_store(f->s, &r, &err) != LIA_OK)
            fail_msg("append: %s", err.reason);
    }
}

static void exec(fixture *f, const char *sql)
{
    lia_error err;
    if (lia__db_exec(lia__store_db(f->s), sql, &err) != LIA_OK)
        fail_msg("%s: %s", sql, err.reason);
}

static int verify(fixture *f, const char *outside, lia_audit_report *rep)
{
    lia_error err;
    lia_note_key keys[2] = {f->nodev, f->partnerv};
    lia_error_clear(&err);
    return lia_audit_verify(f->s, keys, 2, outside, outside ? strlen(outside) : 0, rep, &err);
}

static void checkpoint(fixture *f, lia_buf *note)
{
    lia_error err;
    lia_buf_reset(note);
    if (lia_audit_checkpoint(f->s, "cert.example/audit", &f->node, note, &err) != LIA_OK)
        fail_msg("checkpoint: %s", err.reason);
}

static int count(void *ud, const lia_audit_record *r)
{
    (*(int *)ud)++;
    (void)r;
    return 0;
}

static void test_append_list_prove(void **state)
{
    fixture *f = *state;
    lia_audit_report rep;
    lia_hash leaf, root, r1, r2, proof[LIA_MERKLE_PROOF_MAX];
    uint64_t size;
    size_t len;
    lia_error err;
    lia_buf note;
    append_n(f, 40);
    assert_int_equal(lia_audit_head(f->s, &size, &root, &err), LIA_OK);
    assert_int_equal(size, 40);
    lia_buf_init(&note, LIA_NOTE_MAX);
    checkpoint(f, &note);
    assert_non_null(strstr(note.ptr, "cert.example/audit\n40\n"));
    assert_int_equal(verify(f, NULL, &rep), LIA_OK);
    assert_int_equal(rep.records, 40);
    assert_int_equal(rep.checkpoints, 1);
    /* every record's inclusion, and consistency of every earlier size */
    for (int64_t seq = 1; seq <= 40; seq++) {
        assert_int_equal(lia_audit_prove_inclusion(f->s, seq, 0, &leaf, &r1, proof, &len, &err), LIA_OK);
        assert_memory_equal(r1.b, root.b, 32);
        assert_int_equal(lia_merkle_verify_inclusion((uint64_t)seq - 1, 40, &leaf, proof, len, &root),
                         LIA_OK);
    }
    for (uint64_t n1 = 0; n1 <= 40; n1++) {
        assert_int_equal(lia_audit_prove_consistency(f->s, n1, 40, &r1, &r2, proof, &len, &err), LIA_OK);
        assert_int_equal(lia_merkle_verify_consistency(n1, 40, &r1, &r2, proof, len), LIA_OK);
    }
    assert_int_not_equal(lia_audit_prove_inclusion(f->s, 41, 0, &leaf, &r1, proof, &len, &err), LIA_OK);
    /* filters */
    int n = 0;
    lia_audit_filter fl = {.object = "incident:3"};
    assert_int_equal(lia_audit_list(f->s, &fl, count, &n, &err), LIA_OK);
    assert_int_equal(n, 6); /* i % 7 == 2 for i < 40 */
    n = 0;
    fl = (lia_audit_filter){.actor = "alice"};
    assert_int_equal(lia_audit_list(f->s, &fl, count, &n, &err), LIA_OK);
    assert_int_equal(n, 20);
    n = 0;
    fl = (lia_audit_filter){.until_us = 1};
    assert_int_equal(lia_audit_list(f->s, &fl, count, &n, &err), LIA_OK);
    assert_int_equal(n, 0);
    lia_buf_free(&note);
}

static void test_edited_record(void **state)
{
    fixture *f = *state;
    lia_audit_report rep;
    lia_buf note;
    lia_buf_init(&note, LIA_NOTE_MAX);
    append_n(f, 30);
    checkpoint(f, &note);
    exec(f, "UPDATE audit_log SET after = '{\"status\":\"closed\"}' WHERE seq = 17");
    assert_int_equal(verify(f, NULL, &rep), LIA_EAUTH);
    assert_int_equal(rep.first_bad, 17);
    assert_non_null(strstr(rep.what, "changed after it was written"));
    lia_buf_free(&note);
}

/* Rewriting a record together with its leaf hash and every head after it
 * (what someone who read this file would do) is still caught by the signed
 * checkpoint, and the first record after the last good checkpoint named. */
static void test_rewritten_consistently(void **state)
{
    fixture *f = *state;
    lia_audit_report rep;
    lia_buf note;
    lia_buf_init(&note, LIA_NOTE_MAX);
    append_n(f, 10);
    checkpoint(f, &note);
    append_n(f, 10);
    checkpoint(f, &note);
    /* rebuild records 15..20 with a changed record 15: new leaves and heads */
    lia_db *db = lia__store_db(f->s);
    lia_stmt *st;
    lia_error err;
    lia_merkle_stream ms = {0};
    lia_buf b;
    lia_buf_init(&b, 1 << 20);
    assert_int_equal(lia__db_prepare_once(db, "t",
                                          "SELECT seq, at, actor, channel, address, object, action, before,"
                                          " after FROM audit_log ORDER BY seq",
                                          &st, &err),
                     LIA_OK);
    lia_hash leaves[20];
    char after15[] = "{\"status\":\"forged\"}";
    for (int i = 0; lia__db_step(st, &err) == LIA_DB_ROW; i++) {
        lia_audit_record r = {lia__db_col_int64(st, 0), lia__db_col_int64(st, 1), lia__db_col_text(st, 2),
                              lia__db_col_text(st, 3),  lia__db_col_text(st, 4),  lia__db_col_text(st, 5),
                              lia__db_col_text(st, 6),  lia__db_col_text(st, 7),  lia__db_col_text(st, 8)};
        if (r.seq == 15)
            r.after = after15;
        lia_buf_reset(&b);
        lia_audit_leaf_bytes(&r, &b);
        lia__merkle_leaf(b.ptr, b.len, &leaves[i]);
    }
    lia__db_done(st);
    exec(f, "UPDATE audit_log SET after = '{\"status\":\"forged\"}' WHERE seq = 15");
    for (int i = 0; i < 20; i++) {
        lia_hash head;
        lia__merkle_stream_add(&ms, &leaves[i]);
        lia__merkle_stream_root(&ms, &head);
        assert_int_equal(
            lia__db_prepare_once(db, "t", "UPDATE audit_log SET leaf = ?, head = ? WHERE seq = ?", &st, &err),
            LIA_OK);
        lia__db_bind_blob(st, 1, leaves[i].b, 32);
        lia__db_bind_blob(st, 2, head.b, 32);
        lia__db_bind_int64(st, 3, i + 1);
        assert_int_equal(lia__db_run(st, &err), LIA_OK);
        lia__db_done(st);
    }
    assert_int_equal(
        lia__db_prepare_once(db, "t", "UPDATE audit_state SET stream = ? WHERE id = 1", &st, &err), LIA_OK);
    lia__db_bind_blob(st, 1, ms.stack, ms.depth * 32u);
    assert_int_equal(lia__db_run(st, &err), LIA_OK);
    lia__db_done(st);
    assert_int_equal(verify(f, NULL, &rep), LIA_EAUTH);
    assert_int_equal(rep.first_bad, 11);
    assert_non_null(strstr(rep.what, "records 11 to 20 do not match the signed checkpoint of size 20"));
    lia_buf_free(&b);
    lia_buf_free(&note);
}

static void test_deleted_record(void **state)
{
    fixture *f = *state;
    lia_audit_report rep;
    append_n(f, 30);
    exec(f, "DELETE FROM audit_log WHERE seq = 12");
    assert_int_equal(verify(f, NULL, &rep), LIA_EAUTH);
    assert_int_equal(rep.first_bad, 12);
    assert_non_null(strstr(rep.what, "record 12 is missing"));
}

static void test_swapped_records(void **state)
{
    fixture *f = *state;
    lia_audit_report rep;
    append_n(f, 30);
    /* the rows of 8 and 9 trade places, leaf hashes and heads with them */
    exec(f, "UPDATE audit_log SET seq = -1 WHERE seq = 8;"
            "UPDATE audit_log SET seq = 8 WHERE seq = 9;"
            "UPDATE audit_log SET seq = 9 WHERE seq = -1;");
    assert_int_equal(verify(f, NULL, &rep), LIA_EAUTH);
    assert_int_equal(rep.first_bad, 8);
}

/* The newest ten cut off, the kept tree state and every stored checkpoint
 * rewritten to match: only a checkpoint held outside (the partner's cosigned
 * copy) shows it. */
static void test_newest_ten_cut_off(void **state)
{
    fixture *f = *state;
    lia_audit_report rep;
    lia_buf note;
    lia_error err;
    lia_note_opened o;
    lia_buf_init(&note, LIA_NOTE_MAX);
    append_n(f, 50);
    checkpoint(f, &note);
    /* the partner checks our signature and cosigns; it keeps this copy */
    lia_note_key nk[1] = {f->nodev};
    assert_int_equal(lia_note_open(note.ptr, note.len, nk, 1, &o, &err), LIA_OK);
    assert_int_equal(lia_note_sign_line(note.ptr, o.text_len, &f->partner, 1700000000, &note, &err), LIA_OK);
    char *partner_copy = strdup(note.ptr);
    assert_int_equal(verify(f, partner_copy, &rep), LIA_OK);
    assert_int_equal(rep.checkpoints, 2);

    /* cut: the store's own checkpoint tells first */
    exec(f, "DELETE FROM audit_log WHERE seq > 40");
    assert_int_equal(verify(f, NULL, &rep), LIA_EAUTH);
    assert_int_equal(rep.first_bad, 41);
    assert_non_null(strstr(rep.what, "records 41 to 50 were cut off"));

    /* cover the tracks: the stored checkpoints and tree state go too, and a
     * new tree state for 40 is written */
    lia_merkle_stream ms = {0};
    lia_db *db = lia__store_db(f->s);
    lia_stmt *st;
    assert_int_equal(lia__db_prepare_once(db, "t", "SELECT leaf FROM audit_log ORDER BY seq", &st, &err),
                     LIA_OK);
    while (lia__db_step(st, &err) == LIA_DB_ROW) {
        lia_hash h;
        size_t l;
        memcpy(h.b, lia__db_col_blob(st, 0, &l), 32);
        lia__merkle_stream_add(&ms, &h);
    }
    lia__db_done(st);
    exec(f, "DELETE FROM audit_checkpoint");
    assert_int_equal(
        lia__db_prepare_once(db, "t", "UPDATE audit_state SET size = ?, stream = ? WHERE id = 1", &st, &err),
        LIA_OK);
    lia__db_bind_int64(st, 1, (int64_t)ms.n);
    lia__db_bind_blob(st, 2, ms.stack, ms.depth * 32u);
    assert_int_equal(lia__db_run(st, &err), LIA_OK);
    lia__db_done(st);
    assert_int_equal(verify(f, NULL, &rep), LIA_OK); /* the store alone cannot tell */
    assert_int_equal(verify(f, partner_copy, &rep), LIA_EAUTH);
    assert_int_equal(rep.first_bad, 41);
    assert_non_null(strstr(rep.what, "outside checkpoint covers 50 records"));
    /* a forged outside copy (not signed by a known key) is refused as such */
    char *forged = strdup(partner_copy);
    char *size = strstr(forged, "\n50\n");
    size[2] = '1';
    assert_int_equal(verify(f, forged, &rep), LIA_EAUTH);
    assert_non_null(strstr(rep.what, "outside checkpoint does not verify"));
    free(forged);
    free(partner_copy);
    lia_buf_free(&note);
}

static void test_key_file(void **state)
{
    fixture *f = *state;
    char path[160];
    lia_note_key a, b;
    lia_error err;
    snprintf(path, sizeof path, "%s/node.key", f->dir);
    assert_int_equal(lia_audit_key_load(path, "cert.example/audit", 0, &a, &err), LIA_ENOTFOUND);
    assert_int_equal(lia_audit_key_load(path, "cert.example/audit", 1, &a, &err), LIA_OK);
    assert_int_equal(lia_audit_key_load(path, "ignored", 1, &b, &err), LIA_OK);
    assert_memory_equal(a.pub, b.pub, 32);
    assert_string_equal(b.name, "cert.example/audit");
    assert_int_equal(access(path, R_OK), 0);
}

/* Two processes append at once, each through its own store handle: every
 * record gets its own seq (none lost, none twice) and the log verifies. On
 * PostgreSQL this is the advisory lock's work (its READ COMMITTED BEGIN does
 * not keep writers apart as SQLite's BEGIN IMMEDIATE does). */
static void test_two_writers(void **state)
{
    fixture *f = *state;
    lia_audit_report rep;
    pid_t kids[2];
    lia_audit_record first = {.actor = "carol", .object = "incident:1", .action = "open"};
    lia_error err;
    /* the log's tables made first: two processes making them at once is the
     * migration registry's concern (test_db's), not the log's */
    assert_int_equal(lia__audit_append_store(f->s, &first, &err), LIA_OK);
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            lia_store *s;
            int bad = lia_store_open(f->path, &s, &err) != LIA_OK;
            for (int i = 0; !bad && i < 40; i++) {
                lia_audit_record r = {.actor = k ? "alice" : "bob", .object = "incident:1", .action = "note"};
                bad = lia__audit_append_store(s, &r, &err) != LIA_OK;
                if (bad)
                    fprintf(stderr, "writer %d, record %d: %s\n", k, i, err.reason);
            }
            if (!bad)
                lia_store_close(s);
            _exit(bad);
        }
    }
    int status[2] = {-1, -1};
    for (int k = 0; k < 2; k++) /* both waited for before any assert ends the test */
        if (waitpid(kids[k], &status[k], 0) != kids[k])
            status[k] = -1;
    for (int k = 0; k < 2; k++) {
        assert_true(WIFEXITED(status[k]));
        assert_int_equal(WEXITSTATUS(status[k]), 0);
    }
    assert_int_equal(verify(f, NULL, &rep), LIA_OK);
    assert_int_equal(rep.records, 81);
    assert_int_equal(rep.first_bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_list_prove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewritten_consistently, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newest_ten_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_writers, setup, teardown),
    };
    return cmocka_run_group_tests_name(LIA_TEST_GROUP("audit log"), tests, NULL, NULL);
}
