/* fleet.h: the orchestrator's fleet logic, as a library the RPC service
 * (`sbd orchestrator`) wraps: app servers Register and Heartbeat, users are
 * Assigned (sticky, fullest server with room first, else a launch) and
 * Released, and fleet_tick() detects dead servers, keeps spares warm and
 * terminates idle servers through a driver (fleet_driver.h). Every change
 * is written to the fleet record (LMDB) first, so a restarted orchestrator
 * reloads it, reconciles with the driver, and neither leaks nor launches
 * twice. Thread safety: every call may be made from any thread at once. */
#ifndef SB_FLEET_H
#define SB_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "fleet_driver.h"
#include "rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The fleet: opaque; see fleet_open(). */
typedef struct fleet fleet;

/** Returned by fleet_assign() when no server has room yet but one is
 * launching for this user: call again after fleet_wait_change() (or when
 * the on_change callback fires), or use fleet_assign_wait(). */
#define FLEET_WAIT (-2)

/** Longest user name accepted (bytes, without the NUL). */
#define FLEET_USER_MAX 255

/** A server's life: launching (asked of the driver, not registered yet) →
 * up → draining (idle past grace: no new users; being terminated) →
 * terminated; or dead (missed heartbeats, or its instance vanished). */
typedef enum fleet_state {
    FLEET_LAUNCHING = 0,
    FLEET_UP = 1,
    FLEET_DRAINING = 2,
    FLEET_DEAD = 3,
    FLEET_TERMINATED = 4,
} fleet_state;

/** Milliseconds on the wall clock (the default) or a test's clock. */
typedef int64_t (*fleet_clock_fn)(void *arg);

/** Called (outside the fleet's lock) whenever a server registers or a
 * launch fails, so that an RPC layer parking Assign calls can retry them. */
typedef void (*fleet_change_fn)(void *arg);

/** Options; fleet_options_init() sets the defaults shown. */
typedef struct fleet_options {
    const char *data_dir;       /**< LMDB directory of the record; required */
    const char *name;           /**< fleet tag; "switchboard" */
    uint32_t capacity;          /**< users per server; 10 */
    uint32_t min_servers;       /**< kept up even when idle; 0 */
    uint32_t max_servers;       /**< never more live at once; 100 */
    uint32_t spare_slots;       /**< free slots kept warm; 0 */
    uint32_t heartbeat_ms;      /**< servers' heartbeat period; 1000 */
    uint32_t missed_heartbeats; /**< missed before dead; 3 */
    uint32_t idle_grace_ms;     /**< empty this long → terminated; 30000 */
    uint32_t launch_timeout_ms; /**< launch must register by then, and
                                     fleet_assign_wait's bound; 15000 */
    uint32_t forget_ms;         /**< dead/terminated rows kept; 300000 */
    const fleet_driver *driver; /**< required */
    void *driver_ctx;           /**< owned by the fleet once open succeeds */
    fleet_clock_fn clock;       /**< NULL: wall clock */
    void *clock_arg;
} fleet_options;

/** What fleet_assign() answers. */
typedef struct fleet_assignment {
    char server_id[FLEET_ID_MAX];
    char endpoint[FLEET_ENDPOINT_MAX];
    int reassigned;      /**< 1 if the user's previous server was dead */
    uint64_t generation; /**< on FLEET_WAIT: pass to fleet_wait_change() */
} fleet_assignment;

/** One server in a snapshot. */
typedef struct fleet_server_info {
    char id[FLEET_ID_MAX];
    char endpoint[FLEET_ENDPOINT_MAX];
    char instance_id[FLEET_INSTANCE_MAX]; /**< "" for a server we did not
                                               launch (never terminated) */
    fleet_state state;
    uint32_t capacity;
    uint32_t users;          /**< sessions assigned to it */
    uint32_t reported_users; /**< as of its last heartbeat */
    int64_t last_heartbeat_ms;
    int64_t since_ms; /**< when it entered its state */
} fleet_server_info;

typedef struct fleet_session_info {
    char *user;
    char server_id[FLEET_ID_MAX];
} fleet_session_info;

