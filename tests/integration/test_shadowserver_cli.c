/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The `liaison shadowserver` commands and `ingest --format shadowserver`
 * as a user runs them ($LIAISON_BIN): a table of command lines, each with
 * its expected exit code and text that must (or, with a leading '!', must
 * not) appear in its standard output + error. The steps run in order on one
 * store: installing a schema changes what later steps see. */
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

static const char *const mini =
    "{\"scan_x\": {\"feed_name\": \"Accessible-X\", \"file_name\": \"scan_x\","
    " \"constant_fields\": {\"classification.taxonomy\": \"vulnerable\", \"classification.type\":"
    " \"vulnerable-system\"},"
    " \"required_fields\": [[\"time.source\", \"timestamp\", \"add_UTC_to_timestamp\"],"
    " [\"source.ip\", \"ip\", \"validate_ip\"]], \"optional_fields\": [[\"source.port\", \"port\", "
    "\"convert_int\"]]}}";

static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_cli(void **state)
{
    static const struct {
        const char *args; /* after "liaison --db DIR/l.db"; DIR is replaced */
        int exit;
        const char *want; /* '|'-separated substrings; "!x": must not appear */
    } t[] = {
        {"shadowserver reports", 0,
         "(built-in)|162 report types, and 13 retired "
         "ones|scan_ics|Accessible-ICS|vulnerable/vulnerable-system|botnet_drone|RETIRED"},
        {"shadowserver detect DIR/2024-05-01-scan_ics-asn.csv", 0,
         "scan_ics (feed Accessible-ICS|REQUIRED COLUMNS MISSING: port"},
        {"shadowserver detect DIR/2024-05-01-nothing-asn.csv", 1, "no Shadowserver report type matches"},
        {"ingest --format shadowserver DIR/2024-05-01-scan_ics-asn.csv", 0,
         "1 events stored|warning: Shadowserver report scan_ics: required column(s) missing from the header "
         "(an older variant?): port; read with those fields empty"},
        {"ingest --format shadowserver DIR/2024-05-01-scan_ics-none.csv", 1, "none of them is there"},
        {"ingest --format shadowserver DIR/2019-01-01-botnet_drone-geo.csv", 0,
         "feed Drone: 1 rows read, 1 events stored|!warning"},
        {"ingest --report scan_mqtt DIR/mqtt.csv", 0,
         "feed Open-MQTT: 2 rows read, 1 events stored, 1 quarantined"},
        {"ingest --report no_such DIR/mqtt.csv", 2, "unknown Shadowserver report type 'no_such'"},
        {"shadowserver schema-update DIR/bad.json", 1, "report r1|\"feed_name\""},
        {"shadowserver reports", 0, "(built-in)|!Accessible-X"},
        {"shadowserver schema-update DIR/new.json", 0, "installed as|1 report types"},
        {"shadowserver reports", 0, "l.db.schema/shadowserver.json|scan_x|Accessible-X|!scan_ics"},
        {"ingest --format shadowserver DIR/2024-05-02-scan_x-a.csv", 0,
         "feed Accessible-X: 1 rows read, 1 events stored"},
        {"shadowserver", 2, "usage: liaison"},
    };
    const char *bin = getenv("LIAISON_BIN");
    char dir[] = "/tmp/liaison-sscli-XXXXXX";
    assert_non_null(bin);
    assert_non_null(mkdtemp(dir));
    put(dir, "2024-05-01-scan_ics-asn.csv", "timestamp,ip,protocol\n2024-05-01 00:00:00,192.0.2.1,tcp\n");
    put(dir, "2024-05-01-nothing-asn.csv", "a\n");
    put(dir, "2024-05-01-scan_ics-none.csv", "protocol,tag\ntcp,modbus\n");
    put(dir, "2019-01-01-botnet_drone-geo.csv",
        "timestamp,ip,port,infection\n2019-01-01 00:00:00,192.0.2.4,1024,dorkbot\n");
    put(dir, "mqtt.csv", "timestamp,ip,port\n2024-05-01 00:00:00,192.0.2.1,1883\n2024-05-01 00:00:00,192.0.2.300,1883\n");
    put(dir, "bad.json", "{\"r1\": {\"file_name\": \"r1\"}}");
    put(dir, "new.json", mini);
    put(dir, "2024-05-02-scan_x-a.csv", "timestamp,ip,port\n2024-05-02 00:00:00,192.0.2.9,22\n");
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char args[1024], cmd[2048], out[65536], want[512], *w, *bar, sink[4096];
        const char *a = t[i].args, *d;
        size_t n = 0, got;
        FILE *p;
        int st, code;
        while ((d = strstr(a, "DIR")) && n + (size_t)(d - a) + strlen(dir) < sizeof args) { /* DIR -> dir */
            memcpy(args + n, a, (size_t)(d - a));
            n += (size_t)(d - a);
            memcpy(args + n, dir, strlen(dir));
            n += strlen(dir);
            a = d + 3;
        }
        snprintf(args + n, sizeof args - n, "%s", a);
        snprintf(cmd, sizeof cmd, "'%s' --db '%s/l.db' %s 2>&1", bin, dir, args);
        p = popen(cmd, "r");
        assert_non_null(p);
        got = fread(out, 1, sizeof out - 1, p);
        out[got] = '\0';
        while (fread(sink, 1, sizeof sink, p) > 0) /* read to the end: no SIGPIPE */
            ;
        st = pclose(p);
        code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (code != t[i].exit)
            fail_msg("step %zu: liaison %s: exit %d expected, got %d:\n%s", i + 1, t[i].args, t[i].exit, code, out);
        snprintf(want, sizeof want, "%s", t[i].want);
        for (w = want; w; w = bar ? bar + 1 : NULL) {
            int neg = w[0] == '!';
            if ((bar = strchr(w, '|')))
                *bar = '\0';
            if (neg ? strstr(out, w + 1) != NULL : strstr(out, w) == NULL)
                fail_msg("step %zu: liaison %s: %s\"%s\" expected in:\n%s", i + 1, t[i].args, neg ? "no " : "",
                         neg ? w + 1 : w, out);
        }
    }
    {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cli)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
