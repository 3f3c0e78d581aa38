/* http.h: Switchboard's HTTP server module, a thin layer over GNU
 * libmicrohttpd (one epoll thread, suspend/resume) with JSON from jansson.
 * It serves the web client (servers/web/) and is meant to serve the
 * operator dashboard too, so it knows nothing of either: routes, limits
 * (431 headers, 413 bodies, idle timeouts, connection caps), security
 * headers on every reply, gzip where it pays, static files with ETags,
 * requests answered later from any thread, and event streams.
 *
 * Threads. Handlers run on the server's one polling thread and must not
 * block. A handler either answers at once (http_reply*), or calls
 * http_defer() and answers later from any thread, or opens a stream.
 * Every function below is safe from any thread unless it says otherwise.
 *
 * Errors cross the module boundary as rpc_status codes (rpc.h), the one
 * status type of the project.
 */
#ifndef SB_HTTP_H
#define SB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct http_server http_server;
typedef struct http_req http_req;
typedef struct http_stream http_stream;

/** Server settings; a zeroed field takes the default shown. */
typedef struct http_config {
    const char *host;        /**< IPv4 listen address; "0.0.0.0" */
    int port;                /**< TCP port; 0 = a free one (http_port()) */
    size_t max_header;       /**< request line + headers, bytes; 8192 (431) */
    size_t max_body;         /**< request body, bytes; 65536 (413) */
    unsigned idle_timeout_s; /**< a connection silent this long is closed;
                                  15 (streams are exempt while idle) */
    unsigned max_conns;      /**< connections at once; 10000, capped by the
                                  process's descriptor limit */
    unsigned max_per_ip;     /**< connections per client address; 0 = none */
    const char *csp;         /**< Content-Security-Policy of every reply;
                                  NULL = HTTP_CSP_STRICT */
    const char *log_name;    /**< log component; "http" */
} http_config;

/** Same-origin scripts, styles, images and connections; nothing inline,
 * no frames, no plugins, forms only to this origin. */
#define HTTP_CSP_STRICT                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; "                \
    "img-src 'self'; connect-src 'self'; base-uri 'none'; "                    \
    "form-action 'self'; frame-ancestors 'none'"

/** One extra response header; arrays of them end with {NULL, NULL}. */
typedef struct http_hdr {
    const char *name, *value;
} http_hdr;

/** Runs for a whole request (headers and body read, limits checked) on
 * the polling thread. It must answer exactly once: http_reply*(),
 * http_defer() then an answer from any thread, or http_stream_open(). A
 * handler that returns without doing any of these gets 500. */
typedef void (*http_handler)(http_req *r, void *arg);

/* ------------------------------------------------------------------ */
/* Server                                                               */

/** Creates a server (not listening yet).
 * @param out receives the server; free it with http_server_free().
 * @param cfg settings (copied; strings must outlive the server); NULL =
 *            all defaults.
 * @return RPC_OK; RPC_INVALID_ARGUMENT (bad host); RPC_INTERNAL (memory). */
int http_server_create(http_server **out, const http_config *cfg,
                       rpc_status *st);

/** Adds a route before http_server_start(). A request matches the first
 * route whose method (NULL = GET or HEAD) equals the request's and whose
 * path equals the request path (prefix != 0: starts with it).
 * Unmatched paths get 404, a matched path with another method 405.
 * @return RPC_OK; RPC_FAILED_PRECONDITION (already started);
 *         RPC_RESOURCE_EXHAUSTED (more than 64 routes); RPC_INTERNAL. */
int http_route(http_server *s, const char *method, const char *path, int prefix,
               http_handler h, void *arg);

/** Serves @len bytes at @data (static, never copied) as @ctype on GET and
 * HEAD of @path, with a strong ETag (304 on If-None-Match), "no-cache"
 * revalidation, and a gzip copy made once here when it is smaller.
 * @return as http_route(). */
int http_route_static(http_server *s, const char *path, const char *ctype,
                      const void *data, size_t len);

/** Binds and starts the polling thread.
 * @return RPC_OK; RPC_UNAVAILABLE (cannot bind: in use, no permission;
 *         the message says which); RPC_INTERNAL. */
int http_server_start(http_server *s, rpc_status *st);

