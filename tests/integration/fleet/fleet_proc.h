/* fleet_proc.h: what the fleet integration tests share: a real `sbd
 * orchestrator` child on 127.0.0.1 (free ports, temp data dir, a fleet
 * name of its own so its app processes can be counted in /proc by their
 * SB_FLEET tag), RPC helpers for Assign/Release, and HTTP fetches. */
#ifndef FLEET_PROC_H
#define FLEET_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "fleet.pb-c.h"
#include "fleet.sb.h"
#include "rpc.h"

typedef struct fp_orch {
    char dir[256];
    char name[64]; /* fleet name (tag) */
    char url[64];  /* tcp://127.0.0.1:PORT */
    int http_port;
    pid_t pid; /* 0 = not running */
    rpc_client *cli;
    const char *app_exe;     /* NULL: fleet_stub_app */
    int real_app;            /* 1: real `sbd app` children (no --app-exe) */
    const char *idle_grace;  /* "1" unless set */
    const char *min_servers; /* NULL: none */
    const char *extra[16];   /* after `--`, NULL-terminated */
} fp_orch;

/** Temp dir, free ports, unique fleet name. 0 or -1. */
int fp_init(fp_orch *o, const char *tag);
/** Starts the orchestrator and waits (<= 20 s) for its Health. 0 or -1. */
int fp_start(fp_orch *o);
/** Signals the orchestrator only (its app servers are in their own
 * process groups) and reaps it (SIGKILL after 10 s). */
void fp_stop(fp_orch *o, int sig);
/** Stops everything: orchestrator, then every process carrying the tag
 * (SIGKILL, by pid), removes the temp dir. */
void fp_cleanup(fp_orch *o);

/** Live (not zombie) processes tagged SB_FLEET=name; pids into pids
 * (up to cap) if not NULL. */
int fp_count(const char *name, pid_t *pids, size_t cap);
/** Waits up to ms for fp_count == want; returns the last count. */
int fp_wait_count(const char *name, int want, int ms);

/** Assign: server id into id (64 bytes); returns the RPC code. */
int fp_assign(fp_orch *o, const char *user, char *id, char *ep);
int fp_release(fp_orch *o, const char *user);

/** GETs http://127.0.0.1:port/path; body (malloc'd) and HTTP status. */
char *fp_http_get(int port, const char *path, long *status);

void fp_sleep_ms(int ms);

#endif
