/* rpc_keys.c: role keys and the credentials made from them (rpc_trust.h).
 * A credential is "sb1:ROLE:ID:" + hex(HMAC-SHA256(K_ROLE, "sb1:ROLE:ID")):
 * the holder of K_ROLE can derive one per id (the orchestrator, one per
 * app server it launches) and check any; the holder of a credential can
 * only present it. Checking is one HMAC (libsodium) and a constant-time
 * compare, done only for calls whose handler asks who calls; a deployment
 * has few credentials, each presented on every call, so the ones found
 * valid are remembered (a constant-time compare of the whole credential
 * against the remembered one then stands for the HMAC). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rpc_trust.h"

#define CRED_PREFIX "sb1:"
#define MAC_HEX (2 * crypto_auth_hmacsha256_BYTES)

_Static_assert(RPC_KEY_LEN == crypto_auth_hmacsha256_KEYBYTES, "key size");

#define CACHE_SLOTS 64 /* credentials remembered valid (a slot per hash) */

typedef struct cache_slot {
    pthread_mutex_t mu;
    size_t len; /* 0 = empty */
    char cred[RPC_CREDENTIAL_MAX];
    rpc_role role;
    char id[RPC_ROLE_ID_MAX];
} cache_slot;

struct rpc_keyring {
    unsigned char key[RPC_ROLE_COUNT][RPC_KEY_LEN];
    int have[RPC_ROLE_COUNT];
    rpc_verifier verifier;
    cache_slot cache[CACHE_SLOTS];
};

/* The slot of the len bytes at cred (the presented bytes: public). */
static cache_slot *slot_of(rpc_keyring *k, const char *cred, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)cred[i]) * 16777619u;
    return &k->cache[h % CACHE_SLOTS];
}

/* 1 when cred is the one remembered in its slot (role, id set). */
static int cache_hit(rpc_keyring *k, const char *cred, size_t len,
                     rpc_role *role, char id[RPC_ROLE_ID_MAX])
{
    cache_slot *s = slot_of(k, cred, len);
    int hit = 0;
    pthread_mutex_lock(&s->mu);
    if (s->len == len && rpc_trust_equal(s->cred, len, cred, len)) {
        *role = s->role;
        memcpy(id, s->id, RPC_ROLE_ID_MAX);
        hit = 1;
    }
    pthread_mutex_unlock(&s->mu);
    return hit;
}

static void cache_put(rpc_keyring *k, const char *cred, size_t len,
                      rpc_role role, const char *id)
{
    cache_slot *s = slot_of(k, cred, len);
    if (len >= RPC_CREDENTIAL_MAX)
        return;
    pthread_mutex_lock(&s->mu);
    memcpy(s->cred, cred, len);
    s->len = len;
    s->role = role;
    snprintf(s->id, sizeof s->id, "%s", id);
    pthread_mutex_unlock(&s->mu);
}

