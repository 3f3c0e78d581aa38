/* bench_wire.c: the framework's wire format spoken over plain sockets for
 * load generators (bench_wire.h). SP over TCP: each side first sends
 * 00 'S' 'P' 00 <protocol, 16 bits> 00 00 (req0 = 0x30, rep0 = 0x31);
 * then every message is a 64-bit big-endian length and that many bytes.
 * A req0 message is a 32-bit request id with its top bit set followed by
 * the body; rep0 answers with the same id in front of the reply. The body
 * is the sb.rpc Call envelope, the reply an sb.rpc Reply. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench_wire.h"
#include "rpc.h"

#define WIRE_MAX_FRAME (4u << 20) /* a reply bigger than this is an error */

typedef struct wconn {
    int fd;
    int busy; /* a call in flight */
    uint32_t next_id;
    uint8_t *buf; /* received bytes not yet consumed */
    size_t len, cap;
} wconn;

struct bench_wire {
    int n, open;
    wconn *c;
    int ep;       /* epoll over every connection, data.u32 = index */
    int inflight; /* connections with a call in flight */
    struct epoll_event *evs;
    uint64_t errors;
    uint64_t rng[2]; /* xorshift128+ for request ids, seeded by getrandom */
};

static uint64_t next_rand(bench_wire *w)
{
    uint64_t s1 = w->rng[0];
    const uint64_t s0 = w->rng[1];
    w->rng[0] = s0;
    s1 ^= s1 << 23;
    w->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return w->rng[1] + s0;
}

static int parse_url(const char *url, char *host, size_t hostsz, char *port,
                     size_t portsz)
{
    const char *p = url, *colon;
    if (strncmp(p, "tcp://", 6) != 0)
        return -1;
    p += 6;
    if ((colon = strrchr(p, ':')) == NULL || colon == p ||
        (size_t)(colon - p) >= hostsz || strlen(colon + 1) >= portsz ||
        colon[1] == '\0')
        return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    strcpy(port, colon + 1);
    return 0;
}

/* Connects and exchanges SP headers; the peer must be rep0. */
static int dial(const struct addrinfo *ai)
{
    static const uint8_t hello[8] = {0, 'S', 'P', 0, 0x00, 0x30, 0, 0};
    uint8_t peer[8];
    int one = 1, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        bench_full_io(fd, (void *)hello, sizeof hello, 1) != 0 ||
        bench_full_io(fd, peer, sizeof peer, 0) != 0 || peer[0] != 0 ||
        peer[1] != 'S' || peer[2] != 'P' || peer[4] != 0x00 ||
        peer[5] != 0x31) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Resolves url and dials it; -1 with a message on stderr. */
static int dial_url(const char *url, int i)
{
    char host[256], port[16];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int fd;

    if (parse_url(url, host, sizeof host, port, sizeof port) != 0) {
        fprintf(stderr,
                "sb-bench: the wire client takes tcp://HOST:PORT, "
                "not '%s' (--client nng speaks every nng transport)\n",
                url);
        return -1;
    }
    if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
        fprintf(stderr, "sb-bench: cannot resolve %s\n", url);
        return -1;
    }
    if ((fd = dial(ai)) < 0)
        fprintf(stderr,
                "sb-bench: cannot open connection %d to %s as an SP "
                "req0 peer: %s\n",
                i + 1, url, strerror(errno));
    freeaddrinfo(ai);
    return fd;
}

static int conn_fd(void *arg, int i)
{
    return ((bench_wire *)arg)->c[i].fd;
}

int bench_wire_open(bench_wire **out, const char *const *urls, int n)
{
    bench_wire *w = calloc(1, sizeof *w);

    *out = NULL;
    if (w != NULL)
        w->ep = -1;
    if (w == NULL || n <= 0 ||
        (w->c = calloc((size_t)n, sizeof *w->c)) == NULL ||
        (w->evs = calloc((size_t)n, sizeof *w->evs)) == NULL ||
        getrandom(w->rng, sizeof w->rng, 0) != (ssize_t)sizeof w->rng)
        goto fail;
    w->rng[0] |= 1;
    for (int i = 0; i < n; i++)
        w->c[i].fd = -1;
    for (int i = 0; i < n; i++, w->n++) {
        if ((w->c[i].fd = dial_url(urls[i], i)) < 0)
            goto fail;
        w->c[i].next_id = (uint32_t)next_rand(w);
        w->open++;
    }
    if ((w->ep = bench_epoll_open(conn_fd, w, n)) < 0)
        goto fail;
    *out = w;
    return 0;
fail:
    bench_wire_close(w);
    return -1;
}

