/* rpc_server_internal.h: the server's state, shared between the call path
 * (rpc_server.c), its life cycle (rpc_server_life.c) and the built-in
 * Health/Admin methods (rpc_builtin.c). */
#ifndef SB_RPC_SERVER_INTERNAL_H
#define SB_RPC_SERVER_INTERNAL_H

#include <pthread.h>

#include "rpc_internal.h"
#include "rpc_peer.h"
#include "rpc_stats.h"

typedef struct rpc_method {
    char *name;
    uint32_t hash;
    const ProtobufCMessageDescriptor *req_desc;
    const ProtobufCMessageDescriptor *reply_desc;
    rpc_handler_fn fn;
    void *arg;
    int nonblocking; /* runs on nng's callback thread, no worker hand-off */
    unsigned roles;  /* rpc_server_require_role; 0 = open */
    rpc_stats stats;
} rpc_method;

/* One nng context receiving calls. Its aio callback (an nng thread)
 * decodes the envelope, runs a non-blocking method's handler itself and
 * queues any other call for the workers; the send's completion re-arms
 * the receive. */
typedef struct rpc_slot {
    rpc_server *s;
    nng_ctx ctx;
    nng_aio *aio;
    int sending;
    int busy;        /* a call is between receive and reply (0/1) */
    rpc_call *spare; /* the last finished call, reused with its arena */
} rpc_slot;

/* A tcp:// listener served by an epoll thread (rpc_sp_tcp.c). */
typedef struct rpc_sp_loop rpc_sp_loop;

typedef struct rpc_listen_ent {
    rpc_sp_loop *sp; /* set: served by the epoll engine, l unused */
    int sp_port;
    nng_listener l;
    nng_tls_config *tls;
    char url[320];
} rpc_listen_ent;

typedef struct rpc_health_ent {
    char *service;
    int serving;
} rpc_health_ent;

/* ---- trust (rpc_peer.c, rpc_conns.c, rpc_plane.c) ---- */

/* A peer's IP, compact: family 4 or 6 (0 = none; v4 in ip[0..3]). */
typedef struct rpc_addr {
    uint8_t family;
    uint8_t ip[16];
} rpc_addr;

/* Where a call came from; a field of every call (reset with it). */
typedef struct rpc_origin {
    ProtobufCBinaryData credential; /* a copy in the call's arena */
    uint32_t pipe_id;               /* nng's pipe; 0 from the epoll engine */
    rpc_addr from;                  /* the epoll engine's peer */
    struct rpc_peer *peer;          /* rpc_call_peer's answer, once made */
    uint8_t checked;                /* peer's credential verified */
    uint8_t located;                /* peer's transport and address filled */
} rpc_origin;
#define RPC_CRED_MAX 512 /* longer credentials are refused unread */

/* The call's origin (rpc_server.c), and its server. */
rpc_origin *rpc_call_origin(rpc_call *call);
rpc_server *rpc_call_server(const rpc_call *call);
/* "1.2.3.4" / "::1" into out[n] (n >= 46); "" for family 0. */
void rpc_addr_format(const rpc_addr *a, char *out, size_t n);

/* Connection bookkeeping of a server (rpc_conns.c): per-address counts
 * for the cap, and for nng's pipes their calls in flight and last
 * activity for the idle timeout (the epoll engine keeps its own, on its
 * thread). Created with the server; its pipe notifications also refuse
 * ipc:// peers of another user. */
typedef struct rpc_conns rpc_conns;
int rpc_conns_create(rpc_server *s, rpc_conns **out);
/* Starts the idle reaper of nng's pipes (when client_idle_ms is set). */
int rpc_conns_start(rpc_conns *c);
/* Stops the reaper; frees. NULL ignored. */
void rpc_conns_free(rpc_conns *c);
/* A call arrived on / was answered to nng pipe id (idle tracking on). */
void rpc_conns_call_begin(rpc_conns *c, uint32_t pipe_id);
void rpc_conns_call_end(rpc_conns *c, uint32_t pipe_id);
/* The epoll engine's accept and close: 0 = keep the connection, -1 =
 * over the per-address cap (counted and logged: close it). */
int rpc_conns_addr_add(rpc_conns *c, const rpc_addr *a);
void rpc_conns_addr_remove(rpc_conns *c, const rpc_addr *a);
/* The epoll engine closed n idle connections. */
void rpc_conns_closed_idle(rpc_conns *c, unsigned n);

