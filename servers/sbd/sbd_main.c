/* sbd_main.c: the Switchboard daemon. One binary, one role per process or
 * every role in one (`sbd all`, the default): parses flags, looks the role
 * up in the role table, runs it until SIGINT/SIGTERM, stops gracefully.
 * The all-in-one role is in sbd_all.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "sbd.h"

typedef struct sbd_role {
    const char *name;
    int (*run)(const sbd_opts *o); /* NULL: not available in this build */
    const char *help;
} sbd_role;

static const sbd_role roles[] = {
    {"all", sbd_run_all, "every role in this process (the default)"},
    {"bus", sbd_run_bus, "the pub/sub forwarder on P+4 (in) and P+5 (out)"},
    {"login", sbd_run_login,
     "the login endpoint alone on --listen URL (tcp://HOST:P): --store URL\n"
     "                (required), --orchestrator URL (P+2), --bus-in URL "
     "(P+4)"},
    {"store", sbd_run_store,
     "the store (DIR/store) as sb.store.Store on --listen URL\n"
     "                (tcp://127.0.0.1:P+3, 8891 by default)"},
    {"app", sbd_run_app,
     "one app server: --store URL (required), --listen URL (tcp://HOST:0),\n"
     "                --advertise HOST, --id ID, --bus-in/--bus-out URL "
     "(P+4/P+5), --draw URL"},
    {"orchestrator", sbd_run_orchestrator,
     "the fleet service on --listen URL (tcp://127.0.0.1:P+2), status page on\n"
     "                --http-port (P+6; 0 = off); app servers are `sbd app` "
     "children plus\n"
     "                the words after `--`"},
    {"draw", sbd_run_draw,
     "the loot-box pool on P+1 (--listen URL, --pool-size N)"},
    {"web", sbd_run_web,
     "the web client alone on --web-port (8080), a client of --login URL\n"
     "                (tcp://127.0.0.1:P)"},
};
#define NROLES (sizeof roles / sizeof roles[0])

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: sbd [ROLE] [--data-dir DIR] [--base-port P] [--host IP]\n"
        "           [--capacity N] [--pw-cost interactive|moderate|fast]\n"
        "           [--listen URL] [--pool-size N]   (draw)\n"
        "           [--draw-engine epoll|nng]  (draw) who serves a tcp://\n"
        "                           listener: one epoll thread (default) or\n"
        "                           nng's rep0; the same wire protocol\n"
        "           [--draw URL]   (app: the draw service; all: its own)\n"
        "           [--store URL] [--bus-in URL] [--bus-out URL] [--advertise "
        "HOST]\n"
        "           [--id ID]   (app)\n"
        "           [--app-store local|remote]   (all: accepted, no effect: "
        "app\n"
        "                                   servers are child processes using "
        "P+3)\n"
        "           [--nng-cpus N]  size nng's thread pools (2 task threads "
        "per\n"
        "                           CPU) for N CPUs; 0 = this machine's count, "
        "the\n"
        "                           default but for app (1: ten users); env\n"
        "                           SB_NNG_CPUS overrides (every process)\n"
        "           [--session-idle-ms MS]  end sessions with no call for MS\n"
        "                                   (their rooms die; default 1800000, "
        "0 = never)\n"
        "           [--test-clock-skew-ms MS]  TEST ONLY: report server time\n"
        "                                   shifted by MS (clock-sync tests)\n"
        "           [--min-servers N] [--max-servers N] [--spare SLOTS]\n"
        "           [--idle-grace SECS] [--launch-timeout SECS] [--http-port "
        "N]\n"
        "           [--driver local|ec2] [--fleet-name NAME] [--app-exe PATH]\n"
        "           [--ec2-image AMI] [--ec2-type T] [--ec2-subnet ID]\n"
        "           [--ec2-security-groups sg-1,sg-2] [--ec2-key-name K]\n"
        "           [--ec2-instance-profile P] [--ec2-app-args 'ARGS']\n"
        "           [--advertise-orchestrator URL]   (orchestrator)\n"
        "           [--web-port N] [--login URL]   (all, web: the web client;\n"
        "                           0 = none in all)\n"
        "           [-- APP-SERVER ARGS...]   (orchestrator: passed to app "
        "servers)\n"
        "       sbd IP PORT          (the course form: login on IP:PORT)\n"
        "\n"
        "Ports: login P, draw P+1, orchestrator P+2, store P+3, bus P+4/P+5,\n"
        "status http P+6, web client 8080 (P+7 with --base-port) (P = 8888\n"
        "by default). Data in DIR (./data).\n"
        "Stops gracefully on SIGINT or SIGTERM. Log level: "
        "SB_LOG.\n\nRoles:\n");
    for (size_t i = 0; i < NROLES; i++)
        fprintf(f, "  %-13s %s\n", roles[i].name, roles[i].help);
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_cost(const char *s, store_pwcost *out)
{
    if (strcmp(s, "interactive") == 0)
        *out = STORE_PW_INTERACTIVE;
    else if (strcmp(s, "moderate") == 0)
        *out = STORE_PW_MODERATE;
    else if (strcmp(s, "fast") == 0)
        *out = STORE_PW_FAST;
    else
        return -1;
    return 0;
}

