/* bench_proc.c: CPU and RSS of the processes under test from /proc, the
 * load generator's from getrusage, LMDB file sizes (bench_proc.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_proc.h"
#include "bench_util.h"
#include "rpc.h"

static int read_file(const char *path, char *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    *len = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return 0;
}

double bench_proc_cpu_s(pid_t pid, pid_t *ppid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    long pp = 0;
    size_t n;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_file(path, buf, sizeof buf, &n) != 0)
        return -1;
    /* after "(comm) ": state ppid ... field 14 utime, 15 stime */
    if ((p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &pp, &ut, &st) != 3)
        return -1;
    if (ppid != NULL)
        *ppid = (pid_t)pp;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long status_kib(pid_t pid, const char *key)
{
    char path[64], buf[4096], *p;
    size_t n;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (read_file(path, buf, sizeof buf, &n) != 0 ||
        (p = strstr(buf, key)) == NULL)
        return -1;
    return strtol(p + strlen(key), NULL, 10);
}

long bench_proc_rss_kib(pid_t pid)
{
    return status_kib(pid, "\nVmRSS:");
}

long bench_proc_anon_kib(pid_t pid)
{
    return status_kib(pid, "\nRssAnon:");
}

double bench_proc_ctxsw(pid_t pid)
{
    char path[320], buf[4096];
    struct dirent *e;
    double sum = 0;
    DIR *d;

    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    if ((d = opendir(path)) == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        const char *keys[] = {"\nvoluntary_ctxt_switches:",
                              "\nnonvoluntary_ctxt_switches:"};
        size_t n;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%s/status", (int)pid,
                 e->d_name);
        if (read_file(path, buf, sizeof buf, &n) != 0)
            continue;
        for (int k = 0; k < 2; k++) {
            const char *p = strstr(buf, keys[k]);
            if (p != NULL)
                sum += strtod(p + strlen(keys[k]), NULL);
        }
    }
    closedir(d);
    return sum;
}

/* The process's kind: its program's name, or for sbd its role word
 * (argv[1] when it is not a flag: `sbd app ...` is "app"). */
static void role_of(pid_t pid, char *out, size_t cap)
{
    char path[64], buf[512];
    size_t n;

    snprintf(out, cap, "?");
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    if (read_file(path, buf, sizeof buf, &n) != 0 || n == 0)
        return;
    const char *base = strrchr(buf, '/');
    base = base != NULL ? base + 1 : buf;
    size_t first = strlen(buf);
    if (strcmp(base, "sbd") == 0 && first + 1 < n && buf[first + 1] != '-')
        base = buf + first + 1;
    snprintf(out, cap, "%.*s", (int)strcspn(base, " :"), base);
}

static void add(bench_procs *s, pid_t pid, double cpu)
{
    if (s->n >= BENCH_PROCS_MAX)
        return;
    bench_proc *p = &s->p[s->n++];
    p->pid = pid;
    p->cpu_s = cpu;
    p->rss_kib = bench_proc_rss_kib(pid);
    p->anon_kib = bench_proc_anon_kib(pid);
    p->cs = bench_proc_ctxsw(pid);
    role_of(pid, p->role, sizeof p->role);
}

void bench_procs_take(bench_procs *s, const pid_t *roots, int n)
{
    struct rusage ru;
    struct dirent *e;
    DIR *d;

    memset(s, 0, sizeof *s);
    s->commits = -1;
    s->at_us = rpc_now_mono_us();
    getrusage(RUSAGE_SELF, &ru);
    s->self_cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    for (int i = 0; i < n; i++) {
        double c;
        if (roots[i] > 0 && (c = bench_proc_cpu_s(roots[i], NULL)) >= 0)
            add(s, roots[i], c);
    }
    if ((d = opendir("/proc")) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        pid_t pid, ppid = 0;
        double c;
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        pid = (pid_t)atoi(e->d_name);
        if ((c = bench_proc_cpu_s(pid, &ppid)) < 0)
            continue;
        for (int i = 0; i < n; i++)
            if (roots[i] > 0 && ppid == roots[i]) {
                add(s, pid, c);
                break;
            }
    }
    closedir(d);
}

static const bench_proc *find(const bench_procs *s, pid_t pid)
{
    for (int i = 0; i < s->n; i++)
        if (s->p[i].pid == pid)
            return &s->p[i];
    return NULL;
}

