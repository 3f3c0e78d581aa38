/* test_store_proc.c: the store as its own process. Real `sbd store`,
 * `sbd bus` and `sbd app --store URL` children on 127.0.0.1 (real LMDB,
 * real nng): kill -9 the store during a load of posts and sends through
 * the app server, restart it on the same data: every write that got OK is
 * there exactly once. The app's token cache: a token logged out at the
 * store is refused at once even while cached; an "auth" event on the bus
 * drops the cached token. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "app_service.h"
#include "events.pb-c.h"
#include "rpc_bus.h"
#include "social.sb.h"
#include "store_conn.h"
#include "test_social_proc.h"

#define PAIRS 6
#define MAXW 4000

typedef struct world {
    tsp_sbd t; /* temp dir and a free range of 7 ports from t.port */
    pid_t store, bus, app, draw;
    char store_url[64], app_url[64], bus_in[64], bus_out[64], port[16];
    store_conn *sc;
} world;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts `sbd ARGS...` in its own process group, stderr to dir/NAME.log. */
static pid_t spawn(world *w, const char *name, const char *const *args)
{
    const char *bin = getenv("SB_BIN_DIR");
    char path[512], log[400];
    const char *argv[24] = {path};
    pid_t parent = getpid(), pid;
    int n = 1;

    snprintf(path, sizeof path, "%s/sbd", bin ? bin : "bin");
    snprintf(log, sizeof log, "%s/%s.log", w->t.dir, name);
    for (; args[n - 1] != NULL && n < 23; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent || !freopen(log, "a", stderr))
            _exit(127);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    assert_true(pid > 0);
    setpgid(pid, pid);
    return pid;
}

/* Waits until sb.health answers on url (at most 20 s). */
static void wait_up(pid_t pid, const char *url)
{
    store_conn *c;
    store_session s;

    assert_int_equal(store_conn_remote(url, 300, &c), 0);
    for (int i = 0; i < 100; i++) {
        int wst;
        assert_int_not_equal(waitpid(pid, &wst, WNOHANG), pid);
        /* any answer from the store means it serves; for others, the
         * port accepting is enough: whoami gets UNIMPLEMENTED there */
        if (store_conn_whoami(c, store_s("probe"), &s) != STORE_ERR_UNAVAILABLE)
            break;
        sleep_ms(200);
    }
    store_conn_close(c);
}

static void stop(pid_t *pid, int sig)
{
    int wst;

    if (*pid <= 0)
        return;
    kill(-*pid, sig);
    for (int i = 0; i < 100 && waitpid(*pid, &wst, WNOHANG) != *pid; i++)
        sleep_ms(100);
    kill(-*pid, SIGKILL);
    waitpid(*pid, &wst, WNOHANG);
    *pid = 0;
}

static void start_store(world *w)
{
    const char *a[] = {"store",       "--data-dir", w->t.data,
                       "--base-port", w->port,      NULL};
    w->store = spawn(w, "store", a);
    wait_up(w->store, w->store_url);
}

/* The store, the bus and an app server over them; with_draw adds `sbd
 * draw` on P+1 and points the app server at it. */
static void start_world(world *w, int with_draw)
{
    char draw_url[64];

    memset(w, 0, sizeof *w);
    assert_int_equal(tsp_init(&w->t), 0);
    snprintf(w->port, sizeof w->port, "%d", w->t.port);
    snprintf(w->store_url, sizeof w->store_url, "tcp://127.0.0.1:%d",
             w->t.port + 3);
    snprintf(w->app_url, sizeof w->app_url, "tcp://127.0.0.1:%d", w->t.port);
    snprintf(w->bus_in, sizeof w->bus_in, "tcp://127.0.0.1:%d", w->t.port + 4);
    snprintf(w->bus_out, sizeof w->bus_out, "tcp://127.0.0.1:%d",
             w->t.port + 5);
    start_store(w);
    const char *b[] = {"bus",    "--base-port", w->port,
                       "--host", "127.0.0.1",   NULL};
    w->bus = spawn(w, "bus", b);
    snprintf(draw_url, sizeof draw_url, "tcp://127.0.0.1:%d", w->t.port + 1);
    if (with_draw) {
        const char *d[] = {"draw",  "--data-dir", w->t.data,   "--base-port",
                           w->port, "--host",     "127.0.0.1", NULL};
        w->draw = spawn(w, "draw", d);
        wait_up(w->draw, draw_url);
    }
    const char *a[] = {"app",        "--base-port",
                       w->port,      "--host",
                       "127.0.0.1",  "--store",
                       w->store_url, "--listen",
                       w->app_url,   "--id",
                       "app-t",      "--advertise",
                       "127.0.0.1",  with_draw ? "--draw" : NULL,
                       draw_url,     NULL};
    w->app = spawn(w, "app", a);
    wait_up(w->app, w->app_url);
    assert_int_equal(store_conn_remote(w->store_url, 5000, &w->sc), 0);
}

