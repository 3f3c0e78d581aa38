/* sb_nng.c: libsb's real transport, the RPC runtime over nng (rpc.h).
 * The runtime already retries UNAVAILABLE with the same request id and
 * follows REDIRECTs; this file only maps sb_transport onto rpc_client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb.h"
#include "sb_internal.h"

static int nng_call(void *arg, const char *endpoint, const char *method,
                    const char *token, const uint8_t *request_id,
                    const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *reply_desc,
                    ProtobufCMessage **reply, rpc_status *st)
{
    rpc_opts opts;

    memset(&opts, 0, sizeof(opts));
    opts.token = token;
    opts.endpoint = endpoint;
    opts.request_id = request_id;
    return rpc_client_call(arg, method, req, reply_desc, reply, &opts, st);
}

static void nng_close(void *arg)
{
    rpc_client_close(arg);
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
    rpc_client *c = NULL;
    char url[256];
    int rv;

    *out = NULL;
    if (!host_ok(host))
        return sb_status(st, RPC_INVALID_ARGUMENT, "bad host '%s'",
                         host != NULL ? host : "");
    if (port < 1 || port > 65535)
        return sb_status(st, RPC_INVALID_ARGUMENT, "bad port %d", port);
    snprintf(url, sizeof(url), "tcp://%s:%d", host, port);
    if ((rv = rpc_client_open(&c, url, NULL)) != 0)
        return sb_status(st, RPC_INTERNAL, "cannot open a client for %s (%d)",
                         url, rv);
    t.call = nng_call;
    t.close = nng_close;
    t.arg = c;
    if ((rv = sb_open_with(out, &t, st)) != RPC_OK)
        rpc_client_close(c);
    return rv;
}
