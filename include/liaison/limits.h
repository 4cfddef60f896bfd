/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/limits.h - every hard cap in one place. */
#ifndef LIAISON_LIMITS_H
#define LIAISON_LIMITS_H

#define LIA_MAX_ROW (1u << 20)          /* one CSV record or JSON line: 1 MiB */
#define LIA_MAX_FIELD (256u * 1024)     /* one CSV field */
#define LIA_MAX_COLUMNS 1024            /* columns in one CSV record */
#define LIA_MAX_SS_COLUMNS     4096            /* columns of a Shadowserver report (its header names them) */
#define LIA_MAX_STRING (64u * 1024)     /* a String field value */
#define LIA_MAX_URL 8192                /* a URL field value */
#define LIA_MAX_FQDN 253                /* an FQDN, without trailing dot */
#define LIA_MAX_EVENT_TEXT (512u * 1024)/* all text of one event, extra included */
#define LIA_MAX_EXTRA_KEYS 256          /* extra.* keys on one event */
#define LIA_MAX_KEY 128                 /* length of an extra.* key */
#define LIA_MAX_JSON_DEPTH 32           /* nesting inside extra values */
#define LIA_BATCH 4096                  /* events per pipeline batch */
#define LIA_COMMIT_EVENTS 50000         /* events per store transaction */
#define LIA_MAX_STAGES         16            /* stages one ingest runs */
#define LIA_BULK_MIN_BYTES (32u << 20)  /* reports this large may load without secondary indexes */
#define LIA_BULK_ROW_BYTES 256          /* bytes per row assumed when estimating a report's rows */
#define LIA_READ_CHUNK (256u * 1024)    /* bytes read from a report at a time */
#define LIA_MAX_SCHEMA (16u << 20)     /* a Shadowserver report schema file */
#define LIA_STORE_BUSY_MS      10000 /* a command waits this long for a store another process is writing */
#define LIA_HTTP_STORE_BUSY_MS 1000  /* a server request waits at most this long, then 503 + Retry-After */
#define LIA_HTTP_BUSY_RETRY_S  1     /* the Retry-After of that 503 */
#define LIA_MAX_QUERY_LIMIT 10000000    /* rows one `events` query may return */
#define LIA_PATH_MAX           4096        /* a file path we build or keep, with its NUL (Linux PATH_MAX) */
#define LIA_MAX_CONF_PATH      1024        /* a path kept in the enrichment config (sources, sector rules) */
/* enrichment (src/enrich) */
#define LIA_MAX_IPDATA_FILE (2ull << 30) /* one RIR / CSV IP data file: 2 GiB */
#define LIA_MAX_IPDATA_LINE 4096        /* one RIR line */
#define LIA_MAX_IPRANGES (32u << 20)    /* ranges (and values) in one range table */
#define LIA_MAX_AS_NAME 255             /* AS name bytes kept */
#define LIA_MAX_SECTOR_RULES 4096       /* rules in a sector rules file */
#define LIA_MAX_SECTOR_FILE (4u << 20)  /* sector rules file size */
#define LIA_MAX_ENRICH_CONF (1u << 20)  /* enrichment config file size */
#define LIA_DEDUP_KEYS 1000000          /* default in-memory dedup keys (~48 bytes each) */
#define LIA_MAX_DURATION_DAYS 366        /* longest interval, window or backoff a setting may give */
#define LIA_STR_(x) #x
#define LIA_STR(x) LIA_STR_(x)          /* a limit's value in a message */
#define LIA_DEDUP_KEEP_MIN (7 * 86400)  /* dedup aggregates kept in the store: 2 windows, at least this (s) */
#define LIA_DEDUP_MAX_KEYS (256u << 20) /* largest configurable in-memory cap */
#define LIA_MAX_HTML_PAGE     (64u << 20)  /* one HTML page read by a table mapping (read whole) */
#define LIA_MAX_SHARE_DOC (256u << 20) /* one STIX bundle, MISP event or IODEF document */
#define LIA_MAX_SHARE_OBJECTS 2000000   /* objects in one STIX bundle / attributes in one MISP event */
#define LIA_MAX_SPLIT_DEPTH   2048      /* nesting the STIX splitter follows (jansson parses no deeper) */
#define LIA_MAX_PATTERN 65536           /* a STIX pattern we try to read */
#define LIA_MAX_PATTERN_TERMS 64        /* comparisons in one STIX pattern */

#define LIA_FETCH_MAX_BYTES (1ull << 30)      /* a fetched report: 1 GiB */
#define LIA_FETCH_CONNECT_TIMEOUT_MS 30000   /* connecting to a feed server */
#define LIA_FETCH_TIMEOUT_MS 600000          /* one whole download */
#define LIA_FETCH_RETRIES 3                  /* retries after the first try */
#define LIA_FETCH_BACKOFF_MS 2000            /* first retry delay; doubles */
#define LIA_FETCH_BACKOFF_MAX_MS 60000       /* longest retry delay */
#define LIA_FETCH_MAX_FILES 10000            /* files taken from a drop directory per run */

