/* test_draw_perm.c: the seed → permutation shuffle (draw_perm.c). Known
 * answers were computed by an independent Python implementation (the
 * `cryptography` package's ChaCha20, Lemire and Fisher–Yates written out),
 * so a change to the on-disk-relevant algorithm fails here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "draw_perm.h"

static void seed_counting(uint8_t seed[DRAW_SEED_BYTES])
{
    for (int i = 0; i < DRAW_SEED_BYTES; i++)
        seed[i] = (uint8_t)i;
}

/* seed_i = BLAKE2b-256 of i: many distinct, reproducible seeds. */
static void seed_from_index(uint32_t i, uint8_t seed[DRAW_SEED_BYTES])
{
    crypto_generichash(seed, DRAW_SEED_BYTES, (const uint8_t *)&i, sizeof i,
                       NULL, 0);
}

static void assert_is_permutation(const uint32_t *perm, uint32_t n)
{
    uint8_t *seen = calloc(n + 1, 1);
    assert_non_null(seen);
    for (uint32_t i = 0; i < n; i++) {
        assert_in_range(perm[i], 1, n);
        assert_int_equal(seen[perm[i]], 0);
        seen[perm[i]] = 1;
    }
    free(seen);
}

static void test_known_answer_small(void **state)
{
    (void)state;
    static const uint32_t want[20] = {16, 6,  3,  20, 1,  18, 2, 15, 4, 14,
                                      13, 11, 19, 17, 12, 7,  5, 9,  8, 10};
    uint8_t seed[DRAW_SEED_BYTES];
    uint32_t perm[20];
    char fp[DRAW_FINGERPRINT_CHARS + 1];
    seed_counting(seed);
    assert_int_equal(draw_perm_build(seed, 20, perm), 0);
    assert_memory_equal(perm, want, sizeof want);
    draw_perm_fingerprint(seed, fp);
    assert_string_equal(fp, "cb2f5160fc1f7e05");
}

/* 100000 entries span many 4 KiB keystream chunks and rejections. */
static void test_known_answer_default_size(void **state)
{
    (void)state;
    static const uint32_t head[8] = {35612, 70303, 49692, 33377,
                                     52838, 72626, 46534, 882};
    static const uint32_t tail[4] = {28629, 46490, 41446, 48896};
    uint8_t seed[DRAW_SEED_BYTES];
    uint32_t *perm = malloc(100000 * sizeof *perm);
    assert_non_null(perm);
    seed_counting(seed);
    assert_int_equal(draw_perm_build(seed, 100000, perm), 0);
    assert_memory_equal(perm, head, sizeof head);
    assert_memory_equal(perm + 100000 - 4, tail, sizeof tail);
    assert_is_permutation(perm, 100000);
    free(perm);
}

static void test_same_seed_same_perm_other_seed_differs(void **state)
{
    (void)state;
    const uint32_t n = 100000;
    uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    uint32_t *c = malloc(n * sizeof *c);
    assert_true(a && b && c);
    uint8_t s1[DRAW_SEED_BYTES], s2[DRAW_SEED_BYTES];
    seed_from_index(1, s1);
    seed_from_index(2, s2);
    assert_int_equal(draw_perm_build(s1, n, a), 0);
    assert_int_equal(draw_perm_build(s1, n, b), 0);
    assert_int_equal(draw_perm_build(s2, n, c), 0);
    assert_memory_equal(a, b, n * sizeof *a);
    assert_is_permutation(a, n);
    assert_is_permutation(c, n);
    uint32_t same = 0; /* two random permutations agree in ~1 place */
    for (uint32_t i = 0; i < n; i++)
        same += a[i] == c[i];
    assert_true(same < 20);
    char f1[DRAW_FINGERPRINT_CHARS + 1], f2[DRAW_FINGERPRINT_CHARS + 1];
    draw_perm_fingerprint(s1, f1);
    draw_perm_fingerprint(s2, f2);
    assert_int_equal(strlen(f1), DRAW_FINGERPRINT_CHARS);
    assert_string_not_equal(f1, f2);
    free(a);
    free(b);
    free(c);
}

static void test_edge_sizes(void **state)
{
    (void)state;
    uint8_t seed[DRAW_SEED_BYTES];
    uint32_t perm[1000];
    seed_from_index(7, seed);
    assert_int_equal(draw_perm_build(seed, 0, perm), EINVAL);
    for (uint32_t n = 1; n <= 1000; n = n * 3 + 1) {
        assert_int_equal(draw_perm_build(seed, n, perm), 0);
        assert_is_permutation(perm, n);
    }
}

/* Unbiasedness, coarsely: over 30000 seeds, each (position, value) cell of
 * a 5-permutation should hold ~6000. Chi-square with 16 degrees of freedom
 * (5x5 table with fixed margins) has p = 1e-6 at ~53; a biased sampler (say
 * plain modulo on a small range, or the naive "swap with any" shuffle)
 * lands far above. The seeds are fixed, so the result is reproducible. */
static void test_uniform_positions(void **state)
{
    (void)state;
    enum { N = 5, SEEDS = 30000 };
    uint32_t count[N][N] = {{0}}, perm[N];
    uint8_t seed[DRAW_SEED_BYTES];
    for (uint32_t s = 0; s < SEEDS; s++) {
        seed_from_index(1000 + s, seed);
        assert_int_equal(draw_perm_build(seed, N, perm), 0);
        for (int i = 0; i < N; i++)
            count[i][perm[i] - 1]++;
    }
    double chi = 0, expect = (double)SEEDS / N;
    for (int i = 0; i < N; i++)
        for (int v = 0; v < N; v++)
            chi += (count[i][v] - expect) * (count[i][v] - expect) / expect;
    assert_true(chi < 53.0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer_small),
        cmocka_unit_test(test_known_answer_default_size),
        cmocka_unit_test(test_same_seed_same_perm_other_seed_differs),
        cmocka_unit_test(test_edge_sizes),
        cmocka_unit_test(test_uniform_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
