/* test_chat_rooms.c: 100 users in 10 rooms through libsb and a real sbd
 * child on 127.0.0.1 (ten app servers of ten users). Two phases of says
 * from 10 threads at once; between them every odd-numbered non-creator
 * moves to the next room. Each user must then find in its mailbox exactly
 * the messages of the rooms it was in while it was there, every one once,
 * in send order per sender; plus the room and idle-timeout rules. And a
 * room that closes under its members (deleted, or its creator logs out)
 * leaves each of them, and only them, one ROOM_CLOSED notice, which wakes
 * their parked Receive at once (the app's and the login's mail hints). */
#include <pthread.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb.h"
#include "test_social_proc.h"

#define NUSERS 100
#define NROOMS 10
#define PER 3 /* says per user per phase */

typedef struct world {
    tsp_sbd sbd;
    sb_session *s;
    sb_user u[NUSERS];
    int room[2][NUSERS]; /* room index per phase */
    int phase;
} world;

static int room_of(int phase, int i)
{
    int r = i % NROOMS;
    return phase == 1 && i >= NROOMS && (i % 2) ? (r + 1) % NROOMS : r;
}

typedef struct job {
    world *w;
    int t;
    int fails;
} job;

static void *say_thread(void *arg)
{
    job *j = arg;
    char text[64];
    rpc_status st;

    for (int k = 0; k < PER; k++)
        for (int i = j->t; i < NUSERS; i += 10) {
            Sb__Social__SayRequest req = SB__SOCIAL__SAY_REQUEST__INIT;
            ProtobufCMessage *rep = NULL;
            snprintf(text, sizeof text, "p%d u%d k%d", j->w->phase, i, k);
            req.text = text;
            if (sb_call(j->w->s, &j->w->u[i], sb_social_App_Say_METHOD,
                        &req.base, &sb__social__empty__descriptor, &rep,
                        &st) != RPC_OK) {
                fprintf(stderr, "say u%d: %s\n", i, st.message);
                j->fails++;
            }
            sb_free(rep);
        }
    return NULL;
}

static void say_phase(world *w)
{
    pthread_t tid[10];
    job jobs[10];
    for (int t = 0; t < 10; t++) {
        jobs[t] = (job){w, t, 0};
        assert_int_equal(pthread_create(&tid[t], NULL, say_thread, &jobs[t]),
                         0);
    }
    for (int t = 0; t < 10; t++) {
        pthread_join(tid[t], NULL);
        assert_int_equal(jobs[t].fails, 0);
    }
}

static void room_call(world *w, int i, const char *method, int r)
{
    Sb__Social__RoomRequest req = SB__SOCIAL__ROOM_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    rpc_status st;
    char name[16];
    if (r < 0)
        snprintf(name, sizeof name, "x"); /* test_room_closed's room */
    else
        snprintf(name, sizeof name, "r%d", r);
    req.room = name;
    int rc = sb_call(w->s, &w->u[i], method, &req.base,
                     &sb__social__empty__descriptor, &rep, &st);
    if (rc != RPC_OK)
        fprintf(stderr, "%s u%d r%d: %s\n", method, i, r, st.message);
    assert_int_equal(rc, RPC_OK);
    sb_free(rep);
}

/* Checks user i's whole mailbox against the phases' memberships. */
static void check_user(world *w, int i)
{
    int next[2][NUSERS]; /* next k expected per phase and sender */
    size_t got = 0, want = 0;
    uint64_t after = 0;
    rpc_status st;
    memset(next, 0, sizeof next);
    for (int p = 0; p < 2; p++)
        for (int x = 0; x < NUSERS; x++)
            if (room_of(p, x) == room_of(p, i))
                want += PER;
    for (;;) {
        Sb__Social__ReceiveReply *r = NULL;
        assert_int_equal(sb_receive(w->s, &w->u[i], after, 0, &r, &st), RPC_OK);
        if (r->n_deliveries == 0) {
            sb_free(r);
            break;
        }
        for (size_t d = 0; d < r->n_deliveries; d++) {
            const Sb__Social__Delivery *dl = r->deliveries[d];
            int p, x, k;
            char room[16];
            assert_int_equal(dl->kind, SB__SOCIAL__DELIVERY__KIND__ROOM);
            assert_int_equal(sscanf(dl->text, "p%d u%d k%d", &p, &x, &k), 3);
            snprintf(room, sizeof room, "r%d", room_of(p, i));
            assert_string_equal(dl->group, room);           /* my room then */
            assert_int_equal(room_of(p, x), room_of(p, i)); /* sender there */
            if (p == 0)
                assert_int_equal(next[1][x] + 0, 0); /* phase 0 before 1 */
            assert_int_equal(k, next[p][x]); /* per-sender order, once */
            next[p][x]++;
            after = dl->seq;
            got++;
        }
        sb_free(r);
    }
    assert_int_equal(got, want);
}

