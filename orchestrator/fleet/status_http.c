/* status_http.c: serves status_render_* over nng's HTTP server. Each
 * request takes one fleet snapshot (a short copy under the fleet's lock),
 * renders it and answers; nothing here blocks on the network or the
 * driver, so nng's callback threads are never held long. */
#include "status.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "sb_log.h"

struct status_server {
    status_options o;
    nng_http_server *srv;
    nng_url *url;
};

enum { PAGE_HTML, PAGE_JSON, PAGE_METRICS, PAGE_HEALTH };

typedef struct page {
    status_server *s;
    int kind;
} page;

static int render(status_server *s, int kind, status_buf *b, const char **type)
{
    fleet_snapshot snap;
    int rc;

    if (kind == PAGE_HEALTH) {
        *type = "text/plain; charset=utf-8";
        return status_buf_printf(b, "ok\n");
    }
    if (fleet_snapshot_take(s->o.fleet, &snap) != RPC_OK)
        return -1;
    switch (kind) {
    case PAGE_HTML:
        *type = "text/html; charset=utf-8";
        rc = status_render_html(&snap, b);
        break;
    case PAGE_JSON:
        *type = "application/json";
        rc = status_render_json(&snap, b);
        break;
    default:
        *type = "text/plain; version=0.0.4; charset=utf-8";
        rc = status_render_metrics(&snap, b);
        if (rc == 0 && s->o.extra_metrics != NULL) {
            s->o.extra_metrics(s->o.extra_arg, b);
            rc = b->oom ? -1 : 0;
        }
        break;
    }
    fleet_snapshot_free(&snap);
    return rc;
}

static void serve(nng_aio *aio)
{
    nng_http_handler *h = nng_aio_get_input(aio, 1);
    page *pg = nng_http_handler_get_data(h);
    status_buf b = {0};
    nng_http_res *res = NULL;
    const char *type = "text/plain";
    int rv;

    if ((rv = nng_http_res_alloc(&res)) != 0)
        goto fail;
    if (render(pg->s, pg->kind, &b, &type) != 0) {
        nng_http_res_set_status(res, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR);
        status_buf_free(&b);
        status_buf_printf(&b, "out of memory\n");
        type = "text/plain";
    }
    if ((rv = nng_http_res_set_header(res, "Content-Type", type)) != 0 ||
        (rv = nng_http_res_set_header(res, "Cache-Control", "no-store")) != 0 ||
        (rv = nng_http_res_copy_data(res, b.p != NULL ? b.p : "", b.len)) != 0)
        goto fail;
    status_buf_free(&b);
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
    return;
fail:
    status_buf_free(&b);
    if (res != NULL)
        nng_http_res_free(res);
    nng_aio_finish(aio, rv);
}

static int add_page(status_server *s, const char *path, int kind)
{
    nng_http_handler *h;
    page *pg = malloc(sizeof(*pg));
    int rv;

    if (pg == NULL)
        return NNG_ENOMEM;
    pg->s = s;
    pg->kind = kind;
    if ((rv = nng_http_handler_alloc(&h, path, serve)) != 0) {
        free(pg);
        return rv;
    }
    if ((rv = nng_http_handler_set_method(h, "GET")) != 0 ||
        (rv = nng_http_handler_set_data(h, pg, free)) != 0) {
        free(pg);
        nng_http_handler_free(h);
        return rv;
    }
    if ((rv = nng_http_server_add_handler(s->srv, h)) != 0)
        nng_http_handler_free(h); /* frees pg through the dtor */
    return rv;
}

int status_server_start(const status_options *o, status_server **out,
                        rpc_status *st)
{
    const char *url = o->url != NULL ? o->url : "http://0.0.0.0:8080";
    status_server *s;
    int rv;

    if (o->fleet == NULL)
        return fleet_status(st, RPC_INVALID_ARGUMENT, "status: no fleet");
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return fleet_status(st, RPC_INTERNAL, "status: out of memory");
    s->o = *o;
    if ((rv = nng_url_parse(&s->url, url)) != 0) {
        free(s);
        return fleet_status(st, RPC_INVALID_ARGUMENT, "status: bad URL %s: %s",
                            url, nng_strerror(rv));
    }
    if ((rv = nng_http_server_hold(&s->srv, s->url)) != 0 ||
        (rv = add_page(s, "/", PAGE_HTML)) != 0 ||
        (rv = add_page(s, "/api/fleet", PAGE_JSON)) != 0 ||
        (rv = add_page(s, "/metrics", PAGE_METRICS)) != 0 ||
        (rv = add_page(s, "/healthz", PAGE_HEALTH)) != 0 ||
        (rv = nng_http_server_start(s->srv)) != 0) {
        fleet_status(st, RPC_UNAVAILABLE, "status: cannot serve %s: %s", url,
                     nng_strerror(rv));
        if (s->srv != NULL)
            nng_http_server_release(s->srv);
        nng_url_free(s->url);
        free(s);
        return RPC_UNAVAILABLE;
    }
    sb_info("status", "status page on %s (port %d)", url,
            status_server_port(s));
    *out = s;
    return RPC_OK;
}

int status_server_port(status_server *s)
{
    nng_sockaddr sa;

    if (nng_http_server_get_addr(s->srv, &sa) != 0)
        return -1;
    if (sa.s_family == NNG_AF_INET)
        return ntohs(sa.s_in.sa_port);
    if (sa.s_family == NNG_AF_INET6)
        return ntohs(sa.s_in6.sa_port);
    return -1;
}

void status_server_stop(status_server *s)
{
    if (s == NULL)
        return;
    nng_http_server_stop(s->srv);
    nng_http_server_release(s->srv);
    nng_url_free(s->url);
    free(s);
}
