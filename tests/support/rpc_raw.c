/* rpc_raw.c: a raw req0 exchange for the RPC tests (see rpc_raw.h). */
#include <string.h>

#include "rpc_raw.h"

Sb__Rpc__Reply *rpc_raw_call(nng_socket s, const void *buf, size_t len)
{
    nng_msg *m;
    if (nng_msg_alloc(&m, len) != 0)
        return NULL;
    memcpy(nng_msg_body(m), buf, len);
    if (nng_sendmsg(s, m, 0) != 0) {
        nng_msg_free(m);
        return NULL;
    }
    if (nng_recvmsg(s, &m, 0) != 0)
        return NULL;
    Sb__Rpc__Reply *r =
        sb__rpc__reply__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
    nng_msg_free(m);
    return r;
}
