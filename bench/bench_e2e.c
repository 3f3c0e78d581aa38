/* bench_e2e.c: the senders/receivers driver and its exactly-once ledger
 * (bench_e2e.h). One thread: the loop starts due sends, lets the
 * transport read replies, and moves each receiver through receive -> ack
 * -> receive ... and, once every sender is done and it has everything its
 * senders were told was sent, a final look at its mailbox. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_e2e.h"
#include "rpc.h"

enum { R_RECV, R_ACK, R_VERIFY, R_DONE, R_DEAD };

struct bench_e2e {
    const bench_e2e_cfg *cfg;
    const bench_e2e_ops *ops;
    void *t;
    int64_t start, end, interval_us, last_done, sends_done;
    int stopping, sbusy_n, rdone_n, rdead_n;
    /* senders */
    uint8_t *sbusy, *sdead;
    int64_t *t0, *due;
    uint64_t *k, *sent, *unsure;
    /* receivers */
    uint8_t *rstate;
    uint64_t *batch, *got, *expect;
    int *ghead, *gnext; /* each group's receivers: head, next in group */
    /* the ledger: per (receiver r, sender s) at r * senders + s */
    uint64_t *next, *gap;
    uint64_t want; /* deliveries due: every OK'd send x its group's size */
    /* totals */
    uint64_t nsent, delivered, acked, acked_win, errors;
    uint64_t dup, misrouted, garbled, left;
    bench_samples lat, slat;
};

static void issue(bench_e2e *d, int s, int64_t now)
{
    char text[4200];
    int len = snprintf(text, sizeof text, "m%d.%" PRIu64 ".%lld", s, d->k[s],
                       (long long)now);
    int pad = d->cfg->pad < (int)sizeof text ? d->cfg->pad : 0;
    for (; len < pad; len++)
        text[len] = 'x';
    text[len] = '\0';
    int to = d->cfg->dest != NULL ? d->cfg->dest[s] : -1;
    if (d->ops->send(d->t, s, to, text, (size_t)len) != 0) {
        d->sdead[s] = 1;
        d->errors++;
        return;
    }
    d->sbusy[s] = 1;
    d->sbusy_n++;
    d->t0[s] = now;
    d->k[s]++;
}

void bench_e2e_sent(bench_e2e *d, int s, int ok)
{
    int64_t now = rpc_now_mono_us();

    if (!d->sbusy[s])
        return;
    d->sbusy[s] = 0;
    if (--d->sbusy_n == 0 && d->stopping)
        d->sends_done = now;
    if (!ok) {
        d->unsure[s]++;
        d->errors++;
        d->sdead[s] = 1;
        return;
    }
    d->sent[s]++;
    d->nsent++;
    if (d->cfg->receivers > 0)
        for (int r = d->ghead[d->cfg->dest[s]]; r >= 0; r = d->gnext[r]) {
            d->expect[r]++;
            d->want++;
        }
    bench_samples_add(&d->slat, now - d->t0[s]);
    if (d->cfg->rate <= 0 && !d->stopping)
        issue(d, s, now);
}

static int group_of(const bench_e2e *d, int r)
{
    return d->cfg->member != NULL ? d->cfg->member[r] : r;
}

void bench_e2e_delivered(bench_e2e *d, int r, const char *text, size_t len)
{
    char buf[64];
    int s;
    unsigned long long k;
    long long t0;
    int64_t now = rpc_now_mono_us();

    snprintf(buf, sizeof buf, "%.*s", (int)(len < 63 ? len : 63), text);
    d->batch[r]++;
    d->delivered++;
    if (sscanf(buf, "m%d.%llu.%lld", &s, &k, &t0) != 3 || s < 0 ||
        s >= d->cfg->senders) {
        d->garbled++;
        return;
    }
    if (d->cfg->dest[s] != group_of(d, r)) {
        d->misrouted++;
        return;
    }
    size_t at = (size_t)r * (size_t)d->cfg->senders + (size_t)s;
    if (k < d->next[at]) {
        d->dup++;
        return;
    }
    d->gap[at] += k - d->next[at];
    d->next[at] = k + 1;
    d->got[r]++; /* what is due to r and came: the end of its wait */
    bench_samples_add(&d->lat, now - t0);
}

