/* sbd_app.c: one app server alone (`sbd app`): the App service over a
 * remote store (--store URL, sb.store.Store), hints over the bus
 * (--bus-in/--bus-out, the bus role's P+4/P+5 by default), listening on
 * --listen (tcp://HOST:0: a free port) and reached by others as
 * --advertise HOST. With --orchestrator URL it registers there and
 * heartbeats (app_agent.c); launched by `sbd all` it dies with it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>

#include "app_agent.h"
#include "app_service.h"
#include "sb_log.h"
#include "sbd.h"

static uint32_t users_of(void *arg)
{
    return app_server_users(arg);
}

/* The orchestrator declared us dead or terminated: our users have moved,
 * so stop as if told to (sbd_wait_signal returns). */
static void evicted(void *arg, const char *why)
{
    (void)arg;
    sb_warn("app", "the orchestrator let us go (%s): stopping", why);
    kill(getpid(), SIGTERM);
}

/* An idle session ended here: free the user's slot in the fleet. */
static void session_ended(void *arg, const char *user)
{
    app_agent_release(arg, user);
}

static int start_agent(const sbd_opts *o, app_server *a, app_agent **out)
{
    app_agent_config ac = {.orchestrator = o->orch.url,
                           .server_id = app_server_id(a),
                           .endpoint = app_server_endpoint(a),
                           .capacity = (uint32_t)o->capacity,
                           .instance_id = o->orch.instance_id,
                           .users = users_of,
                           .users_arg = a,
                           .evicted = evicted};
    int rv = app_agent_start(&ac, out);

    if (rv == 0)
        app_server_on_session_end(a, session_ended, *out);
    if (rv != 0)
        sb_error("app", "cannot start the orchestrator agent for %s: %d",
                 o->orch.url, rv);
    return rv;
}

int sbd_run_app(const sbd_opts *o)
{
    char id[64];
    app_server *a = NULL;
    app_agent *agent = NULL;
    int rv;

    if (o->store_url == NULL) {
        sb_error("app",
                 "--store URL is required (the store role's "
                 "sb.store.Store, e.g. tcp://127.0.0.1:%d)",
                 o->base_port + 3);
        return -1;
    }
    snprintf(id, sizeof id, "app-%ld", (long)getpid());
    app_config cfg = {
        .id = o->app_id != NULL ? o->app_id : id,
        /* tcp://HOST:0, P+4, P+5 by default (sbd_main.c) */
        .listen_url = o->draw_listen,
        .bus_in = o->bus_in,
        .bus_out = o->bus_out,
        .store_url = o->store_url,
        .advertise = o->advertise,
        .draw_url = o->draw_url,
        .idle_ms = o->session_idle_ms,
        .clock_skew_ms = o->clock_skew_ms,
    };
    if (app_agent_die_with_parent() != 0) {
        sb_error("app", "the sbd that started us is gone: not starting");
        return -1;
    }
    if ((rv = app_server_start(&cfg, &a)) != 0)
        return -1;
    if (o->orch.url != NULL && start_agent(o, a, &agent) != 0) {
        app_server_stop(a);
        return -1;
    }
    sbd_wait_signal();
    app_server_on_session_end(a, NULL, NULL);
    app_agent_stop(agent, 1); /* leave the fleet first: no new users */
    app_server_stop(a);
    sb_info("sbd", "stopped");
    return 0;
}
