/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The node exchange's mount (http.c): /node/v1. Internal to libliaison. */
#ifndef LIA_NODE_HTTP_H
#define LIA_NODE_HTTP_H

#include "liaison/error.h"
#include "liaison/http.h"

/* Register /node/v1 on h (a partner's API key required). */
int lia__node_mount(lia_http *h, lia_error *err);

#endif
