/* sb_bench.c: the sb-bench command. Each benchmark is a subcommand in
 * the table below; each prints figures (never pass/fail on timing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"
#include "sb_log.h"

#include "bench_main.h"
#include "bench_util.h"

#ifndef SB_VERSION
#define SB_VERSION "unknown"
#endif

typedef struct bench_cmd {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *help;
} bench_cmd;

static const bench_cmd cmds[] = {
    {"rpc", bench_rpc_main, "RPC framework vs raw nng req/rep (Echo)"},
#ifdef SB_BENCH_HAVE_DRAW
    {"draw", bench_draw_main, "loot-box draws/s, numbers/s, vs Redis"},
#endif
#ifdef SB_BENCH_HAVE_SOCIAL
    {"social", bench_social_main, "durable posts/sends end to end"},
#endif
#ifdef SB_BENCH_HAVE_CHAT
    {"chat", bench_chat_main, "room messages delivered end to end"},
#endif
#ifdef SB_BENCH_HAVE_WEB
    {"web", bench_web_main, "logins and deliveries through the web client"},
#endif
#ifdef SB_BENCH_HAVE_FLEET
    {"fleet", bench_fleet_main, "cold-fleet logins with the local driver"},
#endif
#ifdef SB_BENCH_HAVE_TRUST
    {"trust", bench_trust_main, "cost of mutual TLS and role credentials"},
#endif
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sb-bench COMMAND [options]   (COMMAND --help for "
               "its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
    fputs("\nResults go to stdout (--json: one JSON object a line, with "
          "\"bench\" and\n\"name\" keys; docs/benchmarks.md lists them); "
          "progress and logs to stderr\n(SB_LOG=info shows the servers' "
          "logs too). --version prints the version.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("sb-bench %s (Switchboard)\n", SB_VERSION);
        return 0;
    }
    /* The servers a bench runs in process log at info; their lines would
     * crowd the progress lines. SB_LOG still says otherwise. */
    if (getenv("SB_LOG") == NULL)
        sb_log_set_level(SB_LOG_WARN);
    rpc_nng_cpus(0); /* the machine's count, unless SB_NNG_CPUS says */
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) {
            bench_set_name(cmds[i].name);
            return cmds[i].main(argc - 1, argv + 1);
        }
    fprintf(stderr, "sb-bench: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
