/* test_rpc.c: the RPC runtime end to end over real nng sockets on
 * loopback: envelopes, every transport, concurrency, deadlines, bad
 * frames, idempotent retries, redirects, restarts, deferred replies,
 * graceful stop, health and stats, non-blocking handlers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "echo_service.h"
#include "rpc_raw.h"
#include "health.sb.h"
#include "rpc.pb-c.h"

/* "epoll" as the first argument: every tcp:// server of these tests is
 * served by the epoll engine (RPC_TCP_EPOLL) instead of nng's rep0, so
 * the same behaviour is asserted of both (ctest: test_rpc_epoll). */
static int g_tcp_engine = RPC_TCP_NNG;

static int server_create(rpc_server **s, const rpc_server_config *cfg)
{
    rpc_server_config c = {0};
    if (cfg != NULL)
        c = *cfg;
    c.tcp_engine = g_tcp_engine;
    return rpc_server_create(s, &c);
}

typedef struct srv {
    rpc_server *s;
    echo_service *e;
} srv;

static void srv_start(srv *x, const char *url, const rpc_server_config *cfg)
{
    assert_int_equal(server_create(&x->s, cfg), 0);
    assert_int_equal(echo_service_register(x->s, &x->e), 0);
    assert_int_equal(rpc_server_listen(x->s, url), 0);
    assert_int_equal(rpc_server_start(x->s), 0);
}

static void srv_stop(srv *x)
{
    rpc_server_destroy(x->s);
    echo_service_free(x->e);
}

static int echo_once(rpc_client *c, const char *text, rpc_status *st)
{
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
    Sb__Echo__EchoReply *rep = NULL;
    req.data.data = (uint8_t *)text;
    req.data.len = strlen(text);
    req.seq = 7;
    int rv = sb_echo_Echo_Echo(c, &req, &rep, NULL, st);
    if (rv == RPC_OK) {
        assert_non_null(rep);
        assert_int_equal(rep->seq, 7);
        assert_int_equal(rep->data.len, strlen(text));
        assert_memory_equal(rep->data.data, text, strlen(text));
        sb_echo_Echo_free(rep);
    }
    return rv;
}

static void test_envelope_roundtrip(void **state)
{
    Sb__Rpc__Call c = SB__RPC__CALL__INIT;
    uint8_t id[16], body[3] = {1, 2, 3}, buf[256];
    rpc_random_bytes(id, sizeof id);
    c.method = "a.B/C";
    c.request_id.data = id;
    c.request_id.len = 16;
    c.timeout_ms = 1234;
    c.token = "tok";
    c.body.data = body;
    c.body.len = 3;
    size_t n = sb__rpc__call__pack(&c, buf);
    Sb__Rpc__Call *u = sb__rpc__call__unpack(NULL, n, buf);
    assert_non_null(u);
    assert_string_equal(u->method, "a.B/C");
    assert_memory_equal(u->request_id.data, id, 16);
    assert_int_equal(u->timeout_ms, 1234);
    assert_string_equal(u->token, "tok");
    assert_memory_equal(u->body.data, body, 3);
    sb__rpc__call__free_unpacked(u, NULL);

    Sb__Rpc__Reply r = SB__RPC__REPLY__INIT;
    r.code = SB__RPC__CODE__NOT_FOUND;
    r.message = "x does not exist";
    r.redirect = "tcp://127.0.0.1:1";
    n = sb__rpc__reply__pack(&r, buf);
    Sb__Rpc__Reply *ur = sb__rpc__reply__unpack(NULL, n, buf);
    assert_non_null(ur);
    assert_int_equal(ur->code, RPC_NOT_FOUND);
    assert_string_equal(ur->message, "x does not exist");
    assert_string_equal(ur->redirect, "tcp://127.0.0.1:1");
    sb__rpc__reply__free_unpacked(ur, NULL);
    assert_string_equal(rpc_code_name(RPC_UNAUTHENTICATED), "UNAUTHENTICATED");
    assert_string_equal(rpc_code_name(99), "UNKNOWN_CODE");
}

