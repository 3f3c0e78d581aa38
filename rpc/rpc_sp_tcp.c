/* rpc_sp_tcp.c: a server's tcp:// listener served by one epoll thread
 * instead of nng's rep0 socket (rpc_server_config.tcp_engine =
 * RPC_TCP_EPOLL). It speaks the same bytes nng puts on the wire (the SP
 * TCP mapping: an 8-byte handshake, then frames of a 64-bit big-endian
 * length and the message; REP's backtrace header of 32-bit words, the
 * last with its high bit set), so every nng REQ client talks to it
 * unchanged. Why: nng 1.5.2 hands each completion of a call (header read,
 * body read, protocol, user callback, send) to a task thread, 4–5 hand-offs
 * and about one context switch per call; here a readable socket is read
 * once, every whole frame in it is dispatched, and the replies made on this
 * thread go out in one write per connection per loop turn, as Redis does.
 * Calls enter the server's ordinary call path (rpc_server_sp_call), so
 * workers, deferred replies, deadlines and stats behave as with nng;
 * replies made on other threads come back through a queue and an eventfd. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc_server_internal.h"
#include "sb_log.h"

#define SP_MAX_HOPS 8            /* nng's default NNG_OPT_MAXTTL */
#define SP_READ_CHUNK 65536      /* at least this much room per read */
#define SP_OUT_PAUSE (4u << 20)  /* unsent bytes that stop a conn's reads */
#define SP_ACCEPT_BACKOFF_MS 100 /* out of descriptors: retry accepting */
#define SP_SPARE_CALLS 64        /* call objects kept for reuse */
#define SP_HELLO_MS 10000        /* nng's limit for a peer's handshake */
#define SP_WARN_EVERY_MS 10000   /* one accept warning per this at most */
#define SP_SWEEP_MS                                                            \
    1000 /* overdue handshakes, idle conns: looked                             \
            for this often */

/* SP handshake: 0x00 'S' 'P' 0x00, our protocol (REP, 0x31), reserved. */
static const uint8_t sp_hello[8] = {0, 'S', 'P', 0, 0x00, 0x31, 0, 0};
#define SP_PEER_REQ 0x30

typedef struct sp_reply {
    uint64_t conn;
    nng_msg *msg;
    struct sp_reply *next;
} sp_reply;

typedef struct sp_conn {
    int fd;
    uint32_t gen; /* the id's high half: replies to a closed conn drop */
    int greeted;  /* the peer's handshake has been read and checked */
    int dirty;    /* on the loop's flush list */
    uint64_t closed_turn;
    int64_t hello_by; /* monotonic ms: the handshake must be in by then */
    uint32_t ev;      /* the epoll events registered */
    uint8_t *in;      /* bytes read, not yet a whole frame */
    size_t in_len, in_cap;
    uint8_t *out; /* frames not yet written; out_off of them are */
    size_t out_len, out_off, out_cap;
    rpc_addr from;     /* the peer (rpc_conns: per-address cap) */
    uint32_t inflight; /* calls not answered yet */
    int64_t last_ms;   /* last call or reply (client_idle_ms set) */
} sp_conn;

struct rpc_sp_loop {
    rpc_server *s;
    char url[320];
    int lfd, ep, efd;
    size_t recv_max;
    pthread_t th;
    int running;
    int quit;           /* atomic */
    int accept_paused;  /* EMFILE: the listener is out of the epoll set */
    int64_t accept_at;  /* when to re-add it (monotonic ms) */
    int64_t warned_at;  /* the last accept warning (monotonic ms) */
    uint32_t ungreeted; /* open conns whose handshake has not come */
    uint32_t n_open;    /* open conns */
    int64_t idle_ms;    /* rpc_server_config.client_idle_ms; 0 = none */
    int64_t sweep_at;   /* next look for handshakes overdue, idle conns */
    sp_conn **conns;    /* by index; fd < 0 = free for reuse */
    uint32_t n_conns, cap_conns;
    uint32_t *dirty; /* indices of conns with output to write */
    uint32_t n_dirty;
    pthread_mutex_t mu; /* guards the reply queue */
    sp_reply *q_head, *q_tail;
    int q_signalled; /* the eventfd was written since the last drain */
    void *spare[SP_SPARE_CALLS]; /* finished call objects (this thread's) */
    int n_spare;
    uint64_t turn; /* loop turns: a slot closed this turn is not reused in
                      it, so no event of this turn reaches a new peer */
    uint8_t rbuf[SP_READ_CHUNK]; /* reads of connections with no partial
                                    frame land here */
};

