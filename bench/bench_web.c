/* bench_web.c: `sb-bench web`: the web role under load, as browsers use
 * it. A child sbd (every role, the web client on P+7); U users in a ring
 * of friendships, each with P pages (event streams) open: U x P live
 * connections. Measures (1) logins/s through the web role (a fresh
 * session and POST /api/login, as a page does), (2) sbd's memory per
 * idle stream (resident size before and after they open), (3) message
 * deliveries/s to the pages and their latency, from the send's start to
 * the event's arrival: S closed-loop senders POST /api/cmd send; one
 * epoll thread reads every stream; the pages acknowledge (POST /api/ack)
 * as the page does. Prints figures; never judges them. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_main.h"
#include "bench_util.h"
#include "rpc.h"
#include "sb_netutil.h"
#include "wc.h"

typedef struct wb {
    int port, users, pages, senders, seconds, logins;
    wc *us;
    hc_sse *es;
    _Atomic uint64_t *seen; /* per user: highest seq a page got */
    uint64_t *acked;
    atomic_int stop;      /* reader and acker */
    atomic_int send_stop; /* senders */
    pthread_mutex_t mu;
    bench_samples lat; /* send start -> arrival at a page, µs */
    uint64_t arrivals, sends, errors;
} wb;

static int expect(wc *c, const char *cmd, const char *arg, const char *want)
{
    const char *a[] = {arg};
    char *l = wc_cmd(c, cmd, 1, a);
    int ok = l != NULL && strcmp(l, want) == 0;

    if (!ok)
        fprintf(stderr, "sb-bench web: %s %s %s: %s\n", c->user, cmd, arg,
                l ? l : "(no answer)");
    free(l);
    return ok ? 0 : -1;
}

/* Users wu0..wuN-1, each the friend of the next. */
static int setup_users(wb *b)
{
    char name[16];

    for (int i = 0; i < b->users; i++) {
        snprintf(name, sizeof name, "wu%d", i);
        if (wc_join(&b->us[i], b->port, name, "pw") != 0) {
            fprintf(stderr, "sb-bench web: cannot register %s\n", name);
            return -1;
        }
    }
    for (int i = 0; i < b->users && b->users > 1; i++) {
        wc *a = &b->us[i], *n = &b->us[(i + 1) % b->users];
        if (b->users == 2 && i == 1)
            break;
        if (expect(a, "invite", n->user, "Success!") != 0 ||
            expect(n, "accept-invite", a->user, "Success!") != 0)
            return -1;
    }
    return 0;
}

typedef struct lworker {
    wb *b;
    int from, n;
    bench_samples lat;
    uint64_t ok, errors;
} lworker;

static void *login_worker(void *arg)
{
    lworker *w = arg;
    char body[160];

    for (int k = 0; k < w->n; k++) {
        wc c;
        int st;
        const char *name = w->b->us[(w->from + k) % w->b->users].user;
        int64_t t0 = rpc_now_mono_us();
        snprintf(body, sizeof body, "{\"name\":\"%s\",\"password\":\"pw\"}",
                 name);
        json_t *j = wc_open(&c, w->b->port) == 0
                        ? wc_post(&c, "/api/login", body, NULL, &st)
                        : NULL;
        if (json_is_true(json_object_get(j, "ok"))) {
            w->ok++;
            bench_samples_add(&w->lat, rpc_now_mono_us() - t0);
        } else {
            w->errors++;
        }
        json_decref(j);
    }
    return NULL;
}

