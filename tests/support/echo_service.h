/* echo_service.h: the sb.echo.Echo test service, shared by the RPC tests
 * and sb-bench rpc: Echo returns its input, Add bumps a counter once per
 * request id (to prove retried mutations apply once), Sleep waits and
 * reports the caller's time left (deadlines and graceful stop). */
#ifndef SB_ECHO_SERVICE_H
#define SB_ECHO_SERVICE_H

#include "echo.sb.h"

typedef struct echo_service echo_service;

/** Registers the service on srv. Returns 0 or an error code. */
int echo_service_register(rpc_server *srv, echo_service **out);
/** How many times Add really changed the counter. */
int64_t echo_service_adds_applied(echo_service *e);
void echo_service_free(echo_service *e);

#endif
