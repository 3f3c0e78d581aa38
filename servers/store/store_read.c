/* store_read.c: the store's read operations. Each runs in one read-only
 * transaction on the caller's thread (MDB_NOTLS, so any pooled thread will
 * do), resolves the token first, and copies what it returns out of the map
 * into heap memory the caller frees. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define DBI(x) (db->dbi[STORE_DBI_##x])

static char *dup_val(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

void store_names_free(store_names *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    free(l->online);
    memset(l, 0, sizeof *l);
}

void store_posts_free(store_posts *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].author);
        free(l->v[i].text);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

void store_mails_free(store_mails *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].from);
        free(l->v[i].group);
        free(l->v[i].text);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Grows an array of @size-byte elements to hold one more. */
static int grow(void **v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 8;
    void *p = realloc(*v, c * size);
    if (!p)
        return ENOMEM;
    *v = p;
    *cap = c;
    return 0;
}

static store_res rc_res(int rc)
{
    return rc == 0              ? STORE_OK
           : rc == MDB_NOTFOUND ? STORE_NOT_LOGGED_IN
                                : STORE_ERR_INTERNAL;
}

/* Opens a read txn and resolves @token to the caller's name (held in @buf).
 * On STORE_OK the txn is open and the caller ends it; otherwise it is
 * already closed. Every token-taking read starts here, so the token check
 * comes first everywhere. */
static store_res read_as(store_db *db, store_str token, MDB_txn **txn,
                         char *buf, store_str *me)
{
    if (store_read_begin(db, txn))
        return STORE_ERR_INTERNAL;
    store_res r = rc_res(store_resolve(db, *txn, token, buf, me));
    if (r != STORE_OK)
        store_read_end(db, *txn);
    return r;
}

/* ---- single records ------------------------------------------------- */

store_res store_get_user(store_db *db, store_str name, store_user *out)
{
    MDB_txn *txn;
    memset(out, 0, sizeof *out);
    if (!store_valid_name(name))
        return STORE_INVALID_ARGUMENT;
    if (store_read_begin(db, &txn))
        return STORE_ERR_INTERNAL;
    store_key k;
    store_key_name(&k, name);
    MDB_val kv = store_val(k.b, k.len), v;
    int rc = mdb_get(txn, DBI(USERS), &kv, &v);
    store_res r = rc == MDB_NOTFOUND ? STORE_NO_SUCH_USER
                  : rc               ? STORE_ERR_INTERNAL
                                     : STORE_OK;
    if (r == STORE_OK) {
        store_dec d;
        store_dec_init(&d, &v);
        memcpy(out->name, name.ptr, name.len);
        out->created_seq = store_dec_u64(&d);
        out->created_ms = store_dec_u64(&d);
        store_dec_str(&d, out->hash, sizeof out->hash);
        store_dec_str(&d, out->first, sizeof out->first);
        store_dec_str(&d, out->last, sizeof out->last);
        out->age = (uint32_t)store_dec_u64(&d);
        store_dec_str(&d, out->gender, sizeof out->gender);
        if (d.bad)
            r = STORE_ERR_INTERNAL;
    }
    store_read_end(db, txn);
    return r;
}

store_res store_whoami(store_db *db, store_str token, store_session *out)
{
    MDB_txn *txn;
    char buf[STORE_NAME_MAX + 1];
    store_str me;
    memset(out, 0, sizeof *out);
    store_res r = read_as(db, token, &txn, buf, &me);
    if (r != STORE_OK)
        return r;
    MDB_val kv = store_val(me.ptr, me.len), v;
    r = mdb_get(txn, DBI(SESSIONS), &kv, &v) ? STORE_ERR_INTERNAL : STORE_OK;
    store_dec d;
    store_dec_init(&d, &v);
    memcpy(out->user, me.ptr, me.len);
    out->login_ms = store_dec_u64(&d);
    store_dec_str(&d, out->token, sizeof out->token);
    store_dec_str(&d, out->server, sizeof out->server);
    store_dec_str(&d, out->endpoint, sizeof out->endpoint);
    if (r == STORE_OK && d.bad)
        r = STORE_ERR_INTERNAL;
    store_read_end(db, txn);
    return r;
}

/* ---- name lists ------------------------------------------------------- */

typedef struct name_acc {
    store_names *out;
    size_t cap;
    int by_suffix;
} name_acc;

