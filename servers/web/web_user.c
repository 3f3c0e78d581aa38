/* web_user.c: the web role's logged-in users. One web_user per
 * Switchboard session (token), shared by every browser session and tab
 * logged in as it. It holds the deliveries fetched from the mailbox until
 * a page acknowledges them, and the pages' event streams: a stream that
 * opens (or re-opens after a drop) first gets everything held with a seq
 * above what the page says it has, then live events. Nothing is deleted
 * from the mailbox before a page has acknowledged it (web_pump.c sends
 * the Ack), so a lost stream loses nothing, and pages drop seqs they have
 * shown, so nothing shows twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "web_internal.h"

web_user *web_user_get(web_role *w, const sb_user *su)
{
    web_user *u;

    pthread_mutex_lock(&w->umu);
    for (u = w->users; u != NULL; u = u->next)
        if (strcmp(u->u.token, su->token) == 0 &&
            strcmp(u->u.name, su->name) == 0 && !u->ended)
            break;
    if (u == NULL && (u = calloc(1, sizeof *u)) != NULL) {
        u->w = w;
        pthread_mutex_init(&u->mu, NULL);
        u->u = *su;
        u->next = w->users;
        w->users = u;
    }
    if (u != NULL)
        u->refs++;
    pthread_mutex_unlock(&w->umu);
    if (u != NULL)
        web_user_update(u, su); /* umu is innermost: never held here */
    return u;
}

void web_user_ref(web_user *u)
{
    pthread_mutex_lock(&u->w->umu);
    u->refs++;
    pthread_mutex_unlock(&u->w->umu);
}

static void user_free(web_user *u)
{
    for (size_t i = 0; i < u->npend; i++)
        free(u->pend[i].event);
    free(u->pend);
    pthread_mutex_destroy(&u->mu);
    free(u);
}

void web_user_unref(web_user *u)
{
    web_role *w = u->w;
    int gone = 0;

    pthread_mutex_lock(&w->umu);
    if (--u->refs == 0) {
        for (web_user **p = &w->users; *p != NULL; p = &(*p)->next)
            if (*p == u) {
                *p = u->next;
                break;
            }
        gone = 1;
    }
    pthread_mutex_unlock(&w->umu);
    if (gone)
        user_free(u);
}

void web_user_copy(web_user *u, sb_user *out)
{
    pthread_mutex_lock(&u->mu);
    *out = u->u;
    pthread_mutex_unlock(&u->mu);
}

void web_user_update(web_user *u, const sb_user *from)
{
    pthread_mutex_lock(&u->mu);
    if (strcmp(u->u.token, from->token) == 0 ||
        strcmp(u->u.name, from->name) == 0) {
        if (strcmp(u->u.endpoint, from->endpoint) != 0)
            sb_info("web", "%s is now served by %s (%s)", u->u.name,
                    from->server_id, from->endpoint);
        snprintf(u->u.endpoint, sizeof u->u.endpoint, "%s", from->endpoint);
        snprintf(u->u.server_id, sizeof u->u.server_id, "%s", from->server_id);
        snprintf(u->u.token, sizeof u->u.token, "%s", from->token);
    }
    pthread_mutex_unlock(&u->mu);
}

/* ---- streams ---------------------------------------------------------- */

static void on_stream_end(http_stream *hs, void *arg)
{
    web_stream *ws = arg;

    atomic_store(&ws->dead, 1);
}

int web_user_prune_locked(web_user *u)
{
    int gone = 0;

    for (web_stream **p = &u->streams; *p != NULL;) {
        web_stream *ws = *p;
        if (!atomic_load(&ws->dead)) {
            p = &ws->next;
            continue;
        }
        *p = ws->next;
        u->nstreams--;
        http_stream_release(ws->hs);
        free(ws);
        gone++;
    }
    return gone;
}

static void unref_n(web_user *u, int n)
{
    while (n-- > 0)
        web_user_unref(u);
}

void web_user_broadcast_locked(web_user *u, const char *p, size_t n)
{
    for (web_stream *ws = u->streams; ws != NULL; ws = ws->next)
        if (!atomic_load(&ws->dead))
            http_stream_write(ws->hs, p, n);
}

/* What a stream says first: the retry delay, and who it is for. */
static int stream_hello(web_user *u, http_stream *hs)
{
    json_t *j = json_pack("{sosssI}", "user", web_json_str(u->u.name), "server",
                          u->u.server_id, "fetched", (json_int_t)u->fetched);
    char *t = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    char buf[1024];
    int rc = -1;

    json_decref(j);
    if (t != NULL) {
        snprintf(buf, sizeof buf, "retry: 2000\n\nevent: hello\ndata: %s\n\n",
                 t);
        rc = http_stream_write(hs, buf, strlen(buf));
    }
    free(t);
    return rc;
}

static const char ended_event[] =
    "event: session\ndata: {\"state\":\"ended\",\"line\":\"Not login "
    "yet\"}\n\n";

