/* sbd_login.c: `sbd login`, the login endpoint alone: the Login service
 * over a remote store (--store URL, the store role's sb.store.Store),
 * Assign/Release through the orchestrator (--orchestrator URL), auth
 * events on the bus (--bus-in URL), listening on --listen URL or
 * tcp://HOST:P. */
#include <stdio.h>
#include <string.h>

#include "login_orch.h"
#include "login_service.h"
#include "sb_log.h"
#include "sbd.h"
#include "store_conn.h"

typedef struct login_role {
    store_conn *store;
    login_orch *orch;
    rpc_server *srv;
    login_service *svc;
} login_role;

static int start(const sbd_opts *o, login_role *r)
{
    rpc_server_config sc = {.name = "login",
                            .client_idle_ms = (int)o->client_idle_ms,
                            .max_conns_per_addr = o->max_conns_per_addr};
    const char *url = o->draw_listen;

    /* --listen, --bus-in, --orchestrator: filled by sbd_main.c (P, P+4,
     * P+2 by default) */
    if (store_conn_remote(o->store_url, 0, &r->store) != 0 ||
        login_orch_open(o->orch.url, 0, &r->orch) != 0) {
        sb_error("login", "cannot open the store or orchestrator client");
        return -1;
    }
    login_config lc = {.store = r->store,
                       .orch = r->orch,
                       .bus_in = o->bus_in,
                       .pwcost = o->pwcost,
                       .clock_skew_ms = o->clock_skew_ms};
    if (rpc_server_create(&r->srv, &sc) != 0 ||
        login_service_register(r->srv, &lc, &r->svc) != 0)
        return -1;
    if (rpc_server_listen(r->srv, url) != 0) {
        sb_error("login", "cannot listen on %s", url);
        return -1;
    }
    if (rpc_server_start(r->srv) != 0)
        return -1;
    sb_info("login", "serving on %s (store %s, orchestrator %s)",
            rpc_server_url(r->srv, 0), o->store_url, o->orch.url);
    return 0;
}

int sbd_run_login(const sbd_opts *o)
{
    login_role r = {0};
    int rv = -1;

    if (o->store_url == NULL) {
        sb_error("login",
                 "--store URL is required (the store role, e.g. "
                 "tcp://127.0.0.1:%d)",
                 o->base_port + 3);
        return -1;
    }
    if (start(o, &r) == 0) {
        sbd_wait_signal();
        rv = 0;
    }
    rpc_server_destroy(r.srv);
    login_service_free(r.svc);
    login_orch_close(r.orch);
    store_conn_close(r.store);
    sb_info("sbd", "stopped");
    return rv;
}
