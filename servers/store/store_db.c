/* store_db.c: the store's LMDB environment: open/close, the map that grows
 * on MDB_MAP_FULL, the read-txn bracket, and store_db_apply, the batch
 * engine the group-commit writer drives (one write txn, one child txn per
 * op, request-id deduplication, one commit = one fsync for the batch).
 *
 * Changes from ARCHITECTURE.md "Data", and why:
 * - posts are keyed (author \0 seq), not (seq): receive-post reads just the
 *   friends' posts and merges them by the global seq, instead of scanning
 *   every post ever made.
 * - one global sequence (meta "seq") orders posts, invitations, friendships,
 *   groups, joins and mailbox entries; keys end in it big-endian, so a
 *   cursor scan is creation order and two lists can be merged.
 * - every relation has an index keyed (a \0 b) for O(1) checks, and
 *   invitations one per direction, so delete removes "both ways" without
 *   scanning other users' records.
 * - request ids have a second table ordered by time so pruning is a range
 *   delete from the front, a few entries per batch.
 * - the knowledge base's databases (labels, drafts, reservations,
 *   rounds) are described at the top of store_labels.c. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "store_internal.h"

#define STORE_SCHEMA 1
#define STORE_PRUNE_PER_BATCH 64

/* clang-format off */
static const char *const dbi_names[STORE_DBI_COUNT] = {
    "meta",      "users",     "tokens",  "sessions",   "inv",
    "inv_idx",   "inv_out",   "friends", "friend_idx", "posts",
    "groups",    "group_seq", "members", "joined",     "mail",
    "reqids",    "reqtime",   "rooms",   "room_seq",   "room_members",
    "user_room",
    "labels", "label_ids", "label_count", "label_drafts", "label_draft_by",
    "label_res", "label_held", "label_round", /* store_labels.c */
};
/* clang-format on */

MDB_env *store_db_env(store_db *db)
{
    return db->env;
}
size_t store_db_map_size(store_db *db)
{
    return db->map_size;
}
int store_db_stale_readers(store_db *db)
{
    return db->stale_readers;
}

static int open_dbis(store_db *db)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (rc)
        return rc;
    for (int i = 0; i < STORE_DBI_COUNT; i++) {
        if ((rc = mdb_dbi_open(txn, dbi_names[i], MDB_CREATE, &db->dbi[i])))
            goto fail;
    }
    MDB_val k = store_val("version", 7), v;
    unsigned char ver[8];
    rc = mdb_get(txn, db->dbi[STORE_DBI_META], &k, &v);
    if (rc == MDB_NOTFOUND) {
        store_put_u64(ver, STORE_SCHEMA);
        v = store_val(ver, 8);
        rc = mdb_put(txn, db->dbi[STORE_DBI_META], &k, &v, 0);
    } else if (rc == 0 &&
               (v.mv_size != 8 || store_get_u64(v.mv_data) != STORE_SCHEMA)) {
        rc = MDB_VERSION_MISMATCH;
    }
    if (rc)
        goto fail;
    return mdb_txn_commit(txn);
fail:
    mdb_txn_abort(txn);
    return rc;
}

static int env_setup(store_db *db, const char *dir, const store_opts *o)
{
    int rc;
    if ((rc = mdb_env_create(&db->env)))
        return rc;
    /* + room for rooms, room members and group labels later */
    if ((rc = mdb_env_set_maxdbs(db->env, STORE_DBI_COUNT + 8)))
        return rc;
    if ((rc = mdb_env_set_mapsize(db->env, db->map_size)))
        return rc;
    if ((rc = mdb_env_set_maxreaders(db->env,
                                     o->max_readers ? o->max_readers : 256)))
        return rc;
    /* NOTLS: a read txn belongs to the txn, not the thread, so pooled
     * threads may run reads without pinning a slot per thread. */
    unsigned flags = MDB_NOTLS | (o->nosync ? MDB_NOSYNC : 0);
    if ((rc = mdb_env_open(db->env, dir, flags, 0600)))
        return rc;
    if ((rc = mdb_reader_check(db->env, &db->stale_readers)))
        return rc;
    MDB_envinfo info;
    if ((rc = mdb_env_info(db->env, &info)))
        return rc;
    db->map_size = info.me_mapsize; /* an existing env may be larger */
    return open_dbis(db);
}

