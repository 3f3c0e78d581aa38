/* bench_social_wire.c: Switchboard as a bench_e2e transport: each user's
 * sender and receiver are two connections to the user's app server from
 * the wire client (bench_wire.h, one thread, epoll). A send is App/Post or
 * App/Send to the friend, or for a room (sb-bench chat) App/Say from the
 * room's members in turn; a receive is App/Receive after the last seq got
 * (a long-poll); an ack is App/Ack up to it; the final look is a Receive
 * from seq 0 that must come back empty (acknowledged entries are deleted,
 * so anything there would be delivered again). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_social.h"
#include "bench_wire.h"
#include "social.pb-c.h"

enum { K_NONE, K_RECV, K_ACK, K_VERIFY };

typedef struct swire {
    social_env *e;
    bench_wire *w;
    int n, post;
    uint64_t *after; /* per receiver: the last seq it got */
    uint8_t *kind;   /* per receiver: the call in flight */
    bench_e2e *d;
    int complained; /* the first failed call was reported */
    /* rooms (chat): sender s is room s; its members say in turn */
    int rooms;
    int *speakers, *first, *turn; /* members by room: first[s].. */
    int *speaking;                /* per user: the room it says for */
    /* SB_BENCH_FAULT (tests of the check only): "duplicate" - receiver 0's
     * first ack acknowledges nothing and it asks again from seq 0, so its
     * first batch comes twice; "lose" - receiver 0 does not report the
     * first message of its first batch. Either must fail the check. */
    int fault;
} swire;

enum { FAULT_NONE, FAULT_DUPLICATE, FAULT_LOSE };

static int w_say(swire *x, int room, const char *text)
{
    int count = x->first[room + 1] - x->first[room];
    int u = x->speakers[x->first[room] + x->turn[room]++ % count];
    Sb__Social__SayRequest req = SB__SOCIAL__SAY_REQUEST__INIT;
    uint8_t body[4400];

    req.text = (char *)text;
    x->speaking[u] = room;
    size_t n = sb__social__say_request__pack(&req, body);
    return bench_wire_send(x->w, u, "sb.social.App/Say", x->e->us[u].u.token,
                           body, n);
}

static int w_send(void *t, int s, int to, const char *text, size_t len)
{
    swire *x = t;
    uint8_t body[4400];
    size_t n;
    social_user *u = &x->e->us[s];

    if (len > 4096)
        return -1;
    if (x->rooms > 0)
        return w_say(x, s, text);
    if (x->post) {
        Sb__Social__PostRequest req = SB__SOCIAL__POST_REQUEST__INIT;
        req.text = (char *)text;
        n = sb__social__post_request__pack(&req, body);
        return bench_wire_send(x->w, s, "sb.social.App/Post", u->u.token, body,
                               n);
    }
    Sb__Social__SendRequest req = SB__SOCIAL__SEND_REQUEST__INIT;
    req.to = x->e->us[to].name;
    req.text = (char *)text;
    n = sb__social__send_request__pack(&req, body);
    return bench_wire_send(x->w, s, "sb.social.App/Send", u->u.token, body, n);
}

static int receive_from(swire *x, int r, uint64_t after, int wait_ms, int kind)
{
    Sb__Social__ReceiveRequest req = SB__SOCIAL__RECEIVE_REQUEST__INIT;
    uint8_t body[64];

    req.after_seq = after;
    req.wait_ms = (uint32_t)wait_ms;
    x->kind[r] = (uint8_t)kind;
    size_t n = sb__social__receive_request__pack(&req, body);
    return bench_wire_send(x->w, x->n + r, "sb.social.App/Receive",
                           x->e->us[r].u.token, body, n);
}

static int w_receive(void *t, int r, int wait_ms)
{
    swire *x = t;
    return receive_from(x, r, x->after[r], wait_ms, K_RECV);
}

static int ack_upto(swire *x, int r, uint64_t upto)
{
    Sb__Social__AckRequest req = SB__SOCIAL__ACK_REQUEST__INIT;
    uint8_t body[32];

    req.upto_seq = upto;
    x->kind[r] = K_ACK;
    size_t n = sb__social__ack_request__pack(&req, body);
    return bench_wire_send(x->w, x->n + r, "sb.social.App/Ack",
                           x->e->us[r].u.token, body, n);
}

static int w_ack(void *t, int r)
{
    swire *x = t;
    if (x->fault == FAULT_DUPLICATE && r == 0) {
        x->fault = FAULT_NONE;
        x->after[r] = 0;
        return ack_upto(x, r, 0);
    }
    return ack_upto(x, r, x->after[r]);
}

static int w_verify(void *t, int r)
{
    return receive_from(t, r, 0, 0, K_VERIFY);
}

static void on_receive(swire *x, int r, const Sb__Rpc__Reply *rep)
{
    Sb__Social__ReceiveReply *rr = NULL;
    int ok = rep->code == SB__RPC__CODE__OK &&
             (rr = sb__social__receive_reply__unpack(NULL, rep->body.len,
                                                     rep->body.data)) != NULL;
    size_t n = ok ? rr->n_deliveries : 0;

    if (x->kind[r] == K_VERIFY) {
        bench_e2e_left(x->d, r, n, ok);
    } else {
        size_t lost = x->fault == FAULT_LOSE && r == 0 && n > 0;
        x->fault = lost ? FAULT_NONE : x->fault;
        for (size_t i = 0; i < n; i++) {
            const Sb__Social__Delivery *dv = rr->deliveries[i];
            if (dv->seq > x->after[r])
                x->after[r] = dv->seq;
            if (i >= lost)
                bench_e2e_delivered(x->d, r, dv->text, strlen(dv->text));
        }
        bench_e2e_received(x->d, r, n - lost, ok);
    }
    if (rr != NULL)
        sb__social__receive_reply__free_unpacked(rr, NULL);
}

