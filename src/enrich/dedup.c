/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Deduplication / aggregation.
 *
 * Each event gets a 64-bit key (keyed SipHash of the configured fields).
 * An aggregate is (key, event id, first seen, last seen, count). An event
 * whose key has an aggregate with |time - first| < window is a duplicate:
 * the aggregate's last/first/count change and the event is dropped from the
 * batch; otherwise the event is kept and starts a new aggregate.
 *
 * Memory: an open-addressing table (linear probing, backward-shift delete)
 * of 32-byte slots that doubles as it fills (load <= 0.75) up to the size
 * for max_keys plus one commit interval, and never beyond
 * grown. The new aggregates of a batch are "pending" (their event's store
 * id is not known until the store inserted it): lia__dedup_stored(), called
 * with the stored batch, gives each its event's id. flush() writes every
 * changed aggregate to the `dedup` table and the aggregated events'
 * extra.dedup_* keys inside the open transaction, then evicts clean
 * entries (CLOCK) down to the cap. A miss after evictions or a restart is
 * looked up in the `dedup` table. */
#include <sodium.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/settings.h"
#include "enrich/internal.h"
#include "liaison/limits.h"
#include "store/db.h"
#include "store/events.h"
#include "store/forget.h"
#include "core/field_internal.h"

#define F_PENDING  (1u << 31)
#define F_DIRTY    (1u << 30)
#define F_REF      (1u << 29)
#define F_LISTED   (1u << 28)
#define COUNT_MASK ((1u << 28) - 1)

typedef struct entry {
    uint64_t key;   /* 0 = empty */
    int64_t id;     /* event id; while F_PENDING: the event's line */
    uint32_t first; /* seconds since 1970 */
    uint32_t last;
    uint32_t cf;  /* count (28 bits) and flags */
    uint32_t gen; /* generations: 1 + the one its stored row is in; 0 = no row */
} entry;

/* A generation of the stored aggregates (SQLite): the table dedup_G holds
 * those whose first seen is in [G * gsec, (G + 1) * gsec); its statements,
 * prepared at first use. */
typedef struct gen {
    int64_t g;
    lia_stmt *get, *put, *del;
    /* a Bloom filter of its keys (built at its first lookup, from the
     * table): a key it does not hold is not looked up */
    uint64_t *bloom;
    size_t bmask;       /* bits - 1 (a power of two) */
    size_t bheld, bcap; /* keys in it, and how many it is sized for */
    int bnone;          /* no memory for one: every key looked up */
} gen;

struct lia_dedup {
    lia_dedup_conf c;
    unsigned char hkey[crypto_shorthash_KEYBYTES];
    entry *t;
    size_t tbytes, max_slots;
    size_t mask, n, cap;
    size_t hand;      /* CLOCK hand */
    uint64_t *listed; /* keys with F_LISTED (dirty or pending) */
    entry *retired;   /* replaced aggregates whose event awaits its final count */
    size_t nretired, capretired;
    size_t nlisted, caplisted;
    uint64_t evictions;
    /* store */
    lia_db *db;   /* the store's, when attached */
    lia_db *side; /* PostgreSQL: a second connection for enrich_meta (meta_put) */
    lia_store *store;
    /* the pending aggregates of the last batch, in batch order: (line, key) */
    uint64_t (*bpend)[2];
    size_t nbpend, capbpend;
    int may_be_stored; /* the dedup table may hold keys not in memory */
    uint32_t newest;   /* latest last-seen written to the store (seconds) */
    uint32_t newest_stored;
    /* SQLite: the stored aggregates in generations (below) */
    int gens;
    int64_t gsec; /* seconds of first-seen a generation spans */
    gen *gv;      /* the generations, by number */
    size_t ng, capg;
    int view_stale; /* one was created or dropped: the view dedup to make again */
};

void lia__dedup_conf_default(lia_dedup_conf *c)
{
    memset(c, 0, sizeof *c);
    c->enabled = (int)lia__setting_int(LIA_SCOPE_ENRICH, "dedup.enabled", NULL);
    c->nkey = 4; /* the "dedup.key" default of core/settings.c */
    c->key[0] = LIA_F_CLASSIFICATION_TYPE;
    c->key[1] = LIA_F_SOURCE_IP;
    c->key[2] = LIA_F_SOURCE_PORT;
    c->key[3] = LIA_F_FEED_NAME;
    c->window_us = lia__setting_int(LIA_SCOPE_ENRICH, "dedup.window", NULL) * 1000000;
    c->max_keys = (size_t)lia__setting_int(LIA_SCOPE_ENRICH, "dedup.memory_keys", NULL);
}

int lia__dedup_conf_key(lia_dedup_conf *c, const char *s, size_t n, lia_error *err)
{
    int nk = 0, keys[LIA_DEDUP_MAX_KEY_FIELDS];
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != ',')
            continue;
        lia_slice f = lia_slice_trim((lia_slice){s + start, i - start});
        start = i + 1;
        if (f.len == 0)
            continue;
        int id = lia_field_lookup(f.ptr, f.len);
        if (id < 0)
            return lia_error_set(err, LIA_EINVAL, "dedup.key", f.ptr, f.len, "not a field name");
        if (nk == LIA_DEDUP_MAX_KEY_FIELDS)
            return lia_error_set(err, LIA_ELIMIT, "dedup.key", s, n, "at most %d key fields",
                                 LIA_DEDUP_MAX_KEY_FIELDS);
        keys[nk++] = id;
    }
    if (nk == 0)
        return lia_error_set(err, LIA_EINVAL, "dedup.key", s, n, "no key field");
    c->nkey = nk;
    memcpy(c->key, keys, sizeof keys);
    return LIA_OK;
}

static size_t slack(void)
{
    return LIA_COMMIT_EVENTS * 2 + LIA_BATCH * 2;
}

/* A zeroed table of slots (a power of two); huge pages for big ones, since
 * every new key touches a random slot. */
static int alloc_table(lia_dedup *d, size_t slots)
{
    size_t bytes = slots * sizeof(entry);
    entry *t = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return LIA_ENOMEM;
#ifdef MADV_HUGEPAGE
    if (bytes >= (32u << 20))
        madvise(t, bytes, MADV_HUGEPAGE);
#endif
    d->t = t;
    d->tbytes = bytes;
    d->mask = slots - 1;
    return LIA_OK;
}

int lia__dedup_create(const lia_dedup_conf *c, lia_dedup **out, lia_error *err)
{
    lia_dedup *d;
    size_t want, slots = 1024;
    if (c->max_keys < 1 || c->max_keys > LIA_DEDUP_MAX_KEYS)
        return lia_error_set(err, LIA_EINVAL, "dedup.memory_keys", NULL, 0, "must be 1 .. %u",
                             LIA_DEDUP_MAX_KEYS);
    if (c->nkey < 1 || c->nkey > LIA_DEDUP_MAX_KEY_FIELDS || c->window_us <= 0)
        return lia_error_set(err, LIA_EINVAL, "dedup", NULL, 0, "needs 1-%d key fields and a positive window",
                             LIA_DEDUP_MAX_KEY_FIELDS);
    if (sodium_init() < 0)
        return lia_error_set(err, LIA_ECRYPTO, NULL, NULL, 0, "libsodium failed to initialise");
    want = (c->max_keys + slack()) / 3 * 4 + 1; /* load <= 0.75 at the cap */
    while (slots < want)
        slots *= 2;
    d = calloc(1, sizeof *d);
    if (!d)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    d->max_slots = slots;
    slots = slots < 65536 ? slots : 65536; /* start at 2 MiB and grow */
    if (alloc_table(d, slots)) {
        free(d);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory for %zu dedup slots", slots);
    }
    d->c = *c;
    d->cap = c->max_keys;
    randombytes_buf(d->hkey, sizeof d->hkey);
    *out = d;
    return LIA_OK;
}

void lia__dedup_destroy(lia_dedup *d)
{
    if (!d)
        return;
    munmap(d->t, d->tbytes);
    lia__db_close(d->side);
    free(d->listed);
    free(d->bpend);
    free(d->retired);
    for (size_t i = 0; i < d->ng; i++) {
        lia__db_done(d->gv[i].get);
        lia__db_done(d->gv[i].put);
        lia__db_done(d->gv[i].del);
        free(d->gv[i].bloom);
    }
    free(d->gv);
    free(d);
}

