/* bench_fleet.c: `sb-bench fleet --users N`: a cold fleet under a login
 * storm. Starts `sbd orchestrator` as its own process (local driver, so
 * its peak RSS can be read from /proc) and `sbd all --orchestrator URL`
 * (store, login, bus on 127.0.0.1) whose login assigns through it; N users
 * register (untimed), then log in from T threads at once: time until all
 * are in, login p50/p99, servers launched. Then everyone logs out and the
 * fleet shrinks to its minimum (0) after the idle grace; both daemons stop
 * and the app processes still alive (by fleet tag, in /proc) are leaked. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_main.h"
#include "bench_util.h"
#include "sb.h"
#include "sb_netutil.h"

typedef struct fbench {
    long users, threads, capacity;
    double grace;
    int json;
    const char *sbd;
    char dir[128], fleet[64], orch_url[64];
    int port; /* sbd all's base port */
    pid_t orch, all;
    atomic_long next;
    atomic_long errors;
    int phase; /* 0 register, 1 login, 2 logout */
    sb_user *u;
    bench_samples *lat; /* one per thread */
} fbench;

static void nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static pid_t spawn(const char *log, char *const argv[])
{
    pid_t parent = getpid(), pid = fork();

    if (pid != 0)
        return pid;
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent || !freopen(log, "a", stderr))
        _exit(127);
    execv(argv[0], argv);
    _exit(127);
}