static void kill_receiver(bench_e2e *d, int r)
{
    d->errors++;
    d->rstate[r] = R_DEAD;
    d->rdead_n++;
}

/* After an empty receive or an answered ack: ask again, or, once every
 * sender is done and r has what they sent it, take the final look. */
static void next_step(bench_e2e *d, int r)
{
    if (d->stopping && d->sbusy_n == 0 && d->got[r] >= d->expect[r]) {
        if (d->cfg->no_ack) { /* nothing deleted: no final look */
            d->rstate[r] = R_DONE;
            d->rdone_n++;
            d->last_done = rpc_now_mono_us();
            return;
        }
        d->rstate[r] = R_VERIFY;
        if (d->ops->verify(d->t, r) != 0)
            kill_receiver(d, r);
        return;
    }
    d->rstate[r] = R_RECV;
    if (d->ops->receive(d->t, r,
                        d->cfg->wait_ms > 0 ? d->cfg->wait_ms : 1000) != 0)
        kill_receiver(d, r);
}

void bench_e2e_received(bench_e2e *d, int r, size_t n, int ok)
{
    if (d->rstate[r] != R_RECV)
        return;
    if (!ok || n != d->batch[r]) {
        kill_receiver(d, r);
        return;
    }
    if (n == 0 || d->cfg->no_ack) {
        if (d->cfg->no_ack && rpc_now_mono_us() <= d->end)
            d->acked_win += n;
        d->batch[r] = 0;
        next_step(d, r);
        return;
    }
    d->rstate[r] = R_ACK;
    if (d->ops->ack(d->t, r) != 0)
        kill_receiver(d, r);
}

void bench_e2e_acked(bench_e2e *d, int r, int ok)
{
    if (d->rstate[r] != R_ACK)
        return;
    if (!ok) {
        kill_receiver(d, r);
        return;
    }
    d->acked += d->batch[r];
    if (rpc_now_mono_us() <= d->end)
        d->acked_win += d->batch[r];
    d->batch[r] = 0;
    next_step(d, r);
}

void bench_e2e_left(bench_e2e *d, int r, uint64_t n, int ok)
{
    if (d->rstate[r] != R_VERIFY)
        return;
    if (!ok) {
        kill_receiver(d, r);
        return;
    }
    d->left += n;
    d->rstate[r] = R_DONE;
    d->rdone_n++;
    d->last_done = rpc_now_mono_us();
}

static int alloc_all(bench_e2e *d, int ns, int nr)
{
    size_t s = (size_t)(ns > 0 ? ns : 1), r = (size_t)(nr > 0 ? nr : 1);
    int groups = nr;

    for (int i = 0; i < ns && d->cfg->dest != NULL; i++)
        groups = d->cfg->dest[i] >= groups ? d->cfg->dest[i] + 1 : groups;
    d->sbusy = calloc(s, 1), d->sdead = calloc(s, 1);
    d->t0 = calloc(s, 8), d->due = calloc(s, 8), d->k = calloc(s, 8);
    d->sent = calloc(s, 8), d->unsure = calloc(s, 8);
    d->rstate = calloc(r, 1);
    d->batch = calloc(r, 8), d->got = calloc(r, 8), d->expect = calloc(r, 8);
    d->ghead = malloc((size_t)(groups > 0 ? groups : 1) * sizeof(int));
    d->gnext = malloc(r * sizeof(int));
    d->next = calloc(s * r, 8), d->gap = calloc(s * r, 8);
    if (!(d->sbusy && d->sdead && d->t0 && d->due && d->k && d->sent &&
          d->unsure && d->rstate && d->batch && d->got && d->expect &&
          d->ghead && d->gnext && d->next && d->gap))
        return -1;
    for (int g = 0; g < groups; g++)
        d->ghead[g] = -1;
    for (int i = nr - 1; i >= 0; i--) { /* receivers in order in each group */
        int g = group_of(d, i);
        if (g < 0 || g >= groups)
            return -1;
        d->gnext[i] = d->ghead[g];
        d->ghead[g] = i;
    }
    return 0;
}

