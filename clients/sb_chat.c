/* sb_chat.c: `sb chat HOST PORT`, the terminal side. A receive thread
 * long-polls the user's mailbox and writes each delivery, formatted, to
 * a pipe; the main thread polls stdin and that pipe. On a terminal,
 * libedit's own (histedit) interface reads one key per el_gets
 * (EL_UNBUFFERED), and an arriving line is printed above the prompt and
 * the half-typed line redrawn intact by libedit from its live buffer.
 * Without a terminal it reads and prints plain lines. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <histedit.h>

#include "sb_chat.h"

#define CHAT_WAIT_MS 1000
#define CHAT_LINE_MAX 8192
/* Starts a pipe line "<mark>ROOM\t<shown text>": that room closed under
 * the user, who is in lobby now (the main thread keeps the room). */
#define CHAT_CLOSED_MARK '\001'

typedef struct receiver {
    sb_session *s;
    sb_user u; /* its own copy: one sb_user per thread (sb.h) */
    int fd;    /* pipe's write end */
    pthread_mutex_t mu;
    int stop;
} receiver;

static int stopping(receiver *r)
{
    pthread_mutex_lock(&r->mu);
    int s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

static void *receive_main(void *arg)
{
    receiver *r = arg;
    uint64_t last = 0;
    char buf[CHAT_LINE_MAX];
    rpc_status st;

    while (!stopping(r)) {
        Sb__Social__ReceiveReply *rep = NULL;
        int rc = sb_receive(r->s, &r->u, last, CHAT_WAIT_MS, &rep, &st);
        if (rc == RPC_UNAUTHENTICATED)
            break; /* logged out (#exit) or timed out */
        if (rc != RPC_OK) {
            usleep(200 * 1000);
            continue;
        }
        uint64_t upto = last;
        for (size_t i = 0; i < rep->n_deliveries; i++) {
            if (rep->deliveries[i]->seq <= upto)
                continue;
            const Sb__Social__Delivery *d = rep->deliveries[i];
            size_t n = 0;
            if (d->kind == SB__SOCIAL__DELIVERY__KIND__ROOM_CLOSED)
                n = (size_t)snprintf(buf, sizeof(buf) / 2, "%c%s\t",
                                     CHAT_CLOSED_MARK, d->group);
            if (n >= sizeof(buf) / 2)
                n = 0; /* cannot be: names are short */
            sb_chat_format(buf + n, sizeof(buf) - 1 - n, d);
            n = strlen(buf);
            buf[n++] = '\n';
            if (write(r->fd, buf, n) != (ssize_t)n)
                break; /* the main thread is gone */
            upto = rep->deliveries[i]->seq;
        }
        sb_free(rep);
        if (upto > last && sb_ack(r->s, &r->u, upto, &st) == RPC_OK)
            last = upto;
        else if (upto > last)
            last = upto; /* shown; the ack is retried with the next one */
    }
    return NULL;
}

/* Which row of the prompt and typed text the cursor is on (0 = the
 * prompt's), counting one column per UTF-8 character. */
static int cursor_row(sb_chat *c)
{
    const LineInfo *li = el_line(c->el);
    int cols = 0;
    size_t col = 0;

    if (el_get(c->el, EL_GETTC, "co", &cols) != 0 || cols <= 0)
        return 0;
    for (const char *p = c->prompt; *p; p++)
        col += ((unsigned char)*p & 0xC0) != 0x80;
    for (const char *p = li->buffer; p < li->cursor; p++)
        col += ((unsigned char)*p & 0xC0) != 0x80;
    return (int)(col / (size_t)cols);
}

/* The one place that prints while the user may be typing: clear the
 * prompt's and typed text's rows (from the prompt's row down), print,
 * then have libedit draw prompt and line again from its live buffer.
 * EL_REFRESH takes the cursor to be at column 0 of a
 * fresh row - where our newline left it - and puts it back at its place
 * in the line, so libedit's idea of the screen stays true. While a
 * finished line runs no line is open (editing 0): the next prompt comes
 * when the next line is prepared. */
void sb_chat_print(sb_chat *c, const char *fmt, ...)
{
    int redraw = c->el != NULL && c->editing && !c->done;
    va_list ap;

    if (redraw) {
        int up = cursor_row(c);
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
        el_set(c->el, EL_REFRESH);
}

/* Splits what arrived into lines; calls fn for each complete one. */
typedef struct linebuf {
    char b[CHAT_LINE_MAX];
    size_t n;
} linebuf;

static int feed(linebuf *lb, int fd, sb_chat *c, void (*fn)(sb_chat *, char *))
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
        fn(c, p);
        p = nl + 1;
    }
    lb->n -= (size_t)(p - lb->b);
    memmove(lb->b, p, lb->n);
    if (lb->n == sizeof(lb->b) - 1) { /* an overlong line: take it whole */
        lb->b[lb->n] = '\0';
        fn(c, lb->b);
        lb->n = 0;
    }
    return 0;
}

static void show_delivery(sb_chat *c, char *line)
{
    if (line[0] == CHAT_CLOSED_MARK) {
        char *tab = strchr(line, '\t');
        if (tab == NULL)
            return;
        *tab = '\0';
        if (strcmp(line + 1, c->room) == 0)
            sb_chat_set_room(c, "lobby");
        line = tab + 1;
    }
    sb_chat_print(c, "%s", line);
}
static void run_line(sb_chat *c, char *line)
{
    sb_chat_line(c, line);
}

static char *prompt_fn(EditLine *el)
{
    sb_chat *c = NULL;

    el_get(el, EL_CLIENTDATA, &c);
    return (char *)c->prompt;
}

