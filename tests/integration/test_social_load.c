/* test_social_load.c: 50 concurrent clients (threads, each its own libsb
 * session) x 200 mixed commands against a real `sbd` process, then the
 * invariants of issue 3: no lost post, no duplicate friendship, every
 * OK-acknowledged message delivered exactly once (and nothing delivered
 * that was not sent). The server is a child sbd on 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb.h"
#include "test_social_proc.h"

#define NCLIENTS 50
#define NOPS 200
#define TXT 32

typedef struct sent {
    char to[TXT]; /* user (direct) or group */
    char text[TXT];
    int64_t t0; /* mono ms when the call started */
} sent;

typedef struct got {
    int kind;
    char from[TXT], group[TXT], text[TXT];
} got;

typedef struct client {
    int id;
    char name[TXT];
    sb_session *s;
    sb_user u;
    unsigned seed;
    uint64_t last_seq;
    int nposts, nsends, ngsends, njoins, ngot, hard;
    char posts[NOPS][TXT];
    sent sends[NOPS], gsends[NOPS], joins[NOPS + 1];
    got *gotv;
    int gotcap;
    char firsterr[300];
} client;

static tsp_sbd g_sbd;
static client g_c[NCLIENTS];
static pthread_barrier_t g_bar;

/* A status that a correct server never gives under this load. */
static void check(client *c, int rc, const rpc_status *st, const char *what)
{
    if (rc == RPC_OK || rc == RPC_INVALID_ARGUMENT || rc == RPC_NOT_FOUND ||
        rc == RPC_ALREADY_EXISTS || rc == RPC_FAILED_PRECONDITION ||
        rc == RPC_PERMISSION_DENIED)
        return;
    if (c->hard++ == 0)
        snprintf(c->firsterr, sizeof c->firsterr, "%s: %s %s", what,
                 rpc_code_name(rc), st->message);
}

static int keep(client *c, const Sb__Social__ReceiveReply *r)
{
    for (size_t i = 0; i < r->n_deliveries; i++) {
        const Sb__Social__Delivery *d = r->deliveries[i];
        if (c->ngot == c->gotcap) {
            int n = c->gotcap ? c->gotcap * 2 : 64;
            got *v = realloc(c->gotv, (size_t)n * sizeof *v);
            if (!v)
                return -1;
            c->gotv = v;
            c->gotcap = n;
        }
        got *g = &c->gotv[c->ngot++];
        g->kind = (int)d->kind;
        snprintf(g->from, TXT, "%s", d->from);
        snprintf(g->group, TXT, "%s", d->group);
        snprintf(g->text, TXT, "%s", d->text);
        if (d->seq > c->last_seq)
            c->last_seq = d->seq;
    }
    return 0;
}

/* Receive (wait_ms) and acknowledge; returns how many arrived. */
static int receive_ack(client *c, uint32_t wait_ms)
{
    Sb__Social__ReceiveReply *r = NULL;
    rpc_status st;
    int rc = sb_receive(c->s, &c->u, c->last_seq, wait_ms, &r, &st), n = 0;

    check(c, rc, &st, "receive");
    if (rc != RPC_OK)
        return 0;
    n = (int)r->n_deliveries;
    if (keep(c, r) != 0)
        c->hard++;
    sb_free(r);
    if (n > 0) {
        rc = sb_ack(c->s, &c->u, c->last_seq, &st);
        check(c, rc, &st, "ack");
    }
    return n;
}

static void do_invite_accept(client *c, int r)
{
    rpc_status st;
    char other[TXT];
    int rc;

    if (r < 15) {
        snprintf(other, TXT, "u%02d",
                 (c->id + 1 + rand_r(&c->seed) % (NCLIENTS - 1)) % NCLIENTS);
        rc = sb_invite(c->s, &c->u, other, &st);
        check(c, rc, &st, "invite");
        return;
    }
    Sb__Social__NameList *l = NULL;
    rc = sb_list_invite(c->s, &c->u, &l, &st);
    check(c, rc, &st, "list-invite");
    for (size_t i = 0; rc == RPC_OK && i < l->n_names; i++) {
        int a = sb_accept_invite(c->s, &c->u, l->names[i], &st);
        check(c, a, &st, "accept-invite");
    }
    sb_free(l);
}

