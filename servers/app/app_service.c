/* app_service.c: the App service's course commands (one store call each,
 * token first, REDIRECT when the user lives on another app server) and
 * the app server's start/stop. Receive and Ack are in app_receive.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_internal.h"
#include "sb_log.h"
#include "social.sb.h"

static int begin(app_server *a, rpc_call *call, store_session *s, int cached)
{
    const char *token = rpc_call_token(call);
    store_res r;

    memset(s, 0, sizeof *s);
    if (cached && app_cache_get(a->cache, token, s)) {
        /* only sessions placed here are cached */
        app_idle_touch(a, s->user, s->token);
        return RPC_OK;
    }
    r = store_conn_whoami(a->store, store_s(token), s);
    if (r != STORE_OK)
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    app_idle_touch(a, s->user, s->token);
    /* Assigned elsewhere: send the client to its server. A session with
     * no server yet (a login still in progress) is served here. */
    if (s->server[0] != '\0' && strcmp(s->server, a->id) != 0 &&
        s->endpoint[0] != '\0')
        return rpc_call_redirect(call, s->endpoint);
    /* Cache only what is placed here: a cached entry never redirects, so
     * a stale one cannot send anyone to the wrong server. */
    if (strcmp(s->server, a->id) == 0)
        app_cache_put(a->cache, s);
    return RPC_OK;
}

int app_begin(app_server *a, rpc_call *call, store_session *s)
{
    return begin(a, call, s, 1);
}

int app_begin_fresh(app_server *a, rpc_call *call, store_session *s)
{
    return begin(a, call, s, 0);
}

/* A write in flight; lives in the call's arena until the call is answered. */
typedef struct app_wcall {
    store_wop op;
    app_server *a;
    rpc_call *call;
    app_cmd cmd;
    const char *name, *hint_user, *hint_group;
} app_wcall;

