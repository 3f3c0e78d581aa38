/* echo_service.c: see echo_service.h. The request-id cache is a small
 * ring: enough for tests, where retries come within moments. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "echo_service.h"

#define SEEN 4096

struct echo_service {
    pthread_mutex_t mu;
    int64_t value, applied;
    uint8_t ids[SEEN][RPC_REQUEST_ID_LEN];
    int64_t results[SEEN];
    size_t next, used;
};

static int h_echo(rpc_call *call, const Sb__Echo__EchoRequest *req,
                  Sb__Echo__EchoReply *reply, void *arg)
{
    reply->data = req->data; /* the request outlives the reply's packing */
    reply->seq = req->seq;
    return RPC_OK;
}

static int h_add(rpc_call *call, const Sb__Echo__AddRequest *req,
                 Sb__Echo__AddReply *reply, void *arg)
{
    echo_service *e = arg;
    const uint8_t *id = rpc_call_request_id(call);
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < e->used; i++)
        if (memcmp(e->ids[i], id, RPC_REQUEST_ID_LEN) == 0) {
            reply->value = e->results[i];
            pthread_mutex_unlock(&e->mu);
            return RPC_OK;
        }
    e->value += req->delta;
    e->applied++;
    memcpy(e->ids[e->next], id, RPC_REQUEST_ID_LEN);
    e->results[e->next] = e->value;
    e->next = (e->next + 1) % SEEN;
    if (e->used < SEEN)
        e->used++;
    reply->value = e->value;
    pthread_mutex_unlock(&e->mu);
    return RPC_OK;
}

static int h_sleep(rpc_call *call, const Sb__Echo__SleepRequest *req,
                   Sb__Echo__SleepReply *reply, void *arg)
{
    if (req->ms > 60000)
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "sleep of %u ms is over the 60000 ms limit",
                             req->ms);
    usleep((useconds_t)req->ms * 1000);
    int64_t left = rpc_call_time_left_ms(call);
    reply->time_left_ms = left == INT64_MAX ? -1 : left;
    return RPC_OK;
}

int echo_service_register(rpc_server *srv, echo_service **out)
{
    echo_service *e = calloc(1, sizeof *e);
    if (e == NULL)
        return RPC_RESOURCE_EXHAUSTED;
    pthread_mutex_init(&e->mu, NULL);
    static const sb_echo_Echo_handlers h = {
        .Echo = h_echo, .Add = h_add, .Sleep = h_sleep};
    int rv = sb_echo_Echo_register(srv, &h, e);
    /* Echo and Add never block (Add holds a mutex for a moment): they run
     * on nng's thread; Sleep keeps the worker pool */
    if (rv == 0)
        rv = rpc_server_set_nonblocking(srv, sb_echo_Echo_Echo_METHOD, 1);
    if (rv == 0)
        rv = rpc_server_set_nonblocking(srv, sb_echo_Echo_Add_METHOD, 1);
    if (rv != 0) {
        echo_service_free(e);
        return rv;
    }
    *out = e;
    return 0;
}

int64_t echo_service_adds_applied(echo_service *e)
{
    pthread_mutex_lock(&e->mu);
    int64_t n = e->applied;
    pthread_mutex_unlock(&e->mu);
    return n;
}

void echo_service_free(echo_service *e)
{
    if (e == NULL)
        return;
    pthread_mutex_destroy(&e->mu);
    free(e);
}
