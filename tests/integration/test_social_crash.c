/* test_social_crash.c: kill -9 the whole `sbd` (and its app-server
 * children) while nine clients post and send, restart it on the same data
 * dir, and check that every write that got OK is there exactly once and
 * that nothing at all is duplicated. Real sbd child on 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb.h"
#include "test_social_proc.h"

#define NUSERS 10 /* u0 is the reader, friend of everyone */
#define MAXW 20000
#define TXT 24

typedef struct writer {
    int id;
    char name[8];
    sb_session *s;
    sb_user u;
    int nposts, nsends;
    char (*posts)[TXT], (*sends)[TXT];
} writer;

static tsp_sbd g_sbd;
static writer g_w[NUSERS];
static atomic_int g_stop;

static void *writer_main(void *arg)
{
    writer *w = arg;
    rpc_status st;
    char t[TXT];

    for (int k = 0; !atomic_load(&g_stop) && k < MAXW; k++) {
        int post = k % 2 == 0, rc;
        snprintf(t, TXT, "%c%.4s.%d", post ? 'p' : 'd', w->name, k);
        rc = post ? sb_post(w->s, &w->u, t, &st)
                  : sb_send(w->s, &w->u, "u0", t, &st);
        if (rc != RPC_OK)
            break; /* the server is gone: this write's fate is unknown */
        memcpy(post ? w->posts[w->nposts++] : w->sends[w->nsends++], t, TXT);
    }
    return NULL;
}

static void setup_users(void)
{
    rpc_status st;
    for (int i = 0; i < NUSERS; i++) {
        writer *w = &g_w[i];
        w->id = i;
        snprintf(w->name, sizeof w->name, "u%d", i);
        w->posts = calloc(MAXW, TXT);
        w->sends = calloc(MAXW, TXT);
        assert_non_null(w->posts);
        assert_non_null(w->sends);
        assert_int_equal(sb_open(&w->s, "127.0.0.1", g_sbd.port, &st), RPC_OK);
        assert_int_equal(sb_register(w->s, w->name, "pw", &st), RPC_OK);
        assert_int_equal(sb_login(w->s, w->name, "pw", &w->u, &st), RPC_OK);
        if (i > 0) {
            assert_int_equal(sb_invite(w->s, &w->u, "u0", &st), RPC_OK);
            assert_int_equal(
                sb_accept_invite(g_w[0].s, &g_w[0].u, w->name, &st), RPC_OK);
        }
    }
}

static int count_in(char (*v)[TXT], int n, const char *t)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += strcmp(v[i], t) == 0;
    return c;
}

static void check_after_restart(sb_session *s, sb_user *u0, int *nposts,
                                int *nsends)
{
    rpc_status st;
    Sb__Social__PostList *pl = NULL;
    Sb__Social__NameList *fl = NULL;
    uint64_t after = 0;

    assert_int_equal(sb_list_friend(s, u0, &fl, &st), RPC_OK);
    assert_int_equal((int)fl->n_names, NUSERS - 1); /* none lost, no dup */
    sb_free(fl);
    assert_int_equal(sb_receive_post(s, u0, &pl, &st), RPC_OK);
    for (size_t k = 0; k < pl->n_posts; k++)
        for (size_t q = 0; q < k; q++)
            assert_string_not_equal(pl->posts[q]->text, pl->posts[k]->text);
    for (int i = 1; i < NUSERS; i++)
        for (int k = 0; k < g_w[i].nposts; k++, (*nposts)++) {
            int n = 0;
            for (size_t q = 0; q < pl->n_posts; q++)
                n += strcmp(pl->posts[q]->text, g_w[i].posts[k]) == 0 &&
                     strcmp(pl->posts[q]->author, g_w[i].name) == 0;
            assert_int_equal(n, 1);
        }
    sb_free(pl);

    /* u0's mailbox: read it all (never acknowledged), in pages. */
    int cap = NUSERS * MAXW, n = 0;
    char(*got)[TXT] = calloc((size_t)cap, TXT);
    assert_non_null(got);
    for (;;) {
        Sb__Social__ReceiveReply *r = NULL;
        assert_int_equal(sb_receive(s, u0, after, 0, &r, &st), RPC_OK);
        size_t nd = r->n_deliveries;
        for (size_t k = 0; k < nd && n < cap; k++) {
            assert_true(r->deliveries[k]->seq > after);
            after = r->deliveries[k]->seq;
            snprintf(got[n], TXT, "%s", r->deliveries[k]->text);
            assert_int_equal(count_in(got, n, got[n]), 0); /* no dup */
            n++;
        }
        sb_free(r);
        if (nd == 0)
            break;
    }
    for (int i = 1; i < NUSERS; i++)
        for (int k = 0; k < g_w[i].nsends; k++, (*nsends)++)
            assert_int_equal(count_in(got, n, g_w[i].sends[k]), 1);
    free(got);
}

static void test_kill9_restart(void **state)
{
    pthread_t th[NUSERS];
    struct timespec ts = {1, 500000000L};
    rpc_status st;
    sb_session *s = NULL;
    sb_user u0;
    int nposts = 0, nsends = 0;
    (void)state;

    setup_users();
    for (int i = 1; i < NUSERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &g_w[i]), 0);
    nanosleep(&ts, NULL);
    tsp_stop(&g_sbd, SIGKILL); /* mid-load, the whole process group */
    atomic_store(&g_stop, 1);
    for (int i = 1; i < NUSERS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < NUSERS; i++)
        sb_close(g_w[i].s);

    assert_int_equal(tsp_start(&g_sbd), 0);
    assert_int_equal(sb_open(&s, "127.0.0.1", g_sbd.port, &st), RPC_OK);
    assert_int_equal(sb_login(s, "u0", "pw", &u0, &st), RPC_OK);
    check_after_restart(s, &u0, &nposts, &nsends);
    sb_close(s);
    printf("after kill -9: %d OK posts and %d OK sends all there once\n",
           nposts, nsends);
    assert_true(nposts > 0 && nsends > 0); /* the kill hit a real load */
}

static int setup(void **state)
{
    (void)state;
    return tsp_init(&g_sbd) == 0 && tsp_start(&g_sbd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NUSERS; i++) {
        free(g_w[i].posts);
        free(g_w[i].sends);
    }
    tsp_cleanup(&g_sbd);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
