/* web_api.c: the page's routes. Everything that changes state is a POST
 * of JSON with the session's CSRF token (web_sess_check_post) and goes to
 * a worker (web_exec.c); reads of the role's own memory (the session, an
 * acknowledgement, the event stream) are answered on the HTTP thread.
 *
 *   GET  /api/session   -> {ok, csrf, user|null, server|null}, sets the cookie
 *   POST /api/register  {name, password, first, last, age, gender, rid}
 *   POST /api/login     {name, password}     -> {.., user, server, csrf}
 *   POST /api/cmd       {cmd, args: [..], rid} -> {ok, code, lines, reply}
 *   POST /api/time      {}                   -> {ok, server_ms, rtt_ms}
 *   POST /api/ack       {seq}                -> {ok}
 *   GET  /api/events    server-sent events: hello, delivery (id = seq),
 *                       session {state: "ended"}; ?after=SEQ or
 *                       Last-Event-ID says what the page has
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "sb_script.h"
#include "web_internal.h"

#define ARGS_MAX 16

static void reply_session(http_req *r, const web_sess *s, const char *cookie)
{
    char c[128];
    sb_user u = {0};
    http_hdr h[2] = {{NULL, NULL}, {NULL, NULL}};

    if (s->user != NULL)
        web_user_copy(s->user, &u);
    if (cookie != NULL) {
        web_sess_cookie(cookie, c, sizeof c);
        h[0] = (http_hdr){"Set-Cookie", c};
    }
    http_reply_json(
        r, 200,
        json_pack("{sbsssoso}", "ok", 1, "csrf", s->csrf, "user",
                  s->user ? web_json_str(u.name) : json_null(), "server",
                  s->user ? web_json_str(u.server_id) : json_null()),
        h);
}

static void h_session(http_req *r, void *arg)
{
    web_role *w = arg;
    web_sess s;

    if (web_sess_get(w, r, &s) == 0) {
        reply_session(r, &s, NULL);
        if (s.user != NULL)
            web_user_unref(s.user);
        return;
    }
    if (web_sess_new(w, &s) != 0) {
        http_reply_error(r, 503, "Too many sessions; try again later");
        return;
    }
    reply_session(r, &s, s.id);
}

/* Session, CSRF, JSON object body. Answers and returns -1 on failure;
 * on success the caller owns *body and s->user's reference. */
static int prelude(web_role *w, http_req *r, web_sess *s, json_t **body)
{
    const char *why, *text;
    size_t n;
    json_error_t e;

    if (web_sess_get(w, r, s) != 0) {
        http_reply_error(r, 403, "No session; reload the page");
        return -1;
    }
    if (web_sess_check_post(r, s, &why) != 0) {
        sb_info("web", "%s %s from %s refused: %s", http_req_method(r),
                http_req_path(r), http_req_peer(r), why);
        http_reply_error(r, 403, why);
        goto fail;
    }
    text = http_req_body(r, &n);
    *body = json_loadb(text, n, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(*body)) {
        json_decref(*body);
        http_reply_error(r, 400, "The body must be a JSON object");
        goto fail;
    }
    return 0;
fail:
    if (s->user != NULL)
        web_user_unref(s->user);
    return -1;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

/* The page's request id: 32 lowercase hex digits. */
static int parse_rid(json_t *body, uint8_t *rid)
{
    const char *h = json_string_value(json_object_get(body, "rid"));

    if (h == NULL || strlen(h) != 2 * RPC_REQUEST_ID_LEN)
        return 0;
    for (size_t i = 0; i < RPC_REQUEST_ID_LEN; i++) {
        int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);
        if (a < 0 || b < 0)
            return 0;
        rid[i] = (uint8_t)(a << 4 | b);
    }
    return 1;
}

/* Answers a request refused after its prelude: drops what it holds. */
static void refuse(http_req *r, web_sess *s, json_t *body, int status,
                   json_t *reply)
{
    json_decref(body);
    if (s->user != NULL)
        web_user_unref(s->user);
    http_reply_json(r, status, reply, NULL);
}

static void submit(web_role *w, http_req *r, web_sess *s, json_t *body,
                   void (*fn)(void *))
{
    web_job *job = calloc(1, sizeof *job);

    if (job == NULL) {
        refuse(r, s, body, 500,
               json_pack("{sbss}", "ok", 0, "error", "Out of memory"));
        return;
    }
    job->w = w;
    job->r = r;
    job->sess = *s; /* the user's reference moves to the job */
    job->body = body;
    job->has_rid = parse_rid(body, job->rid);
    snprintf(job->peer, sizeof job->peer, "%s", http_req_peer(r));
    http_defer(r);
    if (web_jobs_submit(w->jobs, fn, job) != 0)
        web_job_done(
            job, 503,
            json_pack("{sbss}", "ok", 0, "error", "Server busy; try again"),
            NULL);
}