void bench_cpu_split_of(const bench_procs *a, const bench_procs *b,
                        uint64_t messages, bench_cpu_split *out)
{
    double m = messages > 0 ? (double)messages : 1;

    memset(out, 0, sizeof *out);
    out->self_us = (b->self_cpu_s - a->self_cpu_s) * 1e6 / m;
    out->commits = a->commits >= 0 && b->commits >= a->commits
                       ? (double)(b->commits - a->commits) / m
                       : -1;
    for (int i = 0; i < b->n; i++) {
        const bench_proc *was = find(a, b->p[i].pid);
        double us = (b->p[i].cpu_s - (was ? was->cpu_s : 0)) * 1e6 / m;
        double cs = (b->p[i].cs - (was ? was->cs : 0)) / m;
        if (strcmp(b->p[i].role, "app") == 0) {
            out->apps_cs += cs;
            if (out->apps == 0 || us < out->app_min_us)
                out->app_min_us = us;
            if (out->apps == 0 || us > out->app_max_us)
                out->app_max_us = us;
            out->apps_us += us;
            out->apps++;
        } else if (strcmp(b->p[i].role, "redis-server") == 0) {
            out->redis_us += us;
            out->redis_cs += cs;
        } else {
            out->sbd_us += us;
            out->sbd_cs += cs;
        }
        out->server_us += us;
    }
}

void bench_cpu_print(const char *name, const bench_cpu_split *c, int json)
{
    if (json) {
        char what[128];
        snprintf(what, sizeof what, "%s cpu", name);
        bench_json_head(what);
        printf(",\"server_us\":%.1f,\"sbd_us\":%.1f,\"apps_us\":%.1f,"
               "\"apps\":%d,\"redis_us\":%.1f,\"bench_us\":%.1f,"
               "\"sbd_cs\":%.2f,\"apps_cs\":%.2f,\"redis_cs\":%.2f,"
               "\"commits\":%.4f}\n",
               c->server_us, c->sbd_us, c->apps_us, c->apps, c->redis_us,
               c->self_us, c->sbd_cs, c->apps_cs, c->redis_cs, c->commits);
        return;
    }
    printf("  cpu per message: server %.1f us", c->server_us);
    if (c->redis_us > 0 && c->sbd_us == 0 && c->apps == 0)
        printf(" (redis-server)");
    else if (c->apps > 0)
        printf(" (sbd %.1f, %d apps %.1f: %.1f-%.1f each%s)", c->sbd_us,
               c->apps, c->apps_us, c->app_min_us, c->app_max_us,
               c->redis_us > 0 ? ", redis" : "");
    printf("; load generator %.1f us", c->self_us);
    if (c->apps > 0 || c->sbd_us > 0)
        printf("; context switches: sbd %.1f, apps %.1f", c->sbd_cs,
               c->apps_cs);
    else
        printf("; context switches %.2f", c->redis_cs);
    if (c->commits >= 0)
        printf("; store commits %.3f", c->commits);
    printf("\n");
}

void bench_cpu_add_round(bench_cpu_split *tot, uint64_t *tot_messages,
                         const bench_cpu_split *b, uint64_t messages)
{
    double n0 = (double)*tot_messages, n1 = (double)messages;
    double w0 = n0 + n1 > 0 ? n0 / (n0 + n1) : 0, w1 = 1 - w0;

#define MIX(f) tot->f = tot->f * w0 + b->f * w1
    MIX(self_us);
    MIX(sbd_us);
    MIX(apps_us);
    MIX(redis_us);
    MIX(server_us);
    MIX(sbd_cs);
    MIX(apps_cs);
    MIX(redis_cs);
    MIX(commits);
#undef MIX
    if (*tot_messages == 0 || b->app_min_us < tot->app_min_us)
        tot->app_min_us = b->app_min_us;
    if (b->app_max_us > tot->app_max_us)
        tot->app_max_us = b->app_max_us;
    if (b->apps > tot->apps)
        tot->apps = b->apps;
    *tot_messages += messages;
}

long long bench_lmdb_txnid(const char *dir)
{
    MDB_env *env = NULL;
    MDB_envinfo info;
    long long id = -1;

    if (mdb_env_create(&env) == 0 &&
        mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600) == 0 &&
        mdb_env_info(env, &info) == 0)
        id = (long long)info.me_last_txnid;
    if (env != NULL)
        mdb_env_close(env);
    return id;
}

static long long walk(const char *dir, int in_store, long long *store)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    long long sum = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            long long sub = walk(path, strcmp(e->d_name, "store") == 0, store);
            sum += sub > 0 ? sub : 0;
        } else if (strcmp(e->d_name, "data.mdb") == 0) {
            sum += (long long)st.st_size;
            if (in_store && store != NULL)
                *store += (long long)st.st_size;
        }
    }
    closedir(d);
    return sum;
}

long long bench_lmdb_bytes(const char *dir, long long *store_bytes)
{
    if (store_bytes != NULL)
        *store_bytes = 0;
    return walk(dir, 0, store_bytes);
}
