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

int app_begin(app_server *a, rpc_call *call, store_session *s)
{
	store_res r;

	memset(s, 0, sizeof *s);
	r = store_whoami(a->db, store_s(rpc_call_token(call)), s);
	if (r != STORE_OK)
		return app_fail(call, r, APP_CMD_OTHER, NULL);
	app_idle_touch(a, s->user, s->token);
	/* Assigned elsewhere: send the client to its server. A session with
	 * no server yet (a login still in progress) is served here. */
	if (s->server[0] != '\0' && strcmp(s->server, a->id) != 0 &&
	    s->endpoint[0] != '\0')
		return rpc_call_redirect(call, s->endpoint);
	return RPC_OK;
}

/* One write op as the caller's user; the token is resolved again inside
 * the store transaction, so a logout racing this call is honoured. */
int app_write_op(app_server *a, rpc_call *call, store_wop *op, app_cmd cmd,
                 const char *name)
{
	store_res r;

	op->token = store_s(rpc_call_token(call));
	app_set_reqid(op, call);
	r = store_writer_submit_wait(a->w, op);
	if (r != STORE_OK)
		return app_fail(call, r, cmd, name);
	return RPC_OK;
}

#define BEGIN()                                                         \
	app_server *a = arg;                                            \
	store_session sess;                                             \
	int rc_ = app_begin(a, call, &sess);                            \
	if (rc_ != RPC_OK)                                              \
		return rc_

static int h_invite(rpc_call *call, const Sb__Social__InviteRequest *req,
                    Sb__Social__Empty *reply, void *arg)
{
	BEGIN();
	store_wop op = {.kind = STORE_OP_INVITE, .name = store_s(req->id)};
	(void)reply;
	return app_write_op(a, call, &op, APP_CMD_INVITE, req->id);
}

static int h_accept(rpc_call *call, const Sb__Social__AcceptInviteRequest *req,
                    Sb__Social__Empty *reply, void *arg)
{
	BEGIN();
	store_wop op = {.kind = STORE_OP_ACCEPT, .name = store_s(req->id)};
	(void)reply;
	return app_write_op(a, call, &op, APP_CMD_ACCEPT, req->id);
}

static int h_post(rpc_call *call, const Sb__Social__PostRequest *req,
                  Sb__Social__Empty *reply, void *arg)
{
	BEGIN();
	store_wop op = {.kind = STORE_OP_POST, .text = store_s(req->text)};
	(void)reply;
	return app_write_op(a, call, &op, APP_CMD_OTHER, NULL);
}

static int h_send(rpc_call *call, const Sb__Social__SendRequest *req,
                  Sb__Social__Empty *reply, void *arg)
{
	BEGIN();
	store_wop op = {.kind = STORE_OP_SEND, .name = store_s(req->to),
	                .text = store_s(req->text)};
	int rc = app_write_op(a, call, &op, APP_CMD_SEND, req->to);
	(void)reply;
	if (rc == RPC_OK)
		app_hint(a, req->to, NULL);
	return rc;
}

static int h_create_group(rpc_call *call, const Sb__Social__GroupRequest *req,
                          Sb__Social__Empty *reply, void *arg)
{
	BEGIN();
	store_wop op = {.kind = STORE_OP_CREATE_GROUP, .name = store_s(req->group)};
	(void)reply;
	return app_write_op(a, call, &op, APP_CMD_CREATE_GROUP, req->group);
}

static int h_join_group(rpc_call *call, const Sb__Social__GroupRequest *req,
                        Sb__Social__Empty *reply, void *arg)
{
	BEGIN();
	store_wop op = {.kind = STORE_OP_JOIN_GROUP, .name = store_s(req->group)};
	(void)reply;
	return app_write_op(a, call, &op, APP_CMD_JOIN_GROUP, req->group);
}

static int h_send_group(rpc_call *call, const Sb__Social__SendGroupRequest *req,
                        Sb__Social__Empty *reply, void *arg)
{
	BEGIN();
	store_wop op = {.kind = STORE_OP_SEND_GROUP, .name = store_s(req->group),
	                .text = store_s(req->text)};
	int rc = app_write_op(a, call, &op, APP_CMD_SEND_GROUP, req->group);
	(void)reply;
	if (rc == RPC_OK)
		app_hint(a, NULL, req->group);
	return rc;
}

typedef store_res (*list_fn)(store_db *, store_str, store_names *);

/* Runs a name-list read and copies it into the reply. */
static int list_names(app_server *a, rpc_call *call, list_fn fn,
                      Sb__Social__NameList *reply)
{
	store_names l = {0};
	store_res r = fn(a->db, store_s(rpc_call_token(call)), &l);

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

#define LIST_HANDLER(hname, fn)                                              \
	static int hname(rpc_call *call, const Sb__Social__Empty *req,       \
	                 Sb__Social__NameList *reply, void *arg)             \
	{                                                                    \
		BEGIN();                                                     \
		(void)req;                                                   \
		return list_names(a, call, fn, reply);                       \
	}
LIST_HANDLER(h_list_invite, store_list_invite)
LIST_HANDLER(h_list_friend, store_list_friend)
LIST_HANDLER(h_list_group, store_list_group)
LIST_HANDLER(h_list_joined, store_list_joined)

static int h_receive_post(rpc_call *call, const Sb__Social__Empty *req,
                          Sb__Social__PostList *reply, void *arg)
{
	BEGIN();
	store_posts l = {0};
	store_res r = store_receive_post(a->db, store_s(rpc_call_token(call)), &l);

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
	if ((rv = sb_social_App_register(a->srv, &handlers, a)) != 0)
		return rv;
	if ((rv = rpc_server_listen(a->srv, cfg->listen_url)) != 0) {
		sb_error("app", "%s: cannot listen on %s: %s", a->id,
		         cfg->listen_url, rpc_code_name(rv));
		return rv;
	}
	return rpc_server_start(a->srv);
}

int app_server_start(const app_config *cfg, app_server **out)
{
	app_server *a = calloc(1, sizeof *a);
	int rv;

	if (a == NULL)
		return ENOMEM;
	snprintf(a->id, sizeof a->id, "%s", cfg->id);
	a->db = cfg->db;
	a->w = cfg->w;
	a->poll_ms = cfg->poll_ms > 0 ? cfg->poll_ms : 50;
	a->idle_ms = cfg->idle_ms;
	a->clock_skew_ms = cfg->clock_skew_ms;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	if (cfg->bus_in != NULL &&
	    (rv = rpc_bus_pub_open(&a->pub, cfg->bus_in, a->id)) != 0)
		goto fail;
	if ((rv = app_receive_start(a, cfg->bus_out)) != 0)
		goto fail;
	if ((rv = app_draw_start(a, cfg->draw_url, cfg->draw_max)) != 0)
		goto fail;
	if ((rv = app_idle_start(a)) != 0)
		goto fail;
	if ((rv = start_rpc(a, cfg)) != 0)
		goto fail;
	a->serving = 1;
	sb_info("app", "%s serving on %s", a->id, app_server_url(a));
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
	/* Draws in flight are parked calls too; stop first (no new ones,
	 * waits for them), then the draw client answers any left. */
	if (a->serving)
		rpc_server_stop(a->srv);
	app_draw_stop(a);
	app_idle_stop(a);
	if (a->srv != NULL)
		rpc_server_destroy(a->srv);
	rpc_bus_pub_close(a->pub);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	sb_info("app", "%s stopped", a->id);
	free(a);
}
