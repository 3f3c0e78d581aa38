/* app_internal.h: what app_service.c (commands, lifecycle) and
 * app_receive.c (Receive long-polls, Ack, bus hints) share. */
#ifndef APP_INTERNAL_H
#define APP_INTERNAL_H

#include <pthread.h>

#include "app_cache.h"
#include "app_service.h"
#include "events.pb-c.h"
#include "rpc_bus.h"
#include "social.pb-c.h"

typedef struct app_waiter app_waiter;
typedef struct app_miss app_miss;

struct app_server {
    char id[64];
    store_conn *store;  /* local or remote (store_conn.h) */
    int own_store;      /* opened from cfg->store_url or cfg->db/w */
    app_cache *cache;   /* token -> session (app_cache.h) */
    int writes;         /* store writes in flight (guarded by mu) */
    char endpoint[256]; /* what others use to reach us (--advertise) */
    rpc_server *srv;
    rpc_bus_pub *pub;
    rpc_bus_sub *sub;
    int poll_ms;
    /* Parked Receive calls; mu also guards stopping. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    app_waiter *waiters;
    int stopping;
    int have_sweeper;
    pthread_t sweeper;
    /* Draw (app_draw.c): the draw service's client, NULL = none. */
    rpc_client *draw;
    uint32_t draw_max;
    int serving;           /* srv started (stop it before the draw client) */
    int64_t clock_skew_ms; /* test only: added to every server time */
    /* Idle sessions (app_idle.c): last call per user, under idle_mu. */
    int64_t idle_ms;
    pthread_mutex_t idle_mu;
    pthread_cond_t idle_cv;
    struct app_seen *seen;
    size_t nseen, capseen;
    int idle_stop, have_idler;
    pthread_t idler;
    /* Told when an idle session ends here (the orchestrator's Release). */
    app_session_end_fn ended_fn;
    void *ended_arg;
    int ended_busy; /* calls of ended_fn under way */
    /* Inline writes whose token was not cached (app_inline.c). */
    pthread_mutex_t miss_mu;
    pthread_cond_t miss_cv;
    app_miss *miss_head, *miss_tail;
    int miss_stop, miss_init, have_misser;
    pthread_t misser;
};

/** Token check and placement: fills *s and returns RPC_OK when the call's
 * token is valid and its user is assigned here (or nowhere); otherwise
 * fails/redirects the call and returns the code to return. */
int app_begin(app_server *a, rpc_call *call, store_session *s);

/** app_begin without the token cache: for a command whose action does not
 * pass the token through a store operation (Draw), so nothing but a fresh
 * store read stands between an ended session and the action. Every other
 * command may use app_begin: its store op re-checks the token inside the
 * transaction, so a stale cache entry can only cost a failed call. */
int app_begin_fresh(app_server *a, rpc_call *call, store_session *s);

/** Queues @op (its strings must live until the call is answered: the
 * request's do) as the caller's user with the call's request id, and
 * answers the call from the write's completion: app_fail for a failure,
 * else OK after publishing a "mail" hint to @hint_user / @hint_group when
 * set. Returns RPC_DEFER, or the code to return when it cannot queue. */
int app_write(app_server *a, rpc_call *call, const store_wop *op, app_cmd cmd,
              const char *name, const char *hint_user, const char *hint_group);

/* Inline write commands (app_inline.c). */
/** Starts the miss thread. Returns 0 or a pthread_create error. */
int app_inline_start(app_server *a);
/** Refuses new misses, finishes the queued ones, joins the thread; call
 * before rpc_server_stop. Safe when never started. */
void app_inline_stop(app_server *a);
void app_inline_free(app_server *a);
/** Declares the write commands non-blocking on @srv (before start). */
int app_inline_register(rpc_server *srv);
/** A write command from an inline handler: with the token cached, touches
 * the session and app_write()s at once (never blocks); otherwise queues
 * the call for the miss thread (app_begin, then app_write) and returns
 * RPC_DEFER, or UNAVAILABLE when the server is stopping. @op's strings
 * must live until the call is answered (the request's do). */
int app_write_cmd(app_server *a, rpc_call *call, const store_wop *op,
                  app_cmd cmd, const char *name, const char *hint_user,
                  const char *hint_group);

/* Rooms, profiles, private messages (app_rooms.c). */
int app_h_create_room(rpc_call *call, const Sb__Social__RoomRequest *req,
                      Sb__Social__Empty *reply, void *arg);
int app_h_join_room(rpc_call *call, const Sb__Social__RoomRequest *req,
                    Sb__Social__Empty *reply, void *arg);
int app_h_leave_room(rpc_call *call, const Sb__Social__Empty *req,
                     Sb__Social__Empty *reply, void *arg);
int app_h_list_rooms(rpc_call *call, const Sb__Social__Empty *req,
                     Sb__Social__RoomList *reply, void *arg);
int app_h_delete_room(rpc_call *call, const Sb__Social__RoomRequest *req,
                      Sb__Social__Empty *reply, void *arg);
int app_h_say(rpc_call *call, const Sb__Social__SayRequest *req,
              Sb__Social__Empty *reply, void *arg);
int app_h_private(rpc_call *call, const Sb__Social__PrivateRequest *req,
                  Sb__Social__Empty *reply, void *arg);
int app_h_set_profile(rpc_call *call, const Sb__Social__Profile *req,
                      Sb__Social__Empty *reply, void *arg);
int app_h_show_profile(rpc_call *call,
                       const Sb__Social__ShowProfileRequest *req,
                       Sb__Social__ShowProfileReply *reply, void *arg);

/* Idle sessions (app_idle.c): a session with no call here for idle_ms
 * is ended like a logout (its rooms die with it). 0 = never. */
int app_idle_start(app_server *a);
void app_idle_stop(app_server *a);
/** Records a call by @user holding @token now. */
void app_idle_touch(app_server *a, const char *user, const char *token);

/** Publishes a "mail" hint (best effort). */
void app_hint(app_server *a, const char *user, const char *group);

int app_h_receive(rpc_call *call, const Sb__Social__ReceiveRequest *req,
                  Sb__Social__ReceiveReply *reply, void *arg);
int app_h_ack(rpc_call *call, const Sb__Social__AckRequest *req,
              Sb__Social__Empty *reply, void *arg);

/** Draw: opens the draw client (draw_url NULL = Draw answers "Draw
 * service is not available"); max_count 0 = APP_DRAW_DEFAULT_MAX.
 * Returns 0 or an nng error code. */
int app_draw_start(app_server *a, const char *draw_url, uint32_t max_count);
/** Closes the draw client, finishing every draw in flight; call after
 * rpc_server_stop and before rpc_server_destroy. */
void app_draw_stop(app_server *a);
int app_h_draw(rpc_call *call, const Sb__Social__DrawRequest *req,
               Sb__Social__DrawReply *reply, void *arg);

/** Starts the bus subscription and the deadline sweeper. */
int app_receive_start(app_server *a, const char *bus_out);
/** Stops both and answers every parked call UNAVAILABLE. */
void app_receive_stop(app_server *a);

#endif
