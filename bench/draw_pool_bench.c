/* draw_pool_bench.c (draw-pool-bench): the draw pool library in process,
 * no RPC. For 1, 2, 4 and 50 threads and counts 1 and 100 it opens a fresh
 * pool (real LMDB, fsync on every reservation), draws for --seconds or
 * until the pool runs dry, and prints draws/s, numbers/s, sampled latency,
 * and how often draws had to wait for the reserver (the fsync ceiling). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "draw_pool.h"
#include "sb_log.h"

#define SAMPLE_EVERY 16
#define MAX_SAMPLES 200000

typedef struct {
    draw_pool *pool;
    uint32_t count;
    atomic_int *go, *stop;
    uint64_t draws, end_ns;
    uint64_t *lat_ns;
    size_t nlat;
    int failed;
} worker;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    uint32_t *out = malloc(w->count * sizeof *out), left;
    if (out == NULL) {
        w->failed = 1;
        return NULL;
    }
    while (!atomic_load(w->go)) /* start together */
        sched_yield();
    while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
        int sample = w->draws % SAMPLE_EVERY == 0 && w->nlat < MAX_SAMPLES;
        uint64_t t0 = sample ? now_ns() : 0;
        draw_result r = draw_pool_draw(w->pool, w->count, out, &left);
        if (r == DRAW_EXHAUSTED)
            break;
        if (r != DRAW_OK) {
            fprintf(stderr, "draw: %s\n", draw_result_str(r));
            w->failed = 1;
            break;
        }
        if (sample)
            w->lat_ns[w->nlat++] = now_ns() - t0;
        w->draws++;
    }
    w->end_ns = now_ns(); /* a run that drains the pool ends early */
    free(out);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void remove_pool_dir(const char *dir)
{
    static const char *const files[] = {"data.mdb", "lock.mdb", "draw.lock"};
    char path[4200];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Runs the threads against an open pool; prints one line. */
static int run_threads(draw_pool *pool, int nthreads, uint32_t count,
                       double seconds)
{
    int rc = -1, started = 0;
    worker *w = calloc((size_t)nthreads, sizeof *w);
    pthread_t *th = calloc((size_t)nthreads, sizeof *th);
    uint64_t *all = malloc((size_t)nthreads * MAX_SAMPLES * sizeof *all);
    atomic_int go = 0, stop = 0;
    if (w == NULL || th == NULL || all == NULL)
        goto out;
    for (; started < nthreads; started++) {
        w[started] = (worker){.pool = pool,
                              .count = count,
                              .go = &go,
                              .stop = &stop,
                              .lat_ns = all + (size_t)started * MAX_SAMPLES};
        if (pthread_create(&th[started], NULL, worker_main, &w[started]) != 0)
            break;
    }
    if (started < nthreads) {
        fprintf(stderr, "draw-pool-bench: cannot start %d threads\n", nthreads);
        atomic_store(&stop, 1);
        seconds = 0;
    }
    atomic_store(&go, 1);
    uint64_t t0 = now_ns();
    struct timespec nap = {(time_t)seconds,
                           (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&nap, NULL);
    atomic_store(&stop, 1);
    uint64_t draws = 0, t1 = t0;
    size_t nlat = 0;
    int failed = 0;
    for (int t = 0; t < started; t++) {
        pthread_join(th[t], NULL);
        draws += w[t].draws;
        t1 = w[t].end_ns > t1 ? w[t].end_ns : t1;
        failed |= w[t].failed;
        memmove(all + nlat, w[t].lat_ns, w[t].nlat * sizeof *all);
        nlat += w[t].nlat;
    }
    double secs = (double)(t1 - t0) / 1e9;
    qsort(all, nlat, sizeof *all, cmp_u64);
    draw_pool_status st;
    draw_pool_status_get(pool, &st);
    printf("threads %2d  count %3u  %11.0f draws/s  %11.0f numbers/s  "
           "p50 %6.1fus p99 %7.1fus max %8.1fus  commits %llu waits %llu "
           "drawn %u/%u\n",
           nthreads, count, (double)draws / secs, (double)draws * count / secs,
           nlat ? (double)all[nlat / 2] / 1e3 : 0,
           nlat ? (double)all[nlat * 99 / 100] / 1e3 : 0,
           nlat ? (double)all[nlat - 1] / 1e3 : 0,
           (unsigned long long)st.reserves, (unsigned long long)st.waits,
           st.drawn, st.size);
    rc = failed || started < nthreads ? -1 : 0;
out:
    free(all);
    free(th);
    free(w);
    return rc;
}

static int run_one(const draw_pool_config *cfg, int nthreads, uint32_t count,
                   double seconds)
{
    char dir[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/sb-drawbench-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    draw_pool *pool;
    draw_result r = draw_pool_open(&pool, dir, cfg);
    if (r != DRAW_OK) {
        fprintf(stderr, "draw_pool_open: %s\n", draw_result_str(r));
        remove_pool_dir(dir);
        return -1;
    }
    int rc = run_threads(pool, nthreads, count, seconds);
    draw_pool_close(pool);
    remove_pool_dir(dir);
    return rc;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: draw-pool-bench [--seconds S] [--size N] "
            "[--block B]\n  in-process draws/s at 1, 2, 4, 50 threads, "
            "count 1 and 100 (defaults: 1 s, N 10000000, block 1024)\n");
    return 2;
}

int main(int argc, char **argv)
{
    double seconds = 1.0;
    draw_pool_config cfg = {.size = 10000000, .block = DRAW_DEFAULT_BLOCK};
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (i + 1 >= argc)
            return usage();
        if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtod(argv[++i], &end);
        else if (strcmp(argv[i], "--size") == 0)
            cfg.size = (uint32_t)strtoul(argv[++i], &end, 10);
        else if (strcmp(argv[i], "--block") == 0)
            cfg.block = (uint32_t)strtoul(argv[++i], &end, 10);
        else
            return usage();
        if (end == NULL || *end != '\0' || seconds <= 0 || seconds > 600 ||
            cfg.size == 0 || cfg.size > DRAW_MAX_SIZE || cfg.block == 0)
            return usage();
    }
    sb_log_set_level(SB_LOG_WARN);
    static const int threads[] = {1, 2, 4, 50};
    static const uint32_t counts[] = {1, 100};
    printf("draw-pool-bench: size %u, block %u, %.1f s per run\n", cfg.size,
           cfg.block, seconds);
    for (size_t c = 0; c < 2; c++)
        for (size_t t = 0; t < 4; t++)
            if (run_one(&cfg, threads[t], counts[c], seconds) != 0)
                return 1;
    return 0;
}
