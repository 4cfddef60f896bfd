/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* One request as the server hands it to the endpoints (taxii_api.c), and
 * the response they fill. Internal to src/http. */
#ifndef LIA_HTTP_SERVER_INTERNAL_H
#define LIA_HTTP_SERVER_INTERNAL_H

#include "liaison/accounts.h"
#include "liaison/http.h"
#include "liaison/taxii.h"

typedef struct lia__req {
    /* request */
    const char *method;
    const char *path;
    lia_slice accept, content_type;
    const char *base_url; /* "https://host:port" (no trailing slash) */
    const char *body;
    size_t body_len;
    lia_taxii_filter filter; /* parsed query parameters */
    int filter_rc;           /* LIA_OK or the error from a parameter */
    const char *filter_why;
    lia_principal who;
    lia_store *store;
    /* response */
    int status;
    lia_buf out;
    const char *ctype;
    char first[32], last[32]; /* X-TAXII-Date-Added-First/Last ("" = none) */
    char deny[160];           /* why a request was denied (403/404 on access), for the log */
} lia__req;

/* Route and answer one authenticated request. */
void lia__taxii_handle(lia__req *r);
/* Fill r with a TAXII error resource. */
void lia__http_error(lia__req *r, int status, const char *title, const char *description);

#endif
