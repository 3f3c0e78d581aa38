/* sb_chat.h: the interactive chat client (`sb chat HOST PORT`) shared by
 * its files: sb_chat.c (the receive thread and the loop, over sb_term's
 * terminal), sb_chat_form.c (log in or register, each field checked as
 * it is typed) and sb_chat_cmd.c (the # commands of PROTOCOL.md
 * "Interactive chat", and every script command as #name). Internal to
 * the `sb` command. */
#ifndef SB_CHAT_H
#define SB_CHAT_H

#include <stdio.h>

#include "sb.h"
#include "sb_script.h"
#include "sb_term.h"

typedef struct sb_chat {
    sb_session *s;
    sb_user u;
    sb_clock clock;         /* offset to the server's clock (Cristian) */
    sb_term *term;          /* the terminal, or plain lines */
    sb_script *script;      /* runs script commands typed as #name */
    char room[SB_NAME_MAX]; /* where plain text goes */
    char room_prompt[SB_NAME_MAX + 3]; /* "<room>> " */
} sb_chat;

/** Prints one line above the line being typed (thread: main only). */
#define sb_chat_print(c, ...) sb_term_print((c)->term, __VA_ARGS__)

/** "[HH:MM:SS] * TEXT": a notice stamped with the server's clock. */
void sb_chat_notice(sb_chat *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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
