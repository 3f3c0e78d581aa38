/* fleet_tick.c: everything the fleet does on its own rather than on a call:
 * failure detection, launch timeouts, idle drain and termination, min and
 * spare capacity, forgetting old rows, and reconciling with the driver at
 * open. Decisions are taken and recorded under f->mu; the driver calls
 * they need run afterwards (fleet_run_actions) without it. */
#include "fleet_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"

int fleet_actions_push(fleet_actions *a, int type, const char *server_id,
                       const char *instance_id)
{
    fleet_action *x;

    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        fleet_action *v = realloc(a->v, cap * sizeof(*v));

        if (v == NULL)
            return RPC_INTERNAL;
        a->v = v;
        a->cap = cap;
    }
    x = &a->v[a->n++];
    memset(x, 0, sizeof(*x));
    x->type = type;
    snprintf(x->server_id, sizeof(x->server_id), "%s", server_id);
    snprintf(x->instance_id, sizeof(x->instance_id), "%s",
             instance_id != NULL ? instance_id : "");
    return RPC_OK;
}

uint32_t fleet_live_servers(struct fleet *f, uint32_t *pending_slots)
{
    uint32_t live = 0;

    *pending_slots = 0;
    for (size_t i = 0; i < f->nsrv; i++) {
        fleet_state st = (fleet_state)f->srv[i].rec.state;

        if (st == FLEET_LAUNCHING)
            *pending_slots += f->srv[i].rec.capacity;
        if (st == FLEET_LAUNCHING || st == FLEET_UP || st == FLEET_DRAINING)
            live++;
    }
    return live;
}

int fleet_plan_launch(struct fleet *f, fleet_actions *a, rpc_status *st)
{
    char id[FLEET_ID_MAX];
    uint64_t seq;
    fleet_srv *s;
    int rc;

    if ((rc = fleet_record_next_seq(f->rec, &seq, st)) != RPC_OK)
        return rc;
    snprintf(id, sizeof(id), "app-%llu", (unsigned long long)seq);
    if ((s = fleet_add_srv(f, id)) == NULL ||
        fleet_actions_push(a, FLEET_ACT_LAUNCH, id, NULL) != RPC_OK) {
        if (s != NULL)
            f->nsrv--;
        return fleet_status(st, RPC_INTERNAL, "fleet: out of memory");
    }
    fleet_set_state(f, s, FLEET_LAUNCHING);
    s->rec.owned = 1;
    s->rec.capacity = f->o.capacity;
    /* Recorded before the driver is asked: a crash in between leaves a
     * launching row that reconcile matches against the driver's list. */
    if ((rc = fleet_persist_srv(f, s, st)) != RPC_OK) {
        f->nsrv--;
        a->n--;
        return rc;
    }
    sb_info("fleet", "launching %s", id);
    return RPC_OK;
}

void fleet_plan_scale(struct fleet *f, fleet_actions *a)
{
    uint32_t pending, live = fleet_live_servers(f, &pending);
    int64_t free_slots = pending - (int64_t)f->nwait;

    if (fleet_now(f) < f->launch_backoff_until)
        return;
    for (size_t i = 0; i < f->nsrv; i++)
        if (f->srv[i].rec.state == FLEET_UP &&
            f->srv[i].users < f->srv[i].rec.capacity)
            free_slots += f->srv[i].rec.capacity - f->srv[i].users;
    while (live < f->o.max_servers &&
           (live < f->o.min_servers || free_slots < f->o.spare_slots)) {
        if (fleet_plan_launch(f, a, NULL) != RPC_OK)
            return;
        live++;
        free_slots += f->o.capacity;
    }
}

