/* fleet_local.c: the local driver. launch() spawns a child from the argv
 * template with the fleet tag in its environment and returns at once;
 * terminate() sends SIGTERM and poll() sends SIGKILL once the grace is
 * over, and reaps with waitpid(WNOHANG) (no SIGCHLD handler, so nothing
 * else in the process is disturbed). list() scans /proc for the tag. */
#include "fleet_local.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fleet.h"
#include "sb_log.h"

extern char **environ;

#define ARG_MAX_LEN 1024
#define MAX_ARGS 64

typedef struct tracked {
    int pid;
    unsigned long long start;
    int64_t stop_at; /* monotonic ms of SIGTERM; 0 = not stopping */
    int killed;
} tracked;

typedef struct local_ctx {
    char **argv; /* template copy */
    size_t argc;
    char *fleet;
    uint32_t stop_grace_ms;
    int die_with_parent;
    tracked *t;
    size_t nt, capt;
} local_ctx;

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fleet_local_parse_instance(const char *id, int *pid,
                               unsigned long long *start)
{
    char *end;
    long p;

    errno = 0;
    p = strtol(id, &end, 10);
    if (errno != 0 || end == id || *end != '.' || p <= 0 || p > 1 << 30)
        return -1;
    *start = strtoull(end + 1, &end, 10);
    if (*end != 0)
        return -1;
    *pid = (int)p;
    return 0;
}

/* /proc/PID/stat: state and start time (field 22), after the last ')' so
 * that odd process names cannot shift fields. Returns 0 or -1 (no such). */
static int proc_stat(int pid, char *state, unsigned long long *start)
{
    char path[64], buf[1024], *p;
    FILE *fp;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if ((fp = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = 0;
    if ((p = strrchr(buf, ')')) == NULL)
        return -1;
    /* ") S ppid pgrp ... starttime": state is field 3, start field 22. */
    if (sscanf(p + 1,
               " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
               "%*d %*d %*d %*d %*d %*d %llu",
               state, start) != 2)
        return -1;
    return 0;
}

/* 1 if pid still is the process that started at start; reaps our zombie. */
static int proc_alive(int pid, unsigned long long start)
{
    unsigned long long s;
    char state;

    if (proc_stat(pid, &state, &s) != 0 || s != start)
        return 0;
    if (state == 'Z') {
        waitpid(pid, NULL, WNOHANG); /* ours: reap; not ours: harmless */
        return 0;
    }
    return 1;
}

static int track(local_ctx *c, int pid, unsigned long long start)
{
    for (size_t i = 0; i < c->nt; i++)
        if (c->t[i].pid == pid && c->t[i].start == start)
            return 0;
    if (c->nt == c->capt) {
        size_t cap = c->capt ? c->capt * 2 : 16;
        tracked *v = realloc(c->t, cap * sizeof(*v));

        if (v == NULL)
            return -1;
        c->t = v;
        c->capt = cap;
    }
    c->t[c->nt++] = (tracked){pid, start, 0, 0};
    return 0;
}

static const char *local_name(void *ctx)
{
    return "local";
}

/* Expands "{id}" and "{fleet}" in one template element. */
static int expand(const char *tpl, const char *id, const char *tag_name,
                  char *out, size_t cap)
{
    size_t n = 0;

    for (const char *p = tpl; *p;) {
        const char *rep = NULL;
        size_t skip = 1, len;

        if (strncmp(p, "{id}", 4) == 0)
            rep = id, skip = 4;
        else if (strncmp(p, "{fleet}", 7) == 0)
            rep = tag_name, skip = 7;
        len = rep != NULL ? strlen(rep) : 1;
        if (n + len >= cap)
            return -1;
        memcpy(out + n, rep != NULL ? rep : p, len);
        n += len;
        p += skip;
    }
    out[n] = 0;
    return 0;
}

/* environ plus the tag variables and, when children die with us,
 * SB_PARENT_PID (ours replace inherited ones). */
static char **make_env(const char *tag_name, const char *id, char *tag,
                       char *srv, char *parent, size_t cap)
{
    size_t n = 0, k = 0;
    char **env;

    while (environ[n] != NULL)
        n++;
    if ((env = calloc(n + 4, sizeof(*env))) == NULL)
        return NULL;
    snprintf(tag, cap, "SB_FLEET=%s", tag_name);
    snprintf(srv, cap, "SB_FLEET_SERVER=%s", id);
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "SB_FLEET=", 9) != 0 &&
            strncmp(environ[i], "SB_FLEET_SERVER=", 16) != 0 &&
            strncmp(environ[i], "SB_PARENT_PID=", 14) != 0)
            env[k++] = environ[i];
    env[k++] = tag;
    env[k++] = srv;
    if (parent != NULL)
        env[k++] = parent;
    env[k] = NULL;
    return env;
}

