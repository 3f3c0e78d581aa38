/* sb_chat_cmd.c: what the chat does with a typed line. Plain text goes
 * to the current room with Say and comes back as a room delivery, so it
 * shows once, with the server's time (the typed line is taken off the
 * screen). Lines starting with # are the IRC-style room commands of
 * PROTOCOL.md "Interactive chat" (a table, prefix and handler), or any
 * script command its table offers to chat (sb_cmdtab.c, `chat` set),
 * typed as #name without the <user> word and run through the script
 * engine: friends, invitations, posts, groups, profile, draw, whoami, and
 * whatever rows come later. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_chat.h"

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

void sb_chat_notice(sb_chat *c, const char *fmt, ...)
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

#define notice sb_chat_notice

/* ---- the room commands ---- */

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

static int by_name(const void *a, const void *b)
{
    const Sb__Social__UserEntry *x = *(const void *const *)a;
    const Sb__Social__UserEntry *y = *(const void *const *)b;

    return strcmp(x->name, y->name);
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
    /* the server lists them in creation order; a person looks up names */
    qsort(l->users, l->n_users, sizeof *l->users, by_name);
    notice(c, "Users:");
    for (size_t i = 0; i < l->n_users; i++)
        sb_chat_print(c, "  %s %s", l->users[i]->name,
                      l->users[i]->online ? "online" : "offline");
    sb_free(l);
}

/* #\private<name> <text> (a space after "private" is allowed too). Its
 * notice is the one copy of the line on screen. */
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
    sb_term_unecho(c->term);
    if (sb_call(c->s, &c->u, sb_social_App_Private_METHOD, &req.base,
                &sb__social__empty__descriptor, &reply, &st) == RPC_OK)
        notice(c, "(private to %s) %s", to, req.text);
    else
        notice(c, "%s (not sent: %s)", st.message, req.text);
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
    sb_term_done(c->term);
}

static void c_help(sb_chat *c, const char *rest);

static const struct {
    const char *prefix;
    void (*fn)(sb_chat *c, const char *rest);
    const char *help;
} commands[] = {
    {"#cR", c_create, "#cR <room>               create a room and enter it"},
    {"#gR", c_go, "#gR <room>               enter a room"},
    {"#eR", c_leave, "#eR                      back to lobby"},
    {"#lR", c_list, "#lR                      rooms and their members"},
    {"#dR", c_delete, "#dR <room>               delete a room you created"},
    {"#show", c_users, "#show users              every user, online or not"},
    {"#\\private", c_private,
     "#\\private<name> <text>   a private message to anyone online"},
    {"#exit", c_exit, "#exit                    log out and leave"},
    {"#help", c_help, "#help                    this list"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* ---- script commands as #name ---- */

/* "Usage: invite <user> <id>" as chat says it: "#invite <id>". */
static void chat_usage(const sb_cmd *cmd, char *buf, size_t n)
{
    const char *u = cmd->usage + strlen("Usage: ") + strlen(cmd->name);

    if (strncmp(u, " <user>", 7) == 0)
        u += 7;
    snprintf(buf, n, "#%s%s", cmd->name, u);
}

/* Script commands that send text. The typed line goes off the screen;
 * what shows instead: a group message comes back to its sender as a
 * delivery (0: nothing more on success), a direct one does not (1: a
 * notice "(to bob) text"). -1: not one. */
static int sends_text(const sb_cmd *cmd)
{
    return strcmp(cmd->name, "send") == 0         ? 1
           : strcmp(cmd->name, "send-group") == 0 ? 0
                                                  : -1;
}

/* Shows what the script engine printed, a notice a line. */
static void show_reply(sb_chat *c, char *out, const char *line)
{
    int lines = 0;

    for (char *save = NULL, *l = strtok_r(out, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save), lines++)
        notice(c, "%s", l);
    if (lines == 0)
        notice(c, "%s: no reply", line);
}

/* #name ARGS: 1 when a chat-offered script command ran (or said how to
 * type it), 0 when #name is not one. */
static int c_script(sb_chat *c, const char *line)
{
    size_t n = strcspn(line + 1, " \t");
    char name[64], *text = NULL, *out = NULL;
    const sb_cmd *cmd;
    size_t len = 0;
    sb_line ln;
    FILE *mem;

    if (n == 0 || n >= sizeof(name))
        return 0;
    snprintf(name, sizeof(name), "%.*s", (int)n, line + 1);
    if ((cmd = sb_cmd_find(name)) == NULL || !cmd->chat)
        return 0;
    /* the engine reads "name <user> args": the user is us */
    len = strlen(name) + strlen(c->u.name) + strlen(line) + 2;
    if ((text = malloc(len)) == NULL)
        return 1;
    snprintf(text, len, "%s %s%s", name, c->u.name, line + 1 + n);
    len = 0;
    if (sb_line_parse(c->script, text, strlen(text), &ln) != 0) {
        notice(c, "Bad input: a NUL byte in the line");
    } else if (ln.kind == SB_LINE_USAGE) {
        char usage[256];
        chat_usage(cmd, usage, sizeof usage);
        notice(c, "Usage: %s", usage);
    } else if ((mem = open_memstream(&out, &len)) != NULL) {
        int sends = sends_text(cmd), rc;
        if (sends >= 0)
            sb_term_unecho(c->term);
        sb_script_set_out(c->script, mem);
        rc = sb_script_call(c->script, &ln);
        sb_script_set_out(c->script, stdout);
        fclose(mem);
        if (sends == 1 && rc == RPC_OK)
            notice(c, "(to %s) %s", ln.args[0], ln.args[1]);
        else if (sends < 0 || rc != RPC_OK)
            show_reply(c, out, line);
        free(out);
    }
    sb_line_clear(&ln);
    free(text);
    return 1;
}

static void c_help(sb_chat *c, const char *rest)
{
    size_t n;
    const sb_cmd *t = sb_cmd_table(&n);
    char usage[256];

    (void)rest;
    for (size_t i = 0; i < NCOMMANDS; i++)
        sb_chat_print(c, "  %s", commands[i].help);
    sb_chat_print(c, "  anything else is said in the current room");
    sb_chat_print(c, "and script mode's commands, without <user>:");
    for (size_t i = 0; i < n; i++) {
        if (!t[i].chat)
            continue;
        chat_usage(&t[i], usage, sizeof usage);
        if (strlen(usage) <= 24)
            sb_chat_print(c, "  %-24s %s", usage, t[i].summary);
        else
            sb_chat_print(c, "  %s\n  %-24s %s", usage, "", t[i].summary);
    }
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
        for (size_t i = 0; i < NCOMMANDS; i++) {
            size_t n = strlen(commands[i].prefix);
            if (strncmp(line, commands[i].prefix, n) != 0)
                continue; /* before line[n]: the line may be shorter */
            if (line[n] == '\0' || line[n] == ' ' || line[n] == '\t' ||
                commands[i].fn == c_private) {
                commands[i].fn(c, line + n);
                return;
            }
        }
        if (c_script(c, line))
            return;
        notice(c, "Unknown command %.*s (#help lists them)",
               (int)strcspn(line, " \t"), line);
        return;
    }
    /* the room sends it back stamped: that is the one copy shown */
    sb_term_unecho(c->term);
    req.text = (char *)line;
    if (sb_call(c->s, &c->u, sb_social_App_Say_METHOD, &req.base,
                &sb__social__empty__descriptor, &reply, &st) != RPC_OK)
        notice(c, "%s (not said: %s)", st.message, line);
    sb_free(reply);
}
