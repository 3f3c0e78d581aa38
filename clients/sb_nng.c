/* sb_nng.c: libsb's real transport, the RPC runtime over nng (rpc.h).
 * The runtime already retries UNAVAILABLE with the same request id and
 * follows REDIRECTs; this file maps sb_transport onto rpc_client, and a
 * call that reached nobody gets sb_reach.c's plain words for why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb.h"
#include "sb_internal.h"

typedef struct nng_transport {
    rpc_client *c;
    char url[256]; /* the login endpoint */
} nng_transport;

static int nng_call(void *arg, const char *endpoint, const char *method,
                    const char *token, const uint8_t *request_id,
                    const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *reply_desc,
                    ProtobufCMessage **reply, rpc_status *st)
{
    nng_transport *t = arg;
    rpc_opts opts;
    int rc;

    memset(&opts, 0, sizeof(opts));
    opts.token = token;
    opts.endpoint = endpoint;
    opts.request_id = request_id;
    rc = rpc_client_call(t->c, method, req, reply_desc, reply, &opts, st);
    if (rc != RPC_OK)
        sb_explain_unreachable(endpoint != NULL ? endpoint : t->url, st);
    return rc;
}

static void nng_close(void *arg)
{
    nng_transport *t = arg;

    rpc_client_close(t->c);
    free(t);
}

/* A host is a name or an address: no scheme, no spaces, no port. */
static int host_ok(const char *host)
{
    size_t n = host != NULL ? strlen(host) : 0;

    if (n == 0 || n > 200)
        return 0;
    return strpbrk(host, " \t\r\n/:,") == NULL;
}

int sb_open(sb_session **out, const char *host, int port, rpc_status *st)
{
    sb_transport t;
    nng_transport *nt;
    int rv;

    *out = NULL;
    if (!host_ok(host))
        return sb_status(st, RPC_INVALID_ARGUMENT, "bad host '%s'",
                         host != NULL ? host : "");
    if (port < 1 || port > 65535)
        return sb_status(st, RPC_INVALID_ARGUMENT, "bad port %d", port);
    if ((nt = calloc(1, sizeof(*nt))) == NULL)
        return sb_status(st, RPC_INTERNAL, "out of memory");
    snprintf(nt->url, sizeof(nt->url), "tcp://%s:%d", host, port);
    if ((rv = rpc_client_open(&nt->c, nt->url, NULL)) != 0) {
        sb_status(st, RPC_INTERNAL, "cannot open a client for %s (%d)", nt->url,
                  rv);
        free(nt);
        return RPC_INTERNAL;
    }
    t.call = nng_call;
    t.close = nng_close;
    t.arg = nt;
    if ((rv = sb_open_with(out, &t, st)) != RPC_OK)
        nng_close(nt);
    return rv;
}
