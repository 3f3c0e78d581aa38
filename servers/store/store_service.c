/* store_service.c: sb.store.Store over the data layer. Write fills a
 * store_wop from the call (strings point into the request, which lives
 * until the reply is sent), takes the envelope's request id as the op's
 * idempotency key, queues it and returns RPC_DEFER; the writer's
 * completion fills the reply and finishes the call. WriteBatch does the
 * same for each of its ops (each with its own id) and finishes the call
 * when the last one completes. Read runs the read
 * function of its kind on the worker. The two tables below are the only
 * place a kind is mapped: a new store op is one row. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "store.sb.h"
#include "store_service.h"

struct store_service {
    store_db *db;
    store_writer *w;
};

/* ---- writes ------------------------------------------------------------ */

/* Wire kind -> data-layer kind. */
static const struct {
    Sb__Store__WriteKind wire;
    store_op_kind kind;
    const char *name;
} write_kinds[] = {
    {SB__STORE__WRITE_KIND__WRITE_REGISTER, STORE_OP_REGISTER, "REGISTER"},
    {SB__STORE__WRITE_KIND__WRITE_LOGIN, STORE_OP_LOGIN, "LOGIN"},
    {SB__STORE__WRITE_KIND__WRITE_SET_SERVER, STORE_OP_SET_SERVER,
     "SET_SERVER"},
    {SB__STORE__WRITE_KIND__WRITE_LOGOUT, STORE_OP_LOGOUT, "LOGOUT"},
    {SB__STORE__WRITE_KIND__WRITE_DELETE, STORE_OP_DELETE, "DELETE"},
    {SB__STORE__WRITE_KIND__WRITE_INVITE, STORE_OP_INVITE, "INVITE"},
    {SB__STORE__WRITE_KIND__WRITE_ACCEPT, STORE_OP_ACCEPT, "ACCEPT"},
    {SB__STORE__WRITE_KIND__WRITE_POST, STORE_OP_POST, "POST"},
    {SB__STORE__WRITE_KIND__WRITE_SEND, STORE_OP_SEND, "SEND"},
    {SB__STORE__WRITE_KIND__WRITE_CREATE_GROUP, STORE_OP_CREATE_GROUP,
     "CREATE_GROUP"},
    {SB__STORE__WRITE_KIND__WRITE_JOIN_GROUP, STORE_OP_JOIN_GROUP,
     "JOIN_GROUP"},
    {SB__STORE__WRITE_KIND__WRITE_SEND_GROUP, STORE_OP_SEND_GROUP,
     "SEND_GROUP"},
    {SB__STORE__WRITE_KIND__WRITE_MAIL_ACK, STORE_OP_MAIL_ACK, "MAIL_ACK"},
    {SB__STORE__WRITE_KIND__WRITE_CREATE_ROOM, STORE_OP_CREATE_ROOM,
     "CREATE_ROOM"},
    {SB__STORE__WRITE_KIND__WRITE_JOIN_ROOM, STORE_OP_JOIN_ROOM, "JOIN_ROOM"},
    {SB__STORE__WRITE_KIND__WRITE_LEAVE_ROOM, STORE_OP_LEAVE_ROOM,
     "LEAVE_ROOM"},
    {SB__STORE__WRITE_KIND__WRITE_DELETE_ROOM, STORE_OP_DELETE_ROOM,
     "DELETE_ROOM"},
    {SB__STORE__WRITE_KIND__WRITE_SAY, STORE_OP_SAY, "SAY"},
    {SB__STORE__WRITE_KIND__WRITE_PRIVATE, STORE_OP_PRIVATE, "PRIVATE"},
    {SB__STORE__WRITE_KIND__WRITE_SET_PROFILE, STORE_OP_SET_PROFILE,
     "SET_PROFILE"},
    {SB__STORE__WRITE_KIND__WRITE_END_SESSION, STORE_OP_END_SESSION,
     "END_SESSION"},
};
#define N_WRITE_KINDS (sizeof write_kinds / sizeof write_kinds[0])

int store_service_code(store_res r)
{
    switch (r) {
    case STORE_INVALID_ARGUMENT:
        return RPC_INVALID_ARGUMENT;
    case STORE_ERR_SHUTDOWN:
        return RPC_UNAVAILABLE;
    case STORE_ERR_INTERNAL:
        return RPC_INTERNAL;
    default:
        return (unsigned)r < STORE_RES_COUNT ? RPC_OK : RPC_INTERNAL;
    }
}