static void stop_world(world *w)
{
    store_conn_close(w->sc);
    stop(&w->app, SIGTERM);
    stop(&w->bus, SIGTERM);
    stop(&w->draw, SIGTERM);
    stop(&w->store, SIGTERM);
    tsp_cleanup(&w->t);
}

static void wr(world *w, store_op_kind k, const char *token, const char *name,
               const char *text)
{
    store_wop op = {.kind = k,
                    .token = store_s(token),
                    .name = store_s(name),
                    .text = store_s(text)};
    if (k == STORE_OP_SET_SERVER) {
        op.server = store_s("app-t");
        op.text = store_s(w->app_url);
    }
    assert_int_equal(store_conn_write_wait(w->sc, &op), STORE_OK);
}

/* Registers and logs in @name with token "T@name", placed on app-t. */
static void user(world *w, const char *name)
{
    char tok[64];
    snprintf(tok, sizeof tok, "T%s", name);
    wr(w, STORE_OP_REGISTER, NULL, name, "hash");
    wr(w, STORE_OP_LOGIN, tok, name, NULL);
    wr(w, STORE_OP_SET_SERVER, tok, NULL, NULL);
}

/* ---- kill -9 the store under load ------------------------------------- */

typedef struct loader {
    world *w;
    rpc_client *c;
    int id;
    volatile int *stop;
    int nposts, nsends, fails;
    int posts[MAXW], sends[MAXW]; /* k of every OK'd "p-id-k" / "s-id-k" */
} loader;

static void *load_main(void *arg)
{
    loader *l = arg;
    char tok[32], to[32], text[64];

    snprintf(tok, sizeof tok, "Tu%d", l->id);
    snprintf(to, sizeof to, "v%d", l->id);
    rpc_opts o = {.timeout_ms = 8000, .token = tok};
    for (int k = 0; !*l->stop && k < MAXW; k++) {
        rpc_status st;
        Sb__Social__Empty *r = NULL;
        if (k % 2 == 0) {
            Sb__Social__PostRequest q = SB__SOCIAL__POST_REQUEST__INIT;
            snprintf(text, sizeof text, "p-%d-%d", l->id, k);
            q.text = text;
            if (sb_social_App_Post(l->c, &q, &r, &o, &st) == RPC_OK)
                l->posts[l->nposts++] = k;
            else
                l->fails++;
        } else {
            Sb__Social__SendRequest q = SB__SOCIAL__SEND_REQUEST__INIT;
            snprintf(text, sizeof text, "s-%d-%d", l->id, k);
            q.to = to;
            q.text = text;
            if (sb_social_App_Send(l->c, &q, &r, &o, &st) == RPC_OK)
                l->sends[l->nsends++] = k;
            else
                l->fails++;
        }
        sb_social_App_free(r);
    }
    return NULL;
}

/* How often "X-id-k" appears in @texts for each k (counts[k]). */
static void tally(char **texts, size_t n, char kind, int id, int *counts)
{
    for (size_t i = 0; i < n; i++) {
        char c;
        int tid, k;
        if (sscanf(texts[i], "%c-%d-%d", &c, &tid, &k) == 3 && c == kind &&
            tid == id && k >= 0 && k < MAXW)
            counts[k]++;
    }
}

