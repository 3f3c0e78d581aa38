/* test_store_ops.c: every store operation and every outcome in the priority
 * order of PROTOCOL.md, on a real LMDB environment in a temp directory:
 * accounts and sessions, invitations and friends (case 3's logic), groups
 * (cases 4-5), send and mailbox (case 6), delete, bad input, passwords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_store_util.h"

static int setup(void **state)
{
    static tenv t;
    memset(&t, 0, sizeof t);
    store_opts o = {.nosync = 1};
    if (tenv_open(&t, &o))
        return -1;
    *state = &t;
    return 0;
}

static int teardown(void **state)
{
    tenv_close(*state, 1);
    return 0;
}

/* Asserts a name list equals the NULL-terminated expected names. */
static void expect_names(store_res r, store_names *l, ...)
{
    va_list ap;
    size_t i = 0;
    const char *want;
    assert_int_equal(r, STORE_OK);
    va_start(ap, l);
    while ((want = va_arg(ap, const char *))) {
        assert_true(i < l->n);
        assert_string_equal(l->v[i], want);
        i++;
    }
    va_end(ap);
    assert_int_equal(i, l->n);
    store_names_free(l);
}

static void test_register_login_logout(void **state)
{
    tenv *t = *state;
    store_wres out;
    store_user u;
    store_session s;
    assert_int_equal(wr(t, STORE_OP_REGISTER, NULL, "alice", "h1"), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_REGISTER, NULL, "alice", "h2"),
                     STORE_ALREADY_USED);
    assert_int_equal(store_get_user(t->db, store_s("alice"), &u), STORE_OK);
    assert_string_equal(u.hash, "h1");
    assert_int_equal(store_get_user(t->db, store_s("bob"), &u),
                     STORE_NO_SUCH_USER);

    assert_int_equal(wr(t, STORE_OP_LOGIN, "tokA", "nobody", NULL),
                     STORE_NO_SUCH_USER);
    assert_int_equal(wr_full(t, STORE_OP_LOGIN, "tokA", "alice", NULL, &out),
                     STORE_OK);
    assert_string_equal(out.token, "tokA");
    /* already logged in: the same token, the new candidate is not stored */
    assert_int_equal(wr_full(t, STORE_OP_LOGIN, "tokB", "alice", NULL, &out),
                     STORE_OK);
    assert_string_equal(out.token, "tokA");
    assert_int_equal(store_whoami(t->db, store_s("tokB"), &s),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(store_whoami(t->db, store_s("tokA"), &s), STORE_OK);
    assert_string_equal(s.user, "alice");
    assert_string_equal(s.server, "");
    assert_true(s.login_ms > 0);

    store_wop op = {.kind = STORE_OP_SET_SERVER};
    op.token = store_s("tokA");
    op.server = store_s("app-2");
    op.text = store_s("tcp://127.0.0.1:41235");
    assert_int_equal(store_writer_submit_wait(t->w, &op), STORE_OK);
    assert_int_equal(store_whoami(t->db, store_s("tokA"), &s), STORE_OK);
    assert_string_equal(s.server, "app-2");
    assert_string_equal(s.endpoint, "tcp://127.0.0.1:41235");
    op.token = store_s("nope");
    assert_int_equal(store_writer_submit_wait(t->w, &op), STORE_NOT_LOGGED_IN);

    assert_int_equal(wr(t, STORE_OP_LOGOUT, "tokA", NULL, NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_LOGOUT, "tokA", NULL, NULL),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(store_whoami(t->db, store_s("tokA"), &s),
                     STORE_NOT_LOGGED_IN);
    /* a new login gets the new candidate; the stale token stays dead */
    assert_int_equal(wr_full(t, STORE_OP_LOGIN, "tokC", "alice", NULL, &out),
                     STORE_OK);
    assert_string_equal(out.token, "tokC");
    assert_int_equal(store_whoami(t->db, store_s("tokA"), &s),
                     STORE_NOT_LOGGED_IN);
    /* a token already used by someone else is refused */
    assert_int_equal(wr(t, STORE_OP_REGISTER, NULL, "bob", "h"), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_LOGIN, "tokC", "bob", NULL),
                     STORE_ALREADY_EXISTS);
}

