/* web_sess.c: browser sessions. The cookie holds nothing but a random
 * 128-bit id (HttpOnly, SameSite=Strict); the session keeps a CSRF token
 * the page must send back on every state change, and the web_user of
 * whoever logged in. A login gets a new id (no fixation). Bounded: when
 * full, the oldest anonymous session goes; idle sessions are dropped by
 * the sweeper (anonymous after 30 min, logged-in after 24 h: the
 * Switchboard session itself lives on until logout or its idle end). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "web_internal.h"

#define SESS_COOKIE "sb_sid"
#define ANON_IDLE_MS (30LL * 60 * 1000)
#define USER_IDLE_MS (24LL * 60 * 60 * 1000)

void web_random_hex(char *hex, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char b[64];

    if (n > sizeof b)
        n = sizeof b;
    rpc_random_bytes(b, n);
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 15];
    }
    hex[2 * n] = '\0';
}

static size_t bucket(const char *id)
{
    uint32_t h = 2166136261u;

    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h % WEB_SESS_BUCKETS;
}

/* A well-formed id: exactly WEB_ID_HEX lowercase hex digits. */
static int id_ok(const char *id)
{
    size_t n = id != NULL ? strspn(id, "0123456789abcdef") : 0;

    return n == WEB_ID_HEX && id[n] == '\0';
}

static web_sess **find(web_role *w, const char *id)
{
    web_sess **p = &w->sess[bucket(id)];

    for (; *p != NULL; p = &(*p)->next)
        if (strcmp((*p)->id, id) == 0)
            return p;
    return NULL;
}

int web_sess_get(web_role *w, http_req *r, web_sess *out)
{
    const char *id = http_req_cookie(r, SESS_COOKIE);
    web_sess **p;

    if (!id_ok(id))
        return -1;
    pthread_mutex_lock(&w->smu);
    if ((p = find(w, id)) == NULL) {
        pthread_mutex_unlock(&w->smu);
        return -1;
    }
    (*p)->last_ms = rpc_now_mono_ms();
    *out = **p;
    out->next = NULL;
    if (out->user != NULL)
        web_user_ref(out->user);
    pthread_mutex_unlock(&w->smu);
    return 0;
}

/* Drops the oldest anonymous session to make room; smu held. */
static int evict_one(web_role *w)
{
    web_sess **oldest = NULL;

    for (size_t i = 0; i < WEB_SESS_BUCKETS; i++)
        for (web_sess **p = &w->sess[i]; *p != NULL; p = &(*p)->next)
            if ((*p)->user == NULL &&
                (oldest == NULL || (*p)->last_ms < (*oldest)->last_ms))
                oldest = p;
    if (oldest == NULL)
        return -1;
    web_sess *s = *oldest;
    *oldest = s->next;
    free(s);
    w->nsess--;
    return 0;
}

int web_sess_new(web_role *w, web_sess *out)
{
    web_sess *s = calloc(1, sizeof *s);

    if (s == NULL)
        return -1;
    web_random_hex(s->id, WEB_ID_HEX / 2);
    web_random_hex(s->csrf, WEB_ID_HEX / 2);
    s->last_ms = rpc_now_mono_ms();
    pthread_mutex_lock(&w->smu);
    if (w->nsess >= w->cfg.max_sessions && evict_one(w) != 0) {
        pthread_mutex_unlock(&w->smu);
        free(s);
        return -1;
    }
    size_t b = bucket(s->id);
    s->next = w->sess[b];
    w->sess[b] = s;
    w->nsess++;
    *out = *s;
    out->next = NULL;
    pthread_mutex_unlock(&w->smu);
    return 0;
}

int web_sess_set_user(web_role *w, const char *id, web_user *u, web_sess *out)
{
    web_sess **p, *s;
    web_user *old;

    pthread_mutex_lock(&w->smu);
    if ((p = find(w, id)) == NULL) {
        pthread_mutex_unlock(&w->smu);
        return -1;
    }
    s = *p;
    *p = s->next; /* re-filed under its new id */
    old = s->user;
    s->user = u;
    if (u != NULL)
        web_user_ref(u);
    web_random_hex(s->id, WEB_ID_HEX / 2);
    web_random_hex(s->csrf, WEB_ID_HEX / 2);
    s->last_ms = rpc_now_mono_ms();
    size_t b = bucket(s->id);
    s->next = w->sess[b];
    w->sess[b] = s;
    *out = *s;
    out->next = NULL;
    out->user = NULL; /* the copy holds no reference */
    pthread_mutex_unlock(&w->smu);
    if (old != NULL)
        web_user_unref(old);
    return 0;
}

void web_sess_sweep(web_role *w)
{
    int64_t now = rpc_now_mono_ms();
    web_user *drop[64];
    size_t ndrop = 0;

    pthread_mutex_lock(&w->smu);
    for (size_t i = 0; i < WEB_SESS_BUCKETS && ndrop < 64; i++)
        for (web_sess **p = &w->sess[i]; *p != NULL && ndrop < 64;) {
            web_sess *s = *p;
            int64_t idle = s->user != NULL ? USER_IDLE_MS : ANON_IDLE_MS;
            if (now - s->last_ms <= idle) {
                p = &s->next;
                continue;
            }
            *p = s->next;
            if (s->user != NULL)
                drop[ndrop++] = s->user;
            free(s);
            w->nsess--;
        }
    pthread_mutex_unlock(&w->smu);
    for (size_t i = 0; i < ndrop; i++)
        web_user_unref(drop[i]);
}

void web_sess_free_all(web_role *w)
{
    for (size_t i = 0; i < WEB_SESS_BUCKETS; i++)
        for (web_sess *s = w->sess[i], *nx; s != NULL; s = nx) {
            nx = s->next;
            if (s->user != NULL)
                web_user_unref(s->user);
            free(s);
        }
    memset(w->sess, 0, sizeof w->sess);
    w->nsess = 0;
}

void web_sess_cookie(const char *id, char *buf, size_t n)
{
    snprintf(buf, n, SESS_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", id);
}

/* Constant time, so the token cannot be guessed byte by byte. */
static int same_secret(const char *a, const char *b)
{
    size_t n = strlen(b);
    unsigned char d = 0;

    if (a == NULL || strlen(a) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* An Origin header, when sent, must name this host (the Host header). */
static int same_origin(http_req *r)
{
    const char *o = http_req_header(r, "Origin"),
               *h = http_req_header(r, "Host");
    const char *site = http_req_header(r, "Sec-Fetch-Site");

    if (site != NULL && strcmp(site, "same-origin") != 0 &&
        strcmp(site, "none") != 0)
        return 0;
    if (o == NULL)
        return 1;
    return h != NULL && strncmp(o, "http://", 7) == 0 && strcmp(o + 7, h) == 0;
}

int web_sess_check_post(http_req *r, const web_sess *s, const char **why)
{
    const char *ct = http_req_header(r, "Content-Type");

    if (!same_secret(http_req_header(r, "X-CSRF-Token"), s->csrf)) {
        *why = "Missing or wrong CSRF token; reload the page";
        return -1;
    }
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
        *why = "Send JSON (Content-Type: application/json)";
        return -1;
    }
    if (!same_origin(r)) {
        *why = "Cross-origin request refused";
        return -1;
    }
    return 0;
}
