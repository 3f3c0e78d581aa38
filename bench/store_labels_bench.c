/* store_labels_bench.c: what the knowledge base costs in the store's data
 * layer (store_labels.h), in process, without RPC: a check+write pair and
 * a next-label (a cursor's read, a grant, the one-write-per-call mode),
 * each as CPU per op inside its transaction and as durable throughput when
 * a commit (fsync) carries a batch of ops as the group-commit writer
 * does; and the bytes of round state at U simulated users over L labels.
 * NOSYNC and durable rounds alternate (this machine's speed drifts).
 * Prints figures; not a test. Run it under flock /tmp/sb-bench.lock.
 *   store-labels-bench [--labels L] [--users U] [--writers C] [--hot H]
 *                      [--ops N] [--calls N] [--rounds R] [--dir DIR] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sb_log.h"
#include "store_internal.h"
#include "store_labels.h"

#define GROUP "kb"

typedef struct cfg {
    unsigned labels, users, writers, hot, ops, calls, rounds;
    const char *base;
} cfg;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Latencies of one kind of op, in microseconds. */
typedef struct lat {
    double *v;
    size_t n, cap;
} lat;

static void lat_add(lat *l, double us)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v)
            abort();
    }
    l->v[l->n++] = us;
}

static void lat_print(const char *what, lat *l)
{
    double sum = 0;
    if (l->n == 0) {
        printf("  %-34s (none)\n", what);
        return;
    }
    qsort(l->v, l->n, sizeof *l->v, cmp_d);
    for (size_t i = 0; i < l->n; i++)
        sum += l->v[i];
    printf("  %-34s mean %7.2f us  p50 %7.2f  p99 %7.2f  (n %zu)\n", what,
           sum / (double)l->n, l->v[l->n / 2], l->v[l->n * 99 / 100], l->n);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "store-labels-bench: %s: %s\n", what, mdb_strerror(rc));
    exit(1);
}

static void apply1(store_db *db, store_wop *op)
{
    store_wop *p = op;
    store_db_apply(db, &p, 1);
    if (op->out.res != STORE_OK && op->out.res != STORE_ALREADY_USED)
        fprintf(stderr, "setup op %d: %s\n", (int)op->kind,
                store_res_name(op->out.res));
}

/* Writer w<i>: registered, logged in (token Tw<i>), member of GROUP. */
static void setup_writers(store_db *db, unsigned n)
{
    char name[32], tok[32];
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof name, "w%u", i);
        snprintf(tok, sizeof tok, "Tw%u", i);
        store_wop op = {.kind = STORE_OP_REGISTER};
        op.name = store_s(name);
        op.text = store_s("hash");
        apply1(db, &op);
        op = (store_wop){.kind = STORE_OP_LOGIN};
        op.name = store_s(name);
        op.token = store_s(tok);
        apply1(db, &op);
        op = (store_wop){.kind =
                             i ? STORE_OP_JOIN_GROUP : STORE_OP_CREATE_GROUP};
        op.token = store_s(tok);
        op.name = store_s(GROUP);
        apply1(db, &op);
    }
}

/* @n labels "concept <i>" by one import per 5,000. */
static double setup_labels(store_db *db, unsigned n)
{
    double t0 = now_us();
    char label[32], text[64];
    for (unsigned from = 0; from < n; from += 5000) {
        store_buf b = {0};
        for (unsigned i = from; i < n && i < from + 5000; i++) {
            snprintf(label, sizeof label, "concept %u", i);
            snprintf(text, sizeof text, "the matching text of concept %u", i);
            store_xchg_append(&b, store_s(label), store_s(text));
        }
        MDB_txn *txn;
        store_label_import_out io;
        int rc = mdb_txn_begin(store_db_env(db), NULL, 0, &txn);
        if (rc == 0)
            rc = store_labels_import(db, txn, store_s("w0"), store_s(GROUP),
                                     store_s(b.p), store_now_ms(), &io);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        if (rc)
            die("import", rc);
        store_buf_free(&b);
    }
    return (now_us() - t0) / 1e6;
}

/* @n simulated users u<i>, members of GROUP (rows written directly: no
 * account or session is needed for next-label's state). */
