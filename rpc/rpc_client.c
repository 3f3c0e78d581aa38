/* rpc_client.c: the RPC client. Each endpoint (one URL, or the client's
 * comma-separated URL list) is one req0 socket whose dialers reconnect by
 * themselves; every call opens its own nng context, so any number of calls
 * may be in flight on one socket. A call is an aio state machine (send,
 * receive, back off) whose callbacks never block. A sync call runs the
 * same machine on an aio without a callback, in the caller's thread: it
 * waits for each step itself, so no nng task thread has to run a
 * callback and wake it (one hand-off fewer per step).
 *
 * nng's REQ resend is turned off: the runtime retries on UNAVAILABLE with
 * backoff and jitter, re-sending the same request id so that the server
 * can apply a mutation once. A reply with a redirect re-sends the same call
 * to the endpoint it names (bounded hops). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "rpc_internal.h"
#include "rpc_peer.h"
#include "sb_log.h"

#define MAX_ENDPOINTS 256
#define CONNECT_WAIT_MS 500 /* how long an attempt waits for a connection */
#define IDS_PER_FILL 16     /* request ids drawn per getrandom() call */

typedef struct rpc_ep {
    char url[512];
    nng_socket sock;
    nng_tls_config *tls;
    int pipes; /* connected pipes, from pipe notifications */
} rpc_ep;

typedef struct rpc_op rpc_op;

