/* web_internal.h: what the web role's files share. A browser session
 * (cookie) points at a web_user, the role's view of one logged-in
 * Switchboard user: its sb_user (token, app server), the deliveries
 * fetched and not yet acknowledged by a page, and the pages' event
 * streams. Locks: the users table's umu is innermost (taken while
 * holding smu or a user's mu, never the other way); smu and a user's mu
 * are never held together. */
#ifndef SB_WEB_INTERNAL_H
#define SB_WEB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "http.h"
#include "sb.h"
#include "web.h"

#define WEB_ID_HEX 32           /* 128-bit ids, as hex */
#define WEB_STREAMS_MAX 32      /* event streams per user (tabs) */
#define WEB_PEND_MAX (64 << 10) /* bytes of unacknowledged events held */
#define WEB_RECV_MAX 16         /* deliveries asked per Receive */
/* A stream's unsent bytes at most: what is held can exceed WEB_PEND_MAX
 * by one Receive's worth (an event is at most ~6 x 4 KiB of text once
 * JSON-escaped), and a page that attaches is sent all of it. */
#define WEB_STREAM_MAX (WEB_PEND_MAX + WEB_RECV_MAX * (32 << 10) + (16 << 10))
#define WEB_WAIT_MS 25000 /* Receive long-poll */
#define WEB_PING_MS 15000 /* a comment on idle streams: finds gone peers */
#define WEB_SESS_BUCKETS 4096

typedef struct web_jobs web_jobs;
typedef struct web_limit web_limit;
typedef struct web_user web_user;

/** One delivery fetched and shown to pages, until a page acknowledges it. */
typedef struct web_pending {
    uint64_t seq;
    char *event; /* the whole server-sent event, "id: ..\n...\n\n" */
    size_t len;
} web_pending;

/** One page's event stream. Its end (on libmicrohttpd's thread) only
 * marks it dead; the user's own paths unlink it under u->mu, so that
 * thread never waits for a user's lock. */
typedef struct web_stream {
    http_stream *hs;
    web_user *u;
    atomic_int dead;
    struct web_stream *next;
} web_stream;

struct web_user {
    struct web_role *w;
    pthread_mutex_t mu;
    int refs;          /* sessions, streams and calls in flight; under w->umu */
    sb_user u;         /* token, app server; copied out under mu */
    uint64_t fetched;  /* highest seq fetched from the mailbox */
    uint64_t acked;    /* highest seq a page acknowledged */
    uint64_t ack_sent; /* highest seq the app server took an Ack for */
    uint64_t ack_inflight;
    web_pending *pend;
    size_t npend, cappend, pend_bytes;
    web_stream *streams;
    int nstreams;
    int polling;      /* a Receive is in flight */
    int ended;        /* the token ended (logout, delete, idle timeout) */
    int64_t retry_ms; /* no Receive before this (monotonic), after a failure */
    int recovering;   /* a worker is re-logging in (libsb) */
    web_user *next;   /* w->users */
};

typedef struct web_sess {
    char id[WEB_ID_HEX + 1];   /* the cookie: nothing but this random id */
    char csrf[WEB_ID_HEX + 1]; /* must come back in X-CSRF-Token */
    web_user *user;            /* NULL: nobody logged in */
    int64_t last_ms;           /* monotonic, last request */
    struct web_sess *next;
} web_sess;

struct web_role {
    web_config cfg;
    http_server *http;
    rpc_client *rpc; /* to login; app servers by endpoint */
    sb_session *sb;  /* libsb over rpc (web_exec.c's transport) */
    web_jobs *jobs;
    web_limit *limit;
    pthread_mutex_t smu; /* sessions */
    web_sess *sess[WEB_SESS_BUCKETS];
    unsigned nsess;
    pthread_mutex_t umu; /* users */
    web_user *users;
    atomic_int stopping;
    int started; /* the sweeper runs */
    pthread_t sweeper;
    pthread_mutex_t swmu;
    pthread_cond_t swcv;
};

/* ---- web_jobs.c: threads for calls that block ---------------------- */
/** Starts n worker threads; NULL when out of memory. */
web_jobs *web_jobs_start(int n);
/** Queues fn(arg). Returns 0, or -1 when the queue is full (1024). */
int web_jobs_submit(web_jobs *j, void (*fn)(void *), void *arg);
/** Runs what is queued, then joins the threads. NULL ignored. */
void web_jobs_stop(web_jobs *j);

/* ---- web_limit.c: failed-login backoff ------------------------------ */
web_limit *web_limit_new(void);
void web_limit_free(web_limit *l);
/** Milliseconds before @name (from @peer) may try to log in again; 0 =
 * now. */
int64_t web_limit_wait_ms(web_limit *l, const char *name, const char *peer);
/** Records a failed (ok = 0) or a successful login. */
void web_limit_note(web_limit *l, const char *name, const char *peer, int ok);
/** Forgets entries quiet for long. */
void web_limit_sweep(web_limit *l);

