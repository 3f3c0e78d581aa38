/* test_web_load.c: the web role of a real sbd holding 1000 event streams
 * (40 users, 25 pages each) while a real session works: 60 messages from
 * one user to another arrive once each and in order, a room message
 * reaches all 1000 streams, and every stream is still open at the end.
 * Then slow clients: 100 connections that send half a request or nothing
 * are cut at the idle timeout while a user is served as usual meanwhile.
 * Last, every app server is killed -9 mid-conversation: nothing is lost
 * or shown twice.
 * sbd's memory per stream is printed (the figure is sb-bench web's). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb_netutil.h"
#include "test_social_proc.h"
#include "web_test_util.h"

enum { USERS = 40, PAGES = 25, STREAMS = USERS * PAGES, MSGS = 60 };

static tsp_sbd S;
static int WEB;

static int setup(void **state)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    return wt_start_sbd(&S, &WEB);
}

static int teardown(void **state)
{
    tsp_cleanup(&S);
    return 0;
}

/* Pumps every stream until each has its hello, within ms. */
static int all_hello(hc_sse *es, int n, int ms)
{
    int64_t end = wt_now_ms() + ms;
    int have = 0;

    while (wt_now_ms() < end) {
        have = 0;
        for (int i = 0; i < n; i++) {
            hc_sse_pump(&es[i]);
            have += es[i].ev != NULL && strstr(es[i].ev, "event: hello");
        }
        if (have == n)
            return n;
        wt_sleep_ms(20);
    }
    return have;
}

/* Counts, per stream, the events holding @needle until each has one. */
static int all_got(hc_sse *es, int n, const char *needle, int ms)
{
    int64_t end = wt_now_ms() + ms;
    char *seen = calloc((size_t)n, 1);
    int have = 0;

    while (have < n && wt_now_ms() < end) {
        for (int i = 0; i < n; i++) {
            char *ev;
            hc_sse_pump(&es[i]);
            while ((ev = hc_sse_next(&es[i])) != NULL) {
                if (!seen[i] && strstr(ev, needle) != NULL) {
                    seen[i] = 1;
                    have++;
                }
                free(ev);
            }
        }
        wt_sleep_ms(10);
    }
    free(seen);
    return have;
}

static void test_1000_streams(void **state)
{
    static wc users[USERS];
    hc_sse *es = calloc(STREAMS, sizeof *es);
    wc ann, bob;
    char name[32];
    long before, after;
    const char *room[] = {"big"};

    for (int u = 0; u < USERS; u++) {
        snprintf(name, sizeof name, "u%02d", u);
        assert_int_equal(wc_join(&users[u], WEB, name, "pw"), 0);
        wt_expect(&users[u], u == 0 ? "create-room" : "join-room", 1, room,
                  "Success!");
    }
    before = sb_proc_kib(S.pid, "VmRSS");
    for (int i = 0; i < STREAMS; i++)
        assert_int_equal(hc_sse_open(&es[i], WEB, "/api/events",
                                     users[i % USERS].cookie, NULL),
                         0);
    assert_int_equal(all_hello(es, STREAMS, 60000), STREAMS);
    after = sb_proc_kib(S.pid, "VmRSS");
    printf("sbd: %ld KiB before, %ld KiB with %d streams open: %.1f KiB a "
           "stream (ASan builds are larger)\n",
           before, after, STREAMS, (double)(after - before) / STREAMS);
    /* a real session, meanwhile */
    assert_int_equal(wc_join(&ann, WEB, "ann", "pw"), 0);
    assert_int_equal(wc_join(&bob, WEB, "bob", "pw"), 0);
    wt_befriend(&ann, &bob);
    for (int i = 0; i < MSGS; i++) {
        char t[32];
        snprintf(t, sizeof t, "m%03d", i);
        const char *s[] = {"bob", t};
        wt_expect(&ann, "send", 2, s, "Success!");
    }
    assert_int_equal(wt_drain(&bob, MSGS, "m"), MSGS);
    /* one room message reaches every one of the 1000 streams */
    const char *say[] = {"hello room"};
    wt_expect(&users[0], "say", 1, say, "Success!");
    assert_int_equal(
        all_got(es, STREAMS, "<<<u00->ROOM<big>: hello room>>>", 60000),
        STREAMS);
    int open = 0;
    for (int i = 0; i < STREAMS; i++) {
        open += hc_sse_pump(&es[i]) >= 0 && !es[i].closed;
        hc_sse_close(&es[i]);
    }
    assert_int_equal(open, STREAMS);
    free(es);
}

