/* bench_social.c: `sb-bench social`: durable posts/s and sends/s end to
 * end (libsb -> app server -> store group commit -> fsync) against a child
 * `sbd` process (all roles, app servers as its children) on 127.0.0.1,
 * N closed-loop clients; then, in the same run, a plain LMDB loop with
 * one fsync'd commit per write on a temp env, and the ratio of the two. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <lmdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_main.h"
#include "bench_util.h"
#include "bench_wire.h"
#include "sb.h"
#include "social.sb.h"

typedef struct sclient {
    int id;
    char name[16], peer[16];
    sb_session *s;
    sb_user u;
    int post; /* phase: 1 posts, 0 sends */
    atomic_int *stop;
    bench_samples lat;
    uint64_t ok, errors;
    /* async mode: the client's own connection to its app server */
    rpc_client *rc;
    struct aphase *ph;
    uint64_t k;
    int64_t t0;
    char text[96];
} sclient;

enum { CLIENT_WIRE, CLIENT_NNG, CLIENT_LIBSB };
static const char *const client_names[] = {"wire", "nng", "libsb"};

/* An async phase: clients still running, signalled when one stops. */
typedef struct aphase {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running;
} aphase;

static void usage(void)
{
    printf("usage: sb-bench social [--clients N] [--seconds S] [--json]\n"
           "                       [--sbd PATH] [--keep-data]\n"
           "                       [--client wire|nng|libsb]\n"
           "Starts a child sbd (--pw-cost fast) on 127.0.0.1, a temp data\n"
           "dir and free ports; N clients post for S s, then send to a\n"
           "friend for S s; then LMDB with one fsync'd commit per write.\n"
           "sbd's app servers are child processes that reach its store over\n"
           "RPC (sb.store.Store on P+3). Each client is one connection to its\n"
           "app server with one call in flight. --client (after login,\n"
           "which is libsb's for all): wire (default) multiplexes every\n"
           "connection on one thread with poll(), speaking SP/TCP and the\n"
           "sb.rpc envelope over plain sockets, so the load generator takes\n"
           "little of the 2 cores the system under test shares with it;\n"
           "nng: an rpc_client each, driven by async callbacks; libsb (or\n"
           "--libsb): a thread per client making libsb's blocking calls.\n");
}

static void *client_run(void *arg)
{
    sclient *c = arg;
    rpc_status st;
    char text[64];

    for (uint64_t k = 0; !atomic_load(c->stop); k++) {
        snprintf(text, sizeof text, "%s message %llu from %s",
                 c->post ? "post" : "send", (unsigned long long)k, c->name);
        int64_t t0 = rpc_now_mono_us();
        int rc = c->post ? sb_post(c->s, &c->u, text, &st)
                         : sb_send(c->s, &c->u, c->peer, text, &st);
        if (rc != RPC_OK) {
            if (c->errors++ == 0)
                fprintf(stderr, "sb-bench social: %s: %s %s\n", c->name,
                        rpc_code_name(rc), st.message);
            continue;
        }
        c->ok++;
        bench_samples_add(&c->lat, rpc_now_mono_us() - t0);
    }
    return NULL;
}

static void async_issue(sclient *c);

/* nng thread: one call ended; start the next unless the phase is over. */
static void async_done(void *arg, const rpc_status *st,
                       Sb__Social__Empty *reply)
{
    sclient *c = arg;

    sb_social_App_free(reply);
    if (st->code == RPC_OK) {
        c->ok++;
        bench_samples_add(&c->lat, rpc_now_mono_us() - c->t0);
    } else if (c->errors++ == 0) {
        fprintf(stderr, "sb-bench social: %s: %s %s\n", c->name,
                rpc_code_name(st->code), st->message);
    }
    if (!atomic_load(c->stop)) {
        async_issue(c);
        return;
    }
    pthread_mutex_lock(&c->ph->mu);
    c->ph->running--;
    pthread_cond_signal(&c->ph->cv);
    pthread_mutex_unlock(&c->ph->mu);
}

/* Starts this client's next post or send (the call libsb makes: same
 * method, token and endpoint; redirects are followed by the runtime). */