static int spawn(local_ctx *c, const char *id, char **argv, int *pid,
                 rpc_status *st)
{
    char tag[FLEET_ID_MAX + 32], srv[FLEET_ID_MAX + 32];
    char parent[FLEET_ID_MAX + 32];
    char **env;

    snprintf(parent, sizeof(parent), "SB_PARENT_PID=%d", (int)getpid());
    env = make_env(c->fleet, id, tag, srv, c->die_with_parent ? parent : NULL,
                   sizeof(tag));
    if (env == NULL)
        return fleet_status(st, RPC_UNAVAILABLE, "local: out of memory");
    posix_spawnattr_t attr;
    int rc;

    posix_spawnattr_init(&attr);
    /* Own process group: a ^C at the orchestrator's terminal does not kill
     * the fleet (a restarted orchestrator adopts it). */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    rc = posix_spawnp(pid, argv[0], NULL, &attr, argv, env);
    posix_spawnattr_destroy(&attr);
    free(env);
    if (rc != 0)
        return fleet_status(st, RPC_UNAVAILABLE, "local: cannot start %s: %s",
                            argv[0], strerror(rc));
    return RPC_OK;
}

static int local_launch(void *ctx, const char *server_id,
                        char instance_id[FLEET_INSTANCE_MAX], rpc_status *st)
{
    local_ctx *c = ctx;
    char *argv[MAX_ARGS + 1] = {0};
    unsigned long long start = 0;
    char state;
    int pid, rc = RPC_OK;

    for (size_t i = 0; i < c->argc; i++) {
        if ((argv[i] = malloc(ARG_MAX_LEN)) == NULL ||
            expand(c->argv[i], server_id, c->fleet, argv[i], ARG_MAX_LEN)) {
            rc = fleet_status(st, RPC_INVALID_ARGUMENT,
                              "local: argument %zu too long", i);
            goto out;
        }
    }
    if ((rc = spawn(c, server_id, argv, &pid, st)) != RPC_OK)
        goto out;
    if (proc_stat(pid, &state, &start) != 0)
        sb_warn("fleet", "local: no /proc entry for pid %d", pid);
    track(c, pid, start);
    snprintf(instance_id, FLEET_INSTANCE_MAX, "%d.%llu", pid, start);
    sb_info("fleet", "local: started %s as pid %d", server_id, pid);
out:
    for (size_t i = 0; i < c->argc; i++)
        free(argv[i]);
    return rc;
}

static int local_terminate(void *ctx, const char *instance_id, rpc_status *st)
{
    local_ctx *c = ctx;
    unsigned long long start;
    int pid;

    if (fleet_local_parse_instance(instance_id, &pid, &start) != 0)
        return fleet_status(st, RPC_NOT_FOUND,
                            "local: %s is not a local instance id",
                            instance_id);
    if (!proc_alive(pid, start))
        return RPC_OK;
    if (track(c, pid, start) != 0)
        return fleet_status(st, RPC_UNAVAILABLE, "local: out of memory");
    for (size_t i = 0; i < c->nt; i++) {
        if (c->t[i].pid == pid && c->t[i].start == start &&
            c->t[i].stop_at == 0) {
            c->t[i].stop_at = mono_ms();
            kill(pid, SIGTERM);
            sb_info("fleet", "local: sent SIGTERM to pid %d", pid);
        }
    }
    return RPC_OK;
}

static int local_alive(void *ctx, const char *instance_id)
{
    unsigned long long start;
    int pid;

    if (fleet_local_parse_instance(instance_id, &pid, &start) != 0)
        return 0;
    return proc_alive(pid, start);
}

static void local_poll(void *ctx)
{
    local_ctx *c = ctx;
    int64_t now = mono_ms();

    for (size_t i = 0; i < c->nt;) {
        tracked *t = &c->t[i];
        int status;

        if (waitpid(t->pid, &status, WNOHANG) == t->pid ||
            !proc_alive(t->pid, t->start)) {
            sb_info("fleet", "local: pid %d is gone", t->pid);
            *t = c->t[--c->nt];
            continue;
        }
        if (t->stop_at != 0 && !t->killed &&
            now - t->stop_at >= c->stop_grace_ms) {
            sb_warn("fleet",
                    "local: pid %d ignored SIGTERM for %u ms: "
                    "SIGKILL",
                    t->pid, c->stop_grace_ms);
            kill(t->pid, SIGKILL);
            t->killed = 1;
        }
        i++;
    }
}