static int launch_one(struct fleet *f, const fleet_action *x)
{
    const fleet_driver *d = f->o.driver;
    char inst[FLEET_INSTANCE_MAX] = "";
    rpc_status dst = {0};
    int rc = d->launch(f->o.driver_ctx, x->server_id, inst, &dst);
    fleet_srv *s;

    pthread_mutex_lock(&f->mu);
    s = fleet_find_srv(f, x->server_id);
    if (rc == RPC_OK) {
        f->c.launches++;
        sb_info("fleet", "launched %s as %s instance %s", x->server_id,
                d->name(f->o.driver_ctx), inst);
        if (s != NULL && s->rec.instance_id[0] == 0) {
            snprintf(s->rec.instance_id, sizeof(s->rec.instance_id), "%s",
                     inst);
            fleet_persist_srv(f, s, NULL);
        }
    } else {
        f->c.launch_failures++;
        f->launch_backoff_until = fleet_now(f) + 1000;
        snprintf(f->last_error, sizeof(f->last_error), "launch of %s: %s",
                 x->server_id, dst.message);
        sb_error("fleet", "%s driver could not launch %s: %s",
                 d->name(f->o.driver_ctx), x->server_id, dst.message);
        if (s != NULL) {
            fleet_set_state(f, s, FLEET_TERMINATED);
            s->rec.stopped = 1;
            fleet_persist_srv(f, s, NULL);
        }
        fleet_bump_locked(f);
    }
    pthread_mutex_unlock(&f->mu);
    return rc != RPC_OK;
}

static void terminate_one(struct fleet *f, const fleet_action *x)
{
    const fleet_driver *d = f->o.driver;
    rpc_status dst = {0};
    int rc = d->terminate(f->o.driver_ctx, x->instance_id, &dst);
    fleet_srv *s;

    pthread_mutex_lock(&f->mu);
    s = fleet_find_srv(f, x->server_id);
    if (rc == RPC_OK || rc == RPC_NOT_FOUND) {
        f->c.terminations++;
        sb_info("fleet", "terminated %s (instance %s)", x->server_id,
                x->instance_id);
        if (s != NULL && !s->rec.stopped) {
            s->rec.stopped = 1;
            if (s->rec.state == FLEET_DRAINING)
                fleet_set_state(f, s, FLEET_TERMINATED);
            fleet_persist_srv(f, s, NULL);
        }
    } else {
        snprintf(f->last_error, sizeof(f->last_error),
                 "terminate of %s (%s): %s", x->server_id, x->instance_id,
                 dst.message);
        sb_warn("fleet",
                "could not terminate %s (instance %s), will retry: "
                "%s",
                x->server_id, x->instance_id, dst.message);
    }
    pthread_mutex_unlock(&f->mu);
}

static void forget_one(struct fleet *f, const fleet_action *x)
{
    int alive = x->instance_id[0]
                    ? f->o.driver->alive(f->o.driver_ctx, x->instance_id)
                    : 0;
    fleet_srv *s;

    pthread_mutex_lock(&f->mu);
    s = fleet_find_srv(f, x->server_id);
    if (s != NULL && alive == 0 &&
        fleet_record_del_server(f->rec, x->server_id, NULL) == RPC_OK) {
        *s = f->srv[--f->nsrv];
        sb_debug("fleet", "forgot %s", x->server_id);
    } else if (s != NULL && alive == 1) {
        s->rec.stopped = 0; /* still there: terminate again next tick */
        sb_warn("fleet",
                "%s (instance %s) is still running after terminate; "
                "terminating again",
                x->server_id, x->instance_id);
    }
    pthread_mutex_unlock(&f->mu);
}

int fleet_run_actions(struct fleet *f, fleet_actions *a)
{
    int notify = 0, failed = 0;

    if (a->n == 0)
        goto out;
    pthread_mutex_lock(&f->driver_mu);
    for (size_t i = 0; i < a->n; i++) {
        switch (a->v[i].type) {
        case FLEET_ACT_LAUNCH:
            failed += launch_one(f, &a->v[i]);
            notify = 1;
            break;
        case FLEET_ACT_TERMINATE:
            terminate_one(f, &a->v[i]);
            break;
        default:
            forget_one(f, &a->v[i]);
            break;
        }
    }
    pthread_mutex_unlock(&f->driver_mu);
    if (notify)
        fleet_notify(f);
out:
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
    return failed;
}

