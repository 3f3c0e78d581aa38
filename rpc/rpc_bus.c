/* rpc_bus.c: the bus (see rpc_bus.h). Publishers number their events;
 * subscribers run a receive thread that decodes each event, checks its
 * publisher's sequence for gaps and hands it to the matching callbacks.
 * The forwarder is nng_device() between a raw sub0 and a raw pub0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>

#include "rpc_bus.h"
#include "rpc_internal.h"
#include "sb_log.h"

#define BUS_RECV_MAX (1024 * 1024)
/* Queue depths in messages: pub/sub drops when a queue is full, so deep
 * queues ride out bursts (a drop is still possible and still detected). */
#define BUS_QUEUE 1024

/* Sequences are per (publisher, topic): a subscriber that filters topics
 * out must not mistake what it filtered for what it lost. */
typedef struct bus_topic_seq {
    char *topic;
    uint64_t seq;
} bus_topic_seq;

struct rpc_bus_pub {
    nng_socket sock;
    char id[64];
    uint64_t seq; /* the last one used, on any topic */
    bus_topic_seq *topics;
    size_t n_topics;
    pthread_mutex_t mu; /* seq order == send order */
};

static uint64_t next_seq(rpc_bus_pub *p, const char *topic)
{
    for (size_t i = 0; i < p->n_topics; i++)
        if (strcmp(p->topics[i].topic, topic) == 0)
            return ++p->topics[i].seq;
    bus_topic_seq *nt = realloc(p->topics, (p->n_topics + 1) * sizeof *nt);
    if (nt == NULL)
        return 0;
    p->topics = nt;
    if ((nt[p->n_topics].topic = strdup(topic)) == NULL)
        return 0;
    nt[p->n_topics].seq = 1;
    return nt[p->n_topics++].seq;
}