static void free_all(bench_e2e *d)
{
    void *p[] = {d->sbusy,  d->sdead,  d->t0,    d->due,    d->k,      d->sent,
                 d->unsure, d->rstate, d->batch, d->got,    d->expect, d->ghead,
                 d->gnext,  d->next,   d->gap,   d->lat.us, d->slat.us};
    for (size_t i = 0; i < sizeof p / sizeof *p; i++)
        free(p[i]);
}

/* Starts the paced senders that are due; returns ms until the next. */
static int pace(bench_e2e *d, int64_t now)
{
    int64_t wait = 100000;
    for (int s = 0; s < d->cfg->senders; s++) {
        if (d->sbusy[s] || d->sdead[s])
            continue;
        if (d->due[s] <= now) {
            issue(d, s, now);
            d->due[s] += d->interval_us;
            if (d->due[s] < now - 1000000) /* far behind: no burst */
                d->due[s] = now;
        } else if (d->due[s] - now < wait) {
            wait = d->due[s] - now;
        }
    }
    return (int)((wait + 999) / 1000);
}

static void tick(bench_e2e *d, int64_t now)
{
    bench_e2e_stats st = {d->start, now,       d->nsent, d->delivered,
                          d->acked, d->errors, &d->lat};
    d->cfg->tick(d->cfg->tick_arg, &st);
}

static int loop(bench_e2e *d)
{
    const bench_e2e_cfg *c = d->cfg;
    int64_t drain_end =
        d->end + (int64_t)(c->drain_s > 0 ? c->drain_s : 30) * 1000000;
    int64_t next_tick = d->start + (int64_t)c->tick_s * 1000000;

    for (;;) {
        int64_t now = rpc_now_mono_us();
        int timeout = 100;
        if (!d->stopping && now >= d->end) {
            d->stopping = 1;
            if (d->sbusy_n == 0)
                d->sends_done = now;
        }
        if (d->stopping && d->sbusy_n == 0 &&
            d->rdone_n + d->rdead_n == c->receivers)
            return 0;
        if (d->stopping && now >= drain_end)
            return 0;
        if (c->rate > 0 && !d->stopping) {
            int w = pace(d, now);
            timeout = w < timeout ? w : timeout;
        }
        if (!d->stopping && (d->end - now) / 1000 + 1 < timeout)
            timeout = (int)((d->end - now) / 1000 + 1);
        if (c->tick != NULL && c->tick_s > 0 && now >= next_tick) {
            tick(d, now);
            next_tick += (int64_t)c->tick_s * 1000000;
        }
        if (d->ops->poll(d->t, d, timeout) < 0)
            return -1;
    }
}

static void fill(bench_e2e *d, bench_e2e_out *o, int64_t stop)
{
    const bench_e2e_cfg *c = d->cfg;

    o->sends.name = c->send_name;
    o->sends.calls = d->nsent;
    o->sends.seconds =
        (double)((d->sends_done > 0 ? d->sends_done : stop) - d->start) / 1e6;
    bench_result_fill(&o->sends, &d->slat);
    o->delivery.name = c->name;
    o->delivery.calls = d->acked_win;
    o->delivery.seconds = (double)(d->end - d->start) / 1e6;
    bench_result_fill(&o->delivery, &d->lat);
    o->sent = d->nsent;
    o->received = d->delivered;
    o->acked = d->acked;
    o->duplicates = d->dup;
    o->misrouted = d->misrouted;
    o->garbled = d->garbled;
    o->left = d->left;
    o->errors = d->errors;
    o->sends.errors = o->delivery.errors = d->errors;
    for (int s = 0; s < c->senders; s++)
        o->unsure += d->unsure[s];
    for (int r = 0; r < c->receivers; r++)
        for (int s = 0; s < c->senders; s++) {
            size_t at = (size_t)r * (size_t)c->senders + (size_t)s;
            if (c->dest[s] != group_of(d, r))
                continue;
            o->missing += d->gap[at];
            if (d->next[at] < d->sent[s])
                o->missing += d->sent[s] - d->next[at];
            else if (d->next[at] > d->sent[s] + d->unsure[s])
                o->extra += d->next[at] - d->sent[s] - d->unsure[s];
        }
    o->undrained = (uint64_t)(c->receivers - d->rdone_n);
    o->drain_s =
        d->last_done > d->end ? (double)(d->last_done - d->end) / 1e6 : 0;
    o->ok = o->errors == 0 && o->unsure == 0 &&
            (c->receivers == 0 ||
             (o->duplicates == 0 && o->missing == 0 && o->misrouted == 0 &&
              o->garbled == 0 && o->extra == 0 && o->left == 0 &&
              o->undrained == 0 && o->received == d->want &&
              (c->no_ack || o->acked == d->want)));
    o->due = d->want;
}

