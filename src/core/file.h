/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the one bounded reader of a whole file (configuration, schema,
 * template, mapping and manifest files). */
#ifndef LIA_CORE_FILE_H
#define LIA_CORE_FILE_H

#include <stddef.h>

#include "liaison/error.h"
#include "liaison/slice.h"

/* Read the whole file at path, at most max bytes, into out, which this
 * initialises (lia_buf_init(out, max)); out->ptr is NUL-terminated (also
 * for an empty file) and out->len is the file's size. "Too big" is found
 * while reading, never by stat: a file that has more than max bytes when it
 * is read (a pipe, a file still growing) is LIA_ELIMIT.
 * Returns LIA_OK; LIA_ENOTFOUND (no such file), LIA_EIO (cannot open or
 * read it), LIA_ELIMIT or LIA_ENOMEM, with err (may be NULL) naming the
 * file; on error out is freed. Thread-safe. */
int lia__file_read(const char *path, size_t max, lia_buf *out, lia_error *err);

#endif
