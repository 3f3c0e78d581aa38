/* fleet_driver.h: the interface through which the fleet launches, stops and
 * lists app-server instances. The fleet logic (fleet.h) never knows how an
 * instance runs; a driver does: `local` (child processes, the default) and
 * `ec2` (cloud instances) implement this table. The fleet calls every
 * operation outside its own lock, so a slow driver never stalls Assign. */
#ifndef SB_FLEET_DRIVER_H
#define SB_FLEET_DRIVER_H

#include <stddef.h>

#include "rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest server id, instance id and endpoint, with the NUL. */
#define FLEET_ID_MAX 64
#define FLEET_INSTANCE_MAX 128
#define FLEET_ENDPOINT_MAX 256

/** One instance as a driver sees it (list()). */
typedef struct fleet_instance {
    char instance_id[FLEET_INSTANCE_MAX]; /**< driver's id, e.g. "12345.678" */
    char server_id[FLEET_ID_MAX]; /**< the server id it was launched as */
    int running;                  /**< 1 running or starting; 0 stopping */
} fleet_instance;

/** A driver: a table of operations on an opaque context.
 *
 * Every operation may be called from any thread, but the fleet never calls
 * two at once on the same context (it serialises them), so a driver needs
 * no lock of its own unless it has threads of its own. */
typedef struct fleet_driver {
    /** Short name for logs and the status page ("local", "ec2"). */
    const char *(*name)(void *ctx);

    /** Starts one instance that will register as server_id, and returns at
     * once: the instance registers by itself when it is ready.
     * @param ctx the driver's context.
     * @param server_id the id the instance registers under (tag it with
     *        this so list() can report it after an orchestrator restart).
     * @param instance_id out: the new instance's id, NUL-terminated.
     * @param st out: a message on failure.
     * @return RPC_OK, or RPC_UNAVAILABLE (could not start: no resources,
     *         cloud error), RPC_INVALID_ARGUMENT (bad configuration). */
    int (*launch)(void *ctx, const char *server_id,
                  char instance_id[FLEET_INSTANCE_MAX], rpc_status *st);

    /** Asks an instance to stop, and returns at once; the driver finishes
     * the job in poll() (e.g. SIGKILL after a bound). Terminating an
     * instance that is already gone succeeds.
     * @return RPC_OK, RPC_NOT_FOUND (the driver never heard of it and cannot
     *         find it; nothing to do), RPC_UNAVAILABLE (the request failed;
     *         the fleet retries on a later tick). */
    int (*terminate)(void *ctx, const char *instance_id, rpc_status *st);

    /** Lists every live instance carrying this fleet's tag, for reconcile
     * after a restart. *out is an array of *n entries the caller frees
     * with free(); *out may be NULL when *n is 0.
     * @return RPC_OK, or RPC_UNAVAILABLE (the listing failed: the fleet
     *         must not conclude that anything is gone). */
    int (*list)(void *ctx, fleet_instance **out, size_t *n, rpc_status *st);

    /** Says whether an instance is still there (after terminate(), until
     * it is). Returns 1 alive, 0 gone, -1 cannot tell now. */
    int (*alive)(void *ctx, const char *instance_id);

    /** Optional (may be NULL): periodic housekeeping, called from
     * fleet_tick(): reap children, escalate stops, finish async calls. */
    void (*poll)(void *ctx);

    /** Frees the context. Leaves running instances running: a restarted
     * orchestrator adopts them again. */
    void (*destroy)(void *ctx);
} fleet_driver;

#ifdef __cplusplus
}
#endif

#endif
