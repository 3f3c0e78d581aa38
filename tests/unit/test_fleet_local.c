/* test_fleet_local.c: the fleet with the local driver and real processes
 * (fake_app stands in for `sbd app`; the test registers and heartbeats on
 * behalf of each one once its pid file appears). Covers launch on demand,
 * fleet_assign_wait, an orchestrator restart (no duplicate launch, the
 * fleet re-adopted, an unrecorded tagged process terminated), kill -9 of a
 * server, idle termination with SIGKILL for a server ignoring SIGTERM, and
 * at the end that every process ever spawned is gone. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fleet.h"
#include "fleet_local.h"

typedef struct env {
    char dir[64], data[96], fleet_name[48];
    const char *fake; /* path of fake_app */
    const char *argv[8];
    fleet_options o;
    fleet *f;
    int pids[64];
    char ids[64][FLEET_ID_MAX];
    int registered[64], dead[64];
    size_t n;
} env;

/* Registers newly started fake apps and heartbeats the live ones. */
static void pump(env *e)
{
    for (int k = 1; k < 64; k++) {
        char path[160], id[32];
        FILE *fp;
        int pid = 0;

        snprintf(id, sizeof(id), "app-%d", k);
        snprintf(path, sizeof(path), "%s/%s.pid", e->dir, id);
        size_t i;
        for (i = 0; i < e->n && strcmp(e->ids[i], id) != 0; i++)
            ;
        if (i == e->n) {
            if ((fp = fopen(path, "r")) == NULL)
                continue;
            assert_int_equal(fscanf(fp, "%d", &pid), 1);
            fclose(fp);
            e->pids[e->n] = pid;
            snprintf(e->ids[e->n], FLEET_ID_MAX, "%s", id);
            e->n++;
        }
        if (e->dead[i])
            continue;
        if (!e->registered[i]) {
            char ep[64];
            rpc_status st;

            snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", 42000 + k);
            e->registered[i] =
                fleet_register(e->f, id, ep, 0, NULL, &st) == RPC_OK;
        } else {
            fleet_heartbeat(e->f, id, 0, NULL);
        }
    }
}

static void open_fleet(env *e)
{
    fleet_local_options lo = {e->argv, e->fleet_name, 300};
    rpc_status st;

    fleet_options_init(&e->o);
    e->o.data_dir = e->data;
    e->o.name = e->fleet_name;
    e->o.capacity = 2;
    e->o.heartbeat_ms = 250; /* timeout 750 ms: slack for a loaded CI */
    e->o.idle_grace_ms = 400;
    e->o.launch_timeout_ms = 10000;
    e->o.driver = &fleet_local_driver;
    assert_int_equal(fleet_local_create(&lo, &e->o.driver_ctx, &st), RPC_OK);
    assert_int_equal(fleet_open(&e->o, &e->f, &st), RPC_OK);
}

/* Assigns users [from, to) until all are placed (bounded). */
static void assign_all(env *e, int from, int to)
{
    for (int round = 0; round < 200; round++) {
        int done = 0;

        pump(e);
        fleet_tick(e->f);
        for (int i = from; i < to; i++) {
            fleet_assignment a;
            char u[16];

            snprintf(u, sizeof(u), "u%d", i);
            done += fleet_assign(e->f, u, &a, NULL) == RPC_OK;
        }
        if (done == to - from)
            return;
        usleep(50000);
    }
    fail_msg("users %d..%d not all assigned within 10 s", from, to);
}

static int gone(int pid)
{
    char path[64];
    struct stat sb;

    snprintf(path, sizeof(path), "/proc/%d", pid);
    return kill(pid, 0) == -1 && errno == ESRCH && stat(path, &sb) != 0;
}

static int tagged_count(env *e)
{
    fleet_instance *v;
    size_t n;
    void *ctx;
    fleet_local_options lo = {e->argv, e->fleet_name, 300};

    assert_int_equal(fleet_local_create(&lo, &ctx, NULL), RPC_OK);
    assert_int_equal(fleet_local_driver.list(ctx, &v, &n, NULL), RPC_OK);
    free(v);
    fleet_local_driver.destroy(ctx);
    return (int)n;
}

static int server_dead(env *e, const char *id)
{
    fleet_snapshot snap;
    int dead = 0;

    assert_int_equal(fleet_snapshot_take(e->f, &snap), RPC_OK);
    for (size_t i = 0; i < snap.nservers; i++)
        if (strcmp(snap.servers[i].id, id) == 0)
            dead = snap.servers[i].state == FLEET_DEAD;
    fleet_snapshot_free(&snap);
    return dead;
}

static int spawn_orphan(env *e)
{
    char tag[96], srv[64];
    char *envp[] = {tag, srv, NULL};
    char *argv[] = {(char *)e->fake, "--dir", e->dir, "--id", "orphan", NULL};
    int pid;

    snprintf(tag, sizeof(tag), "SB_FLEET=%s", e->fleet_name);
    snprintf(srv, sizeof(srv), "SB_FLEET_SERVER=app-40");
    char path[128];
    struct stat sb;

    assert_int_equal(posix_spawn(&pid, e->fake, NULL, NULL, argv, envp), 0);
    /* Wait until it runs fake_app (its tag is visible in /proc then). */
    snprintf(path, sizeof(path), "%s/orphan.pid", e->dir);
    for (int i = 0; i < 250 && stat(path, &sb) != 0; i++)
        usleep(20000);
    assert_int_equal(stat(path, &sb), 0);
    return pid;
}

