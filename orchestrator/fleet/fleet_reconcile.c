/* fleet_reconcile.c: after a restart, the record says what the fleet
 * believed and the driver's list() says what runs. Known and running:
 * adopted. Known and gone: dead (users move on their next call). Running
 * but unknown (launched by an orchestrator that stopped before recording
 * the instance): terminated, since no user can be assigned to it. */
#include "fleet_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"

static fleet_instance *find_inst(fleet_instance *v, size_t n, const char *id,
                                 int by_server)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(by_server ? v[i].server_id : v[i].instance_id, id) == 0)
            return &v[i];
    return NULL;
}

/* One record row that holds (or held) a live instance. */
static void reconcile_live(struct fleet *f, fleet_srv *s, fleet_instance *v,
                           size_t n, int listed, unsigned char *used)
{
    fleet_instance *in = NULL;

    if (s->rec.instance_id[0] == 0)
        in = find_inst(v, n, s->rec.id, 1);
    else
        in = find_inst(v, n, s->rec.instance_id, 0);
    if (in != NULL) {
        used[in - v] = 1;
        if (s->rec.instance_id[0] == 0)
            snprintf(s->rec.instance_id, sizeof(s->rec.instance_id), "%s",
                     in->instance_id);
        f->c.adopted++;
        sb_info("fleet", "re-adopted %s (instance %s, %s)", s->rec.id,
                s->rec.instance_id, fleet_state_name(s->rec.state));
        if (s->rec.state == FLEET_DRAINING)
            s->rec.stopped = 0; /* finish the termination */
        return;
    }
    if (!listed)
        return; /* cannot tell: keep it; heartbeats will decide */
    if (s->rec.instance_id[0] == 0) {
        sb_info("fleet",
                "%s was being launched when the orchestrator "
                "stopped and no instance exists: dropped",
                s->rec.id);
        fleet_set_state(f, s, FLEET_TERMINATED);
    } else {
        sb_warn("fleet",
                "%s's instance %s is gone: dead; its %u users move "
                "on their next call",
                s->rec.id, s->rec.instance_id, s->users);
        fleet_set_state(f, s,
                        s->rec.state == FLEET_DRAINING ? FLEET_TERMINATED
                                                       : FLEET_DEAD);
    }
    s->rec.stopped = 1;
}

static void reconcile_row(struct fleet *f, fleet_srv *s, fleet_instance *v,
                          size_t n, int listed, unsigned char *used)
{
    int64_t now = fleet_now(f);
    fleet_instance *in;

    /* A restart is not the servers' fault: a fresh heartbeat timeout,
     * idle grace and launch timeout for everyone. */
    s->rec.last_heartbeat_ms = now;
    s->idle_since = now;
    if (s->rec.state == FLEET_LAUNCHING)
        s->rec.since_ms = now;
    if (!s->rec.owned)
        return;
    if (s->rec.state == FLEET_LAUNCHING || s->rec.state == FLEET_UP ||
        s->rec.state == FLEET_DRAINING) {
        reconcile_live(f, s, v, n, listed, used);
    } else if (s->rec.instance_id[0] != 0 &&
               (in = find_inst(v, n, s->rec.instance_id, 0)) != NULL) {
        used[in - v] = 1;
        sb_warn("fleet",
                "%s is %s but its instance %s still runs: "
                "terminating it",
                s->rec.id, fleet_state_name(s->rec.state), s->rec.instance_id);
        s->rec.stopped = 0;
    }
    fleet_persist_srv(f, s, NULL);
}

/* Tagged instances no row accounts for. */
static void reconcile_unknown(struct fleet *f, fleet_instance *v, size_t n,
                              const unsigned char *used, fleet_actions *a)
{
    for (size_t i = 0; i < n; i++) {
        unsigned long long num;

        if (used[i])
            continue;
        if (sscanf(v[i].server_id, "app-%llu", &num) == 1)
            fleet_record_bump_seq(f->rec, (uint64_t)num + 1, NULL);
        sb_warn("fleet",
                "terminating instance %s (server %s): it carries "
                "fleet %s's tag but is not in the fleet record (launched by "
                "an orchestrator that stopped before recording it)",
                v[i].instance_id, v[i].server_id[0] ? v[i].server_id : "?",
                f->name);
        f->c.reaped_unknown++;
        fleet_actions_push(a, FLEET_ACT_TERMINATE, v[i].server_id,
                           v[i].instance_id);
    }
}

void fleet_reconcile(struct fleet *f)
{
    fleet_instance *v = NULL;
    unsigned char *used = NULL;
    fleet_actions a = {0};
    rpc_status st = {0};
    size_t n = 0;
    int listed;

    listed = f->o.driver->list(f->o.driver_ctx, &v, &n, &st) == RPC_OK;
    if (!listed) {
        n = 0;
        snprintf(f->last_error, sizeof(f->last_error), "list: %s", st.message);
        sb_warn("fleet",
                "cannot list %s instances (%s): keeping the record "
                "as is; heartbeats will tell who is alive",
                f->o.driver->name(f->o.driver_ctx), st.message);
    }
    used = calloc(n + 1, 1);
    if (used == NULL) {
        sb_error("fleet", "out of memory in reconcile");
        goto out;
    }
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->nsrv; i++)
        reconcile_row(f, &f->srv[i], v, n, listed, used);
    reconcile_unknown(f, v, n, used, &a);
    pthread_mutex_unlock(&f->mu);
    fleet_run_actions(f, &a);
out:
    free(used);
    free(v);
}
