/* store_conn_read.c: store_conn's reads. Local reads call the data layer
 * directly; remote reads are one sb.store.Store/Read call each, whose
 * reply is copied into the same structs the data layer fills (heap memory
 * freed by store_names_free & co.), so callers cannot tell the two apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.sb.h"
#include "store_conn_internal.h"

/* One Read call. On STORE_OK *@out holds the reply (free it with
 * sb_store_Store_free); otherwise *@out is NULL. */
static store_res remote_read(store_conn *c, Sb__Store__ReadKind kind,
                             store_str token, store_str name, uint64_t after,
                             size_t max, Sb__Store__ReadResult **out)
{
    Sb__Store__ReadOp m = SB__STORE__READ_OP__INIT;
    Sb__Store__ReadResult *reply = NULL;
    char *t = NULL, *n = NULL;
    rpc_opts o = {.timeout_ms = c->timeout_ms};
    rpc_status st;
    store_res r;
    int rv;

    *out = NULL;
    if ((rv = store_conn_dup(token, &t)) != 0 ||
        (rv = store_conn_dup(name, &n)) != 0) {
        r = rv == -1 ? STORE_INVALID_ARGUMENT : STORE_ERR_INTERNAL;
        goto out;
    }
    m.kind = kind;
    m.token = t;
    m.name = n;
    m.after_seq = after;
    m.max = max > UINT32_MAX ? UINT32_MAX : (uint32_t)max;
    sb_store_Store_Read(c->rc, &m, &reply, &o, &st);
    r = store_conn_res(&st, reply != NULL ? reply->res : 0);
    if (r == STORE_OK)
        *out = reply;
    else
        sb_store_Store_free(reply);
out:
    free(t);
    free(n);
    return r;
}

/* A heap copy the _free functions can release; NULL strings become "". */
static char *dup_or_empty(const char *s)
{
    return strdup(s != NULL ? s : "");
}

store_res store_conn_whoami(store_conn *c, store_str token, store_session *out)
{
    Sb__Store__ReadResult *r;
    store_res res;

    if (c->rc == NULL)
        return store_whoami(c->db, token, out);
    res = remote_read(c, SB__STORE__READ_KIND__READ_WHOAMI, token,
                      store_s(NULL), 0, 0, &r);
    if (res != STORE_OK)
        return res;
    if (r->session == NULL) {
        sb_store_Store_free(r);
        return STORE_ERR_INTERNAL;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->user, sizeof out->user, "%s", r->session->user);
    snprintf(out->token, sizeof out->token, "%s", r->session->token);
    snprintf(out->server, sizeof out->server, "%s", r->session->server);
    snprintf(out->endpoint, sizeof out->endpoint, "%s", r->session->endpoint);
    out->login_ms = r->session->login_ms;
    sb_store_Store_free(r);
    return STORE_OK;
}

