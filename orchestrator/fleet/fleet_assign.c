/* fleet_assign.c: users → app servers. Sessions are a sorted array (a
 * binary search per Assign; thousands of users at most per orchestrator).
 * Users who found no room wait in a short list: a launch is planned only
 * when waiters outnumber the slots of launches already pending, so one
 * need never launches twice. */
#include "fleet_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_log.h"

fleet_sess *fleet_find_sess(struct fleet *f, const char *user, size_t *pos)
{
    size_t lo = 0, hi = f->nsess;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->sess[mid].user, user);

        if (c == 0) {
            if (pos != NULL)
                *pos = mid;
            return &f->sess[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos != NULL)
        *pos = lo;
    return NULL;
}

int fleet_add_sess_mem(struct fleet *f, const char *user, size_t len,
                       const char *server_id)
{
    char *u = strndup(user, len);
    fleet_sess *e;
    size_t pos;

    if (u == NULL)
        return RPC_INTERNAL;
    if ((e = fleet_find_sess(f, u, &pos)) != NULL) {
        free(u);
        snprintf(e->server_id, sizeof(e->server_id), "%s", server_id);
        return RPC_OK;
    }
    if (f->nsess == f->capsess) {
        size_t cap = f->capsess ? f->capsess * 2 : 64;
        fleet_sess *v = realloc(f->sess, cap * sizeof(*v));

        if (v == NULL) {
            free(u);
            return RPC_INTERNAL;
        }
        f->sess = v;
        f->capsess = cap;
    }
    memmove(&f->sess[pos + 1], &f->sess[pos],
            (f->nsess - pos) * sizeof(*f->sess));
    f->nsess++;
    f->sess[pos].user = u;
    snprintf(f->sess[pos].server_id, sizeof(f->sess[pos].server_id), "%s",
             server_id);
    return RPC_OK;
}

/* Removes session pos (record first) and lowers its server's count. */
static int drop_sess(struct fleet *f, size_t pos, rpc_status *st)
{
    fleet_sess *e = &f->sess[pos];
    fleet_srv *s = fleet_find_srv(f, e->server_id);
    int rc = fleet_record_del_session(f->rec, e->user, st);

    if (rc != RPC_OK)
        return rc;
    if (s != NULL && s->users > 0 && --s->users == 0)
        s->idle_since = fleet_now(f);
    free(e->user);
    memmove(e, e + 1, (f->nsess - pos - 1) * sizeof(*e));
    f->nsess--;
    return RPC_OK;
}

void fleet_drop_waiter(struct fleet *f, const char *user)
{
    for (size_t i = 0; i < f->nwait; i++) {
        if (strcmp(f->wait[i].user, user) == 0) {
            free(f->wait[i].user);
            f->wait[i] = f->wait[--f->nwait];
            return;
        }
    }
}

static int add_waiter(struct fleet *f, const char *user)
{
    for (size_t i = 0; i < f->nwait; i++)
        if (strcmp(f->wait[i].user, user) == 0)
            return RPC_OK;
    if (f->nwait == f->capwait) {
        size_t cap = f->capwait ? f->capwait * 2 : 16;
        fleet_waiter *v = realloc(f->wait, cap * sizeof(*v));

        if (v == NULL)
            return RPC_INTERNAL;
        f->wait = v;
        f->capwait = cap;
    }
    if ((f->wait[f->nwait].user = strdup(user)) == NULL)
        return RPC_INTERNAL;
    f->wait[f->nwait++].since = fleet_now(f);
    return RPC_OK;
}

/* The fullest up server with room; the earliest registered on a tie. */
static fleet_srv *pick_fullest(struct fleet *f)
{
    fleet_srv *best = NULL;

    for (size_t i = 0; i < f->nsrv; i++) {
        fleet_srv *s = &f->srv[i];

        if (s->rec.state == FLEET_UP && s->users < s->rec.capacity &&
            (best == NULL || s->users > best->users))
            best = s;
    }
    return best;
}

static int check_user(const char *user, rpc_status *st)
{
    size_t n = user != NULL ? strlen(user) : 0;

    if (n == 0 || n > FLEET_USER_MAX)
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "user name must be 1..%d bytes (got %zu)",
                            FLEET_USER_MAX, n);
    return RPC_OK;
}

static void fill(fleet_assignment *out, const fleet_srv *s)
{
    snprintf(out->server_id, sizeof(out->server_id), "%s", s->rec.id);
    snprintf(out->endpoint, sizeof(out->endpoint), "%s", s->rec.endpoint);
}

static int assign_new(struct fleet *f, const char *user, fleet_srv *s,
                      fleet_assignment *out, rpc_status *st)
{
    int rc = fleet_record_put_session(f->rec, user, s->rec.id, st);

    if (rc != RPC_OK)
        return rc;
    if (fleet_add_sess_mem(f, user, strlen(user), s->rec.id) != RPC_OK)
        return fleet_status(st, RPC_INTERNAL, "fleet: out of memory");
    s->users++;
    fleet_drop_waiter(f, user);
    f->c.assigns++;
    if (out->reassigned)
        f->c.reassigns++;
    fill(out, s);
    sb_debug("fleet", "assigned a user to %s (%u/%u)", s->rec.id, s->users,
             s->rec.capacity);
    return RPC_OK;
}

