/* http_reply.c: answers. Every reply carries the same security headers
 * (CSP, nosniff, no framing, no referrer, same-origin isolation); bodies
 * over a kilobyte are gzipped when the client takes it and it pays; an
 * answer is given once, from the handler or later from any thread (a
 * deferred request is suspended in libmicrohttpd until then). */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "http_internal.h"
#include "sb_log.h"

#define GZIP_MIN 1024 /* smaller bodies fit in a packet or two anyway */

void http_add_common_headers(const http_server *s, struct MHD_Response *resp,
                             unsigned flags)
{
    static const http_hdr fixed[] = {
        {"X-Content-Type-Options", "nosniff"},
        {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "no-referrer"},
        {"Cross-Origin-Opener-Policy", "same-origin"},
        {"Cross-Origin-Resource-Policy", "same-origin"},
        {"Permissions-Policy", "camera=(), microphone=(), geolocation=()"},
        {NULL, NULL}};

    MHD_add_response_header(resp, "Content-Security-Policy", s->cfg.csp);
    for (const http_hdr *h = fixed; h->name != NULL; h++)
        MHD_add_response_header(resp, h->name, h->value);
    if (flags & HTTP_NO_STORE)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
}

int http_answer(http_req *r, unsigned status, struct MHD_Response *resp,
                int become_stream, int owner)
{
    http_server *s = r->srv;
    int deferred, drop;

    pthread_mutex_lock(&s->mu);
    /* The deferrer's reference keeps r alive until its own answer, even
     * when the server's stop answered first. */
    drop = owner && r->deferral_ref;
    if (drop)
        r->deferral_ref = 0;
    if (r->state == HR_ANSWERED || r->state == HR_STREAM) {
        pthread_mutex_unlock(&s->mu);
        if (drop)
            http_req_unref(r);
        return 0;
    }
    deferred = r->state == HR_DEFERRED;
    if (deferred) {
        if (r->dprev != NULL)
            r->dprev->dnext = r->dnext;
        else
            s->deferred = r->dnext;
        if (r->dnext != NULL)
            r->dnext->dprev = r->dprev;
    }
    r->state = become_stream ? HR_STREAM : HR_ANSWERED;
    pthread_mutex_unlock(&s->mu);
    /* Nobody else touches the connection now: it is ours until resumed
     * (deferred), or we are on the polling thread inside its handler. */
    if (MHD_queue_response(r->conn, status, resp) != MHD_YES)
        sb_warn(s->cfg.log_name ? s->cfg.log_name : "http",
                "%s %s: could not queue the %u reply", r->method, r->path,
                status);
    if (deferred)
        MHD_resume_connection(r->conn);
    if (drop)
        http_req_unref(r);
    return 1;
}