static void do_send(client *c)
{
    Sb__Social__NameList *l = NULL;
    rpc_status st;
    int rc = sb_list_friend(c->s, &c->u, &l, &st);

    check(c, rc, &st, "list-friend");
    if (rc == RPC_OK && l->n_names > 0) {
        sent *m = &c->sends[c->nsends];
        snprintf(m->to, TXT, "%s", l->names[rand_r(&c->seed) % l->n_names]);
        snprintf(m->text, TXT, "d%.8s.%d", c->name, c->nsends);
        rc = sb_send(c->s, &c->u, m->to, m->text, &st);
        check(c, rc, &st, "send");
        if (rc == RPC_OK)
            c->nsends++;
    }
    sb_free(l);
}

static void do_group(client *c, int r)
{
    rpc_status st;
    char g[TXT];
    int rc;

    if (r < 80) {
        snprintf(g, TXT, "g%02d", r < 75 ? c->id : rand_r(&c->seed) % NCLIENTS);
        int64_t t0 = rpc_now_mono_ms();
        rc = r < 75 ? sb_create_group(c->s, &c->u, g, &st)
                    : sb_join_group(c->s, &c->u, g, &st);
        check(c, rc, &st, "create/join-group");
        if (rc == RPC_OK) {
            sent *j = &c->joins[c->njoins++];
            snprintf(j->to, TXT, "%s", g);
            j->t0 = rpc_now_mono_ms(); /* member from here on */
            (void)t0;
        }
        return;
    }
    if (c->njoins == 0)
        return;
    sent *m = &c->gsends[c->ngsends];
    memmove(m->to, c->joins[rand_r(&c->seed) % c->njoins].to, sizeof m->to);
    snprintf(m->text, TXT, "g%.8s.%d", c->name, c->ngsends);
    m->t0 = rpc_now_mono_ms();
    rc = sb_send_group(c->s, &c->u, m->to, m->text, &st);
    check(c, rc, &st, "send-group");
    if (rc == RPC_OK)
        c->ngsends++;
}

static void one_op(client *c, int k)
{
    rpc_status st;
    int r = rand_r(&c->seed) % 100, rc;
    (void)k;

    if (r < 25) {
        do_invite_accept(c, r);
    } else if (r < 45) {
        snprintf(c->posts[c->nposts], TXT, "p%.8s.%d", c->name, c->nposts);
        rc = sb_post(c->s, &c->u, c->posts[c->nposts], &st);
        check(c, rc, &st, "post");
        if (rc == RPC_OK)
            c->nposts++;
    } else if (r < 55) {
        Sb__Social__PostList *pl = NULL;
        rc = sb_receive_post(c->s, &c->u, &pl, &st);
        check(c, rc, &st, "receive-post");
        sb_free(pl);
    } else if (r < 70) {
        do_send(c);
    } else if (r < 90) {
        do_group(c, r);
    } else {
        receive_ack(c, 0);
    }
}

static void *client_main(void *arg)
{
    client *c = arg;
    rpc_status st;
    int rc;

    snprintf(c->name, TXT, "u%02d", c->id);
    c->seed = 1234u + (unsigned)c->id;
    rc = sb_open(&c->s, "127.0.0.1", g_sbd.port, &st);
    check(c, rc, &st, "open");
    if (rc == RPC_OK) {
        rc = sb_register(c->s, c->name, "pw", &st);
        check(c, rc, &st, "register");
        rc = sb_login(c->s, c->name, "pw", &c->u, &st);
        check(c, rc, &st, "login");
    }
    pthread_barrier_wait(&g_bar); /* everyone exists and is online */
    for (int k = 0; rc == RPC_OK && k < NOPS; k++)
        one_op(c, k);
    pthread_barrier_wait(&g_bar); /* every send has its reply */
    /* Drain: every send got its OK after its commit, so what is in the
     * mailbox now is all there will be. */
    for (int empty = 0; rc == RPC_OK && empty < 2;)
        empty = receive_ack(c, 200) == 0 ? empty + 1 : 0;
    return NULL;
}

static client *by_name(const char *n)
{
    int id;
    if (sscanf(n, "u%d", &id) != 1 || id < 0 || id >= NCLIENTS)
        return NULL;
    return &g_c[id];
}

static int count_got(const client *c, int kind, const char *text)
{
    int n = 0;
    for (int i = 0; i < c->ngot; i++)
        n += c->gotv[i].kind == kind && strcmp(c->gotv[i].text, text) == 0;
    return n;
}

