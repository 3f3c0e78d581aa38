/* orch_role.h: the orchestrator role as one object: the fleet (its LMDB
 * record in data_dir), its driver (local child processes, or EC2), the
 * Orchestrator RPC service on an RPC server, the fleet's ticker and the
 * status page. `sbd orchestrator` runs one alone; `sbd all` runs one next
 * to login, store, bus and draw, with app servers as child processes. */
#ifndef ORCH_ROLE_H
#define ORCH_ROLE_H

#include <stdint.h>

#include "rpc.h"

/** EC2 driver settings (--driver ec2); strings may be NULL. */
typedef struct orch_ec2_config {
    const char *image_id;      /**< required for ec2 */
    const char *instance_type; /**< "t3.micro" */
    const char *subnet_id;
    const char *security_groups; /**< comma-separated "sg-1,sg-2" */
    const char *key_name;
    const char *instance_profile;
    /** Shell words appended to `sbd app --orchestrator URL --id ID` in the
     * cloud-init script (e.g. "--store tcp://10.0.0.5:8891"). */
    const char *app_args;
    /** The orchestrator URL instances dial (not 127.0.0.1!); default: the
     * listen URL. */
    const char *advertise;
} orch_ec2_config;

typedef struct orch_config {
    const char *data_dir;   /**< the fleet record's LMDB dir; required */
    const char *listen_url; /**< "tcp://127.0.0.1:8890" */
    int http_port;          /**< status page port; 0 = no page */
    int http_optional;      /**< 1: a page that cannot start is a warning */
    const char *http_host;  /**< "127.0.0.1" */
    const char *fleet_name; /**< tag; "switchboard" */
    const char *driver;     /**< "local" (default) or "ec2" */
    uint32_t capacity;      /**< 10 */
    uint32_t min_servers, max_servers, spare_slots; /**< 0, 100, 0 */
    uint32_t idle_grace_ms;                         /**< 30000 */
    uint32_t launch_timeout_ms;                     /**< 15000 */
    /** local driver: the app server's argv (NULL-terminated); "{id}" is
     * replaced by the server id. NULL: the caller's default is required. */
    const char *const *app_argv;
    /** local driver: children die with this process (PR_SET_PDEATHSIG in
     * the child through SB_PARENT_PID), for `sbd all`; 0 for a standalone
     * orchestrator whose children a restarted orchestrator re-adopts. */
    int children_die_with_parent;
    orch_ec2_config ec2;
    /** Tests and embedders: this driver instead of the named one (ctx is
     * owned by the fleet once the role starts, as fleet_options says). */
    const struct fleet_driver *custom_driver;
    void *custom_ctx;
} orch_config;

typedef struct orch_role orch_role;

/** Opens the fleet record (reconciling with the driver), starts the RPC
 * service on listen_url, the ticker and the status page.
 * @return 0 and *out, or -1 (the reason is logged). */
int orch_role_start(const orch_config *c, orch_role **out);

/** The RPC URL actually bound (port 0 resolved). */
const char *orch_role_url(const orch_role *r);

/** The status page's port, or -1 when it is off. */
int orch_role_http_port(const orch_role *r);

/** Stops serving and closes the fleet. With terminate_all, first asks the
 * driver to stop every instance and waits (bounded by ~6 s) for them to
 * go: `sbd all` does so; a standalone orchestrator leaves its fleet
 * running for the next start to adopt. NULL is ignored. */
void orch_role_stop(orch_role *r, int terminate_all);

#endif
