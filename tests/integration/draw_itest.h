/* draw_itest.h: helpers the draw integration tests share: run a real
 * `sbd draw` process on 127.0.0.1 (a free port, a temp data dir), wait for
 * it to serve, stop it with SIGTERM or SIGKILL, and call Draw/Status. */
#ifndef DRAW_ITEST_H
#define DRAW_ITEST_H

#include <stdint.h>
#include <sys/types.h>

#include "draw.sb.h"

typedef struct dproc {
    char dir[64]; /* --data-dir, a temp dir removed by dproc_cleanup */
    char url[64]; /* tcp://127.0.0.1:PORT of the running process */
    int port;
    pid_t pid; /* 0 when not running */
} dproc;

/** Makes the temp dir (once). Returns 0 or -1. */
int dproc_init(dproc *p);
/** Starts `sbd draw` on a fresh free port with --pool-size size (0: none
 * given) and waits (up to 20 s) until Status answers. Returns 0 or -1. */
int dproc_start(dproc *p, uint32_t size);
/** SIGTERM and wait (graceful: exact cursor kept), or SIGKILL. */
void dproc_stop(dproc *p, int kill9);
/** Stops anything still running and removes the temp dir. */
void dproc_cleanup(dproc *p);
/** Status over a new client; returns the code, fills *out on RPC_OK. */
int dproc_status(const char *url, Sb__Draw__StatusReply **out);
/** One Draw on c with a timeout; returns the code; *out on RPC_OK. */
int dproc_draw(rpc_client *c, uint32_t count, Sb__Draw__DrawReply **out,
               rpc_status *st);

#endif