static void setup_members(store_db *db, unsigned n)
{
    MDB_txn *txn;
    char name[32];
    unsigned char seq[8] = {0};
    int rc = mdb_txn_begin(store_db_env(db), NULL, 0, &txn);
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        store_key k;
        snprintf(name, sizeof name, "u%u", i);
        store_key_pair(&k, store_s(GROUP), store_s(name));
        MDB_val kv = store_val(k.b, k.len), v = store_val(seq, 8);
        rc = mdb_put(txn, db->dbi[STORE_DBI_MEMBERS], &kv, &v, 0);
    }
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    if (rc)
        die("members", rc);
}

/* One writer's state in the pair workload. */
typedef struct client {
    char name[16];
    unsigned label; /* the label it reserved, when reserved */
    int reserved;
} client;

typedef struct pairs {
    unsigned ok, drafted, busy, checks, writes, commits;
    lat check, write, commit;
} pairs;

/* One op of client @c in its own child txn, kept as store_db_apply keeps
 * it; its CPU time goes to the op's latency list. */
static void pair_op(store_db *db, MDB_txn *parent, client *c, const cfg *g,
                    pairs *p)
{
    MDB_txn *txn;
    char label[32];
    int rc = mdb_txn_begin(store_db_env(db), parent, 0, &txn);
    if (rc)
        die("child txn", rc);
    double t0 = now_us();
    store_res res;
    int is_check = !c->reserved;
    if (is_check) {
        store_label_check_out o;
        c->label = (unsigned)rand() % g->hot;
        snprintf(label, sizeof label, "concept %u", c->label);
        rc = store_labels_check(db, txn, store_s(c->name), store_s(GROUP),
                                store_s(label), store_now_ms(), 0, &o);
        res = o.res;
        c->reserved = res == STORE_LABEL_RESERVED || res == STORE_LABEL_NEW;
        p->busy += res == STORE_LABEL_BUSY;
        p->checks++;
    } else {
        store_label_write_out o;
        snprintf(label, sizeof label, "concept %u", c->label);
        rc = store_labels_write(db, txn, store_s(c->name), store_s(GROUP),
                                store_s(label),
                                store_s("a new text of typical length, some "
                                        "sixty bytes or so."),
                                store_now_ms(), &o);
        res = o.res;
        c->reserved = 0;
        p->ok += res == STORE_OK;
        p->drafted += res == STORE_LABEL_DRAFTED;
        p->writes++;
    }
    if (rc == 0 && store_res_commits(res))
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc)
        die("pair op", rc);
    lat_add(is_check ? &p->check : &p->write, now_us() - t0);
}

/* @g->ops ops of the writers, one commit per round over all writers (the
 * writer's batch when every client has one call in flight). */
static double run_pairs(store_db *db, const cfg *g, client *cl, pairs *p)
{
    double t0 = now_us();
    while (p->checks + p->writes < g->ops) {
        MDB_txn *txn;
        int rc = mdb_txn_begin(store_db_env(db), NULL, 0, &txn);
        if (rc)
            die("txn", rc);
        for (unsigned i = 0; i < g->writers; i++)
            pair_op(db, txn, &cl[i], g, p);
        double c0 = now_us();
        if ((rc = mdb_txn_commit(txn)))
            die("commit", rc);
        lat_add(&p->commit, now_us() - c0);
        p->commits++;
    }
    return (now_us() - t0) / 1e6;
}

static void bench_pairs(store_db *db, const cfg *g)
{
    client *cl = calloc(g->writers, sizeof *cl);
    for (unsigned i = 0; i < g->writers; i++)
        snprintf(cl[i].name, sizeof cl[i].name, "w%u", i);
    printf("check+write: %u writers on %u hot labels of %u, %u ops a run, "
           "one commit per %u ops\n",
           g->writers, g->hot, g->labels, g->ops, g->writers);
    for (unsigned r = 0; r < 2 * g->rounds; r++) {
        int durable = (r % 2) ^ (r / 2 % 2); /* N D D N N D ... */
        pairs p = {0};
        mdb_env_set_flags(store_db_env(db), MDB_NOSYNC, !durable);
        double secs = run_pairs(db, g, cl, &p);
        printf(" %s: %.0f pairs/s (%u written, %u drafts, %u busy of %u "
               "checks), %.0f commits/s\n",
               durable ? "durable (fsync per commit)" : "NOSYNC (CPU only)",
               (double)(p.ok + p.drafted) / secs, p.ok, p.drafted, p.busy,
               p.checks, (double)p.commits / secs);
        lat_print("check-label op (in its txn)", &p.check);
        lat_print("write-label op (in its txn)", &p.write);
        lat_print("commit of a batch", &p.commit);
    }
    mdb_env_set_flags(store_db_env(db), MDB_NOSYNC, 0);
    free(cl);
}

