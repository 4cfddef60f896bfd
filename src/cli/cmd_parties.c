/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison owners ... / liaison partners ...: manage the constituency and the
 * partner directory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_read_file(const char *path, size_t max, lia_buf *out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char tmp[65536];
    size_t n;
    if (!f) {
        cli_errorf("%s: %s", path, strerror(errno));
        return -1;
    }
    lia_buf_init(out, max);
    lia_buf_append(out, "", 0);
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (lia_buf_append(out, tmp, n)) {
            cli_errorf("%s: larger than %zu bytes", path, max);
            if (f != stdin)
                fclose(f);
            lia_buf_free(out);
            return -1;
        }
    if (ferror(f)) {
        cli_errorf("%s: read error", path);
        if (f != stdin)
            fclose(f);
        lia_buf_free(out);
        return -1;
    }
    if (f != stdin)
        fclose(f);
    return 0;
}

static const char *guess_format(const char *path, const char *given)
{
    size_t n = strlen(path);
    if (given)
        return given;
    if (n > 4 && strcmp(path + n - 4, ".csv") == 0)
        return "csv";
    if ((n > 5 && strcmp(path + n - 5, ".yaml") == 0) || (n > 4 && strcmp(path + n - 4, ".yml") == 0))
        return "yaml";
    return NULL;
}

static void party_usage(FILE *f, const char *what)
{
    int own = strcmp(what, "owners") == 0;
    fprintf(f,
            "usage: liaison [--db PATH] %s COMMAND ...\n"
            "\n"
            "Manage the %s.\n"
            "\n"
            "  add ID FIELD=VALUE...        add one (--replace to overwrite an existing one)\n"
            "  list                         one line each\n"
            "  show ID                      all fields (YAML)\n"
            "  remove ID                    delete it\n"
            "  import FILE [--format F]     CSV or YAML (by extension, or --format csv|yaml);\n"
            "                               all or nothing; existing ids are replaced\n"
            "  export [--format F] [-o FILE] CSV or YAML (default yaml) to stdout or FILE\n"
            "%s"
            "\n"
            "Fields (lists: comma-separated):\n%s"
            "Layout of the files: docs/routing.md.\n",
            what,
            own ? "constituency: domestic network owners (who must act for a network)"
                : "partner directory: foreign CERTs (who must act for a country)",
            own ? "  lookup IP|CIDR|ASN|DOMAIN... which owner is responsible, and why\n" : "",
            own ? "  name country asns cidrs domains contacts languages format\n"
                  "  pgp_fingerprint tlp_max (default AMBER+STRICT) interval (digest, e.g. 1h)\n"
                : "  name countries contacts languages timezone tlp_max (default AMBER)\n"
                  "  channels (email:ADDR, taxii:API_ROOT/COLLECTION = a collection on our TAXII\n"
                  "  server filled by notify run, taxii:URL, api:URL) agreement (true/false;\n"
                  "  without an agreement only TLP:CLEAR is shared) pgp_fingerprint format interval\n");
}

static int print_party_line(void *ud, const lia_party *p)
{
    const char *name = lia_party_get(p, LIA_PF_NAME);
    (void)ud;
    if (p->kind == LIA_PARTY_OWNER) {
        printf("%-24s %-36.36s %-3s %5zu %5zu %5zu %-6s %s\n", p->id, name ? name : "-",
               lia_party_get(p, LIA_PF_COUNTRY) ? lia_party_get(p, LIA_PF_COUNTRY) : "-", p->f[LIA_PF_ASNS].n,
               p->f[LIA_PF_CIDRS].n, p->f[LIA_PF_DOMAINS].n,
               lia_party_get(p, LIA_PF_LANGUAGES) ? lia_party_get(p, LIA_PF_LANGUAGES) : "en",
               lia_party_get(p, LIA_PF_CONTACTS) ? lia_party_get(p, LIA_PF_CONTACTS) : "-");
    } else {
        char cc[64] = "";
        size_t k = 0;
        for (size_t i = 0; i < p->f[LIA_PF_COUNTRIES].n && k + 4 < sizeof cc; i++)
            k += (size_t)snprintf(cc + k, sizeof cc - k, "%s%s", i ? "," : "", p->f[LIA_PF_COUNTRIES].v[i]);
        printf("%-24s %-36.36s %-12s %-13s %-5s %-6s %s\n", p->id, name ? name : "-", cc,
               lia_party_get(p, LIA_PF_TLP_MAX) ? lia_party_get(p, LIA_PF_TLP_MAX) : "AMBER",
               lia_party_get(p, LIA_PF_AGREEMENT) ? lia_party_get(p, LIA_PF_AGREEMENT) : "false",
               lia_party_get(p, LIA_PF_LANGUAGES) ? lia_party_get(p, LIA_PF_LANGUAGES) : "en",
               lia_party_get(p, LIA_PF_PGP) ? "pgp" : "-");
    }
    return 0;
}

