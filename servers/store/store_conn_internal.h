/* store_conn_internal.h: what store_conn.c (lifecycle, writes) and
 * store_conn_read.c (reads) share. */
#ifndef STORE_CONN_INTERNAL_H
#define STORE_CONN_INTERNAL_H

#include <pthread.h>

#include "rpc.h"
#include "store_conn.h"

/* Remote writes are coalesced: at most STORE_CONN_INFLIGHT WriteBatch
 * calls are in flight; ops arriving meanwhile wait in the queue and leave
 * together (up to STORE_CONN_BATCH_MAX) when one of those calls returns.
 * One in flight measured better than two (sb-bench social, alternating
 * runs: 8.2-8.9k vs 7.3-7.7k posts/s, lower p99): a second batch mostly
 * waited for the same group commit anyway, and cost its own round trip. */
#define STORE_CONN_INFLIGHT 1
#define STORE_CONN_BATCH_MAX 128

struct store_conn {
    store_db *db; /* local backend */
    store_writer *w;
    rpc_client *rc; /* remote backend (NULL when local) */
    int timeout_ms;
    /* remote write queue (guarded by mu) */
    pthread_mutex_t mu;
    store_wop *head, *tail; /* linked through op->next */
    int inflight;           /* WriteBatch calls under way */
    int closing;            /* store_conn_close began: send no more */
};

/* The store_res a remote call ended with: @res from the reply on RPC_OK,
 * else the result the status code stands for (store_service_code's
 * inverse). */
store_res store_conn_res(const rpc_status *st, uint32_t res);

/* A NUL-terminated copy of @s into *@out (malloc). Returns 0, -1 when @s
 * holds a NUL byte (it cannot travel as a protobuf string), -2 on ENOMEM. */
int store_conn_dup(store_str s, char **out);

#endif
