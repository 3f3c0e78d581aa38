/* test_store_round.c: next-label's pure round arithmetic (store_round.h):
 * the keyed permutation is a bijection for every size and seed, a round
 * gives every label exactly once including 1,000 added mid-round to
 * 10,000, rounds follow rounds, users get different orders, a lost cursor
 * (crash) skips but never repeats, a released one skips nothing, two
 * cursors racing for one user never repeat, and the state's size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_round.h"

static void check_bijection(uint64_t seed, uint32_t n)
{
    uint8_t *seen = calloc(n ? n : 1, 1);
    assert_non_null(seen);
    for (uint32_t x = 0; x < n; x++) {
        uint32_t y = store_perm(seed, n, x);
        assert_true(y < n);
        assert_int_equal(seen[y], 0);
        seen[y] = 1;
    }
    free(seen);
}

static void test_perm_bijection(void **state)
{
    static const uint64_t seeds[] = {0, 1, 0xdeadbeefcafef00dull};
    static const uint32_t big[] = {1023,  1024,  1025,   4097,
                                   10000, 65537, 100000, 131072};
    for (size_t s = 0; s < 3; s++) {
        for (uint32_t n = 0; n <= 600; n++)
            check_bijection(seeds[s], n);
        for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
            check_bijection(seeds[s], big[i]);
    }
    /* out of range positions are returned unchanged, never mapped */
    assert_int_equal(store_perm(7, 10, 10), 10);
    assert_int_equal(store_perm(7, 0, 3), 3);
}

/* Two seeds give different orders: few positions agree (a random pair of
 * permutations agrees on ~1 position). */
static void test_perm_seeds_differ(void **state)
{
    uint32_t n = 10000, same = 0, fixed = 0;
    for (uint32_t x = 0; x < n; x++) {
        same += store_perm(11, n, x) == store_perm(12, n, x);
        fixed += store_perm(11, n, x) == x;
    }
    assert_true(same < 20);
    assert_true(fixed < 20);
}

/* The holder's side of next-label: the next id, asking for a grant (as
 * the store would, with a fresh seed) when the cursor has none. */
static uint32_t next_id(store_round *s, store_cursor *c, uint32_t n,
                        uint32_t want, uint64_t *seeds)
{
    uint32_t id;
    for (int tries = 0; tries < 3; tries++) {
        if (store_cursor_next(c, n, &id))
            return id;
        store_round_grant(s, c, n, want, (*seeds)++);
    }
    fail_msg("no id after three grants");
    return 0;
}

/* One user's view: which ids it got in its current round. */
typedef struct tally {
    uint32_t round, given;
    uint8_t seen[16384];
    uint32_t first[8]; /* the first ids of round 1, to compare orders */
    uint32_t rounds_done;
} tally;

static void tally_add(tally *t, const store_cursor *c, uint32_t id)
{
    if (c->round != t->round) {
        /* The round that ended gave every label once: the new round's n0
         * is the number of labels when it ended. */
        if (t->round) {
            assert_int_equal(t->given, c->n0);
            t->rounds_done++;
        }
        memset(t->seen, 0, sizeof t->seen);
        t->given = 0;
        t->round = c->round;
    }
    assert_true(id < sizeof t->seen);
    assert_int_equal(t->seen[id], 0); /* never twice in a round */
    t->seen[id] = 1;
    if (t->round == 1 && t->given < 8)
        t->first[t->given] = id;
    t->given++;
}

/* 10,000 labels, 1,000 more added one by one during round 1, three
 * users, three rounds each: every label exactly once per round per user. */
static void test_rounds_with_labels_added(void **state)
{
    enum { USERS = 3 };
    static tally t[USERS];
    store_round s[USERS];
    store_cursor c[USERS];
    uint64_t seeds = 100;
    uint32_t n = 10000;
    memset(t, 0, sizeof t);
    memset(s, 0, sizeof s);
    memset(c, 0, sizeof c);
    for (uint32_t step = 0; step < 3u * 11000u; step++) {
        if (step % 5 == 0 && n < 11000)
            n++; /* a label added mid-round */
        for (int u = 0; u < USERS; u++) {
            uint32_t id =
                next_id(&s[u], &c[u], n, 1 + (uint32_t)u * 50, &seeds);
            assert_true(id < n);
            tally_add(&t[u], &c[u], id);
        }
    }
    for (int u = 0; u < USERS; u++)
        assert_true(t[u].rounds_done >= 2);
    /* round 2 began with every label added in round 1 counted in n0 */
    assert_int_equal(s[0].n0, 11000);
    assert_memory_not_equal(t[0].first, t[1].first, sizeof t[0].first);
    assert_memory_not_equal(t[1].first, t[2].first, sizeof t[0].first);
}

