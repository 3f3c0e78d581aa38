/* test_rpc_sp.c: adversarial tests of the epoll engine (rpc_sp_tcp.c)
 * through raw TCP sockets speaking (and misspeaking) the SP wire protocol
 * to a real rpc_server on 127.0.0.1: handshakes, frame limits,
 * backtraces, split and pipelined frames, a peer that never reads, churn,
 * late replies to closed connections, and stop with connections open.
 * The server's accepted sockets live in this process, so /proc/self/fd
 * tells whether the engine really closed a connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "echo_service.h"
#include "rpc.pb-c.h"
#include "rpc_raw.h"
#include "sb_netutil.h"

#define IO_MS 2000 /* every wait on a socket is bounded by this */
#define LATER_METHOD "sb.test.Late/Later"

static const uint8_t req_hello[8] = {0, 'S', 'P', 0, 0x00, 0x30, 0, 0};
static const uint8_t rep_hello[8] = {0, 'S', 'P', 0, 0x00, 0x31, 0, 0};

/* ---- a deferring method: answers from its own thread seq ms later ---- */

typedef struct late {
    pthread_mutex_t mu;
    pthread_t th[64];
    int n;
} late;

typedef struct late_job {
    rpc_call *call;
    uint64_t ms;
} late_job;

static void *late_finish(void *p)
{
    late_job *j = p;
    usleep((useconds_t)j->ms * 1000);
    Sb__Echo__EchoReply *r = (Sb__Echo__EchoReply *)rpc_call_reply(j->call);
    r->seq = j->ms;
    rpc_call_finish(j->call, RPC_OK);
    free(j);
    return NULL;
}

static int h_later(rpc_call *call, const ProtobufCMessage *req,
                   ProtobufCMessage *reply, void *arg)
{
    late *lt = arg;
    late_job *j = malloc(sizeof *j);
    (void)reply;
    if (j == NULL)
        return RPC_RESOURCE_EXHAUSTED;
    j->call = call;
    j->ms = ((const Sb__Echo__EchoRequest *)req)->seq;
    pthread_mutex_lock(&lt->mu);
    int ok =
        lt->n < 64 && pthread_create(&lt->th[lt->n], NULL, late_finish, j) == 0;
    if (ok)
        lt->n++;
    pthread_mutex_unlock(&lt->mu);
    if (!ok) {
        free(j);
        return RPC_RESOURCE_EXHAUSTED;
    }
    return RPC_DEFER;
}

static void late_join(late *lt)
{
    pthread_mutex_lock(&lt->mu);
    for (int i = 0; i < lt->n; i++)
        pthread_join(lt->th[i], NULL);
    lt->n = 0;
    pthread_mutex_unlock(&lt->mu);
}

/* ---- the server under test ---- */

typedef struct fx {
    rpc_server *s;
    echo_service *e;
    late lt;
    int port;
    int base_fds; /* open descriptors with no test connection open */
} fx;

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    assert_non_null(d);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* Waits (bounded) for the open descriptors to come down to n; the count
 * at the end. */
static int wait_fds(int n)
{
    int now = count_fds();
    for (int i = 0; i < IO_MS / 10 && now > n; i++) {
        usleep(10 * 1000);
        now = count_fds();
    }
    return now;
}

static void fx_start(fx *f, const rpc_server_config *cfg)
{
    rpc_server_config c = {0};
    if (cfg != NULL)
        c = *cfg;
    c.tcp_engine = RPC_TCP_EPOLL;
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lt.mu, NULL);
    assert_int_equal(rpc_server_create(&f->s, &c), 0);
    assert_int_equal(echo_service_register(f->s, &f->e), 0);
    assert_int_equal(rpc_server_add_method(f->s, LATER_METHOD,
                                           &sb__echo__echo_request__descriptor,
                                           &sb__echo__echo_reply__descriptor,
                                           h_later, &f->lt),
                     0);
    assert_int_equal(rpc_server_listen(f->s, "tcp://127.0.0.1:0"), 0);
    assert_int_equal(rpc_server_start(f->s), 0);
    const char *url = rpc_server_url(f->s, 0);
    assert_non_null(url);
    f->port = atoi(strrchr(url, ':') + 1);
    assert_true(f->port > 0);
}

static void fx_stop(fx *f)
{
    rpc_server_destroy(f->s);
    late_join(&f->lt);
    echo_service_free(f->e);
    pthread_mutex_destroy(&f->lt.mu);
}

/* ---- raw SP over TCP ---- */

static int tcp_connect(int port)
{
    int fd = sb_connect_loopback(port);
    assert_true(fd >= 0);
    return fd;
}

/* Writes all of buf (poll-bounded); 0, or -1 (errno set, ETIMEDOUT when
 * the peer stopped taking bytes). */