static void async_issue(sclient *c)
{
    rpc_opts o = {.token = c->u.token};
    rpc_status st = {0};
    int rv;

    snprintf(c->text, sizeof c->text, "%s message %llu from %s",
             c->post ? "post" : "send", (unsigned long long)c->k++, c->name);
    c->t0 = rpc_now_mono_us();
    if (c->post) {
        Sb__Social__PostRequest req = SB__SOCIAL__POST_REQUEST__INIT;
        req.text = c->text;
        rv = sb_social_App_Post_async(c->rc, &req, async_done, c, &o);
    } else {
        Sb__Social__SendRequest req = SB__SOCIAL__SEND_REQUEST__INIT;
        req.to = c->peer;
        req.text = c->text;
        rv = sb_social_App_Send_async(c->rc, &req, async_done, c, &o);
    }
    if (rv != 0) { /* could not start: counted, and this client stops */
        st.code = rv;
        atomic_store(c->stop, 1);
        async_done(c, &st, NULL);
    }
}

/* CPU seconds so far of this bench, of sbd and of sbd's children (the
 * app servers), from getrusage and /proc (utime + stime, all threads):
 * the CPU a call costs per hop, robust to other processes' load. */
typedef struct cpu_snap {
    double bench, sbd, apps;
    int napps;
} cpu_snap;

