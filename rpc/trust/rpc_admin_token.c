/* rpc_admin_token.c: the operator's credential (PROTOCOL.md "Operator
 * commands"). A daemon makes DIR/admin.token (32 random bytes in hex,
 * 0600) the first time it starts on a data directory and reads the same
 * one back at every later start, so `sb admin --token-file` keeps working
 * across restarts; the operator presents it in a call's token field and
 * the service compares in constant time. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "rpc_trust.h"

#define TOKEN_FILE "admin.token"

/* "F does not hold an admin token (64 hex digits)" into why[n]; -1. */
static int not_a_token(const char *where, const char *fix, char *why, size_t n)
{
    if (why != NULL)
        snprintf(why, n, "%s does not hold an admin token (%d hex digits)%s",
                 where, RPC_ADMIN_TOKEN_LEN, fix);
    return -1;
}

static int token_ok(const char *t, size_t n)
{
    if (n != RPC_ADMIN_TOKEN_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
            return 0;
    return 1;
}

/* Reads a token file, which must hold one token and be ours alone. */
static int read_token(const char *path, char token[RPC_ADMIN_TOKEN_LEN + 1],
                      char *why, size_t n)
{
    char buf[256];
    size_t len;
    if (rpc_secret_read(path, buf, sizeof buf, &len, why, n) != 0)
        return -1;
    if (!token_ok(buf, len)) {
        sodium_memzero(buf, sizeof buf);
        return not_a_token(path, "; remove it and restart to make a new one",
                           why, n);
    }
    memcpy(token, buf, RPC_ADMIN_TOKEN_LEN + 1);
    sodium_memzero(buf, sizeof buf);
    return 0;
}

int rpc_admin_token_init(const char *dir, char token[RPC_ADMIN_TOKEN_LEN + 1],
                         char *path, size_t pn, char *why, size_t n)
{
    unsigned char raw[RPC_ADMIN_TOKEN_LEN / 2];
    char line[RPC_ADMIN_TOKEN_LEN + 2];
    int rv;
    if (snprintf(path, pn, "%s/%s", dir, TOKEN_FILE) >= (int)pn) {
        if (why != NULL)
            snprintf(why, n, "%.200s: the path is too long", dir);
        return -1;
    }
    if (access(path, F_OK) == 0 || errno != ENOENT)
        return read_token(path, token, why, n);
    if ((rv = rpc_mkdirs(dir)) != 0) {
        if (why != NULL)
            snprintf(why, n, "cannot create %s: %s", dir, strerror(rv));
        return -1;
    }
    rpc_random_bytes(raw, sizeof raw);
    sodium_bin2hex(line, sizeof line, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    line[RPC_ADMIN_TOKEN_LEN] = '\n';
    rv = rpc_secret_write(path, line, sizeof line - 1, why, n);
    sodium_memzero(line, sizeof line);
    if (rv != 0) /* another process made it first: use theirs */
        return access(path, F_OK) == 0 ? read_token(path, token, why, n) : -1;
    return read_token(path, token, why, n) == 0 ? 1 : -1;
}

int rpc_admin_token_presented(const char *file,
                              char token[RPC_ADMIN_TOKEN_LEN + 1], char *why,
                              size_t n)
{
    const char *env = getenv(RPC_ADMIN_TOKEN_ENV);
    if (file != NULL)
        return read_token(file, token, why, n);
    if (env == NULL || env[0] == '\0') {
        if (why != NULL)
            snprintf(why, n,
                     "no admin token: give --token-file F (sbd writes one "
                     "into its data directory: DIR/%s) or set %s",
                     TOKEN_FILE, RPC_ADMIN_TOKEN_ENV);
        return -1;
    }
    if (!token_ok(env, strlen(env)))
        return not_a_token(RPC_ADMIN_TOKEN_ENV, "", why, n);
    memcpy(token, env, RPC_ADMIN_TOKEN_LEN + 1);
    return 0;
}

int rpc_admin_token_check(const char *expected, const char *presented)
{
    if (expected == NULL || presented == NULL ||
        strlen(expected) != RPC_ADMIN_TOKEN_LEN)
        return 0;
    /* the presented length is the caller's own business; the expected
     * token's bytes are looked at the same whatever it holds */
    return rpc_trust_equal(expected, RPC_ADMIN_TOKEN_LEN, presented,
                           strnlen(presented, RPC_ADMIN_TOKEN_LEN + 1));
}
