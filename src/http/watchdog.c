/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Absolute deadlines for slow clients (watchdog.h): a list of connections
 * under one mutex, checked by one thread. At most the server's connection
 * limit of entries: a scan of them every tick is cheap. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/clock.h"
#include "http/watchdog.h"
#include "liaison/error.h"

struct lia__wconn {
    lia__wconn *prev, *next;
    int fd;
    int phase;
    int shut;
    int64_t t0_us;       /* the phase began */
    int64_t deadline_us; /* INT64_MAX: none */
    char peer[64];
};

struct lia__watchdog {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    int stop;
    lia__wconn *head;
    int64_t grace_us, keep_us;
    double min_rate;
    uint64_t expired;
    lia__watchdog_log_fn log;
    void *ud;
};

static void *run(void *arg)
{
    lia__watchdog *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += LIA__WATCHDOG_TICK_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        int64_t now = lia__mono_us();
        for (lia__wconn *c = w->head; c && !w->stop; c = c->next)
            if (!c->shut && now > c->deadline_us) {
                shutdown(c->fd, SHUT_RDWR);
                c->shut = 1;
                w->expired++;
                if (w->log)
                    w->log(w->ud, c->peer, c->phase, (double)(now - c->t0_us) / 1e6);
            }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int lia__watchdog_start(int64_t grace_us, int64_t keep_us, double min_rate, lia__watchdog_log_fn log,
                        void *ud, lia__watchdog **out)
{
    lia__watchdog *w = calloc(1, sizeof *w);
    if (!w)
        return LIA_ENOMEM;
    w->grace_us = grace_us;
    w->keep_us = keep_us;
    w->min_rate = min_rate > 0 ? min_rate : 1;
    w->log = log;
    w->ud = ud;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, run, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return LIA_EIO;
    }
    *out = w;
    return LIA_OK;
}

void lia__watchdog_stop(lia__watchdog *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    while (w->head) {
        lia__wconn *c = w->head;
        w->head = c->next;
        free(c);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

static void set_phase(lia__wconn *c, int phase, int64_t now, int64_t deadline)
{
    c->phase = phase;
    c->t0_us = now;
    c->deadline_us = deadline;
}

lia__wconn *lia__watchdog_add(lia__watchdog *w, int fd, const char *peer)
{
    lia__wconn *c = calloc(1, sizeof *c);
    int64_t now = lia__mono_us();
    if (!c)
        return NULL;
    c->fd = fd;
    snprintf(c->peer, sizeof c->peer, "%s", peer ? peer : "-");
    set_phase(c, LIA__W_HEADERS, now, now + w->grace_us);
    pthread_mutex_lock(&w->mu);
    c->next = w->head;
    if (w->head)
        w->head->prev = c;
    w->head = c;
    pthread_mutex_unlock(&w->mu);
    return c;
}

/* The body's deadline once received bytes of it are in: the grace, then
 * min_rate bytes a second; never later than the whole of it at that rate. */
static int64_t body_deadline(const lia__watchdog *w, const lia__wconn *c, uint64_t received)
{
    return c->t0_us + w->grace_us + (int64_t)((double)received / w->min_rate * 1e6);
}

void lia__watchdog_body(lia__watchdog *w, lia__wconn *c, uint64_t expect)
{
    int64_t now = lia__mono_us();
    if (!c)
        return;
    pthread_mutex_lock(&w->mu);
    if (expect == 0)
        set_phase(c, LIA__W_NONE, now, INT64_MAX);
    else {
        set_phase(c, LIA__W_BODY, now, 0);
        c->deadline_us = body_deadline(w, c, 0);
    }
    pthread_mutex_unlock(&w->mu);
}

void lia__watchdog_progress(lia__watchdog *w, lia__wconn *c, uint64_t received)
{
    if (!c)
        return;
    pthread_mutex_lock(&w->mu);
    if (c->phase == LIA__W_BODY)
        c->deadline_us = body_deadline(w, c, received);
    pthread_mutex_unlock(&w->mu);
}

void lia__watchdog_idle(lia__watchdog *w, lia__wconn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&w->mu);
    set_phase(c, LIA__W_NONE, lia__mono_us(), INT64_MAX);
    pthread_mutex_unlock(&w->mu);
}

void lia__watchdog_next(lia__watchdog *w, lia__wconn *c)
{
    int64_t now = lia__mono_us();
    if (!c)
        return;
    pthread_mutex_lock(&w->mu);
    set_phase(c, LIA__W_HEADERS, now, now + w->keep_us);
    pthread_mutex_unlock(&w->mu);
}

void lia__watchdog_remove(lia__watchdog *w, lia__wconn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&w->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&w->mu);
    free(c);
}

uint64_t lia__watchdog_expired(lia__watchdog *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t n = w->expired;
    pthread_mutex_unlock(&w->mu);
    return n;
}
