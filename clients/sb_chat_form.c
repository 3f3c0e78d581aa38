/* sb_chat_form.c: `sb chat`'s way in: log in, or register with each field
 * checked as it is typed - a bad one is asked again, alone. The checks
 * are the server's own (Login/RegisterUser with check_only: register's
 * checks, nothing written), so the words are the ones register would
 * give; the password is typed twice. Then clock sync and lobby. */
#include <stdlib.h>
#include <string.h>

#include "sb_chat.h"

#define CHAT_SYNC_SAMPLES 8

/* Register's checks on the fields given (the others left empty); prints
 * the server's words when one fails. 0 when they pass. */
static int server_check(sb_chat *c, const char *name, const char *pw,
                        const Sb__Social__Profile *prof)
{
    Sb__Social__RegisterRequest req = SB__SOCIAL__REGISTER_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    rpc_status st;
    int rc;

    req.name = (char *)name;
    req.password = (char *)pw;
    req.profile = (Sb__Social__Profile *)prof;
    req.check_only = 1;
    rc = sb_call(c->s, NULL, sb_social_Login_RegisterUser_METHOD, &req.base,
                 &sb__social__empty__descriptor, &reply, &st);
    sb_free(reply);
    if (rc != RPC_OK)
        printf("%s\n", st.message);
    return rc == RPC_OK ? 0 : -1;
}

/* The fields of the form, in the order asked. */
enum { F_FIRST, F_LAST, F_LOGIN, F_PASSWORD, F_AGE, F_GENDER, F_N };

typedef struct form {
    char *a[F_N];
    uint32_t age;
} form;

/* Checks answer v of field f (the server's words when it fails). */
static int check_field(sb_chat *c, form *fm, int f, const char *v)
{
    Sb__Social__Profile p = SB__SOCIAL__PROFILE__INIT;
    char *end = NULL;
    unsigned long n;

    p.first_name = p.last_name = p.gender = (char *)"";
    switch (f) {
    case F_LOGIN:
        if (v[0] == '\0' || strpbrk(v, " \t") != NULL) {
            printf("A login is one word\n");
            return -1;
        }
        return server_check(c, v, "", NULL);
    case F_PASSWORD:
        if (v[0] == '\0') {
            printf("The password cannot be empty\n");
            return -1;
        }
        return server_check(c, "", v, NULL);
    case F_AGE:
        /* not a number is out of range: the server says the range */
        p.age = UINT32_MAX;
        if (v[0] >= '0' && v[0] <= '9' && strlen(v) < 10 &&
            (n = strtoul(v, &end, 10), *end == '\0'))
            p.age = (uint32_t)n;
        fm->age = p.age;
        return server_check(c, "", "", &p);
    default: /* names and gender; an empty one is sent as " ", which is
                not printable either, for the server's words */
        *(f == F_FIRST  ? &p.first_name
          : f == F_LAST ? &p.last_name
                        : &p.gender) = (char *)(v[0] != '\0' ? v : " ");
        return server_check(c, "", "", &p);
    }
}

/* Asks field f until its answer passes; 0, or -1 at end of input. */
static int ask_field(sb_chat *c, form *fm, int f)
{
    static const char *const q[F_N] = {
        "First name: ", "Last name: ", "Login: ",
        "Password: ",   "Age: ",       "Gender: "};
    for (;;) {
        char *v = sb_term_ask(c->term, q[f], f == F_PASSWORD);
        if (v == NULL)
            return -1;
        if (check_field(c, fm, f, v) == 0) {
            free(fm->a[f]);
            fm->a[f] = v;
            return 0;
        }
        free(v);
    }
}

/* The password twice; 0, or -1 at end of input. */
static int ask_password(sb_chat *c, form *fm)
{
    for (;;) {
        char *again;
        int same;
        if (ask_field(c, fm, F_PASSWORD) != 0 ||
            (again = sb_term_ask(c->term, "Password again: ", 1)) == NULL)
            return -1;
        same = strcmp(again, fm->a[F_PASSWORD]) == 0;
        free(again);
        if (same)
            return 0;
        printf("The passwords differ; type it again\n");
    }
}

/* Sends the checked form; 0 registered and logged in, 1 refused, -1 end
 * of input. A login taken meanwhile is asked again. */