static void check_pair(world *w, loader *l)
{
    static int counts[MAXW];
    char tok[32];
    store_posts p = {0};
    char **texts;

    snprintf(tok, sizeof tok, "Tv%d", l->id);
    /* posts: v sees its friend u's posts */
    assert_int_equal(store_conn_receive_post(w->sc, store_s(tok), &p),
                     STORE_OK);
    texts = calloc(p.n + 1, sizeof *texts);
    for (size_t i = 0; i < p.n; i++)
        texts[i] = p.v[i].text;
    memset(counts, 0, sizeof counts);
    tally(texts, p.n, 'p', l->id, counts);
    for (int k = 0; k < MAXW; k++)
        assert_true(counts[k] <= 1); /* nothing twice */
    for (int i = 0; i < l->nposts; i++)
        assert_int_equal(counts[l->posts[i]], 1); /* every OK there */
    free(texts);
    store_posts_free(&p);
    /* sends: v's mailbox, read in pages */
    memset(counts, 0, sizeof counts);
    uint64_t after = 0;
    for (;;) {
        store_mails m = {0};
        assert_int_equal(
            store_conn_mail_fetch(w->sc, store_s(tok), after, 500, &m),
            STORE_OK);
        if (m.n == 0)
            break;
        texts = calloc(m.n, sizeof *texts);
        for (size_t i = 0; i < m.n; i++)
            texts[i] = m.v[i].text;
        tally(texts, m.n, 's', l->id, counts);
        after = m.v[m.n - 1].seq;
        free(texts);
        store_mails_free(&m);
    }
    for (int k = 0; k < MAXW; k++)
        assert_true(counts[k] <= 1);
    for (int i = 0; i < l->nsends; i++)
        assert_int_equal(counts[l->sends[i]], 1);
}

static int total_ok(loader *l)
{
    int n = 0;
    for (int i = 0; i < PAIRS; i++)
        n += l[i].nposts + l[i].nsends;
    return n;
}

static void test_kill9_store_under_load(void **state)
{
    static world w;
    static loader l[PAIRS];
    pthread_t th[PAIRS];
    volatile int stopflag = 0;
    rpc_client *c;
    char u[16], v[16], tu[16];
    int wst;

    (void)state;
    start_world(&w, 0);
    for (int i = 0; i < PAIRS; i++) {
        snprintf(u, sizeof u, "u%d", i);
        snprintf(v, sizeof v, "v%d", i);
        snprintf(tu, sizeof tu, "Tu%d", i);
        user(&w, u);
        user(&w, v);
        wr(&w, STORE_OP_INVITE, tu, v, NULL);
        snprintf(tu, sizeof tu, "Tv%d", i);
        wr(&w, STORE_OP_ACCEPT, tu, u, NULL);
    }
    rpc_client_config cc = {.max_retries = 8};
    assert_int_equal(rpc_client_open(&c, w.app_url, &cc), 0);
    for (int i = 0; i < PAIRS; i++) {
        l[i] = (loader){.w = &w, .c = c, .id = i, .stop = &stopflag};
        assert_int_equal(pthread_create(&th[i], NULL, load_main, &l[i]), 0);
    }
    sleep_ms(1000);
    int before = total_ok(l);
    kill(-w.store, SIGKILL);
    assert_int_equal(waitpid(w.store, &wst, 0), w.store);
    assert_true(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);
    sleep_ms(300);
    start_store(&w);
    int at_restart = total_ok(l);
    sleep_ms(1500);
    stopflag = 1;
    for (int i = 0; i < PAIRS; i++)
        pthread_join(th[i], NULL);
    int fails = 0;
    for (int i = 0; i < PAIRS; i++)
        fails += l[i].fails;
    print_message("OK before kill %d, at restart %d, at end %d; failed %d\n",
                  before, at_restart, total_ok(l), fails);
    assert_true(before > 0);
    assert_true(total_ok(l) > at_restart); /* the app recovered */
    for (int i = 0; i < PAIRS; i++)
        check_pair(&w, &l[i]);
    rpc_client_close(c);
    stop_world(&w);
}

/* ---- the token cache ------------------------------------------------------
 */

static int app_call(rpc_client *c, const char *token, char *msg, size_t n)
{
    Sb__Social__Empty e = SB__SOCIAL__EMPTY__INIT;
    Sb__Social__NameList *r = NULL;
    rpc_opts o = {.timeout_ms = 5000, .token = token};
    rpc_status st;
    int code = sb_social_App_ListFriend(c, &e, &r, &o, &st);

    snprintf(msg, n, "%s", st.message);
    sb_social_App_free(r);
    return code;
}

static int app_post(rpc_client *c, const char *token, char *msg, size_t n)
{
    Sb__Social__PostRequest q = SB__SOCIAL__POST_REQUEST__INIT;
    Sb__Social__Empty *r = NULL;
    rpc_opts o = {.timeout_ms = 5000, .token = token};
    rpc_status st;
    int code;

    q.text = "after logout";
    code = sb_social_App_Post(c, &q, &r, &o, &st);
    snprintf(msg, n, "%s", st.message);
    sb_social_App_free(r);
    return code;
}

