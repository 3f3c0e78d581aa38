/* bench_redis.h: a redis-server for the benchmarks' Redis sides (draw's
 * INCRBY, social's Streams): started on 127.0.0.1 on a free port with a
 * temp dir, with or without `appendfsync always`, stopped and cleaned up
 * by the bench. */
#ifndef SB_BENCH_REDIS_H
#define SB_BENCH_REDIS_H

/** A redis-server this process started (pid > 0), or one it was given. */
typedef struct bench_redis {
    int port;
    int pid; /* 0 when not ours */
    char dir[256];
} bench_redis;

/** Starts redis-server on 127.0.0.1 on a free port with a temp dir.
 * aof_always: `--appendonly yes --appendfsync always` (every write is in
 * the AOF and fsync'd before its reply), else persistence off (`--save ""
 * --appendonly no`). Returns 0 once it accepts connections (a progress
 * line names its pid, port and dir: tests check that the pid is gone
 * after the bench), or -1 with a message printed (no redis-server, no
 * free port, did not start in 5 s). */
int bench_redis_start(bench_redis *r, int aof_always);

/** Stops (SIGTERM, then SIGKILL after 5 s) and removes its temp dir. */
void bench_redis_stop(bench_redis *r);

/** Removes dir and everything under it (temp dirs of the bench). */
void bench_rmtree(const char *dir);

#endif
