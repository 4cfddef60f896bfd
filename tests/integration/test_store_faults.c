/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The store when the file system gets in its way (issue 16 point 4):
 * a store that this process may not write is opened read-only (queries
 * work, writes fail with LIA_EREADONLY naming the file), a full store
 * (SQLite's max_page_count: a full disk as SQLite sees it) and a full disk
 * under the archive (/dev/full) fail with LIA_EFULL naming the file and
 * the operation and commit nothing of the report, and, where this process
 * may mount a tmpfs (root), the same on a real full or read-only file
 * system. Runs the real `liaison` binary (LIAISON_BIN) for the CLI. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "liaison/liaison.h"
#include "store/backend.h"
#include "store/db.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/liaison-faults-XXXXXX");
    if (!mkdtemp(dir) || chmod(dir, 0755) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[256], mnt[128];
    (void)state;
    snprintf(mnt, sizeof mnt, "%s/mnt", dir);
    umount2(mnt, MNT_DETACH); /* a tmpfs test that failed half-way */
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* n JSON lines, one event each, line i with address 10.x.y.z of i + base. */
static char *jsonl(int n, int base, size_t *len)
{
    size_t cap = (size_t)n * 96 + 1, k = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    for (int i = 0; i < n; i++) {
        int v = i + base;
        k += (size_t)snprintf(s + k, cap - k,
                              "{\"source.ip\":\"10.%d.%d.%d\",\"classification.type\":\"scanner\"}\n",
                              v >> 16 & 255, v >> 8 & 255, v & 255);
    }
    *len = k;
    return s;
}

static void write_report(const char *path, int n, int base)
{
    size_t len;
    char *s = jsonl(n, base, &len);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, len, f), len);
    fclose(f);
    free(s);
}

static int ingest(lia_store *s, const char *path, lia_ingest_result *res, lia_error *err)
{
    lia_ingest_opts o;
    memset(&o, 0, sizeof o);
    o.format = "jsonl";
    o.path = path;
    o.archive = 1;
    o.feed.feed = "faults";
    o.feed.tlp = LIA_TLP_GREEN;
    lia_error_clear(err);
    return lia_ingest(s, &o, res, err);
}

static uint64_t count(lia_store *s)
{
    lia_query q;
    uint64_t n = UINT64_MAX;
    lia_error e;
    memset(&q, 0, sizeof q);
    assert_int_equal(lia_store_count(s, &q, &n, &e), LIA_OK);
    return n;
}

static void expect_in(const char *what, const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("%s: \"%s\" not in: %s", what, want, text);
}

/* ---- read-only ---- */

/* Run `liaison --db db ARGS...` as uid (-1: as we are); stdout and stderr
 * into out (both, truncated); returns the exit status. */
static int cli_as(int uid, const char *db, char *out, size_t n, const char *a1, const char *a2,
                  const char *a3, const char *a4, const char *a5, const char *a6)
{
    const char *bin = getenv("LIAISON_BIN");
    int p[2], st;
    size_t k = 0;
    ssize_t r;
    pid_t pid;
    assert_non_null(bin);
    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        if (uid >= 0 && (setgid((gid_t)uid) != 0 || setuid((uid_t)uid) != 0))
            _exit(97);
        execl(bin, bin, "--db", db, a1, a2, a3, a4, a5, a6, (char *)NULL);
        _exit(98);
    }
    close(p[1]);
    while (k + 1 < n && (r = read(p[0], out + k, n - 1 - k)) > 0)
        k += (size_t)r;
    out[k] = '\0';
    close(p[0]);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One store, three events, then read-only for `who`: as root, the commands
 * run as nobody (root may write any file); otherwise the modes say it.
 * dir_writable: the directory stays writable (SQLite can make PATH-shm:
 * mode=ro) or not (immutable=1). */
