/* store_internal.h: what the store's data-layer files share and nothing
 * outside servers/store (and its white-box tests) may use: the handle's
 * layout, the named databases, key builders and the value codec. */
#ifndef STORE_INTERNAL_H
#define STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>

#include "store_db.h"

enum store_dbi {
    STORE_DBI_META,         /* "seq" -> u64 global sequence, "version" */
    STORE_DBI_USERS,        /* name -> user record */
    STORE_DBI_TOKENS,       /* token -> name */
    STORE_DBI_SESSIONS,     /* name -> session record */
    STORE_DBI_INV,          /* invitee \0 seq -> inviter */
    STORE_DBI_INV_IDX,      /* invitee \0 inviter -> seq */
    STORE_DBI_INV_OUT,      /* inviter \0 invitee -> seq */
    STORE_DBI_FRIENDS,      /* user \0 seq -> friend */
    STORE_DBI_FRIEND_IDX,   /* user \0 friend -> seq */
    STORE_DBI_POSTS,        /* author \0 seq -> text */
    STORE_DBI_GROUPS,       /* group -> creator, seq */
    STORE_DBI_GROUP_SEQ,    /* seq -> group */
    STORE_DBI_MEMBERS,      /* group \0 user -> join seq */
    STORE_DBI_JOINED,       /* user \0 seq -> group */
    STORE_DBI_MAIL,         /* user \0 seq -> delivery */
    STORE_DBI_REQIDS,       /* 16-byte id -> stored result */
    STORE_DBI_REQTIME,      /* u64 time \0... id -> "" (prune order) */
    STORE_DBI_ROOMS,        /* room -> creator, seq (store_rooms.c) */
    STORE_DBI_ROOM_SEQ,     /* seq -> room: creation order */
    STORE_DBI_ROOM_MEMBERS, /* room \0 user -> seq (lobby is implicit) */
    STORE_DBI_USER_ROOM,    /* user -> room, absent = lobby */
    /* the knowledge base: keys and values in store_labels.c */
    STORE_DBI_LABELS,
    STORE_DBI_LABEL_IDS,
    STORE_DBI_LABEL_COUNT,
    STORE_DBI_LABEL_DRAFTS,
    STORE_DBI_LABEL_DRAFT_BY,
    STORE_DBI_LABEL_RES,
    STORE_DBI_LABEL_HELD,
    STORE_DBI_LABEL_ROUND,
    STORE_DBI_COUNT
};

struct store_db {
    MDB_env *env;
    MDB_dbi dbi[STORE_DBI_COUNT];
    /* Readers hold it shared; a map resize holds it exclusive, because
     * LMDB forbids mdb_env_set_mapsize while any txn of the process runs. */
    pthread_rwlock_t maplock;
    pthread_mutex_t wlock; /* serialises store_db_apply callers */
    size_t map_size, map_max;
    uint64_t reqid_ttl_ms;
    int stale_readers;
};

/* Keys: a name never holds NUL, so "name\0" is an unambiguous prefix and
 * big-endian seqs after it sort numerically = creation order. */
#define STORE_KEY_MAX (2 * STORE_NAME_MAX + 2 + 8)
typedef struct store_key {
    size_t len;
    unsigned char
        b[STORE_KEY_MAX > STORE_TOKEN_MAX ? STORE_KEY_MAX : STORE_TOKEN_MAX];
} store_key;

void store_key_name(store_key *k, store_str name);   /* name */
void store_key_prefix(store_key *k, store_str name); /* name\0 */
void store_key_name_seq(store_key *k, store_str name, uint64_t seq);
void store_key_pair(store_key *k, store_str a, store_str b); /* a\0b */
void store_put_u64(unsigned char *p, uint64_t v);
uint64_t store_get_u64(const unsigned char *p);
/* The seq that ends a name\0seq key (0 if the key is too short). */
uint64_t store_key_seq(const MDB_val *k);

/* Value codec: u64s big-endian, strings as u16 length + bytes. */
#define STORE_VAL_MAX (STORE_TEXT_MAX + 4 * STORE_ENDPOINT_MAX + 64)
typedef struct store_enc {
    size_t len;
    unsigned char b[STORE_VAL_MAX];
} store_enc;
void store_enc_u64(store_enc *e, uint64_t v);
void store_enc_str(store_enc *e, store_str s);

