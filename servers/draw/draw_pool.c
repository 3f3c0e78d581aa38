/* draw_pool.c: the pool's hot path, its background reserver, reset and
 * status. State: the permutation (rebuilt from the seed, draw_perm.c), an
 * atomic cursor (next position to hand out) and an atomic published mark
 * (positions below it are covered by a durable commit, draw_store.c).
 *
 * Why no number is ever handed out twice.
 * 1. Within a run, positions are taken by compare-and-swap of the cursor
 *    from c to c + k, so the ranges [c, c + k) handed out are disjoint, and
 *    the permutation maps distinct positions to distinct numbers.
 * 2. A draw takes [c, c + k) only if c + k <= the published mark, and the
 *    reserver publishes a mark only after the LMDB transaction holding it
 *    has been committed and fsynced. So every position ever handed out is
 *    below the durable mark at that moment; the durable mark never
 *    decreases while draws may run (only draw_pool_close lowers it, to the
 *    exact cursor, once no draw can run).
 * 3. A restart sets the cursor to the durable mark. An LMDB commit is
 *    atomic, so a crash at any instant (mid-draw, mid-commit, mid-close)
 *    leaves either the old or the new mark on disk, and both are >= every
 *    position handed out before the crash. The seed is committed with the
 *    first mark, before any draw, so the restarted permutation is the same.
 *    Hence positions after a restart are all beyond positions before it.
 * 4. A reset commits new seed, size, generation and mark in one transaction
 *    and tags cursor and mark with the generation, so a draw that read the
 *    old generation cannot succeed its CAS against the new cursor.
 * What a crash costs: the mark runs at most max(2 * block_max, one pending
 * request) ahead of the cursor, so at most that many numbers are skipped.
 *
 * The block adapts (draw_adapt): each reservation sizes it to the draws
 * expected during four commits (draw rate since the last reservation x
 * the recent fsync time), between block and block_max. Only the distance
 * the mark runs ahead changes, never the rule above (a draw still needs
 * its end below a durable mark), so adapting cannot hand out a number
 * twice; it only moves the crash cost between 2 * block and 2 * block_max.
 *
 * The hot path holds no lock and touches no disk. It takes the state mutex
 * only (a) once per reservation, to wake the reserver when the cursor comes
 * within 1.5 blocks of the mark, and (b) when it must wait because the
 * reserver is behind. The mutex is never held across an fsync (commits hold
 * io_mu). */
#include "draw_pool.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "draw_store.h"
#include "sb_log.h"

/* cursor, mark and need pack (generation << 32 | position). */
#define PACK(gen, pos) ((uint64_t)(gen) << 32 | (uint32_t)(pos))
#define GEN(v) ((uint32_t)((v) >> 32))
#define POS(v) ((uint32_t)(v))

/* One pool generation: what a reset replaces. Immutable once published. */
typedef struct draw_epoch {
    uint32_t gen, size;
    uint8_t seed[DRAW_SEED_BYTES];
    char fp[DRAW_FINGERPRINT_CHARS + 1];
    uint32_t *perm;
    struct draw_epoch *older; /* kept until close: stragglers may read it */
} draw_epoch;

struct draw_pool {
    _Alignas(64) _Atomic uint64_t cursor;
    _Alignas(64) _Atomic uint64_t mark; /* published, durable */
    _Atomic(draw_epoch *) epoch;
    _Atomic uint64_t need; /* furthest end a waiting draw needs */
    _Atomic int kick_pending;
    _Atomic uint64_t reserves, waits;
    _Atomic uint32_t block_now; /* reservation unit in force */
    _Alignas(64) uint32_t block_min, block_max_cfg, max_count;
    draw_store *store;
    /* draw_adapt's measurements; only touched with io_mu held */
    int64_t rate_us, commit_us;
    uint32_t rate_pos, rate_gen;
    pthread_mutex_t io_mu; /* serialises commits: reserver, reset, close */
    pthread_mutex_t mu;    /* guards the fields below and the two conds */
    pthread_cond_t kick_cv, done_cv;
    uint64_t round; /* reserver attempts finished */
    int last_failed, stop;
    pthread_t reserver;
    int reserver_started;
};

static void draw_epoch_free(draw_epoch *e)
{
    while (e != NULL) {
        draw_epoch *older = e->older;
        free(e->perm);
        sodium_memzero(e->seed, sizeof e->seed);
        free(e);
        e = older;
    }
}

