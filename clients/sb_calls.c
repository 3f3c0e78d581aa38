/* sb_calls.c: libsb's typed App-service calls, one per course command,
 * and delivery (receive, ack, the <<<...>>> line). Each is a thin
 * wrapper that fills the request of proto/social.proto and goes through
 * sb_call(), which picks the endpoint and recovers from a lost server.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sb.h"
#include "sb_internal.h"

int64_t sb_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Calls an App method whose reply is Empty. */
static int call_empty(sb_session *s, sb_user *u, const char *method,
                      const ProtobufCMessage *req, rpc_status *st)
{
    ProtobufCMessage *reply = NULL;
    int rc;

    rc = sb_call(s, u, method, req, &sb__social__empty__descriptor, &reply, st);
    sb_free(reply);
    return rc;
}

/* Calls an App method that takes Empty and answers a NameList. */
static int call_names(sb_session *s, sb_user *u, const char *method,
                      Sb__Social__NameList **reply, rpc_status *st)
{
    Sb__Social__Empty req = SB__SOCIAL__EMPTY__INIT;

    return sb_call(s, u, method, &req.base, &sb__social__name_list__descriptor,
                   (ProtobufCMessage **)reply, st);
}

int sb_invite(sb_session *s, sb_user *u, const char *id, rpc_status *st)
{
    Sb__Social__InviteRequest req = SB__SOCIAL__INVITE_REQUEST__INIT;

    req.id = (char *)id;
    return call_empty(s, u, sb_social_App_Invite_METHOD, &req.base, st);
}

int sb_list_invite(sb_session *s, sb_user *u, Sb__Social__NameList **reply,
                   rpc_status *st)
{
    return call_names(s, u, sb_social_App_ListInvite_METHOD, reply, st);
}

int sb_accept_invite(sb_session *s, sb_user *u, const char *id, rpc_status *st)
{
    Sb__Social__AcceptInviteRequest req =
        SB__SOCIAL__ACCEPT_INVITE_REQUEST__INIT;

    req.id = (char *)id;
    return call_empty(s, u, sb_social_App_AcceptInvite_METHOD, &req.base, st);
}

int sb_list_friend(sb_session *s, sb_user *u, Sb__Social__NameList **reply,
                   rpc_status *st)
{
    return call_names(s, u, sb_social_App_ListFriend_METHOD, reply, st);
}

int sb_post(sb_session *s, sb_user *u, const char *text, rpc_status *st)
{
    Sb__Social__PostRequest req = SB__SOCIAL__POST_REQUEST__INIT;

    req.text = (char *)text;
    return call_empty(s, u, sb_social_App_Post_METHOD, &req.base, st);
}

int sb_receive_post(sb_session *s, sb_user *u, Sb__Social__PostList **reply,
                    rpc_status *st)
{
    Sb__Social__Empty req = SB__SOCIAL__EMPTY__INIT;

    return sb_call(s, u, sb_social_App_ReceivePost_METHOD, &req.base,
                   &sb__social__post_list__descriptor,
                   (ProtobufCMessage **)reply, st);
}

int sb_send(sb_session *s, sb_user *u, const char *to, const char *text,
            rpc_status *st)
{
    Sb__Social__SendRequest req = SB__SOCIAL__SEND_REQUEST__INIT;

    req.to = (char *)to;
    req.text = (char *)text;
    return call_empty(s, u, sb_social_App_Send_METHOD, &req.base, st);
}

int sb_create_group(sb_session *s, sb_user *u, const char *group,
                    rpc_status *st)
{
    Sb__Social__GroupRequest req = SB__SOCIAL__GROUP_REQUEST__INIT;

    req.group = (char *)group;
    return call_empty(s, u, sb_social_App_CreateGroup_METHOD, &req.base, st);
}

int sb_list_group(sb_session *s, sb_user *u, Sb__Social__NameList **reply,
                  rpc_status *st)
{
    return call_names(s, u, sb_social_App_ListGroup_METHOD, reply, st);
}

int sb_list_joined(sb_session *s, sb_user *u, Sb__Social__NameList **reply,
                   rpc_status *st)
{
    return call_names(s, u, sb_social_App_ListJoined_METHOD, reply, st);
}

int sb_join_group(sb_session *s, sb_user *u, const char *group, rpc_status *st)
{
    Sb__Social__GroupRequest req = SB__SOCIAL__GROUP_REQUEST__INIT;

    req.group = (char *)group;
    return call_empty(s, u, sb_social_App_JoinGroup_METHOD, &req.base, st);
}

int sb_send_group(sb_session *s, sb_user *u, const char *group,
                  const char *text, rpc_status *st)
{
    Sb__Social__SendGroupRequest req = SB__SOCIAL__SEND_GROUP_REQUEST__INIT;

    req.group = (char *)group;
    req.text = (char *)text;
    return call_empty(s, u, sb_social_App_SendGroup_METHOD, &req.base, st);
}

int sb_draw(sb_session *s, sb_user *u, uint32_t count,
            Sb__Social__DrawReply **reply, rpc_status *st)
{
    Sb__Social__DrawRequest req = SB__SOCIAL__DRAW_REQUEST__INIT;

    req.count = count;
    return sb_call(s, u, sb_social_App_Draw_METHOD, &req.base,
                   &sb__social__draw_reply__descriptor,
                   (ProtobufCMessage **)reply, st);
}

int sb_receive(sb_session *s, sb_user *u, uint64_t after_seq, uint32_t wait_ms,
               Sb__Social__ReceiveReply **reply, rpc_status *st)
{
    Sb__Social__ReceiveRequest req = SB__SOCIAL__RECEIVE_REQUEST__INIT;

    req.after_seq = after_seq;
    req.wait_ms = wait_ms;
    return sb_call(s, u, sb_social_App_Receive_METHOD, &req.base,
                   &sb__social__receive_reply__descriptor,
                   (ProtobufCMessage **)reply, st);
}

int sb_ack(sb_session *s, sb_user *u, uint64_t upto_seq, rpc_status *st)
{
    Sb__Social__AckRequest req = SB__SOCIAL__ACK_REQUEST__INIT;

    req.upto_seq = upto_seq;
    return call_empty(s, u, sb_social_App_Ack_METHOD, &req.base, st);
}

int sb_format_delivery(char *buf, size_t n, const Sb__Social__Delivery *d)
{
    switch (d->kind) {
    case SB__SOCIAL__DELIVERY__KIND__GROUP:
        return snprintf(buf, n, "<<<%s->GROUP<%s>: %s>>>", d->from, d->group,
                        d->text);
    case SB__SOCIAL__DELIVERY__KIND__ROOM:
        return snprintf(buf, n, "<<<%s->ROOM<%s>: %s>>>", d->from, d->group,
                        d->text);
    case SB__SOCIAL__DELIVERY__KIND__ROOM_CLOSED:
        if (strcmp(d->text, "deleted") == 0)
            return snprintf(buf, n,
                            "<<<ROOM<%s> deleted by %s; you are in "
                            "lobby>>>",
                            d->group, d->from);
        if (strcmp(d->text, "session ended") == 0)
            return snprintf(buf, n,
                            "<<<ROOM<%s> closed: %s's session ended; "
                            "you are in lobby>>>",
                            d->group, d->from);
        return snprintf(buf, n, "<<<ROOM<%s> closed (%s); you are in lobby>>>",
                        d->group, d->text);
    default:
        return snprintf(buf, n, "<<<%s->%s: %s>>>", d->from, d->to, d->text);
    }
}
