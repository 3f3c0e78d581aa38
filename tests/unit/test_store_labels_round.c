/* test_store_labels_round.c: next-label on a real LMDB environment: 10,000
 * labels with 1,000 added mid-round give every label exactly once per
 * round per user over several rounds, in both modes (a holder's cursor
 * with grants; one durable write per call), users get different orders,
 * the durable state is 21 bytes, and a round survives a restart: a lost
 * cursor skips at most one grant and never repeats, a released one and
 * the durable mode skip nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_labels_util.h"

/* Adds labels Q<from>..Q<to-1> to "net" by one import (ids = numbers). */
static void add_labels(tenv *t, uint32_t from, uint32_t to)
{
    store_buf b = {0};
    char label[16], text[32];
    for (uint32_t i = from; i < to; i++) {
        snprintf(label, sizeof label, "Q%05u", i);
        snprintf(text, sizeof text, "answer %u", i);
        assert_int_equal(store_xchg_append(&b, store_s(label), store_s(text)),
                         0);
    }
    store_label_import_out io;
    assert_int_equal(kb_import(t, "alice", "net", store_s(b.p), T0, &io),
                     STORE_OK);
    assert_int_equal(io.added, to - from);
    store_buf_free(&b);
}

/* One next-label as a holder serves it: a read, and a grant (a write,
 * adopted only once committed) when the cursor has no position left. */
static store_res next_held(tenv *t, const char *me, store_cursor *c,
                           uint32_t want, store_label_pick *out)
{
    for (int tries = 0; tries < 3; tries++) {
        MDB_txn *txn = kb_begin(t, 0);
        int rc = store_labels_next_read(t->db, txn, store_s(me), store_s("net"),
                                        c, out);
        store_read_end(t->db, txn);
        assert_int_equal(rc, 0);
        if (out->res != STORE_ROUND_NO_GRANT)
            return out->res;
        store_cursor next = *c;
        store_res res;
        txn = kb_begin(t, 1);
        rc = store_labels_round_grant(t->db, txn, store_s(me), store_s("net"),
                                      &next, want, &res);
        if (kb_end(txn, rc, res) == STORE_OK)
            *c = next;
        else
            return res;
    }
    fail_msg("no label after three grants");
    return STORE_ERR_INTERNAL;
}

/* next-label in the simple mode: one durable write per call. */
static store_res next_durable(tenv *t, const char *me, store_label_pick *out)
{
    MDB_txn *txn = kb_begin(t, 1);
    int rc = store_labels_next(t->db, txn, store_s(me), store_s("net"), out);
    return kb_end(txn, rc, out->res);
}

typedef struct tally {
    uint32_t round, given, rounds_done;
    uint8_t seen[11000];
    uint32_t first[8];
} tally;

/* Records one pick; at a round's change, the round that ended must have
 * given every label of its end (the new round's n0) exactly once. */
static void tally_pick(tally *t, const store_label_pick *p, uint32_t round,
                       uint32_t n0_of_new)
{
    char want[16];
    snprintf(want, sizeof want, "Q%05u", p->id);
    assert_string_equal(p->label, want);
    if (round != t->round) {
        if (t->round) {
            assert_int_equal(t->given, n0_of_new);
            t->rounds_done++;
        }
        memset(t->seen, 0, sizeof t->seen);
        t->round = round;
        t->given = 0;
    }
    assert_true(p->id < sizeof t->seen);
    assert_int_equal(t->seen[p->id], 0);
    t->seen[p->id] = 1;
    if (round == 1 && t->given < 8)
        t->first[t->given] = p->id;
    t->given++;
}

static void round_of(tenv *t, const char *me, store_round *s, size_t *bytes)
{
    MDB_txn *txn = kb_begin(t, 0);
    assert_int_equal(store_labels_round_get(t->db, txn, store_s(me),
                                            store_s("net"), s, bytes),
                     0);
    store_read_end(t->db, txn);
}

