/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: the declarative CSV mapping (column -> field, with a conversion)
 * and the CSV format state built on it. The "csv" format loads a mapping
 * from a JSON file (docs/csv-mapping.md); other formats (Shadowserver) build
 * one in code and reuse the same engine. */
#ifndef LIA_FEEDS_CSVMAP_H
#define LIA_FEEDS_CSVMAP_H

#include <jansson.h>

#include "liaison/csv.h"
#include "liaison/pipeline.h"

/* A conversion turns a column's text into what is stored:
 * returns LIA_CONV_ABSENT (store nothing), LIA_CONV_TEXT (*out is text for
 * the field's own validator), LIA_CONV_JSON (*out is a JSON value, for
 * extra.* keys) or a negative code with *why set. scratch may hold *out. */
enum { LIA_CONV_ABSENT = 0, LIA_CONV_TEXT = 1, LIA_CONV_JSON = 2 };
typedef int (*lia_conv_fn)(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);

typedef struct lia_conv {
    const char *name;
    lia_conv_fn fn;
    const char *help;
} lia_conv;

/* Registered conversions (NULL-name terminated) and lookup. */
extern const lia_conv lia_convs[];
lia_conv_fn lia_conv_find(const char *name);

/* Conversions named as in Shadowserver's report schema (convs_intelmq.c). */
int lia__conv_add_utc(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_date(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_date_utc(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_bool(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_int(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_float(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_invalidate_zero(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_validate_to_none(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_validate_ip(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_validate_network(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_validate_fqdn(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_force_base64(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_extract_cve(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_exchange_taxonomy(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_exchange_type(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);
int lia__conv_exchange_identifier(lia_slice in, lia_buf *scratch, lia_slice *out, const char **why);

typedef struct lia_colmap {
    char *column;     /* header name; NULL when by index */
    int index;        /* column index when no header (-1 = by name) */
    int field;        /* lia_field, or -1 for an extra key */
    char *extra_key;  /* key without "extra." */
    lia_conv_fn conv; /* NULL = text as is, empty = absent */
    int required;     /* column must exist; empty value quarantines the row */
    /* before conv: "values" translates a value (ASCII case ignored; one not
     * listed becomes vdefault when set, else stays), then "time" reads it
     * with a strptime format (UTC unless it has %z), "epoch" or "epoch_ms" */
    char **vfrom, **vto;
    size_t nvalues;
    char *vdefault;
    char *timefmt;
    char *attr;                  /* HTML: the value is this attribute of the cell */
    struct lia_colmap *fallback; /* tried when the value fails (owned) */
} lia_colmap;

typedef struct lia_constmap {
    char *target;     /* field name or extra.KEY */
    char *value;
} lia_constmap;

enum { LIA_UNMAPPED_IGNORE = 0, LIA_UNMAPPED_EXTRA = 1, LIA_UNMAPPED_ERROR = 2 };

typedef struct lia_csvmap {
    lia_csv_opts csv;
    int header;        /* first record holds column names */
    int unmapped;      /* LIA_UNMAPPED_* */
    lia_colmap *cols;
    size_t ncols, capcols;
    lia_constmap *consts;
    size_t nconsts, capconsts;
    char *name;        /* for messages */
    int records;       /* LIA_REC_* (feeds/maprec.h): CSV, lines or JSON objects */
    char *pattern;     /* lines: groups are the columns */
    char *ignore;      /* lines: lines that are no record */
    char *each;        /* JSON: one record per element of this array member */
    /* HTML: which table (feeds/htmltable.h), and whether its first row
     * names the columns */
    char *tbl_id, *tbl_class, *tbl_after;
    int tbl_index;
    int html_header;
} lia_csvmap;

/* The mappings built into the library from share/feeds/ *.map (name without
 * ".map"), loaded with the path "builtin:NAME". */
typedef struct lia_feedmap_text {
    const char *name;
    const char *text;
    size_t len;
} lia_feedmap_text;
extern const lia_feedmap_text lia__feedmaps[];

lia_csvmap *lia_csvmap_new(const char *name);
void lia_csvmap_free(lia_csvmap *m);
/* target: a field name, "extra.KEY", or "extra." (= extra.<column name>). */
int lia_csvmap_add(lia_csvmap *m, const char *column, int index, const char *target,
                   const char *conv, int required, lia_error *err);
int lia_csvmap_add_const(lia_csvmap *m, const char *target, const char *value, lia_error *err);
int lia_csvmap_from_json(json_t *j, const char *name, lia_csvmap **out, lia_error *err);
int lia_csvmap_load(const char *path, lia_csvmap **out, lia_error *err);

/* A column's "values" and "time" applied to v (*out may live in b). */
int lia__map_xform(const lia_colmap *c, lia_slice v, lia_buf *b, lia_slice *out, const char **why);

/* The format state. open takes ownership of m. */
typedef struct lia_csvfmt lia_csvfmt;
int lia_csvfmt_open(lia_csvfmt **out, lia_csvmap *m, const lia_feed_opts *o, lia_error *err);
int lia_csvfmt_parse(lia_csvfmt *f, const char *buf, size_t len, int eof, lia_records *out,
                     lia_error *err);
int lia_csvfmt_normalise(lia_csvfmt *f, const lia_records *rs, const lia_record *r, lia_event *ev,
                         lia_error *err);
void lia_csvfmt_close(lia_csvfmt *f);

#endif
