/* test_fleet_service.c: the Orchestrator service as a real `sbd
 * orchestrator` process on 127.0.0.1 whose local driver starts real app
 * processes (fleet_stub_app: RPC server + the real app agent), counted in
 * /proc by their fleet tag: 25 users → exactly 3 servers, all released →
 * all terminated after the grace; the status page's HTML, JSON, metrics
 * and health; kill -9 of an app server → its users move at once; kill -9
 * and restart of the orchestrator → same processes adopted, none leaked,
 * none launched twice; bad input on every method. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "fleet_proc.h"

static int distinct_servers(char ids[][64], int n)
{
    int d = 0;

    for (int i = 0; i < n; i++) {
        int seen = 0;

        for (int j = 0; j < i; j++)
            seen |= strcmp(ids[i], ids[j]) == 0;
        d += !seen;
    }
    return d;
}

static void assign_users(fp_orch *o, const char *prefix, int from, int to,
                         char ids[][64])
{
    char user[64];

    for (int i = from; i < to; i++) {
        snprintf(user, sizeof user, "%s%d", prefix, i);
        assert_int_equal(fp_assign(o, user, ids[i], NULL), RPC_OK);
    }
}

static void release_users(fp_orch *o, const char *prefix, int from, int to)
{
    char user[64];

    for (int i = from; i < to; i++) {
        snprintf(user, sizeof user, "%s%d", prefix, i);
        assert_int_equal(fp_release(o, user), RPC_OK);
    }
}

static void check_status_page(fp_orch *o)
{
    long code;
    char *b;

    b = fp_http_get(o->http_port, "/", &code);
    assert_int_equal(code, 200);
    assert_non_null(strstr(b, "<table"));
    assert_non_null(strstr(b, "u24"));  /* a session row */
    assert_non_null(strstr(b, "app-")); /* a server row */
    free(b);
    b = fp_http_get(o->http_port, "/api/fleet", &code);
    assert_int_equal(code, 200);
    assert_true(b[0] == '{');
    assert_non_null(strstr(b, "\"servers\""));
    assert_non_null(strstr(b, "\"state\":\"up\""));
    assert_non_null(strstr(b, o->name));
    free(b);
    b = fp_http_get(o->http_port, "/metrics", &code);
    assert_int_equal(code, 200);
    assert_non_null(strstr(b, "sb_fleet_servers{state=\"up\"} 3\n"));
    assert_non_null(strstr(b, "sb_fleet_sessions 25\n"));
    assert_non_null(strstr(b, "sb_fleet_launches_total 3\n"));
    assert_non_null(strstr(b, "sb_orch_rpc_calls_total{method=\"Assign\"}"));
    assert_non_null(strstr(b, "sb_orch_rpc_calls_total{method=\"Heartbeat\"}"));
    free(b);
    b = fp_http_get(o->http_port, "/healthz", &code);
    assert_int_equal(code, 200);
    free(b);
}

/* 25 users → exactly 3 app processes; status page; all released → none
 * left after the grace (1 s) and the stop. */
static void test_scale_and_shrink(void **state)
{
    char ids[25][64];
    fp_orch o;

    (void)state;
    assert_int_equal(fp_init(&o, "scale"), 0);
    assert_int_equal(fp_start(&o), 0);
    assign_users(&o, "u", 0, 25, ids);
    assert_int_equal(distinct_servers(ids, 25), 3);
    assert_int_equal(fp_count(o.name, NULL, 0), 3);
    /* Sticky: asking again changes nothing. */
    assign_users(&o, "u", 0, 25, ids);
    assert_int_equal(distinct_servers(ids, 25), 3);
    fp_sleep_ms(1500); /* a heartbeat or two */
    check_status_page(&o);
    release_users(&o, "u", 0, 25);
    assert_int_equal(fp_wait_count(o.name, 0, 15000), 0);
    fp_cleanup(&o);
}

/* kill -9 an app server: its users get another server at their next
 * Assign, well before the three missed heartbeats. */
