/* web_exec.c: what the page asks, run on a worker through libsb. A
 * command is run exactly as script mode runs its line: the line is built
 * from the command and its arguments with the session's user as <user>,
 * parsed by script mode's own parser against its command table, sent with
 * the row's request builder and printed by the row's printer into memory.
 * So every text the page shows ("Success!", "Usage: ...", "No friends",
 * "bob: hi", every server message) is the text `sb` prints, by
 * construction, and a command added to the table works here at once.
 *
 * The page gives each form submission a request id and re-sends a failed
 * submission with the same one; the transport below puts that id on the
 * call (libsb keeps it across redirects and re-logins), so the store
 * applies the command once however often it arrives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "sb_script.h"
#include "web_internal.h"

/* The page's request id for the command this thread is running. */
static __thread const uint8_t *pinned_rid;

static int tcall(void *arg, const char *endpoint, const char *method,
                 const char *token, const uint8_t *request_id,
                 const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *reply_desc,
                 ProtobufCMessage **reply, rpc_status *st)
{
    rpc_opts o = {.token = token, .endpoint = endpoint};

    /* libsb passes NULL for its own re-login: that keeps a fresh id */
    o.request_id =
        request_id != NULL && pinned_rid != NULL ? pinned_rid : request_id;
    return rpc_client_call(arg, method, req, reply_desc, reply, &o, st);
}

int web_exec_open(web_role *w, rpc_status *st)
{
    sb_transport t = {.call = tcall, .close = NULL, .arg = w->rpc};

    return sb_open_with(&w->sb, &t, st);
}

void web_job_done(web_job *job, int status, json_t *j, const char *cookie)
{
    char c[128];
    http_hdr h[2] = {{NULL, NULL}, {NULL, NULL}};

    if (cookie != NULL) {
        web_sess_cookie(cookie, c, sizeof c);
        h[0] = (http_hdr){"Set-Cookie", c};
    }
    http_reply_json(job->r, status, j, h);
    if (job->sess.user != NULL)
        web_user_unref(job->sess.user);
    json_decref(job->body);
    free(job);
}

/* {"ok", "code", "lines": [each line of text]}. */
static json_t *answer(int code, const char *text)
{
    json_t *lines = json_array();

    for (const char *p = text; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, "\n");
        char *one = strndup(p, n);
        json_array_append_new(lines, web_json_str(one));
        free(one);
        p += n + (p[n] == '\n');
    }
    return json_pack("{sbssso}", "ok", code == RPC_OK, "code",
                     rpc_code_name(code), "lines", lines);
}

static int print_status(FILE *f, const rpc_status *st)
{
    if (st->message[0] != '\0')
        fprintf(f, "%s\n", st->message);
    else
        fprintf(f, "Error: %s\n", rpc_code_name(st->code));
    return st->code;
}

/* Wrong arity: the token decides first (PROTOCOL.md priority 2). */
static int usage_or_not_login(web_role *w, const sb_line *ln, FILE *f)
{
    Sb__Social__SessionInfo *info = NULL;
    rpc_status st;
    int rc = sb_whoami(w->sb, ln->user, &info, &st);

    sb_free(info);
    if (rc != RPC_OK)
        return print_status(f, &st);
    fprintf(f, "%s\n", ln->cmd->usage);
    return RPC_INVALID_ARGUMENT;
}

static int run_line(web_job *job, sb_script *sc, sb_line *ln, FILE *f,
                    ProtobufCMessage **reply)
{
    web_role *w = job->w;
    sb_req req;
    rpc_status st;
    int rc;

    switch (ln->kind) {
    case SB_LINE_CALL:
        break;
    case SB_LINE_USAGE:
        return usage_or_not_login(w, ln, f);
    default:
        fprintf(f, "Unknown command %s\n", ln->nwords > 0 ? ln->words[0] : "");
        return RPC_UNIMPLEMENTED;
    }
    if (ln->cmd->build(ln->args, &req) != 0)
        return usage_or_not_login(w, ln, f);
    pinned_rid = job->has_rid ? job->rid : NULL;
    rc = sb_call(w->sb, ln->user, ln->cmd->method, &req.base,
                 ln->cmd->reply_desc, reply, &st);
    pinned_rid = NULL;
    if (rc != RPC_OK)
        return print_status(f, &st);
    ln->cmd->print(sc, ln, *reply);
    return RPC_OK;
}

/* "<cmd> <user> <arg> <arg>...": the words script mode would read. */
static char *make_line(const char *cmd, const char *user, json_t *args)
{
    size_t cap = strlen(cmd) + strlen(user) + 4, i;
    json_t *a;
    char *line, *p;

    json_array_foreach(args, i, a) cap += strlen(json_string_value(a)) + 1;
    if ((line = malloc(cap)) == NULL)
        return NULL;
    p = line + sprintf(line, "%s %s", cmd, user);
    json_array_foreach(args, i, a) p += sprintf(p, " %s", json_string_value(a));
    return line;
}

/* After a successful logout or delete the browser session has no user. */
static void forget_user(web_job *job, json_t *j, const char **cookie,
                        web_sess *ns)
{
    web_user_end(job->sess.user);
    if (web_sess_set_user(job->w, job->sess.id, NULL, ns) == 0) {
        json_object_set_new(j, "csrf", json_string(ns->csrf));
        *cookie = ns->id;
    }
}