struct rpc_client {
    rpc_client_config cfg;
    char *credential;           /* cfg.credential's copy; NULL = none */
    rpc_ep *eps[MAX_ENDPOINTS]; /* eps[0] is the client's own URL list */
    size_t n_eps;
    rpc_op *ops;  /* calls in flight, for close */
    rpc_op *pool; /* finished ops kept with their aio and context */
    int closing;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

enum { OP_SEND, OP_RECV, OP_SLEEP, OP_RECV_DONE };

struct rpc_op {
    rpc_client *c;
    rpc_op *prev, *next;
    rpc_ep *ep;
    nng_ctx ctx;
    rpc_ep *ctx_ep; /* the socket ctx belongs to */
    int ctx_open;
    nng_aio *aio;      /* the machine's aio: one of the two below */
    nng_aio *cb_aio;   /* async calls: steps run op_cb on nng's threads */
    nng_aio *wait_aio; /* sync calls: no callback, the caller steps */
    int state;
    rpc_wire_call env; /* its fields point at the op's own copies */
    uint8_t reqid[RPC_REQUEST_ID_LEN];
    uint8_t ids[IDS_PER_FILL][RPC_REQUEST_ID_LEN]; /* fresh ids to hand out */
    int ids_left;
    uint8_t *body;
    size_t body_cap;
    char method[256], token[256];
    const ProtobufCMessageDescriptor *reply_desc;
    rpc_done_fn done;
    void *arg;
    int64_t deadline_ms;
    int attempt, hops, no_retry;
    rpc_status st;
};

/* Copies src into dst[n], cut short if need be: the call path's strings
 * (printf costs more than the rest of a small reply's handling). */
static void copy_str(char *dst, size_t n, const char *src)
{
    size_t len = strnlen(src, n - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    rpc_ep *ep = arg;
    (void)p;
    __atomic_fetch_add(&ep->pipes, ev == NNG_PIPE_EV_ADD_POST ? 1 : -1,
                       __ATOMIC_RELAXED);
}

static int ep_open(rpc_client *c, const char *urls, rpc_ep **out)
{
    rpc_ep *ep = calloc(1, sizeof *ep);
    int rv;
    if (ep == NULL)
        return NNG_ENOMEM;
    snprintf(ep->url, sizeof ep->url, "%s", urls);
    if ((rv = nng_req0_open(&ep->sock)) != 0) {
        free(ep);
        return rv;
    }
    if ((rv = nng_socket_set_ms(ep->sock, NNG_OPT_REQ_RESENDTIME,
                                NNG_DURATION_INFINITE)) != 0 ||
        (rv = rpc_set_recv_max(ep->sock, c->cfg.recv_max)) != 0 ||
        (rv = nng_socket_set_ms(ep->sock, NNG_OPT_RECONNMINT, 20)) != 0 ||
        (rv = nng_socket_set_ms(ep->sock, NNG_OPT_RECONNMAXT, 1000)) != 0 ||
        (rv = nng_pipe_notify(ep->sock, NNG_PIPE_EV_ADD_POST, pipe_event,
                              ep)) != 0 ||
        (rv = nng_pipe_notify(ep->sock, NNG_PIPE_EV_REM_POST, pipe_event,
                              ep)) != 0)
        goto fail;
    char list[512], *save = NULL;
    snprintf(list, sizeof list, "%s", urls);
    for (char *u = strtok_r(list, ",", &save); u != NULL;
         u = strtok_r(NULL, ",", &save)) {
        nng_dialer d;
        char why[512];
        /* a credential goes only where no other host can read it */
        if (c->credential != NULL &&
            rpc_plane_check(u, &c->cfg.tls, 0, why, sizeof why) != 0) {
            sb_error("rpc", "will not send this service's credential: %s", why);
            rv = NNG_EPERM;
            goto fail;
        }
        if ((rv = nng_dialer_create(&d, ep->sock, u)) != 0)
            goto fail;
        if (ep->tls == NULL &&
            (rv = rpc_tls_config(u, &c->cfg.tls, 0, &ep->tls)) != 0)
            goto fail;
        if (ep->tls != NULL && strncmp(u, "tls+", 4) == 0 &&
            (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, ep->tls)) != 0)
            goto fail;
        if ((rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0)
            goto fail;
    }
    *out = ep;
    return 0;
fail:
    nng_close(ep->sock);
    if (ep->tls != NULL)
        nng_tls_config_free(ep->tls);
    free(ep);
    return rv;
}

static void op_free(rpc_op *op);
static void op_unlink(rpc_client *c, rpc_op *op);

static void ep_free(rpc_ep *ep)
{
    nng_close(ep->sock);
    if (ep->tls != NULL)
        nng_tls_config_free(ep->tls);
    free(ep);
}

/* The endpoint for url, opened on first use. */
static rpc_ep *ep_get(rpc_client *c, const char *url, int *err)
{
    rpc_ep *ep = NULL;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n_eps && ep == NULL; i++)
        if (strcmp(c->eps[i]->url, url) == 0)
            ep = c->eps[i];
    if (ep == NULL) {
        *err = c->n_eps >= MAX_ENDPOINTS ? NNG_ENOMEM : ep_open(c, url, &ep);
        if (*err == 0)
            c->eps[c->n_eps++] = ep;
        else
            ep = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    return ep;
}

int rpc_client_open(rpc_client **out, const char *urls,
                    const rpc_client_config *cfg)
{
    rpc_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NNG_ENOMEM;
    if (cfg != NULL)
        c->cfg = *cfg;
    if (c->cfg.timeout_ms <= 0)
        c->cfg.timeout_ms = 5000;
    if (c->cfg.max_retries <= 0)
        c->cfg.max_retries = 4;
    if (c->cfg.backoff_initial_ms <= 0)
        c->cfg.backoff_initial_ms = 20;
    if (c->cfg.backoff_max_ms <= 0)
        c->cfg.backoff_max_ms = 1000;
    if (c->cfg.max_redirects <= 0)
        c->cfg.max_redirects = 4;
    if (c->cfg.credential != NULL &&
        (c->credential = strdup(c->cfg.credential)) == NULL) {
        free(c);
        return NNG_ENOMEM;
    }
    c->cfg.credential = c->credential;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    int rv = ep_open(c, urls, &c->eps[0]);
    if (rv != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c->credential);
        free(c);
        return rv;
    }
    c->n_eps = 1;
    *out = c;
    return 0;
}

void rpc_client_close(rpc_client *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->closing = 1;
    for (rpc_op *op = c->ops; op != NULL; op = op->next)
        if (op->aio != NULL) /* NULL: a new op not started yet */
            nng_aio_cancel(op->aio);
    while (c->ops != NULL)
        pthread_cond_wait(&c->cv, &c->mu);
    rpc_op *pool = c->pool;
    c->pool = NULL;
    pthread_mutex_unlock(&c->mu);
    while (pool != NULL) { /* outside every callback: aio_free may wait */
        rpc_op *n = pool->next;
        op_free(pool);
        pool = n;
    }
    for (size_t i = 0; i < c->n_eps; i++)
        ep_free(c->eps[i]);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->credential);
    free(c);
}

