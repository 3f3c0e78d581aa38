/* hc.c: the raw HTTP/1.1 test client (see hc.h). */
#define _GNU_SOURCE
#include "hc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hc_connect(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((unsigned short)port)};
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

int hc_send(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static int buf_add(buf *b, const char *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (q == NULL)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

/* Reads more into b before the deadline: 1 read, 0 closed, -1 timeout. */
static int fill(int fd, buf *b, long long deadline)
{
    char tmp[16384];
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    long long left = deadline - now_ms();
    ssize_t k;

    if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
        return -1;
    k = recv(fd, tmp, sizeof tmp, 0);
    if (k <= 0)
        return 0;
    return buf_add(b, tmp, (size_t)k) == 0 ? 1 : -1;
}

/* Undoes chunked encoding of b->p[off..]; 1 whole, 0 more needed. */
static int dechunk(const buf *b, size_t off, buf *out)
{
    size_t i = off;

    out->n = 0;
    for (;;) {
        char *end;
        const char *nl = memmem(b->p + i, b->n - i, "\r\n", 2);
        if (nl == NULL)
            return 0;
        unsigned long len = strtoul(b->p + i, &end, 16);
        i = (size_t)(nl - b->p) + 2;
        if (len == 0)
            return memmem(b->p + i, b->n - i, "\r\n", 2) != NULL;
        if (b->n - i < len + 2)
            return 0;
        if (buf_add(out, b->p + i, len) != 0)
            return 0;
        i += len + 2;
    }
}

int hc_read(int fd, hc_resp *r, int ms)
{
    long long deadline = now_ms() + ms;
    buf b = {0}, body = {0};
    char *eoh = NULL, v[64];
    int rc = -1, got;

    memset(r, 0, sizeof *r);
    while ((eoh = b.p ? strstr(b.p, "\r\n\r\n") : NULL) == NULL)
        if ((got = fill(fd, &b, deadline)) <= 0) {
            r->closed = got == 0;
            goto out;
        }
    r->head = strndup(b.p, (size_t)(eoh - b.p) + 2);
    sscanf(b.p, "HTTP/1.%*d %d", &r->status);
    size_t off = (size_t)(eoh - b.p) + 4;
    int chunked = hc_header(r, "Transfer-Encoding", v, sizeof v) &&
                  strcasestr(v, "chunked") != NULL;
    long long cl = hc_header(r, "Content-Length", v, sizeof v)
                       ? atoll(v)
                       : (r->status == 304 || r->status == 204 ? 0 : -1);
    for (;;) {
        if (chunked && dechunk(&b, off, &body))
            break;
        if (!chunked && cl >= 0 && (long long)(b.n - off) >= cl) {
            buf_add(&body, b.p + off, (size_t)cl);
            break;
        }
        if ((got = fill(fd, &b, deadline)) <= 0) {
            r->closed = got == 0;
            if (got == 0 && !chunked && cl < 0) {
                buf_add(&body, b.p + off, b.n - off);
                break;
            }
            goto out;
        }
    }
    rc = 0;
out:
    r->body = body.p ? body.p : strdup("");
    r->blen = body.n;
    free(b.p);
    return rc;
}

int hc_request(int port, const char *method, const char *path,
               const char *headers, const char *body, hc_resp *r, int ms)
{
    size_t cap = strlen(path) + (headers ? strlen(headers) : 0) + 256;
    char *head = malloc(cap);
    int fd = hc_connect(port), rc = -1;

    memset(r, 0, sizeof *r);
    if (fd < 0 || head == NULL) {
        free(head);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(head, cap,
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
             "%s%s\r\n",
             method, path, port, headers ? headers : "", "");
    if (body != NULL) {
        size_t n = strlen(head) - 2;
        snprintf(head + n, cap - n, "Content-Length: %zu\r\n\r\n",
                 strlen(body));
    }
    /* read even when the send failed: a server may answer (431, 413)
     * and close before taking all of a request */
    if (hc_send(fd, head, strlen(head)) == 0 && body != NULL)
        hc_send(fd, body, strlen(body));
    rc = hc_read(fd, r, ms);
    close(fd);
    free(head);
    return rc;
}

const char *hc_header(const hc_resp *r, const char *name, char *out, size_t n)
{
    size_t k = strlen(name);

    for (const char *p = r->head ? strstr(r->head, "\r\n") : NULL; p != NULL;
         p = strstr(p + 2, "\r\n")) {
        const char *h = p + 2;
        if (strncasecmp(h, name, k) == 0 && h[k] == ':') {
            const char *v = h + k + 1, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            size_t len = e ? (size_t)(e - v) : strlen(v);
            snprintf(out, n, "%.*s", (int)len, v);
            return out;
        }
    }
    return NULL;
}

void hc_free(hc_resp *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

int hc_wait_closed(int fd, int ms)
{
    long long deadline = now_ms() + ms;
    char tmp[4096];

    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        long long left = deadline - now_ms();
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            return 0;
        ssize_t k = recv(fd, tmp, sizeof tmp, 0);
        if (k <= 0)
            return 1;
    }
}

int hc_sse_open(hc_sse *s, int port, const char *path, const char *cookie,
                const char *headers)
{
    char req[2048];

    memset(s, 0, sizeof *s);
    if ((s->fd = hc_connect(port)) < 0)
        return -1;
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: "
             "text/event-stream\r\n%s%s%s%s\r\n",
             path, port, cookie ? "Cookie: " : "", cookie ? cookie : "",
             cookie ? "\r\n" : "", headers ? headers : "");
    return hc_send(s->fd, req, strlen(req));
}

/* Moves decoded bytes from raw to ev; returns 0, or -1 on bad framing. */
static int sse_decode(hc_sse *s)
{
    buf raw = {s->raw, s->rlen, s->rcap}, ev = {s->ev, s->elen, s->ecap};
    size_t used = 0;

    if (!s->head_done) {
        char *eoh = raw.p ? memmem(raw.p, raw.n, "\r\n\r\n", 4) : NULL;
        if (eoh == NULL)
            return 0;
        sscanf(raw.p, "HTTP/1.%*d %d", &s->status);
        s->chunked = memmem(raw.p, (size_t)(eoh - raw.p), "chunked", 7) != NULL;
        s->head_done = 1;
        used = (size_t)(eoh - raw.p) + 4;
    }
    while (used < raw.n) {
        if (!s->chunked) {
            buf_add(&ev, raw.p + used, raw.n - used);
            used = raw.n;
            break;
        }
        char *nl = memmem(raw.p + used, raw.n - used, "\r\n", 2);
        if (nl == NULL)
            break;
        unsigned long len = strtoul(raw.p + used, NULL, 16);
        size_t at = (size_t)(nl - raw.p) + 2;
        if (len == 0) {
            s->closed = 1;
            used = raw.n;
            break;
        }
        if (raw.n - at < len + 2)
            break;
        buf_add(&ev, raw.p + at, len);
        used = at + len + 2;
    }
    memmove(raw.p, raw.p + used, raw.n - used);
    s->rlen = raw.n - used;
    s->ev = ev.p, s->elen = ev.n, s->ecap = ev.cap;
    return 0;
}

int hc_sse_pump(hc_sse *s)
{
    char tmp[65536];
    int got = 0;

    for (;;) {
        ssize_t k = recv(s->fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (k > 0) {
            buf raw = {s->raw, s->rlen, s->rcap};
            buf_add(&raw, tmp, (size_t)k);
            s->raw = raw.p, s->rlen = raw.n, s->rcap = raw.cap;
            got = 1;
            continue;
        }
        if (k == 0)
            s->closed = 1;
        break;
    }
    if (got)
        sse_decode(s);
    return s->closed && !got ? -1 : got;
}

char *hc_sse_next(hc_sse *s)
{
    char *end = s->ev ? memmem(s->ev, s->elen, "\n\n", 2) : NULL, *out;
    size_t n;

    if (end == NULL)
        return NULL;
    n = (size_t)(end - s->ev);
    out = strndup(s->ev, n);
    memmove(s->ev, end + 2, s->elen - n - 2);
    s->elen -= n + 2;
    s->ev[s->elen] = '\0';
    return out;
}

void hc_sse_close(hc_sse *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->raw);
    free(s->ev);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}
