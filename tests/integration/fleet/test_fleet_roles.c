/* test_fleet_roles.c: every role as its own process on 127.0.0.1, as a
 * deployment would run them: `sbd store`, `sbd bus`, `sbd orchestrator`
 * (whose local driver starts real `sbd app --store ... --orchestrator
 * ...` children) and `sbd login --store ... --orchestrator ...`. The
 * course's conformance case 1 through them gives 1.out; users keep
 * working while the orchestrator is killed (-9) and restarted, which
 * adopts the same app processes and launches none twice. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fleet_proc.h"
#include "sb.h"
#include "test_social_proc.h"
#include "sb_netutil.h"

typedef struct roles {
    tsp_sbd s; /* temp dir and base port P */
    fp_orch o; /* the orchestrator (its own helper) */
    pid_t store, bus, login;
    char store_url[64], bus_in[64], bus_out[64], port[16];
} roles;

static pid_t spawn(const roles *r, const char *name, char *const argv[])
{
    char log[400];
    pid_t parent = getpid(), pid = fork();

    if (pid != 0)
        return pid;
    snprintf(log, sizeof log, "%s/%s.log", r->s.dir, name);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent || !freopen(log, "a", stderr))
        _exit(127);
    execv(argv[0], argv);
    _exit(127);
}

/* Waits (<= 20 s) until 127.0.0.1:port accepts. */
static void wait_port(int port)
{
    for (int i = 0; i < 200 && !sb_port_accepts(port); i++)
        fp_sleep_ms(100);
    assert_true(sb_port_accepts(port));
}

static void stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        fp_sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void start_roles(roles *r)
{
    char sbd[512];
    const char *bin = getenv("SB_BIN_DIR");

    assert_int_equal(tsp_init(&r->s), 0);
    assert_int_equal(fp_init(&r->o, "roles"), 0);
    snprintf(sbd, sizeof sbd, "%s/sbd", bin ? bin : "bin");
    snprintf(r->port, sizeof r->port, "%d", r->s.port);
    snprintf(r->store_url, sizeof r->store_url, "tcp://127.0.0.1:%d",
             r->s.port + 3);
    snprintf(r->bus_in, sizeof r->bus_in, "tcp://127.0.0.1:%d", r->s.port + 4);
    snprintf(r->bus_out, sizeof r->bus_out, "tcp://127.0.0.1:%d",
             r->s.port + 5);
    char *st[] = {sbd,           "store", "--data-dir", r->s.data,
                  "--base-port", r->port, NULL};
    char *bus[] = {sbd,      "bus",       "--base-port", r->port,
                   "--host", "127.0.0.1", NULL};
    r->store = spawn(r, "store", st);
    r->bus = spawn(r, "bus", bus);
    wait_port(r->s.port + 3); /* the store, before app servers need it */
    wait_port(r->s.port + 4);
    r->o.real_app = 1;
    r->o.idle_grace = "30";
    const char *extra[] = {"--store",  r->store_url,        "--bus-in",
                           r->bus_in,  "--bus-out",         r->bus_out,
                           "--listen", "tcp://127.0.0.1:0", NULL};
    memcpy(r->o.extra, extra, sizeof extra);
    assert_int_equal(fp_start(&r->o), 0);
    char *login[] = {
        sbd,         "login",   "--base-port", r->port,          "--host",
        "127.0.0.1", "--store", r->store_url,  "--orchestrator", r->o.url,
        "--pw-cost", "fast",    NULL};
    r->login = spawn(r, "login", login);
    wait_port(r->s.port);
}

static void stop_roles(roles *r)
{
    stop(r->login);
    fp_cleanup(&r->o); /* orchestrator, then its app children by tag */
    stop(r->bus);
    stop(r->store);
    tsp_cleanup(&r->s);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *buf = calloc(1, 1 << 20);
    size_t n;

    if (fp == NULL || buf == NULL)
        return buf;
    n = fread(buf, 1, (1 << 20) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void test_conformance_1(void **state)
{
    char cmd[1024], out[400], in[400], want[400];
    const char *shared = getenv("SB_SHARED_DIR"), *bin = getenv("SB_BIN_DIR");
    roles r = {0};

    (void)state;
    if (shared == NULL || shared[0] == '\0') {
        printf("SKIP: no ../shared: conformance case not run\n");
        return;
    }
    snprintf(in, sizeof in, "%s/conformance/np2018/1.in", shared);
    snprintf(want, sizeof want, "%s/conformance/np2018/1.out", shared);
    if (access(in, R_OK) != 0) {
        printf("SKIP: %s missing\n", in);
        return;
    }
    start_roles(&r);
    snprintf(out, sizeof out, "%s/1.actual", r.s.dir);
    snprintf(cmd, sizeof cmd, "timeout 60 '%s/sb' 127.0.0.1 %d < '%s' > '%s'",
             bin ? bin : "bin", r.s.port, in, out);
    assert_int_equal(system(cmd), 0);
    char *a = slurp(out), *b = slurp(want);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* Its users were spread over real `sbd app` children. */
    assert_true(fp_count(r.o.name, NULL, 0) >= 1);
    stop_roles(&r);
}

static void test_orchestrator_outage(void **state)
{
    sb_user u[25];
    sb_session *ss;
    rpc_status st;
    pid_t before[8], after[8];
    char name[32];
    roles r = {0};

    (void)state;
    start_roles(&r);
    assert_int_equal(sb_open(&ss, "127.0.0.1", r.s.port, &st), RPC_OK);
    for (int i = 0; i < 15; i++) {
        snprintf(name, sizeof name, "out%d", i);
        assert_int_equal(sb_register(ss, name, "pw", &st), RPC_OK);
        if (sb_login(ss, name, "pw", &u[i], &st) != RPC_OK)
            fail_msg("login %s: %s", name, st.message);
    }
    assert_int_equal(fp_count(r.o.name, before, 8), 2);
    fp_stop(&r.o, SIGKILL);
    /* The app servers keep serving their users meanwhile. */
    for (int i = 0; i < 15; i++)
        assert_int_equal(sb_post(ss, &u[i], "during the outage", &st), RPC_OK);
    assert_int_equal(fp_start(&r.o), 0);
    fp_sleep_ms(2500);
    assert_int_equal(fp_count(r.o.name, after, 8), 2);
    assert_true((before[0] == after[0] && before[1] == after[1]) ||
                (before[0] == after[1] && before[1] == after[0]));
    for (int i = 15; i < 25; i++) {
        snprintf(name, sizeof name, "out%d", i);
        assert_int_equal(sb_register(ss, name, "pw", &st), RPC_OK);
        if (sb_login(ss, name, "pw", &u[i], &st) != RPC_OK)
            fail_msg("login %s: %s", name, st.message);
    }
    assert_int_equal(fp_count(r.o.name, NULL, 0), 3);
    for (int i = 0; i < 25; i++)
        assert_int_equal(sb_post(ss, &u[i], "after", &st), RPC_OK);
    sb_close(ss);
    stop_roles(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance_1),
        cmocka_unit_test(test_orchestrator_outage),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
