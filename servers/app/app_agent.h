/* app_agent.h: an app server's link to the orchestrator (proto/fleet.proto):
 * registers (id, endpoint, capacity, instance id), heartbeats every second
 * with its user count, registers again when the orchestrator says it does
 * not know the server (it restarted on another record), and deregisters on
 * a graceful stop. Runs on its own thread; never blocks the server. */
#ifndef APP_AGENT_H
#define APP_AGENT_H

#include <stdint.h>

/** The server's current user count, for heartbeats (any thread). */
typedef uint32_t (*app_agent_users_fn)(void *arg);

/** The orchestrator declared this server dead or terminated (its users
 * were moved): the server should stop. Called once, on the agent thread. */
typedef void (*app_agent_evicted_fn)(void *arg, const char *why);

typedef struct app_agent_config {
    const char *orchestrator; /* orchestrator URL; required */
    const char *server_id;    /* "app-3"; required */
    const char *endpoint;     /* the server's client URL; required */
    uint32_t capacity;        /* 0 = the orchestrator's */
    /* The driver's instance id; NULL: "PID.STARTTIME" of this process
     * (the local driver's form). */
    const char *instance_id;
    uint32_t heartbeat_ms; /* 0 = 1000 */
    app_agent_users_fn users;
    void *users_arg;
    app_agent_evicted_fn evicted;
    void *evicted_arg;
} app_agent_config;

typedef struct app_agent app_agent;

/** Starts the agent thread (the first Register is sent at once; failures
 * are retried every heartbeat period and logged once per state change).
 * @return 0 and *out; EINVAL (a required field missing or too long);
 *         ENOMEM; or the nng error opening the client. */
int app_agent_start(const app_agent_config *c, app_agent **out);

/** 1 once the orchestrator has accepted the server's Register. */
int app_agent_registered(app_agent *a);

/** Releases @user's assignment at the orchestrator (a session that ended
 * on this server, e.g. timed out), bounded to 1 s. Returns the RPC code;
 * a failure is logged (the slot is freed at the user's next login). */
int app_agent_release(app_agent *a, const char *user);

/** Stops the thread; with deregister, tells the orchestrator the server
 * is leaving (bounded to 1 s). Frees the agent. NULL is ignored. */
void app_agent_stop(app_agent *a, int deregister);

/** Reads SB_PARENT_PID (set by the local driver for `sbd all`) and, if
 * set, asks the kernel for SIGTERM when that parent dies (prctl
 * PR_SET_PDEATHSIG), exiting at once if it is already gone. Call first
 * thing in main. Returns 0, or -1 when the parent is already gone. */
int app_agent_die_with_parent(void);

#endif
