/* rpc_server.c: the RPC server's call path. One rep0 socket, any number
 * of listeners, many nng contexts ("slots") receiving at once. A slot's
 * aio callback decodes the envelope and finds the method; a handler
 * declared non-blocking (rpc_server_set_nonblocking) runs right there, any
 * other call is queued for the worker threads, so a handler that may block
 * never holds one of nng's callback threads. The reply is packed into the
 * received message and its send's completion re-arms the slot; the slot
 * keeps its last call object and arena, so the steady state allocates
 * little. A handler that must wait for an event (a long-poll) returns
 * RPC_DEFER: its context moves to the call, the slot opens a fresh one,
 * and rpc_call_finish() later sends the reply. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "rpc_internal.h"
#include "rpc_server_internal.h"
#include "sb_log.h"

enum { CALL_IN_HANDLER = 0, CALL_DEFERRED = 1, CALL_FINISHED_EARLY = 2 };

/* RPC_RUN: the envelope is good, go on to the handler. */
#define RPC_RUN (-2)

struct rpc_call {
    rpc_server *s;
    rpc_method *m;
    rpc_slot *slot;   /* where it came in; NULL once deferred */
    rpc_sp_loop *sp;  /* or the epoll listener it came in on */
    uint64_t sp_conn; /* and its connection there */
    rpc_call *next;   /* the workers' queue */
    nng_ctx ctx;
    nng_aio *aio; /* only for a deferred call's reply */
    nng_msg *msg; /* the received frame, reused for the reply */
    rpc_arena arena;
    const char *method;             /* the table's name or a copy; NULL */
    const char *token;              /* a copy, "" when none; NULL */
    ProtobufCBinaryData request_id; /* a copy: the reply reuses msg */
    ProtobufCBinaryData body;       /* in msg, read before the reply */
    ProtobufCMessage *req;
    ProtobufCMessage *reply;
    const char *message;
    const char *redirect;
    int64_t t0_us, t1_us; /* received; reply settled (0 = not yet) */
    int64_t deadline_ms;  /* monotonic; 0 = none */
    int state;
    int early_code;
    rpc_origin origin; /* who called (rpc_peer.c) */
};

