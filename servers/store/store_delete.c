/* store_delete.c: removing an account and everything of it in one
 * transaction: token and session, posts, friendships and invitations both
 * ways, group memberships (groups themselves stay) and mailbox. The other
 * side of each relation is found through its index, so nothing but the
 * user's own key ranges is scanned. */
#include <stdlib.h>

#include "store_internal.h"

#define DBI(x) (db->dbi[STORE_DBI_##x])

static int del_k(MDB_txn *txn, MDB_dbi dbi, const store_key *k)
{
    MDB_val kv = store_val(k->b, k->len);
    int rc = mdb_del(txn, dbi, &kv, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Drops the other side of u's relations. The names x come from @list
 * under u (values or key suffixes, per @collect); for each, the index
 * @idx (x \0 u -> seq) gives x's mirror row (x \0 seq) in @rows, and both
 * go. Friendships: list friends, idx friend_idx, rows friends. Sent
 * invitations: list inv_out (suffixes), idx inv_idx, rows inv. */
static int drop_mirrored(MDB_txn *txn, MDB_dbi list, store_scan_fn collect,
                         MDB_dbi idx, MDB_dbi rows, store_str u)
{
    store_name_vec nv = {0};
    store_key k;
    store_key_prefix(&k, u);
    int rc = store_scan(txn, list, &k, collect, &nv);
    for (size_t i = 0; rc == 0 && i < nv.n; i++) {
        store_str x = store_s(nv.v[i]);
        store_key_pair(&k, x, u);
        MDB_val kv = store_val(k.b, k.len), v;
        rc = mdb_get(txn, idx, &kv, &v);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc)
            break;
        /* read the seq before the delete: map pointers die at an update */
        uint64_t seq = v.mv_size == 8 ? store_get_u64(v.mv_data) : 0;
        if ((rc = mdb_del(txn, idx, &kv, NULL)))
            break;
        store_key_name_seq(&k, x, seq);
        rc = del_k(txn, rows, &k);
    }
    free(nv.v);
    return rc;
}

static int drop_friendships(store_db *db, MDB_txn *txn, store_str u)
{
    return drop_mirrored(txn, DBI(FRIENDS), store_collect_value,
                         DBI(FRIEND_IDX), DBI(FRIENDS), u);
}

static int drop_sent_invitations(store_db *db, MDB_txn *txn, store_str u)
{
    return drop_mirrored(txn, DBI(INV_OUT), store_collect_suffix, DBI(INV_IDX),
                         DBI(INV), u);
}

/* Invitations the user received: each inviter's inv_out (x \0 u) goes. */
static int drop_received_invitations(store_db *db, MDB_txn *txn, store_str u)
{
    store_name_vec nv = {0};
    store_key k;
    store_key_prefix(&k, u);
    int rc = store_scan(txn, DBI(INV), &k, store_collect_value, &nv);
    for (size_t i = 0; rc == 0 && i < nv.n; i++) {
        store_key_pair(&k, store_s(nv.v[i]), u);
        rc = del_k(txn, DBI(INV_OUT), &k);
    }
    free(nv.v);
    return rc;
}

static int drop_memberships(store_db *db, MDB_txn *txn, store_str u)
{
    store_name_vec nv = {0};
    store_key k;
    store_key_prefix(&k, u);
    int rc = store_scan(txn, DBI(JOINED), &k, store_collect_value, &nv);
    for (size_t i = 0; rc == 0 && i < nv.n; i++) {
        store_key_pair(&k, store_s(nv.v[i]), u);
        rc = del_k(txn, DBI(MEMBERS), &k);
    }
    free(nv.v);
    return rc;
}

int store_delete_user(store_db *db, MDB_txn *txn, store_str token, store_str u,
                      uint32_t *notices)
{
    int rc;
    store_key k;
    if ((rc = store_rooms_session_end(db, txn, u, notices)) ||
        (rc = drop_friendships(db, txn, u)) ||
        (rc = drop_received_invitations(db, txn, u)) ||
        (rc = drop_sent_invitations(db, txn, u)) ||
        (rc = drop_memberships(db, txn, u)))
        return rc;
    /* The user's own ranges, whole. */
    static const int own[] = {STORE_DBI_FRIENDS, STORE_DBI_FRIEND_IDX,
                              STORE_DBI_INV,     STORE_DBI_INV_IDX,
                              STORE_DBI_INV_OUT, STORE_DBI_JOINED,
                              STORE_DBI_POSTS,   STORE_DBI_MAIL};
    store_key_prefix(&k, u);
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if ((rc = store_del_prefix(txn, db->dbi[own[i]], &k)))
            return rc;
    store_key_name(&k, u);
    if ((rc = del_k(txn, DBI(USERS), &k)) ||
        (rc = del_k(txn, DBI(SESSIONS), &k)))
        return rc;
    store_key_name(&k, token);
    return del_k(txn, DBI(TOKENS), &k);
}
