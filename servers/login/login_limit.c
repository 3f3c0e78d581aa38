/* login_limit.c: per-user and per-address failure counts with doubling
 * waits (login_limit.h). Keys ("u:NAME", "a:ADDR") live in a chained hash
 * table and on a list in order of use, so the stalest key is the one
 * dropped when the table is full, and a key no one failed on for
 * forget_s is dropped when next looked at. One mutex: an attempt does a
 * handful of lookups, then (elsewhere, outside it) ~50 ms of Argon2id. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "login_limit.h"
#include "rpc.h"

#define KEY_MAX 200 /* longer names are cut: still one key per name */

typedef struct key {
    struct key *next;       /* hash chain */
    struct key *prev, *nxt; /* use order: head = most recent */
    uint64_t hash;
    int failures;
    int64_t last_fail_ms, wait_until_ms;
    char name[KEY_MAX + 3];
} key;

struct login_limit {
    login_limit_config cfg;
    pthread_mutex_t mu;
    key **b;
    size_t nb, n;
    key *head, *tail;
};

static int64_t default_now(void *arg)
{
    (void)arg;
    return rpc_now_mono_ms();
}

login_limit *login_limit_new(const login_limit_config *cfg)
{
    login_limit *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    if (cfg != NULL)
        l->cfg = *cfg;
    if (l->cfg.user_free <= 0)
        l->cfg.user_free = 5;
    if (l->cfg.addr_free <= 0)
        l->cfg.addr_free = 20;
    if (l->cfg.max_wait_s <= 0)
        l->cfg.max_wait_s = 300;
    if (l->cfg.forget_s <= 0)
        l->cfg.forget_s = 900;
    if (l->cfg.forget_s < l->cfg.max_wait_s)
        l->cfg.forget_s = l->cfg.max_wait_s;
    if (l->cfg.max_keys == 0)
        l->cfg.max_keys = 100000;
    if (l->cfg.now_ms == NULL)
        l->cfg.now_ms = default_now;
    l->nb = 256;
    if ((l->b = calloc(l->nb, sizeof *l->b)) == NULL) {
        free(l);
        return NULL;
    }
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

void login_limit_free(login_limit *l)
{
    if (l == NULL)
        return;
    for (key *k = l->head, *n; k != NULL; k = n) {
        n = k->nxt;
        free(k);
    }
    free(l->b);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static void list_unlink(login_limit *l, key *k)
{
    if (k->prev)
        k->prev->nxt = k->nxt;
    else
        l->head = k->nxt;
    if (k->nxt)
        k->nxt->prev = k->prev;
    else
        l->tail = k->prev;
    k->prev = k->nxt = NULL;
}

static void list_front(login_limit *l, key *k)
{
    k->nxt = l->head;
    if (l->head)
        l->head->prev = k;
    l->head = k;
    if (l->tail == NULL)
        l->tail = k;
}

static void drop(login_limit *l, key *k)
{
    key **p = &l->b[k->hash & (l->nb - 1)];
    while (*p != k)
        p = &(*p)->next;
    *p = k->next;
    list_unlink(l, k);
    l->n--;
    free(k);
}

static void grow(login_limit *l)
{
    size_t nb = l->nb * 2;
    key **b = calloc(nb, sizeof *b);
    if (b == NULL)
        return; /* longer chains: slower, still right */
    for (key *k = l->head; k != NULL; k = k->nxt) {
        k->next = b[k->hash & (nb - 1)];
        b[k->hash & (nb - 1)] = k;
    }
    free(l->b);
    l->b = b;
    l->nb = nb;
}

/* "u:NAME" / "a:ADDR" into buf; 0 when there is no such key. */
static int key_name(char kind, const char *v, char buf[KEY_MAX + 3])
{
    if (v == NULL || v[0] == '\0')
        return 0;
    snprintf(buf, KEY_MAX + 3, "%c:%.*s", kind, KEY_MAX, v);
    return 1;
}

/* The key called name, or NULL; a key forgotten by now is dropped. */
static key *find(login_limit *l, const char *name, int64_t now)
{
    uint64_t h = hash_str(name);
    for (key *k = l->b[h & (l->nb - 1)]; k != NULL; k = k->next) {
        if (k->hash != h || strcmp(k->name, name) != 0)
            continue;
        if (now >= k->wait_until_ms &&
            now - k->last_fail_ms >= (int64_t)l->cfg.forget_s * 1000) {
            drop(l, k);
            return NULL;
        }
        return k;
    }
    return NULL;
}

static key *find_or_add(login_limit *l, const char *name, int64_t now)
{
    key *k = find(l, name, now);
    if (k != NULL) {
        list_unlink(l, k);
        list_front(l, k);
        return k;
    }
    while (l->n >= l->cfg.max_keys && l->tail != NULL)
        drop(l, l->tail); /* the stalest */
    if (l->n >= l->nb)
        grow(l);
    if ((k = calloc(1, sizeof *k)) == NULL)
        return NULL;
    snprintf(k->name, sizeof k->name, "%s", name);
    k->hash = hash_str(name);
    k->next = l->b[k->hash & (l->nb - 1)];
    l->b[k->hash & (l->nb - 1)] = k;
    list_front(l, k);
    l->n++;
    return k;
}

/* One more failure on k: past free ones, a wait of 1, 2, 4 ... s. */
static void count_failure(login_limit *l, key *k, int free_n, int64_t now)
{
    k->failures++;
    k->last_fail_ms = now;
    int over = k->failures - free_n;
    if (over <= 0)
        return;
    int64_t wait = over > 20 ? l->cfg.max_wait_s : (int64_t)1 << (over - 1);
    if (wait > l->cfg.max_wait_s)
        wait = l->cfg.max_wait_s;
    k->wait_until_ms = now + wait * 1000;
}

/* Seconds k still makes its callers wait (rounded up), or 0. */
static int wait_left(const key *k, int64_t now)
{
    if (k == NULL || k->wait_until_ms <= now)
        return 0;
    return (int)((k->wait_until_ms - now + 999) / 1000);
}

int login_limit_begin(login_limit *l, const char *user, const char *addr)
{
    char un[KEY_MAX + 3], an[KEY_MAX + 3];
    int has_u = key_name('u', user, un), has_a = key_name('a', addr, an);
    pthread_mutex_lock(&l->mu);
    int64_t now = l->cfg.now_ms(l->cfg.clock_arg);
    int wu = has_u ? wait_left(find(l, un, now), now) : 0;
    int wa = has_a ? wait_left(find(l, an, now), now) : 0;
    int wait = wu > wa ? wu : wa;
    if (wait == 0) { /* let it through, counted as failed until it is not */
        key *k;
        if (has_u && (k = find_or_add(l, un, now)) != NULL)
            count_failure(l, k, l->cfg.user_free, now);
        if (has_a && (k = find_or_add(l, an, now)) != NULL)
            count_failure(l, k, l->cfg.addr_free, now);
    }
    pthread_mutex_unlock(&l->mu);
    return wait;
}

void login_limit_succeeded(login_limit *l, const char *user, const char *addr)
{
    char un[KEY_MAX + 3], an[KEY_MAX + 3];
    key *k;
    pthread_mutex_lock(&l->mu);
    int64_t now = l->cfg.now_ms(l->cfg.clock_arg);
    if (key_name('u', user, un) && (k = find(l, un, now)) != NULL)
        drop(l, k);
    if (key_name('a', addr, an) && (k = find(l, an, now)) != NULL &&
        k->failures > 0 && --k->failures <= l->cfg.addr_free)
        k->wait_until_ms = 0;
    pthread_mutex_unlock(&l->mu);
}

void login_limit_message(int wait_s, char *out, size_t n)
{
    snprintf(out, n, "Too many failed logins; try again in %d s", wait_s);
}

size_t login_limit_keys(login_limit *l)
{
    pthread_mutex_lock(&l->mu);
    size_t n = l->n;
    pthread_mutex_unlock(&l->mu);
    return n;
}
