/* test_sb_script.c: script mode of `sb` (clients/sb_script.c and the
 * command table) against a fake transport: a small in-memory Login/App
 * server that checks tokens the way PROTOCOL.md says and records every
 * call after a real protobuf pack/unpack round trip. What is tested is
 * the real parser, table, printing, delivery and re-login code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb.h"
#include "sb_script.h"

#define MAXU 8
#define MAXC 64

typedef struct fake_call {
    char method[64];
    char token[SB_TOKEN_MAX]; /* "" = none */
    char endpoint[SB_ENDPOINT_MAX];
    ProtobufCMessage *req; /* unpacked from the packed request */
    int has_id;
    uint8_t id[RPC_REQUEST_ID_LEN]; /* the request id the call carried */
} fake_call;

typedef struct fake {
    struct {
        char name[32], pw[32], token[64];
        int online;
    } u[MAXU];
    int nu;
    fake_call calls[MAXC];
    int ncalls;
    Sb__Social__Delivery *mail[4]; /* waiting for user "alice" */
    size_t nmail;
    int dead_endpoint_relogins;
} fake;

static int refuse(rpc_status *st, int code, const char *msg)
{
    st->code = code;
    snprintf(st->message, sizeof(st->message), "%s", msg);
    return code;
}

static int user_by_token(fake *f, const char *token)
{
    for (int i = 0; token != NULL && i < f->nu; i++)
        if (f->u[i].online && strcmp(f->u[i].token, token) == 0)
            return i;
    return -1;
}

static int user_by_name(fake *f, const char *name)
{
    for (int i = 0; i < f->nu; i++)
        if (strcmp(f->u[i].name, name) == 0)
            return i;
    return -1;
}

static ProtobufCMessage *empty_of(const ProtobufCMessageDescriptor *d)
{
    return protobuf_c_message_unpack(d, NULL, 0, NULL);
}

static int fake_login(fake *f, const Sb__Social__LoginRequest *r,
                      ProtobufCMessage **reply, rpc_status *st)
{
    Sb__Social__LoginReply *lr;
    int i;

    if (r->old_token[0] != '\0') {
        if ((i = user_by_token(f, r->old_token)) < 0)
            return refuse(st, RPC_UNAUTHENTICATED, "Not login yet");
        f->dead_endpoint_relogins++;
    } else if ((i = user_by_name(f, r->name)) < 0 ||
               strcmp(f->u[i].pw, r->password) != 0) {
        return refuse(st, RPC_UNAUTHENTICATED,
                      "No such user or password error");
    }
    if (!f->u[i].online) {
        char name[32];
        memcpy(name, f->u[i].name, sizeof(name));
        snprintf(f->u[i].token, sizeof(f->u[i].token), "tok-%s-%d", name,
                 f->ncalls);
    }
    f->u[i].online = 1;
    lr = (Sb__Social__LoginReply *)empty_of(
        &sb__social__login_reply__descriptor);
    lr->token = strdup(f->u[i].token);
    lr->app_endpoint = strdup("fake://app-1");
    *reply = &lr->base;
    return RPC_OK;
}