static void check_friends(sb_session *s, char fr[NCLIENTS][NCLIENTS])
{
    memset(fr, 0, NCLIENTS * NCLIENTS);
    for (int i = 0; i < NCLIENTS; i++) {
        Sb__Social__NameList *l = NULL;
        rpc_status st;
        assert_int_equal(sb_list_friend(s, &g_c[i].u, &l, &st), RPC_OK);
        for (size_t k = 0; k < l->n_names; k++) {
            client *f = by_name(l->names[k]);
            assert_non_null(f);
            assert_int_equal(fr[i][f->id], 0); /* no duplicate */
            fr[i][f->id] = 1;
        }
        sb_free(l);
    }
    for (int i = 0; i < NCLIENTS; i++)
        for (int j = 0; j < NCLIENTS; j++)
            assert_int_equal(fr[i][j], fr[j][i]); /* symmetric */
}

static void check_posts(sb_session *s, char fr[NCLIENTS][NCLIENTS])
{
    for (int i = 0; i < NCLIENTS; i++) {
        Sb__Social__PostList *pl = NULL;
        rpc_status st;
        int want = 0;
        assert_int_equal(sb_receive_post(s, &g_c[i].u, &pl, &st), RPC_OK);
        for (size_t k = 0; k < pl->n_posts; k++) {
            client *a = by_name(pl->posts[k]->author);
            assert_non_null(a);
            assert_true(fr[i][a->id]); /* only friends' posts */
            int found = 0;
            for (int p = 0; p < a->nposts; p++)
                found += strcmp(a->posts[p], pl->posts[k]->text) == 0;
            assert_int_equal(found, 1); /* a post that got OK */
            for (size_t q = 0; q < k; q++)
                assert_string_not_equal(pl->posts[q]->text, pl->posts[k]->text);
        }
        for (int j = 0; j < NCLIENTS; j++)
            want += fr[i][j] ? g_c[j].nposts : 0;
        assert_int_equal((int)pl->n_posts, want); /* none lost */
        sb_free(pl);
    }
}

static void check_messages(void)
{
    int direct = 0, group = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        client *c = &g_c[i];
        for (int k = 0; k < c->nsends; k++, direct++)
            assert_int_equal(
                count_got(by_name(c->sends[k].to), 0, c->sends[k].text), 1);
        for (int k = 0; k < c->ngsends; k++, group++) {
            const sent *m = &c->gsends[k];
            for (int j = 0; j < NCLIENTS; j++) {
                int n = count_got(&g_c[j], 1, m->text), member = 0;
                assert_true(n <= 1); /* never twice */
                for (int q = 0; q < g_c[j].njoins; q++)
                    member |= strcmp(g_c[j].joins[q].to, m->to) == 0 &&
                              g_c[j].joins[q].t0 < m->t0;
                if (member && j != i)
                    assert_int_equal(n, 1);
            }
        }
        /* Nothing arrives that no OK call sent. */
        for (int g = 0; g < c->ngot; g++) {
            const got *d = &c->gotv[g];
            client *f = by_name(d->from);
            int found = 0;
            assert_non_null(f);
            for (int k = 0; d->kind == 0 && k < f->nsends; k++)
                found += strcmp(f->sends[k].text, d->text) == 0 &&
                         strcmp(f->sends[k].to, c->name) == 0;
            for (int k = 0; d->kind == 1 && k < f->ngsends; k++)
                found += strcmp(f->gsends[k].text, d->text) == 0 &&
                         strcmp(f->gsends[k].to, d->group) == 0;
            assert_int_equal(found, 1);
        }
    }
    printf("checked %d direct and %d group sends\n", direct, group);
    assert_true(direct > 0 && group > 0);
}

static void test_fifty_clients(void **state)
{
    pthread_t th[NCLIENTS];
    static char fr[NCLIENTS][NCLIENTS];
    int posts = 0;
    (void)state;

    pthread_barrier_init(&g_bar, NULL, NCLIENTS);
    for (int i = 0; i < NCLIENTS; i++) {
        g_c[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, client_main, &g_c[i]), 0);
    }
    for (int i = 0; i < NCLIENTS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&g_bar);
    for (int i = 0; i < NCLIENTS; i++) {
        if (g_c[i].hard)
            fprintf(stderr, "client %d: %d hard errors, first: %s\n", i,
                    g_c[i].hard, g_c[i].firsterr);
        assert_int_equal(g_c[i].hard, 0);
        posts += g_c[i].nposts;
    }
    check_friends(g_c[0].s, fr);
    check_posts(g_c[0].s, fr);
    check_messages();
    printf("checked %d posts\n", posts);
}

static int setup(void **state)
{
    (void)state;
    if (tsp_init(&g_sbd) != 0 || tsp_start(&g_sbd) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NCLIENTS; i++) {
        sb_close(g_c[i].s);
        free(g_c[i].gotv);
    }
    tsp_cleanup(&g_sbd);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifty_clients),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
