/* test_login_limit.c: the login limiter (servers/login/login_limit.c) in
 * simulated time, attacked as a guesser would: 1000 wrong passwords at
 * one user, one address guessing at many users, many addresses at one
 * user, a burst of parallel guesses, a flood of keys; then the right
 * password after the wait. And the dummy verify: an unknown name must
 * cost what a wrong password costs (real Argon2id), where the answer
 * without it comes a hundred times sooner. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "login_limit.h"
#include "rpc.h"
#include "store_db.h"

static int64_t g_now = 1000000; /* the simulated clock, in ms */

static int64_t fake_now(void *arg)
{
    (void)arg;
    return g_now;
}

static login_limit *new_limit(int user_free, int addr_free, int max_wait_s)
{
    login_limit_config c = {.user_free = user_free,
                            .addr_free = addr_free,
                            .max_wait_s = max_wait_s,
                            .now_ms = fake_now};
    login_limit *l = login_limit_new(&c);
    assert_non_null(l);
    return l;
}

static void test_user_backoff(void **state)
{
    (void)state;
    login_limit *l = new_limit(5, 1000, 300);
    for (int i = 0; i < 5; i++) /* the free ones */
        assert_int_equal(login_limit_begin(l, "bob", "10.0.0.1"), 0);
    /* the 6th goes through but makes the next wait 1 s, then 2, 4, 8 */
    assert_int_equal(login_limit_begin(l, "bob", "10.0.0.1"), 0);
    for (int w = 1; w <= 8; w *= 2) {
        assert_int_equal(login_limit_begin(l, "bob", "10.0.0.1"), w);
        g_now += w * 1000 - 1;
        assert_int_equal(login_limit_begin(l, "bob", "10.0.0.1"), 1);
        g_now += 1;
        assert_int_equal(login_limit_begin(l, "bob", "10.0.0.1"), 0);
    }
    /* another user is not held up by bob's guesser */
    assert_int_equal(login_limit_begin(l, "carol", "10.0.0.1"), 0);
    char msg[LOGIN_LIMIT_MSG_MAX];
    login_limit_message(16, msg, sizeof msg);
    assert_string_equal(msg, "Too many failed logins; try again in 16 s");
    login_limit_free(l);
}

/* 1000 guesses, one every 10 ms: almost all are refused before any
 * password work, and once they stop the right password works again. */
static void test_thousand_guesses(void **state)
{
    (void)state;
    login_limit *l = new_limit(5, 20, 60);
    int let_through = 0;
    for (int i = 0; i < 1000; i++, g_now += 10)
        if (login_limit_begin(l, "bob", "203.0.113.9") == 0)
            let_through++;
    /* 10 s of guessing: the 5 free ones, the 6th (which starts the
     * waits), and one at the end of each wait: 1 s, 2 s and 4 s in */
    printf("1000 guesses in 10 s: %d reached the password check\n",
           let_through);
    assert_int_equal(let_through, 9);
    /* bob himself, from elsewhere, is made to wait too, but not for good:
     * never longer than max_wait_s, and the right password then works */
    int wait = login_limit_begin(l, "bob", "198.51.100.7");
    assert_true(wait >= 1 && wait <= 60);
    g_now += (int64_t)wait * 1000;
    assert_int_equal(login_limit_begin(l, "bob", "198.51.100.7"), 0);
    login_limit_succeeded(l, "bob", "198.51.100.7");
    /* success forgets bob's failures: his next typo is free again */
    assert_int_equal(login_limit_begin(l, "bob", "198.51.100.7"), 0);
    login_limit_succeeded(l, "bob", "198.51.100.7");
    /* the guesser's address keeps its 9: 12 more names and it waits */
    char user[32];
    for (int i = 0; i < 12; i++) {
        snprintf(user, sizeof user, "other%d", i);
        assert_int_equal(login_limit_begin(l, user, "203.0.113.9"), 0);
    }
    assert_true(login_limit_begin(l, "carol", "203.0.113.9") > 0);
    login_limit_free(l);
}

static void test_waits_are_capped(void **state)
{
    (void)state;
    login_limit *l = new_limit(1, 1000, 30);
    for (int i = 0; i < 200; i++) {
        int w = login_limit_begin(l, "dave", "10.0.0.2");
        assert_true(w <= 30);
        g_now += w > 0 ? (int64_t)w * 1000 : 1;
    }
    login_limit_free(l);
}

static void test_one_address_many_users(void **state)
{
    (void)state;
    login_limit *l = new_limit(5, 20, 300);
    char user[32];
    for (int i = 0; i < 21; i++) { /* 20 free, the 21st sets the wait */
        snprintf(user, sizeof user, "user%d", i);
        assert_int_equal(login_limit_begin(l, user, "192.0.2.50"), 0);
    }
    assert_int_equal(login_limit_begin(l, "user99", "192.0.2.50"), 1);
    /* a good login from that address does not launder its count */
    g_now += 1000;
    assert_int_equal(login_limit_begin(l, "mine", "192.0.2.50"), 0);
    login_limit_succeeded(l, "mine", "192.0.2.50");
    assert_true(login_limit_begin(l, "user98", "192.0.2.50") > 0);
    login_limit_free(l);
}

