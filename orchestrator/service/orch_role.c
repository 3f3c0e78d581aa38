/* orch_role.c: starts and stops the orchestrator role: fleet record +
 * driver (local or ec2) → fleet (reconciled at open) → RPC server with the
 * Orchestrator service → ticker → status page; stopped in reverse, with
 * parked Assigns answered before the RPC server goes. */
#include "orch_role.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "fleet_local.h"
#include "orch_ec2.h"
#include "orch_service.h"
#include "rpc.h"
#include "sb_log.h"
#include "status.h"

struct orch_role {
    struct fleet *f;
    rpc_server *srv;
    orch_service *svc;
    status_server *http;
    char url[256];
};

/* The driver named in c; *drv and *ctx on success. */
static int make_driver(const orch_config *c, const char *url,
                       const fleet_driver **drv, void **ctx)
{
    const char *name = c->driver != NULL ? c->driver : "local";
    rpc_status st = {0};

    if (c->custom_driver != NULL) {
        *drv = c->custom_driver;
        *ctx = c->custom_ctx;
        return 0;
    }

    if (strcmp(name, "local") == 0) {
        fleet_local_options lo = {.argv = c->app_argv,
                                  .fleet_name = c->fleet_name,
                                  .die_with_parent =
                                      c->children_die_with_parent};
        if (fleet_local_create(&lo, ctx, &st) != RPC_OK) {
            sb_error("orchestrator", "local driver: %s", st.message);
            return -1;
        }
        *drv = &fleet_local_driver;
        return 0;
    }
    if (strcmp(name, "ec2") == 0) {
        if (orch_ec2_create(&c->ec2, c->fleet_name, url, ctx, &st) != RPC_OK) {
            sb_error("orchestrator", "ec2 driver: %s", st.message);
            return -1;
        }
        *drv = &orch_ec2_driver;
        return 0;
    }
    sb_error("orchestrator", "unknown driver '%s' (local or ec2)", name);
    return -1;
}

static int open_fleet(orch_role *r, const orch_config *c, const char *url)
{
    fleet_options fo;
    rpc_status st = {0};
    int rv;

    fleet_options_init(&fo);
    fo.data_dir = c->data_dir;
    if (c->fleet_name != NULL)
        fo.name = c->fleet_name;
    if (c->capacity)
        fo.capacity = c->capacity;
    fo.min_servers = c->min_servers;
    if (c->max_servers)
        fo.max_servers = c->max_servers;
    fo.spare_slots = c->spare_slots;
    if (c->idle_grace_ms)
        fo.idle_grace_ms = c->idle_grace_ms;
    if (c->launch_timeout_ms)
        fo.launch_timeout_ms = c->launch_timeout_ms;
    if ((rv = rpc_mkdirs(c->data_dir)) != 0) {
        sb_error("orchestrator", "cannot create %s: %s", c->data_dir,
                 strerror(rv));
        return -1;
    }
    if (make_driver(c, url, &fo.driver, &fo.driver_ctx) != 0)
        return -1;
    if (fleet_open(&fo, &r->f, &st) != RPC_OK) {
        sb_error("orchestrator", "fleet: %s", st.message);
        fo.driver->destroy(fo.driver_ctx);
        return -1;
    }
    return 0;
}

static int start_rpc(orch_role *r, const char *url)
{
    rpc_server_config sc = {
        .name = "orchestrator", .workers = 4, .contexts = 256};
    int rv;

    if ((rv = rpc_server_create(&r->srv, &sc)) != 0 ||
        orch_service_register(r->srv, r->f, &r->svc) != RPC_OK) {
        sb_error("orchestrator", "cannot create the RPC server");
        return -1;
    }
    if ((rv = rpc_server_listen(r->srv, url)) != 0) {
        sb_error("orchestrator", "cannot listen on %s: %s", url,
                 rpc_code_name(rv));
        return -1;
    }
    if (rpc_server_start(r->srv) != 0)
        return -1;
    snprintf(r->url, sizeof(r->url), "%s", rpc_server_url(r->srv, 0));
    return 0;
}

static int start_http(orch_role *r, const orch_config *c)
{
    char url[128];
    rpc_status st = {0};
    status_options so = {.fleet = r->f,
                         .extra_metrics = orch_service_metrics,
                         .extra_arg = r->svc};

    if (c->http_port <= 0)
        return 0;
    snprintf(url, sizeof(url), "http://%s:%d",
             c->http_host != NULL ? c->http_host : "127.0.0.1", c->http_port);
    so.url = url;
    if (status_server_start(&so, &r->http, &st) != RPC_OK) {
        if (c->http_optional) {
            sb_warn("orchestrator", "no status page: %s", st.message);
            return 0;
        }
        sb_error("orchestrator", "status page: %s", st.message);
        return -1;
    }
    sb_info("orchestrator", "status page on %s/", url);
    return 0;
}

int orch_role_start(const orch_config *c, orch_role **out)
{
    const char *url = c->listen_url ? c->listen_url : "tcp://127.0.0.1:8890";
    orch_role *r = calloc(1, sizeof(*r));
    rpc_status st = {0};

    *out = NULL;
    if (r == NULL || c->data_dir == NULL)
        goto fail;
    if (open_fleet(r, c, c->ec2.advertise ? c->ec2.advertise : url) != 0 ||
        start_rpc(r, url) != 0)
        goto fail;
    if (fleet_start_ticker(r->f, 200, &st) != RPC_OK) {
        sb_error("orchestrator", "ticker: %s", st.message);
        goto fail;
    }
    if (start_http(r, c) != 0)
        goto fail;
    sb_info("orchestrator", "serving on %s (driver %s, %u users per server)",
            r->url, c->driver ? c->driver : "local",
            c->capacity ? c->capacity : 10);
    *out = r;
    return 0;
fail:
    if (r != NULL && c->data_dir == NULL)
        sb_error("orchestrator", "--data-dir is required");
    orch_role_stop(r, 0);
    return -1;
}

const char *orch_role_url(const orch_role *r)
{
    return r->url;
}

int orch_role_http_port(const orch_role *r)
{
    return r->http != NULL ? status_server_port(r->http) : -1;
}

void orch_role_stop(orch_role *r, int terminate_all)
{
    if (r == NULL)
        return;
    status_server_stop(r->http);
    /* App servers first, while the RPC server still answers their
     * Deregister (so they leave cleanly and at once). */
    if (terminate_all && r->f != NULL && fleet_stop_all(r->f, 7000) > 0)
        sb_warn("orchestrator", "some app servers did not stop in time");
    orch_service_shutdown(r->svc);
    if (r->srv != NULL)
        rpc_server_stop(r->srv);
    rpc_server_destroy(r->srv);
    orch_service_free(r->svc);
    fleet_close(r->f);
    free(r);
}