static void test_hundred_users(void **state)
{
    world *w = *state;
    char name[16];
    rpc_status st;

    for (int i = 0; i < NUSERS; i++) {
        snprintf(name, sizeof name, "u%d", i);
        assert_int_equal(sb_register(w->s, name, "pw", &st), RPC_OK);
        assert_int_equal(sb_login(w->s, name, "pw", &w->u[i], &st), RPC_OK);
    }
    for (int i = 0; i < NUSERS; i++)
        room_call(w, i,
                  i < NROOMS ? sb_social_App_CreateRoom_METHOD
                             : sb_social_App_JoinRoom_METHOD,
                  i % NROOMS);
    w->phase = 0;
    say_phase(w);
    for (int i = NROOMS; i < NUSERS; i++)
        if (room_of(1, i) != room_of(0, i))
            room_call(w, i, sb_social_App_JoinRoom_METHOD, room_of(1, i));
    w->phase = 1;
    say_phase(w);
    for (int i = 0; i < NUSERS; i++)
        check_user(w, i);
    /* counts: lobby empty, each room its phase-1 members */
    Sb__Social__Empty e = SB__SOCIAL__EMPTY__INIT;
    Sb__Social__RoomList *l = NULL;
    assert_int_equal(sb_call(w->s, &w->u[0], sb_social_App_ListRooms_METHOD,
                             &e.base, &sb__social__room_list__descriptor,
                             (ProtobufCMessage **)&l, &st),
                     RPC_OK);
    assert_int_equal(l->n_rooms, NROOMS + 1);
    assert_string_equal(l->rooms[0]->name, "lobby");
    assert_int_equal(l->rooms[0]->count, 0);
    for (int r = 0; r < NROOMS; r++) {
        unsigned n = 0;
        for (int i = 0; i < NUSERS; i++)
            n += room_of(1, i) == r;
        assert_int_equal(l->rooms[r + 1]->count, n);
    }
    sb_free(l);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Closes a room 300 ms after it starts: delete-room by u[0], or u[0]'s
 * logout. */
typedef struct closer {
    world *w;
    int logout;
    int rc;
} closer;

static void *close_thread(void *arg)
{
    closer *c = arg;
    rpc_status st;
    usleep(300 * 1000);
    if (c->logout) {
        c->rc = sb_logout(c->w->s, &c->w->u[0], &st);
    } else {
        Sb__Social__RoomRequest req = SB__SOCIAL__ROOM_REQUEST__INIT;
        ProtobufCMessage *rep = NULL;
        req.room = (char *)"x";
        c->rc = sb_call(c->w->s, &c->w->u[0], sb_social_App_DeleteRoom_METHOD,
                        &req.base, &sb__social__empty__descriptor, &rep, &st);
        sb_free(rep);
    }
    return NULL;
}

/* User i's mailbox now: how many deliveries; the first copied out. */
static size_t mailbox(world *w, int i, Sb__Social__Delivery *first, char *group,
                      char *from, char *text)
{
    Sb__Social__ReceiveReply *r = NULL;
    rpc_status st;
    assert_int_equal(sb_receive(w->s, &w->u[i], 0, 0, &r, &st), RPC_OK);
    size_t n = r->n_deliveries;
    if (n > 0 && first != NULL) {
        *first = *r->deliveries[0];
        strcpy(group, r->deliveries[0]->group);
        strcpy(from, r->deliveries[0]->from);
        strcpy(text, r->deliveries[0]->text);
    }
    if (n > 0)
        assert_int_equal(sb_ack(w->s, &w->u[i], r->deliveries[n - 1]->seq, &st),
                         RPC_OK);
    sb_free(r);
    return n;
}

/* u0 makes room x; u1 and u2 join, u2 leaves; u3 stays in lobby. u1
 * long-polls (5 s) while u0 closes x: the notice must come at once. */
static void room_closed_round(world *w, int logout)
{
    Sb__Social__Delivery d;
    char group[64], from[64], text[64];
    Sb__Social__ReceiveReply *r = NULL;
    rpc_status st;
    pthread_t tid;
    closer c = {w, logout, -1};

    room_call(w, 0, sb_social_App_CreateRoom_METHOD, -1);
    room_call(w, 1, sb_social_App_JoinRoom_METHOD, -1);
    room_call(w, 2, sb_social_App_JoinRoom_METHOD, -1);
    Sb__Social__Empty e = SB__SOCIAL__EMPTY__INIT;
    ProtobufCMessage *rep = NULL;
    assert_int_equal(sb_call(w->s, &w->u[2], sb_social_App_LeaveRoom_METHOD,
                             &e.base, &sb__social__empty__descriptor, &rep,
                             &st),
                     RPC_OK);
    sb_free(rep);
    for (int i = 0; i < 4; i++)
        mailbox(w, i, NULL, NULL, NULL, NULL); /* empty them */

    int64_t t0 = now_ms();
    assert_int_equal(pthread_create(&tid, NULL, close_thread, &c), 0);
    assert_int_equal(sb_receive(w->s, &w->u[1], 0, 5000, &r, &st), RPC_OK);
    int64_t waited = now_ms() - t0;
    pthread_join(tid, NULL);
    assert_int_equal(c.rc, RPC_OK);
    assert_int_equal(r->n_deliveries, 1);
    sb_free(r);
    fprintf(stderr,
            "room-closed notice (%s) woke the long poll after %lld ms\n",
            logout ? "logout" : "delete-room", (long long)waited);
    assert_true(waited < 2500); /* woken by the hint, not the 5 s deadline */

    assert_int_equal(mailbox(w, 1, &d, group, from, text), 1);
    assert_int_equal(d.kind, SB__SOCIAL__DELIVERY__KIND__ROOM_CLOSED);
    assert_string_equal(group, "x");
    assert_string_equal(from, "c0");
    assert_string_equal(text, logout ? "session ended" : "deleted");
    if (!logout)
        assert_int_equal(mailbox(w, 0, NULL, NULL, NULL, NULL), 0); /* actor */
    assert_int_equal(mailbox(w, 2, NULL, NULL, NULL, NULL), 0); /* had left */
    assert_int_equal(mailbox(w, 3, NULL, NULL, NULL, NULL), 0); /* never in */

    /* u1 is in lobby: its say reaches u2 and u3 in lobby, as lobby */
    Sb__Social__SayRequest say = SB__SOCIAL__SAY_REQUEST__INIT;
    say.text = (char *)"back";
    assert_int_equal(sb_call(w->s, &w->u[1], sb_social_App_Say_METHOD,
                             &say.base, &sb__social__empty__descriptor, &rep,
                             &st),
                     RPC_OK);
    sb_free(rep);
    assert_int_equal(mailbox(w, 3, &d, group, from, text), 1);
    assert_string_equal(group, "lobby");
}

static void test_room_closed(void **state)
{
    world *w = *state;
    char name[16];
    rpc_status st;

    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "c%d", i);
        assert_int_equal(sb_register(w->s, name, "pw", &st), RPC_OK);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "c%d", i);
        assert_int_equal(sb_login(w->s, name, "pw", &w->u[i], &st), RPC_OK);
    }
    room_closed_round(w, 0);
    room_closed_round(w, 1);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    rpc_status st;
    if (!w || tsp_init(&w->sbd) || tsp_start(&w->sbd) ||
        sb_open(&w->s, "127.0.0.1", w->sbd.port, &st) != RPC_OK)
        return -1;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    sb_close(w->s);
    tsp_cleanup(&w->sbd);
    free(w);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hundred_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room_closed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
