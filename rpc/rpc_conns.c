/* rpc_conns.c: a server's connection bookkeeping, for the two limits a
 * client-facing server sets (rpc_server_config): at most
 * max_conns_per_addr connections open per source address, and none kept
 * once it has had no call in flight for client_idle_ms. Without them one
 * process can hold 10,000 idle connections, and their descriptors, for
 * ever. nng's pipes are followed through pipe notifications (a pipe over
 * the cap is closed before the socket sees it) and a reaper thread closes
 * idle ones; the epoll engine (rpc_sp_tcp.c) counts addresses here and
 * times its own connections out on its thread. The same notifications
 * refuse an ipc:// peer that runs as another user. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpc_server_internal.h"
#include "sb_log.h"

#define WARN_EVERY_MS 10000 /* refusals are summed, said this often */

/* One source address (count: its open connections) or one nng pipe. */
typedef struct ent {
    struct ent *next;
    uint32_t pipe_id; /* pipes table */
    rpc_addr addr;    /* addrs table: the key; pipes: the pipe's source */
    int32_t count;    /* addrs: connections open; pipes: calls in flight */
    int64_t last_ms;  /* pipes: the last call's arrival or answer */
} ent;

typedef struct table {
    ent **b;
    size_t nb, n;
} table;

struct rpc_conns {
    rpc_server *s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    table addrs, pipes;
    rpc_conn_stats st;
    uint64_t unsaid_addr, unsaid_uid; /* refusals not logged yet */
    int64_t said_ms;
    pthread_t th;
    int running, quit;
};

static uint64_t addr_hash(const rpc_addr *a)
{
    uint64_t h = 1469598103934665603ull ^ a->family; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ a->ip[i]) * 1099511628211ull;
    return h;
}

static uint64_t pipe_hash(uint32_t id)
{
    return (uint64_t)id * 0x9E3779B97F4A7C15ull;
}

/* Grows t (doubling its buckets) when it holds as many entries as it has
 * buckets: 0, or -1 when out of memory and t has no buckets at all. */
static int table_room(table *t)
{
    if (t->n < t->nb)
        return 0;
    size_t nb = t->nb ? t->nb * 2 : 64;
    ent **b = calloc(nb, sizeof *b);
    if (b == NULL)
        return t->nb ? 0 : -1; /* longer chains, still correct */
    for (size_t i = 0; i < t->nb; i++)
        for (ent *e = t->b[i], *next; e != NULL; e = next) {
            next = e->next;
            uint64_t h =
                e->pipe_id ? pipe_hash(e->pipe_id) : addr_hash(&e->addr);
            e->next = b[h & (nb - 1)];
            b[h & (nb - 1)] = e;
        }
    free(t->b);
    t->b = b;
    t->nb = nb;
    return 0;
}

/* The link that points at the entry for key (or at NULL: where it goes). */
static ent **find_addr(table *t, const rpc_addr *a)
{
    if (t->nb == 0)
        return NULL;
    ent **l = &t->b[addr_hash(a) & (t->nb - 1)];
    while (*l != NULL && memcmp(&(*l)->addr, a, sizeof *a) != 0)
        l = &(*l)->next;
    return l;
}

static ent **find_pipe(table *t, uint32_t id)
{
    if (t->nb == 0)
        return NULL;
    ent **l = &t->b[pipe_hash(id) & (t->nb - 1)];
    while (*l != NULL && (*l)->pipe_id != id)
        l = &(*l)->next;
    return l;
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->nb; i++)
        for (ent *e = t->b[i], *next; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
    free(t->b);
    memset(t, 0, sizeof *t);
}

/* Refusals, summed and said at most every WARN_EVERY_MS (a flood of
 * connections must not flood the log). Under c->mu. */
static void say_refusals(rpc_conns *c, int64_t now)
{
    if (c->unsaid_addr + c->unsaid_uid == 0 ||
        (c->said_ms != 0 && now - c->said_ms < WARN_EVERY_MS))
        return;
    if (c->unsaid_addr > 0)
        sb_warn(c->s->name,
                "refused %llu connection(s): their address already had %d "
                "open (max_conns_per_addr)",
                (unsigned long long)c->unsaid_addr,
                c->s->cfg.max_conns_per_addr);
    if (c->unsaid_uid > 0)
        sb_warn(c->s->name,
                "refused %llu ipc:// connection(s) from processes of "
                "another user",
                (unsigned long long)c->unsaid_uid);
    c->unsaid_addr = c->unsaid_uid = 0;
    c->said_ms = now;
}

