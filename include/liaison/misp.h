/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/misp.h - MISP feed export and MISP import (feed format "misp").
 *
 * Export writes a MISP feed directory that a MISP instance can add as a feed
 * of type "MISP Feed": manifest.json, one EVENT-UUID.json per MISP event and
 * hashes.csv (MD5 of each attribute value, event UUID; of each part of a
 * composite value such as ip-dst|port, as MISP's feed correlation looks them
 * up). Events are grouped
 * into MISP events per report (default) or per feed and day, and per TLP, so
 * that each MISP event carries exactly one TLP tag (tlp:clear ...
 * tlp:amber+strict, tlp:red). Each event becomes attributes (ip-dst or
 * ip-dst|port, domain, url, md5/sha1/sha256) tagged with its RSIT
 * classification (rsit:TAXONOMY="TYPE"). At most LIA_MISP_OPEN_EVENTS
 * MISP events are built at once and each holds at most
 * LIA_MISP_EVENT_ATTRIBUTES attributes (a larger group continues in a next
 * part), so memory is bounded whatever the number of events exported.
 *
 * Import ("misp" format): a MISP event ({"Event": {...}} or the bare event)
 * is one report; each attribute (top level and inside objects) is a record.
 * ip-src/ip-dst (and |port), domain, hostname, domain|ip, url, md5, sha1,
 * sha256 and filename|hash attributes become events; tlp:* tags (attribute
 * over event) give the TLP, rsit:* and ecsirt:* tags the classification.
 * link/comment/text/other attributes are counted as not events; other types
 * are quarantined with the reason. A feed directory (manifest.json + event
 * files) is imported event file by event file (lia_misp_feed_files). */
#ifndef LIAISON_MISP_H
#define LIAISON_MISP_H

#include <stdint.h>

#include "liaison/error.h"
#include "liaison/event.h"

#define LIA_MISP_OPEN_EVENTS 64
#define LIA_MISP_EVENT_ATTRIBUTES 10000

enum { LIA_MISP_BY_REPORT = 0, LIA_MISP_BY_FEED_DAY = 1 };

typedef struct lia_misp_opts {
    const char *org;   /* Orgc name; NULL: "Liaison" */
    int group;         /* LIA_MISP_BY_REPORT or LIA_MISP_BY_FEED_DAY */
    int64_t now_us;    /* publish time; 0: now */
} lia_misp_opts;

typedef struct lia_misp_export lia_misp_export;

/* Create dir if needed (it must not already hold a manifest.json).
 * LIA_EEXIST, LIA_EIO, LIA_ENOMEM. */
int lia_misp_export_create(const char *dir, const lia_misp_opts *o, lia_misp_export **out,
                           lia_error *err);
/* LIA_ENOTFOUND if the event has nothing MISP can hold as an attribute. */
int lia_misp_export_add(lia_misp_export *x, const lia_event *ev, lia_error *err);
/* Write the remaining events, manifest.json and close hashes.csv. */
int lia_misp_export_finish(lia_misp_export *x, lia_error *err);
uint64_t lia_misp_export_events(const lia_misp_export *x); /* MISP events written */
uint64_t lia_misp_export_skipped(const lia_misp_export *x);
void lia_misp_export_destroy(lia_misp_export *x);

/* The event files of a MISP feed directory, in manifest order: calls cb
 * with each "DIR/UUID.json" path. Stops at a non-zero return (returned). */
typedef int (*lia_path_cb)(void *ud, const char *path);
int lia_misp_feed_files(const char *dir, lia_path_cb cb, void *ud, lia_error *err);

extern const struct lia_format lia_format_misp;

#endif
