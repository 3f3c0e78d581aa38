/* wc.h: a web-client session for tests and `sb-bench web`: what the page
 * does, over hc's raw sockets: a cookie and CSRF token from /api/session,
 * JSON POSTs with them, register-and-login. One connection per call (keep
 * the tests honest about what a fresh request gets). */
#ifndef SB_WC_H
#define SB_WC_H

#include <jansson.h>

#include "hc.h"

typedef struct wc {
    int port;
    char cookie[128]; /* "sb_sid=..." */
    char csrf[64];
    char user[80];
} wc;

/** GET /api/session: a fresh browser session. 0 or -1. */
int wc_open(wc *c, int port);
/** POSTs @body (JSON text) to @path with the session's cookie and token
 * (extra header lines may be added); returns the parsed reply (NULL when
 * it is not JSON) and the HTTP status in *status. A reply's "csrf" and a
 * Set-Cookie replace the session's. */
json_t *wc_post(wc *c, const char *path, const char *body, const char *extra,
                int *status);
/** A command: {"cmd":cmd,"args":[args...]}; returns the reply's lines
 * joined by newlines (malloc'ed; "" when none), or NULL on a transport
 * failure. */
char *wc_cmd(wc *c, const char *cmd, int nargs, const char *const *args);
/** Registers (profile: name/Test/30/x) and logs in; 0 or -1. */
int wc_join(wc *c, int port, const char *name, const char *password);
/** The lines of a reply joined by newlines (malloc'ed). */
char *wc_lines(json_t *j);

#endif
