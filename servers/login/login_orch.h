/* login_orch.h: the login role's client of the orchestrator (proto/
 * fleet.proto): Assign on login (sticky; waits while a server launches,
 * bounded) and Release on logout and delete. One RPC client, shared by
 * every login worker. */
#ifndef LOGIN_ORCH_H
#define LOGIN_ORCH_H

#include "rpc.h"

#define LOGIN_ORCH_ID_MAX 64
#define LOGIN_ORCH_EP_MAX 256

typedef struct login_orch login_orch;

/** Opens the client (lazy connect, reconnects on its own).
 * @param url the orchestrator, e.g. "tcp://127.0.0.1:8890".
 * @param wait_ms the bound on a launch wait per Assign; 0 = 15000.
 * @return 0 and *out; ENOMEM; or nng's error for a bad URL. */
int login_orch_open(const char *url, unsigned wait_ms, login_orch **out);

/** Assigns user to an app server: its id and client endpoint.
 * @return RPC_OK; or the orchestrator's code with st->message: UNAVAILABLE
 *         (no server came up in time, the fleet is at its maximum, or the
 *         orchestrator is unreachable), INVALID_ARGUMENT (bad name). */
int login_orch_assign(login_orch *o, const char *user,
                      char id[LOGIN_ORCH_ID_MAX], char ep[LOGIN_ORCH_EP_MAX],
                      rpc_status *st);

/** Releases user's assignment (logout, delete). Failures are logged and
 * returned; the session has ended either way.
 * @return RPC_OK or the orchestrator's code. */
int login_orch_release(login_orch *o, const char *user, rpc_status *st);

/** Closes the client. NULL is ignored. */
void login_orch_close(login_orch *o);

#endif
