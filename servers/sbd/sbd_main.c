/* sbd_main.c: the Switchboard daemon. One binary, one role per process or
 * every role in one (`sbd all`, the default). The roles are a table
 * (name, entry point, the defaults it fills, its help); the flags are
 * another (sbd_flags.c). main reads the role, then the config file, then
 * the flags over it, fills the role's defaults, and runs the role until
 * SIGINT/SIGTERM. A new role is a row here and its flags' rows there. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "sbd.h"
#include "sbd_flags.h"

#ifndef SB_VERSION
#define SB_VERSION "unknown"
#endif

typedef struct sbd_role {
    const char *name;
    int (*run)(const sbd_opts *o);
    void (*defaults)(sbd_opts *o); /* fills what the flags left unset */
    const char *help;              /* one line, for the role list */
    const char *word; /* a tool's one argument (`sbd certs DIR`): its
                         metavar; NULL: a daemon, no argument */
} sbd_role;

/* Sets the string *field, when unset, to a printf-formatted default kept
 * in o->defaults[slot]. */
static void dflt(sbd_opts *o, int slot, const char **field, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
static void dflt(sbd_opts *o, int slot, const char **field, const char *fmt,
                 ...)
{
    va_list ap;

    if (*field != NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(o->defaults[slot], sizeof o->defaults[slot], fmt, ap);
    va_end(ap);
    *field = o->defaults[slot];
}

/* Others reach a wildcard listener on loopback. */
static const char *reach(const sbd_opts *o)
{
    return strcmp(o->host, "0.0.0.0") == 0 ? "127.0.0.1" : o->host;
}

static void d_all(sbd_opts *o)
{
    dflt(o, 0, &o->draw_listen, "tcp://%s:%d", o->host, o->base_port + 1);
    /* README: the web client is on 8080 with the default ports (P+7 with
     * --base-port), the status page on P+6 (8894). */
    if (o->orch.http_port < 0)
        o->orch.http_port = o->base_port + 6;
    if (o->web.port < 0)
        o->web.port = o->base_port == 8888 ? 8080 : o->base_port + 7;
}

static void d_login(sbd_opts *o)
{
    dflt(o, 0, &o->draw_listen, "tcp://%s:%d", o->host, o->base_port);
    dflt(o, 1, &o->bus_in, "tcp://127.0.0.1:%d", o->base_port + 4);
    dflt(o, 2, &o->orch.url, "tcp://127.0.0.1:%d", o->base_port + 2);
}

static void d_store(sbd_opts *o)
{
    dflt(o, 0, &o->draw_listen, "tcp://127.0.0.1:%d", o->base_port + 3);
}

static void d_app(sbd_opts *o)
{
    dflt(o, 0, &o->draw_listen, "tcp://%s:0", reach(o));
    dflt(o, 1, &o->bus_in, "tcp://127.0.0.1:%d", o->base_port + 4);
    dflt(o, 2, &o->bus_out, "tcp://127.0.0.1:%d", o->base_port + 5);
    /* ten users, a low call rate: more task threads than it keeps busy
     * cost a context switch per hop inside nng */
    if (o->nng_cpus < 0)
        o->nng_cpus = 1;
}

static void d_orch(sbd_opts *o)
{
    dflt(o, 0, &o->draw_listen, "tcp://127.0.0.1:%d", o->base_port + 2);
    if (o->orch.http_port < 0)
        o->orch.http_port = o->base_port + 6;
}

static void d_web(sbd_opts *o)
{
    dflt(o, 0, &o->web.login, "tcp://127.0.0.1:%d", o->base_port);
    if (o->web.port < 0)
        o->web.port = 8080;
}

static void d_draw(sbd_opts *o)
{
    dflt(o, 0, &o->draw_listen, "tcp://%s:%d", o->host, o->base_port + 1);
}

static const sbd_role roles[] = {
    {"all", sbd_run_all, d_all,
     "every role in one process, app servers as children (default)"},
    {"store", sbd_run_store, d_store,
     "the store (DIR/store), served to login and app servers"},
    {"login", sbd_run_login, d_login, "the login endpoint over a remote store"},
    {"app", sbd_run_app, d_app, "one app server over a remote store"},
    {"orchestrator", sbd_run_orchestrator, d_orch,
     "the fleet service and its status page"},
    {"draw", sbd_run_draw, d_draw, "the loot-box pool"},
    {"bus", sbd_run_bus, NULL,
     "the pub/sub forwarder on P+4 (in) and P+5 (out)"},
    {"web", sbd_run_web, d_web,
     "the web client alone, a client of --login URL (tcp://127.0.0.1:P)"},
    {"certs", sbd_run_certs, NULL,
     "make a deployment's CA, certificates, keys and credentials in DIR",
     "DIR"},
};
#define NROLES (sizeof roles / sizeof roles[0])

static const sbd_role *role_find(const char *name)
{
    for (size_t i = 0; i < NROLES; i++)
        if (strcmp(name, roles[i].name) == 0)
            return &roles[i];
    return NULL;
}

static void defaults_init(sbd_opts *o)
{
    *o = (sbd_opts){.data_dir = "./data",
                    .base_port = 8888,
                    .host = "0.0.0.0",
                    .capacity = 10,
                    .pool_size = 100000,
                    .pwcost = STORE_PW_INTERACTIVE,
                    .session_idle_ms = 30 * 60 * 1000,
                    .client_idle_ms = 5 * 60 * 1000,
                    .max_conns_per_addr = 1024,
                    .nng_cpus = -1,
                    .orch = {.max_servers = 100,
                             .idle_grace_ms = 30000,
                             .launch_timeout_ms = 15000,
                             .http_port = -1},
                    .web = {.port = -1}};
}

/* Fills what the role leaves to defaults; -1 (the machine's) is 0. */
static void role_defaults(const sbd_role *r, sbd_opts *o)
{
    if (r->defaults != NULL)
        r->defaults(o);
    if (o->nng_cpus < 0)
        o->nng_cpus = 0;
}

static void role_list(FILE *f)
{
    for (size_t i = 0; i < NROLES; i++)
        fprintf(f, "  %-13s %s\n", roles[i].name, roles[i].help);
}

static void usage(FILE *f, const sbd_role *r, int given)
{
    sbd_opts d;

    defaults_init(&d);
    role_defaults(r, &d);
    if (!given) {
        fputs("usage: sbd [ROLE] [FLAGS]  one role, or every role in one "
              "process\n"
              "       sbd IP PORT         the course's form: --host IP "
              "--base-port PORT\n\nRoles:\n",
              f);
        role_list(f);
        fputs("\nFlags of sbd all (`sbd ROLE --help`: a role's own):\n", f);
    } else {
        fprintf(f, "usage: sbd %s%s%s [FLAGS]\nsbd %s: %s.\n\nFlags:\n",
                r->name, r->word ? " " : "", r->word ? r->word : "", r->name,
                r->help);
    }
    sbd_flags_help(f, r->name, &d);
    if (strcmp(r->name, "orchestrator") == 0)
        fputs("  -- WORDS...               passed on to every app server it "
              "starts\n",
              f);
    fputs("  --config FILE             settings as `name = value` lines; "
          "flags override\n"
          "                            them\n"
          "  --print-config            print the settings in effect as a "
          "config file; exit\n"
          "  --version, --help\n\n",
          f);
    if (r->word != NULL) { /* a tool */
        fputs("It never replaces a file: run it again on DIR to make only "
              "what is missing.\nSecrets are written 0600; docs/trust.md "
              "says which host needs which file.\n",
              f);
        return;
    }
    fputs("Ports: login P, draw P+1, orchestrator P+2, store P+3, bus "
          "P+4/P+5, the\nstatus page P+6 (P is --base-port); the web client "
          "on 8080 with the default\nports, else on P+7.\n",
          f);
    if (sbd_flag_for_role(sbd_flag_find("data-dir"), r->name))
        fputs("Data in --data-dir: ./data is relative to where sbd starts; "
              "remove it (sbd\nstopped) to start clean.\n",
              f);
    fputs("Logs on stderr, level from SB_LOG (debug, info, warn, error, "
          "quiet). Stops\ngracefully on SIGINT or SIGTERM.\n",
          f);
}

/* What the command line says, before it is applied. */
typedef struct sbd_args {
    const char *words[3];
    int nwords;
    const char *config;
    int help, version, print_config;
    const char *keys[128], *vals[128];
    int nflags;
} sbd_args;

/* "--name value" or "--name=value" at argv[*i]. 0, or 2 (printed). */
static int take_flag(int argc, char **argv, int *i, sbd_args *a)
{
    char name[64];
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '='), *v;
    size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);

    snprintf(name, sizeof name, "%.*s", (int)len, arg);
    if (strcmp(name, "config") != 0 && sbd_flag_find(name) == NULL) {
        fprintf(stderr, "sbd: unknown option --%s (sbd --help lists them)\n",
                name);
        return 2;
    }
    if (eq != NULL)
        v = eq + 1;
    else if (*i + 1 < argc)
        v = argv[++*i];
    else {
        fprintf(stderr, "sbd: --%s needs a value (sbd --help)\n", name);
        return 2;
    }
    if (strcmp(name, "config") == 0) {
        a->config = v;
    } else if (a->nflags < 128) {
        a->keys[a->nflags] = argv[*i - (eq == NULL)] + 2;
        a->vals[a->nflags++] = v;
    }
    return 0;
}