static void bench_logins(wb *b, int json)
{
    enum { THREADS = 8 };
    lworker w[THREADS];
    pthread_t t[THREADS];
    bench_samples lat = {0};
    bench_result r = {.name = "web login (GET /api/session + POST /api/login)"};
    int64_t t0 = rpc_now_mono_us();

    for (int i = 0; i < THREADS; i++) {
        w[i] = (lworker){b, i * 7, b->logins / THREADS, {0}, 0, 0};
        pthread_create(&t[i], NULL, login_worker, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        r.calls += w[i].ok;
        r.errors += w[i].errors;
        bench_samples_merge(&lat, &w[i].lat);
    }
    r.seconds = (double)(rpc_now_mono_us() - t0) / 1e6;
    r.calls_per_s = (double)r.calls / r.seconds;
    bench_result_fill(&r, &lat);
    bench_result_print(&r, json);
    bench_samples_free(&lat);
}

static int es_fd(void *arg, int i)
{
    return ((hc_sse *)arg)[i].fd;
}

/* One event: a delivery timed by its "t<µs>" text. */
static void on_event(wb *b, int page, const char *ev, int64_t now)
{
    const char *data = strstr(ev, "event: delivery\ndata: ");
    json_t *d = data ? json_loads(data + 22, 0, NULL) : NULL;
    long long t;
    int u = page % b->users;

    if (d == NULL)
        return;
    const char *text = json_string_value(json_object_get(d, "text"));
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(d, "seq"));
    if (text != NULL && sscanf(text, "t%lld", &t) == 1) {
        pthread_mutex_lock(&b->mu);
        b->arrivals++;
        bench_samples_add(&b->lat, now - t);
        pthread_mutex_unlock(&b->mu);
    }
    if (seq > atomic_load(&b->seen[u]))
        atomic_store(&b->seen[u], seq);
    json_decref(d);
}

static void *reader(void *arg)
{
    wb *b = arg;
    int n = b->users * b->pages;
    int ep = bench_epoll_open(es_fd, b->es, n);
    struct epoll_event evs[256];

    while (ep >= 0 && !atomic_load(&b->stop)) {
        int k = epoll_wait(ep, evs, 256, 100);
        int64_t now = rpc_now_mono_us();
        for (int i = 0; i < k; i++) {
            hc_sse *s = &b->es[evs[i].data.u32];
            char *ev;
            hc_sse_pump(s);
            while ((ev = hc_sse_next(s)) != NULL) {
                on_event(b, (int)evs[i].data.u32, ev, now);
                free(ev);
            }
        }
    }
    if (ep >= 0)
        close(ep);
    return NULL;
}

/* The pages' acknowledgements, every 50 ms, as the page sends them. */
static void *acker(void *arg)
{
    wb *b = arg;

    while (!atomic_load(&b->stop)) {
        for (int u = 0; u < b->users; u++) {
            uint64_t s = atomic_load(&b->seen[u]);
            char body[48];
            int st;
            if (s <= b->acked[u])
                continue;
            snprintf(body, sizeof body, "{\"seq\":%" PRIu64 "}", s);
            json_decref(wc_post(&b->us[u], "/api/ack", body, NULL, &st));
            b->acked[u] = s;
        }
        bench_sleep_ms(50);
    }
    return NULL;
}

typedef struct sworker {
    wb *b;
    int t;
    bench_samples lat;
    uint64_t sends, errors;
} sworker;

static void *sender(void *arg)
{
    sworker *w = arg;
    wb *b = w->b;
    char text[32];

    for (int k = w->t; !atomic_load(&b->send_stop); k += b->senders) {
        int u = k % b->users;
        const char *a[2] = {b->us[(u + 1) % b->users].user, text};
        int64_t t0 = rpc_now_mono_us();
        snprintf(text, sizeof text, "t%lld", (long long)t0);
        char *l = wc_cmd(&b->us[u], "send", 2, a);
        if (l != NULL && strcmp(l, "Success!") == 0) {
            w->sends++;
            bench_samples_add(&w->lat, rpc_now_mono_us() - t0);
        } else if (w->errors++ == 0) {
            fprintf(stderr, "sb-bench web: send: %s\n", l ? l : "no answer");
        }
        free(l);
    }
    return NULL;
}