static void test_invite_accept_priority(void **state)
{
    tenv *t = *state;
    store_names l;
    for (int i = 1; i <= 4; i++) {
        char n[8];
        snprintf(n, sizeof n, "u%d", i);
        assert_int_equal(reg_login(t, n), STORE_OK);
    }
    /* token first, whatever the other arguments are */
    assert_int_equal(wr(t, STORE_OP_INVITE, "bad", "u1", NULL),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(wr(t, STORE_OP_INVITE, "bad", "", NULL),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tu1", "u1", NULL), STORE_SELF);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tu1", "FAKE", NULL),
                     STORE_NO_SUCH_USER);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tu1", "u2", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tu1", "u2", NULL),
                     STORE_ALREADY_INVITED);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tu2", "u1", NULL),
                     STORE_INVITED_YOU);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tu3", "u2", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tu4", "u2", NULL), STORE_OK);
    expect_names(store_list_invite(t->db, store_s("Tu2"), &l), &l, "u1", "u3",
                 "u4", NULL);
    expect_names(store_list_invite(t->db, store_s("Tu1"), &l), &l, NULL);
    assert_int_equal(store_list_invite(t->db, store_s("x"), &l),
                     STORE_NOT_LOGGED_IN);

    assert_int_equal(wr(t, STORE_OP_ACCEPT, "bad", "u1", NULL),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(wr(t, STORE_OP_ACCEPT, "Tu2", "ghost", NULL),
                     STORE_NOT_INVITED);
    assert_int_equal(wr(t, STORE_OP_ACCEPT, "Tu1", "u2", NULL),
                     STORE_NOT_INVITED);
    /* acceptance order, not invitation order, orders friendships */
    assert_int_equal(wr(t, STORE_OP_ACCEPT, "Tu2", "u4", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_ACCEPT, "Tu2", "u1", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_ACCEPT, "Tu2", "u1", NULL),
                     STORE_NOT_INVITED);
    expect_names(store_list_invite(t->db, store_s("Tu2"), &l), &l, "u3", NULL);
    expect_names(store_list_friend(t->db, store_s("Tu2"), &l), &l, "u4", "u1",
                 NULL);
    expect_names(store_list_friend(t->db, store_s("Tu1"), &l), &l, "u2", NULL);
    expect_names(store_list_friend(t->db, store_s("Tu3"), &l), &l, NULL);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tu1", "u2", NULL),
                     STORE_ALREADY_FRIEND);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tu2", "u1", NULL),
                     STORE_ALREADY_FRIEND);
    /* friend checked before "already invited": u2 invited... u3 invited u2 */
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tu2", "u3", NULL),
                     STORE_INVITED_YOU);
}

static void test_posts(void **state)
{
    tenv *t = *state;
    store_posts p;
    store_wres out;
    const char *u[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(reg_login(t, u[i]), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Ta", "b", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_ACCEPT, "Tb", "a", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tc", "a", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_ACCEPT, "Ta", "c", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_POST, "bad", NULL, "x"),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(wr_full(t, STORE_OP_POST, "Tb", NULL, "b1", &out),
                     STORE_OK);
    assert_true(out.seq > 0);
    assert_int_equal(wr(t, STORE_OP_POST, "Tc", NULL, "c1"), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_POST, "Ta", NULL, "a1"), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_POST, "Tb", NULL, "b2"), STORE_OK);
    assert_int_equal(store_receive_post(t->db, store_s("Ta"), &p), STORE_OK);
    assert_int_equal(p.n,
                     3); /* global order across friends, own posts not shown */
    assert_string_equal(p.v[0].author, "b");
    assert_string_equal(p.v[0].text, "b1");
    assert_string_equal(p.v[1].text, "c1");
    assert_string_equal(p.v[2].text, "b2");
    assert_true(p.v[0].seq < p.v[1].seq && p.v[1].seq < p.v[2].seq);
    store_posts_free(&p);
    assert_int_equal(store_receive_post(t->db, store_s("Tb"), &p), STORE_OK);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.v[0].text, "a1");
    store_posts_free(&p);
    assert_int_equal(store_receive_post(t->db, store_s("zz"), &p),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(p.n, 0);
}

