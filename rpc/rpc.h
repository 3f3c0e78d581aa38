/* rpc.h: Switchboard's RPC runtime: protobuf calls over nng req0/rep0.
 *
 * A call is one sb.rpc.Call frame answered by one sb.rpc.Reply frame
 * (proto/rpc.proto). Servers dispatch by method name through tables that
 * sb-stubgen generates from each .proto; clients call through the same
 * generated stubs (sync or async). The one status type that crosses module
 * boundaries is rpc_status: a gRPC canonical code plus a message.
 *
 * Thread safety: an rpc_client and an rpc_server may be used from any
 * number of threads at once.
 */
#ifndef SB_RPC_H
#define SB_RPC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Status codes: gRPC's canonical codes (same numbers as sb.rpc.Code). */
typedef enum rpc_code {
    RPC_OK = 0,
    RPC_CANCELLED = 1,
    RPC_UNKNOWN = 2,
    RPC_INVALID_ARGUMENT = 3,
    RPC_DEADLINE_EXCEEDED = 4,
    RPC_NOT_FOUND = 5,
    RPC_ALREADY_EXISTS = 6,
    RPC_PERMISSION_DENIED = 7,
    RPC_RESOURCE_EXHAUSTED = 8,
    RPC_FAILED_PRECONDITION = 9,
    RPC_ABORTED = 10,
    RPC_OUT_OF_RANGE = 11,
    RPC_UNIMPLEMENTED = 12,
    RPC_INTERNAL = 13,
    RPC_UNAVAILABLE = 14,
    RPC_DATA_LOSS = 15,
    RPC_UNAUTHENTICATED = 16,
    /** Returned by a handler that will answer later via rpc_call_finish. */
    RPC_DEFER = -1,
} rpc_code;

#define RPC_REQUEST_ID_LEN 16
#define RPC_DEFAULT_RECV_MAX (1024 * 1024)

/** The outcome of a call: code, human message, and (client side) the
 * endpoint that finally answered when a REDIRECT was followed. */
typedef struct rpc_status {
    int code;
    char message[256];
    char endpoint[512];
} rpc_status;

/** Name of a code ("OK", "NOT_FOUND", ...); "UNKNOWN_CODE" if out of range. */
const char *rpc_code_name(int code);

/** Sets st (if not NULL) to code and a printf-formatted message.
 * Returns code, so that `return rpc_status_set(st, ...)` reads well. */