/* The fake server proper, dispatching on the method name. */
static int fake_serve(fake *f, const char *ep, const char *method,
                      const char *token, ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *rd,
                      ProtobufCMessage **reply, rpc_status *st)
{
    int me;

    if (ep != NULL && strcmp(ep, "fake://dead") == 0)
        return refuse(st, RPC_UNAVAILABLE, "connection refused");
    if (strcmp(method, sb_social_Login_RegisterUser_METHOD) == 0) {
        Sb__Social__RegisterRequest *r = (Sb__Social__RegisterRequest *)req;
        char msg[128];
        if (user_by_name(f, r->name) >= 0) {
            snprintf(msg, sizeof(msg), "%s is already used", r->name);
            return refuse(st, RPC_ALREADY_EXISTS, msg);
        }
        snprintf(f->u[f->nu].name, 32, "%s", r->name);
        snprintf(f->u[f->nu++].pw, 32, "%s", r->password);
    } else if (strcmp(method, sb_social_Login_Login_METHOD) == 0) {
        return fake_login(f, (Sb__Social__LoginRequest *)req, reply, st);
    } else if ((me = user_by_token(f, token)) < 0) {
        return refuse(st, RPC_UNAUTHENTICATED, "Not login yet");
    } else if (strcmp(method, sb_social_Login_Logout_METHOD) == 0) {
        f->u[me].online = 0;
    } else if (strcmp(method, sb_social_App_ListFriend_METHOD) == 0 &&
               strcmp(f->u[me].name, "alice") == 0) {
        Sb__Social__NameList *nl = (Sb__Social__NameList *)empty_of(
            &sb__social__name_list__descriptor);
        nl->names = malloc(2 * sizeof(char *));
        nl->names[0] = strdup("bob");
        nl->names[1] = strdup("carol");
        nl->n_names = 2;
        *reply = &nl->base;
        return RPC_OK;
    } else if (strcmp(method, sb_social_App_Receive_METHOD) == 0 &&
               strcmp(f->u[me].name, "alice") == 0 && f->nmail > 0) {
        Sb__Social__ReceiveReply *rr = (Sb__Social__ReceiveReply *)empty_of(
            &sb__social__receive_reply__descriptor);
        /* Hand the queued deliveries over (the reply now owns them). */
        rr->deliveries = malloc(f->nmail * sizeof(*rr->deliveries));
        memcpy(rr->deliveries, f->mail, f->nmail * sizeof(*f->mail));
        rr->n_deliveries = f->nmail;
        f->nmail = 0;
        *reply = &rr->base;
        return RPC_OK;
    }
    *reply = empty_of(rd);
    return RPC_OK;
}

static int fake_call_fn(void *arg, const char *ep, const char *method,
                        const char *token, const uint8_t *request_id,
                        const ProtobufCMessage *req,
                        const ProtobufCMessageDescriptor *rd,
                        ProtobufCMessage **reply, rpc_status *st)
{
    fake *f = arg;
    uint8_t buf[4096];
    size_t n = protobuf_c_message_get_packed_size(req);
    fake_call *c;

    assert_true(n <= sizeof(buf));
    protobuf_c_message_pack(req, buf);
    assert_true(f->ncalls < MAXC);
    c = &f->calls[f->ncalls++];
    snprintf(c->method, sizeof(c->method), "%s", method);
    snprintf(c->token, sizeof(c->token), "%s", token ? token : "");
    snprintf(c->endpoint, sizeof(c->endpoint), "%s", ep ? ep : "");
    c->has_id = request_id != NULL;
    if (request_id != NULL)
        memcpy(c->id, request_id, sizeof(c->id));
    c->req = protobuf_c_message_unpack(req->descriptor, NULL, n, buf);
    assert_non_null(c->req);
    *reply = NULL;
    st->code = RPC_OK;
    st->message[0] = '\0';
    return fake_serve(f, ep, method, token, c->req, rd, reply, st);
}

typedef struct env {
    fake f;
    sb_session *s;
    sb_script *sc;
    char *outbuf;
    size_t outlen;
    FILE *out;
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof(*e));
    sb_transport t = {fake_call_fn, NULL, &e->f};
    rpc_status st;

    assert_int_equal(sb_open_with(&e->s, &t, &st), RPC_OK);
    e->out = open_memstream(&e->outbuf, &e->outlen);
    assert_int_equal(sb_script_new(&e->sc, e->s, e->out), 0);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;

    sb_script_free(e->sc);
    sb_close(e->s);
    fclose(e->out);
    free(e->outbuf);
    for (int i = 0; i < e->f.ncalls; i++)
        protobuf_c_message_free_unpacked(e->f.calls[i].req, NULL);
    for (size_t i = 0; i < e->f.nmail; i++)
        protobuf_c_message_free_unpacked(&e->f.mail[i]->base, NULL);
    free(e);
    return 0;
}

/* Feeds lines and returns everything printed since the last call. */
static const char *run(env *e, const char *lines)
{
    static char last[4096];
    size_t before;
    const char *p = lines;

    fflush(e->out);
    before = e->outlen;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (sb_script_line(e->sc, p, n))
            break;
        p += n;
    }
    fflush(e->out);
    snprintf(last, sizeof(last), "%.*s", (int)(e->outlen - before),
             e->outbuf + before);
    return last;
}

