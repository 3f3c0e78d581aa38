/* http_server.c: the server object over libmicrohttpd: options (one epoll
 * thread, suspend/resume, memory and connection limits, idle timeout),
 * the access handler that reads a request within its limits (431 for
 * headers, 413 for bodies) and dispatches it to a route, the completion
 * callback that frees it, and a stop that resumes every suspended
 * connection first (libmicrohttpd requires it). Replies: http_reply.c;
 * streams: http_stream.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "http_internal.h"
#include "sb_log.h"

static const char *log_name(const http_server *s)
{
    return s->cfg.log_name != NULL ? s->cfg.log_name : "http";
}

int http_server_create(http_server **out, const http_config *cfg,
                       rpc_status *st)
{
    http_server *s;
    struct in_addr a;

    *out = NULL;
    if ((s = calloc(1, sizeof *s)) == NULL)
        return rpc_status_set(st, RPC_INTERNAL, "out of memory");
    if (cfg != NULL)
        s->cfg = *cfg;
    if (s->cfg.host == NULL)
        s->cfg.host = "0.0.0.0";
    if (inet_pton(AF_INET, s->cfg.host, &a) != 1) {
        free(s);
        return rpc_status_set(st, RPC_INVALID_ARGUMENT,
                              "bad listen address '%s' (an IPv4 address)",
                              cfg->host);
    }
    if (s->cfg.max_header == 0)
        s->cfg.max_header = 8192;
    if (s->cfg.max_body == 0)
        s->cfg.max_body = 65536;
    if (s->cfg.idle_timeout_s == 0)
        s->cfg.idle_timeout_s = 15;
    if (s->cfg.max_conns == 0)
        s->cfg.max_conns = 10000;
    if (s->cfg.csp == NULL)
        s->cfg.csp = HTTP_CSP_STRICT;
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return rpc_status_set(st, RPC_OK, "%s", "");
}

static int add_route(http_server *s, const char *method, const char *path,
                     int prefix, http_handler h, void *arg, http_static *stat)
{
    http_route_ent *e;

    if (s->started)
        return RPC_FAILED_PRECONDITION;
    if (s->nroutes == HTTP_ROUTES_MAX)
        return RPC_RESOURCE_EXHAUSTED;
    e = &s->routes[s->nroutes];
    memset(e, 0, sizeof *e);
    if ((method != NULL && (e->method = strdup(method)) == NULL) ||
        (e->path = strdup(path)) == NULL) {
        free(e->method);
        return RPC_INTERNAL;
    }
    e->prefix = prefix;
    e->h = h;
    e->arg = arg;
    e->stat = stat;
    s->nroutes++;
    return RPC_OK;
}

int http_route(http_server *s, const char *method, const char *path, int prefix,
               http_handler h, void *arg)
{
    return add_route(s, method, path, prefix, h, arg, NULL);
}

int http_route_static(http_server *s, const char *path, const char *ctype,
                      const void *data, size_t len)
{
    http_static *st = calloc(1, sizeof *st);
    uint64_t h = 1469598103934665603ull; /* FNV-1a: the ETag */
    int rc;

    if (st == NULL)
        return RPC_INTERNAL;
    st->ctype = ctype;
    st->data = data;
    st->len = len;
    for (size_t i = 0; i < len; i++)
        h = (h ^ ((const unsigned char *)data)[i]) * 1099511628211ull;
    snprintf(st->etag, sizeof st->etag, "\"%016llx\"", (unsigned long long)h);
    if (len >= 256 && http_gzip(data, len, &st->gz, &st->gzlen) == 0 &&
        st->gzlen + 64 >= len) {
        free(st->gz); /* does not pay */
        st->gz = NULL;
    }
    if ((rc = add_route(s, NULL, path, 0, NULL, NULL, st)) != RPC_OK) {
        free(st->gz);
        free(st);
    }
    return rc;
}

/* ---- requests ------------------------------------------------------ */

static http_req *req_new(http_server *s, struct MHD_Connection *c,
                         const char *url, const char *method)
{
    http_req *r = calloc(1, sizeof *r);
    const union MHD_ConnectionInfo *ci;
    size_t plen = strcspn(url, "?");

    if (r == NULL || (r->path = malloc(plen + 1)) == NULL) {
        free(r);
        return NULL;
    }
    memcpy(r->path, url, plen);
    r->path[plen] = '\0';
    r->srv = s;
    r->conn = c;
    r->refs = 1; /* MHD's, dropped at completion */
    pthread_mutex_lock(&s->mu);
    s->live++;
    pthread_mutex_unlock(&s->mu);
    snprintf(r->method, sizeof r->method, "%s", method);
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL && ci->client_addr != NULL &&
        ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET,
                  &((const struct sockaddr_in *)ci->client_addr)->sin_addr,
                  r->peer, sizeof r->peer);
    return r;
}