size_t lia__dedup_keys(const lia_dedup *d)
{
    return d->n;
}
size_t lia__dedup_bytes(const lia_dedup *d)
{
    return (d->mask + 1) * sizeof(entry) + d->caplisted * sizeof(uint64_t) + sizeof *d;
}
uint64_t lia__dedup_evictions(const lia_dedup *d)
{
    return d->evictions;
}

/* ---- key ---- */

/* When a key field that names the observable (an address, network, host
 * name or URL) is absent, the key alone would lump unrelated events together
 * (a Spamhaus DROP row has a network and no address; a STIX file indicator
 * has a hash): then every other field the event has joins the key, except
 * the times and the raw data, so that such events are told apart by what
 * they do carry while repeats of the same report line still fold. */
static int identity_field(lia_field f)
{
    switch (f) {
    case LIA_F_TIME_SOURCE:
    case LIA_F_TIME_OBSERVATION:
    case LIA_F_RAW:
    case LIA_F_OUTPUT: return 0;
    default: return 1;
    }
}

static int is_observable(lia_ftype t)
{
    return t == LIA_T_IP || t == LIA_T_CIDR || t == LIA_T_FQDN || t == LIA_T_URL;
}

uint64_t lia__dedup_key(const lia_dedup *d, const lia_event *ev)
{
    unsigned char buf[4096]; /* every field at <= 40 bytes fits */
    size_t n = 0;
    uint64_t h;
    int fields[LIA_DEDUP_MAX_KEY_FIELDS + LIA_F__COUNT];
    int nf = 0, widen = 0;
    for (int k = 0; k < d->c.nkey; k++) {
        fields[nf++] = d->c.key[k];
        if (!lia_event_has(ev, (lia_field)d->c.key[k]) &&
            is_observable(lia__field_type((lia_field)d->c.key[k])))
            widen = 1;
    }
    if (widen)
        for (int f = 0; f < LIA_F__COUNT; f++)
            if (lia_event_has(ev, (lia_field)f) && identity_field((lia_field)f))
                fields[nf++] = f;
    for (int k = 0; k < nf; k++) {
        lia_field f = (lia_field)fields[k];
        if (n + 40 > sizeof buf)
            break;
        buf[n++] = (unsigned char)f;
        if (!lia_event_has(ev, f)) {
            buf[n++] = 0;
            continue;
        }
        buf[n++] = 1;
        switch (lia__field_type(f)) {
        case LIA_T_IP:
        case LIA_T_CIDR:
            buf[n++] = ev->v[f].ip.family;
            buf[n++] = ev->v[f].ip.prefix;
            memcpy(buf + n, ev->v[f].ip.addr, 16);
            n += 16;
            break;
        case LIA_T_FLOAT:
        case LIA_T_ACCURACY:
        case LIA_T_INT:
        case LIA_T_ASN:
        case LIA_T_PORT:
        case LIA_T_BOOL:
        case LIA_T_TIME:
        case LIA_T_TLP:
        case LIA_T_TAXONOMY:
        case LIA_T_CLASSTYPE:
        case LIA_T_REGISTRY:
            memcpy(buf + n, &ev->v[f], 8);
            n += 8;
            break;
        default: {
            lia_slice s = lia_event_str(ev, f);
            uint32_t len = (uint32_t)s.len;
            memcpy(buf + n, &len, 4);
            n += 4;
            if (s.len <= 32) {
                memcpy(buf + n, s.ptr, s.len);
                n += s.len;
            } else { /* long text: a digest of it */
                crypto_generichash(buf + n, 16, (const unsigned char *)s.ptr, s.len, NULL, 0);
                n += 16;
            }
        }
        }
    }
    crypto_shorthash((unsigned char *)&h, buf, n, d->hkey);
    return h ? h : 1;
}

/* ---- table ---- */

static entry *find(lia_dedup *d, uint64_t key)
{
    for (size_t i = (size_t)key & d->mask;; i = (i + 1) & d->mask) {
        if (d->t[i].key == key)
            return &d->t[i];
        if (d->t[i].key == 0)
            return NULL;
    }
}

/* Insert (the key must be absent); the table never fills: n <= cap + slack. */
static entry *insert(lia_dedup *d, uint64_t key)
{
    size_t i = (size_t)key & d->mask;
    while (d->t[i].key)
        i = (i + 1) & d->mask;
    memset(&d->t[i], 0, sizeof d->t[i]);
    d->t[i].key = key;
    d->n++;
    return &d->t[i];
}

static void remove_at(lia_dedup *d, size_t i)
{
    size_t j = i;
    d->t[i].key = 0;
    d->n--;
    for (;;) {
        j = (j + 1) & d->mask;
        if (!d->t[j].key)
            return;
        size_t home = (size_t)d->t[j].key & d->mask;
        /* move j back to i if its home is not in (i, j] */
        if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
            d->t[i] = d->t[j];
            d->t[j].key = 0;
            i = j;
        }
    }
}

/* CLOCK: evict entries that are clean and not recently used until n <=
 * target; gives up after two sweeps. */
static void evict(lia_dedup *d, size_t target)
{
    size_t steps = 0, limit = 2 * (d->mask + 1);
    while (d->n > target && steps++ < limit) {
        entry *e = &d->t[d->hand];
        if (e->key && !(e->cf & (F_REF | F_LISTED | F_PENDING | F_DIRTY))) {
            remove_at(d, d->hand);
            d->evictions++;
            if (d->db)
                d->may_be_stored = 1;
            continue; /* a shifted entry may now sit at the hand */
        }
        e->cf &= ~F_REF;
        d->hand = (d->hand + 1) & d->mask;
    }
}

static int flush_inner(lia_dedup *d, int final, lia_error *err);
static int update_body(lia_dedup *d, const entry *e, lia_error *err);
static int gens_view(lia_db *db, lia_error *err);

/* Double the table (rehash every entry). */
static int grow_table(lia_dedup *d)
{
    entry *old = d->t;
    size_t oldbytes = d->tbytes, oldslots = d->mask + 1;
    if (alloc_table(d, oldslots * 2)) {
        d->t = old;
        return LIA_ENOMEM;
    }
    d->n = 0;
    for (size_t i = 0; i < oldslots; i++) {
        if (!old[i].key)
            continue;
        entry *e = insert(d, old[i].key);
        *e = old[i];
    }
    d->hand = 0;
    munmap(old, oldbytes);
    return LIA_OK;
}

/* Before an insert: grow the table while below its largest size; at the
 * cap, flush (with a store) and evict. */
static int make_room(lia_dedup *d, lia_error *err)
{
    int rc;
    if (d->n + 1 > (d->mask + 1) / 4 * 3 && d->mask + 1 < d->max_slots) {
        if (grow_table(d))
            return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0,
                                 "out of memory growing the dedup table to %zu slots", (d->mask + 1) * 2);
    }
    if (d->n < d->cap + slack() / 2)
        return LIA_OK;
    if (d->db && (rc = flush_inner(d, 0, err)))
        return rc;
    evict(d, d->cap - d->cap / 10);
    if (d->n >= (d->mask + 1) / 4 * 3)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0,
                             "dedup: more than %zu new aggregates in one commit interval (memory_keys %zu)",
                             (d->mask + 1) / 4 * 3 - d->cap, d->cap);
    return LIA_OK;
}

static int list_key(lia_dedup *d, entry *e)
{
    if (e->cf & F_LISTED)
        return LIA_OK;
    if (d->nlisted == d->caplisted) {
        size_t nc = d->caplisted ? d->caplisted * 2 : 4096;
        uint64_t *p = realloc(d->listed, nc * sizeof *p);
        if (!p)
            return LIA_ENOMEM;
        d->listed = p;
        d->caplisted = nc;
    }
    d->listed[d->nlisted++] = e->key;
    e->cf |= F_LISTED;
    return LIA_OK;
}

static int list_pending(lia_dedup *d, uint64_t line, uint64_t key)
{
    if (d->nbpend == d->capbpend) {
        size_t nc = d->capbpend ? d->capbpend * 2 : LIA_BATCH;
        uint64_t(*p)[2] = realloc(d->bpend, nc * sizeof *p);
        if (!p)
            return LIA_ENOMEM;
        d->bpend = p;
        d->capbpend = nc;
    }
    d->bpend[d->nbpend][0] = line;
    d->bpend[d->nbpend][1] = key;
    d->nbpend++;
    return LIA_OK;
}

