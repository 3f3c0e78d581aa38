/* store_rooms_read.c: the rooms' and profiles' reads (list-rooms, the
 * caller's room, show-profile) and the profile checks register and
 * set-profile share. Each read is one read-only transaction that
 * resolves the token first, like store_read.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define DBI(x) (db->dbi[STORE_DBI_##x])

void store_rooms_free(store_rooms *l)
{
    if (!l)
        return;
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Opens a read txn as the token's user; on STORE_OK the caller ends it. */
static store_res begin_as(store_db *db, store_str token, MDB_txn **txn,
                          char buf[STORE_NAME_MAX + 1], store_str *me)
{
    if (store_read_begin(db, txn))
        return STORE_ERR_INTERNAL;
    int rc = store_resolve(db, *txn, token, buf, me);
    if (rc == 0)
        return STORE_OK;
    store_read_end(db, *txn);
    return rc == MDB_NOTFOUND ? STORE_NOT_LOGGED_IN : STORE_ERR_INTERNAL;
}

static int count_entries(void *arg, const MDB_val *suffix, const MDB_val *val)
{
    (*(uint32_t *)arg)++;
    return 0;
}

static store_room *add_room(store_rooms *l, size_t *cap)
{
    if (l->n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        store_room *v = realloc(l->v, c * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        *cap = c;
    }
    store_room *r = &l->v[l->n++];
    memset(r, 0, sizeof *r);
    return r;
}

typedef struct room_acc {
    store_db *db;
    MDB_txn *txn;
    store_rooms *out;
    size_t cap;
} room_acc;

/* One room_seq row (seq -> name): the room with its creator and count. */
static int add_listed(void *arg, const MDB_val *key, const MDB_val *val)
{
    room_acc *a = arg;
    store_db *db = a->db;
    store_room *r = add_room(a->out, &a->cap);
    if (!r)
        return ENOMEM;
    size_t n = val->mv_size > STORE_NAME_MAX ? STORE_NAME_MAX : val->mv_size;
    memcpy(r->name, val->mv_data, n);
    MDB_val kv = store_val(r->name, n), v;
    int rc = mdb_get(a->txn, DBI(ROOMS), &kv, &v);
    if (rc)
        return rc;
    store_dec d;
    store_dec_init(&d, &v);
    store_dec_str(&d, r->creator, sizeof r->creator);
    store_key k;
    store_key_prefix(&k, store_s(r->name));
    return store_scan(a->txn, DBI(ROOM_MEMBERS), &k, count_entries, &r->count);
}

store_res store_list_rooms(store_db *db, store_str token, store_rooms *out)
{
    char buf[STORE_NAME_MAX + 1];
    store_str me;
    MDB_txn *txn;
    MDB_stat ss, ms;
    memset(out, 0, sizeof *out);
    store_res r = begin_as(db, token, &txn, buf, &me);
    if (r != STORE_OK)
        return r;
    room_acc a = {db, txn, out, 0};
    store_room *lobby = add_room(out, &a.cap);
    store_key none = {0};
    if (!lobby || mdb_stat(txn, DBI(SESSIONS), &ss) ||
        mdb_stat(txn, DBI(ROOM_MEMBERS), &ms) ||
        store_scan(txn, DBI(ROOM_SEQ), &none, add_listed, &a)) {
        r = STORE_ERR_INTERNAL;
    } else {
        lobby = &out->v[0]; /* add_listed may have moved the array */
        strcpy(lobby->name, STORE_LOBBY_NAME);
        /* every room member is online, so this is who is in no room */
        lobby->count = (uint32_t)(ss.ms_entries - ms.ms_entries);
    }
    store_read_end(db, txn);
    if (r != STORE_OK)
        store_rooms_free(out);
    return r;
}

store_res store_current_room(store_db *db, store_str token,
                             char room[STORE_NAME_MAX + 1])
{
    char buf[STORE_NAME_MAX + 1];
    store_str me;
    MDB_txn *txn;
    strcpy(room, STORE_LOBBY_NAME);
    store_res r = begin_as(db, token, &txn, buf, &me);
    if (r != STORE_OK)
        return r;
    MDB_val kv = store_val(me.ptr, me.len), v;
    int rc = mdb_get(txn, DBI(USER_ROOM), &kv, &v);
    if (rc == 0 && v.mv_size <= STORE_NAME_MAX) {
        memcpy(room, v.mv_data, v.mv_size);
        room[v.mv_size] = 0;
    } else if (rc != MDB_NOTFOUND) {
        r = STORE_ERR_INTERNAL;
    }
    store_read_end(db, txn);
    return r;
}

store_res store_show_profile(store_db *db, store_str token, store_str name,
                             store_user *out, int *has)
{
    char buf[STORE_NAME_MAX + 1];
    store_str me;
    MDB_txn *txn;
    *has = 0;
    memset(out, 0, sizeof *out);
    store_res r = begin_as(db, token, &txn, buf, &me);
    if (r != STORE_OK)
        return r;
    store_read_end(db, txn);
    /* The token is checked first; the account is one more read. */
    r = store_get_user(db, name, out);
    out->hash[0] = 0; /* never leaves the store's callers by accident */
    *has = r == STORE_OK && out->first[0] != 0;
    return r;
}

/* Length of the UTF-8 sequence at @p (at most @left bytes) and its code
 * point, or 0 when it is not valid (overlong, surrogate, > U+10FFFF). */
static size_t utf8_next(const unsigned char *p, size_t left, uint32_t *cp)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n = p[0] < 0x80             ? 1
               : (p[0] & 0xe0) == 0xc0 ? 2
               : (p[0] & 0xf0) == 0xe0 ? 3
               : (p[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    if (n == 0 || n > left)
        return 0;
    uint32_t c = n == 1 ? p[0] : p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

int store_valid_printable(store_str s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    if (s.len == 0 || s.len > max || p[0] == ' ' || p[s.len - 1] == ' ')
        return 0;
    for (size_t i = 0; i < s.len;) {
        uint32_t c;
        size_t n = utf8_next(p + i, s.len - i, &c);
        if (n == 0 || c < 0x20 || (c >= 0x7f && c <= 0x9f))
            return 0;
        i += n;
    }
    return 1;
}

store_res store_check_profile(store_str first, store_str last, uint32_t age,
                              store_str gender)
{
    if (!store_valid_printable(first, STORE_NAME_MAX) ||
        !store_valid_printable(last, STORE_NAME_MAX) ||
        !store_valid_printable(gender, STORE_NAME_MAX))
        return STORE_BAD_PROFILE;
    return age > STORE_AGE_MAX ? STORE_BAD_AGE : STORE_OK;
}