/* Fails @call for a result that is not RPC_OK on the wire. */
static int fail_res(rpc_call *call, store_res r, const char *kind)
{
    int code = store_service_code(r);

    switch (code) {
    case RPC_INVALID_ARGUMENT:
        return rpc_call_fail(call, code,
                             "store %s: invalid argument (a name "
                             "or text is missing, too long, or holds bad "
                             "bytes)",
                             kind);
    case RPC_UNAVAILABLE:
        return rpc_call_fail(call, code,
                             "store %s: the writer is stopping; "
                             "retry",
                             kind);
    default:
        return rpc_call_fail(call, code,
                             "store %s: internal error (%s); "
                             "nothing was applied",
                             kind, store_res_name(r));
    }
}

/* A deferred write: the op and where to answer. Lives in the call's arena. */
typedef struct store_svc_write {
    store_wop op;
    rpc_call *call;
    Sb__Store__WriteResult *reply;
    const char *kind;
} store_svc_write;

/* Writer thread, after the commit: never blocks (the finish is async). */
static void write_done(store_wop *op, void *arg)
{
    store_svc_write *sw = arg;
    int code = store_service_code(op->out.res);

    if (code != RPC_OK) {
        rpc_call_finish(sw->call, fail_res(sw->call, op->out.res, sw->kind));
        return;
    }
    sw->reply->res = (uint32_t)op->out.res;
    sw->reply->seq = op->out.seq;
    sw->reply->count = op->out.count;
    sw->reply->token = rpc_call_strdup(sw->call, op->out.token);
    rpc_call_finish(sw->call, RPC_OK);
}

/* The index of @wire in write_kinds, or -1. */
static int find_kind(Sb__Store__WriteKind wire)
{
    for (size_t i = 0; i < N_WRITE_KINDS; i++)
        if (write_kinds[i].wire == wire)
            return (int)i;
    return -1;
}

/* Fills @op's fields from the wire op (strings point into @req). */
static void fill_wop(store_wop *op, int ki, const Sb__Store__WriteOp *req)
{
    op->kind = write_kinds[ki].kind;
    op->token = store_s(req->token);
    op->name = store_s(req->name);
    op->text = store_s(req->text);
    op->server = store_s(req->server);
    op->first = store_s(req->first);
    op->last = store_s(req->last);
    op->gender = store_s(req->gender);
    op->age = req->age;
    op->seq = req->seq;
}

static int h_write(rpc_call *call, const Sb__Store__WriteOp *req,
                   Sb__Store__WriteResult *reply, void *arg)
{
    store_service *s = arg;
    store_svc_write *sw;
    const uint8_t *id;
    int i, rv;

    if ((i = find_kind(req->kind)) < 0)
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "store: unknown write kind %d", (int)req->kind);
    sw = rpc_call_alloc(call, sizeof *sw);
    sw->call = call;
    sw->reply = reply;
    sw->kind = write_kinds[i].name;
    fill_wop(&sw->op, i, req);
    if ((id = rpc_call_request_id(call)) != NULL)
        memcpy(sw->op.reqid, id, STORE_REQID_LEN);
    sw->op.done = write_done;
    sw->op.arg = sw;
    if ((rv = store_writer_submit(s->w, &sw->op)) != 0)
        return fail_res(call, (store_res)rv, sw->kind);
    return RPC_DEFER;
}

/* ---- batches ------------------------------------------------------------ */

/* One op of a WriteBatch. Its completion may run on the writer thread while
 * the handler still submits later ops, so it must not allocate from the
 * call's arena (not thread-safe): everything is allocated up front. */
typedef struct store_svc_bop {
    store_wop op;
    struct store_svc_batch *b;
    char token[STORE_TOKEN_MAX + 1];
    Sb__Store__WriteResult res_m;
} store_svc_bop;

typedef struct store_svc_batch {
    rpc_call *call;
    atomic_size_t left; /* ops not completed + 1 for the handler itself */
} store_svc_batch;

static void batch_left_done(store_svc_batch *b)
{
    if (atomic_fetch_sub(&b->left, 1) == 1)
        rpc_call_finish(b->call, RPC_OK);
}

static void bop_done(store_wop *op, void *arg)
{
    store_svc_bop *bo = arg;

    bo->res_m.res = (uint32_t)op->out.res;
    bo->res_m.seq = op->out.seq;
    bo->res_m.count = op->out.count;
    memcpy(bo->token, op->out.token, sizeof bo->token);
    bo->token[STORE_TOKEN_MAX] = '\0';
    bo->res_m.token = bo->token;
    batch_left_done(bo->b);
}

