/* login_orch.c: Assign and Release over the Orchestrator RPC service
 * (login_orch.h). The call's time budget is the launch bound plus a
 * second, so the orchestrator's own clear UNAVAILABLE message (not a bare
 * deadline) reaches the user when no server comes up in time. */
#include "login_orch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet.pb-c.h"
#include "fleet.sb.h"
#include "sb_log.h"

struct login_orch {
    rpc_client *cli;
    unsigned wait_ms;
};

int login_orch_open(const char *url, unsigned wait_ms, login_orch **out)
{
    login_orch *o = calloc(1, sizeof(*o));
    int rv;

    *out = NULL;
    if (o == NULL)
        return ENOMEM;
    o->wait_ms = wait_ms ? wait_ms : 15000;
    if ((rv = rpc_client_open(&o->cli, url, NULL)) != 0) {
        free(o);
        return rv;
    }
    *out = o;
    return 0;
}

int login_orch_assign(login_orch *o, const char *user,
                      char id[LOGIN_ORCH_ID_MAX], char ep[LOGIN_ORCH_EP_MAX],
                      rpc_status *st)
{
    Sb__Fleet__AssignRequest req = SB__FLEET__ASSIGN_REQUEST__INIT;
    Sb__Fleet__AssignReply *reply = NULL;
    /* No runtime retries: an UNAVAILABLE answer after the wait is final
     * (a retry would wait and launch again); a connection that failed is
     * tried once more here. */
    rpc_opts opts = {.timeout_ms = (int)o->wait_ms + 1000, .no_retry = 1};
    int rc;

    req.user = (char *)user;
    req.wait_ms = o->wait_ms;
    rc = sb_fleet_Orchestrator_Assign(o->cli, &req, &reply, &opts, st);
    if (rc == RPC_UNAVAILABLE &&
        (strncmp(st->message, "cannot reach", 12) == 0 ||
         strncmp(st->message, "lost the connection", 19) == 0)) {
        struct timespec ts = {0, 200 * 1000000L};

        nanosleep(&ts, NULL);
        rc = sb_fleet_Orchestrator_Assign(o->cli, &req, &reply, &opts, st);
    }
    if (rc != RPC_OK)
        return rc;
    snprintf(id, LOGIN_ORCH_ID_MAX, "%s", reply->server_id);
    snprintf(ep, LOGIN_ORCH_EP_MAX, "%s", reply->endpoint);
    if (reply->reassigned)
        sb_info("login", "%s moved to %s (its server was gone)", user, id);
    sb_fleet_Orchestrator_free(&reply->base);
    return RPC_OK;
}

int login_orch_release(login_orch *o, const char *user, rpc_status *st)
{
    Sb__Fleet__ReleaseRequest req = SB__FLEET__RELEASE_REQUEST__INIT;
    Sb__Fleet__ReleaseReply *reply = NULL;
    int rc;

    req.user = (char *)user;
    rc = sb_fleet_Orchestrator_Release(o->cli, &req, &reply, NULL, st);
    if (rc != RPC_OK) {
        sb_warn("login", "release of %s failed: %s %s", user, rpc_code_name(rc),
                st->message);
        return rc;
    }
    sb_fleet_Orchestrator_free(&reply->base);
    return RPC_OK;
}

void login_orch_close(login_orch *o)
{
    if (o == NULL)
        return;
    rpc_client_close(o->cli);
    free(o);
}
