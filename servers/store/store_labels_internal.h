/* store_labels_internal.h: what the knowledge base's files share (and
 * nothing else may use): key builders for its longer keys, the label,
 * reservation and draft records, and the small helpers every command
 * uses. The schema itself is described at the top of store_labels.c. */
#ifndef STORE_LABELS_INTERNAL_H
#define STORE_LABELS_INTERNAL_H

#include "store_internal.h"
#include "store_labels.h"

#define LDBI(x) (db->dbi[STORE_DBI_##x])

/* user \0 group \0 label is the longest key: 3 * 64 + 2 bytes. Names and
 * labels never hold NUL, so a NUL ends each part unambiguously. */
typedef struct store_kb_key {
    size_t len;
    unsigned char b[3 * STORE_NAME_MAX + 2 + 8];
} store_kb_key;
void store_kb_key_start(store_kb_key *k, store_str first);
void store_kb_key_add(store_kb_key *k, store_str part); /* \0 part */
void store_kb_key_u64(store_kb_key *k, uint64_t v);     /* \0 v, big-endian */
MDB_val store_kb_key_val(const store_kb_key *k);

/* A label record (labels: group \0 label). */
typedef struct store_kb_label {
    uint64_t id, rev, time_ms;
    char author[STORE_NAME_MAX + 1];
    store_str text; /* points into the map: dies at the txn's next write */
} store_kb_label;
/* 0 and *r, MDB_NOTFOUND, or an error. */
int store_kb_label_get(store_db *db, MDB_txn *txn, store_str group,
                       store_str label, store_kb_label *r);
/* Writes the text as @me's at @now; creates the label (next id, count + 1,
 * the id index) when it does not exist. Sets *rev and *id. */
int store_kb_label_put(store_db *db, MDB_txn *txn, store_str group,
                       store_str label, store_str text, store_str me,
                       uint64_t now, uint64_t *rev, uint32_t *id);
/* The label's revision, 0 when it does not exist. */
int store_kb_rev(store_db *db, MDB_txn *txn, store_str group, store_str label,
                 uint64_t *rev);
/* The group's label count (0 when it has none). */
int store_kb_count(store_db *db, MDB_txn *txn, store_str group, uint32_t *n);

/* A label's latest reservation (label_res: group \0 label). @claims
 * counts the held rows (label_held) of any user that point at this label:
 * the row goes when it is 0, and until then it remembers who reserved
 * last (res_seq) for late writes. */
typedef struct store_kb_res {
    char holder[STORE_NAME_MAX + 1];
    uint64_t expiry_ms; /* 0: ended (written, dropped, session over) */
    uint64_t res_seq;   /* the global seq of the latest reservation */
    uint64_t claims;
} store_kb_res;
int store_kb_res_get(store_db *db, MDB_txn *txn, store_str group,
                     store_str label, store_kb_res *r);
int store_kb_res_put(store_db *db, MDB_txn *txn, store_str group,
                     store_str label, const store_kb_res *r);
/* *live = 1 when @r's lease runs at @now and its holder has a session. */
int store_kb_res_live(store_db *db, MDB_txn *txn, const store_kb_res *r,
                      uint64_t now, int *live);

/* A user's own reservation (label_held: user \0 group \0 label). */
typedef struct store_kb_held {
    uint64_t res_seq;  /* which reservation: compared with store_kb_res's */
    uint64_t seen_rev; /* the label's revision when it was made (0: new) */
    uint64_t expiry_ms;
} store_kb_held;
int store_kb_held_get(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_str label, store_kb_held *h);
int store_kb_held_put(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_str label, const store_kb_held *h);
/* Ends @me's reservation @h of the label: its held row goes, the label's
 * claim count drops (the row goes at 0), and if it was the latest its
 * lease ends now. */
int store_kb_held_end(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_str label, const store_kb_held *h);

/* Keeps @text as @me's draft of the label (replacing @me's older one). */
int store_kb_draft_put(store_db *db, MDB_txn *txn, store_str group,
                       store_str label, store_str me, store_str text,
                       uint64_t now);
/* Removes @me's draft of the label, if any. */
int store_kb_draft_del(store_db *db, MDB_txn *txn, store_str group,
                       store_str label, store_str me);

/* Splits the suffix "group \0 label" of a per-user key. */
int store_kb_split(const MDB_val *suffix, store_str *group, store_str *label);

/* A user's rows of a per-user table (label_held, label_draft_by), copied
 * out before the caller writes: map pointers die at a write. */
typedef struct store_kb_row {
    unsigned char k[2 * STORE_NAME_MAX + 1]; /* group \0 label */
    size_t klen;
    unsigned char v[24];
    size_t vlen;
} store_kb_row;
typedef struct store_kb_rows {
    size_t n, cap;
    store_kb_row *v; /* free() it */
} store_kb_rows;
int store_kb_collect(MDB_txn *txn, MDB_dbi dbi, store_str user,
                     store_kb_rows *rows);
int store_kb_row_split(const store_kb_row *r, store_str *group,
                       store_str *label);

/* The shared checks: access, then the label's rules. Returns 1 when they
 * decided the outcome (*res set), 0 to go on, in *rc an LMDB error. */
int store_kb_gate(store_db *db, MDB_txn *txn, store_str me, store_str group,
                  store_str label, store_res *res, int *rc);

#endif