static int h_write_batch(rpc_call *call,
                         const Sb__Store__WriteBatchRequest *req,
                         Sb__Store__WriteBatchResult *reply, void *arg)
{
    store_service *s = arg;
    store_svc_batch *b;
    store_svc_bop *bo;
    size_t n = req->n_ops;

    if (n > STORE_SERVICE_BATCH_MAX)
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "store: a batch "
                             "of %zu writes (at most %d)",
                             n, STORE_SERVICE_BATCH_MAX);
    for (size_t i = 0; i < n; i++)
        if (find_kind(req->ops[i]->kind) < 0)
            return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                                 "store: op %zu: "
                                 "unknown write kind %d",
                                 i, (int)req->ops[i]->kind);
    b = rpc_call_alloc(call, sizeof *b);
    bo = rpc_call_alloc(call, (n + 1) * sizeof *bo);
    memset(bo, 0, (n + 1) * sizeof *bo); /* arena memory is not zeroed:
                                            a zero reqid means no id */
    reply->results = rpc_call_alloc(call, (n + 1) * sizeof *reply->results);
    reply->n_results = n;
    b->call = call;
    atomic_init(&b->left, n + 1);
    for (size_t i = 0; i < n; i++) {
        const Sb__Store__WriteOp *w = req->ops[i];
        reply->results[i] = &bo[i].res_m;
        sb__store__write_result__init(&bo[i].res_m);
        bo[i].b = b;
        fill_wop(&bo[i].op, find_kind(w->kind), w);
        if (w->request_id.len == STORE_REQID_LEN)
            memcpy(bo[i].op.reqid, w->request_id.data, STORE_REQID_LEN);
        bo[i].op.done = bop_done;
        bo[i].op.arg = &bo[i];
    }
    /* Submit only once every result exists: a completion may run at once.
     * All together, so they usually share one commit. */
    store_wop **ops = rpc_call_alloc(call, (n + 1) * sizeof *ops);
    for (size_t i = 0; i < n; i++)
        ops[i] = &bo[i].op;
    int rv = store_writer_submit_many(s->w, ops, n);
    for (size_t i = 0; rv != 0 && i < n; i++) {
        bo[i].op.out.res = (store_res)rv;
        bop_done(&bo[i].op, &bo[i]);
    }
    batch_left_done(b);
    return RPC_DEFER;
}

/* ---- reads ------------------------------------------------------------- */

typedef store_res (*read_fn)(store_service *s, rpc_call *call,
                             const Sb__Store__ReadOp *req,
                             Sb__Store__ReadResult *reply);

static store_res rd_whoami(store_service *s, rpc_call *call,
                           const Sb__Store__ReadOp *req,
                           Sb__Store__ReadResult *reply)
{
    store_session ss;
    store_res r;

    memset(&ss, 0, sizeof ss);
    if ((r = store_whoami(s->db, store_s(req->token), &ss)) != STORE_OK)
        return r;
    Sb__Store__Session *m = rpc_call_alloc(call, sizeof *m);
    sb__store__session__init(m);
    m->user = rpc_call_strdup(call, ss.user);
    m->token = rpc_call_strdup(call, ss.token);
    m->server = rpc_call_strdup(call, ss.server);
    m->endpoint = rpc_call_strdup(call, ss.endpoint);
    m->login_ms = ss.login_ms;
    reply->session = m;
    return STORE_OK;
}

static store_res rd_get_user(store_service *s, rpc_call *call,
                             const Sb__Store__ReadOp *req,
                             Sb__Store__ReadResult *reply)
{
    store_user u;
    store_res r;

    memset(&u, 0, sizeof u);
    if ((r = store_get_user(s->db, store_s(req->name), &u)) != STORE_OK)
        return r;
    Sb__Store__User *m = rpc_call_alloc(call, sizeof *m);
    sb__store__user__init(m);
    m->name = rpc_call_strdup(call, u.name);
    m->hash = rpc_call_strdup(call, u.hash);
    m->first = rpc_call_strdup(call, u.first);
    m->last = rpc_call_strdup(call, u.last);
    m->gender = rpc_call_strdup(call, u.gender);
    m->age = u.age;
    m->created_seq = u.created_seq;
    m->created_ms = u.created_ms;
    reply->user = m;
    return STORE_OK;
}

typedef store_res (*names_fn)(store_db *, store_str, store_names *);