/* ipc:// listeners (rpc_plane.c): makes PATH's directory (0700) if it is
 * missing and refuses one others may write; 0, or -1 with why. */
int rpc_ipc_prepare(const char *url, char *why, size_t n);

struct rpc_server {
    rpc_server_config cfg;
    char name[64];
    nng_socket sock;
    rpc_listen_ent *listeners;
    size_t n_listeners;
    rpc_method **methods;
    size_t n_methods, cap_methods;
    void **kept;
    size_t n_kept;
    rpc_health_ent *health;
    size_t n_health;
    rpc_slot *slots;
    int n_slots;
    pthread_t *threads;
    int n_threads;
    rpc_call *q_head, *q_tail; /* decoded calls waiting for a worker */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    int started;
    int stopping; /* new calls get UNAVAILABLE */
    int quit;     /* workers leave their loop */
    int stopped;
    int64_t deferred;     /* atomic: parked calls (the slots count the rest) */
    int64_t sp_in_flight; /* atomic: calls from epoll listeners, to reply */
    int64_t start_ms;
    rpc_stats bad_calls;    /* frames that named no known method */
    rpc_conns *conns;       /* connection bookkeeping (rpc_conns.c) */
    int conns_track;        /* nng pipes' idle tracking is on */
    int64_t warned_cred_ms; /* last forged-credential warning */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

rpc_method *rpc_server_find(rpc_server *s, const char *name);
/* Calls between receive and reply: busy slots plus parked calls. Each
 * slot flags its own call in a line the slot's thread writes anyway, so
 * the call path pays no shared atomic (a server-wide counter was the
 * hottest instruction of the slot callback: its cache line bounced
 * between the cores on every call). */
int64_t rpc_server_in_flight(rpc_server *s);
/* Frees the calls still queued for workers and the slots' spare calls,
 * once the socket is closed and the workers have left. */
void rpc_server_drain(rpc_server *s);
int rpc_builtin_register(rpc_server *s);

/* ---- the epoll engine for tcp:// (rpc_sp_tcp.c) ----
 * rpc_sp_listen binds url now (*port: the bound port) and serves frames
 * of at most recv_max bytes once rpc_sp_start runs its thread;
 * rpc_sp_stop ends the thread and closes the listener and every
 * connection; rpc_sp_free (after stop, or instead) frees. Returns 0 or
 * an nng error (NNG_EADDRINUSE, NNG_EADDRINVAL, NNG_ENOMEM). */
/* Binds url ("tcp://host:port", port 0 = any) with SO_REUSEADDR and
 * listens: *fd (non-blocking, close-on-exec) and *port (the bound one).
 * Returns 0, NNG_EADDRINVAL (not such a URL, or an unknown host),
 * NNG_EADDRINUSE or NNG_ENOMEM (rpc_tcp_listen.c). */
int rpc_tcp_listen_fd(const char *url, int *fd, int *port);
int rpc_sp_listen(rpc_server *s, const char *url, size_t recv_max,
                  rpc_sp_loop **out, int *port);
int rpc_sp_start(rpc_sp_loop *l);
void rpc_sp_stop(rpc_sp_loop *l);
void rpc_sp_free(rpc_sp_loop *l);
/* Sends msg (header: the caller's backtrace, body: the Reply) on
 * connection conn, from any thread; takes msg. A closed connection drops
 * it, as nng drops a reply to a gone pipe. */
void rpc_sp_reply(rpc_sp_loop *l, uint64_t conn, nng_msg *msg);
/* The loop's cache of finished call objects, used on its own thread only
 * (elsewhere take gives NULL and keep 0): take one (NULL: none), keep
 * one (1: kept). Once the loop is stopped, spare_left hands back what is
 * left, for the server to free. */
void *rpc_sp_take_spare(rpc_sp_loop *l);
int rpc_sp_keep_spare(rpc_sp_loop *l, void *call);
void *rpc_sp_spare_left(rpc_sp_loop *l);
/* The loop's entry into the call path (rpc_server.c): msg's header is
 * the backtrace, its body the Call frame; takes msg. */
void rpc_server_sp_call(rpc_server *s, rpc_sp_loop *l, uint64_t conn,
                        const rpc_addr *from, nng_msg *msg);

#endif
