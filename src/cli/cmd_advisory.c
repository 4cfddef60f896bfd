/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison advisory provider|new|edit|validate|publish|list|show: CSAF 2.0
 * security advisories (liaison/advisory.h, docs/advisories.md). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liaison/notify.h"

#include "cli.h"

static void advisory_usage(FILE *f)
{
    fprintf(
        f,
        "usage: liaison [--db PATH] advisory COMMAND ...\n"
        "\n"
        "  provider [NAME=VALUE ...]   the provider's settings (none: show them): publisher_name,\n"
        "                              publisher_namespace (URL), publisher_category (coordinator),\n"
        "                              contact, base_url (where serve is reached), id_prefix (LIA),\n"
        "                              sign_key (OpenPGP fingerprint), gnupg_home; NAME= removes\n"
        "  new [--file F] [--from-incident ID] [FIELDS]   a draft; prints its tracking id\n"
        "  edit ID [--file F] [FIELDS]  fields added to the advisory's (or a whole new document)\n"
        "  validate (ID [--published] | --file F)  our checks: one \"JSON-PATH: reason\" a problem (exit 3)\n"
        "  publish ID [--sign-key FPR] [--gnupg-home DIR] [--change TEXT]\n"
        "                              final, the next version, SHA-512 and OpenPGP signature; served\n"
        "                              by `liaison serve` under /.well-known/csaf/\n"
        "  notify ID [--dry-run [--out DIR]] [--smtp URL] [--from ADDR] [--sign-key FPR] [--unsigned]\n"
        "                              the published document and its signature by e-mail to each\n"
        "                              partner the TLP policy lets receive it (once per version)\n"
        "  list [--format table|json]\n"
        "  show ID [--published]        the draft (or the published) document\n"
        "\n"
        "--file F: a CSAF 2.0 document (JSON with \"document\"), a JSON object of fields, or a\n"
        "simple input file of \"key: value\" lines. FIELDS (each also a key of the input file):\n"
        "  --id ID --title T --category advisory|incident --tlp CLEAR|GREEN|AMBER|RED --lang L\n"
        "  --summary T --details T --sectors 'Energy, Water' --countries 'KH, MY'\n"
        "  --reference 'URL SUMMARY' --product 'ID=VENDOR/PRODUCT/VERSION'\n"
        "  --cve CVE-YYYY-N (then, for it:) --vuln-title T --vuln-note T\n"
        "  --cvss 'CVSS:3.1/AV:N/... [SCORE]' --affects P1,P2 --fixed P3\n"
        "  --remediation 'vendor_fix[P1]: Update to 2.1'\n"
        "TLP:AMBER+STRICT is refused: CSAF 2.0 carries TLP 1.0, which cannot express it.\n");
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int print_problem(void *ud, const char *path, const char *reason)
{
    int *n = ud;
    (*n)++;
    fprintf(stderr, "liaison: %s: %s\n", *path ? path : "/", reason);
    return 0;
}

#define MAX_FLAGS 1024

typedef struct input {
    lia_advisory_field f[LIA_ADVISORY_MAX_FIELDS];
    size_t n;
    lia_buf inc, file, fjson; /* hold the fields' text */
    const char *csaf;         /* a whole CSAF document (file) */
    size_t csaf_len;
} input;

/* Read --file: a whole CSAF document, JSON fields or the simple input. */
static int read_input(input *in, const char *path)
{
    lia_error e;
    const char *p;
    size_t n = 0;
    lia_error_clear(&e);
    if (cli_read_file(path, LIA_ADVISORY_MAX_DOC, &in->file))
        return -1;
    for (p = lia_buf_cstr(&in->file); *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'; p++)
        ;
    if (*p == '{') {
        if (strstr(p, "\"document\"")) {
            in->csaf = in->file.ptr;
            in->csaf_len = in->file.len;
            return 0;
        }
        lia_buf_init(&in->fjson, LIA_ADVISORY_MAX_DOC);
        if (lia_advisory_fields_from_json(in->file.ptr, in->file.len, &in->fjson, &e)) {
            lia_error_where(&e, path, 0);
            cli_error(&e);
            return -1;
        }
        if (lia_advisory_fields_parse(in->fjson.ptr ? in->fjson.ptr : (char *)"", in->f + in->n,
                                      LIA_ADVISORY_MAX_FIELDS - in->n, &n, &e)) {
            cli_error(&e);
            return -1;
        }
    } else if (lia_advisory_fields_parse(in->file.ptr ? in->file.ptr : (char *)"", in->f + in->n,
                                         LIA_ADVISORY_MAX_FIELDS - in->n, &n, &e)) {
        snprintf(e.source, sizeof e.source, "%s", path);
        cli_error(&e);
        return -1;
    }
    in->n += n;
    return 0;
}

static int list_cb(void *ud, const lia_advisory_info *a)
{
    int *json = ud;
    char t[LIA_TIME_TEXT] = "-";
    if (a->published_us)
        lia_time_format(a->published_us, t, sizeof t);
    if (*json > 0) {
        lia_buf b;
        lia_buf_init(&b, 1u << 20);
        lia_buf_puts(&b, "{\"id\":");
        lia_buf_json_str(&b, a->id, strlen(a->id));
        lia_buf_puts(&b, ",\"title\":");
        lia_buf_json_str(&b, a->title, strlen(a->title));
        lia_buf_printf(&b, ",\"category\":\"%s\",\"tlp\":\"%s\",\"version\":%d,\"changed\":%s,\"published\":",
                       a->category, lia_tlp_name(a->tlp), a->version, a->changed ? "true" : "false");
        if (a->published_us)
            lia_buf_printf(&b, "\"%s\",\"path\":\"%s\"}", t, a->path);
        else
            lia_buf_puts(&b, "null,\"path\":null}");
        printf("%s%s", *json > 1 ? ",\n" : "", lia_buf_cstr(&b));
        lia_buf_free(&b);
        (*json)++;
    } else
        printf("%-20s %-6s v%-3d %-8s %-25s %s\n", a->id, lia_tlp_name(a->tlp), a->version,
               a->changed ? (a->version ? "edited" : "draft") : "public", t, a->title);
    return 0;
}

typedef struct notify_ctx {
    const char *out;
    int n, failed;
} notify_ctx;

static int notify_cb(void *ud, const lia_notify_advisory_result *r)
{
    notify_ctx *c = ud;
    printf("%-24s %-12s %s%s%s\n", r->recipient, r->outcome, r->to, *r->why ? ": " : "", r->why);
    if (strcmp(r->outcome, "failed") == 0)
        c->failed++;
    if (r->message && c->out) {
        char path[4096];
        FILE *f;
        snprintf(path, sizeof path, "%s/%d-%s.eml", c->out, ++c->n, r->recipient + 8);
        if (!(f = fopen(path, "wb")) || fwrite(r->message->ptr, 1, r->message->len, f) != r->message->len) {
            cli_errorf("%s: cannot write", path);
            c->failed++;
        }
        if (f)
            fclose(f);
    }
    return 0;
}

static int show_cb(void *ud, const lia_advisory_info *a)
{
    (void)ud;
    (void)a;
    return 0;
}

int cmd_advisory(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"id", required_argument, NULL, 1000},
        {"title", required_argument, NULL, 1001},
        {"category", required_argument, NULL, 1002},
        {"tlp", required_argument, NULL, 1003},
        {"lang", required_argument, NULL, 1004},
        {"summary", required_argument, NULL, 1005},
        {"details", required_argument, NULL, 1006},
        {"sectors", required_argument, NULL, 1007},
        {"countries", required_argument, NULL, 1008},
        {"reference", required_argument, NULL, 1009},
        {"product", required_argument, NULL, 1010},
        {"cve", required_argument, NULL, 1011},
        {"vuln-title", required_argument, NULL, 1012},
        {"vuln-note", required_argument, NULL, 1013},
        {"cvss", required_argument, NULL, 1014},
        {"affects", required_argument, NULL, 1015},
        {"fixed", required_argument, NULL, 1016},
        {"remediation", required_argument, NULL, 1017},
        {"file", required_argument, NULL, 'f'},
        {"from-incident", required_argument, NULL, 'i'},
        {"sign-key", required_argument, NULL, 'k'},
        {"gnupg-home", required_argument, NULL, 'g'},
        {"change", required_argument, NULL, 'c'},
        {"published", no_argument, NULL, 'p'},
        {"dry-run", no_argument, NULL, 'n'},
        {"out", required_argument, NULL, 'o'},
        {"smtp", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'm'},
        {"unsigned", no_argument, NULL, 'u'},
        {"format", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sub = argc > 1 ? argv[1] : NULL, *file = NULL, *skey = NULL, *home = NULL, *change = NULL;
    const char *flag_key[MAX_FLAGS], *flag_val[MAX_FLAGS];
    size_t nflags = 0;
    int ch, json = 0, published = 0, exit_code = LIA_EXIT_OK, rc = LIA_OK, problems = 0;
    uint64_t incident = 0;
    lia_notify_advisory_opts na = {0};
    const char *outdir = NULL;
    int have_incident = 0, tlp_given = -1;
    input *in = NULL;
    lia_store *s = NULL;
    lia_error err;
    lia_error_clear(&err);
    if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        advisory_usage(sub ? stdout : stderr);
        return sub ? LIA_EXIT_OK : LIA_EXIT_USAGE;
    }
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        if (ch >= 1000 && ch <= 1017) {
            if (nflags == MAX_FLAGS) {
                cli_errorf("advisory %s: more than %d field flags", sub, MAX_FLAGS);
                return LIA_EXIT_USAGE;
            }
            flag_key[nflags] = opts[ch - 1000].name;
            flag_val[nflags++] = optarg;
            if (ch == 1003) {
                const char *why;
                if (lia_parse_tlp(optarg, strlen(optarg), &tlp_given, &why)) {
                    cli_errorf("advisory %s: --tlp %s: %s", sub, optarg, why);
                    return LIA_EXIT_USAGE;
                }
            }
            continue;
        }
        switch (ch) {
        case 'f': file = optarg; break;
        case 'i':
            if (cli_parse_u64(optarg, &incident)) {
                cli_errorf("advisory %s: --from-incident %s is not an incident id", sub, optarg);
                return LIA_EXIT_USAGE;
            }
            have_incident = 1;
            break;
        case 'k': skey = optarg; break;
        case 'g': home = optarg; break;
        case 'c': change = optarg; break;
        case 'p': published = 1; break;
        case 'n': na.dry_run = 1; break;
        case 'o': outdir = optarg; break;
        case 's': na.smtp_url = optarg; break;
        case 'm': na.mail_from = optarg; break;
        case 'u': na.unsigned_ok = 1; break;
        case 'F':
            if (cli_format_arg("advisory", optarg, &json))
                return LIA_EXIT_USAGE;
            break;
        case 'h': advisory_usage(stdout); return LIA_EXIT_OK;
        default: cli_errorf("advisory %s: unknown option %s", sub, argv[optind]); return LIA_EXIT_USAGE;
        }
    }
    char **pos = argv + 1 + optind;
    int npos = argc - 1 - optind;
    const char *id = npos > 0 ? pos[0] : NULL;
    if (cli_open_store(c, &s))
        return LIA_EXIT_ERROR;

    if (strcmp(sub, "provider") == 0) {
        static const char *const names[] = {
            "publisher_name", "publisher_namespace", "publisher_category", "contact",
            "base_url",       "id_prefix",           "sign_key",           "gnupg_home"};
        for (int i = 0; i < npos && !rc; i++) {
            char name[64];
            const char *eq = strchr(pos[i], '=');
            if (!eq || (size_t)(eq - pos[i]) >= sizeof name) {
                cli_errorf("advisory provider: %s is not NAME=VALUE", pos[i]);
                exit_code = LIA_EXIT_USAGE;
                goto out;
            }
            memcpy(name, pos[i], (size_t)(eq - pos[i]));
            name[eq - pos[i]] = '\0';
            rc = lia_advisory_setting_set(s, name, eq + 1, &err);
        }
        for (size_t i = 0; !rc && npos == 0 && i < sizeof names / sizeof *names; i++) {
            lia_buf v;
            lia_buf_init(&v, 1u << 16);
            int r2 = lia_advisory_setting_get(s, names[i], &v, &err);
            if (r2 == LIA_OK)
                printf("%s=%s\n", names[i], lia_buf_cstr(&v));
            else if (r2 != LIA_ENOTFOUND)
                rc = r2;
            lia_buf_free(&v);
        }
        goto out;
    }
    if (strcmp(sub, "list") == 0) {
        if (json)
            printf("[");
        rc = lia_advisory_list(s, list_cb, &json, &err);
        if (json)
            printf("]\n");
        goto out;
    }
    if (strcmp(sub, "show") == 0) {
        lia_buf doc;
        if (!id) {
            cli_errorf("advisory show: which advisory? (advisory show ID)");
            exit_code = LIA_EXIT_USAGE;
            goto out;
        }
        lia_buf_init(&doc, LIA_ADVISORY_MAX_DOC);
        if (!(rc = lia_advisory_get(s, id, published, show_cb, NULL, &doc, &err)))
            fputs(lia_buf_cstr(&doc), stdout);
        lia_buf_free(&doc);
        goto out;
    }
    if (strcmp(sub, "publish") == 0) {
        int version = 0;
        if (!id) {
            cli_errorf("advisory publish: which advisory? (advisory publish ID)");
            exit_code = LIA_EXIT_USAGE;
            goto out;
        }
        rc = lia_advisory_publish(s, id, skey, home, change, now_us(), print_problem, &problems, &version,
                                  &err);
        if (!rc)
            printf("%s: version %d published\n", id, version);
        goto out;
    }
    if (strcmp(sub, "notify") == 0) {
        notify_ctx nc = {outdir, 0, 0};
        if (!id) {
            cli_errorf("advisory notify: which advisory? (advisory notify ID)");
            exit_code = LIA_EXIT_USAGE;
            goto out;
        }
        na.sign_key = skey;
        na.gnupg_home = home;
        if (!(rc = lia_notify_advisory(s, id, &na, notify_cb, &nc, &err)) && nc.failed)
            exit_code = LIA_EXIT_ERROR;
        goto out;
    }
    if (strcmp(sub, "new") && strcmp(sub, "edit") && strcmp(sub, "validate")) {
        cli_errorf(
            "advisory: unknown command %s (provider, new, edit, validate, publish, notify, list, show)", sub);
        exit_code = LIA_EXIT_USAGE;
        goto out;
    }
    if (!(in = calloc(1, sizeof *in))) {
        cli_errorf("out of memory");
        exit_code = LIA_EXIT_ERROR;
        goto out;
    }
    lia_buf_init(&in->inc, LIA_ADVISORY_MAX_DOC);
    if (have_incident) {
        size_t n = 0;
        if (strcmp(sub, "new") != 0) {
            cli_errorf("advisory %s: --from-incident is for advisory new", sub);
            exit_code = LIA_EXIT_USAGE;
            goto out;
        }
        if ((rc = lia_advisory_fields_from_incident(s, (int64_t)incident, tlp_given, &in->inc, &err)) ||
            (rc = lia_advisory_fields_parse(in->inc.ptr, in->f, LIA_ADVISORY_MAX_FIELDS, &n, &err)))
            goto out;
        in->n = n;
    }
    if (file && read_input(in, file)) {
        exit_code = LIA_EXIT_ERROR;
        goto out;
    }
    for (size_t i = 0; i < nflags; i++) {
        if (in->n == LIA_ADVISORY_MAX_FIELDS) {
            cli_errorf("advisory %s: more than %d fields", sub, LIA_ADVISORY_MAX_FIELDS);
            exit_code = LIA_EXIT_USAGE;
            goto out;
        }
        in->f[in->n].key = flag_key[i];
        in->f[in->n++].value = flag_val[i];
    }
    if (strcmp(sub, "new") == 0) {
        char out_id[LIA_ADVISORY_ID_MAX];
        if (!in->n && !in->csaf) {
            cli_errorf("advisory new: nothing to make it of (--file, --from-incident or field flags)");
            exit_code = LIA_EXIT_USAGE;
            goto out;
        }
        if (!(rc = lia_advisory_create(s, in->f, in->n, in->csaf, in->csaf_len, print_problem, &problems,
                                       out_id, &err)))
            printf("%s\n", out_id);
    } else if (strcmp(sub, "edit") == 0) {
        if (!id) {
            cli_errorf("advisory edit: which advisory? (advisory edit ID ...)");
            exit_code = LIA_EXIT_USAGE;
            goto out;
        }
        if (!(rc = lia_advisory_edit(s, id, in->f, in->n, in->csaf, in->csaf_len, print_problem, &problems,
                                     &err)))
            printf("%s: edited (publish it for a new version)\n", id);
    } else { /* validate */
        lia_buf doc;
        size_t np = 0;
        lia_buf_init(&doc, LIA_ADVISORY_MAX_DOC);
        if (id)
            rc = lia_advisory_get(s, id, published, show_cb, NULL, &doc, &err);
        else if (in->csaf)
            lia_buf_append(&doc, in->csaf, in->csaf_len);
        else if (in->n) {
            lia_csaf_publisher pub = {"(publisher)", "https://publisher.invalid", NULL, NULL};
            rc = lia_advisory_build(in->f, in->n, &pub, now_us(), &doc, &err);
        } else {
            cli_errorf("advisory validate: what? (advisory validate ID, or --file F)");
            exit_code = LIA_EXIT_USAGE;
        }
        if (!rc && !exit_code &&
            !(rc = lia_csaf_check(lia_buf_cstr(&doc), doc.len, print_problem, &problems, &np, &err))) {
            if (np) {
                cli_errorf("%zu problem%s", np, np > 1 ? "s" : "");
                exit_code = LIA_EXIT_DATA;
            } else
                printf("valid\n");
        }
        lia_buf_free(&doc);
    }
out:
    if (rc) {
        cli_error(&err);
        exit_code = rc == LIA_EINVAL && problems ? LIA_EXIT_DATA : LIA_EXIT_ERROR;
    }
    if (in) {
        lia_buf_free(&in->inc);
        lia_buf_free(&in->file);
        lia_buf_free(&in->fjson);
        free(in);
    }
    if (s)
        lia_store_close(s);
    return exit_code;
}
