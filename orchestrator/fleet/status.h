/* status.h: the orchestrator's status web page, served by nng's HTTP server
 * from fleet snapshots: `/` an HTML page (app servers and sessions),
 * `/api/fleet` JSON, `/metrics` Prometheus text, `/healthz`. The render
 * functions are separate from the server so they can be used (and tested)
 * without a socket. Every name is escaped: user names may hold any byte. */
#ifndef SB_STATUS_H
#define SB_STATUS_H

#include <stddef.h>

#include "fleet.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A growing text buffer. Zero-initialise; free with status_buf_free. */
typedef struct status_buf {
    char *p;
    size_t len, cap;
    int oom; /**< set once an append ran out of memory */
} status_buf;

/** Appends printf-style. Returns 0, or -1 (out of memory; b->oom set). */
int status_buf_printf(status_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void status_buf_free(status_buf *b);

/** Appends more Prometheus lines to /metrics (e.g. the RPC server's call
 * statistics, once the RPC layer has them). Called on nng's HTTP thread:
 * must not block. */
typedef void (*status_metrics_fn)(void *arg, status_buf *b);

/** Render a snapshot. Each returns 0, or -1 if out of memory. */
int status_render_html(const fleet_snapshot *s, status_buf *b);
int status_render_json(const fleet_snapshot *s, status_buf *b);
int status_render_metrics(const fleet_snapshot *s, status_buf *b);

typedef struct status_server status_server;

typedef struct status_options {
    /** "http://ADDR:PORT"; "http://0.0.0.0:8080". Port 0 picks a free one
     * (see status_server_port). */
    const char *url;
    struct fleet *fleet;             /**< required; must outlive the server */
    status_metrics_fn extra_metrics; /**< optional */
    void *extra_arg;
} status_options;

/** Starts serving.
 * @return RPC_OK; RPC_INVALID_ARGUMENT (no fleet, or a URL nng cannot
 *         parse); RPC_UNAVAILABLE (cannot bind: st names the address and
 *         nng's reason); RPC_INTERNAL (out of memory). */
int status_server_start(const status_options *o, status_server **out,
                        rpc_status *st);

/** The TCP port it listens on, or -1 if unknown. */
int status_server_port(status_server *s);

/** Stops and frees the server (NULL ignored). Waits for handlers. */
void status_server_stop(status_server *s);

#ifdef __cplusplus
}
#endif

#endif
