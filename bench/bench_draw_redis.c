/* bench_draw_redis.c: the Redis half of `sb-bench draw --vs-redis`. It
 * starts redis-server on loopback (a free port, a temp dir) with or without
 * `appendfsync always`, and drives it with the draw bench's client shape:
 * C connections, one INCRBY in flight each, closed loop, all multiplexed
 * with epoll on one thread over a tiny RESP client (the only reply is an
 * integer). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_draw.h"
#include "sb_netutil.h"
#include "rpc.h"

typedef struct rconn {
    int fd;
    int done; /* finished or failed: events on it are ignored */
    int64_t t0;
    char buf[128];
    size_t len;
} rconn;

static int dial(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int bench_redis_start(bench_redis *r, int aof_always)
{
    char port[16];
    const char *tmp = getenv("TMPDIR");

    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s/sb-bench-redis.XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(r->dir) == NULL || (r->port = sb_free_port()) < 0) {
        fprintf(stderr,
                "sb-bench draw: cannot make a temp dir or find a "
                "free port: %s\n",
                strerror(errno));
        return -1;
    }
    snprintf(port, sizeof port, "%d", r->port);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        if (aof_always)
            execlp("redis-server", "redis-server", "--port", port, "--bind",
                   "127.0.0.1", "--dir", r->dir, "--save", "", "--appendonly",
                   "yes", "--appendfsync", "always", (char *)NULL);
        else
            execlp("redis-server", "redis-server", "--port", port, "--bind",
                   "127.0.0.1", "--dir", r->dir, "--save", "", "--appendonly",
                   "no", (char *)NULL);
        fprintf(stderr, "sb-bench draw: cannot run redis-server: %s\n",
                strerror(errno));
        _exit(127);
    }
    if (pid < 0)
        return -1;
    r->pid = pid;
    for (int i = 0; i < 100; i++) { /* up to 5 s to accept connections */
        int fd = dial(r->port);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            r->pid = 0;
            break;
        }
        usleep(50000);
    }
    fprintf(stderr, "sb-bench draw: redis-server did not start on port %d\n",
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

static int send_incrby(rconn *c, const char *cmd, size_t n)
{
    c->t0 = rpc_now_mono_us();
    c->len = 0;
    return write(c->fd, cmd, n) == (ssize_t)n ? 0 : -1;
}

/* Reads what is there; 1 when a whole integer reply arrived, 0 when more
 * is needed, -1 on an error reply or a closed connection. */
static int read_reply(rconn *c)
{
    ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
    if (n <= 0)
        return -1;
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    if (strstr(c->buf, "\r\n") == NULL)
        return c->len < sizeof c->buf - 1 ? 0 : -1;
    return c->buf[0] == ':' ? 1 : -1;
}

static int rconn_fd(void *arg, int i)
{
    return ((rconn *)arg)[i].fd;
}

int bench_redis_run(int port, const draw_shape *sh, const char *name,
                    bench_result *r)
{
    char cmd[96];
    int n = snprintf(cmd, sizeof cmd,
                     "*3\r\n$6\r\nINCRBY\r\n$10\r\nsb:counter\r\n$%d\r\n%u\r\n",
                     snprintf(NULL, 0, "%u", sh->count), sh->count);
    rconn *cs = calloc((size_t)sh->clients, sizeof *cs);
    struct epoll_event *evs = calloc((size_t)sh->clients, sizeof *evs);
    bench_samples s = {0};
    int live = 0, rc = -1, ep = -1;
    int64_t issued = 0, start = rpc_now_mono_us(), next_progress = start;
    int64_t end = start + (int64_t)sh->seconds * 1000000;

    memset(r, 0, sizeof *r);
    r->name = name;
    if (cs == NULL || evs == NULL)
        goto out;
    for (int i = 0; i < sh->clients; i++)
        cs[i].fd = -1;
    for (int i = 0; i < sh->clients; i++) {
        if ((cs[i].fd = dial(port)) < 0) {
            fprintf(stderr,
                    "sb-bench draw: cannot connect to Redis on "
                    "127.0.0.1:%d\n",
                    port);
            goto out;
        }
        live++;
    }
    if ((ep = bench_epoll_open(rconn_fd, cs, sh->clients)) < 0)
        goto out;
    start = rpc_now_mono_us();
    end = start + (int64_t)sh->seconds * 1000000;
    next_progress = start + 1000000;
    for (int i = 0; i < sh->clients; i++, issued++)
        if (send_incrby(&cs[i], cmd, (size_t)n) != 0)
            goto out;
    while (live > 0) {
        int k = epoll_wait(ep, evs, sh->clients, 1000);
        if (k < 0 && errno != EINTR)
            goto out;
        int64_t now = rpc_now_mono_us();
        for (int j = 0; j < k; j++) {
            int i = (int)evs[j].data.u32;
            if (cs[i].done)
                continue;
            int got = read_reply(&cs[i]);
            if (got < 0) {
                r->errors++;
                cs[i].done = 1, live--;
                continue;
            }
            if (got == 0)
                continue;
            r->calls++;
            bench_samples_add(&s, now - cs[i].t0);
            int more = sh->requests > 0 ? issued < sh->requests : now < end;
            if (!more || send_incrby(&cs[i], cmd, (size_t)n) != 0)
                cs[i].done = 1, live--;
            else
                issued++;
        }
        if (now >= next_progress) {
            bench_draw_progress(name, start, r->calls);
            next_progress += 1000000;
        }
    }
    r->seconds = (double)(rpc_now_mono_us() - start) / 1e6;
    bench_result_fill(r, &s);
    rc = r->errors > 0 ? -1 : 0;
out:
    for (int i = 0; cs != NULL && i < sh->clients; i++)
        if (cs[i].fd >= 0)
            close(cs[i].fd);
    if (ep >= 0)
        close(ep);
    bench_samples_free(&s);
    free(cs);
    free(evs);
    return rc;
}

int bench_redis_set_start(bench_redis_set *s, int port)
{
    memset(s, 0, sizeof *s);
    if (port != 0) { /* the one given, as it is */
        s->n = 1;
        s->srv[0].port = port;
        s->names[0] = "redis";
        return 0;
    }
    s->names[0] = "redis-nopersist";
    s->names[1] = "redis-aof-always";
    for (; s->n < 2; s->n++)
        if (bench_redis_start(&s->srv[s->n], s->n) != 0) {
            bench_redis_set_stop(s);
            return -1;
        }
    return 0;
}

int bench_redis_set_round(bench_redis_set *s, const draw_shape *sh)
{
    for (int i = 0; i < s->n; i++) {
        bench_result r;
        if (bench_redis_run(s->srv[i].port, sh, s->names[i], &r) != 0) {
            fprintf(stderr, "sb-bench draw: the %s run failed\n", s->names[i]);
            return -1;
        }
        bench_result_add_round(&s->tot[i], &r);
        bench_progress("%s: %.0f calls/s", s->names[i], r.calls_per_s);
    }
    return 0;
}

void bench_redis_set_print(const bench_redis_set *s, double draws_per_s,
                           int json)
{
    for (int i = 0; i < s->n; i++) {
        const bench_result *r = &s->tot[i];
        double ratio = r->calls_per_s > 0 ? draws_per_s / r->calls_per_s : 0;
        bench_result_print(r, json);
        if (json) {
            bench_json_head("ratio");
            printf(",\"vs\":\"%s\",\"draw_over_redis\":%.3f}\n", s->names[i],
                   ratio);
        } else
            printf("ratio      draw/%s calls/s = %.3f\n", s->names[i], ratio);
    }
}

void bench_redis_set_stop(bench_redis_set *s)
{
    for (int i = 0; i < 2; i++)
        if (s->srv[i].pid > 0 || s->srv[i].dir[0] != '\0')
            bench_redis_stop(&s->srv[i]);
}
