/* draw_pool.h: the loot-box pool. A durable permutation of 1..N and a
 * cursor; draw_pool_draw hands out the next k entries, all or nothing, and
 * no number is ever handed out twice, concurrently or across crashes and
 * restarts (the argument is at the top of draw_pool.c). The `sbd draw`
 * service is a thin RPC wrapper over these calls; the result codes map
 * one-to-one onto RPC status codes (see each code). */
#ifndef DRAW_POOL_H
#define DRAW_POOL_H

#include <stdint.h>

#include "draw_perm.h"

typedef struct draw_pool draw_pool;

/** Result of every draw_pool call. */
typedef enum {
    DRAW_OK = 0,
    DRAW_EXHAUSTED, /**< fewer numbers left than asked (RESOURCE_EXHAUSTED) */
    DRAW_INVALID,   /**< bad argument or configuration (INVALID_ARGUMENT) */
    DRAW_REFUSED,   /**< reset without the right confirmation
                         (FAILED_PRECONDITION) */
    DRAW_BUSY,      /**< the pool directory is open elsewhere (UNAVAILABLE) */
    DRAW_IO_ERROR, /**< the disk failed; nothing was handed out (UNAVAILABLE) */
    DRAW_CORRUPT,  /**< stored state unreadable or of another format
                        (INTERNAL / DATA_LOSS) */
    DRAW_NOMEM,    /**< out of memory (RESOURCE_EXHAUSTED) */
    DRAW_AGAIN,    /**< draw_pool_draw_nowait only: the durable mark does
                        not cover the request yet; nothing was taken */
} draw_result;

#define DRAW_DEFAULT_SIZE 100000u
#define DRAW_DEFAULT_BLOCK 1024u
#define DRAW_DEFAULT_BLOCK_MAX 65536u
#define DRAW_DEFAULT_MAX_COUNT 10000u
/** Largest pool: its permutation takes 4 bytes a number in memory. */
#define DRAW_MAX_SIZE 100000000u

/** Options for draw_pool_open. Zero-initialise; a zero field means its
 * default. */
typedef struct {
    /** N for a new pool (default DRAW_DEFAULT_SIZE, at most DRAW_MAX_SIZE).
     * An existing pool keeps its stored size; a different non-zero value is
     * logged and ignored (draw_pool_reset changes the size). */
    uint32_t size;
    /** Smallest reservation unit, and the one a pool starts with (default
     * DRAW_DEFAULT_BLOCK). The persisted mark is moved to two blocks past the
     * cursor whenever less than 1.5 blocks remain. The block adapts: each
     * reservation sizes it to the draws expected during four commit times
     * (measured rate x measured fsync latency), between block and block_max,
     * so the reserver stays off the draws' critical path however fast they
     * come and however slow the disk is. */
    uint32_t block;
    /** Largest reservation unit: a crash skips at most 2 * block_max numbers
     * (or one larger pending request). Default: DRAW_DEFAULT_BLOCK_MAX, but
     * no more than size / 16 (a crash never costs more than 1/8 of a pool),
     * and never below block. Equal to block = a fixed block. */
    uint32_t block_max;
    /** Largest count one draw may ask for (default DRAW_DEFAULT_MAX_COUNT). */
    uint32_t max_count;
} draw_pool_config;

/** A consistent-enough snapshot (each field is read atomically). */
typedef struct {
    uint32_t size;           /**< N */
    uint32_t drawn;          /**< the cursor: numbers handed out or skipped */
    uint32_t remaining;      /**< size - drawn */
    uint32_t block;          /**< largest reservation unit (block_max): a crash
                                  skips at most 2 * block numbers */
    uint32_t block_now;      /**< reservation unit in force (adaptive) */
    uint32_t max_count;      /**< per-call maximum in force */
    uint32_t persisted_mark; /**< durable high-water mark, >= drawn */
    uint32_t generation;     /**< 1 for the first pool, +1 per reset */
    uint64_t reserves;       /**< mark commits (fsyncs) since open */
    uint64_t waits;          /**< draw attempts that found the durable mark
                                  behind them (waited, or got DRAW_AGAIN) */
    /** first 8 bytes of BLAKE2b-256(seed), hex; the reset confirmation */
    char fingerprint[DRAW_FINGERPRINT_CHARS + 1];
} draw_pool_status;

