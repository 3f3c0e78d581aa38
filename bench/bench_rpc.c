/* bench_rpc.c: `sb-bench rpc`. C clients, each its own connection with
 * one call in flight, call Echo in a closed loop for S seconds through the
 * full framework (envelope, generated stubs, dispatch); then the same load
 * shape runs over raw nng req/rep (no envelope, no generated code, replies
 * sent straight from nng's callbacks, as many server contexts as the
 * framework's server has) and the ratio is printed.
 * Clients are driven by async callbacks, not threads, so the figures
 * measure the server and the transport rather than client scheduling;
 * --sync gives each client a thread making blocking calls instead (the
 * generated sync stub; nng_sendmsg/nng_recvmsg on the raw side), the
 * shape of libsb's callers. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "bench_rpc_srv.h"
#include "bench_util.h"
#include "echo_service.h"

typedef struct load {
    int64_t end_ms;
    size_t payload;
    int active; /* clients still running */
    uint64_t calls, errors;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bench_samples all;
} load;

typedef struct fw_client {
    load *l;
    rpc_client *c;
    uint8_t *data;
    int64_t t0;
    bench_samples s;
    uint64_t calls, errors;
} fw_client;

static void client_finished(load *l, bench_samples *s, uint64_t calls,
                            uint64_t errors)
{
    pthread_mutex_lock(&l->mu);
    bench_samples_merge(&l->all, s);
    l->calls += calls;
    l->errors += errors;
    l->active--;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static void fw_issue(fw_client *fc);

static void fw_done(void *arg, const rpc_status *st, Sb__Echo__EchoReply *rep)
{
    fw_client *fc = arg;
    int64_t now = rpc_now_mono_us();
    if (st->code == RPC_OK && rep != NULL && rep->data.len == fc->l->payload) {
        fc->calls++;
        bench_samples_add(&fc->s, now - fc->t0);
    } else {
        fc->errors++;
    }
    sb_echo_Echo_free(rep);
    if (now / 1000 < fc->l->end_ms)
        fw_issue(fc);
    else
        client_finished(fc->l, &fc->s, fc->calls, fc->errors);
}

static void fw_issue(fw_client *fc)
{
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
    req.data.data = fc->data;
    req.data.len = fc->l->payload;
    fc->t0 = rpc_now_mono_us();
    if (sb_echo_Echo_Echo_async(fc->c, &req, fw_done, fc, NULL) != 0) {
        fc->errors++;
        client_finished(fc->l, &fc->s, fc->calls, fc->errors);
    }
}

/* --sync: a thread per client, calling the generated sync stub. */
static void *fw_sync_main(void *arg)
{
    fw_client *fc = arg;
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
    req.data.data = fc->data;
    req.data.len = fc->l->payload;
    for (;;) {
        Sb__Echo__EchoReply *rep = NULL;
        rpc_status st;
        int64_t t0 = rpc_now_mono_us();
        int rv = sb_echo_Echo_Echo(fc->c, &req, &rep, NULL, &st);
        int64_t now = rpc_now_mono_us();
        if (rv == RPC_OK && rep->data.len == fc->l->payload) {
            fc->calls++;
            bench_samples_add(&fc->s, now - t0);
        } else {
            fc->errors++;
        }
        sb_echo_Echo_free(rep);
        if (rv != RPC_OK || now / 1000 >= fc->l->end_ms)
            break;
    }
    client_finished(fc->l, &fc->s, fc->calls, fc->errors);
    return NULL;
}

static void load_init(load *l, int seconds, size_t payload, int clients)
{
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->payload = payload;
    l->active = clients;
    l->end_ms = rpc_now_mono_ms() + seconds * 1000;
}

static void load_wait(load *l, bench_result *r, int64_t start_us)
{
    pthread_mutex_lock(&l->mu);
    while (l->active > 0)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    r->seconds = (double)(rpc_now_mono_us() - start_us) / 1e6;
    r->calls = l->calls;
    r->errors = l->errors;
    bench_result_fill(r, &l->all);
    bench_samples_free(&l->all);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
}

static int run_framework(const char *url, int clients, int seconds,
                         size_t payload, int sync, bench_result *r)
{
    load l;
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    fw_client *fc = calloc((size_t)clients, sizeof *fc);
    uint8_t *data = malloc(payload ? payload : 1);
    if (fc == NULL || data == NULL || th == NULL)
        return -1;
    memset(data, 'x', payload);
    for (int i = 0; i < clients; i++)
        if (rpc_client_open(&fc[i].c, url, NULL) != 0)
            return -1;
    load_init(&l, seconds, payload, clients);
    int64_t start = rpc_now_mono_us();
    for (int i = 0; i < clients; i++) {
        fc[i].l = &l;
        fc[i].data = data;
        if (!sync)
            fw_issue(&fc[i]);
        else if (pthread_create(&th[i], NULL, fw_sync_main, &fc[i]) != 0)
            abort(); /* a benchmark that cannot start its clients */
    }
    r->name = "framework";
    load_wait(&l, r, start);
    for (int i = 0; i < clients && sync; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < clients; i++)
        rpc_client_close(fc[i].c);
    free(th);
    free(fc);
    free(data);
    return 0;
}

/* ---- raw nng: the same shape with no framework at all ---- */

typedef struct raw_client {
    load *l;
    nng_socket s;
    nng_aio *aio;
    int sending;
    int64_t t0;
    bench_samples sm;
    uint64_t calls, errors;
} raw_client;

static void raw_send(raw_client *rc)
{
    nng_msg *m;
    if (nng_msg_alloc(&m, rc->l->payload) != 0) {
        client_finished(rc->l, &rc->sm, rc->calls, ++rc->errors);
        return;
    }
    memset(nng_msg_body(m), 'x', rc->l->payload);
    rc->sending = 1;
    rc->t0 = rpc_now_mono_us();
    nng_aio_set_msg(rc->aio, m);
    nng_send_aio(rc->s, rc->aio);
}

static void raw_client_cb(void *arg)
{
    raw_client *rc = arg;
    int rv = nng_aio_result(rc->aio);
    if (rc->sending) {
        rc->sending = 0;
        if (rv != 0) {
            nng_msg_free(nng_aio_get_msg(rc->aio));
            client_finished(rc->l, &rc->sm, rc->calls, ++rc->errors);
            return;
        }
        nng_recv_aio(rc->s, rc->aio);
        return;
    }
    int64_t now = rpc_now_mono_us();
    if (rv == 0) {
        nng_msg *m = nng_aio_get_msg(rc->aio);
        rc->calls += nng_msg_len(m) == rc->l->payload;
        bench_samples_add(&rc->sm, now - rc->t0);
        nng_msg_free(m);
    } else {
        rc->errors++;
    }
    if (now / 1000 < rc->l->end_ms && rv == 0)
        raw_send(rc);
    else
        client_finished(rc->l, &rc->sm, rc->calls, rc->errors);
}

/* --sync: a thread per client, blocking nng_sendmsg/nng_recvmsg. */
static void *raw_sync_main(void *arg)
{
    raw_client *rc = arg;
    for (;;) {
        nng_msg *m;
        if (nng_msg_alloc(&m, rc->l->payload) != 0) {
            rc->errors++;
            break;
        }
        memset(nng_msg_body(m), 'x', rc->l->payload);
        int64_t t0 = rpc_now_mono_us();
        int rv = nng_sendmsg(rc->s, m, 0);
        if (rv != 0)
            nng_msg_free(m);
        else if ((rv = nng_recvmsg(rc->s, &m, 0)) == 0) {
            rc->calls += nng_msg_len(m) == rc->l->payload;
            nng_msg_free(m);
        }
        int64_t now = rpc_now_mono_us();
        if (rv != 0) {
            rc->errors++;
            break;
        }
        bench_samples_add(&rc->sm, now - t0);
        if (now / 1000 >= rc->l->end_ms)
            break;
    }
    client_finished(rc->l, &rc->sm, rc->calls, rc->errors);
    return NULL;
}

/* url: the raw server to call (--server-process), or NULL to start one
 * in this process for the run, with srv_ctxs contexts. */
static int run_raw(const char *url, int clients, int seconds, size_t payload,
                   int srv_ctxs, int sync, bench_result *r)
{
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    raw_server rs = {.n = 0};
    raw_client *rc = calloc((size_t)clients, sizeof *rc);
    if (rc == NULL || th == NULL)
        return -1;
    if (url == NULL) {
        if (raw_server_start(&rs, srv_ctxs) != 0)
            return -1;
        url = rs.url;
    }
    load l;
    for (int i = 0; i < clients; i++) {
        nng_req0_open(&rc[i].s);
        nng_socket_set_ms(rc[i].s, NNG_OPT_REQ_RESENDTIME,
                          NNG_DURATION_INFINITE);
        if (nng_dial(rc[i].s, url, NULL, 0) != 0)
            return -1;
        nng_aio_alloc(&rc[i].aio, raw_client_cb, &rc[i]);
    }
    load_init(&l, seconds, payload, clients);
    int64_t start = rpc_now_mono_us();
    for (int i = 0; i < clients; i++) {
        rc[i].l = &l;
        if (!sync)
            raw_send(&rc[i]);
        else if (pthread_create(&th[i], NULL, raw_sync_main, &rc[i]) != 0)
            abort(); /* a benchmark that cannot start its clients */
    }
    r->name = "raw-nng";
    load_wait(&l, r, start);
    for (int i = 0; i < clients && sync; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < clients; i++) {
        nng_aio_free(rc[i].aio);
        nng_close(rc[i].s);
    }
    if (rs.ctxs != NULL)
        raw_server_stop(&rs);
    free(rc);
    free(th);
    return 0;
}

/* CPU time of one side's rounds: everything, and the servers' child's. */
typedef struct rpc_cpu {
    int64_t all, server; /* server: -1 when the servers are in process */
} rpc_cpu;

static void print_cpu(const char *name, const rpc_cpu *cpu,
                      const bench_result *r, int json)
{
    double n = r->calls ? (double)r->calls : 1;
    double per = (double)cpu->all / n, srv = (double)cpu->server / n;
    if (json) {
        char what[64];
        snprintf(what, sizeof what, "%s-cpu", name);
        bench_json_head(what);
        printf(",\"cpu_us_per_call\":%.2f", per);
        if (cpu->server >= 0)
            printf(",\"server_us_per_call\":%.2f,\"clients_us_per_call\":"
                   "%.2f",
                   srv, per - srv);
        printf("}\n");
    } else if (cpu->server >= 0) {
        printf("%-15s %.2f us CPU per call: server process %.2f, clients "
               "%.2f\n",
               name, per, srv, per - srv);
    } else {
        printf("%-15s %.2f us CPU per call (CPU time of the clients and the "
               "server together)\n",
               name, per);
    }
}

static void usage(void)
{
    printf("usage: sb-bench rpc [--clients C] [--seconds S] [--payload B]\n"
           "                    [--workers W] [--contexts N] [--rounds R]\n"
           "                    [--only framework|raw] [--on-workers]\n"
           "                    [--sync] [--in-process] [--json]\n"
           "Echo calls through the RPC framework, then the same load over\n"
           "raw nng req/rep, both on 127.0.0.1; prints calls/s, latency\n"
           "p50/p90/p99/max and the framework/raw throughput ratio.\n"
           "The two alternate for R rounds of S seconds each, so that a\n"
           "change in machine load hits both alike; throughput is summed\n"
           "over the rounds, latency percentiles are the worst round's.\n"
           "Both servers receive on N nng contexts at once. --only runs\n"
           "one side (for profiling; no ratio then). CPU time per call\n"
           "(clients and server, every thread) is printed for both:\n"
           "unlike calls/s it hardly moves with other processes' load.\n"
           "Echo is declared\n"
           "non-blocking and runs on nng's thread; --on-workers hands it\n"
           "to the W worker threads instead, as a blocking handler is.\n"
           "--sync: a thread per client making blocking calls (both\n"
           "sides) instead of async callbacks.\n"
           "Both servers run in a child process (forked first), as a\n"
           "server runs apart from its clients in every deployment; CPU\n"
           "per call adds the child's. --in-process runs them in this\n"
           "process instead (the shape before 2026-11-22 07:40), where\n"
           "clients' and servers' callbacks share nng's task threads.\n"
           "(--server-process, the default, is still accepted.)\n"
           "Defaults: 16 clients, 5 seconds, 32-byte payload, 2 workers\n"
           "(one per core), 64 contexts, 3 rounds.\n");
}

typedef struct rpc_args {
    long clients, seconds, payload, workers, rounds, contexts;
    int json, run_fw, run_rw, on_workers, sync, server_process;
} rpc_args;

/* Returns -1 to go on, else the exit code (help shown, or a bad flag). */
static int parse_args(int argc, char **argv, rpc_args *a)
{
    *a = (rpc_args){.clients = 16,
                    .seconds = 5,
                    .payload = 32,
                    .workers = 2,
                    .rounds = 3,
                    .contexts = 64,
                    .run_fw = 1,
                    .run_rw = 1,
                    .server_process = 1};
    for (int i = 1; i < argc; i++) {
        int r = 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        }
        int *flag = strcmp(argv[i], "--json") == 0         ? &a->json
                    : strcmp(argv[i], "--on-workers") == 0 ? &a->on_workers
                    : strcmp(argv[i], "--sync") == 0       ? &a->sync
                    : strcmp(argv[i], "--server-process") == 0
                        ? &a->server_process
                        : NULL;
        if (flag != NULL) {
            *flag = 1;
            continue;
        }
        if (strcmp(argv[i], "--in-process") == 0) {
            a->server_process = 0;
            continue;
        }
        if (strcmp(argv[i], "--only") == 0 && i + 1 < argc &&
            (strcmp(argv[i + 1], "framework") == 0 ||
             strcmp(argv[i + 1], "raw") == 0)) {
            a->run_fw = strcmp(argv[++i], "framework") == 0;
            a->run_rw = !a->run_fw;
            continue;
        }
        if ((r = bench_flag_int(argc, argv, &i, "--clients", 1, 1024,
                                &a->clients)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--seconds", 1, 3600,
                                &a->seconds)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--payload", 0, 512 * 1024,
                                &a->payload)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--workers", 1, 256,
                                &a->workers)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--contexts", 1, 4096,
                                &a->contexts)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--rounds", 1, 100,
                                &a->rounds)) == 0) {
            fprintf(stderr, "sb-bench rpc: unknown option '%s' (try --help)\n",
                    argv[i]);
            return 2;
        }
        if (r < 0)
            return 2;
    }
    return -1;
}

