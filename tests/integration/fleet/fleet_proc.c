/* fleet_proc.c: the fleet tests' process helpers (fleet_proc.h). */
#include "fleet_proc.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "health.pb-c.h"
#include "health.sb.h"
#include "sb_netutil.h"

void fp_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

int fp_init(fp_orch *o, const char *tag)
{
    int port = sb_free_port();

    memset(o, 0, sizeof(*o));
    snprintf(o->dir, sizeof o->dir, "/tmp/sbfleet-%s-XXXXXX", tag);
    if (mkdtemp(o->dir) == NULL || port < 0)
        return -1;
    snprintf(o->name, sizeof o->name, "fleettest-%s-%d", tag, (int)getpid());
    snprintf(o->url, sizeof o->url, "tcp://127.0.0.1:%d", port);
    o->http_port = sb_free_port();
    return o->http_port < 0 ? -1 : 0;
}

static void exec_orch(fp_orch *o)
{
    char sbd[512], stub[512], http[16];
    const char *bin = getenv("SB_BIN_DIR");
    const char *argv[64];
    int n = 0;

    snprintf(sbd, sizeof sbd, "%s/sbd", bin ? bin : ".");
    snprintf(stub, sizeof stub, "%s/fleet_stub_app", bin ? bin : ".");
    snprintf(http, sizeof http, "%d", o->http_port);
    argv[n++] = sbd;
    argv[n++] = "orchestrator";
    argv[n++] = "--data-dir";
    argv[n++] = o->dir;
    argv[n++] = "--listen";
    argv[n++] = o->url;
    argv[n++] = "--http-port";
    argv[n++] = http;
    argv[n++] = "--fleet-name";
    argv[n++] = o->name;
    argv[n++] = "--idle-grace";
    argv[n++] = o->idle_grace ? o->idle_grace : "1";
    if (o->min_servers != NULL) {
        argv[n++] = "--min-servers";
        argv[n++] = o->min_servers;
    }
    if (!o->real_app) {
        argv[n++] = "--app-exe";
        argv[n++] = o->app_exe ? o->app_exe : stub;
    }
    if (o->extra[0] != NULL) {
        argv[n++] = "--";
        for (int i = 0; o->extra[i] != NULL && n < 62; i++)
            argv[n++] = o->extra[i];
    }
    argv[n] = NULL;
    execv(sbd, (char *const *)argv);
    _exit(127);
}

static int healthy(fp_orch *o)
{
    Sb__Health__CheckRequest req = SB__HEALTH__CHECK_REQUEST__INIT;
    Sb__Health__CheckReply *reply = NULL;
    rpc_opts opts = {.timeout_ms = 500, .no_retry = 1};
    rpc_status st;

    if (sb_health_Health_Check(o->cli, &req, &reply, &opts, &st) != RPC_OK)
        return 0;
    protobuf_c_message_free_unpacked(&reply->base, NULL);
    return 1;
}

int fp_start(fp_orch *o)
{
    rpc_client_config cc = {.timeout_ms = 20000};

    if (o->cli == NULL && rpc_client_open(&o->cli, o->url, &cc) != 0)
        return -1;
    if ((o->pid = fork()) < 0)
        return -1;
    if (o->pid == 0)
        exec_orch(o);
    for (int i = 0; i < 200; i++) {
        if (waitpid(o->pid, NULL, WNOHANG) == o->pid) {
            fprintf(stderr, "fleet test: the orchestrator exited\n");
            o->pid = 0;
            return -1;
        }
        if (healthy(o))
            return 0;
        fp_sleep_ms(100);
    }
    fprintf(stderr, "fleet test: the orchestrator did not come up\n");
    return -1;
}

void fp_stop(fp_orch *o, int sig)
{
    if (o->pid <= 0)
        return;
    kill(o->pid, sig);
    for (int i = 0; i < 200; i++) {
        if (waitpid(o->pid, NULL, WNOHANG) == o->pid) {
            o->pid = 0;
            return;
        }
        fp_sleep_ms(50);
    }
    kill(o->pid, SIGKILL);
    waitpid(o->pid, NULL, 0);
    o->pid = 0;
}

