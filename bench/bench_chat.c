/* bench_chat.c: `sb-bench chat`: room messages delivered end to end. A
 * child sbd (all roles) on 127.0.0.1; U users in R rooms; one closed-loop
 * sender per room says "t<µs>" as each member in turn; every user
 * long-polls its mailbox in its own thread and times each room message
 * from the say's start to its arrival (acking each batch first, as sb
 * chat does, unless --ack 0). Prints says/s, deliveries/s, the
 * delivery latency percentiles, and deliveries missing (should be 0).
 * The sbd starter is bench_social.c's (static there). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_main.h"
#include "bench_util.h"
#include "sb.h"

typedef struct cuser {
    sb_session *s;
    sb_user u;
    atomic_int *stop;
    int ack;           /* ack each batch before the next Receive */
    bench_samples lat; /* say start -> arrival, µs */
    uint64_t got, errors;
} cuser;

typedef struct croom {
    cuser *us;
    int first, step, n; /* members: first, first+step, ... (n of them) */
    atomic_int *stop;
    bench_samples lat; /* say call latency */
    uint64_t says, errors;
} croom;

static void *receiver(void *arg)
{
    cuser *c = arg;
    uint64_t after = 0;
    rpc_status st;
    int idle = 0;

    /* after stop: until one empty 500 ms poll (the tail drained) */
    while (!atomic_load(c->stop) || idle == 0) {
        Sb__Social__ReceiveReply *r = NULL;
        int rc = sb_receive(c->s, &c->u, after, 500, &r, &st);
        if (rc != RPC_OK) {
            c->errors++;
            if (atomic_load(c->stop))
                break;
            continue;
        }
        int64_t now = rpc_now_mono_us();
        idle = atomic_load(c->stop) && r->n_deliveries == 0;
        for (size_t i = 0; i < r->n_deliveries; i++) {
            long long t;
            const Sb__Social__Delivery *d = r->deliveries[i];
            after = d->seq;
            if (d->kind != SB__SOCIAL__DELIVERY__KIND__ROOM ||
                sscanf(d->text, "t%lld", &t) != 1)
                continue;
            c->got++;
            bench_samples_add(&c->lat, now - t);
        }
        if (r->n_deliveries > 0 && c->ack)
            sb_ack(c->s, &c->u, after, &st);
        sb_free(r);
    }
    return NULL;
}

static void *sender(void *arg)
{
    croom *r = arg;
    char text[32];
    rpc_status st;

    for (int k = 0; !atomic_load(r->stop); k = (k + 1) % r->n) {
        cuser *c = &r->us[r->first + k * r->step];
        Sb__Social__SayRequest req = SB__SOCIAL__SAY_REQUEST__INIT;
        ProtobufCMessage *rep = NULL;
        int64_t t0 = rpc_now_mono_us();
        snprintf(text, sizeof text, "t%lld", (long long)t0);
        req.text = text;
        if (sb_call(c->s, &c->u, sb_social_App_Say_METHOD, &req.base,
                    &sb__social__empty__descriptor, &rep, &st) == RPC_OK) {
            r->says++;
            bench_samples_add(&r->lat, rpc_now_mono_us() - t0);
        } else if (r->errors++ == 0) {
            fprintf(stderr, "sb-bench chat: say: %s\n", st.message);
        }
        sb_free(rep);
    }
    return NULL;
}

/* Registers, logs in and seats every user: user i is in room i % rooms
 * (users 0..rooms-1 create them). */
static int setup(cuser *us, int users, int rooms, int port, atomic_int *stop,
                 int ack)
{
    char name[16];
    rpc_status st;

    for (int i = 0; i < users; i++) {
        cuser *c = &us[i];
        Sb__Social__RoomRequest rr = SB__SOCIAL__ROOM_REQUEST__INIT;
        ProtobufCMessage *rep = NULL;
        char room[16];
        c->stop = stop;
        c->ack = ack;
        snprintf(name, sizeof name, "cu%d", i);
        snprintf(room, sizeof room, "r%d", i % rooms);
        rr.room = room;
        if (sb_open(&c->s, "127.0.0.1", port, &st) != RPC_OK ||
            sb_register(c->s, name, "pw", &st) != RPC_OK ||
            sb_login(c->s, name, "pw", &c->u, &st) != RPC_OK ||
            sb_call(c->s, &c->u,
                    i < rooms ? sb_social_App_CreateRoom_METHOD
                              : sb_social_App_JoinRoom_METHOD,
                    &rr.base, &sb__social__empty__descriptor, &rep,
                    &st) != RPC_OK) {
            fprintf(stderr, "sb-bench chat: %s: %s\n", name, st.message);
            return -1;
        }
        sb_free(rep);
    }
    return 0;
}

