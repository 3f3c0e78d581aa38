/* orch_service.h: the sb.fleet.Orchestrator RPC service (proto/fleet.proto)
 * over a fleet (fleet.h): Register, Heartbeat, Deregister, Assign (parked
 * with RPC_DEFER while a server launches, never blocking a worker),
 * Release, Lookup. orch_role.h starts it with its fleet, driver and status
 * page; `sbd orchestrator` and `sbd all` use the role. */
#ifndef ORCH_SERVICE_H
#define ORCH_SERVICE_H

#include "fleet.h"
#include "rpc.h"
#include "status.h"

typedef struct orch_service orch_service;

/** Registers the Orchestrator methods on srv (before rpc_server_start)
 * and starts the thread that retries parked Assign calls. Sets the
 * fleet's change callback (the fleet must not have another one).
 * @param srv the server; outlives the service's shutdown.
 * @param f the fleet; outlives the service.
 * @param out the service.
 * @return RPC_OK; RPC_INTERNAL (out of memory, no thread, or the methods
 *         could not be registered). */
int orch_service_register(rpc_server *srv, struct fleet *f, orch_service **out);

/** Answers every parked Assign UNAVAILABLE ("orchestrator stopping"), makes
 * new waits fail the same way, and stops the retry thread. Call before
 * rpc_server_stop (which would otherwise answer parked calls itself). */
void orch_service_shutdown(orch_service *s);

/** Appends per-method call and error counters (Prometheus text) to b; a
 * status_metrics_fn for the status page. arg is the service. */
void orch_service_metrics(void *arg, status_buf *b);

/** Frees the service after orch_service_shutdown and rpc_server_destroy.
 * NULL is ignored. */
void orch_service_free(orch_service *s);

#endif
