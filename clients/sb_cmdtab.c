/* sb_cmdtab.c: the command table of script mode, as data: one row per
 * command with its arity, usage string, RPC method, request builder and
 * reply printer (Redis's commands.def, not a strcmp ladder). The parser
 * and engine in sb_script.c know no command by name except `exit`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_internal.h"
#include "sb_script.h"

/* ---- request builders: args are the words after <user> ---- */

static int b_none(char *const *a, sb_req *r)
{
    sb__social__empty__init(&r->empty);
    return 0;
}

static int b_register(char *const *a, sb_req *r)
{
    sb__social__register_request__init(&r->reg);
    r->reg.name = a[0];
    r->reg.password = a[1];
    return 0;
}

static int b_login(char *const *a, sb_req *r)
{
    sb__social__login_request__init(&r->login);
    r->login.name = a[0];
    r->login.password = a[1];
    return 0;
}

static int b_invite(char *const *a, sb_req *r)
{
    sb__social__invite_request__init(&r->invite);
    r->invite.id = a[0];
    return 0;
}

static int b_accept(char *const *a, sb_req *r)
{
    sb__social__accept_invite_request__init(&r->accept);
    r->accept.id = a[0];
    return 0;
}

static int b_post(char *const *a, sb_req *r)
{
    sb__social__post_request__init(&r->post);
    r->post.text = a[0];
    return 0;
}

static int b_send(char *const *a, sb_req *r)
{
    sb__social__send_request__init(&r->send);
    r->send.to = a[0];
    r->send.text = a[1];
    return 0;
}

static int b_group(char *const *a, sb_req *r)
{
    sb__social__group_request__init(&r->group);
    r->group.group = a[0];
    return 0;
}

static int b_send_group(char *const *a, sb_req *r)
{
    sb__social__send_group_request__init(&r->send_group);
    r->send_group.group = a[0];
    r->send_group.text = a[1];
    return 0;
}

static int b_room(char *const *a, sb_req *r)
{
    sb__social__room_request__init(&r->room);
    r->room.room = a[0];
    return 0;
}

static int b_say(char *const *a, sb_req *r)
{
    sb__social__say_request__init(&r->say);
    r->say.text = a[0];
    return 0;
}

static int b_private(char *const *a, sb_req *r)
{
    sb__social__private_request__init(&r->priv);
    r->priv.to = a[0];
    r->priv.text = a[1];
    return 0;
}

/* A decimal in [lo, hi], nothing else; -1 otherwise. */
static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *v)
{
    char *end;
    unsigned long n;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    n = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || n < lo || n > hi)
        return -1;
    *v = (uint32_t)n;
    return 0;
}

static int b_set_profile(char *const *a, sb_req *r)
{
    sb__social__profile__init(&r->profile);
    r->profile.first_name = a[0];
    r->profile.last_name = a[1];
    r->profile.gender = a[3];
    /* any number reaches the server, which says "Age must be 0 to 150" */
    return parse_u32(a[2], 0, UINT32_MAX, &r->profile.age);
}

static int b_show_profile(char *const *a, sb_req *r)
{
    sb__social__show_profile_request__init(&r->show);
    r->show.id = a[0];
    return 0;
}

/* Any decimal count: a word that is not one is the usage path; the range
 * (1..the service's maximum) is the server's check, after the token. */
static int b_draw(char *const *a, sb_req *r)
{
    sb__social__draw_request__init(&r->draw);
    return parse_u32(a[0], 0, UINT32_MAX, &r->draw.count);
}

/* ---- reply printers ---- */

static void p_success(sb_script *sc, const sb_line *ln,
                      const ProtobufCMessage *m)
{
    fputs("Success!\n", sb_script_out(sc));
}

static void p_bye(sb_script *sc, const sb_line *ln, const ProtobufCMessage *m)
{
    fputs("Bye!\n", sb_script_out(sc));
}

