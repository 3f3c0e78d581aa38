/* draw_perm.c: seed → permutation (see draw_perm.h for the exact
 * algorithm). The keystream is produced in 4 KiB chunks with an explicit
 * ChaCha20 block counter, so the result does not depend on the chunk size. */
#include "draw_perm.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#define DRAW_KS_CHUNK 4096 /* bytes; a multiple of the 64-byte block */

/* A ChaCha20-IETF keystream read as little-endian 32-bit words. */
typedef struct {
    const uint8_t *key;
    uint32_t block; /* next ChaCha20 block counter */
    size_t pos;     /* next unread byte in buf */
    uint8_t buf[DRAW_KS_CHUNK];
} draw_ks;

static void draw_ks_refill(draw_ks *ks)
{
    static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
    memset(ks->buf, 0, sizeof ks->buf);
    crypto_stream_chacha20_ietf_xor_ic(ks->buf, ks->buf, sizeof ks->buf, nonce,
                                       ks->block, ks->key);
    ks->block += DRAW_KS_CHUNK / 64;
    ks->pos = 0;
}

static uint32_t draw_ks_u32(draw_ks *ks)
{
    if (ks->pos + 4 > sizeof ks->buf)
        draw_ks_refill(ks);
    const uint8_t *p = ks->buf + ks->pos;
    ks->pos += 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Lemire: the high word of x*s is uniform on [0, s) once the products
 * whose low word falls below 2^32 mod s are rejected. */
static uint32_t draw_ks_uniform(draw_ks *ks, uint32_t s)
{
    uint64_t m = (uint64_t)draw_ks_u32(ks) * s;
    uint32_t low = (uint32_t)m;
    if (low < s) {
        uint32_t threshold = (uint32_t)(-s) % s;
        while (low < threshold) {
            m = (uint64_t)draw_ks_u32(ks) * s;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

int draw_perm_build(const uint8_t seed[DRAW_SEED_BYTES], uint32_t n,
                    uint32_t *perm)
{
    if (n == 0)
        return EINVAL;
    draw_ks ks = {.key = seed, .block = 0};
    draw_ks_refill(&ks);
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i + 1;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = draw_ks_uniform(&ks, i + 1);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    sodium_memzero(ks.buf, sizeof ks.buf);
    return 0;
}

void draw_perm_fingerprint(const uint8_t seed[DRAW_SEED_BYTES],
                           char out[DRAW_FINGERPRINT_CHARS + 1])
{
    uint8_t h[crypto_generichash_BYTES]; /* 32: BLAKE2b-256 */
    crypto_generichash(h, sizeof h, seed, DRAW_SEED_BYTES, NULL, 0);
    sodium_bin2hex(out, DRAW_FINGERPRINT_CHARS + 1, h,
                   DRAW_FINGERPRINT_CHARS / 2);
}
