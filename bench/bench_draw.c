/* bench_draw.c: `sb-bench draw`. C closed-loop clients (one connection and
 * one Draw in flight each, driven by async callbacks like `sb-bench rpc`)
 * draw from a draw server (--draw URL, or one started in process on
 * 127.0.0.1 with a temp dir) for S seconds or R calls. Every number
 * received is checked against a bitmap of 1..N: a repeat or a number out
 * of range fails the run, naming the number. --vs-redis then runs the same
 * shape as INCRBY against redis-server (bench_draw_redis.c), without
 * persistence and with appendfsync always, and prints the ratios. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_draw.h"
#include "bench_wire.h"
#include "draw.sb.h"
#include "draw_service.h"

typedef struct dload {
    draw_shape sh;
    int64_t end_us;
    atomic_llong issued;
    uint32_t size;
    _Atomic uint64_t *seen; /* bit n-1 set once n was received */
    atomic_ullong numbers;
    atomic_uint dup, out_of_range; /* first offender, 0 = none */
    atomic_int stop;               /* exhausted or a failed check */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int active;
    uint64_t calls, errors;
    atomic_ullong calls_live; /* for the progress line */
    bench_samples all;
    char first_error[300];
} dload;

typedef struct dclient {
    dload *l;
    rpc_client *c;
    int64_t t0;
    bench_samples s;
    uint64_t calls, errors;
} dclient;

void bench_draw_progress(const char *what, int64_t start_us, uint64_t calls)
{
    double t = (double)(rpc_now_mono_us() - start_us) / 1e6;
    fprintf(stderr, "%s: %5.1f s  %llu calls  %.0f calls/s\n", what, t,
            (unsigned long long)calls, t > 0 ? (double)calls / t : 0);
}

static void client_finished(dclient *dc)
{
    dload *l = dc->l;
    pthread_mutex_lock(&l->mu);
    bench_samples_merge(&l->all, &dc->s);
    l->calls += dc->calls;
    l->errors += dc->errors;
    l->active--;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/* Marks each number seen; the first repeat or out-of-range one stops the
 * run. Lock-free: clients check concurrently from nng's threads. */
static void check_numbers(dload *l, const uint32_t *nums, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t v = nums[i], zero = 0;
        if (v == 0 || v > l->size) {
            atomic_compare_exchange_strong(&l->out_of_range, &zero,
                                           v == 0 ? UINT32_MAX : v);
            atomic_store(&l->stop, 1);
            continue;
        }
        uint64_t bit = 1ull << ((v - 1) % 64);
        if (atomic_fetch_or(&l->seen[(v - 1) / 64], bit) & bit) {
            atomic_compare_exchange_strong(&l->dup, &zero, v);
            atomic_store(&l->stop, 1);
        }
    }
    atomic_fetch_add(&l->numbers, n);
}

static void note_error(dload *l, const rpc_status *st)
{
    pthread_mutex_lock(&l->mu);
    if (l->first_error[0] == '\0')
        snprintf(l->first_error, sizeof l->first_error, "%s: %s",
                 rpc_code_name(st->code), st->message);
    pthread_mutex_unlock(&l->mu);
}

static void issue(dclient *dc);

/* The wire client's state: one thread, so plain fields suffice. */
typedef struct wload {
    dload *l;
    bench_wire *w;
    int64_t *t0; /* send time per connection */
} wload;

static void wire_issue(wload *wl, int conn, int64_t now);

static void draw_done(void *arg, const rpc_status *st, Sb__Draw__DrawReply *rep)
{
    dclient *dc = arg;
    dload *l = dc->l;
    int64_t now = rpc_now_mono_us();

    if (st->code == RPC_OK && rep != NULL && rep->n_numbers == l->sh.count) {
        dc->calls++;
        atomic_fetch_add(&l->calls_live, 1);
        bench_samples_add(&dc->s, now - dc->t0);
        check_numbers(l, rep->numbers, rep->n_numbers);
    } else {
        dc->errors++;
        note_error(l, st);
        if (st->code == RPC_RESOURCE_EXHAUSTED)
            atomic_store(&l->stop, 1);
    }
    sb_draw_Draw_free(rep);
    if (st->code != RPC_OK) /* a failing client stops: no busy error loop */
        client_finished(dc);
    else
        issue(dc);
}