/** Open the pool stored in dir, creating it (new seed from getrandom via
 * libsodium, cursor 0) if dir holds none. Builds the permutation in memory
 * (4 * N bytes), durably reserves the first positions, and starts the
 * background reserver thread. A pool reopened after a crash resumes at its
 * persisted mark; after a clean close, at the exact cursor.
 * @param[out] out the pool, on DRAW_OK.
 * @param[in] dir the pool's own directory (created if missing); it must not
 *   hold any other LMDB environment.
 * @param[in] cfg options, or NULL for all defaults.
 * @return DRAW_OK; DRAW_INVALID if cfg->size, cfg->block, cfg->block_max or
 *   cfg->max_count is above DRAW_MAX_SIZE, or dir is NULL or empty; DRAW_BUSY
 * if another handle or process has dir open; DRAW_CORRUPT if dir holds an
 *   unreadable pool or one made by another shuffle; DRAW_IO_ERROR if dir
 *   cannot be created, opened or written; DRAW_NOMEM. */
draw_result draw_pool_open(draw_pool **out, const char *dir,
                           const draw_pool_config *cfg);

/** Hand out the next count numbers of the pool, all or none. Lock-free on
 * the common path (one compare-and-swap on the cursor, no disk); it waits
 * only if the reserver has fallen behind, i.e. the durable mark does not yet
 * cover the request. Safe to call from any number of threads.
 * @param[in] pool the pool.
 * @param[in] count how many, 1 <= count <= max_count.
 * @param[out] out_numbers room for count numbers; filled on DRAW_OK only.
 * @param[out] left if not NULL: numbers left after this draw on DRAW_OK,
 *   numbers left (fewer than count) on DRAW_EXHAUSTED.
 * @return DRAW_OK; DRAW_EXHAUSTED if fewer than count are left (nothing
 *   is taken, so a smaller draw may still succeed); DRAW_INVALID if count
 *   is 0 or above max_count, or out_numbers is NULL; DRAW_IO_ERROR if the
 *   numbers were not reserved because the last commit failed (nothing is
 *   taken; a later call may succeed). */
draw_result draw_pool_draw(draw_pool *pool, uint32_t count,
                           uint32_t *out_numbers, uint32_t *left);

/** draw_pool_draw that never waits, for callers that must not block (an
 * RPC handler on nng's callback thread): where draw_pool_draw would wait
 * for the reserver, this asks the reserver for the numbers and returns
 * DRAW_AGAIN with nothing taken; the caller retries later, e.g. with
 * draw_pool_draw on a thread that may block. Same arguments and other
 * results as draw_pool_draw. */
draw_result draw_pool_draw_nowait(draw_pool *pool, uint32_t count,
                                  uint32_t *out_numbers, uint32_t *left);

/** Fill st with the pool's state. Safe to call concurrently with draws.
 * @return DRAW_OK; DRAW_INVALID if an argument is NULL. */
draw_result draw_pool_status_get(draw_pool *pool, draw_pool_status *st);

/** Replace the pool with a new one: new seed, cursor 0, and new_size if it
 * is not 0 (else the current size). The new pool is durable before this
 * returns; draws that started before it finish on the old pool, later ones
 * use the new one. The previous permutation stays in memory (4 * N bytes)
 * until draw_pool_close, since a draw begun before the reset may still be
 * copying from it; resets are rare operator actions.
 * @param[in] confirm must equal the current seed fingerprint
 *   (draw_pool_status.fingerprint), proving the caller looked at the pool
 *   it is about to throw away.
 * @param[in] new_size 0 to keep the size, else 1..DRAW_MAX_SIZE.
 * @return DRAW_OK; DRAW_REFUSED if confirm is NULL or does not match (the
 *   pool is untouched); DRAW_INVALID if new_size is out of range;
 *   DRAW_IO_ERROR if the new state could not be committed (the old pool
 *   stays in force); DRAW_NOMEM. */
draw_result draw_pool_reset(draw_pool *pool, const char *confirm,
                            uint32_t new_size);

/** Stop the reserver, persist the exact cursor (so a restart skips
 * nothing), and free everything. No other call on pool may be running or
 * start. NULL is a no-op. */
void draw_pool_close(draw_pool *pool);

/** A short English description of r ("pool exhausted", ...). */
const char *draw_result_str(draw_result r);

#endif