/** The port listened on (after start), or 0. */
int http_server_port(const http_server *s);

/** Stops: no new connections; deferred requests not answered yet get
 * 503; streams end; then the thread stops and connections close. Later
 * http_reply()/http_stream_write() calls are harmless no-ops. NULL and
 * repeated calls are ignored. */
void http_server_stop(http_server *s);

/** Stops (if running) and frees. Requests and streams still held by the
 * caller must have been answered or released first. NULL ignored. */
void http_server_free(http_server *s);

/* ------------------------------------------------------------------ */
/* Requests: valid from the handler until answered (deferred: until    */
/* the answer), readable from any thread while deferred.               */

const char *http_req_method(const http_req *r); /**< "GET", "POST", ... */
const char *http_req_path(const http_req *r);   /**< "/api/cmd", no query */
/** A request header (case-insensitive name), or NULL. */
const char *http_req_header(const http_req *r, const char *name);
/** A cookie's value from the Cookie header, or NULL. */
const char *http_req_cookie(const http_req *r, const char *name);
/** A query argument (decoded), or NULL. */
const char *http_req_query(const http_req *r, const char *name);
/** The body (NUL-terminated for convenience) and its length. */
const char *http_req_body(const http_req *r, size_t *len);
/** The client's address as text, e.g. "127.0.0.1". */
const char *http_req_peer(const http_req *r);
/** Whether the Accept-Encoding header allows gzip. */
int http_req_accepts_gzip(const http_req *r);

/* ------------------------------------------------------------------ */
/* Answers. Each answers the request once; a second answer is ignored.  */

#define HTTP_GZIP 1u     /**< compress when the client takes it and it pays */
#define HTTP_NO_STORE 2u /**< Cache-Control: no-store (API replies) */

/** Answers with @len bytes of @body (copied) as @ctype (NULL =
 * "text/plain; charset=utf-8"), the @extra headers (may be NULL) and the
 * security headers. @flags: HTTP_GZIP, HTTP_NO_STORE. */
void http_reply(http_req *r, int status, const char *ctype, const void *body,
                size_t len, const http_hdr *extra, unsigned flags);

/** Answers with @j serialised compactly as application/json (gzip when
 * it pays, no-store). Takes @j's reference. A @j that cannot be
 * serialised is a 500. */
void http_reply_json(http_req *r, int status, json_t *j, const http_hdr *extra);

/** {"ok":false,"error":@msg} with @status (4xx/5xx). */
void http_reply_error(http_req *r, int status, const char *msg);

/** Takes the request off the polling thread: the handler returns and
 * someone answers later, from any thread, with http_reply*(). */
void http_defer(http_req *r);

/* ------------------------------------------------------------------ */
/* Streams (server-sent events and the like)                            */

/** Called once when the stream ends for any reason (peer gone, queue
 * over its limit, server stopping, http_stream_close()), from any
 * thread, with no lock of the module held. */
typedef void (*http_stream_end_fn)(http_stream *st, void *arg);

/** Answers @r with a never-ending body of type @ctype (chunked), fed by
 * http_stream_write(). The caller holds one reference and must drop it
 * with http_stream_release() (after @on_end, or whenever it is done).
 * @param max_queue bytes written but not yet sent; a write beyond it
 *        ends the stream (a peer that does not read cannot grow memory).
 * @return the stream, or NULL (out of memory: @r got 500; or @r was
 *         answered already, e.g. by the server's stop): then @on_end is
 *         never called and the caller holds nothing. */
http_stream *http_stream_open(http_req *r, const char *ctype,
                              const http_hdr *extra, size_t max_queue,
                              http_stream_end_fn on_end, void *arg);

/** Queues @n bytes for the peer (copied).
 * @return 0; -1 when the stream has ended, or would exceed max_queue
 *         (then it ends). */
int http_stream_write(http_stream *st, const void *p, size_t n);

/** Bytes queued and not yet handed to the socket. */
size_t http_stream_queued(http_stream *st);

/** Ends the stream once what is queued has been sent. */
void http_stream_close(http_stream *st);

/** Drops the caller's reference (the stream ends first if it has not).
 * NULL ignored. */
void http_stream_release(http_stream *st);

#ifdef __cplusplus
}
#endif
#endif