static void issue(dclient *dc)
{
    dload *l = dc->l;
    Sb__Draw__DrawRequest req = SB__DRAW__DRAW_REQUEST__INIT;
    int64_t now = rpc_now_mono_us();

    if (atomic_load(&l->stop) ||
        (l->sh.requests > 0 ? atomic_fetch_add(&l->issued, 1) >= l->sh.requests
                            : now >= l->end_us)) {
        client_finished(dc);
        return;
    }
    req.count = l->sh.count;
    dc->t0 = now;
    if (sb_draw_Draw_Draw_async(dc->c, &req, draw_done, dc, NULL) != 0) {
        dc->errors++;
        client_finished(dc);
    }
}

/* Waits for every client, printing progress once a second. */
static void wait_clients(dload *l, int64_t start)
{
    pthread_mutex_lock(&l->mu);
    while (l->active > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) != 0 && l->active > 0)
            bench_draw_progress("draw", start, atomic_load(&l->calls_live));
    }
    pthread_mutex_unlock(&l->mu);
}

static int pool_size_of(const char *url, uint32_t *size)
{
    rpc_client *c;
    Sb__Draw__StatusRequest req = SB__DRAW__STATUS_REQUEST__INIT;
    Sb__Draw__StatusReply *rep = NULL;
    rpc_status st;

    if (rpc_client_open(&c, url, NULL) != 0)
        return -1;
    int rv = sb_draw_Draw_Status(c, &req, &rep, NULL, &st);
    if (rv == RPC_OK) {
        *size = rep->size;
        bench_progress("pool %s at %s: size %u, %u left", rep->fingerprint, url,
                       rep->size, rep->remaining);
    } else {
        fprintf(stderr, "sb-bench draw: Status on %s: %s\n", url, st.message);
    }
    sb_draw_Draw_free(rep);
    rpc_client_close(c);
    return rv == RPC_OK ? 0 : -1;
}

/* The wire client's reply handler: check, record, send the next call. */
static void wire_reply(void *arg, int conn, const Sb__Rpc__Reply *rep)
{
    wload *wl = arg;
    dload *l = wl->l;
    int64_t now = rpc_now_mono_us();
    Sb__Draw__DrawReply *dr = NULL;

    if (rep->code == SB__RPC__CODE__OK &&
        (dr = sb__draw__draw_reply__unpack(NULL, rep->body.len,
                                           rep->body.data)) != NULL &&
        dr->n_numbers == l->sh.count) {
        l->calls++;
        atomic_fetch_add(&l->calls_live, 1);
        bench_samples_add(&l->all, now - wl->t0[conn]);
        check_numbers(l, dr->numbers, dr->n_numbers);
    } else {
        rpc_status st = {.code = (int)rep->code};
        snprintf(st.message, sizeof st.message, "%s",
                 rep->message != NULL && rep->message[0] ? rep->message
                                                         : "bad reply body");
        l->errors++;
        note_error(l, &st);
        atomic_store(&l->stop, 1);
    }
    if (dr != NULL)
        sb__draw__draw_reply__free_unpacked(dr, NULL);
    wire_issue(wl, conn, now);
}

static void wire_issue(wload *wl, int conn, int64_t now)
{
    dload *l = wl->l;
    uint8_t body[16];
    Sb__Draw__DrawRequest req = SB__DRAW__DRAW_REQUEST__INIT;

    if (atomic_load(&l->stop) ||
        (l->sh.requests > 0 ? atomic_fetch_add(&l->issued, 1) >= l->sh.requests
                            : now >= l->end_us))
        return;
    req.count = l->sh.count;
    size_t n = sb__draw__draw_request__pack(&req, body);
    wl->t0[conn] = now;
    if (bench_wire_send(wl->w, conn, "sb.draw.Draw/Draw", NULL, body, n) != 0)
        l->errors++;
}

/* The run with the wire client: every connection on this one thread. */
static int run_wire(const char *url, dload *l, int64_t *start)
{
    wload wl = {.l = l};
    int64_t next = 0;
    const char **urls = calloc((size_t)l->sh.clients, sizeof *urls);

    for (int i = 0; urls != NULL && i < l->sh.clients; i++)
        urls[i] = url;
    if (urls == NULL ||
        (wl.t0 = calloc((size_t)l->sh.clients, sizeof *wl.t0)) == NULL ||
        bench_wire_open(&wl.w, urls, l->sh.clients) != 0) {
        free(wl.t0);
        free(urls);
        return -1;
    }
    free(urls);
    *start = rpc_now_mono_us();
    l->end_us = *start + (int64_t)l->sh.seconds * 1000000;
    next = *start + 1000000;
    for (int i = 0; i < l->sh.clients; i++)
        wire_issue(&wl, i, rpc_now_mono_us());
    while (bench_wire_in_flight(wl.w) > 0) {
        if (bench_wire_poll(wl.w, 1000, wire_reply, &wl) < 0)
            break;
        if (rpc_now_mono_us() >= next) {
            bench_draw_progress("draw", *start, atomic_load(&l->calls_live));
            next += 1000000;
        }
    }
    l->errors += bench_wire_errors(wl.w);
    bench_wire_close(wl.w);
    free(wl.t0);
    return 0;
}