typedef struct store_dec {
    const unsigned char *p;
    size_t left;
    int bad; /* set when a field ran past the end: a corrupt record */
} store_dec;
void store_dec_init(store_dec *d, const MDB_val *v);
uint64_t store_dec_u64(store_dec *d);
/* Copies a string field into @dst (size @cap, NUL-terminated, truncated);
 * returns the field as a store_str pointing into the map. */
store_str store_dec_str(store_dec *d, char *dst, size_t cap);

/* MDB_val views. */
MDB_val store_val(const void *p, size_t len);
store_str store_vstr(const MDB_val *v);

/* Validation: 1..max bytes, no NUL; names also no whitespace. */
int store_valid_name(store_str s);
int store_valid_token(store_str s);
int store_valid_text(store_str s, size_t max, int allow_empty);

uint64_t store_now_ms(void);

/* Deletes every key starting with @prefix in @dbi. Returns an LMDB rc. */
int store_del_prefix(MDB_txn *txn, MDB_dbi dbi, const store_key *prefix);

/* Calls @fn for every entry whose key starts with @prefix, in key order,
 * until it returns nonzero (that value is returned; 0 at the end). @fn gets
 * the key with the prefix stripped. Map pointers: valid only in @fn. */
typedef int (*store_scan_fn)(void *arg, const MDB_val *suffix,
                             const MDB_val *val);
int store_scan(MDB_txn *txn, MDB_dbi dbi, const store_key *prefix,
               store_scan_fn fn, void *arg);

/* Names gathered by a scan before writing: a scan's map pointers do not
 * survive a put in the same write txn. Free v with free(). */
typedef struct store_name_vec {
    size_t n, cap;
    char (*v)[STORE_NAME_MAX + 1];
} store_name_vec;
/* store_scan callbacks appending the key suffix / the value to a vec. */
int store_collect_suffix(void *vec, const MDB_val *suffix, const MDB_val *val);
int store_collect_value(void *vec, const MDB_val *suffix, const MDB_val *val);

/* Token -> user name inside @txn: 0 and *user (copied into @buf, because
 * map pointers of a write txn die at its next update) when valid,
 * MDB_NOTFOUND when missing/stale, another rc on failure. */
int store_resolve(store_db *db, MDB_txn *txn, store_str token,
                  char buf[STORE_NAME_MAX + 1], store_str *user);

/* Applies one op inside @txn (a child txn). Returns an LMDB rc (0 = the
 * business outcome is in op->out.res). Defined in store_ops.c. */
int store_op_apply(store_db *db, MDB_txn *txn, store_wop *op);

/* Rooms (store_rooms.c): the user's session ended (logout, delete, end
 * session): leave its room, delete the rooms it created (their members go
 * back to lobby, each with a STORE_MAIL_ROOM_CLOSED notice, counted into
 * *notices). Returns an LMDB rc. */
int store_rooms_session_end(store_db *db, MDB_txn *txn, store_str user,
                            uint32_t *notices);
/* The rooms' write ops, for store_ops.c's table. */
int store_op_create_room(store_db *db, MDB_txn *txn, store_wop *op,
                         store_str me);
int store_op_join_room(store_db *db, MDB_txn *txn, store_wop *op, store_str me);
int store_op_leave_room(store_db *db, MDB_txn *txn, store_wop *op,
                        store_str me);
int store_op_delete_room(store_db *db, MDB_txn *txn, store_wop *op,
                         store_str me);
int store_op_say(store_db *db, MDB_txn *txn, store_wop *op, store_str me);
int store_op_private(store_db *db, MDB_txn *txn, store_wop *op, store_str me);
int store_op_set_profile(store_db *db, MDB_txn *txn, store_wop *op,
                         store_str me);
/* The next value of the global sequence (store_ops.c). */
int store_next_seq(store_db *db, MDB_txn *txn, uint64_t *seq);
/* Appends one mailbox entry for @to (store_ops.c). */
int store_mail_append(store_db *db, MDB_txn *txn, store_str to,
                      store_mail_kind kind, store_str from, store_str group,
                      store_str text, uint64_t *seq);
/* Read-txn bracket with the map lock held shared. */
int store_read_begin(store_db *db, MDB_txn **txn);
void store_read_end(store_db *db, MDB_txn *txn);

/* For white-box tests: the environment itself. */
MDB_env *store_db_env(store_db *db);

#endif