/* Finds "KEY=value" in a NUL-separated environment block. */
static const char *env_get(const char *blk, size_t n, const char *key)
{
    size_t klen = strlen(key);

    for (size_t i = 0; i < n;) {
        const char *e = blk + i;
        size_t len = strnlen(e, n - i);

        if (len > klen && memcmp(e, key, klen) == 0 && e[klen] == '=' &&
            i + len < n)
            return e + klen + 1;
        i += len + 1;
    }
    return NULL;
}

/* Reads /proc/PID/environ; 0 and the server id if it carries our tag. */
static int tagged(const local_ctx *c, int pid, char *server_id, size_t cap)
{
    char path[64], *blk = NULL;
    const char *v;
    size_t n = 0;
    FILE *fp;
    int rc = -1;

    snprintf(path, sizeof(path), "/proc/%d/environ", pid);
    if ((fp = fopen(path, "r")) == NULL)
        return -1;
    if ((blk = malloc(65536)) == NULL)
        goto out;
    n = fread(blk, 1, 65535, fp);
    blk[n] = 0;
    if ((v = env_get(blk, n, "SB_FLEET")) == NULL || strcmp(v, c->fleet) != 0)
        goto out;
    v = env_get(blk, n, "SB_FLEET_SERVER");
    snprintf(server_id, cap, "%s", v != NULL ? v : "");
    rc = 0;
out:
    free(blk);
    fclose(fp);
    return rc;
}

static int local_list(void *ctx, fleet_instance **out, size_t *n,
                      rpc_status *st)
{
    local_ctx *c = ctx;
    fleet_instance *v = NULL;
    size_t cap = 0;
    struct dirent *de;
    DIR *d = opendir("/proc");

    *out = NULL;
    *n = 0;
    if (d == NULL)
        return fleet_status(st, RPC_UNAVAILABLE, "local: cannot read /proc: %s",
                            strerror(errno));
    while ((de = readdir(d)) != NULL) {
        char sid[FLEET_ID_MAX], state;
        unsigned long long start;
        int pid = atoi(de->d_name);

        if (pid <= 0 || pid == getpid() || tagged(c, pid, sid, sizeof(sid)) ||
            proc_stat(pid, &state, &start) != 0 || !proc_alive(pid, start))
            continue;
        if (*n == cap) {
            fleet_instance *nv =
                realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
            if (nv == NULL) {
                closedir(d);
                free(v);
                *n = 0;
                return fleet_status(st, RPC_UNAVAILABLE,
                                    "local: out of memory");
            }
            v = nv;
        }
        memset(&v[*n], 0, sizeof(v[*n]));
        snprintf(v[*n].instance_id, FLEET_INSTANCE_MAX, "%d.%llu", pid, start);
        memcpy(v[*n].server_id, sid, sizeof(sid));
        v[(*n)++].running = 1;
    }
    closedir(d);
    *out = v;
    return RPC_OK;
}

static void local_destroy(void *ctx)
{
    local_ctx *c = ctx;

    if (c == NULL)
        return;
    for (size_t i = 0; i < c->argc; i++)
        free(c->argv[i]);
    free(c->argv);
    free(c->fleet);
    free(c->t);
    free(c);
}

int fleet_local_create(const fleet_local_options *o, void **ctx, rpc_status *st)
{
    local_ctx *c;
    size_t argc = 0;

    while (o->argv != NULL && o->argv[argc] != NULL)
        argc++;
    if (argc == 0 || argc > MAX_ARGS)
        return fleet_status(st, RPC_INVALID_ARGUMENT,
                            "local: argv must have 1..%d elements", MAX_ARGS);
    if ((c = calloc(1, sizeof(*c))) == NULL ||
        (c->argv = calloc(argc, sizeof(*c->argv))) == NULL)
        goto nomem;
    for (; c->argc < argc; c->argc++)
        if ((c->argv[c->argc] = strdup(o->argv[c->argc])) == NULL)
            goto nomem;
    c->fleet = strdup(o->fleet_name != NULL ? o->fleet_name : "switchboard");
    if (c->fleet == NULL)
        goto nomem;
    c->stop_grace_ms = o->stop_grace_ms ? o->stop_grace_ms : 5000;
    c->die_with_parent = o->die_with_parent;
    *ctx = c;
    return RPC_OK;
nomem:
    local_destroy(c);
    return fleet_status(st, RPC_INTERNAL, "local: out of memory");
}

const fleet_driver fleet_local_driver = {
    .name = local_name,
    .launch = local_launch,
    .terminate = local_terminate,
    .list = local_list,
    .alive = local_alive,
    .poll = local_poll,
    .destroy = local_destroy,
};
