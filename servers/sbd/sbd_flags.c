/* sbd_flags.c: the table of sbd's flags (Redis's commands.def, not a
 * strcmp ladder) and what reads it: setting a value from text (command
 * line and config file alike), a role's --help, and --print-config.
 * A new flag is a row here: its roles, kind and field, and help. The
 * config file reader is in sbd_config.c, the roles in sbd_main.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sbd_flags.h"

#define O(f) offsetof(sbd_opts, f)
#define ORCH "all orchestrator"
#define DAEMONS                                                                \
    "all store login app orchestrator draw bus web" /* not tools               \
                                                     */

static const sbd_flag flags[] = {
    /* where things are */
    {"data-dir", "DIR", SBD_STR, O(data_dir), 0, 0, NULL,
     "all store draw orchestrator", "where the data lives", NULL},
    {"base-port", "P", SBD_INT, O(base_port), 1, 65535 - 7, NULL, DAEMONS,
     "default ports: login P, draw P+1, orchestrator P+2, store P+3, bus "
     "P+4/P+5",
     NULL},
    {"host", "IP", SBD_STR, O(host), 0, 0, NULL,
     "all login app draw bus orchestrator web", "the address to listen on",
     NULL},
    {"listen", "URL", SBD_STR, O(draw_listen), 0, 0, NULL,
     "all login store app draw orchestrator",
     "this role's own listen URL (all: the draw role's)", NULL},
    {"tls-dir", "DIR", SBD_STR, O(tls_dir), 0, 0, NULL, "certs store",
     "the deployment's certificates and credentials (certs: where to "
     "write them; `sbd certs DIR` makes them)",
     "none"},
    {"nng-cpus", "N", SBD_INT, O(nng_cpus), 0, 256, NULL, DAEMONS,
     "size nng's thread pools for N CPUs (0: this machine's); SB_NNG_CPUS "
     "overrides",
     NULL},
    /* login and sessions */
    {"pw-cost", "COST", SBD_CHOICE, O(pwcost), 0, 0,
     "interactive|moderate|fast", "all login", "Argon2id cost of new passwords",
     NULL},
    {"capacity", "N", SBD_INT, O(capacity), 1, 64, NULL, "all orchestrator app",
     "users per app server", NULL},
    {"session-idle-ms", "MS", SBD_INT, O(session_idle_ms), 0, 2000000000, NULL,
     "all app", "end a session with no call for MS (0: never)", NULL},
    {"client-idle-s", "SECS", SBD_SECS, O(client_idle_ms), 0, 0, NULL,
     "all login", "close a client connection with no call for SECS (0: never)",
     NULL},
    {"max-conns-per-addr", "N", SBD_INT, O(max_conns_per_addr), 0, 1000000,
     NULL, "all login",
     "client connections open at once from one address (0: no cap)", NULL},
    /* the draw service */
    {"pool-size", "N", SBD_INT, O(pool_size), 1, 100000000, NULL, "all draw",
     "numbers in a new loot-box pool", NULL},
    {"draw-engine", "ENGINE", SBD_CHOICE, O(draw_nng_tcp), 0, 0, "epoll|nng",
     "all draw",
     "who serves draw's tcp:// listener: one epoll thread, or nng's rep0",
     NULL},
    {"draw", "URL", SBD_STR, O(draw_url), 0, 0, NULL, "all app",
     "the draw service app servers call", "all: its own draw role; app: none"},
    /* what a role alone connects to */
    {"store", "URL", SBD_STR, O(store_url), 0, 0, NULL, "login app",
     "the store role's sb.store.Store (required)", "none"},
    {"orchestrator", "URL", SBD_STR, O(orch.url), 0, 0, NULL, "all login app",
     "the orchestrator to use", "all: its own; app: none, no fleet agent"},
    {"bus-in", "URL", SBD_STR, O(bus_in), 0, 0, NULL, "login app",
     "the bus role's publisher side", NULL},
    {"bus-out", "URL", SBD_STR, O(bus_out), 0, 0, NULL, "app",
     "the bus role's subscriber side", NULL},
    {"advertise", "HOST", SBD_STR, O(advertise), 0, 0, NULL, "app",
     "the address others use to reach this app server", "its listen address"},
    {"id", "ID", SBD_STR, O(app_id), 0, 63, NULL, "app certs",
     "this app server's id (certs: also write its credential, ID.cred)",
     "app: app-PID; certs: none"},
    {"instance-id", "ID", SBD_STR, O(orch.instance_id), 0, 0, NULL, "app",
     "the instance this app server runs on (the ec2 driver sets it)",
     "PID.STARTTIME"},
    /* the web client */
    {"web-port", "N", SBD_INT, O(web.port), 0, 65535, NULL, "all web",
     "the web client's port (0: none)", NULL},
    {"login", "URL", SBD_STR, O(web.login), 0, 0, NULL, "web",
     "the login server the web client speaks to", NULL},
    /* the orchestrator and its fleet */
    {"http-port", "N", SBD_INT, O(orch.http_port), 0, 65535, NULL, ORCH,
     "the status page's port (0: none)", NULL},
    {"min-servers", "N", SBD_U32, O(orch.min_servers), 0, 10000, NULL, ORCH,
     "app servers kept running when idle", NULL},
    {"max-servers", "N", SBD_U32, O(orch.max_servers), 1, 10000, NULL, ORCH,
     "most app servers at once", NULL},
    {"spare", "SLOTS", SBD_U32, O(orch.spare_slots), 0, 100000, NULL, ORCH,
     "free user slots kept ready", NULL},
    {"idle-grace", "SECS", SBD_SECS, O(orch.idle_grace_ms), 1, 0, NULL, ORCH,
     "stop an app server that has been empty that long", NULL},
    {"launch-timeout", "SECS", SBD_SECS, O(orch.launch_timeout_ms), 1, 0, NULL,
     ORCH, "give up on a launch not registered by then", NULL},
    {"driver", "DRIVER", SBD_CHOICE, O(orch.driver), 0, 0, "local|ec2", ORCH,
     "how app servers are started: child processes or EC2 instances", NULL},
    {"fleet-name", "NAME", SBD_STR, O(orch.fleet_name), 0, 0, NULL, ORCH,
     "the fleet's tag", "all: sbd-all-P; orchestrator: switchboard"},
    {"app-exe", "PATH", SBD_STR, O(orch.app_exe), 0, 0, NULL, ORCH,
     "run app servers as `PATH app ...`", "this sbd"},
    {"ec2-image", "AMI", SBD_STR, O(orch.ec2.image_id), 0, 0, NULL, ORCH,
     "ec2: the image (or SB_EC2_IMAGE)", "none"},
    {"ec2-type", "TYPE", SBD_STR, O(orch.ec2.instance_type), 0, 0, NULL, ORCH,
     "ec2: the instance type (or SB_EC2_TYPE)", "t3.micro"},
    {"ec2-subnet", "ID", SBD_STR, O(orch.ec2.subnet_id), 0, 0, NULL, ORCH,
     "ec2: the subnet (or SB_EC2_SUBNET)", "the default"},
    {"ec2-security-groups", "SG,..", SBD_STR, O(orch.ec2.security_groups), 0, 0,
     NULL, ORCH, "ec2: security groups (or SB_EC2_SECURITY_GROUPS)",
     "the default"},
    {"ec2-key-name", "KEY", SBD_STR, O(orch.ec2.key_name), 0, 0, NULL, ORCH,
     "ec2: the SSH key pair (or SB_EC2_KEY_NAME)", "none"},
    {"ec2-instance-profile", "NAME", SBD_STR, O(orch.ec2.instance_profile), 0,
     0, NULL, ORCH,
     "ec2: the IAM instance profile (or SB_EC2_INSTANCE_PROFILE)", "none"},
    {"ec2-app-args", "'ARGS'", SBD_STR, O(orch.ec2.app_args), 0, 0, NULL, ORCH,
     "ec2: words added to each instance's `sbd app` (or SB_EC2_APP_ARGS)",
     "none"},
    {"advertise-orchestrator", "URL", SBD_STR, O(orch.ec2.advertise), 0, 0,
     NULL, ORCH, "ec2: the orchestrator URL instances dial", "--listen"},
    /* not listed: for tests, or kept so old command lines still start */
    {"test-clock-skew-ms", "MS", SBD_INT, O(clock_skew_ms), -86400000, 86400000,
     NULL, "all login app", NULL, NULL},
    {"app-store", "MODE", SBD_CHOICE, O(apps_remote_store), 0, 0,
     "local|remote", "all", NULL, NULL},
};
#define NFLAGS (sizeof flags / sizeof flags[0])

