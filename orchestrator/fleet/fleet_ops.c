/* fleet_ops.c: the fleet calls the Orchestrator RPC service needs beyond
 * register/heartbeat/assign: Deregister (a server leaving on SIGTERM),
 * Lookup (where a user is), the server's state (a heartbeat reply says
 * "drain"), and the liveness probe that lets Assign move a user off a
 * server that died before its missed heartbeats were counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet_internal.h"
#include "sb_log.h"

int fleet_deregister(struct fleet *f, const char *server_id, rpc_status *st)
{
    fleet_srv *s;
    int rc = RPC_OK;

    if (server_id == NULL || server_id[0] == '\0' ||
        strlen(server_id) >= FLEET_ID_MAX)
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "server id must be 1..%d bytes", FLEET_ID_MAX - 1);
    pthread_mutex_lock(&f->mu);
    if ((s = fleet_find_srv(f, server_id)) == NULL) {
        rc = fleet_status(st, RPC_NOT_FOUND, "unknown server %s", server_id);
    } else if (s->rec.state == FLEET_UP || s->rec.state == FLEET_DRAINING ||
               s->rec.state == FLEET_LAUNCHING) {
        sb_info("fleet", "%s deregistered (%u users move on their next call)",
                server_id, s->users);
        /* Terminated, not dead: it left on purpose. Its users are
         * reassigned by Assign, as for a dead server. */
        fleet_set_state(f, s, FLEET_TERMINATED);
        rc = fleet_persist_srv(f, s, st);
        fleet_bump_locked(f);
    }
    pthread_mutex_unlock(&f->mu);
    if (rc == RPC_OK)
        fleet_notify(f);
    return rc;
}

