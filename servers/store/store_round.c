/* store_round.c: the keyed permutation and the round/grant arithmetic of
 * next-label (see store_round.h). Why a Feistel network: it is a bijection
 * by construction for any key, costs a few multiplications per position,
 * and needs no table, so a round over 50,000 labels is 21 bytes of state
 * instead of a 200 KB shuffled array or a 6 KB bitmap per user. */
#include <string.h>

#include "store_round.h"

/* splitmix64's finaliser: a fast 64-bit mixer with full avalanche. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint32_t mask(unsigned bits)
{
    return bits >= 32 ? UINT32_MAX : ((uint32_t)1 << bits) - 1;
}

/* One pass of the network over b-bit values. The halves may differ by one
 * bit: each round maps (L: lb bits, R: rb bits) to (R, L ^ F(R)) with the
 * sizes swapped, which is invertible, so the whole is a bijection. */
static uint32_t feistel(uint64_t seed, unsigned b, uint32_t x)
{
    unsigned rb = b / 2, lb = b - rb;
    uint32_t l = x >> rb, r = x & mask(rb);
    for (unsigned i = 0; i < STORE_PERM_ROUNDS; i++) {
        uint64_t k = seed ^ (0x9e3779b97f4a7c15ull * (i + 1));
        uint32_t f = (uint32_t)mix64(k ^ r) & mask(lb);
        uint32_t nl = r;
        unsigned nlb = rb;
        r = (l ^ f) & mask(lb);
        rb = lb;
        l = nl;
        lb = nlb;
    }
    return (uint32_t)(((uint64_t)l << rb) | r);
}

uint32_t store_perm(uint64_t seed, uint32_t n, uint32_t x)
{
    if (n <= 1 || x >= n)
        return x;
    unsigned b = 0;
    while (b < 32 && ((uint64_t)1 << b) < n)
        b++;
    /* Cycle-walking: a value outside [0, n) is fed back in. It ends because
     * the network is a permutation of [0, 2^b) and x's cycle holds x. */
    uint32_t y = x;
    do
        y = feistel(seed, b, y);
    while (y >= n);
    return y;
}

uint32_t store_round_id(const store_cursor *c, uint32_t pos)
{
    return pos < c->n0 ? store_perm(c->seed, c->n0, pos) : pos;
}

int store_cursor_next(store_cursor *c, uint32_t n_now, uint32_t *id)
{
    if (c->round == 0 || c->pos >= c->end || c->pos >= n_now)
        return 0;
    *id = store_round_id(c, c->pos);
    c->pos++;
    return 1;
}

int store_cursor_low(const store_cursor *c, uint32_t low)
{
    return c->round == 0 || c->pos >= c->end || c->end - c->pos < low;
}

int store_round_renews(const store_round *s, const store_cursor *c,
                       uint32_t n_now)
{
    int mine = c->round != 0 && c->round == s->round;
    int empty = !mine || c->pos >= c->end || c->pos >= n_now;
    return s->round == 0 || (s->mark >= n_now && empty);
}

void store_round_grant(store_round *s, store_cursor *c, uint32_t n_now,
                       uint32_t want, uint64_t fresh_seed)
{
    if (want == 0)
        want = 1;
    if (want > STORE_ROUND_WANT_MAX)
        want = STORE_ROUND_WANT_MAX;
    int mine = c->round != 0 && c->round == s->round;
    if (store_round_renews(s, c, n_now)) {
        s->round++;
        s->seed = fresh_seed;
        s->n0 = n_now;
        s->mark = 0;
        c->pos = c->end = 0;
        mine = 1;
    }
    /* Contiguous only when nobody was granted after c: then c's unused
     * positions are still its own. */
    if (!(mine && c->end == s->mark && c->pos <= c->end))
        c->pos = s->mark;
    if (UINT32_MAX - s->mark < want)
        want = UINT32_MAX - s->mark; /* 4 billion labels: unreachable */
    s->mark += want;
    c->end = s->mark;
    c->round = s->round;
    c->seed = s->seed;
    c->n0 = s->n0;
}

void store_cursor_adopt(store_cursor *cur, const store_cursor *asked,
                        const store_cursor *granted)
{
    int contiguous = granted->round == asked->round &&
                     granted->pos == asked->pos && cur->round == asked->round &&
                     granted->end >= cur->end;
    if (contiguous)
        cur->end = granted->end;
    else
        *cur = *granted;
}

int store_round_release(store_round *s, store_cursor *c)
{
    int mine = c->round != 0 && c->round == s->round && c->end == s->mark &&
               c->pos <= c->end;
    if (mine)
        s->mark = c->pos;
    memset(c, 0, sizeof *c);
    return mine;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

void store_round_encode(const store_round *s, unsigned char *out)
{
    out[0] = STORE_ROUND_VERSION;
    put32(out + 1, s->round);
    put32(out + 5, s->n0);
    put32(out + 9, s->mark);
    put32(out + 13, (uint32_t)(s->seed >> 32));
    put32(out + 17, (uint32_t)s->seed);
}

int store_round_decode(const unsigned char *p, size_t len, store_round *s)
{
    memset(s, 0, sizeof *s);
    if (len != STORE_ROUND_BYTES || p[0] != STORE_ROUND_VERSION)
        return -1;
    s->round = get32(p + 1);
    s->n0 = get32(p + 5);
    s->mark = get32(p + 9);
    s->seed = (uint64_t)get32(p + 13) << 32 | get32(p + 17);
    return 0;
}