/* routing and notifications (src/route, src/notify) */
#define LIA_MAX_CONFIG_FILE (16u << 20) /* a parties / rules / YAML / CSV file */
#define LIA_MAX_YAML_NODES 2000000      /* nodes in one YAML file */
#define LIA_MAX_PARTIES 100000          /* owners + partners in one route snapshot */
#define LIA_MAX_PARTY_VALUES 65536      /* values in one party field (e.g. cidrs) */
#define LIA_MAX_RULES 4096              /* rules in a routing configuration */
#define LIA_MAX_RULE_VALUES 4096        /* values in one rule match list */
#define LIA_MAX_TEMPLATE (256u * 1024)  /* one digest template file */
#define LIA_MAX_DIGEST_EVENTS 100000    /* events attached to one digest */
#define LIA_MAX_MESSAGE (64u << 20)     /* one rendered e-mail message */
#define LIA_MAX_SMTP_TRIES 10           /* delivery attempts per message */
#define LIA_NODE_LEASE_MS      600000       /* a node sync's lease on one peer (node.h lease_ms) */
#define LIA_NOTIFY_LEASE_MS    900000       /* a notifier's lease on one recipient (notify.h lease_ms) */
#define LIA_NOTIFY_TAXII_BATCH 1000     /* events per STIX bundle of a TAXII delivery */

/* HTTP server and TAXII (src/http, src/taxii) */
#define LIA_HTTP_MAX_BODY (10u * 1024 * 1024) /* request body (TAXII max_content_length) */
#define LIA_HTTP_MAX_HEADER (32u * 1024)      /* per-connection header memory */
#define LIA_HTTP_TIMEOUT_S 30                 /* idle connection timeout */
#define LIA_HTTP_MAX_CONNS 1024               /* simultaneous connections */
#define LIA_HTTP_PER_IP_CONNS 64              /* connections from one address */
#define LIA_HTTP_HEADER_TIMEOUT_S    10      /* absolute: headers complete within this of the connection */
#define LIA_HTTP_MIN_BODY_RATE       16384.0 /* bytes/s a request body must average after that grace */
#define LIA_HTTP_MAX_PARAMS 64                /* query parameters in one request */
#define LIA_HTTP_RATE 50.0                    /* default requests/s per key or user */
#define LIA_HTTP_BURST 100.0                  /* default token bucket size */
#define LIA_HTTP_MAX_RESPONSE (256u * 1024 * 1024) /* one response body */
#define LIA_HTTP_LOGIN_SLOTS         4096 /* failed-login records (user+address, address, user) */
#define LIA_HTTP_LOGIN_FREE          5    /* wrong passwords of one user from one address, then back-off */
#define LIA_HTTP_LOGIN_FREE_ADDR     20   /* wrong passwords from one address (any users) */
#define LIA_HTTP_LOGIN_FREE_USER     100  /* wrong passwords of one user (all addresses) */
#define LIA_HTTP_LOGIN_BACKOFF_S     1    /* first wait; doubles with each further failure */
#define LIA_HTTP_LOGIN_BACKOFF_MAX_S 900  /* longest wait */
#define LIA_HTTP_LOGIN_FORGET_S      3600 /* a record with no failure for this long starts over */

/* the web console (src/console) */
#define LIA_CONSOLE_IDLE_S    1800                /* session: idle expiry (s) */
#define LIA_CONSOLE_MAX_S     43200               /* session: absolute expiry (s, 12 h) */
#define LIA_CONSOLE_MAX_ASSET (16u * 1024 * 1024) /* one static file */
#define LIA_API_PAGE_DEFAULT  50                  /* REST API: incidents per page unless limit says */
#define LIA_API_PAGE_MAX      500                 /* REST API: the largest limit */
#define LIA_API_EXPORT_MAX    (64u * 1024 * 1024) /* REST API: one incident's STIX / IODEF export */

#define LIA_TAXII_PAGE_DEFAULT 1000           /* objects per page when no limit */
#define LIA_TAXII_PAGE_MAX 10000              /* largest limit honoured */
#define LIA_TAXII_MAX_MATCH 64                /* values in all match[...] filters */
#define LIA_TAXII_MATCH_BYTES 8192            /* their total text */
#define LIA_TAXII_MAX_OBJECTS 100000          /* objects in one POSTed envelope */
#define LIA_TAXII_MAX_ID 256                  /* a STIX id, collection id or api root */
#define LIA_TAXII_PULL_PAGE 1000              /* page size the client asks for */
#define LIA_TAXII_PULL_MAX_BODY (64u * 1024 * 1024) /* one page the client accepts */

/* retention (src/store/prune.c) */
#define LIA_PRUNE_BATCH_REPORTS 64    /* reports removed per transaction of a prune */
#define LIA_MAX_RETENTION_DAYS  36600 /* longest retention of a prune (100 years) */
#endif

