/* bus_role.h: the bus role: nng pub/sub forwarder between servers
 * (rpc_bus_forwarder). Publishers dial the in side, subscribers the out
 * side; used by sbd's `bus` and `all` roles. */
#ifndef BUS_ROLE_H
#define BUS_ROLE_H

#include "rpc_bus.h"

/** Opens the forwarder on tcp://@host:@in_port (publishers) and
 * tcp://@host:@out_port (subscribers) and logs where. Writes the two URLs
 * into @in_url/@out_url (@n bytes each) for the other roles to dial.
 * Returns 0 and sets *@out, or an nng error code (logged). */
int bus_role_open(const char *host, int in_port, int out_port, char *in_url,
                  char *out_url, size_t n, rpc_bus_forwarder **out);

#endif
