/* bench_rpc_srv.h: the servers behind `sb-bench rpc` (bench_rpc.c): the
 * framework's Echo server, the raw nng echo server, and
 * --server-process, which runs both in a forked child so that the
 * clients and the servers stop sharing one process's nng task threads. */
#ifndef SB_BENCH_RPC_SRV_H
#define SB_BENCH_RPC_SRV_H

#include <stdint.h>

#include <nng/nng.h>

#include "echo_service.h"

/** The framework's Echo server on tcp://127.0.0.1:<free port>.
 * @param on_workers 1 = Echo on the worker threads (as a blocking
 *                   handler), 0 = on nng's callback thread
 * @return 0, or -1 (nothing left running). */
int bench_fw_server_start(rpc_server **s, echo_service **e,
                          const rpc_server_config *cfg, int on_workers);

typedef struct raw_srv_ctx raw_srv_ctx;

/** The raw nng req/rep echo server: `contexts` contexts echo each
 * request message straight back from nng's callbacks, no envelope. */
typedef struct raw_server {
    nng_socket sock;
    raw_srv_ctx *ctxs;
    int n;
    char url[64]; /**< tcp://127.0.0.1:<port> */
} raw_server;

/** Starts rs; returns 0, or -1 (nothing left running). */
int raw_server_start(raw_server *rs, int contexts);
void raw_server_stop(raw_server *rs);

/** CPU time (user + system, µs) this process has used so far, every
 * thread. */
int64_t bench_cpu_us(void);

/** --server-process: a child process serving both servers. */
typedef struct srv_proc {
    int pid;
    int cmd_fd;   /**< parent → child: one byte asks for its CPU time */
    int reply_fd; /**< child → parent: the URLs, then CPU times */
    char fw_url[64], raw_url[64];
} srv_proc;

/** Forks the child, which starts both servers (cfg, on_workers as for
 * bench_fw_server_start; raw_contexts for the raw one) and serves until
 * the parent closes its end. Call before this process starts any nng
 * thread: the child must not inherit nng's state.
 * @return 0 in the parent (sp filled, both URLs set); 1 in the child
 *         once it has stopped serving (its caller returns from main);
 *         -1 when the child could not be started or its servers failed. */
int srv_proc_start(srv_proc *sp, const rpc_server_config *cfg, int on_workers,
                   int raw_contexts);
/** The child's CPU time so far (µs), or -1 if it does not answer. */
int64_t srv_proc_cpu_us(srv_proc *sp);
/** Tells the child to stop, and waits for it (5 s, then SIGKILL). */
void srv_proc_stop(srv_proc *sp);

#endif
