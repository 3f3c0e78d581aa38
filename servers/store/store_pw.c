/* store_pw.c: password hashing for the login role: Argon2id strings from
 * libsodium (crypto_pwhash_str), with the cost chosen by the caller so tests
 * can use the minimum and production the interactive limits. An unknown
 * name is verified against a dummy hash of the same cost, so it takes as
 * long as a wrong password (no user enumeration by timing). */
#include <pthread.h>
#include <string.h>

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

/* One dummy hash per cost, made on first use (a random password nobody
 * knows: the verify always fails, after the full work). */
static char dummy[3][STORE_PWHASH_LEN];
static int dummy_ok[3];
static pthread_once_t dummy_once[3] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT,
                                       PTHREAD_ONCE_INIT};

static void make_dummy(int cost)
{
    unsigned char pw[32];
    randombytes_buf(pw, sizeof pw);
    dummy_ok[cost] = store_password_hash((const char *)pw, sizeof pw,
                                         (store_pwcost)cost, dummy[cost]) == 0;
    sodium_memzero(pw, sizeof pw);
}

static void dummy_interactive(void)
{
    make_dummy(STORE_PW_INTERACTIVE);
}

static void dummy_moderate(void)
{
    make_dummy(STORE_PW_MODERATE);
}

static void dummy_fast(void)
{
    make_dummy(STORE_PW_FAST);
}

int store_password_verify_or_dummy(const char *hash, const char *pw, size_t len,
                                   store_pwcost cost)
{
    static void (*const make[3])(void) = {dummy_interactive, dummy_moderate,
                                          dummy_fast};
    if (hash != NULL)
        return store_password_verify(hash, pw, len);
    int c = (int)cost >= 0 && (int)cost < 3 ? (int)cost : STORE_PW_INTERACTIVE;
    if (sodium_init() < 0)
        return -1;
    pthread_once(&dummy_once[c], make[c]);
    if (dummy_ok[c] && pw != NULL)
        store_password_verify(dummy[c], pw, len); /* the work, then no */
    return -1;
}
