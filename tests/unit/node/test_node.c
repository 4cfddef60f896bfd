/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The node exchange (include/liaison/node.h): the message reader accepts
 * the messages of docs/nodes.md and refuses each malformed one naming the
 * member; the checkpoint exchange keeps a peer's log head only when it
 * extends the one held (consistency proof), and refuses, audit-logged, a
 * smaller head, a rewritten one, a bad proof and a foreign signature. */
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
#include <sodium.h>

#include "liaison/liaison.h"

static const struct {
    const char *json;
    int rc;
    const char *field; /* the member the error names; NULL for LIA_OK */
} msgs[] = {
    {"{\"liaison_node\":1,\"type\":\"ack\",\"seq\":1,\"yours\":3,\"mine\":9,\"at\":\"2026-12-06T09:00:00Z\"}",
     LIA_OK, NULL},
    {"{\"liaison_node\":1,\"type\":\"comment\",\"seq\":2,\"incident\":3,\"at\":\"2026-12-06T09:00:00Z\","
     "\"text\":\"x\"}",
     LIA_OK, NULL},
    {"{\"liaison_node\":1,\"type\":\"offer\",\"seq\":1,\"incident\":3,\"at\":\"2026-12-06T09:00:00Z\","
     "\"offer\":"
     "{\"title\":\"t\",\"severity\":\"high\",\"tlp\":\"AMBER\",\"events\":[{\"source.ip\":\"192.0.2.1\"},{}]}"
     "}",
     LIA_OK, NULL},
    {"not json", LIA_EPARSE, "message"},
    {"[1]", LIA_EPARSE, "message"},
    {"{\"liaison_node\":2,\"type\":\"ack\",\"seq\":1,\"yours\":3,\"at\":\"2026-12-06T09:00:00Z\"}",
     LIA_EUNSUPPORTED, "liaison_node"},
    {"{\"liaison_node\":1,\"type\":\"nudge\",\"seq\":1,\"yours\":3,\"at\":\"2026-12-06T09:00:00Z\"}",
     LIA_EINVAL, "type"},
    {"{\"liaison_node\":1,\"type\":\"ack\",\"seq\":0,\"yours\":3,\"at\":\"2026-12-06T09:00:00Z\"}",
     LIA_EINVAL, "seq"},
    {"{\"liaison_node\":1,\"type\":\"ack\",\"seq\":1,\"yours\":3,\"at\":\"yesterday\"}", LIA_EINVAL, "at"},
    {"{\"liaison_node\":1,\"type\":\"ack\",\"seq\":1,\"incident\":3,\"at\":\"2026-12-06T09:00:00Z\"}",
     LIA_EINVAL, "incident"},
    {"{\"liaison_node\":1,\"type\":\"offer\",\"seq\":1,\"yours\":3,\"at\":\"2026-12-06T09:00:00Z\",\"offer\":"
     "{}}",
     LIA_EINVAL, "yours"},
    {"{\"liaison_node\":1,\"type\":\"ack\",\"seq\":1,\"yours\":3,\"incident\":3,\"at\":\"2026-12-06T09:00:"
     "00Z\"}",
     LIA_EINVAL, "incident"},
    {"{\"liaison_node\":1,\"type\":\"reject\",\"seq\":1,\"yours\":3,\"at\":\"2026-12-06T09:00:00Z\"}",
     LIA_EINVAL, "text"},
    {"{\"liaison_node\":1,\"type\":\"ack\",\"seq\":1,\"yours\":3,\"at\":\"2026-12-06T09:00:00Z\",\"x\":1}",
     LIA_EINVAL, "message"},
    {"{\"liaison_node\":1,\"type\":\"ack\",\"seq\":1,\"yours\":3,\"yours\":4,\"at\":\"2026-12-06T09:00:"
     "00Z\"}",
     LIA_EPARSE, "message"},
    {"{\"liaison_node\":1,\"type\":\"offer\",\"seq\":1,\"incident\":3,\"at\":\"2026-12-06T09:00:00Z\","
     "\"offer\":"
     "{\"title\":\"t\",\"severity\":\"urgent\",\"tlp\":\"AMBER\"}}",
     LIA_EINVAL, "severity"},
    {"{\"liaison_node\":1,\"type\":\"offer\",\"seq\":1,\"incident\":3,\"at\":\"2026-12-06T09:00:00Z\","
     "\"offer\":"
     "{\"title\":\"t\",\"severity\":\"low\",\"tlp\":\"PURPLE\"}}",
     LIA_EINVAL, "offer.tlp"},
    {"{\"liaison_node\":1,\"type\":\"offer\",\"seq\":1,\"incident\":3,\"at\":\"2026-12-06T09:00:00Z\","
     "\"offer\":"
     "{\"title\":\"t\",\"severity\":\"low\",\"tlp\":\"GREEN\",\"events\":[1]}}",
     LIA_EINVAL, "offer.events"},
    {"{\"liaison_node\":1,\"type\":\"comment\",\"seq\":1,\"incident\":3,\"at\":\"2026-12-06T09:00:00Z\","
     "\"text\":\"a\\u0000b\"}",
     LIA_EPARSE, "message"}, /* jansson refuses NUL in strings */
};