/* Counts one more connection from a; -1 when a is at the cap. Under mu. */
static int addr_add_locked(rpc_conns *c, const rpc_addr *a)
{
    int cap = c->s->cfg.max_conns_per_addr;
    if (a->family == 0 || cap <= 0)
        return 0;
    if (table_room(&c->addrs) != 0)
        return 0; /* out of memory: let it in rather than refuse all */
    ent **l = find_addr(&c->addrs, a);
    if (*l != NULL && (*l)->count >= cap) {
        c->st.refused_per_addr++;
        c->unsaid_addr++;
        say_refusals(c, rpc_now_mono_ms());
        return -1;
    }
    if (*l == NULL) {
        ent *e = calloc(1, sizeof *e);
        if (e == NULL)
            return 0;
        e->addr = *a;
        *l = e;
        c->addrs.n++;
    }
    (*l)->count++;
    return 0;
}

static void addr_remove_locked(rpc_conns *c, const rpc_addr *a)
{
    if (a->family == 0 || c->s->cfg.max_conns_per_addr <= 0)
        return;
    ent **l = find_addr(&c->addrs, a);
    if (l == NULL || *l == NULL)
        return;
    if (--(*l)->count <= 0) {
        ent *e = *l;
        *l = e->next;
        free(e);
        c->addrs.n--;
    }
}

int rpc_conns_addr_add(rpc_conns *c, const rpc_addr *a)
{
    pthread_mutex_lock(&c->mu);
    int rv = addr_add_locked(c, a);
    if (rv == 0) {
        c->st.open++;
        c->st.accepted++;
    }
    pthread_mutex_unlock(&c->mu);
    return rv;
}

void rpc_conns_addr_remove(rpc_conns *c, const rpc_addr *a)
{
    pthread_mutex_lock(&c->mu);
    addr_remove_locked(c, a);
    c->st.open--;
    pthread_mutex_unlock(&c->mu);
}

void rpc_conns_closed_idle(rpc_conns *c, unsigned n)
{
    pthread_mutex_lock(&c->mu);
    c->st.closed_idle += n;
    pthread_mutex_unlock(&c->mu);
}

/* ---- nng's pipes ---- */

/* The pipe's source address (family 0 for ipc and inproc); -1 when the
 * pipe is of another local user (ipc://) and must be refused. */
static int pipe_source(nng_pipe p, rpc_addr *a)
{
    nng_sockaddr sa;
    memset(a, 0, sizeof *a);
    if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0)
        return 0;
    if (sa.s_family == NNG_AF_INET) {
        a->family = 4;
        memcpy(a->ip, &sa.s_in.sa_addr, 4);
    } else if (sa.s_family == NNG_AF_INET6) {
        a->family = 6;
        memcpy(a->ip, sa.s_in6.sa_addr, 16);
    } else if (sa.s_family == NNG_AF_IPC) {
        uint64_t uid;
        /* the socket file is 0600 in a private directory already; this
         * holds even if someone loosened them */
        if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) == 0 &&
            uid != (uint64_t)geteuid())
            return -1;
    }
    return 0;
}