static void test_slow_clients(void **state)
{
    enum { SLOW = 100 };
    int fd[SLOW], closed = 0;
    wc c;
    const char half[] = "POST /api/cmd HTTP/1.1\r\nHost: x\r\nContent-Le";

    assert_int_equal(wc_join(&c, WEB, "slowpoke", "pw"), 0);
    for (int i = 0; i < SLOW; i++) {
        fd[i] = hc_connect(WEB);
        assert_true(fd[i] >= 0);
        if (i % 2 == 0)
            assert_int_equal(hc_send(fd[i], half, sizeof half - 1), 0);
    }
    /* served as usual while they hang on */
    int64_t t0 = wt_now_ms();
    wt_expect_has(&c, "whoami", 0, NULL, "slowpoke on app-");
    assert_true(wt_now_ms() - t0 < 5000);
    /* the idle timeout (15 s) cuts every one of them */
    for (int i = 0; i < SLOW; i++) {
        closed += hc_wait_closed(fd[i], i == 0 ? 25000 : 2000);
        close(fd[i]);
    }
    assert_int_equal(closed, SLOW);
    wt_expect_has(&c, "whoami", 0, NULL, "slowpoke on app-");
}

/* Every app server child of sbd (their ppid is sbd's), killed -9. */
static int kill_app_servers(pid_t sbd)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;

    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[300], buf[512];
        int pid = atoi(e->d_name), ppid = 0;
        FILE *f;
        if (pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        if (fgets(buf, sizeof buf, f) != NULL) {
            const char *rp = strrchr(buf, ')');
            if (rp != NULL)
                sscanf(rp + 2, "%*c %d", &ppid);
        }
        fclose(f);
        if (ppid == sbd && kill(pid, SIGKILL) == 0)
            n++;
    }
    if (d != NULL)
        closedir(d);
    return n;
}

/* The app servers die mid-conversation: the next command is re-sent to
 * the server that takes over (libsb, same request id), the stream's
 * fetching moves too, and the page sees each message once. */
static void test_app_servers_die(void **state)
{
    wc a, b;
    hc_sse es;
    json_t *d;
    const char *m1[] = {"bob2", "before"}, *m2[] = {"bob2", "after"};
    long long seq1;
    int st;

    assert_int_equal(wc_join(&a, WEB, "ann2", "pw"), 0);
    assert_int_equal(wc_join(&b, WEB, "bob2", "pw"), 0);
    wt_befriend(&a, &b);
    assert_int_equal(wt_stream(&es, &b, 0), 0);
    wt_expect(&a, "send", 2, m1, "Success!");
    assert_non_null(d = wt_next_delivery(&es, 10000));
    seq1 = json_integer_value(json_object_get(d, "seq"));
    json_decref(d);
    assert_true(kill_app_servers(S.pid) > 0);
    wt_expect(&a, "send", 2, m2, "Success!");
    assert_non_null(d = wt_next_delivery(&es, 20000));
    assert_string_equal(json_string_value(json_object_get(d, "text")), "after");
    assert_true(json_integer_value(json_object_get(d, "seq")) > seq1);
    char ack[48];
    snprintf(ack, sizeof ack, "{\"seq\":%lld}",
             json_integer_value(json_object_get(d, "seq")));
    json_decref(d);
    assert_null(wt_next_delivery(&es, 1000)); /* nothing twice */
    json_decref(wc_post(&b, "/api/ack", ack, NULL, &st));
    assert_int_equal(st, 200);
    hc_sse_close(&es);
    wt_sleep_ms(500);
    assert_int_equal(wt_stream(&es, &b, 0), 0);
    assert_null(wt_next_delivery(&es, 1500));
    hc_sse_close(&es);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_1000_streams),
        cmocka_unit_test(test_slow_clients),
        cmocka_unit_test(test_app_servers_die),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
