/* test_rpc_conns.c: a client-facing server's connection limits
 * (rpc_server_config.client_idle_ms, max_conns_per_addr; rpc_conns.c and
 * the epoll engine), attacked as the issue did: 10,000 connections that
 * greet the server and then say nothing, held open while a real client
 * keeps calling; and more connections from one address than the cap. The
 * same attack on a server without the limits (today's) is run first and
 * must find every idle connection still open. "epoll" as the first
 * argument serves tcp:// with the epoll engine (test_rpc_conns_epoll). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "echo_service.h"
#include "rpc_peer.h"
#include "sb_netutil.h"

#define IDLE 10000
#define WAIT_MS 60000 /* bound on every wait below */

static int g_engine = RPC_TCP_NNG;

/* The servers run in a child process, forked before this one starts any
 * nng thread: 10,000 connections take 10,000 descriptors at each end,
 * more than one process may hold here (RLIMIT_NOFILE 20000). The child
 * obeys one command at a time on a pipe. */
typedef struct cmd {
    char op; /* 'N' new server, 'S' its stats, 'D' destroy it */
    int idle_ms, per_addr;
} cmd;

typedef struct answer {
    int port;
    rpc_conn_stats st;
} answer;

static int g_cmd = -1, g_ans = -1;
static pid_t g_child = -1;

static void full_io(int fd, void *buf, size_t n, int wr)
{
    for (size_t done = 0; done < n;) {
        ssize_t r = wr ? write(fd, (char *)buf + done, n - done)
                       : read(fd, (char *)buf + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            _exit(3); /* the other side is gone */
        done += (size_t)r;
    }
}

static void child_main(int cin, int cout)
{
    rpc_server *s = NULL;
    echo_service *e = NULL;
    cmd c;
    for (;;) {
        answer a = {0};
        ssize_t r = read(cin, &c, sizeof c);
        if (r != (ssize_t)sizeof c)
            break;
        if (c.op == 'N') {
            rpc_server_config sc = {.tcp_engine = g_engine,
                                    .client_idle_ms = c.idle_ms,
                                    .max_conns_per_addr = c.per_addr};
            if (rpc_server_create(&s, &sc) == 0 &&
                echo_service_register(s, &e) == 0 &&
                rpc_server_listen(s, "tcp://127.0.0.1:0") == 0 &&
                rpc_server_start(s) == 0)
                a.port = atoi(strrchr(rpc_server_url(s, 0), ':') + 1);
        } else if (c.op == 'S' && s != NULL) {
            rpc_server_conn_stats(s, &a.st);
        } else if (c.op == 'D') {
            rpc_server_destroy(s);
            echo_service_free(e);
            s = NULL;
            e = NULL;
        }
        full_io(cout, &a, sizeof a, 1);
    }
    rpc_server_destroy(s);
    echo_service_free(e);
}

static answer ask(char op, int idle_ms, int per_addr)
{
    cmd c = {op, idle_ms, per_addr};
    answer a;
    full_io(g_cmd, &c, sizeof c, 1);
    full_io(g_ans, &a, sizeof a, 0);
    return a;
}

typedef struct srv {
    int port;
    char url[64];
} srv;

static void srv_start(srv *x, int idle_ms, int per_addr)
{
    x->port = ask('N', idle_ms, per_addr).port;
    assert_true(x->port > 0);
    snprintf(x->url, sizeof x->url, "tcp://127.0.0.1:%d", x->port);
}

static void srv_stop(srv *x)
{
    (void)x;
    ask('D', 0, 0);
}

static rpc_conn_stats stats(srv *x)
{
    (void)x;
    return ask('S', 0, 0).st;
}

/* A raw connection that sends SP's handshake (a REQ peer) and nothing
 * more: what an idle client, or an attacker holding descriptors, is. */
static int greet(int port)
{
    static const uint8_t hello[8] = {0, 'S', 'P', 0, 0x00, 0x30, 0, 0};
    int fd = sb_connect_loopback(port);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, hello, sizeof hello), (ssize_t)sizeof hello);
    return fd;
}

