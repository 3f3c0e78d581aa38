/* sb.h: libsb, the Switchboard client library.
 *
 * An sb_session talks to one login endpoint; each logged-in user is an
 * sb_user (name, token, app server) that the caller keeps and passes to
 * the user's calls. Every call returns an rpc_status code (RPC_OK or a
 * canonical failure) and fills *st with the code and the exact reply text
 * of PROTOCOL.md ("Not login yet", "Already invited", ...). Replies are
 * the protoc-c types of proto/social.proto; free them with sb_free().
 *
 * Thread safety: one sb_session may be used from many threads, provided
 * no two threads use the same sb_user at once.
 */
#ifndef SB_H
#define SB_H

#include <stdint.h>

#include "rpc.h"
#include "social.pb-c.h"
#include "social.sb.h" /* method names: sb_social_App_Invite_METHOD, ... */

#ifdef __cplusplus
extern "C" {
#endif

#define SB_NAME_MAX 256     /**< longest user name kept, with its NUL */
#define SB_TOKEN_MAX 128    /**< longest token kept, with its NUL */
#define SB_ENDPOINT_MAX 256 /**< longest endpoint URL kept, with its NUL */

/** One logged-in user as the client holds it. A zeroed sb_user is "no
 * user": its calls carry no token and go to the login endpoint. */
typedef struct sb_user {
    char name[SB_NAME_MAX];
    char token[SB_TOKEN_MAX];
    char endpoint[SB_ENDPOINT_MAX]; /**< the user's app server */
    char server_id[64];
    int64_t login_time_ms; /**< server time at login */
} sb_user;

typedef struct sb_session sb_session;

/** How a session reaches the servers. sb_open() uses nng through the RPC
 * runtime; tests and embedders may supply their own with sb_open_with().
 *
 * call: sends method (e.g. "sb.social.App/Invite") with req to endpoint
 *   (NULL = the login endpoint) carrying token (NULL = none) and
 *   request_id (RPC_REQUEST_ID_LEN bytes; NULL = a fresh one); on RPC_OK
 *   sets *reply to a message of reply_desc that the caller frees. Must
 *   follow REDIRECTs and retry UNAVAILABLE itself, keeping the id;
 *   returns st->code. libsb passes one id for a command and every
 *   re-send of it (after a re-login too), so the store applies it once.
 * close: releases arg; may be NULL. */
typedef struct sb_transport {
    int (*call)(void *arg, const char *endpoint, const char *method,
                const char *token, const uint8_t *request_id,
                const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *reply_desc,
                ProtobufCMessage **reply, rpc_status *st);
    void (*close)(void *arg);
    void *arg;
} sb_transport;

/* ------------------------------------------------------------------ */
/* Session                                                              */

/** Opens a session on the login server at host:port (tcp). Nothing is
 * sent yet: the connection is made on the first call.
 * @param out  receives the session; close it with sb_close().
 * @param host a host name or IPv4 address, e.g. "127.0.0.1".
 * @param port 1..65535.
 * @param st   receives the reason on failure.
 * @return RPC_OK; RPC_INVALID_ARGUMENT (bad host or port); RPC_INTERNAL
 *         (out of memory, or the runtime could not open a socket). */
int sb_open(sb_session **out, const char *host, int port, rpc_status *st);

/** Checks that host:port accepts a TCP connection (a name lookup and one
 * connect, closed at once), to tell a user plainly why nothing answers:
 * sb_open() connects lazily and the RPC runtime retries quietly.
 * @param timeout_ms how long a connect may wait; 0 = 3000.
 * @return RPC_OK; RPC_UNAVAILABLE with st->message "cannot connect to
 *         HOST:PORT: connection refused" (or "unknown host", "timed out",
 *         "no route to host", "network unreachable", the system's words);
 *         RPC_INVALID_ARGUMENT for an empty host or a port out of 1..65535.
 */
int sb_probe(const char *host, int port, int timeout_ms, rpc_status *st);

/** Opens a session over a caller-supplied transport (copied); the
 * session calls t->close(t->arg) when closed.
 * @return RPC_OK, or RPC_INTERNAL when out of memory. */
int sb_open_with(sb_session **out, const sb_transport *t, rpc_status *st);

/** Closes the session. Users stay logged in on the server: closing is
 * not logging out (script mode's `exit`). NULL is ignored. */
void sb_close(sb_session *s);

/** Frees a reply returned by any call below. NULL is ignored. */
void sb_free(void *reply);

/** Sends any method of proto/social.proto as user u (NULL or a zeroed
 * user = no token). Login methods go to the login endpoint; App methods
 * go to u's app server, or to the login endpoint when u has none (which
 * redirects or answers UNAUTHENTICATED). If u's app server is gone
 * (UNAVAILABLE after the transport's retries), asks login again with u's
 * token (Login with old_token), updates u->endpoint and re-sends once.
 * @return RPC_OK with *reply set, or the server's failure. */
int sb_call(sb_session *s, sb_user *u, const char *method,
            const ProtobufCMessage *req,
            const ProtobufCMessageDescriptor *reply_desc,
            ProtobufCMessage **reply, rpc_status *st);

/* ------------------------------------------------------------------ */
/* Login service                                                        */

/** Creates an account.
 * @return RPC_OK; RPC_ALREADY_EXISTS "<name> is already used";
 *         RPC_INVALID_ARGUMENT for an empty or oversized name or password;
 *         transport failures (RPC_UNAVAILABLE, RPC_DEADLINE_EXCEEDED). */
int sb_register(sb_session *s, const char *name, const char *password,
                rpc_status *st);

/** Logs name in and fills *u with its token and app server. A user
 * already logged in gets the same token again.
 * @return RPC_OK; RPC_UNAUTHENTICATED "No such user or password error";
 *         RPC_RESOURCE_EXHAUSTED when no app server can take the user;
 *         transport failures. */
int sb_login(sb_session *s, const char *name, const char *password, sb_user *u,
             rpc_status *st);

/** Ends u's session ("Bye!"); u's token is stale afterwards.
 * @return RPC_OK; RPC_UNAUTHENTICATED "Not login yet"; transport failures. */
int sb_logout(sb_session *s, sb_user *u, rpc_status *st);

/** Deletes u's account and everything of it (token, posts, friendships,
 * invitations both ways, group memberships, mailbox).
 * @return RPC_OK; RPC_UNAUTHENTICATED "Not login yet"; transport failures. */
int sb_delete(sb_session *s, sb_user *u, rpc_status *st);

/** The session behind u's token (also how script mode checks a token).
 * @return RPC_OK with *reply; RPC_UNAUTHENTICATED "Not login yet". */
int sb_whoami(sb_session *s, sb_user *u, Sb__Social__SessionInfo **reply,
              rpc_status *st);

/** Cristian's clock sync: asks the server's wall time and sets
 * *offset_ms = server time + round trip / 2 - local time at the reply,
 * and *rtt_ms to the round trip. Needs a valid token.
 * @return RPC_OK; RPC_UNAUTHENTICATED "Not login yet"; transport failures. */
int sb_time(sb_session *s, sb_user *u, int64_t *server_ms, int64_t *offset_ms,
            int64_t *rtt_ms, rpc_status *st);

/** A clock estimate: the server's time at the sample kept, this client's
 * offset from it (add it to the local clock to get server time), and the
 * round trip of that sample. */
typedef struct sb_clock {
    int64_t server_ms;
    int64_t offset_ms;
    int64_t rtt_ms;
    int samples; /**< samples that answered */
} sb_clock;

/** Cristian's method over @samples (1..64) Time calls: keeps the sample
 * with the smallest round trip (the least room for asymmetric delay),
 * offset = server time + rtt / 2 - local time at its reply.
 * @return RPC_OK when at least one sample answered; else the last failure
 *         (RPC_UNAUTHENTICATED "Not login yet", transport failures);
 *         RPC_INVALID_ARGUMENT for samples out of range. */
int sb_clock_sync(sb_session *s, sb_user *u, int samples, sb_clock *out,
                  rpc_status *st);

/** Every account with online or offline, in creation order.
 * @return RPC_OK with *reply; RPC_UNAUTHENTICATED "Not login yet". */
int sb_list_users(sb_session *s, sb_user *u, Sb__Social__UserList **reply,
                  rpc_status *st);

/* ------------------------------------------------------------------ */
/* App service: the course commands. Each needs u's valid token first:  */
/* otherwise RPC_UNAUTHENTICATED "Not login yet". Then, in order:       */

/** Invites id. RPC_INVALID_ARGUMENT "You cannot invite yourself";
 * RPC_NOT_FOUND "<id> does not exist"; RPC_ALREADY_EXISTS "<id> is already
 * your friend", "Already invited"; RPC_FAILED_PRECONDITION "<id> has
 * invited you". */
int sb_invite(sb_session *s, sb_user *u, const char *id, rpc_status *st);

/** Inviters of u, oldest invitation first (empty list: "No invitations"). */
int sb_list_invite(sb_session *s, sb_user *u, Sb__Social__NameList **reply,
                   rpc_status *st);

/** Accepts id's invitation. RPC_NOT_FOUND "<id> did not invite you". */
int sb_accept_invite(sb_session *s, sb_user *u, const char *id, rpc_status *st);

/** u's friends, oldest friendship first (empty: "No friends"). */
int sb_list_friend(sb_session *s, sb_user *u, Sb__Social__NameList **reply,
                   rpc_status *st);

/** Posts text (already joined by single spaces). */
int sb_post(sb_session *s, sb_user *u, const char *text, rpc_status *st);

/** Friends' posts, oldest first (empty: "No posts"). */
int sb_receive_post(sb_session *s, sb_user *u, Sb__Social__PostList **reply,
                    rpc_status *st);

/** Sends text to friend `to`. RPC_NOT_FOUND "No such user exist";
 * RPC_FAILED_PRECONDITION "<to> is not your friend", "<to> is not online". */
int sb_send(sb_session *s, sb_user *u, const char *to, const char *text,
            rpc_status *st);

/** Creates group (the creator joins). RPC_ALREADY_EXISTS "<g> already
 * exist". */
int sb_create_group(sb_session *s, sb_user *u, const char *group,
                    rpc_status *st);

/** Every group, oldest first (empty: "No groups"). */
int sb_list_group(sb_session *s, sb_user *u, Sb__Social__NameList **reply,
                  rpc_status *st);

/** u's groups in join order (empty: "No groups"). */
int sb_list_joined(sb_session *s, sb_user *u, Sb__Social__NameList **reply,
                   rpc_status *st);

/** Joins group. RPC_NOT_FOUND "<g> does not exist"; RPC_ALREADY_EXISTS
 * "Already a member of <g>". */
int sb_join_group(sb_session *s, sb_user *u, const char *group, rpc_status *st);

/** Sends text to every member of group. RPC_NOT_FOUND "No such group
 * exist"; RPC_PERMISSION_DENIED "You are not the member of <g>". */
int sb_send_group(sb_session *s, sb_user *u, const char *group,
                  const char *text, rpc_status *st);

/** Loot box: draws count numbers for u through u's app server, which
 * asks the draw service (no number is ever handed out twice, by any
 * client). All or nothing. On RPC_OK, (*reply)->numbers holds exactly
 * count numbers in 1..N, in draw order; free it with sb_free().
 * @param count 1..the service's maximum (10000 by default).
 * @return RPC_OK; RPC_UNAUTHENTICATED "Not login yet";
 *         RPC_INVALID_ARGUMENT "Count must be between 1 and 10000";
 *         RPC_RESOURCE_EXHAUSTED "No numbers left" or "Only K numbers
 *         left" (nothing is drawn, a smaller draw may succeed);
 *         RPC_ABORTED "Draw service is not available" (no draw service
 *         configured, or it did not answer in time: nothing was drawn
 *         for u, though numbers may have been skipped); transport
 *         failures. */
int sb_draw(sb_session *s, sb_user *u, uint32_t count,
            Sb__Social__DrawReply **reply, rpc_status *st);

/* ------------------------------------------------------------------ */
/* Delivery                                                             */

/** Deliveries to u with seq > after_seq, oldest first; waits up to
 * wait_ms (0 = answer at once) when there is none yet. Deliveries stay
 * in the mailbox until acknowledged with sb_ack().
 * @return RPC_OK with *reply (possibly no deliveries);
 *         RPC_UNAUTHENTICATED "Not login yet"; transport failures. */
int sb_receive(sb_session *s, sb_user *u, uint64_t after_seq, uint32_t wait_ms,
               Sb__Social__ReceiveReply **reply, rpc_status *st);

/** Deletes u's deliveries with seq <= upto_seq.
 * @return RPC_OK; RPC_UNAUTHENTICATED; transport failures. */
int sb_ack(sb_session *s, sb_user *u, uint64_t upto_seq, rpc_status *st);

/** Formats a delivery as script mode prints it, without newline:
 * "<<<A->B: TEXT>>>", "<<<A->GROUP<G>: TEXT>>>", "<<<A->ROOM<R>: TEXT>>>",
 * and for a room that closed under its member (ROOM_CLOSED, A its
 * creator): "<<<ROOM<R> deleted by A; you are in lobby>>>" or
 * "<<<ROOM<R> closed: A's session ended; you are in lobby>>>".
 * Returns the length snprintf would write (truncated to n). */
int sb_format_delivery(char *buf, size_t n, const Sb__Social__Delivery *d);

#ifdef __cplusplus
}
#endif
#endif