static const fake_call *last_call(env *e, const char *method)
{
    for (int i = e->f.ncalls - 1; i >= 0; i--)
        if (strcmp(e->f.calls[i].method, method) == 0)
            return &e->f.calls[i];
    return NULL;
}

static void login_alice_bob(env *e)
{
    assert_string_equal(run(e, "register alice pa\nregister bob pb\n"
                               "login alice pa\nlogin bob pb\n"),
                        "Success!\nSuccess!\nSuccess!\nSuccess!\n");
}

static void test_table_is_consistent(void **state)
{
    size_t n;
    const sb_cmd *t = sb_cmd_table(&n);

    assert_true(n >= 16);
    for (size_t i = 0; i < n; i++) {
        char want[64];
        int words = 0;
        snprintf(want, sizeof(want), "Usage: %s ", t[i].name);
        assert_memory_equal(t[i].usage, want, strlen(want));
        for (const char *p = t[i].usage; *p; p++)
            words += *p == '<';
        assert_int_equal(words, t[i].nargs); /* usage shows the arity */
        assert_ptr_equal(sb_cmd_find(t[i].name), &t[i]);
        assert_non_null(t[i].method);
    }
    assert_null(sb_cmd_find("reg"));
    assert_null(sb_cmd_find("exit"));
}

static void test_parse_words_and_text(void **state)
{
    env *e = *state;
    sb_line ln;

    login_alice_bob(e);
    assert_int_equal(sb_line_parse(e->sc, "  \t\r\n", 5, &ln), 0);
    assert_int_equal(ln.kind, SB_LINE_BLANK);
    sb_line_clear(&ln);
    assert_int_equal(sb_line_parse(e->sc, "exit\n", 5, &ln), 0);
    assert_int_equal(ln.kind, SB_LINE_EXIT);
    sb_line_clear(&ln);
    assert_int_equal(sb_line_parse(e->sc, "exit now", 8, &ln), 0);
    assert_int_equal(ln.kind, SB_LINE_UNKNOWN);
    sb_line_clear(&ln);
    const char *l = "send  alice\tbob  hi   there  you\r\n";
    assert_int_equal(sb_line_parse(e->sc, l, strlen(l), &ln), 0);
    assert_int_equal(ln.kind, SB_LINE_CALL);
    assert_string_equal(ln.user->name, "alice");
    assert_int_equal(ln.nargs, 2);
    assert_string_equal(ln.args[0], "bob");
    assert_string_equal(ln.args[1], "hi there you");
    sb_line_clear(&ln);
    l = "invite mallory bob";
    assert_int_equal(sb_line_parse(e->sc, l, strlen(l), &ln), 0);
    assert_int_equal(ln.kind, SB_LINE_CALL);
    assert_null(ln.user); /* not held: the word is dropped */
    sb_line_clear(&ln);
    assert_int_equal(sb_line_parse(e->sc, "post a\0b", 8, &ln), -1);
}

static void test_token_substitution_and_drop(void **state)
{
    env *e = *state;
    const fake_call *c;
    Sb__Social__PostRequest *pr;

    login_alice_bob(e);
    assert_string_equal(run(e, "post alice hello    world\n"), "Success!\n");
    c = last_call(e, sb_social_App_Post_METHOD);
    assert_string_equal(c->token, e->f.u[0].token);
    assert_string_equal(c->endpoint, "fake://app-1");
    pr = (Sb__Social__PostRequest *)c->req;
    assert_string_equal(pr->text, "hello world");
    /* An unknown user word is dropped: sent with no token at all. */
    assert_string_equal(run(e, "invite mallory bob\n"), "Not login yet\n");
    c = last_call(e, sb_social_App_Invite_METHOD);
    assert_string_equal(c->token, "");
    assert_string_equal(((Sb__Social__InviteRequest *)c->req)->id, "bob");
}