static void echo_over(const char *url, const rpc_server_config *scfg,
                      const rpc_client_config *ccfg)
{
    srv x;
    rpc_client *c;
    rpc_status st;
    srv_start(&x, url, scfg);
    assert_int_equal(rpc_client_open(&c, rpc_server_url(x.s, 0), ccfg), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(echo_once(c, "hello over the wire", &st), RPC_OK);
    rpc_client_close(c);
    srv_stop(&x);
}

static void test_transports(void **state)
{
    char ipc[128], dir[] = "/tmp/sb-test-rpc-XXXXXX";
    echo_over("tcp://127.0.0.1:0", NULL, NULL);
    /* ipc:// sockets live in a directory only we may write (rpc_plane.c) */
    assert_non_null(mkdtemp(dir));
    snprintf(ipc, sizeof ipc, "ipc://%s/rpc.ipc", dir);
    echo_over(ipc, NULL, NULL);
    unlink(ipc + 6);
    rmdir(dir);
    echo_over("inproc://sb-test-echo", NULL, NULL);
}

static void test_tls(void **state)
{
    char dir[] = "/tmp/sb-tls-XXXXXX", cmd[1024], cert[256], key[256];
    assert_non_null(mkdtemp(dir));
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s "
             "-days 1 -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
             ">/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0)
        skip();
    rpc_server_config scfg = {.tls = {.cert_file = cert, .key_file = key}};
    rpc_client_config ccfg = {
        .tls = {.ca_file = cert, .server_name = "localhost"}};
    echo_over("tls+tcp://127.0.0.1:0", &scfg, &ccfg);
    /* a client that trusts another CA must not get through */
    srv x;
    rpc_client *c;
    rpc_status st;
    srv_start(&x, "tls+tcp://127.0.0.1:0", &scfg);
    rpc_client_config bad = {
        .timeout_ms = 1500,
        .tls = {.ca_file = "/etc/ssl/certs/ca-certificates.crt",
                .server_name = "localhost"}};
    assert_int_equal(rpc_client_open(&c, rpc_server_url(x.s, 0), &bad), 0);
    assert_int_not_equal(echo_once(c, "x", &st), RPC_OK);
    rpc_client_close(c);
    srv_stop(&x);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

typedef struct {
    const char *url;
    int id, calls, bad;
} load_arg;

static void *load_thread(void *p)
{
    load_arg *a = p;
    rpc_client *c;
    if (rpc_client_open(&c, a->url, NULL) != 0) {
        a->bad = a->calls;
        return NULL;
    }
    for (int i = 0; i < a->calls; i++) {
        char text[64];
        snprintf(text, sizeof text, "client %d call %d", a->id, i);
        Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
        Sb__Echo__EchoReply *rep = NULL;
        rpc_status st;
        req.data.data = (uint8_t *)text;
        req.data.len = strlen(text);
        req.seq = (uint64_t)a->id * 100000 + (uint64_t)i;
        if (sb_echo_Echo_Echo(c, &req, &rep, NULL, &st) != RPC_OK ||
            rep->seq != req.seq || rep->data.len != req.data.len ||
            memcmp(rep->data.data, text, req.data.len) != 0)
            a->bad++;
        sb_echo_Echo_free(rep);
    }
    rpc_client_close(c);
    return NULL;
}

static void test_concurrent_clients(void **state)
{
    enum { CLIENTS = 64, CALLS = 1000 };
    srv x;
    pthread_t th[CLIENTS];
    load_arg args[CLIENTS];
    srv_start(&x, "tcp://127.0.0.1:0", NULL);
    for (int i = 0; i < CLIENTS; i++) {
        args[i] = (load_arg){rpc_server_url(x.s, 0), i, CALLS, 0};
        assert_int_equal(pthread_create(&th[i], NULL, load_thread, &args[i]),
                         0);
    }
    int bad = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        bad += args[i].bad;
    }
    assert_int_equal(bad, 0);
    srv_stop(&x);
}

static void test_deadline_and_unknown(void **state)
{
    srv x;
    rpc_client *c;
    rpc_status st;
    srv_start(&x, "tcp://127.0.0.1:0", NULL);
    assert_int_equal(rpc_client_open(&c, rpc_server_url(x.s, 0), NULL), 0);
    Sb__Echo__SleepRequest sr = SB__ECHO__SLEEP_REQUEST__INIT;
    Sb__Echo__SleepReply *srep = NULL;
    rpc_opts o = {.timeout_ms = 100};
    sr.ms = 400;
    assert_int_equal(sb_echo_Echo_Sleep(c, &sr, &srep, &o, &st),
                     RPC_DEADLINE_EXCEEDED);
    assert_null(srep);
    /* the handler sees the time left of the caller's budget */
    o.timeout_ms = 2000;
    sr.ms = 10;
    assert_int_equal(sb_echo_Echo_Sleep(c, &sr, &srep, &o, &st), RPC_OK);
    assert_true(srep->time_left_ms > 1500 && srep->time_left_ms <= 2000);
    sb_echo_Echo_free(srep);
    /* an unknown method */
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
    ProtobufCMessage *r = NULL;
    assert_int_equal(rpc_client_call(c, "sb.echo.Echo/Nope", &req.base,
                                     &sb__echo__echo_reply__descriptor, &r,
                                     NULL, &st),
                     RPC_UNIMPLEMENTED);
    assert_non_null(strstr(st.message, "sb.echo.Echo/Nope"));
    assert_int_equal(echo_once(c, "still serving", &st), RPC_OK);
    rpc_client_close(c);
    srv_stop(&x);
}

static void test_bad_frames(void **state)
{
    srv x;
    rpc_client *c;
    rpc_status st;
    nng_socket raw;
    srv_start(&x, "tcp://127.0.0.1:0", NULL);
    assert_int_equal(nng_req0_open(&raw), 0);
    nng_socket_set_ms(raw, NNG_OPT_RECVTIMEO, 1000);
    nng_socket_set_ms(raw, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    assert_int_equal(nng_dial(raw, rpc_server_url(x.s, 0), NULL, 0), 0);
    uint8_t junk[512];
    rpc_random_bytes(junk, sizeof junk);
    junk[0] = 0xff; /* field 31, wire type 7: never valid */
    Sb__Rpc__Reply *r = rpc_raw_call(raw, junk, sizeof junk);
    assert_non_null(r);
    assert_int_equal(r->code, RPC_INVALID_ARGUMENT);
    sb__rpc__reply__free_unpacked(r, NULL);
    /* a truncated frame: a valid Call cut in the middle of its body */
    Sb__Rpc__Call call = SB__RPC__CALL__INIT;
    uint8_t body[64], frame[256];
    memset(body, 'a', sizeof body);
    call.method = "sb.echo.Echo/Echo";
    call.body.data = body;
    call.body.len = sizeof body;
    size_t n = sb__rpc__call__pack(&call, frame);
    r = rpc_raw_call(raw, frame, n - 10);
    assert_non_null(r);
    assert_int_equal(r->code, RPC_INVALID_ARGUMENT);
    sb__rpc__reply__free_unpacked(r, NULL);
    /* a body of the wrong type: a varint where Echo wants bytes */
    Sb__Echo__AddRequest add = SB__ECHO__ADD_REQUEST__INIT;
    add.delta = 5;
    call.body.len = sb__echo__add_request__pack(&add, body);
    n = sb__rpc__call__pack(&call, frame);
    r = rpc_raw_call(raw, frame, n);
    assert_non_null(r);
    assert_int_equal(r->code, RPC_INVALID_ARGUMENT);
    assert_non_null(strstr(r->message, "sb.echo.EchoRequest"));
    sb__rpc__reply__free_unpacked(r, NULL);
    /* string fields must be UTF-8 without NUL (protobuf-c would cut a
     * C string at the NUL and the handler would see another name) */
    const struct {
        const char *bytes;
        size_t len;
        int code;
    } strs[] = {{"a\0b", 3, RPC_INVALID_ARGUMENT},
                {"\xff\xfe", 2, RPC_INVALID_ARGUMENT},
                {"\xc0\xaf", 2, RPC_INVALID_ARGUMENT}, /* overlong '/' */
                {"caf\xc3\xa9", 5, RPC_OK}};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
        body[0] = 0x0a; /* CheckRequest.service, length-delimited */
        body[1] = (uint8_t)strs[i].len;
        memcpy(body + 2, strs[i].bytes, strs[i].len);
        call.method = "sb.health.Health/Check";
        call.body.len = 2 + strs[i].len;
        n = sb__rpc__call__pack(&call, frame);
        r = rpc_raw_call(raw, frame, n);
        assert_non_null(r);
        assert_int_equal(r->code, strs[i].code);
        if (strs[i].code != RPC_OK)
            assert_non_null(strstr(r->message, "field 'service'"));
        sb__rpc__reply__free_unpacked(r, NULL);
    }
    /* 2 MiB is over the 1 MiB limit: dropped, no reply */
    size_t big = 2 * 1024 * 1024;
    uint8_t *huge = calloc(1, big);
    assert_null(rpc_raw_call(raw, huge, big));
    free(huge);
    nng_close(raw);
    /* and the server still serves good calls */
    assert_int_equal(rpc_client_open(&c, rpc_server_url(x.s, 0), NULL), 0);
    assert_int_equal(echo_once(c, "after the junk", &st), RPC_OK);
    rpc_client_close(c);
    srv_stop(&x);
}

static void test_idempotent_retry(void **state)
{
    srv x;
    rpc_client *c;
    rpc_status st;
    srv_start(&x, "tcp://127.0.0.1:0", NULL);
    assert_int_equal(rpc_client_open(&c, rpc_server_url(x.s, 0), NULL), 0);
    uint8_t id[RPC_REQUEST_ID_LEN];
    rpc_random_bytes(id, sizeof id);
    rpc_opts o = {.request_id = id};
    Sb__Echo__AddRequest req = SB__ECHO__ADD_REQUEST__INIT;
    Sb__Echo__AddReply *a = NULL, *b = NULL;
    req.delta = 5;
    assert_int_equal(sb_echo_Echo_Add(c, &req, &a, &o, &st), RPC_OK);
    assert_int_equal(sb_echo_Echo_Add(c, &req, &b, &o, &st), RPC_OK);
    assert_int_equal(a->value, 5);
    assert_int_equal(b->value, 5);
    assert_int_equal(echo_service_adds_applied(x.e), 1);
    sb_echo_Echo_free(a);
    sb_echo_Echo_free(b);
    assert_int_equal(sb_echo_Echo_Add(c, &req, &a, NULL, &st), RPC_OK);
    assert_int_equal(a->value, 10); /* a fresh id applies again */
    sb_echo_Echo_free(a);
    rpc_client_close(c);
    srv_stop(&x);
}

static int h_redirect(rpc_call *call, const ProtobufCMessage *req,
                      ProtobufCMessage *reply, void *arg)
{
    return rpc_call_redirect(call, (const char *)arg);
}

static void test_redirect(void **state)
{
    srv b;
    rpc_server *a, *loop;
    rpc_client *c;
    rpc_status st;
    srv_start(&b, "tcp://127.0.0.1:0", NULL);
    assert_int_equal(server_create(&a, NULL), 0);
    assert_int_equal(rpc_server_add_method(a, sb_echo_Echo_Echo_METHOD,
                                           &sb__echo__echo_request__descriptor,
                                           &sb__echo__echo_reply__descriptor,
                                           h_redirect,
                                           (void *)rpc_server_url(b.s, 0)),
                     0);
    assert_int_equal(rpc_server_listen(a, "tcp://127.0.0.1:0"), 0);
    assert_int_equal(rpc_server_start(a), 0);
    assert_int_equal(rpc_client_open(&c, rpc_server_url(a, 0), NULL), 0);
    assert_int_equal(echo_once(c, "follow me", &st), RPC_OK);
    assert_string_equal(st.endpoint, rpc_server_url(b.s, 0));
    rpc_client_close(c);
    /* a server that redirects to itself: bounded hops, clear error */
    static char self[320];
    assert_int_equal(server_create(&loop, NULL), 0);
    assert_int_equal(rpc_server_add_method(loop, sb_echo_Echo_Echo_METHOD,
                                           &sb__echo__echo_request__descriptor,
                                           &sb__echo__echo_reply__descriptor,
                                           h_redirect, self),
                     0);
    assert_int_equal(rpc_server_listen(loop, "tcp://127.0.0.1:0"), 0);
    snprintf(self, sizeof self, "%s", rpc_server_url(loop, 0));
    assert_int_equal(rpc_server_start(loop), 0);
    assert_int_equal(rpc_client_open(&c, self, NULL), 0);
    assert_int_equal(echo_once(c, "loop", &st), RPC_FAILED_PRECONDITION);
    assert_non_null(strstr(st.message, "too many redirects"));
    rpc_client_close(c);
    rpc_server_destroy(loop);
    rpc_server_destroy(a);
    srv_stop(&b);
}

typedef struct {
    char url[320];
    srv x;
} restart_arg;

static void *restart_later(void *p)
{
    restart_arg *r = p;
    usleep(400 * 1000);
    srv_start(&r->x, r->url, NULL);
    return NULL;
}

static void test_server_restart(void **state)
{
    restart_arg r;
    rpc_client *c;
    rpc_status st;
    pthread_t th;
    srv_start(&r.x, "tcp://127.0.0.1:0", NULL);
    snprintf(r.url, sizeof r.url, "%s", rpc_server_url(r.x.s, 0));
    assert_int_equal(rpc_client_open(&c, r.url, NULL), 0);
    assert_int_equal(echo_once(c, "before", &st), RPC_OK);
    srv_stop(&r.x);
    /* down: a short call fails cleanly with UNAVAILABLE */
    rpc_opts quick = {.timeout_ms = 300};
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
    Sb__Echo__EchoReply *rep = NULL;
    int rv = sb_echo_Echo_Echo(c, &req, &rep, &quick, &st);
    assert_true(rv == RPC_UNAVAILABLE || rv == RPC_DEADLINE_EXCEEDED);
    /* back up while a call is retrying: the client recovers */
    assert_int_equal(pthread_create(&th, NULL, restart_later, &r), 0);
    assert_int_equal(echo_once(c, "after", &st), RPC_OK);
    pthread_join(th, NULL);
    rpc_client_close(c);
    srv_stop(&r.x);
}

typedef struct {
    rpc_call *call;
    int early;
} defer_arg;

static void *finish_later(void *p)
{
    rpc_call *call = p;
    usleep(50 * 1000);
    Sb__Echo__EchoReply *r = (Sb__Echo__EchoReply *)rpc_call_reply(call);
    r->seq = 42;
    rpc_call_finish(call, RPC_OK);
    return NULL;
}

static int h_defer(rpc_call *call, const ProtobufCMessage *req,
                   ProtobufCMessage *reply, void *arg)
{
    const Sb__Echo__EchoRequest *in = (const Sb__Echo__EchoRequest *)req;
    pthread_t th;
    if (in->seq == 1) { /* finish before even returning RPC_DEFER */
        ((Sb__Echo__EchoReply *)reply)->seq = 42;
        rpc_call_finish(call, RPC_OK);
        return RPC_DEFER;
    }
    if (pthread_create(&th, NULL, finish_later, call) != 0)
        return RPC_INTERNAL;
    pthread_detach(th);
    return RPC_DEFER;
}

/* RPC_DEFER from a worker (nonblocking 0) or from nng's thread (1). */
static void deferred_on(int nonblocking)
{
    rpc_server *s;
    rpc_client *c;
    rpc_status st;
    rpc_server_config cfg = {.workers = 2};
    assert_int_equal(server_create(&s, &cfg), 0);
    assert_int_equal(rpc_server_add_method(s, sb_echo_Echo_Echo_METHOD,
                                           &sb__echo__echo_request__descriptor,
                                           &sb__echo__echo_reply__descriptor,
                                           h_defer, NULL),
                     0);
    assert_int_equal(
        rpc_server_set_nonblocking(s, sb_echo_Echo_Echo_METHOD, nonblocking),
        0);
    assert_int_equal(rpc_server_listen(s, "tcp://127.0.0.1:0"), 0);
    assert_int_equal(rpc_server_start(s), 0);
    assert_int_equal(rpc_client_open(&c, rpc_server_url(s, 0), NULL), 0);
    /* more parked calls than workers: each worker takes a fresh context */
    for (uint64_t i = 0; i < 20; i++) {
        Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
        Sb__Echo__EchoReply *rep = NULL;
        req.seq = i % 2;
        assert_int_equal(sb_echo_Echo_Echo(c, &req, &rep, NULL, &st), RPC_OK);
        assert_int_equal(rep->seq, 42);
        sb_echo_Echo_free(rep);
    }
    rpc_client_close(c);
    rpc_server_destroy(s);
}

static void test_deferred(void **state)
{
    deferred_on(0);
    deferred_on(1);
}

typedef struct {
    int done, code;
    pthread_mutex_t mu;
} sleep_wait;

static void sleep_done(void *arg, const rpc_status *st,
                       Sb__Echo__SleepReply *reply)
{
    sleep_wait *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    w->code = st->code;
    pthread_mutex_unlock(&w->mu);
    sb_echo_Echo_free(reply);
}

static int sleep_is_done(sleep_wait *w)
{
    pthread_mutex_lock(&w->mu);
    int d = w->done;
    pthread_mutex_unlock(&w->mu);
    return d;
}

/* Calls in flight on the server, through Admin/Stats. */
static uint64_t in_flight(rpc_client *c)
{
    Sb__Health__StatsRequest sq = SB__HEALTH__STATS_REQUEST__INIT;
    Sb__Health__StatsReply *sr = NULL;
    rpc_status st;
    assert_int_equal(sb_health_Admin_Stats(c, &sq, &sr, NULL, &st), RPC_OK);
    uint64_t n = sr->in_flight;
    sb_health_Admin_free(sr);
    return n;
}

/* With the only worker busy in Sleep, Echo still answers when it is
 * declared non-blocking (it runs on nng's thread), and waits for the
 * worker when it is not. The Stats call that watches is itself
 * non-blocking (built in), else it would wait too. */
static void one_worker_busy(int echo_nonblocking)
{
    srv x;
    rpc_client *c;
    rpc_status st;
    sleep_wait w = {0, -1, PTHREAD_MUTEX_INITIALIZER};
    rpc_server_config cfg = {.workers = 1};
    assert_int_equal(server_create(&x.s, &cfg), 0);
    assert_int_equal(echo_service_register(x.s, &x.e), 0);
    assert_int_equal(rpc_server_set_nonblocking(x.s, sb_echo_Echo_Echo_METHOD,
                                                echo_nonblocking),
                     0);
    assert_int_equal(rpc_server_listen(x.s, "tcp://127.0.0.1:0"), 0);
    assert_int_equal(rpc_server_start(x.s), 0);
    assert_int_equal(rpc_client_open(&c, rpc_server_url(x.s, 0), NULL), 0);
    Sb__Echo__SleepRequest sr = SB__ECHO__SLEEP_REQUEST__INIT;
    sr.ms = 1500;
    assert_int_equal(sb_echo_Echo_Sleep_async(c, &sr, sleep_done, &w, NULL), 0);
    for (int i = 0; i < 500 && in_flight(c) < 2; i++) /* Sleep + Stats */
        usleep(2000);
    usleep(50 * 1000); /* the worker has taken Sleep off the queue */
    int64_t t0 = rpc_now_mono_ms();
    assert_int_equal(echo_once(c, "past the busy worker", &st), RPC_OK);
    if (echo_nonblocking) /* answered while the worker still sleeps */
        assert_false(sleep_is_done(&w));
    else /* answered once the worker got free, about 1.4 s later */
        assert_true(rpc_now_mono_ms() - t0 >= 1000);
    for (int i = 0; i < 500 && !sleep_is_done(&w); i++)
        usleep(10 * 1000);
    assert_int_equal(w.code, RPC_OK);
    rpc_client_close(c);
    srv_stop(&x);
}

static void test_nonblocking(void **state)
{
    rpc_server *s;
    echo_service *e;
    one_worker_busy(1);
    one_worker_busy(0);
    assert_int_equal(server_create(&s, NULL), 0);
    assert_int_equal(echo_service_register(s, &e), 0);
    assert_int_equal(rpc_server_set_nonblocking(s, "sb.echo.Echo", 1), 0);
    assert_int_equal(rpc_server_set_nonblocking(s, "sb.echo.Ech", 1),
                     NNG_ENOENT); /* a service name is matched whole */
    assert_int_equal(rpc_server_set_nonblocking(s, "no.such/Method", 1),
                     NNG_ENOENT);
    assert_int_equal(rpc_server_listen(s, "inproc://nonblocking"), 0);
    assert_int_equal(rpc_server_start(s), 0);
    assert_int_equal(rpc_server_set_nonblocking(s, "sb.echo.Echo", 0),
                     NNG_EBUSY);
    rpc_server_destroy(s);
    echo_service_free(e);
}

typedef struct {
    int done, ok;
    pthread_mutex_t mu;
} async_count;

static void async_done(void *arg, const rpc_status *st,
                       Sb__Echo__EchoReply *reply)
{
    async_count *a = arg;
    pthread_mutex_lock(&a->mu);
    a->done++;
    if (st->code == RPC_OK && reply != NULL && reply->seq < 200)
        a->ok++;
    pthread_mutex_unlock(&a->mu);
    sb_echo_Echo_free(reply);
}

static void test_async_in_flight(void **state)
{
    srv x;
    rpc_client *c;
    async_count a = {0, 0, PTHREAD_MUTEX_INITIALIZER};
    srv_start(&x, "tcp://127.0.0.1:0", NULL);
    assert_int_equal(rpc_client_open(&c, rpc_server_url(x.s, 0), NULL), 0);
    for (uint64_t i = 0; i < 200; i++) {
        Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
        req.seq = i;
        assert_int_equal(sb_echo_Echo_Echo_async(c, &req, async_done, &a, NULL),
                         0);
    }
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&a.mu);
        int d = a.done;
        pthread_mutex_unlock(&a.mu);
        if (d == 200)
            break;
        usleep(10 * 1000);
    }
    assert_int_equal(a.done, 200);
    assert_int_equal(a.ok, 200);
    rpc_client_close(c);
    srv_stop(&x);
}