static store_res rd_names(store_service *s, rpc_call *call, names_fn fn,
                          const Sb__Store__ReadOp *req,
                          Sb__Store__ReadResult *reply)
{
    store_names l = {0};
    store_res r = fn(s->db, store_s(req->token), &l);

    if (r == STORE_OK && l.n > 0) {
        reply->n_names = l.n;
        reply->names = rpc_call_alloc(call, l.n * sizeof(char *));
        for (size_t i = 0; i < l.n; i++)
            reply->names[i] = rpc_call_strdup(call, l.v[i]);
        if (l.online != NULL) {
            reply->n_online = l.n;
            reply->online =
                rpc_call_alloc(call, l.n * sizeof(protobuf_c_boolean));
            for (size_t i = 0; i < l.n; i++)
                reply->online[i] = l.online[i] != 0;
        }
    }
    store_names_free(&l);
    return r;
}

#define NAMES_READ(fname, fn)                                                  \
    static store_res fname(store_service *s, rpc_call *call,                   \
                           const Sb__Store__ReadOp *req,                       \
                           Sb__Store__ReadResult *reply)                       \
    {                                                                          \
        return rd_names(s, call, fn, req, reply);                              \
    }
NAMES_READ(rd_list_invite, store_list_invite)
NAMES_READ(rd_list_friend, store_list_friend)
NAMES_READ(rd_list_group, store_list_group)
NAMES_READ(rd_list_joined, store_list_joined)
NAMES_READ(rd_list_users, store_list_users)

static store_res rd_receive_post(store_service *s, rpc_call *call,
                                 const Sb__Store__ReadOp *req,
                                 Sb__Store__ReadResult *reply)
{
    store_posts l = {0};
    store_res r = store_receive_post(s->db, store_s(req->token), &l);

    if (r == STORE_OK && l.n > 0) {
        reply->n_posts = l.n;
        reply->posts = rpc_call_alloc(call, l.n * sizeof(*reply->posts));
        for (size_t i = 0; i < l.n; i++) {
            Sb__Store__Post *p = rpc_call_alloc(call, sizeof *p);
            sb__store__post__init(p);
            p->seq = l.v[i].seq;
            p->author = rpc_call_strdup(call, l.v[i].author);
            p->text = rpc_call_strdup(call, l.v[i].text);
            reply->posts[i] = p;
        }
    }
    store_posts_free(&l);
    return r;
}

static store_res rd_mail_fetch(store_service *s, rpc_call *call,
                               const Sb__Store__ReadOp *req,
                               Sb__Store__ReadResult *reply)
{
    store_mails l = {0};
    store_res r = store_mail_fetch(s->db, store_s(req->token), req->after_seq,
                                   req->max, &l);

    if (r == STORE_OK && l.n > 0) {
        reply->n_mails = l.n;
        reply->mails = rpc_call_alloc(call, l.n * sizeof(*reply->mails));
        for (size_t i = 0; i < l.n; i++) {
            Sb__Store__Mail *m = rpc_call_alloc(call, sizeof *m);
            sb__store__mail__init(m);
            m->seq = l.v[i].seq;
            m->kind = (uint32_t)l.v[i].kind;
            m->time_ms = l.v[i].time_ms;
            m->from = rpc_call_strdup(call, l.v[i].from);
            m->group = rpc_call_strdup(call, l.v[i].group);
            m->text = rpc_call_strdup(call, l.v[i].text);
            reply->mails[i] = m;
        }
    }
    store_mails_free(&l);
    return r;
}

static store_res rd_list_rooms(store_service *s, rpc_call *call,
                               const Sb__Store__ReadOp *req,
                               Sb__Store__ReadResult *reply)
{
    store_rooms l = {0};
    store_res r = store_list_rooms(s->db, store_s(req->token), &l);

    if (r == STORE_OK && l.n > 0) {
        reply->n_rooms = l.n;
        reply->rooms = rpc_call_alloc(call, l.n * sizeof(*reply->rooms));
        for (size_t i = 0; i < l.n; i++) {
            Sb__Store__Room *m = rpc_call_alloc(call, sizeof *m);
            sb__store__room__init(m);
            m->name = rpc_call_strdup(call, l.v[i].name);
            m->creator = rpc_call_strdup(call, l.v[i].creator);
            m->count = l.v[i].count;
            reply->rooms[i] = m;
        }
    }
    store_rooms_free(&l);
    return r;
}

static store_res rd_current_room(store_service *s, rpc_call *call,
                                 const Sb__Store__ReadOp *req,
                                 Sb__Store__ReadResult *reply)
{
    char room[STORE_NAME_MAX + 1] = "";
    store_res r = store_current_room(s->db, store_s(req->token), room);

    if (r == STORE_OK)
        reply->room = rpc_call_strdup(call, room);
    return r;
}

static store_res rd_show_profile(store_service *s, rpc_call *call,
                                 const Sb__Store__ReadOp *req,
                                 Sb__Store__ReadResult *reply)
{
    store_user u;
    int has = 0;
    store_res r;

    memset(&u, 0, sizeof u);
    r = store_show_profile(s->db, store_s(req->token), store_s(req->name), &u,
                           &has);
    if (r != STORE_OK)
        return r;
    Sb__Store__User *m = rpc_call_alloc(call, sizeof *m);
    sb__store__user__init(m);
    m->name = rpc_call_strdup(call, u.name);
    m->first = rpc_call_strdup(call, u.first);
    m->last = rpc_call_strdup(call, u.last);
    m->gender = rpc_call_strdup(call, u.gender);
    m->age = u.age;
    m->created_seq = u.created_seq;
    m->created_ms = u.created_ms;
    reply->user = m;
    reply->has_profile = has != 0;
    return STORE_OK;
}

/* Wire kind -> read function. */
static const struct {
    Sb__Store__ReadKind wire;
    read_fn fn;
    const char *name;
} read_kinds[] = {
    {SB__STORE__READ_KIND__READ_WHOAMI, rd_whoami, "WHOAMI"},
    {SB__STORE__READ_KIND__READ_GET_USER, rd_get_user, "GET_USER"},
    {SB__STORE__READ_KIND__READ_LIST_INVITE, rd_list_invite, "LIST_INVITE"},
    {SB__STORE__READ_KIND__READ_LIST_FRIEND, rd_list_friend, "LIST_FRIEND"},
    {SB__STORE__READ_KIND__READ_LIST_GROUP, rd_list_group, "LIST_GROUP"},
    {SB__STORE__READ_KIND__READ_LIST_JOINED, rd_list_joined, "LIST_JOINED"},
    {SB__STORE__READ_KIND__READ_LIST_USERS, rd_list_users, "LIST_USERS"},
    {SB__STORE__READ_KIND__READ_RECEIVE_POST, rd_receive_post, "RECEIVE_POST"},
    {SB__STORE__READ_KIND__READ_MAIL_FETCH, rd_mail_fetch, "MAIL_FETCH"},
    {SB__STORE__READ_KIND__READ_LIST_ROOMS, rd_list_rooms, "LIST_ROOMS"},
    {SB__STORE__READ_KIND__READ_CURRENT_ROOM, rd_current_room, "CURRENT_ROOM"},
    {SB__STORE__READ_KIND__READ_SHOW_PROFILE, rd_show_profile, "SHOW_PROFILE"},
};
#define N_READ_KINDS (sizeof read_kinds / sizeof read_kinds[0])

static int h_read(rpc_call *call, const Sb__Store__ReadOp *req,
                  Sb__Store__ReadResult *reply, void *arg)
{
    size_t i;
    store_res r;

    for (i = 0; i < N_READ_KINDS && read_kinds[i].wire != req->kind; i++)
        ;
    if (i == N_READ_KINDS)
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "store: unknown read kind %d", (int)req->kind);
    r = read_kinds[i].fn(arg, call, req, reply);
    if (store_service_code(r) != RPC_OK)
        return fail_res(call, r, read_kinds[i].name);
    reply->res = (uint32_t)r;
    return RPC_OK;
}

/* ---- lifecycle ----------------------------------------------------------- */

static const sb_store_Store_handlers handlers = {
    .Write = h_write,
    .WriteBatch = h_write_batch,
    .Read = h_read,
};

int store_service_register(rpc_server *srv, store_db *db, store_writer *w,
                           store_service **out)
{
    store_service *s = calloc(1, sizeof *s);
    int rv;

    *out = NULL;
    if (s == NULL)
        return ENOMEM;
    s->db = db;
    s->w = w;
    if ((rv = sb_store_Store_register(srv, &handlers, s)) != 0) {
        free(s);
        return rv;
    }
    /* Write only queues the op (a mutex and a signal) and defers: it may
     * run on nng's receive thread. Reads touch LMDB pages: workers. */
    if (rpc_server_set_nonblocking(srv, sb_store_Store_Write_METHOD, 1) != 0 ||
        rpc_server_set_nonblocking(srv, sb_store_Store_WriteBatch_METHOD, 1) !=
            0)
        sb_warn("store", "Write stays on the worker pool (server started?)");
    *out = s;
    return 0;
}

void store_service_free(store_service *s)
{
    free(s);
}
