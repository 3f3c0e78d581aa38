/* test_draw_service.c: the draw service through real `sbd draw` processes
 * on 127.0.0.1: 64 concurrent clients drain a 100000 pool (each number
 * exactly once, then RESOURCE_EXHAUSTED), bad counts, reset only with the
 * fingerprint, restart keeps seed and cursor, `sb draw` output, and `sbd
 * all` serving draw on P+1. The kill -9 runs are in test_draw_kill.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "draw_itest.h"

#define POOL 100000u
#define CLIENTS 64

typedef struct drain {
    const char *url;
    uint32_t count;
    atomic_uchar seen[POOL + 1];
    atomic_uint got, dups, bad, exhausted;
} drain;

static int setup(void **state)
{
    dproc *p = calloc(1, sizeof *p);
    assert_int_equal(dproc_init(p), 0);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    dproc_cleanup(*state);
    free(*state);
    return 0;
}

static void *drainer(void *arg)
{
    drain *d = arg;
    rpc_client *c;
    rpc_status st;

    if (rpc_client_open(&c, d->url, NULL) != 0)
        return NULL;
    for (;;) {
        Sb__Draw__DrawReply *r = NULL;
        int rv = dproc_draw(c, d->count, &r, &st);
        if (rv != RPC_OK) {
            if (rv == RPC_RESOURCE_EXHAUSTED &&
                (strcmp(st.message, "No numbers left") == 0 ||
                 strncmp(st.message, "Only ", 5) == 0))
                atomic_fetch_add(&d->exhausted, 1);
            else
                atomic_fetch_add(&d->bad, 1);
            break;
        }
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

/* 64 clients draw 7 at a time until refused (100000 % 7 = 5 stay), then
 * one client takes the last 5 one by one: exactly 100000 distinct. */
static void test_drain_64(void **state)
{
    dproc *p = *state;
    drain *d = calloc(1, sizeof *d);
    pthread_t t[CLIENTS];
    rpc_client *c;
    rpc_status st;
    Sb__Draw__DrawReply *r = NULL;

    assert_int_equal(dproc_start(p, POOL), 0);
    d->url = p->url;
    d->count = 7;
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, drainer, d), 0);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(d->bad, 0);
    assert_int_equal(d->dups, 0);
    assert_int_equal(d->exhausted, CLIENTS);
    assert_int_equal(d->got, POOL - POOL % 7);
    assert_int_equal(rpc_client_open(&c, p->url, NULL), 0);
    assert_int_equal(dproc_draw(c, 6, &r, &st), RPC_RESOURCE_EXHAUSTED);
    assert_string_equal(st.message, "Only 5 numbers left");
    d->count = 1;
    d->url = p->url;
    drainer(d);
    assert_int_equal(d->got, POOL);
    assert_int_equal(d->dups, 0);
    for (uint32_t v = 1; v <= POOL; v++)
        assert_int_equal(d->seen[v], 1);
    assert_int_equal(dproc_draw(c, 1, &r, &st), RPC_RESOURCE_EXHAUSTED);
    assert_string_equal(st.message, "No numbers left");
    rpc_client_close(c);
    free(d);
}

static void test_bad_counts(void **state)
{
    dproc *p = *state;
    rpc_client *c;
    rpc_status st;
    Sb__Draw__DrawReply *r = NULL;
    Sb__Draw__StatusReply *s = NULL;

    assert_int_equal(dproc_start(p, 1000), 0);
    assert_int_equal(rpc_client_open(&c, p->url, NULL), 0);
    assert_int_equal(dproc_draw(c, 0, &r, &st), RPC_INVALID_ARGUMENT);
    assert_string_equal(st.message, "Count must be between 1 and 10000");
    assert_int_equal(dproc_draw(c, 10001, &r, &st), RPC_INVALID_ARGUMENT);
    assert_string_equal(st.message, "Count must be between 1 and 10000");
    assert_int_equal(dproc_draw(c, 1001, &r, &st), RPC_RESOURCE_EXHAUSTED);
    assert_string_equal(st.message, "Only 1000 numbers left");
    assert_int_equal(dproc_draw(c, 1000, &r, &st), RPC_OK);
    assert_int_equal(r->n_numbers, 1000);
    assert_int_equal(r->remaining, 0);
    sb_draw_Draw_free(r);
    assert_int_equal(dproc_status(p->url, &s), RPC_OK);
    assert_int_equal(s->drawn, 1000); /* the refused calls took nothing */
    sb_draw_Draw_free(s);
    rpc_client_close(c);
}

