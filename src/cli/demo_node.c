/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The demo's second Liaison node: the fictitious KH CERT runs node B (its
 * own store beside the demo's, DB.node-b), both nodes serve on 127.0.0.1
 * for the length of the demo, exchange partner keys, and B's analyst
 * triages an incident A handed to it: A's hand-off is acknowledged
 * through the node channel, with B's shared comment. The real exchange
 * (liaison node sync, /node/v1), in one process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define KH "sample-kh-cert"

typedef struct pick {
    int64_t a_incident; /* an incident A handed to KH, still only notified or pending */
    int64_t b_incident;
    int n;
} pick;

static int pending_cb(void *ud, const lia_handoff *h)
{
    pick *p = ud;
    if (!p->a_incident && (h->state == LIA_HO_PENDING || h->state == LIA_HO_NOTIFIED))
        p->a_incident = h->incident;
    return 0;
}

static int acked_cb(void *ud, const lia_handoff *h)
{
    (void)ud;
    if (strcmp(h->channel, "node") == 0)
        printf("    on node A, incident #%lld: hand-off to %s %s by %s, channel %s\n", (long long)h->incident,
               h->recipient, lia_handoff_state_name(h->state), h->by, h->channel);
    return 0;
}

static int incoming_cb(void *ud, const lia_incident *inc)
{
    pick *p = ud;
    (void)inc;
    p->n++;
    return 0;
}

/* org (kind partner, linked to party) with a user and a new key in token. */
static int partner_key(lia_store *s, const char *org, const char *party, char token[LIA_KEY_TOKEN_MAX],
                       lia_error *err)
{
    char user[LIA_NAME_MAX];
    int64_t id;
    int rc;
    snprintf(user, sizeof user, "%s-node", org);
    if ((rc = lia_accounts_org_add(s, org, LIA_ORG_PARTNER, LIA_TLP_AMBER, &id, err)) && rc != LIA_EEXIST)
        return rc;
    if ((rc = lia_accounts_org_link(s, org, party, err)))
        return rc;
    if ((rc = lia_accounts_user_add(s, org, user, LIA_ROLE_PARTNER, NULL, &id, err)) && rc != LIA_EEXIST)
        return rc;
    return lia_accounts_key_add(s, user, 0, 0, token, &id, err);
}

static int verifier(const char *path, const char *origin, lia_note_key *k, char *out, size_t n,
                    lia_error *err)
{
    lia_buf b;
    int rc;
    if ((rc = lia_audit_key_load(path, origin, 1, k, err)))
        return rc;
    lia_buf_init(&b, 1024);
    lia_note_key_format_verifier(k, &b);
    snprintf(out, n, "%s", lia_buf_cstr(&b));
    lia_buf_free(&b);
    return LIA_OK;
}

static int sync_one(lia_store *s, const char *peer, const lia_note_key *k, const char *origin,
                    lia_node_sync_report *rep, lia_error *err)
{
    lia_node_sync_opts o = {.peer = peer, .key = k, .origin = origin, .now = 1, .timeout_s = 10};
    return lia_node_sync(s, &o, rep, err);
}