static void test_reader(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        lia_node_msg m;
        lia_error e;
        int rc;
        lia_error_clear(&e);
        rc = lia_node_msg_parse(msgs[i].json, strlen(msgs[i].json), &m, &e);
        if (rc != msgs[i].rc || (msgs[i].field && strcmp(e.field, msgs[i].field) != 0))
            fail_msg("message %zu: rc %d field '%s' (%s), expected rc %d field '%s'", i, rc, e.field,
                     e.reason, msgs[i].rc, msgs[i].field ? msgs[i].field : "");
        if (rc == LIA_OK && m.type == LIA_NODE_OFFER) {
            assert_int_equal(m.nevents, 2);
            assert_string_equal(m.events, "{\"source.ip\":\"192.0.2.1\"}\n{}\n");
        }
        if (rc == LIA_OK && m.type == LIA_NODE_ACK) {
            assert_true(m.yours);
            assert_int_equal(m.incident, 3);
            assert_int_equal(m.sender_incident, 9);
        }
        lia_node_msg_free(&m);
    }
}

static char dir[64];
static lia_store *sa, *sb;
static lia_note_key ka;

static void grow(int n)
{
    lia_incident in;
    lia_actor who = {"tester", "cli", "local"};
    lia_error e;
    int64_t id;
    memset(&in, 0, sizeof in);
    in.title = "an incident";
    in.tlp = "AMBER";
    for (int i = 0; i < n; i++)
        assert_int_equal(lia_incident_create(sa, &in, NULL, 0, NULL, 0, &who, &id, &e), LIA_OK);
}

