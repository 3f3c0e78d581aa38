/* test_store_writer.c: the group-commit writer under concurrency (many
 * threads submitting, every completion right, batches really holding
 * several ops), the async completion path, submitting many at once,
 * shutdown, and the map growing
 * past a tiny initial size with every record still there. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_store_util.h"

#define THREADS 16
#define PER_THREAD 60

typedef struct worker {
    tenv *t;
    int id;
    int wrong;
    uint64_t seqs[PER_THREAD];
} worker;

/* Each thread posts as its own user and mixes in ops whose outcome it
 * knows, so a completion mixed up with another op's would show. */
static void *worker_main(void *arg)
{
    worker *wk = arg;
    char tok[32], text[64];
    snprintf(tok, sizeof tok, "Tw%d", wk->id);
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(text, sizeof text, "w%d-%d", wk->id, i);
        store_wres out;
        if (wr_full(wk->t, STORE_OP_POST, tok, NULL, text, &out) != STORE_OK)
            wk->wrong++;
        wk->seqs[i] = out.seq;
        if (i % 5 == 0 && wr(wk->t, STORE_OP_INVITE, tok, "nobody", NULL) !=
                              STORE_NO_SUCH_USER)
            wk->wrong++;
        if (i % 7 == 0 &&
            wr(wk->t, STORE_OP_POST, "stale", NULL, "x") != STORE_NOT_LOGGED_IN)
            wk->wrong++;
    }
    return NULL;
}