static void bench_deliveries(wb *b, int json)
{
    pthread_t rt, at, *st = calloc((size_t)b->senders, sizeof *st);
    sworker *sw = calloc((size_t)b->senders, sizeof *sw);
    bench_samples slat = {0};
    int64_t t0;

    pthread_create(&rt, NULL, reader, b);
    pthread_create(&at, NULL, acker, b);
    t0 = rpc_now_mono_us();
    for (int i = 0; i < b->senders; i++) {
        sw[i] = (sworker){b, i, {0}, 0, 0};
        pthread_create(&st[i], NULL, sender, &sw[i]);
    }
    bench_sleep_ms(b->seconds * 1000);
    atomic_store(&b->send_stop, 1);
    double secs = (double)(rpc_now_mono_us() - t0) / 1e6;
    for (int i = 0; i < b->senders; i++) {
        pthread_join(st[i], NULL);
        b->sends += sw[i].sends;
        b->errors += sw[i].errors;
        bench_samples_merge(&slat, &sw[i].lat);
    }
    bench_sleep_ms(2000); /* the tail: the reader goes on 2 s */
    atomic_store(&b->stop, 1);
    pthread_join(rt, NULL);
    pthread_join(at, NULL);
    uint64_t want = b->sends * (uint64_t)b->pages;
    bench_result sr = {.name = "web send (POST /api/cmd)",
                       .seconds = secs,
                       .calls = b->sends,
                       .errors = b->errors,
                       .calls_per_s = (double)b->sends / secs};
    bench_result dr = {.name = "delivery to a page (send -> event)",
                       .seconds = secs,
                       .calls = b->arrivals,
                       .errors = want > b->arrivals ? want - b->arrivals : 0,
                       .calls_per_s = (double)b->arrivals / secs};
    bench_result_fill(&sr, &slat);
    bench_result_fill(&dr, &b->lat);
    bench_result_print(&sr, json);
    bench_result_print(&dr, json);
    int ended = 0;
    for (int i = 0; i < b->users * b->pages; i++)
        ended += hc_sse_pump(&b->es[i]) < 0 || b->es[i].closed;
    if (!json)
        printf("deliveries: %" PRIu64 " page arrivals of %" PRIu64
               " expected (sends x %d pages a user); %d streams ended\n",
               b->arrivals, want, b->pages, ended);
    bench_samples_free(&slat);
    free(st);
    free(sw);
}

/* Opens every page's stream; 0 when all said hello within 60 s. */
static int open_pages(wb *b)
{
    int n = b->users * b->pages, have = 0;
    int64_t end = rpc_now_mono_ms() + 60000;

    for (int i = 0; i < n; i++)
        if (hc_sse_open(&b->es[i], b->port, "/api/events",
                        b->us[i % b->users].cookie, NULL) != 0)
            return -1;
    while (have < n && rpc_now_mono_ms() < end) {
        have = 0;
        for (int i = 0; i < n; i++) {
            hc_sse_pump(&b->es[i]);
            have += b->es[i].ev != NULL &&
                    strstr(b->es[i].ev, "event: hello") != NULL;
        }
        bench_sleep_ms(20);
    }
    for (int i = 0; i < n; i++) /* the hellos taken */
        free(hc_sse_next(&b->es[i]));
    return have == n ? 0 : -1;
}

static int run(wb *b, pid_t pid, int json)
{
    int n = b->users * b->pages;
    long before, after;

    if (setup_users(b) != 0)
        return -1;
    bench_logins(b, json);
    before = sb_proc_kib(pid, "VmRSS");
    if (open_pages(b) != 0) {
        fprintf(stderr, "sb-bench web: not every page's stream opened\n");
        return -1;
    }
    bench_sleep_ms(1000);
    after = sb_proc_kib(pid, "VmRSS");
    if (json)
        printf("{\"name\":\"web idle stream memory\",\"streams\":%d,"
               "\"rss_before_kib\":%ld,\"rss_after_kib\":%ld,"
               "\"kib_per_stream\":%.1f}\n",
               n, before, after, (double)(after - before) / n);
    else
        printf("memory: sbd %ld KiB before, %ld KiB with %d idle streams: "
               "%.1f KiB a stream\n",
               before, after, n, (double)(after - before) / n);
    bench_deliveries(b, json);
    return 0;
}

