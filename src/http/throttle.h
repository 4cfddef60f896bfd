/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* http/throttle.h - internal: the failed-login throttle of the HTTP server.
 *
 * A bounded table of failure records, each under a 16-byte key the caller
 * derives (a keyed hash of "user + address", "address", "user"). The
 * `free_fails`-th failure of a record starts a wait of base, each further
 * one doubles it (2 base, 4 base, ... at most max); while it runs the key is refused
 * without checking the password. A record with no failure for `forget_us`
 * starts over. When the probe window of a key is full, the least recently
 * failed record that is not waiting is replaced (one that waits only when
 * all are), so flooding the table with new keys cannot free an address
 * that is in back-off: its own record is the most recently touched.
 *
 * Pure: times are passed in (monotonic microseconds), no I/O, no globals;
 * not thread-safe (the server holds a mutex around each call). */
#ifndef LIA_HTTP_THROTTLE_H
#define LIA_HTTP_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct lia__throttle lia__throttle;

typedef struct lia__throttle_key {
    unsigned char b[16];
} lia__throttle_key;

/* A table of `slots` records (rounded up to a power of two, at least 16).
 * NULL when out of memory. */
lia__throttle *lia__throttle_create(size_t slots, int64_t base_us, int64_t max_us, int64_t forget_us);
void lia__throttle_destroy(lia__throttle *t);

/* Microseconds until key may try again; 0 if it may now. */
int64_t lia__throttle_wait(const lia__throttle *t, const lia__throttle_key *k, int64_t now_us);
/* Count one failure of key; from the free_fails-th on it starts (or
 * doubles) the wait. Returns the wait now in force (0 before that). */
int64_t lia__throttle_fail(lia__throttle *t, const lia__throttle_key *k, unsigned free_fails, int64_t now_us);
/* Forget key (a successful login for that user from that address). */
void lia__throttle_clear(lia__throttle *t, const lia__throttle_key *k);
/* Failures counted for key (0 if none or forgotten); for the log and tests. */
unsigned lia__throttle_fails(const lia__throttle *t, const lia__throttle_key *k, int64_t now_us);

#endif