static int app_draw(rpc_client *c, const char *token, char *msg, size_t n)
{
    Sb__Social__DrawRequest q = SB__SOCIAL__DRAW_REQUEST__INIT;
    Sb__Social__DrawReply *r = NULL;
    rpc_opts o = {.timeout_ms = 5000, .token = token};
    rpc_status st;
    int code;

    q.count = 1;
    code = sb_social_App_Draw(c, &q, &r, &o, &st);
    snprintf(msg, n, "%s", st.message);
    if (code == RPC_OK)
        assert_int_equal(r->n_numbers, 1);
    sb_social_App_free(r);
    return code;
}

/* A logout at the store wins at once, cache or not: the store checks the
 * token inside every read and write, and Draw (whose action never passes
 * the token through the store) checks it without the cache. */
static void test_logged_out_token_refused_while_cached(void **state)
{
    static world w;
    rpc_client *c;
    char msg[256];

    (void)state;
    start_world(&w, 1);
    user(&w, "kim");
    assert_int_equal(rpc_client_open(&c, w.app_url, NULL), 0);
    assert_int_equal(app_call(c, "Tkim", msg, sizeof msg), RPC_OK); /* cached */
    assert_int_equal(app_call(c, "Tkim", msg, sizeof msg), RPC_OK);
    assert_int_equal(app_draw(c, "Tkim", msg, sizeof msg), RPC_OK);
    wr(&w, STORE_OP_LOGOUT, "Tkim", NULL, NULL); /* no auth event sent */
    assert_int_equal(app_post(c, "Tkim", msg, sizeof msg), RPC_UNAUTHENTICATED);
    assert_string_equal(msg, "Not login yet");
    assert_int_equal(app_call(c, "Tkim", msg, sizeof msg), RPC_UNAUTHENTICATED);
    assert_string_equal(msg, "Not login yet");
    assert_int_equal(app_draw(c, "Tkim", msg, sizeof msg), RPC_UNAUTHENTICATED);
    assert_string_equal(msg, "Not login yet");
    rpc_client_close(c);
    stop_world(&w);
}

/* In process (to read the cache's counters), over the same real store and
 * bus processes: a cached token is a hit; an "auth" event drops it. */
static void test_auth_event_drops_cached_token(void **state)
{
    static world w;
    app_server *a;
    rpc_client *c;
    rpc_bus_pub *pub;
    char msg[256];
    uint64_t hits, misses, drops;

    (void)state;
    start_world(&w, 0);
    app_config cfg = {.id = "app-t",
                      .listen_url = "tcp://127.0.0.1:0",
                      .bus_in = w.bus_in,
                      .bus_out = w.bus_out,
                      .store_url = w.store_url};
    assert_int_equal(app_server_start(&cfg, &a), 0);
    user(&w, "lee");
    assert_int_equal(rpc_client_open(&c, app_server_url(a), NULL), 0);
    assert_int_equal(app_call(c, "Tlee", msg, sizeof msg), RPC_OK);
    assert_int_equal(app_call(c, "Tlee", msg, sizeof msg), RPC_OK);
    app_server_cache_stats(a, &hits, &misses, &drops);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1);
    assert_int_equal(drops, 0);
    /* what login does on logout: the store op, then the event */
    wr(&w, STORE_OP_LOGOUT, "Tlee", NULL, NULL);
    assert_int_equal(rpc_bus_pub_open(&pub, w.bus_in, "login"), 0);
    Sb__Events__AuthEvent ev = SB__EVENTS__AUTH_EVENT__INIT;
    ev.user = "lee";
    ev.token = "Tlee";
    for (int i = 0; i < 100 && drops == 0; i++) { /* pub/sub joins lazily */
        assert_int_equal(rpc_bus_publish(pub, "auth", &ev.base), 0);
        sleep_ms(50);
        app_server_cache_stats(a, &hits, &misses, &drops);
    }
    assert_true(drops >= 1);
    assert_int_equal(app_call(c, "Tlee", msg, sizeof msg), RPC_UNAUTHENTICATED);
    assert_string_equal(msg, "Not login yet");
    app_server_cache_stats(a, &hits, &misses, &drops);
    assert_int_equal(hits, 1); /* the refused call was a miss */
    rpc_bus_pub_close(pub);
    rpc_client_close(c);
    app_server_stop(a);
    stop_world(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_store_under_load),
        cmocka_unit_test(test_logged_out_token_refused_while_cached),
        cmocka_unit_test(test_auth_event_drops_cached_token),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