static int lookup(lia_store *s, int argc, char **argv)
{
    lia_route *rt = NULL;
    lia_error err;
    int rc = LIA_EXIT_OK;
    lia_error_clear(&err);
    if (lia_route_load(s, &rt, &err)) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    for (int i = 0; i < argc; i++) {
        const char *v = argv[i];
        lia_ip ip;
        uint32_t asn;
        char fq[LIA_MAX_FQDN + 1];
        size_t fl;
        int o = -1;
        const char *how;
        if (lia_parse_cidr(v, strlen(v), &ip, NULL) == LIA_OK) {
            o = lia_route_owner_ip(rt, &ip);
            how = "longest matching prefix";
        } else if (lia_parse_asn(v, strlen(v), &asn, NULL) == LIA_OK) {
            o = lia_route_owner_asn(rt, asn);
            how = "ASN";
        } else if (lia_parse_fqdn(v, strlen(v), fq, sizeof fq, &fl, NULL) == LIA_OK) {
            o = lia_route_owner_domain(rt, fq, fl);
            how = "domain or a parent domain";
        } else {
            cli_errorf("owners lookup: %s: not an IP, CIDR, ASN or domain", v);
            rc = LIA_EXIT_USAGE;
            continue;
        }
        if (o < 0)
            printf("%s\tno owner (%s)\n", v, how);
        else
            printf("%s\towner:%s\t%s (%s)\n", v, lia_route_party(rt, o)->id,
                   lia_party_get(lia_route_party(rt, o), LIA_PF_NAME)
                       ? lia_party_get(lia_route_party(rt, o), LIA_PF_NAME)
                       : "",
                   how);
    }
    lia_route_destroy(rt);
    return rc;
}

