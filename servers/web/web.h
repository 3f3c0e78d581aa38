/* web.h: the `web` role. It serves the web client (HTML, CSS and
 * JavaScript compiled into the binary) and a JSON API over the HTTP
 * module, and speaks to the system as a libsb client of the login server
 * (so redirects, app-server deaths and session moves stay below it).
 * Messages reach the page as server-sent events and are acknowledged to
 * the app server only when the page says it has shown them. */
#ifndef SB_WEB_H
#define SB_WEB_H

#include "rpc.h"

typedef struct web_role web_role;

/** Settings; a zeroed field takes the default shown. */
typedef struct web_config {
    const char *host;        /**< IPv4 listen address; "0.0.0.0" */
    int port;                /**< TCP port; 0 = a free one (see web_port) */
    const char *login_url;   /**< the login server, e.g. tcp://127.0.0.1:8888
                                  (required) */
    int workers;             /**< threads for blocking calls; 16 */
    unsigned max_sessions;   /**< browser sessions kept; 20000 */
    unsigned idle_timeout_s; /**< HTTP idle timeout; 15 */
} web_config;

/** Starts the role: HTTP listener, worker threads, sweeper.
 * @param out receives the role; stop it with web_stop().
 * @return RPC_OK; RPC_INVALID_ARGUMENT (no login URL, bad host);
 *         RPC_UNAVAILABLE (the port cannot be bound); RPC_INTERNAL. The
 *         reason is in @st and logged. */
int web_start(const web_config *cfg, web_role **out, rpc_status *st);

/** The HTTP port served (after start). */
int web_port(const web_role *w);

/** Stops serving (pages see their streams end), waits for calls in
 * progress, and frees. Users stay logged in. NULL ignored. */
void web_stop(web_role *w);

#endif
