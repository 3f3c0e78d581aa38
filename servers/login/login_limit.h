/* login_limit.h: how many password guesses login lets through (issue 11,
 * docs/trust.md). Failures are counted per user name and per source
 * address; past a few free ones each key must wait, twice as long after
 * every further failure (1 s, 2 s, 4 s ... up to max_wait_s), and an
 * attempt made while it must wait is refused before any password work.
 * An attempt counts as a failure from the moment it starts until it
 * succeeds, so parallel guesses cannot slip in before the first failure
 * is known. A key forgotten after forget_s without failures; the table
 * holds at most max_keys (the stalest go first). The clock is injected,
 * so tests run in simulated time.
 *
 * Thread safety: every function may be called from any thread. */
#ifndef LOGIN_LIMIT_H
#define LOGIN_LIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct login_limit login_limit;

/** Settings; a zero field takes the default shown. */
typedef struct login_limit_config {
    int user_free;   /**< failures per user name before waits begin; 5 */
    int addr_free;   /**< failures per source address before waits; 20 */
    int max_wait_s;  /**< the longest wait; 300 */
    int forget_s;    /**< a key with no failure for this long is dropped;
                          900 (at least max_wait_s) */
    size_t max_keys; /**< keys (names + addresses) held at most; 100000 */
    /** The clock, in ms (monotonic); NULL = rpc_now_mono_ms. */
    int64_t (*now_ms)(void *arg);
    void *clock_arg;
} login_limit_config;

/** Longest message login_limit_message writes, with its NUL. */
#define LOGIN_LIMIT_MSG_MAX 64

/** A new limiter (cfg may be NULL: every default), or NULL when out of
 * memory. */
login_limit *login_limit_new(const login_limit_config *cfg);

/** Frees l; NULL ignored. */
void login_limit_free(login_limit *l);

/** Starts an attempt by user from addr (either may be "" or NULL: not
 * counted on that key). Returns 0 when it may go on, and counts it as a
 * failure until login_limit_succeeded says otherwise; or the seconds
 * (>= 1) the caller must wait, when the user or the address must wait:
 * the attempt is refused and not counted. */
int login_limit_begin(login_limit *l, const char *user, const char *addr);

/** The attempt begun for user from addr succeeded: the user's failures
 * are forgotten (the address keeps its count less this attempt, so one
 * good account does not launder an address's guesses at others). */
void login_limit_succeeded(login_limit *l, const char *user, const char *addr);

/** "Too many failed logins; try again in <wait_s> s" into out[n]. */
void login_limit_message(int wait_s, char *out, size_t n);

/** Keys held now (for tests and /metrics). */
size_t login_limit_keys(login_limit *l);

#endif