/* No room: wait for a pending launch, or plan one, or say why not. */
static int need_room(struct fleet *f, const char *user, fleet_assignment *out,
                     fleet_actions *a, rpc_status *st)
{
    uint32_t pending, live = fleet_live_servers(f, &pending);
    int rc;

    if (add_waiter(f, user) != RPC_OK)
        return fleet_status(st, RPC_INTERNAL, "fleet: out of memory");
    if (f->nwait > pending) {
        if (fleet_now(f) < f->launch_backoff_until) {
            fleet_drop_waiter(f, user);
            return fleet_status(st, RPC_UNAVAILABLE,
                                "no app server has room, and launching one "
                                "just failed: %s",
                                f->last_error);
        }
        if (live >= f->o.max_servers) {
            fleet_drop_waiter(f, user);
            return fleet_status(st, RPC_UNAVAILABLE,
                                "every app server is full and the fleet is at "
                                "its maximum of %u servers",
                                f->o.max_servers);
        }
        if ((rc = fleet_plan_launch(f, a, st)) != RPC_OK) {
            fleet_drop_waiter(f, user);
            return rc;
        }
    }
    out->generation = f->generation;
    return fleet_status(st, FLEET_WAIT,
                        "no app server has room; waiting for a launch");
}

int fleet_assign(struct fleet *f, const char *user, fleet_assignment *out,
                 rpc_status *st)
{
    fleet_actions a = {0};
    fleet_sess *e;
    fleet_srv *s;
    size_t pos;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = check_user(user, st)) != RPC_OK)
        return rc;
    fleet_probe_user_server(f, user);
    pthread_mutex_lock(&f->mu);
    if ((e = fleet_find_sess(f, user, &pos)) != NULL) {
        s = fleet_find_srv(f, e->server_id);
        if (s != NULL && s->rec.state == FLEET_UP) {
            fill(out, s);
            rc = fleet_status(st, RPC_OK, "sticky");
            goto out;
        }
        /* Its server is dead, draining or forgotten: reassign. */
        out->reassigned = 1;
        if ((rc = drop_sess(f, pos, st)) != RPC_OK)
            goto out;
    }
    if ((s = pick_fullest(f)) != NULL) {
        rc = assign_new(f, user, s, out, st);
        if (rc == RPC_OK)
            fleet_plan_scale(f, &a);
    } else {
        rc = need_room(f, user, out, &a, st);
    }
out:
    pthread_mutex_unlock(&f->mu);
    if (fleet_run_actions(f, &a) > 0 && rc == FLEET_WAIT) {
        /* The launch this user waits for failed: say so now rather than
         * after the full wait. */
        pthread_mutex_lock(&f->mu);
        fleet_drop_waiter(f, user);
        rc = fleet_status(st, RPC_UNAVAILABLE,
                          "no app server has room and launching one "
                          "failed: %s",
                          f->last_error);
        pthread_mutex_unlock(&f->mu);
    }
    return rc;
}

int fleet_wait_change(struct fleet *f, uint64_t generation, uint32_t timeout_ms)
{
    struct timespec ts;
    int changed;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&f->mu);
    while (f->generation == generation &&
           pthread_cond_timedwait(&f->changed, &f->mu, &ts) == 0)
        ;
    changed = f->generation != generation;
    pthread_mutex_unlock(&f->mu);
    return changed;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fleet_assign_wait(struct fleet *f, const char *user, uint32_t timeout_ms,
                      fleet_assignment *out, rpc_status *st)
{
    int64_t deadline, left;
    int rc;

    if (timeout_ms == 0)
        timeout_ms = f->o.launch_timeout_ms;
    deadline = mono_ms() + timeout_ms;
    for (;;) {
        rc = fleet_assign(f, user, out, st);
        if (rc != FLEET_WAIT)
            return rc;
        if ((left = deadline - mono_ms()) <= 0)
            break;
        /* Wake at least every 100 ms: a launch timing out in fleet_tick
         * also frees this user to plan a new one. */
        fleet_wait_change(f, out->generation,
                          (uint32_t)(left < 100 ? left : 100));
    }
    pthread_mutex_lock(&f->mu);
    fleet_drop_waiter(f, user);
    pthread_mutex_unlock(&f->mu);
    return fleet_status(st, RPC_UNAVAILABLE,
                        "no app server became available within %u ms (a "
                        "server is launching but has not registered yet); "
                        "try again",
                        timeout_ms);
}

int fleet_release(struct fleet *f, const char *user, rpc_status *st)
{
    size_t pos;
    int rc;

    if ((rc = check_user(user, st)) != RPC_OK)
        return rc;
    pthread_mutex_lock(&f->mu);
    fleet_drop_waiter(f, user);
    if (fleet_find_sess(f, user, &pos) != NULL &&
        (rc = drop_sess(f, pos, st)) == RPC_OK)
        f->c.releases++;
    pthread_mutex_unlock(&f->mu);
    return rc;
}