/* Whether the server has closed fd: its hello (8 bytes) is skipped; an
 * end of stream or a reset means closed. */
static int closed_by_server(int fd)
{
    uint8_t buf[64];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            return 0;
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return 1;
        if (r < 0)
            return 0;
    }
}

/* Opens n greeted connections, in batches the server is let to take in
 * (a backlog overrun would stall connect() for a second per retry). */
static void open_idle(srv *x, int *fds, int n)
{
    uint64_t before = stats(x).accepted;
    for (int i = 0; i < n; i++) {
        fds[i] = greet(x->port);
        if (i % 100 == 99 || i == n - 1) {
            int64_t until = rpc_now_mono_ms() + WAIT_MS;
            while (stats(x).accepted < before + (uint64_t)i + 1 &&
                   rpc_now_mono_ms() < until)
                usleep(2000);
        }
    }
    assert_true(stats(x).accepted >= before + (uint64_t)n);
}

/* A real client calling every 100 ms the whole time: it must never fail
 * (its connection is busy, not idle). */
typedef struct caller {
    const char *url;
    int stop, calls, failures;
    pthread_t th;
} caller;

static void *caller_main(void *arg)
{
    caller *k = arg;
    rpc_client *c;
    rpc_client_config cc = {.timeout_ms = 5000};
    if (rpc_client_open(&c, k->url, &cc) != 0) {
        k->failures++;
        return NULL;
    }
    while (!__atomic_load_n(&k->stop, __ATOMIC_ACQUIRE)) {
        Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
        Sb__Echo__EchoReply *rep = NULL;
        rpc_status st;
        req.seq = (uint64_t)k->calls;
        if (sb_echo_Echo_Echo(c, &req, &rep, NULL, &st) != RPC_OK ||
            rep->seq != req.seq)
            k->failures++;
        sb_echo_Echo_free(rep);
        k->calls++;
        usleep(100 * 1000);
    }
    rpc_client_close(c);
    return NULL;
}

static int raise_fd_limit(rlim_t want)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return -1;
    if (r.rlim_cur >= want)
        return 0;
    if (r.rlim_max < want)
        r.rlim_max = want; /* root may raise it */
    r.rlim_cur = want;
    return setrlimit(RLIMIT_NOFILE, &r);
}

static int count_closed(const int *fds, int n)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += closed_by_server(fds[i]);
    return c;
}

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* Today's server (no limits): 500 idle connections are all still open
 * after twice the timeout the next part uses. */
static void test_without_limits_idle_stay(void **state)
{
    (void)state;
    enum { N = 500 };
    int fds[N];
    srv x;
    srv_start(&x, 0, 0);
    open_idle(&x, fds, N);
    usleep(3 * 1000 * 1000);
    assert_int_equal(count_closed(fds, N), 0);
    assert_int_equal(stats(&x).open, N);
    close_all(fds, N);
    srv_stop(&x);
}

/* 10,000 idle connections are closed after the timeout while a real
 * client, calling all along, keeps working. */
