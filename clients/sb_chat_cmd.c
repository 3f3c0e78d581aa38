/* sb_chat_cmd.c: what the chat client says to the servers: the login or
 * register form, clock sync, and the # commands of PROTOCOL.md
 * "Interactive chat" as a table (prefix, handler). Plain text goes to the
 * current room with Say; the text comes back as a room delivery, so
 * every line on screen carries the server's time. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sb_chat.h"

#define CHAT_SYNC_SAMPLES 8

void sb_chat_stamp(char buf[16], int64_t server_ms)
{
    time_t secs = (time_t)(server_ms / 1000);
    struct tm tm;

    localtime_r(&secs, &tm);
    strftime(buf, 16, "[%H:%M:%S]", &tm);
}

void sb_chat_format(char *buf, size_t n, const Sb__Social__Delivery *d)
{
    char ts[16];

    sb_chat_stamp(ts, d->server_time_ms);
    switch (d->kind) {
    case SB__SOCIAL__DELIVERY__KIND__ROOM:
        snprintf(buf, n, "%s %s: %s", ts, d->from, d->text);
        break;
    case SB__SOCIAL__DELIVERY__KIND__GROUP:
        snprintf(buf, n, "%s <%s> %s: %s", ts, d->group, d->from, d->text);
        break;
    case SB__SOCIAL__DELIVERY__KIND__ROOM_CLOSED:
        if (strcmp(d->text, "deleted") == 0)
            snprintf(buf, n, "%s * room %s was deleted by %s; you are in lobby",
                     ts, d->group, d->from);
        else if (strcmp(d->text, "session ended") == 0)
            snprintf(buf, n,
                     "%s * room %s closed: %s's session ended; you "
                     "are in lobby",
                     ts, d->group, d->from);
        else
            snprintf(buf, n, "%s * room %s closed (%s); you are in lobby", ts,
                     d->group, d->text);
        break;
    default:
        snprintf(buf, n, "%s (private) %s: %s", ts, d->from, d->text);
    }
}

/* A notice stamped with the server's clock (local clock + offset). */
static void notice(sb_chat *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void notice(sb_chat *c, const char *fmt, ...)
{
    char ts[16], msg[1024];
    va_list ap;
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    sb_chat_stamp(ts, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 +
                          c->clock.offset_ms);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sb_chat_print(c, "%s * %s", ts, msg);
}

/* ---- the form ---- */

/* One answer, without its newline; NULL at end of input. Free it. */
static char *ask(sb_chat *c, const char *prompt, int secret)
{
    struct termios old, quiet;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (c->el != NULL && !secret) { /* edited, one whole line */
        const char *got;
        int len = 0;
        sb_chat_prompt(c, prompt);
        got = el_gets(c->el, &len);
        sb_chat_prompt(c, "");
        if (got == NULL || len <= 0)
            return NULL;
        return strndup(got, strcspn(got, "\r\n"));
    }
    fputs(prompt, stdout);
    fflush(stdout);
    if (secret && c->tty && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        n = getline(&line, &cap, stdin);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stdout);
    } else {
        n = getline(&line, &cap, c->in);
        if (!c->tty)
            fputc('\n', stdout);
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

static int do_register(sb_chat *c)
{
    static const char *const q[] = {"First name: ", "Last name: ", "Login: ",
                                    "Password: ",   "Age: ",       "Gender: "};
    char *a[6] = {0};
    Sb__Social__RegisterRequest req = SB__SOCIAL__REGISTER_REQUEST__INIT;
    Sb__Social__Profile prof = SB__SOCIAL__PROFILE__INIT;
    ProtobufCMessage *reply = NULL;
    rpc_status st;
    char *end;
    int rc = -1;

    for (int i = 0; i < 6; i++)
        if ((a[i] = ask(c, q[i], i == 3)) == NULL)
            goto out;
    prof.age = (uint32_t)strtoul(a[4], &end, 10);
    if (a[4][0] < '0' || a[4][0] > '9' || *end != '\0') {
        printf("Age must be a number from 0 to 150\n");
        rc = 1;
        goto out;
    }
    prof.first_name = a[0];
    prof.last_name = a[1];
    prof.gender = a[5];
    req.name = a[2];
    req.password = a[3];
    req.profile = &prof;
    if (sb_call(c->s, NULL, sb_social_Login_RegisterUser_METHOD, &req.base,
                &sb__social__empty__descriptor, &reply, &st) != RPC_OK) {
        printf("%s\n", st.message);
        rc = 1;
        goto out;
    }
    sb_free(reply);
    rc = sb_login(c->s, a[2], a[3], &c->u, &st) == RPC_OK ? 0 : 1;
    if (rc)
        printf("%s\n", st.message);
out:
    for (int i = 0; i < 6; i++)
        free(a[i]);
    return rc;
}

static int do_login(sb_chat *c)
{
    char *name = ask(c, "Login: ", 0), *pw = NULL;
    rpc_status st;
    int rc = -1;

    if (name == NULL || (pw = ask(c, "Password: ", 1)) == NULL)
        goto out;
    rc = sb_login(c->s, name, pw, &c->u, &st) == RPC_OK ? 0 : 1;
    if (rc)
        printf("%s\n", st.message);
out:
    free(name);
    free(pw);
    return rc;
}

int sb_chat_login(sb_chat *c)
{
    rpc_status st;
    int rc = 1;

    for (int tries = 0; rc == 1 && tries < 5; tries++) {
        char *ans = ask(c, "(l)ogin or (r)egister? ", 0);
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
    if (sb_clock_sync(c->s, &c->u, CHAT_SYNC_SAMPLES, &c->clock, &st) != RPC_OK)
        printf("Clock sync failed (%s); times are the server's anyway\n",
               st.message);
    printf("Welcome %s. Server clock offset %+lld ms (round trip %lld ms).\n",
           c->u.name, (long long)c->clock.offset_ms,
           (long long)c->clock.rtt_ms);
    /* A re-login keeps a room; the chat always starts in lobby. */
    Sb__Social__RoomRequest rr = SB__SOCIAL__ROOM_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    rr.room = (char *)"lobby";
    sb_call(c->s, &c->u, sb_social_App_JoinRoom_METHOD, &rr.base,
            &sb__social__empty__descriptor, &reply, &st);
    sb_free(reply);
    sb_chat_set_room(c, "lobby");
    printf("You are in lobby. #help lists the commands.\n");
    return 0;
}

/* ---- commands ---- */

static int call_room(sb_chat *c, const char *method, const char *room,
                     rpc_status *st)
{
    Sb__Social__RoomRequest rr = SB__SOCIAL__ROOM_REQUEST__INIT;
    Sb__Social__Empty e = SB__SOCIAL__EMPTY__INIT;
    ProtobufCMessage *reply = NULL;
    int rc;

    rr.room = (char *)room;
    rc = sb_call(c->s, &c->u, method, room != NULL ? &rr.base : &e.base,
                 &sb__social__empty__descriptor, &reply, st);
    sb_free(reply);
    return rc;
}

/* The argument after a command: one word, required. */
static const char *one_word(const char *rest, char *buf, size_t n)
{
    size_t len;

    rest += strspn(rest, " \t");
    len = strcspn(rest, " \t");
    if (len == 0 || len >= n || rest[len + strspn(rest + len, " \t")] != '\0')
        return NULL;
    memcpy(buf, rest, len);
    buf[len] = '\0';
    return buf;
}

/* One room command; returns 0 and the room in @room when it worked. */
static int c_room(sb_chat *c, const char *rest, const char *method,
                  const char *usage, const char *done, char room[SB_NAME_MAX])
{
    rpc_status st;

    if (one_word(rest, room, SB_NAME_MAX) == NULL) {
        notice(c, "Usage: %s", usage);
        return -1;
    }
    if (call_room(c, method, room, &st) != RPC_OK) {
        notice(c, "%s", st.message);
        return -1;
    }
    notice(c, done, room);
    return 0;
}

static void c_create(sb_chat *c, const char *rest)
{
    char room[SB_NAME_MAX];

    if (c_room(c, rest, sb_social_App_CreateRoom_METHOD, "#cR <room>",
               "Created %s; you are in it", room) == 0)
        sb_chat_set_room(c, room);
}

static void c_go(sb_chat *c, const char *rest)
{
    char room[SB_NAME_MAX];

    if (c_room(c, rest, sb_social_App_JoinRoom_METHOD, "#gR <room>",
               "You are in %s", room) == 0)
        sb_chat_set_room(c, room);
}

static void c_delete(sb_chat *c, const char *rest)
{
    char room[SB_NAME_MAX];

    if (c_room(c, rest, sb_social_App_DeleteRoom_METHOD, "#dR <room>",
               "Deleted %s; its members are back in lobby", room) == 0 &&
        strcmp(room, c->room) == 0)
        sb_chat_set_room(c, "lobby");
}

static void c_leave(sb_chat *c, const char *rest)
{
    rpc_status st;

    (void)rest;
    if (call_room(c, sb_social_App_LeaveRoom_METHOD, NULL, &st) == RPC_OK) {
        sb_chat_set_room(c, "lobby");
        notice(c, "You are in lobby");
    } else
        notice(c, "%s", st.message);
}

static void c_list(sb_chat *c, const char *rest)
{
    Sb__Social__Empty e = SB__SOCIAL__EMPTY__INIT;
    Sb__Social__RoomList *l = NULL;
    rpc_status st;

    (void)rest;
    if (sb_call(c->s, &c->u, sb_social_App_ListRooms_METHOD, &e.base,
                &sb__social__room_list__descriptor, (ProtobufCMessage **)&l,
                &st) != RPC_OK) {
        notice(c, "%s", st.message);
        return;
    }
    notice(c, "Rooms:");
    for (size_t i = 0; i < l->n_rooms; i++)
        sb_chat_print(c, "  %s %u", l->rooms[i]->name, l->rooms[i]->count);
    sb_free(l);
}

static void c_users(sb_chat *c, const char *rest)
{
    Sb__Social__UserList *l = NULL;
    rpc_status st;
    char w[16];

    if (one_word(rest, w, sizeof(w)) == NULL || strcmp(w, "users") != 0) {
        notice(c, "Usage: #show users");
        return;
    }
    if (sb_list_users(c->s, &c->u, &l, &st) != RPC_OK) {
        notice(c, "%s", st.message);
        return;
    }
    notice(c, "Users:");
    for (size_t i = 0; i < l->n_users; i++)
        sb_chat_print(c, "  %s %s", l->users[i]->name,
                      l->users[i]->online ? "online" : "offline");
    sb_free(l);
}

/* #\private<name> <text> (a space after "private" is allowed too). */
static void c_private(sb_chat *c, const char *rest)
{
    Sb__Social__PrivateRequest req = SB__SOCIAL__PRIVATE_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    char to[SB_NAME_MAX];
    size_t len;
    rpc_status st;

    rest += strspn(rest, " \t");
    len = strcspn(rest, " \t");
    if (len == 0 || len >= sizeof(to) || rest[len] == '\0') {
        notice(c, "Usage: #\\private<name> <text>");
        return;
    }
    memcpy(to, rest, len);
    to[len] = '\0';
    req.to = to;
    req.text = (char *)rest + len + strspn(rest + len, " \t");
    if (sb_call(c->s, &c->u, sb_social_App_Private_METHOD, &req.base,
                &sb__social__empty__descriptor, &reply, &st) == RPC_OK)
        notice(c, "(private to %s) %s", to, req.text);
    else
        notice(c, "%s", st.message);
    sb_free(reply);
}

static void c_exit(sb_chat *c, const char *rest)
{
    rpc_status st;

    (void)rest;
    if (sb_logout(c->s, &c->u, &st) == RPC_OK)
        sb_chat_print(c, "Bye!");
    else
        sb_chat_print(c, "%s", st.message);
    c->done = 1;
}

static void c_help(sb_chat *c, const char *rest);

static const struct {
    const char *prefix;
    void (*fn)(sb_chat *c, const char *rest);
    const char *help;
} commands[] = {
    {"#cR", c_create, "#cR <room>   create a room and enter it"},
    {"#gR", c_go, "#gR <room>   enter a room"},
    {"#eR", c_leave, "#eR          back to lobby"},
    {"#lR", c_list, "#lR          rooms and their members"},
    {"#dR", c_delete, "#dR <room>   delete a room you created"},
    {"#show", c_users, "#show users  every user, online or not"},
    {"#\\private", c_private, "#\\private<name> <text>  a private message"},
    {"#exit", c_exit, "#exit        log out and leave"},
    {"#help", c_help, "#help        this list"},
};

static void c_help(sb_chat *c, const char *rest)
{
    (void)rest;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        sb_chat_print(c, "  %s", commands[i].help);
    sb_chat_print(c, "  anything else is said in the current room");
}

void sb_chat_line(sb_chat *c, const char *line)
{
    Sb__Social__SayRequest req = SB__SOCIAL__SAY_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    rpc_status st;

    line += strspn(line, " \t");
    if (line[0] == '\0')
        return;
    if (line[0] == '#') {
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
            size_t n = strlen(commands[i].prefix);
            if (strncmp(line, commands[i].prefix, n) != 0)
                continue; /* before line[n]: the line may be shorter */
            if (line[n] == '\0' || line[n] == ' ' || line[n] == '\t' ||
                commands[i].fn == c_private) {
                commands[i].fn(c, line + n);
                return;
            }
        }
        notice(c, "Unknown command %.*s (#help lists them)",
               (int)strcspn(line, " \t"), line);
        return;
    }
    req.text = (char *)line;
    if (sb_call(c->s, &c->u, sb_social_App_Say_METHOD, &req.base,
                &sb__social__empty__descriptor, &reply, &st) != RPC_OK)
        notice(c, "%s", st.message);
    sb_free(reply);
}
