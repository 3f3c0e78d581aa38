/* store_db.h: the store role's data layer. One LMDB environment holds every
 * durable user record; reads run in read-only transactions on the caller's
 * thread, writes are described as store_wop structs and applied by the
 * group-commit writer (store_writer.h). Each operation returns one
 * store_res that maps 1:1 to a reply of PROTOCOL.md. */
#ifndef STORE_DB_H
#define STORE_DB_H

#include <stddef.h>
#include <stdint.h>

/* Limits enforced on every input (bytes). */
#define STORE_NAME_MAX 64      /* user and group names */
#define STORE_TOKEN_MAX 64     /* opaque session token */
#define STORE_HASH_MAX 256     /* password hash string */
#define STORE_TEXT_MAX 4096    /* post and message text */
#define STORE_ENDPOINT_MAX 256 /* app-server endpoint */
#define STORE_REQID_LEN 16

/** Every outcome of an operation. The first ones map to course replies. */
typedef enum store_res {
    STORE_OK = 0,           /* Success! (and list results) */
    STORE_NOT_LOGGED_IN,    /* Not login yet */
    STORE_ALREADY_USED,     /* <id> is already used */
    STORE_NO_SUCH_USER,     /* <id> does not exist / No such user exist */
    STORE_SELF,             /* You cannot invite yourself */
    STORE_ALREADY_FRIEND,   /* <id> is already your friend */
    STORE_ALREADY_INVITED,  /* Already invited */
    STORE_INVITED_YOU,      /* <id> has invited you */
    STORE_NOT_INVITED,      /* <id> did not invite you */
    STORE_NOT_FRIEND,       /* <friend> is not your friend */
    STORE_NOT_ONLINE,       /* <friend> is not online */
    STORE_ALREADY_EXISTS,   /* <group> already exist (also: token clash) */
    STORE_NO_SUCH_GROUP,    /* <group> does not exist / No such group exist */
    STORE_ALREADY_MEMBER,   /* Already a member of <group> */
    STORE_NOT_MEMBER,       /* You are not the member of <group> */
    STORE_INVALID_ARGUMENT, /* empty/too long/NUL/whitespace in a name... */
    STORE_ERR_INTERNAL,     /* LMDB failure; nothing of the op was applied */
    STORE_ERR_SHUTDOWN,     /* the writer is stopping; op not applied */
    STORE_ERR_UNAVAILABLE,  /* a remote store did not answer (store_conn.h);
                               a write may or may not have been applied:
                               retry it with the same request id */
    /* rooms and profiles (store_rooms.c) */
    STORE_NOT_CREATOR, /* Only the creator of <room> can delete it */
    STORE_IN_LOBBY,    /* Already in lobby (leave-room there) */
    STORE_LOBBY,       /* lobby cannot be deleted */
    STORE_BAD_AGE,     /* age out of 0..150 */
    STORE_BAD_PROFILE, /* a profile field empty, long or not printable */
    /* the group knowledge base (store_labels.h); (commits) = the op's
     * writes are kept although the result is not STORE_OK */
    STORE_NO_SUCH_LABEL,       /* No such label <label> */
    STORE_NO_LABELS,           /* No labels (next-label) */
    STORE_LABEL_BUSY,          /* <label> is being written by <id>; try again in
                                  <N> s */
    STORE_LABEL_RESERVED,      /* <label> exists; reserved for you for <N> s
                                  (commits) */
    STORE_LABEL_NEW,           /* <label> is new; reserved for you for <N> s
                                  (commits) */
    STORE_LABEL_UNCHECKED,     /* Check <label> first */
    STORE_LABEL_DRAFTED,       /* <label> changed after your reservation ended;
                                  your text is kept as a draft (commits) */
    STORE_LABEL_MALFORMED,     /* Malformed label data */
    STORE_LABEL_EMPTY,         /* A label cannot be empty */
    STORE_LABEL_TOO_LONG,      /* A label is at most 64 bytes */
    STORE_LABEL_QUOTE,         /* A label cannot hold a double quote */
    STORE_LABEL_NOT_PRINTABLE, /* A label must be printable UTF-8 with no
                                  space at either end */
    STORE_TEXT_TOO_LONG,       /* A text is at most 4096 bytes */
    STORE_TEXT_NOT_PRINTABLE,  /* A text must be printable UTF-8 with no
                                  space at either end */
    STORE_LABEL_DELIMITER,     /* FXGZ and ZGXF cannot be words of a label or
                                  text */
    STORE_LABEL_HOLD_MAX,      /* You already hold 64 reservations; write or
                                  drop one first */
    STORE_ROUND_NO_GRANT,      /* no reply: next-label's cursor needs a grant
                                  (store_labels_round_grant), then retry */
    STORE_RES_COUNT
} store_res;

