/* test_bench_wire.c: the benchmarks' wire client (bench/bench_wire.c)
 * against a real rpc_server with the echo service on 127.0.0.1: every
 * reply matches its own call on every connection, the server sees it as an
 * ordinary req0 peer (unknown methods get UNIMPLEMENTED, a token is carried),
 * bad URLs and refused ports fail cleanly; and request ids are time-ordered
 * (rpc_request_id_stamp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_wire.h"
#include "echo_service.h"
#include "rpc.h"
#include "sb_netutil.h"

#define CONNS 8
#define ROUNDS 200

typedef struct wstate {
    rpc_server *s;
    echo_service *e;
    const char *url;
    bench_wire *w;
    int got[CONNS]; /* replies per connection */
    int bad;        /* replies that did not match their call */
    uint32_t sent_seq[CONNS];
    int last_code;
    int more; /* send the next call from the callback */
} wstate;

static int setup(void **state)
{
    wstate *x = calloc(1, sizeof *x);
    assert_non_null(x);
    assert_int_equal(rpc_server_create(&x->s, NULL), 0);
    assert_int_equal(echo_service_register(x->s, &x->e), 0);
    assert_int_equal(rpc_server_listen(x->s, "tcp://127.0.0.1:0"), 0);
    assert_int_equal(rpc_server_start(x->s), 0);
    x->url = rpc_server_url(x->s, 0);
    assert_non_null(x->url);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    wstate *x = *state;
    bench_wire_close(x->w);
    rpc_server_destroy(x->s);
    echo_service_free(x->e);
    free(x);
    return 0;
}

/* Sends Echo(seq, "c<conn>-<seq>") on conn. */
static int send_echo(wstate *x, int conn)
{
    char text[32];
    uint8_t body[64];
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;

    snprintf(text, sizeof text, "c%d-%u", conn, ++x->sent_seq[conn]);
    req.data.data = (uint8_t *)text;
    req.data.len = strlen(text);
    req.seq = x->sent_seq[conn];
    size_t n = sb__echo__echo_request__pack(&req, body);
    return bench_wire_send(x->w, conn, "sb.echo.Echo/Echo", "tok", body, n);
}

static void on_reply(void *arg, int conn, const Sb__Rpc__Reply *rep)
{
    wstate *x = arg;
    char want[32];
    Sb__Echo__EchoReply *er = NULL;

    x->last_code = (int)rep->code;
    snprintf(want, sizeof want, "c%d-%u", conn, x->sent_seq[conn]);
    if (rep->code != SB__RPC__CODE__OK ||
        (er = sb__echo__echo_reply__unpack(NULL, rep->body.len,
                                           rep->body.data)) == NULL ||
        er->seq != x->sent_seq[conn] || er->data.len != strlen(want) ||
        memcmp(er->data.data, want, er->data.len) != 0)
        x->bad++;
    if (er != NULL)
        sb__echo__echo_reply__free_unpacked(er, NULL);
    x->got[conn]++;
    if (x->more && x->got[conn] < ROUNDS)
        assert_int_equal(send_echo(x, conn), 0);
}

static void open_conns(wstate *x, int n)
{
    const char *urls[CONNS];
    for (int i = 0; i < n; i++)
        urls[i] = x->url;
    assert_int_equal(bench_wire_open(&x->w, urls, n), 0);
}

static void test_every_reply_matches_its_call(void **state)
{
    wstate *x = *state;
    open_conns(x, CONNS);
    x->more = 1;
    for (int i = 0; i < CONNS; i++)
        assert_int_equal(send_echo(x, i), 0);
    /* a second call while one is in flight is refused (req0's rule) */
    assert_int_equal(send_echo(x, 0), -1);
    x->sent_seq[0]--;
    for (int spins = 0; bench_wire_in_flight(x->w) > 0 && spins < 10000;
         spins++)
        assert_true(bench_wire_poll(x->w, 1000, on_reply, x) >= 0);
    assert_int_equal(bench_wire_in_flight(x->w), 0);
    for (int i = 0; i < CONNS; i++)
        assert_int_equal(x->got[i], ROUNDS);
    assert_int_equal(x->bad, 0);
    assert_int_equal(bench_wire_errors(x->w), 0);
}

static void test_unknown_method_is_unimplemented(void **state)
{
    wstate *x = *state;
    open_conns(x, 1);
    assert_int_equal(bench_wire_send(x->w, 0, "sb.echo.Echo/Nope", NULL,
                                     (const uint8_t *)"", 0),
                     0);
    for (int spins = 0; bench_wire_in_flight(x->w) > 0 && spins < 50; spins++)
        assert_true(bench_wire_poll(x->w, 100, on_reply, x) >= 0);
    assert_int_equal(x->last_code, RPC_UNIMPLEMENTED);
    /* the connection still serves */
    x->more = 0;
    assert_int_equal(send_echo(x, 0), 0);
    for (int spins = 0; bench_wire_in_flight(x->w) > 0 && spins < 50; spins++)
        assert_true(bench_wire_poll(x->w, 100, on_reply, x) >= 0);
    assert_int_equal(x->last_code, RPC_OK);
    assert_int_equal(x->bad, 1); /* only the UNIMPLEMENTED one */
}

static void test_bad_urls_fail_cleanly(void **state)
{
    (void)state;
    bench_wire *w = NULL;
    char refused[64];
    const char *bad[] = {"ipc:///tmp/x",     "tcp://127.0.0.1", "tcp://:80",
                         "tcp://127.0.0.1:", "nonsense",        refused};
    int port = sb_free_port();

    assert_true(port > 0);
    snprintf(refused, sizeof refused, "tcp://127.0.0.1:%d", port);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(bench_wire_open(&w, &bad[i], 1), -1);
        assert_null(w);
    }
}

static void test_request_ids_sort_by_time(void **state)
{
    (void)state;
    uint8_t a[RPC_REQUEST_ID_LEN], b[RPC_REQUEST_ID_LEN];
    int64_t now = rpc_now_wall_ms();

    memset(a, 0xff, sizeof a);
    memset(b, 0x00, sizeof b);
    rpc_request_id_stamp(a);
    usleep(3000);
    rpc_request_id_stamp(b);
    assert_true(memcmp(a, b, 6) < 0); /* later id sorts after */
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | a[i];
    assert_true((int64_t)ms >= now && (int64_t)ms <= now + 1000);
    for (int i = 6; i < RPC_REQUEST_ID_LEN; i++)
        assert_int_equal(a[i], 0xff); /* the random part is left alone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_reply_matches_its_call,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_method_is_unimplemented,
                                        setup, teardown),
        cmocka_unit_test(test_bad_urls_fail_cleanly),
        cmocka_unit_test(test_request_ids_sort_by_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