static void test_priority_token_then_usage(void **state)
{
    env *e = *state;
    int before;

    login_alice_bob(e);
    /* Wrong arity with a valid token: the server is asked, then usage. */
    assert_string_equal(run(e, "invite alice bob extra\n"),
                        "Usage: invite <user> <id>\n");
    assert_string_equal(last_call(e, sb_social_Login_WhoAmI_METHOD)->token,
                        e->f.u[0].token);
    /* Wrong arity with no token: Not login yet wins. */
    assert_string_equal(run(e, "invite\ninvite a\nlist-group\npost alice\n"),
                        "Not login yet\nNot login yet\nNot login yet\n"
                        "Usage: post <user> <message>\n");
    /* register/login: usage locally, no call at all. */
    before = e->f.ncalls;
    assert_string_equal(run(e, "register a\nlogin a b c\nreg a a\nexi\n"),
                        "Usage: register <username> <password>\n"
                        "Usage: login <id> <password>\n"
                        "Unknown command reg\nUnknown command exi\n");
    for (int i = before; i < e->f.ncalls; i++)
        assert_string_equal(e->f.calls[i].method, sb_social_App_Receive_METHOD);
    /* A malformed number takes the usage path too, after the token. */
    assert_string_equal(run(e, "draw alice many\ndraw nobody many\n"),
                        "Usage: draw <user> <count>\nNot login yet\n");
}

static void test_lists_and_stale_tokens(void **state)
{
    env *e = *state;
    char old[SB_TOKEN_MAX];

    login_alice_bob(e);
    assert_string_equal(run(e, "list-friend alice\nlist-friend bob\n"
                               "list-invite bob\nlist-group bob\n"
                               "receive-post bob\n"),
                        "bob\ncarol\nNo friends\nNo invitations\nNo groups\n"
                        "No posts\n");
    snprintf(old, sizeof(old), "%s", e->f.u[0].token);
    assert_string_equal(run(e, "logout alice\npost alice hi\nlogout alice\n"),
                        "Bye!\nNot login yet\nNot login yet\n");
    /* The stale token stays in the table and is sent as is. */
    assert_string_equal(last_call(e, sb_social_Login_Logout_METHOD)->token,
                        old);
    assert_int_equal(sb_script_nheld(e->sc), 2);
    /* Logging in again keeps alice's first-login position. */
    assert_string_equal(run(e, "login alice pa\n"), "Success!\n");
    assert_string_equal(sb_script_held(e->sc, 0)->name, "alice");
    assert_string_not_equal(sb_script_held(e->sc, 0)->token, old);
}

static Sb__Social__Delivery *mk(uint64_t seq, int kind, const char *from,
                                const char *to, const char *group,
                                const char *text)
{
    Sb__Social__Delivery *d = malloc(sizeof(*d));

    sb__social__delivery__init(d);
    d->seq = seq;
    d->kind = kind;
    d->from = strdup(from);
    d->to = strdup(to);
    d->group = strdup(group);
    d->text = strdup(text);
    return d;
}

static void test_delivery_after_reply(void **state)
{
    env *e = *state;
    const fake_call *c;

    login_alice_bob(e);
    e->f.mail[0] = mk(1, SB__SOCIAL__DELIVERY__KIND__DIRECT, "bob", "alice", "",
                      "hi there");
    e->f.mail[1] =
        mk(2, SB__SOCIAL__DELIVERY__KIND__GROUP, "bob", "alice", "g1", "all");
    e->f.mail[2] = mk(3, SB__SOCIAL__DELIVERY__KIND__ROOM, "carol", "alice",
                      "lobby", "yo");
    e->f.nmail = 3;
    assert_string_equal(run(e, "send bob alice hi there\n"),
                        "Success!\n<<<bob->alice: hi there>>>\n"
                        "<<<bob->GROUP<g1>: all>>>\n"
                        "<<<carol->ROOM<lobby>: yo>>>\n");
    c = last_call(e, sb_social_App_Ack_METHOD);
    assert_non_null(c);
    assert_int_equal(((Sb__Social__AckRequest *)c->req)->upto_seq, 3);
    assert_string_equal(c->token, e->f.u[0].token);
    /* alice's next Receive asks only for what follows the ack. */
    assert_string_equal(run(e, "list-friend bob\n"), "No friends\n");
    for (int i = e->f.ncalls - 1; i >= 0; i--) {
        c = &e->f.calls[i];
        if (strcmp(c->method, sb_social_App_Receive_METHOD) == 0 &&
            strcmp(c->token, e->f.u[0].token) == 0)
            break;
    }
    assert_int_equal(((Sb__Social__ReceiveRequest *)c->req)->after_seq, 3);
    /* exit stops at once: nothing after it runs. */
    assert_string_equal(run(e, "exit\nlist-friend alice\n"), "");
}