static void test_app_killed(void **state)
{
    char ids[12][64], id2[64];
    pid_t pids[8];
    fp_orch o;
    int n, t;

    (void)state;
    assert_int_equal(fp_init(&o, "kill"), 0);
    assert_int_equal(fp_start(&o), 0);
    assign_users(&o, "k", 0, 12, ids); /* 2 servers: k0..k9 on one */
    assert_int_equal(fp_count(o.name, pids, 8), 2);
    fp_sleep_ms(1200); /* both registered and heartbeating */
    n = fp_count(o.name, pids, 8);
    assert_int_equal(n, 2);
    /* Which process is k0's server? Kill both in turn is overkill: kill
     * one, then find a user whose Assign moves. */
    kill(pids[0], SIGKILL);
    for (t = 0; t < 60; t++) {
        int moved = 0;

        for (int i = 0; i < 12; i++) {
            char u[16];

            snprintf(u, sizeof u, "k%d", i);
            assert_int_equal(fp_assign(&o, u, id2, NULL), RPC_OK);
            moved += strcmp(id2, ids[i]) != 0;
        }
        if (moved > 0)
            break;
        fp_sleep_ms(50);
    }
    /* Moved within 3 s (the probe at 1.25 heartbeats, not the 3 missed). */
    assert_true(t < 60);
    fprintf(stderr, "users moved %d ms after the kill\n", t * 50);
    fp_cleanup(&o);
}

/* kill -9 the orchestrator with 15 users on 2 servers, start it again:
 * the same 2 processes are adopted (same pids), the users stay put, and
 * 10 more users make exactly one more process. */
static void test_orchestrator_restart(void **state)
{
    char ids[25][64], again[25][64];
    pid_t before[8], after[8];
    fp_orch o;

    (void)state;
    assert_int_equal(fp_init(&o, "restart"), 0);
    o.idle_grace = "30";
    assert_int_equal(fp_start(&o), 0);
    assign_users(&o, "r", 0, 15, ids);
    assert_int_equal(fp_count(o.name, before, 8), 2);
    fp_stop(&o, SIGKILL);
    fp_sleep_ms(500);
    assert_int_equal(fp_count(o.name, NULL, 0), 2); /* they outlive it */
    assert_int_equal(fp_start(&o), 0);
    fp_sleep_ms(2500); /* reconcile + heartbeats */
    assert_int_equal(fp_count(o.name, after, 8), 2);
    assert_true((before[0] == after[0] && before[1] == after[1]) ||
                (before[0] == after[1] && before[1] == after[0]));
    assign_users(&o, "r", 0, 15, again);
    for (int i = 0; i < 15; i++)
        assert_string_equal(ids[i], again[i]);
    assign_users(&o, "r", 15, 25, ids);
    assert_int_equal(distinct_servers(ids, 25), 3);
    assert_int_equal(fp_count(o.name, NULL, 0), 3);
    /* Restart again gracefully: still 3, nothing launched twice. */
    fp_stop(&o, SIGTERM);
    assert_int_equal(fp_start(&o), 0);
    fp_sleep_ms(1500);
    assert_int_equal(fp_count(o.name, NULL, 0), 3);
    fp_cleanup(&o);
}

typedef struct bad_case {
    const char *what;
    int code;
} bad_case;

static char *long_string(size_t n)
{
    char *s = malloc(n + 1);

    memset(s, 'x', n);
    s[n] = '\0';
    return s;
}

/* Every method with missing, over-long or odd fields: a clear status,
 * and the orchestrator keeps serving. */
