/* http_internal.h: what the HTTP module's files share (server, request
 * and stream objects); not installed, not used outside servers/http/. */
#ifndef SB_HTTP_INTERNAL_H
#define SB_HTTP_INTERNAL_H

#include <pthread.h>

#include <microhttpd.h>

#include "http.h"

#define HTTP_ROUTES_MAX 64

typedef struct http_static {
    const char *ctype;
    const void *data;
    size_t len;
    void *gz; /* gzip copy, or NULL when it does not pay */
    size_t gzlen;
    char etag[24];
} http_static;

typedef struct http_route_ent {
    char *method; /* NULL = GET or HEAD */
    char *path;
    int prefix;
    http_handler h;
    void *arg;
    http_static *stat; /* static file routes */
} http_route_ent;

/* A request's life: READING (headers, body) -> HANDLING (in the handler)
 * -> DEFERRED (suspended, someone will answer) -> ANSWERED or STREAM. */
enum { HR_READING, HR_HANDLING, HR_DEFERRED, HR_ANSWERED, HR_STREAM };

struct http_req {
    http_server *srv;
    struct MHD_Connection *conn;
    int state;        /* HR_*, changed under srv->mu */
    int refs;         /* MHD's (until completed) + a deferral's; srv->mu */
    int refused;      /* answered before the body (413, 431): drop the body */
    size_t dropped;   /* body bytes past max_body, thrown away */
    int deferral_ref; /* the deferrer holds a reference (refs counts it) */
    char method[16];
    char *path; /* owned copy, query removed */
    char *body;
    size_t len, cap;
    char peer[64];
    http_stream *stream;
    http_req *dprev, *dnext; /* deferred list (for stop) */
};

struct http_stream {
    pthread_mutex_t mu;
    http_server *srv;
    struct MHD_Connection *conn; /* NULL once ended */
    char *buf;                   /* unsent bytes: buf[head..len) */
    size_t head, len, cap, max;
    int suspended; /* MHD_suspend_connection'ed by the reader */
    int closing;   /* end once drained */
    int ended;     /* the peer is gone or the server is stopping */
    int notified;  /* on_end called */
    int refs;      /* owner + MHD response */
    http_stream_end_fn on_end;
    void *arg;
    http_stream *prev, *next; /* server's list (for stop) */
};

struct http_server {
    http_config cfg;
    struct MHD_Daemon *d;
    pthread_mutex_t mu; /* request states, the deferred and stream lists */
    http_route_ent routes[HTTP_ROUTES_MAX];
    size_t nroutes;
    http_req *deferred;   /* requests waiting for an answer */
    http_stream *streams; /* open streams */
    int live;             /* requests begun and not completed */
    int started, stopping;
    int port;
};

/** Adds the security headers (and no-store) to @resp. */
void http_add_common_headers(const http_server *s, struct MHD_Response *resp,
                             unsigned flags);
/** Queues @resp for @r (any thread) unless @r was answered already;
 * resumes a deferred request. @owner: the caller is the handler or the
 * deferrer (whose reference is dropped), not the server's stop. Returns
 * 1 when queued. Destroys nothing. */
int http_answer(http_req *r, unsigned status, struct MHD_Response *resp,
                int become_stream, int owner);
/** http_reply() with @owner as for http_answer(). */
void http_reply_ex(http_req *r, int status, const char *ctype, const void *body,
                   size_t len, const http_hdr *extra, unsigned flags,
                   int owner);
/** Drops one reference; frees at zero. Takes srv->mu. */
void http_req_unref(http_req *r);
/** gzip (RFC 1952) of @in into a malloc'ed *out; 0, or -1. */
int http_gzip(const void *in, size_t n, void **out, size_t *outlen);
/** Serves a static route (GET/HEAD, ETag, gzip). */
void http_serve_static(http_req *r, const http_static *st);
/** Ends every stream (server stopping). */
void http_streams_stop(http_server *s);
/** The request ended (MHD's completion): a stream on it ends too, and
 * the request's reference to it goes. */
void http_stream_detach(http_stream *st);

#endif