static draw_result draw_epoch_new(const draw_state *s, draw_epoch **out)
{
    draw_epoch *e = calloc(1, sizeof *e);
    if (e == NULL)
        return DRAW_NOMEM;
    e->perm = malloc((size_t)s->size * sizeof *e->perm);
    if (e->perm == NULL) {
        free(e);
        return DRAW_NOMEM;
    }
    e->gen = s->gen;
    e->size = s->size;
    memcpy(e->seed, s->seed, sizeof e->seed);
    draw_perm_build(e->seed, e->size, e->perm);
    draw_perm_fingerprint(e->seed, e->fp);
    *out = e;
    return DRAW_OK;
}

static draw_state draw_epoch_state(const draw_epoch *e, uint32_t mark)
{
    draw_state s = {.size = e->size, .gen = e->gen, .mark = mark};
    memcpy(s.seed, e->seed, sizeof s.seed);
    return s;
}

static uint32_t draw_min_u64(uint64_t a, uint32_t b)
{
    return a < b ? (uint32_t)a : b;
}

static int64_t draw_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The largest block for a pool of size numbers (draw_pool_config). */
static uint32_t draw_block_max(const draw_pool *p, uint32_t size)
{
    uint32_t hi = p->block_max_cfg;
    if (hi == 0)
        hi = size / 16 < DRAW_DEFAULT_BLOCK_MAX ? size / 16
                                                : DRAW_DEFAULT_BLOCK_MAX;
    return hi < p->block_min ? p->block_min : hi;
}

/* Size the block for the next reservation: the draws expected during four
 * commits, so that the kick at 1.5 blocks left leaves six commit times of
 * headroom. Grows at once (a stalled draw rate is capped at 2 blocks per
 * commit, so the estimate grows 8x a round until it is met), shrinks by
 * at most half a round. Called with io_mu held. */
static uint32_t draw_adapt(draw_pool *p, const draw_epoch *e, uint32_t pos)
{
    int64_t now = draw_now_us();
    uint32_t b = atomic_load(&p->block_now), hi = draw_block_max(p, e->size);
    if (p->rate_gen == e->gen && now > p->rate_us && pos >= p->rate_pos &&
        p->commit_us > 0) {
        double want = (double)(pos - p->rate_pos) / (double)(now - p->rate_us) *
                      4.0 * (double)p->commit_us;
        uint32_t w = want >= hi ? hi : (uint32_t)want;
        if (w < b / 2)
            w = b / 2;
        if (w < p->block_min)
            w = p->block_min;
        b = w > hi ? hi : w;
        atomic_store(&p->block_now, b);
    }
    p->rate_gen = e->gen;
    p->rate_us = now;
    p->rate_pos = pos;
    return b;
}

/* Commits s and keeps the recent commit time: jumps up to a slow one at
 * once, decays slowly (an fsync's time varies a lot). */
static int draw_timed_save(draw_pool *p, const draw_state *s)
{
    int64_t t0 = draw_now_us();
    int rc = draw_store_save(p->store, s);
    int64_t t = draw_now_us() - t0;
    p->commit_us = t > p->commit_us ? t : (7 * p->commit_us + t) / 8;
    return rc;
}

/* One reserver round: move the durable mark to cursor + 2 blocks (or to
 * what a waiting draw needs), commit, then publish. Returns 0 or an LMDB
 * error code. */
static int draw_reserve_once(draw_pool *p)
{
    int rc = 0;
    pthread_mutex_lock(&p->io_mu);
    draw_epoch *e = atomic_load(&p->epoch);
    uint64_t c = atomic_load(&p->cursor), m = atomic_load(&p->mark);
    uint64_t n = atomic_load(&p->need);
    uint32_t b = GEN(c) == e->gen ? draw_adapt(p, e, POS(c))
                                  : atomic_load(&p->block_now);
    uint64_t target = (uint64_t)POS(c) + 2u * (uint64_t)b;
    if (GEN(n) == e->gen && POS(n) > target)
        target = POS(n);
    uint32_t t = draw_min_u64(target, e->size);
    if (t > POS(m)) {
        draw_state s = draw_epoch_state(e, t);
        rc = draw_timed_save(p, &s);
        sodium_memzero(s.seed, sizeof s.seed);
        if (rc == 0) {
            atomic_store(&p->mark, PACK(e->gen, t)); /* only after the fsync */
            atomic_fetch_add(&p->reserves, 1);
        } else {
            sb_error("draw", "reserving up to %u failed: %s", t,
                     mdb_strerror(rc));
        }
    }
    pthread_mutex_unlock(&p->io_mu);
    return rc;
}

static void draw_timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, mu, &ts);
}

