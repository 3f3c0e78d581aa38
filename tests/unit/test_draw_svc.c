/* test_draw_svc.c: the draw role in process (real LMDB in a temp dir, a
 * real nng server on 127.0.0.1) with a one-number block, so nearly every
 * Draw finds the durable mark behind it and is parked for the service's
 * waiter thread (RPC_DEFER): 4 client threads drain a 3000 pool exactly
 * once, a draw past the end gets "No numbers left", and the role
 * stops cleanly with draws in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "draw.sb.h"
#include "draw_service.h"
#include "draw_test_util.h"

enum { SIZE = 3000, THREADS = 4 };

typedef struct {
    const char *url;
    uint8_t *seen;
    pthread_mutex_t *mu;
    unsigned got, bad;
} drawer_arg;

static void *drawer(void *arg)
{
    drawer_arg *a = arg;
    rpc_client *c = NULL;
    rpc_status st;

    if (rpc_client_open(&c, a->url, NULL) != 0) {
        a->bad++;
        return NULL;
    }
    for (uint32_t k = 1;; k = k % 9 + 1) {
        Sb__Draw__DrawRequest req = SB__DRAW__DRAW_REQUEST__INIT;
        Sb__Draw__DrawReply *rep = NULL;
        req.count = k;
        int rc = sb_draw_Draw_Draw(c, &req, &rep, NULL, &st);
        if (rc == RPC_RESOURCE_EXHAUSTED && k > 1)
            continue; /* all or nothing: smaller asks may still succeed */
        if (rc == RPC_RESOURCE_EXHAUSTED)
            break;
        if (rc != RPC_OK || rep->n_numbers != k) {
            a->bad++;
            sb_draw_Draw_free(rep);
            break;
        }
        pthread_mutex_lock(a->mu);
        for (size_t i = 0; i < rep->n_numbers; i++) {
            uint32_t v = rep->numbers[i];
            if (v < 1 || v > SIZE || a->seen[v]++)
                a->bad++;
        }
        a->got += k;
        pthread_mutex_unlock(a->mu);
        sb_draw_Draw_free(rep);
    }
    rpc_client_close(c);
    return NULL;
}

static void test_parked_draws_drain_once(void **state)
{
    char dir[4096];
    draw_role *r = NULL;
    pthread_t th[THREADS];
    drawer_arg args[THREADS];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    uint8_t seen[SIZE + 1] = {0};
    unsigned total = 0;
    draw_pool_status ps;

    (void)state;
    assert_non_null(draw_test_mkdtemp(dir, sizeof dir));
    draw_role_config cfg = {.data_dir = dir,
                            .listen_url = "tcp://127.0.0.1:0",
                            .pool_size = SIZE,
                            .block = 1,
                            .block_max = 1};
    assert_int_equal(draw_role_start(&cfg, &r), 0);
    for (int i = 0; i < THREADS; i++) {
        args[i] =
            (drawer_arg){.url = draw_role_url(r), .seen = seen, .mu = &mu};
        assert_int_equal(pthread_create(&th[i], NULL, drawer, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].bad, 0);
        total += args[i].got;
    }
    assert_int_equal(total, SIZE);
    for (int v = 1; v <= SIZE; v++)
        assert_int_equal(seen[v], 1);
    draw_pool_status_get(draw_role_pool(r), &ps);
    print_message("%llu draws parked for a commit, %llu commits\n",
                  (unsigned long long)ps.waits,
                  (unsigned long long)ps.reserves);
    assert_true(ps.waits > 0); /* the parked path ran */
    assert_int_equal(ps.remaining, 0);
    draw_role_stop(r);
    /* the subdirectory the role made, then the temp dir */
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/draw", dir);
    draw_test_rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parked_draws_drain_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
