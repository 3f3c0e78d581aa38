/* app_receive.c: Receive long-polls and Ack. A Receive with nothing to
 * return and wait_ms > 0 is parked (RPC_DEFER). A bus "mail" hint marks
 * the matching parked calls; the sweeper thread re-reads their mailboxes
 * and answers those that now have mail, and answers every call whose wait
 * ended after one last read - so nothing is lost if every hint is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_internal.h"
#include "events.pb-c.h"
#include "sb_log.h"

#define APP_WAIT_MAX_MS 60000
#define APP_RECV_MAX 1000

struct app_waiter {
    app_waiter *next;
    rpc_call *call;
    Sb__Social__ReceiveReply *reply;
    char token[STORE_TOKEN_MAX + 1];
    char user[STORE_NAME_MAX + 1];
    uint64_t after;
    uint32_t max;
    int64_t deadline_ms; /* monotonic */
    int woken;
};

/* Reads the mailbox into the reply (memory from the call). */
static store_res fetch(app_server *a, rpc_call *call, const char *token,
                       const char *user, uint64_t after, uint32_t max,
                       Sb__Social__ReceiveReply *reply)
{
    store_mails m = {0};
    size_t lim = max == 0 || max > APP_RECV_MAX ? APP_RECV_MAX : max;
    store_res r =
        store_conn_mail_fetch(a->store, store_s(token), after, lim, &m);

    if (r != STORE_OK || m.n == 0) {
        store_mails_free(&m);
        return r;
    }
    reply->deliveries = rpc_call_alloc(call, m.n * sizeof(*reply->deliveries));
    reply->n_deliveries = m.n;
    for (size_t i = 0; i < m.n; i++) {
        Sb__Social__Delivery *d = rpc_call_alloc(call, sizeof *d);
        sb__social__delivery__init(d);
        d->seq = m.v[i].seq;
        d->kind =
            m.v[i].kind == STORE_MAIL_GROUP  ? SB__SOCIAL__DELIVERY__KIND__GROUP
            : m.v[i].kind == STORE_MAIL_ROOM ? SB__SOCIAL__DELIVERY__KIND__ROOM
            : m.v[i].kind == STORE_MAIL_ROOM_CLOSED
                ? SB__SOCIAL__DELIVERY__KIND__ROOM_CLOSED
                : SB__SOCIAL__DELIVERY__KIND__DIRECT;
        d->from = rpc_call_strdup(call, m.v[i].from);
        d->to = rpc_call_strdup(call, user);
        d->group = rpc_call_strdup(call, m.v[i].group);
        d->text = rpc_call_strdup(call, m.v[i].text);
        d->server_time_ms = (int64_t)m.v[i].time_ms + a->clock_skew_ms;
        reply->deliveries[i] = d;
    }
    store_mails_free(&m);
    return STORE_OK;
}

int app_h_receive(rpc_call *call, const Sb__Social__ReceiveRequest *req,
                  Sb__Social__ReceiveReply *reply, void *arg)
{
    app_server *a = arg;
    store_session sess;
    int rc = app_begin(a, call, &sess);
    store_res r;

    if (rc != RPC_OK)
        return rc;
    r = fetch(a, call, rpc_call_token(call), sess.user, req->after_seq,
              req->max, reply);
    if (r != STORE_OK)
        return app_fail(call, r, APP_CMD_OTHER, NULL);
    if (reply->n_deliveries > 0 || req->wait_ms == 0)
        return RPC_OK;
    /* Park; answer a little before the caller's deadline. */
    int64_t wait =
        req->wait_ms > APP_WAIT_MAX_MS ? APP_WAIT_MAX_MS : req->wait_ms;
    int64_t left = rpc_call_time_left_ms(call);
    if (left != INT64_MAX && wait > left - 250)
        wait = left - 250;
    if (wait <= 0)
        return RPC_OK;
    app_waiter *w = calloc(1, sizeof *w);
    if (w == NULL)
        return RPC_OK; /* an empty answer: the client simply asks again */
    w->call = call;
    w->reply = reply;
    snprintf(w->token, sizeof w->token, "%s", rpc_call_token(call));
    snprintf(w->user, sizeof w->user, "%s", sess.user);
    w->after = req->after_seq;
    w->max = req->max;
    w->deadline_ms = rpc_now_mono_ms() + wait;
    w->woken = 1; /* one more read once parked: closes the hint race */
    pthread_mutex_lock(&a->mu);
    if (a->stopping) {
        pthread_mutex_unlock(&a->mu);
        free(w);
        return rpc_call_fail(call, RPC_UNAVAILABLE, "app server %s is stopping",
                             a->id);
    }
    w->next = a->waiters;
    a->waiters = w;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return RPC_DEFER;
}

int app_h_ack(rpc_call *call, const Sb__Social__AckRequest *req,
              Sb__Social__Empty *reply, void *arg)
{
    app_server *a = arg;
    store_session sess;
    int rc = app_begin(a, call, &sess);
    store_wop op = {.kind = STORE_OP_MAIL_ACK, .seq = req->upto_seq};

    (void)reply;
    if (rc != RPC_OK)
        return rc;
    return app_write(a, call, &op, APP_CMD_OTHER, NULL, NULL, NULL);
}

/* ---- hints ------------------------------------------------------------ */