void sb_chat_prompt(sb_chat *c, const char *prompt)
{
    c->prompt = prompt;
}

void sb_chat_set_room(sb_chat *c, const char *room)
{
    snprintf(c->room, sizeof(c->room), "%s", room);
    snprintf(c->room_prompt, sizeof(c->room_prompt), "%s> ", c->room);
}

/* libedit on the terminal, with a history of typed lines. */
static int edit_open(sb_chat *c)
{
    HistEvent ev;

    if ((c->hist = history_init()) == NULL ||
        (c->el = el_init("sb", stdin, stdout, stderr)) == NULL)
        return -1;
    history(c->hist, &ev, H_SETSIZE, 500);
    el_set(c->el, EL_CLIENTDATA, c);
    el_set(c->el, EL_EDITOR, "emacs");
    el_set(c->el, EL_SIGNAL, 1); /* the terminal back on ^C, ^Z */
    el_set(c->el, EL_PROMPT, prompt_fn);
    el_set(c->el, EL_HIST, history, c->hist);
    return 0;
}

static void edit_close(sb_chat *c)
{
    if (c->el != NULL)
        el_end(c->el);
    if (c->hist != NULL)
        history_end(c->hist);
    c->el = NULL;
    c->hist = NULL;
}

/* One key for libedit. A finished line ends in '\n'; ^D on an empty
 * line comes back as a lone ^D; an empty line (after ^U, say) as n -1
 * with errno untouched, a read error as n -1 with errno set. The line is
 * run in cooked mode (no line open), then a fresh one is prepared, which
 * draws the prompt. */
static void edit_key(sb_chat *c)
{
    char line[CHAT_LINE_MAX];
    int n = 0;
    const char *buf;
    HistEvent ev;

    errno = 0;
    buf = el_gets(c->el, &n);
    if ((n < 0 && errno != 0 && errno != EINTR && errno != EAGAIN) ||
        (buf != NULL && n == 1 && buf[0] == 4)) {
        c->done = 1; /* the terminal is gone, or ^D */
        return;
    }
    if (buf == NULL || n == 0 || buf[n - 1] != '\n')
        return; /* still typing */
    snprintf(line, sizeof(line), "%.*s", n - 1, buf);
    c->editing = 0;
    el_set(c->el, EL_UNBUFFERED, 0);
    if (line[0] != '\0')
        history(c->hist, &ev, H_ENTER, line);
    sb_chat_line(c, line);
    if (!c->done) {
        el_set(c->el, EL_UNBUFFERED, 1);
        c->editing = 1;
    }
}

static void loop(sb_chat *c, int msg_fd)
{
    linebuf in = {{0}, 0}, msgs = {{0}, 0};
    struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {msg_fd, POLLIN, 0}};

    if (c->el != NULL) {
        sb_chat_prompt(c, c->room_prompt);
        el_set(c->el, EL_UNBUFFERED, 1); /* raw keys; draws the prompt */
        c->editing = 1;
    }
    while (!c->done) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents & POLLIN)
            feed(&msgs, msg_fd, c, show_delivery);
        if (c->el != NULL && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
            !(p[0].revents & POLLIN))
            c->done = 1; /* the terminal hung up */
        else if (p[0].revents & (POLLIN | POLLHUP)) {
            if (c->el != NULL)
                edit_key(c);
            else if (feed(&in, STDIN_FILENO, c, run_line) != 0)
                c->done = 1;
        }
    }
    if (c->el != NULL && c->editing) {
        c->editing = 0;
        el_set(c->el, EL_UNBUFFERED, 0); /* back to the cooked terminal */
        fputc('\n', stdout);
    }
}

/* Prints what is already in the pipe (after #exit or end of input). */
static void drain_pipe(sb_chat *c, int fd)
{
    linebuf msgs = {{0}, 0};
    struct pollfd p = {fd, POLLIN, 0};

    while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN) &&
           feed(&msgs, fd, c, show_delivery) == 0)
        ;
}

int sb_chat_run(const char *host, int port)
{
    sb_chat c = {.tty = isatty(STDIN_FILENO), .in = stdin, .prompt = ""};
    receiver r = {0};
    pthread_t tid;
    int fds[2] = {-1, -1}, started = 0, rc = 1;
    rpc_status st;

    if (sb_open(&c.s, host, port, &st) != RPC_OK) {
        fprintf(stderr, "sb chat: %s\n", st.message);
        return 2;
    }
    if (!c.tty) {
        setvbuf(stdin, NULL, _IONBF, 0);  /* the form and poll share fd 0 */
        setvbuf(stdout, NULL, _IOLBF, 0); /* a reader sees each line now */
    } else if (edit_open(&c) != 0) {
        fprintf(stderr, "sb chat: cannot set up line editing\n");
        goto out;
    }
    if (sb_chat_login(&c) != 0)
        goto out;
    if (pipe(fds) != 0) {
        perror("sb chat: pipe");
        goto out;
    }
    r.s = c.s;
    r.u = c.u;
    r.fd = fds[1];
    pthread_mutex_init(&r.mu, NULL);
    if (pthread_create(&tid, NULL, receive_main, &r) == 0)
        started = 1;
    loop(&c, fds[0]);
    c.done = 1;
    rc = 0;
out:
    if (started) {
        pthread_mutex_lock(&r.mu);
        r.stop = 1;
        pthread_mutex_unlock(&r.mu);
        pthread_join(tid, NULL); /* at most one long-poll wait */
        drain_pipe(&c, fds[0]);
        pthread_mutex_destroy(&r.mu);
    }
    if (fds[0] >= 0) {
        close(fds[0]);
        close(fds[1]);
    }
    edit_close(&c);
    sb_close(c.s);
    return rc;
}
