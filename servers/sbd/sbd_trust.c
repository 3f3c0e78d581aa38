/* sbd_trust.c: what the roles do about trust at start (docs/trust.md).
 * An internal role checks where it listens: never where other hosts reach
 * it without mutual TLS (rpc_plane_check says whether a URL passes; this
 * tells the operator how to fix it) and reads its certificates from
 * --tls-dir. A role that takes operator calls makes or reads the admin
 * token of its data directory and says where it is. */
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

int sbd_admin_token(const sbd_opts *o, const char *role,
                    char token[RPC_ADMIN_TOKEN_LEN + 1])
{
    char path[4096], why[1024];
    int made = rpc_admin_token_init(o->data_dir, token, path, sizeof path, why,
                                    sizeof why);

    if (made < 0) {
        sb_error(role, "admin token: %s", why);
        return -1;
    }
    sb_info(role, "admin token %s %s (sb admin --token-file %s)",
            made ? "made in" : "in", path, path);
    return 0;
}
