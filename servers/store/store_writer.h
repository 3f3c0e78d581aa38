/* store_writer.h: the store's single writer thread (group commit). Callers
 * on any thread submit store_wop requests; the writer takes every request
 * queued, applies them in ONE LMDB write transaction (each in a child txn,
 * see store_db_apply), commits once - one fsync for the whole batch - and
 * then runs each request's completion with its result. */
#ifndef STORE_WRITER_H
#define STORE_WRITER_H

#include "store_db.h"

typedef struct store_writer store_writer;

typedef struct store_writer_stats {
    uint64_t batches; /* committed transactions (attempted batches) */
    uint64_t ops;     /* ops completed through them */
    uint64_t max_batch;
} store_writer_stats;

/** Starts the writer thread for @db (which must outlive the writer).
 * @max_batch caps how many ops one txn takes (0 = 4096) so a batch's
 * latency stays bounded. Returns 0 and sets *@out, or ENOMEM / an error of
 * pthread_create. */
int store_writer_start(store_db *db, unsigned max_batch, store_writer **out);

/** Finishes every op already submitted (their completions run), then joins
 * the thread and frees the writer. Submitting concurrently with or after
 * stop is refused with STORE_ERR_SHUTDOWN. NULL is accepted. */
void store_writer_stop(store_writer *w);

/** Queues @op. Its done(op, arg) runs later on the writer thread after the
 * batch commit, with op->out filled; done must not block for long (it
 * delays the next batch) and must not submit-and-wait. Returns 0 when
 * queued, STORE_INVALID_ARGUMENT when op or op->done is NULL, or
 * STORE_ERR_SHUTDOWN when the writer is stopping (done is not called). */
int store_writer_submit(store_writer *w, store_wop *op);

/** Queues @n ops at once, in order, under one lock and one wake-up, so
 * the writer usually takes them into the same batch (one commit). All or
 * nothing: returns 0 when all are queued, STORE_INVALID_ARGUMENT when one
 * is NULL or has no done (none queued), or STORE_ERR_SHUTDOWN when the
 * writer is stopping (none queued; no done is called). */
int store_writer_submit_many(store_writer *w, store_wop **ops, size_t n);

/** Submits @op and waits for its completion; op->done/arg are replaced.
 * Returns op->out.res (or STORE_ERR_SHUTDOWN / STORE_INVALID_ARGUMENT as
 * store_writer_submit). Must not be called from a completion. */
store_res store_writer_submit_wait(store_writer *w, store_wop *op);

/** Copies the counters (consistent snapshot). */
void store_writer_get_stats(store_writer *w, store_writer_stats *out);

#endif
