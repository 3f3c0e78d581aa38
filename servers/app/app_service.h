/* app_service.h: an app server: the App service of proto/social.proto
 * (every course command after login) over the store's data layer. Each
 * command is one store call; the token is checked first, a user assigned
 * to another server gets REDIRECT, and Receive long-polls are parked until
 * a bus "mail" hint or their deadline (correct even if every hint is lost).
 * app_status.c maps store results to the course's exact reply texts and is
 * shared with the login role. */
#ifndef APP_SERVICE_H
#define APP_SERVICE_H

#include "rpc.h"
#include "store_conn.h"
#include "store_db.h"
#include "store_writer.h"

/** Where an app server gets its data and its hints. */
typedef struct app_config {
    const char *id;         /* server id, e.g. "app-1" (sessions name it) */
    const char *listen_url; /* e.g. "tcp://127.0.0.1:0" (0 = free port) */
    const char *bus_in;     /* forwarder's publisher side; NULL = no bus */
    const char *bus_out;    /* forwarder's subscriber side; NULL = no bus */
    /* The store, first of: @store (shared, outlives us), @store_url (a
     * remote store we connect to), @db + @w (in this process). */
    store_conn *store;
    const char *store_url; /* e.g. "tcp://127.0.0.1:8891" */
    store_db *db;          /* the store's environment (outlives us) */
    store_writer *w;       /* its group-commit writer (outlives us) */
    const char *advertise; /* host others reach us by; NULL = the
                              listener's own (app_server_endpoint) */
    int cache_ttl_ms;      /* token cache entry life; 0 = 30000 */
    int poll_ms;           /* deadline sweep period; 0 = 50 */
    const char *draw_url;  /* the draw service (sb.draw.Draw) for Draw;
                              NULL = Draw answers "Draw service is not
                              available" */
    uint32_t draw_max;     /* largest count per Draw; 0 = 10000, the
                              draw service's default maximum */
    int64_t idle_ms;       /* end a session idle this long here; 0 = never */
    int64_t clock_skew_ms; /* TEST ONLY: shifts delivery times (sbd
                              --test-clock-skew-ms); 0 in production */
} app_config;

#define APP_DRAW_DEFAULT_MAX 10000u

typedef struct app_server app_server;

/** Starts an app server: listens, subscribes to "mail" hints, serves.
 * Returns 0 and sets *@out, or an nng/errno code (a message is logged). */
int app_server_start(const app_config *cfg, app_server **out);

/** The bound URL (with the real port). */
const char *app_server_url(const app_server *a);
/** The URL others use to reach us: the bound URL with its host replaced
 * by cfg->advertise when one was given. */
const char *app_server_endpoint(const app_server *a);
/** The token cache's counters (tests). */
void app_server_cache_stats(app_server *a, uint64_t *hits, uint64_t *misses,
                            uint64_t *drops);
/** Called (on the idle thread) after an idle session of @user ended here,
 * so the fleet can free the user's slot. */
typedef void (*app_session_end_fn)(void *arg, const char *user);
/** Sets (or clears, with NULL) the idle-session-end callback; returns once
 * no call of the previous one is under way. */
void app_server_on_session_end(app_server *a, app_session_end_fn fn, void *arg);
/** Users with a live session seen on this server (its heartbeat's user
 * count); 0 when idle-session tracking is off (idle_ms 0). */
uint32_t app_server_users(app_server *a);
/** The server id given at start. */
const char *app_server_id(const app_server *a);

/** Stops serving (parked Receives are answered UNAVAILABLE) and frees.
 * NULL is accepted. */
void app_server_stop(app_server *a);

/** Which command a store result answers: the same result reads
 * differently per command ("<id> does not exist" vs "No such user
 * exist"). */
typedef enum app_cmd {
    APP_CMD_OTHER = 0,
    APP_CMD_INVITE,
    APP_CMD_ACCEPT,
    APP_CMD_SEND,
    APP_CMD_JOIN_GROUP,
    APP_CMD_SEND_GROUP,
    APP_CMD_CREATE_GROUP,
    APP_CMD_REGISTER,
    APP_CMD_JOIN_ROOM,
} app_cmd;

/** Fails @call with the canonical code and exact course text for @r
 * (which must not be STORE_OK); @name is the command's name argument.
 * Returns the code to return from the handler. */
int app_fail(rpc_call *call, store_res r, app_cmd cmd, const char *name);

/** Copies a call's request id into a write op (retries apply once). */
void app_set_reqid(store_wop *op, rpc_call *call);

/** Registers, on @srv, every App method as "token check, then REDIRECT to
 * the user's app server" - for App calls that land on the login
 * endpoint: no or a bad token gets UNAUTHENTICATED "Not login yet".
 * Returns 0 or an nng error code. */
int app_register_redirector(rpc_server *srv, store_conn *store);

#endif
