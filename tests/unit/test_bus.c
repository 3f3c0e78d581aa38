/* test_bus.c: the pub/sub bus through a real forwarder on ipc sockets:
 * typed delivery, topic filtering, sequence-gap detection and malformed
 * events. */
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
#include <nng/protocol/pubsub0/pub.h>

#include "echo.pb-c.h"
#include "rpc.h"
#include "rpc.pb-c.h"
#include "rpc_bus.h"

typedef struct {
    pthread_mutex_t mu;
    uint64_t got, last_seq, in_order, wrong_topic;
    uint64_t gap_expected, gap_got;
} sink;

static void on_event(void *arg, const rpc_bus_meta *m,
                     const ProtobufCMessage *ev)
{
    sink *s = arg;
    const Sb__Echo__EchoRequest *e = (const Sb__Echo__EchoRequest *)ev;
    pthread_mutex_lock(&s->mu);
    s->got++;
    if (e->seq == s->last_seq + 1)
        s->in_order++;
    s->last_seq = e->seq;
    if (strncmp(m->topic, "mail.", 5) != 0)
        s->wrong_topic++;
    pthread_mutex_unlock(&s->mu);
}

static void on_gap(void *arg, const char *pub, const char *topic,
                   uint64_t expected, uint64_t got)
{
    sink *s = arg;
    pthread_mutex_lock(&s->mu);
    s->gap_expected = expected;
    s->gap_got = got;
    pthread_mutex_unlock(&s->mu);
}

static uint64_t got(sink *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->got;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static int wait_for(sink *s, uint64_t n)
{
    for (int i = 0; i < 300 && got(s) < n; i++)
        usleep(10 * 1000);
    return got(s) >= n;
}

static void urls(char *in, char *out, size_t n)
{
    snprintf(in, n, "ipc:///tmp/sb-bus-in-%d", (int)getpid());
    snprintf(out, n, "ipc:///tmp/sb-bus-out-%d", (int)getpid());
}

static void test_delivery_filter_and_gap(void **state)
{
    char in[128], out[128];
    urls(in, out, sizeof in);
    rpc_bus_forwarder *f;
    rpc_bus_pub *p;
    rpc_bus_sub *sub;
    sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_int_equal(rpc_bus_forwarder_open(&f, in, out), 0);
    assert_int_equal(rpc_bus_sub_open(&sub, out, on_gap, &s), 0);
    assert_int_equal(rpc_bus_subscribe(sub, "mail.",
                                       &sb__echo__echo_request__descriptor,
                                       on_event, &s),
                     0);
    assert_int_equal(rpc_bus_pub_open(&p, in, "pub-1"), 0);
    Sb__Echo__EchoRequest ev = SB__ECHO__ECHO_REQUEST__INIT;
    /* pub/sub joins late: publish until the path is up */
    for (int i = 0; i < 300 && got(&s) == 0; i++) {
        ev.seq = 0;
        rpc_bus_publish(p, "mail.warmup", &ev.base);
        usleep(10 * 1000);
    }
    assert_true(got(&s) > 0);
    pthread_mutex_lock(&s.mu);
    s.got = s.last_seq = s.in_order = 0;
    pthread_mutex_unlock(&s.mu);
    for (uint64_t i = 1; i <= 100; i++) {
        ev.seq = i;
        assert_int_equal(rpc_bus_publish(p, "mail.alice", &ev.base), 0);
        /* filtered out by topic: must not count as a gap on mail.* */
        assert_int_equal(rpc_bus_publish(p, "auth.alice", &ev.base), 0);
        if (i % 20 == 0)
            usleep(5 * 1000); /* stay under pub/sub's drop threshold */
    }
    assert_true(wait_for(&s, 100));
    assert_int_equal(s.in_order, 100);
    assert_int_equal(s.wrong_topic, 0);
    assert_int_equal(rpc_bus_sub_gaps(sub), 0);

    /* a raw publisher that skips sequence numbers 2..4 */
    nng_socket raw;
    assert_int_equal(nng_pub0_open(&raw), 0);
    assert_int_equal(nng_dial(raw, in, NULL, 0), 0);
    usleep(200 * 1000);
    uint64_t seqs[] = {1, 5};
    uint64_t before = got(&s);
    for (int i = 0; i < 2; i++) {
        Sb__Rpc__BusEvent be = SB__RPC__BUS_EVENT__INIT;
        uint8_t body[32], frame[256];
        ev.seq = 1000 + (uint64_t)i;
        be.topic = "mail.bob";
        be.publisher = "raw";
        be.seq = seqs[i];
        be.type = (char *)sb__echo__echo_request__descriptor.name;
        be.body.data = body;
        be.body.len = sb__echo__echo_request__pack(&ev, body);
        memcpy(frame, "mail.bob", 9);
        size_t n = 9 + sb__rpc__bus_event__pack(&be, frame + 9);
        assert_int_equal(nng_send(raw, frame, n, 0), 0);
    }
    /* and garbage after the topic: dropped, the subscriber goes on */
    assert_int_equal(nng_send(raw, "mail.x\0\xff\xff\xff", 10, 0), 0);
    assert_true(wait_for(&s, before + 2));
    assert_int_equal(rpc_bus_sub_gaps(sub), 1);
    assert_int_equal(s.gap_expected, 2);
    assert_int_equal(s.gap_got, 5);
    ev.seq = 7;
    before = got(&s);
    assert_int_equal(rpc_bus_publish(p, "mail.alice", &ev.base), 0);
    assert_true(wait_for(&s, before + 1));
    nng_close(raw);
    rpc_bus_pub_close(p);
    rpc_bus_sub_close(sub);
    rpc_bus_forwarder_close(f);
    unlink(in + 6);
    unlink(out + 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivery_filter_and_gap),
    };
    if (getenv("SB_TEST_FILTER") != NULL) /* run one: SB_TEST_FILTER=name */
        cmocka_set_test_filter(getenv("SB_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
