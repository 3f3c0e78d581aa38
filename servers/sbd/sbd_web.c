/* sbd_web.c: the web role in sbd. `sbd web --login URL` runs it alone;
 * `sbd all` starts it beside the other roles (http://HOST:8080/ with the
 * default ports, P+7 with --base-port P, --web-port N to move it, 0 for
 * none) as a client of its own login port, and prints its URL. Its flags
 * (--web-port, --login) are rows of sbd_flags.c; sbd_main.c fills their
 * defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "sb_log.h"
#include "sbd.h"

/* Each page holds a connection open for its messages: raise the
 * descriptor limit to what the system allows (the soft limit is often
 * 1024). */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            sb_warn("web", "cannot raise the descriptor limit");
    }
}

static int start(const sbd_opts *o, const char *login, int port, web_role **out)
{
    web_config c = {.host = o->host, .port = port, .login_url = login};
    rpc_status st;
    const char *shown;

    raise_nofile();
    if (web_start(&c, out, &st) != RPC_OK)
        return -1;
    /* A wildcard address is reached on loopback from this host. */
    shown = strcmp(o->host, "0.0.0.0") == 0 ? "127.0.0.1" : o->host;
    printf("Web client: http://%s:%d/\n", shown, web_port(*out));
    fflush(stdout);
    return 0;
}

int sbd_web_start_all(const sbd_opts *o, web_role **out)
{
    char login[256];
    int port = o->web.port;

    *out = NULL;
    if (port == 0) {
        sb_info("web", "web client off (--web-port 0)");
        return 0;
    }
    snprintf(login, sizeof login, "tcp://%s:%d",
             strcmp(o->host, "0.0.0.0") == 0 ? "127.0.0.1" : o->host,
             o->base_port);
    /* like the status page, a web port that cannot be had is a warning:
     * the chat service itself is up */
    if (start(o, login, port, out) != 0)
        sb_warn("sbd", "running without the web client (see above)");
    return 0;
}

int sbd_run_web(const sbd_opts *o)
{
    web_role *w = NULL;

    if (start(o, o->web.login, o->web.port, &w) != 0)
        return -1;
    sbd_wait_signal();
    web_stop(w);
    sb_info("sbd", "stopped");
    return 0;
}