/* CPU time so far of this process and of the servers' child (sp NULL:
 * the servers are in process, server -1). */
static rpc_cpu cpu_now(srv_proc *sp)
{
    rpc_cpu c = {bench_cpu_us(), -1};
    if (sp != NULL) {
        int64_t child = srv_proc_cpu_us(sp);
        c.server = child > 0 ? child : 0;
        c.all += c.server;
    }
    return c;
}

static void cpu_add(rpc_cpu *tot, rpc_cpu a, rpc_cpu b)
{
    tot->all += b.all - a.all;
    tot->server = a.server < 0 ? -1 : tot->server + b.server - a.server;
}

/* Alternates framework and raw runs against fw_url and raw_url (NULL:
 * run_raw starts its own); sp is the servers' child or NULL. Returns 0,
 * or -1 if one failed. */
static int run_rounds(const rpc_args *a, const char *fw_url,
                      const char *raw_url, srv_proc *sp, bench_result *fw,
                      bench_result *raw, rpc_cpu *fw_cpu, rpc_cpu *raw_cpu)
{
    int bad = 0;
    for (long k = 0; k < a->rounds && bad == 0; k++) {
        bench_result x = {0}, y = {0};
        rpc_cpu c0 = cpu_now(sp);
        if (a->run_fw) {
            bad |= run_framework(fw_url, (int)a->clients, (int)a->seconds,
                                 (size_t)a->payload, a->sync, &x);
            bench_result_add_round(fw, &x);
        }
        rpc_cpu c1 = cpu_now(sp);
        if (a->run_rw) {
            bad |= run_raw(raw_url, (int)a->clients, (int)a->seconds,
                           (size_t)a->payload, (int)a->contexts, a->sync, &y);
            bench_result_add_round(raw, &y);
        }
        cpu_add(fw_cpu, c0, c1);
        cpu_add(raw_cpu, c1, cpu_now(sp));
        bench_progress("round %ld/%ld: framework %.0f calls/s, raw nng %.0f "
                       "calls/s",
                       k + 1, a->rounds, x.calls_per_s, y.calls_per_s);
    }
    return bad ? -1 : 0;
}