/* ---- the call state machine ---- */

/* Ends a call: done runs, then the op goes back to the pool (keeping its
 * aio, and its context when that is clean). It leaves the in-flight list
 * only after done returns, so rpc_client_close cannot free the client
 * under a running callback. Nothing may touch op or c after the unlock. */
static void op_finish(rpc_op *op, ProtobufCMessage *reply)
{
    rpc_client *c = op->c;
    copy_str(op->st.endpoint, sizeof op->st.endpoint, op->ep->url);
    if (op->ctx_open && op->state != OP_RECV_DONE) {
        nng_ctx_close(op->ctx);
        op->ctx_open = 0;
    }
    op->done(op->arg, &op->st, reply);
    pthread_mutex_lock(&c->mu);
    op_unlink(c, op);
    pthread_mutex_unlock(&c->mu);
}

static void op_free(rpc_op *op)
{
    if (op->ctx_open)
        nng_ctx_close(op->ctx);
    if (op->cb_aio != NULL)
        nng_aio_free(op->cb_aio);
    if (op->wait_aio != NULL)
        nng_aio_free(op->wait_aio);
    free(op->body);
    free(op);
}

static void op_fail(rpc_op *op, int code, const char *fmt, const char *s)
{
    rpc_status_set(&op->st, code, fmt, s);
    op_finish(op, NULL);
}

/* A new frame holding the Call, or NULL. Its own function, never
 * inlined: the LeakSanitizer suppressions (tests/lsan.supp and the
 * tests' .lsan files) name it as the site of nng 1.5.2's lost request. */
__attribute__((noinline)) static nng_msg *
rpc_client_frame(const rpc_wire_call *env)
{
    nng_msg *msg = NULL;
    if (nng_msg_alloc(&msg, rpc_wire_call_size(env)) != 0)
        return NULL;
    rpc_wire_call_write(env, nng_msg_body(msg));
    return msg;
}

/* Sends the call (again); now is the monotonic clock in ms, or -1 to
 * read it (the first attempt reuses call_start's reading). */
static void op_attempt(rpc_op *op, int64_t now)
{
    int64_t left = op->deadline_ms - (now >= 0 ? now : rpc_now_mono_ms());
    if (__atomic_load_n(&op->c->closing, __ATOMIC_ACQUIRE))
        return op_fail(op, RPC_CANCELLED, "%s", "client closed");
    if (left <= 0)
        return op_fail(op, RPC_DEADLINE_EXCEEDED, "deadline exceeded (%s)",
                       op->st.message[0] ? op->st.message : "no reply");
    if (op->ctx_open && (op->state != OP_RECV_DONE || op->ctx_ep != op->ep)) {
        nng_ctx_close(op->ctx);
        op->ctx_open = 0;
    }
    if (!op->ctx_open) {
        op->ctx_open = nng_ctx_open(&op->ctx, op->ep->sock) == 0;
        op->ctx_ep = op->ep;
    }
    if (!op->ctx_open)
        return op_fail(op, RPC_UNAVAILABLE, "cannot open a context on %s",
                       op->ep->url);
    op->env.timeout_ms = (uint32_t)left;
    /* a fresh frame, never a reused reply: nng 1.5.2 loses a request
     * whose pipe dies under it, and tests/lsan.supp names this site */
    nng_msg *msg = rpc_client_frame(&op->env);
    if (msg == NULL)
        return op_fail(op, RPC_RESOURCE_EXHAUSTED, "%s", "out of memory");
    int64_t wait = left;
    if (__atomic_load_n(&op->ep->pipes, __ATOMIC_RELAXED) <= 0 &&
        wait > CONNECT_WAIT_MS)
        wait = CONNECT_WAIT_MS;
    op->state = OP_SEND;
    nng_aio_set_msg(op->aio, msg);
    nng_aio_set_timeout(op->aio, (nng_duration)wait);
    nng_ctx_send(op->ctx, op->aio);
}

