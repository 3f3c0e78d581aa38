/* fleet_stub_app.c: a stand-in app server for the orchestrator tests: a
 * real RPC server on 127.0.0.1 (Health only) plus the real app agent
 * (servers/app/app_agent.c), started by the orchestrator's local driver
 * like `sbd app`. Stops on SIGTERM (deregistering), when evicted, or
 * after 300 s at most, so a broken test leaves nothing behind for long.
 * Usage: fleet_stub_app --orchestrator URL --id ID [other flags ignored] */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app_agent.h"
#include "rpc.h"
#include "sb_log.h"

static void evicted(void *arg, const char *why)
{
    (void)arg;
    sb_warn("stub", "evicted (%s): stopping", why);
    kill(getpid(), SIGTERM);
}

int main(int argc, char **argv)
{
    const char *orch = NULL, *id = NULL;
    rpc_server_config sc = {.name = "stub-app", .workers = 1, .contexts = 4};
    rpc_server *srv = NULL;
    app_agent *agent = NULL;
    struct timespec limit = {300, 0};
    sigset_t set;
    int rc = 1;

    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--orchestrator") == 0)
            orch = argv[++i];
        else if (strcmp(argv[i], "--id") == 0)
            id = argv[++i];
    }
    if (orch == NULL || id == NULL) {
        fprintf(stderr, "usage: fleet_stub_app --orchestrator URL --id ID\n");
        return 2;
    }
    if (app_agent_die_with_parent() != 0)
        return 1;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rpc_server_create(&srv, &sc) != 0 ||
        rpc_server_listen(srv, "tcp://127.0.0.1:0") != 0 ||
        rpc_server_start(srv) != 0)
        goto out;
    app_agent_config ac = {.orchestrator = orch,
                           .server_id = id,
                           .endpoint = rpc_server_url(srv, 0),
                           .evicted = evicted};
    if (app_agent_start(&ac, &agent) != 0)
        goto out;
    sigtimedwait(&set, NULL, &limit);
    rc = 0;
out:
    app_agent_stop(agent, 1);
    rpc_server_destroy(srv);
    return rc;
}
