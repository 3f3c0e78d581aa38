/* store_conn.c: store_conn's lifecycle and writes. Local writes go to the
 * group-commit writer as they are. A remote store_conn_write_wait is one
 * sb.store.Store/Write call whose request id is the op's reqid (so retries
 * apply once); remote store_conn_writes are coalesced into WriteBatch
 * calls (each op keeps its own request id and result; at most
 * STORE_CONN_INFLIGHT batches out), whose replies fill op->out before
 * op->done runs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "store.sb.h"
#include "store_conn_internal.h"

#define STORE_CONN_TIMEOUT_MS 5000
#define N_WSTR 7

static void pump(store_conn *c);
/* receive-post is unbounded */
#define STORE_CONN_RECV_MAX (256u * 1024 * 1024)

int store_conn_local(store_db *db, store_writer *w, store_conn **out)
{
    store_conn *c = calloc(1, sizeof *c);

    *out = NULL;
    if (c == NULL)
        return ENOMEM;
    c->db = db;
    c->w = w;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return 0;
}

int store_conn_remote(const char *url, int timeout_ms, store_conn **out)
{
    rpc_client_config cc = {.recv_max = STORE_CONN_RECV_MAX};
    store_conn *c;
    int rv;

    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return EINVAL;
    if ((c = calloc(1, sizeof *c)) == NULL)
        return ENOMEM;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : STORE_CONN_TIMEOUT_MS;
    cc.timeout_ms = c->timeout_ms;
    pthread_mutex_init(&c->mu, NULL);
    if ((rv = rpc_client_open(&c->rc, url, &cc)) != 0) {
        sb_error("store", "cannot open a client for %s: %s", url,
                 rpc_code_name(rv));
        pthread_mutex_destroy(&c->mu);
        free(c);
        return rv;
    }
    *out = c;
    return 0;
}