/* The cursor is lost (its holder crashed) and a zeroed one asks again:
 * the round goes on from the durable mark, skipping at most one grant. */
static void test_lost_cursor_skips_never_repeats(void **state)
{
    static uint8_t seen[5000];
    store_round s = {0};
    store_cursor c = {0};
    uint64_t seeds = 1;
    uint32_t n = 5000, given = 0, crashes = 0;
    memset(seen, 0, sizeof seen);
    while (s.round <= 1) {
        uint32_t id = next_id(&s, &c, n, 64, &seeds);
        if (c.round != 1)
            break;
        assert_int_equal(seen[id], 0);
        seen[id] = 1;
        given++;
        if (given % 700 == 0) {
            memset(&c, 0, sizeof c);
            crashes++;
        }
    }
    assert_true(crashes >= 6);
    assert_true(given < n);
    assert_true(given >= n - crashes * 64);
}

/* A clean end gives the unused positions back: nothing is skipped. */
static void test_release_skips_nothing(void **state)
{
    static uint8_t seen[3000];
    store_round s = {0};
    store_cursor c = {0};
    uint64_t seeds = 9;
    uint32_t n = 3000, given = 0;
    memset(seen, 0, sizeof seen);
    for (;;) {
        uint32_t id = next_id(&s, &c, n, 100, &seeds);
        if (c.round != 1)
            break;
        assert_int_equal(seen[id], 0);
        seen[id] = 1;
        if (++given % 333 == 0) {
            assert_int_equal(store_round_release(&s, &c), 1);
            assert_int_equal(c.round, 0); /* a released cursor is gone */
        }
    }
    assert_int_equal(given, n);
    /* a superseded cursor cannot move the mark back */
    store_cursor old = c;
    store_cursor other = {0};
    store_round_grant(&s, &other, n, 10, seeds++);
    uint32_t mark = s.mark;
    assert_int_equal(store_round_release(&s, &old), 0);
    assert_int_equal(s.mark, mark);
}

/* Two holders of one user's round (a session that moved while the old
 * server still ran) interleave: no id twice within a round. */
static void test_two_cursors_never_repeat(void **state)
{
    static uint8_t seen[4000];
    store_round s = {0};
    store_cursor a = {0}, b = {0};
    uint64_t seeds = 5;
    uint32_t n = 4000, given = 0;
    memset(seen, 0, sizeof seen);
    for (uint32_t i = 0; i < 2 * n; i++) {
        store_cursor *c = (i / 7) % 2 ? &a : &b;
        uint32_t id = next_id(&s, c, n, 16 + i % 40, &seeds);
        if (c->round != 1)
            break;
        assert_int_equal(seen[id], 0);
        seen[id] = 1;
        given++;
    }
    assert_true(given > n / 2);
}

/* The holder asks for its next grant early (prefetch): the grant extends
 * its own, it keeps its position, and the ids go on in order. */
static void test_prefetch_is_contiguous(void **state)
{
    store_round s = {0};
    store_cursor c = {0};
    uint32_t id;
    store_round_grant(&s, &c, 1000, 32, 77);
    assert_int_equal(c.pos, 0);
    assert_int_equal(c.end, 32);
    for (int i = 0; i < 20; i++)
        assert_int_equal(store_cursor_next(&c, 1000, &id), 1);
    assert_int_equal(store_cursor_low(&c, 16), 1);
    assert_int_equal(store_cursor_low(&c, 8), 0);
    store_round_grant(&s, &c, 1000, 32, 78);
    assert_int_equal(c.pos, 20);
    assert_int_equal(c.end, 64);
    assert_int_equal(s.mark, 64);
    assert_int_equal(c.seed, 77); /* same round, same seed */
    /* the mark has run past every label (40), but the cursor still holds
     * some: asking again continues the round, it does not start one */
    store_round_grant(&s, &c, 40, 32, 79);
    assert_int_equal(c.round, 1);
    assert_int_equal(c.pos, 20);
    assert_int_equal(c.end, 96);
    for (int i = 20; i < 40; i++)
        assert_int_equal(store_cursor_next(&c, 40, &id), 1);
    assert_int_equal(store_cursor_next(&c, 40, &id), 0); /* all given */
    store_round_grant(&s, &c, 40, 32, 80);
    assert_int_equal(c.round, 2);
    assert_int_equal(c.seed, 80);
    assert_int_equal(c.n0, 40);
    assert_int_equal(c.pos, 0);
}

