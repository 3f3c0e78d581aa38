/* test_store_crash.c: durability of the group-commit writer. A child process
 * posts from several threads with the durable (fsync) setting and reports
 * every acknowledged post through a pipe while another thread holds a read
 * transaction open; the parent kill -9s it mid-load, reopens the
 * environment and checks: every acknowledged post is there exactly once,
 * the dead reader slot was cleared, and retrying acknowledged request ids
 * applies nothing twice. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "store_internal.h"
#include "test_store_util.h"

#define WRITERS 4
#define MAX_PER 5000

typedef struct ack {
    uint16_t thread;
    uint16_t i;
} ack;

typedef struct child_arg {
    tenv *t;
    int fd;
    int id;
} child_arg;

static void make_reqid(store_wop *op, int thread, int i)
{
    memset(op->reqid, 0, sizeof op->reqid);
    op->reqid[0] = 0xc0;
    op->reqid[1] = (uint8_t)thread;
    op->reqid[2] = (uint8_t)(i >> 8);
    op->reqid[3] = (uint8_t)i;
}

static void *child_writer(void *arg)
{
    child_arg *c = arg;
    char text[32];
    for (int i = 0; i < MAX_PER; i++) {
        store_wop op = {.kind = STORE_OP_POST};
        snprintf(text, sizeof text, "p%d-%d", c->id, i);
        make_reqid(&op, c->id, i);
        op.token = store_s("Tcrash");
        op.text = store_s(text);
        if (store_writer_submit_wait(c->t->w, &op) != STORE_OK)
            _exit(3);
        ack a = {(uint16_t)c->id, (uint16_t)i};
        if (write(c->fd, &a, sizeof a) !=
            (ssize_t)sizeof a) /* atomic < PIPE_BUF */
            _exit(4);
    }
    return NULL;
}

static void child_main(tenv *t, int fd)
{
    store_opts o = {0}; /* durable */
    if (tenv_open(t, &o) || reg_login(t, "crash") || reg_login(t, "reader") ||
        wr(t, STORE_OP_INVITE, "Tcrash", "reader", NULL) ||
        wr(t, STORE_OP_ACCEPT, "Treader", "crash", NULL))
        _exit(2);
    /* a read txn that is never ended: its slot must be found stale */
    MDB_txn *rd;
    if (mdb_txn_begin(store_db_env(t->db), NULL, MDB_RDONLY, &rd))
        _exit(2);
    ack ready = {0xffff, 0xffff};
    if (write(fd, &ready, sizeof ready) != (ssize_t)sizeof ready)
        _exit(2);
    pthread_t th[WRITERS];
    static child_arg ca[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        ca[i] = (child_arg){t, fd, i};
        pthread_create(&th[i], NULL, child_writer, &ca[i]);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    _exit(0); /* bounded even if never killed */
}

/* Opens the environment, says so, and keeps it open until EOF on hold. */
static void holder_main(const char *dir, int hold[2], int ready[2])
{
    store_db *db;
    char c = 1;
    close(hold[1]);
    close(ready[0]);
    if (store_db_open(dir, NULL, &db))
        _exit(2);
    if (write(ready[1], &c, 1) != 1)
        _exit(2);
    while (read(hold[0], &c, 1) > 0)
        ;
    store_db_close(db);
    _exit(0);
}

/* Reads one ack, waiting at most @ms. Returns 1, 0 at EOF/timeout. */
static int read_ack(int fd, ack *a, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return 0;
    return read(fd, a, sizeof *a) == (ssize_t)sizeof *a;
}

static void test_kill9_durability(void **state)
{
    static uint8_t acked[WRITERS][MAX_PER];
    static uint16_t seen[WRITERS][MAX_PER];
    tenv t = {0};
    int fds[2];
    strcpy(t.dir, "/tmp/sb-store-crash-XXXXXX");
    assert_non_null(mkdtemp(t.dir));
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_main(&t, fds[1]);
    }
    close(fds[1]);
    ack a;
    assert_int_equal(read_ack(fds[0], &a, 20000), 1);
    assert_int_equal(a.thread, 0xffff);
    int n = 0;
    while (n < 300 && read_ack(fds[0], &a, 20000)) {
        assert_true(a.thread < WRITERS && a.i < MAX_PER);
        acked[a.thread][a.i] = 1;
        n++;
    }
    assert_int_equal(n, 300);
    /* A second process keeps the environment open across the crash: the
     * first opener resets LMDB's reader table anyway, so only with another
     * user alive does the dead reader's slot have to be found stale. */
    int hold[2], hold_ready[2];
    assert_int_equal(pipe(hold), 0);
    assert_int_equal(pipe(hold_ready), 0);
    pid_t holder = fork();
    assert_true(holder >= 0);
    if (holder == 0)
        holder_main(t.dir, hold, hold_ready);
    close(hold[0]);
    close(hold_ready[1]);
    char c;
    assert_int_equal(read(hold_ready[0], &c, 1), 1);
    close(hold_ready[0]);
    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    while (read_ack(fds[0], &a, 1000)) { /* acks written before the kill */
        acked[a.thread][a.i] = 1;
        n++;
    }
    close(fds[0]);

    store_opts o = {0};
    assert_int_equal(tenv_open(&t, &o), 0);
    assert_true(store_db_stale_readers(t.db) >= 1);
    close(hold[1]); /* the holder exits on EOF */
    assert_int_equal(waitpid(holder, &st, 0), holder);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    store_posts p;
    assert_int_equal(store_receive_post(t.db, store_s("Treader"), &p),
                     STORE_OK);
    for (size_t i = 0; i < p.n; i++) {
        int th, k;
        assert_int_equal(sscanf(p.v[i].text, "p%d-%d", &th, &k), 2);
        assert_true(th >= 0 && th < WRITERS && k >= 0 && k < MAX_PER);
        seen[th][k]++;
    }
    size_t before = p.n;
    store_posts_free(&p);
    int ok = 0;
    for (int th = 0; th < WRITERS; th++)
        for (int k = 0; k < MAX_PER; k++) {
            assert_true(seen[th][k] <= 1);
            if (acked[th][k]) {
                assert_int_equal(seen[th][k], 1);
                ok++;
            }
        }
    assert_int_equal(ok, n);
    print_message(
        "kill -9 after %d acknowledged posts: %zu on disk, all acked present\n",
        n, before);
    /* retries of acknowledged requests after the crash apply nothing */
    for (int th = 0; th < WRITERS; th++)
        for (int k = 0; k < 50; k++) {
            if (!acked[th][k])
                continue;
            store_wop op = {.kind = STORE_OP_POST};
            make_reqid(&op, th, k);
            op.token = store_s("Tcrash");
            op.text = store_s("retry");
            assert_int_equal(store_writer_submit_wait(t.w, &op), STORE_OK);
        }
    assert_int_equal(store_receive_post(t.db, store_s("Treader"), &p),
                     STORE_OK);
    assert_int_equal(p.n, before);
    store_posts_free(&p);
    tenv_close(&t, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_durability),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