static void p_login(sb_script *sc, const sb_line *ln, const ProtobufCMessage *m)
{
    const Sb__Social__LoginReply *r = (const Sb__Social__LoginReply *)m;
    sb_user u;

    memset(&u, 0, sizeof(u));
    sb_copy(u.name, sizeof(u.name), ln->args[0]);
    sb_copy(u.token, sizeof(u.token), r->token);
    sb_copy(u.endpoint, sizeof(u.endpoint), r->app_endpoint);
    sb_copy(u.server_id, sizeof(u.server_id), r->app_server_id);
    u.login_time_ms = r->server_time_ms;
    if (sb_script_hold(sc, &u) != 0)
        fputs("Out of memory\n", sb_script_out(sc));
    else
        fputs("Success!\n", sb_script_out(sc));
}

static void p_names(sb_script *sc, const sb_line *ln, const ProtobufCMessage *m)
{
    const Sb__Social__NameList *r = (const Sb__Social__NameList *)m;
    FILE *out = sb_script_out(sc);

    if (r->n_names == 0)
        fprintf(out, "%s\n", ln->cmd->empty);
    for (size_t i = 0; i < r->n_names; i++)
        fprintf(out, "%s\n", r->names[i]);
}

static void p_posts(sb_script *sc, const sb_line *ln, const ProtobufCMessage *m)
{
    const Sb__Social__PostList *r = (const Sb__Social__PostList *)m;
    FILE *out = sb_script_out(sc);

    if (r->n_posts == 0)
        fprintf(out, "%s\n", ln->cmd->empty);
    for (size_t i = 0; i < r->n_posts; i++)
        fprintf(out, "%s: %s\n", r->posts[i]->author, r->posts[i]->text);
}

static void p_rooms(sb_script *sc, const sb_line *ln, const ProtobufCMessage *m)
{
    const Sb__Social__RoomList *r = (const Sb__Social__RoomList *)m;
    FILE *out = sb_script_out(sc);

    if (r->n_rooms == 0)
        fprintf(out, "%s\n", ln->cmd->empty);
    for (size_t i = 0; i < r->n_rooms; i++)
        fprintf(out, "%s %" PRIu32 "\n", r->rooms[i]->name, r->rooms[i]->count);
}

static void p_users(sb_script *sc, const sb_line *ln, const ProtobufCMessage *m)
{
    const Sb__Social__UserList *r = (const Sb__Social__UserList *)m;
    FILE *out = sb_script_out(sc);

    if (r->n_users == 0)
        fprintf(out, "%s\n", ln->cmd->empty);
    for (size_t i = 0; i < r->n_users; i++)
        fprintf(out, "%s %s\n", r->users[i]->name,
                r->users[i]->online ? "online" : "offline");
}

static void p_profile(sb_script *sc, const sb_line *ln,
                      const ProtobufCMessage *m)
{
    const Sb__Social__ShowProfileReply *r =
        (const Sb__Social__ShowProfileReply *)m;
    const Sb__Social__Profile *p = r->profile;

    if (p == NULL)
        fprintf(sb_script_out(sc), "%s has no profile\n", r->name);
    else
        fprintf(sb_script_out(sc), "%s: %s %s, %" PRIu32 ", %s\n", r->name,
                p->first_name, p->last_name, p->age, p->gender);
}

static void p_draw(sb_script *sc, const sb_line *ln, const ProtobufCMessage *m)
{
    const Sb__Social__DrawReply *r = (const Sb__Social__DrawReply *)m;
    FILE *out = sb_script_out(sc);

    if (r->n_numbers == 0)
        fprintf(out, "%s\n", ln->cmd->empty);
    for (size_t i = 0; i < r->n_numbers; i++)
        fprintf(out, "%" PRIu32 "\n", r->numbers[i]);
}

/* UTC, with milliseconds: the same for every reader of the output. */
static void iso_time(char *buf, size_t n, int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char base[32];

    gmtime_r(&secs, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, n, "%s.%03dZ", base, (int)(ms % 1000));
}