/* Missed heartbeats and launches that never registered. */
static void check_health(struct fleet *f, fleet_srv *s, int64_t now)
{
    int64_t timeout = (int64_t)f->o.heartbeat_ms * f->o.missed_heartbeats;

    if ((s->rec.state == FLEET_UP || s->rec.state == FLEET_DRAINING) &&
        now - s->rec.last_heartbeat_ms > timeout) {
        sb_warn("fleet",
                "%s missed %u heartbeats (last %lld ms ago): dead; "
                "its %u users move on their next call",
                s->rec.id, f->o.missed_heartbeats,
                (long long)(now - s->rec.last_heartbeat_ms), s->users);
        fleet_set_state(f, s, FLEET_DEAD);
        f->c.deaths++;
        fleet_persist_srv(f, s, NULL);
    } else if (s->rec.state == FLEET_LAUNCHING &&
               now - s->rec.since_ms > f->o.launch_timeout_ms) {
        snprintf(f->last_error, sizeof(f->last_error),
                 "%s (instance %s) did not register within %u ms", s->rec.id,
                 s->rec.instance_id[0] ? s->rec.instance_id : "none",
                 f->o.launch_timeout_ms);
        sb_error("fleet", "%s; terminating it", f->last_error);
        fleet_set_state(f, s, FLEET_DEAD);
        f->c.launch_failures++;
        fleet_persist_srv(f, s, NULL);
        fleet_bump_locked(f);
    }
}

/* Idle servers past grace are drained, down to min_servers, keeping the
 * spare slots warm. */
static void check_idle(struct fleet *f, int64_t now)
{
    uint32_t pending, live = fleet_live_servers(f, &pending);
    int64_t free_slots = pending - (int64_t)f->nwait;

    for (size_t i = 0; i < f->nsrv; i++)
        if (f->srv[i].rec.state == FLEET_UP)
            free_slots += (int64_t)f->srv[i].rec.capacity - f->srv[i].users;
    for (size_t i = 0; i < f->nsrv && live > f->o.min_servers; i++) {
        fleet_srv *s = &f->srv[i];

        if (s->rec.state != FLEET_UP || !s->rec.owned || s->users > 0 ||
            now - s->idle_since < f->o.idle_grace_ms ||
            free_slots - s->rec.capacity < f->o.spare_slots)
            continue;
        sb_info("fleet", "%s idle for %lld ms: draining and terminating",
                s->rec.id, (long long)(now - s->idle_since));
        fleet_set_state(f, s, FLEET_DRAINING);
        s->rec.stopped = 0;
        fleet_persist_srv(f, s, NULL);
        live--;
        free_slots -= s->rec.capacity;
    }
}

void fleet_tick(struct fleet *f)
{
    fleet_actions a = {0};
    uint64_t gen;
    int64_t now;

    if (f->o.driver->poll != NULL) {
        pthread_mutex_lock(&f->driver_mu);
        f->o.driver->poll(f->o.driver_ctx);
        pthread_mutex_unlock(&f->driver_mu);
    }
    pthread_mutex_lock(&f->mu);
    gen = f->generation;
    now = fleet_now(f);
    for (size_t i = 0; i < f->nsrv; i++)
        check_health(f, &f->srv[i], now);
    check_idle(f, now);
    for (size_t i = 0; i < f->nsrv; i++) {
        fleet_srv *s = &f->srv[i];
        int gone =
            s->rec.state == FLEET_DEAD || s->rec.state == FLEET_TERMINATED;
        int stoppable = s->rec.owned && s->rec.instance_id[0] != 0;

        if ((gone || s->rec.state == FLEET_DRAINING) && stoppable &&
            !s->rec.stopped)
            fleet_actions_push(&a, FLEET_ACT_TERMINATE, s->rec.id,
                               s->rec.instance_id);
        else if (gone && now - s->rec.since_ms > f->o.forget_ms)
            fleet_actions_push(&a, FLEET_ACT_FORGET, s->rec.id,
                               stoppable ? s->rec.instance_id : "");
    }
    for (size_t i = 0; i < f->nwait;) {
        if (now - f->wait[i].since > f->o.launch_timeout_ms)
            fleet_drop_waiter(f, f->wait[i].user);
        else
            i++;
    }
    fleet_plan_scale(f, &a);
    gen = f->generation != gen;
    pthread_mutex_unlock(&f->mu);
    fleet_run_actions(f, &a);
    if (gen)
        fleet_notify(f);
}
