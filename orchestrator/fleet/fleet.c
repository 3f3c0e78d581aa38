/* fleet.c: the fleet object's life (open with load and reconcile, ticker,
 * close), app-server Register and Heartbeat, and snapshots for the status
 * page. Assign/Release live in fleet_assign.c, housekeeping and driver
 * actions in fleet_tick.c. */
#include "fleet_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_log.h"

int fleet_status(rpc_status *st, int code, const char *fmt, ...)
{
    va_list ap;

    if (st == NULL)
        return code;
    st->code = code;
    st->endpoint[0] = 0;
    va_start(ap, fmt);
    vsnprintf(st->message, sizeof(st->message), fmt, ap);
    va_end(ap);
    return code;
}

const char *fleet_state_name(fleet_state s)
{
    static const char *const names[] = {"launching", "up", "draining", "dead",
                                        "terminated"};

    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s]
                                                          : "unknown";
}

void fleet_options_init(fleet_options *o)
{
    memset(o, 0, sizeof(*o));
    o->name = "switchboard";
    o->capacity = 10;
    o->max_servers = 100;
    o->heartbeat_ms = 1000;
    o->missed_heartbeats = 3;
    o->idle_grace_ms = 30000;
    o->launch_timeout_ms = 15000;
    o->forget_ms = 300000;
}

int64_t fleet_now(struct fleet *f)
{
    struct timespec ts;

    if (f->o.clock != NULL)
        return f->o.clock(f->o.clock_arg);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

fleet_srv *fleet_find_srv(struct fleet *f, const char *id)
{
    for (size_t i = 0; i < f->nsrv; i++)
        if (strcmp(f->srv[i].rec.id, id) == 0)
            return &f->srv[i];
    return NULL;
}

int fleet_persist_srv(struct fleet *f, fleet_srv *s, rpc_status *st)
{
    int rc = fleet_record_put_server(f->rec, &s->rec, st);

    if (rc != RPC_OK)
        sb_error("fleet", "cannot record %s: %s", s->rec.id,
                 st != NULL ? st->message : "");
    return rc;
}

void fleet_set_state(struct fleet *f, fleet_srv *s, fleet_state state)
{
    s->rec.state = state;
    s->rec.since_ms = fleet_now(f);
}

void fleet_bump_locked(struct fleet *f)
{
    f->generation++;
    pthread_cond_broadcast(&f->changed);
}

void fleet_notify(struct fleet *f)
{
    fleet_change_fn fn;
    void *arg;

    pthread_mutex_lock(&f->mu);
    fn = f->on_change;
    arg = f->on_change_arg;
    pthread_mutex_unlock(&f->mu);
    if (fn != NULL)
        fn(arg);
}

static void load_server(void *arg, const fleet_rec_server *r)
{
    struct fleet *f = arg;
    fleet_srv *s = fleet_add_srv(f, r->id);

    if (s == NULL) {
        sb_error("fleet", "out of memory loading %s", r->id);
        return;
    }
    s->rec = *r;
}

static void load_session(void *arg, const char *user, size_t len,
                         const char *server_id)
{
    if (fleet_add_sess_mem(arg, user, len, server_id) != RPC_OK)
        sb_error("fleet", "out of memory loading sessions");
}

static int check_options(const fleet_options *o, rpc_status *st)
{
    if (o->data_dir == NULL || o->data_dir[0] == 0)
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "fleet: data_dir is required");
    if (o->driver == NULL || o->driver->launch == NULL ||
        o->driver->terminate == NULL || o->driver->list == NULL ||
        o->driver->alive == NULL || o->driver->name == NULL)
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "fleet: a driver with name, launch, terminate, "
                            "list and alive is required");
    if (o->capacity == 0 || o->heartbeat_ms == 0 || o->missed_heartbeats == 0)
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "fleet: capacity, heartbeat_ms and "
                            "missed_heartbeats must be positive");
    if (o->min_servers > o->max_servers || o->max_servers == 0)
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "fleet: need 0 <= min_servers (%u) <= "
                            "max_servers (%u), max_servers > 0",
                            o->min_servers, o->max_servers);
    return RPC_OK;
}

