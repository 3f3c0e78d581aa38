/* test_fleet_logic.c: the fleet logic (fleet.h) on a real LMDB record in a
 * temporary directory, with an injected clock and a recording driver that
 * keeps its instances in memory (the local driver with real processes is
 * tested in test_fleet_local.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fleet.h"

/* Recording driver: instances live in this struct across fleet reopenings,
 * as real instances outlive an orchestrator. */
typedef struct rec_driver {
    fleet_instance inst[64];
    size_t n;
    int launches, terminates, fail_launch;
    int64_t now; /* the injected clock */
} rec_driver;

static const char *rd_name(void *ctx)
{
    return "recording";
}

static int rd_launch(void *ctx, const char *sid, char iid[FLEET_INSTANCE_MAX],
                     rpc_status *st)
{
    rec_driver *d = ctx;

    if (d->fail_launch || d->n == 64)
        return fleet_status(st, RPC_UNAVAILABLE, "InsufficientCapacity");
    snprintf(d->inst[d->n].instance_id, FLEET_INSTANCE_MAX, "i-%d",
             d->launches);
    snprintf(d->inst[d->n].server_id, FLEET_ID_MAX, "%s", sid);
    d->inst[d->n].running = 1;
    snprintf(iid, FLEET_INSTANCE_MAX, "%s", d->inst[d->n].instance_id);
    d->n++;
    d->launches++;
    return RPC_OK;
}

static int rd_terminate(void *ctx, const char *iid, rpc_status *st)
{
    rec_driver *d = ctx;

    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->inst[i].instance_id, iid) == 0) {
            d->inst[i] = d->inst[--d->n];
            d->terminates++;
            return RPC_OK;
        }
    }
    return fleet_status(st, RPC_NOT_FOUND, "no instance %s", iid);
}

static int rd_list(void *ctx, fleet_instance **out, size_t *n, rpc_status *st)
{
    rec_driver *d = ctx;

    *out = calloc(d->n + 1, sizeof(**out));
    memcpy(*out, d->inst, d->n * sizeof(**out));
    *n = d->n;
    return RPC_OK;
}

static int rd_alive(void *ctx, const char *iid)
{
    rec_driver *d = ctx;

    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->inst[i].instance_id, iid) == 0)
            return 1;
    return 0;
}

static void rd_destroy(void *ctx) {}

static const fleet_driver rec_ops = {rd_name,  rd_launch, rd_terminate, rd_list,
                                     rd_alive, NULL,      rd_destroy};

static int64_t clock_of(void *arg)
{
    return ((rec_driver *)arg)->now;
}

typedef struct env {
    char dir[64];
    rec_driver d;
    fleet_options o;
    fleet *f;
} env;

static void open_fleet(env *e)
{
    rpc_status st = {0};

    assert_int_equal(fleet_open(&e->o, &e->f, &st), RPC_OK);
}

static int setup(void **state)
{
    env *e = calloc(1, sizeof(*e));

    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-fleet-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    e->d.now = 1000000;
    fleet_options_init(&e->o);
    e->o.data_dir = e->dir;
    e->o.driver = &rec_ops;
    e->o.driver_ctx = &e->d;
    e->o.clock = clock_of;
    e->o.clock_arg = &e->d;
    e->o.idle_grace_ms = 5000;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    char cmd[128];

    fleet_close(e->f);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e);
    return 0;
}

static void user_name(char *b, size_t n, int i)
{
    snprintf(b, n, "user%02d", i);
}

/* Assigns users [from, to); returns how many answered code. */
static int assign_range(env *e, int from, int to, int code)
{
    int hits = 0;

    for (int i = from; i < to; i++) {
        fleet_assignment a;
        rpc_status st;
        char u[16];

        user_name(u, sizeof(u), i);
        hits += fleet_assign(e->f, u, &a, &st) == code;
    }
    return hits;
}

static void register_all(env *e)
{
    for (size_t i = 0; i < e->d.n; i++) {
        char ep[64];
        rpc_status st;

        snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%zu", 41000 + i);
        assert_int_equal(
            fleet_register(e->f, e->d.inst[i].server_id, ep, 0, NULL, &st),
            RPC_OK);
    }
}

static void heartbeat_all(env *e)
{
    for (size_t i = 0; i < e->d.n; i++)
        fleet_heartbeat(e->f, e->d.inst[i].server_id, 0, NULL);
}

