/* test_fleet_sbd.c: the process model through a real `sbd` (all roles) on
 * 127.0.0.1: app servers are child `sbd app` processes its orchestrator
 * launches. 25 users log in through login → exactly 3 app children; all
 * log out → none left after the grace. kill -9 of the app server under a
 * running `sb` script → the script's output is exactly that of the same
 * script without the kill. kill -9 of sbd → its app children die too. */
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

/* sbd all with a 1 s idle grace; s->pid leads its own process group. */
static int start_sbd_idle(tsp_sbd *s, const char *idle_ms, const char *grace)
{
    const char *bin = getenv("SB_BIN_DIR");
    char path[512], port[16], log[400];
    pid_t parent = getpid();

    snprintf(path, sizeof path, "%s/sbd", bin ? bin : "bin");
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(log, sizeof log, "%s/sbd.log", s->dir);
    if ((s->pid = fork()) < 0)
        return -1;
    if (s->pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent || !freopen(log, "a", stderr))
            _exit(127);
        char *argv[] = {path,
                        "--data-dir",
                        s->data,
                        "--base-port",
                        port,
                        "--host",
                        "127.0.0.1",
                        "--pw-cost",
                        "fast",
                        "--idle-grace",
                        (char *)grace,
                        "--http-port",
                        "0",
                        "--session-idle-ms",
                        (char *)idle_ms,
                        NULL};
        execv(path, argv);
        _exit(127);
    }
    setpgid(s->pid, s->pid);
    for (int i = 0; i < 300; i++) {
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
            return -1;
        if (sb_port_accepts(s->port))
            return 0;
        fp_sleep_ms(100);
    }
    return -1;
}

static int start_sbd(tsp_sbd *s)
{
    return start_sbd_idle(s, "1800000", "1");
}

static char *fleet_tag(const tsp_sbd *s, char *buf, size_t n)
{
    snprintf(buf, n, "sbd-all-%d", s->port);
    return buf;
}

static void login_users(sb_session *ss, const char *prefix, int n, sb_user *u)
{
    rpc_status st;
    char name[32];

    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s%d", prefix, i);
        assert_int_equal(sb_register(ss, name, "pw", &st), RPC_OK);
        if (sb_login(ss, name, "pw", &u[i], &st) != RPC_OK)
            fail_msg("login %s: %s", name, st.message);
    }
}

static void test_login_scale(void **state)
{
    sb_user u[25];
    sb_session *ss;
    rpc_status st;
    tsp_sbd s;
    char tag[64];
    int distinct = 0;

    (void)state;
    assert_int_equal(tsp_init(&s), 0);
    assert_int_equal(start_sbd(&s), 0);
    assert_int_equal(sb_open(&ss, "127.0.0.1", s.port, &st), RPC_OK);
    login_users(ss, "ls", 25, u);
    for (int i = 0; i < 25; i++) {
        int seen = 0;

        for (int j = 0; j < i; j++)
            seen |= strcmp(u[i].server_id, u[j].server_id) == 0;
        distinct += !seen;
    }
    assert_int_equal(distinct, 3);
    assert_int_equal(fp_count(fleet_tag(&s, tag, sizeof tag), NULL, 0), 3);
    /* Every user can use its server. */
    for (int i = 0; i < 25; i++)
        assert_int_equal(sb_post(ss, &u[i], "hello", &st), RPC_OK);
    for (int i = 0; i < 25; i++)
        assert_int_equal(sb_logout(ss, &u[i], &st), RPC_OK);
    assert_int_equal(fp_wait_count(tag, 0, 15000), 0);
    sb_close(ss);
    tsp_cleanup(&s);
}

typedef struct sbproc {
    pid_t pid;
    FILE *in, *out;
} sbproc;

