/* test_store_conformance.c: the course cases of ../shared/conformance/np2018
 * replayed at the data level. A tiny driver applies the client's token rule
 * and the server's usage checks of PROTOCOL.md, turns each store_res into
 * its reply line, and compares with N.out: 3 on a fresh store, then 4, 5, 6
 * on one store. Skipped when ../shared is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_store_util.h"

#define MAXW 64
typedef struct client {
    tenv *t;
    char users[64][STORE_NAME_MAX + 1];
    char tokens[64][STORE_TOKEN_MAX + 1];
    int n;
    unsigned next_token;
    FILE *out;
} client;

static const char *token_of(client *c, const char *user)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->users[i], user))
            return c->tokens[i];
    return NULL;
}

static void join_words(char *dst, size_t cap, char **w, int n)
{
    dst[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i)
            strncat(dst, " ", cap - strlen(dst) - 1);
        strncat(dst, w[i], cap - strlen(dst) - 1);
    }
}

static void print_names(client *c, store_names *l, const char *empty)
{
    if (l->n == 0)
        fprintf(c->out, "%s\n", empty);
    for (size_t i = 0; i < l->n; i++)
        fprintf(c->out, "%s\n", l->v[i]);
    store_names_free(l);
}

/* The reply line of a write op's outcome; %s is the command's argument. */
static void reply(client *c, store_res r, const char *arg)
{
    static const char *const text[STORE_RES_COUNT] = {
        [STORE_OK] = "Success!",
        [STORE_NOT_LOGGED_IN] = "Not login yet",
        [STORE_ALREADY_USED] = "%s is already used",
        [STORE_NO_SUCH_USER] = "%s does not exist",
        [STORE_SELF] = "You cannot invite yourself",
        [STORE_ALREADY_FRIEND] = "%s is already your friend",
        [STORE_ALREADY_INVITED] = "Already invited",
        [STORE_INVITED_YOU] = "%s has invited you",
        [STORE_NOT_INVITED] = "%s did not invite you",
        [STORE_NOT_FRIEND] = "%s is not your friend",
        [STORE_NOT_ONLINE] = "%s is not online",
        [STORE_ALREADY_EXISTS] = "%s already exist",
        [STORE_NO_SUCH_GROUP] = "%s does not exist",
        [STORE_ALREADY_MEMBER] = "Already a member of %s",
        [STORE_NOT_MEMBER] = "You are not the member of %s",
    };
    const char *f = (unsigned)r < STORE_RES_COUNT ? text[r] : NULL;
    if (!f)
        f = "ERROR";
    fprintf(c->out, f, arg);
    fputc('\n', c->out);
}

typedef struct cmd {
    const char *name;
    int min, max; /* argument count after the user */
    const char *usage;
    store_op_kind op; /* 0: a read handled in do_read */
} cmd;

static const cmd cmds[] = {
    {"delete", 0, 0, "Usage: delete <user>", STORE_OP_DELETE},
    {"logout", 0, 0, "Usage: logout <user>", STORE_OP_LOGOUT},
    {"invite", 1, 1, "Usage: invite <user> <id>", STORE_OP_INVITE},
    {"list-invite", 0, 0, "Usage: list-invite <user>", 0},
    {"accept-invite", 1, 1, "Usage: accept-invite <user> <id>",
     STORE_OP_ACCEPT},
    {"list-friend", 0, 0, "Usage: list-friend <user>", 0},
    {"post", 1, MAXW, "Usage: post <user> <message>", STORE_OP_POST},
    {"receive-post", 0, 0, "Usage: receive-post <user>", 0},
    {"send", 2, MAXW, "Usage: send <user> <friend> <message>", STORE_OP_SEND},
    {"create-group", 1, 1, "Usage: create-group <user> <group>",
     STORE_OP_CREATE_GROUP},
    {"list-group", 0, 0, "Usage: list-group <user>", 0},
    {"list-joined", 0, 0, "Usage: list-joined <user>", 0},
    {"join-group", 1, 1, "Usage: join-group <user> <group>",
     STORE_OP_JOIN_GROUP},
    {"send-group", 2, MAXW, "Usage: send-group <user> <group> <message>",
     STORE_OP_SEND_GROUP},
};

static void do_read(client *c, const char *name, const char *tok)
{
    store_names l;
    store_posts p;
    store_str t = store_s(tok);
    if (!strcmp(name, "list-invite") && !store_list_invite(c->t->db, t, &l))
        print_names(c, &l, "No invitations");
    else if (!strcmp(name, "list-friend") &&
             !store_list_friend(c->t->db, t, &l))
        print_names(c, &l, "No friends");
    else if (!strcmp(name, "list-group") && !store_list_group(c->t->db, t, &l))
        print_names(c, &l, "No groups");
    else if (!strcmp(name, "list-joined") &&
             !store_list_joined(c->t->db, t, &l))
        print_names(c, &l, "No groups");
    else if (!strcmp(name, "receive-post") &&
             !store_receive_post(c->t->db, t, &p)) {
        if (p.n == 0)
            fprintf(c->out, "No posts\n");
        for (size_t i = 0; i < p.n; i++)
            fprintf(c->out, "%s: %s\n", p.v[i].author, p.v[i].text);
        store_posts_free(&p);
    } else
        fprintf(c->out, "ERROR\n");
}

