/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/limits.h - every hard cap in one place. */
#ifndef LIAISON_LIMITS_H
#define LIAISON_LIMITS_H

#define LIA_MAX_ROW (1u << 20)          /* one CSV record or JSON line: 1 MiB */
#define LIA_MAX_FIELD (256u * 1024)     /* one CSV field */
#define LIA_MAX_COLUMNS 1024            /* columns in one CSV record */
#define LIA_MAX_STRING (64u * 1024)     /* a String field value */
#define LIA_MAX_URL 8192                /* a URL field value */
#define LIA_MAX_FQDN 253                /* an FQDN, without trailing dot */
#define LIA_MAX_EVENT_TEXT (512u * 1024)/* all text of one event, extra included */
#define LIA_MAX_EXTRA_KEYS 256          /* extra.* keys on one event */
#define LIA_MAX_KEY 128                 /* length of an extra.* key */
#define LIA_MAX_JSON_DEPTH 32           /* nesting inside extra values */
#define LIA_BATCH 4096                  /* events per pipeline batch */
#define LIA_COMMIT_EVENTS 50000         /* events per store transaction */
#define LIA_READ_CHUNK (256u * 1024)    /* bytes read from a report at a time */
#define LIA_MAX_SCHEMA (16u << 20)     /* a Shadowserver report schema file */
#define LIA_MAX_QUERY_LIMIT 10000000    /* rows one `events` query may return */

#define LIA_FETCH_MAX_BYTES (1ull << 30)      /* a fetched report: 1 GiB */
#define LIA_FETCH_CONNECT_TIMEOUT_MS 30000   /* connecting to a feed server */
#define LIA_FETCH_TIMEOUT_MS 600000          /* one whole download */
#define LIA_FETCH_RETRIES 3                  /* retries after the first try */
#define LIA_FETCH_BACKOFF_MS 2000            /* first retry delay; doubles */
#define LIA_FETCH_BACKOFF_MAX_MS 60000       /* longest retry delay */
#define LIA_FETCH_MAX_FILES 10000            /* files taken from a drop directory per run */

#endif
