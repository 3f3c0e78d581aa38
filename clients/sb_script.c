/* sb_script.c: the script-mode engine. A line is split into words,
 * matched against the command table, its <user> word replaced by that
 * user's token (or dropped), and sent through libsb; then every held
 * user's mailbox is drained in login order so the output is the same on
 * every run. Priority "token first, then usage": on a wrong arity the
 * engine asks the server (WhoAmI) before printing the row's usage.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "sb_internal.h"
#include "sb_script.h"

typedef struct held {
    sb_user u;
    uint64_t last_seq; /* deliveries up to here are printed and acked */
    int dead;          /* the server said the token ended: stop polling */
} held;

typedef struct poller {
    sb_script *sc;
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, fd; /* fd: where deliveries go; -1 = the script's out */
} poller;

struct sb_script {
    sb_session *s;
    FILE *out;
    held **held;
    size_t nheld, cap;
    int64_t t0, t1;
    int unreachable;    /* commands that found no server */
    poller *poll;       /* the background poller, or NULL */
    pthread_mutex_t mu; /* the poller thread and the reader share state */
};

int sb_script_new(sb_script **out, sb_session *s, FILE *outf)
{
    sb_script *sc = calloc(1, sizeof(*sc));

    *out = NULL;
    if (sc == NULL)
        return -1;
    sc->s = s;
    sc->out = outf;
    pthread_mutex_init(&sc->mu, NULL);
    *out = sc;
    return 0;
}

void sb_script_free(sb_script *sc)
{
    if (sc == NULL)
        return;
    sb_script_poll_stop(sc);
    for (size_t i = 0; i < sc->nheld; i++)
        free(sc->held[i]);
    free(sc->held);
    pthread_mutex_destroy(&sc->mu);
    free(sc);
}

FILE *sb_script_out(sb_script *sc)
{
    return sc->out;
}
void sb_script_set_out(sb_script *sc, FILE *out)
{
    pthread_mutex_lock(&sc->mu);
    sc->out = out;
    pthread_mutex_unlock(&sc->mu);
}
sb_session *sb_script_session(sb_script *sc)
{
    return sc->s;
}
size_t sb_script_nheld(const sb_script *sc)
{
    return sc->nheld;
}
const sb_user *sb_script_held(const sb_script *sc, size_t i)
{
    return i < sc->nheld ? &sc->held[i]->u : NULL;
}

void sb_script_call_times(const sb_script *sc, int64_t *t0, int64_t *t1)
{
    *t0 = sc->t0;
    *t1 = sc->t1;
}

static held *find_held(sb_script *sc, const char *name)
{
    for (size_t i = 0; i < sc->nheld; i++)
        if (strcmp(sc->held[i]->u.name, name) == 0)
            return sc->held[i];
    return NULL;
}

int sb_script_hold(sb_script *sc, const sb_user *u)
{
    held *h = find_held(sc, u->name);

    if (h == NULL) {
        if (sc->nheld == sc->cap) {
            size_t cap = sc->cap ? sc->cap * 2 : 16;
            held **n = realloc(sc->held, cap * sizeof(*n));
            if (n == NULL)
                return -1;
            sc->held = n;
            sc->cap = cap;
        }
        if ((h = calloc(1, sizeof(*h))) == NULL)
            return -1;
        sc->held[sc->nheld++] = h; /* keeps its first-login position */
    }
    h->u = *u;
    /* A new login may follow a delete and re-register: seqs restart. */
    h->last_seq = 0;
    h->dead = 0;
    return 0;
}

/* ---- parsing ---- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

/* Splits buf in place into words; *words is malloc'ed. */
static int split_words(char *buf, char ***words, int *n)
{
    size_t cap = 8;
    char **w = malloc(cap * sizeof(*w));
    int k = 0;

    if (w == NULL)
        return -1;
    for (char *p = buf; *p != '\0';) {
        while (is_space(*p))
            *p++ = '\0';
        if (*p == '\0')
            break;
        if ((size_t)k == cap) {
            char **nw = realloc(w, (cap *= 2) * sizeof(*w));
            if (nw == NULL) {
                free(w);
                return -1;
            }
            w = nw;
        }
        w[k++] = p;
        while (*p != '\0' && !is_space(*p))
            p++;
    }
    *words = w;
    *n = k;
    return 0;
}

/* Joins words[from..n) with single spaces into a new string. */
static char *join_words(char **words, int from, int n)
{
    size_t len = 1;
    char *s, *p;

    for (int i = from; i < n; i++)
        len += strlen(words[i]) + 1;
    if ((s = malloc(len)) == NULL)
        return NULL;
    p = s;
    for (int i = from; i < n; i++) {
        size_t l = strlen(words[i]);
        if (i > from)
            *p++ = ' ';
        memcpy(p, words[i], l);
        p += l;
    }
    *p = '\0';
    return s;
}

