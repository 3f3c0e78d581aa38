/* sb_repl.c: script mode at a terminal, as redis-cli is: a prompt,
 * line editing and history, `help` and `help <command>` from the command
 * table, and messages printed above the line being typed as they arrive
 * (the script engine's poller writes them to a pipe that sb_term's loop
 * reads). Every other line runs through the same engine as piped input,
 * so its reply is the same; without a terminal none of this runs and the
 * output stays byte for byte the course's. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_repl.h"
#include "sb_term.h"

void sb_repl_list(FILE *out)
{
    size_t n;
    const sb_cmd *t = sb_cmd_table(&n);

    enum { W = 34 };

    for (size_t i = 0; i < n; i++) {
        const char *u = t[i].usage + strlen("Usage: ");
        if (strlen(u) <= W)
            fprintf(out, "  %-*s %s\n", W, u, t[i].summary);
        else
            fprintf(out, "  %s\n  %-*s %s\n", u, W, "", t[i].summary);
    }
    fprintf(out, "  %-*s %s\n", W, "exit",
            "ends sb (the users stay logged in)");
}

int sb_repl_help(FILE *out, const char *name)
{
    const sb_cmd *c = sb_cmd_find(name);

    if (strcmp(name, "exit") == 0) {
        fprintf(out, "exit: ends sb; the users it logged in stay logged "
                     "in.\n");
        return 0;
    }
    if (c == NULL) {
        fprintf(out, "No command %s (help lists them)\n", name);
        return -1;
    }
    fprintf(out, "%s\n%s: %s.%s\n", c->usage, c->name, c->summary,
            c->login_form ? ""
                          : "\n<user> is a user this sb logged in: it "
                            "stands for that user's token.");
    return 0;
}

typedef struct repl {
    sb_script *sc;
    sb_term *term;
} repl;

/* `help` and `help NAME`: 1 when the line was one. */
static int help_line(const char *line)
{
    char w0[16], w1[64], rest[2];
    int n = sscanf(line, " %15s %63s %1s", w0, w1, rest);

    if (n < 1 || strcmp(w0, "help") != 0 || n == 3)
        return 0;
    if (n == 1) {
        printf("Commands, one a line (PROTOCOL.md):\n");
        sb_repl_list(stdout);
        printf("help <command>: more on one. Up and down arrows: earlier "
               "lines.\n");
    } else {
        sb_repl_help(stdout, w1);
    }
    fflush(stdout);
    return 1;
}

static void on_line(void *arg, char *line)
{
    repl *r = arg;
    char w0[64];
    const sb_cmd *c;

    /* register and login carry a password: not into the history file */
    if (sscanf(line, " %63s", w0) == 1 && (c = sb_cmd_find(w0)) != NULL &&
        c->login_form)
        sb_term_forget(r->term);
    if (help_line(line))
        return;
    if (sb_script_line(r->sc, line, strlen(line)))
        sb_term_done(r->term); /* exit */
}

static void on_message(void *arg, char *line)
{
    repl *r = arg;

    sb_term_print(r->term, "%s", line);
}

/* SB_HISTFILE, else ~/.sb_history; NULL for none (empty SB_HISTFILE). */
static char *history_path(void)
{
    const char *env = getenv("SB_HISTFILE"), *home = getenv("HOME");
    char *p;
    size_t n;

    if (env != NULL)
        return env[0] != '\0' ? strdup(env) : NULL;
    if (home == NULL || home[0] == '\0')
        return NULL;
    n = strlen(home) + sizeof "/.sb_history";
    if ((p = malloc(n)) != NULL)
        snprintf(p, n, "%s/.sb_history", home);
    return p;
}

int sb_repl_run(sb_script *sc, const char *host, int port)
{
    sb_term_ops ops = {on_line, on_message};
    char prompt[300], *hist = history_path();
    int fds[2] = {-1, -1};
    repl r = {.sc = sc};
    int rc = 1;

    if ((r.term = sb_term_open(1, hist)) == NULL || pipe(fds) != 0 ||
        sb_script_poll_start(sc, fds[1]) != 0) {
        fprintf(stderr, "sb: cannot set up the terminal\n");
        goto out;
    }
    snprintf(prompt, sizeof prompt, "%s:%d> ", host, port);
    sb_term_prompt(r.term, prompt);
    sb_term_loop(r.term, fds[0], &ops, &r);
    sb_script_poll_stop(sc);
    sb_term_drain(r.term, fds[0], &ops, &r);
    rc = sb_script_unreachable(sc) > 0 ? 1 : 0;
out:
    sb_script_poll_stop(sc);
    if (fds[0] >= 0) {
        close(fds[0]);
        close(fds[1]);
    }
    sb_term_close(r.term);
    free(hist);
    return rc;
}