static int parse_args(int argc, char **argv, sbd_args *a, sbd_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (strcmp(w, "--") == 0) {
            o->extra = argv + i + 1;
            o->nextra = argc - i - 1;
            break;
        }
        if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0)
            a->help = 1;
        else if (strcmp(w, "--version") == 0 || strcmp(w, "-V") == 0)
            a->version = 1;
        else if (strcmp(w, "--print-config") == 0)
            a->print_config = 1;
        else if (strncmp(w, "--", 2) == 0) {
            if (take_flag(argc, argv, &i, a) != 0)
                return 2;
        } else if (w[0] == '-') {
            fprintf(stderr, "sbd: unknown option %s (sbd --help lists them)\n",
                    w);
            return 2;
        } else if (a->nwords < 3)
            a->words[a->nwords++] = w;
        else {
            fprintf(stderr, "sbd: unexpected argument '%s' (sbd --help)\n", w);
            return 2;
        }
    }
    return 0;
}

static int parse_port(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < 1 || v > 65535 - 7)
        return -1;
    *out = (int)v;
    return 0;
}

/* The role named by the words: ROLE, nothing (all), or the course's
 * IP PORT. NULL when they name none (printed). */
static const sbd_role *pick_role(const sbd_args *a, sbd_opts *o)
{
    const sbd_role *r = a->nwords > 0 ? role_find(a->words[0]) : &roles[0];

    if (r != NULL && a->nwords <= 1)
        return r;
    if (r != NULL && r->word != NULL && a->nwords == 2) {
        o->tls_dir = a->words[1]; /* sbd certs DIR; --tls-dir overrides */
        return r;
    }
    if (r != NULL) {
        fprintf(stderr, "sbd: unexpected argument '%s' after the role %s\n",
                a->words[1], r->name);
        return NULL;
    }
    if (a->nwords == 2 && parse_port(a->words[1], &o->base_port) == 0) {
        o->host = a->words[0]; /* the course form */
        return &roles[0];
    }
    if (a->nwords == 2)
        fprintf(stderr, "sbd: bad port '%s' in `sbd IP PORT` (1..%d)\n",
                a->words[1], 65535 - 7);
    else
        fprintf(stderr, "sbd: unknown role '%s'; the roles are:\n",
                a->words[0]);
    if (a->nwords != 2) {
        role_list(stderr);
        fputs("or the course's form: sbd IP PORT\n", stderr);
    }
    return NULL;
}

