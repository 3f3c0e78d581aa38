/* app_rooms.c: the App service's chat-room half: rooms (create, join,
 * leave, list, delete), say to the caller's room, private messages to any
 * online user, and profiles. Same shape as the course commands in
 * app_service.c: token first (app_begin), then one store op or read, and
 * every failure with its own plain text (app_status.c). */
#include <stdio.h>
#include <string.h>

#include "app_internal.h"
#include "sb_log.h"

#define BEGIN()                                                                \
    app_server *a = arg;                                                       \
    store_session sess;                                                        \
    int rc_ = app_begin(a, call, &sess);                                       \
    if (rc_ != RPC_OK)                                                         \
    return rc_

int app_h_create_room(rpc_call *call, const Sb__Social__RoomRequest *req,
                      Sb__Social__Empty *reply, void *arg)
{
    BEGIN();
    store_wop op = {.kind = STORE_OP_CREATE_ROOM, .name = store_s(req->room)};
    (void)reply;
    return app_write(a, call, &op, APP_CMD_CREATE_GROUP, req->room, NULL, NULL);
}

int app_h_join_room(rpc_call *call, const Sb__Social__RoomRequest *req,
                    Sb__Social__Empty *reply, void *arg)
{
    BEGIN();
    store_wop op = {.kind = STORE_OP_JOIN_ROOM, .name = store_s(req->room)};
    (void)reply;
    return app_write(a, call, &op, APP_CMD_JOIN_ROOM, req->room, NULL, NULL);
}

int app_h_leave_room(rpc_call *call, const Sb__Social__Empty *req,
                     Sb__Social__Empty *reply, void *arg)
{
    BEGIN();
    store_wop op = {.kind = STORE_OP_LEAVE_ROOM};
    (void)req;
    (void)reply;
    return app_write(a, call, &op, APP_CMD_OTHER, NULL, NULL, NULL);
}

int app_h_delete_room(rpc_call *call, const Sb__Social__RoomRequest *req,
                      Sb__Social__Empty *reply, void *arg)
{
    BEGIN();
    store_wop op = {.kind = STORE_OP_DELETE_ROOM, .name = store_s(req->room)};
    (void)reply;
    /* the members' room-closed notices: wake every parked member */
    return app_write(a, call, &op, APP_CMD_JOIN_ROOM, req->room, NULL, "room");
}

int app_h_list_rooms(rpc_call *call, const Sb__Social__Empty *req,
                     Sb__Social__RoomList *reply, void *arg)
{
    BEGIN();
    store_rooms l = {0};
    store_res r =
        store_conn_list_rooms(a->store, store_s(rpc_call_token(call)), &l);

    (void)req;
    if (r != STORE_OK) {
        store_rooms_free(&l);
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    }
    reply->n_rooms = l.n;
    reply->rooms = rpc_call_alloc(call, (l.n + 1) * sizeof(*reply->rooms));
    for (size_t i = 0; i < l.n; i++) {
        Sb__Social__RoomEntry *e = rpc_call_alloc(call, sizeof *e);
        sb__social__room_entry__init(e);
        e->name = rpc_call_strdup(call, l.v[i].name);
        e->creator = rpc_call_strdup(call, l.v[i].creator);
        e->count = l.v[i].count;
        reply->rooms[i] = e;
    }
    store_rooms_free(&l);
    return RPC_OK;
}

int app_h_say(rpc_call *call, const Sb__Social__SayRequest *req,
              Sb__Social__Empty *reply, void *arg)
{
    BEGIN();
    store_wop op = {.kind = STORE_OP_SAY, .text = store_s(req->text)};
    (void)reply;
    /* a group-style hint wakes every parked member */
    return app_write(a, call, &op, APP_CMD_OTHER, NULL, NULL, "room");
}

int app_h_private(rpc_call *call, const Sb__Social__PrivateRequest *req,
                  Sb__Social__Empty *reply, void *arg)
{
    BEGIN();
    store_wop op = {.kind = STORE_OP_PRIVATE,
                    .name = store_s(req->to),
                    .text = store_s(req->text)};
    (void)reply;
    return app_write(a, call, &op, APP_CMD_OTHER, req->to, req->to, NULL);
}

/* A field-specific message before the store's own (same) check. */
static int check_field(rpc_call *call, const char *what, const char *v)
{
    if (store_valid_printable(store_s(v), STORE_NAME_MAX))
        return RPC_OK;
    return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                         "%s must be 1 to %d bytes of printable UTF-8", what,
                         STORE_NAME_MAX);
}

int app_h_set_profile(rpc_call *call, const Sb__Social__Profile *req,
                      Sb__Social__Empty *reply, void *arg)
{
    BEGIN();
    int rc;

    (void)reply;
    if ((rc = check_field(call, "First name", req->first_name)) != RPC_OK ||
        (rc = check_field(call, "Last name", req->last_name)) != RPC_OK)
        return rc;
    if (req->age > STORE_AGE_MAX)
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "Age must be 0 to %d, not %u", STORE_AGE_MAX,
                             req->age);
    if ((rc = check_field(call, "Gender", req->gender)) != RPC_OK)
        return rc;
    store_wop op = {.kind = STORE_OP_SET_PROFILE,
                    .first = store_s(req->first_name),
                    .last = store_s(req->last_name),
                    .gender = store_s(req->gender),
                    .age = req->age};
    return app_write(a, call, &op, APP_CMD_OTHER, NULL, NULL, NULL);
}

int app_h_show_profile(rpc_call *call,
                       const Sb__Social__ShowProfileRequest *req,
                       Sb__Social__ShowProfileReply *reply, void *arg)
{
    BEGIN();
    store_user u;
    int has = 0;
    store_res r = store_conn_show_profile(
        a->store, store_s(rpc_call_token(call)), store_s(req->id), &u, &has);

    if (r == STORE_INVALID_ARGUMENT) /* not a name at all: no such user */
        r = STORE_NO_SUCH_USER;
    if (r != STORE_OK)
        return app_fail(call, r, APP_CMD_OTHER, req->id);
    reply->name = rpc_call_strdup(call, u.name);
    if (has) {
        Sb__Social__Profile *p = rpc_call_alloc(call, sizeof *p);
        sb__social__profile__init(p);
        p->first_name = rpc_call_strdup(call, u.first);
        p->last_name = rpc_call_strdup(call, u.last);
        p->gender = rpc_call_strdup(call, u.gender);
        p->age = u.age;
        reply->profile = p;
    }
    return RPC_OK;
}