static void *stop_soon(void *p)
{
    usleep(100 * 1000);
    rpc_server_stop(p);
    return NULL;
}

static void test_graceful_stop(void **state)
{
    srv x;
    rpc_client *c;
    rpc_status st;
    pthread_t th;
    srv_start(&x, "tcp://127.0.0.1:0", NULL);
    assert_int_equal(rpc_client_open(&c, rpc_server_url(x.s, 0), NULL), 0);
    assert_int_equal(pthread_create(&th, NULL, stop_soon, x.s), 0);
    Sb__Echo__SleepRequest sr = SB__ECHO__SLEEP_REQUEST__INIT;
    Sb__Echo__SleepReply *rep = NULL;
    sr.ms = 400; /* in flight when the stop begins: it still finishes */
    assert_int_equal(sb_echo_Echo_Sleep(c, &sr, &rep, NULL, &st), RPC_OK);
    sb_echo_Echo_free(rep);
    pthread_join(th, NULL);
    rpc_client_close(c);
    srv_stop(&x);
}

static void test_health_and_stats(void **state)
{
    srv x;
    rpc_client *c;
    rpc_status st;
    srv_start(&x, "tcp://127.0.0.1:0", NULL);
    assert_int_equal(rpc_client_open(&c, rpc_server_url(x.s, 0), NULL), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(echo_once(c, "count me", &st), RPC_OK);
    Sb__Health__CheckRequest cr = SB__HEALTH__CHECK_REQUEST__INIT;
    Sb__Health__CheckReply *ch = NULL;
    const char *names[] = {"", "sb.echo.Echo", "no.such.Service"};
    int want[] = {SB__HEALTH__CHECK_REPLY__SERVING_STATUS__SERVING,
                  SB__HEALTH__CHECK_REPLY__SERVING_STATUS__SERVING,
                  SB__HEALTH__CHECK_REPLY__SERVING_STATUS__SERVICE_UNKNOWN};
    for (int i = 0; i < 3; i++) {
        cr.service = (char *)names[i];
        assert_int_equal(sb_health_Health_Check(c, &cr, &ch, NULL, &st),
                         RPC_OK);
        assert_int_equal(ch->status, want[i]);
        sb_health_Health_free(ch);
    }
    rpc_server_set_serving(x.s, "sb.echo.Echo", 0);
    cr.service = "sb.echo.Echo";
    assert_int_equal(sb_health_Health_Check(c, &cr, &ch, NULL, &st), RPC_OK);
    assert_int_equal(ch->status,
                     SB__HEALTH__CHECK_REPLY__SERVING_STATUS__NOT_SERVING);
    sb_health_Health_free(ch);
    Sb__Health__ListMethodsRequest lr = SB__HEALTH__LIST_METHODS_REQUEST__INIT;
    Sb__Health__ListMethodsReply *lm = NULL;
    assert_int_equal(sb_health_Health_ListMethods(c, &lr, &lm, NULL, &st),
                     RPC_OK);
    int found = 0;
    for (size_t i = 0; i < lm->n_methods; i++)
        found += strcmp(lm->methods[i], "sb.echo.Echo/Add") == 0;
    assert_int_equal(found, 1);
    sb_health_Health_free(lm);
    Sb__Health__StatsRequest sq = SB__HEALTH__STATS_REQUEST__INIT;
    Sb__Health__StatsReply *sr = NULL;
    assert_int_equal(sb_health_Admin_Stats(c, &sq, &sr, NULL, &st), RPC_OK);
    uint64_t echo_calls = 0, bucket_sum = 0;
    for (size_t i = 0; i < sr->n_methods; i++)
        if (strcmp(sr->methods[i]->method, "sb.echo.Echo/Echo") == 0) {
            echo_calls = sr->methods[i]->calls;
            for (size_t b = 0; b < sr->methods[i]->n_buckets; b++)
                bucket_sum += sr->methods[i]->buckets[b];
        }
    assert_int_equal(echo_calls, 10);
    assert_int_equal(bucket_sum, 10);
    sb_health_Admin_free(sr);
    rpc_client_close(c);
    srv_stop(&x);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "epoll") == 0)
        g_tcp_engine = RPC_TCP_EPOLL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_roundtrip),
        cmocka_unit_test(test_transports),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_concurrent_clients),
        cmocka_unit_test(test_deadline_and_unknown),
        cmocka_unit_test(test_bad_frames),
        cmocka_unit_test(test_idempotent_retry),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_server_restart),
        cmocka_unit_test(test_deferred),
        cmocka_unit_test(test_nonblocking),
        cmocka_unit_test(test_async_in_flight),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_health_and_stats),
    };
    if (getenv("SB_TEST_FILTER") != NULL) /* run one: SB_TEST_FILTER=name */
        cmocka_set_test_filter(getenv("SB_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
