/* web_role.c: the web role's life: the RPC client to the login server
 * and libsb over it, the worker threads, the HTTP server with the page's
 * routes, and a sweeper that retries fetches and acknowledgements, pings
 * idle streams (so a gone peer is noticed) and drops idle sessions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_log.h"
#include "web_internal.h"

#define TICK_MS 1000

static void *sweeper(void *arg)
{
    web_role *w = arg;
    int64_t last_ping = rpc_now_mono_ms(), last_sweep = last_ping;

    pthread_mutex_lock(&w->swmu);
    while (!atomic_load(&w->stopping)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += TICK_MS / 1000;
        pthread_cond_timedwait(&w->swcv, &w->swmu, &ts);
        if (atomic_load(&w->stopping))
            break;
        pthread_mutex_unlock(&w->swmu);
        int64_t now = rpc_now_mono_ms();
        int ping = now - last_ping >= WEB_PING_MS;
        if (ping)
            last_ping = now;
        web_users_tick(w, ping);
        if (now - last_sweep >= 60000) {
            last_sweep = now;
            web_sess_sweep(w);
            web_limit_sweep(w->limit);
        }
        pthread_mutex_lock(&w->swmu);
    }
    pthread_mutex_unlock(&w->swmu);
    return NULL;
}

static int open_parts(web_role *w, rpc_status *st)
{
    /* a first login may wait for an app server to launch (15 s) */
    rpc_client_config rc = {.timeout_ms = 20000};
    http_config hc = {.host = w->cfg.host,
                      .port = w->cfg.port,
                      .max_header = 8192,
                      .max_body = 65536,
                      .idle_timeout_s = w->cfg.idle_timeout_s,
                      .log_name = "web"};
    int rv;

    if ((rv = rpc_client_open(&w->rpc, w->cfg.login_url, &rc)) != 0)
        return rpc_status_set(st, RPC_INVALID_ARGUMENT,
                              "cannot open a client for %s (%d)",
                              w->cfg.login_url, rv);
    if ((rv = web_exec_open(w, st)) != RPC_OK)
        return rv;
    if ((w->jobs = web_jobs_start(w->cfg.workers)) == NULL ||
        (w->limit = web_limit_new()) == NULL)
        return rpc_status_set(st, RPC_INTERNAL, "out of memory");
    if ((rv = http_server_create(&w->http, &hc, st)) != RPC_OK)
        return rv;
    if ((rv = web_api_routes(w)) != RPC_OK)
        return rpc_status_set(st, rv, "cannot add the web routes");
    return http_server_start(w->http, st);
}

int web_start(const web_config *cfg, web_role **out, rpc_status *st)
{
    web_role *w = calloc(1, sizeof *w);
    int rv;

    *out = NULL;
    if (w == NULL)
        return rpc_status_set(st, RPC_INTERNAL, "out of memory");
    w->cfg = *cfg;
    if (w->cfg.host == NULL)
        w->cfg.host = "0.0.0.0";
    if (w->cfg.workers <= 0)
        w->cfg.workers = 16;
    if (w->cfg.max_sessions == 0)
        w->cfg.max_sessions = 20000;
    pthread_mutex_init(&w->smu, NULL);
    pthread_mutex_init(&w->umu, NULL);
    pthread_mutex_init(&w->swmu, NULL);
    pthread_cond_init(&w->swcv, NULL);
    if (w->cfg.login_url == NULL || w->cfg.login_url[0] == '\0') {
        rv = rpc_status_set(st, RPC_INVALID_ARGUMENT,
                            "the web role needs the login server's URL");
        goto fail;
    }
    if ((rv = open_parts(w, st)) != RPC_OK)
        goto fail;
    if (pthread_create(&w->sweeper, NULL, sweeper, w) != 0) {
        rv = rpc_status_set(st, RPC_INTERNAL, "cannot start a thread");
        goto fail;
    }
    w->started = 1;
    sb_info("web", "web client on http://%s:%d/ (login %s, %d workers)",
            w->cfg.host, http_server_port(w->http), w->cfg.login_url,
            w->cfg.workers);
    *out = w;
    return RPC_OK;
fail:
    sb_error("web", "cannot start: %s", st->message);
    web_stop(w);
    return rv;
}

int web_port(const web_role *w)
{
    return w != NULL ? http_server_port(w->http) : 0;
}

void web_stop(web_role *w)
{
    if (w == NULL)
        return;
    atomic_store(&w->stopping, 1);
    if (w->started) {
        pthread_mutex_lock(&w->swmu);
        pthread_cond_broadcast(&w->swcv);
        pthread_mutex_unlock(&w->swmu);
        pthread_join(w->sweeper, NULL);
    }
    web_jobs_stop(w->jobs);     /* calls in progress get their answers */
    web_users_close_streams(w); /* pages see their streams end */
    http_server_stop(w->http);  /* then nothing new comes in */
    sb_close(w->sb);            /* the transport closes nothing: */
    rpc_client_close(w->rpc);   /* parked Receives end CANCELLED here */
    web_sess_free_all(w);
    web_users_free_all(w);
    http_server_free(w->http);
    web_limit_free(w->limit);
    pthread_cond_destroy(&w->swcv);
    pthread_mutex_destroy(&w->swmu);
    pthread_mutex_destroy(&w->umu);
    pthread_mutex_destroy(&w->smu);
    if (w->started)
        sb_info("web", "stopped");
    free(w);
}
