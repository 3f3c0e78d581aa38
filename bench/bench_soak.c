/* bench_soak.c: `sb-bench social --soak-minutes M --rate R`: the end-to-end
 * phase for M minutes with the senders paced to R messages/s in total and
 * the receivers acknowledging every batch, and a line every --interval
 * seconds: messages delivered+acked/s, delivery p50/p99 in that interval,
 * the RSS of every server process and of the bench (and its anonymous
 * part: RSS counts the LMDB pages a process has mapped), and the LMDB
 * files' sizes. At the end, verdicts: each process's RSS, its anonymous
 * memory and the store's file flat (every sample after the first line
 * within +-10% of it), p99 stable
 * (the second half's median interval p99 within +-10% of the first
 * half's), and the exactly-once check of the whole run (exit 1 if not). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_social.h"
#include "rpc.h"

#define SOAK_TICKS_MAX 4096

typedef struct series {
    double ref, lo, hi, last; /* first sample, extremes after it, last */
    int n;
} series;

/* A process's RSS and its anonymous part (RssAnon: without the mapped
 * LMDB pages, which count in RSS once touched and which the kernel may
 * take back at any time). */
typedef struct proc_series {
    pid_t pid;
    char role[24];
    series rss, anon;
} proc_series;

typedef struct soak {
    social_env *e;
    size_t mark;     /* latency samples already reported */
    uint64_t acked;  /* acked at the last line */
    int64_t last_us; /* time of the last line */
    int nticks;
    int64_t p99[SOAK_TICKS_MAX];
    proc_series rss[BENCH_PROCS_MAX + 1]; /* + the bench itself */
    int nrss;
    series store, all; /* LMDB bytes */
} soak;

static void track(series *s, double v)
{
    if (s->n++ == 0) {
        s->ref = s->lo = s->hi = v;
    } else {
        s->lo = v < s->lo ? v : s->lo;
        s->hi = v > s->hi ? v : s->hi;
    }
    s->last = v;
}

static proc_series *rss_series(soak *k, pid_t pid, const char *role)
{
    for (int i = 0; i < k->nrss; i++)
        if (k->rss[i].pid == pid)
            return &k->rss[i];
    if (k->nrss == BENCH_PROCS_MAX + 1)
        return NULL;
    proc_series *s = &k->rss[k->nrss++];
    s->pid = pid;
    snprintf(s->role, sizeof s->role, "%s", role);
    return s;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* p50 and p99 of the latencies since the last line. */
static void interval_pcts(soak *k, const bench_samples *lat, int64_t *p50,
                          int64_t *p99)
{
    size_t n = lat->n - k->mark;
    int64_t *v = n ? malloc(n * sizeof *v) : NULL;
    *p50 = *p99 = 0;
    if (v != NULL) {
        memcpy(v, lat->us + k->mark, n * sizeof *v);
        qsort(v, n, sizeof *v, cmp64);
        *p50 = v[(size_t)(0.50 * (double)(n - 1) + 0.5)];
        *p99 = v[(size_t)(0.99 * (double)(n - 1) + 0.5)];
        free(v);
    }
    k->mark = lat->n;
}

static void print_one(soak *k, pid_t pid, const char *role, long rss, long anon,
                      int json, int first)
{
    proc_series *s = rss_series(k, pid, role);
    if (s != NULL) {
        track(&s->rss, (double)rss);
        track(&s->anon, (double)anon);
    }
    if (json)
        printf("%s\"%s %d\":[%ld,%ld]", first ? "" : ",", role, (int)pid, rss,
               anon);
    else
        printf(" %s %.1f (%.1f)", role, (double)rss / 1024,
               (double)anon / 1024);
}

static void print_rss(soak *k, const bench_procs *ps, int json)
{
    pid_t me = getpid();
    printf(json ? ",\"rss_anon_kib\":{" : "  rss (anon) MiB:");
    print_one(k, me, "sb-bench", bench_proc_rss_kib(me),
              bench_proc_anon_kib(me), json, 1);
    for (int i = 0; i < ps->n; i++)
        print_one(k, ps->p[i].pid, ps->p[i].role, ps->p[i].rss_kib,
                  ps->p[i].anon_kib, json, 0);
    if (json)
        putchar('}');
}

static void soak_tick(void *arg, const bench_e2e_stats *st)
{
    soak *k = arg;
    int json = k->e->o.json;
    int64_t p50, p99;
    bench_procs ps;
    long long store = 0, all;
    char data[128];
    int64_t since = k->nticks == 0 ? st->start_us : k->last_us;
    double dt = (double)(st->now_us - since) / 1e6;

    interval_pcts(k, st->lat, &p50, &p99);
    if (k->nticks < SOAK_TICKS_MAX)
        k->p99[k->nticks++] = p99;
    social_snap(k->e, 0, &ps);
    snprintf(data, sizeof data, "%s/data", k->e->dir);
    all = bench_lmdb_bytes(data, &store);
    track(&k->store, (double)store);
    track(&k->all, (double)all);
    double t = (double)(st->now_us - st->start_us) / 1e6;
    double rate = dt > 0 ? (double)(st->acked - k->acked) / dt : 0;
    if (json) {
        bench_json_head("soak interval");
        printf(",\"t_s\":%.0f,\"acked_per_s\":%.1f,\"p50_us\":%lld,"
               "\"p99_us\":%lld,\"errors\":%llu",
               t, rate, (long long)p50, (long long)p99,
               (unsigned long long)st->errors);
    } else {
        printf("soak %6.0f s: %7.0f delivered+acked/s, delivery p50 %6.2f "
               "p99 %7.2f ms, lmdb MiB: store %.1f (all %.1f), errors %llu\n",
               t, rate, (double)p50 / 1000, (double)p99 / 1000,
               (double)store / 1048576, (double)all / 1048576,
               (unsigned long long)st->errors);
    }
    print_rss(k, &ps, json);
    printf(json ? "}\n" : "\n");
    fflush(stdout);
    k->acked = st->acked;
    k->last_us = st->now_us;
}

/* "flat" when every sample after the first is within +-10% of it. */
static int flat(const series *s)
{
    return s->n >= 2 && s->lo >= 0.9 * s->ref && s->hi <= 1.1 * s->ref;
}

static int64_t median(const int64_t *v, int n)
{
    int64_t tmp[SOAK_TICKS_MAX];
    if (n <= 0)
        return 0;
    memcpy(tmp, v, (size_t)n * sizeof *v);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp64);
    return tmp[n / 2];
}

