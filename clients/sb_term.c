/* sb_term.c: the terminal side of `sb chat` and of script mode at a
 * terminal. On a terminal, libedit's own (histedit) interface reads one
 * key per el_gets (EL_UNBUFFERED) when poll says stdin is readable, and
 * a line that arrives meanwhile is printed above the prompt, the
 * half-typed line redrawn intact by libedit from its live buffer
 * (docs/architecture.md, "sb chat"). Without a terminal it reads and
 * prints plain lines. */
#include <errno.h>
#include <histedit.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sb_term.h"

#define TERM_LINE_MAX 8192

struct sb_term {
    EditLine *el;       /* NULL without a terminal */
    History *hist;      /* typed lines, for the up arrow */
    char *histfile;     /* NULL: history of this run only */
    const char *prompt; /* what el's prompt shows */
    int editing;        /* a line is open in el (not while one runs) */
    int done;
    int rows_entered; /* screen rows of the line just entered */
    int forget;       /* keep the line just entered out of the history */
};

static char *prompt_fn(EditLine *el)
{
    sb_term *t = NULL;

    el_get(el, EL_CLIENTDATA, &t);
    return (char *)t->prompt;
}

sb_term *sb_term_open(int edit, const char *histfile)
{
    sb_term *t = calloc(1, sizeof(*t));
    HistEvent ev;

    if (t == NULL)
        return NULL;
    t->prompt = "";
    if (!edit) {
        setvbuf(stdin, NULL, _IONBF, 0);  /* questions and poll share fd 0 */
        setvbuf(stdout, NULL, _IOLBF, 0); /* a reader sees each line now */
        return t;
    }
    if ((t->hist = history_init()) == NULL ||
        (t->el = el_init("sb", stdin, stdout, stderr)) == NULL ||
        (histfile != NULL && (t->histfile = strdup(histfile)) == NULL)) {
        sb_term_close(t);
        return NULL;
    }
    history(t->hist, &ev, H_SETSIZE, 500);
    history(t->hist, &ev, H_SETUNIQUE, 1);
    if (t->histfile != NULL)
        history(t->hist, &ev, H_LOAD, t->histfile); /* none yet is fine */
    el_set(t->el, EL_CLIENTDATA, t);
    el_set(t->el, EL_EDITOR, "emacs");
    el_set(t->el, EL_SIGNAL, 1); /* the terminal back on ^C, ^Z */
    el_set(t->el, EL_PROMPT, prompt_fn);
    el_set(t->el, EL_HIST, history, t->hist);
    return t;
}

void sb_term_close(sb_term *t)
{
    HistEvent ev;

    if (t == NULL)
        return;
    if (t->el != NULL && t->editing) {
        el_set(t->el, EL_UNBUFFERED, 0); /* back to the cooked terminal */
        fputc('\n', stdout);
    }
    if (t->hist != NULL && t->histfile != NULL)
        history(t->hist, &ev, H_SAVE, t->histfile);
    if (t->el != NULL)
        el_end(t->el);
    if (t->hist != NULL)
        history_end(t->hist);
    free(t->histfile);
    free(t);
}

int sb_term_editing(const sb_term *t)
{
    return t->el != NULL;
}

void sb_term_prompt(sb_term *t, const char *prompt)
{
    t->prompt = prompt;
}

void sb_term_done(sb_term *t)
{
    t->done = 1;
}

int sb_term_is_done(const sb_term *t)
{
    return t->done;
}