int rpc_status_set(rpc_status *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Fills buf with n cryptographically random bytes (getrandom). */
void rpc_random_bytes(void *buf, size_t n);

/** mkdir -p: creates every missing directory of path, then path (mode
 * 0700). Returns 0 (also when it exists), ENAMETOOLONG for an empty or
 * over-long path, or mkdir's errno. The daemons' data directories. */
int rpc_mkdirs(const char *path);

/** Puts the wall clock's Unix time in ms, big-endian, in the first 6 of
 * the 16 bytes of a request id whose bytes are random (the layout of a
 * UUIDv7, 80 random bits left). Ids made so sort by time: the store keys
 * its applied-request records by id, and ids that arrive in time order
 * land on the B-tree's last leaf instead of a random one, which halves
 * the pages a group commit writes (docs/benchmarks.md). Uniqueness still
 * rests on the random bits; a skewed clock only costs that locality. */
void rpc_request_id_stamp(uint8_t *id);

/** Milliseconds on the monotonic clock, and on the wall clock (Unix). */
int64_t rpc_now_mono_ms(void);
int64_t rpc_now_wall_ms(void);
int64_t rpc_now_mono_us(void);

/** Sizes nng's thread pools for n CPUs (nng starts 2 task threads per
 * CPU; see rpc_nng_cpus.c for why fewer is cheaper here). Call it before
 * the process's first nng call: nng reads the count once, at its start.
 * n <= 0 (or > 256) keeps the machine's count. The environment variable
 * SB_NNG_CPUS, when set to 1..256, overrides n. Process-wide. */
void rpc_nng_cpus(int n);
/** The CPU count nng sizes itself for (the set one, or the machine's). */
int rpc_nng_cpus_get(void);
/** The task threads nng starts for that count (2 per CPU, 16 at most). */
int rpc_nng_task_threads(void);

/* ------------------------------------------------------------------ */
/* TLS                                                                   */

/** Certificate settings for tls+tcp:// URLs. Any field may be NULL.
 * A server needs cert_file and key_file; a client that sets ca_file
 * verifies the server against it (server_name defaults to the URL host). */
typedef struct rpc_tls {
    const char *cert_file;
    const char *key_file;
    const char *ca_file;
    const char *server_name;
} rpc_tls;

/* ------------------------------------------------------------------ */
/* Client                                                                */

typedef struct rpc_client rpc_client;

/** Client settings; a zeroed struct (or NULL) means the defaults shown. */
typedef struct rpc_client_config {
    size_t recv_max;        /**< largest reply accepted; 1 MiB */
    int timeout_ms;         /**< per-call budget when rpc_opts has none; 5000 */
    int max_retries;        /**< retries on UNAVAILABLE; 4 */
    int backoff_initial_ms; /**< first retry delay (then doubled, jittered); 20
                             */
    int backoff_max_ms;     /**< retry delay cap; 1000 */
    int max_redirects;      /**< REDIRECT hops followed per call; 4 */
    rpc_tls tls;            /**< for tls+tcp:// */
    /** This service's role credential (rpc_peer.h, docs/trust.md), copied
     * and sent in every call; NULL = none (users' clients). With one, every
     * URL the client dials (redirects included) must pass
     * rpc_plane_check: rpc_client_open refuses others with NNG_EPERM, and
     * a call redirected to one fails PERMISSION_DENIED. */
    const char *credential;
} rpc_client_config;

/** Per-call options; NULL means all defaults. */
typedef struct rpc_opts {
    int timeout_ms;            /**< 0 = the client's default */
    const char *token;         /**< auth token, NULL = none */
    const uint8_t *request_id; /**< RPC_REQUEST_ID_LEN bytes; NULL = fresh */
    int no_retry;              /**< 1 = do not retry on UNAVAILABLE */
    const char *endpoint;      /**< send here instead of the client's URLs */
} rpc_opts;

/** Opens a client on one URL or a comma-separated list of URLs
 * (tcp://, tls+tcp://, ipc://, inproc://). Connection is lazy and
 * reconnects with backoff on its own. Returns 0 or an nng error code. */
int rpc_client_open(rpc_client **out, const char *urls,
                    const rpc_client_config *cfg);

/** Closes the client; calls in flight complete with CANCELLED first. */
void rpc_client_close(rpc_client *c);

/** Sends a call and waits for its reply. Retries on UNAVAILABLE with the
 * same request id (so the server applies a mutation once), follows
 * REDIRECT replies, and gives up at the deadline with DEADLINE_EXCEEDED.
 * On RPC_OK, *reply is a message of type reply_desc that the caller frees
 * with protobuf_c_message_free_unpacked. Returns st->code. */
int rpc_client_call(rpc_client *c, const char *method,
                    const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *reply_desc,
                    ProtobufCMessage **reply, const rpc_opts *opts,
                    rpc_status *st);

/** Async completion: runs on an nng thread, must not block, owns reply.
 * It may start new calls; it must not close the client. */
typedef void (*rpc_done_fn)(void *arg, const rpc_status *st,
                            ProtobufCMessage *reply);

/** Starts a call and returns at once; done runs exactly once when the
 * call ends (success, failure, deadline, or client close). Many calls may
 * be in flight on one client (one nng context each). Returns 0, or an
 * error code (and done is not called). */
int rpc_client_call_async(rpc_client *c, const char *method,
                          const ProtobufCMessage *req,
                          const ProtobufCMessageDescriptor *reply_desc,
                          rpc_done_fn done, void *arg, const rpc_opts *opts);

/* ------------------------------------------------------------------ */
/* Server                                                                */

typedef struct rpc_server rpc_server;
typedef struct rpc_call rpc_call;
typedef struct rpc_verifier rpc_verifier; /* rpc_peer.h */

/** Server settings; a zeroed struct (or NULL) means the defaults shown. */
typedef struct rpc_server_config {
    const char *name;  /**< for logs and Health; "server" */
    size_t recv_max;   /**< largest Call frame accepted; 1 MiB */
    int workers;       /**< threads for blocking handlers; 4 */
    int contexts;      /**< nng contexts receiving calls at once; 64 */
    int max_deferred;  /**< calls parked by RPC_DEFER at once; 4096 */
    int stop_grace_ms; /**< graceful stop waits this long; 5000 */
    rpc_tls tls;       /**< for tls+tcp:// listeners */
    int tcp_engine;    /**< who serves tcp:// listeners; RPC_TCP_NNG */
    /** Checks callers' role credentials (rpc_peer.h); NULL = every caller
     * is unauthenticated. Must outlive the server. */
    const rpc_verifier *verifier;
    /** Closes a connection that has had no call in flight for this long
     * (clients' idle connections); 0 = never. Both tcp engines and nng's
     * transports; rpc_server_conn_stats counts them. */
    int client_idle_ms;
    /** Refuses a tcp/tls connection from an address that already has this
     * many open; 0 = no cap. */
    int max_conns_per_addr;
} rpc_server_config;

/** rpc_server_config.tcp_engine. Both speak the same SP REQ/REP wire
 * protocol, so clients cannot tell them apart; tls+tcp://, ipc:// and
 * inproc:// listeners are always nng's. */
enum {
    RPC_TCP_NNG = 0,   /**< nng's rep0 socket and its task threads */
    RPC_TCP_EPOLL = 1, /**< one epoll thread per listener (rpc_sp_tcp.c):
                            about half the CPU per call of nng 1.5.2 */
};

/** A method handler. req is decoded; reply is an initialised message of
 * the method's reply type, owned by the call: point its fields at memory
 * from rpc_call_alloc/rpc_call_strdup. Return a code (the reply body is
 * sent only on RPC_OK), or RPC_DEFER to answer later via rpc_call_finish
 * from any thread. */
typedef int (*rpc_handler_fn)(rpc_call *call, const ProtobufCMessage *req,
                              ProtobufCMessage *reply, void *arg);

int rpc_server_create(rpc_server **out, const rpc_server_config *cfg);
/** Adds a listener; call before or after start. tcp port 0 picks a free
 * port: rpc_server_url() tells the bound URL. Returns 0 or nng error. */
int rpc_server_listen(rpc_server *s, const char *url);
/** The i-th listener's URL with the real port; NULL past the end. */
const char *rpc_server_url(const rpc_server *s, size_t i);
/** Registers a method (generated _register functions call this). */
int rpc_server_add_method(rpc_server *s, const char *method,
                          const ProtobufCMessageDescriptor *req_desc,
                          const ProtobufCMessageDescriptor *reply_desc,
                          rpc_handler_fn fn, void *arg);
/** Declares that a method's handler never blocks: no disk or network
 * I/O, no sleeping, no waiting on other threads beyond short critical
 * sections. Such a handler runs directly on the nng thread that received
 * the call (an nng aio callback, which must never block) instead of being
 * handed to a worker thread, which saves two context switches per call.
 * Handlers that may block keep the worker pool (the default). RPC_DEFER
 * works from either kind.
 * @param s     the server, not started yet
 * @param name  a full method name ("sb.echo.Echo/Echo"), or a service
 *              name ("sb.echo.Echo") for all of its methods registered
 *              so far
 * @param on    1 = non-blocking (run inline), 0 = back to the workers
 * @return 0; NNG_ENOENT when no registered method matches name;
 *         NNG_EBUSY once the server has started. */
int rpc_server_set_nonblocking(rpc_server *s, const char *name, int on);
/** A zeroed block owned by the server, freed by rpc_server_destroy. */
void *rpc_server_keep(rpc_server *s, size_t size);
/** Marks a service (e.g. "sb.store.Store") SERVING or NOT_SERVING for
 * Health/Check; registered services are SERVING by default. */
void rpc_server_set_serving(rpc_server *s, const char *service, int serving);
/** Starts the worker threads. Health, ListMethods and Admin/Stats are
 * always served. Returns 0 or an error code. */
int rpc_server_start(rpc_server *s);
/** Graceful stop: new calls get UNAVAILABLE, in-flight ones (deferred
 * ones too) may finish for up to stop_grace_ms, then the listeners and
 * connections close; a reply made after that is dropped, and the caller
 * sees its connection close (its client retries or fails). */
void rpc_server_stop(rpc_server *s);
/** Stops (if running) and frees the server. Every deferred call must be
 * finished (rpc_call_finish) before this: a call holds the server. */
void rpc_server_destroy(rpc_server *s);

/* Inside a handler. */
const char *rpc_call_method(const rpc_call *call);
/** The caller's token, "" when none. */
const char *rpc_call_token(const rpc_call *call);
const uint8_t *rpc_call_request_id(const rpc_call *call);
/** Milliseconds left before the caller's deadline; INT64_MAX if none. */
int64_t rpc_call_time_left_ms(const rpc_call *call);
/** Memory that lives until the reply is sent. Never NULL (aborts on OOM
 * only if malloc fails, which the handler cannot recover from anyway). */
void *rpc_call_alloc(rpc_call *call, size_t size);
char *rpc_call_strdup(rpc_call *call, const char *s);
char *rpc_call_strndup(rpc_call *call, const char *s, size_t n);
/** Sets the reply's message; returns code. */
int rpc_call_fail(rpc_call *call, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Answers with a redirect to endpoint (code FAILED_PRECONDITION); the
 * client re-sends the same call there. Returns the code to return. */
int rpc_call_redirect(rpc_call *call, const char *endpoint);
/** The reply message, for a deferred call. */
ProtobufCMessage *rpc_call_reply(rpc_call *call);
/** Finishes a deferred call (exactly once). */
void rpc_call_finish(rpc_call *call, int code);

#ifdef __cplusplus
}
#endif
#endif