/* One option with its value at argv[*i + 1]. Returns 0, or -1 (printed). */
static int parse_opt(int argc, char **argv, int *i, sbd_opts *o)
{
    const char *k = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    int bad;

    if (v == NULL) {
        fprintf(stderr, "sbd: %s needs a value (see --help)\n", k);
        return -1;
    }
    (*i)++;
    if (strcmp(k, "--data-dir") == 0)
        bad = (o->data_dir = v)[0] == '\0';
    else if (strcmp(k, "--base-port") == 0)
        bad = parse_int(v, 1, 65535 - 7, &o->base_port);
    else if (strcmp(k, "--host") == 0)
        bad = (o->host = v)[0] == '\0';
    else if (strcmp(k, "--capacity") == 0)
        bad = parse_int(v, 1, 64, &o->capacity);
    else if (strcmp(k, "--pw-cost") == 0)
        bad = parse_cost(v, &o->pwcost);
    else if (strcmp(k, "--listen") == 0)
        bad = (o->draw_listen = v)[0] == '\0';
    else if (strcmp(k, "--draw") == 0)
        bad = (o->draw_url = v)[0] == '\0';
    else if (strcmp(k, "--pool-size") == 0)
        bad = parse_int(v, 1, 100000000, &o->pool_size);
    else if (strcmp(k, "--draw-engine") == 0) {
        o->draw_nng_tcp = strcmp(v, "nng") == 0;
        bad = !o->draw_nng_tcp && strcmp(v, "epoll") != 0;
    } else if (strcmp(k, "--store") == 0)
        bad = (o->store_url = v)[0] == '\0';
    else if (strcmp(k, "--bus-in") == 0)
        bad = (o->bus_in = v)[0] == '\0';
    else if (strcmp(k, "--bus-out") == 0)
        bad = (o->bus_out = v)[0] == '\0';
    else if (strcmp(k, "--advertise") == 0)
        bad = (o->advertise = v)[0] == '\0';
    else if (strcmp(k, "--id") == 0)
        bad = (o->app_id = v)[0] == '\0' || strlen(v) > 63;
    else if (strcmp(k, "--app-store") == 0) {
        o->apps_remote_store = strcmp(v, "remote") == 0;
        bad = !o->apps_remote_store && strcmp(v, "local") != 0;
    } else if (strcmp(k, "--session-idle-ms") == 0)
        bad = parse_int(v, 0, 2000000000, &o->session_idle_ms);
    else if (strcmp(k, "--nng-cpus") == 0)
        bad = parse_int(v, 0, 256, &o->nng_cpus);
    else if (strcmp(k, "--test-clock-skew-ms") == 0)
        bad = parse_int(v, -86400000, 86400000, &o->clock_skew_ms);
    else if ((bad = sbd_web_parse_opt(k, v, o)) == 1 &&
             (bad = sbd_orch_parse_opt(k, v, o)) == 1) {
        fprintf(stderr, "sbd: unknown option %s (see --help)\n", k);
        return -1;
    }
    if (bad)
        fprintf(stderr, "sbd: bad value for %s: '%s'\n", k, v);
    return bad ? -1 : 0;
}

/* Positional words: a role name, or the course form IP PORT. */
static int parse_word(const char *w, int *npos, const char **role, sbd_opts *o)
{
    for (size_t i = 0; i < NROLES && *npos == 0; i++)
        if (strcmp(w, roles[i].name) == 0) {
            *role = w;
            (*npos) = 2;
            return 0;
        }
    if (*npos == 0) {
        o->host = w;
        *npos = 1;
        return 0;
    }
    if (*npos == 1 && parse_int(w, 1, 65535 - 7, &o->base_port) == 0) {
        *npos = 2;
        return 0;
    }
    fprintf(stderr, "sbd: unexpected argument '%s' (see --help)\n", w);
    return -1;
}

int main(int argc, char **argv)
{
    sbd_opts o = {.data_dir = "./data",
                  .base_port = 8888,
                  .host = "0.0.0.0",
                  .capacity = 10,
                  .pwcost = STORE_PW_INTERACTIVE,
                  .session_idle_ms = 30 * 60 * 1000,
                  .nng_cpus = -1};
    const char *role = "all";
    int npos = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            o.extra = argv + i + 1;
            o.nextra = argc - i - 1;
            break;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strncmp(argv[i], "--", 2) == 0
                ? parse_opt(argc, argv, &i, &o)
                : parse_word(argv[i], &npos, &role, &o))
            return 2;
    }
    if (npos == 1) {
        fprintf(stderr, "sbd: the course form is `sbd IP PORT`\n");
        return 2;
    }
    for (size_t i = 0; i < NROLES; i++) {
        if (strcmp(role, roles[i].name) != 0)
            continue;
        /* Started by a fleet's local driver as an app server, but asked
         * for another role: refuse, rather than run (and outlive the
         * fleet as) a second all-in-one sbd. */
        if (getenv("SB_FLEET_SERVER") != NULL && strcmp(role, "app") != 0) {
            fprintf(stderr,
                    "sbd: started as app server %s of fleet %s, "
                    "but the role is %s: refusing (check --app-exe)\n",
                    getenv("SB_FLEET_SERVER"),
                    getenv("SB_FLEET") ? getenv("SB_FLEET") : "?", role);
            return 2;
        }
        if (roles[i].run == NULL) {
            fprintf(stderr, "sbd: %s: %s\n", role, roles[i].help);
            return 2;
        }
        /* Signals are taken synchronously (sigwait) by the main thread:
         * block them before any thread starts so none inherits them. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        /* before any nng call. An app server (ten users, a low call
         * rate) wastes a context switch per hop in nng with more task
         * threads than it keeps busy; the shared roles (draw, store)
         * take many calls at once and use the machine's count. */
        rpc_nng_cpus(o.nng_cpus >= 0            ? o.nng_cpus
                     : strcmp(role, "app") == 0 ? 1
                                                : 0);
        sb_info("sbd", "%s: nng sized for %d CPU(s), %d task threads", role,
                rpc_nng_cpus_get(), rpc_nng_task_threads());
        return roles[i].run(&o) == 0 ? 0 : 1;
    }
    return 2; /* not reached: parse_word only accepts table names */
}