/* Columns of s, one per UTF-8 character. */
static size_t columns(const char *s, const char *end)
{
    size_t n = 0;

    for (; s < end && *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int width(sb_term *t)
{
    int cols = 0;

    if (el_get(t->el, EL_GETTC, "co", &cols) != 0 || cols <= 0)
        return 0;
    return cols;
}

/* Which row of the prompt and typed text the cursor is on (0 = the
 * prompt's). */
static int cursor_row(sb_term *t)
{
    const LineInfo *li = el_line(t->el);
    int cols = width(t);
    size_t col;

    if (cols == 0)
        return 0;
    col = columns(t->prompt, t->prompt + strlen(t->prompt)) +
          columns(li->buffer, li->cursor);
    return (int)(col / (size_t)cols);
}

/* The one place that prints while the user may be typing: clear the
 * prompt's and typed text's rows (from the prompt's row down), print,
 * then have libedit draw prompt and line again from its live buffer.
 * EL_REFRESH takes the cursor to be at column 0 of a fresh row - where
 * our newline left it - and puts it back at its place in the line, so
 * libedit's idea of the screen stays true. While a finished line runs no
 * line is open (editing 0): the next prompt comes when the next line is
 * prepared. */
void sb_term_print(sb_term *t, const char *fmt, ...)
{
    int redraw = t->el != NULL && t->editing && !t->done;
    va_list ap;

    if (redraw) {
        int up = cursor_row(t);
        if (up > 0)
            printf("\033[%dA", up);
        fputs("\r\033[J", stdout);
    }
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    if (redraw)
        el_set(t->el, EL_REFRESH);
}

void sb_term_forget(sb_term *t)
{
    t->forget = 1;
}

void sb_term_unecho(sb_term *t)
{
    if (t->el == NULL || t->rows_entered <= 0)
        return;
    printf("\033[%dA\r\033[J", t->rows_entered);
    fflush(stdout);
    t->rows_entered = 0;
}

/* A line typed on the terminal for a question (el in buffered mode). */
static char *ask_edited(sb_term *t, const char *prompt)
{
    const char *got;
    int len = 0;

    t->prompt = prompt;
    got = el_gets(t->el, &len);
    t->prompt = "";
    if (got == NULL || len <= 0)
        return NULL;
    return strndup(got, strcspn(got, "\r\n"));
}

char *sb_term_ask(sb_term *t, const char *prompt, int secret)
{
    struct termios old, quiet;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (t->el != NULL && !secret)
        return ask_edited(t, prompt);
    fputs(prompt, stdout);
    fflush(stdout);
    if (secret && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        n = getline(&line, &cap, stdin);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stdout);
    } else {
        n = getline(&line, &cap, stdin);
        if (!isatty(STDIN_FILENO)) /* no echo to end the prompt's line */
            fputc('\n', stdout);
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

/* Splits what arrived into lines; calls fn for each complete one. */
typedef struct linebuf {
    char b[TERM_LINE_MAX];
    size_t n;
} linebuf;

static int feed(linebuf *lb, int fd, void (*fn)(void *, char *), void *arg)
{
    ssize_t got = read(fd, lb->b + lb->n, sizeof(lb->b) - 1 - lb->n);

    if (got < 0 && errno == EINTR)
        return 0;
    if (got <= 0)
        return -1;
    lb->n += (size_t)got;
    char *p = lb->b, *nl;
    while ((nl = memchr(p, '\n', lb->n - (size_t)(p - lb->b))) != NULL) {
        *nl = '\0';
        fn(arg, p);
        p = nl + 1;
    }
    lb->n -= (size_t)(p - lb->b);
    memmove(lb->b, p, lb->n);
    if (lb->n == sizeof(lb->b) - 1) { /* an overlong line: take it whole */
        lb->b[lb->n] = '\0';
        fn(arg, lb->b);
        lb->n = 0;
    }
    return 0;
}

/* One key for libedit. A finished line ends in '\n'; ^D on an empty
 * line comes back as a lone ^D; an empty line (after ^U, say) as n -1
 * with errno untouched, a read error as n -1 with errno set. The line is
 * run in cooked mode (no line open), then a fresh one is prepared, which
 * draws the prompt. */
static void edit_key(sb_term *t, const sb_term_ops *ops, void *arg)
{
    char line[TERM_LINE_MAX];
    int n = 0, cols;
    const char *buf;
    HistEvent ev;

    errno = 0;
    buf = el_gets(t->el, &n);
    if ((n < 0 && errno != 0 && errno != EINTR && errno != EAGAIN) ||
        (buf != NULL && n == 1 && buf[0] == 4)) {
        t->done = 1; /* the terminal is gone, or ^D */
        return;
    }
    if (buf == NULL || n == 0 || buf[n - 1] != '\n')
        return; /* still typing */
    snprintf(line, sizeof(line), "%.*s", n - 1, buf);
    cols = width(t);
    t->rows_entered =
        cols > 0 ? (int)((columns(t->prompt, t->prompt + strlen(t->prompt)) +
                          columns(line, line + strlen(line))) /
                             (size_t)cols +
                         1)
                 : 0;
    t->editing = 0;
    t->forget = 0;
    el_set(t->el, EL_UNBUFFERED, 0);
    ops->line(arg, line);
    if (line[0] != '\0' && !t->forget)
        history(t->hist, &ev, H_ENTER, line);
    t->rows_entered = 0;
    if (!t->done) {
        el_set(t->el, EL_UNBUFFERED, 1);
        t->editing = 1;
    }
}

void sb_term_loop(sb_term *t, int msg_fd, const sb_term_ops *ops, void *arg)
{
    linebuf in = {{0}, 0}, msgs = {{0}, 0};
    struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {msg_fd, POLLIN, 0}};

    if (t->el != NULL) {
        el_set(t->el, EL_UNBUFFERED, 1); /* raw keys; draws the prompt */
        t->editing = 1;
    }
    while (!t->done) {
        if (poll(p, msg_fd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (msg_fd >= 0 && (p[1].revents & POLLIN))
            feed(&msgs, msg_fd, ops->message, arg);
        if (t->el != NULL && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
            !(p[0].revents & POLLIN))
            t->done = 1; /* the terminal hung up */
        else if (p[0].revents & (POLLIN | POLLHUP)) {
            if (t->el != NULL)
                edit_key(t, ops, arg);
            else if (feed(&in, STDIN_FILENO, ops->line, arg) != 0)
                t->done = 1;
        }
    }
    if (t->el != NULL && t->editing) {
        t->editing = 0;
        el_set(t->el, EL_UNBUFFERED, 0); /* back to the cooked terminal */
        fputc('\n', stdout);
    }
}

void sb_term_drain(sb_term *t, int fd, const sb_term_ops *ops, void *arg)
{
    linebuf msgs = {{0}, 0};
    struct pollfd p = {fd, POLLIN, 0};

    (void)t;
    while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN) &&
           feed(&msgs, fd, ops->message, arg) == 0)
        ;
}