int store_db_open(const char *dir, const store_opts *opts, store_db **out)
{
    store_opts o = {0};
    if (opts)
        o = *opts;
    *out = NULL;
    if (!dir || !*dir)
        return EINVAL;
    store_db *db = calloc(1, sizeof *db);
    if (!db)
        return ENOMEM;
    db->map_size = o.map_size ? o.map_size : (size_t)64 << 20;
    db->map_max = o.map_max ? o.map_max : (size_t)64 << 30;
    db->reqid_ttl_ms = o.reqid_ttl_ms ? o.reqid_ttl_ms : 3600u * 1000u;
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* A pending resize must not starve behind a stream of readers. */
    pthread_rwlockattr_setkind_np(&ra,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&db->maplock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&db->wlock, NULL);
    int rc = env_setup(db, dir, &o);
    if (rc) {
        sb_error("store", "cannot open %s: %s", dir, mdb_strerror(rc));
        store_db_close(db);
        return rc;
    }
    if (sodium_init() < 0)
        sb_warn("store", "libsodium did not start");
    if (db->stale_readers)
        sb_info("store", "cleared %d stale reader slot(s) in %s",
                db->stale_readers, dir);
    sb_info("store", "opened %s (map %zu MiB%s)", dir, db->map_size >> 20,
            o.nosync ? ", NOSYNC" : "");
    *out = db;
    return 0;
}

void store_db_close(store_db *db)
{
    if (!db)
        return;
    if (db->env)
        mdb_env_close(db->env);
    pthread_rwlock_destroy(&db->maplock);
    pthread_mutex_destroy(&db->wlock);
    free(db);
}

/* Exclusive map lock: no txn of this process runs while the size changes. */
static int set_mapsize(store_db *db, size_t size)
{
    pthread_rwlock_wrlock(&db->maplock);
    int rc = mdb_env_set_mapsize(db->env, size);
    if (rc == 0) {
        MDB_envinfo info;
        if (mdb_env_info(db->env, &info) == 0)
            db->map_size = info.me_mapsize;
    }
    pthread_rwlock_unlock(&db->maplock);
    return rc;
}

static int grow_map(store_db *db)
{
    if (db->map_size >= db->map_max) {
        sb_error("store", "map full at its limit of %zu bytes", db->map_max);
        return MDB_MAP_FULL;
    }
    size_t next = db->map_size * 2;
    if (next > db->map_max)
        next = db->map_max;
    sb_info("store", "map full, growing %zu -> %zu bytes", db->map_size, next);
    return set_mapsize(db, next);
}

int store_read_begin(store_db *db, MDB_txn **txn)
{
    for (int tries = 0;; tries++) {
        pthread_rwlock_rdlock(&db->maplock);
        int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, txn);
        if (rc == 0)
            return 0;
        pthread_rwlock_unlock(&db->maplock);
        if (rc != MDB_MAP_RESIZED || tries > 2)
            return rc;
        /* Another process grew the map: adopt its size. */
        if ((rc = set_mapsize(db, 0)))
            return rc;
    }
}

void store_read_end(store_db *db, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&db->maplock);
}