static void test_bad_input(void **state)
{
    char *huge = long_string(5000), id[64];
    rpc_status st;
    fp_orch o;

    (void)state;
    assert_int_equal(fp_init(&o, "bad"), 0);
    assert_int_equal(fp_start(&o), 0);
    {
        Sb__Fleet__RegisterRequest r = SB__FLEET__REGISTER_REQUEST__INIT;
        Sb__Fleet__RegisterReply *rep = NULL;

        assert_int_equal(
            sb_fleet_Orchestrator_RegisterServer(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
        assert_non_null(strstr(st.message, "server id"));
        r.server_id = "x1";
        assert_int_equal(
            sb_fleet_Orchestrator_RegisterServer(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
        assert_non_null(strstr(st.message, "endpoint"));
        r.endpoint = huge;
        assert_int_equal(
            sb_fleet_Orchestrator_RegisterServer(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
        r.server_id = huge;
        r.endpoint = "tcp://127.0.0.1:1";
        assert_int_equal(
            sb_fleet_Orchestrator_RegisterServer(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
        r.server_id = "ext-1";
        r.instance_id = huge;
        assert_int_equal(
            sb_fleet_Orchestrator_RegisterServer(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
    }
    {
        Sb__Fleet__HeartbeatRequest r = SB__FLEET__HEARTBEAT_REQUEST__INIT;
        Sb__Fleet__HeartbeatReply *rep = NULL;

        assert_int_equal(
            sb_fleet_Orchestrator_Heartbeat(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
        r.server_id = "nobody";
        assert_int_equal(
            sb_fleet_Orchestrator_Heartbeat(o.cli, &r, &rep, NULL, &st),
            RPC_OK);
        assert_int_equal(rep->action,
                         SB__FLEET__HEARTBEAT_REPLY__ACTION__REREGISTER);
        protobuf_c_message_free_unpacked(&rep->base, NULL);
    }
    {
        Sb__Fleet__DeregisterRequest r = SB__FLEET__DEREGISTER_REQUEST__INIT;
        Sb__Fleet__DeregisterReply *rep = NULL;

        assert_int_equal(
            sb_fleet_Orchestrator_DeregisterServer(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
        r.server_id = "nobody";
        assert_int_equal(
            sb_fleet_Orchestrator_DeregisterServer(o.cli, &r, &rep, NULL, &st),
            RPC_NOT_FOUND);
    }
    {
        Sb__Fleet__AssignRequest r = SB__FLEET__ASSIGN_REQUEST__INIT;
        Sb__Fleet__AssignReply *rep = NULL;

        assert_int_equal(
            sb_fleet_Orchestrator_Assign(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
        r.user = huge;
        assert_int_equal(
            sb_fleet_Orchestrator_Assign(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
        r.user = "alice";
        r.wait_ms = 1000000;
        assert_int_equal(
            sb_fleet_Orchestrator_Assign(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
    }
    {
        Sb__Fleet__ReleaseRequest r = SB__FLEET__RELEASE_REQUEST__INIT;
        Sb__Fleet__ReleaseReply *rep = NULL;

        assert_int_equal(
            sb_fleet_Orchestrator_Release(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
        r.user = huge;
        assert_int_equal(
            sb_fleet_Orchestrator_Release(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
        r.user = "never-assigned"; /* idempotent */
        assert_int_equal(
            sb_fleet_Orchestrator_Release(o.cli, &r, &rep, NULL, &st), RPC_OK);
        protobuf_c_message_free_unpacked(&rep->base, NULL);
    }
    {
        Sb__Fleet__LookupRequest r = SB__FLEET__LOOKUP_REQUEST__INIT;
        Sb__Fleet__LookupReply *rep = NULL;

        assert_int_equal(
            sb_fleet_Orchestrator_Lookup(o.cli, &r, &rep, NULL, &st),
            RPC_INVALID_ARGUMENT);
        r.user = "nobody";
        assert_int_equal(
            sb_fleet_Orchestrator_Lookup(o.cli, &r, &rep, NULL, &st),
            RPC_NOT_FOUND);
    }
    /* Still serving: a real assignment and its lookup. */
    assert_int_equal(fp_assign(&o, "alice", id, NULL), RPC_OK);
    {
        Sb__Fleet__LookupRequest r = SB__FLEET__LOOKUP_REQUEST__INIT;
        Sb__Fleet__LookupReply *rep = NULL;

        r.user = "alice";
        assert_int_equal(
            sb_fleet_Orchestrator_Lookup(o.cli, &r, &rep, NULL, &st), RPC_OK);
        assert_string_equal(rep->server_id, id);
        assert_string_equal(rep->state, "up");
        protobuf_c_message_free_unpacked(&rep->base, NULL);
    }
    free(huge);
    fp_cleanup(&o);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_scale_and_shrink),
        cmocka_unit_test(test_app_killed),
        cmocka_unit_test(test_orchestrator_restart),
    };

    (void)argc, (void)argv;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
