/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the SQLite-to-PostgreSQL rewriting of the PostgreSQL
 * driver (src/store/pg_sql.c) on any bytes. It either refuses with a
 * reason or gives a NUL-terminated text and parameter numbers in range,
 * which the scan of PostgreSQL's own text reads back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lia_buf out;
    lia_pg_info info, again;
    lia_error err;
    int rc;
    lia_buf_init(&out, 4 * (size_t)LIA_PG_SQL_MAX);
    lia_error_clear(&err);
    rc = lia__pg_rewrite((const char *)data, size, &out, &info, &err);
    if (rc == LIA_OK) {
        if (!out.ptr || strlen(out.ptr) != out.len || info.nparams < 0 || info.nparams > 32766 ||
            info.statements < 0)
            abort();
        /* the scan of PostgreSQL's own text reads the rewritten one: the same
         * parameters, or a refusal with a reason (garbage such as "?T" gives
         * "$1T", which neither database takes) */
        lia_error_clear(&err);
        rc = lia__pg_scan(out.ptr, out.len, &again, &err);
        if ((rc == LIA_OK && again.nparams < info.nparams) || (rc != LIA_OK && !err.reason[0]))
            abort();
    } else if (!err.reason[0]) {
        abort(); /* a refusal always says why */
    }
    lia_buf_free(&out);
    return 0;
}
