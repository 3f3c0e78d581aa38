/* test_draw_crash.c: kill -9 a process that is drawing, restart, five times
 * over. A forked child opens the pool and draws from 4 threads, writing
 * every draw's numbers to a pipe in one write (<= PIPE_BUF, so atomic); the
 * parent records what the child reported, kills it at a random moment, and
 * starts the next child. Across all runs and a final in-process drain no
 * number may appear twice, and each crash may skip at most 2 blocks (plus
 * the draws that were in flight, drawn but not yet reported). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "draw_pool.h"
#include "draw_test_util.h"
#include "sb_log.h"

enum {
    N = 2000000,
    BLOCK = 256,
    CHILD_THREADS = 4,
    BLOCK_MAX = 4 * BLOCK, /* the block adapts up to this */
    MAX_K = 64,            /* 64 numbers = 256 bytes: one atomic pipe write */
    RUNS = 5,
    /* skipped per crash <= 2 largest blocks + what the child drew but never
     * wrote */
    SKIP_BOUND = 2 * BLOCK_MAX + CHILD_THREADS * MAX_K,
};

typedef struct {
    draw_pool *pool;
    int fd;
} child_arg;

static void *child_drawer(void *arg)
{
    child_arg *a = arg;
    uint32_t buf[MAX_K], left;
    for (;;) {
        uint32_t k = 1 + randombytes_uniform(MAX_K);
        draw_result r = draw_pool_draw(a->pool, k, buf, &left);
        if (r == DRAW_EXHAUSTED)
            return NULL;
        if (r != DRAW_OK ||
            write(a->fd, buf, k * sizeof *buf) != (ssize_t)(k * 4))
            _exit(3);
        /* Paced (<= 640k numbers/s in all): the adaptive block lets an unpaced
         * child drain the pool before the kill; this still grows the block. */
        nanosleep(&(struct timespec){0, 200000}, NULL);
    }
}

/* Runs in the forked child; never returns. */
static void child_main(const char *dir, int fd)
{
    draw_pool_config cfg = {.size = N, .block = BLOCK, .block_max = BLOCK_MAX};
    draw_pool *p;
    draw_pool_status st;
    if (draw_pool_open(&p, dir, &cfg) != DRAW_OK ||
        draw_pool_status_get(p, &st) != DRAW_OK)
        _exit(2);
    uint32_t start = st.drawn; /* where this run resumed */
    if (write(fd, &start, sizeof start) != sizeof start)
        _exit(2);
    pthread_t th[CHILD_THREADS];
    child_arg a = {p, fd};
    for (int t = 0; t < CHILD_THREADS; t++)
        if (pthread_create(&th[t], NULL, child_drawer, &a) != 0)
            _exit(2);
    for (int t = 0; t < CHILD_THREADS; t++)
        pthread_join(th[t], NULL);
    _exit(4); /* exhausted before the kill: the test is mis-sized */
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads u32s from fd into seen[] until EOF or the deadline (-1: none).
 * Returns how many numbers arrived; fails the test on a duplicate. */
static uint32_t read_numbers(int fd, uint8_t *seen, int64_t deadline,
                             uint32_t *start)
{
    static uint8_t carry[4];
    static size_t ncarry;
    uint8_t buf[4096];
    uint32_t got = 0;
    for (;;) {
        int wait = deadline < 0 ? 10000 : (int)(deadline - now_ms());
        if (deadline >= 0 && wait <= 0)
            break;
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, wait);
        assert_true(pr >= 0 || errno == EINTR);
        if (pr == 0)
            break;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0)
            break;
        assert_true(n > 0);
        for (ssize_t i = 0; i < n; i++) {
            carry[ncarry++] = buf[i];
            if (ncarry < 4)
                continue;
            uint32_t v;
            memcpy(&v, carry, 4);
            ncarry = 0;
            if (*start == UINT32_MAX) { /* the run's header */
                *start = v;
                continue;
            }
            assert_in_range(v, 1, N);
            if (seen[v]++ != 0)
                fail_msg("number %u handed out twice", v);
            got++;
        }
    }
    return got;
}

static void test_kill9_five_times(void **state)
{
    (void)state;
    char dir[4096];
    assert_non_null(draw_test_mkdtemp(dir, sizeof dir));
    uint8_t *seen = calloc(N + 1, 1);
    assert_non_null(seen);
    uint32_t expect = 0, skipped_total = 0;
    for (int run = 0; run < RUNS; run++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_main(dir, fds[1]);
        }
        close(fds[1]);
        uint32_t start = UINT32_MAX;
        uint32_t got = 0;
        for (int64_t give_up = now_ms() + 10000; got == 0;) {
            assert_true(now_ms() < give_up); /* wait until the child draws... */
            got += read_numbers(fds[0], seen, now_ms() + 20, &start);
        }
        /* ...then kill it at a random moment 20..200 ms later */
        got += read_numbers(fds[0], seen,
                            now_ms() + 20 + randombytes_uniform(180), &start);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int ws;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        if (!WIFSIGNALED(ws) || WTERMSIG(ws) != SIGKILL)
            fail_msg("child ended on its own (status %d)", ws);
        got += read_numbers(fds[0], seen, -1, &start); /* what it wrote */
        close(fds[0]);
        assert_true(start >= expect);
        uint32_t skipped = start - expect;
        if (run > 0) {
            print_message("crash %d: skipped %u\n", run, skipped);
            assert_true(skipped <= SKIP_BOUND);
        } else {
            assert_int_equal(start, 0);
        }
        skipped_total += skipped;
        expect = start + got;
    }
    /* Restart in-process and drain the rest: still nothing twice. */
    draw_pool *p;
    draw_pool_status st;
    uint32_t out[1000], left, got = 0, start;
    assert_int_equal(draw_pool_open(&p, dir, NULL), DRAW_OK);
    assert_int_equal(draw_pool_status_get(p, &st), DRAW_OK);
    start = st.drawn;
    assert_true(start >= expect && start - expect <= SKIP_BOUND);
    print_message("crash %d: skipped %u\n", RUNS, start - expect);
    skipped_total += start - expect;
    for (uint32_t k = 1000; k > 0;) {
        draw_result r = draw_pool_draw(p, k, out, &left);
        if (r == DRAW_EXHAUSTED) {
            k = left;
            continue;
        }
        assert_int_equal(r, DRAW_OK);
        for (uint32_t i = 0; i < k; i++) {
            assert_in_range(out[i], 1, N);
            if (seen[out[i]]++ != 0)
                fail_msg("number %u handed out twice", out[i]);
        }
        got += k;
    }
    draw_pool_close(p);
    /* Every number was either received exactly once or skipped. */
    uint32_t distinct = 0;
    for (uint32_t v = 1; v <= N; v++)
        distinct += seen[v];
    assert_int_equal(distinct, N - skipped_total);
    assert_int_equal(start + got, N);
    free(seen);
    draw_test_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    sb_log_set_level(SB_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_five_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
