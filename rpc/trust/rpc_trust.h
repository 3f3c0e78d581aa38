/* rpc_trust.h: the deployment's secrets (docs/trust.md), on top of the
 * runtime's rpc_peer.h: role keys and the credentials derived from them,
 * the verifier that checks those credentials for a server, the operator's
 * admin token, the certificate files of a --tls-dir, and files that hold
 * secrets (0600, ours, refused otherwise).
 *
 * A credential is "sb1:ROLE:ID:MAC", MAC = HMAC-SHA256(K_ROLE, "sb1:ROLE:ID")
 * in hex: whoever holds K_ROLE (the store and the orchestrator, which
 * check callers; the orchestrator also derives one per app server it
 * launches) can make and check it; whoever holds only the credential (an
 * app server, a login process) can present it and nothing more, and an
 * app server's credential names its id, so it cannot speak for another.
 * Every comparison of secret bytes takes the same time whatever they
 * hold (rpc_trust_equal).
 *
 * Thread safety: a keyring is read-only once made; any number of threads
 * may use it. Errors: functions that can fail return 0 or -1 and, when why
 * is not NULL, put one sentence for an operator in why[n]. */
#ifndef SB_RPC_TRUST_H
#define SB_RPC_TRUST_H

#include <stddef.h>

#include "rpc_peer.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of a role key. */
#define RPC_KEY_LEN 32
/** Longest credential, with its NUL ("sb1:" role ":" id ":" 64 hex). */
#define RPC_CREDENTIAL_MAX 160
/** Characters of an admin token (hex of 32 random bytes), without NUL. */
#define RPC_ADMIN_TOKEN_LEN 64
/** The environment variable a role's credential may come in (the local
 * driver sets it for the app servers it starts; never on a command line,
 * which every local user can read in /proc). */
#define RPC_CREDENTIAL_ENV "SB_CREDENTIAL"
/** The environment variable `sb admin` reads the admin token from. */
#define RPC_ADMIN_TOKEN_ENV "SB_ADMIN_TOKEN"
/** A role's certificate names DNS:<role> RPC_TLS_NAME_SUFFIX, which its
 * callers check ("store.switchboard.internal"). */
#define RPC_TLS_NAME_SUFFIX ".switchboard.internal"

/* ---- constant time ---- */

/** 1 when the alen bytes at a equal the blen bytes at b, else 0, in a time
 * that depends on alen only (a is the expected secret; b what a caller
 * presented, of any length): every byte of a is looked at, whatever b
 * holds and wherever they first differ. */
int rpc_trust_equal(const void *a, size_t alen, const void *b, size_t blen);

/* ---- files that hold secrets ---- */

/** Creates path (it must not exist) holding the n bytes at data, mode
 * 0600, flushed to disk. -1 when it exists or cannot be written (why). */
int rpc_secret_write(const char *path, const void *data, size_t n, char *why,
                     size_t wn);

/** Reads path (at most cap - 1 bytes, NUL-terminated in buf, trailing
 * white space cut; *len: what is left) when it is a regular file of this
 * user that no other user may read or write; -1 otherwise, why saying
 * what to fix ("chmod 600 F"). */
int rpc_secret_read(const char *path, char *buf, size_t cap, size_t *len,
                    char *why, size_t wn);

/* ---- role keys and credentials ---- */

typedef struct rpc_keyring rpc_keyring;

/** A keyring with fresh random keys for every role (sbd all: its roles and
 * its app servers live and die with the process, so nothing is stored).
 * -1 only when out of memory. */
int rpc_keyring_generate(rpc_keyring **out);
/** Reads a keys file ("role-key ROLE HEX" lines, rpc_keyring_save's), which
 * must pass rpc_secret_read's checks. -1 on any bad line (why names it). */
int rpc_keyring_load(const char *path, rpc_keyring **out, char *why, size_t n);
/** Writes k's keys to a new file at path (0600). -1 as rpc_secret_write. */
int rpc_keyring_save(const rpc_keyring *k, const char *path, char *why,
                     size_t n);
/** Frees k; NULL is ignored. */
void rpc_keyring_free(rpc_keyring *k);
/** 1 when k holds role's key. */
int rpc_keyring_has(const rpc_keyring *k, rpc_role role);

/** Derives the credential of (role, id) into out[n] (n >=
 * RPC_CREDENTIAL_MAX is always enough). id: 1 to RPC_ROLE_ID_MAX - 1 of
 * [A-Za-z0-9._-]. -1 when k has no key for role, id is not such a word,
 * or n is too small. */
int rpc_keyring_credential(const rpc_keyring *k, rpc_role role, const char *id,
                           char *out, size_t n);

/** Checks a presented credential (len bytes, not NUL-terminated): 0 and
 * *role, id when it is well formed, of a role k holds, and its MAC is
 * right; else -1. The MAC is compared in constant time. */
int rpc_keyring_check(const rpc_keyring *k, const char *cred, size_t len,
                      rpc_role *role, char id[RPC_ROLE_ID_MAX]);

/** A verifier over k for rpc_server_config.verifier; valid while k is. */
const rpc_verifier *rpc_keyring_verifier(rpc_keyring *k);

/** This process's own credential: $SB_CREDENTIAL when set, else the file
 * DIR/FILE.cred where FILE is id for an app server and the role's name
 * otherwise (sbd certs writes them; rpc_secret_read's checks apply).
 * dir NULL: the environment only. -1 when neither has one (why). */
int rpc_credential_own(const char *dir, rpc_role role, const char *id,
                       char out[RPC_CREDENTIAL_MAX], char *why, size_t n);

/* ---- the operator's admin token ---- */

/** The admin token of a data directory: DIR/admin.token, created (0600,
 * random) when missing, else read back (it must pass rpc_secret_read's
 * checks and hold RPC_ADMIN_TOKEN_LEN hex characters). path[pn] gets the
 * file's path. Returns 1 when it was created now, 0 when it was there,
 * -1 on error (why). */
int rpc_admin_token_init(const char *dir, char token[RPC_ADMIN_TOKEN_LEN + 1],
                         char *path, size_t pn, char *why, size_t n);

/** The token an operator presents: the file's when file is not NULL (the
 * same checks), else $SB_ADMIN_TOKEN. -1 when neither gives one (why:
 * "give --token-file F or set SB_ADMIN_TOKEN"). */
int rpc_admin_token_presented(const char *file,
                              char token[RPC_ADMIN_TOKEN_LEN + 1], char *why,
                              size_t n);

/** 1 when presented is the expected token, else 0; NULL, empty, shorter
 * or longer tokens are 0. Constant time in what the two hold. */
int rpc_admin_token_check(const char *expected, const char *presented);

/* ---- certificates of a --tls-dir ---- */

/** Storage for the paths rpc_trust_tls fills in. */
typedef struct rpc_tls_files {
    char cert[4096], key[4096], ca[4096], name[96];
} rpc_tls_files;

/** Fills *tls for me (a role's name, or "operator" for `sb admin`) from
 * dir (sbd certs' layout: DIR/ca.crt, DIR/ME.crt, DIR/ME.key; the key
 * must pass rpc_secret_read's checks), pointing into *files. peer: the
 * role this client calls, whose certificate name it then checks;
 * RPC_ROLE_NONE for a listener (or a client that calls roles of several
 * kinds: it checks the CA only). -1 when a file is missing or the key is
 * exposed (why). */
int rpc_trust_tls(const char *dir, const char *me, rpc_role peer, rpc_tls *tls,
                  rpc_tls_files *files, char *why, size_t n);

#ifdef __cplusplus
}
#endif
#endif
