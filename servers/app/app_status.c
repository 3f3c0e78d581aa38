/* app_status.c: store results to rpc statuses with the course's exact
 * reply texts (PROTOCOL.md), and the login endpoint's App redirector. */
#include <stdio.h>
#include <string.h>

#include "app_service.h"
#include "social.pb-c.h"

int app_fail(rpc_call *call, store_res r, app_cmd cmd, const char *name)
{
    const char *n = name != NULL ? name : "";

    switch (r) {
    case STORE_NOT_LOGGED_IN:
        return rpc_call_fail(call, RPC_UNAUTHENTICATED, "Not login yet");
    case STORE_ALREADY_USED:
        return rpc_call_fail(call, RPC_ALREADY_EXISTS, "%s is already used", n);
    case STORE_NO_SUCH_USER:
        if (cmd == APP_CMD_SEND)
            return rpc_call_fail(call, RPC_NOT_FOUND, "No such user exist");
        if (cmd == APP_CMD_ACCEPT)
            return rpc_call_fail(call, RPC_NOT_FOUND, "%s did not invite you",
                                 n);
        return rpc_call_fail(call, RPC_NOT_FOUND, "%s does not exist", n);
    case STORE_SELF:
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "You cannot invite yourself");
    case STORE_ALREADY_FRIEND:
        return rpc_call_fail(call, RPC_ALREADY_EXISTS,
                             "%s is already your friend", n);
    case STORE_ALREADY_INVITED:
        return rpc_call_fail(call, RPC_ALREADY_EXISTS, "Already invited");
    case STORE_INVITED_YOU:
        return rpc_call_fail(call, RPC_FAILED_PRECONDITION,
                             "%s has invited you", n);
    case STORE_NOT_INVITED:
        return rpc_call_fail(call, RPC_NOT_FOUND, "%s did not invite you", n);
    case STORE_NOT_FRIEND:
        return rpc_call_fail(call, RPC_FAILED_PRECONDITION,
                             "%s is not your friend", n);
    case STORE_NOT_ONLINE:
        return rpc_call_fail(call, RPC_FAILED_PRECONDITION, "%s is not online",
                             n);
    case STORE_ALREADY_EXISTS:
        return rpc_call_fail(call, RPC_ALREADY_EXISTS, "%s already exist", n);
    case STORE_NO_SUCH_GROUP:
        if (cmd == APP_CMD_SEND_GROUP)
            return rpc_call_fail(call, RPC_NOT_FOUND, "No such group exist");
        return rpc_call_fail(call, RPC_NOT_FOUND, "%s does not exist", n);
    case STORE_ALREADY_MEMBER:
        if (cmd == APP_CMD_JOIN_ROOM)
            return rpc_call_fail(call, RPC_ALREADY_EXISTS, "Already in %s", n);
        return rpc_call_fail(call, RPC_ALREADY_EXISTS, "Already a member of %s",
                             n);
    case STORE_NOT_MEMBER:
        return rpc_call_fail(call, RPC_PERMISSION_DENIED,
                             "You are not the member of %s", n);
    case STORE_INVALID_ARGUMENT:
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "Invalid argument: a name or text is empty, too "
                             "long, or holds a NUL byte or a space");
    case STORE_NOT_CREATOR:
        return rpc_call_fail(call, RPC_PERMISSION_DENIED,
                             "Only the creator of %s can delete it", n);
    case STORE_IN_LOBBY:
        return rpc_call_fail(call, RPC_FAILED_PRECONDITION, "Already in lobby");
    case STORE_LOBBY:
        return rpc_call_fail(call, RPC_PERMISSION_DENIED,
                             "lobby cannot be deleted");
    case STORE_BAD_AGE:
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT, "Age must be 0 to %d",
                             STORE_AGE_MAX);
    case STORE_BAD_PROFILE:
        return rpc_call_fail(call, RPC_INVALID_ARGUMENT,
                             "Names and gender must be 1 to %d bytes of "
                             "printable UTF-8",
                             STORE_NAME_MAX);
    case STORE_ERR_SHUTDOWN:
        return rpc_call_fail(call, RPC_UNAVAILABLE, "Server is shutting down");
    case STORE_ERR_UNAVAILABLE: /* the client retries with the same id */
        return rpc_call_fail(call, RPC_UNAVAILABLE,
                             "Store unreachable; try again");
    case STORE_OK: /* not a failure: a caller bug, answered safely */
    case STORE_ERR_INTERNAL:
    default:
        return rpc_call_fail(call, RPC_INTERNAL, "Internal error (%s)",
                             store_res_name(r));
    }
}

void app_set_reqid(store_wop *op, rpc_call *call)
{
    const uint8_t *id = rpc_call_request_id(call);

    if (id != NULL)
        memcpy(op->reqid, id, STORE_REQID_LEN);
}

/* Any App method on the login endpoint: token first, then where to go. */
static int h_redirect(rpc_call *call, const ProtobufCMessage *req,
                      ProtobufCMessage *reply, void *arg)
{
    store_session s;
    store_res r;

    (void)req;
    (void)reply;
    memset(&s, 0, sizeof s);
    r = store_conn_whoami(arg, store_s(rpc_call_token(call)), &s);
    if (r != STORE_OK)
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    if (s.endpoint[0] == '\0')
        return rpc_call_fail(call, RPC_UNAVAILABLE,
                             "No app server assigned yet: log in again");
    return rpc_call_redirect(call, s.endpoint);
}

int app_register_redirector(rpc_server *srv, store_conn *store)
{
    const ProtobufCServiceDescriptor *sd = &sb__social__app__descriptor;
    char method[128];

    for (unsigned i = 0; i < sd->n_methods; i++) {
        const ProtobufCMethodDescriptor *m = &sd->methods[i];
        snprintf(method, sizeof method, "sb.social.App/%s", m->name);
        int rv = rpc_server_add_method(srv, method, m->input, m->output,
                                       h_redirect, store);
        if (rv != 0)
            return rv;
    }
    return 0;
}
