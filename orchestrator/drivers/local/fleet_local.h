/* fleet_local.h: the `local` fleet driver (the default): each app server is
 * a child process started from an argv template (`sbd app --orchestrator
 * URL --id {id}`), tagged through its environment (SB_FLEET, SB_FLEET_SERVER)
 * so that a restarted orchestrator finds it again in /proc. An instance id
 * is "PID.STARTTIME" (/proc/PID/stat field 22), so a reused pid is never
 * mistaken for our server. */
#ifndef SB_FLEET_LOCAL_H
#define SB_FLEET_LOCAL_H

#include <stdint.h>

#include "fleet_driver.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fleet_local_options {
    /** NULL-terminated argv; argv[0] is looked up in PATH if it has no
     * slash. In every element "{id}" becomes the server id and "{fleet}"
     * the fleet name. Copied by fleet_local_create. Required. */
    const char *const *argv;
    /** The tag (SB_FLEET=name) list() looks for; "switchboard". */
    const char *fleet_name;
    /** SIGTERM, then SIGKILL after this long; 5000 ms. */
    uint32_t stop_grace_ms;
    /** 1: children get SB_PARENT_PID=<our pid> in their environment, and
     * `sbd app` then asks the kernel (PR_SET_PDEATHSIG) for SIGTERM when we
     * die, so `sbd all` leaves no orphan even after kill -9. 0 (default):
     * children outlive us and a restarted orchestrator adopts them. */
    int die_with_parent;
} fleet_local_options;

/** The operations table; pass with a context from fleet_local_create. */
extern const fleet_driver fleet_local_driver;

/** Creates a local driver context.
 * @param o options (copied).
 * @param ctx out: the context, freed by fleet_local_driver.destroy (which
 *        the fleet calls at fleet_close) and leaves children running.
 * @return RPC_OK; RPC_INVALID_ARGUMENT (empty argv, an element or the
 *         expanded command line too long); RPC_INTERNAL (out of memory). */
int fleet_local_create(const fleet_local_options *o, void **ctx,
                       rpc_status *st);

/** Parses an instance id "PID.STARTTIME". Returns 0, or -1 if malformed. */
int fleet_local_parse_instance(const char *instance_id, int *pid,
                               unsigned long long *start);

#ifdef __cplusplus
}
#endif

#endif
