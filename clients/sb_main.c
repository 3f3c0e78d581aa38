/* sb_main.c: the `sb` command. `sb HOST PORT` is script mode (the
 * course's demo contract, sb_script.c); `sb chat` and `sb draw` are other
 * front ends, dispatched through the table below as they land.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb.h"
#include "sb_chat.h"
#include "sb_script.h"

typedef struct mode {
    const char *name; /* first argument; NULL = the default, script mode */
    const char *help;
    int (*run)(const char *host, int port);
} mode;

static int run_script(const char *host, int port)
{
    sb_session *s = NULL;
    sb_script *sc = NULL;
    rpc_status st;
    int rc = 1;

    if (sb_open(&s, host, port, &st) != RPC_OK) {
        fprintf(stderr, "sb: %s\n", st.message);
        return 2;
    }
    if (sb_script_new(&sc, s, stdout) != 0) {
        fprintf(stderr, "sb: out of memory\n");
        goto out;
    }
    sb_script_run(sc, stdin, isatty(STDIN_FILENO));
    rc = 0;
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
    {"draw", "sb draw HOST PORT   loot-box draws", sb_draw_run},
};

static void usage(FILE *f)
{
    fputs("usage:\n", f);
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        fprintf(f, "  %s\n", modes[i].help);
    fputs("  sb --help           this text\n"
          "Script mode follows PROTOCOL.md: one command a line, `exit` "
          "ends.\n",
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

    if (argc >= 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 1; argc >= 2 && i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(argv[1], modes[i].name) == 0) {
            m = &modes[i];
            first = 2;
        }
    if (argc != first + 2) {
        usage(stderr);
        return 2;
    }
    if ((port = parse_port(argv[first + 1])) < 0) {
        fprintf(stderr, "sb: bad port '%s' (1..65535)\n", argv[first + 1]);
        return 2;
    }
    return m->run(argv[first], port);
}
