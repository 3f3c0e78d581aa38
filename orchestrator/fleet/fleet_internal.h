/* fleet_internal.h: the fleet object shared by fleet.c (open, register,
 * heartbeat, snapshot), fleet_assign.c (sessions, Assign/Release) and
 * fleet_tick.c (housekeeping, driver actions, reconcile). Not installed.
 * Locking: f->mu guards everything below it; driver calls are made with
 * f->mu released and f->driver_mu held, collected as fleet_actions. */
#ifndef SB_FLEET_INTERNAL_H
#define SB_FLEET_INTERNAL_H

#include <pthread.h>

#include "fleet.h"
#include "fleet_record.h"

typedef struct fleet_srv {
    fleet_rec_server rec;    /* the persisted part */
    uint32_t users;          /* sessions pointing here */
    uint32_t reported_users; /* from the last heartbeat */
    int64_t idle_since;      /* when users last became 0 */
} fleet_srv;

typedef struct fleet_sess {
    char *user;
    char server_id[FLEET_ID_MAX];
} fleet_sess;

typedef struct fleet_waiter {
    char *user;
    int64_t since;
} fleet_waiter;

enum { FLEET_ACT_LAUNCH, FLEET_ACT_TERMINATE, FLEET_ACT_FORGET };

typedef struct fleet_action {
    int type;
    char server_id[FLEET_ID_MAX];
    char instance_id[FLEET_INSTANCE_MAX];
} fleet_action;

typedef struct fleet_actions {
    fleet_action *v;
    size_t n, cap;
} fleet_actions;

struct fleet {
    fleet_options o;
    char *name, *data_dir;
    pthread_mutex_t driver_mu;
    pthread_mutex_t mu;
    pthread_cond_t changed;
    uint64_t generation;
    fleet_record *rec;
    fleet_srv *srv;
    size_t nsrv, capsrv;
    fleet_sess *sess; /* sorted by user (strcmp) */
    size_t nsess, capsess;
    fleet_waiter *wait;
    size_t nwait, capwait;
    fleet_counters c;
    char last_error[640];
    int64_t launch_backoff_until; /* no launch before (after a failure) */
    fleet_change_fn on_change;
    void *on_change_arg;
    pthread_t ticker;
    int ticker_on, stopping;
    pthread_cond_t stop_cv;
    uint32_t tick_ms;
};

int64_t fleet_now(struct fleet *f);
/* Stops the ticker thread (if any) and waits for it. */
void fleet_stop_ticker(struct fleet *f);
fleet_srv *fleet_find_srv(struct fleet *f, const char *id);
/* Appends a zeroed row (may move f->srv: re-find pointers after). */
fleet_srv *fleet_add_srv(struct fleet *f, const char *id);
/* Writes s->rec to the record; logs and returns the code on failure. */
int fleet_persist_srv(struct fleet *f, fleet_srv *s, rpc_status *st);
void fleet_set_state(struct fleet *f, fleet_srv *s, fleet_state state);
/* Wakes fleet_wait_change callers; the caller then calls fleet_notify. */
void fleet_bump_locked(struct fleet *f);
void fleet_notify(struct fleet *f);

fleet_sess *fleet_find_sess(struct fleet *f, const char *user, size_t *pos);
int fleet_add_sess_mem(struct fleet *f, const char *user, size_t len,
                       const char *server_id);
void fleet_drop_waiter(struct fleet *f, const char *user);

int fleet_actions_push(fleet_actions *a, int type, const char *server_id,
                       const char *instance_id);
/* Adds a launching row (persisted) and a launch action; RPC_OK or the
 * record's error. */
int fleet_plan_launch(struct fleet *f, fleet_actions *a, rpc_status *st);
/* Servers launching, up or draining; *pending_slots: slots launching. */
uint32_t fleet_live_servers(struct fleet *f, uint32_t *pending_slots);
/* Min servers and spare slots: launches to plan now. */
void fleet_plan_scale(struct fleet *f, fleet_actions *a);
/* Runs the actions with f->mu released; frees a->v. Returns how many
 * launches failed. */
int fleet_run_actions(struct fleet *f, fleet_actions *a);
/* After load: adopt, mark gone, terminate unknown (fleet_tick.c). */
void fleet_reconcile(struct fleet *f);

#endif
