/* bench_trust.c: `sb-bench trust`, what the trust layer costs per call
 * (docs/trust.md, docs/benchmarks.md). The same Echo load, C clients with
 * one call in flight each on their own connection, against four servers
 * in this process: plain tcp:// on loopback; plain with a role credential
 * checked on every call (a method rule: only login may call Echo); mutual
 * TLS (sbd certs' files); mutual TLS and the credential. The four
 * alternate in rounds so that the VM's drifting speed hits all alike, and
 * a last phase times new connections (TLS handshake and first call). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_rpc_srv.h"
#include "bench_util.h"
#include "echo_service.h"
#include "rpc_trust.h"

enum { PLAIN, PLAIN_CRED, TLS, TLS_CRED, NSIDES };
static const char *const side_names[NSIDES] = {"plain", "plain+cred", "tls",
                                               "tls+cred"};

typedef struct trust_env {
    char dir[256];
    rpc_keyring *keys;
    char cred[RPC_CREDENTIAL_MAX];
    rpc_tls stls, ctls;
    rpc_tls_files sf, cf;
    rpc_server *srv[NSIDES];
    echo_service *echo[NSIDES];
    char url[NSIDES][96];
} trust_env;

typedef struct tload {
    int64_t end_ms;
    int active;
    uint64_t calls, errors;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bench_samples all;
} tload;

typedef struct tclient {
    tload *l;
    rpc_client *c;
    int64_t t0;
    bench_samples s;
    uint64_t calls, errors;
} tclient;

static void tc_finish(tclient *tc)
{
    tload *l = tc->l;
    pthread_mutex_lock(&l->mu);
    bench_samples_merge(&l->all, &tc->s);
    l->calls += tc->calls;
    l->errors += tc->errors;
    l->active--;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static void tc_issue(tclient *tc);

static void tc_done(void *arg, const rpc_status *st, Sb__Echo__EchoReply *rep)
{
    tclient *tc = arg;
    int64_t now = rpc_now_mono_us();
    if (st->code == RPC_OK && rep != NULL) {
        tc->calls++;
        bench_samples_add(&tc->s, now - tc->t0);
    } else {
        tc->errors++;
    }
    sb_echo_Echo_free(rep);
    if (now / 1000 < tc->l->end_ms)
        tc_issue(tc);
    else
        tc_finish(tc);
}

static void tc_issue(tclient *tc)
{
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
    static uint8_t data[32];
    req.data.data = data;
    req.data.len = sizeof data;
    tc->t0 = rpc_now_mono_us();
    if (sb_echo_Echo_Echo_async(tc->c, &req, tc_done, tc, NULL) != 0) {
        tc->errors++;
        tc_finish(tc);
    }
}

static rpc_client_config client_cfg(const trust_env *e, int side)
{
    rpc_client_config cc = {.timeout_ms = 5000};
    if (side == TLS || side == TLS_CRED)
        cc.tls = e->ctls;
    if (side == PLAIN_CRED || side == TLS_CRED)
        cc.credential = e->cred;
    return cc;
}

/* One side's load for seconds; r gets its figures, *cpu the process's
 * CPU time (clients and server) over it. */
static int run_side(const trust_env *e, int side, int clients, int seconds,
                    bench_result *r, int64_t *cpu)
{
    tload l = {0};
    tclient *tc = calloc((size_t)clients, sizeof *tc);
    rpc_client_config cc = client_cfg(e, side);
    if (tc == NULL)
        return -1;
    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.cv, NULL);
    for (int i = 0; i < clients; i++)
        if (rpc_client_open(&tc[i].c, e->url[side], &cc) != 0)
            return -1;
    l.active = clients;
    l.end_ms = rpc_now_mono_ms() + seconds * 1000;
    int64_t t0 = rpc_now_mono_us(), c0 = bench_cpu_us();
    for (int i = 0; i < clients; i++) {
        tc[i].l = &l;
        tc_issue(&tc[i]);
    }
    pthread_mutex_lock(&l.mu);
    while (l.active > 0)
        pthread_cond_wait(&l.cv, &l.mu);
    pthread_mutex_unlock(&l.mu);
    *cpu = bench_cpu_us() - c0;
    r->name = side_names[side];
    r->seconds = (double)(rpc_now_mono_us() - t0) / 1e6;
    r->calls = l.calls;
    r->errors = l.errors;
    bench_result_fill(r, &l.all);
    bench_samples_free(&l.all);
    for (int i = 0; i < clients; i++)
        rpc_client_close(tc[i].c);
    free(tc);
    pthread_mutex_destroy(&l.mu);
    pthread_cond_destroy(&l.cv);
    return 0;
}

