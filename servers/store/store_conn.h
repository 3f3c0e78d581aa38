/* store_conn.h: the one API through which login and app servers reach the
 * store, with two backends behind the same functions and the same results
 * (store_res): local (a store_db and its group-commit writer in this
 * process) and remote (an RPC client of sb.store.Store, store_service.h).
 * Writes are store_wop requests exactly as for store_writer.h: async with
 * a completion, or the sync helper. Reads mirror store_db.h's reads and
 * fill the same structs (free them with the same _free functions). */
#ifndef STORE_CONN_H
#define STORE_CONN_H

#include "store_db.h"
#include "store_writer.h"

typedef struct store_conn store_conn;

/** A connection to the store in this process. @db and @w must outlive it.
 * Returns 0 and sets *@out, or ENOMEM. */
int store_conn_local(store_db *db, store_writer *w, store_conn **out);

/** A connection to a store service at @url (tcp://HOST:PORT, ...; a
 * comma-separated list works as for rpc_client_open). Connects lazily and
 * reconnects by itself. @timeout_ms bounds each call (0 = 5000): a store
 * that does not answer within it gives STORE_ERR_UNAVAILABLE. Returns 0
 * and sets *@out, EINVAL for a NULL/empty url, ENOMEM, or an nng code. */
int store_conn_remote(const char *url, int timeout_ms, store_conn **out);

/** Closes the connection; remote writes in flight complete first with
 * STORE_ERR_UNAVAILABLE. NULL is accepted. */
void store_conn_close(store_conn *c);

/** 1 for the remote backend, 0 for the local one. */
int store_conn_is_remote(const store_conn *c);

/** Queues @op (the caller keeps it and its strings alive until done).
 * op->done(op, op->arg) runs exactly once with op->out filled: locally on
 * the writer thread after the commit, remotely on an RPC thread after the
 * store's reply. It must not block. Remote: the op's reqid (a fresh random
 * one when all zero) is the call's request id, so the runtime's retries
 * and a caller's retry with the same id are applied once; strings holding
 * a NUL byte cannot travel and complete with STORE_INVALID_ARGUMENT
 * (done may then run before store_conn_write returns).
 * Returns 0 when queued; STORE_INVALID_ARGUMENT when op or op->done is
 * NULL, STORE_ERR_SHUTDOWN (local writer stopping) or
 * STORE_ERR_UNAVAILABLE (remote call not started): then done is not
 * called. */
int store_conn_write(store_conn *c, store_wop *op);

/** Submits @op and waits; op->done/arg are replaced. Returns op->out.res,
 * or an error of store_conn_write. Must not be called from a completion. */
store_res store_conn_write_wait(store_conn *c, store_wop *op);

/* Reads: as the store_db.h function of the same name (same results, same
 * out structs). Remote: STORE_ERR_UNAVAILABLE when the store does not
 * answer in time, STORE_ERR_INTERNAL for a reply that makes no sense. */
store_res store_conn_whoami(store_conn *c, store_str token, store_session *out);
store_res store_conn_get_user(store_conn *c, store_str name, store_user *out);
store_res store_conn_list_invite(store_conn *c, store_str token,
                                 store_names *out);
store_res store_conn_list_friend(store_conn *c, store_str token,
                                 store_names *out);
store_res store_conn_list_group(store_conn *c, store_str token,
                                store_names *out);
store_res store_conn_list_joined(store_conn *c, store_str token,
                                 store_names *out);
store_res store_conn_list_users(store_conn *c, store_str token,
                                store_names *out);
store_res store_conn_receive_post(store_conn *c, store_str token,
                                  store_posts *out);
store_res store_conn_mail_fetch(store_conn *c, store_str token,
                                uint64_t after_seq, size_t max,
                                store_mails *out);
store_res store_conn_list_rooms(store_conn *c, store_str token,
                                store_rooms *out);
store_res store_conn_current_room(store_conn *c, store_str token,
                                  char room[STORE_NAME_MAX + 1]);
store_res store_conn_show_profile(store_conn *c, store_str token,
                                  store_str name, store_user *out, int *has);

#endif
