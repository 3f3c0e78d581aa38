/* store_labels.c: the knowledge base's records and the commands built on
 * them alone (import, a user's removal); reservations are in
 * store_labels_lunch.c, reads in store_labels_read.c, rounds in
 * store_labels_round.c. The schema (keys end in big-endian numbers, so a
 * cursor scan is creation order; a NUL ends each name or label):
 *   labels       group \0 label        -> id, rev, time, author, text
 *   label_ids    group \0 id           -> label       (creation order)
 *   label_count  group                 -> n           (next id; ids dense)
 *   label_drafts group \0 label \0 seq -> author, time, text (oldest first)
 *   label_draft_by  user \0 group \0 label -> seq     (one draft per author
 *                                          and label; a user's removal)
 *   label_res    group \0 label        -> holder, expiry, res_seq, claims
 *   label_held   user \0 group \0 label -> res_seq, seen_rev, expiry
 *   label_round  user \0 group         -> 21 bytes (store_round.h)
 * Why two reservation tables: label_res is what others see (who holds the
 * label, until when, and which reservation was the latest), label_held is
 * the holder's own claim, which outlives its lease so that a late write
 * can still be judged, and which goes at write, drop or session end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_labels_internal.h"

void store_kb_key_start(store_kb_key *k, store_str first)
{
    memcpy(k->b, first.ptr, first.len);
    k->len = first.len;
}

void store_kb_key_add(store_kb_key *k, store_str part)
{
    k->b[k->len++] = 0;
    memcpy(k->b + k->len, part.ptr, part.len);
    k->len += part.len;
}

void store_kb_key_u64(store_kb_key *k, uint64_t v)
{
    k->b[k->len++] = 0;
    store_put_u64(k->b + k->len, v);
    k->len += 8;
}

MDB_val store_kb_key_val(const store_kb_key *k)
{
    return store_val(k->b, k->len);
}

static void pair_key(store_kb_key *k, store_str a, store_str b)
{
    store_kb_key_start(k, a);
    store_kb_key_add(k, b);
}

static int get_k(MDB_txn *txn, MDB_dbi dbi, const store_kb_key *k, MDB_val *v)
{
    MDB_val kv = store_kb_key_val(k), tmp;
    return mdb_get(txn, dbi, &kv, v ? v : &tmp);
}

static int put_k(MDB_txn *txn, MDB_dbi dbi, const store_kb_key *k,
                 const void *p, size_t n)
{
    MDB_val kv = store_kb_key_val(k), v = store_val(p, n);
    return mdb_put(txn, dbi, &kv, &v, 0);
}

static int del_k(MDB_txn *txn, MDB_dbi dbi, const store_kb_key *k)
{
    MDB_val kv = store_kb_key_val(k);
    int rc = mdb_del(txn, dbi, &kv, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_labels_access(store_db *db, MDB_txn *txn, store_str me,
                        store_str group, store_res *res)
{
    store_kb_key k;
    *res = STORE_NO_SUCH_GROUP;
    if (!store_valid_name(me))
        return EINVAL; /* a caller's bug: @me comes from a token */
    if (!store_valid_name(group))
        return 0; /* no group can have that name */
    store_kb_key_start(&k, group);
    int rc = get_k(txn, LDBI(GROUPS), &k, NULL);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    *res = STORE_NOT_MEMBER;
    store_kb_key_add(&k, me);
    rc = get_k(txn, LDBI(MEMBERS), &k, NULL); /* members: group \0 user */
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    *res = STORE_OK;
    return 0;
}

int store_kb_gate(store_db *db, MDB_txn *txn, store_str me, store_str group,
                  store_str label, store_res *res, int *rc)
{
    *rc = store_labels_access(db, txn, me, group, res);
    if (*rc || *res != STORE_OK)
        return 1;
    *res = store_label_check(label);
    return *res != STORE_OK;
}

/* The value at group \0 label of @dbi, ready to decode. */
static int get_label_row(MDB_txn *txn, MDB_dbi dbi, store_str group,
                         store_str label, store_dec *d)
{
    store_kb_key k;
    MDB_val v;
    pair_key(&k, group, label);
    int rc = get_k(txn, dbi, &k, &v);
    if (rc == 0)
        store_dec_init(d, &v);
    return rc;
}

