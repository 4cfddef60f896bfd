/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: "object records" for feeds that publish the same rows either as
 * JSON (an array of objects, or one object per line) or as CSV (a header
 * row, or fixed column names). The first non-blank byte of the report
 * decides: '[' or '{' is JSON, anything else CSV. Each record becomes a JSON
 * object (CSV: column name -> string) for the format's normaliser, so one
 * mapping serves both forms.
 *
 * JSON is split as a stream: memory is bounded by one element (LIA_MAX_ROW),
 * whatever the size of the report. A malformed element becomes an error
 * record (quarantined with its reason), never a silent drop. */
#ifndef LIA_FEEDS_OBJREC_H
#define LIA_FEEDS_OBJREC_H

#include "feeds/jobj.h"
#include "liaison/csv.h"
#include "liaison/pipeline.h"

enum { LIA_OBJREC_UNKNOWN = 0, LIA_OBJREC_JSON = 1, LIA_OBJREC_CSV = 2 };

typedef struct lia_objrec {
    int mode;
    /* JSON splitter state */
    int started; /* saw '[' (array) or first '{' (object stream) */
    int array;   /* top level is an array */
    int done;    /* array closed */
    int depth;
    int in_str, esc;
    int in_elem;
    int oversize;     /* skipping an element longer than LIA_MAX_ROW */
    int trailing_err; /* 1: data after the array seen, 2: reported */
    uint64_t trailing_line;
    uint64_t line; /* current physical line (1-based) */
    uint64_t elem_line;
    lia_buf elem; /* element bytes spanning chunks; blank prefix while sniffing */
    lia_buf pre;  /* the blank prefix, alive until the next parse call */
    /* CSV */
    lia_csv *csv;
    const char *const *names; /* fixed column names (NULL: header row) */
    size_t nnames;
    char **hdr;
    size_t nhdr;
    int fatal;
    lia_error fatal_err;
    lia_records *out;
    const char *chunk;
    size_t chunklen;
    char comment; /* CSV comment character */
    int data_seen;
    int comment_header;      /* a "# a,b,c" comment before the data names the columns */
    const char *single_name; /* name of the only column of a one-column CSV */
    lia_jobj obj;            /* the current record */
    lia_jobj sub;            /* a nested object of it */
} lia_objrec;

/* names: fixed CSV column names (borrowed, must outlive r) or NULL when the
 * first CSV row is a header. comment: CSV comment character or '\0'. After
 * init a format may set comment_header (the last comment line with two or
 * more comma-separated names before a data row replaces the fixed names) and
 * single_name (a row of one field is that column, e.g. a plain IP list). */
void lia_objrec_init(lia_objrec *r, const char *const *names, size_t nnames, char comment);
void lia_objrec_free(lia_objrec *r);
int lia_objrec_parse(lia_objrec *r, const char *buf, size_t len, int eof, lia_records *out, lia_error *err);
/* The record as a flat JSON object (owned by r, valid until the next call),
 * or an error in err. */
int lia_objrec_object(lia_objrec *r, const lia_records *rs, const lia_record *rec, const lia_jobj **out,
                      lia_error *err);
/* The first element of array member key, if it is an object (valid until
 * the next call), else NULL. */
const lia_jobj *lia_objrec_first(lia_objrec *r, const lia_jobj *o, const char *key);

/* Helpers for normalisers working on an object. */
/* The member as text: a string (trimmed) as is, a number or boolean as its
 * JSON text; absent, null, "" or a nested value give LIA_SLICE_NULL. */
lia_slice lia_objrec_text(const lia_jobj *o, const char *key);
/* Set field f from member key when present (errors name the field). */
int lia_objrec_set(lia_event *ev, lia_field f, const lia_jobj *o, const char *key, lia_error *err);

#endif