/* The checkpoint exchange body for note (signed by key k) with a proof from size from. */
static void body_of(const lia_buf *note, uint64_t from, const lia_hash *proof, size_t plen, lia_buf *out)
{
    lia_buf_reset(out);
    lia_buf_puts(out, "{\"checkpoint\":");
    lia_buf_json_str(out, note->ptr, note->len);
    lia_buf_printf(out, ",\"from\":%llu,\"proof\":[", (unsigned long long)from);
    for (size_t i = 0; i < plen; i++) {
        char t[64];
        sodium_bin2base64(t, sizeof t, proof[i].b, LIA_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
        lia_buf_printf(out, "%s\"%s\"", i ? "," : "", t);
    }
    lia_buf_puts(out, "]}");
}

static int refused_cb(void *ud, const lia_audit_record *r)
{
    if (strcmp(r->action, "checkpoint-refused") == 0)
        (*(int *)ud)++;
    return 0;
}

static void test_checkpoints(void **state)
{
    lia_buf n1, n2, body, forged;
    lia_hash r1, r2, proof[LIA_MERKLE_PROOF_MAX];
    size_t plen = 0;
    uint64_t need = 0, s1, s2;
    lia_note_key other;
    lia_audit_filter f = {.object = "node:cert-a"};
    lia_error e;
    char kp[96];
    int refused = 0;
    (void)state;
    lia_buf_init(&n1, LIA_NOTE_MAX);
    lia_buf_init(&n2, LIA_NOTE_MAX);
    lia_buf_init(&forged, LIA_NOTE_MAX);
    lia_buf_init(&body, 1u << 20);
    lia_error_clear(&e);
    grow(3);
    assert_int_equal(lia_audit_checkpoint(sa, "a.example/audit", &ka, &n1, &e), LIA_OK);
    assert_int_equal(lia_audit_head(sa, &s1, &r1, &e), LIA_OK);
    grow(4);
    assert_int_equal(lia_audit_checkpoint(sa, "a.example/audit", &ka, &n2, &e), LIA_OK);
    assert_int_equal(lia_audit_head(sa, &s2, &r2, &e), LIA_OK);
    assert_true(s2 > s1);

    /* the first head is taken as it is */
    body_of(&n1, 0, NULL, 0, &body);
    assert_int_equal(lia_node_checkpoint_in(sb, "cert-a", "192.0.2.9", body.ptr, body.len, &need, &e),
                     LIA_OK);
    /* a bigger one needs a proof from the size held */
    body_of(&n2, 0, NULL, 0, &body);
    assert_int_equal(lia_node_checkpoint_in(sb, "cert-a", "192.0.2.9", body.ptr, body.len, &need, &e),
                     LIA_ESTATE);
    assert_int_equal(need, s1);
    /* a wrong proof: refused */
    assert_int_equal(lia_audit_prove_consistency(sa, s1, s2, &r1, &r2, proof, &plen, &e), LIA_OK);
    assert_true(plen > 0);
    proof[0].b[0] ^= 1;
    body_of(&n2, s1, proof, plen, &body);
    assert_int_equal(lia_node_checkpoint_in(sb, "cert-a", "192.0.2.9", body.ptr, body.len, &need, &e),
                     LIA_EAUTH);
    assert_non_null(strstr(e.reason, "does not extend"));
    proof[0].b[0] ^= 1;
    body_of(&n2, s1, proof, plen, &body);
    assert_int_equal(lia_node_checkpoint_in(sb, "cert-a", "192.0.2.9", body.ptr, body.len, &need, &e),
                     LIA_OK);
    /* the older, smaller head again: the log was cut */
    body_of(&n1, 0, NULL, 0, &body);
    assert_int_equal(lia_node_checkpoint_in(sb, "cert-a", "192.0.2.9", body.ptr, body.len, &need, &e),
                     LIA_EAUTH);
    assert_non_null(strstr(e.reason, "was cut"));
    /* signed by another key */
    snprintf(kp, sizeof kp, "%s/other.key", dir);
    assert_int_equal(lia_audit_key_load(kp, "a.example/audit", 1, &other, &e), LIA_OK);
    assert_int_equal(lia_audit_checkpoint(sa, "a.example/audit", &other, &forged, &e), LIA_OK);
    body_of(&forged, s2, NULL, 0, &body);
    assert_int_equal(lia_node_checkpoint_in(sb, "cert-a", "192.0.2.9", body.ptr, body.len, &need, &e),
                     LIA_EAUTH);
    /* the holder keeps the head of size s2, and logged each refusal */
    lia_buf_reset(&n1);
    assert_int_equal(lia_node_their_checkpoint(sb, "cert-a", &n1, &e), LIA_OK);
    assert_memory_equal(n1.ptr, n2.ptr, n2.len);
    assert_int_equal(lia_audit_list(sb, &f, refused_cb, &refused, &e), LIA_OK);
    assert_int_equal(refused, 2);
    /* not a peer */
    assert_int_equal(lia_node_checkpoint_in(sb, "cert-z", NULL, body.ptr, body.len, &need, &e), LIA_EAUTH);
    lia_buf_free(&n1);
    lia_buf_free(&n2);
    lia_buf_free(&forged);
    lia_buf_free(&body);
}

static int fail_setup(const char *what, const lia_error *e)
{
    fprintf(stderr, "setup: %s: %s: %s\n", what, e->field, e->reason);
    return -1;
}

static int setup(void **state)
{
    char p[256];
    lia_party party;
    lia_buf vk;
    lia_actor who = {"tester", "cli", "local"};
    lia_error e;
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/lia-test-node-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    lia_error_clear(&e);
    if (lia_test_db_path(dir, "a", p, sizeof p) || lia_store_open(p, &sa, &e))
        return -1;
    if (lia_test_db_path(dir, "b", p, sizeof p) || lia_store_open(p, &sb, &e))
        return -1;
    snprintf(p, sizeof p, "%s/a.key", dir);
    if (lia_audit_key_load(p, "a.example/audit", 1, &ka, &e))
        return -1;
    lia_party_init(&party, LIA_PARTY_PARTNER);
    if (lia_party_set_id(&party, "cert-a", 6, &e) ||
        lia_party_add(&party, LIA_PF_COUNTRIES, "NL", 2, 1, &e) ||
        lia_party_add(&party, LIA_PF_CONTACTS, "cert@a.example", 14, 1, &e) ||
        lia_party_save(sb, &party, 0, &e))
        return fail_setup("partner", &e);
    lia_party_free(&party);
    lia_buf_init(&vk, 1024);
    lia_note_key_format_verifier(&ka, &vk);
    if (lia_node_add(sb, "cert-a", "http://127.0.0.1:9", "lia_token", lia_buf_cstr(&vk), &who, &e))
        return fail_setup("node add", &e);
    lia_buf_free(&vk);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    lia_store_close(sa);
    lia_store_close(sb);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_checkpoints),
    };
    if (lia_test_pg())
        return cmocka_run_group_tests_name("node on PostgreSQL", tests, setup, teardown);
    return cmocka_run_group_tests_name("node", tests, setup, teardown);
}
