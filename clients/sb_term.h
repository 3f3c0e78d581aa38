/* sb_term.h: the terminal front end `sb chat` and script mode at a
 * terminal share: libedit line editing and history, a prompt, and lines
 * that arrive from another thread (through a pipe) printed above the
 * line being typed, which is redrawn intact. Without a terminal it reads
 * plain lines. Internal to the `sb` command. */
#ifndef SB_TERM_H
#define SB_TERM_H

typedef struct sb_term sb_term;

/** What a loop does with its input; arg is the loop's. */
typedef struct sb_term_ops {
    /** A typed line, without its newline. */
    void (*line)(void *arg, char *line);
    /** A line that came through msg_fd, without its newline. */
    void (*message)(void *arg, char *line);
} sb_term_ops;

/** Opens the front end: line editing when @edit (stdin and stdout are a
 * terminal: the caller checks), else plain lines from stdin. @histfile:
 * where history persists across runs (NULL: this run only). NULL when out
 * of memory or libedit fails. */
sb_term *sb_term_open(int edit, const char *histfile);
/** Saves the history (if it has a file) and frees. NULL is ignored. */
void sb_term_close(sb_term *t);
/** 1 when lines are edited (a terminal). */
int sb_term_editing(const sb_term *t);

/** The prompt shown before the line being typed; @prompt must outlive
 * its use (the caller's storage). */
void sb_term_prompt(sb_term *t, const char *prompt);

/** Prints one line above the line being typed (main thread only). */
void sb_term_print(sb_term *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Takes the line just entered off the screen (call from ops.line,
 * before printing): for a line whose text comes back as a message. */
void sb_term_unecho(sb_term *t);

/** Keeps the line just entered out of the history (call from ops.line):
 * a line with a password in it. */
void sb_term_forget(sb_term *t);

/** Asks one question: the answer without its newline (free it), or NULL
 * at end of input. @secret: not echoed (passwords). */
char *sb_term_ask(sb_term *t, const char *prompt, int secret);

/** Runs until sb_term_done(), end of input, ^D or a hang-up: typed lines
 * go to ops->line, lines from @msg_fd (-1: none) to ops->message. */
void sb_term_loop(sb_term *t, int msg_fd, const sb_term_ops *ops, void *arg);
/** Ends the loop after the line being run. */
void sb_term_done(sb_term *t);
/** 1 once the loop has ended (or was told to). */
int sb_term_is_done(const sb_term *t);

/** Prints the complete lines waiting in @fd through ops->message, without
 * waiting (after the loop ended). */
void sb_term_drain(sb_term *t, int fd, const sb_term_ops *ops, void *arg);

#endif
