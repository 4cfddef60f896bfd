/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The failed-login throttle (throttle.h): open addressing over a
 * power-of-two table, a probe window of 8 records. */
#include <stdlib.h>
#include <string.h>

#include "http/throttle.h"

#define PROBE 8

typedef struct rec {
    lia__throttle_key k;
    uint32_t used;
    uint32_t fails;
    int64_t last_us;  /* last failure */
    int64_t until_us; /* refused before this */
} rec;

struct lia__throttle {
    rec *r;
    size_t mask;
    int64_t base_us, max_us, forget_us;
};

lia__throttle *lia__throttle_create(size_t slots, int64_t base_us, int64_t max_us, int64_t forget_us)
{
    size_t n = 16;
    lia__throttle *t;
    while (n < slots && n < ((size_t)1 << 24))
        n <<= 1;
    if (!(t = calloc(1, sizeof *t)))
        return NULL;
    if (!(t->r = calloc(n, sizeof *t->r))) {
        free(t);
        return NULL;
    }
    t->mask = n - 1;
    t->base_us = base_us > 0 ? base_us : 1;
    t->max_us = max_us > t->base_us ? max_us : t->base_us;
    t->forget_us = forget_us > 0 ? forget_us : 1;
    return t;
}

void lia__throttle_destroy(lia__throttle *t)
{
    if (!t)
        return;
    free(t->r);
    free(t);
}

static size_t home(const lia__throttle *t, const lia__throttle_key *k)
{
    uint64_t h;
    memcpy(&h, k->b, sizeof h); /* the key is a keyed hash: its bytes are uniform */
    return (size_t)h & t->mask;
}

static rec *find(const lia__throttle *t, const lia__throttle_key *k)
{
    size_t i = home(t, k);
    for (size_t j = 0; j < PROBE; j++) {
        rec *r = &t->r[(i + j) & t->mask];
        if (r->used && memcmp(r->k.b, k->b, sizeof k->b) == 0)
            return r;
    }
    return NULL;
}

/* A record is stale (as good as empty) once forgotten. */
static int stale(const lia__throttle *t, const rec *r, int64_t now_us)
{
    return !r->used || (now_us - r->last_us > t->forget_us && now_us >= r->until_us);
}

int64_t lia__throttle_wait(const lia__throttle *t, const lia__throttle_key *k, int64_t now_us)
{
    const rec *r = find(t, k);
    return r && r->until_us > now_us ? r->until_us - now_us : 0;
}

unsigned lia__throttle_fails(const lia__throttle *t, const lia__throttle_key *k, int64_t now_us)
{
    const rec *r = find(t, k);
    return r && !stale(t, r, now_us) ? r->fails : 0;
}

int64_t lia__throttle_fail(lia__throttle *t, const lia__throttle_key *k, unsigned free_fails, int64_t now_us)
{
    rec *r = find(t, k);
    if (!r) {
        size_t i = home(t, k);
        rec *victim = NULL;
        for (size_t j = 0; j < PROBE; j++) {
            rec *c = &t->r[(i + j) & t->mask];
            if (stale(t, c, now_us)) {
                victim = c;
                break;
            }
            /* prefer a record that is not waiting, then the oldest failure */
            if (!victim || (c->until_us <= now_us && victim->until_us > now_us) ||
                ((c->until_us <= now_us) == (victim->until_us <= now_us) && c->last_us < victim->last_us))
                victim = c;
        }
        r = victim;
        memset(r, 0, sizeof *r);
        r->k = *k;
        r->used = 1;
    } else if (stale(t, r, now_us)) {
        r->fails = 0;
        r->until_us = 0;
    }
    if (r->fails < UINT32_MAX)
        r->fails++;
    r->last_us = now_us;
    if (r->fails >= free_fails) {
        unsigned over = r->fails - free_fails;
        int64_t wait = t->base_us;
        while (over-- && wait < t->max_us)
            wait *= 2;
        if (wait > t->max_us)
            wait = t->max_us;
        r->until_us = now_us + wait;
        return wait;
    }
    return 0;
}

void lia__throttle_clear(lia__throttle *t, const lia__throttle_key *k)
{
    rec *r = find(t, k);
    if (r)
        memset(r, 0, sizeof *r);
}