static void test_concurrent_group_commit(void **state)
{
    tenv t = {0};
    store_opts o = {.nosync = 0}; /* real fsyncs make batches form */
    assert_int_equal(tenv_open(&t, &o), 0);
    char name[16];
    for (int i = 0; i < THREADS; i++) {
        snprintf(name, sizeof name, "w%d", i);
        assert_int_equal(reg_login(&t, name), STORE_OK);
    }
    assert_int_equal(reg_login(&t, "reader"), STORE_OK);
    for (int i = 0; i < THREADS; i++) {
        snprintf(name, sizeof name, "w%d", i);
        char tok[16];
        snprintf(tok, sizeof tok, "Tw%d", i);
        assert_int_equal(wr(&t, STORE_OP_INVITE, tok, "reader", NULL),
                         STORE_OK);
        assert_int_equal(wr(&t, STORE_OP_ACCEPT, "Treader", name, NULL),
                         STORE_OK);
    }
    store_writer_stats before, after;
    store_writer_get_stats(t.w, &before);
    static worker wk[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        wk[i] = (worker){.t = &t, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &wk[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(wk[i].wrong, 0);
        for (int j = 1; j < PER_THREAD; j++)
            assert_true(wk[i].seqs[j] > wk[i].seqs[j - 1]);
    }
    store_writer_get_stats(t.w, &after);
    uint64_t ops = after.ops - before.ops,
             batches = after.batches - before.batches;
    int per = PER_THREAD + (PER_THREAD + 4) / 5 +
              (PER_THREAD + 6) / 7; /* i%5, i%7 == 0 */
    assert_int_equal(ops, (uint64_t)THREADS * (uint64_t)per);
    print_message("group commit: %llu ops in %llu batches (max %llu)\n",
                  (unsigned long long)ops, (unsigned long long)batches,
                  (unsigned long long)after.max_batch);
    assert_true(batches < ops / 2); /* batches really hold several ops */
    assert_true(after.max_batch > 1);

    /* every post is there exactly once, in each author's order */
    store_posts p;
    assert_int_equal(store_receive_post(t.db, store_s("Treader"), &p),
                     STORE_OK);
    assert_int_equal(p.n, THREADS * PER_THREAD);
    int next[THREADS] = {0};
    for (size_t i = 0; i < p.n; i++) {
        int a, k;
        assert_int_equal(sscanf(p.v[i].text, "w%d-%d", &a, &k), 2);
        assert_true(a >= 0 && a < THREADS);
        assert_int_equal(k, next[a]);
        next[a]++;
        if (i)
            assert_true(p.v[i].seq > p.v[i - 1].seq);
    }
    store_posts_free(&p);
    tenv_close(&t, 1);
}

typedef struct async_ctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    int ok;
} async_ctx;

static void on_done(store_wop *op, void *arg)
{
    async_ctx *c = arg;
    pthread_mutex_lock(&c->mu);
    c->done++;
    c->ok += op->out.res == STORE_OK;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void test_async_and_shutdown(void **state)
{
    tenv t = {0};
    store_opts o = {.nosync = 1};
    assert_int_equal(tenv_open(&t, &o), 0);
    assert_int_equal(reg_login(&t, "as"), STORE_OK);
    enum { N = 200 };
    static store_wop ops[N];
    async_ctx c = {.done = 0};
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    for (int i = 0; i < N; i++) {
        ops[i] = (store_wop){.kind = STORE_OP_POST, .done = on_done, .arg = &c};
        ops[i].token = store_s("Tas");
        ops[i].text = store_s("async");
        assert_int_equal(store_writer_submit(t.w, &ops[i]), 0);
    }
    /* stop finishes every queued op before returning */
    store_writer_stop(t.w);
    t.w = NULL;
    assert_int_equal(c.done, N);
    assert_int_equal(c.ok, N);
    for (int i = 1; i < N; i++)
        assert_true(ops[i].out.seq > ops[i - 1].out.seq);
    pthread_cond_destroy(&c.cv);
    pthread_mutex_destroy(&c.mu);
    tenv_close(&t, 1);
}

/* submit_many: all queued together (in order, in one batch when the
 * writer is idle), nothing queued when one op is bad. */
static void test_submit_many(void **state)
{
    tenv t = {0};
    store_opts o = {.nosync = 1};
    enum { N = 50 };
    static store_wop ops[N];
    store_wop *p[N];
    store_writer_stats st0, st1;
    async_ctx c = {.done = 0};

    (void)state;
    assert_int_equal(tenv_open(&t, &o), 0);
    assert_int_equal(reg_login(&t, "sm"), STORE_OK);
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    for (int i = 0; i < N; i++) {
        ops[i] = (store_wop){.kind = STORE_OP_POST, .done = on_done, .arg = &c};
        ops[i].token = store_s("Tsm");
        ops[i].text = store_s("many");
        p[i] = &ops[i];
    }
    /* a bad op anywhere: nothing queued */
    p[7] = NULL;
    assert_int_equal(store_writer_submit_many(t.w, p, N),
                     STORE_INVALID_ARGUMENT);
    p[7] = &ops[7];
    assert_int_equal(store_writer_submit_many(t.w, p, 0), 0);
    store_writer_get_stats(t.w, &st0);
    assert_int_equal(store_writer_submit_many(t.w, p, N), 0);
    pthread_mutex_lock(&c.mu);
    while (c.done < N)
        pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    store_writer_get_stats(t.w, &st1);
    assert_int_equal(c.ok, N);
    assert_int_equal(st1.ops - st0.ops, N);
    assert_int_equal(st1.batches - st0.batches, 1); /* one commit */
    for (int i = 1; i < N; i++)
        assert_true(ops[i].out.seq > ops[i - 1].out.seq);
    store_writer_stop(t.w);
    t.w = NULL;
    pthread_cond_destroy(&c.cv);
    pthread_mutex_destroy(&c.mu);
    tenv_close(&t, 1);
}

static void test_map_growth(void **state)
{
    tenv t = {0};
    store_opts o = {.nosync = 1, .map_size = 256 * 1024};
    assert_int_equal(tenv_open(&t, &o), 0);
    size_t initial = store_db_map_size(t.db);
    assert_int_equal(reg_login(&t, "big"), STORE_OK);
    assert_int_equal(reg_login(&t, "fan"), STORE_OK);
    assert_int_equal(wr(&t, STORE_OP_INVITE, "Tbig", "fan", NULL), STORE_OK);
    assert_int_equal(wr(&t, STORE_OP_ACCEPT, "Tfan", "big", NULL), STORE_OK);
    char text[STORE_TEXT_MAX + 1];
    memset(text, 'p', STORE_TEXT_MAX);
    text[STORE_TEXT_MAX] = 0;
    enum { N = 400 }; /* ~1.6 MB of posts into a 256 KiB map */
    for (int i = 0; i < N; i++) {
        text[0] = (char)('a' + i % 26);
        assert_int_equal(wr(&t, STORE_OP_POST, "Tbig", NULL, text), STORE_OK);
    }
    assert_true(store_db_map_size(t.db) > initial);
    store_posts p;
    assert_int_equal(store_receive_post(t.db, store_s("Tfan"), &p), STORE_OK);
    assert_int_equal(p.n, N);
    for (size_t i = 0; i < p.n; i++) {
        assert_int_equal(strlen(p.v[i].text), STORE_TEXT_MAX);
        assert_int_equal(p.v[i].text[0], 'a' + (int)(i % 26));
    }
    store_posts_free(&p);
    /* a reopen with the small setting keeps the grown file */
    tenv_close(&t, 0);
    assert_int_equal(tenv_open(&t, &o), 0);
    assert_true(store_db_map_size(t.db) > initial);
    assert_int_equal(store_receive_post(t.db, store_s("Tfan"), &p), STORE_OK);
    assert_int_equal(p.n, N);
    store_posts_free(&p);
    tenv_close(&t, 1);
}

static void test_map_limit(void **state)
{
    tenv t = {0};
    store_opts o = {.nosync = 1, .map_size = 256 * 1024, .map_max = 512 * 1024};
    assert_int_equal(tenv_open(&t, &o), 0);
    assert_int_equal(reg_login(&t, "lim"), STORE_OK);
    char text[STORE_TEXT_MAX + 1];
    memset(text, 'q', STORE_TEXT_MAX);
    text[STORE_TEXT_MAX] = 0;
    store_res r = STORE_OK;
    int n = 0;
    for (; n < 1000 && r == STORE_OK; n++)
        r = wr(&t, STORE_OP_POST, "Tlim", NULL, text);
    /* at the limit a clear failure, and the store still answers */
    assert_int_equal(r, STORE_ERR_INTERNAL);
    assert_true(n > 10);
    store_session s;
    assert_int_equal(store_whoami(t.db, store_s("Tlim"), &s), STORE_OK);
    assert_int_equal(wr(&t, STORE_OP_LOGOUT, "Tlim", NULL, NULL), STORE_OK);
    tenv_close(&t, 1);
}

/* Request ids are forgotten after their TTL, a few per batch. */
static void test_reqid_prune(void **state)
{
    tenv t = {0};
    store_opts o = {.nosync = 1, .reqid_ttl_ms = 1};
    assert_int_equal(tenv_open(&t, &o), 0);
    assert_int_equal(reg_login(&t, "pr"), STORE_OK);
    store_wop op = {.kind = STORE_OP_POST};
    memset(op.reqid, 0x5a, sizeof op.reqid);
    op.token = store_s("Tpr");
    op.text = store_s("x");
    assert_int_equal(store_writer_submit_wait(t.w, &op), STORE_OK);
    uint64_t first = op.out.seq;
    usleep(20 * 1000);
    assert_int_equal(wr(&t, STORE_OP_POST, "Tpr", NULL, "y"),
                     STORE_OK); /* prunes */
    assert_int_equal(store_writer_submit_wait(t.w, &op), STORE_OK);
    /* past the TTL the id is forgotten: the retry is a new application */
    assert_true(op.out.seq > first);
    tenv_close(&t, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_group_commit),
        cmocka_unit_test(test_async_and_shutdown),
        cmocka_unit_test(test_submit_many),
        cmocka_unit_test(test_map_growth),
        cmocka_unit_test(test_map_limit),
        cmocka_unit_test(test_reqid_prune),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
