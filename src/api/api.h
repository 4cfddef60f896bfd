/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The REST API's mount (api.c): /api/v1. Internal to libliaison. */
#ifndef LIA_API_API_H
#define LIA_API_API_H

#include <stddef.h>

#include "liaison/error.h"
#include "liaison/http.h"
#include "store/db.h"

/* Register /api/v1 on h (authentication required: the server's API keys,
 * Basic logins and console sessions) and /api/v1/openapi.json (public). */
/* Make or migrate the table api_secret (the pages' cursor key; store
 * copy makes it on the destination). */
int lia__api_secret_schema(lia_db *db, lia_error *err);

int lia__api_mount(lia_http *h, lia_error *err);

/* Register /answer (no log-in: the signed answer links of digests, as
 * pages; answer.c). */
int lia__answer_mount(lia_http *h, lia_error *err);

/* One operation the API answers: method and path template under /api/v1
 * ("/incidents/{id}"), as the OpenAPI document names them. */
typedef struct lia__api_op {
    const char *method, *path;
} lia__api_op;
/* Every operation the API answers (*n of them), from the one route table;
 * static storage. For the test that holds them against the document. */
const lia__api_op *lia__api_ops(size_t *n);

/* The OpenAPI 3.1 document served at /api/v1/openapi.json
 * (share/api/openapi.json, built in by scripts/embed.py). */
extern const unsigned char lia__api_openapi[];
extern const size_t lia__api_openapi_len;

#endif
