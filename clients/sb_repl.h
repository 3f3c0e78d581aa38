/* sb_repl.h: script mode at a terminal (sb_repl.c) and the command list
 * that `help` and `sb --help` print from the one command table. Internal
 * to the `sb` command. */
#ifndef SB_REPL_H
#define SB_REPL_H

#include <stdio.h>

#include "sb_script.h"

/** Every script command, one a line: its usage and what it does. */
void sb_repl_list(FILE *out);

/** `help <name>`: the command's usage and what it does. 0, or -1 when no
 * command has that name (printed). */
int sb_repl_help(FILE *out, const char *name);

/** Runs script mode at a terminal over sc until `exit`, ^D or a hang-up:
 * prompt "HOST:PORT> ", line editing and history (SB_HISTFILE, default
 * ~/.sb_history; empty: none), `help`, and messages shown as they arrive.
 * Returns what sb_script_run() would. */
int sb_repl_run(sb_script *sc, const char *host, int port);

#endif