static uint32_t users_on(env *e, const char *sid)
{
    fleet_snapshot s;
    uint32_t u = 0;

    assert_int_equal(fleet_snapshot_take(e->f, &s), RPC_OK);
    for (size_t i = 0; i < s.nservers; i++)
        if (strcmp(s.servers[i].id, sid) == 0)
            u = s.servers[i].users;
    fleet_snapshot_free(&s);
    return u;
}

static void test_25_users_3_servers(void **state)
{
    env *e = *state;
    fleet_assignment a, b;
    rpc_status st;

    e->o.min_servers = 1;
    open_fleet(e);
    assert_int_equal(assign_range(e, 0, 25, FLEET_WAIT), 25);
    assert_int_equal(e->d.launches, 3);
    assert_int_equal(assign_range(e, 0, 25, FLEET_WAIT), 25); /* asked again */
    assert_int_equal(e->d.launches, 3);
    register_all(e);
    assert_int_equal(assign_range(e, 0, 25, RPC_OK), 25);
    assert_int_equal(e->d.launches, 3);
    assert_int_equal(
        users_on(e, "app-1") + users_on(e, "app-2") + users_on(e, "app-3"), 25);
    assert_int_equal(users_on(e, "app-1"), 10); /* fullest first */
    assert_int_equal(users_on(e, "app-2"), 10);
    assert_int_equal(users_on(e, "app-3"), 5);
    /* Sticky. */
    assert_int_equal(fleet_assign(e->f, "user00", &a, &st), RPC_OK);
    assert_string_equal(a.server_id, "app-1");
    assert_string_equal(a.endpoint, "tcp://127.0.0.1:41000");
    /* Fullest with room: app-1 drops to 7, app-3 has 5 → app-1. */
    for (int i = 0; i < 3; i++) {
        char u[16];
        user_name(u, sizeof(u), i);
        assert_int_equal(fleet_release(e->f, u, &st), RPC_OK);
    }
    assert_int_equal(fleet_assign(e->f, "newcomer", &b, &st), RPC_OK);
    assert_string_equal(b.server_id, "app-1");
    /* Everyone leaves; servers go after grace, down to min (1). */
    for (int i = 0; i < 25; i++) {
        char u[16];
        user_name(u, sizeof(u), i);
        assert_int_equal(fleet_release(e->f, u, &st), RPC_OK);
    }
    assert_int_equal(fleet_release(e->f, "newcomer", &st), RPC_OK);
    assert_int_equal(fleet_release(e->f, "newcomer", &st), RPC_OK);
    for (int s = 0; s < 4; s++) { /* 4 s < 5 s grace: nobody goes */
        e->d.now += 1000;
        heartbeat_all(e);
        fleet_tick(e->f);
    }
    assert_int_equal(e->d.terminates, 0);
    for (int s = 0; s < 3; s++) {
        e->d.now += 1000;
        heartbeat_all(e);
        fleet_tick(e->f);
    }
    assert_int_equal(e->d.terminates, 2);
    assert_int_equal(e->d.n, 1);
    fleet_snapshot snap;
    assert_int_equal(fleet_snapshot_take(e->f, &snap), RPC_OK);
    assert_int_equal(snap.counters.terminations, 2);
    assert_int_equal(snap.counters.launches, 3);
    int up = 0, term = 0;
    for (size_t i = 0; i < snap.nservers; i++) {
        up += snap.servers[i].state == FLEET_UP;
        term += snap.servers[i].state == FLEET_TERMINATED;
    }
    assert_int_equal(up, 1);
    assert_int_equal(term, 2);
    fleet_snapshot_free(&snap);
}