void http_req_unref(http_req *r)
{
    int left;

    pthread_mutex_lock(&r->srv->mu);
    left = --r->refs;
    pthread_mutex_unlock(&r->srv->mu);
    if (left > 0)
        return;
    free(r->path);
    free(r->body);
    free(r);
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind,
                                    const char *k, const char *v)
{
    *(size_t *)cls += strlen(k) + (v != NULL ? strlen(v) : 0) + 4;
    return MHD_YES;
}

static void refuse(http_req *r, int status, const char *msg)
{
    r->refused = 1;
    r->state = HR_HANDLING;
    http_reply_error(r, status, msg);
}

/* First call: only the headers are in. Refuse what is over the limits
 * before reading a body. */
static void check_head(http_req *r, const char *url)
{
    http_server *s = r->srv;
    size_t hdr = strlen(url) + strlen(r->method) + 12;
    const char *cl;

    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &hdr);
    if (hdr > s->cfg.max_header) {
        refuse(r, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
               "Request headers too large");
        return;
    }
    cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL && strtoull(cl, NULL, 10) > s->cfg.max_body)
        refuse(r, MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large");
}

static int take_body(http_req *r, const char *data, size_t n)
{
    size_t max = r->srv->cfg.max_body;

    if (r->len + n > max)
        return -1;
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (b == NULL)
            return -1;
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return 0;
}

static const http_route_ent *find_route(const http_server *s, const char *m,
                                        const char *path, int *wrong_method)
{
    int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;

    *wrong_method = 0;
    for (size_t i = 0; i < s->nroutes; i++) {
        const http_route_ent *e = &s->routes[i];
        int hit = e->prefix ? strncmp(path, e->path, strlen(e->path)) == 0
                            : strcmp(path, e->path) == 0;
        if (!hit)
            continue;
        if (e->method == NULL ? get : strcmp(e->method, m) == 0)
            return e;
        *wrong_method = 1;
    }
    return NULL;
}

static void dispatch(http_req *r)
{
    int wrong;
    const http_route_ent *e = find_route(r->srv, r->method, r->path, &wrong);

    r->state = HR_HANDLING;
    if (e == NULL) {
        http_reply_error(
            r, wrong ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND,
            wrong ? "Method not allowed" : "Not found");
        return;
    }
    if (e->stat != NULL)
        http_serve_static(r, e->stat);
    else
        e->h(r, e->arg);
    pthread_mutex_lock(&r->srv->mu);
    wrong = r->state == HR_HANDLING; /* the handler forgot to answer */
    pthread_mutex_unlock(&r->srv->mu);
    if (wrong) {
        sb_error(log_name(r->srv), "%s %s: handler gave no answer", r->method,
                 r->path);
        http_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal error");
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    http_server *s = cls;
    http_req *r = *req_cls;

    if (r == NULL) {
        if ((r = req_new(s, c, url, method)) == NULL)
            return MHD_NO; /* out of memory: close */
        *req_cls = r;
        check_head(r, url);
        return MHD_YES;
    }
    if (r->refused || r->state != HR_READING) {
        *upload_size = 0; /* answered already: the body is dropped */
        return MHD_YES;
    }
    if (*upload_size > 0) {
        /* libmicrohttpd takes an answer only before the body or after
         * all of it: past the limit, drop the rest and answer 413 at the
         * end; a body that goes on far past it closes the connection. */
        if (r->dropped > 0 || take_body(r, upload, *upload_size) != 0)
            r->dropped += *upload_size;
        *upload_size = 0;
        return r->dropped > 4 * s->cfg.max_body ? MHD_NO : MHD_YES;
    }
    if (r->dropped > 0)
        refuse(r, MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large");
    else
        dispatch(r);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode why)
{
    http_req *r = *req_cls;

    if (r == NULL)
        return;
    *req_cls = NULL;
    if (r->stream != NULL)
        http_stream_detach(r->stream);
    pthread_mutex_lock(&r->srv->mu);
    r->srv->live--;
    pthread_mutex_unlock(&r->srv->mu);
    http_req_unref(r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    http_server *s = cls;
    char buf[512];
    size_t n;

    vsnprintf(buf, sizeof buf, fmt, ap);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    sb_debug(log_name(s), "libmicrohttpd: %s", buf);
}

/* Connections at most: the configured cap, within the descriptor limit
 * (leaving room for the process's other sockets and files). */
static unsigned conn_cap(const http_server *s)
{
    struct rlimit rl;
    unsigned cap = s->cfg.max_conns;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        rlim_t room = rl.rlim_cur > 128 ? rl.rlim_cur - 128 : 16;
        if (room < cap)
            cap = (unsigned)room;
    }
    return cap;
}

int http_server_start(http_server *s, rpc_status *st)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)s->cfg.port)};
    const union MHD_DaemonInfo *di;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    /* The pool holds the request's headers and the read and write
     * buffers; header_max is enforced exactly in check_head, the pool
     * is what lets a request of that size in. */
    size_t pool = s->cfg.max_header * 2 + 8192;

    inet_pton(AF_INET, s->cfg.host, &sa.sin_addr);
    /* libmicrohttpd's default SO_REUSEADDR only: its
     * LISTENING_ADDRESS_REUSE 1 adds SO_REUSEPORT, and a second server on
     * the same port would then start and take half the connections. */
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_CONNECTION_LIMIT,
        conn_cap(s), MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg.max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.idle_timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_END);
    if (s->d == NULL)
        return rpc_status_set(st, RPC_UNAVAILABLE,
                              "cannot listen on %s:%d (in use, or not "
                              "permitted)",
                              s->cfg.host, s->cfg.port);
    di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di != NULL ? di->port : s->cfg.port;
    s->started = 1;
    sb_info(log_name(s),
            "HTTP on %s:%d (headers <= %zu B, bodies <= %zu B, idle %u s, "
            "<= %u connections)",
            s->cfg.host, s->port, s->cfg.max_header, s->cfg.max_body,
            s->cfg.idle_timeout_s, conn_cap(s));
    return rpc_status_set(st, RPC_OK, "%s", "");
}

