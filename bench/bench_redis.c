/* bench_redis.c: starting and stopping the benchmarks' redis-server
 * (bench_redis.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_redis.h"
#include "bench_util.h"
#include "sb_netutil.h"

int bench_redis_start(bench_redis *r, int aof_always)
{
    char port[16];

    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/sb-bench-redis.XXXXXX");
    if (mkdtemp(r->dir) == NULL || (r->port = sb_free_port()) < 0) {
        fprintf(stderr,
                "sb-bench: cannot make a temp dir or find a free port: %s\n",
                strerror(errno));
        return -1;
    }
    snprintf(port, sizeof port, "%d", r->port);
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        /* dies with the bench, however the bench ends (a crash too: it
         * would hold the lock file a `flock` left it otherwise) */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(null, 1);
        if (aof_always)
            execlp("redis-server", "redis-server", "--port", port, "--bind",
                   "127.0.0.1", "--dir", r->dir, "--save", "", "--appendonly",
                   "yes", "--appendfsync", "always", (char *)NULL);
        else
            execlp("redis-server", "redis-server", "--port", port, "--bind",
                   "127.0.0.1", "--dir", r->dir, "--save", "", "--appendonly",
                   "no", (char *)NULL);
        fprintf(stderr, "sb-bench: cannot run redis-server: %s\n",
                strerror(errno));
        _exit(127);
    }
    if (pid < 0)
        return -1;
    r->pid = pid;
    for (int i = 0; i < 100; i++) { /* up to 5 s to accept connections */
        if (sb_port_accepts(r->port)) {
            bench_progress("redis-server pid %d on 127.0.0.1:%d (%s), dir %s",
                           (int)pid, r->port,
                           aof_always ? "appendfsync always" : "no persistence",
                           r->dir);
            return 0;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            r->pid = 0;
            break;
        }
        usleep(50000);
    }
    fprintf(stderr, "sb-bench: redis-server did not start on port %d\n",
            r->port);
    bench_redis_stop(r);
    return -1;
}

static int rm_entry(const char *p, const struct stat *sb, int flag,
                    struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    remove(p);
    return 0;
}

void bench_rmtree(const char *dir)
{
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

void bench_redis_stop(bench_redis *r)
{
    if (r->pid > 0) {
        int status;
        kill(r->pid, SIGTERM);
        for (int i = 0; i < 100 && waitpid(r->pid, &status, WNOHANG) == 0; i++)
            usleep(50000);
        if (kill(r->pid, 0) == 0) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, &status, 0);
        }
        r->pid = 0;
    }
    if (r->dir[0] != '\0')
        bench_rmtree(r->dir);
    r->dir[0] = '\0';
}
