/* test_store_labels.c: the knowledge base's commands on a real LMDB
 * environment (store_labels.h), with the clock injected: every outcome of
 * check/write/drop/show in PROTOCOL.md's priority order, the lunch
 * problem's outcomes (reserve, expire, another reserves, late write ->
 * draft; nobody touched -> late write succeeds), reservations ended by a
 * session's end (and not trusted after a logout that skipped the hook),
 * drafts kept, the per-user limit, bounded tables, and bad input that
 * changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_labels_util.h"

/* Group checks come first, then membership, then the label, then the
 * text; each refusal leaves every table as it was. */
static void test_priority_and_bad_input(void **state)
{
    tenv *t = *state;
    store_label_view v;
    uint64_t before = kb_digest(t);
    assert_int_equal(kb_check(t, "alice", "nogroup", "", T0, NULL),
                     STORE_NO_SUCH_GROUP);
    assert_int_equal(kb_check(t, "alice", "bad group", "UDP", T0, NULL),
                     STORE_NO_SUCH_GROUP);
    assert_int_equal(kb_check(t, "carol", "net", "", T0, NULL),
                     STORE_NOT_MEMBER);
    assert_int_equal(kb_write(t, "carol", "net", "UDP", "", T0),
                     STORE_NOT_MEMBER);
    assert_int_equal(kb_drop(t, "carol", "net", "\"q\""), STORE_NOT_MEMBER);
    assert_int_equal(kb_show(t, "carol", "net", "UDP", &v), STORE_NOT_MEMBER);
    store_label_view_free(&v);
    static const struct {
        const char *label;
        store_res want;
    } bad[] = {
        {"", STORE_LABEL_EMPTY},
        {"0123456789012345678901234567890123456789012345678901234567890123X",
         STORE_LABEL_TOO_LONG},
        {"say \"hi\"", STORE_LABEL_QUOTE},
        {"\xc3\x28", STORE_LABEL_NOT_PRINTABLE},
        {"tab\tlabel", STORE_LABEL_NOT_PRINTABLE},
        {"a FXGZ b", STORE_LABEL_DELIMITER},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(kb_check(t, "alice", "net", bad[i].label, T0, NULL),
                         bad[i].want);
        assert_int_equal(kb_write(t, "alice", "net", bad[i].label, "x", T0),
                         bad[i].want);
        assert_int_equal(kb_drop(t, "alice", "net", bad[i].label), bad[i].want);
        assert_int_equal(kb_show(t, "alice", "net", bad[i].label, &v),
                         bad[i].want);
        store_label_view_free(&v);
    }
    /* a NUL inside a label reaches the check (store_str carries it) */
    store_label_check_out co;
    MDB_txn *txn = kb_begin(t, 1);
    store_str nul = {"U\0P", 3};
    assert_int_equal(store_labels_check(t->db, txn, store_s("alice"),
                                        store_s("net"), nul, T0, 0, &co),
                     0);
    assert_int_equal(co.res, STORE_LABEL_NOT_PRINTABLE);
    /* a caller that passes no valid user gets an error, not an overflow */
    char huge[200];
    memset(huge, 'u', sizeof huge - 1);
    huge[sizeof huge - 1] = 0;
    assert_int_equal(store_labels_check(t->db, txn, store_s(huge),
                                        store_s("net"), store_s("UDP"), T0, 0,
                                        &co),
                     EINVAL);
    assert_int_equal(store_labels_session_end(t->db, txn, store_s(huge), NULL),
                     EINVAL);
    mdb_txn_abort(txn);
    /* the text's rules come after the label's, before the reservation */
    static char big[STORE_LABEL_TEXT_MAX + 2];
    memset(big, 't', STORE_LABEL_TEXT_MAX + 1);
    assert_int_equal(kb_write(t, "alice", "net", "UDP", big, T0),
                     STORE_TEXT_TOO_LONG);
    assert_int_equal(kb_write(t, "alice", "net", "UDP", "a\nb", T0),
                     STORE_TEXT_NOT_PRINTABLE);
    assert_int_equal(kb_write(t, "alice", "net", "UDP", "x ZGXF y", T0),
                     STORE_LABEL_DELIMITER);
    assert_int_equal(kb_write(t, "alice", "net", "UDP", "", T0),
                     STORE_INVALID_ARGUMENT);
    assert_true(kb_digest(t) == before);
    /* and the text rules still win over "Check first" when checked */
    assert_int_equal(kb_check(t, "alice", "net", "UDP", T0, NULL),
                     STORE_LABEL_NEW);
    before = kb_digest(t);
    assert_int_equal(kb_write(t, "alice", "net", "UDP", big, T0),
                     STORE_TEXT_TOO_LONG);
    assert_true(kb_digest(t) == before);
    assert_int_equal(kb_write(t, "alice", "net", "UDP", "datagrams", T0),
                     STORE_OK);
}