static struct fleet *fleet_alloc(const fleet_options *o)
{
    struct fleet *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    f->o = *o;
    f->name = strdup(o->name != NULL ? o->name : "switchboard");
    f->data_dir = strdup(o->data_dir);
    if (f->name == NULL || f->data_dir == NULL) {
        free(f->name);
        free(f->data_dir);
        free(f);
        return NULL;
    }
    f->o.name = f->name;
    f->o.data_dir = f->data_dir;
    pthread_mutex_init(&f->mu, NULL);
    pthread_mutex_init(&f->driver_mu, NULL);
    pthread_cond_init(&f->changed, NULL);
    pthread_cond_init(&f->stop_cv, NULL);
    return f;
}

static void fleet_free(struct fleet *f, int destroy_driver)
{
    for (size_t i = 0; i < f->nsess; i++)
        free(f->sess[i].user);
    for (size_t i = 0; i < f->nwait; i++)
        free(f->wait[i].user);
    free(f->sess);
    free(f->wait);
    free(f->srv);
    fleet_record_close(f->rec);
    if (destroy_driver && f->o.driver->destroy != NULL)
        f->o.driver->destroy(f->o.driver_ctx);
    pthread_mutex_destroy(&f->mu);
    pthread_mutex_destroy(&f->driver_mu);
    pthread_cond_destroy(&f->changed);
    pthread_cond_destroy(&f->stop_cv);
    free(f->name);
    free(f->data_dir);
    free(f);
}

int fleet_open(const fleet_options *o, struct fleet **out, rpc_status *st)
{
    struct fleet *f;
    int rc;

    if ((rc = check_options(o, st)) != RPC_OK)
        return rc;
    if ((f = fleet_alloc(o)) == NULL)
        return fleet_status(st, RPC_INTERNAL, "fleet: out of memory");
    if ((rc = fleet_record_open(o->data_dir, &f->rec, st)) != RPC_OK ||
        (rc = fleet_record_load(f->rec, load_server, load_session, f, st)) !=
            RPC_OK) {
        fleet_free(f, 0);
        return rc;
    }
    for (size_t i = 0; i < f->nsess; i++) {
        fleet_srv *s = fleet_find_srv(f, f->sess[i].server_id);

        if (s != NULL)
            s->users++;
    }
    sb_info("fleet",
            "fleet %s: loaded %zu servers and %zu sessions from %s "
            "(driver %s)",
            f->name, f->nsrv, f->nsess, f->data_dir,
            o->driver->name(o->driver_ctx));
    fleet_reconcile(f);
    *out = f;
    return RPC_OK;
}

