/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The one bounded file reader (see file.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"

#define CHUNK 65536

int lia__file_read(const char *path, size_t max, lia_buf *out, lia_error *err)
{
    int fd, rc = LIA_OK;
    lia_buf_init(out, max);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        int e = errno;
        return lia_error_set(err, e == ENOENT ? LIA_ENOTFOUND : LIA_EIO, NULL, NULL, 0, "cannot open %s: %s",
                             path, strerror(e));
    }
    if ((rc = lia_buf_reserve(out, 0)))
        goto fail;
    for (;;) {
        size_t want = max - out->len < CHUNK ? max - out->len : CHUNK;
        char probe;
        ssize_t n;
        if (want == 0) { /* at the limit: one byte more is too big */
            n = read(fd, &probe, 1);
            if (n > 0) {
                rc = LIA_ELIMIT;
                goto fail;
            }
        } else {
            if ((rc = lia_buf_reserve(out, want)))
                goto fail;
            n = read(fd, out->ptr + out->len, want);
            if (n > 0) {
                out->len += (size_t)n;
                continue;
            }
        }
        if (n == 0)
            break;
        if (errno == EINTR)
            continue;
        rc = LIA_EIO;
        goto fail;
    }
    out->ptr[out->len] = '\0';
    close(fd);
    return LIA_OK;
fail : {
    int e = errno;
    close(fd);
    lia_buf_free(out);
    if (rc == LIA_ELIMIT)
        return lia_error_set(err, rc, NULL, NULL, 0, "%s: larger than %zu bytes", path, max);
    if (rc == LIA_ENOMEM)
        return lia_error_set(err, rc, NULL, NULL, 0, "%s: out of memory", path);
    return lia_error_set(err, rc, NULL, NULL, 0, "cannot read %s: %s", path, strerror(e));
}
}