static void test_check_outcomes(void **state)
{
    tenv *t = *state;
    store_label_check_out o;
    assert_int_equal(kb_check(t, "alice", "net", "UDP", T0, &o),
                     STORE_LABEL_NEW);
    assert_int_equal(o.secs, LEASE_MS / 1000);
    assert_int_equal(o.rev, 0);
    /* Bob is told who and for how long (rounded up) */
    assert_int_equal(kb_check(t, "bob", "net", "UDP", T0 + 10500, &o),
                     STORE_LABEL_BUSY);
    assert_string_equal(o.holder, "alice");
    assert_int_equal(o.secs, 50);
    /* checking again renews: the lease runs from the new check */
    assert_int_equal(kb_check(t, "alice", "net", "UDP", T0 + 30000, &o),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_check(t, "bob", "net", "UDP", T0 + 80000, &o),
                     STORE_LABEL_BUSY);
    assert_int_equal(o.secs, 10);
    assert_int_equal(kb_write(t, "alice", "net", "UDP", "datagrams", T0 + 1),
                     STORE_OK);
    /* an existing label, and in another group the same name is new */
    assert_int_equal(kb_check(t, "bob", "net", "UDP", T0 + 2, &o),
                     STORE_LABEL_RESERVED);
    assert_int_equal(o.rev, 1);
    assert_int_equal(kb_check(t, "bob", "copy", "UDP", T0 + 2, &o),
                     STORE_LABEL_NEW);
    /* a label with spaces is one label */
    assert_int_equal(
        kb_check(t, "dave", "net", "Execution Environment", T0 + 3, &o),
        STORE_LABEL_NEW);
    assert_int_equal(
        kb_check(t, "bob", "net", "Execution Environment", T0 + 4, &o),
        STORE_LABEL_BUSY);
    assert_string_equal(o.holder, "dave");
}

