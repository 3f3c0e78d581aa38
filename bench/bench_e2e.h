/* bench_e2e.h: the messaging benchmarks' driver, one for every system
 * measured (Switchboard's app servers over the wire client, Redis Streams
 * over RESP): S senders and R receivers on one thread. Each sender has one
 * message in flight (closed loop, or paced to a total rate); each receiver
 * long-polls its mailbox, acknowledges each batch it got, and asks again.
 * Every message carries its sender, its number and its send time, so the
 * driver times each delivery (send start -> the receive that brings it)
 * and keeps a ledger that proves, at the end, that every message whose send
 * was answered OK was received exactly once, by every receiver it was
 * for, in order, and acknowledged, and that nothing is left to be
 * delivered again. A message goes to a group of receivers (one receiver
 * for a direct send, a room's members for a say). With R = 0 it is a plain
 * closed-loop send benchmark (posts, sends).
 *
 * A transport (bench_e2e_ops) starts calls; its poll function reads
 * replies and reports them with the bench_e2e_* calls below. Texts are
 * "m<sender>.<number>.<send time, µs>", padded with 'x' to cfg.pad. */
#ifndef SB_BENCH_E2E_H
#define SB_BENCH_E2E_H

#include <stddef.h>
#include <stdint.h>

#include "bench_util.h"

typedef struct bench_e2e bench_e2e;

/** What a transport does. Each starter returns 0, or -1 when the call
 * could not be started (counted as an error; that sender or receiver
 * stops). */
typedef struct bench_e2e_ops {
    /** Sender s sends text (len bytes) to receiver `to` (-1: nobody, a
     * post or a message into the sender's own stream). */
    int (*send)(void *t, int s, int to, const char *text, size_t len);
    /** Receiver r asks for what follows the last batch it got, waiting up
     * to wait_ms for something to arrive. */
    int (*receive)(void *t, int r, int wait_ms);
    /** Receiver r acknowledges the batch its last receive returned. */
    int (*ack)(void *t, int r);
    /** Receiver r looks for anything still in its mailbox (acknowledged
     * or not delivered: either would be delivered again). */
    int (*verify)(void *t, int r);
    /** Waits up to timeout_ms for replies and reports each to d with the
     * bench_e2e_* calls below. -1: a fatal error. */
    int (*poll)(void *t, bench_e2e *d, int timeout_ms);
} bench_e2e_ops;

/** A running phase, seen by the tick callback (soak reports). */
typedef struct bench_e2e_stats {
    int64_t start_us, now_us;
    uint64_t sent, delivered, acked, errors;
    const bench_samples *lat; /* every delivery latency so far, in order */
} bench_e2e_stats;

typedef struct bench_e2e_cfg {
    const char *name;      /* the delivery figures: "end to end" */
    const char *send_name; /* the send figures: "durable sends" */
    int senders, receivers;
    const int *dest;   /* dest[s]: the group sender s's messages go to, and
                          with 0 receivers whom a send goes to (transport's
                          meaning); NULL: nobody */
    const int *member; /* member[r]: receiver r's group (one each); NULL:
                          receiver r is group r (one receiver a group) */
    int no_ack;        /* receivers never ack (no final look either) */
    int seconds;       /* senders stop starting sends after this */
    double rate;       /* total messages/s; 0 = closed loop */
    int wait_ms;       /* a receive's long-poll (1000 if 0) */
    int drain_s;       /* after the window, time to deliver the rest (30) */
    int pad;           /* message text padded to at least this many bytes */
    int tick_s;        /* call tick every tick_s seconds (0 = never) */
    void (*tick)(void *arg, const bench_e2e_stats *st);
    void *tick_arg;
} bench_e2e_cfg;

/** What one phase measured and what its ledger found. */
typedef struct bench_e2e_out {
    bench_result sends;    /* send calls OK'd/s, send call latency */
    bench_result delivery; /* delivered+acked (no_ack: delivered) in the
                              window /s, delivery latency (send start ->
                              the receive that brought it) */
    uint64_t sent, unsure; /* sends OK'd; sends whose outcome is unknown */
    uint64_t due;          /* deliveries due: each OK'd send x its group */
    uint64_t received, acked, duplicates, missing, misrouted, garbled;
    uint64_t extra;     /* received, but more than its sender sent */
    uint64_t left;      /* found in mailboxes by the final look */
    uint64_t undrained; /* receivers not done when the drain time ran out */
    uint64_t errors;    /* calls that failed (any kind) */
    double drain_s;     /* from the window's end to the last receiver done */
    int ok;             /* the exactly-once check passed */
} bench_e2e_out;

/** Runs one phase. Returns 0 when it ran (out filled; out->ok says whether
 * the check passed), -1 when the transport failed fatally. */
int bench_e2e_run(const bench_e2e_cfg *cfg, const bench_e2e_ops *ops, void *t,
                  bench_e2e_out *out);

/* ---- reports from the transport's poll --------------------------------- */

/** Sender s's send was answered: ok, or failed (outcome unknown). */
void bench_e2e_sent(bench_e2e *d, int s, int ok);
/** Receiver r's receive brought the message text (one call a message,
 * before bench_e2e_received). */
void bench_e2e_delivered(bench_e2e *d, int r, const char *text, size_t len);
/** Receiver r's receive ended with n messages (ok = 0: it failed). */
void bench_e2e_received(bench_e2e *d, int r, size_t n, int ok);
/** Receiver r's ack was answered (ok = 0: failed or acknowledged a
 * different number of messages than the batch held). */
void bench_e2e_acked(bench_e2e *d, int r, int ok);
/** Receiver r's final look found n messages still there. */
void bench_e2e_left(bench_e2e *d, int r, uint64_t n, int ok);

/** Prints the check: "exactly once: 1234 sent (OK), 1234 received once
 * each, ... : OK" (or FAILED, naming what), or the JSON object
 * {"name":"NAME check", ...}. */
void bench_e2e_print_check(const char *name, const bench_e2e_out *o, int json);

#endif
