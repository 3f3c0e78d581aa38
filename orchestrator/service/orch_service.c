/* orch_service.c: the Orchestrator RPC handlers. Assign first asks the
 * fleet without waiting; when the fleet answers FLEET_WAIT (a server is
 * launching) the call is parked (RPC_DEFER) with its deadline, and one
 * retry thread re-asks for every parked call whenever the fleet changes
 * (a server registered, a launch failed) or every 100 ms, finishing each
 * call with its answer or, at its deadline, UNAVAILABLE with the reason.
 * So a cold fleet of 100 launches holds no worker thread. */
#include "orch_service.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet.pb-c.h"
#include "fleet.sb.h"
#include "sb_log.h"

enum {
    M_REGISTER,
    M_HEARTBEAT,
    M_DEREGISTER,
    M_ASSIGN,
    M_RELEASE,
    M_LOOKUP,
    M_COUNT
};
static const char *const method_names[M_COUNT] = {
    "Register", "Heartbeat", "Deregister", "Assign", "Release", "Lookup"};

typedef struct parked {
    rpc_call *call;
    char *user;
    int64_t deadline; /* monotonic ms */
    uint32_t wait_ms;
} parked;

struct orch_service {
    struct fleet *f;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    parked *v;
    size_t n, cap;
    int stopping, kicked, thread_on;
    pthread_t thread;
    atomic_ullong calls[M_COUNT], errors[M_COUNT];
};

static int count(orch_service *s, int m, int rc)
{
    atomic_fetch_add_explicit(&s->calls[m], 1, memory_order_relaxed);
    if (rc != RPC_OK && rc != RPC_DEFER)
        atomic_fetch_add_explicit(&s->errors[m], 1, memory_order_relaxed);
    return rc;
}

static int fail(rpc_call *call, const rpc_status *st)
{
    return rpc_call_fail(call, st->code, "%s", st->message);
}

static int h_register(rpc_call *call, const Sb__Fleet__RegisterRequest *req,
                      Sb__Fleet__RegisterReply *reply, void *arg)
{
    orch_service *s = arg;
    rpc_status st = {0};
    int rc = fleet_register(s->f, req->server_id, req->endpoint, req->capacity,
                            req->instance_id, &st);

    if (rc != RPC_OK)
        return count(s, M_REGISTER, fail(call, &st));
    reply->heartbeat_ms = 1000;
    return count(s, M_REGISTER, RPC_OK);
}

static int h_heartbeat(rpc_call *call, const Sb__Fleet__HeartbeatRequest *req,
                       Sb__Fleet__HeartbeatReply *reply, void *arg)
{
    orch_service *s = arg;
    rpc_status st = {0};
    fleet_state state;
    int rc;

    if (req->server_id[0] == '\0')
        return count(
            s, M_HEARTBEAT,
            rpc_call_fail(call, RPC_INVALID_ARGUMENT, "server_id missing"));
    rc = fleet_heartbeat(s->f, req->server_id, req->users, &st);
    if (rc == RPC_NOT_FOUND) {
        /* Not an error for the server: it just has to say who it is. */
        reply->action = SB__FLEET__HEARTBEAT_REPLY__ACTION__REREGISTER;
        return count(s, M_HEARTBEAT, RPC_OK);
    }
    if (rc != RPC_OK)
        return count(s, M_HEARTBEAT, fail(call, &st));
    if (fleet_server_state(s->f, req->server_id, &state) == RPC_OK &&
        state == FLEET_DRAINING)
        reply->action = SB__FLEET__HEARTBEAT_REPLY__ACTION__DRAIN;
    return count(s, M_HEARTBEAT, RPC_OK);
}

static int h_deregister(rpc_call *call, const Sb__Fleet__DeregisterRequest *req,
                        Sb__Fleet__DeregisterReply *reply, void *arg)
{
    orch_service *s = arg;
    rpc_status st = {0};

    (void)reply;
    if (fleet_deregister(s->f, req->server_id, &st) != RPC_OK)
        return count(s, M_DEREGISTER, fail(call, &st));
    return count(s, M_DEREGISTER, RPC_OK);
}

static void fill_assign(rpc_call *call, Sb__Fleet__AssignReply *r,
                        const fleet_assignment *a)
{
    r->server_id = rpc_call_strdup(call, a->server_id);
    r->endpoint = rpc_call_strdup(call, a->endpoint);
    r->reassigned = a->reassigned != 0;
}

static int64_t mono_ms(void)
{
    return rpc_now_mono_ms();
}