/* 1 if /proc/PID/environ holds SB_FLEET=name and the process is live. */
static int tagged(int pid, const char *name)
{
    char path[64], want[128], buf[65536], st[512], *p;
    size_t n;
    FILE *fp;
    int hit = 0;

    snprintf(path, sizeof path, "/proc/%d/environ", pid);
    if ((fp = fopen(path, "r")) == NULL)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    snprintf(want, sizeof want, "SB_FLEET=%s", name);
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
        if (strcmp(buf + i, want) == 0)
            hit = 1;
    if (!hit)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if ((fp = fopen(path, "r")) == NULL)
        return 0;
    n = fread(st, 1, sizeof st - 1, fp);
    fclose(fp);
    st[n] = '\0';
    p = strrchr(st, ')');
    return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

int fp_count(const char *name, pid_t *pids, size_t cap)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        int pid = atoi(de->d_name);

        if (pid > 0 && tagged(pid, name)) {
            if (pids != NULL && (size_t)n < cap)
                pids[n] = pid;
            n++;
        }
    }
    closedir(d);
    return n;
}

int fp_wait_count(const char *name, int want, int ms)
{
    int n = -1;

    for (int t = 0; t <= ms; t += 100) {
        if ((n = fp_count(name, NULL, 0)) == want)
            break;
        fp_sleep_ms(100);
    }
    return n;
}

void fp_cleanup(fp_orch *o)
{
    pid_t pids[256];
    char cmd[300];
    int n;

    fp_stop(o, SIGKILL);
    n = fp_count(o->name, pids, 256);
    for (int i = 0; i < n && i < 256; i++)
        kill(pids[i], SIGKILL); /* ours, by pid: tagged with our name */
    rpc_client_close(o->cli);
    o->cli = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", o->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fleet test: could not remove %s\n", o->dir);
}

int fp_assign(fp_orch *o, const char *user, char *id, char *ep)
{
    Sb__Fleet__AssignRequest req = SB__FLEET__ASSIGN_REQUEST__INIT;
    Sb__Fleet__AssignReply *reply = NULL;
    rpc_status st;
    int rc;

    req.user = (char *)user;
    rc = sb_fleet_Orchestrator_Assign(o->cli, &req, &reply, NULL, &st);
    if (rc != RPC_OK) {
        fprintf(stderr, "fleet test: Assign %s: %s %s\n", user,
                rpc_code_name(rc), st.message);
        return rc;
    }
    if (id != NULL)
        snprintf(id, 64, "%s", reply->server_id);
    if (ep != NULL)
        snprintf(ep, 256, "%s", reply->endpoint);
    protobuf_c_message_free_unpacked(&reply->base, NULL);
    return RPC_OK;
}

int fp_release(fp_orch *o, const char *user)
{
    Sb__Fleet__ReleaseRequest req = SB__FLEET__RELEASE_REQUEST__INIT;
    Sb__Fleet__ReleaseReply *reply = NULL;
    rpc_status st;
    int rc;

    req.user = (char *)user;
    rc = sb_fleet_Orchestrator_Release(o->cli, &req, &reply, NULL, &st);
    if (rc == RPC_OK)
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    return rc;
}

typedef struct body {
    char *p;
    size_t n;
} body;

static size_t on_data(char *d, size_t sz, size_t nm, void *arg)
{
    body *b = arg;
    char *p = realloc(b->p, b->n + sz * nm + 1);

    if (p == NULL)
        return 0;
    memcpy(p + b->n, d, sz * nm);
    b->n += sz * nm;
    p[b->n] = '\0';
    b->p = p;
    return sz * nm;
}

char *fp_http_get(int port, const char *path, long *status)
{
    char url[256];
    body b = {0};
    CURL *c = curl_easy_init();

    *status = 0;
    if (c == NULL)
        return NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    return b.p;
}