static uint64_t conn_id(const sp_conn *c, uint32_t idx)
{
    return ((uint64_t)c->gen << 32) | idx;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Grows *buf to hold need bytes (doubling); 0 or -1. */
static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    uint8_t *b = realloc(*buf, n);
    if (b == NULL)
        return -1;
    *buf = b;
    *cap = n;
    return 0;
}

static void set_events(rpc_sp_loop *l, sp_conn *c, uint32_t idx, uint32_t ev)
{
    if (c->ev == ev)
        return;
    struct epoll_event e = {.events = ev, .data.u64 = idx};
    epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &e);
    c->ev = ev;
}

static void conn_close(rpc_sp_loop *l, uint32_t idx, const char *why)
{
    sp_conn *c = l->conns[idx];
    if (c->fd < 0)
        return;
    sb_debug(l->s->name, "%s: connection %u closed: %s", l->url, idx, why);
    if (!c->greeted)
        l->ungreeted--;
    l->n_open--;
    rpc_conns_addr_remove(l->s->conns, &c->from);
    epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->closed_turn = l->turn;
    c->gen++; /* late replies to this id are dropped */
    free(c->in);
    free(c->out);
    c->in = c->out = NULL;
    c->in_len = c->in_cap = c->out_len = c->out_off = c->out_cap = 0;
    /* the slot is reused by the next accept; its flush entry, if any,
     * finds fd < 0 and skips it */
}

/* Writes what is pending; waits for EPOLLOUT on a full socket and stops
 * reading while too much is unsent (a peer that does not read its
 * replies must not make us buffer without bound). */
static void conn_flush(rpc_sp_loop *l, uint32_t idx)
{
    sp_conn *c = l->conns[idx];
    c->dirty = 0;
    if (c->fd < 0)
        return;
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0)
            return conn_close(l, idx, strerror(errno));
        c->out_off += (size_t)n;
    }
    size_t left = c->out_len - c->out_off;
    if (left == 0) {
        c->out_len = c->out_off = 0;
        if (c->out_cap > SP_READ_CHUNK) { /* a burst's buffer: give it back */
            free(c->out);
            c->out = NULL;
            c->out_cap = 0;
        }
    } else if (c->out_off > c->out_cap / 2) {
        memmove(c->out, c->out + c->out_off, left);
        c->out_len = left;
        c->out_off = 0;
    }
    uint32_t ev = (left > 0 ? EPOLLOUT : 0) |
                  (left > SP_OUT_PAUSE ? 0 : EPOLLIN | EPOLLRDHUP);
    set_events(l, c, idx, ev);
}

/* Queues msg (header: the backtrace; body: the reply) on conn idx. */
static void conn_put_reply(rpc_sp_loop *l, uint64_t id, nng_msg *msg)
{
    uint32_t idx = (uint32_t)id;
    sp_conn *c = idx < l->n_conns ? l->conns[idx] : NULL;
    size_t hl = nng_msg_header_len(msg), bl = nng_msg_len(msg);
    if (c == NULL || c->fd < 0 || conn_id(c, idx) != id)
        goto out; /* the caller hung up: nng drops such replies too */
    if (c->inflight > 0)
        c->inflight--;
    if (l->idle_ms > 0)
        c->last_ms = rpc_now_mono_ms();
    if (grow(&c->out, &c->out_cap, c->out_len + 8 + hl + bl) != 0) {
        conn_close(l, idx, "out of memory for a reply");
        goto out;
    }
    put_be64(c->out + c->out_len, hl + bl);
    memcpy(c->out + c->out_len + 8, nng_msg_header(msg), hl);
    memcpy(c->out + c->out_len + 8 + hl, nng_msg_body(msg), bl);
    c->out_len += 8 + hl + bl;
    if (!c->dirty) {
        c->dirty = 1;
        l->dirty[l->n_dirty++] = idx;
    }
out:
    nng_msg_free(msg);
}

/* The loop this thread runs, if it is a loop's thread: set by the thread
 * itself, so no other thread reads a half-written id. */
