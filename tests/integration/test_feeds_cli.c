/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The `liaison feeds`, `liaison fetch` and `liaison ingest --feed` commands
 * as a user runs them: a table of command lines, each with its expected exit
 * code and a piece of text its output must contain. They run in order on
 * one store (later steps see what earlier ones did). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char p[256];
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

typedef struct step {
    const char *args; /* after "liaison --db DB"; %D is the test directory, %L a
                       * URL of 2,100 bytes (longer than a feed URL may be) */
    int code;
    const char *expect; /* substring of stdout+stderr, or NULL */
} step;

static const step steps[] = {
    {"feeds list", 0, "no feeds registered"},
    {"feeds presets", 0, "https://feodotracker.abuse.ch/downloads/ipblocklist.json"},
    {"feeds presets", 0, "builtin:dataplane-sshpwauth"},
    {"feeds add --preset dataplane-sshpwauth dp", 0, NULL},
    {"feeds show dp", 0, "builtin:dataplane-sshpwauth"},
    {"feeds add --preset feodotracker", 0, "feed feodotracker added"},
    {"feeds add --preset feodotracker", 1, "a feed of that name exists"},
    {"feeds add --preset no-such", 2, "no preset"},
    {"feeds add x --format nope --url https://example.org/", 2, "unknown format"},
    {"feeds add x --format openphish", 2, "either a URL or a drop directory"},
    {"feeds add x --format openphish --url https://example.org/ --interval often", 2, "duration"},
    {"feeds add x --format openphish --url %L", 2, "--url https://example.org/aaaa"},
    {"feeds add x --format openphish --url %L", 2, "2100 bytes, longer than the limit of 2047"},
    {"feeds show x", 1, "no such feed"}, /* never stored cut short */
    {"feeds add dropper --format spamhaus-drop --dir %D/drop --interval 15m --provider Spamhaus", 0,
     "feed dropper added"},
    {"feeds add broken --format openphish --url http://127.0.0.1:1/feed.txt --interval 1h", 0, "added"},
    {"feeds list", 0, "dropper                      spamhaus-drop   yes      15m"},
    {"feeds show dropper", 0, "provider:       Spamhaus"},
    {"feeds show nope", 1, "no such feed"},
    {"feeds health", 0, "dropper                  ok       never"},
    {"fetch --retries 0 --timeout 5 dropper", 0,
     "dropper: 1 file(s), 0 failed: 2 rows, 2 events, 0 quarantined"},
    {"fetch --retries 0 --timeout 5 dropper", 0, "dropper: no new file"},
    {"fetch --retries 0 --timeout 5 broken", 1, "broken: FAILED"},
    {"feeds health", 3, "broken                   FAILING"},
    {"feeds disable broken", 0, "feed broken disabled"},
    {"feeds remove broken", 0, "feed broken removed"},
    {"feeds health", 0, "dropper                  ok"},
    {"ingest -q --feed dropper %D/asn.txt", 0, "2 events stored, 0 quarantined"},
    {"events --feed dropper --format jsonl", 0, "\"source.asn\":64496"},
    {"feeds bogus", 2, "unknown command"},
};

static void run_steps(void **state)
{
    const char *bin = getenv("LIAISON_BIN");
    char d[128];
    (void)state;
    assert_non_null(bin);
    snprintf(d, sizeof d, "%s/drop", dir);
    assert_int_equal(mkdir(d, 0700), 0);
    write_file(
        "drop/drop.txt",
        "; Last-Modified: Mon, 14 Sep 2015 04:39:22 GMT\n192.0.2.0/24 ; SBL1\n198.51.100.0/24 ; SBL2\n");
    write_file("asn.txt", "; ASN-DROP\nAS64496 ; FR | EXAMPLE-AS\nAS64497 ; | OTHER\n");
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char args[2600], cmd[3300], out[65536], sink[4096];
        size_t n = 0, k = 0;
        FILE *p;
        int st, code;
        for (const char *a = steps[i].args; *a && k < sizeof args - 80; a++) {
            if (a[0] == '%' && a[1] == 'D') {
                k += (size_t)snprintf(args + k, sizeof args - k, "%s", dir);
                a++;
            } else if (a[0] == '%' && a[1] == 'L') {
                k += (size_t)snprintf(args + k, sizeof args - k, "https://example.org/%02080d", 0);
                memset(args + k - 2080, 'a', 2080);
                a++;
            } else {
                args[k++] = *a;
            }
        }
        args[k] = '\0';
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --db '%s/l.db' %s 2>&1", dir, bin, dir, args);
        p = popen(cmd, "r");
        assert_non_null(p);
        n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        while (fread(sink, 1, sizeof sink, p) > 0) /* read to the end: no SIGPIPE */
            ;
        st = pclose(p);
        code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (code != steps[i].code || (steps[i].expect && !strstr(out, steps[i].expect))) {
            print_error("step %zu: liaison %s\n  exit %d (want %d), output:\n%s\n  want text: %s\n", i, args,
                        code, steps[i].code, out, steps[i].expect ? steps[i].expect : "");
            fail();
        }
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/liaison-feedscli-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(run_steps)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