/* The command line's flags over o. 0, or 2 (printed). */
static int apply_flags(const sbd_args *a, const sbd_role *r, sbd_opts *o)
{
    char name[64], err[160];

    for (int i = 0; i < a->nflags; i++) {
        const char *k = a->keys[i];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(k, "="), k);
        const sbd_flag *f = sbd_flag_find(name);
        if (!sbd_flag_for_role(f, r->name)) {
            fprintf(stderr,
                    "sbd: --%s is not a flag of `sbd %s` (sbd %s --help "
                    "lists them)\n",
                    name, r->name, r->name);
            return 2;
        }
        if (sbd_flag_set(f, a->vals[i], o, err, sizeof err) != 0) {
            fprintf(stderr, "sbd: bad value for --%s: '%s' (%s)\n", name,
                    a->vals[i], err);
            return 2;
        }
    }
    return 0;
}

static void print_config(const sbd_role *r, const sbd_opts *o)
{
    sbd_opts d;

    defaults_init(&d);
    role_defaults(r, &d);
    printf("# sbd %s: the settings in effect (defaults, then the config "
           "file, then flags)\n",
           r->name);
    sbd_flags_print_config(stdout, r->name, o, &d);
    if (o->nextra > 0) {
        printf("# after --:");
        for (int i = 0; i < o->nextra; i++)
            printf(" %s", o->extra[i]);
        printf("\n");
    }
}

