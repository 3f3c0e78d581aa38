/* bench_social.c: `sb-bench social`: durable messaging end to end against
 * a child `sbd` (all roles, app servers as its children) on 127.0.0.1.
 * N users, u(2k) and u(2k+1) friends; phases (bench_social_wire.c): posts,
 * sends to the friend, and end to end (every user sends to its friend and
 * receives from it: Send -> Receive long-poll -> Ack, every message checked
 * exactly once). --vs-redis runs each phase's shape on Redis Streams with
 * appendfsync always (bench_social_redis.c) in alternating rounds and
 * prints the ratios; every phase prints server CPU per message per
 * process. Then a plain LMDB loop with one fsync'd commit per write.
 * --soak-minutes and --mailboxes are the other modes (bench_social.h). */
#define _GNU_SOURCE
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_main.h"
#include "bench_social.h"
#include "bench_util.h"

const char *const social_phase_names[PH_COUNT] = {
    "durable posts", "durable sends", "end to end"};
static const char *const redis_names[PH_COUNT] = {
    "redis posts (XADD)", "redis sends (XADD)",
    "redis end to end (XADD+XREADGROUP+XACK)"};
static const char *const phase_words[PH_COUNT] = {"posts", "sends", "e2e"};

/* One phase's figures over its rounds, for one side. */
typedef struct side_tot {
    bench_result main, sends; /* main: posts/sends, or deliveries (e2e) */
    bench_e2e_out check;      /* summed over the rounds */
    bench_cpu_split cpu;
    uint64_t cpu_msgs;
    int ran;
} side_tot;

static void usage(void)
{
    printf(
        "usage: sb-bench social [--clients N] [--seconds S] [--rounds R]\n"
        "         [--phases posts,sends,e2e] [--vs-redis] [--pad BYTES]\n"
        "         [--wait-ms MS] [--drain SECONDS] [--client wire|nng|libsb]\n"
        "         [--json] [--sbd PATH] [--keep-data]\n"
        "       sb-bench social --soak-minutes M [--soak-seconds S]\n"
        "         [--rate MSGS_PER_S] [--interval SECONDS] [--clients N]\n"
        "       sb-bench social --mailboxes N [--unread M] [--page P]\n"
        "         [--clients C] [--seconds S] [--rounds R]\n"
        "Starts a child sbd (--pw-cost fast) on 127.0.0.1 with a temp data\n"
        "dir; N users (u2k and u2k+1 friends), each one connection per role\n"
        "from one thread (the wire client: SP/TCP and the sb.rpc envelope\n"
        "over epoll). Phases, S s each, R rounds (3 with --vs-redis, else\n"
        "1): posts; sends to the friend; e2e: every user sends to its friend\n"
        "and long-polls its own mailbox (Receive, wait --wait-ms, 1000), Ack\n"
        "after each batch; deliveries+acks/s, delivery latency (send start ->\n"
        "Receive), and a check that every message answered OK was received\n"
        "exactly once and acknowledged (exit 1 when not; receivers have\n"
        "--drain, 30 s, after the window to get the rest). --vs-redis: the\n"
        "same shapes on redis-server with appendfsync always (XADD; XADD +\n"
        "XREADGROUP + XACK), alternating, and the ratios. Every phase prints\n"
        "the CPU and context switches per message of each server process\n"
        "and the generator's CPU, and the store's commits per message.\n"
        "--client nng|libsb: posts and sends from the older generators.\n"
        "--soak-minutes: end to end at --rate (default 2000/s) with a line\n"
        "every --interval (60 s): RSS of each process, p99, LMDB sizes.\n"
        "--mailboxes N: N users whose mailboxes hold --unread (1000) each,\n"
        "pre-filled through the store's data layer before sbd starts;\n"
        "Receive of --page (100) at the head, deep, and of a 1-page box.\n");
}

void social_snap(const social_env *e, int redis, bench_procs *s)
{
    pid_t root = redis ? e->redis.pid : e->sbd;
    char store[96];

    bench_procs_take(s, &root, 1);
    snprintf(store, sizeof store, "%s/data/store", e->dir);
    if (!redis)
        s->commits = bench_lmdb_txnid(store);
}

