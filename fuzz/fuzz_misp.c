/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target for the "misp" import format (src/share/misp_import.c):
 * the input is one document; see fuzz_format.h for what is checked. */
#include "fuzz_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_format("misp", data, size);
}