int store_kb_label_get(store_db *db, MDB_txn *txn, store_str group,
                       store_str label, store_kb_label *r)
{
    store_dec d;
    int rc = get_label_row(txn, LDBI(LABELS), group, label, &d);
    if (rc)
        return rc;
    r->id = store_dec_u64(&d);
    r->rev = store_dec_u64(&d);
    r->time_ms = store_dec_u64(&d);
    store_dec_str(&d, r->author, sizeof r->author);
    r->text = store_dec_str(&d, NULL, 0);
    return d.bad ? MDB_CORRUPTED : 0;
}

int store_kb_count(store_db *db, MDB_txn *txn, store_str group, uint32_t *n)
{
    store_kb_key k;
    MDB_val v;
    store_kb_key_start(&k, group);
    int rc = get_k(txn, LDBI(LABEL_COUNT), &k, &v);
    *n = 0;
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    if (v.mv_size != 8)
        return MDB_CORRUPTED;
    *n = (uint32_t)store_get_u64(v.mv_data);
    return 0;
}

/* A new label: the next id of its group, and the id -> label index. */
static int label_new_id(store_db *db, MDB_txn *txn, store_str group,
                        store_str label, uint32_t *id)
{
    store_kb_key k;
    unsigned char b[8];
    int rc = store_kb_count(db, txn, group, id);
    if (rc)
        return rc;
    if (*id == UINT32_MAX)
        return MDB_MAP_FULL; /* 4 billion labels in one group */
    store_kb_key_start(&k, group);
    store_put_u64(b, (uint64_t)*id + 1);
    if ((rc = put_k(txn, LDBI(LABEL_COUNT), &k, b, 8)))
        return rc;
    store_kb_key_u64(&k, *id);
    return put_k(txn, LDBI(LABEL_IDS), &k, label.ptr, label.len);
}

int store_kb_label_put(store_db *db, MDB_txn *txn, store_str group,
                       store_str label, store_str text, store_str me,
                       uint64_t now, uint64_t *rev, uint32_t *id)
{
    store_kb_label old;
    int rc = store_kb_label_get(db, txn, group, label, &old);
    if (rc == MDB_NOTFOUND) {
        old.rev = 0;
        rc = label_new_id(db, txn, group, label, id);
    } else {
        *id = (uint32_t)old.id;
    }
    if (rc)
        return rc;
    *rev = old.rev + 1;
    store_enc e = {0};
    store_enc_u64(&e, *id);
    store_enc_u64(&e, *rev);
    store_enc_u64(&e, now);
    store_enc_str(&e, me);
    store_enc_str(&e, text);
    store_kb_key k;
    pair_key(&k, group, label);
    return put_k(txn, LDBI(LABELS), &k, e.b, e.len);
}