/* next-label served from a cursor: each call one read txn; a grant of
 * @want (a write txn) when the cursor is used up. */
static void bench_next_held(store_db *db, const cfg *g, unsigned want)
{
    store_cursor c = {0};
    lat rd = {0}, gr = {0};
    for (unsigned i = 0; i < g->calls; i++) {
        MDB_txn *txn;
        store_label_pick p;
        double t0 = now_us();
        if (store_read_begin(db, &txn))
            die("read txn", 0);
        int rc = store_labels_next_read(db, txn, store_s("w1"), store_s(GROUP),
                                        &c, &p);
        store_read_end(db, txn);
        if (rc)
            die("next read", rc);
        if (p.res == STORE_OK) {
            lat_add(&rd, now_us() - t0);
            continue;
        }
        store_res res;
        store_cursor next = c;
        t0 = now_us();
        rc = mdb_txn_begin(store_db_env(db), NULL, 0, &txn);
        if (rc == 0)
            rc = store_labels_round_grant(db, txn, store_s("w1"),
                                          store_s(GROUP), &next, want, &res);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        if (rc)
            die("grant", rc);
        lat_add(&gr, now_us() - t0);
        c = next;
    }
    char what[64];
    printf("next-label from a cursor (grants of %u, durable):\n", want);
    lat_print("read: one call", &rd);
    snprintf(what, sizeof what, "grant of %u (write txn + fsync)", want);
    lat_print(what, &gr);
}

/* next-label as one durable write per call: the writers' calls share a
 * commit, as under the group-commit writer with every client waiting. */
static void bench_next_durable(store_db *db, const cfg *g, int durable)
{
    lat op = {0}, commit = {0};
    char name[16];
    unsigned done = 0;
    double t0 = now_us();
    mdb_env_set_flags(store_db_env(db), MDB_NOSYNC, !durable);
    while (done < g->calls) {
        MDB_txn *txn, *child;
        int rc = mdb_txn_begin(store_db_env(db), NULL, 0, &txn);
        for (unsigned i = 0; rc == 0 && i < g->writers; i++, done++) {
            store_label_pick p;
            snprintf(name, sizeof name, "w%u", i);
            double s = now_us();
            if ((rc = mdb_txn_begin(store_db_env(db), txn, 0, &child)))
                break;
            rc =
                store_labels_next(db, child, store_s(name), store_s(GROUP), &p);
            if (rc == 0)
                rc = mdb_txn_commit(child);
            lat_add(&op, now_us() - s);
        }
        double c0 = now_us();
        if (rc || (rc = mdb_txn_commit(txn)))
            die("next durable", rc);
        lat_add(&commit, now_us() - c0);
    }
    double secs = (now_us() - t0) / 1e6;
    mdb_env_set_flags(store_db_env(db), MDB_NOSYNC, 0);
    printf("next-label, one write per call, %s: %.0f calls/s\n",
           durable ? "durable" : "NOSYNC", (double)done / secs);
    lat_print("op (in its txn)", &op);
    lat_print("commit of a batch", &commit);
}

