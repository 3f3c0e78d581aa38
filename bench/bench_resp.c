/* bench_resp.c: RESP2 over plain sockets for the Redis side of the
 * benchmarks (bench_resp.h): commands as arrays of bulk strings, replies
 * tokenised in place without copying, every connection on one epoll. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_resp.h"
#include "bench_util.h"
#include "rpc.h"

#define RESP_MAX_REPLY (64u << 20) /* a reply bigger than this is an error */
#define RESP_MAX_DEPTH 16

typedef struct rc {
    int fd, busy;
    char *buf; /* received bytes not yet consumed */
    size_t len, cap;
} rc;

struct bench_resp {
    int n, open, inflight, ep;
    rc *c;
    struct epoll_event *evs;
    bench_resp_tok *tok; /* the reply being parsed */
    size_t ntok, captok;
    char *out; /* the command being written */
    size_t outcap;
    uint64_t errors;
};

static int dial(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int conn_fd(void *arg, int i)
{
    return ((bench_resp *)arg)->c[i].fd;
}

int bench_resp_open(bench_resp **out, int port, int n)
{
    bench_resp *r = calloc(1, sizeof *r);

    *out = NULL;
    if (r != NULL)
        r->ep = -1;
    if (r == NULL || n <= 0 ||
        (r->c = calloc((size_t)n, sizeof *r->c)) == NULL ||
        (r->evs = calloc((size_t)n, sizeof *r->evs)) == NULL)
        goto fail;
    for (int i = 0; i < n; i++)
        r->c[i].fd = -1;
    for (; r->n < n; r->n++, r->open++)
        if ((r->c[r->n].fd = dial(port)) < 0) {
            fprintf(stderr,
                    "sb-bench: cannot open connection %d to Redis on "
                    "127.0.0.1:%d: %s\n",
                    r->n + 1, port, strerror(errno));
            goto fail;
        }
    if ((r->ep = bench_epoll_open(conn_fd, r, n)) < 0)
        goto fail;
    *out = r;
    return 0;
fail:
    bench_resp_close(r);
    return -1;
}

static int reserve(char **b, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 4096;
    while (nc < need)
        nc *= 2;
    char *nb = realloc(*b, nc);
    if (nb == NULL)
        return -1;
    *b = nb;
    *cap = nc;
    return 0;
}

int bench_resp_send(bench_resp *r, int conn, int argc, const char *const *argv,
                    const size_t *lens)
{
    rc *c = &r->c[conn];
    size_t n = 0, need = 32;

    if (c->fd < 0 || c->busy)
        return -1;
    for (int i = 0; i < argc; i++)
        need += 32 + (lens ? lens[i] : strlen(argv[i]));
    if (reserve(&r->out, &r->outcap, need) != 0)
        return -1;
    n += (size_t)sprintf(r->out, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        size_t l = lens ? lens[i] : strlen(argv[i]);
        n += (size_t)sprintf(r->out + n, "$%zu\r\n", l);
        memcpy(r->out + n, argv[i], l);
        n += l;
        r->out[n++] = '\r';
        r->out[n++] = '\n';
    }
    if (bench_full_io(c->fd, r->out, n, 1) != 0)
        return -1;
    c->busy = 1;
    r->inflight++;
    return 0;
}

static int add_tok(bench_resp *r, char type, long long n, const char *s,
                   size_t len)
{
    if (r->ntok == r->captok) {
        size_t nc = r->captok ? r->captok * 2 : 256;
        bench_resp_tok *nt = realloc(r->tok, nc * sizeof *nt);
        if (nt == NULL)
            return -1;
        r->tok = nt;
        r->captok = nc;
    }
    r->tok[r->ntok++] = (bench_resp_tok){type, n, s, len};
    return 0;
}

static int parse_ll(const char *s, size_t len, long long *out)
{
    long long v = 0;
    size_t i = 0;
    int neg = len > 0 && s[0] == '-';
    if (neg)
        i++;
    if (i == len)
        return -1;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (1LL << 58))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

/* Tokenises one whole reply at the start of buf. Returns its length, 0
 * when more bytes are needed, -1 when the bytes are not RESP. */
static long parse(bench_resp *r, const char *buf, size_t len)
{
    long long left[RESP_MAX_DEPTH];
    int depth = 1;
    size_t pos = 0;

    left[0] = 1;
    r->ntok = 0;
    while (depth > 0) {
        if (left[depth - 1] == 0) {
            depth--;
            continue;
        }
        left[depth - 1]--;
        if (pos >= len)
            return 0;
        const char *eol = memmem(buf + pos, len - pos, "\r\n", 2);
        if (eol == NULL)
            return len - pos > 4096 ? -1 : 0;
        char type = buf[pos];
        const char *line = buf + pos + 1;
        size_t ll = (size_t)(eol - line), next = (size_t)(eol - buf) + 2;
        long long n = 0;
        if (type == '+' || type == '-') {
            if (add_tok(r, type, 0, line, ll) != 0)
                return -1;
            pos = next;
            continue;
        }
        if ((type != ':' && type != '$' && type != '*') ||
            parse_ll(line, ll, &n) != 0)
            return -1;
        if (type == '$' && n >= 0) {
            if ((size_t)n > RESP_MAX_REPLY)
                return -1;
            if (len - next < (size_t)n + 2)
                return 0;
            if (add_tok(r, type, n, buf + next, (size_t)n) != 0)
                return -1;
            pos = next + (size_t)n + 2;
            continue;
        }
        if (add_tok(r, type, n, NULL, 0) != 0)
            return -1;
        pos = next;
        if (type == '*' && n > 0) {
            if (depth == RESP_MAX_DEPTH)
                return -1;
            left[depth++] = n;
        }
    }
    return (long)pos;
}

static void drop(bench_resp *r, int i)
{
    close(r->c[i].fd);
    r->c[i].fd = -1;
    r->inflight -= r->c[i].busy;
    r->c[i].busy = 0;
    r->open--;
    r->errors++;
}

static int read_some(bench_resp *r, int i, bench_resp_cb cb, void *arg)
{
    rc *c = &r->c[i];
    size_t off = 0;
    long got;

    if (reserve(&c->buf, &c->cap, c->len + 65536) != 0 ||
        c->cap > 2 * RESP_MAX_REPLY)
        return -1;
    ssize_t k = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (k < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (k <= 0)
        return -1;
    c->len += (size_t)k;
    while ((got = parse(r, c->buf + off, c->len - off)) > 0) {
        bench_resp_reply rep = {r->tok, r->ntok};
        off += (size_t)got;
        c->busy = 0;
        r->inflight--;
        cb(arg, i, &rep);
        if (c->fd < 0)
            return 0;
    }
    if (got < 0)
        return -1;
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return 0;
}

int bench_resp_poll(bench_resp *r, int timeout_ms, bench_resp_cb cb, void *arg)
{
    int k = epoll_wait(r->ep, r->evs, r->n, timeout_ms);
    if (k < 0)
        return errno == EINTR ? r->open : -1;
    for (int j = 0; j < k; j++) {
        int i = (int)r->evs[j].data.u32;
        if (r->c[i].fd >= 0 && read_some(r, i, cb, arg) != 0 && r->c[i].fd >= 0)
            drop(r, i);
    }
    return r->open;
}

int bench_resp_call(bench_resp *r, int conn, int argc, const char *const *argv,
                    bench_resp_cb cb, void *arg)
{
    int64_t end = rpc_now_mono_us() + 10000000;

    if (bench_resp_send(r, conn, argc, argv, NULL) != 0)
        return -1;
    while (r->c[conn].busy && rpc_now_mono_us() < end)
        if (bench_resp_poll(r, 100, cb, arg) < 0)
            return -1;
    return r->c[conn].busy || r->c[conn].fd < 0 ? -1 : 0;
}

int bench_resp_in_flight(const bench_resp *r)
{
    return r->inflight;
}

uint64_t bench_resp_errors(const bench_resp *r)
{
    return r->errors;
}

void bench_resp_close(bench_resp *r)
{
    if (r == NULL)
        return;
    for (int i = 0; r->c != NULL && i < r->n; i++) {
        if (r->c[i].fd >= 0)
            close(r->c[i].fd);
        free(r->c[i].buf);
    }
    if (r->ep >= 0)
        close(r->ep);
    free(r->c);
    free(r->evs);
    free(r->tok);
    free(r->out);
    free(r);
}