static void test_many_addresses_one_user(void **state)
{
    (void)state;
    login_limit *l = new_limit(5, 20, 300);
    char addr[32];
    for (int i = 0; i < 6; i++) {
        snprintf(addr, sizeof addr, "10.1.0.%d", i);
        assert_int_equal(login_limit_begin(l, "erin", addr), 0);
    }
    assert_int_equal(login_limit_begin(l, "erin", "10.9.9.9"), 1);
    login_limit_free(l);
}

/* Guesses sent at once count before their answers are known. */
static void test_parallel_burst(void **state)
{
    (void)state;
    login_limit *l = new_limit(5, 20, 300);
    int passed = 0;
    for (int i = 0; i < 100; i++)
        passed += login_limit_begin(l, "frank", "10.2.0.1") == 0;
    assert_int_equal(passed, 6);
    login_limit_free(l);
}

static void test_forget_and_bounded(void **state)
{
    (void)state;
    login_limit_config c = {.user_free = 2,
                            .addr_free = 1000,
                            .max_wait_s = 10,
                            .forget_s = 60,
                            .max_keys = 100,
                            .now_ms = fake_now};
    login_limit *l = login_limit_new(&c);
    assert_non_null(l);
    for (int i = 0; i < 4; i++)
        login_limit_begin(l, "gail", NULL);
    assert_true(login_limit_begin(l, "gail", NULL) > 0);
    g_now += 61 * 1000; /* a quiet minute: forgotten */
    assert_int_equal(login_limit_begin(l, "gail", NULL), 0);
    assert_int_equal(login_limit_begin(l, "gail", NULL), 0);
    /* a flood of names holds at most max_keys */
    char user[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(user, sizeof user, "flood%d", i);
        login_limit_begin(l, user, "");
    }
    assert_true(login_limit_keys(l) <= 100);
    login_limit_free(l);
}

typedef struct {
    login_limit *l;
    int id;
} hammer_arg;

static void *hammer(void *p)
{
    hammer_arg *a = p;
    char user[32], addr[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(user, sizeof user, "u%d", (a->id * 7 + i) % 97);
        snprintf(addr, sizeof addr, "10.0.%d.%d", a->id, i % 13);
        if (login_limit_begin(a->l, user, addr) == 0 && i % 5 == 0)
            login_limit_succeeded(a->l, user, addr);
    }
    return NULL;
}

/* Threads at once, on the real clock (ASan/TSan-style sanity). */
static void test_threads(void **state)
{
    (void)state;
    login_limit *l = login_limit_new(NULL);
    pthread_t th[4];
    hammer_arg args[4];
    assert_non_null(l);
    for (int i = 0; i < 4; i++) {
        args[i] = (hammer_arg){l, i};
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_true(login_limit_keys(l) > 0);
    login_limit_free(l);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* What login does for a name without an account, as it did before: no
 * password work at all (the enumeration the issue measured). */
static int naive_unknown(const char *hash, const char *pw, size_t len,
                         store_pwcost cost)
{
    (void)cost;
    return hash == NULL ? -1 : store_password_verify(hash, pw, len);
}

typedef int (*verify_fn)(const char *, const char *, size_t, store_pwcost);

/* Median time of "unknown name" over "wrong password", alternating. */
static double unknown_over_wrong(verify_fn f, const char *hash)
{
    enum { ROUNDS = 7 };
    int64_t tu[ROUNDS], tw[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        int64_t t0 = rpc_now_mono_us();
        assert_int_equal(f(NULL, "guess", 5, STORE_PW_INTERACTIVE), -1);
        int64_t t1 = rpc_now_mono_us();
        assert_int_equal(f(hash, "guess", 5, STORE_PW_INTERACTIVE), -1);
        tu[r] = t1 - t0 + 1;
        tw[r] = rpc_now_mono_us() - t1 + 1;
    }
    qsort(tu, ROUNDS, sizeof *tu, cmp_i64);
    qsort(tw, ROUNDS, sizeof *tw, cmp_i64);
    return (double)tu[ROUNDS / 2] / (double)tw[ROUNDS / 2];
}

static void test_dummy_verify(void **state)
{
    (void)state;
    char hash[STORE_PWHASH_LEN];
    assert_int_equal(
        store_password_hash("right", 5, STORE_PW_INTERACTIVE, hash), 0);
    assert_int_equal(
        store_password_verify_or_dummy(hash, "right", 5, STORE_PW_INTERACTIVE),
        0);
    /* the first unknown name makes the dummy: not timed */
    assert_int_equal(
        store_password_verify_or_dummy(NULL, "right", 5, STORE_PW_INTERACTIVE),
        -1);
    double naive = unknown_over_wrong(naive_unknown, hash);
    double dummy = unknown_over_wrong(store_password_verify_or_dummy, hash);
    printf("unknown/wrong answer time: without the dummy %.4f, with %.3f\n",
           naive, dummy);
    assert_true(naive < 0.1); /* the probe sees the difference it hunts */
    assert_true(dummy > 0.5 && dummy < 2.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_backoff),
        cmocka_unit_test(test_thousand_guesses),
        cmocka_unit_test(test_waits_are_capped),
        cmocka_unit_test(test_one_address_many_users),
        cmocka_unit_test(test_many_addresses_one_user),
        cmocka_unit_test(test_parallel_burst),
        cmocka_unit_test(test_forget_and_bounded),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_dummy_verify),
    };
    if (getenv("SB_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("SB_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
