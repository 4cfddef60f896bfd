/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/feeds.h - the feed registry, fetching and feed health.
 *
 * A feed is a named source of reports: a URL fetched on a schedule (with
 * conditional GET) or a drop directory whose new files are ingested. The
 * registry lives in the store (its own tables, created on first use); each
 * fetch records when it ran, whether it worked and why not, so that
 * lia_feeds_health() can flag feeds that are LATE or FAILING. A store
 * handle is used by one thread at a time; so are these functions. */
#ifndef LIAISON_FEEDS_H
#define LIAISON_FEEDS_H

#include <stdint.h>
#include <stdio.h>

#include "liaison/error.h"
#include "liaison/ingest.h"
#include "liaison/limits.h"
#include "liaison/store.h"

#define LIA_FEED_NAME_MAX 128

typedef struct lia_feed {
    char name[LIA_FEED_NAME_MAX]; /* [A-Za-z0-9._-]+ */
    char provider[128];
    char format[64];     /* a registered format (lia_format_find) */
    char url[2048];      /* http(s) URL, or "" for a drop directory */
    char dir[LIA_PATH_MAX]; /* drop directory, or "" for a URL feed */
    int64_t interval_s;  /* schedule; 0 = only when named */
    int tlp;             /* default TLP of its events; -1 = none */
    char doc[512];       /* documentation link */
    char map_path[LIA_PATH_MAX]; /* format option: CSV mapping file */
    char subtype[128];   /* format option: report type, list, columns */
    int enabled;
    int64_t retention_s; /* its reports are pruned this long after they were received
                            (liaison store prune); 0 = kept until pruned by hand */
    /* state, written by lia_fetch_feed */
    char etag[256];
    char last_modified[128];
    int64_t created_us, last_fetch_us, last_success_us;
    int last_ok; /* the last attempt succeeded */
    char last_error[512];
} lia_feed;

/* Registry. add: LIA_EEXIST if the name is taken. get/remove/enable:
 * LIA_ENOTFOUND if no such feed. */
int lia_feeds_add(lia_store *s, const lia_feed *f, lia_error *err);
int lia_feeds_get(lia_store *s, const char *name, lia_feed *out, lia_error *err);
int lia_feeds_remove(lia_store *s, const char *name, lia_error *err);
int lia_feeds_set_enabled(lia_store *s, const char *name, int enabled, lia_error *err);
/* The feed's retention in seconds (0: none), as lia_feed.retention_s. */
int lia_feeds_set_retention(lia_store *s, const char *name, int64_t secs, lia_error *err);
typedef int (*lia_feed_cb)(void *ud, const lia_feed *f);
/* Calls cb for each feed in name order; a non-zero return stops and is returned. */
int lia_feeds_list(lia_store *s, lia_feed_cb cb, void *ud, lia_error *err);

/* Well-known public feeds (data only): name, provider, format, URL,
 * documentation. NULL-name terminated. */
typedef struct lia_feed_preset {
    const char *name, *provider, *format, *url, *subtype, *doc, *summary;
    int64_t interval_s;
    int tlp;
    const char *licence; /* the data's licence or terms, or NULL */
    const char *map;     /* mapping (format csv): "builtin:NAME", or NULL */
} lia_feed_preset;
/* Presets of the formats written in C, and those of the declarative
 * mappings shipped in share/feeds/ (built in; one per .map file).
 * lia_feed_preset_find looks in both. */
extern const lia_feed_preset lia_feed_presets[];
extern const lia_feed_preset lia_feed_map_presets[];
const lia_feed_preset *lia_feed_preset_find(const char *name);
/* Fill f from preset p (f is cleared first). */
void lia_feed_from_preset(const lia_feed_preset *p, lia_feed *f);

/* ---- fetching ---- */

typedef struct lia_fetch_opts {
    uint64_t max_bytes;      /* 0 = LIA_FETCH_MAX_BYTES */
    long connect_timeout_ms; /* 0 = LIA_FETCH_CONNECT_TIMEOUT_MS */
    long timeout_ms;         /* 0 = LIA_FETCH_TIMEOUT_MS (whole transfer) */
    int retries;             /* -1 = LIA_FETCH_RETRIES; retries after the first try */
    long backoff_ms;         /* 0 = LIA_FETCH_BACKOFF_MS; doubles per retry */
    const char *ca_file;     /* CA bundle to verify against; NULL = the system's */
    FILE *progress;          /* ingest progress line target or NULL */
    volatile int *stop;
    /* set (nats://HOST:PORT): a fetched report is not processed here but
     * registered, archived and published in chunks to the work bus, as
     * `liaison ingest --bus` does (lia_bus_publish, liaison/bus.h) */
    const char *bus_url;
    size_t bus_chunk;  /* records per chunk (0: the bus's default) */
    int64_t bus_limit; /* the stream's chunk limit when this creates it (0: default) */
} lia_fetch_opts;

enum lia_fetch_status {
    LIA_FETCH_INGESTED = 1, /* new content was ingested */
    LIA_FETCH_NOT_MODIFIED, /* 304, or same content as an earlier report */
    LIA_FETCH_EMPTY,        /* drop directory had no new file */
};

typedef struct lia_fetch_result {
    int status;
    long http_code; /* last HTTP status (URL feeds) */
    int attempts;
    uint64_t bytes;
    unsigned files, files_failed; /* drop directory */
    uint64_t reports, rows, events, quarantined;
    uint64_t chunks, published; /* with bus_url: chunks cut, and sent (not already stored) */
} lia_fetch_result;

/* 1 if feed f should be fetched at now_us: enabled, with a schedule, and
 * never fetched or last fetched at least interval_s ago. */
int lia_feed_due(const lia_feed *f, int64_t now_us);

/* Fetch feed NAME once (URL: conditional GET with retries and exponential
 * backoff on network errors, 5xx, 408 and 429; body capped at max_bytes,
 * written to a temporary file and ingested; drop directory: every new file
 * is ingested and moved into done/ or failed/). Records the outcome in the
 * registry (also on failure). Returns LIA_OK or an error in err. */
int lia_fetch_feed(lia_store *s, const char *name, const lia_fetch_opts *o, lia_fetch_result *res,
                   lia_error *err);

/* ---- health ---- */

typedef struct lia_feed_health {
    const lia_feed *feed;
    uint64_t reports, rows, events, quarantined;
    double events_per_s; /* stored events per second of pipeline time */
    int64_t last_report_us;
    int late;    /* enabled, scheduled, no success within 2 x interval */
    int failing; /* the last attempt failed */
} lia_feed_health;
typedef int (*lia_health_cb)(void *ud, const lia_feed_health *h);
int lia_feeds_health(lia_store *s, int64_t now_us, lia_health_cb cb, void *ud, lia_error *err);

#endif
