/* rpc_raw.h: one request/reply on a plain nng req0 socket, for tests that
 * send frames the runtime's client would never build (junk, truncated or
 * oversized envelopes) and read the server's Reply as it came. */
#ifndef SB_RPC_RAW_H
#define SB_RPC_RAW_H

#include <stddef.h>

#include <nng/nng.h>

#include "rpc.pb-c.h"

/** Sends buf[0..len) as one message on s and waits for the answer (the
 * socket's own timeouts bound both).
 * @return the unpacked Reply (free with sb__rpc__reply__free_unpacked),
 *   or NULL when sending or receiving failed or the answer is not a
 *   Reply. */
Sb__Rpc__Reply *rpc_raw_call(nng_socket s, const void *buf, size_t len);

#endif