/* utime + stime of @pid in seconds and its parent, or -1. */
static double proc_cpu(const char *pid, long *ppid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* after "(comm) ": state ppid ... field 14 utime, 15 stime */
    if ((p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               ppid, &ut, &st) != 3)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void cpu_take(pid_t sbd, cpu_snap *c)
{
    struct rusage ru;
    struct dirent *e;
    char me[32];
    long ppid;
    DIR *d;

    memset(c, 0, sizeof *c);
    getrusage(RUSAGE_SELF, &ru);
    c->bench = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    snprintf(me, sizeof me, "%d", (int)sbd);
    c->sbd = proc_cpu(me, &ppid);
    if ((d = opendir("/proc")) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        double t;
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        if ((t = proc_cpu(e->d_name, &ppid)) >= 0 && ppid == (long)sbd) {
            c->apps += t;
            c->napps++;
        }
    }
    closedir(d);
}

static void cpu_print(const char *name, const cpu_snap *a, const cpu_snap *b,
                      uint64_t calls, int json)
{
    double n = calls > 0 ? (double)calls : 1;
    double cb = (b->bench - a->bench) * 1e6 / n;
    double cs = (b->sbd - a->sbd) * 1e6 / n;
    double ca = (b->apps - a->apps) * 1e6 / n;

    if (json) {
        char what[96];
        snprintf(what, sizeof what, "%s cpu", name);
        bench_json_head(what);
        printf(",\"bench_us\":%.1f,\"sbd_us\":%.1f,\"apps_us\":%.1f,"
               "\"apps\":%d}\n",
               cb, cs, ca, b->napps);
    } else
        printf("  cpu per call: bench (clients) %.1f us, sbd (store, login) "
               "%.1f us, %d app processes %.1f us, total %.1f us\n",
               cb, cs, b->napps, ca, cb + cs + ca);
}

/* The wire client's phase state (one thread: plain fields). */
typedef struct wphase {
    sclient *cs;
    bench_wire *w;
    int64_t end;
} wphase;

static void wire_issue(wphase *p, int i, int64_t now)
{
    sclient *c = &p->cs[i];
    uint8_t body[256];
    size_t n;

    if (now >= p->end)
        return;
    snprintf(c->text, sizeof c->text, "%s message %llu from %s",
             c->post ? "post" : "send", (unsigned long long)c->k++, c->name);
    if (c->post) {
        Sb__Social__PostRequest req = SB__SOCIAL__POST_REQUEST__INIT;
        req.text = c->text;
        n = sb__social__post_request__pack(&req, body);
    } else {
        Sb__Social__SendRequest req = SB__SOCIAL__SEND_REQUEST__INIT;
        req.to = c->peer;
        req.text = c->text;
        n = sb__social__send_request__pack(&req, body);
    }
    c->t0 = now;
    if (bench_wire_send(p->w, i,
                        c->post ? "sb.social.App/Post" : "sb.social.App/Send",
                        c->u.token, body, n) != 0)
        c->errors++;
}

static void wire_reply(void *arg, int i, const Sb__Rpc__Reply *rep)
{
    wphase *p = arg;
    sclient *c = &p->cs[i];
    int64_t now = rpc_now_mono_us();

    if (rep->code == SB__RPC__CODE__OK) {
        c->ok++;
        bench_samples_add(&c->lat, now - c->t0);
    } else if (c->errors++ == 0) {
        fprintf(stderr, "sb-bench social: %s: %s %s\n", c->name,
                rpc_code_name((int)rep->code), rep->message);
    }
    wire_issue(p, i, now);
}

/* Every client's phase on this thread over the wire client. */
static int run_wire(sclient *cs, int n, int seconds)
{
    const char **urls = calloc((size_t)n, sizeof *urls);
    wphase p = {.cs = cs};
    int rc = -1;

    for (int i = 0; urls != NULL && i < n; i++)
        urls[i] = cs[i].u.endpoint;
    if (urls == NULL || bench_wire_open(&p.w, urls, n) != 0)
        goto out;
    p.end = rpc_now_mono_us() + (int64_t)seconds * 1000000;
    for (int i = 0; i < n; i++)
        wire_issue(&p, i, rpc_now_mono_us());
    while (bench_wire_in_flight(p.w) > 0)
        if (bench_wire_poll(p.w, 1000, wire_reply, &p) < 0)
            break;
    cs[0].errors += bench_wire_errors(p.w);
    rc = 0;
out:
    bench_wire_close(p.w);
    free(urls);
    return rc;
}

/* One closed-loop phase of every client for seconds; fills r. */
static int run_phase(sclient *cs, int n, int post, int seconds,
                     const char *name, bench_result *r, pid_t sbd,
                     cpu_snap cpu[2], int client)
{
    int libsb = client == CLIENT_LIBSB;
    pthread_t *th = calloc((size_t)n, sizeof *th);
    aphase ph = {.mu = PTHREAD_MUTEX_INITIALIZER,
                 .cv = PTHREAD_COND_INITIALIZER,
                 .running = n};
    atomic_int stop = 0;
    bench_samples all = {0};
    int64_t t0;

    if (!th)
        return -1;
    memset(r, 0, sizeof *r);
    cpu_take(sbd, &cpu[0]);
    bench_progress("%s for %d s", name, seconds);
    t0 = rpc_now_mono_us();
    for (int i = 0; i < n; i++) {
        cs[i].post = post;
        cs[i].stop = &stop;
        cs[i].ok = cs[i].errors = 0;
        cs[i].ph = &ph;
        if (libsb)
            pthread_create(&th[i], NULL, client_run, &cs[i]);
        else if (client == CLIENT_NNG)
            async_issue(&cs[i]);
    }
    if (client == CLIENT_WIRE) {
        ph.running = 0;
        if (run_wire(cs, n, seconds) != 0) {
            free(th);
            return -1;
        }
    } else {
        bench_sleep_ms(seconds * 1000);
    }
    atomic_store(&stop, 1);
    pthread_mutex_lock(&ph.mu);
    while (!libsb && ph.running > 0)
        pthread_cond_wait(&ph.cv, &ph.mu);
    pthread_mutex_unlock(&ph.mu);
    for (int i = 0; i < n; i++) {
        if (libsb)
            pthread_join(th[i], NULL);
        r->calls += cs[i].ok;
        r->errors += cs[i].errors;
        bench_samples_merge(&all, &cs[i].lat);
    }
    cpu_take(sbd, &cpu[1]);
    r->name = name;
    r->seconds = (double)(rpc_now_mono_us() - t0) / 1e6;
    r->calls_per_s = (double)r->calls / r->seconds;
    bench_result_fill(r, &all);
    bench_samples_free(&all);
    free(th);
    return 0;
}

/* Users u0..u(n-1) register and log in; u(2k) and u(2k+1) are friends. */
static int setup_clients(sclient *cs, int n, int port)
{
    rpc_status st;
    for (int i = 0; i < n; i++) {
        sclient *c = &cs[i];
        c->id = i;
        snprintf(c->name, sizeof c->name, "u%d", i);
        snprintf(c->peer, sizeof c->peer, "u%d", (i ^ 1) < n ? i ^ 1 : 0);
        if (sb_open(&c->s, "127.0.0.1", port, &st) != RPC_OK ||
            sb_register(c->s, c->name, "pw", &st) != RPC_OK ||
            sb_login(c->s, c->name, "pw", &c->u, &st) != RPC_OK)
            goto fail;
        if (rpc_client_open(&c->rc, c->u.endpoint, NULL) != 0) {
            rpc_status_set(&st, RPC_UNAVAILABLE, "cannot open %s",
                           c->u.endpoint);
            goto fail;
        }
    }
    for (int i = 0; i + 1 < n; i += 2)
        if (sb_invite(cs[i].s, &cs[i].u, cs[i + 1].name, &st) != RPC_OK ||
            sb_accept_invite(cs[i + 1].s, &cs[i + 1].u, cs[i].name, &st) !=
                RPC_OK)
            goto fail;
    if (n % 2 == 1 && n > 1 &&
        (sb_invite(cs[n - 1].s, &cs[n - 1].u, "u0", &st) != RPC_OK ||
         sb_accept_invite(cs[0].s, &cs[0].u, cs[n - 1].name, &st) != RPC_OK))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "sb-bench social: setup failed: %s %s\n",
            rpc_code_name(st.code), st.message);
    return -1;
}