static void test_next_errors(void **state)
{
    tenv *t = *state;
    store_cursor c = {0};
    store_label_pick p;
    store_res res;
    assert_int_equal(next_held(t, "alice", &c, 8, &p), STORE_NO_LABELS);
    assert_int_equal(next_durable(t, "alice", &p), STORE_NO_LABELS);
    assert_int_equal(next_durable(t, "carol", &p), STORE_NOT_MEMBER);
    MDB_txn *txn = kb_begin(t, 1);
    assert_int_equal(store_labels_round_grant(t->db, txn, store_s("alice"),
                                              store_s("copy"), &c, 8, &res),
                     0);
    assert_int_equal(res, STORE_NO_LABELS);
    assert_int_equal(store_labels_round_grant(t->db, txn, store_s("carol"),
                                              store_s("net"), &c, 8, &res),
                     0);
    assert_int_equal(res, STORE_NOT_MEMBER);
    assert_int_equal(
        store_labels_next(t->db, txn, store_s("alice"), store_s("nope"), &p),
        0);
    assert_int_equal(p.res, STORE_NO_SUCH_GROUP);
    mdb_txn_abort(txn);
    add_labels(t, 0, 3);
    txn = kb_begin(t, 0);
    assert_int_equal(store_labels_next_read(t->db, txn, store_s("alice"),
                                            store_s("net"), &c, &p),
                     0);
    store_read_end(t->db, txn);
    assert_int_equal(p.res, STORE_ROUND_NO_GRANT);
    assert_int_equal(p.n, 3);
    /* a one-label round: the same label every call, each a new round */
    assert_int_equal(kb_check(t, "alice", "copy", "only", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_write(t, "alice", "copy", "only", "one", T0), 0);
    for (int i = 0; i < 3; i++) {
        txn = kb_begin(t, 1);
        assert_int_equal(
            store_labels_next(t->db, txn, store_s("bob"), store_s("copy"), &p),
            0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        assert_int_equal(p.res, STORE_OK);
        assert_string_equal(p.label, "only");
    }
}

/* 10,000 labels, 1,000 added in ten imports during the first round;
 * alice and bob hold cursors (grants of 64 and 500), dave uses the
 * durable mode; three rounds each. */
static void test_rounds_10000_plus_1000(void **state)
{
    tenv *t = *state;
    static tally tl[3];
    const char *users[3] = {"alice", "bob", "dave"};
    store_cursor c[2] = {{0}, {0}};
    uint32_t want[2] = {64, 500}, n = 10000;
    memset(tl, 0, sizeof tl);
    add_labels(t, 0, n);
    for (uint32_t step = 0; tl[0].rounds_done < 3 || tl[1].rounds_done < 3 ||
                            tl[2].rounds_done < 3;
         step++) {
        assert_true(step < 40000);
        if (step >= 1000 && step % 300 == 0 && n < 11000) {
            add_labels(t, n, n + 100); /* mid-round for every user */
            n += 100;
        }
        for (int u = 0; u < 3; u++) {
            store_label_pick p;
            store_round s;
            store_res r = u < 2 ? next_held(t, users[u], &c[u], want[u], &p)
                                : next_durable(t, users[u], &p);
            assert_int_equal(r, STORE_OK);
            assert_int_equal(p.n, n);
            round_of(t, users[u], &s, NULL);
            /* a holder's round is its cursor's; dave's is the stored one */
            uint32_t round = u < 2 ? c[u].round : s.round;
            tally_pick(&tl[u], &p, round, u < 2 ? c[u].n0 : s.n0);
        }
    }
    assert_int_equal(n, 11000);
    assert_memory_not_equal(tl[0].first, tl[1].first, sizeof tl[0].first);
    assert_memory_not_equal(tl[1].first, tl[2].first, sizeof tl[0].first);
    /* the durable state per (user, group), measured as stored */
    for (int u = 0; u < 3; u++) {
        store_round s;
        size_t bytes;
        round_of(t, users[u], &s, &bytes);
        assert_int_equal(bytes, STORE_ROUND_BYTES);
        assert_true(bytes <= 64);
        assert_true(s.round >= 3);
        assert_int_equal(s.n0, 11000);
    }
    print_message("round state per (user, group): %d bytes in LMDB, %zu in "
                  "the holder's cursor\n",
                  STORE_ROUND_BYTES, sizeof(store_cursor));
}

static void reopen(tenv *t)
{
    store_opts o = {.nosync = 1, .map_size = (size_t)256 << 20};
    tenv_close(t, 0);
    assert_int_equal(tenv_open(t, &o), 0);
}

/* A round across restarts: alice's cursor is lost (crash), bob releases
 * his before the stop (clean), dave is durable per call. */
static void test_round_survives_restart(void **state)
{
    tenv *t = *state;
    static uint8_t seen[3][2000];
    const char *users[3] = {"alice", "bob", "dave"};
    store_cursor c[2] = {{0}, {0}};
    uint32_t given[3] = {0, 0, 0}, n = 2000;
    memset(seen, 0, sizeof seen);
    add_labels(t, 0, n);
    for (int phase = 0; phase < 4; phase++) {
        for (uint32_t i = 0; i < 700; i++) {
            for (int u = 0; u < 3; u++) {
                store_label_pick p;
                store_res r = u < 2 ? next_held(t, users[u], &c[u], 64, &p)
                                    : next_durable(t, users[u], &p);
                assert_int_equal(r, STORE_OK);
                uint32_t round = u < 2 ? c[u].round : 0;
                if (u == 2) {
                    store_round s;
                    round_of(t, users[u], &s, NULL);
                    round = s.round;
                }
                if (round != 1)
                    continue;                       /* only round 1 is judged */
                assert_int_equal(seen[u][p.id], 0); /* never repeated */
                seen[u][p.id] = 1;
                given[u]++;
            }
        }
        /* bob stops cleanly: his unused positions go back */
        MDB_txn *txn = kb_begin(t, 1);
        store_res res;
        assert_int_equal(store_labels_round_release(t->db, txn, store_s("bob"),
                                                    store_s("net"), &c[1],
                                                    &res),
                         0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        assert_int_equal(res, STORE_OK);
        assert_int_equal(c[1].round, 0);
        reopen(t);
        memset(&c[0], 0, sizeof c[0]); /* alice's server crashed */
    }
    /* 2800 calls each: round 1 is over for all three */
    assert_int_equal(given[1], n);       /* released: nothing skipped */
    assert_int_equal(given[2], n);       /* durable per call: nothing skipped */
    assert_true(given[0] < n);           /* lost cursors: some skipped ... */
    assert_true(given[0] >= n - 3 * 64); /* ... at most a grant a crash */
}

/* A session that moves carries its 24-byte cursor: the new server goes
 * on exactly where the old one was. */
static void test_cursor_moves_with_session(void **state)
{
    tenv *t = *state;
    static uint8_t seen[500];
    store_cursor here = {0}, there = {0};
    store_label_pick p;
    memset(seen, 0, sizeof seen);
    add_labels(t, 0, 500);
    for (int i = 0; i < 500; i++) {
        if (i == 250) {
            there = here; /* migration: the agent state travels */
            memset(&here, 0, sizeof here);
        }
        assert_int_equal(next_held(t, "bob", i < 250 ? &here : &there, 100, &p),
                         STORE_OK);
        assert_int_equal(seen[p.id], 0);
        seen[p.id] = 1;
    }
    assert_int_equal(there.round, 1);
    assert_int_equal(there.pos, 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        KB_TEST(test_next_errors),
        KB_TEST(test_rounds_10000_plus_1000),
        KB_TEST(test_round_survives_restart),
        KB_TEST(test_cursor_moves_with_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
