/* store_service.h: the store role's RPC service, sb.store.Store of
 * proto/store.proto, over one store_db and its group-commit writer. Writes
 * are queued to the writer and answered from its completion (no worker
 * thread waits for an fsync; concurrent calls share one commit); reads run
 * on the RPC worker. store_conn.h is the client side. */
#ifndef STORE_SERVICE_H
#define STORE_SERVICE_H

#include "rpc.h"
#include "store_db.h"
#include "store_writer.h"

typedef struct store_service store_service;

/** Most ops one WriteBatch call may carry (INVALID_ARGUMENT beyond). */
#define STORE_SERVICE_BATCH_MAX 1024

/** Registers sb.store.Store on @srv (before rpc_server_start: Write and
 * WriteBatch are declared non-blocking, so they run on nng's receive
 * thread). WriteBatch queues every op of the batch to the writer (each
 * with its own request id, so each is idempotent on its own) and answers
 * once all have completed, one result per op.
 * @db and @w must outlive the service, and the writer must be stopped only
 * after the server (a stopped writer answers UNAVAILABLE). Returns 0 and
 * sets *@out, ENOMEM, or an nng code from registering. */
int store_service_register(rpc_server *srv, store_db *db, store_writer *w,
                           store_service **out);

/** Frees the service; call after the server has stopped. NULL accepted. */
void store_service_free(store_service *s);

/** The RPC code a store result travels with: RPC_OK for every result of
 * an operation that ran (the result itself goes in the reply's `res`);
 * RPC_INVALID_ARGUMENT for STORE_INVALID_ARGUMENT, RPC_UNAVAILABLE for
 * STORE_ERR_SHUTDOWN, RPC_INTERNAL for STORE_ERR_INTERNAL and anything
 * out of range. store_conn maps the codes back. */
int store_service_code(store_res r);

#endif