void web_exec_cmd(void *arg)
{
    web_job *job = arg;
    const char *cmd = json_string_value(json_object_get(job->body, "cmd"));
    web_user *wu = job->sess.user;
    ProtobufCMessage *reply = NULL;
    sb_script *sc = NULL;
    sb_user copy;
    sb_line ln;
    char *text = NULL, *line;
    size_t tlen = 0;
    const char *cookie = NULL;
    web_sess ns;
    int code = RPC_INTERNAL;
    FILE *f = open_memstream(&text, &tlen);

    if (wu != NULL)
        web_user_copy(wu, &copy);
    line = make_line(cmd, wu != NULL ? copy.name : "-",
                     json_object_get(job->body, "args"));
    if (f != NULL && line != NULL && sb_script_new(&sc, job->w->sb, f) == 0 &&
        (wu == NULL || sb_script_hold(sc, &copy) == 0) &&
        sb_line_parse(sc, line, strlen(line), &ln) == 0) {
        code = run_line(job, sc, &ln, f, &reply);
        sb_line_clear(&ln);
    } else if (f != NULL) {
        fputs("Out of memory\n", f);
    }
    if (wu != NULL && sc != NULL && sb_script_nheld(sc) > 0)
        web_user_update(wu, sb_script_held(sc, 0));
    sb_script_free(sc);
    if (f != NULL)
        fclose(f);
    json_t *j = answer(code, text);
    if (reply != NULL)
        json_object_set_new(j, "reply", web_json_message(reply));
    if (code == RPC_OK && wu != NULL &&
        (strcmp(cmd, "logout") == 0 || strcmp(cmd, "delete") == 0))
        forget_user(job, j, &cookie, &ns);
    sb_free(reply);
    free(line);
    free(text);
    web_job_done(job, 200, j, cookie);
}

static const char *str_field(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v != NULL ? v : "";
}

/* Script mode's arity rule for a login form: one word each. */
static int one_word(const char *s)
{
    return s[0] != '\0' && strpbrk(s, " \t\r\n\v\f") == NULL;
}

void web_exec_login(void *arg)
{
    web_job *job = arg;
    web_role *w = job->w;
    const char *name = str_field(job->body, "name"),
               *pw = str_field(job->body, "password"), *cookie = NULL;
    rpc_status st;
    sb_user u;
    web_sess ns;
    json_t *j;
    int rc;

    if (!one_word(name) || !one_word(pw)) {
        web_job_done(job, 200,
                     answer(RPC_INVALID_ARGUMENT, sb_cmd_find("login")->usage),
                     NULL);
        return;
    }
    rc = sb_login(w->sb, name, pw, &u, &st);
    if (rc == RPC_OK || rc == RPC_UNAUTHENTICATED)
        web_limit_note(w->limit, name, job->peer, rc == RPC_OK);
    if (rc != RPC_OK) {
        sb_info("web", "login %s from %s: %s", name, job->peer, st.message);
        web_job_done(job, 200, answer(rc, st.message), NULL);
        return;
    }
    j = answer(RPC_OK, "Success!");
    web_user *wu = web_user_get(w, &u);
    if (wu != NULL && web_sess_set_user(w, job->sess.id, wu, &ns) == 0) {
        json_object_set_new(j, "csrf", json_string(ns.csrf));
        json_object_set_new(j, "user", web_json_str(u.name));
        json_object_set_new(j, "server", web_json_str(u.server_id));
        cookie = ns.id;
    }
    if (wu != NULL)
        web_user_unref(wu);
    web_job_done(job, 200, j, cookie);
}

/* The register form: script mode's register plus the profile `sb chat`
 * asks for, checked by the server in the same call. */
void web_exec_register(void *arg)
{
    web_job *job = arg;
    Sb__Social__RegisterRequest req = SB__SOCIAL__REGISTER_REQUEST__INIT;
    Sb__Social__Profile prof = SB__SOCIAL__PROFILE__INIT;
    ProtobufCMessage *reply = NULL;
    json_t *age = json_object_get(job->body, "age");
    rpc_status st;
    int rc;

    req.name = (char *)str_field(job->body, "name");
    req.password = (char *)str_field(job->body, "password");
    if (!one_word(req.name) || !one_word(req.password)) {
        web_job_done(
            job, 200,
            answer(RPC_INVALID_ARGUMENT, sb_cmd_find("register")->usage), NULL);
        return;
    }
    if (!json_is_integer(age) || json_integer_value(age) < 0 ||
        json_integer_value(age) > UINT32_MAX) {
        web_job_done(job, 200,
                     answer(RPC_INVALID_ARGUMENT, "Age must be 0 to 150"),
                     NULL);
        return;
    }
    prof.first_name = (char *)str_field(job->body, "first");
    prof.last_name = (char *)str_field(job->body, "last");
    prof.gender = (char *)str_field(job->body, "gender");
    prof.age = (uint32_t)json_integer_value(age);
    req.profile = &prof;
    pinned_rid = job->has_rid ? job->rid : NULL;
    rc = sb_call(job->w->sb, NULL, sb_social_Login_RegisterUser_METHOD,
                 &req.base, &sb__social__empty__descriptor, &reply, &st);
    pinned_rid = NULL;
    sb_free(reply);
    web_job_done(job, 200, answer(rc, rc == RPC_OK ? "Success!" : st.message),
                 NULL);
}

/* The server's clock for the page's own Cristian estimate: this role's
 * best sample of the server's offset, applied at the moment of replying. */
void web_exec_time(void *arg)
{
    web_job *job = arg;
    sb_user copy = {0};
    sb_clock c;
    rpc_status st;
    int rc;
    json_t *j;

    if (job->sess.user != NULL)
        web_user_copy(job->sess.user, &copy);
    rc = sb_clock_sync(job->w->sb, &copy, 4, &c, &st);
    j = answer(rc, rc == RPC_OK ? "" : st.message);
    if (rc == RPC_OK) {
        json_object_set_new(j, "server_ms",
                            json_integer(rpc_now_wall_ms() + c.offset_ms));
        json_object_set_new(j, "rtt_ms", json_integer(c.rtt_ms));
    }
    web_job_done(job, 200, j, NULL);
}
