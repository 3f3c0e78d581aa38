/* test_draw_app.c: draw through the user's app server (App/Draw, libsb's
 * sb_draw and script mode's `draw <user> <count>`) on a real `sbd` child
 * process on 127.0.0.1: the token rule, the count check, concurrent draws
 * by users on two app servers, the `sb` command's output, and a full drain
 * of the 100000 pool ending in "Only K numbers left" / "No numbers left",
 * and an app server whose draw service does not answer.
 * Every number received is checked against one bitmap: in 1..N, never
 * twice, and at the end all N seen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb.h"
#include "test_social_proc.h"

#define POOL 100000u
#define NUSERS 12 /* capacity 10: two app servers */
#define NTHREADS 6
#define PER_THREAD 40

static tsp_sbd g_sbd;
static sb_session *g_s;
static sb_user g_users[NUSERS];
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char g_seen[POOL + 1];
static unsigned g_total, g_bad; /* numbers seen; repeats or out of range */

/* Records numbers; counts every repeat or out-of-range one in g_bad. */
static void note(const uint32_t *v, size_t n)
{
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < n; i++) {
        if (v[i] < 1 || v[i] > POOL || g_seen[v[i]]) {
            fprintf(stderr, "bad or repeated number %u\n", v[i]);
            g_bad++;
            continue;
        }
        g_seen[v[i]] = 1;
        g_total++;
    }
    pthread_mutex_unlock(&g_mu);
}

/* Draws count for u; asserts success and exactly count numbers. */
static void draw_ok(sb_user *u, uint32_t count)
{
    Sb__Social__DrawReply *r = NULL;
    rpc_status st;
    int rc = sb_draw(g_s, u, count, &r, &st);

    if (rc != RPC_OK)
        fprintf(stderr, "draw %u for %s: %s\n", count, u->name, st.message);
    assert_int_equal(rc, RPC_OK);
    assert_int_equal(r->n_numbers, count);
    note(r->numbers, r->n_numbers);
    sb_free(r);
}

static void draw_fails(sb_user *u, uint32_t count, int code, const char *msg)
{
    Sb__Social__DrawReply *r = NULL;
    rpc_status st;

    assert_int_equal(sb_draw(g_s, u, count, &r, &st), code);
    assert_null(r);
    assert_string_equal(st.message, msg);
}

static int setup(void **state)
{
    rpc_status st;
    char name[32];

    (void)state;
    if (tsp_init(&g_sbd) != 0 || tsp_start(&g_sbd) != 0)
        return -1;
    if (sb_open(&g_s, "127.0.0.1", g_sbd.port, &st) != RPC_OK)
        return -1;
    for (int i = 0; i < NUSERS; i++) {
        snprintf(name, sizeof name, "u%d", i);
        if (sb_register(g_s, name, "pw", &st) != RPC_OK ||
            sb_login(g_s, name, "pw", &g_users[i], &st) != RPC_OK) {
            fprintf(stderr, "%s: %s\n", name, st.message);
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sb_close(g_s);
    tsp_cleanup(&g_sbd);
    return 0;
}

/* Token first, then the count; nothing is drawn by a refused call. */
static void test_checks(void **state)
{
    sb_user nobody;

    (void)state;
    memset(&nobody, 0, sizeof nobody);
    draw_fails(&nobody, 3, RPC_UNAUTHENTICATED, "Not login yet");
    draw_fails(&nobody, 0, RPC_UNAUTHENTICATED, "Not login yet");
    draw_fails(&g_users[0], 0, RPC_INVALID_ARGUMENT,
               "Count must be between 1 and 10000");
    draw_fails(&g_users[0], 10001, RPC_INVALID_ARGUMENT,
               "Count must be between 1 and 10000");
    draw_ok(&g_users[0], 1);
    draw_ok(&g_users[0], 10000);
}

static void *drawer(void *arg)
{
    sb_user *u = arg;
    Sb__Social__DrawReply *r;
    rpc_status st;
    long fails = 0;

    for (int i = 0; i < PER_THREAD; i++) {
        uint32_t k = 1 + (uint32_t)(i % 7);
        r = NULL;
        if (sb_draw(g_s, u, k, &r, &st) != RPC_OK || r->n_numbers != k)
            fails++;
        else
            note(r->numbers, r->n_numbers);
        sb_free(r);
    }
    return (void *)fails;
}

/* Users on both app servers draw at once: never one number twice. */
static void test_concurrent(void **state)
{
    pthread_t t[NTHREADS];
    unsigned before = g_total;
    long fails = 0;

    (void)state;
    /* users 0 and 11 are on different app servers (ten per server) */
    assert_string_not_equal(g_users[0].server_id, g_users[11].server_id);
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(
            pthread_create(&t[i], NULL, drawer, &g_users[i * 2 + (i & 1)]), 0);
    for (int i = 0; i < NTHREADS; i++) {
        void *f;
        pthread_join(t[i], &f);
        fails += (long)f;
    }
    assert_int_equal(fails, 0);
    assert_int_equal(g_bad, 0);
    /* 40 draws of 1..7 each: 5 full cycles of 28, then 1+2+3+4+5 */
    assert_int_equal(g_total - before, NTHREADS * (5 * 28 + 15));
}

/* Script mode through the real `sb` command. */
static void test_script(void **state)
{
    char in[512], cmd[1024], line[256];
    const char *bin = getenv("SB_BIN_DIR");
    uint32_t v[8];
    int n = 0, other = 0;
    FILE *f, *p;

    (void)state;
    assert_non_null(bin);
    snprintf(in, sizeof in, "%s/script.in", g_sbd.dir);
    assert_non_null(f = fopen(in, "w"));
    fputs("login u3 pw\ndraw u3 5\ndraw u3 0\ndraw u3 five\n"
          "draw nobody 2\ndraw u3\nexit\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "timeout 60 %s/sb 127.0.0.1 %d < %s", bin,
             g_sbd.port, in);
    assert_non_null(p = popen(cmd, "r"));
    const char *want[] = {"Success!", "Count must be between 1 and 10000",
                          "Usage: draw <user> <count>", "Not login yet",
                          "Usage: draw <user> <count>"};
    while (fgets(line, sizeof line, p) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] >= '1' && line[0] <= '9' && n < 8) {
            v[n++] = (uint32_t)strtoul(line, NULL, 10);
            continue;
        }
        assert_true(other < 5);
        assert_string_equal(line, want[other]);
        other++;
    }
    assert_int_equal(pclose(p), 0);
    assert_int_equal(other, 5);
    assert_int_equal(n, 5);
    note(v, (size_t)n);
    assert_int_equal(g_bad, 0);
}

