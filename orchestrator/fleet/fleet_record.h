/* fleet_record.h: the durable fleet record, in the orchestrator's own LMDB
 * environment: servers (id → fleet_rec_server), sessions (user → server
 * id) and a meta counter that numbers new server ids. Internal to the
 * fleet (fleet.c); each write is one committed transaction, so the record
 * is on disk before the fleet acts on it (launch, terminate, answer). */
#ifndef SB_FLEET_RECORD_H
#define SB_FLEET_RECORD_H

#include <stdint.h>

#include "fleet.h"

typedef struct fleet_record fleet_record;

/** One server row as stored. Pending launches are rows in state launching
 * (instance_id empty until the driver answered). */
typedef struct fleet_rec_server {
    char id[FLEET_ID_MAX];
    char endpoint[FLEET_ENDPOINT_MAX];
    char instance_id[FLEET_INSTANCE_MAX];
    uint32_t state; /**< fleet_state */
    uint32_t capacity;
    uint32_t owned;   /**< 1 if this fleet launched it (may terminate it) */
    uint32_t stopped; /**< 1 once the driver accepted terminate() */
    int64_t last_heartbeat_ms;
    int64_t since_ms;
} fleet_rec_server;

typedef void (*fleet_rec_server_fn)(void *arg, const fleet_rec_server *s);
typedef void (*fleet_rec_session_fn)(void *arg, const char *user,
                                     size_t user_len, const char *server_id);

/** Opens or creates the environment in dir (created if missing), clearing
 * stale reader slots. Returns RPC_OK or RPC_INTERNAL (st says why). */
int fleet_record_open(const char *dir, fleet_record **out, rpc_status *st);
void fleet_record_close(fleet_record *r);

/** Calls server_fn for every server and session_fn for every session, in
 * key order. Returns RPC_OK, or RPC_INTERNAL on an LMDB error or a row of
 * the wrong size (a corrupt or foreign record). */
int fleet_record_load(fleet_record *r, fleet_rec_server_fn server_fn,
                      fleet_rec_session_fn session_fn, void *arg,
                      rpc_status *st);

/** Each writes one row in its own transaction. RPC_OK or RPC_INTERNAL. */
int fleet_record_put_server(fleet_record *r, const fleet_rec_server *s,
                            rpc_status *st);
int fleet_record_del_server(fleet_record *r, const char *id, rpc_status *st);
int fleet_record_put_session(fleet_record *r, const char *user,
                             const char *server_id, rpc_status *st);
int fleet_record_del_session(fleet_record *r, const char *user, rpc_status *st);

/** Returns in *seq the next server number and stores seq + 1, so that no id
 * is ever handed out twice, across restarts. RPC_OK or RPC_INTERNAL. */
int fleet_record_next_seq(fleet_record *r, uint64_t *seq, rpc_status *st);

/** Raises the stored counter to at least min (ids found elsewhere). */
int fleet_record_bump_seq(fleet_record *r, uint64_t min, rpc_status *st);

#endif
