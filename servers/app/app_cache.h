/* app_cache.h: the app server's token cache: token -> session, so a
 * command's token check usually costs no store read. It only ever saves
 * that read: every store operation resolves the token again inside its own
 * transaction, so a stale entry cannot let an ended session act (the store
 * answers NOT_LOGGED_IN). Entries are dropped on the bus's "auth" events
 * (logout, delete), all of them on a gap in those events, and each lives
 * at most ttl_ms anyway. */
#ifndef APP_CACHE_H
#define APP_CACHE_H

#include <stdint.h>

#include "store_db.h"

typedef struct app_cache app_cache;

/** A cache of at most @max entries (0 = 4096; a full cache is emptied
 * rather than walked) living @ttl_ms each (0 = 30000). Returns 0 and sets
 * *@out, or ENOMEM. */
int app_cache_create(unsigned max, int64_t ttl_ms, app_cache **out);

/** Copies the entry of @token into *@out and returns 1, or returns 0. */
int app_cache_get(app_cache *c, const char *token, store_session *out);

/** Remembers @s under s->token (replacing an older entry). */
void app_cache_put(app_cache *c, const store_session *s);

/** Forgets @token (unknown tokens are ignored). */
void app_cache_drop(app_cache *c, const char *token);

/** Forgets everything (a gap in the auth events: resync). */
void app_cache_clear(app_cache *c);

/** Hits, misses and drops so far (tests, logs). */
void app_cache_stats(app_cache *c, uint64_t *hits, uint64_t *misses,
                     uint64_t *drops);

/** Frees the cache. NULL accepted. */
void app_cache_free(app_cache *c);

#endif
