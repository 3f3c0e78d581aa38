/* login_service.h: the login role: the Login service of proto/social.proto
 * (register, login, logout, delete, whoami, time, list-users) over the
 * store's data layer, with app-server assignment through the
 * orchestrator (login_orch.h).
 * App calls that land here are checked and redirected (app_service.h). */
#ifndef LOGIN_SERVICE_H
#define LOGIN_SERVICE_H

#include <stdint.h>

#include "login_orch.h"
#include "rpc.h"
#include "store_conn.h"
#include "store_db.h"
#include "store_writer.h"

typedef struct login_config {
    store_conn *store;     /* the store (outlives the service); NULL = a
                              local connection over db and w */
    store_db *db;          /* the store's environment (outlives the service) */
    store_writer *w;       /* its writer (outlives the service) */
    login_orch *orch;      /* the orchestrator (Assign/Release; outlives us) */
    const char *bus_in;    /* forwarder's publisher side; NULL = no bus */
    store_pwcost pwcost;   /* Argon2id cost; STORE_PW_INTERACTIVE by default */
    int64_t clock_skew_ms; /* TEST ONLY (sbd --test-clock-skew-ms): added to
                              every server time login reports; 0 normally */
} login_config;

typedef struct login_service login_service;

/** Registers the Login service and the App redirector on @srv (before
 * rpc_server_start). Returns 0 and sets *@out, or ENOMEM / an nng code. */
int login_service_register(rpc_server *srv, const login_config *cfg,
                           login_service **out);

/** Frees the service; call after the server has stopped. NULL accepted. */
void login_service_free(login_service *l);

#endif