static __thread const rpc_sp_loop *this_loop;

static int on_loop(const rpc_sp_loop *l)
{
    return this_loop == l;
}

void *rpc_sp_take_spare(rpc_sp_loop *l)
{
    return on_loop(l) && l->n_spare > 0 ? l->spare[--l->n_spare] : NULL;
}

int rpc_sp_keep_spare(rpc_sp_loop *l, void *call)
{
    if (!on_loop(l) || l->n_spare == SP_SPARE_CALLS)
        return 0;
    l->spare[l->n_spare++] = call;
    return 1;
}

void *rpc_sp_spare_left(rpc_sp_loop *l)
{
    return l != NULL && !l->running && l->n_spare > 0 ? l->spare[--l->n_spare]
                                                      : NULL;
}

void rpc_sp_reply(rpc_sp_loop *l, uint64_t conn, nng_msg *msg)
{
    if (on_loop(l))
        return conn_put_reply(l, conn, msg);
    sp_reply *r = malloc(sizeof *r);
    if (r == NULL) { /* the caller's deadline covers a lost reply */
        nng_msg_free(msg);
        return;
    }
    r->conn = conn;
    r->msg = msg;
    r->next = NULL;
    pthread_mutex_lock(&l->mu);
    int wake = !l->q_signalled;
    l->q_signalled = 1;
    if (l->q_tail != NULL)
        l->q_tail->next = r;
    else
        l->q_head = r;
    l->q_tail = r;
    pthread_mutex_unlock(&l->mu);
    if (wake) {
        uint64_t one = 1;
        if (write(l->efd, &one, sizeof one) < 0)
            sb_warn(l->s->name, "cannot wake the tcp loop: %s",
                    strerror(errno));
    }
}

static void drain_replies(rpc_sp_loop *l)
{
    uint64_t v;
    if (read(l->efd, &v, sizeof v) < 0 && errno != EAGAIN)
        sb_warn(l->s->name, "eventfd: %s", strerror(errno));
    pthread_mutex_lock(&l->mu);
    sp_reply *r = l->q_head;
    l->q_head = l->q_tail = NULL;
    l->q_signalled = 0;
    pthread_mutex_unlock(&l->mu);
    while (r != NULL) {
        sp_reply *next = r->next;
        conn_put_reply(l, r->conn, r->msg);
        free(r);
        r = next;
    }
}

/* One whole frame p[0..len) from conn idx: the backtrace goes to the
 * message header (the reply repeats it), the rest is the Call. Returns 0,
 * or -1 when the peer speaks garbage and must be dropped. */
static int conn_frame(rpc_sp_loop *l, uint32_t idx, const uint8_t *p,
                      size_t len)
{
    size_t hl = 0;
    for (int hops = 1;; hops++) {
        if (len - hl < 4)
            return -1; /* no end of the backtrace: nng kicks such a peer */
        hl += 4;
        if (p[hl - 4] & 0x80u)
            break;
        if (hops >= SP_MAX_HOPS)
            return 0; /* too many devices on the way: dropped, as nng does */
    }
    nng_msg *msg;
    if (nng_msg_alloc(&msg, len - hl) != 0)
        return 0; /* out of memory: the caller's deadline covers it */
    memcpy(nng_msg_body(msg), p + hl, len - hl);
    if (nng_msg_header_append(msg, p, hl) != 0) {
        nng_msg_free(msg);
        return 0;
    }
    sp_conn *c = l->conns[idx];
    c->inflight++;
    if (l->idle_ms > 0)
        c->last_ms = rpc_now_mono_ms();
    rpc_server_sp_call(l->s, l, conn_id(c, idx), &c->from, msg);
    return 0;
}

/* Consumes the handshake and every whole frame in buf[0..len): returns
 * how many bytes were used, or -1 when the peer must be dropped. The
 * connection may be closed on return (a reply it could not buffer). */
