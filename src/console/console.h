/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The web console's mount (console.c). Internal to libliaison. */
#ifndef LIA_CONSOLE_CONSOLE_H
#define LIA_CONSOLE_CONSOLE_H

#include "liaison/error.h"
#include "liaison/http.h"

/* Register /console (assets, log-in, log-out, session, data) on h and make
 * console sessions an authentication method of h (lia__http_set_session).
 * Options from lia__http_options(h): console_dir, session_idle_s,
 * session_max_s. */
int lia__console_mount(lia_http *h, lia_error *err);

struct lia__req;
/* 1 if the console's assets are there for r's server (its index.html
 * readable): the answer links then open in the console (src/api/answer.c). */
int lia__console_installed(const struct lia__req *r);

#endif