static void *draw_reserver_main(void *arg)
{
    draw_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        if (!atomic_load(&p->kick_pending)) {
            pthread_cond_wait(&p->kick_cv, &p->mu);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        /* Cleared before the cursor is read, so a draw that crosses the
         * low-water line after this point kicks again. */
        atomic_store(&p->kick_pending, 0);
        int rc = draw_reserve_once(p);
        pthread_mutex_lock(&p->mu);
        p->round++;
        p->last_failed = rc != 0;
        pthread_cond_broadcast(&p->done_cv);
        if (rc != 0 && !p->stop) /* a failing disk: retry, but not in a spin */
            draw_timed_wait(&p->kick_cv, &p->mu, 100);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Wake the reserver at most once per round, without a syscall when a kick
 * is already pending. */
static void draw_kick(draw_pool *p)
{
    if (atomic_load_explicit(&p->kick_pending, memory_order_relaxed) ||
        atomic_exchange(&p->kick_pending, 1))
        return;
    pthread_mutex_lock(&p->mu);
    pthread_cond_signal(&p->kick_cv);
    pthread_mutex_unlock(&p->mu);
}

/* The slow path: the published mark does not cover [.., end). Ask the
 * reserver for it and (unless nowait) wait for one round. DRAW_OK means
 * "try again"; DRAW_AGAIN is nowait's answer. */
static draw_result draw_wait_reserve(draw_pool *p, uint32_t gen, uint64_t end,
                                     int nowait)
{
    draw_result r = DRAW_OK;
    atomic_fetch_add(&p->waits, 1);
    pthread_mutex_lock(&p->mu);
    uint64_t r0 = p->round, m = atomic_load(&p->mark);
    if (GEN(m) != gen || POS(m) >= end)
        goto out; /* published meanwhile, or reset */
    uint64_t n = atomic_load(&p->need);
    if (GEN(n) != gen || POS(n) < end)
        atomic_store(&p->need, PACK(gen, end)); /* end <= size < 2^32 */
    atomic_store(&p->kick_pending, 1);
    pthread_cond_signal(&p->kick_cv);
    if (nowait) {
        r = DRAW_AGAIN;
        goto out;
    }
    while (p->round == r0 && !p->stop)
        draw_timed_wait(&p->done_cv, &p->mu, 1000);
    m = atomic_load(&p->mark);
    if (p->stop || (p->last_failed && GEN(m) == gen && POS(m) < end))
        r = DRAW_IO_ERROR;
out:
    pthread_mutex_unlock(&p->mu);
    return r;
}

static draw_result draw_take(draw_pool *p, uint32_t count, uint32_t *out,
                             uint32_t *left, int nowait)
{
    if (p == NULL || out == NULL || count == 0 || count > p->max_count)
        return DRAW_INVALID;
    draw_epoch *e;
    uint64_t c, m, end;
    for (;;) {
        e = atomic_load(&p->epoch);
        c = atomic_load(&p->cursor);
        m = atomic_load(&p->mark);
        if (GEN(c) != e->gen || GEN(m) != e->gen)
            continue; /* a reset is publishing; it takes a few stores */
        end = (uint64_t)POS(c) + count;
        if (end > e->size) {
            if (left != NULL)
                *left = e->size - POS(c);
            return DRAW_EXHAUSTED;
        }
        if (end > POS(m)) {
            draw_result r = draw_wait_reserve(p, e->gen, end, nowait);
            if (r != DRAW_OK)
                return r;
            continue;
        }
        if (atomic_compare_exchange_weak(&p->cursor, &c, c + count))
            break;
    }
    memcpy(out, e->perm + POS(c), (size_t)count * sizeof *out);
    /* Reserve ahead once half a block of the two is used, so the reserver
     * has a block and a half of headroom to get scheduled and fsync. */
    uint32_t b = atomic_load_explicit(&p->block_now, memory_order_relaxed);
    if (POS(m) < e->size && POS(m) - end < b + b / 2)
        draw_kick(p);
    if (left != NULL)
        *left = e->size - (uint32_t)end;
    return DRAW_OK;
}

draw_result draw_pool_draw(draw_pool *p, uint32_t count, uint32_t *out,
                           uint32_t *left)
{
    return draw_take(p, count, out, left, 0);
}

draw_result draw_pool_draw_nowait(draw_pool *p, uint32_t count, uint32_t *out,
                                  uint32_t *left)
{
    return draw_take(p, count, out, left, 1);
}

draw_result draw_pool_status_get(draw_pool *p, draw_pool_status *st)
{
    if (p == NULL || st == NULL)
        return DRAW_INVALID;
    draw_epoch *e;
    uint64_t c, m;
    do { /* retry only while a reset is publishing */
        e = atomic_load(&p->epoch);
        c = atomic_load(&p->cursor);
        m = atomic_load(&p->mark);
    } while (GEN(c) != e->gen || GEN(m) != e->gen);
    memset(st, 0, sizeof *st);
    st->size = e->size;
    st->drawn = POS(c);
    st->remaining = e->size - POS(c);
    st->block = draw_block_max(p, e->size);
    st->block_now = atomic_load(&p->block_now);
    st->max_count = p->max_count;
    st->persisted_mark = POS(m);
    st->generation = e->gen;
    st->reserves = atomic_load(&p->reserves);
    st->waits = atomic_load(&p->waits);
    memcpy(st->fingerprint, e->fp, sizeof st->fingerprint);
    return DRAW_OK;
}

/* Commit the epoch with its first reservation, then publish it. Called with
 * io_mu held (or before the reserver exists). */
static draw_result draw_publish(draw_pool *p, draw_epoch *e, uint32_t pos)
{
    uint32_t b = atomic_load(&p->block_now), hi = draw_block_max(p, e->size);
    if (b > hi) /* a reset to a smaller pool */
        atomic_store(&p->block_now, b = hi);
    uint32_t t = draw_min_u64((uint64_t)pos + 2u * (uint64_t)b, e->size);
    draw_state s = draw_epoch_state(e, t);
    int rc = draw_timed_save(p, &s);
    sodium_memzero(s.seed, sizeof s.seed);
    if (rc != 0) {
        sb_error("draw", "committing the pool failed: %s", mdb_strerror(rc));
        return DRAW_IO_ERROR;
    }
    atomic_fetch_add(&p->reserves, 1);
    /* Mark and cursor before the epoch: a draw that sees the new epoch sees
     * its cursor; one that sees the old epoch fails the generation check. */
    atomic_store(&p->mark, PACK(e->gen, t));
    atomic_store(&p->need, 0);
    atomic_store(&p->cursor, PACK(e->gen, pos));
    e->older = atomic_load(&p->epoch);
    atomic_store(&p->epoch, e);
    return DRAW_OK;
}

draw_result draw_pool_reset(draw_pool *p, const char *confirm,
                            uint32_t new_size)
{
    if (p == NULL || new_size > DRAW_MAX_SIZE)
        return DRAW_INVALID;
    draw_result r;
    draw_epoch *e = NULL;
    pthread_mutex_lock(&p->io_mu);
    draw_epoch *cur = atomic_load(&p->epoch);
    if (confirm == NULL || strcmp(confirm, cur->fp) != 0) {
        r = DRAW_REFUSED;
        goto out;
    }
    draw_state s = {.size = new_size ? new_size : cur->size,
                    .gen = cur->gen + 1};
    randombytes_buf(s.seed, sizeof s.seed);
    r = draw_epoch_new(&s, &e);
    sodium_memzero(s.seed, sizeof s.seed);
    if (r != DRAW_OK)
        goto out;
    if ((r = draw_publish(p, e, 0)) != DRAW_OK)
        goto out;
    sb_info("draw", "pool reset: %s (size %u) replaced by %s (size %u)",
            cur->fp, cur->size, e->fp, e->size);
    e = NULL; /* published: the pool owns it */
out:
    pthread_mutex_unlock(&p->io_mu);
    draw_epoch_free(e);
    if (r == DRAW_OK) { /* wake waiters of the old generation */
        pthread_mutex_lock(&p->mu);
        p->round++;
        p->last_failed = 0;
        pthread_cond_broadcast(&p->done_cv);
        pthread_mutex_unlock(&p->mu);
    }
    return r;
}

static draw_result draw_map_store_err(int rc)
{
    switch (rc) {
    case EBUSY:
        return DRAW_BUSY;
    case ENOMEM:
        return DRAW_NOMEM;
    case EPROTO:
    case EBADMSG:
    case MDB_CORRUPTED:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return DRAW_CORRUPT;
    default:
        return DRAW_IO_ERROR;
    }
}

/* Load the stored pool, or make a new one, and publish it. */
static draw_result draw_load(draw_pool *p, const char *dir,
                             const draw_pool_config *cfg)
{
    draw_state s = {0};
    draw_epoch *e = NULL;
    int rc = draw_store_load(p->store, &s);
    if (rc == MDB_NOTFOUND) {
        s.size = cfg->size ? cfg->size : DRAW_DEFAULT_SIZE;
        s.gen = 1;
        randombytes_buf(s.seed, sizeof s.seed);
    } else if (rc != 0) {
        sb_error("draw", "%s: cannot read the pool: %s", dir,
                 rc == EPROTO ? "made by another shuffle or format"
                              : mdb_strerror(rc));
        return draw_map_store_err(rc);
    } else if (cfg->size != 0 && cfg->size != s.size) {
        sb_warn("draw",
                "%s holds a pool of %u; size %u ignored (reset to change)", dir,
                s.size, cfg->size);
    }
    draw_result r = draw_epoch_new(&s, &e);
    sodium_memzero(s.seed, sizeof s.seed);
    if (r != DRAW_OK)
        return r;
    if ((r = draw_publish(p, e, s.mark)) != DRAW_OK) {
        draw_epoch_free(e);
        return r;
    }
    sb_info("draw", "%s pool %s: size %u, resuming at %u, block %u",
            rc == MDB_NOTFOUND ? "new" : "opened", e->fp, e->size, s.mark,
            p->block_min);
    return DRAW_OK;
}

static int draw_sync_init(draw_pool *p)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&p->kick_cv, &ca) |
             pthread_cond_init(&p->done_cv, &ca) |
             pthread_mutex_init(&p->mu, NULL) |
             pthread_mutex_init(&p->io_mu, NULL);
    pthread_condattr_destroy(&ca);
    return rc;
}

