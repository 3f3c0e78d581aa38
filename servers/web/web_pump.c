/* web_pump.c: a user's deliveries, fetched with the App service's Receive
 * long-poll and acknowledged with Ack, both as asynchronous calls on the
 * role's one RPC client (no thread per user: 500 pages cost 500 parked
 * calls, not 500 stacks). The reply's deliveries are held and written to
 * the user's streams; the mailbox entry is deleted only when a page has
 * acknowledged it (POST /api/ack), never when it was merely written to a
 * socket. A Receive runs while a page is watching and the held events fit
 * WEB_PEND_MAX (a page that does not acknowledge stops the fetching, the
 * rest waits in the durable mailbox). When the app server is gone, a
 * worker asks libsb, which logs in again with the token and learns the
 * new server (the same recovery `sb` has); then the pump goes on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "web_internal.h"

#define RETRY_MS 500

static void recover(void *arg);

/* Holds one delivery and shows it to every stream; u->mu held. */
static void take(web_user *u, const Sb__Social__Delivery *d)
{
    size_t len;
    char *ev;

    if (d->seq <= u->fetched)
        return; /* fetched already (a re-sent reply) */
    if ((ev = web_delivery_event(d, &len)) == NULL)
        return; /* out of memory: not fetched, so it comes again */
    if (u->npend == u->cappend) {
        size_t cap = u->cappend ? u->cappend * 2 : 8;
        web_pending *p = realloc(u->pend, cap * sizeof *p);
        if (p == NULL) {
            free(ev);
            return;
        }
        u->pend = p;
        u->cappend = cap;
    }
    u->pend[u->npend++] = (web_pending){d->seq, ev, len};
    u->pend_bytes += len;
    u->fetched = d->seq;
    web_user_broadcast_locked(u, ev, len);
}

static void receive_done(void *arg, const rpc_status *st,
                         ProtobufCMessage *reply)
{
    web_user *u = arg;
    const Sb__Social__ReceiveReply *r = (const Sb__Social__ReceiveReply *)reply;
    int again = 0;

    pthread_mutex_lock(&u->mu);
    u->polling = 0;
    if (st->code == RPC_OK) {
        for (size_t i = 0; i < r->n_deliveries; i++)
            take(u, r->deliveries[i]);
        web_pump_kick_locked(u);
    } else if (st->code == RPC_UNAUTHENTICATED) {
        pthread_mutex_unlock(&u->mu);
        web_user_end(u); /* logged out elsewhere, deleted, or timed out */
        pthread_mutex_lock(&u->mu);
    } else if (!u->w->stopping && st->code != RPC_CANCELLED) {
        u->retry_ms = rpc_now_mono_ms() + RETRY_MS;
        again = !u->recovering;
        u->recovering |= again;
    }
    pthread_mutex_unlock(&u->mu);
    if (reply != NULL)
        protobuf_c_message_free_unpacked(reply, NULL);
    if (again) {
        sb_debug("web", "Receive for %s: %s; asking login", u->u.name,
                 st->message);
        web_user_ref(u); /* the recovery's */
        if (web_jobs_submit(u->w->jobs, recover, u) != 0) {
            pthread_mutex_lock(&u->mu);
            u->recovering = 0;
            pthread_mutex_unlock(&u->mu);
            web_user_unref(u);
        }
    }
    web_user_unref(u); /* the call's */
}

/* On a worker: a Receive through libsb (wait 0, one delivery at most,
 * so the reply is small whatever waits) rides through a dead app server
 * by logging in again with the token; the new endpoint is kept. */
static void recover(void *arg)
{
    web_user *u = arg;
    Sb__Social__ReceiveRequest req = SB__SOCIAL__RECEIVE_REQUEST__INIT;
    ProtobufCMessage *r = NULL;
    sb_user copy;
    rpc_status st;
    int rc;

    web_user_copy(u, &copy);
    pthread_mutex_lock(&u->mu);
    req.after_seq = u->fetched;
    pthread_mutex_unlock(&u->mu);
    req.max = 1;
    rc = sb_call(u->w->sb, &copy, sb_social_App_Receive_METHOD, &req.base,
                 &sb__social__receive_reply__descriptor, &r, &st);
    sb_free(r);
    if (rc == RPC_UNAUTHENTICATED)
        web_user_end(u);
    else
        web_user_update(u, &copy); /* whatever libsb learned */
    pthread_mutex_lock(&u->mu);
    u->recovering = 0;
    pthread_mutex_unlock(&u->mu);
    web_user_unref(u);
}

void web_pump_kick_locked(web_user *u)
{
    web_role *w = u->w;
    Sb__Social__ReceiveRequest req = SB__SOCIAL__RECEIVE_REQUEST__INIT;
    rpc_opts o = {.timeout_ms = WEB_WAIT_MS + 5000,
                  .token = u->u.token,
                  .endpoint = u->u.endpoint};

    if (u->polling || u->ended || u->recovering || w->stopping ||
        u->nstreams == 0 || u->pend_bytes >= WEB_PEND_MAX ||
        rpc_now_mono_ms() < u->retry_ms)
        return;
    req.after_seq = u->fetched;
    req.wait_ms = WEB_WAIT_MS;
    req.max = WEB_RECV_MAX;
    u->polling = 1;
    web_user_ref(u); /* the call's, dropped in receive_done */
    if (rpc_client_call_async(w->rpc, sb_social_App_Receive_METHOD, &req.base,
                              &sb__social__receive_reply__descriptor,
                              receive_done, u, &o) != 0) {
        u->polling = 0;
        u->retry_ms = rpc_now_mono_ms() + RETRY_MS;
        /* not the last reference: the caller holds one */
        pthread_mutex_lock(&w->umu);
        u->refs--;
        pthread_mutex_unlock(&w->umu);
    }
}

static void ack_done(void *arg, const rpc_status *st, ProtobufCMessage *reply)
{
    web_user *u = arg;

    pthread_mutex_lock(&u->mu);
    if (st->code == RPC_OK && u->ack_inflight > u->ack_sent)
        u->ack_sent = u->ack_inflight;
    else if (st->code != RPC_OK)
        sb_debug("web", "Ack for %s: %s (retried)", u->u.name, st->message);
    u->ack_inflight = 0;
    if (st->code == RPC_OK)
        web_pump_ack_locked(u); /* a page may have acknowledged more */
    pthread_mutex_unlock(&u->mu);
    if (reply != NULL)
        protobuf_c_message_free_unpacked(reply, NULL);
    web_user_unref(u);
}

void web_pump_ack_locked(web_user *u)
{
    web_role *w = u->w;
    Sb__Social__AckRequest req = SB__SOCIAL__ACK_REQUEST__INIT;
    rpc_opts o = {.token = u->u.token, .endpoint = u->u.endpoint};

    if (u->ack_inflight != 0 || u->acked <= u->ack_sent || u->ended ||
        w->stopping)
        return;
    req.upto_seq = u->acked;
    u->ack_inflight = u->acked;
    web_user_ref(u);
    if (rpc_client_call_async(w->rpc, sb_social_App_Ack_METHOD, &req.base,
                              &sb__social__empty__descriptor, ack_done, u,
                              &o) != 0) {
        u->ack_inflight = 0;
        pthread_mutex_lock(&w->umu);
        u->refs--;
        pthread_mutex_unlock(&w->umu);
    }
}
