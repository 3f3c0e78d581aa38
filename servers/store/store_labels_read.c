/* store_labels_read.c: the knowledge base's reads: show-label (the text
 * and its drafts), list-labels and export-labels (creation order, by
 * pages so no reply has to hold 50,000 labels at once). Each runs in the
 * read transaction its caller gives; the labels' ids are dense per group,
 * so a page is a range scan of label_ids from a given id. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_labels_internal.h"

static char *dup_str(store_str s)
{
    char *p = malloc(s.len + 1);
    if (p) {
        memcpy(p, s.ptr, s.len);
        p[s.len] = 0;
    }
    return p;
}

void store_label_view_free(store_label_view *v)
{
    if (!v)
        return;
    free(v->text);
    for (size_t i = 0; i < v->n; i++)
        free(v->drafts[i].text);
    free(v->drafts);
    memset(v, 0, sizeof *v);
}

typedef struct drafts_acc {
    store_label_view *v;
    size_t cap;
} drafts_acc;

static int add_draft(void *arg, const MDB_val *suffix, const MDB_val *val)
{
    drafts_acc *a = arg;
    store_label_view *v = a->v;
    if (v->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        store_label_draft *d = realloc(v->drafts, cap * sizeof *d);
        if (!d)
            return ENOMEM;
        v->drafts = d;
        a->cap = cap;
    }
    store_label_draft *d = &v->drafts[v->n];
    store_dec dec;
    store_dec_init(&dec, val);
    store_dec_str(&dec, d->author, sizeof d->author);
    d->time_ms = store_dec_u64(&dec);
    store_str text = store_dec_str(&dec, NULL, 0);
    if (dec.bad)
        return MDB_CORRUPTED;
    if (!(d->text = dup_str(text)))
        return ENOMEM;
    v->n++;
    return 0;
}

int store_labels_show(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_str label, store_label_view *out)
{
    store_kb_label cur;
    store_key k;
    int rc;
    memset(out, 0, sizeof *out);
    if (store_kb_gate(db, txn, me, group, label, &out->res, &rc))
        return rc;
    rc = store_kb_label_get(db, txn, group, label, &cur);
    if (rc == 0) {
        memcpy(out->author, cur.author, sizeof out->author);
        out->rev = cur.rev;
        out->time_ms = cur.time_ms;
        out->id = (uint32_t)cur.id;
        if (!(out->text = dup_str(cur.text)))
            rc = ENOMEM;
    } else if (rc == MDB_NOTFOUND) {
        out->res = STORE_NO_SUCH_LABEL;
        rc = 0;
    }
    /* drafts: group \0 label \0 seq, in seq order = oldest first */
    store_key_pair(&k, group, label);
    k.b[k.len++] = 0;
    drafts_acc a = {out, 0};
    if (rc == 0)
        rc = store_scan(txn, LDBI(LABEL_DRAFTS), &k, add_draft, &a);
    if (rc) {
        store_res res = out->res;
        store_label_view_free(out);
        out->res = res;
    }
    return rc;
}

/* Calls @fn for each label id >= @from of @group in order until it
 * returns nonzero (SCAN_STOP: stop, no error). Sets *next to the id after
 * the last one taken. */
#define SCAN_STOP (-1)
typedef int (*label_fn)(void *arg, uint32_t id, store_str label);
static int scan_ids(store_db *db, MDB_txn *txn, store_str group, uint32_t from,
                    label_fn fn, void *arg, uint32_t *next)
{
    store_kb_key k;
    MDB_cursor *c = NULL;
    store_kb_key_start(&k, group);
    store_kb_key_u64(&k, from);
    size_t plen = k.len - 8;
    *next = from;
    int rc = mdb_cursor_open(txn, LDBI(LABEL_IDS), &c);
    if (rc)
        return rc;
    MDB_val kv = store_kb_key_val(&k), v;
    rc = mdb_cursor_get(c, &kv, &v, MDB_SET_RANGE);
    while (rc == 0 && kv.mv_size == plen + 8 &&
           memcmp(kv.mv_data, k.b, plen) == 0) {
        uint32_t id = (uint32_t)store_key_seq(&kv);
        if ((rc = fn(arg, id, store_vstr(&v))))
            break;
        *next = id + 1;
        rc = mdb_cursor_get(c, &kv, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND || rc == SCAN_STOP ? 0 : rc;
}

typedef struct list_acc {
    store_names *names;
    size_t cap, max;
} list_acc;

static int add_name(void *arg, uint32_t id, store_str label)
{
    list_acc *a = arg;
    store_names *l = a->names;
    if (a->max && l->n >= a->max)
        return SCAN_STOP;
    if (l->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return ENOMEM;
        l->v = v;
        a->cap = cap;
    }
    if (!(l->v[l->n] = dup_str(label)))
        return ENOMEM;
    l->n++;
    return 0;
}

/* Access, then the group's count into page->total. */
static int page_begin(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_label_page *page)
{
    memset(page, 0, sizeof *page);
    int rc = store_labels_access(db, txn, me, group, &page->res);
    if (rc || page->res != STORE_OK)
        return rc;
    return store_kb_count(db, txn, group, &page->total);
}

int store_labels_list(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      uint32_t from, size_t max, store_names *names,
                      store_label_page *page)
{
    memset(names, 0, sizeof *names);
    int rc = page_begin(db, txn, me, group, page);
    if (rc || page->res != STORE_OK)
        return rc;
    list_acc a = {names, 0, max};
    rc = scan_ids(db, txn, group, from, add_name, &a, &page->next);
    if (rc)
        store_names_free(names);
    return rc;
}

typedef struct export_acc {
    store_db *db;
    MDB_txn *txn;
    store_str group;
    store_buf *line;
    size_t max;
} export_acc;

static int add_record(void *arg, uint32_t id, store_str label)
{
    export_acc *a = arg;
    store_db *db = a->db;
    store_kb_label r;
    int rc = store_kb_label_get(db, a->txn, a->group, label, &r);
    if (rc)
        return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
    size_t need = (a->line->len ? 1 : 0) + label.len + r.text.len + 11;
    if (a->max && a->line->len && a->line->len + need > a->max)
        return SCAN_STOP;
    return store_xchg_append(a->line, label, r.text);
}

int store_labels_export(store_db *db, MDB_txn *txn, store_str me,
                        store_str group, uint32_t from, size_t max_bytes,
                        store_buf *line, store_label_page *page)
{
    memset(line, 0, sizeof *line);
    int rc = page_begin(db, txn, me, group, page);
    if (rc || page->res != STORE_OK)
        return rc;
    export_acc a = {db, txn, group, line, max_bytes};
    rc = scan_ids(db, txn, group, from, add_record, &a, &page->next);
    if (rc)
        store_buf_free(line);
    return rc;
}
