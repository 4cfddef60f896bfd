/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Benchmark: the audit log. Appends N records (default 1,000,000) to a fresh
 * store in transactions of 10,000 (each append is its own savepoint, as
 * inside an incident change), signs a checkpoint, then times
 * lia_audit_verify over every record and an inclusion proof of the middle
 * record. Figures in docs/performance.md.
 *   bench_audit [N] [DIR] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liaison/audit.h"
#include "store/db.h"
#include "audit/log.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    char path[512];
    lia_store *s;
    lia_error err;
    lia_note_key k;
    lia_buf note;
    lia_audit_report rep;
    snprintf(path, sizeof path, "%s/bench-audit-%ld.db", dir, (long)getpid());
    if (lia_store_open(path, &s, &err) ||
        lia__note_key_generate("bench.example/audit", LIA_NOTE_ED25519, &k, &err)) {
        fprintf(stderr, "%s\n", err.reason);
        return 1;
    }
    lia_db *db = lia__store_db(s);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        char obj[32], after[64];
        if (i % 10000 == 0 && ((i && lia__db_commit(db, &err)) || lia__db_begin(db, &err)))
            return 1;
        snprintf(obj, sizeof obj, "incident:%ld", i / 5 + 1);
        snprintf(after, sizeof after, "{\"state\":\"acknowledged\",\"n\":%ld}", i);
        lia_audit_record r = {.actor = "cert-xx",
                              .channel = "email",
                              .address = "soc@cert-xx.example",
                              .object = obj,
                              .action = "acknowledged",
                              .before = "{\"state\":\"notified\"}",
                              .after = after};
        if (lia__audit_append_store(s, &r, &err)) {
            fprintf(stderr, "append: %s\n", err.reason);
            return 1;
        }
    }
    if (n && lia__db_commit(db, &err))
        return 1;
    double t1 = now();
    lia_buf_init(&note, LIA_NOTE_MAX);
    if (lia_audit_checkpoint(s, "bench.example/audit", &k, &note, &err))
        return 1;
    lia_note_key v = k;
    v.secret = 0;
    double t2 = now();
    int rc = lia_audit_verify(s, &v, 1, NULL, 0, &rep, &err);
    double t3 = now();
    lia_hash leaf, root, proof[LIA_MERKLE_PROOF_MAX];
    size_t len;
    if (rc || lia_audit_prove_inclusion(s, n / 2 + 1, 0, &leaf, &root, proof, &len, &err))
        return 1;
    double t4 = now();
    printf("records %ld\nappend %.2f s (%.0f records/s, in transactions of 10000)\n"
           "verify %.2f s (%.0f records/s)\ninclusion proof %.2f s (%zu hashes)\n",
           n, t1 - t0, n / (t1 - t0), t3 - t2, n / (t3 - t2), t4 - t3, len);
    lia_buf_free(&note);
    lia_store_close(s);
    remove(path);
    snprintf(path + strlen(path), sizeof path - strlen(path), "-wal");
    remove(path);
    return 0;
}
