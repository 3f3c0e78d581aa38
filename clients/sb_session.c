/* sb_session.c: the libsb session: which endpoint a call goes to, and the
 * one recovery the library does on its own (re-login with the old token
 * when the user's app server is gone). The wire itself is a pluggable
 * sb_transport (sb_nng.c for the real one), so this file has no nng in it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sb.h"
#include "sb_internal.h"

struct sb_session {
    sb_transport t;
};

int sb_status(rpc_status *st, int code, const char *fmt, ...)
{
    if (st != NULL) {
        va_list ap;
        st->code = code;
        va_start(ap, fmt);
        vsnprintf(st->message, sizeof(st->message), fmt, ap);
        va_end(ap);
        st->endpoint[0] = '\0';
    }
    return code;
}

const char *sb_code_name(int code)
{
    static const char *const names[] = {"OK",
                                        "CANCELLED",
                                        "UNKNOWN",
                                        "INVALID_ARGUMENT",
                                        "DEADLINE_EXCEEDED",
                                        "NOT_FOUND",
                                        "ALREADY_EXISTS",
                                        "PERMISSION_DENIED",
                                        "RESOURCE_EXHAUSTED",
                                        "FAILED_PRECONDITION",
                                        "ABORTED",
                                        "OUT_OF_RANGE",
                                        "UNIMPLEMENTED",
                                        "INTERNAL",
                                        "UNAVAILABLE",
                                        "DATA_LOSS",
                                        "UNAUTHENTICATED"};

    if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
        return "UNKNOWN_CODE";
    return names[code];
}

void sb_copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src != NULL ? src : "");
}

int sb_open_with(sb_session **out, const sb_transport *t, rpc_status *st)
{
    sb_session *s;

    *out = NULL;
    if (t == NULL || t->call == NULL)
        return sb_status(st, RPC_INVALID_ARGUMENT, "no transport");
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return sb_status(st, RPC_INTERNAL, "out of memory");
    s->t = *t;
    *out = s;
    return sb_status(st, RPC_OK, "%s", "");
}

void sb_close(sb_session *s)
{
    if (s == NULL)
        return;
    if (s->t.close != NULL)
        s->t.close(s->t.arg);
    free(s);
}

void sb_free(void *reply)
{
    if (reply != NULL)
        protobuf_c_message_free_unpacked(reply, NULL);
}

/* Re-login attempts while login still names the dead server. */
#define RELOGIN_TRIES 10
#define RELOGIN_PAUSE_MS 400

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static int is_app_method(const char *method)
{
    return strncmp(method, "sb.social.App/", 14) == 0;
}

static const char *token_of(const sb_user *u)
{
    return (u != NULL && u->token[0] != '\0') ? u->token : NULL;
}

/* Asks login for u's (new) app server with u's token; on success u now
 * points at the server that took over u's session. */
static int relogin(sb_session *s, sb_user *u, rpc_status *st)
{
    Sb__Social__LoginRequest req = SB__SOCIAL__LOGIN_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    Sb__Social__LoginReply *lr;
    int rc;

    req.old_token = u->token;
    rc = s->t.call(s->t.arg, NULL, sb_social_Login_Login_METHOD, NULL, NULL,
                   &req.base, &sb__social__login_reply__descriptor, &reply, st);
    if (rc != RPC_OK)
        return rc;
    lr = (Sb__Social__LoginReply *)reply;
    sb_copy(u->endpoint, sizeof(u->endpoint), lr->app_endpoint);
    sb_copy(u->server_id, sizeof(u->server_id), lr->app_server_id);
    if (lr->token[0] != '\0')
        sb_copy(u->token, sizeof(u->token), lr->token);
    sb_free(reply);
    return RPC_OK;
}

int sb_call(sb_session *s, sb_user *u, const char *method,
            const ProtobufCMessage *req,
            const ProtobufCMessageDescriptor *reply_desc,
            ProtobufCMessage **reply, rpc_status *st)
{
    const char *ep = NULL;
    uint8_t id[RPC_REQUEST_ID_LEN];
    int rc;

    *reply = NULL;
    if (is_app_method(method) && u != NULL && u->endpoint[0] != '\0')
        ep = u->endpoint;
    /* One id for the command and its re-send below: an app server that
     * died after the store committed must not make the write twice. */
    if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id)
        return sb_status(st, RPC_INTERNAL, "getrandom failed");
    rpc_request_id_stamp(id); /* time-ordered: cheaper for the store */
    rc = s->t.call(s->t.arg, ep, method, token_of(u), id, req, reply_desc,
                   reply, st);
    if (rc != RPC_UNAVAILABLE || ep == NULL || token_of(u) == NULL)
        return rc;
    /* The app server is gone: login knows who took over. A token that
     * ended meanwhile comes back UNAUTHENTICATED, which is the answer.
     * The orchestrator moves the user as soon as it sees the server gone
     * (its instance vanished once a heartbeat is late; at worst after
     * three missed heartbeats): until then login may name the same
     * server, so ask again, bounded (RELOGIN_TRIES x RELOGIN_PAUSE_MS,
     * past the three-heartbeat limit). */
    char failed[sizeof u->endpoint];

    sb_copy(failed, sizeof failed, u->endpoint);
    for (int i = 0; i < RELOGIN_TRIES; i++) {
        if ((rc = relogin(s, u, st)) != RPC_OK)
            return rc;
        if (strcmp(u->endpoint, failed) != 0 || i + 1 == RELOGIN_TRIES)
            break;
        sleep_ms(RELOGIN_PAUSE_MS);
    }
    return s->t.call(s->t.arg, u->endpoint, method, token_of(u), id, req,
                     reply_desc, reply, st);
}

