/* login_service.c: the Login service's handlers. Passwords are Argon2id
 * (store_password_*); the token is created or reused inside the store's
 * LOGIN transaction; the assigned app server is recorded in the session
 * with SET_SERVER so app servers can redirect. Logout and delete publish
 * an "auth" event so caches elsewhere drop the session. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_service.h"
#include "events.pb-c.h"
#include "login_service.h"
#include "rpc_bus.h"
#include "sb_log.h"
#include "social.sb.h"

#define LOGIN_PW_MAX 1024
#define LOGIN_NOUSER "No such user or password error"

struct login_service {
    login_config cfg;
    store_conn *store;
    int own_store;
    rpc_bus_pub *pub;
};

/* RegisterRequest.check_only: register's checks on the fields given, in
 * register's order, and nothing written (sb chat's form, field by field).
 * Whether a name is taken is what register answers anyone already. */
static int check_only(login_service *l, rpc_call *call,
                      const Sb__Social__RegisterRequest *req)
{
    const Sb__Social__Profile *p = req->profile;
    const char *text[3] = {p ? p->first_name : "", p ? p->last_name : "",
                           p ? p->gender : ""};
    store_user u;
    store_res r;

    if (req->name[0] != '\0' &&
        (r = store_conn_get_user(l->store, store_s(req->name), &u)) !=
            STORE_NO_SUCH_USER)
        return app_fail(call, r == STORE_OK ? STORE_ALREADY_USED : r,
                        APP_CMD_REGISTER, req->name);
    if (strlen(req->password) > LOGIN_PW_MAX)
        return rpc_call_fail(
            call, RPC_INVALID_ARGUMENT,
            "Invalid argument: the password must be 1 to %d bytes",
            LOGIN_PW_MAX);
    for (int i = 0; i < 3; i++)
        if (text[i][0] != '\0' &&
            !store_valid_printable(store_s(text[i]), STORE_NAME_MAX))
            return app_fail(call, STORE_BAD_PROFILE, APP_CMD_REGISTER, "");
    if (p != NULL && p->age > STORE_AGE_MAX)
        return app_fail(call, STORE_BAD_AGE, APP_CMD_REGISTER, "");
    return RPC_OK;
}

static int h_register(rpc_call *call, const Sb__Social__RegisterRequest *req,
                      Sb__Social__Empty *reply, void *arg)
{
    login_service *l = arg;
    char hash[STORE_PWHASH_LEN];
    store_user u;
    store_res r;
    size_t pwlen = strlen(req->password);

    (void)reply;
    if (req->check_only)
        return check_only(l, call, req);
    r = store_conn_get_user(l->store, store_s(req->name), &u);
    if (r == STORE_OK)
        return app_fail(call, STORE_ALREADY_USED, APP_CMD_REGISTER, req->name);
    if (r != STORE_NO_SUCH_USER)
        return app_fail(call, r, APP_CMD_REGISTER, req->name);
    if (pwlen == 0 || pwlen > LOGIN_PW_MAX)
        return rpc_call_fail(
            call, RPC_INVALID_ARGUMENT,
            "Invalid argument: the password must be 1 to %d bytes",
            LOGIN_PW_MAX);
    if (store_password_hash(req->password, pwlen, l->cfg.pwcost, hash) != 0)
        return rpc_call_fail(call, RPC_RESOURCE_EXHAUSTED,
                             "Out of memory hashing the password; try again");
    store_wop op = {.kind = STORE_OP_REGISTER,
                    .name = store_s(req->name),
                    .text = store_s(hash)};
    if (req->profile != NULL &&
        (r = store_check_profile(store_s(req->profile->first_name),
                                 store_s(req->profile->last_name),
                                 req->profile->age,
                                 store_s(req->profile->gender))) != STORE_OK)
        return app_fail(call, r, APP_CMD_REGISTER, req->name);
    if (req->profile != NULL) {
        op.first = store_s(req->profile->first_name);
        op.last = store_s(req->profile->last_name);
        op.gender = store_s(req->profile->gender);
        op.age = req->profile->age;
    }
    app_set_reqid(&op, call);
    r = store_conn_write_wait(l->store, &op);
    if (r != STORE_OK)
        return app_fail(call, r, APP_CMD_REGISTER, req->name);
    sb_info("login", "%s registered", req->name);
    return RPC_OK;
}