static int add_name(void *arg, const MDB_val *suffix, const MDB_val *val)
{
    name_acc *a = arg;
    const MDB_val *src = a->by_suffix ? suffix : val;
    if (grow((void **)&a->out->v, a->out->n, &a->cap, sizeof(char *)))
        return ENOMEM;
    if (!(a->out->v[a->out->n] = dup_val(src->mv_data, src->mv_size)))
        return ENOMEM;
    a->out->n++;
    return 0;
}

/* Lists the values under (token's user \0) in @dbi, in key order. */
static store_res list_own(store_db *db, MDB_dbi dbi, store_str token,
                          store_names *out)
{
    MDB_txn *txn;
    char buf[STORE_NAME_MAX + 1];
    store_str me;
    memset(out, 0, sizeof *out);
    store_res r = read_as(db, token, &txn, buf, &me);
    if (r != STORE_OK)
        return r;
    store_key k;
    store_key_prefix(&k, me);
    name_acc a = {out, 0, 0};
    if (store_scan(txn, dbi, &k, add_name, &a))
        r = STORE_ERR_INTERNAL;
    store_read_end(db, txn);
    if (r != STORE_OK)
        store_names_free(out);
    return r;
}

store_res store_list_invite(store_db *db, store_str token, store_names *out)
{
    return list_own(db, DBI(INV), token, out);
}

store_res store_list_friend(store_db *db, store_str token, store_names *out)
{
    return list_own(db, DBI(FRIENDS), token, out);
}

store_res store_list_joined(store_db *db, store_str token, store_names *out)
{
    return list_own(db, DBI(JOINED), token, out);
}

typedef struct user_ord {
    uint64_t seq;
    char *name;
    uint8_t online;
} user_ord;

static int by_created(const void *a, const void *b)
{
    uint64_t x = ((const user_ord *)a)->seq, y = ((const user_ord *)b)->seq;
    return x < y ? -1 : x > y;
}

/* Users are keyed by name; the course lists in creation order, which is
 * the seq their record starts with. */
static int order_by_creation(store_db *db, MDB_txn *txn, store_names *out)
{
    user_ord *o = calloc(out->n ? out->n : 1, sizeof *o);
    if (!o)
        return -1;
    for (size_t i = 0; i < out->n; i++) {
        MDB_val kv = store_val(out->v[i], strlen(out->v[i])), v;
        o[i].seq = mdb_get(txn, DBI(USERS), &kv, &v) == 0 && v.mv_size >= 8
                       ? store_get_u64(v.mv_data)
                       : UINT64_MAX;
        o[i].name = out->v[i];
        o[i].online = out->online[i];
    }
    qsort(o, out->n, sizeof *o, by_created);
    for (size_t i = 0; i < out->n; i++) {
        out->v[i] = o[i].name;
        out->online[i] = o[i].online;
    }
    free(o);
    return 0;
}

/* Lists a whole table (@by_suffix: its keys, else its values). */
static store_res list_all(store_db *db, MDB_dbi dbi, int by_suffix,
                          store_str token, store_names *out)
{
    MDB_txn *txn;
    char buf[STORE_NAME_MAX + 1];
    store_str me;
    memset(out, 0, sizeof *out);
    store_res r = read_as(db, token, &txn, buf, &me);
    if (r != STORE_OK)
        return r;
    int rc = 0;
    store_key k = {0};
    name_acc a = {out, 0, by_suffix};
    if (store_scan(txn, dbi, &k, add_name, &a))
        rc = -1;
    if (rc == 0 && by_suffix) { /* list_users: online = has a session */
        out->online = calloc(out->n ? out->n : 1, 1);
        for (size_t i = 0; out->online && i < out->n; i++) {
            MDB_val kv = store_val(out->v[i], strlen(out->v[i])), v;
            out->online[i] = mdb_get(txn, DBI(SESSIONS), &kv, &v) == 0;
        }
        if (!out->online || order_by_creation(db, txn, out))
            rc = -1;
    }
    store_read_end(db, txn);
    if (rc)
        store_names_free(out);
    return rc_res(rc);
}

store_res store_list_group(store_db *db, store_str token, store_names *out)
{
    return list_all(db, DBI(GROUP_SEQ), 0, token, out);
}

store_res store_list_users(store_db *db, store_str token, store_names *out)
{
    return list_all(db, DBI(USERS), 1, token, out);
}

/* ---- posts and mail --------------------------------------------------- */