/* The run with nng clients, one connection and async callbacks each. */
static int run_nng(const char *url, dload *l, int64_t *start)
{
    dclient *dc = calloc((size_t)l->sh.clients, sizeof *dc);
    int rc = -1;

    if (dc == NULL)
        return -1;
    for (int i = 0; i < l->sh.clients; i++)
        if (rpc_client_open(&dc[i].c, url, NULL) != 0)
            goto out;
    l->active = l->sh.clients;
    *start = rpc_now_mono_us();
    l->end_us = *start + (int64_t)l->sh.seconds * 1000000;
    for (int i = 0; i < l->sh.clients; i++) {
        dc[i].l = l;
        issue(&dc[i]);
    }
    wait_clients(l, *start);
    rc = 0;
out:
    for (int i = 0; i < l->sh.clients; i++)
        rpc_client_close(dc[i].c);
    free(dc);
    return rc;
}

/* One draw round against a pool of size, marking numbers in seen (kept
 * across rounds, so a repeat between rounds is caught too); returns 0, 1
 * when a check failed or calls failed, -1 when it could not start. */
static int run_draw(const char *url, const draw_shape *sh, uint32_t size,
                    _Atomic uint64_t *seen, bench_result *r, uint64_t *numbers)
{
    dload l = {.sh = *sh, .size = size, .seen = seen};
    int rc = -1;
    int64_t start = 0;

    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.cv, NULL);
    if ((sh->nng_client ? run_nng(url, &l, &start)
                        : run_wire(url, &l, &start)) != 0)
        goto out;
    r->name = "draw";
    r->seconds = (double)(rpc_now_mono_us() - start) / 1e6;
    r->calls = l.calls;
    r->errors = l.errors;
    bench_result_fill(r, &l.all);
    *numbers = atomic_load(&l.numbers);
    rc = 0;
    if (l.first_error[0] != '\0')
        fprintf(stderr, "sb-bench draw: %llu failed calls, first: %s\n",
                (unsigned long long)l.errors, l.first_error);
    if (atomic_load(&l.dup) != 0) {
        fprintf(stderr,
                "sb-bench draw: DUPLICATE: number %u was received "
                "twice\n",
                atomic_load(&l.dup));
        rc = 1;
    }
    if (atomic_load(&l.out_of_range) != 0) {
        fprintf(stderr,
                "sb-bench draw: OUT OF RANGE: number %u is not in "
                "1..%u\n",
                atomic_load(&l.out_of_range) == UINT32_MAX
                    ? 0
                    : atomic_load(&l.out_of_range),
                l.size);
        rc = 1;
    }
    if (rc == 0 && l.errors > 0)
        rc = 1;
out:
    bench_samples_free(&l.all);
    pthread_mutex_destroy(&l.mu);
    pthread_cond_destroy(&l.cv);
    return rc;
}

static void usage(void)
{
    printf(
        "usage: sb-bench draw [--draw URL] [--clients C] [--seconds S |\n"
        "                     --requests R] [--count K] [--pool-size N]\n"
        "                     [--workers W] [--contexts X] [--block B]\n"
        "                     [--block-max M]\n"
        "                     [--vs-redis [--redis-port P]] [--rounds R]\n"
        "                     [--client wire|nng] [--draw-engine epoll|nng]\n"
        "                     [--json]\n"
        "C clients (default 50), one Draw(K) in flight each, for S seconds\n"
        "(default 5) or R calls in all. Without --draw a draw server is\n"
        "started in process on 127.0.0.1 with a temp dir and a pool of N\n"
        "(default 100000000), W handler threads (2), its tcp:// listener\n"
        "served by --draw-engine (epoll, sbd draw's default: one epoll\n"
        "thread; or nng: rep0 with X contexts, 8), and a reservation block\n"
        "adapting from B (1024) to M (the pool's default; M = B fixes it).\n"
        "Every number is checked: a repeat or one\n"
        "outside 1..N fails the run (exit 1) and is named. Prints draws/s,\n"
        "numbers/s, latency p50/p90/p99/max. --vs-redis runs the same shape\n"
        "as INCRBY K against redis-server on 127.0.0.1 (started by the\n"
        "bench, persistence off, then appendfsync always; or the one on\n"
        "--redis-port as it is) and prints draw/Redis ratios. The sides\n"
        "alternate for R rounds of S seconds (3 with --vs-redis, else 1),\n"
        "so that the machine's drift hits all alike: calls add up, the\n"
        "latency figures are the worst round's.\n"
        "--client: the draw side's load generator. wire (default): every\n"
        "connection on one thread with poll(), speaking SP/TCP and the\n"
        "sb.rpc envelope over plain sockets, as the Redis side speaks RESP;\n"
        "so both servers face the same cheap client. nng: an rpc_client\n"
        "per connection driven by async callbacks (libsb's path; its nng\n"
        "threads share the 2 cores with the server).\n");
}