static void test_groups(void **state)
{
    tenv *t = *state;
    store_names l;
    store_mails m;
    store_wres out;
    const char *u[] = {"g1u", "g2u", "g3u"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(reg_login(t, u[i]), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_CREATE_GROUP, "bad", "G", NULL),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(wr(t, STORE_OP_CREATE_GROUP, "Tg2u", "zeta", NULL),
                     STORE_OK);
    assert_int_equal(wr(t, STORE_OP_CREATE_GROUP, "Tg1u", "alpha", NULL),
                     STORE_OK);
    assert_int_equal(wr(t, STORE_OP_CREATE_GROUP, "Tg1u", "zeta", NULL),
                     STORE_ALREADY_EXISTS);
    expect_names(store_list_group(t->db, store_s("Tg3u"), &l), &l, "zeta",
                 "alpha", NULL);
    expect_names(store_list_joined(t->db, store_s("Tg3u"), &l), &l, NULL);
    assert_int_equal(wr(t, STORE_OP_JOIN_GROUP, "Tg1u", "nope", NULL),
                     STORE_NO_SUCH_GROUP);
    assert_int_equal(wr(t, STORE_OP_JOIN_GROUP, "Tg1u", "alpha", NULL),
                     STORE_ALREADY_MEMBER);
    assert_int_equal(wr(t, STORE_OP_JOIN_GROUP, "Tg1u", "zeta", NULL),
                     STORE_OK);
    assert_int_equal(wr(t, STORE_OP_JOIN_GROUP, "Tg3u", "zeta", NULL),
                     STORE_OK);
    expect_names(store_list_joined(t->db, store_s("Tg1u"), &l), &l, "alpha",
                 "zeta", NULL);

    assert_int_equal(wr(t, STORE_OP_SEND_GROUP, "bad", "zz", "x"),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(wr(t, STORE_OP_SEND_GROUP, "Tg1u", "nope", "x"),
                     STORE_NO_SUCH_GROUP);
    assert_int_equal(wr(t, STORE_OP_SEND_GROUP, "Tg2u", "alpha", "x"),
                     STORE_NOT_MEMBER);
    assert_int_equal(wr(t, STORE_OP_LOGOUT, "Tg3u", NULL, NULL), STORE_OK);
    /* online members only, the sender included */
    assert_int_equal(
        wr_full(t, STORE_OP_SEND_GROUP, "Tg1u", "zeta", "hi all", &out),
        STORE_OK);
    assert_int_equal(out.count, 2);
    assert_int_equal(store_mail_fetch(t->db, store_s("Tg1u"), 0, 0, &m),
                     STORE_OK);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.v[0].kind, STORE_MAIL_GROUP);
    assert_string_equal(m.v[0].from, "g1u");
    assert_string_equal(m.v[0].group, "zeta");
    assert_string_equal(m.v[0].text, "hi all");
    assert_true(m.v[0].time_ms > 0);
    store_mails_free(&m);
    assert_int_equal(wr(t, STORE_OP_LOGIN, "Tg3u", "g3u", NULL), STORE_OK);
    assert_int_equal(store_mail_fetch(t->db, store_s("Tg3u"), 0, 0, &m),
                     STORE_OK);
    assert_int_equal(m.n, 0);
}

static void test_send_and_mailbox(void **state)
{
    tenv *t = *state;
    store_mails m;
    store_wres out;
    const char *u[] = {"s1", "s2", "s3"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(reg_login(t, u[i]), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Ts1", "s2", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_ACCEPT, "Ts2", "s1", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_SEND, "bad", "s2", "x"),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(wr(t, STORE_OP_SEND, "Ts1", "qwer", "x"),
                     STORE_NO_SUCH_USER);
    assert_int_equal(wr(t, STORE_OP_SEND, "Ts1", "s3", "x"), STORE_NOT_FRIEND);
    assert_int_equal(wr(t, STORE_OP_SEND, "Ts1", "s1", "x"), STORE_NOT_FRIEND);
    uint64_t seqs[3];
    for (int i = 0; i < 3; i++) {
        char txt[16];
        snprintf(txt, sizeof txt, "m%d", i);
        assert_int_equal(wr_full(t, STORE_OP_SEND, "Ts1", "s2", txt, &out),
                         STORE_OK);
        seqs[i] = out.seq;
    }
    assert_int_equal(store_mail_fetch(t->db, store_s("Ts2"), 0, 2, &m),
                     STORE_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.v[0].text, "m0");
    assert_int_equal(m.v[0].kind, STORE_MAIL_DIRECT);
    assert_string_equal(m.v[0].group, "");
    assert_int_equal(m.v[1].seq, seqs[1]);
    store_mails_free(&m);
    assert_int_equal(store_mail_fetch(t->db, store_s("Ts2"), seqs[0], 0, &m),
                     STORE_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.v[0].text, "m1");
    store_mails_free(&m);
    /* ack deletes up to and including the seq; the rest stays */
    store_wop op = {.kind = STORE_OP_MAIL_ACK, .seq = seqs[1]};
    op.token = store_s("Ts2");
    assert_int_equal(store_writer_submit_wait(t->w, &op), STORE_OK);
    assert_int_equal(op.out.count, 2);
    assert_int_equal(store_mail_fetch(t->db, store_s("Ts2"), 0, 0, &m),
                     STORE_OK);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.v[0].text, "m2");
    store_mails_free(&m);
    assert_int_equal(wr(t, STORE_OP_LOGOUT, "Ts2", NULL, NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_SEND, "Ts1", "s2", "x"), STORE_NOT_ONLINE);
    assert_int_equal(store_mail_fetch(t->db, store_s("Ts2"), 0, 0, &m),
                     STORE_NOT_LOGGED_IN);
}

static void test_delete_everything(void **state)
{
    tenv *t = *state;
    store_names l;
    store_posts p;
    store_mails m;
    store_user u;
    const char *n[] = {"d", "f1", "f2", "i1", "i2"};
    for (int i = 0; i < 5; i++)
        assert_int_equal(reg_login(t, n[i]), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Td", "f1", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_ACCEPT, "Tf1", "d", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tf2", "d", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_ACCEPT, "Td", "f2", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Td", "i1", NULL),
                     STORE_OK); /* sent */
    assert_int_equal(wr(t, STORE_OP_INVITE, "Ti2", "d", NULL),
                     STORE_OK); /* received */
    assert_int_equal(wr(t, STORE_OP_INVITE, "Ti2", "i1", NULL),
                     STORE_OK); /* unrelated */
    assert_int_equal(wr(t, STORE_OP_POST, "Td", NULL, "by d"), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_POST, "Tf2", NULL, "by f2"), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_CREATE_GROUP, "Td", "dg", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_JOIN_GROUP, "Tf1", "dg", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_SEND, "Tf1", "d", "to d"), STORE_OK);

    assert_int_equal(wr(t, STORE_OP_DELETE, "bad", NULL, NULL),
                     STORE_NOT_LOGGED_IN);
    assert_int_equal(wr(t, STORE_OP_DELETE, "Td", NULL, NULL), STORE_OK);
    assert_int_equal(store_get_user(t->db, store_s("d"), &u),
                     STORE_NO_SUCH_USER);
    assert_int_equal(wr(t, STORE_OP_DELETE, "Td", NULL, NULL),
                     STORE_NOT_LOGGED_IN);
    expect_names(store_list_friend(t->db, store_s("Tf1"), &l), &l, NULL);
    expect_names(store_list_friend(t->db, store_s("Tf2"), &l), &l, NULL);
    expect_names(store_list_invite(t->db, store_s("Ti1"), &l), &l, "i2", NULL);
    assert_int_equal(store_receive_post(t->db, store_s("Tf1"), &p), STORE_OK);
    assert_int_equal(p.n, 0);
    /* the group stays, without d */
    expect_names(store_list_group(t->db, store_s("Tf1"), &l), &l, "dg", NULL);
    expect_names(store_list_users(t->db, store_s("Tf1"), &l), &l, "f1", "f2",
                 "i1", "i2", NULL);
    /* a new account with the same name inherits nothing */
    assert_int_equal(reg_login(t, "d"), STORE_OK);
    expect_names(store_list_friend(t->db, store_s("Td"), &l), &l, NULL);
    expect_names(store_list_joined(t->db, store_s("Td"), &l), &l, NULL);
    expect_names(store_list_invite(t->db, store_s("Td"), &l), &l, NULL);
    assert_int_equal(store_mail_fetch(t->db, store_s("Td"), 0, 0, &m),
                     STORE_OK);
    assert_int_equal(m.n, 0);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Td", "i1", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Ti2", "d", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_SEND_GROUP, "Tf1", "dg", "x"), STORE_OK);
    assert_int_equal(store_mail_fetch(t->db, store_s("Td"), 0, 0, &m),
                     STORE_OK);
    assert_int_equal(m.n, 0);
}