void social_cfg(const social_env *e, int ph, bench_e2e_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->name = social_phase_names[ph];
    cfg->send_name =
        ph == PH_E2E ? "sends during end to end" : social_phase_names[ph];
    cfg->senders = e->n;
    cfg->receivers = ph == PH_E2E ? e->n : 0;
    cfg->dest = e->dest;
    cfg->seconds = (int)e->o.seconds;
    cfg->wait_ms = (int)e->o.wait_ms;
    cfg->pad = (int)e->o.pad;
    cfg->drain_s = (int)e->o.drain_s;
}

static int parse_phases(const char *v, int *ph)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", v);
    memset(ph, 0, PH_COUNT * sizeof *ph);
    for (char *w = strtok(buf, ","); w != NULL; w = strtok(NULL, ",")) {
        int k = 0;
        while (k < PH_COUNT && strcmp(w, phase_words[k]) != 0)
            k++;
        if (k == PH_COUNT) {
            fprintf(stderr,
                    "sb-bench social: --phases takes posts, sends "
                    "and e2e, not '%s'\n",
                    w);
            return -1;
        }
        ph[k] = 1;
    }
    return 0;
}

static int parse_client(const char *v, int *client)
{
    static const char *const names[] = {"wire", "nng", "libsb"};
    for (int k = 0; k < 3; k++)
        if (strcmp(v, names[k]) == 0) {
            *client = k;
            return 0;
        }
    fprintf(stderr,
            "sb-bench social: --client is wire, nng or libsb, not "
            "'%s'\n",
            v);
    return -1;
}

static int parse_int_flags(int argc, char **argv, int *i, social_opts *o)
{
    long soak_min = -1;
    int r;
    if ((r = bench_flag_int(argc, argv, i, "--clients", 1, 640, &o->clients)) !=
            0 ||
        (r = bench_flag_int(argc, argv, i, "--seconds", 1, 3600,
                            &o->seconds)) != 0 ||
        (r = bench_flag_int(argc, argv, i, "--rounds", 1, 100, &o->rounds)) ||
        (r = bench_flag_int(argc, argv, i, "--pad", 0, 4000, &o->pad)) ||
        (r = bench_flag_int(argc, argv, i, "--wait-ms", 1, 30000,
                            &o->wait_ms)) ||
        (r = bench_flag_int(argc, argv, i, "--drain", 1, 3600, &o->drain_s)) ||
        (r = bench_flag_int(argc, argv, i, "--soak-seconds", 1, 86400,
                            &o->soak_s)) ||
        (r = bench_flag_int(argc, argv, i, "--rate", 1, 10000000, &o->rate)) ||
        (r = bench_flag_int(argc, argv, i, "--interval", 1, 3600,
                            &o->interval_s)) ||
        (r = bench_flag_int(argc, argv, i, "--mailboxes", 1, 1000000,
                            &o->mailboxes)) ||
        (r = bench_flag_int(argc, argv, i, "--unread", 1, 100000,
                            &o->unread)) ||
        (r = bench_flag_int(argc, argv, i, "--page", 1, 1000, &o->page)))
        return r;
    if ((r = bench_flag_int(argc, argv, i, "--soak-minutes", 1, 1440,
                            &soak_min)) == 1)
        o->soak_s = soak_min * 60;
    return r;
}

/* A flag without a value: 1 when argv[i] was one. */
static int parse_switch(const char *a, social_opts *o)
{
    if (strcmp(a, "--json") == 0)
        o->json = 1;
    else if (strcmp(a, "--keep-data") == 0)
        o->keep = 1;
    else if (strcmp(a, "--vs-redis") == 0)
        o->vs_redis = 1;
    else if (strcmp(a, "--libsb") == 0)
        o->client = CLIENT_LIBSB;
    else
        return 0;
    return 1;
}

/* 1: --help printed; 0: parsed; -1: bad usage (message printed). */
static int parse(int argc, char **argv, social_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *client = NULL, *phases = NULL;
        int r;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 1;
        }
        if (parse_switch(argv[i], o))
            continue;
        if ((r = parse_int_flags(argc, argv, &i, o)) == 0 &&
            (r = bench_flag_str(argc, argv, &i, "--sbd", &o->sbd)) == 0 &&
            (r = bench_flag_str(argc, argv, &i, "--client", &client)) == 0 &&
            (r = bench_flag_str(argc, argv, &i, "--phases", &phases)) == 0) {
            fprintf(stderr, "sb-bench social: unknown option '%s'\n", argv[i]);
            return -1;
        }
        if (r < 0 || (client != NULL && parse_client(client, &o->client)) ||
            (phases != NULL && parse_phases(phases, o->phases)))
            return -1;
    }
    if (o->soak_s > 0 && o->mailboxes > 0) {
        fprintf(stderr, "sb-bench social: --soak-minutes and --mailboxes are "
                        "separate runs\n");
        return -1;
    }
    return 0;
}