static void test_write_and_drop_outcomes(void **state)
{
    tenv *t = *state;
    store_label_view v;
    assert_int_equal(kb_write(t, "alice", "net", "TCP", "streams", T0),
                     STORE_LABEL_UNCHECKED);
    assert_int_equal(kb_drop(t, "alice", "net", "TCP"), STORE_LABEL_UNCHECKED);
    assert_int_equal(kb_check(t, "alice", "net", "TCP", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_drop(t, "alice", "net", "TCP"), STORE_OK);
    assert_int_equal(kb_drop(t, "alice", "net", "TCP"), STORE_LABEL_UNCHECKED);
    assert_int_equal(kb_write(t, "alice", "net", "TCP", "streams", T0),
                     STORE_LABEL_UNCHECKED);
    /* a dropped label is free at once */
    assert_int_equal(kb_check(t, "bob", "net", "TCP", T0 + 1, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(
        kb_write(t, "bob", "net", "TCP", "reliable streams", T0 + 2), STORE_OK);
    /* a write ends the reservation */
    assert_int_equal(kb_write(t, "bob", "net", "TCP", "again", T0 + 3),
                     STORE_LABEL_UNCHECKED);
    assert_int_equal(kb_check(t, "alice", "net", "TCP", T0 + 4, NULL),
                     STORE_LABEL_RESERVED);
    assert_int_equal(
        kb_write(t, "alice", "net", "TCP", "reliable ordered streams", T0 + 5),
        STORE_OK);
    assert_int_equal(kb_show(t, "dave", "net", "TCP", &v), STORE_OK);
    assert_string_equal(v.text, "reliable ordered streams");
    assert_string_equal(v.author, "alice");
    assert_int_equal(v.rev, 2);
    assert_int_equal(v.id, 0);
    assert_int_equal(v.time_ms, T0 + 5);
    assert_int_equal(v.n, 0);
    store_label_view_free(&v);
    assert_int_equal(kb_show(t, "dave", "net", "SCTP", &v),
                     STORE_NO_SUCH_LABEL);
    assert_int_equal(v.n, 0);
    store_label_view_free(&v);
    assert_int_equal(kb_show(t, "dave", "copy", "TCP", &v), STORE_NOT_MEMBER);
    store_label_view_free(&v);
}

/* Alice checks UDP and goes to lunch; Bob is told who and how long;
 * after the lease Bob reserves and writes; Alice's late write is a draft
 * beside Bob's text, which stands. */
static void test_lunch_problem(void **state)
{
    tenv *t = *state;
    store_label_check_out o;
    store_label_view v;
    uint64_t lunch = T0 + LEASE_MS + 3600u * 1000u;
    assert_int_equal(kb_check(t, "alice", "net", "UDP", T0, &o),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_check(t, "bob", "net", "UDP", T0 + 1000, &o),
                     STORE_LABEL_BUSY);
    assert_int_equal(o.secs, LEASE_MS / 1000 - 1);
    assert_int_equal(kb_check(t, "bob", "net", "UDP", T0 + LEASE_MS, &o),
                     STORE_LABEL_NEW); /* the lease is over at its end */
    assert_int_equal(kb_check(t, "alice", "net", "UDP", T0 + LEASE_MS + 1, &o),
                     STORE_LABEL_BUSY); /* now Bob holds it */
    assert_string_equal(o.holder, "bob");
    assert_int_equal(kb_write(t, "bob", "net", "UDP", "unreliable datagrams",
                              T0 + LEASE_MS + 2),
                     STORE_OK);
    assert_int_equal(
        kb_write(t, "alice", "net", "UDP", "user datagram protocol", lunch),
        STORE_LABEL_DRAFTED);
    assert_int_equal(kb_show(t, "dave", "net", "UDP", &v), STORE_OK);
    assert_string_equal(v.text, "unreliable datagrams");
    assert_string_equal(v.author, "bob");
    assert_int_equal(v.n, 1);
    assert_string_equal(v.drafts[0].author, "alice");
    assert_string_equal(v.drafts[0].text, "user datagram protocol");
    assert_int_equal(v.drafts[0].time_ms, lunch);
    store_label_view_free(&v);
    /* her reservation ended with that write */
    assert_int_equal(kb_write(t, "alice", "net", "UDP", "x", lunch + 1),
                     STORE_LABEL_UNCHECKED);
    /* the conflict is resolved by a later check and write */
    assert_int_equal(kb_check(t, "alice", "net", "UDP", lunch + 2, NULL),
                     STORE_LABEL_RESERVED);
    assert_int_equal(kb_write(t, "alice", "net", "UDP",
                              "unreliable datagrams (user datagram protocol)",
                              lunch + 3),
                     STORE_OK);
    assert_int_equal(kb_show(t, "dave", "net", "UDP", &v), STORE_OK);
    assert_int_equal(v.rev, 2);
    assert_int_equal(v.n, 0); /* her own draft went with her write */
    store_label_view_free(&v);
}

/* Nobody touched UDP while Alice was away: her late write succeeds, for a
 * new label and for an existing one. */
static void test_late_write_untouched(void **state)
{
    tenv *t = *state;
    uint64_t late = T0 + 10 * LEASE_MS;
    assert_int_equal(kb_check(t, "alice", "net", "UDP", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_write(t, "alice", "net", "UDP", "datagrams", late),
                     STORE_OK);
    assert_int_equal(kb_check(t, "alice", "net", "UDP", late, NULL),
                     STORE_LABEL_RESERVED);
    /* others read it meanwhile: reading is not acting */
    assert_string_equal(kb_text(t, "net", "UDP"), "datagrams");
    assert_int_equal(kb_write(t, "alice", "net", "UDP", "datagrams, no acks",
                              late + 5 * LEASE_MS),
                     STORE_OK);
    assert_string_equal(kb_text(t, "net", "UDP"), "datagrams, no acks");
}

/* Someone reserved after Alice's lease but wrote nothing: her late write
 * is still a draft (the rule says "changed or reserved"), kept beside a
 * label that has no text yet, and show-label lists it. */
static void test_late_write_after_reservation_only(void **state)
{
    tenv *t = *state;
    store_label_view v;
    assert_int_equal(kb_check(t, "alice", "net", "QUIC", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_check(t, "bob", "net", "QUIC", T0 + LEASE_MS + 1, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_drop(t, "bob", "net", "QUIC"), STORE_OK);
    assert_int_equal(kb_write(t, "alice", "net", "QUIC", "UDP-based streams",
                              T0 + 3 * LEASE_MS),
                     STORE_LABEL_DRAFTED);
    assert_int_equal(kb_show(t, "bob", "net", "QUIC", &v), STORE_NO_SUCH_LABEL);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.drafts[0].text, "UDP-based streams");
    store_label_view_free(&v);
    /* Bob's reservation expired too, and both late writes come: the one
     * whose reservation was the latest wins, the other is a draft */
    assert_int_equal(kb_check(t, "alice", "net", "SCTP", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_check(t, "bob", "net", "SCTP", T0 + LEASE_MS, NULL),
                     STORE_LABEL_NEW);
    uint64_t late = T0 + 5 * LEASE_MS;
    assert_int_equal(kb_write(t, "alice", "net", "SCTP", "alice's", late),
                     STORE_LABEL_DRAFTED);
    assert_int_equal(kb_write(t, "bob", "net", "SCTP", "bob's", late + 1),
                     STORE_OK);
    assert_string_equal(kb_text(t, "net", "SCTP"), "bob's");
}

/* A session's end ends its reservations at once, so nobody waits; a
 * reservation whose holder has no session is not honoured even if the
 * hook was skipped. */
static void test_session_end(void **state)
{
    tenv *t = *state;
    store_label_check_out o;
    uint32_t ended = 0;
    assert_int_equal(kb_check(t, "alice", "net", "UDP", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_check(t, "alice", "net", "TCP", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_check(t, "alice", "copy", "UDP", T0, NULL),
                     STORE_LABEL_NEW);
    MDB_txn *txn = kb_begin(t, 1);
    assert_int_equal(
        store_labels_session_end(t->db, txn, store_s("alice"), &ended), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    assert_int_equal(ended, 3);
    assert_int_equal(kb_entries(t, STORE_DBI_LABEL_HELD), 0);
    assert_int_equal(kb_entries(t, STORE_DBI_LABEL_RES), 0);
    assert_int_equal(kb_check(t, "bob", "net", "UDP", T0 + 1, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_write(t, "alice", "net", "TCP", "x", T0 + 2),
                     STORE_LABEL_UNCHECKED);
    /* dave logs out through the store's own op, which (until phase 2
     * wires the hook) does not call store_labels_session_end */
    assert_int_equal(kb_check(t, "dave", "net", "ARP", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(wr(t, STORE_OP_LOGOUT, "Tdave", NULL, NULL), STORE_OK);
    assert_int_equal(kb_check(t, "bob", "net", "ARP", T0 + 1, &o),
                     STORE_LABEL_NEW);
    assert_int_equal(
        kb_write(t, "bob", "net", "ARP", "address resolution", T0 + 2),
        STORE_OK);
}

/* A deleted user's reservations, drafts and rounds go; its labels stay. */
static void test_user_delete(void **state)
{
    tenv *t = *state;
    store_label_view v;
    assert_int_equal(kb_check(t, "bob", "net", "UDP", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_write(t, "bob", "net", "UDP", "datagrams", T0), 0);
    assert_int_equal(kb_check(t, "bob", "net", "TCP", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_check(t, "alice", "net", "UDP", T0, NULL),
                     STORE_LABEL_RESERVED);
    assert_int_equal(kb_check(t, "bob", "net", "UDP", T0 + LEASE_MS, NULL),
                     STORE_LABEL_RESERVED);
    assert_int_equal(kb_write(t, "alice", "net", "UDP", "alice's", T0 + 1),
                     STORE_LABEL_DRAFTED); /* bob holds it: a draft */
    assert_int_equal(kb_check(t, "alice", "net", "ICMP", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_check(t, "bob", "net", "ICMP", T0 + LEASE_MS, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(
        kb_write(t, "alice", "net", "ICMP", "pings", T0 + LEASE_MS),
        STORE_LABEL_DRAFTED);
    /* bob gives UDP up; dave writes it; bob holds it again */
    assert_int_equal(kb_drop(t, "bob", "net", "UDP"), STORE_OK);
    assert_int_equal(kb_check(t, "dave", "net", "UDP", T0 + 2, NULL),
                     STORE_LABEL_RESERVED);
    assert_int_equal(kb_write(t, "dave", "net", "UDP", "dave's", T0 + 3), 0);
    assert_int_equal(kb_check(t, "bob", "net", "UDP", T0 + 4, NULL),
                     STORE_LABEL_RESERVED);
    assert_int_equal(kb_check(t, "dave", "net", "UDP", T0 + 5, NULL),
                     STORE_LABEL_BUSY);
    kb_hook(t, "alice", 1);
    assert_int_equal(kb_show(t, "dave", "net", "UDP", &v), STORE_OK);
    assert_string_equal(v.text, "dave's");
    assert_int_equal(v.n, 0); /* alice's draft went */
    store_label_view_free(&v);
    assert_int_equal(kb_show(t, "dave", "net", "ICMP", &v),
                     STORE_NO_SUCH_LABEL);
    assert_int_equal(v.n, 0);
    store_label_view_free(&v);
    kb_hook(t, "bob", 1);
    assert_int_equal(kb_entries(t, STORE_DBI_LABEL_HELD), 0);
    assert_int_equal(kb_entries(t, STORE_DBI_LABEL_RES), 0);
    assert_int_equal(kb_entries(t, STORE_DBI_LABEL_DRAFTS), 0);
    assert_int_equal(kb_entries(t, STORE_DBI_LABEL_DRAFT_BY), 0);
    assert_int_equal(kb_check(t, "dave", "net", "UDP", T0 + 6, NULL),
                     STORE_LABEL_RESERVED); /* bob's hold went */
    assert_int_equal(kb_entries(t, STORE_DBI_LABELS), 1);
}

/* Drafts are kept oldest first, one per author and label (an author's
 * newer draft replaces its older one). */
static void test_drafts(void **state)
{
    tenv *t = *state;
    store_label_view v;
    assert_int_equal(kb_check(t, "alice", "net", "DNS", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_write(t, "alice", "net", "DNS", "names", T0), 0);
    const char *who[] = {"bob", "dave", "bob"};
    const char *text[] = {"bob 1", "dave 1", "bob 2"};
    for (int i = 0; i < 3; i++) {
        uint64_t now = T0 + (uint64_t)(i + 1) * 10 * LEASE_MS;
        assert_int_equal(kb_check(t, who[i], "net", "DNS", now, NULL),
                         STORE_LABEL_RESERVED);
        /* alice writes meanwhile, so the late write is a draft */
        assert_int_equal(
            kb_check(t, "alice", "net", "DNS", now + LEASE_MS, NULL),
            STORE_LABEL_RESERVED);
        assert_int_equal(
            kb_write(t, "alice", "net", "DNS", "names", now + LEASE_MS), 0);
        assert_int_equal(
            kb_write(t, who[i], "net", "DNS", text[i], now + 2 * LEASE_MS),
            STORE_LABEL_DRAFTED);
    }
    assert_int_equal(kb_show(t, "alice", "net", "DNS", &v), STORE_OK);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.drafts[0].author, "dave");
    assert_string_equal(v.drafts[0].text, "dave 1");
    assert_string_equal(v.drafts[1].author, "bob");
    assert_string_equal(v.drafts[1].text, "bob 2");
    store_label_view_free(&v);
}

/* At most STORE_LABEL_HOLD_MAX reservations per user: a 65th live one is
 * refused, changing nothing; once one has ended by time, the oldest
 * ended one makes room. */
static void test_hold_limit(void **state)
{
    tenv *t = *state;
    char label[32];
    for (int i = 0; i < STORE_LABEL_HOLD_MAX; i++) {
        snprintf(label, sizeof label, "L%02d", i);
        assert_int_equal(
            kb_check(t, "bob", "net", label, T0 + (uint64_t)i, NULL),
            STORE_LABEL_NEW);
    }
    uint64_t before = kb_digest(t);
    assert_int_equal(kb_check(t, "bob", "net", "one more", T0 + 100, NULL),
                     STORE_LABEL_HOLD_MAX);
    assert_true(kb_digest(t) == before);
    /* renewing one it holds is not a new one */
    assert_int_equal(kb_check(t, "bob", "net", "L05", T0 + 200, NULL),
                     STORE_LABEL_NEW);
    /* all but L05 run out at T0 + 63 + LEASE_MS; L00 is the oldest */
    uint64_t later = T0 + 100 + LEASE_MS;
    assert_int_equal(kb_check(t, "bob", "net", "one more", later, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_entries(t, STORE_DBI_LABEL_HELD), STORE_LABEL_HOLD_MAX);
    assert_int_equal(kb_write(t, "bob", "net", "L00", "x", later),
                     STORE_LABEL_UNCHECKED);
    assert_int_equal(kb_write(t, "bob", "net", "L01", "late", later), 0);
}

/* Reservations leave no rows behind: 300 check/write and check/drop
 * cycles by three users over ten labels end with empty tables. */
static void test_tables_stay_bounded(void **state)
{
    tenv *t = *state;
    const char *users[] = {"alice", "bob", "dave"};
    char label[16];
    uint64_t now = T0;
    for (int i = 0; i < 300; i++) {
        const char *u = users[i % 3];
        snprintf(label, sizeof label, "K%d", i % 10);
        now += LEASE_MS / 7; /* some leases lapse, some are taken over */
        store_res r = kb_check(t, u, "net", label, now, NULL);
        if (r == STORE_LABEL_BUSY)
            continue;
        if (i % 4 == 0)
            assert_int_equal(kb_drop(t, u, "net", label), STORE_OK);
        else if (i % 4 == 1)
            r = kb_write(t, u, "net", label, "text", now + LEASE_MS / 2);
    }
    /* what remains are unended reservations; a session end clears them */
    for (int u = 0; u < 3; u++)
        kb_hook(t, users[u], 0);
    assert_int_equal(kb_entries(t, STORE_DBI_LABEL_HELD), 0);
    assert_int_equal(kb_entries(t, STORE_DBI_LABEL_RES), 0);
    assert_true(kb_entries(t, STORE_DBI_LABEL_DRAFTS) <= 10 * 3);
}

static void test_res_names(void **state)
{
    for (int r = 0; r < STORE_RES_COUNT; r++) {
        const char *n = store_res_name((store_res)r);
        assert_non_null(n);
        assert_string_not_equal(n, "UNKNOWN");
    }
    assert_true(store_res_commits(STORE_OK));
    assert_true(store_res_commits(STORE_LABEL_DRAFTED));
    assert_true(store_res_commits(STORE_LABEL_NEW));
    assert_true(store_res_commits(STORE_LABEL_RESERVED));
    assert_false(store_res_commits(STORE_LABEL_BUSY));
    assert_false(store_res_commits(STORE_NOT_MEMBER));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        KB_TEST(test_priority_and_bad_input),
        KB_TEST(test_check_outcomes),
        KB_TEST(test_write_and_drop_outcomes),
        KB_TEST(test_lunch_problem),
        KB_TEST(test_late_write_untouched),
        KB_TEST(test_late_write_after_reservation_only),
        KB_TEST(test_session_end),
        KB_TEST(test_user_delete),
        KB_TEST(test_drafts),
        KB_TEST(test_hold_limit),
        KB_TEST(test_tables_stay_bounded),
        cmocka_unit_test(test_res_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