int fleet_lookup(struct fleet *f, const char *user, fleet_server_info *out,
                 rpc_status *st)
{
    fleet_sess *e;
    fleet_srv *s;
    int rc = RPC_OK;

    memset(out, 0, sizeof(*out));
    if (user == NULL || user[0] == '\0' || strlen(user) > FLEET_USER_MAX)
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "user name must be 1..%d bytes", FLEET_USER_MAX);
    pthread_mutex_lock(&f->mu);
    if ((e = fleet_find_sess(f, user, NULL)) == NULL ||
        (s = fleet_find_srv(f, e->server_id)) == NULL) {
        rc = fleet_status(st, RPC_NOT_FOUND, "user has no app server");
    } else {
        memcpy(out->id, s->rec.id, sizeof(out->id));
        memcpy(out->endpoint, s->rec.endpoint, sizeof(out->endpoint));
        memcpy(out->instance_id, s->rec.instance_id, sizeof(out->instance_id));
        out->state = (fleet_state)s->rec.state;
        out->capacity = s->rec.capacity;
        out->users = s->users;
        out->reported_users = s->reported_users;
        out->last_heartbeat_ms = s->rec.last_heartbeat_ms;
        out->since_ms = s->rec.since_ms;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

int fleet_server_state(struct fleet *f, const char *server_id,
                       fleet_state *state)
{
    fleet_srv *s;
    int rc = RPC_NOT_FOUND;

    pthread_mutex_lock(&f->mu);
    if (server_id != NULL && (s = fleet_find_srv(f, server_id)) != NULL) {
        *state = (fleet_state)s->rec.state;
        rc = RPC_OK;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

/* The user's server if it is up, owned, and late with its heartbeat (more
 * than one period and a quarter): copies its ids and returns 1. */
static int late_server(struct fleet *f, const char *user, char *id, char *inst)
{
    int64_t late = (int64_t)f->o.heartbeat_ms + f->o.heartbeat_ms / 4;
    fleet_sess *e;
    fleet_srv *s;
    int rc = 0;

    pthread_mutex_lock(&f->mu);
    if ((e = fleet_find_sess(f, user, NULL)) != NULL &&
        (s = fleet_find_srv(f, e->server_id)) != NULL &&
        s->rec.state == FLEET_UP && s->rec.owned &&
        s->rec.instance_id[0] != '\0' &&
        fleet_now(f) - s->rec.last_heartbeat_ms > late) {
        memcpy(id, s->rec.id, FLEET_ID_MAX);
        memcpy(inst, s->rec.instance_id, FLEET_INSTANCE_MAX);
        rc = 1;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

void fleet_probe_user_server(struct fleet *f, const char *user)
{
    char id[FLEET_ID_MAX], inst[FLEET_INSTANCE_MAX];
    fleet_srv *s;
    int alive;

    if (f->o.driver->alive == NULL || !late_server(f, user, id, inst))
        return;
    pthread_mutex_lock(&f->driver_mu);
    alive = f->o.driver->alive(f->o.driver_ctx, inst);
    pthread_mutex_unlock(&f->driver_mu);
    if (alive != 0)
        return; /* alive, or cannot tell: the heartbeat rule decides */
    pthread_mutex_lock(&f->mu);
    s = fleet_find_srv(f, id);
    if (s != NULL && s->rec.state == FLEET_UP &&
        strcmp(s->rec.instance_id, inst) == 0) {
        sb_warn("fleet",
                "%s (instance %s) is late with its heartbeat and "
                "its instance is gone: dead now; its %u users move on their "
                "next call",
                id, inst, s->users);
        fleet_set_state(f, s, FLEET_DEAD);
        f->c.deaths++;
        fleet_persist_srv(f, s, NULL);
        fleet_bump_locked(f);
    }
    pthread_mutex_unlock(&f->mu);
}

/* Every owned, live instance: marked terminated and its terminate action
 * queued. Returns how many. */
static size_t stop_all_plan(struct fleet *f, fleet_actions *a)
{
    size_t n = 0;

    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->nsrv; i++) {
        fleet_srv *s = &f->srv[i];

        /* Terminated rows too: a server that deregistered may still be
         * exiting, and terminating a gone instance succeeds. */
        if (!s->rec.owned || s->rec.instance_id[0] == '\0')
            continue;
        if (s->rec.state != FLEET_DEAD && s->rec.state != FLEET_TERMINATED)
            fleet_set_state(f, s, FLEET_TERMINATED);
        fleet_persist_srv(f, s, NULL);
        if (fleet_actions_push(a, FLEET_ACT_TERMINATE, s->rec.id,
                               s->rec.instance_id) == RPC_OK)
            n++;
    }
    fleet_bump_locked(f);
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* How many of the terminated instances the driver still sees. */
static size_t still_alive(struct fleet *f, const fleet_actions *a)
{
    size_t n = 0;

    pthread_mutex_lock(&f->driver_mu);
    if (f->o.driver->poll != NULL)
        f->o.driver->poll(f->o.driver_ctx);
    for (size_t i = 0; i < a->n; i++)
        if (f->o.driver->alive == NULL ||
            f->o.driver->alive(f->o.driver_ctx, a->v[i].instance_id) != 0)
            n++;
    pthread_mutex_unlock(&f->driver_mu);
    return n;
}

size_t fleet_stop_all(struct fleet *f, uint32_t timeout_ms)
{
    fleet_actions a = {0}, copy = {0};
    int64_t until = rpc_now_mono_ms() + timeout_ms;
    size_t left;

    /* No tick may launch (min servers, spares) behind our back. */
    fleet_stop_ticker(f);
    if (stop_all_plan(f, &a) == 0) {
        free(a.v);
        return 0;
    }
    /* fleet_run_actions frees its list: keep the ids to watch. */
    for (size_t i = 0; i < a.n; i++)
        fleet_actions_push(&copy, a.v[i].type, a.v[i].server_id,
                           a.v[i].instance_id);
    sb_info("fleet", "stopping all %zu instances", a.n);
    fleet_run_actions(f, &a);
    while ((left = still_alive(f, &copy)) > 0 && rpc_now_mono_ms() < until) {
        struct timespec ts = {0, 50 * 1000000L};

        nanosleep(&ts, NULL);
    }
    if (left > 0)
        sb_warn("fleet", "%zu instances still alive after %u ms", left,
                timeout_ms);
    free(copy.v);
    return left;
}
