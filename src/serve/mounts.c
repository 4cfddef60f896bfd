/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* What `liaison serve` serves: the one table of applications mounted on
 * the HTTP server (src/http/handler.h). Each mount function registers its
 * handlers; a new application (the REST API under /api/v1, the console)
 * is one mount function in its own folder and one line here. */
#include "advisory/internal.h"
#include "api/api.h"
#include "console/console.h"
#include "http/handler.h"
#include "node/http.h"
#include "taxii/taxii_http.h"

typedef struct mount {
    const char *name;
    int (*mount)(lia_http *h, lia_error *err);
} mount;

static const mount mounts[] = {
    {"csaf", lia__advisory_mount},   /* the CSAF trusted provider at /.well-known/csaf/ */
    {"api", lia__api_mount},         /* the REST API at /api/v1 (and its public /api/v1/openapi.json) */
    {"answer", lia__answer_mount},   /* the signed answer links of digests at /answer/ */
    {"console", lia__console_mount}, /* the web console at /console, and its sessions */
    {"node", lia__node_mount},       /* Liaison to Liaison: incidents exchanged at /node/v1 */
    {"taxii", lia__taxii_mount},     /* discovery at /taxii2/, API roots at /ROOT/ (prefix "/") */
};

int lia_http_start(const lia_http_opts *o, lia_http **out, lia_error *err)
{
    lia_http *h;
    int rc;
    if ((rc = lia__http_create(o, &h, err)))
        return rc;
    for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++)
        if ((rc = mounts[i].mount(h, err)))
            goto fail;
    if ((rc = lia__http_listen(h, err)))
        goto fail;
    *out = h;
    return LIA_OK;
fail:
    lia_http_stop(h);
    return rc;
}
