/* bench_wire.h: a load generator's RPC client as light as the Redis one.
 * It speaks the framework's wire format itself — SP's TCP handshake,
 * length-prefixed req0 frames, the sb.rpc Call/Reply envelope — over plain
 * sockets, all connections multiplexed with epoll on the caller's thread,
 * exactly like bench_draw_redis.c speaks RESP. Servers see an ordinary
 * nng req0 peer. Used so a benchmark on this 2-core machine measures the
 * server, not the load generator's own nng threads (see docs). */
#ifndef SB_BENCH_WIRE_H
#define SB_BENCH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "rpc.pb-c.h"

typedef struct bench_wire bench_wire;

/** Called for each reply: conn is the connection's index, rep the decoded
 * envelope (freed after the call returns). The callback may send the
 * connection's next call with bench_wire_send(). */
typedef void (*bench_wire_cb)(void *arg, int conn, const Sb__Rpc__Reply *rep);

/** Opens n connections, connection i to urls[i] (tcp://HOST:PORT only),
 * and completes SP's handshake on each as a req0 peer. Returns 0, or -1
 * with a message on stderr (bad URL, refused connection, not a rep0
 * peer). */
int bench_wire_open(bench_wire **out, const char *const *urls, int n);

/** Sends one call on connection conn: method, token (NULL = none), body.
 * Each call gets a fresh 16-byte request id and a 10 s timeout. One call
 * in flight per connection (req0's rule). Returns 0, or -1 when the write
 * fails or a call is already in flight there. */
int bench_wire_send(bench_wire *w, int conn, const char *method,
                    const char *token, const uint8_t *body, size_t len);

/** Waits up to timeout_ms for replies and hands each to cb. Returns the
 * number of connections still open, or -1 on a poll error. A connection
 * that closes or sends a frame that does not decode is counted in
 * bench_wire_errors() and dropped. */
int bench_wire_poll(bench_wire *w, int timeout_ms, bench_wire_cb cb, void *arg);

/** Connections with a call in flight. */
int bench_wire_in_flight(const bench_wire *w);
/** Connections dropped on an error so far. */
uint64_t bench_wire_errors(const bench_wire *w);

void bench_wire_close(bench_wire *w);

#endif