/* A grant asked for ahead of need comes back while the cursor goes on:
 * adopting it extends the cursor, never winds it back. */
static void test_adopt_prefetched_grant(void **state)
{
    static uint8_t seen[3000];
    store_round s = {0};
    store_cursor c = {0}, asked = {0}, granted = {0};
    uint64_t seeds = 3;
    uint32_t n = 3000, given = 0, id, adopted = 0;
    int in_flight = 0, age = 0;
    memset(seen, 0, sizeof seen);
    store_round_grant(&s, &c, n, 32, seeds++);
    while (c.round == 1) {
        if (!in_flight && store_cursor_low(&c, 16)) {
            asked = granted = c; /* the grant runs on a copy ... */
            store_round_grant(&s, &granted, n, 32, seeds++);
            in_flight = 1;
            age = 0;
        }
        if (in_flight && ++age == 5) { /* ... and commits five calls later */
            store_cursor_adopt(&c, &asked, &granted);
            in_flight = 0;
            adopted++;
        }
        if (!store_cursor_next(&c, n, &id)) {
            if (in_flight)
                continue; /* waits for the grant in flight */
            store_round_grant(&s, &c, n, 32, seeds++);
            continue;
        }
        assert_int_equal(seen[id], 0);
        seen[id] = 1;
        given++;
    }
    assert_int_equal(given, n); /* nothing skipped, nothing twice */
    assert_true(adopted > 50);
    /* a grant that jumped (another holder took positions meanwhile)
     * replaces the cursor */
    store_cursor a = {0}, b = {0};
    store_round_grant(&s, &a, n, 10, seeds++);
    asked = granted = a;
    store_round_grant(&s, &b, n, 10, seeds++); /* someone else's */
    store_round_grant(&s, &granted, n, 10, seeds++);
    assert_int_not_equal(granted.pos, asked.pos);
    store_cursor_adopt(&a, &asked, &granted);
    assert_int_equal(a.pos, granted.pos);
    assert_int_equal(a.end, granted.end);
}

static void test_state_size(void **state)
{
    store_round s = {.seed = 0x0123456789abcdefull,
                     .round = 7,
                     .n0 = 50000,
                     .mark = 4242},
                d;
    unsigned char b[STORE_ROUND_BYTES];
    store_round_encode(&s, b);
    assert_int_equal(store_round_decode(b, sizeof b, &d), 0);
    assert_true(d.seed == s.seed);
    assert_int_equal(d.round, 7);
    assert_int_equal(d.n0, 50000);
    assert_int_equal(d.mark, 4242);
    assert_true(STORE_ROUND_BYTES <= 64);
    assert_true(sizeof(store_cursor) <= 64);
    print_message("durable round state: %d bytes; holder's cursor: %zu bytes\n",
                  STORE_ROUND_BYTES, sizeof(store_cursor));
    b[0] = STORE_ROUND_VERSION + 1; /* another permutation: not continued */
    assert_int_equal(store_round_decode(b, sizeof b, &d), -1);
    assert_int_equal(d.round, 0);
    assert_int_equal(store_round_decode(b, sizeof b - 1, &d), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perm_bijection),
        cmocka_unit_test(test_perm_seeds_differ),
        cmocka_unit_test(test_rounds_with_labels_added),
        cmocka_unit_test(test_lost_cursor_skips_never_repeats),
        cmocka_unit_test(test_release_skips_nothing),
        cmocka_unit_test(test_two_cursors_never_repeat),
        cmocka_unit_test(test_prefetch_is_contiguous),
        cmocka_unit_test(test_adopt_prefetched_grant),
        cmocka_unit_test(test_state_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
