/* http_stream.c: never-ending responses (server-sent events). The body is
 * a libmicrohttpd content reader over a byte queue: with nothing queued
 * the reader suspends the connection (so an idle stream costs no polling
 * and no thread), and a write resumes it. The queue is bounded: a peer
 * that stops reading ends its stream instead of growing our memory, and
 * an idle stream holds no buffer at all. */
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "sb_log.h"

#define STREAM_BLOCK 4096

static void stream_unref(http_stream *st)
{
    int left;

    pthread_mutex_lock(&st->mu);
    left = --st->refs;
    pthread_mutex_unlock(&st->mu);
    if (left > 0)
        return;
    pthread_mutex_destroy(&st->mu);
    free(st->buf);
    free(st);
}

/* Unlinks from the server's list and calls on_end, once. */
static void stream_notify(http_stream *st)
{
    http_server *s = st->srv;
    int call;

    pthread_mutex_lock(&s->mu);
    if (st->prev != NULL || s->streams == st) {
        if (st->prev != NULL)
            st->prev->next = st->next;
        else
            s->streams = st->next;
        if (st->next != NULL)
            st->next->prev = st->prev;
        st->prev = st->next = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&st->mu);
    call = !st->notified;
    st->notified = 1;
    pthread_mutex_unlock(&st->mu);
    if (call && st->on_end != NULL)
        st->on_end(st, st->arg);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    http_stream *st = cls;
    size_t n;

    pthread_mutex_lock(&st->mu);
    if (st->len > st->head) {
        n = st->len - st->head < max ? st->len - st->head : max;
        memcpy(buf, st->buf + st->head, n);
        st->head += n;
        if (st->head == st->len) { /* drained: hold no buffer while idle */
            free(st->buf);
            st->buf = NULL;
            st->head = st->len = st->cap = 0;
        }
        pthread_mutex_unlock(&st->mu);
        return (ssize_t)n;
    }
    if (st->closing || st->ended) {
        pthread_mutex_unlock(&st->mu);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    MHD_suspend_connection(st->conn);
    st->suspended = 1;
    pthread_mutex_unlock(&st->mu);
    return 0;
}

static void reader_free(void *cls)
{
    stream_unref(cls);
}

/* Resumes a suspended connection so the reader runs; st->mu held. */
static void wake(http_stream *st)
{
    if (st->suspended && st->conn != NULL) {
        st->suspended = 0;
        MHD_resume_connection(st->conn);
    }
}

http_stream *http_stream_open(http_req *r, const char *ctype,
                              const http_hdr *extra, size_t max_queue,
                              http_stream_end_fn on_end, void *arg)
{
    http_server *s = r->srv;
    http_stream *st = calloc(1, sizeof *st);
    struct MHD_Response *resp = NULL;

    if (st == NULL)
        goto fail;
    pthread_mutex_init(&st->mu, NULL);
    st->srv = s;
    st->conn = r->conn;
    st->max = max_queue;
    st->on_end = on_end;
    st->arg = arg;
    st->refs = 3; /* the caller's, the response's and the request's */
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                             reader, st, reader_free);
    if (resp == NULL)
        goto fail;
    MHD_add_response_header(resp, "Content-Type", ctype);
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    http_add_common_headers(s, resp, HTTP_NO_STORE);
    for (const http_hdr *h = extra; h != NULL && h->name != NULL; h++)
        MHD_add_response_header(resp, h->name, h->value);
    pthread_mutex_lock(&s->mu);
    st->next = s->streams;
    if (s->streams != NULL)
        s->streams->prev = st;
    s->streams = st;
    r->stream = st;
    pthread_mutex_unlock(&s->mu);
    if (!http_answer(r, MHD_HTTP_OK, resp, 1, 1)) {
        /* answered already (the server is stopping): no stream, no
         * on_end, no reference for the caller */
        pthread_mutex_lock(&s->mu);
        r->stream = NULL;
        pthread_mutex_unlock(&s->mu);
        st->notified = 1;
        stream_notify(st);          /* unlinks only */
        MHD_destroy_response(resp); /* drops the response's reference */
        stream_unref(st);           /* the request's */
        stream_unref(st);           /* the caller's */
        return NULL;
    }
    MHD_destroy_response(resp); /* the connection keeps it */
    return st;
fail:
    if (st != NULL)
        pthread_mutex_destroy(&st->mu);
    free(st);
    http_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory");
    return NULL;
}

int http_stream_write(http_stream *st, const void *p, size_t n)
{
    int over;

    pthread_mutex_lock(&st->mu);
    if (st->ended || st->closing) {
        pthread_mutex_unlock(&st->mu);
        return -1;
    }
    over = st->len - st->head + n > st->max;
    if (!over && st->len + n > st->cap) {
        size_t live = st->len - st->head, cap = STREAM_BLOCK;
        while (cap < live + n)
            cap *= 2;
        char *b = malloc(cap);
        if (b == NULL) {
            over = 1;
        } else {
            if (live > 0)
                memcpy(b, st->buf + st->head, live);
            free(st->buf);
            st->buf = b;
            st->cap = cap;
            st->head = 0;
            st->len = live;
        }
    }
    if (over) {
        st->closing = 1; /* the peer is not reading: end it */
        st->head = st->len = 0;
        wake(st);
        pthread_mutex_unlock(&st->mu);
        return -1;
    }
    memcpy(st->buf + st->len, p, n);
    st->len += n;
    wake(st);
    pthread_mutex_unlock(&st->mu);
    return 0;
}

size_t http_stream_queued(http_stream *st)
{
    size_t n;

    pthread_mutex_lock(&st->mu);
    n = st->len - st->head;
    pthread_mutex_unlock(&st->mu);
    return n;
}

void http_stream_close(http_stream *st)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->closing = 1;
    wake(st);
    pthread_mutex_unlock(&st->mu);
}

void http_stream_release(http_stream *st)
{
    if (st == NULL)
        return;
    http_stream_close(st);
    stream_unref(st);
}

void http_stream_detach(http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    st->ended = 1;
    st->conn = NULL;
    st->suspended = 0;
    pthread_mutex_unlock(&st->mu);
    stream_notify(st);
    stream_unref(st); /* the request's */
}

void http_streams_stop(http_server *s)
{
    pthread_mutex_lock(&s->mu);
    for (http_stream *st = s->streams; st != NULL; st = st->next) {
        pthread_mutex_lock(&st->mu);
        st->closing = 1;
        wake(st);
        pthread_mutex_unlock(&st->mu);
    }
    pthread_mutex_unlock(&s->mu);
}