static void h_login(http_req *r, void *arg)
{
    web_role *w = arg;
    web_sess s;
    json_t *body;
    int64_t wait;

    if (prelude(w, r, &s, &body) != 0)
        return;
    wait = web_limit_wait_ms(w->limit,
                             json_string_value(json_object_get(body, "name")),
                             http_req_peer(r));
    if (wait > 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "Too many failed logins; try again in %lld s",
                 (long long)((wait + 999) / 1000));
        refuse(r, &s, body, 429,
               json_pack("{sbsss[s]}", "ok", 0, "code", "RESOURCE_EXHAUSTED",
                         "lines", msg));
        return;
    }
    submit(w, r, &s, body, web_exec_login);
}

static void h_register(http_req *r, void *arg)
{
    web_role *w = arg;
    web_sess s;
    json_t *body;

    if (prelude(w, r, &s, &body) == 0)
        submit(w, r, &s, body, web_exec_register);
}

/* cmd: a row of script mode's table other than register, login (their
 * own forms) and time (/api/time); args: at most ARGS_MAX strings. */
static const char *cmd_invalid(json_t *body)
{
    const char *cmd = json_string_value(json_object_get(body, "cmd"));
    const sb_cmd *row = cmd != NULL ? sb_cmd_find(cmd) : NULL;
    json_t *args = json_object_get(body, "args"), *a;
    size_t i;

    if (row == NULL || row->login_form || strcmp(cmd, "time") == 0)
        return "cmd must be a command of script mode (not register, login, "
               "time: they have their own routes)";
    if (!json_is_array(args) || json_array_size(args) > ARGS_MAX)
        return "args must be an array of at most 16 strings";
    json_array_foreach(args, i, a) if (!json_is_string(a)) return "args must "
                                                                  "be strings";
    return NULL;
}

static void h_cmd(http_req *r, void *arg)
{
    web_role *w = arg;
    web_sess s;
    json_t *body;
    const char *bad;

    if (prelude(w, r, &s, &body) != 0)
        return;
    if ((bad = cmd_invalid(body)) != NULL) {
        refuse(r, &s, body, 400, json_pack("{sbss}", "ok", 0, "error", bad));
        return;
    }
    submit(w, r, &s, body, web_exec_cmd);
}

static void h_time(http_req *r, void *arg)
{
    web_role *w = arg;
    web_sess s;
    json_t *body;

    if (prelude(w, r, &s, &body) == 0)
        submit(w, r, &s, body, web_exec_time);
}

static void h_ack(http_req *r, void *arg)
{
    web_role *w = arg;
    web_sess s;
    json_t *body;
    json_int_t seq;

    if (prelude(w, r, &s, &body) != 0)
        return;
    seq = json_integer_value(json_object_get(body, "seq"));
    json_decref(body);
    if (s.user == NULL) {
        http_reply_json(r, 200,
                        json_pack("{sbsss[s]}", "ok", 0, "code",
                                  "UNAUTHENTICATED", "lines", "Not login yet"),
                        NULL);
        return;
    }
    if (seq > 0)
        web_user_ack(s.user, (uint64_t)seq);
    web_user_unref(s.user);
    http_reply_json(r, 200, json_pack("{sb}", "ok", 1), NULL);
}

static void h_events(http_req *r, void *arg)
{
    web_role *w = arg;
    web_sess s = {.user = NULL};
    const char *q = http_req_query(r, "after"),
               *last = http_req_header(r, "Last-Event-ID");
    uint64_t after = 0, l;

    if (web_sess_get(w, r, &s) != 0 || s.user == NULL) {
        if (s.user != NULL)
            web_user_unref(s.user);
        /* 204 tells EventSource not to come back */
        http_reply(r, 204, NULL, "", 0, NULL, HTTP_NO_STORE);
        return;
    }
    if (q != NULL)
        after = strtoull(q, NULL, 10);
    if (last != NULL && (l = strtoull(last, NULL, 10)) > after)
        after = l;
    web_user_attach(s.user, r, after);
    web_user_unref(s.user);
}

int web_api_routes(web_role *w)
{
    static const struct {
        const char *method, *path;
        http_handler h;
    } api[] = {
        {NULL, "/api/session", h_session},
        {"POST", "/api/register", h_register},
        {"POST", "/api/login", h_login},
        {"POST", "/api/cmd", h_cmd},
        {"POST", "/api/time", h_time},
        {"POST", "/api/ack", h_ack},
        {NULL, "/api/events", h_events},
    };
    int rc;

    for (size_t i = 0; i < sizeof api / sizeof api[0]; i++)
        if ((rc = http_route(w->http, api[i].method, api[i].path, 0, api[i].h,
                             w)) != RPC_OK)
            return rc;
    for (size_t i = 0; i < web_nassets; i++)
        if ((rc = http_route_static(w->http, web_assets[i].path,
                                    web_assets[i].ctype, web_assets[i].data,
                                    web_assets[i].len)) != RPC_OK)
            return rc;
    return RPC_OK;
}
