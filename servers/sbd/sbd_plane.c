/* sbd_plane.c: what every internal role checks before it listens
 * (docs/trust.md): an internal endpoint is never reachable from other
 * hosts without mutual TLS. rpc_plane_check says whether a URL passes;
 * this says so to the operator, with how to fix it, and reads a role's
 * listener certificates from --tls-dir. */
#include <stdio.h>
#include <string.h>

#include "rpc_trust.h"
#include "sb_log.h"
#include "sbd.h"

int sbd_listen_tls(const sbd_opts *o, const char *role, const char *url,
                   rpc_tls *tls, rpc_tls_files *files)
{
    char why[1024];

    memset(tls, 0, sizeof *tls);
    if (o->tls_dir != NULL && strncmp(url, "tls+", 4) == 0 &&
        rpc_trust_tls(o->tls_dir, role, RPC_ROLE_NONE, tls, files, why,
                      sizeof why) != 0) {
        sb_error(role, "--tls-dir %s: %s", o->tls_dir, why);
        return -1;
    }
    if (rpc_plane_check(url, tls, 1, why, sizeof why) == 0)
        return 0;
    sb_error(role,
             "refusing to listen on %s: %s. The %s role is internal: when "
             "every role runs on this host, listen on loopback or ipc:// "
             "(e.g. tcp://127.0.0.1:PORT); across hosts, make the "
             "deployment's certificates once (sbd certs DIR), copy them to "
             "each host, and listen on tls+tcp://HOST:PORT with --tls-dir DIR",
             url, why, role);
    return -1;
}