/* Users u0..u(n-1) register and log in; u(2k) and u(2k+1) are friends
 * (an odd last user befriends u0). */
static int setup_users(social_env *e)
{
    social_user *us = e->us;
    int n = e->n;
    rpc_status st;

    for (int i = 0; i < n; i++) {
        social_user *c = &us[i];
        c->id = i;
        snprintf(c->name, sizeof c->name, "u%d", i);
        c->peer = (i ^ 1) < n ? i ^ 1 : 0;
        e->dest[i] = c->peer;
        if (sb_open(&c->s, "127.0.0.1", e->port, &st) != RPC_OK ||
            sb_register(c->s, c->name, "pw", &st) != RPC_OK ||
            sb_login(c->s, c->name, "pw", &c->u, &st) != RPC_OK)
            goto fail;
        if (e->o.client == CLIENT_NNG &&
            rpc_client_open(&c->rc, c->u.endpoint, NULL) != 0) {
            rpc_status_set(&st, RPC_UNAVAILABLE, "cannot open %s",
                           c->u.endpoint);
            goto fail;
        }
    }
    for (int i = 0; i + 1 < n; i += 2)
        if (sb_invite(us[i].s, &us[i].u, us[i + 1].name, &st) != RPC_OK ||
            sb_accept_invite(us[i + 1].s, &us[i + 1].u, us[i].name, &st) !=
                RPC_OK)
            goto fail;
    if (n % 2 == 1 && n > 1 &&
        (sb_invite(us[n - 1].s, &us[n - 1].u, "u0", &st) != RPC_OK ||
         sb_accept_invite(us[0].s, &us[0].u, us[n - 1].name, &st) != RPC_OK))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "sb-bench social: setup failed: %s %s\n",
            rpc_code_name(st.code), st.message);
    return -1;
}

/* One fsync'd LMDB commit per 1-write transaction, for seconds (the
 * durable default: no MDB_NOSYNC/NOMETASYNC), like a naive store. */
static int run_lmdb_single(const char *dir, int seconds, bench_result *r)
{
    MDB_env *env = NULL;
    MDB_dbi dbi;
    MDB_txn *txn = NULL;
    char path[300], val[64];
    bench_samples s = {0};
    int rc, ret = -1;

    memset(r, 0, sizeof *r);
    memset(val, 'v', sizeof val);
    snprintf(path, sizeof path, "%s/lmdb-single", dir);
    if (mkdir(path, 0700) != 0 || (rc = mdb_env_create(&env)) != 0 ||
        (rc = mdb_env_set_mapsize(env, (size_t)1 << 30)) != 0 ||
        (rc = mdb_env_open(env, path, 0, 0600)) != 0)
        goto out;
    int64_t t0 = rpc_now_mono_us(), end = t0 + (int64_t)seconds * 1000000;
    for (uint64_t k = 0; rpc_now_mono_us() < end; k++) {
        int64_t a = rpc_now_mono_us();
        MDB_val key = {sizeof k, &k}, v = {sizeof val, val};
        if (mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
            mdb_dbi_open(txn, NULL, 0, &dbi) != 0 ||
            mdb_put(txn, dbi, &key, &v, 0) != 0)
            goto out;
        rc = mdb_txn_commit(txn);
        txn = NULL;
        if (rc != 0)
            goto out;
        r->calls++;
        bench_samples_add(&s, rpc_now_mono_us() - a);
    }
    r->name = "lmdb 1 commit/write";
    r->seconds = (double)(rpc_now_mono_us() - t0) / 1e6;
    bench_result_fill(r, &s);
    ret = 0;
out:
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    bench_samples_free(&s);
    return ret;
}

static void add_check(side_tot *st, const bench_e2e_out *o)
{
    bench_e2e_out *t = &st->check;

    t->sent += o->sent, t->due += o->due, t->unsure += o->unsure;
    t->received += o->received;
    t->acked += o->acked, t->duplicates += o->duplicates;
    t->missing += o->missing, t->misrouted += o->misrouted;
    t->garbled += o->garbled, t->extra += o->extra, t->left += o->left;
    t->undrained += o->undrained, t->errors += o->errors;
    if (o->drain_s > t->drain_s)
        t->drain_s = o->drain_s;
    t->ok = (st->ran ? t->ok : 1) && o->ok;
}