static void test_idle_closed(void **state)
{
    (void)state;
    if (raise_fd_limit(IDLE + 512) != 0) {
        printf("cannot raise RLIMIT_NOFILE to %d: skipped\n", IDLE + 512);
        skip();
    }
    int *fds = malloc(IDLE * sizeof *fds);
    srv x;
    caller k = {0};
    assert_non_null(fds);
    srv_start(&x, 1500, 0);
    k.url = x.url;
    assert_int_equal(pthread_create(&k.th, NULL, caller_main, &k), 0);
    int64_t t0 = rpc_now_mono_ms();
    open_idle(&x, fds, IDLE);
    printf("%d idle connections open in %lld ms\n", IDLE,
           (long long)(rpc_now_mono_ms() - t0));
    int64_t until = rpc_now_mono_ms() + WAIT_MS;
    int closed = 0;
    while ((closed = count_closed(fds, IDLE)) < IDLE &&
           rpc_now_mono_ms() < until)
        usleep(200 * 1000);
    rpc_conn_stats st = stats(&x);
    printf("closed %d of %d idle in %lld ms; server: open %llu, closed_idle "
           "%llu; the real client made %d calls, %d failed\n",
           closed, IDLE, (long long)(rpc_now_mono_ms() - t0),
           (unsigned long long)st.open, (unsigned long long)st.closed_idle,
           k.calls, k.failures);
    assert_int_equal(closed, IDLE);
    assert_true(st.closed_idle >= IDLE);
    /* the real client's connection (one or a few pipes) stays */
    __atomic_store_n(&k.stop, 1, __ATOMIC_RELEASE);
    pthread_join(k.th, NULL);
    assert_true(k.calls > 0);
    assert_int_equal(k.failures, 0);
    close_all(fds, IDLE);
    free(fds);
    srv_stop(&x);
}

/* At most N connections from one address; the next is closed at once,
 * a slot freed is taken again, and calls on the admitted ones work. */
static void test_per_address_cap(void **state)
{
    (void)state;
    enum { CAP = 8 };
    int fds[CAP + 4];
    srv x;
    srv_start(&x, 0, CAP);
    open_idle(&x, fds, CAP);
    int extra = greet(x.port);
    int64_t until = rpc_now_mono_ms() + WAIT_MS;
    while (!closed_by_server(extra) && rpc_now_mono_ms() < until)
        usleep(5000);
    assert_true(closed_by_server(extra));
    assert_true(stats(&x).refused_per_addr >= 1);
    assert_int_equal(count_closed(fds, CAP), 0); /* the admitted stay */
    close(extra);
    /* one leaves: one more may come */
    close(fds[0]);
    until = rpc_now_mono_ms() + WAIT_MS;
    while (stats(&x).open > CAP - 1 && rpc_now_mono_ms() < until)
        usleep(2000);
    uint64_t refused = stats(&x).refused_per_addr;
    fds[0] = greet(x.port);
    usleep(300 * 1000);
    assert_int_equal(closed_by_server(fds[0]), 0);
    assert_int_equal(stats(&x).refused_per_addr, refused);
    close_all(fds, CAP);
    /* a client over the runtime works once there is room */
    rpc_client *c;
    rpc_client_config cc = {.timeout_ms = 3000};
    rpc_status rs;
    assert_int_equal(rpc_client_open(&c, x.url, &cc), 0);
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
    Sb__Echo__EchoReply *rep = NULL;
    assert_int_equal(sb_echo_Echo_Echo(c, &req, &rep, NULL, &rs), RPC_OK);
    sb_echo_Echo_free(rep);
    rpc_client_close(c);
    srv_stop(&x);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_limits_idle_stay),
        cmocka_unit_test(test_idle_closed),
        cmocka_unit_test(test_per_address_cap),
    };
    int to_child[2], from_child[2];
    if (argc > 1 && strcmp(argv[1], "epoll") == 0)
        g_engine = RPC_TCP_EPOLL;
    if (raise_fd_limit(IDLE + 512) != 0)
        fprintf(stderr, "note: RLIMIT_NOFILE stays low\n");
    if (pipe(to_child) != 0 || pipe(from_child) != 0)
        return 1;
    fflush(NULL);
    if ((g_child = fork()) == 0) { /* before any nng thread exists */
        close(to_child[1]);
        close(from_child[0]);
        child_main(to_child[0], from_child[1]);
        _exit(0);
    }
    close(to_child[0]);
    close(from_child[1]);
    g_cmd = to_child[1];
    g_ans = from_child[0];
    if (getenv("SB_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("SB_TEST_FILTER"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    close(g_cmd); /* the child stops its server and exits */
    int status;
    waitpid(g_child, &status, 0);
    return rc;
}