draw_result draw_pool_open(draw_pool **out, const char *dir,
                           const draw_pool_config *cfg)
{
    static const draw_pool_config defaults;
    if (cfg == NULL)
        cfg = &defaults;
    if (out == NULL || dir == NULL || dir[0] == '\0' ||
        cfg->size > DRAW_MAX_SIZE || cfg->block > DRAW_MAX_SIZE ||
        cfg->block_max > DRAW_MAX_SIZE || cfg->max_count > DRAW_MAX_SIZE)
        return DRAW_INVALID;
    if (sodium_init() < 0)
        return DRAW_IO_ERROR; /* no entropy source */
    draw_result r;
    draw_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return DRAW_NOMEM;
    p->block_min = cfg->block ? cfg->block : DRAW_DEFAULT_BLOCK;
    p->block_max_cfg = cfg->block_max;
    atomic_store(&p->block_now, p->block_min);
    p->max_count = cfg->max_count ? cfg->max_count : DRAW_DEFAULT_MAX_COUNT;
    if (draw_sync_init(p) != 0) {
        free(p);
        return DRAW_NOMEM;
    }
    int rc = draw_store_open(&p->store, dir);
    if (rc != 0) {
        sb_error("draw", "%s: cannot open the pool: %s", dir, mdb_strerror(rc));
        r = draw_map_store_err(rc);
        goto fail;
    }
    if ((r = draw_load(p, dir, cfg)) != DRAW_OK)
        goto fail;
    if (pthread_create(&p->reserver, NULL, draw_reserver_main, p) != 0) {
        r = DRAW_NOMEM;
        goto fail;
    }
    p->reserver_started = 1;
    *out = p;
    return DRAW_OK;
fail:
    draw_pool_close(p);
    return r;
}