int http_server_port(const http_server *s)
{
    return s != NULL && s->started ? s->port : 0;
}

/* Every deferred request not answered yet gets 503 and is resumed. */
static void answer_deferred(http_server *s)
{
    for (;;) {
        http_req *r;

        pthread_mutex_lock(&s->mu);
        r = s->deferred;
        if (r != NULL)
            r->refs++; /* keep it while answering outside the lock */
        pthread_mutex_unlock(&s->mu);
        if (r == NULL)
            return;
        static const char msg[] =
            "{\"ok\":false,\"error\":\"Server is shutting down\"}";
        http_reply_ex(r, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", msg,
                      sizeof msg - 1, NULL, HTTP_NO_STORE, 0);
        http_req_unref(r);
    }
}

void http_server_stop(http_server *s)
{
    if (s == NULL || s->d == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->mu);
    MHD_quiesce_daemon(s->d); /* no new connections */
    answer_deferred(s);
    http_streams_stop(s);
    /* Let the answers and stream ends just given reach their peers
     * (bounded: a request still being read may never finish). */
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&s->mu);
        int live = s->live;
        pthread_mutex_unlock(&s->mu);
        if (live == 0)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    s->d = NULL;
    sb_info(log_name(s), "HTTP on %s:%d stopped", s->cfg.host, s->port);
}

void http_server_free(http_server *s)
{
    if (s == NULL)
        return;
    http_server_stop(s);
    for (size_t i = 0; i < s->nroutes; i++) {
        free(s->routes[i].method);
        free(s->routes[i].path);
        if (s->routes[i].stat != NULL)
            free(s->routes[i].stat->gz);
        free(s->routes[i].stat);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- accessors ------------------------------------------------------ */

const char *http_req_method(const http_req *r)
{
    return r->method;
}

const char *http_req_path(const http_req *r)
{
    return r->path;
}

const char *http_req_header(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_req_cookie(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const char *http_req_query(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_body(const http_req *r, size_t *len)
{
    *len = r->len;
    return r->body != NULL ? r->body : "";
}

const char *http_req_peer(const http_req *r)
{
    return r->peer;
}

/* "gzip" listed in Accept-Encoding and not with q=0. */
int http_req_accepts_gzip(const http_req *r)
{
    const char *ae = http_req_header(r, "Accept-Encoding");

    for (const char *p = ae; p != NULL && *p != '\0';) {
        size_t n;
        p += strspn(p, " ,\t");
        n = strcspn(p, ",");
        if (n >= 4 && strncasecmp(p, "gzip", 4) == 0 &&
            (n == 4 || p[4] == ';' || p[4] == ' ')) {
            const char *q = memchr(p, '=', n);
            return q == NULL || strtod(q + 1, NULL) > 0;
        }
        p += n;
    }
    return 0;
}