/* One grant for each of @g->users simulated users: their round state. */
static void bench_round_state(store_db *db, const cfg *g)
{
    lat gr = {0};
    char name[32];
    mdb_env_set_flags(store_db_env(db), MDB_NOSYNC, 1);
    for (unsigned from = 0; from < g->users; from += 10000) {
        MDB_txn *txn;
        int rc = mdb_txn_begin(store_db_env(db), NULL, 0, &txn);
        for (unsigned i = from; rc == 0 && i < g->users && i < from + 10000;
             i++) {
            store_cursor c = {0};
            store_res res;
            snprintf(name, sizeof name, "u%u", i);
            double t0 = now_us();
            rc = store_labels_round_grant(db, txn, store_s(name),
                                          store_s(GROUP), &c, 64, &res);
            lat_add(&gr, now_us() - t0);
            if (rc == 0 && res != STORE_OK)
                fprintf(stderr, "grant u%u: %s\n", i, store_res_name(res));
        }
        if (rc || (rc = mdb_txn_commit(txn)))
            die("round state", rc);
    }
    mdb_env_set_flags(store_db_env(db), MDB_NOSYNC, 0);
    MDB_txn *txn;
    MDB_stat st;
    store_round s;
    size_t bytes;
    if (store_read_begin(db, &txn) ||
        mdb_stat(txn, db->dbi[STORE_DBI_LABEL_ROUND], &st) ||
        store_labels_round_get(db, txn, store_s("u7"), store_s(GROUP), &s,
                               &bytes))
        die("stat", 0);
    MDB_stat lab, ids;
    if (mdb_stat(txn, db->dbi[STORE_DBI_LABELS], &lab) ||
        mdb_stat(txn, db->dbi[STORE_DBI_LABEL_IDS], &ids))
        die("stat", 0);
    store_read_end(db, txn);
    size_t pages = st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    size_t lpages = lab.ms_branch_pages + lab.ms_leaf_pages +
                    lab.ms_overflow_pages + ids.ms_branch_pages +
                    ids.ms_leaf_pages + ids.ms_overflow_pages;
    printf("labels: %zu in %zu pages = %.1f bytes per label (text of ~33 "
           "bytes, name of ~13, with both indexes)\n",
           (size_t)lab.ms_entries, lpages,
           (double)lpages * lab.ms_psize / (double)lab.ms_entries);
    printf("round state at %u users x %u labels (round %u, n0 %u):\n", g->users,
           g->labels, s.round, s.n0);
    printf("  value %zu bytes per (user, group) (holder's cursor %zu); "
           "table %zu entries in %zu pages of %u = %.1f bytes per user with "
           "key and B-tree\n",
           bytes, sizeof(store_cursor), (size_t)st.ms_entries, pages,
           st.ms_psize, (double)pages * st.ms_psize / (double)st.ms_entries);
    printf("  (a bitmap per user would be %.0f bytes, a list of ids %.0f)\n",
           g->labels / 8.0, g->labels * 4.0);
    lat_print("first grant of a user (no fsync)", &gr);
}

static int parse(int argc, char **argv, cfg *g)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned *u = !strcmp(a, "--labels")    ? &g->labels
                      : !strcmp(a, "--users")   ? &g->users
                      : !strcmp(a, "--writers") ? &g->writers
                      : !strcmp(a, "--hot")     ? &g->hot
                      : !strcmp(a, "--ops")     ? &g->ops
                      : !strcmp(a, "--calls")   ? &g->calls
                      : !strcmp(a, "--rounds")  ? &g->rounds
                                                : NULL;
        if (!v || (!u && strcmp(a, "--dir")))
            return -1;
        if (u)
            *u = (unsigned)strtoul(v, NULL, 10);
        else
            g->base = v;
        i++;
    }
    if (g->labels < 1 || g->labels > 1000000 || g->writers < 2 ||
        g->writers > 1000 || g->hot < 1 || g->hot > g->labels ||
        g->users > 10000000 || g->rounds < 1 || g->calls < 1 || g->ops < 1)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    cfg g = {50000, 100000, 50, 100, 20000, 20000, 2, "/tmp"};
    char dir[512];
    store_db *db = NULL;
    if (parse(argc, argv, &g)) {
        fprintf(stderr,
                "usage: %s [--labels L] [--users U] [--writers C] [--hot H] "
                "[--ops N] [--calls N] [--rounds R] [--dir DIR]\n",
                argv[0]);
        return 2;
    }
    sb_log_set_level(SB_LOG_WARN);
    snprintf(dir, sizeof dir, "%s/sb-labels-bench-XXXXXX", g.base);
    store_opts o = {.map_size = (size_t)4 << 30};
    if (!mkdtemp(dir) || store_db_open(dir, &o, &db)) {
        fprintf(stderr, "cannot open a store under %s\n", g.base);
        return 1;
    }
    mdb_env_set_flags(store_db_env(db), MDB_NOSYNC, 1);
    setup_writers(db, g.writers);
    double secs = setup_labels(db, g.labels);
    setup_members(db, g.users);
    mdb_env_set_flags(store_db_env(db), MDB_NOSYNC, 0);
    printf("store-labels-bench: %u labels imported in %.2f s, %u writers, "
           "%u simulated members, in %s\n",
           g.labels, secs, g.writers, g.users, g.base);
    bench_pairs(db, &g);
    bench_next_held(db, &g, 64);
    bench_next_durable(db, &g, 0);
    bench_next_durable(db, &g, 1);
    bench_round_state(db, &g);
    store_db_close(db);
    char p[600];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
    return 0;
}
