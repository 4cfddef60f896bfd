/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "liaison/taxii.h"
int lia_taxii_pull(lia_store *s, const lia_taxii_pull_opts *o, lia_taxii_pull_result *res, lia_error *err) { (void)s; (void)o; (void)res; return lia_error_set(err, LIA_EUNSUPPORTED, NULL, NULL, 0, "todo"); }