static void on_hint(void *arg, const rpc_bus_meta *meta,
                    const ProtobufCMessage *event)
{
    app_server *a = arg;
    const Sb__Events__MailHint *h = (const Sb__Events__MailHint *)event;

    (void)meta;
    pthread_mutex_lock(&a->mu);
    for (app_waiter *w = a->waiters; w != NULL; w = w->next) {
        int hit = h->group != NULL && h->group[0] != '\0';
        for (size_t i = 0; !hit && i < h->n_users; i++)
            hit = strcmp(h->users[i], w->user) == 0;
        if (hit)
            w->woken = 1;
    }
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* A session ended (logout, delete): its token leaves the cache. */
static void on_auth(void *arg, const rpc_bus_meta *meta,
                    const ProtobufCMessage *event)
{
    app_server *a = arg;
    const Sb__Events__AuthEvent *ev = (const Sb__Events__AuthEvent *)event;

    (void)meta;
    if (ev->token != NULL && ev->token[0] != '\0')
        app_cache_drop(a->cache, ev->token);
}

/* A lost hint only delays mail to the deadline: every waiter gets a read.
 * A lost auth event may be a logout we did not hear of: drop every cached
 * token (resync); the store's own check already keeps ended sessions out. */
static void on_gap(void *arg, const char *publisher, const char *topic,
                   uint64_t expected, uint64_t got)
{
    app_server *a = arg;

    if (strcmp(topic, "auth") == 0) {
        sb_info("app",
                "%s: %llu auth events from %s lost; token cache "
                "dropped",
                a->id, (unsigned long long)(got - expected), publisher);
        app_cache_clear(a->cache);
        return;
    }

    sb_debug("app", "%s: %llu %s hints from %s lost; re-reading mailboxes",
             a->id, (unsigned long long)(got - expected), topic, publisher);
    pthread_mutex_lock(&a->mu);
    for (app_waiter *w = a->waiters; w != NULL; w = w->next)
        w->woken = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* ---- the sweeper -------------------------------------------------------- */

/* Takes out the waiters that need a look (woken, or past the deadline). */
static app_waiter *take_due(app_server *a, int64_t now)
{
    app_waiter *due = NULL, **pp = &a->waiters;

    while (*pp != NULL) {
        app_waiter *w = *pp;
        if (w->woken || now >= w->deadline_ms || a->stopping) {
            *pp = w->next;
            w->next = due;
            due = w;
        } else {
            pp = &w->next;
        }
    }
    return due;
}

/* Answers a due waiter, or returns 0 to park it again. */
static int settle(app_server *a, app_waiter *w, int64_t now, int stopping)
{
    store_res r;

    if (stopping) {
        rpc_call_finish(w->call,
                        rpc_call_fail(w->call, RPC_UNAVAILABLE,
                                      "app server %s is stopping", a->id));
        return 1;
    }
    r = fetch(a, w->call, w->token, w->user, w->after, w->max, w->reply);
    if (r != STORE_OK) {
        rpc_call_finish(w->call, app_fail(w->call, r, APP_CMD_OTHER, NULL));
        return 1;
    }
    if (w->reply->n_deliveries > 0 || now >= w->deadline_ms) {
        rpc_call_finish(w->call, RPC_OK);
        return 1;
    }
    w->woken = 0;
    return 0;
}

static void *sweeper(void *arg)
{
    app_server *a = arg;

    pthread_mutex_lock(&a->mu);
    for (;;) {
        int stopping = a->stopping;
        app_waiter *due = take_due(a, rpc_now_mono_ms());
        if (due == NULL && stopping)
            break;
        if (due == NULL) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)a->poll_ms * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&a->cv, &a->mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&a->mu);
        int64_t now = rpc_now_mono_ms();
        app_waiter *again = NULL;
        while (due != NULL) {
            app_waiter *w = due;
            due = w->next;
            if (settle(a, w, now, stopping)) {
                free(w);
            } else {
                w->next = again;
                again = w;
            }
        }
        pthread_mutex_lock(&a->mu);
        while (again != NULL) {
            app_waiter *w = again;
            again = w->next;
            w->next = a->waiters;
            a->waiters = w;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

int app_receive_start(app_server *a, const char *bus_out)
{
    int rv;

    if (bus_out != NULL) {
        if ((rv = rpc_bus_sub_open(&a->sub, bus_out, on_gap, a)) != 0)
            return rv;
        if ((rv = rpc_bus_subscribe(a->sub, "mail",
                                    &sb__events__mail_hint__descriptor, on_hint,
                                    a)) != 0)
            return rv;
        if ((rv = rpc_bus_subscribe(a->sub, "auth",
                                    &sb__events__auth_event__descriptor,
                                    on_auth, a)) != 0)
            return rv;
    }
    if ((rv = pthread_create(&a->sweeper, NULL, sweeper, a)) != 0)
        return rv;
    a->have_sweeper = 1;
    return 0;
}

void app_receive_stop(app_server *a)
{
    pthread_mutex_lock(&a->mu);
    a->stopping = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->have_sweeper)
        pthread_join(a->sweeper, NULL);
    a->have_sweeper = 0;
    rpc_bus_sub_close(a->sub); /* joins its thread: no hint after this */
    a->sub = NULL;
}