static void p_whoami(sb_script *sc, const sb_line *ln,
                     const ProtobufCMessage *m)
{
    const Sb__Social__SessionInfo *r = (const Sb__Social__SessionInfo *)m;
    char when[48];

    iso_time(when, sizeof(when), r->login_time_ms);
    fprintf(sb_script_out(sc), "%s on %s %s, logged in since %s\n", r->name,
            r->app_server_id, r->app_endpoint, when);
}

#define SB_TIME_SAMPLES 8

/* The row's own call checked the token; more samples make the estimate
 * (Cristian's method, the smallest round trip wins). */
static void p_time(sb_script *sc, const sb_line *ln, const ProtobufCMessage *m)
{
    const Sb__Social__TimeReply *r = (const Sb__Social__TimeReply *)m;
    sb_clock c, more;
    rpc_status st;
    int64_t t0, t1;
    char when[48];

    sb_script_call_times(sc, &t0, &t1);
    c.server_ms = r->server_time_ms;
    c.rtt_ms = t1 - t0;
    c.offset_ms = r->server_time_ms + (t1 - t0) / 2 - t1;
    if (sb_clock_sync(sb_script_session(sc), ln->user, SB_TIME_SAMPLES, &more,
                      &st) != RPC_OK)
        fprintf(stderr, "sb: time: more samples failed: %s\n", st.message);
    else if (more.rtt_ms <= c.rtt_ms)
        c = more;
    iso_time(when, sizeof(when), c.server_ms);
    fprintf(sb_script_out(sc),
            "Server time %s, offset %+" PRId64 " ms, round trip %" PRId64
            " ms\n",
            when, c.offset_ms, c.rtt_ms);
}

/* ---- the table ----
 * name, arity, free text, login form, usage, method, reply type,
 * builder, printer, what an empty list prints, one line for `help`, and
 * whether `sb chat` offers it as #name (without <user>). The coming
 * knowledge-base commands are rows here like any other. */

#define LOGIN(m) sb_social_Login_##m##_METHOD
#define APP(m) sb_social_App_##m##_METHOD
#define D(t) &sb__social__##t##__descriptor