static int parties(cli *c, int kind, int argc, char **argv)
{
    const char *what = kind == LIA_PARTY_OWNER ? "owners" : "partners";
    const char *sub;
    lia_store *s = NULL;
    lia_error err;
    int rc = LIA_EXIT_OK, lrc = LIA_OK;
    lia_error_clear(&err);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        party_usage(argc < 2 ? stderr : stdout, what);
        return argc < 2 ? LIA_EXIT_USAGE : LIA_EXIT_OK;
    }
    sub = argv[1];
    argc -= 2;
    argv += 2;
    if (strcmp(sub, "add") == 0) {
        lia_party p;
        int replace = 0, i = 0;
        if (argc > 0 && strcmp(argv[0], "--replace") == 0) {
            replace = 1;
            i++;
        }
        if (i >= argc) {
            cli_errorf("%s add: an ID is expected (see liaison %s --help)", what, what);
            return LIA_EXIT_USAGE;
        }
        lia_party_init(&p, kind);
        if ((lrc = lia_party_set_id(&p, argv[i], strlen(argv[i]), &err)))
            goto perr;
        for (i++; i < argc; i++) {
            const char *eq = strchr(argv[i], '=');
            int f;
            if (strcmp(argv[i], "--replace") == 0) {
                replace = 1;
                continue;
            }
            if (!eq || (f = lia_pfield_lookup(argv[i], (size_t)(eq - argv[i]))) < 0 ||
                !lia_party_field_allowed(kind, f)) {
                cli_errorf("%s add: %s: expected FIELD=VALUE with a field of %s (see --help)", what, argv[i],
                           what);
                lia_party_free(&p);
                return LIA_EXIT_USAGE;
            }
            if ((lrc = lia_party_add(&p, f, eq + 1, strlen(eq + 1), 0, &err)))
                goto perr;
        }
        if ((rc = cli_open_store(c, &s))) {
            lia_party_free(&p);
            return rc;
        }
        lrc = lia_party_save(s, &p, replace, &err);
        if (lrc == LIA_OK)
            printf("%s %s saved\n", lia_party_kind_name(kind), p.id);
    perr:
        lia_party_free(&p);
    } else if (strcmp(sub, "list") == 0) {
        if ((rc = cli_open_store(c, &s)))
            return rc;
        if (kind == LIA_PARTY_OWNER)
            printf("%-24s %-36s %-3s %5s %5s %5s %-6s %s\n", "id", "name", "cc", "asns", "cidrs", "doms",
                   "lang", "contact");
        else
            printf("%-24s %-36s %-12s %-13s %-5s %-6s %s\n", "id", "name", "countries", "tlp_max", "agree",
                   "lang", "key");
        lrc = lia_party_list(s, kind, print_party_line, NULL, &err);
    } else if (strcmp(sub, "show") == 0 || strcmp(sub, "remove") == 0) {
        if (argc != 1) {
            cli_errorf("%s %s: one ID is expected", what, sub);
            return LIA_EXIT_USAGE;
        }
        if ((rc = cli_open_store(c, &s)))
            return rc;
        if (sub[0] == 's') {
            lia_party p;
            if ((lrc = lia_party_get_one(s, kind, argv[0], &p, &err)) == LIA_OK) {
                lia_buf b;
                lia_buf_init(&b, LIA_MAX_CONFIG_FILE);
                lia_buf_printf(&b, "%s:\n", what);
                lia_party_to_yaml(&p, &b);
                fputs(lia_buf_cstr(&b), stdout);
                lia_buf_free(&b);
                lia_party_free(&p);
            }
        } else if ((lrc = lia_party_remove(s, kind, argv[0], &err)) == LIA_OK) {
            printf("%s %s removed\n", lia_party_kind_name(kind), argv[0]);
        }
    } else if (strcmp(sub, "import") == 0) {
        const char *fmt = NULL, *path = NULL;
        lia_buf in;
        size_t n = 0;
        for (int i = 0; i < argc; i++) {
            if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
                fmt = argv[++i];
            else if (!path)
                path = argv[i];
            else {
                cli_errorf("%s import: unexpected argument %s", what, argv[i]);
                return LIA_EXIT_USAGE;
            }
        }
        if (!path || !(fmt = guess_format(path, fmt))) {
            cli_errorf("%s import FILE: FILE ending in .csv/.yaml, or --format csv|yaml", what);
            return LIA_EXIT_USAGE;
        }
        if (cli_read_file(path, LIA_MAX_CONFIG_FILE, &in))
            return LIA_EXIT_ERROR;
        if ((rc = cli_open_store(c, &s))) {
            lia_buf_free(&in);
            return rc;
        }
        lrc = lia_party_import(s, kind, fmt, lia_buf_cstr(&in), in.len, &n, &err);
        if (lrc)
            lia_error_where(&err, path, err.line);
        else
            printf("%s: %zu %s imported\n", path, n, what);
        lia_buf_free(&in);
    } else if (strcmp(sub, "export") == 0) {
        const char *fmt = "yaml", *path = NULL;
        lia_buf out;
        for (int i = 0; i < argc; i++) {
            if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
                fmt = argv[++i];
            else if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc)
                path = argv[++i];
            else {
                cli_errorf("%s export: unexpected argument %s", what, argv[i]);
                return LIA_EXIT_USAGE;
            }
        }
        if (strcmp(fmt, "csv") != 0 && strcmp(fmt, "yaml") != 0) {
            cli_errorf("%s export: --format %s: csv or yaml", what, fmt);
            return LIA_EXIT_USAGE;
        }
        if ((rc = cli_open_store(c, &s)))
            return rc;
        lia_buf_init(&out, LIA_MAX_CONFIG_FILE * 4);
        lrc = lia_party_export(s, kind, fmt, &out, &err);
        if (lrc == LIA_OK) {
            FILE *f = path ? fopen(path, "wb") : stdout;
            if (!f || fwrite(out.ptr, 1, out.len, f) != out.len || (path && fclose(f))) {
                cli_errorf("%s export: writing %s failed", what, path ? path : "stdout");
                rc = LIA_EXIT_ERROR;
            }
        }
        lia_buf_free(&out);
    } else if (strcmp(sub, "lookup") == 0 && kind == LIA_PARTY_OWNER) {
        if (argc < 1) {
            cli_errorf("owners lookup: IP, CIDR, ASN or domain expected");
            return LIA_EXIT_USAGE;
        }
        if ((rc = cli_open_store(c, &s)))
            return rc;
        rc = lookup(s, argc, argv);
    } else {
        cli_errorf("%s: unknown command '%s' (see liaison %s --help)", what, sub, what);
        return LIA_EXIT_USAGE;
    }
    if (s)
        lia_store_close(s);
    if (lrc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    return rc;
}

int cmd_owners(cli *c, int argc, char **argv)
{
    return parties(c, LIA_PARTY_OWNER, argc, argv);
}
int cmd_partners(cli *c, int argc, char **argv)
{
    return parties(c, LIA_PARTY_PARTNER, argc, argv);
}