int rpc_bus_pub_open(rpc_bus_pub **out, const char *url, const char *id)
{
    rpc_bus_pub *p = calloc(1, sizeof *p);
    int rv;
    if (p == NULL)
        return NNG_ENOMEM;
    snprintf(p->id, sizeof p->id, "%s", id);
    if ((rv = nng_pub0_open(&p->sock)) != 0) {
        free(p);
        return rv;
    }
    nng_socket_set_int(p->sock, NNG_OPT_SENDBUF, BUS_QUEUE);
    nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 20);
    nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, 1000);
    if ((rv = nng_dial(p->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
        nng_close(p->sock);
        free(p);
        return rv;
    }
    pthread_mutex_init(&p->mu, NULL);
    *out = p;
    return 0;
}

int rpc_bus_publish(rpc_bus_pub *p, const char *topic,
                    const ProtobufCMessage *event)
{
    Sb__Rpc__BusEvent ev = SB__RPC__BUS_EVENT__INIT;
    size_t tlen = strlen(topic);
    size_t blen = protobuf_c_message_get_packed_size(event);
    uint8_t *body = malloc(blen ? blen : 1);
    if (body == NULL)
        return NNG_ENOMEM;
    protobuf_c_message_pack(event, body);
    ev.topic = (char *)topic;
    ev.publisher = p->id;
    ev.type = (char *)event->descriptor->name;
    ev.body.data = body;
    ev.body.len = blen;
    ev.time_ms = rpc_now_wall_ms();
    nng_msg *msg = NULL;
    pthread_mutex_lock(&p->mu);
    ev.seq = p->seq = next_seq(p, topic);
    size_t elen = protobuf_c_message_get_packed_size(&ev.base);
    int rv = nng_msg_alloc(&msg, tlen + 1 + elen);
    if (rv == 0) {
        uint8_t *m = nng_msg_body(msg);
        memcpy(m, topic, tlen);
        m[tlen] = '\0';
        protobuf_c_message_pack(&ev.base, m + tlen + 1);
        if ((rv = nng_sendmsg(p->sock, msg, NNG_FLAG_NONBLOCK)) != 0)
            nng_msg_free(msg);
    }
    pthread_mutex_unlock(&p->mu);
    free(body);
    return rv;
}

uint64_t rpc_bus_pub_seq(const rpc_bus_pub *p)
{
    return p->seq;
}

void rpc_bus_pub_close(rpc_bus_pub *p)
{
    if (p == NULL)
        return;
    nng_close(p->sock);
    for (size_t i = 0; i < p->n_topics; i++)
        free(p->topics[i].topic);
    free(p->topics);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* ---- subscriber ---- */

typedef struct bus_handler {
    char *prefix;
    const ProtobufCMessageDescriptor *desc;
    rpc_bus_fn fn;
    void *arg;
} bus_handler;

typedef struct bus_peer {
    char id[64];
    char *topic;
    uint64_t last;
} bus_peer;

struct rpc_bus_sub {
    nng_socket sock;
    pthread_t thread;
    pthread_mutex_t mu;
    bus_handler *h;
    size_t n_h;
    bus_peer *peers;
    size_t n_peers;
    rpc_bus_gap_fn gap;
    void *gap_arg;
    uint64_t received, gaps;
    int quit;
};

static void check_gap(rpc_bus_sub *s, const char *pub, const char *topic,
                      uint64_t seq)
{
    bus_peer *p = NULL;
    for (size_t i = 0; i < s->n_peers; i++)
        if (strcmp(s->peers[i].id, pub) == 0 &&
            strcmp(s->peers[i].topic, topic) == 0)
            p = &s->peers[i];
    if (p == NULL) { /* first event from it: the baseline */
        bus_peer *np = realloc(s->peers, (s->n_peers + 1) * sizeof *np);
        if (np == NULL)
            return;
        s->peers = np;
        p = &np[s->n_peers];
        if ((p->topic = strdup(topic)) == NULL)
            return;
        s->n_peers++;
        snprintf(p->id, sizeof p->id, "%s", pub);
        p->last = seq;
        return;
    }
    if (seq > p->last + 1) {
        __atomic_fetch_add(&s->gaps, 1, __ATOMIC_RELAXED);
        if (s->gap != NULL)
            s->gap(s->gap_arg, pub, topic, p->last + 1, seq);
    }
    if (seq > p->last || seq == 1) /* seq 1 again: the publisher restarted */
        p->last = seq;
}

static void deliver(rpc_bus_sub *s, const Sb__Rpc__BusEvent *ev)
{
    rpc_bus_meta meta = {ev->topic, ev->publisher, ev->seq, ev->time_ms};
    pthread_mutex_lock(&s->mu);
    check_gap(s, ev->publisher, ev->topic, ev->seq);
    size_t n = s->n_h;
    bus_handler *hs = malloc((n ? n : 1) * sizeof *hs);
    if (hs != NULL)
        memcpy(hs, s->h, n * sizeof *hs);
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; hs != NULL && i < n; i++) {
        if (strncmp(ev->topic, hs[i].prefix, strlen(hs[i].prefix)) != 0 ||
            strcmp(ev->type, hs[i].desc->name) != 0)
            continue;
        ProtobufCMessage *m = protobuf_c_message_unpack(
            hs[i].desc, NULL, ev->body.len, ev->body.data);
        if (m == NULL) {
            sb_warn("bus", "event on %s does not decode as %s", ev->topic,
                    hs[i].desc->name);
            continue;
        }
        hs[i].fn(hs[i].arg, &meta, m);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    free(hs);
}

static void *sub_main(void *arg)
{
    rpc_bus_sub *s = arg;
    while (!__atomic_load_n(&s->quit, __ATOMIC_ACQUIRE)) {
        nng_msg *msg;
        int rv = nng_recvmsg(s->sock, &msg, 0);
        if (rv == NNG_ECLOSED)
            break;
        if (rv != 0)
            continue; /* receive timeout: look at quit again */
        const uint8_t *b = nng_msg_body(msg);
        size_t len = nng_msg_len(msg);
        const uint8_t *z = memchr(b, '\0', len);
        Sb__Rpc__BusEvent *ev = z ? sb__rpc__bus_event__unpack(
                                        NULL, len - (size_t)(z + 1 - b), z + 1)
                                  : NULL;
        if (ev != NULL && ev->topic && ev->publisher && ev->type) {
            __atomic_fetch_add(&s->received, 1, __ATOMIC_RELAXED);
            deliver(s, ev);
        } else {
            sb_warn("bus", "dropped a malformed event (%zu bytes)", len);
        }
        if (ev != NULL)
            sb__rpc__bus_event__free_unpacked(ev, NULL);
        nng_msg_free(msg);
    }
    return NULL;
}

int rpc_bus_sub_open(rpc_bus_sub **out, const char *url, rpc_bus_gap_fn gap,
                     void *gap_arg)
{
    rpc_bus_sub *s = calloc(1, sizeof *s);
    int rv;
    if (s == NULL)
        return NNG_ENOMEM;
    s->gap = gap;
    s->gap_arg = gap_arg;
    if ((rv = nng_sub0_open(&s->sock)) != 0) {
        free(s);
        return rv;
    }
    pthread_mutex_init(&s->mu, NULL);
    nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, 200);
    nng_socket_set_int(s->sock, NNG_OPT_RECVBUF, BUS_QUEUE);
    nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, BUS_RECV_MAX);
    nng_socket_set_ms(s->sock, NNG_OPT_RECONNMINT, 20);
    nng_socket_set_ms(s->sock, NNG_OPT_RECONNMAXT, 1000);
    if ((rv = nng_dial(s->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0 ||
        (rv = pthread_create(&s->thread, NULL, sub_main, s)) != 0) {
        nng_close(s->sock);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return rv;
    }
    *out = s;
    return 0;
}

int rpc_bus_subscribe(rpc_bus_sub *s, const char *prefix,
                      const ProtobufCMessageDescriptor *desc, rpc_bus_fn fn,
                      void *arg)
{
    int rv = NNG_ENOMEM;
    pthread_mutex_lock(&s->mu);
    bus_handler *nh = realloc(s->h, (s->n_h + 1) * sizeof *nh);
    if (nh != NULL) {
        s->h = nh;
        nh[s->n_h] = (bus_handler){strdup(prefix), desc, fn, arg};
        if (nh[s->n_h].prefix != NULL) {
            s->n_h++;
            rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, prefix,
                                strlen(prefix));
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rv;
}

uint64_t rpc_bus_sub_received(const rpc_bus_sub *s)
{
    return __atomic_load_n(&s->received, __ATOMIC_RELAXED);
}

uint64_t rpc_bus_sub_gaps(const rpc_bus_sub *s)
{
    return __atomic_load_n(&s->gaps, __ATOMIC_RELAXED);
}

void rpc_bus_sub_close(rpc_bus_sub *s)
{
    if (s == NULL)
        return;
    __atomic_store_n(&s->quit, 1, __ATOMIC_RELEASE);
    pthread_join(s->thread, NULL);
    nng_close(s->sock);
    for (size_t i = 0; i < s->n_h; i++)
        free(s->h[i].prefix);
    free(s->h);
    for (size_t i = 0; i < s->n_peers; i++)
        free(s->peers[i].topic);
    free(s->peers);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- forwarder ---- */

struct rpc_bus_forwarder {
    nng_socket in, out;
    pthread_t thread;
};

static void *fwd_main(void *arg)
{
    rpc_bus_forwarder *f = arg;
    nng_device(f->in, f->out); /* returns when a socket closes */
    return NULL;
}

int rpc_bus_forwarder_open(rpc_bus_forwarder **out, const char *in_url,
                           const char *out_url)
{
    rpc_bus_forwarder *f = calloc(1, sizeof *f);
    int rv;
    if (f == NULL)
        return NNG_ENOMEM;
    if ((rv = nng_sub0_open_raw(&f->in)) != 0)
        goto fail0;
    if ((rv = nng_pub0_open_raw(&f->out)) != 0)
        goto fail1;
    nng_socket_set_size(f->in, NNG_OPT_RECVMAXSZ, BUS_RECV_MAX);
    nng_socket_set_int(f->in, NNG_OPT_RECVBUF, BUS_QUEUE);
    nng_socket_set_int(f->out, NNG_OPT_SENDBUF, BUS_QUEUE);
    if ((rv = nng_listen(f->in, in_url, NULL, 0)) != 0 ||
        (rv = nng_listen(f->out, out_url, NULL, 0)) != 0 ||
        (rv = pthread_create(&f->thread, NULL, fwd_main, f)) != 0)
        goto fail2;
    sb_info("bus", "forwarding %s -> %s", in_url, out_url);
    *out = f;
    return 0;
fail2:
    nng_close(f->out);
fail1:
    nng_close(f->in);
fail0:
    sb_error("bus", "cannot start forwarder %s -> %s: %s", in_url, out_url,
             nng_strerror(rv));
    free(f);
    return rv;
}

void rpc_bus_forwarder_close(rpc_bus_forwarder *f)
{
    if (f == NULL)
        return;
    nng_close(f->in);
    nng_close(f->out);
    pthread_join(f->thread, NULL);
    free(f);
}