void sb_line_clear(sb_line *ln)
{
    free(ln->buf);
    free(ln->words);
    free(ln->args);
    free(ln->text);
    memset(ln, 0, sizeof(*ln));
}

static int arity_ok(const sb_cmd *c, int n)
{
    return c->free_text ? n >= c->nargs : n == c->nargs;
}

/* Sets ln->args: the words after <user> (all words after the command for
 * register/login), the free text joined into the last one. */
static int set_args(sb_line *ln)
{
    const sb_cmd *c = ln->cmd;
    int first = c->login_form ? 1 : 2;
    int fixed = c->login_form ? c->nargs : c->nargs - 1;

    if ((ln->args = calloc((size_t)fixed + 1, sizeof(char *))) == NULL)
        return -1;
    ln->nargs = fixed;
    for (int i = 0; i < fixed; i++)
        ln->args[i] = ln->words[first + i];
    if (c->free_text && fixed > 0) {
        ln->text = join_words(ln->words, first + fixed - 1, ln->nwords);
        if (ln->text == NULL)
            return -1;
        ln->args[fixed - 1] = ln->text;
    }
    return 0;
}

static int classify(sb_script *sc, sb_line *ln)
{
    if (ln->nwords == 0) {
        ln->kind = SB_LINE_BLANK;
        return 0;
    }
    if (ln->nwords == 1 && strcmp(ln->words[0], "exit") == 0) {
        ln->kind = SB_LINE_EXIT;
        return 0;
    }
    if ((ln->cmd = sb_cmd_find(ln->words[0])) == NULL) {
        ln->kind = SB_LINE_UNKNOWN;
        return 0;
    }
    if (!ln->cmd->login_form && ln->nwords >= 2) {
        held *h = find_held(sc, ln->words[1]);
        ln->user = h != NULL ? &h->u : NULL; /* else the word is dropped */
    }
    if (!arity_ok(ln->cmd, ln->nwords - 1)) {
        ln->kind = SB_LINE_USAGE;
        return 0;
    }
    ln->kind = SB_LINE_CALL;
    return set_args(ln);
}

int sb_line_parse(sb_script *sc, const char *text, size_t len, sb_line *ln)
{
    char *buf;
    char **words;
    int n;

    memset(ln, 0, sizeof(*ln));
    if (memchr(text, '\0', len) != NULL || (buf = malloc(len + 1)) == NULL)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    ln->buf = buf;
    if (split_words(buf, &words, &n) != 0)
        goto fail;
    ln->words = words;
    ln->nwords = n;
    if (classify(sc, ln) != 0)
        goto fail;
    return 0;
fail:
    sb_line_clear(ln);
    return -1;
}

/* ---- running ---- */

static void print_status(sb_script *sc, const rpc_status *st)
{
    if (sb_status_unreachable(st))
        sc->unreachable++;
    if (st->message[0] != '\0')
        fprintf(sc->out, "%s\n", st->message);
    else
        fprintf(sc->out, "Error: %s\n", sb_code_name(st->code));
}

/* Wrong arity: the token decides first (PROTOCOL.md priority 2). */
static void usage_or_not_login(sb_script *sc, const sb_line *ln)
{
    Sb__Social__SessionInfo *info = NULL;
    rpc_status st;
    int rc;

    if (ln->cmd->login_form) {
        fprintf(sc->out, "%s\n", ln->cmd->usage);
        return;
    }
    rc = sb_whoami(sc->s, ln->user, &info, &st);
    sb_free(info);
    if (rc == RPC_OK)
        fprintf(sc->out, "%s\n", ln->cmd->usage);
    else
        print_status(sc, &st);
}

int sb_script_call(sb_script *sc, const sb_line *ln)
{
    ProtobufCMessage *reply = NULL;
    sb_req req;
    rpc_status st;
    int rc;

    if (ln->cmd->build(ln->args, &req) != 0) {
        usage_or_not_login(sc, ln);
        return RPC_INVALID_ARGUMENT;
    }
    sc->t0 = sb_wall_ms();
    rc = sb_call(sc->s, ln->user, ln->cmd->method, &req.base,
                 ln->cmd->reply_desc, &reply, &st);
    sc->t1 = sb_wall_ms();
    if (rc == RPC_OK)
        ln->cmd->print(sc, ln, reply);
    else
        print_status(sc, &st);
    sb_free(reply);
    return rc;
}

int sb_script_unreachable(const sb_script *sc)
{
    return sc->unreachable;
}

