/* store_rooms.c: chat rooms, profiles and private messages in the store.
 * lobby is implicit: an online user with no user_room row is in it, so
 * login needs no room write and lobby's count is sessions minus room
 * members (both O(1) from mdb_stat; room members are always online,
 * because a session's end takes its user out of its room). A room's
 * messages go through the durable mailbox path: one entry per member in
 * the say's own transaction, as send-group does. A room that closes
 * (deleted, or its creator's session ended) leaves each member that is
 * moved to lobby a STORE_MAIL_ROOM_CLOSED entry in the same transaction,
 * so a client learns where it is even if it was not listening then. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define DBI(x) (db->dbi[STORE_DBI_##x])

static int same(store_str a, store_str b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

static int is_lobby(store_str s)
{
    return same(s, store_s(STORE_LOBBY_NAME));
}

static int fail(store_wop *op, store_res r)
{
    op->out.res = r;
    return 0;
}

static int get_name(MDB_txn *txn, MDB_dbi dbi, store_str name, MDB_val *v)
{
    store_key k;
    MDB_val tmp;
    store_key_name(&k, name);
    MDB_val kv = store_val(k.b, k.len);
    return mdb_get(txn, dbi, &kv, v ? v : &tmp);
}

static int del_key(MDB_txn *txn, MDB_dbi dbi, const store_key *k)
{
    MDB_val kv = store_val(k->b, k->len);
    int rc = mdb_del(txn, dbi, &kv, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The user's room into @buf: 0, MDB_NOTFOUND (lobby) or an error. */
static int cur_room(store_db *db, MDB_txn *txn, store_str me,
                    char buf[STORE_NAME_MAX + 1])
{
    MDB_val v;
    int rc = get_name(txn, DBI(USER_ROOM), me, &v);
    if (rc == 0) {
        size_t n = v.mv_size > STORE_NAME_MAX ? STORE_NAME_MAX : v.mv_size;
        memcpy(buf, v.mv_data, n);
        buf[n] = 0;
    }
    return rc;
}