static int reset(const char *url, const char *confirm, uint32_t size,
                 rpc_status *st)
{
    Sb__Draw__ResetRequest req = SB__DRAW__RESET_REQUEST__INIT;
    Sb__Draw__ResetReply *r = NULL;
    rpc_client *c;

    req.confirm = (char *)confirm;
    req.new_size = size;
    assert_int_equal(rpc_client_open(&c, url, NULL), 0);
    int rv = sb_draw_Draw_Reset(c, &req, &r, NULL, st);
    sb_draw_Draw_free(r);
    rpc_client_close(c);
    return rv;
}

static void test_reset_needs_fingerprint(void **state)
{
    dproc *p = *state;
    Sb__Draw__StatusReply *s = NULL, *s2 = NULL;
    Sb__Draw__DrawReply *r = NULL;
    rpc_client *c;
    rpc_status st;

    assert_int_equal(dproc_start(p, 500), 0);
    assert_int_equal(rpc_client_open(&c, p->url, NULL), 0);
    assert_int_equal(dproc_draw(c, 10, &r, &st), RPC_OK);
    sb_draw_Draw_free(r);
    assert_int_equal(dproc_status(p->url, &s), RPC_OK);
    assert_int_equal(reset(p->url, "", 0, &st), RPC_FAILED_PRECONDITION);
    assert_non_null(strstr(st.message, "fingerprint"));
    assert_int_equal(reset(p->url, "0000000000000000", 0, &st),
                     RPC_FAILED_PRECONDITION);
    assert_int_equal(dproc_status(p->url, &s2), RPC_OK);
    assert_string_equal(s2->fingerprint, s->fingerprint); /* untouched */
    assert_int_equal(s2->drawn, 10);
    sb_draw_Draw_free(s2);
    assert_int_equal(reset(p->url, s->fingerprint, 2000, &st), RPC_OK);
    assert_int_equal(dproc_status(p->url, &s2), RPC_OK);
    assert_string_not_equal(s2->fingerprint, s->fingerprint);
    assert_int_equal(s2->drawn, 0);
    assert_int_equal(s2->size, 2000);
    assert_int_equal(s2->generation, s->generation + 1);
    sb_draw_Draw_free(s);
    sb_draw_Draw_free(s2);
    rpc_client_close(c);
}

/* A clean stop keeps the exact cursor; kill -9 keeps the seed and resumes
 * at most two blocks ahead. */
static void test_restart_keeps_seed_and_cursor(void **state)
{
    dproc *p = *state;
    Sb__Draw__StatusReply *s = NULL, *s2 = NULL;
    Sb__Draw__DrawReply *r = NULL;
    rpc_client *c;
    rpc_status st;

    assert_int_equal(dproc_start(p, 50000), 0);
    assert_int_equal(rpc_client_open(&c, p->url, NULL), 0);
    assert_int_equal(dproc_draw(c, 123, &r, &st), RPC_OK);
    sb_draw_Draw_free(r);
    rpc_client_close(c);
    assert_int_equal(dproc_status(p->url, &s), RPC_OK);
    dproc_stop(p, 0);
    assert_int_equal(dproc_start(p, 999), 0); /* stored size wins */
    assert_int_equal(dproc_status(p->url, &s2), RPC_OK);
    assert_string_equal(s2->fingerprint, s->fingerprint);
    assert_int_equal(s2->size, 50000);
    assert_int_equal(s2->drawn, 123);
    sb_draw_Draw_free(s2);
    dproc_stop(p, 1);
    assert_int_equal(dproc_start(p, 0), 0);
    assert_int_equal(dproc_status(p->url, &s2), RPC_OK);
    assert_string_equal(s2->fingerprint, s->fingerprint);
    assert_true(s2->drawn >= 123 && s2->drawn <= 123 + 2 * s2->block);
    sb_draw_Draw_free(s);
    sb_draw_Draw_free(s2);
}