static int id_ok(const char *id, size_t n)
{
    if (n == 0 || n >= RPC_ROLE_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* mac = HMAC(K_role, "sb1:ROLE:ID"), the id given as n bytes. */
static void make_mac(const rpc_keyring *k, rpc_role role, const char *id,
                     size_t n, unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    char msg[RPC_CREDENTIAL_MAX];
    int len = snprintf(msg, sizeof msg, CRED_PREFIX "%s:%.*s",
                       rpc_role_name(role), (int)n, id);
    crypto_auth_hmacsha256(mac, (const unsigned char *)msg, (size_t)len,
                           k->key[role]);
    sodium_memzero(msg, sizeof msg);
}

static int verify_cb(void *arg, const char *cred, size_t len, rpc_role *role,
                     char id[RPC_ROLE_ID_MAX])
{
    rpc_keyring *k = arg;
    if (cache_hit(k, cred, len, role, id))
        return 0;
    if (rpc_keyring_check(k, cred, len, role, id) != 0)
        return -1; /* forged ones are never remembered */
    cache_put(k, cred, len, *role, id);
    return 0;
}

static rpc_keyring *keyring_new(void)
{
    rpc_keyring *k = calloc(1, sizeof *k);
    if (k == NULL || sodium_init() < 0) {
        free(k);
        return NULL;
    }
    k->verifier.fn = verify_cb;
    k->verifier.arg = k;
    for (int i = 0; i < CACHE_SLOTS; i++)
        pthread_mutex_init(&k->cache[i].mu, NULL);
    return k;
}

int rpc_keyring_generate(rpc_keyring **out)
{
    rpc_keyring *k = keyring_new();
    if (k == NULL)
        return -1;
    for (int r = RPC_ROLE_NONE + 1; r < RPC_ROLE_COUNT; r++) {
        rpc_random_bytes(k->key[r], RPC_KEY_LEN);
        k->have[r] = 1;
    }
    *out = k;
    return 0;
}

/* One "role-key ROLE HEX" line into k; -1 when it is not one. */
static int parse_line(rpc_keyring *k, char *line)
{
    char *save = NULL, *w1 = strtok_r(line, " \t", &save),
         *w2 = strtok_r(NULL, " \t", &save), *w3 = strtok_r(NULL, " \t", &save);
    size_t bin = 0;
    if (w1 == NULL || strcmp(w1, "role-key") != 0 || w2 == NULL || w3 == NULL ||
        strtok_r(NULL, " \t", &save) != NULL)
        return -1;
    rpc_role r = rpc_role_from_name(w2, strlen(w2));
    if (r == RPC_ROLE_NONE || strlen(w3) != 2 * RPC_KEY_LEN ||
        sodium_hex2bin(k->key[r], RPC_KEY_LEN, w3, strlen(w3), NULL, &bin,
                       NULL) != 0 ||
        bin != RPC_KEY_LEN)
        return -1;
    k->have[r] = 1;
    return 0;
}

int rpc_keyring_load(const char *path, rpc_keyring **out, char *why, size_t n)
{
    char text[4096], *save = NULL;
    size_t len;
    int lineno = 0, rv = -1;
    rpc_keyring *k = keyring_new();
    if (k == NULL) {
        if (why != NULL)
            snprintf(why, n, "out of memory");
        return -1;
    }
    if (rpc_secret_read(path, text, sizeof text, &len, why, n) != 0)
        goto out;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0')
            continue;
        if (parse_line(k, line) != 0) {
            if (why != NULL)
                snprintf(why, n,
                         "%s line %d: not a \"role-key ROLE HEX\" line (64 "
                         "hex digits, a role sbd knows)",
                         path, lineno);
            goto out;
        }
    }
    *out = k;
    k = NULL;
    rv = 0;
out:
    sodium_memzero(text, sizeof text);
    rpc_keyring_free(k);
    return rv;
}

int rpc_keyring_save(const rpc_keyring *k, const char *path, char *why,
                     size_t n)
{
    char text[4096], hex[2 * RPC_KEY_LEN + 1];
    size_t len = (size_t)snprintf(
        text, sizeof text,
        "# Switchboard role keys: whoever holds this file can act as any "
        "role.\n# Only the store and the orchestrator need it.\n");
    for (int r = RPC_ROLE_NONE + 1; r < RPC_ROLE_COUNT; r++) {
        if (!k->have[r])
            continue;
        sodium_bin2hex(hex, sizeof hex, k->key[r], RPC_KEY_LEN);
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "role-key %s %s\n", rpc_role_name(r), hex);
    }
    int rv = rpc_secret_write(path, text, len, why, n);
    sodium_memzero(text, sizeof text);
    sodium_memzero(hex, sizeof hex);
    return rv;
}

void rpc_keyring_free(rpc_keyring *k)
{
    if (k == NULL)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++)
        pthread_mutex_destroy(&k->cache[i].mu);
    sodium_memzero(k, sizeof *k);
    free(k);
}

