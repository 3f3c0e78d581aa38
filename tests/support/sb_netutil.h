/* sb_netutil.h: small socket helpers shared by tests and benchmarks that
 * start servers of their own (python fakes, redis-server, sbd) on
 * loopback. */
#ifndef SB_NETUTIL_H
#define SB_NETUTIL_H

/** A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0,
 * read it back, close), or -1. The caller's server may still lose a race
 * for it to another process; callers retry or fail clearly. */
int sb_free_port(void);

/** A base port P with P..P+n-1 all free on 127.0.0.1 a moment ago, for a
 * server with a fixed port layout (sbd uses P..P+7). P lies below the
 * kernel's ephemeral range (32768 up), so other processes' outgoing
 * connections cannot take the ports before the server binds them; another
 * test may still, so callers retry or fail clearly. Returns -1 when 100
 * random tries found none. */
int sb_free_port_range(int n);

/** Whether something accepts a TCP connection on 127.0.0.1:port right
 * now (a server started by the caller is up): 1 or 0. */
int sb_port_accepts(int port);

/** A size field of /proc/PID/status ("VmRSS", "VmHWM"), in KiB, or -1. */
long sb_proc_kib(int pid, const char *field);

/** A blocking TCP connection to 127.0.0.1:port (close-on-exec): its
 * descriptor, or -1 (errno set). For tests that speak a wire by hand. */
int sb_connect_loopback(int port);

#endif
