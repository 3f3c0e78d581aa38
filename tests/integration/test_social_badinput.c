/* test_social_badinput.c: bad input on the public methods of the login
 * and app endpoints through the raw RPC client (hand-built messages, no
 * libsb checks in the way): missing fields, strings over the limits, NUL
 * bytes inside names, bytes that are not UTF-8. Each must get a clear
 * status (never a crash or a transport failure), and the server must keep
 * serving a good call afterwards. Real sbd child on 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"
#include "social.pb-c.h"
#include "social.sb.h"
#include "test_social_proc.h"

/* A message with two optional bytes fields 1 and 2: on the wire the same
 * as any request whose fields 1 and 2 are strings, but it can carry NUL
 * bytes, invalid UTF-8 or nothing at all. */
typedef struct raw2 {
    ProtobufCMessage base;
    protobuf_c_boolean has_a;
    ProtobufCBinaryData a;
    protobuf_c_boolean has_b;
    ProtobufCBinaryData b;
} raw2;

static const ProtobufCFieldDescriptor raw2_fields[2] = {
    {"a", 1, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_BYTES,
     offsetof(raw2, has_a), offsetof(raw2, a), NULL, NULL, 0, 0, NULL, NULL},
    {"b", 2, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_BYTES,
     offsetof(raw2, has_b), offsetof(raw2, b), NULL, NULL, 0, 0, NULL, NULL},
};
static const unsigned raw2_by_name[2] = {0, 1};
static const ProtobufCIntRange raw2_ranges[2] = {{1, 0}, {0, 2}};
static const ProtobufCMessageDescriptor raw2_desc = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "t.Raw2",
    "Raw2",
    "T__Raw2",
    "t",
    sizeof(raw2),
    2,
    raw2_fields,
    raw2_by_name,
    1,
    raw2_ranges,
    NULL,
    NULL,
    NULL,
    NULL};

#define BIG (100 * 1024)

static tsp_sbd g_sbd;
static rpc_client *g_login, *g_app;
static char g_token[128];
static char *g_big;

static raw2 mk(const char *a, size_t alen, const char *b, size_t blen)
{
    raw2 m = {.base = PROTOBUF_C_MESSAGE_INIT(&raw2_desc)};
    if (a) {
        m.has_a = 1;
        m.a.data = (uint8_t *)a;
        m.a.len = alen;
    }
    if (b) {
        m.has_b = 1;
        m.b.data = (uint8_t *)b;
        m.b.len = blen;
    }
    return m;
}

/* Sends m as method; returns the code after checking it is a clear answer
 * from the server, not a crash, a hang or a transport failure. */
static int call(rpc_client *c, const char *method, const raw2 *m,
                const ProtobufCMessageDescriptor *rd, const char *what)
{
    rpc_opts o = {.timeout_ms = 5000,
                  .token = g_token[0] ? g_token : NULL,
                  .no_retry = 1};
    ProtobufCMessage *reply = NULL;
    rpc_status st;
    int rc = rpc_client_call(c, method, &m->base, rd, &reply, &o, &st);

    printf("%-34s %-28s -> %s \"%s\"\n", what, method, rpc_code_name(rc),
           st.message);
    if (reply)
        protobuf_c_message_free_unpacked(reply, NULL);
    assert_true(rc != RPC_UNAVAILABLE && rc != RPC_DEADLINE_EXCEEDED &&
                rc != RPC_INTERNAL && rc != RPC_UNKNOWN && rc != RPC_CANCELLED);
    assert_true(rc == RPC_OK || st.message[0] != '\0');
    return rc;
}

static void reject(rpc_client *c, const char *method, raw2 m,
                   const ProtobufCMessageDescriptor *rd, const char *what)
{
    assert_int_not_equal(call(c, method, &m, rd, what), RPC_OK);
}

/* The server still answers a good call on both endpoints. */
static void still_serving(void)
{
    Sb__Social__Empty e = SB__SOCIAL__EMPTY__INIT;
    Sb__Social__SessionInfo *who = NULL;
    Sb__Social__NameList *fl = NULL;
    rpc_opts o = {.timeout_ms = 5000, .token = g_token};
    rpc_status st;

    assert_int_equal(sb_social_Login_WhoAmI(g_login, &e, &who, &o, &st),
                     RPC_OK);
    protobuf_c_message_free_unpacked(&who->base, NULL);
    assert_int_equal(sb_social_App_ListFriend(g_app, &e, &fl, &o, &st), RPC_OK);
    protobuf_c_message_free_unpacked(&fl->base, NULL);
}