/* One fsync'd LMDB commit per 1-write transaction, for seconds (the
 * durable default: no MDB_NOSYNC/NOMETASYNC), like a naive store. */
static int run_lmdb_single(const char *dir, int seconds, bench_result *r)
{
    MDB_env *env = NULL;
    MDB_dbi dbi;
    MDB_txn *txn = NULL;
    char path[300], val[64];
    bench_samples s = {0};
    int rc, ret = -1;
    int64_t t0, end;

    memset(r, 0, sizeof *r);
    memset(val, 'v', sizeof val);
    snprintf(path, sizeof path, "%s/lmdb-single", dir);
    if (mkdir(path, 0700) != 0 || (rc = mdb_env_create(&env)) != 0 ||
        (rc = mdb_env_set_mapsize(env, (size_t)1 << 30)) != 0 ||
        (rc = mdb_env_open(env, path, 0, 0600)) != 0)
        goto out;
    t0 = rpc_now_mono_us();
    end = t0 + (int64_t)seconds * 1000000;
    for (uint64_t k = 0; rpc_now_mono_us() < end; k++) {
        int64_t a = rpc_now_mono_us();
        MDB_val key = {sizeof k, &k}, v = {sizeof val, val};
        if (mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
            mdb_dbi_open(txn, NULL, 0, &dbi) != 0 ||
            mdb_put(txn, dbi, &key, &v, 0) != 0)
            goto out;
        rc = mdb_txn_commit(txn);
        txn = NULL;
        if (rc != 0)
            goto out;
        r->calls++;
        bench_samples_add(&s, rpc_now_mono_us() - a);
    }
    r->name = "lmdb 1 commit/write";
    r->seconds = (double)(rpc_now_mono_us() - t0) / 1e6;
    r->calls_per_s = (double)r->calls / r->seconds;
    bench_result_fill(r, &s);
    ret = 0;
out:
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    bench_samples_free(&s);
    return ret;
}