static ssize_t conn_parse(rpc_sp_loop *l, uint32_t idx, const uint8_t *buf,
                          size_t len)
{
    sp_conn *c = l->conns[idx];
    size_t off = 0;
    if (!c->greeted) {
        if (len < 8)
            return 0;
        if (memcmp(buf, sp_hello, 4) != 0 || buf[4] != 0 ||
            buf[5] != SP_PEER_REQ || buf[6] != 0 || buf[7] != 0)
            return -1;
        c->greeted = 1;
        l->ungreeted--;
        off = 8;
    }
    while (len - off >= 8 && c->fd >= 0) {
        uint64_t flen = get_be64(buf + off);
        if (flen > l->recv_max)
            return -1; /* as nng: a frame over the limit drops the peer */
        if (len - off - 8 < flen)
            break;
        if (conn_frame(l, idx, buf + off + 8, (size_t)flen) != 0)
            return -1;
        off += 8 + (size_t)flen;
    }
    return (ssize_t)off;
}

/* Reads what the socket has. A connection with no partial frame reads
 * into the loop's own buffer and keeps only a frame's unread tail, so an
 * idle connection holds no input memory; one with a partial frame reads
 * onto it. */
static void conn_readable(rpc_sp_loop *l, uint32_t idx)
{
    sp_conn *c = l->conns[idx];
    /* a few reads at most: one busy peer must not starve the others */
    for (int rounds = 0; rounds < 4 && c->fd >= 0; rounds++) {
        int shared = c->in_len == 0;
        if (!shared && grow(&c->in, &c->in_cap, c->in_len + SP_READ_CHUNK) != 0)
            return conn_close(l, idx, "out of memory");
        uint8_t *dst = shared ? l->rbuf : c->in + c->in_len;
        size_t room = shared ? sizeof l->rbuf : c->in_cap - c->in_len;
        ssize_t n = recv(c->fd, dst, room, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0)
            return conn_close(l, idx, n == 0 ? "peer closed" : strerror(errno));
        if (!shared)
            c->in_len += (size_t)n;
        const uint8_t *buf = shared ? l->rbuf : c->in;
        size_t len = shared ? (size_t)n : c->in_len;
        ssize_t used = conn_parse(l, idx, buf, len);
        if (used < 0)
            return conn_close(l, idx,
                              c->greeted ? "bad or oversized frame"
                                         : "not an SP REQ peer");
        if (c->fd < 0)
            return;
        size_t left = len - (size_t)used;
        if (shared && left > 0) {
            if (grow(&c->in, &c->in_cap, left) != 0)
                return conn_close(l, idx, "out of memory");
            memcpy(c->in, buf + used, left);
        } else if (!shared)
            memmove(c->in, c->in + used, left);
        c->in_len = left;
        if (left == 0) { /* nothing partial: give the memory back */
            free(c->in);
            c->in = NULL;
            c->in_cap = 0;
        }
        if ((size_t)n < room)
            return; /* a short read: the socket is empty for now */
    }
}

/* A free conn slot (growing the table), or UINT32_MAX. */
static uint32_t conn_slot(rpc_sp_loop *l)
{
    for (uint32_t i = 0; i < l->n_conns; i++)
        if (l->conns[i]->fd < 0 && !l->conns[i]->dirty &&
            l->conns[i]->closed_turn != l->turn)
            return i;
    if (l->n_conns == l->cap_conns) {
        uint32_t cap = l->cap_conns ? l->cap_conns * 2 : 64;
        sp_conn **nc = realloc(l->conns, cap * sizeof *nc);
        if (nc == NULL)
            return UINT32_MAX;
        l->conns = nc;
        uint32_t *nd = realloc(l->dirty, cap * sizeof *nd);
        if (nd == NULL)
            return UINT32_MAX;
        l->dirty = nd;
        l->cap_conns = cap;
    }
    sp_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return UINT32_MAX;
    c->fd = -1;
    l->conns[l->n_conns] = c;
    return l->n_conns++;
}