/* Live processes tagged SB_FLEET=name. */
static int count_fleet(const char *name)
{
    char want[128], path[64], buf[65536], st[256], *p;
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;

    snprintf(want, sizeof want, "SB_FLEET=%s", name);
    while (d != NULL && (de = readdir(d)) != NULL) {
        int pid = atoi(de->d_name), hit = 0;
        FILE *fp;
        size_t k;

        if (pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d/environ", pid);
        if ((fp = fopen(path, "r")) == NULL)
            continue;
        k = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[k] = '\0';
        for (size_t i = 0; i < k; i += strlen(buf + i) + 1)
            hit |= strcmp(buf + i, want) == 0;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        if (!hit || (fp = fopen(path, "r")) == NULL)
            continue;
        k = fread(st, 1, sizeof st - 1, fp);
        fclose(fp);
        st[k] = '\0';
        p = strrchr(st, ')');
        n += p != NULL && p[2] != 'Z' && p[2] != 'X';
    }
    if (d != NULL)
        closedir(d);
    return n;
}

static long vm_hwm_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *fp;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if ((fp = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof line, fp) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    fclose(fp);
    return kib;
}

typedef struct worker {
    fbench *b;
    int idx;
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    fbench *b = w->b;
    sb_session *s = NULL;
    rpc_status st;
    long i;

    if (sb_open(&s, "127.0.0.1", b->port, &st) != RPC_OK) {
        atomic_fetch_add(&b->errors, 1);
        return NULL;
    }
    while ((i = atomic_fetch_add(&b->next, 1)) < b->users) {
        char name[32];
        int64_t t0 = rpc_now_mono_us();
        int rc;

        snprintf(name, sizeof name, "fb%ld", i);
        if (b->phase == 0)
            rc = sb_register(s, name, "pw", &st);
        else if (b->phase == 1)
            rc = sb_login(s, name, "pw", &b->u[i], &st);
        else
            rc = sb_logout(s, &b->u[i], &st);
        if (rc != RPC_OK) {
            if (atomic_fetch_add(&b->errors, 1) < 5)
                fprintf(stderr, "sb-bench fleet: %s: %s %s\n", name,
                        rpc_code_name(rc), st.message);
            continue;
        }
        if (b->phase == 1)
            bench_samples_add(&b->lat[w->idx], rpc_now_mono_us() - t0);
    }
    sb_close(s);
    return NULL;
}

/* Runs one phase over every user with b->threads threads; seconds. */
static double phase(fbench *b, int which)
{
    pthread_t th[256];
    worker w[256];
    int64_t t0 = rpc_now_mono_us();

    b->phase = which;
    atomic_store(&b->next, 0);
    for (long t = 0; t < b->threads; t++) {
        w[t] = (worker){b, (int)t};
        pthread_create(&th[t], NULL, run, &w[t]);
    }
    for (long t = 0; t < b->threads; t++)
        pthread_join(th[t], NULL);
    return (rpc_now_mono_us() - t0) / 1e6;
}

static int start_daemons(fbench *b)
{
    char data[200], odata[200], log[200], olog[200], ps[24], cap[24];
    char grace[32], maxs[24], store[64], bin[64], bout[64];
    int po = sb_free_port();

    /* sbd's fixed ports P..P+6 below the ephemeral range. */
    b->port = sb_free_port_range(8);
    if (b->port < 0 || po < 0)
        return -1;
    snprintf(b->orch_url, sizeof b->orch_url, "tcp://127.0.0.1:%d", po);
    snprintf(odata, sizeof odata, "%s/orch", b->dir);
    snprintf(data, sizeof data, "%s/data", b->dir);
    snprintf(olog, sizeof olog, "%s/orchestrator.log", b->dir);
    snprintf(log, sizeof log, "%s/sbd.log", b->dir);
    snprintf(ps, sizeof ps, "%d", b->port);
    snprintf(cap, sizeof cap, "%ld", b->capacity);
    snprintf(grace, sizeof grace, "%g", b->grace);
    snprintf(maxs, sizeof maxs, "%ld", b->users / b->capacity + 10);
    snprintf(store, sizeof store, "tcp://127.0.0.1:%d", b->port + 3);
    snprintf(bin, sizeof bin, "tcp://127.0.0.1:%d", b->port + 4);
    snprintf(bout, sizeof bout, "tcp://127.0.0.1:%d", b->port + 5);
    char *oargv[] = {(char *)b->sbd,
                     "orchestrator",
                     "--data-dir",
                     odata,
                     "--listen",
                     b->orch_url,
                     "--http-port",
                     "0",
                     "--capacity",
                     cap,
                     "--max-servers",
                     maxs,
                     "--idle-grace",
                     grace,
                     "--fleet-name",
                     b->fleet,
                     "--",
                     "--store",
                     store,
                     "--bus-in",
                     bin,
                     "--bus-out",
                     bout,
                     "--listen",
                     "tcp://127.0.0.1:0",
                     NULL};
    char *aargv[] = {(char *)b->sbd,
                     "all",
                     "--data-dir",
                     data,
                     "--base-port",
                     ps,
                     "--host",
                     "127.0.0.1",
                     "--pw-cost",
                     "fast",
                     "--orchestrator",
                     b->orch_url,
                     NULL};
    if ((b->orch = spawn(olog, oargv)) < 0 || (b->all = spawn(log, aargv)) < 0)
        return -1;
    nap(1500);
    if (waitpid(b->orch, NULL, WNOHANG) != 0 ||
        waitpid(b->all, NULL, WNOHANG) != 0) {
        fprintf(stderr, "sb-bench fleet: a daemon exited (logs in %s)\n",
                b->dir);
        return -1;
    }
    return 0;
}

static void stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        nap(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: sb-bench fleet [--users N] [--threads T] [--capacity "
               "C]\n"
               "                      [--idle-grace SECS] [--sbd PATH] "
               "[--json]\n"
               "N users (1000) register, then log in from T threads (50) "
               "through a cold\n"
               "fleet of C users per app server (10); then they log out and "
               "the fleet\n"
               "shrinks after the idle grace (2 s).\n");
}

/* 0 to go on, 1 help shown, -1 bad usage (printed). */
static int parse(int argc, char **argv, fbench *b)
{
    for (int i = 1; i < argc; i++) {
        const char *s;
        int r;

        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--json") == 0) {
            b->json = 1;
            continue;
        }
        if ((r = bench_flag_int(argc, argv, &i, "--users", 1, 100000,
                                &b->users)) ||
            (r = bench_flag_int(argc, argv, &i, "--threads", 1, 256,
                                &b->threads)) ||
            (r = bench_flag_int(argc, argv, &i, "--capacity", 1, 64,
                                &b->capacity))) {
            if (r < 0)
                return -1;
            continue;
        }
        /* seconds, as sbd orchestrator --idle-grace takes them */
        if ((r = bench_flag_str(argc, argv, &i, "--idle-grace", &s))) {
            char *end;
            if (r < 0)
                return -1;
            b->grace = strtod(s, &end);
            if (*s == '\0' || *end != '\0' || !(b->grace >= 0.1) ||
                b->grace > 600) {
                fprintf(stderr, "sb-bench fleet: --idle-grace takes seconds "
                                "from 0.1 to 600\n");
                return -1;
            }
            continue;
        }
        if ((r = bench_flag_str(argc, argv, &i, "--sbd", &s))) {
            if (r < 0)
                return -1;
            b->sbd = s;
            continue;
        }
        fprintf(stderr, "sb-bench fleet: unknown option '%s' (try --help)\n",
                argv[i]);
        return -1;
    }
    return 0;
}