static void do_account(client *c, char **w, int n)
{
    int reg = !strcmp(w[0], "register");
    if (n != 3) {
        fprintf(c->out, reg ? "Usage: register <username> <password>\n"
                            : "Usage: login <id> <password>\n");
        return;
    }
    if (reg) {
        char h[STORE_PWHASH_LEN];
        assert_int_equal(
            store_password_hash(w[2], strlen(w[2]), STORE_PW_FAST, h), 0);
        reply(c, wr(c->t, STORE_OP_REGISTER, NULL, w[1], h), w[1]);
        return;
    }
    store_user u;
    if (store_get_user(c->t->db, store_s(w[1]), &u) != STORE_OK ||
        store_password_verify(u.hash, w[2], strlen(w[2])) != 0) {
        fprintf(c->out, "No such user or password error\n");
        return;
    }
    char cand[32];
    store_wres out;
    snprintf(cand, sizeof cand, "tok%08x", c->next_token++);
    assert_int_equal(wr_full(c->t, STORE_OP_LOGIN, cand, w[1], NULL, &out),
                     STORE_OK);
    const char *have = token_of(c, w[1]);
    int i = c->n;
    for (int k = 0; have && k < c->n; k++)
        if (!strcmp(c->users[k], w[1]))
            i = k;
    if (i == c->n)
        c->n++;
    strcpy(c->users[i], w[1]);
    strcpy(c->tokens[i], out.token);
    fprintf(c->out, "Success!\n");
}

static void do_line(client *c, char *line)
{
    char *w[MAXW + 4];
    int n = 0;
    for (char *s = strtok(line, " \t\r\n"); s && n < MAXW + 3;
         s = strtok(NULL, " \t\r\n"))
        w[n++] = s;
    if (n == 0)
        return; /* a blank line is no command */
    if (!strcmp(w[0], "register") || !strcmp(w[0], "login")) {
        do_account(c, w, n);
        return;
    }
    const char *tok = n > 1 ? token_of(c, w[1]) : NULL;
    const cmd *cm = NULL;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(cmds[i].name, w[0]))
            cm = &cmds[i];
    if (!cm) {
        fprintf(c->out, "Unknown command %s\n", w[0]);
        return;
    }
    store_session s;
    if (!tok || store_whoami(c->t->db, store_s(tok), &s) != STORE_OK) {
        fprintf(c->out, "Not login yet\n");
        return;
    }
    int args = n - 2;
    if (args < cm->min || args > cm->max) {
        fprintf(c->out, "%s\n", cm->usage);
        return;
    }
    if (!cm->op) {
        do_read(c, cm->name, tok);
        return;
    }
    char text[STORE_TEXT_MAX + 1];
    int has_target = cm->op == STORE_OP_SEND || cm->op == STORE_OP_SEND_GROUP;
    const char *target = args >= 1 && cm->op != STORE_OP_POST ? w[2] : "";
    join_words(text, sizeof text, w + 2 + has_target, args - has_target);
    store_res r = wr(c->t, cm->op, tok, target, text);
    if (r == STORE_OK && cm->op == STORE_OP_LOGOUT)
        fprintf(c->out, "Bye!\n");
    else if (r == STORE_NO_SUCH_USER && cm->op == STORE_OP_SEND)
        fprintf(c->out, "No such user exist\n");
    else if (r == STORE_NO_SUCH_GROUP && cm->op == STORE_OP_SEND_GROUP)
        fprintf(c->out, "No such group exist\n");
    else
        reply(c, r, target);
}

static void run_case(tenv *t, const char *shared, int num)
{
    char path[1024], line[8192];
    client *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->t = t;
    c->next_token = (unsigned)num << 16;
    char *got = NULL;
    size_t got_len = 0;
    c->out = open_memstream(&got, &got_len);
    snprintf(path, sizeof path, "%s/conformance/np2018/%d.in", shared, num);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    while (fgets(line, sizeof line, in)) {
        char copy[8192];
        strcpy(copy, line);
        if (!strtok(copy, " \t\r\n"))
            continue; /* blank */
        if (!strcmp(strtok(line, "\r\n"), "exit"))
            break;
        do_line(c, line);
    }
    fclose(in);
    fclose(c->out);
    snprintf(path, sizeof path, "%s/conformance/np2018/%d.out", shared, num);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *want = calloc(1, 1 << 20);
    size_t wl = fread(want, 1, (1 << 20) - 1, f);
    fclose(f);
    want[wl] = 0;
    if (strcmp(got, want) != 0) {
        size_t i = 0;
        while (got[i] && got[i] == want[i])
            i++;
        print_error(
            "case %d differs at byte %zu:\n--- got\n%.200s\n--- want\n%.200s\n",
            num, i, got + i, want + i);
    }
    assert_string_equal(got, want);
    free(want);
    free(got);
    free(c);
}

static void test_cases(void **state)
{
    const char *shared = getenv("SB_SHARED_DIR");
    if (!shared || !*shared)
        skip();
    store_opts o = {.nosync = 1};
    tenv t = {0};
    assert_int_equal(tenv_open(&t, &o), 0);
    run_case(&t, shared, 3);
    tenv_close(&t, 1);
    memset(&t, 0, sizeof t);
    assert_int_equal(tenv_open(&t, &o), 0);
    for (int i = 4; i <= 6; i++)
        run_case(&t, shared, i);
    tenv_close(&t, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cases)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
