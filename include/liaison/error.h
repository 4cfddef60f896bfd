/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/error.h - result codes and the error detail struct.
 *
 * Every fallible function returns LIA_OK (0) or a negative LIA_E* code.
 * Where a user must be told more, the function fills a lia_error: which
 * field, which value (escaped, truncated), why, and from which report and
 * line. Library code never prints. */
#ifndef LIAISON_ERROR_H
#define LIAISON_ERROR_H

#include <stddef.h>
#include <stdint.h>

enum {
    LIA_OK = 0,
    LIA_ENOMEM = -1,        /* out of memory */
    LIA_EINVAL = -2,        /* invalid value or argument */
    LIA_EIO = -3,           /* read/write failure */
    LIA_ELIMIT = -4,        /* a hard limit (limits.h) was exceeded */
    LIA_ESTORE = -5,        /* the store failed */
    LIA_ENOTFOUND = -6,     /* no such object */
    LIA_EPARSE = -7,        /* malformed input */
    LIA_EEXIST = -8,        /* already exists */
    LIA_ESCHEMA = -9,       /* store schema is newer than this binary */
    LIA_EUNSUPPORTED = -10, /* not supported */
    LIA_EINTR = -11,        /* interrupted by a signal */
    LIA_EAUTH = -12,        /* authentication or permission failure */
    LIA_ENET = -13,         /* network failure */
    LIA_ECRYPTO = -14,      /* OpenPGP or other crypto failure */
    LIA_EBUSY = -15,        /* the store is locked by another connection or process: retry later */
    LIA_EREADONLY = -16,    /* the store is open read-only (its file or directory is not writable) */
    LIA_EFULL = -17,        /* no space left: the disk, or the store's own size limit */
    LIA_ESTATE = -18,       /* not allowed from the object's current state (a refused transition) */
};

/* Static English text for a result code; never NULL. */
const char *lia_strerror(int code);

#define LIA_ERR_FIELD_MAX 96
#define LIA_ERR_VALUE_MAX 200
#define LIA_ERR_REASON_MAX 256
#define LIA_ERR_SOURCE_MAX 256

typedef struct lia_error {
    int code;                          /* LIA_E* or LIA_OK */
    char field[LIA_ERR_FIELD_MAX];     /* e.g. "source.ip"; "" if none */
    char value[LIA_ERR_VALUE_MAX];     /* offending value, escaped, "" if none */
    char reason[LIA_ERR_REASON_MAX];   /* why, in a few words */
    char source[LIA_ERR_SOURCE_MAX];   /* report name or file; "" if none */
    uint64_t line;                     /* 1-based line in source; 0 if none */
} lia_error;

/* Reset to "no error". */
void lia_error_clear(lia_error *e);

/* Fill e (may be NULL: then nothing happens) and return code.
 * field may be NULL; value/vlen are escaped (non-printable bytes as \xNN,
 * truncated with "..."). reason is printf-style. */
int lia_error_set(lia_error *e, int code, const char *field, const char *value,
                  size_t vlen, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Set where the error came from (report name and line) if not yet set. */
void lia_error_where(lia_error *e, const char *source, uint64_t line);

/* One line: "SOURCE:LINE: FIELD: \"VALUE\": REASON" (parts omitted when
 * empty). Returns the length written (always NUL-terminated if n > 0). */
size_t lia_error_format(const lia_error *e, char *out, size_t n);

/* Escape len bytes of s into out (size n) as printable ASCII: \\, \", \xNN,
 * \n, \r, \t; truncates with "..." if needed. Returns bytes written. */
size_t lia_escape(const char *s, size_t len, char *out, size_t n);

#endif