static int parse(int argc, char **argv, wb *b, const char **sbd, int *json)
{
    long users = 50, pages = 10, senders = 4, seconds = 5, logins = 400;

    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--json") == 0) {
            *json = 1;
            continue;
        }
        if ((r = bench_flag_int(argc, argv, &i, "--users", 2, 1000, &users)) ==
                0 &&
            (r = bench_flag_int(argc, argv, &i, "--pages", 1, 32, &pages)) ==
                0 &&
            (r = bench_flag_int(argc, argv, &i, "--senders", 1, 64,
                                &senders)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--seconds", 1, 600,
                                &seconds)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--logins", 8, 100000,
                                &logins)) == 0 &&
            (r = bench_flag_str(argc, argv, &i, "--sbd", sbd)) == 0) {
            printf("usage: sb-bench web [--users U] [--pages P] [--senders S]"
                   "\n                    [--seconds N] [--logins L] [--sbd "
                   "PATH] [--json]\nU users with P pages (event streams) "
                   "each: U x P live connections (50 x 10)\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
        if (r < 0)
            return 2;
    }
    b->users = (int)users, b->pages = (int)pages;
    b->senders = (int)senders, b->seconds = (int)seconds;
    b->logins = (int)logins;
    return -1;
}

int bench_web_main(int argc, char **argv)
{
    wb b = {0};
    const char *sbd = NULL;
    char sbdbuf[512], dir[] = "/tmp/sb-bench-web.XXXXXX", cmd[300];
    int json = 0, rc = 1, port = 0, p;
    pid_t pid = -1;
    struct rlimit rl;

    if ((p = parse(argc, argv, &b, &sbd, &json)) >= 0)
        return p;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { /* every page is a socket */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (sbd == NULL) {
        bench_default_sbd(sbdbuf, sizeof sbdbuf);
        sbd = sbdbuf;
    }
    pthread_mutex_init(&b.mu, NULL);
    b.us = calloc((size_t)b.users, sizeof *b.us);
    b.es = calloc((size_t)(b.users * b.pages), sizeof *b.es);
    b.seen = calloc((size_t)b.users, sizeof *b.seen);
    b.acked = calloc((size_t)b.users, sizeof *b.acked);
    if (!mkdtemp(dir) || !b.us || !b.es || !b.seen || !b.acked)
        goto out;
    if ((pid = bench_start_sbd(sbd, dir, &port)) < 0) {
        fprintf(stderr, "sb-bench web: cannot start %s (log in %s)\n", sbd,
                dir);
        goto out;
    }
    b.port = port + 7;
    for (int i = 0; i < 100 && (p = hc_connect(b.port)) < 0; i++)
        bench_sleep_ms(100);
    if (p >= 0)
        close(p);
    if (!json)
        printf("sb-bench web: %d users x %d pages = %d streams, %d senders, "
               "%d s; child sbd %s, web client on 127.0.0.1:%d\n",
               b.users, b.pages, b.users * b.pages, b.senders, b.seconds, sbd,
               b.port);
    rc = run(&b, pid, json) == 0 ? 0 : 1;
out:
    for (int i = 0; b.es != NULL && i < b.users * b.pages; i++)
        if (b.es[i].fd > 0)
            hc_sse_close(&b.es[i]);
    if (pid > 0) {
        kill(-pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "sb-bench web: could not remove %s\n", dir);
    free(b.us);
    free(b.es);
    free(b.seen);
    free(b.acked);
    bench_samples_free(&b.lat);
    return rc;
}