static int put(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        int pr = poll(&pf, 1, IO_MS);
        if (pr == 0)
            errno = ETIMEDOUT;
        if (pr <= 0)
            return -1;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes: 1, 0 at EOF or reset, -1 on timeout. */
static int get(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, IO_MS) <= 0)
            return -1;
        ssize_t r = recv(fd, p, n, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return 0;
        if (r < 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 1;
}

/* Whether the server closes fd within IO_MS (whatever it sent first is
 * discarded): EOF or a reset. */
static int sees_close(int fd)
{
    uint8_t junk[65536];
    for (int i = 0; i < 4096; i++) {
        int r = get(fd, junk, 1);
        if (r <= 0)
            return r == 0;
    }
    return 0;
}

/* Whether nothing at all arrives on fd for ms. */
static int stays_quiet(int fd, int ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    return poll(&pf, 1, ms) == 0;
}

/* A connection that has exchanged handshakes with the server. */
static int sp_open(int port)
{
    int fd = tcp_connect(port);
    uint8_t h[8];
    assert_int_equal(put(fd, req_hello, 8), 0);
    assert_int_equal(get(fd, h, 8), 1);
    assert_memory_equal(h, rep_hello, 8);
    return fd;
}

/* Closes fd with a reset (SO_LINGER 0) instead of a FIN. */
static void close_rst(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Appends to *buf (at *len) one frame: the backtrace words bt[0..nbt)
 * then the payload. */
static void frame_add(uint8_t **buf, size_t *len, const uint32_t *bt, int nbt,
                      const void *pay, size_t pn)
{
    size_t fl = 4 * (size_t)nbt + pn;
    *buf = realloc(*buf, *len + 8 + fl);
    assert_non_null(*buf);
    uint8_t *p = *buf + *len;
    put_be(p, fl, 8);
    for (int i = 0; i < nbt; i++)
        put_be(p + 8 + 4 * i, bt[i], 4);
    if (pn > 0)
        memcpy(p + 8 + 4 * nbt, pay, pn);
    *len += 8 + fl;
}

/* A packed Call of method with body (any request message); *n its size.
 * The caller frees it. */
static uint8_t *pack_call(const char *method, const ProtobufCMessage *body,
                          size_t *n)
{
    size_t bn = protobuf_c_message_get_packed_size(body);
    uint8_t *b = malloc(bn ? bn : 1);
    assert_non_null(b);
    protobuf_c_message_pack(body, b);
    Sb__Rpc__Call c = SB__RPC__CALL__INIT;
    c.method = (char *)method;
    c.body.data = b;
    c.body.len = bn;
    *n = sb__rpc__call__get_packed_size(&c);
    uint8_t *out = malloc(*n);
    assert_non_null(out);
    sb__rpc__call__pack(&c, out);
    free(b);
    return out;
}

/* Appends a one-word-backtrace frame of an EchoRequest (text, seq) call
 * of method (Echo, or the deferring Later) to *buf. */
static void echo_add(uint8_t **buf, size_t *len, const char *method,
                     uint32_t id, const void *data, size_t dn, uint64_t seq)
{
    Sb__Echo__EchoRequest er = SB__ECHO__ECHO_REQUEST__INIT;
    er.data.data = (uint8_t *)data;
    er.data.len = dn;
    er.seq = seq;
    size_t cn;
    uint8_t *call = pack_call(method, &er.base, &cn);
    frame_add(buf, len, &id, 1, call, cn);
    free(call);
}

/* Sends one Echo-typed call frame. */
static void send_echo(int fd, const char *method, uint32_t id, const char *text,
                      uint64_t seq)
{
    size_t len = 0;
    uint8_t *buf = NULL;
    echo_add(&buf, &len, method, id, text, strlen(text), seq);
    assert_int_equal(put(fd, buf, len), 0);
    free(buf);
}

/* Reads one reply frame: its backtrace (nbt words, checked to end with
 * the high bit) into bt, and the Reply (caller frees), or NULL on EOF. */
static Sb__Rpc__Reply *read_reply(int fd, uint32_t *bt, int nbt)
{
    uint8_t h[8];
    if (get(fd, h, 8) != 1)
        return NULL;
    uint64_t fl = get_be(h, 8);
    assert_true(fl >= 4 * (uint64_t)nbt && fl < (64u << 20));
    uint8_t *p = malloc(fl ? fl : 1);
    assert_non_null(p);
    assert_int_equal(get(fd, p, fl), 1);
    for (int i = 0; i < nbt; i++) {
        bt[i] = (uint32_t)get_be(p + 4 * i, 4);
        assert_int_equal(!!(bt[i] & 0x80000000u), i == nbt - 1);
    }
    Sb__Rpc__Reply *r =
        sb__rpc__reply__unpack(NULL, fl - 4 * (size_t)nbt, p + 4 * nbt);
    free(p);
    assert_non_null(r);
    return r;
}

/* Reads a reply and checks it is an OK Echo reply of text/seq for id. */
static void expect_echo(int fd, uint32_t id, const char *text, uint64_t seq)
{
    uint32_t bt;
    Sb__Rpc__Reply *r = read_reply(fd, &bt, 1);
    assert_non_null(r);
    assert_int_equal(bt, id);
    assert_int_equal(r->code, RPC_OK);
    Sb__Echo__EchoReply *er =
        sb__echo__echo_reply__unpack(NULL, r->body.len, r->body.data);
    assert_non_null(er);
    assert_int_equal(er->seq, seq);
    assert_int_equal(er->data.len, strlen(text));
    assert_memory_equal(er->data.data, text, strlen(text));
    sb__echo__echo_reply__free_unpacked(er, NULL);
    sb__rpc__reply__free_unpacked(r, NULL);
}

/* A normal rpc_client (nng req0 underneath) call still answers. */
static void still_serves(fx *f)
{
    rpc_client *c;
    rpc_status st;
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
    Sb__Echo__EchoReply *rep = NULL;
    req.data.data = (uint8_t *)"still here";
    req.data.len = 10;
    req.seq = 99;
    assert_int_equal(rpc_client_open(&c, rpc_server_url(f->s, 0), NULL), 0);
    assert_int_equal(sb_echo_Echo_Echo(c, &req, &rep, NULL, &st), RPC_OK);
    assert_int_equal(rep->seq, 99);
    assert_int_equal(rep->data.len, 10);
    assert_memory_equal(rep->data.data, "still here", 10);
    sb_echo_Echo_free(rep);
    rpc_client_close(c);
}

/* ---- the cases (one server for all but the stop case) ---- */

#define RECV_MAX (128 * 1024)

/* Not SP, or SP from a peer that is not REQ: closed; others unaffected. */
static void test_handshake(void **state)
{
    fx *f = *state;
    int base = count_fds();
    int good = sp_open(f->port);
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    static const uint8_t bad[][8] = {
        {0, 'S', 'P', 0, 0x00, 0x31, 0, 0}, /* REP talking to REP */
        {0, 'S', 'P', 0, 0x00, 0x10, 0, 0}, /* PAIR */
        {0, 'X', 'P', 0, 0x00, 0x30, 0, 0}, /* not SP */
        {1, 'S', 'P', 0, 0x00, 0x30, 0, 0}, /* not SP */
    };
    int fd = tcp_connect(f->port);
    assert_int_equal(put(fd, http, sizeof http - 1), 0);
    assert_true(sees_close(fd));
    close(fd);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fd = tcp_connect(f->port);
        assert_int_equal(put(fd, bad[i], 8), 0);
        assert_true(sees_close(fd));
        close(fd);
    }
    /* the good connection, greeted before all that, still calls */
    send_echo(good, sb_echo_Echo_Echo_METHOD, 0x80000001u, "after", 1);
    expect_echo(good, 0x80000001u, "after", 1);
    close(good);
    assert_true(wait_fds(base) <= base);
}

/* A peer that connects and never finishes its handshake is closed after
 * 10 s, as nng does; a greeted connection idle as long stays open. */
static void test_hello_timeout(void **state)
{
    fx *f = *state;
    int good = sp_open(f->port);
    int mute = tcp_connect(f->port), half = tcp_connect(f->port);
    assert_int_equal(put(half, req_hello, 5), 0); /* 5 of the 8 bytes */
    uint8_t h[8];
    assert_int_equal(get(mute, h, 8), 1); /* the server greets at once */
    assert_int_equal(get(half, h, 8), 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct pollfd pf[2] = {{.fd = mute, .events = POLLIN},
                           {.fd = half, .events = POLLIN}};
    int closed = 0;
    while (closed < 2) { /* both must close, within 9..13 s */
        assert_true(poll(pf, 2, 13000) > 0);
        for (int i = 0; i < 2; i++)
            if (pf[i].fd >= 0 && (pf[i].revents & (POLLIN | POLLHUP))) {
                assert_int_equal(get(pf[i].fd, h, 1), 0);
                close(pf[i].fd);
                pf[i].fd = -1;
                closed++;
            }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(s >= 8.5 && s <= 13.0);
    send_echo(good, sb_echo_Echo_Echo_METHOD, 0x80000002u, "idle", 2);
    expect_echo(good, 0x80000002u, "idle", 2);
    close(good);
}

/* recv_max is a frame's limit: at it served, one byte over (or a length
 * no machine has) closes the connection. */
static void test_frame_limit(void **state)
{
    fx *f = *state;
    int base = count_fds(), good = sp_open(f->port), fd = sp_open(f->port);
    uint8_t *data = calloc(1, RECV_MAX), *buf = NULL;
    size_t len = 0;
    assert_non_null(data);
    memset(data, 'z', RECV_MAX);
    /* the largest data whose frame (4-byte backtrace + Call) fits */
    size_t dn = RECV_MAX;
    for (;; dn--) {
        len = 0;
        echo_add(&buf, &len, sb_echo_Echo_Echo_METHOD, 0x80000002u, data, dn,
                 2);
        if (len - 8 <= RECV_MAX)
            break;
    }
    assert_int_equal(len - 8, RECV_MAX); /* exactly at the limit */
    assert_int_equal(put(fd, buf, len), 0);
    uint32_t bt;
    Sb__Rpc__Reply *r = read_reply(fd, &bt, 1);
    assert_non_null(r);
    assert_int_equal(bt, 0x80000002u);
    assert_int_equal(r->code, RPC_OK);
    sb__rpc__reply__free_unpacked(r, NULL);
    /* one byte more: only the length is needed to drop the peer */
    uint8_t hdr[8 + 16] = {0};
    put_be(hdr, RECV_MAX + 1, 8);
    assert_int_equal(put(fd, hdr, sizeof hdr), 0);
    assert_true(sees_close(fd));
    close(fd);
    fd = sp_open(f->port);
    memset(hdr, 0xff, 8);
    assert_int_equal(put(fd, hdr, sizeof hdr), 0);
    assert_true(sees_close(fd));
    close(fd);
    send_echo(good, sb_echo_Echo_Echo_METHOD, 0x80000003u, "ok", 3);
    expect_echo(good, 0x80000003u, "ok", 3);
    close(good);
    free(buf);
    free(data);
    assert_true(wait_fds(base) <= base);
}

/* A backtrace with no end closes the connection; one over 8 words is a
 * message dropped on a connection that stays usable; 8 words are served
 * and all 8 come back. */
static void test_backtrace(void **state)
{
    fx *f = *state;
    int base = count_fds();
    uint8_t two[2] = {0x80, 0};
    uint32_t open3[3] = {1, 2, 3};
    struct {
        const uint32_t *bt;
        int nbt;
        const void *pay;
        size_t pn;
    } kick[] = {{NULL, 0, NULL, 0},
                {NULL, 0, two, 2},
                {open3, 3, NULL, 0},
                {open3, 3, two, 2}};
    for (size_t i = 0; i < sizeof kick / sizeof *kick; i++) {
        int fd = sp_open(f->port);
        uint8_t *buf = NULL;
        size_t len = 0;
        frame_add(&buf, &len, kick[i].bt, kick[i].nbt, kick[i].pay, kick[i].pn);
        assert_int_equal(put(fd, buf, len), 0);
        assert_true(sees_close(fd));
        close(fd);
        free(buf);
    }
    int fd = sp_open(f->port);
    size_t cn;
    Sb__Echo__EchoRequest er = SB__ECHO__ECHO_REQUEST__INIT;
    er.seq = 8;
    uint8_t *call = pack_call(sb_echo_Echo_Echo_METHOD, &er.base, &cn);
    uint32_t hops[10];
    for (int i = 0; i < 10; i++)
        hops[i] = 0x1000u + (uint32_t)i;
    hops[8] = 0x80000009u; /* nine words: over nng's default max TTL */
    uint8_t *buf = NULL;
    size_t len = 0;
    frame_add(&buf, &len, hops, 9, call, cn);
    uint8_t zeros[64] = {0}; /* sixteen words, none the last */
    frame_add(&buf, &len, NULL, 0, zeros, sizeof zeros);
    hops[7] = 0x80000008u; /* eight words: served, all eight echoed */
    frame_add(&buf, &len, hops, 8, call, cn);
    assert_int_equal(put(fd, buf, len), 0);
    uint32_t bt[8];
    Sb__Rpc__Reply *r = read_reply(fd, bt, 8);
    assert_non_null(r);
    assert_memory_equal(bt, hops, sizeof bt);
    assert_int_equal(r->code, RPC_OK);
    sb__rpc__reply__free_unpacked(r, NULL);
    send_echo(fd, sb_echo_Echo_Echo_METHOD, 0x80000010u, "next", 10);
    expect_echo(fd, 0x80000010u, "next", 10);
    assert_true(stays_quiet(fd, 100)); /* and the dropped two never came */
    close(fd);
    free(buf);
    free(call);
    assert_true(wait_fds(base) <= base);
}

/* Calls that do not decode or name no method get the same Reply (code
 * and message) from the epoll engine as from nng's rep0. */
static void test_bad_calls(void **state)
{
    fx *f = *state;
    rpc_server *ns;
    rpc_server_config nc = {.tcp_engine = RPC_TCP_NNG};
    nng_socket req;
    assert_int_equal(rpc_server_create(&ns, &nc), 0);
    assert_int_equal(rpc_server_listen(ns, "tcp://127.0.0.1:0"), 0);
    assert_int_equal(rpc_server_start(ns), 0);
    assert_int_equal(nng_req0_open(&req), 0);
    nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, IO_MS);
    nng_socket_set_ms(req, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    assert_int_equal(nng_dial(req, rpc_server_url(ns, 0), NULL, 0), 0);
    uint8_t junk[64];
    memset(junk, 0xff, sizeof junk); /* field 31, wire type 7 */
    Sb__Rpc__Call c = SB__RPC__CALL__INIT;
    c.method = "sb.nope.Nope/Nothing";
    uint8_t unknown[64];
    size_t un = sb__rpc__call__pack(&c, unknown);
    struct {
        const void *p;
        size_t n;
        int code;
    } cases[] = {{junk, sizeof junk, RPC_INVALID_ARGUMENT},
                 {unknown, un, RPC_UNIMPLEMENTED},
                 {"", 0, RPC_UNIMPLEMENTED}}; /* empty Call: method "" */
    int fd = sp_open(f->port);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        uint32_t id = 0x80000020u + (uint32_t)i, bt;
        frame_add(&buf, &len, &id, 1, cases[i].p, cases[i].n);
        assert_int_equal(put(fd, buf, len), 0);
        free(buf);
        Sb__Rpc__Reply *r = read_reply(fd, &bt, 1);
        Sb__Rpc__Reply *want = rpc_raw_call(req, cases[i].p, cases[i].n);
        assert_non_null(r);
        assert_non_null(want);
        assert_int_equal(bt, id);
        assert_int_equal(r->code, cases[i].code);
        assert_int_equal(want->code, cases[i].code);
        assert_string_equal(r->message, want->message);
        sb__rpc__reply__free_unpacked(r, NULL);
        sb__rpc__reply__free_unpacked(want, NULL);
    }
    send_echo(fd, sb_echo_Echo_Echo_METHOD, 0x80000030u, "fine", 30);
    expect_echo(fd, 0x80000030u, "fine", 30);
    close(fd);
    nng_close(req);
    rpc_server_destroy(ns);
}

/* The handshake and 3 frames one byte per write: every reply. */
static void test_split(void **state)
{
    fx *f = *state;
    int base = count_fds(), fd = tcp_connect(f->port), one = 1;
    uint8_t *buf = NULL, h[8];
    size_t len = 8;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    buf = malloc(8);
    assert_non_null(buf);
    memcpy(buf, req_hello, 8);
    for (uint32_t i = 0; i < 3; i++)
        echo_add(&buf, &len, sb_echo_Echo_Echo_METHOD, 0x80000040u + i, "split",
                 5, i);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(put(fd, buf + i, 1), 0);
        usleep(100); /* most bytes arrive in a segment, and a read, alone */
    }
    assert_int_equal(get(fd, h, 8), 1);
    assert_memory_equal(h, rep_hello, 8);
    for (uint32_t i = 0; i < 3; i++)
        expect_echo(fd, 0x80000040u + i, "split", i);
    close(fd);
    free(buf);
    assert_true(wait_fds(base) <= base);
}

/* The handshake and 64 calls in one write, even ones echoed inline, odd
 * ones deferred 0-4 ms: every reply, each with its own backtrace. */
static void test_pipelined(void **state)
{
    fx *f = *state;
    enum { N = 64 };
    int base = count_fds(), fd = tcp_connect(f->port);
    uint8_t *buf = malloc(8), h[8];
    size_t len = 8;
    assert_non_null(buf);
    memcpy(buf, req_hello, 8);
    for (uint32_t i = 0; i < N; i++) {
        char text[16];
        snprintf(text, sizeof text, "p%u", i);
        echo_add(&buf, &len, i % 2 ? LATER_METHOD : sb_echo_Echo_Echo_METHOD,
                 0x80000100u + i, text, strlen(text), i % 2 ? i % 5 : i);
    }
    assert_int_equal(put(fd, buf, len), 0);
    assert_int_equal(get(fd, h, 8), 1);
    int seen[N] = {0};
    for (int k = 0; k < N; k++) {
        uint32_t bt;
        Sb__Rpc__Reply *r = read_reply(fd, &bt, 1);
        assert_non_null(r);
        uint32_t i = bt - 0x80000100u;
        assert_true(i < N && !seen[i]);
        seen[i] = 1;
        assert_int_equal(r->code, RPC_OK);
        Sb__Echo__EchoReply *er =
            sb__echo__echo_reply__unpack(NULL, r->body.len, r->body.data);
        assert_non_null(er);
        char text[16];
        snprintf(text, sizeof text, "p%u", i);
        assert_int_equal(er->seq, i % 2 ? i % 5 : i);
        if (i % 2 == 0) { /* Later's reply carries no data */
            assert_int_equal(er->data.len, strlen(text));
            assert_memory_equal(er->data.data, text, strlen(text));
        }
        sb__echo__echo_reply__free_unpacked(er, NULL);
        sb__rpc__reply__free_unpacked(r, NULL);
    }
    assert_true(stays_quiet(fd, 100));
    close(fd);
    free(buf);
    late_join(&f->lt);
    assert_true(wait_fds(base) <= base);
}

/* A peer that sends 64 KiB echoes and never reads: the server stops
 * reading it (our writes stall long before 64 MiB), serves others
 * meanwhile, and closes it when it hangs up. */
static void test_never_reads(void **state)
{
    fx *f = *state;
    int base = count_fds(), fd = tcp_connect(f->port);
    int small = 16 * 1024;
    size_t data_n = 64 * 1024, sent = 0, len = 0;
    uint8_t *data = malloc(data_n), *buf = NULL;
    assert_non_null(data);
    memset(data, 'q', data_n);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    assert_int_equal(put(fd, req_hello, 8), 0);
    echo_add(&buf, &len, sb_echo_Echo_Echo_METHOD, 0x80000200u, data, data_n,
             1);
    int stalled = 0;
    while (sent < (64u << 20)) {
        if (put(fd, buf, len) != 0) {
            stalled = errno == ETIMEDOUT;
            break;
        }
        sent += len;
    }
    assert_true(stalled);
    assert_true(sent > (4u << 20)); /* it did serve 4 MiB of replies first */
    /* others are served while it is stuck */
    int other = sp_open(f->port);
    send_echo(other, sb_echo_Echo_Echo_METHOD, 0x80000201u, "others", 2);
    expect_echo(other, 0x80000201u, "others", 2);
    still_serves(f);
    close(other);
    close(fd); /* unread replies: the kernel resets the connection */
    free(buf);
    free(data);
    assert_true(wait_fds(base) <= base);
}

typedef struct writer {
    int fd;
    const uint8_t *buf;
    size_t len;
    int rv;
} writer;

static void *writer_main(void *p)
{
    writer *w = p;
    w->rv = put(w->fd, w->buf, w->len);
    return NULL;
}

/* 200 pipelined 64 KiB echoes (12.5 MiB of replies, past the 4 MiB at
 * which the engine stops reading) read back while still being written:
 * every reply whole, in order, its bytes its own. */
static void test_big_pipeline(void **state)
{
    fx *f = *state;
    enum { N = 200, DN = 64 * 1024 };
    int base = count_fds(), fd = tcp_connect(f->port);
    uint8_t *data = malloc(DN), *buf = malloc(8), h[8];
    size_t len = 8;
    assert_non_null(data);
    assert_non_null(buf);
    memcpy(buf, req_hello, 8);
    for (uint32_t i = 0; i < N; i++) {
        for (size_t k = 0; k < DN; k++)
            data[k] = (uint8_t)(i * 31 + k / 4096);
        echo_add(&buf, &len, sb_echo_Echo_Echo_METHOD, 0x80000700u + i, data,
                 DN, i);
    }
    writer w = {.fd = fd, .buf = buf, .len = len, .rv = -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
    assert_int_equal(get(fd, h, 8), 1);
    for (uint32_t i = 0; i < N; i++) {
        uint32_t bt;
        Sb__Rpc__Reply *r = read_reply(fd, &bt, 1);
        assert_non_null(r);
        assert_int_equal(bt, 0x80000700u + i);
        assert_int_equal(r->code, RPC_OK);
        Sb__Echo__EchoReply *er =
            sb__echo__echo_reply__unpack(NULL, r->body.len, r->body.data);
        assert_non_null(er);
        assert_int_equal(er->seq, i);
        assert_int_equal(er->data.len, DN);
        for (size_t k = 0; k < DN; k++)
            data[k] = (uint8_t)(i * 31 + k / 4096);
        assert_memory_equal(er->data.data, data, DN);
        sb__echo__echo_reply__free_unpacked(er, NULL);
        sb__rpc__reply__free_unpacked(r, NULL);
    }
    pthread_join(th, NULL);
    assert_int_equal(w.rv, 0);
    assert_true(stays_quiet(fd, 100));
    close(fd);
    free(buf);
    free(data);
    assert_true(wait_fds(base) <= base);
}

/* 2 rounds of 300 connections open at once: calls answered then closed,
 * closed with the reply unread, reset mid-frame, reset before the
 * handshake is read. Every server-side socket is closed afterwards. */
static void test_churn(void **state)
{
    fx *f = *state;
    enum { N = 300 };
    int base = count_fds(), fds[N];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            fds[i] = tcp_connect(f->port);
            assert_int_equal(put(fds[i], req_hello, 8), 0);
        }
        for (int i = 0; i < N; i++) {
            uint8_t h[8], half[20] = {0};
            switch (i % 4) {
            case 0:
            case 1:
                send_echo(fds[i], sb_echo_Echo_Echo_METHOD, 0x80000000u | i,
                          "churn", (uint64_t)round);
                break;
            case 2: /* 100 bytes announced, 12 sent, then a reset */
                assert_int_equal(get(fds[i], h, 8), 1);
                put_be(half, 100, 8);
                half[8] = 0x80;
                assert_int_equal(put(fds[i], half, sizeof half), 0);
                close_rst(fds[i]);
                break;
            default:
                close_rst(fds[i]);
            }
        }
        for (int i = 0; i < N; i++) {
            uint8_t h[8];
            if (i % 4 == 0) {
                assert_int_equal(get(fds[i], h, 8), 1);
                expect_echo(fds[i], 0x80000000u | i, "churn", (uint64_t)round);
            }
            if (i % 4 <= 1)
                close(fds[i]);
        }
        assert_true(wait_fds(base) <= base);
    }
    for (int i = 0; i < 10; i++)
        still_serves(f);
}