static void test_login_methods(void **state)
{
    const ProtobufCMessageDescriptor *E = &sb__social__empty__descriptor;
    const ProtobufCMessageDescriptor *L = &sb__social__login_reply__descriptor;
    const char *R = sb_social_Login_RegisterUser_METHOD;
    const char *LI = sb_social_Login_Login_METHOD;
    (void)state;

    reject(g_login, R, mk(NULL, 0, "pw", 2), E, "register: no name");
    reject(g_login, R, mk("bob", 3, NULL, 0), E, "register: no password");
    reject(g_login, R, mk(NULL, 0, NULL, 0), E, "register: empty message");
    reject(g_login, R, mk(g_big, BIG, "pw", 2), E, "register: 100 KiB name");
    reject(g_login, R, mk(g_big, 65, "pw", 2), E, "register: 65-byte name");
    reject(g_login, R, mk("bob", 3, g_big, BIG), E, "register: 100 KiB pw");
    reject(g_login, LI, mk(NULL, 0, NULL, 0), L, "login: empty message");
    reject(g_login, LI, mk(g_big, BIG, "pw", 2), L, "login: 100 KiB name");
    still_serving();
}

/* NUL bytes inside strings. Run alone (`nul`): today they FAIL, because
 * protobuf-c ends unpacked strings at the first NUL, so "ali\0ce" arrives
 * as "ali" and is accepted (see the report to the lead); ctest lists this
 * case as disabled until the server rejects them. */
static void test_nul_bytes(void **state)
{
    const ProtobufCMessageDescriptor *E = &sb__social__empty__descriptor;
    const ProtobufCMessageDescriptor *L = &sb__social__login_reply__descriptor;
    const char *R = sb_social_Login_RegisterUser_METHOD;
    const char *LI = sb_social_Login_Login_METHOD;
    (void)state;

    reject(g_login, R, mk("ali\0ce", 6, "pw", 2), E, "register: NUL in name");
    reject(g_login, R, mk("\0", 1, "pw", 2), E, "register: name is NUL");
    reject(g_login, R, mk("bo\0b", 4, "pw", 2), E, "register: NUL, pw");
    reject(g_login, LI, mk("good\0x", 6, "pw", 2), L, "login: NUL in name");
    reject(g_login, LI, mk("good", 4, "pw\0x", 4), L, "login: NUL in pw");
    reject(g_app, sb_social_App_Invite_METHOD, mk("good\0x", 7, NULL, 0), E,
           "invite: NUL in id");
    reject(g_app, sb_social_App_Post_METHOD, mk("hi\0there", 8, NULL, 0), E,
           "post: NUL in text");
    reject(g_app, sb_social_App_Send_METHOD, mk("pe\0er", 5, "hi", 2), E,
           "send: NUL in name");
    reject(g_app, sb_social_App_CreateGroup_METHOD, mk("g\0x", 3, NULL, 0), E,
           "create-group: NUL");
    still_serving();
    /* "ali\0ce" must not have created "ali" (or anything) either. */
    raw2 m = mk("ali", 3, "pw", 2);
    assert_int_equal(call(g_login, LI, &m, L, "login: ali after NUL"),
                     RPC_UNAUTHENTICATED);
}

static void test_app_methods(void **state)
{
    const ProtobufCMessageDescriptor *E = &sb__social__empty__descriptor;
    const char *I = sb_social_App_Invite_METHOD;
    const char *P = sb_social_App_Post_METHOD;
    const char *S = sb_social_App_Send_METHOD;
    const char *CG = sb_social_App_CreateGroup_METHOD;
    const char *JG = sb_social_App_JoinGroup_METHOD;
    const char *SG = sb_social_App_SendGroup_METHOD;
    (void)state;

    reject(g_app, I, mk(NULL, 0, NULL, 0), E, "invite: no id");
    reject(g_app, I, mk(g_big, BIG, NULL, 0), E, "invite: 100 KiB id");
    reject(g_app, sb_social_App_AcceptInvite_METHOD, mk(NULL, 0, NULL, 0), E,
           "accept: no id");
    reject(g_app, P, mk(g_big, BIG, NULL, 0), E, "post: 100 KiB text");
    reject(g_app, S, mk(NULL, 0, "hi", 2), E, "send: no recipient");
    reject(g_app, S, mk("peer", 4, NULL, 0), E, "send: no text");
    reject(g_app, S, mk("peer", 4, g_big, BIG), E, "send: 100 KiB text");
    reject(g_app, CG, mk(NULL, 0, NULL, 0), E, "create-group: no name");
    reject(g_app, CG, mk(g_big, BIG, NULL, 0), E, "create-group: 100 KiB");
    reject(g_app, JG, mk(NULL, 0, NULL, 0), E, "join-group: no name");
    reject(g_app, SG, mk(NULL, 0, "hi", 2), E, "send-group: no group");
    still_serving();
}

