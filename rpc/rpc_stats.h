/* rpc_stats.h: per-method call counts, error counts and a fixed latency
 * histogram, updated with atomics from any worker thread and read by the
 * built-in Admin/Stats method. */
#ifndef SB_RPC_STATS_H
#define SB_RPC_STATS_H

#include <stdint.h>

#define RPC_STATS_BUCKETS 16

typedef struct rpc_stats {
    uint64_t calls;
    uint64_t errors;
    uint64_t max_us;
    uint64_t buckets[RPC_STATS_BUCKETS];
} rpc_stats;

/* Upper bounds (µs) of the buckets; the last bucket is unbounded. */
extern const uint64_t rpc_stats_bounds_us[RPC_STATS_BUCKETS - 1];

void rpc_stats_record(rpc_stats *s, int64_t latency_us, int is_error);
/* A consistent-enough copy (each field read atomically). */
void rpc_stats_snapshot(const rpc_stats *s, rpc_stats *out);
/* The latency at quantile q (0..1), as the upper bound of its bucket. */
uint64_t rpc_stats_quantile_us(const rpc_stats *s, double q);

#endif