/* UNAVAILABLE: back off (full jitter) and try again, or give up. */
static void op_retry(rpc_op *op)
{
    if (op->no_retry || op->attempt >= op->c->cfg.max_retries)
        return op_finish(op, NULL);
    int cap = op->c->cfg.backoff_initial_ms
              << (op->attempt < 16 ? op->attempt : 16);
    if (cap > op->c->cfg.backoff_max_ms || cap <= 0)
        cap = op->c->cfg.backoff_max_ms;
    uint32_t r;
    rpc_random_bytes(&r, sizeof r);
    int64_t delay = 1 + (int64_t)(r % (uint32_t)cap);
    int64_t left = op->deadline_ms - rpc_now_mono_ms();
    if (delay >= left)
        return op_finish(op, NULL);
    op->attempt++;
    op->state = OP_SLEEP;
    nng_sleep_aio((nng_duration)delay, op->aio);
}

/* Copies a string read in place (not NUL-terminated) into dst[n], cut
 * at a NUL byte as a C string would be, and short if need be. */
static void copy_field(char *dst, size_t n, ProtobufCBinaryData b)
{
    size_t len = b.len < n - 1 ? b.len : n - 1;
    const uint8_t *nul = len ? memchr(b.data, 0, len) : NULL;
    if (nul != NULL)
        len = (size_t)(nul - b.data);
    if (len)
        memcpy(dst, b.data, len);
    dst[len] = '\0';
}

static void op_got_reply(rpc_op *op, nng_msg *msg)
{
    rpc_wire_reply r;
    if (rpc_wire_reply_read(nng_msg_body(msg), nng_msg_len(msg), &r) != 0) {
        nng_msg_free(msg);
        return op_fail(op, RPC_INTERNAL, "%s", "malformed reply frame");
    }
    op->st.code = (int)r.code;
    copy_field(op->st.message, sizeof op->st.message, r.message);
    ProtobufCMessage *body = NULL;
    char target[512];
    copy_field(target, sizeof target, r.redirect);
    int redirect = target[0] != '\0';
    if (!redirect && r.code == SB__RPC__CODE__OK) {
        body = protobuf_c_message_unpack(op->reply_desc, NULL, r.body.len,
                                         r.body.data);
        if (body == NULL)
            rpc_status_set(&op->st, RPC_INTERNAL, "reply body is not a %s",
                           op->reply_desc->name);
    }
    nng_msg_free(msg); /* r pointed into it; body holds copies */
    if (redirect) {
        int err = 0;
        if (++op->hops > op->c->cfg.max_redirects)
            return op_fail(op, RPC_FAILED_PRECONDITION,
                           "too many redirects (last to %s)", target);
        rpc_ep *ep = ep_get(op->c, target, &err);
        if (ep == NULL && err == NNG_EPERM)
            return op_fail(op, RPC_PERMISSION_DENIED,
                           "redirected to %s, where this service's "
                           "credential would not be private",
                           target);
        if (ep == NULL)
            return op_fail(op, RPC_UNAVAILABLE, "cannot open redirect %s",
                           target);
        op->ep = ep;
        return op_attempt(op, -1);
    }
    if (op->st.code == RPC_UNAVAILABLE)
        return op_retry(op);
    op_finish(op, body);
}

static void op_cb(void *arg)
{
    rpc_op *op = arg;
    int rv = nng_aio_result(op->aio);
    int closing = __atomic_load_n(&op->c->closing, __ATOMIC_ACQUIRE);
    if (rv != 0 && op->state != OP_SLEEP) {
        nng_msg *m = nng_aio_get_msg(op->aio);
        if (op->state == OP_SEND && m != NULL)
            nng_msg_free(m);
    }
    if (closing || rv == NNG_ECLOSED || rv == NNG_ECANCELED)
        return op_fail(op, RPC_CANCELLED, "%s", "call cancelled");
    switch (op->state) {
    case OP_SLEEP:
        return op_attempt(op, -1);
    case OP_SEND:
        if (rv != 0) {
            rpc_status_set(&op->st, RPC_UNAVAILABLE, "cannot reach %s (%s)",
                           op->ep->url, nng_strerror(rv));
            return op_retry(op);
        }
        op->state = OP_RECV;
        nng_aio_set_timeout(
            op->aio, (nng_duration)(op->deadline_ms - rpc_now_mono_ms()));
        return nng_ctx_recv(op->ctx, op->aio);
    default:
        if (rv == NNG_ETIMEDOUT)
            return op_fail(op, RPC_DEADLINE_EXCEEDED,
                           "deadline exceeded waiting for %s", op->ep->url);
        if (rv != 0) {
            /* the connection dropped under the call (nng reports
             * ECONNRESET or ESTATE): the same request id goes again */
            rpc_status_set(&op->st, RPC_UNAVAILABLE,
                           "lost the connection to %s", op->ep->url);
            return op_retry(op);
        }
        op->state = OP_RECV_DONE; /* the context is clean for reuse */
        nng_msg *reply = nng_aio_get_msg(op->aio);
        if (reply == NULL) {
            /* Seen with nng 1.5.2 (a receive that succeeds without a
             * frame, after UNAVAILABLE retries of a long call): answer
             * as a dropped connection rather than crash. */
            rpc_status_set(&op->st, RPC_UNAVAILABLE, "no reply frame from %s",
                           op->ep->url);
            return op_retry(op);
        }
        return op_got_reply(op, reply);
    }
}

