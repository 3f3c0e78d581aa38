/* sbd_all.c: the all-in-one role and the bus role. `sbd all` runs store,
 * login, bus, draw and the orchestrator in this process; login uses the
 * store's data layer in-process (one LMDB environment, one group-commit
 * writer) and also serves it on P+3, and app servers are child `sbd app`
 * processes the orchestrator's local driver launches (sbd_fleet.c), ten
 * users each, that reach the store on P+3 and hints on the bus. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app_service.h"
#include "bus_role.h"
#include "draw_service.h"
#include "login_service.h"
#include "rpc.h"
#include "sb_log.h"
#include "sbd.h"

#define SBD_URL_MAX 256

typedef struct sbd_all {
    const sbd_opts *o;
    store_db *db;
    store_writer *w;
    rpc_bus_forwarder *bus;
    char bus_in[SBD_URL_MAX], bus_out[SBD_URL_MAX];
    char app_host[64];
    char draw_url[SBD_URL_MAX]; /* what app servers call for Draw */
    sbd_store_srv store_srv;    /* the store on P+3 for app servers elsewhere */
    char store_url[SBD_URL_MAX];
    sbd_fleet *fleet;
    rpc_server *login_srv;
    login_service *login;
    draw_role *draw;
    web_role *web;
} sbd_all;