/* A reply made after its connection went away (a worker's, a deferred
 * one; the peer gone by FIN or by reset) is dropped: the next connection,
 * which takes the same slot in the engine, gets only its own reply. */
static void test_late_replies(void **state)
{
    fx *f = *state;
    int base = count_fds();
    for (int k = 0; k < 4; k++) {
        int a = sp_open(f->port);
        uint32_t id = 0x80000300u + (uint32_t)k;
        if (k < 2) {
            Sb__Echo__SleepRequest sr = SB__ECHO__SLEEP_REQUEST__INIT;
            uint8_t *buf = NULL;
            size_t cn, len = 0;
            sr.ms = 300;
            uint8_t *call = pack_call(sb_echo_Echo_Sleep_METHOD, &sr.base, &cn);
            frame_add(&buf, &len, &id, 1, call, cn);
            assert_int_equal(put(a, buf, len), 0);
            free(buf);
            free(call);
        } else
            send_echo(a, LATER_METHOD, id, "gone", 300);
        usleep(20 * 1000); /* the call is under way */
        if (k % 2)
            close_rst(a);
        else
            close(a);
        assert_true(wait_fds(base) <= base); /* the engine closed it */
        int b = sp_open(f->port);
        send_echo(b, LATER_METHOD, 0x80000400u + (uint32_t)k, "", 600);
        expect_echo(b, 0x80000400u + (uint32_t)k, "", 600);
        assert_true(stays_quiet(b, 100));
        close(b);
    }
    late_join(&f->lt);
    assert_true(wait_fds(base) <= base);
    still_serves(f);
}

