/* rpc_builtin.c: methods every server answers: sb.health.Health/Check
 * (grpc.health.v1 semantics), Health/ListMethods and Admin/Stats (call and
 * error counts and latency histograms per method). They are registered
 * through the generated stubs like any other service. */
#include <string.h>

#include "health.sb.h"
#include "rpc_server_internal.h"

/* "pkg.Service/Method" names service "pkg.Service". */
static int has_service(rpc_server *s, const char *svc)
{
    size_t n = strlen(svc);
    for (size_t i = 0; i < s->n_methods; i++)
        if (strncmp(s->methods[i]->name, svc, n) == 0 &&
            s->methods[i]->name[n] == '/')
            return 1;
    return 0;
}

static int h_check(rpc_call *call, const Sb__Health__CheckRequest *req,
                   Sb__Health__CheckReply *reply, void *arg)
{
    rpc_server *s = arg;
    const char *svc = req->service ? req->service : "";
    int stopping = __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE);
    int serving = !stopping;
    if (*svc != '\0') {
        if (!has_service(s, svc)) {
            reply->status =
                SB__HEALTH__CHECK_REPLY__SERVING_STATUS__SERVICE_UNKNOWN;
            return RPC_OK;
        }
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < s->n_health; i++)
            if (strcmp(s->health[i].service, svc) == 0)
                serving = serving && s->health[i].serving;
        pthread_mutex_unlock(&s->mu);
    }
    reply->status = serving
                        ? SB__HEALTH__CHECK_REPLY__SERVING_STATUS__SERVING
                        : SB__HEALTH__CHECK_REPLY__SERVING_STATUS__NOT_SERVING;
    return RPC_OK;
}

static int h_list(rpc_call *call, const Sb__Health__ListMethodsRequest *req,
                  Sb__Health__ListMethodsReply *reply, void *arg)
{
    rpc_server *s = arg;
    reply->n_methods = s->n_methods;
    reply->methods = rpc_call_alloc(call, s->n_methods * sizeof(char *));
    for (size_t i = 0; i < s->n_methods; i++)
        reply->methods[i] = s->methods[i]->name;
    return RPC_OK;
}

static Sb__Health__MethodStats *one_stats(rpc_call *call, const char *name,
                                          const rpc_stats *live)
{
    rpc_stats st;
    rpc_stats_snapshot(live, &st);
    Sb__Health__MethodStats *m = rpc_call_alloc(call, sizeof *m);
    sb__health__method_stats__init(m);
    m->method = (char *)name;
    m->calls = st.calls;
    m->errors = st.errors;
    m->max_us = st.max_us;
    m->p50_us = rpc_stats_quantile_us(&st, 0.50);
    m->p99_us = rpc_stats_quantile_us(&st, 0.99);
    m->n_bounds_us = RPC_STATS_BUCKETS - 1;
    m->bounds_us = (uint64_t *)rpc_stats_bounds_us;
    m->n_buckets = RPC_STATS_BUCKETS;
    m->buckets = rpc_call_alloc(call, sizeof st.buckets);
    memcpy(m->buckets, st.buckets, sizeof st.buckets);
    return m;
}

static int h_stats(rpc_call *call, const Sb__Health__StatsRequest *req,
                   Sb__Health__StatsReply *reply, void *arg)
{
    rpc_server *s = arg;
    reply->n_methods = s->n_methods + 1;
    reply->methods =
        rpc_call_alloc(call, reply->n_methods * sizeof *reply->methods);
    for (size_t i = 0; i < s->n_methods; i++)
        reply->methods[i] =
            one_stats(call, s->methods[i]->name, &s->methods[i]->stats);
    reply->methods[s->n_methods] =
        one_stats(call, "(malformed or unknown)", &s->bad_calls);
    reply->uptime_ms = (uint64_t)(rpc_now_mono_ms() - s->start_ms);
    reply->in_flight = (uint64_t)rpc_server_in_flight(s);
    return RPC_OK;
}

int rpc_builtin_register(rpc_server *s)
{
    static const sb_health_Health_handlers health = {.Check = h_check,
                                                     .ListMethods = h_list};
    static const sb_health_Admin_handlers admin = {.Stats = h_stats};
    int rv = sb_health_Health_register(s, &health, s);
    if (rv == 0)
        rv = sb_health_Admin_register(s, &admin, s);
    /* all three only read memory (Check takes s->mu for a moment) */
    if (rv == 0)
        rv = rpc_server_set_nonblocking(s, "sb.health.Health", 1);
    if (rv == 0)
        rv = rpc_server_set_nonblocking(s, "sb.health.Admin", 1);
    return rv;
}