int store_kb_rev(store_db *db, MDB_txn *txn, store_str group, store_str label,
                 uint64_t *rev)
{
    store_kb_label cur;
    int rc = store_kb_label_get(db, txn, group, label, &cur);
    *rev = rc == 0 ? cur.rev : 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_kb_res_get(store_db *db, MDB_txn *txn, store_str group,
                     store_str label, store_kb_res *r)
{
    store_dec d;
    int rc = get_label_row(txn, LDBI(LABEL_RES), group, label, &d);
    if (rc)
        return rc;
    store_dec_str(&d, r->holder, sizeof r->holder);
    r->expiry_ms = store_dec_u64(&d);
    r->res_seq = store_dec_u64(&d);
    r->claims = store_dec_u64(&d);
    return d.bad ? MDB_CORRUPTED : 0;
}

int store_kb_res_put(store_db *db, MDB_txn *txn, store_str group,
                     store_str label, const store_kb_res *r)
{
    store_kb_key k;
    pair_key(&k, group, label);
    if (r->claims == 0)
        return del_k(txn, LDBI(LABEL_RES), &k);
    store_enc e = {0};
    store_enc_str(&e, store_s(r->holder));
    store_enc_u64(&e, r->expiry_ms);
    store_enc_u64(&e, r->res_seq);
    store_enc_u64(&e, r->claims);
    return put_k(txn, LDBI(LABEL_RES), &k, e.b, e.len);
}

static void held_key(store_kb_key *k, store_str me, store_str group,
                     store_str label)
{
    store_kb_key_start(k, me);
    store_kb_key_add(k, group);
    store_kb_key_add(k, label);
}

int store_kb_held_get(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_str label, store_kb_held *h)
{
    store_kb_key k;
    MDB_val v;
    held_key(&k, me, group, label);
    int rc = get_k(txn, LDBI(LABEL_HELD), &k, &v);
    if (rc)
        return rc;
    if (v.mv_size != 24)
        return MDB_CORRUPTED;
    const unsigned char *p = v.mv_data;
    h->res_seq = store_get_u64(p);
    h->seen_rev = store_get_u64(p + 8);
    h->expiry_ms = store_get_u64(p + 16);
    return 0;
}

int store_kb_held_put(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_str label, const store_kb_held *h)
{
    store_kb_key k;
    unsigned char b[24];
    held_key(&k, me, group, label);
    store_put_u64(b, h->res_seq);
    store_put_u64(b + 8, h->seen_rev);
    store_put_u64(b + 16, h->expiry_ms);
    return put_k(txn, LDBI(LABEL_HELD), &k, b, sizeof b);
}

int store_kb_held_end(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_str label, const store_kb_held *h)
{
    store_kb_key k;
    store_kb_res r;
    held_key(&k, me, group, label);
    int rc = del_k(txn, LDBI(LABEL_HELD), &k);
    if (rc)
        return rc;
    rc = store_kb_res_get(db, txn, group, label, &r);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc; /* cannot be: a claim counts */
    if (r.res_seq == h->res_seq)
        r.expiry_ms = 0; /* the latest reservation ends now */
    if (r.claims)
        r.claims--;
    return store_kb_res_put(db, txn, group, label, &r);
}

int store_kb_draft_del(store_db *db, MDB_txn *txn, store_str group,
                       store_str label, store_str me)
{
    store_kb_key k;
    MDB_val v;
    held_key(&k, me, group, label);
    int rc = get_k(txn, LDBI(LABEL_DRAFT_BY), &k, &v);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    if (v.mv_size != 8)
        return MDB_CORRUPTED;
    uint64_t seq = store_get_u64(v.mv_data);
    if ((rc = del_k(txn, LDBI(LABEL_DRAFT_BY), &k)))
        return rc;
    pair_key(&k, group, label);
    store_kb_key_u64(&k, seq);
    return del_k(txn, LDBI(LABEL_DRAFTS), &k);
}

int store_kb_draft_put(store_db *db, MDB_txn *txn, store_str group,
                       store_str label, store_str me, store_str text,
                       uint64_t now)
{
    uint64_t seq;
    unsigned char b[8];
    store_kb_key k;
    int rc = store_kb_draft_del(db, txn, group, label, me);
    if (rc || (rc = store_next_seq(db, txn, &seq)))
        return rc;
    held_key(&k, me, group, label);
    store_put_u64(b, seq);
    if ((rc = put_k(txn, LDBI(LABEL_DRAFT_BY), &k, b, 8)))
        return rc;
    store_enc e = {0};
    store_enc_str(&e, me);
    store_enc_u64(&e, now);
    store_enc_str(&e, text);
    pair_key(&k, group, label);
    store_kb_key_u64(&k, seq);
    return put_k(txn, LDBI(LABEL_DRAFTS), &k, e.b, e.len);
}

int store_kb_split(const MDB_val *suffix, store_str *group, store_str *label)
{
    const char *p = suffix->mv_data;
    const char *nul = memchr(p, 0, suffix->mv_size);
    if (!nul || nul == p || (size_t)(nul - p) + 1 >= suffix->mv_size)
        return MDB_CORRUPTED;
    group->ptr = p;
    group->len = (size_t)(nul - p);
    label->ptr = nul + 1;
    label->len = suffix->mv_size - group->len - 1;
    return 0;
}

/* One imported record: added, unchanged or drafted (counted in @out). */
static int import_one(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      const store_xchg_rec *x, uint64_t now,
                      store_label_import_out *out)
{
    store_kb_label cur;
    store_kb_res r;
    uint64_t rev;
    uint32_t id;
    int rc = store_kb_label_get(db, txn, group, x->label, &cur);
    if (rc == 0) {
        int same = cur.text.len == x->text.len &&
                   memcmp(cur.text.ptr, x->text.ptr, x->text.len) == 0;
        if (same) {
            out->unchanged++;
            return 0;
        }
    } else if (rc == MDB_NOTFOUND) {
        /* a label someone is writing now is theirs to write first */
        int live = 0;
        rc = store_kb_res_get(db, txn, group, x->label, &r);
        if (rc == 0)
            rc = store_kb_res_live(db, txn, &r, now, &live);
        if (rc == MDB_NOTFOUND || (rc == 0 && !live)) {
            out->added++;
            return store_kb_label_put(db, txn, group, x->label, x->text, me,
                                      now, &rev, &id);
        }
    }
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    out->drafted++;
    return store_kb_draft_put(db, txn, group, x->label, me, x->text, now);
}

int store_labels_import(store_db *db, MDB_txn *txn, store_str me,
                        store_str group, store_str data, uint64_t now_ms,
                        store_label_import_out *out)
{
    store_xchg x;
    memset(out, 0, sizeof *out);
    int rc = store_labels_access(db, txn, me, group, &out->res);
    if (rc || out->res != STORE_OK)
        return rc;
    out->res = store_xchg_parse(data, &x);
    if (out->res == STORE_ERR_INTERNAL)
        rc = ENOMEM;
    for (size_t i = 0; rc == 0 && out->res == STORE_OK && i < x.n; i++)
        rc = import_one(db, txn, me, group, &x.v[i], now_ms, out);
    store_xchg_free(&x);
    return rc;
}

static int collect_row(void *arg, const MDB_val *suffix, const MDB_val *val)
{
    store_kb_rows *rows = arg;
    if (suffix->mv_size > sizeof rows->v[0].k ||
        val->mv_size > sizeof rows->v[0].v)
        return MDB_CORRUPTED;
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 8;
        store_kb_row *v = realloc(rows->v, cap * sizeof *v);
        if (!v)
            return ENOMEM;
        rows->v = v;
        rows->cap = cap;
    }
    store_kb_row *r = &rows->v[rows->n++];
    memcpy(r->k, suffix->mv_data, suffix->mv_size);
    r->klen = suffix->mv_size;
    memcpy(r->v, val->mv_data, val->mv_size);
    r->vlen = val->mv_size;
    return 0;
}