static void test_list_users_online(void **state)
{
    tenv *t = *state;
    store_names l;
    assert_int_equal(reg_login(t, "x1"), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_REGISTER, NULL, "x0", "h"), STORE_OK);
    assert_int_equal(store_list_users(t->db, store_s("Tx1"), &l), STORE_OK);
    assert_int_equal(l.n, 2);
    /* creation order (the course's order for lists), not name order */
    assert_string_equal(l.v[0], "x1");
    assert_string_equal(l.v[1], "x0");
    assert_int_equal(l.online[0], 1);
    assert_int_equal(l.online[1], 0);
    store_names_free(&l);
}

static void test_bad_input(void **state)
{
    tenv *t = *state;
    char big[STORE_TEXT_MAX + 2];
    char name65[66];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memset(name65, 'n', 65);
    name65[65] = 0;
    assert_int_equal(wr(t, STORE_OP_REGISTER, NULL, "", "h"),
                     STORE_INVALID_ARGUMENT);
    assert_int_equal(wr(t, STORE_OP_REGISTER, NULL, name65, "h"),
                     STORE_INVALID_ARGUMENT);
    name65[64] = 0;
    assert_int_equal(wr(t, STORE_OP_REGISTER, NULL, name65, "h"), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_REGISTER, NULL, "a b", "h"),
                     STORE_INVALID_ARGUMENT);
    assert_int_equal(wr(t, STORE_OP_REGISTER, NULL, "a\tb", "h"),
                     STORE_INVALID_ARGUMENT);
    assert_int_equal(wr(t, STORE_OP_REGISTER, NULL, "nohash", ""),
                     STORE_INVALID_ARGUMENT);
    store_wop op = {.kind = STORE_OP_REGISTER};
    op.name = (store_str){"ab\0c", 4};
    op.text = store_s("h");
    assert_int_equal(store_writer_submit_wait(t->w, &op),
                     STORE_INVALID_ARGUMENT);
    /* "ab" must not have been created by the truncated name */
    store_user u;
    assert_int_equal(store_get_user(t->db, store_s("ab"), &u),
                     STORE_NO_SUCH_USER);
    assert_int_equal(store_get_user(t->db, (store_str){"ab\0c", 4}, &u),
                     STORE_INVALID_ARGUMENT);
    /* non-UTF-8 bytes are stored as given */
    assert_int_equal(reg_login(t, "\xff\xfe\xc3"), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_POST, "T\xff\xfe\xc3", NULL, big),
                     STORE_INVALID_ARGUMENT);
    big[STORE_TEXT_MAX] = 0;
    assert_int_equal(wr(t, STORE_OP_POST, "T\xff\xfe\xc3", NULL, big),
                     STORE_OK);
    assert_int_equal(wr(t, STORE_OP_POST, "T\xff\xfe\xc3", NULL, ""),
                     STORE_INVALID_ARGUMENT);
    op = (store_wop){.kind = STORE_OP_POST};
    op.token = store_s("T\xff\xfe\xc3");
    op.text = (store_str){"a\0b", 3};
    assert_int_equal(store_writer_submit_wait(t->w, &op),
                     STORE_INVALID_ARGUMENT);
    op.kind = (store_op_kind)999;
    assert_int_equal(store_writer_submit_wait(t->w, &op),
                     STORE_INVALID_ARGUMENT);
    /* NULL pointers with lengths 0 are just empty */
    op = (store_wop){.kind = STORE_OP_INVITE};
    assert_int_equal(store_writer_submit_wait(t->w, &op), STORE_NOT_LOGGED_IN);
    assert_int_equal(store_writer_submit(t->w, NULL), STORE_INVALID_ARGUMENT);
    op.done = NULL; /* submit_wait left its own completion here */
    assert_int_equal(store_writer_submit(t->w, &op), STORE_INVALID_ARGUMENT);
    store_session s;
    char longtok[200];
    memset(longtok, 't', sizeof longtok - 1);
    longtok[sizeof longtok - 1] = 0;
    assert_int_equal(store_whoami(t->db, store_s(longtok), &s),
                     STORE_NOT_LOGGED_IN);
}

