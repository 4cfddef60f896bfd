/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* What a TAXII 2.1 server answers our client: an envelope page of a pull
 * (taxii_pull.c) and the status resource of a push (the TAXII channel of
 * notify). Pure functions of (buf, len), fuzzed by fuzz/fuzz_taxii_page.c
 * and fuzz/fuzz_taxii_status.c. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "taxii/taxii_internal.h"

int lia__taxii_page_read(const char *body, size_t len, const char *url, lia__taxii_page *out, lia_error *err)
{
    json_error_t je;
    json_t *env = json_loadb(len ? body : "{}", len ? len : 2, 0, &je), *objs;
    const char *next;
    int rc = LIA_OK;
    if (!json_is_object(env)) {
        rc = lia_error_set(err, LIA_EPARSE, "url", url, url ? strlen(url) : 0, "not a TAXII envelope");
        goto out;
    }
    objs = json_object_get(env, "objects");
    if (objs && !json_is_array(objs)) {
        rc = lia_error_set(err, LIA_EPARSE, "objects", NULL, 0, "not an array");
        goto out;
    }
    memset(out, 0, sizeof *out);
    out->objects = json_array_size(objs);
    out->more = json_is_true(json_object_get(env, "more"));
    next = json_string_value(json_object_get(env, "next"));
    if (out->more && next && *next && strlen(next) < sizeof out->next)
        snprintf(out->next, sizeof out->next, "%s", next);
out:
    json_decref(env);
    return rc;
}

int lia__taxii_push_status(const char *body, size_t len, size_t nobj, const char *url, lia_error *err)
{
    json_error_t je;
    json_t *st = json_loadb(body, len, 0, &je), *f0;
    json_int_t fails;
    const char *id, *msg;
    int rc = LIA_OK, shown = (int)(len < 200 ? len : 200);
    if (!json_is_object(st)) {
        rc = lia_error_set(err, LIA_EPARSE, "channels", url, url ? strlen(url) : 0,
                           "202 without a TAXII status resource: %.*s", shown, body ? body : "");
        goto out;
    }
    fails = json_integer_value(json_object_get(st, "failure_count"));
    if (fails > 0) {
        f0 = json_array_get(json_object_get(st, "failures"), 0);
        id = json_string_value(json_object_get(f0, "id"));
        msg = json_string_value(json_object_get(f0, "message"));
        rc = lia_error_set(err, LIA_ENET, "channels", url, url ? strlen(url) : 0,
                           "the server refused %lld of %zu objects (first: %s: %s)", (long long)fails, nobj,
                           id ? id : "?", msg ? msg : "?");
    }
out:
    json_decref(st);
    return rc;
}
