/* sb_netutil.h: small socket helpers shared by tests and benchmarks that
 * start servers of their own (python fakes, redis-server, sbd) on
 * loopback. */
#ifndef SB_NETUTIL_H
#define SB_NETUTIL_H

/** A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0,
 * read it back, close), or -1. The caller's server may still lose a race
 * for it to another process; callers retry or fail clearly. */
int sb_free_port(void);

#endif