/* One phase on one side (redis != 0: Redis), added to its totals. */
static int run_side(social_env *e, int ph, int round, int redis, side_tot *t)
{
    bench_e2e_cfg cfg;
    bench_e2e_out o;
    bench_procs snap[2];
    bench_cpu_split cpu;
    int rc;

    social_cfg(e, ph, &cfg);
    if (redis) {
        cfg.name = redis_names[ph];
        cfg.send_name =
            ph == PH_E2E ? "redis sends during end to end" : redis_names[ph];
    }
    memset(&o, 0, sizeof o);
    if (!redis && ph != PH_E2E && e->o.client != CLIENT_WIRE) {
        rc = social_nng_phase(e, ph, &o.sends, snap);
        o.sent = o.sends.calls, o.errors = o.sends.errors, o.ok = !o.errors;
    } else {
        rc = redis ? social_redis_phase(e, ph, round, &cfg, &o, snap)
                   : social_sb_phase(e, ph, &cfg, &o, snap);
    }
    if (rc != 0)
        return -1;
    uint64_t msgs = ph == PH_E2E ? o.acked : o.sent;
    bench_cpu_split_of(&snap[0], &snap[1], msgs, &cpu);
    bench_cpu_add_round(&t->cpu, &t->cpu_msgs, &cpu, msgs);
    bench_result_add_round(&t->sends, &o.sends);
    bench_result_add_round(&t->main, ph == PH_E2E ? &o.delivery : &o.sends);
    add_check(t, &o);
    t->ran = 1;
    bench_progress("round %d: %s: %.0f/s%s", round + 1,
                   ph == PH_E2E ? cfg.name : cfg.send_name,
                   ph == PH_E2E ? o.delivery.calls_per_s : o.sends.calls_per_s,
                   o.ok ? "" : " (check FAILED)");
    return 0;
}

static void print_side(int ph, const side_tot *t, int json)
{
    if (!t->ran)
        return;
    bench_result_print(&t->main, json);
    if (ph == PH_E2E) {
        bench_result_print(&t->sends, json);
        bench_e2e_print_check(t->main.name, &t->check, json);
    }
    bench_cpu_print(t->main.name, &t->cpu, json);
}

static void print_ratio(int ph, const side_tot *sb, const side_tot *rd,
                        int json)
{
    double a = sb->main.calls_per_s, b = rd->main.calls_per_s;
    double ratio = b > 0 ? a / b : 0;
    if (json) {
        bench_json_head("vs redis");
        printf(",\"phase\":\"%s\",\"sb_over_redis\":%.3f,"
               "\"sb_server_us\":%.1f,\"redis_server_us\":%.1f}\n",
               phase_words[ph], ratio, sb->cpu.server_us, rd->cpu.server_us);
    } else {
        printf("ratio      %s: switchboard/redis = %.3f (server cpu per "
               "message %.1f vs %.1f us)\n",
               phase_words[ph], ratio, sb->cpu.server_us, rd->cpu.server_us);
    }
}

static int run_rounds(social_env *e, side_tot sb[PH_COUNT],
                      side_tot rd[PH_COUNT])
{
    for (int k = 0; k < e->o.rounds; k++)
        for (int ph = 0; ph < PH_COUNT; ph++) {
            if (!e->o.phases[ph])
                continue;
            if (run_side(e, ph, k, 0, &sb[ph]) != 0 ||
                (e->o.vs_redis && run_side(e, ph, k, 1, &rd[ph]) != 0))
                return -1;
        }
    return 0;
}

