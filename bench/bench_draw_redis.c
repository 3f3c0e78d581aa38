/* bench_draw_redis.c: the Redis half of `sb-bench draw --vs-redis`: the
 * draw bench's client shape against redis-server (bench_redis.h) with or
 * without `appendfsync always`: C connections, one INCRBY in flight each,
 * closed loop, all multiplexed with epoll on one thread (bench_resp.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_draw.h"
#include "bench_resp.h"
#include "rpc.h"

typedef struct iload {
    const draw_shape *sh;
    bench_resp *r;
    const char *argv[3];
    int64_t issued, end, *t0;
    int live;
    bench_samples s;
    bench_result *res;
} iload;

static void issue(iload *l, int i)
{
    if (bench_resp_send(l->r, i, 3, l->argv, NULL) != 0) {
        l->res->errors++;
        l->live--;
        return;
    }
    l->t0[i] = rpc_now_mono_us();
    l->issued++;
}

static void on_reply(void *arg, int i, const bench_resp_reply *rep)
{
    iload *l = arg;
    int64_t now = rpc_now_mono_us();

    if (rep->n != 1 || rep->t[0].type != ':') {
        l->res->errors++;
        l->live--;
        return;
    }
    l->res->calls++;
    bench_samples_add(&l->s, now - l->t0[i]);
    if (l->sh->requests > 0 ? l->issued < l->sh->requests : now < l->end)
        issue(l, i);
    else
        l->live--;
}

int bench_redis_run(int port, const draw_shape *sh, const char *name,
                    bench_result *r)
{
    char count[16];
    iload l = {.sh = sh, .res = r, .argv = {"INCRBY", "sb:counter", count}};
    int rc = -1;

    memset(r, 0, sizeof *r);
    r->name = name;
    snprintf(count, sizeof count, "%u", sh->count);
    if ((l.t0 = calloc((size_t)sh->clients, sizeof *l.t0)) == NULL ||
        bench_resp_open(&l.r, port, sh->clients) != 0)
        goto out;
    int64_t start = rpc_now_mono_us(), next_progress = start + 1000000;
    l.end = start + (int64_t)sh->seconds * 1000000;
    l.live = sh->clients;
    for (int i = 0; i < sh->clients; i++)
        issue(&l, i);
    while (l.live > 0) {
        if (bench_resp_poll(l.r, 1000, on_reply, &l) <= 0)
            break;
        int64_t now = rpc_now_mono_us();
        if (now >= next_progress) {
            bench_draw_progress(name, start, r->calls);
            next_progress += 1000000;
        }
    }
    r->errors += bench_resp_errors(l.r);
    r->seconds = (double)(rpc_now_mono_us() - start) / 1e6;
    bench_result_fill(r, &l.s);
    rc = r->errors > 0 ? -1 : 0;
out:
    bench_resp_close(l.r);
    bench_samples_free(&l.s);
    free(l.t0);
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