int bench_fleet_main(int argc, char **argv)
{
    fbench b = {.users = 1000, .threads = 50, .capacity = 10, .grace = 2};
    char sbd[4096], cmd[200];
    bench_samples all = {0};
    bench_result r = {.name = "login (cold fleet)"};
    double t_reg, t_login, t_shrink;
    int servers, left = -1, leaked, rc = 1;
    long hwm;

    int pr = parse(argc, argv, &b);
    if (pr != 0)
        return pr > 0 ? 0 : 2;
    if (b.sbd == NULL) {
        /* sbd next to sb-bench (build/bin). */
        ssize_t n = readlink("/proc/self/exe", sbd, sizeof sbd - 8);
        char *slash;

        sbd[n > 0 ? n : 0] = '\0';
        if ((slash = strrchr(sbd, '/')) != NULL)
            strcpy(slash + 1, "sbd");
        b.sbd = sbd;
    }
    srand((unsigned)(getpid() ^ time(NULL)));
    snprintf(b.dir, sizeof b.dir, "/tmp/sb-bench-fleet-XXXXXX");
    snprintf(b.fleet, sizeof b.fleet, "bench-fleet-%d", (int)getpid());
    b.u = calloc((size_t)b.users, sizeof *b.u);
    b.lat = calloc((size_t)b.threads, sizeof *b.lat);
    if (mkdtemp(b.dir) == NULL || b.u == NULL || b.lat == NULL ||
        start_daemons(&b) != 0)
        goto out;
    t_reg = phase(&b, 0);
    bench_progress("registered %ld users in %.1f s (untimed); logging in",
                   b.users, t_reg);
    atomic_store(&b.errors, 0);
    t_login = phase(&b, 1);
    servers = count_fleet(b.fleet);
    hwm = vm_hwm_kib(b.orch);
    for (long t = 0; t < b.threads; t++)
        bench_samples_merge(&all, &b.lat[t]);
    r.seconds = t_login;
    r.calls = all.n;
    r.errors = (uint64_t)atomic_load(&b.errors);
    bench_result_fill(&r, &all);
    r.calls_per_s = r.calls / t_login;
    bench_result_print(&r, b.json);
    if (b.json) {
        bench_json_head("cold fleet");
        printf(",\"users\":%ld,\"seconds\":%.3f,\"servers\":%d,"
               "\"orchestrator_rss_kib\":%ld}\n",
               b.users - (long)r.errors, t_login, servers, hwm);
    } else {
        printf("fleet: %ld users logged in by a cold fleet in %.2f s; %d app "
               "servers running; orchestrator peak RSS %.1f MiB\n",
               b.users - (long)r.errors, t_login, servers, hwm / 1024.0);
    }
    bench_progress("logging out; waiting for the fleet to shrink");
    phase(&b, 2);
    int64_t t0 = rpc_now_mono_us();
    for (int i = 0; i < 1200 && (left = count_fleet(b.fleet)) > 0; i++)
        nap(100);
    t_shrink = (rpc_now_mono_us() - t0) / 1e6;
    if (b.json) {
        bench_json_head("shrink");
        printf(",\"servers_left\":%d,\"seconds\":%.3f,\"idle_grace_s\":%.3f}"
               "\n",
               left, t_shrink, b.grace);
    } else {
        printf("fleet: after logout, %d app servers left after %.1f s (idle "
               "grace %.1f s)\n",
               left, t_shrink, b.grace);
    }
    rc = r.errors == 0 && left == 0 ? 0 : 1;
out:
    stop(b.all);
    stop(b.orch);
    nap(1000);
    leaked = count_fleet(b.fleet);
    if (b.json) {
        bench_json_head("leaked");
        printf(",\"processes\":%d}\n", leaked);
    } else {
        printf("fleet: leaked app processes after both daemons stopped: %d\n",
               leaked);
    }
    if (leaked == 0 && rc == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", b.dir);
        if (system(cmd) != 0)
            bench_progress("could not remove %s", b.dir);
    } else {
        bench_progress("logs kept in %s", b.dir);
    }
    for (long t = 0; t < b.threads; t++)
        bench_samples_free(&b.lat[t]);
    bench_samples_free(&all);
    free(b.lat);
    free(b.u);
    return leaked == 0 ? rc : 1;
}