static const char *word(int ok)
{
    return ok ? "flat" : "NOT flat";
}

/* Each process's lines; *rss and *anon: all flat (the bench left out: it
 * keeps every latency sample). */
static void proc_verdicts(const soak *k, int json, int *rss, int *anon)
{
    *rss = *anon = 1;
    for (int i = 0; i < k->nrss; i++) {
        const proc_series *p = &k->rss[i];
        int bench = strcmp(p->role, "sb-bench") == 0;
        *rss &= bench || flat(&p->rss);
        *anon &= bench || flat(&p->anon);
        if (!json)
            printf("  %s %d: rss %.1f -> %.1f MiB (%.1f..%.1f) %s; anon %.1f "
                   "-> %.1f MiB (%.1f..%.1f) %s\n",
                   p->role, (int)p->pid, p->rss.ref / 1024, p->rss.last / 1024,
                   p->rss.lo / 1024, p->rss.hi / 1024,
                   bench ? "(the bench keeps every sample)"
                         : word(flat(&p->rss)),
                   p->anon.ref / 1024, p->anon.last / 1024, p->anon.lo / 1024,
                   p->anon.hi / 1024, bench ? "" : word(flat(&p->anon)));
    }
}

static void verdicts(const soak *k, int json)
{
    int h = k->nticks / 2, rss, anon;
    double a = (double)median(k->p99, h);
    double b = (double)median(k->p99 + h, k->nticks - h);
    double moved = a > 0 ? (b - a) / a : 0;
    int stable = k->nticks >= 2 && moved >= -0.10 && moved <= 0.10;

    proc_verdicts(k, json, &rss, &anon);
    if (json) {
        bench_json_head("soak verdict");
        printf(",\"intervals\":%d,\"rss_flat\":%s,\"anon_flat\":%s,"
               "\"lmdb_store_flat\":%s,\"lmdb_all_flat\":%s,"
               "\"lmdb_store_first_bytes\":%.0f,\"lmdb_store_last_bytes\":%.0f,"
               "\"p99_first_half_us\":%.0f,\"p99_second_half_us\":%.0f,"
               "\"p99_stable\":%s}\n",
               k->nticks, rss ? "true" : "false", anon ? "true" : "false",
               flat(&k->store) ? "true" : "false",
               flat(&k->all) ? "true" : "false", k->store.ref, k->store.last, a,
               b, stable ? "true" : "false");
        return;
    }
    printf("  lmdb store: %.1f -> %.1f MiB (max %.1f): %s; all files %.1f -> "
           "%.1f MiB: %s\n",
           k->store.ref / 1048576, k->store.last / 1048576,
           k->store.hi / 1048576, word(flat(&k->store)), k->all.ref / 1048576,
           k->all.last / 1048576, word(flat(&k->all)));
    printf("  p99 by interval: first half's median %.2f ms, second half's "
           "%.2f ms (%+.0f%%): %s\n",
           a / 1000, b / 1000, moved * 100, stable ? "stable" : "NOT stable");
    printf("soak verdict: rss %s (anon %s), lmdb store %s, p99 %s (+-10%%; "
           "%d intervals)\n",
           word(rss), word(anon), word(flat(&k->store)),
           stable ? "stable" : "NOT stable", k->nticks);
}

int social_soak(social_env *e)
{
    soak *k = calloc(1, sizeof *k);
    bench_e2e_cfg cfg;
    bench_e2e_out out;
    bench_procs snap[2];
    bench_cpu_split cpu;
    int rc = 1;

    if (k == NULL)
        return 1;
    k->e = e;
    social_cfg(e, PH_E2E, &cfg);
    cfg.name = "soak end to end";
    cfg.send_name = "soak sends";
    cfg.seconds = (int)e->o.soak_s;
    cfg.rate = (double)(e->o.rate > 0 ? e->o.rate : 2000);
    cfg.tick_s = (int)(e->o.interval_s > 0 ? e->o.interval_s : 60);
    cfg.tick = soak_tick;
    cfg.tick_arg = k;
    bench_progress("soak: %d s at %.0f messages/s, a line every %d s",
                   cfg.seconds, cfg.rate, cfg.tick_s);
    if (social_sb_phase(e, PH_E2E, &cfg, &out, snap) != 0)
        goto out;
    bench_cpu_split_of(&snap[0], &snap[1], out.acked, &cpu);
    bench_result_print(&out.delivery, e->o.json);
    bench_result_print(&out.sends, e->o.json);
    bench_e2e_print_check(cfg.name, &out, e->o.json);
    bench_cpu_print(cfg.name, &cpu, e->o.json);
    verdicts(k, e->o.json);
    rc = out.ok ? 0 : 1;
out:
    free(k);
    return rc;
}