static void sb_start(sbproc *p, int port)
{
    const char *bin = getenv("SB_BIN_DIR");
    char path[512], ps[16];
    int in[2], out[2];

    snprintf(path, sizeof path, "%s/sb", bin ? bin : "bin");
    snprintf(ps, sizeof ps, "%d", port);
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    if ((p->pid = fork()) == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl(path, path, "127.0.0.1", ps, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->in = fdopen(in[1], "w");
    p->out = fdopen(out[0], "r");
}

/* Feeds lines; reads back want lines of output into acc. */
static void sb_feed(sbproc *p, const char *lines, int want, char *acc,
                    size_t cap)
{
    char line[512];

    fputs(lines, p->in);
    fflush(p->in);
    for (int i = 0; i < want && fgets(line, sizeof line, p->out); i++)
        strncat(acc, line, cap - strlen(acc) - 1);
}

static void sb_finish(sbproc *p, char *acc, size_t cap)
{
    char line[512];

    fputs("exit\n", p->in);
    fclose(p->in);
    while (fgets(line, sizeof line, p->out))
        strncat(acc, line, cap - strlen(acc) - 1);
    fclose(p->out);
    waitpid(p->pid, NULL, 0);
}

/* The script, for users A and B. Part 1 prints 7 lines. */
static void script(char *p1, char *p2, size_t n, const char *a, const char *b)
{
    snprintf(p1, n,
             "register %s pa\nregister %s pb\nlogin %s pa\nlogin %s pb\n"
             "invite %s %s\naccept-invite %s %s\npost %s before the kill\n",
             a, b, a, b, a, b, b, a, a);
    snprintf(p2, n,
             "receive-post %s\npost %s after the kill\nreceive-post %s\n"
             "list-friend %s\nlist-friend %s\npost %s from b\n"
             "receive-post %s\n",
             b, a, b, a, b, b, a);
}

/* Replaces every a by x (same length names: "rfa" vs "rka"). */
static void rename_all(char *s, const char *from, const char *to)
{
    for (char *p = s; (p = strstr(p, from)) != NULL; p += strlen(to))
        memcpy(p, to, strlen(to));
}

/* pid of the app child registered as server id, or -1. */
static pid_t app_pid(const char *tag, const char *server_id)
{
    pid_t pids[64];
    int n = fp_count(tag, pids, 64);
    char path[64], want[96], buf[65536];

    snprintf(want, sizeof want, "SB_FLEET_SERVER=%s", server_id);
    for (int i = 0; i < n && i < 64; i++) {
        FILE *fp;
        size_t k;

        snprintf(path, sizeof path, "/proc/%d/environ", (int)pids[i]);
        if ((fp = fopen(path, "r")) == NULL)
            continue;
        k = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[k] = '\0';
        for (size_t j = 0; j < k; j += strlen(buf + j) + 1)
            if (strcmp(buf + j, want) == 0)
                return pids[i];
    }
    return -1;
}

static void test_ride_through(void **state)
{
    static char ref[8192], got[8192];
    char p1[1024], p2[1024], tag[64];
    sb_session *ss;
    sb_user who;
    rpc_status st;
    sbproc p;
    tsp_sbd s;
    pid_t victim;

    (void)state;
    assert_int_equal(tsp_init(&s), 0);
    assert_int_equal(start_sbd(&s), 0);
    fleet_tag(&s, tag, sizeof tag);
    /* Reference: the whole script, no kill. */
    script(p1, p2, sizeof p1, "rfa", "rfb");
    ref[0] = '\0';
    sb_start(&p, s.port);
    sb_feed(&p, p1, 7, ref, sizeof ref);
    sb_feed(&p, p2, 0, ref, sizeof ref);
    sb_finish(&p, ref, sizeof ref);
    /* The same with the users' app server killed between the parts. */
    script(p1, p2, sizeof p1, "rka", "rkb");
    got[0] = '\0';
    sb_start(&p, s.port);
    sb_feed(&p, p1, 7, got, sizeof got);
    /* Which server has rka? Log in as rka once more (sticky). */
    assert_int_equal(sb_open(&ss, "127.0.0.1", s.port, &st), RPC_OK);
    assert_int_equal(sb_login(ss, "rka", "pa", &who, &st), RPC_OK);
    sb_close(ss);
    victim = app_pid(tag, who.server_id);
    assert_true(victim > 0);
    assert_int_equal(kill(victim, SIGKILL), 0);
    sb_feed(&p, p2, 0, got, sizeof got);
    sb_finish(&p, got, sizeof got);
    rename_all(got, "rka", "rfa");
    rename_all(got, "rkb", "rfb");
    assert_string_equal(got, ref);
    assert_non_null(strstr(ref, "after the kill"));
    tsp_cleanup(&s);
}

/* kill -9 sbd: its app children follow (PR_SET_PDEATHSIG), none left. */
static void test_no_orphans(void **state)
{
    sb_user u[12];
    sb_session *ss;
    rpc_status st;
    tsp_sbd s;
    char tag[64];

    (void)state;
    assert_int_equal(tsp_init(&s), 0);
    assert_int_equal(start_sbd(&s), 0);
    assert_int_equal(sb_open(&ss, "127.0.0.1", s.port, &st), RPC_OK);
    login_users(ss, "orph", 12, u);
    sb_close(ss);
    assert_int_equal(fp_count(fleet_tag(&s, tag, sizeof tag), NULL, 0), 2);
    kill(s.pid, SIGKILL); /* sbd alone, not its group */
    waitpid(s.pid, NULL, 0);
    s.pid = 0;
    assert_int_equal(fp_wait_count(tag, 0, 10000), 0);
    tsp_cleanup(&s);
}

/* A session that times out on its app server frees its slot: ten idle
 * users on a full server, then an eleventh fits on the same one. */
static void test_idle_release(void **state)
{
    sb_user u[11];
    sb_session *ss;
    rpc_status st;
    tsp_sbd s;
    char tag[64];

    (void)state;
    assert_int_equal(tsp_init(&s), 0);
    /* A long fleet grace: the emptied server must stay for the check. */
    assert_int_equal(start_sbd_idle(&s, "1000", "60"), 0);
    assert_int_equal(sb_open(&ss, "127.0.0.1", s.port, &st), RPC_OK);
    login_users(ss, "idl", 10, u);
    for (int i = 0; i < 10; i++) /* a call each: the app server sees them */
        assert_int_equal(sb_post(ss, &u[i], "then idle", &st), RPC_OK);
    assert_int_equal(fp_count(fleet_tag(&s, tag, sizeof tag), NULL, 0), 1);
    fp_sleep_ms(2500); /* idle 1 s, the idler looks every 250 ms */
    login_users(ss, "idm", 1, &u[10]);
    assert_string_equal(u[10].server_id, u[0].server_id);
    assert_int_equal(fp_count(tag, NULL, 0), 1);
    sb_close(ss);
    tsp_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_scale),
        cmocka_unit_test(test_ride_through),
        cmocka_unit_test(test_no_orphans),
        cmocka_unit_test(test_idle_release),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