const sbd_flag *sbd_flag_find(const char *name)
{
    for (size_t i = 0; i < NFLAGS; i++)
        if (strcmp(flags[i].name, name) == 0)
            return &flags[i];
    return NULL;
}

/* 1 when the space-separated list holds word. */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, word, n) == 0)
            return 1;
        p += len;
        p += strspn(p, " ");
    }
    return 0;
}

int sbd_flag_for_role(const sbd_flag *f, const char *role)
{
    return strcmp(f->roles, "*") == 0 || has_word(f->roles, role);
}

/* The index of v among "a|b|c", or -1. */
static int choice_index(const char *choices, const char *v)
{
    size_t n = strlen(v);
    int i = 0;

    for (const char *p = choices;; i++) {
        size_t len = strcspn(p, "|");
        if (len == n && strncmp(p, v, n) == 0)
            return i;
        if (p[len] == '\0')
            return -1;
        p += len + 1;
    }
}

static int set_number(const sbd_flag *f, const char *v, void *field, char *err,
                      size_t n)
{
    char *end;
    long long x = strtoll(v, &end, 10);

    if (*v == '\0' || *end != '\0' || x < f->lo || x > f->hi) {
        snprintf(err, n, "a whole number from %ld to %ld", f->lo, f->hi);
        return -1;
    }
    if (f->kind == SBD_INT)
        *(int *)field = (int)x;
    else
        *(uint32_t *)field = (uint32_t)x;
    return 0;
}

