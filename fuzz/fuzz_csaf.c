/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the parsers of CSAF advisories (src/advisory/), which
 * read files and JSON from the command line: the first byte picks
 *   0: lia_csaf_check on a document,
 *   1: lia_advisory_fields_parse then lia_advisory_build on the fields,
 *   2: lia_cvss31_base on a vector,
 *   3: lia_advisory_fields_from_json.
 *
 * Invariants: no crash or leak; a check reports problems or none, or
 * LIA_EPARSE for what is not a JSON object; a document that build makes is
 * a JSON object the check reads (never LIA_EPARSE); a CVSS score is 0.0 to
 * 10.0 with the severity of that score. Pure: no store. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/liaison.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz csaf: %s\n", what);
        abort();
    }
}

static int count(void *ud, const char *path, const char *reason)
{
    check(path && reason && *reason, "a problem without a path or a reason");
    (*(size_t *)ud)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const lia_csaf_publisher pub = {"CERT", "https://cert.example", NULL, NULL};
    lia_error e;
    lia_buf out;
    size_t np = 0, seen = 0, n = 0;
    char *text;
    if (size < 1 || size > 1 << 16)
        return 0;
    if (!(text = malloc(size)))
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    lia_error_clear(&e);
    lia_buf_init(&out, LIA_ADVISORY_MAX_DOC);
    switch (data[0] % 4) {
    case 0: {
        int rc = lia_csaf_check(text, size - 1, count, &seen, &np, &e);
        check(rc == LIA_OK || rc == LIA_EPARSE, "check: an unexpected result");
        check(rc || np == seen, "check: the count is not the problems reported");
        break;
    }
    case 1: {
        lia_advisory_field f[64];
        if (lia_advisory_fields_parse(text, f, 64, &n, &e) == LIA_OK &&
            lia_advisory_build(f, n, &pub, 1796000000000000, &out, &e) == LIA_OK)
            check(lia_csaf_check(out.ptr, out.len, NULL, NULL, &np, &e) == LIA_OK,
                  "build made what check cannot read");
        break;
    }
    case 2: {
        double score = -1;
        const char *sev = NULL, *why = NULL;
        if (lia_cvss31_base(text, &score, &sev, &why) == LIA_OK)
            check(score >= 0.0 && score <= 10.0 && strcmp(sev, lia_cvss31_severity(score)) == 0,
                  "cvss: a score out of range or the wrong severity");
        else
            check(why && *why, "cvss: refused without a reason");
        break;
    }
    default: lia_advisory_fields_from_json(text, size - 1, &out, &e);
    }
    lia_buf_free(&out);
    free(text);
    return 0;
}
