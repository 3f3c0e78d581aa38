/* sb_internal.h: helpers shared by libsb's files and the `sb` command;
 * not installed, not part of the public API. */
#ifndef SB_INTERNAL_H
#define SB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "rpc.h"

/** Sets st (if not NULL) like rpc_status_set, clearing endpoint; returns code.
 */
int sb_status(rpc_status *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Copies src (NULL = "") into dst of size n, truncating, always NUL-ended. */
void sb_copy(char *dst, size_t n, const char *src);
/** Name of a status code ("NOT_FOUND"); libsb's own copy so that the
 * script engine does not need the runtime for it. */
const char *sb_code_name(int code);
/** When st says a call to url ("tcp://HOST:PORT") found nobody
 * (UNAVAILABLE, DEADLINE_EXCEEDED) and HOST:PORT does not accept a
 * connection now, replaces st by sb_probe()'s "cannot connect to ..."; a
 * server that is there keeps the runtime's words. */
void sb_explain_unreachable(const char *url, rpc_status *st);
/** 1 when st is such a "cannot connect to ..." (nobody answered), not a
 * server's own refusal. */
int sb_status_unreachable(const rpc_status *st);
/** Wall clock in Unix milliseconds. */
int64_t sb_wall_ms(void);

#endif