typedef struct draw_opts {
    draw_shape sh;
    const char *endpoint;
    long pool_size, workers, redis_port, block, block_max, contexts, rounds;
    int vs_redis, nng_engine;
} draw_opts;

static int parse(int argc, char **argv, draw_opts *o)
{
    long clients = 50, seconds = 5, requests = 0, count = 1;
    const char *client = "wire", *engine = "epoll";
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 1;
        }
        if (strcmp(argv[i], "--json") == 0 ||
            strcmp(argv[i], "--vs-redis") == 0) {
            *(argv[i][2] == 'j' ? &o->sh.json : &o->vs_redis) = 1;
            continue;
        }
        if ((r = bench_flag_int(argc, argv, &i, "--clients", 1, 1024,
                                &clients)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--seconds", 1, 3600,
                                &seconds)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--requests", 1, 1000000000,
                                &requests)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--count", 1,
                                DRAW_DEFAULT_MAX_COUNT, &count)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--pool-size", 1, DRAW_MAX_SIZE,
                                &o->pool_size)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--workers", 1, 256,
                                &o->workers)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--contexts", 1, 1024,
                                &o->contexts)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--rounds", 1, 100,
                                &o->rounds)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--block", 1, 1 << 24,
                                &o->block)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--block-max", 1, 1 << 24,
                                &o->block_max)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--redis-port", 1, 65535,
                                &o->redis_port)) == 0 &&
            (r = bench_flag_str(argc, argv, &i, "--draw", &o->endpoint)) == 0 &&
            (r = bench_flag_str(argc, argv, &i, "--client", &client)) == 0 &&
            (r = bench_flag_str(argc, argv, &i, "--draw-engine", &engine)) ==
                0) {
            fprintf(stderr, "sb-bench draw: unknown option '%s' (try --help)\n",
                    argv[i]);
            return -1;
        }
        if (r < 0)
            return -1;
    }
    if (strcmp(client, "wire") != 0 && strcmp(client, "nng") != 0) {
        fprintf(stderr, "sb-bench draw: --client is wire or nng, not '%s'\n",
                client);
        return -1;
    }
    o->sh.nng_client = client[0] == 'n';
    if (strcmp(engine, "epoll") != 0 && strcmp(engine, "nng") != 0) {
        fprintf(stderr,
                "sb-bench draw: --draw-engine is epoll or nng, not '%s'\n",
                engine);
        return -1;
    }
    o->nng_engine = engine[0] == 'n';
    if (o->rounds == 0) /* alternate with Redis so drift hits both alike */
        o->rounds = o->vs_redis && requests == 0 ? 3 : 1;
    if (requests > 0 && o->rounds > 1) {
        fprintf(stderr, "sb-bench draw: --rounds goes with --seconds, not "
                        "--requests\n");
        return -1;
    }
    o->sh.clients = (int)clients;
    o->sh.seconds = (int)seconds;
    o->sh.requests = requests;
    o->sh.count = (uint32_t)count;
    return 0;
}

static void print_draw(const bench_result *r, uint64_t numbers,
                       const draw_shape *sh)
{
    double nps = r->seconds > 0 ? (double)numbers / r->seconds : 0;
    if (sh->json) {
        bench_json_head("draw");
        printf(",\"clients\":%d,\"count\":%u,\"seconds\":%.3f,\"draws\":%llu,"
               "\"errors\":%llu,\"draws_per_s\":%.1f,"
               "\"numbers\":%llu,\"numbers_per_s\":%.1f,\"p50_us\":%lld,"
               "\"p90_us\":%lld,\"p99_us\":%lld,\"max_us\":%lld}\n",
               sh->clients, sh->count, r->seconds, (unsigned long long)r->calls,
               (unsigned long long)r->errors, r->calls_per_s,
               (unsigned long long)numbers, nps, (long long)r->p50_us,
               (long long)r->p90_us, (long long)r->p99_us,
               (long long)r->max_us);
        return;
    }
    printf("draw: %d clients, count %u: %.0f draws/s, %.0f numbers/s, p50 "
           "%lld us, p90 %lld us, p99 %lld us, max %lld us (%llu draws, %llu "
           "errors, %.1f s)\n",
           sh->clients, sh->count, r->calls_per_s, nps, (long long)r->p50_us,
           (long long)r->p90_us, (long long)r->p99_us, (long long)r->max_us,
           (unsigned long long)r->calls, (unsigned long long)r->errors,
           r->seconds);
}

