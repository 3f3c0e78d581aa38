/* bench_chat.c: `sb-bench chat`: room messages delivered end to end. A
 * child sbd (all roles) on 127.0.0.1; U users, user i in room r(i mod R);
 * one closed-loop say in flight per room, said by its members in turn;
 * every user long-polls its mailbox and acks each batch before the next
 * Receive, as `sb chat` does (unless --ack 0). All of it from one thread
 * over the wire client (bench_social_wire.c, driven by bench_e2e.c): two
 * connections per user. Prints says/s with the say's latency, deliveries
 * (say x members)/s with the delivery latency (say start -> the Receive
 * that brings it), the exactly-once check of every delivery (exit 1 when
 * it fails) and the CPU per delivery of each server process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_main.h"
#include "bench_social.h"
#include "bench_util.h"

/* Registers, logs in and seats every user: user i is in room i % rooms
 * (users 0..rooms-1 create them). */
static int setup(social_env *e, int *room_of, int rooms)
{
    rpc_status st;

    for (int i = 0; i < e->n; i++) {
        social_user *c = &e->us[i];
        Sb__Social__RoomRequest rr = SB__SOCIAL__ROOM_REQUEST__INIT;
        ProtobufCMessage *rep = NULL;
        char room[16];
        room_of[i] = i % rooms;
        snprintf(c->name, sizeof c->name, "cu%d", i);
        snprintf(room, sizeof room, "r%d", i % rooms);
        rr.room = room;
        if (sb_open(&c->s, "127.0.0.1", e->port, &st) != RPC_OK ||
            sb_register(c->s, c->name, "pw", &st) != RPC_OK ||
            sb_login(c->s, c->name, "pw", &c->u, &st) != RPC_OK ||
            sb_call(c->s, &c->u,
                    i < rooms ? sb_social_App_CreateRoom_METHOD
                              : sb_social_App_JoinRoom_METHOD,
                    &rr.base, &sb__social__empty__descriptor, &rep,
                    &st) != RPC_OK) {
            fprintf(stderr, "sb-bench chat: %s: %s\n", c->name, st.message);
            return -1;
        }
        sb_free(rep);
    }
    return 0;
}

static int run(social_env *e, const int *room_of, int rooms, int ack)
{
    bench_e2e_cfg cfg = {.name = "room delivery (say -> Receive)",
                         .send_name = "say (call)",
                         .senders = rooms,
                         .receivers = e->n,
                         .member = room_of,
                         .seconds = (int)e->o.seconds,
                         .wait_ms = (int)e->o.wait_ms,
                         .no_ack = !ack};
    int *dest = calloc((size_t)rooms, sizeof *dest);
    bench_e2e_out o;
    bench_procs snap[2];
    bench_cpu_split cpu;

    if (dest == NULL)
        return -1;
    for (int r = 0; r < rooms; r++)
        dest[r] = r;
    cfg.dest = dest;
    int rc = social_room_phase(e, room_of, rooms, &cfg, &o, snap);
    free(dest);
    if (rc != 0)
        return -1;
    bench_cpu_split_of(&snap[0], &snap[1], o.received, &cpu);
    bench_result_print(&o.sends, e->o.json);
    bench_result_print(&o.delivery, e->o.json);
    bench_e2e_print_check("room delivery", &o, e->o.json);
    bench_cpu_print("room delivery", &cpu, e->o.json);
    return o.ok ? 0 : -1;
}

static int parse(int argc, char **argv, social_opts *o, long *rooms, long *ack)
{
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--json") == 0) {
            o->json = 1;
            continue;
        }
        if ((r = bench_flag_int(argc, argv, &i, "--users", 1, 1000,
                                &o->clients)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--rooms", 1, 1000, rooms)) ==
                0 &&
            (r = bench_flag_int(argc, argv, &i, "--seconds", 1, 600,
                                &o->seconds)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--wait-ms", 1, 30000,
                                &o->wait_ms)) == 0 &&
            (r = bench_flag_int(argc, argv, &i, "--ack", 0, 1, ack)) == 0 &&
            (r = bench_flag_str(argc, argv, &i, "--sbd", &o->sbd)) == 0) {
            int help = strcmp(argv[i], "--help") == 0;
            if (!help)
                fprintf(stderr, "sb-bench chat: unknown option '%s'\n",
                        argv[i]);
            printf("usage: sb-bench chat [--users N] [--rooms R] [--seconds "
                   "S]\n"
                   "                     [--ack 1|0] [--wait-ms MS] [--sbd "
                   "PATH] [--json]\n"
                   "One say in flight per room (its members in turn), every "
                   "user long-polls\n(--wait-ms, 1000) and acks each batch "
                   "(--ack 0: never), one thread,\nthe wire client; every "
                   "delivery checked exactly once.\n");
            return help ? 1 : -1;
        }
        if (r < 0)
            return -1;
    }
    return 0;
}

int bench_chat_main(int argc, char **argv)
{
    social_env e = {.o = {.clients = 100, .seconds = 5}};
    long rooms = 10, ack = 1;
    char sbdbuf[512];
    int *room_of = NULL, rc = 1, made = 0;

    int pr = parse(argc, argv, &e.o, &rooms, &ack);
    if (pr != 0)
        return pr > 0 ? 0 : 2;
    e.n = (int)e.o.clients;
    if (rooms > e.n)
        rooms = e.n;
    if (e.o.sbd == NULL) {
        bench_default_sbd(sbdbuf, sizeof sbdbuf);
        e.o.sbd = sbdbuf;
    }
    snprintf(e.dir, sizeof e.dir, "/tmp/sb-bench-chat.XXXXXX");
    e.us = calloc((size_t)e.n, sizeof *e.us);
    room_of = calloc((size_t)e.n, sizeof *room_of);
    if (e.us == NULL || room_of == NULL || mkdtemp(e.dir) == NULL)
        goto out;
    made = 1;
    if ((e.sbd = bench_start_sbd(e.o.sbd, e.dir, &e.port)) < 0) {
        fprintf(stderr, "sb-bench chat: cannot start %s (log in %s)\n", e.o.sbd,
                e.dir);
        goto out;
    }
    if (!e.o.json)
        printf("sb-bench chat: %d users in %ld rooms, %ld s, ack %s, wire "
               "client (one thread), child sbd %s on 127.0.0.1:%d\n",
               e.n, rooms, e.o.seconds, ack ? "each batch" : "never", e.o.sbd,
               e.port);
    bench_progress("%d users register, log in and join their rooms", e.n);
    if (setup(&e, room_of, (int)rooms) != 0)
        goto out;
    bench_progress("saying for %ld s", e.o.seconds);
    rc = run(&e, room_of, (int)rooms, (int)ack) == 0 ? 0 : 1;
out:
    for (int i = 0; e.us != NULL && i < e.n; i++)
        sb_close(e.us[i].s);
    bench_stop_sbd(e.sbd);
    if (made)
        bench_rmtree(e.dir);
    free(e.us);
    free(room_of);
    return rc;
}