/* ---- web_sess.c: browser sessions ----------------------------------- */
/** The session named by the request's cookie (its last use refreshed),
 * copied into *out with a reference to its user (drop it with
 * web_user_unref). 0, or -1 when there is none. */
int web_sess_get(web_role *w, http_req *r, web_sess *out);
/** A new anonymous session; its id and csrf in *out. 0 or -1 (full). */
int web_sess_new(web_role *w, web_sess *out);
/** Sets (or clears: u NULL) the user of session @id and gives it a new
 * id and CSRF token (a login must not keep an id known before it), both
 * written to *out. The session takes its own reference to u. 0 or -1. */
int web_sess_set_user(web_role *w, const char *id, web_user *u, web_sess *out);
/** Drops sessions idle past their limit. */
void web_sess_sweep(web_role *w);
void web_sess_free_all(web_role *w);
/** The Set-Cookie value for id (static buffer of the caller). */
void web_sess_cookie(const char *id, char *buf, size_t n);
/** Whether the request may change state for session @s: CSRF token,
 * JSON content type, same origin. 0 or -1 (with the reason). */
int web_sess_check_post(http_req *r, const web_sess *s, const char **why);
/** Fills hex with 2 * n hex digits of fresh randomness. */
void web_random_hex(char *hex, size_t n);

/* ---- web_user.c: users, their streams and deliveries ---------------- */
/** The web_user for @u's token (found or made), with a reference. */
web_user *web_user_get(web_role *w, const sb_user *u);
void web_user_ref(web_user *u);
void web_user_unref(web_user *u);
/** Copies the user's sb_user out (under its lock). */
void web_user_copy(web_user *u, sb_user *out);
/** Takes back what libsb learned (a new app server after a re-login). */
void web_user_update(web_user *u, const sb_user *from);
/** Opens an event stream for @r, sending what is held with seq > after.
 * Answers @r in every case. */
void web_user_attach(web_user *u, http_req *r, uint64_t after);
/** A page has shown every delivery up to @seq. */
void web_user_ack(web_user *u, uint64_t seq);
/** The session ended (logout, delete): pages are told, streams end. */
void web_user_end(web_user *u);
/** Unlinks the streams that ended; u->mu held. Returns how many user
 * references the caller must drop (web_user_unref) after unlocking. */
int web_user_prune_locked(web_user *u);
/** Writes @n bytes to every live stream of @u; u->mu held. */
void web_user_broadcast_locked(web_user *u, const char *p, size_t n);
/** Sweeper: retries, acks and pings for every user. */
void web_users_tick(web_role *w, int ping);
/** Ends every stream (stopping). */
void web_users_close_streams(web_role *w);
void web_users_free_all(web_role *w);

/* ---- web_pump.c: the Receive long-poll and Ack, asynchronously ------ */
/** Starts a Receive for @u if one should run (streams, room, no failure
 * pending). u->mu must be held. */
void web_pump_kick_locked(web_user *u);
/** Sends an Ack if the acknowledged seq is ahead of the one sent. u->mu
 * held. */
void web_pump_ack_locked(web_user *u);

/* ---- web_exec.c: running script-mode commands through libsb -------- */
/** Opens w->sb over w->rpc with the request-id pinning transport. */
int web_exec_open(web_role *w, rpc_status *st);
/** The /api/cmd, /api/login, /api/register and /api/time handlers' work
 * (on a worker): see web_api.c. */
typedef struct web_job web_job;
void web_exec_cmd(void *job);
void web_exec_login(void *job);
void web_exec_register(void *job);
void web_exec_time(void *job);

/** A request taken to a worker. */
struct web_job {
    web_role *w;
    http_req *r;
    web_sess sess; /* copy, user referenced */
    json_t *body;  /* the parsed request (owned) */
    uint8_t rid[RPC_REQUEST_ID_LEN];
    int has_rid;
    char peer[64];
};
/** Answers the job's request with @j (taken) and frees the job. */
void web_job_done(web_job *job, int status, json_t *j, const char *cookie);

/* ---- web_json.c: protobuf messages and deliveries as JSON ----------- */
/** Any protobuf-c message as a JSON object, field names as in the
 * .proto; NULL when out of memory. */
json_t *web_json_message(const ProtobufCMessage *m);
/** The server-sent event for one delivery (malloc'ed, *len set). */
char *web_delivery_event(const Sb__Social__Delivery *d, size_t *len);
/** A JSON string from bytes that may not be valid UTF-8 (U+FFFD then). */
json_t *web_json_str(const char *s);

/* ---- web_api.c ------------------------------------------------------- */
/** Adds the API and the page's routes to w->http. 0 or an rpc code. */
int web_api_routes(web_role *w);

/* ---- web_assets.c (generated from servers/web/static/) -------------- */
typedef struct web_asset {
    const char *path, *ctype;
    const unsigned char *data;
    size_t len;
} web_asset;
extern const web_asset web_assets[];
extern const size_t web_nassets;

#endif