static void on_reply(void *arg, int conn, const Sb__Rpc__Reply *rep)
{
    swire *x = arg;
    int ok = rep->code == SB__RPC__CODE__OK;

    if (!ok && x->complained++ == 0)
        fprintf(stderr, "sb-bench social: %s: %s %s\n",
                x->e->us[conn % x->n].name, rpc_code_name((int)rep->code),
                rep->message);
    if (x->d == NULL) { /* the untimed emptying before the phase */
        x->kind[conn - x->n] = ok ? K_NONE : K_ACK;
        return;
    }
    if (conn < x->n) {
        bench_e2e_sent(x->d, x->rooms > 0 ? x->speaking[conn] : conn, ok);
        return;
    }
    int r = conn - x->n;
    if (x->kind[r] == K_ACK)
        bench_e2e_acked(x->d, r, ok);
    else
        on_receive(x, r, rep);
}

static int w_poll(void *t, bench_e2e *d, int timeout_ms)
{
    swire *x = t;
    x->d = d;
    return bench_wire_poll(x->w, timeout_ms, on_reply, x) < 0 ? -1 : 0;
}

static const bench_e2e_ops wire_ops = {w_send, w_receive, w_ack, w_verify,
                                       w_poll};

/* Every mailbox emptied (what the sends phase left): Ack of all. */
static int empty_mailboxes(swire *x)
{
    int failed = 0;
    for (int r = 0; r < x->n; r++)
        if (ack_upto(x, r, UINT64_MAX) != 0)
            return -1;
    while (bench_wire_in_flight(x->w) > 0)
        if (bench_wire_poll(x->w, 1000, on_reply, x) < 0)
            return -1;
    for (int r = 0; r < x->n; r++)
        failed |= x->kind[r] != K_NONE;
    return failed || bench_wire_errors(x->w) > 0 ? -1 : 0;
}

/* Members by room, in user order: speakers[first[r] .. first[r+1]). */
static int rooms_index(swire *x, const int *room_of)
{
    x->speakers = calloc((size_t)x->n, sizeof(int));
    x->first = calloc((size_t)x->rooms + 1, sizeof(int));
    x->turn = calloc((size_t)x->rooms, sizeof(int));
    x->speaking = calloc((size_t)x->n, sizeof(int));
    if (!x->speakers || !x->first || !x->turn || !x->speaking)
        return -1;
    for (int r = 0, k = 0; r < x->rooms; r++) {
        x->first[r] = k;
        for (int u = 0; u < x->n; u++)
            if (room_of[u] == r)
                x->speakers[k++] = u;
        x->first[r + 1] = k;
        if (k == x->first[r])
            return -1; /* a room nobody is in */
    }
    return 0;
}

static int run(swire *x, const bench_e2e_cfg *cfg, bench_e2e_out *out,
               bench_procs snap[2])
{
    social_env *e = x->e;
    int conns = cfg->receivers > 0 ? 2 * e->n : e->n, rc = -1;
    const char **urls = calloc((size_t)conns, sizeof *urls);

    const char *fault = getenv("SB_BENCH_FAULT");
    x->fault = fault == NULL                     ? FAULT_NONE
               : strcmp(fault, "duplicate") == 0 ? FAULT_DUPLICATE
               : strcmp(fault, "lose") == 0      ? FAULT_LOSE
                                                 : FAULT_NONE;
    x->after = calloc((size_t)e->n, sizeof *x->after);
    x->kind = calloc((size_t)e->n, 1);
    if (urls == NULL || x->after == NULL || x->kind == NULL)
        goto out;
    for (int i = 0; i < conns; i++)
        urls[i] = e->us[i % e->n].u.endpoint;
    if (bench_wire_open(&x->w, urls, conns) != 0)
        goto out;
    if (cfg->receivers > 0 && empty_mailboxes(x) != 0) {
        fprintf(stderr, "sb-bench: could not empty the mailboxes\n");
        goto out;
    }
    social_snap(e, 0, &snap[0]);
    rc = bench_e2e_run(cfg, &wire_ops, x, out);
    social_snap(e, 0, &snap[1]);
    out->errors += bench_wire_errors(x->w);
    if (bench_wire_errors(x->w) > 0)
        out->ok = 0;
out:
    bench_wire_close(x->w);
    free(urls);
    free(x->after);
    free(x->kind);
    return rc;
}

int social_sb_phase(social_env *e, int ph, const bench_e2e_cfg *cfg,
                    bench_e2e_out *out, bench_procs snap[2])
{
    swire x = {.e = e, .n = e->n, .post = ph == PH_POSTS};
    return run(&x, cfg, out, snap);
}

int social_room_phase(social_env *e, const int *room_of, int rooms,
                      const bench_e2e_cfg *cfg, bench_e2e_out *out,
                      bench_procs snap[2])
{
    swire x = {.e = e, .n = e->n, .rooms = rooms};
    int rc = rooms_index(&x, room_of) == 0 ? run(&x, cfg, out, snap) : -1;

    free(x.speakers);
    free(x.first);
    free(x.turn);
    free(x.speaking);
    return rc;
}