int http_gzip(const void *in, size_t n, void **out, size_t *outlen)
{
    z_stream z;
    uLong cap = compressBound((uLong)n) + 32;
    unsigned char *buf = malloc(cap);
    int rc;

    *out = NULL;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip header and trailer, not zlib's */
    if (buf == NULL || deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
                                    Z_DEFAULT_STRATEGY) != Z_OK) {
        free(buf);
        return -1;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    rc = deflate(&z, Z_FINISH);
    *outlen = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

static struct MHD_Response *make_resp(http_req *r, const void *body, size_t len,
                                      unsigned flags, int *gz)
{
    void *z = NULL;
    size_t zlen = 0;
    struct MHD_Response *resp;

    *gz = 0;
    if ((flags & HTTP_GZIP) && len >= GZIP_MIN && http_req_accepts_gzip(r) &&
        http_gzip(body, len, &z, &zlen) == 0 && zlen + 64 < len)
        *gz = 1;
    resp = *gz ? MHD_create_response_from_buffer(zlen, z, MHD_RESPMEM_MUST_FREE)
               : MHD_create_response_from_buffer(len, (void *)body,
                                                 MHD_RESPMEM_MUST_COPY);
    if (!*gz || resp == NULL)
        free(z);
    return resp;
}

void http_reply_ex(http_req *r, int status, const char *ctype, const void *body,
                   size_t len, const http_hdr *extra, unsigned flags, int owner)
{
    int gz;
    struct MHD_Response *resp = make_resp(r, body, len, flags, &gz);

    if (resp == NULL) {
        sb_error("http", "out of memory answering %s", r->path);
        resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        if (resp == NULL)
            return; /* closed when the request ends */
    }
    MHD_add_response_header(resp, "Content-Type",
                            ctype ? ctype : "text/plain; charset=utf-8");
    if (flags & HTTP_GZIP)
        MHD_add_response_header(resp, "Vary", "Accept-Encoding");
    if (gz)
        MHD_add_response_header(resp, "Content-Encoding", "gzip");
    http_add_common_headers(r->srv, resp, flags);
    for (const http_hdr *h = extra; h != NULL && h->name != NULL; h++)
        MHD_add_response_header(resp, h->name, h->value);
    http_answer(r, (unsigned)status, resp, 0, owner);
    MHD_destroy_response(resp);
}

void http_reply(http_req *r, int status, const char *ctype, const void *body,
                size_t len, const http_hdr *extra, unsigned flags)
{
    http_reply_ex(r, status, ctype, body, len, extra, flags, 1);
}

void http_reply_json(http_req *r, int status, json_t *j, const http_hdr *extra)
{
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    if (text == NULL) {
        static const char oops[] =
            "{\"ok\":false,\"error\":\"Internal error\"}";
        http_reply(r, 500, "application/json", oops, sizeof oops - 1, NULL,
                   HTTP_NO_STORE);
        return;
    }
    http_reply(r, status, "application/json", text, strlen(text), extra,
               HTTP_GZIP | HTTP_NO_STORE);
    free(text);
}

void http_reply_error(http_req *r, int status, const char *msg)
{
    http_reply_json(r, status, json_pack("{sbss}", "ok", 0, "error", msg),
                    NULL);
}

void http_defer(http_req *r)
{
    http_server *s = r->srv;

    pthread_mutex_lock(&s->mu);
    if (r->state != HR_HANDLING) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    r->refs++; /* the deferrer's, dropped by its answer */
    r->deferral_ref = 1;
    r->state = HR_DEFERRED;
    r->dprev = NULL;
    r->dnext = s->deferred;
    if (s->deferred != NULL)
        s->deferred->dprev = r;
    s->deferred = r;
    /* Suspended before anyone can answer: the answer may come from
     * another thread before the handler has even returned. */
    MHD_suspend_connection(r->conn);
    pthread_mutex_unlock(&s->mu);
}

/* The If-None-Match header names this ETag (or is "*"). */
static int etag_matches(const char *inm, const char *etag)
{
    size_t n = strlen(etag);

    if (inm == NULL)
        return 0;
    if (strcmp(inm, "*") == 0)
        return 1;
    for (const char *p = strstr(inm, etag); p != NULL; p = strstr(p + 1, etag))
        if (p[n] == '\0' || p[n] == ',' || p[n] == ' ')
            return 1;
    return 0;
}

void http_serve_static(http_req *r, const http_static *st)
{
    int gz = st->gz != NULL && http_req_accepts_gzip(r);
    int notmod = etag_matches(http_req_header(r, "If-None-Match"), st->etag);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(notmod ? 0
                                        : gz   ? st->gzlen
                                               : st->len,
                                        notmod ? ""
                                        : gz   ? st->gz
                                               : (void *)st->data,
                                        MHD_RESPMEM_PERSISTENT);

    if (resp == NULL)
        return;
    MHD_add_response_header(resp, "Content-Type", st->ctype);
    MHD_add_response_header(resp, "ETag", st->etag);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "Vary", "Accept-Encoding");
    if (gz && !notmod)
        MHD_add_response_header(resp, "Content-Encoding", "gzip");
    http_add_common_headers(r->srv, resp, 0);
    http_answer(r, notmod ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp, 0, 1);
    MHD_destroy_response(resp);
}
