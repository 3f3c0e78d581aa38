/* sb_chat.h: the interactive chat client (`sb chat HOST PORT`) shared by
 * its two files: sb_chat.c (terminal, line editing, the receive thread)
 * and sb_chat_cmd.c (the login form and the # commands of PROTOCOL.md
 * "Interactive chat"). Internal to the `sb` command. */
#ifndef SB_CHAT_H
#define SB_CHAT_H

#include <stdio.h>

#include <histedit.h>

#include "sb.h"

typedef struct sb_chat {
    sb_session *s;
    sb_user u;
    sb_clock clock;         /* offset to the server's clock (Cristian) */
    int tty;                /* stdin is a terminal: libedit, async redraw */
    int done;               /* #exit or end of input */
    EditLine *el;           /* line editing on a terminal, else NULL */
    History *hist;          /* typed lines, for the up arrow */
    const char *prompt;     /* what el's prompt shows (static storage) */
    char room[SB_NAME_MAX]; /* where plain text goes */
    char room_prompt[SB_NAME_MAX + 3]; /* "<room>> " */
    int editing; /* a line is open in el (not while one runs) */
    FILE *in;    /* the login form reads here when not a tty */
} sb_chat;

/** Prints one line above the line being typed (thread: main only). */
void sb_chat_print(sb_chat *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Sets the prompt libedit shows (a string that outlives its use). */
void sb_chat_prompt(sb_chat *c, const char *prompt);

/** Records that the user is in @room now; the prompt shows it. */
void sb_chat_set_room(sb_chat *c, const char *room);

/** "[HH:MM:SS]" of a server-clock time in ms, local time zone. */
void sb_chat_stamp(char buf[16], int64_t server_ms);

/** Login or register (asks on the terminal / reads lines), then clock
 * sync and lobby. Returns 0 when logged in, -1 when input ended or the
 * user gave up (the reason printed). */
int sb_chat_login(sb_chat *c);

/** Runs one typed line: a # command or text for the current room. */
void sb_chat_line(sb_chat *c, const char *line);

/** Formats a delivery as the chat shows it (no newline). A ROOM_CLOSED
 * one reads "[HH:MM:SS] * room R was deleted by A; you are in lobby" or
 * "[HH:MM:SS] * room R closed: A's session ended; you are in lobby". */
void sb_chat_format(char *buf, size_t n, const Sb__Social__Delivery *d);

/** The chat front end: `sb chat HOST PORT`. Returns the exit status. */
int sb_chat_run(const char *host, int port);

#endif
