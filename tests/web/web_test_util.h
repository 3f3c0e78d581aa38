/* web_test_util.h: what the web tests share on top of hc and wc: waiting
 * for a port, running `sb` script mode, text helpers, and the steps every
 * case repeats (befriend two users, open a user's event stream, expect a
 * command's lines, read deliveries). Failures are cmocka assertions. */
#ifndef SB_WEB_TEST_UTIL_H
#define SB_WEB_TEST_UTIL_H

#include <stdint.h>

#include "wc.h"

struct tsp_sbd;
/** Starts a real sbd (test_social_proc.h) and waits for its web client
 * on P+7, which goes to *web. 0 or -1. */
int wt_start_sbd(struct tsp_sbd *s, int *web);

void wt_sleep_ms(int ms);
int64_t wt_now_ms(void);
/** 1 when 127.0.0.1:port accepts within ms. */
int wt_wait_port(int port, int ms);
/** Runs $SB_BIN_DIR/sb 127.0.0.1 login_port with @input; its stdout
 * (malloc'ed), or NULL. */
char *wt_run_sb(int login_port, const char *input);
/** Drops lines starting with "<<<" (deliveries), in place. */
char *wt_drop_deliveries(char *s);
/** Replaces every @from by @to; frees s, returns a new string. */
char *wt_replace(char *s, const char *from, const char *to);
/** a invites b, b accepts. */
void wt_befriend(wc *a, wc *b);
/** Opens c's event stream (?after=@after) and waits for its hello. */
int wt_stream(hc_sse *es, wc *c, long long after);
/** The next delivery's data within ms, or NULL. */
json_t *wt_next_delivery(hc_sse *es, int ms);
/** Runs a command and asserts its lines equal @want. */
void wt_expect(wc *c, const char *cmd, int n, const char *const *args,
               const char *want);
/** ... or contain @want. */
void wt_expect_has(wc *c, const char *cmd, int n, const char *const *args,
                   const char *want);
/** Opens c's stream and reads deliveries, acknowledging each, until @n
 * came or 30 s passed; asserts each text starts with @prefix and that the
 * seqs rise. Returns how many came. */
int wt_drain(wc *c, int n, const char *prefix);

#endif