/** A stable upper-case name for a result ("OK", "NOT_LOGGED_IN", ...). */
const char *store_res_name(store_res r);

/** 1 when an op that ended with @r keeps its writes: STORE_OK and the
 * results marked (commits) above; 0 for every other result, whose op
 * leaves no trace. */
int store_res_commits(store_res r);

/** A byte string that may hold any byte; names/texts are passed this way so
 * that an embedded NUL reaches the validation instead of truncating. */
typedef struct store_str {
    const char *ptr;
    size_t len;
} store_str;

/** Wraps a NUL-terminated C string (NULL gives the empty string). */
store_str store_s(const char *cstr);

typedef struct store_db store_db;

typedef struct store_opts {
    size_t map_size;       /* initial map size; 0 = 64 MiB */
    size_t map_max;        /* growth limit; 0 = 64 GiB */
    int nosync;            /* 1 = MDB_NOSYNC (tests/bench only; not durable) */
    unsigned max_readers;  /* 0 = 256 */
    uint64_t reqid_ttl_ms; /* request ids kept this long; 0 = 1 hour */
} store_opts;

/** Opens (creating if needed) the environment in directory @dir, which must
 * exist. Clears reader slots left by dead processes (mdb_reader_check).
 * @opts may be NULL for the defaults (durable, 64 MiB growing map).
 * Returns 0 and sets *@out, or an LMDB/errno code (e.g. ENOENT, EACCES,
 * MDB_INVALID, MDB_VERSION_MISMATCH); a message is logged. */
int store_db_open(const char *dir, const store_opts *opts, store_db **out);

/** Closes the environment. No read may be running and the writer must be
 * stopped first. NULL is accepted. */
void store_db_close(store_db *db);

/** Current map size in bytes (grows on MDB_MAP_FULL). */
size_t store_db_map_size(store_db *db);

/** Number of stale reader slots mdb_reader_check cleared at open. */
int store_db_stale_readers(store_db *db);

/* ---- write operations ---------------------------------------------- */

typedef enum store_op_kind {
    STORE_OP_REGISTER = 1, /* name, hash [, first, last, age, gender] */
    STORE_OP_LOGIN,        /* name, token (candidate) */
    STORE_OP_SET_SERVER,   /* token, server_id(name), endpoint(text) */
    STORE_OP_LOGOUT,       /* token */
    STORE_OP_DELETE,       /* token */
    STORE_OP_INVITE,       /* token, name = invitee */
    STORE_OP_ACCEPT,       /* token, name = inviter */
    STORE_OP_POST,         /* token, text */
    STORE_OP_SEND,         /* token, name = friend, text */
    STORE_OP_CREATE_GROUP, /* token, name = group */
    STORE_OP_JOIN_GROUP,   /* token, name = group */
    STORE_OP_SEND_GROUP,   /* token, name = group, text */
    STORE_OP_MAIL_ACK,     /* token, seq = acknowledge entries <= seq */
    /* rooms, profiles, private messages (store_rooms.c) */
    STORE_OP_CREATE_ROOM, /* token, name = room: create, creator enters */
    STORE_OP_JOIN_ROOM,   /* token, name = room ("lobby" = leave) */
    STORE_OP_LEAVE_ROOM,  /* token: back to lobby */
    STORE_OP_DELETE_ROOM, /* token, name = room: creator only */
    STORE_OP_SAY,         /* token, text: to every member of my room */
    STORE_OP_PRIVATE,     /* token, name = to (online), text */
    STORE_OP_SET_PROFILE, /* token, first, last, age, gender */
    STORE_OP_END_SESSION, /* token: a timed-out session (as logout) */
} store_op_kind;

/** What a write op produced (also what a retried request id gets back). */
typedef struct store_wres {
    store_res res;
    uint64_t seq;   /* POST: post seq; SEND: mailbox seq; SEND_GROUP/ACK:
                       last seq used / acknowledged */
    uint32_t count; /* SEND_GROUP, SAY: deliveries; MAIL_ACK: entries deleted;
                       DELETE_ROOM, LOGOUT, DELETE, END_SESSION: room-closed
                       notices written (a mail hint is due when > 0) */
    char token[STORE_TOKEN_MAX + 1]; /* LOGIN: the session's token */
} store_wres;

