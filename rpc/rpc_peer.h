/* rpc_peer.h: who is calling, for services on the internal plane
 * (docs/trust.md). A caller proves its role (login, app, ...) with a
 * credential carried in every Call envelope; a server checks it through
 * a verifier (rpc_trust.h's keyring makes one) only when a handler or a
 * method's role rule asks, and answers the handler with an rpc_peer.
 * Beside that: the check that an internal listener is not reachable from
 * other hosts without TLS, and the open-connection figures of a server's
 * idle timeout and per-address cap (rpc_server_config).
 *
 * Thread safety: as rpc.h. */
#ifndef SB_RPC_PEER_H
#define SB_RPC_PEER_H

#include "rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The roles of a deployment. RPC_ROLE_NONE is "unauthenticated": a caller
 * that presented no credential, or one that did not verify. */
typedef enum rpc_role {
    RPC_ROLE_NONE = 0,
    RPC_ROLE_LOGIN,
    RPC_ROLE_APP,
    RPC_ROLE_ORCHESTRATOR,
    RPC_ROLE_STORE,
    RPC_ROLE_DRAW,
    RPC_ROLE_BUS,
    RPC_ROLE_WEB,
    RPC_ROLE_COUNT
} rpc_role;

/** A set of roles, for rpc_call_require_role and rpc_server_require_role. */
#define RPC_ROLE_BIT(r) (1u << (unsigned)(r))

/** Longest role id (an app server's --id, "login"), with its NUL. */
#define RPC_ROLE_ID_MAX 64

/** What the caller's credential turned out to be (rpc_peer.cred). */
enum {
    RPC_CRED_NONE = 0,    /**< none presented */
    RPC_CRED_VALID = 1,   /**< verified: role and id are the caller's */
    RPC_CRED_INVALID = 2, /**< presented but refused: forged, malformed, a
                               role this server holds no key for, or a
                               server with no verifier */
};

/** Transports, as the caller reached the server (rpc_peer.transport). */
enum {
    RPC_TRANSPORT_UNKNOWN = 0,
    RPC_TRANSPORT_TCP,
    RPC_TRANSPORT_TLS,
    RPC_TRANSPORT_IPC,
    RPC_TRANSPORT_INPROC,
};

/** The caller of one call, as proven. */
typedef struct rpc_peer {
    rpc_role role;            /**< RPC_ROLE_NONE unless cred is VALID */
    int cred;                 /**< RPC_CRED_NONE, _VALID or _INVALID */
    char id[RPC_ROLE_ID_MAX]; /**< the role's id ("app-3"); "" unless VALID */
    char addr[64];            /**< source IP ("127.0.0.1", "::1") for tcp and
                                   tls; "" for ipc, inproc, or unknown (the
                                   connection already gone) */
    int transport;            /**< RPC_TRANSPORT_* */
} rpc_peer;

/** Checks a presented credential (len bytes at cred, not NUL-terminated).
 * On success sets *role (never RPC_ROLE_NONE) and id (NUL-terminated) and
 * returns 0; any other return means "not valid". It must take the same
 * time whatever the secret bytes compared (rpc_trust_equal). Called on
 * any server thread, concurrently. */
typedef int (*rpc_verify_fn)(void *arg, const char *cred, size_t len,
                             rpc_role *role, char id[RPC_ROLE_ID_MAX]);

/** A verifier: set rpc_server_config.verifier to one that outlives the
 * server (rpc_keyring_verifier in rpc_trust.h). */
struct rpc_verifier {
    rpc_verify_fn fn;
    void *arg;
};

/** "login", "app", "orchestrator", "store", "draw", "bus", "web";
 * "unauthenticated" for RPC_ROLE_NONE (and anything out of range). */
const char *rpc_role_name(rpc_role r);

/** The role named by the n bytes at name ("app"), or RPC_ROLE_NONE. */
rpc_role rpc_role_from_name(const char *name, size_t n);

/** Who made this call. The credential is verified on the first call of
 * this function for a call (not at all for calls whose handler never
 * asks), then kept. A caller with a credential the server cannot verify
 * is RPC_CRED_INVALID, role RPC_ROLE_NONE; a forged one is logged (at
 * most once a second per server). Never NULL. */
const rpc_peer *rpc_call_peer(rpc_call *call);

/** Authorizes the call by role: RPC_OK when the caller's verified role is
 * in roles (a set of RPC_ROLE_BIT), else the code to return from the
 * handler, with the reply's message set:
 *  - RPC_UNAUTHENTICATED: no credential ("... is internal: the caller
 *    presented no role credential"), or one that did not verify;
 *  - RPC_PERMISSION_DENIED: a verified caller of another role ("... is
 *    for login only; the caller is app app-3"). */
int rpc_call_require_role(rpc_call *call, unsigned roles);

/** Makes the runtime itself refuse a method (or every method registered
 * so far of a service, as rpc_server_set_nonblocking names them) to
 * callers whose role is not in roles, exactly as rpc_call_require_role,
 * before the body is even decoded. 0 = open to anyone (the default).
 * @return 0; NNG_ENOENT when no registered method matches name;
 *         NNG_EBUSY once the server has started. */
int rpc_server_require_role(rpc_server *s, const char *name, unsigned roles);

/** Whether url keeps an internal endpoint off the network, for a
 * listener (server = 1) or for a client about to send its credential
 * there (server = 0):
 *  - inproc:// passes;
 *  - ipc://PATH passes when PATH's directory is ours and not writable by
 *    others (a missing one passes: a listener creates it 0700);
 *  - tcp:// passes only on a loopback address (127.0.0.0/8, ::1,
 *    localhost);
 *  - tls+tcp:// passes only with mutual TLS set up in tls: a certificate,
 *    its key and the deployment CA (a client: at least the CA).
 * @return 0 when it passes; else -1 and why (if not NULL) says what is
 *         wrong in one sentence, e.g. "tcp://0.0.0.0:8891 is reachable
 *         from other hosts and has no TLS". */
int rpc_plane_check(const char *url, const rpc_tls *tls, int server, char *why,
                    size_t n);

/** A server's connections (both tcp engines and nng's transports). */
typedef struct rpc_conn_stats {
    uint64_t open;             /**< connections open now */
    uint64_t accepted;         /**< accepted since start */
    uint64_t refused_per_addr; /**< refused: max_conns_per_addr reached */
    uint64_t refused_uid;      /**< ipc:// peers of another user, refused */
    uint64_t closed_idle;      /**< closed after client_idle_ms */
} rpc_conn_stats;

/** Fills out with s's connection counts (for /metrics). */
void rpc_server_conn_stats(rpc_server *s, rpc_conn_stats *out);

#ifdef __cplusplus
}
#endif
#endif
