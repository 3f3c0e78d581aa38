/* app_agent.c: the app server's orchestrator agent (app_agent.h). One
 * thread: Register until accepted, then a Heartbeat every period; a reply
 * REREGISTER sends Register again at once, DRAIN is logged (the server
 * keeps serving its users until the orchestrator stops it), and
 * FAILED_PRECONDITION (declared dead or terminated: its users have moved)
 * calls the evicted callback. An unreachable orchestrator is retried
 * forever: the app server keeps serving the users it has meanwhile. */
#include "app_agent.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "fleet.pb-c.h"
#include "fleet.sb.h"
#include "rpc.h"
#include "sb_log.h"

struct app_agent {
    app_agent_config c;
    char id[64], endpoint[256], instance[128];
    rpc_client *cli;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping, registered, evicted;
    int last_code; /* for logging once per change */
};

/* "PID.STARTTIME" from /proc/self/stat (field 22), as the local driver. */
static void self_instance(char *buf, size_t cap)
{
    char stat[1024], *p;
    unsigned long long start = 0;
    FILE *fp = fopen("/proc/self/stat", "r");
    size_t n = 0;

    if (fp != NULL) {
        n = fread(stat, 1, sizeof(stat) - 1, fp);
        fclose(fp);
    }
    stat[n] = '\0';
    if ((p = strrchr(stat, ')')) != NULL)
        sscanf(p + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u "
               "%*u %*d %*d %*d %*d %*d %*d %llu",
               &start);
    snprintf(buf, cap, "%d.%llu", (int)getpid(), start);
}

/* Logs a failure once per distinct code, so a long outage is one line. */
static void note(app_agent *a, const char *what, const rpc_status *st)
{
    if (st->code == a->last_code)
        return;
    a->last_code = st->code;
    if (st->code == RPC_OK)
        sb_info("agent", "%s: orchestrator reachable again", a->id);
    else
        sb_warn("agent", "%s: %s failed: %s %s (retrying every period)", a->id,
                what, rpc_code_name(st->code), st->message);
}

static void do_register(app_agent *a)
{
    Sb__Fleet__RegisterRequest req = SB__FLEET__REGISTER_REQUEST__INIT;
    Sb__Fleet__RegisterReply *reply = NULL;
    rpc_opts opts = {.timeout_ms = 2000};
    rpc_status st = {0};

    req.server_id = a->id;
    req.endpoint = a->endpoint;
    req.capacity = a->c.capacity;
    req.instance_id = a->instance;
    if (sb_fleet_Orchestrator_RegisterServer(a->cli, &req, &reply, &opts,
                                             &st) == RPC_OK) {
        a->registered = 1;
        sb_info("agent", "%s registered with %s (%s, instance %s)", a->id,
                a->c.orchestrator, a->endpoint, a->instance);
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    } else if (st.code == RPC_FAILED_PRECONDITION ||
               st.code == RPC_INVALID_ARGUMENT) {
        a->evicted = 1;
    }
    note(a, "Register", &st);
    if (a->evicted && a->c.evicted != NULL)
        a->c.evicted(a->c.evicted_arg, st.message);
}

static void do_heartbeat(app_agent *a)
{
    Sb__Fleet__HeartbeatRequest req = SB__FLEET__HEARTBEAT_REQUEST__INIT;
    Sb__Fleet__HeartbeatReply *reply = NULL;
    rpc_opts opts = {.timeout_ms = 900, .no_retry = 1};
    rpc_status st = {0};

    req.server_id = a->id;
    req.users = a->c.users != NULL ? a->c.users(a->c.users_arg) : 0;
    if (sb_fleet_Orchestrator_Heartbeat(a->cli, &req, &reply, &opts, &st) ==
        RPC_OK) {
        if (reply->action == SB__FLEET__HEARTBEAT_REPLY__ACTION__REREGISTER) {
            sb_info("agent",
                    "%s: orchestrator does not know us: "
                    "registering again",
                    a->id);
            a->registered = 0;
        } else if (reply->action == SB__FLEET__HEARTBEAT_REPLY__ACTION__DRAIN) {
            sb_debug("agent", "%s: draining (idle past grace)", a->id);
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    } else if (st.code == RPC_FAILED_PRECONDITION) {
        a->evicted = 1;
        sb_warn("agent", "%s: evicted by the orchestrator: %s", a->id,
                st.message);
        if (a->c.evicted != NULL)
            a->c.evicted(a->c.evicted_arg, st.message);
    }
    note(a, "Heartbeat", &st);
}

/* Sleeps one period (half when unregistered) unless stopped meanwhile.
 * Called with a->mu held. */
static void nap(app_agent *a, uint32_t period)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)(a->registered ? period : period / 2) * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    if (!a->stopping)
        pthread_cond_timedwait(&a->cv, &a->mu, &ts);
}