/* The write's completion (writer thread or RPC thread): never blocks. */
static void write_done(store_wop *op, void *arg)
{
    app_wcall *wc = arg;
    app_server *a = wc->a;
    int rc = RPC_OK;

    if (op->out.res != STORE_OK)
        rc = app_fail(wc->call, op->out.res, wc->cmd, wc->name);
    else if (wc->hint_user != NULL || wc->hint_group != NULL)
        app_hint(a, wc->hint_user, wc->hint_group);
    rpc_call_finish(wc->call, rc);
    pthread_mutex_lock(&a->mu);
    a->writes--;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* The token is resolved again inside the store transaction, so a logout
 * racing this call (or a stale cache entry) is honoured. */
int app_write(app_server *a, rpc_call *call, const store_wop *op, app_cmd cmd,
              const char *name, const char *hint_user, const char *hint_group)
{
    app_wcall *wc = rpc_call_alloc(call, sizeof *wc);
    int rv;

    wc->op = *op;
    wc->op.token = store_s(rpc_call_token(call));
    app_set_reqid(&wc->op, call);
    wc->op.done = write_done;
    wc->op.arg = wc;
    wc->a = a;
    wc->call = call;
    wc->cmd = cmd;
    wc->name = name;
    wc->hint_user = hint_user;
    wc->hint_group = hint_group;
    pthread_mutex_lock(&a->mu);
    a->writes++;
    pthread_mutex_unlock(&a->mu);
    if ((rv = store_conn_write(a->store, &wc->op)) != 0) {
        pthread_mutex_lock(&a->mu);
        a->writes--;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        return app_fail(call, (store_res)rv, cmd, name);
    }
    return RPC_DEFER;
}

#define BEGIN()                                                                \
    app_server *a = arg;                                                       \
    store_session sess;                                                        \
    int rc_ = app_begin(a, call, &sess);                                       \
    if (rc_ != RPC_OK)                                                         \
    return rc_

static int h_invite(rpc_call *call, const Sb__Social__InviteRequest *req,
                    Sb__Social__Empty *reply, void *arg)
{
    app_server *a = arg;
    store_wop op = {.kind = STORE_OP_INVITE, .name = store_s(req->id)};
    (void)reply;
    return app_write_cmd(a, call, &op, APP_CMD_INVITE, req->id, NULL, NULL);
}

static int h_accept(rpc_call *call, const Sb__Social__AcceptInviteRequest *req,
                    Sb__Social__Empty *reply, void *arg)
{
    app_server *a = arg;
    store_wop op = {.kind = STORE_OP_ACCEPT, .name = store_s(req->id)};
    (void)reply;
    return app_write_cmd(a, call, &op, APP_CMD_ACCEPT, req->id, NULL, NULL);
}

static int h_post(rpc_call *call, const Sb__Social__PostRequest *req,
                  Sb__Social__Empty *reply, void *arg)
{
    app_server *a = arg;
    store_wop op = {.kind = STORE_OP_POST, .text = store_s(req->text)};
    (void)reply;
    return app_write_cmd(a, call, &op, APP_CMD_OTHER, NULL, NULL, NULL);
}

static int h_send(rpc_call *call, const Sb__Social__SendRequest *req,
                  Sb__Social__Empty *reply, void *arg)
{
    app_server *a = arg;
    store_wop op = {.kind = STORE_OP_SEND,
                    .name = store_s(req->to),
                    .text = store_s(req->text)};
    (void)reply;
    return app_write_cmd(a, call, &op, APP_CMD_SEND, req->to, req->to, NULL);
}

static int h_create_group(rpc_call *call, const Sb__Social__GroupRequest *req,
                          Sb__Social__Empty *reply, void *arg)
{
    app_server *a = arg;
    store_wop op = {.kind = STORE_OP_CREATE_GROUP, .name = store_s(req->group)};
    (void)reply;
    return app_write_cmd(a, call, &op, APP_CMD_CREATE_GROUP, req->group, NULL,
                         NULL);
}

static int h_join_group(rpc_call *call, const Sb__Social__GroupRequest *req,
                        Sb__Social__Empty *reply, void *arg)
{
    app_server *a = arg;
    store_wop op = {.kind = STORE_OP_JOIN_GROUP, .name = store_s(req->group)};
    (void)reply;
    return app_write_cmd(a, call, &op, APP_CMD_JOIN_GROUP, req->group, NULL,
                         NULL);
}

static int h_send_group(rpc_call *call, const Sb__Social__SendGroupRequest *req,
                        Sb__Social__Empty *reply, void *arg)
{
    app_server *a = arg;
    store_wop op = {.kind = STORE_OP_SEND_GROUP,
                    .name = store_s(req->group),
                    .text = store_s(req->text)};
    (void)reply;
    return app_write_cmd(a, call, &op, APP_CMD_SEND_GROUP, req->group, NULL,
                         req->group);
}

typedef store_res (*list_fn)(store_conn *, store_str, store_names *);

/* Runs a name-list read and copies it into the reply. */
static int list_names(app_server *a, rpc_call *call, list_fn fn,
                      Sb__Social__NameList *reply)
{
    store_names l = {0};
    store_res r = fn(a->store, store_s(rpc_call_token(call)), &l);

    if (r != STORE_OK) {
        store_names_free(&l);
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    }
    reply->n_names = l.n;
    reply->names = rpc_call_alloc(call, (l.n + 1) * sizeof(char *));
    for (size_t i = 0; i < l.n; i++)
        reply->names[i] = rpc_call_strdup(call, l.v[i]);
    store_names_free(&l);
    return RPC_OK;
}

#define LIST_HANDLER(hname, fn)                                                \
    static int hname(rpc_call *call, const Sb__Social__Empty *req,             \
                     Sb__Social__NameList *reply, void *arg)                   \
    {                                                                          \
        BEGIN();                                                               \
        (void)req;                                                             \
        return list_names(a, call, fn, reply);                                 \
    }
LIST_HANDLER(h_list_invite, store_conn_list_invite)
LIST_HANDLER(h_list_friend, store_conn_list_friend)
LIST_HANDLER(h_list_group, store_conn_list_group)
LIST_HANDLER(h_list_joined, store_conn_list_joined)

static int h_receive_post(rpc_call *call, const Sb__Social__Empty *req,
                          Sb__Social__PostList *reply, void *arg)
{
    BEGIN();
    store_posts l = {0};
    store_res r =
        store_conn_receive_post(a->store, store_s(rpc_call_token(call)), &l);

    (void)req;
    if (r != STORE_OK) {
        store_posts_free(&l);
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    }
    reply->n_posts = l.n;
    reply->posts = rpc_call_alloc(call, (l.n + 1) * sizeof(*reply->posts));
    for (size_t i = 0; i < l.n; i++) {
        Sb__Social__Post *p = rpc_call_alloc(call, sizeof *p);
        sb__social__post__init(p);
        p->author = rpc_call_strdup(call, l.v[i].author);
        p->text = rpc_call_strdup(call, l.v[i].text);
        reply->posts[i] = p;
    }
    store_posts_free(&l);
    return RPC_OK;
}

static const sb_social_App_handlers handlers = {
    .Invite = h_invite,
    .ListInvite = h_list_invite,
    .AcceptInvite = h_accept,
    .ListFriend = h_list_friend,
    .Post = h_post,
    .ReceivePost = h_receive_post,
    .Send = h_send,
    .CreateGroup = h_create_group,
    .ListGroup = h_list_group,
    .ListJoined = h_list_joined,
    .JoinGroup = h_join_group,
    .SendGroup = h_send_group,
    .Receive = app_h_receive,
    .Ack = app_h_ack,
    .Draw = app_h_draw,
    .CreateRoom = app_h_create_room,
    .JoinRoom = app_h_join_room,
    .LeaveRoom = app_h_leave_room,
    .ListRooms = app_h_list_rooms,
    .DeleteRoom = app_h_delete_room,
    .Say = app_h_say,
    .Private = app_h_private,
    .SetProfile = app_h_set_profile,
    .ShowProfile = app_h_show_profile,
};

void app_hint(app_server *a, const char *user, const char *group)
{
    Sb__Events__MailHint h = SB__EVENTS__MAIL_HINT__INIT;
    char *users[1];

    if (a->pub == NULL)
        return;
    if (user != NULL) {
        users[0] = (char *)user;
        h.users = users;
        h.n_users = 1;
    }
    if (group != NULL)
        h.group = (char *)group;
    if (rpc_bus_publish(a->pub, "mail", &h.base) != 0)
        sb_debug("app", "%s: mail hint not published (hints are best effort)",
                 a->id);
}

static int start_rpc(app_server *a, const app_config *cfg)
{
    rpc_server_config sc = {.name = a->id};
    int rv;

    if ((rv = rpc_server_create(&a->srv, &sc)) != 0)
        return rv;
    if ((rv = sb_social_App_register(a->srv, &handlers, a)) != 0 ||
        (rv = app_inline_register(a->srv)) != 0)
        return rv;
    if ((rv = rpc_server_listen(a->srv, cfg->listen_url)) != 0) {
        sb_error("app", "%s: cannot listen on %s: %s", a->id, cfg->listen_url,
                 rpc_code_name(rv));
        return rv;
    }
    return rpc_server_start(a->srv);
}

/* The store: a shared connection, else a remote one of our own, else a
 * local one over the caller's environment and writer. */
static int open_store(app_server *a, const app_config *cfg)
{
    int rv;

    if (cfg->store != NULL) {
        a->store = cfg->store;
        return 0;
    }
    a->own_store = 1;
    if (cfg->store_url != NULL)
        rv = store_conn_remote(cfg->store_url, 0, &a->store);
    else if (cfg->db != NULL && cfg->w != NULL)
        rv = store_conn_local(cfg->db, cfg->w, &a->store);
    else
        rv = EINVAL;
    if (rv != 0)
        sb_error("app", "%s: no store (%s)", a->id,
                 cfg->store_url != NULL ? cfg->store_url : "no store given");
    return rv;
}

/* The bound URL with its host replaced by @advertise (if given). */
static void set_endpoint(app_server *a, const char *advertise)
{
    const char *url = app_server_url(a);
    const char *host = strstr(url, "://");
    const char *port = strrchr(url, ':');

    if (advertise == NULL || advertise[0] == '\0' || host == NULL ||
        port == NULL || port < host + 3) {
        snprintf(a->endpoint, sizeof a->endpoint, "%s", url);
        return;
    }
    snprintf(a->endpoint, sizeof a->endpoint, "%.*s%s%s", (int)(host + 3 - url),
             url, advertise, port);
}

int app_server_start(const app_config *cfg, app_server **out)
{
    app_server *a = calloc(1, sizeof *a);
    int rv;

    if (a == NULL)
        return ENOMEM;
    snprintf(a->id, sizeof a->id, "%s", cfg->id);
    a->poll_ms = cfg->poll_ms > 0 ? cfg->poll_ms : 50;
    a->idle_ms = cfg->idle_ms;
    a->clock_skew_ms = cfg->clock_skew_ms;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if ((rv = open_store(a, cfg)) != 0)
        goto fail;
    if ((rv = app_cache_create(0, cfg->cache_ttl_ms, &a->cache)) != 0)
        goto fail;
    if (cfg->bus_in != NULL &&
        (rv = rpc_bus_pub_open(&a->pub, cfg->bus_in, a->id)) != 0)
        goto fail;
    if ((rv = app_receive_start(a, cfg->bus_out)) != 0)
        goto fail;
    if ((rv = app_draw_start(a, cfg->draw_url, cfg->draw_max)) != 0)
        goto fail;
    if ((rv = app_idle_start(a)) != 0)
        goto fail;
    if ((rv = app_inline_start(a)) != 0)
        goto fail;
    if ((rv = start_rpc(a, cfg)) != 0)
        goto fail;
    a->serving = 1;
    set_endpoint(a, cfg->advertise);
    sb_info("app", "%s serving on %s (reached as %s), store %s", a->id,
            app_server_url(a), a->endpoint,
            store_conn_is_remote(a->store) ? "remote" : "in process");
    *out = a;
    return 0;
fail:
    app_server_stop(a);
    return rv;
}

const char *app_server_url(const app_server *a)
{
    return rpc_server_url(a->srv, 0);
}

const char *app_server_endpoint(const app_server *a)
{
    return a->endpoint;
}

void app_server_cache_stats(app_server *a, uint64_t *hits, uint64_t *misses,
                            uint64_t *drops)
{
    app_cache_stats(a->cache, hits, misses, drops);
}

const char *app_server_id(const app_server *a)
{
    return a->id;
}

void app_server_stop(app_server *a)
{
    if (a == NULL)
        return;
    /* Parked Receives first: the runtime's graceful stop waits for every
     * call in flight, and a parked call is one. */
    app_receive_stop(a);
    /* Writes waiting for a token check: finished by the miss thread, which
     * must not finish a call after the server's stop answered it. */
    app_inline_stop(a);
    /* Draws in flight are parked calls too; stop first (no new ones,
     * waits for them), then the draw client answers any left. */
    if (a->serving)
        rpc_server_stop(a->srv);
    app_draw_stop(a);
    app_idle_stop(a);
    /* Writes still in flight answer their calls from their completion:
     * wait for them (a local writer completes them; remote ones end by
     * the store call's deadline) before the server goes away. */
    pthread_mutex_lock(&a->mu);
    while (a->writes > 0)
        pthread_cond_wait(&a->cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
    if (a->srv != NULL)
        rpc_server_destroy(a->srv);
    if (a->own_store)
        store_conn_close(a->store);
    app_cache_free(a->cache);
    app_inline_free(a);
    rpc_bus_pub_close(a->pub);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    sb_info("app", "%s stopped", a->id);
    free(a);
}