/* Not UTF-8: PROTOCOL.md says nothing and the store keeps such names as
 * given (store_codec.c), so the answer must be a clear rejection or an
 * exact, usable round trip, and the server must keep serving. */
static void test_not_utf8(void **state)
{
    const ProtobufCMessageDescriptor *E = &sb__social__empty__descriptor;
    static const char bad[] = "\xc3\x28\xff\xfe"; /* invalid sequences */
    (void)state;

    raw2 reg = mk(bad, 4, "pw", 2);
    int rc = call(g_login, sb_social_Login_RegisterUser_METHOD, &reg, E,
                  "register: not UTF-8 name");
    if (rc == RPC_OK) {
        Sb__Social__UserList *ul = NULL;
        Sb__Social__Empty e = SB__SOCIAL__EMPTY__INIT;
        rpc_opts o = {.timeout_ms = 5000, .token = g_token};
        rpc_status st;
        int found = 0;
        assert_int_equal(sb_social_Login_ListUsers(g_login, &e, &ul, &o, &st),
                         RPC_OK);
        for (size_t i = 0; i < ul->n_users; i++)
            found += strcmp(ul->users[i]->name, bad) == 0;
        protobuf_c_message_free_unpacked(&ul->base, NULL);
        assert_int_equal(found, 1); /* kept byte-exact, once */
    }
    raw2 post = mk(bad, 4, NULL, 0);
    call(g_app, sb_social_App_Post_METHOD, &post, E, "post: not UTF-8 text");
    raw2 inv = mk(bad, 4, NULL, 0);
    call(g_app, sb_social_App_Invite_METHOD, &inv, E, "invite: not UTF-8");
    still_serving();
}

static int setup(void **state)
{
    Sb__Social__RegisterRequest rr = SB__SOCIAL__REGISTER_REQUEST__INIT;
    Sb__Social__LoginRequest lr = SB__SOCIAL__LOGIN_REQUEST__INIT;
    Sb__Social__Empty *e = NULL;
    Sb__Social__LoginReply *lrep = NULL;
    rpc_status st;
    char url[64];
    (void)state;

    if (tsp_init(&g_sbd) != 0 || tsp_start(&g_sbd) != 0)
        return -1;
    g_big = malloc(BIG);
    if (!g_big)
        return -1;
    memset(g_big, 'x', BIG);
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", g_sbd.port);
    if (rpc_client_open(&g_login, url, NULL) != 0)
        return -1;
    rr.name = "good";
    rr.password = "pw";
    if (sb_social_Login_RegisterUser(g_login, &rr, &e, NULL, &st) != RPC_OK)
        return -1;
    protobuf_c_message_free_unpacked(&e->base, NULL);
    lr.name = "good";
    lr.password = "pw";
    if (sb_social_Login_Login(g_login, &lr, &lrep, NULL, &st) != RPC_OK)
        return -1;
    snprintf(g_token, sizeof g_token, "%s", lrep->token);
    int rv = rpc_client_open(&g_app, lrep->app_endpoint, NULL);
    protobuf_c_message_free_unpacked(&lrep->base, NULL);
    return rv == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (g_app)
        rpc_client_close(g_app);
    if (g_login)
        rpc_client_close(g_login);
    free(g_big);
    tsp_cleanup(&g_sbd);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_methods),
        cmocka_unit_test(test_app_methods),
        cmocka_unit_test(test_not_utf8),
    };
    const struct CMUnitTest nul[] = {
        cmocka_unit_test(test_nul_bytes),
    };
    if (argc > 1 && strcmp(argv[1], "nul") == 0)
        return cmocka_run_group_tests(nul, setup, teardown);
    return cmocka_run_group_tests(tests, setup, teardown);
}