static void *agent_main(void *arg)
{
    app_agent *a = arg;
    uint32_t period = a->c.heartbeat_ms ? a->c.heartbeat_ms : 1000;

    pthread_mutex_lock(&a->mu);
    while (!a->stopping && !a->evicted) {
        pthread_mutex_unlock(&a->mu);
        if (!a->registered)
            do_register(a);
        if (a->registered && !a->evicted)
            do_heartbeat(a);
        pthread_mutex_lock(&a->mu);
        if (a->stopping || a->evicted)
            break;
        /* Re-register at once when the orchestrator forgot us. */
        if (a->registered)
            nap(a, period);
        else if (a->last_code != RPC_OK)
            nap(a, period);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

int app_agent_registered(app_agent *a)
{
    return a->registered;
}

static int copy(char *dst, size_t cap, const char *src)
{
    if (src == NULL || src[0] == '\0' || strlen(src) >= cap)
        return EINVAL;
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

int app_agent_start(const app_agent_config *c, app_agent **out)
{
    rpc_client_config cc = {.timeout_ms = 2000, .max_retries = 1};
    app_agent *a;
    int rv;

    *out = NULL;
    if (c->orchestrator == NULL || c->orchestrator[0] == '\0')
        return EINVAL;
    if ((a = calloc(1, sizeof(*a))) == NULL)
        return ENOMEM;
    a->c = *c;
    a->last_code = RPC_OK;
    if (copy(a->id, sizeof a->id, c->server_id) ||
        copy(a->endpoint, sizeof a->endpoint, c->endpoint)) {
        free(a);
        return EINVAL;
    }
    if (c->instance_id != NULL && c->instance_id[0] != '\0')
        rv = copy(a->instance, sizeof a->instance, c->instance_id);
    else
        self_instance(a->instance, sizeof a->instance), rv = 0;
    if (rv != 0 || (rv = rpc_client_open(&a->cli, c->orchestrator, &cc))) {
        free(a);
        return rv;
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if ((rv = pthread_create(&a->thread, NULL, agent_main, a)) != 0) {
        rpc_client_close(a->cli);
        free(a);
        return rv;
    }
    *out = a;
    return 0;
}

int app_agent_release(app_agent *a, const char *user)
{
    Sb__Fleet__ReleaseRequest req = SB__FLEET__RELEASE_REQUEST__INIT;
    Sb__Fleet__ReleaseReply *reply = NULL;
    rpc_opts opts = {.timeout_ms = 1000};
    rpc_status st = {0};
    int rc;

    req.user = (char *)user;
    rc = sb_fleet_Orchestrator_Release(a->cli, &req, &reply, &opts, &st);
    if (rc == RPC_OK)
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    else
        sb_warn("agent", "%s: release of %s failed: %s %s", a->id, user,
                rpc_code_name(rc), st.message);
    return rc;
}

void app_agent_stop(app_agent *a, int deregister)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    a->stopping = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    if (deregister && a->registered && !a->evicted) {
        Sb__Fleet__DeregisterRequest req = SB__FLEET__DEREGISTER_REQUEST__INIT;
        Sb__Fleet__DeregisterReply *reply = NULL;
        rpc_opts opts = {.timeout_ms = 1000, .no_retry = 1};
        rpc_status st = {0};

        req.server_id = a->id;
        if (sb_fleet_Orchestrator_DeregisterServer(a->cli, &req, &reply, &opts,
                                                   &st) == RPC_OK) {
            sb_info("agent", "%s deregistered", a->id);
            protobuf_c_message_free_unpacked(&reply->base, NULL);
        } else {
            sb_warn("agent", "%s: deregister failed: %s", a->id, st.message);
        }
    }
    rpc_client_close(a->cli);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

int app_agent_die_with_parent(void)
{
    const char *v = getenv("SB_PARENT_PID");
    long want;

    if (v == NULL || v[0] == '\0')
        return 0;
    want = strtol(v, NULL, 10);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    /* The parent may have died before prctl: then we were reparented. */
    if (want > 0 && getppid() != (pid_t)want)
        return -1;
    return 0;
}
