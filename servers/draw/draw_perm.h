/* draw_perm.h: the shuffle that turns a 32-byte seed into the draw pool's
 * permutation of 1..N. It is a pure function of (seed, N), so the pool
 * stores only the seed and rebuilds the permutation at every open; the
 * algorithm is therefore part of the on-disk format (DRAW_PERM_SHUFFLE). */
#ifndef DRAW_PERM_H
#define DRAW_PERM_H

#include <stddef.h>
#include <stdint.h>

/** Bytes in a pool seed (a ChaCha20 key). */
#define DRAW_SEED_BYTES 32
/** Hex characters in a seed fingerprint, without the terminating NUL. */
#define DRAW_FINGERPRINT_CHARS 16

/** Name of the shuffle, stored next to the seed. A pool whose stored name
 * differs was made by another algorithm and is refused rather than silently
 * reinterpreted (which would hand numbers out twice). */
#define DRAW_PERM_SHUFFLE "fisher-yates/chacha20-ietf/lemire/v1"

/** Fill perm[0..n) with a permutation of 1..n determined by seed.
 *
 * Algorithm (Durstenfeld's Fisher–Yates): perm[i] = i + 1 for every i; then
 * for i = n-1 down to 1, j = uniform(i + 1) and swap perm[i] and perm[j].
 * uniform(s) draws 32-bit words from the ChaCha20 (IETF, RFC 8439)
 * keystream keyed by the seed, nonce all zero, block counter from 0, each
 * word read little-endian from consecutive keystream bytes, and maps them
 * to [0, s) without bias by Lemire's multiply-and-reject method
 * ("Fast Random Integer Generation in an Interval", 2019).
 *
 * @param[in] seed DRAW_SEED_BYTES bytes.
 * @param[in] n the pool size, 1 <= n <= UINT32_MAX.
 * @param[out] perm room for n entries.
 * @return 0 on success, EINVAL if n is 0. */
int draw_perm_build(const uint8_t seed[DRAW_SEED_BYTES], uint32_t n,
                    uint32_t *perm);

/** Write the seed's fingerprint: the first 8 bytes of BLAKE2b-256(seed) as
 * 16 lowercase hex characters and a NUL. It names a pool in status output
 * and is the confirmation a reset asks for; it reveals nothing usable about
 * the seed.
 * @param[in] seed DRAW_SEED_BYTES bytes.
 * @param[out] out DRAW_FINGERPRINT_CHARS + 1 bytes. */
void draw_perm_fingerprint(const uint8_t seed[DRAW_SEED_BYTES],
                           char out[DRAW_FINGERPRINT_CHARS + 1]);

#endif
