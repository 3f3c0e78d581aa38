/* store_labels_round.c: next-label in the store: the durable half of each
 * (user, group) round (label_round: 21 bytes, store_round.h) and the two
 * ways to serve it. Fast: the holder of the session keeps a cursor, each
 * call is a read (store_labels_next_read) and a write is needed once per
 * grant, which the holder can ask for ahead of need, so no call waits for
 * an fsync. Simple: store_labels_next, one durable write per call. Both
 * share one rule (store_round_grant), so they may even be mixed. */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "store_labels_internal.h"

static void round_key(store_kb_key *k, store_str me, store_str group)
{
    store_kb_key_start(k, me);
    store_kb_key_add(k, group);
}

/* The durable round (zeroed when there is none, or of another version). */
static int round_load(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_round *s, size_t *bytes)
{
    store_kb_key k;
    round_key(&k, me, group);
    MDB_val kv = store_kb_key_val(&k), v;
    int rc = mdb_get(txn, LDBI(LABEL_ROUND), &kv, &v);
    memset(s, 0, sizeof *s);
    if (bytes)
        *bytes = rc == 0 ? v.mv_size : 0;
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    store_round_decode(v.mv_data, v.mv_size, s); /* bad: a new round */
    return 0;
}

static int round_save(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      const store_round *s)
{
    store_kb_key k;
    unsigned char b[STORE_ROUND_BYTES];
    round_key(&k, me, group);
    store_round_encode(s, b);
    MDB_val kv = store_kb_key_val(&k), v = store_val(b, sizeof b);
    return mdb_put(txn, LDBI(LABEL_ROUND), &kv, &v, 0);
}

/* Access, then the group's label count; STORE_NO_LABELS when 0. */
static int round_begin(store_db *db, MDB_txn *txn, store_str me,
                       store_str group, uint32_t *n, store_res *res)
{
    int rc = store_labels_access(db, txn, me, group, res);
    if (rc || *res != STORE_OK)
        return rc;
    if ((rc = store_kb_count(db, txn, group, n)))
        return rc;
    if (*n == 0)
        *res = STORE_NO_LABELS;
    return 0;
}

/* The label with id @id into @out. */
static int label_at(store_db *db, MDB_txn *txn, store_str group, uint32_t id,
                    store_label_pick *out)
{
    store_kb_key k;
    store_kb_key_start(&k, group);
    store_kb_key_u64(&k, id);
    MDB_val kv = store_kb_key_val(&k), v;
    int rc = mdb_get(txn, LDBI(LABEL_IDS), &kv, &v);
    if (rc)
        return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc; /* ids are dense */
    if (v.mv_size == 0 || v.mv_size > STORE_LABEL_MAX)
        return MDB_CORRUPTED;
    memcpy(out->label, v.mv_data, v.mv_size);
    out->label[v.mv_size] = 0;
    out->id = id;
    return 0;
}

/* A random key for the round the grant begins, if it begins one (a
 * getrandom call is not free: only then). */
static uint64_t seed_for(const store_round *s, const store_cursor *c,
                         uint32_t n)
{
    uint64_t seed = 0;
    if (store_round_renews(s, c, n))
        randombytes_buf(&seed, sizeof seed);
    return seed;
}

int store_labels_next_read(store_db *db, MDB_txn *txn, store_str me,
                           store_str group, store_cursor *c,
                           store_label_pick *out)
{
    uint32_t id;
    memset(out, 0, sizeof *out);
    int rc = round_begin(db, txn, me, group, &out->n, &out->res);
    if (rc || out->res != STORE_OK)
        return rc;
    if (!store_cursor_next(c, out->n, &id)) {
        out->res = STORE_ROUND_NO_GRANT;
        return 0;
    }
    return label_at(db, txn, group, id, out);
}

int store_labels_round_grant(store_db *db, MDB_txn *txn, store_str me,
                             store_str group, store_cursor *c, uint32_t want,
                             store_res *res)
{
    store_round s;
    uint32_t n;
    int rc = round_begin(db, txn, me, group, &n, res);
    if (rc || *res != STORE_OK || (rc = round_load(db, txn, me, group, &s, 0)))
        return rc;
    store_round_grant(&s, c, n, want, seed_for(&s, c, n));
    return round_save(db, txn, me, group, &s);
}

int store_labels_round_release(store_db *db, MDB_txn *txn, store_str me,
                               store_str group, store_cursor *c, store_res *res)
{
    store_round s;
    int rc = store_labels_access(db, txn, me, group, res);
    if (rc || *res != STORE_OK || (rc = round_load(db, txn, me, group, &s, 0)))
        return rc;
    if (!store_round_release(&s, c))
        return 0;
    return round_save(db, txn, me, group, &s);
}

int store_labels_next(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_label_pick *out)
{
    store_round s;
    uint32_t id;
    memset(out, 0, sizeof *out);
    int rc = round_begin(db, txn, me, group, &out->n, &out->res);
    if (rc || out->res != STORE_OK ||
        (rc = round_load(db, txn, me, group, &s, 0)))
        return rc;
    /* A cursor that holds nothing and whose grant is the latest: each
     * grant of one position is contiguous, so this walks the round. */
    store_cursor c = {s.seed, s.round, s.n0, s.mark, s.mark};
    int got = 0;
    for (int tries = 0; !got && tries < 3; tries++) {
        if (!(got = store_cursor_next(&c, out->n, &id)))
            store_round_grant(&s, &c, out->n, 1, seed_for(&s, &c, out->n));
    }
    if (!got)
        return MDB_CORRUPTED; /* unreachable: a grant always gives one */
    if ((rc = round_save(db, txn, me, group, &s)))
        return rc;
    return label_at(db, txn, group, id, out);
}

int store_labels_round_get(store_db *db, MDB_txn *txn, store_str me,
                           store_str group, store_round *out, size_t *bytes)
{
    if (!store_valid_name(me) || !store_valid_name(group))
        return EINVAL;
    return round_load(db, txn, me, group, out, bytes);
}
