/* app_idle.c: what "a session that timed out" means. Every call that
 * passes app_begin records (user, token, now) here; a thread looks once a
 * second (or every idle_ms/4 when shorter) and ends, exactly like a
 * logout (STORE_OP_END_SESSION), every session with no call for idle_ms.
 * Its rooms die with it. Kept in memory: a session that makes no call
 * after an app server restart is not tracked until its next call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_internal.h"
#include "sb_log.h"

struct app_seen {
    char user[STORE_NAME_MAX + 1];
    char token[STORE_TOKEN_MAX + 1];
    int64_t last_ms; /* monotonic */
};

void app_idle_touch(app_server *a, const char *user, const char *token)
{
    if (a->idle_ms <= 0)
        return;
    int64_t now = rpc_now_mono_ms();
    pthread_mutex_lock(&a->idle_mu);
    size_t i;
    for (i = 0; i < a->nseen; i++)
        if (strcmp(a->seen[i].user, user) == 0)
            break;
    if (i == a->nseen) {
        if (a->nseen == a->capseen) {
            size_t c = a->capseen ? a->capseen * 2 : 16;
            struct app_seen *v = realloc(a->seen, c * sizeof *v);
            if (v == NULL)
                goto out; /* untracked: it simply never times out */
            a->seen = v;
            a->capseen = c;
        }
        a->nseen++;
        snprintf(a->seen[i].user, sizeof a->seen[i].user, "%s", user);
    }
    snprintf(a->seen[i].token, sizeof a->seen[i].token, "%s", token);
    a->seen[i].last_ms = now;
out:
    pthread_mutex_unlock(&a->idle_mu);
}

/* Ends one idle session; the token is checked again in the store, so a
 * session that logged out or re-logged meanwhile is left alone. */
static void end_session(app_server *a, const struct app_seen *s)
{
    store_wop op = {.kind = STORE_OP_END_SESSION, .token = store_s(s->token)};
    store_res r = store_conn_write_wait(a->store, &op);

    app_cache_drop(a->cache, s->token); /* ended here: not cached any more */

    if (r == STORE_OK && op.out.count > 0)
        app_hint(a, NULL, "room"); /* its rooms' members have notices */
    if (r == STORE_OK) {
        app_session_end_fn fn;
        void *arg;

        sb_info("app",
                "%s: %s's session timed out (no call for %lld ms); "
                "its rooms are gone",
                a->id, s->user, (long long)a->idle_ms);
        pthread_mutex_lock(&a->idle_mu);
        fn = a->ended_fn, arg = a->ended_arg;
        a->ended_busy += fn != NULL;
        pthread_mutex_unlock(&a->idle_mu);
        if (fn != NULL) {
            fn(arg, s->user);
            pthread_mutex_lock(&a->idle_mu);
            a->ended_busy--;
            pthread_cond_broadcast(&a->idle_cv);
            pthread_mutex_unlock(&a->idle_mu);
        }
    } else if (r != STORE_NOT_LOGGED_IN)
        sb_warn("app", "%s: ending %s's idle session: %s", a->id, s->user,
                store_res_name(r));
}

/* Takes out one expired entry (copied to *out); 0 when none. */
static int take_expired(app_server *a, int64_t now, struct app_seen *out)
{
    for (size_t i = 0; i < a->nseen; i++)
        if (now - a->seen[i].last_ms >= a->idle_ms) {
            *out = a->seen[i];
            a->seen[i] = a->seen[--a->nseen];
            return 1;
        }
    return 0;
}

static void *idler(void *arg)
{
    app_server *a = arg;
    int64_t period = a->idle_ms / 4 < 1000 ? a->idle_ms / 4 : 1000;
    struct app_seen s;

    if (period < 10)
        period = 10;
    pthread_mutex_lock(&a->idle_mu);
    while (!a->idle_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += period / 1000;
        ts.tv_nsec += (long)(period % 1000) * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&a->idle_cv, &a->idle_mu, &ts);
        while (!a->idle_stop && take_expired(a, rpc_now_mono_ms(), &s)) {
            pthread_mutex_unlock(&a->idle_mu);
            end_session(a, &s);
            pthread_mutex_lock(&a->idle_mu);
        }
    }
    pthread_mutex_unlock(&a->idle_mu);
    return NULL;
}

int app_idle_start(app_server *a)
{
    pthread_mutex_init(&a->idle_mu, NULL);
    pthread_cond_init(&a->idle_cv, NULL);
    if (a->idle_ms <= 0)
        return 0;
    if (pthread_create(&a->idler, NULL, idler, a) != 0)
        return RPC_INTERNAL;
    a->have_idler = 1;
    return 0;
}

void app_idle_stop(app_server *a)
{
    if (a->have_idler) {
        pthread_mutex_lock(&a->idle_mu);
        a->idle_stop = 1;
        pthread_cond_signal(&a->idle_cv);
        pthread_mutex_unlock(&a->idle_mu);
        pthread_join(a->idler, NULL);
        a->have_idler = 0;
    }
    free(a->seen);
    a->seen = NULL;
    a->nseen = a->capseen = 0;
}

uint32_t app_server_users(app_server *a)
{
    size_t n;

    /* The sessions this server has seen a call from and not yet ended:
     * what it reports in its heartbeat (0 when idle tracking is off). */
    pthread_mutex_lock(&a->idle_mu);
    n = a->nseen;
    pthread_mutex_unlock(&a->idle_mu);
    return (uint32_t)n;
}

void app_server_on_session_end(app_server *a, app_session_end_fn fn, void *arg)
{
    pthread_mutex_lock(&a->idle_mu);
    a->ended_fn = fn;
    a->ended_arg = arg;
    /* A call under way may still use the old arg: wait it out, so the
     * caller may free that arg once we return. */
    while (a->ended_busy > 0)
        pthread_cond_wait(&a->idle_cv, &a->idle_mu);
    pthread_mutex_unlock(&a->idle_mu);
}