store_res store_conn_get_user(store_conn *c, store_str name, store_user *out)
{
    Sb__Store__ReadResult *r;
    store_res res;

    if (c->rc == NULL)
        return store_get_user(c->db, name, out);
    res = remote_read(c, SB__STORE__READ_KIND__READ_GET_USER, store_s(NULL),
                      name, 0, 0, &r);
    if (res != STORE_OK)
        return res;
    if (r->user == NULL) {
        sb_store_Store_free(r);
        return STORE_ERR_INTERNAL;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", r->user->name);
    snprintf(out->hash, sizeof out->hash, "%s", r->user->hash);
    snprintf(out->first, sizeof out->first, "%s", r->user->first);
    snprintf(out->last, sizeof out->last, "%s", r->user->last);
    snprintf(out->gender, sizeof out->gender, "%s", r->user->gender);
    out->age = r->user->age;
    out->created_seq = r->user->created_seq;
    out->created_ms = r->user->created_ms;
    sb_store_Store_free(r);
    return STORE_OK;
}

typedef store_res (*names_fn)(store_db *, store_str, store_names *);

static store_res names(store_conn *c, names_fn local, Sb__Store__ReadKind kind,
                       store_str token, store_names *out)
{
    Sb__Store__ReadResult *r;
    store_res res = STORE_OK;

    memset(out, 0, sizeof *out);
    if (c->rc == NULL)
        return local(c->db, token, out);
    if ((res = remote_read(c, kind, token, store_s(NULL), 0, 0, &r)) !=
        STORE_OK)
        return res;
    if (r->n_names > 0) {
        out->v = calloc(r->n_names, sizeof *out->v);
        if (r->n_online == r->n_names)
            out->online = calloc(r->n_names, 1);
        if (out->v == NULL ||
            (r->n_online == r->n_names && out->online == NULL))
            res = STORE_ERR_INTERNAL;
    }
    for (size_t i = 0; res == STORE_OK && i < r->n_names; i++) {
        if ((out->v[i] = dup_or_empty(r->names[i])) == NULL)
            res = STORE_ERR_INTERNAL;
        out->n = i + 1;
        if (out->online != NULL)
            out->online[i] = r->online[i] ? 1 : 0;
    }
    sb_store_Store_free(r);
    if (res != STORE_OK)
        store_names_free(out);
    return res;
}

store_res store_conn_list_invite(store_conn *c, store_str token,
                                 store_names *out)
{
    return names(c, store_list_invite, SB__STORE__READ_KIND__READ_LIST_INVITE,
                 token, out);
}

store_res store_conn_list_friend(store_conn *c, store_str token,
                                 store_names *out)
{
    return names(c, store_list_friend, SB__STORE__READ_KIND__READ_LIST_FRIEND,
                 token, out);
}

store_res store_conn_list_group(store_conn *c, store_str token,
                                store_names *out)
{
    return names(c, store_list_group, SB__STORE__READ_KIND__READ_LIST_GROUP,
                 token, out);
}

store_res store_conn_list_joined(store_conn *c, store_str token,
                                 store_names *out)
{
    return names(c, store_list_joined, SB__STORE__READ_KIND__READ_LIST_JOINED,
                 token, out);
}

store_res store_conn_list_users(store_conn *c, store_str token,
                                store_names *out)
{
    return names(c, store_list_users, SB__STORE__READ_KIND__READ_LIST_USERS,
                 token, out);
}

store_res store_conn_receive_post(store_conn *c, store_str token,
                                  store_posts *out)
{
    Sb__Store__ReadResult *r;
    store_res res;

    memset(out, 0, sizeof *out);
    if (c->rc == NULL)
        return store_receive_post(c->db, token, out);
    res = remote_read(c, SB__STORE__READ_KIND__READ_RECEIVE_POST, token,
                      store_s(NULL), 0, 0, &r);
    if (res != STORE_OK)
        return res;
    if (r->n_posts > 0 && (out->v = calloc(r->n_posts, sizeof *out->v)) == NULL)
        res = STORE_ERR_INTERNAL;
    for (size_t i = 0; res == STORE_OK && i < r->n_posts; i++) {
        store_post *p = &out->v[i];
        p->seq = r->posts[i]->seq;
        p->author = dup_or_empty(r->posts[i]->author);
        p->text = dup_or_empty(r->posts[i]->text);
        out->n = i + 1;
        if (p->author == NULL || p->text == NULL)
            res = STORE_ERR_INTERNAL;
    }
    sb_store_Store_free(r);
    if (res != STORE_OK)
        store_posts_free(out);
    return res;
}

store_res store_conn_mail_fetch(store_conn *c, store_str token,
                                uint64_t after_seq, size_t max,
                                store_mails *out)
{
    Sb__Store__ReadResult *r;
    store_res res;

    memset(out, 0, sizeof *out);
    if (c->rc == NULL)
        return store_mail_fetch(c->db, token, after_seq, max, out);
    res = remote_read(c, SB__STORE__READ_KIND__READ_MAIL_FETCH, token,
                      store_s(NULL), after_seq, max, &r);
    if (res != STORE_OK)
        return res;
    if (r->n_mails > 0 && (out->v = calloc(r->n_mails, sizeof *out->v)) == NULL)
        res = STORE_ERR_INTERNAL;
    for (size_t i = 0; res == STORE_OK && i < r->n_mails; i++) {
        store_mail *m = &out->v[i];
        m->seq = r->mails[i]->seq;
        /* Every kind crosses as is (room lines print differently). */
        m->kind = r->mails[i]->kind >= STORE_MAIL_GROUP &&
                          r->mails[i]->kind <= STORE_MAIL_ROOM_CLOSED
                      ? (store_mail_kind)r->mails[i]->kind
                      : STORE_MAIL_DIRECT;
        m->time_ms = r->mails[i]->time_ms;
        m->from = dup_or_empty(r->mails[i]->from);
        m->group = dup_or_empty(r->mails[i]->group);
        m->text = dup_or_empty(r->mails[i]->text);
        out->n = i + 1;
        if (m->from == NULL || m->group == NULL || m->text == NULL)
            res = STORE_ERR_INTERNAL;
    }
    sb_store_Store_free(r);
    if (res != STORE_OK)
        store_mails_free(out);
    return res;
}

store_res store_conn_list_rooms(store_conn *c, store_str token,
                                store_rooms *out)
{
    Sb__Store__ReadResult *r;
    store_res res;

    memset(out, 0, sizeof *out);
    if (c->rc == NULL)
        return store_list_rooms(c->db, token, out);
    res = remote_read(c, SB__STORE__READ_KIND__READ_LIST_ROOMS, token,
                      store_s(NULL), 0, 0, &r);
    if (res != STORE_OK)
        return res;
    if (r->n_rooms > 0 && (out->v = calloc(r->n_rooms, sizeof *out->v)) == NULL)
        res = STORE_ERR_INTERNAL;
    for (size_t i = 0; res == STORE_OK && i < r->n_rooms; i++) {
        store_room *m = &out->v[i];
        snprintf(m->name, sizeof m->name, "%s", r->rooms[i]->name);
        snprintf(m->creator, sizeof m->creator, "%s", r->rooms[i]->creator);
        m->count = r->rooms[i]->count;
        out->n = i + 1;
    }
    sb_store_Store_free(r);
    if (res != STORE_OK)
        store_rooms_free(out);
    return res;
}

store_res store_conn_current_room(store_conn *c, store_str token,
                                  char room[STORE_NAME_MAX + 1])
{
    Sb__Store__ReadResult *r;
    store_res res;

    if (c->rc == NULL)
        return store_current_room(c->db, token, room);
    res = remote_read(c, SB__STORE__READ_KIND__READ_CURRENT_ROOM, token,
                      store_s(NULL), 0, 0, &r);
    if (res != STORE_OK)
        return res;
    snprintf(room, STORE_NAME_MAX + 1, "%s", r->room);
    sb_store_Store_free(r);
    return STORE_OK;
}

store_res store_conn_show_profile(store_conn *c, store_str token,
                                  store_str name, store_user *out, int *has)
{
    Sb__Store__ReadResult *r;
    store_res res;

    if (c->rc == NULL)
        return store_show_profile(c->db, token, name, out, has);
    res = remote_read(c, SB__STORE__READ_KIND__READ_SHOW_PROFILE, token, name,
                      0, 0, &r);
    if (res != STORE_OK)
        return res;
    if (r->user == NULL) {
        sb_store_Store_free(r);
        return STORE_ERR_INTERNAL;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", r->user->name);
    snprintf(out->first, sizeof out->first, "%s", r->user->first);
    snprintf(out->last, sizeof out->last, "%s", r->user->last);
    snprintf(out->gender, sizeof out->gender, "%s", r->user->gender);
    out->age = r->user->age;
    out->created_seq = r->user->created_seq;
    out->created_ms = r->user->created_ms;
    *has = r->has_profile ? 1 : 0;
    sb_store_Store_free(r);
    return STORE_OK;
}