static void print_results(const rpc_args *a, const bench_result *fw,
                          const bench_result *raw, const rpc_cpu *fw_cpu,
                          const rpc_cpu *raw_cpu)
{
    if (a->run_fw) {
        bench_result_print(fw, a->json);
        print_cpu("framework", fw_cpu, fw, a->json);
    }
    if (a->run_rw) {
        bench_result_print(raw, a->json);
        print_cpu("raw-nng", raw_cpu, raw, a->json);
    }
    if (a->run_fw && a->run_rw) {
        double ratio =
            raw->calls_per_s > 0 ? fw->calls_per_s / raw->calls_per_s : 0;
        if (a->json) {
            bench_json_head("ratio");
            printf(",\"clients\":%ld,\"framework_over_raw\":%.3f}\n",
                   a->clients, ratio);
        } else
            printf("ratio      framework/raw throughput = %.3f at %ld "
                   "clients\n",
                   ratio, a->clients);
    }
}

int bench_rpc_main(int argc, char **argv)
{
    rpc_args a;
    int rv = parse_args(argc, argv, &a);
    if (rv >= 0)
        return rv;
    rpc_server *s = NULL;
    echo_service *e = NULL;
    srv_proc sp;
    rpc_server_config cfg = {.name = "bench-echo",
                             .workers = (int)a.workers,
                             .contexts = (int)a.contexts};
    /* the child is forked before this process starts any nng thread */
    rv = a.server_process
             ? srv_proc_start(&sp, &cfg, a.on_workers, (int)a.contexts)
             : bench_fw_server_start(&s, &e, &cfg, a.on_workers);
    if (rv == 1)
        return 0; /* the servers' child, done serving */
    if (rv != 0) {
        fprintf(stderr, "sb-bench rpc: cannot start the echo server\n");
        return 1;
    }
    bench_result fw = {0}, raw = {0};
    rpc_cpu fw_cpu = {0, 0}, raw_cpu = {0, 0};
    if (!a.json)
        printf("sb-bench rpc: %ld clients, %ld rounds of %ld s, %ld-byte "
               "payload, %ld workers, %ld contexts, Echo on %s, %s "
               "clients, servers in %s\n",
               a.clients, a.rounds, a.seconds, a.payload, a.workers, a.contexts,
               a.on_workers ? "the workers" : "nng's thread",
               a.sync ? "sync (a thread each)" : "async",
               a.server_process ? "a child process" : "this process");
    int bad = a.server_process ? run_rounds(&a, sp.fw_url, sp.raw_url, &sp, &fw,
                                            &raw, &fw_cpu, &raw_cpu)
                               : run_rounds(&a, rpc_server_url(s, 0), NULL,
                                            NULL, &fw, &raw, &fw_cpu, &raw_cpu);
    if (a.server_process) {
        srv_proc_stop(&sp);
    } else {
        rpc_server_destroy(s);
        echo_service_free(e);
    }
    if (bad != 0) {
        fprintf(stderr, "sb-bench rpc: a run failed to start\n");
        return 1;
    }
    print_results(&a, &fw, &raw, &fw_cpu, &raw_cpu);
    return fw.errors + raw.errors ? 1 : 0;
}