static uint32_t hash_name(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* The method named by the n bytes at name (not NUL-terminated: it is
 * read in place from the frame), or NULL. */
static rpc_method *find_n(rpc_server *s, const char *name, size_t n)
{
    uint32_t h = hash_name(name, n);
    for (size_t i = 0; i < s->n_methods; i++) {
        const rpc_method *m = s->methods[i];
        if (m->hash == h && strncmp(m->name, name, n) == 0 &&
            m->name[n] == '\0')
            return s->methods[i];
    }
    return NULL;
}

rpc_method *rpc_server_find(rpc_server *s, const char *name)
{
    return find_n(s, name, strlen(name));
}

int rpc_server_add_method(rpc_server *s, const char *method,
                          const ProtobufCMessageDescriptor *req_desc,
                          const ProtobufCMessageDescriptor *reply_desc,
                          rpc_handler_fn fn, void *arg)
{
    if (s->started || rpc_server_find(s, method) != NULL)
        return NNG_EBUSY; /* the table is fixed once workers run */
    if (s->n_methods == s->cap_methods) {
        size_t cap = s->cap_methods ? s->cap_methods * 2 : 16;
        rpc_method **nm = realloc(s->methods, cap * sizeof *nm);
        if (nm == NULL)
            return NNG_ENOMEM;
        s->methods = nm;
        s->cap_methods = cap;
    }
    rpc_method *m = calloc(1, sizeof *m);
    if (m == NULL || (m->name = strdup(method)) == NULL) {
        free(m);
        return NNG_ENOMEM;
    }
    m->hash = hash_name(method, strlen(method));
    m->req_desc = req_desc;
    m->reply_desc = reply_desc;
    m->fn = fn;
    m->arg = arg;
    s->methods[s->n_methods++] = m;
    return 0;
}

int rpc_server_set_nonblocking(rpc_server *s, const char *name, int on)
{
    size_t n = strlen(name);
    int found = 0;
    if (s->started)
        return NNG_EBUSY; /* slots read the flag without a lock */
    for (size_t i = 0; i < s->n_methods; i++) {
        const char *m = s->methods[i]->name;
        if (strcmp(m, name) == 0 || (strncmp(m, name, n) == 0 && m[n] == '/')) {
            s->methods[i]->nonblocking = on != 0;
            found = 1;
        }
    }
    return found ? 0 : NNG_ENOENT;
}

void *rpc_server_keep(rpc_server *s, size_t size)
{
    void *p = calloc(1, size);
    if (p == NULL)
        return NULL;
    pthread_mutex_lock(&s->mu);
    void **nk = realloc(s->kept, (s->n_kept + 1) * sizeof *nk);
    if (nk == NULL) {
        pthread_mutex_unlock(&s->mu);
        free(p);
        return NULL;
    }
    s->kept = nk;
    s->kept[s->n_kept++] = p;
    pthread_mutex_unlock(&s->mu);
    return p;
}

/* ---- the call object ---- */

const char *rpc_call_method(const rpc_call *call)
{
    return call->method ? call->method : "";
}

const char *rpc_call_token(const rpc_call *call)
{
    return call->token ? call->token : "";
}

const uint8_t *rpc_call_request_id(const rpc_call *call)
{
    static const uint8_t zero[RPC_REQUEST_ID_LEN];
    if (call->request_id.len == RPC_REQUEST_ID_LEN)
        return call->request_id.data;
    return zero;
}

int64_t rpc_call_time_left_ms(const rpc_call *call)
{
    if (call->deadline_ms == 0)
        return INT64_MAX;
    return call->deadline_ms - rpc_now_mono_ms();
}

void *rpc_call_alloc(rpc_call *call, size_t size)
{
    return rpc_arena_alloc(&call->arena, size);
}

char *rpc_call_strndup(rpc_call *call, const char *str, size_t n)
{
    char *p = rpc_arena_alloc(&call->arena, n + 1);
    if (n > 0) /* a Call with no method field: str is NULL */
        memcpy(p, str, n);
    p[n] = '\0';
    return p;
}

char *rpc_call_strdup(rpc_call *call, const char *str)
{
    return rpc_call_strndup(call, str, strlen(str));
}

int rpc_call_fail(rpc_call *call, int code, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    call->message = rpc_call_strdup(call, buf);
    return code;
}

int rpc_call_redirect(rpc_call *call, const char *endpoint)
{
    call->redirect = rpc_call_strdup(call, endpoint);
    call->message = "redirected";
    return RPC_FAILED_PRECONDITION;
}

ProtobufCMessage *rpc_call_reply(rpc_call *call)
{
    return call->reply;
}

rpc_origin *rpc_call_origin(rpc_call *call)
{
    return &call->origin;
}

rpc_server *rpc_call_server(const rpc_call *call)
{
    return call->s;
}

/* ---- call objects ---- */

/* The slot's spare call, or a new one. */
static rpc_call *call_get(rpc_slot *slot)
{
    rpc_call *call = slot->spare;
    if (call != NULL)
        slot->spare = NULL;
    else if ((call = calloc(1, sizeof *call)) == NULL)
        return NULL;
    call->s = slot->s;
    call->slot = slot;
    call->ctx = slot->ctx;
    call->t0_us = rpc_now_mono_us();
    return call;
}

static void call_free(rpc_call *call)
{
    if (call->msg != NULL)
        nng_msg_free(call->msg);
    rpc_arena_free(&call->arena);
    free(call);
}

/* Recycles a finished call into its slot (only ever from the thread that
 * serves the slot: a deferred call has left its slot) or into its epoll
 * loop's cache (only on the loop's thread), else frees it. */
static void call_put(rpc_call *call)
{
    rpc_slot *slot = call->slot;
    rpc_sp_loop *sp = call->sp;
    if (call->msg != NULL || (sp == NULL && (slot == NULL || slot->spare)))
        return call_free(call);
    rpc_arena_reset(&call->arena);
    rpc_arena keep = call->arena;
    memset(call, 0, sizeof *call);
    call->arena = keep;
    if (sp == NULL)
        slot->spare = call;
    else if (!rpc_sp_keep_spare(sp, call))
        call_free(call);
}

/* ---- replies ---- */

static ProtobufCBinaryData str_bytes(const char *str)
{
    ProtobufCBinaryData b = {str ? strlen(str) : 0, (uint8_t *)str};
    return b;
}

/* Writes the Reply into the call's received message (or a new one), the
 * reply body packed in place. */
static nng_msg *build_reply(rpc_call *call, int code)
{
    rpc_wire_reply r = {.code = code};
    const ProtobufCMessage *body = NULL;
    r.message = str_bytes(call->message);
    r.redirect = str_bytes(call->redirect);
    r.request_id = call->request_id;
    if (code == RPC_OK && call->reply != NULL) {
        body = call->reply;
        r.body.len = protobuf_c_message_get_packed_size(body);
    }
    nng_msg *msg = call->msg;
    call->msg = NULL; /* call->body points into it: read long before */
    if (rpc_msg_size(&msg, rpc_wire_reply_size(&r)) != 0)
        return NULL;
    rpc_wire_reply_write(&r, body, nng_msg_body(msg));
    return msg;
}

int64_t rpc_server_in_flight(rpc_server *s)
{
    int64_t n = __atomic_load_n(&s->deferred, __ATOMIC_ACQUIRE) +
                __atomic_load_n(&s->sp_in_flight, __ATOMIC_ACQUIRE);
    for (int i = 0; i < s->n_slots; i++)
        n += __atomic_load_n(&s->slots[i].busy, __ATOMIC_ACQUIRE);
    return n;
}

static void call_done(rpc_call *call, int code)
{
    rpc_server *s = call->s;
    int64_t lat = (call->t1_us ? call->t1_us : rpc_now_mono_us()) - call->t0_us;
    rpc_stats *st = call->m ? &call->m->stats : &s->bad_calls;
    rpc_stats_record(st, lat, code != RPC_OK);
    if (sb_log_enabled(SB_LOG_DEBUG))
        sb_debug(s->name, "%s -> %s (%lld us)", rpc_call_method(call),
                 rpc_code_name(code), (long long)lat);
    if (s->conns_track && call->origin.pipe_id != 0)
        rpc_conns_call_end(s->conns, call->origin.pipe_id);
    if (call->slot != NULL)
        __atomic_store_n(&call->slot->busy, 0, __ATOMIC_RELEASE);
    else if (call->sp != NULL) /* counted from its arrival */
        __atomic_fetch_sub(&s->sp_in_flight, 1, __ATOMIC_RELEASE);
    else /* a deferred call: park() counted it */
        __atomic_fetch_sub(&s->deferred, 1, __ATOMIC_RELEASE);
    call_put(call);
}

/* Final code of a call whose handler returned code. */
static int settle_code(rpc_call *call, int code)
{
    if (code < 0 || code > RPC_UNAUTHENTICATED) {
        call->message = "handler returned an invalid status";
        return RPC_INTERNAL;
    }
    /* one clock read serves the deadline check and the latency figure */
    call->t1_us = rpc_now_mono_us();
    if (code == RPC_OK && call->deadline_ms != 0 &&
        call->t1_us / 1000 > call->deadline_ms) {
        call->message = "deadline exceeded";
        return RPC_DEADLINE_EXCEEDED;
    }
    return code;
}

/* Re-arms a slot's receive with no timeout: a 5 s one (left over from
 * the send) made nng read the clock and add the aio to its expire list
 * for every call, and expiring only re-armed the receive. */
static void slot_recv(rpc_slot *slot)
{
    nng_aio_set_timeout(slot->aio, NNG_DURATION_INFINITE);
    nng_ctx_recv(slot->ctx, slot->aio);
}

/* Sends the reply on the slot's context without waiting: the send's
 * completion re-arms the slot's receive (rpc_slot_cb). */
static void send_on_slot(rpc_call *call, rpc_slot *slot, int code)
{
    nng_msg *msg = build_reply(call, code);
    call_done(call, code);
    if (msg == NULL) { /* out of memory: the client's deadline covers it */
        slot_recv(slot);
        return;
    }
    slot->sending = 1;
    nng_aio_set_msg(slot->aio, msg);
    nng_aio_set_timeout(slot->aio, 5000);
    nng_ctx_send(slot->ctx, slot->aio);
}

/* Answers a call that came in on an epoll listener: the loop writes the
 * reply (at once when this is its thread, else after a hand-off). */
static void send_sp(rpc_call *call, int code)
{
    nng_msg *msg = build_reply(call, code);
    if (msg != NULL) /* else out of memory: the client's deadline covers it */
        rpc_sp_reply(call->sp, call->sp_conn, msg);
    call_done(call, code);
}

static void deferred_sent(void *arg)
{
    rpc_call *call = arg;
    nng_aio *aio = call->aio;
    if (nng_aio_result(aio) != 0) {
        nng_msg *m = nng_aio_get_msg(aio);
        if (m != NULL)
            nng_msg_free(m);
    }
    nng_ctx_close(call->ctx);
    call_done(call, call->early_code);
    nng_aio_reap(aio);
}

void rpc_call_finish(rpc_call *call, int code)
{
    int expect = CALL_IN_HANDLER;
    call->early_code = code;
    if (__atomic_compare_exchange_n(&call->state, &expect, CALL_FINISHED_EARLY,
                                    0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return; /* the handler has not returned RPC_DEFER yet: park sends */
    code = settle_code(call, code);
    if (call->sp != NULL)
        return send_sp(call, code);
    call->early_code = code;
    nng_msg *msg = build_reply(call, code);
    if (msg == NULL || nng_aio_alloc(&call->aio, deferred_sent, call) != 0) {
        if (msg != NULL)
            nng_msg_free(msg);
        nng_ctx_close(call->ctx);
        call_done(call, code);
        return;
    }
    nng_aio_set_msg(call->aio, msg);
    nng_aio_set_timeout(call->aio, 5000);
    nng_ctx_send(call->ctx, call->aio);
}

/* ---- dispatch ---- */

/* Reads the envelope in msg into call (the body stays in msg, the rest
 * is copied: the reply is written over msg); returns RPC_RUN when the
 * handler should run, else the error code to answer with. */
static int decode_call(rpc_server *s, rpc_call *call, nng_msg *msg)
{
    rpc_wire_call w;
    if (rpc_wire_call_read(nng_msg_body(msg), nng_msg_len(msg), &w) != 0)
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "malformed call frame (%zu bytes)",
                             nng_msg_len(msg));
    if (w.request_id.len > 0) {
        call->request_id.data = rpc_call_alloc(call, w.request_id.len);
        call->request_id.len = w.request_id.len;
        memcpy(call->request_id.data, w.request_id.data, w.request_id.len);
    }
    call->token =
        w.token.len == 0
            ? ""
            : rpc_call_strndup(call, (const char *)w.token.data, w.token.len);
    call->body = w.body;
    if (w.credential.len > 0) { /* over RPC_CRED_MAX: kept unread, refused */
        call->origin.credential.len = w.credential.len;
        if (w.credential.len <= RPC_CRED_MAX) {
            call->origin.credential.data =
                rpc_call_alloc(call, w.credential.len);
            memcpy(call->origin.credential.data, w.credential.data,
                   w.credential.len);
        }
    }
    if (w.timeout_ms != 0)
        call->deadline_ms = call->t0_us / 1000 + w.timeout_ms;
    call->m = find_n(s, (const char *)w.method.data, w.method.len);
    if (call->m == NULL) {
        call->method =
            rpc_call_strndup(call, (const char *)w.method.data, w.method.len);
        return rpc_call_fail(call, RPC_UNIMPLEMENTED, "unknown method '%.200s'",
                             call->method);
    }
    call->method = call->m->name;
    if (__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE))
        return rpc_call_fail(call, RPC_UNAVAILABLE, "server %s is stopping",
                             s->name);
    return RPC_RUN;
}

/* Decodes the body and runs the handler; returns its code or RPC_DEFER. */
static int run_call(rpc_call *call)
{
    rpc_method *m = call->m;
    char why[256];
    int code;
    if (m->roles != 0 && (code = rpc_call_require_role(call, m->roles)) != 0)
        return code; /* before the body is even looked at */
    if (rpc_check_strings(m->req_desc, call->body.data, call->body.len, why,
                          sizeof why) != 0)
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT, "%s", why);
    ProtobufCAllocator alloc;
    rpc_arena_allocator(&call->arena, &alloc);
    call->req = protobuf_c_message_unpack(m->req_desc, &alloc, call->body.len,
                                          call->body.data);
    if (call->req == NULL)
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "request body is not a valid %s",
                             m->req_desc->name);
    call->reply = rpc_arena_alloc(&call->arena, m->reply_desc->sizeof_message);
    protobuf_c_message_init(m->reply_desc, call->reply);
    return m->fn(call, call->req, call->reply, m->arg);
}

