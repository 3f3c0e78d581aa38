/* store_ops.c: every write operation of the store, applied inside the child
 * transaction store_db_apply gives it. Each op resolves the token first
 * (NOT_LOGGED_IN), then validates, then runs the command's checks in the
 * priority order of PROTOCOL.md, and only then writes: check-then-act in
 * one transaction. An LMDB failure is returned as rc; the outcome of the
 * command goes to op->out.res. Account removal lives in store_delete.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define DBI(x) (db->dbi[STORE_DBI_##x])

typedef int (*op_fn)(store_db *db, MDB_txn *txn, store_wop *op, store_str me);

int store_delete_user(store_db *db, MDB_txn *txn, store_str token, store_str me,
                      uint32_t *notices);

static int get_k(MDB_txn *txn, MDB_dbi dbi, const store_key *k, MDB_val *v)
{
    MDB_val kv = store_val(k->b, k->len), tmp;
    return mdb_get(txn, dbi, &kv, v ? v : &tmp);
}

static int put_k(MDB_txn *txn, MDB_dbi dbi, const store_key *k, const void *p,
                 size_t n)
{
    MDB_val kv = store_val(k->b, k->len), v = store_val(p, n);
    return mdb_put(txn, dbi, &kv, &v, 0);
}

static int put_seq(MDB_txn *txn, MDB_dbi dbi, const store_key *k, uint64_t seq)
{
    unsigned char b[8];
    store_put_u64(b, seq);
    return put_k(txn, dbi, k, b, 8);
}

/* 0 found / MDB_NOTFOUND / error, for checks. */
static int has_name(MDB_txn *txn, MDB_dbi dbi, store_str name)
{
    store_key k;
    store_key_name(&k, name);
    return get_k(txn, dbi, &k, NULL);
}

static int has_pair(MDB_txn *txn, MDB_dbi dbi, store_str a, store_str b)
{
    store_key k;
    store_key_pair(&k, a, b);
    return get_k(txn, dbi, &k, NULL);
}

/* The next value of the global sequence (starts at 1). */
int store_next_seq(store_db *db, MDB_txn *txn, uint64_t *seq)
{
    MDB_val k = store_val("seq", 3), v;
    int rc = mdb_get(txn, DBI(META), &k, &v);
    if (rc == MDB_NOTFOUND)
        *seq = 1;
    else if (rc)
        return rc;
    else if (v.mv_size != 8)
        return MDB_CORRUPTED;
    else
        *seq = store_get_u64(v.mv_data) + 1;
    unsigned char b[8];
    store_put_u64(b, *seq);
    v = store_val(b, 8);
    return mdb_put(txn, DBI(META), &k, &v, 0);
}