static int run_phases(social_env *e)
{
    side_tot sb[PH_COUNT], rd[PH_COUNT];
    bench_result single;
    int bad = 0;

    memset(sb, 0, sizeof sb);
    memset(rd, 0, sizeof rd);
    if (e->o.vs_redis && bench_redis_start(&e->redis, 1) != 0)
        return 1;
    if (run_rounds(e, sb, rd) != 0)
        return 1;
    for (int ph = 0; ph < PH_COUNT; ph++) {
        print_side(ph, &sb[ph], e->o.json);
        print_side(ph, &rd[ph], e->o.json);
        if (sb[ph].ran && rd[ph].ran)
            print_ratio(ph, &sb[ph], &rd[ph], e->o.json);
        bad |= (sb[ph].ran && !sb[ph].check.ok) ||
               (rd[ph].ran && !rd[ph].check.ok);
    }
    if (e->o.phases[PH_POSTS] && !e->o.vs_redis) {
        if (run_lmdb_single(e->dir, (int)e->o.seconds, &single) != 0)
            return 1;
        bench_result_print(&single, e->o.json);
        double p = sb[PH_POSTS].main.calls_per_s / single.calls_per_s;
        double s = sb[PH_SENDS].main.calls_per_s / single.calls_per_s;
        if (e->o.json) {
            bench_json_head("ratio");
            printf(",\"posts_vs_single\":%.2f,\"sends_vs_single\":%.2f}\n", p,
                   s);
        } else {
            printf("ratio: posts %.2fx, sends %.2fx one-commit-per-write "
                   "LMDB\n",
                   p, s);
        }
    }
    return bad;
}

static void stop_all(social_env *e)
{
    for (int i = 0; e->us != NULL && i < e->n; i++) {
        sb_close(e->us[i].s);
        if (e->us[i].rc != NULL)
            rpc_client_close(e->us[i].rc);
    }
    bench_stop_sbd(e->sbd);
    bench_redis_stop(&e->redis);
    if (!e->o.keep)
        bench_rmtree(e->dir);
    free(e->us);
    free(e->dest);
    social_mailbox_free(e);
}

static void print_header(const social_env *e)
{
    const char *gen = e->o.client == CLIENT_WIRE
                          ? "wire client, one thread, epoll"
                      : e->o.client == CLIENT_NNG
                          ? "posts/sends: nng, async; e2e: wire"
                          : "posts/sends: libsb, a thread each; e2e: wire";
    printf("sb-bench social: ");
    if (e->o.mailboxes > 0)
        printf("%ld mailboxes of %ld unread, %ld clients reading pages of "
               "%ld, %ld s x %ld rounds",
               e->o.mailboxes, e->o.unread, e->o.clients, e->o.page,
               e->o.seconds, e->o.rounds ? e->o.rounds : 3);
    else if (e->o.soak_s > 0)
        printf("soak, %d users (%s), %ld s at %ld messages/s", e->n, gen,
               e->o.soak_s, e->o.rate ? e->o.rate : 2000);
    else
        printf("%d users (%s), %ld s per phase, %ld round(s)%s", e->n, gen,
               e->o.seconds, e->o.rounds,
               e->o.vs_redis ? " alternating with Redis" : "");
    printf(", child sbd %s on 127.0.0.1:%d, data in %s\n", e->o.sbd, e->port,
           e->dir);
}

int bench_social_main(int argc, char **argv)
{
    social_env e = {.o = {.clients = 50, .seconds = 5, .phases = {1, 1, 1}}};
    char sbdbuf[512];
    int rc = 1;

    snprintf(e.dir, sizeof e.dir, "/tmp/sb-bench-social.XXXXXX");
    int pr = parse(argc, argv, &e.o);
    if (pr != 0)
        return pr > 0 ? 0 : 2;
    if (e.o.rounds == 0)
        e.o.rounds = e.o.vs_redis ? 3 : 1;
    if (e.o.sbd == NULL) {
        bench_default_sbd(sbdbuf, sizeof sbdbuf);
        e.o.sbd = sbdbuf;
    }
    e.n = (int)e.o.clients;
    e.us = calloc((size_t)e.n, sizeof *e.us);
    e.dest = calloc((size_t)e.n, sizeof *e.dest);
    if (e.us == NULL || e.dest == NULL || mkdtemp(e.dir) == NULL)
        goto out;
    if (e.o.mailboxes > 0 && social_mailbox_fill(&e) != 0)
        goto out;
    if ((e.sbd = bench_start_sbd(e.o.sbd, e.dir, &e.port)) < 0) {
        fprintf(stderr, "sb-bench social: cannot start %s (log in %s)\n",
                e.o.sbd, e.dir);
        e.o.keep = 1;
        goto out;
    }
    if (!e.o.json)
        print_header(&e);
    if (e.o.mailboxes > 0) {
        rc = social_mailbox_run(&e);
        goto out;
    }
    bench_progress("%d users register, log in and befriend", e.n);
    if (setup_users(&e) != 0)
        goto out;
    rc = e.o.soak_s > 0 ? social_soak(&e) : run_phases(&e);
out:
    stop_all(&e);
    return rc;
}
