/* rpc_server_life.c: creating, listening, starting, stopping and freeing
 * an RPC server (the call path itself is in rpc_server.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "rpc_server_internal.h"
#include "sb_log.h"

int rpc_server_create(rpc_server **out, const rpc_server_config *cfg)
{
    rpc_server *s = calloc(1, sizeof *s);
    int rv;
    if (s == NULL)
        return NNG_ENOMEM;
    if (cfg != NULL)
        s->cfg = *cfg;
    if (s->cfg.workers <= 0)
        s->cfg.workers = 4;
    if (s->cfg.contexts <= 0)
        s->cfg.contexts = 64;
    if (s->cfg.stop_grace_ms <= 0)
        s->cfg.stop_grace_ms = 5000;
    if (s->cfg.max_deferred <= 0)
        s->cfg.max_deferred = 4096;
    snprintf(s->name, sizeof s->name, "%s",
             s->cfg.name ? s->cfg.name : "server");
    s->cfg.name = s->name;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->q_mu, NULL);
    pthread_cond_init(&s->q_cv, NULL);
    s->start_ms = rpc_now_mono_ms();
    if ((rv = nng_rep0_open(&s->sock)) != 0) {
        free(s);
        return rv;
    }
    if ((rv = rpc_set_recv_max(s->sock, s->cfg.recv_max)) != 0 ||
        (rv = rpc_conns_create(s, &s->conns)) != 0 ||
        (rv = rpc_builtin_register(s)) != 0) {
        rpc_server_destroy(s);
        return rv;
    }
    *out = s;
    return 0;
}

/* "tcp://host:0" → "tcp://host:PORT" once bound. */
static void bound_url(rpc_listen_ent *e, const char *url)
{
    snprintf(e->url, sizeof e->url, "%s", url);
    if (strstr(url, "tcp://") == NULL)
        return;
    int port = 0;
    if (e->sp != NULL)
        port = e->sp_port;
    else if (nng_listener_get_int(e->l, NNG_OPT_TCP_BOUND_PORT, &port) != 0)
        return;
    char *colon = strrchr(e->url, ':');
    if (colon != NULL && colon > strstr(e->url, "://") + 2)
        snprintf(colon, sizeof e->url - (size_t)(colon - e->url), ":%d", port);
}

/* A tcp:// listener for the epoll engine; started with the server. */
static int listen_sp(rpc_server *s, const char *url, rpc_listen_ent *e)
{
    size_t max = s->cfg.recv_max ? s->cfg.recv_max : RPC_DEFAULT_RECV_MAX;
    int rv = rpc_sp_listen(s, url, max, &e->sp, &e->sp_port);
    if (rv == 0 && s->started && !s->stopped &&
        (rv = rpc_sp_start(e->sp)) != 0) {
        rpc_sp_free(e->sp);
        e->sp = NULL;
    }
    return rv;
}

int rpc_server_listen(rpc_server *s, const char *url)
{
    rpc_listen_ent e = {0};
    int rv;
    if (s->cfg.tcp_engine == RPC_TCP_EPOLL && strncmp(url, "tcp://", 6) == 0) {
        if ((rv = listen_sp(s, url, &e)) != 0)
            goto fail;
        goto bound;
    }
    int ipc = strncmp(url, "ipc://", 6) == 0;
    char why[512];
    if (ipc && rpc_ipc_prepare(url, why, sizeof why) != 0) {
        sb_error(s->name, "cannot listen on %s: %s", url, why);
        return NNG_EPERM;
    }
    if ((rv = rpc_tls_config(url, &s->cfg.tls, 1, &e.tls)) != 0)
        return rv;
    if ((rv = nng_listener_create(&e.l, s->sock, url)) != 0)
        goto fail;
    /* only our user may connect (its pipes are checked too: rpc_conns.c) */
    if (ipc &&
        (rv = nng_listener_set_int(e.l, NNG_OPT_IPC_PERMISSIONS, 0600)) != 0)
        goto fail_l;
    if (e.tls != NULL &&
        (rv = nng_listener_set_ptr(e.l, NNG_OPT_TLS_CONFIG, e.tls)) != 0)
        goto fail_l;
    if ((rv = nng_listener_start(e.l, 0)) != 0)
        goto fail_l;
bound:
    bound_url(&e, url);
    rpc_listen_ent *nl =
        realloc(s->listeners, (s->n_listeners + 1) * sizeof *nl);
    if (nl == NULL) {
        rv = NNG_ENOMEM;
        goto fail_l;
    }
    s->listeners = nl;
    s->listeners[s->n_listeners++] = e;
    sb_info(s->name, "listening on %s%s", e.url,
            e.sp != NULL ? " (epoll engine)" : "");
    return 0;
fail_l:
    if (e.sp != NULL)
        rpc_sp_free(e.sp);
    else
        nng_listener_close(e.l);
fail:
    if (e.tls != NULL)
        nng_tls_config_free(e.tls);
    sb_error(s->name, "cannot listen on %s: %s", url, nng_strerror(rv));
    return rv;
}