static int same(store_str a, store_str b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* Sets a result and tells the caller "done, no error": checks read as
 * `if (rc == MDB_NOTFOUND) return fail(op, STORE_X);`. */
static int fail(store_wop *op, store_res r)
{
    op->out.res = r;
    return 0;
}

#define CHECK(expr)                                                            \
    do {                                                                       \
        if ((rc = (expr)) != 0)                                                \
            return rc;                                                         \
    } while (0)

/* Map NOTFOUND (absent) to @absent_res and "found" to @found_res; either
 * may be STORE_OK meaning "go on". Returns 1 when the op is decided. */
static int decide(int found_rc, store_wop *op, store_res found_res,
                  store_res absent_res, int *rc)
{
    *rc = 0;
    if (found_rc != 0 && found_rc != MDB_NOTFOUND) {
        *rc = found_rc;
        return 1;
    }
    store_res r = found_rc == 0 ? found_res : absent_res;
    if (r == STORE_OK)
        return 0;
    op->out.res = r;
    return 1;
}

static int op_register(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    int rc;
    if (!store_valid_name(op->name) ||
        !store_valid_text(op->text, STORE_HASH_MAX, 0) ||
        !store_valid_text(op->first, STORE_NAME_MAX, 1) ||
        !store_valid_text(op->last, STORE_NAME_MAX, 1) ||
        !store_valid_text(op->gender, STORE_NAME_MAX, 1))
        return fail(op, STORE_INVALID_ARGUMENT);
    if (decide(has_name(txn, DBI(USERS), op->name), op, STORE_ALREADY_USED,
               STORE_OK, &rc))
        return rc;
    uint64_t seq;
    CHECK(store_next_seq(db, txn, &seq));
    store_enc e = {0};
    store_enc_u64(&e, seq);
    store_enc_u64(&e, store_now_ms());
    store_enc_str(&e, op->text);
    store_enc_str(&e, op->first);
    store_enc_str(&e, op->last);
    store_enc_u64(&e, op->age);
    store_enc_str(&e, op->gender);
    store_key k;
    store_key_name(&k, op->name);
    CHECK(put_k(txn, DBI(USERS), &k, e.b, e.len));
    op->out.seq = seq;
    return 0;
}

static int put_session(store_db *db, MDB_txn *txn, store_str user,
                       uint64_t login_ms, store_str token, store_str server,
                       store_str endpoint)
{
    store_enc e = {0};
    store_enc_u64(&e, login_ms);
    store_enc_str(&e, token);
    store_enc_str(&e, server);
    store_enc_str(&e, endpoint);
    store_key k;
    store_key_name(&k, user);
    return put_k(txn, DBI(SESSIONS), &k, e.b, e.len);
}

static int op_login(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    int rc;
    if (!store_valid_name(op->name) || !store_valid_token(op->token))
        return fail(op, STORE_INVALID_ARGUMENT);
    if (decide(has_name(txn, DBI(USERS), op->name), op, STORE_OK,
               STORE_NO_SUCH_USER, &rc))
        return rc;
    store_key k;
    store_key_name(&k, op->name);
    MDB_val v;
    rc = get_k(txn, DBI(SESSIONS), &k, &v);
    if (rc == 0) { /* already logged in: the same token again */
        store_dec d;
        store_dec_init(&d, &v);
        store_dec_u64(&d);
        store_dec_str(&d, op->out.token, sizeof op->out.token);
        return d.bad ? MDB_CORRUPTED : 0;
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    if (decide(has_name(txn, DBI(TOKENS), op->token), op, STORE_ALREADY_EXISTS,
               STORE_OK, &rc))
        return rc;
    store_key_name(&k, op->token);
    CHECK(put_k(txn, DBI(TOKENS), &k, op->name.ptr, op->name.len));
    CHECK(put_session(db, txn, op->name, store_now_ms(), op->token, store_s(""),
                      store_s("")));
    memcpy(op->out.token, op->token.ptr, op->token.len);
    op->out.token[op->token.len] = 0;
    return 0;
}

static int op_set_server(store_db *db, MDB_txn *txn, store_wop *op,
                         store_str me)
{
    int rc;
    if (!store_valid_name(op->server) ||
        !store_valid_text(op->text, STORE_ENDPOINT_MAX, 1))
        return fail(op, STORE_INVALID_ARGUMENT);
    store_key k;
    store_key_name(&k, me);
    MDB_val v;
    CHECK(get_k(txn, DBI(SESSIONS), &k, &v));
    store_dec d;
    store_dec_init(&d, &v);
    uint64_t login_ms = store_dec_u64(&d);
    if (d.bad)
        return MDB_CORRUPTED;
    return put_session(db, txn, me, login_ms, op->token, op->server, op->text);
}

static int op_logout(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    int rc;
    store_key k;
    /* its rooms die with it; their members get notices (out.count) */
    CHECK(store_rooms_session_end(db, txn, me, &op->out.count));
    store_key_name(&k, op->token);
    MDB_val kv = store_val(k.b, k.len);
    CHECK(mdb_del(txn, DBI(TOKENS), &kv, NULL));
    store_key_name(&k, me);
    kv = store_val(k.b, k.len);
    return mdb_del(txn, DBI(SESSIONS), &kv, NULL);
}

static int op_delete(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    return store_delete_user(db, txn, op->token, me, &op->out.count);
}

static int op_invite(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    int rc;
    store_str id = op->name;
    if (!store_valid_name(id))
        return fail(op, STORE_INVALID_ARGUMENT);
    if (same(id, me))
        return fail(op, STORE_SELF);
    if (decide(has_name(txn, DBI(USERS), id), op, STORE_OK, STORE_NO_SUCH_USER,
               &rc) ||
        decide(has_pair(txn, DBI(FRIEND_IDX), me, id), op, STORE_ALREADY_FRIEND,
               STORE_OK, &rc) ||
        decide(has_pair(txn, DBI(INV_IDX), id, me), op, STORE_ALREADY_INVITED,
               STORE_OK, &rc) ||
        decide(has_pair(txn, DBI(INV_IDX), me, id), op, STORE_INVITED_YOU,
               STORE_OK, &rc))
        return rc;
    uint64_t seq;
    CHECK(store_next_seq(db, txn, &seq));
    store_key k;
    store_key_name_seq(&k, id, seq);
    CHECK(put_k(txn, DBI(INV), &k, me.ptr, me.len));
    store_key_pair(&k, id, me);
    CHECK(put_seq(txn, DBI(INV_IDX), &k, seq));
    store_key_pair(&k, me, id);
    CHECK(put_seq(txn, DBI(INV_OUT), &k, seq));
    op->out.seq = seq;
    return 0;
}

/* Removes the invitation of @invitee by @inviter if there is one. */
static int drop_invitation(store_db *db, MDB_txn *txn, store_str invitee,
                           store_str inviter)
{
    int rc;
    store_key k;
    MDB_val v;
    store_key_pair(&k, invitee, inviter);
    rc = get_k(txn, DBI(INV_IDX), &k, &v);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    uint64_t seq = v.mv_size == 8 ? store_get_u64(v.mv_data) : 0;
    MDB_val kv = store_val(k.b, k.len);
    CHECK(mdb_del(txn, DBI(INV_IDX), &kv, NULL));
    store_key_name_seq(&k, invitee, seq);
    kv = store_val(k.b, k.len);
    rc = mdb_del(txn, DBI(INV), &kv, NULL);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    store_key_pair(&k, inviter, invitee);
    kv = store_val(k.b, k.len);
    rc = mdb_del(txn, DBI(INV_OUT), &kv, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int add_friend(store_db *db, MDB_txn *txn, store_str a, store_str b,
                      uint64_t seq)
{
    int rc;
    store_key k;
    store_key_name_seq(&k, a, seq);
    CHECK(put_k(txn, DBI(FRIENDS), &k, b.ptr, b.len));
    store_key_pair(&k, a, b);
    return put_seq(txn, DBI(FRIEND_IDX), &k, seq);
}

static int op_accept(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    int rc;
    store_str id = op->name;
    if (!store_valid_name(id))
        return fail(op, STORE_INVALID_ARGUMENT);
    if (decide(has_pair(txn, DBI(INV_IDX), me, id), op, STORE_OK,
               STORE_NOT_INVITED, &rc))
        return rc;
    CHECK(drop_invitation(db, txn, me, id));
    CHECK(drop_invitation(db, txn, id, me)); /* defensive: cannot coexist */
    rc = has_pair(txn, DBI(FRIEND_IDX), me, id);
    if (rc != MDB_NOTFOUND)
        return rc; /* 0: already friends (cannot happen), nothing to add */
    uint64_t seq;
    CHECK(store_next_seq(db, txn, &seq));
    CHECK(add_friend(db, txn, me, id, seq));
    CHECK(add_friend(db, txn, id, me, seq));
    op->out.seq = seq;
    return 0;
}

static int op_post(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    int rc;
    if (!store_valid_text(op->text, STORE_TEXT_MAX, 0))
        return fail(op, STORE_INVALID_ARGUMENT);
    uint64_t seq;
    CHECK(store_next_seq(db, txn, &seq));
    store_key k;
    store_key_name_seq(&k, me, seq);
    CHECK(put_k(txn, DBI(POSTS), &k, op->text.ptr, op->text.len));
    op->out.seq = seq;
    return 0;
}

int store_mail_append(store_db *db, MDB_txn *txn, store_str to,
                      store_mail_kind kind, store_str from, store_str group,
                      store_str text, uint64_t *seq)
{
    int rc;
    CHECK(store_next_seq(db, txn, seq));
    store_enc e = {0};
    store_enc_u64(&e, (uint64_t)kind);
    store_enc_u64(&e, store_now_ms());
    store_enc_str(&e, from);
    store_enc_str(&e, group);
    store_enc_str(&e, text);
    store_key k;
    store_key_name_seq(&k, to, *seq);
    return put_k(txn, DBI(MAIL), &k, e.b, e.len);
}

static int op_send(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    int rc;
    store_str to = op->name;
    if (!store_valid_name(to) || !store_valid_text(op->text, STORE_TEXT_MAX, 0))
        return fail(op, STORE_INVALID_ARGUMENT);
    if (decide(has_name(txn, DBI(USERS), to), op, STORE_OK, STORE_NO_SUCH_USER,
               &rc))
        return rc;
    if (same(to, me))
        return fail(op, STORE_NOT_FRIEND);
    if (decide(has_pair(txn, DBI(FRIEND_IDX), me, to), op, STORE_OK,
               STORE_NOT_FRIEND, &rc) ||
        decide(has_name(txn, DBI(SESSIONS), to), op, STORE_OK, STORE_NOT_ONLINE,
               &rc))
        return rc;
    op->out.count = 1;
    return store_mail_append(db, txn, to, STORE_MAIL_DIRECT, me, store_s(""),
                             op->text, &op->out.seq);
}

static int join(store_db *db, MDB_txn *txn, store_str group, store_str me,
                uint64_t seq)
{
    int rc;
    store_key k;
    store_key_pair(&k, group, me);
    CHECK(put_seq(txn, DBI(MEMBERS), &k, seq));
    store_key_name_seq(&k, me, seq);
    return put_k(txn, DBI(JOINED), &k, group.ptr, group.len);
}

static int op_create_group(store_db *db, MDB_txn *txn, store_wop *op,
                           store_str me)
{
    int rc;
    store_str g = op->name;
    if (!store_valid_name(g))
        return fail(op, STORE_INVALID_ARGUMENT);
    if (decide(has_name(txn, DBI(GROUPS), g), op, STORE_ALREADY_EXISTS,
               STORE_OK, &rc))
        return rc;
    uint64_t seq;
    CHECK(store_next_seq(db, txn, &seq));
    store_enc e = {0};
    store_enc_str(&e, me);
    store_enc_u64(&e, seq);
    store_key k;
    store_key_name(&k, g);
    CHECK(put_k(txn, DBI(GROUPS), &k, e.b, e.len));
    unsigned char sk[8];
    store_put_u64(sk, seq);
    MDB_val kv = store_val(sk, 8), v = store_val(g.ptr, g.len);
    CHECK(mdb_put(txn, DBI(GROUP_SEQ), &kv, &v, 0));
    op->out.seq = seq;
    return join(db, txn, g, me, seq);
}

static int op_join_group(store_db *db, MDB_txn *txn, store_wop *op,
                         store_str me)
{
    int rc;
    store_str g = op->name;
    if (!store_valid_name(g))
        return fail(op, STORE_INVALID_ARGUMENT);
    if (decide(has_name(txn, DBI(GROUPS), g), op, STORE_OK, STORE_NO_SUCH_GROUP,
               &rc) ||
        decide(has_pair(txn, DBI(MEMBERS), g, me), op, STORE_ALREADY_MEMBER,
               STORE_OK, &rc))
        return rc;
    uint64_t seq;
    CHECK(store_next_seq(db, txn, &seq));
    op->out.seq = seq;
    return join(db, txn, g, me, seq);
}

static int op_send_group(store_db *db, MDB_txn *txn, store_wop *op,
                         store_str me)
{
    int rc;
    store_str g = op->name;
    if (!store_valid_name(g) || !store_valid_text(op->text, STORE_TEXT_MAX, 0))
        return fail(op, STORE_INVALID_ARGUMENT);
    if (decide(has_name(txn, DBI(GROUPS), g), op, STORE_OK, STORE_NO_SUCH_GROUP,
               &rc) ||
        decide(has_pair(txn, DBI(MEMBERS), g, me), op, STORE_OK,
               STORE_NOT_MEMBER, &rc))
        return rc;
    store_name_vec nv = {0};
    store_key k;
    store_key_prefix(&k, g);
    if ((rc = store_scan(txn, DBI(MEMBERS), &k, store_collect_suffix, &nv)))
        goto out;
    for (size_t i = 0; i < nv.n; i++) {
        store_str m = store_s(nv.v[i]);
        rc = has_name(txn, DBI(SESSIONS), m);
        if (rc == MDB_NOTFOUND) {
            rc = 0;   /* else a last offline member fails the op */
            continue; /* offline members get nothing */
        }
        if (rc || (rc = store_mail_append(db, txn, m, STORE_MAIL_GROUP, me, g,
                                          op->text, &op->out.seq)))
            goto out;
        op->out.count++;
    }
out:
    free(nv.v);
    return rc;
}

static int op_mail_ack(store_db *db, MDB_txn *txn, store_wop *op, store_str me)
{
    MDB_cursor *c = NULL;
    store_key k;
    store_key_prefix(&k, me);
    int rc = mdb_cursor_open(txn, DBI(MAIL), &c);
    if (rc)
        return rc;
    MDB_val kv = store_val(k.b, k.len), v;
    rc = mdb_cursor_get(c, &kv, &v, MDB_SET_RANGE);
    while (rc == 0 && kv.mv_size == k.len + 8 &&
           memcmp(kv.mv_data, k.b, k.len) == 0 &&
           store_key_seq(&kv) <= op->seq) {
        if ((rc = mdb_cursor_del(c, 0)))
            break;
        op->out.count++;
        rc = mdb_cursor_get(c, &kv, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    op->out.seq = op->seq;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The command table: handler and whether it acts for a logged-in user. */
static const struct {
    op_fn fn;
    int needs_token;
} op_table[] = {
    [STORE_OP_REGISTER] = {op_register, 0},
    [STORE_OP_LOGIN] = {op_login, 0},
    [STORE_OP_SET_SERVER] = {op_set_server, 1},
    [STORE_OP_LOGOUT] = {op_logout, 1},
    [STORE_OP_DELETE] = {op_delete, 1},
    [STORE_OP_INVITE] = {op_invite, 1},
    [STORE_OP_ACCEPT] = {op_accept, 1},
    [STORE_OP_POST] = {op_post, 1},
    [STORE_OP_SEND] = {op_send, 1},
    [STORE_OP_CREATE_GROUP] = {op_create_group, 1},
    [STORE_OP_JOIN_GROUP] = {op_join_group, 1},
    [STORE_OP_SEND_GROUP] = {op_send_group, 1},
    [STORE_OP_MAIL_ACK] = {op_mail_ack, 1},
    [STORE_OP_CREATE_ROOM] = {store_op_create_room, 1},
    [STORE_OP_JOIN_ROOM] = {store_op_join_room, 1},
    [STORE_OP_LEAVE_ROOM] = {store_op_leave_room, 1},
    [STORE_OP_DELETE_ROOM] = {store_op_delete_room, 1},
    [STORE_OP_SAY] = {store_op_say, 1},
    [STORE_OP_PRIVATE] = {store_op_private, 1},
    [STORE_OP_SET_PROFILE] = {store_op_set_profile, 1},
    [STORE_OP_END_SESSION] = {op_logout, 1}, /* a timed-out session */
};

int store_op_apply(store_db *db, MDB_txn *txn, store_wop *op)
{
    char buf[STORE_NAME_MAX + 1];
    store_str me = {"", 0};
    size_t kind = (size_t)op->kind;
    op->out.res = STORE_OK;
    if (kind >= sizeof op_table / sizeof op_table[0] || !op_table[kind].fn)
        return fail(op, STORE_INVALID_ARGUMENT);
    if (op_table[kind].needs_token) {
        int rc = store_resolve(db, txn, op->token, buf, &me);
        if (rc == MDB_NOTFOUND)
            return fail(op, STORE_NOT_LOGGED_IN);
        if (rc)
            return rc;
    }
    return op_table[kind].fn(db, txn, op, me);
}