/* The highest descriptor number open in this process. */
static int max_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int m = -1;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && atoi(e->d_name) > m)
            m = atoi(e->d_name);
    closedir(d);
    return m;
}

/* Out of descriptors: accept fails (EMFILE), the engine backs off instead
 * of spinning or dropping the listener for good, and takes the waiting
 * connections once descriptors are back. */
static void test_out_of_fds(void **state)
{
    fx *f = *state;
    enum { K = 8 };
    int base = count_fds(), fds[K], greeted[K] = {0}, waiting = 0;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)f->port)};
    struct rlimit old, low;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < K; i++) { /* made while descriptors are there */
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fds[i] >= 0);
    }
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)max_fd() + 1;
    int *holes = malloc(low.rlim_cur * sizeof *holes), n_holes = 0;
    assert_non_null(holes);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    while (n_holes < (int)low.rlim_cur && /* no descriptor left at all */
           (holes[n_holes] = dup(fds[0])) >= 0)
        n_holes++;
    for (int i = 0; i < K; i++) {
        uint8_t h[8];
        struct pollfd pf = {.fd = fds[i], .events = POLLIN};
        int rv = connect(fds[i], (struct sockaddr *)&a, sizeof a);
        if (rv == 0 && poll(&pf, 1, 300) == 1) {
            greeted[i] = get(fds[i], h, 8) == 1;
            rv = greeted[i] ? 0 : -1;
        }
        waiting += !greeted[i];
        if (rv != 0)
            break;
    }
    for (int i = 0; i < n_holes; i++)
        close(holes[i]);
    free(holes);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_true(waiting > 0); /* the engine did run out */
    for (int i = 0; i < K; i++) {
        uint8_t h[8];
        if (!greeted[i]) {
            struct sockaddr_in peer;
            socklen_t pl = sizeof peer;
            if (getpeername(fds[i], (struct sockaddr *)&peer, &pl) != 0)
                assert_int_equal(
                    connect(fds[i], (struct sockaddr *)&a, sizeof a), 0);
            assert_int_equal(get(fds[i], h, 8), 1);
            assert_memory_equal(h, rep_hello, 8);
        }
        assert_int_equal(put(fds[i], req_hello, 8), 0);
        send_echo(fds[i], sb_echo_Echo_Echo_METHOD, 0x80000600u + (uint32_t)i,
                  "fds", (uint64_t)i);
        expect_echo(fds[i], 0x80000600u + (uint32_t)i, "fds", (uint64_t)i);
        close(fds[i]);
    }
    assert_true(wait_fds(base) <= base);
}