typedef struct post_acc {
    store_posts *out;
    size_t cap;
    const char *author;
} post_acc;

static int add_post(void *arg, const MDB_val *suffix, const MDB_val *val)
{
    post_acc *a = arg;
    if (suffix->mv_size != 8)
        return MDB_CORRUPTED;
    if (grow((void **)&a->out->v, a->out->n, &a->cap, sizeof(store_post)))
        return ENOMEM;
    store_post *p = &a->out->v[a->out->n];
    p->seq = store_get_u64(suffix->mv_data);
    p->author = strdup(a->author);
    p->text = dup_val(val->mv_data, val->mv_size);
    a->out->n++;
    return p->author && p->text ? 0 : ENOMEM;
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const store_post *)a)->seq, y = ((const store_post *)b)->seq;
    return x < y ? -1 : x > y;
}

static int scan_posts(store_db *db, MDB_txn *txn, store_str me,
                      store_posts *out)
{
    store_name_vec friends = {0};
    store_key k;
    store_key_prefix(&k, me);
    int rc = store_scan(txn, DBI(FRIENDS), &k, store_collect_value, &friends);
    post_acc a = {out, 0, NULL};
    for (size_t i = 0; rc == 0 && i < friends.n; i++) {
        a.author = friends.v[i];
        store_key_prefix(&k, store_s(a.author));
        rc = store_scan(txn, DBI(POSTS), &k, add_post, &a);
    }
    free(friends.v);
    return rc;
}

store_res store_receive_post(store_db *db, store_str token, store_posts *out)
{
    MDB_txn *txn;
    char buf[STORE_NAME_MAX + 1];
    store_str me;
    memset(out, 0, sizeof *out);
    store_res r = read_as(db, token, &txn, buf, &me);
    if (r != STORE_OK)
        return r;
    if (scan_posts(db, txn, me, out))
        r = STORE_ERR_INTERNAL;
    store_read_end(db, txn);
    if (r != STORE_OK) {
        store_posts_free(out);
        return r;
    }
    /* Each friend's run is already in seq order; sorting merges them. */
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, by_seq);
    return STORE_OK;
}

typedef struct mail_acc {
    store_mails *out;
    size_t cap, max;
    uint64_t after;
} mail_acc;

static int add_mail(void *arg, const MDB_val *suffix, const MDB_val *val)
{
    mail_acc *a = arg;
    if (suffix->mv_size != 8)
        return MDB_CORRUPTED;
    uint64_t seq = store_get_u64(suffix->mv_data);
    if (seq <= a->after)
        return 0;
    if (a->out->n >= a->max)
        return 1; /* enough: stop the scan */
    if (grow((void **)&a->out->v, a->out->n, &a->cap, sizeof(store_mail)))
        return ENOMEM;
    store_mail *m = &a->out->v[a->out->n++];
    memset(m, 0, sizeof *m);
    store_dec d;
    store_dec_init(&d, val);
    m->seq = seq;
    m->kind = (store_mail_kind)store_dec_u64(&d);
    m->time_ms = store_dec_u64(&d);
    store_str s = store_dec_str(&d, NULL, 0);
    m->from = dup_val(s.ptr, s.len);
    s = store_dec_str(&d, NULL, 0);
    m->group = dup_val(s.ptr, s.len);
    s = store_dec_str(&d, NULL, 0);
    m->text = dup_val(s.ptr, s.len);
    if (d.bad)
        return MDB_CORRUPTED;
    return m->from && m->group && m->text ? 0 : ENOMEM;
}

store_res store_mail_fetch(store_db *db, store_str token, uint64_t after_seq,
                           size_t max, store_mails *out)
{
    MDB_txn *txn;
    char buf[STORE_NAME_MAX + 1];
    store_str me;
    memset(out, 0, sizeof *out);
    store_res r = read_as(db, token, &txn, buf, &me);
    if (r != STORE_OK)
        return r;
    /* acknowledged entries are gone, so few precede after_seq */
    store_key k;
    store_key_prefix(&k, me);
    mail_acc a = {out, 0, max ? max : 1000, after_seq};
    int rc = store_scan(txn, DBI(MAIL), &k, add_mail, &a);
    if (rc != 0 && rc != 1)
        r = STORE_ERR_INTERNAL;
    store_read_end(db, txn);
    if (r != STORE_OK)
        store_mails_free(out);
    return r;
}
