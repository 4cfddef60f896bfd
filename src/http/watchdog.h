/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* http/watchdog.h - internal: absolute deadlines for slow clients.
 *
 * libmicrohttpd's connection timeout is an idle timeout: every byte a
 * client trickles resets it, so a client sending its headers a byte at a
 * time, or a body at a few bytes a second, holds a connection (and one of
 * the per-address slots) for as long as it likes. The watchdog gives each
 * connection a deadline the client cannot move: its headers complete by
 * a fixed time, its body arrives at an average rate of at least
 * min_rate after a grace. A thread checks the deadlines every
 * LIA__WATCHDOG_TICK_MS and shuts a late connection's socket down
 * (shutdown(2): libmicrohttpd then sees the end of the stream and closes
 * it itself, on its own thread).
 *
 * Lifetime: lia__watchdog_add when the connection starts, _remove when it
 * is closed (before its socket is: the shutdown happens under the same
 * lock, so it never reaches a reused descriptor). Thread-safe. */
#ifndef LIA_HTTP_WATCHDOG_H
#define LIA_HTTP_WATCHDOG_H

#include <stddef.h>
#include <stdint.h>

#define LIA__WATCHDOG_TICK_MS 250

typedef struct lia__watchdog lia__watchdog;
typedef struct lia__wconn lia__wconn;

/* What a connection is waiting for. */
enum lia__wphase {
    LIA__W_HEADERS = 0, /* the request line and headers */
    LIA__W_BODY = 1,    /* the body */
    LIA__W_NONE = 2,    /* nothing: a handler runs or a response is sent */
};

/* Called (on the watchdog's thread, its lock held: do not call the
 * watchdog back) for each connection shut down: its peer text and phase. */
typedef void (*lia__watchdog_log_fn)(void *ud, const char *peer, int phase, double age_s);

/* A watchdog thread. grace_us: headers within this (from the connection,
 * or from the end of the previous request on a kept-alive connection:
 * keep_us), a body within this plus its bytes at min_rate bytes/s.
 * LIA_ENOMEM or LIA_EIO (thread). */
int lia__watchdog_start(int64_t grace_us, int64_t keep_us, double min_rate, lia__watchdog_log_fn log,
                        void *ud, lia__watchdog **out);
/* Stop the thread and free what is left. NULL ok. */
void lia__watchdog_stop(lia__watchdog *w);

/* A new connection on socket fd (peer copied): waiting for headers. NULL
 * when out of memory (the connection then has no deadline but its idle
 * timeout). */
lia__wconn *lia__watchdog_add(lia__watchdog *w, int fd, const char *peer);
/* Headers complete: waiting for a body of expect bytes (0 = none; the
 * connection's phase becomes LIA__W_NONE). For a body of unknown length
 * (chunked), expect is the body limit. */
void lia__watchdog_body(lia__watchdog *w, lia__wconn *c, uint64_t expect);
/* received more bytes of the body. */
void lia__watchdog_progress(lia__watchdog *w, lia__wconn *c, uint64_t received);
/* The body is complete: no deadline while the request is handled. */
void lia__watchdog_idle(lia__watchdog *w, lia__wconn *c);
/* The request ended; the connection stays open for the next one. */
void lia__watchdog_next(lia__watchdog *w, lia__wconn *c);
/* The connection is closing: forget it (c is freed). NULL c ok. */
void lia__watchdog_remove(lia__watchdog *w, lia__wconn *c);
/* Connections shut down so far. */
uint64_t lia__watchdog_expired(lia__watchdog *w);

#endif
