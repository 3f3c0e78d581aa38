/* store_labels.h: the group knowledge base's data layer (PROTOCOL.md
 * "Group knowledge base (labels)"): labels and their texts, drafts beside
 * them, reservations that solve the lunch problem, and next-label's rounds,
 * in the store's LMDB environment. Each function is one command's whole
 * work inside a transaction its caller owns, so a store op is an adapter
 * of a few lines: a write runs in the child txn store_db_apply gives it
 * (one group commit, one request id), a read in a txn of store_read_begin.
 *
 * Shared by every function below:
 * - @me is the acting user, already resolved from its token (the caller
 *   answers STORE_NOT_LOGGED_IN before calling); @now_ms is the wall clock
 *   (injected, so tests can move it).
 * - Checks run in PROTOCOL.md's order and the first failing one is the
 *   result: STORE_NO_SUCH_GROUP (also for a name no group can have),
 *   STORE_NOT_MEMBER, then the label's rules (store_label_check), then the
 *   text's (store_label_text_check), then the command's own outcomes.
 * - The return value is 0 when the command ran (its outcome is in the out
 *   struct's res) or an LMDB/errno code (MDB_MAP_FULL, ENOMEM, a corrupt
 *   record as MDB_CORRUPTED, EINVAL for a @me that is no valid user name,
 *   ...) when it could not: the caller aborts the
 *   txn, and store_db_apply grows the map and retries on MDB_MAP_FULL. A
 *   write's txn keeps its changes only when store_res_commits(res); every
 *   other result changed nothing.
 * Out structs that own memory have a _free function, safe on a zeroed
 * struct and after any result. */
#ifndef STORE_LABELS_H
#define STORE_LABELS_H

#include <lmdb.h>
#include <stdint.h>

#include "store_db.h"
#include "store_label_text.h"
#include "store_round.h"

/** Unended reservations one user may hold (live, or ended by time and
 * kept for the holder's late write). */
#define STORE_LABEL_HOLD_MAX 64
/** The default lease (sbd --label-lease-s 900). */
#define STORE_LABEL_LEASE_MS_DEFAULT (900u * 1000u)

/** Whether @me may use @group's labels. Sets *@res to STORE_OK,
 * STORE_NO_SUCH_GROUP or STORE_NOT_MEMBER. */
int store_labels_access(store_db *db, MDB_txn *txn, store_str me,
                        store_str group, store_res *res);

typedef struct store_label_check_out {
    store_res res;
    char holder[STORE_NAME_MAX + 1]; /* LABEL_BUSY: who is writing */
    uint32_t secs;                   /* BUSY: seconds left, rounded up;
                                        NEW/RESERVED: the lease in seconds */
    uint64_t rev;                    /* NEW/RESERVED: the revision seen */
} store_label_check_out;

/** check-label (write). Reserves @label for @me for @lease_ms, or renews
 * @me's reservation. Results: STORE_LABEL_BUSY (another user's
 * reservation is live: holder and secs say who and how long; nothing
 * changes), STORE_LABEL_HOLD_MAX (@me already holds STORE_LABEL_HOLD_MAX
 * live reservations), STORE_LABEL_RESERVED (the label exists) or
 * STORE_LABEL_NEW (it does not yet), both of which commit. A reservation
 * whose holder has no session (logged out, deleted) is not live. To stay
 * under STORE_LABEL_HOLD_MAX a new reservation ends @me's oldest ended one.
 * @lease_ms 0 means STORE_LABEL_LEASE_MS_DEFAULT. */
int store_labels_check(store_db *db, MDB_txn *txn, store_str me,
                       store_str group, store_str label, uint64_t now_ms,
                       uint64_t lease_ms, store_label_check_out *out);

typedef struct store_label_write_out {
    store_res res;
    uint64_t rev; /* OK: the label's new revision (1 = created) */
    uint32_t id;  /* OK: the label's id in @group (creation order) */
} store_label_write_out;

/** write-label (write). Decided from @me's reservation and the label's
 * revision: STORE_LABEL_UNCHECKED when @me holds none (never checked,
 * dropped, written, or its session ended); STORE_OK (the text is
 * written, revision + 1) when nobody reserved the label after @me and its
 * revision is the one @me saw: while the reservation holds, or after it
 * ended by time with nobody acting; else STORE_LABEL_DRAFTED (commits):
 * the text is kept as @me's draft beside the label, replacing an older
 * draft of @me's for it. Either way @me's reservation ends. A successful
 * write also removes @me's own draft of the label. */
int store_labels_write(store_db *db, MDB_txn *txn, store_str me,
                       store_str group, store_str label, store_str text,
                       uint64_t now_ms, store_label_write_out *out);

/** drop-label (write): ends @me's reservation of @label. *@res is STORE_OK
 * or STORE_LABEL_UNCHECKED (none held), after the shared checks. */
int store_labels_drop(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_str label, store_res *res);

