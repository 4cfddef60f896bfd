/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison audit verify|list|checkpoint|prove: the tamper-evident audit log
 * (RFC 6962 Merkle tree, signed C2SP checkpoints). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void audit_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] audit COMMAND ...\n"
               "\n"
               "  checkpoint             sign the current tree head with the node key and store it;\n"
               "                         prints the signed checkpoint (C2SP tlog-checkpoint)\n"
               "  verify [--checkpoint FILE] [--vkey KEY]...\n"
               "                         check every record and every stored checkpoint; FILE is\n"
               "                         a checkpoint kept outside the store (e.g. the copy a\n"
               "                         partner cosigned); KEY a verifier key (the partner's\n"
               "                         cosigner key, or ours when the key file is elsewhere).\n"
               "                         Exit 1 naming the first broken record.\n"
               "  list [--object O] [--actor A] [--since T] [--until T] [--limit N]\n"
               "  prove --seq N [--size M]      inclusion proof of record N (in the tree of M)\n"
               "  prove --from N1 [--to N2]     consistency proof between tree sizes N1 and N2\n"
               "  cosign FILE --vkey KEY   as a partner's witness: check the checkpoint FILE with\n"
               "                         the partner's verifier KEY and print it with our\n"
               "                         cosignature (C2SP tlog-cosignature v1) added\n"
               "\n"
               "  --key PATH     the node's signer key (default $LIAISON_AUDIT_KEY, else DB.audit-key,\n"
               "                 or ./liaison.audit-key for a postgresql:// store; made on first\n"
               "                 checkpoint, mode 0600)\n"
               "  --origin O     the checkpoint's origin and key name (default $LIAISON_AUDIT_ORIGIN,\n"
               "                 else liaison.local/audit)\n"
               "  --format table|json\n");
}