/* Stopping a server with connections open in every state (idle, mid-
 * frame, a worker call in flight, a deferred call open past the grace, no
 * handshake yet, an nng client) returns within its grace and every peer
 * sees the close; the deferred call finishing afterwards is harmless. */
static void test_stop_with_open(void **state)
{
    fx g;
    rpc_server_config cfg = {
        .stop_grace_ms = 1000, .workers = 2, .recv_max = RECV_MAX};
    (void)state;
    fx_start(&g, &cfg);
    int base = count_fds(), fds[5];
    fds[0] = sp_open(g.port); /* idle */
    fds[1] = sp_open(g.port); /* mid-frame */
    uint8_t half[12] = {0};
    put_be(half, 50, 8);
    assert_int_equal(put(fds[1], half, sizeof half), 0);
    fds[2] = sp_open(g.port); /* a worker call in flight */
    Sb__Echo__SleepRequest sr = SB__ECHO__SLEEP_REQUEST__INIT;
    uint8_t *buf = NULL;
    size_t cn, len = 0;
    uint32_t id = 0x80000500u;
    sr.ms = 200;
    uint8_t *call = pack_call(sb_echo_Echo_Sleep_METHOD, &sr.base, &cn);
    frame_add(&buf, &len, &id, 1, call, cn);
    assert_int_equal(put(fds[2], buf, len), 0);
    fds[3] = sp_open(g.port); /* a deferred call open past the grace */
    send_echo(fds[3], LATER_METHOD, 0x80000501u, "", 1500);
    fds[4] = tcp_connect(g.port); /* never greets */
    nng_socket req;
    assert_int_equal(nng_req0_open(&req), 0);
    assert_int_equal(nng_dial(req, rpc_server_url(g.s, 0), NULL, 0), 0);
    usleep(50 * 1000); /* everything has reached the engine */
    int64_t t0 = rpc_now_mono_ms();
    rpc_server_stop(g.s);
    int64_t took = rpc_now_mono_ms() - t0;
    assert_true(took >= 1000 - 50);  /* it waited for the deferred call */
    assert_true(took < 1000 + 1000); /* the grace, and a margin */
    for (int i = 0; i < 5; i++) {
        assert_true(sees_close(fds[i]));
        close(fds[i]);
    }
    nng_close(req);
    /* the deferred call finishes after the stop, before the destroy (an
     * app must not finish one later): its reply is dropped, not leaked */
    late_join(&g.lt);
    t0 = rpc_now_mono_ms();
    rpc_server_destroy(g.s);
    assert_true(rpc_now_mono_ms() - t0 < 1000);
    echo_service_free(g.e);
    pthread_mutex_destroy(&g.lt.mu);
    free(buf);
    free(call);
    assert_true(wait_fds(base) <= base);
}

/* Last: after all of the above the shared server still answers. */
static void test_still_serves(void **state)
{
    still_serves(*state);
}

static int setup(void **state)
{
    fx *f = malloc(sizeof *f);
    rpc_server_config cfg = {.recv_max = RECV_MAX, .workers = 2};
    if (f == NULL)
        return -1;
    fx_start(f, &cfg);
    still_serves(f); /* nng's own descriptors exist from here on */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_stop(*state);
    free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_hello_timeout),
        cmocka_unit_test(test_frame_limit),
        cmocka_unit_test(test_backtrace),
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_never_reads),
        cmocka_unit_test(test_big_pipeline),
        cmocka_unit_test(test_churn),
        cmocka_unit_test(test_late_replies),
        cmocka_unit_test(test_out_of_fds),
        cmocka_unit_test(test_stop_with_open),
        cmocka_unit_test(test_still_serves),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