void store_conn_close(store_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->closing = 1;
    pthread_mutex_unlock(&c->mu);
    /* Batches in flight complete (CANCELLED) inside the close; their
     * completions fail whatever is still queued. */
    if (c->rc != NULL)
        rpc_client_close(c->rc);
    pump(c);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int store_conn_is_remote(const store_conn *c)
{
    return c->rc != NULL;
}

store_res store_conn_res(const rpc_status *st, uint32_t res)
{
    switch (st->code) {
    case RPC_OK:
        return res < STORE_RES_COUNT ? (store_res)res : STORE_ERR_INTERNAL;
    case RPC_INVALID_ARGUMENT:
        return STORE_INVALID_ARGUMENT;
    case RPC_UNAVAILABLE:
    case RPC_DEADLINE_EXCEEDED:
    case RPC_CANCELLED:
        sb_warn("store", "store unreachable: %s %s", rpc_code_name(st->code),
                st->message);
        return STORE_ERR_UNAVAILABLE;
    default:
        sb_warn("store", "store call failed: %s %s", rpc_code_name(st->code),
                st->message);
        return STORE_ERR_INTERNAL;
    }
}

int store_conn_dup(store_str s, char **out)
{
    *out = NULL;
    if (s.len > 0 && memchr(s.ptr, '\0', s.len) != NULL)
        return -1;
    if ((*out = malloc(s.len + 1)) == NULL)
        return -2;
    if (s.len > 0)
        memcpy(*out, s.ptr, s.len);
    (*out)[s.len] = '\0';
    return 0;
}

/* ---- remote writes ------------------------------------------------------ */

/* The wire form of @op. Strings are copied (store_str need not end in a
 * NUL) into strs[], freed by the caller. Returns STORE_OK,
 * STORE_INVALID_ARGUMENT (a NUL byte) or STORE_ERR_INTERNAL (ENOMEM). */
static store_res build_write(const store_wop *op, Sb__Store__WriteOp *m,
                             char *strs[N_WSTR])
{
    const store_str in[N_WSTR] = {op->token, op->name, op->text,  op->server,
                                  op->first, op->last, op->gender};
    char **dst[N_WSTR] = {&m->token, &m->name, &m->text,  &m->server,
                          &m->first, &m->last, &m->gender};

    sb__store__write_op__init(m);
    m->kind = (Sb__Store__WriteKind)op->kind;
    m->age = op->age;
    m->seq = op->seq;
    for (int i = 0; i < N_WSTR; i++) {
        int rv = store_conn_dup(in[i], &strs[i]);
        if (rv != 0)
            return rv == -1 ? STORE_INVALID_ARGUMENT : STORE_ERR_INTERNAL;
        *dst[i] = strs[i];
    }
    return STORE_OK;
}

static void free_strs(char *strs[N_WSTR])
{
    for (int i = 0; i < N_WSTR; i++)
        free(strs[i]);
}

static void fill_out(store_wop *op, const rpc_status *st,
                     const Sb__Store__WriteResult *r)
{
    memset(&op->out, 0, sizeof op->out);
    op->out.res = store_conn_res(st, r != NULL ? r->res : 0);
    if (st->code != RPC_OK || r == NULL)
        return;
    op->out.seq = r->seq;
    op->out.count = r->count;
    if (r->token != NULL && strlen(r->token) <= STORE_TOKEN_MAX)
        memcpy(op->out.token, r->token, strlen(r->token) + 1);
}

/* ---- batched remote writes ------------------------------------------ */

/* A WriteBatch call in flight: its ops in order. */
typedef struct wbatch {
    store_conn *c;
    size_t n;
    store_wop *ops[STORE_CONN_BATCH_MAX];
} wbatch;

/* Completes a detached list of ops with @r. */
static void fail_list(store_wop *op, store_res r)
{
    while (op != NULL) {
        store_wop *next = op->next;
        memset(&op->out, 0, sizeof op->out);
        op->out.res = r;
        op->done(op, op->arg);
        op = next;
    }
}

/* op->out from result @i of a WriteBatch reply (or from the call's status
 * when the batch as a whole failed). */
static void fill_batch_out(store_wop *op, const rpc_status *st,
                           const Sb__Store__WriteBatchResult *r, size_t i)
{
    const Sb__Store__WriteResult *w;

    memset(&op->out, 0, sizeof op->out);
    if (st->code != RPC_OK || r == NULL) {
        op->out.res = store_conn_res(st, 0);
        return;
    }
    if (i >= r->n_results || (w = r->results[i]) == NULL) {
        op->out.res = STORE_ERR_INTERNAL;
        return;
    }
    op->out.res =
        w->res < STORE_RES_COUNT ? (store_res)w->res : STORE_ERR_INTERNAL;
    /* the store's writer was stopping: not applied, retry with the id */
    if (op->out.res == STORE_ERR_SHUTDOWN)
        op->out.res = STORE_ERR_UNAVAILABLE;
    op->out.seq = w->seq;
    op->out.count = w->count;
    if (w->token != NULL && strlen(w->token) <= STORE_TOKEN_MAX)
        memcpy(op->out.token, w->token, strlen(w->token) + 1);
}

/* nng thread: fills every op, lets the next batch leave, then completes
 * the ops (their completions answer app calls; none blocks). */
static void batch_done(void *arg, const rpc_status *st,
                       Sb__Store__WriteBatchResult *reply)
{
    wbatch *b = arg;
    store_conn *c = b->c;

    for (size_t i = 0; i < b->n; i++)
        fill_batch_out(b->ops[i], st, reply, i);
    sb_store_Store_free(reply);
    pthread_mutex_lock(&c->mu);
    c->inflight--;
    pthread_mutex_unlock(&c->mu);
    pump(c);
    for (size_t i = 0; i < b->n; i++)
        b->ops[i]->done(b->ops[i], b->ops[i]->arg);
    free(b);
}

/* Packs and sends @b; on failure completes its ops with an error. */
static void send_batch(store_conn *c, wbatch *b)
{
    Sb__Store__WriteBatchRequest req = SB__STORE__WRITE_BATCH_REQUEST__INIT;
    Sb__Store__WriteOp msgs[STORE_CONN_BATCH_MAX];
    Sb__Store__WriteOp *ptrs[STORE_CONN_BATCH_MAX];
    char *strs[STORE_CONN_BATCH_MAX][N_WSTR];
    store_res r = STORE_OK;
    rpc_opts o = {.timeout_ms = c->timeout_ms};
    size_t i, n = b->n; /* b is freed by its reply, maybe before we return */
    int rv = -1;

    memset(strs, 0, n * sizeof strs[0]);
    for (i = 0; i < n && r == STORE_OK; i++) {
        r = build_write(b->ops[i], &msgs[i], strs[i]);
        msgs[i].request_id.len = STORE_REQID_LEN;
        msgs[i].request_id.data = b->ops[i]->reqid;
        ptrs[i] = &msgs[i];
    }
    req.n_ops = n;
    req.ops = ptrs;
    /* a fresh envelope id: the runtime's retries resend the same batch,
     * and the store dedupes each op by its own id */
    if (r == STORE_OK)
        rv = sb_store_Store_WriteBatch_async(c->rc, &req, batch_done, b, &o);
    for (i = 0; i < n; i++)
        free_strs(strs[i]); /* the call packed its own copy */
    if (rv != 0) {
        rpc_status st = {.code =
                             r == STORE_OK ? RPC_UNAVAILABLE : RPC_INTERNAL};
        batch_done(b, &st, NULL);
    }
}

/* Sends queued ops while fewer than STORE_CONN_INFLIGHT batches are out. */
static void pump(store_conn *c)
{
    for (;;) {
        store_wop *fail = NULL;
        wbatch *b = NULL;

        pthread_mutex_lock(&c->mu);
        if (c->head == NULL ||
            (c->inflight >= STORE_CONN_INFLIGHT && !c->closing)) {
            pthread_mutex_unlock(&c->mu);
            return;
        }
        if (c->closing || (b = malloc(sizeof *b)) == NULL) {
            fail = c->head; /* closing or out of memory: fail them all */
            c->head = c->tail = NULL;
        } else {
            for (b->n = 0; b->n < STORE_CONN_BATCH_MAX && c->head; b->n++) {
                b->ops[b->n] = c->head;
                c->head = c->head->next;
            }
            if (c->head == NULL)
                c->tail = NULL;
            b->c = c;
            c->inflight++;
        }
        pthread_mutex_unlock(&c->mu);
        if (fail != NULL) {
            fail_list(fail, b == NULL && !c->closing ? STORE_ERR_INTERNAL
                                                     : STORE_ERR_UNAVAILABLE);
            return;
        }
        send_batch(c, b);
    }
}

/* A zero reqid gets a random one, so the runtime's own retries dedupe. */
static void ensure_reqid(store_wop *op)
{
    static const uint8_t zero[STORE_REQID_LEN];

    if (memcmp(op->reqid, zero, sizeof zero) == 0) {
        rpc_random_bytes(op->reqid, sizeof op->reqid);
        rpc_request_id_stamp(op->reqid);
    }
}

static int has_nul(const store_wop *op)
{
    const store_str in[N_WSTR] = {op->token, op->name, op->text,  op->server,
                                  op->first, op->last, op->gender};

    for (int i = 0; i < N_WSTR; i++)
        if (in[i].len > 0 && memchr(in[i].ptr, '\0', in[i].len) != NULL)
            return 1;
    return 0;
}

static void call_opts(store_conn *c, store_wop *op, rpc_opts *o)
{
    ensure_reqid(op);
    memset(o, 0, sizeof *o);
    o->timeout_ms = c->timeout_ms;
    o->request_id = op->reqid;
}

int store_conn_write(store_conn *c, store_wop *op)
{
    if (op == NULL || op->done == NULL)
        return STORE_INVALID_ARGUMENT;
    if (c->rc == NULL)
        return store_writer_submit(c->w, op);
    if (has_nul(op)) {
        memset(&op->out, 0, sizeof op->out);
        op->out.res = STORE_INVALID_ARGUMENT;
        op->done(op, op->arg);
        return 0;
    }
    ensure_reqid(op);
    op->next = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->closing) {
        pthread_mutex_unlock(&c->mu);
        return STORE_ERR_UNAVAILABLE;
    }
    if (c->tail != NULL)
        c->tail->next = op;
    else
        c->head = op;
    c->tail = op;
    pthread_mutex_unlock(&c->mu);
    pump(c);
    return 0;
}

store_res store_conn_write_wait(store_conn *c, store_wop *op)
{
    Sb__Store__WriteOp m;
    Sb__Store__WriteResult *reply = NULL;
    char *strs[N_WSTR] = {0};
    rpc_status st;
    rpc_opts o;
    store_res r;

    if (op == NULL)
        return STORE_INVALID_ARGUMENT;
    if (c->rc == NULL)
        return store_writer_submit_wait(c->w, op);
    memset(&op->out, 0, sizeof op->out);
    if ((r = build_write(op, &m, strs)) != STORE_OK) {
        free_strs(strs);
        return op->out.res = r;
    }
    call_opts(c, op, &o);
    sb_store_Store_Write(c->rc, &m, &reply, &o, &st);
    free_strs(strs);
    fill_out(op, &st, reply);
    sb_store_Store_free(reply);
    return op->out.res;
}