/** Counters since this fleet object opened (for /metrics). */
typedef struct fleet_counters {
    uint64_t assigns, reassigns, releases, launches, launch_failures,
        terminations, deaths, adopted, reaped_unknown, waiting;
} fleet_counters;

/** A consistent copy of the fleet (for the status page). */
typedef struct fleet_snapshot {
    fleet_server_info *servers;
    size_t nservers;
    fleet_session_info *sessions; /**< sorted by user */
    size_t nsessions;
    fleet_counters counters;
    char name[FLEET_ID_MAX];
    char driver[32];
    char last_error[640]; /**< last driver error, "" if none */
    int64_t now_ms;
} fleet_snapshot;

/** Sets the defaults listed in fleet_options. */
void fleet_options_init(fleet_options *o);

/** Opens (or creates) the fleet record in o->data_dir, loads it, and
 * reconciles it with the driver's list(): live instances the record knows
 * are adopted; instances it knows that are gone are marked dead (their
 * users reassigned on their next Assign); tagged instances it does not know
 * are terminated; every decision is logged with its reason. Servers loaded
 * as up get one full heartbeat timeout from now to heartbeat again.
 * @param o options; o->driver_ctx belongs to the fleet on success (it is
 *        destroyed by fleet_close) and to the caller on failure.
 * @param out the new fleet.
 * @return RPC_OK; RPC_INVALID_ARGUMENT (missing data_dir or driver, zero
 *         capacity, min > max); RPC_INTERNAL (LMDB could not open the
 *         record, or the record is corrupt: st says which). */
int fleet_open(const fleet_options *o, struct fleet **out, rpc_status *st);

/** Stops the ticker (if started), closes the record, destroys the driver
 * context. Instances keep running: the next fleet_open adopts them.
 * Callers must have stopped calling into f. NULL is ignored. */
void fleet_close(struct fleet *f);

/** Starts a thread calling fleet_tick() every interval_ms (the RPC role
 * uses this; tests with an injected clock call fleet_tick themselves).
 * @return RPC_OK, RPC_FAILED_PRECONDITION (already started),
 *         RPC_INTERNAL (thread creation failed). */
int fleet_start_ticker(struct fleet *f, uint32_t interval_ms, rpc_status *st);

/** Sets the change callback (NULL to clear). */
void fleet_set_on_change(struct fleet *f, fleet_change_fn fn, void *arg);

/** An app server announces itself (at start, or again after an
 * orchestrator restart). A server the fleet launched moves from launching
 * to up; an unknown id is accepted as a server we do not own (never
 * terminated). Registering again while up updates endpoint and capacity.
 * @param server_id its id ("app-3"), 1..63 bytes.
 * @param endpoint where clients reach it, 1..255 bytes.
 * @param capacity users it takes; 0 means the fleet's capacity.
 * @param instance_id the driver's instance id if it knows it, or NULL/"".
 * @return RPC_OK; RPC_INVALID_ARGUMENT (empty or too long id/endpoint);
 *         RPC_FAILED_PRECONDITION (the fleet launched this id and has since
 *         declared it dead, drained or terminated it: start with a new id);
 *         RPC_INTERNAL (the record could not be written). */
int fleet_register(struct fleet *f, const char *server_id, const char *endpoint,
                   uint32_t capacity, const char *instance_id, rpc_status *st);

/** A server's periodic heartbeat with its logged-in user count. Not
 * written to disk (a restart grants a fresh timeout instead).
 * @return RPC_OK; RPC_NOT_FOUND (unknown id: register first);
 *         RPC_FAILED_PRECONDITION (declared dead or terminated). */
int fleet_heartbeat(struct fleet *f, const char *server_id, uint32_t users,
                    rpc_status *st);

/** Picks the user's app server: the same live server as before (sticky);
 * else the fullest up server with room; else it asks the driver to launch
 * one (unless enough launches are already pending for everyone waiting) and
 * answers FLEET_WAIT. A user whose server died is reassigned here.
 * @param user the user name, 1..FLEET_USER_MAX bytes, any bytes but NUL.
 * @param out on RPC_OK the server; on FLEET_WAIT the generation to wait on.
 * @return RPC_OK; FLEET_WAIT; RPC_INVALID_ARGUMENT (bad name);
 *         RPC_UNAVAILABLE (every server full and max_servers reached, or
 *         the launch failed: st says which); RPC_INTERNAL (record write). */
