/* sbd.h: what sbd's main (flags, role table) and its roles share. */
#ifndef SBD_H
#define SBD_H

#include <pthread.h>

#include "store_db.h"

typedef struct sbd_opts {
	const char *data_dir; /* --data-dir, ./data */
	int base_port;        /* --base-port P: login P, ... bus P+4/P+5 */
	const char *host;     /* login's listen address; 0.0.0.0 */
	int capacity;         /* users per app server; 10 */
	store_pwcost pwcost;  /* Argon2id cost */
	const char *draw_listen; /* --listen (draw role); tcp://HOST:P+1 */
	int pool_size;        /* --pool-size for a new draw pool; 0 = 100000 */
	const char *draw_url; /* --draw URL: app servers' draw service; all
	                         passes its own draw role when unset */
	int session_idle_ms;  /* --session-idle-ms: end idle sessions; 0 = never */
	int clock_skew_ms;    /* --test-clock-skew-ms: TEST ONLY, see --help */
} sbd_opts;

/** Waits for SIGINT or SIGTERM (blocked by main) and logs which. */
void sbd_wait_signal(void);

/** Roles. Each returns 0 after a graceful stop, -1 when it cannot start
 * (the reason is logged). */
int sbd_run_all(const sbd_opts *o);
int sbd_run_bus(const sbd_opts *o);
int sbd_run_draw(const sbd_opts *o);

#endif