/* Name and password to a session token (created or reused). */
static int open_session(login_service *l, rpc_call *call,
                        const Sb__Social__LoginRequest *req,
                        char token[STORE_TOKEN_MAX + 1])
{
    uint8_t raw[16];
    char cand[33];
    store_user u;
    store_res r;

    if (req->name[0] == '\0' || req->password[0] == '\0' ||
        strlen(req->password) > LOGIN_PW_MAX)
        return rpc_call_fail(call, RPC_UNAUTHENTICATED, LOGIN_NOUSER);
    r = store_conn_get_user(l->store, store_s(req->name), &u);
    if (r == STORE_NO_SUCH_USER || r == STORE_INVALID_ARGUMENT ||
        (r == STORE_OK && store_password_verify(u.hash, req->password,
                                                strlen(req->password)) != 0))
        return rpc_call_fail(call, RPC_UNAUTHENTICATED, LOGIN_NOUSER);
    if (r != STORE_OK)
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    rpc_random_bytes(raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(cand + 2 * i, 3, "%02x", raw[i]);
    store_wop op = {.kind = STORE_OP_LOGIN,
                    .name = store_s(req->name),
                    .token = store_s(cand)};
    app_set_reqid(&op, call);
    r = store_conn_write_wait(l->store, &op);
    if (r != STORE_OK)
        return app_fail(call, r == STORE_NO_SUCH_USER ? STORE_NOT_LOGGED_IN : r,
                        APP_CMD_OTHER, NULL);
    snprintf(token, STORE_TOKEN_MAX + 1, "%s", op.out.token);
    return RPC_OK;
}

static int h_login(rpc_call *call, const Sb__Social__LoginRequest *req,
                   Sb__Social__LoginReply *reply, void *arg)
{
    login_service *l = arg;
    char token[STORE_TOKEN_MAX + 1], id[LOGIN_ORCH_ID_MAX];
    char ep[LOGIN_ORCH_EP_MAX];
    rpc_status ost = {0};
    store_session s;
    int rc;

    if (req->name[0] == '\0' && req->old_token[0] != '\0')
        snprintf(token, sizeof token, "%s", req->old_token);
    else if ((rc = open_session(l, call, req, token)) != RPC_OK)
        return rc;
    memset(&s, 0, sizeof s);
    store_res r = store_conn_whoami(l->store, store_s(token), &s);
    if (r != STORE_OK)
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    if ((rc = login_orch_assign(l->cfg.orch, s.user, id, ep, &ost)) != RPC_OK)
        return rpc_call_fail(call, RPC_UNAVAILABLE,
                             "No app server can take %s now (%s)", s.user,
                             ost.message);
    store_wop op = {.kind = STORE_OP_SET_SERVER,
                    .token = store_s(token),
                    .server = store_s(id),
                    .text = store_s(ep)};
    if ((r = store_conn_write_wait(l->store, &op)) != STORE_OK)
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    reply->token = rpc_call_strdup(call, token);
    reply->app_endpoint = rpc_call_strdup(call, ep);
    reply->app_server_id = rpc_call_strdup(call, id);
    reply->server_time_ms = rpc_now_wall_ms() + l->cfg.clock_skew_ms;
    reply->name = rpc_call_strdup(call, s.user);
    sb_info("login", "%s logged in, assigned %s %s", s.user, id, ep);
    return RPC_OK;
}

static void publish_auth(login_service *l, const char *user, const char *token)
{
    Sb__Events__AuthEvent ev = SB__EVENTS__AUTH_EVENT__INIT;

    if (l->pub == NULL)
        return;
    ev.user = (char *)user;
    ev.token = (char *)token;
    if (rpc_bus_publish(l->pub, "auth", &ev.base) != 0)
        sb_debug("login", "auth event for %s not published", user);
}

/* The session's rooms closed and their members have notices in their
 * mailboxes: a group-style hint wakes every parked Receive (best effort;
 * without it a notice waits for the long poll's deadline). */
static void publish_room_closed(login_service *l)
{
    Sb__Events__MailHint h = SB__EVENTS__MAIL_HINT__INIT;

    if (l->pub == NULL)
        return;
    h.group = (char *)"room";
    if (rpc_bus_publish(l->pub, "mail", &h.base) != 0)
        sb_debug("login", "room-closed mail hint not published");
}

/* Logout and delete: one store op on the caller's token, then release. */
static int end_session(login_service *l, rpc_call *call, store_op_kind kind,
                       const char *what)
{
    const char *token = rpc_call_token(call);
    store_session s;
    store_res r;

    memset(&s, 0, sizeof s);
    if ((r = store_conn_whoami(l->store, store_s(token), &s)) != STORE_OK)
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    store_wop op = {.kind = kind, .token = store_s(token)};
    app_set_reqid(&op, call);
    if ((r = store_conn_write_wait(l->store, &op)) != STORE_OK)
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    rpc_status ost = {0};

    login_orch_release(l->cfg.orch, s.user, &ost);
    publish_auth(l, s.user, token);
    if (op.out.count > 0)
        publish_room_closed(l);
    sb_info("login", "%s %s", s.user, what);
    return RPC_OK;
}

static int h_logout(rpc_call *call, const Sb__Social__Empty *req,
                    Sb__Social__Empty *reply, void *arg)
{
    (void)req;
    (void)reply;
    return end_session(arg, call, STORE_OP_LOGOUT, "logged out");
}

static int h_delete(rpc_call *call, const Sb__Social__Empty *req,
                    Sb__Social__Empty *reply, void *arg)
{
    (void)req;
    (void)reply;
    return end_session(arg, call, STORE_OP_DELETE, "deleted the account");
}

static int h_whoami(rpc_call *call, const Sb__Social__Empty *req,
                    Sb__Social__SessionInfo *reply, void *arg)
{
    login_service *l = arg;
    store_session s;
    store_res r;

    (void)req;
    memset(&s, 0, sizeof s);
    if ((r = store_conn_whoami(l->store, store_s(rpc_call_token(call)), &s)) !=
        STORE_OK)
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    reply->name = rpc_call_strdup(call, s.user);
    reply->app_endpoint = rpc_call_strdup(call, s.endpoint);
    reply->app_server_id = rpc_call_strdup(call, s.server);
    reply->login_time_ms = (int64_t)s.login_ms;
    reply->server_time_ms = rpc_now_wall_ms() + l->cfg.clock_skew_ms;
    return RPC_OK;
}

static int h_time(rpc_call *call, const Sb__Social__Empty *req,
                  Sb__Social__TimeReply *reply, void *arg)
{
    login_service *l = arg;
    store_session s;
    store_res r;

    (void)req;
    if ((r = store_conn_whoami(l->store, store_s(rpc_call_token(call)), &s)) !=
        STORE_OK)
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    reply->server_time_ms = rpc_now_wall_ms() + l->cfg.clock_skew_ms;
    return RPC_OK;
}

static int h_list_users(rpc_call *call, const Sb__Social__Empty *req,
                        Sb__Social__UserList *reply, void *arg)
{
    login_service *l = arg;
    store_names n = {0};
    store_res r;

    (void)req;
    r = store_conn_list_users(l->store, store_s(rpc_call_token(call)), &n);
    if (r != STORE_OK) {
        store_names_free(&n);
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    }
    reply->n_users = n.n;
    reply->users = rpc_call_alloc(call, (n.n + 1) * sizeof(*reply->users));
    for (size_t i = 0; i < n.n; i++) {
        Sb__Social__UserEntry *e = rpc_call_alloc(call, sizeof *e);
        sb__social__user_entry__init(e);
        e->name = rpc_call_strdup(call, n.v[i]);
        e->online = n.online != NULL && n.online[i];
        reply->users[i] = e;
    }
    store_names_free(&n);
    return RPC_OK;
}

static const sb_social_Login_handlers handlers = {
    .RegisterUser = h_register,
    .Login = h_login,
    .Logout = h_logout,
    .Delete = h_delete,
    .WhoAmI = h_whoami,
    .Time = h_time,
    .ListUsers = h_list_users,
};

int login_service_register(rpc_server *srv, const login_config *cfg,
                           login_service **out)
{
    login_service *l = calloc(1, sizeof *l);
    int rv;

    if (l == NULL)
        return ENOMEM;
    l->cfg = *cfg;
    l->store = cfg->store;
    if (l->store == NULL) {
        l->own_store = 1;
        if ((rv = store_conn_local(cfg->db, cfg->w, &l->store)) != 0)
            goto fail;
    }
    if (cfg->bus_in != NULL &&
        (rv = rpc_bus_pub_open(&l->pub, cfg->bus_in, "login")) != 0)
        goto fail;
    if ((rv = sb_social_Login_register(srv, &handlers, l)) != 0)
        goto fail;
    if ((rv = app_register_redirector(srv, l->store)) != 0)
        goto fail;
    *out = l;
    return 0;
fail:
    login_service_free(l);
    return rv;
}

void login_service_free(login_service *l)
{
    if (l == NULL)
        return;
    rpc_bus_pub_close(l->pub);
    if (l->own_store)
        store_conn_close(l->store);
    free(l);
}