/* Mean ms for a new client to connect and get its first reply (n times):
 * what a TLS handshake adds to a connection, on loopback. */
static double connect_ms(const trust_env *e, int side, int n)
{
    rpc_client_config cc = client_cfg(e, side);
    int64_t t0 = rpc_now_mono_us();
    for (int i = 0; i < n; i++) {
        rpc_client *c;
        Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
        Sb__Echo__EchoReply *rep = NULL;
        rpc_status st;
        if (rpc_client_open(&c, e->url[side], &cc) != 0 ||
            sb_echo_Echo_Echo(c, &req, &rep, NULL, &st) != RPC_OK)
            return -1;
        sb_echo_Echo_free(rep);
        rpc_client_close(c);
    }
    return (double)(rpc_now_mono_us() - t0) / 1000.0 / n;
}

/* The deployment's files (a real `sbd certs`), the keys and login's
 * credential from them, and the four servers. */
static int env_start(trust_env *e)
{
    char sbd[4096], cmd[4400], why[512], path[400];
    size_t len;
    snprintf(e->dir, sizeof e->dir, "/tmp/sb-bench-trust.XXXXXX");
    if (mkdtemp(e->dir) == NULL)
        return -1;
    bench_default_sbd(sbd, sizeof sbd);
    snprintf(cmd, sizeof cmd, "'%s' certs '%s/d' >/dev/null", sbd, e->dir);
    snprintf(path, sizeof path, "%s/d/keys", e->dir);
    if (system(cmd) != 0 ||
        rpc_keyring_load(path, &e->keys, why, sizeof why) != 0)
        goto fail;
    snprintf(path, sizeof path, "%s/d/login.cred", e->dir);
    if (rpc_secret_read(path, e->cred, sizeof e->cred, &len, why, sizeof why) !=
        0)
        goto fail;
    snprintf(path, sizeof path, "%s/d", e->dir);
    if (rpc_trust_tls(path, "store", RPC_ROLE_NONE, &e->stls, &e->sf, why,
                      sizeof why) != 0 ||
        rpc_trust_tls(path, "login", RPC_ROLE_STORE, &e->ctls, &e->cf, why,
                      sizeof why) != 0)
        goto fail;
    for (int i = 0; i < NSIDES; i++) {
        int tls = i == TLS || i == TLS_CRED,
            cred = i == PLAIN_CRED || i == TLS_CRED;
        rpc_server_config sc = {.name = side_names[i],
                                .verifier = rpc_keyring_verifier(e->keys)};
        if (tls)
            sc.tls = e->stls;
        if (rpc_server_create(&e->srv[i], &sc) != 0 ||
            echo_service_register(e->srv[i], &e->echo[i]) != 0 ||
            rpc_server_set_nonblocking(e->srv[i], "sb.echo.Echo", 1) != 0 ||
            (cred &&
             rpc_server_require_role(e->srv[i], "sb.echo.Echo/Echo",
                                     RPC_ROLE_BIT(RPC_ROLE_LOGIN)) != 0) ||
            rpc_server_listen(e->srv[i], tls ? "tls+tcp://127.0.0.1:0"
                                             : "tcp://127.0.0.1:0") != 0 ||
            rpc_server_start(e->srv[i]) != 0)
            goto fail;
        snprintf(e->url[i], sizeof e->url[i], "%s",
                 rpc_server_url(e->srv[i], 0));
    }
    return 0;
fail:
    fprintf(stderr, "sb-bench trust: cannot set up: %s\n", why);
    return -1;
}