int sb_register(sb_session *s, const char *name, const char *password,
                rpc_status *st)
{
    Sb__Social__RegisterRequest req = SB__SOCIAL__REGISTER_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    int rc;

    req.name = (char *)name;
    req.password = (char *)password;
    rc = sb_call(s, NULL, sb_social_Login_RegisterUser_METHOD, &req.base,
                 &sb__social__empty__descriptor, &reply, st);
    sb_free(reply);
    return rc;
}

int sb_login(sb_session *s, const char *name, const char *password, sb_user *u,
             rpc_status *st)
{
    Sb__Social__LoginRequest req = SB__SOCIAL__LOGIN_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    Sb__Social__LoginReply *lr;
    int rc;

    req.name = (char *)name;
    req.password = (char *)password;
    rc = sb_call(s, NULL, sb_social_Login_Login_METHOD, &req.base,
                 &sb__social__login_reply__descriptor, &reply, st);
    if (rc != RPC_OK)
        return rc;
    lr = (Sb__Social__LoginReply *)reply;
    memset(u, 0, sizeof(*u));
    sb_copy(u->name, sizeof(u->name), name);
    sb_copy(u->token, sizeof(u->token), lr->token);
    sb_copy(u->endpoint, sizeof(u->endpoint), lr->app_endpoint);
    sb_copy(u->server_id, sizeof(u->server_id), lr->app_server_id);
    u->login_time_ms = lr->server_time_ms;
    sb_free(reply);
    return RPC_OK;
}

/* A Login-service call whose reply the caller does not need. */
static int login_call_empty(sb_session *s, sb_user *u, const char *method,
                            rpc_status *st)
{
    Sb__Social__Empty req = SB__SOCIAL__EMPTY__INIT;
    ProtobufCMessage *reply = NULL;
    int rc;

    rc = sb_call(s, u, method, &req.base, &sb__social__empty__descriptor,
                 &reply, st);
    sb_free(reply);
    return rc;
}

int sb_logout(sb_session *s, sb_user *u, rpc_status *st)
{
    return login_call_empty(s, u, sb_social_Login_Logout_METHOD, st);
}

int sb_delete(sb_session *s, sb_user *u, rpc_status *st)
{
    return login_call_empty(s, u, sb_social_Login_Delete_METHOD, st);
}

int sb_whoami(sb_session *s, sb_user *u, Sb__Social__SessionInfo **reply,
              rpc_status *st)
{
    Sb__Social__Empty req = SB__SOCIAL__EMPTY__INIT;

    return sb_call(s, u, sb_social_Login_WhoAmI_METHOD, &req.base,
                   &sb__social__session_info__descriptor,
                   (ProtobufCMessage **)reply, st);
}

int sb_list_users(sb_session *s, sb_user *u, Sb__Social__UserList **reply,
                  rpc_status *st)
{
    Sb__Social__Empty req = SB__SOCIAL__EMPTY__INIT;

    return sb_call(s, u, sb_social_Login_ListUsers_METHOD, &req.base,
                   &sb__social__user_list__descriptor,
                   (ProtobufCMessage **)reply, st);
}

int sb_time(sb_session *s, sb_user *u, int64_t *server_ms, int64_t *offset_ms,
            int64_t *rtt_ms, rpc_status *st)
{
    Sb__Social__Empty req = SB__SOCIAL__EMPTY__INIT;
    ProtobufCMessage *reply = NULL;
    int64_t t0, t1, srv;
    int rc;

    t0 = sb_wall_ms();
    rc = sb_call(s, u, sb_social_Login_Time_METHOD, &req.base,
                 &sb__social__time_reply__descriptor, &reply, st);
    t1 = sb_wall_ms();
    if (rc != RPC_OK)
        return rc;
    srv = ((Sb__Social__TimeReply *)reply)->server_time_ms;
    sb_free(reply);
    /* Cristian: the server read its clock about half a round trip ago. */
    *server_ms = srv;
    *rtt_ms = t1 - t0;
    *offset_ms = srv + (t1 - t0) / 2 - t1;
    return RPC_OK;
}

int sb_clock_sync(sb_session *s, sb_user *u, int samples, sb_clock *out,
                  rpc_status *st)
{
    int rc = RPC_INVALID_ARGUMENT;

    memset(out, 0, sizeof(*out));
    if (samples < 1 || samples > 64)
        return sb_status(st, rc, "samples must be 1 to 64");
    for (int i = 0; i < samples; i++) {
        int64_t srv, off, rtt;
        rc = sb_time(s, u, &srv, &off, &rtt, st);
        if (rc == RPC_UNAUTHENTICATED)
            return rc; /* no sample will answer */
        if (rc != RPC_OK)
            continue;
        if (out->samples == 0 || rtt < out->rtt_ms) {
            out->server_ms = srv;
            out->offset_ms = off;
            out->rtt_ms = rtt;
        }
        out->samples++;
    }
    return out->samples > 0 ? sb_status(st, RPC_OK, "%s", "") : rc;
}
