/* store_labels_lunch.c: check-label, write-label, drop-label and the end
 * of a holder's reservations: the lunch problem. A reservation is a lease,
 * not a lock: expiry is a comparison with the clock, so no sweeper is
 * needed for correctness. A write is judged in its own transaction from
 * two facts: was the writer's reservation the label's latest (res_seq),
 * and is the label's revision the one it saw. Both true: written (the
 * lease may have ended; nobody acted meanwhile). Otherwise the text is
 * kept as a draft, so no update is lost and no text thrown away. Growth is
 * bounded without a sweeper: label_held rows go at write, drop or session
 * end (at most STORE_LABEL_HOLD_MAX per user), label_res rows when their
 * last claim goes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_labels_internal.h"

static uint32_t secs_up(uint64_t ms)
{
    uint64_t s = (ms + 999) / 1000;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

int store_kb_res_live(store_db *db, MDB_txn *txn, const store_kb_res *r,
                      uint64_t now, int *live)
{
    *live = 0;
    if (r->expiry_ms <= now)
        return 0;
    /* A reservation never outlives its holder's session, even if the
     * session's end did not reach store_labels_session_end. */
    store_key k;
    store_str holder = store_s(r->holder);
    if (!store_valid_name(holder))
        return 0;
    store_key_name(&k, holder);
    MDB_val kv = store_val(k.b, k.len), v;
    int rc = mdb_get(txn, LDBI(SESSIONS), &kv, &v);
    *live = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Room for one more reservation of @me: at STORE_LABEL_HOLD_MAX, the
 * oldest one that ended by time goes; none ended sets *full. */
static int make_room(store_db *db, MDB_txn *txn, store_str me, uint64_t now,
                     int *full)
{
    store_kb_rows rows = {0};
    size_t oldest = SIZE_MAX;
    uint64_t oldest_seq = UINT64_MAX;
    store_kb_held h;
    *full = 0;
    int rc = store_kb_collect(txn, LDBI(LABEL_HELD), me, &rows);
    if (rc || rows.n < STORE_LABEL_HOLD_MAX)
        goto out;
    for (size_t i = 0; i < rows.n; i++) {
        if (rows.v[i].vlen != 24) {
            rc = MDB_CORRUPTED;
            goto out;
        }
        uint64_t seq = store_get_u64(rows.v[i].v);
        if (store_get_u64(rows.v[i].v + 16) <= now && seq < oldest_seq) {
            oldest = i;
            oldest_seq = seq;
        }
    }
    if (oldest == SIZE_MAX) {
        *full = 1;
        goto out;
    }
    store_str g, l;
    if ((rc = store_kb_row_split(&rows.v[oldest], &g, &l)) ||
        (rc = store_kb_held_get(db, txn, me, g, l, &h)))
        goto out;
    rc = store_kb_held_end(db, txn, me, g, l, &h);
out:
    free(rows.v);
    return rc;
}

/* Is the label held by someone else right now? Fills out (BUSY) if so. */
static int busy(store_db *db, MDB_txn *txn, store_str me, const store_kb_res *r,
                uint64_t now, store_label_check_out *out)
{
    int live;
    if (strlen(r->holder) == me.len && memcmp(r->holder, me.ptr, me.len) == 0)
        return 0;
    int rc = store_kb_res_live(db, txn, r, now, &live);
    if (rc == 0 && live) {
        out->res = STORE_LABEL_BUSY;
        memcpy(out->holder, r->holder, sizeof out->holder);
        out->secs = secs_up(r->expiry_ms - now);
    }
    return rc;
}

