/* bench_mailbox.c: `sb-bench social --mailboxes N --unread M --page P`:
 * does reading a mailbox cost its page or its size? Before sbd starts, the
 * bench fills the store's LMDB environment (DIR/data/store) through the
 * store's own data layer (store_db_apply, batches of thousands of ops per
 * commit, no fsync: a benchmark's setup): N users m0.. with M unread
 * messages each (groups of 100 members, M group messages per group, so a
 * commit appends to 100 mailboxes' tails), and C control users c0.. whose
 * mailboxes hold exactly one page. Then C users of each kind log in
 * through sbd and, in alternating rounds, C closed-loop clients Receive
 * (wait 0, max P) over the wire client: at the head of a full mailbox, at
 * the head of a one-page mailbox, and the last page of a full one (after
 * the seq of its entry M-P). Equal figures for the first two mean reads
 * are O(page), not O(mailbox). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "bench_social.h"
#include "bench_wire.h"
#include "social.pb-c.h"
#include "store_db.h"

#define GROUP 100
#define APPENDS_PER_COMMIT 50000

enum { MB_HEAD, MB_SMALL, MB_DEEP, MB_COUNT };
static const char *const mb_names[MB_COUNT] = {
    "receive head of full mailbox", "receive head of one-page mailbox",
    "receive last page of full mailbox"};

struct social_mbox {
    int n, c;         /* full users, control users (and users measured) */
    char (*name)[16]; /* m0..m(n-1), then c0..c(c-1) */
    char (*token)[33];
    uint64_t *deep; /* per measured full user: after_seq of its last page */
    double fill_s;
    long long bytes;
};

/* Applies ops in batches of batch; every op must come back STORE_OK. */
static int apply(store_db *db, store_wop *ops, size_t n, size_t batch)
{
    store_wop **v = malloc(batch * sizeof *v);
    int rc = v == NULL ? -1 : 0;

    for (size_t at = 0; rc == 0 && at < n; at += batch) {
        size_t k = n - at < batch ? n - at : batch;
        for (size_t i = 0; i < k; i++)
            v[i] = &ops[at + i];
        if (store_db_apply(db, v, k) != 0)
            rc = -1;
        for (size_t i = 0; rc == 0 && i < k; i++)
            if (v[i]->out.res != STORE_OK) {
                fprintf(stderr,
                        "sb-bench social: pre-fill: op %d for %s: "
                        "%s\n",
                        (int)v[i]->kind, v[i]->name.ptr,
                        store_res_name(v[i]->out.res));
                rc = -1;
            }
    }
    free(v);
    return rc;
}

static int users(store_db *db, struct social_mbox *m, int total)
{
    char hash[STORE_PWHASH_LEN];
    store_wop *ops = calloc((size_t)total, sizeof *ops);
    int rc = -1;

    if (ops == NULL || store_password_hash("pw", 2, STORE_PW_FAST, hash) != 0)
        goto out;
    for (int i = 0; i < total; i++)
        ops[i] = (store_wop){.kind = STORE_OP_REGISTER,
                             .name = store_s(m->name[i]),
                             .text = store_s(hash)};
    if (apply(db, ops, (size_t)total, 5000) != 0)
        goto out;
    for (int i = 0; i < total; i++)
        ops[i] = (store_wop){.kind = STORE_OP_LOGIN,
                             .name = store_s(m->name[i]),
                             .token = store_s(m->token[i])};
    rc = apply(db, ops, (size_t)total, 5000);
out:
    free(ops);
    return rc;
}

