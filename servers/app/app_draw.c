/* app_draw.c: the App service's Draw (script mode's `draw <user> <count>`):
 * token first, then the count, then one call to the draw service
 * (sb.draw.Draw, `sbd draw` or the draw role of `sbd all`). The call is
 * asynchronous and the App call is parked with RPC_DEFER, so an app worker
 * never waits on the draw server: the reply is finished from the draw
 * client's completion callback. The draw server's answers become plain
 * course-style texts ("No numbers left", "Only 3 numbers left"). */
#include <stdio.h>
#include <string.h>

#include "app_internal.h"
#include "draw.sb.h"
#include "sb_log.h"

/* The longest the app waits for the draw server: under the RPC server's
 * stop grace (5 s), so a graceful stop always sees every draw answered. */
#define APP_DRAW_MAX_WAIT_MS 3000

int app_draw_start(app_server *a, const char *draw_url, uint32_t max_count)
{
    rpc_client_config cc = {.timeout_ms = APP_DRAW_MAX_WAIT_MS};
    int rv;

    a->draw_max = max_count != 0 ? max_count : APP_DRAW_DEFAULT_MAX;
    if (draw_url == NULL || draw_url[0] == '\0')
        return 0; /* Draw answers "not available" */
    if ((rv = rpc_client_open(&a->draw, draw_url, &cc)) != 0) {
        sb_error("app", "%s: cannot open a draw client for %s: %s", a->id,
                 draw_url, rpc_code_name(rv));
        return rv;
    }
    sb_info("app", "%s: draws go to %s", a->id, draw_url);
    return 0;
}

void app_draw_stop(app_server *a)
{
    /* Completes every draw still in flight (CANCELLED), which finishes
     * its App call; the RPC server must still exist. */
    rpc_client_close(a->draw);
    a->draw = NULL;
}

/* The draw server's failure as the user reads it. */
static int draw_failed(rpc_call *call, const rpc_status *st)
{
    switch (st->code) {
    case RPC_RESOURCE_EXHAUSTED: /* "No numbers left", "Only K numbers left" */
    case RPC_INVALID_ARGUMENT:   /* the draw server's maximum is lower */
        return rpc_call_fail(call, st->code, "%s", st->message);
    default:
        break;
    }
    sb_warn("app", "draw failed: %s: %s", rpc_code_name(st->code), st->message);
    /* Not UNAVAILABLE: that would make clients re-send the call (a draw
     * is not idempotent) and libsb look for another app server. */
    return rpc_call_fail(call, RPC_ABORTED, "Draw service is not available");
}

/* The draw client's completion, on an nng thread: copy the numbers into
 * the App reply (the call's arena) and send it. Never blocks. */
static void draw_done(void *arg, const rpc_status *st, Sb__Draw__DrawReply *rep)
{
    rpc_call *call = arg;
    Sb__Social__DrawReply *out = (Sb__Social__DrawReply *)rpc_call_reply(call);
    int code = RPC_OK;

    if (st->code != RPC_OK) {
        code = draw_failed(call, st);
    } else if (rep->n_numbers > 0) {
        out->numbers =
            rpc_call_alloc(call, rep->n_numbers * sizeof *out->numbers);
        memcpy(out->numbers, rep->numbers,
               rep->n_numbers * sizeof *out->numbers);
        out->n_numbers = rep->n_numbers;
    }
    sb_draw_Draw_free(rep);
    rpc_call_finish(call, code);
}

int app_h_draw(rpc_call *call, const Sb__Social__DrawRequest *req,
               Sb__Social__DrawReply *reply, void *arg)
{
    app_server *a = arg;
    Sb__Draw__DrawRequest dr = SB__DRAW__DRAW_REQUEST__INIT;
    rpc_opts o = {0};
    store_session sess;
    int64_t left;
    int rc;

    (void)reply; /* filled by draw_done */
    /* fresh: the draw service never sees the token, so a cached one
     * could let a logged-out session draw */
    if ((rc = app_begin_fresh(a, call, &sess)) != RPC_OK)
        return rc;
    if (req->count == 0 || req->count > a->draw_max)
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "Count must be between 1 and %u", a->draw_max);
    if (a->draw == NULL)
        return rpc_call_fail(call, RPC_ABORTED,
                             "Draw service is not available");
    /* Within the caller's budget, less a little for the way back. */
    left = rpc_call_time_left_ms(call) - 20;
    o.timeout_ms = left < 1                      ? 1
                   : left > APP_DRAW_MAX_WAIT_MS ? APP_DRAW_MAX_WAIT_MS
                                                 : (int)left;
    dr.count = req->count;
    if (sb_draw_Draw_Draw_async(a->draw, &dr, draw_done, call, &o) != 0) {
        sb_warn("app", "%s: cannot start a draw call", a->id);
        return rpc_call_fail(call, RPC_ABORTED,
                             "Draw service is not available");
    }
    return RPC_DEFER; /* draw_done finishes the call, maybe already did */
}
