/* bench_social_redis.c: Redis Streams as a bench_e2e transport, the shapes
 * of bench_social_wire.c on redis-server with `appendfsync always` (every
 * command that writes is fsync'd before its reply): a post is XADD to the
 * user's own stream, a send XADD to the friend's; end to end, each
 * receiver reads its stream through a consumer group (XREADGROUP ... BLOCK
 * ... >, at most 1000 entries) and XACKs every id of the batch at once;
 * the final look is XPENDING (acknowledged?) and a non-blocking
 * XREADGROUP (anything not delivered?). All connections on one thread
 * (bench_resp.h), as the Switchboard side's wire client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_resp.h"
#include "bench_social.h"

#define BATCH_MAX 1000
#define ID_MAX 48

enum { K_RECV, K_ACK, K_PENDING, K_UNREAD };

typedef struct rstream {
    social_env *e;
    bench_resp *r;
    int n, ph, round;
    uint8_t *kind;
    char (*ids)[ID_MAX]; /* per receiver: the batch's ids, BATCH_MAX each */
    size_t *nids;
    uint64_t *pending; /* per receiver: XPENDING's count in the final look */
    bench_e2e *d;
} rstream;

static void key_of(const rstream *x, int ph, int user, char *out, size_t cap)
{
    if (ph == PH_POSTS)
        snprintf(out, cap, "p:%d", user);
    else if (ph == PH_SENDS)
        snprintf(out, cap, "s:%d", user);
    else
        snprintf(out, cap, "e%d:%d", x->round, user);
}

static int r_send(void *t, int s, int to, const char *text, size_t len)
{
    rstream *x = t;
    char key[32];
    const char *argv[5] = {"XADD", key, "*", "m", text};
    size_t lens[5] = {4, 0, 1, 1, len};

    key_of(x, x->ph, x->ph == PH_POSTS ? s : to, key, sizeof key);
    lens[1] = strlen(key);
    return bench_resp_send(x->r, s, 5, argv, lens);
}

static int read_group(rstream *x, int r, int wait_ms, int kind)
{
    char key[32], count[16], block[16];
    const char *argv[] = {"XREADGROUP", "GROUP", "g",       "c", "COUNT", count,
                          "BLOCK",      block,   "STREAMS", key, ">"};
    int argc = 11;

    key_of(x, PH_E2E, r, key, sizeof key);
    snprintf(count, sizeof count, "%d", BATCH_MAX);
    snprintf(block, sizeof block, "%d", wait_ms);
    if (wait_ms == 0) { /* no BLOCK at all: BLOCK 0 waits forever */
        memmove(&argv[6], &argv[8], 3 * sizeof *argv);
        argc = 9;
    }
    x->kind[r] = (uint8_t)kind;
    return bench_resp_send(x->r, x->n + r, argc, argv, NULL);
}

static int r_receive(void *t, int r, int wait_ms)
{
    return read_group(t, r, wait_ms, K_RECV);
}

static int r_ack(void *t, int r)
{
    rstream *x = t;
    const char *argv[3 + BATCH_MAX];
    char key[32];

    key_of(x, PH_E2E, r, key, sizeof key);
    argv[0] = "XACK", argv[1] = key, argv[2] = "g";
    for (size_t i = 0; i < x->nids[r]; i++)
        argv[3 + i] = x->ids[(size_t)r * BATCH_MAX + i];
    x->kind[r] = K_ACK;
    return bench_resp_send(x->r, x->n + r, 3 + (int)x->nids[r], argv, NULL);
}

static int r_verify(void *t, int r)
{
    rstream *x = t;
    char key[32];
    const char *argv[] = {"XPENDING", key, "g"};

    key_of(x, PH_E2E, r, key, sizeof key);
    x->kind[r] = K_PENDING;
    return bench_resp_send(x->r, x->n + r, 3, argv, NULL);
}

/* XREADGROUP's reply: null, or [[key, [[id, [field, value, ...]], ...]]]:
 * each entry's id kept for the ack, field m's value reported. */
static int on_entries(rstream *x, int r, const bench_resp_reply *rep)
{
    const bench_resp_tok *t = rep->t;
    size_t i = 4, got = 0;

    x->nids[r] = 0;
    if (rep->n == 1 && t[0].type == '*' && t[0].n < 0)
        return 0;
    if (rep->n < 4 || t[0].type != '*' || t[1].type != '*' || t[3].type != '*')
        return -1;
    for (long long e = 0; e < t[3].n; e++) {
        if (i + 2 >= rep->n || t[i].type != '*' || t[i + 1].type != '$' ||
            t[i + 2].type != '*' || t[i + 1].len >= ID_MAX ||
            x->nids[r] >= BATCH_MAX || i + 3 + (size_t)t[i + 2].n > rep->n)
            return -1;
        char *id = x->ids[(size_t)r * BATCH_MAX + x->nids[r]++];
        memcpy(id, t[i + 1].str, t[i + 1].len);
        id[t[i + 1].len] = '\0';
        for (long long f = 0; f + 1 < t[i + 2].n; f += 2) {
            const bench_resp_tok *v = &t[i + 3 + f + 1];
            if (x->kind[r] == K_RECV)
                bench_e2e_delivered(x->d, r, v->str, v->len);
        }
        got++;
        i += 3 + (size_t)t[i + 2].n;
    }
    return (int)got;
}

