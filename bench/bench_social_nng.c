/* bench_social_nng.c: `sb-bench social --client nng|libsb`: posts and
 * sends from the load generators used before the wire client, kept to
 * compare what a generator costs: nng (an rpc_client per user, async
 * callbacks on nng's threads, one call in flight each) and libsb (a thread
 * per user making libsb's blocking calls). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_social.h"
#include "social.sb.h"

typedef struct nclient {
    social_user *u;
    const char *peer;
    int post;
    atomic_int *stop;
    bench_samples lat;
    uint64_t ok, errors, k;
    int64_t t0;
    char text[96];
    pthread_mutex_t *mu; /* nng: guards running */
    pthread_cond_t *cv;
    int *running;
} nclient;

static void note_error(nclient *c, const char *code, const char *msg)
{
    if (c->errors++ == 0)
        fprintf(stderr, "sb-bench social: %s: %s %s\n", c->u->name, code, msg);
}

static void *libsb_run(void *arg)
{
    nclient *c = arg;
    rpc_status st;

    while (!atomic_load(c->stop)) {
        snprintf(c->text, sizeof c->text, "%s message %llu from %s",
                 c->post ? "post" : "send", (unsigned long long)c->k++,
                 c->u->name);
        int64_t t0 = rpc_now_mono_us();
        int rc = c->post ? sb_post(c->u->s, &c->u->u, c->text, &st)
                         : sb_send(c->u->s, &c->u->u, c->peer, c->text, &st);
        if (rc != RPC_OK) {
            note_error(c, rpc_code_name(rc), st.message);
            continue;
        }
        c->ok++;
        bench_samples_add(&c->lat, rpc_now_mono_us() - t0);
    }
    return NULL;
}

static void async_issue(nclient *c);

/* nng thread: one call ended; start the next unless the phase is over. */
static void async_done(void *arg, const rpc_status *st,
                       Sb__Social__Empty *reply)
{
    nclient *c = arg;

    sb_social_App_free(reply);
    if (st->code == RPC_OK) {
        c->ok++;
        bench_samples_add(&c->lat, rpc_now_mono_us() - c->t0);
    } else {
        note_error(c, rpc_code_name(st->code), st->message);
    }
    if (!atomic_load(c->stop)) {
        async_issue(c);
        return;
    }
    pthread_mutex_lock(c->mu);
    (*c->running)--;
    pthread_cond_signal(c->cv);
    pthread_mutex_unlock(c->mu);
}

/* Starts this client's next post or send (the call libsb makes: same
 * method, token and endpoint; redirects are followed by the runtime). */
static void async_issue(nclient *c)
{
    rpc_opts o = {.token = c->u->u.token};
    rpc_status st = {0};
    int rv;

    snprintf(c->text, sizeof c->text, "%s message %llu from %s",
             c->post ? "post" : "send", (unsigned long long)c->k++, c->u->name);
    c->t0 = rpc_now_mono_us();
    if (c->post) {
        Sb__Social__PostRequest req = SB__SOCIAL__POST_REQUEST__INIT;
        req.text = c->text;
        rv = sb_social_App_Post_async(c->u->rc, &req, async_done, c, &o);
    } else {
        Sb__Social__SendRequest req = SB__SOCIAL__SEND_REQUEST__INIT;
        req.to = (char *)c->peer;
        req.text = c->text;
        rv = sb_social_App_Send_async(c->u->rc, &req, async_done, c, &o);
    }
    if (rv != 0) { /* could not start: counted, and this client stops */
        st.code = rv;
        atomic_store(c->stop, 1);
        async_done(c, &st, NULL);
    }
}

int social_nng_phase(social_env *e, int ph, bench_result *r,
                     bench_procs snap[2])
{
    int n = e->n, libsb = e->o.client == CLIENT_LIBSB, running = n;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    pthread_t *th = calloc((size_t)n, sizeof *th);
    nclient *cs = calloc((size_t)n, sizeof *cs);
    atomic_int stop = 0;
    bench_samples all = {0};

    memset(r, 0, sizeof *r);
    if (th == NULL || cs == NULL) {
        free(th);
        free(cs);
        return -1;
    }
    social_snap(e, 0, &snap[0]);
    int64_t t0 = rpc_now_mono_us();
    for (int i = 0; i < n; i++) {
        cs[i] = (nclient){.u = &e->us[i],
                          .peer = e->us[e->us[i].peer].name,
                          .post = ph == PH_POSTS,
                          .stop = &stop,
                          .mu = &mu,
                          .cv = &cv,
                          .running = &running};
        if (libsb)
            pthread_create(&th[i], NULL, libsb_run, &cs[i]);
        else
            async_issue(&cs[i]);
    }
    bench_sleep_ms((int)e->o.seconds * 1000);
    atomic_store(&stop, 1);
    pthread_mutex_lock(&mu);
    while (!libsb && running > 0)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < n; i++) {
        if (libsb)
            pthread_join(th[i], NULL);
        r->calls += cs[i].ok;
        r->errors += cs[i].errors;
        bench_samples_merge(&all, &cs[i].lat);
    }
    social_snap(e, 0, &snap[1]);
    r->name = social_phase_names[ph];
    r->seconds = (double)(rpc_now_mono_us() - t0) / 1e6;
    bench_result_fill(r, &all);
    bench_samples_free(&all);
    free(th);
    free(cs);
    return 0;
}