static void print_delivery(FILE *out, const Sb__Social__Delivery *d)
{
    int n = sb_format_delivery(NULL, 0, d);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;

    if (buf == NULL)
        return;
    sb_format_delivery(buf, (size_t)n + 1, d);
    fprintf(out, "%s\n", buf);
    free(buf);
}

/* Prints to out and acknowledges what is waiting for h. */
static void drain(sb_script *sc, held *h, FILE *out)
{
    Sb__Social__ReceiveReply *r = NULL;
    uint64_t upto = h->last_seq;
    rpc_status st;
    int rc;

    rc = sb_receive(sc->s, &h->u, h->last_seq, 0, &r, &st);
    if (rc == RPC_UNAUTHENTICATED) {
        h->dead = 1; /* logged out or deleted: its token never comes back */
        return;
    }
    if (rc != RPC_OK) {
        fprintf(stderr, "sb: receive for %s: %s\n", h->u.name, st.message);
        return;
    }
    for (size_t i = 0; i < r->n_deliveries; i++) {
        const Sb__Social__Delivery *d = r->deliveries[i];
        if (d->seq <= upto)
            continue; /* already printed (a retried Receive) */
        print_delivery(out, d);
        upto = d->seq;
    }
    sb_free(r);
    if (upto > h->last_seq) {
        h->last_seq = upto;
        if (sb_ack(sc->s, &h->u, upto, &st) != RPC_OK)
            fprintf(stderr, "sb: ack for %s: %s\n", h->u.name, st.message);
    }
}

static void deliver_all(sb_script *sc, FILE *out)
{
    for (size_t i = 0; i < sc->nheld; i++)
        if (!sc->held[i]->dead)
            drain(sc, sc->held[i], out);
}

int sb_script_line(sb_script *sc, const char *text, size_t len)
{
    sb_line ln;
    int done = 0;

    pthread_mutex_lock(&sc->mu);
    if (sb_line_parse(sc, text, len, &ln) != 0) {
        fputs(memchr(text, '\0', len) != NULL
                  ? "Bad input: a NUL byte in the line\n"
                  : "Out of memory\n",
              sc->out);
        goto out;
    }
    switch (ln.kind) {
    case SB_LINE_BLANK:
        break;
    case SB_LINE_EXIT:
        done = 1;
        break;
    case SB_LINE_UNKNOWN:
        fprintf(sc->out, "Unknown command %s\n", ln.words[0]);
        break;
    case SB_LINE_USAGE:
        usage_or_not_login(sc, &ln);
        break;
    case SB_LINE_CALL:
        sb_script_call(sc, &ln);
        break;
    }
    if (ln.kind != SB_LINE_BLANK && !done)
        deliver_all(sc, sc->out);
    sb_line_clear(&ln);
out:
    fflush(sc->out);
    pthread_mutex_unlock(&sc->mu);
    return done;
}

/* One round of the poller: what arrived, printed to out or, for a
 * terminal front end, gathered in memory under the lock and written to
 * fd after it (the main thread may be busy: it must never wait for us
 * while we wait for it to read). */
static void poll_once(poller *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = p->fd >= 0 ? open_memstream(&buf, &len) : NULL;

    if (p->fd >= 0 && mem == NULL)
        return;
    pthread_mutex_lock(&p->sc->mu);
    deliver_all(p->sc, mem != NULL ? mem : p->sc->out);
    fflush(p->sc->out);
    pthread_mutex_unlock(&p->sc->mu);
    if (mem == NULL)
        return;
    fclose(mem);
    for (size_t off = 0; off < len;) {
        ssize_t n = write(p->fd, buf + off, len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    free(buf);
}

/* Messages print as they arrive: drain every 200 ms. */
static void *poll_main(void *arg)
{
    poller *p = arg;
    struct timespec ts;

    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        if (p->stop)
            break;
        pthread_mutex_unlock(&p->mu);
        poll_once(p);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int sb_script_poll_start(sb_script *sc, int fd)
{
    poller *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return -1;
    p->sc = sc;
    p->fd = fd;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->tid, NULL, poll_main, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return -1;
    }
    sc->poll = p;
    return 0;
}

void sb_script_poll_stop(sb_script *sc)
{
    poller *p = sc->poll;

    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->tid, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
    sc->poll = NULL;
}

int sb_script_run(sb_script *sc, FILE *in, int interactive)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (interactive)
        sb_script_poll_start(sc, -1); /* without it, after each line */
    while ((n = getline(&line, &cap, in)) >= 0)
        if (sb_script_line(sc, line, (size_t)n))
            break;
    sb_script_poll_stop(sc);
    free(line);
    return sc->unreachable > 0 ? 1 : 0;
}
