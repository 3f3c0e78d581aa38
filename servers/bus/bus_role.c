/* bus_role.c: see bus_role.h. */
#include <stdio.h>

#include "bus_role.h"
#include "rpc.h"
#include "sb_log.h"

int bus_role_open(const char *host, int in_port, int out_port, char *in_url,
                  char *out_url, size_t n, rpc_bus_forwarder **out)
{
    int rv;

    snprintf(in_url, n, "tcp://%s:%d", host, in_port);
    snprintf(out_url, n, "tcp://%s:%d", host, out_port);
    rv = rpc_bus_forwarder_open(out, in_url, out_url);
    if (rv != 0) {
        sb_error("bus", "cannot open the forwarder on %s / %s: %s", in_url,
                 out_url, rpc_code_name(rv));
        return rv;
    }
    /* rpc_bus_forwarder_open logs where it forwards */
    return 0;
}