int store_labels_check(store_db *db, MDB_txn *txn, store_str me,
                       store_str group, store_str label, uint64_t now_ms,
                       uint64_t lease_ms, store_label_check_out *out)
{
    store_kb_res r = {{0}};
    store_kb_held h;
    int rc, full, has_h;
    memset(out, 0, sizeof *out);
    if (store_kb_gate(db, txn, me, group, label, &out->res, &rc))
        return rc;
    if (lease_ms == 0)
        lease_ms = STORE_LABEL_LEASE_MS_DEFAULT;
    rc = store_kb_res_get(db, txn, group, label, &r);
    if (rc == 0)
        rc = busy(db, txn, me, &r, now_ms, out);
    if (rc != MDB_NOTFOUND && (rc || out->res != STORE_OK))
        return rc;
    rc = store_kb_held_get(db, txn, me, group, label, &h);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    has_h = rc == 0;
    if (!has_h && (rc = make_room(db, txn, me, now_ms, &full)))
        return rc;
    if (!has_h && full) {
        out->res = STORE_LABEL_HOLD_MAX;
        return 0;
    }
    /* make_room may have changed rows: read this label's again */
    rc = store_kb_res_get(db, txn, group, label, &r);
    if (rc == MDB_NOTFOUND)
        memset(&r, 0, sizeof r);
    else if (rc)
        return rc;
    if ((rc = store_kb_rev(db, txn, group, label, &h.seen_rev)) ||
        (rc = store_next_seq(db, txn, &h.res_seq)))
        return rc;
    h.expiry_ms = now_ms + lease_ms;
    memcpy(r.holder, me.ptr, me.len);
    r.holder[me.len] = 0;
    r.expiry_ms = h.expiry_ms;
    r.res_seq = h.res_seq;
    r.claims += has_h ? 0 : 1;
    if ((rc = store_kb_res_put(db, txn, group, label, &r)) ||
        (rc = store_kb_held_put(db, txn, me, group, label, &h)))
        return rc;
    out->res = h.seen_rev ? STORE_LABEL_RESERVED : STORE_LABEL_NEW;
    out->secs = secs_up(lease_ms);
    out->rev = h.seen_rev;
    return 0;
}

int store_labels_write(store_db *db, MDB_txn *txn, store_str me,
                       store_str group, store_str label, store_str text,
                       uint64_t now_ms, store_label_write_out *out)
{
    store_kb_held h;
    store_kb_res r;
    int rc;
    memset(out, 0, sizeof *out);
    if (store_kb_gate(db, txn, me, group, label, &out->res, &rc))
        return rc;
    if ((out->res = store_label_text_check(text)) != STORE_OK)
        return 0;
    rc = store_kb_held_get(db, txn, me, group, label, &h);
    if (rc == MDB_NOTFOUND)
        out->res = STORE_LABEL_UNCHECKED;
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    rc = store_kb_res_get(db, txn, group, label, &r);
    if (rc == MDB_NOTFOUND)
        r.res_seq = h.res_seq; /* cannot be: h is one of its claims */
    else if (rc)
        return rc;
    uint64_t rev;
    if ((rc = store_kb_rev(db, txn, group, label, &rev)))
        return rc;
    /* Nobody reserved it after me, and nobody changed it since I looked:
     * writing loses no one's update, whether or not my lease ran out. */
    int mine = r.res_seq == h.res_seq && rev == h.seen_rev;
    if ((rc = store_kb_held_end(db, txn, me, group, label, &h)))
        return rc;
    if (!mine) {
        out->res = STORE_LABEL_DRAFTED;
        return store_kb_draft_put(db, txn, group, label, me, text, now_ms);
    }
    if ((rc = store_kb_label_put(db, txn, group, label, text, me, now_ms,
                                 &out->rev, &out->id)))
        return rc;
    return store_kb_draft_del(db, txn, group, label, me);
}

int store_labels_drop(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_str label, store_res *res)
{
    store_kb_held h;
    int rc;
    if (store_kb_gate(db, txn, me, group, label, res, &rc))
        return rc;
    rc = store_kb_held_get(db, txn, me, group, label, &h);
    if (rc == MDB_NOTFOUND)
        *res = STORE_LABEL_UNCHECKED;
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    return store_kb_held_end(db, txn, me, group, label, &h);
}

int store_labels_session_end(store_db *db, MDB_txn *txn, store_str me,
                             uint32_t *ended)
{
    store_kb_rows rows = {0};
    if (!store_valid_name(me))
        return EINVAL;
    int rc = store_kb_collect(txn, LDBI(LABEL_HELD), me, &rows);
    for (size_t i = 0; rc == 0 && i < rows.n; i++) {
        store_str g, l;
        store_kb_held h;
        if (rows.v[i].vlen != 24 ||
            (rc = store_kb_row_split(&rows.v[i], &g, &l)))
            rc = rc ? rc : MDB_CORRUPTED;
        else if ((rc = store_kb_held_get(db, txn, me, g, l, &h)) == 0 &&
                 (rc = store_kb_held_end(db, txn, me, g, l, &h)) == 0 && ended)
            (*ended)++;
    }
    free(rows.v);
    return rc;
}