static void on_reply(void *arg, int conn, const bench_resp_reply *rep)
{
    rstream *x = arg;
    const bench_resp_tok *t = rep->t;
    int r = conn - x->n, got;

    if (rep->n > 0 && t[0].type == '-')
        fprintf(stderr, "sb-bench social: redis: %.*s\n", (int)t[0].len,
                t[0].str);
    if (conn < x->n) {
        bench_e2e_sent(x->d, conn, rep->n == 1 && t[0].type == '$');
        return;
    }
    switch (x->kind[r]) {
    case K_RECV:
        got = on_entries(x, r, rep);
        bench_e2e_received(x->d, r, got > 0 ? (size_t)got : 0, got >= 0);
        break;
    case K_ACK:
        bench_e2e_acked(x->d, r,
                        rep->n == 1 && t[0].type == ':' &&
                            t[0].n == (long long)x->nids[r]);
        break;
    case K_PENDING: /* [count, first, last, consumers] */
        if (rep->n < 2 || t[0].type != '*' || t[1].type != ':' ||
            read_group(x, r, 0, K_UNREAD) != 0) {
            bench_e2e_left(x->d, r, 0, 0);
            break;
        }
        x->pending[r] = (uint64_t)t[1].n;
        break;
    default: /* K_UNREAD */
        got = on_entries(x, r, rep);
        bench_e2e_left(x->d, r, x->pending[r] + (got > 0 ? (uint64_t)got : 0),
                       got >= 0);
    }
}

static int r_poll(void *t, bench_e2e *d, int timeout_ms)
{
    rstream *x = t;
    x->d = d;
    return bench_resp_poll(x->r, timeout_ms, on_reply, x) < 0 ? -1 : 0;
}

static const bench_e2e_ops streams_ops = {r_send, r_receive, r_ack, r_verify,
                                          r_poll};

static void setup_reply(void *arg, int conn, const bench_resp_reply *rep)
{
    (void)conn;
    *(int *)arg = rep->n == 1 && rep->t[0].type == '+';
}

/* A consumer group on each receiver's fresh stream. */
static int make_groups(rstream *x)
{
    for (int r = 0; r < x->n; r++) {
        char key[32];
        const char *argv[] = {"XGROUP", "CREATE", key, "g", "$", "MKSTREAM"};
        int ok = 0;
        key_of(x, PH_E2E, r, key, sizeof key);
        if (bench_resp_call(x->r, 0, 6, argv, setup_reply, &ok) != 0 || !ok) {
            fprintf(stderr,
                    "sb-bench social: redis: XGROUP CREATE %s "
                    "failed\n",
                    key);
            return -1;
        }
    }
    return 0;
}

int social_redis_phase(social_env *e, int ph, int round,
                       const bench_e2e_cfg *cfg, bench_e2e_out *out,
                       bench_procs snap[2])
{
    rstream x = {.e = e, .n = e->n, .ph = ph, .round = round};
    int conns = cfg->receivers > 0 ? 2 * e->n : e->n, rc = -1;

    x.kind = calloc((size_t)e->n, 1);
    x.nids = calloc((size_t)e->n, sizeof *x.nids);
    x.pending = calloc((size_t)e->n, sizeof *x.pending);
    if (cfg->receivers > 0)
        x.ids = calloc((size_t)e->n * BATCH_MAX, ID_MAX);
    if (x.kind == NULL || x.nids == NULL || x.pending == NULL ||
        (cfg->receivers > 0 && x.ids == NULL) ||
        bench_resp_open(&x.r, e->redis.port, conns) != 0)
        goto out;
    if (cfg->receivers > 0 && make_groups(&x) != 0)
        goto out;
    social_snap(e, 1, &snap[0]);
    rc = bench_e2e_run(cfg, &streams_ops, &x, out);
    social_snap(e, 1, &snap[1]);
    out->errors += bench_resp_errors(x.r);
    if (bench_resp_errors(x.r) > 0)
        out->ok = 0;
out:
    bench_resp_close(x.r);
    free(x.kind);
    free(x.nids);
    free(x.pending);
    free(x.ids);
    return rc;
}
