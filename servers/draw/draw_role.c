/* draw_role.c: the draw role as `sbd draw`, `sbd all` and sb-bench run it:
 * open the pool in <data-dir>/draw (its own LMDB environment), register the
 * service, listen, start; and the reverse on stop, which persists the exact
 * cursor so a clean restart skips nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "draw.sb.h"
#include "draw_service.h"
#include "sb_log.h"

struct draw_role {
    draw_pool *pool;
    rpc_server *srv;
    draw_service *svc;
    int started;
};

static int open_pool(const draw_role_config *cfg, draw_pool **pool)
{
    char dir[4096];
    draw_pool_config pc = {.size = cfg->pool_size,
                           .block = cfg->block,
                           .block_max = cfg->block_max};

    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
        sb_error("draw", "cannot create %s: %s", cfg->data_dir,
                 strerror(errno));
        return RPC_UNAVAILABLE;
    }
    if ((size_t)snprintf(dir, sizeof dir, "%s/draw", cfg->data_dir) >=
        sizeof dir)
        return RPC_INVALID_ARGUMENT;
    draw_result r = draw_pool_open(pool, dir, &pc);
    if (r != DRAW_OK) {
        sb_error("draw", "cannot open the pool in %s: %s", dir,
                 draw_result_str(r));
        return draw_result_code(r);
    }
    return 0;
}

int draw_role_start(const draw_role_config *cfg, draw_role **out)
{
    rpc_server_config sc = {.name = "draw", .workers = 0};
    draw_pool_status ps;
    draw_role *r;
    int rv;

    if (cfg == NULL || out == NULL || cfg->data_dir == NULL ||
        cfg->listen_url == NULL || cfg->pool_size > DRAW_MAX_SIZE)
        return RPC_INVALID_ARGUMENT;
    if ((r = calloc(1, sizeof *r)) == NULL)
        return RPC_RESOURCE_EXHAUSTED;
    sc.workers = cfg->workers;
    /* For nng's rep0 (--draw-engine nng, and any ipc:// or tls+tcp://
     * listener): Draw runs inline and never holds its context (a parked
     * draw takes its own), so a few contexts keep nng's task threads fed;
     * 64 made
     * 75 k draws/s where 8 made 86 k (sb-bench draw, 50 clients, 4
     * alternating pairs; docs/benchmarks.md). */
    sc.contexts = cfg->contexts > 0 ? cfg->contexts : DRAW_DEFAULT_CONTEXTS;
    /* tcp:// on one epoll thread: about half of nng 1.5.2's CPU per call,
     * which the Redis comparison needs (docs/architecture.md) */
    sc.tcp_engine = cfg->nng_tcp ? RPC_TCP_NNG : RPC_TCP_EPOLL;
    if ((rv = open_pool(cfg, &r->pool)) != 0)
        goto fail;
    if ((rv = rpc_server_create(&r->srv, &sc)) != 0 ||
        (rv = draw_service_register(r->srv, r->pool, &r->svc)) != 0)
        goto fail;
    /* Draw and Status never block (a Draw that would wait for a commit
     * is parked, draw_service.c): run them on nng's callback threads,
     * without the hand-off to a worker. Reset commits: a worker's. */
    if ((rv = rpc_server_set_nonblocking(r->srv, sb_draw_Draw_Draw_METHOD,
                                         1)) != 0 ||
        (rv = rpc_server_set_nonblocking(r->srv, sb_draw_Draw_Status_METHOD,
                                         1)) != 0)
        goto fail;
    if ((rv = rpc_server_listen(r->srv, cfg->listen_url)) != 0) {
        sb_error("draw", "cannot listen on %s (nng error %d)", cfg->listen_url,
                 rv);
        rv = RPC_UNAVAILABLE;
        goto fail;
    }
    if ((rv = rpc_server_start(r->srv)) != 0)
        goto fail;
    r->started = 1;
    draw_pool_status_get(r->pool, &ps);
    sb_info("draw",
            "serving on %s: pool %s, size %u, %u drawn, %u left, "
            "block up to %u",
            rpc_server_url(r->srv, 0), ps.fingerprint, ps.size, ps.drawn,
            ps.remaining, ps.block);
    *out = r;
    return 0;
fail:
    draw_role_stop(r);
    return rv;
}

const char *draw_role_url(const draw_role *r)
{
    return rpc_server_url(r->srv, 0);
}

draw_pool *draw_role_pool(draw_role *r)
{
    return r->pool;
}

void draw_role_stop(draw_role *r)
{
    if (r == NULL)
        return;
    if (r->started)
        rpc_server_stop(r->srv); /* no new calls; waits for those running */
    draw_service_free(r->svc);   /* finishes parked draws */
    rpc_server_destroy(r->srv);  /* no call is running after this */
    if (r->pool != NULL) {
        draw_pool_status ps;
        draw_pool_status_get(r->pool, &ps);
        sb_info("draw", "stopping: pool %s, %u drawn, %u left", ps.fingerprint,
                ps.drawn, ps.remaining);
    }
    draw_pool_close(r->pool);
    free(r);
}