int store_kb_collect(MDB_txn *txn, MDB_dbi dbi, store_str user,
                     store_kb_rows *rows)
{
    store_key k;
    store_key_prefix(&k, user);
    return store_scan(txn, dbi, &k, collect_row, rows);
}

int store_kb_row_split(const store_kb_row *r, store_str *group,
                       store_str *label)
{
    MDB_val v = store_val(r->k, r->klen);
    return store_kb_split(&v, group, label);
}

/* The user's drafts, found through label_draft_by. */
static int drop_drafts(store_db *db, MDB_txn *txn, store_str me)
{
    store_kb_rows rows = {0};
    int rc = store_kb_collect(txn, LDBI(LABEL_DRAFT_BY), me, &rows);
    for (size_t i = 0; rc == 0 && i < rows.n; i++) {
        store_str g, l;
        if ((rc = store_kb_row_split(&rows.v[i], &g, &l)))
            break;
        rc = store_kb_draft_del(db, txn, g, l, me);
    }
    free(rows.v);
    return rc;
}

int store_labels_user_delete(store_db *db, MDB_txn *txn, store_str me)
{
    store_key k;
    int rc = store_labels_session_end(db, txn, me, NULL);
    if (rc || (rc = drop_drafts(db, txn, me)))
        return rc;
    store_key_prefix(&k, me);
    return store_del_prefix(txn, LDBI(LABEL_ROUND), &k);
}
