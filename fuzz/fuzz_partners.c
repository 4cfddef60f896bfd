/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* libFuzzer target: the partners importer (CSV and YAML), see fuzz_party.h. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_party.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(LIA_PARTY_PARTNER, data, size);
}