int cli_demo_node(lia_store *a, const char *db)
{
    static const char partner_b[] = "partners:\n"
                                    "  - id: national-cert\n"
                                    "    name: \"The demo's national CERT (node A)\"\n"
                                    "    countries: [NL]\n"
                                    "    contacts: [cert@national-cert.example]\n"
                                    "    tlp_max: AMBER\n"
                                    "    agreement: true\n";
    char bdb[4096], akey[4200], bkey[4200], ta[LIA_KEY_TOKEN_MAX], tb[LIA_KEY_TOKEN_MAX], url[64], va[300],
        vb[300];
    lia_http_opts oa, ob;
    lia_http *ha = NULL, *hb = NULL;
    lia_store *b = NULL;
    lia_note_key ka, kb;
    lia_node_peer peer;
    lia_node_sync_report rep;
    lia_actor who = {"demo", "cli", "local"};
    lia_error err;
    pick p = {0};
    size_t np;
    int rc;
    lia_error_clear(&err);
    printf("\n  an answer from a second Liaison node (%s runs Liaison too)\n", KH);
    if (lia_node_get(a, KH, &peer, &err) == LIA_OK) {
        printf("    ran before on this store: liaison --db %s node list\n", db);
        return LIA_EXIT_OK;
    }
    lia_error_clear(&err);
    if ((rc = lia_handoff_list(a, 0, -1, KH, pending_cb, &p, &err)))
        goto fail;
    if (!p.a_incident) {
        printf("    no incident waits on %s: nothing to exchange\n", KH);
        return LIA_EXIT_OK;
    }
    if (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0) {
        /* a URI is no path: B is a SQLite file beside A's archive, A's key
         * the default of a PostgreSQL store (cli_audit_key_path) */
        snprintf(bdb, sizeof bdb, "%s.node-b", lia_store_archive_dir(a));
        snprintf(akey, sizeof akey, "liaison.audit-key");
    } else {
        snprintf(bdb, sizeof bdb, "%s.node-b", db);
        snprintf(akey, sizeof akey, "%s.audit-key", db);
    }
    snprintf(bkey, sizeof bkey, "%s.audit-key", bdb);
    unlink(bdb);
    if ((rc = lia_store_open(bdb, &b, &err)) ||
        (rc = lia_party_import(b, LIA_PARTY_PARTNER, "yaml", partner_b, sizeof partner_b - 1, &np, &err)) ||
        (rc = partner_key(a, "kh-cert-node", KH, tb, &err)) ||
        (rc = partner_key(b, "national-cert-node", "national-cert", ta, &err)) ||
        (rc = verifier(akey, "national-cert.example/audit", &ka, va, sizeof va, &err)) ||
        (rc = verifier(bkey, "kh-cert.example/audit", &kb, vb, sizeof vb, &err)))
        goto fail;
    memset(&oa, 0, sizeof oa);
    oa.db = db;
    oa.listen = "127.0.0.1:0";
    oa.threads = 2;
    ob = oa;
    ob.db = bdb;
    if ((rc = lia_http_start(&oa, &ha, &err)) || (rc = lia_http_start(&ob, &hb, &err)))
        goto fail;
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)lia_http_port(hb));
    if ((rc = lia_node_add(a, KH, url, ta, vb, &who, &err)))
        goto fail;
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)lia_http_port(ha));
    if ((rc = lia_node_add(b, "national-cert", url, tb, va, &who, &err)))
        goto fail;
    if ((rc = sync_one(a, KH, &ka, "national-cert.example/audit", &rep, &err)))
        goto fail;
    printf("    node A (this store) -> node B (%s, serving on 127.0.0.1:%u): %llu messages delivered\n", bdb,
           (unsigned)lia_http_port(hb), (unsigned long long)rep.sent);
    if (rep.failed)
        printf("    not delivered: %s\n", rep.last_error);
    if ((rc = lia_incident_list(b, NULL, incoming_cb, &p, &err)) ||
        (rc = lia_node_incoming(b, "national-cert", p.a_incident, &p.b_incident, &err)))
        goto fail;
    printf("    node B opened %d incoming incidents with their events (feed node:national-cert)\n", p.n);
    {
        /* B's analyst takes the one A's #a_incident became */
        lia_incident_change ch = LIA_INCIDENT_CHANGE_KEEP;
        ch.status = LIA_INC_TRIAGED;
        if ((rc = lia_incident_update(b, p.b_incident, &ch, &who, &err)) ||
            (rc =
                 lia_incident_comment(b, p.b_incident, "shared:national-cert",
                                      "Taken: we are contacting the network operators.", &who, NULL, &err)) ||
            (rc = sync_one(b, "national-cert", &kb, "kh-cert.example/audit", &rep, &err)))
            goto fail;
        printf("    node B's analyst triaged its incident #%lld (A's #%lld) and commented: %llu answers "
               "delivered"
               " to A\n",
               (long long)p.b_incident, (long long)p.a_incident, (unsigned long long)rep.sent);
    }
    if ((rc = lia_handoff_list(a, 0, LIA_HO_ACKNOWLEDGED, KH, acked_cb, NULL, &err)))
        goto fail;
    printf("    liaison --db %s handoff list --recipient %s | liaison --db %s node list\n"
           "    liaison --db %s incident list   (node B's store)\n",
           db, KH, db, bdb);
    rc = LIA_OK;
fail:
    lia_http_stop(ha);
    lia_http_stop(hb);
    lia_store_close(b);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}