typedef struct store_wop store_wop;
typedef void (*store_done_fn)(store_wop *op, void *arg);

/** One write request. The caller owns it and every byte it points to until
 * its completion has run. Fields an op does not use are ignored. */
struct store_wop {
    store_op_kind kind;
    /* Idempotency key: an op whose id was already applied is not applied
     * again; its stored result is returned. All zero = no deduplication. */
    uint8_t reqid[STORE_REQID_LEN];
    store_str token;
    store_str name;   /* user or group name, see kind */
    store_str text;   /* post/message text, hash for REGISTER, endpoint */
    store_str server; /* SET_SERVER: server id */
    store_str first, last, gender; /* REGISTER: optional profile */
    uint32_t age;
    uint64_t seq;
    store_wres out;     /* filled before done() runs */
    store_done_fn done; /* called once, on the writer thread, after commit */
    void *arg;
    store_wop *next; /* writer's queue link */
};

/** Applies @n ops in ONE write transaction, each in a child transaction so a
 * failing op leaves no trace, then commits once (one fsync). Grows the map
 * and retries the batch on MDB_MAP_FULL. Fills each op's out; does NOT call
 * done(). Safe from any thread (calls are serialised). Returns 0, or an
 * LMDB code if the batch could not be committed (then every out.res is
 * STORE_ERR_INTERNAL and nothing was applied). */
int store_db_apply(store_db *db, store_wop **ops, size_t n);

/* ---- read operations -------------------------------------------------
 * Each runs in one read-only transaction. Token-taking reads return
 * STORE_NOT_LOGGED_IN first when the token is missing or invalid.
 * STORE_INVALID_ARGUMENT for malformed input, STORE_ERR_INTERNAL on LMDB
 * failure. On success the out struct owns heap memory: free it with its
 * _free function (safe on a zeroed struct and after failure). */

typedef struct store_user {
    char name[STORE_NAME_MAX + 1];
    char hash[STORE_HASH_MAX + 1];
    char first[STORE_NAME_MAX + 1], last[STORE_NAME_MAX + 1];
    char gender[STORE_NAME_MAX + 1];
    uint32_t age;
    uint64_t created_seq;
    uint64_t created_ms;
} store_user;

/** The account @name (for the login role to verify the password).
 * STORE_OK | STORE_NO_SUCH_USER | STORE_INVALID_ARGUMENT | ERR_INTERNAL. */
store_res store_get_user(store_db *db, store_str name, store_user *out);

typedef struct store_session {
    char user[STORE_NAME_MAX + 1];
    char token[STORE_TOKEN_MAX + 1];
    char server[STORE_NAME_MAX + 1];       /* "" until SET_SERVER */
    char endpoint[STORE_ENDPOINT_MAX + 1]; /* "" until SET_SERVER */
    uint64_t login_ms;                     /* wall clock at login */
} store_session;

/** Resolves @token to its user and session. STORE_OK | NOT_LOGGED_IN. */
store_res store_whoami(store_db *db, store_str token, store_session *out);

/** A list of names. */
typedef struct store_names {
    size_t n;
    char **v;
    uint8_t *online; /* list_users only: 1 when the user has a session */
} store_names;
void store_names_free(store_names *l);

/** Inviters of the token's user, oldest invitation first. */
store_res store_list_invite(store_db *db, store_str token, store_names *out);
/** Friends, oldest friendship first. */
store_res store_list_friend(store_db *db, store_str token, store_names *out);
/** Every group, oldest first. */
store_res store_list_group(store_db *db, store_str token, store_names *out);
/** The user's groups in join order. */
store_res store_list_joined(store_db *db, store_str token, store_names *out);
/** Every account in creation order, with online flags. */
store_res store_list_users(store_db *db, store_str token, store_names *out);

typedef struct store_post {
    uint64_t seq;
    char *author;
    char *text;
} store_post;
typedef struct store_posts {
    size_t n;
    store_post *v;
} store_posts;
void store_posts_free(store_posts *l);

/** Friends' posts, oldest first (global post order). */
store_res store_receive_post(store_db *db, store_str token, store_posts *out);