const char *rpc_server_url(const rpc_server *s, size_t i)
{
    return i < s->n_listeners ? s->listeners[i].url : NULL;
}

void rpc_server_set_serving(rpc_server *s, const char *service, int serving)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_health; i++)
        if (strcmp(s->health[i].service, service) == 0) {
            s->health[i].serving = serving;
            goto out;
        }
    rpc_health_ent *nh = realloc(s->health, (s->n_health + 1) * sizeof *nh);
    if (nh == NULL)
        goto out;
    s->health = nh;
    if ((nh[s->n_health].service = strdup(service)) != NULL)
        nh[s->n_health++].serving = serving;
out:
    pthread_mutex_unlock(&s->mu);
}

void rpc_slot_cb(void *arg);
void *rpc_worker_main(void *arg);

int rpc_server_start(rpc_server *s)
{
    int rv = 0;
    if (s->started)
        return NNG_EBUSY;
    s->slots = calloc((size_t)s->cfg.contexts, sizeof *s->slots);
    s->threads = calloc((size_t)s->cfg.workers, sizeof *s->threads);
    if (s->slots == NULL || s->threads == NULL)
        return NNG_ENOMEM;
    s->started = 1;
    for (int i = 0; i < s->cfg.workers && rv == 0; i++)
        if ((rv = pthread_create(&s->threads[i], NULL, rpc_worker_main, s)) ==
            0)
            s->n_threads++;
    for (int i = 0; i < s->cfg.contexts && rv == 0; i++) {
        rpc_slot *sl = &s->slots[i];
        sl->s = s;
        if ((rv = nng_ctx_open(&sl->ctx, s->sock)) != 0 ||
            (rv = nng_aio_alloc(&sl->aio, rpc_slot_cb, sl)) != 0)
            break;
        s->n_slots++;
        nng_ctx_recv(sl->ctx, sl->aio);
    }
    for (size_t i = 0; i < s->n_listeners && rv == 0; i++)
        if (s->listeners[i].sp != NULL)
            rv = rpc_sp_start(s->listeners[i].sp);
    if (rv == 0)
        rv = rpc_conns_start(s->conns);
    if (rv != 0) {
        sb_error(s->name, "cannot start: %s", nng_strerror(rv));
        rpc_server_stop(s);
    }
    return rv;
}

void rpc_server_stop(rpc_server *s)
{
    if (s->stopped)
        return;
    s->stopped = 1;
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
    int64_t until = rpc_now_mono_ms() + s->cfg.stop_grace_ms;
    /* polled, so that the call path pays one atomic, not a lock and a
     * broadcast, per call */
    while (rpc_server_in_flight(s) > 0 && rpc_now_mono_ms() < until)
        usleep(2000);
    int64_t left = rpc_server_in_flight(s);
    if (left > 0)
        sb_warn(s->name, "stopping with %lld calls still open",
                (long long)left);
    pthread_mutex_lock(&s->q_mu);
    s->quit = 1;
    pthread_cond_broadcast(&s->q_cv);
    pthread_mutex_unlock(&s->q_mu);
    for (int i = 0; i < s->n_threads; i++)
        pthread_join(s->threads[i], NULL);
    nng_close(s->sock); /* fails receives and any deferred reply left */
    for (size_t i = 0; i < s->n_listeners; i++)
        rpc_sp_stop(s->listeners[i].sp); /* closes its connections */
    for (int i = 0; i < s->n_slots; i++)
        nng_aio_free(s->slots[i].aio); /* waits for its callback */
    rpc_server_drain(s); /* calls that arrived after the workers left */
    s->n_threads = s->n_slots = 0;
    sb_info(s->name, "stopped");
}

void rpc_server_destroy(rpc_server *s)
{
    if (s == NULL)
        return;
    if (s->started)
        rpc_server_stop(s);
    else
        nng_close(s->sock);
    for (size_t i = 0; i < s->n_listeners; i++) {
        rpc_sp_free(s->listeners[i].sp);
        if (s->listeners[i].tls != NULL)
            nng_tls_config_free(s->listeners[i].tls);
    }
    rpc_conns_free(s->conns); /* after the socket: no pipe events left */
    for (size_t i = 0; i < s->n_methods; i++) {
        free(s->methods[i]->name);
        free(s->methods[i]);
    }
    for (size_t i = 0; i < s->n_kept; i++)
        free(s->kept[i]);
    for (size_t i = 0; i < s->n_health; i++)
        free(s->health[i].service);
    free(s->listeners);
    free(s->methods);
    free(s->kept);
    free(s->health);
    free(s->slots);
    free(s->threads);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->q_mu);
    pthread_cond_destroy(&s->q_cv);
    free(s);
}
