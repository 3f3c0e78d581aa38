/* store_round.h: next-label's rounds, as pure functions (no LMDB, no
 * clock). A round gives every label of a group once, in an order of the
 * server's choosing, including labels added while it runs, and keeps only
 * a few dozen bytes per (user, group): a keyed pseudo-random permutation of
 * the n0 label ids known when the round began, then the ids added since,
 * in creation order. Positions are handed out in blocks ("grants") below a
 * durable mark that runs ahead, as the draw pool does: a crash may skip
 * positions of a round, never repeat one. store_labels_round.c keeps the
 * durable half in LMDB; the cursor half lives with whoever serves calls. */
#ifndef STORE_ROUND_H
#define STORE_ROUND_H

#include <stddef.h>
#include <stdint.h>

/** Version of the permutation below, stored in every encoded round. It is
 * part of the on-disk format: a round written by another version is not
 * continued (a new round begins) rather than reinterpreted. */
#define STORE_ROUND_VERSION 1
/** Bytes of one encoded durable round (store_round_encode). */
#define STORE_ROUND_BYTES 21
/** Feistel rounds of the permutation. */
#define STORE_PERM_ROUNDS 6

/** The durable state of one (user, group): what LMDB keeps. Every position
 * below @mark may have been handed out in round @round; none at or above
 * it has been. @round 0 means "no round yet". */
typedef struct store_round {
    uint64_t seed;  /* the round's permutation key */
    uint32_t round; /* 1, 2, ... */
    uint32_t n0;    /* labels in the group when the round began */
    uint32_t mark;  /* first position never handed out */
} store_round;

/** A holder's cursor: the positions [pos, end) of round @round were
 * granted to it alone and not yet handed out. It carries the round's seed
 * and n0 so that the next id needs no store read of the round. 24 bytes;
 * all zero = no grant yet (a fresh session, or one after a crash). */
typedef struct store_cursor {
    uint64_t seed;
    uint32_t round, n0;
    uint32_t pos, end;
} store_cursor;

/** The keyed permutation of [0, @n): position @x (< @n) to an id (< @n).
 * A Feistel network over the smallest power of two >= n (halves of
 * floor(b/2) and ceil(b/2) bits, STORE_PERM_ROUNDS rounds, a 64-bit mixer
 * keyed by @seed and the round index), cycle-walked into [0, n): a
 * bijection for every seed, fewer than 2 network evaluations per call on
 * average because the domain is less than twice n. @n 0 or @x >= @n
 * returns @x unchanged. */
uint32_t store_perm(uint64_t seed, uint32_t n, uint32_t x);

/** The label id at position @pos of @c's round: store_perm(seed, n0, pos)
 * below n0, else pos itself (the ids added since, in creation order). */
uint32_t store_round_id(const store_cursor *c, uint32_t pos);

/** The next id for a holder whose group has @n_now labels. Returns 1 and
 * sets *@id (and moves the cursor) when the cursor holds a position that
 * is a label; returns 0 and changes nothing when it needs a grant: no grant
 * yet, its grant used up, or every label given (pos >= n_now: the grant
 * decides whether the round is over). */
int store_cursor_next(store_cursor *c, uint32_t n_now, uint32_t *id);

/** 1 when fewer than @low positions remain in @c's grant: time to ask for
 * the next one ahead of need, off the request path. */
int store_cursor_low(const store_cursor *c, uint32_t low);

/** The grant: gives @c up to @want (1..STORE_ROUND_WANT_MAX, clamped)
 * more positions and moves the durable mark @s past them. A new round
 * begins (round + 1, seed @fresh_seed, n0 = @n_now, mark 0) when there is
 * none yet, when @s's round was made by another STORE_ROUND_VERSION
 * (caller's business: pass a zeroed @s), or when every position below
 * @n_now has been granted and @c has none left (it is of another round,
 * used up, or at pos >= n_now). Otherwise the grant continues the round:
 * contiguous with @c's own when @c's grant is the latest (its end is the mark;
 * @c keeps its pos), else from the mark (a stale cursor: positions it still
 * held are skipped, never repeated). @n_now must be > 0. */
void store_round_grant(store_round *s, store_cursor *c, uint32_t n_now,
                       uint32_t want, uint64_t fresh_seed);
/** 1 when store_round_grant(@s, @c, @n_now, ...) would begin a new round
 * (so the caller draws a fresh seed only then), else 0. */
int store_round_renews(const store_round *s, const store_cursor *c,
                       uint32_t n_now);
#define STORE_ROUND_WANT_MAX 65536

/** Takes in the result of a grant asked for ahead of need: @asked is the
 * copy of the cursor the grant was computed from, @granted what it gave,
 * and *@cur the live cursor, which has gone on handing out positions
 * meanwhile (one grant in flight per cursor). A contiguous grant (same
 * round, @asked's pos kept) only extends *@cur's end; any other (the
 * cursor was superseded, or a new round began) replaces *@cur, skipping
 * what it still held, never repeating it. */
void store_cursor_adopt(store_cursor *cur, const store_cursor *asked,
                        const store_cursor *granted);

/** Gives back the unused tail of @c's grant at a clean end (logout,
 * a session that moves without its cursor): when @c's grant is the latest
 * of @s's round, the mark goes back to @c->pos, so nothing is skipped.
 * Returns 1 when the mark moved, 0 when @c's grant was superseded or of
 * another round (nothing changes: someone else may own later positions).
 * Either way *@c is zeroed: a released cursor must not hand out positions
 * the mark no longer covers. */
int store_round_release(store_round *s, store_cursor *c);

/** Encodes @s in STORE_ROUND_BYTES bytes (version, round, n0, mark, seed;
 * big-endian). */
void store_round_encode(const store_round *s, unsigned char *out);
/** Decodes @len bytes at @p into *@s. Returns 0, or -1 when the record is
 * not STORE_ROUND_BYTES long or of another version (*@s is zeroed: the
 * caller begins a new round). */
int store_round_decode(const unsigned char *p, size_t len, store_round *s);

#endif
