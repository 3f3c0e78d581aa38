/* test_http.c: the HTTP module (servers/http/) over real sockets on
 * 127.0.0.1: routes and methods, the security headers, keep-alive, the
 * header limit (431) and body limit (413, declared and chunked), idle and
 * trickling clients cut off, gzip, static files with ETag/304, answers
 * from another thread, streams (live writes, idle suspension, a peer
 * that never reads, a peer that leaves), and a stop with requests and
 * streams still open. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "hc.h"
#include "http.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct fixture {
    http_server *s;
    int port;
    atomic_int ended;  /* streams whose on_end ran */
    http_stream *last; /* the last stream opened */
    pthread_mutex_t mu;
    http_req *parked[128];
    int nparked;
} fixture;

static fixture *F;

static void h_hello(http_req *r, void *arg)
{
    http_reply(r, 200, "text/plain; charset=utf-8", "hello", 5, NULL, 0);
}

static void h_echo(http_req *r, void *arg)
{
    size_t n;
    char out[64];
    http_req_body(r, &n);
    snprintf(out, sizeof out, "%zu", n);
    http_reply(r, 200, NULL, out, strlen(out), NULL, 0);
}

static void h_big(http_req *r, void *arg)
{
    json_t *a = json_array();
    for (int i = 0; i < 2000; i++)
        json_array_append_new(a, json_string("alice online"));
    http_reply_json(r, 200, a, NULL);
}

static void h_park(http_req *r, void *arg)
{
    http_defer(r);
    pthread_mutex_lock(&F->mu);
    F->parked[F->nparked++] = r;
    pthread_mutex_unlock(&F->mu);
}

static void on_end(http_stream *st, void *arg)
{
    atomic_fetch_add(&F->ended, 1);
}

static void h_stream(http_req *r, void *arg)
{
    http_stream *st =
        http_stream_open(r, "text/event-stream", NULL, 4096, on_end, NULL);
    pthread_mutex_lock(&F->mu);
    F->last = st;
    pthread_mutex_unlock(&F->mu);
    if (st != NULL)
        http_stream_write(st, ": hi\n\n", 6);
}

static const char page[] =
    "<!doctype html><title>t</title><p>static page, long enough to gzip? "
    "static page, long enough to gzip? static page, long enough to gzip? "
    "static page, long enough to gzip? static page, long enough to gzip? "
    "static page, long enough to gzip? static page, long enough to gzip?";

