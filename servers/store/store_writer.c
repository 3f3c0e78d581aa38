/* store_writer.c: the group-commit writer. One thread owns the write side of
 * the environment: it sleeps until ops are queued, takes all of them (up to
 * max_batch), lets store_db_apply run them in one transaction and commit
 * once, then completes each. Under load, ops queue while a commit's fsync
 * runs, so the next batch is large and the fsync cost is shared. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "sb_log.h"
#include "store_writer.h"

struct store_writer {
    store_db *db;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    store_wop *head, *tail; /* FIFO of submitted ops */
    int stopping;
    unsigned max_batch;
    store_wop **batch; /* max_batch slots, writer thread only */
    store_writer_stats stats;
};

/* Takes up to max_batch ops off the queue, in submission order. Waits while
 * the queue is empty; returns 0 when stopping and nothing is left. */
static size_t take_batch(store_writer *w)
{
    size_t n = 0;
    pthread_mutex_lock(&w->mu);
    while (!w->head && !w->stopping)
        pthread_cond_wait(&w->cv, &w->mu);
    while (w->head && n < w->max_batch) {
        w->batch[n++] = w->head;
        w->head = w->head->next;
    }
    if (!w->head)
        w->tail = NULL;
    pthread_mutex_unlock(&w->mu);
    return n;
}

static void *writer_main(void *arg)
{
    store_writer *w = arg;
    size_t n;
    while ((n = take_batch(w)) > 0) {
        store_db_apply(w->db, w->batch, n); /* failures are in each out */
        pthread_mutex_lock(&w->mu);
        w->stats.batches++;
        w->stats.ops += n;
        if (n > w->stats.max_batch)
            w->stats.max_batch = n;
        pthread_mutex_unlock(&w->mu);
        for (size_t i = 0; i < n; i++) {
            store_wop *op = w->batch[i];
            op->next = NULL;
            op->done(op, op->arg); /* may free op: touch it no more */
        }
    }
    return NULL;
}

int store_writer_start(store_db *db, unsigned max_batch, store_writer **out)
{
    *out = NULL;
    store_writer *w = calloc(1, sizeof *w);
    if (!w)
        return ENOMEM;
    w->db = db;
    w->max_batch = max_batch ? max_batch : 4096;
    w->batch = calloc(w->max_batch, sizeof *w->batch);
    if (!w->batch) {
        free(w);
        return ENOMEM;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w->batch);
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void store_writer_stop(store_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    sb_debug("store", "writer stopped after %llu batches, %llu ops",
             (unsigned long long)w->stats.batches,
             (unsigned long long)w->stats.ops);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->batch);
    free(w);
}

int store_writer_submit(store_writer *w, store_wop *op)
{
    if (!w || !op || !op->done)
        return STORE_INVALID_ARGUMENT;
    op->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        return STORE_ERR_SHUTDOWN;
    }
    if (w->tail)
        w->tail->next = op;
    else
        w->head = op;
    w->tail = op;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

int store_writer_submit_many(store_writer *w, store_wop **ops, size_t n)
{
    if (!w)
        return STORE_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        if (!ops[i] || !ops[i]->done)
            return STORE_INVALID_ARGUMENT;
        ops[i]->next = i + 1 < n ? ops[i + 1] : NULL;
    }
    if (n == 0)
        return 0;
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        return STORE_ERR_SHUTDOWN;
    }
    if (w->tail)
        w->tail->next = ops[0];
    else
        w->head = ops[0];
    w->tail = ops[n - 1];
    /* one wake-up for all: the writer finds them queued together */
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} waiter;

static void wake(store_wop *op, void *arg)
{
    waiter *wt = arg;
    pthread_mutex_lock(&wt->mu);
    wt->done = 1;
    pthread_cond_signal(&wt->cv);
    pthread_mutex_unlock(&wt->mu);
}

store_res store_writer_submit_wait(store_writer *w, store_wop *op)
{
    waiter wt = {.done = 0};
    if (!op)
        return STORE_INVALID_ARGUMENT;
    pthread_mutex_init(&wt.mu, NULL);
    pthread_cond_init(&wt.cv, NULL);
    op->done = wake;
    op->arg = &wt;
    int rc = store_writer_submit(w, op);
    if (rc == 0) {
        pthread_mutex_lock(&wt.mu);
        while (!wt.done)
            pthread_cond_wait(&wt.cv, &wt.mu);
        pthread_mutex_unlock(&wt.mu);
    }
    pthread_cond_destroy(&wt.cv);
    pthread_mutex_destroy(&wt.mu);
    return rc ? (store_res)rc : op->out.res;
}

void store_writer_get_stats(store_writer *w, store_writer_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    pthread_mutex_unlock(&w->mu);
}