int store_del_prefix(MDB_txn *txn, MDB_dbi dbi, const store_key *prefix)
{
    MDB_cursor *c = NULL;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc)
        return rc;
    MDB_val k = store_val(prefix->b, prefix->len), v;
    /* LMDB refuses a zero-length key (MDB_BAD_VALSIZE): an empty prefix
     * (list every group, every user) starts at the first key instead. */
    rc = mdb_cursor_get(c, &k, &v, prefix->len ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0 && k.mv_size >= prefix->len &&
           memcmp(k.mv_data, prefix->b, prefix->len) == 0) {
        if ((rc = mdb_cursor_del(c, 0)))
            break;
        /* after a delete, NEXT yields the entry that followed it */
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_scan(MDB_txn *txn, MDB_dbi dbi, const store_key *prefix,
               store_scan_fn fn, void *arg)
{
    MDB_cursor *c = NULL;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc)
        return rc;
    MDB_val k = store_val(prefix->b, prefix->len), v;
    /* LMDB refuses a zero-length key (MDB_BAD_VALSIZE): an empty prefix
     * (list every group, every user) starts at the first key instead. */
    rc = mdb_cursor_get(c, &k, &v, prefix->len ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0 && k.mv_size >= prefix->len &&
           memcmp(k.mv_data, prefix->b, prefix->len) == 0) {
        MDB_val suffix = store_val((unsigned char *)k.mv_data + prefix->len,
                                   k.mv_size - prefix->len);
        if ((rc = fn(arg, &suffix, &v)))
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int vec_add(store_name_vec *nv, const MDB_val *name)
{
    if (name->mv_size == 0 || name->mv_size > STORE_NAME_MAX)
        return MDB_CORRUPTED;
    if (nv->n == nv->cap) {
        size_t cap = nv->cap ? nv->cap * 2 : 16;
        void *p = realloc(nv->v, cap * sizeof *nv->v);
        if (!p)
            return ENOMEM;
        nv->v = p;
        nv->cap = cap;
    }
    memcpy(nv->v[nv->n], name->mv_data, name->mv_size);
    nv->v[nv->n++][name->mv_size] = 0;
    return 0;
}

int store_collect_suffix(void *vec, const MDB_val *suffix, const MDB_val *val)
{
    return vec_add(vec, suffix);
}

int store_collect_value(void *vec, const MDB_val *suffix, const MDB_val *val)
{
    return vec_add(vec, val);
}

int store_resolve(store_db *db, MDB_txn *txn, store_str token,
                  char buf[STORE_NAME_MAX + 1], store_str *user)
{
    if (!store_valid_token(token))
        return MDB_NOTFOUND;
    store_key k;
    store_key_name(&k, token);
    MDB_val kv = store_val(k.b, k.len), v;
    int rc = mdb_get(txn, db->dbi[STORE_DBI_TOKENS], &kv, &v);
    if (rc)
        return rc;
    if (v.mv_size == 0 || v.mv_size > STORE_NAME_MAX)
        return MDB_CORRUPTED;
    memcpy(buf, v.mv_data, v.mv_size);
    buf[v.mv_size] = 0;
    user->ptr = buf;
    user->len = v.mv_size;
    /* The session must still hold this very token (a token ends at logout
     * or delete); compare it in constant time. */
    kv = store_val(buf, user->len);
    if ((rc = mdb_get(txn, db->dbi[STORE_DBI_SESSIONS], &kv, &v)))
        return rc;
    store_dec d;
    store_dec_init(&d, &v);
    store_dec_u64(&d);
    store_str st = store_dec_str(&d, NULL, 0);
    if (d.bad || st.len != token.len ||
        sodium_memcmp(st.ptr, token.ptr, token.len) != 0)
        return MDB_NOTFOUND;
    return 0;
}

/* ---- request ids ----------------------------------------------------- */

static int has_reqid(const store_wop *op)
{
    for (int i = 0; i < STORE_REQID_LEN; i++)
        if (op->reqid[i])
            return 1;
    return 0;
}

static int reqid_lookup(store_db *db, MDB_txn *txn, store_wop *op)
{
    MDB_val k = store_val(op->reqid, STORE_REQID_LEN), v;
    int rc = mdb_get(txn, db->dbi[STORE_DBI_REQIDS], &k, &v);
    if (rc)
        return rc;
    store_dec d;
    store_dec_init(&d, &v);
    store_dec_u64(&d);
    op->out.res = (store_res)store_dec_u64(&d);
    op->out.seq = store_dec_u64(&d);
    op->out.count = (uint32_t)store_dec_u64(&d);
    store_dec_str(&d, op->out.token, sizeof op->out.token);
    return d.bad ? MDB_CORRUPTED : 0;
}

static int reqid_record(store_db *db, MDB_txn *txn, const store_wop *op)
{
    uint64_t now = store_now_ms();
    store_enc e = {0};
    store_enc_u64(&e, now);
    store_enc_u64(&e, (uint64_t)op->out.res);
    store_enc_u64(&e, op->out.seq);
    store_enc_u64(&e, op->out.count);
    store_enc_str(&e, store_s(op->out.token));
    MDB_val k = store_val(op->reqid, STORE_REQID_LEN),
            v = store_val(e.b, e.len);
    int rc = mdb_put(txn, db->dbi[STORE_DBI_REQIDS], &k, &v, 0);
    if (rc)
        return rc;
    unsigned char tk[8 + STORE_REQID_LEN];
    store_put_u64(tk, now);
    memcpy(tk + 8, op->reqid, STORE_REQID_LEN);
    k = store_val(tk, sizeof tk);
    v = store_val("", 0);
    return mdb_put(txn, db->dbi[STORE_DBI_REQTIME], &k, &v, 0);
}

/* Forgets a few request ids older than the TTL (oldest first). */
static int reqid_prune(store_db *db, MDB_txn *txn)
{
    MDB_cursor *c = NULL;
    uint64_t now = store_now_ms();
    uint64_t cut = now > db->reqid_ttl_ms ? now - db->reqid_ttl_ms : 0;
    int rc = mdb_cursor_open(txn, db->dbi[STORE_DBI_REQTIME], &c);
    if (rc)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    for (int i = 0; rc == 0 && i < STORE_PRUNE_PER_BATCH; i++) {
        if (k.mv_size != 8 + STORE_REQID_LEN || store_get_u64(k.mv_data) >= cut)
            break;
        unsigned char
            idb[STORE_REQID_LEN]; /* copied: the del below may move pages */
        memcpy(idb, (unsigned char *)k.mv_data + 8, STORE_REQID_LEN);
        MDB_val id = store_val(idb, STORE_REQID_LEN);
        rc = mdb_del(txn, db->dbi[STORE_DBI_REQIDS], &id, NULL);
        if (rc && rc != MDB_NOTFOUND)
            break;
        if ((rc = mdb_cursor_del(c, 0)))
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- the batch --------------------------------------------------------- */

/* One op in its own child txn. Returns an rc that must abort the batch
 * (MDB_MAP_FULL, MDB_TXN_FULL, a dead parent); other failures end as
 * STORE_ERR_INTERNAL for this op only. */
static int apply_one(store_db *db, MDB_txn *txn, store_wop *op)
{
    MDB_txn *child = NULL;
    memset(&op->out, 0, sizeof op->out);
    int rc, id = has_reqid(op);
    if (id) {
        rc = reqid_lookup(db, txn, op);
        if (rc != MDB_NOTFOUND)
            return rc; /* 0: applied before, stored result is in out */
        memset(&op->out, 0, sizeof op->out);
    }
    if ((rc = mdb_txn_begin(db->env, txn, 0, &child)))
        return rc;
    rc = store_op_apply(db, child, op);
    if (rc == 0 && store_res_commits(op->out.res))
        rc = mdb_txn_commit(child);
    else
        mdb_txn_abort(child);
    if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL || rc == MDB_BAD_TXN ||
        rc == ENOMEM)
        return rc;
    if (rc) {
        sb_error("store", "op %d failed: %s", (int)op->kind, mdb_strerror(rc));
        memset(&op->out, 0, sizeof op->out);
        op->out.res = STORE_ERR_INTERNAL;
        return 0; /* not recorded: a retry may succeed */
    }
    return id ? reqid_record(db, txn, op) : 0;
}

static int apply_batch(store_db *db, store_wop **ops, size_t n)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (rc == MDB_MAP_RESIZED && (rc = set_mapsize(db, 0)) == 0)
        rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = apply_one(db, txn, ops[i])))
            goto fail;
    if ((rc = reqid_prune(db, txn)))
        goto fail;
    rc = mdb_txn_commit(txn);
    txn = NULL;
fail:
    if (txn)
        mdb_txn_abort(txn);
    return rc;
}

int store_db_apply(store_db *db, store_wop **ops, size_t n)
{
    int rc = 0;
    if (n == 0)
        return 0;
    pthread_mutex_lock(&db->wlock);
    for (;;) {
        rc = apply_batch(db, ops, n);
        if (rc != MDB_MAP_FULL)
            break;
        if ((rc = grow_map(db)))
            break;
    }
    pthread_mutex_unlock(&db->wlock);
    if (rc) {
        sb_error("store", "batch of %zu ops not committed: %s", n,
                 mdb_strerror(rc));
        for (size_t i = 0; i < n; i++) {
            memset(&ops[i]->out, 0, sizeof ops[i]->out);
            ops[i]->out.res = STORE_ERR_INTERNAL;
        }
    }
    return rc;
}
