/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison ip lookup IP... : what each IP data source answers, and which
 * answer wins (precedence = order of the sources in STORE.conf). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "liaison/enrich.h"

#ifndef LIA_DATADIR
#define LIA_DATADIR "share"
#endif

static void ip_usage(FILE *f)
{
    fprintf(f, "usage: liaison [--db PATH] ip lookup [--source KIND:PATH]... IP...\n\n"
               "Look IP addresses up in the IP data sources and explain the answer: what\n"
               "each source says (range, country, ASN, AS name) and which source gives\n"
               "each attribute. Sources come from the store's configuration (STORE.conf,\n"
               "section [ipdata], or $LIAISON_CONF), in precedence order; --source\n"
               "(KIND mmdb, rir or csv) replaces them.\n");
}

int cmd_ip(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"source", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    lia_enrich_conf conf;
    lia_ipdb *db = NULL;
    lia_error err;
    lia_buf out;
    char path[LIA_PATH_MAX];
    int ch, rc, nsrc = 0, kinds[LIA_ENRICH_MAX_SOURCES];
    const char *paths[LIA_ENRICH_MAX_SOURCES];
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        ip_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? LIA_EXIT_USAGE : LIA_EXIT_OK;
    }
    if (strcmp(argv[1], "lookup") != 0) {
        cli_errorf("ip: unknown subcommand %s (see liaison ip --help)", argv[1]);
        return LIA_EXIT_USAGE;
    }
    argc--;
    argv++;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (ch) {
        case 's': {
            const char *colon = strchr(optarg, ':');
            int k = colon ? lia_ipsrc_kind_lookup(optarg, (size_t)(colon - optarg)) : -1;
            if (k < 0 || !colon[1] || nsrc == LIA_ENRICH_MAX_SOURCES) {
                cli_errorf("ip lookup: --source %s: expected KIND:PATH with KIND mmdb, rir or csv", optarg);
                return LIA_EXIT_USAGE;
            }
            kinds[nsrc] = k;
            paths[nsrc++] = colon + 1;
            break;
        }
        case 'h': ip_usage(stdout); return LIA_EXIT_OK;
        default:
            cli_errorf("ip lookup: bad option %s (see liaison ip --help)", argv[optind - 1]);
            return LIA_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_errorf("ip lookup: no IP address given");
        return LIA_EXIT_USAGE;
    }
    lia_error_clear(&err);
    if ((rc = lia_ipdb_create(&db, &err)))
        goto fail;
    if (nsrc == 0) {
        if ((rc = lia_enrich_conf_path(c->db, path, sizeof path, &err)) ||
            (rc = lia_enrich_conf_load(&conf, path, &err)))
            goto fail;
        if (conf.nsources == 0) {
            cli_errorf("ip lookup: no IP data source: name them in %s ([ipdata] source = mmdb|rir|csv PATH) "
                       "or give --source KIND:PATH",
                       path);
            lia_ipdb_release(db);
            return LIA_EXIT_ERROR;
        }
        for (int i = 0; i < conf.nsources; i++)
            if ((rc = lia_ipdb_add(db, conf.kind[i], conf.path[i], &err)))
                goto fail;
    } else {
        for (int i = 0; i < nsrc; i++)
            if ((rc = lia_ipdb_add(db, kinds[i], paths[i], &err)))
                goto fail;
    }
    lia_buf_init(&out, 1u << 20);
    for (int i = optind; i < argc; i++) {
        lia_ip ip;
        const char *why = NULL;
        if (lia_parse_ip(argv[i], strlen(argv[i]), &ip, &why)) {
            cli_errorf("ip lookup: %s: %s", argv[i], why ? why : "not an IP address");
            lia_buf_free(&out);
            lia_ipdb_release(db);
            return LIA_EXIT_USAGE;
        }
        lia_buf_reset(&out);
        lia_ipdb_explain(db, &ip, &out);
        fputs(lia_buf_cstr(&out), stdout);
    }
    printf("sources (precedence order):\n");
    for (size_t i = 0; i < lia_ipdb_nsources(db); i++) {
        int k;
        const char *p, *d;
        lia_ipdb_source(db, i, &k, &p, &d);
        printf("  [%zu] %s %s: %s\n", i + 1, lia_ipsrc_kind_name(k), p, d);
    }
    lia_buf_free(&out);
    lia_ipdb_release(db);
    return LIA_EXIT_OK;
fail:
    cli_error(&err);
    lia_ipdb_release(db);
    return LIA_EXIT_ERROR;
}

/* For `liaison demo`: when the real IP data fetched by `make demo`
 * (data/ipdb, npm ip-location-db packages) is present and the store has no
 * configuration yet, write one naming it. Returns 1 if IP data is used. */
int cli_enrich_demo_setup(cli *c, const char *datadir)
{
    char conf[LIA_PATH_MAX], dir[LIA_PATH_MAX], mm[4400], asn4[4400], asn6[4400];
    const char *env = getenv("LIAISON_IPDB");
    struct stat st;
    FILE *f;
    if (env && *env)
        snprintf(dir, sizeof dir, "%s", env);
    else
        snprintf(dir, sizeof dir, "%s/../data/ipdb/node_modules/@ip-location-db", datadir);
    snprintf(mm, sizeof mm, "%s/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb", dir);
    snprintf(asn4, sizeof asn4, "%s/asn/asn-ipv4.csv", dir);
    snprintf(asn6, sizeof asn6, "%s/asn/asn-ipv6.csv", dir);
    if (lia_enrich_conf_path(c->db, conf, sizeof conf, NULL))
        return 0; /* too long a store path: the demo runs without IP data */
    if (stat(conf, &st) == 0)
        return 1; /* the user's own configuration stays */
    if (stat(mm, &st) != 0 || stat(asn4, &st) != 0 || stat(asn6, &st) != 0)
        return 0;
    f = fopen(conf, "w");
    if (!f)
        return 0;
    fprintf(f,
            "# Written by `liaison demo`: real, current IP data from npm (make demo).\n"
            "# ASN + AS name: @ip-location-db/asn (CC BY 4.0: RouteViews, DB-IP, NRO)\n"
            "# country: @ip-location-db/geo-whois-asn-country-mmdb (CC BY 4.0: NRO; package CC0-1.0)\n"
            "[ipdata]\n"
            "source = csv %s\n"
            "source = csv %s\n"
            "source = mmdb %s\n"
            "[dedup]\n"
            "window = 24h\n",
            asn4, asn6, mm);
    fclose(f);
    return 1;
}