/* Started by a fleet's local driver as an app server, but asked for
 * another role: refuse, rather than run (and outlive the fleet as) a
 * second all-in-one sbd. */
static int fleet_child_ok(const sbd_role *r)
{
    const char *id = getenv("SB_FLEET_SERVER"), *fleet = getenv("SB_FLEET");

    if (id == NULL || strcmp(r->name, "app") == 0)
        return 1;
    fprintf(stderr,
            "sbd: started as app server %s of fleet %s, but the role is %s: "
            "refusing (check --app-exe)\n",
            id, fleet ? fleet : "?", r->name);
    return 0;
}

static int run(const sbd_role *r, const sbd_opts *o)
{
    sigset_t set;

    if (r->word != NULL) /* a tool: no threads, no signals to wait for */
        return r->run(o) == 0 ? 0 : 1;
    /* Signals are taken synchronously (sigwait) by the main thread:
     * block them before any thread starts so none inherits them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    rpc_nng_cpus(o->nng_cpus); /* before any nng call */
    sb_info("sbd", "%s %s: nng sized for %d CPU(s), %d task threads", r->name,
            SB_VERSION, rpc_nng_cpus_get(), rpc_nng_task_threads());
    return r->run(o) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    sbd_args a = {0};
    sbd_opts o;
    const sbd_role *r;
    int rc = 2;

    defaults_init(&o);
    if (parse_args(argc, argv, &a, &o) != 0)
        goto out;
    if (a.version) {
        printf("sbd %s (Switchboard)\n", SB_VERSION);
        rc = 0;
        goto out;
    }
    if ((r = pick_role(&a, &o)) == NULL)
        goto out;
    if (a.help) {
        usage(stdout, r, a.nwords == 1);
        rc = 0;
        goto out;
    }
    if ((a.config != NULL && sbd_config_load(a.config, r->name, &o) != 0) ||
        apply_flags(&a, r, &o) != 0)
        goto out;
    role_defaults(r, &o);
    if (a.print_config) {
        print_config(r, &o);
        rc = 0;
    } else if (fleet_child_ok(r)) {
        rc = run(r, &o);
    }
out:
    free(o.config_text);
    return rc;
}