/* `sb draw`: numbers one a line, usage for bad lines, the server's words
 * for a bad count and an empty pool. */
static void test_sb_draw(void **state)
{
    dproc *p = *state;
    char cmd[1024], line[128];
    const char *bin = getenv("SB_BIN_DIR");
    int seen[6] = {0}, nums = 0, idx = 0;
    const char *want[] = {NULL,
                          NULL,
                          "Usage: draw <count>",
                          "Count must be between 1 and 10000",
                          "Only 3 numbers left",
                          NULL,
                          NULL,
                          NULL};

    assert_int_equal(dproc_start(p, 5), 0);
    snprintf(cmd, sizeof cmd,
             "printf 'draw 2\\ndraw x\\ndraw 0\\ndraw 4\\ndraw 3\\n' | "
             "%s/sb draw 127.0.0.1 %d",
             bin ? bin : "bin", p->port);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL && idx < 8) {
        line[strcspn(line, "\n")] = '\0';
        if (want[idx] != NULL) {
            assert_string_equal(line, want[idx]);
        } else {
            char *end;
            long v = strtol(line, &end, 10);
            assert_true(*end == '\0' && v >= 1 && v <= 5);
            assert_int_equal(seen[v]++, 0);
            nums++;
        }
        idx++;
    }
    assert_int_equal(pclose(f), 0);
    assert_int_equal(idx, 8);
    assert_int_equal(nums, 5);
}

/* `sbd all --base-port P` serves the draw role on P+1, pool in DIR/draw.
 * P is picked below the ephemeral range; a taken port makes sbd exit at
 * once, and the test tries another P. */
static void test_sbd_all_serves_draw(void **state)
{
    dproc *p = *state;
    const char *bin = getenv("SB_BIN_DIR");
    char exe[512], bp[16], url[64];
    Sb__Draw__StatusReply *s = NULL;
    int rv = -1;

    snprintf(exe, sizeof exe, "%s/sbd", bin ? bin : "bin");
    for (int attempt = 0; attempt < 5 && rv != RPC_OK; attempt++) {
        int base = 20000 + (int)((getpid() * 7 + attempt * 1009) % 12000);
        snprintf(bp, sizeof bp, "%d", base);
        snprintf(url, sizeof url, "tcp://127.0.0.1:%d", base + 1);
        pid_t pid = fork();
        if (pid == 0) {
            execl(exe, "sbd", "all", "--host", "127.0.0.1", "--base-port", bp,
                  "--data-dir", p->dir, "--pool-size", "777", (char *)NULL);
            _exit(127);
        }
        int exited = 0;
        for (int i = 0; i < 200 && (rv = dproc_status(url, &s)) != RPC_OK;
             i++) {
            if (waitpid(pid, NULL, WNOHANG) == pid) {
                exited = 1; /* a port was taken: try another base */
                break;
            }
            usleep(100000);
        }
        if (!exited) {
            kill(pid, SIGTERM);
            waitpid(pid, NULL, 0);
        }
    }
    assert_int_equal(rv, RPC_OK);
    assert_int_equal(s->size, 777);
    sb_draw_Draw_free(s);
    assert_int_equal(access(p->dir, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_drain_64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_needs_fingerprint, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_seed_and_cursor,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sb_draw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sbd_all_serves_draw, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