static int run(cuser *us, int users, int rooms, int seconds, atomic_int *stop,
               int json)
{
    pthread_t *rt = calloc(users > 0 ? (size_t)users : 1, sizeof *rt), st[64];
    croom rs[64];
    bench_samples lat = {0}, says_lat = {0};
    uint64_t says = 0, got = 0, want = 0, errors = 0;
    int nr = 0, ns = 0, rc = -1;
    int64_t t0 = rpc_now_mono_us();

    if (rt == NULL)
        return -1;
    for (; nr < users; nr++)
        if (pthread_create(&rt[nr], NULL, receiver, &us[nr]) != 0)
            goto out;
    bench_sleep_ms(200); /* receivers parked */
    t0 = rpc_now_mono_us();
    for (; ns < rooms; ns++) {
        rs[ns] = (croom){us,   ns,  rooms, (users - ns + rooms - 1) / rooms,
                         stop, {0}, 0,     0};
        if (pthread_create(&st[ns], NULL, sender, &rs[ns]) != 0)
            goto out;
    }
    bench_sleep_ms(seconds * 1000);
    rc = 0;
out:
    atomic_store(stop, 1);
    for (int i = 0; i < ns; i++) {
        pthread_join(st[i], NULL);
        says += rs[i].says;
        errors += rs[i].errors;
        want += rs[i].says * (uint64_t)rs[i].n;
        bench_samples_merge(&says_lat, &rs[i].lat);
    }
    double secs = (double)(rpc_now_mono_us() - t0) / 1e6;
    for (int i = 0; i < nr; i++) {
        pthread_join(rt[i], NULL);
        got += us[i].got;
        bench_samples_merge(&lat, &us[i].lat);
    }
    free(rt);
    bench_result sr = {.name = "say (call)",
                       .seconds = secs,
                       .calls = says,
                       .errors = errors,
                       .calls_per_s = (double)says / secs};
    bench_result dr = {.name = "room delivery (say -> Receive)",
                       .seconds = secs,
                       .calls = got,
                       .errors = want > got ? want - got : 0,
                       .calls_per_s = (double)got / secs};
    bench_result_fill(&sr, &says_lat);
    bench_result_fill(&dr, &lat);
    if (rc == 0) {
        bench_result_print(&sr, json);
        bench_result_print(&dr, json);
        if (json) {
            bench_json_head("deliveries");
            printf(",\"got\":%" PRIu64 ",\"expected\":%" PRIu64 "}\n", got,
                   want);
        } else {
            printf("deliveries: %" PRIu64 " of %" PRIu64 " expected "
                   "(says x room members)\n",
                   got, want);
        }
    }
    bench_samples_free(&lat);
    bench_samples_free(&says_lat);
    return rc == 0 && got == want && errors == 0 ? 0 : -1;
}

int bench_chat_main(int argc, char **argv)
{
    long users = 100, rooms = 10, seconds = 5, ack = 1;
    int json = 0, port = 0, rc = 1;
    const char *sbd = NULL;
    char sbdbuf[512], dir[] = "/tmp/sb-bench-chat.XXXXXX", cmd[300];
    cuser *us = NULL;
    atomic_int stop = 0;
    pid_t pid = -1;

    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
            continue;
        }
        if ((r = bench_flag_int(argc, argv, &i, "--users", 1, 1000, &users)) ==
                0 &&
            (r = bench_flag_int(argc, argv, &i, "--rooms", 1, 64, &rooms)) ==
                0 &&
            (r = bench_flag_int(argc, argv, &i, "--seconds", 1, 600,
                                &seconds)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--ack", 0, 1, &ack)) == 0 &&
            (r = bench_flag_str(argc, argv, &i, "--sbd", &sbd)) == 0) {
            printf(
                "usage: sb-bench chat [--users N] [--rooms R] [--seconds S]\n"
                "                     [--ack 1|0] [--sbd PATH] [--json]\n"
                "--ack 0: receivers never Ack (sb chat acks each batch,\n"
                "a durable write, before its next Receive)\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
        if (r < 0)
            return 2;
    }
    if (rooms > users)
        rooms = users;
    if (!sbd) {
        bench_default_sbd(sbdbuf, sizeof sbdbuf);
        sbd = sbdbuf;
    }
    if (!mkdtemp(dir) || !(us = calloc((size_t)users, sizeof *us)))
        goto out;
    if ((pid = bench_start_sbd(sbd, dir, &port)) < 0) {
        fprintf(stderr, "sb-bench chat: cannot start %s (log in %s)\n", sbd,
                dir);
        goto out;
    }
    if (!json)
        printf("sb-bench chat: %ld users in %ld rooms, %ld s, child sbd %s on "
               "127.0.0.1:%d\n",
               users, rooms, seconds, sbd, port);
    bench_progress("%ld users register, log in and join their rooms", users);
    if (setup(us, (int)users, (int)rooms, port, &stop, (int)ack) != 0)
        goto out;
    bench_progress("saying for %ld s", seconds);
    if (run(us, (int)users, (int)rooms, (int)seconds, &stop, json) == 0)
        rc = 0;
out:
    for (long i = 0; us && i < users; i++) {
        sb_close(us[i].s);
        bench_samples_free(&us[i].lat);
    }
    free(us);
    if (pid > 0) {
        kill(-pid, SIGTERM);
        for (int i = 0; i < 100 && waitpid(pid, NULL, WNOHANG) != pid; i++)
            bench_sleep_ms(100);
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "sb-bench chat: could not remove %s\n", dir);
    return rc;
}