static int op_init(rpc_op *op, const char *method, const ProtobufCMessage *req,
                   const rpc_opts *opts, int sync, int64_t now)
{
    const char *token = opts && opts->token ? opts->token : "";
    if (strnlen(method, sizeof op->method) >= sizeof op->method ||
        strnlen(token, sizeof op->token) >= sizeof op->token)
        return RPC_INVALID_ARGUMENT;
    memset(&op->env, 0, sizeof op->env);
    op->env.method.len = strlen(method);
    op->env.token.len = strlen(token);
    memcpy(op->method, method, op->env.method.len + 1);
    memcpy(op->token, token, op->env.token.len + 1);
    op->env.method.data = (uint8_t *)op->method;
    op->env.token.data = (uint8_t *)op->token;
    if (op->c->credential != NULL) { /* the client's copy: lives as long */
        op->env.credential.data = (uint8_t *)op->c->credential;
        op->env.credential.len = strlen(op->c->credential);
    }
    size_t len = protobuf_c_message_get_packed_size(req);
    if (len > op->body_cap || op->body == NULL) {
        uint8_t *nb = realloc(op->body, len ? len : 1);
        if (nb == NULL)
            return RPC_RESOURCE_EXHAUSTED;
        op->body = nb;
        op->body_cap = len ? len : 1;
    }
    op->env.body.data = op->body;
    op->env.body.len = protobuf_c_message_pack(req, op->body);
    if (opts && opts->request_id) {
        memcpy(op->reqid, opts->request_id, RPC_REQUEST_ID_LEN);
    } else { /* one getrandom() per IDS_PER_FILL calls, not per call */
        if (op->ids_left == 0) {
            rpc_random_bytes(op->ids, sizeof op->ids);
            op->ids_left = IDS_PER_FILL;
        }
        memcpy(op->reqid, op->ids[--op->ids_left], RPC_REQUEST_ID_LEN);
        rpc_request_id_stamp(op->reqid);
    }
    op->env.request_id.data = op->reqid;
    op->env.request_id.len = RPC_REQUEST_ID_LEN;
    int tmo =
        opts && opts->timeout_ms > 0 ? opts->timeout_ms : op->c->cfg.timeout_ms;
    op->deadline_ms = now + tmo;
    op->no_retry = opts ? opts->no_retry : 0;
    op->attempt = op->hops = 0;
    memset(&op->st, 0, sizeof op->st);
    nng_aio **a = sync ? &op->wait_aio : &op->cb_aio;
    if (*a == NULL && nng_aio_alloc(a, sync ? NULL : op_cb, op) != 0)
        return RPC_RESOURCE_EXHAUSTED;
    op->aio = *a;
    return 0;
}

/* Links op into the calls in flight (c->mu held). */
static void op_link(rpc_client *c, rpc_op *op)
{
    op->prev = NULL;
    op->next = c->ops;
    if (c->ops != NULL)
        c->ops->prev = op;
    c->ops = op;
}

/* Unlinks op from the calls in flight into the pool (c->mu held). */
static void op_unlink(rpc_client *c, rpc_op *op)
{
    if (op->prev != NULL)
        op->prev->next = op->next;
    else
        c->ops = op->next;
    if (op->next != NULL)
        op->next->prev = op->prev;
    op->prev = NULL;
    op->next = c->pool;
    c->pool = op;
    if (c->closing)
        pthread_cond_broadcast(&c->cv);
}