static int submit(sb_chat *c, form *fm)
{
    Sb__Social__RegisterRequest req = SB__SOCIAL__REGISTER_REQUEST__INIT;
    Sb__Social__Profile prof = SB__SOCIAL__PROFILE__INIT;
    ProtobufCMessage *reply = NULL;
    rpc_status st;
    int rc;

    prof.first_name = fm->a[F_FIRST];
    prof.last_name = fm->a[F_LAST];
    prof.gender = fm->a[F_GENDER];
    prof.age = fm->age;
    req.profile = &prof;
    req.password = fm->a[F_PASSWORD];
    for (;;) {
        req.name = fm->a[F_LOGIN];
        rc = sb_call(c->s, NULL, sb_social_Login_RegisterUser_METHOD, &req.base,
                     &sb__social__empty__descriptor, &reply, &st);
        sb_free(reply);
        reply = NULL;
        if (rc != RPC_ALREADY_EXISTS)
            break;
        printf("%s\n", st.message);
        if (ask_field(c, fm, F_LOGIN) != 0)
            return -1;
    }
    if (rc == RPC_OK)
        rc = sb_login(c->s, fm->a[F_LOGIN], fm->a[F_PASSWORD], &c->u, &st);
    if (rc != RPC_OK)
        printf("%s\n", st.message);
    return rc == RPC_OK ? 0 : 1;
}

static int do_register(sb_chat *c)
{
    form fm = {{0}, 0};
    int rc = -1;

    if (ask_field(c, &fm, F_FIRST) == 0 && ask_field(c, &fm, F_LAST) == 0 &&
        ask_field(c, &fm, F_LOGIN) == 0 && ask_password(c, &fm) == 0 &&
        ask_field(c, &fm, F_AGE) == 0 && ask_field(c, &fm, F_GENDER) == 0)
        rc = submit(c, &fm);
    for (int i = 0; i < F_N; i++)
        free(fm.a[i]);
    return rc;
}

static int do_login(sb_chat *c)
{
    char *name = sb_term_ask(c->term, "Login: ", 0), *pw = NULL;
    rpc_status st;
    int rc = -1;

    if (name == NULL || (pw = sb_term_ask(c->term, "Password: ", 1)) == NULL)
        goto out;
    rc = sb_login(c->s, name, pw, &c->u, &st) == RPC_OK ? 0 : 1;
    if (rc)
        printf("%s\n", st.message);
out:
    free(name);
    free(pw);
    return rc;
}

/* After the form: the clock, lobby, and the script engine holding us. */
static void enter(sb_chat *c)
{
    Sb__Social__RoomRequest rr = SB__SOCIAL__ROOM_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    rpc_status st;

    if (sb_clock_sync(c->s, &c->u, CHAT_SYNC_SAMPLES, &c->clock, &st) != RPC_OK)
        printf("Clock sync failed (%s); times are the server's anyway\n",
               st.message);
    printf("Welcome %s. Server clock offset %+lld ms (round trip %lld ms).\n",
           c->u.name, (long long)c->clock.offset_ms,
           (long long)c->clock.rtt_ms);
    /* A re-login keeps a room; the chat always starts in lobby. */
    rr.room = (char *)"lobby";
    sb_call(c->s, &c->u, sb_social_App_JoinRoom_METHOD, &rr.base,
            &sb__social__empty__descriptor, &reply, &st);
    sb_free(reply);
    sb_script_hold(c->script, &c->u);
    sb_chat_set_room(c, "lobby");
    printf("You are in lobby. #help lists the commands.\n");
}

int sb_chat_login(sb_chat *c)
{
    int rc = 1;

    for (int tries = 0; rc == 1 && tries < 5; tries++) {
        char *ans = sb_term_ask(c->term, "(l)ogin or (r)egister? ", 0);
        if (ans == NULL)
            return -1;
        if (ans[0] == 'r' || ans[0] == 'R')
            rc = do_register(c);
        else if (ans[0] == 'l' || ans[0] == 'L')
            rc = do_login(c);
        else
            printf("Type l or r\n");
        free(ans);
    }
    if (rc != 0)
        return -1;
    enter(c);
    return 0;
}