int rpc_keyring_has(const rpc_keyring *k, rpc_role role)
{
    return (unsigned)role < RPC_ROLE_COUNT && role != RPC_ROLE_NONE &&
           k->have[role];
}

int rpc_keyring_credential(const rpc_keyring *k, rpc_role role, const char *id,
                           char *out, size_t n)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char hex[MAC_HEX + 1];
    if (!rpc_keyring_has(k, role) || id == NULL || !id_ok(id, strlen(id)))
        return -1;
    make_mac(k, role, id, strlen(id), mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    int len =
        snprintf(out, n, CRED_PREFIX "%s:%s:%s", rpc_role_name(role), id, hex);
    sodium_memzero(mac, sizeof mac);
    sodium_memzero(hex, sizeof hex);
    return len > 0 && (size_t)len < n ? 0 : -1;
}

int rpc_keyring_check(const rpc_keyring *k, const char *cred, size_t len,
                      rpc_role *role, char id[RPC_ROLE_ID_MAX])
{
    const size_t plen = strlen(CRED_PREFIX);
    unsigned char want[crypto_auth_hmacsha256_BYTES],
        got[crypto_auth_hmacsha256_BYTES];
    size_t bin = 0;
    /* "sb1:" ROLE ":" ID ":" MAC: the public parts parsed as any input,
     * only the MAC compared in constant time */
    if (len <= plen + MAC_HEX + 2 || memcmp(cred, CRED_PREFIX, plen) != 0 ||
        cred[len - MAC_HEX - 1] != ':')
        return -1;
    const char *r = cred + plen, *end = cred + len - MAC_HEX - 1;
    const char *colon = memchr(r, ':', (size_t)(end - r));
    if (colon == NULL)
        return -1;
    rpc_role rr = rpc_role_from_name(r, (size_t)(colon - r));
    const char *idp = colon + 1;
    size_t idn = (size_t)(end - idp);
    if (!rpc_keyring_has(k, rr) || !id_ok(idp, idn) ||
        sodium_hex2bin(got, sizeof got, end + 1, MAC_HEX, NULL, &bin, NULL) !=
            0 ||
        bin != sizeof got)
        return -1;
    make_mac(k, rr, idp, idn, want);
    int ok = rpc_trust_equal(want, sizeof want, got, sizeof got);
    sodium_memzero(want, sizeof want);
    if (!ok)
        return -1;
    *role = rr;
    memcpy(id, idp, idn);
    id[idn] = '\0';
    return 0;
}

const rpc_verifier *rpc_keyring_verifier(rpc_keyring *k)
{
    return &k->verifier;
}

int rpc_credential_own(const char *dir, rpc_role role, const char *id,
                       char out[RPC_CREDENTIAL_MAX], char *why, size_t n)
{
    const char *env = getenv(RPC_CREDENTIAL_ENV);
    char path[4096];
    size_t len;
    if (env != NULL && env[0] != '\0') {
        if (strlen(env) >= RPC_CREDENTIAL_MAX) {
            if (why != NULL)
                snprintf(why, n, "%s is too long", RPC_CREDENTIAL_ENV);
            return -1;
        }
        snprintf(out, RPC_CREDENTIAL_MAX, "%s", env);
        return 0;
    }
    const char *file = role == RPC_ROLE_APP ? id : rpc_role_name(role);
    if (dir == NULL || file == NULL || role == RPC_ROLE_NONE) {
        if (why != NULL)
            snprintf(why, n,
                     "no role credential: set %s, or give --tls-dir DIR "
                     "holding %s.cred (sbd certs DIR makes it)",
                     RPC_CREDENTIAL_ENV, file ? file : "ROLE");
        return -1;
    }
    if (snprintf(path, sizeof path, "%s/%s.cred", dir, file) >=
        (int)sizeof path) {
        if (why != NULL)
            snprintf(why, n, "%.200s: the path is too long", dir);
        return -1;
    }
    return rpc_secret_read(path, out, RPC_CREDENTIAL_MAX, &len, why, n);
}
