/* sb_script.h: script mode of the `sb` command (PROTOCOL.md "Client
 * rules"): the command table that drives parsing, usage strings and
 * printing, the line parser, and the engine that runs lines through
 * libsb and prints deliveries for every held user after each reply.
 * Internal to the `sb` command (and its unit tests); not installed.
 */
#ifndef SB_SCRIPT_H
#define SB_SCRIPT_H

#include <stdio.h>

#include "sb.h"

typedef struct sb_script sb_script;
typedef struct sb_line sb_line;

/** Storage for any request message a row builds. */
typedef union sb_req {
    ProtobufCMessage base;
    Sb__Social__Empty empty;
    Sb__Social__RegisterRequest reg;
    Sb__Social__LoginRequest login;
    Sb__Social__InviteRequest invite;
    Sb__Social__AcceptInviteRequest accept;
    Sb__Social__PostRequest post;
    Sb__Social__SendRequest send;
    Sb__Social__GroupRequest group;
    Sb__Social__SendGroupRequest send_group;
    Sb__Social__RoomRequest room;
    Sb__Social__SayRequest say;
    Sb__Social__PrivateRequest priv;
    Sb__Social__Profile profile;
    Sb__Social__ShowProfileRequest show;
    Sb__Social__DrawRequest draw;
} sb_req;

/** One row of the command table. */
typedef struct sb_cmd {
    const char *name;  /**< first word, e.g. "invite" */
    int nargs;         /**< words after the command, <user> included */
    int free_text;     /**< the last argument is text: one word or more */
    int login_form;    /**< register/login: sent as typed, never a token */
    const char *usage; /**< printed when the arity is wrong */
    const char *method;
    const ProtobufCMessageDescriptor *reply_desc;
    /** Fills req from args (after <user>; the text already joined).
     * Returns 0, or -1 when an argument is malformed (usage path). */
    int (*build)(char *const *args, sb_req *req);
    /** Prints an OK reply (and records a login). */
    void (*print)(sb_script *sc, const sb_line *ln,
                  const ProtobufCMessage *reply);
    const char *empty;   /**< printed for a list reply with no items */
    const char *summary; /**< what it does, one line (`help`) */
    int chat;            /**< offered by `sb chat` as #name, no <user> */
} sb_cmd;

/** A parsed input line. */
struct sb_line {
    enum {
        SB_LINE_BLANK,
        SB_LINE_EXIT,
        SB_LINE_UNKNOWN,
        SB_LINE_USAGE,
        SB_LINE_CALL
    } kind;
    const sb_cmd *cmd; /**< NULL for BLANK, EXIT, UNKNOWN */
    char **words;      /**< every word of the line, words[0] the command */
    int nwords;
    sb_user *user; /**< the held user named by words[1], or NULL */
    char **args;   /**< request arguments (after <user>, or after the
                        command for login_form rows), text joined */
    int nargs;
    char *text; /**< the joined free text (owned), or NULL */
    char *buf;  /**< the line's copy that words point into */
};

/** The table, and a row by name (NULL if none). */
const sb_cmd *sb_cmd_table(size_t *n);
const sb_cmd *sb_cmd_find(const char *name);

/** Creates a script engine printing to out over session s (borrowed). */
int sb_script_new(sb_script **out, sb_session *s, FILE *outf);
void sb_script_free(sb_script *sc);

/** Parses one line (len bytes, a trailing newline allowed) against the
 * table and the held users. Returns 0, or -1 (out of memory, or a NUL
 * byte in the line) with ln cleared. Clear ln with sb_line_clear. */
int sb_line_parse(sb_script *sc, const char *text, size_t len, sb_line *ln);
void sb_line_clear(sb_line *ln);

/** Runs one line: reply, then every held user's deliveries. Returns 1
 * when the line ends the script (`exit`), else 0. */
int sb_script_line(sb_script *sc, const char *text, size_t len);

/** Runs a parsed SB_LINE_CALL line: the reply (or failure) only, no
 * deliveries (sb chat runs script commands so; its own thread receives).
 * Returns the call's rpc code. */
int sb_script_call(sb_script *sc, const sb_line *ln);

/** Runs lines from in until `exit` or end of input. When interactive,
 * deliveries also print as they arrive (a background poller). Returns 0,
 * or 1 when a command could not reach the server (every such line says
 * "cannot connect to ..."; the others ran). */
int sb_script_run(sb_script *sc, FILE *in, int interactive);

/** The background poller alone (script mode at a terminal, sb_term): every
 * 200 ms, what arrived for the held users is written to fd, a line each.
 * Returns 0, or -1 when the thread cannot start. */
int sb_script_poll_start(sb_script *sc, int fd);
void sb_script_poll_stop(sb_script *sc);
/** Commands so far that could not reach the server. */
int sb_script_unreachable(const sb_script *sc);

/** Held users (in login order) - for tests and the poller. */
size_t sb_script_nheld(const sb_script *sc);
const sb_user *sb_script_held(const sb_script *sc, size_t i);

/* Used by the table's printers (sb_cmdtab.c), defined in sb_script.c. */
FILE *sb_script_out(sb_script *sc);
/** Where replies print from now on (sb chat: a memory stream a command). */
void sb_script_set_out(sb_script *sc, FILE *out);
/** Remembers u (a successful login) in login order; same name = update. */
int sb_script_hold(sb_script *sc, const sb_user *u);
/** The session the script runs over (for `time`'s extra samples). */
sb_session *sb_script_session(sb_script *sc);
/** Local wall clock just before and after the last call (for `time`). */
void sb_script_call_times(const sb_script *sc, int64_t *t0, int64_t *t1);

#endif