/* An accepted peer's address in rpc_conns' form. */
static void sp_addr(const struct sockaddr_storage *ss, rpc_addr *a)
{
    if (ss->ss_family == AF_INET) {
        a->family = 4;
        memcpy(a->ip, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        a->family = 6;
        memcpy(a->ip, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    }
}

static void accept_all(rpc_sp_loop *l)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(l->lfd, (struct sockaddr *)&ss, &sl,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                int64_t now = rpc_now_mono_ms();
                if (l->warned_at == 0 ||
                    now - l->warned_at >= SP_WARN_EVERY_MS) {
                    sb_warn(l->s->name,
                            "%s: cannot accept: %s (retrying "
                            "every %d ms; said at most every %d s)",
                            l->url, strerror(errno), SP_ACCEPT_BACKOFF_MS,
                            SP_WARN_EVERY_MS / 1000);
                    l->warned_at = now;
                }
                epoll_ctl(l->ep, EPOLL_CTL_DEL, l->lfd, NULL);
                l->accept_paused = 1;
                l->accept_at = now + SP_ACCEPT_BACKOFF_MS;
            }
            return;
        }
        rpc_addr from = {0};
        sp_addr(&ss, &from);
        if (rpc_conns_addr_add(l->s->conns, &from) != 0) {
            close(fd); /* over max_conns_per_addr (counted, logged) */
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        uint32_t idx = conn_slot(l);
        if (idx == UINT32_MAX) {
            rpc_conns_addr_remove(l->s->conns, &from);
            close(fd);
            continue;
        }
        sp_conn *c = l->conns[idx];
        c->fd = fd;
        c->from = from;
        c->inflight = 0;
        c->last_ms = rpc_now_mono_ms();
        l->n_open++;
        c->greeted = 0;
        c->hello_by = rpc_now_mono_ms() + SP_HELLO_MS;
        l->ungreeted++;
        c->ev = EPOLLIN | EPOLLRDHUP;
        struct epoll_event e = {.events = c->ev, .data.u64 = idx};
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e) != 0 ||
            grow(&c->out, &c->out_cap, sizeof sp_hello) != 0) {
            conn_close(l, idx, "cannot watch it");
            continue;
        }
        memcpy(c->out, sp_hello, sizeof sp_hello);
        c->out_len = sizeof sp_hello;
        if (!c->dirty) {
            c->dirty = 1;
            l->dirty[l->n_dirty++] = idx;
        }
    }
}

#define EV_LISTENER UINT64_MAX
#define EV_WAKE (UINT64_MAX - 1)

/* Closes connections whose handshake is overdue (nng gives a peer 10 s
 * too), and with client_idle_ms those with no call in flight for that
 * long: a socket that connects and says nothing, or stops calling, must
 * not hold a descriptor for ever. Looked at once a second while any may
 * be due. */
static void sweep(rpc_sp_loop *l, int64_t now)
{
    unsigned idle = 0;
    for (uint32_t i = 0; i < l->n_conns; i++) {
        sp_conn *c = l->conns[i];
        if (c->fd < 0)
            continue;
        if (!c->greeted && now >= c->hello_by)
            conn_close(l, i, "no handshake within 10 s");
        else if (l->idle_ms > 0 && c->inflight == 0 && c->out_len == 0 &&
                 now - c->last_ms >= l->idle_ms) {
            conn_close(l, i, "idle");
            idle++;
        }
    }
    if (idle > 0)
        rpc_conns_closed_idle(l->s->conns, idle);
    l->sweep_at = now + SP_SWEEP_MS;
}

/* Whether a sweep may find something to close. */
static int sweep_due(const rpc_sp_loop *l)
{
    return l->ungreeted > 0 || (l->idle_ms > 0 && l->n_open > 0);
}

/* epoll_wait's timeout: the listener's back-off and the sweep, whichever
 * comes first; -1 when neither is pending. */
static int loop_timeout(rpc_sp_loop *l)
{
    int64_t now = rpc_now_mono_ms(), next = -1;
    if (l->accept_paused) {
        if (now >= l->accept_at) {
            struct epoll_event e = {.events = EPOLLIN, .data.u64 = EV_LISTENER};
            epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &e);
            l->accept_paused = 0;
        } else
            next = l->accept_at;
    }
    if (sweep_due(l)) {
        if (now >= l->sweep_at)
            sweep(l, now);
        if (sweep_due(l) && (next < 0 || l->sweep_at < next))
            next = l->sweep_at;
    }
    return next < 0 ? -1 : (int)(next - now);
}