/* Drain: all or nothing at the end, then every number seen exactly once. */
static void test_drain(void **state)
{
    char msg[64];
    uint32_t left;

    (void)state;
    left = POOL - g_total;
    while (left >= 10000) {
        draw_ok(&g_users[left % NUSERS], 10000);
        left -= 10000;
    }
    snprintf(msg, sizeof msg, "Only %u numbers left", left);
    if (left > 1)
        draw_fails(&g_users[5], left + 1, RPC_RESOURCE_EXHAUSTED, msg);
    if (left > 0)
        draw_ok(&g_users[11], left);
    draw_fails(&g_users[2], 1, RPC_RESOURCE_EXHAUSTED, "No numbers left");
    draw_fails(&g_users[10], 10000, RPC_RESOURCE_EXHAUSTED, "No numbers left");
    assert_int_equal(g_bad, 0);
    assert_int_equal(g_total, POOL);
    for (uint32_t i = 1; i <= POOL; i++)
        assert_true(g_seen[i]);
}

/* An sbd whose app servers' draw service does not answer (--draw to a
 * port nothing listens on): a clear failure within the call's budget, and
 * the app server keeps serving. */
static void test_no_draw_service(void **state)
{
    tsp_sbd d;
    sb_session *s = NULL;
    sb_user u;
    Sb__Social__DrawReply *r = NULL;
    Sb__Social__NameList *l = NULL;
    rpc_status st;
    int64_t t0;

    (void)state;
    assert_int_equal(tsp_init(&d), 0);
    d.draw_url = "tcp://127.0.0.1:1";
    assert_int_equal(tsp_start(&d), 0);
    assert_int_equal(sb_open(&s, "127.0.0.1", d.port, &st), RPC_OK);
    assert_int_equal(sb_register(s, "solo", "pw", &st), RPC_OK);
    assert_int_equal(sb_login(s, "solo", "pw", &u, &st), RPC_OK);
    t0 = rpc_now_mono_ms();
    assert_int_equal(sb_draw(s, &u, 2, &r, &st), RPC_ABORTED);
    assert_string_equal(st.message, "Draw service is not available");
    assert_null(r);
    assert_true(rpc_now_mono_ms() - t0 < 4500); /* under libsb's 5 s */
    assert_int_equal(sb_list_friend(s, &u, &l, &st), RPC_OK);
    sb_free(l);
    sb_close(s);
    tsp_cleanup(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_script),
        cmocka_unit_test(test_drain),
        cmocka_unit_test(test_no_draw_service),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