static void test_local_fleet(void **state)
{
    env *e = calloc(1, sizeof(*e));
    fleet_snapshot snap;
    fleet_assignment a;
    rpc_status st;
    char cmd[128];
    int orphan;

    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-local-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->data, sizeof(e->data), "%s/record", e->dir);
    snprintf(e->fleet_name, sizeof(e->fleet_name), "test-%d", (int)getpid());
    e->fake = *state;
    const char *argv[] = {e->fake, "--dir",      e->dir,  "--id",
                          "{id}",  "--stubborn", "app-2", NULL};
    memcpy(e->argv, argv, sizeof(argv));
    open_fleet(e);

    /* 5 users, capacity 2: exactly 3 processes. */
    assign_all(e, 0, 5);
    assert_int_equal(e->n, 3);
    assert_int_equal(tagged_count(e), 3);

    /* u6 waits for a 4th launch; the orchestrator restarts meanwhile, and
     * a tagged process it never recorded appears. */
    assert_int_equal(fleet_assign(e->f, "u5", &a, &st), RPC_OK); /* app-3 */
    assert_int_equal(fleet_assign(e->f, "u6", &a, &st), FLEET_WAIT);
    fleet_close(e->f);
    orphan = spawn_orphan(e);
    open_fleet(e);
    assert_int_equal(fleet_snapshot_take(e->f, &snap), RPC_OK);
    assert_int_equal(snap.counters.adopted, 4); /* 3 up + 1 launching */
    assert_int_equal(snap.counters.reaped_unknown, 1);
    assert_int_equal(snap.counters.launches, 0);
    fleet_snapshot_free(&snap);
    for (int i = 0; i < 100 && !gone(orphan); i++) {
        fleet_tick(e->f);
        waitpid(orphan, NULL, WNOHANG);
        usleep(20000);
    }
    assert_true(gone(orphan));
    assign_all(e, 0, 7); /* u6 lands on app-4, no new launch */
    assert_int_equal(e->n, 4);
    assert_int_equal(tagged_count(e), 4);
    assert_int_equal(fleet_assign(e->f, "u0", &a, &st), RPC_OK);
    assert_string_equal(a.server_id, "app-1"); /* sticky across restart */

    /* kill -9 app-1: dead after missed heartbeats; its users move. */
    kill(e->pids[0], SIGKILL);
    e->dead[0] = 1;
    for (int i = 0; i < 100 && !server_dead(e, "app-1"); i++) {
        pump(e);
        fleet_tick(e->f);
        usleep(50000);
    }
    assert_true(server_dead(e, "app-1"));
    assert_true(gone(e->pids[0]));
    assert_int_equal(fleet_assign_wait(e->f, "u0", 10000, &a, &st), RPC_OK);
    assert_int_equal(a.reassigned, 1);
    assert_string_not_equal(a.server_id, "app-1");

    /* Everyone leaves: every server (app-2 ignores SIGTERM) goes. */
    for (int i = 0; i < 7; i++) {
        char u[16];
        snprintf(u, sizeof(u), "u%d", i);
        assert_int_equal(fleet_release(e->f, u, &st), RPC_OK);
    }
    for (int i = 0; i < 100 && tagged_count(e) > 0; i++) {
        pump(e);
        fleet_tick(e->f);
        usleep(50000);
    }
    assert_int_equal(tagged_count(e), 0);
    for (size_t i = 0; i < e->n; i++) {
        for (int k = 0; k < 50 && !gone(e->pids[i]); k++) {
            fleet_tick(e->f);
            usleep(20000);
        }
        if (!gone(e->pids[i]))
            kill(e->pids[i], SIGKILL); /* never leak, even on failure */
        assert_true(gone(e->pids[i]));
    }
    assert_int_equal(fleet_snapshot_take(e->f, &snap), RPC_OK);
    assert_true(snap.counters.terminations >= 3);
    fleet_snapshot_free(&snap);
    fleet_close(e->f);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e);
}

/* Even when an assertion failed half-way: SIGKILL whatever carries this
 * run's tag, so a failing test leaks no process either. */
static int kill_tagged(void **state)
{
    char name[48];
    const char *argv[] = {"/bin/false", NULL};
    fleet_local_options lo = {argv, name, 300};
    fleet_instance *v = NULL;
    size_t n = 0;
    void *ctx;

    snprintf(name, sizeof(name), "test-%d", (int)getpid());
    if (fleet_local_create(&lo, &ctx, NULL) != RPC_OK)
        return -1;
    if (fleet_local_driver.list(ctx, &v, &n, NULL) == RPC_OK) {
        for (size_t i = 0; i < n; i++) {
            unsigned long long start;
            int pid;

            if (fleet_local_parse_instance(v[i].instance_id, &pid, &start) ==
                0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
            }
        }
    }
    free(v);
    fleet_local_driver.destroy(ctx);
    return n == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    char self[PATH_MAX], dir[PATH_MAX], fake[PATH_MAX + 16];
    const struct CMUnitTest tests[] = {cmocka_unit_test_prestate_setup_teardown(
        test_local_fleet, NULL, kill_tagged, fake)};

    /* fake_app is built next to this test binary. */
    snprintf(self, sizeof(self), "%s", argv[0]);
    if (realpath(dirname(self), dir) == NULL)
        return 1;
    snprintf(fake, sizeof(fake), "%s/fake_app", dir);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
