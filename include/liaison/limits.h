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
#define LIA_MAX_QUERY_LIMIT 10000000    /* rows one `events` query may return */

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

#endif