/* Users [first, first+n) form group g and get count messages each. */
static int group_fill(store_db *db, struct social_mbox *m, int first, int n,
                      int count, const char *g, int pad)
{
    store_wop *ops = calloc((size_t)(n > count ? n : count), sizeof *ops);
    char text[4200];
    int rc = -1;

    if (ops == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        ops[i] = (store_wop){.kind = i == 0 ? STORE_OP_CREATE_GROUP
                                            : STORE_OP_JOIN_GROUP,
                             .token = store_s(m->token[first + i]),
                             .name = store_s(g)};
    if (apply(db, ops, (size_t)n, (size_t)n) != 0)
        goto out;
    int len = snprintf(text, sizeof text, "pre-filled message");
    for (; len < pad && len < (int)sizeof text - 1; len++)
        text[len] = 'x';
    text[len] = '\0';
    for (int k = 0; k < count; k++)
        ops[k] = (store_wop){.kind = STORE_OP_SEND_GROUP,
                             .token = store_s(m->token[first]),
                             .name = store_s(g),
                             .text = store_s(text)};
    size_t batch =
        (size_t)(APPENDS_PER_COMMIT / n > 0 ? APPENDS_PER_COMMIT / n : 1);
    rc = apply(db, ops, (size_t)count, batch);
out:
    free(ops);
    return rc;
}

/* The seq after which each measured full user's last page begins. */
static int find_deep(store_db *db, struct social_mbox *m, int unread, int page)
{
    for (int i = 0; i < m->c; i++) {
        store_mails ml = {0};
        store_res r =
            store_mail_fetch(db, store_s(m->token[i]), 0, (size_t)unread, &ml);
        if (r != STORE_OK || ml.n != (size_t)unread) {
            fprintf(stderr,
                    "sb-bench social: pre-fill: %s holds %zu, not "
                    "%d\n",
                    m->name[i], ml.n, unread);
            store_mails_free(&ml);
            return -1;
        }
        m->deep[i] = unread > page ? ml.v[unread - page - 1].seq : 0;
        store_mails_free(&ml);
    }
    return 0;
}

static int fill_all(store_db *db, struct social_mbox *m, const social_opts *o)
{
    int total = m->n + m->c;
    char g[32];

    if (users(db, m, total) != 0)
        return -1;
    for (int first = 0, j = 0; first < m->n; first += GROUP, j++) {
        int n = m->n - first < GROUP ? m->n - first : GROUP;
        snprintf(g, sizeof g, "mg%d", j);
        if (group_fill(db, m, first, n, (int)o->unread, g, (int)o->pad) != 0)
            return -1;
        if (j % 10 == 9)
            bench_progress("pre-fill: %d of %d mailboxes", first + n, m->n);
    }
    if (group_fill(db, m, m->n, m->c, (int)o->page, "cg", (int)o->pad) != 0)
        return -1;
    return find_deep(db, m, (int)o->unread, (int)o->page);
}

int social_mailbox_fill(social_env *e)
{
    struct social_mbox *m = calloc(1, sizeof *m);
    store_opts so = {.nosync = 1};
    store_db *db = NULL;
    char dir[128];
    int rc = -1;

    if (e->o.unread == 0)
        e->o.unread = 1000;
    if (e->o.page == 0)
        e->o.page = 100;
    if (e->o.page > e->o.unread) {
        fprintf(stderr, "sb-bench social: --page is at most --unread\n");
        free(m);
        return -1;
    }
    e->mb = m;
    m->n = (int)e->o.mailboxes;
    m->c = (int)(e->o.clients < m->n ? e->o.clients : m->n);
    m->name = calloc((size_t)(m->n + m->c), sizeof *m->name);
    m->token = calloc((size_t)(m->n + m->c), sizeof *m->token);
    m->deep = calloc((size_t)m->c, sizeof *m->deep);
    if (m->name == NULL || m->token == NULL || m->deep == NULL)
        return -1;
    for (int i = 0; i < m->n + m->c; i++) {
        uint8_t r[16];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
            return -1;
        snprintf(m->name[i], sizeof m->name[i], "%c%d", i < m->n ? 'm' : 'c',
                 i < m->n ? i : i - m->n);
        for (int k = 0; k < 16; k++)
            snprintf(m->token[i] + 2 * k, 3, "%02x", r[k]);
    }
    snprintf(dir, sizeof dir, "%s/data", e->dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/data/store", e->dir);
    mkdir(dir, 0700);
    bench_progress("pre-fill: %d users with %ld unread each, %d with %ld, "
                   "through the store's data layer in %s",
                   m->n, e->o.unread, m->c, e->o.page, dir);
    int64_t t0 = rpc_now_mono_us();
    if (store_db_open(dir, &so, &db) == 0 && fill_all(db, m, &e->o) == 0)
        rc = 0;
    store_db_close(db);
    m->fill_s = (double)(rpc_now_mono_us() - t0) / 1e6;
    m->bytes = bench_lmdb_bytes(dir, NULL);
    return rc;
}

/* One closed-loop Receive phase of the c measured users of one kind. */
typedef struct rphase {
    bench_wire *w;
    const social_user *us;
    const uint64_t *after; /* per client */
    uint32_t page;
    int64_t end, *t0;
    bench_samples lat;
    uint64_t ok, errors;
} rphase;

static void issue(rphase *p, int i, int64_t now)
{
    Sb__Social__ReceiveRequest req = SB__SOCIAL__RECEIVE_REQUEST__INIT;
    uint8_t body[64];

    if (now >= p->end)
        return;
    req.after_seq = p->after != NULL ? p->after[i] : 0;
    req.max = p->page;
    size_t n = sb__social__receive_request__pack(&req, body);
    p->t0[i] = now;
    if (bench_wire_send(p->w, i, "sb.social.App/Receive", p->us[i].u.token,
                        body, n) != 0)
        p->errors++;
}

/* Each reply must hold exactly one page. */
static void on_page(void *arg, int i, const Sb__Rpc__Reply *rep)
{
    rphase *p = arg;
    int64_t now = rpc_now_mono_us();
    Sb__Social__ReceiveReply *rr =
        rep->code == SB__RPC__CODE__OK
            ? sb__social__receive_reply__unpack(NULL, rep->body.len,
                                                rep->body.data)
            : NULL;

    if (rr != NULL && rr->n_deliveries == p->page) {
        p->ok++;
        bench_samples_add(&p->lat, now - p->t0[i]);
    } else if (p->errors++ == 0) {
        fprintf(stderr,
                "sb-bench social: %s: Receive: %s, %zu deliveries "
                "(expected %u)\n",
                p->us[i].name, rpc_code_name((int)rep->code),
                rr != NULL ? rr->n_deliveries : 0, p->page);
    }
    if (rr != NULL)
        sb__social__receive_reply__free_unpacked(rr, NULL);
    issue(p, i, now);
}

static int run_kind(social_env *e, const social_user *us, int c,
                    const uint64_t *after, bench_result *r, bench_procs s[2])
{
    const char **urls = calloc((size_t)c, sizeof *urls);
    rphase p = {.us = us, .after = after, .page = (uint32_t)e->o.page};
    int rc = -1;

    memset(r, 0, sizeof *r);
    p.t0 = calloc((size_t)c, sizeof *p.t0);
    for (int i = 0; urls != NULL && i < c; i++)
        urls[i] = us[i].u.endpoint;
    if (urls == NULL || p.t0 == NULL || bench_wire_open(&p.w, urls, c) != 0)
        goto out;
    social_snap(e, 0, &s[0]);
    int64_t t0 = rpc_now_mono_us();
    p.end = t0 + e->o.seconds * 1000000;
    for (int i = 0; i < c; i++)
        issue(&p, i, t0);
    while (bench_wire_in_flight(p.w) > 0)
        if (bench_wire_poll(p.w, 1000, on_page, &p) < 0)
            break;
    social_snap(e, 0, &s[1]);
    r->seconds = (double)(rpc_now_mono_us() - t0) / 1e6;
    r->calls = p.ok;
    r->errors = p.errors + bench_wire_errors(p.w);
    bench_result_fill(r, &p.lat);
    rc = 0;
out:
    bench_wire_close(p.w);
    bench_samples_free(&p.lat);
    free(p.t0);
    free(urls);
    return rc;
}

static int login_all(social_env *e, social_user *us, int total)
{
    const struct social_mbox *m = e->mb;
    rpc_status st;

    for (int i = 0; i < total; i++) {
        int k = i < m->c ? i : m->n + (i - m->c); /* m0.., then c0.. */
        snprintf(us[i].name, sizeof us[i].name, "%s", m->name[k]);
        if (sb_open(&us[i].s, "127.0.0.1", e->port, &st) != RPC_OK ||
            sb_login(us[i].s, us[i].name, "pw", &us[i].u, &st) != RPC_OK) {
            fprintf(stderr, "sb-bench social: login %s: %s\n", us[i].name,
                    st.message);
            return -1;
        }
    }
    return 0;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

/* Latency at C closed-loop clients follows throughput; the server CPU
 * per Receive is the cost of one read, so both ratios are printed. */
static void print_mb(const social_env *e, bench_result r[MB_COUNT],
                     bench_cpu_split cpu[MB_COUNT])
{
    const struct social_mbox *m = e->mb;
    double small = (double)r[MB_SMALL].p50_us, csmall = cpu[MB_SMALL].server_us;
    double head = ratio((double)r[MB_HEAD].p50_us, small);
    double deep = ratio((double)r[MB_DEEP].p50_us, small);
    double chead = ratio(cpu[MB_HEAD].server_us, csmall);
    double cdeep = ratio(cpu[MB_DEEP].server_us, csmall);

    for (int k = 0; k < MB_COUNT; k++) {
        bench_result_print(&r[k], e->o.json);
        bench_cpu_print(mb_names[k], &cpu[k], e->o.json);
    }
    if (e->o.json) {
        bench_json_head("mailboxes");
        printf(",\"mailboxes\":%d,\"unread\":%ld,\"page\":%ld,"
               "\"fill_s\":%.1f,\"store_bytes\":%lld,"
               "\"head_over_small_p50\":%.3f,\"deep_over_small_p50\":%.3f,"
               "\"head_over_small_cpu\":%.3f,\"deep_over_small_cpu\":%.3f}"
               "\n",
               m->n, e->o.unread, e->o.page, m->fill_s, m->bytes, head, deep,
               chead, cdeep);
        return;
    }
    printf("mailboxes: %d users x %ld unread (+%d x %ld), pre-filled in "
           "%.1f s, store %.1f MiB\n",
           m->n, e->o.unread, m->c, e->o.page, m->fill_s,
           (double)m->bytes / 1048576);
    printf("ratio      head of %ld unread / one-page mailbox: p50 %.3f, "
           "server cpu per Receive %.3f (1 = O(page)); last page / one-page: "
           "p50 %.3f, cpu %.3f\n",
           e->o.unread, head, chead, deep, cdeep);
}

int social_mailbox_run(social_env *e)
{
    struct social_mbox *m = e->mb;
    int c = m->c, bad = 0;
    social_user *us = calloc((size_t)(2 * c), sizeof *us);
    bench_result r[MB_COUNT], tot[MB_COUNT];
    bench_cpu_split cpu[MB_COUNT], one;
    uint64_t msgs[MB_COUNT] = {0};
    bench_procs s[2];

    memset(tot, 0, sizeof tot);
    memset(cpu, 0, sizeof cpu);
    bench_progress("%d + %d users log in through sbd", c, c);
    if (us == NULL || login_all(e, us, 2 * c) != 0)
        goto out;
    if (e->o.rounds == 0)
        e->o.rounds = 3;
    for (long k = 0; k < e->o.rounds; k++)
        for (int ph = 0; ph < MB_COUNT; ph++) {
            const social_user *who = ph == MB_SMALL ? us + c : us;
            if (run_kind(e, who, c, ph == MB_DEEP ? m->deep : NULL, &r[ph],
                         s) != 0)
                goto out;
            r[ph].name = mb_names[ph];
            bench_cpu_split_of(&s[0], &s[1], r[ph].calls, &one);
            bench_cpu_add_round(&cpu[ph], &msgs[ph], &one, r[ph].calls);
            bench_result_add_round(&tot[ph], &r[ph]);
            bad |= r[ph].errors > 0;
            bench_progress("round %ld: %s: %.0f/s, p50 %lld us", k + 1,
                           mb_names[ph], r[ph].calls_per_s,
                           (long long)r[ph].p50_us);
        }
    print_mb(e, tot, cpu);
    for (int i = 0; i < 2 * c; i++)
        sb_close(us[i].s);
    free(us);
    return bad;
out:
    for (int i = 0; us != NULL && i < 2 * c; i++)
        sb_close(us[i].s);
    free(us);
    return 1;
}

void social_mailbox_free(social_env *e)
{
    if (e->mb == NULL)
        return;
    free(e->mb->name);
    free(e->mb->token);
    free(e->mb->deep);
    free(e->mb);
    e->mb = NULL;
}