typedef struct store_label_draft {
    char author[STORE_NAME_MAX + 1];
    uint64_t time_ms;
    char *text;
} store_label_draft;
typedef struct store_label_view {
    store_res res;
    char author[STORE_NAME_MAX + 1]; /* who wrote the current text */
    uint64_t rev, time_ms;
    uint32_t id;
    char *text; /* NULL when res is not STORE_OK */
    size_t n;   /* drafts, oldest first */
    store_label_draft *drafts;
} store_label_view;
void store_label_view_free(store_label_view *v);

/** show-label (read): the label's text and its drafts. STORE_OK, or
 * STORE_NO_SUCH_LABEL, which may still carry drafts: a late write whose
 * label nobody has written yet is kept there, and the reply lists them
 * after `No such label <label>`. */
int store_labels_show(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_str label, store_label_view *out);

typedef struct store_label_page {
    store_res res;
    uint32_t next;  /* the id to pass as @from for the next page; == total
                       when this page reached the end */
    uint32_t total; /* labels in the group */
} store_label_page;

/** list-labels (read): labels with ids @from.. in creation order, at most
 * @max (0 = all) into @names. STORE_OK with names->n == 0 is `No labels`
 * (as every list). */
int store_labels_list(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      uint32_t from, size_t max, store_names *names,
                      store_label_page *page);

/** export-labels (read): labels @from.. in creation order in the
 * interchange format into @line (records joined by single spaces; free
 * with store_buf_free), stopping before the record that would take it past
 * @max_bytes (0 = no limit; a page holds at least one record). Each page
 * parses on its own, and pages joined by one space are the whole export.
 * STORE_OK with line->len == 0 is `No labels`. */
int store_labels_export(store_db *db, MDB_txn *txn, store_str me,
                        store_str group, uint32_t from, size_t max_bytes,
                        store_buf *line, store_label_page *page);

typedef struct store_label_import_out {
    store_res res;
    uint32_t added, drafted, unchanged;
} store_label_import_out;

/** import-labels (write): @data in the interchange format. All or
 * nothing: STORE_LABEL_MALFORMED when any record breaks the format or the
 * label/text rules (nothing changes). Else STORE_OK and, record by record
 * in order: a label that does not exist and is under no live reservation
 * is added (author @me); one that exists with the same text is unchanged;
 * any other is kept as @me's draft (an existing text is never overwritten,
 * a live reservation, even @me's, never overtaken: its write would find
 * the label changed). */
int store_labels_import(store_db *db, MDB_txn *txn, store_str me,
                        store_str group, store_str data, uint64_t now_ms,
                        store_label_import_out *out);

/** Ends every reservation @me holds (live or ended by time), as a drop
 * does: call it in the transaction that ends @me's session (logout,
 * delete, idle timeout). Adds the number ended to *@ended if not NULL. */
int store_labels_session_end(store_db *db, MDB_txn *txn, store_str me,
                             uint32_t *ended);

/** Removes what of @me the knowledge base keeps apart from the labels it
 * wrote (which belong to their groups): reservations, drafts, rounds.
 * Call it in the account's delete transaction. */
int store_labels_user_delete(store_db *db, MDB_txn *txn, store_str me);

/* ---- next-label (store_labels_round.c) ----------------------------- */

typedef struct store_label_pick {
    store_res res;
    char label[STORE_LABEL_MAX + 1]; /* OK: the label given */
    uint32_t id;                     /* OK: its id */
    uint32_t n;                      /* labels in the group now */
} store_label_pick;

/** next-label's hot path (read): the next label of @c, the caller's
 * cursor (zeroed = none yet), which advances in memory only. STORE_OK with
 * the label, STORE_NO_LABELS (the group has none), or STORE_ROUND_NO_GRANT
 * (no reply: call store_labels_round_grant and try again). */
int store_labels_next_read(store_db *db, MDB_txn *txn, store_str me,
                           store_str group, store_cursor *c,
                           store_label_pick *out);

/** A grant (write): up to @want more positions of @me's round in @group
 * for @c, moving the durable mark past them (store_round_grant: a new
 * round when the last is over). A crash after it skips at most what @c
 * did not hand out; nothing is ever handed out twice in a round. *@res:
 * STORE_OK (*@c updated; apply it only after the commit), STORE_NO_LABELS,
 * or the shared checks. */
int store_labels_round_grant(store_db *db, MDB_txn *txn, store_str me,
                             store_str group, store_cursor *c, uint32_t want,
                             store_res *res);

/** Gives back @c's unused positions at a clean end (store_round_release;
 * *@c is zeroed). *@res: STORE_OK (also when there was nothing to give
 * back) or the shared checks. */
int store_labels_round_release(store_db *db, MDB_txn *txn, store_str me,
                               store_str group, store_cursor *c,
                               store_res *res);

/** next-label as one write that makes each answer durable before it is
 * given (a grant of one position, then the pick): the simple mode, one
 * group commit per call. Results as store_labels_next_read, never
 * STORE_ROUND_NO_GRANT. */
int store_labels_next(store_db *db, MDB_txn *txn, store_str me, store_str group,
                      store_label_pick *out);

/** The durable round of (@me, @group) and its stored size in bytes
 * (0 when there is none yet), for status and the benchmark. */
int store_labels_round_get(store_db *db, MDB_txn *txn, store_str me,
                           store_str group, store_round *out, size_t *bytes);

#endif