/* The draw rounds, alternating with the Redis servers' when there are
 * any; fills r and numbers. 0, 1 (a check or calls failed), -1. */
static int run_rounds(const char *url, const draw_opts *o, bench_redis_set *rs,
                      bench_result *r, uint64_t *numbers)
{
    uint32_t size = 0;
    _Atomic uint64_t *seen = NULL;
    int rc = -1;

    if (pool_size_of(url, &size) != 0 ||
        (seen = calloc(size / 64 + 1, sizeof *seen)) == NULL)
        return -1;
    for (long k = 0; k < o->rounds; k++) {
        bench_result one = {0};
        uint64_t n = 0;
        if ((rc = run_draw(url, &o->sh, size, seen, &one, &n)) < 0)
            break;
        bench_result_add_round(r, &one); /* a failed round's figures too */
        *numbers += n;
        bench_progress("round %ld/%ld: %.0f draws/s", k + 1, o->rounds,
                       one.calls_per_s);
        if (rc != 0)
            break;
        if (rs != NULL && bench_redis_set_round(rs, &o->sh) != 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0)
        bench_progress("%llu numbers received, all distinct, all in 1..%u",
                       (unsigned long long)*numbers, size);
    free(seen);
    return rc;
}

int bench_draw_main(int argc, char **argv)
{
    draw_opts o = {.pool_size = DRAW_MAX_SIZE, .workers = 2};
    char dir[] = "/tmp/sb-bench-draw.XXXXXX";
    draw_role *role = NULL;
    bench_redis_set rs;
    bench_result r = {0};
    uint64_t numbers = 0;
    int rc = 1, p, have_redis = 0;

    if ((p = parse(argc, argv, &o)) != 0)
        return p > 0 ? 0 : 2;
    const char *url = o.endpoint;
    if (url == NULL) {
        draw_role_config dc = {.listen_url = "tcp://127.0.0.1:0",
                               .pool_size = (uint32_t)o.pool_size,
                               .workers = (int)o.workers,
                               .contexts = (int)o.contexts,
                               .nng_tcp = o.nng_engine,
                               .block = (uint32_t)o.block,
                               .block_max = (uint32_t)o.block_max};
        if (mkdtemp(dir) == NULL ||
            (dc.data_dir = dir, draw_role_start(&dc, &role)) != 0) {
            fprintf(stderr, "sb-bench draw: cannot start the draw server\n");
            return 1;
        }
        url = draw_role_url(role);
    }
    if (o.vs_redis && bench_redis_set_start(&rs, (int)o.redis_port) != 0)
        goto out;
    have_redis = o.vs_redis;
    if (!o.sh.json)
        printf(
            "sb-bench draw: %d clients (%s client), count %u, %s on %s%s%s\n",
            o.sh.clients, o.sh.nng_client ? "nng" : "wire", o.sh.count,
            o.sh.requests ? "by requests" : "by time", url,
            role == NULL   ? ""
            : o.nng_engine ? " (nng engine)"
                           : " (epoll engine)",
            have_redis ? ", alternating with Redis" : "");
    int dr = run_rounds(url, &o, have_redis ? &rs : NULL, &r, &numbers);
    if (role != NULL) {
        draw_pool_status ps;
        draw_pool_status_get(draw_role_pool(role), &ps);
        bench_progress("server pool: block %u (max %u), %llu mark commits "
                       "(fsyncs), %llu draws waited for one",
                       ps.block_now, ps.block, (unsigned long long)ps.reserves,
                       (unsigned long long)ps.waits);
    }
    if (dr < 0) {
        fprintf(stderr, "sb-bench draw: the run could not start or a Redis "
                        "round failed\n");
        goto out;
    }
    print_draw(&r, numbers, &o.sh);
    if (have_redis)
        bench_redis_set_print(&rs, r.calls_per_s, o.sh.json);
    rc = dr;
out:
    if (have_redis)
        bench_redis_set_stop(&rs);
    draw_role_stop(role);
    if (role != NULL)
        bench_rmtree(dir);
    return rc;
}
