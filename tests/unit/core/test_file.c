/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for the one bounded file reader (src/core/file.c): sizes
 * around the limit, empty and missing files, a directory, and a pipe (whose
 * size no stat knows: too big is found while reading). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/file.h"

static char dir[] = "/tmp/lia_test_file_XXXXXX";

static void write_file(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc('a' + (int)(i % 26), f);
    assert_int_equal(fclose(f), 0);
}

static void test_file_sizes(void **state)
{
    static const struct {
        size_t size, max;
        int rc;
    } cases[] = {
        {0, 0, LIA_OK},
        {0, 10, LIA_OK},
        {1, 0, LIA_ELIMIT},
        {10, 10, LIA_OK},
        {11, 10, LIA_ELIMIT},
        {9, 10, LIA_OK},
        {65536, 65536, LIA_OK},
        {65537, 65536, LIA_ELIMIT},
        {200000, 1u << 20, LIA_OK},
        {200000, 199999, LIA_ELIMIT},
        {131073, 131072, LIA_ELIMIT},
    };
    char path[64];
    (void)state;
    snprintf(path, sizeof path, "%s/f", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_buf b;
        lia_error err;
        int rc;
        lia_error_clear(&err);
        write_file(path, cases[i].size);
        rc = lia__file_read(path, cases[i].max, &b, &err);
        if (rc != cases[i].rc)
            fail_msg("case %zu: %zu bytes, max %zu: rc %d, want %d (%s)", i, cases[i].size, cases[i].max, rc,
                     cases[i].rc, err.reason);
        if (rc == LIA_OK) {
            if (b.len != cases[i].size || !b.ptr || b.ptr[b.len] != '\0')
                fail_msg("case %zu: len %zu, want %zu, or not NUL-terminated", i, b.len, cases[i].size);
            for (size_t k = 0; k < b.len; k++)
                if (b.ptr[k] != 'a' + (int)(k % 26))
                    fail_msg("case %zu: byte %zu differs", i, k);
            lia_buf_free(&b);
        } else {
            assert_null(b.ptr); /* freed on error */
            assert_non_null(strstr(err.reason, "larger than"));
            assert_non_null(strstr(err.reason, path));
        }
    }
    unlink(path);
}

static void test_file_errors(void **state)
{
    char path[64];
    lia_buf b;
    lia_error err;
    (void)state;
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(lia__file_read(path, 100, &b, &err), LIA_ENOTFOUND);
    assert_non_null(strstr(err.reason, "cannot open"));
    assert_null(b.ptr);
    assert_int_equal(lia__file_read(dir, 100, &b, &err), LIA_EIO); /* a directory: read fails */
    assert_non_null(strstr(err.reason, "cannot read"));
    assert_int_equal(lia__file_read(path, 100, &b, NULL), LIA_ENOTFOUND); /* err may be NULL */
}

/* A FIFO has no size for stat to give: the limit must hold while reading. */
static void test_file_pipe(void **state)
{
    static const struct {
        size_t size, max;
        int rc;
    } cases[] = {{5000, 5000, LIA_OK}, {5001, 5000, LIA_ELIMIT}, {100000, 70000, LIA_ELIMIT}};
    char path[64];
    (void)state;
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lia_buf b;
        lia_error err;
        int rc, status;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) { /* writer: may get EPIPE once the reader stops */
            signal(SIGPIPE, SIG_DFL);
            FILE *f = fopen(path, "wb");
            for (size_t k = 0; f && k < cases[i].size; k++)
                fputc('x', f);
            if (f)
                fclose(f);
            _exit(0);
        }
        rc = lia__file_read(path, cases[i].max, &b, &err);
        waitpid(pid, &status, 0);
        if (rc != cases[i].rc)
            fail_msg("pipe case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, err.reason);
        if (rc == LIA_OK) {
            assert_int_equal(b.len, cases[i].size);
            lia_buf_free(&b);
        }
    }
    unlink(path);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_sizes),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_file_pipe),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