static void readonly_case(int dir_writable)
{
    char sub[128], db[192], rep[192], rep2[192], out[8192];
    int who = geteuid() == 0 ? 65534 : -1;
    snprintf(sub, sizeof sub, "%s/ro%d", dir, dir_writable);
    snprintf(db, sizeof db, "%s/l.db", sub);
    snprintf(rep, sizeof rep, "%s/r.jsonl", dir);
    snprintf(rep2, sizeof rep2, "%s/r2.jsonl", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    write_report(rep, 3, 1);
    write_report(rep2, 2, 100);
    chmod(rep2, 0644);
    if (cli_as(-1, db, out, sizeof out, "ingest", "--feed", "faults", "--format", "jsonl", rep) != 0)
        fail_msg("ingest: %s", out);
    assert_int_equal(chmod(db, 0444), 0);
    assert_int_equal(chmod(sub, dir_writable ? 0777 : 0555), 0);
    if (cli_as(who, db, out, sizeof out, "events", "--count", NULL, NULL, NULL, NULL) != 0)
        fail_msg("events on a read-only store: %s", out);
    assert_string_equal(out, "3\n");
    if (cli_as(who, db, out, sizeof out, "stats", NULL, NULL, NULL, NULL, NULL) != 0)
        fail_msg("stats on a read-only store: %s", out);
    expect_in("stats", out, "feed faults: 1 report(s)");
    assert_int_equal(
        cli_as(who, db, out, sizeof out, "ingest", "--feed", "faults", "--format", "jsonl", rep2), 1);
    expect_in("ingest into a read-only store", out, "is read-only");
    expect_in("ingest into a read-only store", out, db);
    assert_int_equal(chmod(sub, 0755), 0);
    assert_int_equal(chmod(db, 0644), 0);
    if (cli_as(-1, db, out, sizeof out, "events", "--count", NULL, NULL, NULL, NULL) != 0)
        fail_msg("events: %s", out);
    assert_string_equal(out, "3\n"); /* nothing of the refused ingest */
}

/* Before: "unable to open database file" (directory not writable) or
 * "attempt to write a readonly database" at open (file not writable). */
static void test_readonly_dir(void **state)
{
    (void)state;
    readonly_case(0);
}

static void test_readonly_file(void **state)
{
    (void)state;
    readonly_case(1);
}

/* The layer's own view: lia__db_readonly, the code, the message. */
static void test_readonly_layer(void **state)
{
    char db[128];
    lia_db *h;
    lia_error e;
    (void)state;
    snprintf(db, sizeof db, "%s/layer.db", dir);
    assert_int_equal(lia__db_open(db, 0, &h, &e), LIA_OK);
    assert_int_equal(lia__db_exec(h, "CREATE TABLE t(x)", &e), LIA_OK);
    assert_int_equal(lia__db_readonly(h), 0);
    lia__db_close(h);
    assert_int_equal(lia__db_open(db, LIA_DB_READONLY, &h, &e), LIA_OK);
    assert_int_equal(lia__db_readonly(h), 1);
    lia_error_clear(&e);
    assert_int_equal(lia__db_exec(h, "INSERT INTO t VALUES(1)", &e), LIA_EREADONLY);
    expect_in("write to a read-only handle", e.reason, "is read-only");
    expect_in("write to a read-only handle", e.reason, db);
    expect_in("write to a read-only handle", e.reason, "INSERT INTO t VALUES");
    lia__db_close(h);
    assert_string_equal(lia_strerror(LIA_EREADONLY), "store is read-only");
}

/* ---- full ---- */

/* The store reaches its page limit (what SQLite reports for a full disk,
 * SQLITE_FULL) while a small report is ingested: LIA_EFULL naming the file
 * and the operation, no event of the report committed, and the same ingest
 * stores all of it once there is room. Before: "COMMIT: database or disk is
 * full" and LIA_ESTORE. */
static void test_store_full(void **state)
{
    char db[128], rep[128], sql[64];
    lia_store *s;
    lia_ingest_result res;
    lia_error e;
    lia_stmt *st;
    int64_t pages = 0;
    (void)state;
    snprintf(db, sizeof db, "%s/full.db", dir);
    snprintf(rep, sizeof rep, "%s/full.jsonl", dir);
    write_report(rep, 2000, 0);
    assert_int_equal(lia_store_open(db, &s, &e), LIA_OK);
    assert_int_equal(lia__db_prepare_once(lia__store_db(s), "pages", "PRAGMA page_count", &st, &e), LIA_OK);
    assert_int_equal(lia__db_step(st, &e), LIA_DB_ROW);
    pages = lia__db_col_int64(st, 0);
    lia__db_done(st);
    snprintf(sql, sizeof sql, "PRAGMA max_page_count=%lld", (long long)pages + 4);
    assert_int_equal(lia__db_exec(lia__store_db(s), sql, &e), LIA_OK);
    assert_int_equal(ingest(s, rep, &res, &e), LIA_EFULL);
    expect_in("full store", e.reason, "no space left for store");
    expect_in("full store", e.reason, db);
    assert_int_equal(count(s), 0);
    assert_int_equal(lia__db_exec(lia__store_db(s), "PRAGMA max_page_count=1073741823", &e), LIA_OK);
    assert_int_equal(ingest(s, rep, &res, &e), LIA_OK);
    assert_int_equal(count(s), 2000);
    assert_int_equal(lia_store_check(s, &e), LIA_OK);
    lia_store_close(s);
    assert_string_equal(lia_strerror(LIA_EFULL), "no space left for the store");
}

/* The archive's disk is full (its temporary file is /dev/full): the ingest
 * fails with LIA_EFULL and the system's reason, and commits none of the
 * report's events (they are committed with the report complete, after the
 * archive); the same ingest once there is room stores every event once. */
static void test_archive_full(void **state)
{
    char db[128], rep[128], tmp[512];
    unsigned char h[32];
    char hex[65];
    lia_store *s;
    lia_ingest_result res;
    lia_error e;
    size_t len;
    char *data = jsonl(50, 0, &len);
    (void)state;
    snprintf(db, sizeof db, "%s/arch.db", dir);
    snprintf(rep, sizeof rep, "%s/arch.jsonl", dir);
    write_report(rep, 50, 0);
    assert_int_equal(sodium_init() >= 0, 1);
    crypto_generichash(h, sizeof h, (const unsigned char *)data, len, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    free(data);
    assert_int_equal(lia_store_open(db, &s, &e), LIA_OK);
    snprintf(tmp, sizeof tmp, "%s/%s.gz.tmp.%ld", lia_store_archive_dir(s), hex, (long)getpid());
    assert_int_equal(symlink("/dev/full", tmp), 0);
    assert_int_equal(ingest(s, rep, &res, &e), LIA_EFULL);
    expect_in("archive on a full disk", e.reason, "No space left on device");
    expect_in("archive on a full disk", e.reason, "archive");
    assert_int_equal(count(s), 0);
    struct stat st;
    assert_int_equal(lstat(tmp, &st), -1); /* no temporary file left (here: the link) */
    assert_int_equal(ingest(s, rep, &res, &e), LIA_OK);
    assert_int_equal(res.report.events, 50);
    assert_int_equal(count(s), 50);
    lia_store_close(s);
}

/* ---- a real tmpfs, where we may mount one ---- */

static off_t lseek_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static int mount_tmpfs(const char *at, const char *opts)
{
    if (mkdir(at, 0755) != 0 && errno != EEXIST)
        return -1;
    return mount("tmpfs", at, "tmpfs", 0, opts);
}

/* An 8 MiB tmpfs filled up but 512 KiB: the ingest fails with LIA_EFULL naming the
 * store (or the archive) and commits nothing; after room is made, the same
 * ingest stores every event once and the store is intact. Then the file
 * system read-only (remount): queries work, an ingest is LIA_EREADONLY. */
static void test_tmpfs(void **state)
{
    char mnt[128], db[192], rep[128], fill[192], buf[4096];
    lia_store *s;
    lia_ingest_result res;
    lia_error e;
    FILE *f;
    (void)state;
    snprintf(mnt, sizeof mnt, "%s/mnt", dir);
    if (mount_tmpfs(mnt, "size=8m") != 0) {
        print_message("no tmpfs (mount: %s): the page-limit and /dev/full tests stand in\n", strerror(errno));
        skip();
    }
    snprintf(db, sizeof db, "%s/l.db", mnt);
    snprintf(fill, sizeof fill, "%s/fill", mnt);
    snprintf(rep, sizeof rep, "%s/tmpfs.jsonl", dir);
    write_report(rep, 4000, 0); /* its WAL needs more than the room left */
    assert_int_equal(lia_store_open(db, &s, &e), LIA_OK);
    f = fopen(fill, "wb"); /* fill it, then leave 512 KiB */
    assert_non_null(f);
    memset(buf, 'x', sizeof buf);
    while (fwrite(buf, 1, sizeof buf, f) == sizeof buf)
        ;
    fclose(f);
    assert_int_equal(truncate(fill, lseek_size(fill) - 512 * 1024), 0);
    int rc = ingest(s, rep, &res, &e);
    if (rc != LIA_EFULL)
        fail_msg("ingest on a full tmpfs: %d (%s), want LIA_EFULL", rc, e.reason);
    expect_in("full tmpfs", e.reason, mnt);
    assert_int_equal(count(s), 0);
    assert_int_equal(unlink(fill), 0);
    if ((rc = ingest(s, rep, &res, &e)) != LIA_OK)
        fail_msg("ingest with room again: %d (%s)", rc, e.reason);
    assert_int_equal(count(s), 4000);
    assert_int_equal(lia_store_check(s, &e), LIA_OK);
    lia_store_close(s);
    assert_int_equal(mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, "size=8m"), 0);
    assert_int_equal(lia_store_open(db, &s, &e), LIA_OK);
    assert_int_equal(lia__db_readonly(lia__store_db(s)), 1);
    assert_int_equal(count(s), 4000);
    write_report(rep, 10, 50000);
    assert_int_equal(ingest(s, rep, &res, &e), LIA_EREADONLY);
    expect_in("read-only tmpfs", e.reason, db);
    lia_store_close(s);
    assert_int_equal(umount(mnt), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_readonly_layer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tmpfs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
