/* app_cache.c: the token cache (app_cache.h): a fixed array of hash
 * buckets with chained entries under one mutex; the critical sections are
 * a few string compares, far cheaper than the store read they save. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "app_cache.h"
#include "rpc.h"

#define APP_CACHE_BUCKETS 1024

typedef struct app_centry {
    struct app_centry *next;
    store_session s;
    int64_t expires_ms; /* monotonic */
} app_centry;

struct app_cache {
    pthread_mutex_t mu;
    app_centry *b[APP_CACHE_BUCKETS];
    unsigned n, max;
    int64_t ttl_ms;
    uint64_t hits, misses, drops;
};

static unsigned bucket(const char *token)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (const unsigned char *p = (const unsigned char *)token; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % APP_CACHE_BUCKETS;
}

int app_cache_create(unsigned max, int64_t ttl_ms, app_cache **out)
{
    app_cache *c = calloc(1, sizeof *c);

    *out = NULL;
    if (c == NULL)
        return ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    c->max = max > 0 ? max : 4096;
    c->ttl_ms = ttl_ms > 0 ? ttl_ms : 30000;
    *out = c;
    return 0;
}

/* Unlinks the entry of @token; mu held. Returns 1 when one was there. */
static int unlink_token(app_cache *c, const char *token)
{
    for (app_centry **pp = &c->b[bucket(token)]; *pp != NULL; pp = &(*pp)->next)
        if (strcmp((*pp)->s.token, token) == 0) {
            app_centry *e = *pp;
            *pp = e->next;
            free(e);
            c->n--;
            return 1;
        }
    return 0;
}

static void clear_locked(app_cache *c)
{
    for (unsigned i = 0; i < APP_CACHE_BUCKETS; i++)
        while (c->b[i] != NULL) {
            app_centry *e = c->b[i];
            c->b[i] = e->next;
            free(e);
        }
    c->n = 0;
}

int app_cache_get(app_cache *c, const char *token, store_session *out)
{
    int64_t now = rpc_now_mono_ms();
    int hit = 0;

    pthread_mutex_lock(&c->mu);
    for (app_centry *e = c->b[bucket(token)]; e != NULL; e = e->next)
        if (strcmp(e->s.token, token) == 0) {
            if (now < e->expires_ms) {
                *out = e->s;
                hit = 1;
            } else {
                unlink_token(c, token);
            }
            break;
        }
    if (hit)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void app_cache_put(app_cache *c, const store_session *s)
{
    app_centry *e = malloc(sizeof *e);
    unsigned i = bucket(s->token);

    if (e == NULL)
        return; /* a cache: the next call simply reads the store */
    e->s = *s;
    e->expires_ms = rpc_now_mono_ms() + c->ttl_ms;
    pthread_mutex_lock(&c->mu);
    unlink_token(c, s->token);
    if (c->n >= c->max)
        clear_locked(c);
    e->next = c->b[i];
    c->b[i] = e;
    c->n++;
    pthread_mutex_unlock(&c->mu);
}

void app_cache_drop(app_cache *c, const char *token)
{
    pthread_mutex_lock(&c->mu);
    c->drops += (uint64_t)unlink_token(c, token);
    pthread_mutex_unlock(&c->mu);
}

void app_cache_clear(app_cache *c)
{
    pthread_mutex_lock(&c->mu);
    c->drops += c->n;
    clear_locked(c);
    pthread_mutex_unlock(&c->mu);
}

void app_cache_stats(app_cache *c, uint64_t *hits, uint64_t *misses,
                     uint64_t *drops)
{
    pthread_mutex_lock(&c->mu);
    *hits = c->hits;
    *misses = c->misses;
    *drops = c->drops;
    pthread_mutex_unlock(&c->mu);
}

void app_cache_free(app_cache *c)
{
    if (c == NULL)
        return;
    clear_locked(c);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