int bench_e2e_run(const bench_e2e_cfg *cfg, const bench_e2e_ops *ops, void *t,
                  bench_e2e_out *out)
{
    bench_e2e d = {.cfg = cfg, .ops = ops, .t = t};
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (alloc_all(&d, cfg->senders, cfg->receivers) != 0)
        goto out;
    d.start = rpc_now_mono_us();
    d.end = d.start + (int64_t)cfg->seconds * 1000000;
    if (cfg->rate > 0)
        d.interval_us = (int64_t)(cfg->senders * 1e6 / cfg->rate);
    for (int s = 0; s < cfg->senders; s++) {
        d.due[s] = d.start + d.interval_us * s / cfg->senders;
        if (cfg->rate <= 0)
            issue(&d, s, d.start);
    }
    for (int r = 0; r < cfg->receivers; r++)
        if (ops->receive(t, r, cfg->wait_ms > 0 ? cfg->wait_ms : 1000) != 0)
            kill_receiver(&d, r);
    rc = loop(&d);
    fill(&d, out, rpc_now_mono_us());
out:
    free_all(&d);
    return rc;
}

void bench_e2e_print_check(const char *name, const bench_e2e_out *o, int json)
{
    if (json) {
        char what[128];
        snprintf(what, sizeof what, "%s check", name);
        bench_json_head(what);
        printf(",\"sent\":%" PRIu64 ",\"due\":%" PRIu64 ",\"unsure\":%" PRIu64
               ",\"received\":%" PRIu64 ",\"acked\":%" PRIu64
               ",\"duplicates\":%" PRIu64 ",\"missing\":%" PRIu64
               ",\"misrouted\":%" PRIu64 ",\"garbled\":%" PRIu64
               ",\"extra\":%" PRIu64 ",\"left\":%" PRIu64
               ",\"undrained\":%" PRIu64 ",\"errors\":%" PRIu64
               ",\"drain_s\":%.2f,\"ok\":%s}\n",
               o->sent, o->due, o->unsure, o->received, o->acked, o->duplicates,
               o->missing, o->misrouted, o->garbled, o->extra, o->left,
               o->undrained, o->errors, o->drain_s, o->ok ? "true" : "false");
        return;
    }
    printf("  exactly once: %" PRIu64 " sent (answered OK), ", o->sent);
    if (o->due != o->sent)
        printf("%" PRIu64 " deliveries due, ", o->due);
    printf("%" PRIu64 " received, %" PRIu64 " acknowledged; %" PRIu64
           " duplicates, %" PRIu64 " missing, %" PRIu64 " misrouted, %" PRIu64
           " left in mailboxes",
           o->received, o->acked, o->duplicates, o->missing, o->misrouted,
           o->left);
    if (o->garbled || o->extra)
        printf(", %" PRIu64 " garbled, %" PRIu64 " never sent", o->garbled,
               o->extra);
    if (o->unsure || o->errors)
        printf(", %" PRIu64 " failed calls (%" PRIu64 " sends of unknown "
               "outcome)",
               o->errors, o->unsure);
    if (o->undrained)
        printf(", %" PRIu64 " receivers not drained in time", o->undrained);
    printf(": %s (drained %.2f s after the window)\n", o->ok ? "OK" : "FAILED",
           o->drain_s);
}