static void test_idempotent_reqid(void **state)
{
    tenv *t = *state;
    store_posts p;
    assert_int_equal(reg_login(t, "r1"), STORE_OK);
    assert_int_equal(reg_login(t, "r2"), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_INVITE, "Tr1", "r2", NULL), STORE_OK);
    assert_int_equal(wr(t, STORE_OP_ACCEPT, "Tr2", "r1", NULL), STORE_OK);
    store_wop op = {.kind = STORE_OP_POST};
    memset(op.reqid, 0xab, sizeof op.reqid);
    op.token = store_s("Tr1");
    op.text = store_s("once");
    assert_int_equal(store_writer_submit_wait(t->w, &op), STORE_OK);
    uint64_t seq = op.out.seq;
    assert_int_equal(store_writer_submit_wait(t->w, &op), STORE_OK);
    assert_int_equal(op.out.seq, seq);
    assert_int_equal(store_receive_post(t->db, store_s("Tr2"), &p), STORE_OK);
    assert_int_equal(p.n, 1);
    store_posts_free(&p);
    /* a stored failure comes back as it was, even if it would now succeed */
    store_wop reg = {.kind = STORE_OP_REGISTER};
    memset(reg.reqid, 0x11, sizeof reg.reqid);
    reg.name = store_s("r1");
    reg.text = store_s("h");
    assert_int_equal(store_writer_submit_wait(t->w, &reg), STORE_ALREADY_USED);
    /* login's stored token comes back on retry */
    store_wop lg = {.kind = STORE_OP_LOGIN};
    memset(lg.reqid, 0x22, sizeof lg.reqid);
    assert_int_equal(wr(t, STORE_OP_LOGOUT, "Tr1", NULL, NULL), STORE_OK);
    lg.name = store_s("r1");
    lg.token = store_s("fresh");
    assert_int_equal(store_writer_submit_wait(t->w, &lg), STORE_OK);
    lg.token = store_s("other");
    assert_int_equal(store_writer_submit_wait(t->w, &lg), STORE_OK);
    assert_string_equal(lg.out.token, "fresh");
    /* the same id twice inside one batch: applied once */
    store_wop a = op, b = op;
    memset(a.reqid, 0x33, sizeof a.reqid);
    memcpy(b.reqid, a.reqid, sizeof b.reqid);
    a.token = b.token = store_s("fresh");
    store_wop *batch[2] = {&a, &b};
    assert_int_equal(store_db_apply(t->db, batch, 2), 0);
    assert_int_equal(a.out.res, STORE_OK);
    assert_int_equal(b.out.seq, a.out.seq);
    assert_int_equal(store_receive_post(t->db, store_s("Tr2"), &p), STORE_OK);
    assert_int_equal(p.n, 2);
    store_posts_free(&p);
}

static void test_passwords(void **state)
{
    char h[STORE_PWHASH_LEN];
    assert_int_equal(store_password_hash("pw1", 3, STORE_PW_FAST, h), 0);
    assert_true(strncmp(h, "$argon2id$", 10) == 0);
    assert_int_equal(store_password_verify(h, "pw1", 3), 0);
    assert_int_equal(store_password_verify(h, "pw2", 3), -1);
    assert_int_equal(store_password_verify("garbage", "pw1", 3), -1);
    char longh[300];
    memset(longh, 'a', sizeof longh - 1);
    longh[sizeof longh - 1] = 0;
    assert_int_equal(store_password_verify(longh, "pw1", 3), -1);
}

static void test_result_names(void **state)
{
    assert_string_equal(store_res_name(STORE_OK), "OK");
    assert_string_equal(store_res_name(STORE_ERR_SHUTDOWN), "ERR_SHUTDOWN");
    assert_string_equal(store_res_name((store_res)1000), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_login_logout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invite_accept_priority, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_posts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_and_mailbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_everything, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_users_online, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_reqid, setup, teardown),
        cmocka_unit_test(test_passwords),
        cmocka_unit_test(test_result_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
