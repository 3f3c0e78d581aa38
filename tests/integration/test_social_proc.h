/* test_social_proc.h: what the social integration tests share: a real
 * `sbd` child process on 127.0.0.1 (free base port, temp data dir) that
 * the test starts, kills (-9, whole process group) and restarts. */
#ifndef TEST_SOCIAL_PROC_H
#define TEST_SOCIAL_PROC_H

#include <sys/types.h>

typedef struct tsp_sbd {
    char dir[256];        /* temp dir; data lives in dir/data */
    char data[300];       /* --data-dir */
    int port;             /* --base-port (login endpoint) */
    pid_t pid;            /* sbd, leader of its own process group; 0 = none */
    const char *draw_url; /* --draw URL when set (after tsp_init) */
} tsp_sbd;

/** Makes the temp dir and picks a free base port (eight ports free: P+7
 * is the web client).
 * Returns 0, or -1 with a message on stderr. */
int tsp_init(tsp_sbd *s);

/** Starts $SB_BIN_DIR/sbd on s->data / s->port and waits (at most 30 s)
 * until the login port accepts. Returns 0, or -1 (sbd exited, timeout). */
int tsp_start(tsp_sbd *s);

/** Sends sig to sbd's whole process group (its app children too) and
 * reaps it, waiting at most 15 s (then SIGKILL). */
void tsp_stop(tsp_sbd *s, int sig);

/** Stops sbd if running and removes the temp dir. */
void tsp_cleanup(tsp_sbd *s);

#endif
