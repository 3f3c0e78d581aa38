/* web_limit.c: backoff after failed logins, per user name and per client
 * address, kept by the web role (the trust work adds limits in the login
 * server itself). A name may fail 3 times in a row freely, then each
 * further try waits 1, 2, 4, ... up to 60 s; an address gets 20 free
 * failures (many people may share one address) before the same. A
 * success clears both; an entry quiet for 15 minutes is forgotten. The
 * table is bounded: when full, new keys are not tracked, so a flood of
 * made-up names cannot push out a real user's entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_internal.h"

#define LIM_BUCKETS 4096
#define LIM_MAX 65536
#define LIM_FORGET_MS (15 * 60 * 1000)
#define LIM_CAP_MS 60000

typedef struct lim_ent {
    char key[80]; /* "u:name" or "a:address" */
    int fails;
    int64_t next_ok_ms, last_ms;
    struct lim_ent *next;
} lim_ent;

struct web_limit {
    pthread_mutex_t mu;
    lim_ent *b[LIM_BUCKETS];
    unsigned n;
};

web_limit *web_limit_new(void)
{
    web_limit *l = calloc(1, sizeof *l);

    if (l != NULL)
        pthread_mutex_init(&l->mu, NULL);
    return l;
}

void web_limit_free(web_limit *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < LIM_BUCKETS; i++)
        for (lim_ent *e = l->b[i], *nx; e != NULL; e = nx) {
            nx = e->next;
            free(e);
        }
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static size_t hash(const char *k)
{
    uint32_t h = 2166136261u;

    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 16777619u;
    return h % LIM_BUCKETS;
}

static lim_ent *find(web_limit *l, const char *key, int make)
{
    size_t h = hash(key);
    lim_ent *e;

    for (e = l->b[h]; e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    if (!make || l->n >= LIM_MAX || (e = calloc(1, sizeof *e)) == NULL)
        return NULL;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->next = l->b[h];
    l->b[h] = e;
    l->n++;
    return e;
}

static void key_of(char *buf, size_t n, char kind, const char *v)
{
    snprintf(buf, n, "%c:%s", kind, v != NULL ? v : "");
}

int64_t web_limit_wait_ms(web_limit *l, const char *name, const char *peer)
{
    char ku[80], ka[80];
    int64_t now = rpc_now_mono_ms(), wait = 0;

    key_of(ku, sizeof ku, 'u', name);
    key_of(ka, sizeof ka, 'a', peer);
    pthread_mutex_lock(&l->mu);
    lim_ent *e[2] = {find(l, ku, 0), find(l, ka, 0)};
    for (int i = 0; i < 2; i++)
        if (e[i] != NULL && e[i]->next_ok_ms - now > wait)
            wait = e[i]->next_ok_ms - now;
    pthread_mutex_unlock(&l->mu);
    return wait;
}

/* After @free_fails failures in a row, 1 s doubling to the cap. */
static void fail(lim_ent *e, int free_fails, int64_t now)
{
    e->fails++;
    e->last_ms = now;
    if (e->fails > free_fails) {
        int k = e->fails - free_fails - 1;
        int64_t d = k >= 6 ? LIM_CAP_MS : 1000LL << k;
        e->next_ok_ms = now + (d > LIM_CAP_MS ? LIM_CAP_MS : d);
    }
}

void web_limit_note(web_limit *l, const char *name, const char *peer, int ok)
{
    char ku[80], ka[80];
    int64_t now = rpc_now_mono_ms();

    key_of(ku, sizeof ku, 'u', name);
    key_of(ka, sizeof ka, 'a', peer);
    pthread_mutex_lock(&l->mu);
    lim_ent *eu = find(l, ku, !ok), *ea = find(l, ka, !ok);
    if (ok) {
        if (eu != NULL)
            eu->fails = 0, eu->next_ok_ms = 0;
        if (ea != NULL)
            ea->fails = 0, ea->next_ok_ms = 0;
    } else {
        if (eu != NULL)
            fail(eu, 3, now);
        if (ea != NULL)
            fail(ea, 20, now);
    }
    pthread_mutex_unlock(&l->mu);
}

void web_limit_sweep(web_limit *l)
{
    int64_t now = rpc_now_mono_ms();

    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < LIM_BUCKETS; i++)
        for (lim_ent **p = &l->b[i]; *p != NULL;) {
            lim_ent *e = *p;
            if (now - e->last_ms > LIM_FORGET_MS && now >= e->next_ok_ms) {
                *p = e->next;
                free(e);
                l->n--;
            } else {
                p = &e->next;
            }
        }
    pthread_mutex_unlock(&l->mu);
}