static uint32_t secs(int64_t us)
{
    int64_t s = us / 1000000;
    return s < 0 ? 0 : s > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static int64_t event_time(const lia_event *ev)
{
    if (lia_event_has(ev, LIA_F_TIME_SOURCE))
        return ev->v[LIA_F_TIME_SOURCE].i;
    if (lia_event_has(ev, LIA_F_TIME_OBSERVATION))
        return ev->v[LIA_F_TIME_OBSERVATION].i;
    return (int64_t)time(NULL) * 1000000;
}

static int in_window(const lia_dedup *d, const entry *e, uint32_t t)
{
    int64_t diff = (int64_t)t - (int64_t)e->first;
    if (diff < 0)
        diff = -diff;
    return diff * 1000000 < d->c.window_us;
}

static int gens_get(lia_dedup *d, uint64_t key, uint32_t t, entry **out, lia_error *err);
static int gens_put(lia_dedup *d, entry *e, lia_error *err);
static int update_body(lia_dedup *d, const entry *e, lia_error *err);

/* A replaced aggregate's final state: into its stored event and (with
 * generations, where its row is not overwritten by the one that replaces
 * it unless both are in one generation) into its row. */
static int retire_write(lia_dedup *d, const entry *e, lia_error *err)
{
    entry c = *e;
    int rc = update_body(d, e, err);
    return rc || !d->gens ? rc : gens_put(d, &c, err);
}

/* Look a key up in the store; on a hit, load it into memory (clean). t:
 * the time of the event that looks (generations: only an aggregate whose
 * window holds t can be found). */
static int load_stored(lia_dedup *d, uint64_t key, uint32_t t, entry **out, lia_error *err)
{
    lia_stmt *st;
    int rc;
    *out = NULL;
    if (d->gens)
        return gens_get(d, key, t, out, err);
    if ((rc = lia__db_prepare(d->db, "dedup: reading an aggregate",
                              "SELECT event_id, first, last, count FROM dedup WHERE key=?", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, (int64_t)key);
    rc = lia__db_step(st, err);
    if (rc == LIA_DB_ROW) {
        entry *e = insert(d, key);
        e->id = lia__db_col_int64(st, 0);
        e->first = (uint32_t)lia__db_col_int64(st, 1);
        e->last = (uint32_t)lia__db_col_int64(st, 2);
        e->cf = (uint32_t)lia__db_col_int64(st, 3) & COUNT_MASK;
        *out = e;
        rc = LIA_OK;
    }
    lia__db_done(st);
    return rc;
}

/* Move event src into slot dst (which is kept as an empty event holding
 * src's old buffers): copies only the present values, not the whole
 * 2 KiB struct, and no buffer changes owner twice. */
static void move_event(lia_event *dst, lia_event *src)
{
    lia_buf tb = dst->text;
    lia_extra *xe = dst->extra;
    uint32_t xc = dst->extra_cap;
    for (size_t w = 0; w < sizeof dst->present / sizeof dst->present[0]; w++) {
        uint64_t bits = src->present[w];
        dst->present[w] = bits;
        while (bits) {
            int f = (int)(w * 64) + __builtin_ctzll(bits);
            dst->v[f] = src->v[f];
            bits &= bits - 1;
        }
    }
    dst->text = src->text;
    dst->extra = src->extra;
    dst->nextra = src->nextra;
    dst->extra_cap = src->extra_cap;
    dst->id = src->id;
    dst->report_id = src->report_id;
    dst->line = src->line;
    src->text = tb;
    src->extra = xe;
    src->extra_cap = xc;
    lia_event_reset(src);
}

#define PREFETCH_AHEAD 8

/* An aggregate that changed since the last flush is being replaced (its
 * window has passed): its stored event must get its final count now. */
static int retire(lia_dedup *d, entry *e, lia_batch *b, size_t w, uint64_t first_line, lia_error *err)
{
    if ((e->cf & F_PENDING) && (uint64_t)e->id >= first_line) {
        /* its event is in this batch, not stored yet: set the keys on it */
        for (size_t k = 0; k < w; k++) {
            if (b->ev[k].line != (uint64_t)e->id)
                continue;
            char f[LIA_TIME_TEXT], l[LIA_TIME_TEXT];
            lia_time_format((int64_t)e->first * 1000000, f, sizeof f);
            lia_time_format((int64_t)e->last * 1000000, l, sizeof l);
            /* a feed's own keys of these names stay (the store row has the truth) */
            lia_event_extra_int(&b->ev[k], "dedup_count", 11, e->cf & COUNT_MASK, NULL);
            lia_event_extra_str(&b->ev[k], "dedup_first_seen", 16, f, strlen(f), NULL);
            lia_event_extra_str(&b->ev[k], "dedup_last_seen", 15, l, strlen(l), NULL);
            return LIA_OK;
        }
        return LIA_OK;
    }
    if (e->cf & F_PENDING)
        return LIA_OK; /* of an earlier batch, but its event was not stored: nothing to update */
    if (!lia__db_in_tx(d->db)) {
        /* (generations: its row is written then too, see gens_put) */
        /* no open transaction (first batch after a commit): keep it for the flush */
        if (d->nretired == d->capretired) {
            size_t nc = d->capretired ? d->capretired * 2 : 256;
            entry *p = realloc(d->retired, nc * sizeof *p);
            if (!p)
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            d->retired = p;
            d->capretired = nc;
        }
        d->retired[d->nretired++] = *e;
        return LIA_OK;
    }
    return retire_write(d, e, err);
}

int lia__dedup_batch(lia_dedup *d, lia_batch *b, lia_error *err)
{
    size_t w = 0;
    int removed = 0, rc;
    uint64_t keys[PREFETCH_AHEAD];
    const uint64_t first_line = b->n ? b->ev[0].line : 0;
    d->nbpend = 0; /* an earlier batch that was not stored keeps its aggregates pending */
    /* keys are computed PREFETCH_AHEAD events ahead and their slots
     * prefetched: the table is far larger than the caches */
    for (size_t i = 0; i < b->n && i < PREFETCH_AHEAD; i++) {
        keys[i] = lia__dedup_key(d, &b->ev[i]);
        __builtin_prefetch(&d->t[keys[i] & d->mask]);
    }
    for (size_t i = 0; i < b->n; i++) {
        lia_event *ev = &b->ev[i];
        uint64_t key = keys[i % PREFETCH_AHEAD];
        uint32_t t = secs(event_time(ev));
        if (i + PREFETCH_AHEAD < b->n) {
            uint64_t k2 = lia__dedup_key(d, &b->ev[i + PREFETCH_AHEAD]);
            keys[i % PREFETCH_AHEAD] = k2;
            __builtin_prefetch(&d->t[k2 & d->mask]);
        }
        entry *e = find(d, key);
        if (!e && (rc = make_room(d, err)))
            return rc;
        if (!e && d->may_be_stored && d->db && (rc = load_stored(d, key, t, &e, err)))
            return rc;
        if (e && in_window(d, e, t)) {
            uint32_t count = e->cf & COUNT_MASK;
            if (count < COUNT_MASK)
                e->cf = (e->cf & ~COUNT_MASK) | (count + 1);
            if (t < e->first)
                e->first = t;
            if (t > e->last)
                e->last = t;
            e->cf |= F_REF;
            if (d->db) {
                e->cf |= F_DIRTY;
                if ((rc = list_key(d, e)))
                    return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
            }
            removed++;
            continue;
        }
        if (!e)
            e = insert(d, key);
        else if (d->db && (e->cf & F_DIRTY) && (e->cf & COUNT_MASK) > 1 &&
                 (rc = retire(d, e, b, w, first_line, err)))
            return rc;
        /* a new aggregate (or the old one's window has passed) */
        e->id = (int64_t)ev->line;
        e->first = e->last = t;
        e->cf = 1 | F_REF | (e->cf & F_LISTED);
        e->gen = 0; /* the replaced one's row (if any) stays the replaced one's */
        if (d->db) {
            e->cf |= F_PENDING | F_DIRTY;
            if ((rc = list_key(d, e)) || (rc = list_pending(d, ev->line, key)))
                return lia_error_set(err, rc, NULL, NULL, 0, "out of memory");
        }
        if (w != i) /* keep the event, order kept */
            move_event(&b->ev[w], &b->ev[i]);
        w++;
    }
    b->n = w;
    if (!d->db && d->n > d->cap) /* in memory only: evict right away */
        evict(d, d->cap - d->cap / 10);
    return removed;
}

/* ---- store ---- */

static int to_generations(lia_db *db, lia_error *err);

/* Stores from before the migration registry also have a 'schema' row in
 * enrich_meta, left as it is; migration 1 creates only what is missing. */
static const lia_migration migrations[] = {
    {.sql = "CREATE TABLE IF NOT EXISTS enrich_meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);"
            "CREATE TABLE IF NOT EXISTS dedup("
            "  key INTEGER PRIMARY KEY,"   /* 64-bit key (SipHash of the key fields) */
            "  event_id INTEGER NOT NULL," /* the one stored event of the aggregate */
            "  first INTEGER NOT NULL,"    /* first seen, seconds since 1970 */
            "  last INTEGER NOT NULL,"     /* last seen */
            "  count INTEGER NOT NULL)",
     /* PostgreSQL: the key is the SipHash, never generated, so a plain
      * BIGINT key (an identity would have its sequence moved past the
      * largest key after every insert); enrich_meta holds both integers
      * (as their digits) and the hash key (bytes) */
     .pg = "CREATE TABLE IF NOT EXISTS enrich_meta(name TEXT PRIMARY KEY, value BYTEA NOT NULL);"
           "CREATE TABLE IF NOT EXISTS dedup("
           "  key BIGINT PRIMARY KEY,"
           "  event_id BIGINT NOT NULL,"
           "  first BIGINT NOT NULL,"
           "  last BIGINT NOT NULL,"
           "  count BIGINT NOT NULL)"},
    /* SQLite: the table becomes generations (to_generations); PostgreSQL
     * keeps it */
    {.run = to_generations},
};
static const lia_schema dedup_schema = {"dedup", 2, migrations, NULL, .pg = 1};

int lia__dedup_schema(lia_db *db, lia_error *err)
{
    return lia__db_schema(db, &dedup_schema, err);
}

static int meta_get(lia_dedup *d, const char *name, int64_t *v, lia_error *err)
{
    lia_stmt *st;
    int rc;
    *v = -1;
    /* an integer: SQLite keeps its type; PostgreSQL's bytea holds the digits */
    if ((rc = lia__db_prepare_pg(d->db, "dedup: reading enrich_meta",
                                 "SELECT value FROM enrich_meta WHERE name=? AND typeof(value)='integer'",
                                 "SELECT encode(value, 'escape')::bigint FROM enrich_meta WHERE name=$1"
                                 " AND encode(value, 'escape') ~ '^-?[0-9]{1,18}$'",
                                 &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    if (lia__db_step(st, NULL) == LIA_DB_ROW)
        *v = lia__db_col_int64(st, 0);
    lia__db_done(st);
    return LIA_OK;
}

/* On PostgreSQL inside a transaction, by a second connection, committed at
 * once: every ingest writes dedup_newest, and the row written in the
 * batch's transaction made another ingest wait for that whole transaction
 * (issue 12). A value so committed for a batch later rolled back only
 * brings the next prune of old aggregates forward. */
static int meta_put(lia_dedup *d, const char *name, int64_t v, lia_error *err)
{
    lia_stmt *st;
    lia_db *db = d->db;
    int rc;
    if (lia__db_is_pg(db) && lia__db_in_tx(db)) {
        if (!d->side && (rc = lia__db_open_side(db, &d->side, err)))
            return rc;
        db = d->side;
    }
    if ((rc = lia__db_prepare(db, "dedup: writing enrich_meta",
                              "INSERT INTO enrich_meta(name, value) VALUES(?, ?)"
                              " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                              &st, err)))
        return rc;
    lia__db_bind_text(st, 1, name, -1);
    lia__db_bind_int64(st, 2, v);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

/* ---- generations (SQLite) ----
 *
 * With one table of every aggregate under its random key, each insert
 * lands on a random page of a B-tree as big as the state (millions of
 * rows, past the page cache), so ingest slows as the store grows. Yet an
 * event can join only an aggregate whose first seen is within the window
 * of its time: the state is kept in generations by first seen, table
 * dedup_G for first seen in [G * gsec, (G + 1) * gsec), gsec the larger of
 * the window and a day (enrich_meta "dedup_gen_seconds", fixed while any
 * generation exists). A lookup reads only the two or three generations
 * that the window around the event's time overlaps, an insert goes into
 * the generation of the aggregate's first seen (a small B-tree, in the
 * cache), a row whose first seen moves back into an earlier generation (a
 * late event) moves with it, and a generation all of whose aggregates are
 * past keeping is dropped whole instead of deleted row by row. The view
 * dedup is every generation (SELECT ... FROM dedup sees the whole state).
 * PostgreSQL keeps the one table dedup. */

#define GEN_VIEW_ARMS 400 /* under SQLite's 500 terms of a compound SELECT */

static void gen_table(int64_t g, char *buf, size_t len)
{
    snprintf(buf, len, "dedup_%lld", (long long)g);
}

/* The generations' numbers, ascending, from the schema (*out malloc'd). */
static int gens_list(lia_db *db, int64_t **out, size_t *n, lia_error *err)
{
    return lia__db_int64s(
        db, "dedup: the generations",
        "SELECT CAST(substr(name, 7) AS INTEGER) AS g FROM sqlite_master WHERE type = 'table'"
        " AND name GLOB 'dedup_[0-9]*' AND NOT name GLOB 'dedup_*[^0-9]*' ORDER BY g",
        out, n, err);
}

/* The view dedup over every generation (nested past GEN_VIEW_ARMS). */
static int gens_view(lia_db *db, lia_error *err)
{
    static const char cols[] = "SELECT key, event_id, first, last, count FROM ";
    lia_buf sql;
    int64_t *v = NULL;
    size_t n = 0, nsub;
    int rc;
    char t[32];
    if ((rc = gens_list(db, &v, &n, err)))
        return rc;
    lia_buf_init(&sql, (size_t)8 << 20);
    lia_buf_puts(&sql, "DROP VIEW IF EXISTS dedup;");
    { /* the sub-views of the layout before */
        lia_stmt *st;
        int step;
        if ((rc = lia__db_prepare(
                 db, "dedup: the sub-views",
                 "SELECT name FROM sqlite_master WHERE type = 'view' AND name GLOB 'dedup_v[0-9]*'", &st,
                 err)))
            goto out;
        while ((step = lia__db_step(st, err)) == LIA_DB_ROW)
            lia_buf_printf(&sql, "DROP VIEW IF EXISTS \"%s\";", lia__db_col_text(st, 0));
        lia__db_done(st);
        if ((rc = step < 0 ? step : LIA_OK))
            goto out;
    }
    nsub = n > GEN_VIEW_ARMS ? (n + GEN_VIEW_ARMS - 1) / GEN_VIEW_ARMS : 0;
    for (size_t k = 0; k < nsub; k++) {
        lia_buf_printf(&sql, "CREATE VIEW dedup_v%zu AS ", k + 1);
        for (size_t i = k * GEN_VIEW_ARMS; i < n && i < (k + 1) * GEN_VIEW_ARMS; i++) {
            gen_table(v[i], t, sizeof t);
            lia_buf_printf(&sql, "%s%s%s", i == k * GEN_VIEW_ARMS ? "" : " UNION ALL ", cols, t);
        }
        lia_buf_putc(&sql, ';');
    }
    lia_buf_puts(&sql, "CREATE VIEW dedup(key, event_id, first, last, count) AS ");
    if (!n)
        lia_buf_puts(&sql, "SELECT 0, 0, 0, 0, 0 WHERE 0");
    for (size_t i = 0; i < (nsub ? nsub : n); i++) {
        if (nsub)
            lia_buf_printf(&sql, "%sSELECT * FROM dedup_v%zu", i ? " UNION ALL " : "", i + 1);
        else {
            gen_table(v[i], t, sizeof t);
            lia_buf_printf(&sql, "%s%s%s", i ? " UNION ALL " : "", cols, t);
        }
    }
    if (sql.err == LIA_ENOMEM)
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    else if (sql.err)
        rc = lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "dedup: too many generations for the view");
    else
        rc = lia__db_exec(db, lia_buf_cstr(&sql), err);
out:
    lia_buf_free(&sql);
    free(v);
    return rc;
}

static int gen_create(lia_db *db, int64_t g, lia_error *err)
{
    char sql[320];
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS dedup_%lld(key INTEGER PRIMARY KEY, event_id INTEGER NOT NULL,"
             " first INTEGER NOT NULL, last INTEGER NOT NULL, count INTEGER NOT NULL)",
             (long long)g);
    return lia__db_exec(db, sql, err);
}

/* Migration 2 of "dedup" (SQLite): the one table of before becomes
 * generations of a day (the default window; the first ingest that finds
 * none chooses again), in the migration's transaction, and dedup the view. */
static int to_generations(lia_db *db, lia_error *err)
{
    lia_stmt *st;
    int rc, step;
    const int64_t gsec = 86400;
    if (lia__db_is_pg(db))
        return LIA_OK;
    if ((rc = lia__db_prepare(db, "dedup: the generations of the table",
                              "SELECT DISTINCT first / ?1 FROM dedup", &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, gsec);
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW) {
        int64_t g = lia__db_col_int64(st, 0);
        char sql[256];
        if ((rc = gen_create(db, g, err)))
            break;
        snprintf(
            sql, sizeof sql,
            "INSERT INTO dedup_%lld(key, event_id, first, last, count) SELECT key, event_id, first, last,"
            " count FROM dedup WHERE first >= %lld AND first < %lld",
            (long long)g, (long long)(g * gsec), (long long)((g + 1) * gsec));
        if ((rc = lia__db_exec(db, sql, err)))
            break;
    }
    lia__db_done(st);
    if (rc)
        return rc;
    if (step < 0)
        return step;
    if ((rc = lia__db_exec(db, "DROP TABLE dedup", err)) || (rc = gens_view(db, err)) ||
        (rc = lia__db_prepare(db, "dedup: the generations' span",
                              "INSERT INTO enrich_meta(name, value) VALUES('dedup_gen_seconds', ?)"
                              " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, gsec);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc;
}

/* The index in d->gv of generation g, or of where it would go (*found 0). */
static size_t gen_at(const lia_dedup *d, int64_t g, int *found)
{
    size_t lo = 0, hi = d->ng;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (d->gv[mid].g < g)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < d->ng && d->gv[lo].g == g;
    return lo;
}

/* The index in d->gv of generation g, created (table and slot) if it is
 * not there. */
static int gen_get(lia_dedup *d, int64_t g, size_t *out, lia_error *err)
{
    int found, rc;
    size_t i = gen_at(d, g, &found);
    if (!found) {
        if (d->ng == d->capg) {
            size_t nc = d->capg ? d->capg * 2 : 16;
            gen *nv = realloc(d->gv, nc * sizeof *nv);
            if (!nv)
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            d->gv = nv;
            d->capg = nc;
        }
        if ((rc = gen_create(d->db, g, err)))
            return rc;
        memmove(&d->gv[i + 1], &d->gv[i], (d->ng - i) * sizeof *d->gv);
        memset(&d->gv[i], 0, sizeof d->gv[i]);
        d->gv[i].g = g;
        d->ng++;
        d->view_stale = 1;
    }
    *out = i;
    return LIA_OK;
}

static int gen_stmt(lia_dedup *d, gen *g, lia_stmt **st, const char *fmt, lia_error *err)
{
    char sql[320], t[32];
    if (*st)
        return LIA_OK;
    gen_table(g->g, t, sizeof t);
    snprintf(sql, sizeof sql, fmt, t);
    return lia__db_prepare_once(d->db, "dedup: a generation's aggregates", sql, st, err);
}

/* ---- a generation's Bloom filter: 16 bits a key, 3 probes (about 0.2 %
 * false positives at its size); the keys are SipHash values already, so
 * the probes are bits of the key and of two multiplications of it. No
 * false negatives: every key this process writes into the generation is
 * added; another process writing into the same store meanwhile (two
 * ingests at once) is not seen, as with the in-memory table. */

#define BLOOM_BITS_PER_KEY 16
#define BLOOM_MAX_BYTES    ((size_t)64 << 20)

static void bloom_add(gen *g, uint64_t key)
{
    uint64_t h[3] = {key, key * 0x9E3779B97F4A7C15ULL, (key ^ (key >> 29)) * 0xBF58476D1CE4E5B9ULL};
    for (int i = 0; i < 3; i++) {
        size_t b = (size_t)(h[i] >> 20) & g->bmask;
        g->bloom[b / 64] |= 1ULL << (b % 64);
    }
    g->bheld++;
}

static int bloom_has(const gen *g, uint64_t key)
{
    uint64_t h[3] = {key, key * 0x9E3779B97F4A7C15ULL, (key ^ (key >> 29)) * 0xBF58476D1CE4E5B9ULL};
    for (int i = 0; i < 3; i++) {
        size_t b = (size_t)(h[i] >> 20) & g->bmask;
        if (!(g->bloom[b / 64] & (1ULL << (b % 64))))
            return 0;
    }
    return 1;
}

/* (Re)build g's filter from its table, sized for twice its rows; when
 * memory is short it stays without one (every key is then looked up). */
static int bloom_build(lia_dedup *d, gen *g, lia_error *err)
{
    char sql[96], t[32];
    lia_stmt *st;
    int64_t rows;
    size_t bits = 1 << 16;
    int rc, step;
    free(g->bloom);
    g->bloom = NULL;
    gen_table(g->g, t, sizeof t);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", t);
    if ((rc = lia__db_prepare_once(d->db, "dedup: a generation's size", sql, &st, err)))
        return rc;
    rc = lia__db_step(st, err);
    rows = rc == LIA_DB_ROW ? lia__db_col_int64(st, 0) : 0;
    lia__db_done(st);
    if (rc < 0)
        return rc;
    while (bits / BLOOM_BITS_PER_KEY < (size_t)rows * 2 + 4096 && bits / 8 < BLOOM_MAX_BYTES)
        bits *= 2;
    if (!(g->bloom = calloc(bits / 64, sizeof *g->bloom))) {
        g->bnone = 1;
        return LIA_OK;
    }
    g->bmask = bits - 1;
    g->bheld = 0;
    g->bcap = bits / BLOOM_BITS_PER_KEY;
    snprintf(sql, sizeof sql, "SELECT key FROM %s", t);
    if ((rc = lia__db_prepare_once(d->db, "dedup: a generation's keys", sql, &st, err)))
        return rc;
    while ((step = lia__db_step(st, err)) == LIA_DB_ROW)
        bloom_add(g, (uint64_t)lia__db_col_int64(st, 0));
    lia__db_done(st);
    if (step < 0) {
        free(g->bloom);
        g->bloom = NULL;
        return step;
    }
    return LIA_OK;
}

/* The newest aggregate of key whose window holds t, from the generations
 * that window overlaps. */
static int gens_get(lia_dedup *d, uint64_t key, uint32_t t, entry **out, lia_error *err)
{
    int64_t wmax = (d->c.window_us - 1) / 1000000; /* the largest |t - first| in the window */
    int64_t lo = ((int64_t)t - wmax) / d->gsec, hi = ((int64_t)t + wmax) / d->gsec;
    int64_t bid = 0, bfirst = -1, blast = 0, bcount = 0, bg = 0;
    int found, rc;
    *out = NULL;
    for (size_t i = gen_at(d, lo < 0 ? 0 : lo, &found); i < d->ng && d->gv[i].g <= hi; i++) {
        gen *g = &d->gv[i];
        /* full (past what it was sized for, at the largest size too): again, twice as big */
        if (!g->bnone && (!g->bloom || (g->bheld > g->bcap && (g->bmask + 1) / 8 < BLOOM_MAX_BYTES)) &&
            (rc = bloom_build(d, g, err)))
            return rc;
        if (g->bloom && !bloom_has(g, key))
            continue;
        if ((rc = gen_stmt(d, g, &g->get, "SELECT event_id, first, last, count FROM %s WHERE key = ?", err)))
            return rc;
        lia__db_bind_int64(g->get, 1, (int64_t)key);
        rc = lia__db_step(g->get, err);
        if (rc == LIA_DB_ROW) {
            int64_t first = lia__db_col_int64(g->get, 1);
            int64_t diff = (int64_t)t - first;
            if ((diff < 0 ? -diff : diff) <= wmax && first > bfirst) {
                bid = lia__db_col_int64(g->get, 0);
                bfirst = first;
                blast = lia__db_col_int64(g->get, 2);
                bcount = lia__db_col_int64(g->get, 3);
                bg = g->g;
            }
        }
        lia__db_reset(g->get);
        if (rc < 0)
            return rc;
    }
    if (bfirst >= 0) {
        entry *e = insert(d, key);
        e->id = bid;
        e->first = (uint32_t)bfirst;
        e->last = (uint32_t)blast;
        e->cf = (uint32_t)bcount & COUNT_MASK;
        e->gen = (uint32_t)(bg + 1);
        *out = e;
    }
    return LIA_OK;
}

/* Write e's row into the generation of its first seen (moved out of the
 * one it was in, if that differs). */
static int gens_put(lia_dedup *d, entry *e, lia_error *err)
{
    int64_t g = (int64_t)e->first / d->gsec;
    size_t gi = 0;
    gen *gp;
    int rc;
    if (e->gen && (int64_t)e->gen - 1 != g) {
        int found;
        size_t i = gen_at(d, (int64_t)e->gen - 1, &found);
        if (found) {
            gen *old = &d->gv[i];
            if ((rc = gen_stmt(d, old, &old->del, "DELETE FROM %s WHERE key = ?", err)))
                return rc;
            lia__db_bind_int64(old->del, 1, (int64_t)e->key);
            rc = lia__db_run(old->del, err);
            lia__db_reset(old->del);
            if (rc)
                return rc;
        }
    }
    if ((rc = gen_get(d, g, &gi, err)))
        return rc;
    gp = &d->gv[gi];
    if ((rc = gen_stmt(d, gp, &gp->put,
                       "INSERT INTO %s(key, event_id, first, last, count) VALUES(?,?,?,?,?) ON CONFLICT(key)"
                       " DO UPDATE SET event_id = excluded.event_id, first = excluded.first,"
                       " last = excluded.last, count = excluded.count",
                       err)))
        return rc;
    lia__db_bind_int64(gp->put, 1, (int64_t)e->key);
    lia__db_bind_int64(gp->put, 2, e->id);
    lia__db_bind_int64(gp->put, 3, e->first);
    lia__db_bind_int64(gp->put, 4, e->last);
    lia__db_bind_int64(gp->put, 5, e->cf & COUNT_MASK);
    rc = lia__db_run(gp->put, err);
    lia__db_reset(gp->put);
    if (rc == LIA_OK) {
        e->gen = (uint32_t)(g + 1);
        if (gp->bloom) /* (a rolled-back write leaves its key: a false positive only) */
            bloom_add(gp, e->key);
    }
    return rc;
}

/* The generations into d->gv, and their span. */
static int gens_open(lia_dedup *d, lia_error *err)
{
    int64_t *v = NULL, gsec;
    size_t n = 0;
    int rc;
    if ((rc = gens_list(d->db, &v, &n, err)) || (rc = meta_get(d, "dedup_gen_seconds", &gsec, err)))
        goto out;
    if (!n || gsec <= 0) { /* none yet: the span for this window */
        int64_t w = d->c.window_us / 1000000;
        gsec = w > 86400 ? w : 86400;
        if ((rc = meta_put(d, "dedup_gen_seconds", gsec, err)))
            goto out;
    }
    if (n && !(d->gv = calloc(n, sizeof *d->gv))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        d->gv[i].g = v[i];
    d->ng = d->capg = n;
    d->gsec = gsec;
    d->gens = 1;
out:
    free(v);
    return rc;
}

/* The aggregates last seen before cutoff: a generation whose every first
 * seen is before it, and whose every last seen too, is dropped whole;
 * one with a later last seen (its first moved back into it) loses those
 * rows only; the rest wait for a later prune. */
static int gens_prune(lia_dedup *d, int64_t cutoff, lia_error *err)
{
    int rc = LIA_OK;
    for (size_t i = 0; i < d->ng && (d->gv[i].g + 1) * d->gsec <= cutoff;) {
        gen *g = &d->gv[i];
        char sql[160], t[32];
        lia_stmt *st;
        int64_t maxlast = -1;
        gen_table(g->g, t, sizeof t);
        snprintf(sql, sizeof sql, "SELECT max(last) FROM %s", t);
        if ((rc = lia__db_prepare_once(d->db, "dedup: a generation's last seen", sql, &st, err)))
            return rc;
        if ((rc = lia__db_step(st, err)) == LIA_DB_ROW && !lia__db_col_null(st, 0))
            maxlast = lia__db_col_int64(st, 0);
        lia__db_done(st);
        if (rc < 0)
            return rc;
        if (maxlast >= cutoff) {
            snprintf(sql, sizeof sql, "DELETE FROM %s WHERE last < %lld", t, (long long)cutoff);
            if ((rc = lia__db_exec(d->db, sql, err)))
                return rc;
            i++;
            continue;
        }
        lia__db_done(g->get);
        lia__db_done(g->put);
        lia__db_done(g->del);
        free(g->bloom);
        snprintf(sql, sizeof sql, "DROP TABLE %s", t);
        if ((rc = lia__db_exec(d->db, sql, err)))
            return rc;
        memmove(&d->gv[i], &d->gv[i + 1], (d->ng - i - 1) * sizeof *d->gv);
        d->ng--;
        d->view_stale = 1;
    }
    return rc;
}

/* ---- a whole-store copy (src/store/copy.c) ---- */

int lia__dedup_gens(lia_db *db, int64_t **out, size_t *n, lia_error *err)
{
    *out = NULL;
    *n = 0;
    return lia__db_is_pg(db) || lia__db_schema_version(db, dedup_schema.name) < 2
               ? LIA_OK
               : gens_list(db, out, n, err);
}

struct lia__dedup_sink {
    lia_db *db;
    int64_t gsec;
    lia_bulk *bulk; /* PostgreSQL: into the staging table */
    struct {
        int64_t g;
        lia_stmt *st;
    } * gs; /* SQLite: an INSERT per generation written in this batch */
    size_t ngs, capgs;
    int made;     /* SQLite: a generation was created: the view again */
    int64_t rows; /* rows new in the state */
};

#define DEDUP_STAGE "lia_dedup_stage"

/* The integers of enrich_meta that came from PostgreSQL (its bytea holds
 * their digits) as SQLite's integers again, which meta_get reads; the hash
 * key (bytes) stays as it is. */
static int meta_ints(lia_db *db, lia_error *err)
{
    return lia__db_exec(db,
                        "UPDATE enrich_meta SET value = CAST(CAST(value AS TEXT) AS INTEGER)"
                        " WHERE typeof(value) = 'blob' AND name <> 'dedup_hash_key'"
                        " AND length(value) BETWEEN 1 AND 18 AND CAST(value AS TEXT) GLOB '[0-9]*'"
                        " AND NOT CAST(value AS TEXT) GLOB '*[^0-9]*'",
                        err);
}

int lia__dedup_sink_open(lia_db *db, lia__dedup_sink **out, lia_error *err)
{
    lia__dedup_sink *k = calloc(1, sizeof *k);
    lia_stmt *st;
    int rc;
    *out = NULL;
    if (!k)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    k->db = db;
    if (lia__db_is_pg(db)) {
        if ((rc = lia__db_exec_pg(db, "",
                                  "CREATE TEMP TABLE IF NOT EXISTS " DEDUP_STAGE
                                  "(key BIGINT, event_id BIGINT,"
                                  " first BIGINT, last BIGINT, count BIGINT) ON COMMIT DROP",
                                  err)) ||
            (rc = lia__db_bulk_begin(db, "dedup: the copied aggregates", DEDUP_STAGE,
                                     "key, event_id, first, last, count", 5, &k->bulk, err)))
            goto fail;
        *out = k;
        return LIA_OK;
    }
    /* the generations' span: the source's (enrich_meta copied before), else
     * what an ingest with the default window would choose, recorded */
    if ((rc = meta_ints(db, err)) ||
        (rc = lia__db_prepare(db, "dedup: a copy's generations' span",
                              "SELECT value FROM enrich_meta WHERE name = 'dedup_gen_seconds'"
                              " AND typeof(value) = 'integer'",
                              &st, err)))
        goto fail;
    if ((rc = lia__db_step(st, err)) == LIA_DB_ROW)
        k->gsec = lia__db_col_int64(st, 0);
    lia__db_done(st);
    if (rc < 0)
        goto fail;
    if (k->gsec <= 0) {
        lia_dedup_conf c;
        int64_t w;
        lia__dedup_conf_default(&c);
        w = c.window_us / 1000000;
        k->gsec = w > 86400 ? w : 86400;
        if ((rc = lia__db_prepare(db, "dedup: recording a copy's generations' span",
                                  "INSERT INTO enrich_meta(name, value) VALUES('dedup_gen_seconds', ?)"
                                  " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                                  &st, err)))
            goto fail;
        lia__db_bind_int64(st, 1, k->gsec);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            goto fail;
    }
    *out = k;
    return LIA_OK;
fail:
    lia__dedup_sink_abort(k);
    return rc;
}

int lia__dedup_sink_put(lia__dedup_sink *k, int64_t key, int64_t event_id, int64_t first, int64_t last,
                        int64_t count, lia_error *err)
{
    int64_t g;
    size_t i;
    lia_stmt *st;
    int rc;
    if (k->bulk) {
        lia__db_bulk_int64(k->bulk, key);
        lia__db_bulk_int64(k->bulk, event_id);
        lia__db_bulk_int64(k->bulk, first);
        lia__db_bulk_int64(k->bulk, last);
        lia__db_bulk_int64(k->bulk, count);
        return lia__db_bulk_row(k->bulk, err);
    }
    if (first < 0)
        return lia_error_set(err, LIA_EINVAL, "dedup.first", NULL, 0,
                             "dedup: aggregate %lld first seen at %lld, before 1970", (long long)key,
                             (long long)first);
    g = first / k->gsec;
    for (i = 0; i < k->ngs && k->gs[i].g != g; i++)
        ;
    if (i == k->ngs) {
        char sql[200];
        if (k->ngs == k->capgs) {
            size_t nc = k->capgs ? k->capgs * 2 : 8;
            void *nv = realloc(k->gs, nc * sizeof *k->gs);
            if (!nv)
                return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
            k->gs = nv;
            k->capgs = nc;
        }
        snprintf(sql, sizeof sql, "dedup_%lld", (long long)g);
        if (!lia__db_has_table(k->db, sql)) {
            if ((rc = gen_create(k->db, g, err)))
                return rc;
            k->made = 1;
        }
        snprintf(sql, sizeof sql,
                 "INSERT INTO dedup_%lld(key, event_id, first, last, count) VALUES(?, ?, ?, ?, ?)",
                 (long long)g);
        if ((rc = lia__db_prepare_once(k->db, "dedup: a copied aggregate", sql, &k->gs[i].st, err)))
            return rc;
        k->gs[i].g = g;
        k->ngs++;
    }
    st = k->gs[i].st;
    lia__db_bind_int64(st, 1, key);
    lia__db_bind_int64(st, 2, event_id);
    lia__db_bind_int64(st, 3, first);
    lia__db_bind_int64(st, 4, last);
    lia__db_bind_int64(st, 5, count);
    rc = lia__db_run(st, err);
    lia__db_reset(st);
    k->rows += rc == LIA_OK;
    return rc;
}

int lia__dedup_sink_close(lia__dedup_sink *k, int64_t *stored, lia_error *err)
{
    int rc = LIA_OK;
    if (k->bulk) {
        lia_stmt *st;
        rc = lia__db_bulk_end(k->bulk, err);
        k->bulk = NULL;
        /* one row a key (SQLite's generations may hold a replaced aggregate
         * beside the one that replaced it): the newest first seen; the rows
         * new in dedup counted (xmax 0: inserted, not updated) */
        if (rc == LIA_OK &&
            (rc = lia__db_prepare_pg(
                 k->db, "dedup: merging the copied aggregates", "SELECT 0",
                 "WITH ins AS (INSERT INTO dedup(key, event_id, first, last, count)"
                 " SELECT DISTINCT ON (key) key, event_id, first, last, count FROM " DEDUP_STAGE
                 " ORDER BY key, first DESC"
                 " ON CONFLICT(key) DO UPDATE SET event_id = excluded.event_id, first = excluded.first,"
                 " last = excluded.last, count = excluded.count WHERE excluded.first > dedup.first"
                 " RETURNING xmax = 0 AS new)"
                 " SELECT count(*) FILTER (WHERE new) FROM ins",
                 &st, err)) == LIA_OK) {
            if ((rc = lia__db_step(st, err)) == LIA_DB_ROW) {
                k->rows = lia__db_col_int64(st, 0);
                rc = LIA_OK;
            } else if (rc == LIA_DB_DONE)
                rc = LIA_OK;
            lia__db_done(st);
        }
        if (rc == LIA_OK)
            rc = lia__db_exec_pg(k->db, "", "DROP TABLE " DEDUP_STAGE, err);
    } else if (k->made)
        rc = gens_view(k->db, err);
    if (rc == LIA_OK && stored)
        *stored = k->rows;
    k->made = 0;
    lia__dedup_sink_abort(k);
    return rc;
}

void lia__dedup_sink_abort(lia__dedup_sink *k)
{
    if (!k)
        return;
    lia__db_bulk_abort(k->bulk);
    for (size_t i = 0; i < k->ngs; i++)
        lia__db_done(k->gs[i].st);
    free(k->gs);
    free(k);
}

int lia__dedup_copied(lia_db *db, lia_error *err)
{
    int rc;
    if (lia__db_is_pg(db) || lia__db_schema_version(db, dedup_schema.name) < 2)
        return LIA_OK;
    if ((rc = lia__db_begin(db, err)))
        return rc;
    if ((rc = meta_ints(db, err)) || (rc = gens_view(db, err))) {
        lia__db_rollback(db);
        return rc;
    }
    return lia__db_commit(db, err);
}

int64_t lia__dedup_keep_seconds(const lia_dedup_conf *c)
{
    int64_t w = c->window_us / 1000000;
    return 2 * w > LIA_DEDUP_KEEP_MIN ? 2 * w : LIA_DEDUP_KEEP_MIN;
}

/* The dedup table would otherwise keep every key ever seen. An aggregate
 * last seen more than lia__dedup_keep_seconds() before the newest one can
 * absorb only an event that arrives that late with so old a time, so it is
 * deleted: once each time the newest last-seen has moved on by a window
 * (a scan of the table, so not at every ingest). */
static int prune(lia_dedup *d, lia_error *err)
{
    int64_t newest, pruned, keep = lia__dedup_keep_seconds(&d->c);
    lia_stmt *st;
    int rc;
    if ((rc = meta_get(d, "dedup_newest", &newest, err)) || (rc = meta_get(d, "dedup_pruned", &pruned, err)))
        return rc;
    if (newest < 0)
        return LIA_OK;
    d->newest = d->newest_stored = (uint32_t)newest;
    if (pruned >= 0 && (newest - pruned) * 1000000 < d->c.window_us)
        return LIA_OK;
    if (d->gens) { /* one transaction: the drops, the view and the mark */
        int own = !lia__db_in_tx(d->db);
        if (own && (rc = lia__db_begin(d->db, err)))
            return rc;
        if ((rc = gens_prune(d, newest - keep, err)) == LIA_OK && d->view_stale &&
            (rc = gens_view(d->db, err)) == LIA_OK)
            d->view_stale = 0;
        if (rc == LIA_OK)
            rc = meta_put(d, "dedup_pruned", newest, err);
        if (own) {
            if (rc == LIA_OK)
                rc = lia__db_commit(d->db, err);
            else
                lia__db_rollback(d->db);
        }
        return rc;
    }
    if ((rc = lia__db_prepare(d->db, "dedup: pruning the dedup table", "DELETE FROM dedup WHERE last < ?",
                              &st, err)))
        return rc;
    lia__db_bind_int64(st, 1, newest - keep);
    rc = lia__db_run(st, err);
    lia__db_done(st);
    return rc ? rc : meta_put(d, "dedup_pruned", newest, err);
}

int lia__dedup_attach(lia_dedup *d, lia_store *s, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st = NULL;
    const void *key;
    size_t n;
    int rc;
    if ((rc = lia__db_schema(db, &dedup_schema, err)))
        return rc;
    d->db = db;
    d->store = s;
    /* the hash key: the same for every run on this store */
    if ((rc = lia__db_prepare(db, "dedup: reading the hash key",
                              "SELECT value FROM enrich_meta WHERE name='dedup_hash_key'", &st, err)))
        return rc;
    if (lia__db_step(st, NULL) == LIA_DB_ROW && (key = lia__db_col_blob(st, 0, &n)) && n == sizeof d->hkey) {
        memcpy(d->hkey, key, sizeof d->hkey);
        lia__db_done(st);
    } else {
        lia__db_done(st);
        if ((rc = lia__db_prepare(db, "dedup: writing the hash key",
                                  "INSERT INTO enrich_meta(name, value) VALUES('dedup_hash_key', ?)"
                                  " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                                  &st, err)))
            return rc;
        lia__db_bind_blob(st, 1, d->hkey, sizeof d->hkey);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            return rc;
    }
    if ((!lia__db_is_pg(db) && (rc = gens_open(d, err))) || (rc = prune(d, err)))
        return rc;
    if ((rc = lia__db_prepare(db, "dedup: reading the dedup table", "SELECT EXISTS(SELECT 1 FROM dedup)", &st,
                              err)))
        return rc;
    rc = lia__db_step(st, err);
    d->may_be_stored = rc == LIA_DB_ROW && lia__db_col_int64(st, 0);
    lia__db_done(st);
    return rc < 0 ? rc : LIA_OK;
}

void lia__dedup_assume_stored(lia_dedup *d)
{
    d->may_be_stored = 1;
}

/* keys in the order of the dedup table's rowid (signed) */
static int cmp_key(const void *a, const void *b)
{
    int64_t x = (int64_t) * (const uint64_t *)a, y = (int64_t) * (const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Write an aggregate's count and first/last seen into its stored event. */
static int update_body(lia_dedup *d, const entry *e, lia_error *err)
{
    char f[LIA_TIME_TEXT], l[LIA_TIME_TEXT];
    lia_time_format((int64_t)e->first * 1000000, f, sizeof f);
    lia_time_format((int64_t)e->last * 1000000, l, sizeof l);
    /* the events table is the events store's: it patches the body */
    return lia__store_event_aggregate(d->store, e->id, e->cf & COUNT_MASK, f, l, err);
}

/* The batch was stored: its events' ids are known. The pending
 * aggregates of the batch are in the batch's order, as are its events (a
 * later stage may have dropped some: their aggregates stay pending and are
 * forgotten at the flush). */
void lia__dedup_stored(lia_dedup *d, const lia_batch *b)
{
    size_t j = 0;
    if (!d->db)
        return;
    for (size_t i = 0; i < d->nbpend; i++) {
        uint64_t line = d->bpend[i][0];
        while (j < b->n && b->ev[j].line < line)
            j++;
        if (j == b->n)
            break;
        if (b->ev[j].line != line)
            continue;
        entry *e = find(d, d->bpend[i][1]);
        /* not when the aggregate was replaced later in the batch */
        if (e && (e->cf & F_PENDING) && (uint64_t)e->id == line) {
            e->id = b->ev[j].id;
            e->cf &= ~F_PENDING;
        }
        j++;
    }
    d->nbpend = 0;
}

int lia__dedup_flush(lia_dedup *d, lia_error *err)
{
    return flush_inner(d, 1, err);
}

/* final: the batch was stored, so a still-pending entry's event never was
 * (forget it); otherwise (mid-batch) pending entries wait. */
static int flush_inner(lia_dedup *d, int final, lia_error *err)
{
    size_t keep = 0;
    lia_stmt *put = NULL;
    int rc = LIA_OK, own_tx = 0;
    if (!d->db)
        return LIA_OK;
    if (d->nlisted || d->nretired) {
        if (!lia__db_in_tx(d->db)) { /* no open transaction: make one */
            if ((rc = lia__db_begin(d->db, err)))
                return rc;
            own_tx = 1;
        }
        for (size_t i = 0; i < d->nretired; i++)
            if ((rc = retire_write(d, &d->retired[i], err)))
                goto out;
        d->nretired = 0;
        /* written in key order: the keys are random, and B-tree inserts in
         * order touch each page once instead of once per key */
        qsort(d->listed, d->nlisted, sizeof *d->listed, cmp_key);
        for (size_t i = 0; i < d->nlisted; i++) {
            entry *e = find(d, d->listed[i]);
            if (!e)
                continue;
            if ((e->cf & F_PENDING) && !final) {
                d->listed[keep++] = e->key;
                continue;
            }
            e->cf &= ~F_LISTED;
            if (e->cf & F_PENDING) {
                /* its event was not stored (e.g. the store rejected the
                 * batch): forget the aggregate */
                remove_at(d, (size_t)(e - d->t));
                continue;
            }
            if (!(e->cf & F_DIRTY))
                continue;
            uint32_t count = e->cf & COUNT_MASK;
            /* an event dated in the future (a wrong clock) must not make
             * every other aggregate look old */
            if (e->last > d->newest && (time_t)e->last <= time(NULL) + 86400)
                d->newest = e->last;
            if (d->gens) {
                if ((rc = gens_put(d, e, err)))
                    goto out;
            } else if (!put && (rc = lia__db_prepare(
                                    d->db, "dedup: writing an aggregate",
                                    "INSERT INTO dedup(key, event_id, first, last, count) VALUES(?,?,?,?,?)"
                                    " ON CONFLICT(key) DO UPDATE SET event_id = excluded.event_id,"
                                    " first = excluded.first, last = excluded.last, count = excluded.count",
                                    &put, err)))
                goto out;
            if (!d->gens) {
                lia__db_bind_int64(put, 1, (int64_t)e->key);
                lia__db_bind_int64(put, 2, e->id);
                lia__db_bind_int64(put, 3, e->first);
                lia__db_bind_int64(put, 4, e->last);
                lia__db_bind_int64(put, 5, count);
                rc = lia__db_run(put, err);
                lia__db_reset(put);
                if (rc)
                    goto out;
            }
            if (count > 1 && (rc = update_body(d, e, err)))
                goto out;
            e->cf &= ~F_DIRTY;
        }
        d->nlisted = keep;
        rc = LIA_OK;
        if (d->newest > d->newest_stored && (rc = meta_put(d, "dedup_newest", d->newest, err)))
            goto out;
        d->newest_stored = d->newest;
        if (d->view_stale && (rc = gens_view(d->db, err)))
            goto out;
        d->view_stale = 0;
    }
    /* evict clean entries down to 90% of the cap (they stay in the store) */
    if (final && d->n > d->cap)
        evict(d, d->cap - d->cap / 10);
out:
    lia__db_done(put);
    if (own_tx) {
        if (rc == LIA_OK)
            rc = lia__db_commit(d->db, err);
        else
            lia__db_rollback(d->db);
    }
    return rc;
}

/* ---- a prune (store/forget.h) ---- */

/* The aggregates whose one stored event goes: forgotten, so the next
 * duplicate of theirs is stored as a new event (a running ingest that
 * still holds one in memory updates nothing: the event's row is gone). */
static int dedup_forget(lia_store *s, const lia_forget *f, uint64_t *rows, lia_error *err)
{
    lia_db *db = lia__store_db(s);
    lia_stmt *st;
    int rc;
    (void)f;
    *rows = 0;
    if (!lia__db_is_pg(db)) { /* each generation (no index on event_id: a scan of each) */
        int64_t *v = NULL;
        size_t n = 0;
        if ((rc = gens_list(db, &v, &n, err)))
            return rc;
        for (size_t i = 0; i < n && rc == LIA_OK; i++) {
            char sql[160];
            snprintf(sql, sizeof sql,
                     "DELETE FROM dedup_%lld WHERE event_id IN (SELECT id FROM temp.lia_forget_event)",
                     (long long)v[i]);
            if ((rc = lia__db_exec(db, sql, err)) == LIA_OK)
                *rows += (uint64_t)lia__db_changes(db);
        }
        free(v);
        return rc;
    }
    if (!lia__db_has_table(db, "dedup"))
        return LIA_OK;
    if ((rc = lia__db_prepare(db, "dedup: aggregates of pruned events",
                              "DELETE FROM dedup WHERE event_id IN (SELECT id FROM temp.lia_forget_event)",
                              &st, err)))
        return rc;
    rc = lia__db_run(st, err);
    lia__db_done(st);
    if (rc == LIA_OK)
        *rows = (uint64_t)lia__db_changes(db);
    return rc;
}

const lia_forget_hook lia__dedup_forget = {"dedup", dedup_forget, NULL};
