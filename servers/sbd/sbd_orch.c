/* sbd_orch.c: `sbd orchestrator` (the fleet service alone) and what its
 * flags (rows of sbd_flags.c) become: the orchestrator's config and an
 * app server's command line. The local driver starts app servers as `<this sbd>
 * app
 * --orchestrator URL --id ID` plus whatever follows `--` on the command
 * line; the ec2 driver takes its settings from --ec2-* flags or SB_EC2_*
 * environment variables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "orch_role.h"
#include "sb_log.h"
#include "sbd.h"

/* Unset ec2 settings from SB_EC2_* variables. */
static void ec2_env(orch_ec2_config *e)
{
    struct {
        const char **field, *var;
    } map[] = {{&e->image_id, "SB_EC2_IMAGE"},
               {&e->instance_type, "SB_EC2_TYPE"},
               {&e->subnet_id, "SB_EC2_SUBNET"},
               {&e->security_groups, "SB_EC2_SECURITY_GROUPS"},
               {&e->key_name, "SB_EC2_KEY_NAME"},
               {&e->instance_profile, "SB_EC2_INSTANCE_PROFILE"},
               {&e->app_args, "SB_EC2_APP_ARGS"}};

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (*map[i].field == NULL)
            *map[i].field = getenv(map[i].var);
}

int sbd_self_exe(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);

    if (n <= 0 || (size_t)n >= cap - 1)
        return -1;
    buf[n] = '\0';
    return 0;
}

int sbd_app_argv(const sbd_opts *o, const char *orch_url,
                 const char *const *extra, size_t nextra, sbd_argv *a)
{
    size_t n = 0;

    /* Always `EXE app ...`: an --app-exe that is another sbd build must
     * still run the app role (without the word it would start a whole
     * `sbd all` as a child); test stand-ins ignore the word. */
    if (o->orch.app_exe != NULL) {
        snprintf(a->exe, sizeof a->exe, "%s", o->orch.app_exe);
    } else if (sbd_self_exe(a->exe, sizeof a->exe) != 0) {
        sb_error("orchestrator", "cannot read /proc/self/exe");
        return -1;
    }
    a->v[n++] = a->exe;
    a->v[n++] = "app";
    snprintf(a->url, sizeof a->url, "%s", orch_url);
    a->v[n++] = "--orchestrator";
    a->v[n++] = a->url;
    a->v[n++] = "--id";
    a->v[n++] = "{id}";
    for (size_t i = 0; i < nextra; i++)
        if (n < SBD_ARGV_MAX)
            a->v[n++] = extra[i];
    for (int i = 0; i < o->nextra; i++)
        if (n < SBD_ARGV_MAX)
            a->v[n++] = o->extra[i];
    if (n >= SBD_ARGV_MAX) {
        sb_error("orchestrator", "too many app server arguments");
        return -1;
    }
    a->v[n] = NULL;
    return 0;
}

void sbd_orch_config(const sbd_opts *o, orch_config *c)
{
    const sbd_orch_opts *x = &o->orch;

    memset(c, 0, sizeof(*c));
    c->fleet_name = x->fleet_name;
    c->driver = x->driver == 1 ? "ec2" : "local";
    c->capacity = (uint32_t)o->capacity;
    c->min_servers = x->min_servers;
    c->max_servers = x->max_servers;
    c->spare_slots = x->spare_slots;
    c->idle_grace_ms = x->idle_grace_ms;
    c->launch_timeout_ms = x->launch_timeout_ms;
    c->ec2 = x->ec2;
    ec2_env(&c->ec2);
}

int sbd_run_orchestrator(const sbd_opts *o)
{
    char dir[4096];
    orch_config c;
    orch_role *r = NULL;
    sbd_argv av;
    rpc_tls tls;
    rpc_tls_files files;
    char admin[RPC_ADMIN_TOKEN_LEN + 1]; /* sb admin's, once it checks it */

    sbd_orch_config(o, &c);
    snprintf(dir, sizeof dir, "%s/orchestrator", o->data_dir);
    c.data_dir = dir;
    c.listen_url = o->draw_listen; /* tcp://127.0.0.1:P+2 by default */
    if (sbd_listen_tls(o, "orchestrator", c.listen_url, &tls, &files) != 0 ||
        sbd_admin_token(o, "orchestrator", admin) != 0)
        return -1;
    c.http_port = o->orch.http_port;
    c.http_host = strcmp(o->host, "0.0.0.0") == 0 ? "127.0.0.1" : o->host;
    if (sbd_app_argv(o, c.listen_url, NULL, 0, &av) != 0)
        return -1;
    c.app_argv = (const char *const *)av.v;
    /* libcurl's global state, once, before any thread (ec2 driver). */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (orch_role_start(&c, &r) != 0)
        return -1;
    sbd_wait_signal();
    /* The fleet keeps running: the next start adopts it (issue 4). Stop
     * it with `kill` on the app servers, or run `sbd all`. */
    orch_role_stop(r, 0);
    curl_global_cleanup();
    sb_info("sbd", "stopped");
    return 0;
}