/* A pooled op (or a new one) already linked in flight: one lock per call
 * on the way in, since every client caller shares c->mu. NULL with *err
 * set when the client is closing or memory is short. */
static rpc_op *op_take(rpc_client *c, int *err)
{
    rpc_op *op = NULL;
    pthread_mutex_lock(&c->mu);
    if (!c->closing && (op = c->pool) != NULL) {
        c->pool = op->next;
        op_link(c, op);
    }
    int closing = c->closing;
    pthread_mutex_unlock(&c->mu);
    if (op != NULL || closing) {
        *err = RPC_CANCELLED;
        return op;
    }
    if ((op = calloc(1, sizeof *op)) == NULL) {
        *err = RPC_RESOURCE_EXHAUSTED;
        return NULL;
    }
    op->c = c;
    pthread_mutex_lock(&c->mu);
    if (c->closing) {
        op->next = c->pool; /* close frees the pool after its wait */
        c->pool = op;
        op = NULL;
    } else {
        op_link(c, op);
    }
    pthread_mutex_unlock(&c->mu);
    *err = RPC_CANCELLED;
    return op;
}

/* Starts a call: async (sync 0) or stepped by the caller (sync 1; *out
 * is the op to step until done runs). */
static int call_start(rpc_client *c, const char *method,
                      const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *reply_desc,
                      rpc_done_fn done, void *arg, const rpc_opts *opts,
                      int sync, rpc_op **out)
{
    int err = 0;
    rpc_ep *ep = c->eps[0];
    if (opts && opts->endpoint && opts->endpoint[0] &&
        (ep = ep_get(c, opts->endpoint, &err)) == NULL)
        return RPC_UNAVAILABLE;
    rpc_op *op = op_take(c, &err);
    if (op == NULL)
        return err;
    op->ep = ep;
    op->reply_desc = reply_desc;
    op->done = done;
    op->arg = arg;
    int64_t now = rpc_now_mono_ms(); /* the deadline and first attempt's */
    int rv = op_init(op, method, req, opts, sync, now);
    if (rv != 0) {
        pthread_mutex_lock(&c->mu);
        op_unlink(c, op);
        pthread_mutex_unlock(&c->mu);
        return rv;
    }
    *out = op;
    op_attempt(op, now); /* may finish the call at once */
    return 0;
}

int rpc_client_call_async(rpc_client *c, const char *method,
                          const ProtobufCMessage *req,
                          const ProtobufCMessageDescriptor *reply_desc,
                          rpc_done_fn done, void *arg, const rpc_opts *opts)
{
    rpc_op *op;
    return call_start(c, method, req, reply_desc, done, arg, opts, 0, &op);
}

/* ---- sync calls step the same machine in the caller's thread ---- */

typedef struct {
    int done;
    rpc_status st;
    ProtobufCMessage *reply;
} waiter;

static void sync_done(void *arg, const rpc_status *st, ProtobufCMessage *reply)
{
    waiter *w = arg; /* on the caller's stack, in the caller's thread */
    w->st = *st;
    w->reply = reply;
    w->done = 1;
}

int rpc_client_call(rpc_client *c, const char *method,
                    const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *reply_desc,
                    ProtobufCMessage **reply, const rpc_opts *opts,
                    rpc_status *st)
{
    waiter w = {.done = 0};
    rpc_status local;
    rpc_op *op;
    if (st == NULL)
        st = &local;
    *reply = NULL;
    int rv =
        call_start(c, method, req, reply_desc, sync_done, &w, opts, 1, &op);
    if (rv != 0) {
        rpc_status_set(st, rv, "cannot start call %s", method);
        st->endpoint[0] = '\0';
        return st->code;
    }
    /* Each step started on op->aio is waited for here and handled by the
     * same code nng's callback would run. Once done is set the op is back
     * in the pool (another call may own it): touch nothing of it then. */
    while (!w.done) {
        nng_aio_wait(op->aio);
        op_cb(op);
    }
    *st = w.st;
    *reply = w.reply;
    return st->code;
}
