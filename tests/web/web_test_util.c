/* web_test_util.c: the web tests' shared steps (see web_test_util.h). */
#define _GNU_SOURCE
#include "web_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_social_proc.h"

int wt_start_sbd(tsp_sbd *s, int *web)
{
    if (tsp_init(s) != 0 || tsp_start(s) != 0)
        return -1;
    *web = s->port + 7;
    return wt_wait_port(*web, 10000) ? 0 : -1;
}

void wt_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int64_t wt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wt_wait_port(int port, int ms)
{
    for (int waited = 0; waited < ms; waited += 50) {
        int fd = hc_connect(port);
        if (fd >= 0) {
            close(fd);
            return 1;
        }
        wt_sleep_ms(50);
    }
    return 0;
}

char *wt_run_sb(int login_port, const char *input)
{
    char cmd[1024], path[] = "/tmp/sb-web-in.XXXXXX", *out = NULL;
    size_t n = 0, cap = 0;
    int fd = mkstemp(path);
    FILE *p;

    if (fd < 0)
        return NULL;
    if (write(fd, input, strlen(input)) != (ssize_t)strlen(input)) {
        close(fd);
        unlink(path);
        return NULL;
    }
    close(fd);
    snprintf(cmd, sizeof cmd, "%s/sb 127.0.0.1 %d < %s",
             getenv("SB_BIN_DIR") ? getenv("SB_BIN_DIR") : "bin", login_port,
             path);
    if ((p = popen(cmd, "r")) != NULL) {
        char buf[4096];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, p)) > 0) {
            if (n + k + 1 > cap) {
                cap = (n + k + 1) * 2;
                out = realloc(out, cap);
            }
            memcpy(out + n, buf, k);
            n += k;
            out[n] = '\0';
        }
        pclose(p);
    }
    unlink(path);
    return out;
}

char *wt_drop_deliveries(char *s)
{
    char *w = s;

    for (char *r = s; *r != '\0';) {
        size_t n = strcspn(r, "\n");
        int keep = strncmp(r, "<<<", 3) != 0;
        if (keep && w != r)
            memmove(w, r, n + (r[n] == '\n'));
        if (keep)
            w += n + (r[n] == '\n');
        r += n + (r[n] == '\n');
    }
    *w = '\0';
    return s;
}

char *wt_replace(char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), cnt = 0;
    char *out, *o;

    for (char *p = strstr(s, from); p; p = strstr(p + fl, from))
        cnt++;
    out = malloc(strlen(s) + cnt * (tl + 1) + 1);
    o = out;
    for (char *p = s, *q; (q = strstr(p, from)) != NULL || *p; p = q + fl) {
        if (q == NULL) {
            strcpy(o, p);
            o += strlen(p);
            break;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
    }
    *o = '\0';
    free(s);
    return out;
}

void wt_expect(wc *c, const char *cmd, int n, const char *const *args,
               const char *want)
{
    char *l = wc_cmd(c, cmd, n, args);
    assert_non_null(l);
    if (strcmp(l, want) != 0)
        fprintf(stderr, "%s %s: got '%s', want '%s'\n", c->user, cmd, l, want);
    assert_string_equal(l, want);
    free(l);
}

void wt_expect_has(wc *c, const char *cmd, int n, const char *const *args,
                   const char *want)
{
    char *l = wc_cmd(c, cmd, n, args);
    assert_non_null(l);
    if (strstr(l, want) == NULL)
        fprintf(stderr, "%s %s: got '%s', want it to hold '%s'\n", c->user, cmd,
                l, want);
    assert_non_null(strstr(l, want));
    free(l);
}

void wt_befriend(wc *a, wc *b)
{
    const char *i[] = {b->user}, *k[] = {a->user};
    wt_expect(a, "invite", 1, i, "Success!");
    wt_expect(b, "accept-invite", 1, k, "Success!");
}

int wt_stream(hc_sse *es, wc *c, long long after)
{
    char path[64];
    snprintf(path, sizeof path, "/api/events?after=%lld", after);
    if (hc_sse_open(es, c->port, path, c->cookie, NULL) != 0)
        return -1;
    for (int waited = 0; waited < 10000; waited += 10) {
        hc_sse_pump(es);
        if (es->ev != NULL && strstr(es->ev, "event: hello") != NULL)
            return 0;
        wt_sleep_ms(10);
    }
    return -1;
}

json_t *wt_next_delivery(hc_sse *es, int ms)
{
    int64_t end = wt_now_ms() + ms;

    do {
        char *ev;
        hc_sse_pump(es);
        while ((ev = hc_sse_next(es)) != NULL) {
            char *data = strstr(ev, "event: delivery\ndata: ");
            json_t *j = data ? json_loads(data + 22, 0, NULL) : NULL;
            free(ev);
            if (j != NULL)
                return j;
        }
        wt_sleep_ms(5);
    } while (wt_now_ms() < end);
    return NULL;
}

int wt_drain(wc *c, int n, const char *prefix)
{
    hc_sse es;
    int got = 0, st;
    long long last = 0;
    int64_t end = wt_now_ms() + 30000;

    assert_int_equal(wt_stream(&es, c, 0), 0);
    while (got < n && wt_now_ms() < end) {
        json_t *d = wt_next_delivery(&es, 2000);
        if (d == NULL)
            continue;
        long long seq = json_integer_value(json_object_get(d, "seq"));
        const char *t = json_string_value(json_object_get(d, "text"));
        assert_true(seq > last);
        assert_int_equal(strncmp(t, prefix, strlen(prefix)), 0);
        last = seq;
        got++;
        json_decref(d);
        if (got % 20 == 0 || got == n) { /* the page acknowledges */
            char ack[48];
            snprintf(ack, sizeof ack, "{\"seq\":%lld}", seq);
            json_decref(wc_post(c, "/api/ack", ack, NULL, &st));
        }
    }
    /* nothing more comes: no doubles */
    assert_null(wt_next_delivery(&es, 500));
    hc_sse_close(&es);
    return got;
}