int bench_wire_send(bench_wire *w, int conn, const char *method,
                    const char *token, const uint8_t *body, size_t len)
{
    wconn *c = &w->c[conn];
    uint8_t rid[16], stackbuf[1024], *frame = stackbuf;
    Sb__Rpc__Call call = SB__RPC__CALL__INIT;
    int rc = -1;

    if (c->fd < 0 || c->busy)
        return -1;
    uint64_t r0 = next_rand(w), r1 = next_rand(w);
    memcpy(rid, &r0, 8);
    memcpy(rid + 8, &r1, 8);
    rpc_request_id_stamp(rid); /* time-ordered, as rpc_client makes them */
    call.method = (char *)method;
    call.request_id.data = rid;
    call.request_id.len = sizeof rid;
    call.timeout_ms = 10000;
    call.token = (char *)(token != NULL ? token : "");
    call.body.data = (uint8_t *)body;
    call.body.len = len;
    size_t sz = sb__rpc__call__get_packed_size(&call), total = 12 + sz;
    if (total > sizeof stackbuf && (frame = malloc(total)) == NULL)
        return -1;
    uint64_t be = (uint64_t)(4 + sz);
    for (int i = 7; i >= 0; i--, be >>= 8)
        frame[i] = (uint8_t)be;
    uint32_t id = (c->next_id++) | 0x80000000u;
    frame[8] = (uint8_t)(id >> 24), frame[9] = (uint8_t)(id >> 16);
    frame[10] = (uint8_t)(id >> 8), frame[11] = (uint8_t)id;
    sb__rpc__call__pack(&call, frame + 12);
    if (bench_full_io(c->fd, frame, total, 1) == 0) {
        c->busy = 1;
        w->inflight++;
        rc = 0;
    }
    if (frame != stackbuf)
        free(frame);
    return rc;
}

static void drop(bench_wire *w, int i)
{
    close(w->c[i].fd); /* closing also takes it out of the epoll set */
    w->c[i].fd = -1;
    w->inflight -= w->c[i].busy;
    w->c[i].busy = 0;
    w->open--;
    w->errors++;
}

/* Hands every whole frame buffered on connection i to cb; -1 = drop it. */
static int deliver(bench_wire *w, int i, bench_wire_cb cb, void *arg)
{
    wconn *c = &w->c[i];
    size_t off = 0;
    while (c->len - off >= 8) {
        uint64_t flen = 0;
        for (int k = 0; k < 8; k++)
            flen = flen << 8 | c->buf[off + k];
        if (flen < 4 || flen > WIRE_MAX_FRAME)
            return -1;
        if (c->len - off < 8 + flen)
            break;
        Sb__Rpc__Reply *rep =
            sb__rpc__reply__unpack(NULL, (size_t)flen - 4, c->buf + off + 12);
        off += 8 + (size_t)flen;
        if (rep == NULL)
            return -1;
        c->busy = 0;
        w->inflight--;
        cb(arg, i, rep);
        sb__rpc__reply__free_unpacked(rep, NULL);
        if (c->fd < 0)
            return 0;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return 0;
}

static int read_some(bench_wire *w, int i, bench_wire_cb cb, void *arg)
{
    wconn *c = &w->c[i];
    if (c->cap - c->len < 4096) {
        size_t ncap = c->cap ? c->cap * 2 : 16384;
        uint8_t *nb;
        if (ncap > 2 * WIRE_MAX_FRAME + 16 ||
            (nb = realloc(c->buf, ncap)) == NULL)
            return -1;
        c->buf = nb;
        c->cap = ncap;
    }
    ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (r <= 0)
        return -1;
    c->len += (size_t)r;
    return deliver(w, i, cb, arg);
}

int bench_wire_poll(bench_wire *w, int timeout_ms, bench_wire_cb cb, void *arg)
{
    int k = epoll_wait(w->ep, w->evs, w->n, timeout_ms);
    if (k < 0)
        return errno == EINTR ? w->open : -1;
    for (int j = 0; j < k; j++) {
        int i = (int)w->evs[j].data.u32;
        if (w->c[i].fd >= 0 && read_some(w, i, cb, arg) != 0 && w->c[i].fd >= 0)
            drop(w, i);
    }
    return w->open;
}

int bench_wire_in_flight(const bench_wire *w)
{
    return w->inflight;
}

uint64_t bench_wire_errors(const bench_wire *w)
{
    return w->errors;
}

void bench_wire_close(bench_wire *w)
{
    if (w == NULL)
        return;
    for (int i = 0; w->c != NULL && i < w->n; i++) {
        if (w->c[i].fd >= 0)
            close(w->c[i].fd);
        free(w->c[i].buf);
    }
    if (w->ep >= 0)
        close(w->ep);
    free(w->c);
    free(w->evs);
    free(w);
}