int fleet_assign(struct fleet *f, const char *user, fleet_assignment *out,
                 rpc_status *st);

/** fleet_assign(), waiting while it answers FLEET_WAIT, at most timeout_ms
 * (0 means the fleet's launch_timeout_ms). Blocks the calling thread: an
 * RPC layer that must not block uses fleet_assign + the change callback.
 * @return as fleet_assign, never FLEET_WAIT: on timeout RPC_UNAVAILABLE
 *         with a message naming the user, the bound and the launch. */
int fleet_assign_wait(struct fleet *f, const char *user, uint32_t timeout_ms,
                      fleet_assignment *out, rpc_status *st);

/** Waits until the fleet changes after `generation` (a server registered,
 * a launch failed) or timeout_ms passes. Returns 1 changed, 0 timeout. */
int fleet_wait_change(struct fleet *f, uint64_t generation,
                      uint32_t timeout_ms);

/** Forgets the user's assignment (logout, delete). Idempotent.
 * @return RPC_OK; RPC_INVALID_ARGUMENT (bad name); RPC_INTERNAL. */
int fleet_release(struct fleet *f, const char *user, rpc_status *st);

/** A server leaves on purpose (SIGTERM): it is marked terminated and its
 * users are reassigned on their next Assign. Leaving twice is harmless.
 * @return RPC_OK; RPC_INVALID_ARGUMENT (bad id); RPC_NOT_FOUND (unknown
 *         id); RPC_INTERNAL (the record could not be written). */
int fleet_deregister(struct fleet *f, const char *server_id, rpc_status *st);

/** Where the user is assigned now, without assigning.
 * @param out the server (any state) on RPC_OK.
 * @return RPC_OK; RPC_INVALID_ARGUMENT (bad name); RPC_NOT_FOUND (the user
 *         has no assignment). */
int fleet_lookup(struct fleet *f, const char *user, fleet_server_info *out,
                 rpc_status *st);

/** A server's state (heartbeat replies say "drain" while draining).
 * @return RPC_OK, or RPC_NOT_FOUND (unknown id). */
int fleet_server_state(struct fleet *f, const char *server_id,
                       fleet_state *state);

/** Called by fleet_assign() before it decides: if the user's server is up
 * but late with its heartbeat (over 1.25 periods), asks the driver whether
 * its instance still exists and marks it dead at once if not, so a user
 * whose server was killed is moved now rather than after the missed
 * heartbeats. A driver that cannot tell leaves the decision to them. */
void fleet_probe_user_server(struct fleet *f, const char *user);

/** Terminates every instance the fleet launched (marking them terminated
 * in the record) and waits until the driver sees none of them alive, at
 * most timeout_ms (the local driver escalates to SIGKILL after its grace).
 * Stops the ticker first (no launch behind its back); only fleet_close
 * may follow. For a daemon that owns its app servers' lives (`sbd all`).
 * @return how many instances are still alive at the end (0 = all gone). */
size_t fleet_stop_all(struct fleet *f, uint32_t timeout_ms);

/** Housekeeping, every few hundred ms: driver poll, dead servers (missed
 * heartbeats), launches that never registered, idle servers past grace
 * (drained and terminated down to min_servers), min servers and spare
 * slots (launched ahead), old dead/terminated rows forgotten. */
void fleet_tick(struct fleet *f);

/** Copies the fleet into s (free with fleet_snapshot_free).
 * @return RPC_OK or RPC_RESOURCE_EXHAUSTED (out of memory). */
int fleet_snapshot_take(struct fleet *f, fleet_snapshot *s);
void fleet_snapshot_free(fleet_snapshot *s);

/** "launching", "up", "draining", "dead", "terminated". */
const char *fleet_state_name(fleet_state s);

/** Sets st (if not NULL) to code and a message; returns code. Kept here so
 * the fleet does not depend on the RPC runtime's object code. */
int fleet_status(rpc_status *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif
