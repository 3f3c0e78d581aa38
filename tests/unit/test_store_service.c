/* test_store_service.c: sb.store.Store over real nng tcp on 127.0.0.1 and
 * real LMDB. One scenario that uses every write kind and every read kind
 * runs through store_conn's local backend and, on a second environment,
 * through its remote backend: both transcripts must be the same, and the
 * key results are asserted. Then: a write re-sent with the same request id
 * is applied once; concurrent async writes share commits; a WriteBatch
 * gives each op its own result and request id; bad input (an
 * unknown kind, missing fields, over-long and over-limit strings) gets a
 * clear status and the server keeps serving. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "store.sb.h"
#include "store_conn.h"
#include "store_service.h"
#include "test_store_util.h"

typedef struct svc {
    tenv t;
    rpc_server *srv;
    store_service *ss;
    store_conn *local, *remote;
} svc;

static void svc_start(svc *s)
{
    rpc_server_config sc = {.name = "store-test"};

    memset(s, 0, sizeof *s);
    assert_int_equal(tenv_open(&s->t, NULL), 0);
    assert_int_equal(rpc_server_create(&s->srv, &sc), 0);
    assert_int_equal(store_service_register(s->srv, s->t.db, s->t.w, &s->ss),
                     0);
    assert_int_equal(rpc_server_listen(s->srv, "tcp://127.0.0.1:0"), 0);
    assert_int_equal(rpc_server_start(s->srv), 0);
    assert_int_equal(store_conn_local(s->t.db, s->t.w, &s->local), 0);
    assert_int_equal(
        store_conn_remote(rpc_server_url(s->srv, 0), 5000, &s->remote), 0);
    assert_int_equal(store_conn_is_remote(s->remote), 1);
    assert_int_equal(store_conn_is_remote(s->local), 0);
}

static void svc_stop(svc *s)
{
    store_conn_close(s->remote);
    store_conn_close(s->local);
    rpc_server_destroy(s->srv);
    store_service_free(s->ss);
    tenv_close(&s->t, 1);
}

/* ---- the scenario ------------------------------------------------------ */

typedef struct tx {
    char buf[8192];
    size_t n;
} tx;

static void note(tx *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->buf + t->n, sizeof t->buf - t->n, fmt, ap);
    va_end(ap);
    if (k > 0 && t->n + (size_t)k < sizeof t->buf)
        t->n += (size_t)k;
}

static store_res w(store_conn *c, tx *t, store_op_kind k, const char *token,
                   const char *name, const char *text, store_wres *out)
{
    store_wop op = {.kind = k,
                    .token = store_s(token),
                    .name = store_s(name),
                    .text = store_s(text)};
    store_res r = store_conn_write_wait(c, &op);
    note(t, "w%d %s seq>0=%d count=%u tok=%s\n", (int)k, store_res_name(r),
         op.out.seq > 0, op.out.count, op.out.token);
    if (out != NULL)
        *out = op.out;
    return r;
}

typedef store_res (*list_fn)(store_conn *, store_str, store_names *);

static store_res names(store_conn *c, tx *t, list_fn fn, const char *token,
                       const char *expect)
{
    store_names l = {0};
    char got[512] = "";
    store_res r = fn(c, store_s(token), &l);

    for (size_t i = 0; i < l.n; i++) {
        strcat(got, l.v[i]);
        if (l.online != NULL)
            strcat(got, l.online[i] ? "+" : "-");
        strcat(got, ",");
    }
    note(t, "names %s [%s]\n", store_res_name(r), got);
    if (expect != NULL)
        assert_string_equal(got, expect);
    store_names_free(&l);
    return r;
}

static store_res mails(store_conn *c, tx *t, const char *token, uint64_t after,
                       size_t *n, uint64_t *last)
{
    store_mails m = {0};
    store_res r = store_conn_mail_fetch(c, store_s(token), after, 0, &m);

    for (size_t i = 0; i < m.n; i++)
        note(t, "mail %d %s '%s' '%s'\n", (int)m.v[i].kind, m.v[i].from,
             m.v[i].group, m.v[i].text);
    *n = m.n;
    *last = m.n > 0 ? m.v[m.n - 1].seq : 0;
    store_mails_free(&m);
    return r;
}

static void profile_and_users(store_conn *c, tx *t)
{
    store_wop op = {.kind = STORE_OP_REGISTER,
                    .name = store_s("alice"),
                    .text = store_s("hash-a"),
                    .first = store_s("Alice"),
                    .last = store_s("Liddell"),
                    .gender = store_s("f"),
                    .age = 7};
    store_user u;

    assert_int_equal(store_conn_write_wait(c, &op), STORE_OK);
    assert_int_equal(w(c, t, STORE_OP_REGISTER, NULL, "bob", "hash-b", NULL),
                     STORE_OK);
    assert_int_equal(w(c, t, STORE_OP_REGISTER, NULL, "bob", "hash-x", NULL),
                     STORE_ALREADY_USED);
    assert_int_equal(store_conn_get_user(c, store_s("alice"), &u), STORE_OK);
    assert_string_equal(u.hash, "hash-a");
    assert_string_equal(u.first, "Alice");
    assert_string_equal(u.last, "Liddell");
    assert_string_equal(u.gender, "f");
    assert_int_equal(u.age, 7);
    note(t, "user %s %s %s %u seq>0=%d\n", u.name, u.first, u.gender, u.age,
         u.created_seq > 0);
    assert_int_equal(store_conn_get_user(c, store_s("nobody"), &u),
                     STORE_NO_SUCH_USER);
}

static void sessions(store_conn *c, tx *t)
{
    store_wres o;
    store_session s;

    assert_int_equal(w(c, t, STORE_OP_LOGIN, "Ta", "alice", NULL, &o),
                     STORE_OK);
    assert_string_equal(o.token, "Ta");
    assert_int_equal(w(c, t, STORE_OP_LOGIN, "Tb", "bob", NULL, &o), STORE_OK);
    /* already logged in: the same token, not the candidate */
    assert_int_equal(w(c, t, STORE_OP_LOGIN, "Tz", "bob", NULL, &o), STORE_OK);
    assert_string_equal(o.token, "Tb");
    store_wop op = {.kind = STORE_OP_SET_SERVER,
                    .token = store_s("Ta"),
                    .server = store_s("app-1"),
                    .text = store_s("tcp://h:1")};
    assert_int_equal(store_conn_write_wait(c, &op), STORE_OK);
    assert_int_equal(store_conn_whoami(c, store_s("Ta"), &s), STORE_OK);
    assert_string_equal(s.user, "alice");
    assert_string_equal(s.token, "Ta");
    assert_string_equal(s.server, "app-1");
    assert_string_equal(s.endpoint, "tcp://h:1");
    assert_true(s.login_ms > 0);
    assert_int_equal(store_conn_whoami(c, store_s("bogus"), &s),
                     STORE_NOT_LOGGED_IN);
}

static void social(store_conn *c, tx *t)
{
    store_posts p = {0};
    store_wres o;
    size_t n;
    uint64_t last;

    assert_int_equal(w(c, t, STORE_OP_INVITE, "Ta", "bob", NULL, NULL),
                     STORE_OK);
    assert_int_equal(w(c, t, STORE_OP_INVITE, "Ta", "bob", NULL, NULL),
                     STORE_ALREADY_INVITED);
    names(c, t, store_conn_list_invite, "Tb", "alice,");
    assert_int_equal(w(c, t, STORE_OP_ACCEPT, "Tb", "alice", NULL, NULL),
                     STORE_OK);
    names(c, t, store_conn_list_friend, "Ta", "bob,");
    assert_int_equal(w(c, t, STORE_OP_POST, "Tb", NULL, "hello world", &o),
                     STORE_OK);
    assert_true(o.seq > 0);
    assert_int_equal(store_conn_receive_post(c, store_s("Ta"), &p), STORE_OK);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.v[0].author, "bob");
    assert_string_equal(p.v[0].text, "hello world");
    assert_int_equal(p.v[0].seq, o.seq);
    store_posts_free(&p);
    assert_int_equal(w(c, t, STORE_OP_SEND, "Ta", "bob", "hi bob", NULL),
                     STORE_OK);
    assert_int_equal(w(c, t, STORE_OP_SEND, "Ta", "carol", "x", NULL),
                     STORE_NO_SUCH_USER);
    assert_int_equal(w(c, t, STORE_OP_CREATE_GROUP, "Ta", "g1", NULL, NULL),
                     STORE_OK);
    assert_int_equal(w(c, t, STORE_OP_JOIN_GROUP, "Tb", "g1", NULL, NULL),
                     STORE_OK);
    names(c, t, store_conn_list_group, "Tb", "g1,");
    names(c, t, store_conn_list_joined, "Tb", "g1,");
    assert_int_equal(w(c, t, STORE_OP_SEND_GROUP, "Ta", "g1", "yo all", &o),
                     STORE_OK);
    assert_true(o.count >= 1);
    assert_int_equal(mails(c, t, "Tb", 0, &n, &last), STORE_OK);
    assert_int_equal(n, 2);
    store_wop ack = {
        .kind = STORE_OP_MAIL_ACK, .token = store_s("Tb"), .seq = last};
    assert_int_equal(store_conn_write_wait(c, &ack), STORE_OK);
    assert_int_equal(ack.out.count, 2);
    assert_int_equal(mails(c, t, "Tb", 0, &n, &last), STORE_OK);
    assert_int_equal(n, 0);
    names(c, t, store_conn_list_users, "Ta", "alice+,bob+,");
}

static void rooms_and_profiles(store_conn *c, tx *t)
{
    store_rooms rl = {0};
    store_user u;
    char room[STORE_NAME_MAX + 1];
    size_t n;
    uint64_t last;
    int has = -1;

    assert_int_equal(w(c, t, STORE_OP_CREATE_ROOM, "Ta", "r1", NULL, NULL),
                     STORE_OK);
    assert_int_equal(store_conn_current_room(c, store_s("Ta"), room), STORE_OK);
    assert_string_equal(room, "r1");
    assert_int_equal(w(c, t, STORE_OP_JOIN_ROOM, "Tb", "r1", NULL, NULL),
                     STORE_OK);
    assert_int_equal(store_conn_list_rooms(c, store_s("Ta"), &rl), STORE_OK);
    assert_int_equal(rl.n, 2);
    assert_string_equal(rl.v[0].name, STORE_LOBBY_NAME);
    assert_string_equal(rl.v[1].name, "r1");
    assert_string_equal(rl.v[1].creator, "alice");
    assert_int_equal(rl.v[1].count, 2);
    for (size_t i = 0; i < rl.n; i++)
        note(t, "room %s by '%s' %u\n", rl.v[i].name, rl.v[i].creator,
             rl.v[i].count);
    store_rooms_free(&rl);
    assert_int_equal(w(c, t, STORE_OP_SAY, "Ta", NULL, "hey room", NULL),
                     STORE_OK);
    assert_int_equal(w(c, t, STORE_OP_PRIVATE, "Ta", "bob", "psst", NULL),
                     STORE_OK);
    assert_int_equal(mails(c, t, "Tb", 0, &n, &last), STORE_OK);
    assert_true(n >= 2);
    store_mails m = {0};
    assert_int_equal(store_conn_mail_fetch(c, store_s("Tb"), 0, 0, &m),
                     STORE_OK);
    int room_kind = 0;
    for (size_t i = 0; i < m.n; i++)
        room_kind +=
            m.v[i].kind == STORE_MAIL_ROOM && strcmp(m.v[i].group, "r1") == 0;
    assert_int_equal(room_kind, 1); /* the room kind survives the wire */
    store_mails_free(&m);
    assert_int_equal(w(c, t, STORE_OP_LEAVE_ROOM, "Tb", NULL, NULL, NULL),
                     STORE_OK);
    assert_int_equal(store_conn_current_room(c, store_s("Tb"), room), STORE_OK);
    assert_string_equal(room, STORE_LOBBY_NAME);
    /* only the creator deletes a room */
    assert_int_not_equal(w(c, t, STORE_OP_DELETE_ROOM, "Tb", "r1", NULL, NULL),
                         STORE_OK);
    assert_int_equal(w(c, t, STORE_OP_DELETE_ROOM, "Ta", "r1", NULL, NULL),
                     STORE_OK);
    store_wop op = {.kind = STORE_OP_SET_PROFILE,
                    .token = store_s("Tb"),
                    .first = store_s("Bob"),
                    .last = store_s("Builder"),
                    .gender = store_s("m"),
                    .age = 40};
    assert_int_equal(store_conn_write_wait(c, &op), STORE_OK);
    assert_int_equal(
        store_conn_show_profile(c, store_s("Ta"), store_s("bob"), &u, &has),
        STORE_OK);
    assert_int_equal(has, 1);
    assert_string_equal(u.first, "Bob");
    assert_string_equal(u.last, "Builder");
    assert_int_equal(u.age, 40);
    assert_string_equal(u.hash, ""); /* never over this read */
    note(t, "profile %s %s %s %u\n", u.name, u.first, u.gender, u.age);
    assert_int_equal(
        store_conn_show_profile(c, store_s("Ta"), store_s("nobody"), &u, &has),
        STORE_NO_SUCH_USER);
    assert_int_equal(
        store_conn_show_profile(c, store_s("bogus"), store_s("bob"), &u, &has),
        STORE_NOT_LOGGED_IN);
}

static void endings(store_conn *c, tx *t)
{
    store_session s;
    store_user u;

    assert_int_equal(w(c, t, STORE_OP_LOGOUT, "Tb", NULL, NULL, NULL),
                     STORE_OK);
    assert_int_equal(store_conn_whoami(c, store_s("Tb"), &s),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(w(c, t, STORE_OP_POST, "Tb", NULL, "late", NULL),
                     STORE_NOT_LOGGED_IN);
    names(c, t, store_conn_list_users, "Ta", "alice+,bob-,");
    names(c, t, store_conn_list_friend, "Tb", "");
    assert_int_equal(w(c, t, STORE_OP_REGISTER, NULL, "carol", "hash-c", NULL),
                     STORE_OK);
    assert_int_equal(w(c, t, STORE_OP_LOGIN, "Tc", "carol", NULL, NULL),
                     STORE_OK);
    assert_int_equal(w(c, t, STORE_OP_END_SESSION, "Tc", NULL, NULL, NULL),
                     STORE_OK);
    assert_int_equal(store_conn_whoami(c, store_s("Tc"), &s),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(w(c, t, STORE_OP_DELETE, "Ta", NULL, NULL, NULL),
                     STORE_OK);
    assert_int_equal(store_conn_get_user(c, store_s("alice"), &u),
                     STORE_NO_SUCH_USER);
}

static void scenario(store_conn *c, tx *t)
{
    profile_and_users(c, t);
    sessions(c, t);
    social(c, t);
    rooms_and_profiles(c, t);
    endings(c, t);
}

static void test_every_kind_local_and_remote(void **state)
{
    svc a, b;
    static tx ta, tb;

    (void)state;
    svc_start(&a);
    svc_start(&b);
    scenario(a.local, &ta);
    scenario(b.remote, &tb);
    assert_true(ta.n > 500);
    assert_string_equal(ta.buf, tb.buf);
    svc_stop(&a);
    svc_stop(&b);
}

/* ---- retries ------------------------------------------------------------- */

/* ann and ben registered, logged in (tokens "Tann", "Tben") and friends. */
static void ann_and_ben_friends(svc *s)
{
    assert_int_equal(reg_login(&s->t, "ann"), STORE_OK);
    assert_int_equal(reg_login(&s->t, "ben"), STORE_OK);
    assert_int_equal(wr(&s->t, STORE_OP_INVITE, "Tann", "ben", NULL), STORE_OK);
    assert_int_equal(wr(&s->t, STORE_OP_ACCEPT, "Tben", "ann", NULL), STORE_OK);
}

static void test_same_request_id_applied_once(void **state)
{
    svc s;
    store_posts p = {0};
    uint8_t id[STORE_REQID_LEN];

    (void)state;
    svc_start(&s);
    ann_and_ben_friends(&s);
    rpc_random_bytes(id, sizeof id);
    uint64_t seq = 0;
    for (int i = 0; i < 3; i++) {
        store_wop op = {.kind = STORE_OP_POST,
                        .token = store_s("Tann"),
                        .text = store_s("once")};
        memcpy(op.reqid, id, sizeof id);
        assert_int_equal(store_conn_write_wait(s.remote, &op), STORE_OK);
        if (i == 0)
            seq = op.out.seq;
        assert_int_equal(op.out.seq, seq); /* the stored result */
    }
    /* a different id is a different post */
    store_wop op2 = {.kind = STORE_OP_POST,
                     .token = store_s("Tann"),
                     .text = store_s("twice")};
    assert_int_equal(store_conn_write_wait(s.remote, &op2), STORE_OK);
    assert_true(op2.out.seq > seq);
    assert_int_equal(store_conn_receive_post(s.remote, store_s("Tben"), &p),
                     STORE_OK);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.v[0].text, "once");
    assert_string_equal(p.v[1].text, "twice");
    store_posts_free(&p);
    svc_stop(&s);
}

/* ---- async writes batch -------------------------------------------------- */

#define NASYNC 300

typedef struct actr {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, ok;
} actr;

static void async_done(store_wop *op, void *arg)
{
    actr *a = arg;
    pthread_mutex_lock(&a->mu);
    a->done++;
    a->ok += op->out.res == STORE_OK && op->out.seq > 0;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

static void test_async_writes_share_commits(void **state)
{
    svc s;
    static store_wop ops[NASYNC];
    actr a = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    store_writer_stats st;
    store_posts p = {0};

    (void)state;
    svc_start(&s);
    ann_and_ben_friends(&s);
    store_writer_get_stats(s.t.w, &st);
    uint64_t b0 = st.batches;
    for (int i = 0; i < NASYNC; i++) {
        ops[i] = (store_wop){.kind = STORE_OP_POST,
                             .token = store_s("Tann"),
                             .text = store_s("async"),
                             .done = async_done,
                             .arg = &a};
        assert_int_equal(store_conn_write(s.remote, &ops[i]), 0);
    }
    pthread_mutex_lock(&a.mu);
    while (a.done < NASYNC)
        pthread_cond_wait(&a.cv, &a.mu);
    pthread_mutex_unlock(&a.mu);
    assert_int_equal(a.ok, NASYNC);
    store_writer_get_stats(s.t.w, &st);
    print_message("%d async posts in %llu commits\n", NASYNC,
                  (unsigned long long)(st.batches - b0));
    assert_true(st.batches - b0 < NASYNC); /* some commits held several */
    assert_int_equal(store_conn_receive_post(s.remote, store_s("Tben"), &p),
                     STORE_OK);
    assert_int_equal(p.n, NASYNC);
    store_posts_free(&p);
    svc_stop(&s);
}

static void still_serving(svc *s);

/* ---- WriteBatch ------------------------------------------------------------
 */

static int raw_batch(rpc_client *c, Sb__Store__WriteOp **ops, size_t n,
                     Sb__Store__WriteBatchResult **r, char *msg, size_t len)
{
    Sb__Store__WriteBatchRequest req = SB__STORE__WRITE_BATCH_REQUEST__INIT;
    rpc_opts o = {.timeout_ms = 3000, .no_retry = 1};
    rpc_status st;

    req.ops = ops;
    req.n_ops = n;
    *r = NULL;
    sb_store_Store_WriteBatch(c, &req, r, &o, &st);
    snprintf(msg, len, "%s", st.message);
    return st.code;
}

static void test_write_batch(void **state)
{
    svc s;
    rpc_client *c;
    Sb__Store__WriteOp m[4], *ops[4];
    Sb__Store__WriteBatchResult *r = NULL, *r2 = NULL;
    uint8_t ids[4][STORE_REQID_LEN];
    store_posts p = {0};
    static char big[8192];
    char msg[256];

    (void)state;
    svc_start(&s);
    ann_and_ben_friends(&s);
    assert_int_equal(rpc_client_open(&c, rpc_server_url(s.srv, 0), NULL), 0);
    memset(big, 'a', sizeof big - 1);
    const char *tokens[4] = {"Tann", "Tnobody", "Tann", "Tann"};
    const char *texts[4] = {"first", "x", big, "second"};
    for (int i = 0; i < 4; i++) {
        sb__store__write_op__init(&m[i]);
        m[i].kind = SB__STORE__WRITE_KIND__WRITE_POST;
        m[i].token = (char *)tokens[i];
        m[i].text = (char *)texts[i];
        rpc_random_bytes(ids[i], STORE_REQID_LEN);
        m[i].request_id.data = ids[i];
        m[i].request_id.len = STORE_REQID_LEN;
        ops[i] = &m[i];
    }
    /* one result per op, in order; a bad op does not fail the others */
    assert_int_equal(raw_batch(c, ops, 4, &r, msg, sizeof msg), RPC_OK);
    assert_int_equal(r->n_results, 4);
    assert_int_equal(r->results[0]->res, STORE_OK);
    assert_int_equal(r->results[1]->res, STORE_NOT_LOGGED_IN);
    assert_int_equal(r->results[2]->res, STORE_INVALID_ARGUMENT);
    assert_int_equal(r->results[3]->res, STORE_OK);
    assert_true(r->results[0]->seq > 0);
    assert_true(r->results[3]->seq > r->results[0]->seq);
    /* the same batch again (a retry): each op answers its stored result */
    assert_int_equal(raw_batch(c, ops, 4, &r2, msg, sizeof msg), RPC_OK);
    assert_int_equal(r2->n_results, 4);
    assert_int_equal(r2->results[0]->seq, r->results[0]->seq);
    assert_int_equal(r2->results[3]->seq, r->results[3]->seq);
    sb_store_Store_free(r);
    sb_store_Store_free(r2);
    /* an unknown kind anywhere refuses the whole batch: nothing applied */
    rpc_random_bytes(ids[0], STORE_REQID_LEN);
    m[1].kind = (Sb__Store__WriteKind)77;
    assert_int_equal(raw_batch(c, ops, 2, &r, msg, sizeof msg),
                     RPC_INVALID_ARGUMENT);
    assert_non_null(strstr(msg, "op 1: unknown write kind 77"));
    assert_int_equal(store_conn_receive_post(s.remote, store_s("Tben"), &p),
                     STORE_OK);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.v[0].text, "first");
    assert_string_equal(p.v[1].text, "second");
    store_posts_free(&p);
    /* over the batch limit */
    static Sb__Store__WriteOp *many[STORE_SERVICE_BATCH_MAX + 1];
    for (int i = 0; i <= STORE_SERVICE_BATCH_MAX; i++)
        many[i] = &m[3];
    assert_int_equal(
        raw_batch(c, many, STORE_SERVICE_BATCH_MAX + 1, &r, msg, sizeof msg),
        RPC_INVALID_ARGUMENT);
    assert_non_null(strstr(msg, "at most 1024"));
    /* ops without a request id are never deduplicated: the same content
     * twice, one batch after another, is two posts */
    m[3].request_id.len = 0;
    m[3].request_id.data = NULL;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(raw_batch(c, &ops[3], 1, &r, msg, sizeof msg), RPC_OK);
        assert_int_equal(r->n_results, 1);
        assert_int_equal(r->results[0]->res, STORE_OK);
        sb_store_Store_free(r);
    }
    assert_int_equal(store_conn_receive_post(s.remote, store_s("Tben"), &p),
                     STORE_OK);
    assert_int_equal(p.n, 4);
    store_posts_free(&p);
    /* an empty batch is a batch of nothing */
    assert_int_equal(raw_batch(c, ops, 0, &r, msg, sizeof msg), RPC_OK);
    assert_int_equal(r->n_results, 0);
    sb_store_Store_free(r);
    still_serving(&s);
    rpc_client_close(c);
    svc_stop(&s);
}

/* Batched async writes through store_conn: a NUL byte fails its own op
 * only, every other op gets its own result. */
static void test_async_batch_results(void **state)
{
    svc s;
    static store_wop ops[64];
    actr a = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    store_posts p = {0};
    int bad = 0;

    (void)state;
    svc_start(&s);
    ann_and_ben_friends(&s);
    for (int i = 0; i < 64; i++) {
        ops[i] = (store_wop){.kind = STORE_OP_POST,
                             .token = store_s("Tann"),
                             .text = store_s("ok"),
                             .done = async_done,
                             .arg = &a};
        if (i % 16 == 5)
            ops[i].text = (store_str){"a\0b", 3};
        if (i % 16 == 9)
            ops[i].token = store_s("Tnobody");
        assert_int_equal(store_conn_write(s.remote, &ops[i]), 0);
    }
    pthread_mutex_lock(&a.mu);
    while (a.done < 64)
        pthread_cond_wait(&a.cv, &a.mu);
    pthread_mutex_unlock(&a.mu);
    for (int i = 0; i < 64; i++) {
        store_res want = i % 16 == 5   ? STORE_INVALID_ARGUMENT
                         : i % 16 == 9 ? STORE_NOT_LOGGED_IN
                                       : STORE_OK;
        assert_int_equal(ops[i].out.res, want);
        bad += want != STORE_OK;
    }
    assert_int_equal(a.ok, 64 - bad);
    assert_int_equal(store_conn_receive_post(s.remote, store_s("Tben"), &p),
                     STORE_OK);
    assert_int_equal(p.n, 64 - bad);
    store_posts_free(&p);
    svc_stop(&s);
}

/* ---- bad input ------------------------------------------------------------
 */

static int raw_write(rpc_client *c, const Sb__Store__WriteOp *m, uint32_t *res,
                     char *msg, size_t n)
{
    Sb__Store__WriteResult *r = NULL;
    rpc_opts o = {.timeout_ms = 3000, .no_retry = 1};
    rpc_status st;

    sb_store_Store_Write(c, m, &r, &o, &st);
    *res = r != NULL ? r->res : 999;
    snprintf(msg, n, "%s", st.message);
    sb_store_Store_free(r);
    return st.code;
}

static void still_serving(svc *s)
{
    store_session ss;
    assert_int_equal(store_conn_whoami(s->remote, store_s("Tann"), &ss),
                     STORE_OK);
    assert_string_equal(ss.user, "ann");
}

static void test_bad_input(void **state)
{
    svc s;
    rpc_client *c;
    Sb__Store__WriteOp m = SB__STORE__WRITE_OP__INIT;
    Sb__Store__ReadOp rm = SB__STORE__READ_OP__INIT;
    Sb__Store__ReadResult *rr = NULL;
    rpc_status st;
    uint32_t res;
    char msg[256];
    static char big[8192], huge[2 * 1024 * 1024];

    (void)state;
    svc_start(&s);
    assert_int_equal(reg_login(&s.t, "ann"), STORE_OK);
    assert_int_equal(rpc_client_open(&c, rpc_server_url(s.srv, 0), NULL), 0);
    m.kind = (Sb__Store__WriteKind)99; /* unknown kind */
    assert_int_equal(raw_write(c, &m, &res, msg, sizeof msg),
                     RPC_INVALID_ARGUMENT);
    assert_non_null(strstr(msg, "unknown write kind 99"));
    m.kind = SB__STORE__WRITE_KIND__WRITE_UNSPECIFIED;
    assert_int_equal(raw_write(c, &m, &res, msg, sizeof msg),
                     RPC_INVALID_ARGUMENT);
    still_serving(&s);
    /* missing fields: no name to register, no token to post with */
    m.kind = SB__STORE__WRITE_KIND__WRITE_REGISTER;
    assert_int_equal(raw_write(c, &m, &res, msg, sizeof msg),
                     RPC_INVALID_ARGUMENT);
    assert_non_null(strstr(msg, "store REGISTER: invalid argument"));
    m.kind = SB__STORE__WRITE_KIND__WRITE_POST;
    m.text = "x";
    assert_int_equal(raw_write(c, &m, &res, msg, sizeof msg), RPC_OK);
    assert_int_equal(res, STORE_NOT_LOGGED_IN);
    /* over the store's limit, and over the frame limit */
    memset(big, 'a', sizeof big - 1);
    m.token = "Tann";
    m.text = big;
    assert_int_equal(raw_write(c, &m, &res, msg, sizeof msg),
                     RPC_INVALID_ARGUMENT);
    memset(huge, 'a', sizeof huge - 1);
    m.text = huge;
    assert_int_not_equal(raw_write(c, &m, &res, msg, sizeof msg), RPC_OK);
    still_serving(&s);
    /* a NUL byte cannot leave store_conn */
    store_wop op = {
        .kind = STORE_OP_POST, .token = store_s("Tann"), .text = {"a\0b", 3}};
    assert_int_equal(store_conn_write_wait(s.remote, &op),
                     STORE_INVALID_ARGUMENT);
    /* unknown read kind */
    rpc_opts o = {.timeout_ms = 3000, .no_retry = 1};
    rm.kind = (Sb__Store__ReadKind)42;
    assert_int_equal(sb_store_Store_Read(c, &rm, &rr, &o, &st),
                     RPC_INVALID_ARGUMENT);
    assert_non_null(strstr(st.message, "unknown read kind 42"));
    rm.kind = SB__STORE__READ_KIND__READ_GET_USER; /* no name */
    assert_int_equal(sb_store_Store_Read(c, &rm, &rr, &o, &st),
                     RPC_INVALID_ARGUMENT);
    rm.kind = SB__STORE__READ_KIND__READ_LIST_FRIEND; /* no token */
    assert_int_equal(sb_store_Store_Read(c, &rm, &rr, &o, &st), RPC_OK);
    assert_int_equal(rr->res, STORE_NOT_LOGGED_IN);
    sb_store_Store_free(rr);
    still_serving(&s);
    rpc_client_close(c);
    svc_stop(&s);
}

/* A store that is not there: UNAVAILABLE, never a hang. */
static void test_store_down(void **state)
{
    store_conn *c;
    store_session ss;
    store_wop op = {
        .kind = STORE_OP_POST, .token = store_s("T"), .text = store_s("x")};

    (void)state;
    assert_int_equal(store_conn_remote(NULL, 0, &c), EINVAL);
    assert_int_equal(store_conn_remote("tcp://127.0.0.1:1", 1500, &c), 0);
    int64_t t0 = rpc_now_mono_ms();
    assert_int_equal(store_conn_whoami(c, store_s("T"), &ss),
                     STORE_ERR_UNAVAILABLE);
    assert_int_equal(store_conn_write_wait(c, &op), STORE_ERR_UNAVAILABLE);
    /* batched async writes end too, each with UNAVAILABLE */
    actr a = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    store_wop ops[5];
    for (int i = 0; i < 5; i++) {
        ops[i] = op;
        ops[i].done = async_done;
        ops[i].arg = &a;
        assert_int_equal(store_conn_write(c, &ops[i]), 0);
    }
    pthread_mutex_lock(&a.mu);
    while (a.done < 5)
        pthread_cond_wait(&a.cv, &a.mu);
    pthread_mutex_unlock(&a.mu);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ops[i].out.res, STORE_ERR_UNAVAILABLE);
    assert_true(rpc_now_mono_ms() - t0 < 15000);
    store_conn_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_local_and_remote),
        cmocka_unit_test(test_same_request_id_applied_once),
        cmocka_unit_test(test_async_writes_share_commits),
        cmocka_unit_test(test_write_batch),
        cmocka_unit_test(test_async_batch_results),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_store_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