static void test_missed_heartbeats(void **state)
{
    env *e = *state;
    fleet_assignment a;
    fleet_snapshot snap;
    rpc_status st;

    open_fleet(e);
    assert_int_equal(assign_range(e, 0, 15, FLEET_WAIT), 15);
    assert_int_equal(e->d.launches, 2);
    register_all(e);
    assert_int_equal(assign_range(e, 0, 15, RPC_OK), 15);
    /* app-1 (10 users) stops heartbeating; app-2 keeps on. */
    for (int s = 0; s < 3; s++) {
        e->d.now += 1000;
        fleet_heartbeat(e->f, "app-2", 5, NULL);
        fleet_tick(e->f);
    }
    assert_int_equal(users_on(e, "app-1"), 10); /* 3 s: not yet */
    e->d.now += 1000;
    fleet_heartbeat(e->f, "app-2", 5, NULL);
    fleet_tick(e->f);
    assert_int_equal(fleet_snapshot_take(e->f, &snap), RPC_OK);
    assert_int_equal(snap.counters.deaths, 1);
    assert_int_equal(snap.servers[0].state, FLEET_DEAD);
    fleet_snapshot_free(&snap);
    assert_int_equal(e->d.terminates, 1); /* its instance is stopped */
    assert_int_equal(fleet_heartbeat(e->f, "app-1", 0, &st),
                     RPC_FAILED_PRECONDITION);
    assert_int_equal(fleet_register(e->f, "app-1", "tcp://x:1", 0, NULL, &st),
                     RPC_FAILED_PRECONDITION);
    /* Its users move on their next Assign: 5 fit on app-2, then a launch. */
    assert_int_equal(fleet_assign(e->f, "user00", &a, &st), RPC_OK);
    assert_string_equal(a.server_id, "app-2");
    assert_int_equal(a.reassigned, 1);
    assert_int_equal(assign_range(e, 1, 5, RPC_OK), 4);
    assert_int_equal(assign_range(e, 5, 10, FLEET_WAIT), 5);
    assert_int_equal(e->d.launches, 3);
    assert_int_equal(users_on(e, "app-2"), 10);
    /* Waiting users no longer count on the dead server. */
    assert_int_equal(users_on(e, "app-1"), 0);
}

static void test_restart_no_duplicates(void **state)
{
    env *e = *state;
    fleet_assignment a;
    rpc_status st;

    open_fleet(e);
    assert_int_equal(assign_range(e, 0, 15, FLEET_WAIT), 15);
    assert_int_equal(e->d.launches, 2);
    fleet_register(e->f, "app-1", "tcp://127.0.0.1:41000", 0, NULL, &st);
    assert_int_equal(assign_range(e, 0, 10, RPC_OK), 10);
    /* Restart while app-2 is still launching. */
    fleet_close(e->f);
    e->d.now += 20000; /* longer than a heartbeat timeout */
    open_fleet(e);
    assert_int_equal(e->d.terminates, 0);
    assert_int_equal(assign_range(e, 10, 15, FLEET_WAIT), 5);
    assert_int_equal(e->d.launches, 2); /* app-2's launch still counts */
    fleet_register(e->f, "app-2", "tcp://127.0.0.1:41001", 0, NULL, &st);
    assert_int_equal(assign_range(e, 10, 15, RPC_OK), 5);
    assert_int_equal(fleet_assign(e->f, "user03", &a, &st), RPC_OK);
    assert_string_equal(a.server_id, "app-1"); /* session survived */
    assert_int_equal(a.reassigned, 0);
    assert_int_equal(users_on(e, "app-1"), 10);
    assert_int_equal(e->d.launches, 2);
    /* New ids never reuse old ones. */
    assert_int_equal(assign_range(e, 15, 20, RPC_OK), 5);
    assert_int_equal(fleet_assign(e->f, "extra", &a, &st), FLEET_WAIT);
    assert_string_equal(e->d.inst[e->d.n - 1].server_id, "app-3");
}

