/* sbd.h: what sbd's main (flags, role table) and its roles share. */
#ifndef SBD_H
#define SBD_H

#include <pthread.h>

#include "login_orch.h"
#include "orch_role.h"
#include "rpc.h"
#include "rpc_trust.h"
#include "store_db.h"
#include "store_writer.h"
#include "web.h"

/* Orchestrator flags (sbd_orch.c). */
typedef struct sbd_orch_opts {
    uint32_t min_servers, max_servers, spare_slots;
    uint32_t idle_grace_ms, launch_timeout_ms; /* 0 = defaults */
    int driver;             /* --driver: index in "local|ec2" */
    int http_port;          /* --http-port (0 = off; -1 = the role's default) */
    const char *fleet_name; /* --fleet-name */
    const char *app_exe; /* --app-exe: run `EXE app ...` instead of this sbd */
    const char *url;     /* --orchestrator URL (app, login, all) */
    const char *instance_id; /* --instance-id (app; ec2 user data) */
    orch_ec2_config ec2;     /* --ec2-* */
} sbd_orch_opts;

/* Web role flags (sbd_web.c). */
typedef struct sbd_web_opts {
    const char *login; /* --login URL (web): the login server */
    int port; /* --web-port N; 0 = off (all); -1 = the role's default */
} sbd_web_opts;

/* Every setting of every role, filled from the defaults, then the config
 * file, then the command line (sbd_flags.c), then each unset role default
 * (sbd_main.c's role table). */
typedef struct sbd_opts {
    const char *data_dir;    /* --data-dir, ./data */
    int base_port;           /* --base-port P: login P, ... bus P+4/P+5 */
    const char *host;        /* login's listen address; 0.0.0.0 */
    int capacity;            /* users per app server; 10 */
    int pwcost;              /* --pw-cost: a store_pwcost (Argon2id cost) */
    const char *draw_listen; /* --listen: the role's own listen URL */
    int pool_size;           /* --pool-size for a new draw pool; 0 = 100000 */
    int draw_nng_tcp;        /* --draw-engine nng (1): draw's tcp:// on rep0 */
    const char *draw_url;    /* --draw URL: app servers' draw service; all
                                passes its own draw role when unset */
    int nng_cpus; /* --nng-cpus: rpc_nng_cpus(); 0 = the machine's, -1 = by role
                   */
    int session_idle_ms; /* --session-idle-ms: end idle sessions; 0 = never */
    const char *tls_dir; /* --tls-dir DIR: the deployment's certificates and
                            credentials (sbd certs DIR makes them); certs:
                            where to write them */
    uint32_t client_idle_ms; /* --client-idle-s: close idle client
                                connections (login); 0 = never */
    int max_conns_per_addr;  /* --max-conns-per-addr: per source address
                                (login); 0 = no cap */
    int clock_skew_ms;       /* --test-clock-skew-ms: TEST ONLY, see --help */
    sbd_orch_opts orch;      /* orchestrator flags */
    sbd_web_opts web;        /* web role flags */
    /* store and app roles (sbd_store.c, sbd_app.c); --listen is draw_listen */
    const char *store_url; /* --store URL: app's remote store */
    const char *bus_in;    /* --bus-in URL: app's hint publisher side */
    const char *bus_out;   /* --bus-out URL: app's hint subscriber side */
    const char *advertise; /* --advertise HOST: how others reach the app */
    const char *app_id;    /* --id ID: the app server's id; app-<pid> */
    int apps_remote_store; /* --app-store: kept for old command lines; all's
                              app servers are child `sbd app` processes that
                              always use the store over RPC on P+3 */
    char **extra;          /* after `--`: passed on to app servers */
    int nextra;
    char *config_text;     /* the config file's text (values point into it) */
    char defaults[4][256]; /* storage of role defaults (listen, bus, ...) */
} sbd_opts;

#define SBD_ARGV_MAX 64
/* An app server's argv for the local driver, with its storage. */
typedef struct sbd_argv {
    char exe[4096];
    char url[256];
    const char *v[SBD_ARGV_MAX + 1];
} sbd_argv;