static const sb_cmd table[] = {
    {"register", 2, 0, 1, "Usage: register <username> <password>",
     LOGIN(RegisterUser), D(empty), b_register, p_success, NULL,
     "creates an account", 0},
    {"login", 2, 0, 1, "Usage: login <id> <password>", LOGIN(Login),
     D(login_reply), b_login, p_login, NULL,
     "logs in; later lines name the user, not a token", 0},
    {"delete", 1, 0, 0, "Usage: delete <user>", LOGIN(Delete), D(empty), b_none,
     p_success, NULL, "deletes the account and everything of it", 0},
    {"logout", 1, 0, 0, "Usage: logout <user>", LOGIN(Logout), D(empty), b_none,
     p_bye, NULL, "ends the session", 0},
    {"invite", 2, 0, 0, "Usage: invite <user> <id>", APP(Invite), D(empty),
     b_invite, p_success, NULL, "invites someone to be your friend", 1},
    {"list-invite", 1, 0, 0, "Usage: list-invite <user>", APP(ListInvite),
     D(name_list), b_none, p_names, "No invitations",
     "who invited you, oldest first", 1},
    {"accept-invite", 2, 0, 0, "Usage: accept-invite <user> <id>",
     APP(AcceptInvite), D(empty), b_accept, p_success, NULL,
     "accepts an invitation: you are friends", 1},
    {"list-friend", 1, 0, 0, "Usage: list-friend <user>", APP(ListFriend),
     D(name_list), b_none, p_names, "No friends",
     "your friends, oldest friendship first", 1},
    {"post", 2, 1, 0, "Usage: post <user> <message>", APP(Post), D(empty),
     b_post, p_success, NULL, "posts a message your friends can read", 1},
    {"receive-post", 1, 0, 0, "Usage: receive-post <user>", APP(ReceivePost),
     D(post_list), b_none, p_posts, "No posts",
     "your friends' posts, oldest first", 1},
    {"send", 3, 1, 0, "Usage: send <user> <friend> <message>", APP(Send),
     D(empty), b_send, p_success, NULL, "a message to a friend who is online",
     1},
    {"create-group", 2, 0, 0, "Usage: create-group <user> <group>",
     APP(CreateGroup), D(empty), b_group, p_success, NULL,
     "creates a group and joins it", 1},
    {"list-group", 1, 0, 0, "Usage: list-group <user>", APP(ListGroup),
     D(name_list), b_none, p_names, "No groups", "every group, oldest first",
     1},
    {"list-joined", 1, 0, 0, "Usage: list-joined <user>", APP(ListJoined),
     D(name_list), b_none, p_names, "No groups", "your groups, in join order",
     1},
    {"join-group", 2, 0, 0, "Usage: join-group <user> <group>", APP(JoinGroup),
     D(empty), b_group, p_success, NULL, "joins a group", 1},
    {"send-group", 3, 1, 0, "Usage: send-group <user> <group> <message>",
     APP(SendGroup), D(empty), b_send_group, p_success, NULL,
     "a message to every member of a group", 1},
    /* Beyond the course: same token rule and priority. */
    {"create-room", 2, 0, 0, "Usage: create-room <user> <room>",
     APP(CreateRoom), D(empty), b_room, p_success, NULL,
     "creates a chat room and enters it", 0},
    {"join-room", 2, 0, 0, "Usage: join-room <user> <room>", APP(JoinRoom),
     D(empty), b_room, p_success, NULL, "enters a chat room", 0},
    {"leave-room", 1, 0, 0, "Usage: leave-room <user>", APP(LeaveRoom),
     D(empty), b_none, p_success, NULL, "back to lobby", 0},
    {"list-rooms", 1, 0, 0, "Usage: list-rooms <user>", APP(ListRooms),
     D(room_list), b_none, p_rooms, "No rooms",
     "rooms with their number of members", 0},
    {"delete-room", 2, 0, 0, "Usage: delete-room <user> <room>",
     APP(DeleteRoom), D(empty), b_room, p_success, NULL,
     "deletes your room; its members go to lobby", 0},
    {"say", 2, 1, 0, "Usage: say <user> <text>", APP(Say), D(empty), b_say,
     p_success, NULL, "says text in your current room", 0},
    {"private", 3, 1, 0, "Usage: private <user> <to> <text>", APP(Private),
     D(empty), b_private, p_success, NULL, "a private message to anyone online",
     0},
    {"list-users", 1, 0, 0, "Usage: list-users <user>", LOGIN(ListUsers),
     D(user_list), b_none, p_users, "No users",
     "every account, online or offline", 0},
    {"set-profile", 5, 0, 0,
     "Usage: set-profile <user> <first> <last> <age> <gender>", APP(SetProfile),
     D(empty), b_set_profile, p_success, NULL,
     "sets your name, age (0 to 150) and gender", 1},
    {"show-profile", 2, 0, 0, "Usage: show-profile <user> <id>",
     APP(ShowProfile), D(show_profile_reply), b_show_profile, p_profile, NULL,
     "someone's profile", 1},
    {"time", 1, 0, 0, "Usage: time <user>", LOGIN(Time), D(time_reply), b_none,
     p_time, NULL, "the server's clock and this client's offset", 1},
    {"draw", 2, 0, 0, "Usage: draw <user> <count>", APP(Draw), D(draw_reply),
     b_draw, p_draw, "No numbers left",
     "loot-box numbers no one ever drew before", 1},
    {"whoami", 1, 0, 0, "Usage: whoami <user>", LOGIN(WhoAmI), D(session_info),
     b_none, p_whoami, NULL, "your session: app server, since when", 1},
};

const sb_cmd *sb_cmd_table(size_t *n)
{
    *n = sizeof(table) / sizeof(table[0]);
    return table;
}

const sb_cmd *sb_cmd_find(const char *name)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}