typedef enum store_mail_kind {
    STORE_MAIL_DIRECT = 1,
    STORE_MAIL_GROUP = 2,
    STORE_MAIL_ROOM = 3, /* group holds the room */
    /* The recipient's room is gone and it is in lobby now: group holds
     * the room, from its creator, text STORE_CLOSED_DELETED or
     * STORE_CLOSED_SESSION_ENDED (why). Written in the closing txn. */
    STORE_MAIL_ROOM_CLOSED = 4,
} store_mail_kind;
#define STORE_CLOSED_DELETED "deleted"
#define STORE_CLOSED_SESSION_ENDED "session ended"
typedef struct store_mail {
    uint64_t seq;
    store_mail_kind kind;
    uint64_t time_ms; /* server wall clock when stored */
    char *from;
    char *group; /* "" for direct messages */
    char *text;
} store_mail;
typedef struct store_mails {
    size_t n;
    store_mail *v;
} store_mails;
void store_mails_free(store_mails *l);

/** Up to @max (0 = 1000) mailbox entries with seq > @after_seq, in order. */
store_res store_mail_fetch(store_db *db, store_str token, uint64_t after_seq,
                           size_t max, store_mails *out);

/* ---- rooms and profiles (store_rooms.c) ------------------------------
 * "lobby" always exists and holds every online user who is in no other
 * room; a room lives until its creator deletes it or the creator's
 * session ends (logout, delete, STORE_OP_END_SESSION). */
#define STORE_LOBBY_NAME "lobby"
#define STORE_AGE_MAX 150

typedef struct store_room {
    char name[STORE_NAME_MAX + 1];
    char creator[STORE_NAME_MAX + 1]; /* "" for lobby */
    uint32_t count;                   /* members now */
} store_room;
typedef struct store_rooms {
    size_t n;
    store_room *v;
} store_rooms;
void store_rooms_free(store_rooms *l);

/** lobby first, then every room in creation order, with member counts.
 * STORE_OK | NOT_LOGGED_IN | ERR_INTERNAL. */
store_res store_list_rooms(store_db *db, store_str token, store_rooms *out);

/** The caller's current room into @room (STORE_LOBBY_NAME when none).
 * STORE_OK | NOT_LOGGED_IN | ERR_INTERNAL. */
store_res store_current_room(store_db *db, store_str token,
                             char room[STORE_NAME_MAX + 1]);

/** The profile of account @name (any caller with a valid token); *has is
 * 0 when it never set one. STORE_OK | NOT_LOGGED_IN | NO_SUCH_USER |
 * INVALID_ARGUMENT | ERR_INTERNAL. */
store_res store_show_profile(store_db *db, store_str token, store_str name,
                             store_user *out, int *has);

/** Profile field checks shared with register: first/last/gender 1..64
 * bytes of printable UTF-8 without spaces, age 0..150. Returns STORE_OK,
 * STORE_BAD_PROFILE or STORE_BAD_AGE. */
store_res store_check_profile(store_str first, store_str last, uint32_t age,
                              store_str gender);
/** 1 when @s is 1..@max bytes of valid UTF-8 with no control character
 * (C0, DEL, C1) and no leading or trailing space; else 0. */
int store_valid_printable(store_str s, size_t max);

/* ---- passwords --------------------------------------------------------- */

typedef enum store_pwcost {
    STORE_PW_INTERACTIVE = 0, /* libsodium's interactive limits (default) */
    STORE_PW_MODERATE,
    STORE_PW_FAST, /* minimum limits: tests only */
} store_pwcost;
#define STORE_PWHASH_LEN 128 /* == crypto_pwhash_STRBYTES */

/** Hashes @pw (@len bytes) with Argon2id into @out (NUL-terminated).
 * Returns 0, or -1 when memory is short or sodium cannot start. */
int store_password_hash(const char *pw, size_t len, store_pwcost cost,
                        char out[STORE_PWHASH_LEN]);
/** Returns 0 when @pw matches @hash, -1 otherwise (also on a bad hash). */
int store_password_verify(const char *hash, const char *pw, size_t len);
/** store_password_verify for a name that may not exist: with @hash NULL
 * (no such user) it verifies @pw against a dummy hash of @cost made once
 * per process, so an unknown name costs what a wrong password costs and
 * the answer's time does not tell which it was (docs/trust.md). Returns 0
 * when @pw matches @hash, -1 otherwise (always with @hash NULL). */
int store_password_verify_or_dummy(const char *hash, const char *pw, size_t len,
                                   store_pwcost cost);

#endif