/* Parks a call; RPC_DEFER, or UNAVAILABLE when stopping / out of memory. */
static int park(orch_service *s, rpc_call *call, const char *user,
                uint32_t wait_ms)
{
    int64_t left = rpc_call_time_left_ms(call), now = mono_ms();
    int64_t deadline = now + wait_ms;
    int rc = RPC_DEFER;

    /* Answer a little before the caller gives up, so it reads why. */
    if (left != INT64_MAX && now + left - 100 < deadline)
        deadline = now + (left > 200 ? left - 100 : left / 2);
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        rc = rpc_call_fail(call, RPC_UNAVAILABLE, "orchestrator stopping");
    } else if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        parked *v = realloc(s->v, cap * sizeof(*v));

        if (v == NULL)
            rc = rpc_call_fail(call, RPC_UNAVAILABLE, "out of memory");
        else
            s->v = v, s->cap = cap;
    }
    if (rc == RPC_DEFER) {
        char *u = strdup(user);

        if (u == NULL) {
            rc = rpc_call_fail(call, RPC_UNAVAILABLE, "out of memory");
        } else {
            s->v[s->n++] = (parked){call, u, deadline, wait_ms};
            s->kicked = 1;
            pthread_cond_signal(&s->cv);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int h_assign(rpc_call *call, const Sb__Fleet__AssignRequest *req,
                    Sb__Fleet__AssignReply *reply, void *arg)
{
    orch_service *s = arg;
    fleet_assignment a;
    rpc_status st = {0};
    uint32_t wait_ms = req->wait_ms ? req->wait_ms : 15000;
    int rc;

    if (req->wait_ms > 120000)
        return count(
            s, M_ASSIGN,
            rpc_call_fail(call, RPC_INVALID_ARGUMENT, "wait_ms over 120000"));
    rc = fleet_assign(s->f, req->user, &a, &st);
    if (rc == RPC_OK) {
        fill_assign(call, reply, &a);
        return count(s, M_ASSIGN, RPC_OK);
    }
    if (rc != FLEET_WAIT)
        return count(s, M_ASSIGN, fail(call, &st));
    return count(s, M_ASSIGN, park(s, call, req->user, wait_ms));
}

/* Re-asks the fleet for one parked call. 1 = finished (drop it). */
static int retry_one(orch_service *s, parked *p, int64_t now)
{
    fleet_assignment a;
    rpc_status st = {0};
    int rc;

    /* Past its bound: answer without asking the fleet again, which could
     * plan one more launch for a caller that is gone. */
    rc = now < p->deadline ? fleet_assign(s->f, p->user, &a, &st) : FLEET_WAIT;

    if (rc == FLEET_WAIT && now < p->deadline)
        return 0;
    if (rc == RPC_OK) {
        fill_assign(p->call, (Sb__Fleet__AssignReply *)rpc_call_reply(p->call),
                    &a);
    } else if (rc == FLEET_WAIT) {
        rc = rpc_call_fail(p->call, RPC_UNAVAILABLE,
                           "no app server became available within %u ms (a "
                           "server is launching but has not registered yet);"
                           " try again",
                           p->wait_ms);
        atomic_fetch_add_explicit(&s->errors[M_ASSIGN], 1,
                                  memory_order_relaxed);
    } else {
        rc = fail(p->call, &st);
        atomic_fetch_add_explicit(&s->errors[M_ASSIGN], 1,
                                  memory_order_relaxed);
    }
    rpc_call_finish(p->call, rc);
    return 1;
}

/* Takes the parked list out, retries each without the lock, and puts
 * those still waiting back in front of any parked meanwhile. */
static void retry_all(orch_service *s)
{
    parked *v;
    size_t n, keep = 0;
    int64_t now = mono_ms();

    pthread_mutex_lock(&s->mu);
    v = s->v, n = s->n;
    s->v = NULL, s->n = s->cap = 0;
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        if (retry_one(s, &v[i], now))
            free(v[i].user);
        else
            v[keep++] = v[i];
    }
    pthread_mutex_lock(&s->mu);
    if (s->n > 0) {
        /* v has room for n >= keep entries; grow it for the newcomers. */
        parked *m = realloc(v, (keep + s->n) * sizeof(*m));

        if (m == NULL) {
            /* Keep the newcomers' list; answer ours rather than lose them. */
            for (size_t i = 0; i < keep; i++) {
                rpc_call_finish(
                    v[i].call,
                    rpc_call_fail(v[i].call, RPC_UNAVAILABLE, "out of memory"));
                free(v[i].user);
            }
            free(v);
            pthread_mutex_unlock(&s->mu);
            return;
        }
        memcpy(m + keep, s->v, s->n * sizeof(*m));
        keep += s->n;
        free(s->v);
        v = m;
    }
    s->v = v, s->n = keep, s->cap = keep > n ? keep : n;
    if (s->v != NULL && s->cap == 0) {
        free(s->v);
        s->v = NULL;
    }
    pthread_mutex_unlock(&s->mu);
}

static void *retry_main(void *arg)
{
    orch_service *s = arg;

    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        if (s->n == 0 || !s->kicked) {
            struct timespec ts;

            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100 * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        s->kicked = 0;
        if (s->stopping || s->n == 0)
            continue;
        pthread_mutex_unlock(&s->mu);
        retry_all(s);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void on_change(void *arg)
{
    orch_service *s = arg;

    pthread_mutex_lock(&s->mu);
    s->kicked = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static int h_release(rpc_call *call, const Sb__Fleet__ReleaseRequest *req,
                     Sb__Fleet__ReleaseReply *reply, void *arg)
{
    orch_service *s = arg;
    rpc_status st = {0};

    (void)reply;
    if (fleet_release(s->f, req->user, &st) != RPC_OK)
        return count(s, M_RELEASE, fail(call, &st));
    return count(s, M_RELEASE, RPC_OK);
}

static int h_lookup(rpc_call *call, const Sb__Fleet__LookupRequest *req,
                    Sb__Fleet__LookupReply *reply, void *arg)
{
    orch_service *s = arg;
    fleet_server_info info;
    rpc_status st = {0};

    if (fleet_lookup(s->f, req->user, &info, &st) != RPC_OK)
        return count(s, M_LOOKUP, fail(call, &st));
    reply->server_id = rpc_call_strdup(call, info.id);
    reply->endpoint = rpc_call_strdup(call, info.endpoint);
    reply->state = rpc_call_strdup(call, fleet_state_name(info.state));
    return count(s, M_LOOKUP, RPC_OK);
}

int orch_service_register(rpc_server *srv, struct fleet *f, orch_service **out)
{
    sb_fleet_Orchestrator_handlers h = {.RegisterServer = h_register,
                                        .Heartbeat = h_heartbeat,
                                        .DeregisterServer = h_deregister,
                                        .Assign = h_assign,
                                        .Release = h_release,
                                        .Lookup = h_lookup};
    orch_service *s = calloc(1, sizeof(*s));

    *out = NULL;
    if (s == NULL)
        return RPC_INTERNAL;
    s->f = f;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (sb_fleet_Orchestrator_register(srv, &h, s) != 0 ||
        pthread_create(&s->thread, NULL, retry_main, s) != 0) {
        orch_service_free(s);
        return RPC_INTERNAL;
    }
    s->thread_on = 1;
    fleet_set_on_change(f, on_change, s);
    *out = s;
    return RPC_OK;
}

void orch_service_shutdown(orch_service *s)
{
    if (s == NULL)
        return;
    fleet_set_on_change(s->f, NULL, NULL);
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->thread_on)
        pthread_join(s->thread, NULL);
    s->thread_on = 0;
    /* The retry thread has stopped: the list is ours. */
    for (size_t i = 0; i < s->n; i++) {
        rpc_call_finish(s->v[i].call,
                        rpc_call_fail(s->v[i].call, RPC_UNAVAILABLE,
                                      "orchestrator stopping"));
        free(s->v[i].user);
    }
    s->n = 0;
}

void orch_service_metrics(void *arg, status_buf *b)
{
    orch_service *s = arg;

    status_buf_printf(b, "# HELP sb_orch_rpc_calls_total Orchestrator RPC "
                         "calls by method.\n# TYPE sb_orch_rpc_calls_total "
                         "counter\n");
    for (int m = 0; m < M_COUNT; m++)
        status_buf_printf(b, "sb_orch_rpc_calls_total{method=\"%s\"} %llu\n",
                          method_names[m],
                          (unsigned long long)atomic_load(&s->calls[m]));
    status_buf_printf(b, "# HELP sb_orch_rpc_errors_total Orchestrator RPC "
                         "calls answered with an error.\n# TYPE "
                         "sb_orch_rpc_errors_total counter\n");
    for (int m = 0; m < M_COUNT; m++)
        status_buf_printf(b, "sb_orch_rpc_errors_total{method=\"%s\"} %llu\n",
                          method_names[m],
                          (unsigned long long)atomic_load(&s->errors[m]));
    pthread_mutex_lock(&s->mu);
    status_buf_printf(b,
                      "# HELP sb_orch_assign_parked Assign calls waiting "
                      "for a launch.\n# TYPE sb_orch_assign_parked gauge\n"
                      "sb_orch_assign_parked %zu\n",
                      s->n);
    pthread_mutex_unlock(&s->mu);
}

void orch_service_free(orch_service *s)
{
    if (s == NULL)
        return;
    orch_service_shutdown(s);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->v);
    free(s);
}