static void env_stop(trust_env *e)
{
    char cmd[400];
    for (int i = 0; i < NSIDES; i++) {
        rpc_server_destroy(e->srv[i]);
        echo_service_free(e->echo[i]);
    }
    rpc_keyring_free(e->keys);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "sb-bench trust: cannot remove %s\n", e->dir);
}

static void usage(void)
{
    printf("usage: sb-bench trust [--clients C] [--seconds S] [--rounds R]\n"
           "                      [--connects N] [--json]\n"
           "Echo through plain tcp://, plain + a role credential checked per\n"
           "call, mutual TLS, and mutual TLS + credential, in alternating\n"
           "rounds of S seconds (defaults: 16 clients, 2 s, 3 rounds); then\n"
           "N new connections each (100): handshake and first call.\n");
}

static void print_side(const bench_result *r, int64_t cpu, double conn_ms,
                       int json)
{
    double per = r->calls ? (double)cpu / (double)r->calls : 0;
    if (json) {
        bench_json_head(r->name);
        printf(",\"calls_per_s\":%.0f,\"p50_us\":%lld,\"p99_us\":%lld,"
               "\"cpu_us_per_call\":%.2f,\"connect_ms\":%.3f,\"errors\":%llu}"
               "\n",
               r->calls_per_s, (long long)r->p50_us, (long long)r->p99_us, per,
               conn_ms, (unsigned long long)r->errors);
        return;
    }
    printf("%-11s %8.0f calls/s  p50 %5lld us  p99 %6lld us  %6.2f us CPU "
           "per call  new connection %.3f ms  (%llu errors)\n",
           r->name, r->calls_per_s, (long long)r->p50_us, (long long)r->p99_us,
           per, conn_ms, (unsigned long long)r->errors);
}

int bench_trust_main(int argc, char **argv)
{
    long clients = 16, seconds = 2, rounds = 3, connects = 100;
    int json = 0, rv;
    for (int i = 1; i < argc; i++) {
        if ((rv = bench_flag_int(argc, argv, &i, "--clients", 1, 1000,
                                 &clients)) ||
            (rv = bench_flag_int(argc, argv, &i, "--seconds", 1, 600,
                                 &seconds)) ||
            (rv =
                 bench_flag_int(argc, argv, &i, "--rounds", 1, 100, &rounds)) ||
            (rv = bench_flag_int(argc, argv, &i, "--connects", 1, 100000,
                                 &connects))) {
            if (rv < 0)
                return 2;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "sb-bench trust: unknown option %s\n", argv[i]);
            usage();
            return 2;
        }
    }
    trust_env e = {0};
    bench_result tot[NSIDES] = {{0}};
    int64_t cpu[NSIDES] = {0};
    double conn[NSIDES];
    if (env_start(&e) != 0) {
        env_stop(&e);
        return 1;
    }
    bench_progress("%ld clients, %ld s x %ld rounds per side, sides "
                   "alternating; servers and clients in this process",
                   clients, seconds, rounds);
    for (long r = 0; r < rounds; r++)
        for (int k = 0; k < NSIDES; k++) {
            int side = (int)((k + r) % NSIDES); /* a new order each round */
            bench_result one = {0};
            int64_t c = 0;
            if (run_side(&e, side, (int)clients, (int)seconds, &one, &c) != 0) {
                fprintf(stderr, "sb-bench trust: %s failed\n",
                        side_names[side]);
                env_stop(&e);
                return 1;
            }
            bench_result_add_round(&tot[side], &one);
            cpu[side] += c;
        }
    for (int k = 0; k < NSIDES; k++)
        conn[k] = connect_ms(&e, k, (int)connects);
    for (int k = 0; k < NSIDES; k++)
        print_side(&tot[k], cpu[k], conn[k], json);
    env_stop(&e);
    return 0;
}
