/* test_labels_util.h: scaffolding for the knowledge base's data-layer
 * tests: a real LMDB environment with users, groups and members made by
 * the store's own ops (test_store_util.h), and one-line wrappers that run
 * one labels command in its own transaction the way store_db_apply does
 * (kept only when store_res_commits), with the clock given by the test. */
#ifndef TEST_LABELS_UTIL_H
#define TEST_LABELS_UTIL_H

#include "store_internal.h"
#include "store_labels.h"
#include "test_store_util.h"

#define LEASE_MS 60000u /* a minute: tests move the clock, not sleep */
#define T0 1000000000u  /* the tests' epoch */

/* Users alice, bob and dave in group "net" (alice's) and "copy" (alice
 * and bob); carol in no group. */
static inline int kb_setup(tenv *t)
{
    store_opts o = {.nosync = 1, .map_size = (size_t)256 << 20};
    memset(t, 0, sizeof *t);
    if (tenv_open(t, &o))
        return -1;
    const char *users[] = {"alice", "bob", "carol", "dave"};
    for (int i = 0; i < 4; i++)
        if (reg_login(t, users[i]) != STORE_OK)
            return -1;
    if (wr(t, STORE_OP_CREATE_GROUP, "Talice", "net", NULL) ||
        wr(t, STORE_OP_JOIN_GROUP, "Tbob", "net", NULL) ||
        wr(t, STORE_OP_JOIN_GROUP, "Tdave", "net", NULL) ||
        wr(t, STORE_OP_CREATE_GROUP, "Talice", "copy", NULL) ||
        wr(t, STORE_OP_JOIN_GROUP, "Tbob", "copy", NULL))
        return -1;
    return 0;
}

/* cmocka fixtures: a fresh environment per test, removed after it. */
static int kb_fixture_setup(void **state)
{
    static tenv t;
    if (kb_setup(&t))
        return -1;
    *state = &t;
    return 0;
}

static int kb_fixture_teardown(void **state)
{
    tenv_close(*state, 1);
    return 0;
}

#define KB_TEST(f)                                                             \
    cmocka_unit_test_setup_teardown(f, kb_fixture_setup, kb_fixture_teardown)

static inline MDB_txn *kb_begin(tenv *t, int write)
{
    MDB_txn *txn = NULL;
    if (write)
        assert_int_equal(mdb_txn_begin(store_db_env(t->db), NULL, 0, &txn), 0);
    else
        assert_int_equal(store_read_begin(t->db, &txn), 0);
    return txn;
}

/* Ends a write the way store_db_apply ends an op's child txn. */
static inline store_res kb_end(MDB_txn *txn, int rc, store_res res)
{
    assert_int_equal(rc, 0);
    if (store_res_commits(res))
        assert_int_equal(mdb_txn_commit(txn), 0);
    else
        mdb_txn_abort(txn);
    return res;
}

static inline store_res kb_check(tenv *t, const char *me, const char *g,
                                 const char *label, uint64_t now,
                                 store_label_check_out *out)
{
    store_label_check_out tmp;
    out = out ? out : &tmp;
    MDB_txn *txn = kb_begin(t, 1);
    int rc = store_labels_check(t->db, txn, store_s(me), store_s(g),
                                store_s(label), now, LEASE_MS, out);
    return kb_end(txn, rc, out->res);
}

static inline store_res kb_write(tenv *t, const char *me, const char *g,
                                 const char *label, const char *text,
                                 uint64_t now)
{
    store_label_write_out out;
    MDB_txn *txn = kb_begin(t, 1);
    int rc = store_labels_write(t->db, txn, store_s(me), store_s(g),
                                store_s(label), store_s(text), now, &out);
    return kb_end(txn, rc, out.res);
}

static inline store_res kb_drop(tenv *t, const char *me, const char *g,
                                const char *label)
{
    store_res res;
    MDB_txn *txn = kb_begin(t, 1);
    int rc = store_labels_drop(t->db, txn, store_s(me), store_s(g),
                               store_s(label), &res);
    return kb_end(txn, rc, res);
}

static inline store_res kb_import(tenv *t, const char *me, const char *g,
                                  store_str data, uint64_t now,
                                  store_label_import_out *out)
{
    store_label_import_out tmp;
    out = out ? out : &tmp;
    MDB_txn *txn = kb_begin(t, 1);
    int rc = store_labels_import(t->db, txn, store_s(me), store_s(g), data, now,
                                 out);
    return kb_end(txn, rc, out->res);
}

/* show-label; the view is the caller's to free. */
static inline store_res kb_show(tenv *t, const char *me, const char *g,
                                const char *label, store_label_view *v)
{
    MDB_txn *txn = kb_begin(t, 0);
    int rc = store_labels_show(t->db, txn, store_s(me), store_s(g),
                               store_s(label), v);
    store_read_end(t->db, txn);
    assert_int_equal(rc, 0);
    return v->res;
}

/* The current text of a label ("" when it has none). */
static inline const char *kb_text(tenv *t, const char *g, const char *label)
{
    static char buf[STORE_LABEL_TEXT_MAX + 1];
    store_label_view v;
    buf[0] = 0;
    if (kb_show(t, "alice", g, label, &v) == STORE_OK)
        snprintf(buf, sizeof buf, "%s", v.text);
    store_label_view_free(&v);
    return buf;
}

/* A run of a session-end or delete hook in its own txn. */
static inline void kb_hook(tenv *t, const char *me, int delete_user)
{
    MDB_txn *txn = kb_begin(t, 1);
    int rc = delete_user
                 ? store_labels_user_delete(t->db, txn, store_s(me))
                 : store_labels_session_end(t->db, txn, store_s(me), NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

/* Entries in one of the store's tables. */
static inline size_t kb_entries(tenv *t, int dbi)
{
    MDB_stat st;
    MDB_txn *txn = kb_begin(t, 0);
    assert_int_equal(mdb_stat(txn, t->db->dbi[dbi], &st), 0);
    store_read_end(t->db, txn);
    return st.ms_entries;
}

/* A digest of every knowledge-base table and the global sequence: equal
 * digests mean a command changed nothing. */
static inline uint64_t kb_digest(tenv *t)
{
    uint64_t h = 1469598103934665603ull;
    MDB_txn *txn = kb_begin(t, 0);
    for (int d = STORE_DBI_LABELS; d <= STORE_DBI_LABEL_ROUND; d++) {
        MDB_cursor *c;
        MDB_val k, v;
        assert_int_equal(mdb_cursor_open(txn, t->db->dbi[d], &c), 0);
        for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            for (size_t i = 0; i < k.mv_size; i++)
                h = (h ^ ((unsigned char *)k.mv_data)[i]) * 1099511628211ull;
            for (size_t i = 0; i < v.mv_size; i++)
                h = (h ^ ((unsigned char *)v.mv_data)[i]) * 1099511628211ull;
            h = (h ^ (uint64_t)d) * 1099511628211ull;
        }
        mdb_cursor_close(c);
    }
    MDB_val k = store_val("seq", 3), v;
    if (mdb_get(txn, t->db->dbi[STORE_DBI_META], &k, &v) == 0)
        h ^= store_get_u64(v.mv_data);
    store_read_end(t->db, txn);
    return h;
}

#endif
