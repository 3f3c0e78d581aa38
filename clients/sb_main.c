/* sb_main.c: the `sb` command. `sb HOST PORT` is script mode (the
 * course's demo contract, sb_script.c; at a terminal, sb_repl.c); `sb
 * chat` and `sb draw` are other front ends, dispatched through the table
 * below. Every mode first checks that HOST:PORT answers, so a server that
 * is not there is said plainly and at once (exit 1), not as a timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb.h"
#include "sb_chat.h"
#include "sb_repl.h"
#include "sb_script.h"

#ifndef SB_VERSION
#define SB_VERSION "unknown"
#endif

typedef struct mode {
    const char *name; /* first argument; NULL = the default, script mode */
    const char *help;
    int (*run)(const char *host, int port);
} mode;

static int run_script(const char *host, int port)
{
    int tty = isatty(STDIN_FILENO), rc = 1;
    sb_session *s = NULL;
    sb_script *sc = NULL;
    rpc_status st;

    if (sb_open(&s, host, port, &st) != RPC_OK) {
        fprintf(stderr, "sb: %s\n", st.message);
        return 1;
    }
    if (sb_script_new(&sc, s, stdout) != 0) {
        fprintf(stderr, "sb: out of memory\n");
        goto out;
    }
    /* A person at a terminal gets a prompt and editing; anything else
     * (a file, a pipe: the course's tests) the plain lines, unchanged. */
    if (tty && isatty(STDOUT_FILENO))
        rc = sb_repl_run(sc, host, port);
    else
        rc = sb_script_run(sc, stdin, tty);
    if (rc != 0)
        fprintf(stderr, "sb: some commands could not reach the server\n");
out:
    sb_script_free(sc);
    sb_close(s);
    return rc;
}

int sb_draw_run(const char *host, int port); /* sb_draw.c */

static const mode modes[] = {
    {NULL,
     "sb HOST PORT        script mode: commands on stdin, replies on "
     "stdout",
     run_script},
    {"chat", "sb chat HOST PORT   interactive chat rooms", sb_chat_run},
    {"draw", "sb draw HOST PORT   loot-box draws: `draw <count>` lines",
     sb_draw_run},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static void usage(FILE *f, int full)
{
    fputs("usage:\n", f);
    for (size_t i = 0; i < NMODES; i++)
        fprintf(f, "  %s\n", modes[i].help);
    fputs("  sb --help | --version\n", f);
    if (!full) {
        fputs("sb --help lists the script commands.\n", f);
        return;
    }
    fputs("\nScript commands (PROTOCOL.md), one a line; <user> is a user "
          "this sb logged\nin, which stands for its token. At a terminal: a "
          "prompt, line editing,\nhistory, and `help <command>`.\n",
          f);
    sb_repl_list(f);
    fputs("\nExit status: 0; 1 when the server cannot be reached (\"cannot "
          "connect to\nHOST:PORT: ...\"); 2 on bad usage. SB_HISTFILE: the "
          "terminal's history file\n(~/.sb_history; empty: none).\n",
          f);
}

/* A port is 1..65535 written in decimal, nothing else. */
static int parse_port(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
        return -1;
    return (int)v;
}

int main(int argc, char **argv)
{
    const mode *m = &modes[0];
    int first = 1, port;
    rpc_status st;

    if (argc >= 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout, 1);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("sb %s (Switchboard)\n", SB_VERSION);
        return 0;
    }
    for (size_t i = 1; argc >= 2 && i < NMODES; i++)
        if (strcmp(argv[1], modes[i].name) == 0) {
            m = &modes[i];
            first = 2;
        }
    if (argc >= 2 && argv[1][0] == '-') {
        fprintf(stderr, "sb: unknown option %s\n", argv[1]);
        usage(stderr, 0);
        return 2;
    }
    if (argc != first + 2) {
        usage(stderr, 0);
        return 2;
    }
    if ((port = parse_port(argv[first + 1])) < 0) {
        fprintf(stderr, "sb: bad port '%s' (1..65535)\n", argv[first + 1]);
        return 2;
    }
    if (sb_probe(argv[first], port, 0, &st) != RPC_OK) {
        fprintf(stderr, "sb: %s\n", st.message);
        return st.code == RPC_INVALID_ARGUMENT ? 2 : 1;
    }
    return m->run(argv[first], port);
}