static void *ticker_main(void *arg)
{
    struct fleet *f = arg;

    pthread_mutex_lock(&f->mu);
    while (!f->stopping) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(f->tick_ms % 1000) * 1000000L;
        ts.tv_sec += f->tick_ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&f->stop_cv, &f->mu, &ts);
        if (f->stopping)
            break;
        pthread_mutex_unlock(&f->mu);
        fleet_tick(f);
        pthread_mutex_lock(&f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

int fleet_start_ticker(struct fleet *f, uint32_t interval_ms, rpc_status *st)
{
    int rc = RPC_OK;

    pthread_mutex_lock(&f->mu);
    if (f->ticker_on) {
        rc = fleet_status(st, RPC_FAILED_PRECONDITION,
                          "fleet: ticker already started");
    } else {
        f->tick_ms = interval_ms ? interval_ms : 200;
        if (pthread_create(&f->ticker, NULL, ticker_main, f) != 0)
            rc = fleet_status(st, RPC_INTERNAL, "fleet: cannot start ticker");
        else
            f->ticker_on = 1;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

void fleet_stop_ticker(struct fleet *f)
{
    pthread_mutex_lock(&f->mu);
    f->stopping = 1;
    pthread_cond_broadcast(&f->stop_cv);
    pthread_mutex_unlock(&f->mu);
    if (f->ticker_on)
        pthread_join(f->ticker, NULL);
    f->ticker_on = 0;
}

void fleet_close(struct fleet *f)
{
    if (f == NULL)
        return;
    fleet_stop_ticker(f);
    sb_info("fleet", "fleet %s closed; %zu servers left to the next start",
            f->name, f->nsrv);
    fleet_free(f, 1);
}

void fleet_set_on_change(struct fleet *f, fleet_change_fn fn, void *arg)
{
    pthread_mutex_lock(&f->mu);
    f->on_change = fn;
    f->on_change_arg = arg;
    pthread_mutex_unlock(&f->mu);
}

static int check_id(const char *what, const char *v, size_t max, rpc_status *st)
{
    size_t n = v != NULL ? strlen(v) : 0;

    if (n == 0 || n >= max)
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "%s must be 1..%zu bytes (got %zu)", what, max - 1,
                            n);
    return RPC_OK;
}

/* Register on an existing row: launching → up, or refresh while up. */
static int reregister(struct fleet *f, fleet_srv *s, rpc_status *st)
{
    fleet_state was = s->rec.state;

    if (was == FLEET_UP || was == FLEET_LAUNCHING ||
        (!s->rec.owned && was == FLEET_DEAD)) {
        if (was != FLEET_UP) {
            fleet_set_state(f, s, FLEET_UP);
            s->idle_since = fleet_now(f);
        }
        return RPC_OK;
    }
    return fleet_status(st, RPC_FAILED_PRECONDITION,
                        "server %s is %s (since %lld ms ago); start it again "
                        "with a new id",
                        s->rec.id, fleet_state_name(s->rec.state),
                        (long long)(fleet_now(f) - s->rec.since_ms));
}

fleet_srv *fleet_add_srv(struct fleet *f, const char *id)
{
    fleet_srv *s;

    if (f->nsrv == f->capsrv) {
        size_t cap = f->capsrv ? f->capsrv * 2 : 16;
        fleet_srv *v = realloc(f->srv, cap * sizeof(*v));

        if (v == NULL)
            return NULL;
        f->srv = v;
        f->capsrv = cap;
    }
    s = &f->srv[f->nsrv++];
    memset(s, 0, sizeof(*s));
    snprintf(s->rec.id, sizeof(s->rec.id), "%s", id);
    return s;
}

int fleet_register(struct fleet *f, const char *server_id, const char *endpoint,
                   uint32_t capacity, const char *instance_id, rpc_status *st)
{
    fleet_srv *s;
    int rc;

    if ((rc = check_id("server id", server_id, FLEET_ID_MAX, st)) != RPC_OK ||
        (rc = check_id("endpoint", endpoint, FLEET_ENDPOINT_MAX, st)) != RPC_OK)
        return rc;
    if (instance_id != NULL && strlen(instance_id) >= FLEET_INSTANCE_MAX)
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "instance id longer than %d bytes",
                            FLEET_INSTANCE_MAX - 1);
    pthread_mutex_lock(&f->mu);
    s = fleet_find_srv(f, server_id);
    if (s == NULL) {
        if ((s = fleet_add_srv(f, server_id)) == NULL) {
            rc = fleet_status(st, RPC_INTERNAL, "fleet: out of memory");
            goto out;
        }
        fleet_set_state(f, s, FLEET_UP);
        s->idle_since = fleet_now(f);
        if (instance_id != NULL)
            snprintf(s->rec.instance_id, sizeof(s->rec.instance_id), "%s",
                     instance_id);
        sb_info("fleet",
                "%s registered at %s; not launched by this fleet, "
                "so it is never terminated by it",
                server_id, endpoint);
    } else if ((rc = reregister(f, s, st)) != RPC_OK) {
        goto out;
    } else {
        sb_info("fleet", "%s registered at %s (instance %s)", server_id,
                endpoint, s->rec.instance_id[0] ? s->rec.instance_id : "-");
    }
    snprintf(s->rec.endpoint, sizeof(s->rec.endpoint), "%s", endpoint);
    s->rec.capacity = capacity ? capacity : f->o.capacity;
    s->rec.last_heartbeat_ms = fleet_now(f);
    rc = fleet_persist_srv(f, s, st);
    fleet_bump_locked(f);
out:
    pthread_mutex_unlock(&f->mu);
    if (rc == RPC_OK)
        fleet_notify(f);
    return rc;
}

int fleet_heartbeat(struct fleet *f, const char *server_id, uint32_t users,
                    rpc_status *st)
{
    fleet_srv *s;
    int rc = RPC_OK;

    if (server_id == NULL)
        return fleet_status(st, RPC_INVALID_ARGUMENT, "server id missing");
    pthread_mutex_lock(&f->mu);
    s = fleet_find_srv(f, server_id);
    if (s == NULL) {
        rc = fleet_status(st, RPC_NOT_FOUND,
                          "unknown server %s: register first", server_id);
    } else if (s->rec.state != FLEET_UP && s->rec.state != FLEET_DRAINING) {
        rc = fleet_status(st, RPC_FAILED_PRECONDITION,
                          "server %s is %s: register first", server_id,
                          fleet_state_name(s->rec.state));
    } else {
        s->rec.last_heartbeat_ms = fleet_now(f);
        s->reported_users = users;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static void snap_server(fleet_server_info *d, const fleet_srv *s)
{
    memset(d, 0, sizeof(*d));
    memcpy(d->id, s->rec.id, sizeof(d->id));
    memcpy(d->endpoint, s->rec.endpoint, sizeof(d->endpoint));
    memcpy(d->instance_id, s->rec.instance_id, sizeof(d->instance_id));
    d->state = (fleet_state)s->rec.state;
    d->capacity = s->rec.capacity;
    d->users = s->users;
    d->reported_users = s->reported_users;
    d->last_heartbeat_ms = s->rec.last_heartbeat_ms;
    d->since_ms = s->rec.since_ms;
}

int fleet_snapshot_take(struct fleet *f, fleet_snapshot *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_lock(&f->mu);
    s->servers = calloc(f->nsrv + 1, sizeof(*s->servers));
    s->sessions = calloc(f->nsess + 1, sizeof(*s->sessions));
    if (s->servers == NULL || s->sessions == NULL)
        goto fail;
    for (size_t i = 0; i < f->nsrv; i++)
        snap_server(&s->servers[s->nservers++], &f->srv[i]);
    for (size_t i = 0; i < f->nsess; i++) {
        fleet_session_info *d = &s->sessions[i];

        if ((d->user = strdup(f->sess[i].user)) == NULL)
            goto fail;
        memcpy(d->server_id, f->sess[i].server_id, sizeof(d->server_id));
        s->nsessions++;
    }
    s->counters = f->c;
    s->counters.waiting = f->nwait;
    snprintf(s->name, sizeof(s->name), "%s", f->name);
    snprintf(s->driver, sizeof(s->driver), "%s",
             f->o.driver->name(f->o.driver_ctx));
    memcpy(s->last_error, f->last_error, sizeof(s->last_error));
    s->now_ms = fleet_now(f);
    pthread_mutex_unlock(&f->mu);
    return RPC_OK;
fail:
    pthread_mutex_unlock(&f->mu);
    fleet_snapshot_free(s);
    return RPC_RESOURCE_EXHAUSTED;
}

void fleet_snapshot_free(fleet_snapshot *s)
{
    for (size_t i = 0; i < s->nsessions; i++)
        free(s->sessions[i].user);
    free(s->sessions);
    free(s->servers);
    memset(s, 0, sizeof(*s));
}
