/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The `liaison ip lookup` command as a user runs it: sources from the
 * command line and from STORE.conf, the explanation of which source gave
 * what, and exit codes for bad input. */
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

/* Run the command line (through sh), capture stdout+stderr; returns the exit code. */
static int run(const char *args, char *out, size_t n)
{
    char cmd[8192];
    const char *bin = getenv("LIAISON_BIN");
    FILE *p;
    size_t len = 0;
    int st;
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin ? bin : "liaison", args);
    p = popen(cmd, "r");
    assert_non_null(p);
    while (len + 1 < n) {
        size_t r = fread(out + len, 1, n - len - 1, p);
        if (r == 0)
            break;
        len += r;
    }
    out[len] = '\0';
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *td(void)
{
    const char *d = getenv("LIAISON_TESTDATA");
    return d ? d : "tests/data";
}

static void test_sources_on_command_line(void **state)
{
    char args[4096], out[65536];
    (void)state;
    snprintf(
        args, sizeof args,
        "--db /nonexistent/x.db ip lookup --source mmdb:%s/ipdata/maxmind/GeoLite2-ASN-Test.mmdb "
        "--source rir:%s/ipdata/rir/delegated-apnic-20101217.excerpt "
        "--source mmdb:%s/ipdata/maxmind/GeoIP2-Country-Test.mmdb 1.128.0.1 1.9.5.5 81.2.69.160 10.0.0.1",
        td(), td(), td());
    assert_int_equal(run(args, out, sizeof out), 0);
    print_message("%s", out);
    /* 1.128.0.1: ASN from [1], country from the APNIC record (1.128.0.0, 2^21 addresses, AU) */
    assert_non_null(
        strstr(out, "answer: country AU (from [2]), AS1221 (from [1]), \"Telstra Pty Ltd\" (from [1])"));
    /* 1.9.5.5: country from the RIR file */
    assert_non_null(strstr(out, "range 1.9.0.0 - 1.9.255.255: country MY"));
    assert_non_null(strstr(out, "answer: country MY (from [2])"));
    /* 81.2.69.160: country from the third source */
    assert_non_null(strstr(out, "country GB (from [3])"));
    /* 10.0.0.1: nobody knows */
    assert_non_null(strstr(out, "answer: country unknown, ASN unknown"));
    assert_non_null(strstr(out, "sources (precedence order):"));
    assert_non_null(strstr(out, "RIR delegated statistics ranges: 100 read"));
}

static void test_sources_from_store_conf(void **state)
{
    char dir[] = "/tmp/liaison-ipcli-XXXXXX", conf[4200], args[4400], out[65536];
    FILE *f;
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(conf, sizeof conf, "%s/l.db.conf", dir);
    f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "[ipdata]\nsource = mmdb %s/ipdata/maxmind/GeoIP2-Country-Test.mmdb\n", td());
    fclose(f);
    snprintf(args, sizeof args, "--db %s/l.db ip lookup 2001:218::1", dir);
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "answer: country JP (from [1])"));

    /* a broken configuration: one line saying where and why, exit 1 */
    f = fopen(conf, "w");
    fprintf(f, "[ipdata]\nsource = gif /x\n");
    fclose(f);
    assert_int_equal(run(args, out, sizeof out), 1);
    assert_non_null(strstr(out, "l.db.conf:2"));
    assert_non_null(strstr(out, "mmdb, rir or csv"));
    snprintf(args, sizeof args, "rm -rf '%s'", dir);
    assert_int_equal(system(args), 0);
}

static void test_errors(void **state)
{
    char out[65536], args[4096];
    (void)state;
    /* no source at all */
    assert_int_equal(run("--db /nonexistent/y.db ip lookup 192.0.2.1", out, sizeof out), 1);
    assert_non_null(strstr(out, "no IP data source"));
    /* not an IP */
    snprintf(args, sizeof args,
             "ip lookup --source mmdb:%s/ipdata/maxmind/GeoIP2-Country-Test.mmdb 1.2.3.999", td());
    assert_int_equal(run(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "1.2.3.999"));
    /* bad --source */
    assert_int_equal(run("ip lookup --source bogus 1.2.3.4", out, sizeof out), 2);
    /* a missing file */
    assert_int_equal(run("ip lookup --source csv:/nonexistent.csv 1.2.3.4", out, sizeof out), 1);
    assert_non_null(strstr(out, "/nonexistent.csv"));
    /* unknown subcommand */
    assert_int_equal(run("ip find 1.2.3.4", out, sizeof out), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources_on_command_line),
        cmocka_unit_test(test_sources_from_store_conf),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