/* A handler returned RPC_DEFER: the call keeps the slot's context and
 * the slot takes a new one. */
static void park(rpc_call *call)
{
    if (call->sp != NULL) { /* no context to swap: the call keeps its conn */
        int want = CALL_IN_HANDLER;
        if (!__atomic_compare_exchange_n(&call->state, &want, CALL_DEFERRED, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            send_sp(call, settle_code(call, call->early_code));
        return;
    }
    rpc_slot *slot = call->slot;
    rpc_server *s = slot->s;
    nng_ctx spare;
    int have_spare = nng_ctx_open(&spare, s->sock) == 0;
    int expect = CALL_IN_HANDLER;
    /* counted as deferred from here (call_done of a slot-less call
     * uncounts it) before the slot stops counting it */
    __atomic_fetch_add(&s->deferred, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->busy, 0, __ATOMIC_RELEASE);
    call->slot = NULL; /* before the swap: a finish may free call at once */
    if (!__atomic_compare_exchange_n(&call->state, &expect, CALL_DEFERRED, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        /* finished before we got here: reply on the old context now */
        if (have_spare)
            nng_ctx_close(spare);
        return send_on_slot(call, slot, settle_code(call, call->early_code));
    }
    if (!have_spare) {
        sb_error(s->name, "cannot open a context: one fewer in flight");
        return;
    }
    slot->ctx = spare;
    slot_recv(slot);
}

/* Answers a call whose handler (or decoding) gave code. */
static void complete(rpc_call *call, int code)
{
    if (code == RPC_DEFER)
        return park(call);
    if (call->sp != NULL)
        return send_sp(call, settle_code(call, code));
    send_on_slot(call, call->slot, settle_code(call, code));
}

static void enqueue(rpc_server *s, rpc_call *call)
{
    call->next = NULL;
    pthread_mutex_lock(&s->q_mu);
    if (s->q_tail != NULL)
        s->q_tail->next = call;
    else
        s->q_head = call;
    s->q_tail = call;
    pthread_cond_signal(&s->q_cv);
    pthread_mutex_unlock(&s->q_mu);
}

/* Runs a received call: a non-blocking method's handler (and any error
 * reply) right here, any other call on a worker. */
static void dispatch(rpc_server *s, rpc_call *call, nng_msg *msg)
{
    int code = decode_call(s, call, msg);
    call->msg = msg;
    if (code == RPC_RUN && !call->m->nonblocking)
        return enqueue(s, call);
    complete(call, code == RPC_RUN ? run_call(call) : code);
}

/* nng's callback for a slot: never blocks. It runs non-blocking handlers
 * and error replies itself and queues everything else for a worker. */
void rpc_slot_cb(void *arg)
{
    rpc_slot *slot = arg;
    rpc_server *s = slot->s;
    int rv = nng_aio_result(slot->aio);
    if (slot->sending) {
        slot->sending = 0;
        if (rv != 0)
            nng_msg_free(nng_aio_get_msg(slot->aio));
        if (rv != NNG_ECLOSED)
            slot_recv(slot);
        return;
    }
    if (rv == NNG_ECLOSED)
        return;
    nng_msg *msg = rv == 0 ? nng_aio_get_msg(slot->aio) : NULL;
    rpc_call *call = msg != NULL ? call_get(slot) : NULL;
    if (call == NULL) { /* out of memory: the client retries */
        if (msg != NULL)
            nng_msg_free(msg);
        slot_recv(slot);
        return;
    }
    __atomic_store_n(&slot->busy, 1, __ATOMIC_RELAXED);
    call->origin.pipe_id = nng_pipe_id(nng_msg_get_pipe(msg));
    if (s->conns_track)
        rpc_conns_call_begin(s->conns, call->origin.pipe_id);
    dispatch(s, call, msg);
}

void rpc_server_sp_call(rpc_server *s, rpc_sp_loop *l, uint64_t conn,
                        const rpc_addr *from, nng_msg *msg)
{
    rpc_call *call = rpc_sp_take_spare(l);
    if (call == NULL && (call = calloc(1, sizeof *call)) == NULL) {
        /* out of memory: the client retries */
        nng_msg_free(msg);
        return;
    }
    call->s = s;
    call->sp = l;
    call->sp_conn = conn;
    call->origin.from = *from;
    call->t0_us = rpc_now_mono_us();
    __atomic_fetch_add(&s->sp_in_flight, 1, __ATOMIC_RELAXED);
    dispatch(s, call, msg);
}

void *rpc_worker_main(void *arg);
void *rpc_worker_main(void *arg)
{
    rpc_server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->q_mu);
        while (s->q_head == NULL && !s->quit)
            pthread_cond_wait(&s->q_cv, &s->q_mu);
        rpc_call *call = s->q_head;
        if (call == NULL) { /* quit, and nothing left to serve */
            pthread_mutex_unlock(&s->q_mu);
            return NULL;
        }
        s->q_head = call->next;
        if (s->q_head == NULL)
            s->q_tail = NULL;
        pthread_mutex_unlock(&s->q_mu);
        complete(call, run_call(call));
    }
}

void rpc_server_drain(rpc_server *s)
{
    while (s->q_head != NULL) {
        rpc_call *call = s->q_head;
        s->q_head = call->next;
        call_free(call);
    }
    s->q_tail = NULL;
    for (size_t i = 0; i < s->n_listeners; i++) {
        rpc_call *call;
        while ((call = rpc_sp_spare_left(s->listeners[i].sp)) != NULL)
            call_free(call);
    }
    for (int i = 0; i < s->n_slots; i++)
        if (s->slots[i].spare != NULL) {
            call_free(s->slots[i].spare);
            s->slots[i].spare = NULL;
        }
}
