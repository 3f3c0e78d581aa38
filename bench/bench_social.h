/* bench_social.h: what the parts of `sb-bench social` share: its options,
 * the users it registers (u0..u(N-1), u(2k) and u(2k+1) friends), the
 * child sbd and Redis it runs, and each part's entry point:
 *   bench_social.c        options, setup, the alternating rounds, output
 *   bench_social_wire.c   Switchboard over the wire client (posts, sends,
 *                         end to end: Send -> Receive -> Ack)
 *   bench_social_redis.c  the same shapes on Redis Streams (XADD,
 *                         XREADGROUP, XACK), appendfsync always
 *   bench_social_nng.c    posts and sends from nng or libsb clients
 *   bench_soak.c          --soak-minutes: RSS, p99, LMDB sizes over time
 *   bench_mailbox.c       --mailboxes: Receive at the head of big mailboxes */
#ifndef SB_BENCH_SOCIAL_H
#define SB_BENCH_SOCIAL_H

#include <sys/types.h>

#include "bench_e2e.h"
#include "bench_proc.h"
#include "bench_redis.h"
#include "sb.h"

enum { CLIENT_WIRE, CLIENT_NNG, CLIENT_LIBSB };
enum { PH_POSTS, PH_SENDS, PH_E2E, PH_COUNT };

typedef struct social_opts {
    long clients, seconds, rounds, pad, wait_ms, drain_s;
    int json, keep, client, vs_redis;
    int phases[PH_COUNT]; /* which phases run */
    const char *sbd;
    long soak_s, rate, interval_s; /* --soak-minutes/--soak-seconds */
    long mailboxes, unread, page;  /* --mailboxes */
} social_opts;

typedef struct social_user {
    int id;
    char name[16];
    int peer; /* the friend this user's sends go to */
    sb_session *s;
    sb_user u;
    rpc_client *rc; /* --client nng: its own connection to its app */
} social_user;

/** One run: options, users, the processes under test. */
typedef struct social_env {
    social_opts o;
    social_user *us;
    int n;
    int *dest; /* dest[i] = us[i].peer, for the e2e driver */
    pid_t sbd;
    int port;
    char dir[64];
    bench_redis redis;      /* appendfsync always; pid 0 when not started */
    struct social_mbox *mb; /* --mailboxes: bench_mailbox.c's state */
} social_env;

/** The phase's names: "durable posts", "durable sends", "end to end". */
extern const char *const social_phase_names[PH_COUNT];

/** The driver's configuration of phase ph for this run's users. */
void social_cfg(const social_env *e, int ph, bench_e2e_cfg *cfg);

/** Phase ph against Switchboard: the users' app servers over the wire
 * client, with cfg (social_cfg's, or the soak's). An end-to-end phase
 * first empties every mailbox (untimed: Ack of everything). snap[0] and
 * snap[1] are the processes just before and after the timed part. Returns
 * 0 when the phase ran (out says whether its check passed), or -1. */
int social_sb_phase(social_env *e, int ph, const bench_e2e_cfg *cfg,
                    bench_e2e_out *out, bench_procs snap[2]);

/** Room says (sb-bench chat) against Switchboard: sender s is room s,
 * whose members (room_of[u] == s, in user order) say in turn on their own
 * connections; every member receives (cfg.member = room_of). */
int social_room_phase(social_env *e, const int *room_of, int rooms,
                      const bench_e2e_cfg *cfg, bench_e2e_out *out,
                      bench_procs snap[2]);

/** The same phase on Redis Streams (e->redis): posts XADD to the user's
 * own stream, sends to the friend's, end to end adds a consumer group per
 * receiver (fresh streams each round: round is in their names). */
int social_redis_phase(social_env *e, int ph, int round,
                       const bench_e2e_cfg *cfg, bench_e2e_out *out,
                       bench_procs snap[2]);

/** Posts or sends from nng (async rpc_clients) or libsb (a thread each)
 * clients for o.seconds: the generators before the wire client. */
int social_nng_phase(social_env *e, int ph, bench_result *r,
                     bench_procs snap[2]);

/** --soak-minutes: end to end at o.rate for o.soak_s, a line every
 * o.interval_s, verdicts at the end. 0 when it ran and its exactly-once
 * check passed, 1 otherwise (the verdicts are figures, not pass/fail). */
int social_soak(social_env *e);

/** --mailboxes: pre-fills the store in e->dir before sbd starts, then
 * (after social_mailbox_run's caller started sbd) measures Receive. */
int social_mailbox_fill(social_env *e);
int social_mailbox_run(social_env *e);
void social_mailbox_free(social_env *e);

/** Snapshots the side under test (bench_procs_take): sbd and its
 * children, or (redis != 0) redis-server. */
void social_snap(const social_env *e, int redis, bench_procs *s);

#endif
