/* sb_chat.c: `sb chat HOST PORT`: the receive thread and the loop. The
 * thread long-polls the user's mailbox and writes each delivery,
 * formatted, to a pipe; the main thread runs sb_term's loop over stdin
 * and that pipe, which prints an arriving line above the line being
 * typed. The form is sb_chat_form.c, the commands sb_chat_cmd.c. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* One delivery as a pipe line (with its newline); 0 or -1 (pipe gone). */
static int pass_on(receiver *r, const Sb__Social__Delivery *d)
{
    char buf[CHAT_LINE_MAX];
    size_t n = 0;

    if (d->kind == SB__SOCIAL__DELIVERY__KIND__ROOM_CLOSED)
        n = (size_t)snprintf(buf, sizeof(buf) / 2, "%c%s\t", CHAT_CLOSED_MARK,
                             d->group);
    if (n >= sizeof(buf) / 2)
        n = 0; /* cannot be: names are short */
    sb_chat_format(buf + n, sizeof(buf) - 1 - n, d);
    n = strlen(buf);
    buf[n++] = '\n';
    return write(r->fd, buf, n) == (ssize_t)n ? 0 : -1;
}

static void *receive_main(void *arg)
{
    receiver *r = arg;
    uint64_t last = 0;
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
            if (pass_on(r, rep->deliveries[i]) != 0)
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

static void show_delivery(void *arg, char *line)
{
    sb_chat *c = arg;

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

static void run_line(void *arg, char *line)
{
    sb_chat_line(arg, line);
}

void sb_chat_set_room(sb_chat *c, const char *room)
{
    snprintf(c->room, sizeof(c->room), "%s", room);
    snprintf(c->room_prompt, sizeof(c->room_prompt), "%s> ", c->room);
    sb_term_prompt(c->term, c->room_prompt);
}

int sb_chat_run(const char *host, int port)
{
    sb_chat c = {0};
    receiver r = {0};
    sb_term_ops ops = {run_line, show_delivery};
    pthread_t tid;
    int fds[2] = {-1, -1}, started = 0, rc = 1;
    rpc_status st;

    if (sb_open(&c.s, host, port, &st) != RPC_OK) {
        fprintf(stderr, "sb: %s\n", st.message);
        return 1;
    }
    if ((c.term = sb_term_open(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO),
                               NULL)) == NULL ||
        sb_script_new(&c.script, c.s, stdout) != 0) {
        fprintf(stderr, "sb chat: cannot set up the terminal\n");
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
    sb_term_loop(c.term, fds[0], &ops, &c);
    rc = 0;
out:
    if (started) {
        pthread_mutex_lock(&r.mu);
        r.stop = 1;
        pthread_mutex_unlock(&r.mu);
        pthread_join(tid, NULL); /* at most one long-poll wait */
        sb_term_drain(c.term, fds[0], &ops, &c);
        pthread_mutex_destroy(&r.mu);
    }
    if (fds[0] >= 0) {
        close(fds[0]);
        close(fds[1]);
    }
    sb_script_free(c.script);
    sb_term_close(c.term);
    sb_close(c.s);
    return rc;
}