static int parse(int argc, char **argv, long *clients, long *seconds, int *json,
                 int *keep, int *client, const char **sbd)
{
    const char *cname = NULL;
    for (int i = 1; i < argc; i++) {
        int r = 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 1;
        }
        if (strcmp(argv[i], "--libsb") == 0) {
            *client = CLIENT_LIBSB;
            continue;
        }
        if (strcmp(argv[i], "--json") == 0 ||
            strcmp(argv[i], "--keep-data") == 0) {
            *(argv[i][2] == 'j' ? json : keep) = 1;
            continue;
        }
        if ((r = bench_flag_int(argc, argv, &i, "--clients", 1, 640,
                                clients)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--seconds", 1, 3600,
                                seconds)) == 0 &&
            (r = bench_flag_str(argc, argv, &i, "--sbd", sbd)) == 0 &&
            (r = bench_flag_str(argc, argv, &i, "--client", &cname)) == 0) {
            fprintf(stderr, "sb-bench social: unknown option '%s'\n", argv[i]);
            return -1;
        }
        if (r < 0)
            return -1;
        if (cname != NULL) {
            int k = 0;
            while (k < 3 && strcmp(cname, client_names[k]) != 0)
                k++;
            if (k == 3) {
                fprintf(stderr,
                        "sb-bench social: --client is wire, nng "
                        "or libsb, not '%s'\n",
                        cname);
                return -1;
            }
            *client = k;
            cname = NULL;
        }
    }
    return 0;
}

int bench_social_main(int argc, char **argv)
{
    long clients = 50, seconds = 5;
    int json = 0, keep = 0, client = CLIENT_WIRE, port = 0, rc = 1;
    const char *sbd = NULL;
    char sbdbuf[512], dir[] = "/tmp/sb-bench-social.XXXXXX", cmd[300];
    sclient *cs = NULL;
    bench_result posts, sends, single;
    cpu_snap pcpu[2], scpu[2];
    pid_t pid = -1;

    int pr = parse(argc, argv, &clients, &seconds, &json, &keep, &client, &sbd);
    if (pr != 0)
        return pr > 0 ? 0 : 2;
    if (!sbd) {
        bench_default_sbd(sbdbuf, sizeof sbdbuf);
        sbd = sbdbuf;
    }
    if (!mkdtemp(dir) || !(cs = calloc((size_t)clients, sizeof *cs)))
        goto out;
    if ((pid = bench_start_sbd(sbd, dir, &port)) < 0) {
        fprintf(stderr, "sb-bench social: cannot start %s (log in %s)\n", sbd,
                dir);
        keep = 1;
        goto out;
    }
    if (!json)
        printf("sb-bench social: %ld clients (%s), %ld s per phase, child "
               "sbd %s on 127.0.0.1:%d, data in %s\n",
               clients,
               client == CLIENT_LIBSB ? "libsb, a thread each"
               : client == CLIENT_NNG
                   ? "nng, async, one call in flight each"
                   : "wire, one thread, one call in flight each",
               seconds, sbd, port, dir);
    if (setup_clients(cs, (int)clients, port) != 0 ||
        run_phase(cs, (int)clients, 1, (int)seconds, "durable posts", &posts,
                  pid, pcpu, client) != 0 ||
        run_phase(cs, (int)clients, 0, (int)seconds, "durable sends", &sends,
                  pid, scpu, client) != 0 ||
        run_lmdb_single(dir, (int)seconds, &single) != 0)
        goto out;
    bench_result_print(&posts, json);
    cpu_print("durable posts", &pcpu[0], &pcpu[1], posts.calls, json);
    bench_result_print(&sends, json);
    cpu_print("durable sends", &scpu[0], &scpu[1], sends.calls, json);
    bench_result_print(&single, json);
    if (json) {
        bench_json_head("ratio");
        printf(",\"posts_vs_single\":%.2f,\"sends_vs_single\":%.2f}\n",
               posts.calls_per_s / single.calls_per_s,
               sends.calls_per_s / single.calls_per_s);
    } else
        printf("ratio: posts %.2fx, sends %.2fx one-commit-per-write LMDB\n",
               posts.calls_per_s / single.calls_per_s,
               sends.calls_per_s / single.calls_per_s);
    rc = posts.errors || sends.errors ? 1 : 0;
out:
    for (long i = 0; cs && i < clients; i++) {
        sb_close(cs[i].s);
        if (cs[i].rc != NULL)
            rpc_client_close(cs[i].rc);
        bench_samples_free(&cs[i].lat);
    }
    free(cs);
    if (pid > 0) {
        kill(-pid, SIGTERM);
        for (int i = 0; i < 100 && waitpid(pid, NULL, WNOHANG) != pid; i++)
            bench_sleep_ms(100);
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    if (!keep) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "sb-bench social: could not remove %s\n", dir);
    }
    return rc;
}
