/* web_jobs.c: a fixed pool of threads for the web role's blocking work
 * (libsb calls: logins, commands, re-logins). The HTTP thread never
 * waits on the system; it hands a request here and is free at once. The
 * queue is bounded so a flood gets "busy" instead of unbounded memory. */
#include <stdlib.h>

#include "web_internal.h"

#define JOBS_QUEUE_MAX 1024

typedef struct job {
    void (*fn)(void *);
    void *arg;
    struct job *next;
} job;

struct web_jobs {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    int queued, stopping, n;
    pthread_t *t;
};

static void *worker(void *arg)
{
    web_jobs *j = arg;

    for (;;) {
        job *x;
        pthread_mutex_lock(&j->mu);
        while (j->head == NULL && !j->stopping)
            pthread_cond_wait(&j->cv, &j->mu);
        if ((x = j->head) == NULL) { /* stopping and drained */
            pthread_mutex_unlock(&j->mu);
            return NULL;
        }
        j->head = x->next;
        if (j->head == NULL)
            j->tail = NULL;
        j->queued--;
        pthread_mutex_unlock(&j->mu);
        x->fn(x->arg);
        free(x);
    }
}

web_jobs *web_jobs_start(int n)
{
    web_jobs *j = calloc(1, sizeof *j);

    if (j == NULL || (j->t = calloc((size_t)n, sizeof *j->t)) == NULL) {
        free(j);
        return NULL;
    }
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    for (; j->n < n; j->n++)
        if (pthread_create(&j->t[j->n], NULL, worker, j) != 0)
            break;
    if (j->n == 0) {
        web_jobs_stop(j);
        return NULL;
    }
    return j;
}

int web_jobs_submit(web_jobs *j, void (*fn)(void *), void *arg)
{
    job *x = malloc(sizeof *x);

    if (x == NULL)
        return -1;
    x->fn = fn;
    x->arg = arg;
    x->next = NULL;
    pthread_mutex_lock(&j->mu);
    if (j->queued >= JOBS_QUEUE_MAX || j->stopping) {
        pthread_mutex_unlock(&j->mu);
        free(x);
        return -1;
    }
    if (j->tail != NULL)
        j->tail->next = x;
    else
        j->head = x;
    j->tail = x;
    j->queued++;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return 0;
}

void web_jobs_stop(web_jobs *j)
{
    if (j == NULL)
        return;
    pthread_mutex_lock(&j->mu);
    j->stopping = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    for (int i = 0; i < j->n; i++)
        pthread_join(j->t[i], NULL);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j->t);
    free(j);
}
