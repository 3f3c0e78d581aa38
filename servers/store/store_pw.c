/* store_pw.c: password hashing for the login role: Argon2id strings from
 * libsodium (crypto_pwhash_str), with the cost chosen by the caller so tests
 * can use the minimum and production the interactive limits. */
#include <sodium.h>

#include "store_db.h"

_Static_assert(STORE_PWHASH_LEN == crypto_pwhash_STRBYTES, "hash string size");

int store_password_hash(const char *pw, size_t len, store_pwcost cost,
                        char out[STORE_PWHASH_LEN])
{
    unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    if (cost == STORE_PW_MODERATE) {
        ops = crypto_pwhash_OPSLIMIT_MODERATE;
        mem = crypto_pwhash_MEMLIMIT_MODERATE;
    } else if (cost == STORE_PW_FAST) {
        ops = crypto_pwhash_OPSLIMIT_MIN;
        mem = crypto_pwhash_MEMLIMIT_MIN;
    }
    if (sodium_init() < 0 || !pw)
        return -1;
    return crypto_pwhash_str_alg(out, pw, len, ops, mem,
                                 crypto_pwhash_ALG_ARGON2ID13) == 0
               ? 0
               : -1;
}

int store_password_verify(const char *hash, const char *pw, size_t len)
{
    if (sodium_init() < 0 || !hash || !pw)
        return -1;
    /* crypto_pwhash_str_verify reads a NUL-terminated string of at most
     * STRBYTES; refuse anything longer rather than let it over-read. */
    size_t n = 0;
    while (n < STORE_PWHASH_LEN && hash[n])
        n++;
    if (n == STORE_PWHASH_LEN)
        return -1;
    return crypto_pwhash_str_verify(hash, pw, len) == 0 ? 0 : -1;
}