static void hex(const lia_hash *h, char out[65])
{
    for (int i = 0; i < LIA_HASH_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", h->b[i]);
}

typedef struct ctx {
    int json, n;
} ctx;

static int print_record(void *ud, const lia_audit_record *r)
{
    ctx *c = ud;
    char t[LIA_TIME_TEXT];
    lia_time_format(r->at_us, t, sizeof t);
    if (c->json) {
        lia_buf b;
        lia_buf_init(&b, 1u << 24);
        lia_audit_leaf_bytes(r, &b);
        printf("%s%s", c->n ? ",\n" : "", lia_buf_cstr(&b));
        lia_buf_free(&b);
    } else {
        printf("%8lld  %s  %-12s %-6s %-15s %-24s %-12s %s\n", (long long)r->seq, t, r->actor, r->channel,
               r->address, r->object, r->action, r->after ? r->after : "");
    }
    c->n++;
    return 0;
}

int cli_audit_key_path(cli *c, const char *given, char *out, size_t n)
{
    const char *env = getenv("LIAISON_AUDIT_KEY");
    if (given)
        snprintf(out, n, "%s", given);
    else if (env && *env)
        snprintf(out, n, "%s", env);
    else if (strncmp(c->db, "postgresql://", 13) == 0 || strncmp(c->db, "postgres://", 11) == 0)
        snprintf(out, n, "liaison.audit-key"); /* a URI is no path: beside ./liaison.archive */
    else
        snprintf(out, n, "%s.audit-key", c->db);
    return 0;
}

#define MAX_VKEYS 8

static char kp_buf[1024];
static const char *kp_for(cli *c, const char *given)
{
    cli_audit_key_path(c, given, kp_buf, sizeof kp_buf);
    return kp_buf;
}

/* Cosign a partner's checkpoint with our node key (as a cosigner key). No
 * store needed: the partner keeps the cosigned copy. */
static int cosign(cli *c, const char *kp, const char *origin, int npos, char **pos, const char **vkeys,
                  size_t nvkeys)
{
    lia_note_key mine, partner;
    lia_note_opened o;
    lia_buf in, out;
    lia_error err;
    int rc;
    (void)c;
    lia_error_clear(&err);
    if (npos != 1 || nvkeys != 1) {
        cli_errorf("audit cosign: FILE and --vkey KEY (the partner's verifier key)");
        return LIA_EXIT_USAGE;
    }
    if (cli_read_file(pos[0], LIA_NOTE_MAX, &in))
        return LIA_EXIT_ERROR;
    lia_buf_init(&out, 2 * LIA_NOTE_MAX);
    if ((rc = lia_note_key_parse_verifier(vkeys[0], strlen(vkeys[0]), &partner, &err)) == LIA_OK &&
        (rc = lia_note_open(in.ptr, in.len, &partner, 1, &o, &err)) == LIA_OK &&
        (rc = lia_audit_key_load(kp, origin, 1, &mine, &err)) == LIA_OK) {
        lia_checkpoint ck;
        lia_buf vk;
        lia_note_key_as(&mine, LIA_NOTE_COSIG, &mine);
        if ((rc = lia_checkpoint_parse(in.ptr, o.text_len, &ck, &err)) == LIA_OK) {
            lia_buf_append(&out, in.ptr, in.len);
            rc = lia_note_sign_line(in.ptr, o.text_len, &mine, (uint64_t)time(NULL), &out, &err);
        }
        if (rc == LIA_OK) {
            fputs(lia_buf_cstr(&out), stdout);
            lia_buf_init(&vk, 1024);
            lia_note_key_format_verifier(&mine, &vk);
            fprintf(stderr, "liaison: cosigned %s at size %llu; our cosigner key %s\n", ck.origin,
                    (unsigned long long)ck.size, lia_buf_cstr(&vk));
            lia_buf_free(&vk);
        }
    }
    lia_buf_free(&in);
    lia_buf_free(&out);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return LIA_EXIT_OK;
}

int cmd_audit(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'K'},
        {"origin", required_argument, NULL, 'o'},
        {"checkpoint", required_argument, NULL, 'c'},
        {"vkey", required_argument, NULL, 'v'},
        {"object", required_argument, NULL, 'b'},
        {"actor", required_argument, NULL, 'a'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"limit", required_argument, NULL, 'l'},
        {"seq", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 'z'},
        {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sub = argc > 1 ? argv[1] : NULL, *keyarg = NULL, *outside = NULL;
    const char *origin = getenv("LIAISON_AUDIT_ORIGIN"), *vkeys[MAX_VKEYS], *why = NULL;
    size_t nvkeys = 0;
    lia_audit_filter f = {0};
    uint64_t seq = 0, size = 0, from = 0, to = 0;
    int have_seq = 0, have_from = 0, ch, rc = LIA_OK, exit_code = LIA_EXIT_OK;
    ctx cx = {0, 0};
    char kp[1024];
    lia_store *s;
    lia_error err;
    lia_error_clear(&err);
    if (!origin || !*origin)
        origin = "liaison.local/audit";
    if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        audit_usage(sub ? stdout : stderr);
        return sub ? LIA_EXIT_OK : LIA_EXIT_USAGE;
    }
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        uint64_t v = 0;
        int64_t t = 0;
        if (strchr("lnzFT", ch) && cli_parse_u64(optarg, &v)) {
            cli_errorf("audit %s: %s is not a number", sub, optarg);
            return LIA_EXIT_USAGE;
        }
        if (strchr("su", ch) && lia_parse_time(optarg, strlen(optarg), &t, &why)) {
            cli_errorf("audit %s: %s: %s", sub, optarg, why ? why : "not a time");
            return LIA_EXIT_USAGE;
        }
        switch (ch) {
        case 'K': keyarg = optarg; break;
        case 'o': origin = optarg; break;
        case 'c': outside = optarg; break;
        case 'v':
            if (nvkeys == MAX_VKEYS) {
                cli_errorf("audit verify: at most %d --vkey", MAX_VKEYS);
                return LIA_EXIT_USAGE;
            }
            vkeys[nvkeys++] = optarg;
            break;
        case 'b': f.object = optarg; break;
        case 'a': f.actor = optarg; break;
        case 's': f.since_us = t; break;
        case 'u': f.until_us = t; break;
        case 'l': f.limit = v; break;
        case 'n': seq = v, have_seq = 1; break;
        case 'z': size = v; break;
        case 'F': from = v, have_from = 1; break;
        case 'T': to = v; break;
        case 'f':
            if (cli_format_arg("audit", optarg, &cx.json))
                return LIA_EXIT_USAGE;
            break;
        case 'h': audit_usage(stdout); return LIA_EXIT_OK;
        default: cli_errorf("audit %s: bad option (see liaison audit --help)", sub); return LIA_EXIT_USAGE;
        }
    }
    if (strcmp(sub, "cosign") == 0)
        return cosign(c, kp_for(c, keyarg), origin, argc - 1 - optind, argv + 1 + optind, vkeys, nvkeys);
    if (strcmp(sub, "verify") && strcmp(sub, "list") && strcmp(sub, "checkpoint") && strcmp(sub, "prove")) {
        cli_errorf("audit: unknown command '%s' (see liaison audit --help)", sub);
        return LIA_EXIT_USAGE;
    }
    if (strcmp(sub, "prove") == 0 && have_seq == have_from) {
        cli_errorf("audit prove: --seq N (inclusion) or --from N1 (consistency)");
        return LIA_EXIT_USAGE;
    }
    cli_audit_key_path(c, keyarg, kp, sizeof kp);
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;
    if (strcmp(sub, "checkpoint") == 0) {
        lia_note_key k;
        lia_buf note;
        lia_buf_init(&note, LIA_NOTE_MAX);
        if ((rc = lia_audit_key_load(kp, origin, 1, &k, &err)) == LIA_OK &&
            (rc = lia_audit_checkpoint(s, origin, &k, &note, &err)) == LIA_OK) {
            lia_buf vk;
            lia_buf_init(&vk, 1024);
            lia_note_key_format_verifier(&k, &vk);
            fputs(lia_buf_cstr(&note), stdout);
            fprintf(stderr, "liaison: checkpoint stored; verifier key %s\n", lia_buf_cstr(&vk));
            lia_buf_free(&vk);
        }
        lia_buf_free(&note);
    } else if (strcmp(sub, "list") == 0) {
        if (cx.json)
            printf("[");
        rc = lia_audit_list(s, &f, print_record, &cx, &err);
        if (cx.json)
            printf("]\n");
        else if (rc == LIA_OK && cx.n == 0)
            printf("no audit records\n");
    } else if (strcmp(sub, "verify") == 0) {
        lia_note_key keys[MAX_VKEYS + 1], sk;
        size_t nk = 0;
        lia_buf ob;
        lia_audit_report rep;
        lia_buf_init(&ob, 0);
        lia_error e2;
        lia_error_clear(&e2);
        if (lia_audit_key_load(kp, origin, 0, &sk, &e2) == LIA_OK) {
            keys[nk] = sk;
            memset(keys[nk].sk, 0, sizeof keys[nk].sk);
            keys[nk++].secret = 0;
        }
        for (size_t i = 0; i < nvkeys && rc == LIA_OK; i++)
            rc = lia_note_key_parse_verifier(vkeys[i], strlen(vkeys[i]), &keys[nk++], &err);
        if (rc == LIA_OK && nk == 0)
            rc = lia_error_set(&err, LIA_EINVAL, "audit key", kp, strlen(kp),
                               "no node key to check checkpoints with (%s; or give --vkey)", e2.reason);
        if (rc == LIA_OK && outside && cli_read_file(outside, LIA_NOTE_MAX, &ob))
            rc = lia_error_set(&err, LIA_EIO, "checkpoint", outside, strlen(outside), "unreadable");
        if (rc == LIA_OK) {
            rc = lia_audit_verify(s, keys, nk, outside ? ob.ptr : NULL, ob.len, &rep, &err);
            if (rc == LIA_OK)
                printf("audit log verified: %llu records, %llu checkpoints\n",
                       (unsigned long long)rep.records, (unsigned long long)rep.checkpoints);
            else if (rc == LIA_EAUTH) {
                printf("audit log BROKEN at record %lld: %s\n", (long long)rep.first_bad, rep.what);
                exit_code = LIA_EXIT_ERROR;
                rc = LIA_OK;
            }
        }
        if (outside)
            lia_buf_free(&ob);
    } else if (have_seq) {
        lia_hash leaf, root, proof[LIA_MERKLE_PROOF_MAX];
        size_t len = 0;
        char h[65];
        rc = lia_audit_prove_inclusion(s, (int64_t)seq, size, &leaf, &root, proof, &len, &err);
        if (rc == LIA_OK) {
            uint64_t n = size;
            if (n == 0)
                lia_audit_head(s, &n, &root, &err);
            hex(&leaf, h);
            printf(cx.json ? "{\"seq\":%llu,\"size\":%llu,\"leaf\":\"%s\""
                           : "inclusion of record %llu in %llu\nleaf %s\n",
                   (unsigned long long)seq, (unsigned long long)n, h);
            hex(&root, h);
            printf(cx.json ? ",\"root\":\"%s\",\"proof\":[" : "root %s\n", h);
            for (size_t i = 0; i < len; i++) {
                hex(&proof[i], h);
                printf(cx.json ? "%s\"%s\"" : "%s%s\n", cx.json && i ? "," : "", h);
            }
            if (cx.json)
                printf("]}\n");
            if (lia_merkle_verify_inclusion(seq - 1, n, &leaf, proof, len, &root) != LIA_OK)
                rc = lia_error_set(&err, LIA_EAUTH, "proof", NULL, 0, "the proof does not verify");
        }
    } else {
        lia_hash r1, r2, proof[LIA_MERKLE_PROOF_MAX];
        size_t len = 0;
        char h[65];
        uint64_t n2 = to;
        if (n2 == 0 && (rc = lia_audit_head(s, &n2, &r2, &err)) != LIA_OK)
            goto out;
        rc = lia_audit_prove_consistency(s, from, n2, &r1, &r2, proof, &len, &err);
        if (rc == LIA_OK) {
            char h2[65];
            hex(&r1, h);
            hex(&r2, h2);
            printf(cx.json ? "{\"size1\":%llu,\"size2\":%llu,\"root1\":\"%s\",\"root2\":\"%s\",\"proof\":["
                           : "consistency of %llu with %llu\nroot1 %s\nroot2 %s\n",
                   (unsigned long long)from, (unsigned long long)n2, h, h2);
            for (size_t i = 0; i < len; i++) {
                hex(&proof[i], h);
                printf(cx.json ? "%s\"%s\"" : "%s%s\n", cx.json && i ? "," : "", h);
            }
            if (cx.json)
                printf("]}\n");
            if (lia_merkle_verify_consistency(from, n2, &r1, &r2, proof, len) != LIA_OK)
                rc = lia_error_set(&err, LIA_EAUTH, "proof", NULL, 0, "the proof does not verify");
        }
    }
out:
    lia_store_close(s);
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return exit_code;
}
