/* test_draw_pool.c: the draw pool library against a real LMDB environment
 * in a fresh temp directory: argument checks, exact exhaustion, restart,
 * reset confirmation, the single-opener lock, a corrupt store, and 64
 * threads draining a 100000 pool. (Crashes: test_draw_crash.c.) */
#include <lmdb.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <time.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "draw_pool.h"
#include "draw_store.h"
#include "draw_test_util.h"

static int setup_dir(void **state)
{
    char *dir = malloc(4096);
    if (dir == NULL || draw_test_mkdtemp(dir, 4096) == NULL) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int teardown_dir(void **state)
{
    draw_test_rmdir(*state);
    free(*state);
    return 0;
}

static draw_pool *open_pool(const char *dir, uint32_t size, uint32_t block,
                            uint32_t max_count)
{
    draw_pool_config cfg = {
        .size = size, .block = block, .max_count = max_count};
    draw_pool *p = NULL;
    assert_int_equal(draw_pool_open(&p, dir, &cfg), DRAW_OK);
    assert_non_null(p);
    return p;
}

static void test_bad_arguments(void **state)
{
    draw_pool_config big = {.size = DRAW_MAX_SIZE + 1};
    draw_pool *p = NULL;
    uint32_t out[60], left = 99;
    assert_int_equal(draw_pool_open(&p, *state, &big), DRAW_INVALID);
    assert_int_equal(draw_pool_open(&p, "", NULL), DRAW_INVALID);
    p = open_pool(*state, 1000, 0, 50);
    assert_int_equal(draw_pool_draw(p, 0, out, &left), DRAW_INVALID);
    assert_int_equal(draw_pool_draw(p, 51, out, &left), DRAW_INVALID);
    assert_int_equal(draw_pool_draw(p, 1, NULL, &left), DRAW_INVALID);
    assert_int_equal(left, 99); /* untouched on error */
    draw_pool_status st;
    assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
    assert_int_equal(st.drawn, 0); /* bad calls took nothing */
    assert_int_equal(st.max_count, 50);
    assert_int_equal(draw_pool_draw(p, 50, out, &left), DRAW_OK);
    assert_int_equal(left, 950);
    draw_pool_close(p);
    p = open_pool(*state, 0, 0, 0); /* defaults */
    assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
    assert_int_equal(st.max_count, DRAW_DEFAULT_MAX_COUNT);
    assert_int_equal(st.block, DRAW_DEFAULT_BLOCK); /* 1000 / 16 < 1024 */
    assert_int_equal(st.block_now, DRAW_DEFAULT_BLOCK);
    assert_int_equal(st.size, 1000); /* the stored size */
    assert_int_equal(draw_pool_draw(p, DRAW_DEFAULT_MAX_COUNT + 1, out, &left),
                     DRAW_INVALID);
    draw_pool_close(p);
}

static void test_exhausted_reports_exact_left(void **state)
{
    draw_pool *p = open_pool(*state, 1000, 64, 0);
    uint32_t *out = malloc(1001 * sizeof *out), left = 0;
    assert_non_null(out);
    assert_int_equal(draw_pool_draw(p, 1001, out, &left), DRAW_EXHAUSTED);
    assert_int_equal(left, 1000);
    /* 990 is far beyond the first reservation (2 x 64): the draw waits for
     * the reserver to cover it, then succeeds whole. */
    assert_int_equal(draw_pool_draw(p, 990, out, &left), DRAW_OK);
    assert_int_equal(left, 10);
    assert_int_equal(draw_pool_draw(p, 20, out, &left), DRAW_EXHAUSTED);
    assert_int_equal(left, 10);
    draw_pool_status st;
    assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
    assert_int_equal(st.drawn, 990); /* all-or-nothing: nothing taken */
    assert_int_equal(st.remaining, 10);
    assert_true(st.persisted_mark >= st.drawn);
    assert_true(st.waits >= 1);
    assert_int_equal(draw_pool_draw(p, 10, out + 990, &left), DRAW_OK);
    assert_int_equal(left, 0);
    assert_int_equal(draw_pool_draw(p, 1, out, &left), DRAW_EXHAUSTED);
    assert_int_equal(left, 0);
    uint8_t seen[1001] = {0};
    for (int i = 0; i < 1000; i++) {
        assert_in_range(out[i], 1, 1000);
        assert_int_equal(seen[out[i]]++, 0);
    }
    free(out);
    draw_pool_close(p);
}

/* Numbers drawn across a clean close/reopen are exactly the permutation of
 * the stored seed, in order: the restart kept seed and cursor and skipped
 * nothing. */
static void test_restart_keeps_seed_and_cursor(void **state)
{
    enum { N = 5000 };
    uint32_t *got = malloc(N * sizeof *got), *perm = malloc(N * sizeof *perm);
    uint32_t n = 0, left;
    assert_true(got && perm);
    draw_pool *p = open_pool(*state, N, 100, 0);
    draw_pool_status a, b;
    assert_int_equal(draw_pool_status_get(p, &a), DRAW_OK);
    for (uint32_t k = 1; n < 1234; k = k % 97 + 1) {
        if (k > 1234 - n)
            k = 1234 - n;
        assert_int_equal(draw_pool_draw(p, k, got + n, &left), DRAW_OK);
        n += k;
    }
    draw_pool_close(p);

    draw_store *st;
    draw_state saved;
    assert_int_equal(draw_store_open(&st, *state), 0);
    assert_int_equal(draw_store_load(st, &saved), 0);
    draw_store_close(st);
    assert_int_equal(saved.mark, 1234); /* close persisted the exact cursor */
    assert_int_equal(saved.size, N);

    p = open_pool(*state, 9999, 100, 0); /* a different size is ignored */
    assert_int_equal(draw_pool_status_get(p, &b), DRAW_OK);
    assert_string_equal(a.fingerprint, b.fingerprint);
    assert_int_equal(b.size, N);
    assert_int_equal(b.drawn, 1234);
    assert_int_equal(b.generation, 1);
    while (draw_pool_draw(p, 7, got + n, &left) == DRAW_OK)
        n += 7;
    assert_int_equal(left, N - n);
    if (left > 0)
        assert_int_equal(draw_pool_draw(p, left, got + n, &left), DRAW_OK);
    draw_pool_close(p);

    assert_int_equal(draw_perm_build(saved.seed, N, perm), 0);
    assert_memory_equal(got, perm, N * sizeof *got);
    free(got);
    free(perm);
}

static void test_second_open_is_busy(void **state)
{
    draw_pool *p = open_pool(*state, 100, 0, 0), *q = NULL;
    assert_int_equal(draw_pool_open(&q, *state, NULL), DRAW_BUSY);
    assert_null(q);
    draw_pool_close(p);
    q = open_pool(*state, 0, 0, 0); /* free again after close */
    draw_pool_close(q);
}

static void test_reset_needs_confirmation(void **state)
{
    draw_pool *p = open_pool(*state, 2000, 32, 0);
    uint32_t out[777], left;
    draw_pool_status a, b;
    assert_int_equal(draw_pool_draw(p, 300, out, &left), DRAW_OK);
    assert_int_equal(draw_pool_status_get(p, &a), DRAW_OK);
    assert_int_equal(draw_pool_reset(p, NULL, 0), DRAW_REFUSED);
    assert_int_equal(draw_pool_reset(p, "", 0), DRAW_REFUSED);
    assert_int_equal(draw_pool_reset(p, "0123456789abcdef", 0), DRAW_REFUSED);
    char almost[sizeof a.fingerprint + 1];
    snprintf(almost, sizeof almost, "%sx", a.fingerprint);
    assert_int_equal(draw_pool_reset(p, almost, 0), DRAW_REFUSED);
    assert_int_equal(draw_pool_reset(p, a.fingerprint, DRAW_MAX_SIZE + 1),
                     DRAW_INVALID);
    assert_int_equal(draw_pool_status_get(p, &b), DRAW_OK);
    assert_string_equal(a.fingerprint, b.fingerprint); /* untouched */
    assert_int_equal(b.drawn, 300);

    assert_int_equal(draw_pool_reset(p, a.fingerprint, 0), DRAW_OK);
    assert_int_equal(draw_pool_status_get(p, &b), DRAW_OK);
    assert_string_not_equal(a.fingerprint, b.fingerprint);
    assert_int_equal(b.drawn, 0);
    assert_int_equal(b.size, 2000);
    assert_int_equal(b.generation, 2);
    assert_int_equal(draw_pool_reset(p, a.fingerprint, 0), DRAW_REFUSED);

    assert_int_equal(draw_pool_reset(p, b.fingerprint, 777), DRAW_OK);
    assert_int_equal(draw_pool_status_get(p, &a), DRAW_OK);
    assert_int_equal(a.size, 777);
    assert_int_equal(draw_pool_draw(p, 777, out, &left), DRAW_OK);
    uint8_t seen[778] = {0};
    for (int i = 0; i < 777; i++) {
        assert_in_range(out[i], 1, 777);
        assert_int_equal(seen[out[i]]++, 0);
    }
    draw_pool_close(p);
    p = open_pool(*state, 0, 0, 0); /* the reset pool is the durable one */
    assert_int_equal(draw_pool_status_get(p, &b), DRAW_OK);
    assert_string_equal(a.fingerprint, b.fingerprint);
    assert_int_equal(b.generation, 3);
    assert_int_equal(b.size, 777);
    assert_int_equal(b.remaining, 0);
    draw_pool_close(p);
}

static void test_corrupt_store_refused(void **state)
{
    draw_pool_close(open_pool(*state, 100, 0, 0));
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {7, "shuffle"}, v = {6, "sorted"};
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_open(env, *state, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    draw_pool *p = NULL;
    assert_int_equal(draw_pool_open(&p, *state, NULL), DRAW_CORRUPT);
    assert_null(p);
}

/* ---- 64 threads drain a 100000 pool ---- */

enum { DRAIN_N = 100000, DRAIN_THREADS = 64 };

typedef struct {
    draw_pool *pool;
    pthread_barrier_t *start;
    uint32_t id, n, bad;
    uint32_t *got; /* room for DRAIN_N */
} drain_arg;

static void *drain_main(void *arg)
{
    drain_arg *a = arg;
    uint32_t left, k = 1 + a->id % 37, step = 0;
    pthread_barrier_wait(a->start);
    for (;;) {
        draw_result r = draw_pool_draw(a->pool, k, a->got + a->n, &left);
        if (r == DRAW_OK) {
            a->n += k;
            k = 1 + (a->id * 7 + ++step * 13) % 64; /* mixed 1..64 */
        } else if (r == DRAW_EXHAUSTED && left == 0) {
            break;
        } else if (r == DRAW_EXHAUSTED && left < k) {
            k = left; /* all-or-nothing: ask for what is left */
        } else {
            a->bad++;
            break;
        }
    }
    return NULL;
}

static void test_64_threads_drain_exactly_once(void **state)
{
    draw_pool *p = open_pool(*state, DRAIN_N, 256, 0);
    pthread_t th[DRAIN_THREADS];
    drain_arg args[DRAIN_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, DRAIN_THREADS);
    for (uint32_t t = 0; t < DRAIN_THREADS; t++) {
        args[t] = (drain_arg){.pool = p, .start = &start, .id = t};
        args[t].got = malloc(DRAIN_N * sizeof(uint32_t));
        assert_non_null(args[t].got);
        assert_int_equal(pthread_create(&th[t], NULL, drain_main, &args[t]), 0);
    }
    uint8_t *seen = calloc(DRAIN_N + 1, 1);
    uint32_t total = 0;
    assert_non_null(seen);
    for (uint32_t t = 0; t < DRAIN_THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(args[t].bad, 0);
        for (uint32_t i = 0; i < args[t].n; i++) {
            uint32_t v = args[t].got[i];
            assert_in_range(v, 1, DRAIN_N);
            assert_int_equal(seen[v]++, 0); /* each number once */
        }
        total += args[t].n;
        free(args[t].got);
    }
    assert_int_equal(total, DRAIN_N);
    draw_pool_status st;
    assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
    assert_int_equal(st.drawn, DRAIN_N);
    assert_int_equal(st.remaining, 0);
    assert_int_equal(st.persisted_mark, DRAIN_N);
    print_message("drain: %llu commits, %llu waits\n",
                  (unsigned long long)st.reserves,
                  (unsigned long long)st.waits);
    uint32_t out[5], left = 1;
    assert_int_equal(draw_pool_draw(p, 5, out, &left), DRAW_EXHAUSTED);
    assert_int_equal(left, 0);
    pthread_barrier_destroy(&start);
    free(seen);
    draw_pool_close(p);
}

/* The block grows with the draw rate, never past block_max, and starts
 * again from block after a restart; numbers stay distinct throughout. */
static void test_block_adapts(void **state)
{
    enum { THREADS = 4, MIN = 64, MAX = 4096 };
    draw_pool_config cfg = {.size = DRAIN_N, .block = MIN, .block_max = MAX};
    draw_pool *p = NULL;
    pthread_t th[THREADS];
    drain_arg args[THREADS];
    pthread_barrier_t start;
    draw_pool_status st;
    uint32_t biggest = 0, total = 0;
    uint8_t *seen = calloc(DRAIN_N + 1, 1);
    assert_non_null(seen);
    assert_int_equal(draw_pool_open(&p, *state, &cfg), DRAW_OK);
    assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
    assert_int_equal(st.block, MAX);
    assert_int_equal(st.block_now, MIN);
    pthread_barrier_init(&start, NULL, THREADS + 1);
    for (uint32_t t = 0; t < THREADS; t++) {
        args[t] = (drain_arg){.pool = p, .start = &start, .id = t};
        assert_non_null(args[t].got = malloc(DRAIN_N * sizeof(uint32_t)));
        assert_int_equal(pthread_create(&th[t], NULL, drain_main, &args[t]), 0);
    }
    pthread_barrier_wait(&start);
    do { /* watch the block while they drain */
        assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
        assert_true(st.block_now >= MIN && st.block_now <= MAX);
        assert_true(st.persisted_mark - st.drawn <= 2 * MAX + 64);
        if (st.block_now > biggest)
            biggest = st.block_now;
        nanosleep(&(struct timespec){0, 200000}, NULL);
    } while (st.remaining > 0);
    for (uint32_t t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(args[t].bad, 0);
        for (uint32_t i = 0; i < args[t].n; i++) {
            assert_in_range(args[t].got[i], 1, DRAIN_N);
            assert_int_equal(seen[args[t].got[i]]++, 0);
        }
        total += args[t].n;
        free(args[t].got);
    }
    assert_int_equal(total, DRAIN_N);
    print_message("adaptive: block grew to %u (max %u), %llu commits\n",
                  biggest, MAX, (unsigned long long)st.reserves);
    assert_true(biggest > MIN);
    /* a drain at block 64 costs DRAIN_N / 128 commits or more; fewer means
     * the bigger blocks were used */
    assert_true(st.reserves < DRAIN_N / (2 * MIN));
    draw_pool_close(p);
    assert_int_equal(draw_pool_open(&p, *state, &cfg), DRAW_OK);
    assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
    assert_int_equal(st.block_now, MIN);
    assert_int_equal(st.remaining, 0);
    draw_pool_close(p);
    pthread_barrier_destroy(&start);
    free(seen);
}

/* draw_pool_draw_nowait: past the durable mark it takes nothing and says
 * DRAW_AGAIN (the reserver is asked), and succeeds once the mark moved. */
static void test_nowait(void **state)
{
    draw_pool_config cfg = {.size = 1000, .block = 2, .block_max = 2};
    draw_pool *p = NULL;
    draw_pool_status st;
    uint32_t out[20], left = 0;
    uint8_t seen[1001] = {0};
    assert_int_equal(draw_pool_open(&p, *state, &cfg), DRAW_OK);
    assert_int_equal(draw_pool_draw_nowait(p, 1, out, &left), DRAW_OK);
    seen[out[0]] = 1;
    assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
    assert_int_equal(st.persisted_mark, 4); /* two blocks of 2 */
    assert_int_equal(draw_pool_draw_nowait(p, 10, out, &left), DRAW_AGAIN);
    assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
    assert_int_equal(st.drawn, 1); /* nothing taken */
    draw_result r = DRAW_AGAIN;
    for (int i = 0; i < 5000 && r == DRAW_AGAIN; i++) {
        r = draw_pool_draw_nowait(p, 10, out, &left);
        if (r == DRAW_AGAIN)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    assert_int_equal(r, DRAW_OK);
    assert_int_equal(left, 989);
    for (int i = 0; i < 10; i++) {
        assert_in_range(out[i], 1, 1000);
        assert_int_equal(seen[out[i]]++, 0);
    }
    assert_int_equal(draw_pool_draw_nowait(p, 0, out, &left), DRAW_INVALID);
    draw_pool_close(p);
}

/* ---- resets while 8 threads draw ---- */

typedef struct {
    draw_pool *pool;
    atomic_int *stop;
    uint32_t draws, bad;
} reset_arg;

static void *reset_drawer(void *arg)
{
    reset_arg *a = arg;
    uint32_t out[10], left;
    while (!atomic_load(a->stop)) {
        uint32_t k = 1 + a->draws % 10;
        draw_result r = draw_pool_draw(a->pool, k, out, &left);
        if (r == DRAW_OK) {
            a->draws++;
            for (uint32_t i = 0; i < k; i++) /* both pools hold 1..50000 */
                a->bad += out[i] < 1 || out[i] > 50000;
            for (uint32_t i = 1; i < k; i++) /* one draw never mixes pools */
                for (uint32_t j = 0; j < i; j++)
                    a->bad += out[i] == out[j];
        } else if (r != DRAW_EXHAUSTED) {
            a->bad++;
        }
    }
    return NULL;
}

/* Draws racing resets never fail, never return a repeated or out-of-range
 * number within one draw, and the sanitizers see no stale read. */
static void test_reset_while_drawing(void **state)
{
    draw_pool *p = open_pool(*state, 50000, 128, 0);
    atomic_int stop = 0;
    pthread_t th[8];
    reset_arg args[8];
    for (int t = 0; t < 8; t++) {
        args[t] = (reset_arg){.pool = p, .stop = &stop};
        assert_int_equal(pthread_create(&th[t], NULL, reset_drawer, &args[t]),
                         0);
    }
    draw_pool_status st;
    for (int i = 0; i < 5; i++) {
        struct timespec nap = {0, 20 * 1000000};
        nanosleep(&nap, NULL);
        assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
        assert_int_equal(draw_pool_reset(p, st.fingerprint, 0), DRAW_OK);
    }
    atomic_store(&stop, 1);
    uint32_t draws = 0;
    for (int t = 0; t < 8; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(args[t].bad, 0);
        draws += args[t].draws;
    }
    assert_true(draws > 0);
    assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
    assert_int_equal(st.generation, 6);
    assert_true(st.persisted_mark >= st.drawn);
    draw_pool_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
        T(test_bad_arguments),
        T(test_exhausted_reports_exact_left),
        T(test_restart_keeps_seed_and_cursor),
        T(test_second_open_is_busy),
        T(test_reset_needs_confirmation),
        T(test_corrupt_store_refused),
        T(test_64_threads_drain_exactly_once),
        T(test_block_adapts),
        T(test_nowait),
        T(test_reset_while_drawing),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