static void *loop_main(void *arg)
{
    rpc_sp_loop *l = arg;
    struct epoll_event evs[256];
    this_loop = l;
    while (!__atomic_load_n(&l->quit, __ATOMIC_ACQUIRE)) {
        int timeout = l->accept_paused || sweep_due(l) ? loop_timeout(l) : -1;
        int n = epoll_wait(l->ep, evs, 256, timeout);
        l->turn++;
        if (n < 0 && errno != EINTR) {
            sb_error(l->s->name, "%s: epoll_wait: %s", l->url, strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            if (tag == EV_LISTENER)
                accept_all(l);
            else if (tag == EV_WAKE)
                drain_replies(l);
            else {
                uint32_t idx = (uint32_t)tag;
                if (evs[i].events & EPOLLIN)
                    conn_readable(l, idx);
                if (l->conns[idx]->fd >= 0 &&
                    (evs[i].events & (EPOLLERR | EPOLLHUP)))
                    conn_close(l, idx, "socket error or hang-up");
                else if (l->conns[idx]->fd >= 0 &&
                         (evs[i].events & EPOLLRDHUP) &&
                         !(evs[i].events & EPOLLIN))
                    conn_close(l, idx, "peer closed");
                else if ((evs[i].events & EPOLLOUT) && !l->conns[idx]->dirty) {
                    l->conns[idx]->dirty = 1;
                    l->dirty[l->n_dirty++] = idx;
                }
            }
        }
        /* every reply made this turn, one write per connection */
        for (uint32_t i = 0; i < l->n_dirty; i++)
            conn_flush(l, l->dirty[i]);
        l->n_dirty = 0;
    }
    this_loop = NULL;
    return NULL;
}

int rpc_sp_listen(rpc_server *s, const char *url, size_t recv_max,
                  rpc_sp_loop **out, int *port)
{
    rpc_sp_loop *l = calloc(1, sizeof *l);
    int rv;
    if (l == NULL)
        return NNG_ENOMEM;
    l->s = s;
    l->lfd = l->ep = l->efd = -1;
    l->recv_max = recv_max;
    l->idle_ms = s->cfg.client_idle_ms > 0 ? s->cfg.client_idle_ms : 0;
    snprintf(l->url, sizeof l->url, "%s", url);
    pthread_mutex_init(&l->mu, NULL);
    if ((rv = rpc_tcp_listen_fd(url, &l->lfd, port)) != 0)
        goto fail;
    char *colon = strrchr(l->url, ':'); /* logs name the bound port */
    if (colon != NULL)
        snprintf(colon, sizeof l->url - (size_t)(colon - l->url), ":%d", *port);
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event el = {.events = EPOLLIN, .data.u64 = EV_LISTENER},
                       ew = {.events = EPOLLIN, .data.u64 = EV_WAKE};
    if (l->ep < 0 || l->efd < 0 ||
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &el) != 0 ||
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->efd, &ew) != 0) {
        rv = NNG_ENOMEM;
        goto fail;
    }
    *out = l;
    return 0;
fail:
    rpc_sp_free(l);
    return rv;
}

int rpc_sp_start(rpc_sp_loop *l)
{
    if (l->running)
        return 0;
    int rv = pthread_create(&l->th, NULL, loop_main, l);
    if (rv != 0)
        return NNG_ENOMEM;
    l->running = 1;
    return 0;
}

void rpc_sp_stop(rpc_sp_loop *l)
{
    if (l == NULL)
        return;
    if (l->running) {
        __atomic_store_n(&l->quit, 1, __ATOMIC_RELEASE);
        uint64_t one = 1;
        if (write(l->efd, &one, sizeof one) < 0)
            sb_warn(l->s->name, "cannot wake the tcp loop: %s",
                    strerror(errno));
        pthread_join(l->th, NULL);
        l->running = 0;
        /* the replies that made it before the stop go out if the
         * sockets take them now; nobody waits for the rest */
        drain_replies(l);
        for (uint32_t i = 0; i < l->n_dirty; i++)
            conn_flush(l, l->dirty[i]);
        l->n_dirty = 0;
    }
    for (uint32_t i = 0; i < l->n_conns; i++)
        conn_close(l, i, "server stopping");
    if (l->lfd >= 0)
        close(l->lfd);
    l->lfd = -1;
}

void rpc_sp_free(rpc_sp_loop *l)
{
    if (l == NULL)
        return;
    rpc_sp_stop(l);
    for (uint32_t i = 0; i < l->n_conns; i++)
        free(l->conns[i]);
    for (sp_reply *r = l->q_head, *next; r != NULL; r = next) {
        next = r->next;
        nng_msg_free(r->msg);
        free(r);
    }
    if (l->ep >= 0)
        close(l->ep);
    if (l->efd >= 0)
        close(l->efd);
    free(l->conns);
    free(l->dirty);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
