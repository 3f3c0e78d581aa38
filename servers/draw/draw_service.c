/* draw_service.c: the sb.draw.Draw handlers. Every decision about which
 * numbers go out is the pool's (draw_pool.c); this file checks arguments,
 * turns pool results into RPC status codes with readable messages, and logs
 * the rare events (reset, first exhaustion of a pool). The Draw handler
 * never blocks: when the pool would wait for its reserver (rare: the block
 * adapts to the rate), the call is parked (RPC_DEFER) and one service
 * thread finishes it, so Draw may run on nng's callback threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "draw.sb.h"
#include "draw_service.h"
#include "sb_log.h"

/* A Draw that must wait for the reserver; lives in its call's arena. */
typedef struct draw_parked {
    rpc_call *call;
    Sb__Draw__DrawReply *reply;
    uint32_t count, *nums;
    struct draw_parked *next;
} draw_parked;

struct draw_service {
    draw_pool *pool;
    uint32_t max_count; /* fixed at open */
    /* generation whose exhaustion was logged, so a drained pool under
     * load logs once instead of once per refused call */
    atomic_uint logged_exhausted_gen;
    /* parked draws, finished in order by the waiter thread */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    draw_parked *head, *tail;
    int stop, have_waiter;
    pthread_t waiter;
};

int draw_result_code(draw_result r)
{
    switch (r) {
    case DRAW_OK:
        return RPC_OK;
    case DRAW_EXHAUSTED:
        return RPC_RESOURCE_EXHAUSTED;
    case DRAW_INVALID:
        return RPC_INVALID_ARGUMENT;
    case DRAW_REFUSED:
        return RPC_FAILED_PRECONDITION;
    case DRAW_BUSY:
        return RPC_UNAVAILABLE;
    case DRAW_IO_ERROR:
        return RPC_UNAVAILABLE;
    case DRAW_CORRUPT:
        return RPC_DATA_LOSS;
    case DRAW_NOMEM:
        return RPC_RESOURCE_EXHAUSTED;
    case DRAW_AGAIN:
        return RPC_UNAVAILABLE;
    }
    return RPC_INTERNAL;
}

static void log_exhausted(draw_service *svc, uint32_t left, uint32_t asked)
{
    draw_pool_status st;
    if (draw_pool_status_get(svc->pool, &st) != DRAW_OK)
        return;
    unsigned prev = atomic_exchange(&svc->logged_exhausted_gen, st.generation);
    if (prev != st.generation)
        sb_info("draw",
                "pool %s exhausted: %u left, a draw of %u refused "
                "(size %u)",
                st.fingerprint, left, asked, st.size);
}

/* A pool result as the call's reply or failure; returns the code. */
static int draw_answer(draw_service *svc, rpc_call *call,
                       Sb__Draw__DrawReply *reply, draw_result r,
                       uint32_t count, uint32_t *nums, uint32_t left)
{
    if (r == DRAW_EXHAUSTED) {
        log_exhausted(svc, left, count);
        /* the words script mode's draw shows too (app_draw.c passes
         * them on): one wording for one error in every client */
        if (left == 0)
            return rpc_call_fail(call, RPC_RESOURCE_EXHAUSTED,
                                 "No numbers left");
        return rpc_call_fail(call, RPC_RESOURCE_EXHAUSTED,
                             "Only %u number%s left", left,
                             left == 1 ? "" : "s");
    }
    if (r != DRAW_OK)
        return rpc_call_fail(call, draw_result_code(r), "draw of %u: %s", count,
                             draw_result_str(r));
    reply->numbers = nums;
    reply->n_numbers = count;
    reply->remaining = left;
    return RPC_OK;
}

static void *waiter_main(void *arg)
{
    draw_service *svc = arg;
    uint32_t left = 0;

    pthread_mutex_lock(&svc->mu);
    for (;;) {
        draw_parked *pk = svc->head;
        if (pk == NULL) {
            if (svc->stop)
                break;
            pthread_cond_wait(&svc->cv, &svc->mu);
            continue;
        }
        if ((svc->head = pk->next) == NULL)
            svc->tail = NULL;
        pthread_mutex_unlock(&svc->mu);
        /* may wait for one commit; nothing else waits on this thread */
        draw_result r = draw_pool_draw(svc->pool, pk->count, pk->nums, &left);
        rpc_call_finish(pk->call, draw_answer(svc, pk->call, pk->reply, r,
                                              pk->count, pk->nums, left));
        pthread_mutex_lock(&svc->mu);
    }
    pthread_mutex_unlock(&svc->mu);
    return NULL;
}

/* Hands a draw that would wait to the waiter thread. */
static int park(draw_service *svc, rpc_call *call, Sb__Draw__DrawReply *reply,
                uint32_t count, uint32_t *nums)
{
    draw_parked *pk = rpc_call_alloc(call, sizeof *pk);

    *pk = (draw_parked){
        .call = call, .reply = reply, .count = count, .nums = nums};
    pthread_mutex_lock(&svc->mu);
    if (svc->stop) {
        pthread_mutex_unlock(&svc->mu);
        return rpc_call_fail(call, RPC_UNAVAILABLE, "draw service stopping");
    }
    if (svc->tail != NULL)
        svc->tail->next = pk;
    else
        svc->head = pk;
    svc->tail = pk;
    pthread_cond_signal(&svc->cv);
    pthread_mutex_unlock(&svc->mu);
    return RPC_DEFER;
}