/* Moves @me out of its room (if any) and into @room (NULL = lobby). */
static int move_to(store_db *db, MDB_txn *txn, store_str me,
                   const store_str *room)
{
    char old[STORE_NAME_MAX + 1];
    store_key k;
    int rc = cur_room(db, txn, me, old);
    if (rc == 0) {
        store_key_pair(&k, store_s(old), me);
        if ((rc = del_key(txn, DBI(ROOM_MEMBERS), &k)))
            return rc;
        store_key_name(&k, me);
        if ((rc = del_key(txn, DBI(USER_ROOM), &k)))
            return rc;
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    if (room == NULL)
        return 0;
    uint64_t seq;
    if ((rc = store_next_seq(db, txn, &seq)))
        return rc;
    unsigned char b[8];
    store_put_u64(b, seq);
    store_key_pair(&k, *room, me);
    MDB_val kv = store_val(k.b, k.len), v = store_val(b, 8);
    if ((rc = mdb_put(txn, DBI(ROOM_MEMBERS), &kv, &v, 0)))
        return rc;
    store_key_name(&k, me);
    kv = store_val(k.b, k.len);
    v = store_val(room->ptr, room->len);
    return mdb_put(txn, DBI(USER_ROOM), &kv, &v, 0);
}

/* A room record: creator and creation seq. */
static int room_get(store_db *db, MDB_txn *txn, store_str room,
                    char creator[STORE_NAME_MAX + 1], uint64_t *seq)
{
    MDB_val v;
    int rc = get_name(txn, DBI(ROOMS), room, &v);
    if (rc)
        return rc;
    store_dec d;
    store_dec_init(&d, &v);
    store_dec_str(&d, creator, STORE_NAME_MAX + 1);
    *seq = store_dec_u64(&d);
    return d.bad ? MDB_CORRUPTED : 0;
}

/* Deletes @room; its members go back to lobby, each but @actor (who
 * closed it and knows) with a notice saying @why. Adds the notices
 * written to *@notices. */
static int kill_room(store_db *db, MDB_txn *txn, store_str room,
                     store_str actor, const char *why, uint32_t *notices)
{
    char creator[STORE_NAME_MAX + 1];
    store_name_vec nv = {0};
    uint64_t seq, mseq;
    store_key k;
    int rc = room_get(db, txn, room, creator, &seq);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    store_key_prefix(&k, room);
    if ((rc =
             store_scan(txn, DBI(ROOM_MEMBERS), &k, store_collect_suffix, &nv)))
        goto out;
    for (size_t i = 0; rc == 0 && i < nv.n; i++) {
        store_key_name(&k, store_s(nv.v[i]));
        rc = del_key(txn, DBI(USER_ROOM), &k);
        if (rc || same(store_s(nv.v[i]), actor))
            continue;
        rc =
            store_mail_append(db, txn, store_s(nv.v[i]), STORE_MAIL_ROOM_CLOSED,
                              store_s(creator), room, store_s(why), &mseq);
        (*notices)++;
    }
    store_key_prefix(&k, room);
    if (rc || (rc = store_del_prefix(txn, DBI(ROOM_MEMBERS), &k)))
        goto out;
    unsigned char b[8];
    store_put_u64(b, seq);
    MDB_val kv = store_val(b, 8);
    if ((rc = mdb_del(txn, DBI(ROOM_SEQ), &kv, NULL)) && rc != MDB_NOTFOUND)
        goto out;
    store_key_name(&k, room);
    rc = del_key(txn, DBI(ROOMS), &k);
out:
    free(nv.v);
    return rc;
}

/* Collects the rooms whose record names @arg's creator. */
typedef struct by_creator {
    store_str creator;
    store_name_vec rooms;
} by_creator;

static int collect_created(void *arg, const MDB_val *key, const MDB_val *val)
{
    by_creator *b = arg;
    store_dec d;
    store_dec_init(&d, val);
    store_str c = store_dec_str(&d, NULL, 0);
    if (d.bad || !same(c, b->creator))
        return 0;
    /* reuse the suffix collector: the key is the room name */
    return store_collect_suffix(&b->rooms, key, val);
}

int store_rooms_session_end(store_db *db, MDB_txn *txn, store_str user,
                            uint32_t *notices)
{
    by_creator b = {user, {0}};
    store_key none = {0};
    int rc = move_to(db, txn, user, NULL);
    /* Rooms are few (one scan of their names); no creator index needed. */
    if (rc == 0)
        rc = store_scan(txn, DBI(ROOMS), &none, collect_created, &b);
    for (size_t i = 0; rc == 0 && i < b.rooms.n; i++)
        rc = kill_room(db, txn, store_s(b.rooms.v[i]), user,
                       STORE_CLOSED_SESSION_ENDED, notices);
    free(b.rooms.v);
    return rc;
}

int store_op_create_room(store_db *db, MDB_txn *txn, store_wop *op,
                         store_str me)
{
    store_str r = op->name;
    int rc;
    if (!store_valid_name(r))
        return fail(op, STORE_INVALID_ARGUMENT);
    if (is_lobby(r))
        return fail(op, STORE_ALREADY_EXISTS);
    rc = get_name(txn, DBI(ROOMS), r, NULL);
    if (rc == 0)
        return fail(op, STORE_ALREADY_EXISTS);
    if (rc != MDB_NOTFOUND)
        return rc;
    uint64_t seq;
    if ((rc = store_next_seq(db, txn, &seq)))
        return rc;
    store_enc e = {0};
    store_enc_str(&e, me);
    store_enc_u64(&e, seq);
    store_key k;
    store_key_name(&k, r);
    MDB_val kv = store_val(k.b, k.len), v = store_val(e.b, e.len);
    if ((rc = mdb_put(txn, DBI(ROOMS), &kv, &v, 0)))
        return rc;
    unsigned char b[8];
    store_put_u64(b, seq);
    kv = store_val(b, 8);
    v = store_val(r.ptr, r.len);
    if ((rc = mdb_put(txn, DBI(ROOM_SEQ), &kv, &v, 0)))
        return rc;
    op->out.seq = seq;
    return move_to(db, txn, me, &r);
}

int store_op_join_room(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    char cur[STORE_NAME_MAX + 1];
    store_str r = op->name;
    int rc;
    if (!store_valid_name(r))
        return fail(op, STORE_INVALID_ARGUMENT);
    rc = cur_room(db, txn, me, cur);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (is_lobby(r))
        return rc == MDB_NOTFOUND ? fail(op, STORE_IN_LOBBY)
                                  : move_to(db, txn, me, NULL);
    if (rc == 0 && same(store_s(cur), r))
        return fail(op, STORE_ALREADY_MEMBER);
    rc = get_name(txn, DBI(ROOMS), r, NULL);
    if (rc == MDB_NOTFOUND)
        return fail(op, STORE_NO_SUCH_GROUP);
    if (rc)
        return rc;
    return move_to(db, txn, me, &r);
}

int store_op_leave_room(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    char cur[STORE_NAME_MAX + 1];
    int rc = cur_room(db, txn, me, cur);
    if (rc == MDB_NOTFOUND)
        return fail(op, STORE_IN_LOBBY);
    return rc ? rc : move_to(db, txn, me, NULL);
}

int store_op_delete_room(store_db *db, MDB_txn *txn, store_wop *op,
                         store_str me)
{
    char creator[STORE_NAME_MAX + 1];
    uint64_t seq;
    store_str r = op->name;
    if (!store_valid_name(r))
        return fail(op, STORE_INVALID_ARGUMENT);
    if (is_lobby(r))
        return fail(op, STORE_LOBBY);
    int rc = room_get(db, txn, r, creator, &seq);
    if (rc == MDB_NOTFOUND)
        return fail(op, STORE_NO_SUCH_GROUP);
    if (rc)
        return rc;
    if (!same(store_s(creator), me))
        return fail(op, STORE_NOT_CREATOR);
    return kill_room(db, txn, r, me, STORE_CLOSED_DELETED, &op->out.count);
}

/* Lobby's members: every session whose user has no room. */
static int collect_lobby(store_db *db, MDB_txn *txn, store_name_vec *out)
{
    store_name_vec all = {0};
    store_key none = {0};
    int rc = store_scan(txn, DBI(SESSIONS), &none, store_collect_suffix, &all);
    for (size_t i = 0; rc == 0 && i < all.n; i++) {
        rc = get_name(txn, DBI(USER_ROOM), store_s(all.v[i]), NULL);
        if (rc == 0)
            continue;
        if (rc == MDB_NOTFOUND) {
            MDB_val key = store_val(all.v[i], strlen(all.v[i]));
            rc = store_collect_suffix(out, &key, NULL);
        }
    }
    free(all.v);
    return rc;
}

int store_op_say(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    char room[STORE_NAME_MAX + 1];
    store_name_vec nv = {0};
    store_key k;
    if (!store_valid_text(op->text, STORE_TEXT_MAX, 0))
        return fail(op, STORE_INVALID_ARGUMENT);
    int rc = cur_room(db, txn, me, room);
    if (rc == MDB_NOTFOUND) {
        strcpy(room, STORE_LOBBY_NAME);
        rc = collect_lobby(db, txn, &nv);
    } else if (rc == 0) {
        store_key_prefix(&k, store_s(room));
        rc = store_scan(txn, DBI(ROOM_MEMBERS), &k, store_collect_suffix, &nv);
    }
    for (size_t i = 0; rc == 0 && i < nv.n; i++) {
        rc = store_mail_append(db, txn, store_s(nv.v[i]), STORE_MAIL_ROOM, me,
                               store_s(room), op->text, &op->out.seq);
        op->out.count++;
    }
    free(nv.v);
    return rc;
}

int store_op_private(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    store_str to = op->name;
    if (!store_valid_name(to) || !store_valid_text(op->text, STORE_TEXT_MAX, 0))
        return fail(op, STORE_INVALID_ARGUMENT);
    int rc = get_name(txn, DBI(USERS), to, NULL);
    if (rc == MDB_NOTFOUND)
        return fail(op, STORE_NO_SUCH_USER);
    if (rc == 0 &&
        (rc = get_name(txn, DBI(SESSIONS), to, NULL)) == MDB_NOTFOUND)
        return fail(op, STORE_NOT_ONLINE);
    if (rc)
        return rc;
    op->out.count = 1;
    return store_mail_append(db, txn, to, STORE_MAIL_DIRECT, me, store_s(""),
                             op->text, &op->out.seq);
}

int store_op_set_profile(store_db *db, MDB_txn *txn, store_wop *op,
                         store_str me)
{
    char hash[STORE_HASH_MAX + 1];
    store_res r = store_check_profile(op->first, op->last, op->age, op->gender);
    if (r != STORE_OK)
        return fail(op, r);
    MDB_val v;
    int rc = get_name(txn, DBI(USERS), me, &v);
    if (rc)
        return rc;
    /* Same layout as register writes (store_ops.c op_register). */
    store_dec d;
    store_dec_init(&d, &v);
    uint64_t seq = store_dec_u64(&d), created = store_dec_u64(&d);
    store_dec_str(&d, hash, sizeof hash);
    if (d.bad)
        return MDB_CORRUPTED;
    store_enc e = {0};
    store_enc_u64(&e, seq);
    store_enc_u64(&e, created);
    store_enc_str(&e, store_s(hash));
    store_enc_str(&e, op->first);
    store_enc_str(&e, op->last);
    store_enc_u64(&e, op->age);
    store_enc_str(&e, op->gender);
    store_key k;
    store_key_name(&k, me);
    MDB_val kv = store_val(k.b, k.len);
    v = store_val(e.b, e.len);
    return mdb_put(txn, DBI(USERS), &kv, &v, 0);
}
