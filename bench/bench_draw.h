/* bench_draw.h: what the two halves of `sb-bench draw` share: the load
 * shape (closed-loop clients, stop by time or by request count) and the
 * Redis side (bench_draw_redis.c), which runs that shape as INCRBY. */
#ifndef SB_BENCH_DRAW_H
#define SB_BENCH_DRAW_H

#include <stdint.h>

#include "bench_redis.h"
#include "bench_util.h"

typedef struct draw_shape {
    int clients;      /* closed-loop clients, one call in flight each */
    int seconds;      /* run length when requests == 0 */
    int64_t requests; /* total calls over all clients; 0 = by time */
    uint32_t count;   /* numbers per call (INCRBY amount for Redis) */
    int json;
    int nng_client; /* draw side: nng clients instead of the wire client */
} draw_shape;

/** Runs the shape against Redis on 127.0.0.1:port as INCRBY on a counter.
 * Returns 0 (r filled), -1 on a connection or protocol failure. */
int bench_redis_run(int port, const draw_shape *sh, const char *name,
                    bench_result *r);

/** The Redis side of --vs-redis: without persistence and with
 * `appendfsync always` (both started by the bench), or the one server on
 * a given port as it is; each accumulates its rounds. */
typedef struct bench_redis_set {
    int n;
    bench_redis srv[2];
    const char *names[2];
    bench_result tot[2];
} bench_redis_set;

/** Starts the servers (port 0), or takes the one on port. 0 or -1. */
int bench_redis_set_start(bench_redis_set *s, int port);
/** One round: the shape against each server in turn. 0 or -1. */
int bench_redis_set_round(bench_redis_set *s, const draw_shape *sh);
/** Each server's figures over its rounds, and draws_per_s / its calls/s. */
void bench_redis_set_print(const bench_redis_set *s, double draws_per_s,
                           int json);
/** Stops the servers the bench started and removes their temp dirs. */
void bench_redis_set_stop(bench_redis_set *s);

/** Prints one progress line on stderr: elapsed time, calls, calls/s. */
void bench_draw_progress(const char *what, int64_t start_us, uint64_t calls);

#endif