static void pipe_added(rpc_conns *c, nng_pipe p)
{
    rpc_addr a;
    int refuse = 0;
    int uid_ok = pipe_source(p, &a) == 0;
    pthread_mutex_lock(&c->mu);
    if (!uid_ok) {
        c->st.refused_uid++;
        c->unsaid_uid++;
        say_refusals(c, rpc_now_mono_ms());
        refuse = 1;
    } else if (addr_add_locked(c, &a) != 0) {
        refuse = 1;
    } else {
        ent *e = calloc(1, sizeof *e);
        ent **l;
        if (e != NULL && table_room(&c->pipes) == 0 &&
            (l = find_pipe(&c->pipes, nng_pipe_id(p))) != NULL && *l == NULL) {
            e->pipe_id = (uint32_t)nng_pipe_id(p);
            e->addr = a;
            e->last_ms = rpc_now_mono_ms();
            *l = e;
            c->pipes.n++;
            c->st.open++;
            c->st.accepted++;
        } else { /* out of memory: serve it, untracked */
            addr_remove_locked(c, &a);
            free(e);
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (refuse) /* before the socket sees it: no further use of it */
        nng_pipe_close(p);
}

static void pipe_removed(rpc_conns *c, nng_pipe p)
{
    pthread_mutex_lock(&c->mu);
    ent **l = find_pipe(&c->pipes, (uint32_t)nng_pipe_id(p));
    if (l != NULL && *l != NULL) {
        ent *e = *l;
        *l = e->next;
        c->pipes.n--;
        c->st.open--;
        addr_remove_locked(c, &e->addr);
        free(e);
    }
    pthread_mutex_unlock(&c->mu);
}

static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    if (ev == NNG_PIPE_EV_ADD_PRE)
        pipe_added(arg, p);
    else if (ev == NNG_PIPE_EV_REM_POST)
        pipe_removed(arg, p);
}

void rpc_conns_call_begin(rpc_conns *c, uint32_t pipe_id)
{
    pthread_mutex_lock(&c->mu);
    ent **l = find_pipe(&c->pipes, pipe_id);
    if (l != NULL && *l != NULL) {
        (*l)->count++;
        (*l)->last_ms = rpc_now_mono_ms();
    }
    pthread_mutex_unlock(&c->mu);
}

void rpc_conns_call_end(rpc_conns *c, uint32_t pipe_id)
{
    pthread_mutex_lock(&c->mu);
    ent **l = find_pipe(&c->pipes, pipe_id);
    if (l != NULL && *l != NULL) {
        if ((*l)->count > 0)
            (*l)->count--;
        (*l)->last_ms = rpc_now_mono_ms();
    }
    pthread_mutex_unlock(&c->mu);
}

/* Closes the pipes idle past the limit: ids collected under the lock,
 * closed outside it (closing runs the removal notification, which
 * takes the lock). */
static void reap(rpc_conns *c, int64_t now)
{
    enum { BATCH = 1024 };
    uint32_t ids[BATCH];
    size_t n;
    int64_t idle = c->s->cfg.client_idle_ms;
    do {
        n = 0;
        pthread_mutex_lock(&c->mu);
        for (size_t i = 0; i < c->pipes.nb && n < BATCH; i++)
            for (ent *e = c->pipes.b[i]; e != NULL && n < BATCH; e = e->next)
                if (e->count == 0 && now - e->last_ms >= idle) {
                    ids[n++] = e->pipe_id;
                    e->last_ms = now; /* not again before its removal */
                }
        c->st.closed_idle += n;
        pthread_mutex_unlock(&c->mu);
        for (size_t i = 0; i < n; i++) {
            nng_pipe p = NNG_PIPE_INITIALIZER;
            p.id = ids[i];
            nng_pipe_close(p);
        }
        if (n > 0)
            sb_debug(c->s->name, "closed %zu connection(s) idle for %lld ms", n,
                     (long long)idle);
    } while (n == BATCH);
}

static void *reaper_main(void *arg)
{
    rpc_conns *c = arg;
    int64_t idle = c->s->cfg.client_idle_ms;
    int64_t every = idle / 4 < 1000 ? (idle / 4 > 10 ? idle / 4 : 10) : 1000;
    pthread_mutex_lock(&c->mu);
    while (!c->quit) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += every / 1000;
        ts.tv_nsec += (every % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        if (c->quit)
            break;
        say_refusals(c, rpc_now_mono_ms());
        pthread_mutex_unlock(&c->mu);
        reap(c, rpc_now_mono_ms());
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int rpc_conns_create(rpc_server *s, rpc_conns **out)
{
    rpc_conns *c = calloc(1, sizeof *c);
    int rv;
    if (c == NULL)
        return NNG_ENOMEM;
    c->s = s;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if ((rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_PRE, pipe_event, c)) !=
            0 ||
        (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, pipe_event, c)) !=
            0) {
        rpc_conns_free(c);
        return rv;
    }
    s->conns_track = s->cfg.client_idle_ms > 0;
    *out = c;
    return 0;
}

int rpc_conns_start(rpc_conns *c)
{
    if (c->running || c->s->cfg.client_idle_ms <= 0)
        return 0;
    if (pthread_create(&c->th, NULL, reaper_main, c) != 0)
        return NNG_ENOMEM;
    c->running = 1;
    return 0;
}

void rpc_conns_free(rpc_conns *c)
{
    if (c == NULL)
        return;
    if (c->running) {
        pthread_mutex_lock(&c->mu);
        c->quit = 1;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->th, NULL);
    }
    table_free(&c->addrs);
    table_free(&c->pipes);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

void rpc_server_conn_stats(rpc_server *s, rpc_conn_stats *out)
{
    pthread_mutex_lock(&s->conns->mu);
    *out = s->conns->st;
    pthread_mutex_unlock(&s->conns->mu);
}