/* Seconds with an optional fraction ("30", "0.5") into ms. */
static int set_secs(const sbd_flag *f, const char *v, uint32_t *ms, char *err,
                    size_t n)
{
    char *end;
    double x = strtod(v, &end);

    if (*v == '\0' || *end != '\0' || !(x >= 0) || x > 86400 ||
        x * 1000 + 0.5 < (double)f->lo) {
        snprintf(err, n, "seconds, more than 0 and at most 86400 (\"0.5\")");
        return -1;
    }
    *ms = (uint32_t)(x * 1000 + 0.5);
    return 0;
}

int sbd_flag_set(const sbd_flag *f, const char *v, sbd_opts *o, char *err,
                 size_t n)
{
    void *field = (char *)o + f->off;
    int i;

    switch (f->kind) {
    case SBD_STR:
        if (v[0] == '\0' || (f->hi > 0 && strlen(v) > (size_t)f->hi)) {
            if (f->hi > 0)
                snprintf(err, n, "1 to %ld characters", f->hi);
            else
                snprintf(err, n, "not empty");
            return -1;
        }
        *(const char **)field = v;
        return 0;
    case SBD_INT:
    case SBD_U32:
        return set_number(f, v, field, err, n);
    case SBD_SECS:
        return set_secs(f, v, field, err, n);
    case SBD_CHOICE:
        if ((i = choice_index(f->choices, v)) < 0) {
            snprintf(err, n, "one of %s", f->choices);
            return -1;
        }
        *(int *)field = i;
        return 0;
    }
    return -1;
}

/* The value as text; 0 when it is an unset string. */
static int format(const sbd_flag *f, const sbd_opts *o, char *buf, size_t n)
{
    const void *field = (const char *)o + f->off;
    const char *s;
    int i;

    switch (f->kind) {
    case SBD_STR:
        s = *(const char *const *)field;
        snprintf(buf, n, "%s", s != NULL ? s : "");
        return s != NULL;
    case SBD_INT:
        snprintf(buf, n, "%d", *(const int *)field);
        return 1;
    case SBD_U32:
        snprintf(buf, n, "%u", *(const uint32_t *)field);
        return 1;
    case SBD_SECS:
        snprintf(buf, n, "%g", *(const uint32_t *)field / 1000.0);
        return 1;
    case SBD_CHOICE:
        s = f->choices;
        for (i = *(const int *)field; i > 0 && strchr(s, '|') != NULL; i--)
            s = strchr(s, '|') + 1;
        snprintf(buf, n, "%.*s", (int)strcspn(s, "|"), s);
        return 1;
    }
    return 0;
}

/* "  LEFT  TEXT" with TEXT wrapped at 79 columns under itself. */
static void help_line(FILE *out, const char *left, const char *text)
{
    enum { COL = 28, WIDTH = 79 };
    int col = fprintf(out, "  %s", left);

    if (col >= COL)
        col = fprintf(out, "\n") - 1;
    for (const char *p = text; *p != '\0';) {
        size_t w = strcspn(p, " ");
        if (col < COL) {
            col += fprintf(out, "%*s", COL - col, "");
        } else if (col + 1 + (int)w > WIDTH) {
            col = fprintf(out, "\n%*s", COL, "") - 1;
        } else {
            col += fprintf(out, " ");
        }
        col += fprintf(out, "%.*s", (int)w, p);
        p += w;
        p += strspn(p, " ");
    }
    fputc('\n', out);
}

void sbd_flags_help(FILE *out, const char *role, const sbd_opts *defaults)
{
    char val[512], left[96], text[1024];

    for (size_t i = 0; i < NFLAGS; i++) {
        const sbd_flag *f = &flags[i];
        if (f->help == NULL || !sbd_flag_for_role(f, role))
            continue;
        snprintf(left, sizeof left, "--%s %s", f->name,
                 f->kind == SBD_CHOICE ? f->choices : f->metavar);
        if (format(f, defaults, val, sizeof val))
            snprintf(text, sizeof text, "%s (%s)", f->help, val);
        else if (f->unset != NULL)
            snprintf(text, sizeof text, "%s (%s)", f->help, f->unset);
        else
            snprintf(text, sizeof text, "%s", f->help);
        help_line(out, left, text);
    }
}

void sbd_flags_print_config(FILE *out, const char *role, const sbd_opts *o,
                            const sbd_opts *defaults)
{
    char val[512], dval[512];

    for (size_t i = 0; i < NFLAGS; i++) {
        const sbd_flag *f = &flags[i];
        int set = format(f, o, val, sizeof val);
        if (!sbd_flag_for_role(f, role))
            continue;
        if (f->help == NULL && (format(f, defaults, dval, sizeof dval) == set &&
                                strcmp(val, dval) == 0))
            continue;
        if (!set)
            fprintf(out, "# %s =\n", f->name);
        else if (strpbrk(val, "#\"") != NULL || val[0] == ' ' ||
                 val[strlen(val) - 1] == ' ')
            fprintf(out, "%s = \"%s\"\n", f->name, val);
        else
            fprintf(out, "%s = %s\n", f->name, val);
    }
}