/** Fills c from the flags and SB_EC2_* (data dir, URLs: the caller's). */
void sbd_orch_config(const sbd_opts *o, orch_config *c);
/** Builds `<sbd or --app-exe> app --orchestrator URL --id {id} EXTRA...
 * (after --)`.
 * Returns 0, or -1 (logged). */
int sbd_app_argv(const sbd_opts *o, const char *orch_url,
                 const char *const *extra, size_t nextra, sbd_argv *a);
/** This binary's path (readlink /proc/self/exe). 0 or -1. */
int sbd_self_exe(char *buf, size_t cap);

/* What `sbd all` tells its app servers (sbd_fleet.c). */
typedef struct sbd_app_urls {
    const char *store; /* the store service, e.g. tcp://127.0.0.1:P+3 */
    const char *bus_in, *bus_out;
    const char *app_listen; /* e.g. tcp://127.0.0.1:0 */
    const char *draw;       /* the draw service, or NULL */
} sbd_app_urls;

typedef struct sbd_fleet sbd_fleet;
/** Starts the fleet part of `sbd all` (its own orchestrator, or the one
 * named by --orchestrator). 0 and *out, or -1 (logged). */
int sbd_fleet_start(const sbd_opts *o, const sbd_app_urls *u, sbd_fleet **out);
/** The orchestrator client login uses. */
login_orch *sbd_fleet_login(sbd_fleet *f);
/** Stops the app servers (ours) and the orchestrator. NULL ignored. */
void sbd_fleet_stop(sbd_fleet *f);

/* The store service on one server (sbd_store.c). */
typedef struct sbd_store_srv {
    rpc_server *srv;
    struct store_service *svc;
} sbd_store_srv;
/** Opens DIR/store (created with its parents if needed) and starts its writer.
 * Returns 0, or an errno/LMDB code (logged). */
int sbd_store_open(const char *data_dir, store_db **db, store_writer **w);
/** Serves sb.store.Store over @db/@w on @url (tls+tcp:// with @tls, NULL
 * for none). Returns 0 or an nng code (logged); *@out is left stopped on
 * failure. */
int sbd_store_serve(store_db *db, store_writer *w, const char *url,
                    const rpc_tls *tls, sbd_store_srv *out);

/** Before an internal role listens on @url (sbd_trust.c): fills *@tls
 * from --tls-dir for a tls+tcp:// URL (pointing into *@files), and
 * refuses, with the fix in the log, a URL other hosts could reach without
 * mutual TLS. 0 or -1 (logged). */
int sbd_listen_tls(const sbd_opts *o, const char *role, const char *url,
                   rpc_tls *tls, rpc_tls_files *files);
/** The admin token of --data-dir (made 0600 at the first start, read back
 * after), its path logged. 0 or -1 (logged). */
int sbd_admin_token(const sbd_opts *o, const char *role,
                    char token[RPC_ADMIN_TOKEN_LEN + 1]);
/** Stops serving (parked writes finish) and frees. Safe on a zeroed one. */
void sbd_store_stop(sbd_store_srv *s);

/** Starts `sbd all`'s web client (unless --web-port 0) as a client of its
 * login port; one that cannot start is a warning. Always 0; *out may be
 * NULL. */
int sbd_web_start_all(const sbd_opts *o, web_role **out);

/** Waits for SIGINT or SIGTERM (blocked by main) and logs which. */
void sbd_wait_signal(void);

/** Roles. Each returns 0 after a graceful stop, -1 when it cannot start
 * (the reason is logged). */
int sbd_run_all(const sbd_opts *o);
int sbd_run_bus(const sbd_opts *o);
int sbd_run_draw(const sbd_opts *o);
int sbd_run_store(const sbd_opts *o);
int sbd_run_app(const sbd_opts *o);
int sbd_run_orchestrator(const sbd_opts *o);
int sbd_run_login(const sbd_opts *o);
int sbd_run_web(const sbd_opts *o);
/** `sbd certs DIR`: a tool, not a daemon (sbd_certs.c). */
int sbd_run_certs(const sbd_opts *o);

#endif
