/* store_commit_bench.c: what group commit buys. Durable posts/s through the
 * store's writer thread with N submitting threads (one fsync per batch),
 * against the same ops each committed in its own fsync'd transaction, and
 * the ratio. Prints figures; not a test.
 *   store-commit-bench [--threads N] [--seconds S] [--dir DIR] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sb_log.h"
#include "store_db.h"
#include "store_writer.h"

typedef struct bench {
    store_db *db;
    store_writer *w; /* NULL: one commit per write */
    atomic_int stop;
    atomic_ullong done, failed;
} bench;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *client(void *arg)
{
    bench *b = arg;
    while (!atomic_load(&b->stop)) {
        store_wop op = {.kind = STORE_OP_POST};
        op.token = store_s("Tbench");
        op.text =
            store_s("a durable post of typical length, about sixty bytes.");
        store_res r;
        if (b->w) {
            r = store_writer_submit_wait(b->w, &op);
        } else {
            store_wop *one = &op;
            store_db_apply(b->db, &one, 1);
            r = op.out.res;
        }
        if (r == STORE_OK)
            atomic_fetch_add(&b->done, 1);
        else
            atomic_fetch_add(&b->failed, 1);
    }
    return NULL;
}

static int setup_user(store_db *db)
{
    store_wop op = {.kind = STORE_OP_REGISTER}, *p = &op;
    op.name = store_s("bench");
    op.text = store_s("hash");
    store_db_apply(db, &p, 1);
    op = (store_wop){.kind = STORE_OP_LOGIN};
    op.name = store_s("bench");
    op.token = store_s("Tbench");
    store_db_apply(db, &p, 1);
    return op.out.res == STORE_OK ? 0 : -1;
}

/* Runs one phase in a fresh environment under @base; returns posts/s. */
static double run(const char *base, int threads, double secs, int group,
                  store_writer_stats *st)
{
    char dir[512];
    double rate = -1;
    bench b = {0};
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    snprintf(dir, sizeof dir, "%s/sb-commit-bench-XXXXXX", base);
    if (!th || !mkdtemp(dir) || store_db_open(dir, NULL, &b.db) ||
        setup_user(b.db))
        goto out;
    if (group && store_writer_start(b.db, 0, &b.w))
        goto out;
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, client, &b);
    usleep((useconds_t)(secs * 1e6));
    atomic_store(&b.stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double el = now_s() - t0;
    rate = (double)atomic_load(&b.done) / el;
    if (b.w)
        store_writer_get_stats(b.w, st);
    if (atomic_load(&b.failed))
        fprintf(stderr, "%llu posts failed\n",
                (unsigned long long)atomic_load(&b.failed));
out:
    store_writer_stop(b.w);
    store_db_close(b.db);
    if (dir[0]) {
        char p[600];
        snprintf(p, sizeof p, "%s/data.mdb", dir);
        unlink(p);
        snprintf(p, sizeof p, "%s/lock.mdb", dir);
        unlink(p);
        rmdir(dir);
    }
    free(th);
    return rate;
}

int main(int argc, char **argv)
{
    int threads = 50;
    double secs = 3;
    const char *base = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            secs = atof(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            base = argv[++i];
        else {
            fprintf(stderr,
                    "usage: %s [--threads N] [--seconds S] [--dir DIR]\n",
                    argv[0]);
            return 2;
        }
    }
    if (threads < 1 || threads > 1000 || secs <= 0 || secs > 600) {
        fprintf(stderr, "threads must be 1..1000, seconds 0..600\n");
        return 2;
    }
    sb_log_set_level(SB_LOG_WARN);
    store_writer_stats st = {0};
    double g = run(base, threads, secs, 1, &st);
    double one = run(base, threads, secs, 0, NULL);
    if (g < 0 || one < 0) {
        fprintf(stderr, "cannot open a store under %s\n", base);
        return 1;
    }
    printf(
        "store commit bench: %d threads, %.1f s each, durable (fsync) in %s\n",
        threads, secs, base);
    printf("group commit:         %10.0f posts/s  (%llu batches, %.1f "
           "ops/batch, max %llu)\n",
           g, (unsigned long long)st.batches,
           st.batches ? (double)st.ops / (double)st.batches : 0.0,
           (unsigned long long)st.max_batch);
    printf("one commit per write: %10.0f posts/s\n", one);
    printf("ratio:                %10.1fx\n", one > 0 ? g / one : 0.0);
    return 0;
}