void web_user_attach(web_user *u, http_req *r, uint64_t after)
{
    web_stream *ws = calloc(1, sizeof *ws);
    http_stream *hs;

    if (ws == NULL) {
        http_reply_error(r, 500, "Out of memory");
        return;
    }
    ws->u = u;
    web_user_ref(u); /* the stream's, dropped when it is pruned */
    pthread_mutex_lock(&u->mu);
    int gone = web_user_prune_locked(u);
    if (u->nstreams >= WEB_STREAMS_MAX) {
        pthread_mutex_unlock(&u->mu);
        unref_n(u, gone + 1);
        free(ws);
        http_reply_error(r, 429, "Too many open pages for this user");
        return;
    }
    u->nstreams++; /* reserved before the stream can end */
    pthread_mutex_unlock(&u->mu);
    hs = http_stream_open(r, "text/event-stream; charset=utf-8", NULL,
                          WEB_STREAM_MAX, on_stream_end, ws);
    pthread_mutex_lock(&u->mu);
    if (hs == NULL) {
        u->nstreams--;
        pthread_mutex_unlock(&u->mu);
        unref_n(u, gone + 1);
        free(ws);
        return;
    }
    ws->hs = hs;
    ws->next = u->streams;
    u->streams = ws;
    stream_hello(u, hs);
    for (size_t i = 0; i < u->npend; i++)
        if (u->pend[i].seq > after)
            http_stream_write(hs, u->pend[i].event, u->pend[i].len);
    if (u->ended)
        http_stream_write(hs, ended_event, sizeof ended_event - 1);
    web_pump_kick_locked(u);
    pthread_mutex_unlock(&u->mu);
    unref_n(u, gone);
}

void web_user_ack(web_user *u, uint64_t seq)
{
    size_t keep = 0;

    pthread_mutex_lock(&u->mu);
    if (seq > u->fetched)
        seq = u->fetched; /* a page cannot acknowledge what it never got */
    if (seq > u->acked) {
        u->acked = seq;
        for (size_t i = 0; i < u->npend; i++) {
            if (u->pend[i].seq <= seq) {
                u->pend_bytes -= u->pend[i].len;
                free(u->pend[i].event);
            } else {
                u->pend[keep++] = u->pend[i];
            }
        }
        u->npend = keep;
        web_pump_ack_locked(u);
        web_pump_kick_locked(u); /* there may be room again */
    }
    pthread_mutex_unlock(&u->mu);
}

void web_user_end(web_user *u)
{
    pthread_mutex_lock(&u->mu);
    if (!u->ended) {
        u->ended = 1;
        web_user_broadcast_locked(u, ended_event, sizeof ended_event - 1);
        for (web_stream *ws = u->streams; ws != NULL; ws = ws->next)
            http_stream_close(ws->hs);
    }
    pthread_mutex_unlock(&u->mu);
}

/* Every user, referenced, so each can be worked on without umu. */
static web_user **all_users(web_role *w, size_t *n)
{
    web_user **v = NULL;
    size_t k = 0, cap = 0;

    pthread_mutex_lock(&w->umu);
    for (web_user *u = w->users; u != NULL; u = u->next)
        cap++;
    if (cap > 0 && (v = malloc(cap * sizeof *v)) != NULL)
        for (web_user *u = w->users; u != NULL; u = u->next) {
            u->refs++;
            v[k++] = u;
        }
    pthread_mutex_unlock(&w->umu);
    *n = k;
    return v;
}

void web_users_tick(web_role *w, int ping)
{
    size_t n;
    web_user **v = all_users(w, &n);

    for (size_t i = 0; i < n; i++) {
        web_user *u = v[i];
        pthread_mutex_lock(&u->mu);
        int gone = web_user_prune_locked(u);
        web_pump_ack_locked(u);
        web_pump_kick_locked(u);
        if (ping)
            web_user_broadcast_locked(u, ": ping\n\n", 8);
        pthread_mutex_unlock(&u->mu);
        unref_n(u, gone + 1);
    }
    free(v);
}

void web_users_close_streams(web_role *w)
{
    size_t n;
    web_user **v = all_users(w, &n);

    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&v[i]->mu);
        for (web_stream *ws = v[i]->streams; ws != NULL; ws = ws->next)
            http_stream_close(ws->hs);
        pthread_mutex_unlock(&v[i]->mu);
        web_user_unref(v[i]);
    }
    free(v);
}

void web_users_free_all(web_role *w)
{
    for (web_user *u = w->users, *nx; u != NULL; u = nx) {
        nx = u->next;
        pthread_mutex_lock(&u->mu);
        u->refs -= web_user_prune_locked(u);
        pthread_mutex_unlock(&u->mu);
        if (u->refs > 0)
            sb_warn("web", "%s still referenced (%d) at stop", u->u.name,
                    u->refs);
        user_free(u);
    }
    w->users = NULL;
}
