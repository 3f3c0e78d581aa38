/* bench_resp.h: the Redis side's client, the twin of bench_wire.h: n
 * connections to one redis-server, one command in flight on each, all
 * multiplexed with epoll on the caller's thread, commands written as RESP
 * arrays of bulk strings and replies parsed into a flat list of tokens
 * (any RESP2 reply: integers, strings, errors, nested arrays, nulls). */
#ifndef SB_BENCH_RESP_H
#define SB_BENCH_RESP_H

#include <stddef.h>
#include <stdint.h>

/** One token of a reply, in pre-order: an array token is followed by its
 * n elements' tokens. type is the RESP prefix: '+' simple string, '-'
 * error, ':' integer (in n), '$' bulk string (str/len; n = -1 for the
 * null bulk), '*' array (n elements; -1 for the null array). */
typedef struct bench_resp_tok {
    char type;
    long long n;
    const char *str;
    size_t len;
} bench_resp_tok;

/** A reply: its tokens (valid only during the callback). */
typedef struct bench_resp_reply {
    const bench_resp_tok *t;
    size_t n;
} bench_resp_reply;

typedef struct bench_resp bench_resp;

/** Called for each reply on connection conn. It may send that
 * connection's next command with bench_resp_send(). */
typedef void (*bench_resp_cb)(void *arg, int conn, const bench_resp_reply *r);

/** Opens n connections to 127.0.0.1:port. 0, or -1 with a message. */
int bench_resp_open(bench_resp **out, int port, int n);

/** Sends argv[0..argc-1] (lens[i] bytes each; lens NULL = C strings) as
 * one command on conn. One command in flight per connection. 0, or -1
 * when the write fails or a command is in flight there. */
int bench_resp_send(bench_resp *r, int conn, int argc, const char *const *argv,
                    const size_t *lens);

/** Waits up to timeout_ms and hands each whole reply to cb. Returns the
 * connections still open, or -1 on an epoll error. A connection closed by
 * the server or sending bytes that are not RESP is dropped and counted in
 * bench_resp_errors(). */
int bench_resp_poll(bench_resp *r, int timeout_ms, bench_resp_cb cb, void *arg);

/** Runs one command on conn and waits (up to 10 s) for its reply, which
 * goes to cb as usual: for setup steps outside a timed loop. 0 or -1. */
int bench_resp_call(bench_resp *r, int conn, int argc, const char *const *argv,
                    bench_resp_cb cb, void *arg);

/** Connections with a command in flight; connections dropped so far. */
int bench_resp_in_flight(const bench_resp *r);
uint64_t bench_resp_errors(const bench_resp *r);

void bench_resp_close(bench_resp *r);

#endif
