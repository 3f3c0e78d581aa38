/* bench_util.c: latency samples, percentiles and flag parsing for
 * sb-bench (see bench_util.h). Percentiles are exact: every sample is
 * kept and sorted once at the end, outside the measured window. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

int bench_samples_add(bench_samples *s, int64_t us)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        int64_t *nu = realloc(s->us, cap * sizeof *nu);
        if (nu == NULL)
            return -1;
        s->us = nu;
        s->cap = cap;
    }
    s->us[s->n++] = us;
    return 0;
}

int bench_samples_merge(bench_samples *to, bench_samples *from)
{
    for (size_t i = 0; i < from->n; i++)
        if (bench_samples_add(to, from->us[i]) != 0)
            return -1;
    bench_samples_free(from);
    return 0;
}

void bench_samples_free(bench_samples *s)
{
    free(s->us);
    memset(s, 0, sizeof *s);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t pct(const bench_samples *s, double q)
{
    if (s->n == 0)
        return 0;
    size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
    return s->us[i];
}

void bench_result_fill(bench_result *r, bench_samples *s)
{
    if (s->n > 0) /* qsort wants a buffer even for none */
        qsort(s->us, s->n, sizeof *s->us, cmp64);
    r->p50_us = pct(s, 0.50);
    r->p90_us = pct(s, 0.90);
    r->p99_us = pct(s, 0.99);
    r->max_us = s->n ? s->us[s->n - 1] : 0;
    r->calls_per_s = r->seconds > 0 ? (double)r->calls / r->seconds : 0;
}

int bench_full_io(int fd, void *buf, size_t n, int writing)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = writing ? write(fd, p, n) : read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int bench_epoll_open(int (*fd_of)(void *arg, int i), void *arg, int n)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);

    for (int i = 0; ep >= 0 && i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd_of(arg, i), &ev) != 0) {
            int e = errno;
            close(ep);
            errno = e;
            return -1;
        }
    }
    return ep;
}

void bench_result_add_round(bench_result *tot, const bench_result *r)
{
    tot->name = r->name;
    tot->seconds += r->seconds;
    tot->calls += r->calls;
    tot->errors += r->errors;
    tot->calls_per_s = tot->seconds > 0 ? (double)tot->calls / tot->seconds : 0;
    if (r->p50_us > tot->p50_us)
        tot->p50_us = r->p50_us;
    if (r->p90_us > tot->p90_us)
        tot->p90_us = r->p90_us;
    if (r->p99_us > tot->p99_us)
        tot->p99_us = r->p99_us;
    if (r->max_us > tot->max_us)
        tot->max_us = r->max_us;
}

static const char *bench_name = "sb-bench";

void bench_set_name(const char *cmd)
{
    bench_name = cmd;
}

void bench_progress(const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    fflush(stdout);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sb-bench %s: %s\n", bench_name, msg);
}

/* A JSON string's characters (names are ours: no control bytes). */
static void json_str(const char *s)
{
    for (; *s != '\0'; s++)
        printf(*s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
}

void bench_json_head(const char *name)
{
    printf("{\"bench\":\"");
    json_str(bench_name);
    printf("\",\"name\":\"");
    json_str(name);
    printf("\"");
}

void bench_result_print(const bench_result *r, int json)
{
    if (json) {
        bench_json_head(r->name);
        printf(",\"seconds\":%.3f,\"calls\":%llu,"
               "\"errors\":%llu,\"calls_per_s\":%.1f,\"p50_us\":%lld,"
               "\"p90_us\":%lld,\"p99_us\":%lld,\"max_us\":%lld}\n",
               r->seconds, (unsigned long long)r->calls,
               (unsigned long long)r->errors, r->calls_per_s,
               (long long)r->p50_us, (long long)r->p90_us, (long long)r->p99_us,
               (long long)r->max_us);
        return;
    }
    printf("%-10s %10.0f calls/s  p50 %6lld us  p90 %6lld us  p99 %6lld us"
           "  max %7lld us  (%llu calls, %llu errors, %.1f s)\n",
           r->name, r->calls_per_s, (long long)r->p50_us, (long long)r->p90_us,
           (long long)r->p99_us, (long long)r->max_us,
           (unsigned long long)r->calls, (unsigned long long)r->errors,
           r->seconds);
}

int bench_flag_str(int argc, char **argv, int *i, const char *name,
                   const char **out)
{
    if (strcmp(argv[*i], name) != 0)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "sb-bench: %s needs a value\n", name);
        return -1;
    }
    *out = argv[++*i];
    return 1;
}

int bench_flag_int(int argc, char **argv, int *i, const char *name, long lo,
                   long hi, long *out)
{
    const char *v;
    int r = bench_flag_str(argc, argv, i, name, &v);
    if (r != 1)
        return r;
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
        fprintf(stderr, "sb-bench: %s takes a whole number from %ld to %ld\n",
                name, lo, hi);
        return -1;
    }
    *out = n;
    return 1;
}
