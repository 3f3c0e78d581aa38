/* rpc_stats.c: lock-free per-method statistics (see rpc_stats.h). */
#include "rpc_stats.h"

const uint64_t rpc_stats_bounds_us[RPC_STATS_BUCKETS - 1] = {
    25,    50,    100,   200,    500,    1000,    2000,   5000,
    10000, 20000, 50000, 100000, 250000, 1000000, 5000000};

void rpc_stats_record(rpc_stats *s, int64_t latency_us, int is_error)
{
    uint64_t us = latency_us < 0 ? 0 : (uint64_t)latency_us;
    int b = 0;
    while (b < RPC_STATS_BUCKETS - 1 && us >= rpc_stats_bounds_us[b])
        b++;
    __atomic_fetch_add(&s->calls, 1, __ATOMIC_RELAXED);
    if (is_error)
        __atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->buckets[b], 1, __ATOMIC_RELAXED);
    uint64_t cur = __atomic_load_n(&s->max_us, __ATOMIC_RELAXED);
    while (us > cur &&
           !__atomic_compare_exchange_n(&s->max_us, &cur, us, 1,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

void rpc_stats_snapshot(const rpc_stats *s, rpc_stats *out)
{
    out->calls = __atomic_load_n(&s->calls, __ATOMIC_RELAXED);
    out->errors = __atomic_load_n(&s->errors, __ATOMIC_RELAXED);
    out->max_us = __atomic_load_n(&s->max_us, __ATOMIC_RELAXED);
    for (int i = 0; i < RPC_STATS_BUCKETS; i++)
        out->buckets[i] = __atomic_load_n(&s->buckets[i], __ATOMIC_RELAXED);
}

uint64_t rpc_stats_quantile_us(const rpc_stats *s, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < RPC_STATS_BUCKETS; i++)
        total += s->buckets[i];
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total);
    if (want >= total)
        want = total - 1;
    uint64_t seen = 0;
    for (int i = 0; i < RPC_STATS_BUCKETS - 1; i++) {
        seen += s->buckets[i];
        if (seen > want)
            return rpc_stats_bounds_us[i] < s->max_us ? rpc_stats_bounds_us[i]
                                                      : s->max_us;
    }
    return s->max_us;
}