void sbd_wait_signal(void)
{
    sigset_t set;
    int sig = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    while (sigwait(&set, &sig) != 0)
        ;
    sb_info("sbd", "%s received: stopping",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static int open_store(sbd_all *a)
{
    char dir[4096];
    int rv;

    snprintf(dir, sizeof dir, "%s/store", a->o->data_dir);
    if ((rv = rpc_mkdirs(dir)) != 0) {
        sb_error("store", "cannot create %s: %s", dir, strerror(rv));
        return rv;
    }
    if ((rv = store_db_open(dir, NULL, &a->db)) != 0)
        return rv;
    if ((rv = store_writer_start(a->db, 0, &a->w)) != 0)
        return rv;
    sb_info("store", "data in %s (stale reader slots cleared: %d)", dir,
            store_db_stale_readers(a->db));
    return 0;
}

static int start_login(sbd_all *a)
{
    char url[SBD_URL_MAX];
    rpc_server_config sc = {.name = "login",
                            .client_idle_ms = (int)a->o->client_idle_ms,
                            .max_conns_per_addr = a->o->max_conns_per_addr};
    int rv;

    login_config lc = {.db = a->db,
                       .w = a->w,
                       .orch = sbd_fleet_login(a->fleet),
                       .bus_in = a->bus_in,
                       .pwcost = a->o->pwcost,
                       .clock_skew_ms = a->o->clock_skew_ms};
    snprintf(url, sizeof url, "tcp://%s:%d", a->o->host, a->o->base_port);
    if ((rv = rpc_server_create(&a->login_srv, &sc)) != 0 ||
        (rv = login_service_register(a->login_srv, &lc, &a->login)) != 0)
        return rv;
    if ((rv = rpc_server_listen(a->login_srv, url)) != 0) {
        sb_error("login", "cannot listen on %s: %s", url, rpc_code_name(rv));
        return rv;
    }
    if ((rv = rpc_server_start(a->login_srv)) != 0)
        return rv;
    sb_info("login", "serving on %s", rpc_server_url(a->login_srv, 0));
    return 0;
}

static void stop_all(sbd_all *a)
{
    web_stop(a->web); /* a client of login: its calls finish first */
    rpc_server_destroy(a->login_srv); /* no new logins, so no new apps */
    login_service_free(a->login);
    /* App servers before the store and bus they use. */
    sbd_fleet_stop(a->fleet);
    rpc_bus_forwarder_close(a->bus);
    draw_role_stop(a->draw);
    sbd_store_stop(&a->store_srv); /* before the writer: parked writes */
    store_writer_stop(a->w);       /* finishes what was submitted */
    store_db_close(a->db);
}

/* The draw role on --listen (tcp://HOST:P+1 by default); pool in
 * DIR/draw. */
static int start_draw(const sbd_opts *o, draw_role **out)
{
    draw_role_config dc = {.data_dir = o->data_dir,
                           .listen_url = o->draw_listen,
                           .pool_size = (uint32_t)o->pool_size,
                           .nng_tcp = o->draw_nng_tcp};
    int rv;

    if ((rv = rpc_mkdirs(o->data_dir)) != 0) {
        sb_error("draw", "cannot create %s: %s", o->data_dir, strerror(rv));
        return rv;
    }
    return draw_role_start(&dc, out) == 0 ? 0 : EIO;
}

/* App servers reach the draw role where it listens (loopback for a
 * wildcard address), unless --draw names another draw service. */
static void set_draw_url(sbd_all *a)
{
    const char *u = draw_role_url(a->draw), *wild = "tcp://0.0.0.0:";

    if (a->o->draw_url != NULL)
        snprintf(a->draw_url, sizeof a->draw_url, "%s", a->o->draw_url);
    else if (strncmp(u, wild, strlen(wild)) == 0)
        snprintf(a->draw_url, sizeof a->draw_url, "tcp://127.0.0.1:%s",
                 u + strlen(wild));
    else
        snprintf(a->draw_url, sizeof a->draw_url, "%s", u);
}

int sbd_run_draw(const sbd_opts *o)
{
    draw_role *d = NULL;
    char admin[RPC_ADMIN_TOKEN_LEN + 1]; /* Reset's, once draw checks it */

    if (sbd_admin_token(o, "draw", admin) != 0 || start_draw(o, &d) != 0)
        return -1;
    sbd_wait_signal();
    draw_role_stop(d);
    sb_info("sbd", "stopped");
    return 0;
}

/* The orchestrator and what its `sbd app` children are told. */
static int start_fleet(sbd_all *a)
{
    char listen[SBD_URL_MAX];
    sbd_app_urls u = {.store = a->store_url,
                      .bus_in = a->bus_in,
                      .bus_out = a->bus_out,
                      .app_listen = listen,
                      .draw = a->draw_url};

    snprintf(listen, sizeof listen, "tcp://%s:0", a->app_host);
    return sbd_fleet_start(a->o, &u, &a->fleet) == 0 ? 0 : EIO;
}

int sbd_run_all(const sbd_opts *o)
{
    sbd_all a = {.o = o};
    int rv, p = o->base_port;
    char admin[RPC_ADMIN_TOKEN_LEN + 1]; /* the operator's, for every role */

    /* App servers are reached where login is, loopback for a wildcard. */
    snprintf(a.app_host, sizeof a.app_host, "%s",
             strcmp(o->host, "0.0.0.0") == 0 ? "127.0.0.1" : o->host);
    if ((rv = sbd_admin_token(o, "sbd", admin)) != 0 ||
        (rv = open_store(&a)) != 0)
        goto out;
    snprintf(a.store_url, sizeof a.store_url, "tcp://%s:%d", a.app_host, p + 3);
    if ((rv = sbd_store_serve(a.db, a.w, a.store_url, NULL, &a.store_srv)) != 0)
        goto out;
    if ((rv = bus_role_open("127.0.0.1", p + 4, p + 5, a.bus_in, a.bus_out,
                            sizeof a.bus_in, &a.bus)) != 0)
        goto out;
    /* Draw before login: a login launches app servers, which need it. */
    if ((rv = start_draw(o, &a.draw)) != 0)
        goto out;
    set_draw_url(&a);
    if ((rv = start_fleet(&a)) != 0)
        goto out;
    if ((rv = start_login(&a)) != 0)
        goto out;
    sbd_web_start_all(o, &a.web);
    sb_info("sbd",
            "all roles up: login %s:%d, draw on %d (apps draw from %s), "
            "orchestrator on %d, store on %d, bus %s -> %s, %d users per app "
            "server",
            o->host, p, p + 1, a.draw_url, p + 2, p + 3, a.bus_in, a.bus_out,
            o->capacity);
    sbd_wait_signal();
out:
    if (rv != 0)
        sb_error("sbd", "cannot start (the role that failed said why above)");
    stop_all(&a);
    sb_info("sbd", "stopped");
    return rv == 0 ? 0 : -1;
}

int sbd_run_bus(const sbd_opts *o)
{
    char in[SBD_URL_MAX], out[SBD_URL_MAX];
    rpc_bus_forwarder *f = NULL;
    const char *host = strcmp(o->host, "0.0.0.0") == 0 ? "127.0.0.1" : o->host;
    rpc_tls tls;
    rpc_tls_files files;

    snprintf(in, sizeof in, "tcp://%s:%d", host, o->base_port + 4);
    if (sbd_listen_tls(o, "bus", in, &tls, &files) != 0)
        return -1;
    if (bus_role_open(host, o->base_port + 4, o->base_port + 5, in, out,
                      sizeof in, &f) != 0)
        return -1;
    sbd_wait_signal();
    rpc_bus_forwarder_close(f);
    sb_info("sbd", "stopped");
    return 0;
}