void draw_pool_close(draw_pool *p)
{
    if (p == NULL)
        return;
    if (p->reserver_started) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->kick_cv);
        pthread_cond_broadcast(&p->done_cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->reserver, NULL);
    }
    draw_epoch *e = atomic_load(&p->epoch);
    if (e != NULL && p->store != NULL) {
        /* No draw can run now, so nothing at or past the cursor was handed
         * out: lowering the mark to it makes a clean restart skip nothing. */
        draw_state s = draw_epoch_state(e, POS(atomic_load(&p->cursor)));
        int rc = draw_store_save(p->store, &s);
        sodium_memzero(s.seed, sizeof s.seed);
        if (rc != 0)
            sb_warn("draw",
                    "saving the cursor at close failed (%s); a restart "
                    "resumes at the mark",
                    mdb_strerror(rc));
    }
    draw_epoch_free(e);
    draw_store_close(p->store);
    pthread_cond_destroy(&p->kick_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->io_mu);
    free(p);
}

const char *draw_result_str(draw_result r)
{
    static const char *const names[] = {
        [DRAW_OK] = "ok",
        [DRAW_EXHAUSTED] = "pool exhausted",
        [DRAW_INVALID] = "invalid argument",
        [DRAW_REFUSED] = "refused: confirmation missing or wrong",
        [DRAW_BUSY] = "pool is open in another process",
        [DRAW_IO_ERROR] = "pool storage failed",
        [DRAW_CORRUPT] = "stored pool is unreadable",
        [DRAW_NOMEM] = "out of memory",
        [DRAW_AGAIN] = "not reserved yet: try again",
    };
    if ((unsigned)r >= sizeof names / sizeof names[0] || names[r] == NULL)
        return "unknown draw result";
    return names[r];
}