static int setup(void **state)
{
    static fixture f;
    http_config c = {.host = "127.0.0.1",
                     .max_header = 4096,
                     .max_body = 65536,
                     .idle_timeout_s = 1};
    rpc_status st;

    memset(&f, 0, sizeof f);
    pthread_mutex_init(&f.mu, NULL);
    F = &f;
    assert_int_equal(http_server_create(&f.s, &c, &st), RPC_OK);
    assert_int_equal(http_route(f.s, NULL, "/hello", 0, h_hello, NULL), 0);
    assert_int_equal(http_route(f.s, "POST", "/echo", 0, h_echo, NULL), 0);
    assert_int_equal(http_route(f.s, NULL, "/big", 0, h_big, NULL), 0);
    assert_int_equal(http_route(f.s, NULL, "/park", 0, h_park, NULL), 0);
    assert_int_equal(http_route(f.s, NULL, "/stream", 0, h_stream, NULL), 0);
    assert_int_equal(
        http_route_static(f.s, "/page", "text/html", page, sizeof page - 1), 0);
    assert_int_equal(http_server_start(f.s, &st), RPC_OK);
    f.port = http_server_port(f.s);
    assert_true(f.port > 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    http_server_free(f->s);
    return 0;
}

static void test_routes_and_headers(void **state)
{
    fixture *f = *state;
    hc_resp r;
    char v[512];

    assert_int_equal(hc_request(f->port, "GET", "/hello", NULL, NULL, &r, 3000),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    assert_non_null(hc_header(&r, "Content-Security-Policy", v, sizeof v));
    assert_non_null(strstr(v, "script-src 'self'"));
    assert_null(strstr(v, "unsafe-inline"));
    assert_string_equal(hc_header(&r, "X-Content-Type-Options", v, sizeof v),
                        "nosniff");
    assert_string_equal(hc_header(&r, "X-Frame-Options", v, sizeof v), "DENY");
    assert_string_equal(hc_header(&r, "Content-Type", v, sizeof v),
                        "text/plain; charset=utf-8");
    hc_free(&r);
    assert_int_equal(hc_request(f->port, "GET", "/nope", NULL, NULL, &r, 3000),
                     0);
    assert_int_equal(r.status, 404);
    assert_string_equal(hc_header(&r, "Content-Type", v, sizeof v),
                        "application/json");
    hc_free(&r);
    assert_int_equal(hc_request(f->port, "POST", "/hello", NULL, "", &r, 3000),
                     0);
    assert_int_equal(r.status, 405);
    hc_free(&r);
    assert_int_equal(hc_request(f->port, "GET", "/echo", NULL, NULL, &r, 3000),
                     0);
    assert_int_equal(r.status, 405);
    hc_free(&r);
}

static void test_keepalive(void **state)
{
    fixture *f = *state;
    int fd = hc_connect(f->port);
    const char req[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    hc_resp r;

    assert_true(fd >= 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hc_send(fd, req, sizeof req - 1), 0);
        assert_int_equal(hc_read(fd, &r, 3000), 0);
        assert_int_equal(r.status, 200);
        assert_false(r.closed);
        hc_free(&r);
    }
    close(fd);
}

/* A request whose headers total about n bytes. */
static int head_of(int port, size_t n, hc_resp *r)
{
    char *h = malloc(n + 64);
    int rc;
    memcpy(h, "X-Pad: ", 7);
    memset(h + 7, 'a', n);
    memcpy(h + 7 + n, "\r\n", 3);
    rc = hc_request(port, "GET", "/hello", h, NULL, r, 5000);
    free(h);
    return rc;
}

static void test_header_limit(void **state)
{
    fixture *f = *state;
    hc_resp r;

    assert_int_equal(head_of(f->port, 3000, &r), 0);
    assert_int_equal(r.status, 200);
    hc_free(&r);
    /* over max_header (4096) but within libmicrohttpd's pool: ours */
    assert_int_equal(head_of(f->port, 5000, &r), 0);
    assert_int_equal(r.status, 431);
    hc_free(&r);
    /* far over: libmicrohttpd's own refusal must be 431 too */
    hc_request(f->port, "GET", "/hello", NULL, NULL, &r, 100);
    hc_free(&r);
    head_of(f->port, 60000, &r);
    assert_int_equal(r.status, 431);
    hc_free(&r);
    /* and the server goes on serving */
    assert_int_equal(hc_request(f->port, "GET", "/hello", NULL, NULL, &r, 3000),
                     0);
    assert_int_equal(r.status, 200);
    hc_free(&r);
}

static void test_body_limit(void **state)
{
    fixture *f = *state;
    hc_resp r;
    int fd;
    char *body = malloc(70001);

    memset(body, 'b', 70000);
    body[70000] = '\0';
    assert_int_equal(
        hc_request(f->port, "POST", "/echo", NULL, "abc", &r, 3000), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "3");
    hc_free(&r);
    /* declared too large: refused before the body is sent */
    fd = hc_connect(f->port);
    const char big[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
                       "70000\r\nExpect: 100-continue\r\n\r\n";
    assert_int_equal(hc_send(fd, big, sizeof big - 1), 0);
    assert_int_equal(hc_read(fd, &r, 3000), 0);
    assert_int_equal(r.status, 413);
    hc_free(&r);
    close(fd);
    /* chunked, no length given: refused once it passes the limit */
    fd = hc_connect(f->port);
    const char ch[] = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                      "chunked\r\n\r\n";
    char line[32];
    assert_int_equal(hc_send(fd, ch, sizeof ch - 1), 0);
    for (int i = 0; i < 7; i++) {
        snprintf(line, sizeof line, "%x\r\n", 10000);
        hc_send(fd, line, strlen(line));
        hc_send(fd, body, 10000);
        hc_send(fd, "\r\n", 2);
    }
    hc_send(fd, "0\r\n\r\n", 5);
    assert_int_equal(hc_read(fd, &r, 3000), 0);
    assert_int_equal(r.status, 413);
    hc_free(&r);
    close(fd);
    free(body);
}

static void test_slow_clients(void **state)
{
    fixture *f = *state;
    int silent = hc_connect(f->port), partial = hc_connect(f->port);
    const char half[] = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ";

    assert_true(silent >= 0 && partial >= 0);
    assert_int_equal(hc_send(partial, half, sizeof half - 1), 0);
    /* idle_timeout_s = 1: both are cut well within 4 s */
    assert_true(hc_wait_closed(silent, 4000));
    assert_true(hc_wait_closed(partial, 4000));
    close(silent);
    close(partial);
}

static void test_gzip(void **state)
{
    fixture *f = *state;
    hc_resp plain, gz;
    char v[64];
    unsigned char out[65536];
    z_stream z;

    assert_int_equal(
        hc_request(f->port, "GET", "/big", NULL, NULL, &plain, 3000), 0);
    assert_int_equal(plain.status, 200);
    assert_null(hc_header(&plain, "Content-Encoding", v, sizeof v));
    assert_int_equal(hc_request(f->port, "GET", "/big",
                                "Accept-Encoding: br, gzip\r\n", NULL, &gz,
                                3000),
                     0);
    assert_string_equal(hc_header(&gz, "Content-Encoding", v, sizeof v),
                        "gzip");
    assert_true(gz.blen * 4 < plain.blen);
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (unsigned char *)gz.body;
    z.avail_in = (unsigned)gz.blen;
    z.next_out = out;
    z.avail_out = sizeof out;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, plain.blen);
    assert_memory_equal(out, plain.body, plain.blen);
    inflateEnd(&z);
    hc_free(&plain);
    hc_free(&gz);
    /* q=0 refuses it */
    assert_int_equal(hc_request(f->port, "GET", "/big",
                                "Accept-Encoding: gzip;q=0\r\n", NULL, &gz,
                                3000),
                     0);
    assert_null(hc_header(&gz, "Content-Encoding", v, sizeof v));
    hc_free(&gz);
}

static void test_static_etag(void **state)
{
    fixture *f = *state;
    hc_resp r;
    char etag[64], hdr[128];

    assert_int_equal(hc_request(f->port, "GET", "/page", NULL, NULL, &r, 3000),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, page);
    assert_non_null(hc_header(&r, "ETag", etag, sizeof etag));
    hc_free(&r);
    snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", etag);
    assert_int_equal(hc_request(f->port, "GET", "/page", hdr, NULL, &r, 3000),
                     0);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.blen, 0);
    hc_free(&r);
}

static void *answer_later(void *arg)
{
    fixture *f = arg;
    for (int waited = 0; waited < 5000; waited += 10) {
        pthread_mutex_lock(&f->mu);
        int n = f->nparked;
        pthread_mutex_unlock(&f->mu);
        if (n == 50)
            break;
        sleep_ms(10);
    }
    sleep_ms(100);
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->nparked; i++) {
        char b[16];
        snprintf(b, sizeof b, "later");
        http_reply(f->parked[i], 200, NULL, b, strlen(b), NULL, 0);
    }
    f->nparked = 0;
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

static void test_deferred(void **state)
{
    fixture *f = *state;
    int fds[50];
    pthread_t t;
    const char req[] = "GET /park HTTP/1.1\r\nHost: x\r\n\r\n";
    hc_resp r;

    pthread_create(&t, NULL, answer_later, f);
    for (int i = 0; i < 50; i++) {
        fds[i] = hc_connect(f->port);
        assert_int_equal(hc_send(fds[i], req, sizeof req - 1), 0);
    }
    for (int i = 0; i < 50; i++) {
        assert_int_equal(hc_read(fds[i], &r, 5000), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "later");
        hc_free(&r);
        close(fds[i]);
    }
    pthread_join(t, NULL);
}

/* Reads from fd until @want appears (or ms pass); 1 when seen. */
static int read_until(int fd, const char *want, int ms)
{
    char acc[65536];
    size_t n = 0;
    for (int waited = 0; waited < ms; waited += 20) {
        ssize_t k = recv(fd, acc + n, sizeof acc - 1 - n, MSG_DONTWAIT);
        if (k > 0) {
            n += (size_t)k;
            acc[n] = '\0';
            if (strstr(acc, want) != NULL)
                return 1;
            continue;
        }
        if (k == 0)
            return 0;
        sleep_ms(20);
    }
    return 0;
}

static http_stream *open_stream(fixture *f, int *fd)
{
    const char req[] = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
    http_stream *st;

    pthread_mutex_lock(&f->mu);
    f->last = NULL;
    pthread_mutex_unlock(&f->mu);
    *fd = hc_connect(f->port);
    assert_int_equal(hc_send(*fd, req, sizeof req - 1), 0);
    assert_true(read_until(*fd, ": hi", 3000));
    pthread_mutex_lock(&f->mu);
    st = f->last;
    pthread_mutex_unlock(&f->mu);
    assert_non_null(st);
    return st;
}

static void test_stream(void **state)
{
    fixture *f = *state;
    int fd, ended0 = atomic_load(&f->ended);
    http_stream *st = open_stream(f, &fd);

    /* idle well past the 1 s idle timeout: a stream is exempt */
    sleep_ms(1600);
    assert_int_equal(http_stream_write(st, "data: one\n\n", 11), 0);
    assert_true(read_until(fd, "data: one", 3000));
    /* the peer leaves: the next write finds it gone, on_end runs */
    close(fd);
    for (int i = 0; i < 100 && atomic_load(&f->ended) == ended0; i++) {
        http_stream_write(st, "data: x\n\n", 9);
        sleep_ms(30);
    }
    assert_int_equal(atomic_load(&f->ended), ended0 + 1);
    assert_int_equal(http_stream_write(st, "data: y\n\n", 9), -1);
    http_stream_release(st);
}

static void test_stream_not_read(void **state)
{
    fixture *f = *state;
    int fd, ended0 = atomic_load(&f->ended), refused = 0;
    http_stream *st = open_stream(f, &fd);
    char chunk[1024];

    memset(chunk, 'z', sizeof chunk);
    /* the peer never reads: socket buffers fill, then our 4 KiB queue */
    for (int i = 0; i < 100000 && !refused; i++)
        refused = http_stream_write(st, chunk, sizeof chunk) != 0;
    assert_true(refused);
    close(fd);
    for (int i = 0; i < 200 && atomic_load(&f->ended) == ended0; i++)
        sleep_ms(20);
    assert_int_equal(atomic_load(&f->ended), ended0 + 1);
    http_stream_release(st);
}

static void test_stop_with_open(void **state)
{
    fixture *f = *state;
    int sfd, pfd = hc_connect(f->port);
    http_stream *st = open_stream(f, &sfd);
    const char req[] = "GET /park HTTP/1.1\r\nHost: x\r\n\r\n";
    hc_resp r;
    http_req *parked;

    assert_int_equal(hc_send(pfd, req, sizeof req - 1), 0);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&f->mu);
        int n = f->nparked;
        pthread_mutex_unlock(&f->mu);
        if (n == 1)
            break;
        sleep_ms(10);
    }
    parked = f->parked[0];
    http_server_stop(f->s);
    assert_int_equal(hc_read(pfd, &r, 3000), 0);
    assert_int_equal(r.status, 503);
    hc_free(&r);
    assert_true(hc_wait_closed(sfd, 3000));
    /* the deferrer's own answer after the stop is harmless */
    http_reply(parked, 200, NULL, "x", 1, NULL, 0);
    f->nparked = 0;
    assert_int_equal(http_stream_write(st, "data: z\n\n", 9), -1);
    http_stream_release(st);
    close(pfd);
    close(sfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_routes_and_headers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_etag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_not_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
