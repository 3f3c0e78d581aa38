/* draw_store.h: the draw pool's durable state (seed, size, generation and
 * persisted mark) in its own LMDB environment. Every save is one LMDB
 * transaction committed with fsync, so after a crash the state read back is
 * exactly the last save that returned, or a later one, never a mix. */
#ifndef DRAW_STORE_H
#define DRAW_STORE_H

#include <stdint.h>

#include "draw_perm.h"

typedef struct draw_store draw_store;

/** What the pool persists. The permutation itself is rebuilt from seed. */
typedef struct {
    uint8_t seed[DRAW_SEED_BYTES];
    uint32_t size; /**< N: the pool is a permutation of 1..N */
    uint32_t gen;  /**< bumped by every reset; 1 for the first pool */
    uint32_t mark; /**< positions below it may have been handed out */
} draw_state;

/** Open (creating if needed) the environment in directory dir.
 * The directory is created (mode 0700) if missing. An exclusive flock on
 * dir/draw.lock is held until draw_store_close: two processes drawing from
 * one pool would hand the same numbers out twice.
 * @param[out] out the store, on success.
 * @param[in] dir the pool's directory, used by no other environment.
 * @return 0; EBUSY if another process (or handle) holds the pool; ENOMEM;
 *   an errno from mkdir/open, or an LMDB error code from mdb_env_open. */
int draw_store_open(draw_store **out, const char *dir);

/** Read the saved state.
 * @return 0; MDB_NOTFOUND if nothing was ever saved (a new pool);
 *   EPROTO if the pool was made by another shuffle (DRAW_PERM_SHUFFLE) or
 *   format; EBADMSG if the record is malformed; an LMDB error code. */
int draw_store_load(draw_store *st, draw_state *out);

/** Save the whole state in one transaction, durably (fsync) before it
 * returns.
 * @return 0; an LMDB error code (e.g. EIO, ENOSPC, MDB_MAP_FULL), in which
 *   case the previous saved state is unchanged. */
int draw_store_save(draw_store *st, const draw_state *s);

/** Close the environment and release the lock. NULL is a no-op. */
void draw_store_close(draw_store *st);

#endif