static void test_reconcile(void **state)
{
    env *e = *state;
    fleet_snapshot snap;
    rpc_status st;

    open_fleet(e);
    assert_int_equal(assign_range(e, 0, 12, FLEET_WAIT), 12);
    register_all(e);
    assert_int_equal(assign_range(e, 0, 12, RPC_OK), 12);
    fleet_close(e->f);
    e->f = NULL;
    /* While down: app-1's instance vanished, and a tagged instance nobody
     * recorded appeared. */
    for (size_t i = 0; i < e->d.n; i++)
        if (strcmp(e->d.inst[i].server_id, "app-1") == 0)
            e->d.inst[i] = e->d.inst[--e->d.n];
    snprintf(e->d.inst[e->d.n].instance_id, FLEET_INSTANCE_MAX, "i-orphan");
    snprintf(e->d.inst[e->d.n].server_id, FLEET_ID_MAX, "app-7");
    e->d.n++;
    open_fleet(e);
    assert_int_equal(rd_alive(&e->d, "i-orphan"), 0);
    assert_int_equal(e->d.n, 1);
    assert_int_equal(fleet_snapshot_take(e->f, &snap), RPC_OK);
    assert_int_equal(snap.counters.adopted, 1);
    assert_int_equal(snap.counters.reaped_unknown, 1);
    assert_string_equal(snap.servers[0].id, "app-1");
    assert_int_equal(snap.servers[0].state, FLEET_DEAD);
    assert_int_equal(snap.servers[1].state, FLEET_UP);
    assert_int_equal(snap.nsessions, 12);
    fleet_snapshot_free(&snap);
    /* An orphan's id is never handed out again. */
    fleet_assignment a;
    assert_int_equal(assign_range(e, 0, 10, RPC_OK), 8);
    assert_int_equal(fleet_assign(e->f, "user09", &a, &st), FLEET_WAIT);
    assert_string_equal(e->d.inst[e->d.n - 1].server_id, "app-8");
}

static void test_bad_input_and_limits(void **state)
{
    env *e = *state;
    fleet_assignment a;
    rpc_status st;
    char big[400];

    e->o.max_servers = 1;
    open_fleet(e);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(fleet_assign(e->f, "", &a, &st), RPC_INVALID_ARGUMENT);
    assert_int_equal(fleet_assign(e->f, big, &a, &st), RPC_INVALID_ARGUMENT);
    assert_int_equal(fleet_release(e->f, NULL, &st), RPC_INVALID_ARGUMENT);
    assert_int_equal(fleet_register(e->f, "s", "", 0, NULL, &st),
                     RPC_INVALID_ARGUMENT);
    assert_int_equal(fleet_register(e->f, big, "tcp://a:1", 0, NULL, &st),
                     RPC_INVALID_ARGUMENT);
    assert_int_equal(fleet_heartbeat(e->f, "nobody", 1, &st), RPC_NOT_FOUND);
    assert_non_null(strstr(st.message, "register first"));
    assert_int_equal(assign_range(e, 0, 10, FLEET_WAIT), 10);
    assert_int_equal(fleet_assign(e->f, "eleventh", &a, &st), RPC_UNAVAILABLE);
    assert_non_null(strstr(st.message, "maximum of 1 servers"));
    assert_int_equal(e->d.launches, 1);
    /* A launch that never registers times out, is stopped, and frees the
     * need for a new launch. */
    e->d.now += e->o.launch_timeout_ms + 1;
    fleet_tick(e->f);
    assert_int_equal(e->d.terminates, 1);
    assert_int_equal(fleet_assign(e->f, "late", &a, &st), FLEET_WAIT);
    assert_int_equal(e->d.launches, 2);
}

static void test_launch_failure_and_spares(void **state)
{
    env *e = *state;
    fleet_assignment a;
    fleet_snapshot snap;
    rpc_status st;

    e->o.spare_slots = 5;
    e->d.fail_launch = 1;
    open_fleet(e);
    assert_int_equal(fleet_assign(e->f, "alice", &a, &st), RPC_UNAVAILABLE);
    assert_non_null(strstr(st.message, "InsufficientCapacity"));
    assert_int_equal(fleet_snapshot_take(e->f, &snap), RPC_OK);
    assert_non_null(strstr(snap.last_error, "InsufficientCapacity"));
    assert_int_equal(snap.counters.launch_failures, 1);
    fleet_snapshot_free(&snap);
    e->d.fail_launch = 0;
    e->d.now += 2000;
    fleet_tick(e->f); /* spare slots: one server launched ahead */
    assert_int_equal(e->d.launches, 1);
    fleet_tick(e->f);
    assert_int_equal(e->d.launches, 1); /* pending launch counts */
    register_all(e);
    assert_int_equal(assign_range(e, 0, 5, RPC_OK), 5);
    assert_int_equal(e->d.launches, 1); /* 5 free = spare */
    assert_int_equal(assign_range(e, 5, 6, RPC_OK), 1);
    assert_int_equal(e->d.launches, 2); /* 4 free < 5: ahead of need */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_25_users_3_servers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missed_heartbeats, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_no_duplicates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reconcile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_and_limits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_launch_failure_and_spares, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
