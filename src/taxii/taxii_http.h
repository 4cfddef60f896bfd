/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* TAXII 2.1 on the HTTP server: the handler that taxii_api.c registers
 * (src/http/handler.h). Internal to libliaison. */
#ifndef LIA_TAXII_HTTP_H
#define LIA_TAXII_HTTP_H

#include "http/handler.h"

/* Register the TAXII handler on h: prefix "/" (discovery at /taxii2/, each
 * API root at /ROOT/; a longer prefix registered by another application
 * wins), authentication required, a store handle per request, TAXII error
 * resources for the errors the server answers. */
int lia__taxii_mount(lia_http *h, lia_error *err);
/* Route and answer one request (r->store, r->who set): what the handler
 * calls; a test may call it with a request built by hand. */
void lia__taxii_handle(lia__req *r);

#endif