static void test_relogin_when_app_server_gone(void **state)
{
    env *e = *state;
    sb_user u;
    rpc_status st;

    login_alice_bob(e);
    u = *sb_script_held(e->sc, 0);
    snprintf(u.endpoint, sizeof(u.endpoint), "fake://dead");
    assert_int_equal(sb_post(e->s, &u, "still here", &st), RPC_OK);
    assert_int_equal(e->f.dead_endpoint_relogins, 1);
    assert_string_equal(u.endpoint, "fake://app-1");
    assert_string_equal(last_call(e, sb_social_App_Post_METHOD)->endpoint,
                        "fake://app-1");
    /* The re-sent Post carries the failed one's request id, so a store
     * that committed before the app server died applies it once. */
    {
        const fake_call *p[2] = {NULL, NULL};
        for (int i = 0; i < e->f.ncalls; i++)
            if (strcmp(e->f.calls[i].method, sb_social_App_Post_METHOD) == 0) {
                p[0] = p[1];
                p[1] = &e->f.calls[i];
            }
        assert_non_null(p[0]);
        assert_string_equal(p[0]->endpoint, "fake://dead");
        assert_true(p[0]->has_id && p[1]->has_id);
        assert_memory_equal(p[0]->id, p[1]->id, RPC_REQUEST_ID_LEN);
    }
    /* A token that ended is the answer, not a retry loop. */
    assert_int_equal(sb_logout(e->s, &u, &st), RPC_OK);
    snprintf(u.endpoint, sizeof(u.endpoint), "fake://dead");
    assert_int_equal(sb_post(e->s, &u, "gone", &st), RPC_UNAUTHENTICATED);
    assert_string_equal(st.message, "Not login yet");
}

static void test_format_delivery(void **state)
{
    Sb__Social__Delivery *d =
        mk(1, SB__SOCIAL__DELIVERY__KIND__GROUP, "a b", "x", "G", "t>>>");
    char buf[8];

    assert_int_equal(sb_format_delivery(NULL, 0, d),
                     (int)strlen("<<<a b->GROUP<G>: t>>>>>>"));
    sb_format_delivery(buf, sizeof(buf), d); /* truncates, stays a string */
    assert_string_equal(buf, "<<<a b-");
    protobuf_c_message_free_unpacked(&d->base, NULL);
}

/* A room that closed under its member: the three shapes script mode
 * prints (the reason from the server, or an unknown one as given). */
static void test_format_room_closed(void **state)
{
    static const char *const why[][2] = {
        {"deleted", "<<<ROOM<den> deleted by bob; you are in lobby>>>"},
        {"session ended",
         "<<<ROOM<den> closed: bob's session ended; you are in lobby>>>"},
        {"moved", "<<<ROOM<den> closed (moved); you are in lobby>>>"},
    };
    char buf[128];

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        Sb__Social__Delivery *d = mk(1, SB__SOCIAL__DELIVERY__KIND__ROOM_CLOSED,
                                     "bob", "alice", "den", why[i][0]);
        sb_format_delivery(buf, sizeof(buf), d);
        assert_string_equal(buf, why[i][1]);
        protobuf_c_message_free_unpacked(&d->base, NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_consistent),
        cmocka_unit_test_setup_teardown(test_parse_words_and_text, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_substitution_and_drop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_priority_token_then_usage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lists_and_stale_tokens, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delivery_after_reply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_relogin_when_app_server_gone,
                                        setup, teardown),
        cmocka_unit_test(test_format_delivery),
        cmocka_unit_test(test_format_room_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
