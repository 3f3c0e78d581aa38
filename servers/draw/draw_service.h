/* draw_service.h: the sb.draw.Draw RPC service (proto/draw.proto), a thin
 * wrapper over the pool library (draw_pool.h), and the draw role: a pool in
 * <data-dir>/draw served on one listener. `sbd draw`, `sbd all` and
 * `sb-bench draw` (its in-process server) all start it through
 * draw_role_start. */
#ifndef DRAW_SERVICE_H
#define DRAW_SERVICE_H

#include <stdint.h>

#include "draw_pool.h"
#include "rpc.h"

typedef struct draw_service draw_service;

/** Register Draw, Status and Reset on srv, answering from pool.
 * Draw(count) is all or nothing: count 0 or above the pool's max_count is
 * INVALID_ARGUMENT "Count must be between 1 and MAX", fewer left than
 * asked is RESOURCE_EXHAUSTED "No numbers left" or "Only K numbers left"
 * (the words every client shows); Reset needs confirm == the seed fingerprint
 * (FAILED_PRECONDITION otherwise). The pool must outlive the server.
 * @param[in] srv a server not yet started.
 * @param[in] pool an open pool.
 * @param[out] out the service, freed by draw_service_free after the server
 *   is destroyed.
 * @return 0; RPC_INVALID_ARGUMENT if an argument is NULL;
 *   RPC_RESOURCE_EXHAUSTED when out of memory; an nng error code if a
 *   method cannot be registered. */
int draw_service_register(rpc_server *srv, draw_pool *pool, draw_service **out);

/** Finish every parked draw, then free the service (NULL is a no-op).
 * Stop the server first (rpc_server_stop: no new calls), destroy it
 * after: a parked draw's reply goes out through it. */
void draw_service_free(draw_service *svc);

/** Map a pool result onto an RPC status code. */
int draw_result_code(draw_result r);

typedef struct draw_role draw_role;

/** Settings for draw_role_start. */
typedef struct draw_role_config {
    const char *data_dir;   /**< the pool lives in data_dir/draw */
    const char *listen_url; /**< e.g. tcp://0.0.0.0:8889; port 0 = any */
    uint32_t pool_size;     /**< N for a new pool; 0 = DRAW_DEFAULT_SIZE */
    uint32_t block; /**< smallest reservation unit; 0 = DRAW_DEFAULT_BLOCK */
    uint32_t block_max; /**< largest (crash skip <= 2 x); 0 = default */
    int workers;        /**< RPC handler threads; 0 = the default */
    int contexts; /**< nng contexts receiving; 0 = DRAW_DEFAULT_CONTEXTS */
    int nng_tcp;  /**< 1: nng serves tcp:// too; 0 = the epoll
                       engine (RPC_TCP_EPOLL, the default) */
} draw_role_config;

/** nng contexts a draw server receives on (see draw_role.c for why few). */
#define DRAW_DEFAULT_CONTEXTS 8

/** Open (or create) the pool and serve it on cfg->listen_url.
 * @param[in] cfg settings; data_dir and listen_url are required.
 * @param[out] out the running role, on 0.
 * @return 0; RPC_INVALID_ARGUMENT for a bad setting; RPC_UNAVAILABLE if
 *   the pool is open in another process or cannot be written, or the URL
 *   cannot be bound; RPC_DATA_LOSS if the stored pool is unreadable;
 *   RPC_RESOURCE_EXHAUSTED when out of memory. The reason is logged. */
int draw_role_start(const draw_role_config *cfg, draw_role **out);

/** The bound URL (with the real port when 0 was asked). */
const char *draw_role_url(const draw_role *r);

/** The pool behind the role (for in-process checks). */
draw_pool *draw_role_pool(draw_role *r);

/** Stop serving, close the pool cleanly (exact cursor kept), free r.
 * NULL is a no-op. */
void draw_role_stop(draw_role *r);

#endif
