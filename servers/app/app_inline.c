/* app_inline.c: write commands (post, send, invite, ...) run inline on
 * nng's receive thread: with the caller's token in the cache they only
 * queue a store write and defer, which never blocks. A token not cached
 * needs a store read, which may block, so that call goes to the app's one
 * "miss" thread, which checks the token (and placement) and then writes. */
#include <stdlib.h>
#include <string.h>

#include "app_internal.h"
#include "sb_log.h"
#include "social.sb.h"

/* A write waiting for its token check; lives in the call's arena. */
struct app_miss {
    store_wop op;
    rpc_call *call;
    app_cmd cmd;
    const char *name, *hint_user, *hint_group;
    app_miss *next;
};

static void miss_run(app_server *a, app_miss *m)
{
    store_session s;
    int rc = app_begin(a, m->call, &s);

    if (rc == RPC_OK)
        rc = app_write(a, m->call, &m->op, m->cmd, m->name, m->hint_user,
                       m->hint_group);
    if (rc != RPC_DEFER)
        rpc_call_finish(m->call, rc);
}

static void *miss_main(void *arg)
{
    app_server *a = arg;

    pthread_mutex_lock(&a->miss_mu);
    for (;;) {
        app_miss *m;
        while (a->miss_head == NULL && !a->miss_stop)
            pthread_cond_wait(&a->miss_cv, &a->miss_mu);
        if ((m = a->miss_head) == NULL)
            break; /* stopping and drained */
        if ((a->miss_head = m->next) == NULL)
            a->miss_tail = NULL;
        pthread_mutex_unlock(&a->miss_mu);
        miss_run(a, m);
        pthread_mutex_lock(&a->miss_mu);
    }
    pthread_mutex_unlock(&a->miss_mu);
    return NULL;
}

int app_inline_start(app_server *a)
{
    int rv;

    pthread_mutex_init(&a->miss_mu, NULL);
    pthread_cond_init(&a->miss_cv, NULL);
    a->miss_init = 1;
    if ((rv = pthread_create(&a->misser, NULL, miss_main, a)) != 0)
        return rv;
    a->have_misser = 1;
    return 0;
}

void app_inline_stop(app_server *a)
{
    if (!a->miss_init)
        return;
    pthread_mutex_lock(&a->miss_mu);
    a->miss_stop = 1;
    pthread_cond_broadcast(&a->miss_cv);
    pthread_mutex_unlock(&a->miss_mu);
    if (a->have_misser)
        pthread_join(a->misser, NULL); /* it drains the queue first */
    a->have_misser = 0;
}

void app_inline_free(app_server *a)
{
    if (!a->miss_init)
        return;
    pthread_cond_destroy(&a->miss_cv);
    pthread_mutex_destroy(&a->miss_mu);
    a->miss_init = 0;
}

int app_write_cmd(app_server *a, rpc_call *call, const store_wop *op,
                  app_cmd cmd, const char *name, const char *hint_user,
                  const char *hint_group)
{
    store_session s;
    app_miss *m;

    /* only sessions placed here are cached, so a hit never redirects */
    if (app_cache_get(a->cache, rpc_call_token(call), &s)) {
        app_idle_touch(a, s.user, s.token);
        return app_write(a, call, op, cmd, name, hint_user, hint_group);
    }
    m = rpc_call_alloc(call, sizeof *m);
    *m = (app_miss){.op = *op,
                    .call = call,
                    .cmd = cmd,
                    .name = name,
                    .hint_user = hint_user,
                    .hint_group = hint_group};
    pthread_mutex_lock(&a->miss_mu);
    if (a->miss_stop || !a->have_misser) {
        pthread_mutex_unlock(&a->miss_mu);
        return rpc_call_fail(call, RPC_UNAVAILABLE,
                             "app server %s is "
                             "stopping; try again",
                             a->id);
    }
    if (a->miss_tail != NULL)
        a->miss_tail->next = m;
    else
        a->miss_head = m;
    a->miss_tail = m;
    pthread_cond_signal(&a->miss_cv);
    pthread_mutex_unlock(&a->miss_mu);
    return RPC_DEFER;
}

int app_inline_register(rpc_server *srv)
{
    static const char *const methods[] = {
        sb_social_App_Invite_METHOD,      sb_social_App_AcceptInvite_METHOD,
        sb_social_App_Post_METHOD,        sb_social_App_Send_METHOD,
        sb_social_App_CreateGroup_METHOD, sb_social_App_JoinGroup_METHOD,
        sb_social_App_SendGroup_METHOD,
    };
    int rv;

    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if ((rv = rpc_server_set_nonblocking(srv, methods[i], 1)) != 0)
            return rv;
    return 0;
}