static int h_draw(rpc_call *call, const Sb__Draw__DrawRequest *req,
                  Sb__Draw__DrawReply *reply, void *arg)
{
    draw_service *svc = arg;
    uint32_t left = 0;

    if (req->count == 0 || req->count > svc->max_count)
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "Count must be between 1 and %u", svc->max_count);
    uint32_t *nums = rpc_call_alloc(call, (size_t)req->count * sizeof *nums);
    draw_result r = draw_pool_draw_nowait(svc->pool, req->count, nums, &left);
    if (r == DRAW_AGAIN)
        return park(svc, call, reply, req->count, nums);
    return draw_answer(svc, call, reply, r, req->count, nums, left);
}

static int h_status(rpc_call *call, const Sb__Draw__StatusRequest *req,
                    Sb__Draw__StatusReply *reply, void *arg)
{
    draw_service *svc = arg;
    draw_pool_status ps;
    draw_result r = draw_pool_status_get(svc->pool, &ps);

    (void)req;
    if (r != DRAW_OK)
        return rpc_call_fail(call, draw_result_code(r), "status: %s",
                             draw_result_str(r));
    reply->size = ps.size;
    reply->drawn = ps.drawn;
    reply->remaining = ps.remaining;
    reply->fingerprint = rpc_call_strdup(call, ps.fingerprint);
    reply->block = ps.block;
    reply->block_now = ps.block_now;
    reply->max_count = ps.max_count;
    reply->generation = ps.generation;
    return RPC_OK;
}

static int h_reset(rpc_call *call, const Sb__Draw__ResetRequest *req,
                   Sb__Draw__ResetReply *reply, void *arg)
{
    draw_service *svc = arg;
    draw_pool_status before, after;

    draw_pool_status_get(svc->pool, &before);
    if (req->confirm == NULL || req->confirm[0] == '\0')
        return rpc_call_fail(call, RPC_FAILED_PRECONDITION,
                             "reset refused: set confirm to the current seed "
                             "fingerprint (see Status)");
    if (req->new_size > DRAW_MAX_SIZE)
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "new_size must be 0 (keep) or 1..%u, got %u",
                             DRAW_MAX_SIZE, req->new_size);
    draw_result r = draw_pool_reset(svc->pool, req->confirm, req->new_size);
    if (r == DRAW_REFUSED)
        return rpc_call_fail(call, RPC_FAILED_PRECONDITION,
                             "reset refused: confirm does not match the "
                             "current seed fingerprint (see Status)");
    if (r != DRAW_OK)
        return rpc_call_fail(call, draw_result_code(r), "reset: %s",
                             draw_result_str(r));
    draw_pool_status_get(svc->pool, &after);
    sb_info("draw", "pool reset: %s (size %u, %u drawn) -> %s (size %u)",
            before.fingerprint, before.size, before.drawn, after.fingerprint,
            after.size);
    reply->size = after.size;
    reply->fingerprint = rpc_call_strdup(call, after.fingerprint);
    return RPC_OK;
}

int draw_service_register(rpc_server *srv, draw_pool *pool, draw_service **out)
{
    static const sb_draw_Draw_handlers h = {
        .Draw = h_draw, .Status = h_status, .Reset = h_reset};
    draw_service *svc;
    draw_pool_status ps;
    int rv;

    if (srv == NULL || pool == NULL || out == NULL)
        return RPC_INVALID_ARGUMENT;
    if ((svc = calloc(1, sizeof *svc)) == NULL)
        return RPC_RESOURCE_EXHAUSTED;
    svc->pool = pool;
    draw_pool_status_get(pool, &ps);
    svc->max_count = ps.max_count;
    pthread_mutex_init(&svc->mu, NULL);
    pthread_cond_init(&svc->cv, NULL);
    if (pthread_create(&svc->waiter, NULL, waiter_main, svc) != 0) {
        rv = RPC_RESOURCE_EXHAUSTED;
        goto fail;
    }
    svc->have_waiter = 1;
    if ((rv = sb_draw_Draw_register(srv, &h, svc)) != 0)
        goto fail;
    *out = svc;
    return 0;
fail:
    draw_service_free(svc);
    return rv;
}

void draw_service_free(draw_service *svc)
{
    if (svc == NULL)
        return;
    if (svc->have_waiter) { /* finishes every parked draw first */
        pthread_mutex_lock(&svc->mu);
        svc->stop = 1;
        pthread_cond_broadcast(&svc->cv);
        pthread_mutex_unlock(&svc->mu);
        pthread_join(svc->waiter, NULL);
    }
    pthread_cond_destroy(&svc->cv);
    pthread_mutex_destroy(&svc->mu);
    free(svc);
}
