/* test_draw_kill.c: kill -9 `sbd draw` in the middle of a drain and
 * restart it, five times over, then drain the rest. Across every run no
 * number may come twice, and the numbers never handed out (skipped by the
 * crashes) are bounded per crash by the pool's promise: two blocks, plus
 * the draws whose replies the kill cut off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "draw_itest.h"

#define POOL 100000u
#define CLIENTS 8
#define COUNT 5
#define CRASHES 5

typedef struct run {
    char url[64];
    atomic_uchar seen[POOL + 1];
    atomic_uint got, dups, bad;
    atomic_int stop;
} run;

/* Draws until the server goes away (or stop): any failure ends it. */
static void *client(void *arg)
{
    run *d = arg;
    rpc_client *c;
    rpc_status st;

    if (rpc_client_open(&c, d->url, NULL) != 0)
        return NULL;
    while (!atomic_load(&d->stop)) {
        Sb__Draw__DrawReply *r = NULL;
        if (dproc_draw(c, COUNT, &r, &st) != RPC_OK)
            break;
        for (size_t i = 0; i < r->n_numbers; i++) {
            uint32_t v = r->numbers[i];
            if (v == 0 || v > POOL)
                atomic_fetch_add(&d->bad, 1);
            else if (atomic_exchange(&d->seen[v], 1) != 0)
                atomic_fetch_add(&d->dups, 1);
        }
        atomic_fetch_add(&d->got, (unsigned)r->n_numbers);
        sb_draw_Draw_free(r);
    }
    rpc_client_close(c);
    return NULL;
}

static void test_kill9_five_times(void **state)
{
    dproc p;
    run *d = calloc(1, sizeof *d);
    pthread_t t[CLIENTS];
    Sb__Draw__StatusReply *s = NULL;
    char fp[64] = "";
    uint32_t block = 0;

    (void)state;
    assert_int_equal(dproc_init(&p), 0);
    for (int k = 0; k <= CRASHES; k++) {
        assert_int_equal(dproc_start(&p, POOL), 0);
        assert_int_equal(dproc_status(p.url, &s), RPC_OK);
        if (k == 0) {
            snprintf(fp, sizeof fp, "%s", s->fingerprint);
            block = s->block;
        }
        assert_string_equal(s->fingerprint, fp); /* same seed every run */
        /* resumed past every number received before the crash */
        assert_true(s->drawn >= atomic_load(&d->got));
        sb_draw_Draw_free(s);
        snprintf(d->url, sizeof d->url, "%s", p.url);
        atomic_store(&d->stop, 0);
        for (int i = 0; i < CLIENTS; i++)
            assert_int_equal(pthread_create(&t[i], NULL, client, d), 0);
        if (k < CRASHES) {
            usleep(200000 + 100000 * (useconds_t)k);
            dproc_stop(&p, 1); /* kill -9 mid-drain */
        } else {
            /* the last run drains the pool to the end */
            for (int i = 0; i < CLIENTS; i++)
                pthread_join(t[i], NULL);
            break;
        }
        for (int i = 0; i < CLIENTS; i++)
            pthread_join(t[i], NULL);
        assert_true(atomic_load(&d->got) > 0);
    }
    assert_int_equal(dproc_status(p.url, &s), RPC_OK);
    assert_int_equal(s->remaining, POOL - s->drawn);
    uint32_t drawn = s->drawn, got = atomic_load(&d->got);
    sb_draw_Draw_free(s);
    dproc_cleanup(&p);
    assert_int_equal(atomic_load(&d->dups), 0);
    assert_int_equal(atomic_load(&d->bad), 0);
    /* the last run stops only at exhaustion: fewer than COUNT remain */
    assert_true(drawn > POOL - COUNT);
    uint32_t skipped = drawn - got;
    fprintf(stderr,
            "kill -9 x%d: %u numbers received, %u skipped (bound "
            "%u)\n",
            CRASHES, got, skipped, CRASHES * (2 * block + CLIENTS * COUNT));
    assert_true(skipped <= CRASHES * (2 * block + CLIENTS * COUNT));
    uint32_t distinct = 0;
    for (uint32_t v = 1; v <= POOL; v++)
        distinct += d->seen[v];
    assert_int_equal(distinct, got);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_five_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
